/*  test_central_wire: the central's server actor over a real socket.

    Each test sets up a central in a temporary directory, starts the actor
    on tcp://127.0.0.1 with a port the system picks, and talks to it with
    raw DEALER sockets, frame by frame, as a node (or an attacker) would:
    HELLO and WELCOME, batches and their ACKs, duplicates, gaps, and every
    kind of malformed message.  Then it stops the actor ($TERM commits
    what it holds) and opens the store to check what was counted: LMDB
    wants one handle per process, so the store is read only while no actor
    holds it.                                                               */

#define _XOPEN_SOURCE 700      //  nftw, to remove the temporary directories

#include "central_server.h"
#include "central_store.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_municipality.h"
#include "cp_wire.h"
#include "testing.h"

#include <czmq.h>
#include <ftw.h>
#include <sodium.h>

#define S_TIMEOUT 5000          //  ms to wait for a reply

//  =====================================================================
//  The central under test

static char s_dir [256];
static char s_endpoint [256];

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static void
s_setup_central (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/test_central_wire.XXXXXX");
    if (!mkdtemp (s_dir) || central_store_create (s_dir, "tcp://127.0.0.1:*", 2)) {
        fprintf (stderr, "  cannot set up a central in %s\n", s_dir);
        exit (1);
    }
}

//  Starts the actor on the central; returns it (NULL if BIND failed, with
//  the reply's message in why).
static zactor_t *
s_start (char *why, size_t why_size)
{
    zactor_t *server = zactor_new (central_server, s_dir);
    assert (server);
    zstr_sendx (server, "BIND", "tcp://127.0.0.1:*", NULL);
    char *status = NULL, *message = NULL;
    zsock_recv (server, "ss", &status, &message);
    bool ok = status && streq (status, "OK");
    snprintf (ok? s_endpoint: why, ok? sizeof s_endpoint: why_size, "%s",
              message? message: "");
    zstr_free (&status);
    zstr_free (&message);
    if (!ok)
        zactor_destroy (&server);
    return server;
}

static zactor_t *
s_start_central (void)
{
    s_setup_central ();
    char why [256];
    zactor_t *server = s_start (why, sizeof why);
    if (!server) {
        fprintf (stderr, "  the server did not start: %s\n", why);
        exit (1);
    }
    return server;
}

static void
s_remove_central (void)
{
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static central_store_t *
s_open_store (void)
{
    int error = 0;
    central_store_t *store = central_store_open (s_dir, CENTRAL_STORE_READONLY, &error);
    if (!store) {
        fprintf (stderr, "  cannot open the store: %s\n", cp_strerror (error));
        exit (1);
    }
    return store;
}

static uint64_t
s_counter (central_store_t *store, int code)
{
    central_counter_t counters [64];
    size_t count = 0;
    central_store_counters (store, counters, 64, &count);
    for (size_t index = 0; index < count; index++)
        if (counters [index].code == code)
            return counters [index].count;
    return 0;
}

//  =====================================================================
//  A raw node

static zsock_t *
s_dealer (void)
{
    zsock_t *dealer = zsock_new_dealer (s_endpoint);
    assert (dealer);
    zsock_set_rcvtimeo (dealer, S_TIMEOUT);
    zsock_set_linger (dealer, 0);
    return dealer;
}

//  Sends frames given as (data, size) pairs, ending with NULL.
static void
s_send_frames (zsock_t *dealer, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, dealer);
    const void *data;
    while ((data = va_arg (args, const void *))) {
        size_t size = va_arg (args, size_t);
        zmsg_addmem (msg, data, size);
    }
    va_end (args);
    zmsg_send (&msg, dealer);
}

static void
s_send_body (zsock_t *dealer, const char *command, uint8_t *body, size_t size)
{
    s_send_frames (dealer, command, strlen (command), body, size, NULL);
    free (body);
}

static void
s_hello (zsock_t *dealer, const char *municipality, uint64_t head)
{
    cp_hello_t hello = {CP_WIRE_VERSION, "", head, 0, 0};
    snprintf (hello.municipality, sizeof hello.municipality, "%s", municipality);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    s_send_body (dealer, "HELLO", body, size);
}

