package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// gated is a backend that records its commits and, when armed, holds the
// next commit until released (so that the requests arriving meanwhile
// queue for one group), and fails the commits after it when failAfter
// says so.
type gated struct {
	store.Backend
	mu       sync.Mutex
	sizes    []int // records per commit
	hold     chan struct{}
	entered  chan struct{}
	failNext bool
}

func (g *gated) arm() {
	g.mu.Lock()
	g.hold, g.entered = make(chan struct{}), make(chan struct{})
	g.mu.Unlock()
}

func (g *gated) Commit(ctx context.Context, recs []store.Record) error {
	g.mu.Lock()
	hold, entered := g.hold, g.entered
	g.hold = nil
	fail := g.failNext && hold == nil
	if fail {
		g.failNext = false
	}
	g.mu.Unlock()
	if hold != nil {
		close(entered)
		<-hold
	}
	if fail {
		return errors.New("disk full")
	}
	if err := g.Backend.Commit(ctx, recs); err != nil {
		return err
	}
	g.mu.Lock()
	g.sizes = append(g.sizes, len(recs))
	g.mu.Unlock()
	return nil
}

func (g *gated) commits() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.sizes...)
}

func openGated(t *testing.T, path string) (*store.Store, *geo.Index, *gated) {
	t.Helper()
	ctx := context.Background()
	be, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := &gated{Backend: be}
	ix, _ := geo.New(geo.Options{})
	st, err := store.New(ctx, ix, g, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st, ix, g
}

type outcome struct {
	res store.Result
	err error
}

// queueWhileHeld arms g, starts a write that enters the backend and is
// held there, then starts each of reqs in turn, waiting until it is queued
// (so the queue's order is the slice's), and releases the held commit. It
// returns the outcomes in reqs' order (the held write's first).
func queueWhileHeld(t *testing.T, st *store.Store, g *gated, held []store.Write, reqs [][]store.Write) []outcome {
	t.Helper()
	ctx := context.Background()
	out := make([]outcome, len(reqs)+1)
	var wg sync.WaitGroup
	g.arm()
	g.mu.Lock()
	entered, hold := g.entered, g.hold
	g.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, err := st.Apply(ctx, "held", held)
		out[0] = outcome{res, err}
	}()
	<-entered
	for i, ws := range reqs {
		before := store.QueueLen(st)
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			res, err := st.Apply(ctx, fmt.Sprint("req", i), ws)
			out[i+1] = outcome{res, err}
		}()
		for store.QueueLen(st) == before { // queued, or refused before queueing
			select {
			case <-done:
			case <-time.After(time.Millisecond):
				continue
			}
			break
		}
	}
	close(hold)
	wg.Wait()
	return out
}

