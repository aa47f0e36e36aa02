package geo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// ErrInvalidIndustry means a text is neither a GB/T 4754-2017 industry code
// (or prefix) nor a name or common word of one. The *IndustryError that
// wraps it lists close matches.
var ErrInvalidIndustry = errors.New("geo: not a GB/T 4754 industry")

// Industry is one entry of the GB/T 4754-2017 table: a section (R), a
// division (R90) or a class (R9013), with its Chinese name.
type Industry struct {
	// Code is the section letter and up to four digits.
	Code string `json:"code"`
	// Name is the name in the standard (网吧活动).
	Name string `json:"name"`
}

// IndustryError is the error of a text that is no industry: the input and
// the closest entries of the table, best first (possibly none).
type IndustryError struct {
	Input  string
	Reason string
	Near   []Industry
}

func (e *IndustryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "geo: %q is not a GB/T 4754 industry: %s", e.Input, e.Reason)
	if len(e.Near) > 0 {
		b.WriteString("; did you mean ")
		for i, in := range e.Near {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %s", in.Code, in.Name)
		}
	}
	return b.String()
}

// Unwrap returns ErrInvalidIndustry.
func (e *IndustryError) Unwrap() error { return ErrInvalidIndustry }

// ValidateIndustryCode checks a GB/T 4754-2017 code or prefix as stored and
// filtered: a section letter A–T, then up to four digits whose first two (the
// division) belong to the section ("R", "R90", "R9013"; not "A9013").
// Upper case only: normalise input with ParseIndustry. This is the one
// syntax rule of industry codes in the module (entities, filters, siting
// rules). Errors wrap ErrInvalidIndustry.
func ValidateIndustryCode(code string) error {
	bad := func(reason string) error { return &IndustryError{Input: code, Reason: reason} }
	if len(code) < 1 || len(code) > 5 || code[0] < 'A' || code[0] > 'T' {
		return bad("want a section letter A-T and up to 4 digits, e.g. R9013")
	}
	for i := 1; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return bad("want a section letter A-T and up to 4 digits, e.g. R9013")
		}
	}
	if len(code) >= 3 {
		if s := sectionOf(code[1:3]); s != code[0] {
			if s == 0 {
				return bad("division " + code[1:3] + " does not exist")
			}
			return bad(fmt.Sprintf("division %s belongs to section %c, not %c", code[1:3], s, code[0]))
		}
	}
	return nil
}

// ParseIndustry turns what a person types into a GB/T 4754-2017 code or
// prefix: a code in any case with or without its section letter (r9013,
// 9013 → R9013), the name in the standard (网吧活动 → R9013, 餐饮业 → H62)
// or a common word (网吧 → R9013, 餐饮 → H62, 美发 → O8040). A text that
// fits nothing, or several entries equally, is an *IndustryError wrapping
// ErrInvalidIndustry that lists the close matches. Pure and goroutine-safe.
func ParseIndustry(s string) (string, error) {
	s = strings.TrimSpace(foldASCIIWidth(s))
	if s == "" {
		return "", &IndustryError{Input: s, Reason: "empty"}
	}
	if c := s[0]; c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		code := strings.ToUpper(s)
		if w, ok := lookupIndustryWord(code); ok { // KTV
			return w, nil
		}
		if code[0] >= '0' && code[0] <= '9' && len(code) >= 2 {
			if sec := sectionOf(code[:2]); sec != 0 {
				code = string(sec) + code // 9013 → R9013
			}
		}
		if err := ValidateIndustryCode(code); err != nil {
			return "", &IndustryError{Input: s, Reason: err.(*IndustryError).Reason}
		}
		return code, nil
	}
	if code, ok := lookupIndustryWord(s); ok {
		return code, nil
	}
	near := nearIndustries(s)
	if len(near) == 1 {
		return near[0].Code, nil
	}
	reason := "no class, name or common word fits"
	if len(near) > 1 {
		reason = "several classes fit"
	}
	if len(near) > 5 {
		near = near[:5]
	}
	return "", &IndustryError{Input: s, Reason: reason, Near: near}
}

// IndustryName returns the name of a code (section, division or one of the
// common classes of the table) and whether the table has it.
func IndustryName(code string) (string, bool) {
	n, ok := industryNames()[code]
	return n, ok
}

// industryNames is the table by code, built once (read-only afterwards).
var industryNames = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(industryTable))
	for _, in := range industryTable {
		m[in.Code] = in.Name
	}
	return m
})

// IndustryLabel returns the name shown beside an industry code (the
// industry_name of an entity's properties): the code's own name when the
// table has it, else that of its nearest ancestor in the table (group,
// division, section: a class missing from the table's selection is shown
// with its division's name). It is "" for a code outside GB/T 4754.
func IndustryLabel(code string) string {
	names := industryNames()
	for c := code; c != ""; c = c[:len(c)-1] {
		if n, ok := names[c]; ok {
			return n
		}
		if len(c) == 1 {
			break
		}
	}
	return ""
}

// nearIndustries ranks the entries of the table whose name or word shares
// the most characters with s (containment first).
func nearIndustries(s string) []Industry {
	type cand struct {
		in    Industry
		score int
	}
	var cs []cand
	add := func(in Industry, text string) {
		score := 0
		switch {
		case strings.Contains(text, s):
			score = 100 + utf8.RuneCountInString(s)
		case strings.Contains(s, text):
			score = 50 + utf8.RuneCountInString(text)
		default:
			for _, r := range s {
				if strings.ContainsRune(text, r) {
					score++
				}
			}
			if score < 2 && !(score == 1 && utf8.RuneCountInString(s) == 1) {
				return
			}
		}
		for i := range cs {
			if cs[i].in.Code == in.Code {
				cs[i].score = max(cs[i].score, score)
				return
			}
		}
		cs = append(cs, cand{in, score})
	}
	for _, in := range industryTable {
		add(in, in.Name)
	}
	for _, w := range industryWords {
		name, _ := IndustryName(w.code)
		add(Industry{Code: w.code, Name: name}, w.word)
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if a.score != b.score {
			return b.score - a.score
		}
		return strings.Compare(a.in.Code, b.in.Code)
	})
	if len(cs) > 0 && cs[0].score >= 100 {
		// a text contained in names: keep those only, and one when its
		// best is alone at the top (餐饮 inside 餐饮业 only)
		top := cs[0].score
		n := 0
		for n < len(cs) && cs[n].score == top {
			n++
		}
		if n == 1 {
			return []Industry{cs[0].in}
		}
		cs = cs[:n]
	}
	out := make([]Industry, len(cs))
	for i, c := range cs {
		out[i] = c.in
	}
	return out
}

func foldASCIIWidth(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= '！' && r <= '～' || r == '\u3000' }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '！' && r <= '～':
			return r - '！' + '!'
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
}

// sectionOf returns the section letter of a two-digit division, 0 when the
// division does not exist.
func sectionOf(div string) byte {
	if len(div) != 2 || div[0] < '0' || div[0] > '9' || div[1] < '0' || div[1] > '9' {
		return 0
	}
	d := int(div[0]-'0')*10 + int(div[1]-'0')
	for _, r := range sectionRanges {
		if d >= r.lo && d <= r.hi {
			return r.section
		}
	}
	return 0
}

// lookupIndustryWord finds a name of the table or a common word.
func lookupIndustryWord(s string) (string, bool) {
	for _, in := range industryTable {
		if in.Name == s {
			return in.Code, true
		}
	}
	for _, w := range industryWords {
		if w.word == s {
			return w.code, true
		}
	}
	return "", false
}
