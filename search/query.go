package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Query is one search.
type Query struct {
	// Text is what the user typed: a name, short name, part of a name or an
	// address, pinyin or initials, possibly mixed with characters (鑫jz).
	Text string
	// Layers restricts the layers searched (entities, places, buildings,
	// zones); empty means all.
	Layers []geo.Layer
	// Limit caps the hits; 0 means Options.DefaultLimit.
	Limit int
	// Center, when set, ranks nearer hits higher; with RadiusM > 0 only hits
	// within RadiusM metres of it are returned.
	Center *orb.Point
	// RadiusM is the radius of the geo filter around Center (0: no filter).
	RadiusM float64
}

// Hit is one search result.
type Hit struct {
	// Score is the final score in (0, 1]: the match quality times the
	// distance factor. Higher is better.
	Score float64
	// Match is the kind of the best match (MatchExact, MatchPrefix, …).
	Match string
	// Layer is the layer of the feature.
	Layer geo.Layer
	// ID is the feature's ID.
	ID string
	// Name is the feature's name.
	Name string
	// DistanceM is the distance from the query's centre (0 without one).
	DistanceM float64
	// Feature is the feature itself, shared with the geo index: do not
	// modify it. Feature.DistanceM equals DistanceM.
	Feature geo.Hit
}

