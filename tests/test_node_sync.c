/*  test_node_sync: the node's sync actor (node_sync) against a central
    played by the test: a ROUTER with the central's transport key, its ZAP
    handler and its signatures (central_auth), which answers as the test
    decides.  It makes what a real central does only by accident: a
    session in which PINGs are answered and batches are not (a reply lost,
    a group never answered), and a connection on which HELLOs go and
    nothing comes back.  The node must not wait for ever: once
    S_STALLED_MS pass with batches in flight and none acknowledged, it
    says HELLO again and ships from where the central says, and an ACK
    then moves its cursor; after half a minute of unanswered HELLOs it
    makes a new connection.

    The keys are made and the node enrolled through the same functions as
    cpsync-admin and cpsync-node enrol; the events are imported from a
    file as cpsync-node import does.                                        */

#define _XOPEN_SOURCE 700      //  nftw, mkdtemp

#include "central_admin.h"
#include "central_auth.h"
#include "central_store.h"
#include "cp_batch.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"
#include "cp_wire.h"
#include "node_import.h"
#include "node_keys.h"
#include "node_store.h"
#include "node_sync.h"

#include <czmq.h>
#include <ftw.h>
#include <sodium.h>

#include "testing.h"

#define S_EVENTS 3000           //  three batches of the node's
#define S_WINDOW 2              //  what the played central offers
#define S_STALLED_MS 20000      //  node_sync's patience with a full window
#define S_CATALOGUE 1

static char s_dir [4096];

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info, (void) flag, (void) ftw;
    return remove (path);
}

#define S_CHAINS_MAX 64          //  batch ends the played central remembers

//  The played central: its store and keys, the ROUTER it serves on, and
//  the log's chain at the end of each batch it heard, so that its WELCOME
//  names the chain the node's log has there, as a real central's does.
typedef struct {
    central_store_t *store;
    central_auth_t *auth;
    zsock_t *router;
    char endpoint [256];
    uint64_t ends [S_CHAINS_MAX];
    uint8_t chains [S_CHAINS_MAX][CP_WIRE_CHAIN_SIZE];
    size_t chain_count;
} s_central_t;

//  Makes the central and the node (enrolled, S_EVENTS events imported).
//  Returns 0, or -1 having said why.
static int
s_setup (char *central_dir, char *node_dir, size_t size)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_node_sync.XXXXXX", base && *base? base: "/tmp");
    if (!mkdtemp (s_dir))
        return -1;
    snprintf (central_dir, size, "%s/central", s_dir);
    snprintf (node_dir, size, "%s/node", s_dir);
    char why [512] = "", *bundle = NULL;
    int rc = central_admin_init (central_dir, "tcp://127.0.0.1:*", S_CATALOGUE, NULL, why,
                                 sizeof why);
    if (rc == 0)
        rc = central_admin_enrol (central_dir, NULL, "diber", NULL, false, 0, &bundle, why,
                                  sizeof why);
    if (rc == 0)
        rc = node_store_create (node_dir, "diber", S_CATALOGUE);
    if (rc == 0)
        rc = node_keys_install (node_dir, "diber", bundle, strlen (bundle), why, sizeof why);
    free (bundle);
    char events [4200];
    snprintf (events, sizeof events, "%s/events.jsonl", s_dir);
    FILE *file = rc == 0? fopen (events, "w"): NULL;
    for (int index = 0; file && index < S_EVENTS; index++)
        fprintf (file, "{\"id\":\"e-%d\",\"case\":\"c-%d\",\"date\":\"2022-03-%02d\","
                 "\"type\":\"case_opened\",\"age\":9,\"sex\":\"F\",\"ethnicity\":\"roma\","
                 "\"referral\":\"school\"}\n", index, index, 1 + index % 28);
    if (file)
        fclose (file);
    node_store_t *store = rc == 0? node_store_open (node_dir, &rc): NULL;
    node_import_stats_t stats;
    if (store)
        rc = node_import_file (store, events, stderr, false, &stats);
    node_store_destroy (&store);
    if (rc)
        fprintf (stderr, "  set-up failed: %s %s\n", cp_strerror (rc), why);
    return rc? -1: 0;
}

