package addressmatch

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// TestFastMeasures: the allocation-free measures equal the general ones.
func TestFastMeasures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := []rune("路号楼小区花园1-2A\xff东西")
	gen := func() string {
		n := rng.IntN(12)
		if rng.IntN(20) == 0 {
			n = 90 + rng.IntN(20) // around shortRunes
		}
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(rs)
	}
	for i := 0; i < 20000; i++ {
		a, b := gen(), gen()
		ra, rb := []rune(a), []rune(b)
		if x, y := lcsFast(ra, rb), lcsLen(ra, rb); x != y {
			t.Fatalf("lcsFast(%q, %q) = %d, lcsLen %d", a, b, x, y)
		}
		if x, y := bagOverlapFast(ra, rb), bagOverlap(ra, rb); x != y {
			t.Fatalf("bagOverlapFast(%q, %q) = %d, bagOverlap %d", a, b, x, y)
		}
		if x, y := diceFast(a, b), dice(a, b); x != y {
			t.Fatalf("diceFast(%q, %q) = %v, dice %v", a, b, x, y)
		}
		// the edit distance with its row on the stack (up to 63 runes) or
		// not, against the shared text package's
		if x, y := editDistance(ra, rb), cntext.EditDistance(a, b, -1); x != y {
			t.Fatalf("editDistance(%q, %q) = %d, cntext.EditDistance %d", a, b, x, y)
		}
		var buf [4]uint64 // too small for most: bigramSetInto must grow it
		if x, y := bigramSetInto(ra, buf[:0]), bigramSet(ra); !slices.Equal(x, y) {
			t.Fatalf("bigramSetInto(%q) = %v, bigramSet %v", a, x, y)
		}
	}
}
