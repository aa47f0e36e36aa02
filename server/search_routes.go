package server

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/geojsonw"
	"github.com/marketgeo/marketgeo/search"
	"github.com/paulmach/orb"
)

// searchRoutes registers the search endpoint (503 without Deps.Search or
// while the index builds):
//
//	GET /api/v1/search?q=&layer=entities|places|buildings|zones|all&limit=&lon=&lat=&radius=&crs=&fields=&format=&count_only=
//
// nearby?place= is served by nearby (geo_handlers.go) through nearbyCenter.
func (s *Server) searchRoutes(r *mux.Router) {
	r.HandleFunc("/search", s.handle(s.search)).Methods(http.MethodGet)
}

// unavailableError is a 503 whose message is shown as is.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }
func (e *unavailableError) Unwrap() error { return errUnavailable }

// searchIndex returns the search index, or a 503 error when it is absent
// or still building.
func (s *Server) searchIndex() (*search.Index, error) {
	if s.deps.Search == nil {
		return nil, &unavailableError{"search is not configured"}
	}
	if !s.deps.Search.Ready() {
		return nil, &unavailableError{"search index is still building"}
	}
	return s.deps.Search, nil
}

// searchHealth is the search member of /healthz.
func searchHealth(idx *search.Index) map[string]any {
	if idx == nil {
		return map[string]any{"configured": false, "ready": false}
	}
	st := idx.Stats()
	m := map[string]any{"configured": true, "ready": st.Ready, "docs": st.Docs}
	if st.Ready {
		m["build_ms"] = st.BuildTime.Milliseconds()
	}
	if st.Err != "" {
		m["error"] = st.Err
	}
	return m
}

// querySearchLayers reads layer= (comma-separated; all or empty: every layer).
func querySearchLayers(r *http.Request) ([]geo.Layer, error) {
	var out []geo.Layer
	for _, v := range queryList(r, "layer") {
		if v == "all" {
			return nil, nil
		}
		switch l := geo.Layer(v); l {
		case geo.LayerEntities, geo.LayerPlaces, geo.LayerBuildings, geo.LayerZones:
			out = append(out, l)
		default:
			return nil, badParam("layer=%q: want entities, places, buildings, zones or all", v)
		}
	}
	return out, nil
}

// queryOptionalPoint reads lon= and lat= when either is given.
func queryOptionalPoint(r *http.Request, c crs.CRS) (*orb.Point, error) {
	if query(r).Get("lon") == "" && query(r).Get("lat") == "" {
		return nil, nil
	}
	p, err := queryPoint(r, c)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// search: GET /api/v1/search?q=&layer=&limit=&lon=&lat=&radius=&crs=
func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	c, err := queryCRS(r)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(query(r).Get("q"))
	if text == "" {
		return badParam("q is required")
	}
	if len(text) > 256 {
		return badParam("q is longer than 256 bytes")
	}
	layers, err := querySearchLayers(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 10, 1, 100)
	if err != nil {
		return err
	}
	center, err := queryOptionalPoint(r, c)
	if err != nil {
		return err
	}
	radius, err := queryFloat(r, "radius", 0, false)
	if err != nil {
		return err
	}
	if radius != 0 && center == nil {
		return badParam("radius needs lon and lat")
	}
	if radius < 0 || radius > 50000 {
		return badParam("radius=%v must be ≥ 0 and ≤ 50000 metres", radius)
	}
	hr, err := s.queryHitsRequest(r, c)
	if err != nil {
		return err
	}
	idx, err := s.searchIndex()
	if err != nil {
		return err
	}
	hits, err := idx.Search(r.Context(), search.Query{Text: text, Layers: layers, Limit: limit, Center: center, RadiusM: radius})
	if err != nil {
		return err
	}
	shown := hits[:0:0] // the hits with a feature (all, normally)
	for i := range hits {
		if f := &hits[i].Feature; f.Entity != nil || f.Building != nil || f.Place != nil || f.Zone != nil {
			shown = append(shown, hits[i])
		}
	}
	members := []member{{"query", text}, {"total", len(shown)}, {"crs", string(c)}}
	if radius > 0 {
		members = append(members, member{"radius_m", radius})
	}
	writeHits(w, r, hr, len(shown), func(i int) (*geo.Hit, geojsonw.Extra) {
		h := &shown[i]
		return &h.Feature, geojsonw.Extra{Distance: center != nil, Search: true, Score: h.Score, Layer: h.Layer, Match: h.Match}
	}, members...)
	return nil
}

// nearbyCenter returns the centre of a nearby query: lon= and lat=, or the
// feature search.Index.Place resolves place= to (its placing policy), with
// the center member describing it. lon/lat given with place rank the
// candidates by distance.
func (s *Server) nearbyCenter(r *http.Request, c crs.CRS) (orb.Point, map[string]any, error) {
	place := strings.TrimSpace(query(r).Get("place"))
	if place == "" {
		p, err := queryPoint(r, c)
		return p, nil, err
	}
	if len(place) > 256 {
		return orb.Point{}, nil, badParam("place is longer than 256 bytes")
	}
	near, err := queryOptionalPoint(r, c)
	if err != nil {
		return orb.Point{}, nil, err
	}
	idx, err := s.searchIndex()
	if err != nil {
		return orb.Point{}, nil, err
	}
	best, err := idx.Place(r.Context(), place, near)
	if err != nil {
		return orb.Point{}, nil, err
	}
	loc := best.Feature.Location()
	out := project(loc, c).(orb.Point)
	return loc, map[string]any{
		"id":       best.ID,
		"name":     best.Name,
		"layer":    string(best.Layer),
		"location": []float64{out[0], out[1]},
		"score":    best.Score,
		"match":    best.Match,
	}, nil
}
