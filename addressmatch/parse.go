package addressmatch

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// Parser parses addresses into components. It is immutable after
// construction and safe for concurrent use by any number of goroutines.
type Parser struct {
	dict      *adminDict
	suffix    map[string]Label
	maxSuf    int
	sufMax    [1024]uint8 // longest suffix word ending in a rune (by rune mod 1024): a filter
	admMax    []uint8     // longest admin name starting with a bigram (by bigramSlot): a filter
	maxRunes  int
	plainDash bool
	models    *modelSet // nil: rules alone
	cmp       *cmpModel // nil: Compare on the rules alone
}

// NewParser builds a parser with the embedded national divisions and the
// units of opts.Region merged into them (see [Options]).
func NewParser(opts Options) (*Parser, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxRunes == 0 {
		opts.MaxRunes = 200
	}
	d, err := loadAdminDict(opts.Region, opts.SkipCommunities)
	if err != nil {
		return nil, err
	}
	p := &Parser{dict: d, suffix: make(map[string]Label, 256), maxRunes: opts.MaxRunes, plainDash: opts.PlainDashRoom}
	switch {
	case opts.NoModel:
	case opts.ParseModel != nil:
		p.models = &modelSet{fixed: opts.ParseModel}
	default:
		p.models = &modelSet{}
	}
	if !opts.NoModel && !opts.NoCompareModel {
		p.cmp = newCmpModel(opts.CompareModel)
	}
	add := func(l Label, words string) {
		for _, w := range strings.Fields(words) {
			p.suffix[w] = l
			if n := utf8.RuneCountInString(w); n > p.maxSuf {
				p.maxSuf = n
			}
		}
	}
	add(LabelRoad, "路 街 大道 大街 巷 弄 胡同 公路 环路 道 乡道 一路 二路 三路 弄堂 高速 国道 省道 县道 支路 横路 街巷 东路 西路 南路 北路 中路")
	add(LabelTown, "镇 街道 乡 街道办事处 街道办 街办 街办事处 民族乡 开发区街道")
	add(LabelCommunity, "村 社区 村委 村委会 行政村 居委会 村民委员会 居民委员会 自然村 社区居委会 村村委")
	add(LabelVillageGroup, "村民组 村民小组")
	add(LabelDevzone, "开发区 经济开发区 创意园 文创园 创意产业园 加工区 出口加工区 经济技术开发区 高新区 高新技术开发区 高新技术产业开发区 工业区 工业园 工业园区 园区 科技园 科技园区 产业园 产业园区 新区 保税区 综合保税区 示范区 化工区 物流园 物流园区 创业园 软件园 电子商务园 自贸区 试验区 经济区 工业集中区 功能区 高新技术产业园 工业功能区 经济园区 商务区 总部基地")
	add(LabelIntersection, "交叉口 交汇处 交界处 十字路口 丁字路口 路口 交口 街口")
	add(LabelPOI, "集团公司 集团有限公司 集团股份有限公司 股份有限公司 有限责任公司 小区 花园 大厦 广场 中心 公寓 苑 城 园 府 庭 家园 新村 公司 有限公司 厂 店 医院 学校 中学 小学 大学 学院 幼儿园 银行 支行 宾馆 酒店 饭店 市场 超市 商场 大楼 楼 站 馆 院 局 所 部 处 库 仓 仓库 厅 湾 庄 山庄 墅 别墅 都 阁 居 坊 大院 集团 基地 码头 机场 车站 商城 商厦 门市 专柜 柜 会所 俱乐部 工作室 办公室 行 场 司 厦 心 寓 学 校 区 期 塔 公馆 名邸 雅苑 花苑 嘉园 佳园 名苑 华庭 中专 职高 公园 宿舍 食堂 诊所 药房 药店 门诊 卫生院 派出所 政府 委员会 管委会 服务区 加油站 停车场 菜场 菜市场 大酒店 网吧 书店 影院 剧院 体育馆 图书馆 博物馆 景区 寺 庙 教堂 营业厅 营业部 分公司 事务所 研究所 专卖店 旗舰店 分店 总店 门面 商铺 商行 经营部 批发部 厂房 车间 农场 林场 养殖场 汽车城 家具城 建材城 商贸城 物流中心 写字楼 商务楼 办公楼 综合楼 门卫 保安室 传达室")
	add(LabelSubPOI, "门 东门 西门 南门 北门 正门 大门 侧门 后门 东南门 东北门 西南门 西北门 门口")
	p.buildFilters()
	return p, nil
}

// admTop is the longest administrative name that may start at rune k of
// st (ending by n): every name of two or more runes starting at k is at
// most this long. Zero when no name of two or more runes can start there.
func (p *Parser) admTop(st *parseState, k, n int) int {
	if k < 0 || k+1 >= n {
		return 0
	}
	return min(p.dict.maxLen, n-k, int(p.admMax[bigramSlot(st.f[k], st.f[k+1])]))
}

// admMaxSlots is the size of Parser.admMax.
const admMaxSlots = 1 << 16

// bigramSlot is the slot of the runes a, b in Parser.admMax.
func bigramSlot(a, b rune) uint32 {
	return uint32((uint64(uint32(a))<<32|uint64(uint32(b)))*0x9E3779B97F4A7C15>>48) % admMaxSlots
}

// buildFilters fills the parser's look-up filters: for every rune (modulo
// the table), the longest suffix word ending in it, and for every bigram
// slot the longest administrative name starting with it (capped at 255).
// They only skip look-ups that cannot hit: a collision makes a filter let
// more through, never less.
func (p *Parser) buildFilters() {
	for w := range p.suffix {
		rs := []rune(w)
		k := uint32(rs[len(rs)-1]) % uint32(len(p.sufMax))
		p.sufMax[k] = max(p.sufMax[k], uint8(min(len(rs), 255)))
	}
	p.admMax = make([]uint8, admMaxSlots)
	for name := range p.dict.names {
		r0, n0 := utf8.DecodeRuneInString(name)
		if n0 == len(name) {
			continue // one rune: looked up from two on
		}
		r1, _ := utf8.DecodeRuneInString(name[n0:])
		k := bigramSlot(r0, r1)
		p.admMax[k] = max(p.admMax[k], uint8(min(utf8.RuneCountInString(name), 255)))
	}
}

// MaxRunes returns the configured maximum address length in runes.
func (p *Parser) MaxRunes() int { return p.maxRunes }

var assistWords = map[string]bool{
	"附近": true, "旁边": true, "对面": true, "斜对面": true, "隔壁": true, "后面": true, "后侧": true, "楼下": true,
	"楼上": true, "院内": true, "东侧": true, "西侧": true, "南侧": true, "北侧": true, "东面": true, "西面": true,
	"南面": true, "北面": true, "东边": true, "西边": true, "南边": true, "北边": true, "往东": true, "往西": true,
	"往南": true, "往北": true, "向东": true, "向西": true, "向南": true, "向北": true, "东南角": true, "西南角": true,
	"东北角": true, "西北角": true, "对过": true, "里面": true, "周边": true, "一带": true, "左侧": true, "右侧": true,
	"左转": true, "右转": true, "到头": true, "尽头": true, "东段": true, "西段": true, "南段": true, "北段": true, "中段": true,
}

var directionWords = map[string]bool{"东": true, "西": true, "南": true, "北": true, "东南": true, "东北": true, "西南": true, "西北": true, "中": true}

// shortRejectPrefixes: an abbreviation (陕西, 上海) followed by one of these
// is part of a road or place name (陕西南路, 上海城), not an admin unit.
var shortRejectPrefixes = []string{"路", "街", "大道", "大街", "道", "巷", "弄", "城", "广场", "花园", "小区", "大厦", "商场", "商城",
	"饭店", "酒店", "宾馆", "大学", "中学", "小学", "学院", "医院", "公园", "站", "机场", "银行", "公司", "厂", "店", "湾", "村",
	"桥", "港", "苑", "园", "国际", "新村", "商厦", "大楼", "中心", "饭庄", "菜", "人家", "会馆", "大酒店", "楼", "里", "坊"}

