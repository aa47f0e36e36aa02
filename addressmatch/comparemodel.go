package addressmatch

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The learned compare model is a multinomial logistic regression over sparse
// pair features: the state of every component of both rule parses (equal,
// similar, conflicting, on one side only), the relations of the two sides'
// names, roads and numbers that the entity comparator computes, the rules'
// own verdict and the rule that decided it, whole-string similarities
// (character-bigram Jaccard, longest common substring, containment) in
// bins, the category words that end both sides' names, and crosses of the
// most telling of these. Its argmax is the label of [Parser.Compare]; the
// road and road-number vetoes of the rules are applied after it.

// cmpClasses is the class order of the model's weights.
var cmpClasses = [3]MatchLabel{Match, Partial, None}

const numCmpClasses = 3

// CompareModel is a learned compare model: a read-only value, safe for
// concurrent use. Build one with [Parser.TrainCompareModel] or read one with
// [ReadCompareModel].
type CompareModel struct {
	index map[uint64]int32 // feature key → offset in w
	w     []float32        // numCmpClasses weights per feature
	bias  [numCmpClasses]float32
}

// Features returns the number of features the model weighs.
func (m *CompareModel) Features() int { return len(m.index) }

// pairFeats collects the sparse features of one address pair.
type pairFeats struct {
	keys []uint64
	vals []float32
	core []uint64 // keys of the features crossed pairwise
}

// skey hashes a feature name and value (FNV-1a, 64 bit).
func skey(name, val string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 0x100000001b3
	}
	h ^= 0xff
	h *= 0x100000001b3
	for i := 0; i < len(val); i++ {
		h ^= uint64(val[i])
		h *= 0x100000001b3
	}
	return h
}

func (f *pairFeats) add(name, val string) {
	f.keys = append(f.keys, skey(name, val))
	f.vals = append(f.vals, 1)
}

// addCore adds a feature that is also crossed with every other core feature.
func (f *pairFeats) addCore(name, val string) {
	k := skey(name, val)
	f.keys = append(f.keys, k)
	f.vals = append(f.vals, 1)
	f.core = append(f.core, k)
}

// crossCore adds the pairwise crosses of the core features.
func (f *pairFeats) crossCore() {
	for i, x := range f.core {
		for _, y := range f.core[i+1:] {
			h := x*0x9E3779B97F4A7C15 ^ y
			h ^= h >> 29
			h *= 0xBF58476D1CE4E5B9
			h ^= h >> 32
			f.keys = append(f.keys, h)
			f.vals = append(f.vals, 1)
		}
	}
}

func (f *pairFeats) addValue(name string, x float32) {
	f.keys = append(f.keys, skey(name, ""))
	f.vals = append(f.vals, x)
}

// bin maps x in [0, 1] to one of n+1 bins.
func bin(x float64, n int) string {
	if x < 0 {
		x = 0
	}
	if x > 1 {
		x = 1
	}
	return strconv.Itoa(int(x * float64(n)))
}

// capInt is the decimal form of n, capped at max.
func capInt(n, max int) string { return strconv.Itoa(min(n, max)) }

// nameState is the state of a name component on the two sides: 0 absent on
// both, A or B on one side only, = equal, ~ similar, x conflicting.
func nameState(a, b string, sim func(a, b string) bool) string {
	switch {
	case a == "" && b == "":
		return "0"
	case b == "":
		return "A"
	case a == "":
		return "B"
	case a == b:
		return "="
	case sim != nil && sim(a, b):
		return "~"
	}
	return "x"
}

// numState is nameState for numbers: ~ when the leading digits agree.
func numState(a, b string) string {
	return nameState(a, b, func(a, b string) bool {
		la, lb := leadDigits(a), leadDigits(b)
		return la != "" && trimZeros(la) == trimZeros(lb)
	})
}

