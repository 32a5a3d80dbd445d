/*  node_metrics: the node's figures as a file for node_exporter.

    node_exporter's textfile collector reads every *.prom file of a
    directory and serves it with the machine's own metrics; node_sync
    writes DIR/cpsync_node_CODE.prom there (CODE, the municipality: a host
    may run several nodes) every few seconds and when it stops.  The file
    is written whole to a temporary name, flushed to disk and renamed, so a
    scrape never reads half of it.  Its figures: the store's, as
    cpsync-node status prints them (head, acknowledged, backlog, downlink
    cursor and refusals, the last verdict on the central's figures), the
    session's (batches sent, the central's refusals, last contact), and
    the enrolled keys' (each key's expiry, the enrolment's age).  Each
    sample carries the label municipality.                                */

#ifndef NODE_METRICS_H_INCLUDED
#define NODE_METRICS_H_INCLUDED

#include "node_keys.h"
#include "node_store.h"

#include <stdint.h>

#define NODE_METRICS_NACK_CODES 16      //  refusal codes of the central counted apart

//  What the uplink counts while it runs (since the process started).
typedef struct {
    uint64_t batches_sent;
    int64_t last_contact;       //  ms since the epoch of the central's last message; 0 = none
    int nack_codes [NODE_METRICS_NACK_CODES];   //  the central's refusals, by code
    uint64_t nack_counts [NODE_METRICS_NACK_CODES];
    size_t nack_count;
} node_metrics_session_t;

//  Counts one refusal (NACK) of the central with code.
void
    node_metrics_nack (node_metrics_session_t *session, int code);

//  The figures as text (Prometheus's format), as of now (ms since the
//  epoch), from store, keys (NULL: none loaded) and session: a malloc'd
//  text (the caller frees) or NULL with *rc when the store cannot be read.
char *
    node_metrics_text (node_store_t *store, node_keys_t *keys,
                       const node_metrics_session_t *session, int64_t now, size_t *size,
                       int *rc);

//  Writes the figures to dir's file, atomically.  Returns 0, or a
//  cp_error_t (CP_EIO with errno, CP_ESTORE), having logged why.
int
    node_metrics_write (const char *dir, node_store_t *store, node_keys_t *keys,
                        const node_metrics_session_t *session);

#endif
