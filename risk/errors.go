package risk

import "errors"

// Sentinel errors; errors of this package wrap one of them (or a store
// error), so callers test with errors.Is.
var (
	// ErrInvalidRules: a rule file is malformed (an unknown key, rule
	// type, class or level; thresholds out of order).
	ErrInvalidRules = errors.New("risk: invalid rules")
	// ErrInvalidOverride: an override without a class, reason or expiry,
	// or with an expiry in the past or too far ahead.
	ErrInvalidOverride = errors.New("risk: invalid override")
	// ErrInvalidQuery: a warnings or summary query that cannot be answered
	// (an unknown warning type, a bad threshold).
	ErrInvalidQuery = errors.New("risk: invalid query")
	// ErrNotFound: no entity or building with this ID.
	ErrNotFound = errors.New("risk: not found")
	// ErrNotStarted: the engine has not been started on an index.
	ErrNotStarted = errors.New("risk: engine not started")
)
