package addressmatch

import (
	"context"
	"strconv"
	"testing"
)

// TestCheckHoldsBackLookAlikes: cases the adversarial generator found on
// new seeds (clerkadv_test.go, seed 105). Each invented address must not
// be matched, and the registered address beside it still is.
func TestCheckHoldsBackLookAlikes(t *testing.T) {
	registered := []string{
		"重庆市渝北区金州大道41号附7号",
		"重庆市渝北区金童路41号附7号",
		"重庆市渝北区金山大道32号35层9号",
	}
	tests := []struct {
		name, in string
		matched  bool
	}{
		{"the registered road", "重庆市渝北区金州大道41号附7号", true},
		{"the road with another road word is that road, not the one a typo away", "渝北区金州路41号附7号", false},
		{"the registered number without a name", "重庆市渝北区金山大道32号35层9号", true},
		{"a building name not registered at the number", "重庆市渝北区金山大道32号金帝国际35楼9号", false},
	}
	p := testParser(t)
	db, err := NewDB(DBOptions{Parser: p})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range registered {
		if err := db.Add(Record{ID: strconv.Itoa(i), Address: a, Kind: KindEntity}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := db.Check(context.Background(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Verdict == Matched; got != tc.matched {
				t.Errorf("%s: verdict %s (%s), want matched=%v", tc.in, res.Verdict, res.Message, tc.matched)
			}
		})
	}
}
