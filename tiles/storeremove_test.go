package tiles

import (
	"fmt"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestPointStoreRemoveFindsByID: a point store with many entities at one
// point (one cell) removes exactly the one asked for, whichever it is, and
// a move (remove, then add elsewhere) allocates nothing for the search of
// the cell: comparing the stored IDs makes no strings.
func TestPointStoreRemoveFindsByID(t *testing.T) {
	s := newPointStore(16)
	p := orb.Point{106.55, 29.6}
	var ents []*geo.Entity
	for i := range 300 {
		e := &geo.Entity{ID: fmt.Sprintf("9150000000000%05d", i), Name: "甲", Location: p, Risk: geo.RiskB}
		ents = append(ents, e)
		s.add(e)
	}
	ids := func() map[string]bool {
		out := map[string]bool{}
		for _, b := range s.buckets {
			for _, c := range b.cells {
				for i := range c {
					out[b.id(&c[i])] = true
				}
			}
		}
		return out
	}
	for _, k := range []int{0, 150, 299, 7} {
		s.remove(ents[k])
		got := ids()
		if got[ents[k].ID] || len(got) != 299 {
			t.Fatalf("after removing %s: %d entities, it is still there: %v", ents[k].ID, len(got), got[ents[k].ID])
		}
		s.add(ents[k])
		if got := ids(); !got[ents[k].ID] || len(got) != 300 {
			t.Fatalf("after adding %s back: %d entities", ents[k].ID, len(got))
		}
	}
	// a move of the last-stored entity there and back: each removal
	// compares up to 300 IDs (a string each, before); what is left is the
	// moved point's bucket, made and dropped each time, and the arena's
	// growth and compaction
	e := ents[0]
	moved := &geo.Entity{ID: e.ID, Name: e.Name, Location: orb.Point{106.56, 29.61}, Risk: geo.RiskB}
	allocs := testing.AllocsPerRun(50, func() {
		s.remove(e)
		s.add(moved)
		s.remove(moved)
		s.add(e)
	})
	if allocs > 20 {
		t.Fatalf("%.1f allocations a move and back: the search of the cell makes strings", allocs)
	}
}
