package risk

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// BuildingEconomy is the economy of one building (楼宇经济): its entities
// and the sums of their department figures.
type BuildingEconomy struct {
	// BuildingID, Name, Address and Floors are the building's.
	BuildingID string `json:"building_id"`
	Name       string `json:"name,omitempty"`
	Address    string `json:"address,omitempty"`
	Floors     int    `json:"floors,omitempty"`
	// Location is the footprint's centre (WGS-84 lon, lat).
	Location [2]float64 `json:"location"`
	// Entities counts the entities in the building: those registered with
	// its ID, and those without a building ID whose location is inside
	// its footprint.
	Entities int `json:"entities"`
	// BySection counts them by GB/T 4754 section letter, ByStatus by
	// registration status, ByClass by risk class in force.
	BySection map[string]int `json:"by_section"`
	ByStatus  map[string]int `json:"by_status"`
	ByClass   map[string]int `json:"by_class"`
	// Output is the sum of each entity's latest output record (万元 a
	// year); Employment the sum of each entity's latest employment figure
	// (an output record's, else a social-insurance record's); Tax the sum
	// of the tax records of the last 365 days (元).
	Output     float64 `json:"output"`
	Employment int     `json:"employment"`
	Tax        float64 `json:"tax"`
	// OutputPerFloor is Output / Floors (0 without floors).
	OutputPerFloor float64 `json:"output_per_floor"`
	// EntityIDs lists the entities (at most 500).
	EntityIDs []string `json:"entity_ids,omitempty"`
	// Reporting counts the entities with an output, employment or tax
	// figure.
	Reporting int `json:"reporting"`
}

const maxEconomyIDs = 500

