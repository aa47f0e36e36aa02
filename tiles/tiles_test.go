package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

// fixture is a demo index shared by the tests of one size (built once per
// test binary; tests only read it unless they build their own).
type fixture struct {
	once sync.Once
	idx  *geo.Index
	err  error
}

var fixtures = map[int]*fixture{1000: {}, 79000: {}, 1000000: {}}

func demoIndex(tb testing.TB, n int) *geo.Index {
	tb.Helper()
	f := fixtures[n]
	f.once.Do(func() {
		ds, err := demo.Generate(demo.Options{Entities: n})
		if err != nil {
			f.err = err
			return
		}
		f.idx, f.err = geo.New(geo.Options{})
		if f.err == nil {
			f.err = ds.Load(f.idx)
		}
	})
	if f.err != nil {
		tb.Fatal(f.err)
	}
	return f.idx
}

// freshIndex builds an index the test may write to.
func freshIndex(tb testing.TB, n int) *geo.Index {
	tb.Helper()
	ds, err := demo.Generate(demo.Options{Entities: n})
	if err != nil {
		tb.Fatal(err)
	}
	idx, err := geo.New(geo.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := ds.Load(idx); err != nil {
		tb.Fatal(err)
	}
	return idx
}

func newRenderer(tb testing.TB, idx *geo.Index, o Options) *Renderer {
	tb.Helper()
	r, err := New(idx, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(r.Close)
	return r
}

func decode(tb testing.TB, data []byte) map[string]*geojson.FeatureCollection {
	tb.Helper()
	if len(data) == 0 {
		return map[string]*geojson.FeatureCollection{}
	}
	ls, err := mvt.Unmarshal(data)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]*geojson.FeatureCollection{}
	for _, l := range ls {
		if l.Version != 2 || l.Extent != 4096 {
			tb.Fatalf("layer %s: version %d extent %d", l.Name, l.Version, l.Extent)
		}
		out[l.Name] = geojson.NewFeatureCollection()
		out[l.Name].Features = l.Features
	}
	return out
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	case uint64:
		return float64(n)
	case int:
		return float64(n)
	}
	return math.NaN()
}

// tileXY projects like the MVT spec: floor of the world pixel at extent.
func tileXY(p orb.Point, z, x, y int) (float64, float64) {
	f := maptile.Fraction(p, maptile.Zoom(z+12))
	return f[0] - float64(x*4096), f[1] - float64(y*4096)
}

// denseTiles returns the n tiles of zoom z holding the most entities.
func denseTiles(idx *geo.Index, z, n int) []maptile.Tile {
	ts, _ := tileCounts(idx, z)
	return ts[:min(n, len(ts))]
}

