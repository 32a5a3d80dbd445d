/*  central_report: the documents the central answers with (see the header).

    Moved here from cpsync-central's query, check and nodes so that the
    command line and the HTTP face share one code path and so one output.
    A view for publication needs every unit of the hierarchy (the nation,
    the counties, the municipalities) of the period, because a hidden cell
    must not be recoverable from any other unit's figures; the units are
    numbered in the order cp_suppress takes them.                          */

#include "central_report.h"
#include "central_publications.h"
#include "central_workforce.h"
#include "cp_check.h"
#include "cp_error.h"
#include "cp_suppress.h"
#include "cp_view.h"
#include "cp_wire.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  =====================================================================
//  The units of the hierarchy: the nation, the counties, the municipalities

static int
s_unit_count (void)
{
    return 1 + cp_county_count () + cp_municipality_count ();
}

static cp_scope_t
s_unit_scope (int unit)
{
    if (unit == 0)
        return (cp_scope_t) {CP_SCOPE_NATIONAL, 0};
    if (unit <= cp_county_count ())
        return (cp_scope_t) {CP_SCOPE_COUNTY, unit - 1};
    return (cp_scope_t) {CP_SCOPE_MUNICIPALITY, unit - 1 - cp_county_count ()};
}

static int
s_unit_of (const cp_scope_t *scope)
{
    if (scope->kind == CP_SCOPE_NATIONAL)
        return 0;
    if (scope->kind == CP_SCOPE_COUNTY)
        return 1 + scope->index;
    return 1 + cp_county_count () + scope->index;
}

static int
s_unit_parent (int unit)
{
    cp_scope_t scope = s_unit_scope (unit);
    if (scope.kind == CP_SCOPE_NATIONAL)
        return -1;
    if (scope.kind == CP_SCOPE_COUNTY)
        return 0;
    return 1 + cp_municipality_county (scope.index);
}

//  =====================================================================
//  Views

//  The periods of a publication's chain, numbered: a year by its number, a
//  quarter by year x 4 + quarter - 1.
static int
s_period_number (const cp_period_t *period)
{
    int year = 0, quarter = 0;
    sscanf (period->name, "%d-Q%d", &year, &quarter);
    return quarter? year * 4 + quarter - 1: year;
}

//  The period of that number, of the kind quarters says.
static void
s_period_of (int number, bool quarters, cp_period_t *period)
{
    char name [32];
    if (quarters)
        snprintf (name, sizeof name, "%d-Q%d", number / 4, number % 4 + 1);
    else
        snprintf (name, sizeof name, "%d", number);
    int rc = cp_period_parse (name, period);
    assert (rc == 0);
}

//  Every unit's view and figures of the period.
static int
s_read_units (central_store_t *store, const cp_period_t *period, int version,
              cp_view_t *views, cp_figures_t *figures)
{
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    int rc = 0;
    for (int unit = 0; rc == 0 && unit < s_unit_count (); unit++) {
        char name [CP_SCOPE_MAX];
        cp_scope_t each = s_unit_scope (unit);
        cp_scope_format (&each, name);
        cp_view_init (&views [unit], period, name);
        rc = central_store_view (store, name, &views [unit]);
        if (rc == 0)
            cp_view_figures (&views [unit], catalogue, version, &figures [unit]);
    }
    return rc;
}

//  The first period of the kind quarters says, from 2000 to last, whose
//  national figures are not all 0 (the first in which a case was open),
//  into first; false when there is none.
static bool
s_first_period (central_store_t *store, bool quarters, int last, int version, int *first,
                int *rc)
{
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t)), *none = calloc (1, sizeof (cp_figures_t));
    assert (view && figures && none);
    bool found = false;
    for (int number = quarters? CP_DATE_MIN_YEAR * 4: CP_DATE_MIN_YEAR;
         number <= last && !found && *rc == 0; number++) {
        cp_period_t period;
        s_period_of (number, quarters, &period);
        cp_view_init (view, &period, "national");
        *rc = central_store_view (store, "national", view);
        if (*rc == 0) {
            cp_view_figures (view, catalogue, version, figures);
            none->catalogue = figures->catalogue;
            found = memcmp (figures, none, sizeof (cp_figures_t)) != 0;
            *first = number;
        }
    }
    free (view);
    free (figures);
    free (none);
    return found;
}

