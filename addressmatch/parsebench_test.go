package addressmatch

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkParseLeast measures the CPU cost of Parse with the embedded
// model on a loaded box: for each of the first 300 lines of parse_dev
// (skipped when the development data is absent) the least of 15 timed
// calls, so that waiting for a core drops out; it reports the mean, the
// p99 over the lines and the longest of those least times.
func BenchmarkParseLeast(b *testing.B) {
	f, err := os.Open(filepath.Join(devDir, "parse_dev.jsonl"))
	if err != nil {
		b.Skipf("no parse_dev: %v", err)
	}
	defer f.Close()
	var in []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(in) < 300 {
		var r struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		in = append(in, r.Text)
	}
	p, err := NewParser(demoOpts(b, Options{}))
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Parse(in[0]) // decode the model outside the timing
	least := make([]time.Duration, len(in))
	for b.Loop() {
		for i, s := range in {
			least[i] = time.Hour
			for run := 0; run < 15; run++ {
				t0 := time.Now()
				_ = p.Parse(s)
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
	b.ReportMetric(float64(least[len(least)-1].Microseconds()), "max-least-µs")
}

// parseP99Inputs are the addresses BenchmarkParseP99 and
// BenchmarkParseCycleLeast cycle through: the bench set and the parse test
// inputs.
func parseP99Inputs() []string {
	in := append([]string(nil), benchAddrs...)
	return append(in, "萧山区宁围街道景海湾闻潮阁10幢", "王充路1000号亚厦阳光假日10幢2单元",
		"洪兴路0000号江南摩尔购物中心西区0-0层天虹百货嘉兴店", "广东省深圳市宝安区沙井沙三上下围创业工业园0栋一楼",
		"航海路运河东路路口万科大都会中天建设项目部", "浙江省金华市永康市浙江省金华市永康市龙山镇后宅发展路000号")
}

// BenchmarkParseCycleLeast measures Parse with the embedded model as
// BenchmarkParseP99 does (each call a different address of the cycle, so
// the model's tables are as cold as in that benchmark), but keeps for each
// address the least of its times over 50 rounds of the cycle, so that the
// waits for a core on a loaded box drop out; it reports the mean and the
// longest of those least times (the per-call CPU cost with the caches as
// the cycle leaves them).
func BenchmarkParseCycleLeast(b *testing.B) {
	in := parseP99Inputs()
	p, err := NewParser(demoOpts(b, Options{}))
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Parse(in[0]) // decode the model outside the timing
	least := make([]time.Duration, len(in))
	for b.Loop() {
		for i := range least {
			least[i] = time.Hour
		}
		for range 50 {
			for i, s := range in {
				t0 := time.Now()
				_ = p.Parse(s)
				least[i] = min(least[i], time.Since(t0))
			}
		}
	}
	var sum time.Duration
	for _, d := range least {
		sum += d
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(len(least)), "mean-least-µs")
	b.ReportMetric(float64(slices.Max(least).Microseconds()), "max-least-µs")
}
