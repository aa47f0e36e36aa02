package geo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/paulmach/orb"
)

// repackModel is a test's own record of the live entities, by ID.
type repackModel map[string]Entity

// write applies one random write to ix and m: a move (with a new risk),
// a risk change in place, a delete or an insert of an absent ID from ids.
func (m repackModel) write(t testing.TB, ix *Index, r *rand.Rand, ids []string, around []orb.Point) {
	t.Helper()
	id := ids[r.IntN(len(ids))]
	e, had := m[id]
	switch k := r.IntN(10); {
	case had && k < 5: // move up to ~300 m
		e.Location = orb.Point{e.Location[0] + (r.Float64()-0.5)*0.006, e.Location[1] + (r.Float64()-0.5)*0.0054}
		e.Risk = []Risk{RiskA, RiskB, RiskC, RiskD}[r.IntN(4)]
	case had && k < 7: // risk only
		e.Risk = []Risk{RiskA, RiskB, RiskC, RiskD}[r.IntN(4)]
	case had: // delete
		if err := ix.Delete(LayerEntities, id); err != nil {
			t.Fatal(err)
		}
		delete(m, id)
		return
	default: // insert
		e = testEntity(r.IntN(1<<20), around[r.IntN(len(around))])
		e.ID = id
	}
	if err := ix.UpsertEntity(e); err != nil {
		t.Fatal(err)
	}
	m[id] = e
}

// checkTree compares the whole of the snapshot's entity tree (every live
// point, through the tree alone) with the model.
func checkTree(t testing.TB, s *Snapshot, m repackModel, where string) {
	t.Helper()
	got := map[string]orb.Point{}
	n := 0
	s.entities.tree.search([2]float64{-180, -90}, [2]float64{180, 90}, func(p [2]float64, it pitem) bool {
		e := s.entities.slots.get(it.slot)
		got[e.ID] = p
		n++
		if it.bits != entityBits(e) {
			t.Errorf("%s: %s has bits %x in the tree, %x in the entity", where, e.ID, it.bits, entityBits(e))
		}
		return true
	})
	if n != len(m) || len(got) != len(m) || s.entities.tree.len() != len(m) {
		t.Fatalf("%s: tree holds %d points (%d distinct, len %d), model %d", where, n, len(got), s.entities.tree.len(), len(m))
	}
	for id, e := range m {
		if p, ok := got[id]; !ok || p != e.Location {
			t.Fatalf("%s: %s at %v in the tree (present %v), model %v", where, id, p, ok, e.Location)
		}
		if se, ok := s.Entity(id); !ok || se.Risk != e.Risk {
			t.Fatalf("%s: %s: snapshot %v, model risk %v", where, id, se, e.Risk)
		}
	}
}