// TestGoldenEntityTiles compares decoded point tiles with a direct geo
// query of the tile bounds: every entity inside appears exactly once, with
// its properties, within one tile unit of its projected position.
func TestGoldenEntityTiles(t *testing.T) {
	idx := demoIndex(t, 79000)
	r := newRenderer(t, idx, Options{CacheBytes: -1})
	ctx := context.Background()
	for _, z := range []int{14, 15, 16} {
		for _, tl := range denseTiles(idx, z, 3) {
			name := fmt.Sprintf("%d/%d/%d", z, tl.X, tl.Y)
			t.Run(name, func(t *testing.T) {
				x, y := int(tl.X), int(tl.Y)
				got, err := r.Tile(ctx, LayerEntities, z, x, y, Query{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Clustered {
					t.Skipf("tile clustered (%d points)", got.Points)
				}
				res, err := idx.InBBox(ctx, geo.LayerEntities, tl.Bound(), geo.Query{Limit: 10000})
				if err != nil || res.Truncated {
					t.Fatal(err, res.Truncated)
				}
				fc := decode(t, got.Data)[LayerEntities]
				byID := map[string][]*geojson.Feature{}
				for _, f := range fc.Features {
					id, _ := f.Properties["id"].(string)
					byID[id] = append(byID[id], f)
				}
				for _, h := range res.Hits {
					e := h.Entity
					fs := byID[e.ID]
					if len(fs) != 1 {
						t.Fatalf("entity %s appears %d times", e.ID, len(fs))
					}
					f := fs[0]
					if f.Properties["name"] != e.Name || f.Properties["risk"] != string(e.Risk) || f.Properties["industry"] != e.Industry || f.Properties["status"] != string(e.Status) {
						t.Fatalf("entity %s: properties %v", e.ID, f.Properties)
					}
					// mvt.Unmarshal returns tile coordinates here (no projection).
					wx, wy := tileXY(e.Location, z, x, y)
					p := f.Geometry.(orb.Point)
					if math.Abs(p[0]-wx) > 1 || math.Abs(p[1]-wy) > 1 {
						t.Fatalf("entity %s at %v, want %.2f,%.2f", e.ID, p, wx, wy)
					}
				}
				if len(fc.Features) < len(res.Hits) {
					t.Fatalf("%d features for %d entities", len(fc.Features), len(res.Hits))
				}
			})
		}
	}
}

// TestClusterCounts checks that the clusters of a tile add up to the
// entities in its bounds, per risk class, with and without filters.
func TestClusterCounts(t *testing.T) {
	idx := demoIndex(t, 79000)
	r := newRenderer(t, idx, Options{CacheBytes: -1})
	ctx := context.Background()
	filters := []geo.Filter{{}, {Risk: []geo.Risk{geo.RiskC, geo.RiskD}}, {Industry: []string{"I"}}}
	for _, z := range []int{8, 10, 12, 13} {
		for _, tl := range denseTiles(idx, z, 2) {
			for fi, f := range filters {
				t.Run(fmt.Sprintf("%d/%d/%d/filter%d", z, tl.X, tl.Y, fi), func(t *testing.T) {
					got, err := r.Tile(ctx, LayerEntities, z, int(tl.X), int(tl.Y), Query{Filter: f})
					if err != nil {
						t.Fatal(err)
					}
					if !got.Clustered {
						t.Fatal("not clustered")
					}
					want := map[string]int{}
					total := 0
					idx.Snapshot().ScanEntities(func(e *geo.Entity) bool {
						if maptile.At(e.Location, maptile.Zoom(z)) != tl || !filterOK(f, e) {
							return true
						}
						total++
						want[string(e.Risk)]++
						return true
					})
					sum, by := 0, map[string]int{}
					for _, ft := range decode(t, got.Data)[LayerEntities].Features {
						if _, ok := ft.Properties["count"]; ok {
							sum += int(num(ft.Properties["count"]))
							for _, k := range []string{"A", "B", "C", "D"} {
								by[k] += int(num(ft.Properties["count_"+k]))
							}
							continue
						}
						sum++
						by[ft.Properties["risk"].(string)]++
					}
					if sum != total || got.Points != total {
						t.Fatalf("clusters count %d (Points %d), direct count %d", sum, got.Points, total)
					}
					for _, k := range []string{"A", "B", "C", "D"} {
						if by[k] != want[k] {
							t.Fatalf("risk %s: %d in clusters, %d direct", k, by[k], want[k])
						}
					}
				})
			}
		}
	}
}

// filterOK is geo.Filter's documented semantics for entities, written
// independently of the renderer's matcher.
func filterOK(f geo.Filter, e *geo.Entity) bool {
	if len(f.Risk) > 0 && !slices.Contains(f.Risk, e.Risk) {
		return false
	}
	if len(f.Status) > 0 && !slices.Contains(f.Status, e.Status) {
		return false
	}
	if len(f.Industry) == 0 {
		return true
	}
	for _, p := range f.Industry {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if strings.HasPrefix(e.Industry, p) || (p[0] >= '0' && p[0] <= '9' && len(e.Industry) > 1 && strings.HasPrefix(e.Industry[1:], p)) {
			return true
		}
	}
	return false
}

// TestDemoTileSizes renders every tile of the demo region up to z15 and
// checks the 500 KB cap.
func TestDemoTileSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	idx := demoIndex(t, 79000)
	r := newRenderer(t, idx, Options{CacheBytes: -1})
	b := idx.Snapshot().Bounds()
	maxZ := 14
	if os.Getenv("MARKETGEO_SLOW") == "1" {
		maxZ = 16
	}
	for z := 0; z <= maxZ; z++ {
		lo := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z))
		hi := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				for _, l := range []string{LayerEntities, LayerBuildings} {
					tl, err := r.Tile(context.Background(), l, z, int(x), int(y), Query{})
					if err != nil {
						t.Fatal(err)
					}
					if len(tl.Data) > 500<<10 {
						t.Errorf("%s %d/%d/%d is %d KB", l, z, x, y, len(tl.Data)>>10)
					}
				}
			}
		}
	}
}

