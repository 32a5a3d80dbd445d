#!/usr/bin/env bash
# Security, end to end, with real processes on loopback (the issue "Security").
#
#   1. Confidentiality on the wire and at rest: four nodes ship through a
#      relay that records every byte; neither the capture nor any file under
#      the data directories (stores, locks, logs, keys) holds an event id, a
#      case pseudonym, an event date or the generator's marker.  The
#      central's views equal tests/oracle.py.
#   2. Secret key files: every file in a keys directory is 0600, bundles are
#      written 0600, and a node or central whose secret key file others can
#      read refuses to run.
#   3. Revocation of a connected node: its new batches are refused (and
#      counted), the other nodes go on, the central keeps running, and the
#      figures hold none of what it sent after the revocation.
#   4. Foreign keys: a node enrolled by another central (handshake refused)
#      and a node whose key the central never enrolled (unknown key) ship
#      nothing, are counted, and do not hold the others up.
#   5. Rotation of every kind of key (central data key, node keys, central
#      transport key with no grace) while a large backlog is being shipped:
#      afterwards the figures equal the oracle -- nothing lost, nothing
#      counted twice -- and `cpsync-admin keys` shows the old keys retiring
#      or expired and the new ones current.
#
#   test_security.sh BIN_DIR SOURCE_DIR WORK_DIR
#
#   CPSYNC_TEST_KEEP=1 keeps the work directory (captures, stores, logs).
source "$(dirname "$0")/harness.sh" security "$@"
marker=QZXVsecret
central=$work/central
nodes=$work/nodes
codes=(tirane durres shkoder vlore)

# ---------------------------------------------------------------------------
#  Helpers

#  status CODE FIELD: one field of a node's status.
status () {
    "$bin/cpsync-node" status --data "$nodes/$1" --format json 2>/dev/null \
        | python3 -c 'import json, sys; print (json.load (sys.stdin) [sys.argv [1]])' "$2"
}

#  backlog CODE...: the sum of head - acked over the nodes.
backlog () {
    local code total=0
    for code in "$@"; do
        total=$(( total + $("$bin/cpsync-node" status --data "$nodes/$code" --format json 2>/dev/null \
            | python3 -c 'import json, sys; s = json.load (sys.stdin); print (s["head"] - s["acked"])') ))
    done
    echo $total
}

#  refusals CODE: the central's count of refusals with that cp_error_t code.
refusals () {
    "$bin/cpsync-central" stats --data "$central" --format json 2>/dev/null | python3 -c '
import json, sys
stats = json.load (sys.stdin)
print (sum (entry ["count"] for entry in stats ["refused"] if entry ["code"] == int (sys.argv [1])))' "$1"
}

#  wait_refusals SECONDS CODE BEFORE: until the count of CODE exceeds BEFORE.
wait_refusals () {
    local deadline=$(( SECONDS + $1 ))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(refusals "$2")" -gt "$3" ] && return 0; sleep 0.25
    done
    [ "$(refusals "$2")" -gt "$3" ]
}

#  events PART CODE COUNT: generate DIR/PART/CODE.jsonl (its own prefix per
#  part, so ids and cases never collide within a node).
part_seed=100
events () {
    mkdir -p "$work/$1"
    part_seed=$(( part_seed + 1 ))
    "$bin/gen_events" --seed $part_seed --events "$3" --from 2019-01-01 --to 2024-12-31 \
        --prefix "$marker$1" > "$work/$1/$2.jsonl"
}

#  import PART CODE: import and remember the file as counted by the central.
counted=()
import () {
    step "cpsync-node import $1/$2.jsonl" "$bin/cpsync-node" import --data "$nodes/$2" "$work/$1/$2.jsonl"
    counted+=("$work/$1/$2.jsonl")
}

#  same_view SCOPE PERIOD FILE...: the central's view equals the oracle's.
same_view () {
    local scope=$1 period=$2; shift 2
    "$bin/cpsync-central" query --data "$central" --period "$period" --scope "$scope" \
        --catalogue 1 --format json > "$work/central.json" 2> "$work/query.err" \
        || { echo "    query $scope $period failed: $(cat "$work/query.err")"; return 1; }
    same_as_oracle "$work/central.json" "$scope" "$period" "$@"
}

#  compare NAME "PERIOD..." CODE...: national and each municipality's views
#  against the oracle over the counted files.
compare () {
    local name=$1 periods=$2 all_ok=1 period code file; shift 2
    for period in $periods; do
        same_view national "$period" "${counted[@]}" || all_ok=0
        for code in "$@"; do
            local mine=()
            for file in "${counted[@]}"; do [ "$(basename "$file")" = "$code.jsonl" ] && mine+=("$file"); done
            same_view "municipality:$code" "$period" "${mine[@]}" || all_ok=0
        done
    done
    [ $all_ok = 1 ] && ok "$name: national and municipality views equal the oracle" \
        || fail "$name: views differ from the oracle"
}

