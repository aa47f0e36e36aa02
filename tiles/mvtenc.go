package tiles

import (
	"encoding/binary"
	"math"
)

// pointLayer encodes one MVT 2.1 layer of point features straight to
// protobuf, with shared key and value tables. It is the hot path of entity
// tiles; polygon layers go through orb's encoding/mvt.
type pointLayer struct {
	name     string
	extent   uint32
	keys     []string
	keyIdx   map[string]uint32
	vals     []byte // encoded Value messages, each with its field-4 tag
	valIdx   map[mvtValue]uint32
	nvals    uint32
	features []byte // encoded features, each with its field-2 tag
	scratch  []byte
	packed   []byte
	tags     []uint32
	n        int
}

type mvtValue struct {
	s     string
	n     int64
	isInt bool
}

func newPointLayer(name string, extent uint32, sizeHint int) *pointLayer {
	return &pointLayer{name: name, extent: extent, keyIdx: map[string]uint32{}, valIdx: map[mvtValue]uint32{},
		features: make([]byte, 0, sizeHint*32), vals: make([]byte, 0, sizeHint*112)}
}

func (l *pointLayer) key(k string) uint32 {
	if i, ok := l.keyIdx[k]; ok {
		return i
	}
	i := uint32(len(l.keys))
	l.keys = append(l.keys, k)
	l.keyIdx[k] = i
	return i
}

func (l *pointLayer) value(v mvtValue) uint32 {
	if i, ok := l.valIdx[v]; ok {
		return i
	}
	i := l.nvals
	l.nvals++
	l.valIdx[v] = i
	var msg []byte
	if v.isInt {
		if v.n >= 0 {
			msg = appendVarint(append(msg, 5<<3|0), uint64(v.n)) // uint_value
		} else {
			msg = appendVarint(append(msg, 6<<3|0), zigzag(v.n)) // sint_value
		}
	} else {
		msg = appendString(msg, 1, v.s) // string_value
	}
	l.vals = appendBytes(l.vals, 4, msg)
	return i
}

// str and num add a property to the feature being built.
func (l *pointLayer) str(k, v string) {
	if v == "" {
		return
	}
	l.tags = append(l.tags, l.key(k), l.value(mvtValue{s: v}))
}

// uniq adds a string property whose value is (nearly) unique per feature,
// such as an ID or a name: it skips the value table lookup, which would
// only cost hashing.
func (l *pointLayer) uniq(k, v string) {
	if v == "" {
		return
	}
	i := l.nvals
	l.nvals++
	l.vals = appendVarint(l.vals, 4<<3|2)
	l.vals = appendVarint(l.vals, uint64(len(v)+1+varintLen(uint64(len(v)))))
	l.vals = appendString(l.vals, 1, v)
	l.tags = append(l.tags, l.key(k), i)
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (l *pointLayer) num(k string, v int64) {
	l.tags = append(l.tags, l.key(k), l.value(mvtValue{n: v, isInt: true}))
}

// add writes a point feature at tile coordinates (x, y) with the
// properties added since the previous add.
func (l *pointLayer) add(x, y int64) {
	f := l.scratch[:0]
	if len(l.tags) > 0 {
		packed := l.packed[:0]
		for _, t := range l.tags {
			packed = appendVarint(packed, uint64(t))
		}
		f = appendBytes(f, 2, packed)
		l.packed = packed
	}
	f = appendVarint(append(f, 3<<3|0), 1) // type POINT
	var g [3 * binary.MaxVarintLen64]byte
	geom := appendVarint(g[:0], 9) // MoveTo, count 1
	geom = appendVarint(geom, zigzag(x))
	geom = appendVarint(geom, zigzag(y))
	f = appendBytes(f, 4, geom)
	l.features = appendBytes(l.features, 2, f)
	l.scratch = f
	l.tags = l.tags[:0]
	l.n++
}

// marshal returns the layer as a complete one-layer tile (a Tile message
// with field 3), or nil when it has no feature. Tiles are concatenated
// layer by layer, which protobuf merges into one multi-layer tile.
func (l *pointLayer) marshal() []byte {
	if l.n == 0 {
		return nil
	}
	var head []byte
	head = appendVarint(append(head, 15<<3|0), 2) // version
	head = appendString(head, 1, l.name)
	var tail []byte
	for _, k := range l.keys {
		tail = appendString(tail, 3, k)
	}
	bodyLen := len(head) + len(l.features) + len(tail) + len(l.vals) + 1 + varintLen(uint64(l.extent))
	out := make([]byte, 0, bodyLen+1+varintLen(uint64(bodyLen)))
	out = appendVarint(out, 3<<3|2)
	out = appendVarint(out, uint64(bodyLen))
	out = append(out, head...)
	out = append(out, l.features...)
	out = append(out, tail...)
	out = append(out, l.vals...)
	return appendVarint(append(out, 5<<3|0), uint64(l.extent))
}

func zigzag(v int64) uint64 { return uint64((v << 1) ^ (v >> 63)) }

func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendBytes(b []byte, field int, v []byte) []byte {
	b = appendVarint(b, uint64(field<<3|2))
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, field int, s string) []byte {
	b = appendVarint(b, uint64(field<<3|2))
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

// mercator returns the Web-Mercator world fraction (0..1 from the
// antimeridian / the north edge) of a WGS-84 point, like orb's
// maptile.Fraction at zoom 0.
func mercator(lon, lat float64) (float64, float64) {
	x := lon/360 + 0.5
	switch {
	case lat < -85.0511:
		return x, 1
	case lat > 85.0511:
		return x, 0
	}
	s := math.Sin(lat * math.Pi / 180)
	return x, 0.5 + 0.5*math.Log((1+s)/(1-s))/(-2*math.Pi)
}
