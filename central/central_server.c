/*  central_server: the ROUTER loop, sessions, group commit and replies.

    One zpoller loop over the pipe and the ROUTER.  When the ROUTER is
    readable the actor reads messages until none is ready or the group is
    full, handling HELLO and PING at once and queuing each BATCH (or, when
    its frames are already wrong, its refusal) in arrival order; then it
    applies the queue in one transaction (or several, when it touches many
    cases: S_TXN_CASES) and answers each entry in turn once its
    transaction is committed.  Refusals of a BATCH wait in the queue too, so that a node sees its
    replies in the order it sent its batches.

    Which municipality a peer is comes from its CURVE key, never from what
    it says: central_auth's ZAP handler names it when the connection is
    made, and every message is checked again (s_peer), so a revoked key is
    refused from its next message on.  A session is a routing id bound by
    HELLO to that municipality (and to the data key the node seals to).
    Sessions are bounded: a new HELLO of a municipality replaces its older
    session, and when the table is full the least recently active goes.

    The downlink goes the other way in the same loop: after WELCOME, and
    after each DOWNACK, a session's node is sent the entries of the
    downlink log due to it (central_downlink says which, under its window),
    signed as replies; the log's end is looked at with the key table,
    since other processes publish.  A node that is caught up is also sent
    its municipality's figures to check (FIGURES, signed as a reply:
    central_figures says when), after commits that applied its events,
    after its HELLO and now and then.

    A batch becomes one the store may apply through central_intake: its
    frames, header and keys are checked as it is read; it is verified,
    opened and decoded when its group commits, on two threads: a helper
    does the group's batches in order, at most S_OPEN_AHEAD ahead, while
    this thread applies those already done (cp_parallel), so signature
    checks, decryption and parsing mostly cost no time on the thread that
    commits.  Nothing parses a batch's msgpack before it is open.  The store
    archives the sealed envelope as received and applies the opened events.
    WELCOME, ACK and NACK are signed with the node's data key.

    Messages are read frame by frame: at most S_FRAMES_MAX frames are kept,
    the rest of an over-long message is read and dropped, so a peer cannot
    make the actor hold more than that per message.  What libzmq holds
    before the actor reads it is central_guard's to bound: it measures each
    connection against what the actor read from it (each message is noted
    there) and cuts those that hold too much, stay silent, or belong to a
    key no longer valid, which is looked for whenever the key table changes
    and at every message refused for its key.

    Liveness is ours, not ZMTP's: the ROUTER has no ZMTP heartbeat and no
    receive high-water mark.  libzmq 4.3.4 asserts (!_io_error in
    stream_engine_base.cpp's out_event) when a connection whose input it
    stopped, its pipe full, is reset: the engine marks the I/O error and
    waits for the pipe to drain, and meanwhile the heartbeat timer calls
    out_event, or, once it drains, the ZMTP PING that was read behind the
    last message is answered through out_event.  Without a heartbeat timer
    and with no limit on the pipe (the guard bounds it in bytes), the
    input is never stopped and nothing calls out_event on a dead
    connection.  Nodes PING every two seconds; TCP keepalive and
    ZMQ_TCP_MAXRT end connections to hosts that vanished, and the guard
    those silent for a minute.                                               */

#include "central_server.h"
#include "central_auth.h"
#include "central_downlink.h"
#include "central_figures.h"
#include "central_guard.h"
#include "central_intake.h"
#include "central_store.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"
#include "cp_parallel.h"
#include "cp_wire.h"

#include <inttypes.h>
#include <sodium.h>
#include <sys/file.h>

#define S_FRAMES_MAX 5                      //  routing id, command, three body frames
//  A group's payload and the batches decoded ahead are most of the central's
//  own memory under load (bench/resources.sh: 428 MB of RssAnon for 61
//  nodes at full speed at 64 MiB and 64 ahead; 249 MB at these).
#define S_GROUP_BYTES (8u << 20)            //  payload bytes in one group at most
#define S_HANDSHAKE_IVL 10000               //  ms a connection has for its handshake
#define S_KEEPALIVE_IDLE 30                 //  s of silence before TCP keepalive probes
#define S_KEEPALIVE_INTVL 10                //  s between probes
#define S_KEEPALIVE_CNT 3                   //  probes unanswered before the kernel drops it
#define S_TCP_MAXRT 30000                   //  ms data may go unacknowledged (TCP_USER_TIMEOUT)
#define S_FLUSH_MSECS 1000                  //  notes and counters reach the store this often
#define S_REDO_MAX 16                       //  grow-and-redo rounds of one group
#define S_LOG_BURST 20                      //  refusal lines a second, then a summary
#define S_REFRESH_MSECS 250                 //  how often the key table is looked at
#define S_BUSY_BATCHES 8                    //  a group this big waits for more (s_more)
#define S_OPEN_AHEAD 16                     //  batches opened and decoded ahead of applying
//  Cases one transaction may touch before the rest of its group waits for
//  the next: LMDB's copies of the pages the transaction dirties, the case
//  cache and the scratch that seals the cases at commit all grow with
//  them (61 nodes at full speed held 311 to 340 MB with none).  A node
//  catching up alone touches fewer than this in a group.  Tests may set
//  another with CPSYNC_TXN_CASES.
#define S_TXN_CASES 32768

typedef struct {
    zframe_t *routing_id;       //  the peer's routing id (owned)
    int municipality;           //  index, bound by HELLO
    char data_key [CP_WIRE_KEYID_MAX + 1];  //  the data key it seals to (HELLO)
    uint8_t log [CP_WIRE_LOG_SIZE];         //  the log it ships (HELLO)
    int64_t active;             //  zclock_mono () of its last message
} s_session_t;

//  A BATCH waiting for the group commit.
typedef struct {
    zframe_t *routing_id;       //  whom to answer (owned)
    zframe_t *frames [CP_BATCH_FRAMES];     //  header, payload, signature (owned; NULL
                                            //  if refused on receipt)
    central_intake_t intake;    //  the batch on its way in, when received
    bool received;              //  its frames and keys passed: opened at commit
    char data_key [CP_WIRE_KEYID_MAX + 1];  //  signs the reply
    uint8_t log [CP_WIRE_LOG_SIZE];         //  the session's log: what a refusal's
                                            //  sequence is about
    int municipality;           //  the session's
    int refused;                //  a cp_error_t found before applying, or 0
    int status;                 //  what central_store_apply said
    bool superseded;            //  an ACK the next answer to the peer covers
    central_result_t result;
} s_item_t;

