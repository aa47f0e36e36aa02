package addressmatch

import (
	"strings"
	"unicode"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// numberUnits are the words after which a Chinese numeral is a number
// (六十八号 → 68号, 三单元 → 3单元). Longest first is not required: only the
// first rune after the numeral is inspected, plus two-rune words.
func isNumberUnit(next []rune) bool {
	if len(next) == 0 {
		return false
	}
	switch next[0] {
	case '号', '栋', '幢', '座', '层', '楼', '室', '房', '弄', '组', '期', '#', 'F', '-', '户', '排', '区', '街', '巷', '队', '社', '单':
		if next[0] == '单' {
			return len(next) > 1 && next[1] == '元'
		}
		return true
	}
	return unicode.IsDigit(next[0])
}

// Normalize returns the canonical form of an address string. It is a pure
// function, goroutine-safe and idempotent: Normalize(Normalize(x)) ==
// Normalize(x). It
//   - folds full-width characters to half-width and upper-cases ASCII letters,
//   - converts common traditional characters to simplified (號→号, 樓→楼),
//   - removes whitespace and punctuation (keeping '-' between digits/letters),
//   - converts Chinese numerals before unit words to Arabic digits
//     (六十八号 → 68号, 三单元 → 3单元, 一O八O弄 → 1080弄),
//   - canonicalises unit words: 幢/座/号楼/#楼 → 栋, a numbered 楼 or F → 层
//     (5楼, 5F, F5 → 5层), a numbered 房 → 室, a numbered # → 号,
//   - drops a leading 中国/中华人民共和国.
//
// Normalize does not consult the administrative dictionary; use
// [Parser.Canonical] for the form with omitted higher levels filled in.
func Normalize(s string) string {
	for i := 0; i < 4; i++ {
		n := normalizePass(s)
		if n == s {
			break
		}
		s = n
	}
	return s
}

func isAlnum(r rune) bool { return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') }
func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func normalizePass(s string) string {
	// 1. fold and strip separators.
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		r = cntext.FoldRune(r)
		if cntext.IsSpaceOrPunct(r) || r == unicode.ReplacementChar {
			continue
		}
		rs = append(rs, r)
	}
	// '-' only between alphanumerics.
	out := rs[:0]
	for i, r := range rs {
		if r == '-' {
			if len(out) == 0 || !isAlnum(out[len(out)-1]) || i+1 >= len(rs) || !(isAlnum(rs[i+1]) || cntext.IsNumeralRune(rs[i+1])) {
				continue
			}
		}
		out = append(out, r)
	}
	rs = out
	str := string(rs)
	for _, p := range []string{"中华人民共和国", "中国"} {
		if strings.HasPrefix(str, p) && len([]rune(str)) > len([]rune(p))+2 {
			str = strings.TrimPrefix(str, p)
		}
	}
	// 2. numerals before unit words.
	str = cntext.ConvertNumerals(str, isNumberUnit)
	// 3. unit words.
	rs = []rune(str)
	var b strings.Builder
	b.Grow(len(str))
	n := len(rs)
	prevAlnum := func(i int) bool { return i > 0 && isAlnum(rs[i-1]) }
	for i := 0; i < n; i++ {
		r := rs[i]
		switch r {
		case '#':
			if i+1 < n && rs[i+1] == '楼' {
				b.WriteRune('栋')
				i++
				continue
			}
			if prevAlnum(i) {
				b.WriteRune('号')
			}
			continue
		case '号':
			if i+1 < n && rs[i+1] == '楼' && prevAlnum(i) {
				b.WriteRune('栋')
				i++
				continue
			}
		case '幢':
			b.WriteRune('栋')
			continue
		case '座':
			if prevAlnum(i) {
				b.WriteRune('栋')
				continue
			}
		case '楼':
			if prevAlnum(i) {
				b.WriteRune('层')
				continue
			}
		case '房':
			if i > 0 && isDigit(rs[i-1]) {
				b.WriteRune('室')
				continue
			}
		case 'F':
			// 5F → 5层 ; F5 → 5层 (F followed by digits and then a non-unit)
			if i > 0 && isDigit(rs[i-1]) && (i+1 == n || !isAlnum(rs[i+1])) {
				b.WriteRune('层')
				continue
			}
			if (i == 0 || !isAlnum(rs[i-1])) && i+1 < n && isDigit(rs[i+1]) {
				j := i + 1
				for j < n && isDigit(rs[j]) {
					j++
				}
				if j == n || !(isAlnum(rs[j]) || rs[j] == '栋' || rs[j] == '层' || rs[j] == '号' || rs[j] == '室' || rs[j] == '-' || rs[j] == '单' || rs[j] == '楼' || rs[j] == '幢' || rs[j] == '座' || rs[j] == '#') {
					b.WriteString(string(rs[i+1 : j]))
					b.WriteRune('层')
					i = j - 1
					continue
				}
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
