package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// Shared is implemented by a [Backend] that several stores write at once:
// marketgeo nodes, each with its own in-memory index, over one database
// (package store/postgres). The database, not the store, orders the writes:
//
//   - BeginWrite takes the database's write lock (a row lock on the
//     sequence row): no other writer of any node commits until the
//     transaction ends, so sequence numbers are handed out in commit order
//     and without gaps. It returns the last committed sequence number; the
//     store first applies the other nodes' changes up to it, then checks
//     its preconditions against that state, numbers its own changes after
//     it and commits them through the transaction.
//   - Every other node follows the change log (Backend.Changes) from the
//     last sequence number it applied: woken by Wakeups, and by polling
//     (Options.FollowPoll) in case a wake-up is lost.
type Shared interface {
	Backend
	// BeginWrite starts a write transaction holding the database's write
	// lock and returns it with the sequence number of the last committed
	// change. The caller ends it with Commit or Rollback.
	BeginWrite(ctx context.Context) (WriteTx, uint64, error)
	// Wakeups returns a channel that receives a value when another writer
	// may have committed (best effort: the change log is the truth).
	Wakeups() <-chan struct{}
}

// WriteTx is a write transaction of a [Shared] backend.
type WriteTx interface {
	// Commit makes the records durable, all or none, like Backend.Commit,
	// and ends the transaction. The records' sequence numbers follow the
	// one BeginWrite returned.
	Commit(ctx context.Context, recs []Record) error
	// Rollback ends the transaction without writing (a no-op after Commit).
	Rollback()
}

// Partial is implemented by a backend that loads part of the data only
// (store/postgres with a region: the entities of one administrative
// division). A store following it applies the other writers' changes of
// the features it keeps only.
type Partial interface {
	// Keeps reports whether the feature belongs to the part loaded.
	Keeps(layer geo.Layer, id string) bool
}

// Replication is the state of a store following a [Shared] backend
// ([Store.Replication]).
type Replication struct {
	// Shared is false for a store that is the only writer of its backend
	// (the embedded file): the other fields are then zero.
	Shared bool `json:"shared"`
	// Applied is the sequence number of the last change in the index.
	Applied uint64 `json:"applied"`
	// Head is the last committed sequence number the store has seen in the
	// backend (at its last check).
	Head uint64 `json:"head"`
	// Lag is how long ago the store was last known to have applied every
	// committed change: 0 when it was at the head at its last check; it
	// grows while the backend is unreachable.
	Lag time.Duration `json:"-"`
	// LagSeconds is Lag in seconds (JSON).
	LagSeconds float64 `json:"lag_seconds"`
	// Connected tells whether the last check of the backend succeeded.
	Connected bool `json:"connected"`
	// Err is the last error of the follower ("" when none).
	Err string `json:"error,omitempty"`
}

// ErrBehind: a read asked for a sequence number (X-Marketgeo-Min-Seq) that
// the store has not applied within the time it may wait.
var ErrBehind = errors.New("store: not yet applied")

// follower is the state of the loop that applies other nodes' changes.
type follower struct {
	sh   Shared
	poll time.Duration
	stop chan struct{}
	done chan struct{}

	mu         sync.Mutex
	head       uint64
	caughtUpAt time.Time // when the store was last at the head
	connected  bool
	err        string
}

// followPoll is the default interval at which a follower checks the
// change log without a wake-up.
const followPoll = time.Second

// startFollowing applies the changes committed since the state was loaded
// and starts the follow loop (stores over a Shared backend).
func (s *Store) startFollowing(ctx context.Context, sh Shared) error {
	f := &follower{sh: sh, poll: followPoll, stop: make(chan struct{}), done: make(chan struct{}), connected: true, caughtUpAt: time.Now()}
	s.fol = f
	s.wmu.Lock()
	_, err := s.catchUp(ctx)
	s.wmu.Unlock()
	if err != nil {
		return err
	}
	go s.followLoop()
	return nil
}

func (s *Store) stopFollowing() {
	if s.fol != nil {
		close(s.fol.stop)
		<-s.fol.done
	}
}

// followLoop applies the other nodes' changes: woken by the backend's
// notifications and every poll interval; a gap (a change committed after
// a later one) is retried soon, never skipped.
func (s *Store) followLoop() {
	f := s.fol
	defer close(f.done)
	t := time.NewTimer(f.poll)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-f.sh.Wakeups():
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.wmu.Lock()
		gap, err := s.catchUp(ctx)
		s.wmu.Unlock()
		cancel()
		next := f.poll
		if err != nil || gap {
			next = 20 * time.Millisecond
			if err != nil {
				next = 250 * time.Millisecond
			}
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next)
	}
}

