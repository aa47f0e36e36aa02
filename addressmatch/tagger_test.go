package addressmatch

import (
	"bytes"
	"errors"
	"testing"
)

// TestEmbeddedModelRoundTrip: the embedded model decodes, and writing it
// back gives the embedded bytes (the format is deterministic).
func TestEmbeddedModelRoundTrip(t *testing.T) {
	raw, err := modelFS.ReadFile(parseModelFile)
	if err != nil {
		t.Skipf("no embedded parse model: %v", err)
	}
	m, err := ReadParseModel(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), raw) {
		t.Errorf("re-encoded model differs from the embedded file (%d vs %d bytes)", buf.Len(), len(raw))
	}
	if _, err := ReadParseModel(bytes.NewReader(raw[:len(raw)/2])); !errors.Is(err, ErrBadModel) {
		t.Errorf("truncated model: err = %v, want ErrBadModel", err)
	}
}

// TestNoModel: with NoModel the parser reports no model and still parses.
func TestNoModel(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	if on, err := p.ModelStatus(); on || err != nil {
		t.Fatalf("ModelStatus = %v, %v; want false, nil", on, err)
	}
	c := p.Parse("重庆市渝北区金开大道68号")
	if c.Get(LabelRoad) != "金开大道" || c.Get(LabelRoadNo) != "68号" {
		t.Errorf("rules alone: %s", spanStr(c))
	}
}

// TestTrainDeterministic trains twice on the same lines with the same seed
// and expects the same bytes, and checks that a trained model reproduces
// its own training labels on most spans.
func TestTrainDeterministic(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	ex := []ParseExample{
		{Text: "延安路100号西湖银泰8楼报喜鸟专柜", Spans: []Span{{Label: LabelRoad, Start: 0, End: 3}, {Label: LabelRoadNo, Start: 3, End: 7},
			{Label: LabelPOI, Start: 7, End: 11}, {Label: LabelFloorNo, Start: 11, End: 13}, {Label: LabelSubPOI, Start: 13, End: 18}}},
		{Text: "萧山区宁围街道景海湾闻潮阁10幢", Spans: []Span{{Label: LabelDistrict, Start: 0, End: 3}, {Label: LabelTown, Start: 3, End: 7},
			{Label: LabelPOI, Start: 7, End: 10}, {Label: LabelSubPOI, Start: 10, End: 13}, {Label: LabelHouseNo, Start: 13, End: 16}}},
	}
	var out [2][]byte
	for k := range out {
		m, err := p.TrainParseModel(ex, TrainOptions{Seed: 7, Epochs: 3, MinCount: 1})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		out[k] = buf.Bytes()
		if k == 0 {
			mp, err := NewParser(demoOpts(t, Options{ParseModel: m}))
			if err != nil {
				t.Fatal(err)
			}
			if got := spanStr(mp.Parse(ex[1].Text)); got != "district:萧山区 town:宁围街道 poi:景海湾 subpoi:闻潮阁 houseno:10幢" {
				t.Errorf("trained model on its own line: %s", got)
			}
		}
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("two trainings with the same seed gave different models")
	}
	if _, err := p.TrainParseModel(nil, TrainOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("no examples: err = %v", err)
	}
}

// TestTrainPrune: a model trained with Prune keeps exactly the weights of
// the unpruned model (same seed) whose magnitude is at least Prune, and
// negative options are refused.
func TestTrainPrune(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	ex := []ParseExample{
		{Text: "延安路100号西湖银泰8楼报喜鸟专柜", Spans: []Span{{Label: LabelRoad, Start: 0, End: 3}, {Label: LabelRoadNo, Start: 3, End: 7},
			{Label: LabelPOI, Start: 7, End: 11}, {Label: LabelFloorNo, Start: 11, End: 13}, {Label: LabelSubPOI, Start: 13, End: 18}}},
		{Text: "萧山区宁围街道景海湾闻潮阁10幢", Spans: []Span{{Label: LabelDistrict, Start: 0, End: 3}, {Label: LabelTown, Start: 3, End: 7},
			{Label: LabelPOI, Start: 7, End: 10}, {Label: LabelSubPOI, Start: 10, End: 13}, {Label: LabelHouseNo, Start: 13, End: 16}}},
	}
	full, err := p.TrainParseModel(ex, TrainOptions{Seed: 3, Epochs: 4, MinCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	const cut = 0.5
	pruned, err := p.TrainParseModel(ex, TrainOptions{Seed: 3, Epochs: 4, MinCount: 1, Prune: cut})
	if err != nil {
		t.Fatal(err)
	}
	weights := func(m *ParseModel, min float32) map[[2]uint64]float32 {
		out := map[[2]uint64]float32{}
		for h, v := range m.index {
			for _, e := range m.ents[v>>8 : v>>8+v&0xff] {
				if e.w >= min || -e.w >= min {
					out[[2]uint64{h, uint64(e.tag)}] = e.w
				}
			}
		}
		return out
	}
	want, got := weights(full, cut), weights(pruned, 0)
	if len(want) == 0 || len(want) == len(weights(full, 0)) {
		t.Fatalf("cut %v keeps %d of %d weights: not a test of pruning", cut, len(want), len(weights(full, 0)))
	}
	if len(got) != len(want) {
		t.Fatalf("pruned model has %d weights, the full model %d of magnitude >= %v", len(got), len(want), cut)
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("feature %x tag %d: pruned %v, full %v", k[0], k[1], got[k], w)
		}
	}
	if pruned.trans != full.trans {
		t.Error("pruning changed the transitions")
	}
	if _, err := p.TrainParseModel(ex, TrainOptions{Prune: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("negative Prune: err = %v, want ErrInvalidOptions", err)
	}
}
