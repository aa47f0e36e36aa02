package zoneid

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
)

// GridSummary is the supervision picture of one grid.
type GridSummary struct {
	// Grid is the grid zone.
	Grid *geo.Zone
	// Entities is the number of entities whose GridID is the grid.
	Entities int
	// ByRisk counts entities by risk class: "A".."D", "unrated".
	ByRisk map[string]int
	// ByStatus counts entities by registration status ("unknown" when empty).
	ByStatus map[string]int
	// BySection counts entities by GB/T 4754 section, the first letter of
	// the industry code ("unknown" when empty).
	BySection map[string]int
	// Supervise lists the C and D entities (to supervise first): D before
	// C, then by ID.
	Supervise []*geo.Entity
}

// GridSummary summarises the entities of the grid with the given ID (an
// entity belongs to the grid named by its GridID, which the index derives
// from its location). It returns ErrUnknownGrid when no zone of the grid
// layer has that ID.
func (id *Identifier) GridSummary(ctx context.Context, gridID string) (GridSummary, error) {
	if id.closed.Load() {
		return GridSummary{}, ErrClosed
	}
	snap := id.idx.Snapshot()
	z, ok := snap.Zone(gridID)
	if !ok || z.Layer != id.opts.gridLayer {
		return GridSummary{}, fmt.Errorf("%w: %q", ErrUnknownGrid, gridID)
	}
	gs := GridSummary{Grid: z, ByRisk: map[string]int{}, ByStatus: map[string]int{}, BySection: map[string]int{}}
	add := func(e *geo.Entity) {
		if e.GridID != gridID {
			return
		}
		gs.Entities++
		risk := string(e.Risk)
		if risk == "" {
			risk = "unrated"
		}
		gs.ByRisk[risk]++
		st := string(e.Status)
		if st == "" {
			st = "unknown"
		}
		gs.ByStatus[st]++
		sec := "unknown"
		if e.Industry != "" {
			sec = e.Industry[:1]
		}
		gs.BySection[sec]++
		if e.Risk == geo.RiskC || e.Risk == geo.RiskD {
			gs.Supervise = append(gs.Supervise, e)
		}
	}
	// The grid's entities lie in its bounding box; fall back to a full scan
	// if the box holds more entities than one query may return.
	res, err := snap.InBBox(ctx, geo.LayerEntities, z.Geometry.Bound(), geo.Query{Limit: id.idx.Options().MaxLimit})
	if err != nil {
		return GridSummary{}, err
	}
	if !res.Truncated {
		for i := range res.Hits {
			add(res.Hits[i].Entity)
		}
	} else {
		n := 0
		snap.ScanEntities(func(e *geo.Entity) bool {
			n++
			if n%256 == 0 && ctx.Err() != nil {
				err = ctx.Err()
				return false
			}
			add(e)
			return true
		})
		if err != nil {
			return GridSummary{}, err
		}
	}
	slices.SortFunc(gs.Supervise, func(a, b *geo.Entity) int {
		if a.Risk != b.Risk {
			return -strings.Compare(string(a.Risk), string(b.Risk))
		}
		return strings.Compare(a.ID, b.ID)
	})
	return gs, nil
}
