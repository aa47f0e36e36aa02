package search

import (
	"sync"

	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/mozillazg/go-pinyin"
)

// phraseReadings fixes the readings of polyphonic characters in names that
// matter here (重 is zhong by default, chong in 重庆).
var phraseReadings = map[string][2]string{
	"重庆": {"chongqing", "cq"},
	"长安": {"changan", "ca"},
	"银行": {"yinhang", "yh"},
}

// pinyinOf returns the full pinyin (syllables concatenated, no tones) and
// the initials of s. Han characters become their pinyin; ASCII letters and
// digits are kept when keepLatin is set (queries mix them: 鑫jzs); other
// characters are dropped. The result is lower case.
func pinyinOf(s string, keepLatin bool) (full, initials string) {
	both, split := pinyinParts(s, keepLatin)
	return both[:split], both[split:]
}

// pinyinParts returns pinyinOf's full pinyin and initials as one string
// and where the initials start.
func pinyinParts(s string, keepLatin bool) (both string, split int) {
	// Both are built in buffers on the stack (names are short) and become
	// one string, of which they are the two parts: one exact allocation,
	// where two growing builders left garbage and spare capacity behind
	// for every short name of every doc.
	var fa, ia [96]byte
	fb, ib := fa[:0], ia[:0]
	args := pinyin.NewArgs()
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if i+1 < len(rs) && cntext.IsHan(r) {
			if pr, ok := phraseReadings[string(rs[i:i+2])]; ok {
				fb = append(fb, pr[0]...)
				ib = append(ib, pr[1]...)
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
			fb = append(fb, py...)
			ib = append(ib, py[0])
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if keepLatin {
				fb = append(fb, byte(r))
				ib = append(ib, byte(r))
			}
		case r >= 'A' && r <= 'Z':
			if keepLatin {
				fb = append(fb, byte(r+'a'-'A'))
				ib = append(ib, byte(r+'a'-'A'))
			}
		}
	}
	return string(append(fb, ib...)), len(fb)
}

// pinyinCache holds the reading of every character met so far: go-pinyin
// styles each reading with regular expressions on every call, which made
// deriving the pinyin of the demo region's names take seconds.
var pinyinCache sync.Map // rune → string

func runePinyin(r rune, args pinyin.Args) string {
	if v, ok := pinyinCache.Load(r); ok {
		return v.(string)
	}
	py := ""
	if p := pinyin.SinglePinyin(r, args); len(p) > 0 {
		py = p[0]
	}
	pinyinCache.Store(r, py)
	return py
}

// edgeGrams appends the prefixes of s of at least minLen and at most maxLen
// bytes (s is ASCII) to dst.
func edgeGrams(dst []string, s string, minLen, maxLen int) []string {
	for n := minLen; n <= len(s) && n <= maxLen; n++ {
		dst = append(dst, s[:n])
	}
	return dst
}
