package geo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"
)

// Index is the in-memory spatial index of all layers. It is safe for
// concurrent use by any number of goroutines: reads run on the current
// immutable [Snapshot], and writes are serialised and published atomically.
type Index struct {
	opts Options
	mu   sync.Mutex // serialises writers and subscriber calls
	cur  atomic.Pointer[Snapshot]
	subs map[int]func(ChangeSet)
	next int
	// the background repacks (repack.go): ctx ends with Close, repacks
	// counts those in flight, closed (under mu) stops new ones
	ctx     context.Context
	cancel  context.CancelFunc
	repacks sync.WaitGroup
	closed  bool
	// launch, when set (by tests), receives each repack job instead of a
	// goroutine running it
	launch func(*repackJob)
}

// New returns an empty index. An index runs background repacks of its
// point trees after writes (see [Options.RepackChurn]); [Index.Close]
// stops them.
func New(opts Options) (*Index, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ix := &Index{opts: opts.withDefaults(), subs: map[int]func(ChangeSet){}, ctx: ctx, cancel: cancel}
	ix.cur.Store(newSnapshot(ix.opts))
	return ix, nil
}

// Options returns the effective options (defaults filled in).
func (ix *Index) Options() Options { return ix.opts }

// Snapshot returns the current immutable snapshot. Queries on it see one
// consistent state however many writes happen meanwhile.
func (ix *Index) Snapshot() *Snapshot { return ix.cur.Load() }

// Change describes one feature written by a commit. Old is nil for an
// insert, New is nil for a delete; both are *Entity, *Building, *Place or
// *Zone according to Layer.
type Change struct {
	Layer Layer
	ID    string
	Old   any
	New   any
}

// ChangeSet is what a commit changed, with the version it produced.
type ChangeSet struct {
	Version uint64
	Changes []Change
}

// Subscribe registers fn to be called after every commit, synchronously, in
// commit order, before the writing call returns: a dependent index (search,
// address database, tile cache) updated by fn is current for the next query.
// fn must be quick and must not write to the index. The returned function
// removes the subscription.
func (ix *Index) Subscribe(fn func(ChangeSet)) (cancel func()) {
	ix.mu.Lock()
	id := ix.next
	ix.next++
	ix.subs[id] = fn
	ix.mu.Unlock()
	return func() {
		ix.mu.Lock()
		delete(ix.subs, id)
		ix.mu.Unlock()
	}
}

// Follow is Subscribe plus the snapshot the subscription starts from,
// taken atomically: fn receives exactly the commits after that snapshot.
// Dependent indexes fill themselves from the snapshot, then apply fn's
// change sets.
func (ix *Index) Follow(fn func(ChangeSet)) (*Snapshot, func()) {
	ix.mu.Lock()
	id := ix.next
	ix.next++
	ix.subs[id] = fn
	s := ix.cur.Load()
	ix.mu.Unlock()
	return s, func() {
		ix.mu.Lock()
		delete(ix.subs, id)
		ix.mu.Unlock()
	}
}

// pitem is what the point R-trees hold: the feature's slot and what the
// hot loop of a radius query needs without dereferencing it. It holds no
// pointer, so the trees are invisible to the garbage collector.
type pitem struct {
	slot   uint32
	bits   uint32
	cosLat float64
}

type pointLayer[T any] struct {
	tree  *ptree
	ids   *btree.Map[string, uint32]
	slots *slotArr[T]
}

func newPointLayer[T any]() pointLayer[T] {
	return pointLayer[T]{tree: newPtree(), ids: btree.NewMap[string, uint32](32), slots: &slotArr[T]{}}
}

func (l pointLayer[T]) copyFor(gen uint64) pointLayer[T] {
	return pointLayer[T]{tree: l.tree.copyFor(gen), ids: l.ids.Copy(), slots: l.slots.copyFor(gen)}
}

func (l pointLayer[T]) len() int { return l.ids.Len() }

func (l pointLayer[T]) get(id string) (*T, bool) {
	i, ok := l.ids.Get(id)
	if !ok {
		return nil, false
	}
	return l.slots.get(i), true
}

func (l pointLayer[T]) scan(fn func(*T) bool) {
	l.ids.Scan(func(_ string, i uint32) bool { return fn(l.slots.get(i)) })
}

func (l pointLayer[T]) insert(id string, v *T, p orb.Point, bits uint32) {
	i := l.slots.put(v)
	l.ids.Set(id, i)
	l.tree.insert(p, pitem{slot: i, cosLat: cosDeg(p[1]), bits: bits})
}

