package tiles_test

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

func Example() {
	idx, _ := geo.New(geo.Options{})
	check, _ := geo.USCCCheckChar("91500000MA5U7AH65")
	_ = idx.UpsertEntity(geo.Entity{ID: "91500000MA5U7AH65" + string(check), Name: "重庆两江示例科技有限公司", Location: orb.Point{106.58, 29.66}, Risk: geo.RiskC})
	tr, err := tiles.New(idx, tiles.Options{})
	if err != nil {
		panic(err)
	}
	defer tr.Close()
	tl := maptile.At(orb.Point{106.58, 29.66}, 15)
	t, err := tr.Tile(context.Background(), tiles.LayerEntities, 15, int(tl.X), int(tl.Y), tiles.Query{})
	if err != nil {
		panic(err)
	}
	layers, _ := mvt.Unmarshal(t.Data)
	f := layers[0].Features[0]
	fmt.Println(layers[0].Name, f.Properties["name"], f.Properties["risk"])
	// Output: entities 重庆两江示例科技有限公司 C
}
