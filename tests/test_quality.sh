#!/usr/bin/env bash
# cpsync-central quality and deadline: completeness and timeliness (the
# issue "Governance", point 2), with real processes.
#
# The central's clock is set by CPSYNC_NOW_MS (when events arrive) and
# CPSYNC_TODAY (its today), so arrivals fall before or after a deadline:
#   phase 1, the central at 2023-04-10 12:00 UTC: berat ships events of
#     2023-Q1 (on time); dimal ships events of 2022 only (late for 2022-Q4,
#     nothing for 2023); tirane, whose node's clock runs ahead (its today
#     2023-04-26), ships events dated up to 2023-04-25, after the central's
#     today;
#   phase 2, the central at 2023-04-20 08:00 UTC, past 2023-Q1's default
#     deadline (2023-04-15): kucove ships its 2023-Q1 events (late, 5
#     days), berat more of 2023-Q1 (still on time, revised after the
#     deadline);
#   the other 57 municipalities never report.
# Every figure of quality's JSON (per municipality: timeliness, days late,
# first and last arrival, events, events ahead, caught up, lag; per county
# and for the scope: the counts and the completeness rate) is compared with
# what this script computes from the event files and the clocks it set, for
# several periods, scopes and deadlines (the default, a year's set with
# `deadline set`, unset again).  Each node waits before it stops until it
# has checked the central's figures and shipped its verdict, so every
# municipality that reported is in_sync and the others unknown.  Bad input is refused with exit 2 and a
# message that names it.
#
#   test_quality.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" quality "$@"
central=$work/central
nodes=$work/nodes
mkdir -p "$nodes" "$work/events"

