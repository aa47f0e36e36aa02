package benchmarks

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
)

// storeFile returns a store file holding the dataset of n entities (and
// its snapshot), made once and kept in the temporary directory across runs
// (MARKETGEO_BENCH_STORE_DIR to choose where): importing a million
// entities takes a couple of minutes.
func storeFile(b *testing.B, n int) string {
	b.Helper()
	dir := os.Getenv("MARKETGEO_BENCH_STORE_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "marketgeo-bench-store")
	}
	path := filepath.Join(dir, fmt.Sprintf("demo-%d.gpkg", n))
	if _, err := os.Stat(path + ".ready"); err == nil {
		return path
	}
	os.RemoveAll(path)
	os.RemoveAll(path + "-wal")
	os.RemoveAll(path + ".snapshot")
	d, err := Load(n)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ix, _ := geo.New(geo.Options{})
	st, err := store.Open(ctx, path, ix, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Import(ctx, "import", d.Index.Snapshot()); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path+".ready", nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkStoreRestart: a restart's load of the whole state into a new
// index, from the snapshot (plus an empty change log tail) and from the
// GeoPackage rows alone.
func BenchmarkStoreRestart(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		path := storeFile(b, n)
		for _, from := range []string{"snapshot", "rows"} {
			b.Run(sizeName(n)+"/"+from, func(b *testing.B) {
				var heap float64
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					runtime.GC()
					var before runtime.MemStats
					runtime.ReadMemStats(&before)
					b.StartTimer()
					ix, _ := geo.New(geo.Options{})
					st, err := store.Open(ctx, path, ix, store.Options{NoSnapshot: from == "rows"})
					if err != nil {
						b.Fatal(err)
					}
					if got := ix.Snapshot().Counts().Entities; got != n {
						b.Fatalf("%d entities, want %d", got, n)
					}
					if from == "snapshot" && !strings.HasPrefix(st.LoadedFrom(), "snapshot") {
						b.Fatalf("loaded from %s", st.LoadedFrom())
					}
					b.StopTimer()
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					heap = float64(ms.HeapAlloc-before.HeapAlloc) / (1 << 20) // the index's
					runtime.KeepAlive(ix)
					st.Close()
					b.StartTimer()
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restart")
				b.ReportMetric(heap, "index-heap-MiB")
			})
		}
	}
}

// writeStack is a server with a store and every follower of the index but
// search (the address database, zones, tiles) over a copy of the store
// file: the write path as `marketgeo serve` runs it, durability on.
type writeStack struct {
	srv *httptest.Server
	ix  *geo.Index
	st  *store.Store
	ids []string
}

func newWriteStack(b *testing.B, n int) *writeStack {
	b.Helper()
	ctx := context.Background()
	src := storeFile(b, n)
	dir := b.TempDir()
	path := filepath.Join(dir, "w.gpkg")
	for _, suffix := range []string{"", ".snapshot"} {
		in, err := os.ReadFile(src + suffix)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, in, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ix, _ := geo.New(geo.Options{})
	st, err := store.Open(ctx, path, ix, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	// the address database as serve builds it: the parser knows the demo's region
	reg, err := demo.Region()
	if err != nil {
		b.Fatal(err)
	}
	p, err := addressmatch.NewParser(addressmatch.Options{Region: reg})
	if err != nil {
		b.Fatal(err)
	}
	db, err := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := addressmatch.Follow(db, ix); err != nil {
		b.Fatal(err)
	}
	zi, err := zoneid.New(ix, zoneid.Options{})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := tiles.New(ix, tiles.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tr.Close)
	// writes need a token (issue 16): the one writer's, scope write
	toks, err := server.NewTokens(server.PlainToken(server.ScopeWrite, "bench-writer", benchWriteToken))
	if err != nil {
		b.Fatal(err)
	}
	h, err := server.New(server.Deps{Index: ix, Store: st, Addresses: db, Zones: zi, Tiles: tr}, server.Options{Tokens: toks})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	ws := &writeStack{srv: srv, ix: ix, st: st}
	ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		ws.ids = append(ws.ids, e.ID)
		return len(ws.ids) < 10000
	})
	return ws
}

// benchWriteToken is the write stack's token.
const benchWriteToken = "bench-write-token-0123456789"

func (w *writeStack) do(b *testing.B, c *http.Client, method, path, body string) {
	req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchWriteToken)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

func entityBody(id string, i int) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"id":%q,"name":"重庆基准测试%d有限公司","address":"重庆市渝北区金开大道%d号","industry":"I6510","risk":"%c"}}`,
		106.5+float64(i%997)*1e-4, 29.6+float64(i%991)*1e-4, id, i, i%5000+1, "ABCD"[i%4])
}

// BenchmarkWriteHTTP: single PUTs (each replacing an existing entity) and
// PATCHes over a loopback socket with one keep-alive client; each is
// durable (WAL, synchronous=FULL) and applied to every follower before
// its answer.
func BenchmarkWriteHTTP(b *testing.B) {
	for _, n := range Sizes() {
		w := newWriteStack(b, n)
		c := &http.Client{}
		b.Run(sizeName(n)+"/put", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				id := w.ids[i%len(w.ids)]
				w.do(b, c, "PUT", "/api/v1/entities/"+id, entityBody(id, i))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
		b.Run(sizeName(n)+"/patch", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				id := w.ids[i%len(w.ids)]
				w.do(b, c, "PATCH", "/api/v1/entities/"+id, fmt.Sprintf(`{"properties":{"risk":"%c"}}`, "ABCD"[i%4]))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
		b.Run(sizeName(n)+"/bulk-10k", func(b *testing.B) {
			var sb strings.Builder
			for j := range 10000 {
				sb.WriteString(entityBody(w.ids[j%len(w.ids)], j))
				sb.WriteByte('\n')
			}
			body := sb.String()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				w.do(b, c, "POST", "/api/v1/entities/bulk", body)
			}
			b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "features/s")
		})
		b.Run(sizeName(n)+"/changes-read-10k", func(b *testing.B) {
			seq := w.st.Seq()
			for i := 0; i < b.N; i++ {
				w.do(b, c, "GET", fmt.Sprintf("/api/v1/changes?since=%d&limit=10000", seq-10000-uint64(i%1000)), "")
			}
			b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

// BenchmarkNearbyUnderWrites: radius-200 m queries on the index, alone and
// with a stream of 200 durable single writes a second through the store
// beside them (goal: < 10 % fewer queries), measured in interleaved pairs
// of phases: queries alone for a phase, then queries beside the writes for
// a phase, over and over (MARKETGEO_BENCH_PAIRS pairs, default 15, of
// MARKETGEO_BENCH_PHASE each, default 1s, after one pair of warm-up). Each
// pair gives a drop, 1 - (queries/s beside the writes) / (queries/s
// alone), so that a drift of the machine (other work, the collector, the
// state the writes leave in the index) weighs on both halves of a pair;
// the median of the drops is the figure (drop-%), with its quartiles and
// extremes beside it. The writes change an entity's risk class;
// "-moves": each also moves the entity up to ~100 m (the geo tree, grid,
// tiles and the address database's location all follow), the costlier
// kind of write. The query points are the locations of random entities of
// the served index itself; the benchmark holds no second index.
//
// Run it alone and once: -run '^$' -bench NearbyUnderWrites -benchtime 1x.
func BenchmarkNearbyUnderWrites(b *testing.B) {
	ctx := context.Background()
	pairs, phase := 15, time.Second
	if v, err := strconv.Atoi(os.Getenv("MARKETGEO_BENCH_PAIRS")); err == nil && v > 0 {
		pairs = v
	}
	if v, err := time.ParseDuration(os.Getenv("MARKETGEO_BENCH_PHASE")); err == nil && v > 0 {
		phase = v
	}
	for _, n := range Sizes() {
		w := newWriteStack(b, n)
		var locs []orb.Point
		w.ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
			locs = append(locs, e.Location)
			return true
		})
		qr := rand.New(rand.NewPCG(7, 7))
		queries := make([]orb.Point, 4096)
		for i := range queries {
			queries[i] = locs[qr.IntN(len(locs))]
		}
		locs = nil
		for _, move := range []bool{false, true} {
			name := sizeName(n) + "/writes-200-per-s"
			if move {
				name += "-moves"
			}
			b.Run(name, func(b *testing.B) {
				wr := rand.New(rand.NewPCG(1, 2))
				// write is one durable write through the store
				write := func() error {
					e, _ := w.ix.Snapshot().Entity(w.ids[wr.IntN(len(w.ids))])
					ne := *e
					ne.Risk = geo.Risk("ABCD"[wr.IntN(4)])
					if move {
						ne.Location = orb.Point{e.Location[0] + (wr.Float64()-0.5)*0.002, e.Location[1] + (wr.Float64()-0.5)*0.0018}
					}
					_, err := w.st.Apply(ctx, "bench", []store.Write{{Layer: geo.LayerEntities, ID: ne.ID, Feature: &ne}})
					return err
				}
				var buf []geo.Hit
				qi := 0
				// run queries for d, with 200 writes a second beside them
				// when writing; it returns the queries a second and the
				// writes done
				run := func(d time.Duration, writing bool) (float64, int) {
					stop := make(chan struct{})
					var wg sync.WaitGroup
					written := 0
					if writing {
						wg.Add(1)
						go func() {
							defer wg.Done()
							t := time.NewTicker(time.Second / 200)
							defer t.Stop()
							for {
								select {
								case <-stop:
									return
								case <-t.C:
								}
								if err := write(); err != nil {
									b.Error(err)
									return
								}
								written++
							}
						}()
					}
					start := time.Now()
					end := start.Add(d)
					done := 0
					for {
						for range 32 {
							res, err := w.ix.Snapshot().Nearby(ctx, geo.LayerEntities, queries[qi%len(queries)], 200, geo.Query{Limit: 10000, Reuse: buf})
							if err != nil {
								b.Fatal(err)
							}
							buf = res.Hits
							qi++
						}
						done += 32
						if time.Now().After(end) {
							break
						}
					}
					el := time.Since(start)
					close(stop)
					wg.Wait()
					return float64(done) / el.Seconds(), written
				}
				// warm-up: one pair, not counted
				run(phase, false)
				run(phase, true)
				var alone, beside, drops []float64
				var written, gcs int
				var writeAlloc uint64
				var ms0, ms1 runtime.MemStats
				b.ResetTimer()
				for p := range pairs {
					qa, _ := run(phase, false)
					runtime.ReadMemStats(&ms0)
					qw, nw := run(phase, true)
					runtime.ReadMemStats(&ms1)
					written += nw
					gcs += int(ms1.NumGC - ms0.NumGC)
					writeAlloc += ms1.TotalAlloc - ms0.TotalAlloc
					alone, beside = append(alone, qa), append(beside, qw)
					drops = append(drops, 100*(1-qw/qa))
					b.Logf("pair %2d: alone %8.0f q/s, beside %d writes %8.0f q/s, drop %+6.1f %%", p, qa, nw, qw, drops[p])
				}
				b.StopTimer()
				b.ReportMetric(quantile(alone, 0.5), "queries/s")
				b.ReportMetric(quantile(beside, 0.5), "queries/s-writes")
				b.ReportMetric(quantile(drops, 0.5), "drop-%")
				b.ReportMetric(quantile(drops, 0.25), "drop-%-p25")
				b.ReportMetric(quantile(drops, 0.75), "drop-%-p75")
				b.ReportMetric(quantile(drops, 0), "drop-%-min")
				b.ReportMetric(quantile(drops, 1), "drop-%-max")
				b.ReportMetric(float64(pairs), "pairs")
				b.ReportMetric(float64(written)/(float64(pairs)*phase.Seconds()), "writes/s")
				// what the writes leave for the collector: cycles per writing
				// phase and bytes allocated a write (queries included)
				b.ReportMetric(float64(gcs)/float64(pairs), "GCs")
				if written > 0 {
					b.ReportMetric(float64(writeAlloc)/float64(written), "B-alloc/write")
				}
			})
		}
	}
}

// quantile returns the q-quantile of xs (0 the least, 1 the greatest),
// interpolated between the nearest ranks; xs is sorted in place.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}
