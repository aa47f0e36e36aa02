package tiles

import "fmt"

// Options configure a Renderer. The zero value of every field means "use the
// default" given in its comment; DefaultOptions returns them filled in.
type Options struct {
	// Extent is the MVT tile extent (coordinate units per tile side).
	// Default 4096.
	Extent uint32
	// Buffer is the margin around each tile, in tile units, inside which
	// features are still drawn (clipped polygons, points near the edge).
	// Default 64.
	Buffer uint32
	// MaxZoom is the largest zoom a request may ask for; larger ones are
	// out of range. Default 22.
	MaxZoom int
	// DataMaxZoom is the maxzoom announced in TileJSON: above it a map
	// over-zooms. Default 16.
	DataMaxZoom int
	// ClusterMaxZoom is the largest zoom at which entity points are
	// clustered. Default 13 (individual points from z14).
	ClusterMaxZoom int
	// ClusterCell is the side of a cluster cell in tile units. Default 256
	// (16×16 cells per tile).
	ClusterCell uint32
	// MaxPoints caps the individual points of one tile; a tile above a
	// ClusterMaxZoom holding more is clustered on a grid four times finer.
	// Default 4000 (keeps the densest tile well under 500 KB).
	MaxPoints int
	// BuildingMinZoom is the smallest zoom with buildings; lower tiles are
	// empty. Default 13.
	BuildingMinZoom int
	// SimplifyTolerance is the Douglas–Peucker tolerance in tile units used
	// for polygons below DataMaxZoom (so the tolerance in metres halves with
	// each zoom). Default 1.
	SimplifyTolerance float64
	// CacheBytes caps the memory of the tile cache (raw plus compressed
	// bytes). Default 64 MiB. Negative disables the cache.
	CacheBytes int64
	// Name, Attribution and Description go into TileJSON.
	Name, Attribution, Description string
	// Fields, when not nil, are the only properties tiles carry and
	// TileJSON announces, per tile layer (a layer absent keeps its
	// geometry only). Default nil: every property. A public server passes
	// its public field list (server.PublicFields).
	Fields map[string][]string
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{
		Extent: 4096, Buffer: 64, MaxZoom: 22, DataMaxZoom: 16, ClusterMaxZoom: 13,
		ClusterCell: 256, MaxPoints: 4000, BuildingMinZoom: 13, SimplifyTolerance: 1,
		CacheBytes: 64 << 20, Name: "marketgeo",
		Attribution: "marketgeo demo data (synthetic entities; real divisions)",
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Extent == 0 {
		o.Extent = d.Extent
	}
	if o.Buffer == 0 {
		o.Buffer = d.Buffer
	}
	if o.MaxZoom == 0 {
		o.MaxZoom = d.MaxZoom
	}
	if o.DataMaxZoom == 0 {
		o.DataMaxZoom = d.DataMaxZoom
	}
	if o.ClusterMaxZoom == 0 {
		o.ClusterMaxZoom = d.ClusterMaxZoom
	}
	if o.ClusterCell == 0 {
		o.ClusterCell = d.ClusterCell
	}
	if o.MaxPoints == 0 {
		o.MaxPoints = d.MaxPoints
	}
	if o.BuildingMinZoom == 0 {
		o.BuildingMinZoom = d.BuildingMinZoom
	}
	if o.SimplifyTolerance == 0 {
		o.SimplifyTolerance = d.SimplifyTolerance
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = d.CacheBytes
	}
	if o.Name == "" {
		o.Name = d.Name
	}
	if o.Attribution == "" {
		o.Attribution = d.Attribution
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	w := o.withDefaults()
	switch {
	case w.Extent&(w.Extent-1) != 0 || w.Extent < 256 || w.Extent > 1<<16:
		return fmt.Errorf("%w: extent %d must be a power of two in [256, 65536]", ErrInvalidOptions, w.Extent)
	case w.Buffer > w.Extent/2:
		return fmt.Errorf("%w: buffer %d exceeds half the extent", ErrInvalidOptions, w.Buffer)
	case w.MaxZoom < 0 || w.MaxZoom > 24:
		return fmt.Errorf("%w: max zoom %d must be in [0, 24]", ErrInvalidOptions, w.MaxZoom)
	case w.DataMaxZoom < 0 || w.DataMaxZoom > w.MaxZoom:
		return fmt.Errorf("%w: data max zoom %d must be in [0, max zoom]", ErrInvalidOptions, w.DataMaxZoom)
	case w.ClusterMaxZoom < 0 || w.ClusterMaxZoom > 20:
		return fmt.Errorf("%w: cluster max zoom %d must be in [0, 20]", ErrInvalidOptions, w.ClusterMaxZoom)
	case w.ClusterCell < 16 || w.ClusterCell > w.Extent || w.Extent%w.ClusterCell != 0:
		return fmt.Errorf("%w: cluster cell %d must divide the extent and be at least 16", ErrInvalidOptions, w.ClusterCell)
	case w.MaxPoints < 0, w.BuildingMinZoom < 0, w.SimplifyTolerance < 0:
		return fmt.Errorf("%w: options must not be negative", ErrInvalidOptions)
	}
	return nil
}
