package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/marketgeo/marketgeo/geo"
)

// LineError is one rejected line of a bulk request.
type LineError struct {
	Line   int    `json:"line"` // 1-based
	ID     string `json:"id,omitempty"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// BulkError rejects a whole bulk request: every line error found (up to
// a cap), wrapping the sentinel of the first.
type BulkError struct {
	Lines []LineError
	// More counts the line errors beyond those listed.
	More int
	Err  error
}

func (e *BulkError) Error() string {
	if len(e.Lines) == 0 {
		return e.Err.Error()
	}
	l := e.Lines[0]
	s := fmt.Sprintf("%d bad line(s); line %d", len(e.Lines)+e.More, l.Line)
	if l.ID != "" {
		s += fmt.Sprintf(" (%q)", l.ID)
	}
	if l.Field != "" {
		s += " " + l.Field
	}
	return s + ": " + l.Reason
}

func (e *BulkError) Unwrap() error { return e.Err }

// maxLineErrors caps the line errors a BulkError lists.
const maxLineErrors = 1000

// DecodeBulk reads NDJSON, one GeoJSON Feature of layer a line (blank
// lines skipped), into writes, validating every line as the loaders do.
// Any bad line rejects the whole request with a *BulkError listing each bad
// line (line, id, field, reason); more than maxWrites lines, or a line
// longer than maxLineBytes, fails with ErrTooLarge. Reading stops at the
// first line over the count, so a huge body costs no more than the cap.
func DecodeBulk(r io.Reader, layer geo.Layer, maxWrites, maxLineBytes int, opts geo.LoadOptions) ([]Write, error) {
	if _, err := geo.ParseLayer(string(layer)); err != nil {
		return nil, err
	}
	if maxWrites <= 0 {
		maxWrites = DefaultOptions().MaxWrites
	}
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultOptions().MaxLineBytes
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLineBytes)), maxLineBytes)
	var ws []Write
	be := &BulkError{}
	seen := map[string]int{}
	line := 0
	fail := func(le LineError, err error) {
		if be.Err == nil {
			be.Err = err
		}
		if len(be.Lines) < maxLineErrors {
			be.Lines = append(be.Lines, le)
		} else {
			be.More++
		}
	}
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(ws)+len(be.Lines)+be.More >= maxWrites {
			return nil, fmt.Errorf("%w: more than %d features in one bulk request (line %d)", ErrTooLarge, maxWrites, line)
		}
		v, err := DecodeFeature(layer, "", b, opts)
		if err != nil {
			le := LineError{Line: line, Reason: err.Error()}
			var fe *geo.FieldError
			if errors.As(err, &fe) {
				le.ID, le.Field, le.Reason = fe.ID, fe.Field, fe.Reason
			}
			fail(le, err)
			continue
		}
		_, id := featureKey(v)
		if first, dup := seen[id]; dup {
			fail(LineError{Line: line, ID: id, Field: "id", Reason: fmt.Sprintf("duplicate id, first on line %d", first)}, ErrInvalidWrite)
			continue
		}
		seen[id] = line
		ws = append(ws, Write{Layer: layer, ID: id, Feature: v})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrTooLarge, line+1, maxLineBytes)
		}
		return nil, fmt.Errorf("%w: reading line %d: %w", ErrInvalidWrite, line+1, err)
	}
	if be.Err != nil {
		return nil, be
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("%w: the bulk request holds no feature", ErrInvalidWrite)
	}
	return ws, nil
}
