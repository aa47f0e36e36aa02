#!/usr/bin/env bash
# Runs every parser's fuzz target for a short time (FUZZTIME, default 6s each):
# address normaliser and parser, CSV/GeoJSON loaders, CSV chunking, tile paths, batch input,
# rules files, search queries, CRS round trips. A crash fails CI and leaves
# the failing input under the package's testdata/fuzz/ for a regression test.
set -euo pipefail
cd "$(dirname "$0")/../.."
t="${FUZZTIME:-6s}"
run() { echo "-- fuzz $1 $2 ($t)"; go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$t" > /tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; exit 1; }; tail -1 /tmp/fuzz.$$.log; }
run ./addressmatch FuzzNormalize
run ./addressmatch FuzzParse
run ./geo FuzzReadEntitiesCSV
run ./geo FuzzCSVChunks
run ./geo FuzzReadGeoJSON
run ./geo/crs FuzzRoundTrip
run ./internal/cntext FuzzParseNumber
run ./tiles FuzzParsePath
run ./server FuzzParseBatch
run ./zoneid FuzzParseRules
run ./search FuzzParse
rm -f /tmp/fuzz.$$.log