//  Receives one reply: its command and body.  Returns the command (0 when
//  nothing came within the timeout).
static int
s_reply (zsock_t *dealer, zframe_t **body)
{
    *body = NULL;
    zmsg_t *msg = zmsg_recv (dealer);
    if (!msg)
        return 0;
    zframe_t *command = zmsg_pop (msg);
    *body = zmsg_pop (msg);
    int code = command && *body && zmsg_size (msg) == 0
             ? cp_wire_command (zframe_data (command), zframe_size (command)): 0;
    zframe_destroy (&command);
    zmsg_destroy (&msg);
    return code;
}

//  Expects WELCOME; returns its expected sequence (0 on anything else).
static uint64_t
s_expect_welcome (zsock_t *dealer)
{
    zframe_t *body;
    int command = s_reply (dealer, &body);
    CHECK_EQ_INT (command, CP_CMD_WELCOME);
    cp_welcome_t welcome = {0};
    if (command == CP_CMD_WELCOME) {
        CHECK_EQ_INT (cp_wire_welcome_decode (zframe_data (body), zframe_size (body), &welcome), 0);
        CHECK_EQ_INT (welcome.catalogue, 2);
        CHECK_EQ_INT (welcome.window, CENTRAL_SERVER_WINDOW);
    }
    zframe_destroy (&body);
    return welcome.expected;
}

static void
s_expect_ack (zsock_t *dealer, uint64_t seq)
{
    zframe_t *body;
    int command = s_reply (dealer, &body);
    CHECK_EQ_INT (command, CP_CMD_ACK);
    uint64_t acked = 0;
    if (command == CP_CMD_ACK)
        CHECK_EQ_INT (cp_wire_ack_decode (zframe_data (body), zframe_size (body), &acked), 0);
    CHECK_EQ_INT (acked, seq);
    zframe_destroy (&body);
}

static void
s_expect_nack (zsock_t *dealer, uint64_t expected, int reason)
{
    zframe_t *body;
    int command = s_reply (dealer, &body);
    CHECK_EQ_INT (command, CP_CMD_NACK);
    cp_reply_t nack = {0, 0};
    if (command == CP_CMD_NACK)
        CHECK_EQ_INT (cp_wire_nack_decode (zframe_data (body), zframe_size (body), &nack), 0);
    CHECK_EQ_INT (nack.seq, expected);
    if (nack.reason != reason)
        fprintf (stderr, "  NACK reason %s, expected %s\n", cp_strerror (nack.reason),
                 cp_strerror (reason));
    CHECK_EQ_INT (nack.reason, reason);
    zframe_destroy (&body);
}

//  count case_opened events from sequence first, cases named after tag.
typedef struct {
    uint8_t *header, *payload;
    size_t header_size, payload_size;
} s_batch_t;

static s_batch_t
s_batch (const char *municipality, uint64_t first, size_t count, const char *tag)
{
    cp_event_t *events = calloc (count, sizeof (cp_event_t));
    assert (events);
    for (size_t index = 0; index < count; index++) {
        cp_event_t *event = &events [index];
        event->type = CP_EVENT_CASE_OPENED;
        event->age = 9;
        event->date = cp_date_from_civil (2022, 3, 1 + (int) (index % 28));
        snprintf (event->id, sizeof event->id, "e-%s-%zu", tag, index);
        snprintf (event->case_id, sizeof event->case_id, "c-%s-%zu", tag, index);
        snprintf (event->codes [0], sizeof event->codes [0], "F");
        snprintf (event->codes [1], sizeof event->codes [1], "majority");
        snprintf (event->codes [2], sizeof event->codes [2], "school");
    }
    s_batch_t batch;
    batch.payload = cp_codec_batch_encode (first, events, count, &batch.payload_size);
    free (events);
    cp_batch_header_t header = {0};
    snprintf (header.municipality, sizeof header.municipality, "%s", municipality);
    header.first = first;
    header.last = first + count - 1;
    header.head = header.last + 10;
    snprintf (header.node_key, sizeof header.node_key, "none");
    snprintf (header.data_key, sizeof header.data_key, "none");
    batch.header = cp_wire_batch_header_encode (&header, &batch.header_size);
    assert (batch.header && batch.payload);
    return batch;
}

static void
s_send_batch (zsock_t *dealer, const s_batch_t *batch)
{
    s_send_frames (dealer, "BATCH", (size_t) 5, batch->header, batch->header_size,
                   batch->payload, batch->payload_size, "", (size_t) 0, NULL);
}

