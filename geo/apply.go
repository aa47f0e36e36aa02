package geo

import (
	"hash/maphash"
	"runtime"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// apply performs ops on s (a fresh clone owned by the writer), layer by
// layer: zones first, so that entities written in the same batch get their
// grid; then the grid of the existing entities under changed grid zones;
// then the point layers, in Hilbert order for a large batch. The changes
// (derived ones included) are recorded only when record is set: someone
// subscribes, or a write-ahead step (Batch.CommitAhead) wants them.
func (s *Snapshot) apply(ops []op, record bool) []Change {
	w := &applier{s: s, record: record}
	w.regrid(w.applyZones(ops))
	plan := w.plan(ops)
	for i, o := range plan.pts {
		switch o.layer {
		case LayerEntities:
			w.applyEntity(plan, i, o)
		case LayerPlaces:
			w.applyPlace(o)
		case LayerBuildings:
			w.applyBuilding(plan, o)
		}
	}
	plan.finish(s)
	s.entities.tree.settle()
	s.places.tree.settle()
	s.buildings.tree.settle()
	return w.changes
}

// applier carries one commit's writes into its snapshot and collects the
// changes.
type applier struct {
	s       *Snapshot
	record  bool
	changes []Change
}

func (w *applier) emit(c Change) {
	if w.record {
		w.changes = append(w.changes, c)
	}
}

// applyZones writes the zone ops and returns the bounds of the grid zones
// that changed, old and new.
func (w *applier) applyZones(ops []op) (gridDirty []orb.Bound) {
	s := w.s
	for _, o := range ops {
		if o.layer != LayerZones {
			continue
		}
		old, had := s.zoneIDs.Get(o.id)
		if had {
			s.zones.Delete(old.area.bound.Min, old.area.bound.Max, old)
			s.zoneIDs.Delete(o.id)
			s.zoneCount[old.zone.Layer]--
			if s.zoneCount[old.zone.Layer] == 0 {
				delete(s.zoneCount, old.zone.Layer)
			}
			if old.zone.Layer == s.opts.GridLayer {
				gridDirty = append(gridDirty, old.area.bound)
			}
		}
		var nz *Zone
		if o.v != nil {
			nz = o.v.(*Zone)
			ze := &zoneEntry{zone: nz, area: Prepare(nz.Geometry)}
			s.zones.Insert(ze.area.bound.Min, ze.area.bound.Max, ze)
			s.zoneIDs.Set(o.id, ze)
			s.zoneCount[nz.Layer]++
			if nz.Layer == s.opts.GridLayer {
				gridDirty = append(gridDirty, ze.area.bound)
			}
		}
		if had || nz != nil {
			s.ztab = &zoneTableHolder{} // the zones changed: a new table when one is needed
			w.emit(Change{Layer: LayerZones, ID: o.id, Old: nilIf(zoneOf(old), had), New: nilIf(nz, nz != nil)})
		}
	}
	return gridDirty
}

func zoneOf(ze *zoneEntry) *Zone {
	if ze == nil {
		return nil
	}
	return ze.zone
}

// regrid re-applies the grid rule to the existing entities under the
// changed grid zones; each entity whose grid changes is a derived change
// of the commit.
func (w *applier) regrid(dirty []orb.Bound) {
	s := w.s
	seen := 0
	var under []*Entity
	for _, b := range dirty {
		under = under[:0]
		s.entities.tree.search(b.Min, b.Max, func(_ [2]float64, it pitem) bool {
			under = append(under, s.entities.slots.get(it.slot))
			return true
		})
		seen += len(under)
		s.prepareGrids(seen)
		for _, e := range under {
			g := s.gridAt(e.Location)
			if g == e.GridID {
				continue
			}
			ne := *e
			ne.GridID = g
			s.entities.remove(e.ID, e.Location, entityBits(e))
			s.entities.insert(ne.ID, &ne, ne.Location, entityBits(&ne))
			w.emit(Change{Layer: LayerEntities, ID: e.ID, Old: e, New: &ne})
		}
	}
}

// writePlan is the order in which a batch's point writes are applied: the
// batch's own, or for a large batch of distinct features the Hilbert order
// of their points (a faster build and a tighter tree). A layer empty before
// such a batch is filled without ID lookups (fresh), its ID map built from
// sorted keys at the end.
type writePlan struct {
	pts            []op      // the writes in application order
	order          []bulkKey // with Hilbert order: pts[i] is ops[order[i].i]
	freshEntities  bool
	freshBuildings bool
	entityIDs      []idSlot
	buildingIDs    []idSlot
	idsDone        chan struct{} // closed when the fresh entities' IDs are loaded
}

func (w *applier) plan(ops []op) *writePlan {
	s := w.s
	p := &writePlan{pts: ops}
	unique := len(ops) > 1024 && uniqueOps(ops)
	p.freshEntities = unique && s.entities.len() == 0
	p.freshBuildings = unique && s.buildings.len() == 0
	if !p.freshEntities {
		// entities replacing others get their grid one by one
		n := 0
		for _, o := range ops {
			if o.layer == LayerEntities && o.v != nil {
				n++
			}
		}
		s.prepareGrids(n)
	}
	if !unique {
		return p
	}
	// With no free slot to reuse, the fresh entities take the next
	// slots in Hilbert order, so the ID map can be built beside the
	// packing: its sort needs only the IDs and starts now.
	var sortedIDs chan []idSlot
	if p.freshEntities && len(s.entities.slots.free) == 0 {
		sortedIDs = make(chan []idSlot, 1)
		go func() { sortedIDs <- sortedEntityOps(ops) }()
	}
	order := make([]bulkKey, len(ops))
	grids := p.freshEntities && s.zoneCount[s.opts.GridLayer] > 0
	if grids {
		s.prepareGrids(len(ops))
	}
	parallelRange(len(ops), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := ops[i]
			order[i] = bulkKey{k: opKey(o), i: i}
			// a fresh entity's grid, bits and point, here in parallel
			// and in memory order
			if e, ok := o.v.(*Entity); ok && p.freshEntities && o.layer == LayerEntities {
				if grids {
					e.GridID = s.gridAt(e.Location)
				}
				order[i].x, order[i].y, order[i].bits, order[i].fresh = e.Location[0], e.Location[1], entityBits(e), true
			}
		}
	})
	// stable: equal keys keep the batch's order
	order = radixSort(order, nil, func(k *bulkKey) uint64 { return k.k })
	nFresh := 0
	if sortedIDs != nil {
		// the slot of each fresh entity, by its index in ops
		slotOf := make([]uint32, len(ops))
		next := s.entities.slots.next
		for _, k := range order {
			if k.fresh {
				slotOf[k.i] = next
				next++
			}
		}
		nFresh = int(next - s.entities.slots.next)
		p.idsDone = make(chan struct{})
		go func() {
			defer close(p.idsDone)
			ids := <-sortedIDs
			for i := range ids {
				ids[i].slot = slotOf[ids[i].slot]
			}
			s.entities.loadSortedIDs(ids)
		}()
	}
	pts := make([]op, len(ops))
	parallelRange(len(order), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			pts[i] = ops[order[i].i]
		}
	})
	p.pts, p.order = pts, order
	if p.freshEntities {
		s.entities.tree.pending = slices.Grow(s.entities.tree.pending, nFresh)
		// appended below in the order of pts, sorted by the same key
		s.entities.tree.pendingSorted = len(s.entities.tree.pending) == 0
	}
	return p
}

