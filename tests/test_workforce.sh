#!/usr/bin/env bash
# Workforce coverage (the issue "Governance", point 3), with real processes:
# `cpsync-node staff set` and `staff list`, the staffing shipped to the
# central as staff_set events, and `cpsync-central workforce`.
#
#   berat sets its staffing twice, the later date first (2022-07-01: 6
#     workers, 15200 children; 2022-01-01: 4 workers, 15000 children, above
#     the target of 3000 children per worker); kucove once (2022-03-01: 2
#     workers, 7000 children, above); durres once (2022-01-01: 9 workers,
#     20000 children); every other municipality, polican among them, has no
#     report.
#   Every figure of workforce's JSON (per municipality: status, since,
#     workers, children, ratio, above target; per county and for the scope:
#     the sums, ratio, reported, no report, above target) is compared with
#     what this script computes from the table above, for periods whose end
#     picks one date or the other and for each kind of scope.
#   Bad input to both commands is refused (exit 2, a message naming it) and
#   changes nothing: the node's head and staffing, the central's store.
#   A node that lost its disk gets its staffing back with `recover`.
#
#   test_workforce.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" workforce "$@"
central=$work/central
nodes=$work/nodes
mkdir -p "$nodes"

#   The staffings this test sets: code date workers children, in the order set.
cat > "$work/staffing.txt" <<'EOF'
berat 2022-07-01 6 15200
berat 2022-01-01 4 15000
kucove 2022-03-01 2 7000
durres 2022-01-01 9 20000
EOF

step "cpsync-central init" "$bin/cpsync-central" init --data "$central" --listen "$endpoint"
for code in berat kucove durres; do
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
    step "cpsync-admin enrol $code" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle"
    step "cpsync-node enrol $code" "$bin/cpsync-node" enrol --data "$nodes/$code" \
        --bundle "$work/$code.bundle"
done
while read -r code date workers children; do
    step "staff set $code $date" "$bin/cpsync-node" staff set --data "$nodes/$code" \
        --workers "$workers" --children "$children" --date "$date"
done < "$work/staffing.txt"
check "staff set says what it set" grep -q \
    "^staffing of durres from 2022-01-01: 9 workers, 20000 children (event n-ss-[0-9a-f]\{16\}, seq 1)$" \
    "$work/step.out"

#   A set without --date takes the node's today.
CPSYNC_TODAY=2023-02-10 step "staff set durres, today" "$bin/cpsync-node" staff set \
    --data "$nodes/durres" --workers 10 --children 20100
cat >> "$work/staffing.txt" <<'EOF'
durres 2023-02-10 10 20100
EOF

"$bin/cpsync-node" staff list --data "$nodes/berat" > "$work/list.json" 2> "$work/list.err"
check "staff list: berat's two sets, oldest date first" python3 - "$work/list.json" <<'PY'
import json, sys
d = json.load (open (sys.argv [1]))
sys.exit (0 if d == {"municipality": "berat", "staffing": [
    {"date": "2022-01-01", "workers": 4, "children": 15000},
    {"date": "2022-07-01", "workers": 6, "children": 15200}]} else 1)
PY
"$bin/cpsync-node" staff list --data "$nodes/berat" --format table > "$work/list.txt"
check "staff list --format table" python3 - "$work/list.txt" <<'PY'
import sys
rows = [line.split () for line in open (sys.argv [1])]
sys.exit (0 if rows == [["from", "workers", "children"], ["2022-01-01", "4", "15000"],
                        ["2022-07-01", "6", "15200"]] else 1)
PY

