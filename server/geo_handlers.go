package server

import (
	"net/http"
	"time"

	"github.com/marketgeo/marketgeo/geo"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	snap := s.deps.Index.Snapshot()
	c := snap.Counts()
	writeJSON(w, http.StatusOK, map[string]any{
		"status":      "ok",
		"entities":    c.Entities,
		"buildings":   c.Buildings,
		"places":      c.Places,
		"zones":       c.Zones,
		"zone_layers": c.ZoneLayer,
		"addresses":   s.addrDB.Load() != nil,
		"search":      searchHealth(s.deps.Search),
		"version":     snap.Version(),
		"uptime_s":    int(time.Since(s.started).Seconds()),
	})
	return nil
}

// nearby: GET /api/v1/nearby?lon=&lat=&radius=&layer=&limit=&industry=&risk=&status=&kind=&crs=
// or ?place=<text>&… (the centre is the best search hit; see search_routes.go);
// fields=, format=ids and count_only=true choose the answer's shape (render.go).
func (s *Server) nearby(w http.ResponseWriter, r *http.Request) error {
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	layer, err := queryLayer(r, geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings)
	if err != nil {
		return err
	}
	opts := s.deps.Index.Options()
	radius, err := queryFloat(r, "radius", 200, false)
	if err != nil {
		return err
	}
	if radius <= 0 || radius > opts.MaxRadiusM {
		return badParam("radius=%v must be > 0 and ≤ %v metres", radius, opts.MaxRadiusM)
	}
	limit, err := queryInt(r, "limit", opts.DefaultLimit, 1, opts.MaxLimit)
	if err != nil {
		return err
	}
	filter, err := queryFilter(r)
	if err != nil {
		return err
	}
	hr, err := s.queryHitsRequest(r, c)
	if err != nil {
		return err
	}
	center, placeCenter, err := s.nearbyCenter(r, c)
	if err != nil {
		return err
	}
	q := geo.Query{Limit: limit, Filter: filter}
	if hr.format == formatCount {
		q.Limit = 1 // Total counts every match whatever the limit
	}
	res, err := s.deps.Index.Nearby(r.Context(), layer, center, radius, q)
	if err != nil {
		return err
	}
	if hr.format == formatCount {
		res.Truncated = res.Total > limit
	}
	extra := []member{{"radius_m", radius}}
	if placeCenter != nil {
		extra = append(extra, member{"center", placeCenter})
	}
	writeResult(w, r, hr, res, true, extra...)
	return nil
}

// knearest: GET /api/v1/knearest?lon=&lat=&k=&layer=&…&crs= (and fields=,
// format=, count_only= as nearby)
func (s *Server) knearest(w http.ResponseWriter, r *http.Request) error {
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	layer, err := queryLayer(r, geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings)
	if err != nil {
		return err
	}
	k, err := queryInt(r, "k", 10, 1, s.deps.Index.Options().MaxLimit)
	if err != nil {
		return err
	}
	filter, err := queryFilter(r)
	if err != nil {
		return err
	}
	hr, err := s.queryHitsRequest(r, c)
	if err != nil {
		return err
	}
	center, err := queryPoint(r, c)
	if err != nil {
		return err
	}
	res, err := s.deps.Index.KNearest(r.Context(), layer, center, k, geo.Query{Filter: filter})
	if err != nil {
		return err
	}
	writeResult(w, r, hr, res, true)
	return nil
}

type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return e.what + " not found" }
func (e *notFoundError) Unwrap() error { return errNotFound }
