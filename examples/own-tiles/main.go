// Command own-tiles serves Mapbox Vector Tiles of your own GeoJSON data,
// without the demo region and without package server: a directory in the
// layout of geo.LoadDir (places.geojson, zones-<layer>.geojson,
// buildings.geojson, entities.csv …) is loaded into an index, and a
// tiles.Renderer behind a ten-line handler serves /tiles/{layer}/{z}/{x}/{y}.mvt.
// The bundled data/ holds two market areas and three places in Hangzhou.
//
//	go run ./examples/own-tiles -addr 127.0.0.1:8091        # serve until interrupted
//	go run ./examples/own-tiles -data ./mydata -check       # render the data's tiles and exit (CI)
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

//go:embed data
var bundled embed.FS

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	data := flag.String("data", "", "data directory in the layout of geo.LoadDir (default: the bundled data/)")
	zoom := flag.Int("zoom", 15, "zoom of the tiles rendered by -check")
	check := flag.Bool("check", false, "render the tiles covering the data instead of listening, and exit non-zero when one is wrong")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *addr, *data, *zoom, *check); err != nil {
		fmt.Fprintln(os.Stderr, "own-tiles:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, addr, data string, zoom int, check bool) error {
	if data == "" {
		dir, err := unpackBundled()
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		data = dir
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		return err
	}
	reports, err := geo.LoadDir(context.Background(), idx, data, geo.LoadOptions{Strict: true})
	if err != nil {
		return err
	}
	for _, r := range reports {
		fmt.Fprintf(w, "loaded %s: %d features\n", filepath.Base(r.Source), r.Loaded)
	}
	tr, err := tiles.New(idx, tiles.Options{})
	if err != nil {
		return err
	}
	defer tr.Close()
	if check {
		return checkTiles(ctx, w, idx, tr, zoom)
	}
	srv := &http.Server{Addr: addr, Handler: tileHandler(tr), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	fmt.Fprintf(w, "serving http://%s/tiles/{zones,places,buildings,entities}/{z}/{x}/{y}.mvt\n", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// tileHandler is the whole transport: parse the path, render, write.
func tileHandler(tr *tiles.Renderer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		layer, z, x, y, err := tiles.ParsePath(r.URL.Path, tr.Options().MaxZoom)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		t, err := tr.Tile(r.Context(), layer, z, x, y, tiles.Query{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if t.Empty() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
		w.Header().Set("ETag", t.ETag)
		_, _ = w.Write(t.Data)
	})
}

// checkTiles renders, at zoom, every tile covering the data's bounds in the
// zones and places layers, decodes them and counts the features.
func checkTiles(ctx context.Context, w io.Writer, idx *geo.Index, tr *tiles.Renderer, zoom int) error {
	snap := idx.Snapshot()
	c := snap.Counts()
	want := []struct {
		layer string
		n     int
	}{{tiles.LayerZones, c.Zones}, {tiles.LayerPlaces, c.Places}}
	b := snap.Bounds()
	lo := maptile.At(b.Min, maptile.Zoom(zoom))
	hi := maptile.At(b.Max, maptile.Zoom(zoom))
	for _, lw := range want {
		layer, n := lw.layer, lw.n
		seen := map[string]bool{}
		for x := lo.X; x <= hi.X; x++ {
			for y := hi.Y; y <= lo.Y; y++ { // tile rows grow southwards
				t, err := tr.Tile(ctx, layer, zoom, int(x), int(y), tiles.Query{})
				if err != nil {
					return err
				}
				if t.Empty() {
					continue
				}
				layers, err := mvt.Unmarshal(t.Data)
				if err != nil {
					return fmt.Errorf("%s %d/%d/%d: %w", layer, zoom, x, y, err)
				}
				for _, l := range layers {
					for _, f := range l.Features {
						seen[fmt.Sprint(f.Properties["id"])] = true
					}
				}
				fmt.Fprintf(w, "tile %s/%d/%d/%d.mvt: %d bytes, %d features\n", layer, zoom, x, y, len(t.Data), t.Features)
			}
		}
		if len(seen) != n {
			return fmt.Errorf("%s: the tiles hold %d distinct features, the data %d", layer, len(seen), n)
		}
	}
	fmt.Fprintln(w, "check: ok")
	return nil
}

// unpackBundled writes the embedded data/ to a temporary directory, the
// form geo.LoadDir reads.
func unpackBundled() (string, error) {
	dir, err := os.MkdirTemp("", "own-tiles-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(bundled, "data", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := bundled.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, d.Name()), b, 0o644)
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
