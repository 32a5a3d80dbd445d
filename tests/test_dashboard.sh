#!/usr/bin/env bash
# The dashboard that cpsync-central serve answers at /, opened in headless
# Chromium as each role would open it (tests/dashboard_driver.py, through
# chromedriver), with real processes.
#
# Three municipalities' generated events (two of county Berat, Tirana) are
# shipped to a central by cpsync-fleet, with the staffing of berat (above
# the target of 3,000 children per worker) and kucove, and a directive to
# county Berat.  Then, for the operator, a county, a municipality and the
# public, the page's figures (its data-figure and data-value attributes)
# must be the command line's for the same period and scope: query
# (--public for the public), the quarters of the trend, quality,
# workforce and directive list.  A county sees its own municipalities and
# may not pick another county; a municipality sees itself; the public
# sees the figures for publication and neither municipalities nor
# directives.  The page is in Albanian, in English at its switch.
# Screenshots are kept in ARTIFACTS.  Without Chromium the
# test fails (scripts/setup.sh installs it).
#
#   test_dashboard.sh BIN_DIR SOURCE_DIR WORK_DIR ARTIFACTS_DIR
set -u
source "$(dirname "$0")/harness.sh" dashboard "$@"
artifacts=$4
central=$work/data/central
driver=$source/tests/dashboard_driver.py
password="correct horse battery"
mkdir -p "$artifacts"

check "chromium and chromedriver are installed (scripts/setup.sh)" \
    bash -c "command -v chromium > /dev/null && command -v chromedriver > /dev/null"
[ $failed = 0 ] || finish

mkdir -p "$work/events"
seed=31
for code in berat kucove tirane; do
    "$bin/gen_events" --seed $seed --events 1500 --from 2020-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
fleet () { "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" \
               --timeout 300; }
step "the fleet ships three municipalities' events" fleet
step "berat's staffing (above the target)" "$bin/cpsync-node" staff set \
    --data "$work/data/nodes/berat" --workers 4 --children 15000 --date 2022-01-01
step "kucove's staffing" "$bin/cpsync-node" staff set \
    --data "$work/data/nodes/kucove" --workers 3 --children 7000 --date 2022-01-01
step "a directive to county Berat" "$bin/cpsync-central" directive send --data "$central" \
    --to county:berat --kind notice --text "Raportoni shifrat e vitit deri në fund të janarit"
step "the fleet ships the staffing and delivers the directive" fleet

printf '%s\n' "$password" > "$work/password"
add () { "$bin/cpsync-central" user add --data "$central" --password-file "$work/password" "$@" \
             > /dev/null; }
step "an operator" add --name op --role operator
step "a county (Berat)" add --name berat-county --role county --scope county:berat
step "a municipality (Berat)" add --name berat-office --role municipality --scope municipality:berat
step "the public" add --name press --role public

#  One instant for serve and the command line, so that lags are the same.
export CPSYNC_NOW_MS=$(( $(date +%s) * 1000 ))
http_port=$(free_port)
"$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$http_port" \
    2>> "$work/serve.log" &
pids+=($!)
base=http://127.0.0.1:$http_port
for _ in $(seq 100); do
    python3 "$source/tests/http_client.py" "$work/up" GET "$base/" | grep -q 200 && break
    sleep 0.1
done

#  open ROLE NAME PERIOD SCOPE: the dashboard as NAME sees it, into
#  $work/ROLE.json, its screenshot into ARTIFACTS/dashboard-ROLE.png.
open () {
    /usr/bin/python3 "$driver" "$base" "$2" "$password" "$3" "$4" "$work/$1.json" \
        "$artifacts/dashboard-$1.png" 2> "$work/driver.err" \
    || { echo "    $(cat "$work/driver.err")"; return 1; }
    echo "    screenshot: $artifacts/dashboard-$1.png"
}

#  cli NAME ARGS...: cpsync-central ARGS --data central --format json into $work/NAME.
cli () { local name=$1; shift
         "$bin/cpsync-central" "$@" --data "$central" --format json > "$work/$name"; }

