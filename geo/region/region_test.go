package region

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	cq := Unit{Code: "50", Name: "重庆市", Level: LevelProvince, Aliases: []string{"重庆", "重庆"}}
	yb := Unit{Code: "500112", Name: "渝北区", Level: LevelDistrict, Parent: "50", Aliases: []string{"渝北", "渝北区"}}
	tests := []struct {
		name  string
		units []Unit
		ok    bool
		why   string // in the error
	}{
		{"parents first", []Unit{cq, yb}, true, ""},
		{"a parent outside the dictionary", []Unit{yb}, true, ""},
		{"no units", nil, false, "no units"},
		{"parent after its child", []Unit{yb, cq}, false, "comes after it"},
		{"duplicate code", []Unit{cq, cq}, false, "duplicate code"},
		{"missing name", []Unit{{Code: "50", Level: LevelProvince}}, false, "missing name"},
		{"missing code", []Unit{{Name: "重庆市", Level: LevelProvince}}, false, "missing code"},
		{"no level", []Unit{{Code: "50", Name: "重庆市"}}, false, "not a level"},
		{"its own parent", []Unit{{Code: "50", Name: "重庆市", Level: LevelProvince, Parent: "50"}}, false, "its own parent"},
		{"a one-character alias", []Unit{{Code: "50", Name: "重庆市", Level: LevelProvince, Aliases: []string{"渝"}}}, false, "shorter than two"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Options{Name: "t", Units: tc.units})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if d.Len() != len(tc.units) {
					t.Errorf("Len = %d, want %d", d.Len(), len(tc.units))
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %v, want ErrInvalid with %q", err, tc.why)
			}
		})
	}
	d, err := New(Options{Name: "t", Units: []Unit{cq, yb}})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := d.Unit("50"); len(u.Aliases) != 1 {
		t.Errorf("aliases of 50 = %v, want one (repeats dropped)", u.Aliases)
	}
	if u, _ := d.Unit("500112"); len(u.Aliases) != 1 || u.Aliases[0] != "渝北" {
		t.Errorf("aliases of 500112 = %v, want [渝北] (the name itself dropped)", u.Aliases)
	}
	if !d.IsAncestor("50", "500112") || d.IsAncestor("500112", "50") {
		t.Error("IsAncestor")
	}
}

// TestNewLarge: a dictionary of tens of thousands of units (all of a
// province's communities) builds without a quadratic parent check.
func TestNewLarge(t *testing.T) {
	units := []Unit{{Code: "50", Name: "重庆市", Level: LevelProvince}}
	for i := range 40000 {
		units = append(units, Unit{Code: fmt.Sprintf("50%010d", i), Name: fmt.Sprintf("社区%d", i), Level: LevelCommunity, Parent: "50"})
	}
	d, err := New(Options{Units: units})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != len(units) {
		t.Fatalf("Len = %d", d.Len())
	}
}
