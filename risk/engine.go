package risk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// OverrideCollection is the store collection of the manual overrides.
const OverrideCollection = "risk_overrides"

// Options configure an [Engine]. Zero values mean the defaults.
type Options struct {
	// Rules is the rule set. Default [DefaultRules].
	Rules *Rules
	// Now is the clock the rules' windows, expiries and overrides are
	// measured against. Default time.Now. Rules never read the time
	// themselves.
	Now func() time.Time
	// Recheck is how often every entity is evaluated again although
	// nothing changed (windows move with the days). Default 1 h; negative:
	// never (tests).
	Recheck time.Duration
	// Writer is the writer name of the engine's writes of the class.
	// Default "risk".
	Writer string
	// Batch is how many class writes one store commit holds. Default 2,000.
	Batch int
	// CellDeg is the side of the cells of the engine's area index in
	// degrees. Default 0.01.
	CellDeg float64
	// Warnings are the thresholds of the early warnings.
	Warnings WarningOptions
	// Logger receives the engine's failures to write a class; nil discards.
	Logger *slog.Logger
	// KeepStoredClass: the engine does not write classes into the
	// entities (their risk attribute stays the data's own rating);
	// assessments, summaries, warnings and overrides work as usual.
	KeepStoredClass bool
}

func (o Options) withDefaults() Options {
	if o.Rules == nil {
		o.Rules = DefaultRules()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Recheck == 0 {
		o.Recheck = time.Hour
	}
	if o.Writer == "" {
		o.Writer = "risk"
	}
	if o.Batch == 0 {
		o.Batch = 2000
	}
	if o.CellDeg == 0 {
		o.CellDeg = 0.01
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Warnings = o.Warnings.withDefaults()
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.Batch < 0 || o.CellDeg < 0 || o.CellDeg > 10 {
		return fmt.Errorf("%w: batch must not be negative, cell_deg in (0, 10]", ErrInvalidQuery)
	}
	return o.Warnings.Validate()
}

// entState is the engine's state of one entity.
type entState struct {
	score    float32
	fired    uint32
	computed uint8 // classRank of the computed class (0: none)
	class    uint8 // classRank of the class in force (override or computed)
	live     bool  // in the index
	loc      orb.Point
	cell     uint64
	bld      string      // building ID
	ent      *geo.Entity // the entity's latest state (nil: deleted)
}

// Engine computes every entity's risk class from the rules, its
// attributes and its department records, keeps it current from the
// change stream (entity writes through the index's Follow, record writes
// through the records collection's consumer, overrides through its own
// collection), and writes the class in force into the entity's risk
// attribute through the store, so that the map, tiles, filters and zone
// summaries read the computed class. Safe for concurrent use.
type Engine struct {
	opts  Options
	rules *Rules

	mu        sync.RWMutex
	depts     []string
	deptNo    map[string]uint16
	entNo     map[string]int32
	entIDs    []string
	recs      [][]rec
	st        []entState
	byRec     map[uint64]int32 // record ID hash → entity number
	nrecs     int
	overrides map[string]Override
	ovVersion map[string]uint64
	cells     map[uint64][]int32
	byBld     map[string][]int32 // building ID → its entities
	placeGen  uint64             // counts changes of presence or location
	areas     map[string]areaMembers

	dirty   map[int32]struct{}
	busy    bool
	idle    chan struct{} // closed when the queue empties (Sync waits on it)
	round   chan struct{} // closed after every batch (SyncEntity waits on it)
	batch   map[int32]struct{}
	wake    chan struct{}
	ix      *geo.Index
	store   *store.Store
	cancel  func()
	done    chan struct{}
	started bool
	touched map[int32]bool // entities changed while Start scans its snapshot

	econHook func(points []orb.Point, buildingIDs []string) // OnEconomyChange
	econPts  []orb.Point                                    // changes for econHook since its last call
	econBlds []string
}

// New returns an engine; give its collections to the store
// ([Engine.RecordsCollection], [Engine.OverridesCollection]) before the
// store opens, then [Engine.Start] it.
func New(opts Options) (*Engine, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	return &Engine{opts: opts, rules: opts.Rules, deptNo: map[string]uint16{}, entNo: map[string]int32{},
		byRec: map[uint64]int32{}, overrides: map[string]Override{}, ovVersion: map[string]uint64{},
		cells: map[uint64][]int32{}, byBld: map[string][]int32{}, areas: map[string]areaMembers{}, dirty: map[int32]struct{}{}, wake: make(chan struct{}, 1), idle: make(chan struct{}), round: make(chan struct{})}, nil
}

// SetOptions replaces the engine's options before Start: a caller that
// learns what its store holds only once the store is open (serve: was it
// seeded with the demo?) builds the engine first, for its collections, and
// sets the clock and KeepStoredClass then. It fails after Start.
func (e *Engine) SetOptions(opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return fmt.Errorf("%w: SetOptions after Start", ErrNotStarted)
	}
	opts = opts.withDefaults()
	e.opts, e.rules = opts, opts.Rules
	return nil
}

// Rules returns the engine's rule set.
func (e *Engine) Rules() *Rules { return e.rules }

// Now returns the engine's clock's time.
func (e *Engine) Now() time.Time { return e.opts.Now() }

// entity returns the number of an entity, adding it (under mu).
func (e *Engine) entity(id string) int32 {
	n, ok := e.entNo[id]
	if !ok {
		n = int32(len(e.entIDs))
		e.entIDs = append(e.entIDs, id)
		e.entNo[id] = n
		e.recs = append(e.recs, nil)
		e.st = append(e.st, entState{cell: math.MaxUint64})
	}
	return n
}

func (e *Engine) dept(d string) uint16 {
	n, ok := e.deptNo[d]
	if !ok {
		n = uint16(len(e.depts))
		e.depts = append(e.depts, d)
		e.deptNo[d] = n
	}
	return n
}

func (e *Engine) recordID(r *rec) string { return fmt.Sprintf("%s:%016x", e.depts[r.dept], r.idh) }

// markLocked queues an entity for evaluation (under mu).
func (e *Engine) markLocked(n int32) {
	e.dirty[n] = struct{}{}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// putRecord adds or replaces a record (under mu); it returns the entities
// to evaluate again.
func (e *Engine) putRecord(r *exchange.Record) []int32 {
	i := strings.LastIndexByte(r.ID, ':')
	if i <= 0 || len(e.depts) >= math.MaxUint16 {
		return nil
	}
	c, ok := e.rules.compact(r, e.dept(r.ID[:i]))
	if !ok {
		return nil
	}
	var touched []int32
	if old, ok := e.byRec[c.idh]; ok {
		e.dropRecord(old, c.idh)
		touched = append(touched, old)
	}
	n := e.entity(r.EntityID)
	e.recs[n] = append(e.recs[n], c)
	e.byRec[c.idh] = n
	e.nrecs++
	return append(touched, n)
}

func (e *Engine) dropRecord(n int32, idh uint64) {
	l := e.recs[n]
	for j := range l {
		if l[j].idh == idh {
			l[j] = l[len(l)-1]
			e.recs[n] = l[:len(l)-1]
			e.nrecs--
			break
		}
	}
	delete(e.byRec, idh)
}

func idHash(id string) (uint64, bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || len(id)-i-1 != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(id[i+1:], 16, 64)
	return v, err == nil
}

// recordsTee is the consumer of the records collection: the exchange's
// own consumer first (its answers of Version stand), then the engine.
type recordsTee struct {
	inner store.Consumer
	e     *Engine
}

func (t recordsTee) Load(d store.Doc) error {
	if err := t.inner.Load(d); err != nil {
		return err
	}
	r, err := decodeRecord(d.Body)
	if err != nil {
		return nil // the exchange's consumer decides what is valid
	}
	t.e.mu.Lock()
	t.e.putRecord(r)
	t.e.mu.Unlock()
	return nil
}

func (t recordsTee) Version(id string) (uint64, bool) { return t.inner.Version(id) }

func (t recordsTee) Commit(cs []store.DocChange) {
	t.inner.Commit(cs)
	t.e.commitRecords(cs)
}

func (e *Engine) commitRecords(cs []store.DocChange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range cs {
		if c.Body == nil {
			if idh, ok := idHash(c.ID); ok {
				if n, ok := e.byRec[idh]; ok {
					e.dropRecord(n, idh)
					e.markLocked(n)
					e.economyTouched(n)
				}
			}
			continue
		}
		r, err := decodeRecord(c.Body)
		if err != nil {
			continue
		}
		for _, n := range e.putRecord(r) {
			e.markLocked(n)
			e.economyTouched(n)
		}
	}
}

// RecordsCollection wraps the exchange's records collection
// (exchange.Exchange.Collection) so that the engine receives every stored
// record and every committed change of one as well; register the result
// in store.Options.Collections instead of the exchange's.
func (e *Engine) RecordsCollection(c store.Collection) store.Collection {
	c.Consumer = recordsTee{inner: c.Consumer, e: e}
	return c
}

// ApplyRecords gives the engine records directly (an engine without a
// store: tests, benchmarks, embedders), as if committed; a record with
// an empty Kind is a delete of its ID.
func (e *Engine) ApplyRecords(records []exchange.Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range records {
		r := &records[i]
		if r.Kind == "" {
			if idh, ok := idHash(r.ID); ok {
				if n, ok := e.byRec[idh]; ok {
					e.dropRecord(n, idh)
					e.markLocked(n)
					e.economyTouched(n)
				}
			}
			continue
		}
		for _, n := range e.putRecord(r) {
			e.markLocked(n)
			e.economyTouched(n)
		}
	}
}

// Records returns the number of records the engine holds.
func (e *Engine) Records() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.nrecs
}

// Override is a manual risk class with a reason and an expiry; while it
// holds it is the entity's class in force, and it shows as such.
type Override struct {
	// EntityID is the entity's USCC.
	EntityID string `json:"entity_id"`
	// Class is the class set.
	Class geo.Risk `json:"class"`
	// Reason says why (1–500 characters).
	Reason string `json:"reason"`
	// Expires is the last day the override holds (YYYY-MM-DD), at most
	// three years ahead.
	Expires string `json:"expires"`
	// By is who set it (the token's name); At when (RFC 3339).
	By string `json:"by,omitempty"`
	At string `json:"at,omitempty"`
}

// active reports whether the override holds on day today.
func (o Override) active(today int32) bool { return o.Class != "" && dayOf(o.Expires) >= today }

// validate checks an override against day today: the one validator.
func (o Override) validate(today int32) error {
	if err := geo.ValidateUSCC(o.EntityID); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOverride, err)
	}
	if _, err := parseClass(string(o.Class)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOverride, err)
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(o.Reason)); n == 0 || n > 500 || !utf8.ValidString(o.Reason) {
		return fmt.Errorf("%w: reason is required (1-500 characters)", ErrInvalidOverride)
	}
	d := dayOf(o.Expires)
	if d == noDate {
		return fmt.Errorf("%w: expires %q is not a date YYYY-MM-DD", ErrInvalidOverride, o.Expires)
	}
	if d < today || d > today+3*366 {
		return fmt.Errorf("%w: expires %s must be from today (%s) to three years ahead", ErrInvalidOverride, o.Expires, dayString(today))
	}
	return nil
}

