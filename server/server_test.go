package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

type fixture struct {
	idx *geo.Index
	ds  *demo.Dataset
	db  *addressmatch.DB
	h   http.Handler
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

// testServer serves a 6,000-entity demo region with the address database.
func testServer(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() {
		ds, err := demo.Generate(demo.Options{Entities: 6000})
		if err != nil {
			fixErr = err
			return
		}
		idx, _ := geo.New(geo.Options{})
		if err := ds.Load(idx); err != nil {
			fixErr = err
			return
		}
		db, err := demoAddressDB()
		if err != nil {
			fixErr = err
			return
		}
		if _, err := addressmatch.Follow(db, idx); err != nil {
			fixErr = err
			return
		}
		h, err := New(Deps{Index: idx, Addresses: db}, Options{})
		fix, fixErr = fixture{idx: idx, ds: ds, db: db, h: h}, err
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func get(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: invalid JSON: %v\n%s", path, err, rec.Body.String())
		}
	}
	return rec, body
}

func post(t *testing.T, h http.Handler, path, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	var out map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: invalid JSON: %v", path, err)
		}
	}
	return rec, out
}

type fc struct {
	Features []struct {
		ID       string `json:"id"`
		Geometry struct {
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Total     int  `json:"total"`
	Truncated bool `json:"truncated"`
}

func getFC(t *testing.T, h http.Handler, path string) fc {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body.String())
	}
	var out fc
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The nearby answer equals an independent brute-force distance computation.
func TestNearbyAgainstBruteForce(t *testing.T) {
	f := testServer(t)
	centres := []orb.Point{f.ds.Entities[0].Location, f.ds.Entities[777].Location, f.ds.Entities[3000].Location}
	for _, c := range centres {
		for _, radius := range []float64{200, 1000} {
			path := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=%v&limit=10000", c[0], c[1], radius)
			got := getFC(t, f.h, path)
			var want []string
			for _, e := range f.ds.Entities {
				if orbgeo.DistanceHaversine(c, e.Location)*geo.EarthRadius/orb.EarthRadius <= radius-1e-6 {
					want = append(want, e.ID)
				}
			}
			if got.Total != len(got.Features) || got.Truncated {
				t.Fatalf("total %d features %d truncated %v", got.Total, len(got.Features), got.Truncated)
			}
			ids := map[string]bool{}
			prev := -1.0
			for _, ft := range got.Features {
				ids[ft.ID] = true
				d := ft.Properties["distance_m"].(float64)
				if d < prev {
					t.Fatalf("not sorted by distance")
				}
				prev = d
				p := orb.Point{ft.Geometry.Coordinates[0], ft.Geometry.Coordinates[1]}
				if od := orbgeo.DistanceHaversine(c, p) * geo.EarthRadius / orb.EarthRadius; math.Abs(od-d) > 0.01 {
					t.Fatalf("distance_m %v, independent %v", d, od)
				}
			}
			for _, id := range want {
				if !ids[id] {
					t.Fatalf("%s missing from %s", id, path)
				}
			}
			if len(want) == 0 {
				t.Fatalf("empty answer at %v r=%v: test proves nothing", c, radius)
			}
		}
	}
}

func TestNearbyFiltersLimitAndCRS(t *testing.T) {
	f := testServer(t)
	c := f.ds.Entities[10].Location
	all := getFC(t, f.h, fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=2000&limit=10000", c[0], c[1]))
	cd := getFC(t, f.h, fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=2000&risk=C,D&limit=5", c[0], c[1]))
	wantCD := 0
	for _, ft := range all.Features {
		if r := ft.Properties["risk"]; r == "C" || r == "D" {
			wantCD++
		}
	}
	if cd.Total != wantCD || len(cd.Features) != min(5, wantCD) || cd.Truncated != (wantCD > 5) {
		t.Fatalf("risk filter: total %d (want %d), %d features, truncated %v", cd.Total, wantCD, len(cd.Features), cd.Truncated)
	}
	for _, ft := range cd.Features {
		if r := ft.Properties["risk"]; r != "C" && r != "D" {
			t.Fatalf("risk %v leaked through the filter", r)
		}
	}
	// GCJ-02 in, GCJ-02 out: same entities, coordinates shifted like the input.
	gLon, gLat := crs.WGS84ToGCJ02(c[0], c[1])
	g := getFC(t, f.h, fmt.Sprintf("/api/v1/nearby?lon=%.8f&lat=%.8f&radius=2000&limit=10000&crs=gcj02", gLon, gLat))
	if g.Total != all.Total {
		t.Fatalf("gcj02 total %d, wgs84 total %d", g.Total, all.Total)
	}
	e, _ := f.idx.Snapshot().Entity(g.Features[0].ID)
	x, y := crs.WGS84ToGCJ02(e.Location[0], e.Location[1])
	if math.Abs(x-g.Features[0].Geometry.Coordinates[0]) > 1e-7 || math.Abs(y-g.Features[0].Geometry.Coordinates[1]) > 1e-7 {
		t.Fatalf("output not in GCJ-02")
	}
	b := getFC(t, f.h, fmt.Sprintf("/api/v1/knearest?lon=%v&lat=%v&k=7&layer=places&kind=school", c[0], c[1]))
	if len(b.Features) != 7 {
		t.Fatalf("knearest returned %d", len(b.Features))
	}
	for _, ft := range b.Features {
		if ft.Properties["kind"] != "school" {
			t.Fatalf("kind filter ignored")
		}
	}
}

func TestBadParameters(t *testing.T) {
	f := testServer(t)
	cases := []struct{ name, path string }{
		{"no lon", "/api/v1/nearby?lat=29.6"},
		{"lat out of range", "/api/v1/nearby?lon=106.5&lat=95"},
		{"lon out of range", "/api/v1/nearby?lon=-181&lat=29"},
		{"lon not a number", "/api/v1/nearby?lon=abc&lat=29"},
		{"lon NaN", "/api/v1/nearby?lon=NaN&lat=29"},
		{"radius zero", "/api/v1/nearby?lon=106.5&lat=29.6&radius=0"},
		{"radius negative", "/api/v1/nearby?lon=106.5&lat=29.6&radius=-5"},
		{"radius too big", "/api/v1/nearby?lon=106.5&lat=29.6&radius=50001"},
		{"unknown layer", "/api/v1/nearby?lon=106.5&lat=29.6&layer=zones"},
		{"limit too big", "/api/v1/nearby?lon=106.5&lat=29.6&limit=10001"},
		{"limit zero", "/api/v1/nearby?lon=106.5&lat=29.6&limit=0"},
		{"bad risk", "/api/v1/nearby?lon=106.5&lat=29.6&risk=E"},
		{"bad status", "/api/v1/nearby?lon=106.5&lat=29.6&status=unknown"},
		{"bad crs", "/api/v1/nearby?lon=106.5&lat=29.6&crs=utm"},
		{"risk on places", "/api/v1/nearby?lon=106.5&lat=29.6&layer=places&risk=A"},
		{"k too big", "/api/v1/knearest?lon=106.5&lat=29.6&k=10001"},
		{"bad uscc", "/api/v1/entities/12345"},
		{"bad check digit", "/api/v1/entities/91330100716105852X"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, body := get(t, f.h, c.path)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body.String())
			}
			if msg, _ := body["error"].(string); msg == "" {
				t.Fatalf("no error message: %s", rec.Body.String())
			}
		})
	}
	rec, _ := get(t, f.h, "/api/v1/entities/91330100716105852F")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown entity: %d", rec.Code)
	}
	rec, _ = get(t, f.h, "/api/v1/nope")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", rec.Code)
	}
	rec, _ = post(t, f.h, "/api/v1/nearby", "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("wrong method: %d", rec.Code)
	}
}

