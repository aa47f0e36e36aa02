package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/tiles"
)

// tileRoutes registers the vector-tile endpoints and, when Deps.WebMap is
// set, the web map at / and its assets under /webmap/.
//
//	GET /tiles/{layer}.json              TileJSON 3.0.0
//	GET /tiles/{layer}/{z}/{x}/{y}.mvt   Mapbox Vector Tile (gzip when accepted)
func (s *Server) tileRoutes(r *mux.Router) {
	r.HandleFunc("/tiles/{layer}.json", s.handle(s.tileJSON)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/tiles/{layer}/{z}/{x}/{y}.mvt", s.handle(s.tile)).Methods(http.MethodGet, http.MethodHead)
	s.webmapRoutes(r)
}

// tileErr maps the errors of package tiles onto the server's error table.
func tileErr(err error) error {
	switch {
	case errors.Is(err, tiles.ErrUnknownLayer):
		return fmt.Errorf("%w: %v", errNotFound, err)
	case errors.Is(err, tiles.ErrOutOfRange), errors.Is(err, tiles.ErrInvalidFilter):
		return fmt.Errorf("%w: %v", errBadParam, err)
	case errors.Is(err, tiles.ErrClosed):
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	return err
}

func (s *Server) tileRenderer() (*tiles.Renderer, error) {
	if s.deps.Tiles == nil {
		return nil, fmt.Errorf("%w: vector tiles are not configured", errUnavailable)
	}
	return s.deps.Tiles, nil
}

// requestBase returns scheme://host of the request, honouring
// X-Forwarded-Proto for a TLS-terminating proxy.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request) error {
	tr, err := s.tileRenderer()
	if err != nil {
		return err
	}
	layer := mux.Vars(r)["layer"]
	url := requestBase(r) + "/tiles/" + layer + "/{z}/{x}/{y}.mvt"
	if q := r.URL.RawQuery; q != "" {
		if _, err := queryFilter(r); err != nil {
			return err
		}
		url += "?" + q
	}
	tj, err := tr.TileJSON(layer, url)
	if err != nil {
		return tileErr(err)
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, tj)
	return nil
}

// acceptsGzip reports whether Accept-Encoding allows gzip (q > 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// etagMatch reports whether If-None-Match lists one of the tags (or *).
func etagMatch(header string, tags ...string) bool {
	if header == "" {
		return false
	}
	for _, h := range strings.Split(header, ",") {
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
	return false
}

func (s *Server) tile(w http.ResponseWriter, r *http.Request) error {
	tr, err := s.tileRenderer()
	if err != nil {
		return err
	}
	v := mux.Vars(r)
	// Coordinates are checked before anything else is looked at.
	z, x, y, err := tiles.ParseZXY(v["z"], v["x"], v["y"], tr.Options().MaxZoom)
	if err != nil {
		return tileErr(err)
	}
	f, err := queryFilter(r)
	if err != nil {
		return err
	}
	t, err := tr.Tile(r.Context(), v["layer"], z, x, y, tiles.Query{Filter: f})
	if err != nil {
		return tileErr(err)
	}
	gz := acceptsGzip(r) && !t.Empty()
	etag := t.ETag
	if gz {
		etag = strings.TrimSuffix(t.ETag, `"`) + `-gz"`
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=60, stale-while-revalidate=300")
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), t.ETag, strings.TrimSuffix(t.ETag, `"`)+`-gz"`) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if t.Empty() {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	body := t.Data
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if gz {
		body = t.Gzip()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
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
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, req)
	}))).Methods(http.MethodGet, http.MethodHead)
}