//  For publication: what is hidden in the scope asked for must not be
//  worked out from any other scope's figures, nor from any other
//  period's of the same kind: so every unit's figures of every period
//  from the first in which a case was open to this one (or today's, when
//  later: the periods the public can be given) are solved together
//  (cp_suppress_periods).  Then the scope's view with its hidden cells as
//  "c".  A period before any case was open is all 0s and solved alone.
static int
s_view_public (central_store_t *store, const cp_period_t *period, const cp_scope_t *scope,
               int version, int threshold, central_publications_t *publications,
               const char *format, const char *lang, FILE *out)
{
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    int count = s_unit_count ();
    int *parent = calloc ((size_t) count, sizeof (int));
    assert (parent);
    for (int unit = 0; unit < count; unit++)
        parent [unit] = s_unit_parent (unit);
    bool quarters = strchr (period->name, '-') != NULL;
    int asked = s_period_number (period);
    char today [CP_DATE_STRLEN + 1];
    cp_date_format (cp_date_today (), today);
    int year = atoi (today), month = atoi (today + 5);
    int last = quarters? year * 4 + (month - 1) / 3 % 4: year;
    if (last < asked)
        last = asked;
    int rc = 0, first = asked;
    if (!s_first_period (store, quarters, asked, version, &first, &rc))
        first = last = asked;           //  nothing open yet: all 0s
    int periods = last - first + 1;
    size_t held = (size_t) periods * (size_t) count;
    cp_view_t *views = rc? NULL: calloc (held, sizeof (cp_view_t));
    cp_figures_t *figures = rc? NULL: calloc (held, sizeof (cp_figures_t));
    cp_suppressed_t *suppressed = rc? NULL: calloc (held, sizeof (cp_suppressed_t));
    assert (rc || (views && figures && suppressed));
    for (int at = 0; rc == 0 && at < periods; at++) {
        cp_period_t each;
        s_period_of (first + at, quarters, &each);
        rc = s_read_units (store, &each, version, views + (size_t) at * (size_t) count,
                           figures + (size_t) at * (size_t) count);
    }
    if (rc == 0)
        rc = central_publications_suppress_periods (publications, figures, periods, parent,
                                                    count, catalogue, threshold, suppressed);
    if (rc == 0) {
        size_t unit = (size_t) (asked - first) * (size_t) count + (size_t) s_unit_of (scope);
        char note [640];
        snprintf (note, sizeof note,
                  "for publication: cells of 1 to %d are shown as c (primary suppression, "
                  "%d here), and %d more so that no hidden cell can be worked out from its "
                  "row's total and other cells, nor from the figures of its county, of the "
                  "nation or of the other municipalities of the period, nor from those of "
                  "the %s before and after it (secondary suppression)",
                  threshold, suppressed [unit].primary, suppressed [unit].secondary,
                  quarters? "quarters": "years");
        cp_view_mask_t mask = {suppressed [unit].hidden, note};
        rc = cp_view_print_masked (&views [unit], &figures [unit], catalogue, format, lang,
                                   &mask, out);
    }
    free (views);
    free (figures);
    free (suppressed);
    free (parent);
    return rc;
}

int
central_report_view (central_store_t *store, const cp_period_t *period, const char *scope,
                     int version, int threshold, central_publications_t *publications,
                     const char *format, const char *lang, FILE *out)
{
    assert (store && period && scope && format && lang && out);
    if (threshold > 0) {
        cp_scope_t parsed;
        int rc = cp_scope_parse (scope, &parsed);
        assert (rc == 0);       //  the caller's scope is canonical
        return s_view_public (store, period, &parsed, version, threshold, publications,
                              format, lang, out);
    }
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, period, scope);
    int rc = central_store_view (store, scope, view);
    if (rc == 0) {
        cp_view_figures (view, catalogue, version, figures);
        rc = cp_view_print (view, figures, catalogue, format, lang, out);
    }
    free (view);
    free (figures);
    return rc;
}

