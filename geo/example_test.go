package geo_test

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

func Example() {
	idx, _ := geo.New(geo.Options{})
	b := idx.Batch()
	_ = b.UpsertPlace(geo.Place{ID: "S1", Name: "重庆市渝北区人和小学", Kind: "school", Location: orb.Point{106.5335, 29.6298}})
	_ = b.UpsertEntity(geo.Entity{ID: "91330100716105852F", Name: "重庆示例网络会所有限公司", Industry: "R9013", Risk: geo.RiskB,
		Location: orb.Point{106.5345, 29.6301}})
	_ = b.UpsertZone(geo.Zone{ID: "G1", Layer: "grid", Name: "人和第1网格",
		Geometry: orb.MultiPolygon{{{{106.53, 29.62}, {106.54, 29.62}, {106.54, 29.64}, {106.53, 29.64}, {106.53, 29.62}}}}})
	b.Commit()

	school, _ := idx.Snapshot().Place("S1")
	res, _ := idx.Nearby(context.Background(), geo.LayerEntities, school.Location, 200,
		geo.Query{Filter: geo.Filter{Industry: []string{"R9013"}}})
	for _, h := range res.Hits {
		fmt.Printf("%s %.0f m, grid %s\n", h.Entity.Name, h.DistanceM, h.Entity.GridID)
	}
	// Output: 重庆示例网络会所有限公司 102 m, grid G1
}

func ExampleValidateUSCC() {
	fmt.Println(geo.ValidateUSCC("91330100716105852F"))
	fmt.Println(geo.ValidateUSCC("91330100716105852E"))
	// Output:
	// <nil>
	// geo: invalid unified social credit code: "91330100716105852E": check character is 'E', want 'F'
}
