package tiles

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden instead of comparing with them")

// goldenCore is the centre of the golden region: the middle of tile
// 16/52183/27118 (and inside 14/13045/6779 and 10/815/423).
var goldenCore = orb.Point{106.6525, 29.6188}

// goldenIndex builds the small deterministic region of the tile golden
// files: a district with a wavy edge cut into two streets, an FTZ area with
// a hole, 42 buildings, 12 places and 900 entities (seeded, with valid
// USCCs) around three centres. It does not use package demo, so that the
// golden files change only when the tiles change.
func goldenIndex(tb testing.TB) *geo.Index {
	tb.Helper()
	idx, err := geo.New(geo.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	b := idx.Batch()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	rect := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	// district: a box whose north edge is a sine wave of 161 vertices
	// (simplified away at z10), split at lon 106.652 into two streets
	const west, east, south, north, split = 106.56, 106.80, 29.56, 29.76, 106.652
	wave := func(x0, x1 float64) orb.Ring {
		r := orb.Ring{{x0, south}, {x1, south}}
		for k := 160; k >= 0; k-- {
			x := west + (east-west)*float64(k)/160
			if x < x0-1e-12 || x > x1+1e-12 {
				continue
			}
			r = append(r, orb.Point{x, north + 0.003*math.Sin(float64(k)*0.7)})
		}
		return append(r, r[0])
	}
	must(b.UpsertZone(geo.Zone{ID: "D1", Layer: "district", Name: "示例区", Geometry: orb.MultiPolygon{{wave(west, east)}}}))
	must(b.UpsertZone(geo.Zone{ID: "S1", Layer: "street", Name: "西街道", Geometry: orb.MultiPolygon{{wave(west, split)}}}))
	must(b.UpsertZone(geo.Zone{ID: "S2", Layer: "street", Name: "东街道", Geometry: orb.MultiPolygon{{wave(split, east)}}}))
	must(b.UpsertZone(geo.Zone{ID: "F1", Layer: "ftz", Name: "示例自贸片区", Geometry: orb.MultiPolygon{{
		rect(106.645, 29.612, 106.660, 29.626),
		{{106.650, 29.617}, {106.650, 29.621}, {106.655, 29.621}, {106.655, 29.617}, {106.650, 29.617}}, // hole, clockwise
	}}}))
	// buildings on a 7×6 grid around the core, one of them L-shaped
	for i := range 7 {
		for j := range 6 {
			x, y := 106.6490+float64(i)*0.0009, 29.6160+float64(j)*0.0008
			fp := orb.Polygon{rect(x, y, x+0.0004, y+0.00022)}
			if i == 3 && j == 3 {
				fp = orb.Polygon{{{x, y}, {x + 0.0006, y}, {x + 0.0006, y + 0.0002}, {x + 0.0002, y + 0.0002}, {x + 0.0002, y + 0.0005}, {x, y + 0.0005}, {x, y}}}
			}
			n := i*6 + j
			bld := geo.Building{ID: fmt.Sprintf("B%02d", n), Footprint: fp, Floors: 3 + (n*7)%30,
				Attrs: map[string]string{"entity_count": fmt.Sprint(n % 9), "tax": fmt.Sprint(n * 125)}}
			if n%3 == 0 {
				bld.Name = fmt.Sprintf("示例大厦%d座", n)
				bld.Attrs["output"] = fmt.Sprintf("%.1f", float64(n)*10.5)
			}
			if n%5 == 0 {
				bld.HeightM = 12.25 + float64(n)
			}
			must(b.UpsertBuilding(bld))
		}
	}
	kinds := []string{"school", "hospital", "landmark", "government"}
	for i := range 12 {
		a := float64(i) * 2 * math.Pi / 12
		d := 0.001 + 0.0004*float64(i%4)
		must(b.UpsertPlace(geo.Place{ID: fmt.Sprintf("P%02d", i), Name: fmt.Sprintf("示例%s%d", kinds[i%4], i), Kind: kinds[i%4],
			Location: orb.Point{goldenCore[0] + d*math.Cos(a), goldenCore[1] + d*math.Sin(a)}}))
	}
	r := rand.New(rand.NewPCG(2026, 10))
	centres := []orb.Point{goldenCore, {106.70, 29.66}, {106.61, 29.60}}
	industries := []string{"I6513", "H6210", "F5261", "R9013", "O8040", "L7212"}
	names := []string{"科技", "餐饮", "汽车销售", "网络", "美发", "咨询"}
	statuses := []geo.Status{geo.StatusActive, geo.StatusOperating, geo.StatusActive, geo.StatusRevoked}
	for i := range 900 {
		var p orb.Point
		switch c := i % 10; {
		case c < 6:
			p = orb.Point{goldenCore[0] + r.NormFloat64()*0.0015, goldenCore[1] + r.NormFloat64()*0.0013}
		case c < 9:
			o := centres[1+c%2]
			p = orb.Point{o[0] + r.NormFloat64()*0.004, o[1] + r.NormFloat64()*0.004}
		default:
			p = orb.Point{west + r.Float64()*(east-west), south + r.Float64()*(north-south)}
		}
		id17 := fmt.Sprintf("91500112MA%07d", i)
		check, err := geo.USCCCheckChar(id17)
		must(err)
		risk := geo.RiskA
		switch u := r.Float64(); {
		case u > 0.95:
			risk = geo.RiskD
		case u > 0.80:
			risk = geo.RiskC
		case u > 0.50:
			risk = geo.RiskB
		}
		k := r.IntN(len(industries))
		must(b.UpsertEntity(geo.Entity{ID: id17 + string(check), Name: fmt.Sprintf("重庆示例%s%03d有限公司", names[k], i),
			Location: p, Industry: industries[k], Risk: risk, Status: statuses[r.IntN(len(statuses))]}))
	}
	b.Commit()
	return idx
}

// TestTileGolden renders representative tiles of the golden region (z10
// clustered, z14, z16; every layer; with and without filters) and compares
// them, decoded, with testdata/golden/<layer>-<z>-<x>-<y>[-<filter>].mvt:
// layer names, versions, extents and, per layer, the multiset of features
// (id, geometry in tile units, properties with their value types; orb
// decodes every MVT number as a float64, so int and double compare equal).
// Feature order and encoding details (key and value table order) do not
// count. The .json beside each .mvt is its decoded form, one feature per
// line, for review; it must match too. Regenerate both with
//
//	go test ./tiles -run TestTileGolden -update
func TestTileGolden(t *testing.T) {
	idx := goldenIndex(t)
	rd := newRenderer(t, idx, Options{CacheBytes: -1})
	riskCD := geo.Filter{Risk: []geo.Risk{geo.RiskC, geo.RiskD}}
	tests := []struct {
		layer  string
		z      int
		suffix string // names the filter in the file name
		q      Query
	}{
		{LayerEntities, 10, "", Query{}},
		{LayerEntities, 10, "risk-CD", Query{Filter: riskCD}},
		{LayerZones, 10, "", Query{}},
		{LayerEntities, 14, "", Query{}},
		{LayerEntities, 14, "industry-H-I", Query{Filter: geo.Filter{Industry: []string{"H", "I65"}}}},
		{LayerBuildings, 14, "", Query{}},
		{LayerPlaces, 14, "", Query{}},
		{LayerPlaces, 14, "kind-school", Query{Filter: geo.Filter{Kind: []string{"school"}}}},
		{LayerEntities, 16, "", Query{}},
		{LayerEntities, 16, "risk-CD-revoked", Query{Filter: geo.Filter{Risk: riskCD.Risk, Status: []geo.Status{geo.StatusRevoked}}}},
		{LayerBuildings, 16, "", Query{}},
		{LayerZones, 16, "", Query{}},
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range tests {
		tl := maptile.At(goldenCore, maptile.Zoom(tc.z))
		name := fmt.Sprintf("%s-%d-%d-%d", tc.layer, tc.z, tl.X, tl.Y)
		if tc.suffix != "" {
			name += "-" + tc.suffix
		}
		t.Run(name, func(t *testing.T) {
			got, err := rd.Render(context.Background(), tc.layer, tc.z, int(tl.X), int(tl.Y), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got.Empty() {
				t.Fatal("empty tile: the golden region should give every case features")
			}
			gotLayers := decodeGolden(t, got.Data)
			mvtPath, jsonPath := filepath.Join(dir, name+".mvt"), filepath.Join(dir, name+".json")
			if *update {
				if err := os.WriteFile(mvtPath, got.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(jsonPath, gotLayers.json(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantData, err := os.ReadFile(mvtPath)
			if err != nil {
				t.Fatalf("%v (run: go test ./tiles -run TestTileGolden -update)", err)
			}
			want := decodeGolden(t, wantData)
			if diff := want.diff(gotLayers); diff != "" {
				t.Errorf("decoded tile differs from %s (regenerate with -update if the change is intended):\n%s", mvtPath, diff)
			}
			wantJSON, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wantJSON, gotLayers.json()) {
				t.Errorf("%s is not the decoded form of the tile: regenerate with -update", jsonPath)
			}
		})
	}
}

// goldenTile is a decoded tile in canonical form.
type goldenTile []goldenLayer

// goldenLayer is one decoded layer; its features are canonical keys (see
// featureKey), sorted, with their JSON lines in the same order.
type goldenLayer struct {
	name            string
	version, extent uint32
	keys, lines     []string
}

// decodeGolden decodes MVT bytes into canonical form.
func decodeGolden(tb testing.TB, data []byte) goldenTile {
	tb.Helper()
	ls, err := mvt.Unmarshal(data)
	if err != nil {
		tb.Fatal(err)
	}
	var out goldenTile
	for _, l := range ls {
		gl := goldenLayer{name: l.Name, version: l.Version, extent: l.Extent}
		type kl struct{ key, line string }
		fs := make([]kl, 0, len(l.Features))
		for _, f := range l.Features {
			fs = append(fs, kl{featureKey(tb, f), featureLine(tb, f)})
		}
		slices.SortFunc(fs, func(a, b kl) int { return cmp.Compare(a.key, b.key) })
		for _, f := range fs {
			gl.keys = append(gl.keys, f.key)
			gl.lines = append(gl.lines, f.line)
		}
		out = append(out, gl)
	}
	slices.SortFunc(out, func(a, b goldenLayer) int { return cmp.Compare(a.name, b.name) })
	return out
}

// featureKey is a feature's identity for comparison: its id, geometry and
// properties with the Go type of each decoded value (so a number that
// became a string is a difference).
func featureKey(tb testing.TB, f *geojson.Feature) string {
	tb.Helper()
	props := make([]string, 0, len(f.Properties))
	for k, v := range f.Properties {
		props = append(props, fmt.Sprintf("%s=%T:%v", k, v, v))
	}
	slices.Sort(props)
	g, err := json.Marshal(geojson.NewGeometry(f.Geometry))
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%T:%v %s %s", f.ID, f.ID, g, strings.Join(props, " "))
}

// featureLine is a feature as one line of JSON, for the .json files.
func featureLine(tb testing.TB, f *geojson.Feature) string {
	tb.Helper()
	v := struct {
		ID         any               `json:"id,omitempty"`
		Geometry   *geojson.Geometry `json:"geometry"`
		Properties map[string]any    `json:"properties"`
	}{f.ID, geojson.NewGeometry(f.Geometry), f.Properties}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// json renders the tile as a JSON document with one feature per line.
func (t goldenTile) json() []byte {
	var b bytes.Buffer
	b.WriteString("{\"layers\": [\n")
	for i, l := range t {
		fmt.Fprintf(&b, "{\"name\": %q, \"version\": %d, \"extent\": %d, \"features\": [\n", l.name, l.version, l.extent)
		for j, line := range l.lines {
			b.WriteString(line)
			if j < len(l.lines)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("]}")
		if i < len(t)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// diff describes how got differs from t (the golden tile), or returns "".
func (t goldenTile) diff(got goldenTile) string {
	var b strings.Builder
	names := func(ls goldenTile) []string {
		var s []string
		for _, l := range ls {
			s = append(s, fmt.Sprintf("%s v%d extent %d", l.name, l.version, l.extent))
		}
		return s
	}
	if w, g := names(t), names(got); !slices.Equal(w, g) {
		fmt.Fprintf(&b, "layers %q, want %q\n", g, w)
		return b.String()
	}
	for i, wl := range t {
		gl := got[i]
		missing, extra := sortedDiff(wl.keys, gl.keys)
		if len(missing)+len(extra) == 0 {
			continue
		}
		fmt.Fprintf(&b, "layer %s: %d features, want %d; %d missing, %d unexpected\n", wl.name, len(gl.keys), len(wl.keys), len(missing), len(extra))
		for _, k := range missing[:min(len(missing), 8)] {
			fmt.Fprintf(&b, "  - %s\n", k)
		}
		for _, k := range extra[:min(len(extra), 8)] {
			fmt.Fprintf(&b, "  + %s\n", k)
		}
	}
	return b.String()
}

// sortedDiff returns the elements of the sorted multiset want missing from
// the sorted multiset got, and those of got not in want.
func sortedDiff(want, got []string) (missing, extra []string) {
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

// TestGoldenDiff checks the comparison itself: equal multisets in any
// order are equal; a changed coordinate, property value or value type, a
// lost or an extra feature are differences.
func TestGoldenDiff(t *testing.T) {
	pt := func(x float64, props geojson.Properties) *geojson.Feature {
		f := geojson.NewFeature(orb.Point{x, 7})
		f.Properties = props
		return f
	}
	layer := func(fs ...*geojson.Feature) goldenTile {
		fc := geojson.NewFeatureCollection()
		fc.Features = fs
		l := mvt.NewLayer("entities", fc)
		data, err := mvt.Marshal(mvt.Layers{l})
		if err != nil {
			t.Fatal(err)
		}
		return decodeGolden(t, data)
	}
	base := layer(pt(1, geojson.Properties{"risk": "A", "count": 2}), pt(2, geojson.Properties{"risk": "B"}))
	tests := []struct {
		name string
		got  goldenTile
		same bool
	}{
		{"same", layer(pt(1, geojson.Properties{"risk": "A", "count": 2}), pt(2, geojson.Properties{"risk": "B"})), true},
		{"other order", layer(pt(2, geojson.Properties{"risk": "B"}), pt(1, geojson.Properties{"risk": "A", "count": 2})), true},
		{"moved", layer(pt(1, geojson.Properties{"risk": "A", "count": 2}), pt(3, geojson.Properties{"risk": "B"})), false},
		{"value", layer(pt(1, geojson.Properties{"risk": "A", "count": 3}), pt(2, geojson.Properties{"risk": "B"})), false},
		{"number became a string", layer(pt(1, geojson.Properties{"risk": "A", "count": "2"}), pt(2, geojson.Properties{"risk": "B"})), false},
		{"lost", layer(pt(1, geojson.Properties{"risk": "A", "count": 2})), false},
		{"extra", layer(pt(1, geojson.Properties{"risk": "A", "count": 2}), pt(2, geojson.Properties{"risk": "B"}), pt(2, geojson.Properties{"risk": "B"})), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := base.diff(tc.got); (d == "") != tc.same {
				t.Fatalf("diff %q, want same=%v", d, tc.same)
			}
		})
	}
}