//  =====================================================================
//  The consistency check

//  The JSON form of a scope's view, as query prints it, parsed back.
//  NULL with *rc on failure.
static json_t *
s_view_json (central_store_t *store, const cp_period_t *period, const char *scope,
             int version, int *rc)
{
    char *text = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&text, &size);
    assert (memory);
    *rc = central_report_view (store, period, scope, version, 0, NULL, "json", "sq", memory);
    fclose (memory);
    json_t *document = *rc? NULL: json_loadb (text, size, 0, NULL);
    if (!*rc && !document)
        *rc = CP_EMALFORMED;
    free (text);
    return document;
}

//  The document the consistency rules read for a scope: its view, and
//  the measures from the first day to the period's end ("_to_date"),
//  against which confirmations are checked (cp_check.h says why).
static json_t *
s_view_document (central_store_t *store, const cp_period_t *period, const char *scope,
                 int version, int *rc)
{
    json_t *document = s_view_json (store, period, scope, version, rc);
    cp_period_t to_date = *period;
    int32_t first_day;
    int parsed = cp_date_parse ("2000-01-01", CP_DATE_STRLEN, &first_day);
    assert (parsed == 0);
    to_date.start = first_day;
    json_t *cumulative = document? s_view_json (store, &to_date, scope, version, rc): NULL;
    if (cumulative) {
        const char *keys [] = {"measures_taken", "measures_court_confirmed"};
        for (size_t index = 0; index < 2; index++) {
            char key [64];
            snprintf (key, sizeof key, "%s_to_date", keys [index]);
            json_object_set (document, key, json_object_get (cumulative, keys [index]));
        }
    }
    else {
        json_decref (document);
        document = NULL;
    }
    json_decref (cumulative);
    return document;
}

int
central_report_check_document (json_t *checked, const char *source, const char *scope,
                               const json_t *document)
{
    json_t *findings = json_array (), *not_applicable = json_array ();
    int found = cp_check_view (document, findings, not_applicable);
    json_t *entry = json_object ();
    json_object_set_new (entry, "source", json_string (source));
    json_object_set_new (entry, "scope", json_string (scope));
    json_object_set_new (entry, "findings", findings);
    json_object_set_new (entry, "not_applicable", not_applicable);
    json_array_append_new (checked, entry);
    return found;
}

json_t *
central_report_check (central_store_t *store, const cp_period_t *period,
                      const cp_scope_t *scope, int version, int *found, int *rc)
{
    int scopes = scope? 1: s_unit_count ();
    json_t *checked = json_array ();
    *rc = 0;
    for (int index = 0; *rc == 0 && index < scopes; index++) {
        char name [CP_SCOPE_MAX];
        cp_scope_t each = scope? *scope: s_unit_scope (index);
        cp_scope_format (&each, name);
        json_t *document = s_view_document (store, period, name, version, rc);
        if (document)
            *found += central_report_check_document (checked, "central", name, document);
        json_decref (document);
    }
    if (*rc)
        json_decref (checked);
    return *rc? NULL: checked;
}

json_t *
central_report_check_json (const char *period, int version, int broken, json_t *checked)
{
    json_t *root = json_object ();
    json_object_set_new (root, "period", json_string (period));
    json_object_set_new (root, "catalogue", json_integer (version));
    json_object_set_new (root, "broken", json_integer (broken));
    json_object_set_new (root, "checked", checked);
    return root;
}

//  =====================================================================
//  The nodes

central_cursor_t *
central_report_cursors (central_store_t *store, int *rc)
{
    central_cursor_t *cursors = calloc ((size_t) cp_municipality_count (),
                                        sizeof (central_cursor_t));
    assert (cursors);
    *rc = central_store_cursors (store, cursors);
    if (*rc) {
        free (cursors);
        return NULL;
    }
    return cursors;
}

