package search

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/region"
	"github.com/paulmach/orb"
)

// Options configure an Index. The zero value of every field means "use the
// default" given in its comment; DefaultOptions returns them filled in.
type Options struct {
	// CJK selects the Chinese analysis. Default CJKBigramUnigram.
	CJK CJKMode
	// Background builds the Bleve index in a goroutine: New returns at once
	// and Search answers ErrNotReady until the build is done (see Ready and
	// Wait). Default false: New returns once the index is built.
	Background bool
	// ZoneLayers are the zone layers whose zones are searchable by name.
	// Default district, street and ftz.
	ZoneLayers []string
	// DefaultLimit is the number of hits when a query gives no limit.
	// Default 10.
	DefaultLimit int
	// MaxLimit is the largest limit a query may ask for. Default 100.
	MaxLimit int
	// Candidates is how many Bleve hits are re-ranked per query (at least
	// the limit). Default 200.
	Candidates int
	// MinScore drops hits whose match quality (0..1, before the distance
	// factor) is below it: the absolute threshold that keeps noise out of
	// answers to names that exist nowhere. Default 0.3.
	MinScore float64
	// MinRelativeScore drops hits whose quality is below this fraction of
	// the best hit's. Default 0.5.
	MinRelativeScore float64
	// MaxRadiusM is the largest radius of a query with a centre. Default
	// 50,000 m.
	MaxRadiusM float64
	// DistanceScaleM is the distance at which the distance factor of a
	// query with a centre and no radius reaches its floor. Default 5,000 m.
	DistanceScaleM float64
	// BatchSize is the smallest number of documents per Bleve batch while
	// building; a large index uses larger batches (a quarter of each build
	// worker's share), as each batch stays one segment. Default 20,000.
	BatchSize int
	// CompactAfter is the number of live-update commits after which the
	// Bleve index is rebuilt in the background (the in-memory index gains a
	// segment per commit and is never merged). Default 512.
	CompactAfter int
	// Region is the administrative dictionary of the region whose names
	// are stripped from the front of company and place names to find the
	// names people use (重庆市两江新区鑫杰装饰工程有限公司 → 鑫杰装饰工程; see
	// NameParser). Default nil: no region, names keep their region
	// prefixes. The demo's is demo.Region(). (A dependency, not a
	// configuration value.)
	Region *region.Dict
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{
		CJK:              CJKBigramUnigram,
		ZoneLayers:       []string{"district", "street", "ftz"},
		DefaultLimit:     10,
		MaxLimit:         100,
		Candidates:       200,
		MinScore:         0.3,
		MinRelativeScore: 0.5,
		MaxRadiusM:       50000,
		DistanceScaleM:   5000,
		BatchSize:        20000,
		CompactAfter:     512,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.CJK == "" {
		o.CJK = d.CJK
	}
	if o.ZoneLayers == nil {
		o.ZoneLayers = d.ZoneLayers
	}
	if o.DefaultLimit == 0 {
		o.DefaultLimit = d.DefaultLimit
	}
	if o.MaxLimit == 0 {
		o.MaxLimit = d.MaxLimit
	}
	if o.Candidates == 0 {
		o.Candidates = d.Candidates
	}
	if o.MinScore == 0 {
		o.MinScore = d.MinScore
	}
	if o.MinRelativeScore == 0 {
		o.MinRelativeScore = d.MinRelativeScore
	}
	if o.MaxRadiusM == 0 {
		o.MaxRadiusM = d.MaxRadiusM
	}
	if o.DistanceScaleM == 0 {
		o.DistanceScaleM = d.DistanceScaleM
	}
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.CompactAfter == 0 {
		o.CompactAfter = d.CompactAfter
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	switch o.CJK {
	case "", CJKBigram, CJKBigramUnigram, CJKUnigram:
	default:
		return fmt.Errorf("%w: CJK mode %q", ErrInvalidOptions, o.CJK)
	}
	if o.DefaultLimit < 0 || o.MaxLimit < 0 || o.Candidates < 0 || o.BatchSize < 0 || o.CompactAfter < 0 {
		return fmt.Errorf("%w: counts must not be negative", ErrInvalidOptions)
	}
	if o.MinScore < 0 || o.MinScore > 1 || o.MinRelativeScore < 0 || o.MinRelativeScore > 1 {
		return fmt.Errorf("%w: score thresholds must be in [0, 1]", ErrInvalidOptions)
	}
	if o.MaxRadiusM < 0 || o.DistanceScaleM < 0 {
		return fmt.Errorf("%w: distances must not be negative", ErrInvalidOptions)
	}
	if o.DefaultLimit > 0 && o.MaxLimit > 0 && o.DefaultLimit > o.MaxLimit {
		return fmt.Errorf("%w: DefaultLimit %d > MaxLimit %d", ErrInvalidOptions, o.DefaultLimit, o.MaxLimit)
	}
	return nil
}

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

// Stats describe the index.
type Stats struct {
	// Ready reports whether the index answers queries.
	Ready bool `json:"ready"`
	// Docs is the number of searchable features.
	Docs int `json:"docs"`
	// BuildTime is how long the last full build took.
	BuildTime time.Duration `json:"build_time_ns"`
	// Builds counts full builds (the first and the compactions).
	Builds int `json:"builds"`
	// Updates counts live-update commits applied since the last build.
	Updates int `json:"updates"`
	// Err is the error of a failed background build.
	Err string `json:"error,omitempty"`
}

// Index is a Bleve-backed full-text index of the names and addresses of a
// geo.Index's features, kept current by following its commits. It is safe
// for concurrent use: any number of goroutines may call Search while the
// geo index is written.
type Index struct {
	opts       Options
	geo        *geo.Index
	zoneLayers map[string]bool
	mapping    *mapping.IndexMappingImpl
	analyzer   analysis.Analyzer
	builder    *docBuilder
	names      *NameParser
	stopFollow func()
	readyCh    chan struct{}

	mu       sync.RWMutex
	docs     map[string]*doc
	bi       bleve.Index
	exact    exactMap // whole names → docs, built with bi
	lex      *lexicon // pinyin and single characters, built with bi
	stop     stopSet  // address terms left out of bi
	extra    []*doc   // docs written since lex was built
	ready    bool
	building bool
	touched  map[string]struct{} // keys written while a build runs
	zoneKeys map[string]struct{} // keys of the searchable zones
	updates  int
	builds   int
	buildDur time.Duration
	buildErr error
	closed   bool
}

// New builds the search index of idx's current features and follows idx's
// commits from then on. With Options.Background the Bleve index is built in
// a goroutine and New returns at once. Cancelling ctx stops the first build
// (it is only used for that): New, or Wait after a background start,
// returns an error wrapping ctx.Err(). Close releases the index.
func New(ctx context.Context, idx *geo.Index, opts Options) (*Index, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: nil geo index", ErrInvalidOptions)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	im, err := newMapping(opts.CJK)
	if err != nil {
		return nil, err
	}
	ix := &Index{
		opts:       opts,
		geo:        idx,
		zoneLayers: map[string]bool{},
		names:      NewNameParser(opts.Region),
		mapping:    im,
		analyzer:   im.AnalyzerNamed(analyzerCJK),
		readyCh:    make(chan struct{}),
		docs:       map[string]*doc{},
		zoneKeys:   map[string]struct{}{},
	}
	if ix.analyzer == nil {
		return nil, fmt.Errorf("search: analyzer %s not found", analyzerCJK)
	}
	addr := im.AnalyzerNamed(analyzerAddr)
	if addr == nil {
		return nil, fmt.Errorf("search: analyzer %s not found", analyzerAddr)
	}
	ix.builder = newDocBuilder(ix.analyzer, addr, opts.CJK)
	for _, l := range opts.ZoneLayers {
		ix.zoneLayers[l] = true
	}
	// Commits between Follow and loadSnapshot are applied by apply and
	// recorded in touched; loadSnapshot does not overwrite them.
	ix.building = true
	ix.touched = map[string]struct{}{}
	snap, stop := idx.Follow(ix.apply)
	ix.stopFollow = stop
	if opts.Background {
		go ix.firstBuild(ctx, snap)
		return ix, nil
	}
	ix.firstBuild(ctx, snap)
	ix.mu.RLock()
	err = ix.buildErr
	ix.mu.RUnlock()
	if err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

// firstBuild loads the snapshot and builds the first Bleve index, or
// records the error of ctx when it is cancelled meanwhile.
func (ix *Index) firstBuild(ctx context.Context, snap *geo.Snapshot) {
	if err := ix.loadSnapshot(ctx, snap); err != nil {
		ix.mu.Lock()
		ix.buildErr = fmt.Errorf("search: build stopped: %w", err)
		ix.building = false
		ix.touched = nil
		ix.mu.Unlock()
		return
	}
	ix.rebuild(ctx)
}

// loadSnapshot fills docs from a geo snapshot, except the keys that later
// commits already wrote. The docs are derived without the lock; it stops
// early with ctx's error when ctx is cancelled.
func (ix *Index) loadSnapshot(ctx context.Context, s *geo.Snapshot) error {
	type feature struct {
		layer geo.Layer
		v     any
	}
	var fs []feature
	s.ScanEntities(func(e *geo.Entity) bool { fs = append(fs, feature{geo.LayerEntities, e}); return true })
	s.ScanPlaces(func(p *geo.Place) bool { fs = append(fs, feature{geo.LayerPlaces, p}); return true })
	s.ScanBuildings(func(b *geo.Building) bool { fs = append(fs, feature{geo.LayerBuildings, b}); return true })
	s.ScanZones(func(z *geo.Zone) bool { fs = append(fs, feature{geo.LayerZones, z}); return true })
	// Deriving the names (short names, cores, pinyin) is parallel.
	docs := make([]*doc, len(fs))
	var wg sync.WaitGroup
	w := buildWorkers()
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for i, n := k, 0; i < len(fs); i, n = i+w, n+1 {
				if n%256 == 0 && ctx.Err() != nil {
					return
				}
				docs[i] = ix.docOf(fs[i].v)
			}
		}(k)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, d := range docs {
		if d == nil {
			continue
		}
		if _, later := ix.touched[d.key]; !later {
			ix.docs[d.key] = d
			if d.layer == geo.LayerZones {
				ix.zoneKeys[d.key] = struct{}{}
			}
		}
	}
	return nil
}

// apply is the geo index subscription: it updates docs and, when built,
// the Bleve index, before the writing call returns.
func (ix *Index) apply(cs geo.ChangeSet) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return
	}
	var batch *bleve.Batch
	if ix.bi != nil {
		batch = ix.bi.NewBatch()
	}
	for _, c := range cs.Changes {
		key := docKey(c.Layer, c.ID)
		var d *doc
		if c.New != nil {
			d = ix.docOf(c.New)
		}
		if d == nil {
			if _, ok := ix.docs[key]; !ok {
				continue
			}
			delete(ix.docs, key)
			delete(ix.zoneKeys, key)
			if batch != nil {
				batch.Delete(key)
			}
		} else {
			ix.docs[key] = d
			if d.layer == geo.LayerZones {
				ix.zoneKeys[key] = struct{}{}
			}
			if batch != nil {
				_ = batch.IndexAdvanced(ix.builder.document(d, ix.stop))
				ix.exact.add(d)
				ix.extra = append(ix.extra, d)
			}
		}
		if ix.building {
			ix.touched[key] = struct{}{}
		}
	}
	if batch != nil && batch.Size() > 0 {
		if err := ix.bi.Batch(batch); err != nil {
			ix.buildErr = fmt.Errorf("search: live update: %w", err)
		}
		ix.updates++
		if (ix.updates >= ix.opts.CompactAfter || len(ix.extra) > maxExtra) && !ix.building {
			ix.building = true
			ix.touched = map[string]struct{}{}
			go ix.rebuild(context.Background())
		}
	}
}

