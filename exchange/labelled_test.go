package exchange_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
)

// The labelled set: department rows generated from the demo's entities
// with the dirt departments put in them, each with the entity it is truly
// about ("" for a row of an entity that does not exist). The thresholds'
// defaults were chosen on the tuning part (seed tuneSeed, TestTuneThresholds);
// the held-back part (heldSeed, other entities, other dirt) measures them
// and is never tuned on.
const (
	tuneSeed = 17
	heldSeed = 1017
)

type labelledRow struct {
	q     exchange.Query
	truth string // the entity's USCC, "" when it does not exist
	dirt  string // what was done to the row
	code  bool   // it carries a valid code of its entity
}

var typoPool = []rune("天华达兴源通科邦泽森林禾川信程和泰盛发嘉宇峰辉联越鑫成海瑞豪杰策途润朗睿捷凯耀航域迈翔锐晟弘金银江山明德福")

func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f {
			return r + 0xFEE0
		}
		return r
	}, s)
}

// dirtyCode writes a USCC as departments do.
func dirtyCode(r *rand.Rand, c string) (string, string) {
	switch r.IntN(5) {
	case 0:
		return strings.ToLower(c), "lower"
	case 1:
		return " " + c[:6] + " " + c[6:] + " ", "spaces"
	case 2:
		return fullWidth(c), "fullwidth"
	case 3:
		return c[:8] + "-" + c[8:], "hyphen"
	}
	return c, "clean"
}

func typo(r *rand.Rand, name string, edits int) string {
	rs := []rune(name)
	for range edits {
		// not in the first two characters (the region) nor the legal form
		lo, hi := 2, len(rs)-4
		if hi <= lo {
			lo, hi = 0, len(rs)
		}
		i := lo + r.IntN(hi-lo)
		for {
			c := typoPool[r.IntN(len(typoPool))]
			if c != rs[i] {
				rs[i] = c
				break
			}
		}
	}
	return string(rs)
}

func dirtyName(r *rand.Rand, name string, former []string) (string, string) {
	switch x := r.IntN(10); {
	case x < 3:
		return name, "name exact"
	case x < 4:
		rs := []rune(name)
		i := 1 + r.IntN(len(rs)-1)
		return string(rs[:i]) + " " + string(rs[i:]), "name space"
	case x < 6:
		return typo(r, name, 1), "name typo"
	case x < 7:
		if strings.HasSuffix(name, "有限公司") && !strings.HasSuffix(name, "责任公司") && !strings.HasSuffix(name, "股份有限公司") {
			return strings.TrimSuffix(name, "有限公司") + "有限责任公司", "legal form"
		}
		return name, "name exact"
	case x < 8:
		if strings.HasPrefix(name, "重庆市") {
			return "重庆" + strings.TrimPrefix(name, "重庆市"), "prefix"
		}
		if strings.HasPrefix(name, "重庆") && !strings.HasPrefix(name, "重庆两江") {
			return "重庆市" + strings.TrimPrefix(name, "重庆"), "prefix"
		}
		return name, "name exact"
	case x < 9:
		if len(former) > 0 {
			return former[0], "former name"
		}
		return typo(r, name, 1), "name typo"
	}
	return fullWidth("（" + name + "）"), "brackets"
}

func dirtyAddress(r *rand.Rand, addr string, other string) (string, string) {
	switch x := r.IntN(10); {
	case x < 4:
		return addr, "addr exact"
	case x < 6:
		if !strings.HasPrefix(addr, "重庆") {
			return "重庆市" + addr, "addr prefix"
		}
		return strings.TrimPrefix(strings.TrimPrefix(addr, "重庆市"), "重庆"), "addr no prefix"
	case x < 7:
		return fullWidth(addr), "addr fullwidth"
	case x < 8:
		return other, "old address"
	}
	return "", "no address"
}

