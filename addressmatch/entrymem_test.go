package addressmatch

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/paulmach/orb"
)

// TestEntryCompactRoundTrip: an entry gives back exactly the fields it was
// made of, for a fields value with every text field set (a field added to
// fields but not to fields.strs fails here), texts found in the display and
// not, addresses at and just over the 255 bytes of 8-bit offsets, and one
// of 72,000 bytes.
func TestEntryCompactRoundTrip(t *testing.T) {
	ft := reflect.TypeOf(fields{})
	nStr := 0
	for i := range ft.NumField() {
		switch ft.Field(i).Type.Kind() {
		case reflect.String:
			nStr++
		case reflect.Bool, reflect.Array:
		default:
			t.Fatalf("fields.%s is a %s: entry does not carry it", ft.Field(i).Name, ft.Field(i).Type)
		}
	}
	if nStr != nEntryStrs {
		t.Fatalf("fields has %d text fields, entry carries %d", nStr, nEntryStrs)
	}
	full := func(prefix string) fields {
		f := fields{unit: [6]int32{1, 2, -1, 4, -1, 6}, gate: true, devzone: true}
		v := reflect.ValueOf(&f).Elem()
		for i := range ft.NumField() {
			if ft.Field(i).Type.Kind() == reflect.String {
				fv := v.Field(i) // unexported: set through its address
				reflect.NewAt(fv.Type(), unsafe.Pointer(fv.UnsafeAddr())).Elem().SetString(prefix + ft.Field(i).Name)
			}
		}
		return f
	}
	long := strings.Repeat("金开大道", 6000) // 72,000 bytes
	lf := full("长")
	lf.local = long[:3000]
	cases := []struct {
		name    string
		display string
		f       fields
	}{
		{"empty", "", fields{unit: [6]int32{-1, -1, -1, -1, -1, -1}}},
		{"every field, none in the display", "重庆市渝北区金开大道68号", full("x")},
		{"every field in the display", "前district前town前road前poi前local前city", full("前")},
		{"repeated texts", "金开大道68号", fields{road: "金开大道", local: "金开大道68号", poi: "金开大道", roadno: "68"}},
		{"too long for the offsets", long, lf},
		{"255 bytes with its fields", strings.Repeat("路", 84) + "168", fields{road: strings.Repeat("路", 84), roadno: "168", local: "168"}},
		{"256 bytes with its fields", strings.Repeat("路", 84) + "168", fields{road: strings.Repeat("路", 84), roadno: "168", local: "1681"}},
		{"a field text ending at byte 255", strings.Repeat("路", 80) + "金开大道", fields{road: "金开大道", poi: strings.Repeat("路", 80) + "金开大道"}},
	}
	if sz := unsafe.Sizeof(entry{}); sz > 128 {
		t.Errorf("an entry is %d bytes: more than the 128-byte size class the 1M figures count on", sz)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &entry{count: 5, nRec: 2}
			makeEntry(e, c.display, &c.f, nil)
			if e.count != 5 || e.nRec != 2 {
				t.Errorf("makeEntry changed the counts: %d %d", e.count, e.nRec)
			}
			if got := e.fields(); got != c.f {
				t.Errorf("fields:\n got %+v\nwant %+v", got, c.f)
			}
			if e.display() != c.display {
				t.Errorf("display %q, want %q", e.display(), c.display)
			}
			// the same from bytes (the parsed-cache reader's way), into
			// an entry that held another address
			makeEntry(e, []byte(c.display), &c.f, []byte("scratch"))
			if got := e.fields(); got != c.f || e.display() != c.display {
				t.Errorf("from bytes: fields %+v display %q", got, e.display())
			}
		})
	}
}

