package geo

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

func buildIndex(t testing.TB, pts []orb.Point) (*Index, []Entity) {
	t.Helper()
	ix, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := ix.Batch()
	ents := make([]Entity, len(pts))
	for i, p := range pts {
		ents[i] = testEntity(i, p)
		if err := b.UpsertEntity(ents[i]); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	return ix, ents
}

// oracle distance: orb's haversine on the same sphere, computed independently.
func oracleM(a, b orb.Point) float64 {
	return orbgeo.DistanceHaversine(a, b) * EarthRadius / orb.EarthRadius
}

func TestNearbyMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	lats := []struct {
		name     string
		lon, lat float64
	}{
		{"chongqing", 106.55, 29.56},
		{"equator", 10, 0},
		{"oslo", 10.75, 59.9},
		{"arctic", 20, 84.5},
		{"antarctic", -60, -88.9},
		{"antimeridian", 179.995, 65},
		{"antimeridian west", -179.99, -20},
	}
	for _, loc := range lats {
		t.Run(loc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(loc.lat*1000)))
			pts := clusteredPoints(r, 5000, loc.lon, loc.lat)
			ix, ents := buildIndex(t, pts)
			for q := 0; q < 60; q++ {
				c := pts[r.IntN(len(pts))]
				c = orb.Point{c[0] + r.NormFloat64()*0.001, math.Max(-90, math.Min(90, c[1]+r.NormFloat64()*0.001))}
				if c[0] > 180 {
					c[0] -= 360
				}
				if c[0] < -180 {
					c[0] += 360
				}
				radius := []float64{50, 200, 1000, 5000, 50000}[q%5]
				filter := Filter{}
				if q%3 == 1 {
					filter.Risk = []Risk{RiskC, RiskD}
				}
				if q%6 == 2 {
					filter.Industry = []string{"I65"}
					filter.Status = []Status{StatusActive}
				}
				res, err := ix.Nearby(ctx, LayerEntities, c, radius, Query{Limit: 10000, Filter: filter})
				if err != nil {
					t.Fatal(err)
				}
				cf := Query{Filter: filter}.compile()
				var want []string
				wantD := map[string]float64{}
				for _, e := range ents {
					d := oracleM(c, e.Location)
					if d <= radius*(1-1e-9) && cf.bitsOK(entityBits(&e)) && cf.entityOK(&e) {
						want = append(want, e.ID)
						wantD[e.ID] = d
					}
				}
				got := map[string]bool{}
				for i, h := range res.Hits {
					got[h.ID()] = true
					if i > 0 && h.DistanceM < res.Hits[i-1].DistanceM {
						t.Fatalf("hits not sorted at %d", i)
					}
					if h.DistanceM > radius*(1+1e-9) {
						t.Fatalf("hit %s at %.3f m beyond radius %v", h.ID(), h.DistanceM, radius)
					}
					if od := oracleM(c, h.Location()); math.Abs(od-h.DistanceM) > 1e-6*math.Max(1, od) {
						t.Fatalf("distance %.6f, oracle %.6f", h.DistanceM, od)
					}
				}
				for _, id := range want {
					if !got[id] {
						t.Fatalf("q%d r=%v: missed %s at %.4f m (got %d, want %d)", q, radius, id, wantD[id], len(res.Hits), len(want))
					}
				}
				if res.Total != len(res.Hits) {
					t.Fatalf("total %d != hits %d without truncation", res.Total, len(res.Hits))
				}
			}
		})
	}
}

func TestNearbyLimitAndTruncation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	pts := clusteredPoints(r, 3000, 106.55, 29.56)
	ix, _ := buildIndex(t, pts)
	ctx := context.Background()
	all, err := ix.Nearby(ctx, LayerEntities, pts[0], 2000, Query{Limit: 10000})
	if err != nil || all.Total < 20 {
		t.Fatalf("setup: %v total %d", err, all.Total)
	}
	cut, err := ix.Nearby(ctx, LayerEntities, pts[0], 2000, Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !cut.Truncated || cut.Total != all.Total || len(cut.Hits) != 10 {
		t.Fatalf("truncated=%v total=%d hits=%d, want true %d 10", cut.Truncated, cut.Total, len(cut.Hits), all.Total)
	}
	for i := range cut.Hits {
		if cut.Hits[i].DistanceM != all.Hits[i].DistanceM {
			t.Fatalf("limited hit %d differs from the full answer", i)
		}
	}
	// Filter before limit: a filter on risk D still yields 10 D hits when ≥ 10 exist.
	d, _ := ix.Nearby(ctx, LayerEntities, pts[0], 2000, Query{Limit: 10, Filter: Filter{Risk: []Risk{RiskD}}})
	for _, h := range d.Hits {
		if h.Entity.Risk != RiskD {
			t.Fatalf("filter ignored: %s", h.Entity.Risk)
		}
	}
	if len(d.Hits) != min(10, d.Total) {
		t.Fatalf("got %d hits with total %d", len(d.Hits), d.Total)
	}
}

func TestKNearestMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	for _, loc := range []orb.Point{{106.55, 29.56}, {0, 0}, {179.99, 70}, {-30, -89.5}} {
		r := rand.New(rand.NewPCG(3, uint64(loc[1]*100+1000)))
		pts := clusteredPoints(r, 4000, loc[0], loc[1])
		ix, ents := buildIndex(t, pts)
		for q := 0; q < 40; q++ {
			c := orb.Point{loc[0] + r.NormFloat64()*0.1, math.Max(-90, math.Min(90, loc[1]+r.NormFloat64()*0.1))}
			if c[0] > 180 {
				c[0] -= 360
			}
			k := []int{1, 10, 100}[q%3]
			filter := Filter{}
			if q%2 == 1 {
				filter.Risk = []Risk{RiskB}
			}
			res, err := ix.KNearest(ctx, LayerEntities, c, k, Query{Filter: filter})
			if err != nil {
				t.Fatal(err)
			}
			cf := Query{Filter: filter}.compile()
			var ds []float64
			for _, e := range ents {
				if cf.bitsOK(entityBits(&e)) {
					ds = append(ds, oracleM(c, e.Location))
				}
			}
			sort.Float64s(ds)
			if len(res.Hits) != min(k, len(ds)) {
				t.Fatalf("got %d hits, want %d", len(res.Hits), min(k, len(ds)))
			}
			for i, h := range res.Hits {
				if math.Abs(h.DistanceM-ds[i]) > 1e-6*math.Max(1, ds[i]) {
					t.Fatalf("at %v k=%d: hit %d at %.6f m, brute force %.6f m", c, k, i, h.DistanceM, ds[i])
				}
			}
		}
	}
}

