/*  test_admin: the key ceremonies of cpsync-admin (central_admin) on a
    central set up in a temporary directory under $CPSYNC_TEST_TMP (or
    /tmp), removed after, and what a node makes of the keys they end.

    A revocation takes every key of a municipality, however many rotations
    made them.  Revocations racing rotations from separate processes (each
    its own LMDB environment, as separate cpsync-admin commands are) never
    lose: once the revocation has committed, no key of the municipality is
    usable, round after round.  The central's only valid transport or data
    key, and its root, cannot be revoked, and the refusal says what to do
    instead.  The secret files of the central's keys that expired or were
    revoked are removed, and no other.  The key table is read back from the
    store for every check.

    Keys rotated with a grace of two seconds, the announcement installed on
    a node (node_keys, as cpsync-node enrol does): once the old key has
    expired, the node's sync actor meets a central played by the test, a
    CURVE ROUTER with whichever transport secret the test picks, signing its
    replies with whichever data key the test picks.  A WELCOME signed with
    the expired data key is ignored (the node says HELLO again and ships
    nothing) and one signed with the current key is taken; a central serving
    the expired transport key is never connected to: the node knocks (the
    played central sees its handshakes fail, as they must with the current
    key) and says nothing, instead of falling back to the expired key.     */

#define _XOPEN_SOURCE 700      //  nftw, mkdtemp

#include "central_admin.h"
#include "central_keys.h"
#include "central_store.h"
#include "cp_envelope.h"
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
#include <sys/wait.h>

#include "testing.h"

#define S_ROTATIONS 100         //  before the revocation of test_revoke_every_key
#define S_ROUNDS 50             //  of test_revoke_races_rotations
#define S_ROTATORS 3            //  processes rotating in each round
#define S_ROTATIONS_EACH 20     //  rotations each tries
#define S_GRACE (30 * 86400)
#define S_SHORT_GRACE 2         //  seconds an old key stays valid in the expiry tests
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

//  A fresh central in a new temporary directory.  Returns 0 or -1.
static int
s_setup (void)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_admin.XXXXXX", base && *base? base: "/tmp");
    if (!mkdtemp (s_dir))
        return -1;
    snprintf (s_central, sizeof s_central, "%s/central", s_dir);
    char why [512] = "";
    int rc = central_admin_init (s_central, "tcp://127.0.0.1:7400", 1, NULL, why, sizeof why);
    if (rc)
        fprintf (stderr, "  set-up failed: %s: %s\n", cp_strerror (rc), why);
    CHECK_EQ_INT (rc, 0);
    return rc? -1: 0;
}

