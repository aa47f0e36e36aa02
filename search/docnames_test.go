package search

import (
	"reflect"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
)

// oldAdd is addName as it was, appending to the doc one variant at a
// time (with the builders' pinyin): the oracle of TestDocNamesUnchanged.
// oldVar is a name variant as it was: its pinyin in two strings.
type oldVar struct {
	text    string
	weight  float64
	py, pyi string
	short   bool
}

func oldAdd(d *[]oldVar, text string, weight float64, short bool) {
	text = strings.ReplaceAll(text, " ", "")
	if text == "" {
		return
	}
	for i := range *d {
		if (*d)[i].text == text {
			if weight > (*d)[i].weight {
				(*d)[i].weight = weight
			}
			if short && !(*d)[i].short {
				(*d)[i].short = true
				(*d)[i].py, (*d)[i].pyi = pinyinOfBuilders(text, true)
			}
			return
		}
	}
	v := oldVar{text: text, weight: weight, short: short}
	if short {
		v.py, v.pyi = pinyinOfBuilders(text, true)
	}
	*d = append(*d, v)
}

// oldEntityDoc is entityDoc's names as they were built.
func oldEntityDoc(e *geo.Entity, np *NameParser) []oldVar {
	d := &[]oldVar{}
	cn := np.Parse(e.Name)
	oldAdd(d, cn.Full, 1, false)
	if e.ShortName != "" {
		oldAdd(d, Fold(e.ShortName), 1, true)
	}
	oldAdd(d, cn.Short, 1, true)
	oldAdd(d, cn.Core, 0.95, true)
	for _, f := range e.FormerNames {
		fn := np.Parse(f)
		oldAdd(d, fn.Full, 0.9, false)
		oldAdd(d, fn.Short, 0.9, true)
	}
	return *d
}

// TestDocNamesUnchanged: the name variants of every entity of a demo
// region, collected on the stack and copied once, their pinyin and
// initials in one string, equal those appended to the doc one by one with
// two strings of pinyin (texts, weights, pinyin, order); the doc's ID and
// display name, read from its feature, are the entity's.
func TestDocNamesUnchanged(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 8000})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := demoRegion()
	np := NewNameParser(r)
	bad := 0
	for i := range ds.Entities {
		e := &ds.Entities[i]
		var got []oldVar
		d := entityDoc(e, np, nil)
		if d.id() != e.ID || d.name() != e.Name {
			t.Fatalf("doc of %s %s: id %q, name %q", e.ID, e.Name, d.id(), d.name())
		}
		names := d.names
		for i := range names {
			v := &names[i]
			got = append(got, oldVar{text: v.text, weight: v.weight, py: v.py(), pyi: v.pyi(), short: v.short})
		}
		want := oldEntityDoc(e, np)
		if len(names) != cap(names) {
			t.Fatalf("%s: %d names in room for %d", e.Name, len(names), cap(names))
		}
		if !reflect.DeepEqual(got, want) {
			bad++
			if bad < 3 {
				t.Errorf("%s: %+v vs %+v", e.Name, got, want)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d entities differ", bad, len(ds.Entities))
	}
}

// TestDocArenaSame: the docs of every feature of a demo region (entities,
// places, buildings, zones) derived into arenas, as a bulk load does, equal
// the docs derived one by one with their own allocations, as live updates
// do (every field, compared once all are derived, so that a doc written
// over another's slab bytes would show), and their name lists have no
// room to grow into a neighbour's.
func TestDocArenaSame(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 8000})
	if err != nil {
		t.Fatal(err)
	}
	g, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Load(g); err != nil {
		t.Fatal(err)
	}
	r, _ := demoRegion()
	ix := &Index{names: NewNameParser(r), zoneLayers: map[string]bool{}}
	for _, l := range DefaultOptions().ZoneLayers {
		ix.zoneLayers[l] = true
	}
	var fs []any
	s := g.Snapshot()
	s.ScanEntities(func(e *geo.Entity) bool { fs = append(fs, e); return true })
	s.ScanPlaces(func(p *geo.Place) bool { fs = append(fs, p); return true })
	s.ScanBuildings(func(b *geo.Building) bool { fs = append(fs, b); return true })
	s.ScanZones(func(z *geo.Zone) bool { fs = append(fs, z); return true })
	var a docArena
	inArena := make([]*doc, len(fs))
	for i, f := range fs {
		inArena[i] = ix.docOf(f, &a)
	}
	docs := 0
	for i, f := range fs {
		want, got := ix.docOf(f, nil), inArena[i]
		if (got == nil) != (want == nil) {
			t.Fatalf("feature %d: arena doc %v, own %v", i, got, want)
		}
		if got == nil {
			continue
		}
		docs++
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("feature %d (%s):\n arena %+v\n own   %+v", i, want.key, got, want)
		}
		if len(got.names) != cap(got.names) {
			t.Fatalf("%s: %d names in room for %d", got.key, len(got.names), cap(got.names))
		}
	}
	if docs < 8000 {
		t.Fatalf("only %d docs compared", docs)
	}
}
