#!/usr/bin/env bash
# Browser tests: prepares a demo data dir with the release binary, serves it on a free port, and
# drives Debian's Chromium with playwright-core (installed from the lock file; no browser download).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/medfund"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -p medfund)
command -v chromium >/dev/null || { echo "chromium is missing: scripts/test.sh installs it"; exit 1; }
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
DATA=$(mktemp -d /tmp/medfund-ui.XXXXXX)
PORT=${MEDFUND_UI_PORT:-18181}
while (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do PORT=$((PORT + 1)); done
(cd "$ROOT" && "$BIN" --data "$DATA" demo --no-serve --persons 3000 >"$DATA.prepare.log" 2>&1) || { cat "$DATA.prepare.log"; exit 1; }
MEDFUND_QUIET_LOG=1 "$BIN" --data "$DATA" serve --addr "127.0.0.1:$PORT" >"$DATA.serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA" "$DATA.prepare.log" "$DATA.serve.log"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/v1/openapi.json" >/dev/null && break; sleep 0.2; done
SHOTS=""
[ "${MEDFUND_SCREENSHOTS:-}" = 1 ] && SHOTS="$ROOT/docs/screenshots" && mkdir -p "$SHOTS"
MEDFUND_URL="http://127.0.0.1:$PORT" MEDFUND_SCREENSHOTS="$SHOTS" node ui.test.mjs
