/*  central_metrics: see the header.                                       */

#include "central_metrics.h"
#include "central_keys.h"
#include "central_report.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_metrics.h"
#include "cp_municipality.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_COUNTERS_MAX 128          //  refusal codes, more than exist

//  One per-municipality family, read from a cursor.
typedef struct {
    const char *name;
    const char *type;
    const char *help;
    size_t offset;              //  of the uint64_t field of central_cursor_t
} s_node_family_t;

static const s_node_family_t s_node_families [] = {
    {"cpsync_central_node_acknowledged", "gauge",
     "Events of the municipality's log acknowledged: the central's cursor of it.",
     offsetof (central_cursor_t, acked)},
    {"cpsync_central_node_head", "gauge",
     "The head of the municipality's log, as its node last reported it.",
     offsetof (central_cursor_t, head)},
    {"cpsync_central_node_downlink_cursor", "gauge",
     "The last downlink entry the municipality's node applied, as it last said.",
     offsetof (central_cursor_t, downlink)},
    {"cpsync_central_node_batches_total", "counter",
     "Batches of the municipality applied (wholly or partly).",
     offsetof (central_cursor_t, batches)},
    {"cpsync_central_node_events_total", "counter",
     "Events of the municipality applied and counted.",
     offsetof (central_cursor_t, events)},
    {"cpsync_central_node_duplicate_batches_total", "counter",
     "Batches of the municipality acknowledged again, not applied.",
     offsetof (central_cursor_t, duplicates)},
    {"cpsync_central_node_duplicate_events_total", "counter",
     "Events of the municipality taken before (by id): not counted again.",
     offsetof (central_cursor_t, duplicate_events)},
    {"cpsync_central_node_conflicts_total", "counter",
     "Events of the municipality refused: their id was taken with other content.",
     offsetof (central_cursor_t, conflicts)},
    {"cpsync_central_node_quarantined_total", "counter",
     "Events of the municipality set aside by the rule check.",
     offsetof (central_cursor_t, quarantined)},
};

static uint64_t
s_field (const central_cursor_t *cursor, size_t offset)
{
    uint64_t value;
    memcpy (&value, (const char *) cursor + offset, sizeof value);
    return value;
}

//  The totals stats prints, and the refusal counters.
static void
s_totals (cp_metrics_t *metrics, const central_cursor_t *cursors,
          const central_counter_t *counters, size_t counter_count)
{
    central_cursor_t total = {0};
    int64_t reporting = 0;
    for (int index = 0; index < cp_municipality_count (); index++) {
        total.batches += cursors [index].batches;
        total.events += cursors [index].events;
        total.duplicates += cursors [index].duplicates;
        total.quarantined += cursors [index].quarantined;
        reporting += cursors [index].acked > 0;
    }
    cp_metrics_family (metrics, "cpsync_central_events_total", "counter",
                       "Events applied and counted, all municipalities.");
    cp_metrics_sample (metrics, (int64_t) total.events, NULL);
    cp_metrics_family (metrics, "cpsync_central_batches_total", "counter",
                       "Batches applied, all municipalities.");
    cp_metrics_sample (metrics, (int64_t) total.batches, NULL);
    cp_metrics_family (metrics, "cpsync_central_duplicate_batches_total", "counter",
                       "Batches acknowledged again, not applied, all municipalities.");
    cp_metrics_sample (metrics, (int64_t) total.duplicates, NULL);
    cp_metrics_family (metrics, "cpsync_central_quarantined_total", "counter",
                       "Events set aside by the rule check, all municipalities.");
    cp_metrics_sample (metrics, (int64_t) total.quarantined, NULL);
    cp_metrics_family (metrics, "cpsync_central_municipalities_reporting", "gauge",
                       "Municipalities with at least one event acknowledged.");
    cp_metrics_sample (metrics, reporting, NULL);
    cp_metrics_family (metrics, "cpsync_central_refusals_total", "counter",
                       "Batches, frames and events refused, by code (conflicts included).");
    for (size_t index = 0; index < counter_count; index++) {
        char code [16];
        snprintf (code, sizeof code, "%d", counters [index].code);
        cp_metrics_sample (metrics, (int64_t) counters [index].count, "code", code, "reason",
                           cp_strerror (counters [index].code), NULL);
    }
}

