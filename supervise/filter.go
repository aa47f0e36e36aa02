package supervise

import (
	"context"
	"fmt"

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

// matcher compiles the filter against snap: the entity test, and the
// bound that contains every entity it can pass (for a zone or polygon).
func (s *Service) matcher(snap *geo.Snapshot, f Filter) (func(*geo.Entity) bool, error) {
	var gf geo.Filter
	if len(f.Industries) > maxFilterValues || len(f.Risk) > maxFilterValues || len(f.Statuses) > maxFilterValues {
		return nil, invalid("filter", "at most %d industries, risk classes and statuses", maxFilterValues)
	}
	for _, in := range f.Industries {
		if err := validIndustryPrefix(in); err != nil {
			return nil, err
		}
		gf.Industry = append(gf.Industry, in)
	}
	for _, r := range f.Risk {
		rk, err := geo.ParseRisk(r)
		if err != nil || rk == "" {
			return nil, invalid("filter.risk", "%q is not a risk class (A, B, C or D)", r)
		}
		gf.Risk = append(gf.Risk, rk)
	}
	for _, st := range f.Statuses {
		v, err := geo.ParseStatus(st)
		if err != nil || v == "" {
			return nil, invalid("filter.statuses", "%q is not a status (存续, 在业, 吊销, 注销, 迁出, 停业)", st)
		}
		gf.Status = append(gf.Status, v)
	}
	base := gf.EntityMatcher()
	var area *geo.PreparedArea
	grid := ""
	if f.Zone != "" {
		z, ok := snap.Zone(f.Zone)
		if !ok {
			return nil, invalid("filter.zone", "no zone %q", f.Zone)
		}
		if z.Layer == s.opts.GridLayer {
			grid = z.ID
		} else {
			area = geo.Prepare(z.Geometry)
		}
	}
	if len(f.Polygon) > 0 {
		if err := validPolygon(f.Polygon); err != nil {
			return nil, err
		}
		pa := geo.Prepare(orb.MultiPolygon{f.Polygon})
		if area != nil {
			za := area
			return func(e *geo.Entity) bool {
				return (grid == "" || e.GridID == grid) && za.Contains(e.Location) && pa.Contains(e.Location) && base(e)
			}, nil
		}
		area = pa
	}
	return func(e *geo.Entity) bool {
		return (grid == "" || e.GridID == grid) && (area == nil || area.Contains(e.Location)) && base(e)
	}, nil
}

// candidates returns the entities passing f, by ID (the index's order).
func (s *Service) candidates(ctx context.Context, snap *geo.Snapshot, f Filter) ([]Candidate, error) {
	m, err := s.matcher(snap, f)
	if err != nil {
		return nil, err
	}
	var out []Candidate
	n := 0
	snap.ScanEntities(func(e *geo.Entity) bool {
		n++
		if n%4096 == 0 && ctx.Err() != nil {
			return false
		}
		if m(e) {
			out = append(out, Candidate{ID: e.ID, Grid: e.GridID})
		}
		return true
	})
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

var _ = fmt.Sprint