// overridesConsumer keeps the overrides in memory (few).
type overridesConsumer struct{ e *Engine }

func (c overridesConsumer) Load(d store.Doc) error {
	var o Override
	if err := json.Unmarshal(d.Body, &o); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOverride, err)
	}
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	c.e.overrides[d.ID] = o
	c.e.ovVersion[d.ID] = d.Version
	return nil
}

func (c overridesConsumer) Version(id string) (uint64, bool) {
	c.e.mu.RLock()
	defer c.e.mu.RUnlock()
	v, ok := c.e.ovVersion[id]
	return v, ok
}

func (c overridesConsumer) Commit(cs []store.DocChange) {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	for _, ch := range cs {
		if ch.Body == nil {
			delete(c.e.overrides, ch.ID)
			delete(c.e.ovVersion, ch.ID)
		} else {
			var o Override
			if json.Unmarshal(ch.Body, &o) != nil {
				continue
			}
			c.e.overrides[ch.ID] = o
			c.e.ovVersion[ch.ID] = ch.Seq
		}
		if n, ok := c.e.entNo[ch.ID]; ok {
			c.e.markLocked(n)
		}
	}
}

// OverridesCollection is the collection of the manual overrides (one
// document per entity, its ID the entity's); register it in
// store.Options.Collections.
func (e *Engine) OverridesCollection() store.Collection {
	return store.Collection{Name: OverrideCollection, Consumer: overridesConsumer{e}, Validate: func(id string, body json.RawMessage) error {
		var o Override
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidOverride, err)
		}
		if o.EntityID != id {
			return fmt.Errorf("%w: document %q holds entity %q", ErrInvalidOverride, id, o.EntityID)
		}
		if _, err := parseClass(string(o.Class)); err != nil || dayOf(o.Expires) == noDate {
			return fmt.Errorf("%w: class and expires are required", ErrInvalidOverride)
		}
		return nil
	}}
}

