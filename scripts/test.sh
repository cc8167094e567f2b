#!/usr/bin/env bash
# Runs the whole test suite, installing what it needs first: Debian packages and, in .venv, the external checkers
# the tests call (frictionless). Usage: scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh

if [ ! -x .venv/bin/frictionless ] || ! .venv/bin/python -c "import ijson" 2>/dev/null; then
    echo "test: installing frictionless into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check "frictionless[json]>=5,<6"
fi
export FRICTIONLESS="$PWD/.venv/bin/frictionless"

swift test "$@"
