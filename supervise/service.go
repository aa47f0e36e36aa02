package supervise

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/zoneid"
)

// The store collections of the service (docs/supervise.md).
const (
	CollSpotChecks = "spotchecks"
	CollTasks      = "tasks"
	CollTaskMarks  = "task_marks"
	CollComplaints = "complaints"
	CollIncidents  = "incidents"
	CollResources  = "resources"
)

// Service is supervision operations over a store: spot checks, tasks,
// complaints, incidents and the inspectors' inboxes. Register
// [Service.Collections] in store.Options.Collections before opening the
// store, then [Service.Attach] it. Every write goes through Store.Apply
// (durable, in the change log with the writer's name). Safe for
// concurrent use.
type Service struct {
	opts Options

	mu       sync.RWMutex
	st       *store.Store
	search   *search.Index
	geocoder zoneid.Geocoder

	spot, tasks, complaints, incidents, resources *store.DocMap
	marks                                         *markIndex
	hub                                           *hub

	writeMu sync.Mutex // read-modify-write of documents, one at a time
}

// New returns a service not yet attached to a store.
func New(opts Options) (*Service, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	s := &Service{opts: o, spot: store.NewDocMap(), tasks: store.NewDocMap(), complaints: store.NewDocMap(),
		incidents: store.NewDocMap(), resources: store.NewDocMap(), marks: newMarkIndex()}
	s.hub = newHub(o.InboxBuffer, o.InboxReplay)
	s.geocoder = o.Geocoder
	return s, nil
}

// Collections are the service's store collections, to register in
// store.Options.Collections.
func (s *Service) Collections() []store.Collection {
	valid := func(decode func([]byte) error) func(string, json.RawMessage) error {
		return func(_ string, b json.RawMessage) error { return decode(b) }
	}
	return []store.Collection{
		{Name: CollSpotChecks, Consumer: &watched{DocMap: s.spot, on: s.onSpotChecks}, Validate: valid(func(b []byte) error { var v SpotCheck; return strictDecode(b, &v) })},
		{Name: CollTasks, Consumer: &watched{DocMap: s.tasks, on: s.onTasks}, Validate: valid(func(b []byte) error { var v Task; return strictDecode(b, &v) })},
		{Name: CollTaskMarks, Consumer: s.marks, Validate: valid(func(b []byte) error { var v Mark; return strictDecode(b, &v) })},
		{Name: CollComplaints, Consumer: &watched{DocMap: s.complaints, on: s.onComplaints}, Validate: valid(func(b []byte) error { var v Complaint; return strictDecode(b, &v) })},
		{Name: CollIncidents, Consumer: &watched{DocMap: s.incidents, on: s.onIncidents}, Validate: valid(func(b []byte) error { var v Incident; return strictDecode(b, &v) })},
		{Name: CollResources, Consumer: s.resources, Validate: valid(func(b []byte) error {
			var v Resource
			if err := strictDecode(b, &v); err != nil {
				return err
			}
			return v.Validate()
		})},
	}
}

// Attach gives the service its store (opened with [Service.Collections]).
func (s *Service) Attach(st *store.Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = st
}

// SetSearch gives the service the search index complaints match entity
// names with (it may be set once built in the background).
func (s *Service) SetSearch(ix *search.Index) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.search = ix
}

func (s *Service) store() (*store.Store, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		return nil, ErrNotReady
	}
	return s.st, nil
}

// SetGeocoder gives the service the geocoder of complaint addresses (it
// may be set once the address database is built in the background).
func (s *Service) SetGeocoder(g zoneid.Geocoder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.geocoder = g
}

func (s *Service) geocoderNow() zoneid.Geocoder {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.geocoder
}

func (s *Service) searchIndex() *search.Index {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.search
}

// watched is a DocMap that also tells the service of each commit (the
// inbox events), after the map has it.
type watched struct {
	*store.DocMap
	on func(changes []store.DocChange, old func(id string) (store.Doc, bool))
}

