package addressmatch_test

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/paulmach/orb"
)

func Example() {
	// The region's dictionary: the demo's Chongqing here, your own region
	// (a geo/region Dict) in your program.
	reg, err := demo.Region()
	if err != nil {
		panic(err)
	}
	opts := addressmatch.DefaultOptions()
	opts.Region = reg
	p, err := addressmatch.NewParser(opts)
	if err != nil {
		panic(err)
	}
	c := p.Parse("渝北区金开大道六十八号")
	fmt.Println(c.Admin.Province, c.Get(addressmatch.LabelDistrict), c.Get(addressmatch.LabelRoad), c.Get(addressmatch.LabelRoadNo))
	fmt.Println(p.Canonical("渝北区金开大道六十八号"))

	db, err := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
	if err != nil {
		panic(err)
	}
	_ = db.Add(addressmatch.Record{ID: "91500000X", Address: "重庆市渝北区金开大道68号",
		Location: orb.Point{106.52, 29.62}, Kind: addressmatch.KindEntity})
	res, _ := db.Check(context.Background(), "金开大道68號")
	fmt.Println(res.Verdict, res.Message)
	res, _ = db.Check(context.Background(), "金开大道6800号")
	fmt.Println(res.Verdict)
	// Output:
	// 重庆市 渝北区 金开大道 六十八号
	// 重庆市渝北区金开大道68号
	// matched 该地址与地址库匹配通过，该地址注册过市场主体（1户）
	// doubtful
}

func ExampleNormalize() {
	fmt.Println(addressmatch.Normalize("金開大道６８號 三幢二單元五樓"))
	// Output: 金开大道68号3栋2单元5层
}

func ExampleCompare() {
	r := addressmatch.Compare("港城东路9号3幢2单元", "港城东路九号3号楼2单元")
	fmt.Println(r.Label, r.Level)
	// Output: match exact
}
