package addressmatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

// The learned parse model is a first-order sequence tagger over the runes of
// an address: BIOES tags of the component labels, scored by an averaged
// structured perceptron over sparse features (character n-grams, the rule
// parser's own labels and span boundaries, dictionary hits) and decoded with
// Viterbi under the BIOES constraints. It relabels what the rules found; it
// never resolves the administrative chain, which stays the rules' work.

// tagLabels are the labels of the tag set, in tag order.
var tagLabels = Labels()

// numLabels is the number of component labels; numTags = O + 4 per label
// (B, I, E, S).
const (
	numLabels = 18
	numTags   = 1 + 4*numLabels
)

// Tag positions within a label's block of four.
const (
	posB = iota
	posI
	posE
	posS
)

func tagOf(label, pos int) int { return 1 + 4*label + pos }

// tagLabel returns the label index and position of tag t (t > 0).
func tagLabel(t int) (label, pos int) { return (t - 1) / 4, (t - 1) % 4 }

// labelIndex maps a label to its index in tagLabels, -1 if unknown.
func labelIndex(l Label) int {
	for i, x := range tagLabels {
		if x == l {
			return i
		}
	}
	return -1
}

// allowedPrev[t] lists the tags that may precede tag t under BIOES.
var allowedPrev = func() [numTags][]uint8 {
	var out [numTags][]uint8
	var open []uint8 // tags after which a new span (or O) may start
	open = append(open, 0)
	for l := 0; l < numLabels; l++ {
		open = append(open, uint8(tagOf(l, posE)), uint8(tagOf(l, posS)))
	}
	out[0] = open
	for l := 0; l < numLabels; l++ {
		out[tagOf(l, posB)] = open
		out[tagOf(l, posS)] = open
		in := []uint8{uint8(tagOf(l, posB)), uint8(tagOf(l, posI))}
		out[tagOf(l, posI)] = in
		out[tagOf(l, posE)] = in
	}
	return out
}()

// canStart and canEnd say whether a tag may begin or end a sequence.
func canStart(t int) bool {
	if t == 0 {
		return true
	}
	_, p := tagLabel(t)
	return p == posB || p == posS
}

func canEnd(t int) bool {
	if t == 0 {
		return true
	}
	_, p := tagLabel(t)
	return p == posE || p == posS
}

// ParseModel is a learned parse model: a read-only value, safe for
// concurrent use. Build one with [Parser.TrainParseModel] or read one with
// [ReadParseModel].
type ParseModel struct {
	index  map[uint64]uint64             // feature hash → first entry<<8 | entry count
	ents   []wentry                      // the non-zero weights of every feature
	trans  [numTags + 1][numTags]float32 // row numTags: sequence start
	pw     [numTags][]float32            // prevWeights(&trans)
	tab    ftab                          // index as an open-addressing table (the hot path)
	transT [numTags][numTags]float32     // transT[t][pt] = trans[pt][t] (the hot path)
	pool   sync.Pool                     // *scratch, per model
}

// ftab is the feature index of a model laid out for the hot path: an
// open-addressing table (linear probing, load at most 5/8: fewer slots to
// keep in a core's cache, a probe or two more on a miss) of 8-byte slots
// (the key's upper 32 bits and the offset+1 of its record; 0 is empty)
// over packed records (the 64-bit key, the entry count, the entries' tag
// bytes, zero bytes up to a multiple of 4, then their float32 weights in
// the machine's byte order; every record a multiple of 4 bytes long), so that a miss costs one slot read and
// a hit one slot and one record read, its weights beside its key. Records
// are checked against the full key: the same answers as the map.
type ftab struct {
	slots []uint64
	recs  []byte
	shift uint8
}

// buildTable fills m.tab from m.index and m.ents, and m.transT.
func (m *ParseModel) buildTable() {
	for pt := 0; pt < numTags; pt++ {
		for t := 0; t < numTags; t++ {
			m.transT[t][pt] = m.trans[pt][t]
		}
	}
	bits := uint8(4)
	for 5<<bits < 8*len(m.index) {
		bits++
	}
	m.tab = ftab{slots: make([]uint64, 1<<bits), shift: 64 - bits}
	mask := uint64(len(m.tab.slots) - 1)
	keys := make([]uint64, 0, len(m.index))
	for h := range m.index {
		keys = append(keys, h)
	}
	slices.Sort(keys) // the same layout for the same model
	for _, h := range keys {
		v := m.index[h]
		ents := m.ents[v>>8 : v>>8+v&0xff]
		if len(ents) == 0 {
			continue
		}
		off := len(m.tab.recs)
		m.tab.recs = binary.LittleEndian.AppendUint64(m.tab.recs, h)
		m.tab.recs = append(m.tab.recs, uint8(len(ents)))
		for _, e := range ents {
			m.tab.recs = append(m.tab.recs, e.tag)
		}
		for len(m.tab.recs)%4 != 0 {
			m.tab.recs = append(m.tab.recs, 0)
		}
		for _, e := range ents {
			m.tab.recs = binary.NativeEndian.AppendUint32(m.tab.recs, math.Float32bits(e.w))
		}
		j := (h * 0x9E3779B97F4A7C15) >> m.tab.shift
		for m.tab.slots[j] != 0 {
			j = (j + 1) & mask
		}
		m.tab.slots[j] = h>>32<<32 | uint64(off+1)
	}
}

