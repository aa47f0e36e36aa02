package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// exchangeServer is a server with a store, the exchange, search and the
// address parser over a 2,000-entity demo region.
func exchangeServer(t *testing.T) (http.Handler, *demo.Dataset, *store.Store) {
	t.Helper()
	ctx := context.Background()
	ds, err := demo.Generate(demo.Options{Entities: 2000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	ex, err := exchange.New(exchange.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, ":memory:", idx, store.Options{Collections: []store.Collection{ex.Collection()}})
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
	ex.Attach(st)
	reg, err := demo.Region()
	if err != nil {
		t.Fatal(err)
	}
	so := search.DefaultOptions()
	so.Region = reg
	si, err := search.New(ctx, idx, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { si.Close() })
	if err := si.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	po := addressmatch.DefaultOptions()
	po.Region = reg
	p, err := addressmatch.NewParser(po)
	if err != nil {
		t.Fatal(err)
	}
	ex.SetEngines(si, p, search.NewNameParser(reg))
	toks, err := NewTokens(PlainToken(ScopeWrite, testWriter, testWriteToken))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{Index: idx, Store: st, Exchange: ex, Search: si}, Options{Tokens: toks})
	if err != nil {
		t.Fatal(err)
	}
	return h, ds, st
}

func TestExchangeRoutes(t *testing.T) {
	h, ds, st := exchangeServer(t)
	a, b := ds.Entities[7], ds.Entities[8]
	table := "统一社会信用代码,企业名称,住所,处罚日期,处罚内容\r\n" +
		strings.ToUpper(a.ID) + "," + a.Name + "," + a.Address + ",2026-01-05,罚款\r\n" +
		"," + b.Name + "," + b.Address + ",2025-06-01,警告\r\n" +
		",重庆查无此企业商贸有限公司,重庆市渝北区无名路1号,2026-01-07,罚款\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(table)
	if err != nil {
		t.Fatal(err)
	}
	dept := "/api/v1/exchange/" + url.PathEscape("市场监督管理局")
	rec, m := send(h, "POST", dept+"?kind=penalty", gbk, map[string]string{"Content-Type": "text/csv; charset=gbk"})
	if rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body.String())
	}
	rep := m["report"].(map[string]any)
	if rep["attached"].(float64) != 2 || rep["unmatched"].(float64) != 1 || rep["encoding"] != "gb18030" || len(m["not_attached"].([]any)) != 1 {
		t.Fatalf("report %s", rec.Body.String())
	}
	seq := rec.Header().Get("X-Marketgeo-Seq")
	if seq == "" || seq != strconv.FormatUint(st.Seq(), 10) {
		t.Fatalf("seq header %q, store at %d", seq, st.Seq())
	}
	// the records, filtered
	for _, c := range []struct {
		q    string
		want int
	}{{"", 1}, {"?kind=penalty", 1}, {"?kind=tax", 0}, {"?from=2026-01-01", 0}, {"?to=2025-12-31", 1}, {"?dept=" + url.QueryEscape("市场监督管理局"), 1}} {
		rec, m := send(h, "GET", "/api/v1/entities/"+b.ID+"/records"+c.q, "", nil)
		if rec.Code != 200 || int(m["count"].(float64)) != c.want {
			t.Errorf("records%s: %d %s, want %d", c.q, rec.Code, rec.Body.String(), c.want)
		}
	}
	rec, m = send(h, "GET", "/api/v1/entities/"+a.ID+"?include=records_summary", "", nil)
	sum, _ := m["properties"].(map[string]any)["records_summary"].(map[string]any)
	if rec.Code != 200 || sum == nil || sum["total"].(float64) != 1 || sum["by_kind"].(map[string]any)["penalty"].(float64) != 1 {
		t.Fatalf("include=records_summary: %d %s", rec.Code, rec.Body.String())
	}
	// the same table again, as a multipart upload with a mapping, asking for the feedback
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "penalties.csv")
	fw.Write([]byte(gbk))
	mp, _ := mw.CreateFormFile("mapping", "m.yaml")
	mp.Write([]byte("kind: penalty\ncolumns:\n  date: 处罚日期\n"))
	mw.Close()
	rec, _ = send(h, "POST", dept+"?feedback=csv", body.String(), map[string]string{"Content-Type": mw.FormDataContentType()})
	if rec.Code != 200 || rec.Header().Get("X-Marketgeo-Seq") != seq || rec.Header().Get("X-Marketgeo-Rows-Unchanged") != "2" {
		t.Fatalf("re-import with feedback: %d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
	lines := strings.Split(strings.TrimPrefix(rec.Body.String(), "\ufeff"), "\n")
	if !strings.HasSuffix(strings.TrimSpace(lines[0]), "状态,原因") || !strings.Contains(lines[1], a.ID+","+a.Name+",uscc,1.000,unchanged") || !strings.Contains(lines[3], ",unmatched,") {
		t.Fatalf("feedback:\n%s", rec.Body.String())
	}
	// NDJSON: progress lines, then the answer
	rec, _ = send(h, "POST", dept+"?kind=penalty", table, map[string]string{"Content-Type": "text/csv", "Accept": "application/x-ndjson"})
	sc := bufio.NewScanner(strings.NewReader(rec.Body.String()))
	var last map[string]any
	for sc.Scan() {
		last = nil
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
		}
	}
	if rec.Code != 200 || last["report"] == nil {
		t.Fatalf("NDJSON: %d %s", rec.Code, rec.Body.String())
	}
	// bad requests: a clear 4xx, nothing written
	before := st.Seq()
	for _, c := range []struct {
		method, path, body string
		hdr                map[string]string
		want               int
	}{
		{"POST", dept + "?kind=poetry", table, nil, 400},
		{"POST", dept + "?kind=tax", "PK\x03\x04not a workbook", nil, 400},
		{"POST", dept + "?kind=tax", "", nil, 400},
		{"POST", dept + "?kind=tax", "a,b\n1,2\n", nil, 400},
		{"POST", dept + "?kind=tax&feedback=pdf", table, nil, 400},
		{"POST", "/api/v1/exchange/a:b?kind=tax", table, nil, 400},
		{"POST", dept + "?kind=tax", table, map[string]string{"Authorization": "Bearer nope"}, 401},
		{"GET", "/api/v1/entities/" + a.ID + "/records?from=yesterday", "", nil, 400},
		{"GET", "/api/v1/entities/" + a.ID + "/records?kind=poetry", "", nil, 400},
		{"GET", "/api/v1/entities/91500000000000000X/records", "", nil, 400},
		{"GET", "/api/v1/entities/" + validUSCC(424242) + "/records", "", nil, 404},
		{"GET", "/api/v1/exchange/jobs/nope", "", nil, 404},
	} {
		rec, m := send(h, c.method, c.path, c.body, c.hdr)
		if rec.Code != c.want || m["error"] == nil {
			t.Errorf("%s %s: %d %s, want %d with an error", c.method, c.path, rec.Code, rec.Body.String(), c.want)
		}
	}
	if st.Seq() != before {
		t.Fatal("a rejected request wrote")
	}
}
