#!/usr/bin/env python3
"""oracle.py - an independent reference implementation of the caseload view of
docs/events.md (Python 3 standard library only), used by tests as ground truth.

Usage:
  python3 tests/oracle.py --catalogue-dir DIR --catalogue N --period P
          [--scope national|county:CODE|municipality:CODE] [--municipalities FILE]
          [--node-catalogue M] [--today YYYY-MM-DD] [--compact] [-v] FILE.jsonl...
  python3 tests/oracle.py --catalogue-dir DIR --catalogue N --check-report REPORT.json
          [--municipalities FILE] FILE.jsonl...

Each FILE is named <municipality code>.jsonl; files with the same name (in different
directories) are imported into the same municipality, in argument order. Lines are
applied in order per municipality exactly as a node would: a line that breaks a rule
is skipped (counted on stderr; -v prints each with its reason), a line whose id is
already stored is a duplicate (no-op). The view of period P (a year "2022" or a
quarter "2022-Q3", inclusive bounds) under catalogue N is printed as JSON.

Scope defaults to municipality:<code> with one municipality's files, otherwise to
national. county:CODE needs --municipalities (code,name,county CSV).

Catalogues: DIR/catalogue-v1.json, and catalogue-vK.json revising K-1 by its
"changes" (op "add"). The view catalogue (--catalogue) folds codes it does not know
into the dimension's "other". The node catalogue (--node-catalogue, default the
newest in DIR) decides which codes lines may carry.

--check-report computes the national view of the report's period and compares it
with the report (the problem table by --catalogue: managed_by_problem_catalogue_N);
codes the report leaves out are expected to be 0 (except unassessed / unspecified,
expected to be managed minus the sum of the report's rows). Prints differing rows, exits 1 if
any differ, 0 if all match.

Interpretation choices (see the tooling report):
  * order of checks per line: JSON object -> id (1-64 of [A-Za-z0-9_.:-]) ->
    duplicate id -> type -> fields -> state rules. Unknown extra fields are ignored.
    Whitespace-only lines are ignored (not counted as rejected).
  * measure_confirmed needs an earlier-imported measure_taken of that measure for the
    case dated on or before it, a measure with court_confirmation true, and (like
    every event) an open case dated on/after its opening.
  * "latest" risk/problem = greatest date; same date -> the one imported later.
  * municipalities_reporting = municipalities in scope with at least one stored
    event (any date), independent of the period.
"""
import argparse
import calendar
import datetime
import json
import os
import re
import sys

DIMS = ["age_group", "sex", "ethnicity", "referral", "risk", "problem", "close_reason", "measure",
        "school"]
NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MIN_DATE = datetime.date(2000, 1, 1)

TYPE_FIELDS = {
    "case_opened": {"age": None, "sex": "sex", "ethnicity": "ethnicity", "referral": "referral"},
    "risk_assessed": {"level": "risk"},
    "problem_set": {"problem": "problem"},
    "home_visit": {},
    "measure_taken": {"measure": "measure"},
    "measure_confirmed": {"measure": "measure"},
    "school_identified": {"category": "school"},
    "case_closed": {"reason": "close_reason"},
}


# ------------------------------------------------------------------ catalogues

def load_catalogues(directory):
    """Return {version: {dim: [entry dicts in order]}} for every catalogue in directory."""
    path1 = os.path.join(directory, "catalogue-v1.json")
    with open(path1, encoding="utf-8") as f:
        c1 = json.load(f)
    cats = {1: {d: [dict(e) for e in entries] for d, entries in c1["dimensions"].items()}}
    v = 2
    while os.path.exists(os.path.join(directory, "catalogue-v%d.json" % v)):
        with open(os.path.join(directory, "catalogue-v%d.json" % v), encoding="utf-8") as f:
            cv = json.load(f)
        base = cv.get("revises", v - 1)
        dims = {d: [dict(e) for e in entries] for d, entries in cats[base].items()}
        if "dimensions" in cv:  # a full catalogue
            dims = {d: [dict(e) for e in entries] for d, entries in cv["dimensions"].items()}
        for ch in cv.get("changes", []):
            op, dim = ch.get("op"), ch.get("dimension")
            entry = {k: val for k, val in ch.items() if k not in ("op", "dimension")}
            if op == "add":
                dims.setdefault(dim, [])
                if any(e["code"] == entry["code"] for e in dims[dim]):
                    continue
                codes = [e["code"] for e in dims[dim]]
                # keep "other" last
                pos = codes.index("other") if "other" in codes else len(codes)
                dims[dim].insert(pos, entry)
            elif op == "remove":
                dims[dim] = [e for e in dims[dim] if e["code"] != ch["code"]]
            else:
                sys.exit("oracle: catalogue-v%d.json: unsupported change op %r" % (v, op))
        cats[v] = dims
        v += 1
    return cats


