#!/usr/bin/env bash
# cpsync-central catalogue publish|list, and a revision reaching a running
# node (issue 13, point 3), with real processes.
#
# A central set up with catalogue 1:
#   - usage errors (no action, an unknown one, no FILE, a FILE that cannot
#     be read) exit 2;
#   - a malformed file, a revision that is not the next version, one that
#     removes or renames a code (the message says codes are never removed
#     or renamed, and names the code), and a missing root secret are
#     refused and change nothing: list still shows catalogue 1 only, and
#     the first revision published after them is downlink entry 1;
#   - catalogue-v2.json is published as entry 1 and list shows both
#     versions with their titles; version 2 again with another text is
#     refused; a revision 3 that adds a code is entry 2.
# Then a node set up with catalogue 1, enrolled and running, rejects a line
# with a code of revision 2, naming the revision, until it has applied the
# entries (its status says catalogue 3), and imports it after.
#
#   test_catalogue_cli.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" catalogue_cli "$@"
central=$work/central
nodes=$work/nodes
mkdir -p "$nodes"

#  central_rc CODE ARGS...: cpsync-central ARGS exits CODE (output in
#  $work/out and $work/err).
central_rc () {
    local code=$1; shift
    "$bin/cpsync-central" "$@" > "$work/out" 2> "$work/err"
    local rc=$?
    [ $rc = "$code" ] || { echo "    exit $rc, expected $code: $(head -c 300 "$work/err")"; return 1; }
}

#  err_has TEXT: the last command's stderr holds TEXT.
err_has () { grep -qF -- "$1" "$work/err" || { echo "    stderr: $(head -c 400 "$work/err")"; return 1; }; }

#  versions: the versions catalogue list --format json shows, as "1 2 ...".
versions () {
    "$bin/cpsync-central" catalogue list --data "$central" --format json | python3 -c '
import json, sys; print (" ".join (str (entry ["version"]) for entry in json.load (sys.stdin)))'
}

step "cpsync-central init --catalogue 1" \
    "$bin/cpsync-central" init --data "$central" --listen "$endpoint" --catalogue 1

check "list shows catalogue 1" [ "$(versions)" = 1 ]
central_rc 0 catalogue list --data "$central"
check "list's table gives catalogue 1's title" grep -q "^1 .*VKM 636/2018" "$work/out"

# ---------------------------------------------------------------------------
#  Usage errors: exit 2
check "catalogue without an action: exit 2" central_rc 2 catalogue --data "$central"
check "catalogue frobnicate: exit 2" central_rc 2 catalogue frobnicate --data "$central"
check "... saying what catalogue takes" err_has "catalogue takes publish or list"
check "publish without a FILE: exit 2" central_rc 2 catalogue publish --data "$central"
check "... saying so" err_has "needs the revision's FILE.json"
check "publish of a file that is not there: exit 2" \
    central_rc 2 catalogue publish --data "$central" "$work/none.json"
check "... naming the file" err_has "$work/none.json"
check "list with a FILE: exit 2" \
    central_rc 2 catalogue list --data "$central" "$catalogues/catalogue-v2.json"

# ---------------------------------------------------------------------------
#  Refusals: exit 1, nothing changed
printf 'this is not JSON\n' > "$work/garbage.json"
check "a malformed file: exit 1" central_rc 1 catalogue publish --data "$central" "$work/garbage.json"
check "... saying it is not JSON" err_has "is not JSON"

cat > "$work/v3.json" <<'EOF'
{"catalogue": 3, "revises": 2, "title": "three",
 "changes": [{"op": "add", "dimension": "school", "code": "bullied", "sq": "bulizëm", "en": "bullied"}]}
EOF
check "a revision that is not the next version (3 over 1): exit 1" \
    central_rc 1 catalogue publish --data "$central" "$work/v3.json"
check "... saying which version comes next" \
    err_has "catalogue 3 is not the next version: expected catalogue 2"

cat > "$work/remove.json" <<'EOF'
{"catalogue": 2, "revises": 1, "title": "remove",
 "changes": [{"op": "remove", "dimension": "problem", "code": "neglect"}]}
EOF
check "a revision that removes a code: exit 1" \
    central_rc 1 catalogue publish --data "$central" "$work/remove.json"
