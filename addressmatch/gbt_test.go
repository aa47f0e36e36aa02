package addressmatch

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGBTLearnsAndRepeats: the trees learn a simple three-class rule from
// noisy data, and two trainings with the same seed give the same trees.
func TestGBTLearnsAndRepeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n, nfeat = 2000, 5
	x := make([][]float32, n)
	y := make([]int, n)
	for i := range x {
		x[i] = make([]float32, nfeat)
		for f := range x[i] {
			x[i][f] = float32(rng.IntN(20))
		}
		switch {
		case x[i][0] < 5 && x[i][3] > 10:
			y[i] = 0
		case x[i][1] < 10:
			y[i] = 1
		default:
			y[i] = 2
		}
	}
	o := gbtParams{rounds: 30, depth: 4, shrinkage: 0.3, minLeaf: 1, lambda: 1, subsample: 0.8, colsample: 1, seed: 3}
	m1, err := gbtTrain(binData(x, nfeat), y, nil, 3, o)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := gbtTrain(binData(x, nfeat), y, nil, 3, o)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m1.nodes) != fmt.Sprint(m2.nodes) || fmt.Sprint(m1.roots) != fmt.Sprint(m2.roots) {
		t.Fatal("two trainings with the same seed differ")
	}
	right := 0
	s := make([]float32, 3)
	for i := range x {
		m1.score(x[i], m1.rounds(), s)
		best := 0
		for c := range s {
			if s[c] > s[best] {
				best = c
			}
		}
		if best == y[i] {
			right++
		}
	}
	if right < n*97/100 {
		t.Fatalf("training accuracy %d/%d", right, n)
	}
	if _, err := gbtTrain(binData(x, nfeat), y, nil, 3, gbtParams{}); err == nil {
		t.Fatal("zero parameters accepted")
	}
}

// TestEmbeddedCompareModelRoundTrip: the embedded compare model decodes and
// writes back to the embedded bytes.
func TestEmbeddedCompareModelRoundTrip(t *testing.T) {
	raw, err := modelFS.ReadFile(compareModelFile)
	if err != nil {
		t.Skipf("no embedded compare model: %v", err)
	}
	m, err := ReadCompareModel(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), raw) {
		t.Errorf("re-encoded compare model differs from the embedded file (%d vs %d bytes)", buf.Len(), len(raw))
	}
	if _, err := ReadCompareModel(bytes.NewReader(raw[:len(raw)/2])); err == nil {
		t.Error("truncated compare model accepted")
	}
}

// TestCompareModelTrees trains the stacked trees on generated pairs: the
// model has trees, labels its own training pairs mostly right, round-trips
// through its bytes with its labels, and the same seed gives the same bytes.
func TestCompareModelTrees(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	p, err := NewParser(Options{NoModel: true})
	if err != nil {
		t.Fatal(err)
	}
	roads := []string{"金开大道", "港城东路", "龙睛路", "芷兰路", "石船一路", "人和大道", "新牌坊路", "红锦大道", "黄山大道", "星光大道"}
	places := []string{"阳光华庭", "金鹏世纪广场", "龙湖花园", "万科城", "融创御湖"}
	gen := func(from, to int) []CompareExample {
		var ex []CompareExample
		for i, r := range roads {
			for n := from; n <= to; n++ {
				a := fmt.Sprintf("重庆市渝北区%s%d号%s", r, n*3, places[(i+n)%len(places)])
				ex = append(ex,
					CompareExample{a, fmt.Sprintf("渝北区%s%d号%s", r, n*3, places[(i+n)%len(places)]), Match},
					CompareExample{a, fmt.Sprintf("%s%d号", r, n*3+40), Partial},
					CompareExample{a, fmt.Sprintf("%s%d号%s", roads[(i+3)%len(roads)], n, places[(i+n+2)%len(places)]), None})
			}
		}
		return ex
	}
	ex := gen(1, 12)
	o := CompareTrainOptions{Seed: 1, MinCount: 2, Epochs: 3, Trees: 20, Depths: []int{3}}
	m, err := p.TrainCompareModel(ex, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Trees() == 0 {
		t.Fatal("no trees")
	}
	var b1, b2 bytes.Buffer
	if _, err := m.WriteTo(&b1); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadCompareModel(bytes.NewReader(b1.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.TrainCompareModel(ex, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.WriteTo(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("two trainings with the same seed gave different bytes")
	}
	mp, err := NewParser(Options{CompareModel: m})
	if err != nil {
		t.Fatal(err)
	}
	mp2, err := NewParser(Options{CompareModel: m2})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for _, e := range ex {
		r, r2 := mp.Compare(e.A, e.B), mp2.Compare(e.A, e.B)
		if r.Label != r2.Label || r.Score != r2.Score {
			t.Fatalf("read-back model differs on %q / %q: %+v vs %+v", e.A, e.B, r, r2)
		}
		if r.Label == e.Label {
			right++
		}
	}
	if right < len(ex)*9/10 {
		t.Fatalf("%d/%d training pairs right", right, len(ex))
	}
	// the query-context stage: trained by default, read back equal, and
	// CompareCandidates labels each query's candidates (passed together)
	// as the read-back model does, mostly right on queries it was not
	// trained on (it learns from the first stage's held-out probabilities,
	// so its own training pairs, which the first stage knows too well,
	// are not its test)
	if !m.HasContext() || !m2.HasContext() || !sameCtx(m, m2) {
		t.Fatalf("context stage: trained %v, read back %v, equal %v", m.HasContext(), m2.HasContext(), sameCtx(m, m2))
	}
	held := gen(13, 18)
	right = 0
	for k := 0; k < len(held); k += 3 {
		bs := []string{held[k].B, held[k+1].B, held[k+2].B}
		rs, rs2 := mp.CompareCandidates(held[k].A, bs), mp2.CompareCandidates(held[k].A, bs)
		for i, r := range rs {
			if r.Label != rs2[i].Label || r.Score != rs2[i].Score {
				t.Fatalf("read-back model differs on %q / %q: %+v vs %+v", held[k].A, bs[i], r, rs2[i])
			}
			if r.Label == held[k+i].Label {
				right++
			}
		}
	}
	if right < len(held)*9/10 {
		t.Fatalf("CompareCandidates: %d/%d held-out pairs right", right, len(held))
	}
	noCtx := o
	noCtx.NoContext = true
	m3, err := p.TrainCompareModel(ex, noCtx)
	if err != nil {
		t.Fatal(err)
	}
	if m3.HasContext() {
		t.Fatal("NoContext: the model has a context stage")
	}
}

// TestContextRelNames: every first-stage input the context stage compares
// across candidates is one the first stage computes.
func TestContextRelNames(t *testing.T) {
	if len(ctxRelIdx) != len(ctxRelNames) {
		t.Fatalf("%d of the %d context inputs found among the dense features", len(ctxRelIdx), len(ctxRelNames))
	}
	for k, j := range ctxRelIdx {
		if j >= 0 && denseNames[j] != ctxRelNames[k] {
			t.Errorf("input %d: %q, want %q", k, denseNames[j], ctxRelNames[k])
		}
	}
}