// parseState carries the scanner state of one Parse call.
type parseState struct {
	f       []rune   // folded runes
	boff    []int    // byte offset of each rune in fstr, len(f)+1 entries
	fstr    string   // folded string
	raw     string   // input string
	rboff   []int    // byte offsets in raw
	spans   []Span   //
	unit    [6]int32 // resolved units per level
	pending []int32  // ambiguous candidates of the last admin match
	pendLvl AdminLevel
	deepest AdminLevel
	open    bool // admin matching still allowed
	hasPoi  bool
	roadNo  bool // a roadno follows the last road
	last    Label
	issues  []string
	offBuf  []int // backing of boff and rboff (reused by parseRulesInto)
}

func isSep(r rune) bool { return cntext.IsSpaceOrPunct(r) || r == '-' && false }

// Parse splits an address into labelled components. Offsets refer to s as
// given (runes, not bytes); s is not normalised first, so that spans can be
// shown on the clerk's own text. Parse never fails and never panics; very
// long input is parsed in full but spans are only looked for in the first
// 4096 runes.
//
// Parse is safe for concurrent use.
func (p *Parser) Parse(s string) Components {
	m := p.models.parse()
	if m == nil {
		return p.finish(p.parseRules(s))
	}
	// with the model the rule parse is an intermediate: its state and
	// buffers come from the model's scratch pool (Components keeps none
	// of them: relabel returns new spans), so a call allocates little and
	// the garbage collector seldom runs beside it
	sc := m.getScratch()
	defer m.pool.Put(sc)
	st := p.parseRulesInto(&sc.st, s)
	rules := st.spans
	st.spans = m.relabelWith(p, st, sc)
	c := p.finish(st)
	st.spans = rules // the rules' buffer stays with the scratch, c keeps the model's spans
	return c
}

// ruleParse is Parse with the rules alone. The check and Compare read it:
// their veto rules (a road or road-number conflict, a sub-number tail) are
// defined over the rules' labels, which the learned model does not keep.
func (p *Parser) ruleParse(s string) Components { return p.finish(p.parseRules(s)) }

// parseRules runs the rule parser and returns its state before finish.
func (p *Parser) parseRules(s string) *parseState {
	return p.parseRulesInto(&parseState{}, s)
}

// parseRulesInto is parseRules into st, whose buffers (runes, offsets,
// spans, pending candidates) it reuses; the spans it leaves in st share
// that buffer, so a caller that reuses st must not keep them.
func (p *Parser) parseRulesInto(st *parseState, s string) *parseState {
	*st = parseState{raw: s, f: st.f[:0], spans: st.spans[:0], pending: st.pending[:0], offBuf: st.offBuf}
	for i := range st.unit {
		st.unit[i] = -1
	}
	st.open = true
	// one allocation (or none, reused) for the runes and one for both
	// offset tables (they grew by appending before: a dozen allocations)
	nr := utf8.RuneCountInString(s)
	st.f = slices.Grow(st.f, nr)
	if cap(st.offBuf) < 2*(nr+1) {
		st.offBuf = make([]int, 2*(nr+1))
	}
	offs := st.offBuf[:2*(nr+1)]
	st.rboff = offs[0 : 0 : nr+1]
	st.boff = offs[nr+1 : nr+1 : 2*(nr+1)]
	var fb strings.Builder
	fb.Grow(len(s))
	for bi, r := range s {
		st.rboff = append(st.rboff, bi)
		st.boff = append(st.boff, fb.Len())
		fr := cntext.FoldRune(r)
		st.f = append(st.f, fr)
		fb.WriteRune(fr)
	}
	st.rboff = append(st.rboff, len(s))
	st.boff = append(st.boff, fb.Len())
	st.fstr = fb.String()
	n := len(st.f)
	if n > 4096 {
		n = 4096
	}
	for i := 0; i < n; {
		r := st.f[i]
		if cntext.IsSpaceOrPunct(r) || r == '-' || r == '#' {
			i++
			continue
		}
		if st.open {
			if j, ok := p.orgWithAdminPrefix(st, i, n); ok {
				st.emit(LabelPOI, i, j)
				i = j
				continue
			}
			if j, ok := p.matchAdmin(st, i, n); ok {
				i = j
				continue
			}
		}
		if r == '第' && i+1 < n {
			// 第三期, 第00栋: the ordinal prefix belongs to the number
			if j, l, ok := p.matchNumber(st, i+1, n); ok {
				st.emit(l, i, j)
				i = j
				continue
			}
		}
		if st.last != "" && p.noteAt(st, i, n) {
			break // a note to the courier (可开箱验货, 急件及时派送): not address text
		}
		if j, l, ok := p.matchNumber(st, i, n); ok {
			st.emit(l, i, j)
			i = j
			continue
		}
		if st.last != "" {
			if j, ok := p.matchAssist(st, i, n); ok {
				st.emit(LabelAssist, i, j)
				i = j
				continue
			}
		}
		if j, ok := p.skipJunk(st, i, n); ok {
			i = j
			continue
		}
		if st.open && st.ftext(i, min(i+2, n)) == "中国" && p.provinceAt(st, i+2, n) {
			i += 2 // …江北区中国浙江省金华市…: a second address restarting at 中国
			continue
		}
		if st.open && isAlnum(r) {
			// AAAA浙江温州市…: a run of letters glued before a division name is noise
			if j, digits, letters, _ := numberRun(st.f, i, n); letters && !digits && j-i >= 2 {
				if k, ok := p.matchAdmin(st, j, n); ok {
					i = k
					continue
				}
			}
		}
		if st.last == LabelRoad && (r == '与' || r == '和' || r == '及' || r == '、') {
			i++
			continue
		}
		j, l := p.chunk(st, i, n)
		if l == LabelDevzone && st.mergeZone(i, j) {
			i = j
			continue
		}
		if l == LabelPOI && p.bareVillage(st, i, j, n) {
			l = LabelCommunity
		}
		if l == LabelRoad && p.villageBeforeRoad(st, i, j) {
			// 莘塍镇|周田|人民路: a two-character village between a town and its road
			st.emit(LabelCommunity, i, i+2)
			i += 2
		}
		if l == LabelRoad {
			if m := p.placeBeforeRoad(st, i, j); m > i {
				st.emit(LabelPOI, i, m) // 印象城|钱湖北路: a place name glued before the road
				i = m
			}
			j = roadSectionEnd(st, j, n)
		}
		st.emit(l, i, j)
		i = j
	}
	return st
}

func (st *parseState) text(i, j int) string { return st.raw[st.rboff[i]:st.rboff[j]] }
func (st *parseState) ftext(i, j int) string {
	return st.fstr[st.boff[i]:st.boff[j]]
}

func (st *parseState) emit(l Label, i, j int) {
	if j <= i {
		return
	}
	switch l {
	case LabelPOI:
		if st.hasPoi && (st.last != LabelAssist || st.insideAssist()) {
			// a place inside the previous one; after 对面/旁边 it is a place of its own
			l = LabelSubPOI
		}
		st.hasPoi = true
		st.open = false
	case LabelSubPOI:
		if !st.hasPoi {
			l = LabelPOI
			st.hasPoi = true
		}
		st.open = false
	case LabelRoad:
		st.roadNo = false
		st.open = false
	case LabelRoadNo:
		st.roadNo = true
		st.open = false
	case LabelTown:
		if st.deepest < AdminTown {
			st.deepest = AdminTown
		}
	case LabelCommunity:
		if st.deepest < AdminCommunity {
			st.deepest = AdminCommunity
		}
	case LabelDevzone, LabelProvince, LabelCity, LabelDistrict:
	default:
		st.open = false
	}
	st.last = l
	if st.spans == nil {
		st.spans = make([]Span, 0, 8) // one allocation for most addresses
	}
	st.spans = append(st.spans, Span{Label: l, Text: st.text(i, j), Start: i, End: j})
}

