package postgres_test

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
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

// testURL returns the test database (MARKETGEO_TEST_POSTGRES) or skips;
// with MARKETGEO_REQUIRE_POSTGRES=1 (CI, .ci/steps/27-postgres.sh) a
// missing database fails instead.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("MARKETGEO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("MARKETGEO_REQUIRE_POSTGRES") == "1" {
			t.Fatal("MARKETGEO_REQUIRE_POSTGRES=1 but MARKETGEO_TEST_POSTGRES is not set")
		}
		t.Skip("MARKETGEO_TEST_POSTGRES is not set (postgres://… of a database with PostGIS)")
	}
	return u
}

// newSchema returns a fresh schema name for one test, dropped at its end.
func newSchema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	crand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return // the database may be gone (restart test)
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE")
	})
	return name
}

// node is one marketgeo node: an index and a store over the schema.
type node struct {
	ix *geo.Index
	st *store.Store
}

func openNode(t testing.TB, url, schema string, opts postgres.Options) *node {
	t.Helper()
	ctx := context.Background()
	opts.Schema = schema
	be, err := postgres.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(ctx, ix, be, store.Options{})
	if err != nil {
		be.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &node{ix: ix, st: st}
}

// state is every feature of a snapshot rendered as GeoJSON, by layer and ID.
func state(t testing.TB, s *geo.Snapshot) map[string]string {
	t.Helper()
	out := map[string]string{}
	put := func(l geo.Layer, id string, v any) bool {
		b, err := json.Marshal(store.FeatureOf(v))
		if err != nil {
			t.Fatal(err)
		}
		out[string(l)+"/"+id] = string(b)
		return true
	}
	s.ScanEntities(func(e *geo.Entity) bool { return put(geo.LayerEntities, e.ID, e) })
	s.ScanBuildings(func(b *geo.Building) bool { return put(geo.LayerBuildings, b.ID, b) })
	s.ScanPlaces(func(p *geo.Place) bool { return put(geo.LayerPlaces, p.ID, p) })
	s.ScanZones(func(z *geo.Zone) bool { return put(geo.LayerZones, z.ID, z) })
	return out
}

// sameState fails unless two states hold the same features.
func sameState(t testing.TB, what string, want, got map[string]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d features, want %d", what, len(got), len(want))
	}
	bad := 0
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			if bad++; bad <= 3 {
				t.Errorf("%s: %s\n got %s\nwant %s", what, k, got[k], want[k])
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d features differ", what, bad)
	}
}

func seedDemo(t testing.TB, st *store.Store, n int) *demo.Dataset {
	t.Helper()
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		t.Fatal(err)
	}
	scratch, _ := geo.New(geo.Options{})
	if err := ds.Load(scratch); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), "import:test", scratch.Snapshot()); err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestMigrationsAndLayout(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	ctx := context.Background()
	for range 2 { // the second open finds everything applied
		be, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		be.Close()
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM "+schema+".mg_migrations").Scan(&n); err != nil || n != 1 {
		t.Fatalf("mg_migrations: %d rows, %v; want 1", n, err)
	}
	// geometry_columns: PostGIS's own catalogue, as QGIS reads it
	want := map[string]string{"entities": "POINT", "buildings": "POLYGON", "places": "POINT", "zones": "MULTIPOLYGON"}
	rows, err := c.Query(ctx, "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = $1", schema)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var tbl, typ string
		var srid int
		if err := rows.Scan(&tbl, &typ, &srid); err != nil {
			t.Fatal(err)
		}
		if srid != 4326 {
			t.Errorf("%s: srid %d", tbl, srid)
		}
		got[tbl] = typ
	}
	for tbl, typ := range want {
		if got[tbl] != typ {
			t.Errorf("geometry_columns %s: %q, want %q", tbl, got[tbl], typ)
		}
		var gist int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexdef LIKE '%USING gist (geom)%'", schema, tbl).Scan(&gist); err != nil || gist != 1 {
			t.Errorf("%s: %d GiST indexes on geom (%v)", tbl, gist, err)
		}
	}
	if _, err := postgres.Open(ctx, url, postgres.Options{Schema: "Bad-Name"}); !errors.Is(err, postgres.ErrConfig) {
		t.Errorf("bad schema: %v, want ErrConfig", err)
	}
}

