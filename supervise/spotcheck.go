package supervise

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// Algorithm names the draw algorithm of draw.go; a published draw carries
// it, so a future algorithm cannot be confused with this one.
const Algorithm = "sorted-ids/splitmix64/partial-fisher-yates/v1"

// SpotCheckRequest asks for a "double random, one public" spot check.
type SpotCheckRequest struct {
	// Title names the campaign (optional).
	Title string `json:"title,omitempty"`
	// Items are the check items (检查事项); at least one.
	Items []string `json:"items"`
	// Filter selects the entities that may be drawn.
	Filter Filter `json:"filter"`
	// Sample is how many entities to draw; or Ratio, in (0, 1], of the
	// candidates (rounded up). One of the two.
	Sample int     `json:"sample,omitempty"`
	Ratio  float64 `json:"ratio,omitempty"`
	// Seed makes the draw reproducible; absent: a random seed is drawn and
	// recorded.
	Seed *uint64 `json:"seed,omitempty"`
	// InspectorsPerEntity: default 2.
	InspectorsPerEntity int `json:"inspectors_per_entity,omitempty"`
	// ExcludeOwnGrid: never the inspector of the entity's own grid.
	ExcludeOwnGrid bool `json:"exclude_own_grid,omitempty"`
	// Departments, two or more: a joint check, one inspector of each.
	Departments []string `json:"departments,omitempty"`
	// Inspectors is the pool; default every grid inspector (department
	// Options.Dept). An inspector's grids default to the grids whose
	// inspector they are.
	Inspectors []Inspector `json:"inspectors,omitempty"`
}

// SpotCheck is a stored spot check: its inputs, the draw and the results.
type SpotCheck struct {
	ID            string                 `json:"id"`
	Title         string                 `json:"title,omitempty"`
	Items         []string               `json:"items"`
	Filter        Filter                 `json:"filter"`
	Sample        int                    `json:"sample"`
	Ratio         float64                `json:"ratio,omitempty"`
	Seed          uint64                 `json:"seed"`
	Rules         DrawRules              `json:"rules"`
	Pool          []Inspector            `json:"inspectors_pool"`
	Algorithm     string                 `json:"algorithm"`
	Candidates    int                    `json:"candidates"`
	CandidatesSHA string                 `json:"candidates_sha256"`
	DataSeq       uint64                 `json:"data_seq"`
	Entities      []Drawn                `json:"entities"`
	Results       map[string]CheckResult `json:"results,omitempty"`
	CreatedBy     string                 `json:"created_by"`
	CreatedAt     time.Time              `json:"created_at"`
	Version       uint64                 `json:"version,omitempty"`
}

