// Command embed-store embeds marketgeo's system of record in a Go service:
// it opens (or creates) a store file, seeds it with a small demo region,
// registers a new entity, relocates it with a merge patch, shows its
// history and the change log, then "restarts" — opens the same file in a
// fresh index — and finds everything it wrote there. No server involved:
// the same write path the HTTP API uses.
//
//	go run ./examples/embed-store                     # in a temporary directory
//	go run ./examples/embed-store -store my.gpkg      # keep the file (open it in QGIS)
//	go run ./examples/embed-store -check              # also verify the answers (CI)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

func main() {
	path := flag.String("store", "", "store file (default: a new one in a temporary directory)")
	check := flag.Bool("check", false, "verify the answers and exit non-zero when one is wrong")
	flag.Parse()
	if *path == "" {
		dir, err := os.MkdirTemp("", "embed-store")
		if err != nil {
			fmt.Fprintln(os.Stderr, "embed-store:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		*path = filepath.Join(dir, "marketgeo.gpkg")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *path, *check); err != nil {
		fmt.Fprintln(os.Stderr, "embed-store:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, path string, check bool) error {
	ix, err := geo.New(geo.Options{})
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, path, ix, store.Options{})
	if err != nil {
		return err
	}
	if st.Empty() {
		// seed: read the data into a scratch index, then write it through
		// the store (durable first, then in ix)
		ds, err := demo.Generate(demo.Options{Entities: 2000})
		if err != nil {
			return err
		}
		scratch, _ := geo.New(geo.Options{})
		if err := ds.Load(scratch); err != nil {
			return err
		}
		res, err := st.Import(ctx, "seed", scratch.Snapshot())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "seeded %s: %d changes\n", path, res.Changes)
	}

	// a registration: durable and visible to every query when Apply returns
	id := usccFor(time.Now().UnixNano() % 1e9)
	e := geo.Entity{ID: id, Name: "重庆嵌入示例科技有限公司", Address: "重庆市渝北区金开大道1号",
		Location: orb.Point{106.5516, 29.6512}, Industry: "I6510", Status: geo.StatusActive, Risk: geo.RiskA}
	res, err := st.Apply(ctx, "clerk-7", []store.Write{{Layer: geo.LayerEntities, ID: id, Feature: &e, IfAbsent: true}})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "registered %s at seq %d (version %d)\n", id, res.Seq, res.Versions[0])

	// a relocation and a reclassification, only if nobody changed it since
	_, moved, err := st.Patch(ctx, "inspector-3", geo.LayerEntities, id,
		[]byte(`{"geometry":{"type":"Point","coordinates":[106.5601,29.6588]},"properties":{"risk":"C"}}`), res.Versions[0], geo.LoadOptions{})
	if err != nil {
		return err
	}
	me := moved.(*geo.Entity)
	fmt.Fprintf(w, "relocated to %v, risk %s, grid %s, version %d\n", me.Location, me.Risk, me.GridID, me.Version)
	// a stale version is refused
	_, _, err = st.Patch(ctx, "someone", geo.LayerEntities, id, []byte(`{"properties":{"risk":"A"}}`), res.Versions[0], geo.LoadOptions{})
	fmt.Fprintf(w, "a patch with the old version: %v\n", err)
	if check && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a stale patch was not refused: %v", err)
	}

	hist, err := st.History(ctx, geo.LayerEntities, id, 10)
	if err != nil {
		return err
	}
	for _, c := range hist {
		fmt.Fprintf(w, "  history: seq %d %s by %s at %s\n", c.Seq, c.Op, c.Writer, c.Time.Format(time.RFC3339))
	}
	seq := st.Seq()
	if err := st.Close(); err != nil {
		return err
	}

	// a restart: a new index from the same file
	ix2, _ := geo.New(geo.Options{})
	st2, err := store.Open(ctx, path, ix2, store.Options{})
	if err != nil {
		return err
	}
	defer st2.Close()
	got, ok := ix2.Snapshot().Entity(id)
	fmt.Fprintf(w, "after the restart (%s): seq %d, %s found %v at %v, risk %s\n", st2.LoadedFrom(), st2.Seq(), id, ok, got.Location, got.Risk)
	if check {
		switch {
		case !ok || got.Risk != geo.RiskC || got.Location != me.Location || got.Version != me.Version:
			return fmt.Errorf("after the restart the entity is %+v, want %+v", got, me)
		case st2.Seq() != seq:
			return fmt.Errorf("after the restart the store is at seq %d, want %d", st2.Seq(), seq)
		case len(hist) != 2 || hist[0].Writer != "clerk-7" || hist[1].Writer != "inspector-3":
			return fmt.Errorf("history %+v", hist)
		}
		fmt.Fprintln(w, "check: ok")
	}
	return nil
}

// usccFor makes a valid unified social credit code from a number.
func usccFor(n int64) string {
	first := fmt.Sprintf("91500112%09d", n)
	c, _ := geo.USCCCheckChar(first)
	return first + string(c)
}