typedef struct {
    zsock_t *pipe;              //  the actor's pipe
    zsock_t *router;            //  bound to the listen endpoint; NULL until BIND
    zpoller_t *poller;
    char *data;                 //  the data directory
    central_store_t *store;     //  NULL when it did not open
    int store_error;            //  why it did not
    char store_why [512];
    central_auth_t *auth;       //  keys and the ZAP handler; NULL when they did not load
    central_downlink_t *downlink;   //  what each node is sent of the downlink log
    central_figures_t *figures;     //  when each node is sent its figures to check
    char *endpoint;             //  what BIND asked for, to bind again on a new transport key
    central_guard_t *guard;     //  watches the ROUTER's connections
    uint64_t key_serial;        //  the key table the guard last rechecked against
    int64_t refresh_at;         //  zclock_mono () of the next key table check
    int lock_fd;                //  flock on DATA/central.lock, -1 if none
    bool terminated;
    bool verbose;
    zhashx_t *sessions;         //  hex routing id → s_session_t
    size_t sessions_max;
    s_item_t *queue;            //  the group, in arrival order
    uint8_t *session_keys;      //  one envelope key per queue slot (guarded)
    size_t queued;
    size_t open_from;           //  the first batch the transaction being applied opens
    size_t txn_cases;           //  cases a transaction touches before it ends (S_TXN_CASES)
    size_t queued_bytes;
    bool *in_group;             //  per municipality: has a batch in the group
    s_item_t **later;           //  per municipality: scratch of s_mark_superseded
    size_t group_peers;         //  municipalities with a batch in the group
    int64_t flush_at;           //  zclock_mono () of the next notes flush
    int64_t log_second;         //  the second the log budget is for
    int log_lines;              //  refusal lines logged in it
    uint64_t log_dropped;       //  refusal lines not logged in it
} self_t;

//  =====================================================================
//  Logging refusals, with a budget so that a flood cannot fill the disk

static void
s_refusal (self_t *self, const char *format, ...)
{
    int64_t second = zclock_mono () / 1000;
    if (second != self->log_second) {
        if (self->log_dropped)
            zsys_warning ("central_server: %" PRIu64 " more refusals not logged",
                          self->log_dropped);
        self->log_second = second;
        self->log_lines = 0;
        self->log_dropped = 0;
    }
    if (self->log_lines++ >= S_LOG_BURST) {
        self->log_dropped++;
        return;
    }
    char line [512];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    zsys_warning ("central_server: %s", line);
}

//  =====================================================================
//  Sessions

static void
s_session_destroy (void **item)
{
    s_session_t *session = *item;
    if (session) {
        zframe_destroy (&session->routing_id);
        free (session);
        *item = NULL;
    }
}

static char *
s_session_key (zframe_t *routing_id)
{
    char *key = zframe_strhex (routing_id);
    assert (key);
    return key;
}

static s_session_t *
s_session (self_t *self, zframe_t *routing_id)
{
    char *key = s_session_key (routing_id);
    s_session_t *session = zhashx_lookup (self->sessions, key);
    free (key);
    if (session)
        session->active = zclock_mono ();
    return session;
}

//  Binds a routing id to a municipality, replacing the municipality's older
//  sessions and, when the table is full, the least recently active one.
static void
s_session_bind (self_t *self, zframe_t *routing_id, int municipality, const char *data_key,
                const uint8_t *log)
{
    zlist_t *stale = zlist_new ();        //  keys to delete, copied
    assert (stale);
    zlist_autofree (stale);
    s_session_t *oldest = NULL;
    for (s_session_t *session = zhashx_first (self->sessions); session;
         session = zhashx_next (self->sessions)) {
        if (session->municipality == municipality)
            zlist_append (stale, (void *) zhashx_cursor (self->sessions));
        else
        if (!oldest || session->active < oldest->active)
            oldest = session;
    }
    if (oldest && zhashx_size (self->sessions) - zlist_size (stale) >= self->sessions_max) {
        char *key = s_session_key (oldest->routing_id);
        zlist_append (stale, key);
        free (key);
    }
    for (const char *key = zlist_first (stale); key; key = zlist_next (stale))
        zhashx_delete (self->sessions, key);
    zlist_destroy (&stale);

    s_session_t *session = calloc (1, sizeof (s_session_t));
    assert (session);
    session->routing_id = zframe_dup (routing_id);
    session->municipality = municipality;
    snprintf (session->data_key, sizeof session->data_key, "%s", data_key);
    memcpy (session->log, log, CP_WIRE_LOG_SIZE);
    session->active = zclock_mono ();
    char *key = s_session_key (routing_id);
    zhashx_update (self->sessions, key, session);
    free (key);
}

//  Who sent frame's message: its key, as the ZAP handler named it and as
//  the key table stands now (central_auth_peer).  Returns 0 with
//  *municipality, or the refusal's code.
static int
s_peer (self_t *self, zframe_t *frame, int *municipality)
{
    return central_auth_peer (self->auth, frame, municipality);
}

//  =====================================================================
//  Sending

//  Sends command and body (freed here) to a peer.  A peer that has gone
//  (EHOSTUNREACH) or stopped reading (EAGAIN) loses the reply: it will
//  resend, and the central must not wait for it.
//  Sends command and body (freed here) to a peer; when municipality is not
//  NULL the reply is signed for that municipality's node with data_key (or
//  the current data key), and the key id and signature follow the body.
static void
s_send (self_t *self, zframe_t *routing_id, const char *command, uint8_t *body,
        size_t size, const char *municipality, const char *data_key)
{
    assert (body);
    char key_id [CP_KEY_ID_MAX + 1] = "";
    uint8_t signature [CP_SIGNATURE_SIZE];
    bool signed_reply = municipality
        && central_auth_sign_reply (self->auth, command, municipality, body, size, data_key,
                                    key_id, signature) == 0;
    if (municipality && !signed_reply)
        zsys_error ("central_server: no data key to sign a %s with", command);
    int more = ZMQ_SNDMORE | ZMQ_DONTWAIT;
    void *handle = zsock_resolve (self->router);
    int rc = zmq_send (handle, zframe_data (routing_id), zframe_size (routing_id), more);
    if (rc >= 0)
        rc = zmq_send (handle, command, strlen (command), more);
    if (rc >= 0)
        rc = zmq_send (handle, body, size, signed_reply? more: ZMQ_DONTWAIT);
    if (rc >= 0 && signed_reply)
        rc = zmq_send (handle, key_id, strlen (key_id), more);
    if (rc >= 0 && signed_reply)
        rc = zmq_send (handle, signature, sizeof signature, ZMQ_DONTWAIT);
    if (rc < 0 && self->verbose)
        zsys_debug ("central_server: %s not sent: %s", command, zmq_strerror (zmq_errno ()));
    free (body);
}

//  A NACK to a node of municipality (-1: unknown, sent unsigned).
static void
s_send_nack (self_t *self, zframe_t *routing_id, uint64_t expected, int reason,
             int municipality, const char *data_key)
{
    size_t size;
    uint8_t *body = cp_wire_nack_encode (expected, reason, &size);
    s_send (self, routing_id, "NACK", body, size,
            municipality >= 0? cp_municipality_code (municipality): NULL, data_key);
}

