package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/zoneid"
)

// httpFixture is a server over loopback on one dataset: the geo index and
// zones at once, search built on first use (about 100 s at 1M).
type httpFixture struct {
	d      *Dataset
	srv    *httptest.Server
	zones  *zoneid.Identifier
	search *search.Index
	err    error
}

var (
	httpMu  sync.Mutex
	httpFix = map[int]*httpFixture{}
)

func loadHTTP(b *testing.B, n int, withSearch bool) *httpFixture {
	b.Helper()
	httpMu.Lock()
	defer httpMu.Unlock()
	f := httpFix[n]
	if f == nil {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		f = &httpFixture{d: d}
		rules, err := zoneid.ParseRules(strings.NewReader(string(demo.RulesJSON())))
		if err != nil {
			b.Fatal(err)
		}
		if f.zones, err = zoneid.New(d.Index, zoneid.Options{Rules: rules}); err != nil {
			b.Fatal(err)
		}
		httpFix[n] = f
	}
	if withSearch && f.search == nil {
		reg, err := demo.Region()
		if err != nil {
			b.Fatal(err)
		}
		if f.search, err = search.New(context.Background(), f.d.Index, search.Options{Region: reg}); err != nil {
			b.Fatal(err)
		}
		if f.srv != nil {
			f.srv.Close()
			f.srv = nil
		}
	}
	if f.srv == nil {
		h, err := server.New(server.Deps{Index: f.d.Index, Zones: f.zones, Search: f.search}, server.Options{})
		if err != nil {
			b.Fatal(err)
		}
		f.srv = httptest.NewServer(h)
	}
	runtime.GC()
	return f
}

// countWriter counts the bytes of a body it discards.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// httpClients are the two clients runHTTP measures with, each a
// sub-benchmark: "nethttp", Go's net/http client (what a Go program
// calling the API uses), and "lean", leanClient (raw TCP and bufio), which
// costs the process less CPU per request, so its figures are closer to the
// server's own.
var httpClients = []string{"nethttp", "lean"}

// runHTTP runs the requests (the URLs in turn) with each of httpClients,
// one after another on one keep-alive connection, as sub-benchmarks.
func runHTTP(b *testing.B, urls []string, header http.Header) {
	b.Helper()
	for _, c := range httpClients {
		b.Run(c, func(b *testing.B) { runHTTPWith(b, c, urls, header) })
	}
}

// runHTTPWith sends b.N GET requests with the client named (httpClients)
// and reports q/s, p50 and p99 in ms, the body bytes per answer as
// received (after any Content-Encoding) and the CPU time per request of
// the process (server and client together: both run in the benchmark's
// process).
func runHTTPWith(b *testing.B, client string, urls []string, header http.Header) {
	b.Helper()
	var get func(i int, w io.Writer)
	buf := make([]byte, 64<<10)
	switch client {
	case "lean":
		lc, err := dialLean(urls[0])
		if err != nil {
			b.Fatal(err)
		}
		defer lc.Close()
		reqs := make([][]byte, len(urls))
		for i, u := range urls {
			if reqs[i], err = leanRequest(u, header); err != nil {
				b.Fatal(err)
			}
		}
		get = func(i int, w io.Writer) {
			status, err := lc.Do(reqs[i%len(reqs)], w, buf)
			if err != nil || status != http.StatusOK {
				b.Fatalf("%s: status %d, %v", urls[i%len(urls)], status, err)
			}
		}
	default:
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		defer tr.CloseIdleConnections()
		cl := &http.Client{Transport: tr}
		reqs := make([]*http.Request, len(urls))
		for i, u := range urls {
			r, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				b.Fatal(err)
			}
			for k, v := range header {
				r.Header[k] = v
			}
			reqs[i] = r
		}
		get = func(i int, w io.Writer) {
			r := reqs[i%len(reqs)]
			resp, err := cl.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.CopyBuffer(w, resp.Body, buf)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: status %d, %v", r.URL, resp.StatusCode, err)
			}
		}
	}
	for i := 0; i < min(len(urls), 50); i++ { // warm the connection and caches
		get(i, io.Discard)
	}
	runtime.GC()
	lat := make([]time.Duration, b.N)
	var cw countWriter
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		get(i, &cw)
		lat[i] = time.Since(t)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "q/s")
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(float64(cw.n)/float64(b.N), "bytes/answer")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(0, "ns/op")
}

