package search

import (
	"context"
	"fmt"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Place resolves what a person names to say where ("人和中学", a building, a
// company) to one feature, the centre of a nearby query (the server's
// nearby?place=). It takes the best place and the best building or entity
// and keeps the one with the higher score; on a tie the place wins, as a
// place is what people name to say where. near, when non-nil, ranks the
// candidates by their distance to it (Query.Center). It returns an error
// wrapping ErrNoPlace when nothing matches, and Search's errors otherwise.
// Goroutine-safe.
func (ix *Index) Place(ctx context.Context, text string, near *orb.Point) (Hit, error) {
	// The tiers, in order of preference: what people name to say where
	// (schools, landmarks, offices), then the buildings and entities
	// that stand somewhere.
	tiers := [...][]geo.Layer{{geo.LayerPlaces}, {geo.LayerBuildings, geo.LayerEntities}}
	var best *Hit
	for _, layers := range tiers {
		hits, err := ix.Search(ctx, Query{Text: text, Layers: layers, Limit: 1, Center: near})
		if err != nil {
			return Hit{}, err
		}
		if len(hits) > 0 && (best == nil || hits[0].Score > best.Score) {
			best = &hits[0]
		}
	}
	if best == nil {
		return Hit{}, fmt.Errorf("%w: %q", ErrNoPlace, text)
	}
	return *best, nil
}