static void
s_send_ack (self_t *self, zframe_t *routing_id, uint64_t seq, int municipality,
            const char *data_key)
{
    //  The window as the sessions stand now: it narrows as nodes connect
    //  and widens as they leave, so that what all of them may have in
    //  flight stays near CENTRAL_SERVER_IN_FLIGHT.
    size_t sessions = zhashx_size (self->sessions);
    cp_ack_t ack = {.acked = seq,
                    .window = central_server_window (sessions > 0? sessions - 1: 0)};
    size_t size;
    uint8_t *body = cp_wire_ack_encode (&ack, &size);
    s_send (self, routing_id, "ACK", body, size, cp_municipality_code (municipality), data_key);
}

//  Sends a session's node the downlink entries due to it, signed as
//  replies, as many as its window takes (central_downlink).
static void
s_send_down (self_t *self, s_session_t *session)
{
    if (!session)
        return;
    const char *code = cp_municipality_code (session->municipality);
    int64_t now = zclock_mono ();
    size_t size;
    uint64_t seq;
    uint8_t *body;
    while ((body = central_downlink_next (self->downlink, session->municipality, now, &size,
                                          &seq))) {
        if (self->verbose)
            zsys_debug ("central_server: DOWN %" PRIu64 " to %s", seq, code);
        s_send (self, session->routing_id, "DOWN", body, size, code, session->data_key);
    }
}

//  Sends a session's node its municipality's figures when they are due
//  (central_figures), signed as a reply.
static void
s_send_figures (self_t *self, s_session_t *session)
{
    if (!session || !self->figures)
        return;
    size_t size;
    uint64_t as_of;
    uint8_t *body = central_figures_next (self->figures, session->municipality, zclock_mono (),
                                          &size, &as_of);
    if (!body)
        return;
    const char *code = cp_municipality_code (session->municipality);
    if (self->verbose)
        zsys_debug ("central_server: FIGURES as of %" PRIu64 " to %s", as_of, code);
    s_send (self, session->routing_id, "FIGURES", body, size, code, session->data_key);
}

//  Sends a session's node its figures and then its downlink entries, as
//  they are due.  Figures first: the node compares them only at the head
//  they are as of, and the receipts the entries make move that head on; in
//  the other order the node would ignore them, and its verdict would wait
//  for the figures to come again after the receipts are applied.
static void
s_send_due (self_t *self, s_session_t *session)
{
    s_send_figures (self, session);
    s_send_down (self, session);
}

//  The sequence a municipality's node should send next on a log, as
//  committed (0 when the store cannot say).
static uint64_t
s_expected (self_t *self, int municipality, const uint8_t *log)
{
    uint64_t acked;
    uint8_t chain [CP_WIRE_CHAIN_SIZE];
    if (municipality < 0 || central_store_log_cursor (self->store, municipality, log, &acked,
                                                      chain))
        return 0;
    return acked + 1;
}

//  =====================================================================
//  The group commit

static void
s_item_free (s_item_t *item)
{
    central_intake_clear (&item->intake);
    zframe_destroy (&item->routing_id);
    for (int index = 0; index < CP_BATCH_FRAMES; index++)
        zframe_destroy (&item->frames [index]);
}

static void
s_queue_clear (self_t *self)
{
    for (size_t index = 0; index < self->queued; index++)
        s_item_free (&self->queue [index]);
    sodium_memzero (self->session_keys, self->queued * CP_ENVELOPE_KEY_SIZE);
    self->queued = 0;
    self->queued_bytes = 0;
    memset (self->in_group, 0, (size_t) cp_municipality_count () * sizeof (bool));
    self->group_peers = 0;
}

//  Verifies, opens and decodes queued batches first to end - 1
//  (cp_parallel_fn: on the helper or this thread; each touches only its own
//  items, and the store only reads).
static void
s_open_items (void *args, size_t first, size_t end, bool helper)
{
    (void) helper;
    self_t *self = args;
    for (size_t index = self->open_from + first; index < self->open_from + end; index++) {
        s_item_t *item = &self->queue [index];
        //  The envelope key stays until the group is answered: the store
        //  records it for the archive (s_queue_clear wipes it).
        if (item->received && !item->refused)
            item->refused = central_intake_open (self->store, &item->intake);
    }
}

//  Applies the queued batches from `from` on in one transaction, each once
//  the helper has opened it (cp_parallel, at most S_OPEN_AHEAD ahead),
//  until the transaction has touched self->txn_cases cases: *end is the first
//  batch it did not apply (the rest wait for the next transaction).
//  Returns 0 or the store's error; after CP_EMAPFULL the map has grown
//  and the same batches can be applied again.
static int
s_apply_group (self_t *self, size_t from, size_t *end)
{
    self->open_from = from;
    cp_parallel_t *opening = cp_parallel_new (self->queued - from, 1, S_OPEN_AHEAD, true,
                                              s_open_items, self);
    int rc = central_store_begin (self->store);
    size_t index = from, open_end = 0;
    while (rc == 0 && index < self->queued) {
        s_item_t *item = &self->queue [index++];
        size_t open_first;
        while (index - from > open_end && cp_parallel_next (opening, &open_first, &open_end))
            ;                   //  the batches before it, in order
        if (item->refused)
            continue;
        central_store_seen (self->store, item->municipality, item->intake.batch.header.head);
        item->status = central_store_apply (self->store, &item->intake.batch, &item->result);
        //  Done with (a redo opens again): the group's decoded events
        //  would otherwise all be held at once.
        central_intake_clear (&item->intake);
        if (item->status == CP_ESTORE || item->status == CP_EMAPFULL) {
            rc = item->status;
            central_store_abort (self->store);
        }
        else
        if (central_store_cases_touched (self->store) >= self->txn_cases)
            break;
    }
    *end = rc? self->queued: index;
    if (*end == self->queued) {
        size_t first, last;
        while (cp_parallel_next (opening, &first, &last))
            ;                   //  every batch open (or refused) before a redo or the answers
    }
    //  Else those after *end are opened again by the next transaction:
    //  the helper stops where it is.
    cp_parallel_destroy (&opening);
    //  Those opened but not applied (the group stopped short) let go too.
    for (size_t other = from; other < self->queued; other++)
        central_intake_clear (&self->queue [other].intake);
    if (rc == 0)
        rc = central_store_commit (self->store);
    return rc;
}

static bool
s_is_ack (const s_item_t *item)
{
    return !item->refused && (item->status == CENTRAL_STORE_APPLIED
                           || item->status == CENTRAL_STORE_DUPLICATE);
}

