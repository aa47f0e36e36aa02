package risk

import (
	"context"
	"math"
	"sort"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Area restricts a summary, the warnings or the economy to a zone or a
// box. The zero Area is everywhere.
type Area struct {
	// Bound is the box (zero: everywhere).
	Bound orb.Bound
	// Prepared, when set, is the zone's polygon (Bound is its bound).
	Prepared *geo.PreparedArea
	// Polygon, when set without Prepared, is the zone's polygon, prepared
	// only when the engine must test points (not for a cached area).
	Polygon orb.MultiPolygon
	// Key, when set, names the area for the engine's cache of its
	// members (e.g. a zone's ID and version): a summary of the same key
	// reads the members found before while no entity was added, removed
	// or moved since.
	Key string
}

// areaMembers are the entities found in an area at a placement generation.
type areaMembers struct {
	gen     uint64
	members []int32
}

// maxCachedAreas caps the areas whose members the engine keeps.
const maxCachedAreas = 64

func (a Area) all() bool { return a.Prepared == nil && a.Polygon == nil && a.Bound == (orb.Bound{}) }

// prepared returns the area with its polygon prepared.
func (a Area) prepared() Area {
	if a.Prepared == nil && a.Polygon != nil {
		a.Prepared = geo.Prepare(a.Polygon)
	}
	return a
}

// Contains reports whether p is in the area.
func (a Area) Contains(p orb.Point) bool {
	if a.all() {
		return true
	}
	if !a.Bound.Contains(p) {
		return false
	}
	return a.Prepared == nil || a.Prepared.Contains(p)
}

// eachIn calls fn with the number of every live entity in the area (under
// mu's read lock), from the engine's cells.
func (e *Engine) eachIn(ctx context.Context, a Area, fn func(n int32, s *entState)) error {
	a = a.prepared()
	visit := func(l []int32) {
		for _, n := range l {
			s := &e.st[n]
			if s.live && a.Contains(s.loc) {
				fn(n, s)
			}
		}
	}
	if a.all() {
		for n := range e.st {
			if n%4096 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if e.st[n].live {
				fn(int32(n), &e.st[n])
			}
		}
		return nil
	}
	x0, x1 := int64(math.Floor(a.Bound.Min[0]/e.opts.CellDeg)), int64(math.Floor(a.Bound.Max[0]/e.opts.CellDeg))
	y0, y1 := int64(math.Floor(a.Bound.Min[1]/e.opts.CellDeg)), int64(math.Floor(a.Bound.Max[1]/e.opts.CellDeg))
	if (x1-x0+1)*(y1-y0+1) > int64(len(e.cells)) { // a large area: every cell
		i := 0
		for c, l := range e.cells {
			if i++; i%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			x, y := int64(int32(uint32(c))), int64(int32(uint32(c>>32)))
			if x >= x0 && x <= x1 && y >= y0 && y <= y1 {
				visit(l)
			}
		}
		return nil
	}
	for y := y0; y <= y1; y++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for x := x0; x <= x1; x++ {
			visit(e.cells[uint64(uint32(int32(y)))<<32|uint64(uint32(int32(x)))])
		}
	}
	return nil
}

// Summary counts an area's entities by class and names the reasons that
// fire most often.
type Summary struct {
	// Entities counts the entities evaluated in the area.
	Entities int `json:"entities"`
	// ByClass counts them by the class in force, ByComputed by the class
	// the rules give.
	ByClass    map[geo.Risk]int `json:"by_class"`
	ByComputed map[geo.Risk]int `json:"by_computed_class"`
	// Overridden counts the entities whose class is an override's.
	Overridden int `json:"overridden"`
	// TopReasons are the rules that fired, most often first.
	TopReasons []ReasonCount `json:"top_reasons"`
	// AsOf is the day of the evaluations.
	AsOf string `json:"as_of"`
}

// ReasonCount is how many entities of an area a rule fired for.
type ReasonCount struct {
	Rule        string `json:"rule"`
	Description string `json:"description,omitempty"`
	Count       int    `json:"count"`
}

// Summary answers the risk summary of an area from the engine's latest
// evaluations (each entity's state as of its last change or recheck).
func (e *Engine) Summary(ctx context.Context, a Area) (Summary, error) {
	s := Summary{ByClass: map[geo.Risk]int{}, ByComputed: map[geo.Risk]int{}, TopReasons: []ReasonCount{}, AsOf: dayString(Day(e.opts.Now()))}
	var counts [MaxRules]int
	e.mu.RLock()
	each := e.eachIn
	if a.Key != "" {
		if m, ok := e.areas[a.Key]; ok && m.gen == e.placeGen {
			each = func(_ context.Context, _ Area, fn func(int32, *entState)) error {
				for _, n := range m.members {
					fn(n, &e.st[n])
				}
				return nil
			}
		} else {
			gen := e.placeGen
			var members []int32
			if err := e.eachIn(ctx, a, func(n int32, _ *entState) { members = append(members, n) }); err != nil {
				e.mu.RUnlock()
				return Summary{}, err
			}
			e.mu.RUnlock()
			e.mu.Lock()
			if len(e.areas) >= maxCachedAreas {
				clear(e.areas)
			}
			e.areas[a.Key] = areaMembers{gen: gen, members: members}
			e.mu.Unlock()
			e.mu.RLock()
			each = func(_ context.Context, _ Area, fn func(int32, *entState)) error {
				for _, n := range members {
					if e.st[n].live {
						fn(n, &e.st[n])
					}
				}
				return nil
			}
		}
	}
	err := each(ctx, a, func(_ int32, st *entState) {
		if st.class == 0 {
			return // not evaluated yet
		}
		s.Entities++
		s.ByClass[rankClass(st.class)]++
		s.ByComputed[rankClass(st.computed)]++
		if st.class != st.computed {
			s.Overridden++
		}
		for f := st.fired; f != 0; f &= f - 1 {
			counts[bitIndex(f)]++
		}
	})
	e.mu.RUnlock()
	if err != nil {
		return Summary{}, err
	}
	for i, c := range counts {
		if c > 0 && i < len(e.rules.Rules) {
			s.TopReasons = append(s.TopReasons, ReasonCount{Rule: e.rules.Rules[i].ID, Description: e.rules.Rules[i].Description, Count: c})
		}
	}
	sort.SliceStable(s.TopReasons, func(i, j int) bool { return s.TopReasons[i].Count > s.TopReasons[j].Count })
	return s, nil
}

func bitIndex(f uint32) int {
	n := 0
	for f&1 == 0 {
		f >>= 1
		n++
	}
	return n
}
