package tiles

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/marketgeo/marketgeo/geo"
)

// pointStore holds every entity in buckets of the tile of zoom bz that
// contains it, in the form an entity tile needs: its Web-Mercator position,
// small codes for risk, industry and status, and its id and name already
// encoded as MVT Value messages in the bucket's byte arena. A point or
// clustered tile reads only the buckets under it, sequentially, and copies
// the encoded properties without touching the entities themselves (whose
// strings lie scattered over the heap: fetching them was most of a dense
// tile's render time). It is kept current by the renderer's Follow
// callback, under mu.
type pointStore struct {
	mu      sync.RWMutex
	bz      uint
	buckets map[uint64]*bucket
	dict    valueDict // industry and status strings
	risk    [5][]byte // encoded Value messages of the risk classes by code
	version uint64    // index version the buckets reflect
	// compactions counts arena compactions after removals (for tests).
	compactions int
}

// bucket holds the points of one tile of zoom bz, split into the 8×8
// sub-cells of zoom bz+3 (row-major), so that a tile or its buffer reads
// only the sub-cells it overlaps: a z14 tile of a z13 bucket reads 16 of
// them whole plus a rim of neighbours for its buffer, instead of scanning
// four buckets. No slice holds a pointer, so the garbage collector does
// not scan them.
type bucket struct {
	cells [subSide * subSide][]storedPoint
	arena []byte // encoded id and name Value messages of the points
	dead  int    // arena bytes of removed points
	n     int    // points in all cells
}

// subLevels is the number of zoom levels between a bucket and its
// sub-cells.
const (
	subLevels = 3
	subSide   = 1 << subLevels
)

// storedPoint is one entity of a bucket (40 bytes).
type storedPoint struct {
	fx, fy   float64 // Web-Mercator world fraction (mercator)
	off, n   uint32  // its encoded Value messages: arena[off : off+n]
	industry uint32  // dictionary code, 0 = none
	status   uint32  // dictionary code, 0 = none
	risk     uint8   // 0 unknown, 1..4 = A..D
	props    uint8   // propID | propName: which Value messages arena holds
}

const (
	propID   = 1 << iota // the encoded values start with the id
	propName             // followed by the name
)

// valueDict interns shared string property values as small codes with
// their encoded Value messages, so that a tile's value table is indexed by
// code instead of hashing strings.
type valueDict struct {
	codes map[string]uint32
	strs  []string // code → value; strs[0] = ""
	enc   [][]byte // code → encoded Value message (field 4 of a layer)
}

func (d *valueDict) code(s string) uint32 {
	if s == "" {
		return 0
	}
	if c, ok := d.codes[s]; ok {
		return c
	}
	if d.codes == nil {
		d.codes = map[string]uint32{}
		d.strs, d.enc = []string{""}, [][]byte{nil}
	}
	c := uint32(len(d.strs))
	d.codes[s] = c
	d.strs = append(d.strs, s)
	d.enc = append(d.enc, appendStringValue(nil, s))
	return c
}

func riskCode(r geo.Risk) uint8 {
	switch r {
	case geo.RiskA:
		return 1
	case geo.RiskB:
		return 2
	case geo.RiskC:
		return 3
	case geo.RiskD:
		return 4
	}
	return 0
}

func newPointStore(bz uint) *pointStore {
	s := &pointStore{bz: bz, buckets: map[uint64]*bucket{}}
	for c, v := range []string{"A", "B", "C", "D"} {
		s.risk[c+1] = appendStringValue(nil, v)
	}
	return s
}

