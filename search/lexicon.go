package search

import (
	"bytes"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/paulmach/orb"
)

// lexicon is the in-memory half of the index, built beside the Bleve index
// from the same docs. It answers the look-ups that Bleve answers slowly or
// at a high build cost:
//
//   - pinyin: the full pinyin and the initials of every short name, each in
//     one sorted array (a prefix is a binary search, a pinyin typo a
//     Levenshtein walk of the implicit trie). As Bleve terms they were every
//     prefix of every reading, 30% of all indexed tokens.
//   - single characters (CJKBigramUnigram only): per character, the docs
//     whose short names contain it, best ranked first (a name that starts
//     with it, then shorter names). A one-character query takes the head of
//     one list instead of scoring a posting list of hundreds of thousands
//     of documents; the typo pass counts the query's characters per doc.
//
// A lexicon is immutable once built. Docs written after it was built are
// kept in Index.extra and checked one by one; stale entries (a doc since
// replaced or deleted) are harmless because ranking reads the current doc.
type lexicon struct {
	docs    []*doc
	layers  []uint8           // layerBit of each doc: filters without touching the doc
	chars   map[rune][]uint32 // doc ordinals, best first; nil without unigrams
	py, pyi pyIndex
	// stats caches the document frequencies of the generation's Bleve
	// index for the queries (termstats.go): the one part of a lexicon
	// that changes after the build.
	stats termStats
}

// pyIndex is a sorted array of pinyin strings, each with a doc ordinal.
// The strings live in one arena, so the array holds no pointers.
type pyIndex struct {
	arena []byte
	ents  []pyEnt
}

type pyEnt struct {
	off, n, ord uint32
}

func (p *pyIndex) str(i int) []byte {
	e := p.ents[i]
	return p.arena[e.off : e.off+e.n]
}

func (p *pyIndex) add(s string, ord uint32) {
	p.ents = append(p.ents, pyEnt{off: uint32(len(p.arena)), n: uint32(len(s)), ord: ord})
	p.arena = append(p.arena, s...)
}

func (p *pyIndex) sort() {
	slices.SortFunc(p.ents, func(a, b pyEnt) int {
		if c := bytes.Compare(p.arena[a.off:a.off+a.n], p.arena[b.off:b.off+b.n]); c != 0 {
			return c
		}
		return int(a.ord) - int(b.ord)
	})
}

// prefixRange returns the entries [lo, hi) that start with prefix.
func (p *pyIndex) prefixRange(prefix string) (int, int) {
	pb := []byte(prefix)
	lo := sort.Search(len(p.ents), func(i int) bool { return bytes.Compare(p.str(i), pb) >= 0 })
	hi := lo + sort.Search(len(p.ents)-lo, func(i int) bool { return !bytes.HasPrefix(p.str(lo+i), pb) })
	return lo, hi
}