func leadDigits(s string) string {
	k := 0
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	return s[:k]
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// lastRunes returns the last n runes of s.
func lastRunes(s string, n int) string {
	k := len(s)
	for i := 0; i < n && k > 0; i++ {
		_, sz := utf8.DecodeLastRuneInString(s[:k])
		k -= sz
	}
	return s[k:]
}

// runeJaccard is the Jaccard index of the rune sets of a and b.
func runeJaccard(a, b []rune) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	sa := make(map[rune]bool, len(a))
	for _, r := range a {
		sa[r] = true
	}
	sb := make(map[rune]bool, len(b))
	inter := 0
	for _, r := range b {
		if !sb[r] {
			sb[r] = true
			if sa[r] {
				inter++
			}
		}
	}
	return float64(inter) / float64(len(sa)+len(sb)-inter)
}

// setJaccard is the Jaccard index of two bigram sets.
func setJaccard(a, b map[[2]rune]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for k := range a {
		if _, ok := b[k]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// pairFeatures computes the features of the pair (a, b) from both sides'
// entities and the rules' verdict on them.
func (p *Parser) pairFeatures(a, b string, ea, eb *entity, lvl Level, rl MatchLabel, rlvl Level, why string, f *pairFeats) {
	f.keys, f.vals, f.core = f.keys[:0], f.vals[:0], f.core[:0]
	f.add("bias", "")
	fa, fb := &ea.f, &eb.f

	// the rules' verdict
	f.addCore("rule", string(rl))
	f.addCore("why", why)
	f.add("lvl", string(lvl))
	f.add("rlvl", string(rlvl))

	// component states
	roadSim := func(x, y string) bool { return roadTypoEq(x, y) || sameRoad(x, y) }
	poiS := func(x, y string) bool { eq, _ := poiSim(x, y); return eq }
	admin := "0"
	if adminConflict(fa, fb) {
		admin = "x"
	} else if fa.unit[AdminDistrict] >= 0 && fa.unit[AdminDistrict] == fb.unit[AdminDistrict] {
		admin = "="
	}
	f.addCore("admin", admin)
	st := map[string]string{
		"district":  nameState(fa.district, fb.district, func(x, y string) bool { return districtStem(x) == districtStem(y) }),
		"town":      nameState(fa.town, fb.town, nil),
		"community": nameState(fa.community, fb.community, poiS),
		"vgroup":    numState(fa.vgroup, fb.vgroup),
		"road":      nameState(fa.road, fb.road, roadSim),
		"roadno":    numState(fa.roadno, fb.roadno),
		"sub":       numState(fa.sub, fb.sub),
		"poi":       nameState(fa.poi, fb.poi, poiS),
		"subpoi":    nameState(fa.subpoi, fb.subpoi, poiS),
		"houseno":   numState(ea.houseno, eb.houseno),
		"cellno":    numState(fa.cellno, fb.cellno),
		"floorno":   numState(fa.floorno, fb.floorno),
		"roomno":    numState(fa.roomno, fb.roomno),
		"extra":     nameState(fa.extra, fb.extra, nil),
		"gate":      nameState(ea.gate, eb.gate, nil),
		"section":   nameState(ea.section, eb.section, nil),
	}
	for _, k := range []string{"district", "town", "community", "vgroup", "road", "roadno", "sub", "poi", "subpoi",
		"houseno", "cellno", "floorno", "roomno", "extra", "gate", "section"} {
		if k == "road" || k == "roadno" || k == "poi" || k == "houseno" || k == "gate" {
			f.addCore("st:"+k, st[k])
		} else {
			f.add("st:"+k, st[k])
		}
	}
	f.add("devzone", boolStr(fa.devzone)+boolStr(fb.devzone))

	// entity relations
	fin, comp, rel1 := p.entityRel(ea, eb)
	ra, rb, roadEq := roadsShare(ea, eb)
	roadConflict := len(ea.roads) > 0 && len(eb.roads) > 0 && !roadEq
	allConflict := len(ea.allRds) > 0 && len(eb.allRds) > 0 && !anyRoadShared(ea.allRds, eb.allRds)
	noA, noB := ea.roadNos[ra], eb.roadNos[rb]
	rno := "-"
	if roadEq {
		rno = numState(noA, noB)
	}
	rel := boolStr(fin) + boolStr(comp) + boolStr(rel1)
	f.addCore("rel", rel)
	f.addCore("eroad", boolStr(roadEq)+boolStr(roadConflict)+boolStr(allConflict))
	f.addCore("erno", rno)
	f.addCore("near", boolStr(ea.near)+boolStr(eb.near))
	f.addCore("biz", boolStr(ea.namesBusiness())+boolStr(eb.namesBusiness()))
	f.add("bare", boolStr(ea.bareRoad())+boolStr(eb.bareRoad()))
	f.add("nnames", capInt(len(ea.names), 3)+capInt(len(eb.names), 3))
	f.add("nroads", capInt(len(ea.roads), 2)+capInt(len(eb.roads), 2))
	f.add("ncomms", capInt(len(ea.comms), 1)+capInt(len(eb.comms), 1))
	f.add("sameNoNear", boolStr(sameNumberNearRoad(ea, eb)))

	// best name relation and similarity of the finest names
	best, bestFin := 0, 0
	for _, x := range ea.names {
		for _, y := range eb.names {
			best = max(best, p.nameRel(x, y))
		}
	}
	fna, fnb := ea.finest(), eb.finest()
	var na, nb string
	if len(fna) > 0 {
		na = fna[0]
	}
	if len(fnb) > 0 {
		nb = fnb[0]
	}
	bestFin = p.nameRel(na, nb)
	f.addCore("nrel", strconv.Itoa(best)+strconv.Itoa(bestFin))
	da, db := p.distinctive(na), p.distinctive(nb)
	dra, drb := []rune(da), []rune(db)
	lcsD := lcsLen(dra, drb)
	dd := 0.0
	if m := min(len(dra), len(drb)); m > 0 {
		dd = float64(lcsD) / float64(m)
	}
	if na != "" && nb != "" {
		f.add("dlcs", bin(dd, 5))
		f.add("ddice", bin(dice(da, db), 5))
		f.add("dlen", capInt(len(dra), 6)+capInt(len(drb), 6))
		f.add("dsame", boolStr(da == db))
	}
	// the category words ending the names
	tailA, tailB := lastRunes(na, 1), lastRunes(nb, 1)
	f.add("tailA", tailA)
	f.addCore("tailB", tailB)
	f.add("tail2B", lastRunes(nb, 2))
	f.add("tailAB", tailA+"|"+tailB)
	f.add("tailB.rel", lastRunes(nb, 2)+"|"+rel)
	if strings.HasPrefix(nb, na) && na != "" && nb != na {
		f.add("extB", lastRunes(strings.TrimPrefix(nb, na), 2))
	}
	if strings.HasPrefix(na, nb) && nb != "" && nb != na {
		f.add("extA", lastRunes(strings.TrimPrefix(na, nb), 2))
	}

	// whole strings
	sa, _ := splitParens(a)
	sb, pb := splitParens(b)
	sa, sb = Normalize(sa), Normalize(sb)
	ra1, rb1 := []rune(sa), []rune(sb)
	ga, gb := bigramSet(ra1), bigramSet(rb1)
	jb := setJaccard(ga, gb)
	ju := runeJaccard(ra1, rb1)
	l := lcsLen(ra1, rb1)
	lm := 0.0
	if m := min(len(ra1), len(rb1)); m > 0 {
		lm = float64(l) / float64(m)
	}
	f.add("jb", bin(jb, 10))
	f.add("ju", bin(ju, 10))
	f.add("lcs", bin(lm, 10))
	f.add("lcsn", capInt(l, 12))
	f.addValue("jbv", float32(jb))
	f.addValue("juv", float32(ju))
	f.addValue("lcsv", float32(lm))
	f.add("contains", boolStr(sa != "" && strings.Contains(sb, sa))+boolStr(sb != "" && strings.Contains(sa, sb)))
	f.add("len", capInt(len(ra1)/4, 8)+capInt(len(rb1)/4, 8))
	f.add("paren", boolStr(pb.gate != "")+capInt(len(pb.aliases), 1))
	f.add("endA", lastRunes(sa, 1))
	f.add("endB", lastRunes(sb, 1))

	// how much of each side the other covers, and what it leaves
	covA, covB := setCover(ga, gb), setCover(gb, ga)
	f.add("covA", bin(covA, 10))
	f.add("covB", bin(covB, 10))
	f.add("covAB", bin(covA, 4)+bin(covB, 4))
	f.addCore("covA4", bin(covA, 4))
	f.addCore("covB4", bin(covB, 4))
	f.addCore("jb4", bin(jb, 4))
	f.addValue("covBv", float32(covB))
	f.addValue("covAv", float32(covA))
	if nb != "" {
		rn := []rune(nb)
		f.addCore("nbInA", bin(float64(lcsLen(rn, ra1))/float64(len(rn)), 5))
	}
	if na != "" {
		rn := []rune(na)
		f.addCore("naInB", bin(float64(lcsLen(rn, rb1))/float64(len(rn)), 5))
	}
	nu := 0
	for i := 0; i+1 < len(rb1) && nu < 12; i++ {
		if _, ok := ga[[2]rune{rb1[i], rb1[i+1]}]; !ok {
			f.add("bu", string(rb1[i:i+2]))
			nu++
		}
	}
	nu = 0
	for i := 0; i+1 < len(ra1) && nu < 12; i++ {
		if _, ok := gb[[2]rune{ra1[i], ra1[i+1]}]; !ok {
			f.add("au", string(ra1[i:i+2]))
			nu++
		}
	}
	// numbers by kind (building, unit, floor, room, number, lane …)
	numsA, numsB := numbersOf(ra1), numbersOf(rb1)
	kinds := map[byte]bool{}
	for _, x := range numsA {
		kinds[x.kind] = true
	}
	for _, x := range numsB {
		kinds[x.kind] = true
	}
	inA := 0
	for _, y := range numsB {
		for _, x := range numsA {
			if x.val == y.val {
				inA++
				break
			}
		}
	}
	if len(numsB) > 0 {
		f.addCore("bnumInA", capInt(inA, 3)+capInt(len(numsB)-inA, 3))
	}
	f.add("nnum", capInt(len(numsA), 4)+capInt(len(numsB), 4))
	for _, kd := range []byte("bufrnlpz?") {
		if !kinds[kd] {
			continue
		}
		var va, vb string
		for _, x := range numsA {
			if x.kind == kd {
				va = x.val
			}
		}
		for _, y := range numsB {
			if y.kind == kd {
				vb = y.val
			}
		}
		ns := nameState(va, vb, nil)
		f.add("num:"+string(kd), ns)
		f.add("x:num.rel:"+string(kd), ns+rel)
	}
	f.add("x:rel.cov", rel+"|"+bin(covA, 4)+bin(covB, 4))

	// crosses
	anchor := st["road"] + st["roadno"] + st["poi"] + st["houseno"]
	f.add("x:anchor", anchor)
	f.addCore("x:fine", st["houseno"]+st["cellno"]+st["floorno"]+st["roomno"]+st["sub"])
	f.add("x:why.rel", why+"|"+rel)
	f.add("x:why.anchor", why+"|"+anchor)
	f.add("x:rel.eroad", rel+"|"+boolStr(roadEq)+boolStr(roadConflict)+rno)
	f.add("x:rel.house", rel+"|"+st["houseno"]+"|"+ea.gate+eb.gate)
	f.add("x:rule.jb", string(rl)+"|"+bin(jb, 5))
	f.add("x:nrel.jb", strconv.Itoa(best)+strconv.Itoa(bestFin)+"|"+bin(jb, 5))
	f.add("x:rel.dlcs", rel+"|"+bin(dd, 4)+"|"+capInt(len(dra), 4)+capInt(len(drb), 4))
	f.add("x:biz.rel.road", boolStr(ea.namesBusiness())+boolStr(eb.namesBusiness())+rel+boolStr(roadEq)+boolStr(roadConflict))
	f.crossCore()
}

// compareVeto reports whether a road or road-number conflict between the two
// sides forbids a match (issue 14: such a conflict vetoes match everywhere).
func compareVeto(ea, eb *entity, why string) bool {
	switch why {
	case "admin-conflict", "same-name-other-number", "same-name-other-road":
		return true
	}
	fa, fb := &ea.f, &eb.f
	roadEq := fa.road != "" && (fa.road == fb.road || roadTypoEq(fa.road, fb.road))
	if roadEq && fa.roadno != "" && fb.roadno != "" && fa.roadno != fb.roadno {
		return true
	}
	return false
}

// predict returns the class scores (logits) of a pair's features.
func (m *CompareModel) predict(f *pairFeats) [numCmpClasses]float32 {
	s := m.bias
	for i, k := range f.keys {
		off, ok := m.index[k]
		if !ok {
			continue
		}
		x := f.vals[i]
		for c := 0; c < numCmpClasses; c++ {
			s[c] += x * m.w[int(off)+c]
		}
	}
	return s
}

// softmax turns logits into probabilities.
func softmax(s [numCmpClasses]float32) [numCmpClasses]float64 {
	mx := s[0]
	for _, v := range s[1:] {
		mx = max(mx, v)
	}
	var p [numCmpClasses]float64
	sum := 0.0
	for c, v := range s {
		p[c] = math.Exp(float64(v - mx))
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
	return p
}

// CompareExample is one labelled address pair for training a compare model.
type CompareExample struct {
	A, B  string
	Label MatchLabel
}

// CompareTrainOptions configures [Parser.TrainCompareModel].
type CompareTrainOptions struct {
	// Epochs is the number of passes over the examples. Zero means 12.
	Epochs int
	// Seed orders the examples of each epoch. The same seed, examples and
	// parser give the same model, bit for bit.
	Seed uint64
	// MinCount drops features seen in fewer examples. Zero means 10.
	MinCount int
	// L2 is the L2 penalty per example. Zero means 1e-3; negative, none.
	L2 float64
	// Rate is the AdaGrad learning rate. Zero means 0.01.
	Rate float64
	// MatchWeight weighs the loss of match examples (the rare class) against
	// partial and none, for macro-F1. Zero means 3.
	MatchWeight float64
}

// TrainCompareModel learns a compare model from labelled pairs by
// multinomial logistic regression (AdaGrad, L2, averaged iterates) over the features of p's
// rule comparison (p's own compare model, if any, is not used). Training is
// deterministic for a given seed.
func (p *Parser) TrainCompareModel(examples []CompareExample, o CompareTrainOptions) (*CompareModel, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no training examples", ErrInvalidOptions)
	}
	if o.Epochs == 0 {
		o.Epochs = 12
	}
	if o.MinCount == 0 {
		o.MinCount = 10
	}
	if o.L2 == 0 {
		o.L2 = 1e-3
	}
	if o.L2 < 0 {
		o.L2 = 0
	}
	if o.Rate == 0 {
		o.Rate = 0.01
	}
	if o.MatchWeight == 0 {
		o.MatchWeight = 3
	}
	if o.Epochs < 0 || o.MinCount < 0 || o.Rate < 0 {
		return nil, fmt.Errorf("%w: negative Epochs, MinCount or Rate", ErrInvalidOptions)
	}
	type ex struct {
		ids  []int32
		vals []float32
		gold int
	}
	raw := make([]pairFeats, len(examples))
	golds := make([]int, len(examples))
	count := map[uint64]int{}
	for k, e := range examples {
		g := slices.Index(cmpClasses[:], e.Label)
		if g < 0 {
			return nil, fmt.Errorf("%w: example %d: label %q", ErrInvalidOptions, k, e.Label)
		}
		golds[k] = g
		p.comparePair(e.A, e.B, &raw[k])
		seen := map[uint64]bool{}
		for _, h := range raw[k].keys {
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
	exs := make([]ex, len(examples))
	for k := range raw {
		e := ex{gold: golds[k]}
		for i, h := range raw[k].keys {
			if f, ok := id[h]; ok {
				e.ids = append(e.ids, f)
				e.vals = append(e.vals, raw[k].vals[i])
			}
		}
		exs[k] = e
	}
	raw = nil
	nf := len(keys)
	w := make([]float64, nf*numCmpClasses)
	g2 := make([]float64, nf*numCmpClasses) // AdaGrad sums of squared gradients
	u := make([]float64, nf*numCmpClasses)  // sum of t·update, for averaging
	t := 1.0
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xc0a7a5e))
	for ep := 0; ep < o.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			e := &exs[k]
			var s [numCmpClasses]float32
			for i, f := range e.ids {
				for c := 0; c < numCmpClasses; c++ {
					s[c] += e.vals[i] * float32(w[int(f)*numCmpClasses+c])
				}
			}
			pr := softmax(s)
			cw := 1.0
			if e.gold == 0 {
				cw = o.MatchWeight
			}
			for i, f := range e.ids {
				for c := 0; c < numCmpClasses; c++ {
					y := 0.0
					if c == e.gold {
						y = 1
					}
					j := int(f)*numCmpClasses + c
					grad := cw*(pr[c]-y)*float64(e.vals[i]) + o.L2*w[j]
					g2[j] += grad * grad
					d := o.Rate * grad / (math.Sqrt(g2[j]) + 1e-8)
					w[j] -= d
					u[j] -= t * d
				}
			}
			t++
		}
	}
	for j := range w {
		w[j] -= u[j] / t // the average of the iterates
	}
	m := &CompareModel{index: make(map[uint64]int32, nf)}
	biasKey := skey("bias", "")
	for f := 0; f < nf; f++ {
		ws := w[f*numCmpClasses : (f+1)*numCmpClasses]
		if keys[f] == biasKey {
			for c := range ws {
				m.bias[c] = float32(ws[c])
			}
			continue
		}
		nz := false
		for _, v := range ws {
			if math.Abs(v) >= 1e-4 {
				nz = true
			}
		}
		if !nz {
			continue
		}
		m.index[keys[f]] = int32(len(m.w))
		for _, v := range ws {
			m.w = append(m.w, float32(v))
		}
	}
	return m, nil
}

