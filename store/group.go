package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// Group commit. Every Apply (and Patch, Import) is a request: it is
// validated in its caller's goroutine, then queued. One committer at a
// time takes the queue's head and the requests after it that can share a
// commit (disjoint features, no zone write, at most GroupWrites writes in
// all), checks each one's preconditions against the published state,
// drops those that fail (only they fail), and commits the rest as one
// backend transaction (one fsync; on a shared backend one hold of the
// sequence row) and one index commit (one snapshot published, one call of
// each follower). Sequence numbers are given request by request, in queue
// order, so the change log reads as if the requests had been committed one
// after the other. When the backend refuses the commit, every request of
// the group fails with ErrUnavailable and nothing changed anywhere.

// request is one Apply waiting to be committed.
type request struct {
	ctx    context.Context
	writer string
	ws     []Write
	idx    map[key]int // the feature's (or document's) key → its write
	docs   []docWrite
	solo   bool // committed alone: writes a zone (derived changes) or exceeds a group

	res  Result
	err  error
	done chan struct{}
}

// errStale: the index changed between the preconditions' check and the
// commit (a write that did not go through the store); the group is tried
// again.
var errStale = errors.New("store: index changed under the committer")

// groupCommitTimeout bounds the backend commit of a group of several
// requests, which no single caller's context may cancel.
const groupCommitTimeout = time.Minute

func (s *Store) apply(ctx context.Context, writer string, ws []Write) (Result, error) {
	r, err := s.prepare(ctx, writer, ws)
	if err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return Result{}, ErrClosed
	}
	s.gmu.Lock()
	s.queue = append(s.queue, r)
	if !s.committing {
		s.committing = true
		go s.commitLoop()
	}
	s.gmu.Unlock()
	<-r.done // a request taken into a group is answered whatever its context does
	return r.res, r.err
}

// prepare validates the writes of one request (in the caller's goroutine:
// validation runs on every core, the committer does not wait for it).
func (s *Store) prepare(ctx context.Context, writer string, ws []Write) (*request, error) {
	r := &request{ctx: ctx, writer: writer, ws: ws, idx: make(map[key]int, len(ws)), done: make(chan struct{})}
	r.solo = len(ws) > s.opts.GroupWrites
	vb := s.ix.Batch() // validation only; the committer queues the writes again
	for i := range ws {
		w := &ws[i]
		coll := s.collection(w.Layer)
		if coll == nil {
			if _, err := geo.ParseLayer(string(w.Layer)); err != nil {
				return nil, &WriteError{Index: i, ID: w.ID, Err: err}
			}
		}
		if w.ID == "" {
			return nil, &WriteError{Index: i, Field: "id", Err: fmt.Errorf("%w: missing id", ErrInvalidWrite)}
		}
		k := key{w.Layer, w.ID}
		if first, dup := r.idx[k]; dup {
			return nil, &WriteError{Index: i, ID: w.ID, Field: "id", Err: fmt.Errorf("%w: %s %q written twice in one request (first by write %d)", ErrInvalidWrite, w.Layer, w.ID, first)}
		}
		r.idx[k] = i
		if coll != nil {
			d := docWrite{i: i, coll: coll}
			if w.Feature != nil {
				body, err := docBody(w.Feature)
				if err == nil && coll.Validate != nil {
					err = coll.Validate(w.ID, body)
				}
				if err != nil {
					return nil, &WriteError{Index: i, ID: w.ID, Err: err}
				}
				d.body = body
			}
			r.docs = append(r.docs, d)
			continue
		}
		if w.Layer == geo.LayerZones {
			r.solo = true // a grid zone changes the grid of the entities under it
		}
		if w.Feature == nil {
			continue
		}
		if l, id := featureKey(w.Feature); l != w.Layer || id != w.ID {
			return nil, &WriteError{Index: i, ID: w.ID, Field: "id", Err: fmt.Errorf("%w: the write is for %s %q but the feature is %s %q", ErrInvalidWrite, w.Layer, w.ID, l, id)}
		}
		if err := vb.Upsert(w.Feature); err != nil {
			return nil, &WriteError{Index: i, ID: w.ID, Err: err}
		}
	}
	return r, nil
}

// commitLoop commits groups until the queue is empty.
func (s *Store) commitLoop() {
	for {
		g := s.take()
		if g == nil {
			return
		}
		s.commitGroup(g)
	}
}

