#!/usr/bin/env bash
# test-env.sh — make sure everything the test suite talks to is here and
# running, then print the environment for it (eval-able lines):
#   * a private PostgreSQL cluster for tests (fsync off) on $TEST_PG_PORT;
#   * stripe-mock and Mailpit (scripts/services.sh);
#   * Debian's chromium for the browser tests (installed with apt-get as root);
#   * xmllint (Debian's libxml2-utils), which checks bank files against their schema;
#   * axe-core at a pinned version (npm) for their accessibility checks.
# Progress goes to stderr; only the environment goes to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_port=${TEST_PG_PORT:-55433}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  url=$TEST_DATABASE_URL
else
  url=$("$root/scripts/pg.sh" start test "$pg_port" fast)
fi
echo "export TEST_DATABASE_URL='$url'"

# stripe-mock and Mailpit, shared with `make run`.
"$root/scripts/services.sh"

if ! command -v xmllint >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing xmllint (Debian package libxml2-utils) for the bank-file tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils) >&2
fi

chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium (Debian package) for the browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  chrome=$(command -v chromium || true)
fi
if [ -n "$chrome" ]; then
  echo "export CHROMIUM_PATH='$chrome'"
else
  echo "chromium not found and cannot be installed: browser tests will fail" >&2
fi

# axe-core (npm, pinned) checks every page the browser tests visit against
# WCAG 2.1 AA; installed under .data once, like chromium above.
axe_version=4.14.1
axe_dir="$root/.data/axe-core-$axe_version"
axe="$axe_dir/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ]; then
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing npm (Debian package) to fetch axe-core" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm) >&2
  fi
  if command -v npm >/dev/null; then
    echo "installing axe-core $axe_version (npm) for the accessibility checks" >&2
    mkdir -p "$axe_dir"
    npm install --prefix "$axe_dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "axe-core@$axe_version" >&2
  fi
fi
if [ -f "$axe" ]; then
  echo "export AXE_CORE_PATH='$axe'"
else
  echo "axe-core not found and cannot be installed: browser tests will fail" >&2
fi
