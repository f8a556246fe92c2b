#!/usr/bin/env bash
# Makes sure this machine has what Cairn's build, quickstart and tests need, installing what is
# missing. Sourced by quickstart.sh and test.sh; safe to run again.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    if [ -x "$candidate/swift" ]; then export PATH="$candidate:$PATH"; break; fi
  done
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "error: Swift 6.1 or newer is needed (https://www.swift.org/install/); it is not on PATH." >&2
  exit 1
fi

# Backups compress with the system's zstd: its headers come from Debian's libzstd-dev.
if [ ! -f /usr/include/zstd.h ]; then
  echo "== installing libzstd-dev (zstd headers, for backup compression)"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get install -y -q libzstd-dev >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q libzstd-dev >/dev/null; } \
    || { echo "error: could not install libzstd-dev; install it (apt-get install libzstd-dev) and run again" >&2; exit 1; }
fi

# Release builds target this machine's CPU, so the distance kernels use its vector width and
# FMA (AVX2 here). Package.swift stays portable: the flags are on the command line only.
RELEASE_BUILD=(swift build -c release -j 2 -Xswiftc -target-cpu -Xswiftc native)
