package addressmatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// followed returns a DB filled from idx by Follow (stopped at the end of
// the test), with cache as its parsed cache during the fill.
func followed(t *testing.T, idx *geo.Index, cache *ParsedCache) *DB {
	t.Helper()
	db, err := NewDB(DBOptions{Parser: testParser(t)})
	if err != nil {
		t.Fatal(err)
	}
	if cache != nil {
		if err := db.UseParsed(cache); err != nil {
			t.Fatal(err)
		}
	}
	fl, err := Follow(db, idx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fl.Stop)
	if err := db.UseParsed(nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// sameDB fails unless a and b hold the same entries in the same order
// (text, parse, counts, locations) and the same records.
func sameDB(t *testing.T, a, b *DB) {
	t.Helper()
	if len(a.entries) != len(b.entries) || a.recs.len() != b.recs.len() {
		t.Fatalf("%d entries, %d records; the fresh build has %d, %d", len(a.entries), a.recs.len(), len(b.entries), b.recs.len())
	}
	for i := range a.entries {
		if !reflect.DeepEqual(*a.entries[i], *b.entries[i]) {
			t.Fatalf("entry %d: %+v; the fresh build has %+v", i, *a.entries[i], *b.entries[i])
		}
	}
	if !reflect.DeepEqual(a.recs, b.recs) {
		t.Fatal("the records differ from the fresh build's")
	}
}

// TestParsedCacheMatchesFreshBuild: a database filled with the parses saved
// from another one (then written to: addresses changed, entities deleted
// and added, so part of the cache is stale and part of the data new) holds
// exactly what a database filled by parsing everything holds, and answers
// every check the same.
func TestParsedCacheMatchesFreshBuild(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 6000})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	if err := ds.Load(idx); err != nil {
		t.Fatal(err)
	}
	before := followed(t, idx, nil)
	var buf bytes.Buffer
	n, err := before.SaveParsed(context.Background(), &buf, "build-1")
	if err != nil || n != before.Len() {
		t.Fatalf("SaveParsed: %d, %v; want %d addresses", n, err, before.Len())
	}
	// Writes after the save: every 7th entity moves to a new address, every
	// 11th is deleted, 50 new ones.
	var queries []string
	b := idx.Batch()
	i := 0
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		i++
		switch {
		case i%11 == 0:
			_ = b.Delete(geo.LayerEntities, e.ID)
			queries = append(queries, e.Address)
		case i%7 == 0:
			ne := *e
			ne.Address = fmt.Sprintf("重庆市渝北区缓存测试路%d号", i)
			if err := b.UpsertEntity(ne); err != nil {
				t.Fatal(err)
			}
			queries = append(queries, e.Address, ne.Address)
		case i%13 == 0:
			queries = append(queries, e.Address)
		}
		return true
	})
	for k := range 50 {
		first := fmt.Sprintf("91500112%09d", 700000+k)
		c, _ := geo.USCCCheckChar(first)
		a := fmt.Sprintf("重庆市两江新区缓存新路%d号", k+1)
		if err := b.UpsertEntity(geo.Entity{ID: first + string(c), Name: fmt.Sprintf("重庆缓存测试%d有限公司", k),
			Address: a, Location: orb.Point{106.55, 29.65}}); err != nil {
			t.Fatal(err)
		}
		queries = append(queries, a)
	}
	b.Commit()
	queries = append(queries, "重庆市渝北区不存在路99号", "两江新区缓存新路1号")

	cache, err := ReadParsed(&buf, "build-1")
	if err != nil {
		t.Fatal(err)
	}
	if cache.Len() != n {
		t.Fatalf("read %d parses, wrote %d", cache.Len(), n)
	}
	restarted := followed(t, idx, cache)
	fresh := followed(t, idx, nil)
	sameDB(t, restarted, fresh)
	ctx := context.Background()
	for _, q := range queries {
		got, err1 := restarted.Check(ctx, q)
		want, err2 := fresh.Check(ctx, q)
		if !reflect.DeepEqual(got, want) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("Check(%q) with the cache: %+v, %v; fresh: %+v, %v", q, got, err1, want, err2)
		}
	}
	// a save after deletions: the addresses no longer registered are not
	// in it (a nil entry once made SaveParsed panic), and it reads back
	var buf2 bytes.Buffer
	// (before has followed the writes, deletions included)
	n2, err := before.SaveParsed(ctx, &buf2, "build-2")
	if err != nil || n2 != before.Len() || n2 >= n+50 {
		t.Fatalf("SaveParsed after deletions: %d, %v; want %d addresses", n2, err, before.Len())
	}
	again, err := ReadParsed(&buf2, "build-2")
	if err != nil || again.Len() != n2 {
		t.Fatalf("ReadParsed after deletions: %v, %d parses of %d", err, again.Len(), n2)
	}
}

