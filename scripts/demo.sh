#!/usr/bin/env bash
# The whole-country demo: 61 municipal nodes sync their case events to one
# central, catalogue 2 (VKM 471/2022) is published to them half way through
# 2022, and the national table of 2022 is printed beside the figures the
# State Agency published, under both catalogues.
#
#   1. installs and builds (scripts/setup.sh)
#   2. generates events for all 61 municipalities whose national figures of
#      2022 are the published ones, under catalogue 2 (its codes from
#      2022-07-01 on), plus other years around them; splits each
#      municipality's file into the lines dated before 2022-07-01 and the
#      rest, each in its order
#   3. phase 1, cpsync-fleet: sets up a node per municipality (catalogue 1),
#      imports the first part, runs the 61 nodes and the central as
#      separate processes on loopback until the central has acknowledged
#      every event
#   4. shows a node rejecting a catalogue-2 line, naming the revision;
#      publishes catalogue-v2.json (cpsync-central catalogue publish) and
#      sends the report's 102 referrals (cpsync-central directive send),
#      one to the municipality of each generated case the Agency referred,
#      the rest to every municipality in turn; a fleet run delivers them
#      (it ends only when every node has applied the downlink entries
#      addressed to it), every node is at catalogue 2, and each referred
#      case's import line names its referral
#   5. every node sets its staffing from 2022-01-01 (cpsync-node staff
#      set, figures from scripts/staffing-2022.csv: 241 workers, as the
#      report, the rest illustrative); phase 2: the fleet syncs the rest,
#      the staffing and the receipts; every line of both phases was
#      imported; the referrals' states at the central (cpsync-central
#      directive list): every one acknowledged by its node, those named by
#      a case taken up, the others overdue
#   6. asks the central for the national view of 2022 and prints it beside
#      report-2022.json, marking every row that differs: under catalogue 2
#      (all rows equal) and under catalogue 1, where three problem rows
#      differ because the report's own two tables disagree there (printed
#      with the figures that show it); any other difference fails the demo
#   7. runs the consistency rules on every scope's view of 2022 and on the
#      published table, then on the table as its summary printed it (240
#      girls), which breaks one
#   8. prints the view of a small municipality as it may be published:
#      small cells, and those that would give them away, hidden
#   9. prints the workforce coverage of 2022 (cpsync-central workforce):
#      the nation's children per worker and the municipalities above the
#      target of 3,000; fails unless the nation's workers and children are
#      the staffing file's
#
#   CPSYNC_DEMO_DIR   where the events and data go (default build/demo)
#   CPSYNC_DEMO_PORT  the central's port (default 7400)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
work=${CPSYNC_DEMO_DIR:-build/demo}
port=${CPSYNC_DEMO_PORT:-7400}
report=tests/data/report-2022.json
revision=protocol/catalogue/catalogue-v2.json
staffing=scripts/staffing-2022.csv
referrals=$(python3 -c 'import json, sys
print (json.load (open (sys.argv [1])) ["central_agency"] ["cases_referred_to_cpus"])' "$report")
cut=2022-07-01      # VKM 471/2022: catalogue 2 from here on
rm -rf "$work"
mkdir -p "$work"
started=$SECONDS
own_events=0        # events the nodes make of their own (staffing, receipts, referrals done)

#  catalogues: how many nodes are at each catalogue, as their status says.
catalogues () {
    for node in "$work"/data/nodes/*; do
        build/bin/cpsync-node status --data "$node" --format json
    done | python3 -c 'import collections, json, sys
counts = collections.Counter (json.loads (line) ["catalogue"] for line in sys.stdin)
print (", ".join ("%d at catalogue %d" % (n, c) for c, n in sorted (counts.items ())))'
}

#  imported_all PARTS...: every line of the parts is in its node's log (the
#  heads add up to the lines and the events the nodes make of their own:
#  staffing, receipts, referrals taken up, and the verdicts on the
#  central's figures that status counts; the fleet's import takes a
#  rejected line as a warning, so this is what says none was).
imported_all () {
    local lines heads verdicts
    lines=$(( $(cat "$@" | wc -l) + own_events ))
    read -r heads verdicts < <(for node in "$work"/data/nodes/*; do
                build/bin/cpsync-node status --data "$node" --format json
            done | python3 -c 'import json, sys
nodes = [json.loads (line) for line in sys.stdin]
print (sum (s ["head"] for s in nodes), sum (s ["reconciliation"] ["reports"] for s in nodes))')
    if [ "$lines" != "$(( heads - verdicts ))" ]; then
        echo "   FAILED: $lines lines and own events, but $heads events in the nodes' logs," \
             "$verdicts of them verdicts on the central's figures" >&2
        return 1
    fi
    echo "   every line imported: $heads events in the nodes' logs, $(( own_events + verdicts ))" \
         "of them the nodes' own (staffing, receipts, referrals taken up, $verdicts verdicts on" \
         "the central's figures)"
}

echo "== Generating the events of 61 municipalities (2019-2023), catalogue 2 from $cut"
build/bin/gen_events --country "$report" \
    --municipalities protocol/catalogue/municipalities.csv \
    --seed 2022 --outdir "$work/events" --catalogue 2 --background 2019-2023
python3 - "$work/events" "$work/before" "$work/after" "$cut" <<'PY'
import os, sys
events, before, after, cut = sys.argv [1:]
for part in (before, after):
    os.makedirs (part)
for name in sorted (os.listdir (events)):
    with open (os.path.join (events, name)) as lines, \
         open (os.path.join (before, name), "w") as early, \
         open (os.path.join (after, name), "w") as late:
        for line in lines:
            at = line.index ('"date":"') + 8
            (early if line [at:at + 10] < cut else late).write (line)
PY
echo "   $(cat "$work"/events/*.jsonl | wc -l) events in $(ls "$work"/events | wc -l) files:" \
     "$(cat "$work"/before/*.jsonl | wc -l) dated before $cut, $(cat "$work"/after/*.jsonl | wc -l) from then on"

echo "== Phase 1: syncing the country up to $cut (61 nodes at catalogue 1, and the central)"
build/bin/cpsync-fleet --events "$work/before" --data "$work/data" --port "$port"
imported_all "$work"/before/*.jsonl
echo "   nodes: $(catalogues)"

echo "== Before the revision, a node rejects a line with a catalogue-2 code"
for sample in "$work"/after/*.jsonl; do
    grep -q -E '"(unaccompanied_foreign_child|child_labour|central_agency)"' "$sample" && break
done
code=$(basename "$sample" .jsonl)
grep -m1 -E '"(unaccompanied_foreign_child|child_labour|central_agency)"' "$sample" \
    > "$work/catalogue-2-line.jsonl"
echo "   $code: $(cat "$work/catalogue-2-line.jsonl")"
if build/bin/cpsync-node import --data "$work/data/nodes/$code" "$work/catalogue-2-line.jsonl" \
       > /dev/null 2> "$work/rejected.txt"; then
    echo "   FAILED: the node of $code took a catalogue-2 code before the revision" >&2
    exit 1
fi
grep -q "comes with catalogue revision 2, which this node has not applied" "$work/rejected.txt"
sed 's/^/   /' "$work/rejected.txt"

echo "== Publishing catalogue 2 (VKM 471/2022) to every node"
build/bin/cpsync-central catalogue publish --data "$work/data/central" "$revision"

echo "== Sending the State Agency's $referrals referrals of 2022 to the municipalities"
#  One to the municipality of each generated case that the Agency referred
#  (referral central_agency, opened in 2023), the rest to every
#  municipality in turn.  Sent as on 2022-12-15 (a due date may not be
#  past), due 2023-03-31; the text names no child, as directives must not.
python3 - "$work/after" "$referrals" > "$work/referral-to.txt" <<'PY'
import os, sys
after, count = sys.argv [1], int (sys.argv [2])
codes = sorted (name [:-len (".jsonl")] for name in os.listdir (after))
to = [code for code in codes for line in open (os.path.join (after, code + ".jsonl"))
      if '"type":"case_opened"' in line and '"referral":"central_agency"' in line]
to += [codes [at % len (codes)] for at in range (count - len (to))]
print ("\n".join (to [:count]))
PY
while read -r code; do
    CPSYNC_TODAY=2022-12-15 build/bin/cpsync-central directive send --data "$work/data/central" \
        --to "$code" --kind referral --due 2023-03-31 --format json \
        --text "A child referred to the unit by the State Agency; details by the usual channel." \
        | python3 -c 'import json, sys; print (sys.argv [1], json.load (sys.stdin) ["id"])' "$code"
done < "$work/referral-to.txt" > "$work/referrals.txt"
own_events=$((own_events + $(wc -l < "$work/referrals.txt")))   # a receipt each
echo "   $(wc -l < "$work/referrals.txt") referrals sent, to $(cut -d' ' -f1 "$work/referrals.txt" | sort -u | wc -l) municipalities"
build/bin/cpsync-fleet --events "$work/before" --data "$work/data" --port "$port"
echo "   nodes: $(catalogues)"

#  Each case the Agency referred names its referral when it is imported,
#  which the node marks done ("case opened") and the central counts as
#  taken up.
taken_up=$(python3 - "$work/after" "$work/referrals.txt" <<'PY'
import collections, os, sys
after = sys.argv [1]
ids = collections.defaultdict (list)
for line in open (sys.argv [2]):
    code, seq = line.split ()
    ids [code].append (seq)
taken = 0
for name in sorted (os.listdir (after)):
    path, code = os.path.join (after, name), name [:-len (".jsonl")]
    lines = open (path).readlines ()
    with open (path, "w") as out:
        for line in lines:
            if '"type":"case_opened"' in line and '"referral":"central_agency"' in line:
                line = line.rstrip ().rstrip ("}") + ',"directive":%s}\n' % ids [code].pop (0)
                taken += 1
            out.write (line)
print (taken)
PY
)
own_events=$((own_events + taken_up))                             # a directive_done each

staffed=0
echo "== Every node sets its staffing from 2022-01-01 ($staffing: illustrative, 241 workers)"
while IFS=, read -r code workers children; do
    build/bin/cpsync-node staff set --data "$work/data/nodes/$code" --workers "$workers" \
        --children "$children" --date 2022-01-01 > /dev/null
    staffed=$((staffed + 1))
done < <(grep -v -e '^#' -e '^code,' "$staffing")
own_events=$((own_events + staffed))
echo "   $staffed nodes staffed"

echo "== Phase 2: syncing the rest of 2022 and 2023 (catalogue 2), and the staffing"
build/bin/cpsync-fleet --events "$work/after" --data "$work/data" --port "$port"
imported_all "$work"/before/*.jsonl "$work"/after/*.jsonl

verdicts=$(for node in "$work"/data/nodes/*; do
                build/bin/cpsync-node status --data "$node" --format json
            done | python3 -c 'import collections, json, sys
verdicts = collections.Counter (json.loads (line) ["reconciliation"] ["verdict"] for line in sys.stdin)
print (", ".join ("%d %s" % (n, v) for v, n in sorted (verdicts.items ())))
sys.exit (1 if verdicts ["diverged"] else 0)') \
    || { echo "   FAILED: a node's figures diverge from the central's: $verdicts" >&2; exit 1; }
echo "   figures reconciled (each node against the central's digests of its month rows): $verdicts"

echo "== The referrals' states at the central, as on 2023-12-31"
CPSYNC_TODAY=2023-12-31 build/bin/cpsync-central directive list --data "$work/data/central" \
    --format json > "$work/directives.json"
python3 - "$work/directives.json" "$referrals" "$taken_up" <<'PY'
import collections, json, sys
listed, sent, taken = json.load (open (sys.argv [1])), int (sys.argv [2]), int (sys.argv [3])
referrals = [d for d in listed if d ["kind"] == "referral"]
states = collections.Counter ()
for d in referrals:
    states.update (d ["counts"])
taken_up = sum (d ["taken_up"] for d in referrals)
unreceipted = sum (1 for d in referrals for m in d ["municipalities"] if not m ["received"])
print ("   %d referrals: %s; %d taken up by a case that names them"
       % (len (referrals), ", ".join ("%d %s" % (states [s], s) for s in
          ("sent", "delivered", "acknowledged", "done", "overdue")), taken_up))
print ("   overdue: no case opened by the due date, 2023-03-31; %s"
       % ("every unit's node acknowledged its referrals on its own" if not unreceipted
          else "%d not acknowledged" % unreceipted))
failed = len (referrals) != sent or taken_up != taken or unreceipted
if failed:
    print ("   FAILED: %d referrals listed (%d sent), %d taken up (%d cases name one), %d not"
           " acknowledged" % (len (referrals), sent, taken_up, taken, unreceipted),
           file = sys.stderr)
sys.exit (1 if failed else 0)
PY

echo "== The national view of 2022 under catalogue 2, beside the published figures"
build/bin/cpsync-central query --data "$work/data/central" --period 2022 --catalogue 2 \
    --format table --lang en --compare "$report"

echo "== ... and under catalogue 1, beside the report's catalogue-1 problem table"
build/bin/cpsync-central query --data "$work/data/central" --period 2022 --catalogue 1 \
    --format table --lang en --compare "$report"

#  The real check, on the JSON views: every row equal under catalogue 2;
#  under catalogue 1 only the rows the report's own two tables disagree on.
for version in 1 2; do
    build/bin/cpsync-central query --data "$work/data/central" --period 2022 \
        --catalogue $version --format json > "$work/view-$version.json"
done
python3 - "$report" "$work/view-1.json" "$work/view-2.json" <<'PY'
import json, sys
report = json.load (open (sys.argv [1]))
views = {version: json.load (open (sys.argv [1 + version])) for version in (1, 2)}
published = {1: report ["managed_by_problem_catalogue_1"],
             2: report ["managed_by_problem_catalogue_2"]}

def differing (version):
    "Rows (breakdown, code) where the view and the report differ."
    view, rows = views [version], []
    for key, value in view.items ():
        if key == "managed_by_problem":
            theirs = published [version]
        elif key in report and isinstance (value, (int, dict)):
            theirs = report [key]
        else:
            continue
        if isinstance (value, int):
            if value != theirs:
                rows.append ((key, None, value, theirs))
            continue
        for code in sorted (set (value) | set (theirs)):
            if value.get (code, 0) != theirs.get (code, 0):
                rows.append ((key, code, value.get (code, 0), theirs.get (code, 0)))
    return rows

failed = False
if differing (2):
    failed = True
    for row in differing (2):
        print ("   FAILED: catalogue 2, %s %s: ours %d, published %d" % row, file = sys.stderr)
new_codes = [code for code in published [2] if code not in published [1]]
folded = published [2] ["other"] + sum (published [2] [code] for code in new_codes)
print ("The catalogue-1 table of the report and ours:")
print ("  other: %d published = %d (catalogue 2's other) + %s: reconciled by folding"
       % (published [1] ["other"], published [2] ["other"],
          " + ".join ("%d %s" % (published [2] [code], code) for code in new_codes)))
if folded != published [1] ["other"]:
    print ("   FAILED: the report's other rows do not fold", file = sys.stderr)
    failed = True
#  The rows docs/events.md names ("The 2022 national figures"); a
#  difference anywhere else, or one that the report's own catalogue-2
#  figure does not account for, fails.
unreconciled = {"psychological_violence", "trafficking", "socio_economic"}
explained = []
for key, code, ours, theirs in differing (1):
    moved = published [2].get (code, 0) - published [1].get (code, 0)
    if key != "managed_by_problem" or code not in unreconciled or moved == 0 \
       or ours != published [2].get (code, 0):
        failed = True
        print ("   FAILED: catalogue 1, %s %s: ours %d, published %d" % (key, code, ours, theirs),
               file = sys.stderr)
        continue
    explained.append ((code, ours, theirs, moved))
if explained:
    print ("  %d row(s) differ, and the report itself does not reconcile them: its catalogue-2"
           % len (explained))
    print ("  table has other figures for them than its catalogue-1 table, which folding")
    print ("  (new codes into other) cannot explain. Ours are the catalogue-2 events seen")
    print ("  under catalogue 1, so they equal the report's catalogue-2 figures there:")
    for code, ours, theirs, moved in explained:
        print ("    %-24s published %4d under catalogue 1, %4d under catalogue 2;"
               " ours %4d (%+d on the catalogue-1 table)" % (code, theirs, theirs + moved, ours, moved))
    moved = sum (m for _, _, _, m in explained)
    if moved == 0:
        print ("  They add up to 0: the report moved cases between these rows.")
    else:
        print ("  They add up to %+d." % moved)
print ("Every other row of both tables equals the published figures." if not failed else "")
sys.exit (1 if failed else 0)
PY

echo "== The consistency rules on every view of 2022 and on the published table"
build/bin/cpsync-central check --data "$work/data/central" --period 2022 --scope all \
    --report "$report"
echo "== ... and on the table as the report's summary printed it (240 girls)"
python3 -c 'import json, sys
report = json.load (open (sys.argv [1])); report ["new_by_sex"] ["F"] = 240
json.dump (report, open (sys.argv [2], "w"), indent = 1)' "$report" \
    "$work/report-2022-summary.json"
build/bin/cpsync-central check --data "$work/data/central" --period 2022 \
    --report "$work/report-2022-summary.json" || true

echo "== Poliçan's 2022, as it may be published (cells of 1 to 5 and what gives them away: c)"
build/bin/cpsync-central query --data "$work/data/central" --period 2022 \
    --scope municipality:polican --public --format table --lang en | head -24
echo "== Workforce coverage at the end of 2022: children per child protection worker (target 3,000)"
build/bin/cpsync-central workforce --data "$work/data/central" --period 2022 \
    > "$work/workforce.txt"
grep -E '^(national|above target):' "$work/workforce.txt" | sed 's/^/   /'
build/bin/cpsync-central workforce --data "$work/data/central" --period 2022 --format json \
    > "$work/workforce.json"
python3 - "$work/workforce.json" "$staffing" <<'PY'
import json, sys
total = json.load (open (sys.argv [1])) ["total"]
rows = [line.strip ().split (",") for line in open (sys.argv [2])
        if not line.startswith (("#", "code,")) and line.strip ()]
workers, children = sum (int (r [1]) for r in rows), sum (int (r [2]) for r in rows)
if (total ["workers"], total ["children"], total ["reported"]) != (241, children, len (rows)) \
   or workers != 241:
    print ("   FAILED: the nation has %d workers and %d children of %d municipalities; the file "
           "%d and %d of %d" % (total ["workers"], total ["children"], total ["reported"], workers,
                                children, len (rows)), file = sys.stderr)
    sys.exit (1)
print ("   the nation's 241 workers and %d children are the staffing file's" % children)
PY
echo "== Done in $(( SECONDS - started )) s"
