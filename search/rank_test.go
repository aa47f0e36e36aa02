package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// rankOracle is rank as it was before the bounds (every candidate scored
// in full, one after another): the oracle of TestRankSame.
func (ix *Index) rankOracle(m *matcher, q Query, limit int, keys []string) []Hit {
	cs := make([]cand, 0, len(keys))
	seen := make(map[*doc]struct{}, len(keys))
	bestQ := 0.0
	for _, key := range keys {
		d, ok := ix.docs.byKey[key]
		if !ok {
			continue
		}
		if _, dup := seen[d]; dup {
			continue // a key's doc is the same for the whole query
		}
		seen[d] = struct{}{}
		s, how := m.score(d)
		if s < ix.opts.MinScore {
			continue
		}
		c := cand{d: d, quality: s, score: s, how: how}
		if q.Center != nil {
			c.dist = geo.DistanceM(*q.Center, d.loc)
			if q.RadiusM > 0 && c.dist > q.RadiusM {
				continue
			}
			scale := ix.opts.DistanceScaleM
			if q.RadiusM > 0 {
				scale = q.RadiusM
			}
			c.score = s * (1 - 0.15*math.Min(1, c.dist/scale))
		}
		bestQ = max(bestQ, s)
		cs = append(cs, c)
	}
	// Relative threshold on quality, then the best limit by final score.
	kept := cs[:0]
	for _, c := range cs {
		if c.quality >= bestQ*ix.opts.MinRelativeScore {
			kept = append(kept, c)
		}
	}
	kept = topCands(kept, limit)
	hits := make([]Hit, len(kept))
	for i, c := range kept {
		h := Hit{Score: math.Round(c.score*10000) / 10000, Match: c.how, Layer: c.d.layer, ID: c.d.id(),
			Name: c.d.name(), Feature: c.d.hit()}
		if q.Center != nil {
			h.DistanceM = c.dist
			h.Feature.DistanceM = c.dist
		}
		hits[i] = h
	}
	return hits
}

// randomQueries draws n queries of every kind from the fixture's data:
// whole names, short names, prefixes and substrings of 1-6 characters,
// typos (a character replaced, dropped or doubled), full pinyin and
// initials (whole or a prefix), characters mixed with initials, address
// fragments, random characters and ASCII; a fifth with a centre (some
// with a radius), some with layers, limits from 1 to 100.
func randomQueries(f *demoFixture, rng *rand.Rand, n int) []Query {
	ents, places := f.ds.Entities, f.ds.Places
	han := []rune("重庆鑫杰装饰工程有限公司市渝北区中学口金开大道号商贸物业服务两江新科技")
	out := make([]Query, 0, n)
	for len(out) < n {
		e := &ents[rng.IntN(len(ents))]
		rs := []rune(f.idx.names.Parse(e.Name).Short)
		if len(rs) == 0 {
			continue
		}
		var text string
		switch rng.IntN(13) {
		case 0:
			text = e.Name
		case 1:
			text = string(rs)
		case 2:
			text = string(rs[:1+rng.IntN(min(len(rs), 3))])
		case 3:
			i := rng.IntN(len(rs))
			text = string(rs[i:min(len(rs), i+1+rng.IntN(6))])
		case 4, 5:
			t := []rune(e.Name)
			if rng.IntN(2) == 0 && len(places) > 0 {
				t = []rune(places[rng.IntN(len(places))].Name)
			}
			if len(t) < 2 {
				continue
			}
			i := rng.IntN(len(t))
			switch rng.IntN(3) {
			case 0:
				t[i] = han[rng.IntN(len(han))]
			case 1:
				t = append(t[:i:i], t[i+1:]...)
			default:
				t = slices.Insert(t, i, t[i])
			}
			text = string(t)
		case 6:
			full, ini := pinyinOf(string(rs), false)
			if rng.IntN(2) == 0 {
				text = full[:max(1, rng.IntN(len(full)+1))]
			} else {
				text = ini
			}
		case 7:
			if q, ok := initialsQuery(string(rs)); ok {
				text = q
			} else {
				text = string(rs)
			}
		case 8:
			if a := []rune(e.Address); len(a) > 4 {
				i := rng.IntN(len(a) - 2)
				text = string(a[i:min(len(a), i+2+rng.IntN(6))])
			} else {
				text = string(rs)
			}
		case 9:
			k := 1 + rng.IntN(4)
			t := make([]rune, k)
			for i := range t {
				t[i] = han[rng.IntN(len(han))]
			}
			text = string(t)
		case 10:
			text = fmt.Sprintf("%c%s", rs[0], []string{"jz", "x", "zs", "gc", "kj"}[rng.IntN(5)])
		case 11:
			text = []string{"xyzzy", "jiezhuang", "cq", "zhongxue", "a", "中学", "学校", "公司", "有限公司", "重庆"}[rng.IntN(10)]
		default:
			text = string(rs) + string(han[rng.IntN(len(han))])
		}
		q := Query{Text: text, Limit: []int{1, 3, 10, 10, 37, 100}[rng.IntN(6)]}
		if rng.IntN(5) == 0 {
			c := e.Location
			if rng.IntN(2) == 0 {
				c = orb.Point{c[0] + (rng.Float64()-0.5)*0.2, c[1] + (rng.Float64()-0.5)*0.2}
			}
			q.Center = &c
			q.RadiusM = []float64{0, 0, 300, 3000, 20000}[rng.IntN(5)]
		}
		if rng.IntN(7) == 0 {
			q.Layers = [][]geo.Layer{{geo.LayerEntities}, {geo.LayerPlaces, geo.LayerBuildings}, {geo.LayerZones}}[rng.IntN(3)]
		}
		out = append(out, q)
	}
	return out
}

