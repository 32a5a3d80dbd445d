/*  test_key_expiry: a node uses no central key past its expiry.

    The keys are made and rotated through central_admin (as cpsync-admin
    does) with a grace of two seconds, the announcement installed on the
    node (node_keys, as cpsync-node enrol does), and once the old key has
    expired the node's sync actor meets a central played by the test: a
    CURVE ROUTER with whichever transport secret the test picks, which
    signs its replies with whichever data key the test picks.

      - A WELCOME signed with the expired data key is ignored (the node
        says HELLO again and ships nothing); one signed with the current
        key is taken (the node ships a batch).
      - A central serving the expired transport key is never connected to:
        the node knocks (the played central sees its handshakes fail, as
        they must with the current key) and says nothing, instead of
        falling back to the expired key it has pinned.                     */

#define _XOPEN_SOURCE 700      //  nftw, mkdtemp

#include "central_admin.h"
#include "central_keys.h"
#include "central_store.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_wire.h"
#include "node_import.h"
#include "node_keys.h"
#include "node_store.h"
#include "node_sync.h"

#include <czmq.h>
#include <ftw.h>
#include <sodium.h>

#include "testing.h"

#define S_GRACE 2               //  seconds the old key stays valid
#define S_DATA_SECRET_SIZE (crypto_sign_SECRETKEYBYTES + crypto_kx_SECRETKEYBYTES)

static char s_dir [4096];
static char s_central [4200];
static char s_node [4200];

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info, (void) flag, (void) ftw;
    return remove (path);
}

//  A central, and a node of diber enrolled by it with 20 events to ship.
//  Returns 0, or -1 having said why.
static int
s_setup (void)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_key_expiry.XXXXXX", base && *base? base: "/tmp");
    if (!mkdtemp (s_dir))
        return -1;
    snprintf (s_central, sizeof s_central, "%s/central", s_dir);
    snprintf (s_node, sizeof s_node, "%s/node", s_dir);
    char why [512] = "", *bundle = NULL;
    int rc = central_admin_init (s_central, "tcp://127.0.0.1:1", 1, NULL, why, sizeof why);
    if (rc == 0)
        rc = central_admin_enrol (s_central, NULL, "diber", NULL, false, 0, &bundle, why,
                                  sizeof why);
    if (rc == 0)
        rc = node_store_create (s_node, "diber", 1);
    if (rc == 0)
        rc = node_keys_install (s_node, "diber", bundle, strlen (bundle), why, sizeof why);
    free (bundle);
    char events [4300];
    snprintf (events, sizeof events, "%s/events.jsonl", s_dir);
    FILE *file = rc == 0? fopen (events, "w"): NULL;
    for (int index = 0; file && index < 20; index++)
        fprintf (file, "{\"id\":\"e-%d\",\"case\":\"c-%d\",\"date\":\"2022-03-01\","
                 "\"type\":\"case_opened\",\"age\":9,\"sex\":\"F\",\"ethnicity\":\"roma\","
                 "\"referral\":\"school\"}\n", index, index);
    if (file)
        fclose (file);
    node_store_t *store = rc == 0? node_store_open (s_node, &rc): NULL;
    node_import_stats_t stats;
    if (store)
        rc = node_import_file (store, events, stderr, false, &stats);
    node_store_destroy (&store);
    if (rc)
        fprintf (stderr, "  set-up failed: %s %s\n", cp_strerror (rc), why);
    CHECK_EQ_INT (rc, 0);
    return rc? -1: 0;
}