// genLabelled makes n rows from ds with seed.
func genLabelled(ds *demo.Dataset, n int, seed uint64) []labelledRow {
	r := rand.New(rand.NewPCG(seed, seed*7919+1))
	es := ds.Entities
	names := make(map[string]bool, len(es))
	for _, e := range es {
		names[e.Name] = true
		for _, f := range e.FormerNames {
			names[f] = true
		}
	}
	orgs := make(map[string]int, len(es))
	for _, e := range es {
		orgs[e.ID[8:17]]++
	}
	out := make([]labelledRow, 0, n)
	for len(out) < n {
		e := es[r.IntN(len(es))]
		other := es[r.IntN(len(es))].Address
		var row labelledRow
		switch x := r.IntN(100); {
		case x < 35: // a code, with dirt, and the name and address
			c, d := dirtyCode(r, e.ID)
			row = labelledRow{q: exchange.Query{Code: c, Name: e.Name, Address: e.Address}, truth: e.ID, dirt: "uscc " + d, code: true}
		case x < 40: // the organisation code only
			// (the demo draws organisation codes at random: a few are shared,
			// and then identify nothing)
			row = labelledRow{q: exchange.Query{OrgCode: e.ID[8:17], Name: e.Name}, truth: e.ID, dirt: "org code", code: orgs[e.ID[8:17]] == 1}
		case x < 45: // a mistyped code: name and address decide
			rs := []byte(e.ID)
			i := 2 + r.IntN(15)
			rs[i] = "0123456789ABCDEFGH"[r.IntN(18)]
			nm, dn := dirtyName(r, e.Name, e.FormerNames)
			ad, da := dirtyAddress(r, e.Address, other)
			row = labelledRow{q: exchange.Query{Code: string(rs), Name: nm, Address: ad}, truth: e.ID, dirt: "code typo, " + dn + ", " + da}
			if string(rs) == e.ID {
				row.code = true
			}
		case x < 90: // no code: name and address
			nm, dn := dirtyName(r, e.Name, e.FormerNames)
			ad, da := dirtyAddress(r, e.Address, other)
			row = labelledRow{q: exchange.Query{Name: nm, Address: ad}, truth: e.ID, dirt: dn + ", " + da}
		default: // an entity that does not exist: a name like a real one's, an address from elsewhere
			nm := typo(r, e.Name, 2)
			if names[nm] {
				continue
			}
			ad := other
			if r.IntN(3) == 0 {
				ad = ""
			}
			row = labelledRow{q: exchange.Query{Name: nm, Address: ad}, dirt: "does not exist"}
		}
		out = append(out, row)
	}
	return out
}

// quality is what a run of the matcher over a labelled set measured.
type quality struct {
	codeRows, codeRight        int // rows with a valid code of their entity; attached to it by code
	codeWrong                  int // attached by code to another entity
	nameRows                   int // rows of an existing entity without a valid code
	nameAttached, nameRight    int // attached by name+address; to the right entity
	nonexistent, nonexAttached int
	wrongByDirt                map[string]int
	missedByDirt               map[string]int
}

func (q quality) precision() float64 { return float64(q.nameRight) / float64(max(1, q.nameAttached)) }
func (q quality) recall() float64    { return float64(q.nameRight) / float64(max(1, q.nameRows)) }

func (q quality) String() string {
	return fmt.Sprintf("by code %d/%d exact (%d wrong); by name+address: precision %.2f%% (%d/%d), recall %.2f%% (%d/%d); nonexistent attached %d/%d",
		q.codeRight, q.codeRows, q.codeWrong, 100*q.precision(), q.nameRight, q.nameAttached, 100*q.recall(), q.nameRight, q.nameRows, q.nonexAttached, q.nonexistent)
}

func measure(rows []labelledRow, got []exchange.Match) quality {
	q := quality{wrongByDirt: map[string]int{}, missedByDirt: map[string]int{}}
	for i, row := range rows {
		m := got[i]
		byCode := m.Status == exchange.StatusAttached && m.Method != exchange.MethodNameAddress
		byName := m.Status == exchange.StatusAttached && m.Method == exchange.MethodNameAddress
		if row.code {
			q.codeRows++
			if byCode && m.EntityID == row.truth {
				q.codeRight++
			}
		}
		if byCode && m.EntityID != row.truth {
			q.codeWrong++
		}
		if row.truth == "" {
			q.nonexistent++
			if m.Status == exchange.StatusAttached {
				q.nonexAttached++
			}
		} else if !row.code {
			q.nameRows++
			if m.EntityID != row.truth {
				q.missedByDirt[row.dirt]++
			}
		}
		if byName {
			q.nameAttached++
			if m.EntityID == row.truth {
				q.nameRight++
			} else {
				q.wrongByDirt[row.dirt]++
			}
		}
	}
	return q
}

