package benchmarks

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/search"
)

// BenchmarkSearchEngine: the search query kinds of BenchmarkHTTP's search
// sub-benchmarks (searchKinds), asked of the index in process without
// HTTP, at 79k and 1M entities (the 1M search build takes minutes): the
// engine's share of a search request. Reports p50 and p99 in ms and the
// process's CPU time per query.
//
//	go test ./benchmarks -run XXX -bench 'SearchEngine/79k' -benchtime 2000x
func BenchmarkSearchEngine(b *testing.B) {
	for _, n := range Sizes() {
		b.Run(sizeName(n), func(b *testing.B) {
			f := loadHTTP(b, n, true)
			for _, kind := range searchKinds(f) {
				b.Run(kind.name, func(b *testing.B) {
					ctx := context.Background()
					lat := make([]time.Duration, 0, b.N)
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := cpuTime()
					for i := 0; i < b.N; i++ {
						t := time.Now()
						if _, err := f.search.Search(ctx, search.Query{Text: kind.queries[i%len(kind.queries)]}); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					cpu := cpuTime() - cpu0
					b.StopTimer()
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/q")
				})
			}
		})
	}
}
