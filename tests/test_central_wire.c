/*  test_central_wire: the central's server actor over real CURVE sockets.

    Each test sets up a central in a temporary directory (central_admin_init),
    enrols the nodes it needs, starts the actor on tcp://127.0.0.1 with a
    port the system picks, and talks to it frame by frame as a node (or an
    attacker) would: a DEALER with the node's CURVE keys and the central's
    server key, a HELLO that names the data key the node seals to, batches
    sealed and signed with cp_envelope, and every WELCOME, ACK and NACK
    checked against the central data key it names (one the node pins, from
    its bundle or an announcement).

    The first tests are the protocol's: HELLO and WELCOME, batches and
    their ACKs, duplicates re-acknowledged, gaps, hostile frames, frame
    limits, many nodes, a restart.  The security tests (issue 4) then break
    one thing at a time -- a key never enrolled, a revoked key, a wrong
    server key, another municipality's name or node key, a flipped bit, a
    replay, a rotation of each kind of key, a ROUTER with no ZAP handler --
    and check the refusal, its counter, and that an honest node is served
    all along.

    cpsync-admin, cpsync-central and query are separate processes in a
    deployment, and LMDB wants one handle on an environment per process: a
    second handle in the server's process would drop the server's locks as
    it closes.  So the key ceremonies and every read of the store run in a
    forked child (s_apart), which sends its result back through a pipe; the
    test process itself only ever talks to the actor.  Counters reach the
    store on FLUSH, which the figures helper sends first.                  */

#define _XOPEN_SOURCE 700      //  nftw, mkdtemp

#include "central_admin.h"
#include "central_guard.h"
#include "central_server.h"
#include "central_store.h"
#include "cp_batch.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_enrolment.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"
#include "cp_wire.h"
#include "testing.h"

#include <czmq.h>
#include <ftw.h>
#include <inttypes.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_TIMEOUT 5000          //  ms to wait for a reply that must come
#define S_SILENCE 500           //  ms without a reply that mean "refused"
#define S_SOON 1000             //  ms within which a key change must bite
#define S_CATALOGUE 2           //  the catalogue the central is set up with
#define S_PINNED_MAX 16         //  central data keys a node may pin
#define S_MUNICIPALITIES_MAX 128
#define S_DAY 86400

//  CHECK for the helpers: the failure names the test's line, not theirs.
#define CHECK_AT(line, condition) do { \
    if (!(condition)) { \
        fprintf (stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, line, #condition); \
        testing_failures_++; \
    } \
} while (0)

//  =====================================================================
//  The central under test

static char s_dir [4096];
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
s_remove_central (void)
{
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  =====================================================================
//  Work in another process: key ceremonies and reads of the store

typedef enum {
    S_JOB_INIT,                 //  central_admin_init
    S_JOB_ENROL,                //  central_admin_enrol (flag: rotate)
    S_JOB_REVOKE,               //  central_admin_revoke
    S_JOB_ROTATE,               //  central_admin_rotate_central (flag: transport)
    S_JOB_FIGURES               //  counters, cursors and views, read only
} s_job_kind_t;

typedef struct {
    s_job_kind_t kind;
    const char *what;           //  a municipality code or key id
    bool flag;
    int64_t grace;              //  seconds
    const char *scope;          //  S_JOB_FIGURES: a view to count opened cases in
} s_job_t;

//  What the store says, read by S_JOB_FIGURES.
typedef struct {
    central_counter_t counters [64];
    size_t counter_count;
    central_cursor_t cursors [S_MUNICIPALITIES_MAX];
    int64_t opened;             //  cases opened, national view
    int64_t opened_scope;       //  cases opened in the job's scope
} s_figures_t;

//  Cases opened in a scope's view of 2022.
static int
s_opened (central_store_t *store, const char *scope, int64_t *opened)
{
    cp_period_t period;
    cp_period_parse ("2022", &period);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, &period, scope);
    int rc = central_store_view (store, scope, view);
    if (rc == 0) {
        cp_view_figures (view, central_store_catalogue (store), S_CATALOGUE, figures);
        *opened = figures->opened;
    }
    free (view);
    free (figures);
    return rc;
}

static int
s_read_figures (const char *scope, s_figures_t *figures)
{
    int rc = 0;
    assert (cp_municipality_count () <= S_MUNICIPALITIES_MAX);
    central_store_t *store = central_store_open (s_dir, CENTRAL_STORE_READONLY, &rc);
    if (!store)
        return rc;
    rc = central_store_counters (store, figures->counters, 64, &figures->counter_count);
    if (rc == 0)
        rc = central_store_cursors (store, figures->cursors);
    if (rc == 0)
        rc = s_opened (store, "national", &figures->opened);
    if (rc == 0 && scope)
        rc = s_opened (store, scope, &figures->opened_scope);
    central_store_destroy (&store);
    return rc;
}

//  Runs in the child: the job's code, and its output (a file's text, the
//  figures, or the reason it failed) in *out.
static int
s_job_run (const s_job_t *job, uint8_t **out, size_t *out_size)
{
    char why [512] = "";
    char *text = NULL;
    int rc = 0;
    if (job->kind == S_JOB_FIGURES) {
        s_figures_t *figures = calloc (1, sizeof (s_figures_t));
        assert (figures);
        rc = s_read_figures (job->scope, figures);
        *out = (uint8_t *) figures;
        *out_size = sizeof (s_figures_t);
        return rc;
    }
    if (job->kind == S_JOB_INIT)
        rc = central_admin_init (s_dir, "tcp://127.0.0.1:*", S_CATALOGUE, NULL, why, sizeof why);
    else
    if (job->kind == S_JOB_ENROL)
        rc = central_admin_enrol (s_dir, NULL, job->what, NULL, job->flag, job->grace, &text,
                                  why, sizeof why);
    else
    if (job->kind == S_JOB_REVOKE)
        rc = central_admin_revoke (s_dir, job->what, why, sizeof why);
    else
        rc = central_admin_rotate_central (s_dir, NULL, job->flag, job->grace, &text, why,
                                           sizeof why);
    if (rc || !text) {
        free (text);
        text = strdup (why);
        assert (text);
    }
    *out = (uint8_t *) text;
    *out_size = strlen (text) + 1;
    return rc;
}

static void
s_write_all (int fd, const void *data, size_t size)
{
    const uint8_t *at = data;
    while (size > 0) {
        ssize_t done = write (fd, at, size);
        if (done <= 0)
            _exit (3);
        at += done;
        size -= (size_t) done;
    }
}

static bool
s_read_all (int fd, void *data, size_t size)
{
    uint8_t *at = data;
    while (size > 0) {
        ssize_t done = read (fd, at, size);
        if (done <= 0)
            return false;
        at += done;
        size -= (size_t) done;
    }
    return true;
}

//  Runs job in a child process.  Returns the job's code, with its output
//  (malloc'd, the caller's; a file's text is NUL-terminated) in *out.
static int
s_apart (const s_job_t *job, uint8_t **out, size_t *out_size)
{
    int fds [2];
    int rc = pipe (fds);
    assert (rc == 0);
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        //  The child runs this program again for the job: a bare fork of a
        //  process with libzmq's and the server's threads inherits any lock
        //  one of them held (a log stream's, say), and waited on it for
        //  ever when it opened the store and logged.
        close (fds [0]);
        char kind [16], flag [4], grace [32], fd [16];
        snprintf (kind, sizeof kind, "%d", (int) job->kind);
        snprintf (flag, sizeof flag, "%d", job->flag? 1: 0);
        snprintf (grace, sizeof grace, "%lld", (long long) job->grace);
        snprintf (fd, sizeof fd, "%d", fds [1]);
        execl ("/proc/self/exe", "test_central_wire", "--job", kind,
               job->what? job->what: "", flag, grace, job->scope? job->scope: "", s_dir, fd,
               (char *) NULL);
        _exit (4);
    }
    close (fds [1]);
    int32_t code = CP_EIO;
    uint64_t size = 0;
    *out = NULL;
    *out_size = 0;
    if (s_read_all (fds [0], &code, sizeof code) && s_read_all (fds [0], &size, sizeof size)
    &&  size < (64u << 20)) {
        *out = malloc ((size_t) size + 1);
        assert (*out);
        if (s_read_all (fds [0], *out, (size_t) size)) {
            (*out) [size] = 0;
            *out_size = (size_t) size;
        }
        else
            code = CP_EIO;
    }
    close (fds [0]);
    int status = 0;
    waitpid (pid, &status, 0);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        code = CP_EIO;
    return code;
}

//  A key ceremony.  Returns the file it makes (the caller's: wipe and
//  free a bundle) or, for revoke and init, an empty string; NULL when it
//  failed, with the reason on stderr.
static char *
s_admin (s_job_kind_t kind, const char *what, bool flag, int64_t grace, int line)
{
    s_job_t job = {kind, what, flag, grace, NULL};
    uint8_t *out = NULL;
    size_t size = 0;
    int rc = s_apart (&job, &out, &size);
    if (rc) {
        fprintf (stderr, "  %s:%d: the ceremony failed: %s: %s\n", __FILE__, line,
                 cp_strerror (rc), out? (char *) out: "");
        testing_failures_++;
        free (out);
        return NULL;
    }
    if (kind == S_JOB_INIT || kind == S_JOB_REVOKE)
        out [0] = 0;
    return (char *) out;
}

//  The store's figures; with a server, after it has written what it holds.
static s_figures_t
s_figures_at (zactor_t *server, const char *scope, int line)
{
    if (server) {
        zstr_send (server, "FLUSH");
        char *status = NULL, *message = NULL;
        zsock_recv (server, "ss", &status, &message);
        CHECK_AT (line, status && streq (status, "OK"));
        zstr_free (&status);
        zstr_free (&message);
    }
    s_figures_t figures;
    memset (&figures, 0, sizeof figures);
    s_job_t job = {S_JOB_FIGURES, NULL, false, 0, scope};
    uint8_t *out = NULL;
    size_t size = 0;
    int rc = s_apart (&job, &out, &size);
    CHECK_AT (line, rc == 0 && size == sizeof figures);
    if (rc == 0 && size == sizeof figures)
        memcpy (&figures, out, sizeof figures);
    else
        fprintf (stderr, "  the store could not be read: %s\n", cp_strerror (rc));
    free (out);
    return figures;
}

#define s_figures(server, scope) s_figures_at (server, scope, __LINE__)

static uint64_t
s_count (const s_figures_t *figures, int code)
{
    for (size_t index = 0; index < figures->counter_count; index++)
        if (figures->counters [index].code == code)
            return figures->counters [index].count;
    return 0;
}

static central_cursor_t
s_cursor (const s_figures_t *figures, const char *municipality)
{
    int index = cp_municipality_index (municipality);
    assert (index >= 0 && index < S_MUNICIPALITIES_MAX);
    return figures->cursors [index];
}

//  Waits (FLUSH and read, every 100 ms, at most 3 s) until the counter of
//  code is above floor; returns it.  Refusals at the handshake are
//  counted by the actor as the ZAP request or monitor event comes in.
static uint64_t
s_wait_count (zactor_t *server, int code, uint64_t floor)
{
    int64_t deadline = zclock_mono () + 3000;
    uint64_t count = 0;
    do {
        s_figures_t figures = s_figures (server, NULL);
        count = s_count (&figures, code);
        if (count > floor)
            break;
        zclock_sleep (100);
    } while (zclock_mono () < deadline);
    return count;
}

