package main

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// TestEconomyTiles: serve's wiring of the building tiles to the risk
// engine (economyTiles). A building's tile carries what the economy API
// (risk.Engine.BuildingEconomy) answers, and after output and tax records
// of one of its entities arrive, the tile served next (through the
// renderer's cache) carries the new figures, as the API does.
func TestEconomyTiles(t *testing.T) {
	ds, err := demo.Generate(demo.Options{Entities: 2000})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.Load(ix); err != nil {
		t.Fatal(err)
	}
	now := demo.AsOf().Add(12 * time.Hour)
	rk, err := risk.New(risk.Options{Now: func() time.Time { return now }, Recheck: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := rk.Start(ix, nil); err != nil {
		t.Fatal(err)
	}
	defer rk.Close()
	tr, err := tiles.New(ix, tiles.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	economyTiles(rk, tr)
	ctx := context.Background()
	if err := rk.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// a building with entities
	var b *geo.Building
	var ent string
	for _, e := range ds.Entities {
		if e.BuildingID != "" {
			b, _ = ix.Snapshot().Building(e.BuildingID)
			ent = e.ID
			break
		}
	}
	if b == nil {
		t.Fatal("no entity in a building")
	}
	tl := maptile.At(b.Center(), 16)
	tileFigures := func() map[string]float64 {
		t.Helper()
		got, err := tr.Tile(ctx, tiles.LayerBuildings, 16, int(tl.X), int(tl.Y), tiles.Query{})
		if err != nil {
			t.Fatal(err)
		}
		ls, err := mvt.Unmarshal(got.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			for _, f := range l.Features {
				if f.Properties["id"] == b.ID {
					out := map[string]float64{}
					for _, k := range []string{"entity_count", "output", "output_per_floor", "employment", "tax"} {
						switch v := f.Properties[k].(type) {
						case float64:
							out[k] = v
						case int64:
							out[k] = float64(v)
						case uint64:
							out[k] = float64(v)
						default:
							t.Fatalf("building %s: %s is %T %v", b.ID, k, v, v)
						}
					}
					return out
				}
			}
		}
		t.Fatalf("building %s not in its tile", b.ID)
		return nil
	}
	same := func(stage string) {
		t.Helper()
		ec, err := rk.BuildingEconomy(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := tileFigures()
		want := map[string]float64{"entity_count": float64(ec.Entities), "output": ec.Output, "output_per_floor": ec.OutputPerFloor, "employment": float64(ec.Employment), "tax": ec.Tax}
		for k, v := range want {
			if math.Abs(got[k]-v) > 1e-9 {
				t.Fatalf("%s: building %s: the tile's %s %v, the economy API's %v", stage, b.ID, k, got[k], v)
			}
		}
	}
	same("before")
	before := tileFigures()
	var recs []exchange.Record
	for i, k := range []exchange.Kind{exchange.KindOutput, exchange.KindTax} {
		r := exchange.Record{EntityID: ent, Dept: "经济运行局", Kind: k, Date: demo.AsOf().AddDate(0, 0, -10).Format("2006-01-02"),
			Fields: map[string]string{"产值（万元）": "4321.5", "从业人员（人）": "77", "实缴金额（元）": "12345.5"}, Source: exchange.Source{Key: "t" + strconv.Itoa(i)}}
		r.Seal()
		recs = append(recs, r)
	}
	rk.ApplyRecords(recs)
	if err := rk.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	after := tileFigures()
	if after["output"] == before["output"] || after["tax"] == before["tax"] {
		t.Fatalf("the records did not change the tile: before %v, after %v", before, after)
	}
	same("after the records")
}
