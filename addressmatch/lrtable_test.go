package addressmatch

import (
	"math/rand/v2"
	"testing"
)

// TestLRTableSameScores: the compare model's open-addressing table answers
// every feature of the model with the map's offset, and keys the model
// does not have (random ones) as absent, as the map does.
func TestLRTableSameScores(t *testing.T) {
	m := testParser(t).cmp.model()
	if m == nil {
		t.Skip("no embedded compare model")
	}
	for h, want := range m.index {
		if got, ok := m.tab.lookup(h); !ok || got != want {
			t.Fatalf("feature %x: table (%d, %v), map %d", h, got, ok, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		h := rng.Uint64()
		want, inMap := m.index[h]
		if got, ok := m.tab.lookup(h); ok != inMap || got != want {
			t.Fatalf("random key %x: table (%d, %v), map (%d, %v)", h, got, ok, want, inMap)
		}
	}
	var empty lrTable
	if _, ok := empty.lookup(42); ok {
		t.Fatal("an empty table found a key")
	}
}

// The set measures of the pair features over sorted key sets must give
// what the plain map forms (written out here as the oracle) give.
func refBigrams(rs []rune) map[[2]rune]struct{} {
	m := make(map[[2]rune]struct{}, len(rs))
	if len(rs) == 1 {
		m[[2]rune{rs[0], 0}] = struct{}{}
	}
	for i := 0; i+1 < len(rs); i++ {
		m[[2]rune{rs[i], rs[i+1]}] = struct{}{}
	}
	return m
}

func refInter[K comparable, V any](a, b map[K]V) int {
	n := 0
	for k := range a {
		if _, ok := b[k]; ok {
			n++
		}
	}
	return n
}

func TestKeySetMeasures(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("路号栋重庆市江北区0123456789附-AB大道")
	gen := func() []rune {
		rs := make([]rune, rng.IntN(130)) // past the 96 runes held without allocation
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return rs
	}
	for range 5000 {
		a, b := gen(), gen()
		ma, mb := refBigrams(a), refBigrams(b)
		ga, gb := bigramSet(a), bigramSet(b)
		if len(ga) != len(ma) || len(gb) != len(mb) {
			t.Fatalf("%q: %d bigrams, map %d", string(a), len(ga), len(ma))
		}
		inter := refInter(ma, mb)
		wantJ := 0.0
		if len(ma) > 0 && len(mb) > 0 {
			wantJ = float64(inter) / float64(len(ma)+len(mb)-inter)
		}
		if got := setJaccard(ga, gb); got != wantJ {
			t.Fatalf("%q %q: setJaccard %v, map %v", string(a), string(b), got, wantJ)
		}
		wantC := 0.0
		if len(ma) > 0 {
			wantC = float64(inter) / float64(len(ma))
		}
		if got := setCover(ga, gb); got != wantC {
			t.Fatalf("%q %q: setCover %v, map %v", string(a), string(b), got, wantC)
		}
		un := 0
		for i := 0; i+1 < len(b); i++ {
			if _, ok := ma[[2]rune{b[i], b[i+1]}]; !ok {
				un++
			}
		}
		if got := uncovered(b, ga); got != un {
			t.Fatalf("%q %q: uncovered %d, map %d", string(a), string(b), got, un)
		}
		ra, rb := map[rune]bool{}, map[rune]bool{}
		for _, r := range a {
			ra[r] = true
		}
		for _, r := range b {
			rb[r] = true
		}
		wantU := 0.0
		if len(a) > 0 && len(b) > 0 {
			in := refInter(ra, rb)
			wantU = float64(in) / float64(len(ra)+len(rb)-in)
		}
		if got := runeJaccard(a, b); got != wantU {
			t.Fatalf("%q %q: runeJaccard %v, map %v", string(a), string(b), got, wantU)
		}
	}
}

// TestDistinctiveByteOffsets: distinctive and stripAdminPrefix, which cut
// valid text at byte offsets, give what their rune forms give, on every
// suffix of the fast-path test inputs and of their names.
func TestDistinctiveByteOffsets(t *testing.T) {
	p := testParser(t)
	n := 0
	for _, s := range fastTestInputs(t) {
		rs := []rune(s)
		for i := range rs {
			for _, u := range []string{string(rs[i:]), string(rs[:len(rs)-i])} {
				if got, want := p.stripAdminPrefix(u), p.stripAdminPrefixRunes(u); got != want {
					t.Fatalf("stripAdminPrefix(%q) = %q, rune form %q", u, got, want)
				}
				if got, want := p.distinctive(u), p.distinctiveRunes(p.stripAdminPrefixRunes(u)); got != want {
					t.Fatalf("distinctive(%q) = %q, rune form %q", u, got, want)
				}
				n++
			}
		}
	}
	t.Logf("%d strings", n)
}