def codes_of(cat, dim):
    return [e["code"] for e in cat[dim]]


# ------------------------------------------------------------------ periods

def parse_period(p):
    m = re.fullmatch(r"(\d{4})", p)
    if m:
        y = int(m.group(1))
        return datetime.date(y, 1, 1), datetime.date(y, 12, 31)
    m = re.fullmatch(r"(\d{4})-Q([1-4])", p)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        start = datetime.date(y, 3 * q - 2, 1)
        last_month = 3 * q
        end = datetime.date(y, last_month, calendar.monthrange(y, last_month)[1])
        return start, end
    raise ValueError("period must be YYYY or YYYY-Qn: %r" % p)


def parse_date(s, today):
    if not isinstance(s, str):
        return None, "date: not a string"
    m = DATE_RE.match(s)
    if not m:
        return None, "date: not YYYY-MM-DD"
    try:
        d = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None, "date: not a calendar date"
    if d < MIN_DATE:
        return None, "date: before 2000-01-01"
    if d > today + datetime.timedelta(days=1):
        return None, "date: after today + 1 day"
    return d, None


# ------------------------------------------------------------------ node state

class Case:
    __slots__ = ("opened", "age", "sex", "ethnicity", "referral", "closed", "reason", "max_date",
                 "risks", "problems", "taken")

    def __init__(self, opened, age, sex, ethnicity, referral):
        self.opened = opened
        self.age, self.sex, self.ethnicity, self.referral = age, sex, ethnicity, referral
        self.closed = None
        self.reason = None
        self.max_date = opened
        self.risks = []      # (date, seq, level)
        self.problems = []   # (date, seq, problem)
        self.taken = {}      # measure -> [dates]


