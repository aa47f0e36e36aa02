package addressmatch

import (
	"fmt"
	"math"
	"slices"
)

// The query-context stage of the compare model. A query address is most
// often compared with several candidates at once (a map search's or the
// registry's top hits), and whether one of them is "the same place" is
// partly a judgement relative to the others: in the project's training
// pairs 2,309 of the 2,541 queries with a match have exactly one. The
// context stage relabels each candidate from the first stage's class
// probabilities of it and of the query's other candidates (its rank, the
// best of the others, its margin over them …) with small gradient-boosted
// trees, trained on the first stage's out-of-fold probabilities of the
// training pairs grouped by query. Only [Parser.CompareCandidates] uses
// it; [Parser.Compare] sees one pair and keeps the first stage's label.

// ctxNames names the context features of the first stage's probabilities,
// in order; a context row also holds the first stage's input row (dense
// features and the regression's probabilities) and, for each of ctxRelNames,
// the candidate's rank among the query's candidates and its margin over the
// best of the others.
var ctxNames = []string{"pm", "pp", "pn", "n", "rankM", "maxOtherM", "marginM", "rankP", "maxOtherP",
	"shareM", "othersOverHalfM", "rankU", "meanOtherM", "maxOtherNotNone", "marginN", "rankN"}

// ctxRelNames are the first-stage inputs compared across a query's
// candidates.
var ctxRelNames = []string{"jb", "ju", "lcs", "covA", "covB", "edit", "nameDice", "poiDice", "roadDice",
	"dnameAinB", "dnameBinA", "nbInA", "naInB", "lrM", "lrP",
	"idf:jacc", "idf:covA", "idf:covB", "idf:cos", "idf:maxUncB", "idf:dnameBinA", "idf:poi", "idf:tjacc", "idf:tcovB"}

// ctxRelIdx are the positions of ctxRelNames in a first-stage input row
// of the current features (TestContextRelNames checks that every name is
// found).
var ctxRelIdx = ctxRelIdxFor(len(denseNames))

// ctxRelIdxFor are the positions of those of ctxRelNames that a first-stage
// input row of nDense dense features has (model files before v4 have
// fewer), the regression's probabilities counted from the row's end (-3:
// match, -2: partial).
func ctxRelIdxFor(nDense int) []int {
	out := make([]int, 0, len(ctxRelNames))
	for _, n := range ctxRelNames {
		switch n {
		case "lrM":
			out = append(out, -numCmpClasses)
		case "lrP":
			out = append(out, -numCmpClasses+1)
		default:
			if j := slices.Index(denseNames[:nDense], n); j >= 0 {
				out = append(out, j)
			}
		}
	}
	return out
}

// ctxWidth is the length of a context row over nDense dense features.
func ctxWidth(nDense int) int {
	return len(ctxNames) + nDense + numCmpClasses + 2*len(ctxRelIdxFor(nDense))
}

// ctxRow appends the context row of candidate i to out: its context
// features among the first-stage probabilities pr, its first-stage input
// row xs[i], and its rank and margin among the candidates' inputs xs in
// each input rel (ctxRelIdxFor).
func ctxRow(pr [][numCmpClasses]float32, xs [][]float32, i int, rel []int, out []float32) []float32 {
	out = ctxFeatures(pr, i, out)
	out = append(out, xs[i]...)
	for _, j := range rel {
		if j < 0 {
			j += len(xs[i])
		}
		v := xs[i][j]
		rank, best := 0, float32(math.Inf(-1))
		for k, x := range xs {
			if k == i {
				continue
			}
			if x[j] > v {
				rank++
			}
			best = max(best, x[j])
		}
		margin := float32(0)
		if len(xs) > 1 {
			margin = v - best
		}
		out = append(out, float32(rank), margin)
	}
	return out
}

// ctxFeatures appends the context features of candidate i among the
// first-stage class probabilities pr of one query's candidates to out.
func ctxFeatures(pr [][numCmpClasses]float32, i int, out []float32) []float32 {
	me := pr[i]
	n := len(pr)
	u := func(p [numCmpClasses]float32) float32 { return p[0] + 0.5*p[1] }
	rankM, rankP, rankU, rankN, over := 0, 0, 0, 0, 0
	maxM, maxP, maxNN, minN := float32(-1), float32(-1), float32(-1), float32(2)
	var sumM, otherM float32
	for k, p := range pr {
		sumM += p[0]
		if k == i {
			continue
		}
		otherM += p[0]
		if p[0] > me[0] {
			rankM++
		}
		if p[1] > me[1] {
			rankP++
		}
		if u(p) > u(me) {
			rankU++
		}
		if p[2] < me[2] {
			rankN++
		}
		if p[0] > 0.5 {
			over++
		}
		maxM, maxP = max(maxM, p[0]), max(maxP, p[1])
		maxNN = max(maxNN, p[0]+p[1])
		minN = min(minN, p[2])
	}
	share := float32(0)
	if sumM > 0 {
		share = me[0] / sumM
	}
	meanM, marginM, marginN := float32(-1), float32(2), float32(-2)
	if n > 1 {
		meanM = otherM / float32(n-1)
		marginM = me[0] - maxM
		marginN = me[2] - minN
	}
	return append(out, me[0], me[1], me[2], float32(n), float32(rankM), maxM, marginM, float32(rankP), maxP,
		share, float32(over), float32(rankU), meanM, maxNN, marginN, float32(rankN))
}

// groupByQuery returns the indices of the examples of each query (the same
// first address), in the order of their first example.
func groupByQuery(examples []CompareExample) [][]int {
	at := map[string]int{}
	var groups [][]int
	for k, e := range examples {
		g, ok := at[e.A]
		if !ok {
			g = len(groups)
			at[e.A] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], k)
	}
	return groups
}