// TestParsedCacheIsUsed: UseParsed's sample catches a wrong parse in the
// cache (at 300 addresses it samples every one), and a fill takes an
// address's parse from the cache (the planted parse, let past the check,
// shows up in the database), so the test above compares a cached fill,
// not a second parse.
func TestParsedCacheIsUsed(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	b := idx.Batch()
	for k := range 300 {
		first := fmt.Sprintf("91500112%09d", 100000+k)
		c, _ := geo.USCCCheckChar(first)
		if err := b.UpsertEntity(geo.Entity{ID: first + string(c), Name: fmt.Sprintf("重庆缓存%d有限公司", k),
			Address: fmt.Sprintf("重庆市渝北区缓存路%d号", k+1), Location: orb.Point{106.55, 29.65}}); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	var buf bytes.Buffer
	if _, err := followed(t, idx, nil).SaveParsed(context.Background(), &buf, "fp"); err != nil {
		t.Fatal(err)
	}
	cache, err := ReadParsed(&buf, "fp")
	if err != nil {
		t.Fatal(err)
	}
	planted := 1
	pf := cache.e[planted].fields()
	pf.roomno = "planted" // a parse no parser gives
	makeEntry(&cache.e[planted], cache.e[planted].display(), &pf, nil)
	db, _ := NewDB(DBOptions{Parser: testParser(t)})
	if err := db.UseParsed(cache); !errors.Is(err, ErrBadParsed) {
		t.Fatalf("UseParsed of a cache with a wrong parse: %v, want ErrBadParsed", err)
	}
	db.parsed.Store(cache) // past the check
	fl, err := Follow(db, idx)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Stop()
	found := false
	for _, e := range db.entries {
		found = found || e.fields().roomno == "planted"
	}
	if !found {
		t.Fatalf("the planted parse (entry %d) is not in the database: the cache was not used", planted)
	}
}

// TestReadParsedRefuses: a file of another fingerprint, a truncated one, a
// flipped byte and another format are refused with ErrBadParsed.
func TestReadParsedRefuses(t *testing.T) {
	idx, _ := geo.New(geo.Options{})
	if err := idx.UpsertEntity(geo.Entity{ID: "91500112MA5U7G4K3U", Name: "重庆示例科技有限公司",
		Address: "重庆市渝北区金开大道99号", Location: orb.Point{106.55, 29.65}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := followed(t, idx, nil).SaveParsed(context.Background(), &buf, "fp"); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x20
	for _, c := range []struct {
		name string
		data []byte
		fp   string
	}{
		{"another fingerprint", good, "other"},
		{"truncated", good[:len(good)-9], "fp"},
		{"flipped byte", flipped, "fp"},
		{"empty", nil, "fp"},
		{"not a parsed file", []byte("id,address\n1,重庆\n\x00\x00\x00\x00"), "fp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ReadParsed(bytes.NewReader(c.data), c.fp); !errors.Is(err, ErrBadParsed) {
				t.Fatalf("ReadParsed: %v, want ErrBadParsed", err)
			}
		})
	}
	if _, err := ReadParsed(bytes.NewReader(good), "fp"); err != nil {
		t.Fatalf("the good file: %v", err)
	}
}

// TestParsedRoundTrip: the codec writes every field of the parsed form
// (a field added to fields and not to the codec fails here), on the
// parses of the demo's addresses and on a value with every field set.
func TestParsedRoundTrip(t *testing.T) {
	full := fields{unit: [6]int32{1, -1, 3, 4, 5, 6}, district: "a", town: "b", community: "c", vgroup: "d", road: "e",
		roadno: "f", sub: "g", poi: "h", subpoi: "i", houseno: "j", cellno: "k", floorno: "l", roomno: "m",
		gate: true, devzone: true, extra: "n", local: "o", province: "p", city: "q"}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("field %s of the test value is not set: add it here and to the codec (persist.go)", v.Type().Field(i).Name)
		}
	}
	var e parsedEncoder
	e.fields(&full)
	d := parsedDecoder[[]byte]{b: e.b}
	var got fields
	d.fields(&got)
	if d.err != nil || got != full || len(d.b) != 0 {
		t.Fatalf("round trip: %+v (%v), want %+v", got, d.err, full)
	}
	// from a string (ReadParsed's substrings) and skipped over
	ds := parsedDecoder[string]{b: string(e.b)}
	got = fields{}
	ds.fields(&got)
	if ds.err != nil || got != full || len(ds.b) != 0 {
		t.Fatalf("round trip from a string: %+v (%v), want %+v", got, ds.err, full)
	}
	sk := parsedDecoder[[]byte]{b: append(e.b, 0x7f)}
	sk.skipFields()
	if sk.err != nil || len(sk.b) != 1 || sk.b[0] != 0x7f {
		t.Fatalf("skipFields left %x (%v), want 7f", sk.b, sk.err)
	}
	// every truncation fails, never panics
	for i := range len(e.b) {
		for _, dec := range []func() error{
			func() error { d := parsedDecoder[[]byte]{b: e.b[:i]}; var f fields; d.fields(&f); return d.err },
			func() error { d := parsedDecoder[string]{b: string(e.b[:i])}; var f fields; d.fields(&f); return d.err },
			func() error { d := parsedDecoder[[]byte]{b: e.b[:i]}; d.skipFields(); return d.err },
		} {
			if dec() == nil {
				t.Fatalf("a parse cut to %d of %d bytes decoded without error", i, len(e.b))
			}
		}
	}
}

// TestUniqueGramsMatchesBigrams: the index's substring bigrams are the
// distinct, sorted bigrams of bigrams (the oracle), on text of one, two
// and many runes, repeated bigrams, mixed scripts and invalid UTF-8.
func TestUniqueGramsMatchesBigrams(t *testing.T) {
	for _, s := range []string{"", "路", "a", "金开", "金开大道68号", "重庆重庆重庆", "abcab", "渝北区A座3-1", "\xff金\xfe开", "金\xff", "ab\u00e9\u00e9"} {
		want := bigrams(s)
		slices.Sort(want)
		want = slices.Compact(want)
		if got := uniqueGrams(s); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("uniqueGrams(%q) = %q, want %q", s, got, want)
		}
	}
}
