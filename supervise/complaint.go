package supervise

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// Hotlines are the four merged hotlines and their names.
func Hotlines() map[string]string {
	return map[string]string{"12315": "市场监管投诉举报", "12365": "质量技术监督投诉举报", "12331": "食品药品投诉举报", "12358": "价格举报"}
}

// Complaint statuses, in their only order.
const (
	StatusNew      = "new"
	StatusAssigned = "assigned"
	StatusHandled  = "handled"
	StatusReplied  = "replied"
)

// nextStatus is the one allowed transition from each status.
func nextStatus(from string) string {
	switch from {
	case StatusNew:
		return StatusAssigned
	case StatusAssigned:
		return StatusHandled
	case StatusHandled:
		return StatusReplied
	}
	return ""
}

// OutsideArea is the routing answer for a location in no supervision grid.
const OutsideArea = "outside the platform's area: no supervision grid contains the location"

// ComplaintRequest is a complaint from a hotline.
type ComplaintRequest struct {
	Hotline string `json:"hotline"`
	Text    string `json:"text"`
	// Address is geocoded; or Lon/Lat give the point (WGS-84).
	Address string   `json:"address,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	// EntityName or USCC name the entity complained about (optional).
	EntityName string `json:"entity_name,omitempty"`
	USCC       string `json:"uscc,omitempty"`
	// Complainant is a contact (kept internal).
	Complainant string `json:"complainant,omitempty"`
}

// Complaint is a stored complaint.
type Complaint struct {
	ID          string      `json:"id"`
	Hotline     string      `json:"hotline"`
	Text        string      `json:"text"`
	Address     string      `json:"address,omitempty"`
	Complainant string      `json:"complainant,omitempty"`
	Location    *[2]float64 `json:"location,omitempty"`
	// Precision of the location: point, address, building, road … none.
	Precision string `json:"precision"`
	// Entity is the entity matched (by USCC or name), if any; Match says how.
	Entity     string   `json:"entity,omitempty"`
	EntityName string   `json:"entity_name,omitempty"`
	Match      string   `json:"match,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	// Grid and Inspector it is routed to ("" when not routed: Routing says why).
	Grid      string `json:"grid,omitempty"`
	Inspector string `json:"inspector,omitempty"`
	Routing   string `json:"routing"`
	Outside   bool   `json:"outside_area"`
	// DuplicateOf links a duplicate to the first complaint about the same
	// entity (or place) within the window.
	DuplicateOf string       `json:"duplicate_of,omitempty"`
	Status      string       `json:"status"`
	Log         []StatusStep `json:"log"`
	Record      string       `json:"record,omitempty"`
	CreatedBy   string       `json:"created_by"`
	CreatedAt   time.Time    `json:"created_at"`
	Version     uint64       `json:"version,omitempty"`
}