func TestPolygonLayers(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	ctx := context.Background()
	bl := idx.Snapshot()
	var bld *geo.Building
	bl.ScanBuildings(func(b *geo.Building) bool { bld = b; return false })
	before := bld.Footprint.Clone()
	tl := maptile.At(bld.Center(), 15)
	got, err := r.Tile(ctx, LayerBuildings, 15, int(tl.X), int(tl.Y), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !orb.Equal(before, bld.Footprint) {
		t.Fatal("rendering modified the index's footprint")
	}
	found := false
	for _, f := range decode(t, got.Data)[LayerBuildings].Features {
		if f.Properties["id"] == bld.ID {
			found = true
			if num(f.Properties["height"]) != math.Round(bld.Height()*10)/10 {
				t.Fatalf("height %v, want %v", f.Properties["height"], bld.Height())
			}
		}
	}
	if !found {
		t.Fatalf("building %s not in its tile", bld.ID)
	}
	// Below BuildingMinZoom: empty.
	if got, _ := r.Tile(ctx, LayerBuildings, 10, int(tl.X>>5), int(tl.Y>>5), Query{}); !got.Empty() {
		t.Fatal("buildings below min zoom")
	}
	// Zones: each zone layer is present at z10 around the centre.
	c := bl.Bounds().Center()
	zt := maptile.At(c, 10)
	zg, err := r.Tile(ctx, LayerZones, 10, int(zt.X), int(zt.Y), Query{})
	if err != nil {
		t.Fatal(err)
	}
	layers := map[string]int{}
	for _, f := range decode(t, zg.Data)[LayerZones].Features {
		layers[f.Properties["layer"].(string)]++
		if f.Properties["id"] == nil || f.Properties["name"] == nil {
			t.Fatalf("zone without id/name: %v", f.Properties)
		}
	}
	if layers["district"] == 0 || layers["grid"] == 0 {
		t.Fatalf("zone layers %v", layers)
	}
}

func TestErrors(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	ctx := context.Background()
	cases := []struct {
		name    string
		layer   string
		z, x, y int
		q       Query
		want    error
	}{
		{"z too large", LayerEntities, 23, 0, 0, Query{}, ErrOutOfRange},
		{"negative z", LayerEntities, -1, 0, 0, Query{}, ErrOutOfRange},
		{"x too large", LayerEntities, 3, 8, 0, Query{}, ErrOutOfRange},
		{"y negative", LayerEntities, 3, 0, -1, Query{}, ErrOutOfRange},
		{"unknown layer", "rivers", 3, 0, 0, Query{}, ErrUnknownLayer},
		{"risk on zones", LayerZones, 3, 0, 0, Query{Filter: geo.Filter{Risk: []geo.Risk{"C"}}}, ErrInvalidFilter},
		{"bad risk", LayerEntities, 3, 0, 0, Query{Filter: geo.Filter{Risk: []geo.Risk{"E"}}}, ErrInvalidFilter},
		{"kind on entities", LayerEntities, 3, 0, 0, Query{Filter: geo.Filter{Kind: []string{"school"}}}, ErrInvalidFilter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := r.Tile(ctx, c.layer, c.z, c.x, c.y, c.q); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if err := (Options{Extent: 1000}).Validate(); !errors.Is(err, ErrInvalidOptions) {
		t.Fatal(err)
	}
}

func TestTileJSON(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	tj, err := r.TileJSON(LayerBuildings, "http://h/tiles/buildings/{z}/{x}/{y}.mvt")
	if err != nil {
		t.Fatal(err)
	}
	b := idx.Snapshot().Bounds()
	if tj.TileJSON != "3.0.0" || tj.Scheme != "xyz" || tj.MinZoom != 13 || tj.MaxZoom != 16 || len(tj.Tiles) != 1 ||
		tj.Bounds[0] > b.Min[0] || tj.Bounds[3] < b.Max[1]-1e-6 || tj.Center[2] < 5 {
		t.Fatalf("%+v", tj)
	}
	if len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != LayerBuildings || tj.VectorLayers[0].Fields["height"] != "Number" {
		t.Fatalf("%+v", tj.VectorLayers)
	}
	if _, err := r.TileJSON("nope", ""); !errors.Is(err, ErrUnknownLayer) {
		t.Fatal(err)
	}
}

// TestInvalidation updates one entity and checks that only the cached
// tiles containing its old or new position change.
func TestInvalidation(t *testing.T) {
	idx := freshIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	ctx := context.Background()
	var e geo.Entity
	idx.Snapshot().ScanEntities(func(x *geo.Entity) bool { e = *x; return false })
	oldPos := e.Location
	newPos := orb.Point{oldPos[0] + 0.05, oldPos[1] + 0.03}
	type key struct{ z, x, y int }
	var keys []key
	for _, z := range []int{8, 11, 13, 15} {
		for _, p := range []orb.Point{oldPos, newPos, {oldPos[0] - 0.1, oldPos[1] - 0.1}} {
			tl := maptile.At(p, maptile.Zoom(z))
			keys = append(keys, key{z, int(tl.X), int(tl.Y)})
		}
	}
	before := map[key]Tile{}
	for _, k := range keys {
		tl, err := r.Tile(ctx, LayerEntities, k.z, k.x, k.y, Query{})
		if err != nil {
			t.Fatal(err)
		}
		before[k] = tl
	}
	hits := r.CacheStats().Hits
	e.Location = newPos
	e.Risk = geo.RiskD
	if err := idx.UpsertEntity(e); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		tl, err := r.Tile(ctx, LayerEntities, k.z, k.x, k.y, Query{})
		if err != nil {
			t.Fatal(err)
		}
		affected := false
		for _, p := range []orb.Point{oldPos, newPos} {
			b := r.tileBound(k.z, k.x, k.y, r.opts.Buffer)
			affected = affected || b.Contains(p)
		}
		fresh, _ := r.Render(ctx, LayerEntities, k.z, k.x, k.y, Query{})
		if !bytes.Equal(tl.Data, fresh.Data) {
			t.Fatalf("tile %v is stale after the update", k)
		}
		if !affected && tl.ETag != before[k].ETag {
			t.Fatalf("tile %v changed though the entity is not in it", k)
		}
		if affected && tl.ETag == before[k].ETag && k.z >= 13 {
			t.Fatalf("tile %v did not change", k)
		}
	}
	if r.CacheStats().Hits == hits {
		t.Fatal("no unaffected tile was served from the cache")
	}
	if r.CacheStats().Invalidated == 0 {
		t.Fatal("nothing invalidated")
	}
}

func TestCacheCap(t *testing.T) {
	idx := demoIndex(t, 79000)
	r := newRenderer(t, idx, Options{CacheBytes: 1 << 20})
	for _, tl := range denseTiles(idx, 15, 40) {
		if _, err := r.Tile(context.Background(), LayerEntities, 15, int(tl.X), int(tl.Y), Query{}); err != nil {
			t.Fatal(err)
		}
	}
	st := r.CacheStats()
	if st.Bytes > 1<<20 || st.Entries == 0 {
		t.Fatalf("%+v", st)
	}
}

func TestGzipAndETag(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	tl, err := r.Tile(context.Background(), LayerEntities, 0, 0, 0, Query{})
	if err != nil || tl.Empty() {
		t.Fatal(err, tl.Empty())
	}
	zr, err := gzip.NewReader(bytes.NewReader(tl.Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	if !bytes.Equal(raw, tl.Data) || tl.ETag == "" || tl.ETag[0] != '"' {
		t.Fatal("gzip or etag")
	}
	empty, _ := r.Tile(context.Background(), LayerEntities, 5, 0, 0, Query{})
	if !empty.Empty() {
		t.Fatal("tile far from the data is not empty")
	}
}

func TestZXYToID(t *testing.T) {
	// Values from the PMTiles v3 specification's test suite.
	cases := []struct {
		z    uint8
		x, y uint32
		id   uint64
	}{
		{0, 0, 0, 0}, {1, 0, 0, 1}, {1, 0, 1, 2}, {1, 1, 1, 3}, {1, 1, 0, 4}, {2, 0, 0, 5},
		{12, 3423, 1763, 19078479},
	}
	for _, c := range cases {
		if got := zxyToID(c.z, c.x, c.y); got != c.id {
			t.Errorf("%d/%d/%d: %d, want %d", c.z, c.x, c.y, got, c.id)
		}
	}
}

func TestExportPMTiles(t *testing.T) {
	idx := demoIndex(t, 1000)
	r := newRenderer(t, idx, Options{})
	var buf bytes.Buffer
	st, err := r.ExportPMTiles(context.Background(), &buf, ExportOptions{MinZoom: 0, MaxZoom: 12})
	if err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if string(b[:7]) != "PMTiles" || b[7] != 3 || st.Tiles == 0 || int64(len(b)) != st.Bytes {
		t.Fatalf("%+v", st)
	}
	h := readPMHeader(b)
	if st.Tiles < 50 {
		t.Fatalf("only %d tiles exported", st.Tiles)
	}
	if h.minZoom != 0 || h.maxZoom != 12 || h.addressed != uint64(st.Tiles) || h.dataOffset+h.dataLength != uint64(len(b)) {
		t.Fatalf("%+v", h)
	}
}

func readPMHeader(b []byte) pmHeader {
	le := func(i int) uint64 {
		var v uint64
		for k := 7; k >= 0; k-- {
			v = v<<8 | uint64(b[i+k])
		}
		return v
	}
	return pmHeader{rootOffset: le(8), rootLength: le(16), metaOffset: le(24), metaLength: le(32), leafOffset: le(40), leafLength: le(48),
		dataOffset: le(56), dataLength: le(64), addressed: le(72), tileEntries: le(80), contents: le(88), minZoom: b[100], maxZoom: b[101]}
}

func TestParsePath(t *testing.T) {
	good := []string{"/tiles/entities/0/0/0.mvt", "entities/14/13042/6776.mvt", "zones/22/4194303/0.mvt"}
	for _, p := range good {
		if _, _, _, _, err := ParsePath(p, 22); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	bad := []string{"", "entities/0/0/0", "entities/1/2/0.mvt", "entities/-1/0/0.mvt", "entities/01/0/0.mvt", "entities/23/0/0.mvt",
		"entities/3/+1/0.mvt", "entities/3/1/0x.mvt", "/0/0/0.mvt", "entities/99999999999/0/0.mvt"}
	for _, p := range bad {
		if _, _, _, _, err := ParsePath(p, 22); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/tiles/entities/0/0/0.mvt", "entities/14/13042/6776.mvt", "a/1/1/1.mvt", "x/0/0/-0.mvt", "a/24/16777215/16777215.mvt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		layer, z, x, y, err := ParsePath(p, 22)
		if err != nil {
			if !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("%q: error %v does not wrap ErrOutOfRange", p, err)
			}
			return
		}
		if layer == "" || z < 0 || z > 22 || x < 0 || y < 0 || x >= 1<<z || y >= 1<<z {
			t.Fatalf("%q accepted as %s %d/%d/%d", p, layer, z, x, y)
		}
		if p2 := fmt.Sprintf("%s/%d/%d/%d.mvt", layer, z, x, y); !bytes.HasSuffix([]byte(p), []byte(p2)) {
			t.Fatalf("%q does not round-trip (%q)", p, p2)
		}
	})
}

// TestPolygonWindingMVT: whatever the winding of the stored rings, an
// exterior ring leaves the encoder with a positive area in tile
// coordinates and a hole with a negative one (MVT 2.1 §4.3.4.4), so a
// decoder reads one polygon with its hole, not two polygons.
func TestPolygonWindingMVT(t *testing.T) {
	ccw := orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	cw := orb.Ring{{0, 0}, {0, 10}, {10, 10}, {10, 0}, {0, 0}}
	holeCCW := orb.Ring{{2, 2}, {4, 2}, {4, 4}, {2, 4}, {2, 2}}
	for _, tc := range []struct {
		name string
		g    orb.Geometry
	}{
		{"ccw shell, ccw hole", orb.Polygon{ccw.Clone(), holeCCW.Clone()}},
		{"cw shell, ccw hole", orb.Polygon{cw.Clone(), holeCCW.Clone()}},
		{"multi", orb.MultiPolygon{{cw.Clone()}, {ccw.Clone(), holeCCW.Clone()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var polys []orb.Polygon
			switch g := windMVT(tc.g).(type) {
			case orb.Polygon:
				polys = []orb.Polygon{g}
			case orb.MultiPolygon:
				polys = g
			}
			for _, p := range polys {
				for i, r := range p {
					if a := ringArea2(r); (i == 0) != (a > 0) {
						t.Fatalf("ring %d has area %v", i, a)
					}
				}
			}
		})
	}
}
