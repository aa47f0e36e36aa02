package addressmatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestParseGolden")

// annotated is one case of testdata/cases/*.tsv: an address written for
// the project (from the demo's real road, street and community names and
// the forms people write) with its spans as a person annotates them, the
// parser rule it exercises and a comment.
type annotated struct {
	File    string   `json:"-"`
	Line    int      `json:"-"`
	Input   string   `json:"-"`
	Spans   []string `json:"spans"` // label:text, in text order
	Rule    string   `json:"rule"`
	Comment string   `json:"comment"`
}

// parserRules are the rules of the parser (parse.go) the table must
// exercise, each in at least one case: the admin matching and its context
// rules, the number units, the assist words, and the chunk rules.
var parserRules = []string{
	// administrative chain
	"admin-full", "admin-fill", "admin-short", "muni-city", "ambiguous", "inconsistent-chain", "restate-chain",
	"short-reject-prefix", "road-ahead-full-name", "numbered-road-ahead", "child-town-after-short",
	"named-road-after-county", "org-with-admin-prefix", "institution-named-after-division", "town-short",
	"town-office", "community-dict", "community-suffix", "functional-area-suffix", "town-zone-word", "merge-zone",
	"devzone-suffix", "district-by-char", "country-prefix", "restart-at-country", "descendant-restated",
	"ambiguous-resolved-later", "alnum-noise", "folding",
	// numbers
	"number-units", "chinese-numerals", "sub-number", "ordinal", "poi-number", "letter-building", "bare-number",
	"lane-road", "numbered-road", "village-group",
	// assist, distance, notes
	"assist-words", "assist-single", "assist-new-place", "assist-village", "direction-distance", "contact-junk", "courier-note",
	// chunks
	"intersection", "gate", "subpoi", "poi-suffix", "campus", "split-compound", "section-area", "county-road-line",
	"village-before-road", "bare-village", "town-word-ends-name", "lane-word-ends-name", "one-road", "town-word",
	"dao-in-name", "village-twice",
}

func readAnnotated(t *testing.T) []annotated {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.tsv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files: %v", err)
	}
	sort.Strings(files)
	var out []annotated
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			in, js, ok := strings.Cut(text, "\t")
			if !ok {
				t.Fatalf("%s:%d: want input<TAB>json", name, line)
			}
			a := annotated{File: filepath.Base(name), Line: line, Input: in}
			dec := json.NewDecoder(strings.NewReader(js))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&a); err != nil {
				t.Fatalf("%s:%d: %v", name, line, err)
			}
			// the annotation must cover the input's text in order
			rest := in
			for _, s := range a.Spans {
				l, txt, ok := strings.Cut(s, ":")
				if !ok || !slices.Contains(Labels(), Label(l)) {
					t.Fatalf("%s:%d: span %q: want label:text with a known label", name, line, s)
				}
				k := strings.Index(rest, txt)
				if k < 0 {
					t.Fatalf("%s:%d: span %q is not in the rest of the input %q", name, line, s, rest)
				}
				rest = rest[k+len(txt):]
			}
			out = append(out, a)
		}
	}
	return out
}

// goldenParse is the parser's output on one case, as the golden file keeps it.
type goldenParse struct {
	Input string   `json:"input"`
	Rules []string `json:"rules"` // label:text of the rules' parse
	Model []string `json:"model"` // label:text of Parse with the embedded model
	Admin Admin    `json:"admin"`
	// Issues are the rules' inconsistencies.
	Issues []string `json:"issues,omitempty"`
}

func spanList(c Components) []string {
	out := make([]string, 0, len(c.Spans))
	for _, s := range c.Spans {
		out = append(out, string(s.Label)+":"+s.Text)
	}
	return out
}

// spanF1 scores got against want as multisets of label:text.
func spanF1(got, want []string) (tp, ng, nw int) {
	left := map[string]int{}
	for _, w := range want {
		left[w]++
	}
	for _, g := range got {
		if left[g] > 0 {
			left[g]--
			tp++
		}
	}
	return tp, len(got), len(want)
}