// insertNoID adds a feature to the tree and the slots but not to the ID
// map (see loadIDs); for bulk loads into an empty layer.
func (l pointLayer[T]) insertNoID(v *T, p orb.Point, bits uint32) uint32 {
	i := l.slots.put(v)
	l.tree.pending = append(l.tree.pending, ppoint{x: p[0], y: p[1], cosLat: cosDeg(p[1]), slot: i, bits: bits})
	return i
}

type idSlot struct {
	k1, k2 uint64 // the first 16 bytes of id, big-endian: compared without touching the string
	id     string
	slot   uint32
}

func prefixKeys(id string) (uint64, uint64) {
	var b [16]byte
	copy(b[:], id)
	var k1, k2 uint64
	for i := 0; i < 8; i++ {
		k1 = k1<<8 | uint64(b[i])
		k2 = k2<<8 | uint64(b[8+i])
	}
	return k1, k2
}

// loadIDs adds the IDs of a bulk load, sorted first so that the B-tree is
// filled by appends.
func (l pointLayer[T]) loadIDs(ids []idSlot) {
	for i := range ids {
		ids[i].k1, ids[i].k2 = prefixKeys(ids[i].id)
	}
	l.loadSortedIDs(sortIDs(ids))
}

// loadSortedIDs adds IDs sorted by sortIDs.
func (l pointLayer[T]) loadSortedIDs(ids []idSlot) {
	for _, x := range ids {
		l.ids.Load(x.id, x.slot)
	}
}

// sortedEntityOps returns the IDs of the entities that ops write, sorted,
// each with its index in ops in place of a slot.
func sortedEntityOps(ops []op) []idSlot {
	ids := make([]idSlot, 0, len(ops))
	for i, o := range ops {
		if o.layer == LayerEntities && o.v != nil {
			k1, k2 := prefixKeys(o.id)
			ids = append(ids, idSlot{k1: k1, k2: k2, id: o.id, slot: uint32(i)})
		}
	}
	return sortIDs(ids)
}

// sortIDs sorts ids (with their prefix keys set) by ID: a radix sort on the
// 16-byte prefix, then a comparison sort of each run sharing the prefix.
func sortIDs(ids []idSlot) []idSlot {
	if len(ids) < 2 {
		return ids
	}
	a, b := ids, make([]idSlot, len(ids))
	ids = radixSort(a, b, func(x *idSlot) uint64 { return x.k2 })
	if &ids[0] == &b[0] {
		b = a // the array not holding the result is the scratch space
	}
	ids = radixSort(ids, b, func(x *idSlot) uint64 { return x.k1 })
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j].k1 == ids[i].k1 && ids[j].k2 == ids[i].k2 {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(ids[i:j], func(a, b idSlot) int { return strings.Compare(a.id, b.id) })
		}
		i = j
	}
	return ids
}

// remove deletes the feature with id, located at p.
func (l pointLayer[T]) remove(id string, p orb.Point, bits uint32) {
	i, ok := l.ids.Delete(id)
	if !ok {
		return
	}
	l.tree.remove(p, pitem{slot: i, cosLat: cosDeg(p[1]), bits: bits})
	l.slots.release(i)
}

type zoneEntry struct {
	zone *Zone
	area *PreparedArea
}

// Snapshot is an immutable state of the index. All its methods are safe for
// concurrent use. Features returned by it are shared: do not modify them.
type Snapshot struct {
	opts      Options
	version   uint64
	entities  pointLayer[Entity]
	places    pointLayer[Place]
	buildings pointLayer[Building]
	bldBounds *rtree.RTreeG[*Building]
	zones     *rtree.RTreeG[*zoneEntry]
	zoneIDs   *btree.Map[string, *zoneEntry]
	zoneCount map[string]int
	ztab      *zoneTableHolder // the zone table, built lazily after zone changes
}

func newSnapshot(opts Options) *Snapshot {
	return &Snapshot{
		opts:      opts,
		entities:  newPointLayer[Entity](),
		places:    newPointLayer[Place](),
		buildings: newPointLayer[Building](),
		bldBounds: &rtree.RTreeG[*Building]{},
		zones:     &rtree.RTreeG[*zoneEntry]{},
		zoneIDs:   btree.NewMap[string, *zoneEntry](32),
		zoneCount: map[string]int{},
		ztab:      &zoneTableHolder{},
	}
}

