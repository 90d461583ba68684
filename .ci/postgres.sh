#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on 127.0.0.1 (Debian's package).
# Usage: .ci/postgres.sh COMMAND...   (PHONLAP_TEST_DATABASE_URL is set for COMMAND)
set -euo pipefail
PORT="${PHONLAP_PG_PORT:-54329}"
DATA="${PHONLAP_PG_DATA:-/tmp/phonlap-pg-$PORT}"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "postgres: installing Debian's postgresql" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
      dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    else
      echo "postgres: PostgreSQL server is not installed (apt-get install postgresql)" >&2
      exit 1
    fi
  fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

BIN=$(pg_bin)
stop() { as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DATA"; }
stop
mkdir -p "$DATA"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
trap stop EXIT
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE phonlap_test" >/dev/null
echo "postgres: throwaway cluster on 127.0.0.1:$PORT" >&2
export PHONLAP_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/phonlap_test"
"$@"
