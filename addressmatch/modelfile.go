package addressmatch

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// The embedded model files (parse and compare) share one frame: gzip at
// the best compression, a magic line, then little-endian binary values.
// The same model gives the same bytes, so a retrained model can be checked
// byte for byte against the one in the repository.

// writeModelFile writes the frame around body, which writes the values
// with put (put does nothing after the first error).
func writeModelFile(w io.Writer, what, magic string, body func(put func(any))) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return cw.n, fmt.Errorf("%s: %w", what, err)
	}
	bw := bufio.NewWriter(zw)
	if _, err = bw.WriteString(magic); err != nil {
		return cw.n, fmt.Errorf("%s: %w", what, err)
	}
	body(func(v any) {
		if err == nil {
			err = binary.Write(bw, binary.LittleEndian, v)
		}
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return cw.n, fmt.Errorf("%s: write: %w", what, err)
	}
	return cw.n, nil
}

// modelReader reads the values of a model file; the first error sticks.
type modelReader struct {
	br  *bufio.Reader
	err error
}

func (r *modelReader) get(v any) {
	if r.err == nil {
		r.err = binary.Read(r.br, binary.LittleEndian, v)
	}
}

// openModelFile checks the frame of a model file and returns its reader
// and which of magics (all of one length) it starts with. Errors wrap
// ErrBadModel.
func openModelFile(r io.Reader, what string, magics ...string) (*modelReader, string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(magics[0]))
	if _, err := io.ReadFull(br, magic); err != nil || !slices.Contains(magics, string(magic)) {
		return nil, "", fmt.Errorf("%w: not a %s", ErrBadModel, what)
	}
	return &modelReader{br: br}, string(magic), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