// CatchUp applies every change committed to a shared backend and not yet
// in the index (a no-op for a store that is its backend's only writer).
// It returns ErrBehind when a gap in the change log stopped it.
func (s *Store) CatchUp(ctx context.Context) error {
	if s.fol == nil {
		return nil
	}
	s.wmu.Lock()
	gap, err := s.catchUp(ctx)
	s.wmu.Unlock()
	if err == nil && gap {
		err = fmt.Errorf("%w: a change before the head is not committed yet", ErrBehind)
	}
	return err
}

// followPage is how many changes the follower reads from the change log
// at a time.
const followPage = 10000

// catchUp runs with wmu held: it reads the head, then applies the change
// log from the store's last sequence number on, in sequence order, as long
// as the numbers follow each other. A missing number is a transaction that
// has taken its numbers but not committed yet (or is rolling back): catchUp
// stops before it and reports gap, and the loop tries again shortly.
//
// Changes are published whole transactions at a time, never half of one:
// a committed transaction is visible in the log all at once, so the end of
// what the log holds, and a gap, are ends of transactions; only a full
// page may stop inside one. The changes of one transaction share their
// time (a store stamps every change of a commit with one time), so a full
// page is published up to its last change of time, and the changes after
// it (which the next page may continue) are staged with the next page's.
// A transaction larger than a page is staged page by page, in one index
// batch, and published when it ends: readers see all of it or none.
func (s *Store) catchUp(ctx context.Context) (gap bool, err error) {
	f := s.fol
	head, err := s.be.LastSeq(ctx)
	f.note(head, err, s.Seq())
	if err != nil {
		return false, err
	}
	st := s.newStage()
	for {
		since := max(s.Seq(), st.last)
		if since >= head {
			s.publish(st)
			f.note(head, nil, s.Seq())
			return false, nil
		}
		list, err := s.be.Changes(ctx, since, followPage)
		if err != nil {
			f.note(head, err, s.Seq())
			return false, err // what was staged is read again next time
		}
		n := 0
		for n < len(list) && list[n].Seq == since+uint64(n)+1 {
			n++
		}
		if n == len(list) && n == followPage {
			// a full page: publish up to its last end of a transaction,
			// stage the rest
			cut := n - 1
			for cut > 0 && list[cut-1].Time.Equal(list[n-1].Time) {
				cut--
			}
			if err := s.stage(st, list[:cut]); err != nil {
				f.note(head, err, s.Seq())
				return false, err
			}
			if cut > 0 {
				s.publish(st)
				st = s.newStage()
			}
			if err := s.stage(st, list[cut:n]); err != nil {
				f.note(head, err, s.Seq())
				return false, err
			}
			continue
		}
		if err := s.stage(st, list[:n]); err != nil {
			f.note(head, err, s.Seq())
			return false, err
		}
		s.publish(st)
		if n < len(list) || n == 0 {
			f.note(head, nil, s.Seq())
			return true, nil
		}
		st = s.newStage()
	}
}

// note records the result of a check of the backend.
func (f *follower) note(head uint64, err error, applied uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.connected, f.err = false, err.Error()
		return
	}
	f.connected, f.err = true, ""
	if head > f.head {
		f.head = head
	}
	if applied >= f.head {
		f.caughtUpAt = time.Now()
	}
}

// remoteStage holds changes committed by other writers (consecutive
// sequence numbers after the store's last) read but not yet published:
// their features queued in one index batch, their documents by
// collection.
type remoteStage struct {
	b    *geo.Batch
	dcs  map[*Collection][]DocChange
	vers map[key]uint64 // a document's version within the stage
	last uint64         // the sequence number of the last change staged (0: none)
}

func (s *Store) newStage() *remoteStage { return &remoteStage{b: s.ix.Batch()} }

