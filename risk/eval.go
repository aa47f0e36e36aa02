package risk

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
)

// noDate is the day number of a record without a date.
const noDate = exchange.NoDate

// rec is what the engine keeps of one record: 24 bytes, not its JSON.
type rec struct {
	idh   uint64  // the 16 hex digits of the record ID
	date  int32   // days since 1970-01-01; noDate when none
	aux   int32   // licence: expiry day (noDate: none stated); output, social insurance: employees
	val   float32 // penalty: amount (万元); tax: amount (元); output: output (万元)
	dept  uint16  // department number (the engine's table)
	kind  uint8   // kindNo
	flags uint8   // flagSevere
}

const flagSevere = 1

var kinds = exchange.Kinds()

func kindNo(k exchange.Kind) uint8 {
	for i, x := range kinds {
		if x == k {
			return uint8(i)
		}
	}
	return math.MaxUint8
}

var (
	kPenalty      = kindNo(exchange.KindPenalty)
	kComplaint    = kindNo(exchange.KindComplaint)
	kLicence      = kindNo(exchange.KindLicence)
	kAnnual       = kindNo(exchange.KindAnnualReport)
	kAbnormal     = kindNo(exchange.KindAbnormalEntry)
	kBlacklist    = kindNo(exchange.KindBlacklistEntry)
	kTax          = kindNo(exchange.KindTax)
	kOutput       = kindNo(exchange.KindOutput)
	kSocialInsure = kindNo(exchange.KindSocialInsurance)
)

func kindOf(n uint8) exchange.Kind {
	if int(n) < len(kinds) {
		return kinds[n]
	}
	return ""
}