// Search runs a query and returns the hits best first. A query that matches
// nothing well enough returns no hits and no error. Goroutine-safe.
func (ix *Index) Search(ctx context.Context, q Query) ([]Hit, error) {
	pq := parseQuery(q.Text)
	if pq.compact == "" {
		return nil, ErrEmptyQuery
	}
	limit := q.Limit
	if limit == 0 {
		limit = ix.opts.DefaultLimit
	}
	if limit < 0 || limit > ix.opts.MaxLimit {
		return nil, fmt.Errorf("%w: limit %d out of range [1, %d]", ErrInvalidQuery, limit, ix.opts.MaxLimit)
	}
	if q.RadiusM < 0 || q.RadiusM > ix.opts.MaxRadiusM || math.IsNaN(q.RadiusM) {
		return nil, fmt.Errorf("%w: radius %v out of range [0, %v]", ErrInvalidQuery, q.RadiusM, ix.opts.MaxRadiusM)
	}
	if q.RadiusM > 0 && q.Center == nil {
		return nil, fmt.Errorf("%w: a radius needs a centre", ErrInvalidQuery)
	}
	if q.Center != nil {
		if err := geo.ValidatePoint(*q.Center); err != nil {
			return nil, fmt.Errorf("%w: centre: %v", ErrInvalidQuery, err)
		}
	}
	for _, l := range q.Layers {
		switch l {
		case geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings, geo.LayerZones:
		default:
			return nil, fmt.Errorf("%w: layer %q", ErrInvalidQuery, l)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, ErrClosed
	}
	if !ix.build.ready {
		return nil, ErrNotReady
	}
	if hits, ok, err := ix.searchCode(ctx, q, limit); ok && (len(hits) > 0 || err != nil) { // code.go: a USCC, its first characters, a 注册号
		return hits, err
	}
	m := newMatcher(pq)
	hits, err := ix.run(ctx, m, q, limit, false)
	if err != nil {
		return nil, err
	}
	if len(hits) == 0 {
		// Second pass: typo tolerance beyond what the first pass finds.
		hits, err = ix.run(ctx, m, q, limit, true)
		if err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// maxBruteForce is the largest number of features around a centre that a
// query scores one by one instead of asking Bleve.
const maxBruteForce = 5000

// run finds candidates and re-ranks them. mu is read-held.
func (ix *Index) run(ctx context.Context, m *matcher, q Query, limit int, fuzzy bool) ([]Hit, error) {
	if q.Center != nil && q.RadiusM > 0 {
		keys, ok, err := ix.around(ctx, q)
		if err != nil {
			return nil, err
		}
		if ok {
			if fuzzy {
				return nil, nil // the brute-force pass already tried everything
			}
			return ix.rank(m, q, limit, keys), nil
		}
	}
	var exactKeys []string
	if !fuzzy {
		exactKeys = ix.exactKeys(m.q.compact, q.Layers)
	}
	n := max(ix.opts.Candidates, limit*4)
	// One reader of the Bleve index for the whole query: the term
	// statistics of textQuery and the search see the same segments.
	r := ix.bleveReader()
	if r != nil {
		defer r.Close()
	}
	tq, walk := ix.textQuery(ctx, r, m, fuzzy)
	exactKeys = append(exactKeys, ix.lexKeys(m, q, n, fuzzy, walk)...)
	if tq == nil {
		return ix.rank(m, q, limit, exactKeys), nil
	}
	bq := ix.layerQuery(tq, q.Layers)
	if q.Center != nil && q.RadiusM > 0 {
		n = max(n, 2000) // filtered by distance afterwards
	}
	keys, err := ix.bleveTop(ctx, r, bq, n, exactKeys)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("search: bleve: %w", err)
	}
	return ix.rank(m, q, limit, keys), nil
}

// layerQuery is tq restricted to the layers (tq itself for none).
func (ix *Index) layerQuery(tq query.Query, layers []geo.Layer) query.Query {
	if len(layers) == 0 {
		return tq
	}
	var ls []query.Query
	for _, l := range layers {
		t := bleve.NewTermQuery(string(l))
		t.SetField(fLayer)
		ls = append(ls, t)
	}
	return bleve.NewConjunctionQuery(tq, bleve.NewDisjunctionQuery(ls...))
}

// bleveReader opens a reader of the current generation's Bleve index
// (nil when it cannot: the term statistics are then not consulted and the
// search goes through bleve.Index). mu is read-held.
func (ix *Index) bleveReader() index.IndexReader {
	adv, err := ix.gen.bi.Advanced()
	if err != nil {
		return nil
	}
	r, err := adv.Reader()
	if err != nil {
		return nil
	}
	return r
}

// bleveTop appends to keys the keys of the n best Bleve hits of bq, best
// first. With a reader it runs bq's searcher and Bleve's top-n collector
// directly, the hits Index.SearchInContext would give (TestBleveTopSame)
// without its per-hit stored-field loading, statistics and context
// set-up; without one it asks the index. mu is read-held.
func (ix *Index) bleveTop(ctx context.Context, r index.IndexReader, bq query.Query, n int, keys []string) ([]string, error) {
	if r == nil {
		res, err := ix.gen.bi.SearchInContext(ctx, bleve.NewSearchRequestOptions(bq, n, 0, false))
		if err != nil {
			return nil, err
		}
		for _, h := range res.Hits {
			keys = append(keys, h.ID)
		}
		return keys, nil
	}
	s, err := bq.Searcher(ctx, r, ix.gen.bi.Mapping(), bsearch.SearcherOptions{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// Bleve's default order: best score first (ties in the order the
	// collector met them).
	coll := collector.NewTopNCollector(n, 0, bsearch.SortOrder{&bsearch.SortScore{Desc: true}})
	if err := coll.Collect(ctx, s, r); err != nil {
		return nil, err
	}
	for _, h := range coll.Results() {
		keys = append(keys, h.ID)
	}
	return keys, nil
}

// exactKeys are the keys of the current docs of the given layers (all when
// none) that have a name (or place kind) equal to text. mu is read-held.
func (ix *Index) exactKeys(text string, layers []geo.Layer) []string {
	var keys []string
	ix.gen.exact.each(text, func(d *doc) {
		if !ix.docs.current(d) {
			return // replaced or deleted since
		}
		if len(layers) > 0 && !slices.Contains(layers, d.layer) {
			return
		}
		keys = append(keys, d.key)
	})
	return keys
}

// around returns the keys of the searchable features within the query's
// radius, and false when there are more than maxBruteForce of them.
func (ix *Index) around(ctx context.Context, q Query) ([]string, bool, error) {
	layers := q.Layers
	if len(layers) == 0 {
		layers = []geo.Layer{geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings, geo.LayerZones}
	}
	var keys []string
	snap := ix.geo.Snapshot()
	for _, l := range layers {
		if l == geo.LayerZones {
			// geo.Nearby has no zone layer: the searchable zones are few.
			for key := range ix.docs.zoneKeys {
				if d := ix.docs.byKey[key]; d != nil && geo.DistanceM(*q.Center, d.loc) <= q.RadiusM {
					keys = append(keys, key)
				}
			}
			continue
		}
		res, err := snap.Nearby(ctx, l, *q.Center, q.RadiusM, geo.Query{Limit: maxBruteForce})
		if err != nil {
			return nil, false, fmt.Errorf("search: around centre: %w", err)
		}
		if res.Truncated || len(keys)+len(res.Hits) > maxBruteForce {
			return nil, false, nil
		}
		for i := range res.Hits {
			keys = append(keys, docKey(l, res.Hits[i].ID()))
		}
	}
	return keys, true, nil
}

// rank scores the candidate documents (keys, duplicates allowed: the
// first counts), applies the thresholds and the distance factor, and
// returns the best limit hits. mu is read-held.
func (ix *Index) rank(m *matcher, q Query, limit int, keys []string) []Hit {
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

// cand is a scored candidate of rank.
type cand struct {
	d       *doc
	quality float64 // match quality, before the distance factor
	score   float64
	dist    float64
	how     string
}

// cmpCand orders candidates best first: final score, then nearer, then
// shorter display name, then ID.
func cmpCand(a, b *cand) int {
	switch {
	case a.score != b.score:
		return cmpDesc(a.score, b.score)
	case a.dist != b.dist:
		return cmpDesc(b.dist, a.dist)
	case len(a.d.name()) != len(b.d.name()):
		return len(a.d.name()) - len(b.d.name())
	}
	return strings.Compare(a.d.id(), b.d.id())
}

// topCands returns the first limit of cs in the order of a stable sort
// by cmpCand (sortCands, TestTopCandsSame), in cs's array: it keeps the
// best limit in order while going through cs once, instead of sorting
// all of them.
func topCands(cs []cand, limit int) []cand {
	if limit <= 0 {
		return cs[:0]
	}
	if len(cs) <= limit {
		return sortCands(cs)
	}
	// best is a sorted prefix of the stable order seen so far: an equal
	// candidate comes after the ones before it in cs.
	best := make([]cand, 0, limit)
	for i := range cs {
		c := &cs[i]
		if len(best) == limit && cmpCand(c, &best[limit-1]) >= 0 {
			continue
		}
		k := sort.Search(len(best), func(j int) bool { return cmpCand(c, &best[j]) < 0 })
		if len(best) < limit {
			best = append(best, cand{})
		}
		copy(best[k+1:], best[k:])
		best[k] = *c
	}
	return append(cs[:0], best...)
}

// sortCands sorts cs stably by cmpCand.
func sortCands(cs []cand) []cand {
	slices.SortStableFunc(cs, func(a, b cand) int { return cmpCand(&a, &b) })
	return cs
}

// cmpDesc orders larger values first.
func cmpDesc(a, b float64) int {
	if a > b {
		return -1
	}
	if a < b {
		return 1
	}
	return 0
}

// maxCommonShare: a query term found in more than this share of the
// documents is dropped when rarer terms of the query remain (a "common
// terms" query): 重庆, 公司, 市 find everything and rank nothing.
const maxCommonShare = 0.02

// maxCommonDocs caps the common-term limit of large indexes: at 1M
// documents 2% is 20,000 postings per term, and a rarer term of the query
// finds its name without them.
const maxCommonDocs = 5000

// maxFallbackDocs caps the posting list of a common address term looked up
// as a fallback (30% of 1M documents would cost tens of milliseconds).
const maxFallbackDocs = 50000

// maxAddrFallbackShare bounds the common address term looked up when a
// query has no rarer address term and no rare name term.
const maxAddrFallbackShare = 0.3

// pruneCommon returns the terms of field worth looking up: the ones rarer
// than maxCommonShare, or the rarest one when all are common.
func (ix *Index) pruneCommon(ctx context.Context, r index.IndexReader, terms []string, field string) []string {
	out, _ := ix.pruneTerms(ctx, r, terms, field, 1)
	return out
}

// pruneTerms is pruneCommon with a bound on the fallback: when every term
// is common, the rarest one is kept only if it is in at most fallbackShare
// of the documents. rare reports whether a term rarer than maxCommonShare
// was found.
func (ix *Index) pruneTerms(ctx context.Context, r index.IndexReader, terms []string, field string, fallbackShare float64) (out []string, rare bool) {
	terms = uniq(terms)
	if len(terms) == 0 {
		return nil, false
	}
	if r == nil {
		return terms, true
	}
	stats, tag := ix.termStats()
	n, err := stats.docCount(r, tag)
	if err != nil || n == 0 {
		return terms, true
	}
	limit := min(max(uint64(maxCommonShare*float64(n)), 200), maxCommonDocs)
	out = terms[:0:0]
	rarest, rarestDF := "", uint64(1<<63)
	for _, t := range terms {
		df, err := stats.docFreq(ctx, r, tag, field, t)
		if err != nil {
			return terms, true
		}
		if df == 0 {
			continue
		}
		if df <= limit {
			out = append(out, t)
		}
		if df < rarestDF {
			rarest, rarestDF = t, df
		}
	}
	if len(out) > 0 {
		return out, true
	}
	if rarest != "" && float64(rarestDF) <= fallbackShare*float64(n) && (fallbackShare >= 1 || rarestDF <= maxFallbackDocs) {
		out = append(out, rarest)
	}
	return out, false
}

// termStats returns the document-frequency cache of the current
// generation and the tag of its Bleve index's state (a fresh, unshared
// cache when the generation has no lexicon). mu is read-held.
func (ix *Index) termStats() (*termStats, int) {
	if ix.gen.lex == nil {
		return &termStats{}, 0
	}
	return &ix.gen.lex.stats, ix.build.updates
}

func term(t, field string, boost float64) query.Query {
	q := bleve.NewTermQuery(t)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// maxExtra is the number of docs written since the last build after which
// the index is rebuilt even before CompactAfter commits: the lexicon checks
// them one by one.
const maxExtra = 4096

// textQuery is the Bleve query that finds the candidates of m's query
// among the indexed names and addresses (nil when Bleve has nothing to
// add to the lexicon's candidates).
//
// walk reports that every name term of the query is common: the name
// candidates then come from the lexicon (Index.lexKeys walks the list of
// the query's rarest character for names containing the query, best
// ranked first) instead of a Bleve posting list of up to the whole index.
func (ix *Index) textQuery(ctx context.Context, r index.IndexReader, m *matcher, fuzzy bool) (tq query.Query, walk bool) {
	pq := m.q
	var or []query.Query
	terms, unis := queryTerms(pq.compact)
	if fuzzy {
		// Pinyin typos are the lexicon's; so are the characters one by
		// one in the bigram+unigram mode.
		if pq.hasHan && m.qLen >= 3 && ix.opts.CJK == CJKUnigram {
			// A typo in a short name kills every bigram: look the
			// characters up one by one.
			for _, u := range ix.pruneCommon(ctx, r, unis, fName) {
				or = append(or, term(u, fName, 1))
			}
		}
	} else {
		if pq.hasHan || !pq.pureLatin {
			switch {
			case ix.opts.CJK == CJKUnigram && len(unis) > 1:
				p := bleve.NewPhraseQuery(unis, fName)
				p.SetBoost(3)
				or = append(or, p)
				var us []query.Query
				for _, u := range uniq(unis) {
					us = append(us, term(u, fName, 0.5))
				}
				or = append(or, bleve.NewDisjunctionQuery(us...))
				pa := bleve.NewPhraseQuery(unis, fAddr)
				pa.SetBoost(0.5)
				or = append(or, pa)
			case len(terms) == 0 && ix.opts.CJK == CJKBigramUnigram:
				// Single characters only: the lexicon's.
			default:
				if len(terms) == 0 {
					terms = unis
				}
				nameTerms, nameRare := ix.pruneTerms(ctx, r, terms, fName, 1)
				walk = !nameRare && len(nameTerms) > 0 && ix.opts.CJK == CJKBigramUnigram && pq.hasHan && pq.latin == ""
				if !walk {
					for _, t := range nameTerms {
						or = append(or, term(t, fName, 2))
					}
				}
				// Addresses are a fallback: when every address term is
				// common (重庆, 庆市 are in every address), the rarest is
				// looked up only if the name terms are common too and it
				// is in at most maxAddrFallbackShare of the documents;
				// otherwise it walks the whole index for nothing.
				addrShare := maxAddrFallbackShare
				if nameRare {
					addrShare = 0
				}
				addrTerms, _ := ix.pruneTerms(ctx, r, terms, fAddr, addrShare)
				for _, t := range addrTerms {
					or = append(or, term(t, fAddr, 0.3))
				}
			}
		}
		if pq.pureLatin && len(pq.latin) >= 2 {
			or = append(or, term(pq.latin, fName, 2))
		}
	}
	if len(or) == 0 {
		return nil, walk
	}
	return bleve.NewDisjunctionQuery(or...), walk
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func uniq(s []string) []string {
	return dedupe(append([]string(nil), s...))
}
