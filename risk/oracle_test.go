package risk

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// The brute-force oracle: the default rule set (rules.yaml) written out
// again by hand from its text, reading the records' raw fields, with no
// code of the engine (no compact records, no day numbers).

type oracleOut struct {
	class    geo.Risk
	score    float64
	fired    []string
	evidence map[string][]string // rule → record IDs (sorted)
}

func oracleIndustry(ind string) float64 {
	table := []struct {
		p   string
		pts float64
	}{{"H62", 15}, {"H61", 8}, {"F5212", 15}, {"F522", 15}, {"F525", 15}, {"C26", 15}, {"C27", 15}, {"R901", 15},
		{"J", 8}, {"K70", 8}, {"L721", 8}, {"E", 5}, {"O80", 5}}
	best, bestLen := 0.0, -1
	for _, t := range table {
		if strings.HasPrefix(ind, t.p) && len(t.p) > bestLen {
			best, bestLen = t.pts, len(t.p)
		}
	}
	return best
}

func oracle(e geo.Entity, recs []exchange.Record, now time.Time) oracleOut {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	date := func(s string) (time.Time, bool) {
		t, err := time.Parse("2006-01-02", s)
		return t, err == nil
	}
	inWindow := func(s string, days int) bool {
		t, ok := date(s)
		return ok && !t.After(today) && t.After(today.AddDate(0, 0, -days))
	}
	live := e.Status == "" || e.Status == geo.StatusActive || e.Status == geo.StatusOperating || e.Status == geo.StatusSuspended
	needsLicence := false
	for _, p := range []string{"H62", "H61", "F5212", "F522", "F525", "R901"} {
		needsLicence = needsLicence || strings.HasPrefix(e.Industry, p)
	}
	out := oracleOut{evidence: map[string][]string{}}
	worst := geo.RiskA
	fire := func(rule string, pts float64, class geo.Risk, ev []string) {
		out.fired = append(out.fired, rule)
		out.score += pts
		if class > worst { // "A" < "B" < "C" < "D"
			worst = class
		}
		if len(ev) > 0 {
			sort.Strings(ev)
			out.evidence[rule] = ev
		}
	}
	if p := oracleIndustry(e.Industry); p > 0 {
		fire("industry_risk", p, "", nil)
	}
	if e.Status == geo.StatusRevoked {
		fire("status_revoked", 100, geo.RiskD, nil)
	}
	if e.Blacklisted {
		fire("blacklist", 100, geo.RiskD, nil)
	}
	if e.Status == geo.StatusCancelled {
		fire("status_cancelled", 30, geo.RiskB, nil)
	}
	if e.Abnormal {
		fire("abnormal_list", 25, geo.RiskB, nil)
	}
	dueYear := today.Year() - 2
	if today.Month() >= time.July {
		dueYear = today.Year() - 1
	}
	if !e.AnnualReport && live && e.RegisteredAt.Year() <= dueYear {
		fire("annual_report_missing", 15, geo.RiskB, nil)
	}
	var pens, severe, comps []string
	hasLicence := false
	var maxExpiry time.Time
	lastRecord := time.Time{}
	for _, r := range recs {
		switch r.Kind {
		case exchange.KindPenalty:
			if inWindow(r.Date, 730) {
				pens = append(pens, r.ID)
				amount, err := strconv.ParseFloat(r.Fields["罚没金额（万元）"], 64)
				m := r.Fields["处罚内容"]
				if (err == nil && amount >= 10) || strings.Contains(m, "没收") || strings.Contains(m, "吊销") || strings.Contains(m, "责令停产") || strings.Contains(m, "责令停业") || strings.Contains(m, "暂扣") {
					severe = append(severe, r.ID)
				}
			}
		case exchange.KindComplaint:
			if inWindow(r.Date, 365) {
				comps = append(comps, r.ID)
			}
		case exchange.KindLicence:
			hasLicence = true
			if t, ok := date(r.Fields["有效期至"]); ok && t.After(maxExpiry) {
				maxExpiry = t
			}
		}
		if t, ok := date(r.Date); ok && !t.After(today) && t.After(lastRecord) {
			lastRecord = t
		}
	}
	if len(severe) >= 1 {
		fire("penalty_severe", 35, geo.RiskC, severe)
	}
	if len(pens) >= 3 {
		fire("penalties_repeated", 20, geo.RiskC, slices.Clone(pens))
	}
	if len(pens) >= 1 {
		fire("penalty", 10*float64(len(pens)), geo.RiskB, slices.Clone(pens))
	}
	if len(comps) >= 3 {
		fire("complaints", 5*float64(len(comps)), geo.RiskB, comps)
	}
	if live && needsLicence && !hasLicence {
		fire("licence_missing", 20, geo.RiskB, nil)
	}
	if live && needsLicence && !maxExpiry.IsZero() && maxExpiry.Before(today) {
		fire("licence_expired", 20, geo.RiskB, nil)
	}
	twoYears := today.AddDate(0, 0, -730)
	if live && !e.RegisteredAt.After(twoYears) && !lastRecord.After(twoYears) {
		fire("idle", 5, "", nil)
	}
	if out.score > 100 {
		out.score = 100
	}
	byScore := geo.RiskA
	switch {
	case out.score >= 80:
		byScore = geo.RiskD
	case out.score >= 50:
		byScore = geo.RiskC
	case out.score >= 20:
		byScore = geo.RiskB
	}
	out.class = max(worst, byScore)
	return out
}

// Random worlds.

