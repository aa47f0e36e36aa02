package addressmatch

import (
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// This file holds the entity-level comparator behind [Parser.Compare]. The
// component comparator (compareFields) answers "which components agree"; the
// entity comparator answers the GeoGLUE/CCKS2021 question "do both strings
// denote the same POI/AOI" with the label semantics of that task:
//
//   - match: the same entity, even when house numbers, floors or rooms differ
//     and even when one side gives the road and the other does not;
//   - partial: related places — one contains the other (a compound and a
//     building in it, a compound and one of its gates), two places at the same
//     road number or in the same compound, or only the road agrees;
//   - none: different places.
//
// Map-database candidates have a typical shape, "road + number + [assist] +
// name + (qualifier)". The qualifier in brackets is read before the brackets
// are normalised away: a gate (东门) makes the candidate a part of the
// entity, a branch (仙林店) or a road hint (友谊路) is not part of the name,
// anything else is an alias of the entity.

// parenInfo is what the bracketed qualifiers of an address say.
type parenInfo struct {
	gate    string   // (东门), (西北门), (东3门)
	aliases []string // other bracketed names (桥林医院)
}

// splitParens removes bracketed qualifiers from s and classifies them.
func splitParens(s string) (string, parenInfo) {
	var pi parenInfo
	if !strings.ContainsAny(s, "(（[【") {
		return s, pi
	}
	var main strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := cntext.FoldWidthRune(rs[i])
		if r != '(' && r != '[' && r != '【' {
			main.WriteRune(rs[i])
			continue
		}
		j := i + 1
		for j < len(rs) {
			c := cntext.FoldWidthRune(rs[j])
			if c == ')' || c == ']' || c == '】' {
				break
			}
			j++
		}
		inner := Normalize(string(rs[i+1 : j]))
		i = j
		switch {
		case inner == "":
		case isGateWord(inner):
			pi.gate = inner
		case isBranchWord(inner), isRoadHint(inner), strings.Contains(inner, "建设中"), strings.HasPrefix(inner, "原"):
		default:
			pi.aliases = append(pi.aliases, inner)
		}
	}
	return main.String(), pi
}

// placeLike: a name ending in a place suffix (小区, 大厦, 中心, 公司 …)
// after at least two characters, a gate word (门口, 东门) stripped first.
func (p *Parser) placeLike(name string) bool {
	if g := gateSuffix(name); g > 0 {
		rs := []rune(name)
		name = string(rs[:len(rs)-g])
	}
	for _, g := range []string{"门口", "大门", "门"} {
		if strings.HasSuffix(name, g) {
			name = strings.TrimSuffix(name, g)
			break
		}
	}
	rs := []rune(name)
	for L := min(p.maxSuf, len(rs)-2); L >= 1; L-- {
		if l, ok := p.suffix[string(rs[len(rs)-L:])]; ok && (l == LabelPOI || l == LabelDevzone || l == LabelSubPOI) {
			return true
		}
	}
	return false
}

// isSubNumberName: 附, 附3, 附3号, 6附 — the sub-number words a parse may
// leave labelled poi.
func isSubNumberName(t string) bool {
	if t == "附" || t == "附属" {
		return true
	}
	if strings.HasPrefix(t, "附") {
		return allDigits(strings.TrimSuffix(strings.TrimPrefix(t, "附"), "号"))
	}
	return strings.HasSuffix(t, "附") && allDigits(strings.TrimSuffix(t, "附"))
}

// isGateWord: 东门, 西北门, 东3门, 南2门, 正门, 北门口, 停车场入口.
func isGateWord(s string) bool {
	n := utf8.RuneCountInString(s)
	if n > 6 {
		return false
	}
	s = strings.TrimSuffix(s, "口")
	return strings.HasSuffix(s, "门") || strings.HasSuffix(s, "入") || strings.HasSuffix(s, "出入")
}

// isBranchWord: a branch qualifier of a chain store (仙林店, 学则路店, 总店).
func isBranchWord(s string) bool {
	return strings.HasSuffix(s, "店") || strings.HasSuffix(s, "分店") || strings.HasSuffix(s, "分部") || strings.HasSuffix(s, "营业部") || strings.HasSuffix(s, "分理处")
}

