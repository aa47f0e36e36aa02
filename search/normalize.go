package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// Fold is the text normalisation applied to everything indexed and to every
// query: full-width to half-width, the common traditional characters to
// simplified ones, ASCII lower case, brackets and punctuation dropped, and
// runs of white space collapsed to one space. It is pure and goroutine-safe.
func Fold(s string) string {
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

// regionPrefixes are stripped from the front of company and place names,
// longest first. They are the administrative names a clerk writes before the
// distinctive part of a name and that nobody says.
var regionPrefixes = []string{
	"重庆市两江新区", "重庆两江新区", "重庆市渝北区", "重庆市江北区", "重庆市北碚区",
	"重庆市渝中区", "重庆市沙坪坝区", "重庆市九龙坡区", "重庆市南岸区",
	"两江新区", "重庆市", "重庆",
	"渝北区", "江北区", "北碚区", "渝中区", "沙坪坝区", "九龙坡区", "南岸区",
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

// ParseCompanyName derives the short name and the distinctive core of a
// company (or place) name. It is pure and goroutine-safe.
func ParseCompanyName(name string) CompanyName {
	full := Fold(stripBracketed(name))
	s := strings.ReplaceAll(full, " ", "")
	// Region prefixes, possibly stacked (重庆市渝北区…); 两江 after 重庆 is a
	// region too (重庆两江卓豪置业 → 卓豪置业) when a name remains.
	for changed := true; changed; {
		changed = false
		for _, p := range regionPrefixes {
			if strings.HasPrefix(s, p) && runeLen(s)-runeLen(p) >= 2 {
				s = s[len(p):]
				changed = true
				break
			}
		}
	}
	if strings.HasPrefix(full, "重庆两江") && strings.HasPrefix(s, "两江") && runeLen(s) >= 6 {
		s = s[len("两江"):]
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