// checkQueries compares Nearby, KNearest and InBBox on s around c with a
// brute force over the snapshot's live entities (ScanEntities, which does
// not touch the trees).
func checkQueries(t testing.TB, s *Snapshot, c orb.Point, radius float64, where string) {
	t.Helper()
	ctx := context.Background()
	type ed struct {
		id string
		d  float64
		p  orb.Point
	}
	var all []ed
	s.ScanEntities(func(e *Entity) bool {
		all = append(all, ed{e.ID, oracleM(c, e.Location), e.Location})
		return true
	})
	res, err := s.Nearby(ctx, LayerEntities, c, radius, Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range res.Hits {
		got[h.ID()] = true
		if h.DistanceM > radius*(1+1e-9) {
			t.Fatalf("%s: nearby hit %s at %.3f m beyond %v", where, h.ID(), h.DistanceM, radius)
		}
	}
	for _, x := range all {
		if x.d <= radius*(1-1e-9) && !got[x.id] {
			t.Fatalf("%s: nearby %v r=%v missed %s at %.3f m (%d hits)", where, c, radius, x.id, x.d, len(res.Hits))
		}
	}
	if len(got) != len(res.Hits) {
		t.Fatalf("%s: nearby returned an ID twice", where)
	}
	// k nearest: the distances of the k first of the brute force
	const k = 7
	kn, err := s.KNearest(ctx, LayerEntities, c, k, Query{})
	if err != nil {
		t.Fatal(err)
	}
	ds := make([]float64, len(all))
	for i, x := range all {
		ds[i] = x.d
	}
	sort.Float64s(ds)
	if want := min(k, len(ds)); len(kn.Hits) != want {
		t.Fatalf("%s: knearest %d hits, want %d", where, len(kn.Hits), want)
	}
	for i, h := range kn.Hits {
		if math.Abs(h.DistanceM-ds[i]) > 1e-6*math.Max(1, ds[i]) {
			t.Fatalf("%s: knearest hit %d at %.6f m, brute force %.6f m", where, i, h.DistanceM, ds[i])
		}
	}
	// a box of ~1 km around c
	b := orb.Bound{Min: orb.Point{c[0] - 0.005, c[1] - 0.0045}, Max: orb.Point{c[0] + 0.005, c[1] + 0.0045}}
	bb, err := s.InBBox(ctx, LayerEntities, b, Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, x := range all {
		if b.Contains(x.p) {
			want = append(want, x.id)
		}
	}
	var gotB []string
	for _, h := range bb.Hits {
		gotB = append(gotB, h.ID())
	}
	slices.Sort(want)
	slices.Sort(gotB)
	if !slices.Equal(want, gotB) {
		t.Fatalf("%s: bbox %d hits, brute force %d", where, len(gotB), len(want))
	}
}

// repackFixture loads n entities around Chongqing into a new index with
// opts and returns it with the model and the IDs writes may use (the
// loaded ones and twice as many absent).
func repackFixture(t testing.TB, r *rand.Rand, opts Options, n int) (*Index, repackModel, []string, []orb.Point) {
	t.Helper()
	ix, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	pts := clusteredPoints(r, n, 106.55, 29.56)
	m := repackModel{}
	b := ix.Batch()
	var ids []string
	for i, p := range pts {
		e := testEntity(i, p)
		if err := b.UpsertEntity(e); err != nil {
			t.Fatal(err)
		}
		m[e.ID] = e
		ids = append(ids, e.ID)
	}
	for i := n; i < 3*n; i++ {
		ids = append(ids, makeUSCC(i))
	}
	b.Commit()
	if n > 1024 && ix.Snapshot().entities.tree.base == nil {
		t.Fatal("setup: the bulk load left no packed base")
	}
	return ix, m, ids, pts
}

// TestRepackRacingWritesLosesNone drives background repacks by hand: each
// job is packed and swapped in at random moments among random writes
// (moves, risk changes, deletes, inserts; sometimes a commit's own
// rebuild, which supersedes the job; sometimes a cancelled job), and after
// every step the tree must hold exactly the model's points, and queries
// must agree with a brute force. Fixed seeds: the interleavings repeat.
func TestRepackRacingWritesLosesNone(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 99))
			ix, m, ids, around := repackFixture(t, r, Options{RepackChurn: 6 + int(seed)}, 600)
			type built struct {
				j    *repackJob
				base *packed
			}
			var launched []*repackJob
			var ready []built
			ix.launch = func(j *repackJob) { launched = append(launched, j) }
			swaps, superseded, cancelled := 0, 0, 0
			big := false
			for step := range 400 {
				where := fmt.Sprintf("step %d", step)
				switch k := r.IntN(20); {
				case k < 3 && len(launched) > 0: // pack a launched job now
					j := launched[0]
					launched = launched[1:]
					if r.IntN(8) == 0 {
						// cancelled while packing
						ctx, cancel := context.WithCancel(context.Background())
						cancel()
						if _, err := packLive(ctx, j.from); err == nil && j.from.len() > packStep {
							t.Fatal("packLive ignored its cancelled context")
						}
						j.ended.Store(true)
						ix.repacks.Done()
						cancelled++
						break
					}
					base, err := packLive(context.Background(), j.from)
					if err != nil {
						t.Fatal(err)
					}
					ready = append(ready, built{j, base})
				case k < 6 && len(ready) > 0: // swap a packed job in now
					b := ready[0]
					ready = ready[1:]
					before := ix.Snapshot()
					if ix.swapRepack(b.j, b.base) {
						swaps++
						after := ix.Snapshot()
						if after.Version() != before.Version() {
							t.Fatalf("%s: a repack changed the version %d -> %d", where, before.Version(), after.Version())
						}
						if after.entities.tree.job != nil || len(after.entities.tree.log) != 0 {
							t.Fatalf("%s: the swapped tree still logs", where)
						}
					} else {
						superseded++
					}
					ix.repacks.Done()
				case k == 6 && step >= 150 && !big: // a large batch: the commit rebuilds
					// every live entity moved and every absent one inserted:
					// a churn past 2048 and a quarter of the tree
					big = true
					bt := ix.Batch()
					for i, id := range ids {
						e, ok := m[id]
						if ok {
							e.Location = orb.Point{e.Location[0] + 1e-5, e.Location[1]}
						} else {
							e = testEntity(i, around[r.IntN(len(around))])
							e.ID = id
						}
						m[id] = e
						if err := bt.UpsertEntity(e); err != nil {
							t.Fatal(err)
						}
					}
					bt.Commit()
					if tr := ix.Snapshot().entities.tree; tr.delta.Len() != 0 || tr.ndead != 0 {
						t.Fatalf("%s: the large batch did not rebuild (delta %d, dead %d)", where, tr.delta.Len(), tr.ndead)
					}
				default:
					m.write(t, ix, r, ids, around)
				}
				s := ix.Snapshot()
				checkTree(t, s, m, where)
				if step%10 == 0 {
					c := around[r.IntN(len(around))]
					checkQueries(t, s, c, []float64{200, 1000, 5000}[r.IntN(3)], where)
				}
				if tr := s.entities.tree; tr.job != nil && tr.job.ended.Load() && step > 0 {
					// a commit since the cancel stops the logging
					m.write(t, ix, r, ids, around)
					if tr2 := ix.Snapshot().entities.tree; tr2.job == tr.job {
						t.Fatalf("%s: a cancelled job still logs", where)
					}
					checkTree(t, ix.Snapshot(), m, where)
				}
			}
			// finish whatever is left, in order
			for _, j := range launched {
				base, err := packLive(context.Background(), j.from)
				if err != nil {
					t.Fatal(err)
				}
				ready = append(ready, built{j, base})
			}
			for _, b := range ready {
				if ix.swapRepack(b.j, b.base) {
					swaps++
				}
				ix.repacks.Done()
			}
			checkTree(t, ix.Snapshot(), m, "end")
			if swaps == 0 {
				t.Fatalf("no repack was swapped in (superseded %d, cancelled %d)", superseded, cancelled)
			}
			ix.Close()
			t.Logf("swaps %d, superseded %d, cancelled %d", swaps, superseded, cancelled)
		})
	}
}

