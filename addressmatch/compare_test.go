package addressmatch

import (
	"bytes"
	"errors"
	"testing"
)

// TestCompare checks the rules' comparison (the learned compare model off).
func TestCompare(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoCompareModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		a, b  string
		label MatchLabel
		level Level
	}{
		{"identical", "重庆市渝北区金开大道68号", "重庆市渝北区金开大道68号", Match, LevelExact},
		{"variant", "渝北区金开大道六十八号", "重庆市渝北区金开大道68号", Match, LevelExact},
		{"units", "港城东路9号3幢2单元5-1", "港城东路9号3号楼2单元5-1", Match, LevelExact},
		{"same building", "港城东路9号3栋2单元5-1", "港城东路9号3栋1单元2-1", Match, LevelSameBuilding},
		{"same poi", "福红路48号阳光华庭F栋", "福红路48号阳光华庭", Partial, LevelSamePOI},
		{"same road", "金开大道68号", "金开大道1200号", Partial, LevelSameRoad},
		{"different district", "江北区港城东路9号", "渝北区港城东路9号", None, LevelDifferent},
		{"different", "金开大道68号", "解放碑步行街1号", None, LevelDifferent},
		{"floor ignored", "文澜镇朝阳路金鹏世纪广场三楼", "金鹏世纪广场", Match, LevelSameBuilding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Compare(tc.a, tc.b)
			if r.Label != tc.label || r.Level != tc.level {
				t.Errorf("Compare(%q,%q) = %s/%s (%.2f, %+v), want %s/%s", tc.a, tc.b, r.Label, r.Level, r.Score, r.Diff, tc.label, tc.level)
			}
			if r.Score < 0 || r.Score > 1 {
				t.Errorf("score out of range: %v", r.Score)
			}
		})
	}
	if r := Compare("金开大道68号", "金开大道68号"); r.Label != Match {
		t.Errorf("package Compare: %+v", r)
	}
}

// TestCompareModel checks the learned compare model of the default parser:
// it is embedded and decodes, it keeps the obvious cases, and a road or
// road-number conflict still vetoes match, an administrative conflict is
// none.
func TestCompareModel(t *testing.T) {
	p := testParser(t)
	on, err := p.CompareModelStatus()
	if err != nil {
		t.Fatal(err)
	}
	if !on {
		t.Skip("no compare model embedded")
	}
	tests := []struct {
		name  string
		a, b  string
		label MatchLabel // "" : anything but match
	}{
		{"identical", "重庆市渝北区金开大道68号", "重庆市渝北区金开大道68号", Match},
		{"variant", "渝北区金开大道六十八号", "重庆市渝北区金开大道68号", Match},
		{"units", "港城东路9号3幢2单元5-1", "港城东路9号3号楼2单元5-1", Match},
		{"different district", "江北区港城东路9号", "渝北区港城东路9号", None},
		{"different", "金开大道68号", "解放碑步行街1号", None},
		{"road number conflict", "金开大道68号", "金开大道1200号", ""},
		{"road number conflict with tail", "重庆市渝北区石船一路1号附3号", "重庆市渝北区石船一路2号附3号", ""},
		{"invented road with tail", "重庆市渝北区不存在路1号附3号", "重庆市渝北区石船一路1号附3号", ""},
		{"other road same floor-room", "重庆市渝北区芷兰路16号3-1", "重庆市渝北区龙睛路56号3-1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Compare(tc.a, tc.b)
			bad := r.Label != tc.label
			if tc.label == "" {
				bad = r.Label == Match
			}
			if bad {
				t.Errorf("Compare(%q,%q) = %s/%s (%.2f), want %q", tc.a, tc.b, r.Label, r.Level, r.Score, tc.label)
			}
			lo, hi := 0.0, 0.35
			switch r.Label {
			case Match:
				lo, hi = 0.7, 1.0001
			case Partial:
				lo, hi = 0.35, 0.7
			}
			if r.Score < lo || r.Score >= hi {
				t.Errorf("score %.3f outside the band of %s", r.Score, r.Label)
			}
		})
	}
}

// TestCompareModelRoundTrip checks that a trained model writes and reads
// back to the same bytes and the same labels.
func TestCompareModelRoundTrip(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	ex := []CompareExample{
		{"金开大道68号", "金开大道68号", Match},
		{"金开大道68号", "金开大道70号", Partial},
		{"金开大道68号", "解放碑步行街1号", None},
	}
	m, err := p.TrainCompareModel(ex, CompareTrainOptions{Seed: 1, MinCount: 1, Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	if _, err := m.WriteTo(&b1); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadCompareModel(bytes.NewReader(b1.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.WriteTo(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) || m2.Features() != m.Features() {
		t.Fatalf("round trip differs: %d/%d bytes, %d/%d features", b1.Len(), b2.Len(), m.Features(), m2.Features())
	}
	if _, err := ReadCompareModel(bytes.NewReader([]byte("junk"))); !errors.Is(err, ErrBadModel) {
		t.Fatalf("junk model: err = %v", err)
	}
	if _, err := p.TrainCompareModel(nil, CompareTrainOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("no examples: err = %v", err)
	}
}
