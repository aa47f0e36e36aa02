package addressmatch

import (
	"strings"
	"sync"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// MatchLabel is the entity-level relation of two addresses, with the meaning
// of the CCKS2021/GeoGLUE address-matching task.
type MatchLabel string

// Match labels.
const (
	// Match: both strings denote the same place.
	Match MatchLabel = "match"
	// Partial: one contains the other, or they share the compound or road but
	// not the exact place.
	Partial MatchLabel = "partial"
	// None: unrelated places.
	None MatchLabel = "none"
)

// Level is the finest component level at which two addresses agree.
type Level string

// Comparison levels, from the most to the least specific.
const (
	LevelExact        Level = "exact"         // every component agrees
	LevelSameBuilding Level = "same_building" // same building, different unit/floor/room
	LevelSamePOI      Level = "same_poi"      // same compound or road number, different building
	LevelSameRoad     Level = "same_road"     // same road, different number/compound
	LevelSameArea     Level = "same_area"     // same community, town or district only
	LevelDifferent    Level = "different"     // nothing in common, or conflicting districts
)

func levelRank(l Level) int {
	switch l {
	case LevelExact:
		return 5
	case LevelSameBuilding:
		return 4
	case LevelSamePOI:
		return 3
	case LevelSameRoad:
		return 2
	case LevelSameArea:
		return 1
	}
	return 0
}

// FieldDiff is one component on which two addresses differ. An empty A or B
// means the component is absent on that side.
type FieldDiff struct {
	Label Label  `json:"label"`
	A     string `json:"a"`
	B     string `json:"b"`
}

// Result is the outcome of comparing two addresses.
type Result struct {
	Label MatchLabel  `json:"label"`
	Level Level       `json:"level"`
	Score float64     `json:"score"`
	Diff  []FieldDiff `json:"diff"`
}

// fields is the comparable form of a parsed address. Strings are normalised.
type fields struct {
	unit      [6]int32
	district  string // text when not resolved
	town      string
	community string
	vgroup    string
	road      string
	roadno    string
	poi       string
	subpoi    string
	houseno   string
	cellno    string
	floorno   string
	roomno    string
	gate      bool
	local     string // locality key: everything below the town
	admin     Admin
}

var localityLabels = map[Label]bool{LabelCommunity: true, LabelVillageGroup: true, LabelRoad: true, LabelRoadNo: true,
	LabelPOI: true, LabelSubPOI: true, LabelHouseNo: true, LabelCellNo: true, LabelFloorNo: true, LabelRoomNo: true}

func fieldsOf(c *Components) fields {
	f := fields{unit: c.unit, admin: c.Admin}
	var local strings.Builder
	labels := laneLabels(c.Spans)
	for k, s := range c.Spans {
		t := s.Text
		if localityLabels[s.Label] {
			local.WriteString(t)
		}
		switch labels[k] {
		case LabelDistrict:
			if f.district == "" {
				f.district = t
			}
		case LabelTown:
			if f.town == "" {
				f.town = t
			}
		case LabelCommunity:
			if f.community == "" {
				f.community = t
			}
		case LabelVillageGroup:
			f.vgroup = t
		case LabelRoad:
			if f.road == "" {
				f.road = t
			}
		case LabelRoadNo:
			if f.roadno == "" {
				f.roadno = t
			}
		case LabelPOI:
			if f.poi == "" {
				f.poi = t
			}
		case LabelSubPOI:
			if strings.HasSuffix(t, "门") || strings.HasSuffix(t, "门口") {
				f.gate = true
			} else if f.subpoi == "" {
				f.subpoi = t
			}
		case LabelHouseNo:
			f.houseno = numKey(t)
		case LabelCellNo:
			f.cellno = numKey(t)
		case LabelFloorNo:
			f.floorno = numKey(t)
		case LabelRoomNo:
			f.roomno = numKey(t)
		}
	}
	if c.Admin.Town != "" {
		f.town = c.Admin.Town
	}
	if c.Admin.District != "" {
		f.district = c.Admin.District
	}
	f.local = local.String()
	return f
}

// numKey strips the unit word of a number component: "3栋" → "3".
func numKey(s string) string {
	rs := []rune(s)
	j := len(rs)
	for j > 0 && !isAlnum(rs[j-1]) {
		j--
	}
	if j == 0 {
		return s
	}
	return string(rs[:j])
}

// nameEq compares two names with one-typo tolerance for names of 3+ runes.
// It returns (equal, fuzzy).
func nameEq(a, b string) (bool, bool) {
	if a == "" || b == "" {
		return false, false
	}
	if a == b {
		return true, false
	}
	la, lb := len([]rune(a)), len([]rune(b))
	if la >= 3 && lb >= 3 && cntext.EditDistance(a, b, 1) <= 1 {
		return true, true
	}
	return false, false
}

// poiSim reports whether two compound/POI names plausibly denote the same place.
func poiSim(a, b string) (bool, bool) {
	if eq, fz := nameEq(a, b); eq {
		return true, fz
	}
	if a == "" || b == "" {
		return false, false
	}
	sa, sb := stripGeneric(a), stripGeneric(b)
	if sa == sb && len([]rune(sa)) >= 2 {
		return true, true
	}
	short, long := sa, sb
	if len(short) > len(long) {
		short, long = long, short
	}
	if len([]rune(short)) >= 3 && strings.Contains(long, short) {
		return true, true
	}
	return dice(sa, sb) >= 0.6, true
}

func stripGeneric(s string) string {
	for _, suf := range []string{"小区", "花园", "公寓", "大厦", "家园", "新村", "社区"} {
		if strings.HasSuffix(s, suf) && len([]rune(s)) > len([]rune(suf))+1 {
			return strings.TrimSuffix(s, suf)
		}
	}
	return s
}

// dice is the Sørensen–Dice coefficient over rune bigrams.
func dice(a, b string) float64 {
	ga, gb := bigrams(a), bigrams(b)
	if len(ga) == 0 || len(gb) == 0 {
		if a == b {
			return 1
		}
		return 0
	}
	m := make(map[string]int, len(ga))
	for _, g := range ga {
		m[g]++
	}
	inter := 0
	for _, g := range gb {
		if m[g] > 0 {
			m[g]--
			inter++
		}
	}
	return 2 * float64(inter) / float64(len(ga)+len(gb))
}

func bigrams(s string) []string {
	rs := []rune(s)
	if len(rs) < 2 {
		if len(rs) == 1 {
			return []string{s}
		}
		return nil
	}
	out := make([]string, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}

// compareFields is the comparator shared by Compare and DB.Check.
func compareFields(a, b *fields) (Level, float64) {
	fuzzy := 0
	// conflicting administrative units
	for _, l := range []AdminLevel{AdminProvince, AdminCity, AdminDistrict, AdminTown} {
		if a.unit[l] >= 0 && b.unit[l] >= 0 && a.unit[l] != b.unit[l] {
			return LevelDifferent, 0.05 + 0.1*dice(a.local, b.local)
		}
	}
	if a.unit[AdminDistrict] < 0 || b.unit[AdminDistrict] < 0 {
		if a.district != "" && b.district != "" && a.district != b.district {
			return LevelDifferent, 0.05 + 0.1*dice(a.local, b.local)
		}
	}
	roadEq, fz := nameEq(a.road, b.road)
	if fz {
		fuzzy++
	}
	roadnoEq := roadEq && a.roadno != "" && a.roadno == b.roadno
	poiEq, pfz := poiSim(a.poi, b.poi)
	if poiEq && pfz {
		fuzzy++
	}
	commEq := a.community != "" && a.community == b.community
	anchor := roadnoEq || poiEq
	if !anchor && a.road == "" && b.road == "" && a.poi == "" && b.poi == "" && commEq &&
		(a.vgroup == b.vgroup) && (a.houseno != "" || a.vgroup != "") {
		anchor = true
	}
	// a road number on both sides that differs contradicts a POI match
	if poiEq && roadEq && a.roadno != "" && b.roadno != "" && a.roadno != b.roadno {
		anchor = false
	}
	var lvl Level
	switch {
	case anchor:
		fineEq := a.houseno == b.houseno && a.cellno == b.cellno && a.floorno == b.floorno && a.roomno == b.roomno
		switch {
		case fineEq && a.gate == b.gate && (a.vgroup == b.vgroup):
			lvl = LevelExact
		case a.houseno == b.houseno:
			lvl = LevelSameBuilding
		default:
			lvl = LevelSamePOI
		}
	case roadEq:
		lvl = LevelSameRoad
	case commEq || (a.town != "" && a.town == b.town) || (a.unit[AdminDistrict] >= 0 && a.unit[AdminDistrict] == b.unit[AdminDistrict]):
		lvl = LevelSameArea
	default:
		lvl = LevelDifferent
	}
	base := map[Level]float64{LevelExact: 1, LevelSameBuilding: 0.85, LevelSamePOI: 0.7, LevelSameRoad: 0.5, LevelSameArea: 0.3, LevelDifferent: 0.05}[lvl]
	score := 0.85*base + 0.15*dice(a.local, b.local) - 0.04*float64(fuzzy)
	if lvl == LevelSameArea && commEq {
		score += 0.05
	}
	if score < 0 {
		score = 0
	}
	if score > 1 {
		score = 1
	}
	return lvl, score
}

func labelFor(lvl Level, a, b *fields) MatchLabel {
	switch lvl {
	case LevelExact, LevelSameBuilding:
		return Match
	case LevelSamePOI, LevelSameRoad:
		return Partial
	case LevelSameArea:
		if a.community != "" && a.community == b.community {
			return Partial
		}
	}
	return None
}

func diffFields(a, b *fields) []FieldDiff {
	var out []FieldDiff
	add := func(l Label, x, y string) {
		if x != y {
			out = append(out, FieldDiff{Label: l, A: x, B: y})
		}
	}
	add(LabelProvince, a.admin.Province, b.admin.Province)
	add(LabelCity, a.admin.City, b.admin.City)
	add(LabelDistrict, a.district, b.district)
	add(LabelTown, a.town, b.town)
	add(LabelCommunity, a.community, b.community)
	add(LabelVillageGroup, a.vgroup, b.vgroup)
	add(LabelRoad, a.road, b.road)
	add(LabelRoadNo, a.roadno, b.roadno)
	add(LabelPOI, a.poi, b.poi)
	add(LabelHouseNo, a.houseno, b.houseno)
	add(LabelCellNo, a.cellno, b.cellno)
	add(LabelFloorNo, a.floorno, b.floorno)
	add(LabelRoomNo, a.roomno, b.roomno)
	return out
}

// Compare compares two addresses. Both are normalised and parsed first.
// It is safe for concurrent use.
func (p *Parser) Compare(a, b string) Result {
	ea, eb := p.entityOf(a), p.entityOf(b)
	fa, fb := &ea.f, &eb.f
	lvl, score := compareFields(fa, fb)
	label, elvl, _ := p.compareEntities(&ea, &eb, lvl)
	score = entityScore(label, elvl, score)
	return Result{Label: label, Level: elvl, Score: score, Diff: diffFields(fa, fb)}
}

// compareWhy is Compare with the rule that decided (for tuning).
func (p *Parser) compareWhy(a, b string) (MatchLabel, string) {
	ea, eb := p.entityOf(a), p.entityOf(b)
	lvl, _ := compareFields(&ea.f, &eb.f)
	l, _, why := p.compareEntities(&ea, &eb, lvl)
	return l, why
}

// Canonical returns the normalised address with omitted higher administrative
// levels filled in from the hierarchy: "渝北区金开大道六十八号" →
// "重庆市渝北区金开大道68号". Safe for concurrent use.
func (p *Parser) Canonical(s string) string {
	c := p.Parse(Normalize(s))
	return canonicalOf(&c)
}

func canonicalOf(c *Components) string {
	var b strings.Builder
	a := c.Admin
	for _, x := range []string{a.Province, a.City, a.District, a.Town} {
		if x != "" && !strings.HasSuffix(b.String(), x) {
			b.WriteString(x)
		}
	}
	// keep the text from the first non-admin span on
	for _, s := range c.Spans {
		switch s.Label {
		case LabelProvince, LabelCity, LabelDistrict:
			continue
		case LabelTown:
			if a.Town != "" {
				continue
			}
		}
		b.WriteString(s.Text)
	}
	return b.String()
}

var defaultParser = sync.OnceValues(func() (*Parser, error) { return NewParser(DefaultOptions()) })

// DefaultParser returns a shared parser built with [DefaultOptions]. It is
// built on first use and immutable afterwards.
func DefaultParser() (*Parser, error) { return defaultParser() }

// Compare compares two addresses with the shared default parser. See
// [Parser.Compare].
func Compare(a, b string) Result {
	p, err := defaultParser()
	if err != nil {
		return Result{Label: None, Level: LevelDifferent}
	}
	return p.Compare(a, b)
}

// entityScore keeps the component score but moves it into the band of the
// entity label: match ≥ 0.7, partial in [0.35, 0.7), none < 0.35.
func entityScore(l MatchLabel, lvl Level, s float64) float64 {
	lo, hi := 0.0, 0.35
	switch l {
	case Match:
		lo, hi = 0.7, 1
	case Partial:
		lo, hi = 0.35, 0.7
	}
	if lvl == LevelExact && l == Match && s < 0.85 {
		s = 0.85
	}
	if s < lo {
		s = lo + 0.1*(hi-lo)*s
	}
	if s >= hi {
		s = hi - 0.01*(1-s)
		if l == Match {
			s = hi - 0.05*(1-s)
		}
	}
	return s
}
