package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
)

// tilesCmd runs `marketgeo tiles export --out FILE.pmtiles [--minzoom 0]
// [--maxzoom 16] [--layers entities,buildings,zones,places] [--data DIR]`.
func tilesCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("usage: marketgeo tiles export --out FILE.pmtiles [--minzoom 0] [--maxzoom 16] [--layers L1,L2] [--data DIR] [--crs wgs84]")
	}
	fs := flag.NewFlagSet("tiles export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output PMTiles file (required)")
	minZoom := fs.Int("minzoom", 0, "smallest zoom written")
	maxZoom := fs.Int("maxzoom", 16, "largest zoom written")
	layers := fs.String("layers", strings.Join(tiles.Layers(), ","), "tile layers merged into each tile")
	dataDir := fs.String("data", "", "data directory as for serve; default: the embedded demo region")
	inCRS := fs.String("crs", "wgs84", "coordinate system of the files in --data")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("tiles export: --out is required")
	}
	start := time.Now()
	idx, err := geo.New(geo.Options{})
	if err != nil {
		return err
	}
	if err := loadData(idx, *dataDir, *inCRS, false, slog.New(slog.NewTextHandler(stderr, nil))); err != nil {
		return err
	}
	tr, err := tiles.New(idx, tiles.Options{CacheBytes: -1})
	if err != nil {
		return err
	}
	defer tr.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".marketgeo-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	st, err := tr.ExportPMTiles(ctx, tmp, tiles.ExportOptions{
		MinZoom: *minZoom, MaxZoom: *maxZoom, Layers: strings.Split(*layers, ","),
		Progress: func(z, n int) { fmt.Fprintf(stderr, "zoom %d: %d tiles\n", z, n) },
	})
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d tiles (%d distinct), %d bytes, zoom %d–%d, in %v\n",
		*out, st.Tiles, st.Contents, st.Bytes, *minZoom, *maxZoom, time.Since(start).Round(time.Millisecond))
	return nil
}
