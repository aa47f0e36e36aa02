package addressmatch

import (
	"errors"
	"math"
	"slices"
)

// Learned rarity weights of the compare model (issue 14). Two addresses
// that share 花园 or 路 say little; two that share 鳌湖 or 汇东 say much. An
// idfTable holds the inverse document frequency of every rune trigram,
// bigram and rune of the training pairs' addresses (each distinct normalised address
// one document), quantised to a byte in hashed buckets, and the compare
// features weigh the shared and unshared bigrams of a pair by it. It is
// learned from the training pairs' texts only (no labels), so the k-fold
// and train → dev figures stay held out.

// idfBits is the log2 of the number of buckets of an idfTable.
const idfBits = 19

// idfScale quantises an inverse document frequency (natural log) to a byte.
const idfScale = 16

// idfMinDF: keys seen in fewer documents keep the table's default (the
// weight of a key seen once), so that the table stays small.
const idfMinDF = 2

// idfTable is the learned rarity of rune bigrams and runes: a read-only
// value, safe for concurrent use.
type idfTable struct {
	q []uint8 // 1<<idfBits buckets: idf·idfScale
}

// idfBucket is the bucket of a key.
func idfBucket(k uint64) uint32 {
	return uint32((k * 0x9E3779B97F4A7C15) >> (64 - idfBits))
}

// runeKey is the key of a single rune (bigram keys pair two runes).
func runeKey(r rune) uint64 { return bigramKey(r, -1) }

// trigramKey is the key of three runes (distinct from every bigram and
// rune key: Unicode runes fit 21 bits, and the top bit is set).
func trigramKey(a, b, c rune) uint64 {
	return 1<<63 | uint64(uint32(a)&0x1fffff)<<42 | uint64(uint32(b)&0x1fffff)<<21 | uint64(uint32(c)&0x1fffff)
}

// trigramSet is the set of rune trigrams of rs (its bigram set when
// shorter), appended to buf.
func trigramSet(rs []rune, buf keySet) keySet {
	if len(rs) < 3 {
		return append(buf[:0], bigramSet(rs)...)
	}
	buf = buf[:0]
	for i := 0; i+2 < len(rs); i++ {
		buf = append(buf, trigramKey(rs[i], rs[i+1], rs[i+2]))
	}
	slices.Sort(buf)
	return slices.Compact(buf)
}

// weight is the inverse document frequency of key k.
func (t *idfTable) weight(k uint64) float32 {
	return float32(t.q[idfBucket(k)]) / idfScale
}

// buildIDF learns an idfTable from documents (normalised addresses, each
// counted once).
func buildIDF(docs []string) *idfTable {
	df := map[uint64]int{}
	var keys keySet
	for _, d := range docs {
		rs := []rune(d)
		keys = append(keys[:0], bigramSet(rs)...)
		for _, r := range rs {
			keys = append(keys, runeKey(r))
		}
		for i := 0; i+2 < len(rs); i++ {
			keys = append(keys, trigramKey(rs[i], rs[i+1], rs[i+2]))
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			df[k]++
		}
	}
	n := float64(len(docs))
	quant := func(df int) uint8 {
		v := math.Round(math.Log((n+1)/(float64(df)+0.5)) * idfScale)
		return uint8(min(max(v, 0), 255))
	}
	// buckets: the summed frequency of the keys that fall in them
	sum := make([]int, 1<<idfBits)
	for k, c := range df {
		if c >= idfMinDF {
			sum[idfBucket(k)] += c
		}
	}
	t := &idfTable{q: make([]uint8, 1<<idfBits)}
	def := quant(1)
	for b, c := range sum {
		if c == 0 {
			t.q[b] = def
		} else {
			t.q[b] = quant(c)
		}
	}
	return t
}

// errIDFSize: a serialised table of the wrong size.
var errIDFSize = errors.New("idf table of the wrong size")

// idfDenseNames names the dense features of idfFeatures, in order.
var idfDenseNames = []string{"idf:jacc", "idf:covA", "idf:covB", "idf:cos", "idf:uncA", "idf:uncB",
	"idf:maxUncA", "idf:maxUncB", "idf:maxCommon", "idf:sumCommon",
	"idf:ucovA", "idf:ucovB", "idf:umaxUncA", "idf:umaxUncB",
	"idf:dnameBinA", "idf:dnameAinB", "idf:poi", "idf:localCovB", "idf:localCovA",
	"idf:tjacc", "idf:tcovA", "idf:tcovB", "idf:tmaxUncB", "idf:poiBinA", "idf:poiAinB", "idf:meanA", "idf:meanB", "idf:dnameBmean"}

// idfSets are the weighted-overlap measures of two key sets.
type idfSets struct {
	jacc, covA, covB, cos, uncA, uncB, maxUncA, maxUncB, maxCommon, sumCommon float32
}

