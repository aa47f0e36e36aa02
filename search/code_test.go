package search

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

func TestCodeKind(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want byte
	}{
		{"915001123118572474", 'u'},
		{"9150011231", 'u'},
		{"9150", 'u'},
		{"500112000123456", 'r'},  // 15 digits: a former registration number (or a USCC prefix)
		{"915", 0},                // too short
		{"cqlj", 0},               // pinyin initials
		{"LJKJ", 0},               // letters
		{"91500112311857247I", 0}, // I is not in the USCC alphabet
		{"9150011231185724741", 0},
	} {
		if got := codeKind(tc.q); got != tc.want {
			t.Errorf("codeKind(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

// TestSearchCode: a USCC finds its entity first; its first characters find
// exactly the entities whose USCC starts with them, in USCC order (the
// oracle: a scan of the demo's entities); a former registration number
// (attribute reg_no) finds its entity; a name query is not taken for a code.
func TestSearchCode(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	e := f.ds.Entities[len(f.ds.Entities)/3]
	hits := mustSearch(t, f.idx, Query{Text: e.ID, Limit: 5})
	if len(hits) != 1 || hits[0].ID != e.ID || hits[0].Match != MatchCode {
		t.Fatalf("USCC %s: %+v", e.ID, hits)
	}
	// lower case and spaces as typed
	if hits := mustSearch(t, f.idx, Query{Text: " " + strings.ToLower(e.ID[:9]) + " " + e.ID[9:], Limit: 5}); len(hits) != 1 || hits[0].ID != e.ID {
		t.Fatalf("USCC typed with spaces: %+v", hits)
	}
	for _, n := range []int{6, 10, 13} {
		prefix := e.ID[:n]
		var want []string
		for _, o := range f.ds.Entities {
			if strings.HasPrefix(o.ID, prefix) {
				want = append(want, o.ID)
			}
		}
		sort.Strings(want)
		limit := 20
		hits := mustSearch(t, f.idx, Query{Text: prefix, Limit: limit})
		if len(want) > limit {
			want = want[:limit]
		}
		if len(hits) != len(want) {
			t.Fatalf("prefix %s: %d hits, want %d", prefix, len(hits), len(want))
		}
		for i, h := range hits {
			if h.ID != want[i] || h.Layer != geo.LayerEntities {
				t.Fatalf("prefix %s: hit %d is %s, want %s", prefix, i, h.ID, want[i])
			}
		}
	}
	if hits := mustSearch(t, f.idx, Query{Text: e.ID[:10], Layers: []geo.Layer{geo.LayerPlaces}, Limit: 5}); len(hits) > 0 && hits[0].Match == MatchCode {
		t.Fatalf("a places-only search matched a code: %+v", hits[0])
	}

	// a former registration number, on a small index of its own
	g, _ := geo.New(geo.Options{})
	withReg := f.ds.Entities[0]
	withReg.Attrs = map[string]string{"reg_no": "500112000123456"}
	other := f.ds.Entities[1]
	for _, x := range []geo.Entity{withReg, other} {
		if err := g.UpsertEntity(x); err != nil {
			t.Fatal(err)
		}
	}
	opts, err := withDemoRegion(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := New(ctx, g, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := ix.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if hits := mustSearch(t, ix, Query{Text: "500112000123456"}); len(hits) != 1 || hits[0].ID != withReg.ID {
		t.Fatalf("注册号: %+v", hits)
	}
	// within a radius only
	far := orb.Point{withReg.Location[0] + 1, withReg.Location[1]}
	if hits := mustSearch(t, ix, Query{Text: withReg.ID, Center: &far, RadiusM: 1000}); len(hits) != 0 {
		t.Fatalf("a code outside the radius: %+v", hits)
	}
}

// BenchmarkSearchCode measures code queries (a whole USCC, its first 6 and
// 10 characters) on the demo region (79,000 entities;
// MARKETGEO_TEST_ENTITIES=1000000 for 1M) and reports p50/p99.
func BenchmarkSearchCode(b *testing.B) {
	f := getFixture(b)
	for _, n := range []int{18, 10, 6} {
		b.Run(map[int]string{18: "uscc", 10: "prefix10", 6: "prefix6"}[n], func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				e := f.ds.Entities[(i*7919)%len(f.ds.Entities)]
				t0 := time.Now()
				if _, err := f.idx.Search(context.Background(), Query{Text: e.ID[:n], Limit: 20}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportLatency(b, lat)
		})
	}
}

// FuzzCodeKind: any text is classified without a panic, and what is taken
// for a code is 4 to 18 characters of the USCC alphabet (a 注册号: 13 or
// 15 digits).
func FuzzCodeKind(f *testing.F) {
	for _, s := range []string{"915001123118572474", "9150", "500112000123456", "cqlj", "", "\xff\xfe", "91500112311857247I"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := codeKind(s)
		if k == 0 {
			return
		}
		if len(s) < 4 || len(s) > 18 || strings.Trim(s, "0123456789ABCDEFGHJKLMNPQRTUWXY") != "" {
			t.Fatalf("codeKind(%q) = %q", s, k)
		}
		if k == 'r' && (strings.Trim(s, "0123456789") != "" || (len(s) != 13 && len(s) != 15)) {
			t.Fatalf("codeKind(%q) = 'r'", s)
		}
	})
}
