package risk

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"gopkg.in/yaml.v3"
)

//go:embed rules.yaml
var defaultRules []byte

// DefaultRulesYAML returns the text of the default rule set (embedded).
func DefaultRulesYAML() []byte { return append([]byte(nil), defaultRules...) }

// DefaultRules returns the default rule set, parsed.
func DefaultRules() *Rules {
	r, err := ParseRules(bytes.NewReader(defaultRules))
	if err != nil { // the embedded file is tested
		return &Rules{MaxScore: 100, Thresholds: Thresholds{B: 20, C: 50, D: 80}}
	}
	return r
}

// The rule types (Rule.Type).
const (
	TypeIndustry            = "industry"
	TypeStatus              = "status"
	TypeBlacklist           = "blacklist"
	TypeAbnormalList        = "abnormal_list"
	TypeAnnualReportMissing = "annual_report_missing"
	TypePenalties           = "penalties"
	TypeComplaints          = "complaints"
	TypeLicenceMissing      = "licence_missing"
	TypeLicenceExpired      = "licence_expired"
	TypeIdle                = "idle"
)

var ruleTypes = []string{TypeIndustry, TypeStatus, TypeBlacklist, TypeAbnormalList, TypeAnnualReportMissing,
	TypePenalties, TypeComplaints, TypeLicenceMissing, TypeLicenceExpired, TypeIdle}

// Rules is a risk rule set: how an entity and its records give a score, a
// class A–D and the reasons. Parse one with [ParseRules] (strict) or take
// [DefaultRules]. A Rules is read-only once parsed and safe for
// concurrent use.
type Rules struct {
	// Version of the rule-file format: 1.
	Version int `yaml:"version" json:"version"`
	// MaxScore caps the score. Default 100.
	MaxScore float64 `yaml:"max_score" json:"max_score"`
	// Thresholds are the scores at which classes B, C and D begin.
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
	// Industries give the industry risk level by GB/T 4754 prefix (the
	// longest matching prefix wins).
	Industries []IndustryLevel `yaml:"industries" json:"industries"`
	// Fields name the record fields the rules and the economy read.
	Fields FieldNames `yaml:"fields" json:"fields"`
	// PenaltySeverity says when a penalty is severe.
	PenaltySeverity PenaltySeverity `yaml:"penalty_severity" json:"penalty_severity"`
	// Rules are the rules, in the order their reasons are listed.
	Rules []Rule `yaml:"rules" json:"rules"`

	industry []IndustryLevel // sorted by prefix length, longest first
}

// Thresholds are the scores at which the classes B, C and D begin.
type Thresholds struct {
	B float64 `yaml:"B" json:"B"`
	C float64 `yaml:"C" json:"C"`
	D float64 `yaml:"D" json:"D"`
}

// IndustryLevel is the risk level of the industries with a GB/T 4754
// prefix.
type IndustryLevel struct {
	// Prefix is a section letter with up to four digits (H62, F522, J).
	Prefix string `yaml:"prefix" json:"prefix"`
	// Level is high, medium or low.
	Level string `yaml:"level" json:"level"`
	// Points are added to the score of an entity of the industry.
	Points float64 `yaml:"points" json:"points"`
}

// FieldNames name, for each figure, the record fields that may hold it
// (the first present and readable wins).
type FieldNames struct {
	// PenaltyAmount is a penalty's amount in 万元.
	PenaltyAmount []string `yaml:"penalty_amount" json:"penalty_amount"`
	// PenaltyMeasure is a penalty's measure (警告, 罚款, 没收 …).
	PenaltyMeasure []string `yaml:"penalty_measure" json:"penalty_measure"`
	// LicenceExpiry is a licence's expiry date.
	LicenceExpiry []string `yaml:"licence_expiry" json:"licence_expiry"`
	// Output is an output record's output in 万元 a year.
	Output []string `yaml:"output" json:"output"`
	// Employment is the persons employed (output or social insurance
	// records).
	Employment []string `yaml:"employment" json:"employment"`
	// Tax is a tax record's amount paid in 元.
	Tax []string `yaml:"tax" json:"tax"`
}

