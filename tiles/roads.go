package tiles

import (
	"context"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// Road is a named centre line of the roads layer: the base map's streets,
// drawn and labelled along the line by the web map. Roads are not part of
// the geo index (no entity is registered on a road); a Renderer draws the
// ones given to SetRoads.
type Road struct {
	// ID identifies the road (optional; the tile carries it when set).
	ID string
	// Name is the road's name (金开大道), drawn along the line.
	Name string
	// Kind classes the road for styling: "major" (大道, highways) or
	// "minor" (the default when empty).
	Kind string
	// Line is the centre line in WGS-84, at least two points.
	Line orb.LineString
}

// Limits of SetRoads, so that a road set stays a base-map layer.
const (
	// MaxRoads is the largest number of roads SetRoads accepts.
	MaxRoads = 200_000
	// MaxRoadPoints is the largest number of points of one road.
	MaxRoadPoints = 100_000
)

// roadSet is an immutable set of roads with their bounds.
type roadSet struct {
	roads  []Road
	bounds []orb.Bound
	gen    uint64
}

// SetRoads replaces the roads of the roads layer (LayerRoads) and drops its
// cached tiles. A road needs a name or an ID, at least two points and
// valid WGS-84 coordinates; the first bad road is reported (wrapping
// ErrInvalidRoad) and nothing is replaced. The slice is copied. SetRoads is
// safe for concurrent use with rendering.
func (r *Renderer) SetRoads(roads []Road) error {
	if len(roads) > MaxRoads {
		return fmt.Errorf("%w: %d roads (at most %d)", ErrInvalidRoad, len(roads), MaxRoads)
	}
	rs := &roadSet{roads: make([]Road, len(roads)), bounds: make([]orb.Bound, len(roads))}
	for i, rd := range roads {
		switch {
		case rd.Name == "" && rd.ID == "":
			return fmt.Errorf("%w: road %d has neither a name nor an id", ErrInvalidRoad, i)
		case len(rd.Line) < 2 || len(rd.Line) > MaxRoadPoints:
			return fmt.Errorf("%w: road %d (%s) has %d points (want 2 to %d)", ErrInvalidRoad, i, rd.Name, len(rd.Line), MaxRoadPoints)
		case rd.Kind != "" && rd.Kind != "major" && rd.Kind != "minor":
			return fmt.Errorf("%w: road %d (%s): kind %q (want major or minor)", ErrInvalidRoad, i, rd.Name, rd.Kind)
		}
		for _, p := range rd.Line {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -85.06 || p[1] > 85.06 {
				return fmt.Errorf("%w: road %d (%s): point %v is not a WGS-84 coordinate", ErrInvalidRoad, i, rd.Name, p)
			}
		}
		rd.Line = rd.Line.Clone()
		rs.roads[i], rs.bounds[i] = rd, rd.Line.Bound()
	}
	r.roadMu.Lock()
	defer r.roadMu.Unlock()
	if old := r.roads.Load(); old != nil {
		rs.gen = old.gen + 1
	} else {
		rs.gen = 1
	}
	r.roads.Store(rs)
	r.cache.invalidate(LayerRoads, nil, true, rs.gen)
	return nil
}

// Roads returns the number of roads of the roads layer.
func (r *Renderer) Roads() int {
	if rs := r.roads.Load(); rs != nil {
		return len(rs.roads)
	}
	return 0
}

// renderRoads renders the roads crossing the tile (plus its buffer): lines
// projected to the tile, clipped, simplified below DataMaxZoom, with name,
// kind and id. It returns the road set's generation as the tile's version.
func (r *Renderer) renderRoads(ctx context.Context, t *Tile) (uint64, error) {
	rs := r.roads.Load()
	if rs == nil {
		return 0, nil
	}
	b := r.tileBound(t.Z, t.X, t.Y, r.opts.Buffer)
	fc := geojson.NewFeatureCollection()
	for i := range rs.roads {
		if i&255 == 255 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if !rs.bounds[i].Intersects(b) {
			continue
		}
		rd := &rs.roads[i]
		f := geojson.NewFeature(rd.Line.Clone()) // ProjectToTile works in place
		if rd.ID != "" {
			f.Properties["id"] = rd.ID
		}
		if rd.Name != "" {
			f.Properties["name"] = rd.Name
		}
		kind := rd.Kind
		if kind == "" {
			kind = "minor"
		}
		f.Properties["kind"] = kind
		fc.Append(f)
	}
	if len(fc.Features) == 0 {
		return rs.gen, nil
	}
	ml := mvt.NewLayer(LayerRoads, fc)
	ml.Extent = r.opts.Extent
	ml.Version = 2
	ls := mvt.Layers{ml}
	ls.ProjectToTile(maptile.New(uint32(t.X), uint32(t.Y), maptile.Zoom(t.Z)))
	buf, ext := float64(r.opts.Buffer), float64(r.opts.Extent)
	ls.Clip(orb.Bound{Min: orb.Point{-buf, -buf}, Max: orb.Point{ext + buf, ext + buf}})
	if t.Z < r.opts.DataMaxZoom && r.opts.SimplifyTolerance > 0 {
		ls.Simplify(simplify.DouglasPeucker(r.opts.SimplifyTolerance))
	}
	ls.RemoveEmpty(1, 0)
	if len(ml.Features) == 0 {
		return rs.gen, nil
	}
	data, err := mvt.Marshal(ls)
	if err != nil {
		return 0, fmt.Errorf("tiles: encoding roads %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	t.Features, t.Points, t.Data = len(ml.Features), len(ml.Features), data
	return rs.gen, nil
}
