package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// writeServer is a full stack on a 3,000-entity demo region with a store:
// every derived index follows the index.
type writeFixture struct {
	h   http.Handler
	idx *geo.Index
	st  *store.Store
	ds  *demo.Dataset
}

func newWriteServer(t *testing.T, path string) writeFixture {
	t.Helper()
	ctx := context.Background()
	ds, err := demo.Generate(demo.Options{Entities: 3000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	st, err := store.Open(ctx, path, idx, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if st.Empty() {
		scratch, _ := geo.New(geo.Options{})
		if err := ds.Load(scratch); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Import(ctx, "import", scratch.Snapshot()); err != nil {
			t.Fatal(err)
		}
	}
	db, err := addressmatch.NewDB(addressmatch.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := addressmatch.Follow(db, idx); err != nil {
		t.Fatal(err)
	}
	zi, err := zoneid.New(idx, zoneid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zi.Close)
	si, err := search.New(ctx, idx, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { si.Close() })
	tr, err := tiles.New(idx, tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	toks, err := NewTokens(PlainToken(ScopeWrite, testWriter, testWriteToken))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{Index: idx, Store: st, Addresses: db, Zones: zi, Search: si, Tiles: tr}, Options{Tokens: toks})
	if err != nil {
		t.Fatal(err)
	}
	return writeFixture{h: h, idx: idx, st: st, ds: ds}
}

// The write tests' token (scope write), and the name its writes record.
const (
	testWriteToken = "write-token-for-the-tests-0001"
	testWriter     = "tester"
)

// send sends a request with the tests' write token (unless hdr sets
// Authorization).
func send(h http.Handler, method, path, body string, hdr map[string]string) (*httptest.ResponseRecorder, map[string]any) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testWriteToken)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec, m
}

func validUSCC(i int) string {
	first := fmt.Sprintf("91500112%09d", i)
	c, _ := geo.USCCCheckChar(first)
	return first + string(c)
}

func entityJSON(id, name, addr string, lon, lat float64) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"name":%q,"address":%q,"industry":"I6510","status":"存续","risk":"C"}}`, lon, lat, name, addr)
}

// entityIDs returns the ids of a FeatureCollection answer.
func entityIDs(t *testing.T, h http.Handler, path string) map[string]bool {
	t.Helper()
	rec, body := send(h, "GET", path, "", nil)
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	out := map[string]bool{}
	fs, _ := body["features"].([]any)
	for _, f := range fs {
		fm := f.(map[string]any)
		if id, ok := fm["id"].(string); ok {
			out[id] = true
		} else if p, ok := fm["properties"].(map[string]any); ok {
			out[fmt.Sprint(p["id"])] = true
		}
	}
	return out
}

func tileHas(t *testing.T, h http.Handler, p orb.Point, id string) bool {
	t.Helper()
	tl := maptile.At(p, 17)
	rec, _ := send(h, "GET", fmt.Sprintf("/tiles/entities/17/%d/%d.mvt", tl.X, tl.Y), "", nil)
	if rec.Code == http.StatusNoContent {
		return false
	}
	if rec.Code != 200 {
		t.Fatalf("tile: %d", rec.Code)
	}
	layers, err := mvt.Unmarshal(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		for _, f := range l.Features {
			if fmt.Sprint(f.Properties["id"]) == id || fmt.Sprint(f.ID) == id {
				return true
			}
		}
	}
	return false
}

func gridAt(t *testing.T, h http.Handler, p orb.Point) string {
	t.Helper()
	_, body := send(h, "GET", fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v", p[0], p[1]), "", nil)
	g, _ := body["grid"].(map[string]any)
	return fmt.Sprint(g["id"])
}

func TestWritesReachEveryIndex(t *testing.T) {
	f := newWriteServer(t, ":memory:")
	h := f.h
	// two points far apart inside the demo region, in different grids
	ea, _ := f.idx.Snapshot().Entity(f.ds.Entities[10].ID)
	a := ea.Location
	var b orb.Point
	f.idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if e.GridID != ea.GridID && e.GridID != "" && ea.GridID != "" {
			b = e.Location
			return false
		}
		return true
	})
	if b == (orb.Point{}) {
		t.Fatal("the demo has no two grids")
	}
	id := validUSCC(424242)
	name := "重庆市渝北区翠云钦天监科技有限公司"
	addr := "重庆市渝北区金开大道9999号"
	rec, body := send(h, "PUT", "/api/v1/entities/"+id, entityJSON(id, name, addr, a[0], a[1]), nil)
	if rec.Code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body.String())
	}
	seq := rec.Header().Get("X-Marketgeo-Seq")
	if seq == "" || fmt.Sprint(body["seq"]) != seq || rec.Header().Get("ETag") != strconv.Quote(seq) {
		t.Fatalf("seq header %q, body %v, etag %q", seq, body["seq"], rec.Header().Get("ETag"))
	}
	near := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=50&limit=1000", a[0], a[1])
	if !entityIDs(t, h, near)[id] {
		t.Fatal("nearby does not see the new entity")
	}
	if !entityIDs(t, h, fmt.Sprintf("/api/v1/knearest?lon=%v&lat=%v&k=50", a[0], a[1]))[id] {
		t.Fatal("knearest does not see the new entity")
	}
	if !entityIDs(t, h, "/api/v1/search?q="+url.QueryEscape("翠云钦天监"))[id] {
		t.Fatal("search does not find the new entity")
	}
	_, chk := send(h, "POST", "/api/v1/address/check", fmt.Sprintf(`{"address":%q}`, addr), nil)
	if chk["verdict"] != "matched" {
		t.Fatalf("address check after PUT: %v", chk)
	}
	if !tileHas(t, h, a, id) {
		t.Fatal("the tile does not show the new entity")
	}
	_, got := send(h, "GET", "/api/v1/entities/"+id, "", nil)
	if p := got["properties"].(map[string]any); p["grid_id"] != gridAt(t, h, a) {
		t.Fatalf("grid %v, want %v", p["grid_id"], gridAt(t, h, a))
	}

	// relocation by PATCH with the right version
	rec, _ = send(h, "PATCH", "/api/v1/entities/"+id, fmt.Sprintf(`{"geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"risk":"A"}}`, b[0], b[1]),
		map[string]string{"If-Match": rec.Header().Get("ETag"), "Content-Type": "application/merge-patch+json"})
	if rec.Code != 200 {
		t.Fatalf("PATCH: %d %s", rec.Code, rec.Body.String())
	}
	if entityIDs(t, h, near)[id] || !entityIDs(t, h, fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=50&limit=1000", b[0], b[1]))[id] {
		t.Fatal("nearby does not follow the relocation")
	}
	if tileHas(t, h, a, id) || !tileHas(t, h, b, id) {
		t.Fatal("tiles do not follow the relocation")
	}
	_, got = send(h, "GET", "/api/v1/entities/"+id, "", nil)
	if p := got["properties"].(map[string]any); p["grid_id"] != gridAt(t, h, b) || p["risk"] != "A" || p["name"] != name {
		t.Fatalf("after relocation: %v (grid want %v)", p, gridAt(t, h, b))
	}
	// a stale If-Match is refused and changes nothing
	before := f.st.Seq()
	rec, _ = send(h, "PATCH", "/api/v1/entities/"+id, `{"properties":{"risk":"D"}}`, map[string]string{"If-Match": `"1"`})
	if rec.Code != http.StatusPreconditionFailed || f.st.Seq() != before {
		t.Fatalf("stale If-Match: %d %s", rec.Code, rec.Body.String())
	}

	// history names every version, and the token's name as their writer
	_, hist := send(h, "GET", "/api/v1/entities/"+id+"/history", "", nil)
	vs, _ := hist["versions"].([]any)
	if len(vs) != 2 {
		t.Fatalf("history: %v", hist)
	}
	for _, v := range vs {
		if w := v.(map[string]any)["writer"]; w != testWriter {
			t.Fatalf("history writer %v, want the token's name %q", w, testWriter)
		}
	}

	// delete: gone everywhere
	rec, _ = send(h, "DELETE", "/api/v1/entities/"+id, "", nil)
	if rec.Code != 200 {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body.String())
	}
	if r, _ := send(h, "GET", "/api/v1/entities/"+id, "", nil); r.Code != 404 {
		t.Fatalf("GET after DELETE: %d", r.Code)
	}
	if entityIDs(t, h, "/api/v1/search?q="+url.QueryEscape("翠云钦天监"))[id] || tileHas(t, h, b, id) {
		t.Fatal("search or tiles still show the deleted entity")
	}
	if r, _ := send(h, "DELETE", "/api/v1/entities/"+id, "", nil); r.Code != 404 {
		t.Fatalf("second DELETE: %d", r.Code)
	}
}

