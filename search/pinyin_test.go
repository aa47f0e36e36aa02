package search

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/mozillazg/go-pinyin"
)

// pinyinOfBuilders is pinyinOf as it was written with two strings.Builders:
// the oracle of TestPinyinOfOneAllocation.
func pinyinOfBuilders(s string, keepLatin bool) (full, initials string) {
	var fb, ib strings.Builder
	args := pinyin.NewArgs()
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if i+1 < len(rs) && cntext.IsHan(r) {
			if pr, ok := phraseReadings[string(rs[i:i+2])]; ok {
				fb.WriteString(pr[0])
				ib.WriteString(pr[1])
				i++
				continue
			}
		}
		switch {
		case cntext.IsHan(r):
			py := runePinyin(r, args)
			if py == "" {
				continue
			}
			fb.WriteString(py)
			ib.WriteByte(py[0])
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if keepLatin {
				fb.WriteRune(r)
				ib.WriteRune(r)
			}
		case r >= 'A' && r <= 'Z':
			if keepLatin {
				fb.WriteRune(r + 'a' - 'A')
				ib.WriteRune(r + 'a' - 'A')
			}
		}
	}
	return fb.String(), ib.String()
}

// TestPinyinOfOneAllocation: the pinyin and initials built on the stack
// and returned as two parts of one string equal the builders' on random
// texts (Han, the phrase readings, Latin of both cases, digits, symbols,
// and texts longer than the stack buffers), with keepLatin on and off.
func TestPinyinOfOneAllocation(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 3))
	pieces := []string{"重庆", "长安", "银行", "渝北", "A", "z", "7", "-", "（", " ", "鑫", "jzs", "Ⅲ"}
	for i := range 3000 {
		var b strings.Builder
		n := rng.IntN(12)
		if i%100 == 0 {
			n = 60 + rng.IntN(60) // past the 96-byte buffers
		}
		for range n {
			if rng.IntN(2) == 0 {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			} else {
				b.WriteRune(rune(0x4e00 + rng.IntN(0x5000)))
			}
		}
		s := b.String()
		for _, keep := range []bool{true, false} {
			gf, gi := pinyinOf(s, keep)
			wf, wi := pinyinOfBuilders(s, keep)
			if gf != wf || gi != wi {
				t.Fatalf("pinyinOf(%q, %v) = %q, %q; want %q, %q", s, keep, gf, gi, wf, wi)
			}
		}
	}
	if n := testing.AllocsPerRun(100, func() { pinyinOf("重庆市渝北区金开大道科技有限公司", true) }); n > 2 {
		t.Errorf("pinyinOf: %v allocations, want at most 2 (the runes, the result)", n)
	}
}