// finish loads the ID maps of the fresh layers.
func (p *writePlan) finish(s *Snapshot) {
	if p.idsDone != nil {
		<-p.idsDone
	} else {
		s.entities.loadIDs(p.entityIDs)
	}
	s.buildings.loadIDs(p.buildingIDs)
}

// applyEntity writes the entity op o, the i-th of the plan, deriving its
// grid.
func (w *applier) applyEntity(p *writePlan, i int, o op) {
	s := w.s
	if p.freshEntities {
		if o.v == nil {
			return // deleting from an empty layer: nothing to do
		}
		ne := o.v.(*Entity) // its grid, bits and point were derived by plan
		k := &p.order[i]
		slot := s.entities.insertNoID(ne, orb.Point{k.x, k.y}, k.bits)
		if p.idsDone == nil {
			p.entityIDs = append(p.entityIDs, idSlot{id: o.id, slot: slot})
		}
		w.emit(Change{Layer: LayerEntities, ID: o.id, New: ne})
		return
	}
	old, had := s.entities.get(o.id)
	if had {
		s.entities.remove(o.id, old.Location, entityBits(old))
	}
	var ne *Entity
	if o.v != nil {
		ne = o.v.(*Entity)
		ne.GridID = s.gridAt(ne.Location)
		s.entities.insert(o.id, ne, ne.Location, entityBits(ne))
	}
	if had || ne != nil {
		w.emit(Change{Layer: LayerEntities, ID: o.id, Old: nilIf(old, had), New: nilIf(ne, ne != nil)})
	}
}

