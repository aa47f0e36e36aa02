package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// openWithRecords opens a store with one collection, "records", kept in a
// DocMap.
func openWithRecords(t testing.TB, path string, validate func(string, json.RawMessage) error) (*store.Store, *geo.Index, *store.DocMap) {
	t.Helper()
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := store.NewDocMap()
	st, err := store.Open(context.Background(), path, ix, store.Options{Collections: []store.Collection{{Name: "records", Consumer: m, Validate: validate}}})
	if err != nil {
		t.Fatal(err)
	}
	return st, ix, m
}

func TestCollectionsBesideFeatures(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.gpkg")
	st, ix, m := openWithRecords(t, path, nil)
	e := entity(1, 106.5, 29.6)
	// an entity and a record about it, in one commit
	res, err := st.Apply(ctx, "dept:tax", []store.Write{
		{Layer: geo.LayerEntities, ID: e.ID, Feature: &e},
		{Layer: "records", ID: "r1", Feature: json.RawMessage(`{"entity_id":"` + e.ID + `", "kind": "penalty"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Seq != 2 || res.Versions[1] != 2 || !res.Created[1] || st.Seq() != 2 {
		t.Fatalf("result %+v", res)
	}
	if d, ok := m.Get("r1"); !ok || d.Version != 2 || string(d.Body) != `{"entity_id":"`+e.ID+`","kind":"penalty"}` {
		t.Fatalf("consumer has %+v %v", d, ok)
	}
	// a flag update and a second record, then a replace and a delete
	e.Abnormal = true
	if _, err := st.Apply(ctx, "dept:tax", []store.Write{
		{Layer: geo.LayerEntities, ID: e.ID, Feature: &e},
		{Layer: "records", ID: "r2", Feature: map[string]any{"entity_id": e.ID, "kind": "abnormal"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, "dept:tax", []store.Write{{Layer: "records", ID: "r1", Feature: json.RawMessage(`{"kind":"licence"}`), IfVersion: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "r2"}}); err != nil {
		t.Fatal(err)
	}
	seq := st.Seq()
	// deleting a missing document changes nothing
	if res, err := st.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "nope"}}); err != nil || res.Seq != seq || st.Seq() != seq {
		t.Fatalf("delete of a missing document: %+v %v", res, err)
	}
	// preconditions
	for name, w := range map[string]store.Write{
		"stale version": {Layer: "records", ID: "r1", Feature: json.RawMessage(`{}`), IfVersion: 2},
		"absent":        {Layer: "records", ID: "r1", Feature: json.RawMessage(`{}`), IfAbsent: true},
	} {
		if _, err := st.Apply(ctx, "x", []store.Write{w}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: err %v, want ErrConflict", name, err)
		}
	}
	if _, err := st.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "r9", Feature: json.RawMessage(`{}`), IfExists: true}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IfExists on a missing document: %v", err)
	}
	for _, bad := range []any{json.RawMessage(`[1]`), json.RawMessage(`{"a":`), 42} {
		if _, err := st.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "r3", Feature: bad}}); !errors.Is(err, store.ErrInvalidWrite) {
			t.Errorf("document %v: err %v, want ErrInvalidWrite", bad, err)
		}
	}
	if _, err := st.Apply(ctx, "x", []store.Write{{Layer: "tasks", ID: "t1", Feature: json.RawMessage(`{}`)}}); !errors.Is(err, geo.ErrUnknownLayer) {
		t.Errorf("unregistered collection: %v", err)
	}
	if st.Seq() != seq {
		t.Fatal("a rejected write changed the sequence")
	}
	// the change log and the history
	ch, err := st.Changes(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ch {
		got = append(got, fmt.Sprintf("%d %s %s %s", c.Seq, c.Layer, c.ID, c.Op))
	}
	want := []string{"1 entities " + e.ID + " put", "2 records r1 put", "3 entities " + e.ID + " put", "4 records r2 put", "5 records r1 put", "6 records r2 delete"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("change log\n%q\nwant\n%q", got, want)
	}
	h, err := st.History(ctx, "records", "r1", 10)
	if err != nil || len(h) != 2 || string(h[1].Feature) != `{"kind":"licence"}` || h[0].Writer != "dept:tax" {
		t.Fatalf("history %+v %v", h, err)
	}
	docs, err := st.Docs(ctx, "records", []string{"r2", "r1", "zz"})
	if err != nil || len(docs) != 1 || docs[0].ID != "r1" || docs[0].Version != 5 {
		t.Fatalf("Docs: %+v %v", docs, err)
	}
	before := m.All()
	stateBefore := state(t, ix.Snapshot())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// a restarted store hands the same documents to a fresh consumer
	st2, ix2, m2 := openWithRecords(t, path, nil)
	defer st2.Close()
	if !reflect.DeepEqual(m2.All(), before) || st2.Seq() != seq {
		t.Fatalf("after restart: %+v seq %d, want %+v seq %d", m2.All(), st2.Seq(), before, seq)
	}
	if !reflect.DeepEqual(state(t, ix2.Snapshot()), stateBefore) {
		t.Fatal("features differ after restart")
	}
}

func TestCollectionValidateAndAtomicity(t *testing.T) {
	ctx := context.Background()
	st, ix, m := openWithRecords(t, ":memory:", func(id string, body json.RawMessage) error {
		var v struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Kind == "" {
			return fmt.Errorf("%w: kind missing", store.ErrInvalidWrite)
		}
		return nil
	})
	defer st.Close()
	e := entity(1, 106.5, 29.6)
	// a bad document rejects the whole request: the entity is not written either
	_, err := st.Apply(ctx, "x", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}, {Layer: "records", ID: "r1", Feature: json.RawMessage(`{}`)}})
	var we *store.WriteError
	if !errors.As(err, &we) || we.Index != 1 {
		t.Fatalf("err %v, want a WriteError for write 1", err)
	}
	if st.Seq() != 0 || ix.Snapshot().Counts().Entities != 0 || m.Len() != 0 {
		t.Fatal("a rejected request changed something")
	}
	// a precondition failing on the entity keeps the document out
	_, err = st.Apply(ctx, "x", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfExists: true}, {Layer: "records", ID: "r1", Feature: json.RawMessage(`{"kind":"tax"}`)}})
	if !errors.Is(err, store.ErrNotFound) || m.Len() != 0 || st.Seq() != 0 {
		t.Fatalf("err %v, docs %d", err, m.Len())
	}
}

func TestCollectionOptions(t *testing.T) {
	for _, name := range []string{"entities", "Records", "mg_x", "gpkg_y", "1a", "", "a-b"} {
		o := store.Options{Collections: []store.Collection{{Name: name, Consumer: store.NewDocMap()}}}
		if err := o.Validate(); err == nil {
			t.Errorf("collection name %q accepted", name)
		}
	}
	o := store.Options{Collections: []store.Collection{{Name: "a", Consumer: store.NewDocMap()}, {Name: "a", Consumer: store.NewDocMap()}}}
	if o.Validate() == nil {
		t.Error("a collection registered twice accepted")
	}
	if (store.Options{Collections: []store.Collection{{Name: "a"}}}).Validate() == nil {
		t.Error("a collection without a consumer accepted")
	}
}

// TestCollectionAfterSnapshot: documents written after the snapshot are in
// the change log that the restart replays; they are loaded from their
// table, not decoded as features.
func TestCollectionAfterSnapshot(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.gpkg")
	st, _, _ := openWithRecords(t, path, nil)
	e := entity(1, 106.5, 29.6)
	if _, err := st.Apply(ctx, "x", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "r1", Feature: json.RawMessage(`{"a":1}`)}}); err != nil {
		t.Fatal(err)
	}
	// Close writes a snapshot holding the document's seq; remove it so that
	// the next open loads from the store
	st.Close()
	if err := os.Remove(path + ".snapshot"); err != nil {
		t.Fatal(err)
	}
	st2, _, _ := openWithRecords(t, path, nil)
	if err := st2.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "r2", Feature: json.RawMessage(`{"a":2}`)}}); err != nil {
		t.Fatal(err)
	}
	// a crash: the snapshot stays at the older seq; the lock is released by closing the backend only
	if err := st2.Backend().Close(); err != nil {
		t.Fatal(err)
	}
	st3, ix3, m3 := openWithRecords(t, path, nil)
	defer st3.Close()
	if m3.Len() != 2 || ix3.Snapshot().Counts().Entities != 1 {
		t.Fatalf("after restart from a snapshot: %d docs, %d entities (from %s)", m3.Len(), ix3.Snapshot().Counts().Entities, st3.LoadedFrom())
	}
	if st3.LoadedFrom() == "store" {
		t.Fatal("the snapshot was not used")
	}
}

// TestOgrinfoListsCollections: a collection is a GeoPackage attributes
// table; GDAL lists it with its row count.
func TestOgrinfoListsCollections(t *testing.T) {
	ogr, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("MARKETGEO_REQUIRE_OGRINFO") != "" {
			t.Fatal("ogrinfo not found (Debian package gdal-bin)")
		}
		t.Skip("ogrinfo not found (Debian package gdal-bin)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ogr.gpkg")
	st, _, _ := openWithRecords(t, path, nil)
	e := entity(1, 106.5, 29.6)
	ws := []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}
	for i := range 37 {
		ws = append(ws, store.Write{Layer: "records", ID: fmt.Sprint("r", i), Feature: map[string]any{"n": i}})
	}
	if _, err := st.Apply(ctx, "x", ws); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, "x", []store.Write{{Layer: "records", ID: "r0"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ogr, "-ro", "-so", "-al", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	got := map[string]int{}
	re := regexp.MustCompile(`(?m)^Layer name: (\S+)\n(?:.*\n)*?Feature Count: (\d+)`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[2])
		got[m[1]] = n
	}
	if got["records"] != 36 || got["entities"] != 1 || got["mg_changes"] != 39 {
		t.Fatalf("ogrinfo counts %v, want records 36, entities 1, mg_changes 39\n%s", got, out)
	}
	if regexp.MustCompile(`(?i)warning|error`).Match(out) {
		t.Errorf("ogrinfo complained:\n%s", out)
	}
}
