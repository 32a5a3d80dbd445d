#!/usr/bin/env bash
# The daemons' configuration files and reload (issue "Operators", point 5),
# with real processes.
#
#   - cpsync-central run, serve and cpsync-node run start from a file
#     (--config FILE) whose keys are their long options;
#   - a flag on the command line wins over the file's key;
#   - log levels, and the journal's priority prefix when stderr is its
#     stream;
#   - an unknown key, a bad value, a key twice and a missing file: exit 2,
#     a message naming the key (and its line) or the file, nothing started;
#   - SIGHUP with the file changed to log-level = debug: the running node
#     (same pid) writes debug lines from then on, and goes on syncing; a
#     file broken before a SIGHUP changes nothing and the node runs on;
#   - SIGHUP after a certificate's renewal: serve (same pid) serves the
#     new one and keeps its tokens; a key that does not load is refused
#     and the old certificate served still.
#
#   test_config.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" config "$@"
central=$work/data/central
nodes=$work/data/nodes
mkdir -p "$work/events" "$work/metrics"

seed=61
for code in berat tirane; do
    "$bin/gen_events" --seed $seed --events 500 --from 2021-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
step "the fleet sets up and ships two municipalities" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

# ----------------------------------------------------------------------
# Started from files

cat > "$work/central.conf" <<CONF
# cpsync-central run
data = $central
listen = $endpoint
log-level = info
CONF
"$bin/cpsync-central" run --config "$work/central.conf" 2>> "$central/central.log" &
central_pid=$!; pids+=("$central_pid")

#  The file names a central nowhere; the flag names the real one: it wins.
cat > "$work/berat.conf" <<CONF
data = $nodes/berat
central = "tcp://127.0.0.1:9"      # no central there
metrics-dir = $work/metrics
log-level = info
CONF
"$bin/cpsync-node" run --config "$work/berat.conf" --central "$endpoint" \
    2>> "$nodes/berat/node.log" &
node_pid[berat]=$!; pids+=("${node_pid[berat]}")

"$bin/gen_events" --seed 5 --events 200 --from 2021-01-01 --to 2022-12-31 --prefix "berat-a-" \
    > "$work/a.jsonl"
step "200 events imported at berat" "$bin/cpsync-node" import --data "$nodes/berat" "$work/a.jsonl"
check "run from files: berat ships its events to the central of the run's file (the flag's)" \
    wait_acked 60 berat
check "... the file's metrics-dir is used" test -s "$work/metrics/cpsync_node_berat.prom"
check "... its log-level = info: no debug line" \
    bash -c "! grep -q '^D: ' '$nodes/berat/node.log'"

http_port=$(free_port)
cat > "$work/serve.conf" <<CONF
data = $central
http = 127.0.0.1:$http_port
token-ttl = 600
CONF
"$bin/cpsync-central" serve --config "$work/serve.conf" 2>> "$work/serve.log" &
pids+=($!)
answers () {
    python3 - "http://127.0.0.1:$http_port/openapi.json" <<'PY'
import sys, urllib.request
try:
    sys.exit (0 if urllib.request.urlopen (sys.argv [1], timeout=5).status == 200 else 1)
except Exception:
    sys.exit (1)
PY
}
deadline=$((SECONDS + 15))
until answers || [ $SECONDS -gt $deadline ]; do sleep 0.25; done
check "serve from a file: it answers on the file's http address" answers

# ----------------------------------------------------------------------
# Refused files: exit 2, the key or file named, nothing started

#  refused WORDS PROGRAM ARGS...: exits 2 within 10 s, says WORDS on stderr.
refused () {
    local words=$1; shift
    timeout 10 "$@" > "$work/refused.out" 2> "$work/refused.err"
    local rc=$?
    [ $rc = 2 ] && grep -qF -- "$words" "$work/refused.err" && return 0
    echo "    exit $rc: $(head -c 300 "$work/refused.err")"
    return 1
}
connected_before=$(grep -c "tirane connected" "$central/central.log")
bad () { printf '%b' "$2" > "$work/$1.conf"; echo "$work/$1.conf"; }
check "node run: an unknown key (line 2) is refused, naming it" \
    refused "$work/unknown.conf:2: key 'centrall': not a key of this command" \
    "$bin/cpsync-node" run --config "$(bad unknown "data = $nodes/tirane\ncentrall = $endpoint\n")"
check "node run: a bad log-level is refused, naming it" \
    refused "key 'log-level': it must be one of" \
    "$bin/cpsync-node" run --config "$(bad level "data = $nodes/tirane\nlog-level = loud\n")"
check "node run: a bad verbose is refused, naming it" \
    refused "key 'verbose': it must be true or false" \
    "$bin/cpsync-node" run --config "$(bad verbose "data = $nodes/tirane\nverbose = maybe\n")"
check "node run: a key given twice is refused" \
    refused "key 'data': given twice" \
    "$bin/cpsync-node" run --config "$(bad twice "data = $nodes/tirane\ndata = $nodes/berat\n")"
