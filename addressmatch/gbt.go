package addressmatch

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// A small gradient-boosted decision-tree learner for the compare model:
// multiclass (softmax) boosting with one regression tree per class and
// round, grown level by level over histograms of binned features (at most
// 255 bins per feature), second-order leaf values with an L2 penalty, row
// and feature subsampling from a seeded generator. Training runs on one
// goroutine and sums in a fixed order, so the same data and seed give the
// same trees, bit for bit.

// gbtNode is one node of a tree: an inner node sends x to its left child
// when x[feat] <= v, else to its right child, which follows the left one in
// gbtModel.nodes; a leaf (feat < 0) holds its value in v.
type gbtNode struct {
	v    float32
	left int32 // index of the left child in gbtModel.nodes
	feat int16
}

// gbtModel is a trained ensemble: trees[r*nc+c] is the root of the tree of
// round r for class c.
type gbtModel struct {
	nfeat int
	nc    int
	base  []float32 // initial score of each class
	roots []int32
	nodes []gbtNode
}

// rounds returns the number of boosting rounds.
func (g *gbtModel) rounds() int { return len(g.roots) / g.nc }

// leaf returns the value of the leaf that x reaches in the tree at root.
func (g *gbtModel) leaf(root int32, x []float32) float32 {
	n := &g.nodes[root]
	for n.feat >= 0 {
		if x[n.feat] <= n.v {
			n = &g.nodes[n.left]
		} else {
			n = &g.nodes[n.left+1]
		}
	}
	return n.v
}

// score adds the ensemble's class scores for x (len nfeat) to s (len nc),
// using the first r rounds.
func (g *gbtModel) score(x []float32, r int, s []float32) {
	copy(s, g.base)
	nodes := g.nodes
	for k, root := range g.roots[:r*g.nc] {
		n := nodes[root]
		for n.feat >= 0 {
			// branch-free: the right child follows the left one (NaN goes right, as in leaf)
			n = nodes[n.left+b2i32(!(x[n.feat] <= n.v))]
		}
		s[k%g.nc] += n.v
	}
}

