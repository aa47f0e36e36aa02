package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// EarthRadius is the mean Earth radius in metres (IUGG R1), the sphere on
// which all distances of this package are measured.
const EarthRadius = 6371008.8

const deg2rad = math.Pi / 180

// DistanceM returns the great-circle distance in metres between two WGS-84
// points (haversine formula on the sphere of radius EarthRadius).
func DistanceM(a, b orb.Point) float64 {
	return havToMetres(haversineA(a[0], a[1], math.Cos(a[1]*deg2rad), b[0], b[1], math.Cos(b[1]*deg2rad)))
}

// haversineA returns the haversine term a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2),
// a monotone function of the distance (d = 2R asin √a).
func haversineA(lon1, lat1, cos1, lon2, lat2, cos2 float64) float64 {
	s1 := sinHalf((lat2 - lat1) * deg2rad)
	s2 := sinHalf((lon2 - lon1) * deg2rad)
	return s1*s1 + cos1*cos2*s2*s2
}

// sinHalf returns sin(x/2). For the small angles of local queries it uses
// the Taylor series, whose truncation error is far below float64 rounding:
// to x^5 for |x/2| < 0.001 (about 6 km on the ground; error < 1e-21
// relative), to x^9 for |x/2| < 0.05 (< 1e-20); elsewhere math.Sin.
// BenchmarkSinHalf measures it against math.Sin on the angles of queries.
func sinHalf(x float64) float64 {
	h := x * 0.5
	h2 := h * h
	if h2 < 1e-6 {
		return h * (1 + h2*(-1.0/6+h2*(1.0/120)))
	}
	if h2 < 0.0025 {
		return h * (1 + h2*(-1.0/6+h2*(1.0/120+h2*(-1.0/5040+h2*(1.0/362880)))))
	}
	return math.Sin(h)
}

func havToMetres(a float64) float64 {
	if d, ok := havToMetresSmall(a); ok {
		return d
	}
	return havToMetresAny(a)
}

// havToMetresSmall is havToMetres for distances up to about 1.2 km, small
// enough to be inlined in loops: there the asin series to x^5 is exact to
// float64 (the next term is below 5e-26 relative). BenchmarkHavToMetres
// measures it against 2R·asin(√a) on the hits of queries.
func havToMetresSmall(a float64) (float64, bool) {
	if a < 1e-8 && a > 0 {
		x := math.Sqrt(a)
		x2 := x * x
		return 2 * EarthRadius * x * (1 + x2*(1.0/6+x2*(3.0/40))), true
	}
	return 0, false
}

func havToMetresAny(a float64) float64 {
	if a >= 1 {
		return math.Pi * EarthRadius
	}
	if a <= 0 {
		return 0
	}
	x := math.Sqrt(a)
	if x < 0.01 {
		// asin series to x^7: the next term is below 1e-20 relative here
		x2 := x * x
		return 2 * EarthRadius * x * (1 + x2*(1.0/6+x2*(3.0/40+x2*(5.0/112))))
	}
	return 2 * EarthRadius * math.Asin(x)
}

// radiusToA converts a distance in metres to the haversine term bound.
func radiusToA(r float64) float64 {
	s := math.Sin(r / (2 * EarthRadius))
	return s * s
}

// capBoxes holds one or two boxes, by value (no allocation per query).
type capBoxes struct {
	b [2]orb.Bound
	n int
}

// capBounds returns the bounding boxes (one, or two across the antimeridian)
// that contain every point within radius metres of c on the sphere. They are
// exact up to a 1e-9° margin: Δλ = asin(sin δ / cos φ) is the true
// longitude half-width of a spherical cap, and a cap reaching a pole covers
// every longitude.
func capBounds(c orb.Point, radius float64) capBoxes {
	delta := radius / EarthRadius
	dLat := delta/deg2rad + 1e-9
	minLat, maxLat := c[1]-dLat, c[1]+dLat
	if delta >= math.Pi/2 || maxLat >= 90 || minLat <= -90 {
		return capBoxes{b: [2]orb.Bound{{Min: orb.Point{-180, math.Max(minLat, -90)}, Max: orb.Point{180, math.Min(maxLat, 90)}}}, n: 1}
	}
	s := math.Sin(delta) / math.Cos(c[1]*deg2rad)
	if s >= 1 {
		return capBoxes{b: [2]orb.Bound{{Min: orb.Point{-180, minLat}, Max: orb.Point{180, maxLat}}}, n: 1}
	}
	dLon := math.Asin(s)/deg2rad + 1e-9
	minLon, maxLon := c[0]-dLon, c[0]+dLon
	switch {
	case minLon < -180:
		return capBoxes{b: [2]orb.Bound{
			{Min: orb.Point{minLon + 360, minLat}, Max: orb.Point{180, maxLat}},
			{Min: orb.Point{-180, minLat}, Max: orb.Point{maxLon, maxLat}},
		}, n: 2}
	case maxLon > 180:
		return capBoxes{b: [2]orb.Bound{
			{Min: orb.Point{minLon, minLat}, Max: orb.Point{180, maxLat}},
			{Min: orb.Point{-180, minLat}, Max: orb.Point{maxLon - 360, maxLat}},
		}, n: 2}
	}
	return capBoxes{b: [2]orb.Bound{{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}}, n: 1}
}

// boxLowerBoundA returns a haversine term that is ≤ the term of every point
// in the box [min, max], for the k-nearest search: each of the two terms of
// a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2) is bounded below on its own, by
// the latitude and longitude gaps to the box (through either side of the
// globe) and the smallest cosine of a latitude in the box.
func boxLowerBoundA(lon, lat, cosLat float64, min, max [2]float64) float64 {
	var dLat float64
	switch {
	case lat < min[1]:
		dLat = min[1] - lat
	case lat > max[1]:
		dLat = lat - max[1]
	}
	var dLon float64
	switch {
	case lon < min[0]:
		dLon = math.Min(min[0]-lon, lon+360-max[0])
	case lon > max[0]:
		dLon = math.Min(lon-max[0], min[0]+360-lon)
	}
	s1 := sinHalf(dLat * deg2rad)
	a := s1 * s1
	if dLon > 0 {
		far := math.Max(math.Abs(min[1]), math.Abs(max[1]))
		if dLon > 180 {
			dLon = 180
		}
		s2 := sinHalf(dLon * deg2rad)
		a += cosLat * math.Cos(far*deg2rad) * s2 * s2
	}
	// guard against rounding making the bound exceed a true distance
	return math.Max(0, a*(1-1e-12)-1e-18)
}
