#!/usr/bin/env bash
# services.sh — make sure the outside services the app talks to in
# development and tests are installed and running, then print their
# environment (eval-able lines). `make run` and scripts/test-env.sh use it.
#   * stripe-mock (Stripe's API mock) at a pinned version, on $STRIPE_MOCK_PORT;
#   * Mailpit (an SMTP server with a web page and an API to read what it
#     got) at a pinned version, SMTP on $MAILPIT_SMTP_PORT, web and API on
#     $MAILPIT_HTTP_PORT.
# Both are installed with `go install` when missing and left running; `make
# db-stop` stops them. Progress goes to stderr; only the environment to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mock_port=${STRIPE_MOCK_PORT:-12111}
mail_smtp_port=${MAILPIT_SMTP_PORT:-1025}
mail_http_port=${MAILPIT_HTTP_PORT:-8025}
stripe_mock_version=v0.203.0
mailpit_version=v1.33.1

gobin=$(go env GOPATH)/bin
mkdir -p "$root/.data"
# listening PORT: is something accepting connections on 127.0.0.1:PORT?
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# start_bg NAME PORT COMMAND...: start COMMAND in the background unless
# something already listens on PORT, and wait until it does.
start_bg() {
  local name=$1 port=$2; shift 2
  listening "$port" && return 0
  nohup "$@" >"$root/.data/$name.log" 2>&1 &
  echo $! >"$root/.data/$name.pid"
  for _ in $(seq 1 100); do listening "$port" && return 0; sleep 0.1; done
  echo "$name did not start:" >&2; cat "$root/.data/$name.log" >&2; exit 1
}

# install NAME MODULE VERSION: go install MODULE@VERSION unless that very
# version is already in GOPATH/bin.
install() {
  go version -m "$gobin/$1" 2>/dev/null | grep -Eq "^[[:space:]]*mod[[:space:]]+$2[[:space:]]+$3[[:space:]]" && return 0
  echo "installing $1 $3 (go install; a few minutes the first time)" >&2
  go install "$2@$3" >&2
}

install stripe-mock github.com/stripe/stripe-mock "$stripe_mock_version"
# HTTPS on a free port of its choosing: its default one may be taken.
start_bg stripe-mock "$mock_port" "$gobin/stripe-mock" -http-addr "127.0.0.1:$mock_port" -https-addr "127.0.0.1:"
echo "export STRIPE_API_BASE='http://127.0.0.1:$mock_port'"

install mailpit github.com/axllent/mailpit "$mailpit_version"
# Several test packages (and developers' runs) share one Mailpit: keep
# enough messages that none is pruned while a test waits for it.
start_bg mailpit "$mail_smtp_port" "$gobin/mailpit" --smtp "127.0.0.1:$mail_smtp_port" \
  --listen "127.0.0.1:$mail_http_port" --max 20000 --disable-version-check --quiet
for _ in $(seq 1 50); do listening "$mail_http_port" && break; sleep 0.1; done
echo "export SMTP_URL='smtp://127.0.0.1:$mail_smtp_port'"
echo "export MAILPIT_URL='http://127.0.0.1:$mail_http_port'"
