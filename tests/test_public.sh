#!/usr/bin/env bash
# Disclosure control: `cpsync-central query --public` (the issue
# "Governance", point 4), checked by an attacker who is not cpsync.
#
# Generated events of eight municipalities in three counties, some large
# and some small, are shipped to a central.  For years and quarters and two
# thresholds, the published view of every scope (nation, 12 counties, 61
# municipalities) is taken with --public, and the operators' exact one
# without; tests/disclosure.py then checks that every shown figure is the
# exact one, every cell of 1 to the threshold is hidden, and that no hidden
# cell can be worked out from the shown ones by the equations between rows,
# counties and the nation (linear algebra, exactly).  A control: the same
# checker, given a publication that hides the small cells alone, must find
# cells it can work out, or it proves nothing.  Then: the operators' own
# views hide nothing, the note says what was applied, and a threshold
# below 1 or not a number is refused with exit 2.
#
#   test_public.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" public "$@"
central=$work/data/central

mkdir -p "$work/events"
seed=21
for pair in tirane:6000 durres:3000 kavaje:400 kruje:250 berat:2000 kucove:300 \
            polican:120 skrapar:60; do
    "$bin/gen_events" --seed $seed --events "${pair##*:}" --from 2020-01-01 --to 2023-12-31 \
        --prefix "${pair%%:*}-" > "$work/events/${pair%%:*}.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships eight municipalities' events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

scopes=(national)
while IFS=, read -r code name county; do
    [ "$code" = code ] && continue
    scopes+=("municipality:$code")
    [[ " ${scopes[*]} " == *" county:$county "* ]] || scopes+=("county:$county")
done < "$municipalities"

#  publish PERIOD THRESHOLD DIR: every scope's public and exact views.
publish () {
    rm -rf "$3"; mkdir -p "$3/public" "$3/exact"
    local scope
    for scope in "${scopes[@]}"; do
        "$bin/cpsync-central" query --data "$central" --period "$1" --scope "$scope" \
            --public --threshold "$2" > "$3/public/${scope/:/_}.json" || return 1
        "$bin/cpsync-central" query --data "$central" --period "$1" --scope "$scope" \
            > "$3/exact/${scope/:/_}.json" || return 1
    done
}

for case in 2022:5 2022:3 2022-Q1:5 2023-Q4:5; do
    period=${case%%:*} threshold=${case##*:}
    {
        publish "$period" "$threshold" "$work/views"
        python3 "$source/tests/disclosure.py" "$work/views" "$threshold" "$municipalities" \
            > "$work/disclosure.out"
        status=$?
        check "$period, threshold $threshold: $(tail -1 "$work/disclosure.out")" [ $status = 0 ]
        grep '^  ' "$work/disclosure.out" | head -5
    }
done

#  The control: the small cells hidden, nothing else.
publish 2022-Q1 5 "$work/views"
python3 - "$work/views" <<'PY'
import glob, json, os, sys
for exact in glob.glob (os.path.join (sys.argv [1], "exact", "*.json")):
    view = json.load (open (exact))
    for key, value in view.items ():
        if isinstance (value, dict):
            view [key] = {c: "c" if 1 <= v <= 5 else v for c, v in value.items ()}
        elif key in ("managed", "new", "closed", "home_visits") and 1 <= value <= 5:
            view [key] = "c"
    json.dump (view, open (exact.replace ("/exact/", "/public/"), "w"))
PY
python3 "$source/tests/disclosure.py" "$work/views" 5 "$municipalities" > "$work/control.out"
check "control: small cells hidden alone are worked out by the checker (exit 1)" [ $? = 1 ]
check "... it names them" grep -q "hidden, but the shown figures give it" "$work/control.out"

#  The operators' own views: nothing hidden; the public one says what.
"$bin/cpsync-central" query --data "$central" --period 2022-Q1 --scope municipality:skrapar \
    > "$work/own.json"
check "the operators' view hides nothing" bash -c "! grep -q '\"c\"' '$work/own.json'"
"$bin/cpsync-central" query --data "$central" --period 2022-Q1 --scope municipality:skrapar \
    --public > "$work/public.json"
check "the public view of a small municipality hides cells" grep -q '"c"' "$work/public.json"
check "... and says which rule" grep -q '"suppression": "for publication: cells of 1 to 5' \
    "$work/public.json"
"$bin/cpsync-central" query --data "$central" --period 2022-Q1 --scope municipality:skrapar \
    --public --format csv > "$work/public.csv"
check "CSV too: the rule in a comment line, hidden cells as c" \
    bash -c "head -1 '$work/public.csv' | grep -q '^# for publication' && grep -q ',c$' '$work/public.csv'"
"$bin/cpsync-central" query --data "$central" --period 2022-Q1 --scope municipality:skrapar \
    --public --format table --lang en > "$work/public.txt"
check "a table too" grep -q "^  Total  *c$" "$work/public.txt"

#  Bad input: exit 2, a message naming it.
for threshold in 0 -1 2x ""; do
    "$bin/cpsync-central" query --data "$central" --period 2022 --public \
        --threshold "$threshold" > /dev/null 2> "$work/bad.err"
    status=$?
    check "--threshold '$threshold': exit 2, named" \
        bash -c "[ $status = 2 ] && grep -q 'threshold must be a whole number from 1' '$work/bad.err'"
done
"$bin/cpsync-central" query --data "$central" --period 2022 --public --format table \
    --compare "$source/tests/data/report-2022.json" > /dev/null 2> "$work/bad.err"
check "--public with --compare: exit 2" [ $? = 2 ]
finish