static void
s_nodes (cp_metrics_t *metrics, const central_cursor_t *cursors,
         const central_reconciliation_t *reconciliations)
{
    int count = cp_municipality_count ();
    for (size_t family = 0; family < sizeof s_node_families / sizeof s_node_families [0];
         family++) {
        const s_node_family_t *which = &s_node_families [family];
        cp_metrics_family (metrics, which->name, which->type, which->help);
        for (int index = 0; index < count; index++)
            cp_metrics_sample (metrics, (int64_t) s_field (&cursors [index], which->offset),
                               "municipality", cp_municipality_code (index), NULL);
    }
    //  As central_report_nodes computes it: a head behind the cursor is no backlog.
    cp_metrics_family (metrics, "cpsync_central_node_backlog", "gauge",
                       "Events the municipality's node reported and the central has not "
                       "acknowledged yet (head less cursor).");
    for (int index = 0; index < count; index++) {
        const central_cursor_t *cursor = &cursors [index];
        cp_metrics_sample (metrics, cursor->head > cursor->acked
                                    ? (int64_t) (cursor->head - cursor->acked): 0,
                           "municipality", cp_municipality_code (index), NULL);
    }
    cp_metrics_family (metrics, "cpsync_central_node_last_contact_seconds", "gauge",
                       "When the municipality's node was last heard from (Unix seconds; "
                       "0: never).");
    for (int index = 0; index < count; index++)
        cp_metrics_sample (metrics, cursors [index].last_seen / 1000,
                           "municipality", cp_municipality_code (index), NULL);
    static const char *states [] = {"in_sync", "diverged", "unknown"};
    cp_metrics_family (metrics, "cpsync_central_node_reconciliation", "gauge",
                       "The node's verdict on the figures the central sent it: 1 on its "
                       "state, 0 on the others.");
    for (int index = 0; index < count; index++) {
        int verdict = reconciliations [index].verdict;
        const char *state = verdict == CP_FIGURES_IN_SYNC? "in_sync"
                          : verdict == CP_FIGURES_DIVERGED? "diverged": "unknown";
        for (size_t which = 0; which < 3; which++)
            cp_metrics_sample (metrics, strcmp (state, states [which]) == 0, "municipality",
                               cp_municipality_code (index), "state", states [which], NULL);
    }
}

//  The keys of the table: age, and time left before expiry where one is set.
static void
s_keys (cp_metrics_t *metrics, central_keys_t *keys, int64_t now)
{
    int64_t seconds = now / 1000;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            cp_metrics_family (metrics, "cpsync_central_key_age_seconds", "gauge",
                               "Seconds since each key of the key table was made.");
        else
            cp_metrics_family (metrics, "cpsync_central_key_expiry_seconds", "gauge",
                               "Seconds until each key with an expiry expires (negative: "
                               "expired).");
        for (size_t index = 0; index < central_keys_count (keys); index++) {
            const central_key_t *key = central_keys_at (keys, index);
            if (pass == 1 && !key->expires)
                continue;
            const char *owner = key->owner == CENTRAL_KEYS_CENTRAL? "central"
                              : cp_municipality_code (key->owner);
            cp_metrics_sample (metrics, pass == 0? seconds - key->created
                                                 : key->expires - seconds,
                               "id", key->id, "kind", central_keys_kind_name (key->kind),
                               "owner", owner? owner: "?", "state",
                               central_keys_state_name (central_keys_state (keys, key,
                                                                            seconds)), NULL);
        }
    }
}

char *
central_metrics_text (central_store_t *store, int64_t now, size_t *size, int *rc)
{
    central_counter_t counters [S_COUNTERS_MAX];
    size_t counter_count = 0;
    central_keys_t *keys = NULL;
    central_reconciliation_t *reconciliations = NULL;
    central_cursor_t *cursors = central_report_cursors (store, rc);
    if (cursors)
        reconciliations = central_report_reconciliations (store, rc);
    if (reconciliations)
        *rc = central_store_counters (store, counters, S_COUNTERS_MAX, &counter_count);
    if (reconciliations && *rc == 0)
        *rc = central_store_keys_read (store, &keys);
    char *text = NULL;
    if (reconciliations && *rc == 0) {
        cp_metrics_t *metrics = cp_metrics_new ();
        assert (metrics);
        s_totals (metrics, cursors, counters, counter_count);
        s_nodes (metrics, cursors, reconciliations);
        s_keys (metrics, keys, now);
        text = cp_metrics_text (metrics, size);
        cp_metrics_destroy (&metrics);
    }
    central_keys_destroy (&keys);
    free (reconciliations);
    free (cursors);
    return text;
}
