package risk

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
)

// The warning types.
const (
	WarnCluster    = "registration_cluster"
	WarnZombie     = "zombie"
	WarnShift      = "industry_shift"
	WarnOutOfArea  = "out_of_area"
	WarnLicenceDue = "licence_expiry"
)

// WarningTypes returns the warning types, in a fixed order.
func WarningTypes() []string {
	return []string{WarnCluster, WarnZombie, WarnShift, WarnOutOfArea, WarnLicenceDue}
}

// InvestorAttr is the entity attribute (Entity.Attrs) holding the GB/T
// 2260 division code (6 digits) of the domicile of the entity's investors
// or legal representative; the out-of-area warning reads it.
const InvestorAttr = "investor_division"

// WarningOptions are the thresholds of the early warnings. Zero values
// mean the defaults.
type WarningOptions struct {
	// ClusterDays and ClusterMin: a registration cluster is ClusterMin or
	// more entities registered in one building (else at one address)
	// within ClusterDays. Defaults 30 and 8.
	ClusterDays int `yaml:"cluster_days" json:"cluster_days"`
	ClusterMin  int `yaml:"cluster_min" json:"cluster_min"`
	// ZombieDays: a zombie or shell is an operating entity older than
	// this with no record from any department, no annual report and no
	// employees within it. Default 730.
	ZombieDays int `yaml:"zombie_days" json:"zombie_days"`
	// ShiftRecentDays, ShiftHistoryDays, ShiftMinCount, ShiftMinRise: a
	// grid's share of new registrations in one GB/T 4754 division over
	// the last ShiftRecentDays exceeds its share over the ShiftHistoryDays
	// before by ShiftMinRise (0–1) with at least ShiftMinCount new ones.
	// Defaults 180, 1095, 5 and 0.3.
	ShiftRecentDays  int     `yaml:"shift_recent_days" json:"shift_recent_days"`
	ShiftHistoryDays int     `yaml:"shift_history_days" json:"shift_history_days"`
	ShiftMinCount    int     `yaml:"shift_min_count" json:"shift_min_count"`
	ShiftMinRise     float64 `yaml:"shift_min_rise" json:"shift_min_rise"`
	// HomeDivisions are the division-code prefixes of the region (e.g.
	// "50" for Chongqing): an investor from elsewhere is out of area. The
	// region is data: empty disables the out-of-area warning.
	HomeDivisions []string `yaml:"home_divisions" json:"home_divisions"`
	// OutOfAreaDays and OutOfAreaMin: OutOfAreaMin or more entities whose
	// investors come from one division outside the region, registered
	// within OutOfAreaDays. Defaults 30 and 6.
	OutOfAreaDays int `yaml:"out_of_area_days" json:"out_of_area_days"`
	OutOfAreaMin  int `yaml:"out_of_area_min" json:"out_of_area_min"`
	// LicenceDays: licences expiring within this many days, per grid.
	// Default 30.
	LicenceDays int `yaml:"licence_days" json:"licence_days"`
}

func (o WarningOptions) withDefaults() WarningOptions {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.ClusterDays, 30)
	def(&o.ClusterMin, 8)
	def(&o.ZombieDays, 730)
	def(&o.ShiftRecentDays, 180)
	def(&o.ShiftHistoryDays, 1095)
	def(&o.ShiftMinCount, 5)
	def(&o.OutOfAreaDays, 30)
	def(&o.OutOfAreaMin, 6)
	def(&o.LicenceDays, 30)
	if o.ShiftMinRise == 0 {
		o.ShiftMinRise = 0.3
	}
	return o
}

// Validate reports thresholds that cannot work.
func (o WarningOptions) Validate() error {
	for _, v := range []int{o.ClusterDays, o.ClusterMin, o.ZombieDays, o.ShiftRecentDays, o.ShiftHistoryDays, o.ShiftMinCount, o.OutOfAreaDays, o.OutOfAreaMin, o.LicenceDays} {
		if v < 0 || v > 36500 {
			return fmt.Errorf("%w: warning thresholds must be 0-36,500 (0: default)", ErrInvalidQuery)
		}
	}
	if o.ShiftMinRise < 0 || o.ShiftMinRise > 1 {
		return fmt.Errorf("%w: shift_min_rise must be in [0, 1]", ErrInvalidQuery)
	}
	return nil
}

