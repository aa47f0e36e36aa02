package geo

import (
	"errors"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseIndustry(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		near     string // for errors: a code the message must suggest
	}{
		{"R9013", "R9013", ""},
		{" r9013 ", "R9013", ""},
		{"Ｒ９０１３", "R9013", ""},
		{"9013", "R9013", ""},
		{"I65", "I65", ""},
		{"H", "H", ""},
		{"网吧", "R9013", ""},
		{"网吧活动", "R9013", ""},
		{"餐饮", "H62", ""},
		{"餐饮业", "H62", ""},
		{"ktv", "R9011", ""},
		{"美发", "O8040", ""},
		{"软件开发", "I6513", ""},
		{"A9013", "", ""},
		{"R9X", "", ""},
		{"", "", ""},
		{"火星采矿", "", "B"},
		{"娱乐活动", "", "R9011"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseIndustry(tc.in)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("ParseIndustry(%q) = %q, %v; want %s", tc.in, got, err, tc.want)
				}
				return
			}
			var ie *IndustryError
			if err == nil || !errors.Is(err, ErrInvalidIndustry) || !errors.As(err, &ie) {
				t.Fatalf("ParseIndustry(%q) = %q, %v; want an *IndustryError", tc.in, got, err)
			}
			if tc.near != "" && !strings.Contains(err.Error(), tc.near) {
				t.Errorf("error %q does not suggest %s", err, tc.near)
			}
		})
	}
}

// TestEntityIndustryUsesTheValidator: Entity.Validate applies
// ValidateIndustryCode (a second, looser copy would accept A9013).
func TestEntityIndustryUsesTheValidator(t *testing.T) {
	e := Entity{ID: "91330100716105852F", Name: "n", Location: orb.Point{106.5, 29.6}}
	if err := ValidateUSCC(e.ID); err != nil {
		t.Skipf("fixture USCC: %v", err)
	}
	for _, tc := range []struct {
		code string
		ok   bool
	}{{"R9013", true}, {"R", true}, {"R90", true}, {"A9013", false}, {"r9013", false}, {"9013", false}, {"R90135", false}} {
		e.Industry = tc.code
		err := e.Validate()
		if (err == nil) != tc.ok || (err == nil) != (ValidateIndustryCode(tc.code) == nil) {
			t.Errorf("industry %q: Validate %v, ValidateIndustryCode %v", tc.code, err, ValidateIndustryCode(tc.code))
		}
	}
}

// TestIndustryTable: every code of the table and of the words is valid.
func TestIndustryTable(t *testing.T) {
	for _, in := range industryTable {
		if err := ValidateIndustryCode(in.Code); err != nil {
			t.Errorf("table %s %s: %v", in.Code, in.Name, err)
		}
	}
	for _, w := range industryWords {
		if err := ValidateIndustryCode(w.code); err != nil {
			t.Errorf("word %s → %s: %v", w.word, w.code, err)
		}
	}
}