// TestGroupCommitFailsOnlyTheFailingWrite: requests queued behind a commit
// in progress are committed together, in one backend transaction, and a
// request whose precondition or validation fails fails alone.
func TestGroupCommitFailsOnlyTheFailingWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.gpkg")
	st, ix, g := openGated(t, path)
	var seed []store.Write
	for i := range 5 {
		e := entity(i, 106.5+float64(i)*1e-3, 29.6)
		seed = append(seed, store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e})
	}
	if _, err := st.Apply(ctx, "seed", seed); err != nil {
		t.Fatal(err)
	}
	e1, _ := ix.Snapshot().Entity(uscc(1))
	e4, _ := ix.Snapshot().Entity(uscc(4))
	v1, v4 := e1.Version, e4.Version
	put := func(i int, mod func(*store.Write)) []store.Write {
		e := entity(i, 106.6, 29.7)
		e.Name = fmt.Sprintf("重庆分组%d有限公司", i)
		w := store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}
		if mod != nil {
			mod(&w)
		}
		return []store.Write{w}
	}
	bad := entity(50, 200, 29.6) // longitude out of range: refused before queueing
	reqs := []struct {
		name string
		ws   []store.Write
		want error // nil: committed
	}{
		{"new entity", put(10, nil), nil},
		{"stale If-Match", put(1, func(w *store.Write) { w.IfVersion = v1 + 100 }), store.ErrConflict},
		{"If-None-Match on a new one", put(11, func(w *store.Write) { w.IfAbsent = true }), nil},
		{"invalid feature", []store.Write{{Layer: geo.LayerEntities, ID: bad.ID, Feature: &bad}}, geo.ErrInvalidCoordinate},
		{"delete of an existing one", []store.Write{{Layer: geo.LayerEntities, ID: uscc(2), IfExists: true}}, nil},
		{"If-None-Match on an existing one", put(3, func(w *store.Write) { w.IfAbsent = true }), store.ErrConflict},
		{"right If-Match", put(4, func(w *store.Write) { w.IfVersion = v4 }), nil},
		{"two writes, one request", append(put(12, nil), put(13, nil)...), nil},
	}
	var wss [][]store.Write
	for _, r := range reqs {
		wss = append(wss, r.ws)
	}
	before := state(t, ix.Snapshot())
	seq0 := st.Seq()
	held := put(20, nil)
	out := queueWhileHeld(t, st, g, held, wss)
	if out[0].err != nil {
		t.Fatal(out[0].err)
	}
	next := seq0 + 1 // the held write's
	if out[0].res.Seq != next {
		t.Fatalf("held write: seq %d, want %d", out[0].res.Seq, next)
	}
	// sequence numbers are given in queue order, to the committed ones only
	for i, r := range reqs {
		o := out[i+1]
		if r.want != nil {
			if !errors.Is(o.err, r.want) {
				t.Errorf("%s: err %v, want %v", r.name, o.err, r.want)
			}
			continue
		}
		if o.err != nil {
			t.Errorf("%s: %v", r.name, o.err)
			continue
		}
		for j, w := range r.ws {
			next++
			got, ok := ix.Snapshot().Feature(w.Layer, w.ID)
			switch {
			case w.Feature == nil && ok:
				t.Errorf("%s: %s still there", r.name, w.ID)
			case w.Feature != nil && (!ok || store.VersionOf(got) != next || o.res.Versions[j] != next):
				t.Errorf("%s: %s at version %d (answered %d), want %d", r.name, w.ID, store.VersionOf(got), o.res.Versions[j], next)
			}
		}
		if o.res.Seq != next || o.res.Changes != len(r.ws) {
			t.Errorf("%s: seq %d changes %d, want %d and %d", r.name, o.res.Seq, o.res.Changes, next, len(r.ws))
		}
	}
	if st.Seq() != next {
		t.Fatalf("store at seq %d, want %d", st.Seq(), next)
	}
	// one commit for the held write, one for the whole group
	if c := g.commits(); len(c) != 3 || c[1] != 1 || c[2] != int(next-seq0-1) {
		t.Fatalf("commits %v, want [5 1 %d]", c, next-seq0-1)
	}
	// the failed requests changed nothing: their features as before
	after := state(t, ix.Snapshot())
	for _, id := range []string{uscc(1), uscc(3)} {
		if after["entities/"+id] != before["entities/"+id] {
			t.Errorf("%s changed", id)
		}
	}
	if _, ok := after["entities/"+bad.ID]; ok {
		t.Error("the invalid feature was stored")
	}
	// the change log: gap-free, each change written by its own request
	log, err := st.Changes(ctx, seq0, 100)
	if err != nil {
		t.Fatal(err)
	}
	wantWriters := []string{"held"}
	for i, r := range reqs {
		if r.want == nil {
			for range r.ws {
				wantWriters = append(wantWriters, fmt.Sprint("req", i))
			}
		}
	}
	var gotWriters []string
	for i, c := range log {
		if c.Seq != seq0+uint64(i)+1 {
			t.Fatalf("gap: %d at %d", c.Seq, i)
		}
		gotWriters = append(gotWriters, c.Writer)
	}
	if !reflect.DeepEqual(gotWriters, wantWriters) {
		t.Fatalf("change log writers %v, want %v", gotWriters, wantWriters)
	}
	// restart: the file holds exactly what the index showed
	st.Close()
	st2, ix2 := openStore(t, path)
	defer st2.Close()
	if !reflect.DeepEqual(state(t, ix2.Snapshot()), after) {
		t.Fatal("the reopened store differs from the index before the restart")
	}
}

// TestGroupCommitDurabilityFailure: when the backend refuses a group's
// commit, every request of the group fails with ErrUnavailable and
// nothing changes: index, followers, sequence, change log.
func TestGroupCommitDurabilityFailure(t *testing.T) {
	ctx := context.Background()
	st, ix, g := openGated(t, ":memory:")
	defer st.Close()
	var notified int
	var nmu sync.Mutex
	ix.Subscribe(func(geo.ChangeSet) { nmu.Lock(); notified++; nmu.Unlock() })
	held := func(i int) []store.Write {
		e := entity(i, 106.5, 29.6)
		return []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}
	}
	if _, err := st.Apply(ctx, "seed", held(0)); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.failNext = true // the commit after the held one: the group
	g.mu.Unlock()
	var reqs [][]store.Write
	for i := 1; i <= 4; i++ {
		reqs = append(reqs, held(i))
	}
	reqs = append(reqs, []store.Write{{Layer: geo.LayerEntities, ID: uscc(0)}}) // a delete
	seqHeld := st.Seq() + 1
	var before map[string]string
	var v0 uint64
	var n0 int
	// the state the group starts from is the held write's; take it when
	// the held commit is released, before the group: the held write is
	// answered first
	out := queueWhileHeld(t, st, g, held(9), reqs)
	if out[0].err != nil || out[0].res.Seq != seqHeld {
		t.Fatalf("held write: %+v %v", out[0].res, out[0].err)
	}
	for i, o := range out[1:] {
		if !errors.Is(o.err, store.ErrUnavailable) {
			t.Errorf("request %d: err %v, want ErrUnavailable", i, o.err)
		}
	}
	before, v0 = state(t, ix.Snapshot()), ix.Snapshot().Version()
	nmu.Lock()
	n0 = notified
	nmu.Unlock()
	if st.Seq() != seqHeld {
		t.Fatalf("seq %d after the failed group, want %d", st.Seq(), seqHeld)
	}
	for i := 1; i <= 4; i++ {
		if _, ok := ix.Snapshot().Entity(uscc(i)); ok {
			t.Fatalf("entity %d of the failed group is in the index", i)
		}
	}
	if _, ok := ix.Snapshot().Entity(uscc(0)); !ok {
		t.Fatal("the failed group's delete took effect")
	}
	if log, _ := st.Changes(ctx, 0, 100); len(log) != int(seqHeld) {
		t.Fatalf("%d changes logged, want %d", len(log), seqHeld)
	}
	if n0 != 2 { // the seed and the held write
		t.Fatalf("followers called %d times, want 2", n0)
	}
	// and the store goes on: the next write takes the next number
	res, err := st.Apply(ctx, "after", held(1))
	if err != nil || res.Seq != seqHeld+1 {
		t.Fatalf("write after the failure: seq %d, err %v", res.Seq, err)
	}
	if ix.Snapshot().Version() == v0 || reflect.DeepEqual(state(t, ix.Snapshot()), before) {
		t.Fatal("the write after the failure was not published")
	}
}

