package addressmatch

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// FuzzCheck: DB.Check answers any text with one of its four verdicts,
// never panics, and matches only with a candidate at level exact; the
// clerk's number folding keeps the text's length and valid UTF-8.
func FuzzCheck(f *testing.F) {
	db, err := NewDB(DBOptions{Parser: testParser(f)})
	if err != nil {
		f.Fatal(err)
	}
	for i, a := range []string{"重庆市渝北区金开大道68号", "重庆市渝北区石船一路1号附3号", "重庆市渝北区龙睛路56号3-1"} {
		if err := db.Add(Record{ID: string(rune('a' + i)), Address: a, Location: orb.Point{106.5, 29.6}}); err != nil {
			f.Fatal(err)
		}
	}
	for _, s := range append(fuzzSeeds, "龙睛路56号三-一", "龙睛路56号3_1", "金开大道68号对面", "渝北区蔡家岗街道金开大道68号", "九-", "-〇", "_") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if fs := foldCheckNumbers(s); utf8.ValidString(s) && (!utf8.ValidString(fs) || utf8.RuneCountInString(fs) != utf8.RuneCountInString(s)) {
			t.Fatalf("foldCheckNumbers(%q) = %q", s, fs)
		}
		res, err := db.Check(context.Background(), s)
		switch res.Verdict {
		case Matched:
			if err != nil || len(res.Candidates) == 0 || res.Candidates[0].Level != LevelExact {
				t.Fatalf("Check(%q) matched with %v, %+v", s, err, res.Candidates)
			}
		case Doubtful, Invalid, Outside:
		default:
			t.Fatalf("Check(%q): verdict %q (err %v)", s, res.Verdict, err)
		}
	})
}
