package addressmatch

import (
	"sync"
	"testing"

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