static void
s_teardown (void)
{
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  The central's current key of kind (a copy) from its table.
static central_key_t
s_current (int kind)
{
    central_key_t copy = {0};
    int rc = 0;
    central_store_t *store = central_store_open (s_central, CENTRAL_STORE_READONLY, &rc);
    central_keys_t *keys = NULL;
    if (store && central_store_keys_read (store, &keys) == 0) {
        const central_key_t *key = central_keys_current (keys, kind, (int64_t) time (NULL));
        if (key)
            copy = *key;
    }
    central_keys_destroy (&keys);
    central_store_destroy (&store);
    CHECK (copy.id [0]);
    return copy;
}

//  Reads the secret of the central's key (kind "transport" or "data").
static uint8_t *
s_secret (const char *kind, const char *id, size_t size)
{
    char path [4400];
    snprintf (path, sizeof path, "%s/keys/%s-%s.secret", s_central, kind, id);
    uint8_t *secret = NULL;
    CHECK_EQ_INT (cp_keyfile_read (path, size, &secret), 0);
    return secret;
}

//  Rotates the central's transport or data key with S_GRACE, installs the
//  announcement on the node, and waits until old (the key rotated) has
//  expired.  The node must know old, with its expiry, for the test to mean
//  anything.
static void
s_rotate_and_wait (bool transport, const central_key_t *old)
{
    char why [512] = "", *announcement = NULL;
    CHECK_EQ_INT (central_admin_rotate_central (s_central, NULL, transport, S_GRACE,
                                                &announcement, why, sizeof why), 0);
    if (announcement)
        CHECK_EQ_INT (node_keys_install (s_node, "diber", announcement, strlen (announcement),
                                         why, sizeof why), 0);
    free (announcement);
    int error = 0;
    node_keys_t *keys = node_keys_load (s_node, &error);
    CHECK (keys != NULL);
    int64_t expires = 0;
    const cp_enrolment_t *enrolment = keys? node_keys_enrolment (keys): NULL;
    size_t count = !enrolment? 0: transport? enrolment->central_transport_count
                                           : enrolment->central_data_count;
    for (size_t index = 0; index < count; index++) {
        const char *id = transport? enrolment->central_transport [index].id
                                  : enrolment->central_data [index].id;
        if (streq (id, old->id))
            expires = transport? enrolment->central_transport [index].expires
                               : enrolment->central_data [index].expires;
    }
    node_keys_destroy (&keys);
    CHECK (expires > 0);
    while ((int64_t) time (NULL) < expires)
        zclock_sleep (100);
}

//  The played central: a CURVE ROUTER serving one transport key, and a
//  monitor of its failed handshakes.
typedef struct {
    zsock_t *router;
    zsock_t *monitor;
    char endpoint [256];
    int failed_handshakes;
} s_played_t;

static void
s_played_start (s_played_t *self, const central_key_t *transport)
{
    memset (self, 0, sizeof *self);
    uint8_t *secret = s_secret ("transport", transport->id, crypto_box_SECRETKEYBYTES);
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    zsock_set_curve_server (self->router, 1);
    if (secret)
        zsock_set_curve_secretkey_bin (self->router, secret);
    zsock_set_curve_publickey_bin (self->router, transport->public_key);
    cp_keyfile_free (&secret);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    CHECK_EQ_INT (zmq_socket_monitor (zsock_resolve (self->router), "inproc://played-monitor",
                                      events), 0);
    self->monitor = zsock_new_pair ("inproc://played-monitor");
    CHECK (zsock_bind (self->router, "tcp://127.0.0.1:*") > 0);
    char *bound = zsock_last_endpoint (self->router);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", bound);
    zstr_free (&bound);
}

static void
s_played_stop (s_played_t *self)
{
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->router);
}

//  Waits up to msecs for a message of the node's other than PING (its
//  keep-alive, which may come at any time), counting failed handshakes
//  meanwhile.  Returns its command (0: none came) and its routing id in
//  *from (the caller's).
static int
s_hear (s_played_t *self, int msecs, zframe_t **from)
{
    *from = NULL;
    int command = 0;
    int64_t until = zclock_mono () + msecs;
    zpoller_t *poller = zpoller_new (self->router, self->monitor, NULL);
    while (!command && zclock_mono () < until) {
        void *which = zpoller_wait (poller, (int) (until - zclock_mono ()));
        if (which == self->monitor) {
            zmsg_t *event = zmsg_recv (self->monitor);
            self->failed_handshakes++;
            zmsg_destroy (&event);
        }
        else
        if (which == self->router) {
            zmsg_t *msg = zmsg_recv (self->router);
            zframe_destroy (from);
            *from = zmsg_pop (msg);
            zframe_t *name = zmsg_first (msg);
            command = name? cp_wire_command (zframe_data (name), zframe_size (name)): 0;
            if (command == CP_CMD_PING)
                command = 0;
            zmsg_destroy (&msg);
        }
    }
    zpoller_destroy (&poller);
    return command;
}

