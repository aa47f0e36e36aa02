package exchange

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/marketgeo/marketgeo/search"
)

// Status is the outcome of one row of an import.
type Status string

// The outcomes of a row.
const (
	StatusAttached  Status = "attached"  // stored as a record of the matched entity
	StatusUnchanged Status = "unchanged" // attached, and the same record was already stored
	StatusDuplicate Status = "duplicate" // the same record as an earlier row of this table
	StatusUnmatched Status = "unmatched" // no entity matches well enough: not attached
	StatusAmbiguous Status = "ambiguous" // two entities match nearly equally: not attached
	StatusRejected  Status = "rejected"  // the row cannot be read (a bad date, no name nor code …)
)

// The match methods.
const (
	MethodUSCC        = "uscc"
	MethodOrgCode     = "org_code"
	MethodRegNo       = "reg_no"
	MethodNameAddress = "name_address"
)

// MatchOptions are the thresholds of matching by name and address. The
// defaults were chosen on the tuning half of a generated labelled set
// (exchange/labelled_test.go); the held-back half measures them.
type MatchOptions struct {
	// MinConfidence is the confidence at or above which a name+address
	// candidate is attached. Default 0.80.
	MinConfidence float64
	// MinMargin is how far the best candidate must lead the second;
	// closer is ambiguous. Default 0.02.
	MinMargin float64
	// Candidates is how many search hits are compared. Default 8.
	Candidates int
}

// DefaultMatchOptions returns the default thresholds.
func DefaultMatchOptions() MatchOptions {
	return MatchOptions{MinConfidence: 0.80, MinMargin: 0.02, Candidates: 8}
}

func (o MatchOptions) withDefaults() MatchOptions {
	d := DefaultMatchOptions()
	if o.MinConfidence == 0 {
		o.MinConfidence = d.MinConfidence
	}
	if o.MinMargin == 0 {
		o.MinMargin = d.MinMargin
	}
	if o.Candidates == 0 {
		o.Candidates = d.Candidates
	}
	return o
}

// Validate reports thresholds that cannot work.
func (o MatchOptions) Validate() error {
	if o.MinConfidence < 0 || o.MinConfidence > 1 || o.MinMargin < 0 || o.MinMargin > 1 || o.Candidates < 0 || o.Candidates > 100 {
		return fmt.Errorf("%w: match options out of range (confidence and margin in [0, 1], candidates ≤ 100)", ErrBadMapping)
	}
	return nil
}

// Candidate is an entity a row may be about.
type Candidate struct {
	// EntityID is the entity's USCC.
	EntityID string `json:"entity_id"`
	// Name is the entity's registered name.
	Name string `json:"name"`
	// Address is the entity's address.
	Address string `json:"address,omitempty"`
	// Confidence combines the name and address scores, in [0, 1].
	Confidence float64 `json:"confidence"`
	// NameScore is the similarity of the names, in [0, 1].
	NameScore float64 `json:"name_score"`
	// AddressScore is addressmatch's comparison score, in [0, 1] (-1: the
	// row has no address).
	AddressScore float64 `json:"address_score"`
}

// Match is how one row was matched.
type Match struct {
	// Status is attached, unmatched, ambiguous or rejected (before the
	// store says whether the record is new).
	Status Status `json:"status"`
	// EntityID is the entity attached to ("" when not attached).
	EntityID string `json:"entity_id,omitempty"`
	// Method is how it was attached.
	Method string `json:"method,omitempty"`
	// Confidence is in [0, 1].
	Confidence float64 `json:"confidence"`
	// Reason says why a row is not attached, or notes a cleaned code.
	Reason string `json:"reason,omitempty"`
	// Candidates are the best candidates of a row not attached (up to 3).
	Candidates []Candidate `json:"candidates,omitempty"`
}

// Query is what a row says about its entity.
type Query struct {
	// Code is the USCC column's text (or any code column's).
	Code string
	// RegNo is the former registration number column's text.
	RegNo string
	// OrgCode is the organisation code column's text.
	OrgCode string
	// Name is the entity's name as the department wrote it.
	Name string
	// Address is its address as the department wrote it.
	Address string

	near string // an 18-character code that is no valid USCC (set by Match)
}

