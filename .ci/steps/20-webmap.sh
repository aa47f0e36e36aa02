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

. .ci/lib/webmap-server.sh
webmap_deps

start_marketgeo "$out" "$port"
wait_demo_records "$out"

cd webapp
BASE_URL="http://127.0.0.1:$port" OUT_DIR="$out" CHROMIUM=/usr/bin/chromium timeout 1200 node test/browser.test.mjs