// TestEntryCompactGenerated: in a database of generated addresses (and the
// same addresses again, so that entries aggregate), every entry's fields
// and display are what the parser gives for the first address of its key,
// parsed again independently of the database, and every record points at
// the entry of its key with its count and location.
func TestEntryCompactGenerated(t *testing.T) {
	p := testParser(t)
	addrs, _ := genDataset(p, 7, 3000)
	db, err := NewDB(DBOptions{Parser: p})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i, a := range addrs {
		recs = append(recs, Record{ID: "e" + strconv.Itoa(i), Address: a.full, Location: a.loc})
		if i%5 == 0 { // the same address again, without location, two entities
			recs = append(recs, Record{ID: "d" + strconv.Itoa(i), Address: a.full, EntityCount: 2})
		}
	}
	for i := 0; i < len(recs); i += 512 {
		if err := db.Add(recs[i:min(i+512, len(recs))]...); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		n     int
		count int
		sum   orb.Point
		nLoc  int
	}
	wants := map[int32]*want{}
	for _, r := range recs {
		n := Normalize(r.Address)
		c := p.ruleParse(n)
		f := p.fields(&c)
		ref, ok := db.recs.get(r.ID)
		if !ok {
			t.Fatalf("record %s missing", r.ID)
		}
		e := db.entries[ref.entry]
		if i, ok := db.byKey.get(entryKey(&f), db.entries); !ok || i != ref.entry {
			t.Fatalf("%s: key %q not the record's entry", r.ID, entryKey(&f))
		}
		w := wants[ref.entry]
		if w == nil {
			// the first record of an address gives its fields and display
			w = &want{}
			wants[ref.entry] = w
			if got := e.fields(); got != f {
				t.Fatalf("%s %q: entry fields\n got %+v\nwant %+v", r.ID, r.Address, got, f)
			}
			if e.display() != n {
				t.Fatalf("%s: display %q, want %q", r.ID, e.display(), n)
			}
		}
		cnt := max(r.EntityCount, 1)
		w.n++
		w.count += cnt
		if int(ref.count) != cnt || ref.loc != r.Location {
			t.Fatalf("%s: record count %d loc %v, want %d %v", r.ID, ref.count, ref.loc, cnt, r.Location)
		}
		if r.Location != (orb.Point{}) {
			w.nLoc++
			w.sum[0] += r.Location[0]
			w.sum[1] += r.Location[1]
		}
	}
	for idx, w := range wants {
		e := db.entries[idx]
		if int(e.nRec) != w.n || e.count != w.count || int(e.nLoc) != w.nLoc || e.sumLon != w.sum[0] || e.sumLat != w.sum[1] {
			t.Fatalf("entry %d: records %d count %d located %d sum %v,%v; want %+v", idx, e.nRec, e.count, e.nLoc, e.sumLon, e.sumLat, *w)
		}
	}
	if len(wants) != db.Len() {
		t.Fatalf("%d entries used, Len %d", len(wants), db.Len())
	}
}

// TestPoisAtAfterRemovals: the place names registered at each road number,
// with their entry counts, after adds and removals, are what the live
// entries give counted by brute force.
func TestPoisAtAfterRemovals(t *testing.T) {
	p := testParser(t)
	addrs, _ := genDataset(p, 11, 4000)
	db, err := NewDB(DBOptions{Parser: p})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, a := range addrs {
		id := "e" + strconv.Itoa(i)
		ids = append(ids, id)
		if err := db.Add(Record{ID: id, Address: a.full, Location: a.loc}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(ids); i += 3 {
		if err := db.Remove(ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]map[string]int32{}
	for _, e := range db.entries {
		if e == nil {
			continue
		}
		f := e.fields()
		if f.road == "" || f.roadno == "" || f.poi == "" {
			continue
		}
		k := f.road + "|" + f.roadno
		if want[k] == nil {
			want[k] = map[string]int32{}
		}
		want[k][f.poi]++
	}
	got := map[string]map[string]int32{}
	for k, ps := range db.poisAt {
		got[k] = map[string]int32{}
		for _, r := range ps {
			if _, dup := got[k][r.name]; dup {
				t.Fatalf("%s: %s listed twice", k, r.name)
			}
			got[k][r.name] = r.n
		}
	}
	if len(want) == 0 {
		t.Fatal("no place names at road numbers: the test tests nothing")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("poisAt differs from the live entries: %d keys, want %d", len(got), len(want))
	}
}