// TestRepackConcurrent runs writers and readers at once on an index that
// repacks in the background after every few writes (run it with -race):
// every query on a snapshot agrees with a brute force over that
// snapshot's live entities, and once the writers and the repacks are done
// the index holds exactly what the writers wrote.
func TestRepackConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	ix, m, ids, around := repackFixture(t, r, Options{RepackChurn: 24}, 3000)
	base0 := ix.Snapshot().entities.tree.base
	var launched int
	ix.launch = func(j *repackJob) { // under the writer lock
		launched++
		go ix.runRepack(j)
	}
	const writers, readers = 3, 3
	writes := 400
	if testing.Short() {
		writes = 150
	}
	models := make([]repackModel, writers)
	var wg sync.WaitGroup
	for w := range writers {
		// each writer owns the IDs i ≡ w (mod writers)
		mine := repackModel{}
		var own []string
		for i, id := range ids {
			if i%writers == w {
				own = append(own, id)
				if e, ok := m[id]; ok {
					mine[id] = e
				}
			}
		}
		models[w] = mine
		wg.Add(1)
		go func() {
			defer wg.Done()
			wr := rand.New(rand.NewPCG(uint64(w), 7))
			for range writes {
				mine.write(t, ix, wr, own, around)
			}
		}()
	}
	done := make(chan struct{})
	var rg sync.WaitGroup
	queries := make([]int, readers)
	for q := range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			rr := rand.New(rand.NewPCG(uint64(q), 11))
			for {
				select {
				case <-done:
					return
				default:
				}
				c := around[rr.IntN(len(around))]
				c = orb.Point{c[0] + rr.NormFloat64()*0.001, c[1] + rr.NormFloat64()*0.001}
				checkQueries(t, ix.Snapshot(), c, []float64{200, 1000, 3000}[rr.IntN(3)], fmt.Sprint("reader ", q))
				queries[q]++
			}
		}()
	}
	wg.Wait()
	close(done)
	rg.Wait()
	ix.repacks.Wait() // no writer is left to start one
	final := repackModel{}
	for _, mw := range models {
		for id, e := range mw {
			final[id] = e
		}
	}
	s := ix.Snapshot()
	checkTree(t, s, final, "end")
	if s.Counts().Entities != len(final) {
		t.Fatalf("%d entities, written %d", s.Counts().Entities, len(final))
	}
	if launched == 0 || s.entities.tree.base == base0 {
		t.Fatalf("no background repack swapped in (launched %d)", launched)
	}
	ix.Close()
	t.Logf("repacks launched %d, queries %v", launched, queries)
}

