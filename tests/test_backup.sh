#!/usr/bin/env bash
# Backups, end to end, with real processes (the issue "Recovery", point 3).
#
#   1. Hot backups: cpsync-fleet sets four municipalities up; then, while
#      the central and every node run and events are being imported into
#      two nodes, the central and a node are backed up.  Each hot backup,
#      restored into a new directory holding only a copy of the keys, is a
#      consistent snapshot: its views equal tests/oracle.py over exactly
#      the events its cursors (central) or head (node) say it holds.
#   2. Quiet backups, once everything is acknowledged, with the views of
#      that moment kept.
#   3. No backup file holds an event id, a case pseudonym, an event date or
#      the generator's marker, nor any event's code more often than a
#      backup of an empty store of the same kind (whose catalogues hold
#      the codes' names).
#   4. Refused, each with exit 1, a message naming what was wrong, and the
#      target's data.mdb byte for byte as it was: a restore over a running
#      central and over a running node; a truncated file; a file with one
#      flipped byte; another municipality's node backup; a central's
#      backup onto a node and a node's onto the central; the backup of
#      another central (a second `cpsync-central init`); a target without
#      its keys.
#   5. After more events have changed every view, restoring the quiet
#      backups in place gives back the views of step 2, JSON for JSON.
#
#   test_backup.sh BIN_DIR SOURCE_DIR WORK_DIR
#
#   CPSYNC_TEST_KEEP=1 keeps the work directory.
source "$(dirname "$0")/harness.sh" backup "$@"
#  The hot backups are checked against the first lines of each import, a
#  log's sequence for a line: no verdicts on the central's figures between
export CPSYNC_FIGURES=off
marker=QZXVbackup
data=$work/data
central=$data/central
nodes=$data/nodes
codes=(tirane durres shkoder vlore)
busy=(tirane durres)                #  the nodes events are imported into while backing up
chunks=16                           #  imports of 1,000 events each per busy node

# ---------------------------------------------------------------------------
#  Helpers

#  head_of DIR: a node's head.
head_of () {
    "$bin/cpsync-node" status --data "$1" --format json | python3 -c '
import json, sys; print (json.load (sys.stdin) ["head"])'
}

#  views CENTRAL NODE OUT: every view this test compares, as JSON files in OUT.
views () {
    local central_dir=$1 node_dir=$2 out=$3 scope period
    mkdir -p "$out"
    for scope in national county:tirane municipality:tirane municipality:durres; do
        for period in 2022 2023-Q2; do
            "$bin/cpsync-central" query --data "$central_dir" --scope "$scope" --period "$period" \
                --catalogue 1 --format json > "$out/central-${scope/:/-}-$period.json" || return 1
        done
    done
    for period in 2021 2022 2023-Q2; do
        "$bin/cpsync-node" view --data "$node_dir" --period "$period" --format json \
            > "$out/node-$period.json" || return 1
    done
}

