package addressmatch

import (
	"sync"
	"testing"
)

var (
	testParserOnce sync.Once
	testParserVal  *Parser
	testParserErr  error
)

func testParser(tb testing.TB) *Parser {
	tb.Helper()
	testParserOnce.Do(func() { testParserVal, testParserErr = NewParser(DefaultOptions()) })
	if testParserErr != nil {
		tb.Fatal(testParserErr)
	}
	return testParserVal
}
