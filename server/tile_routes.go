package server

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/tiles"
)

// tileRoutes registers the vector-tile endpoints and, when Deps.WebMap is
// set, the web map at / and its assets under /webmap/.
//
//	GET /tiles/{layer}.json              TileJSON 3.0.0
//	GET /tiles/{layer}/{z}/{x}/{y}.mvt   Mapbox Vector Tile (gzip when accepted)
//
// The tile route is matched by a plain string test instead of a mux path
// template (whose regexp with four captures, and the vars map it fills,
// cost more than serving a cached tile), and parsed by tiles.ParsePath.
func (s *Server) tileRoutes(r *mux.Router) {
	th := &tileHandler{s: s,
		cacheControl: []string{"public, max-age=60, stale-while-revalidate=300"},
		vary:         []string{"Accept-Encoding"},
		mvt:          []string{"application/vnd.mapbox-vector-tile"},
		gzip:         []string{"gzip"},
	}
	s.tileH = th
	r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool { return isTilePath(req.URL.Path) }).
		Handler(th).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/tiles/{layer}.json", s.handle(s.tileJSON)).Methods(http.MethodGet, http.MethodHead)
	s.webmapRoutes(r)
}

// serveTile serves a tile request ahead of the router and the request
// timeout, which cost as much as serving a cached tile (a timer, three
// request copies and contexts, the route's vars map): the tile handler
// sets the timeout itself when the tile has to be rendered. It reports
// false, leaving the request to the router, for anything but GET or HEAD
// of a tile path.
func (s *Server) serveTile(w http.ResponseWriter, r *http.Request) bool {
	if s.tileH == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !isTilePath(r.URL.Path) {
		return false
	}
	if s.routeGate(w, r, tileRouteKey) {
		s.tileH.ServeHTTP(w, r)
	}
	return true
}

// tileRouteKey is the tile route's key in the API table.
const tileRouteKey = "GET /tiles/{layer}/{z}/{x}/{y}.mvt"

// isTilePath reports a path of the form /tiles/{layer}/{z}/{x}/{y}.mvt with
// four non-empty segments (what the mux template matched); the segments
// are validated by tiles.ParsePath.
func isTilePath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/tiles/")
	if !ok || !strings.HasSuffix(rest, ".mvt") {
		return false
	}
	n, last := 0, -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			if i == last+1 {
				return false
			}
			n, last = n+1, i
		}
	}
	return n == 3 && last > 0 && len(rest)-last-1 > len(".mvt")
}

func (s *Server) tileRenderer() (*tiles.Renderer, error) {
	if s.deps.Tiles == nil {
		return nil, fmt.Errorf("%w: vector tiles are not configured", errUnavailable)
	}
	return s.deps.Tiles, nil
}