// fuzzyPrefixes calls visit with every range of entries that start with a
// prefix of at least minLen and at most maxLen bytes within maxD edits of
// q (each matching entry once). It walks the sorted array as a trie,
// carrying one row of the edit-distance table per depth and pruning when
// the row's minimum exceeds maxD.
func (p *pyIndex) fuzzyPrefixes(q string, maxD, minLen, maxLen int, visit func(lo, hi int)) {
	rows := make([][]int, maxLen+1)
	for i := range rows {
		rows[i] = make([]int, len(q)+1)
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	var walk func(lo, hi, depth int)
	walk = func(lo, hi, depth int) {
		row := rows[depth]
		if depth >= minLen && row[len(q)] <= maxD {
			visit(lo, hi)
			return
		}
		if depth == maxLen || slices.Min(row) > maxD {
			return
		}
		i := lo
		for i < hi && int(p.ents[i].n) <= depth {
			i++ // entries that end here
		}
		next := rows[depth+1]
		for i < hi {
			c := p.str(i)[depth]
			j := i + sort.Search(hi-i, func(k int) bool { return p.str(i + k)[depth] > c })
			next[0] = depth + 1
			for k := 1; k <= len(q); k++ {
				v := row[k-1]
				if q[k-1] != c {
					v++
				}
				v = min(v, row[k]+1, next[k-1]+1)
				next[k] = v
			}
			walk(i, j, depth+1)
			i = j
		}
	}
	walk(0, len(p.ents), 0)
}

// charEnt is one posting of a character while building.
type charEnt struct {
	ord   uint32
	score float32
}

// buildLexicon builds the lexicon of docs (sorted by key; a doc's ordinal
// is its index). The docs are split among the build workers; their parts
// are concatenated, then the pinyin arrays and character lists sorted in
// parallel. withChars builds the character lists (CJKBigramUnigram).
func buildLexicon(docs []*doc, withChars bool) *lexicon {
	w := buildWorkers()
	type part struct {
		chars   map[rune][]charEnt
		py, pyi pyIndex
	}
	parts := make([]part, w)
	var wg sync.WaitGroup
	per := (len(docs) + w - 1) / w
	for k := range parts {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			pt := &parts[k]
			if withChars {
				pt.chars = map[rune][]charEnt{}
			}
			var seen []charEnt // rune scores of one doc (ord holds the rune)
			for i := k * per; i < min(len(docs), (k+1)*per); i++ {
				d, ord := docs[i], uint32(i)
				seen = seen[:0]
				for vi := range d.names {
					v := &d.names[vi]
					if !v.short {
						continue
					}
					if v.py() != "" && !hasPinyin(d, vi, (*nameVar).py) {
						pt.py.add(v.py(), ord)
					}
					if v.pyi() != "" && !hasPinyin(d, vi, (*nameVar).pyi) {
						pt.pyi.add(v.pyi(), ord)
					}
					if !withChars {
						continue
					}
					n := utf8.RuneCountInString(v.text)
					pos := 0
					for _, r := range v.text {
						if !cntext.IsHan(r) {
							pos++
							continue
						}
						s := 0.8 + 0.08/float64(n)
						switch {
						case n == 1:
							s = 1
						case pos == 0:
							s = 0.9 + 0.08/float64(n)
						}
						s *= v.weight
						found := false
						for j := range seen {
							if seen[j].ord == uint32(r) {
								seen[j].score = max(seen[j].score, float32(s))
								found = true
								break
							}
						}
						if !found {
							seen = append(seen, charEnt{ord: uint32(r), score: float32(s)})
						}
						pos++
					}
				}
				for _, e := range seen {
					r := rune(e.ord)
					pt.chars[r] = append(pt.chars[r], charEnt{ord: ord, score: e.score})
				}
			}
		}(k)
	}
	wg.Wait()
	lx := &lexicon{docs: docs, layers: make([]uint8, len(docs))}
	for i, d := range docs {
		lx.layers[i] = layerBit(d.layer)
	}
	// Concatenate the parts' pinyin (offsets shifted) and sort both arrays
	// in parallel with the character lists. The arrays are made at their
	// size first: appended part by part they kept up to a quarter more.
	var pyA, pyE, pyiA, pyiE int
	for k := range parts {
		pyA, pyE = pyA+len(parts[k].py.arena), pyE+len(parts[k].py.ents)
		pyiA, pyiE = pyiA+len(parts[k].pyi.arena), pyiE+len(parts[k].pyi.ents)
	}
	lx.py = pyIndex{arena: make([]byte, 0, pyA), ents: make([]pyEnt, 0, pyE)}
	lx.pyi = pyIndex{arena: make([]byte, 0, pyiA), ents: make([]pyEnt, 0, pyiE)}
	for k := range parts {
		for _, pair := range [][2]*pyIndex{{&lx.py, &parts[k].py}, {&lx.pyi, &parts[k].pyi}} {
			dst, src := pair[0], pair[1]
			base := uint32(len(dst.arena))
			dst.arena = append(dst.arena, src.arena...)
			for _, e := range src.ents {
				e.off += base
				dst.ents = append(dst.ents, e)
			}
			src.arena, src.ents = nil, nil
		}
	}
	wg.Add(2)
	go func() { defer wg.Done(); lx.py.sort() }()
	go func() { defer wg.Done(); lx.pyi.sort() }()
	if withChars {
		merged := map[rune][]charEnt{}
		for k := range parts {
			for r, l := range parts[k].chars {
				merged[r] = append(merged[r], l...)
			}
			parts[k].chars = nil
		}
		lx.chars = make(map[rune][]uint32, len(merged))
		var mu sync.Mutex
		runes := make(chan rune, 256)
		for range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range runes {
					l := merged[r]
					slices.SortFunc(l, func(a, b charEnt) int {
						if a.score != b.score {
							if a.score > b.score {
								return -1
							}
							return 1
						}
						return int(a.ord) - int(b.ord)
					})
					ords := make([]uint32, len(l))
					for i, e := range l {
						ords[i] = e.ord
					}
					mu.Lock()
					lx.chars[r] = ords
					mu.Unlock()
				}
			}()
		}
		for r := range merged {
			runes <- r
		}
		close(runes)
	}
	wg.Wait()
	return lx
}