// BuildingEconomy answers one building's economy.
func (e *Engine) BuildingEconomy(ctx context.Context, id string) (BuildingEconomy, error) {
	e.mu.RLock()
	ix := e.ix
	e.mu.RUnlock()
	if ix == nil {
		return BuildingEconomy{}, ErrNotStarted
	}
	snap := ix.Snapshot()
	b, ok := snap.Building(id)
	if !ok {
		return BuildingEconomy{}, fmt.Errorf("%w: building %s", ErrNotFound, id)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.economyOf(ctx, snap, b, econFull, nil)
}

// econMode says what economyOf fills in.
type econMode uint8

const (
	econFull    econMode = iota // everything
	econNoIDs                   // no entity IDs (an area's list)
	econFigures                 // the sums and counts only (the tiles)
)

// economyOf sums a building's economy (under mu's read lock). loose are
// the live entities without a building ID around it (a superset of those
// inside its footprint); nil: economyOf finds them.
func (e *Engine) economyOf(ctx context.Context, snap *geo.Snapshot, b *geo.Building, mode econMode, loose []int32) (BuildingEconomy, error) {
	c := b.Footprint.Bound().Center()
	ec := BuildingEconomy{BuildingID: b.ID, Name: b.Name, Address: b.Address, Floors: b.Floors, Location: [2]float64{c[0], c[1]}}
	withIDs, counts := mode == econFull, mode != econFigures
	if counts {
		ec.BySection, ec.ByStatus, ec.ByClass = map[string]int{}, map[string]int{}, map[string]int{}
	}
	today := Day(e.opts.Now())
	add := func(n int32) {
		ent, ok := snap.Entity(e.entIDs[n])
		if !ok {
			return
		}
		ec.Entities++
		if counts {
			if ent.Industry != "" {
				ec.BySection[ent.Industry[:1]]++
			}
			st := string(ent.Status)
			if st == "" {
				st = "unknown"
			}
			ec.ByStatus[st]++
			cl := string(ent.Risk)
			if cl == "" {
				cl = "unrated"
			}
			ec.ByClass[cl]++
		}
		if withIDs && len(ec.EntityIDs) < maxEconomyIDs {
			ec.EntityIDs = append(ec.EntityIDs, ent.ID)
		}
		outDay, empDay, empSrc := int32(noDate), int32(noDate), uint8(math.MaxUint8)
		var out float64
		var emp int32
		reporting := false
		for _, r := range e.recs[n] {
			switch r.kind {
			case kOutput:
				if r.date >= outDay {
					outDay, out = r.date, float64(r.val)
				}
				if r.aux != noDate && (empSrc != kOutput || r.date >= empDay) {
					empDay, emp, empSrc = r.date, r.aux, kOutput
				}
			case kSocialInsure:
				if r.aux != noDate && empSrc != kOutput && r.date >= empDay {
					empDay, emp, empSrc = r.date, r.aux, kSocialInsure
				}
			case kTax:
				if r.date != noDate && r.date <= today && r.date > today-365 {
					ec.Tax += float64(r.val)
					reporting = true
				}
			}
		}
		if outDay != noDate || empSrc != math.MaxUint8 {
			reporting = true
		}
		ec.Output += out
		ec.Employment += int(emp)
		if reporting {
			ec.Reporting++
		}
	}
	for _, n := range e.byBld[b.ID] {
		if e.st[n].live {
			add(n)
		}
	}
	if loose == nil { // the entities without a building ID near it
		err := e.eachIn(ctx, Area{Bound: b.Footprint.Bound()}, func(n int32, s *entState) {
			if s.bld == "" {
				loose = append(loose, n)
			}
		})
		if err != nil {
			return BuildingEconomy{}, err
		}
	}
	fb := b.Footprint.Bound()
	for _, n := range loose {
		if s := &e.st[n]; s.live && s.bld == "" && fb.Contains(s.loc) && planar.PolygonContains(b.Footprint, s.loc) {
			add(n)
		}
	}
	sort.Strings(ec.EntityIDs)
	ec.Output = math.Round(ec.Output*10) / 10
	ec.Tax = math.Round(ec.Tax*100) / 100
	if b.Floors > 0 {
		ec.OutputPerFloor = math.Round(ec.Output/float64(b.Floors)*10) / 10
	}
	return ec, nil
}

// Economy is the building economy of an area.
type Economy struct {
	// Buildings counts the buildings in the area; Truncated says that the
	// area held more than the limit (the totals are of those listed).
	Buildings int  `json:"buildings"`
	Truncated bool `json:"truncated"`
	// Entities, Output, Employment and Tax are the sums over the buildings.
	Entities   int     `json:"entities"`
	Output     float64 `json:"output"`
	Employment int     `json:"employment"`
	Tax        float64 `json:"tax"`
	// List holds the buildings, highest output first (up to the limit).
	List []BuildingEconomy `json:"list"`
}

// Economy answers the building economy of the buildings whose centre is
// in the area (at most limit buildings, 1–10,000; the area must not be
// everywhere).
func (e *Engine) Economy(ctx context.Context, a Area, limit int) (Economy, error) {
	if a.all() {
		return Economy{}, fmt.Errorf("%w: the economy needs a zone or a box", ErrInvalidQuery)
	}
	if limit < 1 || limit > 10000 {
		return Economy{}, fmt.Errorf("%w: limit %d (want 1-10000)", ErrInvalidQuery, limit)
	}
	a = a.prepared()
	e.mu.RLock()
	ix := e.ix
	e.mu.RUnlock()
	if ix == nil {
		return Economy{}, ErrNotStarted
	}
	snap := ix.Snapshot()
	res, err := snap.InBBox(ctx, geo.LayerBuildings, a.Bound, geo.Query{Limit: ix.Options().MaxLimit})
	if err != nil {
		return Economy{}, err
	}
	out := Economy{Truncated: res.Truncated, List: []BuildingEconomy{}}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for i, h := range res.Hits {
		if i%64 == 0 && ctx.Err() != nil {
			return Economy{}, ctx.Err()
		}
		c := h.Building.Footprint.Bound().Center()
		if !a.Contains(orb.Point(c)) {
			continue
		}
		ec, err := e.economyOf(ctx, snap, h.Building, econNoIDs, nil)
		if err != nil {
			return Economy{}, err
		}
		out.Buildings++
		out.Entities += ec.Entities
		out.Output += ec.Output
		out.Employment += ec.Employment
		out.Tax += ec.Tax
		out.List = append(out.List, ec)
	}
	sort.SliceStable(out.List, func(i, j int) bool {
		if out.List[i].Output != out.List[j].Output {
			return out.List[i].Output > out.List[j].Output
		}
		return out.List[i].BuildingID < out.List[j].BuildingID
	})
	if len(out.List) > limit {
		out.List, out.Truncated = out.List[:limit], true
	}
	out.Output = math.Round(out.Output*10) / 10
	out.Tax = math.Round(out.Tax*100) / 100
	return out, nil
}

// BuildingFigures answers the economy of each building as of snap (a
// snapshot of the engine's index) without entity IDs or counts by
// section, status and class: the figures a building tile carries (the
// same computation as BuildingEconomy, so the tiles and the economy API
// agree). Safe for concurrent use.
func (e *Engine) BuildingFigures(ctx context.Context, snap *geo.Snapshot, bs []*geo.Building) ([]BuildingEconomy, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ix == nil {
		return nil, ErrNotStarted
	}
	// the entities without a building ID in the buildings' box, found once
	// (a tile's buildings share their cells)
	var u orb.Bound
	for i, b := range bs {
		if i == 0 {
			u = b.Footprint.Bound()
		} else {
			u = u.Union(b.Footprint.Bound())
		}
	}
	loose := []int32{}
	if len(bs) > 0 {
		err := e.eachIn(ctx, Area{Bound: u}, func(n int32, s *entState) {
			if s.bld == "" {
				loose = append(loose, n)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]BuildingEconomy, len(bs))
	for i, b := range bs {
		if i%64 == 63 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ec, err := e.economyOf(ctx, snap, b, econFigures, loose)
		if err != nil {
			return nil, err
		}
		out[i] = ec
	}
	return out, nil
}

// OnEconomyChange sets fn to be told where building figures changed: the
// locations (old and new) and building IDs of the entities that moved,
// came, went or whose output, employment or tax records changed. fn is
// called from the engine's loop after the engine answers the new figures
// and before Sync returns; it must not call back into the engine's
// writes. A tile renderer's EconomyChanged is the intended fn. nil stops
// the calls. Safe for concurrent use.
func (e *Engine) OnEconomyChange(fn func(points []orb.Point, buildingIDs []string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.econHook = fn
	e.econPts, e.econBlds = nil, nil
}

// economyTouched notes entity n's location and building for the economy
// hook (under mu).
func (e *Engine) economyTouched(n int32) {
	if e.econHook == nil {
		return
	}
	s := &e.st[n]
	if s.live {
		e.econPts = append(e.econPts, s.loc)
	}
	if s.bld != "" {
		e.econBlds = append(e.econBlds, s.bld)
	}
}

// flushEconomy calls the economy hook with the changes noted since its
// last call (outside mu).
func (e *Engine) flushEconomy() {
	e.mu.Lock()
	fn, pts, blds := e.econHook, e.econPts, e.econBlds
	e.econPts, e.econBlds = nil, nil
	e.mu.Unlock()
	if fn != nil && (len(pts) > 0 || len(blds) > 0) {
		fn(pts, blds)
	}
}
