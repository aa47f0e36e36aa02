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
