package server

import "github.com/gorilla/mux"

// zoneRoutes registers the zone endpoints (none yet).
func (s *Server) zoneRoutes(r *mux.Router) { _ = r }
