package geo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"
)

// Filter restricts a query to features with the given attributes. Empty
// fields do not restrict. Filters are applied while the index is traversed,
// before any limit.
type Filter struct {
	// Industry keeps entities whose GB/T 4754 class starts with one of these
	// prefixes: a section ("I"), a division with or without the section
	// ("I65" or "65"), down to a class ("I6510" or "6510").
	Industry []string
	// Risk keeps entities of these risk classes.
	Risk []Risk
	// Status keeps entities with these statuses.
	Status []Status
	// Kind keeps places of these kinds.
	Kind []string
}

// Query holds the options of a query besides its geometry.
type Query struct {
	// Limit caps the hits returned; 0 means Options.DefaultLimit. It may not
	// exceed Options.MaxLimit.
	Limit int
	// Filter restricts the features considered.
	Filter Filter
	// Reuse, when non-nil, receives the hits (appended to Reuse[:0]) instead
	// of a newly allocated slice, so that a hot loop can query without
	// allocating. The caller must not use the previous hits afterwards.
	Reuse []Hit
}

// Hit is one feature found by a query. Exactly one of Entity, Building,
// Place and Zone is set, according to the layer queried. The features are
// shared with the index: do not modify them.
type Hit struct {
	// DistanceM is the distance from the query point in metres (0 for box,
	// polygon and zone queries).
	DistanceM float64
	Entity    *Entity
	Building  *Building
	Place     *Place
	Zone      *Zone
}

// ID returns the ID of the feature hit.
func (h *Hit) ID() string {
	switch {
	case h.Entity != nil:
		return h.Entity.ID
	case h.Building != nil:
		return h.Building.ID
	case h.Place != nil:
		return h.Place.ID
	case h.Zone != nil:
		return h.Zone.ID
	}
	return ""
}

// Location returns the point that the distance was measured to: the
// entity's or place's location or the building's footprint centre (for a
// zone, the centre of its bounding box).
func (h *Hit) Location() orb.Point {
	switch {
	case h.Entity != nil:
		return h.Entity.Location
	case h.Building != nil:
		return h.Building.Center()
	case h.Place != nil:
		return h.Place.Location
	case h.Zone != nil:
		return h.Zone.Geometry.Bound().Center()
	}
	return orb.Point{}
}

// Result is the answer to a query: the hits (at most the limit), how many
// features matched in all, and whether hits were cut by the limit.
type Result struct {
	Hits      []Hit
	Total     int
	Truncated bool
}

type compiled struct {
	maskRisk, maskStatus uint32
	// maskSection holds bit i for section letter 'A'+i when every industry
	// prefix is a section letter alone: the test is then on the tree's bits
	// (sectionBits), without reading the entity, and industry is empty.
	maskSection uint32
	industry    []string
	// industrySet holds the industry prefixes when there are more than
	// industryScanMax of them, so that an entity's test costs a few map
	// lookups (one per prefix of its code) however long the caller's list.
	industrySet map[string]struct{}
	kinds       []string
}

// industryScanMax is the number of industry prefixes up to which a linear
// scan is cheaper than the prefix set's lookups.
const industryScanMax = 8

func (q Query) compile() compiled {
	var c compiled
	for _, r := range q.Filter.Risk {
		c.maskRisk |= r.bit()
	}
	for _, st := range q.Filter.Status {
		c.maskStatus |= st.bit()
	}
	for _, in := range q.Filter.Industry {
		if in = strings.ToUpper(strings.TrimSpace(in)); in != "" {
			c.industry = append(c.industry, in)
		}
	}
	if c.maskSection = sectionMask(c.industry); c.maskSection != 0 {
		c.industry = nil
	}
	if len(c.industry) > industryScanMax {
		c.industrySet = make(map[string]struct{}, len(c.industry))
		for _, in := range c.industry {
			c.industrySet[in] = struct{}{}
		}
	}
	for _, k := range q.Filter.Kind {
		if k = strings.TrimSpace(k); k != "" {
			c.kinds = append(c.kinds, k)
		}
	}
	return c
}

