package search

import (
	"os"
	"testing"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/internal/cntext"
	"github.com/paulmach/orb"
)

// sampleStep returns the step of the deterministic entity sample: every
// entity with MARKETGEO_SLOW=1, otherwise about n/target of them.
func sampleStep(n, target int) int {
	if os.Getenv("MARKETGEO_SLOW") == "1" || n <= target {
		return 1
	}
	return n / target
}

func inTop(hits []Hit, layer geo.Layer, id string, k int) bool {
	for i, h := range hits {
		if i >= k {
			break
		}
		if h.Layer == layer && h.ID == id {
			return true
		}
	}
	return false
}

// TestShortNameTop3: the short name derived by ParseCompanyName finds the
// entity in the top 3 (issue 3: ≥ 95%).
func TestShortNameTop3(t *testing.T) {
	f := getFixture(t)
	ents := f.ds.Entities
	step := sampleStep(len(ents), 4000)
	found, total, sameAsData := 0, 0, 0
	var misses []string
	for i := 0; i < len(ents); i += step {
		e := &ents[i]
		short := f.idx.names.Parse(e.Name).Short
		if short == Fold(e.ShortName) {
			sameAsData++
		}
		hits := mustSearch(t, f.idx, Query{Text: short, Limit: 3})
		total++
		if inTop(hits, geo.LayerEntities, e.ID, 3) {
			found++
		} else if len(misses) < 5 {
			misses = append(misses, e.Name+" ← "+short)
		}
	}
	rate := float64(found) / float64(total)
	t.Logf("short name → top 3: %d/%d = %.2f%% (every %d-th of %d entities); derived short name equals the data's short name for %.1f%%; misses e.g. %v",
		found, total, 100*rate, step, len(ents), 100*float64(sameAsData)/float64(total), misses)
	if rate < 0.95 {
		t.Errorf("short-name top-3 rate %.3f < 0.95", rate)
	}
}

// initialsQuery is the first character of the short name followed by the
// pinyin initials of the rest: 鑫杰装饰工程 → 鑫jzsgc.
func initialsQuery(short string) (string, bool) {
	r, size := utf8.DecodeRuneInString(short)
	if !cntext.IsHan(r) {
		return "", false
	}
	_, ini := pinyinOf(short[size:], false)
	if len(ini) < 2 {
		return "", false
	}
	return string(r) + ini, true
}

// TestPinyinInitialsTop10: one Chinese character plus the pinyin initials
// of the rest of the short name finds the entity in the top 10 (≥ 80%).
func TestPinyinInitialsTop10(t *testing.T) {
	f := getFixture(t)
	ents := f.ds.Entities
	step := sampleStep(len(ents), 4000)
	found, total := 0, 0
	var misses []string
	for i := 0; i < len(ents); i += step {
		e := &ents[i]
		q, ok := initialsQuery(f.idx.names.Parse(e.Name).Short)
		if !ok {
			continue
		}
		hits := mustSearch(t, f.idx, Query{Text: q, Limit: 10})
		total++
		if inTop(hits, geo.LayerEntities, e.ID, 10) {
			found++
		} else if len(misses) < 5 {
			misses = append(misses, e.Name+" ← "+q)
		}
	}
	rate := float64(found) / float64(total)
	t.Logf("1 character + initials → top 10: %d/%d = %.2f%% (every %d-th entity); misses e.g. %v", found, total, 100*rate, step, misses)
	if rate < 0.80 {
		t.Errorf("initials top-10 rate %.3f < 0.80", rate)
	}
}

// typoRunes replace a character of a place name; the first one that differs
// from the original is used.
var typoRunes = []rune("口田木水火")

// TestPlaceTypoTop3: a place name with one wrong character, at every
// position in turn, still finds the place in the top 3 (≥ 90%).
func TestPlaceTypoTop3(t *testing.T) {
	f := getFixture(t)
	found, total := 0, 0
	var misses []string
	for _, p := range f.ds.Places {
		rs := []rune(p.Name)
		if len(rs) < 3 {
			continue
		}
		for pos := range rs {
			typo := append([]rune(nil), rs...)
			for _, r := range typoRunes {
				if r != rs[pos] {
					typo[pos] = r
					break
				}
			}
			hits := mustSearch(t, f.idx, Query{Text: string(typo), Limit: 3})
			total++
			if inTop(hits, geo.LayerPlaces, p.ID, 3) {
				found++
			} else if len(misses) < 8 {
				misses = append(misses, string(typo))
			}
		}
	}
	rate := float64(found) / float64(total)
	t.Logf("place name with one wrong character → top 3: %d/%d = %.2f%% (every place, every position); misses e.g. %v", found, total, 100*rate, misses)
	if rate < 0.90 {
		t.Errorf("typo top-3 rate %.3f < 0.90", rate)
	}
}

