package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/zoneid"
	"github.com/paulmach/orb"
)

// maxBatchPoints caps /zones/batch.
const maxBatchPoints = 100_000

// batchPoint is one input point: coordinates in the request CRS and an
// optional caller ID echoed in the output.
type batchPoint struct {
	lon, lat float64
	id       string
}

// batchInput is the parsed body of /zones/batch.
type batchInput struct {
	points []batchPoint
	crs    string // from the JSON body; "" when not given
}

// parseBatch reads the two input shapes of /zones/batch:
//
//   - one JSON object: {"points": [[lon, lat], ...], "ids": ["a", ...], "crs": "gcj02"}
//     ("ids" and "crs" optional; "ids" as long as "points");
//   - NDJSON: one point per line, either [lon, lat] or
//     {"lon": …, "lat": …, "id": "a"}; blank lines are skipped.
//
// A body whose first value is an object with a "points" member is the
// first shape. Malformed input is an error naming the line; coordinates
// are not range-checked here (each bad point gets an error line).
func parseBatch(body []byte, max int) (batchInput, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return batchInput{}, badParam("the body is empty: send {\"points\": [[lon, lat], ...]} or NDJSON lines [lon, lat]")
	}
	if trimmed[0] == '{' && isPointsObject(trimmed) {
		var req struct {
			Points json.RawMessage `json:"points"`
			IDs    []string        `json:"ids"`
			CRS    string          `json:"crs"`
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return batchInput{}, badParam("body is not the expected JSON object {\"points\": [[lon, lat], ...]}: %v", err)
		}
		if dec.More() {
			return batchInput{}, badParam("body has data after the JSON object")
		}
		pts, err := parsePointArray(req.Points, max)
		if err != nil {
			return batchInput{}, err
		}
		if len(pts) == 0 {
			return batchInput{}, badParam("points is empty")
		}
		if req.IDs != nil && len(req.IDs) != len(pts) {
			return batchInput{}, badParam("ids has %d entries for %d points", len(req.IDs), len(pts))
		}
		in := batchInput{points: pts, crs: req.CRS}
		for i := range req.IDs {
			in.points[i].id = req.IDs[i]
		}
		return in, nil
	}
	var in batchInput
	line := 0
	for rest := body; len(rest) > 0; {
		var l []byte
		if k := bytes.IndexByte(rest, '\n'); k >= 0 {
			l, rest = rest[:k], rest[k+1:]
		} else {
			l, rest = rest, nil
		}
		line++
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if len(in.points) == max {
			return batchInput{}, fmt.Errorf("%w: more than %d points", errTooLarge, max)
		}
		p, err := parseBatchLine(l)
		if err != nil {
			return batchInput{}, badParam("line %d: %v", line, err)
		}
		in.points = append(in.points, p)
	}
	if len(in.points) == 0 {
		return batchInput{}, badParam("no points in the body")
	}
	return in, nil
}

// parsePointArray parses the "points" member, [[lon, lat], ...], with the
// fast [lon, lat] parser (the raw message is valid JSON already).
func parsePointArray(raw json.RawMessage, max int) ([]batchPoint, error) {
	b := bytes.TrimSpace(raw)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, badParam("points must be an array of [lon, lat]")
	}
	b = bytes.TrimSpace(b[1 : len(b)-1])
	pts := make([]batchPoint, 0, min(len(b)/8+1, max+1))
	for i := 0; len(b) > 0; i++ {
		if len(pts) == max {
			return nil, fmt.Errorf("%w: more than %d points", errTooLarge, max)
		}
		if b[0] != '[' {
			return nil, badParam("points[%d] is not [lon, lat]", i)
		}
		k := bytes.IndexByte(b, ']')
		if k < 0 {
			return nil, badParam("points[%d] is not [lon, lat]", i)
		}
		p, err := parseBatchLine(b[:k+1])
		if err != nil {
			return nil, badParam("points[%d]: %v", i, err)
		}
		pts = append(pts, p)
		b = bytes.TrimSpace(b[k+1:])
		if len(b) > 0 {
			if b[0] != ',' {
				return nil, badParam("points[%d] is followed by %q, want , or ]", i, truncate(b, 10))
			}
			b = bytes.TrimSpace(b[1:])
			if len(b) == 0 {
				return nil, badParam("points ends with a comma")
			}
		}
	}
	return pts, nil
}

// isPointsObject reports whether the JSON object at the start of b has a
// top-level "points" member.
func isPointsObject(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return false
		}
		if k == "points" {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// parseBatchLine parses one NDJSON line: [lon, lat] (fast path) or an object.
func parseBatchLine(l []byte) (batchPoint, error) {
	if l[0] == '[' && l[len(l)-1] == ']' {
		inner := l[1 : len(l)-1]
		if k := bytes.IndexByte(inner, ','); k >= 0 && bytes.IndexByte(inner[k+1:], ',') < 0 {
			lon, ok1 := jsonNumber(bytes.TrimSpace(inner[:k]))
			lat, ok2 := jsonNumber(bytes.TrimSpace(inner[k+1:]))
			if ok1 && ok2 {
				return batchPoint{lon: lon, lat: lat}, nil
			}
		}
		return batchPoint{}, fmt.Errorf("%q is not [lon, lat]", truncate(l, 80))
	}
	if l[0] != '{' {
		return batchPoint{}, fmt.Errorf("%q is neither [lon, lat] nor {\"lon\": …, \"lat\": …}", truncate(l, 80))
	}
	var o struct {
		Lon *float64 `json:"lon"`
		Lat *float64 `json:"lat"`
		ID  string   `json:"id"`
	}
	dec := json.NewDecoder(bytes.NewReader(l))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return batchPoint{}, err
	}
	if dec.More() {
		return batchPoint{}, fmt.Errorf("data after the JSON object")
	}
	if o.Lon == nil || o.Lat == nil {
		return batchPoint{}, fmt.Errorf("lon and lat are required")
	}
	return batchPoint{lon: *o.Lon, lat: *o.Lat, id: o.ID}, nil
}