// b2i32 is 1 for true, 0 for false (compiled to a flag set, no branch).
func b2i32(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

// gbtParams configures gbtTrain.
type gbtParams struct {
	rounds    int     // boosting rounds
	depth     int     // maximum depth of a tree
	shrinkage float64 // learning rate
	minLeaf   float64 // minimum hessian sum of a leaf
	lambda    float64 // L2 penalty of the leaf values
	subsample float64 // share of rows drawn (without replacement) per round
	colsample float64 // share of features drawn per round
	seed      uint64
	// checkpoint, when not nil, is called after every round with the
	// model so far and the number of rounds done (for inner-fold round
	// selection).
	checkpoint func(m *gbtModel, r int)
}

// gbtData is a training set in binned, column-major form.
type gbtData struct {
	n, nfeat int
	bins     [][]uint8   // bins[f][i]: bin of row i on feature f
	ubs      [][]float32 // ubs[f][b]: the largest value of bin b of feature f
}

// maxBins is the largest number of bins of a feature.
const maxBins = 255

// binData bins the rows x (each of nfeat values). A feature with at most
// maxBins distinct values gets a bin per value; others get quantile bins.
func binData(x [][]float32, nfeat int) *gbtData {
	d := &gbtData{n: len(x), nfeat: nfeat, bins: make([][]uint8, nfeat), ubs: make([][]float32, nfeat)}
	col := make([]float32, len(x))
	for f := 0; f < nfeat; f++ {
		for i, row := range x {
			col[i] = row[f]
		}
		sorted := slices.Clone(col)
		slices.Sort(sorted)
		distinct := slices.Compact(slices.Clone(sorted))
		var ubs []float32
		if len(distinct) <= maxBins {
			ubs = distinct
		} else {
			for b := 1; b <= maxBins; b++ {
				v := sorted[min(len(sorted)-1, b*len(sorted)/maxBins-1)]
				if len(ubs) == 0 || v > ubs[len(ubs)-1] {
					ubs = append(ubs, v)
				}
			}
			if ubs[len(ubs)-1] < sorted[len(sorted)-1] {
				ubs[len(ubs)-1] = sorted[len(sorted)-1]
			}
		}
		d.ubs[f] = ubs
		bf := make([]uint8, len(x))
		for i, v := range col {
			b, _ := slices.BinarySearch(ubs, v)
			bf[i] = uint8(min(b, len(ubs)-1))
		}
		d.bins[f] = bf
	}
	return d
}

// gbtTrain fits a softmax ensemble to the rows of d with gold classes y
// (0..nc-1) and per-row weights w (nil: 1).
func gbtTrain(d *gbtData, y []int, w []float32, nc int, o gbtParams) (*gbtModel, error) {
	if d.n == 0 || len(y) != d.n || nc < 2 {
		return nil, errors.New("gbt: empty or inconsistent training set")
	}
	if o.depth < 1 || o.depth > 12 || o.rounds < 1 || o.shrinkage <= 0 {
		return nil, fmt.Errorf("gbt: bad parameters %+v", o)
	}
	n := d.n
	if w == nil {
		w = make([]float32, n)
		for i := range w {
			w[i] = 1
		}
	}
	m := &gbtModel{nfeat: d.nfeat, nc: nc, base: make([]float32, nc)}
	// the base scores: log class priors
	prior := make([]float64, nc)
	tot := 0.0
	for i, c := range y {
		prior[c] += float64(w[i])
		tot += float64(w[i])
	}
	for c := range prior {
		m.base[c] = float32(math.Log(max(prior[c]/tot, 1e-6)))
	}
	F := make([]float32, n*nc)
	for i := 0; i < n; i++ {
		copy(F[i*nc:(i+1)*nc], m.base)
	}
	g := make([]float32, n)
	h := make([]float32, n)
	prob := make([]float32, n*nc)
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x6b7))
	rows := make([]int32, n)
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	feats := make([]int, d.nfeat)
	for f := range feats {
		feats[f] = f
	}
	b := &treeBuilder{d: d, o: &o, g: g, h: h}
	for r := 0; r < o.rounds; r++ {
		for i := 0; i < n; i++ {
			s := F[i*nc : (i+1)*nc]
			mx := s[0]
			for _, v := range s[1:] {
				mx = max(mx, v)
			}
			sum := float32(0)
			for c, v := range s {
				e := float32(math.Exp(float64(v - mx)))
				prob[i*nc+c] = e
				sum += e
			}
			for c := 0; c < nc; c++ {
				prob[i*nc+c] /= sum
			}
		}
		// the rows and features of this round
		rows = rows[:0]
		if o.subsample > 0 && o.subsample < 1 {
			for i := 0; i < n; i++ {
				if rng.Float64() < o.subsample {
					rows = append(rows, int32(i))
				}
			}
		} else {
			rows = append(rows, all...)
		}
		rng.Shuffle(len(feats), func(i, j int) { feats[i], feats[j] = feats[j], feats[i] })
		nf := d.nfeat
		if o.colsample > 0 && o.colsample < 1 {
			nf = max(1, int(math.Round(o.colsample*float64(d.nfeat))))
		}
		use := slices.Clone(feats[:nf])
		slices.Sort(use)
		for c := 0; c < nc; c++ {
			for i := 0; i < n; i++ {
				p := prob[i*nc+c]
				t := float32(0)
				if y[i] == c {
					t = 1
				}
				g[i] = w[i] * (p - t)
				h[i] = w[i] * max(p*(1-p), 1e-6)
			}
			root := b.build(m, rows, use)
			m.roots = append(m.roots, root)
			// update the scores of every row (the unsampled ones too)
			for i := 0; i < n; i++ {
				F[i*nc+c] += m.leafBinned(d, root, i)
			}
		}
		if o.checkpoint != nil {
			o.checkpoint(m, r+1)
		}
	}
	return m, nil
}

// leafBinned returns the leaf value that training row i reaches in the tree
// at root (split thresholds compared on bins: binning is monotone, so this
// is the same leaf as the float comparison).
func (m *gbtModel) leafBinned(d *gbtData, root int32, i int) float32 {
	n := &m.nodes[root]
	for n.feat >= 0 {
		if d.ubs[n.feat][d.bins[n.feat][i]] <= n.v {
			n = &m.nodes[n.left]
		} else {
			n = &m.nodes[n.left+1]
		}
	}
	return n.v
}

// treeBuilder grows one tree; its buffers are reused across trees.
type treeBuilder struct {
	d    *gbtData
	o    *gbtParams
	g, h []float32
	free []*hist // histograms to reuse
}

// newHist returns a cleared histogram for nf used features.
func (b *treeBuilder) newHist(nf int) *hist {
	if k := len(b.free); k > 0 {
		hs := b.free[k-1]
		b.free = b.free[:k-1]
		if len(hs.g) == nf*maxBins {
			clear(hs.g)
			clear(hs.h)
			return hs
		}
	}
	return &hist{g: make([]float64, nf*maxBins), h: make([]float64, nf*maxBins)}
}

// release returns a histogram for reuse.
func (b *treeBuilder) release(hs *hist) {
	if hs != nil {
		b.free = append(b.free, hs)
	}
}