check "... naming the op and the code" err_has "op 'remove' of problem code 'neglect'"
check "... and saying codes are never removed or renamed" \
    err_has "codes are never removed or renamed, because counters are kept by code id"
sed 's/"remove"/"rename"/; s/"neglect"/"neglect", "to": "abandonment"/' "$work/remove.json" \
    > "$work/rename.json"
check "a revision that renames a code: exit 1" \
    central_rc 1 catalogue publish --data "$central" "$work/rename.json"
check "... naming the op and the code" err_has "op 'rename' of problem code 'neglect'"

check "a missing root secret: refused" \
    central_rc 2 catalogue publish --data "$central" --root-secret "$work/no.secret" \
    "$catalogues/catalogue-v2.json"
check "after the refusals, list still shows catalogue 1 only" [ "$(versions)" = 1 ]

# ---------------------------------------------------------------------------
#  Publishing
check "catalogue-v2.json is published" \
    central_rc 0 catalogue publish --data "$central" "$catalogues/catalogue-v2.json"
check "... as downlink entry 1 (the refusals took no seq)" \
    grep -q "published catalogue 2 as downlink entry 1 to all" "$work/out"
check "list shows catalogues 1 and 2" [ "$(versions)" = "1 2" ]
central_rc 0 catalogue list --data "$central"
check "list's table gives catalogue 2's title" grep -q "^2 .*VKM 471/2022" "$work/out"
sed 's/Revision of the indicator list/A revision of the indicator list/' \
    "$catalogues/catalogue-v2.json" > "$work/v2-other.json"
check "version 2 again with another text: exit 1" \
    central_rc 1 catalogue publish --data "$central" "$work/v2-other.json"
check "... saying it differs from the one held" err_has "catalogue 2 differs from the one held"
check "a revision 3 that adds a code is published as entry 2" \
    central_rc 0 catalogue publish --data "$central" --root-secret "$central/keys/root.secret" \
    "$work/v3.json"
check "... (it says so)" grep -q "published catalogue 3 as downlink entry 2" "$work/out"
check "list shows catalogues 1, 2 and 3" [ "$(versions)" = "1 2 3" ]

# ---------------------------------------------------------------------------
#  A running node takes the revisions
code=tirane
step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
step "cpsync-admin enrol $code" "$bin/cpsync-admin" enrol --central "$central" \
    --municipality "$code" --out "$work/$code.bundle"
step "cpsync-node enrol $code" "$bin/cpsync-node" enrol --data "$nodes/$code" --bundle "$work/$code.bundle"
cat > "$work/events.jsonl" <<'EOF'
{"id":"e1","type":"case_opened","case":"c1","date":"2022-03-14","age":14,"sex":"F","ethnicity":"roma","referral":"police"}
{"id":"e2","type":"problem_set","case":"c1","date":"2022-03-15","problem":"child_labour"}
EOF
"$bin/cpsync-node" import --data "$nodes/$code" "$work/events.jsonl" > "$work/out" 2> "$work/err"
check "before the revision, import exits 1" [ $? = 1 ]
check "... naming the revision the node lacks" err_has \
    "events.jsonl:2: field 'problem': 'child_labour' comes with catalogue revision 2, which this node has not applied (it has catalogue 1)"

catalogue_of () {
    "$bin/cpsync-node" status --data "$nodes/$code" --format json 2>/dev/null | python3 -c '
import json, sys; print (json.load (sys.stdin) ["catalogue"])'
}
wait_catalogue () {
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do [ "$(catalogue_of)" = "$2" ] && return 0; sleep 0.25; done
    [ "$(catalogue_of)" = "$2" ]
}
start_central
start_node $code "$endpoint"
check "the running node applies both entries (status says catalogue 3)" wait_catalogue 30 3
"$bin/cpsync-node" import --data "$nodes/$code" "$work/events.jsonl" > "$work/out" 2> "$work/err"
check "after the revision, the same file imports (exit 0)" [ $? = 0 ]
"$bin/cpsync-node" view --data "$nodes/$code" --period 2022 --catalogue 1 --format json > "$work/v1.json"
check "a view under catalogue 1 counts child_labour as other" python3 - "$work/v1.json" <<'PY'
import json, sys
view = json.load (open (sys.argv [1]))
problems = view ["managed_by_problem"]
sys.exit (0 if "child_labour" not in problems and problems ["other"] == 1 else 1)
PY
stop_node $code
stop_central
finish
