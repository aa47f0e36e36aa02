package risk

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/paulmach/orb"
)

// testWorld is a store with an exchange's records collection teed to an
// engine, on a fixed clock.
type testWorld struct {
	ix  *geo.Index
	st  *store.Store
	eng *Engine
	now time.Time
}

func newTestWorld(t testing.TB, path string, opts Options) *testWorld {
	t.Helper()
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := exchange.New(exchange.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &testWorld{ix: ix, now: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = func() time.Time { return w.now }
	}
	if opts.Recheck == 0 {
		opts.Recheck = -1
	}
	eng, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), path, ix, store.Options{NoSnapshot: true,
		Collections: []store.Collection{eng.RecordsCollection(ex.Collection()), eng.OverridesCollection()}})
	if err != nil {
		t.Fatal(err)
	}
	ex.Attach(st)
	if err := eng.Start(ix, st); err != nil {
		t.Fatal(err)
	}
	w.st, w.eng = st, eng
	t.Cleanup(func() { eng.Close(); st.Close() })
	return w
}

func (w *testWorld) apply(t testing.TB, ws ...store.Write) {
	t.Helper()
	if _, err := w.st.Apply(context.Background(), "test", ws); err != nil {
		t.Fatal(err)
	}
}

func (w *testWorld) sync(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.eng.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalEqualsFull: after random sequences of entity writes,
// record writes and deletes, overrides set and removed and the clock
// moving, every entity's class in the index equals a full evaluation of
// it from scratch (Rules.Evaluate over all its records, plus its
// override), and a full recomputation changes nothing.
func TestIncrementalEqualsFull(t *testing.T) {
	w := newTestWorld(t, ":memory:", Options{})
	r := rand.New(rand.NewPCG(18, 2))
	const nEnt = 60
	var ids []string
	for i := 0; i < nEnt; i++ {
		id := randUSCC(r)
		ids = append(ids, id)
		e := randEntity(r, id, w.now)
		w.apply(t, store.Write{Layer: geo.LayerEntities, ID: id, Feature: &e})
	}
	records := map[string]exchange.Record{} // the test's own copy of what is stored
	overrides := map[string]Override{}
	key := 0
	check := func(step int) {
		t.Helper()
		w.sync(t)
		snap := w.ix.Snapshot()
		for _, id := range ids {
			e, ok := snap.Entity(id)
			if !ok {
				t.Fatalf("step %d: entity %s lost", step, id)
			}
			var recs []exchange.Record
			for _, rec := range records {
				if rec.EntityID == id {
					recs = append(recs, rec)
				}
			}
			want := w.eng.Rules().Evaluate(e, recs, w.now).Class
			if o, ok := overrides[id]; ok && dayOf(o.Expires) >= Day(w.now) {
				want = o.Class
			}
			if e.Risk != want {
				t.Fatalf("step %d: entity %s has class %q in the index, a full evaluation gives %q", step, id, e.Risk, want)
			}
			a, err := w.eng.Assess(id)
			if err != nil || a.Class != want || a.Stored != want {
				t.Fatalf("step %d: Assess(%s) = %+v, %v; want class %s", step, id, a, err, want)
			}
		}
	}
	check(0)
	box := Area{Bound: orb.Bound{Min: orb.Point{106.5, 29.6}, Max: orb.Point{106.53, 29.63}}}
	cached := box
	cached.Key = "box"
	for step := 1; step <= 400; step++ {
		if step%7 == 0 { // the cached members of an area follow moves, additions and deletions
			w.sync(t)
			a, err1 := w.eng.Summary(context.Background(), box)
			b, err2 := w.eng.Summary(context.Background(), cached)
			if err1 != nil || err2 != nil || a.Entities != b.Entities || a.ByClass[geo.RiskA] != b.ByClass[geo.RiskA] || a.Entities == 0 {
				t.Fatalf("step %d: summary %+v, cached %+v (%v %v)", step, a, b, err1, err2)
			}
		}
		id := ids[r.IntN(nEnt)]
		switch op := r.IntN(10); {
		case op < 4: // a record arrives
			rec := randRecord(r, id, key, w.now)
			key++
			records[rec.ID] = rec
			w.apply(t, store.Write{Layer: exchange.Collection, ID: rec.ID, Feature: rec})
		case op == 4 && len(records) > 0: // a record is corrected (same key, new content) or deleted
			for rid, rec := range records {
				if r.IntN(2) == 0 {
					delete(records, rid)
					w.apply(t, store.Write{Layer: exchange.Collection, ID: rid})
				} else {
					rec.Date = randDate(r, w.now, 900, 0)
					rec.Seal()
					records[rec.ID] = rec
					w.apply(t, store.Write{Layer: exchange.Collection, ID: rec.ID, Feature: rec})
				}
				break
			}
		case op < 7: // the entity is rewritten (status, flags, industry, a stray risk)
			e := randEntity(r, id, w.now)
			w.apply(t, store.Write{Layer: geo.LayerEntities, ID: id, Feature: &e})
		case op == 7: // an override
			o := Override{EntityID: id, Class: geo.Risk(string("ABCD"[r.IntN(4)])), Reason: "现场核查", Expires: w.now.AddDate(0, 0, r.IntN(20)).Format("2006-01-02")}
			if _, err := w.eng.SetOverride(context.Background(), o, "inspector"); err != nil {
				t.Fatal(err)
			}
			overrides[id] = o
		case op == 8 && len(overrides) > 0:
			for oid := range overrides {
				if _, err := w.eng.DeleteOverride(context.Background(), oid, "inspector"); err != nil {
					t.Fatal(err)
				}
				delete(overrides, oid)
				break
			}
		default: // time passes: windows move, overrides and licences expire
			w.sync(t)
			w.now = w.now.AddDate(0, 0, 1+r.IntN(40))
			if _, err := w.eng.Recompute(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if step%10 == 0 {
			check(step)
		}
	}
	check(401)
	seq := w.st.Seq()
	if _, err := w.eng.Recompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.sync(t)
	if w.st.Seq() != seq {
		t.Fatalf("a full recomputation after the incremental one wrote %d changes", w.st.Seq()-seq)
	}
}

// TestRecordChangesClassAtOnce: a blacklist record written through the
// store makes the entity D in the index (and so in filters), with the
// record as the reason's evidence; an override shows as such and its
// removal restores the computed class.
func TestRecordChangesClassAtOnce(t *testing.T) {
	w := newTestWorld(t, ":memory:", Options{})
	r := rand.New(rand.NewPCG(18, 3))
	id := randUSCC(r)
	e := geo.Entity{ID: id, Name: "重庆测试科技有限公司", Industry: "I6513", Status: geo.StatusActive, AnnualReport: true,
		RegisteredAt: w.now.AddDate(-1, 0, 0), Location: [2]float64{106.5, 29.6}, Risk: geo.RiskD}
	w.apply(t, store.Write{Layer: geo.LayerEntities, ID: id, Feature: &e})
	w.sync(t)
	if got, _ := w.ix.Snapshot().Entity(id); got.Risk != geo.RiskA {
		t.Fatalf("a clean new entity stored as %q, want A (the stray D written by the client is replaced)", got.Risk)
	}
	pen := exchange.Record{EntityID: id, Dept: "市场监督管理局", Kind: exchange.KindPenalty, Date: w.now.AddDate(0, -1, 0).Format("2006-01-02"),
		Fields: map[string]string{"罚没金额（万元）": "12", "处罚内容": "罚款"}, Source: exchange.Source{Key: "P1"}, Match: exchange.MatchInfo{Method: "api", Confidence: 1}}
	pen.Seal()
	w.apply(t, store.Write{Layer: exchange.Collection, ID: pen.ID, Feature: pen})
	w.sync(t)
	res, err := w.ix.Snapshot().InBBox(context.Background(), geo.LayerEntities, e.Location.Bound().Pad(0.01), geo.Query{Filter: geo.Filter{Risk: []geo.Risk{geo.RiskC, geo.RiskD}}})
	if err != nil || res.Total != 1 {
		t.Fatalf("risk=C,D filter after a severe penalty: %d hits, %v; want the entity", res.Total, err)
	}
	a, _ := w.eng.Assess(id)
	if a.Class != geo.RiskC || len(a.Reasons) == 0 {
		t.Fatalf("after a 12万元 penalty: %+v, want C with reasons", a)
	}
	found := false
	for _, rs := range a.Reasons {
		for _, ev := range rs.Evidence {
			found = found || (rs.Rule == "penalty_severe" && ev.RecordID == pen.ID && ev.Date == pen.Date)
		}
	}
	if !found {
		t.Fatalf("the penalty is not the evidence of penalty_severe: %+v", a.Reasons)
	}
	o := Override{EntityID: id, Class: geo.RiskA, Reason: "处罚已撤销，待部门更正", Expires: w.now.AddDate(0, 0, 10).Format("2006-01-02")}
	if _, err := w.eng.SetOverride(context.Background(), o, "inspector"); err != nil {
		t.Fatal(err)
	}
	w.sync(t)
	a, _ = w.eng.Assess(id)
	if got, _ := w.ix.Snapshot().Entity(id); got.Risk != geo.RiskA || a.Override == nil || a.Computed != geo.RiskC || a.Override.By != "inspector" {
		t.Fatalf("override: stored %q, assessment %+v", got.Risk, a)
	}
	w.now = w.now.AddDate(0, 0, 11) // the override expired
	if _, err := w.eng.Recompute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.ix.Snapshot().Entity(id); got.Risk != geo.RiskC {
		t.Fatalf("after the override's expiry the class is %q, want the computed C", got.Risk)
	}
}

func TestOverrideValidation(t *testing.T) {
	w := newTestWorld(t, ":memory:", Options{})
	id := randUSCC(rand.New(rand.NewPCG(1, 1)))
	e := geo.Entity{ID: id, Name: "重庆测试有限公司", Location: [2]float64{106.5, 29.6}}
	w.apply(t, store.Write{Layer: geo.LayerEntities, ID: id, Feature: &e})
	today := w.now.Format("2006-01-02")
	cases := []struct {
		name string
		o    Override
		want error
	}{
		{"no class", Override{EntityID: id, Reason: "x", Expires: today}, ErrInvalidOverride},
		{"class E", Override{EntityID: id, Class: "E", Reason: "x", Expires: today}, ErrInvalidOverride},
		{"no reason", Override{EntityID: id, Class: "B", Reason: "  ", Expires: today}, ErrInvalidOverride},
		{"past", Override{EntityID: id, Class: "B", Reason: "x", Expires: "2020-01-01"}, ErrInvalidOverride},
		{"too far", Override{EntityID: id, Class: "B", Reason: "x", Expires: "2099-01-01"}, ErrInvalidOverride},
		{"bad date", Override{EntityID: id, Class: "B", Reason: "x", Expires: "1 May"}, ErrInvalidOverride},
		{"bad id", Override{EntityID: "123", Class: "B", Reason: "x", Expires: today}, ErrInvalidOverride},
		{"unknown entity", Override{EntityID: randUSCC(rand.New(rand.NewPCG(2, 2))), Class: "B", Reason: "x", Expires: today}, ErrNotFound},
		{"ok, today", Override{EntityID: id, Class: "B", Reason: "x", Expires: today}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.eng.SetOverride(context.Background(), c.o, "t")
			if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	if _, err := w.eng.DeleteOverride(context.Background(), randUSCC(rand.New(rand.NewPCG(3, 3))), "t"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a missing override: %v", err)
	}
}