#  secrets_found FILE-OR-DIR...: prints the files holding any of the
#  sampled plaintext strings (with the strings they hold); 0 if none.
secrets_found () {
    local found=0 file
    for file in $(grep -r -l -a -F -f "$work/secrets.txt" "$@" 2>/dev/null); do
        found=1
        echo "    $file holds: $(grep -o -a -F -f "$work/secrets.txt" "$file" | sort | uniq -c | head -5 | tr '\n' ' ')"
    done
    return $found
}

#  keys_private DIR...: every file in a keys directory is 0600.
keys_private () {
    local all=0 file
    while read -r file; do
        all=1
        local mode; mode=$(stat -c %a "$file")
        [ "$mode" = 600 ] || { echo "    $file is $mode"; return 1; }
    done < <(find "$@" -path '*/keys/*' -type f)
    [ $all = 1 ]
}

# ---------------------------------------------------------------------------
#  The relay: forwards the nodes' connections to the central and appends
#  every byte, both ways, to the capture; with a rate (bytes a second, all
#  connections together) it also slows the traffic down.  While the file
#  PORT_FILE.hold exists it forwards nothing, so that batches are surely
#  still in flight while keys are rotated, however fast or slow the
#  machine.  It writes its port once bound.
cat > "$work/relay.py" <<'PY'
import os, socket, sys, threading, time
port_file, target, capture, rate = sys.argv [1], int (sys.argv [2]), sys.argv [3], float (sys.argv [4])
hold = port_file + ".hold"
lock = threading.Lock ()
out = open (capture, "ab", buffering = 0)
next_free = [time.monotonic ()]

def throttle (size):
    if rate <= 0:
        return
    with lock:
        now = time.monotonic ()
        start = max (now, next_free [0])
        next_free [0] = start + size / rate
    if start > now:
        time.sleep (start - now)

def pump (source, sink):
    try:
        while True:
            data = source.recv (16384)
            if not data:
                break
            while os.path.exists (hold):
                time.sleep (0.02)
            throttle (len (data))
            with lock:
                out.write (data)
            sink.sendall (data)
    except OSError:
        pass
    for sock in (source, sink):
        try:
            sock.shutdown (socket.SHUT_RDWR)
        except OSError:
            pass

def serve (client):
    try:
        upstream = socket.create_connection (("127.0.0.1", target), timeout = 5)
        upstream.settimeout (None)
    except OSError:
        client.close ()
        return
    back = threading.Thread (target = pump, args = (upstream, client), daemon = True)
    back.start ()
    pump (client, upstream)
    back.join ()
    client.close ()
    upstream.close ()

