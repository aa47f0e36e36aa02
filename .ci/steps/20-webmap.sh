#!/usr/bin/env bash
# Browser test of the web map (issues 6 and 21): Debian's chromium driven by
# playwright-core from npm; no browser is ever downloaded. Starts the server
# on the demo region on a loopback port, runs webapp/test, saves
# screenshots (the CI artefacts: desktop-NN-*.png and phone-NN-*.png) and the
# server log under out/webmap/, and fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="${WEBMAP_OUT:-$root/out/webmap}"
mkdir -p "$out"
port="${WEBMAP_PORT:-18384}"

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

(cd webapp && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

. .ci/lib/webmap-server.sh
start_marketgeo "$out" "$port"
# The first start imports the demo departments' tables after search and the
# address database are ready, and the risk engine re-rates entities from
# their records: wait for the import (the test then waits for the index to
# be still), so that the tiles and the test's oracles see the same data.
for _ in $(seq 1 900); do
  grep -q "demo records imported" "$out/server.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.5
done

cd webapp
BASE_URL="http://127.0.0.1:$port" OUT_DIR="$out" CHROMIUM=/usr/bin/chromium timeout 1200 node test/browser.test.mjs