check "node run: a file that does not parse is refused" \
    refused "not a ZPL file" \
    "$bin/cpsync-node" run --config "$(bad syntax "data = \"$nodes/tirane\n")"
check "node run: a missing file is refused, naming it" \
    refused "$work/none.conf: No such file or directory" \
    "$bin/cpsync-node" run --config "$work/none.conf"
check "node run: a metrics-dir that is no directory is refused, naming it" \
    refused "--metrics-dir $work/none" \
    "$bin/cpsync-node" run --config "$(bad metrics "data = $nodes/tirane\nmetrics-dir = $work/none\n")"
check "... none of them started tirane's node (the central never heard of it)" \
    [ "$(grep -c "tirane connected" "$central/central.log")" = "$connected_before" ]
check "... nor wrote its metrics" test ! -e "$work/none"
other_port=$(free_port)
check "central run: an unknown key is refused, naming it" \
    refused "key 'http': not a key of this command" \
    "$bin/cpsync-central" run --config "$(bad crun "data = $central\nlisten = tcp://127.0.0.1:$other_port\nhttp = 127.0.0.1:1\n")"
check "central serve: a token-ttl out of range is refused, naming it" \
    refused "key 'token-ttl': it must be a whole number" \
    "$bin/cpsync-central" serve --config "$(bad cserve "data = $central\nhttp = 127.0.0.1:$other_port\ntoken-ttl = 0\n")"
check "central serve: a missing file is refused, naming it" \
    refused "$work/none.conf" "$bin/cpsync-central" serve --config "$work/none.conf"
check "... none of them bound its port" \
    python3 -c "import socket, sys; socket.socket ().bind (('127.0.0.1', $other_port))"
check "a command without a configuration file refuses --config (status)" \
    refused "--config is not an option of status" \
    "$bin/cpsync-node" status --data "$nodes/berat" --config "$work/berat.conf"

#  log-level = error: the info lines of a start and a sync are dropped.
: > "$nodes/tirane/node.log"
printf 'data = %s\nlog-level = error\n' "$nodes/tirane" > "$work/tirane.conf"
"$bin/cpsync-node" run --config "$work/tirane.conf" --central "$endpoint" \
    2>> "$nodes/tirane/node.log" &
node_pid[tirane]=$!; pids+=("${node_pid[tirane]}")
"$bin/gen_events" --seed 9 --events 100 --from 2021-01-01 --to 2022-12-31 --prefix "tirane-a-" \
    > "$work/t.jsonl"
step "100 events imported at tirane" "$bin/cpsync-node" import --data "$nodes/tirane" "$work/t.jsonl"
check "log-level = error: tirane syncs" wait_acked 60 tirane
stop_node tirane
check "... and logs no info line (not even its start and stop)" \
    bash -c "! grep -q '^I: ' '$nodes/tirane/node.log'"

#  The journal: with JOURNAL_STREAM naming stderr (as systemd sets it),
#  each line starts with its syslog priority; naming another file, none.
journal=$work/journal.log
: > "$journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$journal") \
    "$bin/cpsync-node" run --data "$nodes/tirane" --central "$endpoint" 2>> "$journal" &
node_pid[tirane]=$!; pids+=("${node_pid[tirane]}")
sleep 1.5
stop_node tirane
check "stderr is the journal's stream: each line starts with its priority (<6>: info)" \
    bash -c "grep -q '^<6>I: (cpsync-node) .*node_sync: tirane shipping to' '$journal' && ! grep -qv '^<[3-7]>[EWNID]: ' '$journal'"
: > "$journal"
JOURNAL_STREAM=1:2 "$bin/cpsync-node" run --data "$nodes/tirane" --central "$endpoint" \
    2>> "$journal" &
node_pid[tirane]=$!; pids+=("${node_pid[tirane]}")
sleep 1.5
stop_node tirane
check "... another stream: no prefix" \
    bash -c "grep -q '^I: (cpsync-node) .*node_sync: tirane shipping to' '$journal' && ! grep -q '^<' '$journal'"

# ----------------------------------------------------------------------
# SIGHUP: the log level of a running node

pid_before=${node_pid[berat]}
sed -i 's/^log-level = info/log-level = debug/' "$work/berat.conf"
kill -HUP "${node_pid[berat]}"
sleep 1
check "SIGHUP: the node says it reloaded, at level debug" \
    grep -q "reloaded $work/berat.conf: log level debug" "$nodes/berat/node.log"
"$bin/gen_events" --seed 6 --events 200 --from 2021-01-01 --to 2022-12-31 --prefix "berat-b-" \
    > "$work/b.jsonl"
step "200 more events imported at berat" "$bin/cpsync-node" import --data "$nodes/berat" "$work/b.jsonl"
check "... it goes on syncing: every event acknowledged" wait_acked 60 berat
check "... debug lines appear after it (a BATCH sent)" \
    grep -q '^D: .*node_sync: BATCH' "$nodes/berat/node.log"
check "... the same process (pid $pid_before), still running" kill -0 "$pid_before"