// insideAssist: the last span is an assist word placing what follows
// inside the previous place (内, 楼下).
func (st *parseState) insideAssist() bool {
	if len(st.spans) == 0 {
		return false
	}
	switch cntext.Fold(st.spans[len(st.spans)-1].Text) {
	case "内", "院内", "里面", "楼下", "楼上":
		return true
	}
	return false
}

func (p *Parser) hasPrefixAt(st *parseState, k, n int, words []string) bool {
	if k >= n {
		return false
	}
	rest := st.fstr[st.boff[k]:st.boff[n]]
	for _, w := range words {
		if strings.HasPrefix(rest, w) {
			return true
		}
	}
	return false
}

// roadAhead reports whether the text at k continues a road name:
// [方向]?(路|街|大道|大街|巷) (陕西南路).
func roadAhead(st *parseState, k, n int) bool {
	if k < n && strings.ContainsRune("东西南北中", st.f[k]) {
		k++
	}
	if k >= n {
		return false
	}
	switch st.f[k] {
	case '路', '街', '巷':
		return !(st.f[k] == '街' && k+1 < n && st.f[k+1] == '道')
	case '大':
		return k+1 < n && (st.f[k+1] == '道' || st.f[k+1] == '街')
	case '环':
		return k+1 < n && st.f[k+1] == '路' // 陆家嘴环路
	}
	return false
}

// numberedRoadAhead: a numbered road continues an abbreviated place name
// (中山八路, 中山七路), unlike a full name (仓山区三路).
func numberedRoadAhead(st *parseState, k, n int) bool {
	return k+1 < n && strings.ContainsRune("一二三四五六七八九十", st.f[k]) && (st.f[k+1] == '路' || st.f[k+1] == '街')
}

func adminLabel(u *adminUnit, short bool) Label {
	switch u.level {
	case AdminProvince:
		if u.muni && !short {
			return LabelCity
		}
		return LabelProvince
	case AdminCity:
		return LabelCity
	case AdminDistrict:
		return LabelDistrict
	case AdminTown:
		if u.zone {
			return LabelDevzone
		}
		return LabelTown
	}
	return LabelCommunity
}

// matchAdmin tries the longest dictionary name at i that fits the context.
func (p *Parser) matchAdmin(st *parseState, i, n int) (int, bool) {
	d := p.dict
	longer := false // a longer name starting at i was found (and not taken)
	for L := p.admTop(st, i, n); L >= 2; L-- {
		refs, ok := d.names[st.ftext(i, i+L)]
		if !ok {
			continue
		}
		if L < 3 && longer {
			// 解放碑|步行街: a longer name (the town 解放碑) covers these runes; the
			// abbreviation inside it (解放 of 解放区) is not taken on the strength
			// of the road after it (issue 14)
			break
		}
		longer = true
		var cands, incons []int32
		var candShort bool
		var level AdminLevel
		for _, ref := range refs {
			u := &d.units[ref.unit]
			sameShort := ref.short && (st.unit[u.level] == ref.unit || st.pendingUnder(d, ref.unit)) && u.level <= AdminDistrict &&
				(i+L == n || p.descendantNameAt(st, i+L, n, ref.unit) || p.namedRoadAt(st, i+L, n))
			if u.level <= st.deepest && (st.unit[u.level] != ref.unit || ref.short) && !sameShort {
				// a full name restating an unresolved coarser level (小伊乡江苏省灌云县小伊乡)
				restate := !ref.short && st.unit[u.level] < 0 && u.level < AdminCommunity
				if !restate && !(u.level == AdminDistrict && st.prevCountyCity(d, ref.unit)) {
					if !ref.short && u.level <= AdminDistrict && st.unit[u.level] >= 0 && st.unit[u.level] != ref.unit &&
						len(refs) == 1 && (p.descendantNameAt(st, i+L, n, ref.unit) || st.chainAt(i, d, ref.unit)) {
						// 宁波市江北区…浙江省金华市兰溪市: a second, conflicting chain
						incons = append(incons, ref.unit)
					}
					continue
				}
			}
			if u.level == AdminCommunity && st.unit[AdminTown] < 0 && st.unit[AdminDistrict] < 0 {
				continue
			}
			if ref.short {
				// a district of the region written without 区 (江北 of the
				// region's 江北区, not Ningbo's) before one of its towns, or
				// before a road: the region's data makes the abbreviation
				// its own
				regionShort := u.level == AdminDistrict && u.region && p.onlyRegionCounty(refs) &&
					(p.childTownAt(st, i+L, n, ref.unit) || p.shortChildTownAt(st, i+L, n, ref.unit) || p.namedRoadAt(st, i+L, n))
				roadNext := u.level == AdminDistrict && p.onlyCounty(refs) && p.namedRoadAt(st, i+L, n) ||
					u.level <= AdminDistrict && p.childTownAt(st, i+L, n, ref.unit) || regionShort
				if (p.hasPrefixAt(st, i+L, n, shortRejectPrefixes) && !roadNext) || roadAhead(st, i+L, n) || numberedRoadAhead(st, i+L, n) ||
					(p.hasPrefixAt(st, i+L, n, []string{"区", "县", "市", "旗", "镇", "乡", "街道"}) && !p.fullNameAt(st, i+L, n)) {
					continue
				}
				if u.level >= AdminDistrict && !p.hasAncestorCtx(st, ref.unit) && !(u.level == AdminDistrict && L >= 3 && len(refs) == 1) && !roadNext {
					continue
				}
			} else if roadAhead(st, i+L, n) && !p.fullNameAt(st, i+L, n) {
				// 陕西南路 is a road, but 台州市|路桥区 is two divisions
				continue
			}
			if ref.short && u.level == AdminTown && p.zoneWordAt(st, i+L, n) {
				continue // 双屿工业区 is one devzone
			}
			if u.level == AdminTown && st.unit[AdminProvince] < 0 && st.unit[AdminDistrict] < 0 && len(refs) > 1 {
				continue
			}
			if !p.consistent(st, ref.unit) {
				if !ref.short && u.level >= AdminDistrict {
					incons = append(incons, ref.unit)
				}
				continue
			}
			if len(cands) == 0 || u.level < level {
				cands, level, candShort = cands[:0], u.level, ref.short
			} else if u.level > level {
				continue
			}
			cands = append(cands, ref.unit)
		}
		if len(cands) == 0 && len(incons) == 1 {
			u := &d.units[incons[0]]
			parent := ""
			for l := u.level - 1; l >= AdminProvince; l-- {
				if a := st.unit[l]; a >= 0 && d.units[a].name != "" {
					parent = d.units[a].name
					break
				}
			}
			st.issues = append(st.issues, fmt.Sprintf("%s %s 不属于 %s", u.level, u.name, parent))
			if u.level > st.deepest {
				st.deepest = u.level
			}
			st.emit(adminLabel(u, false), i, i+L)
			return i + L, true
		}
		if len(cands) == 0 {
			continue
		}
		u := &d.units[cands[0]]
		if len(cands) == 1 {
			st.unit[level] = cands[0]
			// fill the chain so that later matches are checked against it
			for a := u.parent; a >= 0; a = d.units[a].parent {
				if st.unit[d.units[a].level] < 0 {
					st.unit[d.units[a].level] = a
				}
			}
			st.resolvePending(d, cands[0])
		} else {
			st.pending, st.pendLvl = append(st.pending[:0], cands...), level
		}
		if level > st.deepest {
			st.deepest = level
		}
		l := adminLabel(u, candShort)
		st.emit(l, i, i+L)
		if level >= AdminTown {
			// towns and communities do not close admin matching of finer levels
		}
		return i + L, true
	}
	return i, false
}

// orgSuffixes end the names of organisations, which often start with the
// name of their province or city (湖南省肿瘤医院, 宁波市鄞州中旗工艺品有限公司).
var orgSuffixes = []string{"公司", "医院", "大学", "学院", "学校", "中学", "小学", "幼儿园", "银行", "支行", "研究院", "研究所",
	"派出所", "委员会", "政府", "法院", "检察院", "协会", "局"}

