package addressmatch

import (
	"bytes"
	"errors"
	"testing"
)

// TestTrainParseEnsemble: a merged ensemble is deterministic, labels its own
// training line, and round-trips through its bytes.
func TestTrainParseEnsemble(t *testing.T) {
	p, err := NewParser(Options{NoModel: true})
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
		m, err := p.TrainParseEnsemble(ex, TrainOptions{Seed: 7, Epochs: 3, MinCount: 1}, 3)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		out[k] = buf.Bytes()
		m2, err := ReadParseModel(bytes.NewReader(out[k]))
		if err != nil {
			t.Fatal(err)
		}
		for _, pm := range []*ParseModel{m, m2} {
			mp, err := NewParser(Options{ParseModel: pm})
			if err != nil {
				t.Fatal(err)
			}
			if got := spanStr(mp.Parse(ex[1].Text)); got != "district:萧山区 town:宁围街道 poi:景海湾 subpoi:闻潮阁 houseno:10幢" {
				t.Errorf("ensemble on its own line: %s", got)
			}
		}
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("two ensembles with the same seed differ")
	}
	if _, err := p.TrainParseEnsemble(ex, TrainOptions{}, 0); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty ensemble: err = %v", err)
	}
}
