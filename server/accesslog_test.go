package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
)

// lockedBuffer is a bytes.Buffer safe for the log's goroutine and the test.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestAsyncLogSameLines: the lines an AsyncLog writes are those of slog's
// own handler given the same records (text and JSON, with attributes and
// groups), in order, all of them once closed, in fewer writes than lines.
func TestAsyncLogSameLines(t *testing.T) {
	for _, js := range []bool{false, true} {
		var got lockedBuffer
		var want bytes.Buffer
		al := NewAsyncLog(&got, AsyncLogOptions{JSON: js, QueueLen: 100_000})
		var ref slog.Handler = slog.NewTextHandler(&want, nil)
		if js {
			ref = slog.NewJSONHandler(&want, nil)
		}
		la, lr := slog.New(al), slog.New(ref)
		la2, lr2 := la.With("node", "a").WithGroup("g"), lr.With("node", "a").WithGroup("g")
		t0 := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
		const n = 5000
		for i := 0; i < n; i++ {
			level := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}[i%4]
			r := slog.NewRecord(t0.Add(time.Duration(i)*time.Millisecond), level, "request", 0)
			r.AddAttrs(slog.String("id", fmt.Sprintf("%016x", i)), slog.Int("status", 200+i%5), slog.String("route", "GET /api/v1/zones"),
				slog.Duration("duration", time.Duration(i)*time.Microsecond), slog.String("token", "writer-1"), slog.String("path", "/a b\"c"))
			for _, p := range []struct {
				a, r *slog.Logger
			}{{la, lr}, {la2, lr2}} {
				if p.a.Enabled(context.Background(), level) != p.r.Enabled(context.Background(), level) {
					t.Fatalf("Enabled(%v) differs", level)
				}
				if p.a.Enabled(context.Background(), level) {
					_ = p.a.Handler().Handle(context.Background(), r)
					_ = p.r.Handler().Handle(context.Background(), r)
				}
			}
		}
		if err := al.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("json=%v: the async log wrote\n%.500s\nslog's handler\n%.500s", js, got.String(), want.String())
		}
		lines := strings.Count(want.String(), "\n")
		if al.Dropped() != 0 || lines != n/4*3*2 {
			t.Fatalf("json=%v: %d dropped, %d lines", js, al.Dropped(), lines)
		}
		if got.writes >= lines {
			t.Fatalf("json=%v: %d writes for %d lines: not batched", js, got.writes, lines)
		}
		// closed: records are dropped and counted, nothing written
		la.Info("after close")
		if al.Dropped() != 1 || strings.Contains(got.String(), "after close") {
			t.Fatalf("after Close: %d dropped", al.Dropped())
		}
		_ = al.Close() // twice is fine
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	release chan struct{}
	lockedBuffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.lockedBuffer.Write(p)
}

// failingWriter fails every Write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestAsyncLogDropsInsteadOfBlocking: with the writer stuck, logging does
// not wait; what does not fit the queue is dropped and counted, and what
// was queued is written once the writer moves (written + dropped = logged).
// Failed writes count as dropped.
func TestAsyncLogDropsInsteadOfBlocking(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	al := NewAsyncLog(w, AsyncLogOptions{QueueLen: 16})
	log := slog.New(al)
	const n = 2000
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			log.Info("request", "i", i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("logging waited for a stuck writer")
	}
	if al.Dropped() == 0 {
		t.Fatal("a queue of 16 took 2,000 records with the writer stuck")
	}
	close(w.release)
	_ = al.Close()
	written := strings.Count(w.String(), "\n")
	if uint64(written)+al.Dropped() != n || written == 0 {
		t.Fatalf("%d written + %d dropped != %d logged", written, al.Dropped(), n)
	}

	fl := NewAsyncLog(failingWriter{}, AsyncLogOptions{})
	for i := 0; i < 10; i++ {
		slog.New(fl).Info("x")
	}
	_ = fl.Close()
	if fl.Dropped() != 10 {
		t.Fatalf("failed writes: %d dropped, want 10", fl.Dropped())
	}
}

