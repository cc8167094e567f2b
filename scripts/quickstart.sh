#!/usr/bin/env bash
# Sets everything up and runs every example pipeline on the bundled sample data into ./catalog.
# Offline: no network, no API keys. Safe to run again (an unchanged dataset publishes no new version).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

scripts/setup.sh

# The tracing example pseudonymizes phone numbers with a keyed HMAC; make a local key once.
if [ ! -f secrets.env ]; then
    umask 077
    echo "TRACING_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > secrets.env
    echo "quickstart: created secrets.env with a random TRACING_KEY (keep it private; it is git-ignored)"
fi

echo "quickstart: building sdata (the first build takes a few minutes)"
swift build --product sdata 2>&1 | grep -E "error|warning: |Compiling sdata|Build complete" || true
test -x .build/debug/sdata

.build/debug/sdata validate
.build/debug/sdata run --all
