package geo

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Background repacking of the point layers.
//
// A point layer's tree answers from its packed base plus the delta of
// points written since and the set of base points they replaced; both
// cost every query that reaches them (at 1M entities, 6,000 written points
// cost 4-18 % more CPU per 200 m nearby query). When a commit leaves a
// layer's churn (delta plus dead) at Options.RepackChurn or more, the
// index starts a repack of that layer: a goroutine packs the live points
// of the commit's published, immutable tree into a new base without the
// writer's lock, while later commits go on and log their point writes on
// their trees. When the new base is ready, the goroutine takes the lock
// for a moment, replays the logged writes onto it (into a fresh delta and
// dead set) and publishes a snapshot that differs from the current one
// only by that layer's tree: the same features and the same version.
// Readers see the old tree or the new one, whole; writers never wait for
// the packing. A rebuild inside a commit (a bulk load, or churn past a
// quarter of the base) supersedes a repack in flight, whose result is
// then dropped. At most one repack per layer runs at a time.

// repackJob is a background repack of one point layer's tree.
type repackJob struct {
	layer Layer
	from  *ptree // the published tree packed
	// ended is set when the job stopped without swapping its tree in
	// (cancelled); the next commit then stops logging for it.
	ended atomic.Bool
}

// pointTree returns where s keeps the tree of the point layer l.
func (s *Snapshot) pointTree(l Layer) **ptree {
	switch l {
	case LayerEntities:
		return &s.entities.tree
	case LayerPlaces:
		return &s.places.tree
	case LayerBuildings:
		return &s.buildings.tree
	}
	return nil
}

// planRepacks starts a repack job on each tree of s (the writer's private
// clone, about to be published) whose churn has reached the threshold and
// that has none in flight. It runs under ix.mu; the jobs are launched
// once s is published.
func (ix *Index) planRepacks(s *Snapshot) []*repackJob {
	if ix.opts.RepackChurn < 0 {
		return nil
	}
	var jobs []*repackJob
	for _, l := range [...]Layer{LayerEntities, LayerPlaces, LayerBuildings} {
		t := *s.pointTree(l)
		if t.job != nil && t.job.ended.Load() {
			t.job, t.log = nil, nil
		}
		if t.job != nil || ix.closed || t.churn() < ix.opts.RepackChurn {
			continue
		}
		j := &repackJob{layer: l, from: t}
		t.job, t.log = j, nil
		jobs = append(jobs, j)
	}
	return jobs
}

// launchRepacks runs jobs in the background; under ix.mu.
func (ix *Index) launchRepacks(jobs []*repackJob) {
	for _, j := range jobs {
		ix.repacks.Add(1)
		if ix.launch != nil {
			ix.launch(j)
			continue
		}
		go ix.runRepack(j)
	}
}

// runRepack packs j's tree and swaps the result in.
func (ix *Index) runRepack(j *repackJob) {
	defer ix.repacks.Done()
	base, err := packLive(ix.ctx, j.from)
	if err != nil {
		j.ended.Store(true)
		return
	}
	ix.swapRepack(j, base)
}

// swapRepack publishes base as the tree of j's layer, with the point
// writes logged since j's tree replayed onto it, unless a rebuild has
// superseded j. It reports whether it did.
func (ix *Index) swapRepack(j *repackJob, base *packed) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	cur := ix.cur.Load()
	t := *cur.pointTree(j.layer)
	if t.job != j {
		return false
	}
	// the new dead set's chunks carry the current version, which no later
	// commit uses as its generation: they are copied before any change
	nt := &ptree{base: base, dead: deadSet{gen: cur.version}, delta: &rtree.RTreeG[pitem]{}}
	for _, o := range t.log {
		if o.insert {
			nt.insert(o.p, o.it)
		} else {
			nt.remove(o.p, o.it)
		}
	}
	s := *cur
	*s.pointTree(j.layer) = nt
	ix.cur.Store(&s)
	return true
}

// packStep is how many points packLive copies between checks of its
// context.
const packStep = 1 << 16

// packLive packs the live points of t (a published tree, not changed
// meanwhile) into a new base: the base's live points, already in Hilbert
// order, merged with the delta's points sorted by their Hilbert key, so
// that only the delta is sorted. It returns nil for no points, and the
// context's error when it is cancelled.
func packLive(ctx context.Context, t *ptree) (*packed, error) {
	type keyed struct {
		k uint64
		p ppoint
	}
	ds := make([]keyed, 0, t.delta.Len())
	t.delta.Scan(func(mn, _ [2]float64, it pitem) bool {
		ds = append(ds, keyed{HilbertIndex(orb.Point(mn)), ppoint{x: mn[0], y: mn[1], cosLat: it.cosLat, slot: it.slot, bits: it.bits}})
		return true
	})
	slices.SortFunc(ds, func(a, b keyed) int { return cmp.Compare(a.k, b.k) })
	var bp []ppoint
	if t.base != nil {
		bp = t.base.pts
	}
	out := make([]ppoint, 0, len(bp)-t.ndead+len(ds))
	// copyLive appends the live base points of [s, e)
	copyLive := func(s, e int) error {
		for ; s < e; s += packStep {
			ce := min(s+packStep, e)
			if t.ndead == 0 || !t.dead.anyIn(s, ce) {
				out = append(out, bp[s:ce]...)
			} else {
				for j := s; j < ce; j++ {
					if !t.dead.has(j) {
						out = append(out, bp[j])
					}
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	from := 0
	for _, d := range ds {
		// the first base point from here on whose key is not below d's
		at := from + sort.Search(len(bp)-from, func(i int) bool {
			q := &bp[from+i]
			return HilbertIndex(orb.Point{q.x, q.y}) >= d.k
		})
		if err := copyLive(from, at); err != nil {
			return nil, err
		}
		out = append(out, d.p)
		from = at
	}
	if err := copyLive(from, len(bp)); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	p := packSorted(out)
	return p, ctx.Err()
}

// Close stops the index's background work: it cancels the repacks in
// flight, waits for them to end and starts no more (a commit still
// rebuilds a tree whose churn passes a quarter of its points). The index
// stays usable. Close is safe for concurrent use and may be called more
// than once.
func (ix *Index) Close() {
	ix.mu.Lock()
	ix.closed = true
	ix.mu.Unlock()
	ix.cancel()
	ix.repacks.Wait()
}