func (c *compiled) bitsOK(bits uint32) bool {
	return (c.maskRisk == 0 || bits&c.maskRisk != 0) && (c.maskStatus == 0 || bits&c.maskStatus != 0) &&
		(c.maskSection == 0 || c.maskSection&sectionOfBits(bits) != 0)
}

// Bits 16-20 of an entity's tree bits hold its industry section: 1 + the
// letter's offset from 'A' when its code starts with a capital letter,
// else 0 (see entityBits).
const sectionShift = 16

// sectionBits is the section part of an entity's tree bits for its
// industry code.
func sectionBits(industry string) uint32 {
	if industry == "" || industry[0] < 'A' || industry[0] > 'Z' {
		return 0
	}
	return uint32(industry[0]-'A'+1) << sectionShift
}

// sectionOfBits is the one-hot section (bit i for 'A'+i) of tree bits, 0
// for none.
func sectionOfBits(bits uint32) uint32 {
	if n := (bits >> sectionShift) & 31; n != 0 {
		return 1 << (n - 1)
	}
	return 0
}

// sectionMask is the one-hot mask of prefixes that are all single capital
// letters (sections), 0 when any is not.
func sectionMask(prefixes []string) uint32 {
	var m uint32
	for _, p := range prefixes {
		if len(p) != 1 || p[0] < 'A' || p[0] > 'Z' {
			return 0
		}
		m |= 1 << (p[0] - 'A')
	}
	return m
}

func (c *compiled) entityOK(e *Entity) bool {
	if len(c.industry) == 0 {
		return true
	}
	if c.industrySet != nil {
		return c.industryInSet(e.Industry)
	}
	for _, p := range c.industry {
		if strings.HasPrefix(e.Industry, p) || (len(e.Industry) > 1 && p[0] >= '0' && p[0] <= '9' && strings.HasPrefix(e.Industry[1:], p)) {
			return true
		}
	}
	return false
}

// industryInSet is the prefix rule of entityOK against the prefix set: a
// prefix of the code, or (for prefixes starting with a digit) a prefix of
// the code without its section letter.
func (c *compiled) industryInSet(code string) bool {
	for k := 1; k <= len(code); k++ {
		if _, ok := c.industrySet[code[:k]]; ok {
			return true
		}
	}
	if len(code) > 1 && code[1] >= '0' && code[1] <= '9' {
		for k := 2; k <= len(code); k++ {
			if _, ok := c.industrySet[code[1:k]]; ok {
				return true
			}
		}
	}
	return false
}

func (c *compiled) placeOK(p *Place) bool {
	if len(c.kinds) == 0 {
		return true
	}
	return slices.Contains(c.kinds, p.Kind)
}

func (s *Snapshot) limit(q Query) (int, error) {
	switch {
	case q.Limit < 0:
		return 0, fmt.Errorf("%w: limit %d is negative", ErrInvalidQuery, q.Limit)
	case q.Limit > s.opts.MaxLimit:
		return 0, fmt.Errorf("%w: limit %d exceeds the maximum of %d", ErrInvalidQuery, q.Limit, s.opts.MaxLimit)
	case q.Limit == 0:
		return s.opts.DefaultLimit, nil
	}
	return q.Limit, nil
}

func (s *Snapshot) checkFilter(layer Layer, q Query) error {
	f := q.Filter
	if layer != LayerEntities && (len(f.Industry) > 0 || len(f.Risk) > 0 || len(f.Status) > 0) {
		return fmt.Errorf("%w: industry, risk and status filters apply to entities only", ErrInvalidQuery)
	}
	if layer != LayerPlaces && len(f.Kind) > 0 {
		return fmt.Errorf("%w: the kind filter applies to places only", ErrInvalidQuery)
	}
	return nil
}

