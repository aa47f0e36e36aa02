package search

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// rebuild builds a new generation from docs, then swaps it in after
// replaying the keys written meanwhile. ix.build.running is set by the
// caller. A cancelled ctx stops the build (the old generation, if any,
// stays).
func (ix *Index) rebuild(ctx context.Context) {
	start := time.Now()
	ix.mu.RLock()
	docs := make([]*doc, 0, len(ix.docs.byKey))
	for _, d := range ix.docs.byKey {
		docs = append(docs, d)
	}
	ix.mu.RUnlock()
	slices.SortFunc(docs, func(a, b *doc) int { return strings.Compare(a.key, b.key) })
	gen, restored, err := ix.restoreOrBuild(ctx, docs) // persist.go
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.build.running = false
	touched := ix.build.touched
	ix.build.touched = nil
	if err == nil && !ix.closed {
		err = gen.replay(touched, ix.docs, ix.builder)
	}
	if err != nil || ix.closed {
		gen.close()
		if err != nil {
			ix.build.err = err
		}
		return
	}
	old := ix.gen
	ix.gen = gen
	ix.persist.built(restored, len(touched) > 0)
	ix.build.updates = 0
	ix.build.count++
	ix.build.dur = time.Since(start)
	if !ix.build.ready {
		ix.build.ready = true
		close(ix.readyCh)
	}
	if ix.persist.saving { // a save copies it: closed when the copy is done
		ix.persist.closeAfter = append(ix.persist.closeAfter, old)
	} else {
		old.close()
	}
	if ix.opts.Persist != nil && ix.build.count > 1 {
		// A compaction built its Bleve index in memory: saved now (the
		// save then answers from disk, as after the first build's save),
		// not held on the heap until the next periodic save. An error is
		// kept in Stats.SaveErr.
		go func() { _ = ix.Save(context.Background()) }()
	}
}

// newGeneration builds the Bleve index of docs and, beside it, the
// exact-name map and the lexicon of the same docs. It takes no lock.
func (ix *Index) newGeneration(ctx context.Context, docs []*doc) (generation, error) {
	gen := generation{exact: newExactMap()}
	sideDone := make(chan struct{})
	go func() {
		defer close(sideDone)
		for _, d := range docs {
			gen.exact.add(d)
		}
		gen.lex = buildLexicon(docs, ix.opts.CJK == CJKBigramUnigram)
	}()
	gen.stop = addrStopTerms(docs)
	bi, err := ix.buildBleve(ctx, docs, gen.stop)
	<-sideDone
	gen.bi = bi
	return gen, err
}

// replay brings a new generation up to date with the keys written while
// it was built: their current docs, or their deletion.
func (gen *generation) replay(touched map[string]struct{}, docs docSet, b *docBuilder) error {
	if len(touched) == 0 {
		return nil
	}
	batch := gen.bi.NewBatch()
	for key := range touched {
		if d, ok := docs.byKey[key]; ok {
			gen.add(batch, b, d)
		} else {
			batch.Delete(key)
		}
	}
	return gen.bi.Batch(batch)
}

// close releases the generation's Bleve index, if any.
func (gen *generation) close() {
	if gen.bi != nil {
		_ = gen.bi.Close()
	}
}

func (ix *Index) buildBleve(ctx context.Context, docs []*doc, stop stopSet) (bleve.Index, error) {
	bi, err := bleve.NewUsing("", ix.mapping, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("search: create bleve index: %w", err)
	}
	// Small batches are submitted by several goroutines: Bleve analyses a
	// batch on its analysis workers but builds the batch's segment in the
	// calling goroutine, so one submitter leaves the other cores idle.
	// Large ones one at a time, to bound the memory in flight (submitters).
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
		next     = make(chan []*doc)
	)
	size := batchSize(len(docs), ix.opts.BatchSize)
	for w := 0; w < submitters(size, ix.opts.BatchSize); w++ {
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

// batchSize is the number of documents per Bleve batch when building n
// documents with the smallest batch size smallest. Each batch becomes one
// segment, never merged (in memory, scorch merges nothing): a large index
// gets larger batches, so that a query visits about 4 segments per build
// worker (8 at 1M on 2 cores, not 50), while a small one still keeps
// every worker busy.
func batchSize(n, smallest int) int {
	return max(smallest, (n+4*buildWorkers()-1)/(4*buildWorkers()))
}

// largeBatches is the batch size, in multiples of Options.BatchSize,
// from which a build submits one batch at a time (submitters).
const largeBatches = 4

// submitters is the number of goroutines that submit batches of size
// documents while building, given the smallest batch size smallest. A
// batch in flight holds its Bleve documents, their analysis (token
// positions and frequencies of every field) and its segment under
// construction at once: ~1 GB for a batch of 156,000 documents at 1M
// entities (heap profile in docs/memory.md). Large
// batches are therefore submitted one at a time (Bleve still analyses
// each batch on all its analysis workers; only the segment is built on
// one goroutine, beside the exact-name map and the lexicon built in
// parallel), small ones by every build worker. The segments, and so the
// answers, are the same either way.
func submitters(size, smallest int) int {
	if size >= largeBatches*smallest {
		return 1
	}
	return buildWorkers()
}

// add indexes d, written since the generation was built, into batch (of
// gen.bi) and into the side structures.
func (gen *generation) add(batch *bleve.Batch, b *docBuilder, d *doc) {
	_ = batch.IndexAdvanced(b.document(d, gen.stop))
	gen.exact.add(d)
	gen.extra = append(gen.extra, d)
}