// leanClient is a minimal keep-alive HTTP/1.1 client for the benchmarks:
// one TCP connection, each request written from bytes built once
// (leanRequest), each answer read with bufio: the status line, the
// headers it needs (Content-Length, Transfer-Encoding: chunked,
// Connection: close) and the body. Not safe for concurrent use.
type leanClient struct {
	conn net.Conn
	br   *bufio.Reader
}

// dialLean connects to the host of rawURL (http only).
func dialLean(rawURL string) (*leanClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("lean client: %q: http only", rawURL)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	return &leanClient{conn: conn, br: bufio.NewReaderSize(conn, 64<<10)}, nil
}

// Close closes the connection.
func (c *leanClient) Close() error { return c.conn.Close() }

// leanRequest is the GET request of rawURL with the header, as sent.
func leanRequest(rawURL string, header http.Header) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&sb, "%s: %s\r\n", k, v)
		}
	}
	sb.WriteString("\r\n")
	return []byte(sb.String()), nil
}

// Do sends req and copies the answer's body (as sent: no decoding of a
// Content-Encoding) to w through buf, returning the status code.
func (c *leanClient) Do(req []byte, w io.Writer, buf []byte) (int, error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, err
	}
	line, err := c.line()
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, fmt.Errorf("lean client: bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("lean client: bad status line %q", line)
	}
	length, chunked, closing := int64(-1), false, false
	for {
		line, err := c.line()
		if err != nil {
			return status, err
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return status, fmt.Errorf("lean client: bad header line %q", line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(v), 10, 64); err != nil || length < 0 {
				return status, fmt.Errorf("lean client: bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := c.line()
			if err != nil {
				return status, err
			}
			hex, _, _ := bytes.Cut(line, []byte{';'})
			n, err := strconv.ParseInt(string(bytes.TrimSpace(hex)), 16, 64)
			if err != nil || n < 0 {
				return status, fmt.Errorf("lean client: bad chunk size %q", line)
			}
			if n == 0 {
				for { // trailers, up to the empty line
					if line, err = c.line(); err != nil || len(line) == 0 {
						break
					}
				}
				if err != nil {
					return status, err
				}
				break
			}
			if err := c.copyN(w, n, buf); err != nil {
				return status, err
			}
			if line, err = c.line(); err != nil || len(line) != 0 {
				return status, fmt.Errorf("lean client: no CRLF after a chunk: %v", err)
			}
		}
	case length >= 0:
		if err := c.copyN(w, length, buf); err != nil {
			return status, err
		}
	default:
		return status, fmt.Errorf("lean client: an answer without Content-Length or chunks")
	}
	if closing {
		return status, fmt.Errorf("lean client: the server closes the connection")
	}
	return status, nil
}

// line reads a header line without its CRLF (valid until the next read).
func (c *leanClient) line() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return nil, fmt.Errorf("lean client: %w", err)
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// copyN copies n body bytes to w through buf.
func (c *leanClient) copyN(w io.Writer, n int64, buf []byte) error {
	for n > 0 {
		k, err := io.ReadFull(c.br, buf[:min(int64(len(buf)), n)])
		if err != nil {
			return fmt.Errorf("lean client: body: %w", err)
		}
		if _, err := w.Write(buf[:k]); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// BenchmarkHTTP: the API over loopback with one keep-alive client, at
// 79k and 1M entities: nearby 200 m (full GeoJSON, fields=id, format=ids,
// count_only, gzip and zstd), zones of a point, and search per query kind.
// Run with -benchtime 2000x (a few seconds each); the search index is
// built only when a search sub-benchmark runs (about 100 s at 1M).
//
//	go test ./benchmarks -run XXX -bench 'HTTP/1M/nearby' -benchtime 2000x
func BenchmarkHTTP(b *testing.B) {
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := loadHTTP(b, n, false)
			pts := f.d.Queries
			nearby := func(extra string) []string {
				out := make([]string, len(pts))
				for i, p := range pts {
					out[i] = fmt.Sprintf("%s/api/v1/nearby?lon=%v&lat=%v&radius=200%s", f.srv.URL, p[0], p[1], extra)
				}
				return out
			}
			for _, c := range []struct {
				name, query, enc string
			}{
				{"nearby-200m/full", "", ""},
				{"nearby-200m/fields=id", "&fields=id", ""},
				{"nearby-200m/format=ids", "&format=ids", ""},
				{"nearby-200m/count_only", "&count_only=true", ""},
				{"nearby-200m/full-gzip", "", "gzip"},
				{"nearby-200m/full-zstd", "", "zstd"},
			} {
				b.Run(c.name, func(b *testing.B) {
					h := http.Header{}
					if c.enc != "" {
						h.Set("Accept-Encoding", c.enc)
					}
					runHTTP(b, nearby(c.query), h)
				})
			}
			// full answers from a server with a cache of encoded features
			// (server.Options.AnswerCacheBytes) large enough for every
			// feature the query points reach: the first client's run fills
			// it (its hits are the features shared with earlier answers),
			// the second's finds the same points' features in it
			b.Run("nearby-200m/full-cached", func(b *testing.B) {
				h, err := server.New(server.Deps{Index: f.d.Index, Zones: f.zones}, server.Options{AnswerCacheBytes: 2 << 30})
				if err != nil {
					b.Fatal(err)
				}
				srv := httptest.NewServer(h)
				defer srv.Close()
				urls := nearby("")
				for i := range urls {
					urls[i] = srv.URL + strings.TrimPrefix(urls[i], f.srv.URL)
				}
				runHTTP(b, urls, nil)
			})
			b.Run("knearest-k10", func(b *testing.B) {
				urls := make([]string, len(pts))
				for i, p := range pts {
					urls[i] = fmt.Sprintf("%s/api/v1/knearest?lon=%v&lat=%v&k=10", f.srv.URL, p[0], p[1])
				}
				runHTTP(b, urls, nil)
			})
			b.Run("zones", func(b *testing.B) {
				urls := make([]string, len(pts))
				for i, p := range pts {
					urls[i] = fmt.Sprintf("%s/api/v1/zones?lon=%v&lat=%v", f.srv.URL, p[0], p[1])
				}
				runHTTP(b, urls, nil)
			})
			b.Run("search", func(b *testing.B) {
				f := loadHTTP(b, n, true)
				for _, kind := range searchKinds(f) {
					b.Run(kind.name, func(b *testing.B) {
						urls := make([]string, len(kind.queries))
						for i, q := range kind.queries {
							urls[i] = f.srv.URL + "/api/v1/search?q=" + url.QueryEscape(q)
						}
						runHTTP(b, urls, nil)
					})
				}
			})
		})
	}
}