type cand struct {
	a    float64
	slot uint32
}

var candPool sync.Pool

// yieldStep is how often long loops check their context.
const yieldStep = 256

func nearbyLayer[T any](ctx context.Context, l pointLayer[T], center orb.Point, radius float64, keep func(pitem) bool, buf []cand) ([]cand, error) {
	return l.tree.radiusCands(ctx, capBounds(center, radius), center, radiusToA(radius), keep, buf)
}

// sort sorts the candidates cb.c by distance and returns them, in cb.c or
// in the scratch space cb.tmp. Near-uniform keys (the haversine term grows with
// the area of the disc, so a city's points spread evenly over it) make a
// counting pass over four buckets a candidate, followed by an insertion
// sort of the nearly sorted result, linear in practice. A few candidates
// are sorted by insertion alone (slices.SortFunc, with a call per
// comparison, costs more there than the whole bucket pass).
func (cb *candBuf) sort(aMax float64) []cand {
	c := cb.c
	if !(aMax > 0) {
		slices.SortFunc(c, func(x, y cand) int { return cmpFloat(x.a, y.a) })
		return c
	}
	if len(c) <= 16 {
		insertionSortCands(c)
		return c
	}
	nb := len(c)
	if cap(cb.tmp) < 2*nb {
		cb.tmp = make([]cand, 2*nb)
	}
	tmp := cb.tmp[:2*nb]
	// four buckets a candidate, so that most hold one or none and the
	// insertion sort rarely moves anything (each move is a mispredicted
	// branch); at most 1<<16
	nbk := min(4*nb, 1<<16)
	if cap(cb.counts) < nbk+1 {
		cb.counts = make([]int32, nbk+1)
	}
	counts := cb.counts[:nbk+1]
	clear(counts)
	scale := float64(nbk) * (1 - 1e-12) / aMax
	// the bucket of each candidate, kept in the scratch's upper half
	keys := tmp[nb:]
	for i := range c {
		k := int32(c[i].a * scale)
		if k >= int32(nbk) {
			k = int32(nbk) - 1
		}
		keys[i].slot = uint32(k)
		counts[k+1]++
	}
	// the running sum in a register: counts[i] += counts[i-1] would wait
	// for the previous store at every step
	var sum int32
	for i, v := range counts {
		sum += v
		counts[i] = sum
	}
	out := tmp[:nb]
	for i := range c {
		k := keys[i].slot
		out[counts[k]] = c[i]
		counts[k]++
	}
	insertionSortCands(out)
	return out
}

