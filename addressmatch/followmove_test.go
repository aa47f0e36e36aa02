package addressmatch

import (
	"context"
	"math"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestFollowRelocation: entities moved at their registered address (up to
// ~100 m, the same address and building) move their records' locations
// without a new entry (the address is not parsed again), and the database
// then answers every check of a moved address as one filled afresh from
// the index after the moves does (the oracle), the new mean location
// included.
func TestFollowRelocation(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 2000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	if err := ds.Load(idx); err != nil {
		t.Fatal(err)
	}
	live := followed(t, idx, nil)
	entries := len(live.entries)
	before := recordViews(live)
	var moved []*geo.Entity
	alone := 0 // moved records alone at their address: a removal would drop the entry
	for round := range 3 {
		b := idx.Batch()
		i := 0
		idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
			i++
			if e.Address == "" || (i+round)%9 != 0 {
				return true
			}
			ne := *e
			ne.Location = orb.Point{e.Location[0] + float64(i%7-3)*3e-4, e.Location[1] + float64(i%5-2)*3e-4}
			if err := b.UpsertEntity(ne); err != nil {
				t.Fatal(err)
			}
			if round == 0 && before[entityPrefix+e.ID].nRecords == 1 {
				alone++
			}
			return true
		})
		b.Commit()
	}
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if e.Address != "" && len(moved) < 300 {
			moved = append(moved, e)
		}
		return true
	})
	if alone == 0 {
		t.Fatal("no moved entity is alone at its address: the test would not see a re-made entry")
	}
	if len(live.entries) != entries {
		t.Fatalf("%d entries after the moves, %d before: moves made new entries", len(live.entries), entries)
	}
	fresh := followed(t, idx, nil)
	got, want := recordViews(live), recordViews(fresh)
	if len(got) != len(want) {
		t.Fatalf("%d records; the fresh fill has %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		near := math.Abs(g.loc[0]-w.loc[0]) < 1e-9 && math.Abs(g.loc[1]-w.loc[1]) < 1e-9
		g.loc = w.loc
		if !ok || g != w || !near {
			t.Fatalf("record %s: %+v; the fresh fill has %+v", id, g, w)
		}
	}
	for k, w := range fresh.aggs {
		g := live.aggs[k]
		if g == nil || g.n != w.n || math.Abs(g.lon-w.lon) > 1e-6 || math.Abs(g.lat-w.lat) > 1e-6 {
			t.Fatalf("aggregate %s: %+v; the fresh fill has %+v", k, g, w)
		}
	}
	if len(live.aggs) != len(fresh.aggs) {
		t.Fatalf("%d aggregates; the fresh fill has %d", len(live.aggs), len(fresh.aggs))
	}
	ctx := context.Background()
	near := func(a, b orb.Point) bool { return math.Abs(a[0]-b[0]) < 1e-9 && math.Abs(a[1]-b[1]) < 1e-9 }
	for _, e := range moved {
		g, err1 := live.Check(ctx, e.Address)
		w, err2 := fresh.Check(ctx, e.Address)
		if err1 != nil || err2 != nil {
			t.Fatalf("check %q: %v, %v", e.Address, err1, err2)
		}
		if g.Verdict != w.Verdict || len(g.Candidates) != len(w.Candidates) || !near(g.Location, w.Location) {
			t.Fatalf("check %q: %s %v %d candidates; the fresh fill: %s %v %d", e.Address, g.Verdict, g.Location, len(g.Candidates), w.Verdict, w.Location, len(w.Candidates))
		}
		for j := range g.Candidates {
			gc, wc := g.Candidates[j], w.Candidates[j]
			if gc.Address != wc.Address || gc.Score != wc.Score || gc.Level != wc.Level || gc.EntityCount != wc.EntityCount || !near(gc.Location, wc.Location) {
				t.Fatalf("check %q candidate %d: %+v; the fresh fill: %+v", e.Address, j, gc, wc)
			}
		}
	}
}