//  Marks each ACK whose next answer to the same peer is an ACK too: a node
//  drops every batch up to the sequence acknowledged, so of a run of ACKs
//  to one peer only the last is sent (one signature made and checked
//  instead of up to a window's).  Over the entries from to end - 1, those
//  one transaction applied.
static void
s_mark_superseded (self_t *self, size_t from, size_t end)
{
    memset (self->later, 0, (size_t) cp_municipality_count () * sizeof (s_item_t *));
    for (size_t index = end; index-- > from;) {
        s_item_t *item = &self->queue [index];
        if (item->municipality < 0)
            continue;
        s_item_t *next = self->later [item->municipality];
        item->superseded = s_is_ack (item) && next && s_is_ack (next)
                        && zframe_eq (next->routing_id, item->routing_id);
        self->later [item->municipality] = item;
    }
}

//  Answers one queued entry after the commit.
static void
s_answer (self_t *self, s_item_t *item)
{
    const char *code = item->municipality >= 0
                     ? cp_municipality_code (item->municipality): "?";
    int status = item->refused? item->refused: item->status;
    if (status == CENTRAL_STORE_APPLIED || status == CENTRAL_STORE_DUPLICATE) {
        if (self->verbose)
            zsys_debug ("central_server: %s batch %" PRIu64 "..%" PRIu64 " %s, "
                        "%zu applied, %zu quarantined, %zu taken before, %zu conflicts, "
                        "ACK %" PRIu64, code, item->result.first, item->result.last,
                        status == CENTRAL_STORE_APPLIED? "applied": "already applied",
                        item->result.applied, item->result.quarantined,
                        item->result.duplicates, item->result.conflicts, item->result.seq);
        if (!item->superseded)
            s_send_ack (self, item->routing_id, item->result.seq, item->municipality,
                        item->data_key);
        return;
    }
    central_store_count (self->store, status);
    //  A refusal of the sender rather than the batch (no session) says 0;
    //  one of a batch names the sequence its log expects.
    uint64_t expected = status == CP_EGAP || status == CP_EDIVERGED? item->result.seq
                      : status == CP_EPROTOCOL? 0
                      : s_expected (self, item->municipality, item->log);
    if (status == CP_EGAP || status == CP_EDIVERGED)
        s_refusal (self, "%s batch %" PRIu64 "..%" PRIu64 " refused: %s, expected %" PRIu64,
                   code, item->result.first, item->result.last, cp_strerror (status),
                   expected);
    else
        s_refusal (self, "%s BATCH refused: %s", code, cp_strerror (status));
    s_send_nack (self, item->routing_id, expected, status, item->municipality, item->data_key);
}

static void
s_commit_group (self_t *self)
{
    if (self->queued == 0)
        return;
    //  One transaction, or several when the group touches many cases; the
    //  batches of each are answered once it is committed.
    for (size_t from = 0, end = 0; from < self->queued; from = end) {
        int64_t started = zclock_mono ();
        int rc = s_apply_group (self, from, &end);
        for (int round = 0; rc == CP_EMAPFULL && round < S_REDO_MAX; round++)
            rc = s_apply_group (self, from, &end);
        if (rc) {
            //  Nothing of these batches is stored.  Each is refused, so
            //  that its node starts over (after a pause that grows while
            //  it is refused) instead of waiting for an answer that will
            //  not come.
            zsys_error ("central_server: a group of %zu batches was not stored: %s",
                        self->queued - from, cp_strerror (rc));
            for (size_t index = from; index < self->queued; index++)
                if (!self->queue [index].refused)
                    self->queue [index].refused = CP_ESTORE;
        }
        else
        if (self->verbose)
            zsys_debug ("central_server: %zu batches of a group committed in %" PRId64 " ms",
                        end - from, zclock_mono () - started);
        s_mark_superseded (self, from, end);
        for (size_t index = from; index < end; index++) {
            s_item_t *item = &self->queue [index];
            s_answer (self, item);
            //  Its figures may have changed: FIGURES once its node is caught up
            if (rc == 0 && self->figures && !item->refused
            &&  item->status == CENTRAL_STORE_APPLIED && item->result.applied)
                central_figures_changed (self->figures, item->municipality);
        }
    }
    s_queue_clear (self);
}

//  Queues a BATCH, or its refusal, in arrival order; returns the entry.
static s_item_t *
s_queue (self_t *self, zframe_t *routing_id, int municipality, const char *data_key,
         int refused)
{
    s_item_t *item = &self->queue [self->queued];
    memset (item, 0, sizeof *item);
    self->queued++;
    item->routing_id = zframe_dup (routing_id);
    item->municipality = municipality;
    snprintf (item->data_key, sizeof item->data_key, "%s", data_key);
    item->refused = refused;
    item->result.municipality = municipality;
    if (municipality >= 0 && !self->in_group [municipality]) {
        self->in_group [municipality] = true;
        self->group_peers++;
    }
    return item;
}

//  Takes a received batch's frames into its entry, which holds them (the
//  intake points into them) until the group is answered.
static void
s_queue_frames (self_t *self, s_item_t *item, zframe_t **frames)
{
    for (int index = 0; index < CP_BATCH_FRAMES; index++) {
        self->queued_bytes += zframe_size (frames [index]);
        item->frames [index] = frames [index];
        frames [index] = NULL;
    }
}

//  =====================================================================
//  Messages

//  Refuses a message that is not about a batch: counted, logged, NACK 0
//  (signed when the sender's municipality is known).
static void
s_refuse (self_t *self, zframe_t *routing_id, const char *what, int reason, int municipality)
{
    central_store_count (self->store, reason);
    s_refusal (self, "%s%s%s refused: %s", what, municipality >= 0? " from ": "",
               municipality >= 0? cp_municipality_code (municipality): "", cp_strerror (reason));
    s_send_nack (self, routing_id, 0, reason, municipality, NULL);
}

//  Notes a HELLO in the store and says, in one line, what it shows about
//  the node's log against what the central holds (acked of it; known,
//  the municipality's record): a new log where another one shipped, a
//  copy of a log that went back (restored), or a central that holds less
//  of the log than the node was told (the central was restored).
static void
s_hello_noted (self_t *self, const cp_hello_t *hello, int municipality, uint64_t acked,
               const central_cursor_t *known)
{
    static const uint8_t none [CP_WIRE_LOG_SIZE] = {0};
    bool other = known->batches > 0 && memcmp (known->log, none, sizeof none) != 0
              && memcmp (known->log, hello->log, CP_WIRE_LOG_SIZE) != 0;
    bool restored = hello->head < acked;
    char name [CP_WIRE_LOG_NAME], was [CP_WIRE_LOG_NAME];
    cp_wire_log_name (hello->log, name);
    cp_wire_log_name (known->log, was);
    if (other && acked == 0)
        zsys_warning ("central_server: %s comes with a new log %s (it shipped log %s before): "
                      "a store set up again, recovered or restored; its events are taken "
                      "once each by id", hello->municipality, name, was);
    else
    if (restored)
        zsys_warning ("central_server: %s log %s is back at head %" PRIu64 ", below the %"
                      PRIu64 " the central holds: a restored copy; the node will ship it "
                      "as a new log", hello->municipality, name, hello->head, acked);
    else
    if (hello->acked > acked)
        zsys_warning ("central_server: %s believes %" PRIu64 " of log %s acknowledged, the "
                      "central holds %" PRIu64 " (restored from a backup?): it ships again "
                      "from %" PRIu64, hello->municipality, hello->acked, name, acked,
                      acked + 1);
    central_store_hello (self->store, municipality, hello->log, hello->head,
                         (other && acked == 0) || restored);
}

