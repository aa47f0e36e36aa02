package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The encoding of the answers before the direct writer (issue 22): orb's
// geojson types marshalled by encoding/json. The differential tests below
// compare the served answers with it, decoded.

func legacyHitFeature(h *geo.Hit, c crs.CRS, withDistance bool) *geojson.Feature {
	var f *geojson.Feature
	switch {
	case h.Entity != nil:
		f = geo.EntityFeature(h.Entity)
	case h.Building != nil:
		f = geo.BuildingFeature(h.Building)
		cen := project(h.Building.Center(), c).(orb.Point)
		f.Properties["center"] = []float64{cen[0], cen[1]}
	case h.Place != nil:
		f = geo.PlaceFeature(h.Place)
	case h.Zone != nil:
		f = geo.ZoneFeature(h.Zone)
	default:
		return nil
	}
	f.Geometry = project(f.Geometry, c)
	if withDistance {
		f.Properties["distance_m"] = roundTo(h.DistanceM, 2)
	}
	return f
}

func legacyCollection(res geo.Result, c crs.CRS, withDistance bool) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	fc.Features = make([]*geojson.Feature, 0, len(res.Hits))
	for i := range res.Hits {
		if f := legacyHitFeature(&res.Hits[i], c, withDistance); f != nil {
			fc.Append(f)
		}
	}
	fc.ExtraMembers = geojson.Properties{"total": res.Total, "truncated": res.Truncated, "crs": string(c)}
	return fc
}

func legacySearch(hits []search.Hit, c crs.CRS, text string, center bool, radius float64) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	fc.Features = make([]*geojson.Feature, 0, len(hits))
	for i := range hits {
		h := &hits[i]
		f := legacyHitFeature(&h.Feature, c, center)
		if f == nil {
			continue
		}
		f.Properties["score"] = h.Score
		f.Properties["layer"] = string(h.Layer)
		f.Properties["match"] = h.Match
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"query": text, "total": len(fc.Features), "crs": string(c)}
	if radius > 0 {
		fc.ExtraMembers["radius_m"] = radius
	}
	return fc
}

// legacyJSON encodes v as writeJSON did and decodes it.
func legacyJSON(t *testing.T, v any) any {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return decodeAny(t, buf.Bytes())
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %.300s", err, b)
	}
	return v
}

func serve(h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	h.ServeHTTP(rec, req)
	return rec
}

func mustDecode(t *testing.T, h http.Handler, path string) any {
	t.Helper()
	rec := serve(h, path, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	if n := rec.Header().Get("Content-Length"); n != "" && n != fmt.Sprint(rec.Body.Len()) {
		t.Fatalf("%s: Content-Length %s for %d bytes", path, n, rec.Body.Len())
	}
	return decodeAny(t, rec.Body.Bytes())
}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s:\n got %.600s\nwant %.600s", what, g, w)
	}
}

var crsNames = []crs.CRS{crs.WGS84, crs.GCJ02, crs.BD09}

// TestNearbyKNearestMatchLegacyEncoding: random nearby and knearest
// queries (every point layer, radius, limit, filters, CRS) answer what the
// encoding/json rendering of the same library result decodes to.
func TestNearbyKNearestMatchLegacyEncoding(t *testing.T) {
	f, h, _ := zoneServer(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(22, 1))
	layers := []geo.Layer{geo.LayerEntities, geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings}
	for i := range 300 {
		p := f.ds.Entities[r.IntN(len(f.ds.Entities))].Location
		p[0] += (r.Float64() - 0.5) * 0.01
		p[1] += (r.Float64() - 0.5) * 0.01
		c := crsNames[r.IntN(3)]
		lon, lat := crs.FromWGS84(c, p[0], p[1])
		back := orb.Point{}
		back[0], back[1] = crs.ToWGS84(c, lon, lat)
		layer := layers[r.IntN(len(layers))]
		var q geo.Query
		qs := url.Values{"lon": {fmt.Sprint(lon)}, "lat": {fmt.Sprint(lat)}, "crs": {string(c)}, "layer": {string(layer)}}
		if layer == geo.LayerEntities && r.IntN(3) == 0 {
			q.Filter.Risk = []geo.Risk{geo.RiskC, geo.RiskD}
			qs.Set("risk", "C,D")
		}
		if r.IntN(2) == 0 {
			radius := []float64{50, 200, 1000, 3000}[r.IntN(4)]
			q.Limit = []int{1, 10, 1000}[r.IntN(3)]
			qs.Set("radius", fmt.Sprint(radius))
			qs.Set("limit", fmt.Sprint(q.Limit))
			res, err := f.idx.Nearby(ctx, layer, back, radius, q)
			if err != nil {
				t.Fatal(err)
			}
			want := legacyCollection(res, c, true)
			want.ExtraMembers["radius_m"] = radius
			diff(t, fmt.Sprintf("case %d nearby?%s", i, qs.Encode()), mustDecode(t, h, "/api/v1/nearby?"+qs.Encode()), legacyJSON(t, want))
		} else {
			k := 1 + r.IntN(50)
			qs.Set("k", fmt.Sprint(k))
			res, err := f.idx.KNearest(ctx, layer, back, k, geo.Query{Filter: q.Filter})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, fmt.Sprintf("case %d knearest?%s", i, qs.Encode()), mustDecode(t, h, "/api/v1/knearest?"+qs.Encode()), legacyJSON(t, legacyCollection(res, c, true)))
		}
	}
}