// hist is a histogram of gradient and hessian sums per bin of every used
// feature.
type hist struct {
	g, h []float64 // [k*maxBins + bin] for the k-th used feature
}

// fill accumulates the rows into a cleared histogram.
func (b *treeBuilder) fill(hs *hist, rows []int32, use []int) {
	for k, f := range use {
		bf := b.d.bins[f]
		hg := hs.g[k*maxBins : (k+1)*maxBins]
		hh := hs.h[k*maxBins : (k+1)*maxBins]
		for _, i := range rows {
			bin := bf[i]
			hg[bin] += float64(b.g[i])
			hh[bin] += float64(b.h[i])
		}
	}
}

// split is the best split of a node.
type split struct {
	gain float64
	k    int // index in use
	bin  int // rows with bin <= bin go left
}

// best finds the best split of a node with histogram hs and sums G, H.
func (b *treeBuilder) best(hs *hist, use []int, G, H float64) split {
	lam := b.o.lambda
	parent := G * G / (H + lam)
	bs := split{gain: 0, k: -1}
	for k, f := range use {
		nb := len(b.d.ubs[f])
		hg := hs.g[k*maxBins : k*maxBins+nb]
		hh := hs.h[k*maxBins : k*maxBins+nb]
		gl, hl := 0.0, 0.0
		for bin := 0; bin < nb-1; bin++ {
			gl += hg[bin]
			hl += hh[bin]
			hr := H - hl
			if hl < b.o.minLeaf || hr < b.o.minLeaf {
				continue
			}
			gr := G - gl
			gain := gl*gl/(hl+lam) + gr*gr/(hr+lam) - parent
			if gain > bs.gain+1e-9 {
				bs = split{gain: gain, k: k, bin: bin}
			}
		}
	}
	return bs
}

// build grows a tree over rows with the features use and returns its root.
func (b *treeBuilder) build(m *gbtModel, rows []int32, use []int) int32 {
	type task struct {
		node  int32
		rows  []int32
		hs    *hist
		G, H  float64
		depth int
	}
	G, H := 0.0, 0.0
	for _, i := range rows {
		G += float64(b.g[i])
		H += float64(b.h[i])
	}
	root := int32(len(m.nodes))
	m.nodes = append(m.nodes, gbtNode{feat: -1})
	rs := slices.Clone(rows)
	hs := b.newHist(len(use))
	b.fill(hs, rs, use)
	queue := []task{{node: root, rows: rs, hs: hs, G: G, H: H}}
	leaf := func(t task) {
		m.nodes[t.node] = gbtNode{feat: -1, v: float32(-b.o.shrinkage * t.G / (t.H + b.o.lambda))}
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if t.depth >= b.o.depth || t.H < 2*b.o.minLeaf {
			leaf(t)
			b.release(t.hs)
			continue
		}
		sp := b.best(t.hs, use, t.G, t.H)
		if sp.k < 0 {
			leaf(t)
			b.release(t.hs)
			continue
		}
		f := use[sp.k]
		bf := b.d.bins[f]
		// partition the rows, keeping their order
		var left, right []int32
		for _, i := range t.rows {
			if int(bf[i]) <= sp.bin {
				left = append(left, i)
			} else {
				right = append(right, i)
			}
		}
		gl, hl := 0.0, 0.0
		for bin := 0; bin <= sp.bin; bin++ {
			gl += t.hs.g[sp.k*maxBins+bin]
			hl += t.hs.h[sp.k*maxBins+bin]
		}
		li := int32(len(m.nodes))
		m.nodes = append(m.nodes, gbtNode{feat: -1}, gbtNode{feat: -1})
		m.nodes[t.node] = gbtNode{feat: int16(f), left: li, v: b.d.ubs[f][sp.bin]}
		// the histogram of the smaller child, the other by subtraction;
		// children at the maximum depth need none
		var hsL, hsR *hist
		if t.depth+1 < b.o.depth {
			small := left
			if len(right) < len(left) {
				small = right
			}
			hsSmall := b.newHist(len(use))
			b.fill(hsSmall, small, use)
			for j := range t.hs.g {
				t.hs.g[j] -= hsSmall.g[j]
				t.hs.h[j] -= hsSmall.h[j]
			}
			hsL, hsR = hsSmall, t.hs
			if len(right) < len(left) {
				hsL, hsR = t.hs, hsSmall
			}
		} else {
			b.release(t.hs)
		}
		queue = append(queue,
			task{node: li, rows: left, hs: hsL, G: gl, H: hl, depth: t.depth + 1},
			task{node: li + 1, rows: right, hs: hsR, G: t.G - gl, H: t.H - hl, depth: t.depth + 1})
	}
	return root
}
