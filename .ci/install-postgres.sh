#!/usr/bin/env bash
# Installs the PostgreSQL server that tests/export_flowkit.rs starts on its
# own (initdb + pg_ctl on a unix socket), unless it is installed already.
# Debian's package is enough; the test skips, saying why, without it.
# Cost on a 2-core machine: the packages (9, 40 MB with their libraries)
# download in about 5 s and unpack in about 6 s; with `apt-get update` and
# the packages' configuration, well under a minute.
set -euo pipefail

have_postgres() {
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/psql" ]; then
            return 0
        fi
    done
    return 1
}

if have_postgres; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-postgres: no apt-get here; the FlowKit round trip will be skipped" >&2
    exit 0
fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq || ! apt-get install -y -qq --no-install-recommends postgresql >/dev/null; then
    echo "install-postgres: the install failed; the FlowKit round trip will be skipped" >&2
    exit 0
fi
echo "install-postgres: installed in $(( $(date +%s) - start )) s" >&2