class Municipality:
    def __init__(self, code, node_cat):
        self.code = code
        self.node_cat = node_cat
        self.ids = set()
        self.cases = {}
        self.visits = []     # dates
        self.measures = []   # (date, measure)
        self.confirmed = []  # (date, measure)
        self.school = []     # (date, category)
        self.seq = 0
        self.accepted = self.duplicates = self.rejected = self.blank = 0
        court = {e["code"]: bool(e.get("court_confirmation")) for e in node_cat["measure"]}
        self.court = court
        self.valid = {d: set(codes_of(node_cat, d)) for d in node_cat}
        self.age_max = max(e["max"] for e in node_cat["age_group"])
        self.age_min = min(e["min"] for e in node_cat["age_group"])

    def apply(self, line, today):
        """Return None if stored, 'duplicate', or a rejection reason."""
        try:
            ev = json.loads(line)
        except ValueError as exc:
            return "not valid JSON (%s)" % exc
        if not isinstance(ev, dict):
            return "not a JSON object"
        eid = ev.get("id")
        if not isinstance(eid, str) or not NAME_RE.match(eid):
            return "id: missing or not 1-64 characters of [A-Za-z0-9_.:-]"
        if eid in self.ids:
            return "duplicate"
        typ = ev.get("type")
        if typ not in TYPE_FIELDS:
            return "type: unknown or missing"
        cs = ev.get("case")
        if not isinstance(cs, str) or not NAME_RE.match(cs):
            return "case: missing or not 1-64 characters of [A-Za-z0-9_.:-]"
        if "date" not in ev:
            return "date: missing"
        date, err = parse_date(ev["date"], today)
        if err:
            return err
        vals = {}
        for field, dim in TYPE_FIELDS[typ].items():
            if field not in ev:
                return "%s: missing" % field
            v = ev[field]
            if dim is None:  # age
                if isinstance(v, bool) or not isinstance(v, int):
                    return "age: not a whole number"
                if not (self.age_min <= v <= self.age_max):
                    return "age: out of range %d-%d" % (self.age_min, self.age_max)
            else:
                if not isinstance(v, str) or v not in self.valid[dim]:
                    return "%s: not a code of dimension %s" % (field, dim)
            vals[field] = v

        c = self.cases.get(cs)
        if typ == "case_opened":
            if c is not None:
                return "case: already opened"
        else:
            if c is None:
                return "case: not opened"
            if c.closed is not None:
                return "case: already closed"
            if date < c.opened:
                return "date: before the case's opening"
        if typ == "case_closed" and date < c.max_date:
            return "date: before an event already recorded for the case"
        if typ == "measure_confirmed":
            m = vals["measure"]
            if not self.court.get(m):
                return "measure: not one with court confirmation"
            if not any(d <= date for d in c.taken.get(m, ())):
                return "measure: no measure_taken of it precedes the confirmation"

        # store
        self.ids.add(eid)
        self.seq += 1
        if typ == "case_opened":
            self.cases[cs] = Case(date, vals["age"], vals["sex"], vals["ethnicity"], vals["referral"])
            return None
        if date > c.max_date:
            c.max_date = date
        if typ == "risk_assessed":
            c.risks.append((date, self.seq, vals["level"]))
        elif typ == "problem_set":
            c.problems.append((date, self.seq, vals["problem"]))
        elif typ == "home_visit":
            self.visits.append(date)
        elif typ == "measure_taken":
            c.taken.setdefault(vals["measure"], []).append(date)
            self.measures.append((date, vals["measure"]))
        elif typ == "measure_confirmed":
            self.confirmed.append((date, vals["measure"]))
        elif typ == "school_identified":
            self.school.append((date, vals["category"]))
        elif typ == "case_closed":
            c.closed = date
            c.reason = vals["reason"]
        return None

    def import_file(self, path, today, verbose):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    self.blank += 1
                    continue
                r = self.apply(line, today)
                if r is None:
                    self.accepted += 1
                elif r == "duplicate":
                    self.duplicates += 1
                else:
                    self.rejected += 1
                    if verbose:
                        print("%s:%d: %s" % (path, lineno, r), file=sys.stderr)


# ------------------------------------------------------------------ view

def empty_view(view_cat):
    def zeros(dim, extra=None):
        d = {c: 0 for c in codes_of(view_cat, dim)}
        if extra:
            d[extra] = 0
        return d
    return {
        "managed": 0,
        "new": 0,
        "new_by_age_group": zeros("age_group"),
        "new_by_sex": zeros("sex"),
        "new_by_ethnicity": zeros("ethnicity"),
        "new_by_referral": zeros("referral"),
        "closed": 0,
        "closed_by_reason": zeros("close_reason"),
        "managed_by_risk": zeros("risk", "unassessed"),
        "managed_by_problem": zeros("problem", "unspecified"),
        "home_visits": 0,
        "measures_taken": zeros("measure"),
        "measures_court_confirmed": zeros("measure"),
        "school_identified": zeros("school"),
    }


def fold(view_cat, dim, code):
    codes = codes_of(view_cat, dim)
    if code in codes:
        return code
    if "other" in codes:
        return "other"
    raise KeyError("code %r of dimension %s has no place under this catalogue" % (code, dim))


def age_group(view_cat, age):
    for e in view_cat["age_group"]:
        if e["min"] <= age <= e["max"]:
            return e["code"]
    raise KeyError("age %d has no group" % age)


def latest(entries, end):
    best = None
    for e in entries:
        if e[0] <= end and (best is None or (e[0], e[1]) > (best[0], best[1])):
            best = e
    return best


