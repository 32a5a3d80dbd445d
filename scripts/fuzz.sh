#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang and runs
# each for SECONDS (default 60), two at a time, on a scratch copy of its
# saved corpus: the repository's corpus is never written.  Prints one line
# per target (executions, coverage, features, crashes) and exits non-zero
# when any target found a crash, a leak, a timeout or ran out of memory;
# the input that did it stays under the build directory.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (TARGET: codec, wire, ...)
#
#   CPSYNC_FUZZ_BUILD=DIR        build directory (default build-fuzz)
#   CPSYNC_FUZZ_JOBS=N           targets run at once (default 2)
#
# Needs clang and its runtime (Debian: clang, libclang-rt-dev; setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
build=${CPSYNC_FUZZ_BUILD:-build-fuzz}
jobs=${CPSYNC_FUZZ_JOBS:-2}
case "$seconds" in
    ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
if ! command -v clang >/dev/null; then
    echo "fuzz: clang is missing (scripts/setup.sh installs it)" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for source in tests/fuzz/fuzz_*.c; do
        name=${source##*/fuzz_}
        targets+=("${name%.c}")
    done
fi

# Debug keeps assert(): a stored byte must never reach one.  The fuzz
# targets alone are built (the daemons and tools too took half again as
# long).
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCPSYNC_FUZZ=ON \
      -DCPSYNC_WERROR=ON >/dev/null
cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}" >/dev/null
build=$(cd "$build" && pwd)

run=$build/fuzz-run
rm -rf "$run"
mkdir -p "$run"

# One target: its corpus copied, libFuzzer for SECONDS, its log kept.
fuzz_one () {
    local name=$1
    local binary
    binary=$(find "$build" -type f -name "fuzz_$name" -perm -u+x | head -1)
    local dir=$run/$name
    mkdir -p "$dir/corpus" "$dir/found"
    if [ -z "$binary" ]; then
        echo "no binary" >"$dir/missing"
        return 0
    fi
    cp -r "$root/tests/fuzz/corpus/$name/." "$dir/corpus/" 2>/dev/null || true
    local rc=0
    #  ASan keeps freed memory in quarantine, 256 MB by default, and counts
    #  it in RSS: fuzz_http's logins free a 64 MiB password hash each, and
    #  the quarantine alone passed -rss_limit_mb (a CI rehearsal).
    (cd "$dir" && ASAN_OPTIONS="quarantine_size_mb=32${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
        "$binary" -max_total_time="$seconds" -timeout=30 \
        -rss_limit_mb=256 -malloc_limit_mb=64 -print_final_stats=1 \
        -artifact_prefix="$dir/found/" corpus >"$dir/log" 2>&1) || rc=$?
    echo "$rc" >"$dir/rc"
}
export -f fuzz_one
export build run root seconds

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one "$@"' _ {}

failed=0
printf '%-16s %12s %8s %8s %8s  %s\n' target executions cov ft crashes status
for name in "${targets[@]}"; do
    dir=$run/$name
    if [ -e "$dir/missing" ]; then
        printf '%-16s %s\n' "$name" "no fuzz_$name binary (is it in tests/CMakeLists.txt?)"
        failed=1
        continue
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    # The last status line of libFuzzer: "#N ... cov: C ft: F ..."
    status_line=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
    crashes=$(find "$dir/found" -type f | wc -l)
    rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
    status=ok
    if [ "$crashes" -gt 0 ] || [ "$rc" != 0 ]; then
        status="FAILED (exit $rc; log $dir/log; inputs in $dir/found)"
        failed=1
    fi
    printf '%-16s %12s %8s %8s %8s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
        "$crashes" "$status"
done
exit $failed
