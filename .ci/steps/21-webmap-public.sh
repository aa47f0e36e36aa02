#!/usr/bin/env bash
# Browser test of the public profile's web map (issue 16): the page that
# `serve --profile public` hands out calls only the routes that profile's
# OpenAPI document lists, shows no internal field and answers "is this
# address in the FTZ?" as /api/v1/zones does (webapp/test/public.test.mjs).
# Needs what 20-webmap.sh installed (chromium, CJK fonts, node modules).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="${WEBMAP_OUT:-$root/out/webmap-public}"
mkdir -p "$out"
port="${WEBMAP_PUBLIC_PORT:-18385}"
. .ci/lib/webmap-server.sh
webmap_deps
start_marketgeo "$out" "$port" --profile public

cd webapp
BASE_URL="http://127.0.0.1:$port" OUT_DIR="$out" CHROMIUM=/usr/bin/chromium timeout 600 node test/public.test.mjs