type searchKind struct {
	name    string
	queries []string
}

// searchKinds are the search query kinds, drawn from the dataset: the
// registered name, the short name people use, its first character, its
// first two characters,
// a fragment of the address, a place name with a typo, and names of no
// entity.
func searchKinds(f *httpFixture) []searchKind {
	reg, _ := demo.Region()
	np := search.NewNameParser(reg)
	ents := f.d.Demo.Entities
	var full, short, one, two, addr, typo []string
	step := max(1, len(ents)/500)
	for i := 0; i < len(ents); i += step {
		e := &ents[i]
		full = append(full, e.Name)
		s := np.Parse(e.Name).Short
		short = append(short, s)
		if rs := []rune(s); len(rs) >= 2 {
			one = append(one, string(rs[:1]))
			two = append(two, string(rs[:2]))
		}
		if a := []rune(e.Address); len(a) > 8 {
			addr = append(addr, string(a[3:9]))
		}
	}
	for _, p := range f.d.Demo.Places {
		if rs := []rune(p.Name); len(rs) >= 3 {
			rs[len(rs)/2] = '口'
			typo = append(typo, string(rs))
		}
	}
	return []searchKind{
		{"full_name", full}, {"short_name", short}, {"1_char", one}, {"2_char", two}, {"address", addr}, {"typo", typo},
		{"nonexistent", []string{"火星量子引力研究所", "乌鲁木齐雪豹养殖场", "张三李四网吧", "xyzzyqwv", "鼋鼍"}},
	}
}

