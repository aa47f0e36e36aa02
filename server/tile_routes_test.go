package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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
		{"/tiles/roads/3/1/1.mvt", 404},
		{"/tiles/entities/5/0/0.mvt", 204},
		{"/tiles/roads.json", 404},
	} {
		if r := do(h, "GET", c.url, nil); r.Code != c.code {
			t.Errorf("%s: %d, want %d (%s)", c.url, r.Code, c.code, r.Body.String())
		}
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
// HTTP server by concurrent keep-alive clients (reported as tiles/s).
func BenchmarkCachedTilesHTTP(b *testing.B) {
	h, idx := tileServer(b, 79000)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := idx.Snapshot().Bounds().Center()
	var urls []string
	for _, z := range []int{11, 12, 13, 14} {
		tl := maptile.At(c, maptile.Zoom(z))
		for dx := -1; dx <= 1; dx++ {
			urls = append(urls, srv.URL+"/tiles/entities/"+tileItoa(z)+"/"+tileItoa(int(tl.X)+dx)+"/"+tileItoa(int(tl.Y))+".mvt")
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	get := func(u string) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, u := range urls {
		get(u) // warm the cache
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			get(urls[i%len(urls)])
			i++
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(t0).Seconds(), "tiles/s")
}
