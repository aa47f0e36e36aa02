package search_test

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/region"
	"github.com/marketgeo/marketgeo/search"
	"github.com/paulmach/orb"
)

func Example() {
	idx, _ := geo.New(geo.Options{})
	_ = idx.UpsertPlace(geo.Place{ID: "S1", Name: "重庆市人和中学校", Kind: "school", Location: orb.Point{106.526, 29.637}})
	_ = idx.UpsertBuilding(geo.Building{ID: "B1", Name: "两江国际", Footprint: orb.Polygon{{
		{106.50, 29.64}, {106.501, 29.64}, {106.501, 29.641}, {106.50, 29.641}, {106.50, 29.64}}}})
	// The region's names ("重庆市", "重庆") are stripped from the front of
	// names: pass your region's dictionary (the demo's is demo.Region()).
	cq, _ := region.New(region.Options{Name: "重庆市", Units: []region.Unit{
		{Code: "50", Name: "重庆市", Level: region.LevelProvince, Aliases: []string{"重庆"}}}})
	s, err := search.New(context.Background(), idx, search.Options{Region: cq})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for _, q := range []string{"人和中学", "ljgj", "liangjiangguoji", "重庆市人和中字校", "火星研究所"} {
		hits, _ := s.Search(context.Background(), search.Query{Text: q, Limit: 3})
		fmt.Printf("%s: %d hit(s)", q, len(hits))
		if len(hits) > 0 {
			fmt.Printf(", best %s (%s)", hits[0].Name, hits[0].Match)
		}
		fmt.Println()
	}
	// Output:
	// 人和中学: 1 hit(s), best 重庆市人和中学校 (prefix)
	// ljgj: 1 hit(s), best 两江国际 (pinyin)
	// liangjiangguoji: 1 hit(s), best 两江国际 (pinyin)
	// 重庆市人和中字校: 1 hit(s), best 重庆市人和中学校 (fuzzy)
	// 火星研究所: 0 hit(s)
}

func ExampleNameParser() {
	cq, _ := region.New(region.Options{Name: "重庆市", Units: []region.Unit{
		{Code: "50", Name: "重庆市", Level: region.LevelProvince, Aliases: []string{"重庆"}},
		{Code: "50-LJXQ", Name: "两江新区", Level: region.LevelDistrict, Parent: "50", Aliases: []string{"两江"}, Functional: true},
	}})
	np := search.NewNameParser(cq)
	for _, name := range []string{"重庆两江新区鑫杰装饰工程有限公司", "重庆两江卓豪置业股份有限公司", "两江国际"} {
		n := np.Parse(name)
		fmt.Println(n.Short, n.Core)
	}
	n := search.ParseCompanyName("重庆两江新区鑫杰装饰工程有限公司") // no region
	fmt.Println(n.Short)
	// Output:
	// 鑫杰装饰工程 鑫杰
	// 卓豪置业 卓豪
	// 两江国际 两江国际
	// 重庆两江新区鑫杰装饰工程
}
