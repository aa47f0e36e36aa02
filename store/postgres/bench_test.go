package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/store/postgres"
)

// benchSizes returns MARKETGEO_BENCH_SIZES (comma-separated entity counts)
// or 79,000 and 1,000,000, as benchmarks/.
func benchSizes() []int {
	env := os.Getenv("MARKETGEO_BENCH_SIZES")
	if env == "" {
		return []int{79000, 1000000}
	}
	var out []int
	for _, s := range strings.Split(env, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

var (
	benchMu      sync.Mutex
	benchSchemas = map[int]string{} // entity count → a seeded schema, for the process
)

// seededSchema returns a schema holding the demo region with n entities,
// seeded once per process (through a store, as serve seeds).
func seededSchema(b *testing.B, url string, n int) string {
	benchMu.Lock()
	defer benchMu.Unlock()
	if s, ok := benchSchemas[n]; ok {
		return s
	}
	schema := fmt.Sprintf("bench_%d", n)
	ctx := context.Background()
	be, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	ix, _ := geo.New(geo.Options{})
	st, err := store.New(ctx, ix, be, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if st.Empty() {
		ds, err := demo.Generate(demo.Options{Entities: n})
		if err != nil {
			b.Fatal(err)
		}
		scratch, _ := geo.New(geo.Options{})
		if err := ds.Load(scratch); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := st.Import(ctx, "import:bench", scratch.Snapshot())
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %s: %d features in %s (%.0f features/s)", schema, res.Changes, time.Since(start).Round(time.Millisecond), float64(res.Changes)/time.Since(start).Seconds())
	}
	benchSchemas[n] = schema
	return schema
}

// BenchmarkColdStart: a node starts on a database of n entities (+ the
// demo's buildings, places and zones): migrations checked, every table read
// with COPY binary, the index built; "geo-ready" is when store.New returns
// (the geo, zone and tile queries answer from then on).
func BenchmarkColdStart(b *testing.B) {
	url := testURL(b)
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("entities=%d", n), func(b *testing.B) {
			schema := seededSchema(b, url, n)
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				be, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
				if err != nil {
					b.Fatal(err)
				}
				ix, _ := geo.New(geo.Options{})
				st, err := store.New(ctx, ix, be, store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c := ix.Snapshot().Counts(); c.Entities != n {
					b.Fatalf("%d entities loaded, want %d", c.Entities, n)
				}
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/start")
		})
	}
}

// BenchmarkReplicationLag: node A writes single-entity changes at a fixed
// rate (from MARKETGEO_BENCH_CLIENTS client goroutines, default 8, as an
// HTTP server's handlers would; the writes that arrive together are
// group-committed); the lag of a write is the time from A's
// acknowledgement to node B having applied it (B's own index, its follower
// woken by NOTIFY). Reports p50/p99, the rate reached and the writes per
// database transaction.
func BenchmarkReplicationLag(b *testing.B) {
	url := testURL(b)
	rates := []int{100, 1000}
	if env := os.Getenv("MARKETGEO_BENCH_RATES"); env != "" {
		rates = nil
		for _, s := range strings.Split(env, ",") {
			if r, err := strconv.Atoi(s); err == nil && r > 0 {
				rates = append(rates, r)
			}
		}
	}
	clients := 8
	if n, err := strconv.Atoi(os.Getenv("MARKETGEO_BENCH_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	for _, n := range benchSizes() {
		for _, rate := range rates {
			b.Run(fmt.Sprintf("entities=%d/rate=%d", n, rate), func(b *testing.B) {
				schema := seededSchema(b, url, n)
				a := openNode(b, url, schema, postgres.Options{})
				f := openNode(b, url, schema, postgres.Options{})
				ents := make([]geo.Entity, 0, 1000)
				a.ix.Snapshot().ScanEntities(func(e *geo.Entity) bool {
					ents = append(ents, *e)
					return len(ents) < 1000
				})
				ctx := context.Background()
				writes := max(b.N, 200) // at least 200 samples for a p99
				seq0 := a.st.Seq()
				// node B: when each sequence number became visible there
				var mu sync.Mutex
				seen := map[uint64]time.Time{}
				stop := make(chan struct{})
				watched := make(chan struct{})
				go func() {
					defer close(watched)
					prev := f.st.Seq()
					for {
						select {
						case <-f.st.Wait(prev):
						case <-stop:
							return
						}
						cur, now := f.st.Seq(), time.Now()
						mu.Lock()
						for s := prev + 1; s <= cur; s++ {
							seen[s] = now
						}
						mu.Unlock()
						prev = cur
					}
				}()
				type ack struct {
					seq uint64
					at  time.Time
				}
				acks := make([]ack, writes)
				ticks := make(chan int, writes)
				var wg sync.WaitGroup
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range ticks {
							e := ents[i%len(ents)]
							e.Name = fmt.Sprintf("%s·%d", e.Name, i)
							res, err := a.st.Apply(ctx, "bench", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}})
							if err != nil {
								b.Error(err)
								return
							}
							acks[i] = ack{res.Seq, time.Now()}
						}
					}()
				}
				interval := time.Second / time.Duration(rate)
				b.ResetTimer()
				start := time.Now()
				for i := range writes {
					if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
						time.Sleep(d)
					}
					ticks <- i
				}
				close(ticks)
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				last := uint64(0)
				for _, a := range acks {
					last = max(last, a.seq)
				}
				if err := f.st.WaitApplied(ctx, last, 30*time.Second); err != nil {
					b.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
				close(stop)
				<-watched
				mu.Lock()
				lags := make([]time.Duration, 0, len(acks))
				for _, a := range acks {
					t, ok := seen[a.seq]
					if !ok {
						b.Fatalf("seq %d never seen on node B", a.seq)
					}
					lags = append(lags, max(0, t.Sub(a.at)))
				}
				mu.Unlock()
				sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
				p := func(q float64) float64 { return float64(lags[int(q*float64(len(lags)-1))].Microseconds()) / 1000 }
				b.ReportMetric(p(0.5), "p50-ms")
				b.ReportMetric(p(0.99), "p99-ms")
				b.ReportMetric(float64(writes)/elapsed.Seconds(), "writes/s")
				txs := 0 // database transactions: distinct commit times in the log
				list, err := a.st.Changes(ctx, seq0, writes+1)
				if err != nil {
					b.Fatal(err)
				}
				var prev time.Time
				for _, c := range list {
					if !c.Time.Equal(prev) {
						txs++
					}
					prev = c.Time
				}
				b.ReportMetric(float64(len(list))/float64(max(txs, 1)), "writes/tx")
			})
		}
	}
}
