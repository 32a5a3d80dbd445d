/*  central_report: the documents the central answers with (see the header).

    Moved here from cpsync-central's query, check and nodes so that the
    command line and the HTTP face share one code path and so one output.
    A view for publication needs every unit of the hierarchy (the nation,
    the counties, the municipalities) of the period, because a hidden cell
    must not be recoverable from any other unit's figures; the units are
    numbered in the order cp_suppress takes them.                          */

#include "central_report.h"
#include "cp_check.h"
#include "cp_error.h"
#include "cp_suppress.h"
#include "cp_view.h"
#include "cp_wire.h"

#include <assert.h>
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

//  For publication: every unit's figures of the period, so that what is
//  hidden in the scope asked for cannot be worked out from any other
//  scope's figures; then that scope's view with its hidden cells as "c".
static int
s_view_public (central_store_t *store, const cp_period_t *period, const cp_scope_t *scope,
               int version, int threshold, const char *format, const char *lang, FILE *out)
{
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    int count = s_unit_count ();
    cp_view_t *views = calloc ((size_t) count, sizeof (cp_view_t));
    cp_figures_t *figures = calloc ((size_t) count, sizeof (cp_figures_t));
    cp_suppressed_t *suppressed = calloc ((size_t) count, sizeof (cp_suppressed_t));
    int *parent = calloc ((size_t) count, sizeof (int));
    assert (views && figures && suppressed && parent);
    int rc = 0;
    for (int unit = 0; rc == 0 && unit < count; unit++) {
        char name [CP_SCOPE_MAX];
        cp_scope_t each = s_unit_scope (unit);
        cp_scope_format (&each, name);
        cp_view_init (&views [unit], period, name);
        rc = central_store_view (store, name, &views [unit]);
        if (rc == 0)
            cp_view_figures (&views [unit], catalogue, version, &figures [unit]);
        parent [unit] = s_unit_parent (unit);
    }
    if (rc == 0)
        rc = cp_suppress (figures, parent, count, catalogue, threshold, suppressed);
    if (rc == 0) {
        int unit = s_unit_of (scope);
        char note [512];
        snprintf (note, sizeof note,
                  "for publication: cells of 1 to %d are shown as c (primary suppression, "
                  "%d here), and %d more so that no hidden cell can be worked out from its "
                  "row's total and other cells, nor from the figures of its county, of the "
                  "nation or of the other municipalities of the period (secondary suppression)",
                  threshold, suppressed [unit].primary, suppressed [unit].secondary);
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
                     int version, int threshold, const char *format, const char *lang,
                     FILE *out)
{
    assert (store && period && scope && format && lang && out);
    if (threshold > 0) {
        cp_scope_t parsed;
        int rc = cp_scope_parse (scope, &parsed);
        assert (rc == 0);       //  the caller's scope is canonical
        return s_view_public (store, period, &parsed, version, threshold, format, lang, out);
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
    *rc = central_report_view (store, period, scope, version, 0, "json", "sq", memory);
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
        json_array_append_new (list, node);
    }
    return list;
}
