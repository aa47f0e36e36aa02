package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// riskServer is a server with a store, the exchange and the risk engine
// over a 1,500-entity demo region, on the demo's reference day.
func riskServer(t *testing.T) (http.Handler, *demo.Dataset, *geo.Index, *risk.Engine) {
	t.Helper()
	ctx := context.Background()
	ds, err := demo.Generate(demo.Options{Entities: 1500})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	ex, _ := exchange.New(exchange.Options{})
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	eng, err := risk.New(risk.Options{Now: func() time.Time { return now }, Recheck: -1})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, ":memory:", idx, store.Options{Collections: []store.Collection{eng.RecordsCollection(ex.Collection()), eng.OverridesCollection()}})
	if err != nil {
		t.Fatal(err)
	}
	scratch, _ := geo.New(geo.Options{})
	if err := ds.Load(scratch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, "import", scratch.Snapshot()); err != nil {
		t.Fatal(err)
	}
	ex.Attach(st)
	if err := eng.Start(idx, st); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); st.Close() })
	if err := eng.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	toks, err := NewTokens(PlainToken(ScopeWrite, testWriter, testWriteToken))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{Index: idx, Store: st, Exchange: ex, Risk: eng}, Options{Tokens: toks})
	if err != nil {
		t.Fatal(err)
	}
	return h, ds, idx, eng
}

func TestRiskRoutes(t *testing.T) {
	h, ds, idx, _ := riskServer(t)
	snap := idx.Snapshot()
	// Every entity's stored class is the computed one (the engine wrote
	// them): the answer of /risk agrees with the index.
	for _, e := range ds.Entities[:50] {
		rec, body := rget(t, h, "/api/v1/entities/"+e.ID+"/risk")
		stored, _ := snap.Entity(e.ID)
		if rec.Code != 200 || body["class"] != string(stored.Risk) || body["stored_class"] != string(stored.Risk) {
			t.Fatalf("%s: %d %v; index has %q", e.ID, rec.Code, body, stored.Risk)
		}
	}
	// A blacklist record through the exchange makes an A entity D at once,
	// with the record as evidence; the index's filter sees it.
	var a geo.Entity
	for _, e := range ds.Entities {
		if x, _ := idx.Snapshot().Entity(e.ID); x.Risk == geo.RiskA {
			a = *x
			break
		}
	}
	table := "统一社会信用代码,企业名称,记录类型,日期\r\n" + a.ID + "," + a.Name + ",列入严重违法失信名单,2026-10-20\r\n"
	rec, _ := send(h, http.MethodPost, "/api/v1/exchange/"+url.PathEscape("市场监督管理局"), table, map[string]string{"Content-Type": "text/csv"})
	if rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	rec, body := rget(t, h, "/api/v1/entities/"+a.ID+"/risk")
	if rec.Code != 200 || body["class"] != "D" {
		t.Fatalf("after a blacklist record: %d %v", rec.Code, body)
	}
	var as risk.Assessment
	_ = json.Unmarshal(rec.Body.Bytes(), &as)
	var ev string
	for _, r := range as.Reasons {
		if r.Rule == "blacklist" && len(r.Evidence) == 1 {
			ev = r.Evidence[0].RecordID
		}
	}
	if ev == "" || as.Stored != geo.RiskD {
		t.Fatalf("blacklist reason without its record, or stored %q: %+v", as.Stored, as.Reasons)
	}
	res, _ := idx.Snapshot().InBBox(context.Background(), geo.LayerEntities, a.Location.Bound().Pad(1e-7), geo.Query{Filter: geo.Filter{Risk: []geo.Risk{geo.RiskD}}})
	if res.Total != 1 {
		t.Fatalf("risk=D filter does not find the blacklisted entity")
	}

	// Overrides: a token is needed; set, shown as such, removed.
	path := "/api/v1/entities/" + a.ID + "/risk/override"
	body0 := `{"class":"B","reason":"已申请信用修复","expires":"2026-12-31"}`
	if rec, _ := send(h, http.MethodPut, path, body0, map[string]string{"Authorization": ""}); rec.Code != 401 {
		t.Fatalf("override without a token: %d", rec.Code)
	}
	rec, body = send(h, http.MethodPut, path, body0, nil)
	ov, _ := body["override"].(map[string]any)
	if rec.Code != 200 || body["class"] != "B" || body["computed_class"] != "D" || ov["by"] != testWriter || ov["reason"] != "已申请信用修复" {
		t.Fatalf("override: %d %v", rec.Code, body)
	}
	if x, _ := idx.Snapshot().Entity(a.ID); x.Risk != geo.RiskB {
		t.Fatalf("the index shows %q under a B override", x.Risk)
	}
	rec, body = send(h, http.MethodDelete, path, "", nil)
	if rec.Code != 200 || body["class"] != "D" || body["override"] != nil {
		t.Fatalf("override removed: %d %v", rec.Code, body)
	}
	if rec, _ := send(h, http.MethodDelete, path, "", nil); rec.Code != 404 {
		t.Fatalf("removing a missing override: %d", rec.Code)
	}

	// The summary of a box is the index's count by class (an independent
	// count: the index's filter).
	b := snap.Bounds()
	bbox := fmt.Sprintf("%f,%f,%f,%f", b.Min[0]-0.01, b.Min[1]-0.01, b.Max[0]+0.01, b.Max[1]+0.01)
	rec, body = rget(t, h, "/api/v1/risk/summary?bbox="+bbox)
	if rec.Code != 200 {
		t.Fatalf("summary: %d %v", rec.Code, body)
	}
	byClass, _ := body["by_class"].(map[string]any)
	for _, c := range []geo.Risk{geo.RiskA, geo.RiskB, geo.RiskC, geo.RiskD} {
		res, _ := idx.Snapshot().InBBox(context.Background(), geo.LayerEntities, orb.Bound{Min: orb.Point{b.Min[0] - 0.01, b.Min[1] - 0.01}, Max: orb.Point{b.Max[0] + 0.01, b.Max[1] + 0.01}},
			geo.Query{Limit: 1, Filter: geo.Filter{Risk: []geo.Risk{c}}})
		got, _ := byClass[string(c)].(float64)
		if int(got) != res.Total {
			t.Fatalf("summary class %s: %v, the index's filter counts %d", c, byClass[string(c)], res.Total)
		}
	}
	if tops, _ := body["top_reasons"].([]any); len(tops) == 0 {
		t.Fatalf("summary without reasons: %v", body)
	}
	// A grid zone's summary.
	var grid string
	for _, z := range ds.Zones {
		if z.Layer == "grid" && z.Geometry.Bound().Contains(a.Location) {
			grid = z.ID
		}
	}
	if rec, body := rget(t, h, "/api/v1/risk/summary?zone="+url.QueryEscape(grid)); grid == "" || rec.Code != 200 || body["entities"].(float64) < 1 {
		t.Fatalf("zone summary %q: %d %v", grid, rec.Code, body)
	}

	// The economy of a building: its entities are the demo's with its ID.
	bld := ds.Entities[0].BuildingID
	want := 0
	for _, e := range ds.Entities {
		if e.BuildingID == bld {
			want++
		}
	}
	rec, body = rget(t, h, "/api/v1/buildings/"+url.PathEscape(bld)+"/economy")
	if rec.Code != 200 || int(body["entities"].(float64)) != want {
		t.Fatalf("economy of %s: %d %v, want %d entities", bld, rec.Code, body, want)
	}
	if rec, body := rget(t, h, "/api/v1/economy?bbox="+bbox+"&limit=5"); rec.Code != 200 || len(body["list"].([]any)) != 5 {
		t.Fatalf("economy of the region: %d %v", rec.Code, body)
	}
	if rec, body := rget(t, h, "/api/v1/warnings?type=zombie,licence_expiry&since=2020-01-01"); rec.Code != 200 || body["warnings"] == nil {
		t.Fatalf("warnings: %d %v", rec.Code, body)
	}
}

