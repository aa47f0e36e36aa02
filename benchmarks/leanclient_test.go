package benchmarks

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestLeanClient: the benchmarks' lean client reads, on one keep-alive
// connection, the same status and body bytes as net/http's client, for
// answers with a Content-Length, streamed (chunked) answers of many
// chunks, empty answers and error statuses, with request headers passed.
func TestLeanClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		if status == 0 {
			status = http.StatusOK
		}
		if r.Header.Get("X-Probe") != "p" {
			status = http.StatusBadRequest // the request's header was not passed
		}
		// the body and the chunk sizes follow from the request alone
		rng := rand.New(rand.NewPCG(uint64(n), uint64(status)))
		body := make([]byte, n)
		for i := range body {
			body[i] = byte('a' + rng.IntN(26))
		}
		if r.URL.Query().Has("stream") { // chunked: flushed in pieces
			w.WriteHeader(status)
			for len(body) > 0 {
				k := min(len(body), 1+rng.IntN(9000))
				_, _ = w.Write(body[:k])
				w.(http.Flusher).Flush()
				body = body[k:]
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	lc, err := dialLean(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	buf := make([]byte, 4096)
	hdr := http.Header{"X-Probe": {"p"}}
	for _, target := range []string{"/?n=0", "/?n=10", "/?n=100000", "/?n=5&status=404", "/?n=20000", "/?n=70000&stream=1",
		"/?n=1&stream=1", "/?n=0&stream=1", "/?n=3000&stream=1&status=500", "/?n=123"} {
		req, err := leanRequest(srv.URL+target, hdr)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		status, err := lc.Do(req, &got, buf)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		hreq, _ := http.NewRequest(http.MethodGet, srv.URL+target, nil)
		hreq.Header = hdr
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if status != resp.StatusCode || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%s: lean client status %d, %d bytes; net/http %d, %d bytes", target, status, got.Len(), resp.StatusCode, len(want))
		}
	}
}