// TestGroupCommitConcurrent: many writers at once (under -race in CI),
// each request writing a pair of entities that must be seen together;
// readers never see half a request, every writer reads its write back at
// once, the change log is gap-free, commits were grouped, and the file
// reopened holds exactly the index's state.
func TestGroupCommitConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.gpkg")
	be, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	g := &gated{Backend: be}
	ix, _ := geo.New(geo.Options{})
	st, err := store.New(ctx, ix, g, store.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 25
	pair := func(w, k int) []store.Write {
		a := entity(w*2, 106.5+float64(w)*1e-3, 29.6)
		b := entity(w*2+1, 106.5+float64(w)*1e-3, 29.61)
		a.Name, b.Name = fmt.Sprintf("重庆甲%d第%d有限公司", w, k), fmt.Sprintf("重庆乙%d第%d有限公司", w, k)
		a.Location, b.Location = orb.Point{106.5 + float64(k)*1e-4, 29.6}, orb.Point{106.5 + float64(k)*1e-4, 29.61}
		return []store.Write{{Layer: geo.LayerEntities, ID: a.ID, Feature: &a}, {Layer: geo.LayerEntities, ID: b.ID, Feature: &b}}
	}
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for range 2 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := ix.Snapshot()
				for w := range writers {
					a, okA := s.Entity(uscc(w * 2))
					b, okB := s.Entity(uscc(w*2 + 1))
					if okA != okB {
						t.Errorf("writer %d: half a request visible", w)
						return
					}
					if okA && (a.Version+1 != b.Version || a.Name[len("重庆甲"):] != b.Name[len("重庆乙"):]) {
						t.Errorf("writer %d: %s v%d beside %s v%d", w, a.Name, a.Version, b.Name, b.Version)
						return
					}
				}
			}
		}()
	}
	var wg sync.WaitGroup
	var changes sync.Map
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				ws := pair(w, k)
				var ifv uint64
				if k > 0 { // If-Match on its own last version: nobody else writes these
					cur, _ := ix.Snapshot().Entity(uscc(w * 2))
					ifv = cur.Version
					ws[0].IfVersion = ifv
				}
				res, err := st.Apply(ctx, fmt.Sprint("w", w), ws)
				if err != nil {
					t.Error(err)
					return
				}
				changes.Store(res.Seq, res.Changes)
				// read-your-writes: the answer means published
				for j, wr := range ws {
					got, ok := ix.Snapshot().Feature(wr.Layer, wr.ID)
					if !ok || store.VersionOf(got) < res.Versions[j] {
						t.Errorf("writer %d: %s not visible at version %d after the answer", w, wr.ID, res.Versions[j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	if t.Failed() {
		return
	}
	total := 0
	changes.Range(func(_, v any) bool { total += v.(int); return true })
	if total != writers*each*2 || st.Seq() != uint64(total) {
		t.Fatalf("%d changes answered, seq %d, want %d", total, st.Seq(), writers*each*2)
	}
	log, err := st.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range log {
		if c.Seq != uint64(i+1) {
			t.Fatalf("gap in the change log at %d: seq %d", i, c.Seq)
		}
	}
	c := g.commits()
	if len(c) >= writers*each {
		t.Fatalf("%d commits for %d requests: no group formed", len(c), writers*each)
	}
	t.Logf("%d requests in %d commits", writers*each, len(c))
	want := state(t, ix.Snapshot())
	st.Close()
	st2, ix2 := openStore(t, path)
	defer st2.Close()
	if !reflect.DeepEqual(state(t, ix2.Snapshot()), want) {
		t.Fatal("the reopened store differs from the index")
	}
}
