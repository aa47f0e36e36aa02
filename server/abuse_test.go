package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listenWith serves h on a loopback port with the options' listener.
func listenWith(t *testing.T, o Options, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := o.HTTPServer("", h)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d (a read
// returns an error or EOF).
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		if _, err := conn.Read(buf); err != nil {
			ne, ok := err.(net.Error)
			return !(ok && ne.Timeout())
		}
	}
}

// Slow clients are cut off by the listener's timeouts: a header sent a
// byte at a time, a body trickled, an idle keep-alive connection; others
// are served meanwhile.
func TestSlowClients(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{})
	o := Options{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 800 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}
	addr := listenWith(t, o, f.h)
	trickle := func(conn net.Conn, s string, stop <-chan struct{}) {
		for i := 0; i < len(s); i++ {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{s[i]}); err != nil {
				return
			}
		}
	}
	for _, c := range []struct{ name, head, body string }{
		{"header byte by byte", "", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100) + "\r\n\r\n"},
		{"body trickled", "POST /api/v1/address/parse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tokRead + "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n", `{"address":"` + strings.Repeat("重", 60) + `"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, c.head); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			defer close(stop)
			go trickle(conn, c.body, stop)
			start := time.Now()
			// meanwhile another client is served
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("another client: %v %v", err, resp)
			}
			resp.Body.Close()
			if !closedWithin(conn, 3*time.Second) {
				t.Fatalf("the slow connection is still open after %v", time.Since(start))
			}
		})
	}
	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", err, resp)
		}
		io.Copy(io.Discard, resp.Body)
		if !closedWithin(conn, 2*time.Second) {
			t.Fatal("an idle keep-alive connection is kept")
		}
	})
}

// 1,000 requests a second from one client: beyond its bucket it gets 429
// with Retry-After, the number served is what the bucket allows, and
// another client is served all the while.
func TestRateLimitOneClient(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{RateLimit: 50, RateBurst: 20})
	codes := map[int]int{}
	start := time.Now()
	other := 0
	for i := 0; i < 1000; i++ {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.RemoteAddr = "10.1.1.1:4000"
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		codes[rec.Code]++
		if rec.Code == 429 && (rec.Header().Get("Retry-After") == "" || jsonError(rec) == "") {
			t.Fatalf("429 without Retry-After or JSON: %v %s", rec.Header(), rec.Body.String())
		}
		if i%100 == 0 {
			req := httptest.NewRequest("GET", "/healthz", nil)
			req.RemoteAddr = "10.2.2.2:4000"
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code == 200 {
				other++
			}
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start).Seconds()
	allowed := 20 + 50*el
	if codes[200] > int(allowed)+2 || codes[200] < 20 || codes[429] < 1000-int(allowed)-2 || codes[200]+codes[429] != 1000 {
		t.Fatalf("codes %v in %.2f s; the bucket allows %.0f", codes, el, allowed)
	}
	if other != 10 {
		t.Fatalf("the other client was served %d of 10 times", other)
	}
	// a token's requests are counted under its name, not its address
	rec := call(f.h, "GET", "/healthz", "", tokRead)
	if rec.Code != 200 {
		t.Fatalf("a token from another bucket: %d", rec.Code)
	}
}

