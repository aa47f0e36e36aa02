package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
)

var zoneFix struct {
	sync.Once
	f   fixture
	h   http.Handler
	zi  *zoneid.Identifier
	err error
}

// zoneServer serves a 6,000-entity demo region with the address database
// and zone identification (its own fixture, usable from benchmarks).
func zoneServer(t testing.TB) (fixture, http.Handler, *zoneid.Identifier) {
	t.Helper()
	zoneFix.Do(func() {
		ds, err := demo.Generate(demo.Options{Entities: 6000})
		if err != nil {
			zoneFix.err = err
			return
		}
		idx, _ := geo.New(geo.Options{})
		if zoneFix.err = ds.Load(idx); zoneFix.err != nil {
			return
		}
		db, err := demoAddressDB()
		if err != nil {
			zoneFix.err = err
			return
		}
		if _, zoneFix.err = addressmatch.Follow(db, idx); zoneFix.err != nil {
			return
		}
		rules, err := zoneid.ParseRules(bytes.NewReader(demo.RulesJSON()))
		if err != nil {
			zoneFix.err = err
			return
		}
		if zoneFix.zi, zoneFix.err = zoneid.New(idx, zoneid.Options{Rules: rules}); zoneFix.err != nil {
			return
		}
		zoneFix.f = fixture{idx: idx, ds: ds, db: db}
		zoneFix.h, zoneFix.err = New(Deps{Index: idx, Addresses: db, Zones: zoneFix.zi}, Options{})
		zoneFix.f.h = zoneFix.h
	})
	if zoneFix.err != nil {
		t.Fatal(zoneFix.err)
	}
	return zoneFix.f, zoneFix.h, zoneFix.zi
}

type zonesResp struct {
	InFTZ   *bool `json:"in_ftz"`
	FTZArea *struct {
		ID string `json:"id"`
	} `json:"ftz_area"`
	Grid *struct {
		ID, Name, Inspector, Team string
	} `json:"grid"`
	Zones []struct {
		Layer, ID, Name string
	} `json:"zones"`
	Precision    string    `json:"precision"`
	Location     []float64 `json:"location"`
	FTZBoundaryM *float64  `json:"ftz_boundary_m"`
}

func getZones(t *testing.T, h http.Handler, q url.Values) (int, zonesResp) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/zones?"+q.Encode(), nil))
	var z zonesResp
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &z); err != nil {
			t.Fatalf("%v: %v\n%s", q, err, rec.Body.String())
		}
	}
	return rec.Code, z
}

// TestZonesEndpointCRS: entities' points in all three CRS give the
// entity's grid and the same zones.
func TestZonesEndpointCRS(t *testing.T) {
	f, h, zi := zoneServer(t)
	n := 0
	inFTZ := 0
	f.idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		n++
		if n%20 != 0 {
			return true
		}
		want, _ := zi.Identify(bg(), e.Location)
		for _, c := range []crs.CRS{crs.WGS84, crs.GCJ02, crs.BD09} {
			lon, lat := crs.FromWGS84(c, e.Location[0], e.Location[1])
			q := url.Values{"lon": {fmt.Sprint(lon)}, "lat": {fmt.Sprint(lat)}, "crs": {string(c)}}
			code, z := getZones(t, h, q)
			if code != 200 {
				t.Fatalf("%v: status %d", q, code)
			}
			g := ""
			if z.Grid != nil {
				g = z.Grid.ID
			}
			if g != e.GridID {
				t.Fatalf("entity %s via %s: grid %q, entity GridID %q", e.ID, c, g, e.GridID)
			}
			if z.InFTZ == nil || *z.InFTZ != (want.InFTZ == zoneid.Inside) || len(z.Zones) != len(want.Zones) {
				t.Fatalf("entity %s via %s: %+v, want %+v", e.ID, c, z, want)
			}
			if z.Precision != "point" || z.Location[0] != roundTo(lon, 7) {
				t.Fatalf("precision %q location %v", z.Precision, z.Location)
			}
		}
		if want.InFTZ == zoneid.Inside {
			inFTZ++
		}
		return true
	})
	if inFTZ == 0 {
		t.Fatal("no sampled entity in the FTZ: the test proves little")
	}
}

