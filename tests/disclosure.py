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


def main ():
    directory, threshold = sys.argv [1], int (sys.argv [2])
    with open (sys.argv [3], newline = "", encoding = "utf-8") as file:
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

    broken = 0
    shown = {}
    exact = {}
    for scope in scopes:
        exact [scope] = cells (load (os.path.join (directory, "exact"), scope))
        shown [scope] = cells (load (os.path.join (directory, "public"), scope))
        for cell, figure in exact [scope].items ():
            published = shown [scope].get (cell)
            if published == "c":
                continue
            if published != figure:
                print ("  %s %s: published %r, the figure is %r" % (scope, cell, published, figure))
                broken += 1
            elif 1 <= figure <= threshold:
                print ("  %s %s: %d shown, though 1 to %d" % (scope, cell, figure, threshold))
                broken += 1

    hidden = {(scope, cell) for scope in scopes for cell, v in shown [scope].items () if v == "c"}
    equations = []
    for scope in scopes:
        for total, breakdowns in ROWS.items ():
            for breakdown in breakdowns:
                equation = [((scope, (total, "")), 1)]
                equation += [((scope, cell), -1) for cell in exact [scope] if cell [0] == breakdown]
                equations.append (equation)
        children = [s for s in scopes if parent [s] == scope]
        if children:
            for cell in exact [scope]:
                equations.append ([((scope, cell), 1)] + [((child, cell), -1) for child in children])
    families = {}
    for variable in hidden:
        families.setdefault (family (variable [1]), set ()).add (variable)
    for name, unknowns in families.items ():
        mine = [e for e in equations if family (e [0] [0] [1]) == name]
        for scope, cell in determined (mine, unknowns):
            print ("  %s %s: hidden, but the shown figures give it (%r)"
                   % (scope, cell, exact [scope] [cell]))
            broken += 1
    total = sum (len (c) for c in shown.values ())
    print ("%d of %d cells hidden over %d scopes; %d promise(s) broken"
           % (len (hidden), total, len (scopes), broken))
    sys.exit (1 if broken else 0)


if __name__ == "__main__":
    main ()