// hasPinyin reports whether a short name before names[i] has the same
// reading (one entry per doc and reading).
func hasPinyin(d *doc, i int, f func(*nameVar) string) bool {
	s := f(&d.names[i])
	for j := 0; j < i; j++ {
		if d.names[j].short && f(&d.names[j]) == s {
			return true
		}
	}
	return false
}

// layerBit is the bit of a layer in a candFilter's mask.
func layerBit(l geo.Layer) uint8 {
	switch l {
	case geo.LayerEntities:
		return 1
	case geo.LayerPlaces:
		return 2
	case geo.LayerBuildings:
		return 4
	}
	return 8
}

// candFilter is what a lexicon candidate must satisfy besides matching:
// its layer, and with a radius its distance from the centre.
type candFilter struct {
	mask   uint8 // layers; all when no layer is given
	center *orb.Point
	radius float64
}

func newCandFilter(q Query) *candFilter {
	f := &candFilter{mask: 0xff, center: q.Center, radius: q.RadiusM}
	if len(q.Layers) > 0 {
		f.mask = 0
		for _, l := range q.Layers {
			f.mask |= layerBit(l)
		}
	}
	return f
}

func (f *candFilter) ok(d *doc) bool {
	if f.mask&layerBit(d.layer) == 0 {
		return false
	}
	return f.center == nil || f.radius <= 0 || geo.DistanceM(*f.center, d.loc) <= f.radius
}

// okOrd is ok for the lexicon's doc ord, checking the layer first.
func (f *candFilter) okOrd(lx *lexicon, ord uint32) bool {
	if f.mask&lx.layers[ord] == 0 {
		return false
	}
	return f.center == nil || f.radius <= 0 || geo.DistanceM(*f.center, lx.docs[ord].loc) <= f.radius
}

// maxCharWalk bounds the entries of one character's list a query with a
// radius walks looking for candidates inside it.
const maxCharWalk = 200000

// maxContainsWalk bounds the entries containsWalk visits.
const maxContainsWalk = 50000

// charTop returns the keys of the first n docs of r's list that pass f.
func (lx *lexicon) charTop(r rune, n int, f *candFilter, keys []string) []string {
	found := 0
	for i, ord := range lx.chars[r] {
		if found >= n || i >= maxCharWalk {
			break
		}
		if f.okOrd(lx, ord) {
			keys = append(keys, lx.docs[ord].key)
			found++
		}
	}
	return keys
}