// jsonNumber parses a JSON number (no NaN, Inf, hex or underscores).
func jsonNumber(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 40 {
		return 0, false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	if b[0] == '+' || b[0] == '.' || (b[0] == '-' && (len(b) == 1 || b[1] < '0' || b[1] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// zonesBatch: POST /api/v1/zones/batch?crs= → NDJSON, one line per point
// in input order:
//
//	{"index":0,"id":"a","in_ftz":true,"ftz_area":{"id":…,"name":…},"grid":{"id","name","inspector","team"},"zones":[{"layer","id","name"},…]}
//
// or {"index":i,"error":"…"} for a point out of range. Coordinates are
// taken as exact (precision "point").
func (s *Server) zonesBatch(w http.ResponseWriter, r *http.Request) error {
	zi, err := s.zones()
	if err != nil {
		return err
	}
	release, err := s.batchSlot(w)
	if err != nil {
		return err
	}
	defer release()
	if r.ContentLength > s.opts.MaxBatchBodyBytes {
		return fmt.Errorf("%w: request body exceeds %d bytes", errTooLarge, s.opts.MaxBatchBodyBytes)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBatchBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: request body exceeds %d bytes", errTooLarge, s.opts.MaxBatchBodyBytes)
		}
		return badParam("reading the body: %v", err)
	}
	if int64(len(body)) > s.opts.MaxBatchBodyBytes {
		return fmt.Errorf("%w: request body exceeds %d bytes", errTooLarge, s.opts.MaxBatchBodyBytes)
	}
	in, err := parseBatch(body, maxBatchPoints)
	if err != nil {
		return err
	}
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	if in.crs != "" {
		bc, err := crs.Parse(in.crs)
		if err != nil {
			return err
		}
		if r.URL.Query().Get("crs") != "" && bc != c {
			return badParam("crs=%s in the query and %q in the body differ", c, in.crs)
		}
		c = bc
	}
	look, err := zi.Lookup(r.Context())
	if err != nil {
		return err
	}
	beginBatch(w)
	bw := bufio.NewWriterSize(w, 64<<10)
	flusher, _ := w.(http.Flusher)
	frag := map[*geo.Zone][]byte{} // rendered {"layer","id","name"} per zone
	gridFrag := map[*geo.Zone][]byte{}
	ftzFrag := map[*geo.Zone][]byte{}
	var h zoneid.Hit
	line := make([]byte, 0, 1024)
	for i, bp := range in.points {
		if i%256 == 0 {
			if err := r.Context().Err(); err != nil {
				return batchSummary(w, bw, i, len(in.points), err)
			}
		}
		line = append(line[:0], `{"index":`...)
		line = strconv.AppendInt(line, int64(i), 10)
		if bp.id != "" {
			line = append(line, `,"id":`...)
			line = appendJSONString(line, bp.id)
		}
		lon, lat := bp.lon, bp.lat
		if lon < -180 || lon > 180 || lat < -90 || lat > 90 || math.IsNaN(lon) || math.IsNaN(lat) {
			line = append(line, `,"error":`...)
			line = appendJSONString(line, fmt.Sprintf("%v,%v is outside [-180, 180] × [-90, 90]", lon, lat))
			line = append(line, "}\n"...)
			_, _ = bw.Write(line)
			continue
		}
		if c != crs.WGS84 {
			lon, lat = crs.ToWGS84(c, lon, lat)
		}
		look.At(orb.Point{lon, lat}, &h)
		if h.FTZ != nil {
			line = append(line, `,"in_ftz":true,"ftz_area":`...)
			line = append(line, cached(ftzFrag, h.FTZ, func(z *geo.Zone) any { return ftzOf(z) })...)
		} else {
			line = append(line, `,"in_ftz":false,"ftz_area":null`...)
		}
		line = append(line, `,"grid":`...)
		if h.Grid != nil {
			line = append(line, cached(gridFrag, h.Grid, func(z *geo.Zone) any { return gridOf(z) })...)
		} else {
			line = append(line, "null"...)
		}
		line = append(line, `,"zones":[`...)
		for k, z := range h.Zones {
			if k > 0 {
				line = append(line, ',')
			}
			line = append(line, cached(frag, z, func(z *geo.Zone) any { return zoneRef{Layer: z.Layer, ID: z.ID, Name: z.Name} })...)
		}
		line = append(line, "]}\n"...)
		_, _ = bw.Write(line)
		if i%4096 == 4095 {
			_ = bw.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	return batchSummary(w, bw, len(in.points), len(in.points), nil)
}

func cached(m map[*geo.Zone][]byte, z *geo.Zone, render func(*geo.Zone) any) []byte {
	if b, ok := m[z]; ok {
		return b
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(render(z))
	b := bytes.TrimRight(buf.Bytes(), "\n")
	m[z] = b
	return b
}

func appendJSONString(dst []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return append(dst, bytes.TrimRight(buf.Bytes(), "\n")...)
}
