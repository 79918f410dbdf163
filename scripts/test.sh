#!/usr/bin/env bash
# Runs every medfund test on a fresh machine: installs what the tests need (PostgreSQL server,
# Chromium for the browser tests, the Node test driver), starts a throw-away PostgreSQL, then runs
# the Rust tests (release profile: one build for tests and the binary) and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

need_apt=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} (Debian packages)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# A private PostgreSQL server for the tests that exercise the server option.
eval "$(bash scripts/pg-start.sh)"
trap 'bash scripts/pg-stop.sh' EXIT
export MEDFUND_REQUIRE_PG=1

echo "== cargo test (release)"
cargo test --release --workspace --locked

if [ -f tests/browser/run.sh ]; then
  echo "== browser tests (headless Chromium)"
  bash tests/browser/run.sh
fi
echo "== all tests passed"
