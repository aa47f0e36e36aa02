package geo

import (
	"math"
	"testing"
)

func cosF(a float64) float64 { return math.Cos(a) }
func sinF(a float64) float64 { return math.Sin(a) }

// TestSeriesMatchLibm: the small-angle series of sinHalf and havToMetres
// agree with math.Sin and math.Asin to rounding in every range they serve.
func TestSeriesMatchLibm(t *testing.T) {
	rel := func(got, want float64) float64 {
		if want == 0 {
			return math.Abs(got)
		}
		return math.Abs(got-want) / math.Abs(want)
	}
	for _, x := range []float64{1e-12, 3e-9, 1e-7, 1e-5, 3e-5, 1e-4, 1.9e-3, 1.99999e-3, 2e-3, 2.00001e-3, 1e-2, 0.05, 0.0999, 0.1, 0.1001, 0.5, 3} {
		for _, s := range []float64{1, -1} {
			if e := rel(sinHalf(s*x), math.Sin(s*x/2)); e > 4e-16 {
				t.Errorf("sinHalf(%g): relative error %g", s*x, e)
			}
		}
	}
	for _, a := range []float64{1e-20, 1e-14, 1e-10, 5e-9, 9.9999e-9, 1e-8, 1.00001e-8, 1e-6, 9.9e-5, 1e-4, 0.01, 0.3, 0.9999} {
		want := 2 * EarthRadius * math.Asin(math.Sqrt(a))
		if e := rel(havToMetres(a), want); e > 4e-16 {
			t.Errorf("havToMetres(%g): relative error %g", a, e)
		}
	}
	if havToMetres(0) != 0 || havToMetres(-1e-30) != 0 || havToMetres(1) != math.Pi*EarthRadius {
		t.Error("havToMetres at the ends of its range")
	}
}
