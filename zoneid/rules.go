package zoneid

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// Limits of a rules file.
const (
	// MaxRules is the largest number of rules in a file.
	MaxRules = 1000
	// MaxRuleDistanceM is the largest min_distance_m of a rule.
	MaxRuleDistanceM = 5000
	// maxRulesBytes caps a rules file.
	maxRulesBytes = 1 << 20
)

// RuleSet is a siting-rules file: see docs/zones.md for the format.
type RuleSet struct {
	// Version is the file format version; must be 1.
	Version int `json:"version"`
	// Rules are the rules, each with a unique ID.
	Rules []Rule `json:"rules"`
}

// Rule forbids entities of some industries within a distance of places of
// some kinds: an entity (or a planned site) whose industry starts with one
// of Industries violates the rule when a place whose Kind is one of
// NearKinds lies within MinDistanceM metres (great-circle, inclusive).
type Rule struct {
	// ID identifies the rule: 1–64 characters of a–z, 0–9, '-', '_', '.'.
	ID string `json:"id"`
	// Name is the human-readable rule.
	Name string `json:"name"`
	// Industries are GB/T 4754 prefixes: a section letter A–T and up to
	// four digits ("R", "R90", "R9013"), or anything geo.ParseIndustry
	// reads ("网吧"); Validate stores the code.
	Industries []string `json:"industries"`
	// NearKinds are place kinds (geo.Place.Kind), e.g. "school".
	NearKinds []string `json:"near_kinds"`
	// MinDistanceM is the distance, in metres, within which a place of
	// NearKinds is a violation; in (0, MaxRuleDistanceM].
	MinDistanceM float64 `json:"min_distance_m"`
	// Statuses restricts Violations to entities of these registration
	// statuses. Default (empty): 存续 and 在业, the entities in business.
	Statuses []geo.Status `json:"statuses,omitempty"`
	// Basis cites the regulation the rule comes from (free text).
	Basis string `json:"basis,omitempty"`
}

var ruleIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ParseRules reads a rules file strictly: unknown fields, trailing data,
// a wrong version, missing or malformed fields and duplicate IDs are
// errors (a *RuleError wrapping ErrInvalidRules) naming the rule and field.
func ParseRules(r io.Reader) (*RuleSet, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRulesBytes+1))
	if err != nil {
		return nil, &RuleError{Index: -1, Reason: "reading: " + err.Error()}
	}
	if len(b) > maxRulesBytes {
		return nil, &RuleError{Index: -1, Reason: fmt.Sprintf("larger than %d bytes", maxRulesBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var rs RuleSet
	if err := dec.Decode(&rs); err != nil {
		re := &RuleError{Index: -1, Reason: "not the expected JSON: " + err.Error()}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			re.Field = ute.Field
			re.Reason = fmt.Sprintf("%s is a JSON %s, want %s", ute.Field, ute.Value, ute.Type)
		}
		return nil, re
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &RuleError{Index: -1, Reason: "data after the JSON object"}
	}
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	return &rs, nil
}

// LoadRules reads and validates the rules file at path.
func LoadRules(path string) (*RuleSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, err := ParseRules(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// Validate checks the rule set as ParseRules does, and normalises the
// industry prefixes to upper case.
func (rs *RuleSet) Validate() error {
	if rs.Version != 1 {
		return &RuleError{Index: -1, Field: "version", Reason: fmt.Sprintf("%d is not a supported version (want 1)", rs.Version)}
	}
	if len(rs.Rules) > MaxRules {
		return &RuleError{Index: -1, Field: "rules", Reason: fmt.Sprintf("%d rules, the limit is %d", len(rs.Rules), MaxRules)}
	}
	seen := map[string]int{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		bad := func(field, format string, args ...any) error {
			return &RuleError{Index: i, ID: r.ID, Field: field, Reason: fmt.Sprintf(format, args...)}
		}
		if !ruleIDRe.MatchString(r.ID) {
			return bad("id", "%q must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", r.ID)
		}
		if j, dup := seen[r.ID]; dup {
			return bad("id", "duplicate of rule %d", j)
		}
		seen[r.ID] = i
		if strings.TrimSpace(r.Name) == "" || utf8.RuneCountInString(r.Name) > 500 || !utf8.ValidString(r.Name) {
			return bad("name", "missing or longer than 500 characters")
		}
		if len(r.Industries) == 0 || len(r.Industries) > 100 {
			return bad("industries", "want 1 to 100 GB/T 4754 prefixes such as \"R9013\"")
		}
		for k, in := range r.Industries {
			code, err := geo.ParseIndustry(in)
			if err != nil {
				return bad("industries", "%v", err)
			}
			r.Industries[k] = code
		}
		if len(r.NearKinds) == 0 || len(r.NearKinds) > 100 {
			return bad("near_kinds", "want 1 to 100 place kinds such as \"school\"")
		}
		for _, k := range r.NearKinds {
			if strings.TrimSpace(k) == "" || k != strings.TrimSpace(k) || len(k) > 64 {
				return bad("near_kinds", "%q is not a place kind (non-empty, no surrounding spaces, at most 64 bytes)", k)
			}
		}
		if !(r.MinDistanceM > 0) || r.MinDistanceM > MaxRuleDistanceM {
			return bad("min_distance_m", "%v must be > 0 and ≤ %d metres", r.MinDistanceM, MaxRuleDistanceM)
		}
		for _, st := range r.Statuses {
			if p, err := geo.ParseStatus(string(st)); err != nil || p != st || st == "" {
				return bad("statuses", "%q is not a status (want 存续, 在业, 吊销, 注销, 迁出 or 停业)", st)
			}
		}
		if utf8.RuneCountInString(r.Basis) > 2000 || !utf8.ValidString(r.Basis) {
			return bad("basis", "longer than 2000 characters")
		}
	}
	return nil
}

// Matches reports whether the rule applies to the industry code.
func (r *Rule) Matches(industry string) bool {
	for _, p := range r.Industries {
		if strings.HasPrefix(industry, p) {
			return true
		}
	}
	return false
}

func (r *Rule) statusOK(s geo.Status) bool {
	if len(r.Statuses) == 0 {
		return s == geo.StatusActive || s == geo.StatusOperating
	}
	return slices.Contains(r.Statuses, s)
}

// PlaceDistance is an offending place and its distance.
type PlaceDistance struct {
	Place     *geo.Place
	DistanceM float64
}

// Violation is one broken rule: for CheckSite the planned site, for
// Violations an existing Entity; Places are the offending places, nearest
// first.
type Violation struct {
	Rule   *Rule
	Entity *geo.Entity
	Places []PlaceDistance
}

// Rules returns the rule set in use. Do not modify it.
func (id *Identifier) Rules() *RuleSet { return id.opts.Rules }

// CheckSite returns the rules that a new registration of the given
// industry at p (WGS-84) would break, with the offending places nearest
// first; none when the site is allowed. industry is a GB/T 4754 class such
// as "R9013".
func (id *Identifier) CheckSite(ctx context.Context, p orb.Point, industry string) ([]Violation, error) {
	if err := geo.ValidatePoint(p); err != nil {
		return nil, err
	}
	industry, err := normIndustry(industry)
	if err != nil {
		return nil, err
	}
	if id.closed.Load() {
		return nil, ErrClosed
	}
	return id.check(ctx, id.idx.Snapshot(), p, industry, nil)
}

func (id *Identifier) check(ctx context.Context, snap *geo.Snapshot, p orb.Point, industry string, e *geo.Entity) ([]Violation, error) {
	var out []Violation
	for i := range id.opts.Rules.Rules {
		r := &id.opts.Rules.Rules[i]
		if !r.Matches(industry) || (e != nil && !r.statusOK(e.Status)) {
			continue
		}
		res, err := snap.Nearby(ctx, geo.LayerPlaces, p, r.MinDistanceM, geo.Query{Limit: id.idx.Options().MaxLimit, Filter: geo.Filter{Kind: r.NearKinds}})
		if err != nil {
			return nil, err
		}
		if len(res.Hits) == 0 {
			continue
		}
		v := Violation{Rule: r, Entity: e, Places: make([]PlaceDistance, len(res.Hits))}
		for k, h := range res.Hits {
			v.Places[k] = PlaceDistance{Place: h.Place, DistanceM: h.DistanceM}
		}
		sort.SliceStable(v.Places, func(a, b int) bool { return v.Places[a].DistanceM < v.Places[b].DistanceM })
		out = append(out, v)
	}
	return out, nil
}

// CheckSiteAddress geocodes address with Options.Geocoder and checks the
// site as CheckSiteGeocoded, returning the geocode too.
func (id *Identifier) CheckSiteAddress(ctx context.Context, address, industry string) (g Geocoded, checked bool, vs []Violation, err error) {
	if id.opts.Geocoder == nil {
		return Geocoded{}, false, nil, ErrNoGeocoder
	}
	if _, err := normIndustry(industry); err != nil {
		return Geocoded{}, false, nil, err
	}
	g, err = id.opts.Geocoder.Geocode(ctx, address)
	if err != nil {
		return g, false, nil, err
	}
	checked, vs, err = id.CheckSiteGeocoded(ctx, g, industry)
	return g, checked, vs, err
}

// CheckSiteGeocoded checks a geocoded site as CheckSite. A location coarser
// than building level (road, town, district, city or none) cannot be
// checked against distances of a few hundred metres: it returns checked =
// false and no violations.
func (id *Identifier) CheckSiteGeocoded(ctx context.Context, g Geocoded, industry string) (checked bool, vs []Violation, err error) {
	if _, err := normIndustry(industry); err != nil {
		return false, nil, err
	}
	switch g.Precision {
	case geo.PrecisionPoint, geo.PrecisionAddress, geo.PrecisionBuilding:
	default:
		return false, nil, nil
	}
	if geo.ValidatePoint(g.Location) != nil {
		return false, nil, nil
	}
	vs, err = id.CheckSite(ctx, g.Location, industry)
	return err == nil, vs, err
}

// normIndustry reads an industry as geo.ParseIndustry does (R9013, r9013,
// 网吧): errors wrap geo.ErrInvalidIndustry.
func normIndustry(industry string) (string, error) {
	return geo.ParseIndustry(industry)
}

// Violations calls fn, in entity ID order, for every existing entity that
// breaks a rule (entities of the rule's statuses only: by default 存续 and
// 在业), until fn returns false. ruleID restricts to one rule ("" = all).
func (id *Identifier) Violations(ctx context.Context, ruleID string, fn func(Violation) bool) error {
	if id.closed.Load() {
		return ErrClosed
	}
	var prefixes []string
	found := ruleID == ""
	for i := range id.opts.Rules.Rules {
		r := &id.opts.Rules.Rules[i]
		if ruleID != "" && r.ID != ruleID {
			continue
		}
		found = true
		prefixes = append(prefixes, r.Industries...)
	}
	if !found {
		return fmt.Errorf("%w: no rule with id %q", geo.ErrNotFound, ruleID)
	}
	if len(prefixes) == 0 {
		return nil
	}
	snap := id.idx.Snapshot()
	var err error
	n := 0
	snap.ScanEntities(func(e *geo.Entity) bool {
		n++
		if n%256 == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		match := false
		for _, p := range prefixes {
			if strings.HasPrefix(e.Industry, p) {
				match = true
				break
			}
		}
		if !match {
			return true
		}
		var vs []Violation
		vs, err = id.check(ctx, snap, e.Location, e.Industry, e)
		if err != nil {
			return false
		}
		for _, v := range vs {
			if ruleID != "" && v.Rule.ID != ruleID {
				continue
			}
			if !fn(v) {
				return false
			}
		}
		return true
	})
	return err
}
