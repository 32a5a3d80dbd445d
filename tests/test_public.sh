#!/usr/bin/env bash
# Disclosure control: `cpsync-central query --public` and `export --public`
# (the issue "Governance", point 4), checked by an attacker who is not
# cpsync.
#
# Generated events of eight municipalities in three counties, some large
# and some small, are shipped to a central.  Years: the publication of
# `export --public` (thresholds 5 and 3) and the exact export are given to
# tests/disclosure.py --export, which checks that every shown figure is
# the exact one, every cell of 1 to the threshold is hidden, and that no
# hidden cell can be worked out from the shown ones by the equations
# between rows, counties and the nation, nor by those between consecutive
# years (managed = managed the year before - closed the year before + new),
# all the years solved together (linear algebra, exactly).  Its control:
# three of those four totals of a scope shown and the fourth hidden must
# be worked out with the equations between years and not without.  2023
# worked out as if in 2023 must be published so today (a year is settled
# once the next begins), and a publication leaves the year in progress
# out.  A year's `query --public` must be the export's.  A quarter: the
# view of every scope (nation, 12 counties, 61 municipalities) for
# publication, as `serve` gives it (`query --public` must give the same
# bytes), and the exact one, checked by tests/disclosure.py within the
# quarter; its control, a publication that hides the small cells alone,
# must be given away.  Then: the operators' own views hide nothing, the note says what
# was applied, and a threshold below 1 or not a number is refused with
# exit 2.
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

#  publish PERIOD DIR: every scope's view for publication, as `serve` gives
#  it to an operator who asks for public=1 (the whole hierarchy's
#  disclosure control is worked out once for the period and kept, where
#  each `query --public` works it out anew), and its exact view (query).
publish () {
    rm -rf "$2"; mkdir -p "$2/public" "$2/exact"
    python3 - "$base" "$password" "$1" "$2/public" "${scopes[@]}" <<'PY' || return 1
import json, sys, urllib.request
base, password, period, out = sys.argv [1:5]
login = urllib.request.Request (base + "/api/v1/login", method = "POST",
                                data = json.dumps ({"name": "op", "password": password}).encode ())
token = json.load (urllib.request.urlopen (login, timeout = 60)) ["token"]
for scope in sys.argv [5:]:
    request = urllib.request.Request ("%s/api/v1/views?period=%s&scope=%s&public=1"
                                      % (base, period, scope))
    request.add_header ("Authorization", "Bearer " + token)
    body = urllib.request.urlopen (request, timeout = 120).read ()
    open ("%s/%s.json" % (out, scope.replace (":", "_")), "wb").write (body)
PY
    local scope
    for scope in "${scopes[@]}"; do
        "$bin/cpsync-central" query --data "$central" --period "$1" --scope "$scope" \
            > "$2/exact/${scope/:/_}.json" || return 1
    done
}

#  Years: the publication and the exact figures, every year together.
"$bin/cpsync-central" export --data "$central" --csv "$work/exact" > /dev/null
for threshold in 5 3; do
    "$bin/cpsync-central" export --data "$central" --csv "$work/public-$threshold" --public \
        --threshold "$threshold" > /dev/null
    python3 "$source/tests/disclosure.py" --export "$work/public-$threshold" "$work/exact" \
        "$threshold" "$municipalities" > "$work/disclosure.out"
    status=$?
    check "the years, threshold $threshold: $(tail -1 "$work/disclosure.out")" [ $status = 0 ]
    grep '^  ' "$work/disclosure.out" | head -5
done

#  Settled: 2023 worked out as if on 2023-06-01 (the last period of the
#  chain, then) is published so today, when three more years follow it;
#  every scope with events.  And a publication leaves the year in
#  progress out.
settled=0
for scope in national county:tirane county:durres county:berat municipality:tirane \
             municipality:durres municipality:kavaje municipality:kruje municipality:berat \
             municipality:kucove municipality:polican municipality:skrapar; do
    CPSYNC_TODAY=2023-06-01 "$bin/cpsync-central" query --data "$central" --period 2023 \
        --scope "$scope" --public > "$work/then.json"
    "$bin/cpsync-central" query --data "$central" --period 2023 --scope "$scope" --public \
        > "$work/now.json"
    cmp -s "$work/then.json" "$work/now.json" && settled=$((settled + 1))
done
check "2023's publication worked out in 2023 is today's, in each of 12 scopes ($settled)" \
    [ $settled = 12 ]
CPSYNC_TODAY=2023-06-01 "$bin/cpsync-central" export --data "$central" --csv "$work/public-2023" \
    --public > /dev/null
