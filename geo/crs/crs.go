// Package crs converts coordinates between WGS-84, GCJ-02 and BD-09.
//
// Chinese map apps do not show WGS-84: Amap (Gaode) and Tencent use GCJ-02, a
// deliberately obfuscated datum, and Baidu uses BD-09, a further transform of
// GCJ-02. marketgeo stores everything in WGS-84 (CGCS2000 is treated as
// WGS-84) and converts only at its edges, with the functions of this package.
//
// The forward transforms are the published formulas. The inverse of GCJ-02
// has no closed form; [GCJ02ToWGS84] iterates the forward transform until the
// round trip is below 1e-9 degrees (about 0.1 mm), so a round trip WGS-84 →
// GCJ-02 → WGS-84 is exact to far better than a metre.
//
// Within about 500 m of the edge of the mainland cover the transforms are
// not one-to-one (a shifted point can land outside the cover and an unshifted
// one inside it); the inverses then prefer the unshifted reading. This only
// concerns borders and coasts, never a city.
//
// No shift is applied outside mainland China: Hong Kong, Macau, Taiwan and
// neighbouring countries are returned unchanged, as the Chinese map apps do.
// [InMainlandChina] decides this from a set of inclusion and exclusion
// rectangles, finer than the single box many implementations use.
//
// All functions are pure and safe for concurrent use.
package crs

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// CRS names a coordinate reference system accepted at the edges of marketgeo.
type CRS string

const (
	// WGS84 is the World Geodetic System 1984 (and CGCS2000, which marketgeo
	// treats as identical). It is what marketgeo stores.
	WGS84 CRS = "wgs84"
	// GCJ02 is the Chinese "Mars" datum used by Amap (Gaode) and Tencent maps.
	GCJ02 CRS = "gcj02"
	// BD09 is Baidu's datum, derived from GCJ-02.
	BD09 CRS = "bd09"
)

// ErrUnknownCRS is returned by [Parse] for a name it does not know.
var ErrUnknownCRS = fmt.Errorf("crs: unknown coordinate system (want wgs84, gcj02 or bd09)")

// Parse returns the CRS named by s, case-insensitively. It accepts the
// common aliases (wgs-84, epsg:4326, cgcs2000, gcj-02, amap, gaode, tencent,
// bd-09, baidu). The empty string means WGS84.
func Parse(s string) (CRS, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "wgs84", "wgs-84", "epsg:4326", "4326", "cgcs2000", "gps":
		return WGS84, nil
	case "gcj02", "gcj-02", "amap", "gaode", "tencent", "mars":
		return GCJ02, nil
	case "bd09", "bd-09", "bd09ll", "baidu":
		return BD09, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownCRS, s)
}

const (
	krasovskyA  = 6378245.0              // semi-major axis used by GCJ-02
	krasovskyEE = 0.00669342162296594323 // eccentricity squared used by GCJ-02
	bdXPi       = math.Pi * 3000.0 / 180.0
)

type rect struct{ west, south, east, north float64 }

func (r rect) contains(lon, lat float64) bool {
	return lon >= r.west && lon <= r.east && lat >= r.south && lat <= r.north
}

// mainland is a coarse cover of mainland China; exclusions cut out Taiwan,
// Hong Kong, Macau and parts of neighbouring countries that the cover
// overlaps. The figures are the widely used rectangle set of the GCJ-02
// literature (region/exclude lists), plus Hong Kong and Macau.
var mainland = [...]rect{
	{79.446200, 42.889900, 96.330000, 49.220400},
	{109.687200, 39.374200, 135.000200, 54.141500},
	{73.124600, 29.529700, 124.143255, 42.889900},
	{82.968400, 26.718600, 97.035200, 29.529700},
	{97.025300, 20.414096, 124.367395, 29.529700},
	{107.975793, 17.871542, 111.744104, 20.414096},
}

var notMainland = [...]rect{
	{119.921265, 21.785006, 122.497559, 25.398623}, // Taiwan
	{101.865200, 20.098800, 106.665000, 22.284000}, // Laos, Vietnam
	{106.452500, 20.487800, 108.051000, 21.542200}, // Vietnam
	{109.032300, 50.325700, 119.127000, 55.817500}, // Mongolia, Russia
	{127.456800, 49.557400, 137.022700, 55.817500}, // Russia
	{131.266200, 42.569200, 137.022700, 44.892200}, // Russia
	{113.835000, 22.153000, 114.441000, 22.561000}, // Hong Kong
	{113.528000, 22.109000, 113.599000, 22.218000}, // Macau
}

// InMainlandChina reports whether the WGS-84 (or GCJ-02; the offset is far
// smaller than the rectangles' precision) point lies in mainland China, where
// GCJ-02 and BD-09 differ from WGS-84.
func InMainlandChina(lon, lat float64) bool {
	in := false
	for _, r := range mainland {
		if r.contains(lon, lat) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, r := range notMainland {
		if r.contains(lon, lat) {
			return false
		}
	}
	return true
}

func transformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func transformLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// gcjDelta returns the GCJ-02 offset (in degrees) at a WGS-84 point.
func gcjDelta(lon, lat float64) (dLon, dLat float64) {
	dLat = transformLat(lon-105.0, lat-35.0)
	dLon = transformLon(lon-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - krasovskyEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLon, dLat
}

// WGS84ToGCJ02 converts a WGS-84 point to GCJ-02. Points outside mainland
// China are returned unchanged.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if !InMainlandChina(lon, lat) {
		return lon, lat
	}
	dLon, dLat := gcjDelta(lon, lat)
	return lon + dLon, lat + dLat
}

