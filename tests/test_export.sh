#!/usr/bin/env bash
# test_export.sh: `cpsync-central export` into a real PostgreSQL 15 and to
# CSV, checked against `cpsync-central query`, with real processes.
#
# A fleet ships four municipalities' generated events (two counties), a
# staffing report and a directive; the test starts a PostgreSQL server of
# its own on loopback (initdb into its work directory, as an unprivileged
# user when run as root), exports, and checks with psql:
#   - the periods are exactly the years and quarters the events are dated
#     in (computed here from the event files);
#   - for several periods and scopes, every figure of cpsync.figures equals
#     `query --format json`'s, and no more rows than it has cells;
#   - quality, workforce and directives equal their commands' JSON;
#   - a second export leaves every table's row count as it was;
#   - with --public, the cells query --public hides are NULL and flagged,
#     no shown cell is 1 to the threshold; the publication holds the
#     years alone (a year less three of its quarters would tell the
#     fourth's hidden cells) and the figures alone: no quality, workforce
#     or directive;
#   - a bad CONNINFO, or a database that refuses part of the export, exits
#     non-zero with a clear message and changes nothing;
#   - --csv writes the same rows as files.
# It fails, not skips, when PostgreSQL is not installed.
#
#   test_export.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" export "$@"
central=$work/data/central
nodes=$work/data/nodes
pg_bin=/usr/lib/postgresql/15/bin

for tool in "$pg_bin/initdb" "$pg_bin/pg_ctl" "$(command -v psql)"; do
    if [ ! -x "$tool" ]; then
        fail "PostgreSQL 15 is not installed (${tool:-psql} missing): scripts/setup.sh installs it"
        finish
    fi
done

# ---------------------------------------------------------------------------
#  A small country: four municipalities of two counties, two years.
mkdir -p "$work/events"
seed=40
for pair in tirane:900 kavaje:120 berat:400 skrapar:25; do
    "$bin/gen_events" --seed $seed --events "${pair##*:}" --from 2021-03-01 --to 2022-12-31 \
        --prefix "${pair%%:*}-" > "$work/events/${pair%%:*}.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships four municipalities' events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300
step "berat reports its staffing" \
    "$bin/cpsync-node" staff set --data "$nodes/berat" --workers 2 --children 7000 --date 2021-06-01
step "the central sends a directive to all" \
    "$bin/cpsync-central" directive send --data "$central" --to all --kind notice \
    --text "Send the staffing table" --due 2030-01-01
step "the fleet runs again: staffing shipped, the directive delivered" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

# ---------------------------------------------------------------------------
#  A PostgreSQL server of the test's own, on loopback.
pg_port=$(free_port)
#  Its directory is under /tmp, not the work directory: the user it runs as
#  must reach it, and a build directory may sit under one only root enters.
#  (The tools go back to the directory they started in: start them from /.)
pg_data=$(mktemp -d /tmp/cpsync-export-pg.XXXXXX)
cd /
as_pg=()
if [ "$(id -u)" = 0 ]; then
    #  initdb refuses root: the server runs as nobody, in a directory of its own.
    chown nobody "$pg_data"
    as_pg=(runuser -u nobody --)
