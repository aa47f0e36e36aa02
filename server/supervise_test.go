package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
)

var superviseData struct {
	once sync.Once
	ds   *demo.Dataset
	err  error
}

// superviseFixture is a server with a store, the exchange and the
// supervision service over a 2,000-entity demo region; tokens: the
// writer's and one (write scope) per grid inspector, named after one of
// their grids (token names are ASCII; the service resolves them).
type superviseFixture struct {
	h          http.Handler
	srv        *Server
	idx        *geo.Index
	sv         *supervise.Service
	inspectors map[string]string // grid → inspector
	tokenOf    map[string]string // inspector → token
}

func newSuperviseFixture(t testing.TB, opts Options) *superviseFixture {
	t.Helper()
	superviseData.once.Do(func() { superviseData.ds, superviseData.err = demo.Generate(demo.Options{Entities: 2000}) })
	if superviseData.err != nil {
		t.Fatal(superviseData.err)
	}
	ctx := context.Background()
	idx, _ := geo.New(geo.Options{})
	ex, _ := exchange.New(exchange.Options{})
	sv, err := supervise.New(supervise.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, ":memory:", idx, store.Options{Collections: append([]store.Collection{ex.Collection()}, sv.Collections()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	scratch, _ := geo.New(geo.Options{})
	if err := superviseData.ds.Load(scratch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, "import", scratch.Snapshot()); err != nil {
		t.Fatal(err)
	}
	ex.Attach(st)
	sv.Attach(st)
	f := &superviseFixture{idx: idx, sv: sv, inspectors: map[string]string{}, tokenOf: map[string]string{}}
	toks := []Token{PlainToken(ScopeWrite, testWriter, testWriteToken), PlainToken(ScopeRead, "reader", "read-token-for-the-tests-0001")}
	n := 0
	idx.Snapshot().ScanZones(func(z *geo.Zone) bool {
		if in := z.Props["inspector"]; z.Layer == "grid" && in != "" {
			f.inspectors[z.ID] = in
			if f.tokenOf[in] == "" {
				n++
				f.tokenOf[in] = fmt.Sprintf("inspector-token-%06d-abcdefgh", n)
				// token names are ASCII: the inspector's token is named after a grid of theirs
				toks = append(toks, PlainToken(ScopeWrite, z.ID, f.tokenOf[in]))
			}
		}
		return true
	})
	if opts.Tokens, err = NewTokens(toks...); err != nil {
		t.Fatal(err)
	}
	if f.srv, err = NewServer(Deps{Index: idx, Store: st, Exchange: ex, Supervise: sv}, opts); err != nil {
		t.Fatal(err)
	}
	f.h = f.srv
	return f
}

func decodeMap(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer %d %q: %v", rec.Code, rec.Body.String(), err)
	}
	return m
}

func TestSuperviseHTTP(t *testing.T) {
	f := newSuperviseFixture(t, Options{})
	spot := `{"items": ["食品经营许可检查"], "filter": {"industries": ["F","H"], "risk": ["B","C","D"]}, "sample": 15, "seed": 20261207, "inspectors_per_entity": 2, "exclude_own_grid": true}`
	if rec := call(f.h, "POST", "/api/v1/spotchecks", spot, ""); rec.Code != 401 {
		t.Fatalf("no token: %d %s", rec.Code, rec.Body)
	}
	if rec := call(f.h, "POST", "/api/v1/spotchecks", spot, "read-token-for-the-tests-0001"); rec.Code != 403 {
		t.Fatalf("read token: %d %s", rec.Code, rec.Body)
	}
	r1 := call(f.h, "POST", "/api/v1/spotchecks", spot, testWriteToken)
	r2 := call(f.h, "POST", "/api/v1/spotchecks", spot, testWriteToken)
	if r1.Code != 201 || r2.Code != 201 {
		t.Fatalf("%d %s", r1.Code, r1.Body)
	}
	a, b := decodeMap(t, r1), decodeMap(t, r2)
	if fmt.Sprint(a["entities"]) != fmt.Sprint(b["entities"]) || a["id"] == b["id"] || len(a["entities"].([]any)) != 15 {
		t.Fatalf("two runs differ: %v / %v", a["entities"], b["entities"])
	}
	id := a["id"].(string)
	pub := call(f.h, "GET", "/api/v1/spotchecks/"+id+"/public", "", "read-token-for-the-tests-0001")
	if pub.Code != 200 || !strings.Contains(pub.Body.String(), `"seed":20261207`) {
		t.Fatalf("public notice: %d %s", pub.Code, pub.Body)
	}
	v := call(f.h, "POST", "/api/v1/spotchecks/verify", `{"id":"`+id+`"}`, "read-token-for-the-tests-0001")
	if v.Code != 200 || decodeMap(t, v)["same"] != true {
		t.Fatalf("verify: %d %s", v.Code, v.Body)
	}
	v = call(f.h, "POST", "/api/v1/spotchecks/verify", `{"notice":`+pub.Body.String()+`}`, "read-token-for-the-tests-0001")
	if v.Code != 200 || decodeMap(t, v)["same"] != true {
		t.Fatalf("verify the notice: %d %s", v.Code, v.Body)
	}
	// a result by one of the entity's inspectors
	first := a["entities"].([]any)[0].(map[string]any)
	ent, insp := first["entity_id"].(string), first["inspectors"].([]any)[0].(string)
	res := call(f.h, "POST", "/api/v1/spotchecks/"+id+"/results", `{"entity_id":"`+ent+`","result":"合格"}`, f.tokenOf[insp])
	if res.Code != 200 {
		t.Fatalf("result: %d %s", res.Code, res.Body)
	}
	if rec := call(f.h, "GET", "/api/v1/entities/"+ent+"/records?kind=inspection", "", "read-token-for-the-tests-0001"); !strings.Contains(rec.Body.String(), id) {
		t.Fatalf("no inspection record: %s", rec.Body)
	}
	// bad input: 4xx naming the problem
	for _, c := range []struct {
		method, path, body string
		code               int
		says               string
	}{
		{"POST", "/api/v1/spotchecks", `{"items": "x", "sample": 1}`, 400, "items"},
		{"POST", "/api/v1/spotchecks", `{"items": ["x"], "sample": 1, "colour": 1}`, 400, "colour"},
		{"POST", "/api/v1/spotchecks", `{"items": ["x"], "sample": 1} {}`, 400, "after the JSON object"},
		{"POST", "/api/v1/spotchecks", `{"items": ["x"], "sample": 1, "filter": {"risk": ["Z"]}}`, 400, "risk"},
		{"POST", "/api/v1/spotchecks", `{"items": ["x"], "sample": 1, "filter": {"zone": "nope"}}`, 400, "nope"},
		{"POST", "/api/v1/complaints", `{"hotline": "110", "text": "x", "lon": 106.5, "lat": 29.6}`, 400, "hotline"},
		{"POST", "/api/v1/complaints", `{"hotline": "12315", "text": "x", "lon": 106.5}`, 400, "lat"},
		{"POST", "/api/v1/tasks", `{"title": "t", "target": {}, "deadline": "2027-01-31"}`, 400, "target"},
		{"POST", "/api/v1/tasks", `{"title": "t", "target": {"zone": "x"}, "deadline": "31.1.2027"}`, 400, "deadline"},
		{"POST", "/api/v1/incidents", `{"kind": "fire", "lon": 106.5, "lat": 29.6, "radius": -1}`, 400, "radius"},
		{"GET", "/api/v1/spotchecks/SC-nope", "", 404, "SC-nope"},
		{"GET", "/api/v1/complaints?status=open", "", 400, "status"},
		{"DELETE", "/api/v1/tasks", "", 405, "not allowed"},
	} {
		rec := call(f.h, c.method, c.path, c.body, testWriteToken)
		if rec.Code != c.code || !strings.Contains(jsonError(rec), c.says) {
			t.Errorf("%s %s %s: %d %s (want %d naming %q)", c.method, c.path, c.body, rec.Code, rec.Body, c.code, c.says)
		}
	}
	// a complaint at an entity's location goes to its grid's inspector
	var e *geo.Entity
	f.idx.Snapshot().ScanEntities(func(x *geo.Entity) bool {
		if x.GridID != "" {
			e = x
			return false
		}
		return true
	})
	cr := call(f.h, "POST", "/api/v1/complaints", fmt.Sprintf(`{"hotline":"12315","text":"无照经营","lon":%v,"lat":%v}`, e.Location[0], e.Location[1]), testWriteToken)
	c := decodeMap(t, cr)
	if cr.Code != 201 || c["grid"] != e.GridID || c["inspector"] != f.inspectors[e.GridID] || c["status"] != "assigned" {
		t.Fatalf("complaint: %d %s", cr.Code, cr.Body)
	}
	cid := c["id"].(string)
	out := decodeMap(t, call(f.h, "POST", "/api/v1/complaints", `{"hotline":"12358","text":"价格","lon":100.1,"lat":25.1}`, testWriteToken))
	if out["outside_area"] != true || !strings.Contains(out["routing"].(string), "outside the platform's area") {
		t.Fatalf("outside: %v", out)
	}
	if rec := call(f.h, "POST", "/api/v1/complaints/"+cid+"/status", `{"status":"replied"}`, testWriteToken); rec.Code != 409 || !strings.Contains(jsonError(rec), "handled") {
		t.Fatalf("skipping a status: %d %s", rec.Code, rec.Body)
	}
	if rec := call(f.h, "POST", "/api/v1/complaints/"+cid+"/status", `{"status":"handled","note":"已现场核查"}`, f.tokenOf[f.inspectors[e.GridID]]); rec.Code != 200 {
		t.Fatalf("handled: %d %s", rec.Code, rec.Body)
	}
	// the inbox is the token's, whatever ?inspector= says
	if ib := decodeMap(t, call(f.h, "GET", "/api/v1/inbox?inspector=x", "", testWriteToken)); ib["inspector"] != testWriter {
		t.Fatalf("inbox of %v", ib["inspector"])
	}
	// the inspector's inbox holds it, by their token
	ib := decodeMap(t, call(f.h, "GET", "/api/v1/inbox", "", f.tokenOf[f.inspectors[e.GridID]]))
	if !strings.Contains(fmt.Sprint(ib["complaints"]), cid) {
		t.Fatalf("inbox: %v", ib)
	}
	// tasks and incidents
	tr := call(f.h, "POST", "/api/v1/tasks", `{"title":"复查","target":{"entities":["`+e.ID+`"]},"deadline":"2027-01-31"}`, testWriteToken)
	if tr.Code != 201 || !strings.Contains(tr.Body.String(), `"by_grid":[{"grid":"`+e.GridID) {
		t.Fatalf("task: %d %s", tr.Code, tr.Body)
	}
	ir := call(f.h, "POST", "/api/v1/incidents", fmt.Sprintf(`{"kind":"fire","lon":%v,"lat":%v,"radius":300}`, e.Location[0], e.Location[1]), testWriteToken)
	if ir.Code != 201 || decodeMap(t, ir)["entities"].(map[string]any)["total"].(float64) < 1 {
		t.Fatalf("incident: %d %s", ir.Code, ir.Body)
	}
	for _, p := range []string{"/api/v1/spotchecks", "/api/v1/tasks", "/api/v1/complaints?status=handled", "/api/v1/incidents", "/api/v1/resources"} {
		if rec := call(f.h, "GET", p, "", "read-token-for-the-tests-0001"); rec.Code != 200 {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
}

// The public profile serves a spot check's public notice (risk withheld)
// and none of the other supervision routes.
func TestSupervisePublicProfile(t *testing.T) {
	f := newSuperviseFixture(t, Options{})
	sc, err := f.sv.CreateSpotCheck(context.Background(), "clerk", supervise.SpotCheckRequest{Items: []string{"x"}, Sample: 3, Filter: supervise.Filter{Risk: []string{"C", "D"}}})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := NewServer(f.srv.deps, Options{Profile: ProfilePublic})
	if err == nil {
		rec := call(pub, "GET", "/api/v1/spotchecks/"+sc.ID+"/public", "", "")
		if rec.Code != 200 || strings.Contains(rec.Body.String(), `"risk"`) || !strings.Contains(rec.Body.String(), "filter.risk") {
			t.Fatalf("public notice: %d %s", rec.Code, rec.Body)
		}
		for _, p := range []string{"/api/v1/spotchecks/" + sc.ID, "/api/v1/complaints", "/api/v1/inbox"} {
			if rec := call(pub, "GET", p, "", ""); rec.Code != 404 {
				t.Errorf("public %s: %d", p, rec.Code)
			}
		}
	} else if !strings.Contains(err.Error(), "tile") {
		t.Fatal(err)
	}
}

// The inbox stream goes through the whole middleware chain on a real
// listener with short timeouts: it outlives the request timeout and the
// write timeout, is not compressed or buffered, and an event reaches the
// inspector's stream alone.
func TestInboxStreamThroughMiddleware(t *testing.T) {
	opts := Options{RequestTimeout: 500 * time.Millisecond, WriteTimeout: 800 * time.Millisecond}
	f := newSuperviseFixture(t, opts)
	ts := httptest.NewUnstartedServer(f.h)
	ts.Config = opts.HTTPServer("", f.h)
	ts.Start()
	defer ts.Close()
	var e *geo.Entity
	f.idx.Snapshot().ScanEntities(func(x *geo.Entity) bool {
		if x.GridID != "" {
			e = x
			return false
		}
		return true
	})
	me := f.inspectors[e.GridID]
	open := func(tok string) (*http.Response, *bufio.Reader) {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/inbox/stream", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Accept-Encoding", "gzip, zstd")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
		}
		return resp, bufio.NewReader(resp.Body)
	}
	resp, rd := open(f.tokenOf[me])
	defer resp.Body.Close()
	var other string
	for _, in := range f.inspectors {
		if in != me {
			other = in
			break
		}
	}
	resp2, rd2 := open(f.tokenOf[other])
	defer resp2.Body.Close()
	time.Sleep(1200 * time.Millisecond) // past the request and write timeouts
	lines := make(chan string, 16)
	go func() {
		for {
			l, err := rd.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- l
		}
	}()
	others := make(chan string, 16)
	go func() {
		for {
			l, err := rd2.ReadString('\n')
			if err != nil {
				close(others)
				return
			}
			if strings.HasPrefix(l, "data:") {
				others <- l
			}
		}
	}()
	cr := call(f.h, "POST", "/api/v1/complaints", fmt.Sprintf(`{"hotline":"12315","text":"无照经营","uscc":"%s"}`, e.ID), testWriteToken)
	if cr.Code != 201 {
		t.Fatalf("%d %s", cr.Code, cr.Body)
	}
	cid := decodeMap(t, cr)["id"].(string)
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if strings.HasPrefix(l, "data:") {
				var ev supervise.Event
				if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data:")), &ev); err != nil || ev.ID != cid || ev.Inspector != me || ev.Kind != "complaint" {
					t.Fatalf("event %s: %v", l, err)
				}
				got = true
			}
		case <-deadline:
			t.Fatal("no event within 5 s")
		}
	}
	select {
	case l := <-others:
		t.Fatalf("another inspector's stream got %s", l)
	case <-time.After(200 * time.Millisecond):
	}
}
