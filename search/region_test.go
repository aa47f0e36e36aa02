package search

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestNoRegionBuiltIn: the library knows no region; the region's names
// come only from Options.Region (a hard-coded prefix list coming back
// would strip 重庆市 here).
func TestNoRegionBuiltIn(t *testing.T) {
	for _, np := range []*NameParser{nil, NewNameParser(nil)} {
		for _, name := range []string{"重庆市恒发物业服务有限公司", "重庆两江卓豪置业股份有限公司", "渝北区中睿通小吃店"} {
			got := np.Parse(name)
			want := Fold(name)
			if got.Short != want && got.Short+"有限公司" != want && got.Short+"股份有限公司" != want {
				t.Errorf("no region: Parse(%q).Short = %q strips a region", name, got.Short)
			}
		}
	}
	if got := ParseCompanyName("重庆市恒发物业服务有限公司").Short; got != "重庆市恒发物业服务" {
		t.Errorf("ParseCompanyName without a region: %q", got)
	}
}

// TestNewStopsOnCancel: a cancelled context stops the build of New, in
// the foreground and in the background.
func TestNewStopsOnCancel(t *testing.T) {
	g, err := geo.New(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := g.Batch()
	for i := range 600 {
		if err := b.UpsertPlace(geo.Place{ID: "P" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Name: "人和中学" + string(rune('甲'+i)), Location: orb.Point{106.5, 29.6}}); err != nil {
			t.Fatal(err)
		}
	}
	b.Commit()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ix, err := New(ctx, g, Options{}); !errors.Is(err, context.Canceled) {
		if ix != nil {
			_ = ix.Close()
		}
		t.Fatalf("foreground New with a cancelled context: %v, want context.Canceled", err)
	}
	ix, err := New(ctx, g, Options{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := ix.Wait(wctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("background build with a cancelled context: Wait = %v, want context.Canceled", err)
	}
	if _, err := ix.Search(context.Background(), Query{Text: "人和"}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Search after a stopped build: %v, want ErrNotReady", err)
	}
	// an uncancelled context builds
	ok, err := New(context.Background(), g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ok.Close()
	if hits := mustSearch(t, ok, Query{Text: "人和中学"}); len(hits) == 0 {
		t.Fatal("no hits after a full build")
	}
}