static void
s_on_hello (self_t *self, zframe_t *routing_id, zframe_t *command, zframe_t **frames,
            int count)
{
    int municipality;
    int rc = s_peer (self, command, &municipality);
    if (rc) {
        s_refuse (self, routing_id, "HELLO", rc, -1);
        return;
    }
    cp_hello_t hello;
    rc = count == 1? cp_wire_hello_decode (zframe_data (frames [0]), zframe_size (frames [0]),
                                           &hello)
                   : CP_EMALFORMED;
    if (rc) {
        s_refuse (self, routing_id, "HELLO", rc, municipality);
        return;
    }
    if (!streq (hello.municipality, cp_municipality_code (municipality))) {
        //  The code is an id of the safe alphabet, so it may be logged.
        central_store_count (self->store, CP_EIMPERSONATION);
        s_refusal (self, "HELLO as '%s' from %s's key refused: %s", hello.municipality,
                   cp_municipality_code (municipality), cp_strerror (CP_EIMPERSONATION));
        s_send_nack (self, routing_id, 0, CP_EIMPERSONATION, municipality, hello.data_key);
        return;
    }
    //  Answer with the cursor as it will stand once the waiting group is
    //  in: only a group holding batches of this municipality can move it.
    //  (Committing for every HELLO cut the group into pieces of one or two
    //  batches, each paying for a commit, while a fleet connects.)
    if (self->in_group [municipality])
        s_commit_group (self);
    cp_welcome_t welcome = {
        .catalogue = (uint32_t) cp_catalogue_version (central_store_catalogue (self->store)),
        .window = central_server_window (zhashx_size (self->sessions))
    };
    uint64_t acked;
    central_cursor_t known;
    if (central_store_log_cursor (self->store, municipality, hello.log, &acked, welcome.chain)
    ||  central_store_cursor (self->store, municipality, &known)) {
        s_refuse (self, routing_id, "HELLO", CP_ESTORE, municipality);
        return;
    }
    welcome.expected = acked + 1;
    s_session_bind (self, routing_id, municipality, hello.data_key, hello.log);
    s_hello_noted (self, &hello, municipality, acked, &known);
    char name [CP_WIRE_LOG_NAME];
    cp_wire_log_name (hello.log, name);
    zsys_info ("central_server: %s connected (log %s, head %" PRIu64 ", expected %" PRIu64 ")",
               hello.municipality, name, hello.head, welcome.expected);
    size_t size;
    uint8_t *body = cp_wire_welcome_encode (&welcome, &size);
    s_send (self, routing_id, "WELCOME", body, size, hello.municipality, hello.data_key);
    central_downlink_hello (self->downlink, municipality, hello.downlink);
    if (self->figures)
        central_figures_hello (self->figures, municipality);
    s_send_due (self, s_session (self, routing_id));
}

//  The session of a routing id if it belongs to municipality, else NULL.
static s_session_t *
s_session_of (self_t *self, zframe_t *routing_id, int municipality)
{
    s_session_t *session = s_session (self, routing_id);
    return session && session->municipality == municipality? session: NULL;
}

static void
s_on_batch (self_t *self, zframe_t *routing_id, zframe_t *command, zframe_t **frames,
            int count)
{
    int municipality;
    int rc = s_peer (self, command, &municipality);
    s_session_t *session = rc == 0? s_session_of (self, routing_id, municipality): NULL;
    if (rc || !session) {
        //  Queued like any refusal of a batch, so that replies keep their order.
        s_queue (self, routing_id, rc? -1: municipality, "", rc? rc: CP_EPROTOCOL);
        return;
    }
    s_item_t *item = s_queue (self, routing_id, municipality, session->data_key, 0);
    memcpy (item->log, session->log, CP_WIRE_LOG_SIZE);     //  the header's is unproven yet
    //  The frames and keys now (the table may change before the commit);
    //  the verification, opening and decoding at commit.
    uint8_t *envelope_key = self->session_keys + (self->queued - 1) * CP_ENVELOPE_KEY_SIZE;
    rc = central_intake_receive (self->auth, municipality, frames, count, envelope_key,
                                 &item->intake);
    if (rc)
        item->refused = rc;     //  answered under the key the session named
    else {
        s_queue_frames (self, item, frames);
        item->received = true;
        snprintf (item->data_key, sizeof item->data_key, "%s",
                  item->intake.batch.header.data_key);
    }
}

static void
s_on_ping (self_t *self, zframe_t *routing_id, zframe_t *command, zframe_t **frames,
           int count)
{
    int municipality;
    int rc = s_peer (self, command, &municipality);
    if (rc == 0 && !s_session_of (self, routing_id, municipality))
        rc = CP_EPROTOCOL;
    uint64_t head = 0;
    if (rc == 0)
        rc = count == 1? cp_wire_ping_decode (zframe_data (frames [0]), zframe_size (frames [0]),
                                              &head)
                       : CP_EMALFORMED;
    if (rc) {
        s_refuse (self, routing_id, "PING", rc, municipality);
        return;
    }
    central_store_seen (self->store, municipality, head);
    size_t size;
    uint8_t *body = cp_wire_pong_encode (&size);
    s_send (self, routing_id, "PONG", body, size, NULL, NULL);
}

//  A message of one body frame that only a node in session may send:
//  0 with its municipality and session, or why it is refused.
static int
s_session_message (self_t *self, zframe_t *routing_id, zframe_t *command, int count,
                   int *municipality, s_session_t **session)
{
    int rc = s_peer (self, command, municipality);
    *session = rc == 0? s_session_of (self, routing_id, *municipality): NULL;
    if (rc == 0 && !*session)
        rc = CP_EPROTOCOL;
    if (rc == 0 && count != 1)
        rc = CP_EMALFORMED;
    return rc;
}

static void
s_on_downack (self_t *self, zframe_t *routing_id, zframe_t *command, zframe_t **frames,
              int count)
{
    int municipality;
    s_session_t *session;
    int rc = s_session_message (self, routing_id, command, count, &municipality, &session);
    cp_reply_t downack = {0, 0};
    if (rc == 0)
        rc = cp_wire_downack_decode (zframe_data (frames [0]), zframe_size (frames [0]),
                                     &downack);
    if (rc) {
        s_refuse (self, routing_id, "DOWNACK", rc, municipality);
        return;
    }
    char why [300];
    if (central_downlink_ack (self->downlink, municipality, downack.seq, downack.reason, why,
                              sizeof why))
        s_refusal (self, "%s", why);
    s_send_down (self, session);
}

