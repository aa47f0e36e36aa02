package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// persistFixture is a demo region in a geo index, with the queries the
// persisted and the fresh index are compared on.
type persistFixture struct {
	geo     *geo.Index
	queries []string
}

func newPersistFixture(t *testing.T) *persistFixture {
	t.Helper()
	ds, err := demo.Generate(demo.Options{Entities: 4000})
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
	f := &persistFixture{geo: g}
	i := 0
	g.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if i++; i%251 == 0 {
			r := []rune(e.Name)
			f.queries = append(f.queries, e.Name, string(r[len(r)/2:]), e.ShortName, e.Address)
		}
		return true
	})
	g.Snapshot().ScanPlaces(func(p *geo.Place) bool {
		if i++; i%41 == 0 {
			f.queries = append(f.queries, p.Name)
		}
		return true
	})
	f.queries = append(f.queries, "鑫", "重庆", "xjzs", "金开大道", "没有这个名字的公司")
	return f
}

// write changes the region after a save: renames (every 5th of the
// sampled entities), moves to another address, deletes, and new entities
// and places; it returns queries for what it wrote.
func (f *persistFixture) write(t *testing.T, round int) []string {
	t.Helper()
	var qs []string
	b := f.geo.Batch()
	i := 0
	f.geo.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		i++
		switch {
		case i%211 == round:
			_ = b.Delete(geo.LayerEntities, e.ID)
			qs = append(qs, e.Name)
		case i%157 == round:
			ne := *e
			ne.Name = fmt.Sprintf("重庆市改名%d号测试%d有限公司", i, round)
			ne.ShortName = ""
			ne.Address = fmt.Sprintf("重庆市渝北区持久测试路%d号", i)
			if err := b.UpsertEntity(ne); err != nil {
				t.Fatal(err)
			}
			qs = append(qs, e.Name, ne.Name, fmt.Sprintf("改名%d号测试", i), ne.Address)
		}
		return true
	})
	for k := range 20 {
		first := fmt.Sprintf("91500112%09d", 800000+round*100+k)
		c, _ := geo.USCCCheckChar(first)
		name := fmt.Sprintf("重庆持久新增%d商贸有限公司", round*100+k)
		if err := b.UpsertEntity(geo.Entity{ID: first + string(c), Name: name, Address: "重庆市两江新区新增路1号",
			Location: orb.Point{106.55, 29.65}}); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, name, fmt.Sprintf("持久新增%d", round*100+k))
	}
	if err := b.UpsertPlace(geo.Place{ID: fmt.Sprintf("PERSIST%d", round), Name: fmt.Sprintf("持久公园%d", round), Kind: "park",
		Location: orb.Point{106.5, 29.6}}); err != nil {
		t.Fatal(err)
	}
	qs = append(qs, fmt.Sprintf("持久公园%d", round))
	b.Commit()
	return qs
}

func (f *persistFixture) open(t *testing.T, p *Persist) *Index {
	t.Helper()
	return f.openWith(t, Options{Persist: p})
}

