package geo

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// The matcher agrees with the filter the index applies in a query.
func TestEntityMatcherAgreesWithQuery(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ix, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	pts := clusteredPoints(r, 3000, 106.5, 29.6)
	for i, p := range pts {
		if err := ix.UpsertEntity(testEntity(i, p)); err != nil {
			t.Fatal(err)
		}
	}
	snap := ix.Snapshot()
	for _, f := range []Filter{
		{},
		{Industry: []string{"I65"}},
		{Industry: []string{"6210", "R"}, Risk: []Risk{RiskC, RiskD}},
		{Status: []Status{StatusActive}, Risk: []Risk{RiskB}},
	} {
		res, err := snap.InBBox(context.Background(), LayerEntities, snap.Bounds(), Query{Limit: 10000, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]bool{}
		for _, h := range res.Hits {
			in[h.Entity.ID] = true
		}
		m := f.EntityMatcher()
		n := 0
		snap.ScanEntities(func(e *Entity) bool {
			if m(e) != in[e.ID] {
				t.Errorf("%+v: entity %s: matcher %v, query %v", f, e.ID, m(e), in[e.ID])
			}
			if m(e) {
				n++
			}
			return true
		})
		if n != res.Total {
			t.Errorf("%+v: matcher %d, query %d", f, n, res.Total)
		}
		// ScanEntitiesWhere: the same entities, in ID order
		var got, want []string
		snap.ScanEntities(func(e *Entity) bool {
			if m(e) {
				want = append(want, e.ID)
			}
			return true
		})
		snap.ScanEntitiesWhere(f, func(e *Entity) bool { got = append(got, e.ID); return true })
		if !slices.Equal(got, want) {
			t.Errorf("%+v: ScanEntitiesWhere %d entities, brute force %d (or another order)", f, len(got), len(want))
		}
		got = got[:0]
		for _, e := range snap.EntitiesWhere(f) {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: EntitiesWhere %d entities, brute force %d (or another order)", f, len(got), len(want))
		}
		// every way of the scan: sorted or by the ID order, in one or several goroutines
		for _, way := range []struct{ sortShare, parallelMin int }{{0, 1 << 30}, {1, 1 << 30}, {0, 1}, {1, 1}, {4, 100}} {
			got = got[:0]
			snap.scanEntitiesWhere(f, nil, func(e *Entity) bool { got = append(got, e.ID); return true }, way.sortShare, way.parallelMin)
			if !slices.Equal(got, want) {
				t.Errorf("%+v, %+v: scanEntitiesWhere %d entities, brute force %d (or another order)", f, way, len(got), len(want))
			}
		}
	}
}
