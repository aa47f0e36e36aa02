package store

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them or an
// error of package geo (geo.ErrInvalidFeature …), so callers test with
// errors.Is.
var (
	// ErrConflict: a precondition on a feature's version failed (another
	// write came first), or the feature exists where it must not.
	ErrConflict = errors.New("store: version conflict")
	// ErrBusy: a patch without a version kept losing the race to other
	// writes of the same feature (HTTP 409: try again).
	ErrBusy = errors.New("store: feature changed by other writes while patching")
	// ErrNotFound: the feature a write requires does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrUnavailable: the write could not be made durable (disk full,
	// read-only store, I/O error). Nothing was changed.
	ErrUnavailable = errors.New("store: cannot write durably")
	// ErrInvalidWrite: a write or patch is malformed (missing layer, an ID
	// that does not match the feature's, a patch changing the ID …).
	ErrInvalidWrite = errors.New("store: invalid write")
	// ErrTooLarge: a request exceeds a configured cap (writes per request,
	// line length).
	ErrTooLarge = errors.New("store: too large")
	// ErrLocked: another process has the store open for writing.
	ErrLocked = errors.New("store: in use by another process")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrCorrupt: the store file is not a marketgeo store, or its content
	// cannot be read back.
	ErrCorrupt = errors.New("store: unreadable store")
)