// Bad input gets a 4xx JSON error, never a 5xx or a panic.
func TestAbusiveInput(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{MaxBodyBytes: 4096, MaxBatchBodyBytes: 1 << 20})
	nested := `{"address":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`
	long := strings.Repeat("a", 7000)
	for _, c := range []struct {
		name, method, target, body string
		want                       int
	}{
		{"oversized JSON body", "POST", "/api/v1/address/check", `{"address":"` + strings.Repeat("x", 10000) + `"}`, 413},
		{"oversized batch body", "POST", "/api/v1/zones/batch", strings.Repeat("[106.5,29.6]\n", 100000), 413},
		{"oversized feature body", "PATCH", "/api/v1/entities/" + f.secretE, `{"properties":{"x":"` + strings.Repeat("x", 9<<20) + `"}}`, 413},
		{"deeply nested JSON", "POST", "/api/v1/address/check", nested[:4000], 400},
		{"deeply nested JSON, big", "POST", "/api/v1/rules/check", nested, 413},
		{"nested NDJSON bulk", "POST", "/api/v1/entities/bulk", `{"type":"Feature","properties":` + strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000) + "}\n", 400},
		{"invalid UTF-8 in JSON", "POST", "/api/v1/address/parse", "{\"address\":\"\xff\xfe\xfd重庆\"}", 200},
		{"invalid UTF-8 bytes as body", "POST", "/api/v1/address/check", "\xff\xfe\xfd", 400},
		{"invalid UTF-8 in the query", "GET", "/api/v1/search?q=%ff%fe", "", 400},
		{"hex float", "GET", "/api/v1/nearby?lon=0x1p-2&lat=29.6", "", 400},
		{"underscore number", "GET", "/api/v1/nearby?lon=1_000&lat=29.6", "", 400},
		{"infinity", "GET", "/api/v1/nearby?lon=Inf&lat=29.6", "", 400},
		{"plus sign", "GET", "/api/v1/knearest?lon=%2B106.5&lat=29.6", "", 400},
		{"150,000 industry prefixes", "GET", "/api/v1/nearby?lon=106.5&lat=29.6&industry=" + strings.Repeat("I65,", 150000), "", 414},
		{"65 distinct industries", "GET", "/api/v1/nearby?lon=106.5&lat=29.6&industry=" + industries(65), "", 400},
		{"many duplicates", "GET", "/api/v1/nearby?lon=106.5&lat=29.6&industry=" + strings.Repeat("I65,", 1500), "", 200},
		{"long path", "GET", "/api/v1/entities/" + long, "", 400},
		{"long tile layer", "GET", "/tiles/" + long + ".json", "", 404},
		{"path traversal", "GET", "/webmap/../../../etc/passwd", "", 301},
		{"encoded traversal", "GET", "/webmap/%2e%2e/%2e%2e/etc/passwd", "", 301}, // cleaned to /etc/passwd: a redirect to a 404
		{"encoded slash traversal", "GET", "/webmap/..%2f..%2fserver.go", "", 301},
		{"traversal inside the web map", "GET", "/webmap/vendor/../../server.go", "", 301},
		{"dot segment file", "GET", "/webmap/./app.js/..", "", 301},
		{"directory listing", "GET", "/webmap/vendor/", "", 404},
		{"missing web file", "GET", "/webmap/nope.js", "", 404},
		{"wrong method", "DELETE", "/api/v1/nearby", "", 405},
		{"wrong method on a subrouter route", "POST", "/api/v1/zones", "", 405},
		{"wrong method on the tiles", "POST", "/tiles/entities/5/0/0.mvt", "", 405},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := call(f.h, c.method, c.target, c.body, tokWrite)
			if rec.Code != c.want {
				t.Fatalf("%d, want %d: %.300s", rec.Code, c.want, rec.Body.String())
			}
			if c.want >= 400 {
				if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || jsonError(rec) == "" {
					t.Fatalf("not a JSON error: %v %.200s", rec.Header(), rec.Body.String())
				}
				if rec.Body.Len() > 1500 {
					t.Fatalf("the error echoes %d bytes", rec.Body.Len())
				}
			}
			if c.want == 405 && rec.Header().Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if strings.Contains(rec.Body.String(), "root:") {
				t.Fatal("a file outside the web map was served")
			}
			for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "X-Request-Id"} {
				if rec.Header().Get(h) == "" {
					t.Fatalf("no %s", h)
				}
			}
		})
	}
}

func industries(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "C%02d,", 13+i)
	}
	return b.String()
}

// HEAD works on every GET route (the same status as GET, no body).
func TestHeadOnEveryGet(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{})
	addr := listenWith(t, Options{}, f.h)
	for i := range f.srv.api.routes {
		rt := &f.srv.api.routes[i]
		if rt.Method != "GET" || rt.Path == "/api/v1/changes" {
			continue
		}
		target := "http://" + addr + sampleTarget(rt)
		do := func(method string) (*http.Response, []byte) {
			req, _ := http.NewRequest(method, target, nil)
			req.Header.Set("Authorization", "Bearer "+tokRead)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, b
		}
		g, _ := do("GET")
		h, body := do("HEAD")
		if h.StatusCode != g.StatusCode || len(body) != 0 {
			t.Errorf("HEAD %s: %d (%d bytes), GET %d", rt.Path, h.StatusCode, len(body), g.StatusCode)
		}
	}
}

