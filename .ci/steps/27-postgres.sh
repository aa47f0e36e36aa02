#!/usr/bin/env bash
# Several marketgeo nodes over one PostgreSQL/PostGIS (issue 20): installs
# Debian's postgresql-15 and postgresql-15-postgis-3 when missing, starts a
# throw-away cluster on a loopback port as the postgres user, runs the
# PostgreSQL tests against it (required here: MARKETGEO_REQUIRE_POSTGRES=1
# turns their skip into a failure) and stops the cluster on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
PGBIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PGBIN/initdb" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  echo "installing postgresql-15 postgresql-15-postgis-3"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 >/dev/null
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDATA=$(mktemp -d /tmp/marketgeo-pg.XXXXXX)
PGPORT=${MARKETGEO_CI_PGPORT:-55432}
[ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
stop() { as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDATA"; }
trap stop EXIT
as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
# in postgresql.conf, so that the restart test's plain "pg_ctl start" keeps them
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$PGPORT" "$PGDATA" >> "$PGDATA/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w start >/dev/null
as_pg "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c 'CREATE DATABASE marketgeo' >/dev/null
as_pg "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d marketgeo -c 'CREATE EXTENSION postgis' >/dev/null
export MARKETGEO_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PGPORT/marketgeo?sslmode=disable"
export MARKETGEO_TEST_PGDATA="$PGDATA" MARKETGEO_REQUIRE_POSTGRES=1
go test -race -count=1 -timeout 10m ./store/postgres/ 2>&1 | tail -n 30
# three serve processes on the cluster, one SIGKILLed in a write stream
go test -count=1 -timeout 5m -run 'TestPostgresNodes' ./cmd/marketgeo/ 2>&1 | tail -n 30
