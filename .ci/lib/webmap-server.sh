# Sourced by the web map's browser-test steps (.ci/steps/2x-webmap*.sh).

# webmap_deps installs what the browser tests need when missing: Debian's
# chromium, CJK fonts, node and npm (no browser is ever downloaded), and
# webapp's node modules (playwright-core).
webmap_deps() {
  local need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  fc-list 2>/dev/null | grep -qi 'CJK' || need+=(fonts-noto-cjk)
  command -v node >/dev/null 2>&1 || need+=(nodejs npm)
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  [ -d webapp/node_modules/playwright-core ] ||
    (cd webapp && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

# start_marketgeo OUT PORT [serve flags…] builds marketgeo into OUT, starts
# `serve` on a fresh store in OUT (the store and its saved indexes,
# store.gpkg.search/, removed first: never the user's default store) on
# 127.0.0.1:PORT with the log in OUT/server.log, stops it when the step
# exits, and returns once /healthz answers (within 120 s; the log is
# printed if the server dies first). Sets pid.
start_marketgeo() {
  local out=$1 port=$2
  shift 2
  go build -o "$out/marketgeo" ./cmd/marketgeo
  rm -rf "$out"/store.gpkg*
  "$out/marketgeo" serve "$@" --addr "127.0.0.1:$port" --store "$out/store.gpkg" >"$out/server.log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 240); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
    sleep 0.5
  done
  echo "marketgeo did not answer /healthz on port $port within 120 s"; cat "$out/server.log"; exit 1
}

# wait_demo_records OUT waits (up to 450 s) until the server started by
# start_marketgeo has imported the demo departments' tables: the first start
# imports them after search and the address database are ready, and the
# risk engine re-rates entities from their records, so a test comparing
# the map with the API waits for the import (and then for a still index).
wait_demo_records() {
  local out=$1
  for _ in $(seq 1 900); do
    grep -q "demo records imported" "$out/server.log" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
    sleep 0.5
  done
  echo "the demo records were not imported within 450 s"; cat "$out/server.log"; exit 1
}
