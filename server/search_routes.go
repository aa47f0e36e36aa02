package server

import "github.com/gorilla/mux"

// searchRoutes registers the search endpoints (none yet).
func (s *Server) searchRoutes(r *mux.Router) { _ = r }