// applyPlace writes the place op o.
func (w *applier) applyPlace(o op) {
	s := w.s
	old, had := s.places.get(o.id)
	if had {
		s.places.remove(o.id, old.Location, 0)
	}
	var np *Place
	if o.v != nil {
		np = o.v.(*Place)
		s.places.insert(o.id, np, np.Location, 0)
	}
	if had || np != nil {
		w.emit(Change{Layer: LayerPlaces, ID: o.id, Old: nilIf(old, had), New: nilIf(np, np != nil)})
	}
}

// applyBuilding writes the building op o, in its point layer and in the
// R-tree of footprint bounds.
func (w *applier) applyBuilding(p *writePlan, o op) {
	s := w.s
	if p.freshBuildings && o.v != nil {
		nb := o.v.(*Building)
		p.buildingIDs = append(p.buildingIDs, idSlot{id: o.id, slot: s.buildings.insertNoID(nb, nb.Center(), 0)})
		bb := nb.Footprint.Bound()
		s.bldBounds.Insert(bb.Min, bb.Max, nb)
		w.emit(Change{Layer: LayerBuildings, ID: o.id, New: nb})
		return
	}
	old, had := s.buildings.get(o.id)
	if had {
		s.buildings.remove(o.id, old.Center(), 0)
		ob := old.Footprint.Bound()
		s.bldBounds.Delete(ob.Min, ob.Max, old)
	}
	var nb *Building
	if o.v != nil {
		nb = o.v.(*Building)
		s.buildings.insert(o.id, nb, nb.Center(), 0)
		bb := nb.Footprint.Bound()
		s.bldBounds.Insert(bb.Min, bb.Max, nb)
	}
	if had || nb != nil {
		w.emit(Change{Layer: LayerBuildings, ID: o.id, Old: nilIf(old, had), New: nilIf(nb, nb != nil)})
	}
}

func nilIf[T any](v *T, keep bool) any {
	if !keep || v == nil {
		return nil
	}
	return v
}

// uniqueOps reports whether no feature is written twice in ops, so that
// the writes may be reordered. It sorts hashed keys rather than filling a
// map with every ID.
func uniqueOps(ops []op) bool {
	seed := maphash.MakeSeed()
	hs := make([]uint64, len(ops))
	parallelRange(len(ops), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			hs[i] = maphash.String(seed, ops[i].id) ^ layerSalt(ops[i].layer)
		}
	})
	hs = radixSort(hs, nil, func(h *uint64) uint64 { return *h })
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			// a collision or a true duplicate: settle it exactly
			return uniqueOpsMap(ops)
		}
	}
	return true
}

// layerSalt tells the hashes of equal IDs in different layers apart.
func layerSalt(l Layer) uint64 {
	switch l {
	case LayerEntities:
		return 0
	case LayerBuildings:
		return 0x9e3779b97f4a7c15
	case LayerPlaces:
		return 0xbf58476d1ce4e5b9
	case LayerZones:
		return 0x94d049bb133111eb
	}
	return uint64(len(l)) * 0xd6e8feb86659fd93
}

func uniqueOpsMap(ops []op) bool {
	seen := map[Layer]map[string]struct{}{}
	for _, o := range ops {
		m := seen[o.layer]
		if m == nil {
			m = make(map[string]struct{}, len(ops))
			seen[o.layer] = m
		}
		if _, dup := m[o.id]; dup {
			return false
		}
		m[o.id] = struct{}{}
	}
	return true
}

func opKey(o op) uint64 {
	var p orb.Point
	switch v := o.v.(type) {
	case *Entity:
		p = v.Location
	case *Place:
		p = v.Location
	case *Building:
		p = v.Center()
	}
	return HilbertIndex(p)
}

// bulkKey orders the writes of a large batch by the Hilbert key of their
// point; for a fresh entity it carries what the parallel pass derived.
type bulkKey struct {
	k     uint64
	i     int // index in the batch
	x, y  float64
	bits  uint32
	fresh bool // a fresh entity's write
}

// parallelRange splits [0, n) into one contiguous part per processor (for
// large n) and runs fn on each part concurrently, returning when all are
// done.
func parallelRange(n int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), 8)
	if n < 4096 || parts < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + parts - 1) / parts
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
