#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback, for the tests and for trying the PostgreSQL store:
#   eval "$(scripts/pg-cluster.sh start DIR [PORT])"   # prints `export SDATA_TEST_POSTGRES=postgres://…`
#   scripts/pg-cluster.sh stop DIR
# Uses Debian's server binaries (apt-get install postgresql); installs them when missing and running as root.
# The cluster trusts local connections (it is for tests: loopback only, a temporary folder, never a real catalog).
set -euo pipefail
command=${1:?usage: pg-cluster.sh start|stop DIR [PORT]}
directory=${2:?usage: pg-cluster.sh start|stop DIR [PORT]}
port=${3:-54329}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "pg-cluster: installing postgresql (Debian)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    else
        echo "pg-cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
        exit 1
    fi
fi

# The server refuses to run as root: run it as the `postgres` account the Debian package creates.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
start)
    mkdir -p "$directory"
    [ "$(id -u)" = 0 ] && chown postgres "$directory"
    if [ ! -f "$directory/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$directory/data" -U sdata --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    as_owner "$bin/pg_ctl" -D "$directory/data" -l "$directory/server.log" -w \
        -o "-p $port -k $directory -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
    echo "export SDATA_TEST_POSTGRES=postgres://sdata@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$directory/data" -m fast stop >/dev/null || true
    ;;
*)
    echo "usage: pg-cluster.sh start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