func clampF(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// cellOf returns the bucket key of a position and its sub-cell index.
func (s *pointStore) cellOf(fx, fy float64) (uint64, int) {
	n := float64(uint64(1) << (s.bz + subLevels))
	gx := uint64(clampF(math.Floor(fx*n), 0, n-1))
	gy := uint64(clampF(math.Floor(fy*n), 0, n-1))
	return (gx>>subLevels)<<32 | gy>>subLevels, int(gy&(subSide-1))<<subLevels | int(gx&(subSide-1))
}

// add and remove must be called with mu held for writing.
func (s *pointStore) add(e *geo.Entity) {
	fx, fy := mercator(e.Location[0], e.Location[1])
	k, c := s.cellOf(fx, fy)
	b := s.buckets[k]
	if b == nil {
		b = &bucket{}
		s.buckets[k] = b
	}
	p := storedPoint{fx: fx, fy: fy, off: uint32(len(b.arena)), risk: riskCode(e.Risk),
		industry: s.dict.code(e.Industry), status: s.dict.code(string(e.Status))}
	if e.ID != "" {
		b.arena = appendStringValue(b.arena, e.ID)
		p.props |= propID
	}
	if e.Name != "" {
		b.arena = appendStringValue(b.arena, e.Name)
		p.props |= propName
	}
	p.n = uint32(len(b.arena)) - p.off
	b.cells[c] = append(b.cells[c], p)
	b.n++
}

func (s *pointStore) remove(e *geo.Entity) {
	fx, fy := mercator(e.Location[0], e.Location[1])
	k, c := s.cellOf(fx, fy)
	b := s.buckets[k]
	if b == nil {
		return
	}
	pts := b.cells[c]
	for i := range pts {
		if b.hasID(&pts[i], e.ID) {
			b.dead += int(pts[i].n)
			pts[i] = pts[len(pts)-1]
			b.cells[c] = pts[:len(pts)-1]
			b.n--
			break
		}
	}
	switch {
	case b.n == 0:
		delete(s.buckets, k)
	case b.dead > 1024 && b.dead > len(b.arena)/2:
		b.compact()
		s.compactions++
	}
}

// id returns the entity ID of a stored point ("" if it has none).
func (b *bucket) id(p *storedPoint) string { return string(b.idBytes(p)) }

// hasID reports whether the entity ID of a stored point is id, without
// making a string of it (remove compares it with every point of a cell).
func (b *bucket) hasID(p *storedPoint, id string) bool { return string(b.idBytes(p)) == id }

// idBytes returns the entity ID of a stored point in the arena (nil if it
// has none).
func (b *bucket) idBytes(p *storedPoint) []byte {
	if p.props&propID == 0 {
		return nil
	}
	v := b.arena[p.off : p.off+p.n]
	// 0x22 len(msg) 0x0a len(id) id
	_, n1 := binary.Uvarint(v[1:])
	l, n2 := binary.Uvarint(v[2+n1:])
	start := 2 + n1 + n2
	return v[start : start+int(l)]
}

// compact rewrites the arena without the bytes of removed points.
func (b *bucket) compact() {
	arena := make([]byte, 0, len(b.arena)-b.dead)
	for c := range b.cells {
		for i := range b.cells[c] {
			p := &b.cells[c][i]
			off := uint32(len(arena))
			arena = append(arena, b.arena[p.off:p.off+p.n]...)
			p.off = off
		}
	}
	b.arena, b.dead = arena, 0
}

// trim compacts every bucket to its exact size (after the initial load).
func (s *pointStore) trim() {
	for _, b := range s.buckets {
		b.compact()
		for c, pts := range b.cells {
			if cap(pts) > len(pts)+len(pts)/8 {
				b.cells[c] = slices.Clone(pts)
			}
		}
	}
}

// eachBucket calls fn for every bucket of zoom bz in the range
// [bx0, bx1] × [by0, by1] (inclusive), column by column, until fn returns
// false; it reports whether it went through. The caller holds mu.
func (s *pointStore) eachBucket(bx0, bx1, by0, by1 uint64, fn func(uint64, *bucket) bool) bool {
	if (bx1-bx0+1)*(by1-by0+1) > uint64(len(s.buckets)) {
		// Fewer buckets than cells: pick them from the map, in the same
		// order as the loop below, so that a tile's bytes do not depend on
		// map order.
		var keys []uint64
		for k := range s.buckets {
			if bx, by := k>>32, k&0xffffffff; bx >= bx0 && bx <= bx1 && by >= by0 && by <= by1 {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !fn(k, s.buckets[k]) {
				return false
			}
		}
		return true
	}
	for bx := bx0; bx <= bx1; bx++ {
		for by := by0; by <= by1; by++ {
			if b, ok := s.buckets[bx<<32|by]; ok && !fn(bx<<32|by, b) {
				return false
			}
		}
	}
	return true
}

// matcher applies a geo.Filter to stored points with the semantics of the
// geo index (risk and status sets, GB/T 4754 prefixes with or without the
// section letter). It reads the store's dictionary: build and use it with
// mu held.
type matcher struct {
	d        *valueDict
	risk     [5]bool
	anyRisk  bool
	status   []uint32
	anyStat  bool
	industry []string
	indOK    []int8 // by industry code: 0 not yet known, 1 match, -1 no match
}

func newMatcher(d *valueDict, f geo.Filter) *matcher {
	m := &matcher{d: d}
	for _, r := range f.Risk {
		m.risk[riskCode(r)] = true
		m.anyRisk = true
	}
	for _, st := range f.Status {
		m.anyStat = true
		if c, ok := d.codes[string(st)]; ok {
			m.status = append(m.status, c)
		}
	}
	for _, in := range f.Industry {
		if in = strings.ToUpper(strings.TrimSpace(in)); in != "" {
			m.industry = append(m.industry, in)
		}
	}
	if len(m.industry) > 0 {
		m.indOK = make([]int8, len(d.strs)+1)
	}
	return m
}

// all reports a matcher that keeps every point.
func (m *matcher) all() bool { return !m.anyRisk && !m.anyStat && len(m.industry) == 0 }

func (m *matcher) ok(p *storedPoint) bool {
	if m.anyRisk && !m.risk[p.risk] {
		return false
	}
	if m.anyStat {
		found := false
		for _, c := range m.status {
			if p.status == c {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(m.industry) == 0 {
		return true
	}
	c := p.industry
	if int(c) >= len(m.indOK) {
		return false
	}
	if m.indOK[c] == 0 {
		m.indOK[c] = -1
		if industryMatch(m.d.strs[c], m.industry) {
			m.indOK[c] = 1
		}
	}
	return m.indOK[c] == 1
}

// industryMatch reports whether GB/T 4754 class ind starts with one of the
// prefixes, given with or without the section letter.
func industryMatch(ind string, prefixes []string) bool {
	if ind == "" {
		return false
	}
	for _, pre := range prefixes {
		if strings.HasPrefix(ind, pre) || (len(ind) > 1 && pre[0] >= '0' && pre[0] <= '9' && strings.HasPrefix(ind[1:], pre)) {
			return true
		}
	}
	return false
}

// eachCell calls fn with the points (and index) of every non-empty sub-cell that
// overlaps the world-fraction box [x0, x1) × [y0, y1), bucket by bucket
// (in eachBucket's order) and row by row, until fn returns false; inside
// reports a sub-cell lying wholly in the box, whose points need no bounds
// test. The caller holds mu (read).
func (s *pointStore) eachCell(x0, y0, x1, y1 float64, fn func(b *bucket, c int, pts []storedPoint, inside bool) bool) bool {
	zs := s.bz + subLevels
	n := float64(uint64(1) << zs)
	lo := func(v float64) uint64 { return uint64(clampF(math.Floor(v*n), 0, n-1)) }
	hi := func(v float64) uint64 { return uint64(clampF(math.Ceil(v*n)-1, 0, n-1)) }
	gx0, gx1, gy0, gy1 := lo(x0), hi(x1), lo(y0), hi(y1)
	if gx1 < gx0 || gy1 < gy0 {
		return true
	}
	in := func(g uint64, a, b float64) bool { return float64(g)/n >= a && float64(g+1)/n <= b }
	return s.eachBucket(gx0>>subLevels, gx1>>subLevels, gy0>>subLevels, gy1>>subLevels, func(k uint64, b *bucket) bool {
		bx, by := (k>>32)<<subLevels, (k&0xffffffff)<<subLevels
		sx0, sx1 := max(gx0, bx), min(gx1, bx+subSide-1)
		sy0, sy1 := max(gy0, by), min(gy1, by+subSide-1)
		for gy := sy0; gy <= sy1; gy++ {
			row := int(gy-by) << subLevels
			yin := in(gy, y0, y1)
			for gx := sx0; gx <= sx1; gx++ {
				c := row | int(gx-bx)
				if pts := b.cells[c]; len(pts) > 0 && !fn(b, c, pts, yin && in(gx, x0, x1)) {
					return false
				}
			}
		}
		return true
	})
}

// eachIn calls fn for every stored point matching m inside the
// world-fraction box [x0, x1) × [y0, y1) until fn returns false. The caller
// holds mu (read). It checks ctx between buckets.
func (s *pointStore) eachIn(ctx context.Context, x0, y0, x1, y1 float64, m *matcher, fn func(b *bucket, p *storedPoint) bool) error {
	all := m.all()
	var err error
	var last *bucket
	s.eachCell(x0, y0, x1, y1, func(b *bucket, _ int, pts []storedPoint, inside bool) bool {
		if b != last {
			if err = ctx.Err(); err != nil {
				return false
			}
			last = b
		}
		for i := range pts {
			p := &pts[i]
			if !inside && (p.fx < x0 || p.fx >= x1 || p.fy < y0 || p.fy >= y1) {
				continue
			}
			if (all || m.ok(p)) && !fn(b, p) {
				return false
			}
		}
		return true
	})
	return err
}