#   events FILE PREFIX COUNT FROM TO: COUNT cases opened, each with a home
#   visit on the same day, dated evenly from FROM to TO.
events () {
    python3 - "$@" <<'PY'
import datetime, sys
path, prefix, count, first, last = sys.argv [1], sys.argv [2], int (sys.argv [3]), \
    datetime.date.fromisoformat (sys.argv [4]), datetime.date.fromisoformat (sys.argv [5])
span = (last - first).days
with open (path, "w") as out:
    for n in range (count):
        day = (first + datetime.timedelta (days = span * n // max (count - 1, 1))).isoformat ()
        out.write ('{"id":"%s-o%d","type":"case_opened","case":"%s-c%d","date":"%s","age":9,'
                   '"sex":"F","ethnicity":"roma","referral":"police"}\n' % (prefix, n, prefix, n, day))
        out.write ('{"id":"%s-v%d","type":"home_visit","case":"%s-c%d","date":"%s"}\n'
                   % (prefix, n, prefix, n, day))
PY
}
events "$work/events/berat-1.jsonl" b1 20 2023-01-02 2023-03-30
events "$work/events/berat-2.jsonl" b2 5 2023-02-01 2023-02-28
events "$work/events/dimal-1.jsonl" d1 15 2022-01-10 2022-12-20
events "$work/events/tirane-1.jsonl" t1 25 2023-03-01 2023-04-25
events "$work/events/kucove-2.jsonl" k2 12 2023-01-15 2023-03-15

T1=$(date -u -d 2023-04-10T12:00:00Z +%s)000     # phase 1's clock, ms
T2=$(date -u -d 2023-04-20T08:00:00Z +%s)000     # phase 2's
NOW=$(date -u -d 2023-05-01T00:00:00Z +%s)000    # when quality is asked

step "cpsync-central init" "$bin/cpsync-central" init --data "$central" --listen "$endpoint"
for code in berat dimal tirane kucove; do
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
    step "cpsync-admin enrol $code" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle"
    step "cpsync-node enrol $code" "$bin/cpsync-node" enrol --data "$nodes/$code" \
        --bundle "$work/$code.bundle"
done

#   wait_in_sync SECONDS CODE...: each node has checked the central's
#   figures (FIGURES), found them its own and shipped its verdict.
wait_in_sync () {
    local deadline=$(( SECONDS + $1 )) code; shift
    while [ $SECONDS -lt $deadline ]; do
        for code in "$@"; do
            "$bin/cpsync-node" status --data "$nodes/$code" --format json 2>/dev/null | python3 -c '
import json, sys; s = json.load (sys.stdin)
sys.exit (0 if s ["reconciliation"] ["verdict"] == "in_sync" and s ["acked"] == s ["head"] else 1)' \
                || continue 2
        done
        return 0
    done
    return 1
}

#   ship PHASE CENTRAL_TODAY NOW_MS NODE_TODAY CODE...: imports each CODE's
#   file of the phase and ships it to the central running at that clock.
ship () {
    local phase=$1 today=$2 now=$3 node_today=$4 code; shift 4
    for code in "$@"; do
        CPSYNC_TODAY=$node_today step "import $code, phase $phase" "$bin/cpsync-node" import \
            --data "$nodes/$code" "$work/events/$code-$phase.jsonl"
    done
    CPSYNC_TODAY=$today CPSYNC_NOW_MS=$now start_central
    for code in "$@"; do CPSYNC_TODAY=$node_today start_node "$code" "$endpoint"; done
    check "phase $phase: $* shipped" wait_acked 60 "$@"
    check "phase $phase: $* find the central's figures their own, and say so" \
        wait_in_sync 30 "$@"
    for code in "$@"; do stop_node "$code"; done
    stop_central
}
ship 1 2023-04-10 "$T1" 2023-04-26 berat dimal tirane
ship 2 2023-04-20 "$T2" 2023-04-26 kucove berat

#   The arrivals this script made: (file, arrival ms, central's today).
cat > "$work/arrivals.json" <<EOF
[["berat-1", $T1, "2023-04-10"], ["dimal-1", $T1, "2023-04-10"],
 ["tirane-1", $T1, "2023-04-10"], ["kucove-2", $T2, "2023-04-20"],
 ["berat-2", $T2, "2023-04-20"]]
EOF

#   quality OUT CODE ARGS...: quality --format json at the query's clock
#   into OUT; true when it exits CODE.
quality () {
    local out=$1 code=$2; shift 2
    CPSYNC_TODAY=2023-05-01 CPSYNC_NOW_MS=$NOW "$bin/cpsync-central" quality --data "$central" \
        "$@" > "$out" 2> "$out.err"
    [ $? = "$code" ]
}

#   truth JSON PERIOD SCOPE DAYS: quality's document of PERIOD and SCOPE
#   equals what the event files and the clocks give with a deadline DAYS
#   days after the period's last day.
truth () {
    python3 - "$work" "$municipalities" "$NOW" "$@" <<'PY'
import csv, datetime, json, sys
work, municipalities, now, path, period, scope, days = sys.argv [1:]
now, days = int (now), int (days)
document = json.load (open (path))
day = datetime.date.fromisoformat
if "-Q" in period:
    year, quarter = int (period [:4]), int (period [-1])
    start = datetime.date (year, 3 * quarter - 2, 1)
    end = (datetime.date (year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
           - datetime.timedelta (days = 1))
else:
    start, end = datetime.date (int (period), 1, 1), datetime.date (int (period), 12, 31)
deadline = (datetime.date (end.year, 12, 31) if "-Q" not in period else end) \
    + datetime.timedelta (days = days)
deadline_end = (deadline - datetime.date (1970, 1, 1)).days * 86400000 + 86400000
today = day ("2023-05-01")
instant = lambda ms: datetime.datetime.fromtimestamp (ms / 1000, datetime.timezone.utc) \
    .strftime ("%Y-%m-%dT%H:%M:%SZ")

# Per municipality: the events dated in the period, when they arrived,
# how many were dated after the central's today then; last seen.
got = {}
seen = {}
for name, at, central_today in json.load (open (work + "/arrivals.json")):
    code = name.split ("-") [0]
    seen [code] = max (seen.get (code, 0), at)
    for line in open ("%s/events/%s.jsonl" % (work, name)):
        date = day (json.loads (line) ["date"])
        if not start <= date <= end:
            continue
        entry = got.setdefault (code, {"events": 0, "first": at, "last": at, "ahead": 0,
                                       "latest": date})
        entry ["events"] += 1
        entry ["first"], entry ["last"] = min (entry ["first"], at), max (entry ["last"], at)
        entry ["ahead"] += date > day (central_today)
        entry ["latest"] = max (entry ["latest"], date)

rows = list (csv.DictReader (open (municipalities)))
kind, _, name = scope.partition (":")
inside = [r for r in rows if kind == "national" or (kind == "county" and r ["county"] == name)
          or (kind == "municipality" and r ["code"] == name)]
passed = today > deadline
expected = {"period": period, "scope": scope, "today": "2023-05-01",
            "deadline": deadline.isoformat (), "deadline_days": days,
            "deadline_passed": passed, "counties": []}
names = ["on_time", "late", "missing", "pending"]
reconciled = {"in_sync": 0, "diverged": 0, "unknown": 0}
total = dict.fromkeys (names, 0)
ahead_total = 0
for county in dict.fromkeys (r ["county"] for r in inside):
    counts = dict.fromkeys (names, 0)
    members = []
    for r in (r for r in inside if r ["county"] == county):
        e = got.get (r ["code"])
        status = ("on_time" if e ["first"] < deadline_end else "late") if e \
            else ("missing" if passed else "pending")
        counts [status] += 1
        last_seen = seen.get (r ["code"])
        members.append ({
            "code": r ["code"], "name": r ["name"], "caught_up": last_seen is not None,
            "backlog": 0, "lag_seconds": (now - last_seen) // 1000 if last_seen else None,
            "last_seen": instant (last_seen) if last_seen else None, "timeliness": status,
            "events": e ["events"] if e else 0,
            "first_arrival": instant (e ["first"]) if e else None,
            "last_arrival": instant (e ["last"]) if e else None,
            "days_late": (datetime.datetime.fromtimestamp (e ["first"] / 1000,
                          datetime.timezone.utc).date () - deadline).days
                         if status == "late" else None,
            "arrived_after_deadline": bool (e) and e ["last"] >= deadline_end,
            "ahead_events": e ["ahead"] if e else 0,
            "clock_ahead": bool (e) and e ["ahead"] > 0,
            "latest_date": e ["latest"].isoformat () if e else None,
            # Every node that shipped found its figures the central's
            "reconciliation": "in_sync" if last_seen else "unknown",
            "reconciliation_periods": []})
        reconciled [members [-1] ["reconciliation"]] += 1
        ahead_total += e ["ahead"] if e else 0
    rate = dict (counts, municipalities = len (members),
                 completeness = counts ["on_time"] / len (members))
    expected ["counties"].append ({"county": county, "name": next (
        r ["name"] for r in rows if r ["code"] == county), "rate": rate, "municipalities": members})
    for key in names:
        total [key] += counts [key]
expected ["rate"] = dict (total, municipalities = len (inside),
                          completeness = total ["on_time"] / len (inside))
expected ["ahead_events"] = ahead_total
expected ["reconciliation"] = "in_sync" if reconciled ["unknown"] == 0 else "unknown"
expected ["reconciliation_counts"] = reconciled

def differences (a, b, where):
    if isinstance (a, dict) and isinstance (b, dict):
        for key in sorted (set (a) | set (b)):
            if key == "deadline_set":
                continue
            yield from differences (a.get (key, "(none)"), b.get (key, "(none)"), where + "." + key)
    elif isinstance (a, list) and isinstance (b, list) and len (a) == len (b):
        for n, (x, y) in enumerate (zip (a, b)):
            yield from differences (x, y, "%s[%d]" % (where, n))
    elif isinstance (a, float) or isinstance (b, float):
        if not (isinstance (a, (int, float)) and isinstance (b, (int, float))
                and abs (a - b) < 1e-9):
            yield where, a, b
    elif a != b or type (a) != type (b):
        yield where, a, b
found = list (differences (document, expected, period + " " + scope))
for where, a, b in found [:10]:
    print ("    %s: quality %r, expected %r" % (where, a, b))
# A check that proves something: some municipality reported.
sys.exit (1 if found or expected ["rate"] ["on_time"] + expected ["rate"] ["late"] == 0 else 0)
PY
}

#   figure JSON PYTHON: a condition on quality's document (d).
figure () {
    python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load (open (sys.argv [1]))
m = {e ["code"]: e for c in d.get ("counties", []) for e in c ["municipalities"]}
county = {c ["county"]: c for c in d.get ("counties", [])}
sys.exit (0 if eval ("(" + sys.argv [2] + ")") else 1)
PY
}

# ---------------------------------------------------------------------------
#  The default deadline (15 days)
for args in "2023-Q1 national" "2023-Q1 county:berat" "2023-Q1 municipality:kucove" \
            "2023-Q2 national" "2023 national" "2022-Q4 county:berat" "2022 national"; do
    set -- $args
    check "$1 $2: quality answers (exit 0)" quality "$work/q.json" 0 --period "$1" --scope "$2" \
        --format json
    check "$1 $2: every figure as computed from the events and the clocks" \
        truth "$work/q.json" "$1" "$2" 15
done

quality "$work/q1.json" 0 --period 2023-Q1 --format json
check "2023-Q1: berat on time, kucove late by 5 days, dimal and polican missing" \
    figure "$work/q1.json" 'm ["berat"] ["timeliness"] == "on_time" and
        m ["kucove"] ["timeliness"] == "late" and m ["kucove"] ["days_late"] == 5 and
        m ["kucove"] ["first_arrival"] == "2023-04-20T08:00:00Z" and
        m ["dimal"] ["timeliness"] == "missing" and m ["polican"] ["timeliness"] == "missing"'
check "... berat revised after the deadline, still on time" \
    figure "$work/q1.json" 'm ["berat"] ["arrived_after_deadline"] and m ["berat"] ["events"] == 50'
check "... dimal's node is caught up though it reported nothing; polican's was never heard" \
    figure "$work/q1.json" 'm ["dimal"] ["caught_up"] and not m ["polican"] ["caught_up"]
        and m ["polican"] ["last_seen"] is None'
check "... county berat: 1 of 5 on time (0.2); the nation 2 of 61" \
    figure "$work/q1.json" 'county ["berat"] ["rate"] ["completeness"] == 0.2 and
        d ["rate"] ["on_time"] == 2 and d ["rate"] ["municipalities"] == 61'
quality "$work/q2.json" 0 --period 2023-Q2 --format json
check "2023-Q2: tirane's events dated after the central's today are counted and flagged" \
    figure "$work/q2.json" 'm ["tirane"] ["clock_ahead"] and m ["tirane"] ["ahead_events"] == 14
        and m ["tirane"] ["latest_date"] == "2023-04-25" and d ["ahead_events"] == 14'
check "... its deadline not passed: the rest are pending, not missing" \
    figure "$work/q2.json" 'd ["rate"] ["pending"] == 60 and d ["rate"] ["missing"] == 0'

# ---------------------------------------------------------------------------
#  A deadline set for 2023, then unset
step "deadline set 2023 30" "$bin/cpsync-central" deadline set --data "$central" --year 2023 --days 30
quality "$work/q.json" 0 --period 2023-Q1 --scope county:berat --format json
check "2023-Q1 with 30 days: as computed (kucove on time)" truth "$work/q.json" 2023-Q1 county:berat 30
check "... kucove on time, the deadline said to be set" \
    figure "$work/q.json" 'm ["kucove"] ["timeliness"] == "on_time" and d ["deadline_set"]
        and d ["deadline"] == "2023-04-30"'
step "deadline set 2023 3" "$bin/cpsync-central" deadline set --data "$central" --year 2023 --days 3
for scope in national county:tirane; do
    quality "$work/q.json" 0 --period 2023-Q1 --scope $scope --format json
    check "2023-Q1 $scope with 3 days: as computed (no one on time)" \
        truth "$work/q.json" 2023-Q1 $scope 3
done
quality "$work/q.json" 0 --period 2022-Q4 --scope county:berat --format json
check "2022's deadline is untouched" truth "$work/q.json" 2022-Q4 county:berat 15
"$bin/cpsync-central" deadline list --data "$central" --format json > "$work/list.json"
check "deadline list shows 2023's" figure "$work/list.json" \
    'd ["years"] == [{"year": 2023, "days": 3}] and d ["default_days"] == 15'
step "deadline unset 2023" "$bin/cpsync-central" deadline unset --data "$central" --year 2023
quality "$work/q.json" 0 --period 2023-Q1 --format json
check "unset: the default again" truth "$work/q.json" 2023-Q1 national 15

quality "$work/table.txt" 0 --period 2023-Q1 --scope county:berat
check "the table names the delivery and the rate" \
    grep -q "county berat (Berat): on time 1 of 5 (20.0%), late 1, missing 3" "$work/table.txt"
check "... and kucove's lateness" grep -Eq "^  kucove .* late .* 5d " "$work/table.txt"

# ---------------------------------------------------------------------------
#  Bad input: exit 2 and a message that names it; nothing changed
quality "$work/bad.out" 2 --period 2023-Q5
check "a bad period: exit 2, named" grep -q "quality needs --period" "$work/bad.out.err"
quality "$work/bad.out" 2 --period 2150
check "a period after 2099: exit 2, named" grep -q "year from 2000 to 2099" "$work/bad.out.err"
quality "$work/bad.out" 2 --period 2023 --scope county:atlantis
check "a bad scope: exit 2, named" grep -q "scope must be" "$work/bad.out.err"
quality "$work/bad.out" 2 --period 2023 --format xml
check "a bad format: exit 2, named" grep -q "format must be json or table" "$work/bad.out.err"
quality "$work/bad.out" 2 --period 2023 --data "$work/nowhere"
check "not a central: exit 2" grep -q "not a cpsync central" "$work/bad.out.err"
#   refused PATTERN ARGS...: deadline ARGS exits 2 with PATTERN on stderr.
refused () {
    local pattern=$1; shift
    "$bin/cpsync-central" deadline "$@" --data "$central" > "$work/d.out" 2> "$work/d.err"
    [ $? = 2 ] && grep -q "$pattern" "$work/d.err"
}
check "negative days: exit 2, named" refused "must not be negative" set --year 2023 --days -1
check "absurd days: exit 2, named" refused "at most 365" set --year 2023 --days 400
check "days that are not a number: exit 2" refused "whole number" set --year 2023 --days 1O
check "a year before 2000: exit 2" refused "year from 2000" set --year 1999 --days 10
check "no year: exit 2" refused "year from 2000" set --days 10
check "an unknown action: exit 2" refused "set, unset or list" frob --year 2023
"$bin/cpsync-central" deadline list --data "$central" --format json > "$work/list.json"
check "... none of them changed a deadline" figure "$work/list.json" 'd ["years"] == []'
finish
