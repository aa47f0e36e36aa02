package server

import "github.com/gorilla/mux"

// extraRoutes registers the routes of the optional engines. Each engine's
// routes live in their own file (search_routes.go, zone_routes.go,
// tile_routes.go) so that they can grow independently.
func (s *Server) extraRoutes(api *mux.Router) {
	s.searchRoutes(api)
	s.zoneRoutes(api)
	s.tileRoutes(s.router)
}
