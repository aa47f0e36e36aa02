package tiles

import (
	"encoding/binary"
	"math"
)

// pointLayer encodes one MVT 2.1 layer of point features straight to
// protobuf, with shared key and value tables. It is the hot path of entity
// tiles (and is used for places); polygon layers go through orb's
// encoding/mvt. Layers are pooled by the Renderer: reset clears one for
// reuse while keeping its buffers.
//
// Why not orb's encoder for points: orb's mvt.Marshal takes geojson
// features with map[string]any properties and builds a vectortile.Tile
// message graph before marshalling it; for the ~4,000 points of a dense
// z14 tile that is ~20,000 map entries and interface values per render,
// and it cannot reuse per-entity encodings. Here an entity's id and name
// are copied as pre-encoded Value messages from the point store, and the
// shared values (risk, industry, status) are indexed by small codes. The
// output is checked against orb's encoder in TestFastEncoderMatchesOrb.
type pointLayer struct {
	name     string
	extent   uint32
	keys     []string
	keyIdx   map[string]uint32
	vals     []byte // encoded Value messages, each with its field-4 tag
	valIdx   map[mvtValue]uint32
	nvals    uint32
	features []byte   // encoded features, each with its field-2 tag
	tags     []uint32 // tags of the feature being built
	n        int

	// Entity properties: key indices of entityKeys, and value index + 1 of
	// each risk and dictionary code already in vals (0 = not yet).
	entKeys  [5]uint32
	haveKeys bool
	riskIdx  [5]uint32
	dictIdx  []uint32
	sel      []selPoint    // scratch: the points of a point tile
	cells    []clusterCell // scratch: the cells of a clustered tile
	bks      []*bucket     // scratch: the buckets of a clustered tile

	// Cluster properties: key indices of clusterKeys, and value index + 1
	// of each small integer already in vals (0 = not yet).
	clKeys [6]uint32
	haveCl bool
	intIdx []uint32
}

// clusterKeys returns the numeric property keys of a cluster feature, in
// the order of pointLayer.clKeys (its risk uses the entity key).
func clusterKeys() [6]string {
	return [6]string{"cluster", "count", "count_A", "count_B", "count_C", "count_D"}
}

// entityKeys returns the property keys of an entity feature, in the order
// of pointLayer.entKeys.
func entityKeys() [5]string { return [5]string{"id", "name", "risk", "industry", "status"} }

type selPoint struct {
	b *bucket
	p *storedPoint
}

type mvtValue struct {
	s     string
	n     int64
	isInt bool
}

func newPointLayer(name string, extent uint32) *pointLayer {
	return &pointLayer{name: name, extent: extent, keyIdx: map[string]uint32{}, valIdx: map[mvtValue]uint32{}}
}

// reset empties the layer for reuse under a new name, keeping its buffers.
func (l *pointLayer) reset(name string, extent uint32) {
	l.name, l.extent = name, extent
	l.keys = l.keys[:0]
	clear(l.keyIdx)
	l.vals = l.vals[:0]
	clear(l.valIdx)
	l.nvals = 0
	l.features = l.features[:0]
	l.tags = l.tags[:0]
	l.n = 0
	l.haveKeys = false
	l.riskIdx = [5]uint32{}
	clear(l.dictIdx)
	clear(l.sel)
	l.sel = l.sel[:0]
	clear(l.bks)
	l.bks = l.bks[:0]
	l.haveCl = false
	clear(l.intIdx)
}

// smallInt returns the index of the unsigned integer value v (< 1<<16) in
// the layer's value table, adding it if needed.
func (l *pointLayer) smallInt(v int32) uint32 {
	if int(v) >= len(l.intIdx) {
		l.intIdx = append(l.intIdx, make([]uint32, int(v)+1-len(l.intIdx))...)
	}
	if l.intIdx[v] == 0 {
		l.vals = append(l.vals, 4<<3|2, byte(1+varintLen(uint64(v))), 5<<3|0) // Value{uint_value}
		l.vals = appendVarint(l.vals, uint64(v))
		l.nvals++
		l.intIdx[v] = l.nvals
	}
	return l.intIdx[v] - 1
}

// cluster adds the feature of a cluster cell: cluster=1, count,
// count_A … count_D and risk = the worst class present, at the members'
// mean position.
func (l *pointLayer) cluster(s *pointStore, c *clusterCell) {
	if !l.haveCl {
		for i, k := range clusterKeys() {
			l.clKeys[i] = l.key(k)
		}
		l.haveCl = true
	}
	if c.n >= 1<<16 {
		l.num("cluster", 1)
		l.num("count", int64(c.n))
		l.num("count_A", int64(c.byRisk[1]))
		l.num("count_B", int64(c.byRisk[2]))
		l.num("count_C", int64(c.byRisk[3]))
		l.num("count_D", int64(c.byRisk[4]))
	} else {
		l.tags = append(l.tags, l.clKeys[0], l.smallInt(1), l.clKeys[1], l.smallInt(c.n))
		for i := 1; i <= 4; i++ {
			l.tags = append(l.tags, l.clKeys[1+i], l.smallInt(c.byRisk[i]))
		}
	}
	var by [5]int
	for i, n := range c.byRisk {
		by[i] = int(n)
	}
	l.risk(s, dominantRisk(by))
	n := float64(c.n)
	l.add(int64(math.Floor(c.sx/n)), int64(math.Floor(c.sy/n)))
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
	l.vals = appendStringValue(l.vals, v)
	l.tags = append(l.tags, l.key(k), i)
}