//  Makes the central: store, root, transport and data keys.
static void
s_setup_central (void)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_central_wire.XXXXXX", base && *base? base: "/tmp");
    if (!mkdtemp (s_dir)) {
        fprintf (stderr, "  cannot make a directory in %s\n", s_dir);
        exit (1);
    }
    char *done = s_admin (S_JOB_INIT, NULL, false, 0, __LINE__);
    if (!done) {
        fprintf (stderr, "  cannot set up a central in %s\n", s_dir);
        exit (1);
    }
    free (done);
}

//  Starts the actor on the central; returns it (NULL if BIND failed, with
//  the reply's message in why).
static zactor_t *
s_start_once (char *why, size_t why_size)
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

//  The same, again for a moment while the ZAP endpoint is taken: libzmq
//  releases an inproc endpoint in its reaper thread after the socket is
//  closed, so a server started right after another stopped in this
//  process may find the previous ZAP handler's endpoint still bound.
static zactor_t *
s_start (char *why, size_t why_size)
{
    zactor_t *server = NULL;
    for (int attempt = 0; attempt < 40 && !server; attempt++) {
        server = s_start_once (why, why_size);
        if (server || !strstr (why, "ZAP"))
            break;
        zclock_sleep (25);
    }
    return server;
}

static zactor_t *
s_start_ok (void)
{
    char why [512] = "";
    zactor_t *server = s_start (why, sizeof why);
    if (!server) {
        fprintf (stderr, "  the server did not start: %s\n", why);
        exit (1);
    }
    return server;
}

//  =====================================================================
//  A node: its keys, what it pins of the central's, its connection

typedef struct {
    char municipality [CP_ID_MAX + 1];
    cp_enrolment_t keys;                //  its bundle: its keys, the central's public keys
    uint8_t *secrets;                   //  CP_SECRETS_SIZE bytes of guarded memory
    cp_party_key_t pinned [S_PINNED_MAX];   //  central data keys it checks replies with
    size_t pinned_count;
    char seal_to [CP_KEY_ID_MAX + 1];   //  the data key it seals to and names in HELLO
    uint8_t server_key [CP_KEY_SIZE];   //  the central transport key it connects with
    zsock_t *dealer;                    //  NULL until s_connect
    uint32_t window;                    //  what the last WELCOME or ACK gave
} s_node_t;

static void
s_pin (s_node_t *node, const cp_party_key_t *key)
{
    for (size_t index = 0; index < node->pinned_count; index++)
        if (streq (node->pinned [index].id, key->id))
            return;
    assert (node->pinned_count < S_PINNED_MAX);
    node->pinned [node->pinned_count++] = *key;
}

static const cp_party_key_t *
s_pinned (const s_node_t *node, const char *id)
{
    for (size_t index = 0; index < node->pinned_count; index++)
        if (streq (node->pinned [index].id, id))
            return &node->pinned [index];
    return NULL;
}

//  A node from its bundle (wiped and freed here).
static s_node_t *
s_node_from_bundle (const char *municipality, char *bundle)
{
    if (!bundle) {
        fprintf (stderr, "  no bundle for %s\n", municipality);
        exit (1);
    }
    s_node_t *node = calloc (1, sizeof (s_node_t));
    assert (node);
    snprintf (node->municipality, sizeof node->municipality, "%s", municipality);
    node->secrets = cp_keyfile_alloc (CP_SECRETS_SIZE);
    assert (node->secrets);
    bool has_secrets = false;
    char why [256] = "";
    int rc = cp_enrolment_decode (bundle, strlen (bundle), NULL, &node->keys, node->secrets,
                                  &has_secrets, why, sizeof why);
    sodium_memzero (bundle, strlen (bundle));
    free (bundle);
    if (rc || !has_secrets || !streq (node->keys.municipality, municipality)
    ||  node->keys.central_data_count == 0 || node->keys.central_transport_count == 0) {
        fprintf (stderr, "  a bad bundle for %s: %s %s\n", municipality, cp_strerror (rc), why);
        exit (1);
    }
    for (size_t index = 0; index < node->keys.central_data_count; index++)
        s_pin (node, &node->keys.central_data [index]);
    snprintf (node->seal_to, sizeof node->seal_to, "%s", node->keys.central_data [0].id);
    memcpy (node->server_key, node->keys.central_transport [0].public_key, CP_KEY_SIZE);
    return node;
}

//  Enrols municipality (cpsync-admin enrol) and returns its node.
static s_node_t *
s_node_new (const char *municipality)
{
    return s_node_from_bundle (municipality,
                               s_admin (S_JOB_ENROL, municipality, false, 0, __LINE__));
}

//  Rotates municipality's node keys with a grace period (cpsync-admin
//  rotate-node) and returns the node with its new keys.
static s_node_t *
s_node_rotated (const char *municipality, int64_t grace)
{
    return s_node_from_bundle (municipality,
                               s_admin (S_JOB_ENROL, municipality, true, grace, __LINE__));
}

static void
s_node_destroy (s_node_t **node_p)
{
    s_node_t *node = *node_p;
    if (node) {
        zsock_destroy (&node->dealer);
        cp_keyfile_free (&node->secrets);
        free (node);
        *node_p = NULL;
    }
}

//  Takes an announcement (freed here): checks it against the root the
//  node's bundle pinned, pins its data keys.  Returns what it says.
static cp_enrolment_t
s_node_learn (s_node_t *node, char *announcement)
{
    cp_enrolment_t keys;
    memset (&keys, 0, sizeof keys);
    char why [256] = "";
    bool has_secrets = true;
    int rc = announcement
           ? cp_enrolment_decode (announcement, strlen (announcement), node->keys.root, &keys,
                                  NULL, &has_secrets, why, sizeof why)
           : CP_EMISSING;
    CHECK_EQ_INT (rc, 0);
    CHECK (!has_secrets);
    for (size_t index = 0; rc == 0 && index < keys.central_data_count; index++)
        s_pin (node, &keys.central_data [index]);
    free (announcement);
    return keys;
}

//  A DEALER to endpoint with these CURVE keys.
static zsock_t *
s_dealer_to (const char *endpoint, const uint8_t *server_key, const uint8_t *public_key,
             const uint8_t *secret_key)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    zsock_set_curve_serverkey_bin (dealer, server_key);
    zsock_set_curve_publickey_bin (dealer, public_key);
    zsock_set_curve_secretkey_bin (dealer, secret_key);
    zsock_set_rcvtimeo (dealer, S_TIMEOUT);
    //  A connection refused by ZAP is not retried: libzmq ends the session,
    //  and a DEALER with no session would block a send for good.
    zsock_set_sndtimeo (dealer, S_TIMEOUT);
    zsock_set_linger (dealer, 0);
    int rc = zsock_connect (dealer, "%s", endpoint);
    assert (rc == 0);
    return dealer;
}

//  A DEALER to the central with node's transport keys and server_key.
static zsock_t *
s_dealer (const s_node_t *node, const uint8_t *server_key)
{
    return s_dealer_to (s_endpoint, server_key, node->keys.node_transport.public_key,
                        node->secrets + CP_SECRETS_TRANSPORT);
}

//  (Re)connects the node: a new connection, a new routing id.
static void
s_connect (s_node_t *node)
{
    zsock_destroy (&node->dealer);
    node->dealer = s_dealer (node, node->server_key);
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
    assert (body);
    s_send_frames (dealer, command, strlen (command), body, size, NULL);
    free (body);
}

static void
s_hello_on (zsock_t *dealer, const char *municipality, uint64_t head, const char *data_key)
{
    cp_hello_t hello;
    memset (&hello, 0, sizeof hello);
    hello.version = CP_WIRE_VERSION;
    hello.head = head;
    snprintf (hello.municipality, sizeof hello.municipality, "%s", municipality);
    snprintf (hello.data_key, sizeof hello.data_key, "%s", data_key);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    s_send_body (dealer, "HELLO", body, size);
}

//  HELLO as the node's own municipality, naming the data key it seals to.
static void
s_hello (s_node_t *node, uint64_t head)
{
    s_hello_on (node->dealer, node->municipality, head, node->seal_to);
}

static void
s_ping (s_node_t *node, uint64_t head)
{
    size_t size;
    uint8_t *body = cp_wire_ping_encode (head, &size);
    s_send_body (node->dealer, "PING", body, size);
}

//  A monitor of dealer's lost connections and of its handshakes refused
//  by the central's ZAP handler, for s_event.
static zsock_t *
s_ends (zsock_t *dealer)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://test-central-wire-ends-%p", (void *) dealer);
    int rc = zmq_socket_monitor (zsock_resolve (dealer), endpoint,
                                 ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert (rc == 0);
    zsock_t *monitor = zsock_new_pair (endpoint);
    assert (monitor);
    return monitor;
}

//  Milliseconds until monitor (s_ends) reports event (others before it are
//  passed over), or -1 when it did not within msecs.
static int64_t
s_event (zsock_t *monitor, uint16_t event, int msecs)
{
    int64_t started = zclock_mono ();
    int64_t took = -1;
    while (took < 0 && zclock_mono () - started < msecs) {
        zsock_set_rcvtimeo (monitor, (int) (msecs - (zclock_mono () - started)) + 1);
        zmsg_t *msg = zmsg_recv (monitor);
        if (!msg)
            break;
        zframe_t *head = zmsg_first (msg);
        uint16_t code = 0;
        if (head && zframe_size (head) == 6)
            memcpy (&code, zframe_data (head), sizeof code);
        if (code == event)
            took = zclock_mono () - started;
        zmsg_destroy (&msg);
    }
    return took;
}

//  True when nothing comes on dealer within S_SILENCE ms.
static bool
s_silent (zsock_t *dealer)
{
    zsock_set_rcvtimeo (dealer, S_SILENCE);
    zmsg_t *msg = zmsg_recv (dealer);
    bool silent = msg == NULL;
    zmsg_destroy (&msg);
    return silent;
}

//  =====================================================================
//  Replies, their signatures checked as a node checks them

typedef struct {
    int command;                //  a cp_command_t; 0 when nothing came
    size_t frames;              //  frames of the message
    bool is_signed;             //  it came with a key id and a signature
    bool verified;              //  ... that verify with a data key the node pins
    char key_id [CP_KEY_ID_MAX + 1];    //  the signer's
    uint64_t seq;               //  WELCOME: expected; ACK: acked; NACK: expected
    uint32_t window;            //  WELCOME's, ACK's
    int reason;                 //  NACK's
    cp_welcome_t welcome;
} s_reply_t;

//  Receives one reply within msecs and checks it: its shape, its body,
//  and (WELCOME, ACK, NACK with four frames) its signature, over the
//  command, the node's municipality and the body.
static s_reply_t
s_recv (s_node_t *node, int msecs)
{
    s_reply_t reply;
    memset (&reply, 0, sizeof reply);
    zsock_set_rcvtimeo (node->dealer, msecs);
    zmsg_t *msg = zmsg_recv (node->dealer);
    if (!msg)
        return reply;
    reply.frames = zmsg_size (msg);
    zframe_t *command = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    zframe_t *key_id = zmsg_next (msg);
    zframe_t *signature = zmsg_next (msg);
    reply.command = body? cp_wire_command (zframe_data (command), zframe_size (command)): 0;
    const uint8_t *data = body? zframe_data (body): NULL;
    size_t size = body? zframe_size (body): 0;
    int rc = 0;
    if (reply.command == CP_CMD_WELCOME) {
        rc = cp_wire_welcome_decode (data, size, &reply.welcome);
        reply.seq = reply.welcome.expected;
        reply.window = reply.welcome.window;
    }
    else
    if (reply.command == CP_CMD_ACK) {
        cp_ack_t ack;
        rc = cp_wire_ack_decode (data, size, &ack);
        reply.seq = ack.acked;
        reply.window = ack.window;
    }
    else
    if (reply.command == CP_CMD_NACK) {
        cp_reply_t nack = {0, 0};
        rc = cp_wire_nack_decode (data, size, &nack);
        reply.seq = nack.seq;
        reply.reason = nack.reason;
    }
    else
    if (reply.command == CP_CMD_PONG)
        rc = cp_wire_pong_decode (data, size);
    else
        reply.command = 0;
    if (rc) {
        fprintf (stderr, "  a %s whose body does not decode: %s\n",
                 cp_wire_command_name (reply.command), cp_strerror (rc));
        testing_failures_++;
    }
    if (reply.command && reply.frames == 4 && zframe_size (key_id) <= CP_KEY_ID_MAX) {
        reply.is_signed = true;
        memcpy (reply.key_id, zframe_data (key_id), zframe_size (key_id));
        const cp_party_key_t *key = s_pinned (node, reply.key_id);
        reply.verified = key
            && cp_envelope_verify_reply (cp_wire_command_name (reply.command),
                                         node->municipality, data, size,
                                         zframe_data (signature), zframe_size (signature),
                                         key->sign_public) == 0;
        if (!reply.verified) {
            fprintf (stderr, "  a %s signed by %s%s does not verify\n",
                     cp_wire_command_name (reply.command), reply.key_id,
                     key? "": " (a key the node does not pin)");
            testing_failures_++;
        }
    }
    zmsg_destroy (&msg);
    return reply;
}

