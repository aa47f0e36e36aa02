package tiles

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb/maptile"
)

// benchIndex returns the 79k demo index, or with MARKETGEO_SLOW=1 and
// n > 79000 a generated one of n entities (built once per test binary).
func benchIndex(b *testing.B, n int) *geo.Index {
	if n > 79000 && os.Getenv("MARKETGEO_SLOW") != "1" {
		b.Skip("set MARKETGEO_SLOW=1 for the 1M-entity benchmarks")
	}
	return demoIndex(b, n)
}

// tileCounts returns every tile of zoom z holding at least one entity, with
// its entity count, densest first (ties by quadkey).
func tileCounts(idx *geo.Index, z int) ([]maptile.Tile, map[maptile.Tile]int) {
	counts := map[maptile.Tile]int{}
	idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
		counts[maptile.At(e.Location, maptile.Zoom(z))]++
		return true
	})
	ts := make([]maptile.Tile, 0, len(counts))
	for t := range counts {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool {
		if counts[ts[i]] != counts[ts[j]] {
			return counts[ts[i]] > counts[ts[j]]
		}
		return ts[i].Quadkey() < ts[j].Quadkey()
	})
	return ts, counts
}

// BenchmarkEntityTile renders entity tiles without the cache and reports
// the median and p99 render time per tile:
//
//	region   every tile of the zoom that holds an entity (the tiles a map
//	         of the whole region asks for), in a shuffled order, one tile
//	         per iteration (use -benchtime of a few times the tile count)
//	dense16  the 16 densest tiles of the zoom (the set measured before)
//	densest  the single densest tile of the zoom
//
// at 79k entities (the demo) and, with MARKETGEO_SLOW=1, at 1M. Besides
// wall-clock percentiles it reports the render's thread CPU time
// (cpu-p50-ms), which a loaded machine does not inflate.
func BenchmarkEntityTile(b *testing.B) {
	for _, n := range []int{79000, 1000000} {
		for _, z := range []int{14, 10} {
			for _, set := range []string{"region", "dense16", "densest"} {
				name := "n=" + map[int]string{79000: "79k", 1000000: "1M"}[n] + "/z=" + strconv.Itoa(z) + "/" + set
				b.Run(name, func(b *testing.B) {
					idx := benchIndex(b, n)
					ts, counts := tileCounts(idx, z)
					switch set {
					case "densest":
						ts = ts[:1]
					case "dense16":
						ts = ts[:min(16, len(ts))]
					default:
						rand.New(rand.NewPCG(1, 2)).Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
					}
					benchRender(b, idx, z, ts, counts)
				})
			}
		}
	}
}

func benchRender(b *testing.B, idx *geo.Index, z int, ts []maptile.Tile, counts map[maptile.Tile]int) {
	r, err := New(idx, Options{CacheBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	durs := make([]time.Duration, 0, b.N)
	cpus := make([]time.Duration, 0, b.N)
	var bytes, points int
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tl := ts[i%len(ts)]
		c0, t0 := threadCPU(), time.Now()
		t, err := r.Render(ctx, LayerEntities, z, int(tl.X), int(tl.Y), Query{})
		durs = append(durs, time.Since(t0))
		cpus = append(cpus, threadCPU()-c0)
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(t.Data)
		points += counts[tl]
	}
	b.StopTimer()
	slices.Sort(durs)
	slices.Sort(cpus)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds())/1000, "p99-ms")
	if cpus[len(cpus)-1] > 0 {
		b.ReportMetric(float64(cpus[len(cpus)/2].Microseconds())/1000, "cpu-p50-ms")
		b.ReportMetric(float64(cpus[len(cpus)*99/100].Microseconds())/1000, "cpu-p99-ms")
	}
	b.ReportMetric(float64(bytes)/float64(b.N)/1024, "KB/tile")
	b.ReportMetric(float64(points)/float64(b.N), "entities/tile")
	b.ReportMetric(float64(len(ts)), "tiles")
}
