package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// PreparedArea answers point-in-polygon queries for one multipolygon, with
// its edges bucketed in horizontal bands so that a lookup only tests the
// edges that cross the point's latitude band. A prepared area is immutable
// and safe for concurrent use.
//
// The boundary rule is the half-open crossing-number rule (even-odd, as in
// PNPOLY): a point is inside when a ray towards +x crosses an odd number of
// edges, an edge crossing when one end is strictly above the point and the
// other at or below it. Consequently a point on an edge shared by two
// neighbouring zones belongs to exactly one of them (for a vertical shared
// edge, the zone to its right; for a horizontal one, the zone above it),
// and a point exactly on the outer boundary of a partition belongs to at most
// one zone. Holes and multiple parts follow from the even-odd rule.
type PreparedArea struct {
	bound  orb.Bound
	minY   float64
	bandH  float64
	bands  [][]edge
	nEdges int
}

type edge struct{ x1, y1, x2, y2 float64 }

// edgesPerBand is the target number of edges per band of a prepared area.
const edgesPerBand = 4

// Prepare builds the point-in-polygon structure for mp.
func Prepare(mp orb.MultiPolygon) *PreparedArea {
	var edges []edge
	for _, p := range mp {
		for _, r := range p {
			for i := 0; i+1 < len(r); i++ {
				a, b := r[i], r[i+1]
				if a[1] == b[1] {
					continue // horizontal edges never cross a horizontal ray under the half-open rule
				}
				edges = append(edges, edge{a[0], a[1], b[0], b[1]})
			}
			// tolerate unclosed rings: close them implicitly
			if n := len(r); n > 1 && r[0] != r[n-1] && r[0][1] != r[n-1][1] {
				edges = append(edges, edge{r[n-1][0], r[n-1][1], r[0][0], r[0][1]})
			}
		}
	}
	pa := &PreparedArea{bound: mp.Bound(), nEdges: len(edges)}
	pa.minY = pa.bound.Min[1]
	nb := len(edges) / edgesPerBand
	if nb < 1 {
		nb = 1
	}
	if nb > 1<<16 {
		nb = 1 << 16
	}
	h := (pa.bound.Max[1] - pa.minY) / float64(nb)
	if h <= 0 {
		h, nb = 1, 1
	}
	pa.bandH = h
	pa.bands = make([][]edge, nb)
	for _, e := range edges {
		lo, hi := math.Min(e.y1, e.y2), math.Max(e.y1, e.y2)
		b0, b1 := pa.band(lo), pa.band(hi)
		for b := b0; b <= b1; b++ {
			pa.bands[b] = append(pa.bands[b], e)
		}
	}
	return pa
}

func (pa *PreparedArea) band(y float64) int {
	b := int((y - pa.minY) / pa.bandH)
	if b < 0 {
		return 0
	}
	if b >= len(pa.bands) {
		return len(pa.bands) - 1
	}
	return b
}

// Bound returns the bounding box of the area.
func (pa *PreparedArea) Bound() orb.Bound { return pa.bound }

// Contains reports whether p is inside the area under the half-open rule
// documented on [PreparedArea].
func (pa *PreparedArea) Contains(p orb.Point) bool {
	x, y := p[0], p[1]
	if y < pa.bound.Min[1] || y > pa.bound.Max[1] || x < pa.bound.Min[0] || x > pa.bound.Max[0] {
		return false
	}
	in := false
	for _, e := range pa.bands[pa.band(y)] {
		if (e.y1 > y) != (e.y2 > y) {
			if x < e.x1+(y-e.y1)*(e.x2-e.x1)/(e.y2-e.y1) {
				in = !in
			}
		}
	}
	return in
}
