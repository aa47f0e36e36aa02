package server

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/marketgeo/marketgeo/zoneid"
)

// zoneRoutes registers the zone endpoints (answers 503 without Deps.Zones):
//
//	GET  /api/v1/zones?lon=&lat=&crs=  or  ?address=
//	POST /api/v1/zones/batch            up to 100,000 points → NDJSON
//	GET  /api/v1/grids/{id}/summary
//	GET  /api/v1/zones/{id}/summary     any zone: entities inside by risk class (zone_summary.go)
//	GET  /api/v1/rules
//	POST /api/v1/rules/check
//	GET  /api/v1/rules/violations?rule=&limit=&crs=
func (s *Server) zoneRoutes(r *mux.Router) {
	r.HandleFunc("/zones", s.handle(s.zonesAt)).Methods(http.MethodGet)
	r.HandleFunc("/zones/batch", s.handle(s.zonesBatch)).Methods(http.MethodPost)
	r.HandleFunc("/grids/{id}/summary", s.handle(s.gridSummary)).Methods(http.MethodGet)
	r.HandleFunc("/zones/{id}/summary", s.handle(s.zoneSummary)).Methods(http.MethodGet)
	r.HandleFunc("/rules", s.handle(s.rulesList)).Methods(http.MethodGet)
	r.HandleFunc("/rules/check", s.handle(s.rulesCheck)).Methods(http.MethodPost)
	r.HandleFunc("/rules/violations", s.handle(s.rulesViolations)).Methods(http.MethodGet)
}

func (s *Server) zones() (*zoneid.Identifier, error) {
	if s.deps.Zones == nil {
		return nil, fmt.Errorf("%w: zone identification is not configured", errUnavailable)
	}
	return s.deps.Zones, nil
}
