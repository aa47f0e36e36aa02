package geo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// The micro benchmarks of geo at small sizes (20k and 100k features), quick
// enough to run before and after a change on a shared machine and compare
// with benchstat; the 1M figures are in benchmarks/.

// benchGrids returns n×n square grid zones of the layer "grid" covering
// the city of cityPoints (about 0.3° across).
func benchGrids(n int) []Zone {
	const x0, y0, span = 106.40, 29.45, 0.30
	d := span / float64(n)
	out := make([]Zone, 0, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			ax, ay := x0+float64(i)*d, y0+float64(j)*d
			bx, by := ax+d, ay+d
			out = append(out, Zone{ID: fmt.Sprintf("G%03d-%03d", i, j), Layer: "grid", Name: "grid",
				Geometry: orb.MultiPolygon{{{{ax, ay}, {bx, ay}, {bx, by}, {ax, by}, {ax, ay}}}}})
		}
	}
	return out
}

// BenchmarkNearbySmall: a 200 m radius query, all hits sorted by distance.
func BenchmarkNearbySmall(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{20_000, 100_000} {
		pts := cityPoints(n)
		ix, _ := buildIndex(b, pts)
		s := ix.Snapshot()
		r := rand.New(rand.NewPCG(1, 2))
		queries := make([]orb.Point, 1024)
		for i := range queries {
			queries[i] = pts[r.IntN(len(pts))]
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var hb []Hit
			for i := 0; b.Loop(); i++ {
				res, err := s.Nearby(ctx, LayerEntities, queries[i%len(queries)], 200, Query{Limit: 10000, Reuse: hb})
				if err != nil {
					b.Fatal(err)
				}
				hb = res.Hits
			}
		})
	}
}

// BenchmarkBulkLoad: one batch of n fresh entities into an index holding
// 40×40 grid zones, so that every entity gets its grid on the way in.
func BenchmarkBulkLoad(b *testing.B) {
	grids := benchGrids(40)
	for _, n := range []int{20_000, 100_000} {
		pts := cityPoints(n)
		ents := make([]Entity, n)
		for i, p := range pts {
			ents[i] = testEntity(i, p)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ix, err := New(Options{})
				if err != nil {
					b.Fatal(err)
				}
				zb := ix.Batch()
				for _, z := range grids {
					if err := zb.UpsertZone(z); err != nil {
						b.Fatal(err)
					}
				}
				zb.Commit()
				eb := ix.Batch()
				for i := range ents {
					eb.upsertValidEntity(new(ents[i]))
				}
				b.StartTimer()
				eb.Commit()
			}
		})
	}
}

// BenchmarkGridRewrite: replacing one grid zone in an index of 100k
// entities, which re-derives the grid of the entities under it.
func BenchmarkGridRewrite(b *testing.B) {
	grids := benchGrids(40)
	pts := cityPoints(100_000)
	ix, _ := buildIndex(b, pts)
	zb := ix.Batch()
	for _, z := range grids {
		_ = zb.UpsertZone(z)
	}
	zb.Commit()
	// a dense cell, rewritten with its ID alternating so that every write
	// moves its entities from one grid to another
	z := grids[len(grids)/2+20]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nz := z
		nz.ID = fmt.Sprintf("%s-%d", z.ID, i%2)
		wb := ix.Batch()
		_ = wb.Delete(LayerZones, fmt.Sprintf("%s-%d", z.ID, (i+1)%2))
		_ = wb.Delete(LayerZones, z.ID)
		_ = wb.UpsertZone(nz)
		wb.Commit()
	}
}

// BenchmarkZonesAtGrid: point-in-zone over 40×40 grid zones.
func BenchmarkZonesAtGrid(b *testing.B) {
	ctx := context.Background()
	ix, _ := New(Options{})
	zb := ix.Batch()
	for _, z := range benchGrids(40) {
		_ = zb.UpsertZone(z)
	}
	zb.Commit()
	s := ix.Snapshot()
	pts := cityPoints(4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.ZonesAt(ctx, pts[i%len(pts)]); err != nil {
			b.Fatal(err)
		}
	}
}
