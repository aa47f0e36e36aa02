package addressmatch

import (
	"bufio"
	"cmp"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkCompareColdP99 measures Compare with the embedded compare model
// on pairs of long addresses that the parser has never seen (every call
// makes both addresses new, so that for a model trained with the tagger's
// readings the parser's cache of them never hits). BenchmarkCompareP99
// repeats its pairs.
func BenchmarkCompareColdP99(b *testing.B) {
	bases := [][2]string{
		{"江苏省南京市雨花台区西善桥街道邱村71号西善花苑万福园(万福园)2栋", "岱山中路西善花苑万福园西门万福园2号楼"},
		{"河南省郑州市二七区嵩山路街道办事处航海中路179号附6号公安局家属院多层4号楼四单元", "航海路179号附6号郑州市公安局家属院(东1门)"},
		{"向阳路劳动路十字新乡市中医院西临健民中医馆楼上三楼", "向阳路511号新乡市中医院门诊楼"},
		{"广东省深圳市宝安区沙井沙三上下围创业工业园0栋一楼", "沙井街道沙三上下围创业工业园(北门)"},
		{"江苏省南京市秦淮区五老村街道中山南路122号南京地铁1号线新街口站站台", "中山南路122号大洋百货(新街口店)F7层收银台(大洋百货新街口店)"},
		{"重庆市江北区寸滩街道港城东路9号3栋2单元5-1", "港城东路9号3号楼2单元5-1"},
		{"湖州市安吉县递铺镇梅灵路与机场路交叉口港中旅游公司", "梅灵路与机场路交叉口港中旅游"},
	}
	p, err := NewParser(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Compare(bases[0][0], bases[0][1]) // decode the models outside the timing
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pr := bases[i%len(bases)]
		// a room number no call has used makes both addresses new
		tail := strconv.Itoa(1000+i) + "室"
		a, c := pr[0]+tail, pr[1]+tail
		t0 := time.Now()
		_ = p.Compare(a, c)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}

// BenchmarkCompareCandidatesColdP99 measures CompareCandidates with the
// embedded model: one query against five candidates (the long pairs of
// BenchmarkCompareColdP99), every address new in each call; it reports the
// latency per call (five candidates) and per candidate.
func BenchmarkCompareCandidatesColdP99(b *testing.B) {
	qs := []string{"江苏省南京市雨花台区西善桥街道邱村71号西善花苑万福园(万福园)2栋",
		"河南省郑州市二七区嵩山路街道办事处航海中路179号附6号公安局家属院多层4号楼四单元",
		"向阳路劳动路十字新乡市中医院西临健民中医馆楼上三楼", "重庆市江北区寸滩街道港城东路9号3栋2单元5-1"}
	cands := []string{"岱山中路西善花苑万福园西门万福园2号楼", "航海路179号附6号郑州市公安局家属院(东1门)",
		"向阳路511号新乡市中医院门诊楼", "沙井街道沙三上下围创业工业园(北门)", "港城东路9号3号楼2单元5-1",
		"梅灵路与机场路交叉口港中旅游"}
	p, err := NewParser(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	_ = p.CompareCandidates(qs[0], cands[:2]) // decode the models outside the timing
	lat := make([]time.Duration, 0, 1<<16)
	bs := make([]string, 5)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tail := strconv.Itoa(1000+i) + "室"
		a := qs[i%len(qs)] + tail
		for k := range bs {
			bs[k] = cands[(i+k)%len(cands)] + tail
		}
		t0 := time.Now()
		_ = p.CompareCandidates(a, bs)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/float64(len(bs)), "p99-µs/candidate")
	}
}

// BenchmarkCompareLeast measures the CPU cost of Compare on a loaded box:
// for each of the first 300 pairs of match_dev (MARKETGEO_MATCH_DEV names
// the file; default ../../shared/data/address-dev/match_dev.jsonl, skipped
// when absent) the least of 15 timed calls, so that waiting for a core drops
// out; it reports the mean and the p99 over the pairs of those least times,
// cold (both addresses parsed anew each call: the parser's entity cache
// emptied first) and warm (the pair seen before).
func BenchmarkCompareLeast(b *testing.B) {
	path := cmp.Or(os.Getenv("MARKETGEO_MATCH_DEV"), "../../shared/data/address-dev/match_dev.jsonl")
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("no match_dev: %v", err)
	}
	defer f.Close()
	var pairs [][2]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(pairs) < 300 {
		var r struct{ A, B string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		pairs = append(pairs, [2]string{r.A, r.B})
	}
	p, err := NewParser(demoOpts(b, Options{}))
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Compare(pairs[0][0], pairs[0][1])
	for _, cold := range []bool{true, false} {
		name := "warm"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			least := make([]time.Duration, len(pairs))
			for b.Loop() {
				for i, pr := range pairs {
					least[i] = time.Hour
					for run := 0; run < 15; run++ {
						if cold {
							p.cmp.ents.mu.Lock()
							p.cmp.ents.m = nil
							p.cmp.ents.mu.Unlock()
						}
						t0 := time.Now()
						_ = p.Compare(pr[0], pr[1])
						least[i] = min(least[i], time.Since(t0))
					}
				}
			}
			var sum time.Duration
			for _, d := range least {
				sum += d
			}
			b.ReportMetric(float64(sum.Microseconds())/float64(len(least)), "mean-least-µs")
			slices.Sort(least)
			b.ReportMetric(float64(least[len(least)*99/100].Microseconds()), "p99-least-µs")
		})
	}
}
