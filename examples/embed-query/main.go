// Command embed-query embeds marketgeo as a library: it builds an index
// from the demo region in-process, then asks the regulator's everyday
// questions without any server: which entities lie within 200 m of a
// point, which zones (FTZ area, district, street, supervision grid)
// contain it, and is it inside the free-trade zone.
//
//	go run ./examples/embed-query            # print the answers
//	go run ./examples/embed-query -check     # also verify them (CI)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/zoneid"
)

func main() {
	entities := flag.Int("entities", 5000, "entities of the generated demo region")
	radius := flag.Float64("radius", 200, "search radius in metres")
	check := flag.Bool("check", false, "verify the answers and exit non-zero when one is wrong")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *entities, *radius, *check); err != nil {
		fmt.Fprintln(os.Stderr, "embed-query:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, entities int, radius float64, check bool) error {
	ds, err := demo.Generate(demo.Options{Entities: entities})
	if err != nil {
		return err
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		return err
	}
	if err := ds.Load(idx); err != nil {
		return err
	}
	c := idx.Snapshot().Counts()
	fmt.Fprintf(w, "index: %d entities, %d buildings, %d places, %d zones\n", c.Entities, c.Buildings, c.Places, c.Zones)

	// Around the first entity of the demo: its neighbours, nearest first.
	center := ds.Entities[0].Location
	res, err := idx.Nearby(ctx, geo.LayerEntities, center, radius, geo.Query{Limit: 5})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "within %.0f m of %v: %d entities (showing %d)\n", radius, center, res.Total, len(res.Hits))
	for _, h := range res.Hits {
		fmt.Fprintf(w, "  %7.1f m  %s  %s\n", h.DistanceM, h.Entity.ID, h.Entity.Name)
	}

	// The zones containing the point, straight from the index …
	zones, err := idx.ZonesAt(ctx, center)
	if err != nil {
		return err
	}
	for _, z := range zones {
		fmt.Fprintf(w, "zone %-8s %s %s\n", z.Layer, z.ID, z.Name)
	}
	// … and the regulator's reading of them: FTZ or not, and the grid.
	id, err := zoneid.New(idx, zoneid.Options{})
	if err != nil {
		return err
	}
	defer id.Close()
	ans, err := id.Identify(ctx, center)
	if err != nil {
		return err
	}
	grid := ""
	if ans.Grid != nil {
		grid = ans.Grid.ID
	}
	fmt.Fprintf(w, "in FTZ: %s; grid: %s\n", ans.InFTZ, grid)

	if !check {
		return nil
	}
	var errs []error
	if c.Entities != entities {
		errs = append(errs, fmt.Errorf("indexed %d entities, want %d", c.Entities, entities))
	}
	if res.Total == 0 || res.Hits[0].Entity.ID != ds.Entities[0].ID || res.Hits[0].DistanceM != 0 {
		errs = append(errs, fmt.Errorf("nearby: the entity at the centre is not the first hit"))
	}
	if len(zones) == 0 {
		errs = append(errs, errors.New("zones: no zone contains a demo entity"))
	}
	// the index derives each entity's grid on write; zoneid must agree
	if e, ok := idx.Snapshot().Entity(ds.Entities[0].ID); !ok || e.GridID != grid {
		errs = append(errs, fmt.Errorf("grid: zoneid says %q, the index's entity says otherwise", grid))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintln(w, "check: ok")
	return nil
}
