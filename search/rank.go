package search

import (
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// Match kinds, best first. A hit reports the kind of its best match.
const (
	MatchExact     = "exact"     // the query is a whole name
	MatchPrefix    = "prefix"    // a name starts with the query
	MatchSubstring = "substring" // a name contains the query
	MatchPinyin    = "pinyin"    // full pinyin or initials (possibly mixed with characters)
	MatchFuzzy     = "fuzzy"     // a name within one or two edits of the query
	MatchPartial   = "partial"   // most of the query's character pairs are in a name
	MatchKind      = "kind"      // the query names the kind of place (学校, school)
	MatchAddress   = "address"   // the address contains the query
)

// matcher scores documents against one parsed query.
type matcher struct {
	q       queryText
	qRunes  []rune
	qLen    int
	bigrams []string
	// pairs are the bigrams as rune pairs (first<<32 | second), for
	// pairsIn; nil when there are more than 64.
	pairs []uint64
}

func newMatcher(q queryText) *matcher {
	m := &matcher{q: q, qRunes: []rune(q.compact)}
	m.qLen = len(m.qRunes)
	for i := 0; i+1 < len(m.qRunes); i++ {
		m.bigrams = append(m.bigrams, string(m.qRunes[i:i+2]))
	}
	if len(m.bigrams) <= 64 {
		m.pairs = make([]uint64, len(m.bigrams))
		for i := range m.pairs {
			m.pairs[i] = runePair(m.qRunes[i], m.qRunes[i+1])
		}
	}
	return m
}

func runePair(a, b rune) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// pairsIn is the number of the query's bigrams (each occurrence in the
// query counted) found in t: the count of strings.Contains(t, b) over
// m.bigrams (countPairs, TestPairsInSame), in one pass over t's runes
// instead of one substring search per bigram. A byte of t that is not
// UTF-8 matches no rune (strings.Contains would not match it either).
func (m *matcher) pairsIn(t string) int {
	if m.pairs == nil {
		return countPairs(m.bigrams, t)
	}
	var found uint64
	prev := rune(-1)
	for i, w := 0, 0; i < len(t); i += w {
		r := rune(t[i])
		w = 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(t[i:])
			if r == utf8.RuneError && w == 1 {
				r = -1
			}
		}
		if prev >= 0 && r >= 0 {
			p := runePair(prev, r)
			for j, q := range m.pairs {
				if q == p {
					found |= 1 << j
				}
			}
		}
		prev = r
	}
	return bits.OnesCount64(found)
}

// countPairs is the number of bigrams found in t, one substring search
// each.
func countPairs(bigrams []string, t string) int {
	n := 0
	for _, b := range bigrams {
		if strings.Contains(t, b) {
			n++
		}
	}
	return n
}

// score returns the quality of d for the query in [0, 1] and the kind of
// the best match. The tiers are ordered: exact > prefix > substring >
// pinyin > fuzzy > partial > kind > address.
func (m *matcher) score(d *doc) (float64, string) {
	best, how := 0.0, ""
	take := func(s float64, h string) {
		if s > best {
			best, how = s, h
		}
	}
	q := m.q.compact
	// Cheap tiers first (exact, prefix, substring, pinyin); the edit
	// distances only for the names that could still beat them.
	for i := range d.names {
		v := &d.names[i]
		s, h := m.directScore(v)
		take(s*v.weight, h)
		if m.q.latin != "" && v.short {
			take(m.pinyinScore(v)*v.weight, MatchPinyin)
		}
	}
	if m.q.hasHan && m.qLen >= 3 {
		for i := range d.names {
			v := &d.names[i]
			if maxFuzzyScore*v.weight <= best {
				continue
			}
			s, h := m.fuzzyScore(v)
			take(s*v.weight, h)
		}
	}
	if best >= 0.8 {
		return best, how
	}
	for _, k := range d.kinds {
		if k == q {
			take(0.45, MatchKind)
		}
	}
	if d.addr != "" && m.qLen >= 2 {
		if strings.Contains(d.addr, q) {
			take(0.36+0.08*ratio(m.qLen, runeLen(d.addr)), MatchAddress)
		} else if len(m.bigrams) >= 3 {
			if c := float64(m.pairsIn(d.addr)) / float64(len(m.bigrams)); c >= 0.8 {
				take(0.2+0.1*c, MatchAddress)
			}
		}
	}
	return best, how
}

func ratio(a, b int) float64 {
	if b <= 0 {
		return 0
	}
	r := float64(a) / float64(b)
	if r > 1 {
		r = 1
	}
	return r
}

// maxFuzzyScore is the best score fuzzyScore gives.
const maxFuzzyScore = 0.78

// directScore rates the query against one name: exact, prefix or
// substring.
func (m *matcher) directScore(v *nameVar) (float64, string) {
	q := m.q.compact
	t := v.text
	// One search: the first occurrence is at 0 exactly when t starts
	// with q.
	switch i := strings.Index(t, q); {
	case i < 0:
		return 0, ""
	case i == 0 && len(t) == len(q):
		return 1, MatchExact
	case i == 0:
		return 0.9 + 0.08*ratio(m.qLen, runeLen(t)), MatchPrefix
	}
	return 0.8 + 0.08*ratio(m.qLen, runeLen(t)), MatchSubstring
}

