#!/usr/bin/env bash
# The example programs (examples/*): each is a main package that embeds the
# library and, with -check, runs to completion and verifies its own answers
# (no listening). A failing example fails CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
for dir in examples/*/; do
  name=$(basename "$dir")
  [ -n "$(ls "$dir"*.go 2>/dev/null)" ] || continue
  echo "-- examples/$name"
  timeout 300 go run "./examples/$name" -check
done
