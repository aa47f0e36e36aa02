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
