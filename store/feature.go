package store

import (
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb/geojson"
)

// FeatureOf renders a feature of any layer as a GeoJSON Feature with the
// loaders' property names (and its version).
func FeatureOf(v any) *geojson.Feature {
	switch t := v.(type) {
	case *geo.Entity:
		return geo.EntityFeature(t)
	case *geo.Building:
		return geo.BuildingFeature(t)
	case *geo.Place:
		return geo.PlaceFeature(t)
	case *geo.Zone:
		return geo.ZoneFeature(t)
	}
	return nil
}

// featureKey returns the layer and ID of a feature of any layer.
func featureKey(v any) (geo.Layer, string) {
	switch t := v.(type) {
	case *geo.Entity:
		return geo.LayerEntities, t.ID
	case geo.Entity:
		return geo.LayerEntities, t.ID
	case *geo.Building:
		return geo.LayerBuildings, t.ID
	case geo.Building:
		return geo.LayerBuildings, t.ID
	case *geo.Place:
		return geo.LayerPlaces, t.ID
	case geo.Place:
		return geo.LayerPlaces, t.ID
	case *geo.Zone:
		return geo.LayerZones, t.ID
	case geo.Zone:
		return geo.LayerZones, t.ID
	}
	return "", ""
}

// VersionOf returns the Version of a feature of any layer (0 for anything
// else).
func VersionOf(v any) uint64 {
	switch t := v.(type) {
	case *geo.Entity:
		return t.Version
	case *geo.Building:
		return t.Version
	case *geo.Place:
		return t.Version
	case *geo.Zone:
		return t.Version
	}
	return 0
}

func setVersion(v any, ver uint64) {
	switch t := v.(type) {
	case *geo.Entity:
		t.Version = ver
	case *geo.Building:
		t.Version = ver
	case *geo.Place:
		t.Version = ver
	case *geo.Zone:
		t.Version = ver
	}
}