// Warning is one early warning with its evidence and location.
type Warning struct {
	// ID identifies the warning (type and what it is about); stable while
	// the evidence lasts.
	ID string `json:"id"`
	// Type is one of [WarningTypes].
	Type string `json:"type"`
	// Detail says what was found, in words.
	Detail string `json:"detail"`
	// Date is the newest date of the evidence (a registration, an expiry);
	// since= keeps warnings from that day on.
	Date string `json:"date"`
	// Location is the evidence's centre (WGS-84 lon, lat).
	Location [2]float64 `json:"location"`
	// BuildingID and GridID say where, when the evidence is in one.
	BuildingID string `json:"building_id,omitempty"`
	GridID     string `json:"grid_id,omitempty"`
	// Key is what the evidence shares: an address, an industry division,
	// an investor's division.
	Key string `json:"key,omitempty"`
	// Entities are the entities of the evidence; Records the records.
	Entities []string `json:"entities"`
	Records  []string `json:"records,omitempty"`
}

// WarningQuery selects warnings.
type WarningQuery struct {
	// Types keeps these types (nil: all).
	Types []string
	// Area keeps warnings whose evidence is in it (the entities in the
	// area are considered).
	Area Area
	// Since keeps warnings dated on or after this day (YYYY-MM-DD; "": all).
	Since string
	// Options override the engine's thresholds where set.
	Options *WarningOptions
}

// wEnt is what the warnings read of one entity.
type wEnt struct {
	e   *geo.Entity
	n   int32
	reg int32 // registration day (noDate: none)
}

