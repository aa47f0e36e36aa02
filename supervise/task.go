package supervise

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
)

// TaskRequest asks for a special supervision task (专项任务).
type TaskRequest struct {
	Title string `json:"title"`
	// Kind is the task's kind (inspection by default; an inspection's
	// results are recorded as inspection records).
	Kind string `json:"kind,omitempty"`
	// Target is a zone, a filter or a list of entities (one of them).
	Target TaskTarget `json:"target"`
	// Deadline is the last day, YYYY-MM-DD.
	Deadline string `json:"deadline"`
}

// TaskTarget says which entities a task covers.
type TaskTarget struct {
	Zone     string   `json:"zone,omitempty"`
	Filter   *Filter  `json:"filter,omitempty"`
	Entities []string `json:"entities,omitempty"`
}

// Task is a stored task, split by grid.
type Task struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Kind      string     `json:"kind"`
	Target    TaskTarget `json:"target"`
	Deadline  string     `json:"deadline"`
	Parts     []TaskPart `json:"parts"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	Version   uint64     `json:"version,omitempty"`
}

// TaskPart is the part of a task in one grid, assigned to its inspector.
// The part of entities in no grid has Grid "" and no inspector.
type TaskPart struct {
	Grid      string   `json:"grid"`
	Inspector string   `json:"inspector,omitempty"`
	Entities  []string `json:"entities"`
}

// Mark is an entity of a task marked done (collection task_marks, ID
// task + "/" + entity).
type Mark struct {
	Task     string      `json:"task"`
	EntityID string      `json:"entity_id"`
	Grid     string      `json:"grid"`
	Result   string      `json:"result"`
	Notes    string      `json:"notes,omitempty"`
	Location *[2]float64 `json:"location,omitempty"`
	By       string      `json:"by"`
	At       time.Time   `json:"at"`
	Record   string      `json:"record,omitempty"`
}

func (r *TaskRequest) validate(maxEntities int) error {
	if err := checkText("title", r.Title, maxNameRunes, true); err != nil {
		return err
	}
	if err := checkText("kind", r.Kind, 40, false); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, r.Deadline); err != nil {
		return invalid("deadline", "%q is not a date YYYY-MM-DD", r.Deadline)
	}
	n := 0
	if r.Target.Zone != "" {
		n++
	}
	if r.Target.Filter != nil {
		n++
	}
	if len(r.Target.Entities) > 0 {
		n++
	}
	if n != 1 {
		return invalid("target", "give exactly one of zone, filter and entities")
	}
	if len(r.Target.Entities) > maxEntities {
		return invalid("target.entities", "%d entities, at most %d", len(r.Target.Entities), maxEntities)
	}
	for i, id := range r.Target.Entities {
		if err := geo.ValidateUSCC(id); err != nil {
			return invalid(fmt.Sprintf("target.entities[%d]", i), "%v", err)
		}
	}
	return nil
}

// SplitByGrid splits entities by their grid, each part sorted by entity
// ID, the parts by grid ID (the part of entities in no grid first), each
// with its grid's inspector. Entities missing from snap are reported.
func SplitByGrid(snap *geo.Snapshot, inspectors map[string]string, ids []string) (parts []TaskPart, missing []string) {
	byGrid := map[string][]string{}
	for _, id := range ids {
		e, ok := snap.Entity(id)
		if !ok {
			missing = append(missing, id)
			continue
		}
		byGrid[e.GridID] = append(byGrid[e.GridID], id)
	}
	grids := make([]string, 0, len(byGrid))
	for g := range byGrid {
		grids = append(grids, g)
	}
	sort.Strings(grids)
	for _, g := range grids {
		es := byGrid[g]
		slices.Sort(es)
		parts = append(parts, TaskPart{Grid: g, Inspector: inspectors[g], Entities: slices.Compact(es)})
	}
	return parts, missing
}

// CreateTask resolves a task's target, splits it by grid and stores it.
func (s *Service) CreateTask(ctx context.Context, writer string, req TaskRequest) (*Task, error) {
	if err := req.validate(s.opts.MaxTaskEntities); err != nil {
		return nil, err
	}
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	t, err := s.splitTask(ctx, st.Index().Snapshot(), req)
	if err != nil {
		return nil, err
	}
	t.ID = s.newID("T")
	t.CreatedBy, t.CreatedAt = writer, s.now()
	res, err := s.apply(ctx, writer, func() ([]store.Write, error) {
		return []store.Write{{Layer: CollTasks, ID: t.ID, Feature: t, IfAbsent: true}}, nil
	})
	if err != nil {
		return nil, err
	}
	t.Version = res.Versions[0]
	return t, nil
}

// SplitTask validates req, resolves its target on snap and splits it by
// grid without storing it (no ID, no stamps).
func (s *Service) SplitTask(ctx context.Context, snap *geo.Snapshot, req TaskRequest) (*Task, error) {
	if err := req.validate(s.opts.MaxTaskEntities); err != nil {
		return nil, err
	}
	return s.splitTask(ctx, snap, req)
}

// splitTask resolves the target on snap and splits it (no ID, no stamps).
func (s *Service) splitTask(ctx context.Context, snap *geo.Snapshot, req TaskRequest) (*Task, error) {
	var ids []string
	switch {
	case len(req.Target.Entities) > 0:
		ids = req.Target.Entities
	default:
		f := Filter{Zone: req.Target.Zone}
		if req.Target.Filter != nil {
			f = *req.Target.Filter
		}
		cands, err := s.candidates(ctx, snap, f)
		if err != nil {
			return nil, err
		}
		if len(cands) > s.opts.MaxTaskEntities {
			return nil, invalid("target", "%d entities, at most %d in one task", len(cands), s.opts.MaxTaskEntities)
		}
		ids = make([]string, len(cands))
		for i, c := range cands {
			ids[i] = c.ID
		}
	}
	parts, missing := SplitByGrid(snap, s.grids(snap).inspector, ids)
	if len(missing) > 0 {
		return nil, invalid("target.entities", "%d unknown entities, first %s", len(missing), missing[0])
	}
	if len(parts) == 0 {
		return nil, invalid("target", "no entity matches the target")
	}
	kind := req.Kind
	if kind == "" {
		kind = "inspection"
	}
	return &Task{Title: req.Title, Kind: kind, Target: req.Target, Deadline: req.Deadline, Parts: parts}, nil
}

// Task returns a stored task.
func (s *Service) Task(id string) (*Task, error) {
	var t Task
	v, err := getDoc(s.tasks, id, "task", &t)
	if err != nil {
		return nil, err
	}
	t.Version = v
	return &t, nil
}

// MarkDone records an entity of a task as done with its result (and, for
// an inspection task, an inspection record in the same commit). The
// writer must be the inspector of the entity's part or the task's creator.
func (s *Service) MarkDone(ctx context.Context, writer, taskID string, req ResultRequest) (*Mark, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	t, err := s.Task(taskID)
	if err != nil {
		return nil, err
	}
	pi := slices.IndexFunc(t.Parts, func(p TaskPart) bool { _, ok := slices.BinarySearch(p.Entities, req.EntityID); return ok })
	if pi < 0 {
		return nil, invalid("entity_id", "%s is not in task %s", req.EntityID, taskID)
	}
	part := t.Parts[pi]
	who := s.callerInspector(writer)
	if writer != t.CreatedBy && who != part.Inspector {
		return nil, fmt.Errorf("%w: %q is not the inspector of grid %q of task %s (%s)", ErrForbidden, writer, part.Grid, taskID, part.Inspector)
	}
	now := s.now()
	m := &Mark{Task: taskID, EntityID: req.EntityID, Grid: part.Grid, Result: req.Result, Notes: req.Notes, Location: req.Location, By: who, At: now}
	ws := []store.Write{{Layer: CollTaskMarks, ID: taskID + "/" + req.EntityID, Feature: m}}
	if t.Kind == "inspection" {
		rec := exchange.Record{EntityID: req.EntityID, Dept: s.opts.Dept, Kind: exchange.KindInspection, Date: now.Format(time.DateOnly),
			Fields: map[string]string{"检查结果": req.Result, "专项任务": t.Title, "任务编号": taskID, "检查人员": who},
			Source: exchange.Source{File: "task", Key: "task:" + taskID + ":" + req.EntityID},
			Match:  exchange.MatchInfo{Method: "api", Confidence: 1}}
		if req.Notes != "" {
			rec.Fields["备注"] = req.Notes
		}
		rec.Seal()
		m.Record = rec.ID
		ws = append(ws, store.Write{Layer: exchange.Collection, ID: rec.ID, Feature: &rec})
	}
	if _, err := s.apply(ctx, writer, func() ([]store.Write, error) { return ws, nil }); err != nil {
		return nil, err
	}
	return m, nil
}

// Progress is a task's progress.
type Progress struct {
	Task    *Task          `json:"task"`
	Total   int            `json:"total"`
	Done    int            `json:"done"`
	Percent float64        `json:"percent"`
	Overdue bool           `json:"overdue"`
	ByGrid  []GridProgress `json:"by_grid"`
	// Results are the marks, by entity ID (at most the limit asked).
	Results []Mark `json:"results"`
}

// GridProgress is the progress of one part.
type GridProgress struct {
	Grid      string  `json:"grid"`
	Inspector string  `json:"inspector,omitempty"`
	Total     int     `json:"total"`
	Done      int     `json:"done"`
	Percent   float64 `json:"percent"`
	// Overdue: the deadline has passed with entities not done.
	Overdue bool `json:"overdue"`
}

// TaskProgress returns a task's progress by grid and up to limit results.
func (s *Service) TaskProgress(id string, limit int) (*Progress, error) {
	t, err := s.Task(id)
	if err != nil {
		return nil, err
	}
	deadline, _ := time.Parse(time.DateOnly, t.Deadline)
	late := !s.opts.Now().Before(deadline.AddDate(0, 0, 1)) // the deadline day is still in time
	marks := s.marks.of(id)
	doneBy := map[string]int{}
	for _, m := range marks {
		doneBy[m.Grid]++
	}
	p := &Progress{Task: t}
	for _, part := range t.Parts {
		g := GridProgress{Grid: part.Grid, Inspector: part.Inspector, Total: len(part.Entities), Done: doneBy[part.Grid]}
		g.Percent = pct(g.Done, g.Total)
		g.Overdue = late && g.Done < g.Total
		p.Total += g.Total
		p.Done += g.Done
		p.Overdue = p.Overdue || g.Overdue
		p.ByGrid = append(p.ByGrid, g)
	}
	p.Percent = pct(p.Done, p.Total)
	for _, m := range marks {
		if len(p.Results) >= limit {
			break
		}
		p.Results = append(p.Results, *m)
	}
	return p, nil
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(int(float64(a)*1000/float64(b)+0.5)) / 10
}

// Tasks lists the tasks (without their entities), newest first.
func (s *Service) Tasks() []TaskBrief {
	var out []TaskBrief
	for _, d := range s.tasks.All() {
		var t Task
		if json.Unmarshal(d.Body, &t) != nil {
			continue
		}
		b := TaskBrief{ID: t.ID, Title: t.Title, Kind: t.Kind, Deadline: t.Deadline, Grids: len(t.Parts), Done: len(s.marks.of(t.ID)), CreatedAt: t.CreatedAt}
		for _, p := range t.Parts {
			b.Total += len(p.Entities)
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b TaskBrief) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// TaskBrief is a task in a list.
type TaskBrief struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Kind      string    `json:"kind"`
	Deadline  string    `json:"deadline"`
	Grids     int       `json:"grids"`
	Total     int       `json:"total"`
	Done      int       `json:"done"`
	CreatedAt time.Time `json:"created_at"`
}

// markIndex is the consumer of task_marks: the marks by task and entity.
type markIndex struct {
	mu     sync.RWMutex
	byTask map[string]map[string]*Mark
	ver    map[string]uint64
}

func newMarkIndex() *markIndex {
	return &markIndex{byTask: map[string]map[string]*Mark{}, ver: map[string]uint64{}}
}

func (x *markIndex) put(id string, v uint64, body []byte) {
	var m Mark
	if json.Unmarshal(body, &m) != nil {
		return
	}
	if x.byTask[m.Task] == nil {
		x.byTask[m.Task] = map[string]*Mark{}
	}
	x.byTask[m.Task][m.EntityID] = &m
	x.ver[id] = v
}

// Load implements store.Consumer.
func (x *markIndex) Load(d store.Doc) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.put(d.ID, d.Version, d.Body)
	return nil
}

// Version implements store.Consumer.
func (x *markIndex) Version(id string) (uint64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v, ok := x.ver[id]
	return v, ok
}

// Commit implements store.Consumer.
func (x *markIndex) Commit(cs []store.DocChange) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range cs {
		if c.Body == nil {
			if task, ent, ok := strings.Cut(c.ID, "/"); ok {
				delete(x.byTask[task], ent)
			}
			delete(x.ver, c.ID)
			continue
		}
		x.put(c.ID, c.Seq, c.Body)
	}
}

// of returns a task's marks by entity ID.
func (x *markIndex) of(task string) []*Mark {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]*Mark, 0, len(x.byTask[task]))
	for _, m := range x.byTask[task] {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Mark) int { return strings.Compare(a.EntityID, b.EntityID) })
	return out
}
