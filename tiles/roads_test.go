package tiles

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
)

// TestRoads: a road is drawn, with its name and kind, in exactly the tiles
// its line crosses (the oracle: the tiles maptile finds along the line,
// sampled every few metres), and SetRoads replaces the cached tiles.
func TestRoads(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	r := newRenderer(t, idx, Options{})
	ctx := context.Background()
	road := Road{ID: "R1", Name: "金开大道", Kind: "major", Line: orb.LineString{{106.50, 29.60}, {106.53, 29.61}, {106.56, 29.60}}}
	other := Road{Name: "星光大道", Line: orb.LineString{{106.70, 29.70}, {106.71, 29.70}}}
	if err := r.SetRoads([]Road{road, other}); err != nil {
		t.Fatal(err)
	}
	const z = 15
	want := map[maptile.Tile]bool{}
	for i := 0; i+1 < len(road.Line); i++ {
		a, b := road.Line[i], road.Line[i+1]
		for s := 0.0; s <= 1; s += 1.0 / 2000 {
			want[maptile.At(orb.Point{a[0] + s*(b[0]-a[0]), a[1] + s*(b[1]-a[1])}, z)] = true
		}
	}
	lo, hi := maptile.At(orb.Point{106.49, 29.62}, z), maptile.At(orb.Point{106.57, 29.59}, z)
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			tl := maptile.New(x, y, z)
			tt, err := r.Tile(ctx, LayerRoads, z, int(x), int(y), Query{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.Empty() {
				// the buffer may hold the road next to a tile it crosses
				if want[tl] {
					t.Errorf("tile %v: the road crosses it but the tile is empty", tl)
				}
				continue
			}
			fc := decode(t, tt.Data)[LayerRoads]
			if fc == nil || len(fc.Features) != 1 {
				t.Fatalf("tile %v: %v", tl, fc)
			}
			p := fc.Features[0].Properties
			if p["name"] != "金开大道" || p["kind"] != "major" || p["id"] != "R1" {
				t.Errorf("tile %v: properties %v", tl, p)
			}
		}
	}
	if len(want) < 5 {
		t.Fatalf("the road crosses only %d tiles", len(want))
	}
	// replacing the roads drops the cached tiles
	tl := maptile.At(road.Line[0], z)
	if err := r.SetRoads([]Road{other}); err != nil {
		t.Fatal(err)
	}
	tt, err := r.Tile(ctx, LayerRoads, z, int(tl.X), int(tl.Y), Query{})
	if err != nil || !tt.Empty() {
		t.Fatalf("after SetRoads without it the road is still drawn (err %v)", err)
	}
	if r.Roads() != 1 {
		t.Fatalf("Roads() = %d", r.Roads())
	}
	tj, err := r.TileJSON(LayerRoads, "x/{z}/{x}/{y}.mvt")
	if err != nil || tj.VectorLayers[0].Fields["name"] != "String" {
		t.Fatalf("TileJSON: %v %+v", err, tj)
	}
	if _, err := r.Tile(ctx, LayerRoads, z, 0, 0, Query{Filter: geo.Filter{Risk: []geo.Risk{geo.RiskC}}}); !errors.Is(err, ErrInvalidFilter) {
		t.Fatalf("a risk filter on roads: %v", err)
	}
}

func TestSetRoadsRejects(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	r := newRenderer(t, idx, Options{})
	good := Road{Name: "a", Line: orb.LineString{{106, 29}, {106.1, 29}}}
	if err := r.SetRoads([]Road{good}); err != nil {
		t.Fatal(err)
	}
	for name, rd := range map[string]Road{
		"no name":    {Line: good.Line},
		"one point":  {Name: "a", Line: orb.LineString{{106, 29}}},
		"bad kind":   {Name: "a", Kind: "motorway", Line: good.Line},
		"not wgs84":  {Name: "a", Line: orb.LineString{{106, 29}, {12000000, 3400000}}},
		"NaN":        {Name: "a", Line: orb.LineString{{106, 29}, {math.NaN(), 29}}},
		"south pole": {Name: "a", Line: orb.LineString{{106, 29}, {106, -89}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := r.SetRoads([]Road{good, rd}); !errors.Is(err, ErrInvalidRoad) {
				t.Fatalf("err = %v, want ErrInvalidRoad", err)
			}
			if r.Roads() != 1 {
				t.Fatal("a rejected SetRoads replaced the roads")
			}
		})
	}
}

// TestZoneLabels: every named zone of the demo has exactly one label point
// over all the tiles of a zoom, inside its own geometry (checked with
// planar.MultiPolygonContains on the zone, not on the tile).
func TestZoneLabels(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{CacheBytes: -1})
	ctx := context.Background()
	snap := idx.Snapshot()
	b := snap.Bounds()
	const z = 10
	lo, hi := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z), maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	seen := map[string]int{}
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			tt, err := r.Tile(ctx, LayerZones, z, int(x), int(y), Query{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.Empty() {
				continue
			}
			ls, err := mvt.Unmarshal(tt.Data)
			if err != nil {
				t.Fatal(err)
			}
			ls.ProjectToWGS84(maptile.New(x, y, z))
			for _, f := range ls[0].Features {
				if f.Properties["label"] == nil {
					continue
				}
				id, _ := f.Properties["id"].(string)
				seen[id]++
				zn, ok := snap.Zone(id)
				if !ok {
					t.Fatalf("label of unknown zone %q", id)
				}
				// the decoded point is rounded to a tile unit (~10 m at z10)
				p := f.Geometry.(orb.Point)
				inside := false
				for _, d := range [][2]float64{{0, 0}, {1e-4, 0}, {-1e-4, 0}, {0, 1e-4}, {0, -1e-4}} {
					q := orb.Point{p[0] + d[0], p[1] + d[1]}
					inside = inside || planar.MultiPolygonContains(zn.Geometry, q)
				}
				if !inside {
					t.Errorf("label of %s (%s) at %v is outside the zone", id, zn.Name, p)
				}
			}
		}
	}
	n := 0
	snap.ScanZones(func(zn *geo.Zone) bool {
		if zn.Name != "" {
			n++
			if seen[zn.ID] != 1 {
				t.Errorf("zone %s (%s, %s): %d labels, want 1", zn.ID, zn.Layer, zn.Name, seen[zn.ID])
			}
		}
		return true
	})
	if n < 100 {
		t.Fatalf("only %d named zones", n)
	}
}