// emissions adds to em (rune i: em[i*numTags:(i+1)*numTags]) the weights
// of the features of every rune (rune i: hs[offs[i]:offs[i+1]]), in their
// order, as addWeights does one by one. The look-ups go in passes over all
// features (read every home slot; resolve probing; read every record's
// key; add), so that the memory reads of one pass do not wait on each
// other: the table is larger than a core's cache. sv and ro are scratch.
func (t *ftab) emissions(hs []uint64, offs []int32, em []float32, sv []uint64, ro []uint32) ([]uint64, []uint32) {
	sv = grow(sv, len(hs))
	ro = grow(ro, len(hs))
	slots, shift := t.slots, t.shift
	mask := uint64(len(slots) - 1)
	for k, h := range hs {
		sv[k] = slots[(h*0x9E3779B97F4A7C15)>>shift]
	}
	for k, h := range hs {
		v := sv[k]
		if v != 0 && v>>32 != h>>32 {
			for j := ((h*0x9E3779B97F4A7C15)>>shift + 1) & mask; ; j = (j + 1) & mask {
				v = slots[j]
				if v == 0 || v>>32 == h>>32 {
					break
				}
			}
		}
		ro[k] = uint32(v) // record offset + 1; 0: no such feature
	}
	recs := t.recs
	for k, r := range ro {
		if r != 0 {
			sv[k] = binary.LittleEndian.Uint64(recs[r-1:])
		}
	}
	var acc [256]float32 // one rune's scores, indexed by a tag byte without bounds checks
	for i := 0; i+1 < len(offs); i++ {
		row := em[i*numTags : (i+1)*numTags : (i+1)*numTags]
		copy(acc[:numTags], row)
		for k := offs[i]; k < offs[i+1]; k++ {
			r := ro[k]
			if r == 0 {
				continue
			}
			if sv[k] != hs[k] { // another key with the same upper half: probe on
				copy(row, acc[:numTags])
				t.addWeights(hs[k], row)
				copy(acc[:numTags], row)
				continue
			}
			rec := recs[r-1:]
			cnt := int(rec[8])
			tg := rec[9 : 9+cnt]
			wo := (9 + cnt + 3) &^ 3
			ws := rec[wo : wo+4*cnt]
			// the weights are in bounds (checked by the slicing above) and
			// 4-byte aligned (recs starts aligned and every record is a
			// multiple of 4 long): read them without a bounds check each
			wp := unsafe.Pointer(unsafe.SliceData(ws))
			for j, tag := range tg {
				acc[tag] += *(*float32)(unsafe.Add(wp, 4*j))
			}
		}
		copy(row, acc[:numTags])
	}
	return sv, ro
}

// addWeights adds the weights of feature h to row (numTags wide).
func (t *ftab) addWeights(h uint64, row []float32) {
	mask := uint64(len(t.slots) - 1)
	for j := (h * 0x9E3779B97F4A7C15) >> t.shift; ; j = (j + 1) & mask {
		v := t.slots[j]
		if v == 0 {
			return
		}
		if v>>32 != h>>32 {
			continue
		}
		rec := t.recs[uint32(v)-1:]
		if binary.LittleEndian.Uint64(rec) != h {
			continue
		}
		cnt := int(rec[8])
		wo := (9 + cnt + 3) &^ 3
		ws := rec[wo : wo+4*cnt]
		for j, tag := range rec[9 : 9+cnt] {
			row[tag] += math.Float32frombits(binary.NativeEndian.Uint32(ws[4*j:]))
		}
		return
	}
}

// wentry is one non-zero weight of a feature.
type wentry struct {
	w   float32
	tag uint8
}

// Features returns the number of features with a non-zero weight.
func (m *ParseModel) Features() int { return len(m.index) }

// fhash builds a 64-bit feature key from a template and small integers.
func fhash(tmpl uint64, vals ...uint64) uint64 {
	h := 0xcbf29ce484222325 ^ tmpl*0x9E3779B97F4A7C15
	for _, v := range vals {
		h ^= v
		h *= 0x100000001b3
		h ^= h >> 31
		h *= 0x9E3779B97F4A7C15
	}
	return h ^ h>>29
}

// fh0…fh4 are fhash with a fixed number of values (the same keys, without
// the variadic slice).
func fh0(tmpl uint64) uint64 {
	h := 0xcbf29ce484222325 ^ tmpl*0x9E3779B97F4A7C15
	return h ^ h>>29
}

func fmix(h, v uint64) uint64 {
	h ^= v
	h *= 0x100000001b3
	h ^= h >> 31
	h *= 0x9E3779B97F4A7C15
	return h
}

func fh1(tmpl, a uint64) uint64 {
	h := fmix(0xcbf29ce484222325^tmpl*0x9E3779B97F4A7C15, a)
	return h ^ h>>29
}

func fh2(tmpl, a, b uint64) uint64 {
	h := fmix(fmix(0xcbf29ce484222325^tmpl*0x9E3779B97F4A7C15, a), b)
	return h ^ h>>29
}

func fh3(tmpl, a, b, c uint64) uint64 {
	h := fmix(fmix(fmix(0xcbf29ce484222325^tmpl*0x9E3779B97F4A7C15, a), b), c)
	return h ^ h>>29
}