// isRoadHint: (友谊路), (燎原路东), (朝阳路辅路).
func isRoadHint(s string) bool {
	rs := []rune(s)
	n := len(rs)
	if n > 7 {
		return false
	}
	// strip a trailing direction / 辅路 / 口
	for n > 1 && strings.ContainsRune("东西南北侧段口", rs[n-1]) {
		n--
	}
	t := string(rs[:n])
	for _, w := range []string{"路", "街", "大道", "大街", "巷", "辅路"} {
		if strings.HasSuffix(t, w) && n > utf8.RuneCountInString(w) {
			return true
		}
	}
	return false
}

// entity is the entity-level view of one parsed address.
type entity struct {
	norm    string // the address normalised, brackets removed (what was parsed)
	f       fields
	names   []string // poi/subpoi/devzone names (gates removed), bracket aliases
	core    string   // the names concatenated, category words kept
	roads   []string // main roads (not the roads of an intersection description)
	roadNos map[string]string
	gate    string   // the gate named, "门" when unnamed
	allRds  []string // every road named, the roads of an intersection included
	near    bool     // the address is described relative to something (附近, 交叉口 …)
	houseno string
	section string   // a numbered or directional section of a compound (3区, 北区)
	nLast   int      // index in names of the last name of the main text
	comms   []string // community/village names: a compound, never the finest place
}