// Day returns the day number (days since 1970-01-01) of t's calendar date.
func Day(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dayOf and dayString are the exchange's day numbers (one rule for both).
func dayOf(s string) int32 { return exchange.DayNumber(s) }

func dayString(d int32) string { return exchange.DayString(d) }

// number reads a figure: digits with an optional sign, decimal point and
// thousands separators ("1,200.50").
func number(s string) (float64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func firstField(f map[string]string, names []string) (string, bool) {
	for _, n := range names {
		if v, ok := f[n]; ok && strings.TrimSpace(v) != "" {
			return v, true
		}
	}
	return "", false
}

func firstNumber(f map[string]string, names []string) (float64, bool) {
	for _, n := range names {
		if v, ok := number(f[n]); ok {
			return v, true
		}
	}
	return 0, false
}

// compact reduces a record to what the rules and the economy read, by the
// rule set's field names; dept is the department's number.
func (rs *Rules) compact(r *exchange.Record, dept uint16) (rec, bool) {
	i := strings.LastIndexByte(r.ID, ':')
	if i <= 0 || len(r.ID)-i-1 != 16 {
		return rec{}, false
	}
	idh, err := strconv.ParseUint(r.ID[i+1:], 16, 64)
	if err != nil {
		return rec{}, false
	}
	c := rec{idh: idh, date: dayOf(r.Date), aux: noDate, dept: dept, kind: kindNo(r.Kind)}
	switch c.kind {
	case kPenalty:
		amount, ok := firstNumber(r.Fields, rs.Fields.PenaltyAmount)
		if ok {
			c.val = float32(amount)
		}
		severe := ok && rs.PenaltySeverity.SevereAmount > 0 && amount >= rs.PenaltySeverity.SevereAmount
		if m, ok := firstField(r.Fields, rs.Fields.PenaltyMeasure); ok {
			for _, w := range rs.PenaltySeverity.SevereMeasures {
				severe = severe || (w != "" && strings.Contains(m, w))
			}
		}
		if severe {
			c.flags |= flagSevere
		}
	case kLicence:
		if v, ok := firstField(r.Fields, rs.Fields.LicenceExpiry); ok {
			if d, err := exchange.ParseDate(v, nil); err == nil {
				c.aux = dayOf(d)
			}
		}
	case kTax:
		if v, ok := firstNumber(r.Fields, rs.Fields.Tax); ok {
			c.val = float32(v)
		}
	case kOutput, kSocialInsure:
		if v, ok := firstNumber(r.Fields, rs.Fields.Output); ok && c.kind == kOutput {
			c.val = float32(v)
		}
		if v, ok := firstNumber(r.Fields, rs.Fields.Employment); ok && v >= 0 && v < math.MaxInt32 {
			c.aux = int32(v)
		}
	}
	return c, true
}

// Reason is one rule that fired for an entity, with its evidence.
type Reason struct {
	// Rule is the rule's ID, Type its type.
	Rule string `json:"rule"`
	Type string `json:"type"`
	// Description is the rule's description.
	Description string `json:"description,omitempty"`
	// Points are what the rule added to the score.
	Points float64 `json:"points"`
	// Class is the least class the rule gives ("" none).
	Class geo.Risk `json:"class,omitempty"`
	// Detail says what fired in words (the industry level, the count …).
	Detail string `json:"detail"`
	// Evidence are the records that made it fire, newest first (at most
	// 20); empty when an entity attribute did (its status, a flag without
	// a record behind it).
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one record behind a reason.
type Evidence struct {
	// RecordID is the record's ID (GET /api/v1/entities/{id}/records).
	RecordID string `json:"record_id"`
	// Kind and Date are the record's.
	Kind exchange.Kind `json:"kind"`
	Date string        `json:"date,omitempty"`
	// Note is what of the record counted (a licence's expiry …).
	Note string `json:"note,omitempty"`
}

// maxEvidence caps the evidence of one reason.
const maxEvidence = 20

// liveStatus: the entity operates (licence, annual-report and idle rules
// apply to it).
func liveStatus(s geo.Status) bool {
	return s == "" || s == geo.StatusActive || s == geo.StatusOperating || s == geo.StatusSuspended
}

// reportDueBy returns the last day an entity may have been registered on
// to owe the annual report due by today: reports for year Y are due by 30
// June of Y+1.
func reportDueBy(today int32) int32 {
	t := time.Unix(int64(today)*86400, 0).UTC()
	y := t.Year() - 2
	if t.Month() >= time.July {
		y = t.Year() - 1
	}
	return Day(time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC))
}

// classByRank is the classes in rank order, lowest first: classRank and
// rankClass both read it (index 0: none).
var classByRank = [...]geo.Risk{"", geo.RiskA, geo.RiskB, geo.RiskC, geo.RiskD}

// classRank is c's place in classByRank (0 for none or an unknown class).
func classRank(c geo.Risk) int {
	for r := 1; r < len(classByRank); r++ {
		if classByRank[r] == c {
			return r
		}
	}
	return 0
}

// rankClass is the class of a classRank ("" for 0 or out of range).
func rankClass(r uint8) geo.Risk {
	if int(r) < len(classByRank) {
		return classByRank[r]
	}
	return ""
}

func maxClass(a, b geo.Risk) geo.Risk {
	if classRank(b) > classRank(a) {
		return b
	}
	return a
}

// outcome is an evaluation: score, computed class, the rules that fired
// (bit i: Rules[i]) and, when asked, the reasons.
type outcome struct {
	score   float64
	class   geo.Risk
	fired   uint32
	reasons []Reason
}

// evaluate applies the rule set to an entity and its records on day
// today. idOf formats a record's ID; reasons are built only when withReasons.
// It reads nothing else: the one evaluator (the engine, the API and
// [Rules.Evaluate] call it).
func (rs *Rules) evaluate(e *geo.Entity, recs []rec, today int32, idOf func(*rec) string, withReasons bool) outcome {
	var o outcome
	var sorted []rec // newest first, for evidence
	ev := func(pick func(*rec) bool, note func(*rec) string, max int) []Evidence {
		if !withReasons {
			return nil
		}
		if sorted == nil {
			sorted = append(make([]rec, 0, len(recs)), recs...)
			sort.Slice(sorted, func(i, j int) bool {
				if sorted[i].date != sorted[j].date {
					return sorted[i].date > sorted[j].date
				}
				return idOf(&sorted[i]) < idOf(&sorted[j])
			})
		}
		var out []Evidence
		for i := range sorted {
			r := &sorted[i]
			if !pick(r) {
				continue
			}
			x := Evidence{RecordID: idOf(r), Kind: kindOf(r.kind), Date: dayString(r.date)}
			if note != nil {
				x.Note = note(r)
			}
			out = append(out, x)
			if len(out) >= max {
				break
			}
		}
		return out
	}
	live := liveStatus(e.Status)
	inWindow := func(r *rec, days int) bool { return r.date != noDate && r.date <= today && r.date > today-int32(days) }
	for i := range rs.Rules {
		ru := &rs.Rules[i]
		fired := false
		points := ru.Points
		var detail string
		var evidence []Evidence
		switch ru.Type {
		case TypeIndustry:
			level, pts := rs.IndustryLevel(e.Industry)
			if pts > 0 {
				fired, points = true, ru.Points+pts
				detail = fmt.Sprintf("industry %s: %s risk", e.Industry, level)
			}
		case TypeStatus:
			for _, s := range ru.statuses {
				if e.Status == s {
					fired, detail = true, "status "+string(s)
				}
			}
		case TypeBlacklist, TypeAbnormalList:
			flag, k := e.Blacklisted, kBlacklist
			name := "blacklisted"
			if ru.Type == TypeAbnormalList {
				flag, k, name = e.Abnormal, kAbnormal, "in the abnormal list"
			}
			if flag {
				fired, detail = true, name
				evidence = ev(func(r *rec) bool { return r.kind == k }, nil, 1)
			}
		case TypeAnnualReportMissing:
			reg := int32(noDate)
			if !e.RegisteredAt.IsZero() {
				reg = Day(e.RegisteredAt)
			}
			if !e.AnnualReport && live && reg <= reportDueBy(today) {
				fired = true
				detail = fmt.Sprintf("no annual report for %d on record", time.Unix(int64(reportDueBy(today))*86400, 0).UTC().Year())
				evidence = ev(func(r *rec) bool { return r.kind == kAnnual }, func(*rec) string { return "latest annual report" }, 1)
			}
		case TypePenalties, TypeComplaints:
			k := kPenalty
			if ru.Type == TypeComplaints {
				k = kComplaint
			}
			pick := func(r *rec) bool {
				return r.kind == k && inWindow(r, ru.WindowDays) && (!ru.Severe || r.flags&flagSevere != 0)
			}
			n := 0
			for j := range recs {
				if pick(&recs[j]) {
					n++
				}
			}
			if n >= ru.Min {
				fired = true
				points += ru.PointsEach * float64(n)
				what := "penalties"
				if ru.Severe {
					what = "severe penalties"
				}
				if k == kComplaint {
					what = "complaints"
				}
				detail = fmt.Sprintf("%d %s in %d days", n, what, ru.WindowDays)
				evidence = ev(pick, nil, maxEvidence)
			}
		case TypeLicenceMissing, TypeLicenceExpired:
			if !live || !hasPrefix(e.Industry, ru.Industries) {
				break
			}
			has, best := false, int32(noDate)
			for j := range recs {
				if recs[j].kind == kLicence {
					has = true
					if recs[j].aux > best {
						best = recs[j].aux
					}
				}
			}
			if ru.Type == TypeLicenceMissing && !has {
				fired, detail = true, "industry "+e.Industry+" needs a licence; none on record"
			}
			if ru.Type == TypeLicenceExpired && best != noDate && best < today {
				fired, detail = true, "the latest licence expired on "+dayString(best)
				evidence = ev(func(r *rec) bool { return r.kind == kLicence && r.aux == best }, func(r *rec) string { return "expired " + dayString(r.aux) }, 1)
			}
		case TypeIdle:
			if !live {
				break
			}
			reg := int32(noDate)
			if !e.RegisteredAt.IsZero() {
				reg = Day(e.RegisteredAt)
			}
			if reg > today-int32(ru.WindowDays) {
				break // younger than the window
			}
			last := int32(noDate)
			for j := range recs {
				if recs[j].date <= today && recs[j].date > last {
					last = recs[j].date
				}
			}
			if last == noDate || last <= today-int32(ru.WindowDays) {
				fired = true
				detail = fmt.Sprintf("no record in %d days", ru.WindowDays)
				if last != noDate {
					detail = fmt.Sprintf("last record %s, none in %d days", dayString(last), ru.WindowDays)
					evidence = ev(func(r *rec) bool { return r.date == last }, func(*rec) string { return "last record" }, 1)
				}
			}
		}
		if !fired {
			continue
		}
		o.fired |= 1 << uint(i)
		o.score += points
		o.class = maxClass(o.class, ru.class)
		if withReasons {
			o.reasons = append(o.reasons, Reason{Rule: ru.ID, Type: ru.Type, Description: ru.Description, Points: points, Class: ru.class, Detail: detail, Evidence: evidence})
		}
	}
	if o.score > rs.MaxScore {
		o.score = rs.MaxScore
	}
	byScore := geo.RiskA
	switch t := rs.Thresholds; {
	case o.score >= t.D:
		byScore = geo.RiskD
	case o.score >= t.C:
		byScore = geo.RiskC
	case o.score >= t.B:
		byScore = geo.RiskB
	}
	o.class = maxClass(byScore, o.class)
	return o
}

// Evaluate applies the rule set to an entity and its records as of now:
// the computed class, score and reasons (no override). Records of other
// entities are ignored.
func (rs *Rules) Evaluate(e *geo.Entity, records []exchange.Record, now time.Time) Assessment {
	depts := map[string]uint16{}
	var names []string
	recs := make([]rec, 0, len(records))
	for i := range records {
		r := &records[i]
		if r.EntityID != e.ID {
			continue
		}
		d := r.ID[:max(0, strings.LastIndexByte(r.ID, ':'))]
		n, ok := depts[d]
		if !ok {
			n = uint16(len(names))
			depts[d] = n
			names = append(names, d)
		}
		if c, ok := rs.compact(r, n); ok {
			recs = append(recs, c)
		}
	}
	o := rs.evaluate(e, recs, Day(now), func(r *rec) string { return fmt.Sprintf("%s:%016x", names[r.dept], r.idh) }, true)
	return Assessment{EntityID: e.ID, Class: o.class, Computed: o.class, Score: o.score, Reasons: o.reasons, AsOf: dayString(Day(now))}
}

// Assessment is an entity's risk: its class, score and reasons.
type Assessment struct {
	// EntityID is the entity's USCC.
	EntityID string `json:"entity_id"`
	// Class is the class in force: the override's while one holds, else
	// the computed one. It is the class the map, tiles and filters show.
	Class geo.Risk `json:"class"`
	// Computed is the class the rules give.
	Computed geo.Risk `json:"computed_class"`
	// Score is the rules' score.
	Score float64 `json:"score"`
	// Reasons are the rules that fired, in the rule set's order.
	Reasons []Reason `json:"reasons"`
	// Override is the manual override in force, nil if none.
	Override *Override `json:"override,omitempty"`
	// AsOf is the day the rules were evaluated for (YYYY-MM-DD).
	AsOf string `json:"as_of"`
	// Stored is the class the entity carries in the index now; it differs
	// from Class only for the moment between a change and the engine's
	// write of the new class.
	Stored geo.Risk `json:"stored_class"`
}

// decodeRecord decodes a stored record document.
func decodeRecord(body []byte) (*exchange.Record, error) {
	var r exchange.Record
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
