package geojsonw

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// oracle renders a hit the way the server did before this package: the
// geo feature functions, the geometry projected with crs.Transform, the
// computed properties set on the map, marshalled by encoding/json; then
// the properties outside the selection removed (a fixed property by its
// field, a free attribute by "attrs").
func oracle(t *testing.T, h *geo.Hit, c crs.CRS, fs geo.FieldSet, x Extra) any {
	t.Helper()
	var f, fixed *geojson.Feature
	switch {
	case h.Entity != nil:
		f = geo.EntityFeature(h.Entity)
		e := *h.Entity
		e.Attrs = nil
		fixed = geo.EntityFeature(&e)
	case h.Building != nil:
		f = geo.BuildingFeature(h.Building)
		cen := crs.Transform(h.Building.Center(), crs.WGS84, c).(orb.Point)
		f.Properties["center"] = []float64{cen[0], cen[1]}
		b := *h.Building
		b.Attrs = nil
		fixed = geo.BuildingFeature(&b)
		fixed.Properties["center"] = true
	case h.Place != nil:
		f = geo.PlaceFeature(h.Place)
		p := *h.Place
		p.Attrs = nil
		fixed = geo.PlaceFeature(&p)
	case h.Zone != nil:
		f = geo.ZoneFeature(h.Zone)
		z := *h.Zone
		z.Props = nil
		fixed = geo.ZoneFeature(&z)
	}
	f.Geometry = crs.Transform(f.Geometry, crs.WGS84, c)
	computed := map[string]bool{}
	if x.Distance {
		f.Properties["distance_m"] = RoundTo(h.DistanceM, 2)
		computed["distance_m"] = true
	}
	if x.Search {
		f.Properties["score"], f.Properties["layer"], f.Properties["match"] = x.Score, string(x.Layer), x.Match
		computed["score"], computed["layer"], computed["match"] = true, true, true
	}
	for k := range f.Properties {
		var keep bool
		if _, isFixed := fixed.Properties[k]; isFixed || computed[k] {
			fl, _ := geo.FieldByName(k)
			keep = fs.Has(fl)
		} else {
			keep = fs.Has(geo.FieldAttrs)
		}
		if !keep {
			delete(f.Properties, k)
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

var names = []string{"", "重庆两江科技有限公司", `a "quoted" \ name`, "tab\there\nnewline", "<b>&amp;</b>", "bad\xffutf8", "line\u2028sep", "ctl\x01\x1f", "Ünïcödé 𝄞"}

func pick(r *rand.Rand, ss []string) string { return ss[r.IntN(len(ss))] }

var attrKeys = []string{"source", "short_name", "address", "distance_m", "score", "layer", "match", "center", "id", "name", "floors", "kind", "team", "x"}

func randAttrs(r *rand.Rand) map[string]string {
	if r.IntN(3) == 0 {
		return nil
	}
	m := map[string]string{}
	for range r.IntN(6) {
		m[pick(r, attrKeys)] = pick(r, names)
	}
	return m
}

func randPoint(r *rand.Rand) orb.Point {
	return orb.Point{106 + r.Float64()*2, 29 + r.Float64()*2}
}

func randPolygon(r *rand.Rand) orb.Polygon {
	c := randPoint(r)
	d := r.Float64() * 0.01
	ring := orb.Ring{c, {c[0] + d, c[1]}, {c[0] + d, c[1] + d}, {c[0], c[1] + d}, c}
	return orb.Polygon{ring}
}

func randHit(r *rand.Rand) geo.Hit {
	h := geo.Hit{DistanceM: r.Float64() * 500}
	switch r.IntN(4) {
	case 0, 1:
		e := &geo.Entity{ID: "91500000MA5U7XYZ1" + string(rune('0'+r.IntN(10))), Name: pick(r, names), ShortName: pick(r, names),
			Address: pick(r, names), Location: randPoint(r), Industry: pick(r, []string{"", "I6510", "R9021"}),
			Status: geo.Status(pick(r, []string{"", "存续", "吊销"})), Risk: geo.Risk(pick(r, []string{"", "A", "D"})),
			BuildingID: pick(r, []string{"", "b1"}), GridID: pick(r, []string{"", "g-1"}),
			AnnualReport: r.IntN(2) == 0, Abnormal: r.IntN(2) == 0, Blacklisted: r.IntN(2) == 0, Attrs: randAttrs(r),
			Version: uint64(r.IntN(3))}
		if r.IntN(2) == 0 {
			e.RegisteredAt = time.Date(1990+r.IntN(30), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		}
		if r.IntN(3) == 0 {
			e.FormerNames = []string{pick(r, names), pick(r, names)}
		}
		h.Entity = e
	case 2:
		b := &geo.Building{ID: "b" + pick(r, names), Name: pick(r, names), Address: pick(r, names), Footprint: randPolygon(r),
			Floors: r.IntN(3) * 7, Attrs: randAttrs(r), Version: uint64(r.IntN(2))}
		if r.IntN(2) == 0 {
			b.HeightM = r.Float64() * 100
		}
		h.Building = b
	case 3:
		if r.IntN(2) == 0 {
			h.Place = &geo.Place{ID: "p1", Name: pick(r, names), Kind: pick(r, []string{"", "school"}), Location: randPoint(r), Attrs: randAttrs(r)}
			if r.IntN(2) == 0 {
				h.Place.Aliases = []string{pick(r, names)}
			}
		} else {
			mp := orb.MultiPolygon{randPolygon(r)}
			if r.IntN(2) == 0 {
				mp = append(mp, randPolygon(r))
			}
			h.Zone = &geo.Zone{ID: "z1", Layer: pick(r, []string{"ftz", "grid"}), Name: pick(r, names), Geometry: mp, Props: randAttrs(r), Version: uint64(r.IntN(2))}
		}
	}
	return h
}

func hitLayerOf(h *geo.Hit) geo.Layer {
	switch {
	case h.Entity != nil:
		return geo.LayerEntities
	case h.Building != nil:
		return geo.LayerBuildings
	case h.Place != nil:
		return geo.LayerPlaces
	}
	return geo.LayerZones
}

func randFields(r *rand.Rand) geo.FieldSet {
	if r.IntN(2) == 0 {
		return geo.AllFields()
	}
	var fs []geo.Field
	for _, f := range geo.Fields() {
		if r.IntN(3) == 0 {
			fs = append(fs, f)
		}
	}
	return geo.NewFieldSet(fs...)
}

// TestAppendHitMatchesEncodingJSON: random hits of every layer, with
// strings that need escaping, free attributes shadowed by fixed and
// computed properties, every CRS and random field selections, decode to
// the same value as the encoding/json rendering.
func TestAppendHitMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 22))
	for i := range 5000 {
		h := randHit(r)
		c := []crs.CRS{crs.WGS84, crs.GCJ02, crs.BD09}[r.IntN(3)]
		fs := randFields(r)
		x := Extra{Distance: r.IntN(2) == 0}
		if r.IntN(3) == 0 {
			x.Search, x.Score, x.Layer, x.Match = true, r.Float64(), geo.LayerZones, pick(r, []string{"exact", "prefix"})
		}
		enc := NewEncoder(c, fs)
		if r.IntN(3) == 0 { // a profile's allow-list for one layer
			allow := randFields(r)
			layer := []geo.Layer{geo.LayerEntities, geo.LayerBuildings, geo.LayerPlaces, geo.LayerZones}[r.IntN(4)]
			enc = enc.Restrict(layer, allow)
			if layer == hitLayerOf(&h) {
				fs = fs.Intersect(allow)
			}
		}
		got := enc.AppendHit(nil, false, &h, x)
		want := oracle(t, &h, c, fs, x)
		if g := decode(t, got); !reflect.DeepEqual(g, want) {
			w, _ := json.Marshal(want)
			t.Fatalf("case %d (crs %s, fields %s, %+v):\n got %s\nwant %s", i, c, fs, x, got, w)
		}
	}
}

// TestAppendPrimitivesBytes: strings and floats are byte-identical to encoding/json's.
func TestAppendPrimitivesBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 22))
	floats := []float64{0, -0.0, 1, -1, 1e-7, 1e-6, 9.99e-7, 1e20, 1e21, 1.5e300, 106.123456789, 29.5, 123456789.125, math.SmallestNonzeroFloat64, math.MaxFloat64}
	for range 2000 {
		floats = append(floats, (r.Float64()-0.5)*math.Pow(10, float64(r.IntN(60)-30)))
	}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, encoding/json %s", f, got, want)
		}
	}
	strs := append([]string{}, names...)
	for range 2000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		want := marshalNoHTML(t, s)
		if got := AppendString(nil, s); string(got) != want {
			t.Errorf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
	}
}

