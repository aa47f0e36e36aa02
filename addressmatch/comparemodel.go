package addressmatch

import (
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

// The learned compare model has two stages. A multinomial logistic
// regression over sparse pair features: the state of every component of both
// rule parses (equal, similar, conflicting, on one side only), the relations
// of the two sides' names, roads and numbers that the entity comparator
// computes, the rules' own verdict and the rule that decided it,
// whole-string similarities (character-bigram Jaccard, longest common
// substring, containment) in bins, the category words that end both sides'
// names, and crosses of the most telling of these. Then small
// gradient-boosted trees (gbt.go) over dense pair features (the same states
// and relations as numbers, string similarities, number overlap, how fine
// each side goes) and the regression's class probabilities; the argmax of
// their probabilities, weighed per class, is the label of [Parser.Compare].
// The road and road-number vetoes of the rules are applied after it.

// cmpClasses is the class order of the model's weights.
var cmpClasses = [3]MatchLabel{Match, Partial, None}

const numCmpClasses = 3

// CompareModel is a learned compare model (a logistic regression with
// gradient-boosted trees stacked on it): a read-only value, safe for
// concurrent use. Build one with [Parser.TrainCompareModel] or read one with
// [ReadCompareModel].
type CompareModel struct {
	index map[uint64]int32 // feature key → offset in w
	tab   lrTable          // index as an open-addressing table (the hot path)
	w     []float32        // numCmpClasses weights per feature
	bias  [numCmpClasses]float32
	// gbt, when not nil, labels the pair from the dense features and the
	// regression's class probabilities; the decision is the argmax of its
	// probabilities weighed by cw.
	gbt *gbtModel
	cw  [numCmpClasses]float32
	// tags: the features include the parse tagger's readings of both
	// addresses (see cmptag.go)
	tags bool
	// ctx, when not nil, is the query-context stage (cmpctx.go) of
	// [Parser.CompareCandidates], ccw the class weights of its decision.
	ctx *gbtModel
	ccw [numCmpClasses]float32
	// nDense is the number of dense features the trees read (the first
	// nDense of denseNames: legacyDense for files before v4), idf the
	// learned rarity of bigrams (v4; nil before)
	nDense int
	idf    *idfTable
	// ctxRel: the inputs the context stage ranks (ctxRelIdxFor(nDense))
	ctxRel []int
}

// Features returns the number of features the model weighs.
func (m *CompareModel) Features() int { return len(m.index) }

// pairFeats collects the sparse features of one address pair and its dense
// features (for the trees; see denseNames).
type pairFeats struct {
	keys  []uint64
	vals  []float32
	core  []uint64  // keys of the features crossed pairwise
	dense []float32 // len(denseNames) values

	tagMode int  // tagsFromModel (Compare), tagsOn or tagsOff (training)
	useTags bool // this pair reads the tagger (set by comparePair)
	// idf weighs the pair's bigrams (cmpidf.go): the model's table in
	// Compare, the one being learned in training; nil: no such features
	idf *idfTable
}

// Whether a pair's features include the parse tagger's readings.
const (
	tagsFromModel = iota // as the parser's compare model was trained
	tagsOn
	tagsOff
)

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
	var bufA, bufB [96]uint64 // no allocation for most addresses
	sa, sb := runeSet(a, bufA[:0]), runeSet(b, bufB[:0])
	inter := sa.common(sb)
	return float64(inter) / float64(len(sa)+len(sb)-inter)
}

// runeSet appends the runes of rs to buf as set keys, sorted, each once.
func runeSet(rs []rune, buf keySet) keySet {
	for _, r := range rs {
		buf = append(buf, uint64(uint32(r)))
	}
	slices.Sort(buf)
	return slices.Compact(buf)
}

