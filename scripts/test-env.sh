#!/usr/bin/env bash
# test-env.sh — make sure everything the test suite talks to is here and
# running, then print the environment for it (eval-able lines):
#   * a private PostgreSQL cluster for tests (fsync off) on $TEST_PG_PORT;
#   * stripe-mock at a pinned version, installed with `go install`, on $STRIPE_MOCK_PORT;
#   * Debian's chromium for the browser tests (installed with apt-get as root).
# Progress goes to stderr; only the environment goes to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_port=${TEST_PG_PORT:-55433}
mock_port=${STRIPE_MOCK_PORT:-12111}
stripe_mock_version=v0.203.0

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  url=$TEST_DATABASE_URL
else
  url=$("$root/scripts/pg.sh" start test "$pg_port" fast)
fi
echo "export TEST_DATABASE_URL='$url'"

gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/stripe-mock" ]; then
  echo "installing stripe-mock $stripe_mock_version" >&2
  go install "github.com/stripe/stripe-mock@$stripe_mock_version" >&2
fi
if ! (exec 3<>"/dev/tcp/127.0.0.1/$mock_port") 2>/dev/null; then
  mkdir -p "$root/.data"
  # HTTPS on a free port of its choosing: its default one may be taken.
  nohup "$gobin/stripe-mock" -http-addr "127.0.0.1:$mock_port" -https-addr "127.0.0.1:" \
    >"$root/.data/stripe-mock.log" 2>&1 &
  echo $! >"$root/.data/stripe-mock.pid"
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$mock_port") 2>/dev/null && break
    sleep 0.1
  done
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$mock_port") 2>/dev/null; then
    echo "stripe-mock did not start:" >&2; cat "$root/.data/stripe-mock.log" >&2; exit 1
  fi
fi
echo "export STRIPE_API_BASE='http://127.0.0.1:$mock_port'"

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
