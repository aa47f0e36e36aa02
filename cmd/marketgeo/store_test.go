package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/server"
)

// features lists every feature of ix with its store version cleared (the
// oracle index was never written through a store), keyed by layer and ID.
func features(ix *geo.Index) map[string]any {
	m := map[string]any{}
	s := ix.Snapshot()
	s.ScanEntities(func(e *geo.Entity) bool {
		c := *e
		c.Version = 0
		m["e:"+c.ID] = c
		return true
	})
	s.ScanBuildings(func(b *geo.Building) bool {
		c := *b
		c.Version = 0
		m["b:"+c.ID] = c
		return true
	})
	s.ScanPlaces(func(p *geo.Place) bool {
		c := *p
		c.Version = 0
		m["p:"+c.ID] = c
		return true
	})
	s.ScanZones(func(z *geo.Zone) bool {
		c := *z
		c.Version = 0
		m["z:"+c.ID] = c
		return true
	})
	return m
}

// A store seeded by serve is opened again from the snapshot the seed
// wrote: the index serve gets holds what a restart holds (read from that
// snapshot) and every feature equals the data directory loaded on its own
// into another index; the store writes into that index; a second open
// (a restart) seeds nothing and holds the same features.
func TestServeStoreSeededReopened(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := run([]string{"gen", "--entities", "600", "--out", data}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	oracle, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := loadData(oracle, data, "", false, log); err != nil {
		t.Fatal(err)
	}
	want := features(oracle)
	if len(want) < 600 {
		t.Fatalf("oracle holds %d features", len(want))
	}
	cfg := server.DefaultFileConfig()
	cfg.Store, cfg.Data = filepath.Join(dir, "s.gpkg"), data
	for i, what := range []string{"first start (seeds, then reopens)", "restart"} {
		logBuf.Reset()
		idx, st, err := openServeStore(context.Background(), cfg, log)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if st.Index() != idx {
			t.Fatalf("%s: the store writes into another index than serve's", what)
		}
		if !strings.HasPrefix(st.LoadedFrom(), "snapshot") {
			t.Errorf("%s: loaded from %q, want the snapshot", what, st.LoadedFrom())
		}
		seeded := strings.Contains(logBuf.String(), "imported into the store")
		if seeded != (i == 0) {
			t.Errorf("%s: seeded %v\n%s", what, seeded, logBuf.String())
		}
		got := features(idx)
		if len(got) != len(want) {
			t.Errorf("%s: %d features, want %d", what, len(got), len(want))
		}
		bad := 0
		for k, w := range want {
			if g, ok := got[k]; !ok || !reflect.DeepEqual(g, w) {
				if bad++; bad <= 3 {
					t.Errorf("%s: %s is\n%+v\nwant\n%+v", what, k, g, w)
				}
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