// insertionSortCands sorts c by distance; linear when c is nearly sorted.
func insertionSortCands(c []cand) {
	for i := 1; i < len(c); i++ {
		v := c[i]
		j := i - 1
		for j >= 0 && c[j].a > v.a {
			c[j+1] = c[j]
			j--
		}
		c[j+1] = v
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Nearby returns the features of layer within radius metres of center,
// nearest first and, at equal distances (features at one point), in the
// order of their IDs, after applying q's filter and then its limit. The
// hits carry their exact great-circle distance.
func (s *Snapshot) Nearby(ctx context.Context, layer Layer, center orb.Point, radius float64, q Query) (Result, error) {
	if err := ValidatePoint(center); err != nil {
		return Result{}, err
	}
	if !(radius > 0) || radius > s.opts.MaxRadiusM {
		return Result{}, fmt.Errorf("%w: radius %v m must be > 0 and ≤ %v", ErrInvalidQuery, radius, s.opts.MaxRadiusM)
	}
	limit, err := s.limit(q)
	if err != nil {
		return Result{}, err
	}
	if err := s.checkFilter(layer, q); err != nil {
		return Result{}, err
	}
	c := q.compile()
	aMax := radiusToA(radius)
	switch layer {
	case LayerEntities:
		var keep func(pitem) bool
		if c.maskRisk != 0 || c.maskStatus != 0 || c.maskSection != 0 || len(c.industry) > 0 {
			// a copy for the closure, so that c stays on the stack (and
			// the unfiltered query allocates nothing)
			sl, c := s.entities.slots, c
			keep = func(it pitem) bool { return c.bitsOK(it.bits) && c.entityOK(sl.get(it.slot)) }
		}
		return nearbyHits(ctx, s.entities, center, radius, aMax, limit, q.Reuse, keep)
	case LayerPlaces:
		var keep func(pitem) bool
		if len(c.kinds) > 0 {
			sl, c := s.places.slots, c
			keep = func(it pitem) bool { return c.placeOK(sl.get(it.slot)) }
		}
		return nearbyHits(ctx, s.places, center, radius, aMax, limit, q.Reuse, keep)
	case LayerBuildings:
		return nearbyHits(ctx, s.buildings, center, radius, aMax, limit, q.Reuse, nil)
	}
	return Result{}, fmt.Errorf("%w: nearby works on entities, places and buildings, not %q", ErrUnknownLayer, layer)
}

// candBuf is a radius query's scratch space, pooled.
type candBuf struct {
	c, tmp []cand
	counts []int32 // the sort's buckets
	// the features of c, looked up in scan order
	ents   []*Entity
	places []*Place
	blds   []*Building
}

func getCandBuf() *candBuf {
	if cb, ok := candPool.Get().(*candBuf); ok {
		return cb
	}
	return &candBuf{}
}

func (cb *candBuf) release() {
	if cap(cb.c) > 1<<16 {
		return
	}
	// keep no feature alive from the pool (beyond len, cleared before)
	clear(cb.ents)
	clear(cb.places)
	clear(cb.blds)
	cb.ents, cb.places, cb.blds = cb.ents[:0], cb.places[:0], cb.blds[:0]
	candPool.Put(cb)
}

// gatheredID is the ID of the i-th feature gathered for this query (only
// one layer's list is filled at a time).
func (cb *candBuf) gatheredID(i uint32) string {
	switch {
	case len(cb.ents) > 0:
		return cb.ents[i].ID
	case len(cb.places) > 0:
		return cb.places[i].ID
	}
	return cb.blds[i].ID
}

// gather looks up the features of c in scan order, in which their slots
// mostly ascend (slots and the packed tree both follow the Hilbert curve),
// and renumbers c to index them. Looking them up later in distance order
// would miss the cache about once a hit; this reads the slot table as a
// stream. When only a few of many hits are kept, or the layer is small, it
// is not worth it.
func gather[T any](sl *slotArr[T], c []cand, n int, dst []*T) ([]*T, bool) {
	// a small layer's slot table (below 1 MiB) stays in the cache anyway
	if n*8 < len(c) || sl.next < 1<<17 {
		return dst, false
	}
	dst = dst[:0]
	for i := range c {
		dst = append(dst, sl.get(c[i].slot))
		c[i].slot = uint32(i)
	}
	return dst, true
}

// nearbyHits runs the radius scan, sorts the candidates and turns the
// first limit of them into hits.
func nearbyHits[T any](ctx context.Context, l pointLayer[T], center orb.Point, radius, aMax float64, limit int, reuse []Hit, keep func(pitem) bool) (Result, error) {
	cb := getCandBuf()
	defer cb.release()
	var err error
	cb.c, err = nearbyLayer(ctx, l, center, radius, keep, cb.c[:0])
	if err != nil {
		return Result{}, err
	}
	res := Result{Total: len(cb.c)}
	n := len(cb.c)
	if n > limit {
		n, res.Truncated = limit, true
	}
	hits := slices.Grow(hitBuf(reuse, n), n)[:n]
	// one type switch per query, so that each loop below is concrete
	var direct bool
	switch sl := any(l.slots).(type) {
	case *slotArr[Entity]:
		cb.ents, direct = gather(sl, cb.c, n, cb.ents)
	case *slotArr[Place]:
		cb.places, direct = gather(sl, cb.c, n, cb.places)
	case *slotArr[Building]:
		cb.blds, direct = gather(sl, cb.c, n, cb.blds)
	}
	cs := cb.sort(aMax)
	if i := firstTie(cs, n); i >= 0 {
		// equal distances (features at one point) in the order of their
		// IDs, so that the limit keeps the same ones whatever the order
		// of loading and updates
		id := func(slot uint32) string { return featureID(l.slots.get(slot)) }
		if direct {
			id = cb.gatheredID
		}
		sortTies(cs[i:], n-i, id)
	}
	cs = cs[:n]
	for i := range hits {
		d, ok := havToMetresSmall(cs[i].a)
		if !ok {
			d = havToMetres(cs[i].a)
		}
		hits[i] = Hit{DistanceM: d}
	}
	switch sl := any(l.slots).(type) {
	case *slotArr[Entity]:
		if direct {
			for i := range hits {
				hits[i].Entity = cb.ents[cs[i].slot]
			}
		} else {
			for i := range hits {
				hits[i].Entity = sl.get(cs[i].slot)
			}
		}
	case *slotArr[Place]:
		if direct {
			for i := range hits {
				hits[i].Place = cb.places[cs[i].slot]
			}
		} else {
			for i := range hits {
				hits[i].Place = sl.get(cs[i].slot)
			}
		}
	case *slotArr[Building]:
		if direct {
			for i := range hits {
				hits[i].Building = cb.blds[cs[i].slot]
			}
		} else {
			for i := range hits {
				hits[i].Building = sl.get(cs[i].slot)
			}
		}
	}
	res.Hits = hits
	return res, nil
}

// firstTie returns the index of the first candidate among cs[:n] (sorted
// by distance) that has the distance of the next one, or -1.
func firstTie(cs []cand, n int) int {
	for i := 0; i < n && i+1 < len(cs); i++ {
		if cs[i].a == cs[i+1].a {
			return i
		}
	}
	return -1
}

// sortTies orders by id each run of equal distances in cs (sorted by
// distance) that starts among its first n, including the run that reaches
// past n.
func sortTies(cs []cand, n int, id func(slot uint32) string) {
	for i := 0; i < n; {
		j := i + 1
		for j < len(cs) && cs[j].a == cs[i].a {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(cs[i:j], func(x, y cand) int { return strings.Compare(id(x.slot), id(y.slot)) })
		}
		i = j
	}
}

// featureID is the ID of a point feature.
func featureID[T any](f *T) string {
	switch v := any(f).(type) {
	case *Entity:
		return v.ID
	case *Place:
		return v.ID
	case *Building:
		return v.ID
	}
	return ""
}

func hitBuf(reuse []Hit, n int) []Hit {
	if reuse != nil {
		return reuse[:0]
	}
	return make([]Hit, 0, n)
}

// KNearest returns the k features of layer nearest to center that pass q's
// filter, nearest first (q.Limit is ignored; k is capped by MaxLimit).
// Equal distances are ordered by ID, also where k cuts through them.
func (s *Snapshot) KNearest(ctx context.Context, layer Layer, center orb.Point, k int, q Query) (Result, error) {
	if err := ValidatePoint(center); err != nil {
		return Result{}, err
	}
	if k <= 0 || k > s.opts.MaxLimit {
		return Result{}, fmt.Errorf("%w: k %d must be between 1 and %d", ErrInvalidQuery, k, s.opts.MaxLimit)
	}
	if err := s.checkFilter(layer, q); err != nil {
		return Result{}, err
	}
	c := q.compile()
	switch layer {
	case LayerEntities:
		return knearest(ctx, s.entities, center, k, func(it pitem, e *Entity) bool { return c.bitsOK(it.bits) && c.entityOK(e) },
			func(h *Hit, e *Entity) { h.Entity = e })
	case LayerPlaces:
		return knearest(ctx, s.places, center, k, func(_ pitem, p *Place) bool { return c.placeOK(p) },
			func(h *Hit, p *Place) { h.Place = p })
	case LayerBuildings:
		return knearest(ctx, s.buildings, center, k, nil,
			func(h *Hit, b *Building) { h.Building = b })
	}
	return Result{}, fmt.Errorf("%w: knearest works on entities, places and buildings, not %q", ErrUnknownLayer, layer)
}

func knearest[T any](ctx context.Context, l pointLayer[T], center orb.Point, k int, keep func(pitem, *T) bool, fill func(*Hit, *T)) (Result, error) {
	var res Result
	ok := func(it pitem) bool { return keep == nil || keep(it, l.slots.get(it.slot)) }
	tie := func(x, y pitem) int {
		return strings.Compare(featureID(l.slots.get(x.slot)), featureID(l.slots.get(y.slot)))
	}
	err := l.tree.nearest(ctx, center, k, ok, tie, func(it pitem, a float64) bool {
		var h Hit
		fill(&h, l.slots.get(it.slot))
		h.DistanceM = havToMetres(a)
		res.Hits = append(res.Hits, h)
		return len(res.Hits) < k
	})
	if err != nil {
		return Result{}, err
	}
	res.Total = len(res.Hits)
	return res, nil
}

// InBBox returns the features of layer inside the box (points on its edge
// included; for buildings, footprints that intersect it; for zones, zones
// whose bounding box intersects it), in no particular order, with q's filter
// and limit.
func (s *Snapshot) InBBox(ctx context.Context, layer Layer, b orb.Bound, q Query) (Result, error) {
	if err := ValidatePoint(b.Min); err != nil {
		return Result{}, err
	}
	if err := ValidatePoint(b.Max); err != nil {
		return Result{}, err
	}
	if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return Result{}, fmt.Errorf("%w: box min %v is not below max %v", ErrInvalidQuery, b.Min, b.Max)
	}
	return s.region(ctx, layer, b, nil, q)
}

// Within returns the features of layer inside the polygon or multipolygon g
// (entities and places by position, buildings by footprint centre, zones by
// their bounding box intersecting g's), with q's filter and limit, in no
// particular order. The boundary rule is that of [PreparedArea].
func (s *Snapshot) Within(ctx context.Context, layer Layer, g orb.Geometry, q Query) (Result, error) {
	var mp orb.MultiPolygon
	switch v := g.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{v}
	case orb.MultiPolygon:
		mp = v
	case orb.Bound:
		return s.InBBox(ctx, layer, v, q)
	default:
		return Result{}, fmt.Errorf("%w: within needs a Polygon or MultiPolygon, got %T", ErrInvalidGeometry, g)
	}
	total := 0
	for _, p := range mp {
		if err := validatePolygon(p, 0); err != nil {
			return Result{}, err
		}
		for _, r := range p {
			total += len(r)
		}
	}
	if total > s.opts.MaxVertices {
		return Result{}, fmt.Errorf("%w: polygon has %d vertices, the limit is %d", ErrTooLarge, total, s.opts.MaxVertices)
	}
	pa := Prepare(mp)
	return s.region(ctx, layer, pa.bound, pa, q)
}

