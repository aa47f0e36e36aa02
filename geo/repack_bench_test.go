package geo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// BenchmarkRepackChurn measures what the churn of the entity tree (written
// points in the delta, replaced ones dead) costs a 200 m radius query, in
// CPU time a query, and what a background repack's packing costs, at 79k
// and 1M points: the two sides of Options.RepackChurn. Each level adds
// moves of distinct entities (two points of churn each) to the same
// index, with background repacks off.
func BenchmarkRepackChurn(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{79_000, 1_000_000} {
		pts := cityPoints(n)
		ix, ents := buildIndex(b, pts)
		ix.opts.RepackChurn = -1
		r := rand.New(rand.NewPCG(3, 4))
		queries := make([]orb.Point, 1024)
		for i := range queries {
			queries[i] = pts[r.IntN(len(pts))]
		}
		perm := r.Perm(len(ents))
		moved := 0
		for _, churn := range []int{0, 256, 512, 1024, 2048, 4096, 8192} {
			for ; 2*moved < churn; moved++ {
				e := ents[perm[moved]]
				e.Location = orb.Point{e.Location[0] + (r.Float64()-0.5)*0.002, e.Location[1] + (r.Float64()-0.5)*0.0018}
				if err := ix.UpsertEntity(e); err != nil {
					b.Fatal(err)
				}
			}
			s := ix.Snapshot()
			runtime.GC()
			b.Run(fmt.Sprintf("%dk/churn-%d/nearby-200m", n/1000, s.entities.tree.churn()), func(b *testing.B) {
				var hb []Hit
				cpu0 := processCPU()
				for i := 0; i < b.N; i++ {
					res, _ := s.Nearby(ctx, LayerEntities, queries[i%len(queries)], 200, Query{Limit: 10000, Reuse: hb})
					hb = res.Hits
				}
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
			if churn == 2048 {
				b.Run(fmt.Sprintf("%dk/churn-%d/pack", n/1000, s.entities.tree.churn()), func(b *testing.B) {
					var ms0, ms1 runtime.MemStats
					runtime.ReadMemStats(&ms0)
					cpu0 := processCPU()
					t0 := time.Now()
					for i := 0; i < b.N; i++ {
						if _, err := packLive(ctx, s.entities.tree); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(time.Since(t0).Milliseconds())/float64(b.N), "ms/pack")
					b.ReportMetric(float64(processCPU()-cpu0)/1e6/float64(b.N), "cpu-ms/pack")
					runtime.ReadMemStats(&ms1)
					b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20)/float64(b.N), "MiB/pack")
				})
			}
		}
	}
}
