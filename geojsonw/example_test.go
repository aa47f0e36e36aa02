package geojsonw_test

import (
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/paulmach/orb"
)

// A hit written as a GeoJSON feature with only its id, name and distance.
func ExampleEncoder_AppendHit() {
	fields, err := geo.ParseFieldSet("id,name,distance_m")
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := geojsonw.NewEncoder(crs.WGS84, fields)
	h := geo.Hit{DistanceM: 12.3456, Entity: &geo.Entity{ID: "915001123118572474", Name: "重庆辰辉通餐饮有限公司",
		Location: orb.Point{106.5335, 29.6297}, Risk: geo.RiskA}}
	buf := geojsonw.AppendCollectionStart(nil)
	buf = enc.AppendHit(buf, false, &h, geojsonw.Extra{Distance: true})
	buf = append(geojsonw.AppendCollectionEnd(buf), '}')
	fmt.Println(string(buf))
	// Output:
	// {"type":"FeatureCollection","features":[{"type":"Feature","id":"915001123118572474","geometry":{"type":"Point","coordinates":[106.5335,29.6297]},"properties":{"id":"915001123118572474","name":"重庆辰辉通餐饮有限公司","distance_m":12.35}}]}
}
