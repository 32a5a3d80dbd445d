/*  central_metrics: the central's figures for Prometheus.

    What cpsync-central stats and nodes print, and the age and expiry of
    the keys in the key table, in Prometheus's text format (cp_metrics),
    read from the store in short read transactions: `serve` answers it at
    GET /metrics.  The figures are the commands' own (central_report's
    cursors and reconciliations, the refusal counters), so a scrape and
    `nodes --format json` agree.  Per municipality (label municipality,
    its code): events acknowledged (its log's cursor), the head its node
    last reported, the backlog, the last contact, its downlink cursor, its
    batches, events, duplicates and conflicts, its figures' reconciliation
    as a gauge of 1 on the state it is in (label state: in_sync, diverged,
    unknown) and 0 on the others.                                         */

#ifndef CENTRAL_METRICS_H_INCLUDED
#define CENTRAL_METRICS_H_INCLUDED

#include "central_store.h"

#include <stddef.h>
#include <stdint.h>

//  The figures of store (open read-only is enough) as of now (ms since the
//  epoch): a malloc'd text (the caller frees), its length in *size, or
//  NULL with *rc (CP_ESTORE) when the store cannot be read.
char *
    central_metrics_text (central_store_t *store, int64_t now, size_t *size, int *rc);

#endif