// CheckResult is the result of checking one entity.
type CheckResult struct {
	Result string    `json:"result"`
	Notes  string    `json:"notes,omitempty"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	// Location is where the inspector recorded it (optional).
	Location *[2]float64 `json:"location,omitempty"`
	// Record is the ID of the inspection record written.
	Record string `json:"record"`
}

// Limits of the text of requests.
const (
	maxItems     = 50
	maxTextRunes = 2000
	maxNameRunes = 100
	maxPool      = 10_000
)

func checkText(field, s string, maxRunes int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return invalid(field, "missing")
	case !utf8.ValidString(s):
		return invalid(field, "not UTF-8")
	case utf8.RuneCountInString(s) > maxRunes:
		return invalid(field, "longer than %d characters", maxRunes)
	}
	return nil
}

func (r *SpotCheckRequest) validate() error {
	if len(r.Items) == 0 || len(r.Items) > maxItems {
		return invalid("items", "1 to %d check items (检查事项) needed, got %d", maxItems, len(r.Items))
	}
	for i, it := range r.Items {
		if err := checkText(fmt.Sprintf("items[%d]", i), it, maxNameRunes, true); err != nil {
			return err
		}
	}
	if err := checkText("title", r.Title, maxNameRunes, false); err != nil {
		return err
	}
	switch {
	case r.Sample < 0:
		return invalid("sample", "%d is negative", r.Sample)
	case r.Sample > 0 && r.Ratio != 0:
		return invalid("sample", "give sample or ratio, not both")
	case r.Sample == 0 && (r.Ratio <= 0 || r.Ratio > 1 || math.IsNaN(r.Ratio)):
		return invalid("ratio", "give a sample size, or a ratio in (0, 1]")
	}
	if r.InspectorsPerEntity < 0 || r.InspectorsPerEntity > 10 {
		return invalid("inspectors_per_entity", "%d is not in 1-10", r.InspectorsPerEntity)
	}
	if len(r.Departments) > 20 {
		return invalid("departments", "at most 20")
	}
	for i, d := range r.Departments {
		if err := checkText(fmt.Sprintf("departments[%d]", i), d, 64, true); err != nil {
			return err
		}
	}
	if len(r.Inspectors) > maxPool {
		return invalid("inspectors", "at most %d", maxPool)
	}
	for i, in := range r.Inspectors {
		if err := checkText(fmt.Sprintf("inspectors[%d].name", i), in.Name, maxNameRunes, true); err != nil {
			return err
		}
		if len(r.Departments) >= 2 && !slices.Contains(r.Departments, in.Dept) {
			return invalid(fmt.Sprintf("inspectors[%d].dept", i), "%q is not one of the joint check's departments", in.Dept)
		}
	}
	return nil
}

// CreateSpotCheck draws a spot check and stores it with its inputs.
func (s *Service) CreateSpotCheck(ctx context.Context, writer string, req SpotCheckRequest) (*SpotCheck, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	snap := st.Index().Snapshot()
	seq := st.Seq()
	sc, err := s.draw(ctx, snap, req)
	if err != nil {
		return nil, err
	}
	sc.ID = s.newID("SC")
	sc.DataSeq = seq
	sc.CreatedBy, sc.CreatedAt = writer, s.now()
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) {
		return []store.Write{{Layer: CollSpotChecks, ID: sc.ID, Feature: sc, IfAbsent: true}}, nil
	})
	if err != nil {
		return nil, err
	}
	sc.Version = res.Versions[0]
	return sc, nil
}

// Draw validates req and runs its draw on snap without storing it
// (everything of the spot check but its ID, stamps and data_seq).
func (s *Service) Draw(ctx context.Context, snap *geo.Snapshot, req SpotCheckRequest) (*SpotCheck, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return s.draw(ctx, snap, req)
}

// draw runs the draw of req on snap (everything but the ID and stamps).
func (s *Service) draw(ctx context.Context, snap *geo.Snapshot, req SpotCheckRequest) (*SpotCheck, error) {
	cands, err := s.candidates(ctx, snap, req.Filter)
	if err != nil {
		return nil, err
	}
	k := req.Sample
	if k == 0 {
		k = int(math.Ceil(req.Ratio * float64(len(cands))))
	}
	if k > s.opts.MaxSample {
		return nil, invalid("sample", "%d entities, at most %d in one spot check", k, s.opts.MaxSample)
	}
	pool := req.Inspectors
	gi := s.grids(snap)
	if len(pool) == 0 {
		for _, n := range gi.names {
			pool = append(pool, Inspector{Name: n, Dept: s.opts.Dept})
		}
		if len(req.Departments) >= 2 {
			return nil, invalid("inspectors", "a joint check needs its inspector pool with each inspector's department")
		}
	}
	pool = slices.Clone(pool)
	for i := range pool {
		if len(pool[i].Grids) == 0 {
			pool[i].Grids = gi.grids[pool[i].Name]
		}
	}
	seed := uint64(0)
	if req.Seed != nil {
		seed = *req.Seed
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) >> 11 // fits a JSON number exactly (< 2^53)
	}
	rules := DrawRules{InspectorsPerEntity: req.InspectorsPerEntity, ExcludeOwnGrid: req.ExcludeOwnGrid, Departments: req.Departments}
	if rules.InspectorsPerEntity == 0 {
		rules.InspectorsPerEntity = 2
	}
	d, err := Draw(cands, k, pool, rules, seed)
	if err != nil {
		return nil, err
	}
	return &SpotCheck{Title: req.Title, Items: req.Items, Filter: req.Filter, Sample: k, Ratio: req.Ratio, Seed: seed, Rules: rules,
		Pool: pool, Algorithm: Algorithm, Candidates: d.Candidates, CandidatesSHA: d.CandidatesSHA, Entities: d.Entities}, nil
}

// SpotCheck returns a stored spot check.
func (s *Service) SpotCheck(id string) (*SpotCheck, error) {
	var sc SpotCheck
	v, err := getDoc(s.spot, id, "spot check", &sc)
	if err != nil {
		return nil, err
	}
	sc.Version = v
	return &sc, nil
}

// SpotChecks lists the stored spot checks, newest first, without their
// entities.
func (s *Service) SpotChecks() []SpotCheckBrief {
	var out []SpotCheckBrief
	for _, d := range s.spot.All() {
		var sc SpotCheck
		if json.Unmarshal(d.Body, &sc) != nil {
			continue
		}
		out = append(out, SpotCheckBrief{ID: sc.ID, Title: sc.Title, Items: sc.Items, Sample: sc.Sample, Done: len(sc.Results), CreatedAt: sc.CreatedAt})
	}
	slices.SortFunc(out, func(a, b SpotCheckBrief) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// SpotCheckBrief is a spot check in a list.
type SpotCheckBrief struct {
	ID        string    `json:"id"`
	Title     string    `json:"title,omitempty"`
	Items     []string  `json:"items"`
	Sample    int       `json:"sample"`
	Done      int       `json:"done"`
	CreatedAt time.Time `json:"created_at"`
}

// Verification is the outcome of re-running a draw.
type Verification struct {
	ID string `json:"id,omitempty"`
	// Same: the re-run drew the same entities with the same inspectors.
	Same bool `json:"same"`
	// CandidatesSame: the candidate list is the one of the draw (its
	// SHA-256); when false, the data changed since and a different draw
	// does not show a wrong one.
	CandidatesSame bool   `json:"candidates_same"`
	CandidatesThen int    `json:"candidates_then"`
	CandidatesNow  int    `json:"candidates_now"`
	Message        string `json:"message"`
	// Differences lists the first positions that differ.
	Differences []string `json:"differences,omitempty"`
}

// VerifySpotCheck re-runs a draw from its recorded inputs on the current
// data and compares. With id empty, published is the notice to verify
// (its inputs and entities, as GET …/public gives them).
func (s *Service) VerifySpotCheck(ctx context.Context, id string, published *SpotCheck) (*Verification, error) {
	var sc *SpotCheck
	if id != "" {
		var err error
		if sc, err = s.SpotCheck(id); err != nil {
			return nil, err
		}
	} else {
		if published == nil || len(published.Entities) == 0 && published.Sample == 0 {
			return nil, invalid("id", "give the id of a stored spot check, or a published notice with its inputs and entities")
		}
		sc = published
		if sc.Algorithm != "" && sc.Algorithm != Algorithm {
			return nil, invalid("algorithm", "%q is not %q", sc.Algorithm, Algorithm)
		}
	}
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	snap := st.Index().Snapshot()
	cands, err := s.candidates(ctx, snap, sc.Filter)
	if err != nil {
		return nil, err
	}
	d, err := Draw(cands, sc.Sample, sc.Pool, sc.Rules, sc.Seed)
	if err != nil {
		return nil, err
	}
	v := &Verification{ID: sc.ID, CandidatesThen: sc.Candidates, CandidatesNow: d.Candidates, CandidatesSame: d.CandidatesSHA == sc.CandidatesSHA}
	v.Differences = diffDraws(sc.Entities, d.Entities, 20)
	v.Same = len(v.Differences) == 0
	switch {
	case v.Same:
		v.Message = "the re-run draws the same entities and inspectors"
	case !v.CandidatesSame && sc.CandidatesSHA != "":
		v.Message = fmt.Sprintf("the draw differs, and so does the candidate list (%d entities then, %d now): the data changed since the draw", sc.Candidates, d.Candidates)
	default:
		v.Message = "the draw differs from the one recorded, on the same candidates: the published draw is not the one its inputs give"
	}
	return v, nil
}

func diffDraws(a, b []Drawn, most int) []string {
	var out []string
	for i := 0; i < max(len(a), len(b)) && len(out) < most; i++ {
		switch {
		case i >= len(a):
			out = append(out, fmt.Sprintf("position %d: the re-run draws %s, the record has none", i, b[i].EntityID))
		case i >= len(b):
			out = append(out, fmt.Sprintf("position %d: the record has %s, the re-run none", i, a[i].EntityID))
		case a[i].EntityID != b[i].EntityID || !slices.Equal(a[i].Inspectors, b[i].Inspectors):
			out = append(out, fmt.Sprintf("position %d: recorded %s %v, re-run %s %v", i, a[i].EntityID, a[i].Inspectors, b[i].EntityID, b[i].Inspectors))
		}
	}
	return out
}

// ResultRequest records the result of checking one entity.
type ResultRequest struct {
	EntityID string      `json:"entity_id"`
	Result   string      `json:"result"`
	Notes    string      `json:"notes,omitempty"`
	Location *[2]float64 `json:"location,omitempty"`
}

func (r *ResultRequest) validate() error {
	if err := checkText("entity_id", r.EntityID, 18, true); err != nil {
		return err
	}
	if err := checkText("result", r.Result, maxNameRunes, true); err != nil {
		return err
	}
	if err := checkText("notes", r.Notes, maxTextRunes, false); err != nil {
		return err
	}
	return validLocation(r.Location)
}

// validLocation checks an optional [lon, lat] recorded with a result.
func validLocation(l *[2]float64) error {
	if l != nil {
		if l[0] < -180 || l[0] > 180 || l[1] < -90 || l[1] > 90 || math.IsNaN(l[0]) || math.IsNaN(l[1]) {
			return invalid("location", "%v is outside [-180, 180] × [-90, 90]", *l)
		}
	}
	return nil
}

// RecordSpotCheckResult records an inspector's result for one drawn
// entity: in the spot check and, in the same commit, as an inspection
// record of the entity (exchange's records: the profile and the risk
// model see it). The writer must be one of the entity's inspectors or the
// spot check's creator.
func (s *Service) RecordSpotCheckResult(ctx context.Context, writer, id string, req ResultRequest) (*SpotCheck, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	who := s.callerInspector(writer)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var sc *SpotCheck
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) {
		var err error
		if sc, err = s.SpotCheck(id); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(sc.Entities, func(d Drawn) bool { return d.EntityID == req.EntityID })
		if i < 0 {
			return nil, invalid("entity_id", "%s was not drawn in spot check %s", req.EntityID, id)
		}
		if writer != sc.CreatedBy && !slices.Contains(sc.Entities[i].Inspectors, who) {
			return nil, fmt.Errorf("%w: %q is not an inspector of %s in spot check %s (%s)", ErrForbidden, writer, req.EntityID, id, strings.Join(sc.Entities[i].Inspectors, ", "))
		}
		now := s.now()
		rec := exchange.Record{EntityID: req.EntityID, Dept: s.opts.Dept, Kind: exchange.KindInspection, Date: now.Format(time.DateOnly),
			Fields: map[string]string{"检查结果": req.Result, "检查事项": strings.Join(sc.Items, "、"), "双随机抽查": id,
				"检查人员": strings.Join(sc.Entities[i].Inspectors, "、")},
			Source: exchange.Source{File: "spotcheck", Key: "spotcheck:" + id + ":" + req.EntityID},
			Match:  exchange.MatchInfo{Method: "api", Confidence: 1}}
		if req.Notes != "" {
			rec.Fields["备注"] = req.Notes
		}
		rec.Seal()
		if sc.Results == nil {
			sc.Results = map[string]CheckResult{}
		}
		sc.Results[req.EntityID] = CheckResult{Result: req.Result, Notes: req.Notes, By: who, At: now, Location: req.Location, Record: rec.ID}
		v := sc.Version
		sc.Version = 0
		return []store.Write{{Layer: CollSpotChecks, ID: id, Feature: sc, IfVersion: v}, {Layer: exchange.Collection, ID: rec.ID, Feature: &rec}}, nil
	})
	if err != nil {
		return nil, err
	}
	sc.Version = res.Versions[0]
	return sc, nil
}

// PublicNotice is a spot check's public notice (一公开): what was drawn,
// how, and by whom it is checked, with the inputs to re-run it.
type PublicNotice struct {
	ID            string         `json:"id"`
	Title         string         `json:"title,omitempty"`
	Items         []string       `json:"items"`
	Filter        Filter         `json:"filter"`
	Withheld      []string       `json:"withheld,omitempty"`
	Sample        int            `json:"sample"`
	Seed          uint64         `json:"seed"`
	Rules         DrawRules      `json:"rules"`
	Pool          []Inspector    `json:"inspectors_pool"`
	Algorithm     string         `json:"algorithm"`
	Candidates    int            `json:"candidates"`
	CandidatesSHA string         `json:"candidates_sha256"`
	Entities      []NoticeEntity `json:"entities"`
	CreatedAt     time.Time      `json:"created_at"`
}

// NoticeEntity is a drawn entity in a public notice.
type NoticeEntity struct {
	EntityID   string   `json:"entity_id"`
	Name       string   `json:"name,omitempty"`
	Grid       string   `json:"grid,omitempty"`
	Inspectors []string `json:"inspectors"`
	Result     string   `json:"result,omitempty"`
}

// Notice returns the public notice of a spot check. withholdRisk leaves
// the risk classes of the filter out (the public profile: risk is not a
// public field), naming them in Withheld.
func (s *Service) Notice(id string, withholdRisk bool) (*PublicNotice, error) {
	sc, err := s.SpotCheck(id)
	if err != nil {
		return nil, err
	}
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	snap := st.Index().Snapshot()
	n := &PublicNotice{ID: sc.ID, Title: sc.Title, Items: sc.Items, Filter: sc.Filter, Sample: sc.Sample, Seed: sc.Seed, Rules: sc.Rules,
		Pool: sc.Pool, Algorithm: sc.Algorithm, Candidates: sc.Candidates, CandidatesSHA: sc.CandidatesSHA, CreatedAt: sc.CreatedAt}
	if withholdRisk && len(n.Filter.Risk) > 0 {
		n.Filter.Risk = nil
		n.Withheld = []string{"filter.risk"}
	}
	for _, d := range sc.Entities {
		ne := NoticeEntity{EntityID: d.EntityID, Grid: d.Grid, Inspectors: d.Inspectors, Result: sc.Results[d.EntityID].Result}
		if e, ok := snap.Entity(d.EntityID); ok {
			ne.Name = e.Name
		}
		n.Entities = append(n.Entities, ne)
	}
	return n, nil
}

// NoticeToSpotCheck turns a public notice back into the inputs and draw
// that VerifySpotCheck compares.
func NoticeToSpotCheck(n *PublicNotice) *SpotCheck {
	sc := &SpotCheck{ID: n.ID, Title: n.Title, Items: n.Items, Filter: n.Filter, Sample: n.Sample, Seed: n.Seed, Rules: n.Rules, Pool: n.Pool,
		Algorithm: n.Algorithm, Candidates: n.Candidates, CandidatesSHA: n.CandidatesSHA}
	for _, e := range n.Entities {
		sc.Entities = append(sc.Entities, Drawn{EntityID: e.EntityID, Grid: e.Grid, Inspectors: e.Inspectors})
	}
	return sc
}