static void
s_describe (const s_reply_t *reply, char *text, size_t size)
{
    if (!reply->command)
        snprintf (text, size, "nothing");
    else
        snprintf (text, size, "%s [%" PRIu64 "%s%s] in %zu frames%s%s%s",
                  cp_wire_command_name (reply->command), reply->seq,
                  reply->reason? ", ": "", reply->reason? cp_strerror (reply->reason): "",
                  reply->frames, reply->is_signed? ", signed by ": ", unsigned",
                  reply->key_id, reply->is_signed && !reply->verified? " (not verified)": "");
}

static void
s_verdict (bool ok, const s_reply_t *reply, const char *wanted, int line)
{
    if (!ok) {
        char got [256];
        s_describe (reply, got, sizeof got);
        fprintf (stderr, "  %s:%d: expected %s, got %s\n", __FILE__, line, wanted, got);
        testing_failures_++;
    }
}

//  A WELCOME, signed; returns the sequence it expects.
static uint64_t
s_expect_welcome (s_node_t *node, int line)
{
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    s_verdict (reply.command == CP_CMD_WELCOME && reply.verified
               && reply.welcome.catalogue == S_CATALOGUE
               && (reply.welcome.window == CENTRAL_SERVER_WINDOW
               ||  reply.welcome.window == CENTRAL_SERVER_WINDOW_FEW),
               &reply, "a signed WELCOME", line);
    node->window = reply.welcome.window;
    return reply.seq;
}

static void
s_expect_ack (s_node_t *node, uint64_t seq, int line)
{
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    char wanted [64];
    snprintf (wanted, sizeof wanted, "a signed ACK [%" PRIu64 "]", seq);
    s_verdict (reply.command == CP_CMD_ACK && reply.verified && reply.seq == seq,
               &reply, wanted, line);
    if (reply.command == CP_CMD_ACK)
        node->window = reply.window;
}

//  Signed ACKs up to seq: ACKs are cumulative, so batches sent together
//  may be answered by fewer ACKs than batches, each higher than the last,
//  the last at seq.
static void
s_expect_acked (s_node_t *node, uint64_t seq, int line)
{
    uint64_t last = 0;
    while (true) {
        s_reply_t reply = s_recv (node, S_TIMEOUT);
        char wanted [96];
        snprintf (wanted, sizeof wanted, "signed ACKs rising from %" PRIu64 " to %" PRIu64,
                  last, seq);
        bool good = reply.command == CP_CMD_ACK && reply.verified && reply.seq > last
                 && reply.seq <= seq;
        s_verdict (good, &reply, wanted, line);
        if (good)
            node->window = reply.window;    //  the window in force now
        if (!good || reply.seq == seq)
            return;
        last = reply.seq;
    }
}

//  A signed NACK: the central knows who the node is.
static void
s_expect_nack (s_node_t *node, uint64_t expected, int reason, int line)
{
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    char wanted [128];
    snprintf (wanted, sizeof wanted, "a signed NACK [%" PRIu64 ", %s]", expected,
              cp_strerror (reason));
    s_verdict (reply.command == CP_CMD_NACK && reply.verified && reply.seq == expected
               && reply.reason == reason, &reply, wanted, line);
}

//  An unsigned NACK [0, reason]: the central does not vouch for the sender.
static void
s_expect_refused (s_node_t *node, int reason, int line)
{
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    char wanted [128];
    snprintf (wanted, sizeof wanted, "an unsigned NACK [0, %s]", cp_strerror (reason));
    s_verdict (reply.command == CP_CMD_NACK && reply.frames == 2 && reply.seq == 0
               && reply.reason == reason, &reply, wanted, line);
}

#define EXPECT_WELCOME(node) s_expect_welcome (node, __LINE__)
#define EXPECT_ACK(node, seq) s_expect_ack (node, seq, __LINE__)
#define EXPECT_ACKED(node, seq) s_expect_acked (node, seq, __LINE__)
#define EXPECT_NACK(node, seq, reason) s_expect_nack (node, seq, reason, __LINE__)
#define EXPECT_REFUSED(node, reason) s_expect_refused (node, reason, __LINE__)

//  Connects and says HELLO until welcomed (at most 3 s): keys enrolled a
//  moment ago are refused until the central has reloaded its key table
//  (a few times a second), and libzmq does not retry a connection ZAP
//  refused.  Returns the WELCOME's expected sequence, 0 if none came.
static uint64_t
s_connect_welcomed (s_node_t *node, uint64_t head)
{
    int64_t started = zclock_mono ();
    while (zclock_mono () - started < 3000) {
        s_connect (node);
        s_hello_on (node->dealer, node->municipality, head, node->seal_to);
        s_reply_t reply = s_recv (node, 300);
        if (reply.command == CP_CMD_WELCOME && reply.verified)
            return reply.seq;
        if (reply.command) {
            char got [256];
            s_describe (&reply, got, sizeof got);
            fprintf (stderr, "  expected a WELCOME, got %s\n", got);
            testing_failures_++;
            return 0;
        }
    }
    return 0;
}

//  Sends PING every 50 ms until a NACK comes (PONGs are what a live key
//  gets).  Returns the ms from the call to that NACK, in *reply; -1 when
//  none came within 3 s.
static int64_t
s_ping_until_nack (s_node_t *node, s_reply_t *reply)
{
    int64_t started = zclock_mono ();
    while (zclock_mono () - started < 3000) {
        s_ping (node, 0);
        *reply = s_recv (node, 200);
        if (reply->command == CP_CMD_NACK)
            return zclock_mono () - started;
        zclock_sleep (50);
    }
    return -1;
}

//  =====================================================================
//  Batches, sealed and signed as a node seals and signs them

//  count case_opened events from sequence first, cases named after tag.
static uint8_t *
s_payload (uint64_t first, size_t count, const char *tag, size_t *size)
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
    uint8_t *payload = cp_codec_batch_encode (first, events, count, size);
    assert (payload);
    free (events);
    return payload;
}

//  Seals payload (a cp_codec batch of size bytes) under header, signed
//  with signer's node key and sealed to the data key the header names (one
//  signer pins).
static cp_batch_sealed_t
s_seal_payload (const s_node_t *signer, cp_batch_header_t *header, const uint8_t *payload,
                size_t size)
{
    snprintf (header->node_key, sizeof header->node_key, "%s", signer->keys.node_key.id);
    const cp_party_key_t *central = s_pinned (signer, header->data_key);
    assert (central);
    uint8_t *session = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (session);
    int rc = cp_envelope_node_key (signer->keys.node_key.kx_public,
                                   signer->secrets + CP_SECRETS_KX, central->kx_public, session);
    assert (rc == 0);
    cp_batch_sealed_t batch;
    rc = cp_batch_seal (header, payload, size, session, signer->secrets + CP_SECRETS_SIGN,
                        &batch);
    assert (rc == 0);
    cp_keyfile_free (&session);
    return batch;
}

//  A batch of count events from first, in a header that names
//  municipality, signed with signer's node key and sealed to the data key
//  data_key (one signer pins).
static cp_batch_sealed_t
s_seal_as (const s_node_t *signer, const char *municipality, const char *data_key,
           uint64_t first, size_t count, const char *tag)
{
    cp_batch_header_t header;
    memset (&header, 0, sizeof header);
    snprintf (header.municipality, sizeof header.municipality, "%s", municipality);
    header.first = first;
    header.last = first + count - 1;
    header.head = header.last + 10;
    snprintf (header.data_key, sizeof header.data_key, "%s", data_key);
    size_t payload_size;
    uint8_t *payload = s_payload (first, count, tag, &payload_size);
    cp_batch_sealed_t batch = s_seal_payload (signer, &header, payload, payload_size);
    free (payload);
    return batch;
}

//  A batch of the node's own, sealed to the data key it seals to.
static cp_batch_sealed_t
s_seal (const s_node_t *node, uint64_t first, size_t count, const char *tag)
{
    return s_seal_as (node, node->municipality, node->seal_to, first, count, tag);
}

static void
s_send_sealed (s_node_t *node, const cp_batch_sealed_t *batch)
{
    s_send_frames (node->dealer, "BATCH", (size_t) 5, batch->header, batch->header_size,
                   batch->sealed, batch->sealed_size, batch->signature,
                   sizeof batch->signature, NULL);
}

//  Seals and sends count events from first.
static void
s_send_batch (s_node_t *node, uint64_t first, size_t count, const char *tag)
{
    cp_batch_sealed_t batch = s_seal (node, first, count, tag);
    s_send_sealed (node, &batch);
    cp_batch_sealed_free (&batch);
}

//  =====================================================================
//  Protocol tests

//  Sets up a central and serves it, with the node of municipality
//  connected and welcomed (expected 1) in *node.  Returns the server.
static zactor_t *
s_serve_welcomed (const char *municipality, s_node_t **node)
{
    s_setup_central ();
    *node = s_node_new (municipality);
    zactor_t *server = s_start_ok ();
    s_connect (*node);
    s_hello (*node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (*node), 1);
    return server;
}

static void
test_hello_welcome (void)
{
    s_node_t *node;
    zactor_t *server = s_serve_welcomed ("berat", &node);
    CHECK_EQ_INT (node->window, CENTRAL_SERVER_WINDOW_FEW);     //  alone: the wide one
    //  HELLO again on the same connection is fine.
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    CHECK_EQ_INT (node->window, CENTRAL_SERVER_WINDOW_FEW);
    //  Signed with the data key the node named, the one it pins.
    s_hello (node, 0);
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    CHECK_EQ_INT (reply.command, CP_CMD_WELCOME);
    CHECK (reply.verified);
    CHECK_STR_CONTAINS (reply.key_id, node->seal_to);
    //  PING → PONG (two frames, unsigned), and the head is noted.
    s_ping (node, 42);
    reply = s_recv (node, S_TIMEOUT);
    CHECK_EQ_INT (reply.command, CP_CMD_PONG);
    CHECK_EQ_INT (reply.frames, 2);
    s_node_destroy (&node);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    central_cursor_t cursor = s_cursor (&figures, "berat");
    CHECK_EQ_INT (cursor.head, 42);
    CHECK (cursor.last_seen > 0);
    CHECK_EQ_INT (cursor.acked, 0);
    s_remove_central ();
}

