#!/usr/bin/env bash
# Runs Cairn's whole test suite (Swift Testing): the vector kernels and HNSW, the engine, the
# library, the CLI and the crash-safety test that SIGKILLs the CLI. Installs what the machine
# lacks first. Tests are built optimised (-O, still with testing enabled) in .build-test: the
# build takes a little longer, the recall and crash tests run ten times faster.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== building the tests (debug configuration, optimised code, .build-test)"
swift build --build-tests -j 2 -Xswiftc -O --scratch-path .build-test
echo "== running tests"
swift test --skip-build --scratch-path .build-test
