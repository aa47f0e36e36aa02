package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// discardWriter is a ResponseWriter that keeps the header and counts the
// body, reused from request to request (the in-process benchmarks measure
// the server's own allocations, not a recorder's).
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkZonesInProcess: GET /api/v1/zones through the whole handler
// (middleware chain, hot route, answer) without a socket, at the demo
// fixture's entity locations, with no access log, `serve`'s text access
// log written line by line to a file (sync, as before the AsyncLog), and
// through an AsyncLog to the same kind of file. Run with -benchmem:
// allocations per request are the server's own.
func BenchmarkZonesInProcess(b *testing.B) {
	f, _, zi := zoneServer(b)
	reqs := make([]*http.Request, 256)
	for i := range reqs {
		p := f.ds.Entities[(i*37)%len(f.ds.Entities)].Location
		reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v", p[0], p[1]), nil)
	}
	for _, mode := range []string{"log=none", "log=sync", "log=async"} {
		b.Run(mode, func(b *testing.B) {
			out, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer out.Close()
			var log *slog.Logger
			var al *AsyncLog
			switch mode {
			case "log=sync":
				log = slog.New(slog.NewTextHandler(out, nil))
			case "log=async":
				al = NewAsyncLog(out, AsyncLogOptions{})
				log = slog.New(al)
			}
			h, err := New(Deps{Index: f.idx, Zones: zi, Logger: log}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				clear(w.h)
				w.status = 0
				h.ServeHTTP(w, reqs[i%len(reqs)])
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
			if al != nil {
				_ = al.Close() // the queued lines are written within the timing
				b.ReportMetric(float64(al.Dropped()), "dropped")
			}
		})
	}
}