// orgWithAdminPrefix: a division name at i that only starts an
// organisation's name: the rest of the chunk ends with an organisation
// suffix, and the division either restates a level already given
// (岳麓区西湖街道|湖南省肿瘤医院), follows a place that is not a division
// (上凌工业区|浙江安吉健丰金属制品有限公司), or is an abbreviation opening
// the text (杭州伟轩装饰材料有限公司). It returns the end of the name.
func (p *Parser) orgWithAdminPrefix(st *parseState, i, n int) (int, bool) {
	d := p.dict
	for L := p.admTop(st, i, n); L >= 2; L-- {
		refs, ok := d.names[st.ftext(i, i+L)]
		if !ok {
			continue
		}
		if p.fullNameAt(st, i+L, n) {
			return i, false
		}
		restate, short := true, true
		for _, ref := range refs {
			if d.units[ref.unit].level > AdminDistrict {
				return i, false
			}
			if d.units[ref.unit].level > st.deepest {
				restate = false
			}
			if !ref.short {
				short = false
			}
		}
		ok = restate && st.deepest > AdminNone
		if p.hasPrefixAt(st, i+L, n, []string{"人民医院", "人民政府", "人民法院", "人民检察院", "中医院", "妇幼保健院"}) {
			ok = true // 岳池县人民医院: institutions named after their division
		}
		switch st.last {
		case "":
			ok = ok || short
		case LabelProvince, LabelCity, LabelDistrict, LabelTown:
		default:
			ok = true
		}
		if !ok {
			return i, false
		}
		save := *st
		k, l := p.chunk(st, i+L, n)
		st.open = false
		k0, l0 := p.chunk(st, i, n)
		*st = save
		if l != LabelPOI || k-(i+L) < 2 || l0 != LabelPOI || k0 != k {
			return i, false
		}
		name := st.ftext(i+L, k)
		for _, w := range orgSuffixes {
			if strings.HasSuffix(name, w) {
				return k, true
			}
		}
		return i, false
	}
	return i, false
}

// childTownAt: the official name of a town of unit u starts at k
// (诸暨|牌头镇, 昆明|大板桥镇): the abbreviation before it names u.
func (p *Parser) childTownAt(st *parseState, k, n int, u int32) bool {
	for L := p.admTop(st, k, n); L >= 2; L-- {
		for _, ref := range p.dict.names[st.ftext(k, k+L)] {
			if !ref.short && p.dict.units[ref.unit].level == AdminTown && p.dict.isAncestor(u, ref.unit) {
				return true
			}
		}
	}
	return false
}

// shortChildTownAt: the abbreviation of a town of u starts at k, followed
// by more text (江北|观音桥|建新北路: 观音桥 of 观音桥街道).
func (p *Parser) shortChildTownAt(st *parseState, k, n int, u int32) bool {
	for L := p.admTop(st, k, n); L >= 2; L-- {
		if k+L >= n {
			continue
		}
		for _, ref := range p.dict.names[st.ftext(k, k+L)] {
			if ref.short && p.dict.units[ref.unit].level == AdminTown && p.dict.isAncestor(u, ref.unit) {
				return true
			}
		}
	}
	return false
}

// onlyRegionCounty: of the county-level units refs names, exactly one is a
// unit of the region (江北: the region's 江北区 among 江北区 of Chongqing
// and of Ningbo).
func (p *Parser) onlyRegionCounty(refs []nameRef) bool {
	c := 0
	for _, r := range refs {
		if u := &p.dict.units[r.unit]; u.level <= AdminDistrict && u.region {
			c++
		}
	}
	return c == 1
}

// chainAt: the span ending at i names the parent of u (金华市|兰溪市).
func (st *parseState) chainAt(i int, d *adminDict, u int32) bool {
	if len(st.spans) == 0 {
		return false
	}
	last := st.spans[len(st.spans)-1]
	if last.End != i || (last.Label != LabelCity && last.Label != LabelProvince) {
		return false
	}
	par := d.units[u].parent
	if par < 0 {
		return false
	}
	pn := d.units[par].name
	return pn != "" && cntext.Fold(last.Text) == pn
}

// adminNameAt: the name of a province, city or county starts at k.
func (p *Parser) adminNameAt(st *parseState, k, n int) bool {
	for L := p.admTop(st, k, n); L >= 2; L-- {
		for _, ref := range p.dict.names[st.ftext(k, k+L)] {
			if p.dict.units[ref.unit].level <= AdminDistrict {
				return true
			}
		}
	}
	return false
}

// provinceAt: the name of a province starts at k.
func (p *Parser) provinceAt(st *parseState, k, n int) bool {
	for L := p.admTop(st, k, n); L >= 2; L-- {
		for _, ref := range p.dict.names[st.ftext(k, k+L)] {
			if p.dict.units[ref.unit].level == AdminProvince {
				return true
			}
		}
	}
	return false
}

// descendantNameAt: the name (official or abbreviated) of a unit below u
// starts at k (金华|义乌, 东阳|白云街道): an abbreviation of u restated just
// before it (金华市…金华义乌) is u again.
func (p *Parser) descendantNameAt(st *parseState, k, n int, u int32) bool {
	for L := p.admTop(st, k, n); L >= 2; L-- {
		for _, ref := range p.dict.names[st.ftext(k, k+L)] {
			if (ref.unit != u || !ref.short) && p.dict.units[ref.unit].level <= AdminTown && p.dict.isAncestor(u, ref.unit) {
				return true
			}
		}
	}
	return false
}

// onlyCounty: exactly one of refs is a province, city or county.
func (p *Parser) onlyCounty(refs []nameRef) bool {
	c := 0
	for _, r := range refs {
		if p.dict.units[r.unit].level <= AdminDistrict {
			c++
		}
	}
	return c == 1
}

// namedRoadAt: a whole road name starts at k, with at least two characters
// before its suffix (余杭|星光街, 义乌|城店南路): a county abbreviation in
// front of it names the county, not the road.
func (p *Parser) namedRoadAt(st *parseState, k, n int) bool {
	if k >= n || roadAhead(st, k, n) || numberedRoadAhead(st, k, n) || strings.ContainsRune("东西南北中", st.f[k]) {
		return false
	}
	save := *st
	st.open = false
	e, l := p.chunk(st, k, n)
	*st = save
	if l != LabelRoad || e-k < 3 {
		return false
	}
	for L := min(p.maxSuf, e-k); L >= 1; L-- {
		if sl, ok := p.suffix[st.ftext(e-L, e)]; ok && sl == LabelRoad {
			return e-L-k >= 2
		}
	}
	return false
}

// zoneWordAt: a bare zone word (工业区, 工业园区, 开发区) starts at k.
func (p *Parser) zoneWordAt(st *parseState, k, n int) bool {
	for L := min(p.maxSuf, n-k); L >= 2; L-- {
		if l, ok := p.suffix[st.ftext(k, k+L)]; ok && l == LabelDevzone {
			return true
		}
	}
	return false
}

// fullNameAt: an official (not abbreviated) division name of three or more
// characters starts at k (宁波|镇海区: 镇 there starts 镇海区, not 宁波镇).
func (p *Parser) fullNameAt(st *parseState, k, n int) bool {
	for L := p.admTop(st, k, n); L >= 3; L-- {
		for _, ref := range p.dict.names[st.ftext(k, k+L)] {
			if !ref.short && p.dict.units[ref.unit].level <= AdminTown {
				return true
			}
		}
	}
	return false
}

