package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the async log's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestServerLogger: each MARKETGEO_ACCESS_LOG mode writes what it says
// (an access line and an error line; errors only in "errors"), the async
// one by the time its flush returns; an unknown mode is an error naming
// the modes.
func TestServerLogger(t *testing.T) {
	for _, c := range []struct {
		mode       string
		wantAccess bool
	}{{"", true}, {"async", true}, {"sync", true}, {"errors", false}} {
		var out syncBuffer
		log, flush, err := serverLogger(c.mode, &out)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("request", "route", "GET /api/v1/zones", "token", "reader-1", "status", 200)
		log.Error("request", "route", "GET /api/v1/nearby", "status", 500)
		flush()
		got := out.String()
		if strings.Contains(got, "route=\"GET /api/v1/zones\" token=reader-1 status=200") != c.wantAccess {
			t.Fatalf("mode %q: the access line present %v, want %v:\n%s", c.mode, !c.wantAccess, c.wantAccess, got)
		}
		if !strings.Contains(got, "level=ERROR msg=request route=\"GET /api/v1/nearby\" status=500") {
			t.Fatalf("mode %q: no error line:\n%s", c.mode, got)
		}
	}
	if _, _, err := serverLogger("loud", &syncBuffer{}); err == nil || !strings.Contains(err.Error(), "async, sync or errors") {
		t.Fatalf("unknown mode: %v", err)
	}
}
