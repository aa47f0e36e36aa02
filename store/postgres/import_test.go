package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/store/postgres"
	"github.com/paulmach/orb"
)

// TestImportChunked (issue 20): an import on PostgreSQL is committed in
// chunks of ImportChunk writes, each its own transaction (a 1M seeding in
// one transaction sat idle past idle_in_transaction_session_timeout while
// the index and the records were built, and held every node's write lock
// for minutes). Checked from outside the importer: the change log's
// commits (one commit time each) are at most a chunk long and number as
// the chunks do; another node's writes made during the import get
// sequence numbers between its chunks (the write lock is let go between
// them); a fresh node loads exactly what the importer published, and
// every feature of the scratch index is there.
func TestImportChunked(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	ctx := context.Background()
	const chunk = 700
	be, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	aix, _ := geo.New(geo.Options{})
	a, err := store.New(ctx, aix, be, store.Options{ImportChunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := openNode(t, url, schema, postgres.Options{})

	ds, err := demo.Generate(demo.Options{Entities: 3000})
	if err != nil {
		t.Fatal(err)
	}
	scratch, _ := geo.New(geo.Options{})
	if err := ds.Load(scratch); err != nil {
		t.Fatal(err)
	}
	c := scratch.Snapshot().Counts()
	total := c.Entities + c.Buildings + c.Places + c.Zones
	if total < 4*chunk {
		t.Fatalf("the data set has %d features, too few for chunks of %d", total, chunk)
	}

	// node B writes a place of its own over and over while A imports
	var mu sync.Mutex
	var bSeqs []uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	first := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := &geo.Place{ID: "b-place", Name: fmt.Sprintf("写入%d", i), Kind: "test", Location: orb.Point{106.55, 29.6}}
			res, err := b.st.Apply(ctx, "node-b", []store.Write{{Layer: geo.LayerPlaces, ID: p.ID, Feature: p}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			bSeqs = append(bSeqs, res.Seq)
			mu.Unlock()
			if i == 0 {
				close(first)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	<-first
	res, err := a.Import(ctx, "import:test", scratch.Snapshot())
	close(stop)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes != total || len(res.Versions) != total || len(res.Created) != total {
		t.Fatalf("import result: %d changes, %d versions, %d created; want %d each", res.Changes, len(res.Versions), len(res.Created), total)
	}

	// the change log: the import's records in commits of at most a chunk
	list, err := a.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	type commit struct {
		at     time.Time
		writer string
		n      int
	}
	var commits []commit
	for i, ch := range list {
		if ch.Seq != uint64(i+1) {
			t.Fatalf("change %d has seq %d: the log has a gap", i, ch.Seq)
		}
		if k := len(commits) - 1; k >= 0 && commits[k].at.Equal(ch.Time) && commits[k].writer == ch.Writer {
			commits[k].n++
			continue
		}
		commits = append(commits, commit{ch.Time, ch.Writer, 1})
	}
	imported, importCommits, lo, hi := 0, 0, uint64(0), uint64(0)
	for _, cm := range commits {
		if cm.writer != "import:test" {
			continue
		}
		importCommits++
		imported += cm.n
		if cm.n > chunk {
			t.Errorf("an import commit of %d changes, more than the chunk (%d)", cm.n, chunk)
		}
	}
	for _, ch := range list {
		if ch.Writer == "import:test" {
			if lo == 0 {
				lo = ch.Seq
			}
			hi = ch.Seq
		}
	}
	if want := (total + chunk - 1) / chunk; imported != total || importCommits != want {
		t.Errorf("the import: %d changes in %d commits, want %d in %d", imported, importCommits, total, want)
	}
	mu.Lock()
	between := 0
	for _, s := range bSeqs {
		if s > lo && s < hi {
			between++
		}
	}
	mu.Unlock()
	if between == 0 {
		t.Errorf("no write of node B was committed between the import's chunks (import seq %d–%d, B's %v)", lo, hi, bSeqs)
	}
	t.Logf("%d features in %d commits, %d of node B's writes between them", total, importCommits, between)

	// every feature of the scratch index is stored, as a fresh node loads it
	if err := b.st.WaitApplied(ctx, a.Seq(), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	want := state(t, aix.Snapshot())
	fresh := openNode(t, url, schema, postgres.Options{})
	sameState(t, "fresh node", want, state(t, fresh.ix.Snapshot()))
	sameState(t, "node B", want, state(t, b.ix.Snapshot()))
	fs := fresh.ix.Snapshot()
	missing := 0
	scratch.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		if got, ok := fs.Entity(e.ID); !ok || got.Name != e.Name || got.Location != e.Location {
			missing++
		}
		return true
	})
	if got := fs.Counts(); missing > 0 || got.Entities != c.Entities || got.Buildings != c.Buildings || got.Zones != c.Zones || got.Places != c.Places+1 {
		t.Errorf("fresh node: %+v (%d entities missing or different), want %+v and node B's place", got, missing, c)
	}
}

// TestTryLock: of two nodes, one takes a named lock and the other is told
// it is held (without waiting); when the holder closes (or releases it),
// the other can take it. PostgreSQL's own lock table is the oracle.
func TestTryLock(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	ctx := context.Background()
	open := func() *postgres.Backend {
		be, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { be.Close() })
		return be
	}
	held := func() int {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext($1)::oid", "marketgeo "+schema+" risk writer").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := open(), open()
	got, release, err := a.TryLock(ctx, "risk writer")
	if err != nil || !got || release == nil {
		t.Fatalf("first TryLock: %v, %v", got, err)
	}
	if n := held(); n != 1 {
		t.Errorf("pg_locks: %d sessions hold the lock, want 1", n)
	}
	if got, _, err := b.TryLock(ctx, "risk writer"); err != nil || got {
		t.Fatalf("second node's TryLock while held: %v, %v; want false", got, err)
	}
	if got, rel, err := b.TryLock(ctx, "another job"); err != nil || !got {
		t.Fatalf("another name: %v, %v", got, err)
	} else {
		rel()
	}
	a.Close() // the holder goes: its lock with it
	if n := held(); n != 0 {
		t.Errorf("pg_locks after the holder closed: %d", n)
	}
	got, release2, err := b.TryLock(ctx, "risk writer")
	if err != nil || !got {
		t.Fatalf("second node's TryLock after the holder closed: %v, %v", got, err)
	}
	release2()
	release2() // twice is harmless
	if n := held(); n != 0 {
		t.Errorf("pg_locks after release: %d", n)
	}
}