static void
s_teardown (void)
{
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  The key table as committed (the caller's).
static central_keys_t *
s_table (void)
{
    int rc = 0;
    central_store_t *store = central_store_open (s_central, CENTRAL_STORE_READONLY, &rc);
    central_keys_t *keys = NULL;
    if (store)
        rc = central_store_keys_read (store, &keys);
    central_store_destroy (&store);
    CHECK_EQ_INT (rc, 0);
    return keys;
}

//  Counts owner's keys in the table: all, usable now, revoked.
static void
s_count (int owner, size_t *total, size_t *usable, size_t *revoked)
{
    *total = *usable = *revoked = 0;
    central_keys_t *keys = s_table ();
    int64_t now = (int64_t) time (NULL);
    for (size_t index = 0; keys && index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->owner != owner)
            continue;
        (*total)++;
        *usable += central_keys_usable (keys, key, now) == 0;
        *revoked += key->revoked;
    }
    central_keys_destroy (&keys);
}

//  The central's current key of kind (a copy).
static central_key_t
s_current_key (int kind)
{
    central_key_t copy = {0};
    central_keys_t *keys = s_table ();
    const central_key_t *key = keys? central_keys_current (keys, kind, (int64_t) time (NULL))
                                   : NULL;
    CHECK (key != NULL);
    if (key)
        copy = *key;
    central_keys_destroy (&keys);
    return copy;
}

//  The id of the central's current key of kind into id (CP_KEY_ID_MAX + 1).
static void
s_current (int kind, char *id)
{
    snprintf (id, CP_KEY_ID_MAX + 1, "%s", s_current_key (kind).id);
}

static uint64_t
s_serial (void)
{
    central_keys_t *keys = s_table ();
    uint64_t serial = keys? central_keys_serial (keys): 0;
    central_keys_destroy (&keys);
    return serial;
}

//  Enrols (rotate false) or rotates code's node keys.  Returns the code.
static int
s_enrol (const char *code, bool rotate)
{
    char why [512] = "", *bundle = NULL;
    int rc = central_admin_enrol (s_central, NULL, code, NULL, rotate, S_GRACE, &bundle, why,
                                  sizeof why);
    if (bundle) {
        sodium_memzero (bundle, strlen (bundle));
        free (bundle);
    }
    return rc;
}

static int
s_rotate_central (bool transport, int64_t grace)
{
    char why [512] = "", *announcement = NULL;
    int rc = central_admin_rotate_central (s_central, NULL, transport, grace, &announcement,
                                           why, sizeof why);
    free (announcement);
    return rc;
}

//  Revokes what; why gets the message.
static int
s_revoke (const char *what, char *why, size_t why_size)
{
    return central_admin_revoke (s_central, what, why, why_size);
}

//  =====================================================================

//  A hundred rotations leave a municipality 202 keys, all valid through
//  their grace period: one revocation takes every one of them.
static void
test_revoke_every_key (void)
{
    if (s_setup ())
        return;
    int tirane = cp_municipality_index ("tirane");
    CHECK_EQ_INT (s_enrol ("tirane", false), 0);
    int failed = 0;
    for (int rotation = 0; rotation < S_ROTATIONS; rotation++)
        failed += s_enrol ("tirane", true) != 0;
    CHECK_EQ_INT (failed, 0);
    size_t total, usable, revoked;
    s_count (tirane, &total, &usable, &revoked);
    CHECK_EQ_INT (total, 2 + 2 * S_ROTATIONS);
    CHECK_EQ_INT (usable, total);
    //  Another municipality, to see that only tirane's keys go.
    CHECK_EQ_INT (s_enrol ("durres", false), 0);
    char why [512] = "";
    CHECK_EQ_INT (s_revoke ("tirane", why, sizeof why), 0);
    CHECK_STR_CONTAINS (why, "202 key(s) revoked");
    s_count (tirane, &total, &usable, &revoked);
    printf ("  tirane after %d rotations and a revocation: %zu keys, %zu revoked, %zu usable\n",
            S_ROTATIONS, total, revoked, usable);
    CHECK_EQ_INT (revoked, 2 + 2 * S_ROTATIONS);
    CHECK_EQ_INT (usable, 0);
    s_count (cp_municipality_index ("durres"), &total, &usable, &revoked);
    CHECK_EQ_INT (usable, 2);
    //  Nothing left to revoke, nothing to rotate.
    CHECK_EQ_INT (s_revoke ("tirane", why, sizeof why), CP_EUNKNOWNKEY);
    CHECK_EQ_INT (s_enrol ("tirane", true), CP_ENOTENROLLED);
    s_teardown ();
}

//  A rotating process: rotates code until a rotation is refused because
//  the municipality has no valid keys (it was revoked meanwhile), or
//  S_ROTATIONS_EACH times.  Exits with the rotations made, plus 32 when it
//  saw the revocation, or 64 on any other failure.
static void
s_rotator (const char *code)
{
    int made = 0;
    for (int rotation = 0; rotation < S_ROTATIONS_EACH; rotation++) {
        int rc = s_enrol (code, true);
        if (rc == CP_ENOTENROLLED)
            _exit (made + 32);
        if (rc)
            _exit (64);
        made++;
    }
    _exit (made);
}

//  Each round: a municipality enrolled, S_ROTATORS processes rotating its
//  keys and one revoking it a few milliseconds in.  After all have ended,
//  none of its keys may be usable.  The round counts as a race when a
//  rotation was made before the revocation and one refused after it in the
//  same process: the revocation fell among rotations.
static void
test_revoke_races_rotations (void)
{
    if (s_setup ())
        return;
    int came_back = 0, raced = 0, other_failures = 0;
    for (int round = 0; round < S_ROUNDS; round++) {
        const char *code = cp_municipality_code (round % cp_municipality_count ());
        CHECK_EQ_INT (s_enrol (code, false), 0);
        pid_t pids [S_ROTATORS + 1];
        for (int index = 0; index < S_ROTATORS; index++)
            if ((pids [index] = fork ()) == 0)
                s_rotator (code);
        if ((pids [S_ROTATORS] = fork ()) == 0) {
            zclock_sleep (2 + round % 13);
            char why [512];
            _exit (s_revoke (code, why, sizeof why) == 0? 0: 1);
        }
        bool before = false, after = false;
        for (int index = 0; index <= S_ROTATORS; index++) {
            int status = 0;
            if (pids [index] < 0 || waitpid (pids [index], &status, 0) != pids [index]
            ||  !WIFEXITED (status)) {
                other_failures++;
                continue;
            }
            int code_exit = WEXITSTATUS (status);
            if (index == S_ROTATORS)
                other_failures += code_exit != 0;       //  the revocation failed
            else
            if (code_exit >= 64)
                other_failures++;
            else {
                before |= (code_exit & 31) > 0 && code_exit >= 32;
                after |= code_exit >= 32;
            }
        }
        raced += before && after;
        size_t total, usable, revoked;
        s_count (cp_municipality_index (code), &total, &usable, &revoked);
        if (usable) {
            came_back++;
            printf ("  round %d (%s): %zu of %zu keys usable after the revocation\n", round,
                    code, usable, total);
        }
    }
    printf ("  %d rounds, %d with the revocation among rotations, %d where keys came back\n",
            S_ROUNDS, raced, came_back);
    CHECK_EQ_INT (came_back, 0);
    CHECK_EQ_INT (other_failures, 0);
    //  The test is only worth something if the processes really raced.
    CHECK (raced >= S_ROUNDS / 2);
    s_teardown ();
}

//  The central's only valid transport or data key, and the root, cannot be
//  revoked; the refusal says to rotate first, and changes nothing.  Once
//  another key of the kind is valid, the old one can go.
static void
test_revoke_last_key (void)
{
    if (s_setup ())
        return;
    char transport [CP_KEY_ID_MAX + 1], data [CP_KEY_ID_MAX + 1], root [CP_KEY_ID_MAX + 1];
    s_current (CENTRAL_KEY_TRANSPORT, transport);
    s_current (CENTRAL_KEY_DATA, data);
    s_current (CENTRAL_KEY_ROOT, root);
    uint64_t serial = s_serial ();
    char why [512] = "";
    CHECK_EQ_INT (s_revoke (transport, why, sizeof why), CP_ELASTKEY);
    CHECK_STR_CONTAINS (why, "rotate-central --transport --grace 0 first");
    CHECK_EQ_INT (s_revoke (data, why, sizeof why), CP_ELASTKEY);
    CHECK_STR_CONTAINS (why, "rotate-central --data first");
    CHECK_EQ_INT (s_revoke (root, why, sizeof why), CP_ELASTKEY);
    CHECK_STR_CONTAINS (why, "cannot be revoked");
    CHECK_EQ_INT (s_serial (), serial);
    size_t total, usable, revoked;
    s_count (CENTRAL_KEYS_CENTRAL, &total, &usable, &revoked);
    CHECK_EQ_INT (revoked, 0);
    CHECK_EQ_INT (usable, 3);

    //  A transport key announced for later does not serve now: still refused.
    CHECK_EQ_INT (s_rotate_central (true, S_GRACE), 0);
    CHECK_EQ_INT (s_revoke (transport, why, sizeof why), CP_ELASTKEY);
    //  A second data key valid now: the first can go, then not the second.
    CHECK_EQ_INT (s_rotate_central (false, S_GRACE), 0);
    char second [CP_KEY_ID_MAX + 1];
    s_current (CENTRAL_KEY_DATA, second);
    CHECK (strcmp (second, data) != 0);
    CHECK_EQ_INT (s_revoke (data, why, sizeof why), 0);
    CHECK_EQ_INT (s_revoke (second, why, sizeof why), CP_ELASTKEY);
    //  A transport key switched at once: the old one is out of service and
    //  can be revoked; the new one cannot.
    CHECK_EQ_INT (s_rotate_central (true, 0), 0);
    char fresh [CP_KEY_ID_MAX + 1];
    s_current (CENTRAL_KEY_TRANSPORT, fresh);
    CHECK (strcmp (fresh, transport) != 0);
    CHECK_EQ_INT (s_revoke (transport, why, sizeof why), 0);
    CHECK_EQ_INT (s_revoke (fresh, why, sizeof why), CP_ELASTKEY);
    s_teardown ();
}

//  True when the secret file of the central's key of kind and id is there.
static bool
s_secret_exists (const char *kind, const char *id)
{
    char path [4400];
    snprintf (path, sizeof path, "%s/keys/%s-%s.secret", s_central, kind, id);
    return access (path, F_OK) == 0;
}

//  Secrets of keys that expired or were revoked are removed; those of keys
//  in service or announced, and the root, stay.
static void
test_prune (void)
{
    if (s_setup ())
        return;
    char transport [CP_KEY_ID_MAX + 1], data [CP_KEY_ID_MAX + 1];
    s_current (CENTRAL_KEY_TRANSPORT, transport);
    s_current (CENTRAL_KEY_DATA, data);
    size_t removed = 99;
    char why [1024] = "";
    CHECK_EQ_INT (central_admin_prune (s_central, &removed, why, sizeof why), 0);
    CHECK_EQ_INT (removed, 0);
    //  Both switched at once: the old keys expire now.
    CHECK_EQ_INT (s_rotate_central (true, 0), 0);
    CHECK_EQ_INT (s_rotate_central (false, 0), 0);
    char new_transport [CP_KEY_ID_MAX + 1], new_data [CP_KEY_ID_MAX + 1];
    s_current (CENTRAL_KEY_TRANSPORT, new_transport);
    s_current (CENTRAL_KEY_DATA, new_data);
    //  And one announced for later, which must stay.
    CHECK_EQ_INT (s_rotate_central (true, S_GRACE), 0);
    CHECK (s_secret_exists ("transport", transport) && s_secret_exists ("data", data));
    CHECK_EQ_INT (central_admin_prune (s_central, &removed, why, sizeof why), 0);
    CHECK_EQ_INT (removed, 2);
    CHECK_STR_CONTAINS (why, transport);
    CHECK_STR_CONTAINS (why, data);
    CHECK (!s_secret_exists ("transport", transport) && !s_secret_exists ("data", data));
    CHECK (s_secret_exists ("transport", new_transport) && s_secret_exists ("data", new_data));
    char path [4400];
    snprintf (path, sizeof path, "%s/keys/root.secret", s_central);
    CHECK (access (path, F_OK) == 0);
    int secrets = 0;
    central_keys_t *keys = s_table ();
    for (size_t index = 0; keys && index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->kind == CENTRAL_KEY_TRANSPORT)
            secrets += s_secret_exists ("transport", key->id);
    }
    central_keys_destroy (&keys);
    CHECK_EQ_INT (secrets, 2);                  //  the current one and the announced one
    CHECK_EQ_INT (central_admin_prune (s_central, &removed, why, sizeof why), 0);
    CHECK_EQ_INT (removed, 0);
    //  A revoked data key's secret goes too.
    CHECK_EQ_INT (s_rotate_central (false, S_GRACE), 0);
    CHECK_EQ_INT (s_revoke (new_data, why, sizeof why), 0);
    CHECK_EQ_INT (central_admin_prune (s_central, &removed, why, sizeof why), 0);
    CHECK_EQ_INT (removed, 1);
    CHECK_STR_CONTAINS (why, "revoked");
    CHECK (!s_secret_exists ("data", new_data));
    s_teardown ();
}

