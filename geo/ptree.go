package geo

import (
	"context"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// ptree is the spatial index of a point layer. Bulk loads and compactions
// build a static packed R-tree (base): the points sorted along the Hilbert
// curve, in leaves of pNode points with a box per leaf and per group of
// pNode boxes above, in flat arrays, so that a radius query scans
// contiguous memory with no callback per point. Points written since go to
// a tidwall R-tree (delta); base points removed since are marked dead. When
// the delta and the dead grow past a quarter of the base, the next commit
// rebuilds the base from every live point; long before that, a background
// repack (repack.go) packs a published copy of the tree off the writer's
// lock and swaps the result in.
//
// A ptree is copied for each snapshot (copyFor): the base is shared, the
// dead set is copied by chunks on write, and the delta is copied lazily by
// tidwall's copy-on-write.
type ptree struct {
	base  *packed
	dead  deadSet
	ndead int
	delta *rtree.RTreeG[pitem]
	// pending holds the points of a bulk load into an empty layer until
	// settle packs them; it is always empty in a published snapshot.
	pending []ppoint
	// pendingSorted says that pending is in Hilbert order already.
	pendingSorted bool
	// job is the background repack packing an earlier state of this tree
	// (nil for none), and log the point writes since that state, which
	// the repack replays onto its result. Both are carried from snapshot
	// to snapshot and touched only under the index's writer lock; a
	// commit that fails may append to log's array past the published
	// length, which the next commit overwrites.
	job *repackJob
	log []treeOp
}

// treeOp is a point write logged for a background repack's replay.
type treeOp struct {
	p      orb.Point
	it     pitem
	insert bool
}

func newPtree() *ptree { return &ptree{delta: &rtree.RTreeG[pitem]{}} }

func (t *ptree) copyFor(gen uint64) *ptree {
	return &ptree{base: t.base, dead: t.dead.copyFor(gen), ndead: t.ndead, delta: t.delta.Copy(), job: t.job, log: t.log}
}

// insert adds a point to the delta.
func (t *ptree) insert(p orb.Point, it pitem) {
	if t.job != nil {
		t.log = append(t.log, treeOp{p: p, it: it, insert: true})
	}
	t.delta.Insert(p, p, it)
}

// remove deletes the point with it.slot at p: from the base when it lives
// there, from the delta otherwise.
func (t *ptree) remove(p orb.Point, it pitem) {
	if t.job != nil {
		t.log = append(t.log, treeOp{p: p, it: it})
	}
	if b := t.base; b != nil && int(it.slot) < len(b.posOfSlot) {
		if i := b.posOfSlot[it.slot]; i >= 0 && !t.dead.has(int(i)) && b.pts[i].x == p[0] && b.pts[i].y == p[1] {
			t.dead.set(int(i))
			t.ndead++
			return
		}
	}
	t.delta.Delete(p, p, it)
}

// len returns the number of live points.
func (t *ptree) len() int {
	n := t.delta.Len() - t.ndead
	if t.base != nil {
		n += len(t.base.pts)
	}
	return n
}

// bounds returns the bounding box of the live points.
func (t *ptree) bounds() (orb.Bound, bool) {
	var b orb.Bound
	ok := false
	if t.base != nil && len(t.base.pts)-t.ndead > 0 {
		r := t.base.root()
		if t.ndead > 0 {
			r = t.liveBaseBounds()
		}
		b, ok = orb.Bound{Min: orb.Point{r.minX, r.minY}, Max: orb.Point{r.maxX, r.maxY}}, true
	}
	if t.delta.Len() > 0 {
		mn, mx := t.delta.Bounds()
		db := orb.Bound{Min: mn, Max: mx}
		if ok {
			b = b.Union(db)
		} else {
			b, ok = db, true
		}
	}
	return b, ok
}

// liveBaseBounds returns the box of the base's live points: the box of
// each node that has no dead point, the points themselves where it has.
// The walk opens only the nodes above dead points.
func (t *ptree) liveBaseBounds() pbox {
	b := t.base
	out := pbox{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	add := func(q pbox) {
		out.minX, out.minY = math.Min(out.minX, q.minX), math.Min(out.minY, q.minY)
		out.maxX, out.maxY = math.Max(out.maxX, q.maxX), math.Max(out.maxY, q.maxY)
	}
	var walk func(lv, i, span int)
	walk = func(lv, i, span int) {
		s, e := i*span, min(i*span+span, len(b.pts))
		if !t.dead.anyIn(s, e) {
			add(b.levels[lv][i])
			return
		}
		if lv == 0 {
			for j := s; j < e; j++ {
				if !t.dead.has(j) {
					add(pbox{b.pts[j].x, b.pts[j].y, b.pts[j].x, b.pts[j].y})
				}
			}
			return
		}
		for c := i * pNode; c < min(i*pNode+pNode, len(b.levels[lv-1])); c++ {
			walk(lv-1, c, span/pNode)
		}
	}
	top := len(b.levels) - 1
	span := pNode // points under a node of level 0
	for range top {
		span *= pNode
	}
	walk(top, 0, span)
	return out
}

// search calls fn for every live point in the box [min, max] until fn
// returns false.
func (t *ptree) search(min, max [2]float64, fn func(p [2]float64, it pitem) bool) {
	if b := t.base; b != nil && len(b.pts) > 0 {
		q := pbox{min[0], min[1], max[0], max[1]}
		if !b.search(q, len(b.levels)-1, 0, &t.dead, t.ndead > 0, fn) {
			return
		}
	}
	t.delta.Search(min, max, func(mn, _ [2]float64, it pitem) bool { return fn(mn, it) })
}

// churn returns the number of points written since the base was packed
// and of base points they replaced or removed.
func (t *ptree) churn() int { return t.delta.Len() + t.ndead }

// needsRebuild reports whether the delta and the dead have grown enough
// that a rebuild in the commit pays for itself.
func (t *ptree) needsRebuild() bool {
	n := 0
	if t.base != nil {
		n = len(t.base.pts)
	}
	churn := t.churn()
	return churn >= 2048 && churn*4 >= n
}

// settle ends a commit: it packs a bulk load's pending points, or
// rebuilds the base when the delta and the dead have grown too much.
func (t *ptree) settle() {
	if len(t.pending) > 0 || t.needsRebuild() {
		t.rebuild()
	}
}

// rebuild packs every live point (and the pending ones) into a new base
// and empties the delta.
func (t *ptree) rebuild() {
	pts := t.pending
	t.pending = nil
	sorted := t.pendingSorted
	t.pendingSorted = false
	// a background repack of the tree before this one is superseded
	t.job, t.log = nil, nil
	if t.base == nil && t.delta.Len() == 0 && sorted {
		// a bulk load into an empty layer arrives in Hilbert order
		t.base = packSorted(pts)
		t.dead = deadSet{}
		t.ndead = 0
		return
	}
	if b := t.base; b != nil {
		pts = slices.Grow(pts, len(b.pts)-t.ndead+t.delta.Len())
		for i := range b.pts {
			if t.ndead == 0 || !t.dead.has(i) {
				pts = append(pts, b.pts[i])
			}
		}
	}
	t.delta.Scan(func(mn, _ [2]float64, it pitem) bool {
		pts = append(pts, ppoint{x: mn[0], y: mn[1], cosLat: it.cosLat, slot: it.slot, bits: it.bits})
		return true
	})
	if len(pts) == 0 {
		t.base = nil
	} else {
		t.base = buildPacked(pts)
	}
	t.dead = deadSet{}
	t.ndead = 0
	t.delta = &rtree.RTreeG[pitem]{}
}

// pNode is the fan-out of the packed tree: points per leaf and boxes per
// upper node.
const pNode = 16

type ppoint struct {
	x, y, cosLat float64
	slot, bits   uint32
}

type pbox struct{ minX, minY, maxX, maxY float64 }

func (b *pbox) intersects(q *pbox) bool {
	return b.minX <= q.maxX && b.maxX >= q.minX && b.minY <= q.maxY && b.maxY >= q.minY
}

// packed is an immutable Hilbert-packed R-tree of points. levels[0] holds
// a box per leaf of pNode points, levels[k] a box per pNode boxes of
// levels[k-1]; the last level holds the root alone.
type packed struct {
	pts       []ppoint
	levels    [][]pbox
	posOfSlot []int32 // slot → position in pts, -1 for none
}

// buildPacked sorts pts along the Hilbert curve (in place) and packs them.
func buildPacked(pts []ppoint) *packed {
	type keyed struct {
		k uint64
		i int32
	}
	ks := make([]keyed, len(pts))
	for i := range pts {
		ks[i] = keyed{HilbertIndex(orb.Point{pts[i].x, pts[i].y}), int32(i)}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		switch {
		case a.k < b.k:
			return -1
		case a.k > b.k:
			return 1
		}
		return int(a.i - b.i)
	})
	sorted := make([]ppoint, len(pts))
	for j, k := range ks {
		sorted[j] = pts[k.i]
	}
	return packSorted(sorted)
}

// packSorted packs points already in Hilbert order (it keeps sorted).
func packSorted(sorted []ppoint) *packed {
	maxSlot := uint32(0)
	for j := range sorted {
		maxSlot = max(maxSlot, sorted[j].slot)
	}
	p := &packed{pts: sorted}
	if len(sorted) > 0 {
		p.posOfSlot = make([]int32, maxSlot+1)
		for i := range p.posOfSlot {
			p.posOfSlot[i] = -1
		}
		for j := range sorted {
			p.posOfSlot[sorted[j].slot] = int32(j)
		}
	}
	// leaves
	var lv []pbox
	for s := 0; s < len(sorted); s += pNode {
		e := min(s+pNode, len(sorted))
		b := pbox{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, q := range sorted[s:e] {
			b.minX, b.minY = math.Min(b.minX, q.x), math.Min(b.minY, q.y)
			b.maxX, b.maxY = math.Max(b.maxX, q.x), math.Max(b.maxY, q.y)
		}
		lv = append(lv, b)
	}
	p.levels = append(p.levels, lv)
	for len(lv) > 1 {
		var up []pbox
		for s := 0; s < len(lv); s += pNode {
			e := min(s+pNode, len(lv))
			b := lv[s]
			for _, c := range lv[s+1 : e] {
				b.minX, b.minY = math.Min(b.minX, c.minX), math.Min(b.minY, c.minY)
				b.maxX, b.maxY = math.Max(b.maxX, c.maxX), math.Max(b.maxY, c.maxY)
			}
			up = append(up, b)
		}
		p.levels = append(p.levels, up)
		lv = up
	}
	return p
}

func (p *packed) root() pbox { return p.levels[len(p.levels)-1][0] }

// search visits node i of level lv (and below) for points in q.
func (p *packed) search(q pbox, lv, i int, dead *deadSet, hasDead bool, fn func([2]float64, pitem) bool) bool {
	if !p.levels[lv][i].intersects(&q) {
		return true
	}
	if lv == 0 {
		s, e := i*pNode, min(i*pNode+pNode, len(p.pts))
		for j := s; j < e; j++ {
			pt := &p.pts[j]
			if pt.x < q.minX || pt.x > q.maxX || pt.y < q.minY || pt.y > q.maxY {
				continue
			}
			if hasDead && dead.has(j) {
				continue
			}
			if !fn([2]float64{pt.x, pt.y}, pitem{slot: pt.slot, bits: pt.bits, cosLat: pt.cosLat}) {
				return false
			}
		}
		return true
	}
	s, e := i*pNode, min(i*pNode+pNode, len(p.levels[lv-1]))
	for c := s; c < e; c++ {
		if !p.search(q, lv-1, c, dead, hasDead, fn) {
			return false
		}
	}
	return true
}

// radiusScan is the hot loop of Nearby on the base: it appends every live
// point of q within the haversine term aMax of (lon0, lat0) that keep
// accepts.
type radiusScan struct {
	q                pbox
	lon0, lat0, cos0 float64
	aMax             float64
	dead             *deadSet
	hasDead          bool
	keep             func(pitem) bool
	out              []cand
}

func (p *packed) radius(r *radiusScan, lv, i int) {
	if lv == 0 {
		s, e := i*pNode, min(i*pNode+pNode, len(p.pts))
		// the scan's fields in locals: appending through r would make
		// the compiler reload them for every point
		q := r.q
		lon0, lat0, cos0, aMax := r.lon0, r.lat0, r.cos0, r.aMax
		hasDead, keep, out := r.hasDead, r.keep, r.out
		for j := s; j < e; j++ {
			pt := &p.pts[j]
			if pt.x < q.minX || pt.x > q.maxX || pt.y < q.minY || pt.y > q.maxY {
				continue
			}
			// haversineA, with sinHalf's small-angle series written out
			// (the compiler does not inline sinHalf); the same arithmetic,
			// so both coordinates must be in the same series' range
			hy := (pt.y - lat0) * deg2rad * 0.5
			hx := (pt.x - lon0) * deg2rad * 0.5
			hy2, hx2 := hy*hy, hx*hx
			var a float64
			if hy2 < 1e-6 && hx2 < 1e-6 {
				s1 := hy * (1 + hy2*(-1.0/6+hy2*(1.0/120)))
				s2 := hx * (1 + hx2*(-1.0/6+hx2*(1.0/120)))
				a = s1*s1 + cos0*pt.cosLat*s2*s2
			} else if hy2 >= 1e-6 && hx2 >= 1e-6 && hy2 < 0.0025 && hx2 < 0.0025 {
				s1 := hy * (1 + hy2*(-1.0/6+hy2*(1.0/120+hy2*(-1.0/5040+hy2*(1.0/362880)))))
				s2 := hx * (1 + hx2*(-1.0/6+hx2*(1.0/120+hx2*(-1.0/5040+hx2*(1.0/362880)))))
				a = s1*s1 + cos0*pt.cosLat*s2*s2
			} else {
				a = haversineA(lon0, lat0, cos0, pt.x, pt.y, pt.cosLat)
			}
			if a > aMax {
				continue
			}
			if hasDead && r.dead.has(j) {
				continue
			}
			if keep != nil && !keep(pitem{slot: pt.slot, bits: pt.bits, cosLat: pt.cosLat}) {
				continue
			}
			out = append(out, cand{a, pt.slot})
		}
		r.out = out
		return
	}
	boxes := p.levels[lv-1]
	s, e := i*pNode, min(i*pNode+pNode, len(boxes))
	for c := s; c < e; c++ {
		if boxes[c].intersects(&r.q) {
			p.radius(r, lv-1, c)
		}
	}
}

// radiusCands appends to buf the live points within aMax of center inside
// the boxes bs (the cap's bounds), unsorted.
func (t *ptree) radiusCands(ctx context.Context, cb capBoxes, center orb.Point, aMax float64, keep func(pitem) bool, buf []cand) ([]cand, error) {
	lon0, lat0 := center[0], center[1]
	cos0 := math.Cos(lat0 * deg2rad)
	if b := t.base; b != nil && len(b.pts) > 0 {
		top := len(b.levels) - 1
		for _, bb := range cb.b[:cb.n] {
			r := radiusScan{q: pbox{bb.Min[0], bb.Min[1], bb.Max[0], bb.Max[1]}, lon0: lon0, lat0: lat0, cos0: cos0, aMax: aMax,
				dead: &t.dead, hasDead: t.ndead > 0, keep: keep, out: buf}
			if b.levels[top][0].intersects(&r.q) {
				b.radius(&r, top, 0)
			}
			buf = r.out
		}
		if err := ctx.Err(); err != nil {
			return buf, err
		}
	}
	if t.delta.Len() == 0 {
		return buf, nil
	}
	n := 0
	var err error
	for _, bb := range cb.b[:cb.n] {
		t.delta.Search(bb.Min, bb.Max, func(min, _ [2]float64, it pitem) bool {
			a := haversineA(lon0, lat0, cos0, min[0], min[1], it.cosLat)
			if a <= aMax && (keep == nil || keep(it)) {
				buf = append(buf, cand{a, it.slot})
			}
			n++
			if n%yieldStep == 0 && ctx.Err() != nil {
				err = ctx.Err()
				return false
			}
			return true
		})
	}
	return buf, err
}

// nearest calls fn with the k nearest live points that ok accepts, in
// order of distance (haversine term a) from center and, at equal
// distances, of tie (which orders the points' features by ID), until fn
// returns false. It merges the k best of a best-first walk of the base
// with the k best of the delta's own nearest-first order.
func (t *ptree) nearest(ctx context.Context, center orb.Point, k int, ok func(pitem) bool, tie func(x, y pitem) int, fn func(it pitem, a float64) bool) error {
	// the order of the answer: distance, then tie
	order := func(x, y kent) int { return kcmp(x, y, tie) }
	lon0, lat0 := center[0], center[1]
	cos0 := math.Cos(lat0 * deg2rad)
	// the delta's k nearest accepted points, in order
	var ds []kent
	var err error
	steps := 0
	tick := func() bool {
		steps++
		if steps%yieldStep == 0 && ctx.Err() != nil {
			err = ctx.Err()
			return false
		}
		return true
	}
	if t.delta.Len() > 0 {
		t.delta.Nearby(func(min, max [2]float64, it pitem, item bool) float64 {
			if item {
				return haversineA(lon0, lat0, cos0, min[0], min[1], it.cosLat)
			}
			return boxLowerBoundA(lon0, lat0, cos0, min, max)
		}, func(_, _ [2]float64, it pitem, a float64) bool {
			// the items come nearest first; past the k-th, those at its
			// distance still compete for the last places by tie
			if len(ds) >= k && a > ds[len(ds)-1].a {
				return false
			}
			if ok(it) {
				ds = append(ds, kent{a, it})
			}
			return tick()
		})
		if err != nil {
			return err
		}
		slices.SortFunc(ds, order)
		ds = ds[:min(len(ds), k)]
	}
	di := 0
	// emitDelta emits the delta's points that come before c
	emitDelta := func(c kent) bool {
		for di < len(ds) && order(ds[di], c) < 0 {
			if !fn(ds[di].it, ds[di].a) {
				return false
			}
			di++
		}
		return true
	}
	if b := t.base; b != nil && len(b.pts) > 0 {
		// best-first over the nodes, keeping the k best accepted points in
		// a bounded max-heap; a node is opened only while it may hold a
		// point nearer than the k-th best so far
		best := kbest{k: k, h: make([]kent, 0, k), tie: tie}
		h := make(nheap, 0, 64)
		top := len(b.levels) - 1
		r := b.levels[top][0]
		h.push(nent{a: boxLowerBoundA(lon0, lat0, cos0, [2]float64{r.minX, r.minY}, [2]float64{r.maxX, r.maxY}), lv: int32(top), i: 0})
		hasDead := t.ndead > 0
		for len(h) > 0 {
			if !tick() {
				return err
			}
			e := h.pop()
			if best.full() && e.a > best.worst() {
				break
			}
			if e.lv == 0 {
				s, end := int(e.i)*pNode, min(int(e.i)*pNode+pNode, len(b.pts))
				for j := s; j < end; j++ {
					pt := &b.pts[j]
					a := haversineA(lon0, lat0, cos0, pt.x, pt.y, pt.cosLat)
					if best.full() && a > best.worst() {
						continue
					}
					if hasDead && t.dead.has(j) {
						continue
					}
					it := pitem{slot: pt.slot, bits: pt.bits, cosLat: pt.cosLat}
					if best.full() && a == best.worst() && tie(it, best.h[0].it) >= 0 {
						continue
					}
					if !ok(it) {
						continue
					}
					best.push(kent{a, it})
				}
				continue
			}
			boxes := b.levels[e.lv-1]
			s, end := int(e.i)*pNode, min(int(e.i)*pNode+pNode, len(boxes))
			for c := s; c < end; c++ {
				bx := &boxes[c]
				lb := boxLowerBoundA(lon0, lat0, cos0, [2]float64{bx.minX, bx.minY}, [2]float64{bx.maxX, bx.maxY})
				if best.full() && lb > best.worst() {
					continue
				}
				h.push(nent{a: lb, lv: e.lv - 1, i: int32(c)})
			}
		}
		res := best.h
		slices.SortFunc(res, order)
		for _, c := range res {
			if !emitDelta(c) {
				return nil
			}
			if !fn(c.it, c.a) {
				return nil
			}
		}
	}
	for ; di < len(ds); di++ {
		if !fn(ds[di].it, ds[di].a) {
			return nil
		}
	}
	return nil
}

// kent is a point kept by kbest.
type kent struct {
	a  float64
	it pitem
}

// kbest keeps the k first entries seen in the order (a, tie), in a
// max-heap.
type kbest struct {
	k   int
	h   []kent
	tie func(x, y pitem) int
}

func (b *kbest) full() bool           { return len(b.h) >= b.k }
func (b *kbest) worst() float64       { return b.h[0].a }
func (b *kbest) worse(x, y kent) bool { return kcmp(x, y, b.tie) > 0 }

// kcmp orders entries by distance, then by tie.
func kcmp(x, y kent, tie func(x, y pitem) int) int {
	if c := cmpFloat(x.a, y.a); c != 0 {
		return c
	}
	return tie(x.it, y.it)
}

// push adds e; when full, e must come before the worst, which it replaces.
// The heap's moves are written out: through siftUp and siftDown, each
// comparison would be a call of a method value.
func (b *kbest) push(e kent) {
	h := b.h
	if len(h) < b.k {
		h = append(h, e)
		i := len(h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !b.worse(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
		b.h = h
		return
	}
	h[0] = e // replace the worst
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		c := l
		if r := l + 1; r < len(h) && b.worse(h[r], h[l]) {
			c = r
		}
		if !b.worse(h[c], h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// nent is an entry of the best-first queue: a node of level lv.
type nent struct {
	a  float64
	lv int32
	i  int32
}

// nheap is a binary min-heap of nodes on their lower bound a.
type nheap []nent

func nless(x, y nent) bool { return x.a < y.a }

func (h *nheap) push(e nent) {
	*h = append(*h, e)
	siftUp(*h, len(*h)-1, nless)
}

func (h *nheap) pop() nent {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	siftDown(*h, 0, nless)
	return top
}

// siftUp and siftDown restore a binary heap ordered by before (the root
// comes before every other entry) after s[i] changed.
func siftUp[T any](s []T, i int, before func(x, y T) bool) {
	for i > 0 {
		p := (i - 1) / 2
		if !before(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func siftDown[T any](s []T, i int, before func(x, y T) bool) {
	n := len(s)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && before(s[r], s[l]) {
			m = r
		}
		if !before(s[m], s[i]) {
			return
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
}

// deadChunkBits is log2 of the positions per chunk of a dead set.
const deadChunkBits = 12

type deadChunk struct {
	gen uint64
	w   [1 << (deadChunkBits - 6)]uint64
}

// deadSet is a bit set of base positions, copied by chunks on write.
type deadSet struct {
	chunks []*deadChunk
	gen    uint64
}

func (d deadSet) copyFor(gen uint64) deadSet {
	return deadSet{chunks: slices.Clone(d.chunks), gen: gen}
}

// anyIn reports whether a position in [s, e) is set.
func (d *deadSet) anyIn(s, e int) bool {
	for i := s; i < e; {
		ci := i >> deadChunkBits
		if ci >= len(d.chunks) {
			return false
		}
		c := d.chunks[ci]
		if c == nil {
			i = (ci + 1) << deadChunkBits
			continue
		}
		hi := min(e, (i|63)+1) // the end of i's word
		m := c.w[(i>>6)&(1<<(deadChunkBits-6)-1)] >> (uint(i) & 63)
		if n := hi - i; n < 64 {
			m &= 1<<uint(n) - 1
		}
		if m != 0 {
			return true
		}
		i = hi
	}
	return false
}

func (d *deadSet) has(i int) bool {
	ci := i >> deadChunkBits
	if ci >= len(d.chunks) {
		return false
	}
	c := d.chunks[ci]
	return c != nil && c.w[(i>>6)&(1<<(deadChunkBits-6)-1)]&(1<<(uint(i)&63)) != 0
}

func (d *deadSet) set(i int) {
	ci := i >> deadChunkBits
	for ci >= len(d.chunks) {
		d.chunks = append(d.chunks, nil)
	}
	c := d.chunks[ci]
	switch {
	case c == nil:
		c = &deadChunk{gen: d.gen}
		d.chunks[ci] = c
	case c.gen != d.gen:
		nc := *c
		nc.gen = d.gen
		c = &nc
		d.chunks[ci] = c
	}
	c.w[(i>>6)&(1<<(deadChunkBits-6)-1)] |= 1 << (uint(i) & 63)
}
