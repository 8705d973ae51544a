#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server: install Debian's postgresql if missing,
# initialize a cluster in a temporary directory, start it on 127.0.0.1 at a free port, export
# LAMINA_TEST_POSTGRES_URL for the tests, run "$@", then stop the server and remove the cluster.
# usage: bash .ci/with-postgres.sh make test
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PGBIN="$(find_bin)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  PGBIN="$(find_bin)"
fi

# initdb refuses to run as root: run the server as the postgres user when we are root
if [ "$(id -u)" -eq 0 ]; then
  as_db() { runuser -u postgres -- "$@"; }
  DB_USER=postgres
else
  as_db() { "$@"; }
  DB_USER="$(id -un)"
fi

CLUSTER="$(mktemp -d /tmp/lamina-postgres.XXXXXX)"
[ "$(id -u)" -ne 0 ] || chown postgres "$CLUSTER"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

stop_cluster() {
  as_db "$PGBIN/pg_ctl" -D "$CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER"
}
trap stop_cluster EXIT

as_db "$PGBIN/initdb" -D "$CLUSTER/data" -U "$DB_USER" -A trust >"$CLUSTER/initdb.log" 2>&1 \
  || { cat "$CLUSTER/initdb.log" >&2; exit 1; }
as_db "$PGBIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $CLUSTER -c fsync=off" start >/dev/null \
  || { cat "$CLUSTER/server.log" >&2; exit 1; }
as_db "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" lamina_test

export LAMINA_TEST_POSTGRES_URL="postgresql+psycopg2://$DB_USER@127.0.0.1:$PORT/lamina_test"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') at $LAMINA_TEST_POSTGRES_URL" >&2
"$@"