//  A central (s_setup), and a node of diber enrolled by it with three
//  events to ship.  Returns 0, or -1 having said why.
static int
s_setup_node (void)
{
    if (s_setup ())
        return -1;
    zsys_init ();
    zsys_set_logstream (stderr);
    char why [512] = "", *bundle = NULL;
    snprintf (s_node, sizeof s_node, "%s/node", s_dir);
    int rc = central_admin_enrol (s_central, NULL, "diber", NULL, false, 0, &bundle, why,
                                  sizeof why);
    if (rc == 0)
        rc = node_store_create (s_node, "diber", 1);
    if (rc == 0)
        rc = node_keys_install (s_node, "diber", bundle, strlen (bundle), why, sizeof why);
    free (bundle);
    //  Three cases opened: something to ship once the node is welcomed.
    char path [4300];
    snprintf (path, sizeof path, "%s/events.jsonl", s_dir);
    FILE *events = rc == 0? fopen (path, "w"): NULL;
    for (int event = 1; events && event <= 3; event++)
        fprintf (events, "{\"id\":\"e-%d\",\"type\":\"case_opened\",\"case\":\"c-%d\","
                 "\"date\":\"2022-05-0%d\",\"age\":12,\"sex\":\"M\",\"ethnicity\":\"majority\","
                 "\"referral\":\"police\"}\n", event, event, event);
    if (events)
        fclose (events);
    else
    if (rc == 0)
        rc = CP_EIO;
    node_import_stats_t stats;
    node_store_t *store = rc == 0? node_store_open (s_node, &rc): NULL;
    if (store)
        rc = node_import_file (store, path, stderr, false, &stats);
    node_store_destroy (&store);
    if (rc)
        fprintf (stderr, "  set-up failed: %s %s\n", cp_strerror (rc), why);
    CHECK_EQ_INT (rc, 0);
    return rc? -1: 0;
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

//  Rotates the central's transport or data key with S_SHORT_GRACE,
//  installs the announcement on the node, and waits until old (the key
//  rotated) has expired.  The node must know old, with its expiry, for the
//  test to mean anything.
static void
s_rotate_and_wait (bool transport, const central_key_t *old)
{
    char why [512] = "", *announcement = NULL;
    CHECK_EQ_INT (central_admin_rotate_central (s_central, NULL, transport, S_SHORT_GRACE,
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
    //  Monitoring stops before its reader goes (node_sync.c, s_disconnect)
    zmq_socket_monitor (zsock_resolve (self->router), NULL, 0);
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
    cp_welcome_t welcome = {.expected = 1, .catalogue = 1, .window = 4};
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

//  A node whose central rotated its transport or data key, the old key
//  (*old) having expired since.  Returns 0 or -1.
static int
s_expired (bool transport, central_key_t *old)
{
    if (s_setup_node ())
        return -1;
    *old = s_current_key (transport? CENTRAL_KEY_TRANSPORT: CENTRAL_KEY_DATA);
    s_rotate_and_wait (transport, old);
    return 0;
}

static void
test_expired_data_key (void)
{
    central_key_t old;
    if (s_expired (false, &old))
        return;
    central_key_t current = s_current_key (CENTRAL_KEY_DATA);
    CHECK (!streq (current.id, old.id));
    central_key_t transport = s_current_key (CENTRAL_KEY_TRANSPORT);
    s_played_t played;
    s_played_start (&played, &transport);
    node_sync_config_t config = {.data = s_node, .central = played.endpoint};
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
    central_key_t old;
    if (s_expired (true, &old))
        return;
    CHECK (!streq (s_current_key (CENTRAL_KEY_TRANSPORT).id, old.id));
    s_played_t played;
    s_played_start (&played, &old);
    node_sync_config_t config = {.data = s_node, .central = played.endpoint};
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

TESTING_MAIN (
    TEST (test_revoke_every_key),
    TEST (test_revoke_races_rotations),
    TEST (test_revoke_last_key),
    TEST (test_prune),
    TEST (test_expired_data_key),
    TEST (test_expired_transport_key)
)