// TestNonexistentNamesEmpty: names that exist nowhere return no hit at
// all, not noise with tiny scores.
func TestNonexistentNamesEmpty(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct{ name, q string }{
		{"unrelated institute", "火星量子引力研究所"},
		{"far-away farm", "乌鲁木齐雪豹养殖场"},
		{"made-up company with a common trade word", "张三李四网吧"},
		{"made-up company with legal form", "重庆喵呜汪星人宇航有限公司"},
		{"latin gibberish", "xyzzyqwv"},
		{"long pinyin gibberish", "qiongqiongqiongqiong"},
		{"rare characters", "鼋鼍"},
		{"english words", "spaceship factory"},
		{"digits", "987654321"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := mustSearch(t, f.idx, Query{Text: tc.q, Limit: 10})
			if len(hits) != 0 {
				t.Errorf("%q: want no hit, got %d, first %s (%s, %.3f)", tc.q, len(hits), hits[0].Name, hits[0].Match, hits[0].Score)
			}
		})
	}
}

// TestDemoQueries pins the answers to the queries a new user tries.
func TestDemoQueries(t *testing.T) {
	f := getFixture(t)
	// The full demo has a building 金开国际; the smaller race-detector demo
	// may not: add it live (the index follows the geo store).
	has := false
	for _, b := range f.ds.Buildings {
		if b.Name == "金开国际" {
			has = true
			break
		}
	}
	if !has {
		c := f.ds.Buildings[0].Center()
		fp := orb.Polygon{{{c[0], c[1]}, {c[0] + 0.0004, c[1]}, {c[0] + 0.0004, c[1] + 0.0003}, {c[0], c[1] + 0.0003}, {c[0], c[1]}}}
		if err := f.geo.UpsertBuilding(geo.Building{ID: "B-TEST-JKGJ", Name: "金开国际", Address: "重庆市渝北区金开大道1号", Footprint: fp}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, q   string
		layers    []geo.Layer
		wantName  string
		wantMatch string
	}{
		{"school by short name", "人和中学", nil, "重庆市人和中学校", MatchPrefix},
		{"school full name", "重庆市人和中学校", nil, "重庆市人和中学校", MatchExact},
		{"building", "金开国际", nil, "金开国际", MatchExact},
		{"building initials", "jkgj", nil, "金开国际", MatchPinyin},
		{"building full pinyin", "jinkaiguoji", nil, "金开国际", MatchPinyin},
		{"building pinyin typo", "jinkaiguoij", nil, "金开国际", MatchPinyin},
		{"building full-width", "ＪＫＧＪ", nil, "金开国际", MatchPinyin},
		{"district", "渝北区", []geo.Layer{geo.LayerZones}, "渝北区", MatchExact},
		{"place alias pinyin", "renhe", []geo.Layer{geo.LayerPlaces}, "人和街道", MatchExact},
		{"typo in school name", "重庆市人和中字校", nil, "重庆市人和中学校", MatchFuzzy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := mustSearch(t, f.idx, Query{Text: tc.q, Layers: tc.layers, Limit: 5})
			if len(hits) == 0 {
				t.Fatalf("%q: no hit", tc.q)
			}
			if hits[0].Name != tc.wantName || hits[0].Match != tc.wantMatch {
				t.Errorf("%q: first hit %s (%s %.3f), want %s (%s)", tc.q, hits[0].Name, hits[0].Match, hits[0].Score, tc.wantName, tc.wantMatch)
			}
			for i := 1; i < len(hits); i++ {
				if hits[i].Score > hits[i-1].Score {
					t.Errorf("%q: hits not sorted by score at %d", tc.q, i)
				}
			}
		})
	}
}

// TestCentreAndRadius: with a centre and radius every hit is inside the
// radius, and nearer hits of equal quality come first.
func TestCentreAndRadius(t *testing.T) {
	f := getFixture(t)
	school := mustSearch(t, f.idx, Query{Text: "重庆市人和中学校", Layers: []geo.Layer{geo.LayerPlaces}, Limit: 1})
	if len(school) != 1 {
		t.Fatal("school not found")
	}
	c := school[0].Feature.Location()
	for _, tc := range []struct {
		q      string
		radius float64
	}{{"网吧", 3000}, {"百货", 1000}, {"人和", 2000}, {"重庆", 500}, {"科技", 50000}} {
		hits := mustSearch(t, f.idx, Query{Text: tc.q, Center: &c, RadiusM: tc.radius, Limit: 50})
		for _, h := range hits {
			if d := geo.DistanceM(c, h.Feature.Location()); d > tc.radius+0.01 || h.DistanceM > tc.radius+0.01 {
				t.Errorf("%q r=%v: %s at %.0f m", tc.q, tc.radius, h.Name, d)
			}
		}
		t.Logf("%q within %v m of the school: %d hits", tc.q, tc.radius, len(hits))
	}
	// Distance-aware ranking without a radius: the nearer of two equal names wins.
	hits := mustSearch(t, f.idx, Query{Text: "金开中心", Center: &c, Limit: 20})
	for i := 1; i < len(hits); i++ {
		if hits[i].Match == hits[i-1].Match && hits[i].Name == hits[i-1].Name && hits[i].DistanceM < hits[i-1].DistanceM {
			t.Errorf("equal names not ordered by distance: %v < %v", hits[i].DistanceM, hits[i-1].DistanceM)
		}
	}
}