// SetOverride stores an override (validated against the engine's clock;
// By is the writer, At now); the class in force follows at once.
func (e *Engine) SetOverride(ctx context.Context, o Override, writer string) (store.Result, error) {
	o.Reason = strings.TrimSpace(o.Reason)
	if err := o.validate(Day(e.opts.Now())); err != nil {
		return store.Result{}, err
	}
	st, err := e.writer()
	if err != nil {
		return store.Result{}, err
	}
	if _, ok := st.Index().Snapshot().Entity(o.EntityID); !ok {
		return store.Result{}, fmt.Errorf("%w: entity %s", ErrNotFound, o.EntityID)
	}
	o.By, o.At = writer, e.opts.Now().UTC().Format(time.RFC3339)
	return st.Apply(ctx, writer, []store.Write{{Layer: geo.Layer(OverrideCollection), ID: o.EntityID, Feature: o}})
}

// DeleteOverride removes an entity's override (ErrNotFound when none).
func (e *Engine) DeleteOverride(ctx context.Context, entityID, writer string) (store.Result, error) {
	st, err := e.writer()
	if err != nil {
		return store.Result{}, err
	}
	e.mu.RLock()
	_, ok := e.overrides[entityID]
	e.mu.RUnlock()
	if !ok {
		return store.Result{}, fmt.Errorf("%w: no override of %s", ErrNotFound, entityID)
	}
	return st.Apply(ctx, writer, []store.Write{{Layer: geo.Layer(OverrideCollection), ID: entityID, IfExists: true}})
}

