package geo

import (
	"bytes"
	"encoding/csv"
	"io"
)

// csvSplitter finds where records end in a CSV stream exactly as
// encoding/csv reads it (comma-separated, no comment lines, LazyQuotes and
// TrimLeadingSpace off), without parsing the fields. The loader cuts the
// stream there into chunks that converters parse on all cores, each with
// the same result as one reader over the whole stream.
//
// encoding/csv reads line by line. A line ends the record unless it ends
// inside a quoted field (one that starts with '"'), where `""` is a quote
// and a lone '"' closes the field. A malformed line (a quote inside an
// unquoted field, or a closing quote followed by something other than a
// comma or the line end) is an error whose record ends at that line's end.
type csvSplitter struct{ state uint8 }

const (
	csFieldStart = iota
	csUnquoted
	csQuoted
	csQuoteInQuoted
	csSkipLine // a malformed record: the rest of the line is discarded
)

// scan consumes p, the next bytes of the stream, and returns the offset in
// p just past the last record end in it, or 0 when p ends none.
func (s *csvSplitter) scan(p []byte) int {
	if (s.state == csFieldStart || s.state == csUnquoted) && bytes.IndexByte(p, '"') < 0 {
		// no quote: every line ends a record (the common case)
		end := bytes.LastIndexByte(p, '\n') + 1
		switch tail := p[end:]; {
		case len(tail) > 0 && tail[len(tail)-1] == ',':
			s.state = csFieldStart
		case len(tail) > 0:
			s.state = csUnquoted
		case end > 0:
			s.state = csFieldStart
		}
		return end
	}
	end, _ := s.step(p, false)
	return end
}

// first consumes p up to its first record end and returns the offset just
// past it, or 0 when p ends no record.
func (s *csvSplitter) first(p []byte) int {
	end, _ := s.step(p, true)
	return end
}

func (s *csvSplitter) step(p []byte, stopAtFirst bool) (int, bool) {
	end := 0
	st := s.state
	for i, c := range p {
		switch st {
		case csFieldStart, csUnquoted:
			switch c {
			case '\n':
				st, end = csFieldStart, i+1
			case ',':
				st = csFieldStart
			case '"':
				if st == csFieldStart {
					st = csQuoted
				} else {
					st = csSkipLine // a bare quote
				}
			default:
				st = csUnquoted
			}
		case csQuoted:
			if c == '"' {
				st = csQuoteInQuoted
			}
		case csQuoteInQuoted:
			switch c {
			case '"':
				st = csQuoted // `""`
			case ',':
				st = csFieldStart
			case '\n':
				st, end = csFieldStart, i+1
			default:
				st = csSkipLine // `"x`, also `"\r` (a valid `"\r\n` ends the line the same way)
			}
		case csSkipLine:
			if c == '\n' {
				st, end = csFieldStart, i+1
			}
		}
		if stopAtFirst && end > 0 {
			s.state = st
			return end, true
		}
	}
	s.state = st
	return end, end > 0
}

// eachCSVRecord calls fn for every record of chunk (whole records, as cut
// by csvSplitter), in order, with the record's fields or the
// *csv.ParseError encoding/csv gives for it. The fields slice is reused
// between calls; the strings are not. A chunk without a quote, the usual
// case, is split directly, as encoding/csv would: "\r\n" ends a line like
// "\n", a '\r' at the very end is dropped and empty lines are skipped.
func eachCSVRecord(chunk []byte, fields []string, fn func(rec []string, err error) bool) []string {
	if bytes.IndexByte(chunk, '"') >= 0 {
		cr := newCSVReader(chunk)
		cr.ReuseRecord = true
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return fields
			}
			if !fn(rec, err) {
				return fields
			}
		}
	}
	var buf []byte
	var ends []int
	for len(chunk) > 0 {
		var line []byte
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			line, chunk = chunk[:i], chunk[i+1:]
		} else {
			line, chunk = chunk, nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		// one string for the record's fields, without the commas (the
		// entities keep substrings of it), as encoding/csv builds
		buf, ends = buf[:0], ends[:0]
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				buf = append(buf, line...)
				ends = append(ends, len(buf))
				break
			}
			buf = append(buf, line[:i]...)
			ends = append(ends, len(buf))
			line = line[i+1:]
		}
		s := string(buf)
		fields = fields[:0]
		start := 0
		for _, e := range ends {
			fields = append(fields, s[start:e])
			start = e
		}
		if !fn(fields, nil) {
			break
		}
	}
	return fields
}

// newCSVReader reads b with the settings csvSplitter assumes (the
// defaults: comma, no comments, strict quotes, no space trimming), any
// number of fields a record.
func newCSVReader(b []byte) *csv.Reader {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	return cr
}