func TestZonesEndpointAddress(t *testing.T) {
	f, h, _ := zoneServer(t)
	checked, certain := 0, 0
	for i, e := range f.ds.Entities {
		if i%50 != 0 || e.Address == "" {
			continue
		}
		ent, _ := f.idx.Snapshot().Entity(e.ID)
		code, z := getZones(t, h, url.Values{"address": {e.Address}})
		if code != 200 {
			t.Fatalf("%s: status %d", e.Address, code)
		}
		if z.Precision != "address" && z.Precision != "building" {
			continue
		}
		checked++
		if z.Grid != nil && z.Grid.ID != ent.GridID {
			t.Fatalf("%s: grid %s, entity grid %s", e.Address, z.Grid.ID, ent.GridID)
		}
		if z.InFTZ == nil {
			if z.FTZBoundaryM == nil || *z.FTZBoundaryM > 30 {
				t.Fatalf("%s: uncertain %v m from the FTZ boundary", e.Address, z.FTZBoundaryM)
			}
		} else {
			certain++
		}
	}
	if checked < 10 || certain == 0 {
		t.Fatalf("only %d addresses geocoded to address level, %d certain", checked, certain)
	}
	for _, a := range []string{"重庆市渝北区", "重庆市", "重庆市江北区"} {
		code, z := getZones(t, h, url.Values{"address": {a}})
		if code != 200 || z.InFTZ != nil || z.FTZArea != nil || z.Grid != nil {
			t.Fatalf("%s: status %d, %+v: want in_ftz null", a, code, z)
		}
		if z.Precision != "district" && z.Precision != "city" && z.Precision != "none" {
			t.Fatalf("%s: precision %q", a, z.Precision)
		}
	}
}

func TestZonesEndpointErrors(t *testing.T) {
	_, h, _ := zoneServer(t)
	for _, c := range []struct {
		path string
		code int
	}{
		{"/api/v1/zones", 400},
		{"/api/v1/zones?lon=106.5", 400},
		{"/api/v1/zones?lon=200&lat=29", 400},
		{"/api/v1/zones?lon=106.5&lat=29.6&crs=utm", 400},
		{"/api/v1/zones?lon=106.5&lat=29.6&address=x", 400},
		{"/api/v1/grids/nope/summary", 404},
		{"/api/v1/grids/D500112/summary", 404},
		{"/api/v1/rules/violations?rule=nope", 404},
		{"/api/v1/rules/violations?limit=0", 400},
	} {
		rec, _ := get(t, h, c.path)
		if rec.Code != c.code {
			t.Errorf("%s: status %d, want %d: %s", c.path, rec.Code, c.code, rec.Body.String())
		}
	}
	for _, c := range []struct {
		body string
		code int
	}{
		{`{"lon":106.5,"lat":29.6}`, 400},
		{`{"lon":106.5,"lat":29.6,"industry":"火星采矿"}`, 400},
		{`{"industry":"R9013"}`, 400},
		{`{"lon":106.5,"industry":"R9013"}`, 400},
		{`{"lon":106.5,"lat":29.6,"industry":"R9013","radius":3}`, 400},
		{`{"address":"x","lon":106.5,"lat":29.6,"industry":"R9013"}`, 400},
	} {
		rec, _ := post(t, h, "/api/v1/rules/check", c.body)
		if rec.Code != c.code {
			t.Errorf("%s: status %d, want %d: %s", c.body, rec.Code, c.code, rec.Body.String())
		}
	}
	noZones, _ := New(Deps{Index: zoneFix.f.idx}, Options{})
	if rec, _ := get(t, noZones, "/api/v1/zones?lon=106.5&lat=29.6"); rec.Code != 503 {
		t.Errorf("without zones: %d", rec.Code)
	}
}

func TestGridSummaryEndpoint(t *testing.T) {
	f, h, _ := zoneServer(t)
	var e0 *geo.Entity
	f.idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if e.GridID != "" && (e.Risk == geo.RiskC || e.Risk == geo.RiskD) {
			e0 = e
			return false
		}
		return true
	})
	rec, body := get(t, h, "/api/v1/grids/"+e0.GridID+"/summary")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	sup := body["supervise"].([]any)
	found := false
	for _, s := range sup {
		if s.(map[string]any)["id"] == e0.ID {
			found = true
		}
	}
	if !found || body["entities"].(float64) < 1 || body["grid"].(map[string]any)["inspector"] == "" {
		t.Fatalf("entity %s (risk %s) not in its grid's supervise list: %v", e0.ID, e0.Risk, body)
	}
}

