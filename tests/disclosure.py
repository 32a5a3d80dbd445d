#!/usr/bin/env python3
"""An attacker's check of published figures, independent of cpsync's own.

Reads, for one period, the published (--public) and the operators' (exact)
views of every scope: the nation, its 12 counties and 61 municipalities,
as files DIR/public/<scope>.json and DIR/exact/<scope>.json (the scope's
":" as "_").  Then checks that

  - every shown figure is the exact one, and every cell of 1 to THRESHOLD
    is hidden ("c");
  - no hidden cell can be worked out from what is shown: with the
    equations that hold between the figures of one period (each breakdown
    of the new, managed and closed cases adds up to them; a county's
    figures are its municipalities' sums, the nation's the counties'), the
    hidden cells are the unknowns, and a cell is determined when its unit
    vector lies in the row space of the equations restricted to the
    unknowns.  That is computed exactly, by row reduction modulo a large
    prime (the coefficients are small integers, so a rank over the
    rationals shows modulo the prime too, unless the prime divides a
    minor: with one of 2^61 - 1, no such minor of these matrices exists).

Prints a line per broken promise and a summary; exits 1 when any.

    disclosure.py DIR THRESHOLD MUNICIPALITIES_CSV

With --export, the periods of a publication are read from the figures.csv
of `cpsync-central export --csv DIR --public` and of the exact export
beside it, and consecutive years are solved together, as a reader of
several years can: for every scope, the cases managed in a year are
those carried in from the year before (its managed less its closed) and
the new ones, so

    managed (Y) - new (Y) - managed (Y-1) + closed (Y-1) = 0

joins the managed, new and closed cases of all the years into one system
(and in the first year, before which nothing was open, managed = new).

    disclosure.py --export PUBLIC_DIR EXACT_DIR THRESHOLD MUNICIPALITIES_CSV [--alone]

(--alone: each year on its own, without those equations; for a control.)
"""

import csv
import json
import os
import sys

PRIME = (1 << 61) - 1
ROWS = {"new": ["new_by_age_group", "new_by_sex", "new_by_ethnicity", "new_by_referral"],
        "managed": ["managed_by_risk", "managed_by_problem"],
        "closed": ["closed_by_reason"]}
TOTALS = ["managed", "new", "closed", "home_visits"]
BREAKDOWNS = [b for row in ROWS.values() for b in row] + [
    "measures_taken", "measures_court_confirmed", "school_identified"]


def load (directory, scope):
    with open (os.path.join (directory, scope.replace (":", "_") + ".json")) as file:
        return json.load (file)


def cells (view):
    """(key, code) -> figure of a view; code "" for a total."""
    out = {}
    for key in TOTALS:
        out [(key, "")] = view [key]
    for key in BREAKDOWNS:
        for code, figure in view [key].items ():
            out [(key, code)] = figure
    return out


def family (cell):
    key = cell [0]
    for total, breakdowns in ROWS.items ():
        if key == total or key in breakdowns:
            return total
    return cell


def determined (equations, unknowns):
    """The unknowns fixed by the equations (lists of (variable, coefficient))."""
    rows = []
    for equation in equations:
        row = {}
        for variable, coefficient in equation:
            if variable in unknowns:
                row [variable] = (row.get (variable, 0) + coefficient) % PRIME
        row = {v: c for v, c in row.items () if c}
        if row:
            rows.append (row)
    pivots = {}                     # pivot variable -> reduced row
    for row in rows:
        for variable, reduced in pivots.items ():
            if variable in row:
                factor = row [variable]
                for v, c in reduced.items ():
                    row [v] = (row.get (v, 0) - factor * c) % PRIME
                row = {v: c for v, c in row.items () if c}
        if not row:
            continue
        variable = min (row)
        inverse = pow (row [variable], PRIME - 2, PRIME)
        row = {v: c * inverse % PRIME for v, c in row.items ()}
        for other, reduced in pivots.items ():
            if variable in reduced:
                factor = reduced [variable]
                for v, c in row.items ():
                    reduced [v] = (reduced.get (v, 0) - factor * c) % PRIME
                pivots [other] = {v: c for v, c in reduced.items () if c}
        pivots [variable] = row
    return [variable for variable, row in pivots.items () if len (row) == 1]


def hierarchy (path):
    """The scopes (nation, counties, municipalities) and each one's parent."""
    with open (path, newline = "", encoding = "utf-8") as file:
        rows = list (csv.DictReader (file))
    counties = []
    for row in rows:
        if row ["county"] not in counties:
            counties.append (row ["county"])
    # The county column gives the county's code (its seat's).
    scopes = ["national"] + ["county:" + c for c in counties] + [
        "municipality:" + row ["code"] for row in rows]
    parent = {"national": None}
    for c in counties:
        parent ["county:" + c] = "national"
    for row in rows:
        parent ["municipality:" + row ["code"]] = "county:" + row ["county"]
    return scopes, parent