// comparePair runs the rule comparison of (a, b) and collects the pair's
// features into f. It returns both entities and the rules' verdict.
func (p *Parser) comparePair(a, b string, f *pairFeats) (ea, eb entity, lvl Level, score float64, rl MatchLabel, rlvl Level, why string) {
	ea, eb = p.entityOf(a), p.entityOf(b)
	lvl, score = compareFields(&ea.f, &eb.f)
	rl, rlvl, why = p.compareEntities(&ea, &eb, lvl)
	p.pairFeatures(a, b, &ea, &eb, lvl, rl, rlvl, why, f)
	return
}

// compareModelMagic starts a serialised compare model (before gzip).
const compareModelMagic = "marketgeo-compare-model-v1\n"

// WriteTo writes the model, gzip-compressed, in a deterministic binary
// format: the same model gives the same bytes.
func (m *CompareModel) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return cw.n, fmt.Errorf("compare model: %w", err)
	}
	bw := bufio.NewWriter(zw)
	put := func(v any) {
		if err == nil {
			err = binary.Write(bw, binary.LittleEndian, v)
		}
	}
	if _, err = bw.WriteString(compareModelMagic); err != nil {
		return cw.n, fmt.Errorf("compare model: %w", err)
	}
	put(uint32(numCmpClasses))
	put(&m.bias)
	keys := make([]uint64, 0, len(m.index))
	for h := range m.index {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	put(uint32(len(keys)))
	for _, h := range keys {
		off := m.index[h]
		put(h)
		put(m.w[off : off+numCmpClasses])
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return cw.n, fmt.Errorf("compare model: write: %w", err)
	}
	return cw.n, nil
}

