package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

func tileServer(tb testing.TB, entities int) (http.Handler, *geo.Index) {
	tb.Helper()
	ds, err := demo.Generate(demo.Options{Entities: entities})
	if err != nil {
		tb.Fatal(err)
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := ds.Load(idx); err != nil {
		tb.Fatal(err)
	}
	tr, err := tiles.New(idx, tiles.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tr.Close)
	web := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>map</title>")}, "app.js": {Data: []byte("//")}}
	h, err := New(Deps{Index: idx, Tiles: tr, WebMap: web}, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return h, idx
}

func do(h http.Handler, method, url string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestTileHTTP(t *testing.T) {
	h, idx := tileServer(t, 1000)
	c := idx.Snapshot().Bounds().Center()
	tl := maptile.At(c, 12)
	url := "/tiles/entities/12/" + tileItoa(int(tl.X)) + "/" + tileItoa(int(tl.Y)) + ".mvt"

	plain := do(h, "GET", url, nil)
	if plain.Code != 200 || plain.Header().Get("Content-Type") != "application/vnd.mapbox-vector-tile" ||
		plain.Header().Get("ETag") == "" || plain.Header().Get("Cache-Control") == "" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d %v", plain.Code, plain.Header())
	}
	if _, err := mvt.Unmarshal(plain.Body.Bytes()); err != nil {
		t.Fatal(err)
	}
	gz := do(h, "GET", url, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Vary") != "Accept-Encoding" || gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Fatalf("gzip: %v", gz.Header())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	if !bytes.Equal(raw, plain.Body.Bytes()) {
		t.Fatal("gzip body differs")
	}
	if r := do(h, "GET", url, map[string]string{"Accept-Encoding": "gzip;q=0"}); r.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 got gzip")
	}
	for _, etag := range []string{plain.Header().Get("ETag"), gz.Header().Get("ETag")} {
		if r := do(h, "GET", url, map[string]string{"If-None-Match": etag}); r.Code != http.StatusNotModified || r.Body.Len() != 0 {
			t.Fatalf("If-None-Match %s: %d", etag, r.Code)
		}
	}
	if r := do(h, "GET", url+"?risk=C,D", nil); (r.Code != 200 && r.Code != 204) || r.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Fatalf("filtered: %d", r.Code)
	}
	for _, c := range []struct {
		url  string
		code int
	}{
		{"/tiles/entities/3/8/0.mvt", 400},
		{"/tiles/entities/23/0/0.mvt", 400},
		{"/tiles/entities/x/0/0.mvt", 400},
		{"/tiles/entities/-1/0/0.mvt", 400},
		{"/tiles/entities/3/1/1.mvt?risk=E", 400},
		{"/tiles/zones/3/1/1.mvt?risk=C", 400},
		{"/tiles/rivers/3/1/1.mvt", 404},
		{"/tiles/entities/5/0/0.mvt", 204},
		{"/tiles/rivers.json", 404},
	} {
		if r := do(h, "GET", c.url, nil); r.Code != c.code {
			t.Errorf("%s: %d, want %d (%s)", c.url, r.Code, c.code, r.Body.String())
		}
	}
	// Not GET or HEAD: left to the router (405), not the tile fast path.
	if r := do(h, "POST", "/tiles/entities/5/0/0.mvt", nil); r.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.Code)
	}
	if r := do(h, "HEAD", url, map[string]string{"Accept-Encoding": "gzip"}); r.Code != 200 || r.Body.Len() != 0 || r.Header().Get("Content-Length") != gz.Header().Get("Content-Length") {
		t.Errorf("HEAD: %d %d %v", r.Code, r.Body.Len(), r.Header())
	}
	r := do(h, "GET", "/tiles/entities.json?risk=D", nil)
	var tj tiles.TileJSON
	if err := json.Unmarshal(r.Body.Bytes(), &tj); err != nil || tj.TileJSON != "3.0.0" || tj.Tiles[0] != "http://example.com/tiles/entities/{z}/{x}/{y}.mvt?risk=D" {
		t.Fatalf("tilejson: %v %+v", err, tj)
	}
	if r := do(h, "GET", "/", nil); r.Code != 200 || !bytes.Contains(r.Body.Bytes(), []byte("<title>map")) {
		t.Fatalf("/: %d", r.Code)
	}
	if r := do(h, "GET", "/webmap/app.js", nil); r.Code != 200 {
		t.Fatalf("/webmap/app.js: %d", r.Code)
	}
}

