#!/usr/bin/env bash
# The node's views against an independent computation.
#
# A seeded generator writes several years of rule-abiding events for one
# municipality; the node imports them; for several years and quarters the
# node's view JSON must equal, key by key, what tests/oracle.py (a separate
# implementation of docs/events.md in Python) computes from the same file.  Done
# for catalogue 1 data, and for catalogue 2 data viewed under 2 and under 1
# (where the codes catalogue 2 adds fold into "other").
#
#   test_view_oracle.sh NODE_BIN GEN_BIN SOURCE_DIR WORK_DIR
set -u
node=$1 gen=$2 source=$3 work=$(mktemp -d "$4/view_oracle.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
catalogues=$source/protocol/catalogue

check () {   # name data-dir events-file catalogue period
    local name=$1 data=$2 file=$3 catalogue=$4 period=$5
    "$node" view --data "$data" --period "$period" --catalogue "$catalogue" --format json \
        > "$work/node.json" 2> "$work/node.err"
    python3 "$source/tests/oracle.py" --catalogue-dir "$catalogues" --catalogue "$catalogue" \
        --node-catalogue "$(basename "$data" | tr -dc 0-9)" --period "$period" "$file" \
        > "$work/oracle.json" 2> /dev/null
    if python3 - "$work/node.json" "$work/oracle.json" <<'PY'
import json, sys
node, oracle = (json.load (open (path)) for path in sys.argv [1:3])
node.pop ("scope"); oracle.pop ("scope")
differing = [key for key in sorted (set (node) | set (oracle)) if node.get (key) != oracle.get (key)]
for key in differing:
    print ("   ", key, "node:", node.get (key), "oracle:", oracle.get (key))
if node ["managed"] == 0 and node ["new"] == 0:
    print ("    an empty view proves nothing"); sys.exit (1)
sys.exit (1 if differing else 0)
PY
    then passed=$((passed + 1)); echo "ok   $name $period (catalogue $catalogue)"
    else failed=$((failed + 1)); echo "FAIL $name $period (catalogue $catalogue)"; fi
}

for catalogue in 1 2; do
    file=$work/events-$catalogue.jsonl
    data=$work/node$catalogue
    "$gen" --seed $((41 + catalogue)) --events 60000 --from 2019-01-01 --to 2024-12-31 \
        --catalogue $catalogue --prefix t$catalogue- > "$file"
    "$node" init --data "$data" --municipality tirane --catalogue $catalogue > /dev/null
    if ! "$node" import --data "$data" "$file" > "$work/import.out" 2>&1; then
        failed=$((failed + 1)); echo "FAIL import of generated data"; cat "$work/import.out"
    fi
    for period in 2019 2020 2021 2022 2023 2024 2019-Q1 2021-Q2 2022-Q3 2023-Q4 2024-Q4; do
        check "generated-cat$catalogue" "$data" "$file" "$catalogue" "$period"
    done
    if [ $catalogue = 2 ]; then
        for period in 2022 2023-Q2 2024; do
            check "generated-cat2-folded" "$data" "$file" 1 "$period"
        done
    fi
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
