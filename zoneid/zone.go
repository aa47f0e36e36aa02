package zoneid

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Identifier answers which zones contain a point or an address, with the
// FTZ area and the supervision grid, and checks siting rules. Every query
// reads the zone table of the index's current snapshot
// (geo.Snapshot.ZoneTable), so an answer never lags a completed write; the
// first query after a zone change waits for the table's rebuild. All
// methods are safe for concurrent use.
type Identifier struct {
	idx    *geo.Index
	opts   Options
	tab    atomic.Pointer[table] // over the last zone table seen
	closed atomic.Bool
}

// New returns an Identifier over the zones of idx, building the index's
// zone table if no query has yet. Call Close when done.
func New(idx *geo.Index, opts Options) (*Identifier, error) {
	if idx == nil {
		return nil, fmt.Errorf("%w: nil index", ErrInvalidOptions)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	id := &Identifier{idx: idx, opts: opts.withDefaults(idx.Options().GridLayer)}
	if _, err := id.table(context.Background()); err != nil {
		return nil, err
	}
	return id, nil
}

// Options returns the effective options (defaults filled in).
func (id *Identifier) Options() Options { return id.opts }

// Close ends the Identifier: queries after Close return ErrClosed.
func (id *Identifier) Close() { id.closed.Store(true) }

// table returns the zone table of the index's current snapshot.
func (id *Identifier) table(ctx context.Context) (*table, error) {
	if id.closed.Load() {
		return nil, ErrClosed
	}
	zt, err := id.idx.Snapshot().ZoneTable(ctx)
	if err != nil {
		return nil, err
	}
	if t := id.tab.Load(); t != nil && t.ZoneTable == zt {
		return t, nil
	}
	t := newTable(zt, id.opts)
	id.tab.Store(t)
	return t, nil
}

// FTZAnswer answers "is it in the free-trade zone?": Inside, Outside or
// Uncertain. It marshals to JSON true, false or null.
type FTZAnswer int8

// The answers.
const (
	// Uncertain: the location is too coarse, or too close to an FTZ
	// boundary for its precision, to say.
	Uncertain FTZAnswer = iota
	// Outside: no FTZ area contains the point.
	Outside
	// Inside: an FTZ area contains the point.
	Inside
)

// String returns "inside", "outside" or "uncertain".
func (a FTZAnswer) String() string {
	switch a {
	case Inside:
		return "inside"
	case Outside:
		return "outside"
	}
	return "uncertain"
}

// MarshalJSON renders true, false or null.
func (a FTZAnswer) MarshalJSON() ([]byte, error) {
	switch a {
	case Inside:
		return []byte("true"), nil
	case Outside:
		return []byte("false"), nil
	}
	return []byte("null"), nil
}

// Result is what Identify and IdentifyAddress answer. Zones is a fact about
// Point; InFTZ, FTZ and Grid are the answers, nil or Uncertain where the
// precision does not support them.
type Result struct {
	// Point is the WGS-84 point identified (the geocoded one for an address;
	// zero when Precision is geo.PrecisionNone).
	Point orb.Point
	// Precision is geo.PrecisionPoint for Identify, the geocoder's for IdentifyAddress.
	Precision geo.Precision
	// Address is the geocoder's matched address, if any.
	Address string
	// InFTZ answers "is it in the free-trade zone?".
	InFTZ FTZAnswer
	// FTZ is the FTZ area containing the point when InFTZ is Inside.
	FTZ *geo.Zone
	// Grid is the supervision grid containing the point (for a geocoded
	// point: only when the precision is town or finer and the point is
	// farther than its uncertainty from the grid's boundary). When grids
	// overlap, the smallest ID wins, as for geo.Entity.GridID.
	Grid *geo.Zone
	// Zones are all zones containing the point, of every layer, sorted by
	// layer then ID. Shared with the index: do not modify.
	Zones []*geo.Zone
	// FTZBoundaryM is the distance in metres from a geocoded point to the
	// nearest FTZ boundary, when it was needed to decide InFTZ (else -1).
	FTZBoundaryM float64
}

// AppendZones appends the zones containing p (WGS-84) to buf, sorted by
// layer then ID, and returns the extended slice. It answers exactly as
// geo.Index.ZonesAt under the boundary rule of geo.PreparedArea: a point on
// an edge shared by two zones of a partition belongs to exactly one of them
// (the zone to the right of a vertical edge, above a horizontal one). With
// a reused buf it does not allocate. Points that are not valid WGS-84
// coordinates are in no zone.
func (id *Identifier) AppendZones(ctx context.Context, buf []*geo.Zone, p orb.Point) ([]*geo.Zone, error) {
	t, err := id.table(ctx)
	if err != nil {
		return buf, err
	}
	var tmp [16]int32
	for _, zi := range t.AppendAt(tmp[:0], p) {
		buf = append(buf, t.Zone(zi))
	}
	return buf, nil
}

// Lookup is a reusable, allocation-free point lookup bound to one state of
// the zones, for batch work. Obtain one with Identifier.Lookup; it is not
// safe for concurrent use (use one per goroutine), and it does not see zone
// changes made after it was obtained.
type Lookup struct {
	t   *table
	buf []int32
}

// Lookup returns a Lookup over the current zones.
func (id *Identifier) Lookup(ctx context.Context) (*Lookup, error) {
	t, err := id.table(ctx)
	if err != nil {
		return nil, err
	}
	return &Lookup{t: t, buf: make([]int32, 0, 16)}, nil
}

// Hit is one point's answer from a Lookup. Its slices are reused by the
// next call.
type Hit struct {
	// Zones containing the point, sorted by layer then ID.
	Zones []*geo.Zone
	// FTZ is the FTZ area containing the point, or nil.
	FTZ *geo.Zone
	// Grid is the grid containing the point (smallest ID), or nil.
	Grid *geo.Zone
}

// At identifies p (WGS-84) into h, reusing h's slices.
func (l *Lookup) At(p orb.Point, h *Hit) {
	l.buf = l.t.AppendAt(l.buf[:0], p)
	h.Zones, h.FTZ, h.Grid = h.Zones[:0], nil, nil
	for _, zi := range l.buf {
		z := l.t.Zone(zi)
		h.Zones = append(h.Zones, z)
		if h.FTZ == nil && l.t.isFTZ(zi) {
			h.FTZ = z
		}
		if h.Grid == nil && l.t.isGrid(zi) {
			h.Grid = z
		}
	}
}

// Identify returns every zone containing p (WGS-84), the FTZ area and the
// grid. Coordinates given by the caller are taken as exact (geo.PrecisionPoint).
func (id *Identifier) Identify(ctx context.Context, p orb.Point) (Result, error) {
	if err := geo.ValidatePoint(p); err != nil {
		return Result{}, err
	}
	t, err := id.table(ctx)
	if err != nil {
		return Result{}, err
	}
	return t.identify(p, geo.PrecisionPoint, 0), nil
}

func (t *table) identify(p orb.Point, prec geo.Precision, uncertaintyM float64) Result {
	res := Result{Point: p, Precision: prec, InFTZ: Outside, FTZBoundaryM: -1}
	var tmp [16]int32
	idxs := t.AppendAt(tmp[:0], p)
	res.Zones = make([]*geo.Zone, 0, len(idxs))
	for _, zi := range idxs {
		z := t.Zone(zi)
		res.Zones = append(res.Zones, z)
		if res.FTZ == nil && t.isFTZ(zi) {
			res.FTZ, res.InFTZ = z, Inside
		}
		if res.Grid == nil && t.isGrid(zi) {
			res.Grid = z
		}
	}
	if uncertaintyM > 0 {
		d := t.boundaryDistanceM(p, t.ftzLo, t.ftzHi, uncertaintyM)
		res.FTZBoundaryM = d
		if d <= uncertaintyM {
			res.InFTZ, res.FTZ = Uncertain, nil
		}
		if res.Grid != nil {
			if gi, ok := t.Find(res.Grid); ok && t.boundaryDistanceM(p, gi, gi+1, uncertaintyM) <= uncertaintyM {
				res.Grid = nil
			}
		}
	}
	return res
}

// IdentifyAddress geocodes text with Options.Geocoder, then identifies the
// point as IdentifyGeocoded.
func (id *Identifier) IdentifyAddress(ctx context.Context, text string) (Result, error) {
	if id.opts.Geocoder == nil {
		return Result{}, ErrNoGeocoder
	}
	g, err := id.opts.Geocoder.Geocode(ctx, text)
	if err != nil {
		return Result{}, err
	}
	return id.IdentifyGeocoded(ctx, g)
}

// IdentifyGeocoded identifies a geocoded point with the care its precision
// allows: precision district, city or none gives InFTZ Uncertain and no FTZ
// or grid (Zones still lists the zones at the point); a finer precision
// gives Uncertain when the point is within Options.UncertaintyM[precision]
// of an FTZ boundary, and no grid when it is that close to its grid's
// boundary. Use it when the caller geocodes itself.
func (id *Identifier) IdentifyGeocoded(ctx context.Context, g Geocoded) (Result, error) {
	t, err := id.table(ctx)
	if err != nil {
		return Result{}, err
	}
	if g.Precision == "" {
		g.Precision = geo.PrecisionNone
	}
	if g.Precision == geo.PrecisionNone || geo.ValidatePoint(g.Location) != nil {
		return Result{Precision: geo.PrecisionNone, InFTZ: Uncertain, Zones: []*geo.Zone{}, FTZBoundaryM: -1}, nil
	}
	if coarse(g.Precision) {
		res := t.identify(g.Location, g.Precision, 0)
		res.InFTZ, res.FTZ, res.Grid, res.Address = Uncertain, nil, nil, g.Address
		return res, nil
	}
	u := 0.0
	if g.Precision != geo.PrecisionPoint {
		u = id.opts.UncertaintyM[g.Precision]
	}
	res := t.identify(g.Location, g.Precision, u)
	res.Address = g.Address
	return res, nil
}

// boundaryDistanceM returns the distance in metres from p to the nearest
// edge of the zones numbered [lo, hi), or +Inf when none is within limitM
// (measured in a local equirectangular projection, accurate to well under
// 0.1 % at these distances).
func (t *table) boundaryDistanceM(p orb.Point, lo, hi int32, limitM float64) float64 {
	const mPerDeg = geo.EarthRadius * math.Pi / 180
	kx := mPerDeg * math.Cos(p[1]*math.Pi/180)
	ky := mPerDeg
	padX, padY := limitM/kx*1.01, limitM/ky*1.01
	best := math.Inf(1)
	for zi := lo; zi < hi; zi++ {
		b := t.Area(zi).Bound()
		if p[0] < b.Min[0]-padX || p[0] > b.Max[0]+padX || p[1] < b.Min[1]-padY || p[1] > b.Max[1]+padY {
			continue
		}
		for _, poly := range t.Zone(zi).Geometry {
			for _, r := range poly {
				for e := 0; e+1 < len(r); e++ {
					if d := segDist(p, r[e], r[e+1], kx, ky); d < best {
						best = d
					}
				}
			}
		}
	}
	return best
}

func segDist(p, a, b orb.Point, kx, ky float64) float64 {
	ax, ay := (a[0]-p[0])*kx, (a[1]-p[1])*ky
	bx, by := (b[0]-p[0])*kx, (b[1]-p[1])*ky
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	s := 0.0
	if l2 > 0 {
		s = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
	}
	x, y := ax+s*dx, ay+s*dy
	return math.Hypot(x, y)
}