// TestZonesMatchLegacyEncoding: zones of random points (inside and around
// the region, every CRS) and of addresses answer what toZonesJSON encoded
// by encoding/json decodes to.
func TestZonesMatchLegacyEncoding(t *testing.T) {
	f, h, zi := zoneServer(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(22, 2))
	for i := range 400 {
		p := f.ds.Entities[r.IntN(len(f.ds.Entities))].Location
		if i%4 == 0 {
			p[0] += (r.Float64() - 0.5) * 0.5
			p[1] += (r.Float64() - 0.5) * 0.5
		}
		c := crsNames[r.IntN(3)]
		lon, lat := crs.FromWGS84(c, p[0], p[1])
		var back orb.Point
		back[0], back[1] = crs.ToWGS84(c, lon, lat)
		res, err := zi.Identify(ctx, back)
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/zones?lon=%v&lat=%v&crs=%s", lon, lat, c)
		diff(t, path, mustDecode(t, h, path), legacyJSON(t, toZonesJSON(res, c)))
	}
	for i := 0; i < 60; i++ {
		a := f.ds.Entities[r.IntN(len(f.ds.Entities))].Address
		if i%5 == 0 {
			a = a[:len(a)/2]
		}
		c := crsNames[r.IntN(3)]
		g, err := AddressGeocoder(f.db).Geocode(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		res, err := zi.IdentifyGeocoded(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/zones?crs=" + string(c) + "&address=" + url.QueryEscape(a)
		diff(t, path, mustDecode(t, h, path), legacyJSON(t, toZonesJSON(res, c)))
	}
}

// TestSearchMatchesLegacyEncoding: searches for names, fragments and
// places, with and without a centre and radius, every layer.
func TestSearchMatchesLegacyEncoding(t *testing.T) {
	h, idx := searchServer(t)
	six := searchIndexOf(t, h)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(22, 3))
	snap := idx.Snapshot()
	var names []string
	snap.ScanEntities(func(e *geo.Entity) bool {
		if r.IntN(40) == 0 {
			rs := []rune(e.Name)
			names = append(names, e.Name, string(rs[:min(len(rs), 2+r.IntN(4))]))
		}
		return len(names) < 120
	})
	names = append(names, "学校", "医院", "解放碑", "两江", "xyz")
	for i, text := range names {
		c := crsNames[r.IntN(3)]
		q := search.Query{Text: text, Limit: 1 + r.IntN(30)}
		qs := url.Values{"q": {text}, "crs": {string(c)}, "limit": {fmt.Sprint(q.Limit)}}
		if i%3 == 0 {
			l := []geo.Layer{geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings, geo.LayerZones}[r.IntN(4)]
			q.Layers = []geo.Layer{l}
			qs.Set("layer", string(l))
		}
		if i%2 == 0 {
			p := orb.Point{106.45 + r.Float64()*0.2, 29.5 + r.Float64()*0.15}
			lon, lat := crs.FromWGS84(c, p[0], p[1])
			p[0], p[1] = crs.ToWGS84(c, lon, lat)
			q.Center = &p
			qs.Set("lon", fmt.Sprint(lon))
			qs.Set("lat", fmt.Sprint(lat))
			if i%4 == 0 {
				q.RadiusM = 5000
				qs.Set("radius", "5000")
			}
		}
		hits, err := six.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/search?" + qs.Encode()
		diff(t, path, mustDecode(t, h, path), legacyJSON(t, legacySearch(hits, c, text, q.Center != nil, q.RadiusM)))
	}
}

// searchIndexOf returns the search index a test server answers from.
func searchIndexOf(t *testing.T, h http.Handler) *search.Index {
	t.Helper()
	s, ok := h.(*Server)
	if !ok || s.deps.Search == nil {
		t.Fatal("not a server with search")
	}
	return s.deps.Search
}

// TestAskForLess: fields= keeps exactly the named properties of the full
// answer; format=ids gives the full answer's ids in order and its members;
// count_only=true its members alone; bad values are 400s naming them.
func TestAskForLess(t *testing.T) {
	f, h, _ := zoneServer(t)
	r := rand.New(rand.NewPCG(22, 4))
	names := []string{"id", "name", "risk", "industry", "status", "distance_m", "address", "kind", "floors", "center", "grid_id"}
	for i := range 120 {
		p := f.ds.Entities[r.IntN(len(f.ds.Entities))].Location
		ep := "nearby"
		base := fmt.Sprintf("lon=%v&lat=%v&radius=%d&limit=%d&layer=%s", p[0], p[1], []int{100, 300, 1000}[r.IntN(3)], 1+r.IntN(300),
			[]string{"entities", "places", "buildings"}[r.IntN(3)])
		if i%4 == 3 {
			ep = "knearest"
			base = fmt.Sprintf("lon=%v&lat=%v&k=%d", p[0], p[1], 1+r.IntN(40))
		}
		full := mustDecode(t, h, "/api/v1/"+ep+"?"+base).(map[string]any)
		feats := full["features"].([]any)
		// fields=
		var sel []string
		for _, n := range names {
			if r.IntN(3) == 0 {
				sel = append(sel, n)
			}
		}
		if len(sel) == 0 {
			sel = []string{"id"}
		}
		got := mustDecode(t, h, "/api/v1/"+ep+"?"+base+"&fields="+strings.Join(sel, ",")).(map[string]any)
		gf := got["features"].([]any)
		if len(gf) != len(feats) {
			t.Fatalf("fields=%v: %d features, full answer %d", sel, len(gf), len(feats))
		}
		for k, v := range full {
			if k != "features" && !reflect.DeepEqual(got[k], v) {
				t.Fatalf("fields=%v: member %s = %v, full answer %v", sel, k, got[k], v)
			}
		}
		for j := range feats {
			want := feats[j].(map[string]any)
			props := map[string]any{}
			for k, v := range want["properties"].(map[string]any) {
				if slices.Contains(sel, k) {
					props[k] = v
				}
			}
			var wantProps any = props
			if len(props) == 0 {
				wantProps = nil
			}
			g := gf[j].(map[string]any)
			diff(t, "fields="+strings.Join(sel, ",")+" properties", g["properties"], wantProps)
			diff(t, "fields= geometry", g["geometry"], want["geometry"])
			diff(t, "fields= id", g["id"], want["id"])
		}
		// format=ids
		ids := mustDecode(t, h, "/api/v1/"+ep+"?"+base+"&format=ids").(map[string]any)
		var wantIDs []any
		for _, ft := range feats {
			wantIDs = append(wantIDs, ft.(map[string]any)["id"])
		}
		if wantIDs == nil {
			wantIDs = []any{}
		}
		diff(t, "format=ids ids", ids["ids"], wantIDs)
		// count_only=true
		cnt := mustDecode(t, h, "/api/v1/"+ep+"?"+base+"&count_only=true").(map[string]any)
		for k, v := range full {
			if k == "features" || k == "type" {
				continue
			}
			diff(t, "format=ids member "+k, ids[k], v)
			diff(t, "count_only member "+k, cnt[k], v)
		}
		if _, has := cnt["features"]; has || len(cnt) != len(full)-2 || len(ids) != len(full)-1 {
			t.Fatalf("count_only answer %v, format=ids members %d, full %d", cnt, len(ids), len(full))
		}
	}
	p := f.ds.Entities[0].Location
	q := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v", p[0], p[1])
	for _, c := range []struct{ query, want string }{
		{"&fields=id,colour", `"colour"`},
		{"&fields=,", "fields"},
		{"&format=xml", `"xml"`},
		{"&count_only=maybe", `"maybe"`},
		{"&format=ids&count_only=true", "not both"},
		{"&format=ids&fields=id", "fields"},
	} {
		rec := serve(h, q+c.query, nil)
		var body struct{ Error string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(body.Error, c.want) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.query, rec.Code, rec.Body.String(), c.want)
		}
	}
}