static int
s_central_start (s_central_t *central, const char *dir)
{
    int rc = 0;
    char why [512] = "";
    central->store = central_store_open (dir, 0, &rc);
    central->auth = central->store? central_auth_new (central->store, dir, &rc, why, sizeof why)
                                  : NULL;
    if (!central->auth) {
        fprintf (stderr, "  the played central does not start: %s %s\n", cp_strerror (rc), why);
        return -1;
    }
    central->router = zsock_new (ZMQ_ROUTER);
    assert (central->router);
    if (central_auth_secure (central->auth, central->router)
    ||  zsock_bind (central->router, "tcp://127.0.0.1:*") < 0)
        return -1;
    char *bound = zsock_last_endpoint (central->router);
    snprintf (central->endpoint, sizeof central->endpoint, "%s", bound);
    zstr_free (&bound);
    return 0;
}

static void
s_central_stop (s_central_t *central)
{
    zsock_destroy (&central->router);
    central_auth_destroy (&central->auth);
    central_store_destroy (&central->store);
}

//  Sends command and body (freed) to routing_id, signed for diber's node
//  as the command signed_as (a real central signs each as itself), unless
//  it is a PONG.
static void
s_reply_as (s_central_t *central, zframe_t *routing_id, const char *command,
            const char *signed_as, uint8_t *body, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zframe_t *to = zframe_dup (routing_id);
    zmsg_append (msg, &to);
    zmsg_addstr (msg, command);
    zmsg_addmem (msg, body, size);
    if (strcmp (command, "PONG") != 0) {
        char key_id [CP_KEY_ID_MAX + 1];
        uint8_t signature [CP_SIGNATURE_SIZE];
        int rc = central_auth_sign_reply (central->auth, signed_as, "diber", body, size, NULL,
                                          key_id, signature);
        assert (rc == 0);
        zmsg_addstr (msg, key_id);
        zmsg_addmem (msg, signature, sizeof signature);
    }
    free (body);
    zmsg_send (&msg, central->router);
}

static void
s_reply (s_central_t *central, zframe_t *routing_id, const char *command, uint8_t *body,
         size_t size)
{
    s_reply_as (central, routing_id, command, command, body, size);
}

//  Acknowledges up to acked, granting window from then on.
static void
s_ack (s_central_t *central, zframe_t *routing_id, uint64_t acked, uint32_t window)
{
    cp_ack_t ack = {.acked = acked, .window = window};
    size_t size;
    uint8_t *body = cp_wire_ack_encode (&ack, &size);
    s_reply (central, routing_id, "ACK", body, size);
}

//  What the node said, as the played central saw it.
typedef struct {
    int command;                //  a cp_command_t; 0 when nothing came in time
    uint64_t first;             //  BATCH: its first sequence
    zframe_t *routing_id;
    uint8_t log [CP_WIRE_LOG_SIZE];     //  HELLO, BATCH: the log named
    uint64_t acked;             //  HELLO: what the node holds acknowledged
    uint64_t downlink;          //  HELLO, DOWNACK: the node's downlink cursor
    int code;                   //  DOWNACK: the refusal, or 0
} s_heard_t;