// take removes the next group from the queue: the head, and the requests
// after it as long as they may share its commit. It returns nil (and ends
// the committer's turn) when the queue is empty.
func (s *Store) take() []*request {
	if s.opts.GroupWait > 0 {
		s.gmu.Lock()
		n := 0
		for _, r := range s.queue {
			n += len(r.ws)
		}
		short := len(s.queue) > 0 && n < s.opts.GroupWrites && !s.queue[0].solo
		s.gmu.Unlock()
		if short {
			time.Sleep(s.opts.GroupWait)
		}
	}
	s.gmu.Lock()
	defer s.gmu.Unlock()
	var g []*request
	taken := map[key]bool{}
	n, i := 0, 0
	for ; i < len(s.queue); i++ {
		r := s.queue[i]
		if err := r.ctx.Err(); err != nil { // given up while waiting: nothing written
			r.err = err
			close(r.done)
			continue
		}
		if len(g) > 0 && (r.solo || n+len(r.ws) > s.opts.GroupWrites || overlaps(r, taken)) {
			break // the next group starts here, in queue order
		}
		g = append(g, r)
		n += len(r.ws)
		if r.solo {
			i++
			break
		}
		for k := range r.idx {
			taken[k] = true
		}
	}
	s.queue = append(s.queue[:0], s.queue[i:]...)
	if len(g) == 0 && len(s.queue) == 0 {
		s.committing = false
		return nil
	}
	return g
}

func overlaps(r *request, taken map[key]bool) bool {
	for k := range r.idx {
		if taken[k] {
			return true
		}
	}
	return false
}

// commitGroup commits the requests of g (in queue order) as one
// transaction and answers each.
func (s *Store) commitGroup(g []*request) {
	defer func() {
		for _, r := range g {
			if r.err != nil {
				r.res = Result{}
			}
			close(r.done)
		}
	}()
	ctx := g[0].ctx
	if len(g) > 1 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), groupCommitTimeout)
		defer cancel()
	}
	fail := func(err error) {
		for _, r := range g {
			if r.err == nil {
				r.err = err
			}
		}
	}
	for attempt := 0; ; attempt++ {
		err := s.tryGroup(ctx, g)
		if errors.Is(err, errStale) && attempt < 3 {
			for _, r := range g {
				r.err = nil
			}
			continue
		}
		if errors.Is(err, errStale) {
			err = fmt.Errorf("%w: the index was written around the store", ErrConflict)
		}
		if err != nil {
			fail(err)
		}
		return
	}
}

// tryGroup is one attempt at committing g: preconditions, one index
// commit whose write-ahead step commits to the backend.
func (s *Store) tryGroup(ctx context.Context, g []*request) error {
	var pre *geo.Batch
	if len(g) == 1 {
		// a request alone (an import of a million features, a bulk): its
		// batch is built before the database's write lock is taken, so
		// that the transaction stays open no longer than it must
		var err error
		if pre, err = s.batchOf(g); err != nil {
			return err
		}
	}
	var tx WriteTx // a shared backend: the database orders the writes
	if s.fol != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
		var err error
		if tx, err = s.beginShared(ctx); err != nil {
			return err
		}
		defer tx.Rollback()
	}
	cur := s.ix.Snapshot() // the published state: only this committer writes
	var live []*request
	for _, r := range g {
		if r.err = s.check(r, cur); r.err == nil {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return nil
	}
	b := pre
	if b == nil {
		var err error
		if b, err = s.batchOf(live); err != nil {
			return err
		}
	}
	_, err := b.CommitAhead(func(cs geo.ChangeSet) error {
		// by version: a background repack of the index's trees publishes
		// a new snapshot of the same features and version
		if s.ix.Snapshot().Version() != cur.Version() {
			return errStale
		}
		return s.ahead(ctx, live, cs, tx)
	})
	return err
}

// batchOf queues the feature writes of the requests of g in one index
// batch.
func (s *Store) batchOf(g []*request) (*geo.Batch, error) {
	b := s.ix.Batch()
	for _, r := range g {
		b.Grow(len(r.ws))
		for i := range r.ws {
			w := &r.ws[i]
			if s.collection(w.Layer) != nil {
				continue
			}
			if w.Feature == nil {
				_ = b.Delete(w.Layer, w.ID)
				continue
			}
			if err := b.Upsert(w.Feature); err != nil { // validated in prepare: not expected
				return nil, &WriteError{Index: i, ID: w.ID, Err: err}
			}
		}
	}
	return b, nil
}

