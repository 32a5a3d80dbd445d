#!/usr/bin/env bash
# Installs what cpsync needs from Debian (when missing) and builds it into
# build/.  Safe to run again: it installs nothing twice and rebuilds only
# what changed.  Run as root on Debian 12 (or with the packages present).
#
#   CPSYNC_BUILD_TYPE=Debug|Release   (default Release)
#   CPSYNC_WERROR=ON                  warnings are errors (CI sets it)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config python3 systemd
          libzmq3-dev libczmq-dev liblmdb-dev libmsgpack-dev libsodium-dev libjansson-dev libyajl-dev
          libmicrohttpd-dev openssl
          chromium chromium-driver    # the dashboard test opens the page headless
          prometheus    # promtool: the metrics test checks both daemons' output with it
          libpq-dev             # cpsync-central export --pg
          faketime              # tests/hostile: a node with its clock a year off
          postgresql            # the export test runs a PostgreSQL 15 server of its own
          valgrind              # memcheck_sync runs the daemons under memcheck
          jq                    # bench/resources.sh reads the nodes' status
          clang libclang-rt-dev   # scripts/fuzz.sh: the libFuzzer targets (clang's runtime is only recommended)
          gdb)    # gdb: a hung test case prints its stacks (tests/testing.h)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: these Debian packages are missing and installing them needs root" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

werror=${CPSYNC_WERROR:-OFF}
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CPSYNC_BUILD_TYPE:-Release}" \
      -DCPSYNC_WERROR="$werror" >/dev/null
cmake --build build -j2
