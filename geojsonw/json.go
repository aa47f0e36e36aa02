package geojsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped as encoding/json does
// with HTML escaping off: quotes, backslashes and control characters
// escaped, U+2028 and U+2029 as \u2028 and \u2029, invalid UTF-8 as
// \ufffd.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	if plain(s) { // the usual case: copied as it is
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// safeASCII marks the ASCII bytes a JSON string holds unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plain reports whether s is valid UTF-8 needing no escape: printable
// ASCII other than quote and backslash, and valid two- and three-byte
// sequences other than U+2028 and U+2029 (CJK text). Anything else (four-byte
// sequences included) takes AppendString's general path.
func plain(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			if !safeASCII[c] {
				return false
			}
			i++
		case c >= 0xE0 && c < 0xF0 && i+2 < len(s):
			c1, c2 := s[i+1], s[i+2]
			if c1&0xC0 != 0x80 || c2&0xC0 != 0x80 ||
				(c == 0xE0 && c1 < 0xA0) || // overlong
				(c == 0xED && c1 >= 0xA0) || // surrogate
				(c == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9)) { // U+2028, U+2029
				return false
			}
			i += 3
		case c >= 0xC2 && c < 0xE0 && i+1 < len(s):
			if s[i+1]&0xC0 != 0x80 {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

// AppendFloat appends f as encoding/json writes a float64 (shortest
// representation, exponent form below 1e-6 and from 1e21). NaN and
// infinities, which JSON cannot hold, are written as null.
func AppendFloat(dst []byte, f float64) []byte {
	if out, ok := appendShortest(dst, f); ok { // coordinates (shortfloat.go)
		return out
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// AppendRounded2 appends AppendFloat(dst, RoundTo(v, 2)) (a distance in
// metres to the centimetre), the same bytes, without the general
// shortest-representation search for values from 0 to 1e12: the double
// nearest to k/100 is written as the decimal k/100 without trailing zeros,
// the shortest that reads back as it at that size.
func AppendRounded2(dst []byte, v float64) []byte {
	if !(v >= 0 && v < 1e12) {
		return AppendFloat(dst, RoundTo(v, 2))
	}
	k := int64(v*100 + 0.5) // as RoundTo
	dst = strconv.AppendInt(dst, k/100, 10)
	switch c := k % 100; {
	case c == 0:
	case c%10 == 0:
		dst = append(dst, '.', byte('0'+c/10))
	default:
		dst = append(dst, '.', byte('0'+c/10), byte('0'+c%10))
	}
	return dst
}

// AppendInt appends n in decimal.
func AppendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// AppendUint appends n in decimal.
func AppendUint(dst []byte, n uint64) []byte { return strconv.AppendUint(dst, n, 10) }

// AppendBool appends true or false.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// AppendKey appends a member name and its colon, preceded by a comma when
// more is true: `,"key":`. The key must need no escaping.
func AppendKey(dst []byte, more bool, key string) []byte {
	if more {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// AppendStrings appends a JSON array of strings (null for a nil slice, as
// encoding/json writes one).
func AppendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

// AppendPoint appends [lon,lat].
func AppendPoint(dst []byte, lon, lat float64) []byte {
	dst = append(dst, '[')
	dst = AppendFloat(dst, lon)
	dst = append(dst, ',')
	dst = AppendFloat(dst, lat)
	return append(dst, ']')
}
