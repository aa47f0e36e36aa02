package geo

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// linearIndustryOK is the industry rule written the plain way, the oracle of
// the prefix set: a prefix of the code, or a digit-led prefix of the code
// without its section letter.
func linearIndustryOK(prefixes []string, code string) bool {
	for _, p := range prefixes {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if strings.HasPrefix(code, p) || (len(code) > 1 && p[0] >= '0' && p[0] <= '9' && strings.HasPrefix(code[1:], p)) {
			return true
		}
	}
	return false
}

func TestIndustryPrefixSetMatchesLinearRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261207, 1))
	const alphabet = "ABCIRZ0123456789 i"
	randCode := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	codes := []string{"", "I", "I6", "I65", "I651", "I6510", "C1311", "R8710", "6510", "I6A10", "Z"}
	for range 300 {
		codes = append(codes, randCode(1+rng.IntN(6)))
	}
	for _, n := range []int{0, 1, industryScanMax, industryScanMax + 1, 40, 2000} {
		for round := range 20 {
			var prefixes []string
			for range n {
				code := codes[rng.IntN(len(codes))]
				switch rng.IntN(3) {
				case 0: // a prefix of a code
					if len(code) > 0 {
						code = code[:1+rng.IntN(len(code))]
					}
				case 1: // a digit-led prefix without the section letter
					if len(code) > 1 {
						code = code[1 : 1+rng.IntN(len(code)-1)+1]
					}
				}
				prefixes = append(prefixes, code)
			}
			c := Query{Filter: Filter{Industry: prefixes}}.compile()
			if (c.industrySet != nil) != (len(c.industry) > industryScanMax) {
				t.Fatalf("n=%d: set built %v with %d prefixes", n, c.industrySet != nil, len(c.industry))
			}
			for _, code := range codes {
				want := len(c.industry) == 0 || linearIndustryOK(prefixes, code)
				if got := c.entityOK(&Entity{Industry: code}); got != want {
					t.Fatalf("n=%d round %d code %q: got %v, the linear rule says %v (prefixes %q)", n, round, code, got, want, prefixes)
				}
			}
		}
	}
}

// BenchmarkEntityMatcherManyPrefixes: a filter of 150,000 industry prefixes
// (the list that once kept both cores busy for 47 s) costs an entity a few
// map lookups.
func BenchmarkEntityMatcherManyPrefixes(b *testing.B) {
	prefixes := make([]string, 150_000)
	for i := range prefixes {
		prefixes[i] = "X" + strings.Repeat("9", i%4) + string(rune('0'+i%10))
	}
	match := Filter{Industry: prefixes}.EntityMatcher()
	e := &Entity{Industry: "I6510"}
	b.ResetTimer()
	for b.Loop() {
		if match(e) {
			b.Fatal("matched")
		}
	}
}

// Filters of section letters alone are tested on the tree's bits (the
// entity is not read): the queries and the scan agree with the rule applied
// by hand to every entity, also after writes that change an entity's
// section, risk or status, and whatever the letters' case.
func TestSectionFilterOnTreeBits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ix, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	pts := clusteredPoints(r, 3000, 106.5, 29.6)
	sections := []string{"I6510", "F5191", "R9021", "H6210", "C3911", "A0111", "T9700", "S", "F52", ""}
	for i, p := range pts {
		e := testEntity(i, p)
		e.Industry = sections[r.IntN(len(sections))]
		if err := ix.UpsertEntity(e); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	check := func(round int) {
		snap := ix.Snapshot()
		for _, f := range []Filter{
			{Industry: []string{"F", "H"}},
			{Industry: []string{"f", " h "}, Risk: []Risk{RiskB, RiskC, RiskD}},
			{Industry: []string{"A", "Z", "T"}, Status: []Status{StatusActive}},
			{Industry: []string{"I", "I65"}}, // not all sections: the entity is read
			{Industry: []string{"R", ""}},
		} {
			want := map[string]bool{}
			snap.ScanEntities(func(e *Entity) bool {
				ok := linearIndustryOK(f.Industry, e.Industry) &&
					(len(f.Risk) == 0 || slices.Contains(f.Risk, e.Risk)) &&
					(len(f.Status) == 0 || slices.Contains(f.Status, e.Status))
				if ok {
					want[e.ID] = true
				}
				return true
			})
			res, err := snap.InBBox(ctx, LayerEntities, snap.Bounds(), Query{Limit: 10000, Filter: f})
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != len(want) {
				t.Errorf("round %d %+v: InBBox %d, by hand %d", round, f, res.Total, len(want))
			}
			for _, h := range res.Hits {
				if !want[h.Entity.ID] {
					t.Errorf("round %d %+v: InBBox has %s (%s)", round, f, h.Entity.ID, h.Entity.Industry)
				}
			}
			near, err := snap.Nearby(ctx, LayerEntities, pts[0], 3000, Query{Limit: 10000, Filter: f})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range near.Hits {
				if !want[h.Entity.ID] {
					t.Errorf("round %d %+v: Nearby has %s (%s)", round, f, h.Entity.ID, h.Entity.Industry)
				}
			}
			got := 0
			for _, e := range snap.EntitiesWhere(f) {
				if !want[e.ID] {
					t.Errorf("round %d %+v: EntitiesWhere has %s (%s)", round, f, e.ID, e.Industry)
				}
				got++
			}
			if got != len(want) {
				t.Errorf("round %d %+v: EntitiesWhere %d, by hand %d", round, f, got, len(want))
			}
		}
	}
	check(0)
	// writes that move entities between sections, classes and statuses
	snap := ix.Snapshot()
	var all []*Entity
	snap.ScanEntities(func(e *Entity) bool { all = append(all, e); return true })
	for i := range 600 {
		e := *all[r.IntN(len(all))]
		e.Industry = sections[r.IntN(len(sections))]
		if i%3 == 0 {
			e.Risk = []Risk{RiskA, RiskB, RiskC, RiskD}[r.IntN(4)]
		}
		if err := ix.UpsertEntity(e); err != nil {
			t.Fatal(err)
		}
	}
	check(1)
}
