#!/usr/bin/env bash
# A full disk under a running server (issue 13): the store on a 64 MiB tmpfs,
# filled up while the server runs. Writes must answer 503 with a clear
# error and change nothing, reads go on, and once space is back writes work
# again with the change log unbroken. Needs root (mount); skipped without.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
mnt="$dir/disk"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=64M tmpfs "$mnt" 2>/dev/null; then
  echo "skipped: cannot mount a tmpfs here (not root?)"
  exit 0
fi
port="${FULLDISK_PORT:-18396}"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; umount "$mnt" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
go build -o "$dir/marketgeo" ./cmd/marketgeo
"$dir/marketgeo" gen --entities 2000 --out "$dir/data" >/dev/null
# writes need a token (issue 16): one with scope write, kept out of the tmpfs
tok="full-disk-ci-token-$(date +%s%N)"
echo "write ci-writer $tok" >"$dir/tokens"
chmod 600 "$dir/tokens"
printf 'server:\n  rate_limit: -1\n' >"$dir/serve.yaml"   # the loop's curls may outrun the default limit
"$dir/marketgeo" serve --store "$mnt/mg.gpkg" --data "$dir/data" --addr "127.0.0.1:$port" --tokens "$dir/tokens" --config "$dir/serve.yaml" >"$dir/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $tok"
for _ in $(seq 1 120); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
id=$(curl -fsS -H "$auth" "$base/api/v1/knearest?lon=106.55&lat=29.65&k=1&format=ids" | sed 's/.*"ids":\["\([^"]*\)".*/\1/')
seqof() { curl -sS -H "$auth" -o /dev/null -D - "$base/api/v1/changes?limit=1" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-marketgeo-seq"{print $2}'; }
# fill the disk
dd if=/dev/zero of="$mnt/filler" bs=1M 2>/dev/null || true
dd if=/dev/zero of="$mnt/filler2" bs=4k 2>/dev/null || true
# writes may still fit in the WAL's free pages (then they are durable and
# answer 200); keep writing until the disk refuses one
big=$(head -c 8000 /dev/zero | tr '\0' x)
refused=""
for i in $(seq 1 300); do
  before=$(curl -fsS -H "$auth" "$base/api/v1/entities/$id")
  seq0=$(seqof)
  code=$(curl -sS -H "$auth" -o "$dir/out.json" -w '%{http_code}' -X PATCH "$base/api/v1/entities/$id" -d "{\"properties\":{\"short_name\":\"$i$big\"}}")
  case "$code" in
    200) continue ;;
    503) refused=$i; break ;;
    *) echo "write on a full disk answered $code: $(cat "$dir/out.json")"; exit 1 ;;
  esac
done
[ -n "$refused" ] || { echo "300 writes on a full disk all succeeded?"; df -h "$mnt"; exit 1; }
grep -q 'cannot write durably' "$dir/out.json" || { echo "503 without a clear error: $(cat "$dir/out.json")"; exit 1; }
curl -fsS -H "$auth" -o /dev/null "$base/api/v1/nearby?lon=106.55&lat=29.65&radius=200" || { echo "reads stopped on a full disk"; exit 1; }
[ "$(curl -fsS -H "$auth" "$base/api/v1/entities/$id")" = "$before" ] || { echo "a refused write changed the entity"; exit 1; }
seq1=$(seqof)
[ "$seq0" = "$seq1" ] || { echo "the sequence moved on a refused write: $seq0 -> $seq1"; exit 1; }
# space back: writes work, the log goes on without a gap
rm -f "$mnt/filler" "$mnt/filler2"
code=$(curl -sS -H "$auth" -o "$dir/out.json" -w '%{http_code}' -X PATCH "$base/api/v1/entities/$id" -d '{"properties":{"short_name":"after"}}')
[ "$code" = 200 ] || { echo "write after freeing space answered $code: $(cat "$dir/out.json")"; exit 1; }
seq2=$(seqof)
[ "$seq2" = "$((seq0 + 1))" ] || { echo "sequence after recovery $seq2, want $((seq0 + 1))"; exit 1; }
echo "ok: full disk → write $refused refused with 503 (state and sequence unchanged, reads served), writes resume at seq $seq2"
