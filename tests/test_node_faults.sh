#!/usr/bin/env bash
#  test_node_faults: cpsync-node under the faults a municipality's machine
#  will meet, driven through the binary.
#
#  A full disk (a file-size limit, ulimit -f, so small the store cannot
#  grow): the import exits 2 with a message, is not killed by SIGXFSZ, and
#  leaves a valid node whose head is what was committed before; importing
#  the file again without the limit ends byte-identical to a node that took
#  the file in one go.  SIGKILL in the middle of a large import, twice:
#  importing the file again loses nothing and counts nothing twice.  A
#  damaged data.mdb (a copy): status, view and import either fail with an
#  exit code and a message or answer exactly as before the damage, and are
#  never killed by a signal; when LMDB itself crashes on a damaged page the
#  test fails and says so.
#
#  Usage: test_node_faults.sh CPSYNC_NODE GEN_EVENTS [DIR]   (a temporary
#  directory is made under DIR, default $TMPDIR or /tmp, and removed).

set -u

NODE=${1:?usage: test_node_faults.sh CPSYNC_NODE GEN_EVENTS [DIR]}
GEN=${2:?usage: test_node_faults.sh CPSYNC_NODE GEN_EVENTS [DIR]}
BASE=${3:-${TMPDIR:-/tmp}}
NODE=$(realpath "$NODE") && GEN=$(realpath "$GEN") || exit 1
WORK=$(mktemp -d "$BASE/test_node_faults.XXXXXX") || exit 1
IMPORT_PID=
cleanup () {
    [ -n "$IMPORT_PID" ] && kill -9 "$IMPORT_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
export CPSYNC_TODAY=2023-06-30          # the generated dates end in 2022
unset CPSYNC_MAPSIZE
cd "$WORK" || exit 1                    # a core dump would land here

PASSED=0
FAILED=0
PROBLEMS=()

problem () {
    PROBLEMS+=("$1")
}

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

#  run NAME COMMAND...: $WORK/NAME.out, $WORK/NAME.err, $RC.
run () {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    RC=$?
}

#  not_killed WHAT: a process must end by exit, never by a signal.
not_killed () {
    if [ "$RC" -ge 128 ]; then
        problem "$1: killed by signal $((RC - 128)) ($(kill -l $((RC - 128)) 2>/dev/null))"
    fi
}

#  status_of DIR KEY: a field of `status --format json`.
status_of () {
    "$NODE" status --data "$1" --format json >"$WORK/status.json" 2>"$WORK/status.err" \
        || { echo "(status failed)"; return; }
    python3 -c 'import json, sys; print (json.load (open (sys.argv [1])) [sys.argv [2]])' \
        "$WORK/status.json" "$2" 2>/dev/null || echo "(not JSON)"
}

PERIODS="2019 2020 2021 2022 2019-Q1 2020-Q2 2021-Q3 2022-Q4 2023"

#  views DIR OUT: the JSON views of every period of the data, one per line.
views () {
    local period
    : >"$2"
    for period in $PERIODS; do
        "$NODE" view --data "$1" --period "$period" --format json >>"$2" 2>>"$WORK/views.err" \
            || echo "(view $period failed)" >>"$2"
    done
}

#  same_as DIR REF_VIEWS HEAD WHAT: DIR's views and head are the reference's.
same_as () {
    views "$1" "$WORK/same.views"
    cmp -s "$WORK/same.views" "$2" || problem "$4: views differ from a one-shot import's"
    local head
    head=$(status_of "$1" head)
    [ "$head" = "$3" ] || problem "$4: head $head, expected $3"
}

#  summary FILE: "imported duplicate rejected" of an import's summary line.
summary () {
    sed -n 's/.*: \([0-9]*\) imported, \([0-9]*\) duplicate, \([0-9]*\) rejected.*/\1 \2 \3/p' "$1"
}

now_ms () {
    echo $(( $(date +%s%N) / 1000000 ))
}

init () {
    "$NODE" init --data "$1" --municipality 11 >/dev/null 2>"$WORK/init.err" \
        || problem "init $1: $(cat "$WORK/init.err")"
}

#  =====================================================================
#  The files, and nodes that imported them in one go

SMALL=$WORK/small.jsonl
BIG=$WORK/big.jsonl
"$GEN" --seed 3 --events 20000 --from 2019-01-01 --to 2022-12-31 >"$SMALL" || exit 1
"$GEN" --seed 7 --events 300000 --from 2019-01-01 --to 2022-12-31 >"$BIG" || exit 1

init "$WORK/ref_small"
run ref_small "$NODE" import --data "$WORK/ref_small" "$SMALL"
[ "$RC" = 0 ] || problem "one-shot import of the small file exited $RC: $(head -c 300 "$WORK/ref_small.err")"
[ "$(summary "$WORK/ref_small.out")" = "20000 0 0" ] \
    || problem "small file: $(summary "$WORK/ref_small.out"), expected 20000 imported"
views "$WORK/ref_small" "$WORK/ref_small.views"

init "$WORK/ref_big"
STARTED=$(now_ms)
run ref_big "$NODE" import --data "$WORK/ref_big" "$BIG"
BIG_MS=$(( $(now_ms) - STARTED ))
[ "$RC" = 0 ] || problem "one-shot import of the big file exited $RC: $(head -c 300 "$WORK/ref_big.err")"
[ "$(summary "$WORK/ref_big.out")" = "300000 0 0" ] \
    || problem "big file: $(summary "$WORK/ref_big.out"), expected 300000 imported"
views "$WORK/ref_big" "$WORK/ref_big.views"
grep -q "failed" "$WORK/ref_big.views" && problem "views of the reference node failed"
verdict reference_nodes

#  =====================================================================
#  (a) A full disk: a file-size limit the store cannot grow past

DIR=$WORK/full
init "$DIR"
STORE_KB=$(( $(stat -c %s "$DIR/store/data.mdb") / 1024 ))
( ulimit -f $((STORE_KB + 64)); exec "$NODE" import --data "$DIR" "$SMALL" ) \
    >"$WORK/full.out" 2>"$WORK/full.err"
RC=$?
not_killed "import under the limit"
[ "$RC" = 2 ] || problem "import under the limit exited $RC, expected 2"
grep -q "cpsync-node: import $SMALL: " "$WORK/full.err" \
    || problem "no 'cpsync-node: import FILE: reason' on stderr: $(head -c 300 "$WORK/full.err")"
ls "$WORK" "$DIR" | grep -q '^core' && problem "a core file was left"
run full_status "$NODE" status --data "$DIR" --format json
[ "$RC" = 0 ] || problem "status after the failure exited $RC: $(cat "$WORK/full_status.err")"
HEAD=$(status_of "$DIR" head)
[ "$HEAD" = 0 ] || problem "head is $HEAD after a failed import into an empty node"
run full_again "$NODE" import --data "$DIR" "$SMALL"
[ "$RC" = 0 ] || problem "import without the limit exited $RC: $(head -c 300 "$WORK/full_again.err")"
[ "$(summary "$WORK/full_again.out")" = "20000 0 0" ] \
    || problem "import without the limit: $(summary "$WORK/full_again.out"), expected 20000 0 0"
same_as "$DIR" "$WORK/ref_small.views" 20000 "after the full disk"
verdict full_disk

#  A limit that lets some transactions commit: head is what the failed
#  import says it committed, and the rest comes with the next import.
DIR=$WORK/full_later
init "$DIR"
LIMIT_KB=$(( $(stat -c %s "$WORK/ref_big/store/data.mdb") / 2048 ))
( ulimit -f "$LIMIT_KB"; exec "$NODE" import --data "$DIR" "$BIG" ) \
    >"$WORK/later.out" 2>"$WORK/later.err"
RC=$?
not_killed "import under the limit"
[ "$RC" = 2 ] || problem "import under a limit of $LIMIT_KB KiB exited $RC, expected 2"
COMMITTED=$(sed -n 's/.*committed before the failure: \([0-9]*\) imported.*/\1/p' "$WORK/later.err")
HEAD=$(status_of "$DIR" head)
[ "$HEAD" = "${COMMITTED:-0}" ] \
    || problem "head $HEAD, but the import said it committed ${COMMITTED:-nothing}"
case $HEAD in
    ''|*[!0-9]*) problem "no head: $HEAD" ;;
    *) [ "$HEAD" -gt 0 ] && [ "$HEAD" -lt 300000 ] \
           || echo "     note: the limit let $HEAD of 300000 events commit" ;;
