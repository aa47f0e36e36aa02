package server

import (
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// project converts a WGS-84 geometry to the output CRS.
func project(g orb.Geometry, c crs.CRS) orb.Geometry {
	if c == "" {
		return g
	}
	return crs.Transform(g, crs.WGS84, c)
}

// hitFeature renders a query hit as a GeoJSON feature in the output CRS.
func hitFeature(h *geo.Hit, c crs.CRS, withDistance bool) *geojson.Feature {
	var f *geojson.Feature
	switch {
	case h.Entity != nil:
		f = geo.EntityFeature(h.Entity)
	case h.Building != nil:
		f = geo.BuildingFeature(h.Building)
		cen := project(h.Building.Center(), c).(orb.Point)
		f.Properties["center"] = []float64{cen[0], cen[1]}
	case h.Place != nil:
		f = geo.PlaceFeature(h.Place)
	case h.Zone != nil:
		f = geo.ZoneFeature(h.Zone)
	default:
		return nil
	}
	f.Geometry = project(f.Geometry, c)
	if withDistance {
		f.Properties["distance_m"] = roundTo(h.DistanceM, 2)
	}
	return f
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

// featureCollection renders hits with the result's total and truncation.
func featureCollection(res geo.Result, c crs.CRS, withDistance bool) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	fc.Features = make([]*geojson.Feature, 0, len(res.Hits))
	for i := range res.Hits {
		if f := hitFeature(&res.Hits[i], c, withDistance); f != nil {
			fc.Append(f)
		}
	}
	fc.ExtraMembers = geojson.Properties{"total": res.Total, "truncated": res.Truncated, "crs": string(c)}
	return fc
}
