"""The chaos test's verdict on figures: every view the central and the
nodes printed against tests/oracle.py, computed from the event files.

    check.py SOURCE_DIR VIEWS_DIR EVENTS_DIR PERIOD TODAY

EVENTS_DIR holds CODE.jsonl, every event each node was given (in the order
it imported them).  VIEWS_DIR holds what the test printed: central/national.json,
central/county-CODE.json, central/municipality-CODE.json and node/CODE.json
(each node's own view).  Each is compared with the oracle's view of the
same scope; a difference is printed, key by key, and makes the exit code 1.
The oracle reads the files once for all scopes, so 61 municipalities cost
one pass.
"""
import json
import os
import sys

source, views, events, period, today = sys.argv [1:6]
sys.path.insert (0, os.path.join (source, "tests"))
import oracle                   # noqa: E402  (tests/oracle.py)
import datetime                 # noqa: E402

catalogues = oracle.load_catalogues (os.path.join (source, "protocol", "catalogue"))
counties = oracle.read_municipalities (os.path.join (source, "protocol", "catalogue",
                                                     "municipalities.csv"))
view_catalogue = catalogues [1]
day = datetime.date.fromisoformat (today)
munis = {}
for name in sorted (os.listdir (events)):
    if name.endswith (".jsonl"):
        code = name [:-len (".jsonl")]
        municipality = munis.setdefault (code, oracle.Municipality (code, view_catalogue))
        municipality.import_file (os.path.join (events, name), day, False)


def expected (scope):
    if scope == "national":
        in_scope = lambda code: True
    elif scope.startswith ("county:"):
        in_scope = lambda code: counties.get (code) == scope [len ("county:"):]
    else:
        in_scope = lambda code: code == scope [len ("municipality:"):]
    return oracle.compute_view (munis, in_scope, view_catalogue, 1, period, scope)


def compare (path, scope):
    try:
        with open (path) as f:
            view = json.load (f)
    except (OSError, ValueError) as error:
        print ("    %s: unreadable (%s)" % (path, error))
        return 1
    want = expected (scope)
    differing = [key for key in sorted (set (view) | set (want))
                 if key not in ("scope",) and view.get (key) != want.get (key)]
    for key in differing [:6]:
        print ("    %s %s: shown %s, oracle %s" % (os.path.relpath (path, views), key,
                                                  json.dumps (view.get (key)) [:120],
                                                  json.dumps (want.get (key)) [:120]))
    return 1 if differing else 0


failures = checked = 0
for name in sorted (os.listdir (os.path.join (views, "central"))):
    stem = name [:-len (".json")]
    scope = "national" if stem == "national" else stem.replace ("-", ":", 1)
    failures += compare (os.path.join (views, "central", name), scope)
    checked += 1
for name in sorted (os.listdir (os.path.join (views, "node"))):
    failures += compare (os.path.join (views, "node", name), "municipality:" + name [:-5])
    checked += 1
print ("    %d views compared with the oracle, %d differ" % (checked, failures))
sys.exit (1 if failures else 0)
