package zoneid

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestIdentifyEqualsBruteForceDemo(t *testing.T) {
	ds, idx := demoIndex(t)
	id := newIdentifier(t, idx, Options{})
	r := rand.New(rand.NewPCG(1, 2))
	all := layerBound(ds.Zones, "").Pad(0.01)
	grids := layerBound(ds.Zones, "grid")
	ftz := layerBound(ds.Zones, "ftz")
	n := 60000
	if testing.Short() {
		n = 5000
	}
	var buf []*geo.Zone
	for k := 0; k < n; k++ {
		var p orb.Point
		switch k % 3 {
		case 0:
			p = randIn(r, all)
		case 1:
			p = randIn(r, grids)
		default:
			p = randIn(r, ftz)
		}
		buf, _ = id.AppendZones(bg, buf[:0], p)
		got := zoneKeys(buf)
		want := bruteZones(ds.Zones, p)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("point %v: Identify %v, brute force %v", p, got, want)
		}
		zs, _ := idx.ZonesAt(bg, p)
		if !slices.Equal(got, zoneKeys(zs)) {
			t.Fatalf("point %v: Identify %v, ZonesAt %v", p, got, zoneKeys(zs))
		}
	}
}

// synthetic zones on exact binary coordinates: a 10×10 partition of grid
// squares, a donut with a hole, a two-part multipolygon FTZ, a district.
func syntheticIndex(t testing.TB) (*geo.Index, []geo.Zone) {
	t.Helper()
	return syntheticIndexCells(t, 0)
}

// syntheticIndexCells is syntheticIndex with a zone-table cell budget.
func syntheticIndexCells(t testing.TB, cells int) (*geo.Index, []geo.Zone) {
	t.Helper()
	const x0, y0, s = 106.5, 29.5, 1.0 / 128
	sq := func(x, y, w, h float64) orb.Ring {
		return orb.Ring{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}, {x, y}}
	}
	var zones []geo.Zone
	for j := 0; j < 10; j++ {
		for i := 0; i < 10; i++ {
			zones = append(zones, geo.Zone{ID: "G" + string(rune('A'+j)) + string(rune('0'+i)), Layer: "grid", Name: "grid",
				Geometry: orb.MultiPolygon{{sq(x0+float64(i)*s, y0+float64(j)*s, s, s)}}, Props: map[string]string{"inspector": "王伟"}})
		}
	}
	hole := sq(x0+3*s, y0+3*s, 4*s, 4*s)
	hole.Reverse()
	zones = append(zones,
		geo.Zone{ID: "DONUT", Layer: "street", Name: "donut", Geometry: orb.MultiPolygon{{sq(x0+s, y0+s, 8*s, 8*s), hole}}},
		geo.Zone{ID: "FTZ-A", Layer: "ftz", Name: "两江片区", Geometry: orb.MultiPolygon{
			{sq(x0+0.5*s, y0+0.5*s, 2*s, 2*s)},
			{orb.Ring{{x0 + 6*s, y0 + 6*s}, {x0 + 9.5*s, y0 + 6.25*s}, {x0 + 8*s, y0 + 9.5*s}, {x0 + 6*s, y0 + 6*s}}},
		}},
		geo.Zone{ID: "D1", Layer: "district", Name: "district", Geometry: orb.MultiPolygon{{sq(x0-s, y0-s, 12*s, 12*s)}}},
	)
	idx, err := geo.New(geo.Options{ZoneCells: cells})
	if err != nil {
		t.Fatal(err)
	}
	b := idx.Batch()
	for _, z := range zones {
		if err := b.UpsertZone(z); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	return idx, zones
}

