#!/usr/bin/env bash
# The daemons' metrics (issue "Operators", point 4), with real processes.
#
# Two municipalities' events are shipped by cpsync-fleet; then a central
# (run), its HTTP face (serve) and both nodes (run --metrics-dir) run.
#   - serve's GET /metrics and each node's textfile pass
#     `promtool check metrics` (promtool is required: without it the test
#     fails, it does not skip);
#   - the central's figures equal `nodes --format json` and
#     `stats --format json`, the node's `status --format json`;
#   - events imported while they run move them: the node's head, its
#     batches sent, the central's events and its cursor of the node;
#   - /metrics from loopback needs no token; from another address of the
#     host (serve on 0.0.0.0 over HTTPS), an operator's token.
#
#   test_metrics.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" metrics "$@"
central=$work/data/central
nodes=$work/data/nodes
metrics=$work/metrics
mkdir -p "$work/events" "$metrics"

if ! command -v promtool > /dev/null; then
    fail "promtool is not installed (Debian package prometheus; scripts/setup.sh installs it)"
    finish
fi

seed=41
for code in berat kucove; do
    "$bin/gen_events" --seed $seed --events 1500 --from 2021-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships two municipalities' events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

start_central
http_port=$(free_port)
"$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$http_port" 2>> "$work/serve.log" &
pids+=($!)
for code in berat kucove; do
    "$bin/cpsync-node" run --data "$nodes/$code" --central "$endpoint" --metrics-dir "$metrics" \
        2>> "$nodes/$code/node.log" &
    node_pid[$code]=$!; pids+=("${node_pid[$code]}")
done

#  scrape OUT: GET /metrics into OUT; true on 200.
scrape () {
    python3 - "http://127.0.0.1:$http_port/metrics" "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen (sys.argv [1], timeout=10) as answer:
        open (sys.argv [2], "wb").write (answer.read ())
        sys.exit (0 if answer.status == 200
                  and answer.headers ["Content-Type"].startswith ("text/plain; version=0.0.4")
                  else 1)
except Exception as error:
    print ("   ", error); sys.exit (1)
PY
}
deadline=$((SECONDS + 20))
until scrape "$work/central.prom" || [ $SECONDS -gt $deadline ]; do sleep 0.25; done
#  The files are written within NODE_SYNC_METRICS_MS (5 s) of the start.
deadline=$((SECONDS + 20))
until [ -s "$metrics/cpsync_node_berat.prom" ] && [ -s "$metrics/cpsync_node_kucove.prom" ] \
      || [ $SECONDS -gt $deadline ]; do sleep 0.25; done
check "GET /metrics from loopback, no token: 200, text/plain; version=0.0.4" \
    scrape "$work/central.prom"
check "each node wrote DIR/cpsync_node_CODE.prom" \
    test -s "$metrics/cpsync_node_berat.prom" -a -s "$metrics/cpsync_node_kucove.prom"
check "... and no temporary file is left beside them" \
    bash -c "[ -z \"\$(ls '$metrics' | grep -v '\\.prom\$')\" ]"

promtool_ok () {
    promtool check metrics < "$1" > "$work/promtool.out" 2>&1 \
        || { sed 's/^/    /' "$work/promtool.out"; return 1; }
}
check "promtool check metrics: the central's" promtool_ok "$work/central.prom"
check "promtool check metrics: berat's" promtool_ok "$metrics/cpsync_node_berat.prom"
check "promtool check metrics: kucove's" promtool_ok "$metrics/cpsync_node_kucove.prom"