func (p *Parser) entityOf(s string) entity {
	main, pi := splitParens(s)
	norm := Normalize(main)
	c := p.ruleParse(norm)
	laneAsNumber(c.Spans)
	e := entity{norm: norm, f: p.fields(&c), gate: pi.gate, roadNos: map[string]string{}}
	if e.gate == "" && e.f.gate {
		e.gate = "门"
	}
	e.houseno = e.f.houseno
	var core strings.Builder
	spans := c.Spans
	for k, sp := range spans {
		switch sp.Label {
		case LabelPOI, LabelSubPOI:
			t := sp.Text
			if isSubNumberName(t) {
				continue // 附3号: a sub-number of the road number, not a name
			}
			if isGateWord(t) {
				e.gate = t
				continue
			}
			// a gate glued to the name: 华发九龙湾南门
			if g := gateSuffix(t); g > 0 {
				rs := []rune(t)
				e.gate = string(rs[len(rs)-g:])
				t = string(rs[:len(rs)-g])
			}
			// a shop or building number glued to the name: C7甜丫丫西点,
			// 德威御园20 (a number after the name is a building)
			t = strings.TrimLeft(t, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
			if u := strings.TrimRight(t, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"); u != t && utf8.RuneCountInString(u) >= 2 {
				if e.houseno == "" {
					e.houseno = t[len(u):]
				}
				t = u
			}
			if t == "" {
				continue
			}
			if (isNumericName(sp.Text) || isSectionName(sp.Text)) && strings.HasSuffix(sp.Text, "区") && e.section == "" {
				e.section = numKeyCN(sp.Text)
			}
			if isNumericName(t) || isSectionName(t) {
				continue
			}
			if len(e.names) == 0 || e.names[len(e.names)-1] != t {
				e.names = append(e.names, t)
			}
			core.WriteString(t)
		case LabelDevzone:
			e.names = append(e.names, sp.Text)
		case LabelCommunity:
			e.comms = append(e.comms, sp.Text)
		case LabelRoad:
			e.allRds = append(e.allRds, sp.Text)
			cross := k+1 < len(spans) && (spans[k+1].Label == LabelIntersection || spans[k+1].Label == LabelRoad) ||
				k > 0 && spans[k-1].Label == LabelRoad && k+1 < len(spans) && spans[k+1].Label == LabelIntersection
			if cross {
				e.near = true
				continue
			}
			e.roads = append(e.roads, sp.Text)
			if k+1 < len(spans) && spans[k+1].Label == LabelRoadNo {
				e.roadNos[sp.Text] = numKey(spans[k+1].Text)
			}
		case LabelAssist, LabelIntersection, LabelDistance:
			e.near = true
		}
	}
	e.nLast = len(e.names) - 1
	if e.nLast < 0 {
		e.nLast = 0
	}
	e.names = append(e.names, pi.aliases...)
	e.core = core.String()
	return e
}

// laneAsNumber rewrites, for comparison, a numbered lane on a road (振华路|
// 00弄|0号: road, road, roadno) as the road's number and a house number, so
// that 振华路00弄0号 and 振华路00弄 agree on the road number.
func laneAsNumber(spans []Span) {
	for k, l := range laneLabels(spans) {
		spans[k].Label = l
	}
}

// laneLabels returns the span labels with the rewrite of laneAsNumber.
func laneLabels(spans []Span) []Label {
	out := make([]Label, len(spans))
	for k := range spans {
		out[k] = spans[k].Label
	}
	for k := 1; k < len(spans); k++ {
		if out[k] != LabelRoad || out[k-1] != LabelRoad || !isLane(spans[k].Text) {
			continue
		}
		out[k] = LabelRoadNo
		if k+1 < len(spans) && out[k+1] == LabelRoadNo {
			out[k+1] = LabelHouseNo
		}
	}
	return out
}

// isLane: a numbered lane (00弄, 3巷) labelled as a road.
func isLane(t string) bool {
	rs := []rune(t)
	n := len(rs)
	if n < 2 || rs[n-1] != '弄' {
		return false
	}
	for _, r := range rs[:n-1] {
		if !isAlnum(r) && !cntext.IsNumeralRune(r) {
			return false
		}
	}
	return true
}

// gateSuffix returns the rune length of a gate word glued to the end of a
// longer name (华发九龙湾南门 → 2), or 0.
func gateSuffix(t string) int {
	rs := []rune(t)
	n := len(rs)
	if n < 4 || rs[n-1] != '门' {
		return 0
	}
	k := n - 1
	for k > 0 && n-k <= 3 && (strings.ContainsRune("东西南北正侧后", rs[k-1]) || isDigit(rs[k-1])) {
		k--
	}
	if k == n-1 || k < 2 {
		return 0
	}
	return n - k
}

// numKeyCN is the section key of a section name: 三区 and 3区 agree.
func numKeyCN(t string) string {
	return Normalize(t)
}

// isSectionName: 北区, 东区, 南校区 — a part of a compound named by a
// direction only.
func isSectionName(t string) bool {
	rs := []rune(t)
	if len(rs) < 2 || len(rs) > 4 {
		return false
	}
	k := 0
	for k < len(rs) && strings.ContainsRune("东西南北中上下前后内外新老", rs[k]) {
		k++
	}
	if k == 0 {
		return false
	}
	switch string(rs[k:]) {
	case "区", "校区", "院", "苑", "楼", "期", "座", "门", "侧", "面", "边":
		return true
	}
	return false
}

// isNumericName: 2期, A区, 12排 — a numbered part, not a name.
func isNumericName(t string) bool {
	rs := []rune(t)
	k := 0
	for k < len(rs) && (isAlnum(rs[k]) || rs[k] == '-' || cntext.IsNumeralRune(rs[k])) {
		k++
	}
	return k > 0 && len(rs)-k <= 1
}

// genericWords are category words that say what kind of place a name is but
// not which one; they are ignored when two names are compared.
var genericWords = []string{"有限责任公司", "股份有限公司", "有限公司", "分公司", "公司", "集团", "小区", "社区", "花园", "家园",
	"公寓", "大厦", "广场", "中心", "新村", "商场", "市场", "超市", "酒店", "宾馆", "医院", "学校", "幼儿园", "店", "厂"}

// distinctive strips the category word (小区, 工业区, 便利店 …, from the
// parser's suffix dictionary) and a leading province/city name from a name,
// leaving the part that says which place it is.
func (p *Parser) distinctive(s string) string {
	t := p.stripAdminPrefix(s)
	if !utf8.ValidString(t) {
		return p.distinctiveRunes(t)
	}
	// the same as distinctiveRunes on valid text, cut at byte offsets
	// without a rune slice or a string per suffix tried
	n := utf8.RuneCountInString(t)
	for _, w := range genericWords {
		if strings.HasSuffix(t, w) && n >= utf8.RuneCountInString(w)+2 {
			return t[:len(t)-len(w)]
		}
	}
	// cut(L): the byte offset of the last L runes of t
	cut := func(L int) int {
		i := len(t)
		for ; L > 0; L-- {
			_, sz := utf8.DecodeLastRuneInString(t[:i])
			i -= sz
		}
		return i
	}
	for L := p.maxSuf; L >= 2; L-- {
		if n < L+2 {
			continue
		}
		c := cut(L)
		if l, ok := p.suffix[t[c:]]; ok && (l == LabelPOI || l == LabelDevzone) {
			return t[:c]
		}
	}
	if n >= 4 {
		c := cut(1)
		if l, ok := p.suffix[t[c:]]; ok && l == LabelPOI {
			return t[:c]
		}
	}
	return t
}

// distinctiveRunes is distinctive on the runes of t (text that is not
// valid UTF-8: its bad bytes read as U+FFFD).
func (p *Parser) distinctiveRunes(t string) string {
	rs := []rune(t)
	for _, w := range genericWords {
		if strings.HasSuffix(string(rs), w) && len(rs) >= utf8.RuneCountInString(w)+2 {
			rs = rs[:len(rs)-utf8.RuneCountInString(w)]
			return string(rs)
		}
	}
	for L := p.maxSuf; L >= 2; L-- {
		if len(rs) < L+2 {
			continue
		}
		if l, ok := p.suffix[string(rs[len(rs)-L:])]; ok && (l == LabelPOI || l == LabelDevzone) {
			return string(rs[:len(rs)-L])
		}
	}
	if len(rs) >= 4 {
		if l, ok := p.suffix[string(rs[len(rs)-1:])]; ok && l == LabelPOI {
			return string(rs[:len(rs)-1])
		}
	}
	return string(rs)
}

// stripAdminPrefix drops a leading province/city/county name:
// 浙江省体育中心 → 体育中心.
func (p *Parser) stripAdminPrefix(s string) string {
	if utf8.ValidString(s) {
		// the same on valid text, by byte offsets: no rune slice, no string
		// per prefix tried
		var buf [64]int
		offs := buf[:0] // offs[L]: the byte offset of rune L
		for i := range s {
			offs = append(offs, i)
		}
		for L := len(offs) - 2; L >= 2; L-- {
			if refs, ok := p.dict.names[s[:offs[L]]]; ok {
				for _, ref := range refs {
					if p.dict.units[ref.unit].level <= AdminDistrict {
						return s[offs[L]:]
					}
				}
			}
		}
		return s
	}
	return p.stripAdminPrefixRunes(s)
}

// stripAdminPrefixRunes is stripAdminPrefix on the runes of s (text that
// is not valid UTF-8).
func (p *Parser) stripAdminPrefixRunes(s string) string {
	rs := []rune(s)
	for L := len(rs) - 2; L >= 2; L-- {
		if refs, ok := p.dict.names[string(rs[:L])]; ok {
			for _, ref := range refs {
				if p.dict.units[ref.unit].level <= AdminDistrict {
					return string(rs[L:])
				}
			}
		}
	}
	return s
}

// lcsLen is the length in runes of the longest common substring.
func lcsLen(a, b []rune) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	best := 0
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				if cur[j] > best {
					best = cur[j]
				}
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return best
}

