package addressmatch

import (
	"errors"
	"fmt"
	"strings"
)

// Exported errors. They are returned wrapped with context; test with errors.Is.
var (
	// ErrEmpty means the address is empty or only whitespace/punctuation.
	ErrEmpty = errors.New("addressmatch: empty address")
	// ErrTooLong means the address exceeds Options.MaxRunes (200 by default).
	ErrTooLong = errors.New("addressmatch: address too long")
	// ErrNotAddress means the text has no locality (no road, place, village…).
	ErrNotAddress = errors.New("addressmatch: not an address")
	// ErrBadCSV means rows of a standard-address CSV were rejected; the
	// returned *CSVError lists them.
	ErrBadCSV = errors.New("addressmatch: bad rows in address csv")
	// ErrDuplicateID means a record with the same ID is already in the DB.
	ErrDuplicateID = errors.New("addressmatch: duplicate record id")
	// ErrNotFound means no record has the given ID.
	ErrNotFound = errors.New("addressmatch: record not found")
	// ErrInvalidOptions means a Parser's or DB's option is out of range,
	// or the Region cannot be merged into the national divisions.
	ErrInvalidOptions = errors.New("addressmatch: invalid options")
	// ErrBadModel means a model file is corrupt or of another version.
	ErrBadModel = errors.New("addressmatch: bad model file")
)

// RowError is one rejected CSV row.
type RowError struct {
	Row    int    // 1-based line number, the header being row 1
	Field  string // column name
	Reason string
}

// CSVError lists the rejected rows of [DB.LoadStandardCSV]. It unwraps to
// ErrBadCSV.
type CSVError struct{ Rows []RowError }

func (e *CSVError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %d bad rows", ErrBadCSV, len(e.Rows))
	for i, r := range e.Rows {
		if i == 5 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; row %d %s: %s", r.Row, r.Field, r.Reason)
	}
	return b.String()
}

// Unwrap returns ErrBadCSV.
func (e *CSVError) Unwrap() error { return ErrBadCSV }
