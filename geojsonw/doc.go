// Package geojsonw writes the JSON answers of marketgeo straight into a
// byte slice: GeoJSON features of query hits (entities, buildings, places,
// zones) with a field selection ([geo.FieldSet]) and an output CRS, and the
// JSON primitives (strings, numbers) with exactly the bytes encoding/json
// writes for them (HTML characters unescaped, as the server's encoder is
// set). It replaces marshalling a geojson.Feature through encoding/json,
// which spent most of a large answer re-validating the bytes orb had
// already produced.
//
// The functions append to a caller's buffer and never allocate on their
// own (but for a projected polygon), so a server can pool the buffers and
// stream them out as they fill:
//
//	enc := geojsonw.NewEncoder(crs.WGS84, geo.AllFields())
//	buf = geojsonw.AppendCollectionStart(buf)
//	for i := range res.Hits {
//		buf = enc.AppendHit(buf, i > 0, &res.Hits[i], geojsonw.Extra{Distance: true})
//	}
//	buf = geojsonw.AppendCollectionEnd(buf)
//	buf = append(buf, `,"total":`...) // the collection's members …
//
// The answer decodes to the same JSON value as json.Marshal of
// [geo.EntityFeature] (and the other feature functions) with the same
// properties added; property order differs (fixed fields first, then the
// free attributes sorted, then computed ones).
package geojsonw
