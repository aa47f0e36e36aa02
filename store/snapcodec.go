package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// The snapshot's binary encoding: a feature is its fields in a fixed
// order, strings and lists length-prefixed with uvarints, floats as their
// IEEE bits, little endian. Hand-written rather than gob: a million
// entities decode in well under a second instead of ten.

type snapWriter struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (w *snapWriter) uvarint(v uint64) {
	if w.err == nil {
		n := binary.PutUvarint(w.buf[:], v)
		_, w.err = w.w.Write(w.buf[:n])
	}
}

func (w *snapWriter) varint(v int64) {
	if w.err == nil {
		n := binary.PutVarint(w.buf[:], v)
		_, w.err = w.w.Write(w.buf[:n])
	}
}

func (w *snapWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	if w.err == nil {
		_, w.err = w.w.WriteString(s)
	}
}

func (w *snapWriter) f64(v float64) {
	if w.err == nil {
		binary.LittleEndian.PutUint64(w.buf[:8], math.Float64bits(v))
		_, w.err = w.w.Write(w.buf[:8])
	}
}

func (w *snapWriter) flag(b bool) {
	if b {
		w.uvarint(1)
	} else {
		w.uvarint(0)
	}
}

func (w *snapWriter) strs(ss []string) {
	w.uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *snapWriter) smap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.uvarint(uint64(len(keys)))
	for _, k := range keys {
		w.str(k)
		w.str(m[k])
	}
}

func (w *snapWriter) point(p orb.Point) { w.f64(p[0]); w.f64(p[1]) }

func (w *snapWriter) polygon(p orb.Polygon) {
	w.uvarint(uint64(len(p)))
	for _, r := range p {
		w.uvarint(uint64(len(r)))
		for _, pt := range r {
			w.point(pt)
		}
	}
}

func (w *snapWriter) feature(v any) {
	switch t := v.(type) {
	case *geo.Entity:
		w.str(t.ID)
		w.str(t.Name)
		w.str(t.ShortName)
		w.strs(t.FormerNames)
		w.str(t.Address)
		w.point(t.Location)
		w.str(t.Industry)
		w.str(string(t.Status))
		w.str(string(t.Risk))
		w.str(t.BuildingID)
		w.str(t.GridID)
		w.flag(!t.RegisteredAt.IsZero())
		if !t.RegisteredAt.IsZero() {
			w.varint(t.RegisteredAt.Unix())
		}
		w.flag(t.AnnualReport)
		w.flag(t.Abnormal)
		w.flag(t.Blacklisted)
		w.smap(t.Attrs)
		w.uvarint(t.Version)
	case *geo.Building:
		w.str(t.ID)
		w.str(t.Name)
		w.str(t.Address)
		w.polygon(t.Footprint)
		w.uvarint(uint64(t.Floors))
		w.f64(t.HeightM)
		w.smap(t.Attrs)
		w.uvarint(t.Version)
	case *geo.Place:
		w.str(t.ID)
		w.str(t.Name)
		w.strs(t.Aliases)
		w.str(t.Kind)
		w.point(t.Location)
		w.smap(t.Attrs)
		w.uvarint(t.Version)
	case *geo.Zone:
		w.str(t.ID)
		w.str(t.Layer)
		w.str(t.Name)
		w.uvarint(uint64(len(t.Geometry)))
		for _, p := range t.Geometry {
			w.polygon(p)
		}
		w.smap(t.Props)
		w.uvarint(t.Version)
	default:
		w.err = fmt.Errorf("snapshot: cannot encode %T", v)
	}
}

// maxSnapLen bounds any length read from a snapshot, so that a corrupt
// file fails instead of allocating without limit.
const maxSnapLen = 1 << 26

var errSnapLen = errors.New("length out of range")