func TestQueryErrors(t *testing.T) {
	ix, _ := buildIndex(t, []orb.Point{{106.5, 29.5}})
	ctx := context.Background()
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"radius zero", func() error { _, err := ix.Nearby(ctx, LayerEntities, orb.Point{106, 29}, 0, Query{}); return err }, ErrInvalidQuery},
		{"radius too big", func() error { _, err := ix.Nearby(ctx, LayerEntities, orb.Point{106, 29}, 50001, Query{}); return err }, ErrInvalidQuery},
		{"radius NaN", func() error {
			_, err := ix.Nearby(ctx, LayerEntities, orb.Point{106, 29}, math.NaN(), Query{})
			return err
		}, ErrInvalidQuery},
		{"lat out of range", func() error { _, err := ix.Nearby(ctx, LayerEntities, orb.Point{106, 91}, 10, Query{}); return err }, ErrInvalidCoordinate},
		{"lon NaN", func() error {
			_, err := ix.Nearby(ctx, LayerEntities, orb.Point{math.NaN(), 0}, 10, Query{})
			return err
		}, ErrInvalidCoordinate},
		{"limit too big", func() error {
			_, err := ix.Nearby(ctx, LayerEntities, orb.Point{106, 29}, 10, Query{Limit: 10001})
			return err
		}, ErrInvalidQuery},
		{"zones layer", func() error { _, err := ix.Nearby(ctx, LayerZones, orb.Point{106, 29}, 10, Query{}); return err }, ErrUnknownLayer},
		{"risk on places", func() error {
			_, err := ix.Nearby(ctx, LayerPlaces, orb.Point{106, 29}, 10, Query{Filter: Filter{Risk: []Risk{RiskA}}})
			return err
		}, ErrInvalidQuery},
		{"k zero", func() error { _, err := ix.KNearest(ctx, LayerEntities, orb.Point{106, 29}, 0, Query{}); return err }, ErrInvalidQuery},
		{"delete unknown", func() error { return ix.Delete(LayerEntities, "nope") }, ErrNotFound},
		{"bad uscc", func() error { return ix.UpsertEntity(Entity{ID: "123", Name: "x"}) }, ErrInvalidUSCC},
		{"bad location", func() error {
			return ix.UpsertEntity(Entity{ID: makeUSCC(1), Name: "x", Location: orb.Point{200, 0}})
		}, ErrInvalidCoordinate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r := rand.New(rand.NewPCG(5, 5))
	big, _ := buildIndex(t, clusteredPoints(r, 3000, 106.5, 29.5))
	if _, err := big.Nearby(cctx, LayerEntities, orb.Point{106.5, 29.5}, 50000, Query{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestInBBoxAndWithin(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	pts := clusteredPoints(r, 4000, 106.55, 29.56)
	ix, ents := buildIndex(t, pts)
	ctx := context.Background()
	b := orb.Bound{Min: orb.Point{106.52, 29.53}, Max: orb.Point{106.58, 29.6}}
	res, err := ix.InBBox(ctx, LayerEntities, b, Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range ents {
		if b.Contains(e.Location) {
			want++
		}
	}
	if res.Total != want || len(res.Hits) != want {
		t.Fatalf("InBBox got %d, want %d", res.Total, want)
	}
	// A polygon with a hole.
	poly := orb.Polygon{
		{{106.50, 29.50}, {106.62, 29.50}, {106.62, 29.62}, {106.50, 29.62}, {106.50, 29.50}},
		{{106.54, 29.54}, {106.54, 29.58}, {106.58, 29.58}, {106.58, 29.54}, {106.54, 29.54}},
	}
	res, err = ix.Within(ctx, LayerEntities, poly, Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range res.Hits {
		got[h.ID()] = true
	}
	for _, e := range ents {
		if planarContains(orb.MultiPolygon{poly}, e.Location) != got[e.ID] {
			t.Fatalf("Within disagrees with orb/planar at %v", e.Location)
		}
	}
}

// TestEqualDistancesOrderedByID: features at one point (many companies
// registered at one geocoded address) have equal distances; Nearby and
// KNearest give them in the order of their IDs, so that a limit or k that
// cuts through such a group keeps the same features however the index was
// loaded and updated (bulk base, live delta, dead base points, a layer
// large enough for the scan-order lookup). Oracle: brute force sorted by
// (distance, ID).
func TestEqualDistancesOrderedByID(t *testing.T) {
	ctx := context.Background()
	c := orb.Point{106.55, 29.56}
	// three stacks of co-located entities at different distances
	stacks := []orb.Point{{106.5510, 29.5600}, {106.5500, 29.5615}, {106.5488, 29.5590}}
	type state struct {
		name  string
		n     int // scattered points besides the stacks
		build func(t *testing.T, ents []Entity) *Index
	}
	bulk := func(t *testing.T, ents []Entity) *Index {
		ix, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := ix.Batch()
		for _, e := range ents {
			if err := b.UpsertEntity(e); err != nil {
				t.Fatal(err)
			}
		}
		b.Commit()
		return ix
	}
	states := []state{
		{"bulk", 300, bulk},
		{"delta", 300, func(t *testing.T, ents []Entity) *Index {
			// the scattered points in the base, the stacks one by one
			var base, live []Entity
			for _, e := range ents {
				if slices.Contains(stacks, e.Location) {
					live = append(live, e)
				} else {
					base = append(base, e)
				}
			}
			ix := bulk(t, base)
			for _, e := range live {
				if err := ix.UpsertEntity(e); err != nil {
					t.Fatal(err)
				}
			}
			return ix
		}},
		{"dead base points", 300, func(t *testing.T, ents []Entity) *Index {
			// every other stacked entity deleted from the base and added again
			ix := bulk(t, ents)
			for i, e := range ents {
				if i%2 == 0 && slices.Contains(stacks, e.Location) {
					if err := ix.Delete(LayerEntities, e.ID); err != nil {
						t.Fatal(err)
					}
					if err := ix.UpsertEntity(e); err != nil {
						t.Fatal(err)
					}
				}
			}
			return ix
		}},
		{"large layer", 1 << 17, bulk},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, uint64(st.n)))
			var pts []orb.Point
			for _, s := range stacks {
				for range 25 {
					pts = append(pts, s)
				}
			}
			spread := 0.004
			if st.n > 1000 {
				spread = 0.3
			}
			for range st.n {
				pts = append(pts, orb.Point{c[0] + r.NormFloat64()*spread, c[1] + r.NormFloat64()*spread})
			}
			ents := make([]Entity, len(pts))
			for i, p := range pts {
				ents[i] = testEntity(i, p)
			}
			// load in an order unrelated to the IDs
			r.Shuffle(len(ents), func(i, j int) { ents[i], ents[j] = ents[j], ents[i] })
			ix := st.build(t, ents)
			type hit struct {
				d  float64
				id string
			}
			var want []hit
			for _, e := range ents {
				want = append(want, hit{oracleM(c, e.Location), e.ID})
			}
			slices.SortFunc(want, func(x, y hit) int {
				if x.d != y.d {
					return cmp.Compare(x.d, y.d)
				}
				return strings.Compare(x.id, y.id)
			})
			// where the nearest stack starts: the limits cut through it
			dStack := math.Inf(1)
			for _, p := range stacks {
				dStack = math.Min(dStack, oracleM(c, p))
			}
			first := slices.IndexFunc(want, func(h hit) bool { return h.d == dStack })
			ids := func(hs []Hit) []string {
				var out []string
				for i := range hs {
					out = append(out, hs[i].ID())
				}
				return out
			}
			// every hit within a radius past the stacks, no limit cutting
			// (in the large layer, the path that looks features up in scan
			// order)
			last := first + 75 + 20
			radius := (want[last].d + want[last+1].d) / 2
			var wantAll []string
			for _, h := range want[:last+1] {
				wantAll = append(wantAll, h.id)
			}
			res, err := ix.Nearby(ctx, LayerEntities, c, radius, Query{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Hits); !slices.Equal(got, wantAll) {
				t.Fatalf("Nearby within %.1f m:\n got %v\nwant %v", radius, got, wantAll)
			}
			for _, n := range []int{1, first + 1, first + 12, first + 25, first + 40, 80} {
				var wantIDs []string
				for _, h := range want[:n] {
					wantIDs = append(wantIDs, h.id)
				}
				radius := want[len(want)-1].d + 1
				if radius > 50000 {
					radius = 50000
				}
				res, err := ix.Nearby(ctx, LayerEntities, c, radius, Query{Limit: n})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(res.Hits); !slices.Equal(got, wantIDs) {
					t.Fatalf("Nearby limit %d:\n got %v\nwant %v", n, got, wantIDs)
				}
				res, err = ix.KNearest(ctx, LayerEntities, c, n, Query{})
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(res.Hits); !slices.Equal(got, wantIDs) {
					t.Fatalf("KNearest k=%d:\n got %v\nwant %v", n, got, wantIDs)
				}
			}
		})
	}
}

// TestNearbyLargeLayer: above the size where radius queries look features
// up in scan order (1<<17 slots), the hits are still the right features,
// sorted, with their distances, also when a limit keeps only a few.
func TestNearbyLargeLayer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 140,000-point index")
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, 12))
	pts := clusteredPoints(r, 140_000, 106.55, 29.56)
	ix, ents := buildIndex(t, pts)
	if n := ix.Snapshot().entities.slots.next; n < 1<<17 {
		t.Fatalf("%d slots: below the scan-order lookup", n)
	}
	for q := 0; q < 40; q++ {
		c := pts[r.IntN(len(pts))]
		radius := []float64{200, 1000}[q%2]
		limit := []int{10000, 10000, 5}[q%3]
		res, err := ix.Nearby(ctx, LayerEntities, c, radius, Query{Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		var want []float64
		for _, e := range ents {
			if d := oracleM(c, e.Location); d <= radius*(1-1e-9) {
				want = append(want, d)
			}
		}
		slices.Sort(want)
		if res.Total < len(want) || len(res.Hits) != min(limit, res.Total) {
			t.Fatalf("q%d: %d hits of %d, want %d of at least %d", q, len(res.Hits), res.Total, min(limit, len(want)), len(want))
		}
		for i, h := range res.Hits {
			if od := oracleM(c, h.Location()); math.Abs(od-h.DistanceM) > 1e-6*math.Max(1, od) {
				t.Fatalf("q%d hit %d (%s): distance %.6f, its location says %.6f", q, i, h.ID(), h.DistanceM, od)
			}
			if i < len(want) && math.Abs(h.DistanceM-want[i]) > 1e-6*math.Max(1, want[i]) {
				t.Fatalf("q%d hit %d: %.6f m, the %dth nearest is at %.6f m", q, i, h.DistanceM, i+1, want[i])
			}
		}
	}
}

func TestBatchAdopt(t *testing.T) {
	ix, _ := New(Options{})
	b := ix.Batch()
	b.Grow(3)
	e := &Entity{ID: makeUSCC(1), Name: "甲", Location: orb.Point{106.5, 29.6}}
	if err := b.Adopt(e); err != nil {
		t.Fatal(err)
	}
	if err := b.Adopt(&Entity{ID: "123", Name: "乙"}); !errors.Is(err, ErrInvalidUSCC) {
		t.Fatalf("a bad USCC adopted: %v", err)
	}
	if err := b.Adopt(&Place{ID: "p", Name: "丙", Location: orb.Point{106.5, 29.6}}); err != nil {
		t.Fatal(err)
	}
	b.Commit()
	got, ok := ix.Snapshot().Entity(e.ID)
	if !ok || got != e {
		t.Fatal("the adopted entity is not the one in the index")
	}
	if _, ok := ix.Snapshot().Place("p"); !ok {
		t.Fatal("the adopted place is missing")
	}
}
