# Sourced by the web map's browser-test steps (.ci/steps/2x-webmap*.sh):
# start_marketgeo OUT PORT [serve flags…] builds marketgeo into OUT, starts
# `serve` on a fresh store in OUT (the store and its saved indexes,
# store.gpkg.search/, removed first: never the user's default store) on
# 127.0.0.1:PORT with the log in OUT/server.log, stops it when the step
# exits, and returns once /healthz answers (the log is printed if the server
# dies first). Sets pid.
start_marketgeo() {
  local out=$1 port=$2
  shift 2
  go build -o "$out/marketgeo" ./cmd/marketgeo
  rm -rf "$out"/store.gpkg*
  "$out/marketgeo" serve "$@" --addr "127.0.0.1:$port" --store "$out/store.gpkg" >"$out/server.log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
    sleep 0.5
  done
  echo "marketgeo did not answer /healthz on port $port within 60 s"; cat "$out/server.log"; exit 1
}
