/*  node_metrics: see the header.                                          */

#include "node_metrics.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_metrics.h"

#include <czmq.h>
#include <fcntl.h>
#include <unistd.h>

#define S_REFUSALS_MAX 64           //  downlink refusal codes, more than exist

void
node_metrics_nack (node_metrics_session_t *session, int code)
{
    size_t index = 0;
    while (index < session->nack_count && session->nack_codes [index] != code)
        index++;
    if (index == session->nack_count) {
        if (index == NODE_METRICS_NACK_CODES)
            return;             //  more codes than there are: not counted apart
        session->nack_codes [session->nack_count++] = code;
    }
    session->nack_counts [index]++;
}

//  One sample under the municipality's label, of a family of one sample.
static void
s_single (cp_metrics_t *metrics, const char *name, const char *type, const char *help,
          const char *municipality, int64_t value)
{
    cp_metrics_family (metrics, name, type, help);
    cp_metrics_sample (metrics, value, "municipality", municipality, NULL);
}

static void
s_refusals (cp_metrics_t *metrics, const char *municipality, const int *codes,
            const uint64_t *counts, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        char code [16];
        snprintf (code, sizeof code, "%d", codes [index]);
        cp_metrics_sample (metrics, (int64_t) counts [index], "municipality", municipality,
                           "code", code, "reason", cp_strerror (codes [index]), NULL);
    }
}

typedef struct {
    const char *kind, *id;
    int64_t expires;
} s_key_t;

static void
s_keys (cp_metrics_t *metrics, const char *municipality, const cp_enrolment_t *enrolment,
        int64_t seconds)
{
    cp_metrics_family (metrics, "cpsync_node_enrolment_age_seconds", "gauge",
                       "Seconds since the enrolment or announcement in force was made.");
    if (enrolment)
        cp_metrics_sample (metrics, seconds - enrolment->created, "municipality",
                           municipality, NULL);
    cp_metrics_family (metrics, "cpsync_node_key_expiry_seconds", "gauge",
                       "Seconds until each enrolled key with an expiry expires (negative: "
                       "expired).");
    if (!enrolment)
        return;
    s_key_t keys [2 + 2 * CP_ENROLMENT_KEYS_MAX];
    size_t count = 0;
    keys [count++] = (s_key_t) {"node-transport", enrolment->node_transport.id,
                                          enrolment->node_transport.expires};
    keys [count++] = (s_key_t) {"node", enrolment->node_key.id,
                                          enrolment->node_key.expires};
    for (size_t index = 0; index < enrolment->central_transport_count; index++)
        keys [count++] = (s_key_t) {"central-transport",
                                              enrolment->central_transport [index].id,
                                              enrolment->central_transport [index].expires};
    for (size_t index = 0; index < enrolment->central_data_count; index++)
        keys [count++] = (s_key_t) {"central-data",
                                              enrolment->central_data [index].id,
                                              enrolment->central_data [index].expires};
    for (size_t index = 0; index < count; index++)
        if (keys [index].expires && *keys [index].id)
            cp_metrics_sample (metrics, keys [index].expires - seconds, "municipality",
                               municipality, "id", keys [index].id, "kind",
                               keys [index].kind, NULL);
}

