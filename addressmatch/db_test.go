package addressmatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/paulmach/orb"
)

// genRoad is one generated road: its district/town and its last number.
type genRoad struct {
	district, town, name string
	maxNo                int
	lon, lat             float64
}

type genAddr struct {
	full                       string
	district, town, road       string
	no, bld, unit, floor, room int
	poi                        string
	loc                        orb.Point
}

var (
	roadChars = []rune("金开港城龙湖华新松石桥鹤兴民安宁江渝碧翠园锦绣天星海棠红旗光明长青白云")
	fakeChars = []rune("沁璞蔚珩琮琪瑄璟珑瑜玥")
	roadSufs  = []string{"路", "大道", "街", "东路", "西路", "南路", "北路"}
	poiSufs   = []string{"花园", "小区", "大厦", "广场", "公寓", "苑"}
)

// chongqingTowns returns (district, town) pairs from the embedded dictionary.
func chongqingTowns(p *Parser) [][2]string {
	var out [][2]string
	d := p.dict
	for _, u := range d.units {
		if u.level == AdminTown && strings.HasPrefix(u.code, "5001") && strings.HasSuffix(u.name, "街道") {
			out = append(out, [2]string{d.units[u.parent].name, u.name})
		}
	}
	return out
}

func genName(rng *rand.Rand, pool []rune, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(pool[rng.IntN(len(pool))])
	}
	return b.String()
}

// genDataset deterministically builds n addresses on generated roads.
func genDataset(p *Parser, seed uint64, n int) ([]genAddr, []genRoad) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	towns := chongqingTowns(p)
	used := map[string]bool{}
	var roads []genRoad
	for len(roads) < n/8+1 {
		name := genName(rng, roadChars, 2+rng.IntN(2)) + roadSufs[rng.IntN(len(roadSufs))]
		if used[name] {
			continue
		}
		used[name] = true
		tw := towns[rng.IntN(len(towns))]
		roads = append(roads, genRoad{district: tw[0], town: tw[1], name: name, maxNo: 20 + rng.IntN(200),
			lon: 106.3 + rng.Float64()*0.4, lat: 29.4 + rng.Float64()*0.3})
	}
	seen := map[string]bool{}
	var out []genAddr
	for len(out) < n {
		r := roads[rng.IntN(len(roads))]
		a := genAddr{district: r.district, town: r.town, road: r.name, no: 1 + rng.IntN(r.maxNo)}
		var b strings.Builder
		b.WriteString("重庆市" + r.district)
		if rng.IntN(2) == 0 {
			b.WriteString(r.town)
		} else {
			a.town = ""
		}
		fmt.Fprintf(&b, "%s%d号", r.name, a.no)
		switch rng.IntN(4) {
		case 0: // road number only
		case 1:
			a.bld, a.unit, a.floor, a.room = 1+rng.IntN(20), 1+rng.IntN(4), 1+rng.IntN(30), 1+rng.IntN(6)
			fmt.Fprintf(&b, "%d栋%d单元%d-%d", a.bld, a.unit, a.floor, a.room)
		case 2:
			a.poi = genName(rng, roadChars, 2) + genName(rng, roadChars, 2) + poiSufs[rng.IntN(len(poiSufs))]
			a.bld = 1 + rng.IntN(20)
			fmt.Fprintf(&b, "%s%d栋", a.poi, a.bld)
		case 3:
			a.poi = genName(rng, roadChars, 2) + genName(rng, roadChars, 2) + poiSufs[rng.IntN(len(poiSufs))]
			b.WriteString(a.poi)
		}
		a.full = b.String()
		if seen[Normalize(a.full)] {
			continue
		}
		seen[Normalize(a.full)] = true
		a.loc = orb.Point{r.lon + rng.Float64()*0.001, r.lat + rng.Float64()*0.001}
		out = append(out, a)
	}
	return out, roads
}

var cnDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

