#!/usr/bin/env bash
# Runs every parser's fuzz target for a short time (FUZZTIME, default 6s each):
# address normaliser and parser, CSV/GeoJSON loaders, the bulk write decoder, CSV chunking, tile paths, batch input,
# rules files, search queries, CRS round trips, the JSON string writer. A crash fails CI and leaves
# the failing input under the package's testdata/fuzz/ for a regression test.
#
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded" when -fuzztime
# expires while a worker is still busy (golang/go#75804, fixed in Go 1.27): no input failed
# and nothing is written. Minimising each new interesting input is capped at 1s (the default,
# 60s, keeps workers busy past the deadline and widens that window), and a run that fails with
# only that message is retried, at most twice. Any other failure, or a written failing input,
# fails at once.
set -euo pipefail
cd "$(dirname "$0")/../.."
t="${FUZZTIME:-6s}"
log=/tmp/fuzz.$$.log
trap 'rm -f "$log"' EXIT

# bare_deadline LOG: true when the run's only complaint is the coordinator's deadline race.
bare_deadline() {
	grep -q '^    context deadline exceeded$' "$1" &&
		! grep -q 'Failing input written to\|panic:\|_test.go:[0-9]' "$1"
}

run() {
	local attempt
	for attempt in 1 2 3; do
		echo "-- fuzz $1 $2 ($t, attempt $attempt)"
		if go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$t" -fuzzminimizetime 1s >"$log" 2>&1; then
			tail -1 "$log"
			return 0
		fi
		if ! bare_deadline "$log"; then
			cat "$log"
			exit 1
		fi
		echo "   (coordinator deadline race, golang/go#75804; no failing input: retrying)"
	done
	cat "$log"
	echo "fuzz $2: the deadline race three times in a row; treating as a failure" >&2
	exit 1
}

run ./addressmatch FuzzNormalize
run ./addressmatch FuzzParse
run ./addressmatch FuzzCheck
run ./geo FuzzReadEntitiesCSV
run ./geo FuzzCSVChunks
run ./geo FuzzReadGeoJSON
run ./store FuzzDecodeBulk
run ./geo/crs FuzzRoundTrip
run ./internal/cntext FuzzParseNumber
run ./tiles FuzzParsePath
run ./server FuzzParseBatch
run ./server FuzzDecimalNumber
run ./tiles FuzzFilterMVT
run ./zoneid FuzzParseRules
run ./search FuzzParse
run ./search FuzzCodeKind
run ./exchange FuzzCleanCode
run ./exchange FuzzReadTable
run ./exchange FuzzParseDate
run ./exchange FuzzParseMapping
run ./exchange FuzzRowReader
run ./geojsonw FuzzAppendString
run ./store/postgres FuzzDecodeCopy
run ./supervise FuzzSpotCheckRequest
run ./supervise FuzzComplaintRequest
run ./supervise FuzzTaskRequest
run ./supervise FuzzIncidentRequest
run ./supervise FuzzVerifyRequest
run ./risk FuzzParseRules