# ---------------------------------------------------------------------------
#  Bad input to staff set: refused, named, nothing written.
"$bin/cpsync-node" staff list --data "$nodes/kucove" > "$work/kucove-before.json"
head_before=$(field kucove head)
#   refused WHAT EXPECTED-MESSAGE ARGS...: staff set ARGS on kucove exits 2,
#   says EXPECTED-MESSAGE on stderr, and leaves head and staffing alone.
refused () {
    local what=$1 message=$2; shift 2
    "$bin/cpsync-node" staff set --data "$nodes/kucove" "$@" > "$work/bad.out" 2> "$work/bad.err"
    local rc=$?
    "$bin/cpsync-node" staff list --data "$nodes/kucove" > "$work/kucove-after.json"
    if [ $rc = 2 ] && grep -qF -- "$message" "$work/bad.err" && [ ! -s "$work/bad.out" ] \
        && [ "$(field kucove head)" = "$head_before" ] \
        && cmp -s "$work/kucove-before.json" "$work/kucove-after.json"; then
        ok "staff set refuses $what: $(head -1 "$work/bad.err")"
    else
        fail "staff set $what: exit $rc, $(head -1 "$work/bad.err"), head $(field kucove head)"
    fi
}
refused "no --workers" "staff set needs --workers N and --children M" --children 5000
refused "no --children" "staff set needs --workers N and --children M" --workers 3
refused "--workers 2x" "--workers '2x' is not a whole number" --workers 2x --children 5000
refused "--workers ''" "--workers '' is not a whole number" --workers "" --children 5000
refused "--workers -1" "--workers '-1' is negative" --workers -1 --children 5000
refused "--workers 1e3" "--workers '1e3' is not a whole number" --workers 1e3 --children 5000
refused "--workers 10001" "--workers 10001 is out of range" --workers 10001 --children 5000
refused "--workers 99999999999" "--workers 99999999999 is out of range" --workers 99999999999 \
    --children 5000
refused "--children 0" "--children 0 is out of range" --workers 3 --children 0
refused "--children 2000001" "--children 2000001 is out of range" --workers 3 --children 2000001
refused "--children -5" "--children '-5' is negative" --workers 3 --children -5
refused "--children 5.5" "--children '5.5' is not a whole number" --workers 3 --children 5.5
refused "--date 2022-02-30" "--date '2022-02-30' is not a real YYYY-MM-DD date" \
    --workers 3 --children 5000 --date 2022-02-30
refused "--date 22-01-01" "--date '22-01-01' is not a real YYYY-MM-DD date" \
    --workers 3 --children 5000 --date 22-01-01
refused "--date 1999-12-31" "--date 1999-12-31 is before 2000-01-01" \
    --workers 3 --children 5000 --date 1999-12-31
CPSYNC_TODAY=2023-02-10 refused "--date two days ahead" "--date 2023-02-12 is in the future" \
    --workers 3 --children 5000 --date 2023-02-12
CPSYNC_TODAY=2023-02-10 "$bin/cpsync-node" staff set --data "$work/nowhere" --workers 3 \
    --children 5000 > /dev/null 2>&1
check "staff set on a directory that is not a node: exit 2" [ $? = 2 ]
"$bin/cpsync-node" staff --data "$nodes/kucove" > /dev/null 2>&1
check "staff without set or list: exit 2" [ $? = 2 ]
"$bin/cpsync-node" staff list --data "$nodes/kucove" --format csv > /dev/null 2> "$work/bad.err"
rc=$?
check "staff list --format csv: exit 2, named" \
    eval '[ $rc = 2 ] && grep -q "format is json or table" "$work/bad.err"'

# ---------------------------------------------------------------------------
#  Shipped to the central; workforce as computed from the table.
start_central
for code in berat kucove durres; do start_node "$code" "$endpoint"; done
check "the staff_set events are acknowledged" wait_acked 60 berat kucove durres

#   workforce OUT CODE ARGS...: workforce --format json into OUT; true when
#   it exits CODE.
workforce () {
    local out=$1 code=$2; shift 2
    "$bin/cpsync-central" workforce --data "$central" "$@" > "$out" 2> "$out.err"
    [ $? = "$code" ]
}

