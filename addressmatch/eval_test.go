package addressmatch

import (
	"bufio"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The development data is CC BY-NC (CCKS2021/GeoGLUE) and lives outside the
// repository, next to it in ../shared. It is read here, never copied.
var devDir = filepath.Join("..", "..", "shared", "data", "address-dev")

// Floors just under the figures measured on the dev sample, so that a
// regression fails the test instead of slipping by.
const (
	parseMicroF1Floor   = 0.905
	compareMacroF1Floor = 0.670
)

type parseDevRecord struct {
	ID    string          `json:"id"`
	Text  string          `json:"text"`
	Spans [][]interface{} `json:"spans"`
}

type matchDevRecord struct {
	QID         string `json:"qid"`
	A, B, Label string
}

// devFold splits the dev queries deterministically into two halves (by the
// first byte of sha1(qid)) so that a rule tuned on one half can be checked on
// the other.
func devFold(qid string) int {
	h := sha1.Sum([]byte(qid))
	return int(h[0] & 1)
}

func readJSONL[T any](t *testing.T, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join(devDir, name))
	if err != nil {
		if os.IsNotExist(err) {
			t.Skipf("dev data %s not present: %v", name, err)
		}
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type prf struct{ tp, fp, fn int }

func (c prf) f1() float64 {
	if c.tp == 0 {
		return 0
	}
	p := float64(c.tp) / float64(c.tp+c.fp)
	r := float64(c.tp) / float64(c.tp+c.fn)
	return 2 * p * r / (p + r)
}

func TestEvalParseDev(t *testing.T) {
	recs := readJSONL[parseDevRecord](t, "parse_dev.jsonl")
	p := testParser(t)
	total := prf{}
	per := map[string]*prf{}
	get := func(l string) *prf {
		if per[l] == nil {
			per[l] = &prf{}
		}
		return per[l]
	}
	dump := os.Getenv("MARKETGEO_EVAL_DUMP") != ""
	dumpFold := os.Getenv("MARKETGEO_EVAL_FOLD") // "0" or "1": dump only that fold
	var folds [2]prf
	var foldPer [2]map[string]*prf
	foldPer[0], foldPer[1] = map[string]*prf{}, map[string]*prf{}
	fget := func(f int, l string) *prf {
		if foldPer[f][l] == nil {
			foldPer[f][l] = &prf{}
		}
		return foldPer[f][l]
	}
	for _, r := range recs {
		fold := devFold(r.ID)
		gold := map[string]bool{}
		for _, s := range r.Spans {
			k := fmt.Sprintf("%s|%v|%v", s[0], s[2], s[3])
			gold[k] = true
		}
		c := p.Parse(r.Text)
		pred := map[string]bool{}
		for _, s := range c.Spans {
			pred[fmt.Sprintf("%s|%d|%d", s.Label, s.Start, s.End)] = true
		}
		bad := false
		for k := range pred {
			l := k[:indexByte(k, '|')]
			if gold[k] {
				total.tp++
				folds[fold].tp++
				get(l).tp++
				fget(fold, l).tp++
			} else {
				total.fp++
				folds[fold].fp++
				get(l).fp++
				fget(fold, l).fp++
				bad = true
			}
		}
		for k := range gold {
			if !pred[k] {
				l := k[:indexByte(k, '|')]
				total.fn++
				folds[fold].fn++
				get(l).fn++
				fget(fold, l).fn++
				bad = true
			}
		}
		if dump && bad && (dumpFold == "" || dumpFold == fmt.Sprint(fold)) {
			var g, q string
			for _, s := range r.Spans {
				g += fmt.Sprintf(" %v:%v", s[0], s[1])
			}
			for _, s := range c.Spans {
				q += fmt.Sprintf(" %s:%s", s.Label, s.Text)
			}
			t.Logf("%s\n  gold:%s\n  pred:%s", r.Text, g, q)
		}
	}
	labels := make([]string, 0, len(per))
	for l := range per {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		c := per[l]
		t.Logf("parse %-14s F1=%.3f (tp=%d fp=%d fn=%d)  fold0 %.3f fold1 %.3f", l, c.f1(), c.tp, c.fp, c.fn,
			fget(0, l).f1(), fget(1, l).f1())
	}
	for f := 0; f < 2; f++ {
		t.Logf("parse fold %d: micro-F1 = %.4f", f, folds[f].f1())
	}
	f1 := total.f1()
	t.Logf("parse micro-F1 = %.4f over %d records", f1, len(recs))
	if f1 < parseMicroF1Floor {
		t.Errorf("parse micro-F1 %.4f below floor %.4f", f1, parseMicroF1Floor)
	}
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return len(s)
}

func TestEvalCompareDev(t *testing.T) {
	recs := readJSONL[matchDevRecord](t, "match_dev.jsonl")
	p := testParser(t)
	dump := os.Getenv("MARKETGEO_EVAL_DUMP") != ""
	var folds [2]map[[2]MatchLabel]int
	conf := map[[2]MatchLabel]int{}
	folds[0], folds[1] = map[[2]MatchLabel]int{}, map[[2]MatchLabel]int{}
	for _, r := range recs {
		res := p.Compare(r.A, r.B)
		got := res.Label
		k := [2]MatchLabel{MatchLabel(r.Label), got}
		conf[k]++
		folds[devFold(r.QID)][k]++
		if dump {
			_, why := p.compareWhy(r.A, r.B)
			t.Logf("WHY %s gold=%s pred=%s", why, r.Label, got)
			mark := "  "
			if got != MatchLabel(r.Label) {
				mark = "XX"
			}
			t.Logf("%s f%d gold=%-7s pred=%-7s %-13s %.2f | %s || %s\n    A:%s\n    B:%s", mark, devFold(r.QID), r.Label, got, res.Level, res.Score,
				r.A, r.B, spansDebug(p, r.A), spansDebug(p, r.B))
		}
	}
	for f := 0; f < 2; f++ {
		m, per := macroF1(folds[f])
		t.Logf("compare fold %d: macro-F1 = %.4f (match %.3f partial %.3f none %.3f)", f, m, per[0], per[1], per[2])
	}
	macro, per := macroF1(conf)
	t.Logf("compare per class F1: match %.3f partial %.3f none %.3f", per[0], per[1], per[2])
	t.Logf("compare confusion (gold→pred): %v", conf)
	t.Logf("compare macro-F1 = %.4f over %d pairs", macro, len(recs))
	if macro < compareMacroF1Floor {
		t.Errorf("compare macro-F1 %.4f below floor %.4f", macro, compareMacroF1Floor)
	}
}

func spansDebug(p *Parser, s string) string {
	c := p.Parse(Normalize(s))
	var q string
	for _, sp := range c.Spans {
		q += fmt.Sprintf(" %s:%s", sp.Label, sp.Text)
	}
	return q
}

// macroF1 returns the macro-F1 over match/partial/none and the per-class F1.
func macroF1(conf map[[2]MatchLabel]int) (float64, [3]float64) {
	labels := []MatchLabel{Match, Partial, None}
	var per [3]float64
	macro := 0.0
	for i, l := range labels {
		var c prf
		for _, g := range labels {
			for _, q := range labels {
				n := conf[[2]MatchLabel{g, q}]
				switch {
				case g == l && q == l:
					c.tp += n
				case g == l:
					c.fn += n
				case q == l:
					c.fp += n
				}
			}
		}
		per[i] = c.f1()
		macro += c.f1() / 3
	}
	return macro, per
}
