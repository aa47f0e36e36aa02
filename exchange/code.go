package exchange

import (
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/internal/cntext"
)

// CodeKind says what a cleaned identification code is.
type CodeKind int

// The kinds of codes a department table carries.
const (
	CodeNone    CodeKind = iota // empty after cleaning
	CodeUSCC                    // an 18-character unified social credit code with a valid check character
	CodeOrg                     // a 9-character organisation code (GB 11714) with a valid check character
	CodeRegNo                   // a 15-digit former registration number (注册号)
	CodeInvalid                 // something else: a typo, a wrong check character, another number
)

func (k CodeKind) String() string {
	return [...]string{"none", "uscc", "org_code", "reg_no", "invalid"}[k]
}

// maxCodeBytes bounds the input CleanCode looks at, maxCodeRunes what
// it keeps (so that cleaning a cleaned code keeps all of it).
const (
	maxCodeBytes = 256
	maxCodeRunes = 60
)

// CleanCode cleans a code as departments write it — full-width characters,
// lower case, spaces, hyphens, dots, a leading apostrophe (Excel's text
// marker), zero-width characters — and classifies it. The cleaned code is
// returned whatever its kind (for the feedback table).
func CleanCode(s string) (string, CodeKind) {
	if len(s) > maxCodeBytes {
		s = s[:maxCodeBytes]
	}
	var b strings.Builder
	b.Grow(len(s))
	kept := 0
	for _, r := range s {
		if kept >= maxCodeRunes {
			break
		}
		r = cntext.FoldWidthRune(r)
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '\'' || r == '_' || r == '\t' || r == '\u200b' || r == '\ufeff' || r == '\u00a0' || r == '\u3000' || r == '—' || r == '·' || r == utf8.RuneError:
			continue // dropped
		default:
			b.WriteRune(r) // anything else makes it invalid below
		}
		kept++
	}
	c := b.String()
	switch {
	case c == "":
		return c, CodeNone
	case len(c) == 18:
		if geo.ValidateUSCC(c) == nil {
			return c, CodeUSCC
		}
	case len(c) == 9:
		if validOrgCode(c) {
			return c, CodeOrg
		}
	case len(c) == 15 && allDigits(c):
		return c, CodeRegNo
	}
	return c, CodeInvalid
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// validOrgCode checks a GB 11714 organisation code: eight digits or
// capital letters and a check character (0-9 or X).
func validOrgCode(c string) bool {
	if len(c) != 9 {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		ch := c[i]
		var v int
		switch {
		case ch >= '0' && ch <= '9':
			v = int(ch - '0')
		case ch >= 'A' && ch <= 'Z':
			v = int(ch-'A') + 10
		default:
			return false
		}
		sum += v * orgWeights[i]
	}
	want := byte('0' + (11-sum%11)%11)
	switch 11 - sum%11 {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	}
	return c[8] == want
}