// BenchmarkAnswerEncode: a nearby 200 m query and its answer written by
// geojsonw into a reused buffer, without HTTP: the share of the answer
// that is ours (full properties and fields=id), beside the query alone,
// with and without geojsonw.Touch ahead of the writer. cpu-µs/answer is the
// process's CPU time (one goroutine: the benchmark's and the collector's),
// which a loaded machine inflates less than the wall time. Run with -cpu 1.
func BenchmarkAnswerEncode(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		snap := d.Index.Snapshot()
		runtime.GC()
		for _, c := range []struct {
			name   string
			fields geo.FieldSet
			encode bool
			touch  bool // geojsonw.Touch ahead of the writer, as the server does
			cache  int  // 1: a FeatureCache (4 GiB) filled as the answers are written; 2: filled beforehand with every query's answer; 3: as 1 bounded to 256 MiB
		}{{"query-only", geo.AllFields(), false, false, 0}, {"full-no-touch", geo.AllFields(), true, false, 0}, {"full", geo.AllFields(), true, true, 0},
			{"full-cache-cold", geo.AllFields(), true, true, 1}, {"full-cache-warm", geo.AllFields(), true, true, 2},
			{"full-cache-256MiB", geo.AllFields(), true, true, 3},
			{"fields=id-no-touch", geo.NewFieldSet(geo.FieldID), true, false, 0}, {"fields=id", geo.NewFieldSet(geo.FieldID), true, true, 0}} {
			b.Run(sizeName(n)+"/r200m/"+c.name, func(b *testing.B) {
				enc := geojsonw.NewEncoder(crs.WGS84, c.fields)
				var cache *geojsonw.FeatureCache
				if c.cache > 0 {
					size := int64(4 << 30)
					if c.cache == 3 {
						size = 256 << 20
					}
					cache = geojsonw.NewFeatureCache(crs.WGS84, c.fields, true, size)
					enc = enc.WithCache(cache)
				}
				if c.cache == 2 {
					var buf []byte
					for _, p := range d.Queries {
						res, err := snap.Nearby(ctx, geo.LayerEntities, p, 200, geo.Query{Limit: 1000})
						if err != nil {
							b.Fatal(err)
						}
						for j := range res.Hits {
							buf = enc.AppendHit(buf[:0], false, &res.Hits[j], geojsonw.Extra{Distance: true})
						}
					}
					runtime.GC()
				}
				var hits []geo.Hit
				var buf []byte
				bytes := 0
				b.ReportAllocs()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					res, err := snap.Nearby(ctx, geo.LayerEntities, d.Queries[i%len(d.Queries)], 200, geo.Query{Limit: 1000, Reuse: hits})
					if err != nil {
						b.Fatal(err)
					}
					hits = res.Hits
					if !c.encode {
						continue
					}
					buf = geojsonw.AppendCollectionStart(buf[:0])
					for j := range res.Hits {
						if c.touch && j%geojsonw.TouchAhead == 0 {
							for k := j; k < min(j+geojsonw.TouchAhead, len(res.Hits)); k++ {
								enc.Touch(&res.Hits[k])
							}
						}
						buf = enc.AppendHit(buf, j > 0, &res.Hits[j], geojsonw.Extra{Distance: true})
					}
					buf = geojsonw.AppendCollectionEnd(buf)
					bytes += len(buf)
				}
				cpu := cpuTime() - cpu0
				if cache != nil {
					b.ReportMetric(float64(cache.Bytes())/(1<<20), "cache-MiB")
					b.ReportMetric(float64(cache.Len()), "cache-features")
				}
				b.ReportMetric(float64(bytes)/float64(b.N), "bytes/answer")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/answer")
			})
		}
	}
}
