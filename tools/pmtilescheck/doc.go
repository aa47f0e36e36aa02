// Package pmtilescheck checks marketgeo's PMTiles writer
// (tiles.Renderer.ExportPMTiles, tiles/pmtiles.go) against an independent
// reader: github.com/protomaps/go-pmtiles, the reference Go implementation
// of the format.
//
// The package has only tests. It is a module of its own (its own go.mod,
// with a replace directive pointing at the repository root) because
// go-pmtiles keeps its header and directory code in the same package as its
// cloud storage back ends: importing it pulls in ~827 packages (AWS, Azure
// and GCP SDKs, gRPC, OpenTelemetry, SQLite). Kept here, none of them enter
// the main module's go.mod, go.sum, build or binary, and the main module's
// `go test ./...` does not see this directory (a nested module is excluded
// from the pattern). CI runs it as a step of its own:
// .ci/steps/30-pmtiles.sh (`cd tools/pmtilescheck && go test ./...`).
//
// See docs/tiles.md, "PMTiles export".
package pmtilescheck
