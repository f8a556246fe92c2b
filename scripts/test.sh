#!/usr/bin/env bash
# Runs Cairn's whole test suite (Swift Testing): the engine, the library, the CLI and the
# crash-safety test that SIGKILLs the CLI. Installs what the machine lacks first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== building (debug) with tests"
swift build --build-tests -j 2
echo "== running tests"
swift test --skip-build
