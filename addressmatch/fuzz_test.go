package addressmatch

import (
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"重庆市渝北区金开大道68号", "渝北区金开大道六十八号", "港城东路9号3#楼2单元5-1", "ＡＢ１２３號樓",
	"上海市陕西南路100弄", "新疆上海城", "广西南宁", "中国中国", "十十十号", "F5F", "-#-#", "一O八O弄", "",
	"\xff\xfe重庆", "前进一路与民主二街交叉口南100米",
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if n2 := Normalize(n); n2 != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, n2)
		}
		if !utf8.ValidString(n) {
			t.Fatalf("invalid utf8 output %q", n)
		}
	})
}

func FuzzParse(f *testing.F) {
	p := testParser(f)
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := p.Parse(s)
		n := utf8.RuneCountInString(s)
		prev := 0
		for _, sp := range c.Spans {
			if sp.Start < prev || sp.End <= sp.Start || sp.End > n {
				t.Fatalf("span %+v out of bounds (len %d, prev %d) in %q", sp, n, prev, s)
			}
			prev = sp.End
		}
		_ = p.Compare(s, "重庆市渝北区金开大道68号")
	})
}