// TileJSON's tile URLs: the configured base URL; without one, the request's
// host, and forwarding headers only from a trusted proxy, and then not
// cacheable by shared caches.
func TestTileJSONBaseURL(t *testing.T) {
	tileURLOf := func(h http.Handler, remote string, hdr ...string) (string, string) {
		req := httptest.NewRequest("GET", "/tiles/entities.json", nil)
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+tokRead)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		req.Host = "example.com"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var tj struct{ Tiles []string }
		if err := json.Unmarshal(rec.Body.Bytes(), &tj); err != nil || len(tj.Tiles) != 1 {
			t.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
		return tj.Tiles[0], rec.Header().Get("Cache-Control")
	}
	evil := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"}
	f := newProfileServer(t, ProfileInternal, Options{TrustedProxies: []string{"10.9.0.0/16"}})
	if u, cc := tileURLOf(f.h, "192.0.2.7:1", evil...); !strings.HasPrefix(u, "http://example.com/") || !strings.HasPrefix(cc, "private") {
		t.Fatalf("from a client: %s %s", u, cc)
	}
	if u, _ := tileURLOf(f.h, "10.9.1.1:1", evil...); !strings.HasPrefix(u, "https://evil.example/") {
		t.Fatalf("from the trusted proxy: %s", u)
	}
	g := newProfileServer(t, ProfileInternal, Options{PublicBaseURL: "https://map.example.gov.cn/"})
	if u, cc := tileURLOf(g.h, "192.0.2.7:1", evil...); u != "https://map.example.gov.cn/tiles/entities/{z}/{x}/{y}.mvt" || !strings.HasPrefix(cc, "public") {
		t.Fatalf("with a base URL: %s %s", u, cc)
	}
}

// A batch that cannot finish in time says so: 200 with the lines it did,
// then a summary line and the trailers reporting it incomplete. And
// batches beyond MaxConcurrentBatches are refused with 503 + Retry-After
// before their bodies are read.
func TestBatchLimits(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{RequestTimeout: 150 * time.Millisecond, MaxConcurrentBatches: 1})
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	addrs := make([]string, 10000)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("重庆市渝北区金开大道%d号", i+1)
	}
	body, _ := json.Marshal(map[string]any{"addresses": addrs})
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/address/batch", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+tokRead)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	lines, last := 0, ""
	for sc.Scan() {
		lines++
		last = sc.Text()
	}
	resp.Body.Close()
	var sum struct {
		Summary struct {
			Done, Total int
			Complete    bool
			Error       string
		}
	}
	if err := json.Unmarshal([]byte(last), &sum); err != nil || sum.Summary.Total != 10000 || sum.Summary.Complete || sum.Summary.Done != lines-1 || sum.Summary.Error == "" {
		t.Fatalf("%d lines, last %s", lines, last)
	}
	if resp.Trailer.Get("X-Marketgeo-Complete") != "false" || resp.Trailer.Get("X-Marketgeo-Done") != fmt.Sprint(lines-1) {
		t.Fatalf("trailers %v", resp.Trailer)
	}
	// one batch at a time: a second, while the first waits for its body.
	// The first may itself be refused when a probe holds the slot at the
	// moment it arrives; then the round starts again with a new first.
	refused := false
	for round := 0; round < 20 && !refused; round++ {
		pr, pw := io.Pipe()
		first := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/zones/batch", pr)
			req.Header.Set("Authorization", "Bearer "+tokRead)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				first <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			first <- resp.StatusCode
		}()
		pw.Write([]byte("[106.5,29.6]\n"))
		deadline := time.Now().Add(5 * time.Second)
		code := -1
	probe:
		for !refused && time.Now().Before(deadline) {
			select {
			case code = <-first: // refused or finished before a probe saw it hold the slot
				break probe
			default:
			}
			rec := call(f.h, "POST", "/api/v1/zones/batch", "[106.5,29.6]\n", tokRead)
			switch rec.Code {
			case 503:
				refused = rec.Header().Get("Retry-After") != ""
			case 200:
				time.Sleep(10 * time.Millisecond) // the first has not taken its slot yet
			default:
				t.Fatalf("second batch: %d %s", rec.Code, rec.Body.String())
			}
		}
		pw.Close()
		if code < 0 {
			code = <-first
		}
		if code != 200 && code != 504 && !(code == 503 && !refused) {
			t.Fatalf("first batch: %d", code)
		}
	}
	if !refused {
		t.Fatal("a second batch was not refused while the first held the only slot")
	}
}