func (e *Engine) writer() (*store.Store, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.store == nil {
		return nil, fmt.Errorf("%w: no store to write to", ErrNotStarted)
	}
	return e.store, nil
}

// cellOf returns the area-index cell of a point.
func (e *Engine) cellOf(p orb.Point) uint64 {
	x := int32(math.Floor(p[0] / e.opts.CellDeg))
	y := int32(math.Floor(p[1] / e.opts.CellDeg))
	return uint64(uint32(y))<<32 | uint64(uint32(x))
}

// placeLocked updates an entity's presence and location (under mu).
func (e *Engine) placeLocked(n int32, ent *geo.Entity) {
	s := &e.st[n]
	if e.econHook != nil && (ent == nil && s.live || ent != nil && (!s.live || s.loc != ent.Location || s.bld != ent.BuildingID)) {
		e.economyTouched(n) // where it was
		defer e.economyTouched(n)
	}
	bld := ""
	if ent == nil {
		if s.live {
			e.placeGen++
		}
		s.live = false
	} else {
		if !s.live || s.loc != ent.Location {
			e.placeGen++
		}
		s.live = true
		s.loc = ent.Location
		bld = ent.BuildingID
	}
	s.ent = ent
	if bld != s.bld {
		e.byBld[s.bld] = remove(e.byBld[s.bld], n)
		if len(e.byBld[s.bld]) == 0 {
			delete(e.byBld, s.bld)
		}
		if bld != "" {
			e.byBld[bld] = append(e.byBld[bld], n)
		}
		s.bld = bld
	}
	cell := uint64(math.MaxUint64)
	if ent != nil {
		cell = e.cellOf(ent.Location)
	}
	if cell == s.cell {
		return
	}
	if s.cell != math.MaxUint64 {
		l := remove(e.cells[s.cell], n)
		if len(l) == 0 {
			delete(e.cells, s.cell)
		} else {
			e.cells[s.cell] = l
		}
	}
	s.cell = cell
	if cell != math.MaxUint64 {
		e.cells[cell] = append(e.cells[cell], n)
	}
}

// Start follows the index (and writes classes through st; nil: compute
// only) and evaluates every entity in the background; it returns at once.
// Call it after the store opened (the records are loaded then). Close
// stops it.
func (e *Engine) Start(ix *geo.Index, st *store.Store) error {
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return fmt.Errorf("%w: started twice", ErrNotStarted)
	}
	e.started = true
	e.ix, e.store = ix, st
	e.done = make(chan struct{})
	e.touched = map[int32]bool{}
	e.mu.Unlock()
	snap, cancel := ix.Follow(e.onChange)
	e.mu.Lock()
	// every entity gets a number now: the per-entity slices at their size
	// (growing them by appending leaves up to a quarter unused at 79k)
	if n := snap.Counts().Entities - len(e.st); n > 0 {
		e.entIDs = slices.Grow(e.entIDs, n)
		e.recs = slices.Grow(e.recs, n)
		e.st = slices.Grow(e.st, n)
	}
	snap.ScanEntities(func(ent *geo.Entity) bool {
		n := e.entity(ent.ID)
		if !e.touched[n] { // a change after the snapshot placed it already
			e.placeLocked(n, ent)
		}
		e.dirty[n] = struct{}{}
		return true
	})
	e.touched = nil
	ctx, stop := context.WithCancel(context.Background())
	e.cancel = func() { cancel(); stop() }
	e.mu.Unlock()
	go e.loop(ctx)
	return nil
}

// Close stops the engine (its pending evaluations are dropped: the next
// start evaluates everything).
func (e *Engine) Close() error {
	e.mu.Lock()
	c, done := e.cancel, e.done
	e.cancel = nil
	e.mu.Unlock()
	if c != nil {
		c()
		<-done
	}
	return nil
}

// onChange receives the index's commits (under the index's writer lock:
// it only queues).
func (e *Engine) onChange(cs geo.ChangeSet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range cs.Changes {
		if c.Layer != geo.LayerEntities {
			continue
		}
		n := e.entity(c.ID)
		if e.touched != nil {
			e.touched[n] = true
		}
		ent, _ := c.New.(*geo.Entity)
		e.placeLocked(n, ent)
		e.markLocked(n)
	}
}

func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	var tick <-chan time.Time
	if e.opts.Recheck > 0 {
		t := time.NewTicker(e.opts.Recheck)
		defer t.Stop()
		tick = t.C
	}
	for {
		e.mu.Lock()
		batch := e.dirty
		e.dirty = map[int32]struct{}{}
		e.busy = len(batch) > 0
		e.batch = batch
		e.mu.Unlock()
		if len(batch) > 0 {
			ids := make([]int32, 0, len(batch))
			for n := range batch {
				ids = append(ids, n)
			}
			e.process(ctx, ids)
			e.flushEconomy()
			e.mu.Lock()
			e.busy = false
			e.batch = nil
			close(e.round)
			e.round = make(chan struct{})
			if len(e.dirty) == 0 {
				close(e.idle)
				e.idle = make(chan struct{})
			}
			e.mu.Unlock()
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-tick:
			e.mu.Lock()
			for n := range e.st {
				if e.st[n].live {
					e.dirty[int32(n)] = struct{}{}
				}
			}
			e.mu.Unlock()
		}
	}
}

// evalOne evaluates entity n (its record slice read under mu's read lock)
// and records the outcome; it returns the class in force.
func (e *Engine) evalOne(n int32, ent *geo.Entity, today int32) geo.Risk {
	e.mu.RLock()
	o := e.rules.evaluate(ent, e.recs[n], today, nil, false)
	ov, hasOv := e.overrides[ent.ID]
	e.mu.RUnlock()
	class := o.class
	if hasOv && ov.active(today) {
		class = ov.Class
	}
	e.mu.Lock()
	s := &e.st[n]
	s.score, s.fired, s.computed, s.class = float32(o.score), o.fired, uint8(classRank(o.class)), uint8(classRank(class))
	e.mu.Unlock()
	return class
}

// process evaluates entities and writes the classes that changed.
func (e *Engine) process(ctx context.Context, ids []int32) {
	snap := e.ix.Snapshot()
	today := Day(e.opts.Now())
	var writes []store.Write
	for i, n := range ids {
		if i%256 == 0 && ctx.Err() != nil {
			return
		}
		e.mu.RLock()
		id := e.entIDs[n]
		e.mu.RUnlock()
		ent, ok := snap.Entity(id)
		if !ok {
			continue
		}
		class := e.evalOne(n, ent, today)
		if e.store != nil && !e.opts.KeepStoredClass && ent.Risk != class {
			c := *ent
			c.Risk = class
			writes = append(writes, store.Write{Layer: geo.LayerEntities, ID: id, Feature: &c, IfVersion: ent.Version, IfExists: true})
		}
		if len(writes) >= e.opts.Batch {
			e.write(ctx, writes)
			writes = writes[:0]
		}
	}
	e.write(ctx, writes)
}

// write commits class writes; a batch that fails is written one by one
// (an entity changed meanwhile is evaluated again from its change).
func (e *Engine) write(ctx context.Context, ws []store.Write) {
	if len(ws) == 0 {
		return
	}
	if _, err := e.store.Apply(ctx, e.opts.Writer, ws); err == nil {
		return
	}
	for _, w := range ws {
		_, err := e.store.Apply(ctx, e.opts.Writer, []store.Write{w})
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
			e.opts.Logger.Warn("risk class not written", "entity", w.ID, "err", err)
		}
	}
}