static void
test_batches (void)
{
    s_node_t *node;
    zactor_t *server = s_serve_welcomed ("diber", &node);
    cp_batch_sealed_t first = s_seal (node, 1, 3, "a");
    s_send_sealed (node, &first);
    EXPECT_ACK (node, 3);
    //  The same batch again: acknowledged, not applied.
    s_send_sealed (node, &first);
    EXPECT_ACK (node, 3);
    //  A gap: 6..7 after 3.
    s_send_batch (node, 6, 2, "b");
    EXPECT_NACK (node, 4, CP_EGAP);
    //  A window of batches sent at once: answered in order, cumulatively.
    uint64_t window = node->window;
    for (uint64_t index = 0; index < window; index++) {
        char tag [8];
        snprintf (tag, sizeof tag, "w%d", (int) index);
        s_send_batch (node, 4 + 5 * index, 5, tag);
    }
    EXPECT_ACKED (node, 3 + 5 * window);
    //  A reconnected node is told where to go on.
    s_connect (node);
    s_hello (node, 99);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 4 + 5 * window);
    s_node_destroy (&node);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, "county:diber");
    CHECK_EQ_INT (figures.opened, 3 + 5 * window);
    CHECK_EQ_INT (figures.opened_scope, 3 + 5 * window);
    CHECK_EQ_INT (s_count (&figures, CP_EGAP), 1);
    central_cursor_t cursor = s_cursor (&figures, "diber");
    CHECK_EQ_INT (cursor.acked, 3 + 5 * window);
    CHECK_EQ_INT (cursor.events, 3 + 5 * window);
    CHECK_EQ_INT (cursor.duplicates, 1);
    CHECK_EQ_INT (cursor.batches, 1 + window);
    CHECK_EQ_INT (cursor.head, 99);
    cp_batch_sealed_free (&first);
    s_remove_central ();
}

//  A group the central cannot store (a full disk, here a file size limit on
//  this process, where the server runs): each of its batches is refused
//  with CP_ESTORE in a signed NACK naming the cursor, so that the node
//  starts over instead of waiting for an answer that would never come; the
//  central serves on, and the batch sent again once there is room is
//  applied once.
static void
test_store_failure (void)
{
    s_node_t *node;
    zactor_t *server = s_serve_welcomed ("diber", &node);
    s_send_batch (node, 1, 3, "a");
    EXPECT_ACK (node, 3);

    char path [4200];
    snprintf (path, sizeof path, "%s/store/data.mdb", s_dir);
    struct rlimit saved;
    CHECK_EQ_INT (testing_disk_full (path, &saved), 0);
    cp_batch_sealed_t batch = s_seal (node, 4, 900, "full");    //  new pages: the file must grow
    s_send_sealed (node, &batch);
    EXPECT_NACK (node, 4, CP_ESTORE);
    CHECK_EQ_INT (testing_disk_room (&saved), 0);
    s_ping (node, 903);
    s_reply_t pong = s_recv (node, S_TIMEOUT);
    CHECK_EQ_INT (pong.command, CP_CMD_PONG);
    s_send_sealed (node, &batch);
    EXPECT_ACK (node, 903);
    cp_batch_sealed_free (&batch);
    s_node_destroy (&node);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, "county:diber");
    CHECK_EQ_INT (figures.opened, 903);
    CHECK (s_count (&figures, CP_ESTORE) >= 1);
    central_cursor_t cursor = s_cursor (&figures, "diber");
    CHECK_EQ_INT (cursor.acked, 903);
    CHECK_EQ_INT (cursor.events, 903);
    s_remove_central ();
}

//  Hostile frames on an authenticated connection: each refused with its
//  code (signed when the central knows the sender's municipality), and
//  the actor serves on.
static void
test_garbage (void)
{
    s_setup_central ();
    s_node_t *bad = s_node_new ("berat");
    zactor_t *server = s_start_ok ();
    s_connect (bad);
    uint8_t junk [2000];
    memset (junk, 0xc1, sizeof junk);       //  0xc1: msgpack's reserved byte

    //  Before HELLO.  Not a command: the sender is not looked at.
    s_send_frames (bad->dealer, "GARBAGE", (size_t) 7, junk, (size_t) 4, NULL);
    EXPECT_REFUSED (bad, CP_EPROTOCOL);
    s_send_frames (bad->dealer, "", (size_t) 0, NULL);
    EXPECT_REFUSED (bad, CP_EPROTOCOL);
    s_send_frames (bad->dealer, "WELCOME", (size_t) 7, junk, (size_t) 4, NULL);
    EXPECT_REFUSED (bad, CP_EPROTOCOL);
    //  HELLO and PING from a known key: signed refusals.
    s_send_frames (bad->dealer, "HELLO", (size_t) 5, junk, (size_t) 4, NULL);
    EXPECT_NACK (bad, 0, CP_EMALFORMED);
    s_send_frames (bad->dealer, "HELLO", (size_t) 5, junk, sizeof junk, NULL);
    EXPECT_NACK (bad, 0, CP_ETOOBIG);
    s_send_frames (bad->dealer, "HELLO", (size_t) 5, NULL);
    EXPECT_NACK (bad, 0, CP_EMALFORMED);
    //  A municipality that does not exist is not this key's either.
    s_hello_on (bad->dealer, "atlantis", 0, bad->seal_to);
    EXPECT_NACK (bad, 0, CP_EIMPERSONATION);
    cp_hello_t hello;
    memset (&hello, 0, sizeof hello);
    hello.version = CP_WIRE_VERSION + 1;
    snprintf (hello.municipality, sizeof hello.municipality, "berat");
    snprintf (hello.data_key, sizeof hello.data_key, "%s", bad->seal_to);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    s_send_body (bad->dealer, "HELLO", body, size);
    EXPECT_NACK (bad, 0, CP_EVERSION);
    cp_batch_sealed_t batch = s_seal (bad, 1, 2, "g");
    s_send_sealed (bad, &batch);
    EXPECT_NACK (bad, 0, CP_EPROTOCOL);
    s_ping (bad, 1);
    EXPECT_NACK (bad, 0, CP_EPROTOCOL);
    s_send_frames (bad->dealer, "A", (size_t) 1, "B", (size_t) 1, "C", (size_t) 1,
                   "D", (size_t) 1, "E", (size_t) 1, "F", (size_t) 1, "G", (size_t) 1, NULL);
    EXPECT_REFUSED (bad, CP_EMALFORMED);

    //  With a session: batch refusals carry the cursor.
    s_hello (bad, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (bad), 1);
    cp_batch_sealed_t other = s_seal_as (bad, "dimal", bad->seal_to, 1, 2, "o");
    s_send_sealed (bad, &other);
    EXPECT_NACK (bad, 1, CP_EIMPERSONATION);
    s_send_frames (bad->dealer, "BATCH", (size_t) 5, batch.header, batch.header_size, NULL);
    EXPECT_NACK (bad, 1, CP_EMALFORMED);
    s_send_frames (bad->dealer, "BATCH", (size_t) 5, batch.header, batch.header_size,
                   junk, (size_t) 100, "", (size_t) 0, NULL);
    EXPECT_NACK (bad, 1, CP_EAUTH);
    s_send_frames (bad->dealer, "BATCH", (size_t) 5, junk, (size_t) 10, batch.sealed,
                   batch.sealed_size, batch.signature, sizeof batch.signature, NULL);
    EXPECT_NACK (bad, 1, CP_EMALFORMED);
    uint8_t forged [CP_ENVELOPE_SIGNATURE_SIZE];
    randombytes_buf (forged, sizeof forged);
    s_send_frames (bad->dealer, "BATCH", (size_t) 5, batch.header, batch.header_size,
                   batch.sealed, batch.sealed_size, forged, sizeof forged, NULL);
    EXPECT_NACK (bad, 1, CP_EAUTH);
    s_send_frames (bad->dealer, "PING", (size_t) 4, junk, (size_t) 3, NULL);
    EXPECT_NACK (bad, 0, CP_EMALFORMED);
    body = cp_wire_pong_encode (&size);
    s_send_body (bad->dealer, "PONG", body, size);
    EXPECT_REFUSED (bad, CP_EPROTOCOL);

    //  Frame limits: a signature over a body's: refused, counted.  (A
    //  payload over a batch's limit is over the socket's too, below.)
    s_send_frames (bad->dealer, "BATCH", (size_t) 5, batch.header, batch.header_size,
                   batch.sealed, batch.sealed_size, junk, (size_t) CP_WIRE_BODY_MAX + 1, NULL);
    EXPECT_NACK (bad, 1, CP_ETOOBIG);
    //  A frame over ZMQ_MAXMSGSIZE: libzmq drops the connection, no reply.
    size_t huge_size = CENTRAL_GUARD_FRAME_MAX + 1;
    uint8_t *huge = calloc (1, huge_size);
    assert (huge);
    s_send_frames (bad->dealer, "BATCH", (size_t) 5, batch.header, batch.header_size, huge,
                   huge_size, batch.signature, sizeof batch.signature, NULL);
    free (huge);
    CHECK (s_silent (bad->dealer));
    zsock_destroy (&bad->dealer);

    //  A good connection is served all along.
    s_connect (bad);
    s_hello (bad, 2);
    CHECK_EQ_INT (EXPECT_WELCOME (bad), 1);
    s_send_sealed (bad, &batch);
    EXPECT_ACK (bad, 2);
    s_node_destroy (&bad);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    CHECK_EQ_INT (figures.opened, 2);
    CHECK_EQ_INT (s_count (&figures, CP_EPROTOCOL), 6);
    CHECK_EQ_INT (s_count (&figures, CP_EMALFORMED), 6);
    CHECK_EQ_INT (s_count (&figures, CP_ETOOBIG), 2);
    CHECK_EQ_INT (s_count (&figures, CP_EIMPERSONATION), 2);
    CHECK_EQ_INT (s_count (&figures, CP_EVERSION), 1);
    CHECK_EQ_INT (s_count (&figures, CP_EAUTH), 2);
    CHECK_EQ_INT (s_count (&figures, CP_EUNKNOWNKEY), 0);
    CHECK_EQ_INT (s_count (&figures, CP_EHANDSHAKE), 0);
    cp_batch_sealed_free (&batch);
    cp_batch_sealed_free (&other);
    s_remove_central ();
}

//  The window narrows as sessions grow: wide for a few, sixteen for the
//  country's 61, one for a thousand, and what all hold together stays
//  about CENTRAL_SERVER_IN_FLIGHT once windows are narrowed.
static void
test_window_by_sessions (void)
{
    CHECK_EQ_INT (central_server_window (0), CENTRAL_SERVER_WINDOW_FEW);
    CHECK_EQ_INT (central_server_window (CENTRAL_SERVER_FEW), CENTRAL_SERVER_WINDOW_FEW);
    CHECK_EQ_INT (central_server_window (CENTRAL_SERVER_FEW + 1), CENTRAL_SERVER_WINDOW);
    CHECK_EQ_INT (central_server_window (60), CENTRAL_SERVER_WINDOW);
    CHECK_EQ_INT (central_server_window (127), CENTRAL_SERVER_IN_FLIGHT / 128);
    CHECK_EQ_INT (central_server_window (999), 1);
    CHECK_EQ_INT (central_server_window (100000), 1);
    for (size_t others = 64; others < 1000; others++) {
        uint32_t window = central_server_window (others);
        CHECK (window <= central_server_window (others - 1));
        CHECK ((others + 1) * window <= CENTRAL_SERVER_IN_FLIGHT);
    }
}

