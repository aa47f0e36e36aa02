package demo

import (
	"fmt"
	"math"
	"sort"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// streetCellM is the raster resolution of the synthetic street zones.
const streetCellM = 400

// streetZones adds a synthetic "street" layer (街道/镇): the districts are
// rasterised into one grid of 400 m cells, a cell whose centre lies in a
// district goes to the nearest street or town office point of that
// district (a Voronoi partition), and each street's cells are merged into
// rectangles. The result is a partition (neighbouring streets share edges
// exactly, no point is in two streets), but it is not the official
// boundary: it follows the district outlines only to within a cell, and
// streets without any public point are absent.
func (g *gen) streetZones() {
	codes := make([]string, 0, len(g.in.districts))
	for c := range g.in.districts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	if len(codes) == 0 {
		return
	}
	keys := make([]string, 0, len(g.in.extra))
	for k := range g.in.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	byDistrict := map[string][]int{}
	var sts []*street
	for _, k := range keys {
		st := g.in.extra[k]
		if st.anchorSource != "" && g.in.districts[st.district] != nil {
			byDistrict[st.district] = append(byDistrict[st.district], len(sts))
			sts = append(sts, st)
		}
	}
	var b orb.Bound
	areas := make([]*geo.PreparedArea, len(codes))
	for i, c := range codes {
		areas[i] = geo.Prepare(g.in.districts[c].geom)
		if i == 0 {
			b = areas[i].Bound()
		} else {
			b = b.Union(areas[i].Bound())
		}
	}
	lat0 := b.Center()[1]
	cos0 := math.Cos(lat0 * math.Pi / 180)
	dLon := streetCellM / mPerDegLon(lat0)
	dLat := streetCellM / mPerDegLat
	nx := int(math.Ceil((b.Max[0]-b.Min[0])/dLon)) + 1
	ny := int(math.Ceil((b.Max[1]-b.Min[1])/dLat)) + 1
	x := func(i int) float64 { return b.Min[0] + float64(i)*dLon }
	y := func(j int) float64 { return b.Min[1] + float64(j)*dLat }
	owner := make([]int, nx*ny) // street index + 1, 0 = in no district
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			c := orb.Point{x(i) + dLon/2, y(j) + dLat/2}
			for di, code := range codes {
				if !areas[di].Contains(c) {
					continue
				}
				best, bd := -1, math.Inf(1)
				for _, k := range byDistrict[code] {
					dx, dy := (c[0]-sts[k].anchor[0])*cos0, c[1]-sts[k].anchor[1]
					if dd := dx*dx + dy*dy; dd < bd {
						best, bd = k, dd
					}
				}
				owner[j*nx+i] = best + 1
				break
			}
		}
	}
	// runs of one owner in a row, merged with identical runs of the row below
	type run struct{ i0, i1, j0, j1 int }
	rects := make([][]run, len(sts))
	open := map[[3]int]int{} // (owner, i0, i1) -> index in rects[owner] of the run ending at row j-1
	for j := 0; j < ny; j++ {
		next := map[[3]int]int{}
		for i := 0; i < nx; {
			o := owner[j*nx+i]
			k := i
			for k < nx && owner[j*nx+k] == o {
				k++
			}
			if o > 0 {
				key := [3]int{o - 1, i, k}
				if idx, ok := open[key]; ok {
					rects[o-1][idx].j1 = j + 1
					next[key] = idx
				} else {
					rects[o-1] = append(rects[o-1], run{i, k, j, j + 1})
					next[key] = len(rects[o-1]) - 1
				}
			}
			i = k
		}
		open = next
	}
	for k, st := range sts {
		if len(rects[k]) == 0 {
			continue
		}
		mp := make(orb.MultiPolygon, 0, len(rects[k]))
		for _, r := range rects[k] {
			mp = append(mp, orb.Polygon{{{x(r.i0), y(r.j0)}, {x(r.i1), y(r.j0)}, {x(r.i1), y(r.j1)}, {x(r.i0), y(r.j1)}, {x(r.i0), y(r.j0)}}})
		}
		g.ds.Zones = append(g.ds.Zones, geo.Zone{ID: "ST" + st.code, Layer: "street", Name: st.name, Geometry: mp,
			Props: map[string]string{"code": st.code, "district": g.districtName(st.district),
				"source": fmt.Sprintf("synthetic-demo: Voronoi partition of the district among street/town points (%s) on a %d m raster; not the official boundary", st.anchorSource, streetCellM)}})
	}
}