func (s *Snapshot) clone() *Snapshot {
	zc := make(map[string]int, len(s.zoneCount))
	for k, v := range s.zoneCount {
		zc[k] = v
	}
	gen := s.version + 1
	return &Snapshot{
		opts:      s.opts,
		version:   gen,
		entities:  s.entities.copyFor(gen),
		places:    s.places.copyFor(gen),
		buildings: s.buildings.copyFor(gen),
		bldBounds: s.bldBounds.Copy(),
		zones:     s.zones.Copy(),
		zoneIDs:   s.zoneIDs.Copy(),
		zoneCount: zc,
		ztab:      s.ztab,
	}
}

// Version counts the commits that produced this snapshot. Two snapshots
// of one version hold the same features: a background repack publishes a
// snapshot that differs from the one before only in its trees, with the
// same version.
func (s *Snapshot) Version() uint64 { return s.version }

// Counts returns the number of features per layer, and of zones per zone layer.
type Counts struct {
	Entities  int            `json:"entities"`
	Buildings int            `json:"buildings"`
	Places    int            `json:"places"`
	Zones     int            `json:"zones"`
	ZoneLayer map[string]int `json:"zone_layers"`
}

// Counts returns the feature counts of the snapshot.
func (s *Snapshot) Counts() Counts {
	c := Counts{Entities: s.entities.len(), Buildings: s.buildings.len(), Places: s.places.len(), Zones: s.zoneIDs.Len(), ZoneLayer: map[string]int{}}
	for k, v := range s.zoneCount {
		c.ZoneLayer[k] = v
	}
	return c
}

// Entity returns the entity with the given USCC.
func (s *Snapshot) Entity(id string) (*Entity, bool) { return s.entities.get(id) }

// Building returns the building with the given ID.
func (s *Snapshot) Building(id string) (*Building, bool) { return s.buildings.get(id) }

// Place returns the place with the given ID.
func (s *Snapshot) Place(id string) (*Place, bool) { return s.places.get(id) }

// Zone returns the zone with the given ID.
func (s *Snapshot) Zone(id string) (*Zone, bool) {
	z, ok := s.zoneIDs.Get(id)
	if !ok {
		return nil, false
	}
	return z.zone, true
}