// TestLoadEqualsWriter: a node that loads the database (COPY binary) holds
// exactly what the writing node published, and SQL sees the same points.
func TestLoadEqualsWriter(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	a := openNode(t, url, schema, postgres.Options{})
	seedDemo(t, a.st, 2000)
	want := state(t, a.ix.Snapshot())
	b := openNode(t, url, schema, postgres.Options{})
	sameState(t, "fresh node", want, state(t, b.ix.Snapshot()))
	if a.st.Seq() != b.st.Seq() || a.st.Seq() == 0 {
		t.Errorf("seq: writer %d, fresh %d", a.st.Seq(), b.st.Seq())
	}
	// an independent reader: PostGIS's own coordinates of some entities
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT id, ST_X(geom), ST_Y(geom), version FROM "+schema+".entities ORDER BY id LIMIT 50")
	if err != nil {
		t.Fatal(err)
	}
	snap := a.ix.Snapshot()
	n := 0
	for rows.Next() {
		var id string
		var x, y float64
		var ver int64
		if err := rows.Scan(&id, &x, &y, &ver); err != nil {
			t.Fatal(err)
		}
		e, ok := snap.Entity(id)
		if !ok || e.Location != (orb.Point{x, y}) || e.Version != uint64(ver) {
			t.Errorf("entity %s: PostGIS (%v %v) v%d, index %+v", id, x, y, ver, e)
		}
		n++
	}
	if n != 50 {
		t.Errorf("%d rows", n)
	}
	// a second bulk import over the same features replaces every row
	// (COPY into a staging table, then upsert): a fresh node sees the new
	// versions
	seedDemo(t, a.st, 2000)
	want = state(t, a.ix.Snapshot())
	c2 := openNode(t, url, schema, postgres.Options{})
	sameState(t, "fresh node after a re-import", want, state(t, c2.ix.Snapshot()))
}

// randomWrites writes n random changes of the dataset's entities through
// st: relocations, status and risk changes, deletes and re-creations.
func randomWrites(t testing.TB, st *store.Store, ds *demo.Dataset, r *rand.Rand, n int) (acked []store.Result, errs int) {
	ctx := context.Background()
	for range n {
		e := ds.Entities[r.IntN(len(ds.Entities))]
		var w store.Write
		switch r.IntN(5) {
		case 0:
			w = store.Write{Layer: geo.LayerEntities, ID: e.ID}
		case 1:
			e.Location = orb.Point{e.Location[0] + (r.Float64()-0.5)*0.01, e.Location[1] + (r.Float64()-0.5)*0.01}
			w = store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}
		default:
			e.Risk = []geo.Risk{geo.RiskA, geo.RiskB, geo.RiskC, geo.RiskD}[r.IntN(4)]
			e.Name = fmt.Sprintf("%s %d", e.Name, r.IntN(1000))
			w = store.Write{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}
		}
		res, err := st.Apply(ctx, "test", []store.Write{w})
		if err != nil {
			errs++
			continue
		}
		acked = append(acked, res)
	}
	return acked, errs
}

// TestThreeNodes: writes spread over three nodes at once; at the end every
// node holds what a fresh node loads from the database, and each write's
// sequence number is readable on the other nodes after WaitApplied.
func TestThreeNodes(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	nodes := []*node{openNode(t, url, schema, postgres.Options{})}
	ds := seedDemo(t, nodes[0].st, 500)
	nodes = append(nodes, openNode(t, url, schema, postgres.Options{}), openNode(t, url, schema, postgres.Options{}))
	var wg sync.WaitGroup
	results := make([][]store.Result, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var errs int
			results[i], errs = randomWrites(t, n.st, ds, r, 150)
			if errs > 0 {
				t.Errorf("node %d: %d writes failed", i, errs)
			}
		}()
	}
	wg.Wait()
	// read-your-writes elsewhere: node (i+1)%3 waits for node i's last seq
	ctx := context.Background()
	for i := range nodes {
		last := results[i][len(results[i])-1].Seq
		if err := nodes[(i+1)%3].st.WaitApplied(ctx, last, 5*time.Second); err != nil {
			t.Fatalf("node %d waiting for node %d's seq %d: %v", (i+1)%3, i, last, err)
		}
	}
	seqs := map[uint64]bool{}
	for i := range results {
		for _, r := range results[i] {
			if r.Changes == 0 { // a delete of a missing entity: nothing written
				continue
			}
			if seqs[r.Seq] {
				t.Errorf("seq %d acknowledged twice", r.Seq)
			}
			seqs[r.Seq] = true
		}
	}
	for _, n := range nodes {
		if err := n.st.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fresh := openNode(t, url, schema, postgres.Options{})
	want := state(t, fresh.ix.Snapshot())
	for i, n := range nodes {
		if n.st.Seq() != fresh.st.Seq() {
			t.Errorf("node %d at seq %d, the database at %d", i, n.st.Seq(), fresh.st.Seq())
		}
		sameState(t, fmt.Sprintf("node %d", i), want, state(t, n.ix.Snapshot()))
	}
	// the change log has no gap and every acknowledged seq is in it
	list, err := fresh.st.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range list {
		if c.Seq != uint64(i+1) {
			t.Fatalf("change log: seq %d at position %d", c.Seq, i)
		}
	}
	for s := range seqs {
		if s > uint64(len(list)) {
			t.Errorf("acknowledged seq %d not in the log (%d changes)", s, len(list))
		}
	}
}

