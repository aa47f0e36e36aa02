package addressmatch

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func spanStr(c Components) string {
	var parts []string
	for _, s := range c.Spans {
		parts = append(parts, string(s.Label)+":"+s.Text)
	}
	return strings.Join(parts, " ")
}

// TestParse checks each case on the rules alone and, unless rulesOnly, with
// the embedded model too.
func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		rulesOnly bool // the model labels it otherwise (see the case)
		in        string
		want      []string // label:text that must be present
		notWant   []string // label:text that must be absent
		province  string   // expected filled Admin.Province ("" = don't care)
		district  string
	}{
		{name: "chongqing full", in: "重庆市渝北区金开大道68号",
			want: []string{"city:重庆市", "district:渝北区", "road:金开大道", "roadno:68号"}, province: "重庆市", district: "渝北区"},
		{name: "fill from district", in: "渝北区金开大道68号", want: []string{"district:渝北区", "road:金开大道"}, province: "重庆市"},
		{name: "town fills district", in: "寸滩街道港城东路9号3栋2单元5-1",
			want: []string{"town:寸滩街道", "road:港城东路", "roadno:9号", "houseno:3栋", "cellno:2单元", "roomno:5-1"}, district: "江北区"},
		{name: "shaanxi south road in shanghai", in: "上海市徐汇区陕西南路100号",
			want: []string{"road:陕西南路"}, notWant: []string{"province:陕西"}, province: "上海市"},
		{name: "shanghai city in xinjiang", in: "新疆乌鲁木齐市上海城小区5栋",
			notWant: []string{"province:上海", "city:上海"}, province: "新疆维吾尔自治区"},
		{name: "guangxi short", in: "广西南宁市青秀区民族大道1号", want: []string{"province:广西", "city:南宁市"}, province: "广西壮族自治区"},
		{name: "shennongjia short", in: "湖北省神农架松柏镇", want: []string{"district:神农架"}, district: "神农架林区"},
		{name: "traditional", in: "廣東省廣州市天河區天河路385號", want: []string{"province:廣東省", "city:廣州市", "district:天河區", "road:天河路", "roadno:385號"}, province: "广东省"},
		{name: "liangjiang devzone", in: "重庆市两江新区金开大道68号", want: []string{"devzone:两江新区"}, notWant: []string{"district:两江新区"}},
		{name: "intersection", in: "前进一路与民主二街交叉口南100米", want: []string{"road:前进一路", "road:民主二街", "intersection:交叉口", "assist:南", "distance:100米"}},
		{name: "poi floor subpoi", in: "延安路100号西湖银泰8楼报喜鸟专柜", want: []string{"road:延安路", "roadno:100号", "poi:西湖银泰", "floorno:8楼", "subpoi:报喜鸟专柜"}},
		{name: "village", in: "陕西省渭南市合阳县城关镇平政村3组", want: []string{"province:陕西省", "city:渭南市", "district:合阳县", "town:城关镇", "community:平政村", "village_group:3组"}},
		{name: "assist", in: "螺洋街道上保菜市场对面理圣理发店", want: []string{"town:螺洋街道", "poi:上保菜市场", "assist:对面"}},
		{name: "town without suffix after its district", in: "浙江省台州市温岭市泽国鹤池路100号", want: []string{"district:温岭市", "town:泽国", "road:鹤池路"}},
		{name: "town zone is one devzone", in: "德清县钟管镇工业园区三墩村村委", want: []string{"devzone:钟管镇工业园区"}},
		{name: "city then district starting with 路", in: "台州市路桥区路南街道西迎宾大道", want: []string{"city:台州市", "district:路桥区", "town:路南街道"}},
		{name: "short city before a district starting with 镇", in: "宁波镇海区庄市聚兴路1号", want: []string{"city:宁波", "district:镇海区", "town:庄市", "road:聚兴路"}},
		{name: "restated chain after a town", in: "小伊乡江苏省灌云县小伊乡小伊街", want: []string{"province:江苏省", "district:灌云县", "road:小伊街"}},
		// the model (trained on CCKS lines, which also write poi poi for a
		// compound and a named part of it) answers poi:闻潮阁
		{name: "compound then sub-compound", rulesOnly: true, in: "萧山区宁围街道景海湾闻潮阁10幢", want: []string{"poi:景海湾", "subpoi:闻潮阁", "houseno:10幢"}},
		{name: "village between town and road", in: "莘塍镇周田人民路100号", want: []string{"town:莘塍镇", "community:周田", "road:人民路"}},
		{name: "courier note dropped", in: "濮院镇紫金小区可开箱验货试穿", want: []string{"poi:紫金小区"}, notWant: []string{"subpoi:可开箱验货试穿"}},
		{name: "compound building", in: "王充路1000号亚厦阳光假日10幢2单元", want: []string{"poi:亚厦阳光假日", "houseno:10幢", "cellno:2单元"}},
	}
	rules, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	model := testParser(t)
	if on, err := model.ModelStatus(); err != nil || !on {
		t.Logf("no embedded model (%v): the model half of TestParse repeats the rules", err)
	}
	for _, tc := range tests {
		for _, pv := range []struct {
			name string
			p    *Parser
		}{{"rules", rules}, {"model", model}} {
			if pv.name == "model" && tc.rulesOnly {
				continue
			}
			p := pv.p
			t.Run(pv.name+"/"+tc.name, func(t *testing.T) {
				c := p.Parse(tc.in)
				got := " " + spanStr(c) + " "
				for _, w := range tc.want {
					if !strings.Contains(got, " "+w+" ") {
						t.Errorf("missing %s in %s", w, got)
					}
				}
				for _, w := range tc.notWant {
					if strings.Contains(got, " "+w+" ") {
						t.Errorf("unexpected %s in %s", w, got)
					}
				}
				if tc.province != "" && c.Admin.Province != tc.province {
					t.Errorf("province = %q, want %q (%s)", c.Admin.Province, tc.province, got)
				}
				if tc.district != "" && c.Admin.District != tc.district {
					t.Errorf("district = %q, want %q (%s)", c.Admin.District, tc.district, got)
				}
				checkSpans(t, tc.in, c)
			})
		}
	}
}

