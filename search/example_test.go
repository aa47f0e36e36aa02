package search_test

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/paulmach/orb"
)

func Example() {
	idx, _ := geo.New(geo.Options{})
	_ = idx.UpsertPlace(geo.Place{ID: "S1", Name: "重庆市人和中学校", Kind: "school", Location: orb.Point{106.526, 29.637}})
	_ = idx.UpsertBuilding(geo.Building{ID: "B1", Name: "两江国际", Footprint: orb.Polygon{{
		{106.50, 29.64}, {106.501, 29.64}, {106.501, 29.641}, {106.50, 29.641}, {106.50, 29.64}}}})
	s, err := search.New(idx, search.Options{})
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

func ExampleParseCompanyName() {
	n := search.ParseCompanyName("重庆两江新区鑫杰装饰工程有限公司")
	fmt.Println(n.Short, n.Core)
	// Output: 鑫杰装饰工程 鑫杰
}
