package addressmatch

import "testing"

func TestCompare(t *testing.T) {
	p := testParser(t)
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