//  FIGREQ: a node that found its figures differ from the central's asks
//  for the central's rows of those months, to show beside its own.  Only
//  its own municipality's; FIGROWS is signed as a reply.
static void
s_on_figreq (self_t *self, zframe_t *routing_id, zframe_t *command, zframe_t **frames,
             int count)
{
    int municipality;
    s_session_t *session;
    int rc = s_session_message (self, routing_id, command, count, &municipality, &session);
    cp_figreq_t figreq;
    if (rc == 0)
        rc = cp_wire_figreq_decode (zframe_data (frames [0]), zframe_size (frames [0]), &figreq);
    cp_month_rows_t *rows = rc == 0? calloc (1, sizeof (cp_month_rows_t)): NULL;
    if (rc == 0) {
        assert (rows);
        rows->count = figreq.count;
        for (uint32_t index = 0; index < figreq.count; index++)
            rows->months [index].month = figreq.months [index];
        rc = central_store_month_rows (self->store, municipality, rows);
    }
    if (rc)
        s_refuse (self, routing_id, "FIGREQ", rc, municipality);
    else {
        size_t size;
        uint8_t *body = cp_wire_figrows_encode (rows, &size);
        zsys_info ("central_server: %s asked for its rows of %u months (as of %" PRIu64 ")",
                   cp_municipality_code (municipality), figreq.count, rows->as_of);
        s_send (self, routing_id, "FIGROWS", body, size, cp_municipality_code (municipality),
                session->data_key);
    }
    free (rows);
}

//  Sends a RECOVERED: the command, then its frames (header, sealed events,
//  signature).  Like every reply, it is lost rather than waited for when
//  the peer does not read (the node asks again).
static void
s_send_recovered (self_t *self, zframe_t *routing_id, const cp_batch_sealed_t *sealed)
{
    void *handle = zsock_resolve (self->router);
    const void *parts [5] = {zframe_data (routing_id), "RECOVERED", sealed->header,
                             sealed->sealed, sealed->signature};
    size_t sizes [5] = {zframe_size (routing_id), 9, sealed->header_size, sealed->sealed_size,
                        sizeof sealed->signature};
    for (int part = 0; part < 5; part++)
        if (zmq_send (handle, parts [part], sizes [part],
                      ZMQ_DONTWAIT | (part < 4? ZMQ_SNDMORE: 0)) < 0) {
            if (self->verbose)
                zsys_debug ("central_server: RECOVERED not sent: %s",
                            zmq_strerror (zmq_errno ()));
            return;
        }
}

//  RECOVER: up to count batches of the municipality's archive from a
//  position on, each opened and sealed again to the node key the request
//  names (its current one), then one with no events when the archive has
//  no more.  Only the municipality's own archive, only to its own key.
static void
s_on_recover (self_t *self, zframe_t *routing_id, zframe_t *command, zframe_t **frames,
              int count)
{
    int municipality;
    int rc = s_peer (self, command, &municipality);
    if (rc == 0 && !s_session_of (self, routing_id, municipality))
        rc = CP_EPROTOCOL;
    cp_recover_t recover;
    if (rc == 0)
        rc = count == 1? cp_wire_recover_decode (zframe_data (frames [0]),
                                                 zframe_size (frames [0]), &recover)
                       : CP_EMALFORMED;
    if (rc == 0 && self->in_group [municipality])
        s_commit_group (self);      //  what it holds is archived once committed
    uint64_t from = rc == 0? recover.from: 0;
    for (uint32_t sent = 0; rc == 0 && sent < recover.count; sent++) {
        uint8_t *events = NULL;
        size_t size = 0;
        uint64_t position, end;
        rc = central_intake_archived (self->store, self->auth, municipality, from, &position,
                                      &end, &events, &size);
        if (rc)
            break;
        cp_recovered_t recovered = {.position = position, .next = events? position + 1: end,
                                    .end = end};
        snprintf (recovered.node_key, sizeof recovered.node_key, "%s", recover.node_key);
        snprintf (recovered.data_key, sizeof recovered.data_key, "%s", recover.data_key);
        cp_batch_sealed_t sealed;
        rc = central_auth_seal_recovered (self->auth, municipality, &recovered, events, size,
                                          &sealed);
        if (events) {
            sodium_memzero (events, size);
            free (events);
        }
        if (rc == 0)
            s_send_recovered (self, routing_id, &sealed);
        cp_batch_sealed_free (&sealed);
        if (rc || recovered.next == end)
            break;
        from = recovered.next;
    }
    if (rc)
        s_refuse (self, routing_id, "RECOVER", rc, municipality);
    else
        zsys_info ("central_server: %s recovering: archive from %" PRIu64 " sent",
                   cp_municipality_code (municipality), recover.from);
}

//  Reads one message off the ROUTER and handles it.
static void
s_on_message (self_t *self)
{
    zframe_t *frames [S_FRAMES_MAX] = {NULL};
    int count = 0;
    bool excess = false;
    do {
        zframe_t *frame = zframe_recv (self->router);
        if (!frame)
            break;
        bool more = zframe_more (frame);
        if (count)
            central_guard_frame (self->guard, frame);
        if (count < S_FRAMES_MAX)
            frames [count++] = frame;
        else {
            zframe_destroy (&frame);
            excess = true;
        }
        if (!more)
            break;
    } while (true);
    if (count < 1)
        return;                 //  interrupted
    zframe_t *routing_id = frames [0];
    central_guard_message (self->guard, routing_id);
    int command = count >= 2? cp_wire_command (zframe_data (frames [1]),
                                               zframe_size (frames [1])): 0;
    if (excess)
        s_refuse (self, routing_id, "a message of too many frames", CP_EMALFORMED, -1);
    else
    if (command == CP_CMD_HELLO)
        s_on_hello (self, routing_id, frames [1], frames + 2, count - 2);
    else
    if (command == CP_CMD_BATCH) {
        if (self->queued == CENTRAL_SERVER_GROUP_BATCHES)
            s_commit_group (self);
        s_on_batch (self, routing_id, frames [1], frames + 2, count - 2);
    }
    else
    if (command == CP_CMD_PING)
        s_on_ping (self, routing_id, frames [1], frames + 2, count - 2);
    else
    if (command == CP_CMD_RECOVER)
        s_on_recover (self, routing_id, frames [1], frames + 2, count - 2);
    else
    if (command == CP_CMD_DOWNACK)
        s_on_downack (self, routing_id, frames [1], frames + 2, count - 2);
    else
    if (command == CP_CMD_FIGREQ)
        s_on_figreq (self, routing_id, frames [1], frames + 2, count - 2);
    else
        s_refuse (self, routing_id, count < 2? "an empty message"
                                   : command? "a command the central does not take"
                                   : "an unknown command", CP_EPROTOCOL, -1);
    //  A key no longer valid loses its connection, not only this message
    //  (refused above): the guard cuts it once the refusal is out.
    int municipality;
    int rc = count >= 2? s_peer (self, frames [1], &municipality): 0;
    if (rc == CP_EREVOKED || rc == CP_EEXPIRED || rc == CP_EUNKNOWNKEY)
        central_guard_cut_key (self->guard, zframe_meta (frames [1], "Key-Id"), rc);
    for (int index = 0; index < count; index++)
        zframe_destroy (&frames [index]);
}