type snapReader struct {
	r      *bufio.Reader
	err    error
	intern map[string]string
	arena  []byte // the current chunk of the strings decoded (see str)
	// The current slabs of the features' structs and footprint points
	// (see newEntity, points).
	ents   []geo.Entity
	blds   []geo.Building
	places []geo.Place
	pts    []orb.Point
	rings  []orb.Ring
}

// The structs of the features decoded (an entity is 232 bytes) and the
// points of their footprints are allocated in slabs of about 32 KB, like
// their strings: one object for the collector where there were a hundred,
// packed together rather than spread over spans shared with the decode's
// and the start-up's short-lived objects, whose free slots those spans
// then kept resident (docs/memory.md). A slab lives as long as any of its
// features: replaced features keep at most the snapshot's own size.
const (
	slabBytes    = 32 << 10
	slabMaxRing  = 256 // longer rings are allocated on their own
	entitySlab   = slabBytes / int(unsafe.Sizeof(geo.Entity{}))
	buildingSlab = slabBytes / int(unsafe.Sizeof(geo.Building{}))
	placeSlab    = slabBytes / int(unsafe.Sizeof(geo.Place{}))
	pointSlab    = slabBytes / int(unsafe.Sizeof(orb.Point{}))
	ringSlab     = slabBytes / int(unsafe.Sizeof(orb.Ring{}))
)

// next returns a pointer to a new zero element of the slab *s, starting a
// new slab of n when it is full.
func next[T any](s *[]T, n int) *T {
	if len(*s) == cap(*s) {
		*s = make([]T, 0, n)
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

// points returns an empty ring with room for n points: from the current
// slab, its capacity cut at n so that an append never reaches the next
// ring's points.
func (r *snapReader) points(n int) orb.Ring {
	if n > slabMaxRing {
		return make(orb.Ring, 0, n)
	}
	if len(r.pts)+n > cap(r.pts) {
		r.pts = make([]orb.Point, 0, pointSlab)
	}
	off := len(r.pts)
	r.pts = r.pts[:off+n]
	return r.pts[off : off : off+n]
}

// Strings of at most arenaMaxStr bytes are decoded into shared chunks of
// arenaChunk bytes rather than each into its own allocation: a feature's
// ID, name and address are 10-60 bytes, and a million features made
// millions of small objects, each rounded up to its size class, for the
// collector to mark at every cycle. A chunk lives as long as any of its
// strings: a feature replaced later keeps at most its chunk's bytes, so
// the strings of a snapshot can at worst stay twice (docs/memory.md).
const (
	arenaChunk  = 32 << 10
	arenaMaxStr = 512
)

// maxIntern bounds the distinct values istr keeps for sharing (values
// after that are decoded like any string).
const maxIntern = 1 << 16

func (r *snapReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(r.r)
	if err != nil {
		r.err = err
	}
	return v
}

func (r *snapReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(r.r)
	if err != nil {
		r.err = err
	}
	return v
}

func (r *snapReader) n() int {
	v := r.uvarint()
	if v > maxSnapLen {
		if r.err == nil {
			r.err = errSnapLen
		}
		return 0
	}
	return int(v)
}

func (r *snapReader) str() string {
	n := r.n()
	if n == 0 || r.err != nil {
		return ""
	}
	return r.str1(n)
}

// istr reads a string that repeats across features (status, industry,
// grid …) once per distinct value.
func (r *snapReader) istr() string {
	n := r.n()
	if n == 0 || r.err != nil {
		return ""
	}
	b, err := r.r.Peek(n)
	if err != nil {
		return r.strRest(n)
	}
	s, ok := r.intern[string(b)] // no allocation for the lookup
	if !ok {
		if len(r.intern) >= maxIntern {
			return r.str1(n)
		}
		s = string(b)
		r.intern[s] = s
	}
	r.r.Discard(n)
	return s
}

// str1 is str with its length n already read.
func (r *snapReader) str1(n int) string {
	if n > arenaMaxStr {
		return r.strRest(n)
	}
	if len(r.arena)+n > cap(r.arena) {
		r.arena = make([]byte, 0, arenaChunk)
	}
	off := len(r.arena)
	b := r.arena[off : off+n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = err
		return ""
	}
	// The bytes are never written again: the chunk only grows past them
	// and a full chunk is dropped for a new one.
	r.arena = r.arena[:off+n]
	return unsafe.String(&b[0], n)
}

func (r *snapReader) strRest(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = err
		return ""
	}
	return string(b)
}

func (r *snapReader) f64() float64 {
	if r.err != nil {
		return 0
	}
	var b [8]byte
	if _, err := io.ReadFull(r.r, b[:]); err != nil {
		r.err = err
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
}

func (r *snapReader) flag() bool { return r.uvarint() != 0 }

func (r *snapReader) strs() []string {
	n := r.n()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, min(n, 1024))
	for range n {
		if r.err != nil {
			return nil
		}
		out = append(out, r.str())
	}
	return out
}

func (r *snapReader) smap() map[string]string {
	n := r.n()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, min(n, 1024))
	for range n {
		if r.err != nil {
			return nil
		}
		k := r.istr()
		m[k] = r.istr() // values repeat too (a building's use, a source)
	}
	return m
}

