package search

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks the query parser and the name normaliser on arbitrary
// input: no panic, valid UTF-8 out, bounded length, stable folding, and the
// short name and core are parts of the folded name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"重庆两江新区鑫杰装饰工程有限公司", "鑫jzsgc", "ＬＪＧＪ", "liangjiangguoji", "（重庆）", "重庆市宏兴酒店管理有限公司天宫殿分公司",
		"", " ", "\xff\xfe", "有限公司", "重庆重庆重庆", "A座3#楼5-1", "【】「」", "\u3000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := parseQuery(s)
		for _, v := range []string{q.text, q.compact, q.latin, q.pyFull, q.pyInit} {
			if !utf8.ValidString(v) {
				t.Fatalf("invalid UTF-8 from %q", s)
			}
		}
		if utf8.RuneCountInString(q.text) > maxQueryRunes {
			t.Fatalf("query not capped: %d runes", utf8.RuneCountInString(q.text))
		}
		if strings.Contains(q.compact, " ") {
			t.Fatalf("compact form has a space: %q", q.compact)
		}
		if Fold(q.text) != q.text {
			t.Fatalf("Fold not idempotent on %q: %q", q.text, Fold(q.text))
		}
		n := ParseCompanyName(s)
		full := strings.ReplaceAll(n.Full, " ", "")
		if !strings.Contains(full, n.Short) || !strings.HasPrefix(n.Short, n.Core) {
			t.Fatalf("ParseCompanyName(%q) = %+v: short not in full or core not a prefix of short", s, n)
		}
		m := newMatcher(q)
		d := &doc{names: []nameVar{{text: "重庆市人和中学校", weight: 1, short: true, pys: "chongqingshirenhezhongxuexiao" + "cqsrhzxx", split: uint32(len("chongqingshirenhezhongxuexiao"))}}, addr: "重庆市渝北区"}
		if sc, _ := m.score(d); sc < 0 || sc > 1 {
			t.Fatalf("score %v out of [0,1] for %q", sc, s)
		}
	})
}