char *
node_metrics_text (node_store_t *store, node_keys_t *keys, const node_metrics_session_t *session,
                   int64_t now, size_t *size, int *rc)
{
    node_store_log_t info;
    uint64_t downlink = 0;
    cp_store_counter_t refusals [S_REFUSALS_MAX];
    size_t refused = 0;
    node_reconciliation_t last;
    *rc = node_store_log_info (store, &info);
    if (*rc == 0)
        *rc = node_store_downlink_cursor (store, &downlink);
    if (*rc == 0)
        *rc = node_store_downlink_refusals (store, refusals, S_REFUSALS_MAX, &refused);
    if (*rc == 0 && node_store_reconciliation (store, &last))
        memset (&last, 0, sizeof last);
    if (*rc)
        return NULL;
    const char *code = node_store_municipality (store);
    cp_metrics_t *metrics = cp_metrics_new ();
    assert (metrics);
    s_single (metrics, "cpsync_node_head", "gauge",
              "Events committed to the node's log: its head.", code, (int64_t) info.head);
    s_single (metrics, "cpsync_node_acknowledged", "gauge",
              "Events of the log the central acknowledged: the node's cursor.", code,
              (int64_t) info.acked);
    s_single (metrics, "cpsync_node_backlog", "gauge",
              "Events committed and not yet acknowledged (head less cursor).", code,
              (int64_t) (info.head - info.acked));
    s_single (metrics, "cpsync_node_batches_sent_total", "counter",
              "Batches sent to the central since the node started.", code,
              (int64_t) session->batches_sent);
    s_single (metrics, "cpsync_node_last_contact_seconds", "gauge",
              "When the central was last heard from (Unix seconds; 0: not since the node "
              "started).", code, session->last_contact / 1000);
    s_single (metrics, "cpsync_node_downlink_cursor", "gauge",
              "The last downlink entry applied.", code, (int64_t) downlink);
    cp_metrics_family (metrics, "cpsync_node_refusals_total", "counter",
                       "Refusals (NACK) of the central since the node started, by code.");
    s_refusals (metrics, code, session->nack_codes, session->nack_counts, session->nack_count);
    cp_metrics_family (metrics, "cpsync_node_downlink_refused_total", "counter",
                       "Downlink entries refused, by code.");
    int codes [S_REFUSALS_MAX];
    uint64_t counts [S_REFUSALS_MAX];
    for (size_t index = 0; index < refused; index++) {
        codes [index] = refusals [index].code;
        counts [index] = refusals [index].count;
    }
    s_refusals (metrics, code, codes, counts, refused);
    static const char *states [] = {"in_sync", "diverged", "unknown"};
    const char *state = last.verdict == CP_FIGURES_IN_SYNC? "in_sync"
                      : last.verdict == CP_FIGURES_DIVERGED? "diverged": "unknown";
    cp_metrics_family (metrics, "cpsync_node_reconciliation", "gauge",
                       "The node's last verdict on the central's figures: 1 on its state, 0 "
                       "on the others.");
    for (size_t index = 0; index < 3; index++)
        cp_metrics_sample (metrics, streq (state, states [index]), "municipality", code,
                           "state", states [index], NULL);
    s_keys (metrics, code, keys? node_keys_enrolment (keys): NULL, now / 1000);
    s_single (metrics, "cpsync_node_metrics_written_seconds", "gauge",
              "When this file was written (Unix seconds): a stale file means a node that "
              "stopped.", code, now / 1000);
    char *text = cp_metrics_text (metrics, size);
    cp_metrics_destroy (&metrics);
    return text;
}

int
node_metrics_write (const char *dir, node_store_t *store, node_keys_t *keys,
                    const node_metrics_session_t *session)
{
    int rc = 0;
    size_t size = 0;
    char *text = node_metrics_text (store, keys, session, zclock_time (), &size, &rc);
    if (!text) {
        zsys_error ("node_metrics: reading the store: %s", cp_strerror (rc));
        return rc;
    }
    //  The collector reads *.prom only, so the temporary name is never read.
    char *path = zsys_sprintf ("%s/cpsync_node_%s.prom", dir, node_store_municipality (store));
    char *temporary = zsys_sprintf ("%s.tmp", path);
    assert (path && temporary);
    int fd = open (temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t done = 0;
    while (fd >= 0 && done < size) {
        ssize_t written = write (fd, text + done, size - done);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            break;
        done += (size_t) written;
    }
    //  0644 whatever the umask: node_exporter runs as a user of its own.
    bool written = fd >= 0 && done == size && fchmod (fd, 0644) == 0 && fsync (fd) == 0;
    if (fd >= 0 && close (fd) && written)
        written = false;
    if (written && rename (temporary, path) == 0)
        rc = 0;
    else {
        zsys_error ("node_metrics: writing %s: %s", path, strerror (errno));
        unlink (temporary);
        rc = CP_EIO;
    }
    zstr_free (&temporary);
    zstr_free (&path);
    free (text);
    return rc;
}