json_t *
central_report_nodes (const central_cursor_t *cursors, const cp_scope_t *scope, int64_t now)
{
    json_t *list = json_array ();
    for (int index = 0; index < cp_municipality_count (); index++) {
        if (scope && !cp_scope_contains (scope, index))
            continue;
        const central_cursor_t *cursor = &cursors [index];
        uint64_t backlog = cursor->head > cursor->acked? cursor->head - cursor->acked: 0;
        char seen [32], changed [32], log [CP_WIRE_LOG_NAME];
        if (cursor->last_seen) {
            cp_date_format_instant (cursor->last_seen, seen, sizeof seen);
            cp_wire_log_name (cursor->log, log);
        }
        if (cursor->log_changed)
            cp_date_format_instant (cursor->log_changed, changed, sizeof changed);
        int64_t lag_seconds = (now - cursor->last_seen) / 1000;
        json_t *node = json_object ();
        json_object_set_new (node, "code", json_string (cp_municipality_code (index)));
        json_object_set_new (node, "name", json_string (cp_municipality_name (index)));
        json_object_set_new (node, "county",
                             json_string (cp_county_code (cp_municipality_county (index))));
        json_object_set_new (node, "last_seen", cursor->last_seen? json_string (seen): json_null ());
        json_object_set_new (node, "log", cursor->last_seen? json_string (log): json_null ());
        json_object_set_new (node, "acked", json_integer ((json_int_t) cursor->acked));
        json_object_set_new (node, "head", json_integer ((json_int_t) cursor->head));
        json_object_set_new (node, "backlog", json_integer ((json_int_t) backlog));
        json_object_set_new (node, "lag_seconds",
                             cursor->last_seen? json_integer (lag_seconds): json_null ());
        json_object_set_new (node, "batches", json_integer ((json_int_t) cursor->batches));
        json_object_set_new (node, "events", json_integer ((json_int_t) cursor->events));
        json_object_set_new (node, "duplicates", json_integer ((json_int_t) cursor->duplicates));
        json_object_set_new (node, "duplicate_events",
                             json_integer ((json_int_t) cursor->duplicate_events));
        json_object_set_new (node, "conflicts", json_integer ((json_int_t) cursor->conflicts));
        json_object_set_new (node, "quarantined",
                             json_integer ((json_int_t) cursor->quarantined));
        json_object_set_new (node, "archived", json_integer ((json_int_t) cursor->archived));
        json_object_set_new (node, "log_changed",
                             cursor->log_changed? json_string (changed): json_null ());
        json_object_set_new (node, "downlink", json_integer ((json_int_t) cursor->downlink));
        json_array_append_new (list, node);
    }
    return list;
}

//  =====================================================================
//  Completeness and timeliness

#define S_DAY_MS (86400 * (int64_t) 1000)

//  How a municipality's events dated in the period stand against the deadline.
static const char *
s_timeliness (const central_arrival_t *arrival, int64_t deadline_end, bool passed)
{
    if (arrival->events == 0)
        return passed? "missing": "pending";
    return arrival->first < deadline_end? "on_time": "late";
}

//  An instant as JSON: its text, or null for none.
static json_t *
s_instant (int64_t msecs)
{
    if (msecs <= 0)
        return json_null ();
    char text [32];
    cp_date_format_instant (msecs, text, sizeof text);
    return json_string (text);
}

static json_t *
s_day_json (int32_t day)
{
    char text [CP_DATE_STRLEN + 1];
    cp_date_format (day, text);
    return json_string (text);
}

//  The counts of one group of municipalities (a county, the scope): how
//  many, how many on time, late, missing and pending, and the share on time.
static json_t *
s_rate (const int *counts, int municipalities)
{
    json_t *rate = json_object ();
    json_object_set_new (rate, "municipalities", json_integer (municipalities));
    json_object_set_new (rate, "on_time", json_integer (counts [0]));
    json_object_set_new (rate, "late", json_integer (counts [1]));
    json_object_set_new (rate, "missing", json_integer (counts [2]));
    json_object_set_new (rate, "pending", json_integer (counts [3]));
    json_object_set_new (rate, "completeness", municipalities
                         ? json_real ((double) counts [0] / municipalities): json_null ());
    return rate;
}