func TestBadWritesChangeNothing(t *testing.T) {
	f := newWriteServer(t, ":memory:")
	h := f.h
	e := f.ds.Entities[5]
	okBody := entityJSON(e.ID, e.Name, e.Address, e.Location[0], e.Location[1])
	line := func(i int) string {
		return strings.ReplaceAll(entityJSON(validUSCC(i), fmt.Sprintf("批量%d有限公司", i), "", 106.5, 29.6), `"properties":{`, `"properties":{"id":"`+validUSCC(i)+`",`)
	}
	big := strings.Repeat(" ", 10<<20) + okBody
	var many strings.Builder
	for i := range 100001 {
		many.WriteString(line(i))
		many.WriteByte('\n')
	}
	cases := []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		inError                  string
	}{
		{"malformed json", "PUT", "/api/v1/entities/" + e.ID, `{"type":"Feature",`, nil, 400, "feature"},
		{"array body", "PUT", "/api/v1/entities/" + e.ID, `[1]`, nil, 400, "Feature"},
		{"wrong geometry", "PUT", "/api/v1/entities/" + e.ID, strings.Replace(okBody, `"type":"Point","coordinates":[`+fmt.Sprint(e.Location[0]), `"type":"LineString","coordinates":[[1,2],[3,4]],"x":[`+fmt.Sprint(e.Location[0]), 1), nil, 400, "Point"},
		{"invalid uscc", "PUT", "/api/v1/entities/915001120000000000", okBody, nil, 400, "id"},
		{"id differs from url", "PUT", "/api/v1/entities/" + validUSCC(1), strings.Replace(okBody, `"properties":{`, `"properties":{"id":"`+e.ID+`",`, 1), nil, 400, "id"},
		{"bad risk", "PUT", "/api/v1/entities/" + e.ID, strings.Replace(okBody, `"risk":"C"`, `"risk":"Q"`, 1), nil, 400, "risk"},
		{"latitude 95", "PUT", "/api/v1/entities/" + e.ID, entityJSON(e.ID, e.Name, "", 106.5, 95), nil, 400, "latitude"},
		{"10 MB body", "PUT", "/api/v1/entities/" + e.ID, big, nil, 413, "larger"},
		{"patch changes id", "PATCH", "/api/v1/entities/" + e.ID, `{"properties":{"id":"` + validUSCC(2) + `"}}`, nil, 400, "id"},
		{"patch not an object", "PATCH", "/api/v1/entities/" + e.ID, `"x"`, nil, 400, "object"},
		{"patch bad status", "PATCH", "/api/v1/entities/" + e.ID, `{"properties":{"status":"飞了"}}`, nil, 400, "status"},
		{"if-match garbage", "PUT", "/api/v1/entities/" + e.ID, okBody, map[string]string{"If-Match": `"abc"`}, 400, "If-Match"},
		{"if-none-match on existing", "PUT", "/api/v1/entities/" + e.ID, okBody, map[string]string{"If-None-Match": "*"}, 412, "exists"},
		{"unknown layer", "PUT", "/api/v1/roads/x", okBody, nil, 404, ""},
		{"bulk with a bad line", "POST", "/api/v1/entities/bulk", line(1) + "\n" + `{"type":"Feature","geometry":null,"properties":{"id":"x"}}` + "\n" + line(2), nil, 400, "line 2"},
		{"bulk 100,001 lines", "POST", "/api/v1/entities/bulk", many.String(), nil, 413, "100000"},
		{"bulk empty", "POST", "/api/v1/entities/bulk", "\n", nil, 400, "no feature"},
		{"zone polygon unclosed", "PUT", "/api/v1/zones/z1", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106,29],[107,29],[107,30],[106,29.5]]]},"properties":{"layer":"grid"}}`, nil, 400, "closed"},
		{"building as a point", "PUT", "/api/v1/buildings/b1", `{"type":"Feature","geometry":{"type":"Point","coordinates":[106,29]},"properties":{}}`, nil, 400, "Polygon"},
		{"changes bad since", "GET", "/api/v1/changes?since=-1", "", nil, 400, "since"},
		{"method", "POST", "/api/v1/entities/" + e.ID, okBody, nil, 405, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seq, ver := f.st.Seq(), f.idx.Snapshot().Version()
			rec, body := send(h, tc.method, tc.path, tc.body, tc.hdr)
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d: %s", rec.Code, tc.status, clip(rec.Body.String()))
			}
			msg, _ := body["error"].(string)
			if tc.status != 404 && (msg == "" || !strings.Contains(msg, tc.inError)) {
				t.Fatalf("error %q does not say %q", msg, tc.inError)
			}
			if f.st.Seq() != seq || f.idx.Snapshot().Version() != ver {
				t.Fatal("a rejected write changed something")
			}
		})
	}
	// the per-line report of a rejected bulk
	_, body := send(h, "POST", "/api/v1/entities/bulk", line(1)+"\n"+strings.Replace(line(2), `"risk":"C"`, `"risk":"Q"`, 1)+"\n"+line(1), nil)
	lines, _ := body["lines"].([]any)
	if len(lines) != 2 {
		t.Fatalf("bulk report: %v", body)
	}
	l0 := lines[0].(map[string]any)
	if l0["line"] != 2.0 || l0["field"] != "risk" || l0["id"] != validUSCC(2) {
		t.Fatalf("first bad line: %v", l0)
	}
	// and the server keeps serving
	if r, _ := send(h, "GET", "/healthz", "", nil); r.Code != 200 {
		t.Fatal("healthz after bad writes")
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestBulkAndChangeLog(t *testing.T) {
	f := newWriteServer(t, ":memory:")
	h := f.h
	start := f.st.Seq()
	var sb strings.Builder
	ids := map[string]bool{}
	for i := range 500 {
		id := validUSCC(7000 + i)
		ids[id] = true
		sb.WriteString(strings.Replace(entityJSON(id, fmt.Sprintf("批量%d有限公司", i), "", 106.5+float64(i)*1e-4, 29.6), `"properties":{`, `"properties":{"id":"`+id+`",`, 1))
		sb.WriteByte('\n')
	}
	rec, body := send(h, "POST", "/api/v1/entities/bulk", sb.String(), nil)
	if rec.Code != 200 || body["written"] != 500.0 || body["created"] != 500.0 {
		t.Fatalf("bulk: %d %s", rec.Code, rec.Body.String())
	}
	if got := f.st.Seq(); got != start+500 {
		t.Fatalf("seq %d, want %d", got, start+500)
	}
	// the change log from start: 500 lines in order, each one of the ids
	rec, _ = send(h, "GET", fmt.Sprintf("/api/v1/changes?since=%d&limit=1000", start), "", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("changes: %d %v", rec.Code, rec.Header())
	}
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var c store.Change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		if c.Seq != start+uint64(n) || !ids[c.ID] || c.Op != store.OpPut || c.Layer != geo.LayerEntities || len(c.Feature) < 10 {
			t.Fatalf("change %d: %+v", n, c)
		}
	}
	if n != 500 {
		t.Fatalf("%d changes, want 500", n)
	}
}

func TestChangeStream(t *testing.T) {
	f := newWriteServer(t, ":memory:")
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	start := f.st.Seq()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/changes", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+testWriteToken)
	req.Header.Set("Last-Event-ID", strconv.FormatUint(start-2, 10))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	events := make(chan uint64, 16)
	go func() {
		br := bufio.NewReader(resp.Body)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				close(events)
				return
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "id: "); ok {
				n, _ := strconv.ParseUint(v, 10, 64)
				events <- n
			}
		}
	}()
	want := []uint64{start - 1, start}
	// a write after the stream started arrives live
	go func() {
		time.Sleep(200 * time.Millisecond)
		e := f.ds.Entities[0]
		send(f.h, "PATCH", "/api/v1/entities/"+e.ID, `{"properties":{"risk":"D"}}`, nil)
	}()
	want = append(want, start+1)
	for _, w := range want {
		select {
		case got, ok := <-events:
			if !ok || got != w {
				t.Fatalf("event %d (open %v), want %d", got, ok, w)
			}
		case <-ctx.Done():
			t.Fatalf("no event %d", w)
		}
	}
	_ = io.Discard
}

// brokenDisk is a backend whose commits fail, like a full disk.
type brokenDisk struct{ store.Backend }

func (brokenDisk) Commit(context.Context, []store.Record) error {
	return fmt.Errorf("disk I/O error: database or disk is full")
}

func TestWriteOnBrokenDiskAnswers503(t *testing.T) {
	ctx := context.Background()
	be, err := store.OpenSQLite(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	st, err := store.New(ctx, idx, brokenDisk{be}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	toks, _ := NewTokens(PlainToken(ScopeWrite, testWriter, testWriteToken))
	h, err := New(Deps{Index: idx, Store: st}, Options{Tokens: toks})
	if err != nil {
		t.Fatal(err)
	}
	id := validUSCC(5)
	rec, body := send(h, "PUT", "/api/v1/entities/"+id, entityJSON(id, "重庆磁盘满有限公司", "", 106.5, 29.6), nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(body["error"]), "cannot write durably") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	if r, _ := send(h, "GET", "/api/v1/entities/"+id, "", nil); r.Code != 404 {
		t.Fatalf("the failed write is visible: %d", r.Code)
	}
	if r, _ := send(h, "GET", "/api/v1/nearby?lon=106.5&lat=29.6&radius=100", "", nil); r.Code != 200 {
		t.Fatalf("reads stopped: %d", r.Code)
	}
}

// TestConcurrentWritersIfMatch: writers race to patch one entity, each
// with the version it read; every answer is 200 or 412, the history holds
// exactly the winners, and readers see whole states meanwhile.
func TestConcurrentWritersIfMatch(t *testing.T) {
	f := newWriteServer(t, ":memory:")
	h := f.h
	e := f.ds.Entities[3]
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	stop := make(chan struct{})
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				rec, _ := send(h, "GET", "/api/v1/entities/"+e.ID, "", nil)
				etag := rec.Header().Get("ETag")
				r, _ := send(h, "PATCH", "/api/v1/entities/"+e.ID, fmt.Sprintf(`{"properties":{"short_name":"w%d-%d"}}`, w, i), map[string]string{"If-Match": etag})
				mu.Lock()
				codes[r.Code]++
				mu.Unlock()
			}
		}()
	}
	var rg sync.WaitGroup
	rg.Add(1)
	go func() {
		defer rg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			rec, body := send(h, "GET", fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=300", e.Location[0], e.Location[1]), "", nil)
			if rec.Code != 200 || body["features"] == nil {
				t.Errorf("nearby during writes: %d", rec.Code)
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	rg.Wait()
	if codes[200]+codes[412] != 90 || codes[200] == 0 {
		t.Fatalf("answers %v, want only 200 and 412", codes)
	}
	_, hist := send(h, "GET", "/api/v1/entities/"+e.ID+"/history?limit=1000", "", nil)
	if vs, _ := hist["versions"].([]any); len(vs) != codes[200]+1 { // + the import
		t.Fatalf("history has %d versions, want %d", len(vs), codes[200]+1)
	}
}
