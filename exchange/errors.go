package exchange

import (
	"errors"
	"fmt"
)

// Sentinel errors; errors of this package wrap one of them (or a store or
// geo error), so callers test with errors.Is.
var (
	// ErrInvalidRecord: a record is malformed (missing entity, unknown
	// kind, a bad date, a department name that cannot be used).
	ErrInvalidRecord = errors.New("exchange: invalid record")
	// ErrUnknownKind: a record kind that is not one of [Kinds].
	ErrUnknownKind = errors.New("exchange: unknown record kind")
	// ErrBadTable: a department table cannot be read (not CSV or xlsx, no
	// header row, a sheet that does not exist, undecodable text).
	ErrBadTable = errors.New("exchange: unreadable table")
	// ErrBadMapping: a mapping file is malformed or names columns the
	// table does not have.
	ErrBadMapping = errors.New("exchange: bad mapping")
	// ErrTooLarge: a table exceeds a configured cap (bytes, rows, cells).
	ErrTooLarge = errors.New("exchange: table too large")
	// ErrNotAttached: the exchange is not attached to a store yet.
	ErrNotAttached = errors.New("exchange: not attached to a store")
)

// FieldError names the field of a record or mapping at fault.
type FieldError struct {
	// Field is the field's name (kind, date, dept, columns.uscc …).
	Field string
	// Err is the cause (wraps a sentinel).
	Err error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }

func (e *FieldError) Unwrap() error { return e.Err }
