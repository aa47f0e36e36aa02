package server

import "github.com/gorilla/mux"

// tileRoutes registers the tile endpoints (none yet).
func (s *Server) tileRoutes(r *mux.Router) { _ = r }
