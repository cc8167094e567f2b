#!/usr/bin/env bash
# Installs what building and testing S-Data needs on Debian, idempotently: only missing packages are installed.
# Usage: scripts/setup.sh            (run as root, or with sudo available)
set -euo pipefail

packages=(libxml2-dev libsqlite3-dev libcurl4-openssl-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "setup: Swift is in /opt/swift/usr/bin; add it to PATH" >&2
    else
        echo "setup: Swift 6 is required (https://www.swift.org/install/)" >&2
    fi
    exit 1
fi