func marshalNoHTML(t *testing.T, v any) string {
	t.Helper()
	var b []byte
	w := &sliceWriter{&b}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(b[:len(b)-1])
}

type sliceWriter struct{ b *[]byte }

func (w *sliceWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// FuzzAppendString: any string is written with encoding/json's exact
// bytes (HTML escaping off), through the plain fast path or the general one.
func FuzzAppendString(f *testing.F) {
	for _, s := range names {
		f.Add(s)
	}
	f.Add("\xe2\x80\xa8\xed\xa0\x80\xe0\x80\x80\xf0\x9f\x98\x80")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), marshalNoHTML(t, s); got != want {
			t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}

// TestEntityPathsMatchGeneralPath: the entity paths of fields=id
// (appendEntityID) and of full answers without free attributes
// (appendEntityAll) write the bytes of the general path (appendHead and
// appendTail, what such answers wrote before them), and decode as the
// encoding/json oracle, for random entities (IDs and names that need
// escaping among them, with and without free attributes), every CRS, every
// kind of Extra, after a comma or not.
func TestEntityPathsMatchGeneralPath(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 22))
	ids := []string{"91500000MA5U7XYZ1X", `a"b\c`, "id\u2028\x01", "重庆\xff", ""}
	for _, fs := range []geo.FieldSet{geo.NewFieldSet(geo.FieldID), geo.AllFields()} {
		n := 0
		for i := 0; n < 3000; i++ {
			h := randHit(r)
			if h.Entity == nil {
				continue
			}
			n++
			if r.IntN(4) == 0 {
				h.Entity.ID = pick(r, ids)
			}
			if r.IntN(4) == 0 {
				h.Entity.Name = pick(r, ids)
			}
			if r.IntN(2) == 0 {
				h.Entity.Attrs = nil
			}
			if r.IntN(5) == 0 {
				h.DistanceM = float64(r.IntN(5)) + []float64{0, 0.1, 0.005, 0.994999, 0.995}[r.IntN(5)]
			}
			c := []crs.CRS{crs.WGS84, crs.GCJ02, crs.BD09}[r.IntN(3)]
			x := Extra{Distance: r.IntN(2) == 0}
			if r.IntN(3) == 0 {
				x.Search, x.Score, x.Layer, x.Match = true, r.Float64(), geo.LayerEntities, "exact"
			}
			enc := NewEncoder(c, fs)
			comma := r.IntN(2) == 0
			prefix := []byte(`[{"x":1}`)
			got := enc.AppendHit(append([]byte(nil), prefix...), comma, &h, x)
			want := append([]byte(nil), prefix...)
			if comma {
				want = append(want, ',')
			}
			want, p, mark := enc.appendHead(want, &h, x)
			want = enc.appendTail(want, p, mark, &h, x)
			if string(got) != string(want) {
				t.Fatalf("fields %s, case %d (crs %s, %+v):\n got %s\nwant %s", fs, i, c, x, got, want)
			}
			if w := oracle(t, &h, c, fs, x); !reflect.DeepEqual(decode(t, got[len(prefix)+b2i(comma):]), w) {
				t.Fatalf("fields %s, case %d: %s does not decode as the oracle %v", fs, i, got, w)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