//  True when another message is ready.  Under load (the group already
//  holds S_BUSY_BATCHES batches of several nodes) it waits for one until
//  the deadline: every commit rewrites the pages of the cases it touches,
//  so fewer, larger groups cost far less per batch.  A lone node is never
//  kept waiting: its window is all there is to come.
static bool
s_more (self_t *self, int64_t deadline)
{
    if (zsock_events (self->router) & ZMQ_POLLIN)
        return true;
    int64_t left = deadline - zclock_mono ();
    if (self->queued < S_BUSY_BATCHES || self->group_peers < 2 || left <= 0)
        return false;
    zmq_pollitem_t item = {zsock_resolve (self->router), 0, ZMQ_POLLIN, 0};
    return zmq_poll (&item, 1, (long) left) > 0 && (item.revents & ZMQ_POLLIN);
}

//  Reads what is ready, up to a group, then commits the group.
static void
s_on_router (self_t *self)
{
    int64_t deadline = zclock_mono () + CENTRAL_SERVER_GROUP_MSECS;
    do
        s_on_message (self);
    while (self->queued < CENTRAL_SERVER_GROUP_BATCHES
        && self->queued_bytes < S_GROUP_BYTES
        && s_more (self, deadline));
    s_commit_group (self);
}

static void
s_flush (self_t *self)
{
    s_commit_group (self);
    int rc = central_store_flush (self->store);
    if (rc == CP_EMAPFULL)
        rc = central_store_flush (self->store);
    if (rc)
        zsys_error ("central_server: notes and counters not stored: %s", cp_strerror (rc));
    self->flush_at = zclock_mono () + S_FLUSH_MSECS;
}

//  =====================================================================
//  The pipe

//  A report of the guard (a connection cut, a handshake failed): counted
//  and logged like any refusal.
static void
s_on_guard (self_t *self)
{
    char why [400] = "";
    uint64_t times;
    int code = central_guard_report (self->guard, &times, why, sizeof why);
    if (!code)
        return;
    while (times--)
        central_store_count (self->store, code);
    s_refusal (self, "%s", why);
}

//  central_guard_check_fn: may the key still be used?
static int
s_key_check (void *args, const char *key_id)
{
    self_t *self = args;
    return central_auth_key_check (self->auth, key_id);
}

//  central_guard_tell_fn: an unsigned NACK says why the connection ends
//  (the node logs it as its key refused).
static void
s_key_tell (void *args, zframe_t *routing_id, const char *key_id, int reason)
{
    (void) key_id;
    s_send_nack ((self_t *) args, routing_id, 0, reason, -1, NULL);
}

//  Makes and binds the ROUTER on self->endpoint with the current transport
//  key.  Returns 0, or -1 with a message.
static int
s_listen (self_t *self, char *message, size_t size)
{
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    if (central_auth_secure (self->auth, self->router)) {
        snprintf (message, size, "no transport key to serve");
        zsock_destroy (&self->router);
        return -1;
    }
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_sndtimeo (self->router, 0);
    zsock_set_maxmsgsize (self->router, CENTRAL_GUARD_FRAME_MAX);
    //  No ZMTP heartbeat and no receive high-water mark (see the top of
    //  this file): the guard bounds what a peer makes libzmq hold, in bytes.
    zsock_set_rcvhwm (self->router, 0);
    zsock_set_heartbeat_ivl (self->router, 0);
    zsock_set_handshake_ivl (self->router, S_HANDSHAKE_IVL);
    zsock_set_tcp_keepalive (self->router, 1);
    zsock_set_tcp_keepalive_idle (self->router, S_KEEPALIVE_IDLE);
    zsock_set_tcp_keepalive_intvl (self->router, S_KEEPALIVE_INTVL);
    zsock_set_tcp_keepalive_cnt (self->router, S_KEEPALIVE_CNT);
    zsock_set_tcp_maxrt (self->router, S_TCP_MAXRT);
    zsock_set_linger (self->router, 1000);
    //  Watched before it binds: no connection goes unrecorded.
    if (central_guard_watch (self->guard, self->router)) {
        snprintf (message, size, "no monitor for the guard: %s", zmq_strerror (zmq_errno ()));
        zsock_destroy (&self->router);
        return -1;
    }
    if (zsock_bind (self->router, "%s", self->endpoint) == -1) {
        snprintf (message, size, "cannot listen on %s: %s", self->endpoint,
                  zmq_strerror (zmq_errno ()));
        central_guard_release (self->guard, self->router);
        zsock_destroy (&self->router);
        return -1;
    }
    zpoller_add (self->poller, self->router);
    char *bound = zsock_last_endpoint (self->router);
    snprintf (message, size, "%s", bound? bound: self->endpoint);
    zstr_free (&bound);
    return 0;
}

static int
s_bind (self_t *self, const char *wanted, char *message, size_t size)
{
    if (!self->store || !self->auth) {
        snprintf (message, size, "%s", self->store_why);
        return -1;
    }
    if (self->router) {
        snprintf (message, size, "already bound");
        return -1;
    }
    free (self->endpoint);
    self->endpoint = strdup (wanted && *wanted? wanted: central_store_listen (self->store));
    assert (self->endpoint);
    if (s_listen (self, message, size))
        return -1;
    //  A port the system chose ("*") must stay the same when we bind again.
    free (self->endpoint);
    self->endpoint = strdup (message);
    assert (self->endpoint);
    zsys_info ("central_server: listening on %s", message);
    return 0;
}

//  Serves a new transport key: the ROUTER is made again on the same
//  endpoint.  Connections drop; nodes reconnect with the new key and send
//  again what was in flight (nothing is acknowledged before it is stored).
static void
s_rebind (self_t *self)
{
    s_commit_group (self);
    zpoller_remove (self->poller, self->router);
    central_guard_release (self->guard, self->router);
    zsock_destroy (&self->router);
    zhashx_purge (self->sessions);
    char message [512];
    //  The old socket's port is released as it closes: try a few times.
    for (int attempt = 0; attempt < 50; attempt++) {
        if (s_listen (self, message, sizeof message) == 0) {
            zsys_info ("central_server: listening on %s with a new transport key", message);
            return;
        }
        zclock_sleep (100);
    }
    zsys_error ("central_server: %s", message);
}