def read_export (directory):
    """period -> scope -> (key, code) -> figure, or "c" when suppressed."""
    out = {}
    with open (os.path.join (directory, "figures.csv"), newline = "", encoding = "utf-8") as file:
        for row in csv.DictReader (file):
            if row ["measure"] == "municipalities_reporting":
                continue
            cell = (row ["measure"], row ["key"])
            figure = "c" if row ["suppressed"] == "true" else int (row ["value"])
            out.setdefault (row ["period"], {}).setdefault (row ["scope"], {}) [cell] = figure
    return out


def check_shown (exact, shown, threshold, label):
    """Shown figures are the exact ones, small ones hidden; returns the broken."""
    broken = 0
    for cell, figure in exact.items ():
        published = shown.get (cell)
        if published == "c":
            continue
        if published != figure:
            print ("  %s %s: published %r, the figure is %r" % (label, cell, published, figure))
            broken += 1
        elif 1 <= figure <= threshold:
            print ("  %s %s: %d shown, though 1 to %d" % (label, cell, figure, threshold))
            broken += 1
    return broken


def period_equations (period, scopes, parent, exact):
    """The equations of one period: rows and sums; variables (period, scope, cell)."""
    equations = []
    for scope in scopes:
        for total, breakdowns in ROWS.items ():
            for breakdown in breakdowns:
                equation = [((period, scope, (total, "")), 1)]
                equation += [((period, scope, cell), -1)
                             for cell in exact [scope] if cell [0] == breakdown]
                equations.append (equation)
        children = [s for s in scopes if parent [s] == scope]
        if children:
            for cell in exact [scope]:
                equations.append ([((period, scope, cell), 1)]
                                  + [((period, child, cell), -1) for child in children])
    return equations


def solve (equations, hidden, family_of, exact):
    """Prints and counts the hidden variables the equations determine, a
    family of cells (family_of) at a time."""
    broken = 0
    families = {}
    for variable in hidden:
        families.setdefault (family_of (variable), set ()).add (variable)
    for name, unknowns in families.items ():
        mine = [e for e in equations if family_of (e [0] [0]) == name]
        for variable in determined (mine, unknowns):
            period, scope, cell = variable
            print ("  %s %s %s: hidden, but the shown figures give it (%r)"
                   % (period, scope, cell, exact [period] [scope] [cell]))
            broken += 1
    return broken


def main_export (public_dir, exact_dir, threshold, municipalities, alone):
    scopes, parent = hierarchy (municipalities)
    shown, exact = read_export (public_dir), read_export (exact_dir)
    broken = 0
    equations = []
    for period in sorted (shown):
        for scope in scopes:
            broken += check_shown (exact [period] [scope], shown [period] [scope], threshold,
                                   period + " " + scope)
        equations += period_equations (period, scopes, parent, exact [period])
    years = sorted (int (p) for p in shown)
    if [str (y) for y in years] != sorted (shown):
        print ("  a publication of whole years was expected, not %s" % sorted (shown))
        broken += 1
    stock = [("managed", ""), ("new", ""), ("closed", "")]
    for scope in scopes if not alone else []:
        first = str (years [0])
        equations.append ([((first, scope, stock [0]), 1), ((first, scope, stock [1]), -1)])
        for year in years [1:]:
            this, last = str (year), str (year - 1)
            equations.append ([((this, scope, stock [0]), 1), ((this, scope, stock [1]), -1),
                               ((last, scope, stock [0]), -1), ((last, scope, stock [2]), 1)])
    hidden = {(period, scope, cell) for period in shown for scope in scopes
              for cell, v in shown [period] [scope].items () if v == "c"}
    # The managed, new and closed cases of every year are one family now.
    def family_of (variable):
        name = family (variable [2])
        return "stock and flows" if name in ROWS and not alone else (variable [0], name)
    broken += solve (equations, hidden, family_of, exact)
    total = sum (len (c) for p in shown.values () for c in p.values ())
    print ("%d of %d cells hidden over %d years of %d scopes; %d promise(s) broken"
           % (len (hidden), total, len (years), len (scopes), broken))
    sys.exit (1 if broken else 0)


def main ():
    if sys.argv [1] == "--export":
        main_export (sys.argv [2], sys.argv [3], int (sys.argv [4]), sys.argv [5],
                     sys.argv [6:] == ["--alone"])
    directory, threshold = sys.argv [1], int (sys.argv [2])
    scopes, parent = hierarchy (sys.argv [3])
    broken = 0
    shown = {}
    exact = {}
    for scope in scopes:
        exact [scope] = cells (load (os.path.join (directory, "exact"), scope))
        shown [scope] = cells (load (os.path.join (directory, "public"), scope))
        broken += check_shown (exact [scope], shown [scope], threshold, scope)
    hidden = {("", scope, cell) for scope in scopes
              for cell, v in shown [scope].items () if v == "c"}
    equations = period_equations ("", scopes, parent, exact)
    broken += solve (equations, hidden, lambda variable: family (variable [2]), {"": exact})
    total = sum (len (c) for c in shown.values ())
    print ("%d of %d cells hidden over %d scopes; %d promise(s) broken"
           % (len (hidden), total, len (scopes), broken))
    sys.exit (1 if broken else 0)


if __name__ == "__main__":
    main ()
