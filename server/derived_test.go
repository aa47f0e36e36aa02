package server

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// The derived flags follow the department records: a write that sets one
// against them is refused naming it and changes nothing; writes that agree
// or leave it alone pass; an entity without such records is free; a later
// record changes the flag and what writes must agree with.
func TestWritesKeepDerivedFlags(t *testing.T) {
	h, ds, _ := exchangeServer(t)
	a, b := ds.Entities[11], ds.Entities[12]
	importTable := func(kind, date string) {
		t.Helper()
		table := "统一社会信用代码,企业名称,日期,事由\r\n" + a.ID + "," + a.Name + "," + date + ",测试\r\n"
		rec, m := send(h, "POST", "/api/v1/exchange/"+url.PathEscape("市场监督管理局")+"?kind="+kind, table, map[string]string{"Content-Type": "text/csv"})
		if rec.Code != 200 || m["report"].(map[string]any)["attached"].(float64) != 1 {
			t.Fatalf("import %s: %d %s", kind, rec.Code, rec.Body.String())
		}
	}
	get := func(id string) (map[string]any, string) {
		t.Helper()
		rec, m := send(h, "GET", "/api/v1/entities/"+id, "", nil)
		if rec.Code != 200 {
			t.Fatalf("get %s: %d %s", id, rec.Code, rec.Body.String())
		}
		return m, rec.Header().Get("ETag")
	}
	// the feature as GET gives it, with properties changed
	feature := func(id string, set map[string]any, drop ...string) string {
		m, _ := get(id)
		p := m["properties"].(map[string]any)
		for k, v := range set {
			p[k] = v
		}
		for _, k := range drop {
			delete(p, k)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	importTable("blacklist_entry", "2026-03-01")
	if m, _ := get(a.ID); m["properties"].(map[string]any)["blacklisted"] != true {
		t.Fatalf("the import did not set blacklisted: %v", m["properties"])
	}
	cases := []struct {
		name, method, id, body string
		want                   int
		flagInError            string
	}{
		{"patch against the records", "PATCH", a.ID, `{"properties":{"blacklisted":false}}`, 400, "blacklisted"},
		{"patch null against the records", "PATCH", a.ID, `{"properties":{"blacklisted":null,"name":"改名一"}}`, 400, "blacklisted"},
		{"patch agreeing", "PATCH", a.ID, `{"properties":{"blacklisted":true,"name":"改名二"}}`, 200, ""},
		{"patch leaving it alone", "PATCH", a.ID, `{"properties":{"name":"改名三"}}`, 200, ""},
		{"put against the records", "PUT", a.ID, feature(a.ID, map[string]any{"blacklisted": false}), 400, "blacklisted"},
		{"put without the flag (false)", "PUT", a.ID, feature(a.ID, nil, "blacklisted"), 400, "blacklisted"},
		{"put agreeing", "PUT", a.ID, feature(a.ID, map[string]any{"name": "改名四"}), 200, ""},
		{"bulk against the records", "POST", "bulk", feature(a.ID, map[string]any{"blacklisted": false}) + "\n", 400, "blacklisted"},
		{"no records: free", "PATCH", b.ID, `{"properties":{"blacklisted":true}}`, 200, ""},
	}
	for _, c := range cases {
		before, etag := get(a.ID)
		path := "/api/v1/entities/" + c.id
		if c.id == "bulk" {
			path = "/api/v1/entities/bulk"
		}
		rec, m := send(h, c.method, path, c.body, map[string]string{"Content-Type": "application/json"})
		if rec.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body.String(), c.want)
			continue
		}
		if c.want != 200 {
			msg, _ := m["error"].(string)
			if !strings.Contains(msg, c.flagInError) || !strings.Contains(msg, "department records") {
				t.Errorf("%s: error %q does not name %s and the records", c.name, msg, c.flagInError)
			}
			after, etag2 := get(a.ID)
			if etag2 != etag || after["properties"].(map[string]any)["name"] != before["properties"].(map[string]any)["name"] {
				t.Errorf("%s: a refused write changed the entity (%s → %s)", c.name, etag, etag2)
			}
		}
	}
	if m, _ := get(a.ID); m["properties"].(map[string]any)["name"] != "改名四" || m["properties"].(map[string]any)["blacklisted"] != true {
		t.Fatalf("after the writes: %v", m["properties"])
	}
	// a later removal: the flag follows, and writes must now agree with false
	importTable("blacklist_removal", "2026-05-01")
	if m, _ := get(a.ID); m["properties"].(map[string]any)["blacklisted"] != false {
		t.Fatalf("the removal did not clear blacklisted: %v", m["properties"])
	}
	if rec, _ := send(h, "PATCH", "/api/v1/entities/"+a.ID, `{"properties":{"blacklisted":true}}`, nil); rec.Code != 400 {
		t.Fatalf("patch against the removal: %d %s", rec.Code, rec.Body.String())
	}
	if rec, _ := send(h, "PUT", "/api/v1/entities/"+a.ID, feature(a.ID, nil, "blacklisted"), nil); rec.Code != 200 {
		t.Fatalf("put without the flag after the removal (false agrees): %d %s", rec.Code, rec.Body.String())
	}
}