#  expect ROLE PERIOD SCOPE [--public]: the page's figures are the command
#  line's: the view, the trend's twelve quarters (for the public, eight
#  years: it sees whole years only), and (unless public) each
#  municipality's quality and workforce and the directives.
expect () {
    local role=$1 period=$2 scope=$3; shift 3
    cli view.json query --period "$period" --scope "$scope" "$@" || return 1
    local year=${period%%-*} each trend=()
    rm -f "$work"/trend-*.json
    if [ "${1:-}" = --public ]; then
        for each in $(seq $((year - 7)) $year); do trend+=("$each"); done
    else
        for each in $((year - 2)) $((year - 1)) $year; do
            trend+=("$each-Q1" "$each-Q2" "$each-Q3" "$each-Q4")
        done
    fi
    for each in "${trend[@]}"; do
        cli "trend-$each.json" query --period "$each" --scope "$scope" "$@" || return 1
    done
    cli quality.json quality --period "$period" --scope "$scope" || return 1
    cli workforce.json workforce --period "$period" --scope "$scope" || return 1
    cli directives.json directive list --scope "$scope" || return 1
    python3 - "$work" "$role" "$period" "$scope" "${1:-}" <<'PY'
import glob, json, os, sys
work, role, period, scope, public = sys.argv [1:6]
page = json.load (open (os.path.join (work, role + ".json")))
load = lambda name: json.load (open (os.path.join (work, name)))
wrong = []
def same (what, shown, expected):
    if isinstance (expected, float) or isinstance (expected, int) and not isinstance (expected, bool):
        try:
            if float (shown) == float (expected):
                return
        except (TypeError, ValueError):
            pass
    elif str (shown) == ("null" if expected is None else str (expected)):
        return
    wrong.append ("%s: the page shows %s, the command line %s" % (what, shown, expected))

figures = page ["figures"]
if page ["shown"] != {"period": period, "scope": scope}:
    wrong.append ("the page shows %s, not %s %s" % (page ["shown"], period, scope))
view = load ("view.json")
expected = {}
for key, value in view.items ():
    if isinstance (value, dict):
        expected.update ({key + "." + code: figure for code, figure in value.items ()})
    elif key in ("managed", "new", "closed", "home_visits", "municipalities_reporting"):
        expected [key] = value
for path in sorted (glob.glob (os.path.join (work, "trend-*.json"))):
    quarter = load (os.path.basename (path))
    for key in ("managed", "new", "closed"):
        expected ["trend.%s.%s" % (quarter ["period"], key)] = quarter [key]
if set (figures) != set (expected):
    wrong.append ("figures shown but not expected: %s; expected but not shown: %s"
                  % (sorted (set (figures) - set (expected)) [:5],
                     sorted (set (expected) - set (figures)) [:5]))
for key in sorted (set (figures) & set (expected)):
    same (key, figures [key], expected [key])

if public:
    if any (page ["sections"].values ()) or page ["municipalities"] or page ["directives"]:
        wrong.append ("the public sees municipalities or directives")
else:
    quality, workforce = load ("quality.json"), load ("workforce.json")
    staffing = {m ["code"]: m for c in workforce ["counties"] for m in c ["municipalities"]}
    places = {m ["code"]: m for c in quality ["counties"] for m in c ["municipalities"]}
    rows = page ["municipalities"]
    if sorted (rows) != sorted (places):
        wrong.append ("municipalities shown %s, quality's %s"
                      % (sorted (rows) [:8], sorted (places) [:8]))
    for code in set (rows) & set (places):
        row, place = rows [code], places [code]
        same (code + " sync", row ["sync"], "caught_up" if place ["caught_up"] else "lagging")
        for field in ("lag_seconds", "timeliness", "reconciliation"):
            same (code + " " + field, row [field], place [field])
        same (code + " children_per_worker", row ["children_per_worker"],
              staffing [code] ["children_per_worker"])
        short = set ((row ["short"] or "").split ())
        should = set ()
        if not place ["caught_up"]: should.add ("lagging")
        if place ["timeliness"] in ("late", "missing"): should.add (place ["timeliness"])
        if place ["reconciliation"] == "diverged": should.add ("diverged")
        if staffing [code] ["above_target"]: should.add ("above_target")
        if short != should:
            wrong.append ("%s highlighted for %s, should be for %s" % (code, short, should))
    for county in quality ["counties"]:
        shown = page ["counties"].get (county ["county"])
        if not shown:
            wrong.append ("county %s not shown" % county ["county"])
            continue
        same (county ["county"] + " completeness", shown ["completeness"],
              county ["rate"] ["completeness"])
    directives = {str (d ["seq"]): d for d in load ("directives.json")}
    if set (page ["directives"]) != set (directives):
        wrong.append ("directives shown %s, directive list's %s"
                      % (sorted (page ["directives"]), sorted (directives)))
    for seq in set (page ["directives"]) & set (directives):
        for state, count in directives [seq] ["counts"].items ():
            same ("directive %s %s" % (seq, state), page ["directives"] [seq] ["counts." + state],
                  count)
for line in wrong [:10]:
    print ("    " + line)
sys.exit (1 if wrong else 0)
PY
}