func toChinese(n int) string {
	if n < 10 {
		return cnDigits[n]
	}
	if n < 100 {
		s := ""
		if n/10 > 1 {
			s = cnDigits[n/10]
		}
		s += "十"
		if n%10 > 0 {
			s += cnDigits[n%10]
		}
		return s
	}
	s := cnDigits[n/100] + "百"
	switch r := n % 100; {
	case r == 0:
	case r < 10:
		s += "零" + cnDigits[r]
	default:
		if r/10 == 1 {
			s += "一"
		}
		s += toChinese(r)
	}
	return s
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '!' && r <= '~' {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// typo replaces one non-suffix character of name with a different one that
// does not produce another known name.
func typo(rng *rand.Rand, name string, known map[string]bool) string {
	rs := []rune(name)
	for tries := 0; tries < 20; tries++ {
		i := rng.IntN(2) // only the first two characters: the suffix stays
		c := roadChars[rng.IntN(len(roadChars))]
		if c == rs[i] {
			continue
		}
		out := append([]rune(nil), rs...)
		out[i] = c
		if !known[string(out)] {
			return string(out)
		}
	}
	return name
}

// variant builds a clerk-style rewrite of a.
func variant(rng *rand.Rand, a genAddr, known map[string]bool) string {
	road, poi := a.road, a.poi
	var ops = rng.Perm(7)[:1+rng.IntN(3)]
	has := func(op int) bool {
		for _, o := range ops {
			if o == op {
				return true
			}
		}
		return false
	}
	if has(5) {
		if poi != "" && rng.IntN(2) == 0 {
			poi = typo(rng, poi, known)
		} else {
			road = typo(rng, road, known)
		}
	}
	var b strings.Builder
	sep := ""
	if has(4) {
		sep = []string{" ", "，", ",", "、", "  "}[rng.IntN(5)]
	}
	if !has(0) {
		b.WriteString("重庆市" + sep)
	}
	if !has(1) || a.town == "" && has(1) && has(0) {
		b.WriteString(a.district + sep)
	}
	if a.town != "" && !has(2) {
		b.WriteString(a.town + sep)
	}
	num := func(n int) string {
		if has(3) {
			return toChinese(n)
		}
		return strconv.Itoa(n)
	}
	b.WriteString(road + num(a.no) + []string{"号", "號", "#"}[rng.IntN(3)] + sep)
	unitWord := "栋"
	if has(6) {
		unitWord = []string{"幢", "座", "号楼", "栋"}[rng.IntN(4)]
	}
	if poi != "" {
		b.WriteString(poi + sep)
	}
	if a.bld > 0 {
		b.WriteString(num(a.bld) + unitWord)
	}
	if a.unit > 0 {
		fmt.Fprintf(&b, "%s单元%s%d-%d", num(a.unit), sep, a.floor, a.room)
	}
	s := b.String()
	if rng.IntN(3) == 0 {
		s = fullWidth(s)
	}
	return s
}

func buildGenDB(tb testing.TB, addrs []genAddr) *DB {
	tb.Helper()
	db, err := NewDB(DBOptions{Parser: testParser(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	recs := make([]Record, 0, len(addrs))
	for i, a := range addrs {
		recs = append(recs, Record{ID: "E" + strconv.Itoa(i), Address: a.full, Location: a.loc, Kind: KindEntity})
	}
	if err := db.Add(recs...); err != nil {
		tb.Fatal(err)
	}
	return db
}

func TestClerkVariants(t *testing.T) {
	p := testParser(t)
	addrs, roads := genDataset(p, 42, 3000)
	db := buildGenDB(t, addrs)
	known := map[string]bool{}
	for _, r := range roads {
		known[r.name] = true
	}
	for _, a := range addrs {
		if a.poi != "" {
			known[a.poi] = true
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	ctx := context.Background()
	ok, total := 0, 0
	var fails []string
	for i := 0; i < 2000; i++ {
		a := addrs[rng.IntN(len(addrs))]
		v := variant(rng, a, known)
		res, err := db.Check(ctx, v)
		total++
		if err == nil && res.Verdict == Matched && len(res.Candidates) > 0 && res.Candidates[0].Address == Normalize(a.full) {
			ok++
		} else if len(fails) < 15 {
			got := ""
			if len(res.Candidates) > 0 {
				got = fmt.Sprintf("%s %s %.2f", res.Candidates[0].Address, res.Candidates[0].Level, res.Candidates[0].Score)
			}
			fails = append(fails, fmt.Sprintf("%s ← %s: %s [%s] %s", a.full, v, res.Verdict, got, spanStr(res.Components)))
		}
	}
	rate := float64(ok) / float64(total)
	t.Logf("clerk variants matched to the right address: %d/%d = %.2f%%", ok, total, 100*rate)
	// non-existent addresses
	notOK, ntotal := 0, 0
	for i := 0; i < 1000; i++ {
		r := roads[rng.IntN(len(roads))]
		var q string
		if i%2 == 0 {
			q = fmt.Sprintf("重庆市%s%s%d号", r.district, r.name, r.maxNo+1+rng.IntN(500))
		} else {
			q = fmt.Sprintf("%s%s%s%d号", r.district, genName(rng, fakeChars, 2), roadSufs[rng.IntN(len(roadSufs))], 1+rng.IntN(100))
		}
		res, err := db.Check(ctx, q)
		ntotal++
		if err == nil && res.Verdict != Matched {
			notOK++
		} else if len(fails) < 25 {
			fails = append(fails, fmt.Sprintf("invented %s matched %+v", q, res.Candidates[0]))
		}
	}
	nrate := float64(notOK) / float64(ntotal)
	t.Logf("invented addresses not matched: %d/%d = %.2f%%", notOK, ntotal, 100*nrate)
	if rate < 0.97 || nrate < 0.95 || os.Getenv("MARKETGEO_EVAL_DUMP") != "" {
		for _, f := range fails {
			t.Log(f)
		}
	}
	if rate < 0.97 {
		t.Errorf("variant match rate %.4f < 0.97", rate)
	}
	if nrate < 0.95 {
		t.Errorf("invented-address rejection rate %.4f < 0.95", nrate)
	}
}

func TestDBCheckVerdicts(t *testing.T) {
	db, err := NewDB(DBOptions{Parser: testParser(t)})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Add(
		Record{ID: "e1", Address: "重庆市渝北区金开大道68号", Location: orb.Point{106.5, 29.6}},
		Record{ID: "e2", Address: "渝北区金开大道六十八号", Location: orb.Point{106.6, 29.6}},
		Record{ID: "s1", Address: "重庆市江北区寸滩街道港城东路9号3栋2单元5-1", Location: orb.Point{106.6, 29.58}, Kind: KindStandard},
		Record{ID: "e3", Address: "重庆市江北区港城东路20号", Location: orb.Point{106.62, 29.59}},
	))
	if db.Len() != 3 || db.RecordCount() != 4 {
		t.Fatalf("Len=%d RecordCount=%d, want 3 and 4", db.Len(), db.RecordCount())
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		in      string
		verdict Verdict
		count   int
		err     error
	}{
		{"matched aggregated", "金开大道68号", Matched, 2, nil},
		{"standard only", "港城东路9号3幢2单元5-1", Doubtful, 0, nil},
		{"past end", "渝北区金开大道9999号", Doubtful, -1, nil},
		{"empty", "  ", Invalid, -1, ErrEmpty},
		{"too long", strings.Repeat("路", 201), Invalid, -1, ErrTooLong},
		{"garbage", "asdfgh!!", Invalid, -1, nil},
		{"admin only", "重庆市渝北区", Invalid, -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := db.Check(ctx, tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s: %+v", res.Verdict, tc.verdict, res)
			}
			if tc.count >= 0 && (len(res.Candidates) == 0 || res.Candidates[0].EntityCount != tc.count) {
				t.Fatalf("candidates %+v, want count %d", res.Candidates, tc.count)
			}
			if res.Message == "" {
				t.Fatal("empty message")
			}
		})
	}
	// geocode
	g, err := db.Geocode(ctx, "金开大道68号")
	must(err)
	if g.Precision != geo.PrecisionAddress || g.Location[0] < 106.5 || g.Location[0] > 106.6 {
		t.Errorf("geocode = %+v", g)
	}
	g, err = db.Geocode(ctx, "江北区港城东路500号")
	must(err)
	if g.Precision != geo.PrecisionRoad {
		t.Errorf("road geocode = %+v", g)
	}
	// remove
	must(db.Remove("e1"))
	res, _ := db.Check(ctx, "金开大道68号")
	if res.Candidates[0].EntityCount != 1 {
		t.Errorf("after remove: %+v", res.Candidates)
	}
	must(db.Remove("e2"))
	res, _ = db.Check(ctx, "金开大道68号")
	if res.Verdict == Matched {
		t.Errorf("after removing all: %+v", res)
	}
	if err := db.Remove("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove missing: %v", err)
	}
	if err := db.Add(Record{ID: "s1", Address: "x路1号"}); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("duplicate: %v", err)
	}
}

func TestLoadStandardCSV(t *testing.T) {
	f, err := os.Open("testdata/standard.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	db, err := NewDB(DBOptions{Parser: testParser(t)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.LoadStandardCSV(f)
	var cerr *CSVError
	if !errors.As(err, &cerr) || !errors.Is(err, ErrBadCSV) {
		t.Fatalf("want *CSVError, got %v", err)
	}
	if n != 3 {
		t.Errorf("loaded %d rows, want 3", n)
	}
	want := map[int]string{5: "lon", 6: "address", 7: "entity_count", 8: "id"}
	if len(cerr.Rows) != len(want) {
		t.Fatalf("bad rows %+v", cerr.Rows)
	}
	for _, r := range cerr.Rows {
		if want[r.Row] != r.Field {
			t.Errorf("row %d field %s (%s), want field %s", r.Row, r.Field, r.Reason, want[r.Row])
		}
	}
	res, err := db.Check(context.Background(), "金开大道68号")
	if err != nil || res.Verdict != Matched {
		t.Errorf("check after csv: %v %+v", err, res)
	}
}

func TestDBConcurrent(t *testing.T) {
	p := testParser(t)
	addrs, _ := genDataset(p, 3, 400)
	db := buildGenDB(t, addrs[:200])
	var wg sync.WaitGroup
	ctx := context.Background()
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i, a := range addrs[200:] {
			_ = db.Add(Record{ID: "N" + strconv.Itoa(i), Address: a.full, Location: a.loc})
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i += 2 {
			_ = db.Remove("E" + strconv.Itoa(i))
		}
	}()
	go func() {
		defer wg.Done()
		for _, a := range addrs {
			if _, err := db.Check(ctx, a.full); err != nil {
				t.Error(err)
			}
			_, _ = db.Geocode(ctx, a.full)
		}
	}()
	wg.Wait()
	if got := db.RecordCount(); got != 300 {
		t.Errorf("RecordCount = %d, want 300", got)
	}
	_ = cntext.Fold
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"parser defaults", DefaultOptions().Validate(), true},
		{"parser zero", Options{}.Validate(), true},
		{"parser negative MaxRunes", Options{MaxRunes: -1}.Validate(), false},
		{"db defaults", DefaultDBOptions().Validate(), true},
		{"db zero", DBOptions{}.Validate(), true},
		{"db negative candidates", DBOptions{MaxCandidates: -1}.Validate(), false},
		{"db too many candidates", DBOptions{MaxCandidates: 1001}.Validate(), false},
		{"db score above 1", DBOptions{MatchScore: 1.5}.Validate(), false},
		{"db score NaN", DBOptions{MatchScore: math.NaN()}.Validate(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ok != (tt.err == nil) {
				t.Fatalf("err = %v, want ok=%v", tt.err, tt.ok)
			}
			if !tt.ok && !errors.Is(tt.err, ErrInvalidOptions) {
				t.Fatalf("err = %v, does not wrap ErrInvalidOptions", tt.err)
			}
		})
	}
	if _, err := NewDB(DBOptions{MaxCandidates: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("NewDB with bad options: %v", err)
	}
	if _, err := NewParser(Options{MaxRunes: -5}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("NewParser with bad options: %v", err)
	}
}

// TestCheckNeverVouch pins the rules of issue 14, item 1, in DB.Check on a
// small database: each query either names a registered address with
// entities (matched) or not, and the rule that must keep it from a match is
// named beside it.
func TestCheckNeverVouch(t *testing.T) {
	newDB := func(o Options) *DB {
		p, err := NewParser(demoOpts(t, o))
		if err != nil {
			t.Fatal(err)
		}
		db, err := NewDB(DBOptions{Parser: p})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range []string{
			"重庆市渝北区石船一路1号附3号", "重庆市渝北区龙睛路56号3-1", "重庆市渝北区金开大道68号",
			"重庆市渝北区人和大道132号", "重庆市江北区港城东路9号附10号", "重庆市渝北区港城东路9号附10号",
			"重庆市渝北区金州大道171号附20号", "重庆市渝北区金州大道8号", "重庆市渝北区金开大道8号",
		} {
			if err := db.Add(Record{ID: strconv.Itoa(i), Address: a, Location: orb.Point{106.5, 29.6}}); err != nil {
				t.Fatal(err)
			}
		}
		return db
	}
	db, plain := newDB(DefaultOptions()), newDB(Options{PlainDashRoom: true})
	ctx := context.Background()
	tests := []struct {
		name, in string
		want     Verdict
		plain    Verdict // with PlainDashRoom; "" = want
		mention  []string
	}{
		{"registered", "重庆市渝北区金开大道68号", Matched, "", nil},
		{"road conflict", "重庆市渝北区石船二路1号附3号", Doubtful, "", nil},
		{"invented road, registered tail", "重庆市渝北区不存在路1号附3号", Doubtful, "", nil},
		{"road-number conflict", "重庆市渝北区石船一路2号附3号", Doubtful, "", nil},
		{"floor-room on an unregistered number", "重庆市渝北区芷兰路16号3-1", Doubtful, "", nil},
		{"sub-number alone", "附3号", Invalid, "", nil},
		{"number and sub-number alone", "1号附3号", Invalid, "", nil},
		{"place name not registered at the number", "重庆市渝北区金开大道68号星光公寓", Doubtful, "", nil},
		{"finer building not registered", "重庆市渝北区金开大道68号3栋", Doubtful, "", nil},
		{"finer room not registered", "重庆市渝北区金开大道68号3-1", Doubtful, "", nil},
		{"N楼N号 is N-N", "重庆市渝北区龙睛路56号3楼1号", Matched, Doubtful, nil},
		{"N层N室 is N-N", "重庆市渝北区龙睛路56号3层01室", Matched, Doubtful, nil},
		{"look-alikes in two districts", "港城东路9号附10号", Doubtful, "", []string{"江北区", "渝北区"}},
		{"a typo one from two roads with the number", "重庆市渝北区金沁大道8号", Doubtful, "", []string{"金开大道", "金州大道"}},
		{"a typo one from two roads, one with the number", "重庆市渝北区金沁大道171号附20号", Matched, "", []string{"金州大道"}},
		{"a typo one from one road", "重庆市渝北区金州达道171号附20号", Matched, "", []string{"金州大道"}},
		{"junk", "你好世界", Invalid, "", nil},
		{"junk gate", "我家门口", Invalid, "", nil},
		{"repeated", "栋栋栋栋栋", Invalid, "", nil},
		{"markup after an address", "重庆市渝北区人和大道132号<script>alert(1)</script>", Invalid, "", nil},
		{"other city", "北京市朝阳区建国路88号", Outside, "", []string{"北京"}},
		{"near a registered address", "重庆市渝北区金开大道68号对面", Doubtful, "", []string{"对面"}},
		{"street of another district", "重庆市渝北区蔡家岗街道金开大道68号", Doubtful, "", []string{"蔡家岗街道"}},
		{"the road's own street", "重庆市渝北区人和街道金开大道68号", Matched, "", nil},
		{"floor-room in Chinese digits", "重庆市渝北区龙睛路五六号三-一", Matched, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, d := range []struct {
				db   *DB
				want Verdict
			}{{db, tc.want}, {plain, cmp.Or(tc.plain, tc.want)}} {
				res, err := d.db.Check(ctx, tc.in)
				if err != nil {
					t.Fatal(err)
				}
				if res.Verdict != d.want {
					t.Fatalf("Check(%q) = %s (%s; %s; %+v), want %s", tc.in, res.Verdict, res.Message, res.Reason, res.Candidates, d.want)
				}
				for _, m := range tc.mention {
					if !strings.Contains(res.Message+res.Reason, m) {
						t.Errorf("Check(%q): %q does not name %s", tc.in, res.Message+res.Reason, m)
					}
				}
				if tc.name == "look-alikes in two districts" && len(res.Candidates) < 2 {
					t.Errorf("look-alikes: candidates %+v, want both districts'", res.Candidates)
				}
			}
		})
	}
}
