// Package server is marketgeo's HTTP API as an [http.Handler] that any Go
// program can mount; it never listens itself (cmd/marketgeo does).
//
//	idx, _ := geo.New(geo.Options{})
//	h, _ := server.New(server.Deps{Index: idx}, server.Options{})
//	http.ListenAndServe("127.0.0.1:8080", h)
//
// Every error is JSON, {"error": "..."}, with a 4xx status for bad input
// (see problem.go for the mapping from the library's sentinel errors).
// Coordinates are WGS-84 unless a request says crs=gcj02 or crs=bd09; the
// conversion applies to the input point and to the output coordinates.
package server
