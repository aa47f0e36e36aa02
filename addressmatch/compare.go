package addressmatch

import (
	"strings"
	"sync"
	"unicode/utf8"

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
	sub       string // a sub-number of the road number: 附3号 → "3"
	poi       string
	subpoi    string
	houseno   string
	cellno    string
	floorno   string
	roomno    string
	gate      bool
	devzone   bool
	extra     string // names after the finest number, and text no span covers
	local     string // locality key: everything below the town
	// The province and city names of the admin division (the only parts
	// of Components.Admin a comparison or the database reads: a database
	// entry holding the whole Admin cost 128 bytes more an address).
	province, city string
}

var localityLabels = map[Label]bool{LabelCommunity: true, LabelVillageGroup: true, LabelRoad: true, LabelRoadNo: true,
	LabelPOI: true, LabelSubPOI: true, LabelHouseNo: true, LabelCellNo: true, LabelFloorNo: true, LabelRoomNo: true}

// fields returns the comparable form of c with the parser's options.
func (p *Parser) fields(c *Components) fields { return fieldsOf(c, !p.plainDash) }

// fieldsOf returns the comparable form of c. With dashFR, a bare N-N after
// a number (金开大道6号3-1) is floor N, room N, as 3楼1号 and 3层1室 are.
func fieldsOf(c *Components, dashFR bool) fields {
	f := fields{unit: c.unit, province: c.Admin.Province, city: c.Admin.City}
	var local strings.Builder
	var glued [2]string // a floor-room glued to a name
	labels := laneLabels(c.Spans)
	for k := 0; k < len(c.Spans); k++ {
		s := c.Spans[k]
		t := s.Text
		if localityLabels[s.Label] {
			local.WriteString(t)
		}
		lab := labels[k]
		switch lab {
		case LabelPOI, LabelSubPOI, LabelRoad, LabelCommunity, LabelDevzone:
			if f.floorno != "" || f.roomno != "" || f.cellno != "" {
				f.extra += t // 9层06室|ASDFGH: nothing is named after the room
				continue
			}
		}
		if lab == LabelPOI || lab == LabelSubPOI || lab == LabelRoomNo || lab == LabelHouseNo {
			// 附3号 (a sub-number), 6附|3号 (号 dropped from the road number),
			// 3-1 (floor-room): numbers, not names
			switch {
			case (t == "附" || t == "附属") && k+1 < len(c.Spans) && isNumberLabel(labels[k+1]):
				if f.sub == "" {
					f.sub = numKey(c.Spans[k+1].Text)
				}
				if localityLabels[c.Spans[k+1].Label] {
					local.WriteString(c.Spans[k+1].Text)
				}
				k++
				continue
			case strings.HasPrefix(t, "附") && allDigits(strings.TrimSuffix(strings.TrimPrefix(t, "附"), "号")):
				if f.sub == "" {
					f.sub = trimZeros(strings.TrimSuffix(strings.TrimPrefix(t, "附"), "号"))
				}
				continue
			case strings.HasSuffix(t, "附") && allDigits(strings.TrimSuffix(t, "附")) && f.road != "" && f.roadno == "" &&
				k+1 < len(c.Spans) && isNumberLabel(labels[k+1]):
				f.roadno = strings.TrimSuffix(t, "附")
				if localityLabels[c.Spans[k+1].Label] {
					local.WriteString(c.Spans[k+1].Text)
				}
				f.sub = numKey(c.Spans[k+1].Text)
				k++
				continue
			}
			if name, pair, ok := nameDashTail(t); ok && (lab == LabelPOI || lab == LabelSubPOI) {
				// 西区|22-4 glued into one name by the parse
				t = name
				if fl, rm, ok := dashPair(pair); ok && dashFR {
					glued = [2]string{fl, rm}
				} else {
					glued = [2]string{"", pair}
				}
			}
			if fl, rm, ok := dashPair(t); ok && lab != LabelHouseNo && f.floorno == "" && f.roomno == "" && (f.roadno != "" || f.houseno != "" || f.poi != "") {
				if dashFR {
					f.floorno, f.roomno = fl, rm
				} else {
					f.roomno = fl + "-" + rm
				}
				continue
			}
		}
		switch lab {
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
		case LabelDevzone:
			f.devzone = true
		case LabelVillageGroup:
			f.vgroup = t
		case LabelRoad:
			if f.road == "" {
				f.road = t
			}
		case LabelRoadNo:
			if f.roadno == "" {
				f.roadno = numKey(t)
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
			if h := numKey(t); f.houseno != "" && h != f.houseno {
				f.extra += t // 3栋…2号楼: a second, other building number
			} else {
				f.houseno = h
			}
		case LabelCellNo:
			f.cellno = numKey(t)
		case LabelFloorNo:
			f.floorno = trimZeros(numKey(t))
		case LabelRoomNo:
			f.roomno = trimZeros(numKey(t))
		}
	}
	if c.Admin.Town != "" {
		f.town = c.Admin.Town
	}
	if c.Admin.District != "" {
		f.district = c.Admin.District
	}
	if glued[1] != "" && f.floorno == "" && f.roomno == "" {
		f.floorno, f.roomno = glued[0], glued[1]
	}
	f.local = local.String()
	f.extra += c.Remainder
	return f
}

func isNumberLabel(l Label) bool {
	switch l {
	case LabelHouseNo, LabelRoomNo, LabelRoadNo, LabelCellNo:
		return true
	}
	return false
}

// allDigits: s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nameDashTail splits a name glued to a trailing N-N (西区22-4).
func nameDashTail(t string) (name, pair string, ok bool) {
	i := strings.LastIndexByte(t, '-')
	if i < 0 {
		return "", "", false
	}
	j := i
	for j > 0 && t[j-1] >= '0' && t[j-1] <= '9' {
		j--
	}
	if j == i || j == 0 || !allDigits(t[i+1:]) {
		return "", "", false
	}
	r, _ := utf8.DecodeLastRuneInString(t[:j])
	if r < 0x80 {
		return "", "", false
	}
	return t[:j], t[j:], true
}

// dashPair splits a bare "N-N" (or "N-N号") into its two numbers, leading
// zeros dropped.
func dashPair(t string) (string, string, bool) {
	t = strings.TrimSuffix(strings.TrimSuffix(t, "号"), "室")
	a, b, ok := strings.Cut(t, "-")
	if !ok || !allDigits(a) || !allDigits(b) {
		return "", "", false
	}
	return trimZeros(a), trimZeros(b), true
}

// trimZeros drops the leading zeros of a number: 05 and 5 name one room.
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" || !(t[0] >= '0' && t[0] <= '9') {
		return s
	}
	return t
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
	return diceFast(sa, sb) >= 0.6, true
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

