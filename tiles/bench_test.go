package tiles

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

// benchIndex returns the 79k demo index, or with MARKETGEO_SLOW=1 and
// n > 79000 a freshly generated one of n entities.
func benchIndex(b *testing.B, n int) *geo.Index {
	if n <= 79000 {
		return demoIndex(b, n)
	}
	if os.Getenv("MARKETGEO_SLOW") != "1" {
		b.Skip("set MARKETGEO_SLOW=1 for the 1M-entity benchmarks")
	}
	return freshIndex(b, n)
}

// benchRender renders the densest tiles of zoom z without the cache and
// reports the median and p99 render time.
func benchRender(b *testing.B, n, z int) {
	idx := benchIndex(b, n)
	r, err := New(idx, Options{CacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ts := denseTiles(idx, z, 16)
	ctx := context.Background()
	durs := make([]time.Duration, 0, b.N)
	var bytes int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tl := ts[i%len(ts)]
		t0 := time.Now()
		t, err := r.Render(ctx, LayerEntities, z, int(tl.X), int(tl.Y), Query{})
		durs = append(durs, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(t.Data)
	}
	b.StopTimer()
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(bytes)/float64(b.N)/1024, "KB/tile")
}

func BenchmarkEntityTileZ14_79k(b *testing.B)        { benchRender(b, 79000, 14) }
func BenchmarkEntityTileZ10Cluster_79k(b *testing.B) { benchRender(b, 79000, 10) }
func BenchmarkEntityTileZ14_1M(b *testing.B)         { benchRender(b, 1000000, 14) }
func BenchmarkEntityTileZ10Cluster_1M(b *testing.B)  { benchRender(b, 1000000, 10) }
