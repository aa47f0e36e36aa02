package demo

import (
	"math"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// TestStreetOutlines: the street zones are dissolved outlines, not the
// raster's cells: no edge is shared by two rings of one street (a cell
// edge left inside), no staircase of one-cell steps remains (three
// axis-parallel segments of at most a cell, turning each time), and the
// simplified streets still cover the raster's area (an overlap or a gap
// between neighbours would show in the sum: the oracle is the number of
// raster cells owned, counted here from scratch).
func TestStreetOutlines(t *testing.T) {
	ds, err := Generate(Options{Entities: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var b orb.Bound
	n := 0
	for _, z := range ds.Zones {
		if z.Layer == "district" {
			if n == 0 {
				b = z.Geometry.Bound()
			} else {
				b = b.Union(z.Geometry.Bound())
			}
			n++
		}
	}
	lat0 := b.Center()[1]
	cellLon, cellLat := streetCellM/mPerDegLon(lat0), streetCellM/mPerDegLat
	type seg struct{ a, b orb.Point }
	streets, vertices, stairs, polys := 0, 0, 0, 0
	area := 0.0
	for _, z := range ds.Zones {
		if z.Layer != "street" {
			continue
		}
		streets++
		seen := map[seg]bool{}
		for _, p := range z.Geometry {
			polys++
			area += planar.Area(p)
			for _, r := range p {
				for k := 0; k+1 < len(r); k++ {
					s := seg{r[k], r[k+1]}
					if s.b[0] < s.a[0] || s.b[0] == s.a[0] && s.b[1] < s.a[1] {
						s = seg{s.b, s.a}
					}
					if seen[s] {
						t.Fatalf("%s (%s): edge %v is inside the street (shared by two of its rings)", z.ID, z.Name, s)
					}
					seen[s] = true
				}
				short := func(k int) byte { // 'h' or 'v' for an axis-parallel step of at most a cell
					a, c := r[k%(len(r)-1)], r[(k+1)%(len(r)-1)]
					switch {
					case a[1] == c[1] && math.Abs(c[0]-a[0]) <= cellLon*1.01:
						return 'h'
					case a[0] == c[0] && math.Abs(c[1]-a[1]) <= cellLat*1.01:
						return 'v'
					}
					return 0
				}
				for k := 0; k+1 < len(r); k++ {
					vertices++
					s0, s1, s2 := short(k), short(k+1), short(k+2)
					if s0 != 0 && s1 != 0 && s2 != 0 && s0 != s1 && s1 != s2 {
						stairs++
					}
				}
			}
		}
	}
	// the oracle: cells whose centre is in a district, from the districts
	cells := 0
	var areas []*geo.PreparedArea
	for _, z := range ds.Zones {
		if z.Layer == "district" {
			areas = append(areas, geo.Prepare(z.Geometry))
		}
	}
	nx, ny := int(math.Ceil((b.Max[0]-b.Min[0])/cellLon))+1, int(math.Ceil((b.Max[1]-b.Min[1])/cellLat))+1
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			c := orb.Point{b.Min[0] + (float64(i)+0.5)*cellLon, b.Min[1] + (float64(j)+0.5)*cellLat}
			for _, a := range areas {
				if a.Contains(c) {
					cells++
					break
				}
			}
		}
	}
	t.Logf("%d streets, %d polygons, %d vertices, %d staircase steps; area %.0f cells, raster %d cells", streets, polys, vertices, stairs, area/(cellLon*cellLat), cells)
	if streets < 50 {
		t.Fatalf("only %d streets", streets)
	}
	if stairs > 0 {
		t.Errorf("%d staircase steps of the raster remain", stairs)
	}
	if got := area / (cellLon * cellLat); math.Abs(got-float64(cells)) > 0.01*float64(cells) {
		t.Errorf("streets cover %.0f cells, the raster %d (more than 1%% apart: overlap or gap)", got, cells)
	}
}