// setJaccard is the Jaccard index of two bigram sets.
func setJaccard(a, b keySet) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := a.common(b)
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// pairFeatures computes the features of the pair (a, b) from both sides'
// entities and the rules' verdict on them.
func (p *Parser) pairFeatures(a, b string, ea, eb *entity, lvl Level, rl MatchLabel, rlvl Level, why string, f *pairFeats) {
	f.keys, f.vals, f.core, f.dense = f.keys[:0], f.vals[:0], f.core[:0], f.dense[:0]
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
	var st [numStates]string // indexed like stateKeys
	st[stDistrict] = nameState(fa.district, fb.district, func(x, y string) bool { return districtStem(x) == districtStem(y) })
	st[stTown] = nameState(fa.town, fb.town, nil)
	st[stCommunity] = nameState(fa.community, fb.community, poiS)
	st[stVgroup] = numState(fa.vgroup, fb.vgroup)
	st[stRoad] = nameState(fa.road, fb.road, roadSim)
	st[stRoadno] = numState(fa.roadno, fb.roadno)
	st[stSub] = numState(fa.sub, fb.sub)
	st[stPOI] = nameState(fa.poi, fb.poi, poiS)
	st[stSubPOI] = nameState(fa.subpoi, fb.subpoi, poiS)
	st[stHouseno] = numState(ea.houseno, eb.houseno)
	st[stCellno] = numState(fa.cellno, fb.cellno)
	st[stFloorno] = numState(fa.floorno, fb.floorno)
	st[stRoomno] = numState(fa.roomno, fb.roomno)
	st[stExtra] = nameState(fa.extra, fb.extra, nil)
	st[stGate] = nameState(ea.gate, eb.gate, nil)
	st[stSection] = nameState(ea.section, eb.section, nil)
	for k, name := range stateFeatNames {
		if k == stRoad || k == stRoadno || k == stPOI || k == stHouseno || k == stGate {
			f.addCore(name, st[k])
		} else {
			f.add(name, st[k])
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
	lcsD := lcsFast(dra, drb)
	dd := 0.0
	if m := min(len(dra), len(drb)); m > 0 {
		dd = float64(lcsD) / float64(m)
	}
	if na != "" && nb != "" {
		f.add("dlcs", bin(dd, 5))
		f.add("ddice", bin(diceFast(da, db), 5))
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
	_, pb := splitParens(b)
	sa, sb := ea.norm, eb.norm // Normalize of a and b without their brackets
	ra1, rb1 := []rune(sa), []rune(sb)
	var bufGA, bufGB [96]uint64 // no allocation for most addresses
	ga, gb := bigramSetInto(ra1, bufGA[:0]), bigramSetInto(rb1, bufGB[:0])
	jb := setJaccard(ga, gb)
	ju := runeJaccard(ra1, rb1)
	l := lcsFast(ra1, rb1)
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
		f.addCore("nbInA", bin(float64(lcsFast(rn, ra1))/float64(len(rn)), 5))
	}
	if na != "" {
		rn := []rune(na)
		f.addCore("naInB", bin(float64(lcsFast(rn, rb1))/float64(len(rn)), 5))
	}
	nu := 0
	for i := 0; i+1 < len(rb1) && nu < 12; i++ {
		if !ga.has(rb1[i], rb1[i+1]) {
			f.add("bu", string(rb1[i:i+2]))
			nu++
		}
	}
	nu = 0
	for i := 0; i+1 < len(ra1) && nu < 12; i++ {
		if !gb.has(ra1[i], ra1[i+1]) {
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
	anchor := st[stRoad] + st[stRoadno] + st[stPOI] + st[stHouseno]
	f.add("x:anchor", anchor)
	f.addCore("x:fine", st[stHouseno]+st[stCellno]+st[stFloorno]+st[stRoomno]+st[stSub])
	f.add("x:why.rel", why+"|"+rel)
	f.add("x:why.anchor", why+"|"+anchor)
	f.add("x:rel.eroad", rel+"|"+boolStr(roadEq)+boolStr(roadConflict)+rno)
	f.add("x:rel.house", rel+"|"+st[stHouseno]+"|"+ea.gate+eb.gate)
	f.add("x:rule.jb", string(rl)+"|"+bin(jb, 5))
	f.add("x:nrel.jb", strconv.Itoa(best)+strconv.Itoa(bestFin)+"|"+bin(jb, 5))
	f.add("x:rel.dlcs", rel+"|"+bin(dd, 4)+"|"+capInt(len(dra), 4)+capInt(len(drb), 4))
	f.add("x:biz.rel.road", boolStr(ea.namesBusiness())+boolStr(eb.namesBusiness())+rel+boolStr(roadEq)+boolStr(roadConflict))
	f.crossCore()

	// the dense features of the trees, in the order of denseNames
	d := f.dense
	d = append(d, float32(slices.Index(cmpClasses[:], rl)), float32(whyIndex(why)),
		float32(levelRank(lvl)), float32(levelRank(rlvl)), float32(stateCode(admin)))
	for _, v := range st {
		d = append(d, float32(stateCode(v)))
	}
	d = append(d, b01(fa.devzone), b01(fb.devzone), b01(fin), b01(comp), b01(rel1),
		b01(roadEq), b01(roadConflict), b01(allConflict), float32(stateCode(rno)),
		b01(ea.near), b01(eb.near), b01(ea.namesBusiness()), b01(eb.namesBusiness()), b01(ea.bareRoad()), b01(eb.bareRoad()),
		float32(len(ea.names)), float32(len(eb.names)), float32(len(ea.roads)), float32(len(eb.roads)),
		float32(len(ea.comms)), float32(len(eb.comms)), b01(sameNumberNearRoad(ea, eb)),
		float32(best), float32(bestFin))
	if na != "" && nb != "" {
		d = append(d, float32(dd), float32(diceFast(da, db)), float32(len(dra)), float32(len(drb)), b01(da == db))
	} else {
		d = append(d, -1, -1, float32(len(dra)), float32(len(drb)), -1)
	}
	d = append(d, b01(tailA == tailB), b01(lastRunes(na, 2) == lastRunes(nb, 2)), float32(tailClass(na)), float32(tailClass(nb)),
		float32(jb), float32(ju), float32(lm), float32(l),
		b01(sa != "" && strings.Contains(sb, sa)), b01(sb != "" && strings.Contains(sa, sb)),
		float32(len(ra1)), float32(len(rb1)), b01(pb.gate != ""), float32(len(pb.aliases)),
		float32(covA), float32(covB))
	nbIn, naIn := float32(-1), float32(-1)
	if nb != "" {
		rn := []rune(nb)
		nbIn = float32(lcsFast(rn, ra1)) / float32(len(rn))
	}
	if na != "" {
		rn := []rune(na)
		naIn = float32(lcsFast(rn, rb1)) / float32(len(rn))
	}
	d = append(d, nbIn, naIn, float32(uncovered(rb1, ga)), float32(uncovered(ra1, gb)),
		float32(inA), float32(len(numsB)-inA), float32(len(numsA)), float32(len(numsB)))
	for _, kd := range []byte("bufrnlpz?") {
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
		d = append(d, float32(stateCode(nameState(va, vb, nil))))
	}
	// numeric similarities of the whole strings and of the names
	ml := max(len(ra1), len(rb1))
	ed := float32(1)
	if ml > 0 {
		ed = float32(editDistance(ra1, rb1)) / float32(ml)
	}
	inB := 0
	for _, x := range numsA {
		for _, y := range numsB {
			if x.val == y.val {
				inB++
				break
			}
		}
	}
	numShare := float32(-1)
	if len(numsA) > 0 {
		numShare = float32(inB) / float32(len(numsA))
	}
	firstNum := float32(-1)
	if len(numsA) > 0 && len(numsB) > 0 {
		firstNum = b01(numsA[0].val == numsB[0].val)
	}
	d = append(d, ed, float32(commonPrefix(ra1, rb1)), float32(commonSuffix(ra1, rb1)), numShare, firstNum,
		float32(len(ra1)-len(rb1)), simOrMissing(fa.poi, fb.poi), simOrMissing(fa.road, fb.road),
		simOrMissing(fa.community, fb.community), simOrMissing(na, nb),
		float32(bagOverlapFast(rb1, ra1))/float32(max(1, len(rb1))), float32(bagOverlapFast(ra1, rb1))/float32(max(1, len(ra1))))
	lcsNames := float32(-1)
	if len(dra) > 0 {
		lcsNames = float32(lcsFast(dra, rb1)) / float32(len(dra))
	}
	lcsNamesB := float32(-1)
	if len(drb) > 0 {
		lcsNamesB = float32(lcsFast(drb, ra1)) / float32(len(drb))
	}
	d = append(d, lcsNames, lcsNamesB)
	// what is left below the town on each side, and how much of it the
	// other side's whole text holds; how fine each side goes
	la, lb := []rune(fa.local), []rune(fb.local)
	d = append(d, coverRunes(lb, ga), coverRunes(la, gb), lcsShare(lb, ra1), lcsShare(la, rb1),
		float32(grain(fa, ea)), float32(grain(fb, eb)), float32(grain(fa, ea)-grain(fb, eb)))
	f.dense = d
	if f.useTags {
		p.tagFeatures(sa, sb, ra1, rb1, f)
	} else {
		for range tagDenseNames {
			f.dense = append(f.dense, -2)
		}
	}
	f.idfFeatures(f.idf, ra1, rb1, ga, gb, dra, drb, fa.poi, fb.poi, la, lb)
}

// denseNames names the dense pair features of the trees, in order.
var denseNames = func() []string {
	out := []string{"rule", "why", "lvl", "rlvl", "admin"}
	for _, k := range stateKeys {
		out = append(out, "st:"+k)
	}
	out = append(out, "devzoneA", "devzoneB", "fin", "comp", "rel1", "roadEq", "roadConflict", "allConflict", "rno",
		"nearA", "nearB", "bizA", "bizB", "bareA", "bareB", "nnamesA", "nnamesB", "nroadsA", "nroadsB",
		"ncommsA", "ncommsB", "sameNoNear", "nrelBest", "nrelFin",
		"dlcs", "ddice", "dlenA", "dlenB", "dsame",
		"tailEq", "tail2Eq", "tailClassA", "tailClassB", "jb", "ju", "lcs", "lcsn", "AinB", "BinA",
		"lenA", "lenB", "parenGate", "aliases", "covA", "covB",
		"nbInA", "naInB", "uncovB", "uncovA", "bnumInA", "bnumNotInA", "nnumA", "nnumB")
	for _, kd := range "bufrnlpz?" {
		out = append(out, "num:"+string(kd))
	}
	out = append(out, "edit", "prefix", "suffix", "anumShare", "firstNum", "lenDiff", "poiDice", "roadDice",
		"commDice", "nameDice", "bagB", "bagA", "dnameAinB", "dnameBinA",
		"covLocalB", "covLocalA", "lcsLocalB", "lcsLocalA", "grainA", "grainB", "grainDiff")
	out = append(out, tagDenseNames...)
	return append(out, idfDenseNames...)
}()

// legacyDense is the number of dense features of the compare model files
// before v4 (no idf features): their trees read the first legacyDense.
var legacyDense = len(denseNames) - len(idfDenseNames)

// stateKeys are the components whose states pairFeatures records, in the
// order of the st* indices.
var stateKeys = []string{"district", "town", "community", "vgroup", "road", "roadno", "sub", "poi", "subpoi",
	"houseno", "cellno", "floorno", "roomno", "extra", "gate", "section"}

// The indices of the components in stateKeys.
const (
	stDistrict = iota
	stTown
	stCommunity
	stVgroup
	stRoad
	stRoadno
	stSub
	stPOI
	stSubPOI
	stHouseno
	stCellno
	stFloorno
	stRoomno
	stExtra
	stGate
	stSection
	numStates
)

// stateFeatNames are the regression's feature names of the states.
var stateFeatNames = func() [numStates]string {
	var out [numStates]string
	for k, n := range stateKeys {
		out[k] = "st:" + n
	}
	return out
}()

// stateCode orders the component states for the trees: conflict, one side
// only, absent, similar, equal.
func stateCode(s string) int {
	switch s {
	case "x":
		return 0
	case "A":
		return 1
	case "B":
		return 2
	case "0":
		return 3
	case "~":
		return 4
	case "=":
		return 5
	}
	return -1
}

func b01(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// whyNames are the deciding rules of the entity comparator, from the most
// to the least telling of a match; whyIndex is a rule's place in it.
var whyNames = []string{"components-exact", "same-name", "same-name-same-building", "same-name-finer-unit",
	"same-road-number-no-name", "same-community-road", "same-community-number", "same-name-one-building",
	"same-name-other-building", "same-compound-or-gate-or-road", "same-compound-other-road", "same-road-number",
	"number-on-road-variant", "same-road", "same-community", "same-name-other-number", "same-name-other-section",
	"bare-road", "same-area", "same-name-other-road", "different", "admin-conflict"}

func whyIndex(why string) int {
	if k := slices.Index(whyNames, why); k >= 0 {
		return k
	}
	return len(whyNames)
}

// tailClasses are the category words that end place names, grouped by kind
// of place; tailClass is the group of a name's ending (0: none).
var tailClasses = [][]string{
	{"小区", "花园", "家园", "新村", "公寓", "苑", "府", "庭", "湾", "居", "墅", "山庄", "名邸", "新寓", "村"},
	{"大厦", "大楼", "广场", "中心", "写字楼", "楼", "座"},
	{"公司", "集团", "厂", "行", "部", "工作室", "事务所"},
	{"店", "超市", "商场", "市场", "商城", "门市", "专卖店", "馆", "城"},
	{"医院", "学校", "中学", "小学", "大学", "学院", "幼儿园", "卫生院", "诊所", "银行", "支行", "局", "所", "政府", "委员会"},
	{"酒店", "宾馆", "饭店", "餐厅"},
	{"站", "场", "园", "区", "基地"},
	{"门", "东门", "西门", "南门", "北门", "大门"},
}

func tailClass(name string) int {
	if name == "" {
		return -1
	}
	for k, ws := range tailClasses {
		for _, w := range ws {
			if strings.HasSuffix(name, w) {
				return k + 1
			}
		}
	}
	return 0
}

// coverRunes is the share of the bigrams of rs in g, -1 when rs is empty.
func coverRunes(rs []rune, g keySet) float32 {
	if len(rs) == 0 {
		return -1
	}
	if len(rs) == 1 {
		return b01(g.has(rs[0], 0))
	}
	return 1 - float32(uncovered(rs, g))/float32(len(rs)-1)
}

// lcsShare is the longest common substring of a and b over the length of
// a, -1 when a is empty.
func lcsShare(a, b []rune) float32 {
	if len(a) == 0 {
		return -1
	}
	return float32(lcsFast(a, b)) / float32(len(a))
}

// grain is how fine an address goes: 0 administrative units only, 1 a
// community or village, 2 a road, 3 a road number, 4 a named place, 5 a
// sub-place or building, 6 a unit, floor or room.
func grain(f *fields, e *entity) int {
	switch {
	case f.cellno != "" || f.floorno != "" || f.roomno != "":
		return 6
	case f.subpoi != "" || e.houseno != "":
		return 5
	case len(e.names) > 0 || f.poi != "":
		return 4
	case f.roadno != "":
		return 3
	case f.road != "":
		return 2
	case f.community != "" || f.vgroup != "":
		return 1
	}
	return 0
}

// uncovered counts the bigrams of rs not in g.
func uncovered(rs []rune, g keySet) int {
	n := 0
	for i := 0; i+1 < len(rs); i++ {
		if !g.has(rs[i], rs[i+1]) {
			n++
		}
	}
	return n
}

// simOrMissing is the bigram Dice of two names, -1 when either is missing.
func simOrMissing(a, b string) float32 {
	if a == "" || b == "" {
		return -1
	}
	return float32(diceFast(a, b))
}

// editDistance is the Levenshtein distance of two rune strings.
func editDistance(a, b []rune) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	var buf [64]int // no allocation for most addresses
	row := buf[:0]
	if len(b)+1 > len(buf) {
		row = make([]int, 0, len(b)+1)
	}
	row = row[:len(b)+1]
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(row[j]+1, row[j-1]+1, diag+cost)
			diag, row[j] = row[j], v
		}
	}
	return row[len(b)]
}

func commonPrefix(a, b []rune) int {
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	return k
}

func commonSuffix(a, b []rune) int {
	k := 0
	for k < len(a) && k < len(b) && a[len(a)-1-k] == b[len(b)-1-k] {
		k++
	}
	return k
}

// compareVeto reports whether the two sides may not be a match (issue 14):
// a road or road-number conflict; a side with nothing that places it (no
// road, place, community or village: 附3号 alone); or a finer component
// (sub-number, building, unit, floor, room) given on one side only, which
// makes the pair partial; two different places named (placeConflict).
func compareVeto(ea, eb *entity, why string) bool {
	switch why {
	case "admin-conflict", "same-name-other-number", "same-name-other-road", "markup":
		return true
	}
	fa, fb := &ea.f, &eb.f
	if !anchored(fa) || !anchored(fb) {
		return true
	}
	if finerOneSide(fa, fb) && finerInside(fa, fb) {
		return true
	}
	if _, _, roadEq := roadsShare(ea, eb); len(ea.roads) > 0 && len(eb.roads) > 0 && !roadEq {
		return true // two main roads that are not one
	}
	roadEq := fa.road != "" && (fa.road == fb.road || roadTypoEq(fa.road, fb.road))
	if roadEq && fa.roadno != "" && fb.roadno != "" && fa.roadno != fb.roadno {
		return true
	}
	return placeConflict(ea, eb)
}

// placeConflict: both sides name a place (poi, three characters or more)
// and no place name of one
// side shares two consecutive characters with one of the other, generic
// endings (小区, 公寓, 大厦 …) left aside (星光公寓 / 阳光大厦): two different
// places, never the same building (issue 14).
func placeConflict(ea, eb *entity) bool {
	// a name of fewer than three characters is as often a misread word
	// (负, 段, B区) as a place
	if utf8.RuneCountInString(ea.f.poi) < 3 || utf8.RuneCountInString(eb.f.poi) < 3 {
		return false
	}
	na := append([]string{ea.f.poi, ea.f.subpoi}, ea.names...)
	nb := append([]string{eb.f.poi, eb.f.subpoi}, eb.names...)
	for _, x := range na {
		if x == "" {
			continue
		}
		rx := []rune(stripGeneric(x))
		for _, y := range nb {
			if y == "" {
				continue
			}
			if eq, _ := poiSim(x, y); eq || lcsFast(rx, []rune(stripGeneric(y))) >= 2 {
				return false
			}
		}
	}
	return true
}

// predict returns the class scores (logits) of a pair's features: with
// trees, the logarithms of the weighed probabilities of probs, so that
// their softmax is the decision's distribution.
func (m *CompareModel) predict(f *pairFeats) [numCmpClasses]float32 {
	if m.gbt == nil {
		return m.lrScores(f)
	}
	q := m.probs(f)
	var s [numCmpClasses]float32
	for c, v := range q {
		s[c] = float32(math.Log(max(v, 1e-12)))
	}
	return s
}

// lrSlot is one slot of an lrTable: a feature key and its offset in w
// plus one (0: an empty slot).
type lrSlot struct {
	key uint64
	off int32
}

// lrTable is a compare model's feature index laid out for the hot path:
// open addressing with linear probing at a load of at most 1/2, a slot
// holding its key beside its offset, so that a look-up reads one slot
// (most often) where the map reads a control group and a slot. It gives
// the map's answers (TestLRTableSameScores holds it against the map).
type lrTable struct {
	slots []lrSlot
	shift uint8
}

// buildTable fills m.tab from m.index, in key order (the same layout for
// the same model).
func (m *CompareModel) buildTable() {
	bits := uint8(4)
	for 1<<bits < 2*len(m.index) {
		bits++
	}
	m.tab = lrTable{slots: make([]lrSlot, 1<<bits), shift: 64 - bits}
	mask := uint64(len(m.tab.slots) - 1)
	keys := make([]uint64, 0, len(m.index))
	for h := range m.index {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	for _, h := range keys {
		j := (h * 0x9E3779B97F4A7C15) >> m.tab.shift
		for m.tab.slots[j].off != 0 {
			j = (j + 1) & mask
		}
		m.tab.slots[j] = lrSlot{key: h, off: m.index[h] + 1}
	}
}

// lookup returns the offset in w of feature h, and whether the model has
// it.
func (t *lrTable) lookup(h uint64) (int32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for j := (h * 0x9E3779B97F4A7C15) >> t.shift; ; j = (j + 1) & mask {
		s := &t.slots[j]
		if s.off == 0 {
			return 0, false
		}
		if s.key == h {
			return s.off - 1, true
		}
	}
}

// lrScores returns the logistic regression's class scores (logits).
func (m *CompareModel) lrScores(f *pairFeats) [numCmpClasses]float32 {
	s := m.bias
	for i, k := range f.keys {
		off, ok := m.tab.lookup(k)
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

// probs returns the model's class probabilities of a pair, weighed for the
// decision (their argmax is the label) and normalised again.
func (m *CompareModel) probs(f *pairFeats) [numCmpClasses]float64 {
	pr := softmax(m.lrScores(f))
	if m.gbt == nil {
		return pr
	}
	var x [160]float32
	xs := append(x[:0], f.dense[:m.nDense]...)
	for _, v := range pr {
		xs = append(xs, float32(v))
	}
	return m.gbt.weighedProbs(xs, &m.cw)
}

// weighedProbs returns g's class probabilities of the row x, weighed by
// the decision's class weights cw and normalised again.
func (g *gbtModel) weighedProbs(x []float32, cw *[numCmpClasses]float32) [numCmpClasses]float64 {
	var s [numCmpClasses]float32
	g.score(x, g.rounds(), s[:])
	q := softmax(s)
	sum := 0.0
	for c := range q {
		q[c] *= float64(cw[c])
		sum += q[c]
	}
	for c := range q {
		q[c] /= sum
	}
	return q
}

// Trees returns the number of boosting rounds of the model's trees (0: the
// logistic regression alone).
func (m *CompareModel) Trees() int {
	if m.gbt == nil {
		return 0
	}
	return m.gbt.rounds()
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
	// Epochs is the number of passes of the logistic regression over the
	// examples. Zero means 12.
	Epochs int
	// Seed orders the examples of each epoch and draws the rows and
	// features of every boosting round. The same seed, examples and parser
	// give the same model, bit for bit.
	Seed uint64
	// MinCount drops sparse features seen in fewer examples. Zero means 10.
	MinCount int
	// L2 is the L2 penalty per example. Zero means 1e-3; negative, none.
	L2 float64
	// Rate is the AdaGrad learning rate. Zero means 0.01.
	Rate float64
	// MatchWeight weighs the loss of match examples (the rare class) against
	// partial and none, for macro-F1. Zero means 3.
	MatchWeight float64

	// Trees is the largest number of boosting rounds of the gradient-boosted
	// trees stacked on the logistic regression; the number kept is chosen
	// on inner folds of the examples. Zero means 300; negative: no trees
	// (the logistic regression alone).
	Trees int
	// Depths are the tree depths tried on the inner folds (the best is
	// kept). Nil means {4} (4 won over 6 on the inner folds of the
	// project's training set; each depth tried costs a training per inner
	// fold).
	Depths []int
	// Shrinkage is the learning rate of the boosting. Zero means 0.08.
	Shrinkage float64
	// InnerFolds is the number of folds (by the first address of a pair, so
	// that a query's candidates stay together) on which the logistic
	// regression's stacked outputs are computed and the depth, the number
	// of rounds and the class weights of the decision are chosen. Zero
	// means 3.
	InnerFolds int
	// Log, when not nil, receives a line per inner-fold result.
	Log io.Writer
	// Tagger adds the parse tagger's readings of both addresses to the
	// features (when p has a parse model). Off by default: on the project's
	// training set they did not raise the held-out macro-F1 (5-fold 0.6920
	// with, 0.6916 without), and tagging an address the parser has not
	// compared lately costs about as much as the rest of Compare.
	Tagger bool
	// VetoWeights chooses the decision's class weights for the decision
	// with the rules' vetoes applied (decideClass) instead of for the
	// trees' argmax alone. Off by default: 5-fold over the project's
	// training set, with the rarity features, 0.6833 / 0.7036 (Compare /
	// CompareCandidates) with it, 0.6850 / 0.7059 without.
	VetoWeights bool
	// NoIDF leaves out the learned rarity weights of bigrams (cmpidf.go)
	// and the features they weigh.
	NoIDF bool
	// NoContext leaves out the query-context stage of
	// [Parser.CompareCandidates] (cmpctx.go), trained by default on the
	// trees' inner-fold probabilities of the examples grouped by their
	// first address.
	NoContext bool
}

// withDefaults fills the zero fields of o.
func (o CompareTrainOptions) withDefaults() (CompareTrainOptions, error) {
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
	if o.Trees == 0 {
		o.Trees = 300
	}
	if o.Depths == nil {
		o.Depths = []int{4}
	}
	if o.Shrinkage == 0 {
		o.Shrinkage = 0.08
	}
	if o.InnerFolds == 0 {
		o.InnerFolds = 3
	}
	if o.Epochs < 0 || o.MinCount < 0 || o.Rate < 0 || o.Shrinkage < 0 || o.InnerFolds < 2 {
		return o, fmt.Errorf("%w: negative Epochs, MinCount, Rate or Shrinkage, or fewer than 2 InnerFolds", ErrInvalidOptions)
	}
	for _, d := range o.Depths {
		if d < 1 || d > 12 {
			return o, fmt.Errorf("%w: tree depth %d", ErrInvalidOptions, d)
		}
	}
	return o, nil
}

// minTreeExamples is the smallest training set on which trees are grown.
const minTreeExamples = 300

// TrainCompareModel learns a compare model from labelled pairs. It fits a
// multinomial logistic regression (AdaGrad, L2, averaged iterates) over the
// sparse features of p's rule comparison (p's own compare model, if any,
// is not used), then, on the dense pair features plus the regression's
// out-of-fold class probabilities, gradient-boosted trees whose depth,
// number of rounds and decision weights are chosen on inner folds of the
// examples. Training is deterministic for a given seed.
func (p *Parser) TrainCompareModel(examples []CompareExample, o CompareTrainOptions) (*CompareModel, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no training examples", ErrInvalidOptions)
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	raw := make([]pairFeats, len(examples))
	golds := make([]int, len(examples))
	useTags := o.Tagger && p.models.parse() != nil
	var idf *idfTable
	if !o.NoIDF {
		idf = buildIDF(exampleDocs(examples))
	}
	// how the decision of each pair is constrained beyond the trees
	// (modelResult's vetoes), so that with VetoWeights the class weights are chosen for
	// the decision Compare takes
	force := make([]uint8, len(examples))
	for k, e := range examples {
		g := slices.Index(cmpClasses[:], e.Label)
		if g < 0 {
			return nil, fmt.Errorf("%w: example %d: label %q", ErrInvalidOptions, k, e.Label)
		}
		golds[k] = g
		raw[k].tagMode = tagsOff
		if useTags {
			raw[k].tagMode = tagsOn
		}
		raw[k].idf = idf
		ea, eb, _, _, _, _, why := p.comparePair(e.A, e.B, &raw[k])
		if markupOneSide(e.A, e.B) {
			why = "markup"
		}
		if o.VetoWeights {
			force[k] = decisionFlags(&ea, &eb, why)
		}
		if len(raw[k].dense) != len(denseNames) {
			return nil, fmt.Errorf("compare model: %d dense features, want %d", len(raw[k].dense), len(denseNames))
		}
	}
	all := make([]int, len(examples))
	for i := range all {
		all[i] = i
	}
	m := trainLR(raw, golds, all, o)
	m.tags = useTags
	m.idf = idf
	m.nDense = len(denseNames)
	m.ctxRel = ctxRelIdx
	if o.Trees < 0 || len(examples) < minTreeExamples {
		return m, nil
	}
	// the inner folds, by the first address (a query and its candidates)
	fold := make([]int, len(examples))
	for k, e := range examples {
		fold[k] = int(skey("fold", e.A) % uint64(o.InnerFolds))
	}
	// the regression's out-of-fold class probabilities, stacked on the
	// dense features
	x := make([][]float32, len(examples))
	for k := range raw {
		x[k] = append(slices.Clip(raw[k].dense), 0, 0, 0)
	}
	for j := 0; j < o.InnerFolds; j++ {
		var tr []int
		for k := range examples {
			if fold[k] != j {
				tr = append(tr, k)
			}
		}
		if len(tr) == 0 || len(tr) == len(examples) {
			return m, nil // one group only: no inner folds
		}
		lm := trainLR(raw, golds, tr, o)
		for k := range examples {
			if fold[k] == j {
				pr := softmax(lm.lrScores(&raw[k]))
				nd := len(raw[k].dense)
				for c := range pr {
					x[k][nd+c] = float32(pr[c])
				}
			}
		}
	}
	raw = nil
	nfeat := len(denseNames) + numCmpClasses
	sel, err := selectTrees(x, golds, force, fold, nfeat, o)
	if err != nil {
		return nil, err
	}
	gp := gbtParams{rounds: sel.rounds, depth: sel.depth, shrinkage: o.Shrinkage, minLeaf: 1, lambda: 1,
		subsample: 0.8, colsample: 0.8, seed: o.Seed}
	g, err := gbtTrain(binData(x, nfeat), golds, nil, numCmpClasses, gp)
	if err != nil {
		return nil, fmt.Errorf("compare model: %w", err)
	}
	m.gbt = g
	m.cw = sel.cw
	if !o.NoContext {
		m.ctx, m.ccw, err = trainContext(examples, x, sel.oof, golds, force, fold, o)
		if err != nil {
			return nil, fmt.Errorf("compare model: %w", err)
		}
	}
	return m, nil
}

// treeTolerance is how much inner-fold macro-F1 selectTrees gives up for
// fewer or shallower trees. Zero: the best, the smallest trees among equals
// (0.002 halved the rounds but cost 0.005 of 5-fold macro-F1).
const treeTolerance = 0

// treeChoice is what the inner folds chose.
type treeChoice struct {
	depth, rounds int
	cw            [numCmpClasses]float32
	f1            float64
	// oof: the held-out class probabilities of every example with these
	// trees (before the class weights)
	oof [][numCmpClasses]float32
}

// selectTrees grows trees on every inner training part for each depth of
// o.Depths, scores the held-out part every ten rounds, and returns the
// depth, number of rounds and class weights of the decision with the
// smallest trees whose pooled macro-F1 is within treeTolerance of the best.
func selectTrees(x [][]float32, y []int, force []uint8, fold []int, nfeat int, o CompareTrainOptions) (treeChoice, error) {
	every := min(10, o.Trees) // rounds between two scored checkpoints
	var cands []treeChoice
	for _, depth := range o.Depths {
		nck := o.Trees / every
		// oof[ck][k]: held-out class probabilities of example k after
		// (ck+1)·every rounds
		oof := make([][][numCmpClasses]float32, nck)
		for ck := range oof {
			oof[ck] = make([][numCmpClasses]float32, len(x))
		}
		for j := 0; j < o.InnerFolds; j++ {
			var tr, te []int
			for k := range x {
				if fold[k] == j {
					te = append(te, k)
				} else {
					tr = append(tr, k)
				}
			}
			xt := make([][]float32, len(tr))
			yt := make([]int, len(tr))
			for i, k := range tr {
				xt[i], yt[i] = x[k], y[k]
			}
			d := binData(xt, nfeat)
			sc := make([]float32, len(te)*numCmpClasses)
			gp := gbtParams{rounds: nck * every, depth: depth, shrinkage: o.Shrinkage, minLeaf: 1, lambda: 1,
				subsample: 0.8, colsample: 0.8, seed: o.Seed + uint64(j)}
			gp.checkpoint = func(g *gbtModel, r int) {
				// add the trees of round r to the held-out scores
				roots := g.roots[(r-1)*numCmpClasses : r*numCmpClasses]
				for i, k := range te {
					for c, root := range roots {
						sc[i*numCmpClasses+c] += g.leaf(root, x[k])
					}
				}
				if r%every != 0 {
					return
				}
				for i, k := range te {
					var s [numCmpClasses]float32
					for c := range s {
						s[c] = g.base[c] + sc[i*numCmpClasses+c]
					}
					pr := softmax(s)
					for c := range pr {
						oof[r/every-1][k][c] = float32(pr[c])
					}
				}
			}
			if _, err := gbtTrain(d, yt, nil, numCmpClasses, gp); err != nil {
				return treeChoice{}, fmt.Errorf("compare model: inner fold %d: %w", j, err)
			}
		}
		for ck := range oof {
			cw, f1 := bestWeights(oof[ck], y, force)
			if o.Log != nil {
				fmt.Fprintf(o.Log, "inner folds: depth %d, %d rounds: macro-F1 %.4f (weights %.2f %.2f %.2f)\n",
					depth, (ck+1)*every, f1, cw[0], cw[1], cw[2])
			}
			cands = append(cands, treeChoice{depth: depth, rounds: (ck + 1) * every, cw: cw, f1: f1, oof: oof[ck]})
		}
	}
	// the cheapest trees within treeTolerance of the best macro-F1
	top := -1.0
	for _, c := range cands {
		top = max(top, c.f1)
	}
	best := treeChoice{f1: -1}
	for _, c := range cands {
		if c.f1 >= top-treeTolerance && (best.f1 < 0 || c.rounds<<c.depth < best.rounds<<best.depth) {
			best = c
		}
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "chosen on inner folds: depth %d, %d rounds, weights %.2f %.2f %.2f (macro-F1 %.4f)\n",
			best.depth, best.rounds, best.cw[0], best.cw[1], best.cw[2], best.f1)
	}
	return best, nil
}

// bestWeights returns the class weights (none fixed at 1) that maximise the
// macro-F1 of the decision (the weighted argmax of the probabilities pr
// under the constraints force of decideClass) against y, and that
// macro-F1.
func bestWeights(pr [][numCmpClasses]float32, y []int, force []uint8) ([numCmpClasses]float32, float64) {
	bw, bf := [numCmpClasses]float32{1, 1, 1}, -1.0
	for wm := float32(0.5); wm <= 4.01; wm += 0.25 {
		for wp := float32(0.5); wp <= 2.01; wp += 0.1 {
			cw := [numCmpClasses]float32{wm, wp, 1}
			var conf [numCmpClasses][numCmpClasses]int
			for k, p := range pr {
				var q [numCmpClasses]float32
				for c := range q {
					q[c] = p[c] * cw[c]
				}
				conf[y[k]][decideClass(q, force[k])]++
			}
			if f := confMacroF1(&conf); f > bf+1e-9 {
				bw, bf = cw, f
			}
		}
	}
	return bw, bf
}

// The constraints of the rules on the model's decision (modelResult).
const (
	forceNone  uint8 = 1 << iota // an administrative conflict: none
	forceMatch                   // every component agrees: match (unless vetoed)
	vetoMatch                    // compareVeto: never match
)

// decisionFlags are the constraints of the rules on the decision of the
// pair (ea, eb) that the rules decided with why.
func decisionFlags(ea, eb *entity, why string) uint8 {
	var f uint8
	switch why {
	case "admin-conflict":
		f |= forceNone
	case "components-exact":
		f |= forceMatch
	}
	if compareVeto(ea, eb, why) {
		f |= vetoMatch
	}
	return f
}

// decideClass is the class the model's (weighed) probabilities q decide
// under the rules' constraints f: the most probable class (the first of
// equals); none on an administrative conflict; match when every component
// agrees; a vetoed match partial, or none when none is the more probable.
func decideClass[T float32 | float64](q [numCmpClasses]T, f uint8) int {
	if f&forceNone != 0 {
		return 2
	}
	c := 0
	for k := 1; k < numCmpClasses; k++ {
		if q[k] > q[c] {
			c = k
		}
	}
	if f&forceMatch != 0 {
		c = 0
	}
	if c == 0 && f&vetoMatch != 0 {
		c = 1
		if q[2] > q[1] {
			c = 2
		}
	}
	return c
}

// confMacroF1 is the mean F1 of the classes of a confusion matrix (gold, pred).
func confMacroF1(conf *[numCmpClasses][numCmpClasses]int) float64 {
	sum := 0.0
	for c := 0; c < numCmpClasses; c++ {
		tp, fp, fn := conf[c][c], 0, 0
		for k := 0; k < numCmpClasses; k++ {
			if k != c {
				fp += conf[k][c]
				fn += conf[c][k]
			}
		}
		if tp > 0 {
			sum += 2 * float64(tp) / float64(2*tp+fp+fn)
		}
	}
	return sum / numCmpClasses
}

// trainLR fits the logistic regression on the examples idx of raw.
func trainLR(raw []pairFeats, golds []int, idx []int, o CompareTrainOptions) *CompareModel {
	type ex struct {
		ids  []int32
		vals []float32
		gold int
	}
	count := map[uint64]int{}
	seen := map[uint64]bool{}
	for _, k := range idx {
		clear(seen)
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
	exs := make([]ex, len(idx))
	for j, k := range idx {
		e := ex{gold: golds[k]}
		for i, h := range raw[k].keys {
			if f, ok := id[h]; ok {
				e.ids = append(e.ids, f)
				e.vals = append(e.vals, raw[k].vals[i])
			}
		}
		exs[j] = e
	}
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
	m.buildTable()
	return m
}

// comparePair runs the rule comparison of (a, b) and collects the pair's
// features into f. It returns both entities and the rules' verdict.
func (p *Parser) comparePair(a, b string, f *pairFeats) (ea, eb entity, lvl Level, score float64, rl MatchLabel, rlvl Level, why string) {
	if f.tagMode == tagsFromModel {
		// Compare: the tagger's readings only for a model that reads them
		f.useTags, f.idf = false, nil
		if m := p.cmp.model(); m != nil {
			f.useTags, f.idf = m.tags, m.idf
		}
	} else {
		f.useTags = f.tagMode == tagsOn
	}
	ea, eb = p.entityCached(a), p.entityCached(b)
	lvl, score = compareFields(&ea.f, &eb.f)
	rl, rlvl, why = p.compareEntities(&ea, &eb, lvl)
	p.pairFeatures(a, b, &ea, &eb, lvl, rl, rlvl, why, f)
	return
}

// compareModelMagic starts a serialised compare model (before gzip); v1
// models (the logistic regression alone) are still read.
const (
	compareModelMagic   = "marketgeo-compare-model-v2\n"
	compareModelMagicV1 = "marketgeo-compare-model-v1\n"
	// v3: v2 and the query-context stage after the trees
	compareModelMagicV3 = "marketgeo-compare-model-v3\n"
	// v4: after the tagger flag, the number of dense features the trees
	// read and the idf table (cmpidf.go); the context stage flagged by a
	// byte after the trees
	compareModelMagicV4 = "marketgeo-compare-model-v4\n"
)

// WriteTo writes the model, gzip-compressed, in a deterministic binary
// format: the same model gives the same bytes.
func (m *CompareModel) WriteTo(w io.Writer) (int64, error) {
	magic := compareModelMagic
	if m.ctx != nil {
		magic = compareModelMagicV3
	}
	v4 := m.idf != nil || (m.gbt != nil && m.nDense != legacyDense)
	if v4 {
		magic = compareModelMagicV4
	}
	return writeModelFile(w, "compare model", magic, func(put func(any)) {
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
		// whether the features read the tagger; the trees: feature count,
		// class weights, base scores, roots, nodes
		put(boolByte(m.tags))
		if v4 {
			put(uint32(m.nDense))
			if m.idf == nil {
				put(uint32(0))
			} else {
				put(uint32(len(m.idf.q)))
				put(m.idf.q)
			}
		}
		if m.gbt == nil {
			put(uint32(0))
		} else {
			putGBT(put, m.gbt, &m.cw)
		}
		if v4 {
			put(boolByte(m.ctx != nil))
		}
		if m.ctx != nil {
			putGBT(put, m.ctx, &m.ccw)
		}
	})
}

// putGBT writes a tree ensemble: feature count, class weights, base
// scores, roots, nodes.
func putGBT(put func(any), g *gbtModel, cw *[numCmpClasses]float32) {
	put(uint32(g.nfeat))
	put(cw)
	put(g.base)
	put(uint32(len(g.roots)))
	put(g.roots)
	put(uint32(len(g.nodes)))
	for _, n := range g.nodes {
		put(n.feat)
		put(n.left)
		put(n.v)
	}
}

// ReadCompareModel reads a model written by [CompareModel.WriteTo].
func ReadCompareModel(r io.Reader) (*CompareModel, error) {
	mr, magic, err := openModelFile(r, "compare model", compareModelMagic, compareModelMagicV1, compareModelMagicV3, compareModelMagicV4)
	if err != nil {
		return nil, err
	}
	get := mr.get
	var nc, nk uint32
	get(&nc)
	if mr.err == nil && nc != numCmpClasses {
		return nil, fmt.Errorf("%w: %d classes, want %d", ErrBadModel, nc, numCmpClasses)
	}
	m := &CompareModel{nDense: legacyDense}
	get(&m.bias)
	get(&nk)
	if mr.err == nil && nk > 1<<24 {
		mr.err = errors.New("too many features")
	}
	if mr.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, mr.err)
	}
	m.index = make(map[uint64]int32, nk)
	m.w = make([]float32, 0, int(nk)*numCmpClasses)
	var ws [numCmpClasses]float32
	for k := uint32(0); k < nk && mr.err == nil; k++ {
		var h uint64
		get(&h)
		get(&ws)
		m.index[h] = int32(len(m.w))
		m.w = append(m.w, ws[:]...)
	}
	m.buildTable()
	if mr.err == nil && magic != compareModelMagicV1 {
		if terr := readTrees(m, get, magic == compareModelMagicV4); mr.err == nil {
			mr.err = terr
		}
	}
	hasCtx := magic == compareModelMagicV3
	if mr.err == nil && magic == compareModelMagicV4 {
		var b uint8
		get(&b)
		hasCtx = b == 1
	}
	if mr.err == nil && hasCtx {
		m.ctxRel = ctxRelIdxFor(m.nDense)
		g, err := readGBT(get, ctxWidth(m.nDense), &m.ccw)
		if mr.err == nil {
			mr.err = err
		}
		m.ctx = g
	}
	if mr.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadModel, mr.err)
	}
	return m, nil
}

// boolByte is 1 for true, 0 for false.
func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// readTrees reads the tagger flag, (v4) the dense feature count and the
// idf table, and the trees section of a v2, v3 or v4 compare model.
func readTrees(m *CompareModel, get func(any), v4 bool) error {
	var nfeat uint32
	var tags uint8
	get(&tags)
	m.tags = tags == 1
	if v4 {
		var nd, nq uint32
		get(&nd)
		if nd == 0 || int(nd) > len(denseNames) {
			return fmt.Errorf("%d dense features, at most %d known", nd, len(denseNames))
		}
		m.nDense = int(nd)
		get(&nq)
		switch nq {
		case 0:
		case 1 << idfBits:
			m.idf = &idfTable{q: make([]uint8, nq)}
			get(m.idf.q)
		default:
			return errIDFSize
		}
	}
	get(&nfeat)
	if nfeat == 0 {
		return nil
	}
	if want := m.nDense + numCmpClasses; int(nfeat) != want {
		return fmt.Errorf("trees over %d features, want %d", nfeat, want)
	}
	g, err := readGBTBody(get, int(nfeat), &m.cw)
	if err != nil {
		return err
	}
	m.gbt = g
	return nil
}

// readGBT reads a tree ensemble written by putGBT over want features.
func readGBT(get func(any), want int, cw *[numCmpClasses]float32) (*gbtModel, error) {
	var nfeat uint32
	get(&nfeat)
	if int(nfeat) != want {
		return nil, fmt.Errorf("context trees over %d features, want %d", nfeat, want)
	}
	return readGBTBody(get, want, cw)
}

// readGBTBody reads a tree ensemble's class weights, base scores, roots
// and nodes, and checks that every reference is in range.
func readGBTBody(get func(any), nfeat int, cw *[numCmpClasses]float32) (*gbtModel, error) {
	var nr, nn uint32
	g := &gbtModel{nfeat: nfeat, nc: numCmpClasses, base: make([]float32, numCmpClasses)}
	get(cw)
	get(g.base)
	get(&nr)
	if nr > 1<<16 || nr%numCmpClasses != 0 {
		return nil, errors.New("bad tree count")
	}
	g.roots = make([]int32, nr)
	get(g.roots)
	get(&nn)
	if nn > 1<<24 {
		return nil, errors.New("too many tree nodes")
	}
	g.nodes = make([]gbtNode, nn)
	for k := range g.nodes {
		n := &g.nodes[k]
		get(&n.feat)
		get(&n.left)
		get(&n.v)
	}
	// every reference in range and forward (no cycles), every inner node
	// on a known feature
	for _, r := range g.roots {
		if r < 0 || r >= int32(nn) {
			return nil, errors.New("tree root out of range")
		}
	}
	for k, n := range g.nodes {
		if n.feat >= 0 && (int(n.feat) >= g.nfeat || n.left <= int32(k) || n.left+1 >= int32(nn)) {
			return nil, errors.New("tree node out of range")
		}
	}
	return g, nil
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
	// every component agrees (3-1 and 3层01室 on one number): match; a
	// road or road-number conflict, a finer component on one side …: never
	label := cmpClasses[decideClass(pr, decisionFlags(ea, eb, why))]
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
func bigramSet(rs []rune) keySet {
	return bigramSetInto(rs, make(keySet, 0, max(len(rs)-1, 1)))
}

// bigramSetInto is bigramSet appending to buf[:0] (no allocation when buf
// holds the bigrams).
func bigramSetInto(rs []rune, buf keySet) keySet {
	g := buf[:0]
	if len(rs) == 1 {
		g = append(g, bigramKey(rs[0], 0))
	}
	for i := 0; i+1 < len(rs); i++ {
		g = append(g, bigramKey(rs[i], rs[i+1]))
	}
	slices.Sort(g)
	return slices.Compact(g)
}

// keySet is a set of rune bigrams (or of runes): their keys (bigramKey), sorted, each
// once.
type keySet []uint64

// bigramKey packs the bigram (a, b) into a set key.
func bigramKey(a, b rune) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// has says whether the bigram (a, b) is in g.
func (g keySet) has(a, b rune) bool {
	_, ok := slices.BinarySearch(g, bigramKey(a, b))
	return ok
}

// common is the number of keys in both g and o.
func (g keySet) common(o keySet) int {
	n, i, j := 0, 0, 0
	for i < len(g) && j < len(o) {
		switch {
		case g[i] < o[j]:
			i++
		case g[i] > o[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// setCover is the share of the bigrams of a that b also has.
func setCover(a, b keySet) float64 {
	if len(a) == 0 {
		return 0
	}
	return float64(a.common(b)) / float64(len(a))
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