// A panic in a handler is a logged 500 JSON answer with the request id;
// the server goes on.
func TestPanicRecovery(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{})
	f.srv.router.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := call(f.h, "GET", "/boom", "", tokRead, "X-Request-Id", "req-42")
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 500 || body["request_id"] != "req-42" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	logs := f.logText()
	if !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, "req-42") {
		t.Fatalf("not logged:\n%s", logs)
	}
	if rec := call(f.h, "GET", "/healthz", "", ""); rec.Code != 200 {
		t.Fatalf("after the panic: %d", rec.Code)
	}
}

// The public profile serves /metrics to Options.MetricsClients only
// (default loopback); to anyone else it is 404 like an unknown path.
// X-Forwarded-For is believed from a trusted proxy only. The internal
// profile's /metrics is an open path.
func TestMetricsClients(t *testing.T) {
	cases := []struct {
		name    string
		profile string
		opts    Options
		remote  string
		xff     string
		want    int
	}{
		{"public, loopback", ProfilePublic, Options{}, "127.0.0.1:4000", "", 200},
		{"public, loopback v6", ProfilePublic, Options{}, "[::1]:4000", "", 200},
		{"public, internet client", ProfilePublic, Options{}, "203.0.113.7:4000", "", 404},
		{"public, internet client claiming loopback", ProfilePublic, Options{}, "203.0.113.7:4000", "127.0.0.1", 404},
		{"public, configured scraper", ProfilePublic, Options{MetricsClients: []string{"10.1.0.0/16"}}, "10.1.2.3:4000", "", 200},
		{"public, loopback not configured", ProfilePublic, Options{MetricsClients: []string{"10.1.0.0/16"}}, "127.0.0.1:4000", "", 404},
		{"public, scraper behind a trusted proxy", ProfilePublic, Options{MetricsClients: []string{"10.1.2.3"}, TrustedProxies: []string{"192.0.2.9"}}, "192.0.2.9:4000", "10.1.2.3", 200},
		{"internal, any client", ProfileInternal, Options{}, "203.0.113.7:4000", "", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newProfileServer(t, c.profile, c.opts)
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.RemoteAddr = c.remote
			if c.xff != "" {
				req.Header.Set("X-Forwarded-For", c.xff)
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, c.want, rec.Body.String())
			}
			if c.want == 404 {
				unknown := httptest.NewRequest("GET", "/no-such-path", nil)
				unknown.RemoteAddr = c.remote
				ur := httptest.NewRecorder()
				f.h.ServeHTTP(ur, unknown)
				if ur.Body.String() != strings.ReplaceAll(rec.Body.String(), "/metrics", "/no-such-path") {
					t.Fatalf("the refusal %q differs from an unknown path's %q", rec.Body.String(), ur.Body.String())
				}
			} else if !strings.Contains(rec.Body.String(), "marketgeo_layer_features") {
				t.Fatalf("not the metrics: %.200s", rec.Body.String())
			}
		})
	}
	if err := (Options{MetricsClients: []string{"not-an-address"}}).Validate(); err == nil || !strings.Contains(err.Error(), "metrics client") {
		t.Fatalf("a bad metrics client: %v", err)
	}
}