esac
run later_again "$NODE" import --data "$DIR" "$BIG"
[ "$RC" = 0 ] || problem "import without the limit exited $RC: $(head -c 300 "$WORK/later_again.err")"
[ "$(summary "$WORK/later_again.out")" = "$((300000 - ${HEAD:-0})) ${HEAD:-0} 0" ] \
    || problem "import without the limit: $(summary "$WORK/later_again.out"), expected $((300000 - ${HEAD:-0})) ${HEAD:-0} 0"
same_as "$DIR" "$WORK/ref_big.views" 300000 "after the full disk"
verdict full_disk_after_commits

#  =====================================================================
#  (b) SIGKILL in the middle of a large import, twice, then again to the end

#  Half the time a whole import takes, within 0.1 to 0.5 s.
DELAY_MS=$(( BIG_MS / 2 ))
[ "$DELAY_MS" -gt 500 ] && DELAY_MS=500
[ "$DELAY_MS" -lt 100 ] && DELAY_MS=100
DIR=$WORK/killed
init "$DIR"
for attempt in 1 2; do
    "$NODE" import --data "$DIR" "$BIG" >"$WORK/kill$attempt.out" 2>"$WORK/kill$attempt.err" &
    IMPORT_PID=$!
    sleep "$(printf '0.%03d' $(( DELAY_MS * attempt * 2 / 3 )))"
    if kill -9 "$IMPORT_PID" 2>/dev/null; then
        wait "$IMPORT_PID" 2>/dev/null
        RC=$?
        #  A process that has just exited can still be "killed" (it waits
        #  to be reaped), so 0 means the import beat the kill.
        case $RC in
            137) ;;
            0) echo "     note: attempt $attempt: the import ended before the kill" ;;
            *) problem "attempt $attempt: killed import ended with $RC" ;;
        esac
    else
        wait "$IMPORT_PID" 2>/dev/null
        echo "     note: attempt $attempt: the import ended before the kill"
    fi
    IMPORT_PID=
    run kill_status$attempt "$NODE" status --data "$DIR" --format json
    [ "$RC" = 0 ] || problem "status after SIGKILL $attempt exited $RC: $(cat "$WORK/kill_status$attempt.err")"
    HEAD=$(status_of "$DIR" head)
    echo "     attempt $attempt: head $HEAD after SIGKILL at $(( DELAY_MS * attempt * 2 / 3 )) ms"
