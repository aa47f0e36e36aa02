package search

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// TestFoldSharesUnchanged: Fold's shortcut (return an already folded text
// as it is) answers exactly what building the folded text answers, on
// random texts mixing every kind of rune Fold treats, and shares the
// input's bytes only when nothing changes (a single space between two
// words is left to the building path).
func TestFoldSharesUnchanged(t *testing.T) {
	parts := []string{"重", "庆", "市", "有限公司", "a", "z", "A", "Q", "0", "9", "#", "-", " ", "\t", "\u3000",
		"ＡＢ", "ｃ", "１", "（", "）", "(", ")", "·", "，", "。", "、", "门", "們", "區", "\x00", "\xff", "\ufffd",
		"ō", "é", "_", "/", "号", "楼", "ljgj", "Ⅱ", "\u200b", "😀"}
	r := rand.New(rand.NewPCG(1, 2))
	shared := 0
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		for n := r.IntN(12); n >= 0; n-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s := b.String()
		got, want := Fold(s), foldCopy(s)
		if got != want {
			t.Fatalf("Fold(%q) = %q, built %q", s, got, want)
		}
		same := len(s) > 0 && unsafe.StringData(got) == unsafe.StringData(s)
		if same && want != s {
			t.Fatalf("Fold(%q) shares its input, but folding changes it to %q", s, want)
		}
		if same {
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("no random text was already folded: the test does not exercise the shortcut")
	}
}