func fh4(tmpl, a, b, c, d uint64) uint64 {
	h := fmix(fmix(fmix(fmix(0xcbf29ce484222325^tmpl*0x9E3779B97F4A7C15, a), b), c), d)
	return h ^ h>>29
}

// Feature templates.
const (
	ftBias uint64 = iota + 1
	ftC0
	ftCm1
	ftCp1
	ftCm2
	ftCp2
	ftCm1C0
	ftC0Cp1
	ftCm2Cm1
	ftCp1Cp2
	ftCm1Cp1
	ftTri
	ftTriL
	ftTriR
	ftClass
	ftRule
	ftRuleM1
	ftRuleP1
	ftRuleC0
	ftRuleLast
	ftRuleFirst
	ftRuleLen
	ftRulePrevSpan
	ftRuleNextSpan
	ftRuleCp1
	ftRuleCm1
	ftSufEnd
	ftSufEndPrev
	ftSufLabelC0
	ftAdmStart
	ftAdmEnd
	ftAdmIn
	ftToEnd
	ftFromStart
	ftRuleBoth
	ftPoiBefore
	ftRuleLast2
	ftPrevPrev
	ftRuleLastSpan
	ftQuad
)

// padBOS and padEOS stand for the characters before and after the text.
const (
	padBOS uint64 = 1 << 40
	padEOS uint64 = 2 << 40
)

// featRune is the rune as the features see it: folded, every digit 0 (the
// training data masks digits), every ASCII letter A.
func featRune(r rune) uint64 {
	switch {
	case r >= '0' && r <= '9':
		return '0'
	case r >= 'A' && r <= 'Z':
		return 'A'
	}
	return uint64(r)
}

func runeClass(r rune) uint64 {
	switch {
	case r >= '0' && r <= '9':
		return 1
	case r >= 'A' && r <= 'Z':
		return 2
	case r == '-' || r == '#':
		return 3
	case cntext.IsSpaceOrPunct(r):
		return 4
	case cntext.IsHan(r):
		if _, ok := cntext.DigitValue(r); ok {
			return 5
		}
		return 0
	}
	return 6
}

// ruleInfo is the rule parse as seen from one rune.
type ruleInfo struct {
	label uint64 // label index + 1, 0 outside any span
	pos   uint64 // BIES of the span, 4 outside
	span  int    // span index, -1 outside
}

// featScratch holds the per-rune buffers of features, reused across calls.
type featScratch struct {
	ri                              []ruleInfo
	sufEnd, admStart, admEnd, admIn []uint64
	poiBefore                       []int
}

// grow returns b resized to n and cleared.
func grow[T any](b []T, n int) []T {
	b = slices.Grow(b[:0], n)[:n]
	clear(b)
	return b
}