func TestIdentifySynthetic(t *testing.T) {
	for _, cells := range []int{1024, 1 << 14, 1 << 18} {
		idx, zones := syntheticIndexCells(t, cells)
		id := newIdentifier(t, idx, Options{})
		r := rand.New(rand.NewPCG(3, uint64(cells)))
		b := layerBound(zones, "").Pad(0.005)
		var buf []*geo.Zone
		for k := 0; k < 20000; k++ {
			p := randIn(r, b)
			buf, _ = id.AppendZones(bg, buf[:0], p)
			want := bruteZones(zones, p)
			sort.Strings(want)
			if got := zoneKeys(buf); !slices.Equal(got, want) {
				t.Fatalf("cells %d, point %v: got %v, brute force %v", cells, p, got, want)
			}
		}
		// points exactly on grid edges and vertices, and on the hole and FTZ
		// boundaries: same answer as ZonesAt, and exactly one grid inside
		// the partition.
		const x0, y0, s = 106.5, 29.5, 1.0 / 128
		for j := 0; j <= 40; j++ {
			for i := 0; i <= 40; i++ {
				p := orb.Point{x0 + float64(i)*s/4, y0 + float64(j)*s/4}
				buf, _ = id.AppendZones(bg, buf[:0], p)
				zs, _ := idx.ZonesAt(bg, p)
				if !slices.Equal(zoneKeys(buf), zoneKeys(zs)) {
					t.Fatalf("cells %d, boundary point %v: got %v, ZonesAt %v", cells, p, zoneKeys(buf), zoneKeys(zs))
				}
				ng := 0
				for _, z := range buf {
					if z.Layer == "grid" {
						ng++
					}
				}
				interior := i > 0 && i < 40 && j > 0 && j < 40
				if interior && ng != 1 || !interior && ng > 1 {
					t.Fatalf("point %v on the grid lines is in %d grids: %v", p, ng, zoneKeys(buf))
				}
			}
		}
	}
}