// TestCompressedAnswers: with Accept-Encoding zstd or gzip, a large
// answer is compressed and decompresses to the identity answer's bytes; a
// small one is not compressed; q=0 refuses a coding.
func TestCompressedAnswers(t *testing.T) {
	f, h, _ := zoneServer(t)
	p := f.ds.Entities[10].Location
	large := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=1000", p[0], p[1])
	small := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=1000&count_only=true", p[0], p[1])
	plain := serve(h, large, nil)
	if plain.Body.Len() < 4*compressMinBytes || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("identity answer of %d bytes, encoding %q", plain.Body.Len(), plain.Header().Get("Content-Encoding"))
	}
	for _, c := range []struct{ accept, want string }{
		{"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip, deflate, br, zstd", "zstd"}, {"zstd;q=0, gzip", "gzip"},
		{"gzip;q=0", ""}, {"*", "zstd"}, {"*;q=0", ""}, {"identity", ""}, {"br", ""},
	} {
		rec := serve(h, large, map[string]string{"Accept-Encoding": c.accept})
		if got := rec.Header().Get("Content-Encoding"); got != c.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", c.accept, got, c.want)
			continue
		}
		if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: no Vary", c.accept)
		}
		var body []byte
		var err error
		switch c.want {
		case "gzip":
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(rec.Body); err == nil {
				body, err = io.ReadAll(zr)
			}
		case "zstd":
			var zr *zstd.Decoder
			if zr, err = zstd.NewReader(rec.Body); err == nil {
				body, err = io.ReadAll(zr)
				zr.Close()
			}
		default:
			body = rec.Body.Bytes()
		}
		if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
			t.Errorf("Accept-Encoding %q: %v; body differs from the identity answer (%d vs %d bytes)", c.accept, err, len(body), plain.Body.Len())
		}
	}
	if rec := serve(h, small, map[string]string{"Accept-Encoding": "gzip, zstd"}); rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("a %d-byte answer was compressed", rec.Body.Len())
	}
}

