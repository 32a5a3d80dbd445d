#!/usr/bin/env bash
# cpsync-central serve and user: the HTTP face of the central (issue 15,
# points 1 and 2), with real processes.
#
# Three municipalities' generated events (two of county Berat, Tirana) are
# shipped to a central by cpsync-fleet.  Then:
#   - user add checks name, role, scope and password, refuses a duplicate
#     and changes nothing when it refuses; accounts.json is 0600, holds
#     Argon2id hashes and no password, and is refused when others may read
#     it;
#   - serve refuses an address beyond loopback without TLS (exit 2);
#   - each role against every endpoint: the figures are query's, byte for
#     byte; a county sees its county and its municipalities, a
#     municipality itself, public the figures for publication only; a
#     question outside the scope is 403 with a JSON body, and logged;
#   - 401 (a wrong password, no token, an unknown or expired one, after
#     logout, an account removed), 429 after five failed logins, 400 (bad
#     period, scope, catalogue, query string, login body), 404, 405, 413,
#     each with a JSON body, and the server serving after every one;
#   - quality, workforce and directives (issue "Operators"): each role's
#     answer is quality's, workforce's and directive list's (--scope) byte
#     for byte, 403 outside the scope and for the public; POST of a
#     directive by the operator signs it with the root secret of the data
#     directory as directive send does, refuses what directive send
#     refuses (400, nothing sent), is 403 for other roles and 503 when the
#     root secret is not in the data directory;
#   - the dashboard's page and assets at / and /dashboard/;
#   - HTTPS with a self-signed certificate.
#
#   test_http.sh BIN_DIR SOURCE_DIR WORK_DIR
set -u
source "$(dirname "$0")/harness.sh" http "$@"
central=$work/data/central
client=$source/tests/http_client.py
password="correct horse battery"

mkdir -p "$work/events"
seed=21
for code in berat kucove tirane; do
    "$bin/gen_events" --seed $seed --events 2000 --from 2021-01-01 --to 2022-12-31 \
        --prefix "$code-" > "$work/events/$code.jsonl"
    seed=$((seed + 1))
done
step "the fleet ships three municipalities' events" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300
step "berat's staffing" "$bin/cpsync-node" staff set --data "$work/data/nodes/berat" \
    --workers 4 --children 15000 --date 2022-01-01
step "a directive to county Berat" "$bin/cpsync-central" directive send --data "$central" \
    --to county:berat --kind notice --text "Raportoni deri më 31 janar"
step "the fleet ships the staffing and delivers the directive" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300

#  python3 over JSON files: ARGS are files, the script on stdin.
json () { python3 - "$@"; }

# ----------------------------------------------------------------------
# Accounts

printf '%s\n' "$password" > "$work/password"
user () { "$bin/cpsync-central" user "$@" --data "$central" > "$work/user.out" 2> "$work/user.err"; }
add () { user add --password-file "$work/password" "$@"; }
step "an operator" add --name op --role operator
step "a county (Berat)" add --name berat-county --role county --scope county:berat
step "a county (Tirana)" add --name tirane-county --role county --scope county:tirane
step "a municipality (Berat)" add --name berat-office --role municipality --scope municipality:berat
step "the public" add --name press --role public
step "one more, to be locked out" add --name locked --role operator

