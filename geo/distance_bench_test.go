package geo

import (
	"math"
	"runtime"
	"testing"

	"github.com/paulmach/orb"
)

// Benchmarks of the small-angle series of distance.go against the plain
// libm calls they replace, on the inputs of real queries. Compare with
//
//	go test ./geo -run '^$' -bench 'SinHalf|HavToMetres' -count 6 > new.txt
//	benchstat -col /impl new.txt
//
// Besides wall time they report the process CPU time per op and per item
// (cpu-ns/op, cpu-ns/angle, cpu-ns/hit), which a loaded machine inflates
// far less.

// benchLoop runs body as the benchmark loop and reports the process CPU
// time per op and, when items > 0, per item as cpu-ns/<unit>.
func benchLoop(b *testing.B, items int, unit string, body func()) {
	c0 := processCPU()
	for b.Loop() {
		body()
	}
	cpu := processCPU() - c0
	if cpu <= 0 {
		return
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if items > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*items), "cpu-ns/"+unit)
	}
}

// seriesInput is one realistic input set of a series benchmark.
type seriesInput struct {
	name string
	xs   []float64
}

// queryPairs returns, for 64 query centres of the city fixture, the points
// whose cap box of radius metres holds them: the pairs a radius scan
// computes the haversine term of.
func queryPairs(radius float64) (centres, pts []orb.Point) {
	city := cityPoints(20000)
	for i := 0; i < 64; i++ {
		c := city[i*311%len(city)]
		cb := capBounds(c, radius)
		for _, p := range city {
			for _, bb := range cb.b[:cb.n] {
				if bb.Contains(p) {
					centres = append(centres, c)
					pts = append(pts, p)
				}
			}
		}
	}
	return centres, pts
}

// sinHalfInputs returns the angles (radians) that sinHalf receives: the
// latitude and longitude gaps of the points a 200 m and a 2 km radius scan
// tests, and the box gaps of a k-nearest search that reaches 10-100 km
// (the 9th-order branch).
func sinHalfInputs() []seriesInput {
	var out []seriesInput
	for _, r := range []struct {
		name   string
		radius float64
	}{{"scan200m", 200}, {"scan2km", 2000}} {
		cs, ps := queryPairs(r.radius)
		xs := make([]float64, 0, 2*len(ps))
		for i := range ps {
			xs = append(xs, (ps[i][1]-cs[i][1])*deg2rad, (ps[i][0]-cs[i][0])*deg2rad)
		}
		out = append(out, seriesInput{r.name, xs})
	}
	var far []float64
	for i := 0; i < 8192; i++ {
		d := 10e3 + 90e3*float64(i)/8192 // metres
		far = append(far, d/EarthRadius*math.Cos(float64(i)))
	}
	return append(out, seriesInput{"knn10-100km", far})
}

// BenchmarkSinHalf: sinHalf (Taylor series to x^5 or x^9) against
// math.Sin(x/2), per angle.
func BenchmarkSinHalf(b *testing.B) {
	for _, in := range sinHalfInputs() {
		impls := []struct {
			name string
			fn   func([]float64) float64
		}{
			{"series", func(xs []float64) float64 {
				s := 0.0
				for _, x := range xs {
					s += sinHalf(x)
				}
				return s
			}},
			{"math.Sin", func(xs []float64) float64 {
				s := 0.0
				for _, x := range xs {
					s += math.Sin(x * 0.5)
				}
				return s
			}},
		}
		for _, im := range impls {
			b.Run("in="+in.name+"/impl="+im.name, func(b *testing.B) {
				var s float64
				benchLoop(b, len(in.xs), "angle", func() { s += im.fn(in.xs) })
				runtime.KeepAlive(s)
			})
		}
	}
}

// havInputs returns haversine terms a as query results convert them to
// metres: the hits of a 200 m and a 1 km radius query (havToMetresSmall's
// range), and k-nearest hits 1-100 km away (havToMetresAny's series).
func havInputs() []seriesInput {
	var out []seriesInput
	for _, r := range []struct {
		name   string
		radius float64
	}{{"hits200m", 200}, {"hits1km", 1000}} {
		cs, ps := queryPairs(r.radius)
		aMax := radiusToA(r.radius)
		var as []float64
		for i := range ps {
			a := haversineA(cs[i][0], cs[i][1], math.Cos(cs[i][1]*deg2rad), ps[i][0], ps[i][1], math.Cos(ps[i][1]*deg2rad))
			if a <= aMax {
				as = append(as, a)
			}
		}
		out = append(out, seriesInput{r.name, as})
	}
	var far []float64
	for i := 0; i < 8192; i++ {
		far = append(far, radiusToA(1e3+99e3*float64(i)/8192))
	}
	return append(out, seriesInput{"knn1-100km", far})
}

// BenchmarkHavToMetres: the conversion of query.go's hit loop
// (havToMetresSmall, else havToMetres, both series below 127 km) against
// 2R·asin(√a), per hit.
func BenchmarkHavToMetres(b *testing.B) {
	for _, in := range havInputs() {
		impls := []struct {
			name string
			fn   func([]float64) float64
		}{
			{"series", func(as []float64) float64 {
				s := 0.0
				for _, a := range as {
					d, ok := havToMetresSmall(a)
					if !ok {
						d = havToMetres(a)
					}
					s += d
				}
				return s
			}},
			{"math.Asin", func(as []float64) float64 {
				s := 0.0
				for _, a := range as {
					s += 2 * EarthRadius * math.Asin(math.Sqrt(a))
				}
				return s
			}},
		}
		for _, im := range impls {
			b.Run("in="+in.name+"/impl="+im.name, func(b *testing.B) {
				var s float64
				benchLoop(b, len(in.xs), "hit", func() { s += im.fn(in.xs) })
				runtime.KeepAlive(s)
			})
		}
	}
}