static int
s_timeliness_slot (const char *timeliness)
{
    static const char *const names [] = {"on_time", "late", "missing", "pending"};
    for (int slot = 0; slot < 4; slot++)
        if (strcmp (timeliness, names [slot]) == 0)
            return slot;
    assert (false);
    return 0;
}

json_t *
central_report_quality (const cp_period_t *period, const cp_scope_t *scope,
                        const central_arrival_t *arrivals, const central_cursor_t *cursors,
                        int deadline_days, bool deadline_set, int64_t now, int32_t today)
{
    //  The last day on which delivery is on time, and the instant after it.
    int32_t deadline = period->end + deadline_days;
    int64_t deadline_end = ((int64_t) deadline + 1) * S_DAY_MS;
    bool passed = today > deadline;
    char scope_name [CP_SCOPE_MAX];
    cp_scope_format (scope, scope_name);

    json_t *root = json_object ();
    json_object_set_new (root, "period", json_string (period->name));
    json_object_set_new (root, "scope", json_string (scope_name));
    json_object_set_new (root, "today", s_day_json (today));
    json_object_set_new (root, "deadline", s_day_json (deadline));
    json_object_set_new (root, "deadline_days", json_integer (deadline_days));
    json_object_set_new (root, "deadline_set", json_boolean (deadline_set));
    json_object_set_new (root, "deadline_passed", json_boolean (passed));
    json_object_set_new (root, "reconciliation", json_string ("unknown"));

    int total [4] = {0}, members = 0;
    uint64_t ahead = 0;
    json_t *counties = json_array ();
    for (int county = 0; county < cp_county_count (); county++) {
        int counts [4] = {0}, count = 0;
        json_t *list = json_array ();
        for (int index = 0; index < cp_municipality_count (); index++) {
            if (cp_municipality_county (index) != county || !cp_scope_contains (scope, index))
                continue;
            const central_cursor_t *cursor = &cursors [index];
            const central_arrival_t *arrival = &arrivals [index];
            uint64_t backlog = cursor->head > cursor->acked? cursor->head - cursor->acked: 0;
            const char *timeliness = s_timeliness (arrival, deadline_end, passed);
            json_t *entry = json_object ();
            json_object_set_new (entry, "code", json_string (cp_municipality_code (index)));
            json_object_set_new (entry, "name", json_string (cp_municipality_name (index)));
            //  Caught up: heard from, and nothing of its log left to ship as
            //  of its last message (lag says how long ago that was).
            json_object_set_new (entry, "caught_up",
                                 json_boolean (cursor->last_seen && backlog == 0));
            json_object_set_new (entry, "backlog", json_integer ((json_int_t) backlog));
            json_object_set_new (entry, "lag_seconds", cursor->last_seen
                                 ? json_integer ((now - cursor->last_seen) / 1000): json_null ());
            json_object_set_new (entry, "last_seen", s_instant (cursor->last_seen));
            json_object_set_new (entry, "timeliness", json_string (timeliness));
            json_object_set_new (entry, "events", json_integer ((json_int_t) arrival->events));
            json_object_set_new (entry, "first_arrival", s_instant (arrival->first));
            json_object_set_new (entry, "last_arrival", s_instant (arrival->last));
            //  Late: whole days from the deadline's to the first arrival's (UTC).
            json_object_set_new (entry, "days_late", strcmp (timeliness, "late") == 0
                                 ? json_integer (arrival->first / S_DAY_MS - deadline)
                                 : json_null ());
            json_object_set_new (entry, "arrived_after_deadline",
                                 json_boolean (arrival->events && arrival->last >= deadline_end));
            json_object_set_new (entry, "ahead_events", json_integer ((json_int_t) arrival->ahead));
            json_object_set_new (entry, "clock_ahead", json_boolean (arrival->ahead > 0));
            json_object_set_new (entry, "latest_date", arrival->events
                                 ? s_day_json (arrival->latest): json_null ());
            json_object_set_new (entry, "reconciliation", json_string ("unknown"));
            json_array_append_new (list, entry);
            counts [s_timeliness_slot (timeliness)]++;
            count++;
            ahead += arrival->ahead;
        }
        if (count == 0) {
            json_decref (list);
            continue;
        }
        json_t *group = json_object ();
        json_object_set_new (group, "county", json_string (cp_county_code (county)));
        json_object_set_new (group, "name", json_string (cp_county_name (county)));
        json_object_set_new (group, "rate", s_rate (counts, count));
        json_object_set_new (group, "municipalities", list);
        json_array_append_new (counties, group);
        for (int slot = 0; slot < 4; slot++)
            total [slot] += counts [slot];
        members += count;
    }
    json_object_set_new (root, "rate", s_rate (total, members));
    json_object_set_new (root, "ahead_events", json_integer ((json_int_t) ahead));
    json_object_set_new (root, "counties", counties);
    return root;
}