// rankSame compares rank with rankOracle on q's candidates of both passes
// and on an adversarial list (random docs, the candidates shuffled,
// duplicates, unknown keys). It returns the number of comparisons. mu is
// read-held by the caller.
func rankSame(t *testing.T, ix *Index, q Query, allKeys []string, rng *rand.Rand) int {
	t.Helper()
	pq := parseQuery(q.Text)
	if pq.compact == "" {
		return 0
	}
	limit := q.Limit
	if limit == 0 {
		limit = ix.opts.DefaultLimit
	}
	m := newMatcher(pq)
	n := 0
	check := func(what string, keys []string) {
		t.Helper()
		got := ix.rank(m, q, limit, keys)
		want := ix.rankOracle(m, q, limit, keys)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q limit %d centre %v radius %v layers %v (%d keys):\nrank   %s\noracle %s",
				what, q.Text, limit, q.Center, q.RadiusM, q.Layers, len(keys), hitsString(got), hitsString(want))
		}
		n++
	}
	for _, fuzzy := range []bool{false, true} {
		keys, none, err := ix.candidates(context.Background(), m, q, limit, fuzzy)
		if err != nil {
			t.Fatalf("%q: %v", q.Text, err)
		}
		if none {
			continue
		}
		check(fmt.Sprintf("pass fuzzy=%v", fuzzy), keys)
		adv := append([]string(nil), keys...)
		for range 1 + rng.IntN(300) {
			adv = append(adv, allKeys[rng.IntN(len(allKeys))])
		}
		for range rng.IntN(20) {
			if len(keys) > 0 {
				adv = append(adv, keys[rng.IntN(len(keys))])
			}
		}
		adv = append(adv, "entities/no-such-key")
		rng.Shuffle(len(adv), func(i, j int) { adv[i], adv[j] = adv[j], adv[i] })
		check("adversarial keys", adv)
	}
	return n
}

func hitsString(hs []Hit) string {
	s := ""
	for _, h := range hs {
		s += fmt.Sprintf("[%s %s %s %.4f %s %.1f] ", h.Layer, h.ID, h.Name, h.Score, h.Match, h.DistanceM)
	}
	return s
}

