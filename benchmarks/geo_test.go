package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// bare is the floor: a plain tidwall/rtree of the same points holding only
// cos(lat), inserted in the same Hilbert order as the index, searched with
// the same bounding box and the same exact haversine test, counting hits.
type bare struct {
	tree rtree.RTreeG[float64]
}

func newBare(ents []geo.Entity, idx *geo.Index) *bare {
	b := &bare{}
	// the index's order: scan the index by position is not exposed, so sort
	// the points by the same Hilbert key the index uses for bulk loads.
	pts := make([]orb.Point, len(ents))
	for i := range ents {
		pts[i] = ents[i].Location
	}
	sort.Slice(pts, func(i, j int) bool { return geo.HilbertIndex(pts[i]) < geo.HilbertIndex(pts[j]) })
	for _, p := range pts {
		b.tree.Insert(p, p, math.Cos(p[1]*math.Pi/180))
	}
	return b
}

const earthRadius = geo.EarthRadius

func (b *bare) count(c orb.Point, radius float64) int {
	const d2r = math.Pi / 180
	s := math.Sin(radius / (2 * earthRadius))
	aMax := s * s
	dLat := radius / earthRadius / d2r
	dLon := math.Asin(math.Sin(radius/earthRadius)/math.Cos(c[1]*d2r)) / d2r
	cos0 := math.Cos(c[1] * d2r)
	n := 0
	b.tree.Search([2]float64{c[0] - dLon, c[1] - dLat}, [2]float64{c[0] + dLon, c[1] + dLat}, func(min, _ [2]float64, cosLat float64) bool {
		s1 := sinHalf((min[1] - c[1]) * d2r)
		s2 := sinHalf((min[0] - c[0]) * d2r)
		if s1*s1+cos0*cosLat*s2*s2 <= aMax {
			n++
		}
		return true
	})
	return n
}

// sinHalf is the same small-angle sine as the index's exact test.
func sinHalf(x float64) float64 {
	h := x * 0.5
	h2 := h * h
	if h2 < 1e-6 {
		return h * (1 + h2*(-1.0/6+h2*(1.0/120)))
	}
	if h2 < 0.0025 {
		return h * (1 + h2*(-1.0/6+h2*(1.0/120+h2*(-1.0/5040+h2*(1.0/362880)))))
	}
	return math.Sin(h)
}

// BenchmarkNearby measures radius queries (all hits, sorted, with exact
// distances) beside the bare scan floor. Run with -cpu 1.
func BenchmarkNearby(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		floor := newBare(d.Demo.Entities, d.Index)
		snap := d.Index.Snapshot()
		runtime.GC()
		for _, radius := range []float64{200, 1000} {
			name := sizeName(n) + "/r" + map[float64]string{200: "200m", 1000: "1km"}[radius]
			b.Run(name+"/index", func(b *testing.B) {
				var buf []geo.Hit
				hits := 0
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					res, err := snap.Nearby(ctx, geo.LayerEntities, d.Queries[i%len(d.Queries)], radius, geo.Query{Limit: 10000, Reuse: buf})
					if err != nil {
						b.Fatal(err)
					}
					buf = res.Hits
					hits += res.Total
				}
				b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			})
			b.Run(name+"/bare-rtree-floor", func(b *testing.B) {
				hits := 0
				for i := 0; i < b.N; i++ {
					hits += floor.count(d.Queries[i%len(d.Queries)], radius)
				}
				b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			})
		}
	}
}

// BenchmarkNearbyFiltered: a risk filter (C and D) applied in the traversal.
func BenchmarkNearbyFiltered(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		snap := d.Index.Snapshot()
		b.Run(sizeName(n)+"/r200m-riskCD", func(b *testing.B) {
			var buf []geo.Hit
			q := geo.Query{Limit: 10000, Filter: geo.Filter{Risk: []geo.Risk{geo.RiskC, geo.RiskD}}}
			for i := 0; i < b.N; i++ {
				q.Reuse = buf
				res, _ := snap.Nearby(ctx, geo.LayerEntities, d.Queries[i%len(d.Queries)], 200, q)
				buf = res.Hits
			}
		})
	}
}

func BenchmarkKNearest(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		snap := d.Index.Snapshot()
		b.Run(sizeName(n)+"/k10", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := snap.KNearest(ctx, geo.LayerEntities, d.Queries[i%len(d.Queries)], 10, geo.Query{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
		})
	}
}