// Commit implements store.Consumer.
func (w *watched) Commit(cs []store.DocChange) {
	olds := make(map[string]store.Doc, len(cs))
	for _, c := range cs {
		if d, ok := w.DocMap.Get(c.ID); ok {
			olds[c.ID] = d
		}
	}
	w.DocMap.Commit(cs)
	w.on(cs, func(id string) (store.Doc, bool) { d, ok := olds[id]; return d, ok })
}

// strictDecode decodes one JSON object into v, refusing unknown fields and
// trailing data.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON object", ErrInvalidRequest)
	}
	return nil
}

// newID returns a new document ID: prefix, the date, 8 hex digits.
func (s *Service) newID(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + s.opts.Now().UTC().Format("20060102") + "-" + hex.EncodeToString(b[:])
}

// getDoc decodes the document id of m into v.
func getDoc(m *store.DocMap, id, what string, v any) (uint64, error) {
	d, ok := m.Get(id)
	if !ok {
		return 0, fmt.Errorf("%w: %s %q", ErrNotFound, what, id)
	}
	if err := json.Unmarshal(d.Body, v); err != nil {
		return 0, fmt.Errorf("supervise: stored %s %q: %w", what, id, err)
	}
	return d.Version, nil
}

// apply writes ws as writer, retrying a lost race (ErrConflict) up to
// five times by calling build again.
func (s *Service) apply(ctx context.Context, writer string, build func() ([]store.Write, error)) (store.Result, error) {
	st, err := s.store()
	if err != nil {
		return store.Result{}, err
	}
	for try := 0; ; try++ {
		ws, err := build()
		if err != nil {
			return store.Result{}, err
		}
		res, err := st.Apply(ctx, writer, ws)
		if err == nil || !errors.Is(err, store.ErrConflict) || try == 4 {
			return res, err
		}
	}
}

// gridInfo is the grids of the index and their inspectors.
type gridInfo struct {
	inspector map[string]string   // grid → inspector
	grids     map[string][]string // inspector → grids (sorted)
	names     []string            // inspectors, sorted
}

// grids reads the grid zones of snap.
func (s *Service) grids(snap *geo.Snapshot) gridInfo {
	gi := gridInfo{inspector: map[string]string{}, grids: map[string][]string{}}
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer != s.opts.GridLayer {
			return true
		}
		in := z.Props["inspector"]
		gi.inspector[z.ID] = in
		if in != "" {
			gi.grids[in] = append(gi.grids[in], z.ID)
		}
		return true
	})
	for n, gs := range gi.grids {
		sort.Strings(gs)
		gi.names = append(gi.names, n)
	}
	sort.Strings(gi.names)
	return gi
}

// Inspector resolves a caller's name (a token's name, which is ASCII) to
// the inspector it is: the name itself when a grid's "inspector" property
// is that name; the inspector of the grid whose "inspector_id" property
// is the name; the inspector of the grid with that ID (a token per grid);
// else the name itself.
func (s *Service) Inspector(snap *geo.Snapshot, name string) string {
	byID := ""
	found := false
	snap.ScanZones(func(z *geo.Zone) bool {
		if z.Layer != s.opts.GridLayer {
			return true
		}
		in := z.Props["inspector"]
		switch {
		case in == name:
			byID, found = name, true
			return false
		case z.Props["inspector_id"] == name && in != "":
			byID, found = in, true
		}
		return true
	})
	if found {
		return byID
	}
	if z, ok := snap.Zone(name); ok && z.Layer == s.opts.GridLayer && z.Props["inspector"] != "" {
		return z.Props["inspector"]
	}
	return name
}

// callerInspector is Inspector on the attached store's index.
func (s *Service) callerInspector(name string) string {
	st, err := s.store()
	if err != nil {
		return name
	}
	return s.Inspector(st.Index().Snapshot(), name)
}

// now is the service's clock in UTC, to the second.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }
