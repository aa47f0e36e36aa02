package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// Op is what a change did to a feature.
type Op string

// The operations of the change log.
const (
	OpPut    Op = "put"    // created or replaced
	OpDelete Op = "delete" // removed
)

// Change is one line of the change log: one feature written by one commit.
// Feature is the GeoJSON Feature of the new state, null for a delete.
type Change struct {
	Seq     uint64          `json:"seq"`
	Time    time.Time       `json:"time"`
	Layer   geo.Layer       `json:"layer"`
	ID      string          `json:"id"`
	Op      Op              `json:"op"`
	Writer  string          `json:"writer,omitempty"`
	Feature json.RawMessage `json:"feature"`
}

// Record is what a backend persists for one change: the change-log line and
// the feature's new state (*geo.Entity, *geo.Building, *geo.Place or
// *geo.Zone; a *Doc when Layer is a collection's name; nil for a delete).
type Record struct {
	Change
	Value any
}

// Backend is the durable half of a store: the embedded GeoPackage file
// ([OpenSQLite]) or a shared database. Implementations are safe for
// concurrent use; Commit is called by one writer at a time, in sequence
// order.
type Backend interface {
	// LastSeq returns the sequence number of the last committed change (0
	// for an empty store).
	LastSeq(ctx context.Context) (uint64, error)
	// Load calls fn with every stored feature (current state), in any
	// order, each a fresh value the caller keeps (it goes into the index
	// without a copy). Features are validated by the caller.
	Load(ctx context.Context, fn func(layer geo.Layer, v any) error) error
	// Commit makes the records durable, all or none: the features' new
	// state and their change-log lines, in one transaction. When it
	// returns nil, the records survive a process crash (and, with the
	// embedded backend's settings, a power loss).
	Commit(ctx context.Context, recs []Record) error
	// Changes returns up to limit changes with Seq > since, in Seq order.
	Changes(ctx context.Context, since uint64, limit int) ([]Change, error)
	// History returns the changes of one feature, oldest first, at most
	// limit (the newest limit when there are more).
	History(ctx context.Context, layer geo.Layer, id string, limit int) ([]Change, error)
	// Meta returns a value of the store's metadata ("" when unset).
	Meta(ctx context.Context, key string) (string, error)
	// SetMeta durably sets a value of the store's metadata.
	SetMeta(ctx context.Context, key, value string) error
	// Close releases the backend.
	Close() error
}

// Write is one write of [Store.Apply].
type Write struct {
	// Layer is the feature's layer, or the name of a registered
	// [Collection].
	Layer geo.Layer
	// ID is the feature's ID; it must equal the feature's own ID.
	ID string
	// Feature is the new state (*geo.Entity, *geo.Building, *geo.Place or
	// *geo.Zone; for a collection, the document: a json.RawMessage or any
	// value that marshals to a JSON object); nil deletes it.
	Feature any
	// IfVersion, when > 0, requires the feature's current version to be
	// exactly this (HTTP If-Match); otherwise the write fails with
	// ErrConflict (or ErrNotFound when the feature does not exist).
	IfVersion uint64
	// IfExists requires the feature to exist (ErrNotFound otherwise).
	IfExists bool
	// IfAbsent requires the feature not to exist (HTTP If-None-Match: *;
	// ErrConflict otherwise).
	IfAbsent bool
}

// Result is the outcome of an accepted [Store.Apply].
type Result struct {
	// Seq is the sequence number of the last change of the commit: the
	// store's sequence after it (unchanged when nothing changed).
	Seq uint64 `json:"seq"`
	// Versions holds, per write, the feature's new version (0 for a delete).
	Versions []uint64 `json:"versions"`
	// Created tells, per write, whether the feature did not exist before.
	Created []bool `json:"created"`
	// Changes counts the change-log lines written, derived changes (an
	// entity's grid after a grid zone moved) included.
	Changes int `json:"changes"`
	// Features holds, per write, the feature's state as this commit
	// published it (nil for a delete); shared with the index: do not
	// modify.
	Features []any `json:"-"`
}

// Store is the write path of a [geo.Index] over a durable [Backend]. It is
// safe for concurrent use; writes are serialised by the index.
type Store struct {
	ix   *geo.Index
	be   Backend
	opts Options

	id   string // the store's identity (ties a snapshot to it)
	from string // where New loaded the state from

	mu          sync.Mutex
	last        uint64        // guarded by the index's writer lock (set in ahead) and mu
	lastVersion uint64        // the index version the last commit produced
	notify      chan struct{} // closed and replaced on every commit
	closed      bool

	snapMu  sync.Mutex // one snapshot writer at a time
	snapSeq uint64     // the seq of the last snapshot written or read
	stop    chan struct{}
	done    chan struct{}

	closeOnce sync.Once

	// a Shared backend (several writers): the follower of the change log,
	// and wmu, held by a write from taking the database's write lock to its
	// publication and by the follower while it applies changes
	fol *follower
	wmu sync.Mutex

	// group commit (group.go): the requests waiting, and whether a
	// committer goroutine is running
	gmu        sync.Mutex
	queue      []*request
	committing bool
}

// New ties the backend to the index: it loads every stored feature into ix
// (in one commit) and returns the store whose writes go through be. ix
// should be empty; features already in it are kept unless stored ones
// replace them. The store takes ownership of be.
func New(ctx context.Context, ix *geo.Index, be Backend, opts Options) (*Store, error) {
	if ix == nil || be == nil {
		return nil, fmt.Errorf("%w: New needs an index and a backend", ErrInvalidWrite)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if opts.MaxVertices == 0 {
		opts.MaxVertices = ix.Options().MaxVertices
	}
	last, err := be.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ensureStoreID(ctx, be)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	s := &Store{ix: ix, be: be, opts: opts, id: id, last: last, notify: make(chan struct{})}
	b := ix.Batch()
	from := "store"
	if opts.SnapshotPath != "" {
		seq, ok, err := loadSnapshot(ctx, opts.SnapshotPath, id, last, be, b)
		switch {
		case err != nil:
			opts.Logger.Warn("snapshot not used, loading from the store", "path", opts.SnapshotPath, "err", err)
			b = ix.Batch()
		case ok:
			from, s.snapSeq = fmt.Sprintf("snapshot at seq %d + %d changes", seq, last-seq), seq
		}
	}
	n := b.Len()
	if from == "store" {
		err = be.Load(ctx, func(layer geo.Layer, v any) error {
			n++
			if err := b.Adopt(v); err != nil { // each row is a fresh value
				return fmt.Errorf("%w: stored %s feature: %v", ErrCorrupt, layer, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if n > 0 {
		b.Commit()
	}
	ndocs, err := s.loadCollections(ctx)
	if err != nil {
		return nil, err
	}
	s.lastVersion, s.from = ix.Snapshot().Version(), from
	opts.Logger.Info("store loaded", "features", n, "documents", ndocs, "seq", last, "from", from, "took", time.Since(start).Round(time.Millisecond))
	if sh, ok := be.(Shared); ok {
		if err := s.startFollowing(ctx, sh); err != nil {
			return nil, err
		}
	}
	if opts.SnapshotPath != "" {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.snapshotLoop()
	}
	return s, nil
}

// snapshotLoop writes a snapshot once SnapshotEvery changes have been
// committed since the last one.
func (s *Store) snapshotLoop() {
	defer close(s.done)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.Seq()-s.snapSeqNow() < uint64(s.opts.SnapshotEvery) {
			continue
		}
		start := time.Now()
		if err := s.WriteSnapshot(context.Background()); err != nil {
			s.opts.Logger.Warn("snapshot not written", "err", err)
			continue
		}
		s.opts.Logger.Info("snapshot written", "seq", s.snapSeqNow(), "took", time.Since(start).Round(time.Millisecond))
	}
}

func (s *Store) snapSeqNow() uint64 {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	return s.snapSeq
}

// Open opens (or creates) the embedded GeoPackage store at path (":memory:"
// for a store that lives in memory only) and loads it into ix.
func Open(ctx context.Context, path string, ix *geo.Index, opts Options) (*Store, error) {
	be, err := OpenSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	if opts.SnapshotPath == "" && path != ":memory:" {
		opts.SnapshotPath = path + ".snapshot"
	}
	st, err := New(ctx, ix, be, opts)
	if err != nil {
		be.Close()
		return nil, err
	}
	return st, nil
}

// LoadedFrom says where the state was loaded from when the store opened:
// "store" (every row of the backend) or "snapshot at seq N + M changes".
func (s *Store) LoadedFrom() string { return s.from }

// Index returns the index the store writes to.
func (s *Store) Index() *geo.Index { return s.ix }

// Backend returns the store's backend.
func (s *Store) Backend() Backend { return s.be }

// Options returns the effective options.
func (s *Store) Options() Options { return s.opts }

// Seq returns the sequence number of the last committed change.
func (s *Store) Seq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Empty reports whether the store holds no change at all (a new store, to
// be seeded).
func (s *Store) Empty() bool { return s.Seq() == 0 }

// Close writes a last snapshot (when the store keeps one and changes were
// made since the last) and closes the backend. Writes after Close fail
// with ErrClosed.
func (s *Store) Close() error {
	var first bool
	s.closeOnce.Do(func() { first = true })
	if !first {
		return nil
	}
	if s.stop != nil {
		close(s.stop)
		<-s.done
		if err := s.WriteSnapshot(context.Background()); err != nil {
			s.opts.Logger.Warn("snapshot not written on close", "err", err)
		}
	}
	s.stopFollowing()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.notify)
	s.mu.Unlock()
	return s.be.Close()
}

// Wait returns a channel closed by the next commit after the store's
// sequence number passed seq, or at once when it already has: a follower
// of the change log reads, then waits.
func (s *Store) Wait(seq uint64) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last > seq || s.closed {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.notify
}

type key struct {
	layer geo.Layer
	id    string
}

// Apply validates the writes, makes them durable and publishes them, all
// or nothing, and returns when every follower of the index has seen them.
// writer is recorded in the history of every feature written (a token's
// name, a department, a user). Errors wrap geo's validation sentinels
// (with a *geo.FieldError naming the field; a *WriteError says which
// write), ErrConflict, ErrNotFound, ErrUnavailable or ErrInvalidWrite.
func (s *Store) Apply(ctx context.Context, writer string, ws []Write) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if len(ws) > s.opts.MaxWrites {
		return Result{}, fmt.Errorf("%w: %d writes in one request, the limit is %d", ErrTooLarge, len(ws), s.opts.MaxWrites)
	}
	return s.apply(ctx, writer, ws)
}

// Changes returns up to limit changes after since, in commit order.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]Change, error) {
	return s.be.Changes(ctx, since, limit)
}

// History returns the versions of one feature, oldest first (the newest
// limit of them).
func (s *Store) History(ctx context.Context, layer geo.Layer, id string, limit int) ([]Change, error) {
	if _, err := geo.ParseLayer(string(layer)); err != nil && s.collection(layer) == nil {
		return nil, err
	}
	return s.be.History(ctx, layer, id, limit)
}

// docWrite is a write of [Store.Apply] to a collection.
type docWrite struct {
	i      int // the write's index
	coll   *Collection
	body   json.RawMessage // nil: delete
	old    uint64          // the version before (set under the writer lock)
	exists bool
}

// WriteError says which write of a request failed and why; it wraps the
// cause (a *geo.FieldError for validation).
type WriteError struct {
	// Index is the write's position in the request (0-based).
	Index int
	// ID is the feature's ID, when known.
	ID string
	// Field names the field at fault, when the cause does not.
	Field string
	// Err is the cause.
	Err error
}

func (e *WriteError) Error() string {
	s := fmt.Sprintf("write %d", e.Index)
	if e.ID != "" {
		s += fmt.Sprintf(" (%q)", e.ID)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *WriteError) Unwrap() error { return e.Err }

// FieldName returns the field at fault: Field, or the wrapped
// *geo.FieldError's.
func (e *WriteError) FieldName() string {
	if e.Field != "" {
		return e.Field
	}
	var fe *geo.FieldError
	if errors.As(e.Err, &fe) {
		return fe.Field
	}
	return ""
}