def add_municipality(view, mun, view_cat, start, end):
    for c in mun.cases.values():
        if c.opened <= end and not (c.closed is not None and c.closed < start):
            view["managed"] += 1
            r = latest(c.risks, end)
            view["managed_by_risk"][fold(view_cat, "risk", r[2]) if r else "unassessed"] += 1
            p = latest(c.problems, end)
            view["managed_by_problem"][fold(view_cat, "problem", p[2]) if p else "unspecified"] += 1
        if start <= c.opened <= end:
            view["new"] += 1
            view["new_by_age_group"][age_group(view_cat, c.age)] += 1
            view["new_by_sex"][fold(view_cat, "sex", c.sex)] += 1
            view["new_by_ethnicity"][fold(view_cat, "ethnicity", c.ethnicity)] += 1
            view["new_by_referral"][fold(view_cat, "referral", c.referral)] += 1
        if c.closed is not None and start <= c.closed <= end:
            view["closed"] += 1
            view["closed_by_reason"][fold(view_cat, "close_reason", c.reason)] += 1
    view["home_visits"] += sum(1 for d in mun.visits if start <= d <= end)
    for d, m in mun.measures:
        if start <= d <= end:
            view["measures_taken"][fold(view_cat, "measure", m)] += 1
    for d, m in mun.confirmed:
        if start <= d <= end:
            view["measures_court_confirmed"][fold(view_cat, "measure", m)] += 1
    for d, s in mun.school:
        if start <= d <= end:
            view["school_identified"][fold(view_cat, "school", s)] += 1


def compute_view(munis, in_scope, view_cat, catno, period, scope):
    start, end = parse_period(period)
    view = empty_view(view_cat)
    reporting = 0
    for code, mun in munis.items():
        if not in_scope(code):
            continue
        if mun.accepted:
            reporting += 1
        add_municipality(view, mun, view_cat, start, end)
    out = {"period": period, "scope": scope, "catalogue": catno, "municipalities_reporting": reporting}
    out.update(view)
    return out


# ------------------------------------------------------------------ report check

def check_report(view, report, catno):
    diffs = []
    for key, val in view.items():
        if key in ("period", "scope", "catalogue", "municipalities_reporting"):
            continue
        rkey = key
        if key == "managed_by_problem":
            rkey = "managed_by_problem_catalogue_%d" % catno
            if rkey not in report:
                rkey = "managed_by_problem"
        if rkey not in report:
            diffs.append("%s: missing in report (view %s)" % (key, json.dumps(val)))
            continue
        rv = report[rkey]
        if isinstance(val, dict):
            if not isinstance(rv, dict):
                diffs.append("%s: report value is not an object" % key)
                continue
            implied = {}
            if key in ("managed_by_risk", "managed_by_problem") and isinstance(report.get("managed"), int):
                # a report that leaves out 'unassessed'/'unspecified' implies managed - sum
                none = "unassessed" if key == "managed_by_risk" else "unspecified"
                if none not in rv:
                    implied[none] = report["managed"] - sum(v for v in rv.values() if isinstance(v, int))
            for code in list(val) + [c for c in rv if c not in val]:
                a, b = val.get(code), rv.get(code, implied.get(code, 0))
                if a is None:
                    diffs.append("%s.%s: view has no such code, report=%s" % (key, code, b))
                elif a != b:
                    diffs.append("%s.%s: view=%d report=%d" % (key, code, a, b))
        elif val != rv:
            diffs.append("%s: view=%d report=%s" % (key, val, rv))
    if "school_identified_total" in report:
        tot = sum(view["school_identified"].values())
        if tot != report["school_identified_total"]:
            diffs.append("school_identified_total: view=%d report=%d" % (tot, report["school_identified_total"]))
    return diffs


# ------------------------------------------------------------------ main