func TestEntityAndHealth(t *testing.T) {
	f := testServer(t)
	e := f.ds.Entities[42]
	rec, body := get(t, f.h, "/api/v1/entities/"+e.ID)
	if rec.Code != 200 || body["id"] != e.ID {
		t.Fatalf("entity: %d %v", rec.Code, body)
	}
	props := body["properties"].(map[string]any)
	if props["name"] != e.Name || props["risk"] != string(e.Risk) {
		t.Fatalf("properties %v", props)
	}
	rec, body = get(t, f.h, "/healthz")
	if rec.Code != 200 || body["status"] != "ok" || int(body["entities"].(float64)) != 6000 {
		t.Fatalf("healthz %v", body)
	}
}

func TestAddressEndpoints(t *testing.T) {
	f := testServer(t)
	// a building with entities registered in it
	var addr string
	for _, b := range f.ds.Buildings {
		if b.Attrs["entity_count"] != "0" {
			addr = b.Address
			break
		}
	}
	rec, body := post(t, f.h, "/api/v1/address/check", fmt.Sprintf(`{"address":%q}`, addr))
	if rec.Code != 200 || body["verdict"] != "matched" || body["message"] == "" {
		t.Fatalf("check %q: %d %v", addr, rec.Code, body)
	}
	if cands := body["candidates"].([]any); len(cands) == 0 || cands[0].(map[string]any)["entity_count"].(float64) < 1 {
		t.Fatalf("candidates %v", body["candidates"])
	}
	_, body = post(t, f.h, "/api/v1/address/check", `{"address":"!!!@@@###"}`)
	if body["verdict"] != "invalid" {
		t.Fatalf("garbage: %v", body)
	}
	_, body = post(t, f.h, "/api/v1/address/parse", `{"address":"渝北区金开大道六十八号"}`)
	comps := body["components"].(map[string]any)
	if comps["road"] != "金开大道" || !strings.Contains(body["filled"].(string), "重庆市") {
		t.Fatalf("parse %v", body)
	}
	_, body = post(t, f.h, "/api/v1/address/compare", `{"a":"重庆市渝北区金开大道68号","b":"渝北区金开大道六十八号"}`)
	if body["label"] != "match" {
		t.Fatalf("compare %v", body)
	}
	bad := []struct {
		name, path, body string
		status           int
	}{
		{"empty", "/api/v1/address/check", `{"address":""}`, 400},
		{"too long", "/api/v1/address/check", fmt.Sprintf(`{"address":%q}`, strings.Repeat("路", 201)), 400},
		{"body too large", "/api/v1/address/check", `{"address":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"not json", "/api/v1/address/check", `address=x`, 400},
		{"unknown field", "/api/v1/address/check", `{"addr":"x"}`, 400},
		{"trailing data", "/api/v1/address/check", `{"address":"x"}{}`, 400},
		{"compare missing b", "/api/v1/address/compare", `{"a":"金开大道"}`, 400},
		{"batch empty", "/api/v1/address/batch", `{"addresses":[]}`, 400},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			rec, body := post(t, f.h, c.path, c.body)
			if rec.Code != c.status || body["error"] == nil {
				t.Fatalf("status %d (want %d): %s", rec.Code, c.status, rec.Body.String())
			}
		})
	}
	// batch: one NDJSON line per address, in order
	addrs := []string{addr, "不存在的路1号", ""}
	b, _ := json.Marshal(map[string]any{"addresses": addrs})
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/address/batch", strings.NewReader(string(b))))
	sc := bufio.NewScanner(rec.Body)
	var verdicts []string
	var summary map[string]any
	for i := 0; sc.Scan(); i++ {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if sum, ok := line["summary"].(map[string]any); ok {
			summary = sum
			if sc.Scan() {
				t.Fatalf("a line after the summary: %s", sc.Text())
			}
			break
		}
		if int(line["index"].(float64)) != i {
			t.Fatalf("line %d has index %v", i, line["index"])
		}
		verdicts = append(verdicts, line["verdict"].(string))
	}
	if strings.Join(verdicts, ",") != "matched,doubtful,invalid" {
		t.Fatalf("batch verdicts %v", verdicts)
	}
	if summary == nil || summary["done"] != 3.0 || summary["total"] != 3.0 || summary["complete"] != true {
		t.Fatalf("batch summary %v", summary)
	}
}

// Live updates are visible to the next request, for geo and addresses.
func TestLiveUpdate(t *testing.T) {
	f := testServer(t)
	e := f.ds.Entities[5]
	e.Name = "重庆实时更新测试有限公司"
	e.Location = orb.Point{106.40001, 29.40001}
	e.Address = "重庆市渝北区测试大道1号"
	if err := f.idx.UpsertEntity(e); err != nil {
		t.Fatal(err)
	}
	got := getFC(t, f.h, "/api/v1/nearby?lon=106.4&lat=29.4&radius=50")
	if len(got.Features) != 1 || got.Features[0].ID != e.ID {
		t.Fatalf("moved entity not found at its new place: %+v", got)
	}
	_, body := post(t, f.h, "/api/v1/address/check", `{"address":"重庆市渝北区测试大道1号"}`)
	if body["verdict"] != "matched" {
		t.Fatalf("new address not matched: %v", body)
	}
	if err := f.idx.Delete(geo.LayerEntities, e.ID); err != nil {
		t.Fatal(err)
	}
	rec, _ := get(t, f.h, "/api/v1/entities/"+e.ID)
	if rec.Code != 404 {
		t.Fatalf("deleted entity: %d", rec.Code)
	}
	_, body = post(t, f.h, "/api/v1/address/check", `{"address":"重庆市渝北区测试大道1号"}`)
	if body["verdict"] == "matched" {
		t.Fatalf("deleted address still matched")
	}
	_ = f.idx.UpsertEntity(f.ds.Entities[5]) // restore for other tests
}

func TestConcurrentReadsDuringWrites(t *testing.T) {
	f := testServer(t)
	c := f.ds.Entities[100].Location
	q := url.Values{"lon": {fmt.Sprint(c[0])}, "lat": {fmt.Sprint(c[1])}, "radius": {"500"}}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 200; i++ {
			e := f.ds.Entities[i%50]
			e.Location = orb.Point{e.Location[0] + 1e-6, e.Location[1]}
			_ = f.idx.UpsertEntity(e)
		}
	}()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				got := getFC(t, f.h, "/api/v1/nearby?"+q.Encode())
				ds := make([]float64, len(got.Features))
				for j, ft := range got.Features {
					ds[j] = ft.Properties["distance_m"].(float64)
				}
				if !sort.Float64sAreSorted(ds) {
					t.Error("torn read: unsorted result")
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	for i := 0; i < 50; i++ {
		_ = f.idx.UpsertEntity(f.ds.Entities[i])
	}
}

// An address database attached after start shows in /healthz and serves.
func TestSetAddressesLater(t *testing.T) {
	f := testServer(t)
	s, err := NewServer(Deps{Index: f.idx}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, s, "/healthz")
	if body["addresses"] != false {
		t.Fatalf("healthz before: %v", body["addresses"])
	}
	rec, _ := post(t, s, "/api/v1/address/check", `{"address":"金开大道68号"}`)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("check before the database: %d", rec.Code)
	}
	s.SetAddresses(f.db)
	_, body = get(t, s, "/healthz")
	if body["addresses"] != true {
		t.Fatalf("healthz after: %v", body["addresses"])
	}
	rec, _ = post(t, s, "/api/v1/address/check", `{"address":"金开大道68号"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("check after: %d", rec.Code)
	}
}