// sortedKeys are the keys of ix's docs, sorted. mu is read-held.
func sortedKeys(ix *Index) []string {
	keys := make([]string, 0, len(ix.docs.byKey))
	for k := range ix.docs.byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestRankSame: rank (bounds, candidates skipped, two goroutines) gives
// exactly the hits of rankOracle (every candidate scored in full, one
// after another): IDs, order, scores, match kinds and distances, on every
// benchmark query and thousands of random ones of every kind at 79k (6k
// under the race detector), both passes, each also with an adversarial
// candidate list.
func TestRankSame(t *testing.T) {
	f := getFixture(t)
	ix := f.idx
	rng := rand.New(rand.NewPCG(22, 2208))
	var qs []Query
	for _, list := range benchQueries(f) {
		for _, text := range list {
			qs = append(qs, Query{Text: text, Limit: 10})
		}
	}
	nRandom := 4000
	if testing.Short() || raceEnabled {
		nRandom = 600
		rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		qs = qs[:min(len(qs), 600)]
	}
	qs = append(qs, randomQueries(f, rng, nRandom)...)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	all := sortedKeys(ix)
	n := 0
	for _, q := range qs {
		n += rankSame(t, ix, q, all, rng)
	}
	t.Logf("%d queries, %d rankings compared", len(qs), n)
}

// TestUpperScoreBound: on the candidates of every benchmark query and of
// random ones, scoreDirect is at most score and upperScore at least it,
// with the same match kind when nothing beyond the cheap tiers wins; the
// bound is below the fuzzy ceiling for a share of the candidates (it
// prunes something).
func TestUpperScoreBound(t *testing.T) {
	f := getFixture(t)
	ix := f.idx
	rng := rand.New(rand.NewPCG(22, 1))
	var qs []Query
	for _, list := range benchQueries(f) {
		for i := 0; i < len(list); i += 4 {
			qs = append(qs, Query{Text: list[i], Limit: 10})
		}
	}
	qs = append(qs, randomQueries(f, rng, 500)...)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	checked, tight := 0, 0
	for _, q := range qs {
		pq := parseQuery(q.Text)
		if pq.compact == "" {
			continue
		}
		m := newMatcher(pq)
		keys, _, err := ix.candidates(context.Background(), m, q, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			d := ix.docs.byKey[k]
			if d == nil {
				continue
			}
			low, lowHow := m.scoreDirect(d)
			s, how := m.score(d)
			up := m.upperScore(d, low)
			if low > s || up < s || math.IsNaN(up) {
				t.Fatalf("%q %s: direct %v, score %v, upper %v", q.Text, k, low, s, up)
			}
			if s == low && how != lowHow {
				t.Fatalf("%q %s: score %v %s, direct %s", q.Text, k, s, how, lowHow)
			}
			checked++
			if up < maxFuzzyScore && s < 0.8 {
				tight++
			}
		}
	}
	if tight == 0 {
		t.Fatalf("the bound was never below the fuzzy ceiling on %d candidates", checked)
	}
	t.Logf("%d candidates checked, bound below the fuzzy ceiling on %d", checked, tight)
}

// TestRankSameWhileWriting: rank equals rankOracle while live updates go
// on (names changed, features deleted and written again), each comparison
// on one state (both under the same read lock).
func TestRankSameWhileWriting(t *testing.T) {
	f, err := buildFixture(3000, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.idx.Close() })
	ix := f.idx
	rng := rand.New(rand.NewPCG(22, 3))
	qs := randomQueries(f, rng, 300)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	var writes atomic.Int64
	go func() {
		defer wg.Done()
		wr := rand.New(rand.NewPCG(22, 4))
		ents := f.ds.Entities
		for i := 0; !stop.Load(); i++ {
			e := ents[wr.IntN(len(ents))]
			switch i % 3 {
			case 0:
				e.Name = ents[wr.IntN(len(ents))].Name
				if err := f.geo.UpsertEntity(e); err != nil {
					t.Error(err)
					return
				}
			case 1:
				if err := f.geo.Delete(geo.LayerEntities, e.ID); err != nil && !errors.Is(err, geo.ErrNotFound) {
					t.Error(err)
					return
				}
			default:
				if err := f.geo.UpsertEntity(e); err != nil {
					t.Error(err)
					return
				}
			}
			writes.Add(1)
		}
	}()
	n := 0
	for _, q := range qs {
		ix.mu.RLock()
		all := sortedKeys(ix)
		n += rankSame(t, ix, q, all, rng)
		ix.mu.RUnlock()
	}
	stop.Store(true)
	wg.Wait()
	if writes.Load() == 0 {
		t.Fatal("no write went on")
	}
	t.Logf("%d rankings compared during %d writes", n, writes.Load())
}

// BenchmarkRank: rank against rankOracle on the candidates of the
// benchmark queries of a class (computed once, outside the timer): the
// re-ranking's share of a query.
func BenchmarkRank(b *testing.B) {
	f := getFixture(b)
	ix := f.idx
	for _, class := range []string{"short_name", "2_char", "address", "typo", "full_name"} {
		var texts []string
		if class == "full_name" {
			for i := 0; i < len(f.ds.Entities); i += max(1, len(f.ds.Entities)/500) {
				texts = append(texts, f.ds.Entities[i].Name)
			}
		} else {
			texts = benchQueries(f)[class]
		}
		type job struct {
			m    *matcher
			keys []string
		}
		var jobs []job
		ix.mu.RLock()
		for _, text := range texts {
			m := newMatcher(parseQuery(text))
			keys, _, err := ix.candidates(context.Background(), m, Query{Text: text}, 10, false)
			if err != nil {
				b.Fatal(err)
			}
			jobs = append(jobs, job{m, keys})
		}
		ix.mu.RUnlock()
		for _, impl := range []string{"oracle", "rank"} {
			b.Run(class+"/"+impl, func(b *testing.B) {
				ix.mu.RLock()
				defer ix.mu.RUnlock()
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					j := jobs[i%len(jobs)]
					if impl == "rank" {
						ix.rank(j.m, Query{}, 10, j.keys)
					} else {
						ix.rankOracle(j.m, Query{}, 10, j.keys)
					}
				}
			})
		}
	}
}
