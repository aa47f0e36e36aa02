package main

import (
	"context"
	"log/slog"

	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
)

// attachSupervise attaches the supervision service to the store and, on
// the embedded demo (no --data) with no resources yet, loads the demo's
// synthetic resources layer (a station per street, a team every third, a
// warehouse every fifth: not real facilities).
func attachSupervise(ctx context.Context, sv *supervise.Service, st *store.Store, cfg server.FileConfig, log *slog.Logger) error {
	sv.Attach(st)
	if cfg.Data != "" || len(sv.Resources()) > 0 {
		return nil
	}
	rs := supervise.SyntheticResources(st.Index().Snapshot(), "street")
	if len(rs) == 0 {
		return nil
	}
	if _, err := sv.PutResources(ctx, "import:demo", rs); err != nil {
		return err
	}
	log.Info("demo resources loaded (synthetic)", "resources", len(rs))
	return nil
}