func TestRiskRoutesBadInput(t *testing.T) {
	h, ds, _, _ := riskServer(t)
	id := ds.Entities[0].ID
	cases := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/entities/123/risk", "", 400},
		{"GET", "/api/v1/entities/91500000MA5U7G4K3A/risk", "", 404},
		{"POST", "/api/v1/entities/" + id + "/risk", "", 405},
		{"GET", "/api/v1/risk/summary", "", 400},
		{"GET", "/api/v1/risk/summary?zone=nowhere", "", 404},
		{"GET", "/api/v1/risk/summary?zone=a&bbox=1,2,3,4", "", 400},
		{"GET", "/api/v1/risk/summary?bbox=1,2,3", "", 400},
		{"GET", "/api/v1/risk/summary?bbox=3,2,1,4", "", 400},
		{"GET", "/api/v1/risk/summary?bbox=0x1,2,3,4", "", 400},
		{"GET", "/api/v1/risk/summary?bbox=100,20,120,40", "", 400},
		{"GET", "/api/v1/warnings?type=astrology", "", 400},
		{"GET", "/api/v1/warnings?since=yesterday", "", 400},
		{"GET", "/api/v1/warnings?limit=0", "", 400},
		{"GET", "/api/v1/buildings/nope/economy", "", 404},
		{"GET", "/api/v1/economy", "", 400},
		{"GET", "/api/v1/economy?bbox=106,29,107,30&limit=99999", "", 400},
		{"PUT", "/api/v1/entities/" + id + "/risk/override", `{"class":"E","reason":"x","expires":"2026-12-01"}`, 400},
		{"PUT", "/api/v1/entities/" + id + "/risk/override", `{"class":"B","reason":"","expires":"2026-12-01"}`, 400},
		{"PUT", "/api/v1/entities/" + id + "/risk/override", `{"class":"B","reason":"x","expires":"2020-12-01"}`, 400},
		{"PUT", "/api/v1/entities/" + id + "/risk/override", `{"class":"B","reason":"x","expires":"2026-12-01","colour":1}`, 400},
		{"PUT", "/api/v1/entities/" + id + "/risk/override", `[`, 400},
		{"PATCH", "/api/v1/entities/" + id + "/risk/override", `{}`, 405},
		{"DELETE", "/api/v1/entities/91500000MA5U7G4K3A/risk/override", "", 404},
	}
	for _, c := range cases {
		rec, body := send(h, c.method, c.path, c.body, nil)
		if rec.Code != c.want || body["error"] == nil {
			t.Errorf("%s %s: %d %s, want %d with an error", c.method, c.path, rec.Code, rec.Body, c.want)
		}
	}
}

func TestRiskRoutesWithoutEngine(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	h, err := New(Deps{Index: idx}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := get(t, h, "/api/v1/warnings"); rec.Code != 503 {
		t.Fatalf("warnings without an engine: %d", rec.Code)
	}
}

// rget is a GET with the tests' token (the server has tokens: reads need one).
func rget(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	return send(h, http.MethodGet, path, "", nil)
}