done
run kill_final "$NODE" import --data "$DIR" "$BIG"
[ "$RC" = 0 ] || problem "import after the kills exited $RC: $(head -c 300 "$WORK/kill_final.err")"
[ "$(summary "$WORK/kill_final.out")" = "$((300000 - ${HEAD:-0})) ${HEAD:-0} 0" ] \
    || problem "import after the kills: $(summary "$WORK/kill_final.out"), expected $((300000 - ${HEAD:-0})) ${HEAD:-0} 0"
same_as "$DIR" "$WORK/ref_big.views" 300000 "after SIGKILLs"
#  The log too: the events were not only counted once but stored once.
[ "$(status_of "$DIR" cases)" = "$(status_of "$WORK/ref_big" cases)" ] \
    || problem "cases $(status_of "$DIR" cases), expected $(status_of "$WORK/ref_big" cases)"
verdict sigkill_during_import

#  =====================================================================
#  (c) A damaged data file (copies of the small reference node)

#  damage COPY HOW: damages COPY/store/data.mdb; HOW is "meta" (the magic
#  of both meta pages), "middle" (the headers of the pages in the middle
#  half of the file zeroed) or "root:DB" (flags and bounds of the root page
#  of database DB set to 0xff, so they point past the page).
damage () {
    python3 - "$1/store/data.mdb" "$2" <<'EOF'
import struct, sys
path, how = sys.argv [1], sys.argv [2]
data = bytearray (open (path, "rb").read ())
#  MDB_meta follows a 16-byte page header: magic, version, address, mapsize,
#  then two MDB_db (free, main) of 48 bytes, last page, txnid.  The page
#  size is the free database's md_pad.
page = struct.unpack_from ("<I", data, 16 + 24) [0]
metas = []
for number in (0, 1):
    at = number * page + 16
    main_root = struct.unpack_from ("<Q", data, at + 24 + 48 + 40) [0]
    txnid = struct.unpack_from ("<Q", data, at + 24 + 96 + 8) [0]
    metas.append ((txnid, main_root))
main_root = max (metas) [1]
pages = len (data) // page
if how == "meta":
    for number in (0, 1):
        data [number * page + 16:number * page + 32] = b"\xab" * 16
elif how == "middle":
    for number in range (pages // 4, pages * 3 // 4):
        data [number * page:number * page + 16] = bytes (16)
elif how.startswith ("root:"):
    #  The main database's root is a leaf of the named databases: each node
    #  is lo, hi, flags, key size, the name, then its MDB_db (root at +40).
    base = main_root * page
    lower = struct.unpack_from ("<H", data, base + 12) [0]
    roots = {}
    for slot in range ((lower - 16) // 2):
        node = base + struct.unpack_from ("<H", data, base + 16 + 2 * slot) [0]
        ksize = struct.unpack_from ("<H", data, node + 6) [0]
        name = bytes (data [node + 8:node + 8 + ksize]).decode ()
        roots [name] = struct.unpack_from ("<Q", data, node + 8 + ksize + 40) [0]
    root = roots [how [5:]]
    data [root * page + 8:root * page + 16] = b"\xff" * 8
else:
    sys.exit ("unknown damage " + how)
open (path, "r+b").write (data)
EOF
}

"$NODE" status --data "$WORK/ref_small" --format json >"$WORK/ref_small.status" 2>/dev/null
"$NODE" view --data "$WORK/ref_small" --period 2023 --format json >"$WORK/ref_small.view" 2>/dev/null

#  corrupt_case HOW: status, view and import of a damaged copy.
corrupt_case () {
    local how=$1 copy=$WORK/damaged
    rm -rf "$copy"
    cp -r "$WORK/ref_small" "$copy"
    damage "$copy" "$how" || { problem "could not damage the copy ($how)"; return; }
    local what
    for what in status view import; do
        case $what in
            status) run damaged "$NODE" status --data "$copy" --format json ;;
            view)   run damaged "$NODE" view --data "$copy" --period 2023 --format json ;;
            import) run damaged "$NODE" import --data "$copy" "$SMALL" ;;
        esac
        not_killed "$how: $what"
        if [ "$RC" -ge 128 ]; then
            continue
        elif [ "$RC" != 0 ]; then
            [ -s "$WORK/damaged.err" ] || problem "$how: $what exited $RC without a message"
        else
            #  Exit 0 only when the damage is off this command's path, so
            #  the answer is exactly the undamaged one.
            case $what in
                status) cmp -s "$WORK/damaged.out" "$WORK/ref_small.status" \
                            || problem "$how: status exited 0 with another answer: $(cat "$WORK/damaged.out")" ;;
                view)   cmp -s "$WORK/damaged.out" "$WORK/ref_small.view" \
                            || problem "$how: view exited 0 with another answer" ;;
                import) [ "$(summary "$WORK/damaged.out")" = "0 20000 0" ] \
                            || problem "$how: import exited 0 with $(summary "$WORK/damaged.out")" ;;
            esac
        fi
    done
}

corrupt_case meta
grep -q "MDB_INVALID\|not a cpsync node\|storage failure" "$WORK/damaged.err" \
    || problem "meta: no message that says the store is damaged: $(head -c 300 "$WORK/damaged.err")"
verdict damaged_meta_pages

corrupt_case middle
[ "$RC" -ge 1 ] && [ "$RC" -lt 128 ] || problem "middle: import of a half-zeroed store exited $RC"
verdict damaged_middle_pages

for db in meta months ids; do
    corrupt_case "root:$db"
    verdict "damaged_root_page_of_$db"
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