// Warnings computes the early warnings over the current index and the
// engine's records, as of the engine's clock.
func (e *Engine) Warnings(ctx context.Context, q WarningQuery) ([]Warning, error) {
	opts := e.opts.Warnings
	if q.Options != nil {
		if err := q.Options.Validate(); err != nil {
			return nil, err
		}
		opts = *q.Options
		if opts.HomeDivisions == nil {
			opts.HomeDivisions = e.opts.Warnings.HomeDivisions
		}
		opts = opts.withDefaults()
	}
	want := map[string]bool{}
	for _, t := range q.Types {
		ok := false
		for _, k := range WarningTypes() {
			ok = ok || k == t
		}
		if !ok {
			return nil, fmt.Errorf("%w: warning type %q (want one of %s)", ErrInvalidQuery, t, strings.Join(WarningTypes(), ", "))
		}
		want[t] = true
	}
	on := func(t string) bool { return len(want) == 0 || want[t] }
	since := int32(noDate)
	if q.Since != "" {
		if since = dayOf(q.Since); since == noDate {
			return nil, fmt.Errorf("%w: since %q is not YYYY-MM-DD", ErrInvalidQuery, q.Since)
		}
	}
	e.mu.RLock()
	ix := e.ix
	e.mu.RUnlock()
	if ix == nil {
		return nil, ErrNotStarted
	}
	today := Day(e.opts.Now())

	e.mu.RLock()
	ents := make([]wEnt, 0, len(e.st))
	err := e.eachIn(ctx, q.Area, func(n int32, s *entState) {
		if s.ent != nil {
			ents = append(ents, wEnt{s.ent, n, regDay(s.ent)})
		}
	})
	if err != nil {
		e.mu.RUnlock()
		return nil, err
	}
	var out []Warning
	if on(WarnZombie) {
		out = append(out, e.zombies(ents, today, opts)...)
	}
	if on(WarnLicenceDue) {
		out = append(out, e.licenceDue(ents, today, opts)...)
	}
	e.mu.RUnlock()
	if on(WarnCluster) {
		out = append(out, clusters(ents, opts)...)
	}
	if on(WarnShift) {
		out = append(out, shifts(ents, today, opts)...)
	}
	if on(WarnOutOfArea) && len(opts.HomeDivisions) > 0 {
		out = append(out, outOfArea(ents, opts)...)
	}
	if since != noDate {
		kept := out[:0]
		for _, w := range out {
			if dayOf(w.Date) >= since {
				kept = append(kept, w)
			}
		}
		out = kept
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	if out == nil {
		out = []Warning{}
	}
	return out, nil
}

func regDay(e *geo.Entity) int32 {
	if e.RegisteredAt.IsZero() {
		return noDate
	}
	return Day(e.RegisteredAt)
}

func centre(es []*geo.Entity) [2]float64 {
	var x, y float64
	for _, e := range es {
		x += e.Location[0]
		y += e.Location[1]
	}
	n := float64(max(1, len(es)))
	return [2]float64{x / n, y / n}
}

func ids(es []*geo.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	sort.Strings(out)
	return out
}

// densest returns the largest set of entities registered within days of
// each other (the earliest such window on ties), sorted by registration.
func densest(es []wEnt, days int) []*geo.Entity {
	sort.Slice(es, func(i, j int) bool {
		if es[i].reg != es[j].reg {
			return es[i].reg < es[j].reg
		}
		return es[i].e.ID < es[j].e.ID
	})
	bi, bj, i := 0, 0, 0
	for j := range es {
		for es[j].reg-es[i].reg >= int32(days) {
			i++
		}
		if j+1-i > bj-bi {
			bi, bj = i, j+1
		}
	}
	out := make([]*geo.Entity, 0, bj-bi)
	for _, w := range es[bi:bj] {
		out = append(out, w.e)
	}
	return out
}

// addressKey is an address without its room: the text before the first
// floor/room mark, for entities without a building.
func addressKey(a string) string {
	for _, m := range []string{"号楼", "栋", "幢", "单元", "层", "楼", "室", "附", "-"} {
		if i := strings.Index(a, m); i > 0 {
			a = a[:i]
		}
	}
	return a
}

// clusters: many entities registered at one building or address within
// ClusterDays.
func clusters(ents []wEnt, o WarningOptions) []Warning {
	byBld := map[string][]wEnt{}
	byAddr := map[string][]wEnt{}
	for _, w := range ents {
		if w.reg == noDate {
			continue
		}
		if w.e.BuildingID != "" {
			byBld[w.e.BuildingID] = append(byBld[w.e.BuildingID], w)
		} else if w.e.Address != "" {
			k := addressKey(w.e.Address)
			byAddr[k] = append(byAddr[k], w)
		}
	}
	groups := make(map[string][]wEnt, len(byAddr))
	for k, es := range byBld {
		if len(es) >= o.ClusterMin {
			groups["building:"+k] = es
		}
	}
	for k, es := range byAddr {
		if len(es) >= o.ClusterMin {
			groups["address:"+k] = es
		}
	}
	var out []Warning
	for k, es := range groups {
		if len(es) < o.ClusterMin {
			continue
		}
		best := densest(es, o.ClusterDays)
		if len(best) < o.ClusterMin {
			continue
		}
		first, last := regDay(best[0]), regDay(best[len(best)-1])
		w := Warning{ID: WarnCluster + ":" + k, Type: WarnCluster, Date: dayString(last), Location: centre(best), Key: k, Entities: ids(best),
			Detail: fmt.Sprintf("%d entities registered at one %s between %s and %s", len(best), strings.SplitN(k, ":", 2)[0], dayString(first), dayString(last))}
		if best[0].BuildingID != "" {
			w.BuildingID = best[0].BuildingID
		}
		w.GridID = best[0].GridID
		out = append(out, w)
	}
	return out
}

// zombies (under mu's read lock): operating entities older than
// ZombieDays with no record in it, no annual report and no employees.
func (e *Engine) zombies(ents []wEnt, today int32, o WarningOptions) []Warning {
	var out []Warning
	from := today - int32(o.ZombieDays)
	for _, w := range ents {
		x := w.e
		if !liveStatus(x.Status) || x.AnnualReport || w.reg == noDate || w.reg > from {
			continue
		}
		last, employed := w.reg, false
		for _, r := range e.recs[w.n] {
			if r.date != noDate && r.date <= today && r.date > last {
				last = r.date
			}
			if (r.kind == kOutput || r.kind == kSocialInsure) && r.aux > 0 && r.aux != noDate && r.date > from {
				employed = true
			}
		}
		if last > from || employed {
			continue
		}
		out = append(out, Warning{ID: WarnZombie + ":" + x.ID, Type: WarnZombie, Date: dayString(last + int32(o.ZombieDays)),
			Location: [2]float64{x.Location[0], x.Location[1]}, BuildingID: x.BuildingID, GridID: x.GridID, Entities: []string{x.ID},
			Detail: fmt.Sprintf("no department record, annual report or employee since %s (%d days)", dayString(last), today-last)})
	}
	return out
}

// licenceDue (under mu's read lock): licences expiring within
// LicenceDays, per grid.
func (e *Engine) licenceDue(ents []wEnt, today int32, o WarningOptions) []Warning {
	type hit struct {
		e   *geo.Entity
		id  string
		exp int32
	}
	grids := map[string][]hit{}
	for _, w := range ents {
		if !liveStatus(w.e.Status) {
			continue
		}
		best, bi := int32(noDate), -1
		for i, r := range e.recs[w.n] {
			if r.kind == kLicence && r.aux > best {
				best, bi = r.aux, i
			}
		}
		if bi < 0 || best < today || best > today+int32(o.LicenceDays) {
			continue
		}
		grids[w.e.GridID] = append(grids[w.e.GridID], hit{w.e, e.recordID(&e.recs[w.n][bi]), best})
	}
	var out []Warning
	for g, hs := range grids {
		sort.Slice(hs, func(i, j int) bool { return hs[i].exp < hs[j].exp || hs[i].exp == hs[j].exp && hs[i].id < hs[j].id })
		es := make([]*geo.Entity, len(hs))
		recs := make([]string, len(hs))
		for i, h := range hs {
			es[i], recs[i] = h.e, h.id
		}
		out = append(out, Warning{ID: WarnLicenceDue + ":" + g, Type: WarnLicenceDue, Date: dayString(hs[len(hs)-1].exp), Location: centre(es), GridID: g,
			Entities: ids(es), Records: recs, Detail: fmt.Sprintf("%d licences expire between %s and %s", len(hs), dayString(hs[0].exp), dayString(hs[len(hs)-1].exp))})
	}
	return out
}

// division returns the GB/T 4754 division of an industry (letter and two
// digits), "" when it has none.
func division(ind string) string {
	if len(ind) < 3 {
		return ""
	}
	return ind[:3]
}

// shifts: a grid whose share of new registrations in one division jumps
// against its own history.
func shifts(ents []wEnt, today int32, o WarningOptions) []Warning {
	type grid struct {
		recent, hist map[string][]*geo.Entity
		nr, nh       int
	}
	r0 := today - int32(o.ShiftRecentDays)
	h0 := r0 - int32(o.ShiftHistoryDays)
	grids := map[string]*grid{}
	for _, w := range ents {
		d, div := w.reg, division(w.e.Industry)
		if d == noDate || d > today || d <= h0 || div == "" || w.e.GridID == "" {
			continue
		}
		g := grids[w.e.GridID]
		if g == nil {
			g = &grid{recent: map[string][]*geo.Entity{}, hist: map[string][]*geo.Entity{}}
			grids[w.e.GridID] = g
		}
		if d > r0 {
			g.recent[div] = append(g.recent[div], w.e)
			g.nr++
		} else {
			g.hist[div] = append(g.hist[div], w.e)
			g.nh++
		}
	}
	var out []Warning
	for id, g := range grids {
		for div, es := range g.recent {
			if len(es) < o.ShiftMinCount {
				continue
			}
			share := float64(len(es)) / float64(g.nr)
			was := 0.0
			if g.nh > 0 {
				was = float64(len(g.hist[div])) / float64(g.nh)
			}
			if share-was < o.ShiftMinRise {
				continue
			}
			last := int32(noDate)
			for _, x := range es {
				last = max(last, regDay(x))
			}
			out = append(out, Warning{ID: WarnShift + ":" + id + ":" + div, Type: WarnShift, Date: dayString(last), Location: centre(es), GridID: id, Key: div, Entities: ids(es),
				Detail: fmt.Sprintf("division %s: %d of %d new registrations in %d days (%.0f %%), %.0f %% of %d in the %d days before", div, len(es), g.nr, o.ShiftRecentDays, share*100, was*100, g.nh, o.ShiftHistoryDays)})
		}
	}
	return out
}

// outOfArea: many entities whose investors come from one division outside
// the region, registered within OutOfAreaDays.
func outOfArea(ents []wEnt, o WarningOptions) []Warning {
	groups := map[string][]wEnt{}
	for _, w := range ents {
		d := w.e.Attrs[InvestorAttr]
		if d == "" || w.reg == noDate || hasPrefix(d, o.HomeDivisions) {
			continue
		}
		groups[d] = append(groups[d], w)
	}
	var out []Warning
	for d, es := range groups {
		if len(es) < o.OutOfAreaMin {
			continue
		}
		best := densest(es, o.OutOfAreaDays)
		if len(best) < o.OutOfAreaMin {
			continue
		}
		out = append(out, Warning{ID: WarnOutOfArea + ":" + d, Type: WarnOutOfArea, Date: dayString(regDay(best[len(best)-1])), Location: centre(best), Key: d, Entities: ids(best),
			Detail: fmt.Sprintf("%d entities with investors from division %s registered between %s and %s", len(best), d, dayString(regDay(best[0])), dayString(regDay(best[len(best)-1])))})
	}
	return out
}