func (l *pointLayer) num(k string, v int64) {
	l.tags = append(l.tags, l.key(k), l.value(mvtValue{n: v, isInt: true}))
}

func (l *pointLayer) ensureEntityKeys() {
	if !l.haveKeys {
		for i, k := range entityKeys() {
			l.entKeys[i] = l.key(k)
		}
		l.haveKeys = true
	}
}

// risk adds the risk property (code 1..4 = A..D) to the feature being
// built.
func (l *pointLayer) risk(s *pointStore, code uint8) {
	if code == 0 {
		return
	}
	l.ensureEntityKeys()
	if l.riskIdx[code] == 0 {
		l.vals = append(l.vals, s.risk[code]...)
		l.nvals++
		l.riskIdx[code] = l.nvals
	}
	l.tags = append(l.tags, l.entKeys[2], l.riskIdx[code]-1)
}

func (l *pointLayer) dictValue(d *valueDict, code uint32) uint32 {
	if int(code) >= len(l.dictIdx) {
		l.dictIdx = append(l.dictIdx, make([]uint32, int(code)+1-len(l.dictIdx))...)
	}
	if l.dictIdx[code] == 0 {
		l.vals = append(l.vals, d.enc[code]...)
		l.nvals++
		l.dictIdx[code] = l.nvals
	}
	return l.dictIdx[code] - 1
}

// entity adds the feature of a stored entity point at tile coordinates
// (x, y): id, name, risk, industry, status. The caller holds the store's
// read lock.
func (l *pointLayer) entity(s *pointStore, b *bucket, p *storedPoint, x, y int64) {
	l.ensureEntityKeys()
	if p.props&propID != 0 {
		l.tags = append(l.tags, l.entKeys[0], l.nvals)
		l.nvals++
	}
	if p.props&propName != 0 {
		l.tags = append(l.tags, l.entKeys[1], l.nvals)
		l.nvals++
	}
	l.vals = append(l.vals, b.arena[p.off:p.off+p.n]...)
	l.risk(s, p.risk)
	if p.industry != 0 {
		l.tags = append(l.tags, l.entKeys[3], l.dictValue(&s.dict, p.industry))
	}
	if p.status != 0 {
		l.tags = append(l.tags, l.entKeys[4], l.dictValue(&s.dict, p.status))
	}
	l.add(x, y)
}

// add writes a point feature at tile coordinates (x, y) with the
// properties added since the previous add.
func (l *pointLayer) add(x, y int64) {
	plen := 0
	for _, t := range l.tags {
		plen += varintLen(uint64(t))
	}
	zx, zy := zigzag(x), zigzag(y)
	glen := 1 + varintLen(zx) + varintLen(zy) // MoveTo(1), x, y
	flen := 2 + 2 + glen                      // type, geometry
	if len(l.tags) > 0 {
		flen += 1 + varintLen(uint64(plen)) + plen
	}
	f := appendVarint(append(l.features, 2<<3|2), uint64(flen))
	if len(l.tags) > 0 {
		f = appendVarint(append(f, 2<<3|2), uint64(plen))
		for _, t := range l.tags {
			f = appendVarint(f, uint64(t))
		}
	}
	f = append(f, 3<<3|0, 1, 4<<3|2, byte(glen), 9) // type POINT; geometry
	f = appendVarint(f, zx)
	l.features = appendVarint(f, zy)
	l.tags = l.tags[:0]
	l.n++
}

// marshal returns the layer as a complete one-layer tile (a Tile message
// with field 3), or nil when it has no feature. Tiles are concatenated
// layer by layer, which protobuf merges into one multi-layer tile. The
// result does not alias the layer's buffers.
func (l *pointLayer) marshal() []byte {
	if l.n == 0 {
		return nil
	}
	keysLen := 0
	for _, k := range l.keys {
		keysLen += 1 + varintLen(uint64(len(k))) + len(k)
	}
	bodyLen := 2 + (1 + varintLen(uint64(len(l.name))) + len(l.name)) + len(l.features) + keysLen + len(l.vals) + 1 + varintLen(uint64(l.extent))
	out := make([]byte, 0, 1+varintLen(uint64(bodyLen))+bodyLen)
	out = appendVarint(append(out, 3<<3|2), uint64(bodyLen))
	out = append(out, 15<<3|0, 2) // version
	out = appendString(out, 1, l.name)
	out = append(out, l.features...)
	for _, k := range l.keys {
		out = appendString(out, 3, k)
	}
	out = append(out, l.vals...)
	return appendVarint(append(out, 5<<3|0), uint64(l.extent))
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
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

// appendStringValue appends a layer's Value message (field 4) holding the
// string s.
func appendStringValue(b []byte, s string) []byte {
	b = appendVarint(b, 4<<3|2)
	b = appendVarint(b, uint64(1+varintLen(uint64(len(s)))+len(s)))
	return appendString(b, 1, s)
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