func TestParseAmbiguousDistrict(t *testing.T) {
	p := testParser(t)
	c := p.Parse("朝阳区建国路88号")
	if c.Admin.District != "" || len(c.Admin.Ambiguous) < 2 {
		t.Errorf("朝阳区 without context must stay unresolved, got %+v", c.Admin)
	}
	c = p.Parse("北京市朝阳区建国路88号")
	if c.Admin.District != "朝阳区" || !strings.HasPrefix(c.Admin.Code, "11") {
		t.Errorf("北京市朝阳区 should resolve to Beijing, got %+v", c.Admin)
	}
	c = p.Parse("长春市朝阳区人民大街1号")
	if !strings.HasPrefix(c.Admin.Code, "22") {
		t.Errorf("长春市朝阳区 should resolve to Changchun, got %+v", c.Admin)
	}
}

func TestParseInconsistent(t *testing.T) {
	p := testParser(t)
	c := p.Parse("成都市渝北区金开大道68号")
	if len(c.Issues) == 0 {
		t.Errorf("expected an inconsistency issue, got %+v %s", c.Admin, spanStr(c))
	}
}

func TestCanonical(t *testing.T) {
	p := testParser(t)
	tests := []struct{ in, want string }{
		{"渝北区金开大道六十八号", "重庆市渝北区金开大道68号"},
		{"重庆市渝北区金开大道68号", "重庆市渝北区金开大道68号"},
		{"寸滩街道港城东路9号", "重庆市江北区寸滩街道港城东路9号"},
	}
	for _, tc := range tests {
		if got := p.Canonical(tc.in); got != tc.want {
			t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// checkSpans verifies span invariants: in bounds, ordered, non-overlapping,
// and Text equal to the runes of the input.
func checkSpans(t *testing.T, in string, c Components) {
	t.Helper()
	rs := []rune(in)
	prev := 0
	for _, s := range c.Spans {
		if s.Start < prev || s.End <= s.Start || s.End > len(rs) {
			t.Fatalf("bad span %+v (len %d, prev end %d) in %q", s, len(rs), prev, in)
		}
		if string(rs[s.Start:s.End]) != s.Text && utf8.ValidString(in) {
			t.Fatalf("span text %q != input runes %q", s.Text, string(rs[s.Start:s.End]))
		}
		prev = s.End
	}
}
