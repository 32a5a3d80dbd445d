#!/usr/bin/env bash
# The price of a publication: `cpsync-central query --public` (disclosure
# control worked out over every scope together, docs/design.md section 11)
# against the exact view, this build against an older one, over one
# central holding a country's events.
#
#   bash bench/public.sh [ROUNDS]     (default 5)
#
# The country's events of 2022 as the agency's report gives them, with
# the years around them (gen_events --country: Tirana's thousands of
# cases beside municipalities of a few dozen, whose quarters are mostly
# cells of 1 to 5), shipped once by this build's fleet.  Then, ROUNDS times and the builds
# in turn, each times the public view of the nation, a county and a
# municipality for a year and for a quarter; the script prints the median
# per view and build, their ratio, and the cells each build hid in that
# view (fewer is better: every figure hidden is one the public loses;
# tests/disclosure.py and test_suppress check that none hidden can be
# worked out).  Then `export --public` of every period (74 scopes each),
# once per build: this build works a period's disclosure control out
# once (central_publications), builds up to 18b1f54 once per scope; and
# since the sixteenth session a publication holds whole years only, where the builds
# before wrote the quarters too (each build's periods are printed, and
# the years' figures compared), and each build's publication is attacked
# by tests/disclosure.py with every year together.
# No target: an operator's page asks for many scopes.
# BASELINE (default 18b1f54, before publications were kept; 626c5a6 is
# before the suppression's scratch matrix and its second rule, and its
# export takes some minutes) is built in a scratch worktree.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
baseline=${BASELINE:-18b1f54}
bin=$PWD/build/bin
work=$(mktemp -d /tmp/cpsync-public.XXXXXX)
source bench/fleet_lib.sh
trap 'remove_baseline; rm -rf "$work"' EXIT
build_baseline "$baseline"
"$bin/gen_events" --country tests/data/report-2022.json \
    --municipalities protocol/catalogue/municipalities.csv --seed 11 --outdir "$work/country" \
    --catalogue 1 --background 2020-2023 2>/dev/null
#   ship EVENTS_DIR DATA_DIR: the events to a central of their own.
ship () {
    "$bin/cpsync-fleet" --events "$1" --data "$2" --port $(( 20000 + RANDOM % 12000 )) \
        --timeout 600 >"$work/fleet.log" 2>&1 || { cat "$work/fleet.log"; exit 1; }
}
ship "$work/country" "$work/data"
central=$work/data/central
echo "central: $(cat "$work"/country/*.jsonl | wc -l) events from 61 municipalities"

views=("2022 national" "2022 county:berat" "2022 municipality:skrapar"
       "2022-Q3 national" "2022-Q3 county:berat" "2022-Q3 municipality:skrapar")

#   run_ms BIN PERIOD SCOPE [FLAGS]: one query's wall time in ms; its
#   output kept as $work/out.
run_ms () {
    local from to
    from=$(date +%s%N)
    "$1/cpsync-central" query --data "$central" --period "$2" --scope "$3" "${@:4}" \
        >"$work/out"
    to=$(date +%s%N)
    echo $(( (to - from) / 1000000 ))
}

#   hidden_in FILE: the cells a view shows as "c".
hidden_in () { { grep -o '"c"' "$1" || true; } | wc -l; }

printf '%-30s %9s %10s %8s %8s %12s\n' view exact_ms public_ms base_ms ratio hidden/base
for view in "${views[@]}"; do
    read -r period scope <<<"$view"
    exact=() public=() base=()
    for _ in $(seq "$rounds"); do
        exact+=("$(run_ms "$bin" "$period" "$scope")")
        public+=("$(run_ms "$bin" "$period" "$scope" --public)")
        hidden=$(hidden_in "$work/out")
        base+=("$(run_ms "$old_bin" "$period" "$scope" --public)")
        base_hidden=$(hidden_in "$work/out")
    done
    printf '%-30s %9s %10s %8s %8s %12s\n' "$period $scope" "$(median "${exact[@]}")" \
        "$(median "${public[@]}")" "$(median "${base[@]}")" \
        "$(ratio "$(median "${base[@]}")" "$(median "${public[@]}")")" "$hidden/$base_hidden"
done
echo "ratio: the baseline's public view over this build's (above 1: faster now)"

#  What a publication of every scope hides: the 74 views of each period.
scopes=(national)
while IFS=, read -r code _ county; do
    scopes+=("municipality:$code")
    [[ " ${scopes[*]} " == *" county:$county "* ]] || scopes+=("county:$county")
done < <(tail -n +2 protocol/catalogue/municipalities.csv)
for period in 2022 2022-Q3; do
    hidden=0 base_hidden=0
    for scope in "${scopes[@]}"; do
        run_ms "$bin" "$period" "$scope" --public >/dev/null
        hidden=$(( hidden + $(hidden_in "$work/out") ))
        run_ms "$old_bin" "$period" "$scope" --public >/dev/null
        base_hidden=$(( base_hidden + $(hidden_in "$work/out") ))
    done
    echo "$period, all ${#scopes[@]} scopes: $hidden cells hidden (baseline $base_hidden)"
done

#  export --public: the builds in turn, once each; the figures they
#  write compared when the baseline hides the same cells.
for build in this "baseline"; do
    program=$bin/cpsync-central
    [ "$build" = baseline ] && program=$old_bin/cpsync-central
    from=$(date +%s%N)
    "$program" export --data "$central" --public --csv "$work/export-$build" \
        > "$work/export-$build.out" 2>&1
    to=$(date +%s%N)
    echo "export --public, $build build: $(( (to - from) / 1000000 )) ms" \
         "($(grep -o '[0-9]* periods' "$work/export-$build.out"))"
    grep -v -- '-Q' "$work/export-$build/figures.csv" > "$work/export-$build/years.csv"
done
if cmp -s "$work/export-this/years.csv" "$work/export-baseline/years.csv"; then
    echo "export --public: the same figures of the years from both builds"
else
    echo "export --public: the figures differ from the baseline's (another suppression)"
fi
#  Each build's publication attacked with every year together (the
#  equations between consecutive years: builds before the seventeenth
#  session protected each year alone).
"$bin/cpsync-central" export --data "$central" --csv "$work/exact" > /dev/null
for build in this baseline; do
    echo "export --public, $build build, attacked: $(python3 tests/disclosure.py --export \
        "$work/export-$build" "$work/exact" 5 protocol/catalogue/municipalities.csv | tail -1)"
done

#  A small central (three municipalities of 1,500 events, as the test
#  dashboard's): where a rule of a round that hides one cell a round took
#  seconds a view.
mkdir -p "$work/small"
seed=31
for code in berat kucove tirane; do
    "$bin/gen_events" --seed $seed --events 1500 --from 2020-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/small/$code.jsonl"
    seed=$((seed + 1))
done
ship "$work/small" "$work/small-data"
central=$work/small-data/central
printf '%-30s %10s %8s %8s %12s\n' "small central: view" public_ms base_ms ratio hidden/base
for period in 2020 2021 2022 2021-Q2 2022-Q4; do
    public=() base=()
    for _ in $(seq "$rounds"); do
        public+=("$(run_ms "$bin" "$period" national --public)")
        hidden=$(hidden_in "$work/out")
        base+=("$(run_ms "$old_bin" "$period" national --public)")
        base_hidden=$(hidden_in "$work/out")
    done
    printf '%-30s %10s %8s %8s %12s\n' "$period national" "$(median "${public[@]}")" \
        "$(median "${base[@]}")" "$(ratio "$(median "${base[@]}")" "$(median "${public[@]}")")" \
        "$hidden/$base_hidden"
done
