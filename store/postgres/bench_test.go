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
// rate; the lag is the time from A's acknowledgement to B having applied
// the write (B's WaitApplied). Reports p50/p99 at each rate.
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
				type sample struct {
					seq  uint64
					ack  time.Time
					seen time.Duration
				}
				writes := max(b.N, 200) // at least 200 samples for a p99
				samples := make([]sample, 0, writes)
				var mu sync.Mutex
				done := make(chan struct{})
				acks := make(chan sample, writes)
				go func() { // node B: when did each acknowledged seq become visible there
					defer close(done)
					for s := range acks {
						if err := f.st.WaitApplied(ctx, s.seq, 10*time.Second); err != nil {
							b.Error(err)
							return
						}
						s.seen = time.Since(s.ack)
						mu.Lock()
						samples = append(samples, s)
						mu.Unlock()
					}
				}()
				interval := time.Second / time.Duration(rate)
				next := time.Now()
				missed := 0
				b.ResetTimer()
				start := time.Now()
				for i := range writes {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					} else if d < -interval {
						missed++
					}
					next = next.Add(interval)
					e := ents[i%len(ents)]
					e.Name = fmt.Sprintf("%s·%d", e.Name, i)
					res, err := a.st.Apply(ctx, "bench", []store.Write{{Layer: geo.LayerEntities, ID: e.ID, Feature: &e}})
					if err != nil {
						b.Fatal(err)
					}
					acks <- sample{seq: res.Seq, ack: time.Now()}
				}
				close(acks)
				<-done
				elapsed := time.Since(start)
				b.StopTimer()
				lags := make([]time.Duration, len(samples))
				for i, s := range samples {
					lags[i] = s.seen
				}
				sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
				if len(lags) == 0 {
					b.Fatal("no samples")
				}
				p := func(q float64) float64 { return float64(lags[int(q*float64(len(lags)-1))].Microseconds()) / 1000 }
				b.ReportMetric(p(0.5), "p50-ms")
				b.ReportMetric(p(0.99), "p99-ms")
				b.ReportMetric(float64(writes)/elapsed.Seconds(), "writes/s")
				b.ReportMetric(float64(missed), "behind-schedule")
			})
		}
	}
}