// ctxDepth and ctxTrees bound the context stage's trees.
const (
	ctxDepth = 4
	ctxTrees = 200
)

// trainContext grows the context stage's trees on the first stage's
// out-of-fold probabilities oof of the examples; its number of rounds and
// the class weights of its decision are chosen on the inner folds fold.
func trainContext(examples []CompareExample, xs [][]float32, oof [][numCmpClasses]float32, y []int, force []uint8, fold []int, o CompareTrainOptions) (*gbtModel, [numCmpClasses]float32, error) {
	x := make([][]float32, len(examples))
	w := ctxWidth(len(denseNames))
	for _, g := range groupByQuery(examples) {
		pr := make([][numCmpClasses]float32, len(g))
		gx := make([][]float32, len(g))
		for i, k := range g {
			pr[i], gx[i] = oof[k], xs[k]
		}
		for i, k := range g {
			x[k] = ctxRow(pr, gx, i, ctxRelIdx, make([]float32, 0, w))
		}
	}
	co := o
	co.Depths, co.Trees = []int{ctxDepth}, ctxTrees
	sel, err := selectTrees(x, y, force, fold, w, co)
	if err != nil {
		return nil, [numCmpClasses]float32{}, fmt.Errorf("context stage: %w", err)
	}
	gp := gbtParams{rounds: sel.rounds, depth: sel.depth, shrinkage: o.Shrinkage, minLeaf: 1, lambda: 1,
		subsample: 0.8, colsample: 0.8, seed: o.Seed + 101}
	g, err := gbtTrain(binData(x, w), y, nil, numCmpClasses, gp)
	if err != nil {
		return nil, [numCmpClasses]float32{}, fmt.Errorf("context stage: %w", err)
	}
	return g, sel.cw, nil
}

// stageOne returns the first stage's class probabilities of a pair, before
// the decision's class weights, and appends its input row (the dense
// features and the regression's probabilities) to xs: the context stage's
// inputs. m has trees.
func (m *CompareModel) stageOne(f *pairFeats, xs []float32) ([numCmpClasses]float32, []float32) {
	pr := softmax(m.lrScores(f))
	start := len(xs)
	xs = append(xs, f.dense[:m.nDense]...)
	for _, v := range pr {
		xs = append(xs, float32(v))
	}
	var s [numCmpClasses]float32
	m.gbt.score(xs[start:], m.gbt.rounds(), s[:])
	var out [numCmpClasses]float32
	for c, v := range softmax(s) {
		out[c] = float32(v)
	}
	return out, xs
}

// contextProbs returns the context stage's class probabilities of
// candidate i, weighed for the decision and normalised again.
func (m *CompareModel) contextProbs(pr [][numCmpClasses]float32, xs [][]float32, i int, buf []float32) [numCmpClasses]float64 {
	return m.ctx.weighedProbs(ctxRow(pr, xs, i, m.ctxRel, buf[:0]), &m.ccw)
}

// HasContext reports whether the model has a query-context stage (used by
// [Parser.CompareCandidates]).
func (m *CompareModel) HasContext() bool { return m.ctx != nil }

// CompareCandidates compares the query address a with each of its
// candidates bs and returns one Result per candidate, in order. With a
// compare model that has a query-context stage (the embedded one has), the
// label of each candidate also weighs how it stands among the others (its
// rank and margin in the first stage's probabilities): the result for a
// candidate depends on which other candidates are passed with it. Without
// one, or with a single candidate, each result is [Parser.Compare]'s. The
// vetoes of Compare hold here too: a road or road-number conflict, numbers
// alone, a finer component on one side, two different places named or
// markup on one side are never match, and an administrative conflict stays
// none. Safe for concurrent
// use.
func (p *Parser) CompareCandidates(a string, bs []string) []Result {
	out := make([]Result, len(bs))
	m := p.cmp.model()
	if m == nil || m.ctx == nil || m.gbt == nil || len(bs) < 2 {
		for i, b := range bs {
			out[i] = p.Compare(a, b)
		}
		return out
	}
	type cand struct {
		ea, eb   entity
		rl       MatchLabel
		rlvl     Level
		why      string
		markupAB bool
	}
	cs := make([]cand, len(bs))
	pr := make([][numCmpClasses]float32, len(bs))
	xs := make([][]float32, len(bs))
	w := m.nDense + numCmpClasses
	flat := make([]float32, 0, w*len(bs))
	f := p.cmp.feats.Get().(*pairFeats)
	for i, b := range bs {
		c := &cs[i]
		c.ea, c.eb, _, _, c.rl, c.rlvl, c.why = p.comparePair(a, b, f)
		pr[i], flat = m.stageOne(f, flat)
		xs[i] = flat[len(flat)-w:]
		if markupOneSide(a, b) {
			c.why = "markup"
		}
	}
	p.cmp.feats.Put(f)
	buf := make([]float32, 0, ctxWidth(m.nDense))
	for i := range cs {
		c := &cs[i]
		out[i] = modelResult(&c.ea, &c.eb, c.rl, c.rlvl, c.why, m.contextProbs(pr, xs, i, buf))
	}
	return out
}

// sameCtx reports whether two models' context stages are equal (tests).
func sameCtx(a, b *CompareModel) bool {
	if (a.ctx == nil) != (b.ctx == nil) {
		return false
	}
	if a.ctx == nil {
		return true
	}
	return a.ccw == b.ccw && slices.Equal(a.ctx.roots, b.ctx.roots) && slices.Equal(a.ctx.nodes, b.ctx.nodes) &&
		slices.Equal(a.ctx.base, b.ctx.base)
}
