package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestExactMapDifferential: the compact exact-name map (one doc a name,
// the rest aside) gives, for every name, the same docs in the same order
// as the map of slices it replaced, on random docs whose names collide
// often, including names added twice by one doc and names that are absent.
func TestExactMapDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := make([]string, 300)
	for i := range pool {
		pool[i] = fmt.Sprintf("名%d", r.IntN(150)) // duplicates in the pool too
	}
	kinds := []string{"school", "学校", "park", "公园"}
	old := map[string][]*doc{} // the previous structure, filled as it was
	m := newExactMap()
	for i := 0; i < 5000; i++ {
		d := &doc{key: fmt.Sprintf("e:%d", i)}
		for n := r.IntN(4); n >= 0; n-- {
			d.names = append(d.names, nameVar{text: pool[r.IntN(len(pool))]})
		}
		if r.IntN(5) == 0 {
			d.kinds = append(d.kinds, kinds[r.IntN(len(kinds))])
		}
		for _, v := range d.names {
			old[v.text] = append(old[v.text], d)
		}
		for _, k := range d.kinds {
			old[k] = append(old[k], d)
		}
		m.add(d)
	}
	probe := append(slices.Clone(pool), kinds...)
	probe = append(probe, "名999", "", "無")
	for _, text := range probe {
		var got []*doc
		m.each(text, func(d *doc) { got = append(got, d) })
		if !slices.Equal(got, old[text]) {
			t.Fatalf("%q: %d docs, the map of slices has %d (or another order)", text, len(got), len(old[text]))
		}
	}
}