// GCJ02ToWGS84 converts a GCJ-02 point to WGS-84 by iterating the forward
// transform to a residual below 1e-9 degrees. Points outside mainland China
// are returned unchanged.
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if !InMainlandChina(lon, lat) {
		return lon, lat
	}
	wLon, wLat := lon, lat
	for i := 0; i < 30; i++ {
		dLon, dLat := gcjDelta(wLon, wLat)
		eLon := wLon + dLon - lon
		eLat := wLat + dLat - lat
		wLon -= eLon
		wLat -= eLat
		if math.Abs(eLon) < 1e-9 && math.Abs(eLat) < 1e-9 {
			break
		}
	}
	if !InMainlandChina(wLon, wLat) {
		// Within a few hundred metres of the cover's edge the shifted
		// preimage lies outside it: the point was never shifted.
		return lon, lat
	}
	return wLon, wLat
}

// GCJ02ToBD09 converts a GCJ-02 point to BD-09. Points outside mainland
// China are returned unchanged.
func GCJ02ToBD09(lon, lat float64) (float64, float64) {
	if !InMainlandChina(lon, lat) {
		return lon, lat
	}
	return gcjToBD(lon, lat)
}

func gcjToBD(lon, lat float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

// BD09ToGCJ02 converts a BD-09 point to GCJ-02, refining the published
// closed-form inverse by iteration so that the round trip is exact to
// 1e-9 degrees. Points outside mainland China are returned unchanged.
func BD09ToGCJ02(lon, lat float64) (float64, float64) {
	if !InMainlandChina(lon, lat) {
		return lon, lat
	}
	x, y := lon-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	gLon, gLat := z*math.Cos(theta), z*math.Sin(theta)
	for i := 0; i < 10; i++ {
		bLon, bLat := gcjToBD(gLon, gLat)
		eLon, eLat := bLon-lon, bLat-lat
		gLon -= eLon
		gLat -= eLat
		if math.Abs(eLon) < 1e-9 && math.Abs(eLat) < 1e-9 {
			break
		}
	}
	return gLon, gLat
}

// WGS84ToBD09 converts a WGS-84 point to BD-09.
func WGS84ToBD09(lon, lat float64) (float64, float64) {
	return GCJ02ToBD09(WGS84ToGCJ02(lon, lat))
}

// BD09ToWGS84 converts a BD-09 point to WGS-84.
func BD09ToWGS84(lon, lat float64) (float64, float64) {
	return GCJ02ToWGS84(BD09ToGCJ02(lon, lat))
}

// ToWGS84 converts a point given in c to WGS-84. An unknown c is treated as
// WGS-84; use [Parse] to validate user input first.
func ToWGS84(c CRS, lon, lat float64) (float64, float64) {
	switch c {
	case GCJ02:
		return GCJ02ToWGS84(lon, lat)
	case BD09:
		return BD09ToWGS84(lon, lat)
	}
	return lon, lat
}

// FromWGS84 converts a WGS-84 point to c. An unknown c is treated as WGS-84.
func FromWGS84(c CRS, lon, lat float64) (float64, float64) {
	switch c {
	case GCJ02:
		return WGS84ToGCJ02(lon, lat)
	case BD09:
		return WGS84ToBD09(lon, lat)
	}
	return lon, lat
}

// Transform converts every position of g from one CRS to another and
// returns the converted copy (g itself is not modified). Points, line
// strings, rings, polygons, their multi forms and bounds are handled;
// other geometries are returned unchanged.
func Transform(g orb.Geometry, from, to CRS) orb.Geometry {
	if from == to || g == nil {
		return g
	}
	conv := func(p orb.Point) orb.Point {
		lon, lat := ToWGS84(from, p[0], p[1])
		lon, lat = FromWGS84(to, lon, lat)
		return orb.Point{lon, lat}
	}
	line := func(ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = conv(p)
		}
		return out
	}
	switch v := g.(type) {
	case orb.Point:
		return conv(v)
	case orb.MultiPoint:
		return orb.MultiPoint(line(v))
	case orb.LineString:
		return orb.LineString(line(v))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(v))
		for i, l := range v {
			out[i] = line(l)
		}
		return out
	case orb.Ring:
		return orb.Ring(line(v))
	case orb.Polygon:
		out := make(orb.Polygon, len(v))
		for i, r := range v {
			out[i] = line(r)
		}
		return out
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(v))
		for i, p := range v {
			out[i] = Transform(p, from, to).(orb.Polygon)
		}
		return out
	case orb.Bound:
		return orb.Bound{Min: conv(v.Min), Max: conv(v.Max)}
	}
	return g
}