#  same_views A B: the two directories of views are equal, file for file.
same_views () {
    local file all=0
    for file in "$1"/*.json; do
        cmp -s "$file" "$2/$(basename "$file")" \
            || { echo "    $(basename "$file") differs"; all=1; }
    done
    return $all
}

#  stream CODE: every event imported into CODE's node, in import order.
stream () { cat "$work/part1/$1.jsonl" "$work/part2/$1.jsonl" "$work/part3/$1.jsonl" 2>/dev/null; }

#  fingerprint FILE: sha256 of a file ("none" when missing).
fingerprint () { sha256sum "$1" 2>/dev/null | cut -d' ' -f1 || echo none; }

#  quiet FILE: FILE's bytes do not change for a second (a daemon is idle).
quiet () {
    local deadline=$(( SECONDS + 20 )) before
    while [ $SECONDS -lt $deadline ]; do
        before=$(fingerprint "$1"); sleep 1
        [ "$before" = "$(fingerprint "$1")" ] && return 0
    done
    return 1
}

#  refused WHAT PROGRAM FILE DIR PATTERN: `PROGRAM restore --from FILE
#  --data DIR` exits 1 with PATTERN in its message, and DIR/store/data.mdb
#  is what it was, with no temporary file left beside it.
refused () {
    local what=$1 program=$2 file=$3 dir=$4 pattern=$5
    local before; before=$(fingerprint "$dir/store/data.mdb")
    "$bin/$program" restore --from "$file" --data "$dir" > "$work/restore.out" 2> "$work/restore.err"
    local rc=$? after; after=$(fingerprint "$dir/store/data.mdb")
    #  The reason only: the file's name must not be what matches.
    local why; why=$(sed "s|^$program: restore $file: ||" "$work/restore.err" | head -c 300)
    if [ $rc = 1 ] && grep -q -i -e "$pattern" <<< "$why" && [ "$before" = "$after" ] \
    && [ ! -e "$dir/store/data.mdb.restore" ]; then
        ok "$what: refused, data.mdb unchanged (${why:0:120})"
    else
        fail "$what: exit $rc (want 1), data.mdb $([ "$before" = "$after" ] && echo unchanged || echo CHANGED), message: $why"
    fi
}

#  backup PROGRAM DIR FILE: a backup, its line of output kept in the log.
backup () {
    step "$1 backup --data $2" "$bin/$1" backup --data "$2" --out "$3"
    echo "    $(cat "$work/step.out")"
}

# ---------------------------------------------------------------------------
#  Events: part 1 for the fleet, part 2 imported in chunks during the hot
#  backups, part 3 after the quiet ones.  A prefix per part, so that ids
#  and cases never collide within a node.
seed=300
for part in part1 part2 part3; do
    mkdir -p "$work/$part"
    for code in "${codes[@]}"; do
        seed=$(( seed + 1 ))
        count=3000
        [ $part = part2 ] && count=$(( chunks * 1000 ))
        [ $part = part2 ] && [ "$code" != tirane ] && [ "$code" != durres ] && continue
        [ $part = part3 ] && count=2000
        "$bin/gen_events" --seed $seed --events $count --from 2020-01-01 --to 2023-12-31 \
            --prefix "$marker$part$code" > "$work/$part/$code.jsonl"
    done
done
for code in "${busy[@]}"; do
    split -l 1000 -d -a 2 "$work/part2/$code.jsonl" "$work/part2/$code.chunk."
done

# ---------------------------------------------------------------------------
#  1. Hot backups
step "cpsync-fleet" "$bin/cpsync-fleet" --events "$work/part1" --data "$data" --port "$port" \
    --timeout 120
start_central
for code in "${codes[@]}"; do start_node "$code"; done
( for chunk in $(seq -f %02g 0 $(( chunks - 1 ))); do
      for code in "${busy[@]}"; do
          "$bin/cpsync-node" import --data "$nodes/$code" "$work/part2/$code.chunk.$chunk" \
              > /dev/null 2>> "$work/import.err" || echo "import $code $chunk failed" >> "$work/import.err"
      done
      sleep 0.2
  done ) &
importer=$!; pids+=("$importer")
sleep 1
backup cpsync-central "$central" "$work/hot-central.backup"
backup cpsync-node "$nodes/tirane" "$work/hot-tirane.backup"
check "imports were still going on when both hot backups were done" kill -0 "$importer"
wait "$importer"
check "every chunk was imported" [ ! -s "$work/import.err" ]
check "every node is acknowledged after the imports" wait_acked 60 "${codes[@]}"

#  Restored beside the originals, with nothing but a copy of the keys (a
#  lost disk): each is the store as one commit left it.
mkdir -p "$work/hot/central" "$work/hot/tirane"
cp -a "$central/keys" "$work/hot/central/"
cp -a "$nodes/tirane/keys" "$work/hot/tirane/"
step "restore the hot central backup into a new directory" \
    "$bin/cpsync-central" restore --from "$work/hot-central.backup" --data "$work/hot/central"
step "restore the hot node backup into a new directory" \
    "$bin/cpsync-node" restore --from "$work/hot-tirane.backup" --data "$work/hot/tirane"
"$bin/cpsync-central" nodes --data "$work/hot/central" --format json > "$work/hot/cursors.json"
mkdir -p "$work/hot/prefix"
prefix_ok=1 final_total=0 hot_total=0
for code in "${codes[@]}"; do
    acked=$(python3 -c '
import json, sys
print ([n ["acked"] for n in json.load (open (sys.argv [1])) if n ["code"] == sys.argv [2]] [0])' \
        "$work/hot/cursors.json" "$code")
    stream "$code" | head -n "$acked" > "$work/hot/prefix/$code.jsonl"
    hot_total=$(( hot_total + acked ))
done
final_total=$(cat "$work"/part1/*.jsonl "$work"/part2/*.jsonl | wc -l)
echo "    the hot central backup holds $hot_total of the $final_total events shipped by the end"
for scope in national county:tirane municipality:tirane municipality:durres; do
    "$bin/cpsync-central" query --data "$work/hot/central" --scope "$scope" --period 2022 \
        --catalogue 1 --format json > "$work/hot/view.json" || prefix_ok=0
    same_as_oracle "$work/hot/view.json" "$scope" 2022 "$work"/hot/prefix/*.jsonl || prefix_ok=0
done
check "the hot central backup's views equal the oracle of the events its cursors hold" \
    [ $prefix_ok = 1 ]
hot_head=$(head_of "$work/hot/tirane")
stream tirane | head -n "$hot_head" > "$work/hot/tirane.jsonl"
prefix_ok=1
for period in 2021 2022 2023-Q2; do
    "$bin/cpsync-node" view --data "$work/hot/tirane" --period "$period" --format json \
        > "$work/hot/view.json" || prefix_ok=0
    same_as_oracle "$work/hot/view.json" municipality:tirane "$period" "$work/hot/tirane.jsonl" \
        || prefix_ok=0
done
check "the hot node backup's views equal the oracle of its first $hot_head events" \
    [ $prefix_ok = 1 ]

# ---------------------------------------------------------------------------
#  2. Quiet backups, with the views of that moment
step "views at backup time" views "$central" "$nodes/tirane" "$work/views-before"
backup cpsync-central "$central" "$work/central.backup"
backup cpsync-node "$nodes/tirane" "$work/tirane.backup"
backup cpsync-node "$nodes/durres" "$work/durres.backup"

# ---------------------------------------------------------------------------
#  3. Nothing in the clear: 20 event ids, 20 case pseudonyms, 10 dates and
#  the marker; and the events' codes no more often than in empty stores.
cat "$work"/part1/*.jsonl "$work"/part2/*.jsonl | python3 -c '
import json, sys
lines = [json.loads (line) for line in sys.stdin]
print (sys.argv [1])
for event in lines [:: len (lines) // 20][:20]:
    print (event ["id"]); print (event ["case"])
for event in lines [7 :: len (lines) // 10][:10]:
    print (event ["date"])' "$marker" | sort -u > "$work/secrets.txt"
cat "$work"/part1/*.jsonl | python3 -c '
import json, sys
codes = set ()
for line in sys.stdin:
    event = json.loads (line)
    codes |= {v for k, v in event.items () if k not in ("id", "case", "date") and isinstance (v, str) and len (v) >= 5}
print ("\n".join (sorted (codes)))' > "$work/codes.txt"
step "an empty node" "$bin/cpsync-node" init --data "$work/empty-node" --municipality tirane
backup cpsync-node "$work/empty-node" "$work/empty-node.backup"
step "another central" "$bin/cpsync-central" init --data "$work/other-central"
backup cpsync-central "$work/other-central" "$work/other-central.backup"
backups=("$work"/hot-central.backup "$work"/hot-tirane.backup "$work"/central.backup
         "$work"/tirane.backup "$work"/durres.backup)
found=$(grep -l -a -F -f "$work/secrets.txt" "${backups[@]}")
check "no backup holds an id, a case pseudonym, a date or the marker ($(wc -l < "$work/secrets.txt") strings)" \
    [ -z "$found" ]
[ -z "$found" ] || echo "    found in: $(echo $found)"
#  more_codes FILE BASELINE: codes FILE holds more often than BASELINE, as
#  an event in the clear would hold them: packed as cp_codec packs a code (a
#  msgpack str, its length before it).  The catalogue's JSON, which a store
#  keeps in the clear, has them in quotes, and LMDB may leave copies of it
#  in the free space of a page whose buffer held it before; those do not
#  count.
more_codes () {
    python3 - "$1" "$2" "$work/codes.txt" <<'PY'
import sys
data, base = (open (path, "rb").read () for path in sys.argv [1:3])
more = 0
for code in open (sys.argv [3]).read ().split ():
    raw = code.encode ()
    packed = (bytes ([0xa0 | len (raw)]) if len (raw) < 32 else bytes ([0xd9, len (raw)])) + raw
    in_file, in_base = data.count (packed), base.count (packed)
    if in_file > in_base:
        print ("    %s: '%s' packed %d times, %d in an empty store" % (sys.argv [1].split ("/") [-1],
               code, in_file, in_base))
        more = 1
sys.exit (more)
PY
}
codes_ok=1
for file in "${backups[@]}"; do
    case $file in
        *central*) more_codes "$file" "$work/other-central.backup" || codes_ok=0 ;;
        *)         more_codes "$file" "$work/empty-node.backup" || codes_ok=0 ;;
    esac
done
check "no backup holds an event's code ($(wc -l < "$work/codes.txt") codes) packed more often than an empty store's backup" \
    [ $codes_ok = 1 ]
check "backup files are 0600" [ "$(stat -c %a "${backups[@]}" | sort -u)" = 600 ]

# ---------------------------------------------------------------------------
#  4. Refusals.  First over running daemons, idle so that their data files
#  hold still: the nodes stopped for the central's, then one node started
#  again (it has nothing to ship) for the node's.
for code in "${codes[@]}"; do stop_node "$code"; done
check "the running central's data file holds still" quiet "$central/store/data.mdb"
refused "restore over a running central" cpsync-central "$work/central.backup" "$central" \
    "cpsync-central run.*stop it"
start_node tirane
sleep 1
check "the running node's data file holds still" quiet "$nodes/tirane/store/data.mdb"
refused "restore over a running node" cpsync-node "$work/tirane.backup" "$nodes/tirane" \
    "cpsync-node run.*stop it"
stop_node tirane
stop_central

for name in central tirane; do
    size=$(stat -c %s "$work/$name.backup")
    head -c $(( size / 2 )) "$work/$name.backup" > "$work/$name-truncated.backup"
    cp "$work/$name.backup" "$work/$name-flipped.backup"
    offset=$(( size * 2 / 3 ))
    byte=$(od -A n -t u1 -j $offset -N 1 "$work/$name.backup" | tr -d ' ')
    printf "$(printf '\\%03o' $(( byte ^ 1 )))" \
        | dd of="$work/$name-flipped.backup" bs=1 seek=$offset conv=notrunc 2>/dev/null
done
check "the flipped copies differ from the backups in one byte" \
    [ "$(cmp -l "$work/central.backup" "$work/central-flipped.backup" | wc -l)" = 1 ]
refused "a truncated central backup" cpsync-central "$work/central-truncated.backup" "$central" \
    "truncated"
refused "a central backup with a flipped byte" cpsync-central "$work/central-flipped.backup" \
    "$central" "damaged"
refused "a truncated node backup" cpsync-node "$work/tirane-truncated.backup" "$nodes/tirane" \
    "truncated"
refused "a node backup with a flipped byte" cpsync-node "$work/tirane-flipped.backup" \
    "$nodes/tirane" "damaged"
refused "another municipality's node backup" cpsync-node "$work/durres.backup" "$nodes/tirane" \
    "node of durres.*node of tirane"
refused "a central's backup onto a node" cpsync-node "$work/central.backup" "$nodes/tirane" \
    "backup of the central, not of a node"
refused "a node's backup onto the central" cpsync-central "$work/tirane.backup" "$central" \
    "backup of a node, not of a central"
refused "another central's backup" cpsync-central "$work/other-central.backup" "$central" \
    "other keys"
refused "another node's backup of the same municipality" cpsync-node \
    "$work/empty-node.backup" "$nodes/tirane" "other keys"
mkdir -p "$work/no-keys/store"
cp "$central/store/data.mdb" "$work/no-keys/store/"
refused "a target without its keys" cpsync-central "$work/central.backup" "$work/no-keys" \
    "keys.*missing"

# ---------------------------------------------------------------------------
#  5. Good restores: more events change every view, then the quiet backups
#  put back the views of their moment.
start_central
for code in "${codes[@]}"; do
    step "import part 3 into $code" "$bin/cpsync-node" import --data "$nodes/$code" \
        "$work/part3/$code.jsonl"
    start_node "$code"
done
check "part 3 is acknowledged" wait_acked 60 "${codes[@]}"
for code in "${codes[@]}"; do stop_node "$code"; done
stop_central
step "views after part 3" views "$central" "$nodes/tirane" "$work/views-changed"
changed=0
for file in "$work"/views-before/*.json; do
    cmp -s "$file" "$work/views-changed/$(basename "$file")" || changed=$(( changed + 1 ))
done
check "part 3 changed every view ($changed of $(ls "$work"/views-before | wc -l))" \
    [ $changed = "$(ls "$work"/views-before | wc -l)" ]
step "restore the central" "$bin/cpsync-central" restore --from "$work/central.backup" \
    --data "$central"
echo "    $(cat "$work/step.out")"
step "restore the node" "$bin/cpsync-node" restore --from "$work/tirane.backup" \
    --data "$nodes/tirane"
echo "    $(cat "$work/step.out")"
step "views after the restores" views "$central" "$nodes/tirane" "$work/views-restored"
check "the restored central's and node's views equal those at backup time" \
    same_views "$work/views-before" "$work/views-restored"
no_temporary () { [ ! -e "$central/store/data.mdb.restore" ] && [ ! -e "$nodes/tirane/store/data.mdb.restore" ]; }
check "no temporary file is left beside the restored stores" no_temporary
finish