// TestPreconditionAcrossNodes: If-Match is checked against the database's
// order, not a node's possibly stale copy: a write on B with the version
// B saw before A's write answers ErrConflict.
func TestPreconditionAcrossNodes(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	a := openNode(t, url, schema, postgres.Options{})
	ds := seedDemo(t, a.st, 300)
	b := openNode(t, url, schema, postgres.Options{})
	ctx := context.Background()
	e := ds.Entities[3]
	cur, _ := b.ix.Snapshot().Entity(e.ID)
	v0 := cur.Version
	e.Risk = geo.RiskD
	if _, err := a.st.Apply(ctx, "a", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfVersion: v0}}); err != nil {
		t.Fatal(err)
	}
	e.Risk = geo.RiskC
	_, err := b.st.Apply(ctx, "b", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e, IfVersion: v0}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale If-Match on another node: %v, want ErrConflict", err)
	}
	got, _ := b.ix.Snapshot().Entity(e.ID)
	if got.Risk != geo.RiskD {
		t.Errorf("node b has risk %q after A's write, want D", got.Risk)
	}
}

// TestOutOfOrderCommits: two transactions take sequence numbers N+1 and
// N+2; N+2 commits first. No follower may apply N+2 before N+1, nor skip
// N+1 once it commits. (The store's own writers cannot produce this — the
// sequence row's lock orders them — so the test writes the change log
// directly, as a foreign writer or a future partitioned sequence could.)
func TestOutOfOrderCommits(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	a := openNode(t, url, schema, postgres.Options{})
	ds := seedDemo(t, a.st, 300)
	f := openNode(t, url, schema, postgres.Options{})
	ctx := context.Background()
	n := a.st.Seq()
	c1, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close(ctx)
	c2, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	put := func(tx pgx.Tx, seq uint64, e geo.Entity) {
		e.Version = seq
		feat, _ := json.Marshal(store.FeatureOf(&e))
		if _, err := tx.Exec(ctx, "INSERT INTO "+schema+".mg_changes (seq, time, layer, id, op, writer, feature) VALUES ($1, now(), 'entities', $2, 'put', 'raw', $3::text::json)", int64(seq), e.ID, string(feat)); err != nil {
			t.Fatal(err)
		}
	}
	e1, e2 := ds.Entities[1], ds.Entities[2]
	e1.Name, e2.Name = "先取号后提交", "后取号先提交"
	t1, err := c1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	put(t1, n+1, e1)
	t2, err := c2.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	put(t2, n+2, e2)
	if _, err := t2.Exec(ctx, "UPDATE "+schema+".mg_seq SET last = $1", int64(n+2)); err != nil {
		t.Fatal(err)
	}
	if _, err := t2.Exec(ctx, "SELECT pg_notify($1, 'x')", "marketgeo_"+schema); err != nil {
		t.Fatal(err)
	}
	if err := t2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// N+2 is visible, N+1 is not: the follower must wait
	time.Sleep(300 * time.Millisecond)
	if err := f.st.CatchUp(ctx); !errors.Is(err, store.ErrBehind) {
		t.Errorf("CatchUp with N+1 uncommitted: %v, want ErrBehind", err)
	}
	if s := f.st.Seq(); s != n {
		t.Fatalf("follower at seq %d with %d uncommitted, want %d", s, n+1, n)
	}
	if got, _ := f.ix.Snapshot().Entity(e2.ID); got.Name == e2.Name {
		t.Fatal("the follower applied N+2 before N+1")
	}
	if r := f.st.Replication(); r.Head != n+2 || r.Applied != n {
		t.Errorf("replication %+v, want head %d applied %d", r, n+2, n)
	}
	if err := t1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.st.WaitApplied(ctx, n+2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	snap := f.ix.Snapshot()
	for _, e := range []geo.Entity{e1, e2} {
		if got, _ := snap.Entity(e.ID); got.Name != e.Name {
			t.Errorf("%s: name %q, want %q", e.ID, got.Name, e.Name)
		}
	}
	if r := f.st.Replication(); r.Applied != n+2 || r.Lag != 0 {
		t.Errorf("replication %+v after catching up", r)
	}
}

// pgCtl runs pg_ctl on the test cluster (MARKETGEO_TEST_PGDATA), as the
// postgres user when the test runs as root.
func pgCtl(t testing.TB, args ...string) {
	t.Helper()
	data := os.Getenv("MARKETGEO_TEST_PGDATA")
	bin := "/usr/lib/postgresql/15/bin/pg_ctl"
	full := append([]string{bin, "-D", data, "-w"}, args...)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--"}, full...)...)
	} else {
		cmd = exec.Command(full[0], full[1:]...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

// TestPostgresRestart: PostgreSQL stopped and started under a stream of
// writes on two nodes: writes fail with ErrUnavailable while it is down,
// reads go on from memory, every acknowledged write survives and the
// nodes end equal to a fresh node, with no gap in the change log.
func TestPostgresRestart(t *testing.T) {
	url := testURL(t)
	if os.Getenv("MARKETGEO_TEST_PGDATA") == "" {
		if os.Getenv("MARKETGEO_REQUIRE_POSTGRES") == "1" {
			t.Fatal("MARKETGEO_TEST_PGDATA is not set")
		}
		t.Skip("MARKETGEO_TEST_PGDATA (the test cluster's data directory) is not set")
	}
	schema := newSchema(t, url)
	a := openNode(t, url, schema, postgres.Options{})
	ds := seedDemo(t, a.st, 300)
	b := openNode(t, url, schema, postgres.Options{})
	ctx := context.Background()
	stop := make(chan struct{})
	var mu sync.Mutex
	acked := map[string]store.Result{} // entity → its last acknowledged write
	var unavailable int
	var wg sync.WaitGroup
	for i, n := range []*node{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				e := ds.Entities[(k*2+i)%len(ds.Entities)] // the two nodes write different entities
				e.Name = fmt.Sprintf("写入%d-%d", i, k)
				res, err := n.st.Apply(ctx, "test", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}})
				mu.Lock()
				switch {
				case err == nil:
					acked[e.ID] = res
				case errors.Is(err, store.ErrUnavailable):
					unavailable++
				default:
					t.Errorf("node %d: %v", i, err)
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	pgCtl(t, "stop", "-m", "fast")
	down := time.Now()
	// reads go on from memory while the database is down
	for _, n := range []*node{a, b} {
		if _, ok := n.ix.Snapshot().Entity(ds.Entities[0].ID); !ok {
			t.Error("a read failed while PostgreSQL is down")
		}
	}
	time.Sleep(700 * time.Millisecond)
	if r := b.st.Replication(); r.Connected {
		t.Errorf("replication while down: %+v", r)
	}
	pgCtl(t, "start", "-l", os.Getenv("MARKETGEO_TEST_PGDATA")+"/log")
	t.Logf("PostgreSQL down for %s", time.Since(down).Round(time.Millisecond))
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if unavailable == 0 {
		t.Error("no write failed with ErrUnavailable while PostgreSQL was down")
	}
	for _, n := range []*node{a, b} {
		if err := n.st.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fresh := openNode(t, url, schema, postgres.Options{})
	want := state(t, fresh.ix.Snapshot())
	sameState(t, "node a", want, state(t, a.ix.Snapshot()))
	sameState(t, "node b", want, state(t, b.ix.Snapshot()))
	snap := fresh.ix.Snapshot()
	for id, res := range acked {
		e, ok := snap.Entity(id)
		if !ok || e.Version < res.Versions[0] {
			t.Errorf("acknowledged write of %s (version %d) lost: %+v", id, res.Versions[0], e)
		}
	}
	list, err := fresh.st.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range list {
		if c.Seq != uint64(i+1) {
			t.Fatalf("change log: seq %d at position %d", c.Seq, i)
		}
	}
	t.Logf("%d entities acknowledged, %d writes refused while down", len(acked), unavailable)
}

// TestCollectionsFollow: a collection's documents written on one node
// reach the other node's consumer.
func TestCollectionsFollow(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	ctx := context.Background()
	open := func() (*store.Store, *store.DocMap) {
		be, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		ix, _ := geo.New(geo.Options{})
		m := store.NewDocMap()
		st, err := store.New(ctx, ix, be, store.Options{Collections: []store.Collection{{Name: "records", Consumer: m}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st, m
	}
	a, _ := open()
	b, mb := open()
	res, err := a.Apply(ctx, "a", []store.Write{{Layer: "records", ID: "r1", Feature: json.RawMessage(`{"b":1,"a":[2]}`)}, {Layer: "records", ID: "r2", Feature: json.RawMessage(`{"x":"y"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, "a", []store.Write{{Layer: "records", ID: "r2"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitApplied(ctx, res.Seq+1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d, ok := mb.Get("r1")
	if !ok || string(d.Body) != `{"b":1,"a":[2]}` || d.Version != res.Versions[0] {
		t.Errorf("r1 on node b: %+v %v", d, ok)
	}
	if _, ok := mb.Get("r2"); ok {
		t.Error("r2 deleted on a, still on b")
	}
	_, mc := open()
	if d, ok := mc.Get("r1"); !ok || string(d.Body) != `{"b":1,"a":[2]}` || mc.Len() != 1 {
		t.Errorf("fresh node: r1 %+v, %d documents", d, mc.Len())
	}
}

// usccIn returns a valid unified social credit code of the administrative
// division div (6 digits), numbered i.
func usccIn(t testing.TB, div string, i int) string {
	t.Helper()
	for k := i; ; k++ {
		first := fmt.Sprintf("91%s%09d", div, k)
		if c, err := geo.USCCCheckChar(first); err == nil {
			return first + string(c)
		}
	}
}

// TestRegionNode: a node started with a region (adcode prefix) loads and
// follows only that region's entities; the others stay in PostgreSQL.
func TestRegionNode(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	a := openNode(t, url, schema, postgres.Options{})
	ctx := context.Background()
	mk := func(div string, i int) geo.Entity {
		return geo.Entity{ID: usccIn(t, div, i), Name: fmt.Sprintf("分区测试%d", i), Location: orb.Point{106.5 + float64(i)*0.001, 29.6}, Industry: "I6510", Status: geo.StatusActive, Risk: geo.RiskA}
	}
	cq, bj := mk("500112", 1), mk("110105", 2)
	for _, e := range []geo.Entity{cq, bj} {
		if _, err := a.st.Apply(ctx, "t", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}}); err != nil {
			t.Fatal(err)
		}
	}
	r := openNode(t, url, schema, postgres.Options{Region: "50"})
	has := func(n *node, id string) bool { _, ok := n.ix.Snapshot().Entity(id); return ok }
	if !has(r, cq.ID) || has(r, bj.ID) {
		t.Fatalf("region 50 node after load: Chongqing %v (want true), Beijing %v (want false)", has(r, cq.ID), has(r, bj.ID))
	}
	cq2, bj2 := mk("500103", 3), mk("110101", 4)
	var last uint64
	for _, e := range []geo.Entity{cq2, bj2} {
		res, err := a.st.Apply(ctx, "t", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Seq
	}
	if err := r.st.WaitApplied(ctx, last, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if !has(r, cq2.ID) || has(r, bj2.ID) {
		t.Errorf("region 50 node following: Chongqing %v (want true), Beijing %v (want false)", has(r, cq2.ID), has(r, bj2.ID))
	}
	if !has(a, bj2.ID) {
		t.Error("the whole-country node lacks the Beijing entity")
	}
	if _, err := postgres.Open(ctx, url, postgres.Options{Region: "5O"}); !errors.Is(err, postgres.ErrConfig) {
		t.Errorf("region 5O: %v, want ErrConfig", err)
	}
}

// TestNodesStartTogether: nodes opening an empty schema at the same moment
// (migrations, then a collection's table created by every store at once)
// all start.
func TestNodesStartTogether(t *testing.T) {
	url := testURL(t)
	ctx := context.Background()
	for round := range 3 {
		schema := newSchema(t, url)
		bes := make([]*postgres.Backend, 6)
		var wg sync.WaitGroup
		errs := make([]error, len(bes))
		for i := range bes {
			wg.Add(1)
			go func() { defer wg.Done(); bes[i], errs[i] = postgres.Open(ctx, url, postgres.Options{Schema: schema}) }()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: open %d: %v", round, i, err)
			}
		}
		start := make(chan struct{})
		for i := range bes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ix, _ := geo.New(geo.Options{})
				st, err := store.New(ctx, ix, bes[i], store.Options{Collections: []store.Collection{{Name: "records", Consumer: store.NewDocMap()}, {Name: "tasks", Consumer: store.NewDocMap()}}})
				if err != nil {
					bes[i].Close()
					errs[i] = err
					return
				}
				st.Close()
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: node %d: %v", round, i, err)
			}
		}
	}
}
