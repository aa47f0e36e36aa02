package server

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
)

// query returns the request's query parameters, parsed once per request:
// a GET or HEAD keeps them in r.Form (what ParseForm would put there), so
// the parameter helpers below do not re-parse the query for every
// parameter (each parse allocates a map: most of a small answer's
// garbage, which at 1M entities becomes the collector's marking of the
// whole index; issue 22).
func query(r *http.Request) url.Values {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return r.URL.Query()
	}
	if r.Form == nil {
		r.Form = r.URL.Query()
	}
	return r.Form
}

func queryFloat(r *http.Request, name string, def float64, required bool) (float64, error) {
	v := strings.TrimSpace(query(r).Get(name))
	if v == "" {
		if required {
			return 0, badParam("%s is required", name)
		}
		return def, nil
	}
	f, ok := decimalNumber(v)
	if !ok {
		return 0, badParam("%s=%q is not a decimal number", name, truncateString(v, 40))
	}
	return f, nil
}

// decimalNumber parses a plain decimal number as JSON writes them (an
// optional minus, digits, an optional fraction and exponent): no hex
// (0x1p-2), no underscores (1_000), no Inf or NaN, no leading +.
func decimalNumber(v string) (float64, bool) {
	if len(v) == 0 || len(v) > 40 {
		return 0, false
	}
	i := 0
	if v[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	lead := i
	if digits() == 0 || (v[lead] == '0' && i-lead > 1) { // no leading zeros (JSON)
		return 0, false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return 0, false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	if i != len(v) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(query(r).Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || v[0] == '+' {
		return 0, badParam("%s=%q is not a whole number", name, truncateString(v, 40))
	}
	if n < lo || n > hi {
		return 0, badParam("%s=%d is out of range [%d, %d]", name, n, lo, hi)
	}
	return n, nil
}

// queryCRS reads crs= (default WGS84).
func queryCRS(r *http.Request) (crs.CRS, error) {
	return crs.Parse(query(r).Get("crs"))
}

// queryPoint reads lon= and lat= in the request's CRS and returns WGS-84.
func queryPoint(r *http.Request, c crs.CRS) (orb.Point, error) {
	lon, err := queryFloat(r, "lon", 0, true)
	if err != nil {
		return orb.Point{}, err
	}
	lat, err := queryFloat(r, "lat", 0, true)
	if err != nil {
		return orb.Point{}, err
	}
	if lon < -180 || lon > 180 {
		return orb.Point{}, badParam("lon=%v is outside [-180, 180]", lon)
	}
	if lat < -90 || lat > 90 {
		return orb.Point{}, badParam("lat=%v is outside [-90, 90]", lat)
	}
	lon, lat = crs.ToWGS84(c, lon, lat)
	return orb.Point{lon, lat}, nil
}

func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range query(r)[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// maxFilterValues caps the distinct values of one filter parameter: a
// filter is matched against every candidate, so a list of 150,000
// industry prefixes made every query that long.
const maxFilterValues = 64

// queryFilterList is queryList de-duplicated and capped at maxFilterValues
// distinct values (400 beyond; the count stops at the cap, so a huge list
// costs one pass over the query string).
func queryFilterList(r *http.Request, name string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range query(r)[name] {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p == "" || seen[p] {
				continue
			}
			if len(out) == maxFilterValues {
				return nil, badParam("%s has more than %d distinct values", name, maxFilterValues)
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// queryFilter reads industry=, risk=, status= and kind= (comma-separated or repeated).
func queryFilter(r *http.Request) (geo.Filter, error) {
	var f geo.Filter
	industries, err := queryFilterList(r, "industry")
	if err != nil {
		return f, err
	}
	risks, err := queryFilterList(r, "risk")
	if err != nil {
		return f, err
	}
	statuses, err := queryFilterList(r, "status")
	if err != nil {
		return f, err
	}
	kinds, err := queryFilterList(r, "kind")
	if err != nil {
		return f, err
	}
	for _, v := range industries {
		code, err := geo.ParseIndustry(v) // I65, i6513, 网吧, 餐饮
		if err != nil {
			return f, badParam("industry=%q: %v", truncateString(v, 40), err)
		}
		f.Industry = append(f.Industry, code)
	}
	for _, v := range risks {
		rk, err := geo.ParseRisk(v)
		if err != nil || rk == "" {
			return f, badParam("risk=%q: want A, B, C or D", truncateString(v, 40))
		}
		f.Risk = append(f.Risk, rk)
	}
	for _, v := range statuses {
		st, err := geo.ParseStatus(v)
		if err != nil || st == "" {
			return f, badParam("status=%q: want 存续, 在业, 吊销, 注销, 迁出 or 停业 (or active, operating, revoked, cancelled, moved, suspended)", truncateString(v, 40))
		}
		f.Status = append(f.Status, st)
	}
	f.Kind = kinds
	return f, nil
}

// queryLayer reads layer= among the allowed ones (default the first).
func queryLayer(r *http.Request, allowed ...geo.Layer) (geo.Layer, error) {
	v := strings.TrimSpace(query(r).Get("layer"))
	if v == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if string(a) == v {
			return a, nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", badParam("layer=%q: want one of %s", v, strings.Join(names, ", "))
}