func (st *parseState) resolvePending(d *adminDict, u int32) {
	if len(st.pending) == 0 {
		return
	}
	for _, c := range st.pending {
		if d.isAncestor(c, u) {
			st.unit[st.pendLvl] = c
			st.pending = st.pending[:0]
			return
		}
	}
	// a coarser unit named after the ambiguous one (普陀区…舟山): the one
	// candidate inside it
	under := int32(-1)
	for _, c := range st.pending {
		if d.isAncestor(u, c) {
			if under >= 0 {
				return
			}
			under = c
		}
	}
	if under >= 0 {
		st.unit[st.pendLvl] = under
		st.pending = st.pending[:0]
		for a := d.units[under].parent; a >= 0; a = d.units[a].parent {
			if st.unit[d.units[a].level] < 0 {
				st.unit[d.units[a].level] = a
			}
		}
	}
}

// pendingUnder: exactly one ambiguous candidate lies inside unit u.
func (st *parseState) pendingUnder(d *adminDict, u int32) bool {
	k := 0
	for _, c := range st.pending {
		if c != u && d.isAncestor(u, c) {
			k++
		}
	}
	return k == 1 && st.unit[st.pendLvl] < 0
}

// hasAncestorCtx: some resolved unit in the context is an ancestor of u.
func (p *Parser) hasAncestorCtx(st *parseState, u int32) bool {
	for l := AdminProvince; l < p.dict.units[u].level; l++ {
		if a := st.unit[l]; a >= 0 && p.dict.isAncestor(a, u) && (l >= AdminCity || p.dict.units[a].muni) {
			return true
		}
	}
	return false
}

// consistent: every resolved coarser unit in context is an ancestor of u.
func (p *Parser) consistent(st *parseState, u int32) bool {
	lv := p.dict.units[u].level
	for l := AdminProvince; l < lv; l++ {
		if a := st.unit[l]; a >= 0 && !p.dict.isAncestor(a, u) {
			return false
		}
	}
	return true
}

var numberUnits = []struct {
	w string
	l Label
}{
	{"号楼", LabelHouseNo}, {"号院", LabelPOI}, {"号仓库", LabelPOI}, {"号库", LabelPOI}, {"号地块", LabelPOI}, {"号门", LabelSubPOI}, {"单元", LabelCellNo}, {"村民组", LabelVillageGroup}, {"组团", LabelSubPOI},
	{"公里", LabelDistance}, {"千米", LabelDistance}, {"KM", LabelDistance}, {"#楼", LabelHouseNo},
	{"号", LabelRoadNo}, {"栋", LabelHouseNo}, {"幢", LabelHouseNo}, {"座", LabelHouseNo}, {"#", LabelHouseNo},
	{"层", LabelFloorNo}, {"楼", LabelFloorNo}, {"F", LabelFloorNo}, {"室", LabelRoomNo}, {"房", LabelRoomNo},
	{"弄", LabelRoadNo}, {"组", LabelVillageGroup}, {"队", LabelVillageGroup}, {"米", LabelDistance}, {"M", LabelDistance},
	{"区", LabelPOI}, {"期", LabelPOI},
}

// numberRun returns the end of a number-like run at i (digits, letters,
// Chinese numerals, inner '-') and what it contains.
func numberRun(f []rune, i, n int) (j int, digits, letters, cn bool) {
	j = i
	for j < n && j-i < 14 {
		r := f[j]
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r >= 'A' && r <= 'Z':
			letters = true
		case r > 0x80 && cntext.IsNumeralRune(r):
			cn = true
		case r == '-' && j > i && j+1 < n && (isAlnum(f[j+1])):
		default:
			return
		}
		j++
	}
	return
}

// matchNumber recognises a number followed by a unit word (68号, 三单元, A座).
func (p *Parser) matchNumber(st *parseState, i, n int) (int, Label, bool) {
	f := st.f
	j, digits, letters, cn := numberRun(f, i, n)
	if j == i {
		return i, "", false
	}
	if cn && (digits || letters) {
		return i, "", false
	}
	if cn {
		if _, ok := cntext.ParseNumber(string(f[i:j])); !ok {
			return i, "", false
		}
	}
	if letters && !digits && j-i > 2 {
		return i, "", false
	}
	rest := st.fstr[st.boff[j]:st.boff[n]]
	for _, u := range numberUnits {
		if !strings.HasPrefix(rest, u.w) {
			continue
		}
		if letters && !digits && !(u.l == LabelHouseNo || u.l == LabelCellNo || u.l == LabelPOI || u.l == LabelFloorNo) {
			return i, "", false
		}
		if cn && (u.w == "M" || u.w == "KM" || u.w == "F" || u.w == "#") {
			return i, "", false
		}
		end := j + utf8.RuneCountInString(u.w)
		l := u.l
		// the unit must not start a longer word: 号院 handled, 楼盘/层面/区域 are not units
		if end < n {
			nx := f[end]
			if (u.w == "楼" && (nx == '盘' || nx == '道' || nx == '梯')) || (u.w == "区" && (nx == '域' || nx == '间')) || (u.w == "号" && nx == '线') {
				return i, "", false
			}
			if u.w == "区" || u.w == "期" {
				// 五区 but not 五区路
				if roadAhead(st, end, n) {
					return i, "", false
				}
			}
			if (u.w == "M" || u.w == "F") && isAlnum(nx) {
				return i, "", false
			}
		}
		if cn && (u.w == "区" || u.w == "期" || u.w == "组" || u.w == "队") && j-i == 1 && f[i] == '两' {
			return i, "", false
		}
		if u.w == "号" && end < n && (f[end] == '街' || f[end] == '路' || f[end] == '大' && end+1 < n && (f[end+1] == '街' || f[end+1] == '道')) &&
			!(end+1 < n && f[end] == '街' && f[end+1] == '道') && !(f[end] == '路' && end+1 < n && f[end+1] == '口') {
			return i, "", false // 0号大街, 00号路: a numbered road
		}
		if l == LabelRoadNo && u.w == "号" {
			switch {
			case st.last == LabelRoad || (!st.roadNo && st.lastRoadBeforePoi()):
				l = LabelRoadNo
			case st.last == LabelHouseNo || st.last == LabelCellNo || st.last == LabelFloorNo:
				l = LabelRoomNo
			default:
				l = LabelHouseNo
			}
		}
		if l == LabelFloorNo && st.last == LabelFloorNo {
			l = LabelRoomNo
		}
		if u.w == "弄" && st.last == LabelRoad {
			// 振华路|00弄|0号: a numbered lane off a road is itself a road
			// when a house number follows; 秀浦路|0000弄 alone is the number
			if k, nl, ok := p.matchNumber(st, end, n); ok && nl == LabelRoadNo && k > end && st.f[k-1] == '号' {
				l = LabelRoad
			}
		}
		return end, l, true
	}
	// bare number at the end of the text or before a separator
	if digits && (j == n || cntext.IsSpaceOrPunct(f[j])) {
		switch st.last {
		case LabelHouseNo, LabelCellNo, LabelFloorNo, LabelRoomNo:
			return j, LabelRoomNo, true
		case LabelRoad:
			return j, LabelRoadNo, true
		case LabelPOI, LabelSubPOI:
			if !letters && j-i >= 3 && j-i <= 4 && j == n && len(st.spans) > 0 && st.spans[len(st.spans)-1].End == i {
				return j, LabelRoomNo, true // 翠苑小区|1201: a room number
			}
		}
	}
	return i, "", false
}

var junkWords = []string{"联系电话", "电话", "电联", "中华人民共和国", "中国"}

// skipJunk skips contact words (电联) and a leading 中国 before a division
// (中国浙江省…; 中国轻纺城 and 中国银行 are names).
func (p *Parser) skipJunk(st *parseState, i, n int) (int, bool) {
	rest := st.fstr[st.boff[i]:st.boff[n]]
	for _, w := range junkWords {
		if strings.HasPrefix(rest, w) {
			j := i + utf8.RuneCountInString(w)
			if (w == "中国" || w == "中华人民共和国") && (len(st.spans) > 0 || !p.adminNameAt(st, j, n)) {
				continue
			}
			if w != "中国" && w != "中华人民共和国" && j < n && !cntext.IsSpaceOrPunct(st.f[j]) {
				continue
			}
			return j, true
		}
	}
	return i, false
}

