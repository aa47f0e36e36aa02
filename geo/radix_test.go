package geo

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRadixSortStable(t *testing.T) {
	type rec struct {
		k uint64
		i int
	}
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name string
		n    int
		key  func() uint64
	}{
		{"empty", 0, r.Uint64},
		{"one", 1, r.Uint64},
		{"random 64-bit", 5000, r.Uint64},
		{"many equal", 5000, func() uint64 { return uint64(r.IntN(7)) << 40 }},
		{"all equal", 3000, func() uint64 { return 0xdeadbeef }},
		{"shared high bytes", 5000, func() uint64 { return 0xabcd<<48 | uint64(r.IntN(1<<20)) }},
		{"extremes", 100, func() uint64 { return [...]uint64{0, ^uint64(0), 1 << 63}[r.IntN(3)] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := make([]rec, tt.n)
			for i := range a {
				a[i] = rec{tt.key(), i}
			}
			want := slices.Clone(a)
			slices.SortStableFunc(want, func(x, y rec) int { return cmp.Compare(x.k, y.k) })
			for _, buf := range [][]rec{nil, make([]rec, tt.n+3)} {
				got := radixSort(slices.Clone(a), buf, func(x *rec) uint64 { return x.k })
				if !slices.Equal(got, want) {
					t.Fatalf("radixSort differs from a stable sort (buf cap %d)", cap(buf))
				}
			}
		})
	}
}

func TestSortIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	randID := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	tests := []struct {
		name string
		id   func() string
	}{
		{"USCC-like", func() string { return "91500112" + randID(10) }},
		{"shared 16-byte prefix", func() string { return "9150011200000000" + randID(1+r.IntN(3)) }},
		{"short and empty", func() string { return randID(r.IntN(4)) }},
		{"prefix of another", func() string { return "ABCDEFGHJKLMNPQR"[:r.IntN(17)] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := make([]idSlot, 3000)
			for i := range ids {
				ids[i].id = tt.id()
				ids[i].k1, ids[i].k2 = prefixKeys(ids[i].id)
				ids[i].slot = uint32(i)
			}
			want := make([]string, len(ids))
			for i := range ids {
				want[i] = ids[i].id
			}
			slices.Sort(want)
			got := sortIDs(ids)
			for i := range got {
				if got[i].id != want[i] {
					t.Fatalf("position %d: %q, want %q", i, got[i].id, want[i])
				}
			}
		})
	}
}

// TestCandSort: the bucket sort of radius candidates orders any
// distribution of distances (uniform, clustered, equal, beyond the bucket
// cap), keeping every candidate.
func TestCandSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const aMax = 1e-8
	var cb candBuf
	tests := []struct {
		name string
		n    int
		a    func() float64
	}{
		{"one", 1, func() float64 { return r.Float64() * aMax }},
		{"few", 10, func() float64 { return r.Float64() * aMax }},
		{"insertion only, largest", 16, func() float64 { return r.Float64() * aMax }},
		{"buckets, smallest", 17, func() float64 { return r.Float64() * aMax }},
		{"few, descending", 16, func() float64 { return aMax * (1 - float64(len(cb.c))/16) }},
		{"uniform", 500, func() float64 { return r.Float64() * aMax }},
		{"clustered", 3000, func() float64 { return aMax * (0.5 + 1e-9*float64(r.IntN(5))) }},
		{"equal", 800, func() float64 { return aMax / 3 }},
		{"edges", 700, func() float64 { return [...]float64{0, aMax, aMax * (1 - 1e-16)}[r.IntN(3)] }},
		{"beyond the bucket cap", 40000, func() float64 { return r.Float64() * r.Float64() * aMax }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb.c = cb.c[:0]
			for i := 0; i < tt.n; i++ {
				cb.c = append(cb.c, cand{a: tt.a(), slot: uint32(i)})
			}
			want := slices.Clone(cb.c)
			slices.SortFunc(want, func(x, y cand) int { return cmp.Compare(x.a, y.a) })
			got := cb.sort(aMax)
			if len(got) != len(want) {
				t.Fatalf("%d candidates, want %d", len(got), len(want))
			}
			seen := make([]bool, tt.n)
			for i := range got {
				if got[i].a != want[i].a {
					t.Fatalf("position %d: %g, want %g", i, got[i].a, want[i].a)
				}
				seen[got[i].slot] = true
			}
			for i, ok := range seen {
				if !ok {
					t.Fatalf("candidate %d lost", i)
				}
			}
		})
	}
}