fi
pg_stop () { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data/db" -m immediate stop > /dev/null 2>&1; }
trap 'pg_stop; rm -rf "$pg_data"; cleanup' EXIT
step "initdb" "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data/db" -U postgres -A trust --no-sync
step "pg_ctl start on 127.0.0.1:$pg_port" "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data/db" -w \
    -l "$pg_data/server.log" -o "-k $pg_data -p $pg_port -c listen_addresses=127.0.0.1 -c fsync=off" start
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres connect_timeout=5"
sql () { psql "$conninfo" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
step "psql answers" sql "SELECT 1"

counts () {
    sql "SELECT string_agg (t || '=' || n, ' ' ORDER BY t) FROM (
           SELECT 'export' t, count (*) n FROM cpsync.export UNION ALL
           SELECT 'counties', count (*) FROM cpsync.counties UNION ALL
           SELECT 'municipalities', count (*) FROM cpsync.municipalities UNION ALL
           SELECT 'periods', count (*) FROM cpsync.periods UNION ALL
           SELECT 'figures', count (*) FROM cpsync.figures UNION ALL
           SELECT 'quality', count (*) FROM cpsync.quality UNION ALL
           SELECT 'quality_rates', count (*) FROM cpsync.quality_rates UNION ALL
           SELECT 'workforce', count (*) FROM cpsync.workforce UNION ALL
           SELECT 'workforce_totals', count (*) FROM cpsync.workforce_totals UNION ALL
           SELECT 'directives', count (*) FROM cpsync.directives UNION ALL
           SELECT 'directive_states', count (*) FROM cpsync.directive_states) c"
}

# ---------------------------------------------------------------------------
#  The export, and its figures against query's.
step "export --pg" "$bin/cpsync-central" export --data "$central" --pg "$conninfo"
check "... says what it wrote" grep -q "^exported [0-9]* periods .* to PostgreSQL schema cpsync" \
    "$work/step.out"

#  The periods the events are dated in, worked out here.
python3 - "$work/events" > "$work/periods.expected" <<'PY'
import glob, json, sys
periods = set ()
for path in glob.glob (sys.argv [1] + "/*.jsonl"):
    for line in open (path):
        date = json.loads (line) ["date"]
        year, month = int (date [:4]), int (date [5:7])
        periods |= {str (year), "%d-Q%d" % (year, (month - 1) // 3 + 1)}
print ("\n".join (sorted (periods)))
PY
sql "SELECT period FROM cpsync.periods ORDER BY period" > "$work/periods.exported"
check "the periods are the years and quarters of the events ($(tr '\n' ' ' < "$work/periods.expected"))" \
    cmp -s "$work/periods.expected" "$work/periods.exported"

#  same_figures PERIOD SCOPE [--public]: cpsync.figures of PERIOD and SCOPE
#  hold exactly the cells of query's JSON (a hidden one NULL and flagged).
same_figures () {
    local period=$1 scope=$2; shift 2
    "$bin/cpsync-central" query --data "$central" --period "$period" --scope "$scope" "$@" \
        > "$work/view.json" || return 1
    sql "SELECT measure, coalesce (key, ''), coalesce (value::text, ''), suppressed
         FROM cpsync.figures WHERE period = '$period' AND scope = '$scope'" > "$work/rows.txt"
    python3 - "$work/view.json" "$work/rows.txt" "$period $scope" <<'PY'
import json, sys
view = json.load (open (sys.argv [1]))
expected = {}
for measure, value in view.items ():
    if measure in ("period", "scope", "catalogue", "suppression"):
        continue
    cells = value.items () if isinstance (value, dict) else [("", value)]
    for key, cell in cells:
        expected [(measure, key)] = ("", "t") if cell == "c" else (str (cell), "f")
rows = {}
for line in open (sys.argv [2]):
    measure, key, value, suppressed = line.rstrip ("\n").split ("|")
    if (measure, key) in rows:
        print ("    duplicate row", measure, key); sys.exit (1)
    rows [(measure, key)] = (value, suppressed)
differing = [k for k in sorted (set (expected) | set (rows)) if expected.get (k) != rows.get (k)]
for k in differing [:5]:
    print ("   ", sys.argv [3], k, "query:", expected.get (k), "export:", rows.get (k))
sys.exit (1 if differing or view ["managed"] == 0 and view ["scope"] == "national" else 0)
PY
}
for case in 2022:national 2022:county:berat 2021-Q3:municipality:tirane \
            2022-Q4:municipality:skrapar 2021:county:tirane 2022-Q1:municipality:kavaje; do
    check "figures of ${case%%:*} ${case#*:} equal query's" same_figures "${case%%:*}" "${case#*:}"
done
views=$(( $(wc -l < "$work/periods.expected") * (1 + 12 + 61) ))
check "a view for every period and scope ($views)" \
    [ "$(sql "SELECT count (DISTINCT (period, scope)) FROM cpsync.figures")" = "$views" ]
check "the municipalities and counties are the list's" \
    [ "$(sql "SELECT count (*) FROM cpsync.municipalities m JOIN cpsync.counties c
             ON c.code = m.county")" = "$(grep -c ',' "$municipalities" | awk '{print $1 - 1}')" ]

#  Quality, workforce, directives: against their commands' JSON.
"$bin/cpsync-central" quality --data "$central" --period 2022 --format json > "$work/quality.json"
sql "SELECT municipality, timeliness, events FROM cpsync.quality WHERE period = '2022'
     ORDER BY municipality" > "$work/quality.rows"
check "quality of 2022 equals quality's JSON" python3 - "$work/quality.json" "$work/quality.rows" <<'PY'
import json, sys
doc = json.load (open (sys.argv [1]))
want = sorted ("%s|%s|%d" % (m ["code"], m ["timeliness"], m ["events"])
               for c in doc ["counties"] for m in c ["municipalities"])
got = open (sys.argv [2]).read ().split ()
sys.exit (0 if want == got and any (not w.endswith ("|0") for w in want) else 1)
PY
"$bin/cpsync-central" workforce --data "$central" --period 2022-Q2 --format json > "$work/workforce.json"
check "workforce of 2022-Q2 equals workforce's JSON (berat: 2 workers, 7000 children)" \
    python3 - "$work/workforce.json" \
    "$(sql "SELECT workers || '|' || children || '|' || status FROM cpsync.workforce
            WHERE period = '2022-Q2' AND municipality = 'berat'")" <<'PY'
import json, sys
doc = json.load (open (sys.argv [1]))
m = [m for c in doc ["counties"] for m in c ["municipalities"] if m ["code"] == "berat"] [0]
sys.exit (0 if sys.argv [2] == "%d|%d|%s" % (m ["workers"], m ["children"], m ["status"])
          and m ["workers"] == 2 else 1)
PY
"$bin/cpsync-central" directive list --data "$central" --format json > "$work/directives.json"
check "directives and their states equal directive list's" python3 - "$work/directives.json" \
    "$(sql "SELECT seq || '|' || text || '|' || count (*) FILTER (WHERE TRUE) || '|' ||
                   string_agg (municipality || ':' || state, ',' ORDER BY municipality)
            FROM cpsync.directives JOIN cpsync.directive_states USING (seq)
            GROUP BY seq, text")" <<'PY'
import json, sys
d = json.load (open (sys.argv [1])) [0]
states = ",".join ("%s:%s" % (m ["code"], m ["state"])
                   for m in sorted (d ["municipalities"], key = lambda m: m ["code"]))
want = "%d|%s|%d|%s" % (d ["seq"], d ["text"], len (d ["municipalities"]), states)
sys.exit (0 if sys.argv [2] == want else 1)
PY

# ---------------------------------------------------------------------------
#  Again: replaced, not added to.
before=$(counts)
step "a second export" "$bin/cpsync-central" export --data "$central" --pg "$conninfo"
check "... leaves every table's row count as it was" [ "$(counts)" = "$before" ]

#  A bad CONNINFO: a clear error, non-zero, nothing written.
for bad in "host=127.0.0.1 port=$(free_port) user=postgres dbname=postgres connect_timeout=3" \
           "host=127.0.0.1 port=$pg_port user=postgres dbname=nosuch" "not a conninfo"; do
    "$bin/cpsync-central" export --data "$central" --pg "$bad" > "$work/bad.out" 2> "$work/bad.err"
    rc=$?
    check "--pg '$bad': exit $rc, $(head -1 "$work/bad.err" | cut -c1-90)" \
        bash -c "[ $rc != 0 ] && grep -q 'export: cannot connect: .*; nothing was written' '$work/bad.err' \
                 && [ ! -s '$work/bad.out' ]"
done
check "... and the tables are as they were" [ "$(counts)" = "$before" ]

#  A database that refuses part of it: one transaction, so no table changed.
sql "ALTER TABLE cpsync.workforce RENAME COLUMN status TO state"
sql "INSERT INTO cpsync.figures VALUES ('marker', 'national', 'national', NULL, 'managed', NULL, 1, false)"
"$bin/cpsync-central" export --data "$central" --pg "$conninfo" > /dev/null 2> "$work/bad.err"
rc=$?
check "a table the export cannot fill: exit $rc, named ($(head -1 "$work/bad.err" | cut -c1-80))" \
    bash -c "[ $rc != 0 ] && grep -q 'status' '$work/bad.err'"
check "... and the tables filled before it were rolled back (the marker row is still there)" \
    [ "$(sql "SELECT count (*) FROM cpsync.figures WHERE period = 'marker'")" = 1 ]
sql "ALTER TABLE cpsync.workforce RENAME COLUMN state TO status"

# ---------------------------------------------------------------------------
#  --public: the suppressed form.
step "export --pg --public --threshold 5" \
    "$bin/cpsync-central" export --data "$central" --pg "$conninfo" --public --threshold 5
grep -v Q "$work/periods.expected" > "$work/years.expected"
sql "SELECT period FROM cpsync.periods ORDER BY period" > "$work/periods.public"
sql "SELECT DISTINCT period FROM cpsync.figures ORDER BY period" > "$work/figures.public"
check "a publication holds the years alone ($(tr '\n' ' ' < "$work/periods.public"))" \
    cmp -s "$work/years.expected" "$work/periods.public"
check "... and so do its figures: no quarter beside its year" \
    cmp -s "$work/years.expected" "$work/figures.public"
check "no quality or workforce in a publication (counts of events and children, none hidden)" \
    [ "$(sql "SELECT (SELECT count (*) FROM cpsync.quality) + (SELECT count (*) FROM cpsync.quality_rates)
                   + (SELECT count (*) FROM cpsync.workforce)
                   + (SELECT count (*) FROM cpsync.workforce_totals)")" = 0 ]
check "the marker row is gone: the export replaced figures" \
    [ "$(sql "SELECT count (*) FROM cpsync.figures WHERE period = 'marker'")" = 0 ]
check "cells are hidden, as NULL with their flag" \
    [ "$(sql "SELECT count (*) FROM cpsync.figures WHERE suppressed AND value IS NULL")" -gt 0 ]
check "no hidden cell keeps a value" \
    [ "$(sql "SELECT count (*) FROM cpsync.figures WHERE suppressed AND value IS NOT NULL")" = 0 ]
check "no shown case count is 1 to 5 (municipalities_reporting is not one)" \
    [ "$(sql "SELECT count (*) FROM cpsync.figures WHERE NOT suppressed AND value BETWEEN 1 AND 5
                 AND measure <> 'municipalities_reporting'")" = 0 ]
for case in 2022:municipality:skrapar 2021:county:berat 2022:national; do
    check "public figures of ${case%%:*} ${case#*:} equal query --public's" \
        same_figures "${case%%:*}" "${case#*:}" --public --threshold 5
done
check "the export row says public, threshold 5" [ "$(sql "SELECT public, threshold FROM cpsync.export")" = "t|5" ]
check "no directive in a publication" \
    [ "$(sql "SELECT count (*) FROM cpsync.directives") $(sql "SELECT count (*) FROM cpsync.directive_states")" = "0 0" ]

# ---------------------------------------------------------------------------
#  CSV: the same rows as files.
step "export --csv" "$bin/cpsync-central" export --data "$central" --csv "$work/csv"
step "export --pg (exact again)" "$bin/cpsync-central" export --data "$central" --pg "$conninfo"
csv_rows () { python3 -c 'import csv, sys; print (sum (1 for _ in csv.reader (open (sys.argv [1], newline = ""))) - 1)' "$1"; }
bad=0
for table in counties municipalities periods figures quality quality_rates workforce \
             workforce_totals directives directive_states; do
    [ "$(csv_rows "$work/csv/$table.csv")" = "$(sql "SELECT count (*) FROM cpsync.$table")" ] \
        || { bad=1; echo "    $table.csv: $(csv_rows "$work/csv/$table.csv") rows"; }
done
check "every CSV file has the rows of its table" [ $bad = 0 ]
check "the directive's text is in directives.csv" grep -q "Send the staffing table" "$work/csv/directives.csv"

#  Usage.
"$bin/cpsync-central" export --data "$central" > /dev/null 2> "$work/bad.err"
check "export with neither --pg nor --csv: exit 2, named" \
    bash -c "[ $? = 2 ] && grep -q 'export needs one of --pg CONNINFO and --csv DIR' '$work/bad.err'"
"$bin/cpsync-central" export --data "$work/nowhere" --pg "$conninfo" > /dev/null 2> "$work/bad.err"
check "export of a directory that is not a central: exit 2" \
    bash -c "[ $? = 2 ] && grep -q 'not a cpsync central' '$work/bad.err'"
finish
