package cntext

import "testing"

func TestFold(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"fullwidth digits", "１２３", "123"},
		{"fullwidth letters upper", "ａｂＣ", "ABC"},
		{"ideographic space", "a\u3000b", "A B"},
		{"traditional", "廣東省深圳市南山區", "广东省深圳市南山区"},
		{"unit words", "號樓層單元", "号楼层单元"},
		{"unchanged", "重庆市渝北区", "重庆市渝北区"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Fold(tc.in)
			if got != tc.want {
				t.Fatalf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len([]rune(got)) != len([]rune(tc.in)) {
				t.Fatalf("Fold changed rune count")
			}
		})
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"68", 68, true}, {"六十八", 68, true}, {"一百零五", 105, true}, {"三", 3, true},
		{"两", 2, true}, {"十", 10, true}, {"十五", 15, true}, {"二十", 20, true},
		{"一O八O", 1080, true}, {"一〇八〇", 1080, true}, {"三八六", 386, true},
		{"二百四十八", 248, true}, {"一千零一", 1001, true}, {"一万二千", 12000, true},
		{"", 0, false}, {"万", 0, false}, {"百", 0, false}, {"abc", 0, false}, {"十十五六", 0, false}, {"O八", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseNumber(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("ParseNumber(%q) = %d,%v want %d,%v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestConvertNumerals(t *testing.T) {
	isUnit := func(next []rune) bool { return len(next) > 0 && (next[0] == '号' || next[0] == '栋') }
	tests := []struct{ name, in, want string }{
		{"road number", "金开大道六十八号", "金开大道68号"},
		{"building", "三栋", "3栋"},
		{"not a unit", "五一路", "五一路"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ConvertNumerals(tc.in, isUnit); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		max  int
		want int
	}{
		{"港城东路", "港成东路", -1, 1}, {"abc", "abc", 2, 0}, {"金开大道", "x", 1, 2}, {"", "ab", -1, 2},
	}
	for _, tc := range tests {
		if got := EditDistance(tc.a, tc.b, tc.max); got != tc.want {
			t.Errorf("EditDistance(%q,%q,%d)=%d want %d", tc.a, tc.b, tc.max, got, tc.want)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"六十八", "一百零五", "十", "一O八O", "万万"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseNumber(s)
		_ = ConvertNumerals(s, nil)
		if got := Fold(s); len([]rune(got)) != len([]rune(s)) {
			t.Fatalf("Fold changed rune count")
		}
	})
}