//  Many nodes at once, each with a window of batches: every batch applied
//  once, whatever the grouping.
static void
test_many_nodes (void)
{
    enum { NODES = 20, BATCHES = 6, EVENTS = 50 };
    s_setup_central ();
    s_node_t *nodes [NODES];
    for (int index = 0; index < NODES; index++)
        nodes [index] = s_node_new (cp_municipality_code (index * 3));
    zactor_t *server = s_start_ok ();
    for (int index = 0; index < NODES; index++) {
        s_connect (nodes [index]);
        s_hello (nodes [index], 0);
    }
    //  The first few in session get the wide window, the others the narrow.
    int wide = 0;
    for (int index = 0; index < NODES; index++) {
        CHECK_EQ_INT (EXPECT_WELCOME (nodes [index]), 1);
        wide += nodes [index]->window == CENTRAL_SERVER_WINDOW_FEW;
    }
    CHECK_EQ_INT (wide, CENTRAL_SERVER_FEW + 1);
    for (int round = 0; round < BATCHES; round++)
        for (int index = 0; index < NODES; index++) {
            char tag [16];
            snprintf (tag, sizeof tag, "n%d-%d", index, round);
            s_send_batch (nodes [index], 1 + (uint64_t) round * EVENTS, EVENTS, tag);
        }
    //  With all of them in session, every ACK gives the narrow window:
    //  the wide ones of the first few have narrowed.
    for (int index = 0; index < NODES; index++) {
        EXPECT_ACKED (nodes [index], (uint64_t) BATCHES * EVENTS);
        CHECK_EQ_INT (nodes [index]->window, central_server_window (NODES - 1));
    }
    CHECK_EQ_INT (central_server_window (NODES - 1), CENTRAL_SERVER_WINDOW);
    for (int index = 0; index < NODES; index++)
        s_node_destroy (&nodes [index]);
    zactor_destroy (&server);
    s_figures_t figures = s_figures (NULL, NULL);
    CHECK_EQ_INT (figures.opened, NODES * BATCHES * EVENTS);
    s_remove_central ();
}

//  A group that touches more cases than a transaction may is applied in
//  several, each answered once committed: with two batches' cases to a
//  transaction, no ACK moves more than two batches, and every event is
//  applied exactly once.
static void
test_group_split (void)
{
    enum { BATCHES = 40, EVENTS = 50 };     //  every event opens a case of its own
    setenv ("CPSYNC_TXN_CASES", "100", 1);
    s_node_t *node;
    zactor_t *server = s_serve_welcomed ("devoll", &node);
    unsetenv ("CPSYNC_TXN_CASES");
    for (int round = 0; round < BATCHES; round++) {
        char tag [16];
        snprintf (tag, sizeof tag, "s%d", round);
        s_send_batch (node, 1 + (uint64_t) round * EVENTS, EVENTS, tag);
    }
    uint64_t last = 0, widest = 0;
    int acks = 0;
    while (last < (uint64_t) BATCHES * EVENTS) {
        s_reply_t reply = s_recv (node, S_TIMEOUT);
        CHECK (reply.command == CP_CMD_ACK && reply.verified && reply.seq > last);
        if (reply.command != CP_CMD_ACK || reply.seq <= last)
            break;
        if (reply.seq - last > widest)
            widest = reply.seq - last;
        last = reply.seq;
        acks++;
    }
    printf ("  %d ACKs for %d batches, the widest step %" PRIu64 " events\n", acks, BATCHES,
            widest);
    CHECK_EQ_INT (last, (uint64_t) BATCHES * EVENTS);
    CHECK (widest <= 2 * EVENTS);
    s_node_destroy (&node);
    zactor_destroy (&server);
    s_figures_t figures = s_figures (NULL, NULL);
    CHECK_EQ_INT (figures.opened, BATCHES * EVENTS);
    central_cursor_t cursor = s_cursor (&figures, "devoll");
    CHECK_EQ_INT (cursor.acked, (uint64_t) BATCHES * EVENTS);
    s_remove_central ();
}

//  A clean stop and a restart: the cursor is where it was; and a second
//  server on the same data directory is refused.
static void
test_restart (void)
{
    s_setup_central ();
    s_node_t *node = s_node_new ("vlore");
    zactor_t *server = s_start_ok ();
    char why [512] = "";
    zactor_t *second = s_start (why, sizeof why);
    CHECK (second == NULL);
    CHECK_STR_CONTAINS (why, cp_strerror (CP_EBUSY));
    zactor_destroy (&second);

    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    cp_batch_sealed_t batch = s_seal (node, 1, 10, "r");
    s_send_sealed (node, &batch);
    EXPECT_ACK (node, 10);
    zsock_destroy (&node->dealer);
    zactor_destroy (&server);

    server = s_start (why, sizeof why);
    CHECK (server);
    if (!server)
        fprintf (stderr, "  the server did not start again: %s\n", why);
    else {
        s_connect (node);
        s_hello (node, 10);
        CHECK_EQ_INT (EXPECT_WELCOME (node), 11);
        s_send_sealed (node, &batch);
        EXPECT_ACK (node, 10);
    }
    s_node_destroy (&node);
    zactor_destroy (&server);
    cp_batch_sealed_free (&batch);

    s_figures_t figures = s_figures (NULL, "municipality:vlore");
    CHECK_EQ_INT (figures.opened_scope, 10);
    s_remove_central ();
}

//  =====================================================================
//  Security tests (issue 4): a refusal, its counter, and an honest node
//  served all along

//  The honest node sends count events from first and is acknowledged.
static void
s_honest_at (s_node_t *honest, uint64_t first, size_t count, const char *tag, int line)
{
    s_send_batch (honest, first, count, tag);
    s_expect_ack (honest, first + count - 1, line);
}

#define s_honest(honest, first, count, tag) s_honest_at (honest, first, count, tag, __LINE__)

//  With no ZAP handler in the process, a ROUTER that enforces the ZAP
//  domain (as central_auth_secure makes it) lets no one in; the same
//  ROUTER without enforcement (libzmq's "Stonehouse" default) lets the
//  same client in, which shows that the client was right and that no
//  handler was bound.  Runs first, before any actor has bound one.
static void
test_fail_closed (void)
{
    uint8_t server_public [32], server_secret [32], client_public [32], client_secret [32];
    crypto_box_keypair (server_public, server_secret);
    crypto_box_keypair (client_public, client_secret);
    for (int enforce = 1; enforce >= 0; enforce--) {
        zsock_t *router = zsock_new (ZMQ_ROUTER);
        assert (router);
        zsock_set_curve_server (router, 1);
        zsock_set_curve_secretkey_bin (router, server_secret);
        zsock_set_curve_publickey_bin (router, server_public);
        zsock_set_zap_domain (router, "cpsync");
        zsock_set_linger (router, 0);
        int one = enforce;
        CHECK_EQ_INT (zmq_setsockopt (zsock_resolve (router), 93 /* ZMQ_ZAP_ENFORCE_DOMAIN */,
                                      &one, sizeof one), 0);
        int port = zsock_bind (router, "tcp://127.0.0.1:*");
        CHECK (port > 0);
        char endpoint [64];
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
        zsock_t *client = s_dealer_to (endpoint, server_public, client_public, client_secret);
        zstr_send (client, "HELLO");
        zsock_set_rcvtimeo (router, enforce? S_SILENCE: S_TIMEOUT);
        zmsg_t *msg = zmsg_recv (router);
        if (enforce)
            CHECK (msg == NULL);
        else
            CHECK (msg != NULL);
        zmsg_destroy (&msg);
        zsock_destroy (&client);
        zsock_destroy (&router);
    }
}

//  A key pair never enrolled: the handshake is refused (no reply to
//  HELLO), counted CP_EUNKNOWNKEY; the honest node is served meanwhile.
static void
test_unknown_key (void)
{
    s_node_t *honest;
    zactor_t *server = s_serve_welcomed ("berat", &honest);

    uint8_t public_key [32], secret_key [32];
    crypto_box_keypair (public_key, secret_key);
    zsock_t *stranger = s_dealer_to (s_endpoint, honest->server_key, public_key, secret_key);
    s_hello_on (stranger, "berat", 0, honest->seal_to);
    s_honest (honest, 1, 3, "u1");          //  while the stranger knocks
    CHECK (s_silent (stranger));
    CHECK (s_wait_count (server, CP_EUNKNOWNKEY, 0) >= 1);
    s_honest (honest, 4, 2, "u2");
    zsock_destroy (&stranger);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    central_cursor_t cursor = s_cursor (&figures, "berat");
    CHECK_EQ_INT (cursor.acked, 5);
    CHECK_EQ_INT (cursor.events, 5);
    CHECK_EQ_INT (figures.opened, 5);
    //  Counted once, under its own code: libzmq does not retry a
    //  connection ZAP refused, and a ZAP refusal is no failed handshake.
    CHECK_EQ_INT (s_count (&figures, CP_EUNKNOWNKEY), 1);
    CHECK_EQ_INT (s_count (&figures, CP_EHANDSHAKE), 0);
    s_remove_central ();
}

//  A key revoked while its connection is open: refused from its next
//  message on, within a second; a new connection with it is refused at
//  the handshake.
static void
test_revoked_key (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node = s_node_new ("durres");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    s_send_batch (node, 1, 2, "v1");
    EXPECT_ACK (node, 2);

    zsock_t *ends = s_ends (node->dealer);
    free (s_admin (S_JOB_REVOKE, "durres", false, 0, __LINE__));
    s_reply_t reply;
    int64_t took = s_ping_until_nack (node, &reply);
    char got [256];
    s_describe (&reply, got, sizeof got);
    printf ("  revocation: %s after %" PRId64 " ms\n", got, took);
    CHECK_EQ_INT (reply.command, CP_CMD_NACK);
    CHECK_EQ_INT (reply.reason, CP_EREVOKED);
    CHECK_EQ_INT (reply.seq, 0);
    CHECK (took >= 0 && took <= S_SOON);
    //  The open connection is cut, not only refused (just after the NACK).
    int64_t cut = s_event (ends, ZMQ_EVENT_DISCONNECTED, S_SOON);
    printf ("  revocation: connection cut %" PRId64 " ms after the NACK\n", cut);
    CHECK (cut >= 0);
    //  libzmq connects again on its own, and ZAP refuses it.  Waited for
    //  before this socket goes: closed while the refusal is on its way,
    //  that handshake would be one cut half way, which the central rightly
    //  counts as a failed handshake (CP_EHANDSHAKE, checked below).
    CHECK (s_event (ends, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 10 * S_SOON) >= 0);
    //  Monitoring stops before its reader goes (node_sync.c, s_disconnect)
    zmq_socket_monitor (zsock_resolve (node->dealer), NULL, 0);
    zsock_destroy (&ends);
    s_honest (honest, 1, 2, "v3");

    //  A new connection with the revoked key: no handshake.
    s_figures_t figures = s_figures (server, NULL);
    uint64_t before = s_count (&figures, CP_EREVOKED);
    s_connect (node);
    s_hello (node, 2);
    CHECK (s_silent (node->dealer));
    CHECK (s_wait_count (server, CP_EREVOKED, before) > before);
    s_honest (honest, 3, 2, "v4");
    s_node_destroy (&node);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    figures = s_figures (NULL, NULL);
    central_cursor_t cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 2);
    CHECK_EQ_INT (cursor.events, 2);
    cursor = s_cursor (&figures, "berat");
    CHECK_EQ_INT (cursor.acked, 4);
    CHECK_EQ_INT (figures.opened, 6);
    //  The connection cut, libzmq's reconnection and ours refused (and the
    //  PINGs that came between the revocation and the cut).
    CHECK (s_count (&figures, CP_EREVOKED) >= 3);
    CHECK_EQ_INT (s_count (&figures, CP_EHANDSHAKE), 0);
    s_remove_central ();
}

