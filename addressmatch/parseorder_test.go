package addressmatch

import (
	"slices"
	"strings"
	"testing"
)

// TestPlaceOrderAndLaneNumber checks the two structure rules applied after
// the model's decoding on made-up spans, each case's expected labels
// written out from the guideline (a subpoi follows a place; a place right
// after a place is inside it; a number in 号 after a lane is its road
// number).
func TestPlaceOrderAndLaneNumber(t *testing.T) {
	p, err := NewParser(Options{NoModel: true})
	if err != nil {
		t.Fatal(err)
	}
	type sp struct {
		l    Label
		text string
	}
	tests := []struct {
		name string
		in   []sp
		want []Label
	}{
		{"poi right after poi", []sp{{LabelPOI, "人民医院"}, {LabelPOI, "宿舍"}},
			[]Label{LabelPOI, LabelSubPOI}},
		{"three places in a row", []sp{{LabelPOI, "万达广场"}, {LabelPOI, "A座"}, {LabelPOI, "星巴克"}},
			[]Label{LabelPOI, LabelSubPOI, LabelSubPOI}},
		{"poi after a number is its own", []sp{{LabelPOI, "人民医院"}, {LabelHouseNo, "3栋"}, {LabelPOI, "宿舍"}},
			[]Label{LabelPOI, LabelHouseNo, LabelPOI}},
		{"subpoi first is a poi", []sp{{LabelRoad, "人民路"}, {LabelSubPOI, "综合楼"}},
			[]Label{LabelRoad, LabelPOI}},
		{"subpoi after a poi stays", []sp{{LabelPOI, "人民医院"}, {LabelHouseNo, "3栋"}, {LabelSubPOI, "宿舍"}},
			[]Label{LabelPOI, LabelHouseNo, LabelSubPOI}},
		{"lane number", []sp{{LabelRoad, "华中街"}, {LabelRoad, "12弄"}, {LabelHouseNo, "5号"}},
			[]Label{LabelRoad, LabelRoad, LabelRoadNo}},
		{"alley read as houseno", []sp{{LabelRoad, "化工路"}, {LabelHouseNo, "100巷"}, {LabelHouseNo, "5号"}},
			[]Label{LabelRoad, LabelRoad, LabelRoadNo}},
		{"not a lane", []sp{{LabelPOI, "阳光小区"}, {LabelHouseNo, "5号"}},
			[]Label{LabelPOI, LabelHouseNo}},
		{"lane, not adjacent", []sp{{LabelRoad, "12弄"}, {LabelPOI, "旁"}, {LabelHouseNo, "5号"}},
			[]Label{LabelRoad, LabelPOI, LabelHouseNo}},
		{"lane, number not in 号", []sp{{LabelRoad, "12弄"}, {LabelHouseNo, "5幢"}},
			[]Label{LabelRoad, LabelHouseNo}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			var spans []Span
			at := 0
			for _, s := range tc.in {
				n := len([]rune(s.text))
				spans = append(spans, Span{Label: s.l, Text: s.text, Start: at, End: at + n})
				b.WriteString(s.text)
				at += n
			}
			st := p.parseRules(b.String())
			if len(st.f) != at {
				t.Fatalf("folded text has %d runes, spans %d", len(st.f), at)
			}
			placeOrder(spans)
			laneNumber(st, spans)
			var got []Label
			for _, s := range spans {
				got = append(got, s.Label)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("labels %v, want %v", got, tc.want)
			}
		})
	}
}
