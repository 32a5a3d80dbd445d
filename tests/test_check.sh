#!/usr/bin/env bash
# cpsync-central check: the consistency rules on the central's own views and
# on a published table (the issue "Governance", point 1), with real
# processes.
#
# Three municipalities' generated events are shipped to a central by
# cpsync-fleet.  Then:
#   - on every scope (the nation, 12 counties, 61 municipalities) of several
#     periods, the central's views break no rule (exit 0), and each view
#     checked is the one query prints;
#   - the State Agency's 2022 table as the repository keeps it (440 girls)
#     breaks none; with its summary table's 240 girls it breaks "by sex",
#     and the finding gives the figures and the difference (exit 1); other
#     damage (a measure confirmed more often than taken, a negative figure,
#     one of the two problem tables off by one) is named as well;
#   - a report that is not JSON, of another period, and an unknown scope
#     are refused with exit 2 and a message that names what was wrong.
#
#   test_check.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" check "$@"
report=$source/tests/data/report-2022.json
central=$work/data/central

mkdir -p "$work/events"
seed=11
for code in berat kucove tirane; do
    "$bin/gen_events" --seed $seed --events 4000 --from 2020-01-01 --to 2023-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships three municipalities' events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

#  check_json OUT CODE ARGS...: runs check --format json into OUT; true
#  when it exits CODE.
check_json () {
    local out=$1 code=$2; shift 2
    "$bin/cpsync-central" check --data "$central" --format json "$@" > "$out" 2> "$out.err"
    [ $? = "$code" ]
}

#  python3 over a check's JSON: ARGS are files, the script on stdin.
json () { python3 - "$@"; }

for period in 2021 2022 2022-Q1 2023-Q4; do
    check "$period, every scope: no rule broken (exit 0)" \
        check_json "$work/all.json" 0 --period "$period" --scope all
    check "$period: the nation, 12 counties and 61 municipalities were checked" json \
        "$work/all.json" <<'PY'
import json, sys
result = json.load (open (sys.argv [1]))
scopes = [entry ["scope"] for entry in result ["checked"]]
sys.exit (0 if result ["broken"] == 0 and len (scopes) == 74 and len (set (scopes)) == 74
          and scopes [0] == "national" else 1)
PY
done

#  The view checked is the view query prints: its figures broken by hand
#  (a girl fewer) must break the sex rule, and nothing else.
"$bin/cpsync-central" query --data "$central" --period 2022 --scope county:berat --format json \
    > "$work/view.json"
json "$work/view.json" "$work/view-short.json" <<'PY'
import json, sys
view = json.load (open (sys.argv [1]))
assert view ["new"] > 0 and view ["managed"] > 0, "an empty view proves nothing"
view ["new_by_sex"] ["F"] -= 1
json.dump (view, open (sys.argv [2], "w"))
PY
check "the county view as query prints it breaks no rule" \
    check_json "$work/view.out" 0 --period 2022 --report "$work/view.json"
check "with a girl fewer it breaks one (exit 1)" \
    check_json "$work/view.out" 1 --period 2022 --report "$work/view-short.json"
check "... the sex rule, short by one" json "$work/view.out" <<'PY'
import json, sys
result = json.load (open (sys.argv [1]))
findings = [f for entry in result ["checked"] for f in entry ["findings"]]
sys.exit (0 if len (findings) == 1 and findings [0] ["key"] == "new_by_sex"
          and findings [0] ["difference"] == -1 else 1)
PY

check "the 2022 report as kept (440 girls) breaks no rule" \
    check_json "$work/report.out" 0 --period 2022 --report "$report"

#  damaged NAME PYTHON: the report changed by PYTHON (on `report`) into
#  $work/NAME.json.
damaged () {
    python3 - "$report" "$work/$1.json" "$2" <<'PY'
import json, sys
report = json.load (open (sys.argv [1]))
exec (sys.argv [3])
json.dump (report, open (sys.argv [2], "w"))
PY
}
damaged girls240 'report ["new_by_sex"] ["F"] = 240'
"$bin/cpsync-central" check --data "$central" --period 2022 --report "$work/girls240.json" \
    > "$work/girls.txt" 2>&1
check "the summary table's 240 girls: exit 1" [ $? = 1 ]
check "... it names the rule" grep -q "rule broken: the new cases by sex add up to the new cases" \
    "$work/girls.txt"
check "... the figures" grep -q "new_by_sex: F 240 + M 547 = 787" "$work/girls.txt"
check "... the whole" grep -q "^  new: 987" "$work/girls.txt"
check "... and the difference" grep -q "difference: -200" "$work/girls.txt"
check "... and breaks nothing else" grep -q "2 view(s) of 2022: 1 broken" "$work/girls.txt"
check "in JSON, the same finding of the report alone" check_json "$work/girls.json.out" 1 \
    --period 2022 --report "$work/girls240.json"
check "... with its figures" json "$work/girls.json.out" "$work/girls240.json" <<'PY'
import json, sys
result = json.load (open (sys.argv [1]))
entries = {entry ["source"]: entry for entry in result ["checked"]}
report = entries [sys.argv [2]]
central = entries ["central"]
finding = report ["findings"] [0] if len (report ["findings"]) == 1 else {}
sys.exit (0 if result ["broken"] == 1 and central ["findings"] == []
          and finding.get ("key") == "new_by_sex" and finding.get ("sum") == 787
          and finding.get ("expected") == 987 and finding.get ("difference") == -200
          and finding.get ("terms") == {"F": 240, "M": 547} else 1)
PY

damaged other 'report ["measures_court_confirmed"] ["emergency_removal"] = 60
report ["closed_by_reason"] ["death"] = -2
report ["managed_by_problem_catalogue_2"] ["other"] = 99'
check "other damage: exit 1" check_json "$work/other.out" 1 --period 2022 \
    --report "$work/other.json"
check "... each named: a measure, a negative figure, a sum, catalogue 2's table" \
    json "$work/other.out" <<'PY'
import json, sys
result = json.load (open (sys.argv [1]))
found = sorted ((f ["key"], f.get ("code", ""), f.get ("difference"))
                for entry in result ["checked"] for f in entry ["findings"])
expected = sorted ([("measures_court_confirmed", "emergency_removal", 1),
                    ("closed_by_reason.death", "", None),
                    ("closed_by_reason", "", -4),
                    ("managed_by_problem_catalogue_2", "", 1)])
print ("    found:", found)
sys.exit (0 if found == expected else 1)
PY

#  Bad input: exit 2, a message that names it.
printf '{"new": 1,' > "$work/broken.json"
check_json "$work/broken.out" 2 --period 2022 --report "$work/broken.json"
check "a report that is not JSON: exit 2" [ $? = 0 ]
check "... named" grep -q "broken.json: not a JSON object" "$work/broken.out.err"
check_json "$work/period.out" 2 --period 2021 --report "$report"
check "a report of another period: exit 2, named" grep -q "is of period 2022, not 2021" \
    "$work/period.out.err"
check_json "$work/scope.out" 2 --period 2022 --scope county:atlantis
check "an unknown scope: exit 2, named" grep -q "scope must be" "$work/scope.out.err"
check_json "$work/missing.out" 2 --period 2022 --report "$work/nowhere.json"
check "a report that cannot be read: exit 2, named" grep -q "nowhere.json: cannot be read" \
    "$work/missing.out.err"
finish
