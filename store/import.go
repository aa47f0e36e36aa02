package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
)

// Import writes every feature of snap (zones first, then buildings, places
// and entities) through the store: the way a new store is seeded (with the
// demo region or a data directory loaded into a scratch index) and a data
// directory is imported into an existing one. It is not bound by
// MaxWrites. Existing features with the same IDs are replaced; others are
// kept.
//
// On the embedded backend the import is one commit, all or nothing. On a
// [Shared] backend (PostgreSQL) it is committed in chunks of
// Options.ImportChunk writes, each its own transaction, in order: no
// transaction holds the database's write lock (every node's writes wait
// for it), or sits idle past the database's
// idle_in_transaction_session_timeout, while a million features are indexed
// and encoded. When a chunk fails, the chunks before it stay committed: the
// Result returned with the error counts them, and importing the same data
// again completes the import (it replaces what is there).
func (s *Store) Import(ctx context.Context, writer string, snap *geo.Snapshot) (Result, error) {
	c := snap.Counts()
	ws := make([]Write, 0, c.Entities+c.Buildings+c.Places+c.Zones)
	add := func(l geo.Layer, id string, v any) bool {
		ws = append(ws, Write{Layer: l, ID: id, Feature: v})
		return true
	}
	snap.ScanZones(func(z *geo.Zone) bool { return add(geo.LayerZones, z.ID, z) })
	snap.ScanBuildings(func(b *geo.Building) bool { return add(geo.LayerBuildings, b.ID, b) })
	snap.ScanPlaces(func(p *geo.Place) bool { return add(geo.LayerPlaces, p.ID, p) })
	snap.ScanEntities(func(e *geo.Entity) bool { return add(geo.LayerEntities, e.ID, e) })
	if len(ws) == 0 {
		return Result{Seq: s.Seq()}, fmt.Errorf("%w: nothing to import", ErrInvalidWrite)
	}
	if s.fol == nil || len(ws) <= s.opts.ImportChunk {
		return s.apply(ctx, writer, ws)
	}
	total := Result{Versions: make([]uint64, 0, len(ws)), Created: make([]bool, 0, len(ws)), Features: make([]any, 0, len(ws))}
	for i := 0; i < len(ws); i += s.opts.ImportChunk {
		part := ws[i:min(i+s.opts.ImportChunk, len(ws))]
		res, err := s.apply(ctx, writer, part)
		if err != nil {
			var we *WriteError
			if errors.As(err, &we) {
				we.Index += i // the index in the whole import
			}
			return total, fmt.Errorf("%w (import: the first %d of %d writes are committed, up to seq %d; importing again completes it)", err, i, len(ws), total.Seq)
		}
		total.Seq, total.Changes = res.Seq, total.Changes+res.Changes
		total.Versions = append(total.Versions, res.Versions...)
		total.Created = append(total.Created, res.Created...)
		total.Features = append(total.Features, res.Features...)
	}
	return total, nil
}
