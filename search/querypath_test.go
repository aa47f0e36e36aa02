package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestBleveTopSame: the direct searcher-and-collector path of bleveTop
// gives, on every benchmark query of the demo fixture (both passes, with
// and without a layer filter), the same hits in the same order as Bleve's
// own Index.SearchInContext on the same reader's index.
func TestBleveTopSame(t *testing.T) {
	f := getFixture(t)
	ix := f.idx
	ctx := context.Background()
	qs := benchQueries(f)
	step := 1
	if testing.Short() || raceEnabled {
		step = 5
	}
	compared := 0
	for class, list := range qs {
		for i := 0; i < len(list); i += step {
			text := list[i]
			for _, fuzzy := range []bool{false, true} {
				for _, layers := range [][]geo.Layer{nil, {geo.LayerPlaces, geo.LayerBuildings}} {
					m := newMatcher(parseQuery(text))
					ix.mu.RLock()
					r := ix.bleveReader()
					if r == nil {
						ix.mu.RUnlock()
						t.Fatal("no reader")
					}
					tq, _ := ix.textQuery(ctx, r, m, fuzzy)
					if tq == nil {
						_ = r.Close()
						ix.mu.RUnlock()
						continue
					}
					bq := ix.layerQuery(tq, layers)
					direct, err1 := ix.bleveTop(ctx, r, bq, ix.opts.Candidates, nil)
					viaIndex, err2 := ix.bleveTop(ctx, nil, bq, ix.opts.Candidates, nil)
					_ = r.Close()
					ix.mu.RUnlock()
					if err1 != nil || err2 != nil {
						t.Fatalf("%s %q: %v / %v", class, text, err1, err2)
					}
					if !slices.Equal(direct, viaIndex) {
						t.Fatalf("%s %q fuzzy=%v layers=%v: direct %d hits %v…, SearchInContext %d hits %v…", class, text, fuzzy, layers,
							len(direct), direct[:min(5, len(direct))], len(viaIndex), viaIndex[:min(5, len(viaIndex))])
					}
					compared++
				}
			}
		}
	}
	if compared < 100 {
		t.Fatalf("only %d queries reached Bleve", compared)
	}
	t.Logf("%d Bleve queries compared", compared)
}

// TestPairsInSame: matcher.pairsIn counts what one strings.Contains per
// query bigram counts (countPairs), on random texts over a small alphabet
// of Han characters, letters, a valid U+FFFD and bytes that are not
// UTF-8, for queries with repeated bigrams and queries of invalid UTF-8.
func TestPairsInSame(t *testing.T) {
	alphabet := []string{"鑫", "杰", "装", "饰", "重", "庆", "a", "1", "\uFFFD", "\xe9", "\xbf", "\xe9\x91", " "}
	rng := rand.New(rand.NewPCG(22, 22))
	text := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	checked, nonzero := 0, 0
	for range 20000 {
		q := text(2 + rng.IntN(8))
		m := newMatcher(queryText{compact: q})
		if m.pairs == nil {
			t.Fatalf("query %q: no rune pairs", q)
		}
		for range 5 {
			s := text(rng.IntN(24))
			got, want := m.pairsIn(s), countPairs(m.bigrams, s)
			if got != want {
				t.Fatalf("query %q, text %q: pairsIn %d, strings.Contains %d", q, s, got, want)
			}
			checked++
			if want > 0 {
				nonzero++
			}
		}
	}
	if nonzero < checked/10 {
		t.Fatalf("only %d of %d texts share a bigram with their query", nonzero, checked)
	}
}

// TestTermStatsFollowWrites: the cached document frequencies and document
// count pruneTerms reads equal the ones read from a fresh Bleve reader
// before and after live updates (an insert and a delete through the geo
// index), so a write is never ranked with the figures of before it.
func TestTermStatsFollowWrites(t *testing.T) {
	g, ix := smallIndex(t, Options{CompactAfter: 1000})
	ctx := context.Background()
	read := func() (cachedDF, directDF, cachedN, directN uint64) {
		t.Helper()
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		r := ix.bleveReader()
		if r == nil {
			t.Fatal("no reader")
		}
		defer r.Close()
		stats, tag := ix.termStats()
		var err error
		for range 2 { // the second read is the cached one
			if cachedDF, err = stats.docFreq(ctx, r, tag, fName, "鑫杰"); err != nil {
				t.Fatal(err)
			}
			if cachedN, err = stats.docCount(r, tag); err != nil {
				t.Fatal(err)
			}
		}
		if directDF, err = readDocFreq(ctx, r, fName, "鑫杰"); err != nil {
			t.Fatal(err)
		}
		if directN, err = r.DocCount(); err != nil {
			t.Fatal(err)
		}
		return
	}
	check := func(step string, wantDF uint64) uint64 {
		t.Helper()
		cdf, ddf, cn, dn := read()
		if cdf != ddf || cn != dn {
			t.Fatalf("%s: cached df %d docs %d, read df %d docs %d", step, cdf, cn, ddf, dn)
		}
		if wantDF != 0 && cdf != wantDF {
			t.Fatalf("%s: df %d, want %d", step, cdf, wantDF)
		}
		return cdf
	}
	before := check("before", 0)
	id := testEntityID(t, 9)
	if err := g.UpsertEntity(geo.Entity{ID: id, Name: "重庆鑫杰商贸有限公司", Location: orb.Point{106.52, 29.66}}); err != nil {
		t.Fatal(err)
	}
	check("after the insert", before+1)
	if err := g.Delete(geo.LayerEntities, id); err != nil {
		t.Fatal(err)
	}
	check("after the delete", before)
}

// TestTopCandsSame: topCands keeps what a stable sort of all the
// candidates by cmpCand puts first, in the same order, on random
// candidates with many ties in every key (score, distance, name length,
// ID) and limits below, at and above their number.
func TestTopCandsSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 7))
	docs := make([]*doc, 12)
	for i := range docs {
		docs[i] = &doc{feat: &geo.Entity{ID: string(rune('a' + rng.IntN(4))), Name: strings.Repeat("名", 1+rng.IntN(3))}}
	}
	for range 5000 {
		cs := make([]cand, rng.IntN(40))
		for i := range cs {
			cs[i] = cand{d: docs[rng.IntN(len(docs))], score: float64(rng.IntN(4)) / 4, dist: float64(rng.IntN(3)), how: string(rune('0' + i))}
		}
		limit := 1 + rng.IntN(45)
		want := sortCands(slices.Clone(cs))
		want = want[:min(len(want), limit)]
		got := topCands(slices.Clone(cs), limit)
		if len(got) != len(want) {
			t.Fatalf("limit %d of %d: %d kept, want %d", limit, len(cs), len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("limit %d of %d: position %d is %+v, want %+v", limit, len(cs), i, got[i], want[i])
			}
		}
	}
}
