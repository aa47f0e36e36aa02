package geo

import (
	"fmt"
)

// Options configure an [Index]. The zero value of every field means "use the
// default" given in its comment; [DefaultOptions] returns them filled in.
type Options struct {
	// DefaultLimit is the number of hits returned when a query gives no
	// limit. Default 1000.
	DefaultLimit int
	// MaxLimit is the largest limit (and k) a query may ask for. Default 10000.
	MaxLimit int
	// MaxRadiusM is the largest radius of a Nearby query, in metres. Default 50000.
	MaxRadiusM float64
	// MaxVertices caps the vertices of one building footprint or zone
	// geometry. Default 1,000,000.
	MaxVertices int
	// GridLayer is the zone layer whose zones are supervision grids: every
	// entity's GridID is derived from it. Default "grid".
	GridLayer string
	// ZoneCells caps the cells of the zone table, the point-in-zone lookup
	// grid over all zones ([Snapshot.ZoneTable]; 4 bytes each plus the
	// distinct cell contents). More cells mean fewer exact
	// point-in-polygon tests per lookup and a longer build after a zone
	// change. Default 1<<18; at least 1024, at most 1<<26.
	ZoneCells int
	// RepackChurn is the churn of a point layer (points written since its
	// tree was packed, plus packed points they replaced or removed) at
	// which a commit starts a background repack of that layer: a
	// goroutine packs the tree anew off the writer's lock and swaps it in
	// (see the package doc). Queries pay for the churn; each repack costs
	// a pass over the layer's points. Default 1024; negative turns
	// background repacks off (a commit still rebuilds a tree whose churn
	// passes a quarter of its points).
	RepackChurn int
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{DefaultLimit: 1000, MaxLimit: 10000, MaxRadiusM: 50000, MaxVertices: 1_000_000, GridLayer: "grid", ZoneCells: 1 << 18, RepackChurn: 1024}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.DefaultLimit == 0 {
		o.DefaultLimit = d.DefaultLimit
	}
	if o.MaxLimit == 0 {
		o.MaxLimit = d.MaxLimit
	}
	if o.MaxRadiusM == 0 {
		o.MaxRadiusM = d.MaxRadiusM
	}
	if o.MaxVertices == 0 {
		o.MaxVertices = d.MaxVertices
	}
	if o.GridLayer == "" {
		o.GridLayer = d.GridLayer
	}
	if o.ZoneCells == 0 {
		o.ZoneCells = d.ZoneCells
	}
	if o.RepackChurn == 0 {
		o.RepackChurn = d.RepackChurn
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.DefaultLimit < 0 || o.MaxLimit < 0 || o.MaxVertices < 0 || o.MaxRadiusM < 0:
		return fmt.Errorf("geo: options must not be negative")
	case o.DefaultLimit > o.MaxLimit:
		return fmt.Errorf("geo: DefaultLimit %d exceeds MaxLimit %d", o.DefaultLimit, o.MaxLimit)
	case o.ZoneCells < 1024 || o.ZoneCells > 1<<26:
		return fmt.Errorf("geo: ZoneCells %d must be 0 (default) or in [1024, %d]", o.ZoneCells, 1<<26)
	}
	return nil
}