#   truth JSON PERIOD SCOPE: workforce's document equals what the table of
#   staffings gives, computed here.
truth () {
    python3 - "$work/staffing.txt" "$municipalities" "$@" <<'PY'
import csv, datetime, json, sys
from fractions import Fraction
table, municipalities, path, period, scope = sys.argv [1:]
document = json.load (open (path))
if "-Q" in period:
    year, quarter = int (period [:4]), int (period [-1])
    end = datetime.date (year + (quarter == 4), (3 * quarter) % 12 + 1, 1) \
        - datetime.timedelta (days = 1)
else:
    end = datetime.date (int (period), 12, 31)
# The staffing in effect at the end: the latest date on or before it (a
# later set for the same date would replace an earlier one).
effect = {}
for line in open (table):
    code, date, workers, children = line.split ()
    date = datetime.date.fromisoformat (date)
    if date <= end and (code not in effect or date >= effect [code] [0]):
        effect [code] = (date, int (workers), int (children))

def ratio (children, workers):
    if workers == 0:
        return None
    tenths = Fraction (children * 10, workers)
    return float (int (tenths + Fraction (1, 2))) / 10

def group (members):
    got = [effect [r ["code"]] for r in members if r ["code"] in effect]
    workers, children = sum (g [1] for g in got), sum (g [2] for g in got)
    return {"workers": workers, "children": children,
            "children_per_worker": ratio (children, workers),
            "above_target": children > 3000 * workers if got else None,
            "reported": len (got), "no_report": len (members) - len (got),
            "above_target_count": sum (g [2] > 3000 * g [1] for g in got)}

rows = list (csv.DictReader (open (municipalities)))
kind, _, name = scope.partition (":")
inside = [r for r in rows if kind == "national" or (kind == "county" and r ["county"] == name)
          or (kind == "municipality" and r ["code"] == name)]
expected = {"period": period, "scope": scope, "as_of": end.isoformat (), "target": 3000,
            "counties": [], "total": group (inside)}
for county in dict.fromkeys (r ["county"] for r in inside):
    members = [r for r in inside if r ["county"] == county]
    entries = []
    for r in members:
        e = effect.get (r ["code"])
        entries.append ({"code": r ["code"], "name": r ["name"],
            "status": "no_report" if not e else
                      "above_target" if e [2] > 3000 * e [1] else "within_target",
            "since": e [0].isoformat () if e else None, "workers": e [1] if e else None,
            "children": e [2] if e else None,
            "children_per_worker": ratio (e [2], e [1]) if e else None,
            "above_target": e [2] > 3000 * e [1] if e else None})
    expected ["counties"].append (dict ({"county": county, "name": next (
        r ["name"] for r in rows if r ["code"] == county), "municipalities": entries},
        **group (members)))
if document != expected:
    for key in sorted (set (document) | set (expected)):
        if document.get (key) != expected.get (key):
            print ("    %s %s %s: workforce %s, expected %s" % (period, scope, key,
                   json.dumps (document.get (key)) [:300], json.dumps (expected.get (key)) [:300]))
    sys.exit (1)
PY
}

for args in "2022 national" "2022-Q1 national" "2022-Q2 county:berat" "2022-Q3 county:berat" \
            "2021 national" "2022 municipality:polican" "2023 county:durres" "2022-Q4 national"; do
    set -- $args
    check "$1 $2: workforce answers while the central runs (exit 0)" \
        workforce "$work/w.json" 0 --period "$1" --scope "$2" --format json
    check "$1 $2: every figure as computed from the staffings set" truth "$work/w.json" "$1" "$2"
done

#   figure JSON PYTHON: a condition on workforce's document (d).
figure () {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load (open (sys.argv [1]))
m = {e ["code"]: e for c in d ["counties"] for e in c ["municipalities"]}
county = {c ["county"]: c for c in d ["counties"]}
sys.exit (0 if eval ("(" + sys.argv [2] + ")") else 1)
PY
}
workforce "$work/w2022.json" 0 --period 2022 --format json
check "2022: berat's later set (6 workers, 2533.3), kucove above target (3500.0)" \
    figure "$work/w2022.json" 'm ["berat"] ["workers"] == 6 and m ["berat"] ["since"] ==
        "2022-07-01" and m ["berat"] ["children_per_worker"] == 2533.3 and
        m ["kucove"] ["status"] == "above_target" and m ["kucove"] ["children_per_worker"] == 3500.0
        and m ["polican"] ["status"] == "no_report" and d ["total"] ["above_target_count"] == 1'
check "... the nation: 17 workers, 42200 children, 2482.4 per worker, 3 of 61 reported" \
    figure "$work/w2022.json" 'd ["total"] ["workers"] == 17 and d ["total"] ["children"] == 42200
        and d ["total"] ["children_per_worker"] == 2482.4 and d ["total"] ["reported"] == 3
        and d ["total"] ["no_report"] == 58 and d ["total"] ["above_target"] is False'
