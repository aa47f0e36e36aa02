package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/store/postgres"
)

// The marketgeo parameters of a --store postgres://… URL; the rest of the
// URL goes to the driver as libpq would read it.
const (
	pgParamSchema = "mg_schema" // the PostgreSQL schema of the tables (default public)
	pgParamRegion = "mg_region" // load only the entities of this adcode prefix (e.g. 50)
)

// openPostgres opens a store over the PostgreSQL database of a --store
// postgres://… URL (several nodes can: each loads the database and
// follows the others' writes). When the database is empty, or importing
// is asked for, it also takes the database's seed lock and catches up
// under it, so that of several nodes starting together one seeds or
// imports and the others see its work; the caller seeds or imports, then
// calls the function returned.
func openPostgres(ctx context.Context, raw string, importing bool, idx *geo.Index, log *slog.Logger, colls []store.Collection) (*store.Store, func(), error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w: %v", postgres.ErrConfig, err)
	}
	q := u.Query()
	opts := postgres.Options{Schema: q.Get(pgParamSchema), Region: q.Get(pgParamRegion), Logger: log}
	q.Del(pgParamSchema)
	q.Del(pgParamRegion)
	u.RawQuery = q.Encode()
	start := time.Now()
	be, err := postgres.Open(ctx, u.String(), opts)
	if err != nil {
		return nil, nil, fmt.Errorf("store %s: %w", u.Redacted(), err)
	}
	st, err := store.New(ctx, idx, be, store.Options{Logger: log, NoSnapshot: true, Collections: colls})
	if err != nil {
		be.Close()
		return nil, nil, fmt.Errorf("store %s: %w", u.Redacted(), err)
	}
	log.Info("postgres store opened", "url", u.Redacted(), "schema", opts.Schema, "region", opts.Region, "seq", st.Seq(),
		"took", time.Since(start).Round(time.Millisecond))
	unlock := func() {}
	if st.Empty() || importing {
		empty := st.Empty()
		if unlock, err = be.Lock(ctx, "seed"); err == nil {
			var head uint64
			if head, err = be.LastSeq(ctx); err == nil && empty && head > 0 && !importing {
				// another node seeded the database while this one waited:
				// loading it (COPY) is faster than replaying its log
				unlock()
				st.Close()
				log.Info("the database was seeded by another node: loading it", "seq", head)
				return openPostgres(ctx, raw, false, idx, log, colls)
			}
			if err == nil {
				err = st.CatchUp(ctx)
			}
			if err != nil {
				unlock()
			}
		}
		if err != nil {
			st.Close()
			return nil, nil, fmt.Errorf("store %s: %w", u.Redacted(), err)
		}
	}
	return st, unlock, nil
}