// TestRepackOptions: a negative RepackChurn turns background repacks off;
// after Close none starts, and a cancelled job leaves the tree as it was.
func TestRepackOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		churn  int
		close  bool
		starts bool
	}{
		{"default", 0, false, true},
		{"off", -1, false, false},
		{"closed", 8, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 3))
			ix, m, ids, around := repackFixture(t, r, Options{RepackChurn: tc.churn}, 2000)
			var launched []*repackJob
			ix.launch = func(j *repackJob) { launched = append(launched, j) }
			if tc.close {
				ix.Close()
			}
			for range 1100 { // churn past the default 1024 at most twice over
				m.write(t, ix, r, ids, around)
			}
			if got := len(launched) > 0; got != tc.starts {
				t.Fatalf("repack started %v, want %v", got, tc.starts)
			}
			checkTree(t, ix.Snapshot(), m, "after writes")
			if !tc.starts {
				return
			}
			// cancelled while packing: nothing changes, the logging stops
			before := ix.Snapshot()
			ix.cancel()
			cancelled := slices.Clone(launched)
			for _, j := range cancelled {
				ix.runRepack(j)
				if ix.Snapshot() != before || !j.ended.Load() {
					t.Fatal("a cancelled repack swapped in")
				}
			}
			m.write(t, ix, r, ids, around)
			if j := ix.Snapshot().entities.tree.job; j != nil && slices.Contains(cancelled, j) {
				t.Fatal("the commit after a cancelled repack still logs for it")
			}
			checkTree(t, ix.Snapshot(), m, "after cancel")
			for _, j := range launched[len(cancelled):] {
				ix.runRepack(j)
			}
			ix.Close()
		})
	}
}

// TestPackLiveMatchesBuild: the merge of a packed tree's live points with
// its delta holds the same points as a full build, in Hilbert order.
func TestPackLiveMatchesBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	ix, m, ids, around := repackFixture(t, r, Options{RepackChurn: -1}, 5000)
	for range 900 {
		m.write(t, ix, r, ids, around)
	}
	tr := ix.Snapshot().entities.tree
	if tr.delta.Len() == 0 || tr.ndead == 0 {
		t.Fatalf("setup: delta %d dead %d", tr.delta.Len(), tr.ndead)
	}
	p, err := packLive(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.pts) != len(m) {
		t.Fatalf("packed %d points, %d live", len(p.pts), len(m))
	}
	for i := 1; i < len(p.pts); i++ {
		a, b := p.pts[i-1], p.pts[i]
		if HilbertIndex(orb.Point{a.x, a.y}) > HilbertIndex(orb.Point{b.x, b.y}) {
			t.Fatalf("not in Hilbert order at %d", i)
		}
	}
	s := ix.Snapshot()
	for _, q := range p.pts {
		e := s.entities.slots.get(q.slot)
		if me, ok := m[e.ID]; !ok || me.Location != (orb.Point{q.x, q.y}) || q.bits != entityBits(&me) {
			t.Fatalf("packed %s at %v bits %x; model %v", e.ID, orb.Point{q.x, q.y}, q.bits, me)
		}
		if p.posOfSlot[q.slot] < 0 || p.pts[p.posOfSlot[q.slot]].slot != q.slot {
			t.Fatalf("posOfSlot wrong for slot %d", q.slot)
		}
	}
}
