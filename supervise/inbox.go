package supervise

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/store"
)

// Event is an item pushed to an inspector's inbox: a complaint assigned to
// them, a part of a task, spot-check assignments, an incident in their
// grid. Seq is the store's sequence number of the commit that caused it
// (the SSE event ID: resume with Last-Event-ID).
type Event struct {
	Seq       uint64    `json:"seq"`
	Inspector string    `json:"inspector"`
	Kind      string    `json:"kind"`
	ID        string    `json:"id"`
	Summary   string    `json:"summary"`
	At        time.Time `json:"at"`
}

// Sub is a subscription to one inspector's events. Read C until it is
// closed: it closes when the subscriber falls InboxBuffer events behind
// (the client resumes from its last event) or is cancelled.
type Sub struct {
	C         <-chan Event
	c         chan Event
	inspector string
	h         *hub
}

// Close ends the subscription. Safe to call more than once.
func (s *Sub) Close() { s.h.drop(s) }

// hub fans events out to subscribers and keeps the recent ones.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*Sub]struct{}
	ring   []Event
	next   int
	full   bool
	buffer int
}

func newHub(buffer, replay int) *hub {
	return &hub{subs: map[string]map[*Sub]struct{}{}, ring: make([]Event, replay), buffer: buffer}
}

// recent returns the kept events of inspector with Seq > since, oldest first.
func (h *hub) recentLocked(inspector string, since uint64) []Event {
	var out []Event
	n := h.next
	if h.full {
		n = len(h.ring)
	}
	start := 0
	if h.full {
		start = h.next
	}
	for i := 0; i < n; i++ {
		ev := h.ring[(start+i)%len(h.ring)]
		if ev.Inspector == inspector && ev.Seq > since {
			out = append(out, ev)
		}
	}
	return out
}

func (h *hub) subscribe(inspector string, since uint64) (*Sub, []Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan Event, h.buffer)
	s := &Sub{C: c, c: c, inspector: inspector, h: h}
	if h.subs[inspector] == nil {
		h.subs[inspector] = map[*Sub]struct{}{}
	}
	h.subs[inspector][s] = struct{}{}
	var backlog []Event
	if since > 0 {
		backlog = h.recentLocked(inspector, since)
	}
	return s, backlog
}

func (h *hub) drop(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(s)
}

func (h *hub) dropLocked(s *Sub) {
	if m := h.subs[s.inspector]; m != nil {
		if _, ok := m[s]; ok {
			delete(m, s)
			close(s.c)
			if len(m) == 0 {
				delete(h.subs, s.inspector)
			}
		}
	}
}

// publish keeps ev and hands it to its inspector's subscribers without
// waiting: a subscriber whose buffer is full is ended.
func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) > 0 {
		h.ring[h.next] = ev
		h.next = (h.next + 1) % len(h.ring)
		if h.next == 0 {
			h.full = true
		}
	}
	for s := range h.subs[ev.Inspector] {
		select {
		case s.c <- ev:
		default:
			h.dropLocked(s)
		}
	}
}

// Subscribe subscribes to an inspector's events; since > 0 first returns
// the kept events after that sequence number (Last-Event-ID).
func (s *Service) Subscribe(inspector string, since uint64) (*Sub, []Event) {
	return s.hub.subscribe(inspector, since)
}

// Publish pushes an event to an inspector's inbox (the service publishes
// its own; this is for embedders and tests).
func (s *Service) Publish(ev Event) { s.hub.publish(ev) }

// Subscribers returns the number of live subscriptions.
func (s *Service) Subscribers() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	n := 0
	for _, m := range s.hub.subs {
		n += len(m)
	}
	return n
}

func (s *Service) onSpotChecks(cs []store.DocChange, old func(string) (store.Doc, bool)) {
	for _, c := range cs {
		if _, existed := old(c.ID); existed || c.Body == nil {
			continue
		}
		var sc SpotCheck
		if json.Unmarshal(c.Body, &sc) != nil {
			continue
		}
		per := map[string]int{}
		for _, d := range sc.Entities {
			for _, in := range d.Inspectors {
				per[in]++
			}
		}
		for _, in := range sortedKeys(per) {
			s.hub.publish(Event{Seq: c.Seq, Inspector: in, Kind: "spotcheck", ID: sc.ID, At: sc.CreatedAt,
				Summary: fmt.Sprintf("双随机抽查 %s：%d 户待检查", sc.ID, per[in])})
		}
	}
}

func (s *Service) onTasks(cs []store.DocChange, old func(string) (store.Doc, bool)) {
	for _, c := range cs {
		if _, existed := old(c.ID); existed || c.Body == nil {
			continue
		}
		var t Task
		if json.Unmarshal(c.Body, &t) != nil {
			continue
		}
		for _, p := range t.Parts {
			if p.Inspector != "" {
				s.hub.publish(Event{Seq: c.Seq, Inspector: p.Inspector, Kind: "task", ID: t.ID, At: t.CreatedAt,
					Summary: fmt.Sprintf("专项任务「%s」网格 %s：%d 户，截止 %s", t.Title, p.Grid, len(p.Entities), t.Deadline)})
			}
		}
	}
}

func (s *Service) onComplaints(cs []store.DocChange, old func(string) (store.Doc, bool)) {
	for _, c := range cs {
		if c.Body == nil {
			continue
		}
		var cp Complaint
		if json.Unmarshal(c.Body, &cp) != nil || cp.Inspector == "" {
			continue
		}
		if d, existed := old(c.ID); existed {
			var o Complaint
			if json.Unmarshal(d.Body, &o) == nil && o.Inspector == cp.Inspector {
				continue
			}
		}
		s.hub.publish(Event{Seq: c.Seq, Inspector: cp.Inspector, Kind: "complaint", ID: cp.ID, At: cp.CreatedAt,
			Summary: fmt.Sprintf("%s 投诉 %s：%s", cp.Hotline, cp.ID, truncRunes(cp.Text, 40))})
	}
}

