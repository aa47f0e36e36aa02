package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// The JSON answers of the query endpoints are appended into a pooled
// buffer (geojsonw and the append functions of render.go) and written by
// an answer: whole, with a Content-Length, when they fit in streamAt bytes,
// else streamed in chunks of that size as they are made. A client that
// sends Accept-Encoding zstd or gzip gets answers of at least
// compressMinBytes compressed.
const (
	// streamAt is the buffered size past which an answer is streamed.
	streamAt = 256 << 10
	// compressMinBytes is the smallest answer compressed on request: below
	// it compression saves less than it costs.
	compressMinBytes = 2 << 10
	// maxPooledBuffer is the largest buffer put back in the pool.
	maxPooledBuffer = 1 << 20
)

// The pools are caches of scratch memory (no state a request can observe),
// shared by the servers of a process.
var (
	bufPool  = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	gzipPool sync.Pool // *gzip.Writer
	zstdPool sync.Pool // *zstd.Encoder
)

// encoding is a Content-Encoding the answers offer.
type encoding uint8

const (
	encIdentity encoding = iota
	encGzip
	encZstd
)

// acceptEncoding picks the answer's encoding from the Accept-Encoding
// header: zstd when acceptable, else gzip, else none. A coding with q=0 is
// refused; "*" accepts both.
func acceptEncoding(h string) encoding {
	if h == "" {
		return encIdentity
	}
	var gz, zs, star, starSet bool
	gzSet, zsSet := false, false
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		ok := true
		for _, p := range strings.Split(params, ";") {
			k, v, found := strings.Cut(strings.TrimSpace(p), "=")
			if found && strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil || q <= 0 {
					ok = false
				}
			}
		}
		switch name {
		case "gzip", "x-gzip":
			gz, gzSet = ok, true
		case "zstd":
			zs, zsSet = ok, true
		case "*":
			star, starSet = ok, true
		}
	}
	if starSet {
		if !zsSet {
			zs = star
		}
		if !gzSet {
			gz = star
		}
	}
	switch {
	case zs:
		return encZstd
	case gz:
		return encGzip
	}
	return encIdentity
}

// answer writes one JSON answer. Use newAnswer, append to buf (calling
// spill after each large piece) and end with finish.
type answer struct {
	w       http.ResponseWriter
	buf     []byte
	pooled  *[]byte
	enc     encoding
	started bool
	out     io.Writer // w, or the compressor writing to w, once started
	gz      *gzip.Writer
	zs      *zstd.Encoder
	err     error
	hdr     [3]string // Content-Type, Vary and Content-Length values
}

// newAnswer starts an answer to r (status 200, JSON).
func newAnswer(w http.ResponseWriter, r *http.Request) *answer {
	p := bufPool.Get().(*[]byte)
	return &answer{w: w, buf: (*p)[:0], pooled: p, enc: acceptEncoding(r.Header.Get("Accept-Encoding"))}
}

// start sends the header, compressed when the client accepts it and the
// answer is at least compressMinBytes.
func (a *answer) start(contentType string, whole bool) {
	a.started = true
	h := a.w.Header()
	// the values in the answer's own array: no allocation per header
	a.hdr = [3]string{contentType, "Accept-Encoding"}
	h["Content-Type"] = a.hdr[0:1:1]
	if v, ok := h["Vary"]; ok {
		h["Vary"] = append(v, "Accept-Encoding")
	} else {
		h["Vary"] = a.hdr[1:2:2]
	}
	a.out = a.w
	if a.enc == encIdentity || len(a.buf) < compressMinBytes {
		if whole {
			a.hdr[2] = strconv.Itoa(len(a.buf))
			h["Content-Length"] = a.hdr[2:3:3]
		}
		a.w.WriteHeader(http.StatusOK)
		return
	}
	switch a.enc {
	case encZstd:
		h.Set("Content-Encoding", "zstd")
		if z, ok := zstdPool.Get().(*zstd.Encoder); ok {
			a.zs = z
			a.zs.Reset(a.w)
		} else {
			a.zs, _ = zstd.NewWriter(a.w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
		}
		a.out = a.zs
	case encGzip:
		h.Set("Content-Encoding", "gzip")
		if g, ok := gzipPool.Get().(*gzip.Writer); ok {
			a.gz = g
			a.gz.Reset(a.w)
		} else {
			a.gz, _ = gzip.NewWriterLevel(a.w, gzip.BestSpeed)
		}
		a.out = a.gz
	}
	a.w.WriteHeader(http.StatusOK)
}

// spill streams the buffer out once it holds streamAt bytes or more.
func (a *answer) spill() {
	if len(a.buf) < streamAt {
		return
	}
	if !a.started {
		a.start("application/json; charset=utf-8", false)
	}
	a.write()
}

func (a *answer) write() {
	if a.err == nil && len(a.buf) > 0 {
		_, a.err = a.out.Write(a.buf)
	}
	a.buf = a.buf[:0]
}

// finish writes the rest of the answer (a JSON value, followed by the
// newline encoding/json ends a value with) and releases the buffers.
func (a *answer) finish() error {
	return a.finishAs("application/json; charset=utf-8")
}

// finishAs is finish with another Content-Type (NDJSON).
func (a *answer) finishAs(contentType string) error {
	if !a.started {
		a.start(contentType, true)
	}
	a.write()
	if a.zs != nil {
		if err := a.zs.Close(); a.err == nil {
			a.err = err
		}
		a.zs.Reset(nil)
		zstdPool.Put(a.zs)
		a.zs = nil
	}
	if a.gz != nil {
		if err := a.gz.Close(); a.err == nil {
			a.err = err
		}
		a.gz.Reset(io.Discard)
		gzipPool.Put(a.gz)
		a.gz = nil
	}
	if cap(a.buf) <= maxPooledBuffer {
		*a.pooled = a.buf[:0]
		bufPool.Put(a.pooled)
	}
	a.buf, a.pooled = nil, nil
	return a.err
}
