package geo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// TestPackedWithLiveUpdates drives a bulk-loaded (packed) layer through
// many commits of inserts, moves and deletes, past several rebuilds, and
// checks after each commit that Nearby, KNearest and InBBox equal brute
// force over the live points, and that older snapshots still answer as
// they did when they were current.
func TestPackedWithLiveUpdates(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	const lon, lat = 106.55, 29.6
	pts := clusteredPoints(r, 6000, lon, lat)
	ix, _ := buildIndex(t, pts)
	if ix.Snapshot().entities.tree.base == nil {
		t.Fatal("a bulk load into an empty layer did not build the packed base")
	}
	live := map[string]orb.Point{}
	for i, p := range pts {
		live[makeUSCC(i)] = p
	}
	next := len(pts)
	type past struct {
		s    *Snapshot
		live map[string]orb.Point
	}
	var history []past
	rebuilds := 0
	prevDelta := 0
	randomPoint := func() orb.Point {
		return orb.Point{lon + (r.Float64()-0.5)*0.08, lat + (r.Float64()-0.5)*0.08}
	}
	for round := 0; round < 40; round++ {
		b := ix.Batch()
		ids := make([]string, 0, len(live))
		for id := range live {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		touched := map[string]bool{}
		for k := 0; k < 150; k++ {
			switch op := r.IntN(3); {
			case op == 0 || len(ids) == 0: // a new entity
				p := randomPoint()
				e := testEntity(next, p)
				live[e.ID] = p
				next++
				if err := b.UpsertEntity(e); err != nil {
					t.Fatal(err)
				}
			case op == 1: // move an existing one
				id := ids[r.IntN(len(ids))]
				if touched[id] {
					continue
				}
				touched[id] = true
				e, _ := ix.Snapshot().Entity(id)
				ne := *e
				ne.Location = randomPoint()
				live[id] = ne.Location
				if err := b.UpsertEntity(ne); err != nil {
					t.Fatal(err)
				}
			default: // delete one
				id := ids[r.IntN(len(ids))]
				if touched[id] {
					continue
				}
				touched[id] = true
				delete(live, id)
				if err := b.Delete(LayerEntities, id); err != nil {
					t.Fatal(err)
				}
			}
		}
		b.Commit()
		s := ix.Snapshot()
		if d := s.entities.tree.delta.Len(); d < prevDelta {
			rebuilds++
			prevDelta = d
		} else {
			prevDelta = d
		}
		checkAgainstModel(t, ctx, s, live, r)
		history = append(history, past{s, maps(live)})
		if len(history) > 3 {
			old := history[len(history)-4]
			checkAgainstModel(t, ctx, old.s, old.live, r)
		}
	}
	if rebuilds < 1 {
		t.Fatalf("no rebuild happened over the test (delta now %d)", prevDelta)
	}
}

func maps(m map[string]orb.Point) map[string]orb.Point {
	out := make(map[string]orb.Point, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func checkAgainstModel(t *testing.T, ctx context.Context, s *Snapshot, live map[string]orb.Point, r *rand.Rand) {
	t.Helper()
	if got := s.Counts().Entities; got != len(live) {
		t.Fatalf("count %d, want %d", got, len(live))
	}
	if got := s.entities.tree.len(); got != len(live) {
		t.Fatalf("the point index holds %d live points, want %d", got, len(live))
	}
	type idd struct {
		id string
		d  float64
	}
	for q := 0; q < 5; q++ {
		c := orb.Point{106.55 + (r.Float64()-0.5)*0.08, 29.6 + (r.Float64()-0.5)*0.08}
		radius := 300 + r.Float64()*1500
		var want []idd // strictly inside, by more than a micrometre
		loose := map[string]float64{}
		for id, p := range live {
			d := oracleM(c, p)
			if d <= radius+1e-6 {
				loose[id] = d
			}
			if d < radius-1e-6 {
				want = append(want, idd{id, d})
			}
		}
		res, err := s.Nearby(ctx, LayerEntities, c, radius, Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for i, h := range res.Hits {
			if i > 0 && h.DistanceM < res.Hits[i-1].DistanceM {
				t.Fatal("nearby hits out of order")
			}
			if _, dup := got[h.Entity.ID]; dup {
				t.Fatalf("nearby returned %s twice", h.Entity.ID)
			}
			got[h.Entity.ID] = h.DistanceM
		}
		for _, w := range want {
			if _, ok := got[w.id]; !ok {
				t.Fatalf("nearby missed %s at %.3f m of %.1f", w.id, w.d, radius)
			}
		}
		for id, d := range got {
			od, ok := loose[id]
			if !ok {
				t.Fatalf("nearby returned %s, which is not live within the radius", id)
			}
			if math.Abs(d-od) > 1e-6 {
				t.Fatalf("distance of %s: %v, oracle %v", id, d, od)
			}
		}
		if res.Total != len(got) {
			t.Fatalf("total %d, hits %d", res.Total, len(got))
		}
		// k nearest
		all := make([]float64, 0, len(live))
		for _, p := range live {
			all = append(all, oracleM(c, p))
		}
		slices.Sort(all)
		kn, err := s.KNearest(ctx, LayerEntities, c, 9, Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(kn.Hits) != min(9, len(all)) {
			t.Fatalf("knearest returned %d hits", len(kn.Hits))
		}
		for i, h := range kn.Hits {
			if math.Abs(h.DistanceM-all[i]) > 1e-6 {
				t.Fatalf("knearest hit %d at %v m, oracle %v", i, h.DistanceM, all[i])
			}
		}
		// box
		bb := orb.Bound{Min: orb.Point{c[0] - 0.004, c[1] - 0.003}, Max: orb.Point{c[0] + 0.004, c[1] + 0.003}}
		n := 0
		for _, p := range live {
			if bb.Contains(p) {
				n++
			}
		}
		br, err := s.InBBox(ctx, LayerEntities, bb, Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if br.Total != n {
			t.Fatalf("box holds %d, brute force %d", br.Total, n)
		}
	}
}

// TestBulkLoadDerivesGrids: a bulk load of entities together with a grid
// partition (the parallel derivation path) gives every entity the grid
// that brute-force point-in-polygon (orb/planar) finds.
func TestBulkLoadDerivesGrids(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	ix, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := ix.Batch()
	var grids []Zone
	const n = 6
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x0, y0 := 106.5+float64(i)*0.01, 29.5+float64(j)*0.01
			ring := orb.Ring{{x0, y0}, {x0 + 0.01, y0}, {x0 + 0.01, y0 + 0.01}, {x0, y0 + 0.01}, {x0, y0}}
			z := Zone{ID: gridID(i, j), Layer: "grid", Name: gridID(i, j), Geometry: orb.MultiPolygon{{ring}}}
			grids = append(grids, z)
			if err := b.UpsertZone(z); err != nil {
				t.Fatal(err)
			}
		}
	}
	pts := make([]orb.Point, 20000)
	for i := range pts {
		// some outside the partition, none exactly on a grid line
		pts[i] = orb.Point{106.49 + r.Float64()*0.08 + 1e-9, 29.49 + r.Float64()*0.08 + 1e-9}
		if err := b.UpsertEntity(testEntity(i, pts[i])); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	s := ix.Snapshot()
	for i, p := range pts {
		want := ""
		for _, z := range grids {
			if planar.MultiPolygonContains(z.Geometry, p) {
				want = z.ID
			}
		}
		e, ok := s.Entity(makeUSCC(i))
		if !ok || e.GridID != want {
			t.Fatalf("entity %d at %v: grid %q, want %q", i, p, e.GridID, want)
		}
	}
}

// TestDeadSetAnyIn: anyIn over every kind of range (within a word, across
// words and chunks, past the last chunk) equals a loop over has.
func TestDeadSetAnyIn(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 3 << deadChunkBits
	for _, density := range []float64{0, 0.0005, 0.01, 0.3} {
		var d deadSet
		for i := 0; i < n; i++ {
			if r.Float64() < density {
				d.set(i)
			}
		}
		for q := 0; q < 2000; q++ {
			s := r.IntN(n + 100)
			e := s + []int{0, 1, 5, 63, 64, 65, 200, 5000}[q%8]
			want := false
			for i := s; i < e; i++ {
				if d.has(i) {
					want = true
					break
				}
			}
			if got := d.anyIn(s, e); got != want {
				t.Fatalf("density %v: anyIn(%d, %d) = %v, want %v", density, s, e, got, want)
			}
		}
	}
}

// TestBoundsAfterDeletes: Snapshot.Bounds is the exact box of the live
// features after deletions from the packed base, before any rebuild
// (oracle: the box of the remaining points).
func TestBoundsAfterDeletes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pts := clusteredPoints(r, 20000, 106.55, 29.56)
	// outliers on each side, deleted first
	pts = append(pts, orb.Point{105.0, 29.5}, orb.Point{108.0, 29.6}, orb.Point{106.5, 28.0}, orb.Point{106.6, 31.0})
	ix, ents := buildIndex(t, pts)
	live := make([]bool, len(ents))
	for i := range live {
		live[i] = true
	}
	check := func(step string) {
		t.Helper()
		var want orb.Bound
		first := true
		for i, e := range ents {
			if !live[i] {
				continue
			}
			if first {
				want, first = e.Location.Bound(), false
			}
			want = want.Extend(e.Location)
		}
		s := ix.Snapshot()
		if s.entities.tree.ndead == 0 {
			t.Fatalf("%s: no dead base points: the test does not reach the walk", step)
		}
		if got := s.Bounds(); got != want {
			t.Fatalf("%s: Bounds %v, want %v", step, got, want)
		}
	}
	for i := len(ents) - 4; i < len(ents); i++ {
		if err := ix.Delete(LayerEntities, ents[i].ID); err != nil {
			t.Fatal(err)
		}
		live[i] = false
		check(fmt.Sprintf("outlier %d deleted", i))
	}
	for range 3000 {
		i := r.IntN(len(ents))
		if live[i] {
			if err := ix.Delete(LayerEntities, ents[i].ID); err != nil {
				t.Fatal(err)
			}
			live[i] = false
		}
	}
	check("3,000 random deletes")
}