// features appends the feature keys of every rune of st (the rule parse of
// one address) to buf and returns it with the per-rune boundaries in offs
// (rune i has buf[offs[i]:offs[i+1]]). fs holds scratch buffers (reused).
func (p *Parser) features(st *parseState, fs *featScratch, buf []uint64, offs []int32) ([]uint64, []int32) {
	n := len(st.f)
	c := func(i int) uint64 {
		if i < 0 {
			return padBOS
		}
		if i >= n {
			return padEOS
		}
		return featRune(st.f[i])
	}
	cls := func(i int) uint64 {
		if i < 0 || i >= n {
			return 7
		}
		return runeClass(st.f[i])
	}
	fs.ri = grow(fs.ri, n+2) // index i+1 for rune i; pads at both ends
	ri := fs.ri
	for i := range ri {
		ri[i] = ruleInfo{pos: 4, span: -1}
	}
	for k, sp := range st.spans {
		li := uint64(labelIndex(sp.Label) + 1)
		for i := sp.Start; i < sp.End && i < n; i++ {
			pos := uint64(posI)
			switch {
			case sp.End-sp.Start == 1:
				pos = posS
			case i == sp.Start:
				pos = posB
			case i == sp.End-1:
				pos = posE
			}
			ri[i+1] = ruleInfo{label: li, pos: pos, span: k}
		}
	}
	rt := func(i int) uint64 { x := ri[i+1]; return x.label<<3 | x.pos }
	// dictionary hits: the parser's suffix words ending at each rune, admin
	// names starting / ending / covering each rune
	fs.sufEnd = grow(fs.sufEnd, n) // up to 4 (label+1, length) pairs packed
	fs.admStart = grow(fs.admStart, n)
	fs.admEnd = grow(fs.admEnd, n)
	fs.admIn = grow(fs.admIn, n)
	sufEnd, admStart, admEnd, admIn := fs.sufEnd, fs.admStart, fs.admEnd, fs.admIn
	for e := 0; e < n; e++ {
		var packed uint64
		maxL := min(p.maxSuf, e+1, 6, int(p.sufMax[uint32(st.f[e])%uint32(len(p.sufMax))]))
		for L := 1; L <= maxL; L++ {
			if l, ok := p.suffix[st.ftext(e-L+1, e+1)]; ok {
				packed = packed<<12 | uint64(labelIndex(l)+1)<<4 | uint64(L)
			}
		}
		sufEnd[e] = packed
	}
	maxA := min(p.dict.maxLen, 10)
	for s := 0; s+1 < n; s++ {
		top := min(maxA, n-s, int(p.admMax[bigramSlot(st.f[s], st.f[s+1])]))
		for L := 2; L <= top; L++ {
			refs, ok := p.dict.names[st.ftext(s, s+L)]
			if !ok {
				continue
			}
			var bits uint64
			for _, r := range refs {
				b := uint64(1) << (2 * uint(p.dict.units[r.unit].level))
				if r.short {
					b <<= 1
				}
				bits |= b
			}
			admStart[s] |= bits
			admEnd[s+L-1] |= bits
			for k := s + 1; k < s+L-1; k++ {
				admIn[k] |= bits
			}
		}
	}
	// poiBefore[k]: rule poi/subpoi spans before span k
	fs.poiBefore = grow(fs.poiBefore, len(st.spans))
	poiBefore := fs.poiBefore
	np := 0
	for k, sp := range st.spans {
		poiBefore[k] = np
		if sp.Label == LabelPOI || sp.Label == LabelSubPOI {
			np++
		}
	}
	offs = append(offs[:0], 0)
	for i := 0; i < n; i++ {
		c0, cm1, cp1, cm2, cp2 := c(i), c(i-1), c(i+1), c(i-2), c(i+2)
		buf = append(buf,
			fh0(ftBias),
			fh1(ftC0, c0),
			fh1(ftCm1, cm1),
			fh1(ftCp1, cp1),
			fh1(ftCm2, cm2),
			fh1(ftCp2, cp2),
			fh2(ftCm1C0, cm1, c0),
			fh2(ftC0Cp1, c0, cp1),
			fh2(ftCm2Cm1, cm2, cm1),
			fh2(ftCp1Cp2, cp1, cp2),
			fh2(ftCm1Cp1, cm1, cp1),
			fh3(ftTri, cm1, c0, cp1),
			fh3(ftTriL, cm2, cm1, c0),
			fh3(ftTriR, c0, cp1, cp2),
			fh3(ftClass, cls(i-1), cls(i), cls(i+1)),
			fh4(ftQuad, cm2, cm1, c0, cp1),
		)
		r0 := rt(i)
		buf = append(buf,
			fh1(ftRule, r0),
			fh2(ftRuleM1, rt(i-1), r0),
			fh2(ftRuleP1, r0, rt(i+1)),
			fh3(ftRuleBoth, rt(i-1), r0, rt(i+1)),
			fh2(ftRuleC0, r0, c0),
			fh2(ftRuleCp1, r0, cp1),
			fh2(ftRuleCm1, r0, cm1),
		)
		if k := ri[i+1].span; k >= 0 {
			sp := st.spans[k]
			last := c(sp.End - 1)
			first := c(sp.Start)
			ln := uint64(min(sp.End-sp.Start, 8))
			var prev, next uint64
			if k > 0 {
				prev = uint64(labelIndex(st.spans[k-1].Label) + 1)
			}
			if k+1 < len(st.spans) {
				next = uint64(labelIndex(st.spans[k+1].Label) + 1)
			}
			var pp uint64
			if k > 1 {
				pp = uint64(labelIndex(st.spans[k-2].Label) + 1)
			}
			buf = append(buf,
				fh2(ftPoiBefore, r0, uint64(min(poiBefore[k], 2))),
				fh3(ftRuleLast2, r0, c(sp.End-2), last),
				fh3(ftPrevPrev, r0, pp, prev),
				fh2(ftRuleLastSpan, r0, uint64(min(len(st.spans)-1-k, 2))),
				fh2(ftRuleLast, r0, last),
				fh2(ftRuleFirst, r0, first),
				fh2(ftRuleLen, r0, ln),
				fh2(ftRulePrevSpan, r0, prev),
				fh2(ftRuleNextSpan, r0, next),
			)
		}
		for v := sufEnd[i]; v != 0; v >>= 12 {
			buf = append(buf, fh1(ftSufEnd, v&0xfff))
		}
		if i > 0 {
			for v := sufEnd[i-1]; v != 0; v >>= 12 {
				buf = append(buf, fh1(ftSufEndPrev, v&0xfff), fh2(ftSufLabelC0, v&0xff0, c0))
			}
		}
		if admStart[i] != 0 {
			buf = append(buf, fh1(ftAdmStart, admStart[i]))
		}
		if admEnd[i] != 0 {
			buf = append(buf, fh1(ftAdmEnd, admEnd[i]))
		}
		if admIn[i] != 0 {
			buf = append(buf, fh1(ftAdmIn, admIn[i]))
		}
		buf = append(buf, fh2(ftToEnd, uint64(min(n-1-i, 6)), c0), fh1(ftFromStart, uint64(min(i, 6))))
		offs = append(offs, int32(len(buf)))
	}
	return buf, offs
}

// prevWeights returns, for every tag t, the transition weights from the
// tags of allowedPrev[t], in that order (so that Viterbi reads them
// contiguously).
func prevWeights(trans *[numTags + 1][numTags]float32) [numTags][]float32 {
	var out [numTags][]float32
	for t := 0; t < numTags; t++ {
		out[t] = make([]float32, len(allowedPrev[t]))
		for j, pt := range allowedPrev[t] {
			out[t][j] = trans[pt][t]
		}
	}
	return out
}

// beamWidth is the number of open tags (O, E-x, S-x) of the previous rune
// that inference lets a new span follow; training decodes exactly.
const beamWidth = 6