// isSubsequence reports whether the runes of a occur in b in order.
func isSubsequence(a, b []rune) bool {
	k := 0
	for _, r := range b {
		if k < len(a) && a[k] == r {
			k++
		}
	}
	return k == len(a)
}

// bagOverlap is the number of runes of a that also occur in b (multiset).
func bagOverlap(a, b []rune) int {
	m := make(map[rune]int, len(b))
	for _, r := range b {
		m[r]++
	}
	n := 0
	for _, r := range a {
		if m[r] > 0 {
			m[r]--
			n++
		}
	}
	return n
}

// nameRel grades how strongly two names denote the same entity:
// 2 same entity, 1 related (a shared distinctive part), 0 unrelated.
func (p *Parser) nameRel(a, b string) int {
	if a == "" || b == "" {
		return 0
	}
	if a == b {
		return 2
	}
	// the whole names, admin prefix dropped: one inside the other
	if sa, sb := []rune(p.stripAdminPrefix(a)), []rune(p.stripAdminPrefix(b)); len(sa) >= 4 && len(sb) >= 4 {
		if m := min(len(sa), len(sb)); lcsLen(sa, sb) == m {
			return 2
		}
	}
	da, db := []rune(p.distinctive(a)), []rune(p.distinctive(b))
	short, long := len(da), len(db)
	if long < short {
		short, long = long, short
	}
	if short < 2 {
		return 0
	}
	l := lcsLen(da, db)
	switch {
	case l == short && short >= 3:
		return 2
	case l == short && short == 2:
		// a two-rune distinctive part (云兜便利店 / 云兜超市) only names the
		// same place with the same category word
		sa, sb := p.stripAdminPrefix(a), p.stripAdminPrefix(b)
		if strings.Contains(sa, sb) || strings.Contains(sb, sa) {
			return 2
		}
		return 1
	case short >= 4 && l >= short-1 && cntext.EditDistance(string(da), string(db), 1) <= 1:
		return 2
	}
	// an abbreviation keeps the characters of the full name in order and
	// starts like it: 南太批发市场 / 南太日用工业品批发市场, 财信国际 / 财信城市国际
	if sa, sb := []rune(p.stripAdminPrefix(a)), []rune(p.stripAdminPrefix(b)); min(len(sa), len(sb)) >= 4 && sa[0] == sb[0] {
		if len(sa) > len(sb) {
			sa, sb = sb, sa
		}
		if isSubsequence(sa, sb) {
			return 2
		}
	}
	// permuted or mistyped names: 涉外管理旅游学校 / 涉外旅游管理学校
	ov := bagOverlap(da, db)
	switch {
	case short >= 4 && l >= 2 && 5*ov >= 4*long:
		return 2
	case l >= 3 || (l == 2 && short == 2):
		return 1
	}
	return 0
}