// cmpCtx says how compareFields reads its two sides. The zero value is the
// symmetric comparison of [Parser.Compare]; DB.Check sets check, with a the
// query and b a registered address.
type cmpCtx struct {
	check bool
	// poiKnown: the query's place name is registered at its road number.
	poiKnown bool
	// roadKnown: the query's road name is registered (no typo to correct).
	roadKnown bool
}

// roadTypoEq: two road names of the same length differing in one character
// of the name, not of its suffix, and not a numeral or a direction: 金开大到
// for 金开大道 is a typo, 石船二路 and 石船一路, 洪湖东路 and 洪湖西路 are
// other roads.
func roadTypoEq(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) || len(ra) < 3 {
		return false
	}
	diff := -1
	for i := range ra {
		if ra[i] != rb[i] {
			if diff >= 0 {
				return false
			}
			diff = i
		}
	}
	if diff < 0 {
		return true
	}
	if diff >= len(ra)-1 {
		return false // the suffix (路/街/道)
	}
	const distinct = "一二三四五六七八九十百零0123456789东西南北中"
	if strings.ContainsRune(distinct, ra[diff]) || strings.ContainsRune(distinct, rb[diff]) {
		return false
	}
	return true
}

// compareFields is the component comparator of Compare and DB.Check.
//
// An address is anchored by its road and road number, or, without a road,
// by its named place (or its community). Only an anchored pair can reach
// LevelExact, and only when every finer component (sub-number, building,
// unit, floor, room, sub-place, gate) agrees. A road or road-number conflict
// vetoes any anchor; a place-name conflict vetoes same_building; a finer
// component given on one side only is same_building or same_poi, never exact.
func compareFields(a, b *fields) (Level, float64) { return compareFieldsCtx(a, b, cmpCtx{}) }

