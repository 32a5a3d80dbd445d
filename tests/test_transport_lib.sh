#!/usr/bin/env bash
# Shared by the transport tests (test_transport_*.sh), sourced after
# tests/harness.sh (bin, source, work, port, verdicts, clean-up):
# a central and enrolled nodes on loopback, events, the central's memory,
# and its figures against the nodes' own views and tests/oracle.py.

central=$work/central
nodes=$work/nodes
#  must WHAT COMMAND...: a step the rest needs (harness.sh's step).
must () { step "$@"; }

#  init_central: keys and store, listening on $endpoint.
init_central () {
    must "cpsync-admin init-central" "$bin/cpsync-admin" init-central --central "$central" \
        --listen "$endpoint"
}

#  enrol CODE [ENDPOINT]: a node set up and enrolled (the bundle names ENDPOINT).
enrol () {
    must "cpsync-node init $1" "$bin/cpsync-node" init --data "$nodes/$1" --municipality "$1"
    must "cpsync-admin enrol $1" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$1" --out "$work/$1.bundle" --endpoint "${2:-$endpoint}"
    must "cpsync-node enrol $1" "$bin/cpsync-node" enrol --data "$nodes/$1" --bundle "$work/$1.bundle"
}

#  feed CODE COUNT [unshipped]: COUNT new events generated and imported
#  into CODE (each call its own seed and prefix, so nothing collides);
#  "unshipped" keeps them out of what the central's figures must hold.
fed=0
feed () {
    fed=$((fed + 1))
    local dir; dir=$work/${3:-events}/$(printf %03d $fed)
    mkdir -p "$dir"
    local file=$dir/$1.jsonl     #  the oracle takes the municipality from the name
    "$bin/gen_events" --seed $((700 + fed)) --events "$2" --from 2021-01-01 --to 2023-12-31 \
        --prefix "tt$fed" > "$file"
    must "cpsync-node import $file" "$bin/cpsync-node" import --data "$nodes/$1" "$file"
}

start_central () {
    "$bin/cpsync-central" run --data "$central" 2>> "$work/central.log" &
    central_pid=$!; pids+=("$central_pid")
}

#  start_node CODE [ENDPOINT]
start_node () {
    "$bin/cpsync-node" run --data "$nodes/$1" ${2:+--central "$2"} 2>> "$nodes/$1.log" &
    node_pid[$1]=$!; pids+=("${node_pid[$1]}")
}

#  acked CODE...: every node has its head acknowledged.
acked () {
    python3 - "$bin/cpsync-node" "$nodes" "$@" <<'PY'
import json, subprocess, sys
node, nodes, codes = sys.argv [1], sys.argv [2], sys.argv [3:]
def acked (code):
    run = subprocess.run ([node, "status", "--data", nodes + "/" + code, "--format", "json"],
                          capture_output = True)
    try:
        status = json.loads (run.stdout)
    except ValueError:
        return False
    return status ["acked"] == status ["head"]
sys.exit (0 if all (acked (code) for code in codes) else 1)
PY
}

#  wait_acked SECONDS CODE...
wait_acked () {
    local deadline=$(( SECONDS + $1 )); shift
    until acked "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.25; done
}

#  alive: the central still runs (and tells how it ended if not).
alive () {
    kill -0 "$central_pid" 2>/dev/null && return 0
    echo "    the central is gone; its log ends with:"; tail -3 "$work/central.log" | sed 's/^/      /'
    return 1
}

#  memory FIELD: the central's VmRSS or VmHWM, in MiB.
memory () {
    awk -v field="$1:" '$1 == field { printf "%d\n", $2 / 1024 }' "/proc/$central_pid/status"
}

#  refusals CODE: the central's count of that cp_error_t, as stored.
refusals () {
    "$bin/cpsync-central" stats --data "$central" --format json 2>/dev/null | python3 -c '
import json, sys
print (sum (e ["count"] for e in json.load (sys.stdin) ["refused"] if e ["code"] == int (sys.argv [1])))' "$1"
}

#  figures PERIOD CODE...: the central's view of each municipality equals
#  the node's own, and the national one tests/oracle.py's over every file
#  imported (after the central has written them: it is stopped first).
figures () {
    local period=$1 code all=0; shift
    for code in "$@"; do
        "$bin/cpsync-central" query --data "$central" --period "$period" \
            --scope "municipality:$code" --catalogue 1 --format json > "$work/central.json" 2> "$work/query.err"
        "$bin/cpsync-node" view --data "$nodes/$code" --period "$period" --catalogue 1 --format json \
            > "$work/node.json" 2> "$work/node.err"
        python3 "$source/tests/test_transport_same.py" "$work/central.json" "$work/node.json" \
            "$code $period" || all=1
    done
    "$bin/cpsync-central" query --data "$central" --period "$period" --scope national \
        --catalogue 1 --format json > "$work/central.json" 2> "$work/query.err"
    python3 "$source/tests/oracle.py" --catalogue-dir "$source/protocol/catalogue" \
        --catalogue 1 --node-catalogue 1 --period "$period" --scope national \
        --municipalities "$source/protocol/catalogue/municipalities.csv" \
        "$work"/events/*/*.jsonl > "$work/oracle.json" 2> "$work/oracle.err"
    python3 "$source/tests/test_transport_same.py" "$work/central.json" "$work/oracle.json" \
        "national $period" || all=1
    return $all
}
