package zoneid_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
)

func Example() {
	ctx := context.Background()
	idx, _ := geo.New(geo.Options{})
	square := func(x, y, s float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}}}
	}
	b := idx.Batch()
	_ = b.UpsertZone(geo.Zone{ID: "FTZ-LJ", Layer: "ftz", Name: "两江片区", Geometry: square(106.50, 29.60, 0.1)})
	_ = b.UpsertZone(geo.Zone{ID: "G1", Layer: "grid", Name: "礼嘉第1网格", Geometry: square(106.50, 29.60, 0.01),
		Props: map[string]string{"inspector": "王伟"}})
	_ = b.UpsertZone(geo.Zone{ID: "G2", Layer: "grid", Name: "礼嘉第2网格", Geometry: square(106.51, 29.60, 0.01),
		Props: map[string]string{"inspector": "李娜"}})
	_ = b.UpsertPlace(geo.Place{ID: "S1", Name: "礼嘉小学", Kind: "school", Location: orb.Point{106.5050, 29.6050}})
	b.Commit()

	// The siting rules are the caller's (nil: none).
	rules, _ := zoneid.ParseRules(strings.NewReader(`{"version": 1, "rules": [{"id": "internet-cafe-near-school",
		"name": "网吧不得设在中小学校周边 200 米内", "industries": ["R9013"], "near_kinds": ["school"], "min_distance_m": 200}]}`))
	id, _ := zoneid.New(idx, zoneid.Options{Rules: rules})
	defer id.Close()
	res, _ := id.Identify(ctx, orb.Point{106.505, 29.604})
	fmt.Println(res.InFTZ, res.FTZ.Name, res.Grid.ID, res.Grid.Props["inspector"])
	// on the edge shared by G1 and G2: exactly one grid, the one on the right
	res, _ = id.Identify(ctx, orb.Point{106.51, 29.605})
	fmt.Println(res.Grid.ID)

	vs, _ := id.CheckSite(ctx, orb.Point{106.506, 29.605}, "R9013")
	for _, v := range vs {
		fmt.Printf("%s: %s at %.0f m\n", v.Rule.ID, v.Places[0].Place.Name, v.Places[0].DistanceM)
	}
	// Output:
	// inside 两江片区 G1 王伟
	// G2
	// internet-cafe-near-school: 礼嘉小学 at 97 m
}
