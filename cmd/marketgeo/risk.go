package main

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/store/postgres"
	"github.com/marketgeo/marketgeo/tiles"
)

// newRiskEngine builds serve's risk engine (docs/risk.md) with the
// default rules; its options follow once the store is open
// (setRiskOptions).
func newRiskEngine(cfg server.FileConfig, log *slog.Logger) (*risk.Engine, error) {
	return risk.New(riskOptions(cfg, log, false))
}

// riskOptions are serve's risk options. On a store seeded with the
// embedded demo: the demo's region (its home divisions for the out-of-area
// warning), its reference day as the clock (so that the planted patterns
// show as planted), and the computed class written into every entity's
// risk attribute (map colours, tiles, filters). On the user's data
// (loaded with --data, or a shared store another node loaded): the system
// clock, no home region (the out-of-area warning off), and the data's own
// risk attribute kept unless MARKETGEO_RISK_WRITE=1 — a loaded rating is
// not replaced unasked; the computed class is answered by
// /entities/{id}/risk and the risk summary either way.
func riskOptions(cfg server.FileConfig, log *slog.Logger, demoStore bool) risk.Options {
	o := risk.Options{Logger: log, KeepStoredClass: !demoStore && os.Getenv("MARKETGEO_RISK_WRITE") != "1"}
	if demoStore {
		start := time.Now()
		o.Now = func() time.Time { return demo.AsOf().Add(12*time.Hour + time.Since(start)) }
		o.Warnings.HomeDivisions = demo.HomeDivisions()
	}
	return o
}

// setRiskOptions sets the engine's options by what the open store holds:
// the demo's (it was seeded with the embedded demo) or the user's data.
// Of several nodes over one PostgreSQL database, one writes the computed
// classes (the first to take the database's "risk writer" lock, held for
// the life of the process); the others compute the same classes and
// receive its writes through the change log, rather than all writing each
// change of class once per node. The lock is not taken over while its
// holder runs: a node started after the holder ended takes it.
func setRiskOptions(ctx context.Context, rk *risk.Engine, st *store.Store, cfg server.FileConfig, log *slog.Logger) error {
	seeded, err := st.Backend().Meta(ctx, seededKey)
	if err != nil {
		return err
	}
	o := riskOptions(cfg, log, seeded == "demo" && cfg.Data == "")
	if pg, ok := st.Backend().(*postgres.Backend); ok && !o.KeepStoredClass {
		got, _, err := pg.TryLock(ctx, "risk writer") // released when the store closes
		if err != nil {
			return err
		}
		if !got {
			o.KeepStoredClass = true
			log.Info("another node writes the risk classes; this one computes them and follows its writes")
		}
	}
	return rk.SetOptions(o)
}

// economyTiles makes the building tiles carry the risk engine's building
// economy — the same computation as /api/v1/buildings/{id}/economy — and
// keeps them current: the engine reports where figures changed, the
// renderer drops those cached tiles. A renderer whose field list leaves
// the figures out (the public profile's) is left on the buildings' own
// attributes, which it does not show either.
func economyTiles(rk *risk.Engine, tr *tiles.Renderer) {
	if f := tr.Options().Fields; f != nil && !slices.Contains(f[tiles.LayerBuildings], "output") {
		return
	}
	tr.SetEconomy(func(ctx context.Context, snap *geo.Snapshot, bs []*geo.Building) ([]tiles.BuildingFigures, error) {
		ecs, err := rk.BuildingFigures(ctx, snap, bs)
		if err != nil {
			return nil, err
		}
		out := make([]tiles.BuildingFigures, len(ecs))
		for i, ec := range ecs {
			out[i] = tiles.BuildingFigures{Entities: ec.Entities, Output: ec.Output, OutputPerFloor: ec.OutputPerFloor, Employment: ec.Employment, Tax: ec.Tax}
		}
		return out, nil
	})
	rk.OnEconomyChange(tr.EconomyChanged)
}
