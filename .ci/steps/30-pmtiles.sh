#!/usr/bin/env bash
# PMTiles oracle: exports archives with our own writer (tiles/pmtiles.go)
# and reads them back with github.com/protomaps/go-pmtiles (header,
# metadata, root and leaf directories, every tile's bytes, `pmtiles verify`).
# tools/pmtilescheck is a module of its own so that go-pmtiles and its ~800
# dependencies (cloud SDKs) stay out of the main module: the root's
# `go vet ./...` and `go test ./...` do not enter it, so it is vetted and
# tested here.
set -euo pipefail
cd "$(dirname "$0")/../../tools/pmtilescheck"
go vet ./...
go test -count=1 ./...
