package risk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
)

func TestDefaultRulesParse(t *testing.T) {
	rs, err := ParseRules(strings.NewReader(string(DefaultRulesYAML())))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) < 10 || rs.Thresholds.B != 20 {
		t.Fatalf("default rules: %d rules, thresholds %+v", len(rs.Rules), rs.Thresholds)
	}
	if lvl, pts := rs.IndustryLevel("F5221"); lvl != "high" || pts != 15 {
		t.Fatalf("F5221: %s %g (F522 is the longest prefix: high, 15)", lvl, pts)
	}
	if lvl, pts := rs.IndustryLevel("J6620"); lvl != "medium" || pts != 8 {
		t.Fatalf("J6620: %s %g (J: medium, 8)", lvl, pts)
	}
}

func TestCustomRules(t *testing.T) {
	rs, err := LoadRules("testdata/custom.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	e := geo.Entity{ID: "91500000MA5U7G4K3U", Industry: "H6210", Status: geo.StatusRevoked}
	var recs []exchange.Record
	for i, d := range []string{"2026-10-01", "2026-01-01", "2025-06-01"} { // the last is outside the year
		r := exchange.Record{EntityID: e.ID, Dept: "市场监督管理局", Kind: exchange.KindPenalty, Date: d, Source: exchange.Source{Key: string(rune('a' + i))}}
		r.Seal()
		recs = append(recs, r)
	}
	a := rs.Evaluate(&e, recs, now)
	// industry 5 + 2 penalties × 10 = 25: C from 30? no: B (≥ 10); revoked means nothing to this rule set.
	if a.Score != 25 || a.Class != geo.RiskB || len(a.Reasons) != 2 || len(a.Reasons[1].Evidence) != 2 {
		t.Fatalf("custom rules: %+v", a)
	}
}

func TestParseRulesStrict(t *testing.T) {
	base := "version: 1\nthresholds: {B: 20, C: 50, D: 80}\n"
	cases := []struct{ name, text string }{
		{"empty", ""},
		{"unknown top key", base + "colour: red\n"},
		{"unknown rule key", base + "rules:\n  - {id: a, type: blacklist, weight: 3}\n"},
		{"unknown type", base + "rules:\n  - {id: a, type: astrology}\n"},
		{"bad class", base + "rules:\n  - {id: a, type: blacklist, class: E}\n"},
		{"duplicate id", base + "rules:\n  - {id: a, type: blacklist}\n  - {id: a, type: abnormal_list}\n"},
		{"bad id", base + "rules:\n  - {id: A-1, type: blacklist}\n"},
		{"no window", base + "rules:\n  - {id: a, type: penalties}\n"},
		{"window on a flag", base + "rules:\n  - {id: a, type: blacklist, window_days: 3}\n"},
		{"severe on complaints", base + "rules:\n  - {id: a, type: complaints, window_days: 3, severe: true}\n"},
		{"status without statuses", base + "rules:\n  - {id: a, type: status}\n"},
		{"bad status", base + "rules:\n  - {id: a, type: status, statuses: [asleep]}\n"},
		{"licence without industries", base + "rules:\n  - {id: a, type: licence_missing}\n"},
		{"bad industry prefix", base + "rules:\n  - {id: a, type: licence_missing, industries: [h62]}\n"},
		{"negative points", base + "rules:\n  - {id: a, type: blacklist, points: -1}\n"},
		{"thresholds out of order", "version: 1\nthresholds: {B: 50, C: 20, D: 80}\n"},
		{"version 2", "version: 2\nthresholds: {B: 20, C: 50, D: 80}\n"},
		{"bad level", base + "industries:\n  - {prefix: H62, level: extreme, points: 3}\n"},
		{"not yaml", "{{{"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseRules(strings.NewReader(c.text)); !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("err %v, want ErrInvalidRules", err)
			}
		})
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add(string(DefaultRulesYAML()))
	f.Add("version: 1\nthresholds: {B: 1, C: 2, D: 3}\nrules:\n  - {id: a, type: idle, window_days: 9}\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRules(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("error without the sentinel: %v", err)
			}
			return
		}
		e := geo.Entity{ID: "91500000MA5U7G4K3U", Industry: "H6210"}
		a := rs.Evaluate(&e, nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if a.Class == "" || a.Score > rs.MaxScore {
			t.Fatalf("evaluation of an accepted rule set: %+v", a)
		}
	})
}