// TestServerAsyncAccessLog: a server logging through an AsyncLog writes
// its access log line (route, status, token name; never the token) and
// reports dropped lines in /metrics.
func TestServerAsyncAccessLog(t *testing.T) {
	f, _, zi := zoneServer(t)
	const secret = "async-log-reader-0123456789"
	tokens, err := NewTokens(PlainToken(ScopeRead, "reader-7", secret))
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	al := NewAsyncLog(&out, AsyncLogOptions{JSON: true})
	s, err := NewServer(Deps{Index: f.idx, Zones: zi, Logger: slog.New(al)}, Options{Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	p := f.ds.Entities[3].Location
	rec := call(s, "GET", fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v", p[0], p[1]), "", secret, "X-Request-Id", "req-async-1")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d: %s", rec.Code, rec.Body.String())
	}
	rec = call(s, "GET", "/metrics", "", "")
	if !strings.Contains(rec.Body.String(), "marketgeo_access_log_dropped_total 0") {
		t.Fatalf("/metrics lacks marketgeo_access_log_dropped_total:\n%.2000s", rec.Body.String())
	}
	_ = al.Close()
	logs := out.String()
	if !strings.Contains(logs, `"id":"req-async-1"`) || !strings.Contains(logs, `"route":"GET /api/v1/zones"`) ||
		!strings.Contains(logs, `"token":"reader-7"`) || !strings.Contains(logs, `"status":200`) || strings.Contains(logs, secret) {
		t.Fatalf("the access log:\n%s", logs)
	}
}

// TestZonesAnswerHeaders: zones answers over the middleware at random
// points decode to the zones of a direct Identify encoded by
// encoding/json (the independent oracle; internal profile), and carry every header the chain sets: the security headers,
// a 16-hex-digit request id of their own (a caller's valid one kept),
// Content-Type, Vary and a Content-Length equal to the body's; one
// answer's headers are not changed by the next request.
func TestZonesAnswerHeaders(t *testing.T) {
	f, _, zi := zoneServer(t)
	for _, profile := range []string{ProfileInternal, ProfilePublic} {
		s, err := NewServer(Deps{Index: f.idx, Zones: zi}, Options{Profile: profile, WebMapOrigins: []string{"https://tiles.example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(22, 7))
		b := f.idx.Snapshot().Bounds()
		var prev *httptest.ResponseRecorder
		var prevHdr http.Header
		ids := map[string]bool{}
		for i := 0; i < 300; i++ {
			lon := b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])
			lat := b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])
			target := fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v", lon, lat)
			var hdr []string
			if i%10 == 0 {
				hdr = []string{"X-Request-Id", fmt.Sprintf("caller-%d", i)}
			}
			rec := call(s, "GET", target, "", "", hdr...)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", target, rec.Code, rec.Body.String())
			}
			res, err := zi.Identify(context.Background(), orb.Point{lon, lat})
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			wantJSON, _ := json.Marshal(toZonesJSON(res, crs.WGS84))
			_ = json.Unmarshal(wantJSON, &want)
			if profile == ProfileInternal && fmt.Sprint(got) != fmt.Sprint(want) { // the public answer drops fields: fields_test.go
				t.Fatalf("%s %s:\n got %v\nwant %v", profile, target, got, want)
			}
			h := rec.Header()
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
				"Content-Security-Policy": contentSecurityPolicy([]string{"https://tiles.example.org"}), "Content-Type": "application/json; charset=utf-8",
				"Vary": "Accept-Encoding", "Content-Length": fmt.Sprint(rec.Body.Len())} {
				if got := h.Values(k); len(got) != 1 || got[0] != v {
					t.Fatalf("%s: %s = %q, want %q", target, k, got, v)
				}
			}
			id := h.Get("X-Request-Id")
			if hdr != nil {
				if id != hdr[1] {
					t.Fatalf("the caller's request id %q answered as %q", hdr[1], id)
				}
			} else if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" || ids[id] {
				t.Fatalf("request id %q: want 16 new hex digits", id)
			}
			ids[id] = true
			if prev != nil && fmt.Sprint(prev.Header()) != fmt.Sprint(prevHdr) {
				t.Fatalf("the previous answer's headers changed: %v, were %v", prev.Header(), prevHdr)
			}
			prev, prevHdr = rec, rec.Header().Clone()
		}
	}
}
