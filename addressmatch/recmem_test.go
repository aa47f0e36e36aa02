package addressmatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestRecTableAgainstMap: random sets, deletions and lookups of IDs of
// every form (entity and building prefixes, bare IDs, IDs that are only a
// prefix, IDs equal after a prefix) give what a plain map of full IDs
// gives (the oracle), and all lists exactly its records.
func TestRecTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 22))
	ids := []string{"", entityPrefix, buildingPrefix, "entity", "building:entity:1"}
	for i := range 40 {
		b := fmt.Sprint(i % 25)
		ids = append(ids, entityPrefix+b, buildingPrefix+b, b, "standard:"+b)
	}
	tab := newRecTable(0)
	oracle := map[string]recRef{}
	for step := range 20000 {
		id := ids[rng.IntN(len(ids))]
		switch rng.IntN(3) {
		case 0:
			r := recRef{entry: int32(step), count: int32(rng.IntN(9)), loc: orb.Point{rng.Float64(), rng.Float64()}}
			key := ""
			if rng.IntN(2) == 0 { // a shared key string, as Follow gives
				_, k := tab.part(id)
				key = string([]byte(k))
			}
			tab.set(id, key, r)
			oracle[id] = r
		case 1:
			tab.del(id)
			delete(oracle, id)
		}
		got, ok := tab.get(id)
		want, wok := oracle[id]
		if ok != wok || got != want {
			t.Fatalf("step %d: get(%q) = %v %v, want %v %v", step, id, got, ok, want, wok)
		}
		if tab.len() != len(oracle) {
			t.Fatalf("step %d: len %d, want %d", step, tab.len(), len(oracle))
		}
	}
	seen := map[string]bool{}
	for id, r := range tab.all {
		if seen[id] || oracle[id] != r {
			t.Fatalf("all: %q %v (seen %v), the oracle has %v", id, r, seen[id], oracle[id])
		}
		seen[id] = true
	}
	if len(seen) != len(oracle) {
		t.Fatalf("all listed %d records, the oracle holds %d", len(seen), len(oracle))
	}
}

// TestFollowSharesFeatureStrings: a followed database keys its records by
// the strings the geo index's features hold, and an entry whose address is
// written in its normalised form keeps the feature's address string, not
// copies (what the 1M memory figures count on); its records and entries
// still say what an independent parse of each feature's address says.
func TestFollowSharesFeatureStrings(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 3000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	if err := ds.Load(idx); err != nil {
		t.Fatal(err)
	}
	p := testParser(t)
	db, err := NewDB(DBOptions{Parser: p})
	if err != nil {
		t.Fatal(err)
	}
	fl, err := Follow(db, idx)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Stop()
	data := func(s string) *byte { return unsafe.StringData(s) }
	var n, sharedKeys, normalised, sharedText int
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if e.Address == "" {
			return true
		}
		n++
		ref, ok := db.recs.get(entityPrefix + e.ID)
		if !ok {
			t.Fatalf("entity %s: no record", e.ID)
		}
		for k := range db.recs.ent {
			if k == e.ID && data(k) == data(e.ID) {
				sharedKeys++
			}
		}
		en := db.entries[ref.entry]
		nrm := Normalize(e.Address)
		c := p.ruleParse(nrm)
		if f := p.fields(&c); en.fields() != f || en.display() != nrm {
			t.Fatalf("entity %s %q: entry %q %+v, an independent parse gives %q %+v", e.ID, e.Address, en.display(), en.fields(), nrm, f)
		}
		if ref.loc != e.Location || ref.count != 1 {
			t.Fatalf("entity %s: record %+v", e.ID, ref)
		}
		if nrm == e.Address && len(en.text) == len(nrm) {
			normalised++
			if data(en.text) == data(e.Address) {
				sharedText++
			}
		}
		return n < 300 // the key scan above is quadratic
	})
	if sharedKeys != n {
		t.Errorf("%d of %d entity records keyed by the feature's ID string", sharedKeys, n)
	}
	// an entry is made by its address's first record, maybe a building's
	// or another entity's of the same address: most, not all, share
	if normalised == 0 || sharedText < normalised*8/10 {
		t.Errorf("%d of %d entries of addresses written normalised share the feature's string", sharedText, normalised)
	}
}

// TestEntityCountBound: an entity count that a record's 32 bits cannot
// hold is refused, with nothing added.
func TestEntityCountBound(t *testing.T) {
	db, err := NewDB(DBOptions{Parser: testParser(t)})
	if err != nil {
		t.Fatal(err)
	}
	ok := Record{ID: "a", Address: "重庆市渝北区金开大道68号", Kind: KindStandard, EntityCount: math.MaxInt32}
	big := Record{ID: "b", Address: "重庆市渝北区金开大道69号", Kind: KindStandard, EntityCount: math.MaxInt32 + 1}
	if err := db.Add(ok, big); err == nil {
		t.Fatal("an entity count over MaxInt32 was accepted")
	}
	if db.RecordCount() != 0 {
		t.Fatalf("%d records after a refused Add", db.RecordCount())
	}
	if err := db.Add(ok); err != nil {
		t.Fatal(err)
	}
	res, err := db.Check(t.Context(), "重庆市渝北区金开大道68号")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) == 0 || res.Candidates[0].EntityCount != math.MaxInt32 {
		t.Fatalf("check: %+v", res)
	}
}

// TestKeyIndexAgainstMap: the hashed key index, its hash cut to two bits
// so that most keys collide, gives what a map of key strings gives (the
// oracle) over random insertions and removals of addresses' keys (district
// by unit and by name, localities sharing prefixes and separators), and so
// does it with the full hash.
func TestKeyIndexAgainstMap(t *testing.T) {
	for _, mask := range []uint64{3, ^uint64(0)} {
		rng := rand.New(rand.NewPCG(22, mask))
		var entries []*entry
		var keys []string
		for i := range 300 {
			f := fields{unit: [6]int32{-1, -1, -1, -1, -1, -1}, local: fmt.Sprint("金开大道", i%37, "号")}
			switch i % 3 {
			case 0:
				f.unit[AdminDistrict] = int32(500100 + i%5)
			case 1:
				f.district = fmt.Sprint("渝北区", i%4)
			case 2:
				f.district, f.local = "1|", fmt.Sprint(i%7) // a district name that looks like a key's start
			}
			e := &entry{}
			makeEntry(e, f.district+f.local, &f, nil)
			entries = append(entries, e)
			keys = append(keys, entryKey(&f))
		}
		ki := newKeyIndex(0)
		ki.mask = mask
		oracle := map[string]int32{}
		live := make([]*entry, len(entries)) // the database's entries: nil when not indexed
		for step := range 5000 {
			i := rng.IntN(len(entries))
			k := keys[i]
			got, ok := ki.get(k, live)
			want, wok := oracle[k]
			if ok != wok || got != want {
				t.Fatalf("mask %x step %d: get(%q) = %d %v, want %d %v", mask, step, k, got, ok, want, wok)
			}
			switch {
			case !ok: // insert, as insertLocked does
				live[i] = entries[i]
				ki.set(k, int32(i), live)
				oracle[k] = int32(i)
			case rng.IntN(2) == 0: // remove, as Remove does: the key, then the entry
				ki.del(k, live)
				live[want] = nil
				delete(oracle, k)
			}
			if ki.len() != len(oracle) {
				t.Fatalf("mask %x step %d: len %d, want %d", mask, step, ki.len(), len(oracle))
			}
		}
		if mask == 3 && len(ki.more) == 0 {
			t.Fatal("no collision exercised")
		}
	}
}
