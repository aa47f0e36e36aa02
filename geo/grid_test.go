package geo

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// overlappingGrids: a 4×4 partition of 0.01° squares plus two grids
// overlapping it (a smaller ID over the middle, a larger one over a
// corner), a district and an FTZ area with a hole.
func overlappingGrids() []Zone {
	sq := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
	}
	var zs []Zone
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			x0, y0 := 106.5+float64(i)*0.01, 29.5+float64(j)*0.01
			zs = append(zs, Zone{ID: "G" + gridID(i, j), Layer: "grid", Name: "g", Geometry: orb.MultiPolygon{sq(x0, y0, x0+0.01, y0+0.01)}})
		}
	}
	ftz := sq(106.505, 29.505, 106.535, 29.535)
	ftz = append(ftz, orb.Ring{{106.515, 29.515}, {106.525, 29.515}, {106.525, 29.525}, {106.515, 29.525}, {106.515, 29.515}})
	return append(zs,
		Zone{ID: "A-over", Layer: "grid", Name: "smaller ID over the middle", Geometry: orb.MultiPolygon{sq(106.515, 29.515, 106.525, 29.525)}},
		Zone{ID: "Z-over", Layer: "grid", Name: "larger ID over a corner", Geometry: orb.MultiPolygon{sq(106.5, 29.5, 106.505, 29.505)}},
		Zone{ID: "D1", Layer: "district", Name: "d", Geometry: orb.MultiPolygon{sq(106.49, 29.49, 106.55, 29.55)}},
		Zone{ID: "F1", Layer: "ftz", Name: "f", Geometry: orb.MultiPolygon{ftz}},
	)
}

// bruteGrid is the grid rule by brute force (orb/planar): the smallest ID
// of the grid zones containing p.
func bruteGrid(zs []Zone, p orb.Point) string {
	id := ""
	for _, z := range zs {
		if z.Layer == "grid" && planar.MultiPolygonContains(z.Geometry, p) && (id == "" || z.ID < id) {
			id = z.ID
		}
	}
	return id
}

