#!/usr/bin/env bash
# The whole-country demo: 61 municipal nodes sync their case events to one
# central, and the national table of 2022 is printed beside the figures the
# State Agency published.
#
#   1. installs and builds (scripts/setup.sh)
#   2. generates events for all 61 municipalities whose national figures of
#      2022 are the published ones (plus other years around them)
#   3. cpsync-fleet: sets up a node per municipality, imports its events,
#      runs the 61 nodes and the central as separate processes on loopback
#      until the central has acknowledged every event
#   4. asks the central for the national view of 2022 and prints it beside
#      report-2022.json, marking every row that differs
#   5. runs the consistency rules on every scope's view of 2022 and on the
#      published table, then on the table as its summary printed it (240
#      girls), which breaks one
#   6. prints the view of a small municipality as it may be published:
#      small cells, and those that would give them away, hidden
#
#   CPSYNC_DEMO_DIR   where the events and data go (default build/demo)
#   CPSYNC_DEMO_PORT  the central's port (default 7400)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
work=${CPSYNC_DEMO_DIR:-build/demo}
port=${CPSYNC_DEMO_PORT:-7400}
rm -rf "$work"
mkdir -p "$work"

echo "== Generating the events of 61 municipalities (2019-2023)"
build/bin/gen_events --country tests/data/report-2022.json \
    --municipalities protocol/catalogue/municipalities.csv \
    --seed 2022 --outdir "$work/events" --catalogue 1 --background 2019-2023
echo "   $(cat "$work"/events/*.jsonl | wc -l) events in $(ls "$work"/events | wc -l) files"

echo "== Syncing the country: 61 nodes and the central on loopback"
build/bin/cpsync-fleet --events "$work/events" --data "$work/data" --port "$port"

echo "== The national view of 2022, beside the published figures"
build/bin/cpsync-central query --data "$work/data/central" --period 2022 --catalogue 1 \
    --format table --lang en --compare tests/data/report-2022.json

echo "== The consistency rules on every view of 2022 and on the published table"
build/bin/cpsync-central check --data "$work/data/central" --period 2022 --scope all \
    --report tests/data/report-2022.json
echo "== ... and on the table as the report's summary printed it (240 girls)"
python3 -c 'import json, sys
report = json.load (open (sys.argv [1])); report ["new_by_sex"] ["F"] = 240
json.dump (report, open (sys.argv [2], "w"), indent = 1)' tests/data/report-2022.json \
    "$work/report-2022-summary.json"
build/bin/cpsync-central check --data "$work/data/central" --period 2022 \
    --report "$work/report-2022-summary.json" || true

echo "== Poliçan's 2022, as it may be published (cells of 1 to 5 and what gives them away: c)"
build/bin/cpsync-central query --data "$work/data/central" --period 2022 \
    --scope municipality:polican --public --format table --lang en | head -24