// openWith builds an index of the fixture with o, the demo region and
// every Bleve match re-ranked: with the default 200 candidates, which of
// many equally scored matches Bleve hands over depends on the order its
// segments were built in, which differs between two fresh builds too
// (parallel batches); with all of them the answers depend only on the
// index's content, which is what is compared here.
func (f *persistFixture) openWith(t *testing.T, o Options) *Index {
	t.Helper()
	o.Candidates = 50000
	opts, err := withDemoRegion(o)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := New(context.Background(), f.geo, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	return ix
}

// sameAnswers fails unless got answers every query exactly as want does
// (the same hits, in the same order, with the same scores).
func sameAnswers(t *testing.T, got, want *Index, queries []string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range queries {
		for _, layers := range [][]geo.Layer{nil} {
			hg, eg := got.Search(ctx, Query{Text: q, Layers: layers, Limit: 20})
			hw, ew := want.Search(ctx, Query{Text: q, Layers: layers, Limit: 20})
			if !reflect.DeepEqual(hg, hw) || (eg == nil) != (ew == nil) {
				t.Fatalf("Search(%q, %v):\n restored %v %v\n fresh    %v %v", q, layers, names(hg), eg, names(hw), ew)
			}
		}
	}
}

// TestPersistedMatchesFreshBuild: an index restored from a save and brought
// up to date with the writes made after it (renames, moves, deletes, new
// features: the save knows none of them, as after a crash) answers every
// query exactly as an index built from scratch over the same data; and a
// second restart, after a save of the restored index, again.
func TestPersistedMatchesFreshBuild(t *testing.T) {
	f := newPersistFixture(t)
	p := &Persist{Dir: t.TempDir(), Fingerprint: "build-1"}
	first := f.open(t, p)
	if st := first.Stats(); st.Restored || st.RestoreErr == "" {
		t.Fatalf("first start restored %v (%q), want a build (no save yet)", st.Restored, st.RestoreErr)
	}
	if err := first.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	queries := append(f.queries, f.write(t, 1)...)
	_ = first.Close() // no save after the writes: a crash would leave the same

	for round := 2; round <= 3; round++ {
		restored := f.open(t, p)
		st := restored.Stats()
		if !st.Restored {
			t.Fatalf("round %d: not restored: %s", round, st.RestoreErr)
		}
		fresh := f.open(t, nil)
		sameAnswers(t, restored, fresh, queries)
		if st.Docs != fresh.Stats().Docs {
			t.Fatalf("round %d: %d docs restored, %d fresh", round, st.Docs, fresh.Stats().Docs)
		}
		// Live updates on the restored (on-disk) index follow as on a fresh one.
		queries = append(queries, f.write(t, round*10)...)
		sameAnswers(t, restored, fresh, queries)
		if err := restored.Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		queries = append(queries, f.write(t, round*10+1)...)
		_ = restored.Close()
		_ = fresh.Close()
	}
}

// TestSaveDuringWrites: writes made while a save copies the index are
// marked in its manifest and indexed again at the restart, whichever side
// of the copy they fell on.
func TestSaveDuringWrites(t *testing.T) {
	f := newPersistFixture(t)
	p := &Persist{Dir: t.TempDir(), Fingerprint: "build-1"}
	ix := f.open(t, p)
	var wg sync.WaitGroup
	var queries []string
	for round := 1; round <= 3; round++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ix.Save(context.Background()); err != nil {
				t.Error(err)
			}
		}()
		queries = append(queries, f.write(t, round)...)
		wg.Wait()
	}
	_ = ix.Close()
	restored := f.open(t, p)
	if !restored.Stats().Restored {
		t.Fatalf("not restored: %s", restored.Stats().RestoreErr)
	}
	sameAnswers(t, restored, f.open(t, nil), append(queries, f.queries...))
}

// TestPersistedRefused: a save of another fingerprint or CJK mode, a
// corrupt or truncated manifest and a missing Bleve directory are not
// used (Stats says why, wrapping ErrBadPersisted); the index is built
// and answers as a fresh one.
func TestPersistedRefused(t *testing.T) {
	f := newPersistFixture(t)
	dir := t.TempDir()
	p := &Persist{Dir: dir, Fingerprint: "build-1"}
	ix := f.open(t, p)
	if err := ix.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = ix.Close()
	saved := filepath.Join(dir, dirCurrent)
	manifestPath := filepath.Join(saved, fileManifest)
	good, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	fresh := f.open(t, nil)
	for _, c := range []struct {
		name   string
		fp     string
		spoil  func(t *testing.T)
		reason string
	}{
		{"another fingerprint", "build-2", func(*testing.T) {}, "another build"},
		{"truncated manifest", "build-1", func(t *testing.T) { must(t, os.WriteFile(manifestPath, good[:len(good)/2], 0o644)) }, "corrupt"},
		{"flipped byte", "build-1", func(t *testing.T) {
			b := append([]byte(nil), good...)
			b[len(b)/3] ^= 1
			must(t, os.WriteFile(manifestPath, b, 0o644))
		}, "corrupt"},
		{"no Bleve index", "build-1", func(t *testing.T) { must(t, os.RemoveAll(filepath.Join(saved, dirBleve))) }, "bleve"},
		{"no save", "build-1", func(t *testing.T) { must(t, os.RemoveAll(saved)) }, "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.spoil(t)
			ix := f.open(t, &Persist{Dir: dir, Fingerprint: c.fp})
			st := ix.Stats()
			if st.Restored || st.RestoreErr == "" {
				t.Fatalf("restored %v (%q), want a build", st.Restored, st.RestoreErr)
			}
			t.Logf("refused: %s", st.RestoreErr)
			sameAnswers(t, ix, fresh, f.queries[:40])
			_ = ix.Close()
		})
	}
	// A save of the index built after a refusal is restored at the next start.
	ix = f.open(t, &Persist{Dir: dir, Fingerprint: "build-1"})
	must(t, ix.Save(context.Background()))
	_ = ix.Close()
	again := f.open(t, &Persist{Dir: dir, Fingerprint: "build-1"})
	if !again.Stats().Restored {
		t.Fatalf("not restored after a save: %s", again.Stats().RestoreErr)
	}
	var opts Options
	opts.Persist = &Persist{Dir: dir}
	if err := opts.Validate(); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Persist without a fingerprint: %v, want ErrInvalidOptions", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSaveReopensFromDisk: a built index (its Bleve segments in memory) is