// prevCountyCity: the previous span is a county-level city (吉首市) and u is
// another district: the county-level city was really naming the city.
func (st *parseState) prevCountyCity(d *adminDict, u int32) bool {
	if len(st.spans) == 0 {
		return false
	}
	last := &st.spans[len(st.spans)-1]
	if last.Label != LabelDistrict || !strings.HasSuffix(last.Text, "市") {
		return false
	}
	prev := st.unit[AdminDistrict]
	if prev < 0 || prev == u || d.units[prev].parent != d.units[u].parent {
		return false
	}
	last.Label = LabelCity
	st.unit[AdminDistrict] = -1
	return true
}

// lastRoadBeforePoi: a road was seen and no poi since (延安路西湖银泰68号 is rare;
// keep 号 after a road as roadno).
func (st *parseState) lastRoadBeforePoi() bool {
	for k := len(st.spans) - 1; k >= 0; k-- {
		switch st.spans[k].Label {
		case LabelRoad:
			return true
		case LabelPOI, LabelSubPOI, LabelCommunity, LabelHouseNo, LabelRoadNo:
			return false
		}
	}
	return false
}

func (p *Parser) matchAssist(st *parseState, i, n int) (int, bool) {
	for L := 3; L >= 1; L-- {
		if i+L > n {
			continue
		}
		w := st.ftext(i, i+L)
		if assistWords[w] {
			if i+L < n && strings.ContainsRune("村路街巷镇", st.f[i+L]) {
				continue // 楼下村 is a village
			}
			return i + L, true
		}
		if L == 1 && w == "内" && i+1 < n && st.f[i+1] == '环' {
			continue // 内环西路 is a road
		}
		if L == 1 && (w == "旁" || w == "内" || w == "后") {
			switch st.last {
			case LabelPOI, LabelSubPOI, LabelRoadNo, LabelHouseNo, LabelFloorNo, LabelAssist, LabelRoad:
				if w == "旁" || i+1 == n || cntext.IsSpaceOrPunct(st.f[i+1]) ||
					(w == "内" && (st.last == LabelPOI || st.last == LabelSubPOI)) {
					return i + 1, true
				}
			}
		}
		if directionWords[w] {
			// 南100米 / trailing 东
			k := i + L
			if k == n || cntext.IsSpaceOrPunct(st.f[k]) {
				return k, true
			}
			if j, l, ok := p.matchNumber(st, k, n); ok && l == LabelDistance && j > k {
				return k, true
			}
		}
	}
	return i, false
}

// mergeZone: a bare zone word right after a town (钟管镇 + 工业园区) or a
// county-level city (永康市 + 经济开发区) names that town's zone; the two
// form one devzone span.
func (st *parseState) mergeZone(i, j int) bool {
	if len(st.spans) == 0 {
		return false
	}
	prev := &st.spans[len(st.spans)-1]
	if prev.End != i {
		return false
	}
	w := st.ftext(i, j)
	pt := cntext.Fold(prev.Text)
	ok := false
	switch prev.Label {
	case LabelTown:
		ok = strings.HasSuffix(pt, "镇") && (w == "工业园区" || w == "工业园" || w == "开发区" || w == "经济开发区")
	case LabelDistrict:
		ok = strings.HasSuffix(pt, "市") && (w == "经济开发区" || w == "经济技术开发区")
	}
	if !ok {
		return false
	}
	prev.Label = LabelDevzone
	prev.End = j
	prev.Text = st.text(prev.Start, j)
	st.last = LabelDevzone
	return true
}

// villageBeforeRoad: a road chunk [i,j) right after a town starts with a
// two-character village name (周田人民路, 师桥三北东路): the rest is still a
// full road name of three or more characters that does not start with a
// direction or a numeral (斜红南路, 中山东二路 stay whole).
func (p *Parser) villageBeforeRoad(st *parseState, i, j int) bool {
	if len(st.spans) == 0 || j-i < 5 {
		return false
	}
	prev := st.spans[len(st.spans)-1]
	if prev.Label != LabelTown || prev.End != i {
		return false
	}
	// the road left after the village keeps a name of two or more characters
	// before its suffix (人民|路, not 宾|大道)
	for L := 3; L >= 1; L-- {
		if j-L > i+2 {
			if l, ok := p.suffix[st.ftext(j-L, j)]; ok && l == LabelRoad {
				if j-L-(i+2) < 2 {
					return false
				}
				break
			}
		}
	}
	r := st.f[i+2]
	if strings.ContainsRune("东西南北中环大小新老", r) || cntext.IsNumeralRune(r) || isAlnum(r) {
		return false
	}
	for k := i; k < j; k++ {
		if k < i+2 && (cntext.IsNumeralRune(st.f[k]) || isAlnum(st.f[k])) || strings.ContainsRune("区园城场", st.f[k]) {
			return false
		}
	}
	return true
}

// bareVillage: a short name without any suffix right after a town or a
// village and followed by a house number (羽林街道大塘坑村|坑头黄|000号) is
// a natural village. (Closing the text, it is as often a compound: 湘湖人家.)
func (p *Parser) bareVillage(st *parseState, i, j, n int) bool {
	if len(st.spans) == 0 || j-i < 2 || j-i > 3 {
		return false
	}
	prev := st.spans[len(st.spans)-1]
	if (prev.Label != LabelTown && prev.Label != LabelCommunity && prev.Label != LabelDistrict) || prev.End != i {
		return false
	}
	if prev.Label == LabelDistrict && !strings.ContainsRune(villageEnds, st.f[j-1]) {
		return false
	}
	for k := i; k < j; k++ {
		if isAlnum(st.f[k]) || cntext.IsNumeralRune(st.f[k]) {
			return false
		}
	}
	if p.endsWithPoiSuffix(st, i, j) || p.endsWithSuffix(st, i, j) {
		return false
	}
	if (j == n || cntext.IsSpaceOrPunct(st.f[j])) && strings.ContainsRune(villageEnds, st.f[j-1]) {
		return true // 北苑街道|石桥头, 兰亭镇|任家畈
	}
	e, l, ok := p.matchNumber(st, j, n)
	return ok && (l == LabelRoadNo || l == LabelHouseNo) && st.f[e-1] == '号'
}

// villageEnds are final characters typical of natural-village names
// (石桥头, 于宅, 任家畈, 大岙, 林垟, 鹿木坑, 黄埠).
const villageEnds = "头宅畈岙垟坑埠墩堡寨屯圩"

// noteWords mark a free-text note appended to an address for the courier.
var noteWords = []string{"电话", "联系", "先生", "女士", "小姐", "派送", "验货", "自取", "送货", "收件", "寄件", "谢谢", "急件", "签收", "到付", "请"}

// noteAt: the chunk at i (up to the next separator or number) carries a note
// word and no place suffix.
func (p *Parser) noteAt(st *parseState, i, n int) bool {
	k, _ := p.chunk(st, i, n)
	if k-i < 3 {
		return false
	}
	seg := st.ftext(i, k)
	found := false
	for _, w := range noteWords {
		if strings.Contains(seg, w) {
			found = true
			break
		}
	}
	return found && !p.endsWithPoiSuffix(st, i, k)
}

// junkAhead: a contact word (电联) closing the text or followed by a separator
// or a number ends the name before it.
func junkAhead(st *parseState, k, n int) bool {
	rest := st.fstr[st.boff[k]:st.boff[n]]
	for _, w := range junkWords {
		if w == "中国" || w == "中华人民共和国" || !strings.HasPrefix(rest, w) {
			continue
		}
		e := k + utf8.RuneCountInString(w)
		if e == n || cntext.IsSpaceOrPunct(st.f[e]) || isAlnum(st.f[e]) {
			return true
		}
	}
	return false
}

// splitAfter1 are one-character compound suffixes after which a second named
// place may follow inside one chunk (景海湾|闻潮阁, 翡翠城|环碧苑, 欣都龙城|百丽店).
const splitAfter1 = "城苑湾园庭府居阁墅坊"