// check tests one request's preconditions against the published state
// cur (and the collections' consumers), before it joins the commit; it
// records whether each write creates its feature.
func (s *Store) check(r *request, cur *geo.Snapshot) error {
	r.res = Result{Versions: make([]uint64, len(r.ws)), Created: make([]bool, len(r.ws)), Features: make([]any, len(r.ws))}
	dj := 0
	for i := range r.ws {
		w := &r.ws[i]
		var exists bool
		var ver uint64
		if dj < len(r.docs) && r.docs[dj].i == i {
			d := &r.docs[dj]
			dj++
			d.old, d.exists = d.coll.Consumer.Version(w.ID)
			exists, ver = d.exists, d.old
		} else if v, ok := cur.Feature(w.Layer, w.ID); ok {
			exists, ver = true, VersionOf(v)
		}
		switch {
		case w.IfAbsent && exists:
			return &WriteError{Index: i, ID: w.ID, Err: fmt.Errorf("%w: %s %q exists (version %d)", ErrConflict, w.Layer, w.ID, ver)}
		case (w.IfExists || w.IfVersion > 0) && !exists:
			return &WriteError{Index: i, ID: w.ID, Err: fmt.Errorf("%w: %s %q", ErrNotFound, w.Layer, w.ID)}
		case w.IfVersion > 0 && ver != w.IfVersion:
			return &WriteError{Index: i, ID: w.ID, Err: fmt.Errorf("%w: %s %q is at version %d, not %d", ErrConflict, w.Layer, w.ID, ver, w.IfVersion)}
		}
		r.res.Created[i] = !exists && w.Feature != nil
	}
	return nil
}

// ahead runs under the index's writer lock with the changes of the
// group's commit not yet published: it numbers the changes request by
// request, stamps the new features' versions and commits everything to the
// backend in one transaction.
func (s *Store) ahead(ctx context.Context, g []*request, cs geo.ChangeSet, tx WriteTx) error {
	s.mu.Lock()
	closed, last := s.closed, s.last
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	// every change belongs to the request that wrote its feature (the
	// requests of a group write disjoint features); a derived change (an
	// entity regridded under a zone) to the request that wrote the zone,
	// which is alone in its group
	own := make(map[key]int, len(cs.Changes))
	for j, r := range g {
		for k := range r.idx {
			own[k] = j
		}
	}
	per := make([][]int, len(g)) // request → its changes (indexes into cs.Changes)
	for i := range cs.Changes {
		c := &cs.Changes[i]
		j, ok := own[key{c.Layer, c.ID}]
		if !ok {
			j = len(g) - 1
		}
		per[j] = append(per[j], i)
	}
	now := time.Now().UTC()
	seq := last
	var recs []Record
	dcs := make(map[*Collection][]DocChange)
	n := 0
	for j, r := range g {
		first := len(recs)
		for _, ci := range per[j] {
			if n++; n&255 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			c := &cs.Changes[ci]
			seq++
			rec := Record{Change: Change{Seq: seq, Time: now, Layer: c.Layer, ID: c.ID, Op: OpDelete, Writer: r.writer, Feature: json.RawMessage("null")}}
			if c.New != nil {
				setVersion(c.New, seq)
				rec.Op, rec.Value = OpPut, c.New
				f, err := json.Marshal(FeatureOf(c.New))
				if err != nil {
					return fmt.Errorf("%w: encoding %s %q: %v", ErrInvalidWrite, c.Layer, c.ID, err)
				}
				rec.Feature = f
			}
			recs = append(recs, rec)
			if w, ok := r.idx[key{c.Layer, c.ID}]; ok && c.New != nil {
				r.res.Versions[w], r.res.Features[w] = seq, c.New
			}
		}
		for k := range r.docs {
			d := &r.docs[k]
			if d.body == nil && !d.exists { // deleting a missing document changes nothing
				continue
			}
			w := &r.ws[d.i]
			seq++
			rec := Record{Change: Change{Seq: seq, Time: now, Layer: w.Layer, ID: w.ID, Op: OpDelete, Writer: r.writer, Feature: json.RawMessage("null")}}
			if d.body != nil {
				rec.Op, rec.Feature = OpPut, d.body
				rec.Value = &Doc{ID: w.ID, Version: seq, Body: d.body}
				r.res.Versions[d.i], r.res.Features[d.i] = seq, d.body
			}
			recs = append(recs, rec)
			dcs[d.coll] = append(dcs[d.coll], DocChange{Seq: seq, ID: w.ID, Body: d.body, OldVersion: d.old})
		}
		r.res.Seq, r.res.Changes = seq, len(recs)-first
	}
	if len(recs) == 0 {
		s.mu.Lock()
		s.lastVersion = cs.Version
		s.mu.Unlock()
		return nil
	}
	if len(dcs) > 0 {
		if _, ok := s.be.(DocBackend); !ok {
			return fmt.Errorf("%w: the backend %T does not store collections", ErrInvalidWrite, s.be)
		}
	}
	commit := s.be.Commit
	if tx != nil {
		commit = tx.Commit
	}
	if err := commit(ctx, recs); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	for i := range s.opts.Collections {
		c := &s.opts.Collections[i]
		if list := dcs[c]; len(list) > 0 {
			c.Consumer.Commit(list)
		}
	}
	s.mu.Lock()
	s.last, s.lastVersion = seq, cs.Version
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	return nil
}