// entityRel relates the names of both sides: fin reports that the finest
// names (the last one, or a bracketed alias) denote the same entity, comp that
// some name of one side is some name of the other (the same compound), rel1
// that two names share a distinctive part.
func (p *Parser) entityRel(a, b *entity) (fin, comp, rel1 bool) {
	if len(a.names)+len(a.comms) == 0 || len(b.names)+len(b.comms) == 0 {
		return
	}
	fa, fb := a.finest(), b.finest()
	for _, x := range fa {
		for _, y := range fb {
			if p.nameRel(x, y) == 2 {
				fin = true
			}
		}
	}
	for _, x := range a.names {
		for _, y := range b.names {
			switch p.nameRel(x, y) {
			case 2:
				comp = true
			case 1:
				rel1 = true
			}
		}
	}
	// a village or community named like a compound of the other side
	// (龙苑新寓2村 / 龙苑新寓, 福苑社区 / 福苑小区): the same compound
	for _, x := range a.comms {
		for _, y := range b.names {
			if p.nameRel(x, y) == 2 {
				comp = true
			}
		}
	}
	for _, x := range b.comms {
		for _, y := range a.names {
			if p.nameRel(x, y) == 2 {
				comp = true
			}
		}
	}
	return
}

// leadNumber is the leading digits of the finest number given without a
// road (a house, or a room when no house is named): 210-5号 → 210.
func leadNumber(e *entity) string {
	t := e.houseno
	if t == "" {
		t = e.f.roomno
	}
	k := 0
	for k < len(t) && t[k] >= '0' && t[k] <= '9' {
		k++
	}
	return t[:k]
}

// bareRoad: the address names a road and nothing finer.
func (e *entity) bareRoad() bool {
	return len(e.roads) > 0 && len(e.names) == 0 && len(e.roadNos) == 0 && e.houseno == "" && e.f.community == ""
}

