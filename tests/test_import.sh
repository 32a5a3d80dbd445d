#!/usr/bin/env bash
#  test_import: cpsync-node's init, import, view and status, driven through
#  the binary as an operator (or an outside test) would drive it.
#
#  For every validation rule of docs/events.md a file holds one bad line between
#  good ones: the import exits 1, prints exactly one "FILE:LINE: reason"
#  naming the field, imports the good lines, and the bad line changes
#  nothing (the view is byte-identical to that of the file without it, and
#  its id is still free).  Then re-imports, files that are not JSON, usage
#  and environment errors, two imports into one node at once, a map that
#  must grow, and the view's table and CSV forms.
#
#  Usage: test_import.sh CPSYNC_NODE [DIR]   (a temporary directory is made
#  under DIR, default $TMPDIR or /tmp, and removed at the end).

set -u

NODE=${1:?usage: test_import.sh CPSYNC_NODE [DIR]}
BASE=${2:-${TMPDIR:-/tmp}}
WORK=$(mktemp -d "$BASE/test_import.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
export CPSYNC_TODAY=2023-06-30          # dates up to 2023-07-01 are accepted
unset CPSYNC_MAPSIZE

PASSED=0
FAILED=0
PROBLEMS=()                             # what went wrong in the current test

#  problem MESSAGE: records a failed expectation of the current test.
problem () {
    PROBLEMS+=("$1")
}

#  verdict NAME: closes the current test.
verdict () {
    if [ ${#PROBLEMS[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
        echo "ok   $1"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL $1"
        local line
        for line in "${PROBLEMS[@]}"; do
            echo "     $line"
        done
    fi
    PROBLEMS=()
}

#  run NAME COMMAND...: runs a command; its stdout, stderr and exit code
#  are in $WORK/NAME.out, $WORK/NAME.err and $RC.
run () {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    RC=$?
}

#  expect_rc WANTED WHAT: checks $RC.
expect_rc () {
    if [ "$RC" != "$1" ]; then
        problem "$2: exit code $RC, expected $1"
    fi
}

#  contains FILE TEXT WHAT: checks that FILE holds TEXT (fixed string).
contains () {
    if ! grep -qF -- "$2" "$1"; then
        problem "$3: no '$2' in: $(head -c 400 "$1")"
    fi
}

#  json FILE EXPR: prints a Python expression over d = the JSON in FILE.
json () {
    python3 -c 'import json, sys; d = json.load (open (sys.argv [1])); print (eval (sys.argv [2]))' \
        "$1" "$2" 2>/dev/null || echo "(not JSON)"
}

#  status_of DIR KEY: a field of `status --format json`.
status_of () {
    "$NODE" status --data "$1" --format json >"$WORK/status.json" 2>"$WORK/status.err" \
        || { echo "(status failed)"; return; }
    json "$WORK/status.json" "d ['$2']"
}

#  init DIR [ARGS...]: sets up a node for municipality 11.
init () {
    local dir=$1
    shift
    if ! "$NODE" init --data "$dir" --municipality 11 "$@" >"$WORK/init.out" 2>"$WORK/init.err"; then
        problem "init $dir failed: $(cat "$WORK/init.err")"
    fi
}

#  view DIR PERIOD OUT [ARGS...]: writes the JSON view into OUT.
view () {
    local dir=$1 period=$2 out=$3
    shift 3
    if ! "$NODE" view --data "$dir" --period "$period" "$@" >"$out" 2>"$WORK/view.err"; then
        problem "view $period of $dir failed: $(cat "$WORK/view.err")"
    fi
}

#  summary_is FILE IMPORTED DUPLICATE REJECTED: checks an import's summary line.
summary_is () {
    contains "$1" "$2 imported, $3 duplicate, $4 rejected" "summary"
}

#  =====================================================================
#  The good lines around every bad one, and the node they make

PREFIX=$WORK/prefix.jsonl
SUFFIX=$WORK/suffix.jsonl
cat >"$PREFIX" <<'EOF'
{"id":"g1","type":"case_opened","case":"c1","date":"2022-03-14","age":14,"sex":"F","ethnicity":"roma","referral":"police"}
{"id":"g2","type":"risk_assessed","case":"c1","date":"2022-03-15","level":"medium"}
{"id":"g3","type":"measure_taken","case":"c1","date":"2022-04-20","measure":"emergency_removal"}
{"id":"g4","type":"case_opened","case":"c2","date":"2022-05-01","age":3,"sex":"M","ethnicity":"majority","referral":"school"}
{"id":"g5","type":"case_closed","case":"c2","date":"2022-06-01","reason":"death"}
EOF
cat >"$SUFFIX" <<'EOF'
{"id":"g6","type":"home_visit","case":"c1","date":"2022-05-02"}
{"id":"g7","type":"problem_set","case":"c1","date":"2022-05-03","problem":"neglect"}
{"id":"g8","type":"measure_confirmed","case":"c1","date":"2022-05-04","measure":"emergency_removal"}
EOF
GOOD=$WORK/good.jsonl
cat "$PREFIX" "$SUFFIX" >"$GOOD"
BAD_LINE=6                              # the bad line's number in every rule's file

#  A valid event that reuses the bad lines' id: it must import after them.
FOLLOW=$WORK/follow.jsonl
echo '{"id":"bad","type":"home_visit","case":"c1","date":"2022-07-01"}' >"$FOLLOW"

REF=$WORK/ref
init "$REF"
run ref_import "$NODE" import --data "$REF" "$GOOD"
expect_rc 0 "import of the good lines"
summary_is "$WORK/ref_import.out" 8 0 0
if [ -s "$WORK/ref_import.err" ]; then
    problem "good lines wrote to stderr: $(cat "$WORK/ref_import.err")"
fi
view "$REF" 2022 "$WORK/ref.2022.json"
view "$REF" 2022-Q2 "$WORK/ref.Q2.json"
[ "$(status_of "$REF" head)" = 8 ] || problem "head $(status_of "$REF" head), expected 8"
[ "$(status_of "$REF" acked)" = 0 ] || problem "acked is not 0"
[ "$(status_of "$REF" municipality)" = 11 ] || problem "municipality is not 11"
#  The figures of the good lines, worked out by hand.
FIGURES=$(json "$WORK/ref.2022.json" '" ".join (str (x) for x in [d["period"], d["scope"],
    d["catalogue"], d["municipalities_reporting"], d["managed"], d["new"], d["closed"],
    d["home_visits"], d["managed_by_risk"]["medium"], d["managed_by_risk"]["unassessed"],
    d["managed_by_problem"]["neglect"], d["managed_by_problem"]["unspecified"],
    d["new_by_age_group"]["13-15"], d["new_by_age_group"]["0-3"], d["new_by_sex"]["F"],
    d["new_by_sex"]["M"], d["closed_by_reason"]["death"],
    d["measures_taken"]["emergency_removal"], d["measures_court_confirmed"]["emergency_removal"],
    sum (d["new_by_referral"].values ()), sum (d["school_identified"].values ())])')
[ "$FIGURES" = "2022 municipality:11 1 1 2 2 1 1 1 1 1 1 1 1 1 1 1 1 1 2 0" ] \
    || problem "view of the good lines: $FIGURES"
verdict reference_node

#  =====================================================================
#  One test per rule

RULE=0

#  rule NAME BAD_LINE PART...: the bad line between the good ones is
#  rejected with a reason holding every PART; nothing else changes.
rule () {
    local name=$1 bad=$2
    shift 2
    RULE=$((RULE + 1))
    local dir=$WORK/rule$RULE file=$WORK/rule$RULE.jsonl
    { cat "$PREFIX"; printf '%s\n' "$bad"; cat "$SUFFIX"; } >"$file"
    init "$dir"
    run rule "$NODE" import --data "$dir" "$file"
    expect_rc 1 "import"
    local lines
    lines=$(wc -l <"$WORK/rule.err")
    [ "$lines" -eq 1 ] || problem "$lines lines on stderr, expected 1: $(head -c 600 "$WORK/rule.err")"
    if ! head -n 1 "$WORK/rule.err" | grep -q "^$(printf '%s' "$file" | sed 's/[].[*^$\/]/\\&/g'):$BAD_LINE: "; then
        problem "stderr does not start with '$file:$BAD_LINE: ': $(head -c 300 "$WORK/rule.err")"
    fi
    local part
    for part in "$@"; do
        contains "$WORK/rule.err" "$part" "reason"
    done
    summary_is "$WORK/rule.out" 8 0 1
    [ "$(status_of "$dir" head)" = 8 ] || problem "head $(status_of "$dir" head), expected 8"
    [ "$(status_of "$dir" cases)" = 2 ] || problem "cases $(status_of "$dir" cases), expected 2"
    view "$dir" 2022 "$WORK/rule.2022.json"
    view "$dir" 2022-Q2 "$WORK/rule.Q2.json"
    cmp -s "$WORK/rule.2022.json" "$WORK/ref.2022.json" \
        || problem "view 2022 differs from the file without the bad line"
    cmp -s "$WORK/rule.Q2.json" "$WORK/ref.Q2.json" \
        || problem "view 2022-Q2 differs from the file without the bad line"
    #  The rejected line's id was not stored.
    run follow "$NODE" import --data "$dir" "$FOLLOW"
    expect_rc 0 "import of a valid event with the rejected line's id"
    summary_is "$WORK/follow.out" 1 0 0
    verdict "rule_$name"
    rm -rf "$dir"
}

HV='"type":"home_visit","case":"c1","date":"2022-05-05"'
OPEN3='"type":"case_opened","case":"c3","date":"2022-05-05"'

#  Lines that are not events at all.
rule not_json '{"id":"bad","type":"home_visit",' "not JSON"
rule not_json_text 'hello world' "not JSON"
rule not_object '["bad"]' "not a JSON object"
rule duplicate_key "{\"id\":\"bad\",\"id\":\"bad\",$HV}" "duplicate" "'id'"
rule too_long "{\"id\":\"bad\",$HV$(printf '%5000s' '')}" "longer than 4096 bytes"
#  The type.
rule type_missing '{"id":"bad","case":"c1","date":"2022-05-05"}' "field 'type' is missing"
rule type_not_string '{"id":"bad","type":4,"case":"c1","date":"2022-05-05"}' \
    "field 'type' is not a string"
rule type_unknown '{"id":"bad","type":"case_reopened","case":"c1","date":"2022-05-05"}' \
    "field 'type': 'case_reopened' is not an event type"
#  Required fields, for each type.
rule missing_id '{"type":"home_visit","case":"c1","date":"2022-05-05"}' "field 'id' is missing"
rule missing_case '{"id":"bad","type":"home_visit","date":"2022-05-05"}' "field 'case' is missing"
rule missing_date '{"id":"bad","type":"home_visit","case":"c1"}' "field 'date' is missing"
rule missing_age "{\"id\":\"bad\",$OPEN3,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'age' is missing"
rule missing_sex "{\"id\":\"bad\",$OPEN3,\"age\":4,\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'sex' is missing"
rule missing_ethnicity "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"F\",\"referral\":\"police\"}" \
    "field 'ethnicity' is missing"
rule missing_referral "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"F\",\"ethnicity\":\"roma\"}" \
    "field 'referral' is missing"
rule missing_level '{"id":"bad","type":"risk_assessed","case":"c1","date":"2022-05-05"}' \
    "field 'level' is missing"
rule missing_problem '{"id":"bad","type":"problem_set","case":"c1","date":"2022-05-05"}' \
    "field 'problem' is missing"
rule missing_measure '{"id":"bad","type":"measure_taken","case":"c1","date":"2022-05-05"}' \
    "field 'measure' is missing"
rule missing_confirmed_measure \
    '{"id":"bad","type":"measure_confirmed","case":"c1","date":"2022-05-05"}' \
    "field 'measure' is missing"
rule missing_category '{"id":"bad","type":"school_identified","case":"c1","date":"2022-05-05"}' \
    "field 'category' is missing"
rule missing_reason '{"id":"bad","type":"case_closed","case":"c1","date":"2022-05-05"}' \
    "field 'reason' is missing"
#  Fields a type does not have.
rule unknown_field "{\"id\":\"bad\",$HV,\"note\":\"called the school\"}" \
    "field 'note' does not belong to a home_visit event"
rule other_types_field "{\"id\":\"bad\",$HV,\"level\":\"low\"}" \
    "field 'level' does not belong to a home_visit event"
rule age_on_risk '{"id":"bad","type":"risk_assessed","case":"c1","date":"2022-05-05","level":"low","age":4}' \
    "field 'age' does not belong to a risk_assessed event"
rule name_on_opening "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\",\"name\":\"Arben\"}" \
    "field 'name' does not belong to a case_opened event"
#  JSON types.
rule id_not_string "{\"id\":17,$HV}" "field 'id' is not a string"
rule case_not_string '{"id":"bad","type":"home_visit","case":null,"date":"2022-05-05"}' \
    "field 'case' is not a string"
rule date_not_string '{"id":"bad","type":"home_visit","case":"c1","date":20220505}' \
    "field 'date' is not a string"
rule code_not_string '{"id":"bad","type":"risk_assessed","case":"c1","date":"2022-05-05","level":2}' \
    "field 'level' is not a string"
rule age_string "{\"id\":\"bad\",$OPEN3,\"age\":\"14\",\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'age' is not a whole number"
rule age_real "{\"id\":\"bad\",$OPEN3,\"age\":14.5,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'age' is not a whole number"
#  Identifiers.
rule id_alphabet "{\"id\":\"bad id\",$HV}" "field 'id': 'bad id'"
rule id_too_long "{\"id\":\"$(printf 'x%.0s' $(seq 65))\",$HV}" "field 'id'" "xxxxxxxxxxxxxxxxxxxx"
rule id_empty "{\"id\":\"\",$HV}" "field 'id': ''"
rule case_alphabet '{"id":"bad","type":"home_visit","case":"c/1","date":"2022-05-05"}' \
    "field 'case': 'c/1'"
rule case_unicode '{"id":"bad","type":"home_visit","case":"c\u00e91","date":"2022-05-05"}' \
    "field 'case'"
#  Dates.
rule date_not_real '{"id":"bad","type":"home_visit","case":"c1","date":"2022-02-30"}' \
    "field 'date': '2022-02-30'"
rule date_format '{"id":"bad","type":"home_visit","case":"c1","date":"2022-5-05"}' \
    "field 'date': '2022-5-05'"
rule date_too_early '{"id":"bad","type":"home_visit","case":"c1","date":"1999-12-31"}' \
    "field 'date': '1999-12-31' is before 2000-01-01"
rule date_future '{"id":"bad","type":"home_visit","case":"c1","date":"2023-07-02"}' \
    "field 'date': '2023-07-02' is in the future"
#  Ages.
rule age_negative "{\"id\":\"bad\",$OPEN3,\"age\":-1,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'age': -1"
rule age_19 "{\"id\":\"bad\",$OPEN3,\"age\":19,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'age': 19"
#  Codes, in every dimension an event carries.
rule code_sex "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"X\",\"ethnicity\":\"roma\",\"referral\":\"police\"}" \
    "field 'sex': 'X'" "catalogue 1"
rule code_ethnicity "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"F\",\"ethnicity\":\"martian\",\"referral\":\"police\"}" \
    "field 'ethnicity': 'martian'"
rule code_referral "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"aliens\"}" \
    "field 'referral': 'aliens'"
rule code_level '{"id":"bad","type":"risk_assessed","case":"c1","date":"2022-05-05","level":"extreme"}' \
    "field 'level': 'extreme'"
rule code_problem '{"id":"bad","type":"problem_set","case":"c1","date":"2022-05-05","problem":"boredom"}' \
    "field 'problem': 'boredom'"
rule code_measure '{"id":"bad","type":"measure_taken","case":"c1","date":"2022-05-05","measure":"jail"}' \
    "field 'measure': 'jail'"
rule code_confirmed_measure \
    '{"id":"bad","type":"measure_confirmed","case":"c1","date":"2022-05-05","measure":"jail"}' \
    "field 'measure': 'jail'"
rule code_category '{"id":"bad","type":"school_identified","case":"c1","date":"2022-05-05","category":"genius"}' \
    "field 'category': 'genius'"
rule code_reason '{"id":"bad","type":"case_closed","case":"c1","date":"2022-05-05","reason":"bored"}' \
    "field 'reason': 'bored'"
#  Codes of catalogue 2 on a node that has catalogue 1 only.
rule code_of_catalogue_2 '{"id":"bad","type":"problem_set","case":"c1","date":"2022-05-05","problem":"child_labour"}' \
    "field 'problem': 'child_labour' comes with catalogue revision 2, which this node has not applied" "(it has catalogue 1)"
rule referral_of_catalogue_2 "{\"id\":\"bad\",$OPEN3,\"age\":4,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"central_agency\"}" \
    "field 'referral': 'central_agency'"
#  The rules that depend on the case's history.
rule already_opened '{"id":"bad","type":"case_opened","case":"c1","date":"2022-05-05","age":14,"sex":"F","ethnicity":"roma","referral":"police"}' \
    "field 'case'" "'c1' is already opened"
rule unknown_case '{"id":"bad","type":"home_visit","case":"c9","date":"2022-05-05"}' \
    "field 'case'" "'c9' has not been opened"
rule closed_case '{"id":"bad","type":"home_visit","case":"c2","date":"2022-06-15"}' \
    "field 'case'" "'c2' was closed on 2022-06-01"
rule closed_case_earlier_date '{"id":"bad","type":"risk_assessed","case":"c2","date":"2022-05-15","level":"low"}' \
    "field 'case'" "'c2' was closed on 2022-06-01"
rule closed_case_closed_again '{"id":"bad","type":"case_closed","case":"c2","date":"2022-06-02","reason":"adult"}' \
    "field 'case'" "'c2' was closed on 2022-06-01"
rule before_opening '{"id":"bad","type":"home_visit","case":"c1","date":"2022-03-13"}' \
    "field 'date'" "2022-03-13 is before case 'c1' was opened on 2022-03-14"
rule close_before_event '{"id":"bad","type":"case_closed","case":"c1","date":"2022-04-19","reason":"adult"}' \
    "field 'date'" "2022-04-19 is before an event of 2022-04-20"
rule confirmed_other_measure '{"id":"bad","type":"measure_confirmed","case":"c1","date":"2022-05-05","measure":"alternative_care"}' \
    "field 'measure'" "no measure_taken of 'alternative_care'"
rule confirmed_before_taken '{"id":"bad","type":"measure_confirmed","case":"c1","date":"2022-04-19","measure":"emergency_removal"}' \
    "field 'measure'" "no measure_taken of 'emergency_removal' on or before 2022-04-19"
rule confirmed_not_by_court '{"id":"bad","type":"measure_confirmed","case":"c1","date":"2022-05-05","measure":"specialised_supervision"}' \
    "field 'measure'" "'specialised_supervision' is not confirmed by a court"

#  =====================================================================
#  A case's history limit: 4096 risk assessments, then one more.

DIR=$WORK/history
FILE=$WORK/history.jsonl
python3 - "$FILE" <<'EOF'
import sys
with open (sys.argv [1], "w") as out:
    out.write ('{"id":"h0","type":"case_opened","case":"c1","date":"2022-01-01","age":4,"sex":"F","ethnicity":"roma","referral":"police"}\n')
    for n in range (1, 4097):
        out.write ('{"id":"h%d","type":"risk_assessed","case":"c1","date":"2022-01-02","level":"%s"}\n'
                   % (n, ["low", "medium", "high"][n % 3]))
    out.write ('{"id":"bad","type":"risk_assessed","case":"c1","date":"2022-01-03","level":"low"}\n')
    out.write ('{"id":"h5000","type":"home_visit","case":"c1","date":"2022-01-04"}\n')
EOF
init "$DIR"
run history "$NODE" import --data "$DIR" "$FILE"
expect_rc 1 "import"
[ "$(wc -l <"$WORK/history.err")" -eq 1 ] || problem "stderr: $(head -c 400 "$WORK/history.err")"
contains "$WORK/history.err" "$FILE:4098: " "line number"
contains "$WORK/history.err" "4096" "reason"
contains "$WORK/history.err" "field 'case'" "reason names the field"
summary_is "$WORK/history.out" 4098 0 1
view "$DIR" 2022 "$WORK/history.json"
#  The last of the same-dated assessments wins: n = 4096 is "medium".
[ "$(json "$WORK/history.json" 'd["managed_by_risk"]["medium"]')" = 1 ] \
    || problem "risk: $(json "$WORK/history.json" 'd["managed_by_risk"]')"
[ "$(json "$WORK/history.json" 'd["home_visits"]')" = 1 ] || problem "home visit missing"
verdict history_limit
rm -rf "$DIR"

#  =====================================================================
#  Line numbers count blank lines; CRLF line ends are accepted; today + 1.

DIR=$WORK/lines
FILE=$WORK/lines.jsonl
{
    printf '%s\r\n' '{"id":"l1","type":"case_opened","case":"c1","date":"2023-06-30","age":4,"sex":"F","ethnicity":"roma","referral":"police"}'
    printf '\n\r\n   \n'
    printf '%s\n' '{"id":"l2","type":"home_visit","case":"c1","date":"2023-07-01"}'
    printf '\n'
    printf '%s\n' '{"id":"l3","type":"home_visit","case":"c1","date":"2023-07-02"}'
    printf '%s' '{"id":"l4","type":"home_visit","case":"c1","date":"2023-06-30"}'
} >"$FILE"
init "$DIR"
run lines "$NODE" import --data "$DIR" "$FILE"
expect_rc 1 "import"
#  Line 4 holds only blanks: it is not JSON, and is reported as such.
contains "$WORK/lines.err" "$FILE:7: field 'date': '2023-07-02' is in the future" "today + 2"
[ "$(status_of "$DIR" head)" = 3 ] || problem "head $(status_of "$DIR" head), expected 3"
if grep -q ":5: \|:2: \|:3: \|:8: " "$WORK/lines.err"; then
    problem "a blank or good line was reported: $(cat "$WORK/lines.err")"
fi
verdict line_numbers_and_today
rm -rf "$DIR"

#  "-" reads standard input; its lines are reported as "-:LINE".
DIR=$WORK/stdin
init "$DIR"
{ cat "$PREFIX"; echo '{"id":"bad","type":"home_visit","case":"c9","date":"2022-05-05"}'; cat "$SUFFIX"; } \
    | "$NODE" import --data "$DIR" - >"$WORK/stdin.out" 2>"$WORK/stdin.err"
RC=$?
expect_rc 1 "import from standard input"
contains "$WORK/stdin.err" "-:$BAD_LINE: field 'case'" "reason"
summary_is "$WORK/stdin.out" 8 0 1
view "$DIR" 2022 "$WORK/stdin.json"
cmp -s "$WORK/stdin.json" "$WORK/ref.2022.json" || problem "view differs from the file's"
verdict standard_input
rm -rf "$DIR"

#  =====================================================================
#  Re-importing the same file imports nothing.

cp "$WORK/ref.2022.json" "$WORK/before.json"
run again "$NODE" import --data "$REF" "$GOOD"
expect_rc 0 "second import"
summary_is "$WORK/again.out" 0 8 0
[ -s "$WORK/again.err" ] && problem "stderr: $(cat "$WORK/again.err")"
[ "$(status_of "$REF" head)" = 8 ] || problem "head moved to $(status_of "$REF" head)"
view "$REF" 2022 "$WORK/after.json"
cmp -s "$WORK/before.json" "$WORK/after.json" || problem "the view changed"
#  A file mixing old and new events imports only the new ones.
{ cat "$GOOD"; echo '{"id":"g9","type":"home_visit","case":"c1","date":"2022-05-06"}'; } \
    >"$WORK/more.jsonl"
run more "$NODE" import --data "$REF" "$WORK/more.jsonl"
expect_rc 0 "import of old and new"
summary_is "$WORK/more.out" 1 8 0
[ "$(status_of "$REF" head)" = 9 ] || problem "head $(status_of "$REF" head), expected 9"
view "$REF" 2022 "$WORK/after.json"
[ "$(json "$WORK/after.json" 'd["home_visits"]')" = 2 ] || problem "home visits not 2"
#  The same id with other content is still a duplicate, not a change.
echo '{"id":"g6","type":"home_visit","case":"c2","date":"2022-05-20"}' >"$WORK/same_id.jsonl"
run same_id "$NODE" import --data "$REF" "$WORK/same_id.jsonl"
expect_rc 0 "import of a known id"
summary_is "$WORK/same_id.out" 0 1 0
verdict reimport

#  =====================================================================
#  A file that is not JSON at all.

DIR=$WORK/binary
init "$DIR"
run binary "$NODE" import --data "$DIR" "$NODE"
expect_rc 1 "import of a binary"
REJECTED=$(sed -n 's/.* 0 imported, 0 duplicate, \([0-9]*\) rejected (\([0-9]*\) lines.*/\1 \2/p' \
           "$WORK/binary.out")
set -- $REJECTED
if [ $# -ne 2 ] || [ "$1" != "$2" ] || [ "$1" -lt 10 ]; then
    problem "summary: $(cat "$WORK/binary.out")"
else
    [ "$(wc -l <"$WORK/binary.err")" -eq "$1" ] \
        || problem "$(wc -l <"$WORK/binary.err") lines on stderr for $1 rejected lines"
fi
if grep -v -a -q "^$(printf '%s' "$NODE" | sed 's/[].[*^$\/]/\\&/g'):[0-9]*: " "$WORK/binary.err"; then
    problem "a stderr line is not FILE:LINE: reason"
fi
[ "$(status_of "$DIR" head)" = 0 ] || problem "head $(status_of "$DIR" head), expected 0"
view "$DIR" 2022 "$WORK/binary.json"
[ "$(json "$WORK/binary.json" 'd["managed"] + d["municipalities_reporting"]')" = 0 ] \
    || problem "the view is not empty"
verdict binary_file

#  The reasons quote hostile bytes as printable text: no control characters
#  (terminal escapes) reach stderr, whatever the line held.
printf '{"id":"x\033[2J","type":"home_visit"}\n\033]0;pwned\007\n{"a":\001\002}\n' \
    >"$WORK/escapes.jsonl"
run escapes "$NODE" import --data "$DIR" "$WORK/escapes.jsonl"
expect_rc 1 "import"
cat "$WORK/binary.err" >>"$WORK/escapes.err"
if LC_ALL=C grep -q -a $'[\001-\010\013-\037\177]' "$WORK/escapes.err"; then
    problem "control characters on stderr: $(LC_ALL=C grep -a -n $'[\001-\010\013-\037\177]' \
             "$WORK/escapes.err" | head -n 3 | cat -v)"
fi
verdict reasons_are_printable
rm -rf "$DIR"

#  =====================================================================
#  Empty files, missing files, directories that hold no node.

DIR=$WORK/empty
init "$DIR"
: >"$WORK/empty.jsonl"
run empty "$NODE" import --data "$DIR" "$WORK/empty.jsonl"
expect_rc 0 "import of an empty file"
summary_is "$WORK/empty.out" 0 0 0
printf '\n\n  \n\r\n' >"$WORK/blank.jsonl"
run blank "$NODE" import --data "$DIR" "$WORK/blank.jsonl"
#  Blank lines hold no event; a line of spaces may be reported, nothing imported.
[ "$(status_of "$DIR" head)" = 0 ] || problem "head $(status_of "$DIR" head), expected 0"
verdict empty_file

run missing "$NODE" import --data "$DIR" "$WORK/no-such-file.jsonl"
expect_rc 2 "import of a missing file"
contains "$WORK/missing.err" "no-such-file.jsonl" "message"
[ "$(status_of "$DIR" head)" = 0 ] || problem "head moved"
verdict missing_file

mkdir "$WORK/plain"
run not_node "$NODE" import --data "$WORK/plain" "$GOOD"
expect_rc 2 "import into a directory without a node"
contains "$WORK/not_node.err" "not a cpsync node" "message"
[ -z "$(ls -A "$WORK/plain")" ] || problem "files created: $(ls -A "$WORK/plain")"
run not_node_view "$NODE" view --data "$WORK/plain" --period 2022
expect_rc 2 "view of a directory without a node"
run not_node_status "$NODE" status --data "$WORK/plain" --format json
expect_rc 2 "status of a directory without a node"
[ -z "$(ls -A "$WORK/plain")" ] || problem "files created: $(ls -A "$WORK/plain")"
run nowhere "$NODE" import --data "$WORK/nowhere" "$GOOD"
expect_rc 2 "import into a directory that does not exist"
[ -e "$WORK/nowhere" ] && problem "$WORK/nowhere was created"
verdict not_a_node

#  =====================================================================
#  Usage errors.

run init_again "$NODE" init --data "$REF" --municipality 11
expect_rc 2 "init over a node"
contains "$WORK/init_again.err" "already" "message"
run init_other "$NODE" init --data "$REF" --municipality 12
expect_rc 2 "init over a node for another municipality"
[ "$(status_of "$REF" municipality)" = 11 ] || problem "the municipality changed"
[ "$(status_of "$REF" head)" = 9 ] || problem "head changed"
verdict init_twice

run unknown "$NODE" frobnicate --data "$REF"
expect_rc 2 "unknown command"
run no_data "$NODE" import "$GOOD"
expect_rc 2 "import without --data"
run no_data_view "$NODE" view --period 2022
expect_rc 2 "view without --data"
run no_args "$NODE"
expect_rc 2 "no arguments"
run no_file "$NODE" import --data "$REF"
expect_rc 2 "import without a file"
run two_files "$NODE" import --data "$REF" "$GOOD" "$GOOD"
expect_rc 2 "import of two files"
run bad_option "$NODE" import --data "$REF" --frobnicate "$GOOD"
expect_rc 2 "unknown option"
run no_municipality "$NODE" init --data "$WORK/nomun"
expect_rc 2 "init without --municipality"
[ "$(status_of "$REF" head)" = 9 ] || problem "head changed"
verdict usage_errors

#  =====================================================================
#  Views: periods, catalogues, formats.

run q5 "$NODE" view --data "$REF" --period 2022-Q5
expect_rc 2 "--period 2022-Q5"
run y1999 "$NODE" view --data "$REF" --period 1999
expect_rc 2 "--period 1999"
run noperiod "$NODE" view --data "$REF"
expect_rc 2 "no --period"
run cat2 "$NODE" view --data "$REF" --period 2022 --catalogue 2
expect_rc 2 "--catalogue 2 on a catalogue-1 node"
run cat0 "$NODE" view --data "$REF" --period 2022 --catalogue 0
expect_rc 2 "--catalogue 0"
run cat1 "$NODE" view --data "$REF" --period 2022 --catalogue 1
expect_rc 0 "--catalogue 1"
cmp -s "$WORK/cat1.out" "$WORK/after.json" || problem "--catalogue 1 differs from the default"
run xml "$NODE" view --data "$REF" --period 2022 --format xml
expect_rc 2 "--format xml"
run french "$NODE" view --data "$REF" --period 2022 --format table --lang fr
expect_rc 2 "--lang fr"
verdict view_arguments

run table "$NODE" view --data "$REF" --period 2022 --format table
expect_rc 0 "table"
contains "$WORK/table.out" "Raste të reja" "table"
contains "$WORK/table.out" "Raste të menaxhuara" "table"
[ "$(grep -c "Gjithsej" "$WORK/table.out")" -eq 10 ] \
    || problem "$(grep -c "Gjithsej" "$WORK/table.out") 'Gjithsej' lines, expected 10"
grep -q "^Raste të reja  *2$" "$WORK/table.out" || problem "no 'Raste të reja ... 2' line"
run table_en "$NODE" view --data "$REF" --period 2022 --format table --lang en
expect_rc 0 "table in English"
contains "$WORK/table_en.out" "New cases" "table"
contains "$WORK/table_en.out" "Cases managed" "table"
[ "$(grep -c "Total" "$WORK/table_en.out")" -eq 10 ] || problem "not 10 'Total' lines"
grep -q "^New cases  *2$" "$WORK/table_en.out" || problem "no 'New cases ... 2' line"
#  The total of new cases by sex is the number of new cases.
grep -A 3 "^New cases by sex" "$WORK/table_en.out" | grep -q "^  Total  *2$" \
    || problem "new cases by sex do not total 2"
verdict view_table

run csv "$NODE" view --data "$REF" --period 2022 --format csv --lang en
expect_rc 0 "csv"
[ "$(head -n 1 "$WORK/csv.out")" = "indicator,code,label,value" ] \
    || problem "header: $(head -n 1 "$WORK/csv.out")"
#  One line per figure of the JSON view, with the same value.
CSV_CHECK=$(python3 - "$WORK/csv.out" "$WORK/after.json" <<'EOF'
import csv, json, sys
rows = list (csv.reader (open (sys.argv [1], encoding = "utf-8")))
view = json.load (open (sys.argv [2]))
body = rows [1:]
seen = {(row [0], row [1]): int (row [3]) for row in body if len (row) == 4}
wanted = {}
for key, value in view.items ():
    if isinstance (value, dict):
        for code, number in value.items ():
            wanted [(key, code)] = number
    elif key in ("managed", "new", "closed", "home_visits"):
        wanted [(key, "")] = value
problems = []
if len (body) != len (wanted) or len (seen) != len (body):
    problems.append ("%d lines for %d figures" % (len (body), len (wanted)))
for key, number in wanted.items ():
    if seen.get (key) != number:
        problems.append ("%s,%s is %s, JSON says %s" % (key [0], key [1], seen.get (key), number))
print ("; ".join (problems [:5]) or "ok")
EOF
)
[ "$CSV_CHECK" = ok ] || problem "csv against JSON: $CSV_CHECK"
verdict view_csv

#  =====================================================================
#  A node of catalogue 2 takes its codes; a view under 1 folds them.

DIR=$WORK/cat2
init "$DIR" --catalogue 2
cat >"$WORK/cat2.jsonl" <<'EOF'
{"id":"k1","type":"case_opened","case":"c1","date":"2022-03-14","age":14,"sex":"F","ethnicity":"roma","referral":"central_agency"}
{"id":"k2","type":"problem_set","case":"c1","date":"2022-03-15","problem":"child_labour"}
{"id":"k3","type":"case_opened","case":"c2","date":"2022-03-14","age":14,"sex":"F","ethnicity":"roma","referral":"other"}
{"id":"k4","type":"problem_set","case":"c2","date":"2022-03-15","problem":"other"}
EOF
run cat2_import "$NODE" import --data "$DIR" "$WORK/cat2.jsonl"
expect_rc 0 "import of catalogue-2 codes"
[ "$(status_of "$DIR" catalogue)" = 2 ] || problem "status catalogue is not 2"
view "$DIR" 2022 "$WORK/cat2.v2.json"
view "$DIR" 2022 "$WORK/cat2.v1.json" --catalogue 1
[ "$(json "$WORK/cat2.v2.json" '(d["catalogue"], d["managed_by_problem"]["child_labour"], d["managed_by_problem"]["other"], d["new_by_referral"]["central_agency"], d["new_by_referral"]["other"])')" \
  = "(2, 1, 1, 1, 1)" ] || problem "view under 2: $(json "$WORK/cat2.v2.json" 'd["managed_by_problem"]')"
[ "$(json "$WORK/cat2.v1.json" '(d["catalogue"], "child_labour" in d["managed_by_problem"], d["managed_by_problem"]["other"], "central_agency" in d["new_by_referral"], d["new_by_referral"]["other"])')" \
  = "(1, False, 2, False, 2)" ] || problem "view under 1: $(json "$WORK/cat2.v1.json" 'd["managed_by_problem"]')"
verdict catalogue_2_node
rm -rf "$DIR"

#  =====================================================================
#  Generated files: two imports at once, and a map that must grow.

#  generate FILE PREFIX CASES SEED: valid events of CASES cases opened in
#  2022 (open, risk, problem, three visits, every third case closed).
generate () {
    python3 - "$@" <<'EOF'
import datetime, random, sys
path, prefix, cases, seed = sys.argv [1], sys.argv [2], int (sys.argv [3]), int (sys.argv [4])
rng = random.Random (seed)
first = datetime.date (2022, 1, 1)
day = lambda offset: (first + datetime.timedelta (days = offset)).isoformat ()
n = 0
with open (path, "w") as out:
    def emit (text):
        global n
        n += 1
        out.write ('{"id":"%s-%d",%s}\n' % (prefix, n, text))
    for case in range (cases):
        start = rng.randrange (300)
        c = "%s-c%d" % (prefix, case)
        emit ('"type":"case_opened","case":"%s","date":"%s","age":%d,"sex":"%s","ethnicity":"%s","referral":"%s"'
              % (c, day (start), rng.randrange (19), rng.choice ("FM"),
                 rng.choice (["roma", "egyptian", "majority", "foreign"]),
                 rng.choice (["police", "school", "ngo", "cpu"])))
        emit ('"type":"risk_assessed","case":"%s","date":"%s","level":"%s"'
              % (c, day (start + rng.randrange (30)), rng.choice (["low", "medium", "high"])))
        emit ('"type":"problem_set","case":"%s","date":"%s","problem":"%s"'
              % (c, day (start + rng.randrange (30)), rng.choice (["neglect", "trafficking"])))
        for visit in range (3):
            emit ('"type":"home_visit","case":"%s","date":"%s"' % (c, day (start + 30 + rng.randrange (30))))
        if case % 3 == 0:
            emit ('"type":"case_closed","case":"%s","date":"%s","reason":"adult"' % (c, day (start + 61)))
print (n)
EOF
}

#  figures VIEW: "managed new closed home_visits" of a JSON view.
figures () {
    json "$1" '"%d %d %d %d" % (d["managed"], d["new"], d["closed"], d["home_visits"])'
}

A_EVENTS=$(generate "$WORK/a.jsonl" a 3000 1)
B_EVENTS=$(generate "$WORK/b.jsonl" b 3000 2)

#  Two imports into one node at the same time.
DIR=$WORK/together
init "$DIR"
"$NODE" import --data "$DIR" "$WORK/a.jsonl" >"$WORK/ta.out" 2>"$WORK/ta.err" &
PID_A=$!
"$NODE" import --data "$DIR" "$WORK/b.jsonl" >"$WORK/tb.out" 2>"$WORK/tb.err" &
PID_B=$!
wait $PID_A
RC_A=$?
wait $PID_B
RC_B=$?
[ $RC_A -eq 0 ] || problem "first import exited $RC_A: $(head -c 300 "$WORK/ta.err")"
[ $RC_B -eq 0 ] || problem "second import exited $RC_B: $(head -c 300 "$WORK/tb.err")"
summary_is "$WORK/ta.out" "$A_EVENTS" 0 0
summary_is "$WORK/tb.out" "$B_EVENTS" 0 0
[ "$(status_of "$DIR" head)" = $((A_EVENTS + B_EVENTS)) ] \
    || problem "head $(status_of "$DIR" head), expected $((A_EVENTS + B_EVENTS))"
[ "$(status_of "$DIR" cases)" = 6000 ] || problem "cases $(status_of "$DIR" cases), expected 6000"
#  The union: the same as importing one after the other.
SEQ=$WORK/sequential
init "$SEQ"
"$NODE" import --data "$SEQ" "$WORK/a.jsonl" >/dev/null 2>&1
"$NODE" import --data "$SEQ" "$WORK/b.jsonl" >/dev/null 2>&1
for period in 2022 2022-Q1 2022-Q4 2023; do
    view "$DIR" $period "$WORK/together.json"
    view "$SEQ" $period "$WORK/sequential.json"
    cmp -s "$WORK/together.json" "$WORK/sequential.json" \
        || problem "view $period differs from sequential imports"
done
view "$DIR" 2022 "$WORK/together.json"
[ "$(figures "$WORK/together.json")" = "6000 6000 2000 18000" ] \
    || problem "figures $(figures "$WORK/together.json"), expected 6000 6000 2000 18000"
verdict concurrent_imports
rm -rf "$DIR"

#  The same file twice at once: every event is stored once.
DIR=$WORK/twice
init "$DIR"
"$NODE" import --data "$DIR" "$WORK/a.jsonl" >"$WORK/ta.out" 2>"$WORK/ta.err" &
PID_A=$!
"$NODE" import --data "$DIR" "$WORK/a.jsonl" >"$WORK/tb.out" 2>"$WORK/tb.err" &
PID_B=$!
wait $PID_A
RC_A=$?
wait $PID_B
RC_B=$?
[ $RC_A -eq 0 ] || problem "first import exited $RC_A: $(head -c 300 "$WORK/ta.err")"
[ $RC_B -eq 0 ] || problem "second import exited $RC_B: $(head -c 300 "$WORK/tb.err")"
COUNTS=$(cat "$WORK/ta.out" "$WORK/tb.out" \
         | sed -n 's/.*: \([0-9]*\) imported, \([0-9]*\) duplicate, \([0-9]*\) rejected.*/\1 \2 \3/p' \
         | awk '{ i += $1; d += $2; r += $3 } END { print i, d, r }')
[ "$COUNTS" = "$A_EVENTS $A_EVENTS 0" ] \
    || problem "imported, duplicate, rejected over both: $COUNTS, expected $A_EVENTS $A_EVENTS 0"
[ "$(status_of "$DIR" head)" = "$A_EVENTS" ] \
    || problem "head $(status_of "$DIR" head), expected $A_EVENTS"
view "$DIR" 2022 "$WORK/twice.json"
[ "$(figures "$WORK/twice.json")" = "3000 3000 1000 9000" ] \
    || problem "figures $(figures "$WORK/twice.json"), expected 3000 3000 1000 9000"
verdict concurrent_same_file
rm -rf "$DIR"

#  The same, with a map of 1 MiB that both processes must grow.
DIR=$WORK/together_small
CPSYNC_MAPSIZE=1048576 init "$DIR"
CPSYNC_MAPSIZE=1048576 "$NODE" import --data "$DIR" "$WORK/a.jsonl" >"$WORK/ta.out" 2>"$WORK/ta.err" &
PID_A=$!
CPSYNC_MAPSIZE=1048576 "$NODE" import --data "$DIR" "$WORK/b.jsonl" >"$WORK/tb.out" 2>"$WORK/tb.err" &
PID_B=$!
wait $PID_A
RC_A=$?
wait $PID_B
RC_B=$?
[ $RC_A -eq 0 ] || problem "first import exited $RC_A: $(head -c 300 "$WORK/ta.err")"
[ $RC_B -eq 0 ] || problem "second import exited $RC_B: $(head -c 300 "$WORK/tb.err")"
[ "$(status_of "$DIR" head)" = $((A_EVENTS + B_EVENTS)) ] \
    || problem "head $(status_of "$DIR" head), expected $((A_EVENTS + B_EVENTS))"
view "$DIR" 2022 "$WORK/together.json"
view "$SEQ" 2022 "$WORK/sequential.json"
cmp -s "$WORK/together.json" "$WORK/sequential.json" || problem "view 2022 differs"
verdict concurrent_imports_growing_map
rm -rf "$DIR"

#  One import of ~30 000 events into a map of 1 MiB.
BIG_EVENTS=$(generate "$WORK/big.jsonl" big 4800 3)
DIR=$WORK/growth
export CPSYNC_MAPSIZE=1048576
init "$DIR"
run growth "$NODE" import --data "$DIR" "$WORK/big.jsonl"
expect_rc 0 "import"
summary_is "$WORK/growth.out" "$BIG_EVENTS" 0 0
[ "$(status_of "$DIR" head)" = "$BIG_EVENTS" ] \
    || problem "head $(status_of "$DIR" head), expected $BIG_EVENTS"
SIZE=$(stat -c %s "$DIR/store/data.mdb")
[ "$SIZE" -gt 1048576 ] || problem "data.mdb is $SIZE bytes: the map never grew"
view "$DIR" 2022 "$WORK/growth.json"
unset CPSYNC_MAPSIZE
[ "$(figures "$WORK/growth.json")" = "4800 4800 1600 14400" ] \
    || problem "figures $(figures "$WORK/growth.json"), expected 4800 4800 1600 14400"
#  The same file into a node with the default map gives the same view.
init "$WORK/roomy"
"$NODE" import --data "$WORK/roomy" "$WORK/big.jsonl" >/dev/null 2>&1
view "$WORK/roomy" 2022 "$WORK/roomy.json"
cmp -s "$WORK/growth.json" "$WORK/roomy.json" || problem "view differs from a roomy node's"
#  And the node still opens with the default map size.
[ "$(status_of "$DIR" head)" = "$BIG_EVENTS" ] || problem "reopened head differs"
verdict map_growth
[ "$BIG_EVENTS" -ge 30000 ] || echo "note: only $BIG_EVENTS events generated"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
