#!/usr/bin/env bash
# Stops the server started by scripts/pg-start.sh (MEDFUND_PG_DIR) and removes its files.
set -u
[ -n "${MEDFUND_PG_DIR:-}" ] && [ -d "$MEDFUND_PG_DIR" ] || exit 0
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
RUNAS=(); [ "$(id -u)" = 0 ] && RUNAS=(runuser -u postgres --)
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$MEDFUND_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
rm -rf "$MEDFUND_PG_DIR"