// namesBusiness: the finest name is a shop, office or institution rather
// than a compound or building (大厦, 新寓, 广场): at a bare road number it is
// one of the places there, not the number itself.
func (e *entity) namesBusiness() bool {
	f := e.finest()
	if len(f) == 0 {
		return false
	}
	t := []rune(f[0])
	if strings.ContainsRune(compoundEnds, t[len(t)-1]) {
		return false
	}
	for _, w := range []string{"小区", "花园", "广场", "大厦", "公寓", "家园", "新村", "大楼", "商厦", "中心", "市场", "批发"} {
		if strings.HasSuffix(f[0], w) {
			return false
		}
	}
	return true
}

// compoundEnds are one-character endings of compound names (锦绣苑, 嘉园).
const compoundEnds = "苑园庭府居寓城湾墅坊里"

// finest returns the last name and the bracketed aliases.
func (e *entity) finest() []string {
	if len(e.names) == 0 {
		return nil
	}
	return append([]string{e.names[e.nLast]}, e.names[e.nLast+1:]...)
}

// sameRoad: equal names, or one ends with the other (菀坪创业路 / 创业路).
func sameRoad(x, y string) bool {
	if x == y {
		return true
	}
	if utf8.RuneCountInString(x) < utf8.RuneCountInString(y) {
		x, y = y, x
	}
	return utf8.RuneCountInString(y) >= 3 && strings.HasSuffix(x, y)
}

// sameNumberNearRoad: the same road number on two roads that differ only by
// a direction word (银泉路 / 银泉西路).
func sameNumberNearRoad(a, b *entity) bool {
	for x, nx := range a.roadNos {
		for y, ny := range b.roadNos {
			if nx == ny && nx != "" && roadDirVariant(x, y) {
				return true
			}
		}
	}
	return false
}

func roadDirVariant(x, y string) bool {
	rx, ry := []rune(x), []rune(y)
	if len(rx) < len(ry) {
		rx, ry = ry, rx
	}
	if len(rx) != len(ry)+1 || len(ry) < 3 {
		return false
	}
	for k := range rx {
		if strings.ContainsRune("东西南北中", rx[k]) && string(rx[:k])+string(rx[k+1:]) == string(ry) {
			return true
		}
	}
	return false
}

func anyRoadShared(x, y []string) bool {
	for _, a := range x {
		for _, b := range y {
			if sameRoad(a, b) {
				return true
			}
		}
	}
	return false
}

func roadsShare(a, b *entity) (ra, rb string, ok bool) {
	for _, x := range a.roads {
		for _, y := range b.roads {
			if sameRoad(x, y) {
				return x, y, true
			}
		}
	}
	return "", "", false
}

