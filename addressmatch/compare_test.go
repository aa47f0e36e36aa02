package addressmatch

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestCompare checks the rules' comparison (the learned compare model off).
func TestCompare(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoCompareModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		a, b  string
		label MatchLabel
		level Level
	}{
		{"identical", "重庆市渝北区金开大道68号", "重庆市渝北区金开大道68号", Match, LevelExact},
		{"variant", "渝北区金开大道六十八号", "重庆市渝北区金开大道68号", Match, LevelExact},
		{"units", "港城东路9号3幢2单元5-1", "港城东路9号3号楼2单元5-1", Match, LevelExact},
		{"same building", "港城东路9号3栋2单元5-1", "港城东路9号3栋1单元2-1", Match, LevelSameBuilding},
		{"same poi", "福红路48号阳光华庭F栋", "福红路48号阳光华庭", Partial, LevelSamePOI},
		{"same road", "金开大道68号", "金开大道1200号", Partial, LevelSameRoad},
		{"different district", "江北区港城东路9号", "渝北区港城东路9号", None, LevelDifferent},
		{"different", "金开大道68号", "解放碑步行街1号", None, LevelDifferent},
		{"floor ignored", "文澜镇朝阳路金鹏世纪广场三楼", "金鹏世纪广场", Match, LevelSameBuilding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Compare(tc.a, tc.b)
			if r.Label != tc.label || r.Level != tc.level {
				t.Errorf("Compare(%q,%q) = %s/%s (%.2f, %+v), want %s/%s", tc.a, tc.b, r.Label, r.Level, r.Score, r.Diff, tc.label, tc.level)
			}
			if r.Score < 0 || r.Score > 1 {
				t.Errorf("score out of range: %v", r.Score)
			}
		})
	}
	if r := Compare("金开大道68号", "金开大道68号"); r.Label != Match {
		t.Errorf("package Compare: %+v", r)
	}
}

// TestCompareModel checks the learned compare model of the default parser:
// it is embedded and decodes, it keeps the obvious cases, and a road or
// road-number conflict still vetoes match, an administrative conflict is
// none.
func TestCompareModel(t *testing.T) {
	p := testParser(t)
	on, err := p.CompareModelStatus()
	if err != nil {
		t.Fatal(err)
	}
	if !on {
		t.Skip("no compare model embedded")
	}
	tests := []struct {
		name  string
		a, b  string
		label MatchLabel // "" : anything but match
	}{
		{"identical", "重庆市渝北区金开大道68号", "重庆市渝北区金开大道68号", Match},
		{"variant", "渝北区金开大道六十八号", "重庆市渝北区金开大道68号", Match},
		{"units", "港城东路9号3幢2单元5-1", "港城东路9号3号楼2单元5-1", Match},
		{"different district", "江北区港城东路9号", "渝北区港城东路9号", None},
		{"different", "金开大道68号", "解放碑步行街1号", None},
		{"road number conflict", "金开大道68号", "金开大道1200号", ""},
		{"road number conflict with tail", "重庆市渝北区石船一路1号附3号", "重庆市渝北区石船一路2号附3号", ""},
		{"invented road with tail", "重庆市渝北区不存在路1号附3号", "重庆市渝北区石船一路1号附3号", ""},
		{"other road same floor-room", "重庆市渝北区芷兰路16号3-1", "重庆市渝北区龙睛路56号3-1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := p.Compare(tc.a, tc.b)
			bad := r.Label != tc.label
			if tc.label == "" {
				bad = r.Label == Match
			}
			if bad {
				t.Errorf("Compare(%q,%q) = %s/%s (%.2f), want %q", tc.a, tc.b, r.Label, r.Level, r.Score, tc.label)
			}
			lo, hi := 0.0, 0.35
			switch r.Label {
			case Match:
				lo, hi = 0.7, 1.0001
			case Partial:
				lo, hi = 0.35, 0.7
			}
			if r.Score < lo || r.Score >= hi {
				t.Errorf("score %.3f outside the band of %s", r.Score, r.Label)
			}
		})
	}
}