func (s *Snapshot) region(ctx context.Context, layer Layer, b orb.Bound, pa *PreparedArea, q Query) (Result, error) {
	limit, err := s.limit(q)
	if err != nil {
		return Result{}, err
	}
	if err := s.checkFilter(layer, q); err != nil {
		return Result{}, err
	}
	c := q.compile()
	var res Result
	n := 0
	add := func(h Hit) bool {
		res.Total++
		if len(res.Hits) < limit {
			res.Hits = append(res.Hits, h)
		}
		n++
		if n%yieldStep == 0 && ctx.Err() != nil {
			err = ctx.Err()
			return false
		}
		return true
	}
	inside := func(p orb.Point) bool { return pa == nil || pa.Contains(p) }
	switch layer {
	case LayerEntities:
		s.entities.tree.search(b.Min, b.Max, func(min [2]float64, it pitem) bool {
			if !c.bitsOK(it.bits) || !inside(min) {
				return true
			}
			e := s.entities.slots.get(it.slot)
			if !c.entityOK(e) {
				return true
			}
			return add(Hit{Entity: e})
		})
	case LayerPlaces:
		s.places.tree.search(b.Min, b.Max, func(min [2]float64, it pitem) bool {
			p := s.places.slots.get(it.slot)
			if !c.placeOK(p) || !inside(min) {
				return true
			}
			return add(Hit{Place: p})
		})
	case LayerBuildings:
		if pa == nil {
			s.bldBounds.Search(b.Min, b.Max, func(_, _ [2]float64, bl *Building) bool {
				return add(Hit{Building: bl})
			})
		} else {
			s.buildings.tree.search(b.Min, b.Max, func(min [2]float64, it pitem) bool {
				if !inside(min) {
					return true
				}
				return add(Hit{Building: s.buildings.slots.get(it.slot)})
			})
		}
	case LayerZones:
		s.zones.Search(b.Min, b.Max, func(_, _ [2]float64, ze *zoneEntry) bool {
			return add(Hit{Zone: ze.zone})
		})
	default:
		return Result{}, fmt.Errorf("%w: %q", ErrUnknownLayer, layer)
	}
	if err != nil {
		return Result{}, err
	}
	res.Truncated = res.Total > len(res.Hits)
	return res, nil
}

