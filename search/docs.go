package search

import (
	"regexp"
	"strings"
	"unsafe"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// nameVar is one name of a feature, folded, with what it is worth when the
// query matches it.
type nameVar struct {
	text   string  // folded, no spaces
	pys    string  // full pinyin then initials, one string (short names only): py and pyi
	weight float64 // 1 for the registered or common name, less for derived ones
	split  uint32  // where the initials start in pys
	short  bool    // a short name: pinyin is indexed
}

// py is v's full pinyin (short names only).
func (v *nameVar) py() string { return v.pys[:v.split] }

// pyi is v's pinyin initials, one letter per rune when aligned.
func (v *nameVar) pyi() string { return v.pys[v.split:] }

// setPinyin sets v's pinyin to that of text.
func (v *nameVar) setPinyin(text string) {
	both, split := pinyinParts(text, true)
	v.pys, v.split = both, uint32(split)
}

// doc is what the ranker knows about one indexed feature.
type doc struct {
	key   string
	layer geo.Layer
	names []nameVar
	kinds []string
	addr  string
	loc   orb.Point
	feat  any // *geo.Entity, *geo.Place, *geo.Building or *geo.Zone (a geo.Hit is 24 bytes more)
}

// id is the ID of d's feature (read from the feature: a copy of its
// string header in every doc was 16 bytes a doc).
func (d *doc) id() string {
	switch f := d.feat.(type) {
	case *geo.Entity:
		return f.ID
	case *geo.Place:
		return f.ID
	case *geo.Building:
		return f.ID
	case *geo.Zone:
		return f.ID
	}
	return ""
}

// name is the display name of d's feature.
func (d *doc) name() string {
	switch f := d.feat.(type) {
	case *geo.Entity:
		return f.Name
	case *geo.Place:
		return f.Name
	case *geo.Building:
		return f.Name
	case *geo.Zone:
		return f.Name
	}
	return ""
}

// hit is the geo.Hit of d's feature.
func (d *doc) hit() geo.Hit {
	switch f := d.feat.(type) {
	case *geo.Entity:
		return geo.Hit{Entity: f}
	case *geo.Place:
		return geo.Hit{Place: f}
	case *geo.Building:
		return geo.Hit{Building: f}
	case *geo.Zone:
		return geo.Hit{Zone: f}
	}
	return geo.Hit{}
}

// kindLabels gives the Chinese words of the usual place kinds.
var kindLabels = map[string]string{
	"school": "学校", "kindergarten": "幼儿园", "hospital": "医院", "government": "政府",
	"community": "社区", "settlement": "镇", "landmark": "地标", "park": "公园",
}

var buildingSuffix = regexp.MustCompile(`([a-z]?座)?[0-9a-z]+号楼$|[一二三四五六七八九十]期$|[东南西北]区$|[a-z]座$`)

func docKey(layer geo.Layer, id string) string {
	return docKeyPrefix(layer) + id
}

// docKeyPrefix is the prefix of the keys of layer's docs.
func docKeyPrefix(layer geo.Layer) string {
	switch layer {
	case geo.LayerEntities:
		return "e:"
	case geo.LayerPlaces:
		return "p:"
	case geo.LayerBuildings:
		return "b:"
	}
	return "z:"
}

// nameBuf holds a doc's name variants while they are collected: on the
// stack, copied into the doc once at their number (appended one by one to
// the doc they ended with room for up to twice as many, and the smaller
// arrays they outgrew were garbage left among the docs).
type nameBuf [8]nameVar

// exactNames returns a copy of names at their number (nil for none), in
// a's slabs when a is not nil.
func exactNames(a *docArena, names []nameVar) []nameVar {
	if len(names) == 0 {
		return nil
	}
	if a != nil {
		return a.names(names)
	}
	out := make([]nameVar, len(names))
	copy(out, names)
	return out
}

// docArena allocates the docs of a bulk derivation (the first build's, a
// restart's: every feature of a snapshot) in slabs of about 32 KB: the doc
// structs, their name lists, keys and pinyin strings. One object for the
// collector where there were hundreds, packed together instead of spread
// over spans shared with the derivation's short-lived strings, whose free
// slots those spans then kept resident (docs/memory.md). A slab lives as
// long as any of its docs; docs written later (live updates) are allocated
// one by one (a nil *docArena), so replaced docs keep at most the bulk
// derivation's own size. Not goroutine-safe: one arena per worker.
type docArena struct {
	docs []doc
	vars []nameVar
	buf  []byte
}

const (
	arenaSlab   = 32 << 10
	arenaMaxStr = 256 // longer strings are allocated on their own
)

// doc returns a new zero doc.
func (a *docArena) doc() *doc {
	if a == nil {
		return &doc{}
	}
	if len(a.docs) == cap(a.docs) {
		a.docs = make([]doc, 0, arenaSlab/int(unsafe.Sizeof(doc{})))
	}
	a.docs = a.docs[:len(a.docs)+1]
	return &a.docs[len(a.docs)-1]
}

// names returns a copy of names (at most a slab's worth) whose pinyin
// strings are copied into the arena too; its capacity is its length, so
// that an append never reaches the next doc's names.
func (a *docArena) names(names []nameVar) []nameVar {
	per := arenaSlab / int(unsafe.Sizeof(nameVar{}))
	if len(names) > per {
		out := make([]nameVar, len(names))
		copy(out, names)
		return out
	}
	if len(a.vars)+len(names) > cap(a.vars) {
		a.vars = make([]nameVar, 0, per)
	}
	off := len(a.vars)
	a.vars = append(a.vars, names...)
	out := a.vars[off:len(a.vars):len(a.vars)]
	for i := range out {
		out[i].pys = a.str(out[i].pys)
	}
	return out
}

// str returns a copy of s in the arena (s itself when empty or long).
func (a *docArena) str(s string) string {
	if a == nil || s == "" || len(s) > arenaMaxStr {
		return s
	}
	if len(a.buf)+len(s) > cap(a.buf) {
		a.buf = make([]byte, 0, arenaSlab)
	}
	off := len(a.buf)
	a.buf = append(a.buf, s...)
	// The bytes are never written again: the slab only grows past them.
	return unsafe.String(&a.buf[off], len(s))
}

// key is docKey(layer, id), in the arena when a is not nil.
func (a *docArena) key(layer geo.Layer, id string) string {
	if a == nil || len(id)+2 > arenaMaxStr {
		return docKey(layer, id)
	}
	if len(a.buf)+len(id)+2 > cap(a.buf) {
		a.buf = make([]byte, 0, arenaSlab)
	}
	off := len(a.buf)
	a.buf = append(a.buf, docKeyPrefix(layer)...)
	a.buf = append(a.buf, id...)
	return unsafe.String(&a.buf[off], len(a.buf)-off)
}

// addName appends a name variant to names unless its text is already
// present (the higher weight is kept).
func addName(names []nameVar, text string, weight float64, short bool) []nameVar {
	text = strings.ReplaceAll(text, " ", "")
	if text == "" {
		return names
	}
	for i := range names {
		if names[i].text == text {
			if weight > names[i].weight {
				names[i].weight = weight
			}
			if short && !names[i].short {
				names[i].short = true
				names[i].setPinyin(text)
			}
			return names
		}
	}
	v := nameVar{text: text, weight: weight, short: short}
	if short {
		v.setPinyin(text)
	}
	return append(names, v)
}

func entityDoc(e *geo.Entity, np *NameParser, a *docArena) *doc {
	d := a.doc()
	*d = doc{key: a.key(geo.LayerEntities, e.ID), layer: geo.LayerEntities,
		addr: strings.ReplaceAll(Fold(e.Address), " ", ""), loc: e.Location, feat: e}
	var nb nameBuf
	names := nb[:0]
	cn := np.Parse(e.Name)
	names = addName(names, cn.Full, 1, false)
	if e.ShortName != "" {
		names = addName(names, Fold(e.ShortName), 1, true)
	}
	names = addName(names, cn.Short, 1, true)
	names = addName(names, cn.Core, 0.95, true)
	for _, f := range e.FormerNames {
		fn := np.Parse(f)
		names = addName(names, fn.Full, 0.9, false)
		names = addName(names, fn.Short, 0.9, true)
	}
	d.names = exactNames(a, names)
	return d
}

func placeDoc(p *geo.Place, np *NameParser, a *docArena) *doc {
	d := a.doc()
	*d = doc{key: a.key(geo.LayerPlaces, p.ID), layer: geo.LayerPlaces,
		loc: p.Location, feat: p}
	var nb nameBuf
	names := nb[:0]
	full := Fold(p.Name)
	names = addName(names, full, 1, true)
	if s := np.Parse(p.Name).Short; s != "" {
		names = addName(names, s, 0.97, true)
	}
	for _, a := range p.Aliases {
		names = addName(names, Fold(a), 0.95, true)
	}
	d.names = exactNames(a, names)
	if p.Kind != "" {
		k := strings.ToLower(p.Kind)
		d.kinds = append(d.kinds, k)
		if l, ok := kindLabels[k]; ok {
			d.kinds = append(d.kinds, l)
		}
	}
	return d
}

func buildingDoc(b *geo.Building, a *docArena) *doc {
	d := a.doc()
	*d = doc{key: a.key(geo.LayerBuildings, b.ID), layer: geo.LayerBuildings,
		addr: strings.ReplaceAll(Fold(b.Address), " ", ""), loc: b.Center(), feat: b}
	if b.Name != "" {
		var nb nameBuf
		n := strings.ReplaceAll(Fold(b.Name), " ", "")
		names := addName(nb[:0], n, 1, true)
		if base := buildingSuffix.ReplaceAllString(n, ""); runeLen(base) >= 2 && base != n {
			names = addName(names, base, 0.95, true)
		}
		d.names = exactNames(a, names)
	}
	return d
}

func zoneDoc(z *geo.Zone, a *docArena) *doc {
	b := z.Geometry.Bound()
	d := a.doc()
	*d = doc{key: a.key(geo.LayerZones, z.ID), layer: geo.LayerZones,
		loc: b.Center(), feat: z}
	var nb nameBuf
	n := strings.ReplaceAll(Fold(z.Name), " ", "")
	names := addName(nb[:0], n, 1, true)
	for _, suf := range []string{"街道", "片区", "新区", "区", "县", "镇", "乡"} {
		if strings.HasSuffix(n, suf) && runeLen(n)-runeLen(suf) >= 2 {
			names = addName(names, strings.TrimSuffix(n, suf), 0.95, true)
			break
		}
	}
	d.names = exactNames(a, names)
	return d
}

// Maximum prefix lengths indexed for pinyin.
const (
	maxInitialsGram = 8
	maxPinyinGram   = 12
)

func dedupe(s []string) []string {
	if len(s) < 2 {
		return s
	}
	seen := make(map[string]struct{}, len(s))
	out := s[:0]
	for _, v := range s {
		if _, ok := seen[v]; !ok {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// docOf builds the doc of a feature (nil when the feature is not
// searchable, e.g. a grid zone), allocated in a when a is not nil.
func (ix *Index) docOf(v any, a *docArena) *doc {
	switch f := v.(type) {
	case *geo.Entity:
		return entityDoc(f, ix.names, a)
	case *geo.Place:
		return placeDoc(f, ix.names, a)
	case *geo.Building:
		if f.Name == "" && f.Address == "" {
			return nil
		}
		return buildingDoc(f, a)
	case *geo.Zone:
		if !ix.zoneLayers[f.Layer] || f.Name == "" {
			return nil
		}
		return zoneDoc(f, a)
	}
	return nil
}