// noSplitNext: characters that continue the word of a one-character suffix
// (城市, 园区, 城东路) rather than start a new name.
const noSplitNext = "市区中东西南北路街道巷门口内外里镇乡村楼"

// splitCompound returns where a chunk [i,j) labelled poi should end: at an
// earlier one-character compound suffix when the rest is itself a named place
// (a name of at least two characters plus a place suffix).
func (p *Parser) splitCompound(st *parseState, i, j, split int) int {
	if split < 0 || split-i < 3 || j-split < 3 {
		return j
	}
	if _, ok := p.suffix[st.ftext(split, j)]; ok {
		return j
	}
	for L := p.maxSuf; L >= 1; L-- {
		if j-L <= split+1 {
			continue
		}
		if l, ok := p.suffix[st.ftext(j-L, j)]; ok && (l == LabelPOI || l == LabelSubPOI) {
			return split
		}
	}
	return j
}

var strongStops = []string{"附近", "对面", "旁边", "斜对面", "交叉口", "交汇处"}

// chunk finds the end of a name starting at i and classifies it by suffix.
func (p *Parser) chunk(st *parseState, i, n int) (int, Label) {
	f := st.f
	limit := i + 24
	if limit > n {
		limit = n
	}
	if i < n && f[i] == '口' && st.last == LabelRoad && len(st.spans) > 0 && st.spans[len(st.spans)-1].End == i {
		return i + 1, LabelIntersection // 长河路|口: the guideline's intersection
	}
	// a chunk starting with an intersection or gate word
	for L := p.maxSuf; L >= 1; L-- {
		if i+L > n {
			continue
		}
		if l, ok := p.suffix[st.ftext(i, i+L)]; ok && (l == LabelIntersection || (l == LabelSubPOI && L >= 2)) {
			if l == LabelIntersection && st.last != LabelRoad && st.last != LabelRoadNo && L < 3 {
				break
			}
			return i + L, l
		}
	}
	if st.open && st.deepest < AdminDistrict {
		for k := i + 1; k < i+4 && k < n; k++ {
			if cntext.IsSpaceOrPunct(f[k]) || isAlnum(f[k]) {
				break
			}
			if strings.ContainsRune("区县市旗", f[k]) && !p.endsWithSuffix(st, i, k+1) && !roadAhead(st, k+1, n) &&
				!(f[k] == '区' && k-i >= 3 && strings.ContainsRune("东西南北中", f[k-1])) && // 像素|南区 is a section
				!(f[k] == '区' && cntext.IsNumeralRune(f[k-1])) && // 青莲|二区 is a numbered section
				!(f[k] == '市' && (f[k-1] == '城' || f[k-1] == '超' || f[k-1] == '门' || f[k-1] == '夜')) && // 城市花园, 超市
				!p.hasPrefixAt(st, k+1, n, []string{"场", "区", "委", "政府", "中心", "人民", "第", "局", "心"}) {
				return k + 1, LabelDistrict
			}
		}
	}
	split := -1
	fb := func(k int) (int, Label) {
		l := p.fallbackLabel(st, i, k)
		if l == LabelPOI {
			k = p.splitCompound(st, i, k, split)
		}
		return k, l
	}
	for k := i + 1; k < limit; k++ {
		if cntext.IsSpaceOrPunct(f[k]) {
			return fb(k)
		}
		if _, _, ok := p.matchNumber(st, k, n); ok {
			return fb(k)
		}
		if p.hasPrefixAt(st, k, n, strongStops) || junkAhead(st, k, n) {
			return fb(k)
		}
		if (f[k] == '旁' || f[k] == '内' || f[k] == '后' && (k+1 == n || isSep(f[k+1]) || strings.ContainsRune("面边侧门", f[k+1]))) &&
			k-i >= 2 && p.endsWithPoiSuffix(st, i, k) {
			return fb(k)
		}
		if k-i >= 2 && k+1 < n && strings.ContainsRune("东西南北", f[k]) && f[k+1] == '区' &&
			(k+2 == n || cntext.IsSpaceOrPunct(f[k+2]) || isAlnum(f[k+2]) || cntext.IsNumeralRune(f[k+2])) {
			// 书香景苑|北区
			return k, LabelPOI
		}
		maxL := p.maxSuf
		if n-k < maxL {
			maxL = n - k
		}
		for L := maxL; L >= 1; L-- {
			w := st.ftext(k, k+L)
			l, ok := p.suffix[w]
			if !ok {
				continue
			}
			end := k + L
			switch l {
			case LabelPOI, LabelSubPOI:
				if L == 1 && split < 0 && strings.ContainsRune(splitAfter1, f[k]) && end < n &&
					!strings.ContainsRune(noSplitNext, f[end]) && !roadAhead(st, end, n) {
					split = end
				}
				if L == 1 || roadAhead(st, end, n) {
					l = "" // weak single-character suffix: never ends a name by itself
				}
			case LabelDevzone:
				if roadAhead(st, end, n) {
					l = ""
				}
			case LabelTown:
				if L == 1 && k-i == 1 && roadAhead(st, end, n) {
					l = "" // 环镇|西路 is a road
				}
			case LabelRoad:
				if L == 1 && f[k] == '道' && k > i && f[k-1] != '大' && end < n && !isAlnum(f[end]) && !cntext.IsNumeralRune(f[end]) {
					// 道 inside a name (道口, 道观) unless a number follows
					if _, _, ok := p.matchNumber(st, end, n); !ok {
						l = ""
					}
				}
				if L == 1 && f[k] == '街' && end+1 < n && f[end] == '街' && f[end+1] == '道' {
					l = "" // 中街|街道: the 街 starts the town word
				}
				if L == 1 && (f[k] == '街' || f[k] == '路') && end+1 < n && strings.ContainsRune("东西南北中", f[end]) && (f[end+1] == '路' || f[end+1] == '街') {
					l = "" // 横街|东路 is one road
				}
			case LabelIntersection:
				if w == "路口" || w == "街口" {
					return k + 1, LabelRoad
				}
				return k, p.fallbackLabel(st, i, k)
			case LabelVillageGroup:
			}
			if l == "" {
				break
			}
			if l == LabelSubPOI && !st.hasPoi {
				l = LabelPOI
			}
			if l == LabelPOI {
				if e := campusEnd(st, w, end, n); e > end {
					return e, l // 嘉兴学院梁林校区: the campus is part of the name
				}
				return p.splitCompound(st, i, end, split), l
			}
			if l == LabelCommunity && strings.HasSuffix(w, "村") && p.hasPrefixAt(st, end, n, []string{"民委", "民组", "民小组"}) {
				break // 村|民委员会 is one word; 民乐村|民乐大厦 is not
			}
			if L == 1 && (f[k] == '巷' || f[k] == '街') && end < n && (f[end] == '村' || f[end] == '路') && !(end+1 < n && f[end+1] == '口') {
				break // 博巷|路, 博巷|村: the next word ends the name
			}
			if L == 1 && (l == LabelCommunity || l == LabelRoad) && end < n && (f[end] == '镇' || f[end] == '乡') {
				break // 付村|镇, 新街|镇: the town word ends the name
			}
			if w == "村" && end < n && f[end] == '村' && (end+1 == n || !strings.ContainsRune("委民", f[end+1])) {
				end++ // 陈村|村: a village named …村 takes the suffix again (陈村村)
			}
			return end, l
		}
	}
	return fb(limit)
}

// roadSectionEnd: a numbered section right after a road (人民南路|四段,
// 一环路|西三段) is part of the road: the guideline labels "xx路段" as a
// whole road. It returns the end of the section, or j when there is none.
func roadSectionEnd(st *parseState, j, n int) int {
	f := st.f
	k := j
	if k < n && strings.ContainsRune("东西南北中", f[k]) {
		k++
	}
	m := k
	for m < n && m-k < 2 && (cntext.IsNumeralRune(f[m]) || f[m] >= '0' && f[m] <= '9') {
		m++
	}
	if m == k || m >= n || f[m] != '段' {
		return j
	}
	if m+1 < n && strings.ContainsRune("村路街道巷号", f[m+1]) {
		return j // 四段村, 三段路: a name of its own
	}
	return m + 1
}