func TestRulesCheckEndpoint(t *testing.T) {
	f, h, _ := zoneServer(t)
	var school geo.Place
	for _, p := range f.ds.Places {
		if p.Kind == "school" {
			school = p
			break
		}
	}
	// 120 m east of the school, in GCJ-02
	p := orb.Point{school.Location[0] + 120/(111195*cosd(school.Location[1])), school.Location[1]}
	lon, lat := crs.FromWGS84(crs.GCJ02, p[0], p[1])
	rec, body := post(t, h, "/api/v1/rules/check", fmt.Sprintf(`{"lon":%v,"lat":%v,"crs":"gcj02","industry":"r9013"}`, lon, lat))
	if rec.Code != 200 || body["allowed"] != false {
		t.Fatalf("%d %v", rec.Code, body)
	}
	v := body["violations"].([]any)[0].(map[string]any)
	pl := v["places"].([]any)
	d := -1.0
	for _, x := range pl {
		if x.(map[string]any)["id"] == school.ID {
			d = x.(map[string]any)["distance_m"].(float64)
		}
	}
	if d < 119 || d > 121 {
		t.Fatalf("school %s at %v m, want 120: %v", school.ID, d, pl)
	}
	rec, body = post(t, h, "/api/v1/rules/check", fmt.Sprintf(`{"lon":%v,"lat":%v,"crs":"gcj02","industry":"I6510"}`, lon, lat))
	if rec.Code != 200 || body["allowed"] != true {
		t.Fatalf("software company: %d %v", rec.Code, body)
	}
	rec, body = post(t, h, "/api/v1/rules/check", `{"address":"重庆市渝北区","industry":"R9013"}`)
	if rec.Code != 200 || body["allowed"] != nil {
		t.Fatalf("district-level address: %d %v", rec.Code, body)
	}
}

type batchLine struct {
	Index   int    `json:"index"`
	ID      string `json:"id"`
	Error   string `json:"error"`
	InFTZ   bool   `json:"in_ftz"`
	FTZArea *struct {
		ID string `json:"id"`
	} `json:"ftz_area"`
	Grid *struct {
		ID        string `json:"id"`
		Inspector string `json:"inspector"`
	} `json:"grid"`
	Zones []struct {
		Layer, ID, Name string
	} `json:"zones"`
	Summary *struct {
		Done, Total int
		Complete    bool
	} `json:"summary"`
}

// readBatch reads the lines of a batch answer and checks its summary line:
// last, complete, counting every line.
func readBatch(t *testing.T, r io.Reader) []batchLine {
	t.Helper()
	var out []batchLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l batchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if l.Summary != nil {
			if !l.Summary.Complete || l.Summary.Done != len(out) || l.Summary.Total != len(out) {
				t.Fatalf("summary %+v after %d lines", *l.Summary, len(out))
			}
			if sc.Scan() {
				t.Fatalf("a line after the summary: %s", sc.Text())
			}
			return out
		}
		out = append(out, l)
	}
	t.Fatalf("no summary line after %d lines", len(out))
	return out
}