// TestGridRule: the grid an entity gets, whichever way it is written (one
// by one, before the zone table is built; in bulk, with it; re-derived
// after a grid zone changes), and GridAt all follow the one rule.
func TestGridRule(t *testing.T) {
	zs := overlappingGrids()
	r := rand.New(rand.NewPCG(7, 7))
	pts := make([]orb.Point, 3000)
	for i := range pts {
		pts[i] = orb.Point{106.495 + r.Float64()*0.05 + 1e-9, 29.495 + r.Float64()*0.05 + 1e-9}
	}
	tests := []struct {
		name  string
		write func(t *testing.T, ix *Index)
	}{
		{"one by one", func(t *testing.T, ix *Index) {
			for i, p := range pts {
				if err := ix.UpsertEntity(testEntity(i, p)); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"bulk", func(t *testing.T, ix *Index) {
			b := ix.Batch()
			for i, p := range pts {
				_ = b.UpsertEntity(testEntity(i, p))
			}
			b.Commit()
		}},
		{"table built first", func(t *testing.T, ix *Index) {
			if _, err := ix.Snapshot().ZoneTable(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i, p := range pts[:200] {
				_ = ix.UpsertEntity(testEntity(i, p))
			}
			b := ix.Batch()
			for i, p := range pts[200:] {
				_ = b.UpsertEntity(testEntity(200+i, p))
			}
			b.Commit()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, _ := New(Options{})
			b := ix.Batch()
			for _, z := range zs {
				_ = b.UpsertZone(z)
			}
			b.Commit()
			tc.write(t, ix)
			s := ix.Snapshot()
			for i, p := range pts {
				want := bruteGrid(zs, p)
				if e, _ := s.Entity(makeUSCC(i)); e.GridID != want {
					t.Fatalf("entity %d at %v: grid %q, want %q", i, p, e.GridID, want)
				}
				if g := s.GridAt(p); g != want {
					t.Fatalf("GridAt(%v) = %q, want %q", p, g, want)
				}
			}
		})
	}
}

// TestRegridEmitsDerivedChanges: writing a grid zone re-derives the grid
// of the entities under it, and the commit reports each as a change of the
// entities layer (the contract Batch.CommitAhead and the store rely on).
func TestRegridEmitsDerivedChanges(t *testing.T) {
	zs := overlappingGrids()
	ix, _ := New(Options{})
	b := ix.Batch()
	for _, z := range zs {
		_ = b.UpsertZone(z)
	}
	in, out := orb.Point{106.5201, 29.5201}, orb.Point{106.5401, 29.5401}
	_ = b.UpsertEntity(testEntity(1, in))
	_ = b.UpsertEntity(testEntity(2, out))
	b.Commit()
	if e, _ := ix.Snapshot().Entity(makeUSCC(1)); e.GridID != "A-over" {
		t.Fatalf("grid %q, want A-over", e.GridID)
	}
	wb := ix.Batch()
	_ = wb.Delete(LayerZones, "A-over")
	var got []Change
	if _, err := wb.CommitAhead(func(cs ChangeSet) error { got = cs.Changes; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Layer != LayerZones || got[1].Layer != LayerEntities || got[1].ID != makeUSCC(1) {
		t.Fatalf("changes %+v, want the zone and entity 1", got)
	}
	if o, n := got[1].Old.(*Entity), got[1].New.(*Entity); o.GridID != "A-over" || n.GridID != bruteGrid(zs[:len(zs)-4], in) {
		t.Fatalf("grid %q → %q", o.GridID, n.GridID)
	}
}

// TestZoneTableMatchesBruteForce: ZonesAt (all layers and filtered) equals
// brute force, for every cell budget, on random points and on the grid
// lines and vertices.
func TestZoneTableMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	zs := overlappingGrids()
	r := rand.New(rand.NewPCG(1, 1))
	var pts []orb.Point
	for i := 0; i < 3000; i++ {
		pts = append(pts, orb.Point{106.485 + r.Float64()*0.07, 29.485 + r.Float64()*0.07})
	}
	for i := 0; i <= 16; i++ {
		for j := 0; j <= 16; j++ {
			pts = append(pts, orb.Point{106.5 + float64(i)*0.0025, 29.5 + float64(j)*0.0025})
		}
	}
	for _, cells := range []int{1024, 1 << 14, 1 << 18} {
		ix, _ := New(Options{ZoneCells: cells})
		b := ix.Batch()
		for _, z := range zs {
			_ = b.UpsertZone(z)
		}
		b.Commit()
		s := ix.Snapshot()
		for _, p := range pts {
			var want, wantF []string
			for _, z := range zs {
				if Prepare(z.Geometry).Contains(p) { // the boundary rule of PreparedArea
					want = append(want, z.Layer+"/"+z.ID)
					if z.Layer == "ftz" || z.Layer == "district" {
						wantF = append(wantF, z.Layer+"/"+z.ID)
					}
				}
			}
			slices.Sort(want)
			slices.Sort(wantF)
			all, err := s.ZonesAt(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			some, _ := s.ZonesAt(ctx, p, "ftz", "district", "ftz")
			if got := zoneKeysOf(all); !slices.Equal(got, want) {
				t.Fatalf("cells %d, %v: %v, want %v", cells, p, got, want)
			}
			if got := zoneKeysOf(some); !slices.Equal(got, wantF) {
				t.Fatalf("cells %d, %v filtered: %v, want %v", cells, p, got, wantF)
			}
		}
	}
}

func zoneKeysOf(zs []*Zone) []string {
	out := []string{}
	for _, z := range zs {
		out = append(out, z.Layer+"/"+z.ID)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func TestZoneTableCancelled(t *testing.T) {
	ix, _ := New(Options{})
	_ = ix.UpsertZone(overlappingGrids()[0])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Snapshot().ZoneTable(ctx); err == nil {
		t.Fatal("a cancelled build returned a table")
	}
	if _, err := ix.Snapshot().ZoneTable(context.Background()); err != nil {
		t.Fatalf("the build after a cancelled one: %v", err)
	}
}
