package zoneid

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them (or a
// geo sentinel for invalid coordinates), so callers test with errors.Is.
var (
	// ErrNoGeocoder: IdentifyAddress was called but Options.Geocoder is nil.
	ErrNoGeocoder = errors.New("zoneid: no geocoder configured")
	// ErrUnknownGrid: no zone of the grid layer has that ID.
	ErrUnknownGrid = errors.New("zoneid: unknown grid")
	// ErrInvalidRules: a siting-rules file is malformed; the error is a *RuleError.
	ErrInvalidRules = errors.New("zoneid: invalid rules")
	// ErrInvalidOptions: Options that cannot work.
	ErrInvalidOptions = errors.New("zoneid: invalid options")
	// ErrClosed: the Identifier was closed.
	ErrClosed = errors.New("zoneid: identifier closed")
)

// RuleError says which rule of a rules file is wrong and why. It wraps
// ErrInvalidRules.
type RuleError struct {
	// Index is the 0-based position of the rule in "rules", or -1 for an
	// error of the file as a whole.
	Index int
	// ID is the rule's id when it could be read.
	ID string
	// Field is the offending JSON field ("industries", "min_distance_m" …).
	Field string
	// Reason is a short human-readable explanation.
	Reason string
}

func (e *RuleError) Error() string {
	where := "rules file"
	if e.Index >= 0 {
		where = fmt.Sprintf("rule %d", e.Index)
		if e.ID != "" {
			where += fmt.Sprintf(" (id %q)", e.ID)
		}
	}
	if e.Field != "" {
		where += ": " + e.Field
	}
	return fmt.Sprintf("zoneid: invalid rules: %s: %s", where, e.Reason)
}

// Unwrap returns ErrInvalidRules.
func (e *RuleError) Unwrap() error { return ErrInvalidRules }
