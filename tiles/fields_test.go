package tiles

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// A renderer with Options.Fields draws the same features as one without,
// each with exactly its allowed properties: the oracle is the unrestricted
// tile decoded by orb with the other properties deleted. Its TileJSON
// announces the allowed fields only.
func TestFieldsRestrictTiles(t *testing.T) {
	idx := demoIndex(t, 1000)
	fields := map[string][]string{
		LayerEntities:  {"id", "name", "industry", "status", "cluster", "count"},
		LayerBuildings: {"id", "name", "floors"},
		LayerZones:     {"layer", "id", "name"},
		LayerPlaces:    {"id", "name", "kind"},
		// roads absent: geometry only
	}
	full := newRenderer(t, idx, Options{CacheBytes: -1})
	pub := newRenderer(t, idx, Options{CacheBytes: -1, Fields: fields})
	ctx := context.Background()
	b := idx.Snapshot().Bounds()
	checked := 0
	for z := 10; z <= 16; z++ {
		for _, layer := range []string{LayerEntities, LayerBuildings, LayerZones, LayerPlaces} {
			tl := maptile.At(b.Center(), maptile.Zoom(z))
			a, err := full.Tile(ctx, layer, z, int(tl.X), int(tl.Y), Query{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := pub.Tile(ctx, layer, z, int(tl.X), int(tl.Y), Query{})
			if err != nil {
				t.Fatal(err)
			}
			want := decode(t, a.Data)
			for _, fc := range want {
				for _, f := range fc.Features {
					for k := range f.Properties {
						if !slices.Contains(fields[layer], k) {
							delete(f.Properties, k)
						}
					}
				}
			}
			got := decode(t, p.Data)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s z%d: restricted tile differs from the filtered full tile", layer, z)
			}
			ls, _ := mvt.Unmarshal(p.Data)
			for _, l := range ls {
				for _, k := range l.Features {
					for key := range k.Properties {
						if !slices.Contains(fields[layer], key) {
							t.Fatalf("%s z%d: property %q kept", layer, z, key)
						}
					}
				}
			}
			if a.Features > 0 {
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d non-empty tiles checked", checked)
	}
	vl, err := pub.VectorLayerOf(LayerEntities)
	if err != nil {
		t.Fatal(err)
	}
	for k := range vl.Fields {
		if !slices.Contains(fields[LayerEntities], k) {
			t.Fatalf("TileJSON announces %q", k)
		}
	}
	if _, ok := vl.Fields["risk"]; ok {
		t.Fatal("risk announced")
	}
}

// filterMVT refuses corrupt input instead of panicking.
func FuzzFilterMVT(f *testing.F) {
	idx := demoIndex(f, 1000)
	r := newRenderer(f, idx, Options{CacheBytes: -1})
	tl := maptile.At(idx.Snapshot().Bounds().Center(), 14)
	tile, err := r.Tile(context.Background(), LayerEntities, 14, int(tl.X), int(tl.Y), Query{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tile.Data)
	f.Add([]byte{0x1a, 0x03, 0x22, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := filterMVT(data, func(_, k string) bool { return k != "risk" })
		if err != nil {
			return
		}
		if _, err := filterMVT(out, func(_, k string) bool { return true }); err != nil {
			t.Fatalf("filtered output does not parse: %v", err)
		}
	})
}
