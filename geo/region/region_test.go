package region

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

func TestShortNames(t *testing.T) {
	tests := []struct {
		name  string
		level Level
		want  []string
	}{
		{"广东省", LevelProvince, []string{"广东"}},
		{"重庆市", LevelProvince, []string{"重庆"}},
		{"广西壮族自治区", LevelProvince, []string{"广西", "广西省", "广西自治区"}},
		{"新疆维吾尔自治区", LevelProvince, []string{"新疆", "新疆省", "新疆自治区"}},
		{"深圳市", LevelCity, []string{"深圳"}},
		{"恩施土家族苗族自治州", LevelCity, []string{"恩施", "恩施州"}},
		{"阿里地区", LevelCity, []string{"阿里"}},
		{"南山区", LevelDistrict, []string{"南山"}},
		{"两江新区", LevelDistrict, []string{"两江"}},
		{"神农架林区", LevelDistrict, []string{"神农架"}},
		{"峨边彝族自治县", LevelDistrict, []string{"峨边"}},
		{"义乌市", LevelDistrict, []string{"义乌"}},
		{"城区", LevelDistrict, nil},
		{"人和街道", LevelTown, nil},
		{"万寿山社区", LevelCommunity, nil},
	}
	for _, tc := range tests {
		if got := ShortNames(tc.name, tc.level); !slices.Equal(got, tc.want) {
			t.Errorf("ShortNames(%q, %s) = %v, want %v", tc.name, tc.level, got, tc.want)
		}
	}
}

func TestLoadDir(t *testing.T) {
	write := func(dir string, files map[string]string) {
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tables := map[string]string{
		"cities.csv":  "code,name,provinceCode\n4403,深圳市,44\n",
		"areas.csv":   "code,name,cityCode,provinceCode\n440305,南山区,4403,44\n",
		"streets.csv": "code,name,areaCode\n440305400,前海合作区,440305\n",
	}
	tests := []struct {
		name    string
		aliases string // aliases.csv, "" for none
		ok      bool
	}{
		{"tables alone", "", true},
		{"with aliases", "code,alias\n440305400,前海\n", true},
		{"an alias of no unit", "code,alias\n999,某地\n", false},
		{"a bad alias row", "code,alias\n440305400\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(dir, tables)
			if tc.aliases != "" {
				write(dir, map[string]string{"aliases.csv": tc.aliases})
			}
			d, err := LoadDir(dir, "深圳市")
			if !tc.ok {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != 3 || d.Name() != "深圳市" {
				t.Fatalf("Len %d, Name %q", d.Len(), d.Name())
			}
			if u, _ := d.Unit("440305"); !slices.Equal(u.Aliases, []string{"南山"}) {
				t.Errorf("南山区's aliases = %v, want its short form", u.Aliases)
			}
			if u, _ := d.Unit("440305400"); tc.aliases != "" && !slices.Contains(u.Aliases, "前海") {
				t.Errorf("前海合作区's aliases = %v, want 前海 from aliases.csv", u.Aliases)
			}
		})
	}
	if _, err := LoadDir(t.TempDir(), "empty"); !errors.Is(err, ErrInvalid) {
		t.Errorf("an empty directory: %v, want ErrInvalid", err)
	}
}
