package zoneid

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestDemoRules checks the demo's rules file (the rules live in demo, not
// in this package).
func TestDemoRules(t *testing.T) {
	rs, err := ParseRules(bytes.NewReader(demo.RulesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) != 2 || !rs.Rules[0].Matches("R9013") || !rs.Rules[1].Matches("R9011") {
		t.Fatalf("%+v", rs)
	}
}

// TestNilRulesMeanNoRules: the library has no rules of its own; nil Rules
// is no rules, not somebody's defaults.
func TestNilRulesMeanNoRules(t *testing.T) {
	_, idx := demoIndex(t)
	for _, opts := range []Options{{}, DefaultOptions()} {
		id := newIdentifier(t, idx, opts)
		if n := len(id.Rules().Rules); n != 0 {
			t.Fatalf("nil Rules: %d rules, want none", n)
		}
		n := 0
		if err := id.Violations(bg, "", func(Violation) bool { n++; return true }); err != nil || n != 0 {
			t.Fatalf("Violations without rules: %d, %v", n, err)
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	ok := `{"id":"a","name":"n","industries":["R9013"],"near_kinds":["school"],"min_distance_m":200}`
	for _, c := range []struct {
		name, in, field string
	}{
		{"empty", ``, ""},
		{"not json", `rules: []`, ""},
		{"unknown top field", `{"version":1,"rules":[],"extra":1}`, ""},
		{"unknown rule field", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R9013"],"near_kinds":["school"],"min_distance_m":200,"radius":1}]}`, ""},
		{"trailing data", `{"version":1,"rules":[]} {}`, ""},
		{"version missing", `{"rules":[` + ok + `]}`, "version"},
		{"version 2", `{"version":2,"rules":[]}`, "version"},
		{"wrong type", `{"version":1,"rules":[{"id":"a","name":"n","industries":"R9013","near_kinds":["school"],"min_distance_m":200}]}`, "rules.industries"},
		{"bad id", `{"version":1,"rules":[{"id":"A B","name":"n","industries":["R9013"],"near_kinds":["school"],"min_distance_m":200}]}`, "id"},
		{"duplicate id", `{"version":1,"rules":[` + ok + `,` + ok + `]}`, "id"},
		{"no name", `{"version":1,"rules":[{"id":"a","name":" ","industries":["R9013"],"near_kinds":["school"],"min_distance_m":200}]}`, "name"},
		{"no industries", `{"version":1,"rules":[{"id":"a","name":"n","industries":[],"near_kinds":["school"],"min_distance_m":200}]}`, "industries"},
		{"bad industry", `{"version":1,"rules":[{"id":"a","name":"n","industries":["火星采矿"],"near_kinds":["school"],"min_distance_m":200}]}`, "industries"},
		{"industry too long", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R90131"],"near_kinds":["school"],"min_distance_m":200}]}`, "industries"},
		{"no kinds", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R9013"],"min_distance_m":200}]}`, "near_kinds"},
		{"blank kind", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R9013"],"near_kinds":[" school"],"min_distance_m":200}]}`, "near_kinds"},
		{"zero distance", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R9013"],"near_kinds":["school"]}]}`, "min_distance_m"},
		{"huge distance", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R9013"],"near_kinds":["school"],"min_distance_m":1e9}]}`, "min_distance_m"},
		{"bad status", `{"version":1,"rules":[{"id":"a","name":"n","industries":["R9013"],"near_kinds":["school"],"min_distance_m":200,"statuses":["open"]}]}`, "statuses"},
	} {
		_, err := ParseRules(strings.NewReader(c.in))
		var re *RuleError
		if !errors.As(err, &re) || !errors.Is(err, ErrInvalidRules) {
			t.Errorf("%s: error %v, want a *RuleError", c.name, err)
			continue
		}
		if c.field != "" && re.Field != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.name, re.Field, c.field, err)
		}
	}
	rs, err := ParseRules(strings.NewReader(`{"version":1,"rules":[{"id":"a","name":"n","industries":["r90"],"near_kinds":["school"],"min_distance_m":50,"statuses":["吊销"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Rules[0].Industries[0] != "R90" || !rs.Rules[0].statusOK(geo.StatusRevoked) || rs.Rules[0].statusOK(geo.StatusActive) {
		t.Fatalf("%+v", rs.Rules[0])
	}
}

// bruteViolators: entities of the rule's industries and statuses with a
// place of the rule's kinds within the distance, by geo.DistanceM over all places.
func bruteViolators(ds []geo.Entity, places []geo.Place, r *Rule) map[string][]string {
	out := map[string][]string{}
	for _, e := range ds {
		if !r.Matches(e.Industry) || !r.statusOK(e.Status) {
			continue
		}
		for _, p := range places {
			if slices.Contains(r.NearKinds, p.Kind) && geo.DistanceM(e.Location, p.Location) <= r.MinDistanceM {
				out[e.ID] = append(out[e.ID], p.ID)
			}
		}
	}
	return out
}

func TestViolationsDemo(t *testing.T) {
	ds, idx := demoIndex(t)
	id := newIdentifier(t, idx, Options{Rules: demoRules(t)})
	for ri := range id.Rules().Rules {
		r := &id.Rules().Rules[ri]
		want := bruteViolators(ds.Entities, ds.Places, r)
		got := map[string][]string{}
		var order []string
		err := id.Violations(bg, r.ID, func(v Violation) bool {
			if v.Rule.ID != r.ID {
				t.Fatalf("rule %s in violations of %s", v.Rule.ID, r.ID)
			}
			order = append(order, v.Entity.ID)
			for k, p := range v.Places {
				got[v.Entity.ID] = append(got[v.Entity.ID], p.Place.ID)
				if d := geo.DistanceM(v.Entity.Location, p.Place.Location); d-p.DistanceM > 0.01 || p.DistanceM-d > 0.01 {
					t.Fatalf("distance %v, brute force %v", p.DistanceM, d)
				}
				if k > 0 && v.Places[k-1].DistanceM > p.DistanceM {
					t.Fatal("places not nearest first")
				}
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			t.Fatalf("rule %s: the demo has no violator: the test proves nothing", r.ID)
		}
		if !slices.IsSorted(order) {
			t.Error("violations not in entity ID order")
		}
		if len(got) != len(want) {
			t.Fatalf("rule %s: %d violators, brute force %d", r.ID, len(got), len(want))
		}
		for e, ps := range want {
			g := slices.Clone(got[e])
			slices.Sort(g)
			slices.Sort(ps)
			if !slices.Equal(g, ps) {
				t.Fatalf("rule %s, entity %s: places %v, brute force %v", r.ID, e, g, ps)
			}
		}
		t.Logf("rule %s: %d violating entities", r.ID, len(got))
	}
	if err := id.Violations(bg, "nope", func(Violation) bool { return true }); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("unknown rule: %v", err)
	}
	// stop early
	n := 0
	_ = id.Violations(bg, "", func(Violation) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn returning false: %d calls", n)
	}
}

// TestCheckSiteAroundSchools probes points around every demo school at
// 150 m and 250 m in 8 directions, against brute force.
func TestCheckSiteAroundSchools(t *testing.T) {
	ds, idx := demoIndex(t)
	id := newIdentifier(t, idx, Options{Rules: demoRules(t)})
	r := &id.Rules().Rules[0]
	n := 0
	for _, s := range ds.Places {
		if s.Kind != "school" && s.Kind != "kindergarten" {
			continue
		}
		for _, dm := range []float64{150, 199, 201, 250} {
			for k := 0; k < 8; k++ {
				dx := []float64{1, 0.7071, 0, -0.7071, -1, -0.7071, 0, 0.7071}[k] * dm
				dy := []float64{0, 0.7071, 1, 0.7071, 0, -0.7071, -1, -0.7071}[k] * dm
				p := orb.Point{s.Location[0] + dx/(111195*cosd(s.Location[1])), s.Location[1] + dy/111195}
				vs, err := id.CheckSite(bg, p, "R9013")
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, q := range ds.Places {
					if slices.Contains(r.NearKinds, q.Kind) && geo.DistanceM(p, q.Location) <= r.MinDistanceM {
						want = append(want, q.ID)
					}
				}
				var got []string
				for _, v := range vs {
					if v.Rule.ID != r.ID {
						t.Fatalf("R9013 broke rule %s", v.Rule.ID)
					}
					for _, pd := range v.Places {
						got = append(got, pd.Place.ID)
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("site %v (%.0f m from %s): %v, brute force %v", p, dm, s.Name, got, want)
				}
				if dm < 200 && len(got) == 0 {
					t.Fatalf("site %.0f m from school %s allowed", dm, s.Name)
				}
				n++
			}
		}
	}
	// other industries are never affected
	if vs, _ := id.CheckSite(bg, ds.Places[0].Location, "I6510"); len(vs) != 0 {
		t.Fatalf("software company broke %v", vs[0].Rule.ID)
	}
	if _, err := id.CheckSite(bg, orb.Point{106.5, 29.6}, "火星采矿"); !errors.Is(err, geo.ErrInvalidIndustry) {
		t.Fatalf("bad industry: %v", err)
	}
	// the word a clerk types is the class (geo.ParseIndustry)
	for _, s := range ds.Places {
		if s.Kind != "school" {
			continue
		}
		byWord, err1 := id.CheckSite(bg, s.Location, "网吧")
		byCode, err2 := id.CheckSite(bg, s.Location, "R9013")
		if err1 != nil || err2 != nil || len(byWord) == 0 || len(byWord) != len(byCode) {
			t.Fatalf("网吧 at a school: %d violations (%v), R9013: %d (%v)", len(byWord), err1, len(byCode), err2)
		}
		break
	}
	t.Logf("%d probe sites", n)
}

func TestCheckSiteAddress(t *testing.T) {
	ds, idx := demoIndex(t)
	var school geo.Place
	for _, p := range ds.Places {
		if p.Kind == "school" {
			school = p
			break
		}
	}
	fg := fakeGeocoder{
		"next to school": {Location: orb.Point{school.Location[0] + 0.0005, school.Location[1]}, Precision: geo.PrecisionAddress},
		"district only":  {Location: school.Location, Precision: geo.PrecisionDistrict},
	}
	id := newIdentifier(t, idx, Options{Geocoder: fg, Rules: demoRules(t)})
	g, checked, vs, err := id.CheckSiteAddress(bg, "next to school", "R9013")
	if err != nil || !checked || len(vs) == 0 || g.Precision != geo.PrecisionAddress {
		t.Fatalf("next to school: %v %v %v %v", g, checked, vs, err)
	}
	_, checked, vs, err = id.CheckSiteAddress(bg, "district only", "R9013")
	if err != nil || checked || len(vs) != 0 {
		t.Fatalf("district only: %v %v %v", checked, vs, err)
	}
	_, checked, _, err = id.CheckSiteAddress(bg, "nowhere", "R9013")
	if err != nil || checked {
		t.Fatalf("nowhere: %v %v", checked, err)
	}
}

func TestGridSummaryDemo(t *testing.T) {
	ds, idx := demoIndex(t)
	id := newIdentifier(t, idx, Options{Rules: demoRules(t)})
	// the grid with the most entities, counted by brute force
	per := map[string]int{}
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool { per[e.GridID]++; return true })
	best := ""
	for g, n := range per {
		if g != "" && (best == "" || n > per[best]) {
			best = g
		}
	}
	gs, err := id.GridSummary(bg, best)
	if err != nil {
		t.Fatal(err)
	}
	if gs.Entities != per[best] || gs.Grid.ID != best {
		t.Fatalf("grid %s: %d entities, brute force %d", best, gs.Entities, per[best])
	}
	sum := 0
	for _, n := range gs.ByRisk {
		sum += n
	}
	cd := 0
	for _, e := range ds.Entities {
		ee, _ := idx.Snapshot().Entity(e.ID)
		if ee.GridID == best && (ee.Risk == geo.RiskC || ee.Risk == geo.RiskD) {
			cd++
		}
	}
	if sum != gs.Entities || len(gs.Supervise) != cd {
		t.Fatalf("by risk sums to %d of %d; %d C/D listed, brute force %d", sum, gs.Entities, len(gs.Supervise), cd)
	}
	for i := 1; i < len(gs.Supervise); i++ {
		a, b := gs.Supervise[i-1], gs.Supervise[i]
		if a.Risk < b.Risk || a.Risk == b.Risk && a.ID > b.ID {
			t.Fatal("supervise list not D first then by ID")
		}
	}
	t.Logf("grid %s: %d entities, risk %v, %d to supervise", best, gs.Entities, gs.ByRisk, len(gs.Supervise))
	if _, err := id.GridSummary(bg, "D500112"); !errors.Is(err, ErrUnknownGrid) {
		t.Fatalf("district as grid: %v", err)
	}
	if _, err := id.GridSummary(bg, "nope"); !errors.Is(err, ErrUnknownGrid) {
		t.Fatalf("unknown grid: %v", err)
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add(demo.RulesJSON())
	f.Add([]byte(`{"version":1,"rules":[]}`))
	f.Add([]byte(`{"version":1,"rules":[{"id":"a","name":"n","industries":["r9"],"near_kinds":["school"],"min_distance_m":1,"statuses":["存续"]}]}`))
	f.Add([]byte(`{"version":1,"rules":[{"id":"a"}]} x`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRules(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrInvalidRules) {
				t.Fatalf("error %v does not wrap ErrInvalidRules", err)
			}
			return
		}
		// a parsed set validates again and is usable
		if err := rs.Validate(); err != nil {
			t.Fatalf("parsed set does not validate: %v", err)
		}
		for i := range rs.Rules {
			_ = rs.Rules[i].Matches("R9013")
		}
	})
}