// PenaltySeverity says when a penalty is severe.
type PenaltySeverity struct {
	// SevereAmount (万元): a penalty of at least this amount is severe
	// (0: no amount is).
	SevereAmount float64 `yaml:"severe_amount" json:"severe_amount"`
	// SevereMeasures: a penalty whose measure contains one is severe.
	SevereMeasures []string `yaml:"severe_measures" json:"severe_measures"`
}

// Rule is one rule of a rule set.
type Rule struct {
	// ID names the rule in reasons; unique, [a-z][a-z0-9_]*.
	ID string `yaml:"id" json:"id"`
	// Type is one of industry, status, blacklist, abnormal_list,
	// annual_report_missing, penalties, complaints, licence_missing,
	// licence_expired, idle (docs/risk.md says what each reads).
	Type string `yaml:"type" json:"type"`
	// Description is shown with the reason.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Points are added to the score when the rule fires.
	Points float64 `yaml:"points,omitempty" json:"points,omitempty"`
	// PointsEach are added for each record counted (penalties, complaints).
	PointsEach float64 `yaml:"points_each,omitempty" json:"points_each,omitempty"`
	// Class is the least class of an entity the rule fires for ("": none).
	Class string `yaml:"class,omitempty" json:"class,omitempty"`
	// WindowDays is the window of penalties, complaints and idle.
	WindowDays int `yaml:"window_days,omitempty" json:"window_days,omitempty"`
	// Min is the count of records in the window from which penalties and
	// complaints fire (default 1).
	Min int `yaml:"min,omitempty" json:"min,omitempty"`
	// Severe: penalties counts severe penalties only.
	Severe bool `yaml:"severe,omitempty" json:"severe,omitempty"`
	// Statuses are the registration statuses of a status rule.
	Statuses []string `yaml:"statuses,omitempty" json:"statuses,omitempty"`
	// Industries are the GB/T 4754 prefixes of the industries that need a
	// licence (licence_missing, licence_expired).
	Industries []string `yaml:"industries,omitempty" json:"industries,omitempty"`

	class    geo.Risk
	statuses []geo.Status
}

var (
	ruleID         = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	industryPrefix = regexp.MustCompile(`^[A-T][0-9]{0,4}$`)
)

// MaxRules caps the rules of a rule set (the reasons are a bit mask).
const MaxRules = 32

// ParseRules reads a rule set (YAML, or JSON, which is YAML) strictly: an
// unknown key, rule type, class or industry level is an error wrapping
// ErrInvalidRules.
func ParseRules(r io.Reader) (*Rules, error) {
	dec := yaml.NewDecoder(io.LimitReader(r, 1<<20))
	dec.KnownFields(true)
	var rs Rules
	if err := dec.Decode(&rs); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty rule file", ErrInvalidRules)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidRules, err)
	}
	if err := rs.prepare(); err != nil {
		return nil, err
	}
	return &rs, nil
}

// LoadRules reads a rule file from path.
func LoadRules(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("risk: rules: %w", err)
	}
	defer f.Close()
	return ParseRules(f)
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRules, fmt.Sprintf(format, args...))
}

func parseClass(s string) (geo.Risk, error) {
	switch s {
	case "A", "B", "C", "D":
		return geo.Risk(s), nil
	}
	return "", fmt.Errorf("class %q (want A, B, C or D)", s)
}