// TestSharedEdgeRule pins the documented rule: a point on a vertical
// shared edge goes to the zone on its right, on a horizontal one to the
// zone above.
func TestSharedEdgeRule(t *testing.T) {
	idx, _ := syntheticIndex(t)
	id := newIdentifier(t, idx, Options{})
	const x0, y0, s = 106.5, 29.5, 1.0 / 128
	for _, c := range []struct {
		name string
		p    orb.Point
		grid string
	}{
		{"vertical edge between A3 and A4", orb.Point{x0 + 4*s, y0 + 0.5*s}, "GA4"},
		{"horizontal edge between B5 and C5", orb.Point{x0 + 5.5*s, y0 + 2*s}, "GC5"},
		{"vertex of four grids", orb.Point{x0 + 2*s, y0 + 2*s}, "GC2"},
	} {
		res, err := id.Identify(bg, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if res.Grid == nil || res.Grid.ID != c.grid {
			t.Errorf("%s: grid %v, want %s", c.name, res.Grid, c.grid)
		}
	}
}

func TestIdentifyResult(t *testing.T) {
	idx, _ := syntheticIndex(t)
	id := newIdentifier(t, idx, Options{})
	const x0, y0, s = 106.5, 29.5, 1.0 / 128
	for _, c := range []struct {
		name  string
		p     orb.Point
		in    FTZAnswer
		ftz   string
		grid  string
		zones []string
	}{
		{"in FTZ part 1", orb.Point{x0 + 1.3*s, y0 + 1.4*s}, Inside, "FTZ-A", "GB1", []string{"district/D1", "ftz/FTZ-A", "grid/GB1", "street/DONUT"}},
		{"in the donut hole", orb.Point{x0 + 5.1*s, y0 + 5.2*s}, Outside, "", "GF5", []string{"district/D1", "grid/GF5"}},
		{"in FTZ part 2 (triangle)", orb.Point{x0 + 8*s, y0 + 7*s}, Inside, "FTZ-A", "GH8", []string{"district/D1", "ftz/FTZ-A", "grid/GH8", "street/DONUT"}},
		{"district only", orb.Point{x0 - 0.5*s, y0 + 3*s}, Outside, "", "", []string{"district/D1"}},
		{"nowhere", orb.Point{100, 20}, Outside, "", "", []string{}},
	} {
		res, err := id.Identify(bg, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if res.InFTZ != c.in || (res.FTZ == nil) != (c.ftz == "") || res.FTZ != nil && res.FTZ.ID != c.ftz {
			t.Errorf("%s: in_ftz %v ftz %v, want %v %q", c.name, res.InFTZ, res.FTZ, c.in, c.ftz)
		}
		if (res.Grid == nil) != (c.grid == "") || res.Grid != nil && res.Grid.ID != c.grid {
			t.Errorf("%s: grid %v, want %q", c.name, res.Grid, c.grid)
		}
		if got := zoneKeys(res.Zones); !slices.Equal(got, c.zones) {
			t.Errorf("%s: zones %v, want %v", c.name, got, c.zones)
		}
		if res.Precision != geo.PrecisionPoint {
			t.Errorf("%s: precision %q", c.name, res.Precision)
		}
	}
	if _, err := id.Identify(bg, orb.Point{math.NaN(), 1}); !errors.Is(err, geo.ErrInvalidCoordinate) {
		t.Errorf("NaN point: %v", err)
	}
}

// TestFollowsZoneChanges: the lookup grid is rebuilt after zone writes,
// and the index re-derives entity grids (geo's job, checked here).
func TestFollowsZoneChanges(t *testing.T) {
	idx, _ := syntheticIndex(t)
	id := newIdentifier(t, idx, Options{})
	const x0, y0, s = 106.5, 29.5, 1.0 / 128
	p := orb.Point{x0 + 1.5*s, y0 + 1.5*s}
	e := geo.Entity{ID: "91500000MA5U000003", Name: "测试公司", Location: p, GridID: "forged"}
	if err := geo.ValidateUSCC(e.ID); err != nil {
		e.ID = fixUSCC(t, e.ID)
	}
	if err := idx.UpsertEntity(e); err != nil {
		t.Fatal(err)
	}
	got, _ := idx.Snapshot().Entity(e.ID)
	if got.GridID != "GB1" {
		t.Fatalf("GridID %q after insert, want GB1 (derived, not trusted)", got.GridID)
	}
	// a new grid on top, with a smaller ID, wins for both
	z := geo.Zone{ID: "G0", Layer: "grid", Name: "new", Geometry: orb.MultiPolygon{{{{x0 + s, y0 + s}, {x0 + 2*s, y0 + s}, {x0 + 2*s, y0 + 2*s}, {x0 + s, y0 + 2*s}, {x0 + s, y0 + s}}}}}
	if err := idx.UpsertZone(z); err != nil {
		t.Fatal(err)
	}
	res, _ := id.Identify(bg, p)
	got, _ = idx.Snapshot().Entity(e.ID)
	if res.Grid == nil || res.Grid.ID != "G0" || got.GridID != "G0" {
		t.Fatalf("after new grid: Identify %v, entity GridID %q; want G0", res.Grid, got.GridID)
	}
	if err := idx.Delete(geo.LayerZones, "G0"); err != nil {
		t.Fatal(err)
	}
	res, _ = id.Identify(bg, p)
	got, _ = idx.Snapshot().Entity(e.ID)
	if res.Grid == nil || res.Grid.ID != "GB1" || got.GridID != "GB1" {
		t.Fatalf("after delete: Identify %v, entity GridID %q; want GB1", res.Grid, got.GridID)
	}
	// moving the entity re-derives its grid
	e.Location = orb.Point{x0 + 7.5*s, y0 + 0.5*s}
	if err := idx.UpsertEntity(e); err != nil {
		t.Fatal(err)
	}
	got, _ = idx.Snapshot().Entity(e.ID)
	if got.GridID != "GA7" {
		t.Fatalf("GridID %q after move, want GA7", got.GridID)
	}
	id.Close()
	if _, err := id.Identify(bg, p); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// fixUSCC replaces the check character of a 17-character base.
func fixUSCC(t testing.TB, id string) string {
	t.Helper()
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for _, c := range alphabet {
		cand := id[:17] + string(c)
		if geo.ValidateUSCC(cand) == nil {
			return cand
		}
	}
	t.Fatalf("no check character for %s", id)
	return ""
}

func TestDemoEntityGridsMatchIdentify(t *testing.T) {
	_, idx := demoIndex(t)
	id := newIdentifier(t, idx, Options{})
	n := 0
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		res, err := id.Identify(bg, e.Location)
		if err != nil {
			t.Fatal(err)
		}
		g := ""
		if res.Grid != nil {
			g = res.Grid.ID
		}
		if g != e.GridID {
			t.Fatalf("entity %s at %v: GridID %q, Identify grid %q", e.ID, e.Location, e.GridID, g)
		}
		if g != "" {
			n++
		}
		return true
	})
	if n == 0 {
		t.Fatal("no entity has a grid")
	}
}

func TestDemoStreetLayer(t *testing.T) {
	ds, idx := demoIndex(t)
	id := newIdentifier(t, idx, Options{})
	// the street layer partitions its cells: no point in two streets, and
	// every demo street anchor (government office place) is in a street
	r := rand.New(rand.NewPCG(9, 9))
	b := layerBound(ds.Zones, "street")
	var buf []*geo.Zone
	for k := 0; k < 20000; k++ {
		buf, _ = id.AppendZones(bg, buf[:0], randIn(r, b))
		ns := 0
		for _, z := range buf {
			if z.Layer == "street" {
				ns++
			}
		}
		if ns > 1 {
			t.Fatalf("point in %d streets: %v", ns, zoneKeys(buf))
		}
	}
	for _, p := range ds.Places {
		if p.Kind != "government" {
			continue
		}
		res, _ := id.Identify(bg, p.Location)
		found := false
		for _, z := range res.Zones {
			if z.Layer == "street" && (z.Name == p.Aliases[0]) {
				found = true
			}
		}
		if !found {
			t.Errorf("office %s (%s) at %v is not in its street: %v", p.Name, p.Aliases[0], p.Location, zoneKeys(res.Zones))
		}
	}
}

type fakeGeocoder map[string]Geocoded

func (f fakeGeocoder) Geocode(_ context.Context, a string) (Geocoded, error) {
	if a == "boom" {
		return Geocoded{}, errors.New("geocoder down")
	}
	g, ok := f[a]
	if !ok {
		return Geocoded{Precision: geo.PrecisionNone}, nil
	}
	return g, nil
}

func TestIdentifyAddress(t *testing.T) {
	idx, _ := syntheticIndex(t)
	const x0, y0, s = 106.5, 29.5, 1.0 / 128
	// FTZ part 1 spans x0+0.5s .. x0+2.5s; s ≈ 680 m east-west
	deep := orb.Point{x0 + 1.5*s, y0 + 1.5*s}            // ≈ 760 m from the FTZ edge
	near := orb.Point{x0 + 2.5*s - 0.0001, y0 + 1.5*s}   // ≈ 10 m inside the FTZ edge
	out := orb.Point{x0 + 4.5*s, y0 + 1.5*s}             // ≈ 1.4 km from the FTZ
	nearGrid := orb.Point{x0 + 1.5*s, y0 + 2*s - 0.0001} // ≈ 11 m below a grid edge
	fg := fakeGeocoder{
		"deep address":  {Location: deep, Precision: geo.PrecisionAddress, Address: "重庆市渝北区金开大道1号"},
		"near address":  {Location: near, Precision: geo.PrecisionAddress},
		"near point":    {Location: near, Precision: geo.PrecisionPoint},
		"out address":   {Location: out, Precision: geo.PrecisionAddress},
		"out town":      {Location: out, Precision: geo.PrecisionTown},
		"out road":      {Location: out, Precision: geo.PrecisionRoad},
		"deep district": {Location: deep, Precision: geo.PrecisionDistrict},
		"deep city":     {Location: deep, Precision: geo.PrecisionCity},
		"grid edge":     {Location: nearGrid, Precision: geo.PrecisionBuilding},
	}
	id := newIdentifier(t, idx, Options{Geocoder: fg})
	for _, c := range []struct {
		addr string
		in   FTZAnswer
		grid bool
		prec geo.Precision
	}{
		{"deep address", Inside, true, geo.PrecisionAddress},
		{"near address", Uncertain, true, geo.PrecisionAddress}, // 10 m < 30 m from the FTZ edge, mid-grid
		{"near point", Inside, true, geo.PrecisionPoint},
		{"out address", Outside, true, geo.PrecisionAddress},
		{"out road", Uncertain, false, geo.PrecisionRoad}, // 1.4 km from the FTZ < 1000 m? no: see below
		{"out town", Uncertain, false, geo.PrecisionTown},
		{"deep district", Uncertain, false, geo.PrecisionDistrict},
		{"deep city", Uncertain, false, geo.PrecisionCity},
		{"grid edge", Inside, false, geo.PrecisionBuilding},
		{"unknown", Uncertain, false, geo.PrecisionNone},
	} {
		res, err := id.IdentifyAddress(bg, c.addr)
		if err != nil {
			t.Fatal(err)
		}
		want := c.in
		if c.addr == "out road" {
			// the road case depends on the distance: check it explicitly
			if res.FTZBoundaryM > 1000 {
				want = Outside
			}
		}
		if res.InFTZ != want || (res.Grid != nil) != c.grid || res.Precision != c.prec {
			t.Errorf("%s: in_ftz %v grid %v precision %q (boundary %.0f m); want %v grid %v %q", c.addr, res.InFTZ, res.Grid, res.Precision, res.FTZBoundaryM, want, c.grid, c.prec)
		}
		if res.InFTZ != Inside && res.FTZ != nil {
			t.Errorf("%s: FTZ area %v with in_ftz %v", c.addr, res.FTZ, res.InFTZ)
		}
	}
	res, _ := id.IdentifyAddress(bg, "deep address")
	if res.Address != "重庆市渝北区金开大道1号" || res.FTZ == nil || res.FTZ.ID != "FTZ-A" {
		t.Errorf("deep address: %+v", res)
	}
	res, _ = id.IdentifyAddress(bg, "deep district")
	if len(res.Zones) == 0 {
		t.Errorf("district precision should still list the zones at the point")
	}
	if _, err := id.IdentifyAddress(bg, "boom"); err == nil {
		t.Error("geocoder error not returned")
	}
	noGeo := newIdentifier(t, idx, Options{})
	if _, err := noGeo.IdentifyAddress(bg, "x"); !errors.Is(err, ErrNoGeocoder) {
		t.Errorf("no geocoder: %v", err)
	}
	// a bigger uncertainty for addresses makes "deep address" uncertain
	wide := newIdentifier(t, idx, Options{Geocoder: fg, UncertaintyM: map[geo.Precision]float64{geo.PrecisionAddress: 800}})
	if res, _ := wide.IdentifyAddress(bg, "deep address"); res.InFTZ != Uncertain {
		t.Errorf("uncertainty 800 m: %v", res.InFTZ)
	}
}

func TestBoundaryDistance(t *testing.T) {
	idx, _ := syntheticIndex(t)
	id := newIdentifier(t, idx, Options{})
	tab, _ := id.table(bg)
	const x0, y0, s = 106.5, 29.5, 1.0 / 128
	p := orb.Point{x0 + 1.5*s, y0 + 1.5*s}
	got := tab.boundaryDistanceM(p, tab.ftzLo, tab.ftzHi, 1e4)
	// brute force: geodesic distance to the nearest point of FTZ part 1's edge (east edge, same latitude)
	want := geo.DistanceM(p, orb.Point{x0 + 2.5*s, p[1]})
	if math.Abs(got-want) > 0.5 {
		t.Fatalf("boundary distance %.2f, want %.2f", got, want)
	}
	_ = planar.Distance
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{
		{UncertaintyM: map[geo.Precision]float64{geo.PrecisionRoad: -1}},
		{Rules: &RuleSet{Version: 2}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatal(err)
	}
}

func TestEmptyIndex(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	id := newIdentifier(t, idx, Options{})
	res, err := id.Identify(bg, orb.Point{106, 29})
	if err != nil || len(res.Zones) != 0 || res.InFTZ != Outside {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestOneZoneTable: zone membership has one home. The Identifier reads the
// index's zone table (no second accelerator), and its grid for a point is
// the GridID the index gives an entity there.
func TestOneZoneTable(t *testing.T) {
	idx, zones := syntheticIndex(t)
	id := newIdentifier(t, idx, Options{})
	tab, err := id.table(bg)
	if err != nil {
		t.Fatal(err)
	}
	zt, err := idx.Snapshot().ZoneTable(bg)
	if err != nil {
		t.Fatal(err)
	}
	if tab.ZoneTable != zt {
		t.Fatal("zoneid built a zone table of its own")
	}
	r := rand.New(rand.NewPCG(9, 9))
	b := layerBound(zones, "").Pad(0.002)
	for k := 0; k < 2000; k++ {
		p := randIn(r, b)
		res, err := id.Identify(bg, p)
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		if res.Grid != nil {
			want = res.Grid.ID
		}
		if g := idx.Snapshot().GridAt(p); g != want {
			t.Fatalf("%v: index grid %q, zoneid grid %q", p, g, want)
		}
	}
}