func TestTilesUnavailable(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	h, _ := New(Deps{Index: idx}, Options{})
	if r := do(h, "GET", "/tiles/entities/0/0/0.mvt", nil); r.Code != 503 {
		t.Fatalf("%d", r.Code)
	}
}

func tileItoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// BenchmarkCachedTilesHTTP measures cached tiles served over a loopback
// HTTP server to concurrent keep-alive clients in the same process (8
// goroutines per -cpu, gzip accepted, the 12 tiles around the demo's
// centre at z11–14, two of them empty: 204), reported as tiles/s, with
// two clients:
//
//	client=net/http  a shared http.Client; each goroutine reuses its
//	                 requests
//	client=raw       one kept-alive TCP connection per goroutine writing
//	                 GET requests and reading the status, headers and
//	                 Content-Length bytes of each response (a minimal
//	                 HTTP/1.1 client, as a browser or load tester in
//	                 another process costs this process nothing)
//
// Client and server share the CPUs, so both figures are lower bounds of
// the server's; cpu-us/tile is the process's CPU time per tile (client,
// server and GC), which a loaded shared machine distorts less than tiles/s.
func BenchmarkCachedTilesHTTP(b *testing.B) {
	h, idx := tileServer(b, 79000)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := idx.Snapshot().Bounds().Center()
	var paths []string
	for _, z := range []int{11, 12, 13, 14} {
		tl := maptile.At(c, maptile.Zoom(z))
		for dx := -1; dx <= 1; dx++ {
			paths = append(paths, "/tiles/entities/"+tileItoa(z)+"/"+tileItoa(int(tl.X)+dx)+"/"+tileItoa(int(tl.Y))+".mvt")
		}
	}
	b.Run("client=net/http", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
		defer client.CloseIdleConnections()
		requests := func() []*http.Request {
			reqs := make([]*http.Request, len(paths))
			for i, p := range paths {
				reqs[i], _ = http.NewRequest("GET", srv.URL+p, nil)
				reqs[i].Header.Set("Accept-Encoding", "gzip")
			}
			return reqs
		}
		get := func(req *http.Request) int64 {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return 0
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
				b.Errorf("%s: %d", req.URL, resp.StatusCode)
			}
			return n
		}
		for _, req := range requests() {
			get(req) // warm the cache
		}
		benchHTTP(b, func() func(i int) int64 {
			reqs := requests()
			return func(i int) int64 { return get(reqs[i%len(reqs)]) }
		})
	})
	b.Run("client=raw", func(b *testing.B) {
		benchHTTP(b, func() func(i int) int64 {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { conn.Close() })
			br := bufio.NewReaderSize(conn, 64<<10)
			reqs := make([][]byte, len(paths))
			for i, p := range paths {
				reqs[i] = []byte("GET " + p + " HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip\r\n\r\n")
			}
			return func(i int) int64 {
				if _, err := conn.Write(reqs[i%len(reqs)]); err != nil {
					b.Error(err)
					return 0
				}
				n, err := readResponse(br)
				if err != nil {
					b.Error(err)
				}
				return n
			}
		})
	})
}

// readResponse reads one HTTP/1.1 response of status 200 (with
// Content-Length) or 204 and returns its body length.
func readResponse(br *bufio.Reader) (int64, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || (string(line[9:12]) != "200" && string(line[9:12]) != "204") {
		return 0, fmt.Errorf("status line %q", line)
	}
	n := int64(0)
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			if n, err = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err != nil {
				return 0, err
			}
		}
	}
	_, err = br.Discard(int(n))
	return n, err
}

// benchHTTP runs the parallel part of BenchmarkCachedTilesHTTP: each
// goroutine gets its own client from newClient and calls it with a running
// index; the client returns the body bytes read.
func benchHTTP(b *testing.B, newClient func() func(i int) int64) {
	var n, bytes atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	t0, c0 := time.Now(), processCPU()
	b.RunParallel(func(pb *testing.PB) {
		get := newClient()
		i := 0
		for pb.Next() {
			bytes.Add(get(i))
			i++
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(t0).Seconds(), "tiles/s")
	// 2 cores / cpu-us/tile = the throughput of an idle 2-core machine.
	b.ReportMetric(float64((processCPU()-c0).Microseconds())/float64(max(n.Load(), 1)), "cpu-us/tile")
	b.ReportMetric(float64(bytes.Load())/float64(max(n.Load(), 1))/1024, "KB/tile")
}

// processCPU returns the user and system CPU time of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
