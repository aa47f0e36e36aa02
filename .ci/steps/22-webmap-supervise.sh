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

. .ci/lib/webmap-server.sh
webmap_deps

# fresh random tokens: the clerk (write) and the field inspector's login
clerk=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
field=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
install -m 600 /dev/null "$out/tokens"
printf 'write clerk %s\nwrite field-inspector %s\n' "$clerk" "$field" >"$out/tokens"
start_marketgeo "$out" "$port" --tokens "$out/tokens"
wait_demo_records "$out"

cd webapp
BASE_URL="http://127.0.0.1:$port" OUT_DIR="$out" CLERK_TOKEN="$clerk" FIELD_TOKEN="$field" FIELD_NAME=field-inspector \
  CHROMIUM=/usr/bin/chromium timeout 900 node test/supervise.test.mjs