//  An enrolled node that connects with a wrong server key: its HELLO
//  cannot be opened, the handshake fails at the central (counted
//  CP_EHANDSHAKE by the monitor), nothing comes back.
static void
test_wrong_server_key (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node = s_node_new ("korce");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);

    uint8_t wrong_public [32], wrong_secret [32];
    crypto_box_keypair (wrong_public, wrong_secret);
    node->dealer = s_dealer (node, wrong_public);
    s_hello (node, 0);
    CHECK (s_silent (node->dealer));
    CHECK (s_wait_count (server, CP_EHANDSHAKE, 0) >= 1);
    s_honest (honest, 1, 3, "k1");
    //  The node itself is not shut out: with the right key it is served.
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    s_send_batch (node, 1, 2, "k2");
    EXPECT_ACK (node, 2);
    s_node_destroy (&node);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    CHECK (s_count (&figures, CP_EHANDSHAKE) >= 1);
    CHECK_EQ_INT (s_count (&figures, CP_EUNKNOWNKEY), 0);
    CHECK_EQ_INT (figures.opened, 5);
    s_remove_central ();
}

//  A's key speaking as B: in HELLO, in a batch header, with B's node key
//  (and B's own signature) in A's header, and B's whole batch over A's
//  connection.  Each refused CP_EIMPERSONATION, signed; B's figures do
//  not move.
static void
test_impersonation (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node_a = s_node_new ("durres");
    s_node_t *node_b = s_node_new ("kruje");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (node_b);
    s_hello (node_b, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node_b), 1);
    s_send_batch (node_b, 1, 3, "b1");
    EXPECT_ACK (node_b, 3);

    s_connect (node_a);
    s_hello_on (node_a->dealer, "kruje", 0, node_a->seal_to);
    EXPECT_NACK (node_a, 0, CP_EIMPERSONATION);
    s_hello (node_a, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node_a), 1);
    //  A's batch in a header that names B.
    cp_batch_sealed_t batch = s_seal_as (node_a, "kruje", node_a->seal_to, 4, 2, "i1");
    s_send_sealed (node_a, &batch);
    EXPECT_NACK (node_a, 1, CP_EIMPERSONATION);
    cp_batch_sealed_free (&batch);
    //  A's header naming B's node key, signed and sealed with B's (stolen) node key.
    batch = s_seal_as (node_b, "durres", node_b->seal_to, 1, 2, "i2");
    s_send_sealed (node_a, &batch);
    EXPECT_NACK (node_a, 1, CP_EIMPERSONATION);
    cp_batch_sealed_free (&batch);
    //  B's whole batch, as B would send it, over A's connection.
    batch = s_seal (node_b, 4, 2, "i3");
    s_send_sealed (node_a, &batch);
    EXPECT_NACK (node_a, 1, CP_EIMPERSONATION);
    cp_batch_sealed_free (&batch);
    //  A as itself is still served; so are B and the honest node.
    s_send_batch (node_a, 1, 2, "a1");
    EXPECT_ACK (node_a, 2);
    s_send_batch (node_b, 4, 1, "b2");
    EXPECT_ACK (node_b, 4);
    s_honest (honest, 1, 2, "h1");
    s_node_destroy (&node_a);
    s_node_destroy (&node_b);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, "municipality:kruje");
    central_cursor_t cursor = s_cursor (&figures, "kruje");
    CHECK_EQ_INT (cursor.acked, 4);
    CHECK_EQ_INT (cursor.events, 4);
    CHECK_EQ_INT (cursor.batches, 2);
    CHECK_EQ_INT (figures.opened_scope, 4);
    cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 2);
    CHECK_EQ_INT (cursor.events, 2);
    CHECK_EQ_INT (figures.opened, 8);
    CHECK_EQ_INT (s_count (&figures, CP_EIMPERSONATION), 4);
    s_remove_central ();
}

//  Tallies refusals by code, to compare with the central's counters.
typedef struct {
    int code [16];
    uint64_t count [16];
    size_t size;
} s_tally_t;

static void
s_tally (s_tally_t *tally, int code)
{
    for (size_t index = 0; index < tally->size; index++)
        if (tally->code [index] == code) {
            tally->count [index]++;
            return;
        }
    assert (tally->size < 16);
    tally->code [tally->size] = code;
    tally->count [tally->size++] = 1;
}

//  Sends a tampered copy of batch (frames as given) and returns the
//  reply, which must be a signed NACK [expected, ...].
static s_reply_t
s_tampered (s_node_t *node, const uint8_t *header, size_t header_size, const uint8_t *sealed,
            size_t sealed_size, const uint8_t *signature, uint64_t expected, s_tally_t *tally)
{
    s_send_frames (node->dealer, "BATCH", (size_t) 5, header, header_size, sealed, sealed_size,
                   signature, (size_t) CP_ENVELOPE_SIGNATURE_SIZE, NULL);
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    if (reply.command != CP_CMD_NACK || !reply.verified || reply.seq != expected
    ||  reply.reason == 0) {
        char got [256];
        s_describe (&reply, got, sizeof got);
        fprintf (stderr, "  a tampered batch got %s\n", got);
        testing_failures_++;
    }
    if (reply.command == CP_CMD_NACK)
        s_tally (tally, reply.reason);
    return reply;
}

//  One flipped bit anywhere in a sealed batch, or a cut ciphertext: the
//  batch is refused and nothing of it applied; the batch itself then is.
static void
test_tampering (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node = s_node_new ("durres");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    s_send_batch (node, 1, 2, "t0");
    EXPECT_ACK (node, 2);

    cp_batch_sealed_t batch = s_seal (node, 3, 5, "t1");
    s_tally_t tally;
    memset (&tally, 0, sizeof tally);
    uint8_t *copy = malloc (batch.sealed_size + 1);
    uint8_t header [CP_WIRE_BODY_MAX], signature [CP_ENVELOPE_SIGNATURE_SIZE];
    assert (copy && batch.header_size <= sizeof header);
    //  Every byte of the header: any refusal (a flip may break the
    //  msgpack, an id, the range, or only the associated data).
    for (size_t at = 0; at < batch.header_size; at++) {
        memcpy (header, batch.header, batch.header_size);
        header [at] ^= (uint8_t) (1u << (at % 8));
        s_tampered (node, header, batch.header_size, batch.sealed, batch.sealed_size,
                    batch.signature, 3, &tally);
    }
    //  Every byte of the signature: CP_EAUTH.
    for (size_t at = 0; at < sizeof signature; at++) {
        memcpy (signature, batch.signature, sizeof signature);
        signature [at] ^= (uint8_t) (1u << (at % 8));
        s_reply_t reply = s_tampered (node, batch.header, batch.header_size, batch.sealed,
                                      batch.sealed_size, signature, 3, &tally);
        CHECK_EQ_INT (reply.reason, CP_EAUTH);
    }
    //  64 positions of the ciphertext, its first and last byte among them.
    for (size_t step = 0; step < 64; step++) {
        size_t at = step * (batch.sealed_size - 1) / 63;
        memcpy (copy, batch.sealed, batch.sealed_size);
        copy [at] ^= (uint8_t) (1u << (step % 8));
        s_reply_t reply = s_tampered (node, batch.header, batch.header_size, copy,
                                      batch.sealed_size, batch.signature, 3, &tally);
        CHECK_EQ_INT (reply.reason, CP_EAUTH);
    }
    //  Cut short (shorter than a tag: malformed), or a byte longer.
    size_t lengths [] = {0, 1, 15, 16, 17, batch.sealed_size / 2, batch.sealed_size - 1,
                         batch.sealed_size + 1};
    for (size_t index = 0; index < sizeof lengths / sizeof lengths [0]; index++) {
        memcpy (copy, batch.sealed, batch.sealed_size);
        copy [batch.sealed_size] = 0;
        s_reply_t reply = s_tampered (node, batch.header, batch.header_size, copy,
                                      lengths [index], batch.signature, 3, &tally);
        CHECK_EQ_INT (reply.reason, lengths [index] < CP_ENVELOPE_OVERHEAD? CP_EMALFORMED
                                                                          : CP_EAUTH);
    }
    free (copy);
    printf ("  tampering: refusals");
    for (size_t index = 0; index < tally.size; index++)
        printf (" %s ×%" PRIu64, cp_strerror (tally.code [index]), tally.count [index]);
    printf ("\n");
    s_figures_t figures = s_figures (server, NULL);
    central_cursor_t cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 2);
    CHECK_EQ_INT (cursor.events, 2);
    CHECK_EQ_INT (cursor.batches, 1);
    CHECK_EQ_INT (figures.opened, 2);

    //  The batch as sealed: applied.
    s_send_sealed (node, &batch);
    EXPECT_ACK (node, 7);
    size_t header_size = batch.header_size;
    cp_batch_sealed_free (&batch);
    s_honest (honest, 1, 3, "h1");
    s_node_destroy (&node);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    figures = s_figures (NULL, NULL);
    cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 7);
    CHECK_EQ_INT (cursor.events, 7);
    CHECK_EQ_INT (figures.opened, 10);
    //  Every refusal counted under the code its NACK gave.
    uint64_t refused = 0;
    for (size_t index = 0; index < tally.size; index++) {
        CHECK_EQ_INT (s_count (&figures, tally.code [index]), tally.count [index]);
        refused += tally.count [index];
    }
    CHECK_EQ_INT (refused, header_size + 64 + 64 + 8);
    CHECK (s_count (&figures, CP_EAUTH) >= 64 + 64 + 5);
    CHECK (s_count (&figures, CP_EMALFORMED) >= 3);
    s_remove_central ();
}

//  Batches a node signed and sealed itself whose events are not the ones
//  their header names (one event less, another first sequence): refused
//  CP_EMALFORMED once opened, nothing of them applied; the batch as it
//  should be is then applied.
static void
test_header_mismatch (void)
{
    s_setup_central ();
    s_node_t *node = s_node_new ("berat");
    zactor_t *server = s_start_ok ();
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    struct {
        uint64_t payload_first;
        size_t payload_count;
    } wrong [] = {{1, 2}, {2, 3}};
    for (size_t index = 0; index < sizeof wrong / sizeof wrong [0]; index++) {
        cp_batch_header_t header;
        memset (&header, 0, sizeof header);
        snprintf (header.municipality, sizeof header.municipality, "berat");
        header.first = 1;
        header.last = header.head = 3;
        snprintf (header.data_key, sizeof header.data_key, "%s", node->seal_to);
        size_t size;
        uint8_t *payload = s_payload (wrong [index].payload_first, wrong [index].payload_count,
                                      "m", &size);
        cp_batch_sealed_t batch = s_seal_payload (node, &header, payload, size);
        free (payload);
        s_send_sealed (node, &batch);
        EXPECT_NACK (node, 1, CP_EMALFORMED);
        cp_batch_sealed_free (&batch);
    }
    s_send_batch (node, 1, 3, "m");
    EXPECT_ACK (node, 3);
    s_node_destroy (&node);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    central_cursor_t cursor = s_cursor (&figures, "berat");
    CHECK_EQ_INT (cursor.acked, 3);
    CHECK_EQ_INT (cursor.events, 3);
    CHECK_EQ_INT (cursor.batches, 1);
    CHECK_EQ_INT (figures.opened, 3);
    CHECK_EQ_INT (s_count (&figures, CP_EMALFORMED), 2);
    s_remove_central ();
}

