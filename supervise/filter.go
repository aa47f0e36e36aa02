package supervise

import (
	"context"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Filter selects entities: in a zone or polygon, of industries, risk
// classes and statuses. Empty fields do not restrict.
type Filter struct {
	// Zone is a zone's ID (a grid: the entities whose grid it is; any
	// other zone: the entities inside its outline).
	Zone string `json:"zone,omitempty"`
	// Polygon is a GeoJSON polygon's coordinates (WGS-84).
	Polygon orb.Polygon `json:"polygon,omitempty"`
	// Industries are GB/T 4754 prefixes (H, H62, 6210 …).
	Industries []string `json:"industries,omitempty"`
	// Risk are risk classes A–D.
	Risk []string `json:"risk,omitempty"`
	// Statuses are registration statuses (存续, 在业 … or their English names).
	Statuses []string `json:"statuses,omitempty"`
}

// maxFilterValues caps each list of a filter.
const maxFilterValues = 64

// compile checks the filter against snap and splits it: the index's
// filter (industries, risk, statuses) and the area test (zone, polygon;
// nil when there is none).
func (s *Service) compile(snap *geo.Snapshot, f Filter) (geo.Filter, func(*geo.Entity) bool, error) {
	var gf geo.Filter
	if len(f.Industries) > maxFilterValues || len(f.Risk) > maxFilterValues || len(f.Statuses) > maxFilterValues {
		return gf, nil, invalid("filter", "at most %d industries, risk classes and statuses", maxFilterValues)
	}
	for _, in := range f.Industries {
		if err := validIndustryPrefix(in); err != nil {
			return gf, nil, err
		}
		gf.Industry = append(gf.Industry, in)
	}
	for _, r := range f.Risk {
		rk, err := geo.ParseRisk(r)
		if err != nil || rk == "" {
			return gf, nil, invalid("filter.risk", "%q is not a risk class (A, B, C or D)", r)
		}
		gf.Risk = append(gf.Risk, rk)
	}
	for _, st := range f.Statuses {
		v, err := geo.ParseStatus(st)
		if err != nil || v == "" {
			return gf, nil, invalid("filter.statuses", "%q is not a status (存续, 在业, 吊销, 注销, 迁出, 停业)", st)
		}
		gf.Status = append(gf.Status, v)
	}
	var tests []func(*geo.Entity) bool
	if f.Zone != "" {
		z, ok := snap.Zone(f.Zone)
		if !ok {
			return gf, nil, invalid("filter.zone", "no zone %q", f.Zone)
		}
		if z.Layer == s.opts.GridLayer {
			grid := z.ID
			tests = append(tests, func(e *geo.Entity) bool { return e.GridID == grid })
		} else {
			za := geo.Prepare(z.Geometry)
			tests = append(tests, func(e *geo.Entity) bool { return za.Contains(e.Location) })
		}
	}
	if len(f.Polygon) > 0 {
		if err := validPolygon(f.Polygon); err != nil {
			return gf, nil, err
		}
		pa := geo.Prepare(orb.MultiPolygon{f.Polygon})
		tests = append(tests, func(e *geo.Entity) bool { return pa.Contains(e.Location) })
	}
	var area func(*geo.Entity) bool
	switch len(tests) {
	case 1:
		area = tests[0]
	case 2:
		area = func(e *geo.Entity) bool { return tests[0](e) && tests[1](e) }
	}
	return gf, area, nil
}

// candidates returns the entities passing f, by ID.
func (s *Service) candidates(ctx context.Context, snap *geo.Snapshot, f Filter) ([]Candidate, error) {
	gf, area, err := s.compile(snap, f)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	es := snap.EntitiesWhere(gf)
	out := make([]Candidate, 0, len(es))
	for _, e := range es {
		if area == nil || area(e) {
			out = append(out, Candidate{ID: e.ID, Grid: e.GridID})
		}
	}
	return out, ctx.Err()
}

func validIndustryPrefix(in string) error {
	ok := in != "" && len(in) <= 5
	for i, c := range in {
		switch {
		case i == 0 && (c >= 'A' && c <= 'T' || c >= 'a' && c <= 't' || c >= '0' && c <= '9'):
		case i > 0 && c >= '0' && c <= '9':
		default:
			ok = false
		}
	}
	if !ok {
		return invalid("filter.industries", "%q is not a GB/T 4754 prefix (a section letter A–T and up to four digits, or digits)", in)
	}
	return nil
}

// maxPolygonVertices caps a request's polygon.
const maxPolygonVertices = 10_000

func validPolygon(p orb.Polygon) error {
	n := 0
	for ri, r := range p {
		if len(r) < 4 {
			return invalid("polygon", "ring %d has %d positions, a closed ring needs at least 4", ri, len(r))
		}
		if r[0] != r[len(r)-1] {
			return invalid("polygon", "ring %d is not closed (its first and last positions differ)", ri)
		}
		for _, pt := range r {
			if err := geo.ValidatePoint(pt); err != nil {
				return invalid("polygon", "ring %d: %v", ri, err)
			}
		}
		n += len(r)
	}
	if n > maxPolygonVertices {
		return invalid("polygon", "%d positions, at most %d", n, maxPolygonVertices)
	}
	return nil
}