// /metrics exposes the route histograms, status classes, layer sizes,
// tile cache, change-log sequence; /readyz waits for the addresses.
func TestMetricsAndReady(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{})
	call(f.h, "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", tokRead)
	call(f.h, "GET", "/api/v1/nearby?lon=x&lat=29.65", "", tokRead)
	tile := tileURL(f.ds.Entities[0].Location, 14, "entities")
	call(f.h, "GET", tile, "", tokRead)
	call(f.h, "GET", tile, "", tokRead)
	rec := call(f.h, "GET", "/metrics", "", "")
	m := rec.Body.String()
	for _, want := range []string{
		`marketgeo_http_request_duration_seconds_bucket{route="GET /api/v1/nearby",le=`,
		`marketgeo_http_requests_total{class="2xx",route="GET /api/v1/nearby"} 1`,
		`marketgeo_http_requests_total{class="4xx",route="GET /api/v1/nearby"} 1`,
		`marketgeo_http_requests_total{class="2xx",route="GET /tiles/{layer}/{z}/{x}/{y}.mvt"} 2`,
		fmt.Sprintf(`marketgeo_layer_features{layer="entities"} %d`, f.idx.Snapshot().Counts().Entities),
		"marketgeo_tile_cache_hits_total 1",
		"marketgeo_tile_cache_hit_ratio ",
		fmt.Sprintf("marketgeo_changelog_seq %d", f.srv.deps.Store.Seq()),
		"marketgeo_store_write_duration_seconds",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if rec := call(f.h, "GET", "/readyz", "", ""); rec.Code != 200 {
		t.Fatalf("readyz: %d %s", rec.Code, rec.Body.String())
	}
	d := f.srv.deps
	d.Addresses, d.AwaitAddresses = nil, true
	s, err := NewServer(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(s, "GET", "/readyz", "", ""); rec.Code != 503 {
		t.Fatalf("readyz before the addresses: %d", rec.Code)
	}
}

// decimalNumber accepts exactly the JSON number syntax, and its value is
// strconv's; the oracle of the syntax is encoding/json.
func FuzzDecimalNumber(f *testing.F) {
	for _, s := range []string{"106.5", "-0.25e3", "0x1p-2", "1_000", "Inf", "NaN", "+1", "1.", ".5", "1e", "00", "-", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := decimalNumber(s)
		var n json.Number
		jsonOK := len(s) <= 40 && json.Unmarshal([]byte(s), &n) == nil && string(n) == s
		if ok && !jsonOK {
			t.Fatalf("%q accepted, not a JSON number", s)
		}
		if ok {
			if w, err := n.Float64(); err != nil || w != v {
				t.Fatalf("%q = %v, json %v %v", s, v, w, err)
			}
		}
		if !ok && jsonOK {
			if _, err := n.Float64(); err == nil {
				t.Fatalf("%q refused, a finite JSON number", s)
			}
		}
	})
}

// Eight clients sending 60 MB batch bodies at once (chunked: no
// Content-Length to refuse them by) leave the heap bounded: each body is
// cut at MaxBatchBodyBytes and at most MaxConcurrentBatches are read at a
// time, the others refused with 503. Unbounded, the eight bodies alone
// would be 480 MB.
func TestConcurrentBatchBodiesBoundMemory(t *testing.T) {
	const clients, size = 8, 60 << 20
	f := newProfileServer(t, ProfileInternal, Options{})
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	codes := make([]int, clients)
	var wg sync.WaitGroup
	for i := range clients {
		path := "/api/v1/address/batch"
		if i%2 == 1 {
			path = "/api/v1/zones/batch"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// a JSON array of addresses that never ends within 60 MB
			body := io.MultiReader(strings.NewReader(`{"addresses": [`), &repeatReader{unit: []byte(`"重庆市渝北区金开大道1号",`), left: size})
			req, _ := http.NewRequest("POST", srv.URL+path, body)
			req.Header.Set("Authorization", "Bearer "+tokRead)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // the server may close the connection once the limit is read
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	growth := int64(peak.Load()) - int64(before.HeapAlloc)
	limit := int64(DefaultOptions().MaxBatchBodyBytes) * int64(DefaultOptions().MaxConcurrentBatches) * 4
	t.Logf("codes %v; heap %d MiB before, peak +%d MiB (bound %d MiB)", codes, before.HeapAlloc>>20, growth>>20, limit>>20)
	for i, c := range codes {
		if c != 0 && c != http.StatusRequestEntityTooLarge && c != http.StatusServiceUnavailable && c != http.StatusBadRequest {
			t.Errorf("client %d: HTTP %d, want 413 (too large), 503 (busy) or 400", i, c)
		}
	}
	if growth > limit {
		t.Fatalf("the heap grew by %d MiB for %d concurrent %d MB bodies; bound %d MiB", growth>>20, clients, size>>20, limit>>20)
	}
}

// repeatReader reads unit again and again, left bytes in all.
type repeatReader struct {
	unit []byte
	off  int
	left int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:min(len(p), n+r.left)], r.unit[r.off:])
		r.off = (r.off + c) % len(r.unit)
		n += c
		r.left -= c
	}
	return n, nil
}