// TestParseGolden runs the parser, on the rules alone and with the embedded
// model, over the in-repo annotated table (testdata/cases/*.tsv, a few
// hundred addresses covering every label and every rule of the parser) and
// compares its output with testdata/golden/parse.json, decoded. Regenerate
// with go test ./addressmatch -run TestParseGolden -update after a change
// to the parser and read the diff. It also reports how far each parse is
// from the annotation, and fails when that agreement drops.
func TestParseGolden(t *testing.T) {
	cases := readAnnotated(t)
	rules, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	model := testParser(t)

	// coverage: every label and every rule has a case
	labels, seenRules := map[Label]bool{}, map[string]bool{}
	for _, c := range cases {
		seenRules[c.Rule] = true
		for _, s := range c.Spans {
			l, _, _ := strings.Cut(s, ":")
			labels[Label(l)] = true
		}
		if !slices.Contains(parserRules, c.Rule) {
			t.Errorf("%s:%d: rule %q is not in parserRules", c.File, c.Line, c.Rule)
		}
	}
	for _, l := range Labels() {
		if !labels[l] {
			t.Errorf("no case annotates label %s", l)
		}
	}
	for _, r := range parserRules {
		if !seenRules[r] {
			t.Errorf("no case exercises rule %s", r)
		}
	}
	if len(cases) < 250 {
		t.Errorf("%d cases, want a few hundred", len(cases))
	}

	got := make([]goldenParse, len(cases))
	var rtp, rng, rnw, mtp, mng, mnw int
	var disagree []string
	for i, c := range cases {
		rc := rules.Parse(c.Input)
		mc := model.Parse(c.Input)
		checkSpans(t, c.Input, rc)
		checkSpans(t, c.Input, mc)
		got[i] = goldenParse{Input: c.Input, Rules: spanList(rc), Model: spanList(mc), Admin: rc.Admin, Issues: rc.Issues}
		a, b, d := spanF1(got[i].Rules, c.Spans)
		rtp, rng, rnw = rtp+a, rng+b, rnw+d
		if a != b || a != d {
			disagree = append(disagree, fmt.Sprintf("%s:%d [%s] %s\n\twant  %v\n\trules %v", c.File, c.Line, c.Rule, c.Input, c.Spans, got[i].Rules))
		}
		a, b, d = spanF1(got[i].Model, c.Spans)
		mtp, mng, mnw = mtp+a, mng+b, mnw+d
	}
	f1 := func(tp, ng, nw int) float64 { return 2 * float64(tp) / float64(ng+nw) }
	t.Logf("%d cases; span F1 against the annotation: rules %.4f, model %.4f; %d cases where the rules differ from it",
		len(cases), f1(rtp, rng, rnw), f1(mtp, mng, mnw), len(disagree))
	if os.Getenv("MARKETGEO_EVAL_DUMP") != "" {
		for _, d := range disagree {
			t.Log(d)
		}
	}
	// floors from the first run (rules 0.9836, model 0.9630), less a margin;
	// the cases the rules miss (附N号, 4社, 1.5公里, 500M …) are known gaps
	if v := f1(rtp, rng, rnw); v < 0.97 {
		t.Errorf("rules' span F1 %.4f < 0.97 (MARKETGEO_EVAL_DUMP=1 lists the cases)", v)
	}
	if v := f1(mtp, mng, mnw); v < 0.95 {
		t.Errorf("model's span F1 %.4f < 0.95", v)
	}

	golden := filepath.Join("testdata", "golden", "parse.json")
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", golden)
		return
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./addressmatch -run TestParseGolden -update)", err)
	}
	var want []goldenParse
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	if len(want) != len(got) {
		t.Fatalf("%s has %d cases, the table %d: regenerate with -update", golden, len(want), len(got))
	}
	// compare decoded: re-decode what we got so both sides went through JSON
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var gotDec []goldenParse
	if err := json.Unmarshal(gb, &gotDec); err != nil {
		t.Fatal(err)
	}
	diffs := 0
	for i := range want {
		if !reflect.DeepEqual(want[i], gotDec[i]) {
			diffs++
			if diffs <= 20 {
				w, _ := json.Marshal(want[i])
				g, _ := json.Marshal(gotDec[i])
				t.Errorf("%s:%d %s\n\tgolden %s\n\tgot    %s", cases[i].File, cases[i].Line, cases[i].Input, w, g)
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d cases differ from %s; if the change is intended: go test ./addressmatch -run TestParseGolden -update", diffs, len(want), golden)
	}
}