//  A string member, or what the table shows for null.
static const char *
s_text (const json_t *object, const char *key, const char *none)
{
    const char *text = json_string_value (json_object_get (object, key));
    return text? text: none;
}

static long long
s_integer (const json_t *object, const char *key)
{
    return (long long) json_integer_value (json_object_get (object, key));
}

//  A verdict as a table shows it: "in_sync", "unknown", or "diverged" and
//  the months of the array under key of object.
static void
s_figures_text (const json_t *object, const char *key, const char *verdict, char *text,
                size_t size)
{
    size_t used = (size_t) snprintf (text, size, "%s", verdict);
    size_t index;
    json_t *period;
    json_array_foreach (json_object_get (object, key), index, period)
        if (used < size)
            used += (size_t) snprintf (text + used, size - used, " %s",
                                       json_string_value (period));
}

//  "on time 3 of 6 (50.0%), late 1, missing 2, pending 0"
static void
s_rate_print (const json_t *rate, FILE *out)
{
    json_t *completeness = json_object_get (rate, "completeness");
    char share [16] = "-";
    if (json_is_number (completeness))
        snprintf (share, sizeof share, "%.1f%%", 100 * json_number_value (completeness));
    fprintf (out, "on time %lld of %lld (%s), late %lld, missing %lld, pending %lld\n",
             s_integer (rate, "on_time"), s_integer (rate, "municipalities"), share,
             s_integer (rate, "late"), s_integer (rate, "missing"), s_integer (rate, "pending"));
}

void
central_report_quality_print (const json_t *quality, FILE *out)
{
    fprintf (out, "%s, %s: deadline %s (%lld days after the period, %s), today %s: %s\n",
             s_text (quality, "period", "?"), s_text (quality, "scope", "?"),
             s_text (quality, "deadline", "?"), s_integer (quality, "deadline_days"),
             json_is_true (json_object_get (quality, "deadline_set"))? "set for the year"
                                                                       : "the default",
             s_text (quality, "today", "?"),
             json_is_true (json_object_get (quality, "deadline_passed"))? "passed"
                                                                         : "not passed yet");
    json_t *counts = json_object_get (quality, "reconciliation_counts");
    fprintf (out, "reconciliation with published figures: %s",
             s_text (quality, "reconciliation", "unknown"));
    if (counts)
        fprintf (out, " (in sync %lld, diverged %lld, unknown %lld)",
                 s_integer (counts, "in_sync"), s_integer (counts, "diverged"),
                 s_integer (counts, "unknown"));
    fprintf (out, "\n");
    size_t index;
    json_t *county;
    json_array_foreach (json_object_get (quality, "counties"), index, county) {
        fprintf (out, "\ncounty %s (%s): ", s_text (county, "county", "?"),
                 s_text (county, "name", "?"));
        s_rate_print (json_object_get (county, "rate"), out);
        fprintf (out, "  %-14s %-9s %8s %9s %-20s  %-8s %-20s %5s %-20s %9s %6s  %s\n",
                 "municipality", "caught up", "backlog", "lag (s)", "last seen (UTC)",
                 "delivery", "first arrival (UTC)", "late", "last arrival (UTC)", "events",
                 "ahead", "figures");
        size_t at;
        json_t *entry;
        json_array_foreach (json_object_get (county, "municipalities"), at, entry) {
            char lag [24] = "-", late [16] = "-";
            json_t *value = json_object_get (entry, "lag_seconds");
            if (json_is_integer (value))
                snprintf (lag, sizeof lag, "%lld", (long long) json_integer_value (value));
            value = json_object_get (entry, "days_late");
            if (json_is_integer (value))
                snprintf (late, sizeof late, "%lldd", (long long) json_integer_value (value));
            char ahead [64] = "";
            if (json_is_true (json_object_get (entry, "clock_ahead")))
                snprintf (ahead, sizeof ahead, "  (clock ahead: latest date %s)",
                          s_text (entry, "latest_date", "?"));
            char figures [CP_NOTE_MAX + 32];
            s_figures_text (entry, "reconciliation_periods", s_text (entry, "reconciliation",
                                                                     "unknown"),
                            figures, sizeof figures);
            fprintf (out, "  %-14s %-9s %8lld %9s %-20s  %-8s %-20s %5s %-20s %9lld %6lld  "
                     "%s%s\n",
                     s_text (entry, "code", "?"),
                     json_is_true (json_object_get (entry, "caught_up"))? "yes": "no",
                     s_integer (entry, "backlog"), lag, s_text (entry, "last_seen", "never"),
                     s_text (entry, "timeliness", "?"), s_text (entry, "first_arrival", "-"),
                     late, s_text (entry, "last_arrival", "-"), s_integer (entry, "events"),
                     s_integer (entry, "ahead_events"), figures, ahead);
        }
    }
    fprintf (out, "\n%s: ", s_text (quality, "scope", "?"));
    s_rate_print (json_object_get (quality, "rate"), out);
    fprintf (out, "events dated after the central's today when they arrived: %lld\n",
             s_integer (quality, "ahead_events"));
}