// topOpen writes to top the beamWidth open tags with the best scores in
// prev and returns how many it wrote.
func topOpen(prev []float32, top *[beamWidth]uint8) int {
	nt := 0
	for _, pt := range allowedPrev[0] {
		s := prev[pt]
		if math.IsInf(float64(s), -1) {
			continue
		}
		if nt < beamWidth {
			nt++
		} else if s <= prev[top[nt-1]] {
			continue
		}
		j := nt - 1
		for j > 0 && prev[top[j-1]] < s {
			top[j] = top[j-1]
			j--
		}
		top[j] = pt
	}
	return nt
}

// viterbi returns the best tag sequence for emission scores em (n×numTags,
// row-major; overwritten with the path scores) under the transitions
// (start row trans[numTags], the others as pw from prevWeights) and the
// BIOES constraints. back is scratch of n×numTags.
func viterbi(em []float32, n int, trans *[numTags + 1][numTags]float32, pw *[numTags][]float32, beam bool, back []uint8, out []uint8) []uint8 {
	start := &trans[numTags]
	out = out[:0]
	if n == 0 {
		return out
	}
	negInf := float32(math.Inf(-1))
	for t := 0; t < numTags; t++ {
		if canStart(t) {
			em[t] += start[t]
		} else {
			em[t] = negInf
		}
	}
	var top [beamWidth]uint8 // beam > 0: the best open tags of the previous rune
	for i := 1; i < n; i++ {
		prev := em[(i-1)*numTags : i*numTags : i*numTags]
		cur := em[i*numTags : (i+1)*numTags : (i+1)*numTags]
		bk := back[i*numTags : (i+1)*numTags : (i+1)*numTags]
		nt := 0
		if beam {
			nt = topOpen(prev, &top)
		}
		for t := 0; t < numTags; t++ {
			best, arg := negInf, uint8(0)
			ap := allowedPrev[t]
			if beam && len(ap) > 2 {
				// a span may start here: only the beam's open tags compete
				for _, pt := range top[:nt] {
					if s := prev[pt] + trans[pt][t]; s > best {
						best, arg = s, pt
					}
				}
			} else {
				w := pw[t][:len(ap)]
				for j, pt := range ap {
					if s := prev[pt] + w[j]; s > best {
						best, arg = s, pt
					}
				}
			}
			cur[t] += best
			bk[t] = arg
		}
	}
	last := em[(n-1)*numTags:]
	best, arg := negInf, 0
	for t := 0; t < numTags; t++ {
		if canEnd(t) && last[t] > best {
			best, arg = last[t], t
		}
	}
	out = slices.Grow(out, n)[:n]
	for i := n - 1; i >= 0; i-- {
		out[i] = uint8(arg)
		arg = int(back[i*numTags+arg])
	}
	return out
}

// viterbiBeam is viterbi with beam = true (inference), the same
// arithmetic in the same order, so the same path, with the loops laid out
// per label: O, B-x and S-x compete over the beam's open tags of the
// previous rune (read from transT, one row per tag), I-x and E-x over B-x
// and I-x.
func viterbiBeam(em []float32, n int, trans *[numTags + 1][numTags]float32, transT *[numTags][numTags]float32, back []uint8, out []uint8) []uint8 {
	start := &trans[numTags]
	out = out[:0]
	if n == 0 {
		return out
	}
	negInf := float32(math.Inf(-1))
	for t := 0; t < numTags; t++ {
		if canStart(t) {
			em[t] += start[t]
		} else {
			em[t] = negInf
		}
	}
	var top [beamWidth]uint8
	var ps [beamWidth]float32
	for i := 1; i < n; i++ {
		prev := (*[numTags]float32)(em[(i-1)*numTags : i*numTags])
		cur := (*[numTags]float32)(em[i*numTags : (i+1)*numTags])
		bk := (*[numTags]uint8)(back[i*numTags : (i+1)*numTags])
		nt := topOpen(prev[:], &top)
		for k := 0; k < nt; k++ {
			ps[k] = prev[top[k]]
		}
		open := func(t int) {
			best, arg := negInf, uint8(0)
			tr := &transT[t]
			for k := 0; k < nt; k++ {
				if s := ps[k] + tr[top[k]]; s > best {
					best, arg = s, top[k]
				}
			}
			cur[t] += best
			bk[t] = arg
		}
		open(0)
		for l := 0; l < numLabels; l++ {
			b := 1 + 4*l
			open(b + posB)
			open(b + posS)
			pb, pi := prev[b+posB], prev[b+posI]
			for _, t := range [2]int{b + posI, b + posE} {
				best, arg := negInf, uint8(0)
				if s := pb + trans[b+posB][t]; s > best {
					best, arg = s, uint8(b+posB)
				}
				if s := pi + trans[b+posI][t]; s > best {
					best, arg = s, uint8(b+posI)
				}
				cur[t] += best
				bk[t] = arg
			}
		}
	}
	last := em[(n-1)*numTags:]
	best, arg := negInf, 0
	for t := 0; t < numTags; t++ {
		if canEnd(t) && last[t] > best {
			best, arg = last[t], t
		}
	}
	out = slices.Grow(out, n)[:n]
	for i := n - 1; i >= 0; i-- {
		out[i] = uint8(arg)
		arg = int(back[i*numTags+arg])
	}
	return out
}