accounts=$central/accounts.json
check "accounts.json is the owner's only (0600)" [ "$(stat -c %a "$accounts")" = 600 ]
check "... holds no password" bash -c "! grep -qF '$password' '$accounts'"
check "... but Argon2id hashes, one an account" \
    [ "$(grep -c '"hash": "\$argon2id\$' "$accounts")" = 6 ]
before=$(sha256sum < "$accounts")
#  refused ARGS... WORDS: user add with ARGS exits 2, says WORDS, changes nothing.
refused () {
    local words=$1; shift
    add "$@"; local rc=$?
    [ $rc = 2 ] && grep -q "$words" "$work/user.err" && [ "$(sha256sum < "$accounts")" = "$before" ]
}
check "user add: a county without its county refused" refused "needs --scope county:CODE" \
    --name c2 --role county
check "... a county of no county" refused "needs --scope county:CODE" \
    --name c2 --role county --scope county:atlantis
check "... a municipality with a county's scope" refused "needs --scope municipality:CODE" \
    --name m2 --role municipality --scope county:berat
check "... an operator with a scope" refused "takes no scope" \
    --name o2 --role operator --scope county:berat
check "... an unknown role" refused "a role is" --name o2 --role admin
check "... a name outside the id alphabet" refused "a name is" --name "two words" --role public
check "... a name taken" refused "exists already" --name op --role public
printf 'short pass\n' > "$work/short"
check "... a password under 12 characters" refused "a password is 12" \
    --name o2 --role public --password-file "$work/short"
check "a password read from stdin" bash -c "printf '%s\n' '$password' | '$bin/cpsync-central' \
    user add --data '$central' --name reader --role public > /dev/null"
user remove --name reader
check "user remove" bash -c "! grep -q '\"reader\"' '$accounts'"
user remove --name nobody
check "... exit 2" [ $? = 2 ]
user list --format json
check "user list: the six, no hash" json "$work/user.out" <<'PY'
import json, sys
accounts = json.load (open (sys.argv [1]))
names = {a ["name"]: (a ["role"], a ["scope"]) for a in accounts}
sys.exit (0 if names == {"op": ("operator", "national"),
                         "berat-county": ("county", "county:berat"),
                         "tirane-county": ("county", "county:tirane"),
                         "berat-office": ("municipality", "municipality:berat"),
                         "press": ("public", "national"), "locked": ("operator", "national")}
          and not any ("hash" in a for a in accounts) else 1)
PY
chmod 644 "$accounts"
user list
check "accounts.json that others may read: refused (exit 2)" \
    bash -c "[ $? = 2 ] && grep -q 'may be read by others' '$work/user.err'"
chmod 600 "$accounts"

# ----------------------------------------------------------------------
# Binding

http_port=$(free_port)
serve_log=$work/serve.log
#  (timeout: a serve that wrongly starts must not hold the test up)
timeout 10 "$bin/cpsync-central" serve --data "$central" --http "0.0.0.0:$http_port" \
    > /dev/null 2> "$work/refusal.err"
check "serve on 0.0.0.0 without TLS: refused, exit 2" \
    bash -c "[ $? = 2 ] && grep -q 'beyond loopback' '$work/refusal.err'"
timeout 10 "$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$http_port" \
    --tls-cert "$work/none.pem" > /dev/null 2> "$work/refusal.err"
check "--tls-cert without --tls-key: exit 2" [ $? = 2 ]

#  One instant for serve and the command line, so that quality's lags agree.
now_ms=$(( $(date +%s) * 1000 ))
CPSYNC_NOW_MS=$now_ms "$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$http_port" \
    2>> "$serve_log" &
serve_pid=$!; pids+=("$serve_pid")
base=http://127.0.0.1:$http_port
for _ in $(seq 100); do
    [ "$(python3 "$client" "$work/up" GET "$base/openapi.json")" = 200 ] && break
    sleep 0.1
done

#  call OUT METHOD PATH [client options]: the status code; the body in OUT.
#  tls holds the options every call takes (the certificate to trust).
tls=()
call () { local out=$1 method=$2 path=$3; shift 3
          python3 "$client" "$out" "$method" "$base$path" ${tls[@]+"${tls[@]}"} "$@"; }

#  answers STATUS METHOD PATH [client options]: the status is STATUS and,
#  for an error, the body is {"error": "...", "status": STATUS}.
answers () {
    local expected=$1; shift
    local got; got=$(call "$work/answer.json" "$@")
    [ "$got" = "$expected" ] || { echo "    got $got: $(head -c 300 "$work/answer.json")"; return 1; }
    [ "$expected" -lt 400 ] && return 0
    json "$work/answer.json" "$expected" <<'PY'
import json, sys
body = json.load (open (sys.argv [1]))
sys.exit (0 if body ["status"] == int (sys.argv [2]) and body ["error"] else 1)
PY
}

#  login NAME: the token.
login () {
    call "$work/login.json" POST /api/v1/login --data "{\"name\": \"$1\", \"password\": \"$password\"}" \
        > /dev/null
    python3 -c 'import json, sys; print (json.load (open (sys.argv [1])) ["token"])' "$work/login.json"
}

check "/openapi.json without login: 200" answers 200 GET /openapi.json
check "... an OpenAPI 3 description of every path" json "$work/answer.json" <<'PY'
import json, sys
api = json.load (open (sys.argv [1]))
paths = {"/openapi.json", "/api/v1/login", "/api/v1/logout", "/api/v1/me", "/api/v1/views",
         "/api/v1/nodes", "/api/v1/check", "/api/v1/quality", "/api/v1/workforce",
         "/api/v1/directives", "/", "/metrics"}
sys.exit (0 if api ["openapi"].startswith ("3.") and set (api ["paths"]) == paths else 1)
PY

op=$(login op)
county=$(login berat-county)
office=$(login berat-office)
press=$(login press)
check "a token for each role" [ ${#op} = 64 -a ${#county} = 64 -a ${#office} = 64 -a ${#press} = 64 ]

#  query ARGS...: what cpsync-central query prints, into $work/query.json.
query () { "$bin/cpsync-central" query --data "$central" --format json "$@" > "$work/query.json"; }

#  same_view TOKEN PATH QUERY-ARGS...: the API's view is query's, byte for byte.
same_view () {
    local token=$1 path=$2; shift 2
    answers 200 GET "$path" --token "$token" && query "$@" && cmp -s "$work/answer.json" "$work/query.json"
}

# ----------------------------------------------------------------------
# The operator

check "operator: the national view of 2022 is query's" \
    same_view "$op" "/api/v1/views?period=2022" --period 2022
check "... and not empty" json "$work/answer.json" <<'PY'
import json, sys
sys.exit (0 if json.load (open (sys.argv [1])) ["managed"] > 0 else 1)
PY
check "... county:berat, 2022-Q3" \
    same_view "$op" "/api/v1/views?period=2022-Q3&scope=county:berat" --period 2022-Q3 \
    --scope county:berat
check "... municipality:tirane under catalogue 1" \
    same_view "$op" "/api/v1/views?period=2021&scope=municipality:tirane&catalogue=1" \
    --period 2021 --scope municipality:tirane --catalogue 1
check "... for publication (public=1), query --public's" \
    same_view "$op" "/api/v1/views?period=2022&scope=municipality:kucove&public=1" \
    --period 2022 --scope municipality:kucove --public
check "operator: check of the nation is check's" answers 200 GET "/api/v1/check?period=2022" \
    --token "$op"
"$bin/cpsync-central" check --data "$central" --period 2022 --format json > "$work/check.json"
check "... byte for byte" cmp -s "$work/answer.json" "$work/check.json"
check "... scope=all is check --scope all's" answers 200 GET "/api/v1/check?period=2022&scope=all" \
    --token "$op"
"$bin/cpsync-central" check --data "$central" --period 2022 --scope all --format json \
    > "$work/check.json"
check "... byte for byte (74 views)" cmp -s "$work/answer.json" "$work/check.json"
check "operator: nodes" answers 200 GET /api/v1/nodes --token "$op"
"$bin/cpsync-central" nodes --data "$central" --format json > "$work/nodes.json"
#  same_nodes API CLI: the same nodes (lag_seconds aside: it is the time since).
same_nodes () {
    json "$1" "$2" <<'PY'
import json, sys
api, cli = (json.load (open (path)) for path in sys.argv [1:3])
for node in api + cli:
    node.pop ("lag_seconds")
sys.exit (0 if api == cli and len (api) == 61 else 1)
PY
}
check "... nodes --format json's, all 61" same_nodes "$work/answer.json" "$work/nodes.json"
check "operator: me" answers 200 GET /api/v1/me --token "$op"
check "... names the account, role and scope" json "$work/answer.json" <<'PY'
import json, sys
me = json.load (open (sys.argv [1]))
sys.exit (0 if (me ["name"], me ["role"], me ["scope"]) == ("op", "operator", "national") else 1)
PY

# ----------------------------------------------------------------------
# A county

check "county: its own view by default is query's" \
    same_view "$county" "/api/v1/views?period=2022" --period 2022 --scope county:berat
check "... one of its municipalities (kucove)" \
    same_view "$county" "/api/v1/views?period=2022&scope=municipality:kucove" --period 2022 \
    --scope municipality:kucove
check "... the national view: 403" answers 403 GET "/api/v1/views?period=2022&scope=national" \
    --token "$county"
check "... another county: 403" answers 403 GET "/api/v1/views?period=2022&scope=county:tirane" \
    --token "$county"
check "... another county's municipality: 403" answers 403 GET \
    "/api/v1/views?period=2022&scope=municipality:tirane" --token "$county"
check "... the refusal is logged: account, path, scope" \
    grep -q "berat-county (county) asked /api/v1/views for municipality:tirane: refused" "$serve_log"
check "... without figures" bash -c "! grep -q '\"managed\"\|managed:' '$serve_log'"
check "county: check of its county" answers 200 GET "/api/v1/check?period=2022" --token "$county"
check "... is check --scope county:berat's" bash -c "'$bin/cpsync-central' check --data '$central' \
    --period 2022 --scope county:berat --format json | cmp -s - '$work/answer.json'"
check "... of all: 403" answers 403 GET "/api/v1/check?period=2022&scope=all" --token "$county"
check "... of the nation: 403" answers 403 GET "/api/v1/check?period=2022&scope=national" \
    --token "$county"
check "county: nodes" answers 200 GET /api/v1/nodes --token "$county"
check "... its 5 municipalities only" json "$work/answer.json" "$municipalities" <<'PY'
import csv, json, sys
nodes = json.load (open (sys.argv [1]))
berat = [row [0] for row in csv.reader (open (sys.argv [2])) if row [2:3] == ["berat"]]
sys.exit (0 if [n ["code"] for n in nodes] == berat and len (berat) == 5 else 1)
PY

# ----------------------------------------------------------------------
# A municipality

check "municipality: its own view by default is query's" \
    same_view "$office" "/api/v1/views?period=2022" --period 2022 --scope municipality:berat
check "... its county: 403" answers 403 GET "/api/v1/views?period=2022&scope=county:berat" \
    --token "$office"
check "... its neighbour: 403" answers 403 GET \
    "/api/v1/views?period=2022&scope=municipality:kucove" --token "$office"
check "... check: 403" answers 403 GET "/api/v1/check?period=2022" --token "$office"
check "municipality: nodes, itself only" answers 200 GET /api/v1/nodes --token "$office"
check "... berat" json "$work/answer.json" <<'PY'
import json, sys
sys.exit (0 if [n ["code"] for n in json.load (open (sys.argv [1]))] == ["berat"] else 1)
PY

# ----------------------------------------------------------------------
# The public

check "public: the national view is query --public's" \
    same_view "$press" "/api/v1/views?period=2022" --period 2022 --public
check "... a small municipality's, even with public=0" \
    same_view "$press" "/api/v1/views?period=2022&scope=municipality:kucove&public=0" \
    --period 2022 --scope municipality:kucove --public
check "... with hidden cells (c)" grep -q '"c"' "$work/answer.json"
#  serve keeps the publications it worked out, under their figures
#  (central_publications): new events must give a new publication.  Two
#  new cases of a referral kucove had none of in 2022: a 0 shown becomes
#  a 2 hidden.
cp "$work/answer.json" "$work/kucove_before.json"
query --period 2022 --scope municipality:kucove
referral=$(json "$work/query.json" <<'PY'
import json, sys
print (next (k for k, v in json.load (open (sys.argv [1])) ["new_by_referral"].items () if v == 0))
PY
)
for number in 1 2; do
    printf '{"id":"e-kucove-late-%d","type":"case_opened","case":"c-kucove-late-%d","date":"2022-06-15","age":10,"sex":"F","ethnicity":"majority","referral":"%s"}\n' \
        "$number" "$number" "$referral"
done > "$work/late.jsonl"
step "two late cases of kucove, referred by $referral" \
    "$bin/cpsync-node" import --data "$work/data/nodes/kucove" "$work/late.jsonl"
step "the fleet ships them while serve runs" \
    "$bin/cpsync-fleet" --events "$work/events" --data "$work/data" --port "$port" --timeout 300
check "public: kucove's view after they arrived is query --public's" \
    same_view "$press" "/api/v1/views?period=2022&scope=municipality:kucove" \
    --period 2022 --scope municipality:kucove --public
check "... with their referral hidden, where it showed 0 before" \
    json "$work/kucove_before.json" "$work/answer.json" "$referral" <<'PY'
import json, sys
before, after = (json.load (open (path)) ["new_by_referral"] [sys.argv [3]] for path in sys.argv [1:3])
sys.exit (0 if before == 0 and after == "c" else 1)
PY
#  Disclosure control does not solve between periods (docs/design.md 11):
#  a year beside its quarters would give hidden cells away.
check "public: a quarter: 403" \
    answers 403 GET "/api/v1/views?period=2022-Q1&scope=municipality:kucove" --token "$press"
check "... saying the public sees whole years only" grep -q "whole years only" "$work/answer.json"
year=$(date +%Y)
check "public: the year in progress ($year): 403" \
    answers 403 GET "/api/v1/views?period=$year&scope=national" --token "$press"
check "... saying the public sees years that are over only" \
    grep -q "years that are over only" "$work/answer.json"
check "... an operator's public=1 of it is served" \
    same_view "$op" "/api/v1/views?period=$year&scope=national&public=1" \
    --period "$year" --scope national --public
check "... an operator's public=1 quarter is served" \
    same_view "$op" "/api/v1/views?period=2022-Q1&scope=municipality:kucove&public=1" \
    --period 2022-Q1 --scope municipality:kucove --public
#  Nor between catalogue versions: under catalogue 1 the codes catalogue 2
#  added count in their dimension's other.
check "public: catalogue 1 beside the central's 2: 403" \
    answers 403 GET "/api/v1/views?period=2022&scope=municipality:kucove&catalogue=1" --token "$press"
check "... saying the public sees the newest catalogue's figures only" \
    grep -q "newest catalogue's figures only" "$work/answer.json"
check "... the central's own catalogue asked by its number is served" \
    same_view "$press" "/api/v1/views?period=2022&scope=municipality:kucove&catalogue=2" \
    --period 2022 --scope municipality:kucove --public --catalogue 2
check "... an operator's public=1 under catalogue 1 is served" \
    same_view "$op" "/api/v1/views?period=2022&scope=municipality:kucove&catalogue=1&public=1" \
    --period 2022 --scope municipality:kucove --public --catalogue 1
check "public: nodes: 403" answers 403 GET /api/v1/nodes --token "$press"
check "public: check: 403" answers 403 GET "/api/v1/check?period=2022" --token "$press"
check "... logged" grep -q "press (public) asked /api/v1/nodes" "$serve_log"

# ----------------------------------------------------------------------
# Quality, workforce and directives

#  same_as TOKEN PATH ARGS...: the API's answer is cpsync-central ARGS
#  --format json's, byte for byte.
same_as () {
    local token=$1 path=$2; shift 2
    answers 200 GET "$path" --token "$token" || return 1
    CPSYNC_NOW_MS=$now_ms "$bin/cpsync-central" "$@" --data "$central" --format json \
        > "$work/cli.json" || return 1
    cmp -s "$work/answer.json" "$work/cli.json" \
        || { echo "    $(diff "$work/answer.json" "$work/cli.json" | head -5)"; return 1; }
}
check "operator: quality of 2022 is quality's" \
    same_as "$op" "/api/v1/quality?period=2022" quality --period 2022
check "... of county:berat in 2022-Q3" \
    same_as "$op" "/api/v1/quality?period=2022-Q3&scope=county:berat" quality --period 2022-Q3 \
    --scope county:berat
check "operator: workforce of 2022 is workforce's" \
    same_as "$op" "/api/v1/workforce?period=2022" workforce --period 2022
check "... with berat above the target" grep -q '"status": "above_target"' "$work/answer.json"
check "... of municipality:tirane in 2021-Q4" \
    same_as "$op" "/api/v1/workforce?period=2021-Q4&scope=municipality:tirane" workforce \
    --period 2021-Q4 --scope municipality:tirane
check "operator: directives are directive list's" \
    same_as "$op" /api/v1/directives directive list
check "... the one sent, to county:berat" json "$work/answer.json" <<'PY'
import json, sys
listed = json.load (open (sys.argv [1]))
sys.exit (0 if [d ["to"] for d in listed] == ["county:berat"] else 1)
PY

check "county: its quality by default is quality --scope county:berat's" \
    same_as "$county" "/api/v1/quality?period=2022" quality --period 2022 --scope county:berat
check "... its workforce" \
    same_as "$county" "/api/v1/workforce?period=2022" workforce --period 2022 --scope county:berat
check "... one of its municipalities' workforce" \
    same_as "$county" "/api/v1/workforce?period=2022&scope=municipality:kucove" workforce \
    --period 2022 --scope municipality:kucove
check "... its directives: directive list --scope county:berat's" \
    same_as "$county" /api/v1/directives directive list --scope county:berat
check "... the national quality: 403" answers 403 GET "/api/v1/quality?period=2022&scope=national" \
    --token "$county"
check "... another county's workforce: 403" answers 403 GET \
    "/api/v1/workforce?period=2022&scope=county:tirane" --token "$county"
check "... another county's municipality's directives: 403" answers 403 GET \
    "/api/v1/directives?scope=municipality:tirane" --token "$county"
check "... logged" grep -q \
    "berat-county (county) asked /api/v1/workforce for county:tirane: refused" "$serve_log"
check "municipality: its quality is quality --scope municipality:berat's" \
    same_as "$office" "/api/v1/quality?period=2022-Q1" quality --period 2022-Q1 \
    --scope municipality:berat
check "... its directives, with its own state only" \
    same_as "$office" /api/v1/directives directive list --scope municipality:berat
check "... one municipality in the list" json "$work/answer.json" <<'PY'
import json, sys
listed = json.load (open (sys.argv [1]))
sys.exit (0 if [[m ["code"] for m in d ["municipalities"]] for d in listed] == [["berat"]]
          and sum (listed [0] ["counts"].values ()) == 1 else 1)
PY
check "... its county's workforce: 403" answers 403 GET \
    "/api/v1/workforce?period=2022&scope=county:berat" --token "$office"
check "municipality: tirane's directives: 403, none of berat's" answers 403 GET \
    "/api/v1/directives?scope=municipality:tirane" --token "$office"
check "public: quality: 403" answers 403 GET "/api/v1/quality?period=2022" --token "$press"
check "public: workforce: 403" answers 403 GET "/api/v1/workforce?period=2022" --token "$press"
check "public: directives: 403" answers 403 GET /api/v1/directives --token "$press"
check "... logged" grep -q "press (public) asked /api/v1/quality for national: refused" "$serve_log"

check "400: quality without a period" answers 400 GET /api/v1/quality --token "$op"
check "400: quality of 2022-Q5" answers 400 GET "/api/v1/quality?period=2022-Q5" --token "$op"
check "400: quality of 2100 (years to 2099)" answers 400 GET "/api/v1/quality?period=2100" \
    --token "$op"
check "400: workforce of a period that is none" answers 400 GET \
    "/api/v1/workforce?period=last-year" --token "$op"
check "400: workforce of an unknown county" answers 400 GET \
    "/api/v1/workforce?period=2022&scope=county:atlantis" --token "$op"
check "400: quality with an unknown parameter" answers 400 GET \
    "/api/v1/quality?period=2022&format=table" --token "$op"
check "... naming it" grep -q "takes no parameter 'format'" "$work/answer.json"
check "400: directives with a period" answers 400 GET "/api/v1/directives?period=2022" --token "$op"
check "405: DELETE of quality" answers 405 DELETE "/api/v1/quality?period=2022" --token "$op"
check "405: PUT of directives" answers 405 PUT /api/v1/directives --token "$op" --data '{}'
check "... naming GET or POST" grep -q "takes GET or POST only" "$work/answer.json"

#  A directive sent over HTTP.
"$bin/cpsync-central" directive list --data "$central" --format json > "$work/before.json"
#  unsent BODY WORDS: POST of BODY is 400, says WORDS, and sends nothing.
unsent () {
    answers 400 POST /api/v1/directives --token "$op" --data "$1" || return 1
    grep -q -- "$2" "$work/answer.json" \
        || { echo "    $(cat "$work/answer.json")"; return 1; }
    "$bin/cpsync-central" directive list --data "$central" --format json | cmp -s - "$work/before.json"
}
long=$(head -c 1001 /dev/zero | tr '\0' a)
check "POST directive: a body that is not JSON: 400, nothing sent" unsent '{"to": "all",' \
    "must be a JSON object"
check "... an array" unsent '["all"]' "must be a JSON object"
check "... without text" unsent '{"to": "all", "kind": "notice"}' "to, kind and text are needed"
check "... a text that is a number" unsent '{"to": "all", "kind": "notice", "text": 7}' \
    "each a string"
check "... an unknown member" unsent '{"to": "all", "kind": "notice", "text": "x", "from": "me"}' \
    "no member 'from'"
check "... a text of 1001 bytes" unsent "{\"to\": \"all\", \"kind\": \"notice\", \"text\": \"$long\"}" \
    "text is 1001 bytes, over the 1000"
check "... an unknown kind" unsent '{"to": "all", "kind": "order", "text": "x"}' \
    "kind must be referral, deadline or notice"
check "... an unknown municipality" unsent '{"to": "atlantis", "kind": "notice", "text": "x"}' \
    "to 'atlantis' is no municipality code"
check "... a due date that is no date" \
    unsent '{"to": "all", "kind": "deadline", "due": "2030-02-30", "text": "x"}' \
    "due must be a date"
check "... a due date before today" \
    unsent '{"to": "all", "kind": "deadline", "due": "2001-01-01", "text": "x"}' \
    "due is before today"
check "... a control character in the text" \
    unsent '{"to": "all", "kind": "notice", "text": "a\u0007b"}' "control"
check "POST directive as a county: 403" answers 403 POST /api/v1/directives --token "$county" \
    --data '{"to": "berat", "kind": "notice", "text": "x"}'
check "... as the public: 403" answers 403 POST /api/v1/directives --token "$press" \
    --data '{"to": "berat", "kind": "notice", "text": "x"}'
check "... logged" grep -q "berat-county (county) asked /api/v1/directives for national: refused" \
    "$serve_log"
check "... nothing sent" bash -c "'$bin/cpsync-central' directive list --data '$central' \
    --format json | cmp -s - '$work/before.json'"

mv "$central/keys/root.secret" "$work/root.secret"
check "POST directive without the root secret in the data directory: 503" \
    answers 503 POST /api/v1/directives --token "$op" \
    --data '{"to": "kucove", "kind": "notice", "text": "Dorëzoni raportin"}'
check "... saying so" grep -q "root secret is not in the data directory" "$work/answer.json"
check "... nothing sent" bash -c "'$bin/cpsync-central' directive list --data '$central' \
    --format json | cmp -s - '$work/before.json'"
mv "$work/root.secret" "$central/keys/root.secret"
check "POST directive by the operator: 201" answers 201 POST /api/v1/directives --token "$op" \
    --data '{"to": "kucove", "kind": "deadline", "due": "2099-01-31", "text": "Dorëzoni raportin"}'
check "... what directive send --format json says of one it sent" json "$work/answer.json" <<'PY'
import json, sys
sys.exit (0 if json.load (open (sys.argv [1])) == {"id": 2, "kind": "deadline", "to": "kucove",
                                                     "due": "2099-01-31"} else 1)
PY
check "... in the downlink log, signed: directive list shows it" json <(
    "$bin/cpsync-central" directive list --data "$central" --format json) <<'PY'
import json, sys
listed = json.load (open (sys.argv [1]))
sys.exit (0 if len (listed) == 2 and listed [1] ["text"] == "Dorëzoni raportin"
          and "error" not in listed [1] and listed [1] ["due"] == "2099-01-31" else 1)
PY
check "... logged" grep -q "op (operator) sent directive 2 (deadline) to kucove" "$serve_log"
check "... and the list over HTTP is directive list's again" \
    same_as "$op" /api/v1/directives directive list

# ----------------------------------------------------------------------
# Bad input: a status with a JSON body, and the server goes on

check "400: no period" answers 400 GET "/api/v1/views" --token "$op"
check "400: an unknown period" answers 400 GET "/api/v1/views?period=2022-Q5" --token "$op"
check "400: a period before 2000" answers 400 GET "/api/v1/views?period=1999" --token "$op"
check "400: an unknown scope" answers 400 GET "/api/v1/views?period=2022&scope=county:atlantis" \
    --token "$op"
check "400: a scope that is none" answers 400 GET "/api/v1/check?period=2022&scope=everything" \
    --token "$op"
check "400: a catalogue that is not a number" answers 400 GET \
    "/api/v1/views?period=2022&catalogue=two" --token "$op"
check "400: a catalogue the central does not hold" answers 400 GET \
    "/api/v1/views?period=2022&catalogue=99" --token "$op"
check "400: public=yes" answers 400 GET "/api/v1/views?period=2022&public=yes" --token "$op"
check "400: an unknown parameter" answers 400 GET "/api/v1/views?period=2022&format=csv" \
    --token "$op"
check "400: a parameter twice" answers 400 GET "/api/v1/views?period=2022&period=2021" \
    --token "$op"
check "400: a parameter without a value" answers 400 GET "/api/v1/views?period" --token "$op"
check "400: a parameter on a path that takes none" answers 400 GET "/api/v1/nodes?all=1" \
    --token "$op"
check "400: a login body that is not JSON" answers 400 POST /api/v1/login --data '{"name": '
check "400: a login body without a password" answers 400 POST /api/v1/login --data '{"name": "op"}'
check "404: an unknown path" answers 404 GET /api/v1/secrets --token "$op"
check "the root is the dashboard's page, without login" answers 200 GET /
check "... HTML" grep -q '<script src="/dashboard/dashboard.js"' "$work/answer.json"
check "... its script" answers 200 GET /dashboard/dashboard.js
check "... its catalogue labels" answers 200 GET /dashboard/catalogue-v1.json
check "404: an asset it does not have" answers 404 GET /dashboard/secrets.js
check "405: POST of the page" answers 405 POST / --data '{}'
check "405: GET of the login" answers 405 GET /api/v1/login
check "405: POST of views" answers 405 POST "/api/v1/views?period=2022" --token "$op" --data '{}'
check "405: DELETE of the description" answers 405 DELETE /openapi.json
big=$(head -c 5000 /dev/zero | tr '\0' x)
check "413: a login body over 4 KiB" answers 413 POST /api/v1/login \
    --data "{\"name\": \"op\", \"password\": \"$big\"}"
check "401: views without a token" answers 401 GET "/api/v1/views?period=2022"
check "401: an unknown token" answers 401 GET /api/v1/me --token "$(printf '%064d' 0)"
check "401: a token that is not one" answers 401 GET /api/v1/me --token "not-a-token"
start=$SECONDS
check "401: a wrong password" answers 401 POST /api/v1/login \
    --data '{"name": "op", "password": "wrong password here"}'
check "401: an unknown name, the same answer" answers 401 POST /api/v1/login \
    --data '{"name": "nobody", "password": "wrong password here"}'
for attempt in 1 2 3 4 5; do
    answers 401 POST /api/v1/login --data '{"name": "locked", "password": "guess guess guess"}'
done
check "429: a sixth failed login of a name within a minute" answers 429 POST /api/v1/login \
    --data '{"name": "locked", "password": "guess guess guess"}'
check "... even with the right password" answers 429 POST /api/v1/login \
    --data "{\"name\": \"locked\", \"password\": \"$password\"}"
check "... other names unaffected" answers 200 POST /api/v1/login \
    --data "{\"name\": \"op\", \"password\": \"$password\"}"
check "... logged" grep -q "login of locked refused" "$serve_log"

# An account removed loses its tokens; a token logged out is gone.
tirane=$(login tirane-county)
check "a county of Tirana logs in" answers 200 GET "/api/v1/views?period=2022" --token "$tirane"
user remove --name tirane-county
check "... removed from accounts.json: its token is refused (401)" \
    answers 401 GET "/api/v1/views?period=2022" --token "$tirane"
check "... and its login" answers 401 POST /api/v1/login \
    --data "{\"name\": \"tirane-county\", \"password\": \"$password\"}"
office2=$(login berat-office)
check "logout" answers 200 POST /api/v1/logout --token "$office2"
check "... the token is refused after it (401)" answers 401 GET /api/v1/me --token "$office2"
check "... other tokens of the account still work" answers 200 GET /api/v1/me --token "$office"

chmod 644 "$accounts"
check "accounts.json that others may read: no login (401)" answers 401 POST /api/v1/login \
    --data "{\"name\": \"op\", \"password\": \"$password\"}"
check "... nor token" answers 401 GET /api/v1/me --token "$op"
check "... said in the log" grep -q "may be read by others" "$serve_log"
chmod 600 "$accounts"
op=$(login op)

check "after all of it the server still serves" answers 200 GET /api/v1/me --token "$op"
check "... and has not died" kill -0 "$serve_pid"

# ----------------------------------------------------------------------
# Tokens that expire

ttl_port=$(free_port)
"$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$ttl_port" --token-ttl 3 \
    2>> "$serve_log" &
pids+=($!)
for _ in $(seq 100); do
    [ "$(python3 "$client" "$work/up" GET "http://127.0.0.1:$ttl_port/openapi.json")" = 200 ] \
        && break
    sleep 0.1
done
base=http://127.0.0.1:$ttl_port
short=$(login op)
check "--token-ttl 3: the token works at once" answers 200 GET /api/v1/me --token "$short"
sleep 4
check "... and is expired after 4 s (401)" answers 401 GET /api/v1/me --token "$short"

# ----------------------------------------------------------------------
# HTTPS

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$work/key.pem" -out "$work/cert.pem" > /dev/null 2>&1
tls_port=$(free_port)
"$bin/cpsync-central" serve --data "$central" --http "127.0.0.1:$tls_port" \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" 2>> "$serve_log" &
pids+=($!)
base=https://127.0.0.1:$tls_port
for _ in $(seq 100); do
    [ "$(python3 "$client" "$work/up" GET "$base/openapi.json" --cafile "$work/cert.pem")" = 200 ] \
        && break
    sleep 0.1
done
tls=(--cafile "$work/cert.pem")
secure=$(login berat-county)
check "HTTPS: a login over TLS, the certificate verified" [ ${#secure} = 64 ]
check "... the county's view is query's" same_view "$secure" "/api/v1/views?period=2022" \
    --period 2022 --scope county:berat
check "... plain HTTP to it gets no answer" \
    [ "$(python3 "$client" "$work/up" GET "http://127.0.0.1:$tls_port/openapi.json")" = 000 ]
finish