static void
s_batch_free (s_batch_t *batch)
{
    free (batch->header);
    free (batch->payload);
}

static int64_t
s_opened (central_store_t *store, const char *scope)
{
    cp_period_t period;
    cp_period_parse ("2022", &period);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, &period, scope);
    CHECK_EQ_INT (central_store_view (store, scope, view), 0);
    cp_view_figures (view, central_store_catalogue (store), 2, figures);
    int64_t opened = figures->opened;
    free (view);
    free (figures);
    return opened;
}

//  =====================================================================
//  Tests

static void
test_hello_welcome (void)
{
    zactor_t *server = s_start_central ();
    zsock_t *node = s_dealer ();
    s_hello (node, "berat", 0);
    CHECK_EQ_INT (s_expect_welcome (node), 1);
    //  HELLO again on the same connection is fine.
    s_hello (node, "berat", 0);
    CHECK_EQ_INT (s_expect_welcome (node), 1);
    //  PING → PONG, and the head is noted.
    size_t size;
    uint8_t *body = cp_wire_ping_encode (42, &size);
    s_send_body (node, "PING", body, size);
    zframe_t *reply;
    CHECK_EQ_INT (s_reply (node, &reply), CP_CMD_PONG);
    if (reply)
        CHECK_EQ_INT (cp_wire_pong_decode (zframe_data (reply), zframe_size (reply)), 0);
    zframe_destroy (&reply);
    zsock_destroy (&node);
    zactor_destroy (&server);

    central_store_t *store = s_open_store ();
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("berat"), &cursor), 0);
    CHECK_EQ_INT (cursor.head, 42);
    CHECK (cursor.last_seen > 0);
    CHECK_EQ_INT (cursor.acked, 0);
    central_store_destroy (&store);
    s_remove_central ();
}

static void
test_batches (void)
{
    zactor_t *server = s_start_central ();
    zsock_t *node = s_dealer ();
    s_hello (node, "diber", 0);
    CHECK_EQ_INT (s_expect_welcome (node), 1);
    s_batch_t first = s_batch ("diber", 1, 3, "a");
    s_send_batch (node, &first);
    s_expect_ack (node, 3);
    //  The same batch again: acknowledged, not applied.
    s_send_batch (node, &first);
    s_expect_ack (node, 3);
    //  A gap: 6..7 after 3.
    s_batch_t gap = s_batch ("diber", 6, 2, "b");
    s_send_batch (node, &gap);
    s_expect_nack (node, 4, CP_EGAP);
    //  A window of batches sent at once: answered in order.
    s_batch_t window [CENTRAL_SERVER_WINDOW];
    for (int index = 0; index < CENTRAL_SERVER_WINDOW; index++) {
        char tag [8];
        snprintf (tag, sizeof tag, "w%d", index);
        window [index] = s_batch ("diber", 4 + 5 * (uint64_t) index, 5, tag);
        s_send_batch (node, &window [index]);
    }
    for (int index = 0; index < CENTRAL_SERVER_WINDOW; index++)
        s_expect_ack (node, 8 + 5 * (uint64_t) index);
    //  A reconnected node is told where to go on.
    zsock_t *again = s_dealer ();
    s_hello (again, "diber", 99);
    CHECK_EQ_INT (s_expect_welcome (again), 4 + 5 * CENTRAL_SERVER_WINDOW);
    zsock_destroy (&again);
    zsock_destroy (&node);
    zactor_destroy (&server);

    central_store_t *store = s_open_store ();
    CHECK_EQ_INT (s_opened (store, "national"), 3 + 5 * CENTRAL_SERVER_WINDOW);
    CHECK_EQ_INT (s_opened (store, "county:diber"), 3 + 5 * CENTRAL_SERVER_WINDOW);
    CHECK_EQ_INT (s_counter (store, CP_EGAP), 1);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("diber"), &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 3 + 5 * CENTRAL_SERVER_WINDOW);
    CHECK_EQ_INT (cursor.duplicates, 1);
    CHECK_EQ_INT (cursor.batches, 1 + CENTRAL_SERVER_WINDOW);
    CHECK_EQ_INT (cursor.head, 99);
    central_store_destroy (&store);
    s_batch_free (&first);
    s_batch_free (&gap);
    for (int index = 0; index < CENTRAL_SERVER_WINDOW; index++)
        s_batch_free (&window [index]);
    s_remove_central ();
}

