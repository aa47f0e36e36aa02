package search

import (
	"context"
	"errors"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
)

// TestPlace: the placing policy of nearby?place= — the best place, else
// the best building or entity, compared by score across the two searches.
func TestPlace(t *testing.T) {
	g, idx := smallIndex(t, Options{})
	// a second 人和中学 campus far away, a company named after the building
	b := g.Batch()
	_ = b.UpsertPlace(geo.Place{ID: "S2", Name: "重庆市人和中学校", Kind: "school", Location: orb.Point{106.60, 29.75}})
	_ = b.UpsertEntity(geo.Entity{ID: testEntityID(t, 3), Name: "重庆金开国际酒店管理有限公司", Location: orb.Point{106.55, 29.70}})
	// a place that matches 金开国际 only by prefix: the building's exact name wins
	_ = b.UpsertPlace(geo.Place{ID: "S3", Name: "金开国际学校", Kind: "school", Location: orb.Point{106.56, 29.71}})
	b.Commit()
	near := func(lon, lat float64) *orb.Point { return &orb.Point{lon, lat} }
	tests := []struct {
		name      string
		text      string
		near      *orb.Point
		wantLayer geo.Layer
		wantID    string
		wantErr   error
	}{
		{name: "a place by its short name", text: "人和中学", near: near(106.51, 29.65), wantLayer: geo.LayerPlaces, wantID: "S1"},
		{name: "the nearer of two equal places", text: "人和中学", near: near(106.60, 29.75), wantLayer: geo.LayerPlaces, wantID: "S2"},
		{name: "a building that matches better than a place", text: "金开国际", wantLayer: geo.LayerBuildings, wantID: "B1"},
		{name: "an entity when no place matches", text: "恒发物业", wantLayer: geo.LayerEntities, wantID: testEntityID(t, 2)},
		{name: "a place that matches better than a building", text: "金开国际学校", wantLayer: geo.LayerPlaces, wantID: "S3"},
		{name: "nothing", text: "不存在的地方", wantErr: ErrNoPlace},
		{name: "empty text", text: "  ", wantErr: ErrEmptyQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := idx.Place(context.Background(), tc.text, tc.near)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Layer != tc.wantLayer || h.ID != tc.wantID {
				t.Fatalf("%s %s (%s, score %v), want %s %s", h.Layer, h.ID, h.Name, h.Score, tc.wantLayer, tc.wantID)
			}
		})
	}
}

// TestPlaceComparesScores: a place is not taken just because it is a
// place: when the best building or entity matches the text better, it
// wins; on equal scores the place wins.
func TestPlaceComparesScores(t *testing.T) {
	ctx := context.Background()
	_, idx := smallIndex(t, Options{})
	for _, text := range []string{"金开国际", "人和中学", "鑫杰装饰"} {
		t.Run(text, func(t *testing.T) {
			h, err := idx.Place(ctx, text, nil)
			if err != nil {
				t.Fatal(err)
			}
			places, _ := idx.Search(ctx, Query{Text: text, Layers: []geo.Layer{geo.LayerPlaces}, Limit: 1})
			others, _ := idx.Search(ctx, Query{Text: text, Layers: []geo.Layer{geo.LayerBuildings, geo.LayerEntities}, Limit: 1})
			want := Hit{}
			switch {
			case len(places) > 0 && (len(others) == 0 || places[0].Score >= others[0].Score):
				want = places[0]
			case len(others) > 0:
				want = others[0]
			}
			if h.Layer != want.Layer || h.ID != want.ID || h.Score != want.Score {
				t.Fatalf("Place %s %s %v, want %s %s %v", h.Layer, h.ID, h.Score, want.Layer, want.ID, want.Score)
			}
		})
	}
}
