package zoneid

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

var benchOnce struct {
	sync.Once
	idx    *geo.Index
	pts    []orb.Point
	counts map[string]int
	err    error
}

// benchIndex: the demo zones with about 1,000 supervision grids (360 m
// cells), the three FTZ areas, the 7 real districts (14,800 vertices) and
// the synthetic streets; query points uniform over the grids' box.
func benchIndex(b *testing.B) (*geo.Index, []orb.Point) {
	benchOnce.Do(func() {
		ds, err := demo.Generate(demo.Options{Entities: 20000, GridCellM: 360})
		if err != nil {
			benchOnce.err = err
			return
		}
		idx, _ := geo.New(geo.Options{})
		bt := idx.Batch()
		benchOnce.counts = map[string]int{}
		for _, z := range ds.Zones {
			benchOnce.counts[z.Layer]++
			if err := bt.UpsertZone(z); err != nil {
				benchOnce.err = err
				return
			}
		}
		bt.Commit()
		benchOnce.idx = idx
		r := rand.New(rand.NewPCG(5, 5))
		gb := layerBound(ds.Zones, "grid")
		for i := 0; i < 1<<16; i++ {
			benchOnce.pts = append(benchOnce.pts, randIn(r, gb))
		}
	})
	if benchOnce.err != nil {
		b.Fatal(benchOnce.err)
	}
	return benchOnce.idx, benchOnce.pts
}

// BenchmarkLookup is the raw point lookup of the batch endpoint.
func BenchmarkLookup(b *testing.B) {
	idx, pts := benchIndex(b)
	id := newIdentifier(b, idx, Options{})
	l, _ := id.Lookup(bg)
	var h Hit
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		l.At(pts[i&(len(pts)-1)], &h)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
	b.ReportMetric(float64(benchOnce.counts["grid"]), "grids")
}

// BenchmarkAppendZones is AppendZones with a reused buffer.
func BenchmarkAppendZones(b *testing.B) {
	idx, pts := benchIndex(b)
	id := newIdentifier(b, idx, Options{})
	var buf []*geo.Zone
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		buf, _ = id.AppendZones(bg, buf[:0], pts[i&(len(pts)-1)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

// BenchmarkIdentify is the full Identify with its Result.
func BenchmarkIdentify(b *testing.B) {
	idx, pts := benchIndex(b)
	id := newIdentifier(b, idx, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_, _ = id.Identify(bg, pts[i&(len(pts)-1)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

// BenchmarkGeoZonesAt is the baseline: geo.Index.ZonesAt (R-tree + PIP).
func BenchmarkGeoZonesAt(b *testing.B) {
	idx, pts := benchIndex(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_, _ = idx.ZonesAt(bg, pts[i&(len(pts)-1)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

// BenchmarkBuild is the zone table's build after a zone change (the
// table is geo's; the first query after the change waits for it).
func BenchmarkBuild(b *testing.B) {
	idx, _ := benchIndex(b)
	zs := idx.Snapshot()
	var z *geo.Zone
	zs.ScanZones(func(x *geo.Zone) bool { z = x; return false })
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := idx.UpsertZone(*z); err != nil { // a new zone state: no table yet
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := idx.Snapshot().ZoneTable(bg); err != nil {
			b.Fatal(err)
		}
	}
}