static void
test_garbage (void)
{
    zactor_t *server = s_start_central ();
    zsock_t *bad = s_dealer ();
    uint8_t junk [2000];
    memset (junk, 0xc1, sizeof junk);       //  0xc1: msgpack's reserved byte

    //  Before HELLO
    s_send_frames (bad, "GARBAGE", (size_t) 7, junk, (size_t) 4, NULL);
    s_expect_nack (bad, 0, CP_EPROTOCOL);
    s_send_frames (bad, "", (size_t) 0, NULL);
    s_expect_nack (bad, 0, CP_EPROTOCOL);
    s_send_frames (bad, "WELCOME", (size_t) 7, junk, (size_t) 4, NULL);
    s_expect_nack (bad, 0, CP_EPROTOCOL);
    s_send_frames (bad, "HELLO", (size_t) 5, junk, (size_t) 4, NULL);
    s_expect_nack (bad, 0, CP_EMALFORMED);
    s_send_frames (bad, "HELLO", (size_t) 5, junk, sizeof junk, NULL);
    s_expect_nack (bad, 0, CP_ETOOBIG);
    s_send_frames (bad, "HELLO", (size_t) 5, NULL);
    s_expect_nack (bad, 0, CP_EMALFORMED);
    s_hello (bad, "atlantis", 0);
    s_expect_nack (bad, 0, CP_EUNKNOWNPEER);
    cp_hello_t hello = {CP_WIRE_VERSION + 1, "berat", 0, 0, 0};
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    s_send_body (bad, "HELLO", body, size);
    s_expect_nack (bad, 0, CP_EVERSION);
    s_batch_t batch = s_batch ("berat", 1, 2, "g");
    s_send_batch (bad, &batch);
    s_expect_nack (bad, 0, CP_EPROTOCOL);
    body = cp_wire_ping_encode (1, &size);
    s_send_body (bad, "PING", body, size);
    s_expect_nack (bad, 0, CP_EPROTOCOL);
    s_send_frames (bad, "A", (size_t) 1, "B", (size_t) 1, "C", (size_t) 1, "D", (size_t) 1,
                   "E", (size_t) 1, "F", (size_t) 1, "G", (size_t) 1, NULL);
    s_expect_nack (bad, 0, CP_EMALFORMED);

    //  With a session: batch refusals carry the cursor
    s_hello (bad, "berat", 0);
    CHECK_EQ_INT (s_expect_welcome (bad), 1);
    s_batch_t other = s_batch ("dimal", 1, 2, "o");
    s_send_batch (bad, &other);
    s_expect_nack (bad, 1, CP_EAUTH);
    s_send_frames (bad, "BATCH", (size_t) 5, batch.header, batch.header_size, NULL);
    s_expect_nack (bad, 1, CP_EMALFORMED);
    s_send_frames (bad, "BATCH", (size_t) 5, batch.header, batch.header_size,
                   junk, (size_t) 100, "", (size_t) 0, NULL);
    s_expect_nack (bad, 1, CP_EMALFORMED);
    s_send_frames (bad, "BATCH", (size_t) 5, junk, (size_t) 10, batch.payload,
                   batch.payload_size, "", (size_t) 0, NULL);
    s_expect_nack (bad, 1, CP_EMALFORMED);
    s_send_frames (bad, "PING", (size_t) 4, junk, (size_t) 3, NULL);
    s_expect_nack (bad, 0, CP_EMALFORMED);
    body = cp_wire_pong_encode (&size);
    s_send_body (bad, "PONG", body, size);
    s_expect_nack (bad, 0, CP_EPROTOCOL);
    //  A frame over ZMQ_MAXMSGSIZE: libzmq drops the connection, no reply.
    size_t huge_size = CP_CODEC_BATCH_MAX + 128 * 1024;
    uint8_t *huge = calloc (1, huge_size);
    assert (huge);
    s_send_frames (bad, "BATCH", (size_t) 5, batch.header, batch.header_size, huge,
                   huge_size, "", (size_t) 0, NULL);
    free (huge);
    zframe_t *reply;
    zsock_set_rcvtimeo (bad, 500);
    CHECK_EQ_INT (s_reply (bad, &reply), 0);
    zframe_destroy (&reply);
    zsock_destroy (&bad);

    //  A good node is served all along.
    zsock_t *good = s_dealer ();
    s_hello (good, "berat", 2);
    CHECK_EQ_INT (s_expect_welcome (good), 1);
    s_send_batch (good, &batch);
    s_expect_ack (good, 2);
    zsock_destroy (&good);
    zactor_destroy (&server);

    central_store_t *store = s_open_store ();
    CHECK_EQ_INT (s_opened (store, "national"), 2);
    CHECK_EQ_INT (s_counter (store, CP_EPROTOCOL), 6);
    CHECK_EQ_INT (s_counter (store, CP_EMALFORMED), 7);
    CHECK_EQ_INT (s_counter (store, CP_ETOOBIG), 1);
    CHECK_EQ_INT (s_counter (store, CP_EUNKNOWNPEER), 1);
    CHECK_EQ_INT (s_counter (store, CP_EVERSION), 1);
    CHECK_EQ_INT (s_counter (store, CP_EAUTH), 1);
    central_store_destroy (&store);
    s_batch_free (&batch);
    s_batch_free (&other);
    s_remove_central ();
}