def read_municipalities(path):
    out = {}
    with open(path, encoding="utf-8-sig") as f:
        for i, line in enumerate(f):
            line = line.strip()
            if not line:
                continue
            parts = [p.strip() for p in line.split(",")]
            if i == 0 and parts[0] == "code":
                continue
            out[parts[0]] = parts[2] if len(parts) > 2 else parts[0]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="reference caseload view of docs/events.md")
    ap.add_argument("--catalogue-dir", required=True)
    ap.add_argument("--catalogue", type=int, required=True, help="catalogue of the view")
    ap.add_argument("--node-catalogue", type=int, help="catalogue nodes accept codes of (default newest)")
    ap.add_argument("--period")
    ap.add_argument("--scope")
    ap.add_argument("--municipalities")
    ap.add_argument("--today", help="the node's today (default: the real date)")
    ap.add_argument("--check-report")
    ap.add_argument("--compact", action="store_true", help="one-line JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each rejected line")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)

    cats = load_catalogues(a.catalogue_dir)
    if a.catalogue not in cats:
        ap.error("no catalogue %d in %s" % (a.catalogue, a.catalogue_dir))
    node_no = a.node_catalogue or max(cats)
    if node_no not in cats:
        ap.error("no catalogue %d in %s" % (node_no, a.catalogue_dir))
    view_cat, node_cat = cats[a.catalogue], cats[node_no]
    today = datetime.date.fromisoformat(a.today) if a.today else datetime.date.today()

    mun_county = read_municipalities(a.municipalities) if a.municipalities else None
    munis = {}
    for path in a.files:
        base = os.path.basename(path)
        code = base[:-len(".jsonl")] if base.endswith(".jsonl") else os.path.splitext(base)[0]
        if mun_county is not None and code not in mun_county:
            sys.exit("oracle: %s: %r is not a municipality of %s" % (path, code, a.municipalities))
        mun = munis.setdefault(code, Municipality(code, node_cat))
        before = (mun.accepted, mun.duplicates, mun.rejected)
        mun.import_file(path, today, a.verbose)
        print("oracle: %s: %d imported, %d duplicate, %d rejected" % (
            path, mun.accepted - before[0], mun.duplicates - before[1], mun.rejected - before[2]),
            file=sys.stderr)
    total_rej = sum(m.rejected for m in munis.values())
    print("oracle: skipped (rejected) lines: %d, duplicates: %d" % (
        total_rej, sum(m.duplicates for m in munis.values())), file=sys.stderr)

    if a.check_report:
        with open(a.check_report, encoding="utf-8") as f:
            report = json.load(f)
        period = report.get("period", a.period)
        if a.period and a.period != period:
            ap.error("--period %s differs from the report's period %s" % (a.period, period))
        view = compute_view(munis, lambda c: True, view_cat, a.catalogue, period, "national")
        diffs = check_report(view, report, a.catalogue)
        for d in diffs:
            print(d)
        if diffs:
            print("report check: %d differing rows (catalogue %d, period %s, %d municipalities reporting)"
                  % (len(diffs), a.catalogue, period, view["municipalities_reporting"]))
            return 1
        print("report check: the view equals the report in every row (catalogue %d, period %s, "
              "%d municipalities reporting)" % (a.catalogue, period, view["municipalities_reporting"]))
        return 0

    if not a.period:
        ap.error("--period is required")
    try:
        parse_period(a.period)
    except ValueError as exc:
        ap.error(str(exc))
    scope = a.scope or ("municipality:%s" % next(iter(munis)) if len(munis) == 1 else "national")
    if scope == "national":
        in_scope = lambda c: True
    elif scope.startswith("county:"):
        if mun_county is None:
            ap.error("county scope needs --municipalities")
        county = scope[len("county:"):]
        if county not in mun_county.values():
            ap.error("no county %r" % county)
        in_scope = lambda c: mun_county.get(c) == county
    elif scope.startswith("municipality:"):
        mcode = scope[len("municipality:"):]
        if mun_county is not None and mcode not in mun_county:
            ap.error("no municipality %r" % mcode)
        in_scope = lambda c: c == mcode
    else:
        ap.error("scope must be national, county:CODE or municipality:CODE")
    view = compute_view(munis, in_scope, view_cat, a.catalogue, a.period, scope)
    if a.compact:
        print(json.dumps(view, ensure_ascii=False, separators=(",", ":")))
    else:
        print(json.dumps(view, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