// tagSpans turns a BIOES tag sequence over st's runes into spans.
func tagSpans(st *parseState, tags []uint8) []Span {
	var out []Span
	ns := 0
	for _, t := range tags {
		if t != 0 && (t-1)%4 >= posE {
			ns++
		}
	}
	if ns > 0 {
		out = make([]Span, 0, ns+1) // one allocation; +1: keepRuleAssist may append one
	}
	start := -1
	for i, t := range tags {
		if t == 0 {
			start = -1
			continue
		}
		l, pos := tagLabel(int(t))
		switch pos {
		case posB:
			start = i
		case posS:
			out = append(out, Span{Label: tagLabels[l], Text: st.text(i, i+1), Start: i, End: i + 1})
			start = -1
		case posE:
			if start >= 0 {
				out = append(out, Span{Label: tagLabels[l], Text: st.text(start, i+1), Start: start, End: i + 1})
			}
			start = -1
		}
	}
	return out
}

// scratch holds the buffers of one relabel call (and of the rule parse
// before it, in Parse).
type scratch struct {
	st   parseState
	fs   featScratch
	sv   []uint64
	ro   []uint32
	buf  []uint64
	offs []int32
	em   []float32
	back []uint8
	tags []uint8
}

// relabel runs the model over the rule parse st and returns its spans.
func (m *ParseModel) relabel(p *Parser, st *parseState) []Span {
	sc := m.getScratch()
	defer m.pool.Put(sc)
	return m.relabelWith(p, st, sc)
}

// getScratch returns a scratch of m's pool (put it back with m.pool.Put).
func (m *ParseModel) getScratch() *scratch {
	sc, _ := m.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	return sc
}

// relabelWith is relabel with the buffers of sc. The spans it returns
// never share st.spans' array (st may be sc.st, reused by the next call).
func (m *ParseModel) relabelWith(p *Parser, st *parseState, sc *scratch) []Span {
	n := len(st.f)
	if n == 0 || n > 512 {
		if len(st.spans) == 0 {
			return nil
		}
		return slices.Clone(st.spans)
	}
	sc.buf, sc.offs = p.features(st, &sc.fs, sc.buf[:0], sc.offs[:0])
	sc.em = slices.Grow(sc.em[:0], n*numTags)[:n*numTags]
	clear(sc.em)
	sc.back = slices.Grow(sc.back[:0], n*numTags)[:n*numTags]
	em := sc.em
	sc.sv, sc.ro = m.tab.emissions(sc.buf, sc.offs, em, sc.sv, sc.ro)
	sc.tags = viterbiBeam(em, n, &m.trans, &m.transT, sc.back, sc.tags)
	spans := tagSpans(st, sc.tags)
	placeOrder(spans)
	laneNumber(st, spans)
	return keepRuleDevzone(keepRuleAssist(keepRuleOnly(spans, st.spans), st.spans, n), st.spans)
}

// placeOrder puts the model's places in the order the guideline gives
// them, which a first-order tagger cannot see beyond the tag before: a
// subpoi needs a place (poi or subpoi) before it, else it is a poi; a poi
// right after a place (no rune between) is a place inside it, a subpoi
// (人民医院|宿舍). Chosen on the 5-fold predictions over parse_train:
// 0.9059 -> 0.9076 (issue 14).
func placeOrder(spans []Span) {
	seen := false
	for k := range spans {
		s := &spans[k]
		if s.Label == LabelSubPOI && !seen {
			s.Label = LabelPOI
		}
		if s.Label == LabelPOI && seen && spans[k-1].End == s.Start && (spans[k-1].Label == LabelPOI || spans[k-1].Label == LabelSubPOI) {
			s.Label = LabelSubPOI
		}
		if s.Label == LabelPOI || s.Label == LabelSubPOI {
			seen = true
		}
	}
}

// laneNumber reads a number in 号 right after a lane (…000弄|00号,
// …化工路000巷|00号) as the lane's road number and the lane as a road, as
// the guideline does; the model often reads house number there. Chosen on
// the 5-fold predictions over parse_train: +0.0006 (issue 14).
func laneNumber(st *parseState, spans []Span) {
	for k := 1; k < len(spans); k++ {
		a, b := &spans[k-1], &spans[k]
		if b.Label != LabelHouseNo || a.End != b.Start || b.End > len(st.f) || st.f[b.End-1] != '号' {
			continue
		}
		if r := st.f[a.End-1]; r != '弄' && r != '巷' {
			continue
		}
		a.Label, b.Label = LabelRoad, LabelRoadNo
	}
}

// keepRuleAssist keeps a short assist word the rules found at the end of
// the text (华联超市|后, 大楼|旁, …路口|附近) where the model left it
// unlabelled or glued it to the place before it (the training data has few
// of them).
func keepRuleAssist(spans, rules []Span, n int) []Span {
	if len(rules) == 0 {
		return spans
	}
	r := rules[len(rules)-1]
	if r.Label != LabelAssist || r.End != n {
		return spans
	}
	switch {
	case r.End-r.Start == 1 && strings.Contains("后旁内", r.Text):
	case r.End-r.Start == 2 && (r.Text == "附近" || r.Text == "旁边" || r.Text == "对面"):
	default:
		return spans
	}
	if len(spans) > 0 {
		last := &spans[len(spans)-1]
		switch {
		case last.End <= r.Start:
		case last.End == r.End && last.Start < r.Start && (last.Label == LabelPOI || last.Label == LabelSubPOI):
			last.End = r.Start
			last.Text = strings.TrimSuffix(last.Text, r.Text)
		default:
			return spans
		}
	}
	return append(spans, r)
}