//  Looks at the key table; when it changed, the connections of keys it
//  no longer takes are told and cut.  A new transport key to serve makes
//  the ROUTER anew.
static void
s_refresh (self_t *self)
{
    bool rebind = central_auth_refresh (self->auth);
    if (central_auth_serial (self->auth) != self->key_serial) {
        self->key_serial = central_auth_serial (self->auth);
        central_guard_recheck (self->guard, s_key_check, s_key_tell, self);
    }
    if (rebind && self->router)
        s_rebind (self);
    //  A published entry (another process appends): take up a catalogue
    //  revision, then send what is due, as the timers of resends are.
    if (central_downlink_grew (self->downlink))
        central_store_catalogue_refresh (self->store);
    for (s_session_t *session = zhashx_first (self->sessions); session;
         session = zhashx_next (self->sessions))
        s_send_due (self, session);
}

static void
s_on_pipe (self_t *self)
{
    zmsg_t *request = zmsg_recv (self->pipe);
    if (!request) {
        self->terminated = true;
        return;
    }
    char *command = zmsg_popstr (request);
    char message [512];
    if (!command)
        ;
    else
    if (streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "VERBOSE"))
        self->verbose = true;
    else
    if (streq (command, "BIND")) {
        char *endpoint = zmsg_popstr (request);
        int rc = s_bind (self, endpoint, message, sizeof message);
        zsock_send (self->pipe, "ss", rc? "ERROR": "OK", message);
        zstr_free (&endpoint);
    }
    else
    if (streq (command, "FLUSH")) {
        if (self->store)
            s_flush (self);
        zsock_send (self->pipe, "ss", self->store? "OK": "ERROR",
                    self->store? "": cp_strerror (self->store_error));
    }
    else
        zsys_error ("central_server: unknown pipe command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&request);
}

//  =====================================================================
//  The actor

//  Takes DATA/central.lock, so that two servers never share one store.
static int
s_lock (const char *data)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/central.lock", data);
    int fd = open (path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return -1;
    if (flock (fd, LOCK_EX | LOCK_NB)) {
        close (fd);
        return -2;
    }
    return fd;
}

static self_t *
s_self_new (zsock_t *pipe, const char *data)
{
    self_t *self = calloc (1, sizeof (self_t));
    assert (self);
    self->pipe = pipe;
    self->data = strdup (data);
    const char *txn_cases = getenv ("CPSYNC_TXN_CASES");
    self->txn_cases = txn_cases && atol (txn_cases) > 0? (size_t) atol (txn_cases): S_TXN_CASES;
    self->lock_fd = s_lock (data);
    if (self->lock_fd == -2)
        self->store_error = CP_EBUSY;
    else
        self->store = central_store_open (data, 0, &self->store_error);
    if (!self->store)
        snprintf (self->store_why, sizeof self->store_why, "%s: %s", data,
                  cp_strerror (self->store_error));
    else {
        //  No keys, no service: without the ZAP handler nothing is accepted.
        char why [400] = "";
        self->auth = central_auth_new (self->store, data, &self->store_error, why, sizeof why);
        if (!self->auth)
            snprintf (self->store_why, sizeof self->store_why, "%s: %s", data, why);
        self->downlink = central_downlink_new (self->store);
        self->figures = central_figures_new (self->store);
    }
    self->poller = zpoller_new (pipe, NULL);
    if (self->auth)
        zpoller_add (self->poller, central_auth_zap (self->auth));
    self->guard = central_guard_new ();
    assert (self->guard);
    zpoller_add (self->poller, central_guard_actor (self->guard));
    self->key_serial = self->auth? central_auth_serial (self->auth): 0;
    //  Signals are main's: the actor ends on $TERM only, after its last commit.
    zpoller_set_nonstop (self->poller, true);
    self->sessions = zhashx_new ();
    zhashx_set_destructor (self->sessions, s_session_destroy);
    self->sessions_max = 4 * (size_t) cp_municipality_count () + 64;
    self->queue = calloc (CENTRAL_SERVER_GROUP_BATCHES, sizeof (s_item_t));
    self->session_keys = cp_keyfile_alloc (CENTRAL_SERVER_GROUP_BATCHES * CP_ENVELOPE_KEY_SIZE);
    self->in_group = calloc ((size_t) cp_municipality_count (), sizeof (bool));
    self->later = calloc ((size_t) cp_municipality_count (), sizeof (s_item_t *));
    self->flush_at = zclock_mono () + S_FLUSH_MSECS;
    self->refresh_at = zclock_mono () + S_REFRESH_MSECS;
    assert (self->data && self->poller && self->sessions && self->queue && self->session_keys
            && self->in_group && self->later);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self->store) {
        s_flush (self);
        central_store_destroy (&self->store);
    }
    s_queue_clear (self);
    central_downlink_destroy (&self->downlink);
    central_figures_destroy (&self->figures);
    free (self->queue);
    cp_keyfile_free (&self->session_keys);
    free (self->in_group);
    free (self->later);
    zhashx_destroy (&self->sessions);
    zpoller_destroy (&self->poller);
    if (self->router)
        central_guard_release (self->guard, self->router);
    zsock_destroy (&self->router);
    central_guard_destroy (&self->guard);
    central_auth_destroy (&self->auth);
    if (self->lock_fd >= 0)
        close (self->lock_fd);
    free (self->endpoint);
    free (self->data);
    free (self);
    *self_p = NULL;
}

//  Answers ZAP requests: a refusal is counted and logged like any other.
static void
s_on_zap (self_t *self)
{
    char why [512] = "";
    int rc = central_auth_on_zap (self->auth, why, sizeof why);
    if (rc) {
        central_store_count (self->store, rc);
        s_refusal (self, "%s", why);
    }
}

static int
s_timeout (self_t *self)
{
    int64_t now = zclock_mono ();
    int64_t next = self->flush_at < self->refresh_at? self->flush_at: self->refresh_at;
    return next > now? (int) (next - now): 0;
}

uint32_t
central_server_window (size_t others)
{
    if (others <= CENTRAL_SERVER_FEW)
        return CENTRAL_SERVER_WINDOW_FEW;
    size_t share = CENTRAL_SERVER_IN_FLIGHT / (others + 1);
    return share < 1? 1: share > CENTRAL_SERVER_WINDOW? CENTRAL_SERVER_WINDOW: (uint32_t) share;
}

void
central_server (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const char *) args);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_timeout (self));
        if (which == self->pipe)
            s_on_pipe (self);
        else
        if (which && which == self->router)
            s_on_router (self);
        else
        if (which && self->auth && which == central_auth_zap (self->auth))
            s_on_zap (self);
        else
        if (which && which == central_guard_actor (self->guard))
            s_on_guard (self);
        if (self->store && zclock_mono () >= self->flush_at) {
            if (central_store_pending (self->store))
                s_flush (self);
            self->flush_at = zclock_mono () + S_FLUSH_MSECS;
        }
        if (self->auth && zclock_mono () >= self->refresh_at) {
            s_refresh (self);
            self->refresh_at = zclock_mono () + S_REFRESH_MSECS;
        }
    }
    s_self_destroy (&self);
}