#  A file broken before a SIGHUP: refused, logged, the level stays debug.
printf 'data = %s\nlog-level = loud\n' "$nodes/berat" > "$work/berat.conf"
kill -HUP "${node_pid[berat]}"
sleep 1
check "SIGHUP with a broken file: the reload is refused, naming the key" \
    grep -q "reload refused, nothing changed: configuration file .*key 'log-level'" \
    "$nodes/berat/node.log"
check "... and the node runs on" kill -0 "$pid_before"
lines=$(grep -c '^D: ' "$nodes/berat/node.log")
"$bin/gen_events" --seed 7 --events 100 --from 2021-01-01 --to 2022-12-31 --prefix "berat-c-" \
    > "$work/c.jsonl"
step "100 more events imported at berat" "$bin/cpsync-node" import --data "$nodes/berat" "$work/c.jsonl"
check "... syncing, at level debug still" \
    bash -c "$(declare -f wait_acked acked_all); bin='$bin' nodes='$nodes'; wait_acked 60 berat && [ \$(grep -c '^D: ' '$nodes/berat/node.log') -gt $lines ]"

#  Back to info: debug lines stop.
printf 'data = %s\nlog-level = info\n' "$nodes/berat" > "$work/berat.conf"
kill -HUP "${node_pid[berat]}"
sleep 1
lines=$(grep -c '^D: ' "$nodes/berat/node.log")
"$bin/gen_events" --seed 8 --events 100 --from 2021-01-01 --to 2022-12-31 --prefix "berat-d-" \
    > "$work/d.jsonl"
step "100 more events imported at berat" "$bin/cpsync-node" import --data "$nodes/berat" "$work/d.jsonl"
wait_acked 60 berat
check "SIGHUP back to info: no more debug lines" \
    [ "$(grep -c '^D: ' "$nodes/berat/node.log")" = "$lines" ]
# ----------------------------------------------------------------------
# SIGHUP: serve's certificate renewed, its tokens kept

client=$source/tests/http_client.py
for name in one two; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$name" \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/$name.key" -out "$work/$name.pem" \
        2> /dev/null
done
cp "$work/one.pem" "$work/http.pem"; cp "$work/one.key" "$work/http.key"
tls_port=$(free_port)
cat > "$work/https.conf" <<CONF
data = $central
http = 127.0.0.1:$tls_port
tls-cert = $work/http.pem
tls-key = $work/http.key
CONF
printf 'correct horse battery\n' > "$work/password"
step "an operator account" "$bin/cpsync-central" user add --data "$central" --name op \
    --role operator --password-file "$work/password"
"$bin/cpsync-central" serve --config "$work/https.conf" 2>> "$work/https.log" &
https_pid=$!; pids+=("$https_pid")
#  served_by PEM: the server's certificate is PEM's
served_by () {
    python3 - "$tls_port" "$1" <<'PY'
import ssl, sys
try:
    served = ssl.get_server_certificate (("127.0.0.1", int (sys.argv [1])))
except Exception:
    sys.exit (1)
sys.exit (0 if ssl.PEM_cert_to_DER_cert (served)
                == ssl.PEM_cert_to_DER_cert (open (sys.argv [2]).read ()) else 1)
PY
}
deadline=$((SECONDS + 15))
until served_by "$work/one.pem" || [ $SECONDS -gt $deadline ]; do sleep 0.25; done
check "serve over HTTPS from a file: it serves the file's certificate" served_by "$work/one.pem"
python3 "$client" "$work/login.json" POST "https://127.0.0.1:$tls_port/api/v1/login" \
    --cafile "$work/one.pem" --data '{"name": "op", "password": "correct horse battery"}' > /dev/null
token=$(python3 -c 'import json, sys; print (json.load (open (sys.argv [1])) ["token"])' \
        "$work/login.json" 2> /dev/null)
check "... an operator logs in" [ -n "$token" ]
cp "$work/two.pem" "$work/http.pem"; cp "$work/two.key" "$work/http.key"
kill -HUP "$https_pid"
sleep 1
check "SIGHUP after a renewal: the new certificate is served" served_by "$work/two.pem"
check "... by the same process" kill -0 "$https_pid"
check "... and the token of before still works" \
    [ "$(python3 "$client" "$work/me.json" GET "https://127.0.0.1:$tls_port/api/v1/me" \
         --cafile "$work/two.pem" --token "$token")" = 200 ]
printf 'not a key\n' > "$work/http.key"
kill -HUP "$https_pid"
sleep 1
check "SIGHUP with a key that does not load: refused, logged" \
    grep -q "reload: TLS: the new certificate and key do not load; the old ones are kept" \
    "$work/https.log"
check "... and the certificate of before is served still" served_by "$work/two.pem"

check "SIGHUP on the central run: it reloads its file" \
    bash -c "kill -HUP $central_pid; sleep 1; grep -q 'reloaded $work/central.conf: log level info' '$central/central.log' && kill -0 $central_pid"
finish
