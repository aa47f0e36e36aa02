package addressmatch

import (
	"errors"
	"testing"

	"github.com/marketgeo/marketgeo/geo/region"
)

// TestRegionMerge: Options.Region is merged into the national divisions by
// code (issue 15, item 1): the library embeds no region's communities.
func TestRegionMerge(t *testing.T) {
	cq, err := demoRegion()
	if err != nil {
		t.Fatal(err)
	}
	sz, err := region.New(region.Options{Name: "test", Units: []region.Unit{
		// a community under a national street (a test code)
		{Code: "440305007901", Name: "科技园社区居民委员会", Level: region.LevelCommunity, Parent: "440305007"},
		// a national functional area with an alias
		{Code: "440305400", Name: "前海合作区", Level: region.LevelTown, Parent: "440305", Aliases: []string{"前海深港合作区"}, Functional: true},
		// a new town under a national district, and its community
		{Code: "440305901", Name: "深圳湾街道", Level: region.LevelTown, Parent: "440305"},
		{Code: "440305901001", Name: "后海社区居民委员会", Level: region.LevelCommunity, Parent: "440305901"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// a region whose 江北 is Ningbo's 江北区 (issue 14: a district written
	// without 区 is the one the region's data names)
	nb, err := region.New(region.Options{Name: "ningbo", Units: []region.Unit{
		{Code: "330205", Name: "江北区", Level: region.LevelDistrict, Parent: "3302", Aliases: region.ShortNames("江北区", region.LevelDistrict)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		opts             Options
		in               string
		community, code  string
		label, labelText string // a span that must be present
	}{
		{name: "no region: no community", in: "重庆市渝北区人和街道万寿山社区金开大道68号", code: "500112009"},
		{name: "the demo's community", opts: Options{Region: cq}, in: "重庆市渝北区人和街道万寿山社区金开大道68号",
			community: "万寿山社区", code: "500112009002"},
		{name: "communities skipped", opts: Options{Region: cq, SkipCommunities: true}, in: "重庆市渝北区人和街道万寿山社区金开大道68号", code: "500112009"},
		{name: "a functional district is no link of the chain", opts: Options{Region: cq}, in: "重庆市两江新区金开大道68号",
			label: "devzone", labelText: "两江新区", code: "50"},
		{name: "a road-like alias is left out", opts: Options{Region: cq}, in: "渝中区华新街8号", label: "road", labelText: "华新街", code: "500103"},
		{name: "a community under a national street", opts: Options{Region: sz}, in: "深圳市南山区粤海街道科技园社区",
			community: "科技园社区", code: "440305007901"},
		{name: "an alias of a national zone", opts: Options{Region: sz}, in: "深圳市南山区前海深港合作区梦海大道5035号",
			label: "devzone", labelText: "前海深港合作区", code: "440305400"},
		{name: "a new town and its village", opts: Options{Region: sz}, in: "深圳市南山区深圳湾街道后海社区1号",
			community: "后海社区", code: "440305901001"},
		{name: "no region: 江北 before a road is no district", in: "江北港城南路21号附25号", label: "district", labelText: ""},
		{name: "the demo's 江北 before a road", opts: Options{Region: cq}, in: "江北港城南路21号附25号",
			label: "district", labelText: "江北", code: "500105"},
		{name: "the demo's 江北 after 重庆市", opts: Options{Region: cq}, in: "重庆市江北港城南路21号附25号",
			label: "road", labelText: "港城南路", code: "500105"},
		{name: "the demo's 江北 before a town's short name", opts: Options{Region: cq}, in: "中国江北观音桥建新北路1号",
			label: "district", labelText: "江北", code: "500105006"},
		{name: "another region's 江北", opts: Options{Region: nb}, in: "江北港城南路21号附25号",
			label: "district", labelText: "江北", code: "330205"},
		{name: "the region's 江北 does not outrank 宁波市", opts: Options{Region: cq}, in: "宁波市江北人民路8号",
			label: "district", labelText: "江北", code: "330205"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.NoModel = true
			p, err := NewParser(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			c := p.Parse(tc.in)
			if c.Admin.Community != tc.community || c.Admin.Code != tc.code {
				t.Errorf("community %q code %q, want %q %q (%s)", c.Admin.Community, c.Admin.Code, tc.community, tc.code, spanStr(c))
			}
			if tc.label != "" && c.Get(Label(tc.label)) != tc.labelText {
				t.Errorf("%s = %q, want %q (%s)", tc.label, c.Get(Label(tc.label)), tc.labelText, spanStr(c))
			}
		})
	}

	bad := []struct {
		name string
		unit region.Unit
	}{
		{"unknown parent", region.Unit{Code: "999999001", Name: "无名街道", Level: region.LevelTown, Parent: "999999"}},
		{"a code of another level", region.Unit{Code: "440305", Name: "南山区", Level: region.LevelTown, Parent: "4403"}},
		{"a parent not coarser", region.Unit{Code: "440305902", Name: "某街道", Level: region.LevelTown, Parent: "440305007"}},
		{"no parent below province level", region.Unit{Code: "449901", Name: "某区", Level: region.LevelDistrict}},
	}
	for _, tc := range bad {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			d, err := region.New(region.Options{Name: "bad", Units: []region.Unit{tc.unit}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := NewParser(Options{Region: d, NoModel: true}); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("NewParser = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestCommunityName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"万寿山社区居民委员会", "万寿山社区"},
		{"溉塘新村社区居民委员会", "溉塘新村社区"},
		{"井池村村民委员会", "井池村"},
		{"先锋社区村民委员会", "先锋社区"},
		{"陈村村村民委员会", "陈村村"},
		{"平政村民委员会", "平政村"},
		{"平政村委会", "平政村"},
		{"城南居委会", "城南社区"},
		{"城南居民委员会", "城南社区"},
		{"平政村", "平政村"},
	}
	for _, tc := range tests {
		if got := communityName(tc.in); got != tc.want {
			t.Errorf("communityName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
