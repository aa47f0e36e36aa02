package geo

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers test with errors.Is.
var (
	// ErrInvalidUSCC: a unified social credit code is malformed or its check
	// digit is wrong.
	ErrInvalidUSCC = errors.New("geo: invalid unified social credit code")
	// ErrInvalidCoordinate: a longitude or latitude is out of range or not a number.
	ErrInvalidCoordinate = errors.New("geo: invalid coordinate")
	// ErrInvalidGeometry: a polygon or footprint is unusable (too few
	// vertices, unclosed ring, non-finite coordinate, too many vertices).
	ErrInvalidGeometry = errors.New("geo: invalid geometry")
	// ErrInvalidFeature: a feature lacks a required field or has a bad value.
	ErrInvalidFeature = errors.New("geo: invalid feature")
	// ErrNotFound: no feature with that ID.
	ErrNotFound = errors.New("geo: not found")
	// ErrUnknownLayer: the layer name is not one of entities, buildings, places, zones.
	ErrUnknownLayer = errors.New("geo: unknown layer")
	// ErrInvalidQuery: a radius, k or limit is out of range.
	ErrInvalidQuery = errors.New("geo: invalid query")
	// ErrTooLarge: an input exceeds a configured cap (vertices, rows, bytes).
	ErrTooLarge = errors.New("geo: input too large")
)

// FieldError says which field of which feature or row is wrong and why. It
// wraps the sentinel that classifies the problem.
type FieldError struct {
	// Index is the 1-based row (CSV, counting the header as row 1) or the
	// 0-based feature number (GeoJSON) of the offending record; -1 if unknown.
	Index int
	// ID is the record's ID when it could be read.
	ID string
	// Field is the column or property name ("lon", "geometry", "id" …).
	Field string
	// Reason is a short human-readable explanation.
	Reason string
	// Err is the sentinel (ErrInvalidCoordinate, ErrInvalidUSCC …).
	Err error
}

func (e *FieldError) Error() string {
	where := ""
	if e.Index >= 0 {
		where = fmt.Sprintf("record %d", e.Index)
	}
	if e.ID != "" {
		if where != "" {
			where += " "
		}
		where += fmt.Sprintf("(id %s)", e.ID)
	}
	if where != "" {
		where += ": "
	}
	return fmt.Sprintf("%s%s: %s", where, e.Field, e.Reason)
}

// Unwrap returns the classifying sentinel.
func (e *FieldError) Unwrap() error { return e.Err }
