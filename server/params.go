package server

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/paulmach/orb"
)

func queryFloat(r *http.Request, name string, def float64, required bool) (float64, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		if required {
			return 0, badParam("%s is required", name)
		}
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, badParam("%s=%q is not a number", name, v)
	}
	return f, nil
}

func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badParam("%s=%q is not a whole number", name, v)
	}
	if n < lo || n > hi {
		return 0, badParam("%s=%d is out of range [%d, %d]", name, n, lo, hi)
	}
	return n, nil
}

// queryCRS reads crs= (default WGS84).
func queryCRS(r *http.Request) (crs.CRS, error) {
	return crs.Parse(r.URL.Query().Get("crs"))
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
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// queryFilter reads industry=, risk=, status= and kind= (comma-separated or repeated).
func queryFilter(r *http.Request) (geo.Filter, error) {
	var f geo.Filter
	for _, v := range queryList(r, "industry") {
		code, err := geo.ParseIndustry(v) // I65, i6513, 网吧, 餐饮
		if err != nil {
			return f, badParam("industry=%q: %v", v, err)
		}
		f.Industry = append(f.Industry, code)
	}
	for _, v := range queryList(r, "risk") {
		rk, err := geo.ParseRisk(v)
		if err != nil || rk == "" {
			return f, badParam("risk=%q: want A, B, C or D", v)
		}
		f.Risk = append(f.Risk, rk)
	}
	for _, v := range queryList(r, "status") {
		st, err := geo.ParseStatus(v)
		if err != nil || st == "" {
			return f, badParam("status=%q: want 存续, 在业, 吊销, 注销, 迁出 or 停业 (or active, operating, revoked, cancelled, moved, suspended)", v)
		}
		f.Status = append(f.Status, st)
	}
	f.Kind = queryList(r, "kind")
	return f, nil
}

// queryLayer reads layer= among the allowed ones (default the first).
func queryLayer(r *http.Request, allowed ...geo.Layer) (geo.Layer, error) {
	v := strings.TrimSpace(r.URL.Query().Get("layer"))
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
