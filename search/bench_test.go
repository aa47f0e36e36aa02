package search

import (
	"context"
	"os"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
)

// benchQueries are the query classes of the latency benchmark, built from
// the demo region deterministically.
func benchQueries(f *demoFixture) map[string][]string {
	qs := map[string][]string{}
	ents := f.ds.Entities
	names := f.idx.names
	step := max(1, len(ents)/500)
	for i := 0; i < len(ents); i += step {
		short := names.Parse(ents[i].Name).Short
		rs := []rune(short)
		qs["short_name"] = append(qs["short_name"], short)
		qs["1_char"] = append(qs["1_char"], string(rs[0]))
		if len(rs) >= 2 {
			qs["2_char"] = append(qs["2_char"], string(rs[:2]))
		}
		if q, ok := initialsQuery(short); ok {
			qs["char_initials"] = append(qs["char_initials"], q)
		}
		full, ini := pinyinOf(short, false)
		qs["initials"] = append(qs["initials"], ini)
		qs["full_pinyin"] = append(qs["full_pinyin"], full)
		if a := []rune(ents[i].Address); len(a) > 8 {
			qs["address"] = append(qs["address"], string(a[3:9]))
		}
	}
	for _, p := range f.ds.Places {
		rs := []rune(p.Name)
		if len(rs) >= 3 {
			typo := append([]rune(nil), rs...)
			typo[len(rs)/2] = '口'
			qs["typo"] = append(qs["typo"], string(typo))
		}
	}
	qs["nonexistent"] = []string{"火星量子引力研究所", "乌鲁木齐雪豹养殖场", "张三李四网吧", "xyzzyqwv", "鼋鼍"}
	return qs
}

// BenchmarkSearch measures query latency per query class on the demo
// region (79,000 entities; MARKETGEO_TEST_ENTITIES changes it) and reports
// p50/p99 in milliseconds.
func BenchmarkSearch(b *testing.B) {
	f := getFixture(b)
	qs := benchQueries(f)
	classes := make([]string, 0, len(qs))
	for c := range qs {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, class := range classes {
		list := qs[class]
		b.Run(class, func(b *testing.B) {
			b.ReportAllocs()
			lat := make([]time.Duration, 0, b.N)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := list[i%len(list)]
				t := time.Now()
				if _, err := f.idx.Search(ctx, Query{Text: q, Limit: 10}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkBuild1M builds the search index of a 1,000,000-entity demo
// region (MARKETGEO_SLOW=1 only) and reports build time and heap.
func BenchmarkBuild1M(b *testing.B) {
	if os.Getenv("MARKETGEO_SLOW") != "1" {
		b.Skip("set MARKETGEO_SLOW=1 to build the 1M index")
	}
	for i := 0; i < b.N; i++ {
		f, err := buildFixture(1000000, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("1M: docs %d, build %v (CPU %v), heap +%d MiB", f.idx.Stats().Docs, f.buildTime.Round(time.Millisecond), f.buildCPU.Round(time.Millisecond), f.heapBytes>>20)
		b.ReportMetric(f.buildTime.Seconds(), "build-s")
		b.ReportMetric(float64(f.heapBytes)/(1<<20), "heap-MiB")
		qs := benchQueries(f)
		for _, class := range []string{"short_name", "1_char", "2_char", "char_initials", "initials", "full_pinyin", "address", "typo", "nonexistent"} {
			var lat []time.Duration
			for _, q := range qs[class] {
				t := time.Now()
				if _, err := f.idx.Search(context.Background(), Query{Text: q, Limit: 10}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.Logf("1M %s: n=%d p50=%v p99=%v", class, len(lat), lat[len(lat)/2], lat[len(lat)*99/100])
		}
		_ = f.idx.Close()
	}
}

// BenchmarkCJKModes compares the three CJK analyses on a 20,000-entity demo
// region (MARKETGEO_CJK_COMPARE=1 only): build time, heap, short-name top-3
// rate, one-character and typo hit rates and latency.
func BenchmarkCJKModes(b *testing.B) {
	if os.Getenv("MARKETGEO_CJK_COMPARE") != "1" {
		b.Skip("set MARKETGEO_CJK_COMPARE=1 to compare the CJK analyses")
	}
	for _, mode := range []CJKMode{CJKBigram, CJKBigramUnigram, CJKUnigram} {
		f, err := buildFixture(20000, Options{CJK: mode})
		if err != nil {
			b.Fatal(err)
		}
		ents := f.ds.Entities
		names := f.idx.names
		var lat []time.Duration
		short, one, typo, n, nt := 0, 0, 0, 0, 0
		for i := 0; i < len(ents); i += 10 {
			e := &ents[i]
			s := names.Parse(e.Name).Short
			t := time.Now()
			hits, _ := f.idx.Search(context.Background(), Query{Text: s, Limit: 3})
			lat = append(lat, time.Since(t))
			n++
			if inTop(hits, "entities", e.ID, 3) {
				short++
			}
			r, _ := utf8.DecodeRuneInString(s)
			t = time.Now()
			hits, _ = f.idx.Search(context.Background(), Query{Text: string(r), Limit: 10})
			lat = append(lat, time.Since(t))
			if len(hits) > 0 {
				one++
			}
		}
		for _, p := range f.ds.Places {
			rs := []rune(p.Name)
			if len(rs) < 3 {
				continue
			}
			rs[len(rs)/2] = '口'
			t := time.Now()
			hits, _ := f.idx.Search(context.Background(), Query{Text: string(rs), Limit: 3})
			lat = append(lat, time.Since(t))
			nt++
			if inTop(hits, "places", p.ID, 3) {
				typo++
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.Logf("%-15s build %6.1fs heap %4d MiB  short top3 %.1f%%  1-char answered %.1f%%  typo top3 %.1f%%  p50 %v p99 %v",
			mode, f.buildTime.Seconds(), f.heapBytes>>20, 100*float64(short)/float64(n), 100*float64(one)/float64(n),
			100*float64(typo)/float64(nt), lat[len(lat)/2], lat[len(lat)*99/100])
		_ = f.idx.Close()
	}
}

// BenchmarkBuild builds the search index of the demo region (79,000
// entities; MARKETGEO_TEST_ENTITIES changes it) from a loaded geo index and
// reports build time and heap. The demo data and the geo index are built
// once, outside the timer.
func BenchmarkBuild(b *testing.B) {
	ds, err := demo.Generate(demo.Options{Entities: demoEntities()})
	if err != nil {
		b.Fatal(err)
	}
	g, err := geo.New(geo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := ds.Load(g); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		cpu0 := cpuTime()
		start := time.Now()
		idx, err := New(context.Background(), g, Options{Region: demoNames(b).dict})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		cpu := cpuTime() - cpu0
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(took.Seconds(), "build-s")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		b.Logf("docs %d, build %v (CPU %v), heap +%.0f MiB", idx.Stats().Docs, took.Round(time.Millisecond), cpu.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
		_ = idx.Close()
	}
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