// TestCompareModelRoundTrip checks that a trained model writes and reads
// back to the same bytes and the same labels.
func TestCompareModelRoundTrip(t *testing.T) {
	p, err := NewParser(demoOpts(t, Options{NoModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	ex := []CompareExample{
		{"金开大道68号", "金开大道68号", Match},
		{"金开大道68号", "金开大道70号", Partial},
		{"金开大道68号", "解放碑步行街1号", None},
	}
	m, err := p.TrainCompareModel(ex, CompareTrainOptions{Seed: 1, MinCount: 1, Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	if _, err := m.WriteTo(&b1); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadCompareModel(bytes.NewReader(b1.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.WriteTo(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) || m2.Features() != m.Features() {
		t.Fatalf("round trip differs: %d/%d bytes, %d/%d features", b1.Len(), b2.Len(), m.Features(), m2.Features())
	}
	if _, err := ReadCompareModel(bytes.NewReader([]byte("junk"))); !errors.Is(err, ErrBadModel) {
		t.Fatalf("junk model: err = %v", err)
	}
	if _, err := p.TrainCompareModel(nil, CompareTrainOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("no examples: err = %v", err)
	}
}

// TestCompareNeverVouch pins the rules of issue 14, item 1, in Compare, with
// the rules alone and with the learned model: a road or road-number conflict
// vetoes match; a sub-number alone never matches; a place-name conflict is
// not the same building; a finer component on one side only is partial; N-N,
// N楼N号 and N层N室 are one floor-room unless PlainDashRoom; markup after an
// address is not the same address; another city is none.
func TestCompareNeverVouch(t *testing.T) {
	rules, err := NewParser(demoOpts(t, Options{NoCompareModel: true}))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewParser(demoOpts(t, Options{NoCompareModel: true, PlainDashRoom: true}))
	if err != nil {
		t.Fatal(err)
	}
	parsers := []struct {
		name string
		p    *Parser
	}{{"rules", rules}, {"model", testParser(t)}}
	notMatch := func(r Result) bool {
		return r.Label != Match && r.Level != LevelExact && r.Level != LevelSameBuilding
	}
	tests := []struct {
		name string
		a, b string
		ok   func(Result) bool
		want string
	}{
		{"road conflict", "重庆市渝北区石船二路1号附3号", "重庆市渝北区石船一路1号附3号", notMatch, "not match"},
		{"invented road, same tail", "重庆市渝北区不存在路1号附3号", "重庆市渝北区石船一路1号附3号", notMatch, "not match"},
		{"road-number conflict", "重庆市渝北区石船一路2号附3号", "重庆市渝北区石船一路1号附3号", notMatch, "not match"},
		{"road-number conflict, floor-room", "重庆市渝北区芷兰路16号3-1", "重庆市渝北区芷兰路56号3-1", notMatch, "not match"},
		{"sub-number alone", "附3号", "重庆市渝北区石船一路1号附3号", notMatch, "not match"},
		{"floor-room alone", "3-1", "重庆市渝北区龙睛路56号3-1", notMatch, "not match"},
		{"place-name conflict", "金开大道68号阳光大厦5楼", "金开大道68号星光公寓5楼", notMatch, "not match"},
		{"finer building on one side", "金开大道68号", "金开大道68号3栋", func(r Result) bool { return r.Label == Partial }, "partial"},
		{"finer sub-number on one side", "金开大道68号", "金开大道68号附3号", func(r Result) bool { return r.Label == Partial }, "partial"},
		{"finer unit on one side", "金开大道68号3栋", "金开大道68号3栋2单元", func(r Result) bool { return r.Label == Partial }, "partial"},
		{"N-N is N楼N号", "金开大道68号3-1", "金开大道68号3楼1号", func(r Result) bool { return r.Label == Match && r.Level == LevelExact }, "match/exact"},
		{"N-N is N层N室", "金开大道68号3-1", "金开大道68号3层01室", func(r Result) bool { return r.Label == Match && r.Level == LevelExact }, "match/exact"},
		{"markup after the address", "重庆市渝北区人和大道132号<script>alert(1)</script>", "重庆市渝北区人和大道132号", notMatch, "not match"},
		{"other city", "北京市朝阳区建国路88号", "重庆市渝北区建国路88号", func(r Result) bool { return r.Label == None }, "none"},
	}
	for _, pp := range parsers {
		for _, tc := range tests {
			t.Run(pp.name+"/"+tc.name, func(t *testing.T) {
				for _, ab := range [][2]string{{tc.a, tc.b}, {tc.b, tc.a}} {
					if r := pp.p.Compare(ab[0], ab[1]); !tc.ok(r) {
						t.Errorf("Compare(%q, %q) = %s/%s, want %s", ab[0], ab[1], r.Label, r.Level, tc.want)
					}
				}
			})
		}
	}
	// PlainDashRoom: N-N after a number is one room number, not a floor-room
	if r := plain.Compare("金开大道68号3-1", "金开大道68号3楼1号"); r.Level == LevelExact {
		t.Errorf("PlainDashRoom: Compare = %s/%s, want not exact", r.Label, r.Level)
	}
}

// TestCompareCacheConcurrent checks that Compare through the parser's cache
// of recent entities answers as a fresh parser does, from several
// goroutines at once (run with -race), including after the cache starts
// over.
func TestCompareCacheConcurrent(t *testing.T) {
	addrs := []string{"重庆市渝北区金开大道68号", "渝北区金开大道六十八号", "港城东路9号3幢2单元5-1", "港城东路9号3号楼2单元5-1",
		"重庆市渝北区石船一路1号附3号", "附3号", "金开大道68号阳光大厦5楼", "文澜镇朝阳路金鹏世纪广场三楼", "金鹏世纪广场"}
	want := map[[2]string]Result{}
	fresh, err := NewParser(demoOpts(t, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		for _, b := range addrs {
			fresh.cmp.ents.m = nil // nothing cached: both addresses parsed anew
			want[[2]string{a, b}] = fresh.Compare(a, b)
		}
	}
	wantCands := map[string][]Result{}
	for _, a := range addrs {
		fresh.cmp.ents.m = nil
		wantCands[a] = fresh.CompareCandidates(a, addrs)
	}
	p, err := NewParser(demoOpts(t, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				for _, a := range addrs {
					for _, b := range addrs {
						if got, w := p.Compare(a, b), want[[2]string{a, b}]; got.Label != w.Label || got.Level != w.Level || got.Score != w.Score {
							select {
							case errs <- fmt.Sprintf("Compare(%q, %q) = %+v, fresh parser %+v", a, b, got, w):
							default:
							}
						}
					}
				}
				for _, a := range addrs {
					for i, got := range p.CompareCandidates(a, addrs) {
						if w := wantCands[a][i]; got.Label != w.Label || got.Level != w.Level || got.Score != w.Score {
							select {
							case errs <- fmt.Sprintf("CompareCandidates(%q, …)[%d] = %+v, fresh parser %+v", a, i, got, w):
							default:
							}
						}
					}
				}
				for i := 0; i < entCacheSize/4; i++ { // fill the cache past its bound
					p.entityCached(strconv.Itoa(g) + "号" + strconv.Itoa(i))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestCompareCandidatesNeverVouch: passed together with other candidates
// (a look-alike that the query context may favour, and unrelated ones),
// a candidate whose road or road number conflicts with the query, or that
// names only numbers, or is finer on one side, is never match; the veto is
// checked independently on each pair with compareVeto; a single candidate
// is answered as Compare answers it.
func TestCompareCandidatesNeverVouch(t *testing.T) {
	p := testParser(t)
	tests := []struct {
		a  string
		bs []string
	}{
		{"重庆市渝北区石船二路1号附3号", []string{"重庆市渝北区石船一路1号附3号", "解放碑步行街1号", "重庆市江北区港城东路9号"}},
		{"重庆市渝北区芷兰路16号3-1", []string{"重庆市渝北区芷兰路56号3-1", "重庆市渝北区龙睛路56号3-1", "金开大道68号"}},
		{"附3号", []string{"重庆市渝北区石船一路1号附3号", "重庆市渝北区石船一路2号"}},
		{"金开大道68号", []string{"金开大道68号3栋", "金开大道1200号", "人和大道132号"}},
		{"金开大道68号阳光大厦5楼", []string{"金开大道68号星光公寓5楼", "金开大道70号阳光大厦", "龙湖花园"}},
	}
	for _, tc := range tests {
		rs := p.CompareCandidates(tc.a, tc.bs)
		if len(rs) != len(tc.bs) {
			t.Fatalf("%d results for %d candidates", len(rs), len(tc.bs))
		}
		for i, r := range rs {
			ea, eb := p.entityCached(tc.a), p.entityCached(tc.bs[i])
			lvl, _ := compareFields(&ea.f, &eb.f)
			_, _, why := p.compareEntities(&ea, &eb, lvl)
			if r.Label == Match && compareVeto(&ea, &eb, why) {
				t.Errorf("CompareCandidates(%q, …) matched %q, which the vetoes forbid", tc.a, tc.bs[i])
			}
			if r.Label == Match && (tc.a == "附3号" || strings.HasSuffix(tc.bs[i], "3栋") || strings.Contains(tc.bs[i], "星光")) {
				t.Errorf("CompareCandidates(%q, …) matched %q", tc.a, tc.bs[i])
			}
		}
		one := p.CompareCandidates(tc.a, tc.bs[:1])[0]
		if c := p.Compare(tc.a, tc.bs[0]); one.Label != c.Label || one.Score != c.Score {
			t.Errorf("one candidate: %+v, Compare %+v", one, c)
		}
	}
	if rs := p.CompareCandidates("金开大道68号", nil); len(rs) != 0 {
		t.Errorf("no candidates: %d results", len(rs))
	}
}
