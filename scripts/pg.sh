#!/usr/bin/env bash
# pg.sh — a private PostgreSQL cluster built from the local server binaries.
#
#   scripts/pg.sh start NAME PORT [fast]   create (once) and start the cluster, print its DATABASE_URL
#   scripts/pg.sh stop  NAME               stop it (no error if it is not running)
#   scripts/pg.sh crash NAME               stop it the way a crash does (immediate: no checkpoint,
#                                          recovery from the WAL at the next start); for fault tests
#   scripts/pg.sh reset NAME               stop it and delete its data
#
# The data lives in .data/NAME under the project. PostgreSQL refuses to run as
# root, so as root the cluster runs as the `postgres` user; when that user
# cannot reach the project folder (a clone under /root, say), the data goes to
# /var/tmp/reciproca-<hash of the project path>/NAME instead.
# "fast" turns fsync off: for tests only.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|reset NAME [PORT] [fast]}
name=${2:?cluster name}
port=${3:-5432}
mode=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd / # the postgres user may not be allowed into the project folder

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  local b
  for b in /usr/lib/postgresql/*/bin/"$1"; do [ -x "$b" ] && { echo "$b"; return; }; done
  return 1
}
if ! PG_CTL=$(find_bin pg_ctl) || ! INITDB=$(find_bin initdb); then
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found." >&2
  echo "Install PostgreSQL 15, set DATABASE_URL, or run: docker compose up -d db" >&2
  exit 1
fi

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

data="$root/.data/$name"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$root/.data"
  if ! runuser -u postgres -- test -x "$root/.data" 2>/dev/null || ! chown postgres: "$root/.data" 2>/dev/null \
     || ! runuser -u postgres -- test -w "$root/.data"; then
    data="/var/tmp/reciproca-$(echo -n "$root" | cksum | cut -d' ' -f1)/$name"
  fi
fi
log="$data.log"

case "$cmd" in
start)
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    # only the two folders made here: a recursive chown would walk a running
    # sibling cluster and fail on a database it is dropping at that moment
    [ "$(id -u)" = 0 ] && chown postgres: "$(dirname "$data")" "$data"
    as_pg "$INITDB" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  opts="-p $port -c listen_addresses=127.0.0.1 -k /tmp -c max_connections=300 -c shared_buffers=256MB"
  [ "$mode" = fast ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if ! as_pg "$PG_CTL" -D "$data" status >/dev/null 2>&1; then
    touch "$log"; [ "$(id -u)" = 0 ] && chown postgres: "$log"
    as_pg "$PG_CTL" -D "$data" -l "$log" -o "$opts" -w -t 60 start >/dev/null
  fi
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  if [ -s "$data/PG_VERSION" ]; then as_pg "$PG_CTL" -D "$data" -m fast stop >/dev/null 2>&1 || true; fi
  ;;
crash)
  if [ -s "$data/PG_VERSION" ]; then as_pg "$PG_CTL" -D "$data" -m immediate stop >/dev/null 2>&1 || true; fi
  ;;
reset)
  if [ -s "$data/PG_VERSION" ]; then as_pg "$PG_CTL" -D "$data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$data" "$log"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
