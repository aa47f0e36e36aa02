package search

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers test with errors.Is.
var (
	// ErrEmptyQuery: the query text is empty once folded.
	ErrEmptyQuery = errors.New("search: empty query")
	// ErrInvalidQuery: a limit, radius, centre or layer is out of range.
	ErrInvalidQuery = errors.New("search: invalid query")
	// ErrNotReady: the index is still being built in the background.
	ErrNotReady = errors.New("search: search index is still building")
	// ErrClosed: the index was closed.
	ErrClosed = errors.New("search: index closed")
	// ErrInvalidOptions: an option is out of range.
	ErrInvalidOptions = errors.New("search: invalid options")
	// ErrNoPlace: Index.Place found no place, building or entity for the text.
	ErrNoPlace = errors.New("search: no place, building or entity matches")
)
