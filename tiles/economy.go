package tiles

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Building economy in the buildings layer. By default a building feature
// carries the figures of its own attributes (entity_count, output,
// employment, tax). A renderer given an EconomySource (SetEconomy) takes
// them from it instead — the risk engine's building economy, the same
// computation as its economy API, so that a map colouring buildings by a
// figure shows what the building's economy card says — and its owner
// reports every change of those figures with EconomyChanged, which drops
// the cached building tiles concerned.

// BuildingFigures are the economy figures of one building as its tile
// feature carries them.
type BuildingFigures struct {
	// Entities counts the entities inside (entity_count).
	Entities int
	// Output (output, 万元 a year), OutputPerFloor (output_per_floor),
	// Employment (employment) and Tax (tax, 元) are the building's sums.
	Output, OutputPerFloor float64
	Employment             int
	Tax                    float64
}

// EconomySource answers the figures of buildings as of a snapshot of the
// renderer's index, one per building in order. It is called while a tile
// renders, from many goroutines at once.
type EconomySource func(ctx context.Context, snap *geo.Snapshot, bs []*geo.Building) ([]BuildingFigures, error)

// economyBox holds the source (an atomic pointer needs a type).
type economyBox struct{ src EconomySource }

// SetEconomy makes the buildings layer carry src's figures (nil: the
// buildings' own attributes again) and drops the cached building tiles.
// Safe for concurrent use.
func (r *Renderer) SetEconomy(src EconomySource) {
	if src == nil {
		r.econ.Store(nil)
	} else {
		r.econ.Store(&economyBox{src: src})
	}
	r.econGen.Add(1)
	r.cache.invalidate(LayerBuildings, nil, true, 0)
}

// EconomyChanged reports that the figures of some buildings changed: those
// with the given IDs and those whose footprint contains one of the points
// (an entity's old and new location, the location of an entity whose
// records changed). It drops their cached tiles, and no tile rendered
// before the call is cached after it. Call it after the source answers
// the new figures. Safe for concurrent use.
func (r *Renderer) EconomyChanged(points []orb.Point, buildingIDs []string) {
	if len(points) == 0 && len(buildingIDs) == 0 {
		return
	}
	r.econGen.Add(1) // before the drop: a render that read older figures is not cached (cache.put's check)
	if r.cache == nil {
		return
	}
	snap := r.idx.Snapshot()
	var bounds []orb.Bound
	for _, id := range buildingIDs {
		if b, ok := snap.Building(id); ok {
			bounds = append(bounds, b.Footprint.Bound())
		}
	}
	all := len(points)+len(buildingIDs) > 2*bulkInvalidation // many changes: the whole layer
	for _, p := range points {
		if all {
			break
		}
		res, err := snap.InBBox(context.Background(), geo.LayerBuildings, p.Bound(), geo.Query{Limit: r.maxLimit})
		if err != nil {
			continue
		}
		for _, h := range res.Hits {
			if h.Building != nil {
				bounds = append(bounds, h.Building.Footprint.Bound())
			}
		}
	}
	r.cache.invalidate(LayerBuildings, bounds, all || len(bounds) > 2*bulkInvalidation, 0)
}

// buildingFigures returns the figures of the buildings from the source, or
// nil without one.
func (r *Renderer) buildingFigures(ctx context.Context, snap *geo.Snapshot, bs []*geo.Building) ([]BuildingFigures, error) {
	box := r.econ.Load()
	if box == nil {
		return nil, nil
	}
	fs, err := box.src(ctx, snap, bs)
	if err != nil {
		return nil, fmt.Errorf("tiles: building economy: %w", err)
	}
	if len(fs) != len(bs) {
		return nil, fmt.Errorf("tiles: building economy: %d figures for %d buildings", len(fs), len(bs))
	}
	return fs, nil
}