//  =====================================================================
//  Reconciliation: what the nodes said of the figures they were sent

central_reconciliation_t *
central_report_reconciliations (central_store_t *store, int *rc)
{
    int count = cp_municipality_count ();
    central_reconciliation_t *reconciliations = calloc ((size_t) count,
                                                        sizeof (central_reconciliation_t));
    assert (reconciliations);
    *rc = 0;
    for (int index = 0; index < count && *rc == 0; index++) {
        *rc = central_store_reconciliation (store, index, &reconciliations [index]);
        if (*rc == CP_ENOTFOUND)
            *rc = 0;            //  nothing said yet: verdict 0
    }
    if (*rc) {
        free (reconciliations);
        return NULL;
    }
    return reconciliations;
}

static const char *
s_verdict (int verdict)
{
    return verdict == CP_FIGURES_IN_SYNC? "in_sync"
         : verdict == CP_FIGURES_DIVERGED? "diverged": "unknown";
}

//  The months of a node's note ("YYYY-MM YYYY-MM ... +N more") as an
//  array of "YYYY-MM", and N in *more.  The note is the node's: only what
//  has that form is taken.
static json_t *
s_periods (const char *note, json_int_t *more)
{
    json_t *periods = json_array ();
    *more = 0;
    char copy [CP_NOTE_MAX + 1];
    snprintf (copy, sizeof copy, "%s", note);
    char *save = NULL;
    for (char *token = strtok_r (copy, " ", &save); token; token = strtok_r (NULL, " ", &save))
        if (*token == '+')
            *more = (json_int_t) strtoul (token + 1, NULL, 10);
        else
        if (strlen (token) == 7 && strspn (token, "0123456789-") == 7 && token [4] == '-')
            json_array_append_new (periods, json_string (token));
    return periods;
}

void
central_report_nodes_reconciled (json_t *nodes, const central_reconciliation_t *reconciliations)
{
    size_t index;
    json_t *node;
    json_array_foreach (nodes, index, node) {
        int municipality = cp_municipality_index (s_text (node, "code", ""));
        if (municipality < 0)
            continue;
        const central_reconciliation_t *last = &reconciliations [municipality];
        json_int_t more;
        json_t *reconciliation = json_object ();
        json_object_set_new (reconciliation, "verdict",
                             json_string (s_verdict (last->verdict)));
        json_object_set_new (reconciliation, "as_of", last->verdict
                             ? json_integer ((json_int_t) last->entry): json_null ());
        json_object_set_new (reconciliation, "checked", last->verdict
                             ? s_day_json (last->date): json_null ());
        json_object_set_new (reconciliation, "periods", s_periods (last->periods, &more));
        json_object_set_new (reconciliation, "periods_more", json_integer (more));
        json_object_set_new (node, "reconciliation", reconciliation);
    }
}