// reopened from its save by the first Save, with the writes made while
// and after the save indexed in it; it answers every query exactly as an
// index built from scratch over the same data, before and after more
// writes, and its next save is restored at a restart.
func TestSaveReopensFromDisk(t *testing.T) {
	f := newPersistFixture(t)
	var reopened atomic.Int32
	p := &Persist{Dir: t.TempDir(), Fingerprint: "build-1", Reopened: func() { reopened.Add(1) }}
	ix := f.open(t, p)
	if ix.Stats().OnDisk {
		t.Fatal("a built index says it is on disk before any save")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := ix.Save(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	queries := append(f.queries, f.write(t, 1)...) // during the save: either side of the copy
	wg.Wait()
	if st := ix.Stats(); !st.OnDisk || st.SaveErr != "" || reopened.Load() != 1 {
		t.Fatalf("after the first save: on disk %v, save error %q, Reopened called %d times", st.OnDisk, st.SaveErr, reopened.Load())
	}
	fresh := f.open(t, nil)
	sameAnswers(t, ix, fresh, queries)
	queries = append(queries, f.write(t, 2)...)
	sameAnswers(t, ix, fresh, queries)
	if ix.Stats().Docs != fresh.Stats().Docs {
		t.Fatalf("%d docs, fresh %d", ix.Stats().Docs, fresh.Stats().Docs)
	}
	must(t, ix.Save(context.Background()))
	_ = ix.Close()
	restored := f.open(t, p)
	if st := restored.Stats(); !st.Restored || !st.OnDisk {
		t.Fatalf("restart: restored %v on disk %v (%s)", st.Restored, st.OnDisk, st.RestoreErr)
	}
	sameAnswers(t, restored, fresh, queries)
}

// TestCompactionSavedAndReopened: a compaction (a full build after
// CompactAfter live-update commits) of an index that is persisted is saved
// and reopened from disk in turn, and answers as a fresh build; a restart
// restores that save.
func TestCompactionSavedAndReopened(t *testing.T) {
	f := newPersistFixture(t)
	p := &Persist{Dir: t.TempDir(), Fingerprint: "build-1"}
	opts, err := withDemoRegion(Options{Persist: p, Candidates: 50000, CompactAfter: 2})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := New(context.Background(), f.geo, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	must(t, ix.Save(context.Background()))
	var queries []string
	for round := 1; round <= 2; round++ { // the second commit starts a compaction
		queries = append(queries, f.write(t, round)...)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := ix.Stats()
		if st.Builds >= 2 && st.OnDisk {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no compaction saved and reopened: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fresh := f.open(t, nil)
	sameAnswers(t, ix, fresh, append(queries, f.queries...))
	must(t, ix.Close())
	restored := f.open(t, p)
	if st := restored.Stats(); !st.Restored {
		t.Fatalf("not restored: %s", st.RestoreErr)
	}
	sameAnswers(t, restored, fresh, append(queries, f.queries...))
}
