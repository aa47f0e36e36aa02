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
// beside them (goal: < 10 % fewer queries).
func BenchmarkNearbyUnderWrites(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		w := newWriteStack(b, n)
		// the writes change an entity's risk class; "-moves": each also moves
		// the entity up to ~100 m (the geo tree, grid, tiles and the address
		// database's location all follow), the costlier kind of write.
		// "-after-writes" is the control: queries alone again, on the state
		// the write runs left (the index's delta of written points), so that
		// a drop can be told apart from the writes' own cost.
		for _, wk := range []struct {
			rate  int
			move  bool
			after bool
		}{{0, false, false}, {200, false, false}, {200, true, false}, {0, false, true}} {
			rate, name := wk.rate, fmt.Sprintf("%s/writes-%d-per-s", sizeName(n), wk.rate)
			if wk.move {
				name += "-moves"
			}
			if wk.after {
				name += "-after-writes"
			}
			b.Run(name, func(b *testing.B) {
				if b.N == 1 {
					// every run of every kind starts from a finished
					// collection, not one left running by the one before
					runtime.GC()
				}
				stop := make(chan struct{})
				var wg sync.WaitGroup
				written := 0
				if rate > 0 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						t := time.NewTicker(time.Second / time.Duration(rate))
						defer t.Stop()
						r := rand.New(rand.NewPCG(1, 2))
						for {
							select {
							case <-stop:
								return
							case <-t.C:
							}
							e, _ := w.ix.Snapshot().Entity(w.ids[r.IntN(len(w.ids))])
							ne := *e
							ne.Risk = geo.Risk("ABCD"[r.IntN(4)])
							if wk.move {
								ne.Location = orb.Point{e.Location[0] + (r.Float64()-0.5)*0.002, e.Location[1] + (r.Float64()-0.5)*0.0018}
							}
							if _, err := w.st.Apply(ctx, "bench", []store.Write{{Layer: geo.LayerEntities, ID: ne.ID, Feature: &ne}}); err != nil {
								b.Error(err)
								return
							}
							written++
						}
					}()
				}
				var buf []geo.Hit
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := w.ix.Snapshot().Nearby(ctx, geo.LayerEntities, d.Queries[i%len(d.Queries)], 200, geo.Query{Limit: 10000, Reuse: buf})
					if err != nil {
						b.Fatal(err)
					}
					buf = res.Hits
				}
				b.StopTimer()
				close(stop)
				wg.Wait()
				runtime.ReadMemStats(&ms1)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
				b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "writes/s")
				// what the writes leave for the collector: cycles during the run
				// (each marks the whole heap on the second core) and bytes allocated a write
				b.ReportMetric(float64(ms1.NumGC-ms0.NumGC), "GCs")
				if written > 0 {
					b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(written), "B-alloc/write")
				}
			})
		}
	}
}