void
central_report_quality_reconciled (json_t *quality,
                                   const central_reconciliation_t *reconciliations)
{
    json_int_t counts [3] = {0};        //  unknown, in_sync, diverged
    size_t index, at;
    json_t *county, *entry;
    json_array_foreach (json_object_get (quality, "counties"), index, county)
        json_array_foreach (json_object_get (county, "municipalities"), at, entry) {
            int municipality = cp_municipality_index (s_text (entry, "code", ""));
            if (municipality < 0)
                continue;
            const central_reconciliation_t *last = &reconciliations [municipality];
            int verdict = last->verdict == CP_FIGURES_IN_SYNC
                       || last->verdict == CP_FIGURES_DIVERGED? last->verdict: 0;
            json_int_t more;
            json_object_set_new (entry, "reconciliation", json_string (s_verdict (verdict)));
            json_object_set_new (entry, "reconciliation_periods",
                                 s_periods (last->periods, &more));
            counts [verdict]++;
        }
    const char *summary = counts [CP_FIGURES_DIVERGED]? "diverged"
                        : counts [0] == 0 && counts [CP_FIGURES_IN_SYNC]? "in_sync": "unknown";
    json_object_set_new (quality, "reconciliation", json_string (summary));
    json_t *total = json_object ();
    json_object_set_new (total, "in_sync", json_integer (counts [CP_FIGURES_IN_SYNC]));
    json_object_set_new (total, "diverged", json_integer (counts [CP_FIGURES_DIVERGED]));
    json_object_set_new (total, "unknown", json_integer (counts [0]));
    json_object_set_new (quality, "reconciliation_counts", total);
}

//  =====================================================================
//  Quality and workforce, read from the store

json_t *
central_report_quality_read (central_store_t *store, const cp_period_t *period,
                             const cp_scope_t *scope, int64_t now, int32_t today, int *rc)
{
    int year = (int) strtol (period->name, NULL, 10);
    assert (year >= CP_DATE_MIN_YEAR && year <= CP_DATE_MAX_YEAR);
    int count = cp_municipality_count ();
    central_arrival_t *arrivals = calloc ((size_t) count, sizeof (central_arrival_t));
    assert (arrivals);
    int days [CENTRAL_STORE_YEARS];
    bool set [CENTRAL_STORE_YEARS];
    central_reconciliation_t *reconciliations = NULL;
    *rc = 0;
    central_cursor_t *cursors = central_report_cursors (store, rc);
    if (cursors)
        *rc = central_store_arrivals (store, period, arrivals);
    if (cursors && *rc == 0)
        *rc = central_store_deadlines (store, days, set);
    if (cursors && *rc == 0)
        reconciliations = central_report_reconciliations (store, rc);
    json_t *quality = NULL;
    if (reconciliations) {
        int at = year - CP_DATE_MIN_YEAR;
        quality = central_report_quality (period, scope, arrivals, cursors, days [at], set [at],
                                          now, today);
        central_report_quality_reconciled (quality, reconciliations);
    }
    free (cursors);
    free (arrivals);
    free (reconciliations);
    return quality;
}

json_t *
central_report_workforce_read (central_store_t *store, const cp_period_t *period,
                               const cp_scope_t *scope, int *rc)
{
    size_t count = (size_t) cp_municipality_count ();
    central_staffing_t *staffing = calloc (count, sizeof (central_staffing_t));
    bool *reported = calloc (count, sizeof (bool));
    assert (staffing && reported);
    *rc = central_workforce_read (store, period->end, staffing, reported);
    json_t *workforce = *rc? NULL: central_workforce (period, scope, staffing, reported);
    free (staffing);
    free (reported);
    return workforce;
}