// overlap weighs the keys of a and b (sorted sets) by t.
func (t *idfTable) overlap(a, b keySet) idfSets {
	var s idfSets
	var wa, wb, wc, qa, qb, qc float32
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			w := t.weight(a[i])
			wa += w
			qa += w * w
			s.uncA += w
			s.maxUncA = max(s.maxUncA, w)
			i++
		case i >= len(a) || b[j] < a[i]:
			w := t.weight(b[j])
			wb += w
			qb += w * w
			s.uncB += w
			s.maxUncB = max(s.maxUncB, w)
			j++
		default:
			w := t.weight(a[i])
			wa += w
			wb += w
			wc += w
			qa += w * w
			qb += w * w
			qc += w * w
			s.maxCommon = max(s.maxCommon, w)
			i++
			j++
		}
	}
	s.sumCommon = wc
	s.jacc, s.covA, s.covB = -1, -1, -1
	if u := wa + wb - wc; u > 0 {
		s.jacc = wc / u
	}
	if wa > 0 {
		s.covA = wc / wa
	}
	if wb > 0 {
		s.covB = wc / wb
	}
	if qa > 0 && qb > 0 {
		s.cos = qc / float32(math.Sqrt(float64(qa)*float64(qb)))
	}
	return s
}

// cover is the weighed share of the bigrams of rs that g holds, -1 when rs
// is empty.
func (t *idfTable) cover(rs []rune, g keySet) float32 {
	if len(rs) == 0 {
		return -1
	}
	if len(rs) == 1 {
		if g.has(rs[0], 0) {
			return 1
		}
		return 0
	}
	var all, in float32
	for i := 0; i+1 < len(rs); i++ {
		w := t.weight(bigramKey(rs[i], rs[i+1]))
		all += w
		if g.has(rs[i], rs[i+1]) {
			in += w
		}
	}
	if all == 0 {
		return 0
	}
	return in / all
}

// mean is the mean weight of the keys of g, -1 when g is empty.
func (t *idfTable) mean(g keySet) float32 {
	if len(g) == 0 {
		return -1
	}
	var sum float32
	for _, k := range g {
		sum += t.weight(k)
	}
	return sum / float32(len(g))
}

// meanRunes is the mean weight of the bigrams of rs, -1 when it has none.
func (t *idfTable) meanRunes(rs []rune) float32 {
	if len(rs) < 2 {
		return -1
	}
	var sum float32
	for i := 0; i+1 < len(rs); i++ {
		sum += t.weight(bigramKey(rs[i], rs[i+1]))
	}
	return sum / float32(len(rs)-1)
}

// runeKeys is the sorted set of the rune keys of rs, appended to buf.
func runeKeys(rs []rune, buf keySet) keySet {
	buf = buf[:0]
	for _, r := range rs {
		buf = append(buf, runeKey(r))
	}
	slices.Sort(buf)
	return slices.Compact(buf)
}

// idfFeatures appends the dense features of idfDenseNames to f (all -2
// without a table) and a few binned ones to the regression's: the whole
// texts' bigrams ga, gb and runes ra, rb, the distinctive finest names
// da, db, the POIs and the parts below the town.
func (f *pairFeats) idfFeatures(t *idfTable, ra, rb []rune, ga, gb keySet, da, db []rune, poiA, poiB string, la, lb []rune) {
	if t == nil {
		for range idfDenseNames {
			f.dense = append(f.dense, -2)
		}
		return
	}
	s := t.overlap(ga, gb)
	var bufA, bufB [64]uint64
	u := t.overlap(runeKeys(ra, bufA[:0]), runeKeys(rb, bufB[:0]))
	poi := float32(-1)
	if poiA != "" && poiB != "" {
		poi = t.overlap(bigramSet([]rune(poiA)), bigramSet([]rune(poiB))).jacc
	}
	var tbA, tbB [96]uint64
	tr := t.overlap(trigramSet(ra, tbA[:0]), trigramSet(rb, tbB[:0]))
	f.dense = append(f.dense, s.jacc, s.covA, s.covB, s.cos, s.uncA, s.uncB, s.maxUncA, s.maxUncB, s.maxCommon, s.sumCommon,
		u.covA, u.covB, u.maxUncA, u.maxUncB,
		t.cover(db, ga), t.cover(da, gb), poi, t.cover(lb, ga), t.cover(la, gb),
		tr.jacc, tr.covA, tr.covB, tr.maxUncB, t.cover([]rune(poiB), ga), t.cover([]rune(poiA), gb),
		t.mean(ga), t.mean(gb), t.meanRunes(db))
	f.add("idf:cov", bin(float64(s.covA), 5)+bin(float64(s.covB), 5))
	f.add("idf:jacc", bin(float64(s.jacc), 10))
	f.add("idf:maxUnc", capInt(int(s.maxUncA), 12)+"|"+capInt(int(s.maxUncB), 12))
	if len(db) > 0 {
		f.add("idf:dnameBinA", bin(float64(t.cover(db, ga)), 5))
	}
}

// exampleDocs are the distinct normalised addresses of the examples (as
// entityOf normalises them: brackets removed), in first-seen order.
func exampleDocs(examples []CompareExample) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range examples {
		for _, s := range [2]string{e.A, e.B} {
			main, _ := splitParens(s)
			n := Normalize(main)
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
