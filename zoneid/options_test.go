package zoneid

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestGridLayerIsGeos: the grid layer has one name, geo.Options.GridLayer;
// zoneid follows it and has no option of its own that could disagree.
func TestGridLayerIsGeos(t *testing.T) {
	if _, ok := reflect.TypeOf(Options{}).FieldByName("GridLayer"); ok {
		t.Fatal("zoneid.Options.GridLayer is back: the grid layer is named in geo.Options only")
	}
	idx, err := geo.New(geo.Options{GridLayer: "wangge"})
	if err != nil {
		t.Fatal(err)
	}
	sq := orb.MultiPolygon{{{{106.5, 29.6}, {106.51, 29.6}, {106.51, 29.61}, {106.5, 29.61}, {106.5, 29.6}}}}
	if err := idx.UpsertZone(geo.Zone{ID: "W1", Layer: "wangge", Name: "第1网格", Geometry: sq}); err != nil {
		t.Fatal(err)
	}
	if err := idx.UpsertZone(geo.Zone{ID: "G1", Layer: "grid", Name: "not a grid here", Geometry: sq}); err != nil {
		t.Fatal(err)
	}
	id := newIdentifier(t, idx, Options{})
	res, err := id.Identify(bg, orb.Point{106.505, 29.605})
	if err != nil {
		t.Fatal(err)
	}
	if res.Grid == nil || res.Grid.ID != "W1" {
		t.Fatalf("grid %+v, want W1 of the index's grid layer", res.Grid)
	}
}

// TestIndustryRuleIsGeos: rules files and CheckSite validate industries
// with geo's one validator (a division of another section is rejected, a
// word is read), not a looser copy of their own.
func TestIndustryRuleIsGeos(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" = rejected
	}{
		{"R9013", "R9013"}, {"r90", "R90"}, {"网吧", "R9013"}, {"餐饮", "H62"},
		{"A9013", ""}, {"R9X", ""}, {"U1", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			rs, err := ParseRules(strings.NewReader(`{"version":1,"rules":[{"id":"a","name":"n","industries":["` + tc.in + `"],"near_kinds":["school"],"min_distance_m":200}]}`))
			got, err2 := normIndustry(tc.in)
			if tc.want == "" {
				if err == nil || !errors.Is(err, ErrInvalidRules) || !errors.Is(err2, geo.ErrInvalidIndustry) {
					t.Fatalf("accepted: rules %v, CheckSite %v", err, err2)
				}
				return
			}
			if err != nil || err2 != nil || rs.Rules[0].Industries[0] != tc.want || got != tc.want {
				t.Fatalf("rules %v %v, CheckSite %q %v; want %s", rs, err, got, err2, tc.want)
			}
		})
	}
}