// keepRuleDevzone keeps the rules' devzone (a functional area named by its
// suffix: 两江新区, 高新区) where the model reads the same span as a poi
// between the administrative chain and a road or town (重庆市|两江新区|金开大道):
// there the zone is a level of the address, not a place in it.
func keepRuleDevzone(spans, rules []Span) []Span {
	for _, r := range rules {
		if r.Label != LabelDevzone {
			continue
		}
		for k := 1; k+1 < len(spans); k++ {
			s := &spans[k]
			if s.Start != r.Start || s.End != r.End || s.Label != LabelPOI {
				continue
			}
			switch spans[k-1].Label {
			case LabelProvince, LabelCity, LabelDistrict:
			default:
				continue
			}
			switch spans[k+1].Label {
			case LabelRoad, LabelTown:
				s.Label = LabelDevzone
			}
		}
	}
	return spans
}

// keepRuleOnly puts back into the model's spans the rules' spans of labels
// the training data never uses (roomno: CCKS writes no room label, so the
// model can only guess another label there), where the model left their
// runes unlabelled or labelled them with spans that lie inside the rule's
// span (…17楼|6号: the model's town:6号 or subpoi:12号 gives way to the
// room).
func keepRuleOnly(spans, rules []Span) []Span {
	for _, r := range rules {
		if r.Label != LabelRoomNo {
			continue
		}
		lo, hi := len(spans), len(spans) // the model's spans overlapping r: spans[lo:hi]
		inside := true
		for k, s := range spans {
			if s.End <= r.Start {
				continue
			}
			if s.Start >= r.End {
				if lo == len(spans) {
					lo, hi = k, k
				}
				break
			}
			if lo == len(spans) {
				lo = k
			}
			hi = k + 1
			if s.Start < r.Start || s.End > r.End {
				inside = false
			}
		}
		if inside {
			spans = slices.Replace(spans, lo, hi, r)
		}
	}
	return spans
}

// ParseExample is one annotated address for training a parse model: spans
// as in [Components] (rune offsets into Text).
type ParseExample struct {
	Text  string
	Spans []Span
}

// TrainOptions configures [Parser.TrainParseModel].
type TrainOptions struct {
	// Epochs is the number of passes over the examples. Zero means 8.
	Epochs int
	// Seed orders the examples of each epoch. The same seed, examples and
	// parser give the same model, bit for bit.
	Seed uint64
	// MinCount drops features seen in fewer examples. Zero means 2.
	MinCount int
	// Prune drops the averaged weights smaller than this in magnitude
	// (a smaller table, fewer reads per rune). Zero means 1e-3.
	Prune float64
}

// goldTags returns the BIOES tags of ex's spans over n runes; spans with an
// unknown label or out of range are left O.
func goldTags(spans []Span, n int) []uint8 {
	tags := make([]uint8, n)
	for _, sp := range spans {
		l := labelIndex(sp.Label)
		if l < 0 || sp.Start < 0 || sp.End > n || sp.End <= sp.Start {
			continue
		}
		if sp.End-sp.Start == 1 {
			tags[sp.Start] = uint8(tagOf(l, posS))
			continue
		}
		tags[sp.Start] = uint8(tagOf(l, posB))
		for i := sp.Start + 1; i < sp.End-1; i++ {
			tags[i] = uint8(tagOf(l, posI))
		}
		tags[sp.End-1] = uint8(tagOf(l, posE))
	}
	return tags
}

