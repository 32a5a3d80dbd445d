#!/usr/bin/env bash
# Installs and builds (scripts/setup.sh), then runs the whole test suite
# through ctest and prints its summary.  Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
#  Debian's python3 for the tests that do not go through tests/harness.sh
#  (which does the same): a shim of a version manager earlier on PATH
#  costs a second a call.
if [ -x /usr/bin/python3 ]; then
    mkdir -p build/python && ln -sf /usr/bin/python3 build/python/python3
    PATH=$PWD/build/python:$PATH
fi
cd build
#  Three at a time on two cores: the tests spend about a third of their
#  time waiting on daemons and the network (measured: 1.4 cores busy at
#  -j2), so a third one fills that time.
ctest --output-on-failure -j3 "$@"
