package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// TestPreparedStatementsKept: many commits of every kind of write (puts,
// replacements, deletes of entities, buildings and places; from several
// writers at once, so in groups too) all land, on statements prepared
// once — their number does not grow with the commits — and Close closes
// them. A reopening of the file from its rows alone is the oracle.
func TestPreparedStatementsKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mg.gpkg")
	be, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := geo.New(geo.Options{})
	st, err := store.New(ctx, ix, be, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(i int) {
		t.Helper()
		var w store.Write
		switch i % 5 {
		case 0, 1: // create, then replace entity i/5 (moved and re-rated)
			e := entity(i/5, 106.5+float64(i)*1e-4, 29.6+float64(i%7)*1e-4)
			e.Risk = geo.Risk("ABCD"[i%4])
			w = store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}
		case 2:
			b := geo.Building{ID: fmt.Sprintf("b%d", i/5), Name: "楼", Footprint: square(106.5+float64(i)*1e-4, 29.6, 1e-4), Floors: 3}
			w = store.Write{Layer: geo.LayerBuildings, ID: b.ID, Feature: &b}
		case 3:
			p := geo.Place{ID: fmt.Sprintf("p%d", i/5), Name: "地点", Location: orb.Point{106.5, 29.6 + float64(i)*1e-5}}
			w = store.Write{Layer: geo.LayerPlaces, ID: p.ID, Feature: &p}
		case 4: // delete every other entity written so far
			if i/5%2 == 0 {
				w = store.Write{Layer: geo.LayerEntities, ID: uscc(i / 5)}
			} else {
				w = store.Write{Layer: geo.LayerBuildings, ID: fmt.Sprintf("b%d", i/5)}
			}
		}
		if _, err := st.Apply(ctx, "t", []store.Write{w}); err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	for i := range 10 {
		write(i)
	}
	prepared := len(store.Statements(be))
	if prepared == 0 {
		t.Fatal("no statement kept prepared after commits")
	}
	// the rest from four writers at once (group commits)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 10 + g; i < 400; i += 4 {
				write(i)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	kept := store.Statements(be)
	if len(kept) != prepared {
		t.Fatalf("%d statements prepared after 400 commits, %d after the first 10: prepared again per commit", len(kept), prepared)
	}
	want := state(t, ix.Snapshot())
	seq := st.Seq()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(store.Statements(be)); n != 0 {
		t.Fatalf("%d statements kept after Close", n)
	}
	for _, s := range kept {
		if _, err := s.ExecContext(ctx); err == nil {
			t.Fatal("a kept statement still runs after Close")
		}
	}
	if err := be.Commit(ctx, nil); err == nil {
		t.Fatal("Commit after Close succeeded")
	}

	ix2, _ := geo.New(geo.Options{})
	st2, err := store.Open(ctx, path, ix2, store.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if got := state(t, ix2.Snapshot()); !reflect.DeepEqual(got, want) {
		t.Fatalf("the file's rows hold %d features, the index had %d (or they differ)", len(got), len(want))
	}
	all, err := st2.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || all[len(all)-1].Seq != seq || uint64(len(all)) != seq {
		t.Fatalf("change log: %d lines ending at %d, want %d", len(all), all[len(all)-1].Seq, seq)
	}
}