func compareFieldsCtx(a, b *fields, cx cmpCtx) (Level, float64) {
	fuzzy := 0
	// conflicting administrative units
	for _, l := range []AdminLevel{AdminProvince, AdminCity, AdminDistrict, AdminTown} {
		if a.unit[l] >= 0 && b.unit[l] >= 0 && a.unit[l] != b.unit[l] {
			return LevelDifferent, 0.05 + 0.1*diceFast(a.local, b.local)
		}
	}
	if a.unit[AdminDistrict] < 0 || b.unit[AdminDistrict] < 0 {
		if a.district != "" && b.district != "" && a.district != b.district {
			return LevelDifferent, 0.05 + 0.1*diceFast(a.local, b.local)
		}
	}
	roadEq := a.road != "" && a.road == b.road
	if !roadEq && a.road != "" && b.road != "" && !(cx.check && cx.roadKnown) && roadTypoEq(a.road, b.road) {
		roadEq = true
		fuzzy++
	}
	roadConflict := a.road != "" && b.road != "" && !roadEq
	roadnoConflict := roadEq && a.roadno != "" && b.roadno != "" && a.roadno != b.roadno
	roadnoEq := roadEq && a.roadno != "" && a.roadno == b.roadno
	poiEq, pfz := poiSim(a.poi, b.poi)
	if poiEq && pfz {
		fuzzy++
	}
	poiConflict := a.poi != "" && b.poi != "" && !poiEq
	commEq := a.community != "" && a.community == b.community
	anchor := roadnoEq || (poiEq && !roadConflict && !roadnoConflict)
	if !anchor && a.road == "" && b.road == "" && a.poi == "" && b.poi == "" && commEq &&
		(a.vgroup == b.vgroup) && (a.houseno != "" || a.vgroup != "") {
		anchor = true
	}
	var lvl Level
	switch {
	case anchor:
		// in a check the query may leave out a sub-place, or the building
		// number of a named building, that the registered address gives
		subOK := subpoiEq(a.subpoi, b.subpoi) || cx.check && a.subpoi == ""
		housenoOK := a.houseno == b.houseno || cx.check && a.houseno == "" && a.poi == "" && (b.poi != "" || b.devzone)
		fineEq := a.sub == b.sub && housenoOK && a.cellno == b.cellno && a.floorno == b.floorno &&
			a.roomno == b.roomno && a.gate == b.gate && a.vgroup == b.vgroup && subOK && a.extra == b.extra
		// a place name on one side only: in a check, the query may leave
		// out the name registered at the number, and may add one only if it
		// is registered there; in a comparison it is a finer component
		poiOK := poiEq || a.poi == "" && b.poi == ""
		if cx.check && roadnoEq && !poiOK && !poiConflict {
			poiOK = a.poi == "" || cx.poiKnown
		}
		// in a check the query's road must be the registered address's own
		roadOK := !cx.check || a.road == "" || roadnoEq
		switch {
		case fineEq && poiOK && roadOK:
			lvl = LevelExact
			if a.poi != b.poi && (a.poi == "" || b.poi == "") {
				fuzzy++ // rank the address that names the place first
			}
		case a.houseno == b.houseno && a.sub == b.sub && !poiConflict:
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
	score := 0.85*base + 0.15*diceFast(a.local, b.local) - 0.04*float64(fuzzy)
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

// subpoiEq compares the sub-places of two addresses (北区, 3期).
func subpoiEq(a, b string) bool {
	return a == b || a != "" && b != "" && Normalize(a) == Normalize(b)
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
	pairs := [...]struct {
		l    Label
		x, y string
	}{
		{LabelProvince, a.province, b.province},
		{LabelCity, a.city, b.city},
		{LabelDistrict, a.district, b.district},
		{LabelTown, a.town, b.town},
		{LabelCommunity, a.community, b.community},
		{LabelVillageGroup, a.vgroup, b.vgroup},
		{LabelRoad, a.road, b.road},
		{LabelRoadNo, a.roadno, b.roadno},
		{LabelPOI, a.poi, b.poi},
		{LabelHouseNo, a.houseno, b.houseno},
		{LabelCellNo, a.cellno, b.cellno},
		{LabelFloorNo, a.floorno, b.floorno},
		{LabelRoomNo, a.roomno, b.roomno},
	}
	n := 0
	for _, d := range pairs {
		if d.x != d.y {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]FieldDiff, 0, n) // one allocation of the size needed
	for _, d := range pairs {
		if d.x != d.y {
			out = append(out, FieldDiff{Label: d.l, A: d.x, B: d.y})
		}
	}
	return out
}

// Compare compares two addresses. Both are normalised and parsed first.
// It is safe for concurrent use.
//
// With a learned compare model (the embedded one, or Options.CompareModel;
// off with Options.NoModel or Options.NoCompareModel) the label is the
// model's, over the features of the rules' comparison, except that a road or
// road-number conflict still vetoes match. The level is the rules', kept
// consistent with the label; the score lies in the label's band (match ≥
// 0.7, partial in [0.35, 0.7), none < 0.35).
func (p *Parser) Compare(a, b string) Result {
	m := p.cmp.model()
	if m == nil {
		ea, eb := p.entityCached(a), p.entityCached(b)
		fa, fb := &ea.f, &eb.f
		lvl, score := compareFields(fa, fb)
		label, elvl, why := p.compareEntities(&ea, &eb, lvl)
		if label == Match && (compareVeto(&ea, &eb, why) || markupOneSide(a, b)) {
			label = Partial
			if levelRank(elvl) > levelRank(LevelSamePOI) {
				elvl = LevelSamePOI
			}
		}
		score = entityScore(label, elvl, score)
		return Result{Label: label, Level: elvl, Score: score, Diff: diffFields(fa, fb)}
	}
	f := p.cmp.feats.Get().(*pairFeats)
	ea, eb, _, _, rl, rlvl, why := p.comparePair(a, b, f)
	pr := softmax(m.predict(f))
	p.cmp.feats.Put(f)
	if markupOneSide(a, b) {
		why = "markup" // text that is no address after one side: not the same
	}
	return modelResult(&ea, &eb, rl, rlvl, why, pr)
}

// anchored: the address names something that places it (a road, a place, a
// community or village, a development zone), not only numbers (附3号, 3-1).
func anchored(f *fields) bool {
	return f.road != "" || f.poi != "" || f.subpoi != "" || f.community != "" || f.vgroup != "" || f.devzone
}

// finerOneSide: a sub-number, building, unit, floor or room is given on one
// side only (金开大道68号 / 金开大道68号3栋): the finer address lies inside
// the other, a partial match.
func finerOneSide(fa, fb *fields) bool {
	for _, x := range [...][2]string{{fa.sub, fb.sub}, {fa.houseno, fb.houseno}, {fa.cellno, fb.cellno}, {fa.floorno, fb.floorno}, {fa.roomno, fb.roomno}} {
		if (x[0] == "") != (x[1] == "") {
			return true
		}
	}
	return false
}

// finerInside: the two sides are anchored on one road and road number (or,
// without a road, one place name), the numbers they both give agree and
// their place names do not conflict: the side with a finer number lies
// inside the other. (Only there: in the training pairs a number on one side
// of a shop's or compound's name is as often a match as not.)
func finerInside(fa, fb *fields) bool {
	switch {
	case fa.road != "" || fb.road != "":
		if fa.road != fb.road || fa.roadno == "" || fa.roadno != fb.roadno {
			return false
		}
		if fa.poi != "" && fb.poi != "" {
			if eq, _ := poiSim(fa.poi, fb.poi); !eq {
				return false
			}
		}
	case fa.poi == "" || fa.poi != fb.poi:
		return false
	}
	for _, x := range [...][2]string{{fa.sub, fb.sub}, {fa.houseno, fb.houseno}, {fa.cellno, fb.cellno}, {fa.floorno, fb.floorno}, {fa.roomno, fb.roomno}} {
		if x[0] != "" && x[1] != "" && x[0] != x[1] {
			return false
		}
	}
	return true
}

// markupOneSide: one side carries markup or injected text the other does
// not (…人和大道132号<script>): it is not vouched for as the same address.
func markupOneSide(a, b string) bool {
	_, ma := markup(a)
	_, mb := markup(b)
	return ma != mb
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
	c := p.ruleParse(Normalize(s))
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

// DefaultParser returns a shared parser built with [DefaultOptions]: the
// national divisions, no region (build a Parser with Options.Region for
// one). It is built on first use and immutable afterwards.
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