//  Answers a HELLO with a WELCOME signed by the data key signer.
static void
s_welcome (s_played_t *self, zframe_t *to, const central_key_t *signer)
{
    uint8_t *secret = s_secret ("data", signer->id, S_DATA_SECRET_SIZE);
    cp_welcome_t welcome = {1, 1, 4};
    size_t size;
    uint8_t *body = cp_wire_welcome_encode (&welcome, &size);
    uint8_t signature [CP_ENVELOPE_SIGNATURE_SIZE] = {0};
    if (secret)
        CHECK_EQ_INT (cp_envelope_sign_reply ("WELCOME", "diber", body, size, secret,
                                              signature), 0);
    cp_keyfile_free (&secret);
    zmsg_t *msg = zmsg_new ();
    zframe_t *routing_id = zframe_dup (to);
    zmsg_append (msg, &routing_id);
    zmsg_addstr (msg, "WELCOME");
    zmsg_addmem (msg, body, size);
    zmsg_addstr (msg, signer->id);
    zmsg_addmem (msg, signature, sizeof signature);
    free (body);
    zmsg_send (&msg, self->router);
}

//  =====================================================================

static void
test_expired_data_key (void)
{
    if (s_setup ())
        return;
    central_key_t old = s_current (CENTRAL_KEY_DATA);
    s_rotate_and_wait (false, &old);
    central_key_t current = s_current (CENTRAL_KEY_DATA);
    CHECK (!streq (current.id, old.id));
    central_key_t transport = s_current (CENTRAL_KEY_TRANSPORT);
    s_played_t played;
    s_played_start (&played, &transport);
    node_sync_config_t config = {s_node, played.endpoint, false};
    zactor_t *sync = zactor_new (node_sync_actor, &config);
    zframe_t *from = NULL;
    CHECK_EQ_INT (s_hear (&played, 10000, &from), CP_CMD_HELLO);
    //  Signed with the expired key: ignored, the node asks again.
    if (from)
        s_welcome (&played, from, &old);
    zframe_destroy (&from);
    CHECK_EQ_INT (s_hear (&played, 5000, &from), CP_CMD_HELLO);
    //  Signed with the current key: the node ships.
    if (from)
        s_welcome (&played, from, &current);
    zframe_destroy (&from);
    CHECK_EQ_INT (s_hear (&played, 5000, &from), CP_CMD_BATCH);
    zframe_destroy (&from);
    zactor_destroy (&sync);
    s_played_stop (&played);
    s_teardown ();
}

static void
test_expired_transport_key (void)
{
    if (s_setup ())
        return;
    central_key_t old = s_current (CENTRAL_KEY_TRANSPORT);
    s_rotate_and_wait (true, &old);
    CHECK (!streq (s_current (CENTRAL_KEY_TRANSPORT).id, old.id));
    s_played_t played;
    s_played_start (&played, &old);
    node_sync_config_t config = {s_node, played.endpoint, false};
    zactor_t *sync = zactor_new (node_sync_actor, &config);
    zframe_t *from = NULL;
    int command = s_hear (&played, 6000, &from);
    printf ("  a central serving the expired transport key: %d failed handshakes, %s\n",
            played.failed_handshakes, command? cp_wire_command_name (command): "no message");
    CHECK_EQ_INT (command, 0);
    CHECK (played.failed_handshakes > 0);
    zframe_destroy (&from);
    zactor_destroy (&sync);
    s_played_stop (&played);
    s_teardown ();
}

#define main s_main
TESTING_MAIN (
    TEST (test_expired_data_key),
    TEST (test_expired_transport_key)
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
