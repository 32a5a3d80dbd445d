/*  central_report: the documents the central answers with.

    A view of a period and scope (the figures of docs/events.md, exact or
    for publication with small cells hidden), the nodes (each
    municipality's sync cursor), the consistency check of views, the
    completeness and timeliness of a period's reporting, and the workforce
    document read from the store.  cpsync-central's query, nodes, check,
    quality and workforce print them, and its HTTP face (central_http)
    sends them, so both give the same bytes for the same question.  Each
    function reads an open store (read-only is enough) in short read
    transactions and writes nothing.                                      */

#ifndef CENTRAL_REPORT_H_INCLUDED
#define CENTRAL_REPORT_H_INCLUDED

#include "central_publications.h"
#include "central_store.h"
#include "cp_date.h"
#include "cp_municipality.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

//  Writes the view of scope (canonical, as cp_scope_format writes it) for
//  period under catalogue version (≤ the store's) in format "json",
//  "table" or "csv", labels in lang ("sq" or "en").  With threshold > 0 it
//  is the view for publication: cells of 1 to threshold, and every cell
//  the shown ones would give away over the whole hierarchy of the period,
//  as "c" (cp_suppress), taken from publications when these figures were
//  worked out before (NULL: worked out every time).  Returns 0, or a CP_
//  error (CP_ESTORE, CP_EIO, CP_EUSAGE for a format it does not know).
int
    central_report_view (central_store_t *store, const cp_period_t *period, const char *scope,
                         int version, int threshold, central_publications_t *publications,
                         const char *format, const char *lang, FILE *out);

//  The consistency rules (cp_check) on the central's view of scope, or of
//  every scope of the hierarchy when scope is NULL (the nation, the
//  counties, the municipalities).  Returns a new array of entries
//  {source "central", scope, findings, not_applicable}, adding the number
//  of findings to *found; NULL with *rc set when the store fails.
json_t *
    central_report_check (central_store_t *store, const cp_period_t *period,
                          const cp_scope_t *scope, int version, int *found, int *rc);

//  Checks one document (a view, or a published table in its form) and
//  appends its entry, named by source and scope, to checked.  Returns the
//  number of findings.
int
    central_report_check_document (json_t *checked, const char *source, const char *scope,
                                   const json_t *document);

//  The check's document: {period, catalogue, broken, checked}; takes
//  checked.  The caller owns the result.
json_t *
    central_report_check_json (const char *period, int version, int broken, json_t *checked);

//  The nodes of the municipalities within scope (NULL: all of them), one
//  object each (code, name, county, last_seen, log, acked, head, backlog,
//  lag_seconds, batches, events, duplicates, duplicate_events, conflicts,
//  quarantined, archived, log_changed, downlink: its node's downlink
//  cursor), from cursors (one per
//  municipality, as central_store_cursors fills them) as of now (msecs
//  since the epoch).  The caller owns the array.
json_t *
    central_report_nodes (const central_cursor_t *cursors, const cp_scope_t *scope,
                          int64_t now);

//  Completeness and timeliness of a period (docs/design.md, section 13):
//  for each municipality within scope, grouped by county, whether its node
//  is caught up (from cursors, as central_report_nodes), when the events
//  dated in the period arrived against the period's deadline (on_time,
//  late, missing, or pending while the deadline has not passed), the
//  events that were dated after the central's today when they arrived,
//  and the share of municipalities that reported on time per county and
//  for the scope; reconciliation is "unknown" until
//  central_report_quality_reconciled fills it.  arrivals
//  (central_store_arrivals) and cursors hold one entry per municipality;
//  deadline_days is the period's year's (central_store_deadlines) and
//  deadline_set whether an operator set it; now (ms) and today (a day
//  number) are the central's.  The caller owns the document.
json_t *
    central_report_quality (const cp_period_t *period, const cp_scope_t *scope,
                            const central_arrival_t *arrivals, const central_cursor_t *cursors,
                            int deadline_days, bool deadline_set, int64_t now, int32_t today);

//  Reads what central_report_quality needs from store (cursors, arrivals
//  of period, the deadlines, the reconciliations) and makes the document
//  for scope, reconciled, as of now (ms) and today (a day number): what
//  `quality --format json` prints and GET /api/v1/quality sends.  period's
//  year is at most CP_DATE_MAX_YEAR (the caller checks).  Returns the
//  document (the caller's), or NULL with *rc.
json_t *
    central_report_quality_read (central_store_t *store, const cp_period_t *period,
                                 const cp_scope_t *scope, int64_t now, int32_t today, int *rc);

//  The workforce document (central_workforce) of period and scope, read
//  from store: what `workforce --format json` prints and GET
//  /api/v1/workforce sends.  Returns it (the caller's), or NULL with *rc.
json_t *
    central_report_workforce_read (central_store_t *store, const cp_period_t *period,
                                   const cp_scope_t *scope, int *rc);

//  The JSON flags each document is printed and sent with: indented by
//  two; workforce's ratios with twelve digits (jansson's default shows
//  0.1 as 0.10000000000000001).
#define CENTRAL_REPORT_JSON JSON_INDENT (2)
#define CENTRAL_REPORT_WORKFORCE_JSON (JSON_INDENT (2) | JSON_REAL_PRECISION (12))

//  Writes the document of central_report_quality as a table, by county.
void
    central_report_quality_print (const json_t *quality, FILE *out);

//  Reads every municipality's cursor in one short read of the store: a
//  malloc'd array of cp_municipality_count () cursors, or NULL with *rc.
central_cursor_t *
    central_report_cursors (central_store_t *store, int *rc);

//  What each municipality's node last said of the figures the central
//  sent it (central_store_reconciliation), in one short read: a malloc'd
//  array of cp_municipality_count () entries (verdict 0: none yet), or
//  NULL with *rc.
central_reconciliation_t *
    central_report_reconciliations (central_store_t *store, int *rc);

//  Adds to each node of a list of central_report_nodes its reconciliation:
//  {verdict "in_sync", "diverged" or "unknown", as_of (the sequence of its
//  log the figures were as of), checked (the day its node checked),
//  periods (the months that differ, "YYYY-MM"), periods_more (how many
//  more than are listed)}.
void
    central_report_nodes_reconciled (json_t *nodes,
                                     const central_reconciliation_t *reconciliations);

//  Fills quality's reconciliation (central_report_quality): per
//  municipality its node's verdict ("in_sync", "diverged", "unknown") and
//  reconciliation_periods; for the document "diverged" when one of the
//  scope's municipalities diverged, "in_sync" when all are in sync, else
//  "unknown", with reconciliation_counts (in_sync, diverged, unknown).
void
    central_report_quality_reconciled (json_t *quality,
                                       const central_reconciliation_t *reconciliations);

#endif
