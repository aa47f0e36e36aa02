package tiles

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// labelPoint returns where a zone's name is drawn: a point inside its
// largest polygon, near the middle. It is the centroid when that lies
// inside; otherwise (a concave outline) the middle of the widest stretch
// inside the polygon along the centroid's latitude, or failing that along
// the latitude halfway up the bounds.
func labelPoint(g orb.Geometry) (orb.Point, bool) {
	var poly orb.Polygon
	switch t := g.(type) {
	case orb.Polygon:
		poly = t
	case orb.MultiPolygon:
		best := -1.0
		for _, p := range t {
			if a := math.Abs(planar.Area(p)); a > best {
				best, poly = a, p
			}
		}
	}
	if len(poly) == 0 || len(poly[0]) < 4 {
		return orb.Point{}, false
	}
	c, _ := planar.CentroidArea(poly)
	if planar.PolygonContains(poly, c) {
		return c, true
	}
	b := poly.Bound()
	for _, y := range []float64{c[1], (b.Min[1] + b.Max[1]) / 2} {
		if p, ok := widestAt(poly, y); ok {
			return p, true
		}
	}
	return orb.Point{}, false
}

// widestAt returns the middle of the widest stretch of the horizontal
// line at y that lies inside poly (even-odd rule over all rings).
func widestAt(poly orb.Polygon, y float64) (orb.Point, bool) {
	var xs []float64
	for _, r := range poly {
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if (a[1] <= y) != (b[1] <= y) {
				xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
	}
	slices.Sort(xs)
	best, bx := 0.0, 0.0
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > best {
			best, bx = w, (xs[i]+xs[i+1])/2
		}
	}
	return orb.Point{bx, y}, best > 0
}
