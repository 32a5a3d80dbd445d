#!/usr/bin/env bash
# Installs and builds (scripts/setup.sh), then runs the whole test suite
# through ctest and prints its summary.  Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
ctest --output-on-failure -j2 "$@"
