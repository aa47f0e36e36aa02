package tiles

import (
	"math"

	"github.com/paulmach/orb"
)

// TileJSON is a TileJSON 3.0.0 document describing one tile layer.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name,omitempty"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version,omitempty"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes an MVT layer of a tileset: its fields and their
// types ("String", "Number" or "Boolean").
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// VectorLayerOf returns the description of a tile layer.
func (r *Renderer) VectorLayerOf(layer string) (VectorLayer, error) {
	if _, err := geoLayer(layer); err != nil {
		return VectorLayer{}, err
	}
	vl := VectorLayer{ID: layer, MinZoom: 0, MaxZoom: r.opts.DataMaxZoom}
	switch layer {
	case LayerEntities:
		vl.Description = "market entities coloured by risk class; clusters below zoom " + itoa(r.opts.ClusterMaxZoom+1)
		vl.Fields = map[string]string{"id": "String", "name": "String", "risk": "String", "industry": "String", "status": "String",
			"cluster": "Number", "count": "Number", "count_A": "Number", "count_B": "Number", "count_C": "Number", "count_D": "Number"}
	case LayerBuildings:
		vl.Description = "building footprints with the economic figures of the entities inside"
		vl.MinZoom = r.opts.BuildingMinZoom
		vl.Fields = map[string]string{"id": "String", "name": "String", "height": "Number", "floors": "Number",
			"entity_count": "Number", "output": "Number", "output_per_floor": "Number", "employment": "Number", "tax": "Number"}
	case LayerZones:
		vl.Description = "zones: layer is district, street, ftz, grid or a user layer"
		vl.Fields = map[string]string{"layer": "String", "id": "String", "name": "String"}
	case LayerRoads:
		vl.Description = "named road centre lines of the base map (kind major or minor)"
		vl.Fields = map[string]string{"id": "String", "name": "String", "kind": "String"}
	case LayerPlaces:
		vl.Description = "places of interest"
		vl.Fields = map[string]string{"id": "String", "name": "String", "kind": "String"}
	}
	r.filterVectorLayer(&vl) // Options.Fields (fields.go)
	return vl, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// TileJSON returns the TileJSON 3.0.0 document of a layer, with tileURL (a
// template with {z}, {x} and {y}) as its only tile URL. Bounds and centre
// come from the current index; an empty index gives the whole world.
func (r *Renderer) TileJSON(layer, tileURL string) (TileJSON, error) {
	vl, err := r.VectorLayerOf(layer)
	if err != nil {
		return TileJSON{}, err
	}
	tj := TileJSON{
		TileJSON: "3.0.0", Name: r.opts.Name + " " + layer, Description: vl.Description, Version: "1.0.0",
		Attribution: r.opts.Attribution, Scheme: "xyz", Tiles: []string{tileURL},
		MinZoom: vl.MinZoom, MaxZoom: vl.MaxZoom, VectorLayers: []VectorLayer{vl},
	}
	b, ok := r.dataBounds()
	if !ok {
		tj.Bounds = [4]float64{-180, -85.0511, 180, 85.0511}
		tj.Center = [3]float64{0, 0, 0}
		return tj, nil
	}
	tj.Bounds = [4]float64{round6(b.Min[0]), round6(b.Min[1]), round6(b.Max[0]), round6(b.Max[1])}
	c := b.Center()
	tj.Center = [3]float64{round6(c[0]), round6(c[1]), float64(fitZoom(b))}
	return tj, nil
}

func (r *Renderer) dataBounds() (b orb.Bound, ok bool) {
	s := r.idx.Snapshot()
	c := s.Counts()
	if c.Entities+c.Buildings+c.Places+c.Zones == 0 {
		return b, false
	}
	return s.Bounds(), true
}

// fitZoom is the largest zoom at which the bounds fit in about 2×2 tiles.
func fitZoom(b orb.Bound) int {
	w := math.Max(b.Max[0]-b.Min[0], 1e-9)
	z := int(math.Floor(math.Log2(360 / w)))
	return max(0, min(z+1, 18))
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