// compareEntities returns the task label, a level consistent with it and the
// name of the rule that decided (for tuning and debugging).
func (p *Parser) compareEntities(a, b *entity, lvl Level) (MatchLabel, Level, string) {
	if lvl == LevelDifferent && adminConflict(&a.f, &b.f) {
		return None, LevelDifferent, "admin-conflict"
	}
	fin, comp, _ := p.entityRel(a, b) // a weak name overlap alone is no relation
	ra, rb, roadEq := roadsShare(a, b)
	roadConflict := len(a.roads) > 0 && len(b.roads) > 0 && !roadEq
	if !roadConflict && !roadEq && len(a.allRds) > 0 && len(b.allRds) > 0 {
		// one side is placed by an intersection that does not involve the
		// other side's road
		roadConflict = !anyRoadShared(a.allRds, b.allRds)
	}
	noA, noB := a.roadNos[ra], b.roadNos[rb]
	roadNoEq := roadEq && noA != "" && noA == noB
	commEq := a.f.community != "" && a.f.community == b.f.community
	noNames := len(a.names) == 0 && len(b.names) == 0
	if lvl == LevelExact && noNames && a.gate == b.gate && len(a.roads) == len(b.roads) && a.f.community == b.f.community {
		return Match, LevelExact, "components-exact"
	}
	// two road numbers on the shared road that differ: another place
	roadNoConflict := roadEq && noA != "" && noB != "" && noA != noB
	switch {
	case (fin || comp) && (roadNoConflict || roadConflict && a.houseno != "" && a.houseno == b.houseno):
		// a name (or a building of it) on another road number or road is
		// at most related: a road or road-number conflict vetoes match
		if roadConflict && (a.namesBusiness() || b.namesBusiness()) {
			return None, LevelDifferent, "same-name-other-road"
		}
		return Partial, LevelSamePOI, "same-name-other-number"
	case fin || comp:
		switch {
		case a.houseno != "" && b.houseno != "":
			if a.houseno == b.houseno && a.section != "" && b.section != "" && a.section != b.section {
				// 飞龙1区5号楼 / 飞龙3区5号楼: one number in two sections of a
				// development, which are compounds of their own
				return None, LevelSamePOI, "same-name-other-section"
			}
			if a.houseno == b.houseno {
				return Match, LevelSameBuilding, "same-name-same-building"
			}
			return Partial, LevelSamePOI, "same-name-other-building"
		case a.houseno != "" || b.houseno != "":
			return Partial, LevelSamePOI, "same-name-one-building"
		}
		if roadConflict && (a.namesBusiness() || b.namesBusiness()) {
			// a shop name on another road is another branch
			return None, LevelDifferent, "same-name-other-road"
		}
		if roadConflict {
			// a compound reached from another road
			return Partial, LevelSamePOI, "same-compound-other-road"
		}
		if !fin || a.gate != b.gate {
			return Partial, LevelSamePOI, "same-compound-or-gate-or-road"
		}
		if a.f.cellno != "" || a.f.floorno != "" || a.f.roomno != "" {
			return Match, LevelSameBuilding, "same-name-finer-unit"
		}
		return Match, LevelExact, "same-name"
	case !roadEq && sameNumberNearRoad(a, b):
		// 银泉路27号 / 银泉西路27号: one number on the two ends of a road
		return Partial, LevelSameRoad, "number-on-road-variant"
	case roadNoEq:
		if len(a.names) == 0 && (a.houseno == "" || a.houseno == b.houseno) && !b.namesBusiness() {
			return Match, LevelSameBuilding, "same-road-number-no-name"
		}
		return Partial, LevelSamePOI, "same-road-number"
	case roadEq && (a.bareRoad() != b.bareRoad()) && !(a.f.unit[AdminDistrict] >= 0 && a.f.unit[AdminDistrict] == b.f.unit[AdminDistrict]):
		// one side is only a road: the place on it is not the road
		return None, LevelSameRoad, "bare-road"
	case roadEq && commEq && noNames && noA == noB && a.houseno == b.houseno:
		// 上沙东村二十一巷 / 福田区上沙东村21巷: a lane of a village
		return Match, LevelSameBuilding, "same-community-road"
	case roadEq:
		return Partial, LevelSameRoad, "same-road"
	case commEq && noNames && leadNumber(a) != "" && leadNumber(a) == leadNumber(b):
		// 五所村210号楼 / 五所村210-5号: one number in a village
		return Match, LevelSameBuilding, "same-community-number"
	case commEq:
		return Partial, LevelSameArea, "same-community"
	}
	if lvl == LevelSameArea {
		return None, LevelSameArea, "same-area"
	}
	return None, LevelDifferent, "different"
}

func adminConflict(a, b *fields) bool {
	for _, l := range []AdminLevel{AdminProvince, AdminCity, AdminDistrict, AdminTown} {
		if a.unit[l] >= 0 && b.unit[l] >= 0 && a.unit[l] != b.unit[l] {
			return true
		}
	}
	if a.unit[AdminDistrict] < 0 || b.unit[AdminDistrict] < 0 {
		if a.district != "" && b.district != "" && districtStem(a.district) != districtStem(b.district) {
			return true
		}
	}
	return false
}

// districtStem drops the level word of a district name (江宁县 / 江宁区,
// 龙华新区 / 龙华区 name one place).
func districtStem(s string) string {
	for _, w := range []string{"新区", "区", "县", "市", "旗"} {
		if strings.HasSuffix(s, w) && utf8.RuneCountInString(s) > utf8.RuneCountInString(w)+1 {
			return strings.TrimSuffix(s, w)
		}
	}
	return s
}
