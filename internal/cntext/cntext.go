package cntext

import (
	"strconv"
	"strings"
	"unicode"
)

// FoldWidthRune maps a full-width ASCII variant (U+FF01..U+FF5E) to its
// half-width form and the ideographic space U+3000 to an ASCII space. A few
// CJK punctuation marks that stand for ASCII ones are mapped too (。、【】「」).
// Other runes are returned unchanged.
func FoldWidthRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	}
	switch r {
	case '。':
		return '.'
	case '、':
		return ','
	case '【', '「', '『', '〔':
		return '['
	case '】', '」', '』', '〕':
		return ']'
	case '—', '–', '―', '－', '~', '～':
		return '-'
	}
	return r
}

// SimplifyRune maps a traditional Chinese character common in addresses
// (號, 東, 廣, 區, 樓, …) to its simplified form; other runes are unchanged.
func SimplifyRune(r rune) rune { return simplifyRune(r) }

// FoldRune applies width folding, traditional→simplified conversion and
// ASCII upper-casing to one rune. It is a 1:1 rune mapping.
func FoldRune(r rune) rune {
	r = FoldWidthRune(r)
	if r >= 'a' && r <= 'z' {
		return r - 'a' + 'A'
	}
	if r < 0x80 {
		return r
	}
	return simplifyRune(r)
}

// Fold applies [FoldRune] to every rune of s. The result has exactly as many
// runes as s, so rune offsets are preserved. Invalid UTF-8 bytes become U+FFFD.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(FoldRune(r))
	}
	return b.String()
}

// IsHan reports whether r is a CJK unified ideograph.
func IsHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// IsSpaceOrPunct reports whether r is whitespace, a punctuation mark or a
// symbol that carries no address content (quotes, brackets, commas, ·, …).
// The characters '#' and '-' are NOT considered punctuation here: they carry
// meaning in addresses (3#楼, 5-1).
func IsSpaceOrPunct(r rune) bool {
	if r == '#' || r == '-' {
		return false
	}
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == '·' || r == '•' || unicode.IsControl(r)
}

// DigitValue returns the value of a single Chinese or Arabic digit character
// (0-9, 〇/零/O used as zero, 一..九, 两, 壹..玖) and whether r is one.
func DigitValue(r rune) (int, bool) {
	switch r {
	case '0', '〇', '零', '○', 'Ｏ':
		return 0, true
	case '1', '一', '壹', '幺':
		return 1, true
	case '2', '二', '两', '贰', '兩':
		return 2, true
	case '3', '三', '叁':
		return 3, true
	case '4', '四', '肆':
		return 4, true
	case '5', '五', '伍':
		return 5, true
	case '6', '六', '陆':
		return 6, true
	case '7', '七', '柒':
		return 7, true
	case '8', '八', '捌':
		return 8, true
	case '9', '九', '玖':
		return 9, true
	}
	return 0, false
}

// unitValue returns the multiplier of a Chinese numeral unit character.
func unitValue(r rune) (int, bool) {
	switch r {
	case '十', '拾':
		return 10, true
	case '百', '佰':
		return 100, true
	case '千', '仟':
		return 1000, true
	case '万':
		return 10000, true
	}
	return 0, false
}

// IsNumeralRune reports whether r can be part of a Chinese or Arabic numeral
// (digits, 〇零一…九两, 十百千万 and their financial forms).
func IsNumeralRune(r rune) bool {
	if _, ok := DigitValue(r); ok {
		return true
	}
	_, ok := unitValue(r)
	return ok
}

// ParseNumber parses an Arabic or Chinese numeral: "68", "六十八", "一百零五",
// "十五", "两", "三", "二〇八" (digit by digit) and mixed "1百零5". The letter O
// is accepted as zero only between Chinese digits ("一O八O"). It returns false
// for an empty string, any other character, or a value above 10^9.
func ParseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	rs := []rune(s)
	hasUnit := false
	for i, r := range rs {
		if r == 'O' || r == 'o' {
			if i == 0 {
				return 0, false
			}
			rs[i] = '〇'
			continue
		}
		if _, ok := unitValue(r); ok {
			hasUnit = true
			continue
		}
		if _, ok := DigitValue(r); !ok {
			return 0, false
		}
	}
	if !hasUnit {
		if len(rs) > 9 {
			return 0, false
		}
		n := 0
		for _, r := range rs {
			d, _ := DigitValue(r)
			n = n*10 + d
		}
		return n, true
	}
	total, section, digit := 0, 0, -1
	for _, r := range rs {
		if d, ok := DigitValue(r); ok {
			if digit >= 0 && d != 0 {
				// two digits in a row with units ("十五六") are not a number
				if digit != 0 {
					return 0, false
				}
			}
			digit = d
			continue
		}
		u, _ := unitValue(r)
		if u == 10000 {
			if digit < 0 && section == 0 {
				return 0, false
			}
			if digit > 0 {
				section += digit
			}
			total += section * 10000
			section, digit = 0, -1
			continue
		}
		if digit < 0 {
			if u != 10 || section != 0 {
				return 0, false
			}
			digit = 1 // "十五" = 15
		}
		section += digit * u
		digit = -1
	}
	if digit > 0 {
		section += digit
	}
	total += section
	if total > 1_000_000_000 {
		return 0, false
	}
	return total, true
}

// ConvertNumerals rewrites every maximal run of Chinese numeral characters
// that is immediately followed by a rune for which unit reports true into
// Arabic digits ("六十八号" → "68号"). unit receives the runes after the run
// (possibly empty); a nil unit converts every run. Runs that do not parse as a
// number are left unchanged.
func ConvertNumerals(s string, unit func(next []rune) bool) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); {
		r := rs[i]
		if !isChineseNumeral(r) {
			b.WriteRune(r)
			i++
			continue
		}
		j := i
		for j < len(rs) && (isChineseNumeral(rs[j]) || (rs[j] >= '0' && rs[j] <= '9') || (rs[j] == 'O' && j > i)) {
			j++
		}
		var ok bool
		if unit == nil {
			ok = true
		} else {
			ok = unit(rs[j:])
		}
		if ok {
			if n, good := ParseNumber(string(rs[i:j])); good {
				b.WriteString(strconv.Itoa(n))
				i = j
				continue
			}
		}
		b.WriteString(string(rs[i:j]))
		i = j
	}
	return b.String()
}

// isChineseNumeral reports whether r is a Chinese (non-ASCII) numeral rune.
func isChineseNumeral(r rune) bool {
	if r < 0x80 {
		return false
	}
	return IsNumeralRune(r)
}

// EditDistance returns the Levenshtein distance between a and b counted in
// runes. It stops early and returns max+1 once the distance exceeds max
// (max < 0 means no limit).
func EditDistance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if max >= 0 {
		d := len(ra) - len(rb)
		if d < 0 {
			d = -d
		}
		if d > max {
			return max + 1
		}
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			if prev[j]+1 < c {
				c = prev[j] + 1
			}
			if cur[j-1]+1 < c {
				c = cur[j-1] + 1
			}
			cur[j] = c
			if c < best {
				best = c
			}
		}
		if max >= 0 && best > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