// TestLargeAnswerStreams: an answer larger than streamAt is streamed
// (no Content-Length) and is still complete, equal to the legacy encoding.
func TestLargeAnswerStreams(t *testing.T) {
	f, h, _ := zoneServer(t)
	p := f.ds.Entities[0].Location
	path := fmt.Sprintf("/api/v1/nearby?lon=%v&lat=%v&radius=20000&limit=10000", p[0], p[1])
	rec := serve(h, path, nil)
	if rec.Body.Len() <= streamAt || rec.Header().Get("Content-Length") != "" {
		t.Fatalf("%d bytes, Content-Length %q: want a streamed answer over %d bytes", rec.Body.Len(), rec.Header().Get("Content-Length"), streamAt)
	}
	res, err := f.idx.Nearby(context.Background(), geo.LayerEntities, p, 20000, geo.Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	want := legacyCollection(res, crs.WGS84, true)
	want.ExtraMembers["radius_m"] = 20000.0
	diff(t, path, decodeAny(t, rec.Body.Bytes()), legacyJSON(t, want))
}

// zonesJSON and toZonesJSON: the zones answer before the direct writer.
type zonesJSON struct {
	InFTZ        zoneid.FTZAnswer `json:"in_ftz"`
	FTZArea      *ftzJSON         `json:"ftz_area"`
	Grid         *gridJSON        `json:"grid"`
	Zones        []zoneRef        `json:"zones"`
	Precision    geo.Precision    `json:"precision"`
	Location     []float64        `json:"location"`
	CRS          crs.CRS          `json:"crs"`
	Address      string           `json:"address,omitempty"`
	FTZBoundaryM *float64         `json:"ftz_boundary_m,omitempty"`
}

func toZonesJSON(res zoneid.Result, c crs.CRS) zonesJSON {
	out := zonesJSON{InFTZ: res.InFTZ, FTZArea: ftzOf(res.FTZ), Grid: gridOf(res.Grid), Zones: make([]zoneRef, 0, len(res.Zones)),
		Precision: res.Precision, Location: outPoint(res.Point, c), CRS: c, Address: res.Address}
	for _, z := range res.Zones {
		out.Zones = append(out.Zones, zoneRef{Layer: z.Layer, ID: z.ID, Name: z.Name})
	}
	if res.FTZBoundaryM >= 0 && res.FTZBoundaryM < 1e12 {
		d := roundTo(res.FTZBoundaryM, 1)
		out.FTZBoundaryM = &d
	}
	return out
}