#  field ROLE PYTHON-EXPRESSION: true when the expression over the page (p) is.
field () { python3 -c "import json, sys; p = json.load (open (sys.argv [1])); sys.exit (0 if ($2) else 1)" \
               "$work/$1.json"; }

# ----------------------------------------------------------------------
# The operator

check "operator: the dashboard of 2022, national" open operator op 2022 national
check "... shows query's figures, the trend's, quality's, workforce's, the directives'" \
    expect operator 2022 national
check "... all 61 municipalities, berat above the target" \
    field operator "len (p ['municipalities']) == 61 and 'above_target' in p ['municipalities'] ['berat'] ['short']"
check "... may pick the nation, 12 counties and 61 municipalities" \
    field operator "len (p ['scopes']) == 74"
check "... in Albanian, and in English at the switch" \
    field operator "p ['language'] ['first'] == ['sq', 'Mbrojtja e fëmijëve: pasqyra kombëtare'] and p ['language'] ['switched'] == ['en', 'Child protection: the national picture', 'Cases managed']"
check "operator: 2021-Q3 of county Tirana" open operator-q op 2021-Q3 county:tirane
check "... query's figures" expect operator-q 2021-Q3 county:tirane

# ----------------------------------------------------------------------
# A county

check "county: the dashboard of 2022, county:berat" open county berat-county 2022 county:berat
check "... query --scope county:berat's figures, its quality, workforce, directives" \
    expect county 2022 county:berat
check "... its 5 municipalities only" \
    field county "sorted (p ['municipalities']) == ['berat', 'dimal', 'kucove', 'polican', 'skrapar'] and sorted (p ['counties']) == ['berat']"
check "... may pick only its county and its municipalities" \
    field county "p ['scopes'] == ['county:berat', 'municipality:berat', 'municipality:dimal', 'municipality:kucove', 'municipality:polican', 'municipality:skrapar']"
check "county: asking for county:tirane" open county-other berat-county 2022 county:tirane
check "... is not offered, and the page stays on its own county" \
    field county-other "not p ['picked'] and p ['shown'] ['scope'] == 'county:berat' and 'tirane' not in p ['municipalities']"
check "county: one of its municipalities (kucove), 2022-Q4" \
    open county-kucove berat-county 2022-Q4 municipality:kucove
check "... query's figures" expect county-kucove 2022-Q4 municipality:kucove

# ----------------------------------------------------------------------
# A municipality

check "municipality: the dashboard of 2022-Q2" open municipality berat-office 2022-Q2 municipality:berat
check "... query --scope municipality:berat's figures" expect municipality 2022-Q2 municipality:berat
check "... itself only, and no other scope to pick" \
    field municipality "list (p ['municipalities']) == ['berat'] and p ['scopes'] == ['municipality:berat']"

# ----------------------------------------------------------------------
# The public

check "public: the dashboard of 2022, national" open public press 2022 national
check "... query --public's figures, no municipalities, no directives" \
    expect public 2022 national --public
check "... no quarter to pick, a trend by year" \
    field public "p ['quarter_hidden'] and p ['trend_title'] == 'Ecuria sipas viteve'"

check "serve has not died" kill -0 "${pids[-1]}"
finish