// ZoneLayers returns the zone layer names, sorted.
func (s *Snapshot) ZoneLayers() []string {
	out := make([]string, 0, len(s.zoneCount))
	for k := range s.zoneCount {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ScanEntities calls fn for every entity in ID order until fn returns false.
func (s *Snapshot) ScanEntities(fn func(*Entity) bool) {
	s.entities.scan(fn)
}

// ScanBuildings calls fn for every building in ID order until fn returns false.
func (s *Snapshot) ScanBuildings(fn func(*Building) bool) {
	s.buildings.scan(fn)
}

// ScanPlaces calls fn for every place in ID order until fn returns false.
func (s *Snapshot) ScanPlaces(fn func(*Place) bool) {
	s.places.scan(fn)
}

// ScanZones calls fn for every zone in ID order until fn returns false.
func (s *Snapshot) ScanZones(fn func(*Zone) bool) {
	s.zoneIDs.Scan(func(_ string, z *zoneEntry) bool { return fn(z.zone) })
}

// Bounds returns the bounding box of all features of the snapshot (exact
// also after deletions; zones count by their bounding boxes).
func (s *Snapshot) Bounds() orb.Bound {
	var b orb.Bound
	first := true
	add := func(min, max [2]float64) {
		nb := orb.Bound{Min: min, Max: max}
		if first {
			b, first = nb, false
			return
		}
		b = b.Union(nb)
	}
	if tb, ok := s.entities.tree.bounds(); ok {
		add(tb.Min, tb.Max)
	}
	if tb, ok := s.places.tree.bounds(); ok {
		add(tb.Min, tb.Max)
	}
	if s.buildings.len() > 0 {
		add(s.bldBounds.Bounds())
	}
	if s.zoneIDs.Len() > 0 {
		add(s.zones.Bounds())
	}
	return b
}

func cosDeg(lat float64) float64 { return math.Cos(lat * deg2rad) }

// entityBits is an entity's bits in the tree: risk (bits 0-7), status
// (8-15) and industry section (16-20, sectionBits).
func entityBits(e *Entity) uint32 {
	return e.Risk.bit() | e.Status.bit() | sectionBits(e.Industry)
}

// Batch collects writes to commit together as one new snapshot. A Batch is
// not safe for concurrent use; the Index it commits to is.
type Batch struct {
	ix  *Index
	ops []op
}

type op struct {
	layer Layer
	id    string
	v     any // *Entity, *Building, *Place, *Zone; nil = delete
}

// Batch starts a batch of writes.
func (ix *Index) Batch() *Batch { return &Batch{ix: ix} }

// Len returns the number of writes queued.
func (b *Batch) Len() int { return len(b.ops) }

// UpsertEntity validates e and queues its insertion or replacement. The
// index keeps its own copy.
func (b *Batch) UpsertEntity(e Entity) error {
	if err := e.Validate(); err != nil {
		return err
	}
	b.ops = append(b.ops, op{LayerEntities, e.ID, &e})
	return nil
}

// upsertValidEntity queues an entity that a reader has validated, without
// validating or copying it again; the batch takes e over.
func (b *Batch) upsertValidEntity(e *Entity) {
	b.ops = append(b.ops, op{LayerEntities, e.ID, e})
}

// UpsertBuilding validates bld and queues it.
func (b *Batch) UpsertBuilding(bld Building) error {
	if err := bld.Validate(b.ix.opts.MaxVertices); err != nil {
		return err
	}
	b.ops = append(b.ops, op{LayerBuildings, bld.ID, &bld})
	return nil
}

// UpsertPlace validates p and queues it.
func (b *Batch) UpsertPlace(p Place) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b.ops = append(b.ops, op{LayerPlaces, p.ID, &p})
	return nil
}

// UpsertZone validates z and queues it.
func (b *Batch) UpsertZone(z Zone) error {
	if err := z.Validate(b.ix.opts.MaxVertices); err != nil {
		return err
	}
	b.ops = append(b.ops, op{LayerZones, z.ID, &z})
	return nil
}

// Delete queues the removal of a feature; deleting an unknown ID is a no-op
// at commit.
func (b *Batch) Delete(layer Layer, id string) error {
	if _, err := ParseLayer(string(layer)); err != nil {
		return err
	}
	b.ops = append(b.ops, op{layer, id, nil})
	return nil
}

// Commit applies the queued writes as one new snapshot, notifies the
// subscribers and returns the new version. The batch is empty afterwards.
func (b *Batch) Commit() uint64 {
	v, _ := b.CommitAhead(nil)
	return v
}

// CommitAhead is Commit with a write-ahead step: the queued writes are
// applied to a private copy of the current snapshot, then ahead is called
// with everything the commit changes (derived changes included, such as the
// grid of entities under a changed grid zone), and only when ahead returns
// nil is the copy published and are the subscribers notified. When ahead
// fails, nothing is published, the index is as before and the error is
// returned. A durable store makes the changes durable in ahead.
//
// ahead runs under the index's writer lock, so it sees the changes of the
// commits before it and may check preconditions (a feature's Version, in
// Change.Old) atomically with the write. It may set the Version of the new
// features (Change.New), which are not visible to any reader until it
// returns; it must not keep them or write to the index. A nil ahead is
// Commit. The batch is empty afterwards either way.
func (b *Batch) CommitAhead(ahead func(ChangeSet) error) (uint64, error) {
	ix := b.ix
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ops := b.ops
	b.ops = nil
	cur := ix.cur.Load()
	s := cur.clone()
	changes := s.apply(ops, len(ix.subs) > 0 || ahead != nil)
	cs := ChangeSet{Version: s.version, Changes: changes}
	if ahead != nil {
		if err := ahead(cs); err != nil {
			return cur.version, err
		}
	}
	jobs := ix.planRepacks(s)
	ix.cur.Store(s)
	ix.launchRepacks(jobs)
	if len(changes) > 0 {
		for _, fn := range ix.subs {
			fn(cs)
		}
	}
	return s.version, nil
}

// Upsert validates and queues a feature of any layer: *Entity, *Building,
// *Place or *Zone (or the same types by value). The batch takes a copy.
func (b *Batch) Upsert(v any) error {
	switch t := v.(type) {
	case *Entity:
		return b.UpsertEntity(*t)
	case Entity:
		return b.UpsertEntity(t)
	case *Building:
		return b.UpsertBuilding(*t)
	case Building:
		return b.UpsertBuilding(t)
	case *Place:
		return b.UpsertPlace(*t)
	case Place:
		return b.UpsertPlace(t)
	case *Zone:
		return b.UpsertZone(*t)
	case Zone:
		return b.UpsertZone(t)
	}
	return fmt.Errorf("%w: cannot write a %T", ErrInvalidFeature, v)
}

// Grow makes room for n more writes in the batch.
func (b *Batch) Grow(n int) { b.ops = slices.Grow(b.ops, n) }

// Adopt is Upsert without the copy: it validates v (*Entity, *Building,
// *Place or *Zone) and queues the pointer itself. The batch takes v over;
// the caller must not use or change it afterwards. For loaders that build
// a fresh value per feature (the store reading its snapshot or rows), this
// saves a copy and an allocation per feature.
func (b *Batch) Adopt(v any) error {
	switch t := v.(type) {
	case *Entity:
		if err := t.Validate(); err != nil {
			return err
		}
		b.upsertValidEntity(t)
		return nil
	case *Building:
		if err := t.Validate(b.ix.opts.MaxVertices); err != nil {
			return err
		}
		b.ops = append(b.ops, op{LayerBuildings, t.ID, t})
		return nil
	case *Place:
		if err := t.Validate(); err != nil {
			return err
		}
		b.ops = append(b.ops, op{LayerPlaces, t.ID, t})
		return nil
	case *Zone:
		if err := t.Validate(b.ix.opts.MaxVertices); err != nil {
			return err
		}
		b.ops = append(b.ops, op{LayerZones, t.ID, t})
		return nil
	}
	return b.Upsert(v)
}

// Feature returns the feature of layer with the given ID (*Entity,
// *Building, *Place or *Zone), shared with the snapshot: do not modify it.
func (s *Snapshot) Feature(layer Layer, id string) (any, bool) {
	switch layer {
	case LayerEntities:
		if v, ok := s.entities.get(id); ok {
			return v, true
		}
	case LayerBuildings:
		if v, ok := s.buildings.get(id); ok {
			return v, true
		}
	case LayerPlaces:
		if v, ok := s.places.get(id); ok {
			return v, true
		}
	case LayerZones:
		if v, ok := s.zoneIDs.Get(id); ok {
			return v.zone, true
		}
	}
	return nil, false
}

// UpsertEntity validates and writes one entity.
func (ix *Index) UpsertEntity(e Entity) error {
	b := ix.Batch()
	if err := b.UpsertEntity(e); err != nil {
		return err
	}
	b.Commit()
	return nil
}

// UpsertBuilding validates and writes one building.
func (ix *Index) UpsertBuilding(bld Building) error {
	b := ix.Batch()
	if err := b.UpsertBuilding(bld); err != nil {
		return err
	}
	b.Commit()
	return nil
}

// UpsertPlace validates and writes one place.
func (ix *Index) UpsertPlace(p Place) error {
	b := ix.Batch()
	if err := b.UpsertPlace(p); err != nil {
		return err
	}
	b.Commit()
	return nil
}

// UpsertZone validates and writes one zone.
func (ix *Index) UpsertZone(z Zone) error {
	b := ix.Batch()
	if err := b.UpsertZone(z); err != nil {
		return err
	}
	b.Commit()
	return nil
}

// Delete removes one feature. It returns an error wrapping ErrNotFound when
// the layer holds no such ID.
func (ix *Index) Delete(layer Layer, id string) error {
	if _, err := ParseLayer(string(layer)); err != nil {
		return err
	}
	if !ix.Snapshot().has(layer, id) {
		return fmt.Errorf("%w: %s %q", ErrNotFound, layer, id)
	}
	b := ix.Batch()
	_ = b.Delete(layer, id)
	b.Commit()
	return nil
}

func (s *Snapshot) has(layer Layer, id string) bool {
	var ok bool
	switch layer {
	case LayerEntities:
		_, ok = s.entities.ids.Get(id)
	case LayerBuildings:
		_, ok = s.buildings.ids.Get(id)
	case LayerPlaces:
		_, ok = s.places.ids.Get(id)
	case LayerZones:
		_, ok = s.zoneIDs.Get(id)
	}
	return ok
}

// HilbertIndex returns the position of p on a 2^31 × 2^31 Hilbert curve
// over the globe (cells of about 2 cm). Sorting points by it keeps
// neighbours together; the index inserts large batches in this order, so
// that features near each other also sit near each other in memory.
func HilbertIndex(p orb.Point) uint64 {
	const n = 1 << 31
	x := uint64((p[0] + 180) / 360 * (n - 1))
	y := uint64((p[1] + 90) / 180 * (n - 1))
	var d uint64
	for s := uint64(n / 2); s > 0; s /= 2 {
		var rx, ry uint64
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				x = n - 1 - x
				y = n - 1 - y
			}
			x, y = y, x
		}
	}
	return d
}
