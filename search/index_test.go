package search

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

func square(c orb.Point, d float64) orb.Polygon {
	return orb.Polygon{{{c[0] - d, c[1] - d}, {c[0] + d, c[1] - d}, {c[0] + d, c[1] + d}, {c[0] - d, c[1] + d}, {c[0] - d, c[1] - d}}}
}

// testEntityID returns a valid USCC for n.
func testEntityID(t testing.TB, n int) string {
	t.Helper()
	first := fmt.Sprintf("91500112MA%07d", n)
	c, err := geo.USCCCheckChar(first)
	if err != nil {
		t.Fatal(err)
	}
	return first + string(c)
}

func smallIndex(t *testing.T, opts Options) (*geo.Index, *Index) {
	t.Helper()
	g, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := g.Batch()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.UpsertEntity(geo.Entity{ID: testEntityID(t, 1), Name: "重庆两江新区鑫杰装饰工程有限公司", Address: "重庆市渝北区金开大道68号", Location: orb.Point{106.52, 29.66}}))
	must(b.UpsertEntity(geo.Entity{ID: testEntityID(t, 2), Name: "重庆市恒发物业服务有限公司", Location: orb.Point{106.53, 29.67}}))
	must(b.UpsertPlace(geo.Place{ID: "S1", Name: "重庆市人和中学校", Kind: "school", Location: orb.Point{106.51, 29.65}}))
	must(b.UpsertBuilding(geo.Building{ID: "B1", Name: "金开国际", Address: "重庆市渝北区金开大道1号", Footprint: square(orb.Point{106.50, 29.64}, 0.0005)}))
	must(b.UpsertZone(geo.Zone{ID: "D1", Layer: "district", Name: "渝北区", Geometry: orb.MultiPolygon{square(orb.Point{106.5, 29.6}, 0.2)}}))
	must(b.UpsertZone(geo.Zone{ID: "G1", Layer: "grid", Name: "网格一", Geometry: orb.MultiPolygon{square(orb.Point{106.5, 29.6}, 0.01)}}))
	b.Commit()
	opts, err = withDemoRegion(opts)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := New(context.Background(), g, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	return g, idx
}

func names(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Name
	}
	return out
}