#  same_central: the scrape's figures are nodes' and stats' (taken after it)
same_central () {
    scrape "$work/central.prom" || return 1
    "$bin/cpsync-central" nodes --data "$central" --format json > "$work/nodes.json" || return 1
    "$bin/cpsync-central" stats --data "$central" --format json > "$work/stats.json" || return 1
    python3 - "$work/central.prom" "$work/nodes.json" "$work/stats.json" <<'PY'
import json, re, sys
samples = {}
for line in open (sys.argv [1]):
    if line.startswith ("#") or not line.strip ():
        continue
    match = re.match (r'^([a-z_]+)(?:\{(.*)\})? (-?\d+)$', line.strip ())
    assert match, line
    labels = tuple (sorted (re.findall (r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group (2) or "")))
    samples [(match.group (1), labels)] = int (match.group (3))
nodes, stats = (json.load (open (path)) for path in sys.argv [2:4])
wrong = []
def same (name, labels, expected):
    got = samples.get ((name, tuple (sorted (labels))))
    if got != expected:
        wrong.append ("%s%s: metrics %s, command %s" % (name, dict (labels), got, expected))
for field, name in (("events", "events_total"), ("batches", "batches_total"),
                    ("duplicates", "duplicate_batches_total"),
                    ("quarantined", "quarantined_total"),
                    ("municipalities_reporting", "municipalities_reporting")):
    same ("cpsync_central_" + name, (), stats [field])
for refused in stats ["refused"]:
    same ("cpsync_central_refusals_total",
          (("code", str (refused ["code"])), ("reason", refused ["reason"])), refused ["count"])
for node in nodes:
    label = (("municipality", node ["code"]),)
    for field, name in (("acked", "acknowledged"), ("head", "head"), ("backlog", "backlog"),
                        ("downlink", "downlink_cursor"), ("batches", "batches_total"),
                        ("events", "events_total"), ("duplicates", "duplicate_batches_total"),
                        ("duplicate_events", "duplicate_events_total"),
                        ("conflicts", "conflicts_total"), ("quarantined", "quarantined_total")):
        same ("cpsync_central_node_" + name, label, node [field])
    verdict = node ["reconciliation"]["verdict"]
    for state in ("in_sync", "diverged", "unknown"):
        same ("cpsync_central_node_reconciliation", label + (("state", state),),
              int (state == verdict))
    if node ["last_seen"] is None:
        same ("cpsync_central_node_last_contact_seconds", label, 0)
for line in wrong [:10]:
    print ("   ", line)
sys.exit (1 if wrong else 0)
PY
}

#  same_node CODE: its file's figures are status's (the store's)
same_node () {
    "$bin/cpsync-node" status --data "$nodes/$1" --format json > "$work/status.json" || return 1
    python3 - "$metrics/cpsync_node_$1.prom" "$work/status.json" "$1" <<'PY'
import json, re, sys
samples = {}
for line in open (sys.argv [1]):
    if line.startswith ("#") or not line.strip ():
        continue
    match = re.match (r'^([a-z_]+)(?:\{(.*)\})? (-?\d+)$', line.strip ())
    assert match, line
    labels = dict (re.findall (r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group (2) or ""))
    assert labels.pop ("municipality") == sys.argv [3], line
    samples [(match.group (1), tuple (sorted (labels.items ())))] = int (match.group (3))
status = json.load (open (sys.argv [2]))
wrong = []
def same (name, expected, labels = ()):
    got = samples.get (("cpsync_node_" + name, tuple (sorted (labels))))
    if got != expected:
        wrong.append ("%s%s: metrics %s, status %s" % (name, dict (labels), got, expected))
same ("head", status ["head"]); same ("acknowledged", status ["acked"])
same ("backlog", status ["backlog"]); same ("downlink_cursor", status ["downlink"])
for refused in status ["downlink_refused"]:
    same ("downlink_refused_total", refused ["count"],
          (("code", str (refused ["code"])), ("reason", refused ["reason"])))
for state in ("in_sync", "diverged", "unknown"):
    same ("reconciliation", int (state == status ["reconciliation"]["verdict"]),
          (("state", state),))
for line in wrong:
    print ("   ", line)
sys.exit (1 if wrong else 0)
PY
}

#  value FILE NAME [LABELS]: one sample's value
value () {
    grep "^$2${3:-}[{ ]" "$1" | head -1 | awk '{print $NF}'
}

#  A new file after the figures settle: the node wrote it after its last ack.
wait_acked 60 berat kucove
sleep 6
check "the central's metrics equal nodes --format json and stats --format json" same_central
check "berat's metrics equal its status --format json" same_node berat
check "kucove's metrics equal its status --format json" same_node kucove
check "the central heard from berat within the last minute (last contact)" \
    bash -c "[ \$(( \$(date +%s) - $(value "$work/central.prom" cpsync_central_node_last_contact_seconds '{municipality="berat"}') )) -lt 60 ]"
check "berat heard from the central within the last minute (last contact)" \
    bash -c "[ \$(( \$(date +%s) - $(value "$metrics/cpsync_node_berat.prom" cpsync_node_last_contact_seconds) )) -lt 60 ]"