// TrainParseModel learns a parse model from annotated examples with an
// averaged structured perceptron over p's rule parse (p's own model, if
// any, is not used). Training is deterministic for a given seed.
func (p *Parser) TrainParseModel(examples []ParseExample, o TrainOptions) (*ParseModel, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no training examples", ErrInvalidOptions)
	}
	if o.Epochs == 0 {
		o.Epochs = 8
	}
	if o.MinCount == 0 {
		o.MinCount = 2
	}
	if o.Prune == 0 {
		o.Prune = 1e-3
	}
	if o.Epochs < 0 || o.MinCount < 0 || o.Prune < 0 {
		return nil, fmt.Errorf("%w: negative Epochs, MinCount or Prune", ErrInvalidOptions)
	}
	type sent struct {
		feats [][]int32 // per rune: feature ids
		gold  []uint8
	}
	raw := make([][]uint64, len(examples))
	rawOffs := make([][]int32, len(examples))
	golds := make([][]uint8, len(examples))
	count := map[uint64]int{}
	var fsc featScratch
	for k, ex := range examples {
		st := p.parseRules(ex.Text)
		buf, offs := p.features(st, &fsc, nil, nil)
		raw[k], rawOffs[k] = buf, offs
		golds[k] = goldTags(ex.Spans, len(st.f))
		seen := map[uint64]bool{}
		for _, h := range buf {
			if !seen[h] {
				seen[h] = true
				count[h]++
			}
		}
	}
	keys := make([]uint64, 0, len(count))
	for h, c := range count {
		if c >= o.MinCount {
			keys = append(keys, h)
		}
	}
	slices.Sort(keys)
	id := make(map[uint64]int32, len(keys))
	for k, h := range keys {
		id[h] = int32(k)
	}
	sents := make([]sent, len(examples))
	for k := range examples {
		offs := rawOffs[k]
		s := sent{gold: golds[k], feats: make([][]int32, len(offs)-1)}
		for i := 0; i+1 < len(offs); i++ {
			for _, h := range raw[k][offs[i]:offs[i+1]] {
				if f, ok := id[h]; ok {
					s.feats[i] = append(s.feats[i], f)
				}
			}
		}
		sents[k] = s
	}
	raw, rawOffs = nil, nil
	nf := len(keys)
	w := make([]float32, nf*numTags)
	u := make([]float32, nf*numTags) // sum of c·update, for averaging
	var tw, tu [numTags + 1][numTags]float32
	c := float32(1)
	order := make([]int, len(sents))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
	var em []float32
	var pred, back []uint8
	for ep := 0; ep < o.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			s := &sents[k]
			n := len(s.gold)
			if n == 0 {
				continue
			}
			em = slices.Grow(em[:0], n*numTags)[:n*numTags]
			clear(em)
			for i, fs := range s.feats {
				row := em[i*numTags : (i+1)*numTags]
				for _, f := range fs {
					ws := w[int(f)*numTags : int(f+1)*numTags]
					for t := range row {
						row[t] += ws[t]
					}
				}
			}
			pw := prevWeights(&tw)
			back = slices.Grow(back[:0], n*numTags)[:n*numTags]
			pred = viterbi(em, n, &tw, &pw, false, back, pred)
			for i := 0; i < n; i++ {
				g, q := int(s.gold[i]), int(pred[i])
				if g != q {
					for _, f := range s.feats[i] {
						w[int(f)*numTags+g]++
						u[int(f)*numTags+g] += c
						w[int(f)*numTags+q]--
						u[int(f)*numTags+q] -= c
					}
				}
				gp, qp := numTags, numTags
				if i > 0 {
					gp, qp = int(s.gold[i-1]), int(pred[i-1])
				}
				if gp != qp || g != q {
					tw[gp][g]++
					tu[gp][g] += c
					tw[qp][q]--
					tu[qp][q] -= c
				}
			}
			c++
		}
	}
	// averaged weights, sparse
	m := &ParseModel{index: make(map[uint64]uint64, nf/2)}
	for f := 0; f < nf; f++ {
		first := len(m.ents)
		for t := 0; t < numTags; t++ {
			a := w[f*numTags+t] - u[f*numTags+t]/c
			if math.Abs(float64(a)) >= o.Prune {
				m.ents = append(m.ents, wentry{w: a, tag: uint8(t)})
			}
		}
		if cnt := len(m.ents) - first; cnt > 0 {
			m.index[keys[f]] = uint64(first)<<8 | uint64(cnt)
		}
	}
	for a := range tw {
		for b := range tw[a] {
			m.trans[a][b] = tw[a][b] - tu[a][b]/c
		}
	}
	m.pw = prevWeights(&m.trans)
	m.buildTable()
	return m, nil
}

// parseModelMagic starts a serialised parse model (before gzip).
const parseModelMagic = "marketgeo-parse-model-v1\n"

// WriteTo writes the model, gzip-compressed, in a deterministic binary
// format: the same model gives the same bytes.
func (m *ParseModel) WriteTo(w io.Writer) (int64, error) {
	return writeModelFile(w, "parse model", parseModelMagic, func(put func(any)) {
		put(uint32(numTags))
		put(&m.trans)
		keys := make([]uint64, 0, len(m.index))
		for h := range m.index {
			keys = append(keys, h)
		}
		slices.Sort(keys)
		put(uint32(len(keys)))
		for _, h := range keys {
			v := m.index[h]
			put(h)
			put(uint8(v & 0xff))
			for _, e := range m.ents[v>>8 : v>>8+v&0xff] {
				put(e.tag)
				put(e.w)
			}
		}
	})
}

// ReadParseModel reads a model written by [ParseModel.WriteTo].
func ReadParseModel(r io.Reader) (*ParseModel, error) {
	mr, _, err := openModelFile(r, "parse model", parseModelMagic)
	if err != nil {
		return nil, err
	}
	get := mr.get
	var nt, nk uint32
	get(&nt)
	if mr.err == nil && nt != numTags {
		return nil, fmt.Errorf("%w: %d tags, want %d", ErrBadModel, nt, numTags)
	}
	m := &ParseModel{}
	get(&m.trans)
	get(&nk)
	if mr.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, mr.err)
	}
	m.index = make(map[uint64]uint64, nk)
	var buf [5]byte
	for k := uint32(0); k < nk && mr.err == nil; k++ {
		var h uint64
		var cnt uint8
		get(&h)
		get(&cnt)
		first := len(m.ents)
		for e := 0; e < int(cnt) && mr.err == nil; e++ {
			if _, mr.err = io.ReadFull(mr.br, buf[:]); mr.err != nil {
				break
			}
			if buf[0] >= numTags {
				mr.err = errors.New("tag out of range")
				break
			}
			m.ents = append(m.ents, wentry{tag: buf[0], w: math.Float32frombits(binary.LittleEndian.Uint32(buf[1:]))})
		}
		m.index[h] = uint64(first)<<8 | uint64(cnt)
	}
	if mr.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, mr.err)
	}
	m.pw = prevWeights(&m.trans)
	m.buildTable()
	return m, nil
}