// Sync waits until every change so far is evaluated and its class
// written.
func (e *Engine) Sync(ctx context.Context) error {
	for {
		e.mu.RLock()
		idle := len(e.dirty) == 0 && !e.busy
		started, ch := e.started, e.idle
		e.mu.RUnlock()
		if !started {
			return ErrNotStarted
		}
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(50 * time.Millisecond): // the loop stopped (Close)
		}
	}
}

// Recompute evaluates every entity of the index now, in parallel, and
// writes the classes that changed (the full recomputation; the engine
// does the same incrementally). It returns the entities evaluated.
func (e *Engine) Recompute(ctx context.Context) (int, error) {
	e.mu.RLock()
	ix := e.ix
	e.mu.RUnlock()
	if ix == nil {
		return 0, ErrNotStarted
	}
	snap := ix.Snapshot()
	var ents []*geo.Entity
	snap.ScanEntities(func(x *geo.Entity) bool { ents = append(ents, x); return true })
	today := Day(e.opts.Now())
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	outs := make([][]store.Write, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(ents); i += workers {
				if i%256 == w && ctx.Err() != nil {
					return
				}
				ent := ents[i]
				e.mu.RLock()
				n, ok := e.entNo[ent.ID]
				e.mu.RUnlock()
				if !ok {
					continue
				}
				if c := e.evalOne(n, ent, today); e.store != nil && !e.opts.KeepStoredClass && c != ent.Risk {
					x := *ent
					x.Risk = c
					outs[w] = append(outs[w], store.Write{Layer: geo.LayerEntities, ID: ent.ID, Feature: &x, IfVersion: ent.Version, IfExists: true})
				}
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, ws := range outs {
		for len(ws) > 0 {
			k := min(len(ws), e.opts.Batch)
			e.write(ctx, ws[:k])
			ws = ws[k:]
		}
	}
	return len(ents), nil
}

// Assess evaluates an entity now, with its reasons and override.
func (e *Engine) Assess(id string) (Assessment, error) {
	e.mu.RLock()
	ix := e.ix
	e.mu.RUnlock()
	if ix == nil {
		return Assessment{}, ErrNotStarted
	}
	ent, ok := ix.Snapshot().Entity(id)
	if !ok {
		return Assessment{}, fmt.Errorf("%w: entity %s", ErrNotFound, id)
	}
	return e.assess(ent), nil
}

func (e *Engine) assess(ent *geo.Entity) Assessment {
	today := Day(e.opts.Now())
	e.mu.RLock()
	defer e.mu.RUnlock()
	var recs []rec
	if n, ok := e.entNo[ent.ID]; ok {
		recs = e.recs[n]
	}
	o := e.rules.evaluate(ent, recs, today, e.recordID, true)
	a := Assessment{EntityID: ent.ID, Class: o.class, Computed: o.class, Score: o.score, Reasons: o.reasons, AsOf: dayString(today), Stored: ent.Risk}
	if a.Reasons == nil {
		a.Reasons = []Reason{}
	}
	if ov, ok := e.overrides[ent.ID]; ok && ov.active(today) {
		a.Class = ov.Class
		a.Override = &ov
	}
	return a
}

// remove deletes n from l (order not kept).
func remove(l []int32, n int32) []int32 {
	for j, v := range l {
		if v == n {
			l[j] = l[len(l)-1]
			return l[:len(l)-1]
		}
	}
	return l
}

// AssessSynced waits (at most 2 s) until the engine has evaluated and
// written the entity's pending changes, then assesses it: what a writer
// sees right after its write (a record, an override).
func (e *Engine) AssessSynced(ctx context.Context, id string) (Assessment, error) {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = e.SyncEntity(c, id)
	return e.Assess(id)
}

// SyncEntity waits until the entity has no change waiting for evaluation
// (its class written where it changed).
func (e *Engine) SyncEntity(ctx context.Context, id string) error {
	for {
		e.mu.RLock()
		n, known := e.entNo[id]
		_, waiting := e.dirty[n]
		_, working := e.batch[n]
		started, ch := e.started, e.round
		e.mu.RUnlock()
		if !started {
			return ErrNotStarted
		}
		if !known || !waiting && !working {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(50 * time.Millisecond): // the loop stopped (Close)
		}
	}
}
