package store

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
)

// Import writes every feature of snap (zones first, then buildings, places
// and entities) through the store in one commit: the way a new store is
// seeded (with the demo region or a data directory loaded into a scratch
// index) and a data directory is imported into an existing one. It is not
// bound by MaxWrites. Existing features with the same IDs are replaced;
// others are kept.
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
	return s.apply(ctx, writer, ws)
}