// fuzzyScore rates a query with Han characters (at least three) against a
// name it is not part of: within one or two edits of the name or of a
// part of it, or most of its character pairs in it.
func (m *matcher) fuzzyScore(v *nameVar) (float64, string) {
	q := m.q.compact
	t := v.text
	if strings.Contains(t, q) {
		return 0, "" // directScore's
	}
	best, how := 0.0, ""
	maxD := 1
	if m.qLen >= 8 {
		maxD = 2
	}
	// Each edit removes at most two of the query's character pairs: a
	// name with fewer pairs in common cannot be within maxD edits.
	pairs := m.pairsIn(t)
	if pairs >= len(m.bigrams)-2*maxD {
		tLen := runeLen(t)
		var d int
		if m.qLen <= 4 || tLen <= m.qLen+1 {
			d = editDistance(m.qRunes, t, maxD)
		} else {
			d = substringDistance(m.qRunes, t, maxD)
		}
		if d <= maxD {
			best, how = 0.72-0.12*float64(d)+0.06*ratio(m.qLen, tLen), MatchFuzzy
		}
	}
	if len(m.bigrams) >= 2 {
		if c := float64(pairs) / float64(len(m.bigrams)); c >= 0.6 {
			if s := 0.3 + 0.25*c; s > best {
				best, how = s, MatchPartial
			}
		}
	}
	return best, how
}

// editDistance is the Levenshtein distance between q and t in runes,
// capped at max+1, without allocating for names of up to 64 runes.
func editDistance(q []rune, t string, max int) int {
	var buf [2 * (maxQueryRunes + 2)]int
	tr := make([]rune, 0, maxQueryRunes)
	for _, r := range t {
		tr = append(tr, r)
	}
	if d := len(q) - len(tr); d > max || -d > max {
		return max + 1
	}
	n := len(tr)
	var prev, cur []int
	if 2*(n+1) <= len(buf) {
		prev, cur = buf[:n+1], buf[n+1:2*(n+1)]
	} else {
		prev, cur = make([]int, n+1), make([]int, n+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(q); i++ {
		cur[0] = i
		rowBest := i
		for j := 1; j <= n; j++ {
			c := prev[j-1]
			if q[i-1] != tr[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
			rowBest = min(rowBest, c)
		}
		if rowBest > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[n]
}

// pinyinScore rates a query with ASCII letters against the pinyin of a
// short name: full pinyin, initials, or characters mixed with initials
// (鑫jzsgc).
func (m *matcher) pinyinScore(v *nameVar) float64 {
	q := m.q
	best := 0.0
	take := func(s float64) {
		if s > best {
			best = s
		}
	}
	if q.pureLatin {
		l := q.latin
		switch {
		case v.py() == l:
			take(0.95)
		case strings.HasPrefix(v.py(), l) && len(l) >= 2:
			take(0.85 + 0.05*ratio(len(l), len(v.py())))
		}
		switch {
		case v.pyi() == l && len(l) >= 2:
			take(0.9)
		case strings.HasPrefix(v.pyi(), l) && len(l) >= 2:
			take(0.8 + 0.05*ratio(len(l), len(v.pyi())))
		}
		if best == 0 && len(l) >= 5 {
			maxD := 1
			if len(l) >= 8 {
				maxD = 2
			}
			p := v.py()
			if len(p) > len(l)+maxD {
				p = p[:len(l)]
			}
			if d := cntext.EditDistance(l, p, maxD); d <= maxD {
				take(0.62 - 0.08*float64(d))
			}
		}
		return best
	}
	// Characters mixed with initials: align rune by rune.
	if utf8.RuneCountInString(v.text) == len(v.pyi()) && len(m.qRunes) <= len(v.pyi()) {
		tr := []rune(v.text)
		for p := 0; p+len(m.qRunes) <= len(tr); p++ {
			ok := true
			for k, r := range m.qRunes {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
					if v.pyi()[p+k] != byte(r) {
						ok = false
						break
					}
				} else if tr[p+k] != r {
					ok = false
					break
				}
			}
			if ok {
				switch {
				case p == 0 && len(m.qRunes) == len(tr):
					take(0.93)
				case p == 0:
					take(0.85 + 0.05*ratio(len(m.qRunes), len(tr)))
				default:
					take(0.75)
				}
				break
			}
		}
	}
	// Characters mixed with full pinyin (鑫jie装饰).
	if q.pyFull != "" && len(q.pyFull) >= 2 && strings.HasPrefix(v.py(), q.pyFull) {
		s := 0.78
		for _, r := range m.qRunes {
			if cntext.IsHan(r) && !strings.ContainsRune(v.text, r) {
				s = 0.6
				break
			}
		}
		take(s)
	}
	return best
}

// substringDistance is the smallest edit distance between q and any
// substring of t (Sellers' semi-global alignment), capped at max+1.
func substringDistance(q []rune, t string, max int) int {
	n := len(q)
	var buf [2 * (maxQueryRunes + 2)]int
	var prev, cur []int
	if 2*(n+1) <= len(buf) {
		prev, cur = buf[:n+1], buf[n+1:2*(n+1)]
	} else {
		prev, cur = make([]int, n+1), make([]int, n+1)
	}
	for i := range prev {
		prev[i] = i
	}
	best := prev[n]
	for _, tc := range t {
		cur[0] = 0
		for i := 1; i <= n; i++ {
			c := prev[i-1]
			if q[i-1] != tc {
				c++
			}
			c = min(c, prev[i]+1, cur[i-1]+1)
			cur[i] = c
		}
		if cur[n] < best {
			best = cur[n]
		}
		prev, cur = cur, prev
	}
	if best > max {
		return max + 1
	}
	return best
}