// ReadCompareModel reads a model written by [CompareModel.WriteTo].
func ReadCompareModel(r io.Reader) (*CompareModel, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(compareModelMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != compareModelMagic {
		return nil, fmt.Errorf("%w: not a compare model", ErrBadModel)
	}
	get := func(v any) {
		if err == nil {
			err = binary.Read(br, binary.LittleEndian, v)
		}
	}
	var nc, nk uint32
	get(&nc)
	if err == nil && nc != numCmpClasses {
		return nil, fmt.Errorf("%w: %d classes, want %d", ErrBadModel, nc, numCmpClasses)
	}
	m := &CompareModel{}
	get(&m.bias)
	get(&nk)
	if err == nil && nk > 1<<24 {
		err = errors.New("too many features")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	m.index = make(map[uint64]int32, nk)
	m.w = make([]float32, 0, int(nk)*numCmpClasses)
	var ws [numCmpClasses]float32
	for k := uint32(0); k < nk && err == nil; k++ {
		var h uint64
		get(&h)
		get(&ws)
		m.index[h] = int32(len(m.w))
		m.w = append(m.w, ws[:]...)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	return m, nil
}

// modelResult turns the model's class probabilities into a Result: the most
// probable label, a match vetoed by a road or road-number conflict, the
// rules' level kept consistent with the label (an administrative conflict
// stays none, at level different), and a score in the label's
// band that grows with the probability of a match.
func modelResult(ea, eb *entity, rl MatchLabel, rlvl Level, why string, pr [numCmpClasses]float64) Result {
	if why == "admin-conflict" {
		// another province, city, district or town: not the same place
		pr = [numCmpClasses]float64{0, 0, 1}
	}
	c := 0
	for k := 1; k < numCmpClasses; k++ {
		if pr[k] > pr[c] {
			c = k
		}
	}
	label := cmpClasses[c]
	if label == Match && compareVeto(ea, eb, why) {
		label = Partial
		if pr[2] > pr[1] {
			label = None
		}
	}
	lvl := rlvl
	if label != rl {
		switch label {
		case Match:
			if lvl != LevelExact {
				lvl = LevelSameBuilding
			}
		case Partial:
			switch {
			case levelRank(lvl) > levelRank(LevelSamePOI):
				lvl = LevelSamePOI
			case lvl == LevelDifferent:
				lvl = LevelSameArea
			}
		case None:
			if levelRank(lvl) > levelRank(LevelSamePOI) {
				lvl = LevelSamePOI
			}
		}
	}
	u := pr[0] + 0.5*pr[1] // the expected degree of match
	lo, hi := 0.0, 0.35
	switch label {
	case Match:
		lo, hi = 0.7, 1.0
	case Partial:
		lo, hi = 0.35, 0.7
	}
	score := lo + (hi-lo)*u
	if label != Match && score >= hi {
		score = hi - 0.001
	}
	return Result{Label: label, Level: lvl, Score: score, Diff: diffFields(&ea.f, &eb.f)}
}

// bigramSet is the set of rune bigrams of rs (its runes when shorter).
func bigramSet(rs []rune) map[[2]rune]struct{} {
	m := make(map[[2]rune]struct{}, len(rs))
	if len(rs) == 1 {
		m[[2]rune{rs[0], 0}] = struct{}{}
	}
	for i := 0; i+1 < len(rs); i++ {
		m[[2]rune{rs[i], rs[i+1]}] = struct{}{}
	}
	return m
}

// setCover is the share of the bigrams of a that b also has.
func setCover(a, b map[[2]rune]struct{}) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for k := range a {
		if _, ok := b[k]; ok {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// anum is a number in an address and the kind its unit word gives it.
type anum struct {
	val  string
	kind byte // b building, u unit, f floor, r room, n number, l lane, p phase, z zone, ? other
}

// numbersOf returns the numbers of a normalised address with their kinds.
func numbersOf(rs []rune) []anum {
	var out []anum
	for i := 0; i < len(rs); {
		if !(rs[i] >= '0' && rs[i] <= '9') {
			i++
			continue
		}
		j := i
		for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == '-') {
			j++
		}
		val := trimZeros(strings.TrimRight(string(rs[i:j]), "-"))
		next := ""
		if j < len(rs) {
			next = string(rs[j:min(j+2, len(rs))])
		}
		kind := byte('?')
		switch {
		case strings.HasPrefix(next, "号楼"), strings.HasPrefix(next, "栋"), strings.HasPrefix(next, "幢"), strings.HasPrefix(next, "座"), strings.HasPrefix(next, "号院"):
			kind = 'b'
		case strings.HasPrefix(next, "单元"), strings.HasPrefix(next, "门"), strings.HasPrefix(next, "梯"):
			kind = 'u'
		case strings.HasPrefix(next, "楼"), strings.HasPrefix(next, "层"), strings.HasPrefix(next, "F"):
			kind = 'f'
		case strings.HasPrefix(next, "室"), strings.HasPrefix(next, "户"), strings.HasPrefix(next, "房"):
			kind = 'r'
		case strings.HasPrefix(next, "号"):
			kind = 'n'
		case strings.HasPrefix(next, "弄"), strings.HasPrefix(next, "巷"):
			kind = 'l'
		case strings.HasPrefix(next, "期"):
			kind = 'p'
		case strings.HasPrefix(next, "区"):
			kind = 'z'
		}
		out = append(out, anum{val: val, kind: kind})
		i = j
	}
	return out
}