// containsWalk returns the keys of the first n docs, best ranked first,
// with a short name containing text: it walks the list of text's rarest
// character (a name starting with it first, then shorter names first:
// the order of the prefix and substring tiers). At most maxContainsWalk
// entries are visited.
func (lx *lexicon) containsWalk(text string, unis []string, n int, f *candFilter, keys []string) []string {
	var list []uint32
	for i, u := range unis {
		r, _ := utf8.DecodeRuneInString(u)
		l := lx.chars[r]
		if len(l) == 0 {
			return keys // no name has this character
		}
		if i == 0 || len(l) < len(list) {
			list = l
		}
	}
	found := 0
	for i, ord := range list {
		if found >= n || i >= maxContainsWalk {
			break
		}
		if !f.okOrd(lx, ord) {
			continue
		}
		d := lx.docs[ord]
		for vi := range d.names {
			if v := &d.names[vi]; v.short && strings.Contains(v.text, text) {
				keys = append(keys, d.key)
				found++
				break
			}
		}
	}
	return keys
}

// charCount returns the keys of the n docs with the highest idf-weighted
// count of the query's characters (the typo pass: one wrong character
// kills the bigrams around it, not the other characters). Characters in
// more than maxCommonShare of the docs (at most maxCommonDocs) are skipped
// while rarer ones remain.
func (lx *lexicon) charCount(unis []string, n int, f *candFilter, keys []string) []string {
	total := len(lx.docs)
	limit := min(max(int(maxCommonShare*float64(total)), 200), maxCommonDocs)
	var lists [][]uint32
	var rarest []uint32
	for _, u := range uniq(unis) {
		r, _ := utf8.DecodeRuneInString(u)
		l := lx.chars[r]
		if len(l) == 0 {
			continue
		}
		if len(l) <= limit {
			lists = append(lists, l)
		}
		if rarest == nil || len(l) < len(rarest) {
			rarest = l
		}
	}
	if len(lists) == 0 {
		if rarest == nil {
			return keys
		}
		lists = [][]uint32{rarest}
	}
	size := 0
	for _, l := range lists {
		size += len(l)
	}
	acc := make(map[uint32]float32, size)
	for _, l := range lists {
		idf := float32(math.Log(1 + float64(total)/float64(len(l))))
		for _, ord := range l {
			acc[ord] += idf
		}
	}
	type sc struct {
		ord uint32
		s   float32
	}
	all := make([]sc, 0, len(acc))
	for ord, s := range acc {
		all = append(all, sc{ord, s})
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return int(a.ord) - int(b.ord)
	})
	found := 0
	for _, e := range all {
		if found >= n {
			break
		}
		if d := lx.docs[e.ord]; f.okOrd(lx, e.ord) {
			keys = append(keys, d.key)
			found++
		}
	}
	return keys
}

// shortest appends the keys of the n entries of the ranges with the
// shortest strings (a shorter reading is a closer match to the same
// prefix) that pass f.
func (p *pyIndex) shortest(lx *lexicon, ranges [][2]int, n int, f *candFilter, keys []string) []string {
	type c struct{ n, ord uint32 }
	var best []c
	for _, r := range ranges {
		for i := r[0]; i < r[1]; i++ {
			e := p.ents[i]
			if len(best) == n && e.n >= best[n-1].n {
				continue
			}
			if !f.okOrd(lx, e.ord) {
				continue
			}
			k := sort.Search(len(best), func(j int) bool { return best[j].n > e.n })
			if len(best) < n {
				best = append(best, c{})
			}
			copy(best[k+1:], best[k:])
			best[k] = c{e.n, e.ord}
		}
	}
	for _, b := range best {
		keys = append(keys, lx.docs[b.ord].key)
	}
	return keys
}

