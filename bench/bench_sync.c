/*  bench_sync: the two sync figures that need a program of their own.

        bench_sync latency NODE_DATA CENTRAL_DATA [SECONDS] [RATE]
        bench_sync zmq SIZE COUNT
        bench_sync batchsize NODE_DATA
        bench_sync downlink CENTRAL_DATA NODES_DIR [ENTRIES]

    latency: with the node's `run` and the central's `run` going, appends
    events to the node at a steady RATE (default 10,000 events/s) in small
    durable commits, and for each commit measures the time until the
    central's cursor for the municipality covers it (the cursor moves in the
    transaction that updates the view's counters, so that is the moment a
    query sees the events).  Prints p50, p99 and the maximum.

    zmq: the raw throughput of libzmq on this machine for messages of SIZE
    bytes, DEALER to ROUTER over TCP loopback, COUNT messages: the ceiling
    that the end-to-end benchmark is compared with.

    batchsize: the bytes of the first full batch the node would ship.

    downlink: with the central and every node under NODES_DIR (one data
    directory per municipality) running, publishes ENTRIES entries to all
    (default 20), one at a time, as cpsync-admin publish does, and for each
    measures the time from the publish's commit until each node's downlink
    cursor reaches it (the cursor moves in the transaction that applies the
    entry).  Prints p50, p99 and the maximum over every node and entry.   */

#include "bench_timing.h"
#include "central_admin.h"
#include "central_store.h"
#include "cp_directive.h"
#include "cp_municipality.h"
#include "node_store.h"

#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>

#define S_TICK_MS 10

//  A new case opened today: a valid event whatever the node holds.
static void
s_new_case (node_store_entry_t *entry, const cp_catalogue_t *catalogue, uint64_t number,
            int32_t today)
{
    cp_event_t *event = &entry->event;
    memset (event, 0, sizeof *event);
    event->type = CP_EVENT_CASE_OPENED;
    event->date = today;
    event->age = (uint8_t) (number % 19);
    snprintf (event->id, sizeof event->id, "bench-%llu", (unsigned long long) number);
    snprintf (event->case_id, sizeof event->case_id, "bench-c%llu", (unsigned long long) number);
    strcpy (event->codes [0], number % 2? "F": "M");
    strcpy (event->codes [1], "majority");
    strcpy (event->codes [2], "police");
    if (cp_event_resolve (event, catalogue, NULL, 0))
        abort ();           //  the catalogue lacks the codes above: a bug of ours
}

static int
s_latency (const char *node_data, const char *central_data, int seconds, int rate)
{
    int error = 0;
    node_store_t *node = node_store_open (node_data, &error);
    central_store_t *central = central_store_open (central_data, CENTRAL_STORE_READONLY, &error);
    if (!node || !central) {
        fprintf (stderr, "bench_sync: cannot open the node or the central\n");
        return 2;
    }
    int municipality = cp_municipality_index (node_store_municipality (node));
    const cp_catalogue_t *catalogue = node_store_catalogue (node);
    int per_tick = rate * S_TICK_MS / 1000;
    int ticks = seconds * 1000 / S_TICK_MS;
    double *latencies = calloc ((size_t) ticks, sizeof (double));
    double *committed = calloc ((size_t) ticks, sizeof (double));
    uint64_t *last_seq = calloc ((size_t) ticks, sizeof (uint64_t));
    uint64_t head, acked, cases, number = (uint64_t) time (NULL) * 100000;
    node_store_counts (node, &head, &acked, &cases);
    int32_t today = cp_date_today ();

    int sent = 0, seen = 0;
    double start = bench_now_ms ();
    while (seen < ticks) {
        double now = bench_now_ms ();
        if (sent < ticks && now >= start + sent * S_TICK_MS) {
            node_store_begin (node);
            for (int index = 0; index < per_tick; index++) {
                node_store_entry_t entry;
                s_new_case (&entry, catalogue, number++, today);
                node_store_prepare (node, &entry);
                node_store_append (node, &entry, NULL, 0);
            }
            if (node_store_commit (node)) {
                fprintf (stderr, "bench_sync: commit failed\n");
                return 1;
            }
            head += (uint64_t) per_tick;
            committed [sent] = bench_now_ms ();
            last_seq [sent++] = head;
        }
        central_cursor_t cursor;
        if (central_store_cursor (central, municipality, &cursor) == 0)
            while (seen < sent && cursor.acked >= last_seq [seen]) {
                latencies [seen] = bench_now_ms () - committed [seen];
                seen++;
            }
        if (bench_now_ms () - start > seconds * 1000.0 + 30000) {
            fprintf (stderr, "bench_sync: the central stopped catching up\n");
            return 1;
        }
        zclock_sleep (1);
    }
    bench_sort_ms (latencies, (size_t) ticks);
    printf ("latency at %d events/s (%d commits of %d events): p50 %.1f ms, p99 %.1f ms, "
            "max %.1f ms (target p99 <= 100 ms)\n", rate, ticks, per_tick,
            latencies [ticks / 2], latencies [ticks * 99 / 100], latencies [ticks - 1]);
    free (latencies);
    free (committed);
    free (last_seq);
    central_store_destroy (&central);
    node_store_destroy (&node);
    return 0;
}

