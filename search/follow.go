package search

import (
	"context"
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/marketgeo/marketgeo/geo"
)

// firstBuild loads the snapshot and builds the first Bleve index, or
// records the error of ctx when it is cancelled meanwhile.
func (ix *Index) firstBuild(ctx context.Context, snap *geo.Snapshot) {
	if err := ix.loadSnapshot(ctx, snap); err != nil {
		ix.mu.Lock()
		ix.build.err = fmt.Errorf("search: build stopped: %w", err)
		ix.build.running = false
		ix.build.touched = nil
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
			var a docArena // this worker's (docs.go)
			for i, n := k, 0; i < len(fs); i, n = i+w, n+1 {
				if n%256 == 0 && ctx.Err() != nil {
					return
				}
				docs[i] = ix.docOf(fs[i].v, &a)
			}
		}(k)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if len(ix.docs.byKey) == 0 {
		// sized once for all: grown from empty, its tables would be
		// between half and seven eighths full
		ix.docs.byKey = make(map[string]*doc, len(docs))
	}
	for _, d := range docs {
		if d == nil {
			continue
		}
		if _, later := ix.build.touched[d.key]; !later {
			ix.docs.put(d)
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
	if ix.gen.bi != nil {
		batch = ix.gen.bi.NewBatch()
	}
	for _, c := range cs.Changes {
		key := docKey(c.Layer, c.ID)
		var d *doc
		if c.New != nil {
			d = ix.docOf(c.New, nil)
		}
		if d == nil {
			if !ix.docs.remove(key) {
				continue
			}
			if batch != nil {
				batch.Delete(key)
			}
		} else {
			ix.docs.put(d)
			if batch != nil {
				ix.gen.add(batch, ix.builder, d)
			}
		}
		if ix.build.running {
			ix.build.touched[key] = struct{}{}
		}
		ix.persist.noteChange(key)
	}
	if batch != nil && batch.Size() > 0 {
		if err := ix.gen.bi.Batch(batch); err != nil {
			ix.build.err = fmt.Errorf("search: live update: %w", err)
		}
		ix.build.updates++
		if (ix.build.updates >= ix.opts.CompactAfter || len(ix.gen.extra) > maxExtra) && !ix.build.running {
			ix.build.running = true
			ix.build.touched = map[string]struct{}{}
			go ix.rebuild(context.Background())
		}
	}
}