// stage queues list (which follows the stage's or the store's last
// change); the changes of a collection this store does not know, and of
// features a Partial backend does not keep, are skipped.
func (s *Store) stage(st *remoteStage, list []Change) error {
	keep, _ := s.be.(Partial)
	for i := range list {
		c := &list[i]
		st.last = c.Seq
		if _, err := geo.ParseLayer(string(c.Layer)); err != nil {
			coll := s.collection(c.Layer)
			if coll == nil {
				continue
			}
			if st.dcs == nil {
				st.dcs, st.vers = map[*Collection][]DocChange{}, map[key]uint64{}
			}
			k := key{c.Layer, c.ID}
			old, ok := st.vers[k]
			if !ok {
				old, _ = coll.Consumer.Version(c.ID)
			}
			d := DocChange{Seq: c.Seq, ID: c.ID, OldVersion: old}
			st.vers[k] = 0
			if c.Op == OpPut {
				d.Body, st.vers[k] = c.Feature, c.Seq
			}
			st.dcs[coll] = append(st.dcs[coll], d)
			continue
		}
		if keep != nil && !keep.Keeps(c.Layer, c.ID) {
			continue
		}
		if c.Op == OpDelete {
			if err := st.b.Delete(c.Layer, c.ID); err != nil {
				return fmt.Errorf("%w: change %d: %v", ErrCorrupt, c.Seq, err)
			}
			continue
		}
		v, err := featureFromChange(c)
		if err != nil {
			return err
		}
		if err := st.b.Adopt(v); err != nil {
			return fmt.Errorf("%w: change %d: %v", ErrCorrupt, c.Seq, err)
		}
	}
	return nil
}

// publish applies what st staged: one index commit, then the
// collections' consumers, then the store's sequence number.
func (s *Store) publish(st *remoteStage) {
	if st.last == 0 {
		return
	}
	s.mu.Lock()
	ver := s.lastVersion
	s.mu.Unlock()
	if st.b.Len() > 0 {
		ver = st.b.Commit()
	}
	for i := range s.opts.Collections {
		c := &s.opts.Collections[i]
		if l := st.dcs[c]; len(l) > 0 {
			c.Consumer.Commit(l)
		}
	}
	s.mu.Lock()
	s.last, s.lastVersion = st.last, ver
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// beginShared starts a write on a shared backend: it takes the database's
// write lock and applies the other nodes' changes up to it. The caller
// holds wmu.
func (s *Store) beginShared(ctx context.Context) (WriteTx, error) {
	tx, head, err := s.fol.sh.BeginWrite(ctx)
	if err != nil {
		s.fol.note(0, err, s.Seq())
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	s.fol.note(head, nil, s.Seq())
	if s.Seq() < head {
		gap, err := s.catchUp(ctx)
		if err == nil && (gap || s.Seq() != head) {
			err = fmt.Errorf("%w: the change log stops at %d, before the head %d", ErrCorrupt, s.Seq(), head)
		}
		if err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("%w: catching up before a write: %v", ErrUnavailable, err)
		}
	}
	return tx, nil
}

// Replication returns the state of the store's following of a shared
// backend (Shared false for the embedded store).
func (s *Store) Replication() Replication {
	f := s.fol
	if f == nil {
		return Replication{Applied: s.Seq()}
	}
	applied := s.Seq()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := Replication{Shared: true, Applied: applied, Head: max(f.head, applied), Connected: f.connected, Err: f.err}
	if applied < f.head || !f.connected {
		r.Lag = time.Since(f.caughtUpAt)
	}
	r.LagSeconds = r.Lag.Seconds()
	return r
}

// WaitApplied waits until the store has applied the change with sequence
// number seq (a read carrying X-Marketgeo-Min-Seq), at most max; it
// returns ErrBehind when the time is up and ctx's error when it ends
// first. A follower is woken to look for the change at once.
func (s *Store) WaitApplied(ctx context.Context, seq uint64, max time.Duration) error {
	if s.Seq() >= seq {
		return nil
	}
	if f := s.fol; f != nil {
		go func() { // look now rather than at the next poll
			cctx, cancel := context.WithTimeout(context.Background(), max)
			defer cancel()
			if s.wmu.TryLock() {
				_, _ = s.catchUp(cctx)
				s.wmu.Unlock()
			}
		}()
	}
	t := time.NewTimer(max)
	defer t.Stop()
	for {
		cur := s.Seq()
		if cur >= seq {
			return nil
		}
		select {
		case <-s.Wait(cur):
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrClosed
			}
		case <-t.C:
			return fmt.Errorf("%w: this node has applied the change log up to %d, not yet %d (waited %s)", ErrBehind, s.Seq(), seq, max)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