//  A valid batch sent again, frame for frame, on the same connection and
//  on a new one: acknowledged with the same sequence, counted once.
static void
test_replay (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node = s_node_new ("durres");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    cp_batch_sealed_t batch = s_seal (node, 1, 4, "p");
    s_send_sealed (node, &batch);
    EXPECT_ACK (node, 4);
    s_figures_t before = s_figures (server, "municipality:durres");

    s_send_sealed (node, &batch);
    EXPECT_ACK (node, 4);
    s_connect (node);
    s_hello (node, 4);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 5);
    s_send_sealed (node, &batch);
    EXPECT_ACK (node, 4);
    s_figures_t after = s_figures (server, "municipality:durres");
    CHECK_EQ_INT (before.opened_scope, 4);
    CHECK_EQ_INT (after.opened_scope, 4);
    CHECK_EQ_INT (after.opened, before.opened);
    central_cursor_t cursor = s_cursor (&after, "durres");
    CHECK_EQ_INT (cursor.acked, 4);
    CHECK_EQ_INT (cursor.events, 4);
    CHECK_EQ_INT (cursor.batches, 1);
    CHECK_EQ_INT (cursor.duplicates, 2);
    s_honest (honest, 1, 2, "h1");
    cp_batch_sealed_free (&batch);
    s_node_destroy (&node);
    s_node_destroy (&honest);
    zactor_destroy (&server);
    s_remove_central ();
}

//  HELLO naming data_key until the WELCOME is signed with it (the central
//  reloads its key table a few times a second); returns the ms it took,
//  or -1.
static int64_t
s_hello_until_signed (s_node_t *node, const char *data_key)
{
    int64_t started = zclock_mono ();
    while (zclock_mono () - started < 3000) {
        s_hello (node, 0);
        s_reply_t reply = s_recv (node, S_TIMEOUT);
        if (reply.command == CP_CMD_WELCOME && reply.verified && streq (reply.key_id, data_key))
            return zclock_mono () - started;
        zclock_sleep (50);
    }
    return -1;
}

//  Sends a batch of events already applied (1..1), sealed to data_key,
//  every 50 ms until it is refused; returns the ms that took (the NACK in
//  *reply), or -1.  Before the refusal the central re-acknowledges it.
static int64_t
s_probe_until_nack (s_node_t *node, const char *data_key, s_reply_t *reply)
{
    int64_t started = zclock_mono ();
    while (zclock_mono () - started < 3000) {
        //  The node's first batch again (1..3): acknowledged as sent
        //  again while the key is good.
        cp_batch_sealed_t batch = s_seal_as (node, node->municipality, data_key, 1, 3, "p");
        s_send_sealed (node, &batch);
        cp_batch_sealed_free (&batch);
        *reply = s_recv (node, S_TIMEOUT);
        if (reply->command == CP_CMD_NACK)
            return zclock_mono () - started;
        zclock_sleep (50);
    }
    return -1;
}

//  The central's data key rotated while batches sealed to the old one are
//  in flight: they are applied (grace) and acknowledged with the key they
//  named; the new key works once the node has it; after a rotation with
//  no grace, batches sealed to the old keys are refused CP_EEXPIRED.
static void
test_data_key_rotation (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node = s_node_new ("durres");
    char first_key [CP_KEY_ID_MAX + 1], second_key [CP_KEY_ID_MAX + 1] = "";
    char third_key [CP_KEY_ID_MAX + 1] = "";
    snprintf (first_key, sizeof first_key, "%s", node->seal_to);
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    cp_batch_sealed_t flight [2] = {s_seal (node, 1, 3, "d1"), s_seal (node, 4, 3, "d2")};

    //  Rotation with 30 days of grace: D2 is current, D1 retiring.
    cp_enrolment_t keys = s_node_learn (node, s_admin (S_JOB_ROTATE, NULL, false,
                                                       CENTRAL_ADMIN_GRACE_DEFAULT, __LINE__));
    CHECK_EQ_INT (keys.central_data_count, 2);
    for (size_t index = 0; index < keys.central_data_count; index++)
        if (!streq (keys.central_data [index].id, first_key))
            snprintf (second_key, sizeof second_key, "%s", keys.central_data [index].id);
    CHECK (*second_key);
    //  (Which of the two the announcement lists first: test_data_key_order.)
    for (int index = 0; index < 2; index++) {
        s_send_sealed (node, &flight [index]);
        s_reply_t reply = s_recv (node, S_TIMEOUT);
        CHECK_EQ_INT (reply.command, CP_CMD_ACK);
        CHECK_EQ_INT (reply.seq, 3 + 3 * (uint64_t) index);
        CHECK (reply.verified);
        CHECK_STR_CONTAINS (reply.key_id, first_key);
        cp_batch_sealed_free (&flight [index]);
    }
    //  The node seals to D2 once the central serves it.
    snprintf (node->seal_to, sizeof node->seal_to, "%s", second_key);
    CHECK (s_hello_until_signed (node, second_key) >= 0);
    s_send_batch (node, 7, 3, "d3");
    s_reply_t reply = s_recv (node, S_TIMEOUT);
    CHECK_EQ_INT (reply.command, CP_CMD_ACK);
    CHECK_EQ_INT (reply.seq, 9);
    CHECK (reply.verified);
    CHECK_STR_CONTAINS (reply.key_id, second_key);
    //  D1 is still in its grace period.
    cp_batch_sealed_t late = s_seal_as (node, "durres", first_key, 10, 2, "d4");
    s_send_sealed (node, &late);
    cp_batch_sealed_free (&late);
    reply = s_recv (node, S_TIMEOUT);
    CHECK_EQ_INT (reply.command, CP_CMD_ACK);
    CHECK_EQ_INT (reply.seq, 11);
    CHECK_STR_CONTAINS (reply.key_id, first_key);
    s_honest (honest, 1, 2, "h1");          //  still sealing to D1

    //  Rotation with no grace (a leaked key): D1 and D2 expire, D3 serves.
    keys = s_node_learn (node, s_admin (S_JOB_ROTATE, NULL, false, 0, __LINE__));
    CHECK_EQ_INT (keys.central_data_count, 1);
    snprintf (third_key, sizeof third_key, "%s", keys.central_data [0].id);
    CHECK (!streq (third_key, first_key) && !streq (third_key, second_key));
    int64_t took = s_probe_until_nack (node, second_key, &reply);
    printf ("  data key expiry: NACK after %" PRId64 " ms\n", took);
    CHECK (took >= 0 && took <= S_SOON);
    CHECK_EQ_INT (reply.command, CP_CMD_NACK);
    CHECK_EQ_INT (reply.seq, 12);
    CHECK_EQ_INT (reply.reason, CP_EEXPIRED);
    //  The key the node named is dead: the reply is signed with the current one.
    CHECK (reply.verified);
    CHECK_STR_CONTAINS (reply.key_id, third_key);
    cp_batch_sealed_t expired = s_seal_as (node, "durres", first_key, 12, 2, "d5");
    s_send_sealed (node, &expired);
    cp_batch_sealed_free (&expired);
    EXPECT_NACK (node, 12, CP_EEXPIRED);
    expired = s_seal_as (node, "durres", second_key, 12, 2, "d6");
    s_send_sealed (node, &expired);
    cp_batch_sealed_free (&expired);
    EXPECT_NACK (node, 12, CP_EEXPIRED);
    //  With D3: served.
    snprintf (node->seal_to, sizeof node->seal_to, "%s", third_key);
    s_send_batch (node, 12, 2, "d7");
    reply = s_recv (node, S_TIMEOUT);
    CHECK_EQ_INT (reply.command, CP_CMD_ACK);
    CHECK_EQ_INT (reply.seq, 13);
    CHECK_STR_CONTAINS (reply.key_id, third_key);
    //  The honest node, told of D3, goes on.
    s_pin (honest, &keys.central_data [0]);
    snprintf (honest->seal_to, sizeof honest->seal_to, "%s", third_key);
    s_honest (honest, 3, 2, "h2");
    s_node_destroy (&node);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    central_cursor_t cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 13);
    CHECK_EQ_INT (cursor.events, 13);
    CHECK_EQ_INT (figures.opened, 17);
    CHECK_EQ_INT (s_count (&figures, CP_EEXPIRED), 3);
    CHECK_EQ_INT (s_count (&figures, CP_EUNKNOWNKEY), 0);
    s_remove_central ();
}

//  Data keys made within one second (a rotation right after init, or two
//  in a row): each announcement must still list the newest first, since
//  a node seals to the first that has not expired (node_sync) and the
//  central signs with its "current" one.  Starts on a second's boundary
//  so that every key is made in the same second.
static void
test_data_key_order (void)
{
    int64_t second = (int64_t) time (NULL);
    while ((int64_t) time (NULL) == second)
        zclock_sleep (5);
    s_setup_central ();
    s_node_t *node = s_node_new ("berat");
    for (int round = 0; round < 5; round++) {
        size_t known = node->pinned_count;
        cp_enrolment_t keys = s_node_learn (node, s_admin (S_JOB_ROTATE, NULL, false,
                                                           CENTRAL_ADMIN_GRACE_DEFAULT, __LINE__));
        CHECK_EQ_INT (node->pinned_count, known + 1);
        CHECK_EQ_INT (keys.central_data_count, known + 1);
        const char *newest = node->pinned [known].id;
        if (!streq (keys.central_data [0].id, newest)) {
            fprintf (stderr, "  rotation %d (%lld s in): the announcement lists %s first, "
                     "not the new %s\n", round + 1, (long long) (time (NULL) - second - 1),
                     keys.central_data [0].id, newest);
            testing_failures_++;
        }
    }
    s_node_destroy (&node);
    s_remove_central ();
}

//  A node's keys rotated with a day's grace: old and new keys both work;
//  rotated again with none, the old keys are refused CP_EEXPIRED from
//  their next message on, within a second.
static void
test_node_key_rotation (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *old = s_node_new ("durres");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (old);
    s_hello (old, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (old), 1);
    s_send_batch (old, 1, 2, "o1");
    EXPECT_ACK (old, 2);

    s_node_t *new_keys = s_node_rotated ("durres", S_DAY);
    CHECK (!streq (new_keys->keys.node_key.id, old->keys.node_key.id));
    //  The new keys: welcomed (once the central has reloaded its table).
    CHECK_EQ_INT (s_connect_welcomed (new_keys, 2), 3);
    s_send_batch (new_keys, 3, 2, "n1");
    EXPECT_ACK (new_keys, 4);
    //  The old transport key still connects; the old node key still signs.
    s_connect (old);
    s_hello (old, 4);
    CHECK_EQ_INT (EXPECT_WELCOME (old), 5);
    s_send_batch (old, 5, 2, "o2");
    EXPECT_ACK (old, 6);

    s_node_t *newest = s_node_rotated ("durres", 0);
    s_reply_t reply;
    int64_t took = s_ping_until_nack (old, &reply);
    printf ("  node key expiry: NACK after %" PRId64 " ms\n", took);
    CHECK (took >= 0 && took <= S_SOON);
    CHECK_EQ_INT (reply.command, CP_CMD_NACK);
    CHECK_EQ_INT (reply.reason, CP_EEXPIRED);
    CHECK_EQ_INT (reply.seq, 0);
    //  The first rotation's keys went with it (grace 0 ends every live key).
    s_ping (new_keys, 0);
    EXPECT_REFUSED (new_keys, CP_EEXPIRED);
    //  A new connection with the old transport key: no handshake.
    s_connect (old);
    s_hello (old, 6);
    CHECK (s_silent (old->dealer));
    //  The newest keys: served, from where the cursor is.
    CHECK_EQ_INT (s_connect_welcomed (newest, 6), 7);
    s_send_batch (newest, 7, 2, "w1");
    EXPECT_ACK (newest, 8);
    //  ... but a batch signed with the expired node key is not.
    cp_batch_sealed_t batch = s_seal_as (old, "durres", newest->seal_to, 9, 2, "o3");
    s_send_sealed (newest, &batch);
    cp_batch_sealed_free (&batch);
    EXPECT_NACK (newest, 9, CP_EEXPIRED);
    s_honest (honest, 1, 2, "h1");
    s_node_destroy (&old);
    s_node_destroy (&new_keys);
    s_node_destroy (&newest);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, NULL);
    central_cursor_t cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 8);
    CHECK_EQ_INT (cursor.events, 8);
    CHECK_EQ_INT (figures.opened, 10);
    //  Two PINGs, the new connection, the batch; and the two connections
    //  cut when the keys expired.
    CHECK (s_count (&figures, CP_EEXPIRED) >= 4);
    s_remove_central ();
}