// rebuild builds a fresh Bleve index from docs, then swaps it in after
// replaying the keys written meanwhile. ix.building is set by the caller.
// A cancelled ctx stops the build (the old index, if any, stays).
func (ix *Index) rebuild(ctx context.Context) {
	start := time.Now()
	ix.mu.RLock()
	docs := make([]*doc, 0, len(ix.docs))
	for _, d := range ix.docs {
		docs = append(docs, d)
	}
	ix.mu.RUnlock()
	slices.SortFunc(docs, func(a, b *doc) int { return strings.Compare(a.key, b.key) })
	exact := exactMap{}
	var lex *lexicon
	sideDone := make(chan struct{})
	go func() {
		defer close(sideDone)
		for _, d := range docs {
			exact.add(d)
		}
		lex = buildLexicon(docs, ix.opts.CJK == CJKBigramUnigram)
	}()
	stop := addrStopTerms(docs)
	bi, err := ix.buildBleve(ctx, docs, stop)
	<-sideDone
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.building = false
	var extra []*doc
	if err == nil && !ix.closed && len(ix.touched) > 0 {
		batch := bi.NewBatch()
		for key := range ix.touched {
			if d, ok := ix.docs[key]; ok {
				_ = batch.IndexAdvanced(ix.builder.document(d, stop))
				exact.add(d)
				extra = append(extra, d)
			} else {
				batch.Delete(key)
			}
		}
		err = bi.Batch(batch)
	}
	ix.touched = nil
	if err != nil || ix.closed {
		if bi != nil {
			_ = bi.Close()
		}
		if err != nil {
			ix.buildErr = err
		}
		return
	}
	old := ix.bi
	ix.bi = bi
	ix.exact = exact
	ix.lex = lex
	ix.stop = stop
	ix.extra = extra
	ix.updates = 0
	ix.builds++
	ix.buildDur = time.Since(start)
	if !ix.ready {
		ix.ready = true
		close(ix.readyCh)
	}
	if old != nil {
		_ = old.Close()
	}
}

