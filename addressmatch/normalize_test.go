package addressmatch

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "重庆市渝北区金开大道68号", "重庆市渝北区金开大道68号"},
		{"chinese numerals", "金开大道六十八号", "金开大道68号"},
		{"hundred zero", "人民路一百零五号", "人民路105号"},
		{"unit numerals", "三栋二单元五楼", "3栋2单元5层"},
		{"liang", "两单元", "2单元"},
		{"full width", "金开大道６８号３栋", "金开大道68号3栋"},
		{"traditional", "金開大道68號", "金开大道68号"},
		{"zhuang", "3幢", "3栋"},
		{"zuo", "A座", "A栋"},
		{"haolou", "3号楼", "3栋"},
		{"hash lou", "3#楼", "3栋"},
		{"hash", "68#", "68号"},
		{"floor F", "5F", "5层"},
		{"floor F prefix", "F5", "5层"},
		{"room fang", "501房", "501室"},
		{"spaces punctuation", " 重庆市, 渝北区（金开大道）68 号 ", "重庆市渝北区金开大道68号"},
		{"dash kept", "5-1", "5-1"},
		{"dash dropped", "金开大道-68号", "金开大道68号"},
		{"china prefix", "中国重庆市渝北区", "重庆市渝北区"},
		{"digit by digit", "永和路一O八O弄", "永和路1080弄"},
		{"not a number", "五一路", "五一路"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in)
			if got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Normalize(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}
