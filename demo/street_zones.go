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

// streetSimplifyCells is the Douglas–Peucker tolerance, in cells, of the
// street outlines: a cell's diagonal stairs (0.71 cells off their chord)
// and one-cell steps go, the outline stays within a cell of the raster.
const streetSimplifyCells = 0.9

// streetZones adds a synthetic "street" layer (街道/镇): the districts are
// rasterised into one grid of 400 m cells, a cell whose centre lies in a
// district goes to the nearest street or town office point of that
// district (a Voronoi partition), and each street's cells are dissolved
// into its outline (dissolve.go): no cell edge inside a street, the stairs
// of the raster simplified away along arcs shared with the neighbours. The
// result is a partition (neighbouring streets share edges exactly, no
// point is in two streets), but it is not the official
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
	// dissolve each street's cells into its outline (shared arcs
	// simplified once, so neighbours keep sharing them exactly)
	polys := dissolveRaster(owner, nx, ny, len(sts), streetSimplifyCells)
	for k, st := range sts {
		if len(polys[k+1]) == 0 {
			continue
		}
		mp := make(orb.MultiPolygon, 0, len(polys[k+1]))
		for _, lp := range polys[k+1] {
			poly := make(orb.Polygon, len(lp))
			for ri, r := range lp {
				ring := make(orb.Ring, len(r))
				for pi, q := range r {
					ring[pi] = orb.Point{b.Min[0] + q[0]*dLon, b.Min[1] + q[1]*dLat}
				}
				poly[ri] = ring
			}
			mp = append(mp, poly)
		}
		g.ds.Zones = append(g.ds.Zones, geo.Zone{ID: "ST" + st.code, Layer: "street", Name: st.name, Geometry: mp,
			Props: map[string]string{"code": st.code, "district": g.districtName(st.district),
				"source": fmt.Sprintf("synthetic-demo: Voronoi partition of the district among street/town points (%s) on a %d m raster; not the official boundary", st.anchorSource, streetCellM)}})
	}
}
