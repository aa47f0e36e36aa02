package geo

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// linearIndustryOK is the industry rule written the plain way, the oracle of
// the prefix set: a prefix of the code, or a digit-led prefix of the code
// without its section letter.
func linearIndustryOK(prefixes []string, code string) bool {
	for _, p := range prefixes {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if strings.HasPrefix(code, p) || (len(code) > 1 && p[0] >= '0' && p[0] <= '9' && strings.HasPrefix(code[1:], p)) {
			return true
		}
	}
	return false
}

func TestIndustryPrefixSetMatchesLinearRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261207, 1))
	const alphabet = "ABCIRZ0123456789 i"
	randCode := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	codes := []string{"", "I", "I6", "I65", "I651", "I6510", "C1311", "R8710", "6510", "I6A10", "Z"}
	for range 300 {
		codes = append(codes, randCode(1+rng.IntN(6)))
	}
	for _, n := range []int{0, 1, industryScanMax, industryScanMax + 1, 40, 2000} {
		for round := range 20 {
			var prefixes []string
			for range n {
				code := codes[rng.IntN(len(codes))]
				switch rng.IntN(3) {
				case 0: // a prefix of a code
					if len(code) > 0 {
						code = code[:1+rng.IntN(len(code))]
					}
				case 1: // a digit-led prefix without the section letter
					if len(code) > 1 {
						code = code[1 : 1+rng.IntN(len(code)-1)+1]
					}
				}
				prefixes = append(prefixes, code)
			}
			c := Query{Filter: Filter{Industry: prefixes}}.compile()
			if (c.industrySet != nil) != (len(c.industry) > industryScanMax) {
				t.Fatalf("n=%d: set built %v with %d prefixes", n, c.industrySet != nil, len(c.industry))
			}
			for _, code := range codes {
				want := len(c.industry) == 0 || linearIndustryOK(prefixes, code)
				if got := c.entityOK(&Entity{Industry: code}); got != want {
					t.Fatalf("n=%d round %d code %q: got %v, the linear rule says %v (prefixes %q)", n, round, code, got, want, prefixes)
				}
			}
		}
	}
}

// BenchmarkEntityMatcherManyPrefixes: a filter of 150,000 industry prefixes
// (the list that once kept both cores busy for 47 s) costs an entity a few
// map lookups.
func BenchmarkEntityMatcherManyPrefixes(b *testing.B) {
	prefixes := make([]string, 150_000)
	for i := range prefixes {
		prefixes[i] = "X" + strings.Repeat("9", i%4) + string(rune('0'+i%10))
	}
	match := Filter{Industry: prefixes}.EntityMatcher()
	e := &Entity{Industry: "I6510"}
	b.ResetTimer()
	for b.Loop() {
		if match(e) {
			b.Fatal("matched")
		}
	}
}
