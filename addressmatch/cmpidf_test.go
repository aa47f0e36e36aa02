package addressmatch

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIDFWeights: a bigram in every document weighs less than one in two,
// a bigram never seen weighs as one seen once, and the weights are the
// inverse document frequencies to the quantum.
func TestIDFWeights(t *testing.T) {
	docs := []string{"金开大道68号", "金开大道70号", "人和大道132号", "龙湖花园大道", "鳌湖新村"}
	tab := buildIDF(docs)
	n := float64(len(docs))
	idf := func(df int) float64 { return math.Log((n + 1) / (float64(df) + 0.5)) }
	tests := []struct {
		key uint64
		df  int
	}{
		{bigramKey('大', '道'), 4},
		{bigramKey('金', '开'), 2},
		{runeKey('号'), 3},
		{bigramKey('鳌', '湖'), 1}, // below idfMinDF: the default, the weight of df 1
		{bigramKey('不', '在'), 1}, // never seen: the default too
	}
	for _, tc := range tests {
		got := float64(tab.weight(tc.key))
		if want := idf(tc.df); math.Abs(got-want) > 0.5/idfScale+1e-6 {
			t.Errorf("key %x: weight %.4f, want %.4f (df %d)", tc.key, got, want, tc.df)
		}
	}
	if tab.weight(bigramKey('大', '道')) >= tab.weight(bigramKey('金', '开')) {
		t.Error("a bigram of four documents weighs no less than one of two")
	}
}

// TestIDFOverlap holds the weighted overlap measures against a direct
// computation over maps, on random bigram sets.
func TestIDFOverlap(t *testing.T) {
	docs := []string{"金开大道68号", "金开大道70号", "人和大道132号", "龙湖花园大道", "鳌湖新村", "新村路", "花园路"}
	tab := buildIDF(docs)
	alphabet := []rune("金开大道人和龙湖花园鳌新村路号")
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		rs := make([]rune, 1+rng.IntN(8))
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return rs
	}
	for range 500 {
		ra, rb := word(), word()
		ga, gb := bigramSet(ra), bigramSet(rb)
		s := tab.overlap(ga, gb)
		inA, inB := map[uint64]bool{}, map[uint64]bool{}
		for _, k := range ga {
			inA[k] = true
		}
		for _, k := range gb {
			inB[k] = true
		}
		var wa, wb, wc, wu, maxUA, maxUB float64
		for k := range inA {
			w := float64(tab.weight(k))
			wa += w
			if inB[k] {
				wc += w
			} else {
				maxUA = max(maxUA, w)
			}
		}
		for k := range inB {
			w := float64(tab.weight(k))
			wb += w
			if !inA[k] {
				maxUB = max(maxUB, w)
			}
		}
		wu = wa + wb - wc
		near := func(name string, got float32, want float64) {
			if math.Abs(float64(got)-want) > 1e-4 {
				t.Fatalf("%q / %q: %s %.5f, want %.5f", string(ra), string(rb), name, got, want)
			}
		}
		near("jacc", s.jacc, wc/wu)
		near("covA", s.covA, wc/wa)
		near("covB", s.covB, wc/wb)
		near("uncA", s.uncA, wa-wc)
		near("uncB", s.uncB, wb-wc)
		near("maxUncA", s.maxUncA, maxUA)
		near("maxUncB", s.maxUncB, maxUB)
		near("sumCommon", s.sumCommon, wc)
		if string(ra) == string(rb) {
			near("jacc of equal texts", s.jacc, 1)
		}
	}
}

// TestDecideClass: the rules' constraints on the model's decision, for
// every ordering of the class probabilities: a vetoed pair is never match,
// an administrative conflict is none, all components equal is match unless
// vetoed; unconstrained, the most probable class.
func TestDecideClass(t *testing.T) {
	probs := [][numCmpClasses]float32{{0.7, 0.2, 0.1}, {0.5, 0.1, 0.4}, {0.1, 0.7, 0.2}, {0.2, 0.1, 0.7}, {0.4, 0.3, 0.3}}
	for _, q := range probs {
		top := 0
		for c := range q {
			if q[c] > q[top] {
				top = c
			}
		}
		for f := uint8(0); f < 8; f++ {
			got := decideClass(q, f)
			want := top
			switch {
			case f&forceNone != 0:
				want = 2
			case f&vetoMatch != 0 && (top == 0 || f&forceMatch != 0):
				want = 1
				if q[2] > q[1] {
					want = 2
				}
			case f&forceMatch != 0:
				want = 0
			}
			if got != want {
				t.Errorf("probabilities %v, flags %03b: class %d, want %d", q, f, got, want)
			}
			if f&vetoMatch != 0 && got == 0 {
				t.Errorf("probabilities %v, flags %03b: a vetoed pair decided match", q, f)
			}
		}
	}
}