// TestLiveUpdates: upserts and deletes of the geo index are visible to the
// next query, including across a background compaction.
func TestLiveUpdates(t *testing.T) {
	g, idx := smallIndex(t, Options{CompactAfter: 3})
	ctx := context.Background()
	if hits := mustSearch(t, idx, Query{Text: "ljgj"}); len(hits) != 0 {
		t.Fatalf("ljgj before insert: %v", names(hits))
	}
	if err := g.UpsertBuilding(geo.Building{ID: "B2", Name: "两江国际", Footprint: square(orb.Point{106.6, 29.7}, 0.0005)}); err != nil {
		t.Fatal(err)
	}
	// The lexicon paths (one character, pinyin prefixes and typos) see
	// live writes too.
	for _, q := range []string{"两江国际", "ljgj", "liangjiangguoji", "liangjiang", "两江国", "两", "liangjiangguoij", "两jgj"} {
		hits := mustSearch(t, idx, Query{Text: q})
		if len(hits) == 0 || hits[0].ID != "B2" {
			t.Errorf("%q after insert: %v", q, names(hits))
		}
	}
	// Rename an entity: the new name is found, the old one is not.
	e, _ := g.Snapshot().Entity(testEntityID(t, 2))
	renamed := *e
	renamed.Name = "重庆市晨曦物业服务有限公司"
	renamed.FormerNames = nil
	if err := g.UpsertEntity(renamed); err != nil {
		t.Fatal(err)
	}
	if hits := mustSearch(t, idx, Query{Text: "晨曦物业"}); len(hits) == 0 || hits[0].ID != e.ID {
		t.Errorf("renamed entity not found: %v", names(hits))
	}
	if hits := mustSearch(t, idx, Query{Text: "恒发物业"}); len(hits) != 0 {
		t.Errorf("old name still found: %v", names(hits))
	}
	if hits := mustSearch(t, idx, Query{Text: "晨"}); len(hits) == 0 || hits[0].ID != e.ID {
		t.Errorf("renamed entity not found by one character: %v", names(hits))
	}
	for _, q := range []string{"恒", "hfwy", "hengfa"} {
		if hits := mustSearch(t, idx, Query{Text: q}); len(hits) != 0 {
			t.Errorf("old name still found by %q: %v", q, names(hits))
		}
	}
	if err := g.Delete(geo.LayerBuildings, "B2"); err != nil {
		t.Fatal(err)
	}
	if hits := mustSearch(t, idx, Query{Text: "两江国际"}); len(hits) != 0 {
		t.Errorf("deleted building still found: %v", names(hits))
	}
	// More commits than CompactAfter trigger background rebuilds; every
	// write stays visible meanwhile.
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("测试大厦%d号", i)
		if err := g.UpsertBuilding(geo.Building{ID: fmt.Sprintf("T%d", i), Name: name, Footprint: square(orb.Point{106.6, 29.7}, 0.0005)}); err != nil {
			t.Fatal(err)
		}
		hits := mustSearch(t, idx, Query{Text: name})
		if len(hits) == 0 || hits[0].ID != fmt.Sprintf("T%d", i) {
			t.Fatalf("%s not found right after insert: %v", name, names(hits))
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for idx.Stats().Builds < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := idx.Stats(); st.Builds < 2 {
		t.Errorf("no compaction after 20 commits: %+v", st)
	}
	for i := 0; i < 20; i++ {
		hits := mustSearch(t, idx, Query{Text: fmt.Sprintf("测试大厦%d号", i)})
		if len(hits) == 0 || hits[0].ID != fmt.Sprintf("T%d", i) {
			t.Errorf("T%d lost after compaction: %v", i, names(hits))
		}
	}
	if hits := mustSearch(t, idx, Query{Text: "网格一"}); len(hits) != 0 {
		t.Errorf("grid zones are not searchable, got %v", names(hits))
	}
	_ = ctx
}

// TestConcurrentSearchAndWrites runs queries while the geo index is
// written (meaningful under -race).
func TestConcurrentSearchAndWrites(t *testing.T) {
	g, idx := smallIndex(t, Options{CompactAfter: 5})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// Bleve terms, one character, pinyin prefix and typo, character-count
	// typo pass: every path reads structures the writer replaces.
	queries := []string{"金开", "金", "jinkai", "jk", "jinkaigoji", "金开口号楼"}
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := idx.Search(context.Background(), Query{Text: queries[i%len(queries)]}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	for i := 0; i < 40; i++ {
		if err := g.UpsertBuilding(geo.Building{ID: fmt.Sprintf("C%d", i), Name: fmt.Sprintf("金开%d号楼", i), Footprint: square(orb.Point{106.6, 29.7}, 0.0005)}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

// TestBackgroundBuild: with Background, Search answers ErrNotReady until
// the build is done, then finds what was written meanwhile.
func TestBackgroundBuild(t *testing.T) {
	g, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := g.Batch()
	for i := 0; i < 3000; i++ {
		_ = b.UpsertEntity(geo.Entity{ID: testEntityID(t, 100+i), Name: fmt.Sprintf("重庆测试%d商贸有限公司", i), Location: orb.Point{106.5, 29.6}})
	}
	b.Commit()
	idx, err := New(context.Background(), g, Options{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if _, err := idx.Search(context.Background(), Query{Text: "测试"}); err != nil && !errors.Is(err, ErrNotReady) {
		t.Fatalf("while building: %v", err)
	}
	if err := g.UpsertPlace(geo.Place{ID: "P9", Name: "礼嘉实验小学", Location: orb.Point{106.5, 29.6}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := idx.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if !idx.Ready() || idx.Stats().Docs != 3001 {
		t.Errorf("after Wait: %+v", idx.Stats())
	}
	if hits := mustSearch(t, idx, Query{Text: "礼嘉实验小学"}); len(hits) == 0 || hits[0].ID != "P9" {
		t.Errorf("place written during the build not found: %v", names(hits))
	}
}

func TestSearchValidation(t *testing.T) {
	_, idx := smallIndex(t, Options{})
	c := orb.Point{106.5, 29.6}
	bad := orb.Point{200, 0}
	for _, tc := range []struct {
		name string
		q    Query
		want error
	}{
		{"empty", Query{Text: "  "}, ErrEmptyQuery},
		{"punctuation only", Query{Text: "（）、。"}, ErrEmptyQuery},
		{"negative limit", Query{Text: "金开", Limit: -1}, ErrInvalidQuery},
		{"limit too large", Query{Text: "金开", Limit: 1000}, ErrInvalidQuery},
		{"radius without centre", Query{Text: "金开", RadiusM: 100}, ErrInvalidQuery},
		{"radius too large", Query{Text: "金开", Center: &c, RadiusM: 1e7}, ErrInvalidQuery},
		{"bad centre", Query{Text: "金开", Center: &bad}, ErrInvalidQuery},
		{"bad layer", Query{Text: "金开", Layers: []geo.Layer{"roads"}}, ErrInvalidQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idx.Search(context.Background(), tc.q)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	_ = idx.Close()
	if _, err := idx.Search(context.Background(), Query{Text: "金开"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"defaults", DefaultOptions(), true},
		{"bad mode", Options{CJK: "jieba"}, false},
		{"negative", Options{Candidates: -1}, false},
		{"score > 1", Options{MinScore: 2}, false},
		{"default > max", Options{DefaultLimit: 50, MaxLimit: 10}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.o.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := New(context.Background(), nil, Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("New(nil): %v", err)
	}
}

func TestLayersAndKinds(t *testing.T) {
	_, idx := smallIndex(t, Options{})
	for _, tc := range []struct {
		q      string
		layers []geo.Layer
		want   []string
	}{
		{"金开", []geo.Layer{geo.LayerBuildings}, []string{"金开国际"}},
		{"金开", []geo.Layer{geo.LayerEntities}, []string{"重庆两江新区鑫杰装饰工程有限公司"}}, // address hit
		{"school", nil, []string{"重庆市人和中学校"}},
		{"学校", []geo.Layer{geo.LayerPlaces}, []string{"重庆市人和中学校"}},
		{"渝北", []geo.Layer{geo.LayerZones}, []string{"渝北区"}},
		{"鑫杰", nil, []string{"重庆两江新区鑫杰装饰工程有限公司"}},
	} {
		hits := mustSearch(t, idx, Query{Text: tc.q, Layers: tc.layers})
		got := names(hits)
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("%q %v: got %v, want %v", tc.q, tc.layers, got, tc.want)
		}
	}
}