//  Waits up to msecs for a message from the node, answering ZAP requests
//  meanwhile.
static s_heard_t
s_hear (s_central_t *central, int msecs)
{
    s_heard_t heard = {0, 0, NULL, {0}, 0, 0, 0};
    int64_t until = zclock_mono () + msecs;
    zpoller_t *poller = zpoller_new (central->router, central_auth_zap (central->auth), NULL);
    while (!heard.command && zclock_mono () < until) {
        void *which = zpoller_wait (poller, (int) (until - zclock_mono ()));
        if (which == central_auth_zap (central->auth)) {
            char why [256];
            central_auth_on_zap (central->auth, why, sizeof why);
            continue;
        }
        if (which != central->router)
            continue;
        zmsg_t *msg = zmsg_recv (central->router);
        zframe_t *routing_id = zmsg_pop (msg);
        zframe_t *command = zmsg_first (msg);
        zframe_t *body = zmsg_next (msg);
        heard.command = command? cp_wire_command (zframe_data (command), zframe_size (command))
                               : 0;
        if (heard.command == CP_CMD_BATCH && body) {
            //  The frames as the central takes them apart (cp_batch_read).
            const uint8_t *data [CP_BATCH_FRAMES] = {NULL};
            size_t sizes [CP_BATCH_FRAMES] = {0};
            size_t frames = 0;
            for (zframe_t *frame = body; frame && frames < CP_BATCH_FRAMES;
                 frame = zmsg_next (msg), frames++) {
                data [frames] = zframe_data (frame);
                sizes [frames] = zframe_size (frame);
            }
            cp_batch_frames_t batch;
            cp_batch_header_t header;
            if (cp_batch_read (data, sizes, frames, &batch, &header) == 0) {
                heard.first = header.first;
                memcpy (heard.log, header.log, CP_WIRE_LOG_SIZE);
                if (central->chain_count < S_CHAINS_MAX) {
                    central->ends [central->chain_count] = header.last;
                    memcpy (central->chains [central->chain_count++], header.chain,
                            CP_WIRE_CHAIN_SIZE);
                }
            }
        }
        cp_hello_t hello;
        if (heard.command == CP_CMD_HELLO && body
        &&  cp_wire_hello_decode (zframe_data (body), zframe_size (body), &hello) == 0) {
            memcpy (heard.log, hello.log, CP_WIRE_LOG_SIZE);
            heard.acked = hello.acked;
            heard.downlink = hello.downlink;
        }
        cp_reply_t downack;
        if (heard.command == CP_CMD_DOWNACK && body
        &&  cp_wire_downack_decode (zframe_data (body), zframe_size (body), &downack) == 0) {
            heard.downlink = downack.seq;
            heard.code = downack.reason;
        }
        heard.routing_id = routing_id;
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return heard;
}

//  Waits for a command other than PING (answered with PONG meanwhile).
static s_heard_t
s_hear_past_pings (s_central_t *central, int msecs)
{
    int64_t until = zclock_mono () + msecs;
    while (zclock_mono () < until) {
        s_heard_t heard = s_hear (central, (int) (until - zclock_mono ()));
        if (heard.command != CP_CMD_PING)
            return heard;
        size_t size;
        uint8_t *body = cp_wire_pong_encode (&size);
        s_reply (central, heard.routing_id, "PONG", body, size);
        zframe_destroy (&heard.routing_id);
    }
    return (s_heard_t) {0, 0, NULL, {0}, 0, 0, 0};
}

static void
s_welcome (s_central_t *central, zframe_t *routing_id, uint64_t expected)
{
    cp_welcome_t welcome = {.expected = expected, .catalogue = S_CATALOGUE, .window = S_WINDOW};
    for (size_t index = 0; index < central->chain_count; index++)
        if (central->ends [index] == expected - 1)
            memcpy (welcome.chain, central->chains [index], CP_WIRE_CHAIN_SIZE);
    size_t size;
    uint8_t *body = cp_wire_welcome_encode (&welcome, &size);
    s_reply (central, routing_id, "WELCOME", body, size);
}

static uint64_t
s_acked (const char *node_dir)
{
    int rc;
    node_store_t *store = node_store_open (node_dir, &rc);
    uint64_t head = 0, acked = 0, cases = 0;
    if (store)
        node_store_counts (store, &head, &acked, &cases);
    node_store_destroy (&store);
    return acked;
}

//  The node, running, and the central it talks to.
typedef struct {
    char central_dir [4200];
    char node_dir [4200];
    s_central_t central;
    node_sync_config_t config;  //  must outlive the actor
    zactor_t *sync;
} s_world_t;

//  Sets both up and starts the played central and the node's actor.
//  Returns 0, or -1 (counted as a failure) with what was started stopped.
static int
s_world_start (s_world_t *world)
{
    memset (world, 0, sizeof *world);
    if (s_setup (world->central_dir, world->node_dir, sizeof world->central_dir)
    ||  s_central_start (&world->central, world->central_dir)) {
        testing_failures_++;
        s_central_stop (&world->central);
        return -1;
    }
    world->config = (node_sync_config_t) {.data = world->node_dir,
                                          .central = world->central.endpoint};
    world->sync = zactor_new (node_sync_actor, &world->config);
    assert (world->sync);
    return 0;
}

static void
s_world_stop (s_world_t *world)
{
    zactor_destroy (&world->sync);
    s_central_stop (&world->central);
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  The node's first HELLO, welcomed from sequence 1 on (the caller destroys
//  its routing id).
static s_heard_t
s_first_hello_welcomed (s_central_t *central)
{
    s_heard_t hello = s_hear (central, 5000);
    CHECK_EQ_INT (hello.command, CP_CMD_HELLO);
    if (hello.command == CP_CMD_HELLO)
        s_welcome (central, hello.routing_id, 1);
    return hello;
}

//  Waits for the node's window, from first on, welcoming any HELLO that
//  comes first.  (A HELLO gets its WELCOME, and the window starts again.)
//  Returns the batches heard in a row: S_WINDOW when all is well.
static int
s_hear_window (s_central_t *central, uint64_t first)
{
    int batches = 0;
    for (int round = 0; batches < S_WINDOW && round < 10; round++) {
        s_heard_t heard = s_hear_past_pings (central, 5000);
        if (heard.command == CP_CMD_HELLO) {
            s_welcome (central, heard.routing_id, first);
            batches = 0;
        }
        else {
            CHECK_EQ_INT (heard.command, CP_CMD_BATCH);
            CHECK_EQ_INT (heard.first, first + 1000 * (uint64_t) batches);
            batches++;
        }
        zframe_destroy (&heard.routing_id);
        if (!heard.command)
            break;
    }
    return batches;
}

//  A window sent and never acknowledged while PINGs are answered: the node
//  starts over after S_STALLED_MS, not before, and ships again from the
//  sequence the new WELCOME names; an ACK then moves its cursor.
static void
test_stalled_window (void)
{
    s_world_t world;
    if (s_world_start (&world))
        return;
    s_central_t *central = &world.central;
    s_heard_t hello = s_first_hello_welcomed (central);
    zframe_destroy (&hello.routing_id);
    //  The window: two batches, from 1 on; then nothing but PINGs.  The
    //  node's wait starts when it sends them, which is after WELCOME went
    //  and before we have heard them (long before, under TSan): the
    //  earliest bound counts from the first instant, the latest from the
    //  second.
    int64_t welcomed = zclock_mono ();
    CHECK_EQ_INT (s_hear_window (central, 1), S_WINDOW);
    int64_t sent = zclock_mono ();
    s_heard_t again = s_hear_past_pings (central, S_STALLED_MS + 10000);
    int64_t now = zclock_mono (), waited = now - sent;
    CHECK_EQ_INT (again.command, CP_CMD_HELLO);
    CHECK (now - welcomed >= S_STALLED_MS - 100);
    CHECK (waited < S_STALLED_MS + 5000);
    printf ("  the node said HELLO again %.1f s after its window went unanswered\n",
            (double) waited / 1000);
    //  The central has the first batch: the node goes on from 1001.
    s_welcome (central, again.routing_id, 1001);
    s_heard_t batch = s_hear_past_pings (central, 5000);
    CHECK_EQ_INT (batch.command, CP_CMD_BATCH);
    CHECK_EQ_INT (batch.first, 1001);
    s_ack (central, batch.routing_id, 2000, S_WINDOW);
    zframe_destroy (&again.routing_id);
    zframe_destroy (&batch.routing_id);
    zclock_sleep (500);         //  the cursor is saved at most every 200 ms
    zactor_destroy (&world.sync);
    CHECK_EQ_INT (s_acked (world.node_dir), 2000);
    s_world_stop (&world);
}

//  An ACK that narrows the window: the node keeps what is in flight within
//  the new window, and sends the next batch only when an ACK makes room.
static void
test_window_narrowed (void)
{
    s_world_t world;
    if (s_world_start (&world))
        return;
    s_central_t *central = &world.central;
    s_heard_t hello = s_first_hello_welcomed (central);
    CHECK_EQ_INT (s_hear_window (central, 1), S_WINDOW);
    //  1..1000 acknowledged, 1001..2000 still in flight: a window of one
    //  is full, so nothing more comes, however long we wait.
    s_ack (central, hello.routing_id, 1000, 1);
    s_heard_t heard = s_hear_past_pings (central, 1500);
    CHECK_EQ_INT (heard.command, 0);
    zframe_destroy (&heard.routing_id);
    //  2000 acknowledged: room for one batch, the next.
    s_ack (central, hello.routing_id, 2000, 1);
    heard = s_hear_past_pings (central, 5000);
    CHECK_EQ_INT (heard.command, CP_CMD_BATCH);
    CHECK_EQ_INT (heard.first, 2001);
    zframe_destroy (&heard.routing_id);
    zframe_destroy (&hello.routing_id);
    zactor_destroy (&world.sync);
    s_world_stop (&world);
}

//  HELLOs heard and never answered (a connection that carries the node's
//  messages and none back): after HELLOs for about half a minute, each
//  pause twice the one before, the node makes a new connection (a new
//  routing id here) instead of asking on the old one for ever, and ships
//  once welcomed there.
static void
test_unanswered_hello (void)
{
    s_world_t world;
    if (s_world_start (&world))
        return;
    s_central_t *central = &world.central;
    s_heard_t first = s_hear (central, 5000);
    CHECK_EQ_INT (first.command, CP_CMD_HELLO);
    int64_t started = zclock_mono ();
    int hellos = 1;
    s_heard_t heard = {0, 0, NULL, {0}, 0, 0, 0};
    while (true) {
        heard = s_hear (central, 40000);
        if (heard.command != CP_CMD_HELLO || !first.routing_id
        ||  !zframe_eq (heard.routing_id, first.routing_id))
            break;
        hellos++;
        zframe_destroy (&heard.routing_id);
    }
    int64_t waited = zclock_mono () - started;
    printf ("  %d HELLOs on the first connection, a new one after %.1f s\n", hellos,
            (double) waited / 1000);
    CHECK_EQ_INT (heard.command, CP_CMD_HELLO);
    CHECK (heard.routing_id && first.routing_id
           && !zframe_eq (heard.routing_id, first.routing_id));
    CHECK_EQ_INT (hellos, 5);
    CHECK (waited > 25000 && waited < 40000);
    if (heard.command == CP_CMD_HELLO) {
        s_welcome (central, heard.routing_id, 1);
        CHECK_EQ_INT (s_hear_window (central, 1), S_WINDOW);
    }
    zframe_destroy (&first.routing_id);
    zframe_destroy (&heard.routing_id);
    s_world_stop (&world);
}

//  The node's log, as its store has it.
static node_store_log_t
s_log_info (const char *node_dir)
{
    node_store_log_t info;
    memset (&info, 0, sizeof info);
    int rc;
    node_store_t *store = node_store_open (node_dir, &rc);
    if (store)
        node_store_log_info (store, &info);
    node_store_destroy (&store);
    return info;
}

//  Waits for a command other than PING and BATCH (batches of a window
//  still on their way are let go).
static s_heard_t
s_hear_past_batches (s_central_t *central)
{
    s_heard_t heard = s_hear_past_pings (central, 5000);
    while (heard.command == CP_CMD_BATCH) {
        zframe_destroy (&heard.routing_id);
        heard = s_hear_past_pings (central, 5000);
    }
    return heard;
}

//  Ships a first window, acknowledged up to 2000, then refuses a batch so
//  that the node says HELLO again; returns that HELLO.
static s_heard_t
s_ship_then_hello (s_central_t *central, uint8_t *log)
{
    s_heard_t hello = s_first_hello_welcomed (central);
    memcpy (log, hello.log, CP_WIRE_LOG_SIZE);
    CHECK_EQ_INT (s_hear_window (central, 1), S_WINDOW);
    s_ack (central, hello.routing_id, 2000, S_WINDOW);
    zclock_sleep (300);
    size_t size;
    uint8_t *body = cp_wire_nack_encode (2001, CP_EGAP, &size);
    s_reply (central, hello.routing_id, "NACK", body, size);
    zframe_destroy (&hello.routing_id);
    //  The batches the ACK made room for come first.
    return s_hear_past_batches (central);
}

//  A central that holds this log only up to 1000 (it was restored from a
//  backup): the node's acknowledged cursor drops to 1000, it says so in
//  its store, and it ships again from 1001 under the same log.
static void
test_central_behind (void)
{
    s_world_t world;
    if (s_world_start (&world))
        return;
    s_central_t *central = &world.central;
    uint8_t log [CP_WIRE_LOG_SIZE];
    s_heard_t again = s_ship_then_hello (central, log);
    CHECK_EQ_INT (again.command, CP_CMD_HELLO);
    CHECK_EQ_INT (again.acked, 2000);
    CHECK (memcmp (again.log, log, sizeof log) == 0);
    s_welcome (central, again.routing_id, 1001);
    s_heard_t batch = s_hear_past_pings (central, 5000);
    CHECK_EQ_INT (batch.command, CP_CMD_BATCH);
    CHECK_EQ_INT (batch.first, 1001);
    CHECK (memcmp (batch.log, log, sizeof log) == 0);
    zframe_destroy (&again.routing_id);
    zframe_destroy (&batch.routing_id);
    zactor_destroy (&world.sync);
    node_store_log_t info = s_log_info (world.node_dir);
    CHECK_EQ_INT (info.acked, 1000);
    CHECK (info.central_behind > 0);
    CHECK_EQ_INT (info.central_behind_by, 1000);
    CHECK_EQ_INT (info.restore_detected, 0);
    s_world_stop (&world);
}

//  A central whose copy of this log differs from the store's (the store
//  is a restored copy that took other events since): the node gives its
//  log a new identity, forgets what was acknowledged, and ships the whole
//  log under it.  The same when the central holds more of the log than
//  the store has.
static void
test_log_renewed (void)
{
    for (int variant = 0; variant < 2; variant++) {
        s_world_t world;
        if (s_world_start (&world))
            return;
        s_central_t *central = &world.central;
        uint8_t log [CP_WIRE_LOG_SIZE];
        s_heard_t again = s_ship_then_hello (central, log);
        CHECK_EQ_INT (again.command, CP_CMD_HELLO);
        if (variant == 0) {
            //  The central's chain at 1000 is not this store's.
            memset (central->chains [0], 0xee, CP_WIRE_CHAIN_SIZE);
            s_welcome (central, again.routing_id, 1001);
        }
        else
            s_welcome (central, again.routing_id, 5001);   //  past the store's head
        zframe_destroy (&again.routing_id);
        s_heard_t renewed = s_hear_past_batches (central);
        CHECK_EQ_INT (renewed.command, CP_CMD_HELLO);
        CHECK (memcmp (renewed.log, log, sizeof log) != 0);
        CHECK_EQ_INT (renewed.acked, 0);
        central->chain_count = 0;
        s_welcome (central, renewed.routing_id, 1);
        CHECK_EQ_INT (s_hear_window (central, 1), S_WINDOW);
        zframe_destroy (&renewed.routing_id);
        zactor_destroy (&world.sync);
        node_store_log_t info = s_log_info (world.node_dir);
        CHECK (memcmp (info.log, renewed.log, sizeof log) == 0);
        CHECK (memcmp (info.previous_log, log, sizeof log) == 0);
        CHECK (info.restore_detected > 0);
        CHECK_EQ_INT (info.acked, 0);
        s_world_stop (&world);
    }
}

#define main s_main
//  =====================================================================
//  The downlink over the wire: DOWN applied or refused, DOWNACK's answer

//  A signed entry of the given seq, to address, signed with root_secret.
static uint8_t *
s_entry (uint64_t seq, const char *address, const uint8_t *root_secret, size_t *size)
{
    cp_directive_t notice = {.kind = CP_DIRECTIVE_NOTICE, .text = "a directive"};
    size_t body_size;
    uint8_t *body = cp_directive_encode (&notice, &body_size);
    assert (body);
    cp_downlink_t entry = {.seq = seq, .kind = CP_DOWNLINK_DIRECTIVE, .issued = 1,
                           .body = body, .body_size = body_size};
    int rc = cp_downlink_address_parse (address, &entry.address);
    assert (rc == 0);
    uint8_t *encoded = cp_downlink_encode (&entry, root_secret, size);
    free (body);
    return encoded;
}

//  Sends DOWN [prev, entry] (entry freed), signed as a reply (as command,
//  which a real central makes "DOWN").
static void
s_down (s_central_t *central, zframe_t *routing_id, const char *command, uint64_t prev,
        uint8_t *entry, size_t entry_size)
{
    size_t size;
    uint8_t *body = cp_wire_down_encode (prev, entry, entry_size, &size);
    free (entry);
    s_reply_as (central, routing_id, "DOWN", command, body, size);
}

//  The next DOWNACK, past PINGs (answered) and batches (left unanswered);
//  command 0 when none comes within msecs.
static s_heard_t
s_hear_downack (s_central_t *central, int msecs)
{
    int64_t until = zclock_mono () + msecs;
    while (zclock_mono () < until) {
        s_heard_t heard = s_hear_past_pings (central, (int) (until - zclock_mono ()));
        if (heard.command == CP_CMD_DOWNACK || heard.command == 0)
            return heard;
        zframe_destroy (&heard.routing_id);
    }
    return (s_heard_t) {0, 0, NULL, {0}, 0, 0, 0};
}

//  DOWN [prev, entry] then the DOWNACK: checks its cursor and code.
static void
s_down_expect (s_central_t *central, zframe_t *routing_id, uint64_t prev, uint8_t *entry,
               size_t size, uint64_t cursor, int code, int line)
{
    s_down (central, routing_id, "DOWN", prev, entry, size);
    s_heard_t heard = s_hear_downack (central, 5000);
    if (heard.command != CP_CMD_DOWNACK || heard.downlink != cursor || heard.code != code) {
        fprintf (stderr, "  %s:%d: DOWNACK %s cursor %llu code %d (%s), expected cursor %llu "
                 "code %d (%s)\n", __FILE__, line, heard.command? "came with": "did not come:",
                 (unsigned long long) heard.downlink, heard.code, cp_strerror (heard.code),
                 (unsigned long long) cursor, code, cp_strerror (code));
        testing_failures_++;
    }
    zframe_destroy (&heard.routing_id);
}

//  (The entry is made first: it sets size.)
#define DOWN_EXPECT(prev, make_entry, cursor, code) do { \
    uint8_t *made = (make_entry); \
    s_down_expect (&world.central, hello.routing_id, (prev), made, size, (cursor), (code), \
                   __LINE__); \
} while (0)

//  The node puts its cursor in HELLO, applies a DOWN that follows it and
//  answers with the cursor; a resend, a gap, an entry of another root, one
//  for another municipality are refused with their codes and leave the
//  cursor; a DOWN whose reply signature is not the central's is ignored;
//  the cursor survives the actor's restart.
static void
test_downlink (void)
{
    s_world_t world;
    if (s_world_start (&world))
        return;
    char path [4300];
    snprintf (path, sizeof path, "%s/keys/root.secret", world.central_dir);
    uint8_t *root = NULL;
    CHECK_EQ_INT (cp_keyfile_read (path, crypto_sign_SECRETKEYBYTES, &root), 0);
    uint8_t other_public [crypto_sign_PUBLICKEYBYTES], other [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (other_public, other);
    s_heard_t hello = s_hear_past_pings (&world.central, 5000);
    CHECK_EQ_INT (hello.command, CP_CMD_HELLO);
    CHECK_EQ_INT (hello.downlink, 0);
    s_welcome (&world.central, hello.routing_id, 1);
    size_t size;
    DOWN_EXPECT (0, s_entry (1, "all", root, &size), 1, 0);
    DOWN_EXPECT (0, s_entry (1, "all", root, &size), 1, CP_EREPLAY);
    DOWN_EXPECT (2, s_entry (3, "diber", root, &size), 1, CP_EGAP);
    DOWN_EXPECT (1, s_entry (4, "diber", other, &size), 1, CP_EUNPINNED);
    DOWN_EXPECT (1, s_entry (5, "tirane", root, &size), 1, CP_ENOTADDRESSED);
    //  Signed as another command: not the central's DOWN, so no answer
    uint8_t *entry = s_entry (6, "county:diber", root, &size);
    s_down (&world.central, hello.routing_id, "ACK", 1, entry, size);
    s_heard_t heard = s_hear_downack (&world.central, 1500);
    CHECK_EQ_INT (heard.command, 0);
    DOWN_EXPECT (1, s_entry (6, "county:diber", root, &size), 6, 0);
    zframe_destroy (&hello.routing_id);
    //  Again from the top: the cursor was stored
    zactor_destroy (&world.sync);
    world.sync = zactor_new (node_sync_actor, &world.config);
    hello = s_hear_past_pings (&world.central, 5000);
    CHECK_EQ_INT (hello.command, CP_CMD_HELLO);
    CHECK_EQ_INT (hello.downlink, 6);
    zframe_destroy (&hello.routing_id);
    cp_keyfile_free (&root);
    sodium_memzero (other, sizeof other);
    s_world_stop (&world);
}

TESTING_MAIN (
    TEST (test_central_behind),
    TEST (test_log_renewed),
    TEST (test_stalled_window),
    TEST (test_window_narrowed),
    TEST (test_unanswered_hello),
    TEST (test_downlink)
)
#undef main

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (stderr);
    return s_main (argc, argv);
}
