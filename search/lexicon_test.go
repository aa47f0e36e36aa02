package search

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// TestPyIndexFuzzyPrefixes checks the trie walk of the sorted pinyin array
// against brute force: an entry matches when one of its prefixes of 2 to
// maxLen bytes is within maxD edits of the query.
func TestPyIndexFuzzyPrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var p pyIndex
	var strs []string
	for i := 0; i < 3000; i++ {
		n := 2 + rng.IntN(14)
		b := make([]byte, n)
		for k := range b {
			b[k] = "abcdeghijn"[rng.IntN(10)]
		}
		strs = append(strs, string(b))
		p.add(string(b), uint32(i))
	}
	p.sort()
	for _, tc := range []struct {
		name string
		q    string
		maxD int
	}{
		{"short, one edit", "abcde", 1},
		{"long, two edits", "jinkaigeoj", 2},
		{"random", strs[17][:min(len(strs[17]), 9)], 2},
		{"exact entry", strs[5], 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			maxLen := min(maxPinyinGram, len(tc.q)+tc.maxD)
			var got []uint32
			p.fuzzyPrefixes(tc.q, tc.maxD, 2, maxLen, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					got = append(got, p.ents[i].ord)
				}
			})
			var want []uint32
			for i, s := range strs {
				for l := 2; l <= min(len(s), maxLen); l++ {
					if cntext.EditDistance(tc.q, s[:l], tc.maxD) <= tc.maxD {
						want = append(want, uint32(i))
						break
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%q: got %d entries, want %d", tc.q, len(got), len(want))
			}
		})
	}
	lo, hi := p.prefixRange("ab")
	n := 0
	for _, s := range strs {
		if len(s) >= 2 && s[:2] == "ab" {
			n++
		}
	}
	if hi-lo != n {
		t.Errorf("prefixRange(ab): %d entries, want %d", hi-lo, n)
	}
}

// TestTextTerms pins the index terms of folded text.
func TestTextTerms(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"bigrams", "鑫杰装饰", []string{"鑫杰", "杰装", "装饰"}},
		{"lone character", "a座", []string{"a", "座"}},
		{"digits split runs", "金开大道68号", []string{"金开", "开大", "大道", "68", "号"}},
		{"latin words", "kfc 店 abc123", []string{"kfc", "店", "abc123"}},
		{"separators", "3#楼-5", []string{"3", "楼", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := textTerms(nil, tc.in, nil); !slices.Equal(got, tc.want) {
				t.Errorf("textTerms(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestTextTermsMatchAnalyzer: textTerms gives the terms of the mapping's
// bigram analyzer on folded text.
func TestTextTermsMatchAnalyzer(t *testing.T) {
	im, err := newMapping(CJKBigram)
	if err != nil {
		t.Fatal(err)
	}
	a := im.AnalyzerNamed(analyzerAddr)
	for _, s := range []string{"重庆两江新区鑫杰装饰工程有限公司", "金开大道68号", "a座", "kfc店", "3#楼-5", "渝北区人和街道 金开大道1号", "重庆市人和中学校"} {
		f := Fold(s)
		var want []string
		for _, tok := range a.Analyze([]byte(f)) {
			want = append(want, string(tok.Term))
		}
		if got := textTerms(nil, f, nil); !slices.Equal(got, want) {
			t.Errorf("%q: textTerms %q, analyzer %q", f, got, want)
		}
	}
}