func (ix *Index) buildBleve(ctx context.Context, docs []*doc, stop stopSet) (bleve.Index, error) {
	bi, err := bleve.NewUsing("", ix.mapping, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("search: create bleve index: %w", err)
	}
	// Batches are submitted by several goroutines: Bleve analyses a batch
	// on its analysis workers but builds the batch's segment in the calling
	// goroutine, so one submitter leaves the other cores idle.
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
		next     = make(chan []*doc)
	)
	for w := 0; w < buildWorkers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range next {
				b := bi.NewBatch()
				for _, d := range chunk {
					_ = b.IndexAdvanced(ix.builder.document(d, stop))
				}
				if err := bi.Batch(b); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("search: index batch: %w", err)
					}
					errMu.Unlock()
				}
			}
		}()
	}
	// Each batch becomes one segment, never merged (in memory, scorch
	// merges nothing): a large index gets larger batches, so that a query
	// visits about 4 segments per build worker (8 at 1M on 2 cores, not
	// 50), while a small one still keeps every worker busy.
	size := max(ix.opts.BatchSize, (len(docs)+4*buildWorkers()-1)/(4*buildWorkers()))
	for i := 0; i < len(docs) && ctx.Err() == nil; i += size {
		next <- docs[i:min(i+size, len(docs))]
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("search: build stopped: %w", err)
	}
	if firstErr != nil {
		_ = bi.Close()
		return nil, firstErr
	}
	return bi, nil
}

