package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// uscc returns a valid unified social credit code numbered i.
func uscc(i int) string {
	first := fmt.Sprintf("91500000%09d", i)
	c, err := geo.USCCCheckChar(first)
	if err != nil {
		panic(err)
	}
	return first + string(c)
}

func entity(i int, lon, lat float64) geo.Entity {
	return geo.Entity{ID: uscc(i), Name: fmt.Sprintf("重庆测试%d有限公司", i), Location: orb.Point{lon, lat}, Industry: "I6510",
		Status: geo.StatusActive, Risk: geo.RiskA, Address: fmt.Sprintf("重庆市渝北区金开大道%d号", i), Attrs: map[string]string{"k": "v"}}
}

func square(lon, lat, d float64) orb.Polygon {
	return orb.Polygon{{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}}
}

func openStore(t testing.TB, path string) (*store.Store, *geo.Index) {
	t.Helper()
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), path, ix, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st, ix
}

// state is every feature of a snapshot rendered as GeoJSON, by layer and ID.
func state(t testing.TB, s *geo.Snapshot) map[string]string {
	t.Helper()
	out := map[string]string{}
	put := func(l geo.Layer, id string, v any) bool {
		b, err := json.Marshal(store.FeatureOf(v))
		if err != nil {
			t.Fatal(err)
		}
		out[string(l)+"/"+id] = string(b)
		return true
	}
	s.ScanEntities(func(e *geo.Entity) bool { return put(geo.LayerEntities, e.ID, e) })
	s.ScanBuildings(func(b *geo.Building) bool { return put(geo.LayerBuildings, b.ID, b) })
	s.ScanPlaces(func(p *geo.Place) bool { return put(geo.LayerPlaces, p.ID, p) })
	s.ScanZones(func(z *geo.Zone) bool { return put(geo.LayerZones, z.ID, z) })
	return out
}

// seedDemo writes a generated demo region of n entities into st, the way
// serve seeds a new store (a scratch index, then Import).
func seedDemo(t testing.TB, st *store.Store, n int) (*demo.Dataset, store.Result) {
	t.Helper()
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		t.Fatal(err)
	}
	scratch, _ := geo.New(geo.Options{})
	if err := ds.Load(scratch); err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), "import", scratch.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return ds, res
}

func TestRoundTripAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mg.gpkg")
	st, ix := openStore(t, path)
	_, res := seedDemo(t, st, 2000)
	c := ix.Snapshot().Counts() // the store was empty: all of it is the import
	if want := uint64(c.Entities + c.Buildings + c.Places + c.Zones); res.Seq != want {
		t.Fatalf("seq after import %d, want %d", res.Seq, want)
	}
	// a few writes of every kind
	e := entity(1, 106.55, 29.6)
	if _, err := st.Apply(ctx, "alice", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Patch(ctx, "bob", geo.LayerEntities, e.ID, []byte(`{"properties":{"status":"吊销","risk":"D","k":null}}`), 0, geo.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	var someBuilding string
	ix.Snapshot().ScanBuildings(func(b *geo.Building) bool { someBuilding = b.ID; return false })
	if _, err := st.Apply(ctx, "carol", []store.Write{{Layer: geo.LayerBuildings, ID: someBuilding}}); err != nil {
		t.Fatal(err)
	}
	z := geo.Zone{ID: "grid-test", Layer: "grid", Name: "测试网格", Geometry: orb.MultiPolygon{square(106.5, 29.5, 0.2)}, Props: map[string]string{"inspector": "张三"}}
	if _, err := st.Apply(ctx, "dave", []store.Write{{Layer: geo.LayerZones, ID: z.ID, Feature: &z}}); err != nil {
		t.Fatal(err)
	}
	want := state(t, ix.Snapshot())
	seq := st.Seq()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// the rows alone (no snapshot) give the same state as the snapshot
	ixRows, _ := geo.New(geo.Options{})
	stRows, err := store.Open(ctx, path, ixRows, store.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if stRows.LoadedFrom() != "store" || !reflect.DeepEqual(state(t, ixRows.Snapshot()), want) {
		t.Fatalf("state from the rows (%s) differs", stRows.LoadedFrom())
	}
	stRows.Close()

	st2, ix2 := openStore(t, path)
	defer st2.Close()
	if !strings.HasPrefix(st2.LoadedFrom(), "snapshot") {
		t.Fatalf("loaded from %q after a clean close, want the snapshot", st2.LoadedFrom())
	}
	if st2.Seq() != seq {
		t.Fatalf("seq after restart %d, want %d", st2.Seq(), seq)
	}
	got := state(t, ix2.Snapshot())
	if len(got) != len(want) {
		t.Fatalf("%d features after restart, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s after restart:\n got %s\nwant %s", k, got[k], v)
		}
	}
	ge, _ := ix2.Snapshot().Entity(e.ID)
	if ge.Status != geo.StatusRevoked || ge.Risk != geo.RiskD || ge.Attrs["k"] != "" || ge.GridID != "grid-test" {
		t.Fatalf("patched entity after restart: %+v", ge)
	}
	// history: created by alice, patched by bob, re-gridded by dave
	h, err := st2.History(ctx, geo.LayerEntities, e.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var writers []string
	for _, c := range h {
		writers = append(writers, c.Writer)
	}
	if strings.Join(writers, ",") != "alice,bob,dave" {
		t.Fatalf("history writers %v, want alice,bob,dave", writers)
	}
	// the change log has no gap and ends at seq
	all, err := st2.Changes(ctx, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range all {
		if c.Seq != uint64(i+1) {
			t.Fatalf("change %d has seq %d", i, c.Seq)
		}
	}
	if len(all) == 0 || all[len(all)-1].Seq != seq {
		t.Fatalf("change log ends at %v, want %d", all[len(all)-1].Seq, seq)
	}
}

func TestPreconditions(t *testing.T) {
	ctx := context.Background()
	st, ix := openStore(t, ":memory:")
	defer st.Close()
	e := entity(7, 106.5, 29.6)
	w := store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}
	r1, err := st.Apply(ctx, "a", []store.Write{w})
	if err != nil || !r1.Created[0] || r1.Versions[0] != 1 {
		t.Fatalf("create: %+v %v", r1, err)
	}
	cases := []struct {
		name string
		w    store.Write
		want error
	}{
		{"if-match stale", store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfVersion: 99}, store.ErrConflict},
		{"if-none-match on existing", store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfAbsent: true}, store.ErrConflict},
		{"delete missing, must exist", store.Write{Layer: geo.LayerEntities, ID: uscc(8), IfExists: true}, store.ErrNotFound},
		{"if-match on missing", store.Write{Layer: geo.LayerPlaces, ID: "nope", IfVersion: 1}, store.ErrNotFound},
		{"id mismatch", store.Write{Layer: geo.LayerEntities, ID: uscc(9), Feature: &e}, store.ErrInvalidWrite},
		{"bad uscc", store.Write{Layer: geo.LayerEntities, ID: "123", Feature: &geo.Entity{ID: "123", Name: "x"}}, geo.ErrInvalidUSCC},
		{"bad layer", store.Write{Layer: "roads", ID: "r"}, geo.ErrUnknownLayer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := state(t, ix.Snapshot())
			seq := st.Seq()
			_, err := st.Apply(ctx, "a", []store.Write{tc.w})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if st.Seq() != seq || !reflect.DeepEqual(state(t, ix.Snapshot()), before) {
				t.Fatal("a rejected write changed something")
			}
		})
	}
	// the right version passes
	e.Name = "重庆改名有限公司"
	r2, err := st.Apply(ctx, "a", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfVersion: 1}})
	if err != nil || r2.Versions[0] != 2 || r2.Created[0] {
		t.Fatalf("update with the right version: %+v %v", r2, err)
	}
	// a batch with one bad precondition writes nothing
	e2 := entity(10, 106.5, 29.6)
	_, err = st.Apply(ctx, "a", []store.Write{{Layer: geo.LayerEntities, ID: e2.ID, Feature: &e2}, {Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfVersion: 1}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("batch: %v", err)
	}
	if _, ok := ix.Snapshot().Entity(e2.ID); ok {
		t.Fatal("half a batch was applied")
	}
	// patch: id change refused, stale version refused
	if _, _, err := st.Patch(ctx, "a", geo.LayerEntities, e.ID, []byte(`{"properties":{"id":"`+uscc(11)+`"}}`), 0, geo.LoadOptions{}); !errors.Is(err, store.ErrInvalidWrite) {
		t.Fatalf("patch changing the id: %v", err)
	}
	if _, _, err := st.Patch(ctx, "a", geo.LayerEntities, e.ID, []byte(`{"properties":{"risk":"B"}}`), 1, geo.LoadOptions{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale patch: %v", err)
	}
	if _, _, err := st.Patch(ctx, "a", geo.LayerEntities, e.ID, []byte(`{"properties":{"risk":"Z"}}`), 0, geo.LoadOptions{}); !errors.Is(err, geo.ErrInvalidFeature) {
		t.Fatalf("invalid patch: %v", err)
	}
	if _, _, err := st.Patch(ctx, "a", geo.LayerEntities, e.ID, []byte(`[1]`), 0, geo.LoadOptions{}); !errors.Is(err, store.ErrInvalidWrite) {
		t.Fatalf("array patch: %v", err)
	}
	_, v, err := st.Patch(ctx, "a", geo.LayerEntities, e.ID, []byte(`{"geometry":{"type":"Point","coordinates":[106.6,29.7]}}`), 2, geo.LoadOptions{})
	if err != nil || v.(*geo.Entity).Location != (orb.Point{106.6, 29.7}) || v.(*geo.Entity).Version != 3 {
		t.Fatalf("relocation patch: %+v %v", v, err)
	}
}

// failing is a backend whose commits fail after a given number.
type failing struct {
	store.Backend
	mu    sync.Mutex
	after int
}

func (f *failing) Commit(ctx context.Context, recs []store.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.after <= 0 {
		return errors.New("disk full")
	}
	f.after--
	return f.Backend.Commit(ctx, recs)
}

func TestFailedCommitChangesNothing(t *testing.T) {
	ctx := context.Background()
	be, err := store.OpenSQLite(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	fb := &failing{Backend: be, after: 1}
	ix, _ := geo.New(geo.Options{})
	st, err := store.New(ctx, ix, fb, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var notified int
	ix.Subscribe(func(geo.ChangeSet) { notified++ })
	e := entity(1, 106.5, 29.6)
	if _, err := st.Apply(ctx, "a", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
		t.Fatal(err)
	}
	before, v0, n0 := state(t, ix.Snapshot()), ix.Snapshot().Version(), notified
	e2 := entity(2, 106.5, 29.6)
	_, err = st.Apply(ctx, "a", []store.Write{{Layer: geo.LayerEntities, ID: e2.ID, Feature: &e2}, {Layer: geo.LayerEntities, ID: e.ID}})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
	if st.Seq() != 1 || ix.Snapshot().Version() != v0 || notified != n0 || !reflect.DeepEqual(state(t, ix.Snapshot()), before) {
		t.Fatal("a write that could not be made durable changed something")
	}
	ch, _ := st.Changes(ctx, 0, 10)
	if len(ch) != 1 {
		t.Fatalf("%d changes logged, want 1", len(ch))
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	st, ix := openStore(t, filepath.Join(t.TempDir(), "c.gpkg"))
	defer st.Close()
	const writers, each = 4, 25
	var wg sync.WaitGroup
	var conflicts sync.Map
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range each {
				e := entity(w*1000+i, 106.4+rng.Float64()*0.3, 29.5+rng.Float64()*0.3)
				if _, err := st.Apply(ctx, fmt.Sprint("w", w), []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
					t.Error(err)
					return
				}
				// everyone patches the shared entity of writer 0 with If-Match
				if cur, ok := ix.Snapshot().Entity(uscc(0)); ok {
					_, _, err := st.Patch(ctx, "w", geo.LayerEntities, cur.ID, []byte(`{"properties":{"risk":"B"}}`), cur.Version, geo.LoadOptions{})
					if errors.Is(err, store.ErrConflict) {
						conflicts.Store(w, true)
					} else if err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for range 2 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := ix.Snapshot()
				n := 0
				s.ScanEntities(func(e *geo.Entity) bool { n++; return e.Version > 0 })
				if _, err := st.Changes(ctx, 0, 50); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	if got := ix.Snapshot().Counts().Entities; got != writers*each {
		t.Fatalf("%d entities, want %d", got, writers*each)
	}
	all, err := st.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range all {
		if c.Seq != uint64(i+1) {
			t.Fatalf("gap in the change log at %d: seq %d", i, c.Seq)
		}
	}
	if uint64(len(all)) != st.Seq() {
		t.Fatalf("%d changes, seq %d", len(all), st.Seq())
	}
}

func TestDecodeBulk(t *testing.T) {
	good := func(i int) string {
		e := entity(i, 106.5, 29.6)
		b, _ := json.Marshal(store.FeatureOf(&e))
		return string(b)
	}
	cases := []struct {
		name  string
		body  string
		n     int
		err   error
		lines []int
	}{
		{"two good", good(1) + "\n\n" + good(2) + "\n", 2, nil, nil},
		{"bad json", good(1) + "\n{\"type\":\n" + good(2), 0, geo.ErrInvalidFeature, []int{2}},
		{"point expected", good(1) + "\n" + `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"id":"x"}}`, 0, geo.ErrInvalidGeometry, []int{2}},
		{"bad uscc and dup", good(1) + "\n" + strings.Replace(good(2), uscc(2), "915000000000000001", -1) + "\n" + good(1), 0, geo.ErrInvalidUSCC, []int{2, 3}},
		{"empty", "\n\n", 0, store.ErrInvalidWrite, nil},
		{"not an object", "[1,2]", 0, geo.ErrInvalidFeature, []int{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := store.DecodeBulk(strings.NewReader(tc.body), geo.LayerEntities, 10, 1<<16, geo.LoadOptions{})
			if !errors.Is(err, tc.err) || (tc.err == nil && len(ws) != tc.n) {
				t.Fatalf("%d writes, err %v; want %d, %v", len(ws), err, tc.n, tc.err)
			}
			var be *store.BulkError
			if tc.lines != nil {
				if !errors.As(err, &be) {
					t.Fatalf("err %T, want *BulkError", err)
				}
				var got []int
				for _, l := range be.Lines {
					got = append(got, l.Line)
				}
				if !reflect.DeepEqual(got, tc.lines) {
					t.Fatalf("bad lines %v, want %v (%+v)", got, tc.lines, be.Lines)
				}
			}
		})
	}
	// over the count: stops reading at the cap
	var sb strings.Builder
	for i := range 11 {
		sb.WriteString(good(i) + "\n")
	}
	if _, err := store.DecodeBulk(strings.NewReader(sb.String()), geo.LayerEntities, 10, 1<<16, geo.LoadOptions{}); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("11 lines with a cap of 10: %v", err)
	}
	if _, err := store.DecodeBulk(strings.NewReader(strings.Repeat("x", 100)), geo.LayerEntities, 10, 50, geo.LoadOptions{}); !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("a line over the byte cap: %v", err)
	}
}

func FuzzDecodeBulk(f *testing.F) {
	e := entity(1, 106.5, 29.6)
	b, _ := json.Marshal(store.FeatureOf(&e))
	f.Add(string(b))
	f.Add(string(b) + "\n" + string(b))
	f.Add(`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,2]},"properties":{"id":"x","name":"y"}}`)
	f.Add(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{"id":"b"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, l := range []geo.Layer{geo.LayerEntities, geo.LayerBuildings, geo.LayerPlaces, geo.LayerZones} {
			ws, err := store.DecodeBulk(strings.NewReader(body), l, 100, 1<<16, geo.LoadOptions{})
			if err == nil {
				for _, w := range ws {
					if w.Feature == nil || w.ID == "" {
						t.Fatalf("accepted a write without feature or id: %+v", w)
					}
				}
			}
		}
	})
}

func TestSnapshotPlusChangeLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snap.gpkg")
	st, ix := openStore(t, path)
	ds, _ := seedDemo(t, st, 1500)
	if err := st.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	// after the snapshot: a put, a patch, a delete, a zone that re-grids
	e := entity(3, 106.55, 29.6)
	writes := [][]store.Write{
		{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}},
		{{Layer: geo.LayerEntities, ID: ds.Entities[0].ID}},
		{{Layer: geo.LayerZones, ID: "grid-x", Feature: &geo.Zone{ID: "grid-x", Layer: "grid", Name: "x", Geometry: orb.MultiPolygon{square(106.54, 29.59, 0.03)}}}},
	}
	for _, w := range writes {
		if _, err := st.Apply(ctx, "w", w); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Patch(ctx, "w", geo.LayerEntities, ds.Entities[1].ID, []byte(`{"properties":{"name":"改名"}}`), 0, geo.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	want := state(t, ix.Snapshot())
	// the first process dies without closing the store (no snapshot written
	// since); a second one opens the file
	st.Backend().Close()
	ix2, _ := geo.New(geo.Options{})
	st2, err := store.Open(ctx, path, ix2, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st2.LoadedFrom(), "snapshot") {
		t.Fatalf("loaded from %q, want the snapshot", st2.LoadedFrom())
	}
	got := state(t, ix2.Snapshot())
	if !reflect.DeepEqual(got, want) {
		n := 0
		for k, v := range want {
			if got[k] != v && n < 3 {
				t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
				n++
			}
		}
		t.Fatalf("snapshot + change log: %d features, want %d", len(got), len(want))
	}
	st2.Close()
	st.Close()
	// a truncated snapshot is refused: the state comes from the rows
	if err := os.Truncate(path+".snapshot", 5000); err != nil {
		t.Fatal(err)
	}
	ix5, _ := geo.New(geo.Options{})
	st5, err := store.Open(ctx, path, ix5, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st5.LoadedFrom() != "store" || !reflect.DeepEqual(state(t, ix5.Snapshot()), want) {
		t.Fatalf("after a truncated snapshot: loaded from %s", st5.LoadedFrom())
	}
	st5.Close()
	// a snapshot of another store is refused: the state comes from the rows
	other := filepath.Join(t.TempDir(), "other.gpkg")
	st3, _ := openStore(t, other)
	st3.Close()
	b, _ := os.ReadFile(path + ".snapshot")
	os.WriteFile(other+".snapshot", b, 0o644)
	st4, ix4 := openStore(t, other)
	defer st4.Close()
	if st4.LoadedFrom() != "store" || ix4.Snapshot().Counts().Entities != 0 {
		t.Fatalf("another store's snapshot was used: %s", st4.LoadedFrom())
	}
}

func TestOneWriterProcessAtATime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock.gpkg")
	st, _ := openStore(t, path)
	ix, _ := geo.New(geo.Options{})
	if _, err := store.Open(context.Background(), path, ix, store.Options{}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("a second open of a store in use: %v, want ErrLocked", err)
	}
	st.Close()
	st2, _ := openStore(t, path) // free again once closed
	st2.Close()
}