func BenchmarkInBBox(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		snap := d.Index.Snapshot()
		b.Run(sizeName(n)+"/500m-box", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c := d.Queries[i%len(d.Queries)]
				bb := orb.Bound{Min: orb.Point{c[0] - 0.0026, c[1] - 0.00225}, Max: orb.Point{c[0] + 0.0026, c[1] + 0.00225}}
				if _, err := snap.InBBox(ctx, geo.LayerEntities, bb, geo.Query{Limit: 10000}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkZonesAt: point-in-zone against the demo's zones (real district
// polygons with thousands of vertices, FTZ areas) plus 1,000 grid cells.
func BenchmarkZonesAt(b *testing.B) {
	ctx := context.Background()
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		snap := d.Index.Snapshot()
		grids := snap.Counts().ZoneLayer["grid"]
		b.Run(sizeName(n)+"/all-layers", func(b *testing.B) {
			found := 0
			for i := 0; i < b.N; i++ {
				zs, err := snap.ZonesAt(ctx, d.Queries[i%len(d.Queries)])
				if err != nil {
					b.Fatal(err)
				}
				found += len(zs)
			}
			b.ReportMetric(float64(found)/float64(b.N), "zones/op")
			b.ReportMetric(float64(grids), "grids")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
		})
	}
}

// BenchmarkZonesAt1000Grids: exactly 1,000 grid polygons (a 40 × 25 grid of
// 500 m cells) plus the demo's districts and FTZ areas.
func BenchmarkZonesAt1000Grids(b *testing.B) {
	ctx := context.Background()
	d, err := Load(Sizes()[0])
	if err != nil {
		b.Fatal(err)
	}
	idx, _ := geo.New(geo.Options{})
	batch := idx.Batch()
	d.Index.Snapshot().ScanZones(func(z *geo.Zone) bool {
		if z.Layer != "grid" {
			_ = batch.UpsertZone(*z)
		}
		return true
	})
	const nx, ny = 40, 25
	x0, y0, dx, dy := 106.42, 29.58, 0.0052, 0.0045
	for i := 0; i < nx; i++ {
		for j := 0; j < ny; j++ {
			ax, ay := x0+float64(i)*dx, y0+float64(j)*dy
			bx, by := x0+float64(i+1)*dx, y0+float64(j+1)*dy
			_ = batch.UpsertZone(geo.Zone{ID: "g" + string(rune('A'+i)) + string(rune('a'+j)), Layer: "grid", Name: "g",
				Geometry: orb.MultiPolygon{{{{ax, ay}, {bx, ay}, {bx, by}, {ax, by}, {ax, ay}}}}})
		}
	}
	batch.Commit()
	snap := idx.Snapshot()
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{x0 + float64(i%64)/64*nx*dx, y0 + float64(i/64)/64*ny*dy}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := snap.ZonesAt(ctx, pts[i%len(pts)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLoadCSV: loading a data directory of an entity CSV and the
// zones (grids included, so every entity gets its grid) into a new index
// with geo.LoadDir, the start-up path of `marketgeo serve --data` and
// `marketgeo load`, with the heap it keeps. Run with -cpu 2 (the loader
// parses in parallel) and -benchtime 3x.
func BenchmarkLoadCSV(b *testing.B) {
	for _, n := range Sizes() {
		d, err := Load(n)
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		var csv bytes.Buffer
		if err := geo.WriteEntitiesCSV(&csv, d.Demo.Entities); err != nil {
			b.Fatal(err)
		}
		zones, err := json.Marshal((&geo.Features{Zones: d.Demo.Zones}).FeatureCollection())
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "entities.csv"), csv.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "zones.geojson"), zones, 0o644); err != nil {
			b.Fatal(err)
		}
		csv = bytes.Buffer{}
		runtime.GC()
		b.Run(sizeName(n), func(b *testing.B) {
			var heap uint64
			for i := 0; i < b.N; i++ {
				idx, _ := geo.New(geo.Options{})
				reps, err := geo.LoadDir(context.Background(), idx, dir, geo.LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range reps {
					if r.Rejected > 0 {
						b.Fatal(r)
					}
				}
				b.StopTimer()
				if c := idx.Snapshot().Counts(); c.Entities != n {
					b.Fatalf("loaded %d entities of %d", c.Entities, n)
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = ms.HeapInuse
				runtime.KeepAlive(idx)
				b.StartTimer()
			}
			b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
		})
	}
}