var testIndustries = []string{"H6210", "H6110", "F5212", "F5221", "F5251", "R9013", "I6513", "K7010", "J6620", "C2710", "L7212", "E4710", "O8040", ""}

func randUSCC(r *rand.Rand) string {
	const alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for {
		b := []byte("91500000")
		for i := 0; i < 9; i++ {
			b = append(b, alpha[r.IntN(len(alpha))])
		}
		c, err := geo.USCCCheckChar(string(b))
		if err == nil {
			return string(b) + string(c)
		}
	}
}

func randDate(r *rand.Rand, now time.Time, back, ahead int) string {
	return now.AddDate(0, 0, -back+r.IntN(back+ahead+1)).Format("2006-01-02")
}

func randEntity(r *rand.Rand, id string, now time.Time) geo.Entity {
	sts := []geo.Status{geo.StatusActive, geo.StatusActive, geo.StatusOperating, geo.StatusRevoked, geo.StatusCancelled, geo.StatusMovedOut, geo.StatusSuspended, ""}
	e := geo.Entity{ID: id, Name: "测试" + id[10:] + "有限公司", Industry: testIndustries[r.IntN(len(testIndustries))],
		Status: sts[r.IntN(len(sts))], Location: orb.Point{106.5 + r.Float64()*0.05, 29.6 + r.Float64()*0.05},
		AnnualReport: r.IntN(3) > 0, Abnormal: r.IntN(6) == 0, Blacklisted: r.IntN(15) == 0,
		RegisteredAt: now.AddDate(0, 0, -r.IntN(4000)).Truncate(24 * time.Hour)}
	e.Risk = geo.Risk(string("ABCD"[r.IntN(4)]))
	return e
}

var testKinds = []exchange.Kind{exchange.KindPenalty, exchange.KindPenalty, exchange.KindComplaint, exchange.KindComplaint, exchange.KindLicence,
	exchange.KindAnnualReport, exchange.KindTax, exchange.KindInspection, exchange.KindOutput, exchange.KindSocialInsurance, exchange.KindAbnormalEntry}

func randRecord(r *rand.Rand, entity string, key int, now time.Time) exchange.Record {
	k := testKinds[r.IntN(len(testKinds))]
	rec := exchange.Record{EntityID: entity, Dept: []string{"市场监督管理局", "税务局", "人社局"}[r.IntN(3)], Kind: k,
		Source: exchange.Source{Key: fmt.Sprintf("k%d", key)}, Match: exchange.MatchInfo{Method: "api", Confidence: 1}, Fields: map[string]string{}}
	if r.IntN(12) > 0 {
		rec.Date = randDate(r, now, 1100, 30)
	}
	switch k {
	case exchange.KindPenalty:
		if r.IntN(4) > 0 {
			rec.Fields["罚没金额（万元）"] = strconv.FormatFloat(float64(r.IntN(300))/10, 'f', 1, 64)
		}
		rec.Fields["处罚内容"] = []string{"警告", "罚款", "没收违法所得并罚款", "责令停业整顿", "罚款"}[r.IntN(5)]
	case exchange.KindLicence:
		if r.IntN(5) > 0 {
			rec.Fields["有效期至"] = randDate(r, now, 400, 400)
		}
	case exchange.KindOutput:
		rec.Fields["工业总产值（万元）"] = strconv.Itoa(r.IntN(10000))
		rec.Fields["从业人员（人）"] = strconv.Itoa(r.IntN(300))
	case exchange.KindTax:
		rec.Fields["实缴金额（元）"] = strconv.Itoa(r.IntN(100000))
	}
	rec.Seal()
	return rec
}

func firedIDs(a Assessment) []string {
	var out []string
	for _, r := range a.Reasons {
		out = append(out, r.Rule)
	}
	return out
}

// TestEvaluateAgreesWithOracle: random entities and records, evaluated
// by the rules and by the hand-written oracle, on several days (before
// and after 30 June).
func TestEvaluateAgreesWithOracle(t *testing.T) {
	rs := DefaultRules()
	r := rand.New(rand.NewPCG(18, 1))
	days := []time.Time{time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 15, 23, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}
	fires := map[string]int{}
	for i := 0; i < 4000; i++ {
		now := days[i%len(days)]
		e := randEntity(r, randUSCC(r), now)
		var recs []exchange.Record
		for j, n := 0, r.IntN(14); j < n; j++ {
			recs = append(recs, randRecord(r, e.ID, j, now))
		}
		got := rs.Evaluate(&e, recs, now)
		want := oracle(e, recs, now)
		if got.Class != want.class || got.Score != want.score || !slices.Equal(firedIDs(got), want.fired) {
			t.Fatalf("entity %d %+v\nrecords %+v\ngot %s %.1f %v\nwant %s %.1f %v", i, e, recs, got.Class, got.Score, firedIDs(got), want.class, want.score, want.fired)
		}
		for _, rsn := range got.Reasons {
			fires[rsn.Rule]++
			w, ok := want.evidence[rsn.Rule]
			if !ok {
				continue
			}
			var ev []string
			for _, x := range rsn.Evidence {
				ev = append(ev, x.RecordID)
			}
			sort.Strings(ev)
			if !slices.Equal(ev, w) {
				t.Fatalf("entity %d rule %s: evidence %v, want %v", i, rsn.Rule, ev, w)
			}
		}
	}
	// The random world must exercise every rule (else the test proves little).
	for _, ru := range rs.Rules {
		if fires[ru.ID] == 0 {
			t.Errorf("rule %s never fired in the random world", ru.ID)
		}
	}
	t.Logf("rules fired: %v", fires)
}