func (s *Service) onIncidents(cs []store.DocChange, old func(string) (store.Doc, bool)) {
	for _, c := range cs {
		if _, existed := old(c.ID); existed || c.Body == nil {
			continue
		}
		var inc Incident
		if json.Unmarshal(c.Body, &inc) != nil {
			continue
		}
		for _, in := range inc.Inspectors {
			s.hub.publish(Event{Seq: c.Seq, Inspector: in, Kind: "incident", ID: inc.ID, At: inc.CreatedAt,
				Summary: fmt.Sprintf("突发事件 %s（%s）：影响 %d 户", inc.ID, inc.Kind, inc.Entities.Total)})
		}
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func truncRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Inbox is an inspector's queue: what is open for them now.
type Inbox struct {
	Inspector  string          `json:"inspector"`
	Grids      []string        `json:"grids"`
	Complaints []Complaint     `json:"complaints"`
	Tasks      []InboxTask     `json:"tasks"`
	SpotChecks []InboxSpot     `json:"spotchecks"`
	Incidents  []InboxIncident `json:"incidents"`
	// Events are the recent events pushed to the inspector, newest last.
	Events []Event `json:"events"`
}

// InboxTask is an inspector's part of a task.
type InboxTask struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Deadline string   `json:"deadline"`
	Grid     string   `json:"grid"`
	Total    int      `json:"total"`
	Done     int      `json:"done"`
	Overdue  bool     `json:"overdue"`
	Pending  []string `json:"pending"`
}

// InboxSpot is an inspector's entities of a spot check.
type InboxSpot struct {
	ID      string   `json:"id"`
	Title   string   `json:"title,omitempty"`
	Items   []string `json:"items"`
	Pending []string `json:"pending"`
	Done    int      `json:"done"`
}

// InboxIncident is an incident touching an inspector's grids.
type InboxIncident struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title,omitempty"`
	Center    [2]float64 `json:"center"`
	Entities  int        `json:"entities"`
	CreatedAt time.Time  `json:"created_at"`
}

// maxPending caps the entity lists of an inbox.
const maxPending = 500

// Inbox returns an inspector's open items.
func (s *Service) Inbox(inspector string) (*Inbox, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	ib := &Inbox{Inspector: inspector, Grids: s.grids(st.Index().Snapshot()).grids[inspector], Complaints: []Complaint{}, Tasks: []InboxTask{},
		SpotChecks: []InboxSpot{}, Incidents: []InboxIncident{}}
	if ib.Grids == nil {
		ib.Grids = []string{}
	}
	for _, c := range s.Complaints("", inspector, 10_000) {
		if c.Status == StatusAssigned || c.Status == StatusHandled {
			ib.Complaints = append(ib.Complaints, c)
		}
	}
	now := s.opts.Now()
	for _, d := range s.tasks.All() {
		var t Task
		if json.Unmarshal(d.Body, &t) != nil {
			continue
		}
		done := map[string]bool{}
		for _, m := range s.marks.of(t.ID) {
			done[m.EntityID] = true
		}
		deadline, _ := time.Parse(time.DateOnly, t.Deadline)
		for _, p := range t.Parts {
			if p.Inspector != inspector {
				continue
			}
			it := InboxTask{ID: t.ID, Title: t.Title, Deadline: t.Deadline, Grid: p.Grid, Total: len(p.Entities), Pending: []string{}}
			for _, e := range p.Entities {
				if done[e] {
					it.Done++
				} else if len(it.Pending) < maxPending {
					it.Pending = append(it.Pending, e)
				}
			}
			it.Overdue = it.Done < it.Total && !now.Before(deadline.AddDate(0, 0, 1))
			if it.Done < it.Total {
				ib.Tasks = append(ib.Tasks, it)
			}
		}
	}
	for _, d := range s.spot.All() {
		var sc SpotCheck
		if json.Unmarshal(d.Body, &sc) != nil {
			continue
		}
		is := InboxSpot{ID: sc.ID, Title: sc.Title, Items: sc.Items, Pending: []string{}}
		mine := false
		for _, e := range sc.Entities {
			if !slices.Contains(e.Inspectors, inspector) {
				continue
			}
			mine = true
			if _, ok := sc.Results[e.EntityID]; ok {
				is.Done++
			} else if len(is.Pending) < maxPending {
				is.Pending = append(is.Pending, e.EntityID)
			}
		}
		if mine && len(is.Pending) > 0 {
			ib.SpotChecks = append(ib.SpotChecks, is)
		}
	}
	for _, inc := range s.Incidents(1000) {
		if slices.Contains(inc.Inspectors, inspector) && now.Sub(inc.CreatedAt) < 30*24*time.Hour {
			ib.Incidents = append(ib.Incidents, InboxIncident{ID: inc.ID, Kind: inc.Kind, Title: inc.Title, Center: inc.Center, Entities: inc.Entities.Total, CreatedAt: inc.CreatedAt})
		}
	}
	s.hub.mu.Lock()
	ib.Events = s.hub.recentLocked(inspector, 0)
	s.hub.mu.Unlock()
	if ib.Events == nil {
		ib.Events = []Event{}
	}
	if len(ib.Events) > 100 {
		ib.Events = ib.Events[len(ib.Events)-100:]
	}
	return ib, nil
}
