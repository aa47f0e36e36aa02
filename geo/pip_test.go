package geo

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func planarContains(mp orb.MultiPolygon, p orb.Point) bool { return planar.MultiPolygonContains(mp, p) }

// onBoundary reports whether p lies exactly on an edge of mp.
func onBoundary(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				a, b := r[i], r[i+1]
				cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
				if cross == 0 && p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) && p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1]) {
					return true
				}
			}
		}
	}
	return false
}

// starPolygon makes an irregular polygon with n vertices around c.
func starPolygon(r *rand.Rand, c orb.Point, radius float64, n int) orb.Ring {
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := float64(i) / float64(n) * 2 * 3.141592653589793
		rr := radius * (0.5 + r.Float64()*0.5)
		ring = append(ring, orb.Point{c[0] + rr*cosF(a), c[1] + rr*sinF(a)})
	}
	return append(ring, ring[0])
}

func TestPreparedAreaMatchesOrbPlanar(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	shapes := map[string]orb.MultiPolygon{
		"square": {{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}},
		"square with hole": {{
			{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}},
			{{1, 1}, {1, 3}, {3, 3}, {3, 1}, {1, 1}},
		}},
		"two parts": {
			{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}},
			{{{2, 2}, {3, 2}, {3, 3}, {2, 3}, {2, 2}}, {{2.2, 2.2}, {2.2, 2.8}, {2.8, 2.8}, {2.8, 2.2}, {2.2, 2.2}}},
		},
		"star 5000 vertices":  {{starPolygon(r, orb.Point{106.5, 29.6}, 0.3, 5000)}},
		"star with star hole": {{starPolygon(r, orb.Point{0, 0}, 1, 300), reverse(starPolygon(r, orb.Point{0, 0}, 0.3, 200))}},
	}
	for name, mp := range shapes {
		t.Run(name, func(t *testing.T) {
			pa := Prepare(mp)
			b := mp.Bound().Pad(0.1)
			disagreeOnEdge := 0
			for i := 0; i < 20000; i++ {
				p := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
				got, want := pa.Contains(p), planarContains(mp, p)
				if got != want {
					if onBoundary(mp, p) {
						disagreeOnEdge++
						continue
					}
					t.Fatalf("Contains(%v) = %v, orb/planar says %v", p, got, want)
				}
			}
			t.Logf("%s: %d random points on an edge (rule differs from orb by design)", name, disagreeOnEdge)
		})
	}
}

// The documented boundary rule on the unit square, against orb/planar's
// "boundary is inside".
func TestBoundaryRule(t *testing.T) {
	sq := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}
	pa := Prepare(sq)
	cases := []struct {
		name string
		p    orb.Point
		want bool
	}{
		{"interior", orb.Point{0.5, 0.5}, true},
		{"left edge", orb.Point{0, 0.5}, true},
		{"bottom edge", orb.Point{0.5, 0}, true},
		{"bottom-left corner", orb.Point{0, 0}, true},
		{"right edge", orb.Point{1, 0.5}, false},
		{"top edge", orb.Point{0.5, 1}, false},
		{"top-right corner", orb.Point{1, 1}, false},
		{"outside", orb.Point{1.5, 0.5}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pa.Contains(c.p); got != c.want {
				t.Fatalf("Contains(%v) = %v, want %v", c.p, got, c.want)
			}
			if onBoundary(sq, c.p) != (c.want != planarContains(sq, c.p)) && onBoundary(sq, c.p) {
				t.Logf("%v: orb/planar says %v (boundary counts as inside there)", c.p, planarContains(sq, c.p))
			}
		})
	}
}

func reverse(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i := range r {
		out[i] = r[len(r)-1-i]
	}
	return out
}

// A grid of square zones sharing edges: every point, including the points on
// shared edges and corners, belongs to exactly one grid cell.
func TestSharedEdgeBelongsToExactlyOneZone(t *testing.T) {
	ix, _ := New(Options{})
	b := ix.Batch()
	const n = 10
	cell := 0.01
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x0, y0 := 106.5+float64(i)*cell, 29.5+float64(j)*cell
			x1, y1 := 106.5+float64(i+1)*cell, 29.5+float64(j+1)*cell
			ring := orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
			if err := b.UpsertZone(Zone{ID: gridID(i, j), Layer: "grid", Name: gridID(i, j), Geometry: orb.MultiPolygon{{ring}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Commit()
	ctx := context.Background()
	// interior grid lines (exclusive of the outer boundary of the partition)
	for i := 1; i < n; i++ {
		for k := 0; k <= 4*n; k++ {
			for _, p := range []orb.Point{
				{106.5 + float64(i)*cell, 29.5 + 0.0025*float64(k)*(float64(n)*cell)/(0.0025*float64(4*n))},
				{106.5 + 0.0025*float64(k)*(float64(n)*cell)/(0.0025*float64(4*n)), 29.5 + float64(i)*cell},
			} {
				if p[0] >= 106.5+float64(n)*cell || p[1] >= 29.5+float64(n)*cell || p[0] <= 106.5 || p[1] <= 29.5 {
					continue
				}
				zs, err := ix.ZonesAt(ctx, p, "grid")
				if err != nil {
					t.Fatal(err)
				}
				if len(zs) != 1 {
					t.Fatalf("point %v on a shared edge is in %d grid cells", p, len(zs))
				}
			}
		}
	}
}

func gridID(i, j int) string { return string(rune('A'+i)) + string(rune('a'+j)) }

func TestZonesAtMatchesOrbPlanar(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	ix, _ := New(Options{})
	b := ix.Batch()
	var zones []Zone
	for i := 0; i < 200; i++ {
		c := orb.Point{106 + r.Float64(), 29 + r.Float64()}
		mp := orb.MultiPolygon{{starPolygon(r, c, 0.05+r.Float64()*0.1, 5+r.IntN(100))}}
		if i%4 == 0 {
			mp[0] = append(mp[0], reverse(starPolygon(r, c, 0.02, 8)))
		}
		z := Zone{ID: string(rune(0x4e00 + i)), Layer: []string{"grid2", "district", "ftz"}[i%3], Name: "z", Geometry: mp}
		zones = append(zones, z)
		if err := b.UpsertZone(z); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	ctx := context.Background()
	for i := 0; i < 4000; i++ {
		p := orb.Point{105.9 + r.Float64()*1.2, 28.9 + r.Float64()*1.2}
		got, err := ix.ZonesAt(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		gotIDs := map[string]bool{}
		for _, z := range got {
			gotIDs[z.ID] = true
		}
		for _, z := range zones {
			if planarContains(z.Geometry, p) != gotIDs[z.ID] && !onBoundary(z.Geometry, p) {
				t.Fatalf("zone %s at %v: index %v, orb/planar %v", z.ID, p, gotIDs[z.ID], !gotIDs[z.ID])
			}
		}
	}
}
