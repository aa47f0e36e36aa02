package search

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/marketgeo/marketgeo/geo"
)

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
	// Restored reports that the first generation was the persisted index
	// (Options.Persist) brought up to date, not a build.
	Restored bool `json:"restored,omitempty"`
	// RestoreErr says why the persisted index was not used (it wraps
	// ErrBadPersisted), when one was to be.
	RestoreErr string `json:"restore_error,omitempty"`
	// SaveErr is the error of the last failed Save.
	SaveErr string `json:"save_error,omitempty"`
	// OnDisk reports that the Bleve index answers from its segments on
	// disk in Persist.Dir (restored, or reopened after a save), not from
	// segments held in memory.
	OnDisk bool `json:"on_disk,omitempty"`
}

// Index is a Bleve-backed full-text index of the names and addresses of a
// geo.Index's features, kept current by following its commits. It is safe
// for concurrent use: any number of goroutines may call Search while the
// geo index is written.
//
// Its parts, each in its own file: the searchable documents (docSet,
// follow.go keeps them current with the geo index), the generation of the
// last full build (Bleve, the exact-name map, the lexicon and the stop
// terms built together from the same documents: build.go), the state of
// the builds (buildState), and the queries over them (query.go, and
// place.go for the placing policy of nearby?place=). One RWMutex guards
// the three states, as a live update changes all of them at once.
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

	codes codeCache // code.go: the USCCs in order, for prefix queries

	mu      sync.RWMutex
	docs    docSet
	gen     generation
	build   buildState
	persist persistState // persist.go
	closed  bool
}

// docSet is the searchable documents of the geo index's current
// features, by key.
type docSet struct {
	byKey    map[string]*doc
	zoneKeys map[string]struct{} // keys of the searchable zones
}

func newDocSet() docSet {
	return docSet{byKey: map[string]*doc{}, zoneKeys: map[string]struct{}{}}
}

// put adds or replaces d.
func (ds docSet) put(d *doc) {
	ds.byKey[d.key] = d
	if d.layer == geo.LayerZones {
		ds.zoneKeys[d.key] = struct{}{}
	}
}

// remove deletes the document of key, reporting whether there was one.
func (ds docSet) remove(key string) bool {
	if _, ok := ds.byKey[key]; !ok {
		return false
	}
	delete(ds.byKey, key)
	delete(ds.zoneKeys, key)
	return true
}

// current reports whether d is the current document of its key (not
// replaced or deleted since a structure recorded it).
func (ds docSet) current(d *doc) bool { return ds.byKey[d.key] == d }

// generation is one full build: the Bleve index and the structures built
// with it from the same documents, swapped in together by a rebuild and
// extended together by live updates.
type generation struct {
	bi    bleve.Index
	exact exactMap // whole names → docs
	lex   *lexicon // pinyin and single characters
	stop  stopSet  // address terms left out of bi
	extra []*doc   // docs written since lex was built
	disk  bool     // bi is opened from Persist.Dir, not held in memory
}

// buildState is the state of the full builds: the first, in the
// background or not, and the compactions after many live updates.
type buildState struct {
	ready   bool
	running bool
	touched map[string]struct{} // keys written while a build runs
	updates int                 // live-update commits since the last build
	count   int                 // full builds done
	dur     time.Duration       // of the last full build
	err     error               // of a failed build or live update
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
		docs:       newDocSet(),
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
	ix.build.running = true
	ix.build.touched = map[string]struct{}{}
	snap, stop := idx.Follow(ix.apply)
	ix.stopFollow = stop
	if opts.Background {
		go ix.firstBuild(ctx, snap)
		return ix, nil
	}
	ix.firstBuild(ctx, snap)
	ix.mu.RLock()
	err = ix.build.err
	ix.mu.RUnlock()
	if err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

// Ready reports whether the index answers queries. Goroutine-safe.
func (ix *Index) Ready() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.build.ready
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
			err, building := ix.build.err, ix.build.running
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
	s := Stats{Ready: ix.build.ready, Docs: len(ix.docs.byKey), BuildTime: ix.build.dur, Builds: ix.build.count, Updates: ix.build.updates}
	if ix.build.err != nil {
		s.Err = ix.build.err.Error()
	}
	s.Restored = ix.persist.restored
	if ix.persist.restoreErr != nil {
		s.RestoreErr = ix.persist.restoreErr.Error()
	}
	if ix.persist.saveErr != nil {
		s.SaveErr = ix.persist.saveErr.Error()
	}
	s.OnDisk = ix.gen.disk
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
	if ix.persist.saving { // the save closes it when its copy is done
		ix.persist.closeAfter = append(ix.persist.closeAfter, ix.gen)
		ix.gen.bi = nil
		return nil
	}
	if ix.gen.bi != nil {
		err := ix.gen.bi.Close()
		ix.gen.bi = nil
		return err
	}
	return nil
}