// placeStops are the place suffixes after which a road name may start
// (印象城|钱湖北路): a place name glued before its road.
var placeStops = []string{"城", "广场", "大厦", "中心", "花园", "小区", "商城", "商场", "大楼", "公寓", "家园", "新村", "天地", "乐园"}

// placeBeforeRoad: the road chunk [i,j) starts with a place name of two
// or more characters ending in a place suffix, and the rest is a road with
// a name of two or more characters before its road suffix (印象城|钱湖北路,
// 银泰城|文化路; not 新城大道, 凤凰城大道, 城北路). It returns where the
// road starts, or i.
func (p *Parser) placeBeforeRoad(st *parseState, i, j int) int {
	// the road suffix at the end
	suf := 0
	for L := min(p.maxSuf, j-i); L >= 1; L-- {
		if l, ok := p.suffixAt(st, j-L, j); ok && l == LabelRoad {
			suf = L
			break
		}
	}
	if suf == 0 {
		return i
	}
	for m := i + 3; m <= j-suf-2; m++ {
		for _, w := range placeStops {
			L := utf8.RuneCountInString(w)
			if m-L < i+2 || st.ftext(m-L, m) != w {
				continue
			}
			if strings.ContainsRune("东西南北中路街道", st.f[m]) || isAlnum(st.f[m]) || cntext.IsNumeralRune(st.f[m]) {
				continue
			}
			return m
		}
	}
	return i
}

// suffixAt looks up the runes [i,j) of st among the suffix words.
func (p *Parser) suffixAt(st *parseState, i, j int) (Label, bool) {
	if j <= i || j-i > int(p.sufMax[uint32(st.f[j-1])%uint32(len(p.sufMax))]) {
		return "", false
	}
	l, ok := p.suffix[st.ftext(i, j)]
	return l, ok
}

// campusEnd: a university name (…大学, …学院) followed by a campus name of
// two to five characters ending in 校区 (紫金港校区, 学院路校区) forms one
// name; it returns the end of the campus, or end when there is none.
func campusEnd(st *parseState, w string, end, n int) int {
	if !strings.HasSuffix(w, "大学") && !strings.HasSuffix(w, "学院") && !strings.HasSuffix(w, "学校") {
		return end
	}
	for k := end; k <= end+5 && k+2 <= n; k++ {
		if k >= end+2 && st.f[k] == '校' && st.f[k+1] == '区' {
			return k + 2
		}
		if r := st.f[k]; cntext.IsSpaceOrPunct(r) || isAlnum(r) {
			return end
		}
	}
	return end
}

// endsWithPoiSuffix: [i,j) ends with a place suffix (加油站, 保安室).
func (p *Parser) endsWithPoiSuffix(st *parseState, i, j int) bool {
	for L := 1; L <= p.maxSuf && j-L > i; L++ {
		if l, ok := p.suffix[st.ftext(j-L, j)]; ok && (l == LabelPOI || l == LabelSubPOI) {
			return true
		}
	}
	return false
}

// endsWithSuffix: the text [i,j) ends with a multi-rune suffix word (小区, 园区).
func (p *Parser) endsWithSuffix(st *parseState, i, j int) bool {
	for L := 2; L <= p.maxSuf && j-L >= i; L++ {
		if _, ok := p.suffix[st.ftext(j-L, j)]; ok {
			return true
		}
	}
	return false
}

func (p *Parser) fallbackLabel(st *parseState, i, j int) Label {
	if directionWords[st.ftext(i, j)] && st.last != "" {
		return LabelAssist
	}
	if j-i == 3 && st.f[j-1] == '线' && !cntext.IsNumeralRune(st.f[i]) && !cntext.IsNumeralRune(st.f[i+1]) && !isAlnum(st.f[i+1]) {
		return LabelRoad // 杨龚线, 射海线: a county road named after the places it links
	}
	return LabelPOI
}

func (p *Parser) finish(st *parseState) Components {
	d := p.dict
	c := Components{Input: st.raw, Spans: st.spans, unit: st.unit, Issues: st.issues}
	// remainder
	covered := make([]bool, len(st.f))
	for _, s := range st.spans {
		for k := s.Start; k < s.End; k++ {
			covered[k] = true
		}
	}
	var rem strings.Builder
	for k, r := range st.f {
		if !covered[k] && !cntext.IsSpaceOrPunct(r) {
			rem.WriteString(st.text(k, k+1))
		}
	}
	c.Remainder = rem.String()
	// finest resolved unit
	finest := int32(-1)
	for l := AdminCommunity; l >= AdminProvince; l-- {
		if st.unit[l] >= 0 {
			finest = st.unit[l]
			break
		}
	}
	if len(st.pending) > 0 && st.unit[st.pendLvl] < 0 {
		for _, u := range st.pending {
			c.Admin.Ambiguous = append(c.Admin.Ambiguous, d.units[u].code)
		}
	}
	if finest < 0 {
		return c
	}
	// inconsistencies: a named unit that is not on the finest unit's chain
	written := map[AdminLevel]bool{}
	for _, s := range st.spans {
		switch s.Label {
		case LabelProvince:
			written[AdminProvince] = true
		case LabelCity:
			written[AdminCity] = true
			if p.isMuniName(s.Text) {
				written[AdminProvince] = true
			}
		case LabelDistrict:
			written[AdminDistrict] = true
		case LabelTown:
			written[AdminTown] = true
		case LabelCommunity:
			written[AdminCommunity] = true
		}
	}
	for l := AdminProvince; l < AdminCommunity; l++ {
		if u := st.unit[l]; u >= 0 && !d.isAncestor(u, finest) {
			c.Issues = append(c.Issues, fmt.Sprintf("%s %s 不属于 %s", d.units[finest].level, d.units[finest].name, d.units[u].name))
		}
	}
	c.Admin.Code = d.units[finest].code
	for u := finest; u >= 0; u = d.units[u].parent {
		au := &d.units[u]
		c.unit[au.level] = u
		switch au.level {
		case AdminProvince:
			c.Admin.Province = au.name
		case AdminCity:
			c.Admin.City = au.name
		case AdminDistrict:
			c.Admin.District = au.name
		case AdminTown:
			c.Admin.Town = au.name
		case AdminCommunity:
			c.Admin.Community = au.name
		}
		if !written[au.level] && au.name != "" {
			c.Admin.Filled = append(c.Admin.Filled, au.level)
		}
	}
	return c
}

func (p *Parser) isMuniName(s string) bool {
	s = cntext.Fold(s)
	for _, ref := range p.dict.names[s] {
		if p.dict.units[ref.unit].muni {
			return true
		}
	}
	return false
}

// ParseStrict is like Parse but first validates the input: it returns an
// error wrapping [ErrEmpty] for an empty address and [ErrTooLong] for one
// longer than Options.MaxRunes.
func (p *Parser) ParseStrict(s string) (Components, error) {
	if err := p.validate(s); err != nil {
		return Components{Input: s}, err
	}
	return p.Parse(s), nil
}

func (p *Parser) validate(s string) error {
	_, err := p.normalizeValid(s)
	return err
}

// normalizeValid checks s as validate does and returns Normalize(s), for
// a caller that needs both (the database's insert).
func (p *Parser) normalizeValid(s string) (string, error) {
	if n := utf8.RuneCountInString(s); n > p.maxRunes {
		return "", fmt.Errorf("%w: %d characters, limit %d", ErrTooLong, n, p.maxRunes)
	}
	n := Normalize(s)
	if n == "" {
		return "", fmt.Errorf("%w", ErrEmpty)
	}
	return n, nil
}
