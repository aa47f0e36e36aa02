package addressmatch

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/demo"
)

var (
	testParserOnce sync.Once
	testParserVal  *Parser
	testParserErr  error

	// demoRegion is the demo's Chongqing dictionary (its communities are
	// what the clerk tests and the demo's addresses need), built once.
	demoRegion = sync.OnceValues(demo.Region)
)

// demoOpts returns o with the demo's region as its Region.
func demoOpts(tb testing.TB, o Options) Options {
	tb.Helper()
	reg, err := demoRegion()
	if err != nil {
		tb.Fatal(err)
	}
	o.Region = reg
	return o
}

// testParser is the parser of the demo region with the default options,
// built once.
func testParser(tb testing.TB) *Parser {
	tb.Helper()
	testParserOnce.Do(func() {
		reg, err := demoRegion()
		if err != nil {
			testParserErr = err
			return
		}
		o := DefaultOptions()
		o.Region = reg
		testParserVal, testParserErr = NewParser(o)
	})
	if testParserErr != nil {
		tb.Fatal(testParserErr)
	}
	return testParserVal
}

// reportLatencies reports the median and 99th percentile of the recorded
// per-call latencies of a benchmark.
func reportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
