package geo

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"
)

func TestIndustryLabel(t *testing.T) {
	for _, tc := range []struct{ code, want string }{
		{"F5292", "互联网零售"},    // a class of the table
		{"F5299", "零售业"},      // a class outside the selection: its division
		{"I65", "软件和信息技术服务业"}, // a division
		{"R", "文化、体育和娱乐业"},    // a section
		{"", ""},
		{"Z9999", ""},
	} {
		if got := IndustryLabel(tc.code); got != tc.want {
			t.Errorf("IndustryLabel(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

// TestEntityFeatureIndustryName: the feature carries industry_name beside
// industry, and reading the feature back does not keep it as an attribute
// (it is derived, not stored).
func TestEntityFeatureIndustryName(t *testing.T) {
	e := Entity{ID: "91500112MA5U5YQX04", Name: "重庆两江网络科技有限公司", Industry: "F5292", Location: orb.Point{106.5, 29.6}, Risk: RiskB, Status: StatusActive}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	f := EntityFeature(&e)
	if f.Properties["industry_name"] != "互联网零售" {
		t.Fatalf("industry_name = %v", f.Properties["industry_name"])
	}
	fc := (&Features{Entities: []Entity{e}}).FeatureCollection()
	b, err := fc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadGeoJSON(bytes.NewReader(b), "test", LayerEntities, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entities) != 1 || got.Entities[0].Attrs["industry_name"] != "" {
		t.Fatalf("read back: %+v", got.Entities)
	}
}
