package addressmatch

import (
	"fmt"
	"math"
	"slices"
)

// TrainParseEnsemble trains n parse models on the same examples with the
// seeds o.Seed, o.Seed+1, … (each orders the examples differently) and
// merges them into one model by summing their averaged weights (and
// dropping the sums under n×o.Prune, as one model drops its weights under
// o.Prune): the same decoding cost as one model, the vote of n. n = 1 is
// TrainParseModel.
// Training is deterministic for a given seed.
func (p *Parser) TrainParseEnsemble(examples []ParseExample, o TrainOptions, n int) (*ParseModel, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: ensemble of %d models", ErrInvalidOptions, n)
	}
	if n == 1 {
		return p.TrainParseModel(examples, o)
	}
	sum := map[uint64]*[numTags]float32{}
	out := &ParseModel{}
	for k := 0; k < n; k++ {
		so := o
		so.Seed = o.Seed + uint64(k)
		m, err := p.TrainParseModel(examples, so)
		if err != nil {
			return nil, fmt.Errorf("ensemble model %d: %w", k, err)
		}
		for h, v := range m.index {
			w := sum[h]
			if w == nil {
				w = new([numTags]float32)
				sum[h] = w
			}
			for _, e := range m.ents[v>>8 : v>>8+v&0xff] {
				w[e.tag] += e.w
			}
		}
		for a := range m.trans {
			for b := range m.trans[a] {
				out.trans[a][b] += m.trans[a][b]
			}
		}
	}
	// the merged weights are pruned as one model's are: an average weight
	// under o.Prune is dropped
	prune := o.Prune
	if prune == 0 {
		prune = 1e-3
	}
	cut := prune * float64(n)
	keys := make([]uint64, 0, len(sum))
	for h := range sum {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	out.index = make(map[uint64]uint64, len(keys))
	for _, h := range keys {
		first := len(out.ents)
		for t, w := range sum[h] {
			if math.Abs(float64(w)) >= cut {
				out.ents = append(out.ents, wentry{w: w, tag: uint8(t)})
			}
		}
		if cnt := len(out.ents) - first; cnt > 0 {
			out.index[h] = uint64(first)<<8 | uint64(cnt)
		}
	}
	out.pw = prevWeights(&out.trans)
	out.buildTable()
	return out, nil
}