// buildWorkers is the number of goroutines that derive documents and
// submit batches while building.
func buildWorkers() int {
	return max(2, min(runtime.GOMAXPROCS(0), 8))
}

// Ready reports whether the index answers queries. Goroutine-safe.
func (ix *Index) Ready() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.ready
}

// Wait blocks until the index is ready, its background build failed, or
// ctx is done. Goroutine-safe.
func (ix *Index) Wait(ctx context.Context) error {
	for {
		select {
		case <-ix.readyCh:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
			ix.mu.RLock()
			err, building := ix.buildErr, ix.building
			ix.mu.RUnlock()
			if err != nil && !building && !ix.Ready() {
				return err
			}
		}
	}
}

// Stats returns the state of the index. Goroutine-safe.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := Stats{Ready: ix.ready, Docs: len(ix.docs), BuildTime: ix.buildDur, Builds: ix.builds, Updates: ix.updates}
	if ix.buildErr != nil {
		s.Err = ix.buildErr.Error()
	}
	return s
}

// Close stops following the geo index and releases the Bleve index.
// Searches after Close fail with ErrClosed. Goroutine-safe.
func (ix *Index) Close() error {
	ix.stopFollow()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	if ix.bi != nil {
		err := ix.bi.Close()
		ix.bi = nil
		return err
	}
	return nil
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
	if !ix.ready {
		return nil, ErrNotReady
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
	tq, walk := ix.textQuery(ctx, m, fuzzy)
	exactKeys = append(exactKeys, ix.lexKeys(m, q, n, fuzzy, walk)...)
	if tq == nil {
		return ix.rank(m, q, limit, uniq(exactKeys)), nil
	}
	var bq query.Query = tq
	if len(q.Layers) > 0 {
		var ls []query.Query
		for _, l := range q.Layers {
			t := bleve.NewTermQuery(string(l))
			t.SetField(fLayer)
			ls = append(ls, t)
		}
		bq = bleve.NewConjunctionQuery(tq, bleve.NewDisjunctionQuery(ls...))
	}
	if q.Center != nil && q.RadiusM > 0 {
		n = max(n, 2000) // filtered by distance afterwards
	}
	req := bleve.NewSearchRequestOptions(bq, n, 0, false)
	res, err := ix.bi.SearchInContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("search: bleve: %w", err)
	}
	keys := make([]string, 0, len(res.Hits)+len(exactKeys))
	keys = append(keys, exactKeys...)
	for _, h := range res.Hits {
		keys = append(keys, h.ID)
	}
	return ix.rank(m, q, limit, uniq(keys)), nil
}

