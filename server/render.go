package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/paulmach/orb"
)

// project converts a WGS-84 geometry to the output CRS.
func project(g orb.Geometry, c crs.CRS) orb.Geometry {
	if c == "" {
		return g
	}
	return crs.Transform(g, crs.WGS84, c)
}

func roundTo(v float64, digits int) float64 { return geojsonw.RoundTo(v, digits) }

// hitsFormat is the shape of a hits answer (format= and count_only=).
type hitsFormat uint8

const (
	formatGeoJSON hitsFormat = iota // a FeatureCollection
	formatIDs                       // {"ids": [...], members…}
	formatCount                     // {members…}: the total without the hits
)

// hitsRequest is how a request wants its hits: the encoder (output CRS and
// fields=) and the format.
type hitsRequest struct {
	enc    *geojsonw.Encoder
	format hitsFormat
}

// queryHitsRequest reads crs=, fields=, format= (geojson or ids) and
// count_only= (true or false) of the endpoints answering hits (nearby,
// knearest, search). An unknown field, format or count_only value is a
// 400 naming it; fields= with format=ids or count_only=true is a 400 too.
func (s *Server) queryHitsRequest(r *http.Request, c crs.CRS) (hitsRequest, error) {
	q := query(r)
	out := hitsRequest{}
	fieldsGiven := strings.TrimSpace(q.Get("fields")) != ""
	fields, err := geo.ParseFieldSet(q.Get("fields"))
	if err != nil {
		return out, err
	}
	switch v := strings.TrimSpace(q.Get("format")); v {
	case "", "geojson":
	case "ids":
		out.format = formatIDs
	default:
		return out, badParam("format=%q: want geojson or ids", v)
	}
	switch v := strings.ToLower(strings.TrimSpace(q.Get("count_only"))); v {
	case "", "false", "0":
	case "true", "1":
		if out.format == formatIDs {
			return out, badParam("give format=ids or count_only=true, not both")
		}
		out.format = formatCount
	default:
		return out, badParam("count_only=%q: want true or false", v)
	}
	if fieldsGiven && out.format != formatGeoJSON {
		return out, badParam("fields applies to GeoJSON answers, not to format=ids or count_only=true")
	}
	out.enc = geojsonw.NewEncoder(c, fields)
	if s.public() {
		// the public profile shows the public fields only (fields.go),
		// whatever fields= asks for
		for layer, allow := range s.fields.sets() {
			out.enc = out.enc.Restrict(layer, allow)
		}
	}
	// the encoded features of the full answers in WGS-84 (WithCache takes
	// the cache only for an encoder of its CRS and fields)
	out.enc = out.enc.WithCache(s.feats)
	return out, nil
}

// newFeatureCache returns the cache of the full answers' encoded entity
// features (Options.AnswerCacheBytes; nil unless positive): WGS-84, every
// field the profile shows, with distance_m (nearby, knearest).
func (s *Server) newFeatureCache() *geojsonw.FeatureCache {
	if s.opts.AnswerCacheBytes <= 0 {
		return nil
	}
	fields := geo.AllFields()
	if s.public() {
		fields = fields.Intersect(s.fields.sets()[geo.LayerEntities])
	}
	return geojsonw.NewFeatureCache(crs.WGS84, fields, true, s.opts.AnswerCacheBytes)
}

// member is a member of an answer besides its hits, in the order written.
type member struct {
	key string
	val any
}

// writeHits writes a hits answer: a FeatureCollection of the n hits (hit
// returns the i-th with its computed properties), their ids, or only the
// members, which follow the hits.
func writeHits(w http.ResponseWriter, r *http.Request, hr hitsRequest, n int, hit func(i int) (*geo.Hit, geojsonw.Extra), members ...member) {
	writeHitsOf(w, r, hr, hitSource{n: n, hit: hit}, members...)
}

// hitSource is the hits of an answer: hits, each with the computed
// properties x (a geo query's), or else n hits that hit returns.
type hitSource struct {
	hits []geo.Hit
	x    geojsonw.Extra
	n    int
	hit  func(i int) (*geo.Hit, geojsonw.Extra)
}

// get returns the i-th hit and its computed properties.
func (src *hitSource) get(i int) (*geo.Hit, geojsonw.Extra) {
	if src.hit == nil {
		return &src.hits[i], src.x
	}
	return src.hit(i)
}

// writeHitsOf is writeHits of a hitSource.
func writeHitsOf(w http.ResponseWriter, r *http.Request, hr hitsRequest, src hitSource, members ...member) {
	n := src.n
	if src.hit == nil {
		n = len(src.hits)
	}
	a := newAnswer(w, r)
	b := a.buf
	more := false
	switch hr.format {
	case formatGeoJSON:
		b = geojsonw.AppendCollectionStart(b)
		for i := 0; i < n; i++ {
			if i%geojsonw.TouchAhead == 0 { // the next features fetched side by side (geojsonw.Touch)
				for j := i; j < min(i+geojsonw.TouchAhead, n); j++ {
					h, _ := src.get(j)
					hr.enc.Touch(h)
				}
			}
			h, x := src.get(i)
			l := len(b)
			b = hr.enc.AppendHit(b, more, h, x)
			more = more || len(b) > l
			if len(b) >= streamAt {
				a.buf = b
				a.spill()
				b = a.buf
			}
		}
		b = geojsonw.AppendCollectionEnd(b)
		more = true
	case formatIDs:
		b = append(b, `{"ids":[`...)
		for i := 0; i < n; i++ {
			if i%geojsonw.TouchAhead == 0 {
				for j := i; j < min(i+geojsonw.TouchAhead, n); j++ {
					h, _ := src.get(j)
					geojsonw.TouchID(h)
				}
			}
			h, _ := src.get(i)
			if i > 0 {
				b = append(b, ',')
			}
			b = geojsonw.AppendString(b, h.ID())
			if len(b) >= streamAt {
				a.buf = b
				a.spill()
				b = a.buf
			}
		}
		b = append(b, ']')
		more = true
	case formatCount:
		b = append(b, '{')
	}
	for _, m := range members {
		b = geojsonw.AppendKey(b, more, m.key)
		b = appendValue(b, m.val)
		more = true
	}
	a.buf = append(b, "}\n"...)
	_ = a.finish() // a client gone mid-answer: nothing more to tell it
}

// appendValue appends a member's value: the common kinds directly, others
// (small maps) through encoding/json without HTML escaping.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return geojsonw.AppendString(b, v)
	case int:
		return geojsonw.AppendInt(b, int64(v))
	case bool:
		return geojsonw.AppendBool(b, v)
	case float64:
		return geojsonw.AppendFloat(b, v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return append(b, "null"...)
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// writeResult writes the hits of a geo query with the members total,
// truncated and crs, then the extra members.
func writeResult(w http.ResponseWriter, r *http.Request, hr hitsRequest, res geo.Result, withDistance bool, extra ...member) {
	members := append([]member{{"total", res.Total}, {"truncated", res.Truncated}, {"crs", string(hr.enc.CRS())}}, extra...)
	writeHitsOf(w, r, hr, hitSource{hits: res.Hits, x: geojsonw.Extra{Distance: withDistance}}, members...)
}