check "a publication made on 2023-06-01 holds 2020 to 2022, not the year in progress" \
    [ "$(cut -d, -f1 "$work/public-2023/figures.csv" | sort -u | tr '\n' ' ')" = \
      "2020 2021 2022 period " ]

#  The control: in the publication, a scope's total of a year hidden and
#  the three others of its equation between years shown.
python3 - "$work/public-5" "$work/exact" "$work/control" > "$work/control.cell" <<'PY'
import csv, os, sys
public, exact, out = sys.argv [1:]
def rows (directory):
    with open (os.path.join (directory, "figures.csv"), newline = "") as file:
        return list (csv.DictReader (file))
shown = rows (public)
at = {(r ["period"], r ["scope"], r ["measure"], r ["key"]): i for i, r in enumerate (shown)}
figure = {(r ["period"], r ["scope"], r ["measure"], r ["key"]): r ["value"] for r in rows (exact)}
years = sorted ({int (r ["period"]) for r in shown})
for row in shown:
    year, scope = int (row ["period"]), row ["scope"]
    if row ["measure"] != "closed" or row ["key"] or row ["suppressed"] != "true" \
       or year + 1 not in years:
        continue
    others = [(str (year), "managed"), (str (year + 1), "managed"), (str (year + 1), "new")]
    for period, measure in others:
        key = (period, scope, measure, "")
        shown [at [key]] ["value"], shown [at [key]] ["suppressed"] = figure [key], "false"
    os.makedirs (out)
    with open (os.path.join (out, "figures.csv"), "w", newline = "") as file:
        writer = csv.DictWriter (file, fieldnames = list (shown [0]))
        writer.writeheader ()
        writer.writerows (shown)
    print ("%d %s ('closed', '')" % (year, scope))
    break
PY
cell=$(cat "$work/control.cell")
check "control: a scope whose closed cases of a year are hidden ($cell)" [ -n "$cell" ]
python3 "$source/tests/disclosure.py" --export "$work/control" "$work/exact" 5 \
    "$municipalities" > "$work/control.out"
check "... the years together work it out (exit 1)" [ $? = 1 ]
check "... and name it" grep -qF "$cell: hidden, but" "$work/control.out"
python3 "$source/tests/disclosure.py" --export "$work/control" "$work/exact" 5 \
    "$municipalities" --alone > "$work/control-alone.out"
! grep -qF "$cell: hidden" "$work/control-alone.out"
check "... each year alone does not" [ $? = 0 ]

#  A year's query --public is the export's publication.
for scope in national county:berat municipality:skrapar; do
    "$bin/cpsync-central" query --data "$central" --period 2022 --scope "$scope" --public \
        > "$work/query.json"
    check "2022, $scope: query --public shows and hides what export --public does" \
        python3 - "$work/query.json" "$work/public-5" "$scope" <<'PY'
import csv, json, os, sys
view = json.load (open (sys.argv [1]))
with open (os.path.join (sys.argv [2], "figures.csv"), newline = "") as file:
    rows = [r for r in csv.DictReader (file) if r ["period"] == "2022" and r ["scope"] == sys.argv [3]
            and r ["measure"] != "municipalities_reporting"]
for r in rows:
    figure = view [r ["measure"]] if not r ["key"] else view [r ["measure"]] [r ["key"]]
    expected = "c" if r ["suppressed"] == "true" else int (r ["value"])
    if figure != expected:
        sys.exit ("%s %s: query %r, export %r" % (r ["measure"], r ["key"], figure, expected))
PY
done

#  A quarter: every scope's view, from serve (threshold 5, its own).
password=correct-horse-battery
printf '%s\n' "$password" > "$work/password"
step "an operator account" "$bin/cpsync-central" user add --data "$central" --name op \
    --role operator --password-file "$work/password"
http_port=$(free_port)
base=http://127.0.0.1:$http_port
"$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$http_port" 2> "$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen (sys.argv [1], timeout = 1)' \
        "$base/openapi.json" 2> /dev/null && break
    sleep 0.1
done
step "serve gives every scope's public view of 2022-Q1" publish 2022-Q1 "$work/views"
for scope in national municipality:skrapar; do
    "$bin/cpsync-central" query --data "$central" --period 2022-Q1 --scope "$scope" --public \
        > "$work/query.json"
    check "2022-Q1, $scope: query --public gives serve's bytes" \
        cmp -s "$work/query.json" "$work/views/public/${scope/:/_}.json"
done
python3 "$source/tests/disclosure.py" "$work/views" 5 "$municipalities" > "$work/disclosure.out"
check "2022-Q1, threshold 5: $(tail -1 "$work/disclosure.out")" [ $? = 0 ]
grep '^  ' "$work/disclosure.out" | head -5

#  The control: the small cells hidden, nothing else.
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