// exactKeys are the keys of the current docs of the given layers (all when
// none) that have a name (or place kind) equal to text. mu is read-held.
func (ix *Index) exactKeys(text string, layers []geo.Layer) []string {
	var keys []string
	for _, d := range ix.exact[text] {
		if ix.docs[d.key] != d {
			continue // replaced or deleted since
		}
		if len(layers) > 0 && !slices.Contains(layers, d.layer) {
			continue
		}
		keys = append(keys, d.key)
	}
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
			for key := range ix.zoneKeys {
				if d := ix.docs[key]; d != nil && geo.DistanceM(*q.Center, d.loc) <= q.RadiusM {
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

// rank scores the candidate documents, applies the thresholds and the
// distance factor, and returns the best limit hits. mu is read-held.
func (ix *Index) rank(m *matcher, q Query, limit int, keys []string) []Hit {
	type cand struct {
		d       *doc
		quality float64 // match quality, before the distance factor
		score   float64
		dist    float64
		how     string
	}
	cs := make([]cand, 0, len(keys))
	bestQ := 0.0
	for _, key := range keys {
		d, ok := ix.docs[key]
		if !ok {
			continue
		}
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
	// Relative threshold on quality, then order by final score.
	kept := cs[:0]
	for _, c := range cs {
		if c.quality >= bestQ*ix.opts.MinRelativeScore {
			kept = append(kept, c)
		}
	}
	slices.SortStableFunc(kept, func(a, b cand) int {
		switch {
		case a.score != b.score:
			return cmpDesc(a.score, b.score)
		case a.dist != b.dist:
			return cmpDesc(b.dist, a.dist)
		case len(a.d.name) != len(b.d.name):
			return len(a.d.name) - len(b.d.name)
		}
		return strings.Compare(a.d.id, b.d.id)
	})
	kept = kept[:min(len(kept), limit)]
	hits := make([]Hit, len(kept))
	for i, c := range kept {
		h := Hit{Score: math.Round(c.score*10000) / 10000, Match: c.how, Layer: c.d.layer, ID: c.d.id,
			Name: c.d.name, Feature: c.d.hit}
		if q.Center != nil {
			h.DistanceM = c.dist
			h.Feature.DistanceM = c.dist
		}
		hits[i] = h
	}
	return hits
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
func (ix *Index) pruneCommon(ctx context.Context, terms []string, field string) []string {
	out, _ := ix.pruneTerms(ctx, terms, field, 1)
	return out
}

// pruneTerms is pruneCommon with a bound on the fallback: when every term
// is common, the rarest one is kept only if it is in at most fallbackShare
// of the documents. rare reports whether a term rarer than maxCommonShare
// was found.
func (ix *Index) pruneTerms(ctx context.Context, terms []string, field string, fallbackShare float64) (out []string, rare bool) {
	terms = uniq(terms)
	if len(terms) == 0 {
		return nil, false
	}
	ir, err := ix.bi.Advanced()
	if err != nil {
		return terms, true
	}
	r, err := ir.Reader()
	if err != nil {
		return terms, true
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil || n == 0 {
		return terms, true
	}
	limit := min(max(uint64(maxCommonShare*float64(n)), 200), maxCommonDocs)
	out = terms[:0:0]
	rarest, rarestDF := "", uint64(1<<63)
	for _, t := range terms {
		tfr, err := r.TermFieldReader(ctx, []byte(t), field, false, false, false)
		if err != nil {
			return terms, true
		}
		df := tfr.Count()
		_ = tfr.Close()
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
func (ix *Index) textQuery(ctx context.Context, m *matcher, fuzzy bool) (tq query.Query, walk bool) {
	pq := m.q
	var or []query.Query
	terms, unis := queryTerms(pq.compact)
	if fuzzy {
		// Pinyin typos are the lexicon's; so are the characters one by
		// one in the bigram+unigram mode.
		if pq.hasHan && m.qLen >= 3 && ix.opts.CJK == CJKUnigram {
			// A typo in a short name kills every bigram: look the
			// characters up one by one.
			for _, u := range ix.pruneCommon(ctx, unis, fName) {
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
				nameTerms, nameRare := ix.pruneTerms(ctx, terms, fName, 1)
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
				addrTerms, _ := ix.pruneTerms(ctx, terms, fAddr, addrShare)
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