// StatusStep is one step of a complaint's (or incident's) log.
type StatusStep struct {
	Status string    `json:"status"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Note   string    `json:"note,omitempty"`
	// Inspector and Grid of an assignment.
	Inspector string `json:"inspector,omitempty"`
	Grid      string `json:"grid,omitempty"`
	// Location is where the step was recorded (an inspector's phone).
	Location *[2]float64 `json:"location,omitempty"`
}

func (r *ComplaintRequest) validate() error {
	if _, ok := Hotlines()[r.Hotline]; !ok {
		return invalid("hotline", "%q is not one of 12315, 12365, 12331, 12358", r.Hotline)
	}
	if err := checkText("text", r.Text, maxTextRunes, true); err != nil {
		return err
	}
	if err := checkText("address", r.Address, 200, false); err != nil {
		return err
	}
	if err := checkText("entity_name", r.EntityName, maxNameRunes, false); err != nil {
		return err
	}
	if err := checkText("complainant", r.Complainant, maxNameRunes, false); err != nil {
		return err
	}
	if r.USCC != "" {
		if err := geo.ValidateUSCC(r.USCC); err != nil {
			return invalid("uscc", "%v", err)
		}
	}
	if (r.Lon == nil) != (r.Lat == nil) {
		return invalid("lon", "give both lon and lat, or neither")
	}
	if r.Lon != nil {
		if r.Address != "" {
			return invalid("address", "give an address or lon/lat, not both")
		}
		if err := geo.ValidatePoint(orb.Point{*r.Lon, *r.Lat}); err != nil {
			return invalid("lon", "%v", err)
		}
	}
	if r.Lon == nil && r.Address == "" && r.USCC == "" && r.EntityName == "" {
		return invalid("address", "give an address, lon/lat, or the entity (uscc or entity_name) to locate the complaint")
	}
	return nil
}

// routable reports whether a geocode is precise enough to pick a grid.
func routable(p geo.Precision) bool {
	return p == geo.PrecisionPoint || p == geo.PrecisionAddress || p == geo.PrecisionBuilding
}

// CreateComplaint locates, matches, routes and stores a complaint. A
// routed complaint is stored assigned to its grid's inspector (its log
// shows new, then assigned); one that cannot be routed stays new with the
// reason in Routing.
func (s *Service) CreateComplaint(ctx context.Context, writer string, req ComplaintRequest) (*Complaint, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	snap := st.Index().Snapshot()
	c, err := s.route(ctx, snap, req)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c.ID = s.newID("C")
	c.CreatedBy, c.CreatedAt = writer, now
	c.Status = StatusNew
	c.Log = []StatusStep{{Status: StatusNew, By: writer, At: now}}
	if c.Inspector != "" {
		c.Status = StatusAssigned
		c.Log = append(c.Log, StatusStep{Status: StatusAssigned, By: writer, At: now, Inspector: c.Inspector, Grid: c.Grid, Note: "routed by location"})
	}
	ws := []store.Write{{Layer: CollComplaints, ID: c.ID, IfAbsent: true}}
	if c.Entity != "" {
		rec := exchange.Record{EntityID: c.Entity, Dept: s.opts.Dept, Kind: exchange.KindComplaint, Date: now.Format(time.DateOnly),
			Fields: map[string]string{"热线": c.Hotline, "投诉内容": c.Text, "投诉编号": c.ID},
			Source: exchange.Source{File: "complaint", Key: "complaint:" + c.ID}, Match: exchange.MatchInfo{Method: "api", Confidence: 1}}
		rec.Seal()
		c.Record = rec.ID
		ws = append(ws, store.Write{Layer: exchange.Collection, ID: rec.ID, Feature: &rec})
	}
	s.writeMu.Lock() // the duplicate check and the write, one complaint at a time
	defer s.writeMu.Unlock()
	c.DuplicateOf = s.duplicateOf(c)
	ws[0].Feature = c
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) { return ws, nil })
	if err != nil {
		return nil, err
	}
	c.Version = res.Versions[0]
	return c, nil
}

// RouteComplaint locates, matches and routes a complaint on snap without
// storing it (what CreateComplaint would answer, but for the ID, status
// and duplicate link).
func (s *Service) RouteComplaint(ctx context.Context, snap *geo.Snapshot, req ComplaintRequest) (*Complaint, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return s.route(ctx, snap, req)
}

// route locates the complaint, matches its entity and picks the grid
// (everything but the ID, stamps and status).
func (s *Service) route(ctx context.Context, snap *geo.Snapshot, req ComplaintRequest) (*Complaint, error) {
	c := &Complaint{Hotline: req.Hotline, Text: req.Text, Address: req.Address, Complainant: req.Complainant, Precision: string(geo.PrecisionNone)}
	// the entity
	switch {
	case req.USCC != "":
		if e, ok := snap.Entity(req.USCC); ok {
			c.Entity, c.EntityName, c.Match = e.ID, e.Name, "uscc"
		} else {
			c.Match = "no entity with USCC " + req.USCC
		}
	case req.EntityName != "":
		s.matchName(ctx, snap, req.EntityName, c)
	}
	// the location
	var p orb.Point
	gc := s.geocoderNow()
	switch {
	case req.Lon != nil:
		p, c.Precision = orb.Point{*req.Lon, *req.Lat}, string(geo.PrecisionPoint)
	case req.Address != "" && gc != nil:
		g, err := gc.Geocode(ctx, req.Address)
		if err != nil {
			return nil, fmt.Errorf("supervise: geocoding %q: %w", req.Address, err)
		}
		p, c.Precision = g.Location, string(g.Precision)
	}
	if !routable(geo.Precision(c.Precision)) && c.Entity != "" {
		// the entity's registered location is the complaint's place
		e, _ := snap.Entity(c.Entity)
		p, c.Precision = e.Location, "entity"
	}
	switch {
	case c.Precision == string(geo.PrecisionNone) && req.Address != "" && gc == nil:
		c.Routing = "not routed: no address database to locate the address (give lon/lat)"
		return c, nil
	case c.Precision == string(geo.PrecisionNone):
		c.Routing = "not routed: the address could not be located"
		return c, nil
	}
	c.Location = &[2]float64{p[0], p[1]}
	if !routable(geo.Precision(c.Precision)) && c.Precision != "entity" {
		c.Routing = fmt.Sprintf("not routed: the address is located only to %s level, too coarse to pick a grid", c.Precision)
		return c, nil
	}
	grid := snap.GridAt(p)
	if grid == "" {
		c.Outside = true
		c.Routing = OutsideArea
		return c, nil
	}
	c.Grid = grid
	if z, ok := snap.Zone(grid); ok {
		c.Inspector = z.Props["inspector"]
	}
	if c.Inspector == "" {
		c.Routing = "routed to grid " + grid + ", which has no inspector"
	} else {
		c.Routing = "routed to grid " + grid + " by the " + c.Precision + " location"
	}
	return c, nil
}

// matchName matches a named entity: an exact name match of one entity
// only (search's exact match, or an exact name among its hits), never a
// guess; otherwise the candidates are listed.
func (s *Service) matchName(ctx context.Context, snap *geo.Snapshot, name string, c *Complaint) {
	ix := s.searchIndex()
	if ix == nil || !ix.Ready() {
		c.Match = "not matched: the search index is not ready"
		return
	}
	hits, err := ix.Search(ctx, search.Query{Text: name, Layers: []geo.Layer{geo.LayerEntities}, Limit: 5})
	if err != nil {
		c.Match = "not matched: " + err.Error()
		return
	}
	var exact []string
	for _, h := range hits {
		if e, ok := snap.Entity(h.ID); ok && (e.Name == name || slices.Contains(e.FormerNames, name)) {
			exact = append(exact, e.ID)
		}
		c.Candidates = append(c.Candidates, h.ID)
	}
	if len(exact) == 1 {
		e, _ := snap.Entity(exact[0])
		c.Entity, c.EntityName, c.Match, c.Candidates = e.ID, e.Name, "name", nil
		return
	}
	if len(exact) > 1 {
		c.Match = fmt.Sprintf("not matched: %d entities have the name %q", len(exact), name)
		return
	}
	c.Match = "not matched: no entity has exactly that name"
}

// duplicateOf returns the first earlier complaint within the window about
// the same entity, or without an entity at the same place (within
// DuplicateRadiusM), "" when there is none.
func (s *Service) duplicateOf(c *Complaint) string {
	from := c.CreatedAt.Add(-s.opts.DuplicateWindow)
	best, bestAt := "", time.Time{}
	for _, d := range s.complaints.All() {
		var o Complaint
		if json.Unmarshal(d.Body, &o) != nil || o.CreatedAt.Before(from) || o.ID == c.ID {
			continue
		}
		same := false
		switch {
		case c.Entity != "":
			same = o.Entity == c.Entity
		case c.Location != nil && o.Location != nil && o.Entity == "":
			same = geo.DistanceM(orb.Point(*c.Location), orb.Point(*o.Location)) <= s.opts.DuplicateRadiusM
		}
		if same && (best == "" || o.CreatedAt.Before(bestAt) || o.CreatedAt.Equal(bestAt) && o.ID < best) {
			if o.DuplicateOf != "" {
				best, bestAt = o.DuplicateOf, o.CreatedAt
				continue
			}
			best, bestAt = o.ID, o.CreatedAt
		}
	}
	return best
}

// Complaint returns a stored complaint.
func (s *Service) Complaint(id string) (*Complaint, error) {
	var c Complaint
	v, err := getDoc(s.complaints, id, "complaint", &c)
	if err != nil {
		return nil, err
	}
	c.Version = v
	return &c, nil
}

// Complaints lists complaints, newest first, optionally of one status or
// one inspector, at most limit.
func (s *Service) Complaints(status, inspector string, limit int) []Complaint {
	var out []Complaint
	for _, d := range s.complaints.All() {
		var c Complaint
		if json.Unmarshal(d.Body, &c) != nil || status != "" && c.Status != status || inspector != "" && c.Inspector != inspector {
			continue
		}
		c.Version = d.Version
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Complaint) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// StatusRequest moves a complaint to its next status.
type StatusRequest struct {
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
	// Inspector (and Grid) to assign a new complaint to.
	Inspector string `json:"inspector,omitempty"`
	Grid      string `json:"grid,omitempty"`
	// Location is where the inspector recorded the step (optional, WGS-84
	// [lon, lat]).
	Location *[2]float64 `json:"location,omitempty"`
}

// SetComplaintStatus moves a complaint along new → assigned → handled →
// replied; any other move is ErrTransition. Assigning needs an inspector
// unless the complaint was routed to one.
func (s *Service) SetComplaintStatus(ctx context.Context, writer, id string, req StatusRequest) (*Complaint, error) {
	switch req.Status {
	case StatusNew, StatusAssigned, StatusHandled, StatusReplied:
	default:
		return nil, invalid("status", "%q is not one of new, assigned, handled, replied", req.Status)
	}
	if err := checkText("note", req.Note, maxTextRunes, false); err != nil {
		return nil, err
	}
	if err := checkText("inspector", req.Inspector, maxNameRunes, false); err != nil {
		return nil, err
	}
	if err := validLocation(req.Location); err != nil {
		return nil, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var c *Complaint
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) {
		var err error
		if c, err = s.Complaint(id); err != nil {
			return nil, err
		}
		if next := nextStatus(c.Status); req.Status != next {
			if next == "" {
				return nil, fmt.Errorf("%w: complaint %s is %s, its last status", ErrTransition, id, c.Status)
			}
			return nil, fmt.Errorf("%w: complaint %s is %s; its next status is %s, not %s", ErrTransition, id, c.Status, next, req.Status)
		}
		step := StatusStep{Status: req.Status, By: writer, At: s.now(), Note: req.Note, Location: req.Location}
		if req.Status == StatusAssigned {
			if req.Inspector == "" {
				return nil, invalid("inspector", "assigning complaint %s needs an inspector", id)
			}
			c.Inspector, c.Grid = req.Inspector, req.Grid
			step.Inspector, step.Grid = req.Inspector, req.Grid
		}
		c.Status = req.Status
		c.Log = append(c.Log, step)
		v := c.Version
		c.Version = 0
		return []store.Write{{Layer: CollComplaints, ID: id, Feature: c, IfVersion: v}}, nil
	})
	if err != nil {
		return nil, err
	}
	c.Version = res.Versions[0]
	return c, nil
}