// TestMatchingQualityHeldBack measures the default thresholds on the
// held-back part of the labelled set (3,000 rows of seed heldSeed; the
// rules and thresholds were chosen on seeds tuneSeed and 4242, 3,000 rows
// each): by code 100 % exact, by name and address precision ≥ 99.5 % and
// recall ≥ 90 % (the bars; 85 % under the race detector's 600
// rows). The region is the demo's 79k entities with MARKETGEO_SLOW=1 (the
// README's figures), 20k otherwise (10k and the first 600 rows under the
// race detector). What is still lost is mostly a name with a wrong
// character and no address or an old one (see docs/exchange.md).
func TestMatchingQualityHeldBack(t *testing.T) {
	n, size := 20000, 3000
	switch {
	case os.Getenv("MARKETGEO_SLOW") != "":
		n = 0 // the demo's default size
	case raceOn:
		n, size = 10000, 600
	}
	w := newWorld(t, ":memory:", n, exchange.Options{})
	rows := genLabelled(w.ds, size, heldSeed)
	m, err := exchange.NewMatcher(w.ix.Snapshot(), w.search, w.parser, w.names, exchange.MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]exchange.Match, len(rows))
	for i, row := range rows {
		if got[i], err = m.Match(context.Background(), row.q); err != nil {
			t.Fatal(err)
		}
	}
	q := measure(rows, got)
	t.Logf("held back, %d entities, %d rows: %s", len(w.ds.Entities), len(rows), q)
	t.Logf("wrong attachments by dirt: %v", q.wrongByDirt)
	if q.codeRight != q.codeRows || q.codeWrong != 0 {
		t.Errorf("by code: %d/%d right, %d wrong; want all right", q.codeRight, q.codeRows, q.codeWrong)
	}
	if q.precision() < 0.995 {
		t.Errorf("precision by name+address %.4f < 0.995", q.precision())
	}
	if floor := map[bool]float64{false: 0.90, true: 0.85}[raceOn]; q.recall() < floor {
		t.Errorf("recall by name+address %.4f < %.2f", q.recall(), floor)
	}
}

// TestTuneThresholds (MARKETGEO_TUNE=1) sweeps the thresholds on the
// tuning part and prints precision and recall of each: the defaults are
// the setting with the best recall at precision ≥ 99.7 % there.
func TestTuneThresholds(t *testing.T) {
	if os.Getenv("MARKETGEO_TUNE") == "" {
		t.Skip("set MARKETGEO_TUNE=1 to sweep the thresholds on the tuning part")
	}
	n := 0
	if os.Getenv("MARKETGEO_TUNE") == "fast" {
		n = 20000
	}
	w := newWorld(t, ":memory:", n, exchange.Options{})
	rows := genLabelled(w.ds, 3000, tuneSeed)
	m, err := exchange.NewMatcher(w.ix.Snapshot(), w.search, w.parser, w.names, exchange.MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// the code path does not depend on the thresholds: match once, keep
	// the candidates of the rows that reach name+address
	base := make([]exchange.Match, len(rows))
	cands := make([][]exchange.Candidate, len(rows))
	for i, row := range rows {
		if base[i], err = m.Match(context.Background(), row.q); err != nil {
			t.Fatal(err)
		}
		if base[i].Method == exchange.MethodNameAddress || base[i].Status == exchange.StatusAmbiguous || (base[i].Status == exchange.StatusUnmatched && !strings.Contains(base[i].Reason, "no entity with USCC")) {
			cands[i], _ = m.Candidates(context.Background(), row.q)
		}
	}
	type res struct {
		conf, margin float64
		q            quality
	}
	var all []res
	for conf := 0.60; conf <= 0.96; conf += 0.02 {
		for margin := 0.0; margin <= 0.2; margin += 0.02 {
			o := exchange.MatchOptions{MinConfidence: conf, MinMargin: margin + 1e-9}
			got := make([]exchange.Match, len(rows))
			for i := range rows {
				got[i] = base[i]
				if cands[i] != nil {
					got[i] = o.Decide(cands[i])
				}
			}
			all = append(all, res{conf, margin, measure(rows, got)})
		}
	}
	t.Logf("at the defaults: %s", measure(rows, base))
	t.Logf("missed by dirt: %v", measure(rows, base).missedByDirt)
	for i, row := range rows {
		if b := base[i]; b.Method == exchange.MethodNameAddress && b.EntityID != row.truth {
			t.Logf("wrong: %s %q %q truth %s → %s %.3f; candidates %+v", row.dirt, row.q.Name, row.q.Address, row.truth, b.EntityID, b.Confidence, cands[i][:min(3, len(cands[i]))])
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].q.recall() > all[j].q.recall() })
	for _, r := range all {
		if r.q.precision() >= 0.997 {
			t.Logf("conf %.2f margin %.2f: %s", r.conf, r.margin, r.q)
		}
	}
}
