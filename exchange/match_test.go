package exchange_test

import (
	"context"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
)

// TestMatchRules: rows made from a known entity with one kind of dirt each,
// checked against the entity they were made from (the oracle): the code a
// character off, the short name under another region prefix, another
// legal form with an old address.
func TestMatchRules(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ":memory:", 3000, exchange.Options{})
	snap := w.ix.Snapshot()
	m, err := exchange.NewMatcher(snap, w.search, w.parser, w.names, exchange.MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, e := range w.ds.Entities {
		names[w.names.Parse(e.Name).Short]++
	}
	// an entity with a unique short name and a name like 重庆X有限公司
	var e, f *geo.Entity
	for i := range w.ds.Entities {
		x := &w.ds.Entities[i]
		if strings.HasPrefix(x.Name, "重庆") && !strings.HasPrefix(x.Name, "重庆两江") && !strings.HasPrefix(x.Name, "重庆市") &&
			strings.HasSuffix(x.Name, "有限公司") && !strings.HasSuffix(x.Name, "责任公司") && !strings.HasSuffix(x.Name, "股份有限公司") &&
			names[w.names.Parse(x.Name).Short] == 1 && len(x.FormerNames) == 0 {
			if e == nil {
				e = x
			} else if f == nil {
				f = x
				break
			}
		}
	}
	if e == nil || f == nil {
		t.Fatal("no entity with a unique short name")
	}
	invalidNear := e.ID[:10] + string("01"[boolInt(e.ID[10] == '0')]) + e.ID[11:]
	if geo.ValidateUSCC(invalidNear) == nil {
		invalidNear = e.ID[:10] + string("23"[boolInt(e.ID[10] == '2')]) + e.ID[11:]
	}
	rs := []rune(e.Name)
	typoName := string(rs[:3]) + string(map[bool]rune{true: '甲', false: '乙'}[rs[3] != '甲']) + string(rs[4:])
	other := f.Address
	for _, tc := range []struct {
		name   string
		q      exchange.Query
		status exchange.Status
		entity string
		reason string
	}{
		{"invalid code one character off, another entity's name", exchange.Query{Code: invalidNear, Name: f.Name}, exchange.StatusAttached, f.ID, "not a valid USCC"},
		{"invalid code one character off, a name far from the entity's", exchange.Query{Code: invalidNear, Name: "重庆完全不同的名字有限公司"}, exchange.StatusUnmatched, "", "not a valid USCC"},
		{"invalid code one character off, a mistyped name, no address", exchange.Query{Code: invalidNear, Name: typoName}, exchange.StatusAttached, e.ID, "not a valid USCC"},
		{"a mistyped name alone", exchange.Query{Name: typoName}, exchange.StatusUnmatched, "", ""},
		{"another region prefix, no address", exchange.Query{Name: "重庆两江" + strings.TrimPrefix(e.Name, "重庆")}, exchange.StatusUnmatched, "", ""},
		{"another region prefix, the address", exchange.Query{Name: "重庆两江" + strings.TrimPrefix(e.Name, "重庆"), Address: e.Address}, exchange.StatusAttached, e.ID, ""},
		{"another legal form, an old address", exchange.Query{Name: strings.TrimSuffix(e.Name, "有限公司") + "有限责任公司", Address: other}, exchange.StatusAttached, e.ID, ""},
		{"重庆市 for 重庆, an old address", exchange.Query{Name: "重庆市" + strings.TrimPrefix(e.Name, "重庆"), Address: other}, exchange.StatusAttached, e.ID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Match(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.status || got.EntityID != tc.entity || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("%+v: got %s %s (%q, %.3f), want %s %s (%q); candidates %+v", tc.q, got.Status, got.EntityID, got.Reason, got.Confidence, tc.status, tc.entity, tc.reason, got.Candidates)
			}
			if got.Status == exchange.StatusAttached && got.Method != exchange.MethodNameAddress {
				t.Fatalf("attached by %s, want by name and address", got.Method)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