static int
s_zmq (size_t size, int count)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    int port = zsock_bind (router, "tcp://127.0.0.1:*[50000-]");
    zsock_t *dealer = zsock_new_dealer (NULL);
    zsock_set_sndhwm (dealer, 1000);
    zsock_connect (dealer, "tcp://127.0.0.1:%d", port);
    char *body = calloc (1, size);
    //  Warm the connection up before the clock starts.
    zstr_send (dealer, "hello");
    zmsg_t *first = zmsg_recv (router);
    zmsg_destroy (&first);
    double start = bench_now_ms ();
    int received = 0;
    zpoller_t *poller = zpoller_new (router, NULL);
    for (int sent = 0; sent < count || received < count;) {
        if (sent < count && zmq_send (zsock_resolve (dealer), body, size, ZMQ_DONTWAIT) >= 0)
            sent++;
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        while (zmq_msg_recv (&msg, zsock_resolve (router), ZMQ_DONTWAIT) >= 0) {
            if (!zmq_msg_more (&msg))
                received++;
        }
        zmq_msg_close (&msg);
        if (sent == count && received < count)
            zpoller_wait (poller, 10);
    }
    double seconds = (bench_now_ms () - start) / 1000.0;
    printf ("libzmq raw: %d messages of %zu bytes in %.3f s: %.0f messages/s, %.0f MB/s\n",
            count, size, seconds, count / seconds, count * (double) size / seconds / 1e6);
    zpoller_destroy (&poller);
    free (body);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    return 0;
}

static int
s_batch_size (const char *node_data)
{
    int error = 0;
    node_store_t *node = node_store_open (node_data, &error);
    uint8_t *payload = NULL;
    size_t size = 0;
    uint64_t last;
    if (!node || node_store_read_batch (node, 1, 1000, 256 * 1024, &payload, &size, &last))
        return 2;
    printf ("%zu\n", size);
    free (payload);
    node_store_destroy (&node);
    return 0;
}

#define S_NODES_MAX 128

static int
s_downlink (const char *central_data, const char *nodes_dir, int entries)
{
    node_store_t *nodes [S_NODES_MAX];
    int count = 0;
    for (int index = 0; index < cp_municipality_count () && count < S_NODES_MAX; index++) {
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", nodes_dir, cp_municipality_code (index));
        int rc;
        if (zsys_file_exists (path) && (nodes [count] = node_store_open (path, &rc)))
            count++;
    }
    if (count == 0 || entries < 1) {
        fprintf (stderr, "bench_sync: no node under %s\n", nodes_dir);
        return 2;
    }
    double *latencies = calloc ((size_t) (count * entries), sizeof (double));
    assert (latencies);
    size_t measured = 0;
    int rc = 0;
    for (int entry = 0; rc == 0 && entry < entries; entry++) {
        char why [512] = "";
        //  A notice, as nodes refuse a directive entry whose body is not one.
        cp_directive_t notice = {.kind = CP_DIRECTIVE_NOTICE};
        snprintf (notice.text, sizeof notice.text, "bench entry %d", entry);
        size_t body_size = 0;
        uint8_t *body = cp_directive_encode (&notice, &body_size);
        assert (body);
        uint64_t seq;
        rc = central_admin_publish (central_data, NULL, CP_DOWNLINK_DIRECTIVE, "all", body,
                                    body_size, &seq, why, sizeof why);
        free (body);
        double published = bench_now_ms ();
        if (rc) {
            fprintf (stderr, "bench_sync: publish: %s\n", why);
            break;
        }
        bool *arrived = calloc ((size_t) count, sizeof (bool));
        int left = count;
        while (left > 0 && bench_now_ms () - published < 30000) {
            for (int node = 0; node < count; node++) {
                uint64_t cursor = 0;
                if (!arrived [node] && node_store_downlink_cursor (nodes [node], &cursor) == 0
                &&  cursor >= seq) {
                    arrived [node] = true;
                    latencies [measured++] = bench_now_ms () - published;
                    left--;
                }
            }
            zclock_sleep (1);
        }
        free (arrived);
        if (left) {
            fprintf (stderr, "bench_sync: entry %" PRIu64 " did not reach %d node(s) in 30 s\n",
                     seq, left);
            rc = 1;
        }
    }
    bench_sort_ms (latencies, measured);
    if (measured)
        printf ("downlink: %zu deliveries (%d entries to %d nodes): p50 %.0f ms, p99 %.0f ms, "
                "max %.0f ms (target p99 < 1000 ms)\n", measured, entries, count,
                latencies [measured / 2], latencies [measured * 99 / 100],
                latencies [measured - 1]);
    free (latencies);
    for (int node = 0; node < count; node++)
        node_store_destroy (&nodes [node]);
    return rc;
}

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        return 2;
    if (argc >= 4 && streq (argv [1], "latency"))
        return s_latency (argv [2], argv [3], argc > 4? atoi (argv [4]): 10,
                          argc > 5? atoi (argv [5]): 10000);
    if (argc == 3 && streq (argv [1], "batchsize"))
        return s_batch_size (argv [2]);
    if (argc == 4 && streq (argv [1], "zmq"))
        return s_zmq ((size_t) atol (argv [2]), atoi (argv [3]));
    if (argc >= 4 && streq (argv [1], "downlink"))
        return s_downlink (argv [2], argv [3], argc > 4? atoi (argv [4]): 20);
    fprintf (stderr, "usage: bench_sync latency NODE_DATA CENTRAL_DATA [SECONDS] [RATE]\n"
                     "       bench_sync zmq SIZE COUNT\n"
                     "       bench_sync batchsize NODE_DATA\n"
                     "       bench_sync downlink CENTRAL_DATA NODES_DIR [ENTRIES]\n");
    return 2;
}
