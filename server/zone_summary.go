package server

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/geo"
)

// zoneSummary: GET /api/v1/zones/{id}/summary → a zone of any layer (an
// FTZ area, a district, a street, a grid) with the number of entities
// inside it by risk class: what the web map's area card shows. The counts
// are the geo index's Within totals (one query a class), so they add up to
// what a polygon query over the zone returns.
func (s *Server) zoneSummary(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	snap := s.deps.Index.Snapshot()
	z, ok := snap.Zone(id)
	if !ok {
		return &notFoundError{what: "zone " + id}
	}
	byRisk := map[string]int{}
	total := 0
	for _, rk := range []geo.Risk{geo.RiskA, geo.RiskB, geo.RiskC, geo.RiskD} {
		res, err := snap.Within(r.Context(), geo.LayerEntities, z.Geometry, geo.Query{Limit: 1, Filter: geo.Filter{Risk: []geo.Risk{rk}}})
		if err != nil {
			return err
		}
		byRisk[string(rk)] = res.Total
		total += res.Total
	}
	all, err := snap.Within(r.Context(), geo.LayerEntities, z.Geometry, geo.Query{Limit: 1})
	if err != nil {
		return err
	}
	if n := all.Total - total; n > 0 {
		byRisk["unrated"] = n
	}
	zone := map[string]any{"id": z.ID, "layer": z.Layer, "name": z.Name}
	for k, v := range z.Props {
		if _, taken := zone[k]; !taken {
			zone[k] = v
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"zone": zone, "entities": all.Total, "by_risk": byRisk})
	return nil
}
