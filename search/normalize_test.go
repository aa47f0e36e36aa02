package search

import "testing"

func TestParseCompanyName(t *testing.T) {
	np := demoNames(t)
	for _, tc := range []struct {
		name, short, core string
	}{
		{"重庆两江新区鑫杰装饰工程有限公司", "鑫杰装饰工程", "鑫杰"},
		{"重庆市恒发物业服务有限公司", "恒发物业服务", "恒发"},
		{"重庆两江卓豪置业股份有限公司", "卓豪置业", "卓豪"},
		{"重庆两江巴达快餐管理有限公司", "巴达快餐管理", "巴达"},
		{"重庆市宏兴酒店管理有限公司天宫殿分公司", "宏兴酒店管理", "宏兴"},
		{"渝北区中睿通小吃店", "中睿通小吃店", "中睿通"},
		{"重庆星耀百货有限责任公司", "星耀百货", "星耀"},
		{"重庆（两江）云海科技有限公司", "云海科技", "云海"},
		{"重庆ＡＢＣ科技有限公司", "abc科技", "abc"},
		{"重庆市人和中学校", "人和中学校", "人和中学校"},
		{"重庆科技有限公司", "科技", "科技"},
		{"两江国际", "两江国际", "两江国际"},
		{"", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := np.Parse(tc.name)
			if got.Short != tc.short || got.Core != tc.core {
				t.Errorf("ParseCompanyName(%q) = %+v, want short %q core %q", tc.name, got, tc.short, tc.core)
			}
		})
	}
}

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ＡＢＣ　１２３", "abc 123"},
		{"  金开   国际 ", "金开 国际"},
		{"廣東【分店】", "广东 分店"},
		{"3#楼 5-1", "3#楼 5-1"},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPinyinOf(t *testing.T) {
	for _, tc := range []struct{ in, full, ini string }{
		{"两江国际", "liangjiangguoji", "ljgj"},
		{"重庆", "chongqing", "cq"},
		{"鑫jzs", "xinjzs", "xjzs"},
		{"A座", "azuo", "az"},
	} {
		full, ini := pinyinOf(Fold(tc.in), true)
		if full != tc.full || ini != tc.ini {
			t.Errorf("pinyinOf(%q) = %q %q, want %q %q", tc.in, full, ini, tc.full, tc.ini)
		}
	}
}

func TestSubstringDistance(t *testing.T) {
	for _, tc := range []struct {
		q, t string
		want int
	}{
		{"人和中字", "重庆市人和中学校", 1},
		{"人和中学", "重庆市人和中学校", 0},
		{"火星研究", "重庆市人和中学校", 3},
	} {
		if got := substringDistance([]rune(tc.q), tc.t, 2); got != tc.want {
			t.Errorf("substringDistance(%q, %q) = %d, want %d", tc.q, tc.t, got, tc.want)
		}
	}
}
