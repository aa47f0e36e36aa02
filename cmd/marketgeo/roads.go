package main

import (
	"strings"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/tiles"
)

// baseMapRoads gives the tile renderer the roads of the web map's base
// map: the demo region's (real names, synthetic lines) when the data is
// the demo (no --data directory; a store seeded by the demo), none
// otherwise (the roads layer is then empty).
func baseMapRoads(tr *tiles.Renderer, dataDir string) error {
	if dataDir != "" {
		return nil
	}
	rs, err := demo.Roads(demo.Options{})
	if err != nil {
		return err
	}
	out := make([]tiles.Road, 0, len(rs))
	for _, r := range rs {
		kind := "minor"
		if strings.HasSuffix(r.Name, "大道") {
			kind = "major"
		}
		out = append(out, tiles.Road{Name: r.Name, Kind: kind, Line: r.Line})
	}
	return tr.SetRoads(out)
}
