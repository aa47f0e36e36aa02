#!/usr/bin/env bash
# Browser test of supervision on the web map (issue 19, item 6): the
# inspector's phone (390x844) and the office console (1400x900) on a
# server with tokens (a clerk's write token and a field inspector's).
# Debian's chromium driven by playwright-core (as 20-webmap.sh). Output
# (screenshots sup-*.png, the server log) in $WEBMAP_OUT/supervise.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="${WEBMAP_OUT:-$root/out/webmap}/supervise"
mkdir -p "$out"
port="${WEBMAP_SUPERVISE_PORT:-18386}"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'CJK' || need+=(fonts-noto-cjk)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -d webapp/node_modules/playwright-core ] || (cd webapp && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

go build -o "$out/marketgeo" ./cmd/marketgeo
rm -rf "$out"/store.gpkg*
# fresh random tokens: the clerk (write) and the field inspector's login
clerk=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
field=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
install -m 600 /dev/null "$out/tokens"
printf 'write clerk %s\nwrite field-inspector %s\n' "$clerk" "$field" >"$out/tokens"
"$out/marketgeo" serve --addr "127.0.0.1:$port" --store "$out/store.gpkg" --tokens "$out/tokens" >"$out/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 240); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.5
done
# the first start imports the demo departments' records (the entity
# profile's records and the risk reasons the test compares): wait for it
for _ in $(seq 1 900); do
  grep -q "demo records imported" "$out/server.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.5
done

cd webapp
BASE_URL="http://127.0.0.1:$port" OUT_DIR="$out" CLERK_TOKEN="$clerk" FIELD_TOKEN="$field" FIELD_NAME=field-inspector \
  CHROMIUM=/usr/bin/chromium timeout 900 node test/supervise.test.mjs
