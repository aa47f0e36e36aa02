package search

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo/region"
	"github.com/marketgeo/marketgeo/internal/cntext"
)

// Fold is the text normalisation applied to everything indexed and to every
// query: full-width to half-width, the common traditional characters to
// simplified ones, ASCII lower case, brackets and punctuation dropped, and
// runs of white space collapsed to one space. It is pure and goroutine-safe.
//
// A text that folding leaves unchanged is returned as it is, not copied:
// the indexed documents then share their strings with the geo index's
// features (a million registered names and addresses, most already folded).
func Fold(s string) string {
	if folded(s) {
		return s
	}
	return foldCopy(s)
}

// folded reports whether Fold leaves s unchanged: no rune that foldCopy
// drops, replaces or maps to another.
func folded(s string) bool {
	for _, r := range s {
		f := cntext.FoldRune(r)
		if f >= 'A' && f <= 'Z' {
			f += 'a' - 'A'
		}
		if r == utf8.RuneError || f != r || unicode.IsSpace(r) || (r != '#' && r != '-' && cntext.IsSpaceOrPunct(r)) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// foldCopy is Fold building its result.
func foldCopy(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		r = cntext.FoldRune(r)
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if unicode.IsSpace(r) || (r != '#' && r != '-' && cntext.IsSpaceOrPunct(r)) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// legalForms end the registered part of a company name; anything after the
// first one (a branch name: 天宫殿分公司) is dropped too.
var legalForms = []string{
	"股份有限公司", "有限责任公司", "有限合伙", "有限公司", "分公司", "总公司", "集团公司",
}

// industryWords are the trailing trade words that, once stripped, leave the
// distinctive core of a name (鑫杰装饰工程 → 鑫杰). Longest first.
var industryWords = []string{
	"房地产开发", "房地产经纪", "信息技术服务", "建筑装饰工程", "网络科技发展",
	"科技发展", "信息技术", "技术服务", "装饰工程", "建筑装饰", "建筑工程", "物业服务", "物业管理",
	"网络贸易", "网络科技", "数据科技", "数据服务部", "数据服务", "系统集成", "智能装备",
	"餐饮管理", "餐饮文化", "快餐管理", "酒店管理", "资产管理", "投资管理", "企业管理",
	"汽车销售", "汽车服务", "房屋中介", "美容美发", "艺术培训", "教育培训", "文化传媒",
	"文化传播", "广告传媒", "电子商务", "进出口", "国际贸易", "供应链管理", "供应链",
	"机械设备", "医疗器械", "生物科技", "新能源", "工作室", "服务部", "经营部", "货运部",
	"百货店", "小吃店", "便利店", "超市", "火锅店", "火锅", "网吧", "茶楼", "餐厅", "餐馆",
	"商贸", "贸易", "科技", "实业", "物流", "置业", "机械", "广告", "餐饮", "百货", "传媒",
	"咨询", "建材", "电子", "电器", "服饰", "食品", "药房", "诊所", "酒店", "宾馆", "门市",
	"中心", "商行", "店", "部", "行", "馆", "厂", "社",
}

// CompanyName is a registered name taken apart by [ParseCompanyName].
type CompanyName struct {
	// Full is the folded registered name.
	Full string
	// Short is the name people use: Full without its region prefix, legal
	// form, branch suffix and bracketed parts (重庆两江新区鑫杰装饰工程有限公司 →
	// 鑫杰装饰工程). It equals Full when nothing could be stripped.
	Short string
	// Core is Short without its trailing trade words (鑫杰装饰工程 → 鑫杰),
	// or Short itself when stripping would leave fewer than two characters.
	Core string
}

// regionPrefix is a name of a region unit that may open a registered name.
type regionPrefix struct {
	text  string
	runes int
	unit  string // the unit's code
	// after: an alias of a district-level unit (两江 for 两江新区), stripped
	// only right after the name of an enclosing unit (重庆两江卓豪置业 →
	// 卓豪置业, not 两江国际) and when at least four characters remain.
	after bool
}

// NameParser takes registered names apart, knowing the names of a region's
// units that open them (重庆, 重庆市, 渝北区, 两江新区). It is immutable and
// safe for concurrent use; the nil *NameParser knows no region.
type NameParser struct {
	dict     *region.Dict
	prefixes []regionPrefix // longest first
}

// NewNameParser returns the parser of the region's names. The prefixes are
// the official names of the units at district level and above (provinces,
// cities, districts, functional areas such as 两江新区), the aliases of the
// provinces and cities (重庆, 深圳: company names are registered with them),
// and, only right after an enclosing unit's name, the aliases of the
// districts (重庆两江…). Streets and communities never open a company name.
// A nil dictionary gives a parser that strips no region.
func NewNameParser(d *region.Dict) *NameParser {
	np := &NameParser{dict: d}
	if d == nil {
		return np
	}
	d.Units(func(u region.Unit) bool {
		if u.Level > region.LevelDistrict {
			return true
		}
		np.prefixes = append(np.prefixes, regionPrefix{text: Fold(u.Name), unit: u.Code})
		for _, a := range u.Aliases {
			np.prefixes = append(np.prefixes, regionPrefix{text: Fold(a), unit: u.Code, after: u.Level == region.LevelDistrict})
		}
		return true
	})
	for i := range np.prefixes {
		np.prefixes[i].text = strings.ReplaceAll(np.prefixes[i].text, " ", "")
		np.prefixes[i].runes = runeLen(np.prefixes[i].text)
	}
	slices.SortStableFunc(np.prefixes, func(a, b regionPrefix) int { return b.runes - a.runes })
	return np
}

// ParseCompanyName derives the short name and the distinctive core of a
// company (or place) name without knowing any region: only the legal form,
// branch, bracketed parts and trade words are stripped. Use a NameParser
// to strip the region's names too. It is pure and goroutine-safe.
func ParseCompanyName(name string) CompanyName { return (*NameParser)(nil).Parse(name) }

// Parse derives the short name and the distinctive core of a company (or
// place) name. Goroutine-safe.
func (np *NameParser) Parse(name string) CompanyName {
	full := Fold(stripBracketed(name))
	s := strings.ReplaceAll(full, " ", "")
	// Region prefixes, possibly stacked (重庆市渝北区…), when a name remains.
	if np != nil {
		last := ""
		for changed := true; changed; {
			changed = false
			for _, p := range np.prefixes {
				need := 2
				if p.after {
					if last == "" || last == p.unit || !np.dict.IsAncestor(last, p.unit) {
						continue
					}
					need = 4
				}
				if strings.HasPrefix(s, p.text) && runeLen(s)-p.runes >= need {
					s = s[len(p.text):]
					last = p.unit
					changed = true
					break
				}
			}
		}
	}
	// Legal form and everything after it (branch names).
	cut := -1
	for _, f := range legalForms {
		if i := strings.Index(s, f); i > 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut > 0 {
		s = s[:cut]
	}
	short := s
	core := short
	for range 3 {
		stripped := false
		for _, w := range industryWords {
			if strings.HasSuffix(core, w) && runeLen(core)-runeLen(w) >= 2 {
				core = core[:len(core)-len(w)]
				stripped = true
				break
			}
		}
		if !stripped {
			break
		}
	}
	if short == "" {
		short = full
	}
	if core == "" {
		core = short
	}
	return CompanyName{Full: full, Short: short, Core: core}
}

// stripBracketed removes bracketed parts: （重庆）, (有限合伙), [分店].
func stripBracketed(s string) string {
	if !strings.ContainsAny(s, "(（[【〔") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch cntext.FoldWidthRune(r) {
		case '(', '[':
			depth++
			continue
		case ')', ']':
			if depth > 0 {
				depth--
			}
			continue
		}
		if r == '（' {
			depth++
			continue
		}
		if r == '）' {
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// queryText is a parsed query.
type queryText struct {
	text    string // folded, spaces kept
	compact string // folded, no spaces
	hasHan  bool
	latin   string // the ASCII letters, lower case, when the query has any
	// pyFull and pyInit are the query with each Han character replaced by
	// its pinyin (full or first letter), set when the query has letters.
	pyFull, pyInit string
	pureLatin      bool // only ASCII letters (and spaces)
}

// maxQueryRunes caps the query length: longer text is cut.
const maxQueryRunes = 64

// parseQuery folds and classifies a query.
func parseQuery(s string) queryText {
	q := queryText{text: Fold(s)}
	if runeLen(q.text) > maxQueryRunes {
		q.text = strings.TrimRight(string([]rune(q.text)[:maxQueryRunes]), " ")
	}
	q.compact = strings.ReplaceAll(q.text, " ", "")
	var latin strings.Builder
	pure := q.compact != ""
	for _, r := range q.compact {
		switch {
		case cntext.IsHan(r):
			q.hasHan = true
			pure = false
		case r >= 'a' && r <= 'z':
			latin.WriteRune(r)
		default:
			pure = false
		}
	}
	q.latin = latin.String()
	q.pureLatin = pure
	if q.latin != "" {
		q.pyFull, q.pyInit = pinyinOf(q.compact, true)
	}
	return q
}
