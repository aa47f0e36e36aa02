package geo

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// cityPoints packs n points into a city of ~25 km across with dense cores,
// so that a 200 m circle in a core holds a few hundred points at 1M.
func cityPoints(n int) []orb.Point {
	r := rand.New(rand.NewPCG(42, 42))
	const lon, lat = 106.55, 29.6
	centres := make([]orb.Point, 300)
	for i := range centres {
		centres[i] = orb.Point{lon + r.NormFloat64()*0.06, lat + r.NormFloat64()*0.06}
	}
	out := make([]orb.Point, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		sd := 0.004 + r.ExpFloat64()*0.002
		out[i] = orb.Point{c[0] + r.NormFloat64()*sd/math.Cos(lat*deg2rad), c[1] + r.NormFloat64()*sd}
	}
	return out
}

// BenchmarkNearbyStages splits a 200 m radius query at 1M points into its
// stages, to see where the time goes against the bare scan.
func BenchmarkNearbyStages(b *testing.B) {
	pts := cityPoints(1_000_000)
	ix, _ := buildIndex(b, pts)
	s := ix.Snapshot()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	queries := make([]orb.Point, 1024)
	for i := range queries {
		queries[i] = pts[r.IntN(len(pts))]
	}
	const radius = 200
	aMax := radiusToA(radius)
	// the floor: a bare tidwall R-tree of the same points in Hilbert order
	var bare rtree.RTreeG[pitem]
	sorted := slices.Clone(pts)
	slices.SortFunc(sorted, func(a, b orb.Point) int { return cmp.Compare(HilbertIndex(a), HilbertIndex(b)) })
	for i, p := range sorted {
		bare.Insert(p, p, pitem{slot: uint32(i), cosLat: cosDeg(p[1])})
	}
	runtime.GC()
	b.Run("floor", func(b *testing.B) {
		hits := 0
		for i := 0; i < b.N; i++ {
			c := queries[i%1024]
			cos0 := math.Cos(c[1] * deg2rad)
			cb := capBounds(c, radius)
			for _, bb := range cb.b[:cb.n] {
				bare.Search(bb.Min, bb.Max, func(min, _ [2]float64, it pitem) bool {
					s1 := sinHalf((min[1] - c[1]) * deg2rad)
					s2 := sinHalf((min[0] - c[0]) * deg2rad)
					if s1*s1+cos0*it.cosLat*s2*s2 <= aMax {
						hits++
					}
					return true
				})
			}
		}
		b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	})
	var buf []cand
	var cb candBuf
	runtime.GC()
	b.Run("collect", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			buf, _ = nearbyLayer(ctx, s.entities, queries[i%1024], radius, nil, buf[:0])
		}
	})
	runtime.GC()
	b.Run("collect+sort", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cb.c, _ = nearbyLayer(ctx, s.entities, queries[i%1024], radius, nil, cb.c[:0])
			cb.sort(aMax)
		}
	})
	runtime.GC()
	b.Run("full", func(b *testing.B) {
		var hb []Hit
		for i := 0; i < b.N; i++ {
			res, _ := s.Nearby(ctx, LayerEntities, queries[i%1024], radius, Query{Limit: 10000, Reuse: hb})
			hb = res.Hits
		}
	})
}