workforce "$work/wq1.json" 0 --period 2022-Q1 --format json
check "2022-Q1: berat's earlier set (4 workers, 3750.0, above target)" \
    figure "$work/wq1.json" 'm ["berat"] ["workers"] == 4 and m ["berat"] ["above_target"] and
        m ["berat"] ["children_per_worker"] == 3750.0 and d ["total"] ["above_target_count"] == 2
        and county ["berat"] ["children_per_worker"] == 3666.7 and county ["berat"] ["above_target"]'
workforce "$work/w2023.json" 0 --period 2023 --format json
check "2023: durres's set of 2023-02-10 (10 workers)" \
    figure "$work/w2023.json" 'm ["durres"] ["workers"] == 10 and m ["durres"] ["since"] == "2023-02-10"'

"$bin/cpsync-central" workforce --data "$central" --period 2022 > "$work/w.txt" 2>&1
check "the table's national line and the one above target" eval \
    'grep -qx "national: 17 workers, 42200 children, 2482.4 children per worker; 3 of 61 reported, 1 above target" "$work/w.txt" &&
     grep -qx "above target: kucove (3500.0)" "$work/w.txt" &&
     grep -qx "  polican        no report" "$work/w.txt"'

# ---------------------------------------------------------------------------
#  berat lost its disk: set up again, recovered, its staffing is back.
stop_node berat
step "rotate-node berat" "$bin/cpsync-admin" rotate-node --central "$central" berat \
    --out "$work/berat-2.bundle"
rm -rf "$nodes/berat"
step "init berat again" "$bin/cpsync-node" init --data "$nodes/berat" --municipality berat
step "enrol berat again" "$bin/cpsync-node" enrol --data "$nodes/berat" --bundle "$work/berat-2.bundle"
step "recover berat" "$bin/cpsync-node" recover --data "$nodes/berat" --central "$endpoint" \
    --timeout 120
"$bin/cpsync-node" staff list --data "$nodes/berat" > "$work/list-again.json"
check "recover brings berat's staffing back" cmp -s "$work/list.json" "$work/list-again.json"

for code in kucove durres; do stop_node "$code"; done
stop_central

# ---------------------------------------------------------------------------
#  Bad input to workforce: exit 2, named, and the store untouched (the
#  daemons stopped, so that nothing else writes to it).
sum_before=$(md5sum < "$central/store/data.mdb")
#   refused_central WHAT MESSAGE ARGS...
refused_central () {
    local what=$1 message=$2; shift 2
    "$bin/cpsync-central" workforce --data "$central" "$@" > "$work/bad.out" 2> "$work/bad.err"
    local rc=$?
    if [ $rc = 2 ] && grep -qF -- "$message" "$work/bad.err" && [ ! -s "$work/bad.out" ]; then
        ok "workforce refuses $what: $(head -1 "$work/bad.err")"
    else
        fail "workforce $what: exit $rc, $(head -1 "$work/bad.err")"
    fi
}
refused_central "no --period" "workforce needs --period YYYY or YYYY-Qn"
refused_central "--period 2022-Q5" "workforce needs --period YYYY or YYYY-Qn" --period 2022-Q5
refused_central "--period 22" "workforce needs --period YYYY or YYYY-Qn" --period 22
refused_central "--period 1999" "workforce needs --period YYYY or YYYY-Qn" --period 1999
refused_central "--period 2100" "of a year from 2000 to 2099" --period 2100
refused_central "--period ''" "workforce needs --period YYYY or YYYY-Qn" --period ""
refused_central "--scope county:nowhere" "--scope must be national, county:CODE or municipality" \
    --period 2022 --scope county:nowhere
refused_central "--scope municipality:berati" "--scope must be national" \
    --period 2022 --scope municipality:berati
refused_central "--scope region:berat" "--scope must be national" --period 2022 --scope region:berat
refused_central "--format csv" "--format must be json or table" --period 2022 --format csv
"$bin/cpsync-central" workforce --data "$work/nowhere" --period 2022 > /dev/null 2>&1
check "workforce on a directory that is not a central: exit 2" [ $? = 2 ]
check "the refused commands left the central's store as it was" \
    [ "$(md5sum < "$central/store/data.mdb")" = "$sum_before" ]

finish