// prepare validates the rule set and fills its derived fields: the one
// validator of rule sets.
func (rs *Rules) prepare() error {
	if rs.Version != 1 {
		return bad("version %d (want 1)", rs.Version)
	}
	if rs.MaxScore == 0 {
		rs.MaxScore = 100
	}
	t := rs.Thresholds
	if rs.MaxScore < 0 || !(0 < t.B && t.B <= t.C && t.C <= t.D) {
		return bad("thresholds must satisfy 0 < B ≤ C ≤ D and max_score ≥ 0 (got B %g, C %g, D %g)", t.B, t.C, t.D)
	}
	seenPrefix := map[string]bool{}
	for i, il := range rs.Industries {
		if !industryPrefix.MatchString(il.Prefix) {
			return bad("industries[%d]: prefix %q (want a section letter and up to four digits)", i, il.Prefix)
		}
		if il.Level != "high" && il.Level != "medium" && il.Level != "low" {
			return bad("industries[%d]: level %q (want high, medium or low)", i, il.Level)
		}
		if il.Points < 0 || seenPrefix[il.Prefix] {
			return bad("industries[%d]: negative points or prefix %q twice", i, il.Prefix)
		}
		seenPrefix[il.Prefix] = true
	}
	rs.industry = append([]IndustryLevel(nil), rs.Industries...)
	sort.SliceStable(rs.industry, func(i, j int) bool { return len(rs.industry[i].Prefix) > len(rs.industry[j].Prefix) })
	if rs.PenaltySeverity.SevereAmount < 0 {
		return bad("penalty_severity.severe_amount must not be negative")
	}
	if len(rs.Rules) > MaxRules {
		return bad("%d rules, at most %d", len(rs.Rules), MaxRules)
	}
	seen := map[string]bool{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		at := fmt.Sprintf("rules[%d] (%s)", i, r.ID)
		if !ruleID.MatchString(r.ID) || seen[r.ID] {
			return bad("%s: id must be unique and match [a-z][a-z0-9_]*", at)
		}
		seen[r.ID] = true
		known := false
		for _, t := range ruleTypes {
			known = known || t == r.Type
		}
		if !known {
			return bad("%s: type %q (want one of %s)", at, r.Type, strings.Join(ruleTypes, ", "))
		}
		if r.Class != "" {
			c, err := parseClass(r.Class)
			if err != nil {
				return bad("%s: %v", at, err)
			}
			r.class = c
		}
		if r.Points < 0 || r.PointsEach < 0 || r.WindowDays < 0 || r.Min < 0 || r.WindowDays > 36500 {
			return bad("%s: points, points_each, window_days and min must not be negative (window ≤ 36,500 days)", at)
		}
		if r.Min == 0 {
			r.Min = 1
		}
		windowed := r.Type == TypePenalties || r.Type == TypeComplaints || r.Type == TypeIdle
		if windowed && r.WindowDays == 0 {
			return bad("%s: a %s rule needs window_days", at, r.Type)
		}
		if !windowed && (r.WindowDays != 0 || r.PointsEach != 0) {
			return bad("%s: window_days and points_each apply to penalties, complaints and idle only", at)
		}
		if r.Severe && r.Type != TypePenalties {
			return bad("%s: severe applies to penalties only", at)
		}
		if (r.Type == TypeStatus) != (len(r.Statuses) > 0) {
			return bad("%s: statuses belong to (and are required by) a status rule", at)
		}
		for _, s := range r.Statuses {
			st, err := geo.ParseStatus(s)
			if err != nil || st == "" {
				return bad("%s: status %q", at, s)
			}
			r.statuses = append(r.statuses, st)
		}
		lic := r.Type == TypeLicenceMissing || r.Type == TypeLicenceExpired
		if lic != (len(r.Industries) > 0) {
			return bad("%s: industries belong to (and are required by) a licence rule", at)
		}
		for _, p := range r.Industries {
			if !industryPrefix.MatchString(p) {
				return bad("%s: industry prefix %q", at, p)
			}
		}
	}
	return nil
}

// IndustryLevel returns the level and points of an industry code ("low",
// 0 when no prefix matches).
func (rs *Rules) IndustryLevel(industry string) (string, float64) {
	for _, il := range rs.industry {
		if strings.HasPrefix(industry, il.Prefix) {
			return il.Level, il.Points
		}
	}
	return "low", 0
}

// ruleIndex returns the position of the rule with this ID, -1 if none.
func (rs *Rules) ruleIndex(id string) int {
	for i := range rs.Rules {
		if rs.Rules[i].ID == id {
			return i
		}
	}
	return -1
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
