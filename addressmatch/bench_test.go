package addressmatch

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

var benchAddrs = []string{
	"重庆市江北区寸滩街道港城东路9号3栋2单元5-1",
	"渝北区金开大道六十八号",
	"浙江省温州市瓯海区梧田街道佳景花园00栋",
	"湖州市安吉县递铺镇梅灵路与机场路交叉口港中旅游公司",
}

func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Normalize(benchAddrs[i%len(benchAddrs)])
	}
}

func BenchmarkParse(b *testing.B) {
	p := testParser(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = p.Parse(benchAddrs[i%len(benchAddrs)])
	}
}

func BenchmarkCompare(b *testing.B) {
	p := testParser(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = p.Compare(benchAddrs[i%len(benchAddrs)], benchAddrs[(i+1)%len(benchAddrs)])
	}
}

// benchSize is the number of addresses for the DB benchmarks: 1,000,000 with
// MARKETGEO_SLOW=1, 100,000 otherwise.
func benchSize() int {
	if os.Getenv("MARKETGEO_SLOW") != "" {
		return 1_000_000
	}
	return 100_000
}

// BenchmarkDBBuild measures building a DB; reports bytes of heap per address.
func BenchmarkDBBuild(b *testing.B) {
	p := testParser(b)
	addrs, _ := genDataset(p, 1, benchSize())
	recs := make([]Record, len(addrs))
	for i, a := range addrs {
		recs[i] = Record{ID: strconv.Itoa(i), Address: a.full, Location: a.loc}
	}
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		db, err := NewDB(DBOptions{Parser: p})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(recs); i += 4096 {
			if err := db.Add(recs[i:min(i+4096, len(recs))]...); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(len(recs)), "heapB/addr")
		b.ReportMetric(float64(len(recs)), "addrs")
		runtime.KeepAlive(db)
	}
}

// BenchmarkCheck measures Check against a DB of benchSize addresses with
// clerk-style variants as queries, and reports the p50/p99 latency.
func BenchmarkCheck(b *testing.B) {
	p := testParser(b)
	addrs, _ := genDataset(p, 1, benchSize())
	db := buildGenDB(b, addrs)
	queries := make([]string, 1000)
	for i := range queries {
		a := addrs[(i*7919)%len(addrs)]
		q := cntext.Fold(a.full)
		if i%3 == 0 {
			q = a.road + strconv.Itoa(a.no) + "号"
		}
		queries[i] = q
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if _, err := db.Check(ctx, queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// BenchmarkNewParser measures startup: building the parser with the embedded
// national dictionary and the demo's region merged in (budget ~300 ms).
func BenchmarkNewParser(b *testing.B) {
	for b.Loop() {
		if _, err := NewParser(demoOpts(b, DefaultOptions())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseP99 measures Parse with and without the embedded model over
// a mix of addresses (the bench set and the parse test inputs), and reports
// the p50/p99 latency per call (issue 14: Parse < 100 µs p99 on one core).
func BenchmarkParseP99(b *testing.B) {
	in := parseP99Inputs()
	for _, mode := range []struct {
		name    string
		noModel bool
	}{{"model", false}, {"rules", true}} {
		b.Run(mode.name, func(b *testing.B) {
			p, err := NewParser(demoOpts(b, Options{NoModel: mode.noModel}))
			if err != nil {
				b.Fatal(err)
			}
			_ = p.Parse(in[0]) // decode the model outside the timing
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				_ = p.Parse(in[i%len(in)])
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}

// BenchmarkCompareP99 measures Compare with the embedded compare model and
// with the rules alone over pairs of the bench addresses and long map-style
// pairs, and reports the p50/p99 latency per call (issue 14: compare <
// 200 µs p99 on one core).
func BenchmarkCompareP99(b *testing.B) {
	var pairs [][2]string
	for i := range benchAddrs {
		pairs = append(pairs, [2]string{benchAddrs[i], benchAddrs[(i+1)%len(benchAddrs)]}, [2]string{benchAddrs[i], benchAddrs[i]})
	}
	pairs = append(pairs,
		[2]string{"江苏省南京市雨花台区西善桥街道邱村71号西善花苑万福园(万福园)2栋", "岱山中路西善花苑万福园西门万福园2号楼"},
		[2]string{"河南省郑州市二七区嵩山路街道办事处航海中路179号附6号公安局家属院多层4号楼四单元", "航海路179号附6号郑州市公安局家属院(东1门)"},
		[2]string{"向阳路劳动路十字新乡市中医院西临健民中医馆楼上三楼", "向阳路511号新乡市中医院门诊楼"},
		[2]string{"广东省深圳市宝安区沙井沙三上下围创业工业园0栋一楼", "沙井街道沙三上下围创业工业园(北门)"},
		[2]string{"江苏省南京市秦淮区五老村街道中山南路122号南京地铁1号线新街口站站台", "中山南路122号大洋百货(新街口店)F7层收银台(大洋百货新街口店)"})
	for _, mode := range []struct {
		name    string
		noModel bool
	}{{"model", false}, {"rules", true}} {
		b.Run(mode.name, func(b *testing.B) {
			p, err := NewParser(demoOpts(b, Options{NoCompareModel: mode.noModel}))
			if err != nil {
				b.Fatal(err)
			}
			_ = p.Compare(pairs[0][0], pairs[0][1]) // decode the model outside the timing
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				pr := pairs[i%len(pairs)]
				t0 := time.Now()
				_ = p.Compare(pr[0], pr[1])
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			reportLatencies(b, lat)
		})
	}
}