// lexKeys returns the candidates of the query that the lexicon finds:
// pinyin prefixes (fuzzy ones in the second pass), single characters and,
// in the second pass, docs sharing the query's characters; the docs
// written since the lexicon was built are checked directly. mu is
// read-held.
func (ix *Index) lexKeys(m *matcher, q Query, n int, fuzzy, walk bool) []string {
	lx := ix.gen.lex
	if lx == nil {
		return nil
	}
	pq := m.q
	f := newCandFilter(q)
	var keys []string
	_, unis := queryTerms(pq.compact)
	bigrams := m.qLen >= 2 && len(m.bigrams) > 0 && hasBigram(pq.compact)
	if !fuzzy {
		if lx.chars != nil && len(unis) > 0 && !bigrams && len(pq.latin) < 2 {
			for _, u := range uniq(unis) {
				r, _ := utf8.DecodeRuneInString(u)
				keys = lx.charTop(r, n, f, keys)
			}
		}
		if walk && lx.chars != nil {
			keys = lx.containsWalk(pq.compact, unis, n, f, keys)
		}
		if len(pq.latin) >= 2 {
			lo, hi := lx.pyi.prefixRange(pq.pyInit)
			keys = lx.pyi.shortest(lx, [][2]int{{lo, hi}}, n, f, keys)
			lo, hi = lx.py.prefixRange(pq.pyFull)
			keys = lx.py.shortest(lx, [][2]int{{lo, hi}}, n, f, keys)
		}
	} else {
		if pq.pureLatin && len(pq.latin) >= 5 {
			qq := clip(pq.latin, maxPinyinGram)
			d := fuzzyPinyinEdits(len(pq.latin))
			var ranges [][2]int
			lx.py.fuzzyPrefixes(qq, d, 2, min(maxPinyinGram, len(qq)+d), func(lo, hi int) {
				ranges = append(ranges, [2]int{lo, hi})
			})
			keys = lx.py.shortest(lx, ranges, n, f, keys)
		}
		if lx.chars != nil && pq.hasHan && m.qLen >= 3 {
			keys = lx.charCount(unis, n, f, keys)
		}
	}
	// Docs written since the lexicon was built.
	for _, d := range ix.gen.extra {
		if !ix.docs.current(d) || !f.ok(d) {
			continue
		}
		if extraMatches(d, m, unis, bigrams, fuzzy, walk, lx.chars != nil) {
			keys = append(keys, d.key)
		}
	}
	return keys
}

// hasBigram reports whether s has two adjacent Han characters.
func hasBigram(s string) bool {
	prev := false
	for _, r := range s {
		h := cntext.IsHan(r)
		if h && prev {
			return true
		}
		prev = h
	}
	return false
}

// fuzzyPinyinEdits is the number of edits a pinyin typo may have.
func fuzzyPinyinEdits(n int) int {
	if n >= 8 {
		return 2
	}
	return 1
}

// extraMatches is the lexicon's test for one doc written after the build.
func extraMatches(d *doc, m *matcher, unis []string, bigrams, fuzzy, walk, chars bool) bool {
	pq := m.q
	for i := range d.names {
		v := &d.names[i]
		if !v.short {
			continue
		}
		if !fuzzy {
			if walk && strings.Contains(v.text, pq.compact) {
				return true
			}
			if chars && !bigrams && len(pq.latin) < 2 {
				for _, u := range unis {
					if strings.Contains(v.text, u) {
						return true
					}
				}
			}
			if len(pq.latin) >= 2 && (strings.HasPrefix(v.pyi(), pq.pyInit) || strings.HasPrefix(v.py(), pq.pyFull)) {
				return true
			}
			continue
		}
		if pq.pureLatin && len(pq.latin) >= 5 {
			qq := clip(pq.latin, maxPinyinGram)
			d := fuzzyPinyinEdits(len(pq.latin))
			for l := max(2, len(qq)-d); l <= min(len(v.py()), len(qq)+d); l++ {
				if cntext.EditDistance(qq, v.py()[:l], d) <= d {
					return true
				}
			}
		}
		if chars && pq.hasHan && m.qLen >= 3 {
			for _, u := range unis {
				if strings.Contains(v.text, u) {
					return true
				}
			}
		}
	}
	return false
}
