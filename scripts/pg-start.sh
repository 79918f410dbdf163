#!/usr/bin/env bash
# Starts a private, throw-away PostgreSQL server for tests and prints the environment to use it:
#   eval "$(bash scripts/pg-start.sh)"      # sets MEDFUND_TEST_PG_URL, MEDFUND_PG_DIR
#   bash scripts/pg-stop.sh                 # stops it and removes its files
# Installs Debian's postgresql package first when the server binaries are missing.
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing postgresql (Debian package)…" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDIR=$(mktemp -d /tmp/medfund-pg.XXXXXX)
# A free port: start from a base and skip ports in use.
PGPORT=${MEDFUND_PG_PORT:-55432}
while (echo >/dev/tcp/127.0.0.1/$PGPORT) 2>/dev/null; do PGPORT=$((PGPORT + 1)); done
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$PGDIR"
  RUNAS=(runuser -u postgres --)
fi
"${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U medfund --auth=trust -E UTF8 >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" \
  -l "$PGDIR/log" -w start >/dev/null
"${RUNAS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U medfund medfund_test
echo "export MEDFUND_TEST_PG_URL=postgres://medfund@127.0.0.1:$PGPORT/medfund_test"
echo "export MEDFUND_PG_DIR=$PGDIR"
