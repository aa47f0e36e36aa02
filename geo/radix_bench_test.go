package geo

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Benchmarks of radixSort at each of its call sites, on the inputs of a
// demo-sized load (79,000 entities), against the comparison sort it
// replaces (pdqsort from package slices). Each iteration sorts a fresh copy
// of the same input; the copy is part of both sides. They report process
// CPU time (cpu-ns/op) beside wall time. Compare with
//
//	go test ./geo -run '^$' -bench 'RadixSort' -count 6 > new.txt
//	benchstat -col /impl new.txt

const radixBenchN = 79000

// bulkKeys returns the keys of a bulk load of the city fixture, in load
// order (Snapshot.apply's plan: Hilbert key, index in the batch).
func bulkKeys() []bulkKey {
	pts := cityPoints(radixBenchN)
	keys := make([]bulkKey, len(pts))
	for i, p := range pts {
		keys[i] = bulkKey{k: HilbertIndex(p), i: i, x: p[0], y: p[1]}
	}
	return keys
}

// usccIDs returns n USCC-like IDs as a city's register holds them: a few
// kinds of entity, the districts' division codes, then random characters.
func usccIDs(n int) []idSlot {
	r := rand.New(rand.NewPCG(11, 12))
	kinds := []string{"91", "92", "93", "12"}
	districts := []string{"500105", "500106", "500108", "500109", "500112", "500103", "500107"}
	ids := make([]idSlot, n)
	b := make([]byte, 10)
	for i := range ids {
		for j := range b {
			b[j] = usccAlphabet[r.IntN(len(usccAlphabet))]
		}
		ids[i].id = kinds[r.IntN(len(kinds))] + districts[r.IntN(len(districts))] + string(b)
		ids[i].k1, ids[i].k2 = prefixKeys(ids[i].id)
		ids[i].slot = uint32(i)
	}
	return ids
}

// zonePairs returns the (cell, zone) keys of a zone table of 1<<18 cells
// (ZoneTable.cellPairs): 7 districts, 120 streets and 800 grid squares as
// rectangles of cells, each zone's cells in row order.
func zonePairs() []uint64 {
	r := rand.New(rand.NewPCG(13, 14))
	const side = 512
	var pairs []uint64
	zi := 0
	add := func(i0, j0, w, h int) {
		for j := j0; j < min(j0+h, side); j++ {
			for i := i0; i < min(i0+w, side); i++ {
				pairs = append(pairs, uint64(j*side+i)<<32|uint64(zi)<<1|uint64(r.IntN(2)))
			}
		}
		zi++
	}
	for d := range 7 {
		add(d*side/7, 0, side/7+1, side)
	}
	for range 120 {
		add(r.IntN(side), r.IntN(side), 20+r.IntN(40), 20+r.IntN(40))
	}
	for range 800 {
		add(r.IntN(side), r.IntN(side), 10+r.IntN(16), 10+r.IntN(16))
	}
	return pairs
}

// BenchmarkRadixSort sorts, each way:
//
//	bulk    the Hilbert-ordered bulk load (apply.go; stable, so the
//	        comparison sort breaks ties by batch index)
//	ids     the ID sort of a bulk load (sortIDs; against comparing strings)
//	hashes  uniqueOps's hashed keys
//	zones   a zone table's (cell, zone) pairs (ZoneTable.group), ~700k
func BenchmarkRadixSort(b *testing.B) {
	b.Run("in=bulk", func(b *testing.B) {
		in := bulkKeys()
		work := make([]bulkKey, len(in))
		benchSort(b, "radix", func() {
			copy(work, in)
			_ = radixSort(work, nil, func(k *bulkKey) uint64 { return k.k })
		})
		benchSort(b, "slices", func() {
			copy(work, in)
			slices.SortFunc(work, func(x, y bulkKey) int {
				if c := cmp.Compare(x.k, y.k); c != 0 {
					return c
				}
				return cmp.Compare(x.i, y.i)
			})
		})
	})
	b.Run("in=ids", func(b *testing.B) {
		in := usccIDs(radixBenchN)
		work := make([]idSlot, len(in))
		benchSort(b, "radix", func() {
			copy(work, in)
			_ = sortIDs(work)
		})
		benchSort(b, "slices", func() {
			copy(work, in)
			slices.SortFunc(work, func(x, y idSlot) int { return strings.Compare(x.id, y.id) })
		})
	})
	b.Run("in=hashes", func(b *testing.B) {
		r := rand.New(rand.NewPCG(15, 16))
		in := make([]uint64, radixBenchN)
		for i := range in {
			in[i] = r.Uint64()
		}
		work := make([]uint64, len(in))
		benchSort(b, "radix", func() {
			copy(work, in)
			_ = radixSort(work, nil, func(h *uint64) uint64 { return *h })
		})
		benchSort(b, "slices", func() {
			copy(work, in)
			slices.Sort(work)
		})
	})
	b.Run("in=zones", func(b *testing.B) {
		in := zonePairs()
		work := make([]uint64, len(in))
		benchSort(b, "radix", func() {
			copy(work, in)
			_ = radixSort(work, nil, func(v *uint64) uint64 { return *v })
		})
		benchSort(b, "slices", func() {
			copy(work, in)
			slices.Sort(work)
		})
	})
}

// benchSort runs sort as the sub-benchmark impl=name.
func benchSort(b *testing.B, name string, sort func()) {
	b.Run(fmt.Sprintf("impl=%s", name), func(b *testing.B) {
		b.ReportAllocs()
		benchLoop(b, 0, "", sort)
	})
}

// TestRadixBenchInputs checks that both sides of each benchmark sort the
// same way, so that the benchmark compares equals.
func TestRadixBenchInputs(t *testing.T) {
	tests := []struct {
		name string
		same func() bool
	}{
		{"bulk", func() bool {
			in := bulkKeys()[:5000]
			want := slices.Clone(in)
			slices.SortStableFunc(want, func(x, y bulkKey) int { return cmp.Compare(x.k, y.k) })
			return slices.Equal(radixSort(slices.Clone(in), nil, func(k *bulkKey) uint64 { return k.k }), want)
		}},
		{"ids", func() bool {
			in := usccIDs(5000)
			want := slices.Clone(in)
			slices.SortFunc(want, func(x, y idSlot) int { return strings.Compare(x.id, y.id) })
			got := sortIDs(slices.Clone(in))
			return slices.EqualFunc(got, want, func(x, y idSlot) bool { return x.id == y.id })
		}},
		{"zones", func() bool {
			in := zonePairs()
			want := slices.Clone(in)
			slices.Sort(want)
			return slices.Equal(radixSort(slices.Clone(in), nil, func(v *uint64) uint64 { return *v }), want)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.same() {
				t.Fatal("radix and comparison sort disagree")
			}
		})
	}
}