func TestZonesBatch(t *testing.T) {
	f, h, zi := zoneServer(t)
	r := rand.New(rand.NewPCG(1, 1))
	var pts []orb.Point
	f.idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if r.IntN(10) == 0 {
			pts = append(pts, e.Location)
		}
		return len(pts) < 500
	})
	for i := 0; i < 500; i++ {
		pts = append(pts, orb.Point{106.3 + r.Float64()*0.7, 29.4 + r.Float64()*0.6})
	}
	check := func(name string, lines []batchLine, ids bool) {
		if len(lines) != len(pts) {
			t.Fatalf("%s: %d lines for %d points", name, len(lines), len(pts))
		}
		for i, l := range lines {
			want, _ := zi.Identify(bg(), pts[i])
			if l.Index != i || l.Error != "" || l.InFTZ != (want.InFTZ == zoneid.Inside) || len(l.Zones) != len(want.Zones) ||
				(l.Grid == nil) != (want.Grid == nil) || l.Grid != nil && l.Grid.ID != want.Grid.ID {
				t.Fatalf("%s: line %d %+v, want %+v", name, i, l, want)
			}
			for k, z := range l.Zones {
				if z.ID != want.Zones[k].ID || z.Layer != want.Zones[k].Layer || z.Name != want.Zones[k].Name {
					t.Fatalf("%s: line %d zone %d %+v", name, i, k, z)
				}
			}
			if ids && l.ID != fmt.Sprint("p", i) {
				t.Fatalf("%s: line %d id %q", name, i, l.ID)
			}
		}
	}
	// JSON object in BD-09 (crs in the body)
	var jb bytes.Buffer
	jb.WriteString(`{"crs":"bd09","points":[`)
	for i, p := range pts {
		if i > 0 {
			jb.WriteByte(',')
		}
		lon, lat := crs.FromWGS84(crs.BD09, p[0], p[1])
		fmt.Fprintf(&jb, "[%v,%v]", lon, lat)
	}
	jb.WriteString(`],"ids":[`)
	for i := range pts {
		if i > 0 {
			jb.WriteByte(',')
		}
		fmt.Fprintf(&jb, `"p%d"`, i)
	}
	jb.WriteString("]}")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/zones/batch", &jb))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson; charset=utf-8" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	check("json bd09", readBatch(t, rec.Body), true)
	// NDJSON in GCJ-02 (crs in the query), mixing both line shapes
	var nb bytes.Buffer
	for i, p := range pts {
		lon, lat := crs.FromWGS84(crs.GCJ02, p[0], p[1])
		if i%2 == 0 {
			fmt.Fprintf(&nb, "[%v, %v]\n", lon, lat)
		} else {
			fmt.Fprintf(&nb, "{\"lon\":%v,\"lat\":%v}\n\n", lon, lat)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/zones/batch?crs=gcj02", &nb))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	check("ndjson gcj02", readBatch(t, rec.Body), false)

	for _, c := range []struct {
		name, body string
		code       int
	}{
		{"empty", "", 400},
		{"garbage", "hello\n", 400},
		{"three numbers", "[1,2,3]\n", 400},
		{"json 3 numbers", `{"points":[[1,2,3]]}`, 400},
		{"ids length", `{"points":[[1,2]],"ids":[]}`, 400},
		{"unknown field", `{"points":[[1,2]],"radius":1}`, 400},
		{"bad crs", `{"points":[[1,2]],"crs":"utm"}`, 400},
		{"hex", "[0x1p3, 2]\n", 400},
		{"NaN", "[NaN, 2]\n", 400},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/zones/batch", strings.NewReader(c.body)))
		if rec.Code != c.code {
			t.Errorf("%s: %d, want %d: %s", c.name, rec.Code, c.code, rec.Body.String())
		}
	}
	// out-of-range point: an error line, the others answered
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/zones/batch", strings.NewReader("[106.5,29.6]\n[500,1]\n")))
	lines := readBatch(t, rec.Body)
	if len(lines) != 2 || lines[0].Error != "" || lines[1].Error == "" {
		t.Fatalf("%+v", lines)
	}
	// more than 100,000 points
	var big bytes.Buffer
	for i := 0; i <= maxBatchPoints; i++ {
		big.WriteString("[106.5,29.6]\n")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/zones/batch", &big))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("100,001 points: %d", rec.Code)
	}
}

func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`{"points":[[106.5,29.6],[1,2]],"ids":["a","b"],"crs":"gcj02"}`))
	f.Add([]byte("[106.5,29.6]\n{\"lon\":1,\"lat\":2,\"id\":\"x\"}\n\n"))
	f.Add([]byte(`{"lon":1,"lat":2}`))
	f.Add([]byte("[1e400, -0]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := parseBatch(b, 1000)
		if err != nil {
			if statusOf(err) != 400 && statusOf(err) != 413 {
				t.Fatalf("status %d for %v", statusOf(err), err)
			}
			return
		}
		if len(in.points) == 0 || len(in.points) > 1000 {
			t.Fatalf("%d points", len(in.points))
		}
	})
}

// BenchmarkZonesBatch posts 100,000 points (JSON, WGS-84, uniform over the
// demo grids) to a real HTTP server and reads the whole NDJSON answer.
func BenchmarkZonesBatch(b *testing.B) {
	for _, shape := range []string{"json", "ndjson"} {
		b.Run(shape, func(b *testing.B) {
			f, h, _ := zoneServer(b)
			srv := httptest.NewServer(h)
			defer srv.Close()
			var gb orb.Bound
			first := true
			for _, z := range f.ds.Zones {
				if z.Layer == "grid" {
					if first {
						gb, first = z.Geometry.Bound(), false
					}
					gb = gb.Union(z.Geometry.Bound())
				}
			}
			r := rand.New(rand.NewPCG(7, 7))
			var body bytes.Buffer
			const n = maxBatchPoints
			if shape == "json" {
				body.WriteString(`{"points":[`)
			}
			for i := 0; i < n; i++ {
				lon := gb.Min[0] + r.Float64()*(gb.Max[0]-gb.Min[0])
				lat := gb.Min[1] + r.Float64()*(gb.Max[1]-gb.Min[1])
				if shape == "json" {
					if i > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, "[%.6f,%.6f]", lon, lat)
				} else {
					fmt.Fprintf(&body, "[%.6f,%.6f]\n", lon, lat)
				}
			}
			if shape == "json" {
				body.WriteString("]}")
			}
			payload := body.Bytes()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			start := time.Now()
			var outBytes int64
			for i := 0; i < b.N; i++ {
				resp, err := http.Post(srv.URL+"/api/v1/zones/batch", "application/json", bytes.NewReader(payload))
				if err != nil {
					b.Fatal(err)
				}
				nb, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				outBytes += nb
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(n*b.N)/el, "points/s")
			b.ReportMetric(float64(outBytes)/float64(b.N)/float64(n), "out-B/point")
		})
	}
}

func bg() context.Context { return context.Background() }

func cosd(lat float64) float64 { return math.Cos(lat * math.Pi / 180) }