// requestBase returns scheme://host of the tile URLs and whether it may be
// cached by shared caches: Options.PublicBaseURL when configured (cacheable),
// else the request's own (X-Forwarded-Proto and X-Forwarded-Host believed
// only from Options.TrustedProxies; not cacheable, as Host is the
// client's word).
func (s *Server) requestBase(r *http.Request) (string, bool) {
	if s.baseURL != "" {
		return s.baseURL, true
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && s.trustedProxy(h) {
		if p := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto"))); p == "https" || p == "http" {
			scheme = p
		}
		if fh := strings.TrimSpace(r.Header.Get("X-Forwarded-Host")); validHost(fh) {
			host = fh
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host, false
}

// validHost accepts a host[:port] of letters, digits, dots, hyphens,
// colons and brackets (IPv6), at most 255 bytes.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request) error {
	tr, err := s.tileRenderer()
	if err != nil {
		return err
	}
	layer := mux.Vars(r)["layer"]
	base, cacheable := s.requestBase(r)
	url := base + "/tiles/" + layer + "/{z}/{x}/{y}.mvt"
	if q := r.URL.RawQuery; q != "" {
		if _, err := queryFilter(r); err != nil {
			return err
		}
		url += "?" + q
	}
	tj, err := tr.TileJSON(layer, url)
	if err != nil {
		return err
	}
	if cacheable {
		w.Header().Set("Cache-Control", "public, max-age=60")
	} else {
		w.Header().Set("Cache-Control", "private, max-age=60")
		w.Header().Add("Vary", "Host, X-Forwarded-Host, X-Forwarded-Proto")
	}
	writeJSON(w, http.StatusOK, tj)
	return nil
}

// acceptsGzip reports whether the Accept-Encoding values allow gzip
// (q > 0). It does not allocate.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for v != "" {
			var part string
			part, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(part, ";")
			name = strings.TrimSpace(name)
			if !strings.EqualFold(name, "gzip") && name != "*" {
				continue
			}
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				k, q, _ := strings.Cut(p, "=")
				if strings.TrimSpace(k) != "q" {
					continue
				}
				if f, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// etagMatch reports whether the If-None-Match values list one of the tags
// (or *). It does not allocate.
func etagMatch(values []string, tags ...string) bool {
	for _, v := range values {
		for v != "" {
			var h string
			h, v, _ = strings.Cut(v, ",")
			h = strings.TrimPrefix(strings.TrimSpace(h), "W/")
			if h == "*" {
				return true
			}
			for _, t := range tags {
				if h == t {
					return true
				}
			}
		}
	}
	return false
}

// tileHandler serves /tiles/{layer}/{z}/{x}/{y}.mvt. The constant header
// values are built once; a cached tile is served with two small
// allocations (its ETag and Content-Length values) besides net/http's own.
type tileHandler struct {
	s                             *Server
	cacheControl, vary, mvt, gzip []string
}

func (h *tileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.serve(w, r); err != nil {
		h.s.writeError(w, r, err)
	}
}

func (h *tileHandler) serve(w http.ResponseWriter, r *http.Request) error {
	tr, err := h.s.tileRenderer()
	if err != nil {
		return err
	}
	// Coordinates are checked before anything else is looked at.
	layer, z, x, y, err := tiles.ParsePath(r.URL.Path, tr.Options().MaxZoom)
	if err != nil {
		return err
	}
	var f geo.Filter
	if r.URL.RawQuery != "" {
		if f, err = queryFilter(r); err != nil {
			return err
		}
	}
	q := tiles.Query{Filter: f}
	t, ok := tr.Cached(layer, z, x, y, q)
	if !ok {
		ctx, cancel := context.WithTimeout(r.Context(), h.s.opts.RequestTimeout)
		defer cancel()
		if t, err = tr.Tile(ctx, layer, z, x, y, q); err != nil {
			return err
		}
	}
	gz := !t.Empty() && acceptsGzip(r.Header["Accept-Encoding"])
	etag := t.ETag
	if gz {
		etag = t.GzipETag
	}
	hdr := w.Header()
	hdr["Cache-Control"] = h.cacheControl
	hdr["Vary"] = h.vary
	hdr["Etag"] = []string{etag}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && etagMatch(inm, t.ETag, t.GzipETag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if t.Empty() {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	body := t.Data
	hdr["Content-Type"] = h.mvt
	if gz {
		body = t.Gzip()
		hdr["Content-Encoding"] = h.gzip
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// webmapRoutes serves Deps.WebMap: index.html at / and every file under
// /webmap/.
func (s *Server) webmapRoutes(r *mux.Router) {
	if s.deps.WebMap == nil {
		return
	}
	files := http.FileServerFS(s.deps.WebMap)
	r.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, err := fs.ReadFile(s.deps.WebMap, "index.html")
		if err != nil {
			s.writeError(w, req, fmt.Errorf("%w: the web map has no index.html", errNotFound))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/webmap/").Handler(http.StripPrefix("/webmap/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Only existing files: a directory is not listed, a bad or
		// missing path is a JSON 404 (the path is not echoed).
		name := req.URL.Path
		if !fs.ValidPath(name) || name == "." {
			s.writeError(w, req, fmt.Errorf("%w: no such file in the web map", errNotFound))
			return
		}
		st, err := fs.Stat(s.deps.WebMap, name)
		if err != nil || !st.Mode().IsRegular() {
			s.writeError(w, req, fmt.Errorf("%w: no such file in the web map", errNotFound))
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, req)
	}))).Methods(http.MethodGet, http.MethodHead)
}
