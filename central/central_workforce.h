/*  central_workforce: children per child protection worker, for every
    municipality, county and the nation (docs/design.md, "Workforce
    coverage").

    Each node reports its unit's child protection workers and its
    municipality's children as a staff_set event, dated from the day it
    holds; the central keeps every one by municipality and date
    (central_store_staffing).  For a period, a municipality's staffing is
    the one in effect on the period's last day.  The legal target is one
    worker per 3,000 children: a municipality is above it when it has more
    than 3,000 children per worker, or children and no worker at all.

    A county and the scope add up the workers and children of the
    municipalities that reported and give the ratio of those sums, with how
    many reported beside it: a municipality without a report is shown as
    such, never counted as no workers.  Whether a figure is above the target
    is decided in whole numbers (children > 3000 * workers); the ratio
    printed is rounded to a tenth.                                          */

#ifndef CENTRAL_WORKFORCE_H_INCLUDED
#define CENTRAL_WORKFORCE_H_INCLUDED

#include "central_store.h"
#include "cp_date.h"
#include "cp_municipality.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

//  The legal target: at most this many children per worker.
#define CENTRAL_WORKFORCE_TARGET 3000

//  Reads, for every municipality (cp_municipality_count () entries of
//  staffing and reported), the staffing in effect on day: the one set for
//  the latest date on or before it (reported true), or none (reported
//  false, staffing zeroed).  Returns 0 or CP_ESTORE.
int
    central_workforce_read (central_store_t *store, int32_t day, central_staffing_t *staffing,
                            bool *reported);

//  The workforce document of period for the municipalities within scope,
//  grouped by county, from staffing and reported as central_workforce_read
//  fills them for the period's last day:
//      {period, scope, as_of, target, counties: [{county, name, GROUP...,
//       municipalities: [{code, name, status, since, workers, children,
//       children_per_worker, above_target}]}], total: {GROUP...}}
//  where GROUP is workers, children, children_per_worker, above_target,
//  reported, no_report, above_target_count; status is "within_target",
//  "above_target" or "no_report"; a ratio with no worker, and every figure
//  of a municipality without a report, is null.  The caller owns it.
json_t *
    central_workforce (const cp_period_t *period, const cp_scope_t *scope,
                       const central_staffing_t *staffing, const bool *reported);

//  Writes the document of central_workforce as a table, by county; its
//  last lines are the scope's ("national: ...") and the municipalities
//  above the target.
void
    central_workforce_print (const json_t *workforce, FILE *out);

#endif