// TestCompareModelLegacyWidth: a model whose trees read the dense features
// of the files before v4 (no idf features) writes the v3 frame, reads
// back with that width, and labels pairs as before the round trip.
func TestCompareModelLegacyWidth(t *testing.T) {
	p, err := NewParser(Options{NoModel: true})
	if err != nil {
		t.Fatal(err)
	}
	ex := []CompareExample{
		{"重庆市渝北区金开大道68号", "渝北区金开大道68号", Match},
		{"重庆市渝北区金开大道68号", "金开大道70号", Partial},
		{"重庆市渝北区金开大道68号", "人和大道132号", None},
	}
	m, err := p.TrainCompareModel(ex, CompareTrainOptions{Seed: 1, MinCount: 1, Epochs: 2, Trees: -1, NoIDF: true})
	if err != nil {
		t.Fatal(err)
	}
	// trees over the legacy width, grown on rows of the pairs' features
	var x [][]float32
	var y []int
	for range 50 {
		for k, e := range ex {
			var f pairFeats
			f.tagMode = tagsOff
			p.comparePair(e.A, e.B, &f)
			row := append([]float32(nil), f.dense[:legacyDense]...)
			x = append(x, append(row, 0.2, 0.3, 0.5))
			y = append(y, k)
		}
	}
	g, err := gbtTrain(binData(x, legacyDense+numCmpClasses), y, nil, numCmpClasses,
		gbtParams{rounds: 5, depth: 2, shrinkage: 0.3, minLeaf: 1, lambda: 1, subsample: 1, colsample: 1, seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.gbt, m.cw, m.nDense = g, [numCmpClasses]float32{1, 1, 1}, legacyDense
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, len(compareModelMagic))
	if _, err := io.ReadFull(zr, head); err != nil || string(head) != compareModelMagic {
		t.Fatalf("frame %q, want the v2 frame %q", head, compareModelMagic)
	}
	m2, err := ReadCompareModel(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if m2.nDense != legacyDense || m2.idf != nil {
		t.Fatalf("read back: %d dense features, idf %v; want %d, none", m2.nDense, m2.idf != nil, legacyDense)
	}
	mp, err := NewParser(Options{CompareModel: m})
	if err != nil {
		t.Fatal(err)
	}
	mp2, err := NewParser(Options{CompareModel: m2})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		if r, r2 := mp.Compare(e.A, e.B), mp2.Compare(e.A, e.B); r.Label != r2.Label || r.Score != r2.Score {
			t.Errorf("%q / %q: %+v, read back %+v", e.A, e.B, r, r2)
		}
	}
}

// TestPlaceConflict: two different places at one address veto match; a
// typo, an alias sharing its distinctive part, or a short misread word do
// not.
func TestPlaceConflict(t *testing.T) {
	p, err := NewParser(Options{NoModel: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"金开大道68号星光公寓5楼", "金开大道68号阳光大厦5楼", true},
		{"人和大道132号心悦来宾馆", "人和大道132号心悦快捷酒店", false},
		{"人和大道132号群芳花圆", "人和大道132号群芳花园", false},
		{"金开大道68号星光公寓", "金开大道68号", false},
		{"金开大道68号星光公寓5楼", "金开大道68号星光公寓3楼", false},
	}
	for _, tc := range tests {
		ea, eb := p.entityOf(tc.a), p.entityOf(tc.b)
		if got := placeConflict(&ea, &eb); got != tc.want {
			t.Errorf("placeConflict(%q, %q) = %v, want %v (poi %q / %q)", tc.a, tc.b, got, tc.want, ea.f.poi, eb.f.poi)
		}
		if got := placeConflict(&eb, &ea); got != tc.want {
			t.Errorf("placeConflict(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}