func (r *snapReader) point() orb.Point { return orb.Point{r.f64(), r.f64()} }

func (r *snapReader) polygon() orb.Polygon {
	n := r.n()
	var p orb.Polygon
	if n <= slabMaxRing {
		if len(r.rings)+n > cap(r.rings) {
			r.rings = make([]orb.Ring, 0, ringSlab)
		}
		off := len(r.rings)
		r.rings = r.rings[:off+n]
		p = orb.Polygon(r.rings[off : off : off+n])
	} else {
		p = make(orb.Polygon, 0, min(n, 1024))
	}
	for range n {
		m := r.n()
		ring := r.points(min(m, 1<<16))
		for range m {
			if r.err != nil {
				return nil
			}
			ring = append(ring, r.point())
		}
		p = append(p, ring)
	}
	return p
}

func (r *snapReader) feature(l geo.Layer) (any, string) {
	switch l {
	case geo.LayerEntities:
		e := next(&r.ents, entitySlab)
		e.ID = r.str()
		e.Name = r.str()
		e.ShortName = r.str()
		e.FormerNames = r.strs()
		e.Address = r.str()
		e.Location = r.point()
		e.Industry = r.istr()
		e.Status = geo.Status(r.istr())
		e.Risk = geo.Risk(r.istr())
		e.BuildingID = r.istr()
		e.GridID = r.istr()
		if r.flag() {
			e.RegisteredAt = time.Unix(r.varint(), 0).UTC()
		}
		e.AnnualReport, e.Abnormal, e.Blacklisted = r.flag(), r.flag(), r.flag()
		e.Attrs = r.smap()
		e.Version = r.uvarint()
		return e, e.ID
	case geo.LayerBuildings:
		b := next(&r.blds, buildingSlab)
		b.ID = r.str()
		b.Name = r.str()
		b.Address = r.str()
		b.Footprint = r.polygon()
		b.Floors = int(r.uvarint())
		b.HeightM = r.f64()
		b.Attrs = r.smap()
		b.Version = r.uvarint()
		return b, b.ID
	case geo.LayerPlaces:
		p := next(&r.places, placeSlab)
		p.ID = r.str()
		p.Name = r.str()
		p.Aliases = r.strs()
		p.Kind = r.istr()
		p.Location = r.point()
		p.Attrs = r.smap()
		p.Version = r.uvarint()
		return p, p.ID
	}
	z := &geo.Zone{}
	z.ID = r.str()
	z.Layer = r.istr()
	z.Name = r.str()
	n := r.n()
	for range n {
		if r.err != nil {
			break
		}
		z.Geometry = append(z.Geometry, r.polygon())
	}
	z.Props = r.smap()
	z.Version = r.uvarint()
	return z, z.ID
}
