package server

import (
	"slices"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/paulmach/orb/geojson"
)

// PublicFields is the one list of the properties the public profile shows,
// per layer: the JSON answers (renderPublic), the vector tiles and their
// TileJSON (the tile renderer of a public server is built with these as
// tiles.Options.Fields, which New checks) all take it from here. A
// property not listed is internal: risk classes, grid inspectors and
// teams, internal records, free attributes, versions. Computed answer
// properties that hold nothing of the record (distance_m, score, match,
// cluster counts without risk) are listed too.
func PublicFields() map[string][]string {
	return map[string][]string{
		string(geo.LayerEntities): {"id", "name", "address", "industry", "industry_name", "status", "registered_at",
			"annual_report", "abnormal", "blacklisted",
			"distance_m", "score", "match", "cluster", "count"},
		string(geo.LayerBuildings): {"id", "name", "address", "floors", "height", "center", "distance_m", "score", "match"},
		string(geo.LayerPlaces):    {"id", "name", "kind", "distance_m", "score", "match"},
		string(geo.LayerZones):     {"id", "layer", "name", "distance_m", "score", "match"},
		"roads":                    {"id", "name", "kind"}, // the base map's roads (tiles only)
	}
}

// publicFieldSet is PublicFields as sets, built once per server.
type publicFieldSet map[string]map[string]bool

func newPublicFieldSet() publicFieldSet {
	out := publicFieldSet{}
	for layer, names := range PublicFields() {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		out[layer] = m
	}
	return out
}

// allowed reports whether a property of a layer is public.
func (p publicFieldSet) allowed(layer geo.Layer, name string) bool {
	return p[string(layer)][name]
}

// filterProps deletes the properties of a layer that are not public.
func (p publicFieldSet) filterProps(layer geo.Layer, props geojson.Properties) {
	for k := range props {
		if !p.allowed(layer, k) {
			delete(props, k)
		}
	}
}

// publicFieldsOf returns the public fields of a layer, sorted.
func publicFieldsOf(layer string) []string {
	f := slices.Clone(PublicFields()[layer])
	slices.Sort(f)
	return f
}

// publicTiles reports whether a tile renderer carries exactly the public
// fields.
func publicTiles(tr *tiles.Renderer) bool {
	f := tr.Options().Fields
	if f == nil {
		return false
	}
	pub := PublicFields()
	if len(f) != len(pub) {
		return false
	}
	for layer, names := range pub {
		if !slices.Equal(slices.Sorted(slices.Values(f[layer])), slices.Sorted(slices.Values(names))) {
			return false
		}
	}
	return true
}