# ----------------------------------------------------------------------
# Figures move when events flow

head_before=$(value "$metrics/cpsync_node_berat.prom" cpsync_node_head)
sent_before=$(value "$metrics/cpsync_node_berat.prom" cpsync_node_batches_sent_total)
events_before=$(value "$work/central.prom" cpsync_central_events_total)
acked_before=$(value "$work/central.prom" cpsync_central_node_acknowledged '{municipality="berat"}')
"$bin/gen_events" --seed 77 --events 500 --from 2021-01-01 --to 2022-12-31 --prefix "berat-more-" \
    > "$work/more.jsonl"
step "500 more events imported at berat while it runs" \
    "$bin/cpsync-node" import --data "$nodes/berat" "$work/more.jsonl"
wait_acked 60 berat
sleep 6
scrape "$work/central.prom"
#  The node may append events of its own (figures_checked) as it goes.
moved=$(( $(value "$metrics/cpsync_node_berat.prom" cpsync_node_head) - head_before ))
check "berat's head moved by the 500 events (and its own reports: $moved) in its file" \
    [ "$moved" -ge 500 -a "$moved" -lt 510 ]
check "... and it counted batches sent" \
    [ "$(value "$metrics/cpsync_node_berat.prom" cpsync_node_batches_sent_total)" -gt "$sent_before" ]
check "the central's events moved by as many" \
    [ "$(value "$work/central.prom" cpsync_central_events_total)" = $((events_before + moved)) ]
check "... and its cursor of berat" \
    [ "$(value "$work/central.prom" cpsync_central_node_acknowledged '{municipality="berat"}')" = $((acked_before + moved)) ]
check "after the flow, the central's metrics still equal nodes and stats" same_central
check "... and berat's its status" same_node berat

# ----------------------------------------------------------------------
# From beyond loopback: an operator's token

#  The first address of this host that is not loopback, if it has one.
address=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
if [ -z "$address" ]; then
    echo "    (this host has no address beyond loopback: /metrics from afar not tried)"
else
    client=$source/tests/http_client.py
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$address" \
        -addext "subjectAltName=IP:$address" -keyout "$work/http.key" -out "$work/http.pem" \
        2> /dev/null
    printf 'correct horse battery\n' > "$work/password"
    for role in operator public; do
        step "an account of role $role" "$bin/cpsync-central" user add --data "$central" \
            --name "$role-1" --role "$role" --password-file "$work/password"
    done
    far_port=$(free_port)
    "$bin/cpsync-central" serve --data "$central" --http "0.0.0.0:$far_port" \
        --tls-cert "$work/http.pem" --tls-key "$work/http.key" 2>> "$work/serve.log" &
    pids+=($!)
    far=https://$address:$far_port
    #  get OUT PATH [client options]: the status of a GET from afar
    get () { local out=$1 path=$2; shift 2
             python3 "$client" "$out" GET "$far$path" --cafile "$work/http.pem" "$@"; }
    deadline=$((SECONDS + 15))
    until [ "$(get "$work/up" /openapi.json)" = 200 ] || [ $SECONDS -gt $deadline ]; do
        sleep 0.25
    done
    #  token ROLE: a token of ROLE's account
    token () {
        python3 "$client" "$work/login.json" POST "$far/api/v1/login" --cafile "$work/http.pem" \
            --data "{\"name\": \"$1-1\", \"password\": \"correct horse battery\"}" > /dev/null
        python3 -c 'import json, sys; print (json.load (open (sys.argv [1])) ["token"])' \
            "$work/login.json"
    }
    check "/metrics from $address without a token: 401" [ "$(get "$work/far.prom" /metrics)" = 401 ]
    check "... with the public role's token: 403" \
        [ "$(get "$work/far.prom" /metrics --token "$(token public)")" = 403 ]
    check "... with an operator's token: 200, and promtool passes it" \
        bash -c "[ \"\$(python3 '$client' '$work/far.prom' GET '$far/metrics' --cafile '$work/http.pem' --token '$(token operator)')\" = 200 ] && promtool check metrics < '$work/far.prom' > /dev/null 2>&1"
fi

#  At stop the file is written a last time.
rm -f "$metrics/cpsync_node_kucove.prom"
stop_node kucove
check "a node writes its file when it stops" test -s "$metrics/cpsync_node_kucove.prom"
finish