//  Many nodes at once, each with a window of batches: every batch applied
//  once, whatever the grouping.
static void
test_many_nodes (void)
{
    zactor_t *server = s_start_central ();
    enum { NODES = 20, BATCHES = 6, EVENTS = 50 };
    zsock_t *nodes [NODES];
    for (int index = 0; index < NODES; index++) {
        nodes [index] = s_dealer ();
        s_hello (nodes [index], cp_municipality_code (index * 3), 0);
    }
    for (int index = 0; index < NODES; index++)
        CHECK_EQ_INT (s_expect_welcome (nodes [index]), 1);
    for (int round = 0; round < BATCHES; round++)
        for (int index = 0; index < NODES; index++) {
            char tag [16];
            snprintf (tag, sizeof tag, "n%d-%d", index, round);
            s_batch_t batch = s_batch (cp_municipality_code (index * 3),
                                       1 + (uint64_t) round * EVENTS, EVENTS, tag);
            s_send_batch (nodes [index], &batch);
            s_batch_free (&batch);
        }
    for (int index = 0; index < NODES; index++) {
        for (int round = 0; round < BATCHES; round++)
            s_expect_ack (nodes [index], (uint64_t) (round + 1) * EVENTS);
        zsock_destroy (&nodes [index]);
    }
    zactor_destroy (&server);
    central_store_t *store = s_open_store ();
    CHECK_EQ_INT (s_opened (store, "national"), NODES * BATCHES * EVENTS);
    central_store_destroy (&store);
    s_remove_central ();
}

//  A clean stop and a restart: the cursor is where it was; and a second
//  server on the same data directory is refused.
static void
test_restart (void)
{
    zactor_t *server = s_start_central ();
    char why [256] = "";
    zactor_t *second = s_start (why, sizeof why);
    CHECK (second == NULL);
    CHECK_STR_CONTAINS (why, cp_strerror (CP_EBUSY));
    zactor_destroy (&second);

    zsock_t *node = s_dealer ();
    s_hello (node, "vlore", 0);
    CHECK_EQ_INT (s_expect_welcome (node), 1);
    s_batch_t batch = s_batch ("vlore", 1, 10, "r");
    s_send_batch (node, &batch);
    s_expect_ack (node, 10);
    zsock_destroy (&node);
    zactor_destroy (&server);

    server = s_start (why, sizeof why);
    CHECK (server);
    node = s_dealer ();
    s_hello (node, "vlore", 10);
    CHECK_EQ_INT (s_expect_welcome (node), 11);
    s_send_batch (node, &batch);
    s_expect_ack (node, 10);
    zsock_destroy (&node);
    zactor_destroy (&server);
    s_batch_free (&batch);

    central_store_t *store = s_open_store ();
    CHECK_EQ_INT (s_opened (store, "municipality:vlore"), 10);
    central_store_destroy (&store);
    s_remove_central ();
}

#define main s_main
TESTING_MAIN (
    TEST (test_hello_welcome),
    TEST (test_batches),
    TEST (test_garbage),
    TEST (test_many_nodes),
    TEST (test_restart)
)
#undef main

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        return 1;
    return s_main (argc, argv);
}