server = socket.socket ()
server.setsockopt (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind (("127.0.0.1", 0))
server.listen (64)
with open (port_file + ".tmp", "w") as f:
    f.write (str (server.getsockname () [1]))
os.rename (port_file + ".tmp", port_file)
while True:
    client, _ = server.accept ()
    threading.Thread (target = serve, args = (client,), daemon = True).start ()
PY
#  start_relay NAME CAPTURE RATE: sets relay_pid, relay (its endpoint) and
#  relay_hold (the file that holds it).
start_relay () {
    python3 "$work/relay.py" "$work/$1.port" "$port" "$2" "$3" &
    relay_pid=$!; pids+=("$relay_pid")
    for i in $(seq 50); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
    relay=tcp://127.0.0.1:$(cat "$work/$1.port") relay_hold=$work/$1.port.hold
}
start_relay relay "$work/capture.bin" 0

# ---------------------------------------------------------------------------
#  1. Confidentiality on the wire and at rest
step "cpsync-admin init-central" \
    "$bin/cpsync-admin" init-central --central "$central" --listen "$endpoint"
bundles_private=1
for code in "${codes[@]}"; do
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
    step "cpsync-admin enrol --municipality $code" "$bin/cpsync-admin" enrol --central "$central" \
        --municipality "$code" --out "$work/$code.bundle" --endpoint "$relay"
    mode=$(stat -c %a "$work/$code.bundle" 2>/dev/null)
    [ "$mode" = 600 ] || { bundles_private=0; echo "    $code.bundle is $mode"; }
    step "cpsync-node enrol $code" \
        "$bin/cpsync-node" enrol --data "$nodes/$code" --bundle "$work/$code.bundle"
    events p1 "$code" 3000
    import p1 "$code"
done
check "cpsync-admin enrol writes bundles 0600" [ $bundles_private = 1 ]

#  What must never be seen in the clear: the marker, 20 event ids, 20 case
#  pseudonyms and 10 event dates, sampled over the four files.
cat "$work"/p1/*.jsonl | python3 -c '
import json, sys
lines = [json.loads (line) for line in sys.stdin]
step = len (lines) // 20
sample = lines [::step][:20]
print (sys.argv [1])
for event in sample:
    print (event ["id"]); print (event ["case"])
for event in lines [7::len (lines) // 10][:10]:
    print (event ["date"])' "$marker" | sort -u > "$work/secrets.txt"

start_central
for code in "${codes[@]}"; do start_node "$code"; done
check "every node shipped through the relay" wait_acked 60 "${codes[@]}"
for code in "${codes[@]}"; do stop_node "$code"; done
stop_central
kill "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null

total=$(cat "$work"/p1/*.jsonl | wc -l)
size=$(stat -c %s "$work/capture.bin" 2>/dev/null || echo 0)
check "the capture holds the traffic ($size bytes for $total events)" [ "$size" -gt $(( total * 20 )) ]
check "the capture holds no id, case pseudonym, date or marker ($(wc -l < "$work/secrets.txt") strings)" \
    secrets_found "$work/capture.bin"
check "no file under the data directories holds them" secrets_found "$central" "$nodes"
compare "through the relay" 2022 "${codes[@]}"

# ---------------------------------------------------------------------------
#  2. Secret key files
check "every file in the keys directories is 0600" keys_private "$central" "$nodes"

chmod 0644 "$nodes/tirane/keys/node.bundle"
timeout 5 "$bin/cpsync-node" run --data "$nodes/tirane" --central "$endpoint" > "$work/perm.out" 2>&1
rc=$?
if [ $rc != 0 ] && [ $rc != 124 ] && grep -q -i 'readable\|key file' "$work/perm.out"; then
    ok "a node whose bundle is 0644 refuses to run (exit $rc)"
else
    fail "cpsync-node run with keys/node.bundle 0644: exit $rc (124: still running after 5 s), output: $(head -3 "$work/perm.out")"
fi
chmod 0600 "$nodes/tirane/keys/node.bundle"

data_secret=$(ls "$central"/keys/data-*.secret | head -1)
chmod 0640 "$data_secret"
timeout 5 "$bin/cpsync-central" run --data "$central" --listen "$endpoint" > "$work/perm.out" 2>&1
rc=$?
if [ $rc != 0 ] && [ $rc != 124 ] && grep -q -i 'readable\|key file' "$work/perm.out"; then
    ok "a central whose data secret is 0640 refuses to run (exit $rc)"
else
    fail "cpsync-central run with $(basename "$data_secret") 0640: exit $rc (124: still running after 5 s), output: $(head -3 "$work/perm.out")"
fi
chmod 0600 "$data_secret"

#  Set up for part 4 while the central is stopped: a node of another
#  central (berat), and a node enrolled by a copy of this central made now,
#  whose keys this central never learns (fier).
step "cpsync-admin init-central (another central)" \
    "$bin/cpsync-admin" init-central --central "$work/other" --listen tcp://127.0.0.1:1
cp -a "$central" "$work/clone"
rm -f "$work/clone/store/lock.mdb"
for pair in berat:other fier:clone; do
    code=${pair%%:*} issuer=$work/${pair##*:}
    step "cpsync-node init $code" "$bin/cpsync-node" init --data "$nodes/$code" --municipality "$code"
    step "cpsync-admin enrol --municipality $code (${pair##*:})" "$bin/cpsync-admin" enrol \
        --central "$issuer" --municipality "$code" --out "$work/$code.bundle" --endpoint "$endpoint"
    step "cpsync-node enrol $code (${pair##*:})" \
        "$bin/cpsync-node" enrol --data "$nodes/$code" --bundle "$work/$code.bundle"
    events foreign "$code" 200
    step "cpsync-node import $code" \
        "$bin/cpsync-node" import --data "$nodes/$code" "$work/foreign/$code.jsonl"
done

# ---------------------------------------------------------------------------
#  3. Revocation of a connected node
start_central
for code in "${codes[@]}"; do start_node "$code" "$endpoint"; events p1b "$code" 100; import p1b "$code"; done
check "every node is connected and shipping (directly this time)" wait_acked 30 "${codes[@]}"
revoked_before=$(refusals -30837)
step "cpsync-admin revoke vlore" "$bin/cpsync-admin" revoke --central "$central" vlore
sleep 1                         #  the central looks at its key table every 250 ms
events p2 vlore 500
step "cpsync-node import (vlore)" "$bin/cpsync-node" import --data "$nodes/vlore" "$work/p2/vlore.jsonl"
events p2 durres 500; import p2 durres
check "another node goes on after a revocation (durres acked its new head within 5 s)" \
    wait_acked 5 durres
vlore_head=$(status vlore head) vlore_acked=$(status vlore acked)
check "the revoked node's new events are not acknowledged (acked $vlore_acked < head $vlore_head)" \
    [ "$vlore_acked" -lt "$vlore_head" ]
check "the central counts refusals of the revoked key (key revoked > $revoked_before)" \
    wait_refusals 5 -30837 "$revoked_before"
check "the revoked node's log says its key is refused" \
    grep -q "unsigned NACK (key revoked, unverified)" "$nodes/vlore/node.log"
check "the central is still running" kill -0 "$central_pid"
compare "after the revocation" 2022 vlore durres
stop_node vlore

# ---------------------------------------------------------------------------
#  4. Keys the central does not know
handshake_before=$(refusals -30817) unknown_before=$(refusals -30820)
start_node berat "$endpoint"
start_node fier "$endpoint"
knocking=$SECONDS
sleep 1
events p3 tirane 300; import p3 tirane
events p3 shkoder 300; import p3 shkoder
check "the other nodes go on while unknown keys knock" wait_acked 5 tirane shkoder durres
while [ $(( SECONDS - knocking )) -lt 4 ]; do sleep 0.5; done       #  at least 3 s of knocking
check "a node of another central ships nothing (acked $(status berat acked))" [ "$(status berat acked)" = 0 ]
check "a node with a key never enrolled here ships nothing (acked $(status fier acked))" \
    [ "$(status fier acked)" = 0 ]
check "the central counts failed handshakes from another central's node" \
    wait_refusals 3 -30817 "$handshake_before"
check "the central counts refusals of a key never enrolled" \
    wait_refusals 3 -30820 "$unknown_before"
check "the central is still running" kill -0 "$central_pid"
stop_node berat; stop_node fier

# ---------------------------------------------------------------------------
#  5. Rotation of every kind of key while a backlog is shipped
#  Through a relay slowed down to 2 MB/s, so that the backlog takes some
#  seconds to cross.  Each rotation is made with the relay held: what the
#  nodes have sent is surely still in flight, on a fast machine or a slow
#  one, and crosses only after the nodes have the new keys.
stop_central
for code in tirane durres shkoder; do stop_node "$code"; done
live=(tirane durres shkoder elbasan)
step "cpsync-node init elbasan" "$bin/cpsync-node" init --data "$nodes/elbasan" --municipality elbasan
step "cpsync-admin enrol --municipality elbasan" "$bin/cpsync-admin" enrol --central "$central" \
    --municipality elbasan --out "$work/elbasan.bundle" --endpoint "$endpoint"
step "cpsync-node enrol elbasan" \
    "$bin/cpsync-node" enrol --data "$nodes/elbasan" --bundle "$work/elbasan.bundle"
for code in "${live[@]}"; do events p4 "$code" 60000; import p4 "$code"; done
"$bin/cpsync-admin" keys --central "$central" --format json > "$work/keys-before.json" \
    2> "$work/admin.err" || fail "cpsync-admin keys --format json: exit $?, $(tail -1 "$work/admin.err")"
start_relay slow /dev/null 2000000
start_central
for code in "${live[@]}"; do start_node "$code" "$relay"; done
sleep 1

#  announce FILE CODE...: give a bundle or announcement to running nodes.
announce () {
    local file=$1 code; shift
    for code in "$@"; do
        step "cpsync-node enrol $code --bundle $(basename "$file") (while it runs)" \
            "$bin/cpsync-node" enrol --data "$nodes/$code" --bundle "$file" --keep-endpoint
    done
}
#  held WHAT COMMAND...: runs the command with the relay held, then gives
#  the nodes a second to take up what it made before traffic flows again;
#  adds the backlog at the time to $backlogs and keeps the least in
#  $in_flight.
backlogs="" in_flight=
held () {
    local what=$1; shift
    touch "$relay_hold"
    local now; now=$(backlog "${live[@]}")
    backlogs+="${backlogs:+, }$what $now"
    [ -z "$in_flight" ] || [ "$now" -lt "$in_flight" ] && in_flight=$now
    "$@"
    sleep 1.2                   #  the nodes look at their key files every second
    rm -f "$relay_hold"
    sleep 0.5
}
rotate_data () {
    step "cpsync-admin rotate-central --data" \
        "$bin/cpsync-admin" rotate-central --central "$central" --data --out "$work/data.ann"
    announce "$work/data.ann" "${live[@]}"
}
rotate_nodes () {
    local code
    for code in tirane durres; do
        step "cpsync-admin rotate-node $code" \
            "$bin/cpsync-admin" rotate-node --central "$central" "$code" --out "$work/$code.rotated"
        announce "$work/$code.rotated" "$code"
    done
}
rotate_transport () {
    step "cpsync-admin rotate-central --transport --grace 0" "$bin/cpsync-admin" rotate-central \
        --central "$central" --transport --grace 0 --out "$work/transport.ann"
    announce "$work/transport.ann" "${live[@]}"
}
held "at the data key" rotate_data
held "at the node keys" rotate_nodes
held "at the transport key" rotate_transport
check "the keys were rotated while batches were in flight (backlog $backlogs)" [ "$in_flight" -gt 0 ]
for code in "${live[@]}"; do events p5 "$code" 1000; import p5 "$code"; done
if wait_acked 120 "${live[@]}"; then
    ok "every node shipped its backlog across the rotations ($(( SECONDS - started )) s so far)"
else
    for code in "${live[@]}"; do
        echo "    $code: head $(status "$code" head) acked $(status "$code" acked)"
        acked_all "$code" || tail -n 12 "$nodes/$code/node.log" | sed 's/^/      /'
    done
    echo "    the central's last lines:"; tail -n 12 "$central/central.log" | sed 's/^/      /'
    fail "nodes did not catch up after the rotations"
fi
check "the central is still running" kill -0 "$central_pid"
"$bin/cpsync-admin" keys --central "$central" --format json > "$work/keys-after.json" \
    2> "$work/admin.err" || fail "cpsync-admin keys --format json: exit $?, $(tail -1 "$work/admin.err")"
for code in "${live[@]}"; do stop_node "$code"; done
stop_central
kill "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null

compare "after the rotations" "2022 2021-Q3" "${live[@]}" vlore

check "the old keys are retiring or expired and the new ones current" \
    python3 - "$work/keys-before.json" "$work/keys-after.json" <<'PY'
import json, sys
try:
    before, after = (json.load (open (path)) ["keys"] for path in sys.argv [1:3])
except (OSError, ValueError, KeyError) as error:
    print ("    no key list to compare:", error)
    sys.exit (1)
old = {key ["id"] for key in before}
state = {key ["id"]: key ["state"] for key in after}
bad = []
rotated = [("transport", "central"), ("data", "central"), ("node", "tirane"),
           ("node-transport", "tirane"), ("node", "durres"), ("node-transport", "durres")]
for kind, owner in rotated:
    mine = [key for key in after if key ["kind"] == kind and key ["owner"] == owner]
    olds = [key for key in mine if key ["id"] in old and key ["state"] != "revoked"]
    news = [key for key in mine if key ["id"] not in old]
    if len (news) != 1 or news [0]["state"] != "current":
        bad.append ("%s/%s: new keys %s" % (kind, owner, [(k ["id"], k ["state"]) for k in news]))
    if not olds or any (key ["state"] not in ("retiring", "expired") for key in olds):
        bad.append ("%s/%s: old keys %s" % (kind, owner, [(k ["id"], k ["state"]) for k in olds]))
for kind, owner in [("node", "shkoder"), ("node-transport", "shkoder"), ("root", "central")]:
    mine = [state [key ["id"]] for key in before if key ["kind"] == kind and key ["owner"] == owner]
    if mine != ["current"]:
        bad.append ("%s/%s (not rotated): %s" % (kind, owner, mine))
for kind in ("node", "node-transport"):
    mine = [key ["state"] for key in after if key ["kind"] == kind and key ["owner"] == "vlore"]
    if not mine or any (s != "revoked" for s in mine):
        bad.append ("%s/vlore (revoked): %s" % (kind, mine))
for line in bad:
    print ("   ", line)
sys.exit (1 if bad else 0)
PY

# ---------------------------------------------------------------------------
#  At the end: still nothing in the clear, still every key file private
cat "$work"/p*/*.jsonl | python3 -c '
import json, sys
lines = [json.loads (line) for line in sys.stdin]
for event in lines [3::len (lines) // 20][:20]:
    print (event ["id"]); print (event ["case"])' >> "$work/secrets.txt"
check "after every rotation, no file under the data directories holds an id, case or date" \
    secrets_found "$central" "$nodes"
check "after every rotation, every file in the keys directories is 0600" keys_private "$central" "$nodes"

finish
