package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
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

// The tokens of the profile tests: one per scope.
const (
	tokRead  = "read-token-0123456789abcdef"
	tokWrite = "write-token-0123456789abcdef"
	tokAdmin = "admin-token-0123456789abcdef"
	tokOld   = "expired-token-0123456789abcdef"
)

// secretNote is an internal attribute value the public face must never show.
const secretNote = "内部备注-勿公开-7731"

// profileFixture is a full stack (store, zones, search, addresses, tiles,
// web map) on a 2,000-entity demo region, one entity of which carries an
// internal note, served by a server of the given profile.
type profileFixture struct {
	h       http.Handler
	srv     *Server
	idx     *geo.Index
	ds      *demo.Dataset
	logs    *bytes.Buffer
	logMu   *sync.Mutex
	secretE string // the id of the entity with the internal note
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

var profileData struct {
	once sync.Once
	ds   *demo.Dataset
	err  error
}

func newProfileServer(t testing.TB, profile string, opts Options) profileFixture {
	t.Helper()
	profileData.once.Do(func() { profileData.ds, profileData.err = demo.Generate(demo.Options{Entities: 2000}) })
	if profileData.err != nil {
		t.Fatal(profileData.err)
	}
	ds := profileData.ds
	ctx := context.Background()
	idx, _ := geo.New(geo.Options{})
	st, err := store.Open(ctx, ":memory:", idx, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	scratch, _ := geo.New(geo.Options{})
	if err := ds.Load(scratch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, "import", scratch.Snapshot()); err != nil {
		t.Fatal(err)
	}
	// an entity with an internal note, risk D
	e := ds.Entities[7]
	note := fmt.Sprintf(`{"properties":{"internal_note":%q,"risk":"D"}}`, secretNote)
	if _, _, err := st.Patch(ctx, "setup", geo.LayerEntities, e.ID, []byte(note), 0, geo.LoadOptions{}); err != nil {
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
	db, err := addressmatch.NewDB(addressmatch.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := addressmatch.Follow(db, idx); err != nil {
		t.Fatal(err)
	}
	to := tiles.Options{CacheBytes: 8 << 20}
	if profile == ProfilePublic {
		to.Fields = PublicFields()
	}
	tr, err := tiles.New(idx, to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	web := fstest.MapFS{
		"index.html":              {Data: []byte("<!doctype html><title>map</title>")},
		"app.js":                  {Data: []byte("console.log(1)")},
		"vendor/maplibre-gl/a.js": {Data: []byte("//")},
	}
	logs, mu := &bytes.Buffer{}, &sync.Mutex{}
	opts.Profile = profile
	if profile == ProfileInternal && opts.Tokens == nil {
		opts.Tokens, err = NewTokens(PlainToken(ScopeRead, "reader", tokRead), PlainToken(ScopeWrite, "writer-1", tokWrite),
			PlainToken(ScopeAdmin, "operator", tokAdmin), Token{Scope: ScopeWrite, Name: "gone", Digest: PlainToken(0, "", tokOld).Digest, Expires: timeInPast()})
		if err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(lockedWriter{mu, logs}, nil))
	srv, err := NewServer(Deps{Index: idx, Store: st, Zones: zi, Search: si, Addresses: db, Tiles: tr, WebMap: web, Logger: log}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return profileFixture{h: srv, srv: srv, idx: idx, ds: ds, logs: logs, logMu: mu, secretE: e.ID}
}

func (f profileFixture) logText() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.String()
}

// call sends a request with an optional bearer token.
func call(h http.Handler, method, target, body, token string, hdr ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// jsonError returns the error member of a JSON error answer ("" if the
// body is not one).
func jsonError(rec *httptest.ResponseRecorder) string {
	var m map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		return ""
	}
	s, _ := m["error"].(string)
	return s
}

func TestTokens(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{})
	id := f.secretE
	tile := tileURL(f.ds.Entities[0].Location, 14, "entities")
	patch := `{"properties":{"short_name":"改名"}}`
	for _, c := range []struct {
		name, method, target, body, token string
		hdr                               []string
		want                              int
	}{
		{"read without a token", "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", "", nil, 401},
		{"read with a wrong token", "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", "not-a-token-0123456789", nil, 401},
		{"read with a read token", "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", tokRead, nil, 200},
		{"tile without a token", "GET", tile, "", "", nil, 401},
		{"tile with a read token", "GET", tile, "", tokRead, nil, 200},
		{"write with a read token", "PATCH", "/api/v1/entities/" + id, patch, tokRead, nil, 403},
		{"write without a token", "PATCH", "/api/v1/entities/" + id, patch, "", nil, 401},
		{"write with an expired token", "PATCH", "/api/v1/entities/" + id, patch, tokOld, nil, 401},
		{"write with a write token", "PATCH", "/api/v1/entities/" + id, patch, tokWrite, nil, 200},
		{"admin route with a write token", "POST", "/api/v1/admin/snapshot", "", tokWrite, nil, 403},
		{"admin route with an admin token", "POST", "/api/v1/admin/snapshot", "", tokAdmin, nil, 200},
		{"malformed header: Basic", "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", "", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401},
		{"malformed header: no token", "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", "", []string{"Authorization", "Bearer "}, 401},
		{"malformed header: two words", "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", "", []string{"Authorization", "Bearer a b"}, 401},
		{"healthz is open", "GET", "/healthz", "", "", nil, 200},
		{"metrics is open", "GET", "/metrics", "", "", nil, 200},
		{"the map page is open (code, no data: its user signs in)", "GET", "/", "", "", nil, 200},
		{"the map's files are open", "GET", "/webmap/app.js", "", "", nil, 200},
		{"the OpenAPI document needs a token", "GET", "/api/v1/openapi.json", "", "", nil, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := call(f.h, c.method, c.target, c.body, c.token, c.hdr...)
			if rec.Code != c.want {
				t.Fatalf("%d, want %d: %s", rec.Code, c.want, rec.Body.String())
			}
			if c.want >= 400 && jsonError(rec) == "" {
				t.Fatalf("not a JSON error: %s", rec.Body.String())
			}
			if c.want == 401 && rec.Header().Get("WWW-Authenticate") == "" && !strings.Contains(c.name, "malformed") && !strings.Contains(c.name, "wrong") && !strings.Contains(c.name, "expired") {
				t.Fatalf("401 without WWW-Authenticate")
			}
		})
	}
	// the write's history names the token's name, never the token
	rec := call(f.h, "GET", "/api/v1/entities/"+id+"/history", "", tokRead)
	var h struct {
		Versions []struct{ Writer string } `json:"versions"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || len(h.Versions) == 0 || h.Versions[len(h.Versions)-1].Writer != "writer-1" {
		t.Fatalf("history: %s", rec.Body.String())
	}
	logs := f.logText()
	for _, tok := range []string{tokRead, tokWrite, tokAdmin, tokOld, "not-a-token-0123456789", "dXNlcjpwYXNz"} {
		if strings.Contains(logs, tok) || strings.Contains(rec.Body.String(), tok) {
			t.Fatalf("a token appears in the logs or an answer: %s", tok)
		}
	}
	if !strings.Contains(logs, `"token":"writer-1"`) || !strings.Contains(logs, `"route":"PATCH /api/v1/{layer}/{id}"`) {
		t.Fatalf("the access log lacks the token name or the route:\n%s", logs)
	}
}

// Without tokens the internal profile serves reads and refuses writes
// with a 401 that says how to configure tokens.
func TestNoTokensRefusesWrites(t *testing.T) {
	f := newProfileServer(t, ProfileInternal, Options{Tokens: nil})
	// newProfileServer adds tokens for the internal profile: build one without
	srv, err := NewServer(f.srv.deps, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rec := call(srv, "GET", "/api/v1/nearby?lon=106.55&lat=29.65", "", ""); rec.Code != 200 {
		t.Fatalf("read: %d", rec.Code)
	}
	for _, c := range []struct{ method, target, body string }{
		{"PATCH", "/api/v1/entities/" + f.secretE, `{"properties":{"short_name":"x"}}`},
		{"DELETE", "/api/v1/entities/" + f.secretE, ""},
		{"POST", "/api/v1/entities/bulk", "{}"},
		{"POST", "/api/v1/admin/snapshot", ""},
	} {
		rec := call(srv, c.method, c.target, c.body, "")
		if rec.Code != 401 || !strings.Contains(jsonError(rec), "--tokens") {
			t.Fatalf("%s %s: %d %s", c.method, c.target, rec.Code, rec.Body.String())
		}
	}
	if _, ok := f.idx.Snapshot().Entity(f.secretE); !ok {
		t.Fatal("a refused delete deleted")
	}
}

func TestParseTokens(t *testing.T) {
	good := "# comment\nread alice " + strings.Repeat("a", 24) + "\nwrite bob " + HashToken("bob-secret-0123456789") + " 2099-12-31\n\nadmin ops " + strings.Repeat("z", 30) + "\n"
	toks, err := ParseTokens(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if tk, ok := toks.lookup("bob-secret-0123456789"); !ok || tk.Name != "bob" || tk.Scope != ScopeWrite {
		t.Fatalf("hashed token: %+v %v", tk, ok)
	}
	if _, ok := toks.lookup(strings.Repeat("a", 23)); ok {
		t.Fatal("a prefix matched")
	}
	for _, bad := range []string{
		"",
		"read alice short",
		"reed alice " + strings.Repeat("a", 24),
		"read al/ice " + strings.Repeat("a", 24),
		"read alice sha256:1234",
		"read alice " + strings.Repeat("a", 24) + " tomorrow",
		"read alice " + strings.Repeat("a", 24) + "\nwrite alice " + strings.Repeat("b", 24),
		"read alice",
	} {
		if _, err := ParseTokens(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func timeInPast() time.Time { return time.Now().Add(-time.Hour) }

// tileURL is the URL of the tile holding p.
func tileURL(p orb.Point, z int, layer string) string {
	t := maptile.At(p, maptile.Zoom(z))
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, z, t.X, t.Y)
}

// leakProbe is one request of the leak scan.
type leakProbe struct{ method, target, body string }

// leakProbes crawls every public route with the fixture's data: the entity
// with the internal note (by id, name, address, location), every grid's
// centre, each tile layer's TileJSON, and tiles z10–16 around entities.
func leakProbes(t *testing.T, f profileFixture) (probes []leakProbe, tileTargets []string) {
	t.Helper()
	snap := f.idx.Snapshot()
	e, _ := snap.Entity(f.secretE)
	get := func(target string) { probes = append(probes, leakProbe{"GET", target, ""}) }
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/", "/webmap/app.js"} {
		get(p)
	}
	get("/api/v1/entities/" + e.ID)
	for i := 0; i < len(f.ds.Entities); i += 97 {
		get("/api/v1/entities/" + f.ds.Entities[i].ID)
	}
	for _, q := range []string{e.Name, e.Address, "重庆", "有限公司", "网格", "市场监管所"} {
		for _, layer := range []string{"entities", "all", "zones"} {
			get("/api/v1/search?" + url.Values{"q": {q}, "layer": {layer}, "limit": {"100"}}.Encode())
		}
		get("/api/v1/search?" + url.Values{"q": {q}, "fields": {"id,name,risk,attrs,grid_id"}}.Encode())
	}
	get(fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v", e.Location[0], e.Location[1]))
	get("/api/v1/zones?" + url.Values{"address": {e.Address}}.Encode())
	n := 0
	for _, z := range zonesOfLayer(snap, "grid") {
		if n++; n > 40 {
			break
		}
		c := z.Geometry.Bound().Center()
		get(fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v", c[0], c[1]))
	}
	probes = append(probes, leakProbe{"POST", "/api/v1/address/parse", fmt.Sprintf(`{"address":%q}`, e.Address)})
	for _, layer := range []string{"entities", "buildings", "places", "zones", "roads"} {
		get("/tiles/" + layer + ".json")
		for z := 10; z <= 16; z++ {
			for _, p := range []orb.Point{e.Location, f.ds.Entities[0].Location, f.ds.Entities[1000].Location} {
				tileTargets = append(tileTargets, tileURL(p, z, layer))
			}
		}
	}
	return probes, tileTargets
}

func zonesOfLayer(snap *geo.Snapshot, layer string) []*geo.Zone {
	var out []*geo.Zone
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer == layer {
			out = append(out, z)
		}
		return true
	})
	return out
}

// leaks returns the internal field names and values found in the answers
// to the probes and in the tiles (decoded: every key and string value).
func leaks(t *testing.T, f profileFixture, token string) map[string]int {
	t.Helper()
	probes, tileTargets := leakProbes(t, f)
	snap := f.idx.Snapshot()
	// internal values: the note, the grids' inspectors and teams
	values := map[string]bool{secretNote: true}
	for _, z := range zonesOfLayer(snap, "grid") {
		for _, k := range []string{"inspector", "team"} {
			if v := z.Props[k]; len([]rune(v)) >= 3 {
				values[v] = true
			}
		}
	}
	keys := []string{`"risk"`, `"inspector"`, `"team"`, `"internal_note"`, `"count_A"`, `"count_D"`, `"grid_id"`, `"by_risk"`}
	found := map[string]int{}
	ok := 0
	for _, p := range probes {
		rec := call(f.h, p.method, p.target, p.body, token)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", p.method, p.target, rec.Code, rec.Body.String())
		}
		if rec.Code == 200 {
			ok++
		}
		body := rec.Body.String()
		for _, k := range keys {
			if strings.Contains(body, k) {
				found[k]++
			}
		}
		for v := range values {
			if strings.Contains(body, v) {
				found["value "+v]++
			}
		}
	}
	if ok < len(probes)*3/4 {
		t.Fatalf("only %d of %d probes answered 200: the scan would see little", ok, len(probes))
	}
	tilesSeen := 0
	for _, target := range tileTargets {
		rec := call(f.h, "GET", target, "", token)
		if rec.Code == 204 {
			continue
		}
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body.String())
		}
		tilesSeen++
		ls, err := mvt.Unmarshal(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		layer := strings.Split(target, "/")[2]
		pub := map[string]bool{}
		for _, n := range PublicFields()[layer] {
			pub[n] = true
		}
		for _, l := range ls {
			for _, ft := range l.Features {
				for k, v := range ft.Properties {
					if !pub[k] {
						found["tile key "+k]++
					}
					if s, ok := v.(string); ok && values[s] {
						found["tile value "+s]++
					}
				}
			}
		}
	}
	if tilesSeen < 20 {
		t.Fatalf("only %d non-empty tiles scanned", tilesSeen)
	}
	return found
}

// The public profile's leak scan: every public route and tiles z10–16 show
// no internal field name or value. The same scan of the internal profile
// finds them (so it can fail).
func TestPublicLeakScan(t *testing.T) {
	pub := newProfileServer(t, ProfilePublic, Options{})
	if found := leaks(t, pub, ""); len(found) > 0 {
		t.Fatalf("the public profile leaks: %v", found)
	}
	internal := newProfileServer(t, ProfileInternal, Options{})
	found := leaks(t, internal, tokRead)
	for _, want := range []string{`"risk"`, `"inspector"`, "value " + secretNote, "tile key risk"} {
		if found[want] == 0 {
			t.Errorf("the scan of the internal profile did not find %s (found %v): it could not catch a leak", want, found)
		}
	}
}

// The public profile has no write or internal route: they answer 404 as
// unknown paths do (not 401), with or without a token, and internal
// filters are refused.
func TestPublicProfileRoutes(t *testing.T) {
	f := newProfileServer(t, ProfilePublic, Options{})
	id := f.secretE
	for _, c := range []leakProbe{
		{"PUT", "/api/v1/entities/" + id, `{"type":"Feature"}`},
		{"PATCH", "/api/v1/entities/" + id, `{"properties":{"risk":"A"}}`},
		{"DELETE", "/api/v1/entities/" + id, ""},
		{"POST", "/api/v1/entities/bulk", "{}"},
		{"GET", "/api/v1/entities/" + id + "/history", ""},
		{"GET", "/api/v1/changes", ""},
		{"GET", "/api/v1/nearby?lon=106.55&lat=29.65", ""},
		{"GET", "/api/v1/buildings/B1", ""},
		{"GET", "/api/v1/grids/G1/summary", ""},
		{"GET", "/api/v1/rules/violations", ""},
		{"POST", "/api/v1/admin/snapshot", ""},
		{"POST", "/api/v1/zones/batch", "[106.5,29.6]"},
		{"GET", "/api/v1/no-such-thing", ""},
	} {
		for _, tok := range []string{"", tokAdmin} {
			rec := call(f.h, c.method, c.target, c.body, tok)
			if rec.Code != 404 || jsonError(rec) != "no such endpoint" {
				t.Errorf("%s %s (token %q): %d %s, want 404 no such endpoint", c.method, c.target, tok, rec.Code, rec.Body.String())
			}
		}
	}
	if _, ok := f.idx.Snapshot().Entity(id); !ok {
		t.Fatal("the entity is gone")
	}
	for _, target := range []string{"/api/v1/search?q=重庆&risk=D", tileURL(f.ds.Entities[0].Location, 14, "entities") + "?risk=D"} {
		if rec := call(f.h, "GET", target, "", ""); rec.Code != 400 {
			t.Errorf("%s: %d, want 400", target, rec.Code)
		}
	}
	// the public GETs allow any origin
	rec := call(f.h, "GET", "/api/v1/entities/"+id, "", "", "Origin", "https://example.org")
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("CORS: %d %v", rec.Code, rec.Header())
	}
}
