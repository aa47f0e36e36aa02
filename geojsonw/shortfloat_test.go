package geojsonw

import (
	"math"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// checkShortest compares appendShortest (and AppendFloat) of v with
// strconv's shortest 'f' formatting, the oracle, and counts what the fast
// path wrote.
func checkShortest(t *testing.T, v float64, fast *int) {
	t.Helper()
	want := strconv.AppendFloat(nil, v, 'f', -1, 64)
	got, ok := appendShortest([]byte("x"), v)
	if ok {
		*fast++
		if string(got[1:]) != string(want) {
			t.Fatalf("appendShortest(%b = %v) = %s, want %s", v, v, got[1:], want)
		}
	} else if string(got) != "x" {
		t.Fatalf("appendShortest(%v) declined but appended %q", v, got)
	}
	if a := math.Abs(v); a >= 1e-6 && a < 1e21 {
		if g := AppendFloat(nil, v); string(g) != string(want) {
			t.Fatalf("AppendFloat(%v) = %s, want %s", v, g, want)
		}
	}
}

// TestAppendShortestMatchesStrconv: the fast shortest formatting of
// coordinates writes strconv's bytes, on random doubles of every exponent
// it serves and around it, coordinates of the region in every CRS's range,
// short decimals (as parsed from a file), integers, neighbours of powers of
// two and halfway values; and it serves most of them.
func TestAppendShortestMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 22))
	fast, n := 0, 0
	check := func(v float64) {
		n++
		checkShortest(t, v, &fast)
		checkShortest(t, -v, &fast)
	}
	for range 300_000 { // any bits with an exponent near the range served
		exp := uint64(1023 - 3 + r.IntN(26))
		check(math.Float64frombits(exp<<52 | r.Uint64()&(1<<52-1)))
	}
	for range 300_000 { // coordinates: lon 105-110, lat 28-32 and the like
		check(105 + r.Float64()*5)
		check(28 + r.Float64()*4)
	}
	for range 100_000 { // short decimals, as read from text
		d := r.IntN(12)
		v, err := strconv.ParseFloat(strconv.FormatFloat(1+r.Float64()*2000, 'f', d, 64), 64)
		if err != nil {
			t.Fatal(err)
		}
		check(v)
	}
	for i := 1; i < 5000; i++ {
		check(float64(i))
		check(float64(i) + 0.5)
		check(float64(i) + 0.25)
	}
	for e := -3; e <= 22; e++ { // powers of two and their neighbours
		p := math.Ldexp(1, e)
		check(p)
		check(math.Nextafter(p, 0))
		check(math.Nextafter(p, math.Inf(1)))
	}
	for _, v := range []float64{0, 1, 2097151.9999999998, 2097152, 1e-7, 0.1, 106.54173996475768, 29.664193728056258} {
		check(v)
	}
	if fast < n*3/2 { // of the 2n values checked, most are in the range
		t.Fatalf("the fast path wrote %d of %d values", fast, 2*n)
	}
	t.Logf("fast path: %d of %d", fast, 2*n)
}

// FuzzAppendShortest: any float64 formats as strconv does (the fast path
// or the general one).
func FuzzAppendShortest(f *testing.F) {
	for _, v := range []float64{106.54173996475768, 29.664193728056258, 1, 1.5, 2097151.9999999998, 0.3} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, b uint64) {
		fast := 0
		checkShortest(t, math.Float64frombits(b), &fast)
	})
}

func BenchmarkAppendFloatCoordinate(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 22))
	vs := make([]float64, 1024)
	for i := range vs {
		vs[i] = 105 + r.Float64()*5
	}
	buf := make([]byte, 0, 64)
	// cpu-ns/op: the process's CPU time (run with -cpu 1), which a loaded machine inflates
	// less than the wall time
	cpu := func(b *testing.B, t0 time.Duration) {
		b.ReportMetric(float64(processCPU()-t0)/float64(b.N), "cpu-ns/op")
	}
	b.Run("geojsonw", func(b *testing.B) {
		t0 := processCPU()
		for i := 0; i < b.N; i++ {
			buf = AppendFloat(buf[:0], vs[i%len(vs)])
		}
		cpu(b, t0)
	})
	b.Run("strconv", func(b *testing.B) {
		t0 := processCPU()
		for i := 0; i < b.N; i++ {
			buf = strconv.AppendFloat(buf[:0], vs[i%len(vs)], 'f', -1, 64)
		}
		cpu(b, t0)
	})
}

// processCPU is the process's CPU time (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