// Matcher attaches rows to entities of one snapshot. It is safe for
// concurrent use.
type Matcher struct {
	snap   *geo.Snapshot
	search *search.Index
	parser *addressmatch.Parser
	names  *search.NameParser
	opts   MatchOptions

	once    sync.Once
	byName  map[string][]*geo.Entity // normalised name (and former names) → entities
	byShort map[string][]*geo.Entity // short name (region prefix, legal form, brackets stripped) → entities
	byOrg   map[string][]*geo.Entity // organisation code (USCC positions 9-17) → entities
	byReg   map[string][]*geo.Entity // attrs reg_no → entities
}

// NewMatcher returns a matcher over snap. s (search), p (address
// comparison) and names (the region's name parser, which strips region
// prefixes and legal forms) may be nil: then names are matched exactly
// (after normalisation) and addresses by their normalised text.
func NewMatcher(snap *geo.Snapshot, s *search.Index, p *addressmatch.Parser, names *search.NameParser, opts MatchOptions) (*Matcher, error) {
	if snap == nil {
		return nil, fmt.Errorf("%w: NewMatcher needs a snapshot", ErrBadMapping)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if s != nil && !s.Ready() {
		s = nil
	}
	return &Matcher{snap: snap, search: s, parser: p, names: names, opts: opts.withDefaults()}, nil
}

// normName folds a name for comparison: width, case, traditional
// characters; spaces and punctuation (brackets too, their content kept)
// dropped.
func normName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range cntext.Fold(s) {
		if cntext.IsSpaceOrPunct(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (m *Matcher) build() {
	m.once.Do(func() {
		m.byName = make(map[string][]*geo.Entity, m.snap.Counts().Entities)
		m.byShort = make(map[string][]*geo.Entity, m.snap.Counts().Entities)
		m.byOrg = make(map[string][]*geo.Entity, m.snap.Counts().Entities)
		m.byReg = map[string][]*geo.Entity{}
		m.snap.ScanEntities(func(e *geo.Entity) bool {
			n := normName(e.Name)
			m.byName[n] = append(m.byName[n], e)
			sh := m.short(e.Name)
			m.byShort[sh] = append(m.byShort[sh], e)
			for _, f := range e.FormerNames {
				if fn := normName(f); fn != n {
					m.byName[fn] = append(m.byName[fn], e)
				}
				if fs := m.short(f); fs != sh {
					m.byShort[fs] = append(m.byShort[fs], e)
				}
			}
			if len(e.ID) == 18 {
				m.byOrg[e.ID[8:17]] = append(m.byOrg[e.ID[8:17]], e)
			}
			for _, k := range []string{"reg_no", "注册号"} {
				if v := e.Attrs[k]; v != "" {
					if c, kind := CleanCode(v); kind == CodeRegNo {
						m.byReg[c] = append(m.byReg[c], e)
					}
				}
			}
			return true
		})
	})
}

// Match attaches one row: by a valid USCC, else a former registration
// number or organisation code, else name and address. It never guesses:
// a row that matches nothing well enough, or two entities nearly equally,
// is not attached.
func (m *Matcher) Match(ctx context.Context, q Query) (Match, error) {
	var notes []string
	for _, code := range []string{q.Code, q.RegNo, q.OrgCode} {
		c, kind := CleanCode(code)
		switch kind {
		case CodeNone:
			continue
		case CodeUSCC:
			if _, ok := m.snap.Feature(geo.LayerEntities, c); ok {
				return Match{Status: StatusAttached, EntityID: c, Method: MethodUSCC, Confidence: 1}, nil
			}
			// a valid code of an entity that is not registered here: never
			// attached to another entity by name (a registered code one
			// character or one swap away would fail the check character:
			// this is not a typo of one)
			return Match{Status: StatusUnmatched, Reason: fmt.Sprintf("no entity with USCC %s", c)}, nil
		case CodeOrg, CodeRegNo:
			m.build()
			idx, method := m.byOrg, MethodOrgCode
			if kind == CodeRegNo {
				idx, method = m.byReg, MethodRegNo
			}
			switch es := idx[c]; len(es) {
			case 1:
				return Match{Status: StatusAttached, EntityID: es[0].ID, Method: method, Confidence: 1}, nil
			case 0:
				notes = append(notes, fmt.Sprintf("no entity with %s %s", kind, c))
			default:
				notes = append(notes, fmt.Sprintf("%d entities with %s %s", len(es), kind, c))
			}
		default:
			notes = append(notes, fmt.Sprintf("code %q is not a valid USCC, organisation code or registration number", truncate(c, 40)))
			if len(c) == 18 && q.near == "" {
				q.near = c // perhaps a typo of a registered code: evidence for the name
			}
		}
	}
	if strings.TrimSpace(q.Name) == "" {
		reason := "no valid code and no name"
		if len(notes) > 0 {
			reason = strings.Join(notes, "; ") + "; no name to match by"
		}
		return Match{Status: StatusUnmatched, Reason: reason}, nil
	}
	res, err := m.byNameAddress(ctx, q)
	if err != nil {
		return Match{}, err
	}
	if len(notes) > 0 {
		if res.Reason != "" {
			notes = append(notes, res.Reason)
		}
		res.Reason = strings.Join(notes, "; ")
	}
	return res, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// maxNameRunes bounds the names compared (edit distance is quadratic).
const maxNameRunes = 100

func (m *Matcher) byNameAddress(ctx context.Context, q Query) (Match, error) {
	list, err := m.Candidates(ctx, q)
	if err != nil {
		return Match{}, err
	}
	return m.opts.Decide(list), nil
}

// Candidates returns the entities a row may be about by its name and
// address, best first, each with its confidence: the exact (normalised)
// name and former names, and, unless an exact name is confirmed by the
// address, the search's hits.
func (m *Matcher) Candidates(ctx context.Context, q Query) ([]Candidate, error) {
	m.build()
	raw := truncate(q.Name, maxNameRunes)
	row := m.nameOf(raw)
	addr := strings.TrimSpace(truncate(q.Address, 200))
	cands := map[string]*Candidate{}
	add := func(e *geo.Entity) {
		if _, ok := cands[e.ID]; ok {
			return
		}
		c := m.score(e, row, addr, q.near)
		cands[e.ID] = &c
	}
	for _, e := range m.byName[row.full] {
		add(e)
	}
	for _, e := range m.byShort[row.short] {
		add(e)
	}
	sure := false
	for _, c := range cands {
		if c.NameScore >= nameShort && c.AddressScore >= 0.7 {
			sure = true
		}
	}
	if !sure && m.search != nil && row.full != "" {
		hits, err := m.search.Search(ctx, search.Query{Text: truncate(q.Name, maxNameRunes), Layers: []geo.Layer{geo.LayerEntities}, Limit: m.opts.Candidates})
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, h := range hits {
			if v, ok := m.snap.Feature(geo.LayerEntities, h.ID); ok { // the matcher's snapshot, not the search's view
				add(v.(*geo.Entity))
			}
		}
	}
	list := make([]Candidate, 0, len(cands))
	for _, c := range cands {
		list = append(list, *c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Confidence != list[j].Confidence {
			return list[i].Confidence > list[j].Confidence
		}
		return list[i].EntityID < list[j].EntityID
	})
	return list, nil
}

// Decide applies the thresholds to a row's candidates (best first): the
// best is attached when its confidence reaches MinConfidence and it leads
// the second by MinMargin; else the row is unmatched or ambiguous, with
// its three best candidates.
func (o MatchOptions) Decide(list []Candidate) Match {
	o = o.withDefaults()
	top := list[:min(3, len(list))]
	if len(list) == 0 || list[0].Confidence < o.MinConfidence {
		reason := "no entity with a similar name"
		if len(list) > 0 {
			reason = fmt.Sprintf("best candidate %s at confidence %.2f, below %.2f", list[0].EntityID, list[0].Confidence, o.MinConfidence)
		}
		return Match{Status: StatusUnmatched, Reason: reason, Candidates: top}
	}
	if len(list) > 1 && list[0].Confidence-list[1].Confidence < o.MinMargin {
		return Match{Status: StatusAmbiguous, Reason: fmt.Sprintf("%s and %s match nearly equally (%.2f, %.2f)", list[0].EntityID, list[1].EntityID, list[0].Confidence, list[1].Confidence), Candidates: top}
	}
	return Match{Status: StatusAttached, EntityID: list[0].EntityID, Method: MethodNameAddress, Confidence: round3(list[0].Confidence)}
}

func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// short is a name's short form (region prefix, legal form, branch suffix
// and brackets stripped), normalised; the whole name without a name parser.
func (m *Matcher) short(name string) string {
	if m.names == nil {
		return normName(name)
	}
	return normName(m.names.Parse(name).Short)
}

// aName is a name normalised three ways: whole, short, and the region
// prefix before the short name (市, 新区 and 区 dropped: 重庆 and 重庆市 are
// one prefix, 渝北区 and 江北区 two).
type aName struct {
	full, short, region string
}

func (m *Matcher) nameOf(name string) aName {
	n := aName{full: normName(name), short: m.short(name)}
	if i := strings.Index(n.full, n.short); i > 0 {
		n.region = n.full[:i]
	}
	n.region = strings.NewReplacer("市", "", "新区", "", "区", "").Replace(n.region)
	return n
}

// The name evidence: the base confidence of a name relation, before the
// address moves it.
const (
	nameExact       = 0.92 // the whole name, normalised
	nameShort       = 0.88 // the short name and the region prefix (another legal form, 重庆 for 重庆市, brackets)
	nameShortRegion = 0.76 // the short name under another region prefix (重庆两江X, 渝北区X for 江北区X): often two entities
	nameOneEdit     = 0.74 // one character different
	nameTwoEdits    = 0.55 // two characters different
)

// score compares a row's name and address with an entity: the name's
// evidence, raised by an agreeing address, lowered by a disagreeing one,
// unchanged without an address. A row whose code (not a valid USCC) is one
// character or one swap from the entity's USCC, with a name at most two
// characters apart, is as sure as an exact name with an agreeing address.
func (m *Matcher) score(e *geo.Entity, row aName, addr, near string) Candidate {
	ns := nameEvidence(row, m.nameOf(e.Name))
	for _, f := range e.FormerNames {
		if s := nameEvidence(row, m.nameOf(f)); s > ns {
			ns = s
		}
	}
	as := -1.0
	if addr != "" {
		as = 0
		if e.Address != "" {
			if m.parser != nil {
				as = m.parser.Compare(addr, e.Address).Score
			} else if normName(addr) == normName(e.Address) {
				as = 1
			}
		}
	}
	conf := ns
	if ns > 0 && as >= 0 {
		conf += addressShift(ns, as)
	}
	if ns > 0 && near != "" && oneCharApart(near, e.ID) {
		conf = max(conf, nameExact+addressShift(nameExact, 1))
	}
	conf = min(1, max(0, conf))
	return Candidate{EntityID: e.ID, Name: e.Name, Address: e.Address, Confidence: round3(conf), NameScore: round3(ns), AddressScore: round3(as)}
}

// oneCharApart says whether two codes of equal length differ in one
// character or by two adjacent characters swapped.
func oneCharApart(a, b string) bool {
	if len(a) != len(b) || a == b {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if a[i+1:] == b[i+1:] {
		return true
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// addressShift is how an address comparison score moves a name's
// evidence: an agreeing address (≥ 0.7, addressmatch's "match") raises it,
// a partial one (same road or compound) barely, a disagreeing one lowers
// it; the whole registered name, or the short name under the same region
// prefix, survives a disagreeing address (the entity moved) at the
// default threshold.
func addressShift(name, addr float64) float64 {
	switch {
	case name == nameExact:
		return [3]float64{0.08, 0.03, -0.04}[addrClass(addr)]
	case name == nameShort:
		return [3]float64{0.10, 0.02, -0.08}[addrClass(addr)]
	case name == nameShortRegion:
		return [3]float64{0.10, 0.02, -0.12}[addrClass(addr)]
	}
	return [3]float64{0.20, 0.02, -0.12}[addrClass(addr)]
}

func addrClass(s float64) int {
	switch {
	case s >= 0.7:
		return 0
	case s >= 0.35:
		return 1
	}
	return 2
}

// nameEvidence grades the relation of two names: exact, short-exact
// (under the same region prefix or another), one or two characters apart
// (in the whole or the short names), or none.
func nameEvidence(a, b aName) float64 {
	switch {
	case a.full == b.full:
		return nameExact
	case a.short == b.short && a.short != "":
		if a.region == b.region {
			return nameShort
		}
		return nameShortRegion
	}
	d := min(editDistance(a.full, b.full, 2), editDistance(a.short, b.short, 2))
	switch d {
	case 1:
		return nameOneEdit
	case 2:
		return nameTwoEdits
	}
	return 0
}

// editDistance is cntext.EditDistance, but names shorter than four
// characters must be equal (one character of three is a different name).
func editDistance(a, b string, max int) int {
	if utf8.RuneCountInString(a) < 4 || utf8.RuneCountInString(b) < 4 {
		if a == b {
			return 0
		}
		return max + 1
	}
	return cntext.EditDistance(a, b, max)
}
