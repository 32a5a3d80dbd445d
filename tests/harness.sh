# harness.sh: what the end-to-end shell tests share, sourced by them:
#
#   source "$(dirname "$0")/harness.sh" NAME "$@"      # BIN_DIR SOURCE_DIR WORK_DIR
#
# It sets bin and source, makes work (WORK_DIR/NAME.XXXXXX, removed at exit
# unless CPSYNC_TEST_KEEP is set, after every process in pids is killed),
# and a free loopback port and endpoint; it gives the results (ok, fail,
# check, step, finish: "N passed, M failed" and the exit code), views
# against tests/oracle.py, and the daemons' helpers, which use central (the
# central's data directory) and nodes (the directory of the nodes' ones),
# set by the test.
set -u
bin=$2 source=$3 work=$(mktemp -d "$4/$1.XXXXXX")
#  Debian's python3 first on PATH when there is one: a python3 found
#  earlier may be a version manager's shim that costs a second a call, and
#  these tests call python3 hundreds of times (Debian's 0.1 s).
if [ -x /usr/bin/python3 ]; then
    mkdir "$work/.python" && ln -s /usr/bin/python3 "$work/.python/python3"
    PATH=$work/.python:$PATH
fi
catalogues=$source/protocol/catalogue
municipalities=$catalogues/municipalities.csv
pids=()
declare -A node_pid
cleanup () {
    { for pid in "${pids[@]}"; do kill -9 "$pid"; done; wait; } 2>/dev/null
    [ -n "${CPSYNC_TEST_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0 started=$SECONDS
ok ()   { passed=$((passed + 1)); echo "ok   $*"; }
fail () { failed=$((failed + 1)); echo "FAIL $*"; }
check () { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish () {
    echo "$passed passed, $failed failed ($(( SECONDS - started )) s)"
    [ $failed = 0 ] && exit 0
    exit 1
}
#  step WHAT COMMAND...: a command the rest depends on; if it fails, say how
#  and stop there (what follows would only fail in its wake).  Its output
#  is left in $work/step.out.
step () {
    local what=$1; shift
    "$@" > "$work/step.out" 2> "$work/step.err" && return 0
    local rc=$?
    fail "$what: exit $rc: $(head -c 400 "$work/step.err" | tr '\n' ' ')-- cannot go on"
    finish
}

#   free_port: a port free now, below the ephemeral ones (32768 up), which a
#   node reconnecting while the central is down could otherwise take as its
#   own and connect to itself.
free_port () {
    python3 -c '
import random, socket
while True:
    port = random.randrange (20000, 32768)
    try:
        socket.socket ().bind (("127.0.0.1", port)); print (port); break
    except OSError:
        pass'
}
port=$(free_port)
endpoint=tcp://127.0.0.1:$port

#  field CODE NAME: one field of a node's status.
field () {
    "$bin/cpsync-node" status --data "$nodes/$1" --format json 2>/dev/null \
        | python3 -c 'import json, sys; print (json.load (sys.stdin) [sys.argv [1]])' "$2"
}

#  acked_all CODE...: each node reports acked == head.
acked_all () {
    local code
    for code in "$@"; do
        "$bin/cpsync-node" status --data "$nodes/$code" --format json 2>/dev/null | python3 -c '
import json, sys; s = json.load (sys.stdin); sys.exit (0 if s["acked"] == s["head"] else 1)' || return 1
    done
}

#  wait_acked SECONDS CODE...
wait_acked () {
    local deadline=$(( SECONDS + $1 )); shift
    while [ $SECONDS -lt $deadline ]; do acked_all "$@" && return 0; sleep 0.25; done
    acked_all "$@"
}

start_central () {
    "$bin/cpsync-central" run --data "$central" --listen "$endpoint" 2>> "$central/central.log" &
    central_pid=$!; pids+=("$central_pid")
}

stop_central () { kill "$central_pid" 2>/dev/null; wait "$central_pid" 2>/dev/null; }

#  start_node CODE [ENDPOINT]: the enrolled endpoint unless one is given.
start_node () {
    "$bin/cpsync-node" run --data "$nodes/$1" ${2:+--central "$2"} 2>> "$nodes/$1/node.log" &
    node_pid[$1]=$!; pids+=("${node_pid[$1]}")
}

stop_node () { kill "${node_pid[$1]}" 2>/dev/null; wait "${node_pid[$1]}" 2>/dev/null; }

#  same_as_oracle JSON SCOPE PERIOD FILE...: a view (catalogue 1) equals
#  what tests/oracle.py computes from the events of FILE... (each named
#  CODE.jsonl after its municipality), and is not empty.
same_as_oracle () {
    local json=$1 scope=$2 period=$3; shift 3
    python3 "$source/tests/oracle.py" --catalogue-dir "$catalogues" --catalogue 1 \
        --node-catalogue 1 --period "$period" --scope "$scope" --municipalities "$municipalities" \
        "$@" > "$work/oracle.json" 2>/dev/null || { echo "    oracle $scope $period failed"; return 1; }
    python3 - "$json" "$work/oracle.json" "$scope $period" <<'PY'
import json, sys
view, oracle = (json.load (open (path)) for path in sys.argv [1:3])
differing = [k for k in sorted (set (view) | set (oracle)) if view.get (k) != oracle.get (k)]
for key in differing:
    print ("   ", sys.argv [3], key, "view:", view.get (key), "oracle:", oracle.get (key))
sys.exit (1 if differing or view ["managed"] == 0 else 0)
PY
}
