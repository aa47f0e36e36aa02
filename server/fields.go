package server

import (
	"bytes"
	"slices"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
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

// sets returns the public fields of the layers of geo as geo.FieldSets,
// for the GeoJSON encoder's Restrict (names that are not geo fields, such
// as a tile's cluster count, have no counterpart there).
func (p publicFieldSet) sets() map[geo.Layer]geo.FieldSet {
	out := map[geo.Layer]geo.FieldSet{}
	for _, l := range []geo.Layer{geo.LayerEntities, geo.LayerBuildings, geo.LayerPlaces, geo.LayerZones} {
		var fs []geo.Field
		for name := range p[string(l)] {
			if f, ok := geo.FieldByName(name); ok {
				fs = append(fs, f)
			}
		}
		out[l] = geo.NewFieldSet(fs...)
	}
	return out
}

// appendPublicZonesAnswer is appendZonesAnswer of the public profile: the
// grid without its inspector and team. It writes the answer with no grid
// and puts the public grid in its place (a JSON string cannot hold the
// unescaped member it replaces).
func appendPublicZonesAnswer(b []byte, res zoneid.Result, c crs.CRS) []byte {
	g := res.Grid
	res.Grid = nil
	start := len(b)
	b = appendZonesAnswer(b, res, c)
	if g == nil {
		return b
	}
	pg := []byte(`,"grid":{"id":`)
	pg = geojsonw.AppendString(pg, g.ID)
	pg = append(pg, `,"name":`...)
	pg = geojsonw.AppendString(pg, g.Name)
	if st := g.Props["street"]; st != "" {
		pg = append(pg, `,"street":`...)
		pg = geojsonw.AppendString(pg, st)
	}
	pg = append(pg, "},"...)
	out := bytes.Replace(b[start:], []byte(`,"grid":null,`), pg, 1)
	return append(b[:start], out...)
}