// ZonesAt returns the zones containing p, of the given zone layers (all
// layers when none is given), sorted by layer then ID. Containment is exact
// (holes and multipolygons included) under the boundary rule of
// [PreparedArea].
func (s *Snapshot) ZonesAt(ctx context.Context, p orb.Point, layers ...string) ([]*Zone, error) {
	if err := ValidatePoint(p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.ZoneTable(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Zone
	if len(layers) == 0 {
		var buf [16]int32
		for _, zi := range t.AppendAt(buf[:0], p) {
			out = append(out, t.zones[zi])
		}
		return out, nil
	}
	for _, l := range slices.Compact(slices.Sorted(slices.Values(layers))) {
		lo, hi := t.LayerRange(l)
		for _, e := range t.cell(p) {
			if zi := e >> 1; zi >= lo && zi < hi && (e&1 == 0 || t.areas[zi].Contains(p)) {
				out = append(out, t.zones[zi])
			}
		}
	}
	return out, nil
}

// Nearby runs [Snapshot.Nearby] on the current snapshot.
func (ix *Index) Nearby(ctx context.Context, layer Layer, center orb.Point, radius float64, q Query) (Result, error) {
	return ix.Snapshot().Nearby(ctx, layer, center, radius, q)
}

// KNearest runs [Snapshot.KNearest] on the current snapshot.
func (ix *Index) KNearest(ctx context.Context, layer Layer, center orb.Point, k int, q Query) (Result, error) {
	return ix.Snapshot().KNearest(ctx, layer, center, k, q)
}

// InBBox runs [Snapshot.InBBox] on the current snapshot.
func (ix *Index) InBBox(ctx context.Context, layer Layer, b orb.Bound, q Query) (Result, error) {
	return ix.Snapshot().InBBox(ctx, layer, b, q)
}

// Within runs [Snapshot.Within] on the current snapshot.
func (ix *Index) Within(ctx context.Context, layer Layer, g orb.Geometry, q Query) (Result, error) {
	return ix.Snapshot().Within(ctx, layer, g, q)
}

// ZonesAt runs [Snapshot.ZonesAt] on the current snapshot.
func (ix *Index) ZonesAt(ctx context.Context, p orb.Point, layers ...string) ([]*Zone, error) {
	return ix.Snapshot().ZonesAt(ctx, p, layers...)
}