//  The central's transport key rotated with no grace: the server rebinds
//  with the new key within a second; the old key gets no reply; a node
//  with the new key (from the announcement) goes on where its cursor is,
//  nothing lost or counted twice.
static void
test_transport_rotation (void)
{
    s_setup_central ();
    s_node_t *honest = s_node_new ("berat");
    s_node_t *node = s_node_new ("durres");
    zactor_t *server = s_start_ok ();
    s_connect (honest);
    s_hello (honest, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 1);
    s_connect (node);
    s_hello (node, 0);
    CHECK_EQ_INT (EXPECT_WELCOME (node), 1);
    s_send_batch (node, 1, 3, "x1");
    EXPECT_ACK (node, 3);
    s_send_batch (node, 4, 2, "x2");
    EXPECT_ACK (node, 5);
    s_honest (honest, 1, 2, "h1");
    uint8_t old_key [CP_KEY_SIZE];
    memcpy (old_key, node->server_key, CP_KEY_SIZE);

    //  Timed from the rotation's commit, as the revocation and the expiries
    //  are: the ceremony's own time (slow under ThreadSanitizer) is not the
    //  server's.
    char *announcement = s_admin (S_JOB_ROTATE, NULL, true, 0, __LINE__);
    int64_t started = zclock_mono ();
    cp_enrolment_t keys = s_node_learn (node, announcement);
    CHECK_EQ_INT (keys.central_transport_count, 1);
    CHECK (memcmp (keys.central_transport [0].public_key, old_key, CP_KEY_SIZE) != 0);
    //  A batch in flight on the old connection as the key changes: its ACK
    //  may be lost, and the node sends it again.
    cp_batch_sealed_t flight = s_seal (node, 6, 3, "x3");
    s_send_sealed (node, &flight);
    memcpy (node->server_key, keys.central_transport [0].public_key, CP_KEY_SIZE);
    s_connect (node);
    s_hello (node, 8);
    uint64_t expected = EXPECT_WELCOME (node);
    int64_t took = zclock_mono () - started;
    printf ("  transport rotation: welcomed with the new key after %" PRId64 " ms\n", took);
    CHECK (took <= S_SOON);
    CHECK (expected == 6 || expected == 9);
    s_send_sealed (node, &flight);
    EXPECT_ACK (node, 8);
    cp_batch_sealed_free (&flight);
    s_send_batch (node, 9, 2, "x4");
    EXPECT_ACK (node, 10);

    //  The old server key: no handshake.
    zsock_t *stale = s_dealer (node, old_key);
    s_hello_on (stale, "durres", 10, node->seal_to);
    CHECK (s_silent (stale));
    zsock_destroy (&stale);
    //  The honest node's connection dropped at the rebind: it reconnects
    //  with the key it is told of.
    memcpy (honest->server_key, keys.central_transport [0].public_key, CP_KEY_SIZE);
    s_connect (honest);
    s_hello (honest, 2);
    CHECK_EQ_INT (EXPECT_WELCOME (honest), 3);
    s_honest (honest, 3, 2, "h2");
    s_node_destroy (&node);
    s_node_destroy (&honest);
    zactor_destroy (&server);

    s_figures_t figures = s_figures (NULL, "municipality:durres");
    central_cursor_t cursor = s_cursor (&figures, "durres");
    CHECK_EQ_INT (cursor.acked, 10);
    CHECK_EQ_INT (cursor.events, 10);
    CHECK_EQ_INT (figures.opened_scope, 10);
    CHECK_EQ_INT (figures.opened, 14);
    CHECK (s_count (&figures, CP_EHANDSHAKE) >= 1);
    s_remove_central ();
}

//  Asks for an archive (RECOVER) with the node key named.
static void
s_recover (s_node_t *node, uint64_t from, uint32_t count, const char *node_key)
{
    cp_recover_t recover = {.from = from, .count = count};
    snprintf (recover.node_key, sizeof recover.node_key, "%s", node_key);
    snprintf (recover.data_key, sizeof recover.data_key, "%s", node->seal_to);
    size_t size;
    uint8_t *body = cp_wire_recover_encode (&recover, &size);
    s_send_body (node->dealer, "RECOVER", body, size);
}

//  Receives a RECOVERED and opens it with the node's keys; returns its
//  header (position 0 when none came or it did not open) and the number
//  of events it carried in *events.
static cp_recovered_t
s_recovered (s_node_t *node, size_t *events)
{
    cp_recovered_t header;
    memset (&header, 0, sizeof header);
    *events = 0;
    zmsg_t *msg = zmsg_recv (node->dealer);
    if (!msg || zmsg_size (msg) != 4) {
        zmsg_destroy (&msg);
        return header;
    }
    zframe_t *command = zmsg_first (msg), *head = zmsg_next (msg);
    zframe_t *sealed = zmsg_next (msg), *signature = zmsg_next (msg);
    const cp_party_key_t *data = NULL;
    uint8_t *key = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    uint8_t *plain = malloc (zframe_size (sealed) + 1);
    assert (key && plain);
    int rc = cp_wire_command (zframe_data (command), zframe_size (command)) == CP_CMD_RECOVERED
           ? cp_wire_recovered_decode (zframe_data (head), zframe_size (head), &header)
           : CP_EPROTOCOL;
    if (rc == 0 && !(data = s_pinned (node, header.data_key)))
        rc = CP_EUNKNOWNKEY;
    if (rc == 0)
        rc = cp_envelope_node_recovery_key (node->keys.node_key.kx_public,
                                            node->secrets + CP_SECRETS_KX, data->kx_public, key);
    if (rc == 0 && zframe_size (sealed) < CP_ENVELOPE_OVERHEAD)
        rc = CP_EMALFORMED;
    if (rc == 0)
        rc = cp_envelope_open_for (CP_ENVELOPE_RECOVERED, zframe_data (head), zframe_size (head),
                                   header.nonce, zframe_data (sealed), zframe_size (sealed),
                                   zframe_data (signature), data->sign_public, key, plain);
    size_t size = rc? 0: zframe_size (sealed) - CP_ENVELOPE_OVERHEAD;
    uint64_t first;
    cp_event_t *decoded = NULL;
    if (rc == 0 && size && cp_codec_batch_decode (plain, size, &first, &decoded, events))
        rc = CP_EMALFORMED;
    free (decoded);
    if (rc) {
        fprintf (stderr, "  a RECOVERED that does not open: %s\n", cp_strerror (rc));
        memset (&header, 0, sizeof header);
    }
    cp_keyfile_free (&key);
    free (plain);
    zmsg_destroy (&msg);
    return header;
}

//  RECOVER: the municipality's archive, batch by batch, sealed to the
//  node key named, which must be the municipality's current one; then an
//  empty one that says the archive ends there.  Nothing for a peer with
//  no session, another municipality's key, or a key rotated out: a NACK
//  that is about no batch (sequence 0).
static void
test_recover (void)
{
    s_node_t *node;
    zactor_t *server = s_serve_welcomed ("elbasan", &node);
    s_node_t *other = s_node_new ("gramsh");
    s_honest (node, 1, 3, "r1");
    s_honest (node, 4, 2, "r2");
    //  No session: refused, nothing sent.
    s_node_t *stranger = s_node_new ("peqin");
    CHECK (s_connect_welcomed (stranger, 0) == 1);
    s_connect (stranger);
    s_recover (stranger, 1, 4, stranger->keys.node_key.id);
    EXPECT_NACK (stranger, 0, CP_EPROTOCOL);
    //  The whole archive, then its end.
    s_recover (node, 1, 8, node->keys.node_key.id);
    size_t events = 0;
    cp_recovered_t got = s_recovered (node, &events);
    CHECK_EQ_INT (got.position, 1);
    CHECK_EQ_INT (got.next, 2);
    CHECK_EQ_INT (got.end, 3);
    CHECK_EQ_INT (events, 3);
    CHECK (streq (got.municipality, "elbasan"));
    got = s_recovered (node, &events);
    CHECK_EQ_INT (got.position, 2);
    CHECK_EQ_INT (got.next, 3);
    CHECK_EQ_INT (events, 2);
    s_recover (node, 3, 8, node->keys.node_key.id);
    got = s_recovered (node, &events);
    CHECK_EQ_INT (got.position, 3);
    CHECK_EQ_INT (got.next, 3);
    CHECK_EQ_INT (events, 0);
    //  Another municipality's node key, then one that is not current.
    s_recover (node, 1, 8, other->keys.node_key.id);
    EXPECT_NACK (node, 0, CP_EIMPERSONATION);
    char old_key [CP_KEY_ID_MAX + 1];
    snprintf (old_key, sizeof old_key, "%s", node->keys.node_key.id);
    s_node_t *rotated = s_node_rotated ("elbasan", CENTRAL_ADMIN_GRACE_DEFAULT);
    zclock_sleep (600);                         //  the key table is reloaded
    s_recover (node, 1, 8, old_key);
    EXPECT_NACK (node, 0, CP_EEXPIRED);
    //  A RECOVER for no batch does not decode.
    s_recover (node, 1, 0, old_key);
    EXPECT_NACK (node, 0, CP_ETOOBIG);
    s_node_destroy (&rotated);
    s_node_destroy (&stranger);
    s_node_destroy (&other);
    s_node_destroy (&node);
    zactor_destroy (&server);
    s_remove_central ();
}

#define main s_main
TESTING_MAIN (
    TEST (test_fail_closed),
    TEST (test_hello_welcome),
    TEST (test_batches),
    TEST (test_store_failure),
    TEST (test_garbage),
    TEST (test_window_by_sessions),
    TEST (test_many_nodes),
    TEST (test_group_split),
    TEST (test_restart),
    TEST (test_unknown_key),
    TEST (test_revoked_key),
    TEST (test_wrong_server_key),
    TEST (test_impersonation),
    TEST (test_tampering),
    TEST (test_header_mismatch),
    TEST (test_replay),
    TEST (test_data_key_rotation),
    TEST (test_data_key_order),
    TEST (test_node_key_rotation),
    TEST (test_transport_rotation),
    TEST (test_recover)
)
#undef main

//  A job run apart (s_apart): --job KIND WHAT FLAG GRACE SCOPE DIR FD; its
//  code and output go to FD.
static int
s_job_main (char **argv)
{
    s_job_t job = {(s_job_kind_t) atoi (argv [2]), argv [3] [0]? argv [3]: NULL,
                   atoi (argv [4]) != 0, strtoll (argv [5], NULL, 10),
                   argv [6] [0]? argv [6]: NULL};
    snprintf (s_dir, sizeof s_dir, "%s", argv [7]);
    int fd = atoi (argv [8]);
    uint8_t *data = NULL;
    size_t size = 0;
    int32_t code = s_job_run (&job, &data, &size);
    uint64_t wide = size;
    s_write_all (fd, &code, sizeof code);
    s_write_all (fd, &wide, sizeof wide);
    s_write_all (fd, data, size);
    if (data)
        sodium_memzero (data, size);     //  a bundle holds a node's secrets
    free (data);
    return 0;
}

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        return 1;
    if (argc == 9 && streq (argv [1], "--job"))
        return s_job_main (argv);
    setvbuf (stdout, NULL, _IOLBF, 0);      //  our lines and the actor's, in order
    return s_main (argc, argv);
}
