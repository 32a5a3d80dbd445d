/*  node_sync: HELLO, batches under a credit window, acknowledgements,
    session loss and backoff, and the keys of all of it.  See node_sync.h.

    Keys come from node_keys (the enrolled bundle and the newest
    announcement).  The DEALER is a CURVE client with the node's transport
    key, pinned to one of the central's transport keys: the newest whose
    time has come first; when a handshake fails (the central serves another
    key: it rotated, or this node's clock is off) the next pinned key is
    tried.  Each batch is sealed to the newest central data key the node
    knows and signed with the node key (cp_envelope).  WELCOME, ACK and
    NACK must carry a valid signature of a pinned central data key, or they
    are ignored: the cursor only moves on a real acknowledgement.  A change
    of the key files (cpsync-node enrol) is picked up within a second:
    new keys, new connection, new session.

    The downlink comes on the same connection: HELLO carries the node's
    downlink cursor, each DOWN (signed as a reply) is applied by
    node_store_apply_downlink against the pinned root and answered with
    DOWNACK, the cursor and the code of a refusal; a key announcement is
    installed once applied (s_take_effect).  FIGURES (signed as a reply)
    brings the central's digests of this municipality's month rows; the
    store compares them with its own when its head is the central's as_of
    and reports a new verdict as a figures_checked event, shipped like any
    other (node_store_check_figures); when months differ it asks for the
    central's rows of them (FIGREQ) and keeps the answer (FIGROWS).

    No wait is for ever: the node starts a new session when the central
    is silent (S_SILENCE_MS), when it refuses (after a pause that grows
    while refusals come and no ACK does), and when batches in flight go
    unacknowledged for S_STALLED_MS though PINGs are answered; it makes a
    new connection when HELLOs have gone unanswered for half a minute.

    The actor sleeps until a socket, the store's watch (an import committed)
    or its earliest timer wakes it: an idle node costs next to nothing for
    the months it runs unattended.                                          */

#include "node_sync.h"
#include "node_keys.h"
#include "node_metrics.h"
#include "node_store.h"
#include "cp_batch.h"
#include "cp_codec.h"
#include "cp_downlink.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_wire.h"

#include <sodium.h>

#define S_BATCH_EVENTS 1000             //  events in one batch at most
#define S_BATCH_BYTES (256 * 1024)      //  and about this many bytes
#define S_WINDOW_MAX 64                 //  batches in flight, whatever the central offers
#define S_HEAD_POLL_MS 20               //  how often new commits are looked for, unwatched
#define S_HEAD_CHECK_MS 500             //  and watched (the watch says when they come)
#define S_PING_MS 2000                  //  idle keep-alive, carries the head
#define S_SILENCE_MS 8000               //  no word from the central: session lost
#define S_STALLED_MS 20000              //  batches in flight, none acknowledged: start over
#define S_HELLO_MIN_MS 1000             //  first pause before HELLO again
#define S_CONNECT_POLL_MS 50            //  while not connected, how often to try
#define S_HELLO_MAX_MS 30000            //  longest pause
#define S_ACKED_SAVE_MS 200             //  the cursor is saved at most this often
#define S_KEYS_POLL_MS 1000             //  how often the key files are looked at
#define S_READY_MAX 16                  //  batches sealed ahead of the window
#define S_RECOVER_ASK 16                //  archived batches asked for at a time
#define S_RECOVER_WAIT_MS 10000         //  no RECOVERED for this long: ask again
#define S_REPLY_FRAMES 4                //  command, body, key id, signature
#define S_REPLY_FRAME_MAX (513 * 1024)  //  ZMQ_MAXMSGSIZE: a RECOVERED carries an archived
                                        //  batch (the central takes frames of 512 KiB)

//  A batch read, sealed and signed, waiting for room in the window.
typedef struct {
    uint64_t first, last;
    cp_batch_sealed_t frames;   //  the BATCH's frames, sealed and signed
} s_ready_t;

typedef struct {
    zsock_t *pipe;              //  to the caller
    zsock_t *dealer;            //  to the central
    zsock_t *monitor;           //  the DEALER's handshake events
    int monitors;               //  monitors made (each needs its own endpoint)
    node_store_t *store;
    int watch;                  //  node_store_watch, or -1 (then the head is polled)
    char endpoint [256];
    const char *data;           //  the node's data directory (the config's)
    //  Keys
    node_keys_t *keys;
    size_t transport_order [CP_ENROLMENT_KEYS_MAX];     //  central transport keys to try
    size_t transport_count;
    size_t transport_next;      //  index into transport_order of the key in use
    const cp_party_key_t *data_key;     //  the central data key batches are sealed to
    uint8_t *session_key;       //  the envelope key for it (guarded)
    int64_t keys_at;
    int64_t reconnect_at;       //  when to make the socket again (0: not planned)
    int64_t reconnect_pause;    //  grows while handshakes keep failing
    bool verbose;
    bool terminated;
    //  Recovery (node_sync_config_t.recover): the municipality's archive is
    //  asked for instead of shipping, and appended to the log.
    bool recovering;
    uint64_t recover_next;      //  the archive position to ask for next
    uint32_t recover_left;      //  RECOVERED still due for the last RECOVER
    int64_t recover_asked_at;
    //  Downlink: the last refusal logged, and the cursor it came at
    int down_refused;
    uint64_t down_refused_at;
    uint64_t recover_events;    //  events appended by this recovery
    char municipality [CP_ID_MAX + 1];
    uint8_t log [CP_WIRE_LOG_SIZE];     //  the identity of the log shipped
    //  Session
    bool welcomed;              //  WELCOME received for the current HELLO
    bool hello_sent;            //  a HELLO went out on the current socket
    uint32_t window;            //  batches the central lets us have in flight
    uint64_t head;              //  last committed sequence, as last read
    uint64_t acked;             //  last acknowledged sequence
    uint64_t acked_saved;       //  what the store holds
    uint64_t next;              //  next sequence to ship
    uint64_t in_flight [S_WINDOW_MAX];  //  last sequence of each batch in flight
    size_t in_flight_count;
    //  Sealing is the node's share of the work per batch: batches are made
    //  ready while the central commits, so the window refills at once.
    s_ready_t ready [S_READY_MAX];      //  in sequence order; ready [0] goes next
    size_t ready_count;
    //  Timers (zclock_mono milliseconds)
    int64_t heard_at;           //  last message from the central
    int64_t moved_at;           //  last sign the batches in flight move (see s_stalled)
    int64_t hello_at;           //  when to say HELLO next (when not welcomed)
    int64_t hello_pause;        //  current backoff
    int64_t refused_pause;      //  pause after a refusal; grows until an ACK moves the cursor
    int64_t ping_at;
    int64_t head_at;
    int64_t save_at;
    //  Metrics (node_metrics)
    char *metrics_dir;          //  NULL: none written
    int64_t metrics_at;         //  when to write the file next
    bool progress;              //  tell the caller how the catch-up goes
    int64_t progress_at;        //  when it may be told next
    uint64_t progress_acked;    //  what it was told last
    uint64_t progress_head;
    node_metrics_session_t session;
} s_sync_t;

//  The next pause of a backoff: twice this one, up to S_HELLO_MAX_MS.
static int64_t
s_backoff (int64_t pause)
{
    return pause * 2 > S_HELLO_MAX_MS? S_HELLO_MAX_MS: pause * 2;
}

//  =====================================================================
//  Sending

//  Sends command + body (freed here), and for BATCH the sealed payload and
//  its signature, without blocking.  Returns 0, or -1 when the central is
//  not reachable now.
static int
s_send (s_sync_t *self, int command, uint8_t *body, size_t body_size,
        const uint8_t *sealed, size_t sealed_size, const uint8_t *signature)
{
    if (!self->dealer) {
        free (body);
        return -1;              //  no socket until the planned reconnect
    }
    const char *name = cp_wire_command_name (command);
    const void *parts [4] = {name, body, sealed, signature};
    size_t sizes [4] = {strlen (name), body_size, sealed_size, CP_ENVELOPE_SIGNATURE_SIZE};
    size_t count = command == CP_CMD_BATCH? 4: 2;
    //  zmsg_send would block while the central is away; send frame by frame.
    //  A multipart message is queued whole or not at all once the first
    //  frame went.
    void *handle = zsock_resolve (self->dealer);
    int rc = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        int flags = ZMQ_DONTWAIT | (index + 1 < count? ZMQ_SNDMORE: 0);
        if (zmq_send (handle, parts [index], sizes [index], flags) < 0)
            rc = -1;
    }
    free (body);
    return rc;
}

static void
s_hello (s_sync_t *self)
{
    uint64_t downlink = 0;
    if (node_store_downlink_cursor (self->store, &downlink))
        zsys_error ("node_sync: the downlink cursor cannot be read; HELLO says 0");
    cp_hello_t hello = {.version = CP_WIRE_VERSION, .head = self->head,
                        .acked = self->acked, .downlink = downlink};
    strcpy (hello.municipality, self->municipality);
    memcpy (hello.log, self->log, CP_WIRE_LOG_SIZE);
    strcpy (hello.data_key, self->data_key->id);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    self->welcomed = false;
    self->in_flight_count = 0;
    if (s_send (self, CP_CMD_HELLO, body, size, NULL, 0, NULL)) {
        //  Not connected (yet): try again soon; the pause is for HELLOs
        //  the central received and did not answer.
        self->hello_at = zclock_mono () + S_CONNECT_POLL_MS;
        return;
    }
    self->hello_sent = true;
    if (self->verbose)
        zsys_debug ("node_sync: HELLO head=%llu acked=%llu",
                    (unsigned long long) self->head, (unsigned long long) self->acked);
    self->hello_at = zclock_mono () + self->hello_pause;
    self->hello_pause = s_backoff (self->hello_pause);
}

static void
s_ready_drop (s_ready_t *ready)
{
    cp_batch_sealed_free (&ready->frames);
    memset (ready, 0, sizeof *ready);
}

//  Reads, seals and signs the batch that starts at first into ready.
//  Returns 0, 1 when the log has nothing from first on, or an error.
static int
s_seal_batch (s_sync_t *self, uint64_t first, s_ready_t *ready)
{
    uint8_t *payload;
    size_t size;
    uint64_t last;
    //  Not past the head as last read: an import may have committed since,
    //  and an ACK beyond the head the node knows would be taken for a bogus one.
    size_t most = self->head - first + 1 < S_BATCH_EVENTS? (size_t) (self->head - first + 1)
                                                         : S_BATCH_EVENTS;
    cp_batch_header_t header = {.first = first, .head = self->head};
    int rc = node_store_read_chained (self->store, first, most, S_BATCH_BYTES, &payload, &size,
                                      &last, header.prev, header.chain);
    if (rc || !payload)
        return rc? rc: 1;
    header.last = last;
    memcpy (header.log, self->log, CP_WIRE_LOG_SIZE);
    strcpy (header.municipality, self->municipality);
    strcpy (header.node_key, node_keys_enrolment (self->keys)->node_key.id);
    strcpy (header.data_key, self->data_key->id);
    ready->first = first;
    ready->last = last;
    rc = cp_batch_seal (&header, payload, size, self->session_key,
                        node_keys_secrets (self->keys) + CP_SECRETS_SIGN, &ready->frames);
    sodium_memzero (payload, size);
    free (payload);
    return rc;
}

static void
s_ready_clear (s_sync_t *self)
{
    for (size_t index = 0; index < self->ready_count; index++)
        s_ready_drop (&self->ready [index]);
    self->ready_count = 0;
}

//  Keeps up to S_READY_MAX batches sealed from the next sequence to ship
//  on; drops them when the session moved next elsewhere (WELCOME, NACK).
static void
s_prepare (s_sync_t *self)
{
    if (self->ready_count && self->ready [0].first != self->next)
        s_ready_clear (self);
    while (self->welcomed && self->ready_count < S_READY_MAX) {
        uint64_t first = self->ready_count? self->ready [self->ready_count - 1].last + 1
                                          : self->next;
        if (first > self->head)
            return;
        int rc = s_seal_batch (self, first, &self->ready [self->ready_count]);
        if (rc) {
            if (rc != 1)
                zsys_error ("node_sync: batch from %llu not made: %s",
                            (unsigned long long) first, cp_strerror (rc));
            return;
        }
        self->ready_count++;
    }
}

//  Takes the first ready batch off the queue.
static void
s_ready_pop (s_sync_t *self)
{
    self->ready [0].frames.header = NULL;   //  s_send freed it
    s_ready_drop (&self->ready [0]);
    memmove (&self->ready [0], &self->ready [1], --self->ready_count * sizeof (s_ready_t));
}

//  Ships ready batches while the window has room, then seals more.
static void
s_ship (s_sync_t *self)
{
    if (self->recovering)
        return;                 //  the log is being rebuilt, not shipped
    s_prepare (self);
    while (self->welcomed && self->in_flight_count < self->window && self->ready_count) {
        s_ready_t *ready = &self->ready [0];
        //  s_send frees the header; the rest is ours.
        cp_batch_sealed_t *frames = &ready->frames;
        if (s_send (self, CP_CMD_BATCH, frames->header, frames->header_size, frames->sealed,
                    frames->sealed_size, frames->signature)) {
            //  Not reachable: the silence timer will start a new session.
            s_ready_pop (self);
            return;
        }
        if (self->verbose)
            zsys_debug ("node_sync: BATCH %llu-%llu", (unsigned long long) ready->first,
                        (unsigned long long) ready->last);
        if (!self->in_flight_count)
            self->moved_at = zclock_mono ();
        self->in_flight [self->in_flight_count++] = ready->last;
        self->session.batches_sent++;
        self->next = ready->last + 1;
        s_ready_pop (self);
        if (!self->ready_count)
            s_prepare (self);
    }
    s_prepare (self);
}

//  =====================================================================
//  Receiving

static void
s_save_acked (s_sync_t *self, bool now)
{
    if (self->acked == self->acked_saved || (!now && zclock_mono () < self->save_at))
        return;
    int rc = node_store_set_acked (self->store, self->acked);
    if (rc)
        zsys_error ("node_sync: saving the acknowledged cursor: %s", cp_strerror (rc));
    else
        self->acked_saved = self->acked;
    self->save_at = zclock_mono () + S_ACKED_SAVE_MS;
}

static void s_recover_ask (s_sync_t *self);          //  under Recovery, below
static void s_recover_done (s_sync_t *self, int rc);

//  Reads the log's identity (again: it changes when the log is renewed).
static void
s_load_log (s_sync_t *self)
{
    node_store_log_t info;
    if (node_store_log_info (self->store, &info) == 0) {
        memcpy (self->log, info.log, CP_WIRE_LOG_SIZE);
        self->head = info.head;
        self->acked = self->acked_saved = info.acked;
    }
}

//  The central holds another log under this one's identity: this store
//  is a restored copy (or a copy that runs elsewhere).  The log gets a new
//  identity and is shipped whole; the central counts each event once by
//  its id, so nothing is counted twice and whatever the central lacks
//  arrives.
static void
s_renew_log (s_sync_t *self, const char *why)
{
    char old [CP_WIRE_LOG_NAME], renewed [CP_WIRE_LOG_NAME];
    cp_wire_log_name (self->log, old);
    int rc = node_store_renew_log (self->store);
    if (rc) {
        zsys_error ("node_sync: the log must be renewed (%s) but the store says: %s", why,
                    cp_strerror (rc));
        return;
    }
    s_load_log (self);
    s_ready_clear (self);       //  sealed under the old identity
    cp_wire_log_name (self->log, renewed);
    zsys_warning ("node_sync: %s: this store is a restored copy of log %s; it is shipped "
                  "again as log %s, and the central counts each event once", why, old,
                  renewed);
}

static void
s_on_welcome (s_sync_t *self, zframe_t *body)
{
    cp_welcome_t welcome;
    int rc = cp_wire_welcome_decode (zframe_data (body), zframe_size (body), &welcome);
    if (rc) {
        zsys_warning ("node_sync: bad WELCOME: %s", cp_strerror (rc));
        return;
    }
    //  The central's copy of this log must be this store's up to where the
    //  central stands, or what this store appended since would be taken
    //  for what the central holds.
    uint8_t chain [CP_WIRE_CHAIN_SIZE];
    rc = node_store_chain_at (self->store, welcome.expected - 1, chain);
    if (rc == 1 || (rc == 0 && memcmp (chain, welcome.chain, CP_WIRE_CHAIN_SIZE) != 0)) {
        char why [128];
        snprintf (why, sizeof why, rc == 1? "the central holds %llu events of this log, the "
                  "store %llu": "the central's copy of this log differs from the store's "
                  "up to %llu (head %llu)", (unsigned long long) welcome.expected - 1,
                  (unsigned long long) self->head);
        s_renew_log (self, why);
        self->hello_at = zclock_mono ();
        return;
    }
    if (rc) {
        zsys_error ("node_sync: reading the log's chain: %s", cp_strerror (rc));
        return;
    }
    if (welcome.expected - 1 < self->acked) {
        //  The central holds less than it acknowledged: it was restored
        //  from an older backup.  What it lacks is shipped again, and
        //  until it is back this node does not count it as acknowledged.
        zsys_warning ("node_sync: the central holds %llu events of this log but had "
                      "acknowledged %llu (restored from a backup?); shipping them again",
                      (unsigned long long) welcome.expected - 1,
                      (unsigned long long) self->acked);
        if ((rc = node_store_rewind_acked (self->store, welcome.expected - 1)))
            zsys_error ("node_sync: saving the acknowledged cursor: %s", cp_strerror (rc));
        self->acked = self->acked_saved = welcome.expected - 1;
    }
    self->welcomed = true;
    self->hello_pause = S_HELLO_MIN_MS;
    self->reconnect_pause = S_HELLO_MIN_MS;
    self->window = welcome.window < S_WINDOW_MAX? welcome.window: S_WINDOW_MAX;
    self->next = welcome.expected;
    self->in_flight_count = 0;
    if (welcome.expected - 1 > self->acked)
        self->acked = welcome.expected - 1;
    zsys_info ("node_sync: connected; central expects %llu, head %llu",
               (unsigned long long) welcome.expected, (unsigned long long) self->head);
    if (self->recovering)
        s_recover_ask (self);
}

static void
s_on_ack (s_sync_t *self, zframe_t *body)
{
    cp_ack_t ack;
    int rc = cp_wire_ack_decode (zframe_data (body), zframe_size (body), &ack);
    if (rc || ack.acked > self->head) {
        zsys_warning ("node_sync: bad ACK: %s", rc? cp_strerror (rc): "beyond the head");
        return;
    }
    uint64_t seq = ack.acked;
    //  The window in force now: narrower when more nodes have connected
    //  (what is in flight beyond it is acknowledged before more is sent).
    self->window = ack.window < S_WINDOW_MAX? ack.window: S_WINDOW_MAX;
    if (seq > self->acked) {
        self->acked = seq;
        self->refused_pause = S_HELLO_MIN_MS;
    }
    //  Batches are acknowledged in order: drop those now covered.
    size_t keep = 0;
    for (size_t index = 0; index < self->in_flight_count; index++)
        if (self->in_flight [index] > seq)
            self->in_flight [keep++] = self->in_flight [index];
    if (keep < self->in_flight_count)
        self->moved_at = zclock_mono ();
    self->in_flight_count = keep;
    s_save_acked (self, false);
}

static void
s_on_nack (s_sync_t *self, zframe_t *body)
{
    cp_reply_t nack;
    int rc = cp_wire_nack_decode (zframe_data (body), zframe_size (body), &nack);
    if (rc) {
        zsys_warning ("node_sync: bad NACK: %s", cp_strerror (rc));
        return;
    }
    node_metrics_nack (&self->session, nack.reason);
    if (nack.reason == CP_EGAP || nack.reason == CP_EDIVERGED) {
        //  Not where the central's copy of the log stands: ask it where
        //  (its WELCOME names the chain there), at once.
        if (!self->welcomed)
            return;             //  a HELLO is on its way already
        zsys_info ("node_sync: central refused a batch (%s), expecting %llu; asking again",
                   cp_strerror (nack.reason), (unsigned long long) nack.seq);
        if (nack.reason == CP_EDIVERGED)
            s_renew_log (self, "the central holds other events under this log");
        self->welcomed = false;
        self->in_flight_count = 0;
        self->hello_at = zclock_mono ();
        return;
    }
    if (self->recovering && (nack.reason == CP_EEXPIRED || nack.reason == CP_EREVOKED
                         ||  nack.reason == CP_EUNKNOWNKEY || nack.reason == CP_EIMPERSONATION)) {
        zsys_error ("node_sync: the central refuses to recover this node: %s",
                    cp_strerror (nack.reason));
        s_recover_done (self, nack.reason);
        return;
    }
    //  Anything else (the central restarted and lost our session, will not
    //  take us, or could not store what we sent): start a new session
    //  after a pause, which grows while refusals come and no ACK moves
    //  the cursor, so that a central that cannot store is not flooded.
    zsys_warning ("node_sync: central refused: %s; saying HELLO again in %lld ms",
                  cp_strerror (nack.reason), (long long) self->refused_pause);
    self->welcomed = false;
    self->in_flight_count = 0;
    self->hello_at = zclock_mono () + self->refused_pause;
    self->refused_pause = s_backoff (self->refused_pause);
}

//  True when a reply (command, body) carries the signature of a central
//  data key this node has pinned: key id and signature frames follow body.
static bool
s_reply_signed (s_sync_t *self, const char *command, zframe_t *body, zframe_t *key_id,
                zframe_t *signature)
{
    const cp_enrolment_t *enrolment = node_keys_enrolment (self->keys);
    int64_t now = (int64_t) time (NULL);
    for (size_t index = 0; key_id && signature && index < enrolment->central_data_count;
         index++) {
        const cp_party_key_t *key = &enrolment->central_data [index];
        if (zframe_size (key_id) != strlen (key->id)
        ||  memcmp (zframe_data (key_id), key->id, strlen (key->id)) != 0)
            continue;
        //  A key past its expiry signs nothing any more.
        if (key->expires && now >= key->expires) {
            zsys_warning ("node_sync: a %s signed with central data key %s, which has expired,"
                          " was refused", command, key->id);
            return false;
        }
        return cp_envelope_verify_reply (command, self->municipality, zframe_data (body),
                                         zframe_size (body), zframe_data (signature),
                                         zframe_size (signature), key->sign_public) == 0;
    }
    return false;
}

//  =====================================================================
//  The downlink: entries of the central's log, each applied in the
//  transaction that moves the cursor (node_store_apply_downlink), each
//  answered with DOWNACK and the cursor, so that the central sends the
//  next, or again from the cursor after a gap.

//  An entry's effect outside the store: a key announcement (the body is
//  the file cpsync-admin rotate-central writes, signed by the root itself)
//  is installed as `cpsync-node enrol` would; the key watch then takes the
//  new keys up.  Installing the same file again changes nothing, so the
//  entry at the cursor is installed again when the actor starts, in case
//  it stopped between applying and installing.
static void
s_take_effect (s_sync_t *self, uint64_t seq)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    cp_downlink_t entry;
    char why [300] = "";
    if (seq == 0 || node_store_downlink_entry (self->store, seq, &bytes, &size) || !bytes
    ||  cp_downlink_decode (bytes, size, node_keys_enrolment (self->keys)->root, &entry, why,
                            sizeof why)
    ||  entry.kind != CP_DOWNLINK_KEYS) {
        free (bytes);
        return;
    }
    int rc = node_keys_install (self->data, self->municipality, (const char *) entry.body,
                                entry.body_size, why, sizeof why);
    if (rc)
        zsys_error ("node_sync: the key announcement of downlink entry %llu was not "
                    "installed (%s): %s", (unsigned long long) seq, cp_strerror (rc), why);
    else
        zsys_info ("node_sync: the key announcement of downlink entry %llu is installed",
                   (unsigned long long) seq);
    free (bytes);
}

static void
s_on_down (s_sync_t *self, zframe_t *body)
{
    cp_down_t down;
    char why [256] = "";
    int rc = cp_wire_down_decode (zframe_data (body), zframe_size (body), &down);
    if (rc)
        snprintf (why, sizeof why, "DOWN's body: %s", cp_strerror (rc));
    else
        rc = node_store_apply_downlink (self->store, node_keys_enrolment (self->keys)->root,
                                        down.prev, down.entry, down.entry_size, why,
                                        sizeof why);
    uint64_t cursor = 0;
    if (node_store_downlink_cursor (self->store, &cursor))
        return;                 //  no answer: the central sends again
    if (rc == 0) {
        zsys_info ("node_sync: downlink entry %llu applied", (unsigned long long) cursor);
        s_take_effect (self, cursor);
    }
    else
    if (rc == CP_EREPLAY || rc == CP_EGAP) {
        //  A resend, or one lost on the way: the cursor says what is next.
        if (self->verbose)
            zsys_debug ("node_sync: DOWN after %llu: %s", (unsigned long long) down.prev, why);
    }
    else
    if (rc != self->down_refused || cursor != self->down_refused_at) {
        //  Logged once; the store counts every one.
        zsys_error ("node_sync: a downlink entry was refused (%s): %s", cp_strerror (rc), why);
        self->down_refused = rc;
        self->down_refused_at = cursor;
    }
    size_t size;
    uint8_t *answer = cp_wire_downack_encode (cursor, rc, &size);
    s_send (self, CP_CMD_DOWNACK, answer, size, NULL, 0, NULL);
}

//  =====================================================================
//  Published figures: the central's digests of this municipality's month
//  rows, compared with the store's own when it holds just what the
//  central applied (docs/design.md, 10.7).

static void
s_on_figures (s_sync_t *self, zframe_t *body)
{
    cp_month_digests_t *theirs = malloc (sizeof (cp_month_digests_t));
    assert (theirs);
    int rc = cp_wire_figures_decode (zframe_data (body), zframe_size (body), theirs);
    node_reconciliation_t result;
    if (rc)
        zsys_warning ("node_sync: bad FIGURES: %s", cp_strerror (rc));
    else
        rc = node_store_check_figures (self->store, theirs, &result);
    if (rc == NODE_STORE_STALE) {
        //  Events the central has not applied yet: its next FIGURES covers them
        if (self->verbose)
            zsys_debug ("node_sync: FIGURES as of %llu ignored: the head is past it",
                        (unsigned long long) theirs->as_of);
    }
    else
    if (rc && rc != CP_EMALFORMED && rc != CP_ETOOBIG && rc != CP_ETYPE)
        zsys_error ("node_sync: checking the central's figures: %s", cp_strerror (rc));
    else
    if (rc == 0 && result.reported && result.verdict == CP_FIGURES_DIVERGED)
        zsys_warning ("node_sync: the central's figures as of %llu differ from this node's "
                      "in %s", (unsigned long long) result.as_of, result.periods);
    else
    if (rc == 0 && result.reported)
        zsys_info ("node_sync: the central's figures as of %llu are this node's",
                   (unsigned long long) result.as_of);
    if (rc == 0 && result.differ_count) {
        //  The central's rows of those months, to show beside this node's
        cp_figreq_t figreq = {.as_of = result.as_of, .count = result.differ_count};
        memcpy (figreq.months, result.differ, result.differ_count * sizeof result.differ [0]);
        size_t size;
        uint8_t *request = cp_wire_figreq_encode (&figreq, &size);
        s_send (self, CP_CMD_FIGREQ, request, size, NULL, 0, NULL);
    }
    free (theirs);
}

//  The central's rows of the months asked for, kept for `cpsync-node
//  figures` until a check finds the figures in sync again.
static void
s_on_figrows (s_sync_t *self, zframe_t *body)
{
    int rc = node_store_keep_central_rows (self->store, zframe_data (body), zframe_size (body));
    if (rc)
        zsys_warning ("node_sync: the central's rows (FIGROWS) were not kept: %s",
                      cp_strerror (rc));
    else
        zsys_info ("node_sync: the central's rows of the months that differ are kept "
                   "(cpsync-node figures shows them)");
}

//  =====================================================================
//  Recovery: a node that lost its store is set up again and asks the
//  central for its municipality's archive, batch by batch, appending each
//  batch's events to its log in one transaction with the archive position
//  reached, so that a recovery cut short resumes where it stopped.  The
//  events go through the same rules as an import, in the order the central
//  took them, so the node ends with the central's figures.

//  Tells the caller that the recovery ended: "DONE" and 0, or an error.
static void
s_recover_done (s_sync_t *self, int rc)
{
    self->recovering = false;
    zsock_send (self->pipe, "si", "DONE", rc);
}

static void
s_recover_ask (s_sync_t *self)
{
    cp_recover_t recover = {.from = self->recover_next, .count = S_RECOVER_ASK};
    strcpy (recover.node_key, node_keys_enrolment (self->keys)->node_key.id);
    strcpy (recover.data_key, self->data_key->id);
    size_t size;
    uint8_t *body = cp_wire_recover_encode (&recover, &size);
    if (s_send (self, CP_CMD_RECOVER, body, size, NULL, 0, NULL) == 0)
        self->recover_left = S_RECOVER_ASK;
    self->recover_asked_at = zclock_mono ();
}

//  Appends the count events of one archived batch (as cp_batch_open_recovered
//  decoded them) and notes next as the position reached (and done, the
//  last), in one transaction.  Events the node's rules or its id index
//  refuse are left out, as the central left them.
static int
s_recover_append (s_sync_t *self, cp_event_t *events, size_t count, uint64_t next, bool done)
{
    int rc = 0;
    node_store_entry_t *entries = calloc (count? count: 1, sizeof (node_store_entry_t));
    node_store_entry_t **pointers = calloc (count? count: 1, sizeof (node_store_entry_t *));
    int *outcomes = calloc (count? count: 1, sizeof (int));
    assert (entries && pointers && outcomes);
    size_t kept = 0;
    const cp_catalogue_t *catalogue = node_store_catalogue (self->store);
    for (size_t index = 0; index < count; index++) {
        if (cp_event_resolve (&events [index], catalogue, NULL, 0))
            continue;
        entries [kept].event = events [index];
        node_store_prepare (self->store, &entries [kept]);
        pointers [kept] = &entries [kept];
        kept++;
    }
    for (int round = 0; round < 8; round++) {
        rc = node_store_begin (self->store);
        if (rc == 0)
            rc = node_store_append_many (self->store, pointers, kept, NULL, outcomes, NULL, 0);
        if (rc == 0)
            rc = node_store_recovered (self->store, next, done);
        if (rc == 0)
            rc = node_store_commit (self->store);
        else
            node_store_abort (self->store);
        if (rc != CP_EMAPFULL)
            break;
    }
    for (size_t index = 0; rc == 0 && index < kept; index++)
        self->recover_events += outcomes [index] == NODE_STORE_APPENDED;
    sodium_memzero (entries, (count? count: 1) * sizeof (node_store_entry_t));
    free (entries);
    free (pointers);
    free (outcomes);
    return rc;
}

//  One archived batch from the central, sealed to this node's key and
//  signed with a central data key it has pinned.
static void
s_on_recovered (s_sync_t *self, zframe_t *header_frame, zframe_t *sealed, zframe_t *signature)
{
    const uint8_t *data [CP_BATCH_FRAMES] = {zframe_data (header_frame), zframe_data (sealed),
                                             zframe_data (signature)};
    size_t sizes [CP_BATCH_FRAMES] = {zframe_size (header_frame), zframe_size (sealed),
                                      zframe_size (signature)};
    cp_batch_frames_t frames;
    cp_recovered_t header;
    int rc = cp_batch_read_recovered (data, sizes, CP_BATCH_FRAMES, &frames, &header);
    const cp_enrolment_t *enrolment = node_keys_enrolment (self->keys);
    const cp_party_key_t *data_key = NULL;
    for (size_t index = 0; rc == 0 && index < enrolment->central_data_count; index++)
        if (streq (enrolment->central_data [index].id, header.data_key))
            data_key = &enrolment->central_data [index];
    if (rc == 0 && (!streq (header.municipality, self->municipality)
                ||  !streq (header.node_key, enrolment->node_key.id) || !data_key))
        rc = CP_EAUTH;
    uint8_t *key = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (key);
    cp_event_t *events = NULL;
    size_t count = 0;
    if (rc == 0)
        rc = cp_envelope_node_recovery_key (enrolment->node_key.kx_public,
                                            node_keys_secrets (self->keys) + CP_SECRETS_KX,
                                            data_key->kx_public, key);
    if (rc == 0)
        rc = cp_batch_open_recovered (&frames, &header, data_key->sign_public, key, &events,
                                      &count);
    cp_keyfile_free (&key);
    if (rc)
        zsys_warning ("node_sync: a RECOVERED that is not the central's for this node was "
                      "ignored (%s)", cp_strerror (rc));
    else
    if (!self->recovering || header.position != self->recover_next)
        ;                       //  an answer to an earlier request: asked again since
    else
    if ((rc = s_recover_append (self, events, count, header.next, header.next == header.end)))
        zsys_error ("node_sync: recovered events not stored: %s", cp_strerror (rc));
    else {
        self->recover_next = header.next;
        if (self->recover_left)
            self->recover_left--;
        if (self->verbose)
            zsys_debug ("node_sync: recovered archive position %llu of %llu",
                        (unsigned long long) header.position,
                        (unsigned long long) header.end - 1);
        if (header.next == header.end) {
            zsys_info ("node_sync: recovery done: %llu events from %llu archived batches",
                       (unsigned long long) self->recover_events,
                       (unsigned long long) header.end - 1);
            s_recover_done (self, 0);
        }
        else
        if (self->recover_left == 0)
            s_recover_ask (self);
    }
    if (events)
        sodium_memzero (events, count * sizeof (cp_event_t));
    free (events);
}

//  =====================================================================
//  Replies

//  Reads one message from the central, frame by frame: at most
//  S_REPLY_FRAMES are kept, and a longer message is read to its end and
//  dropped (NULL), so that what the node holds of one stays bounded.
static zmsg_t *
s_recv_reply (s_sync_t *self)
{
    zmsg_t *msg = zmsg_new ();
    bool excess = false;
    while (true) {
        zframe_t *frame = zframe_recv (self->dealer);
        if (!frame)
            break;
        bool more = zframe_more (frame);
        if (zmsg_size (msg) < S_REPLY_FRAMES)
            zmsg_append (msg, &frame);
        else {
            zframe_destroy (&frame);
            excess = true;
        }
        if (!more)
            break;
    }
    if (excess)
        zsys_warning ("node_sync: a message of more than %d frames from the central was "
                      "dropped (%s)", S_REPLY_FRAMES, cp_strerror (CP_EMALFORMED));
    if (excess || zmsg_size (msg) == 0)
        zmsg_destroy (&msg);
    return msg;
}

static void
s_on_central (s_sync_t *self)
{
    zmsg_t *msg = s_recv_reply (self);
    if (!msg)
        return;
    self->heard_at = zclock_mono ();
    self->session.last_contact = zclock_time ();
    zframe_t *command = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    zframe_t *key_id = zmsg_next (msg);
    zframe_t *signature = zmsg_next (msg);
    int which = command? cp_wire_command (zframe_data (command), zframe_size (command)): 0;
    size_t expected = which == CP_CMD_PONG? 2: 4;
    if (which == CP_CMD_NACK && body && zmsg_size (msg) == 2) {
        //  What the central says to a key it does not take (it signs only
        //  for nodes it knows): ignored, its reason shown as a hint only.
        cp_reply_t nack = {0, 0};
        bool read = cp_wire_nack_decode (zframe_data (body), zframe_size (body), &nack) == 0;
        zsys_warning ("node_sync: an unsigned NACK (%s, unverified) was ignored: the central"
                      " does not accept this node's key (revoked, expired or unknown)?",
                      read? cp_strerror (nack.reason): "unreadable");
        zmsg_destroy (&msg);
        return;
    }
    if (which == CP_CMD_RECOVERED && zmsg_size (msg) == 4) {
        s_on_recovered (self, body, key_id, signature);     //  header, events, signature
        zmsg_destroy (&msg);
        return;
    }
    if (!body || zmsg_size (msg) != expected)
        which = 0;
    if (which && which != CP_CMD_PONG
    &&  !s_reply_signed (self, cp_wire_command_name (which), body, key_id, signature)) {
        //  Not from the central (or not for us): it must not move the cursor.
        zsys_warning ("node_sync: a %s without a valid signature of the central was ignored",
                      cp_wire_command_name (which));
        zmsg_destroy (&msg);
        return;
    }
    switch (which) {
        case CP_CMD_WELCOME: s_on_welcome (self, body); break;
        case CP_CMD_ACK:     s_on_ack (self, body); break;
        case CP_CMD_NACK:    s_on_nack (self, body); break;
        case CP_CMD_DOWN:    s_on_down (self, body); break;
        case CP_CMD_FIGURES: s_on_figures (self, body); break;
        case CP_CMD_FIGROWS: s_on_figrows (self, body); break;
        case CP_CMD_PONG:    break;
        default:
            zsys_warning ("node_sync: unexpected message from the central (%s)",
                          cp_strerror (CP_EPROTOCOL));
    }
    zmsg_destroy (&msg);
}

//  =====================================================================
//  The actor

//  Imports commit in another process.  The store's watch wakes the actor
//  when its file is written, so the head is read at once; it is still read
//  every S_HEAD_CHECK_MS in case a write went unseen, and every
//  S_HEAD_POLL_MS where there is no watch.  An idle node thus sleeps
//  until a timer is due instead of waking fifty times a second.
static void
s_on_watch (s_sync_t *self)
{
    char events [4096];
    while (read (self->watch, events, sizeof events) > 0)
        ;                       //  what was written does not matter, only that
    self->head_at = zclock_mono ();
}

//  True when batches are in flight and none has been acknowledged for
//  S_STALLED_MS.  The central answers PINGs, so silence alone would not
//  show a session whose batches or acknowledgements were lost (a group
//  the central could not store, replies dropped): without this a node
//  would wait for them for ever, its window full.
static bool
s_stalled (const s_sync_t *self, int64_t now)
{
    return self->welcomed && self->in_flight_count && now - self->moved_at > S_STALLED_MS;
}

//  True when HELLOs have gone out on this socket, each pause twice the one
//  before, for half a minute, and no WELCOME came: whatever holds the
//  connection up (a relay, a session the central mixed up) is given up
//  for a new one rather than asked again.
static bool
s_unheard (const s_sync_t *self)
{
    return self->hello_sent && self->hello_pause >= S_HELLO_MAX_MS;
}

//  Milliseconds until the earliest timer falls due (at least 1), so that
//  the loop sleeps until then instead of waking on a fixed tick.
static long
s_wait_ms (const s_sync_t *self)
{
    int64_t due = self->head_at < self->keys_at? self->head_at: self->keys_at;
    if (self->reconnect_at && self->reconnect_at < due)
        due = self->reconnect_at;
    if (!self->welcomed && self->hello_at < due)
        due = self->hello_at;
    if (self->welcomed) {
        int64_t silence = self->heard_at + S_SILENCE_MS + 1;
        if (self->ping_at < due)
            due = self->ping_at;
        if (silence < due)
            due = silence;
        if (self->in_flight_count && self->moved_at + S_STALLED_MS + 1 < due)
            due = self->moved_at + S_STALLED_MS + 1;
        if (self->recovering && self->recover_asked_at + S_RECOVER_WAIT_MS + 1 < due)
            due = self->recover_asked_at + S_RECOVER_WAIT_MS + 1;
    }
    if (self->acked != self->acked_saved && self->save_at < due)
        due = self->save_at;
    int64_t wait = due - zclock_mono ();
    return wait < 1? 1: (long) wait;
}

//  What woke the actor
typedef enum { S_WOKE_TIMER, S_WOKE_PIPE, S_WOKE_CENTRAL, S_WOKE_MONITOR, S_WOKE_WATCH,
               S_WOKE_TERM } s_woke_t;

//  Waits until the pipe, the DEALER, its monitor or the store's watch is
//  readable, or the next timer is due.  zmq_poll rather than zpoller: the
//  watch is a file descriptor.  A signal only ends the wait, $TERM ends us.
static s_woke_t
s_wait (s_sync_t *self)
{
    zmq_pollitem_t items [4];
    s_woke_t wakes [4];
    int count = 0;
    items [count] = (zmq_pollitem_t) {zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0};
    wakes [count++] = S_WOKE_PIPE;
    if (self->dealer) {
        items [count] = (zmq_pollitem_t) {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0};
        wakes [count++] = S_WOKE_CENTRAL;
    }
    if (self->monitor) {
        items [count] = (zmq_pollitem_t) {zsock_resolve (self->monitor), 0, ZMQ_POLLIN, 0};
        wakes [count++] = S_WOKE_MONITOR;
    }
    if (self->watch >= 0) {
        items [count] = (zmq_pollitem_t) {NULL, self->watch, ZMQ_POLLIN, 0};
        wakes [count++] = S_WOKE_WATCH;
    }
    if (zmq_poll (items, count, s_wait_ms (self)) < 0)
        return zmq_errno () == ETERM? S_WOKE_TERM: S_WOKE_TIMER;
    for (int index = 0; index < count; index++)
        if (items [index].revents & ZMQ_POLLIN)
            return wakes [index];
    return S_WOKE_TIMER;
}

static int s_connect (s_sync_t *self);        //  with the keys, below

static void
s_on_timers (s_sync_t *self)
{
    int64_t now = zclock_mono ();
    if (now >= self->head_at) {
        uint64_t head, acked, cases;
        if (node_store_counts (self->store, &head, &acked, &cases) == 0)
            self->head = head;
        self->head_at = now + (self->watch >= 0? S_HEAD_CHECK_MS: S_HEAD_POLL_MS);
    }
    if (!self->welcomed && now >= self->hello_at && s_unheard (self)) {
        zsys_warning ("node_sync: HELLO after HELLO and no WELCOME; making the connection again");
        self->hello_pause = S_HELLO_MIN_MS;
        if (s_connect (self))
            zsys_error ("node_sync: cannot connect to '%s'", self->endpoint);
    }
    else
    if (!self->welcomed && now >= self->hello_at)
        s_hello (self);
    else
    if (self->welcomed && now - self->heard_at > S_SILENCE_MS) {
        zsys_warning ("node_sync: no word from the central for %d s; starting over",
                      S_SILENCE_MS / 1000);
        self->hello_pause = S_HELLO_MIN_MS;
        s_hello (self);
    }
    else
    if (s_stalled (self, now)) {
        zsys_warning ("node_sync: %zu batches in flight and none acknowledged for %d s;"
                      " starting over", self->in_flight_count, S_STALLED_MS / 1000);
        self->hello_pause = S_HELLO_MIN_MS;
        s_hello (self);
    }
    else
    if (self->recovering && self->welcomed && now - self->recover_asked_at > S_RECOVER_WAIT_MS) {
        zsys_warning ("node_sync: no recovered batch for %d s; asking again from %llu",
                      S_RECOVER_WAIT_MS / 1000, (unsigned long long) self->recover_next);
        s_recover_ask (self);
    }
    else
    if (self->welcomed && now >= self->ping_at) {
        size_t size;
        uint8_t *body = cp_wire_ping_encode (self->head, &size);
        s_send (self, CP_CMD_PING, body, size, NULL, 0, NULL);
        self->ping_at = now + S_PING_MS;
    }
    s_ship (self);
    s_save_acked (self, false);
}

//  =====================================================================
//  Keys and the connection

//  Orders the central's transport keys to try: those whose time has come,
//  newest first, then those announced for later, soonest first.
static void
s_order_transport (s_sync_t *self)
{
    const cp_enrolment_t *enrolment = node_keys_enrolment (self->keys);
    int64_t now = (int64_t) time (NULL);
    size_t count = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t start = count;
        for (size_t index = 0; index < enrolment->central_transport_count; index++) {
            const cp_transport_key_t *key = &enrolment->central_transport [index];
            if (key->expires && now >= key->expires) {
                //  Never tried: the central serves it no more, and its secret
                //  may be in other hands (a key rotated with no grace had leaked).
                if (pass == 0)
                    zsys_info ("node_sync: central transport key %s has expired; not tried",
                               key->id);
                continue;
            }
            if ((key->valid_from <= now) != (pass == 0))
                continue;
            size_t at = count++;
            //  Insertion: pass 0 by valid_from descending, pass 1 ascending.
            while (at > start) {
                const cp_transport_key_t *other =
                    &enrolment->central_transport [self->transport_order [at - 1]];
                bool before = pass == 0? key->valid_from > other->valid_from
                                       : key->valid_from < other->valid_from;
                if (!before)
                    break;
                self->transport_order [at] = self->transport_order [at - 1];
                at--;
            }
            self->transport_order [at] = index;
        }
    }
    self->transport_count = count;
    self->transport_next = 0;
}

//  Chooses the central data key to seal to (the newest not expired) and
//  derives the envelope key for it.  Returns 0 or CP_ENOTENROLLED.
static int
s_choose_data_key (s_sync_t *self)
{
    const cp_enrolment_t *enrolment = node_keys_enrolment (self->keys);
    int64_t now = (int64_t) time (NULL);
    self->data_key = NULL;
    for (size_t index = 0; index < enrolment->central_data_count && !self->data_key; index++)
        if (!enrolment->central_data [index].expires
        ||  enrolment->central_data [index].expires > now)
            self->data_key = &enrolment->central_data [index];
    if (!self->data_key)
        return CP_ENOTENROLLED;
    if (!self->session_key)
        self->session_key = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (self->session_key);
    const uint8_t *secrets = node_keys_secrets (self->keys);
    return cp_envelope_node_key (enrolment->node_key.kx_public, secrets + CP_SECRETS_KX,
                                 self->data_key->kx_public, self->session_key);
}

//  Monitoring stops before its reader goes: libzmq's I/O thread sends a
//  socket's events with a blocking send, so an event for a reader closed
//  first would stall every connection of the process for good (seen in
//  the chaos soak: a node stuck "connecting" after a refused handshake).
static void
s_disconnect (s_sync_t *self)
{
    if (self->dealer && self->monitor)
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
}

//  Connects a CURVE DEALER to the central with the transport key in use,
//  and watches its handshakes.  Returns 0, or -1 with a new try planned.
static int
s_connect (s_sync_t *self)
{
    s_disconnect (self);
    s_ready_clear (self);           //  sealed with keys that may have changed
    self->reconnect_at = 0;
    const cp_enrolment_t *enrolment = node_keys_enrolment (self->keys);
    const uint8_t *secrets = node_keys_secrets (self->keys);
    const cp_transport_key_t *server =
        &enrolment->central_transport [self->transport_order [self->transport_next]];
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer) {
        self->reconnect_at = zclock_mono () + self->reconnect_pause;
        return -1;
    }
    zsock_set_curve_serverkey_bin (dealer, server->public_key);
    zsock_set_curve_publickey_bin (dealer, enrolment->node_transport.public_key);
    zsock_set_curve_secretkey_bin (dealer, secrets + CP_SECRETS_TRANSPORT);
    zsock_set_immediate (dealer, 1);        //  queue nothing for a central not there
    zsock_set_linger (dealer, 0);
    zsock_set_sndhwm (dealer, 2 * S_WINDOW_MAX + 16);
    zsock_set_reconnect_ivl (dealer, 100);
    zsock_set_reconnect_ivl_max (dealer, 10000);
    //  Liveness is our PING and silence timer, not ZMTP's heartbeat: libzmq
    //  4.3.4's heartbeat timer can assert on a connection reset while its
    //  input is stopped (see central_server.c).  TCP keepalive and
    //  ZMQ_TCP_MAXRT end a connection to a host that vanished.
    zsock_set_heartbeat_ivl (dealer, 0);
    zsock_set_tcp_keepalive (dealer, 1);
    zsock_set_tcp_keepalive_idle (dealer, 30);
    zsock_set_tcp_keepalive_intvl (dealer, 10);
    zsock_set_tcp_keepalive_cnt (dealer, 3);
    zsock_set_tcp_maxrt (dealer, 30000);
    //  What the central may send: replies of a few hundred bytes.
    zsock_set_maxmsgsize (dealer, S_REPLY_FRAME_MAX);
    char monitor [64];
    snprintf (monitor, sizeof monitor, "inproc://node-sync-monitor-%d", self->monitors++);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
    if (zmq_socket_monitor (zsock_resolve (dealer), monitor, events) == 0)
        self->monitor = zsock_new_pair (monitor);
    if (zsock_connect (dealer, "%s", self->endpoint)) {
        if (self->monitor)
            zmq_socket_monitor (zsock_resolve (dealer), NULL, 0);
        zsock_destroy (&dealer);
        zsock_destroy (&self->monitor);
        self->reconnect_at = zclock_mono () + self->reconnect_pause;
        return -1;
    }
    self->dealer = dealer;
    self->welcomed = false;
    self->hello_sent = false;
    self->in_flight_count = 0;
    self->hello_at = zclock_mono ();
    zsys_info ("node_sync: connecting to %s with central key %s", self->endpoint, server->id);
    return 0;
}

//  A handshake succeeded: HELLO goes at once (the first try, made before
//  the connection was up, would otherwise wait for its retry).  A handshake
//  failed: the central refused our key (revoked, expired, or
//  not yet in its table), or serves another transport key than the one we
//  tried.  libzmq does not retry a refused handshake by itself, so the
//  socket is made again: at once with the next pinned central key when
//  there is one, else after a pause that grows up to S_HELLO_MAX_MS.
static void
s_on_monitor (s_sync_t *self)
{
    zmsg_t *event = zmsg_recv (self->monitor);
    zframe_t *head = event? zmsg_first (event): NULL;
    uint16_t code = head && zframe_size (head) == 6
                  ? (uint16_t) (zframe_data (head) [0] | zframe_data (head) [1] << 8): 0;
    if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        //  Say HELLO now, not at the next retry, unless the retry has just
        //  said it: two HELLOs would get two WELCOMEs, and the second
        //  would have the first window sent again.
        if (!self->welcomed && !self->hello_sent)
            self->hello_at = zclock_mono ();
    }
    else
    if (code && !self->reconnect_at) {
        const char *id = node_keys_enrolment (self->keys)->central_transport
                         [self->transport_order [self->transport_next]].id;
        zsys_warning ("node_sync: the central refused the handshake with its key %s (%s)",
                      id, code == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          ? "this node's key is not accepted: revoked, expired or not yet known"
                          : "it serves another key, or is not the central");
        bool next_key = self->transport_count > 1
                     && self->transport_next + 1 < self->transport_count;
        if (self->transport_count > 1)
            self->transport_next = (self->transport_next + 1) % self->transport_count;
        self->reconnect_at = zclock_mono () + (next_key? 0: self->reconnect_pause);
        if (!next_key)
            self->reconnect_pause = s_backoff (self->reconnect_pause);
    }
    zmsg_destroy (&event);
}

//  Makes the socket again when a refused handshake planned it.
static void
s_reconnect (s_sync_t *self)
{
    if (!self->reconnect_at || zclock_mono () < self->reconnect_at)
        return;
    self->reconnect_at = 0;
    if (s_connect (self))
        zsys_error ("node_sync: cannot connect to '%s'", self->endpoint);
}

//  Loads the keys (again).  Returns 0, or the reason they cannot be used.
static int
s_load_keys (s_sync_t *self)
{
    int error = 0;
    node_keys_t *keys = node_keys_load (self->data, &error);
    if (!keys)
        return error;
    const cp_enrolment_t *enrolment = node_keys_enrolment (keys);
    if (!streq (enrolment->municipality, self->municipality)) {
        node_keys_destroy (&keys);
        return CP_EUSAGE;
    }
    node_keys_destroy (&self->keys);
    self->keys = keys;
    s_order_transport (self);
    int rc = s_choose_data_key (self);
    if (rc == 0 && self->transport_count == 0)
        rc = CP_ENOTENROLLED;
    self->keys_at = zclock_mono () + S_KEYS_POLL_MS;
    return rc;
}

//  Picks up a change of the key files: new keys, a new connection.
static void
s_check_keys (s_sync_t *self)
{
    self->keys_at = zclock_mono () + S_KEYS_POLL_MS;
    if (!node_keys_changed (self->keys))
        return;
    node_keys_t *previous = self->keys;
    self->keys = NULL;
    int rc = s_load_keys (self);
    if (rc) {
        //  Keep going with the keys that worked.
        zsys_error ("node_sync: the new keys do not load (%s); keeping the old ones",
                    cp_strerror (rc));
        node_keys_destroy (&self->keys);
        self->keys = previous;
        s_order_transport (self);
        s_choose_data_key (self);
        return;
    }
    node_keys_destroy (&previous);
    zsys_info ("node_sync: keys changed (serial %llu): node key %s, central data key %s",
               (unsigned long long) node_keys_enrolment (self->keys)->serial,
               node_keys_enrolment (self->keys)->node_key.id, self->data_key->id);
    if (s_connect (self))
        zsys_error ("node_sync: cannot connect to '%s'", self->endpoint);
}

//  Lets go of everything the actor holds.
static void
s_teardown (s_sync_t *self)
{
    s_disconnect (self);
    s_ready_clear (self);
    if (self->watch >= 0)
        close (self->watch);
    self->watch = -1;
    node_keys_destroy (&self->keys);
    cp_keyfile_free (&self->session_key);
    node_store_destroy (&self->store);
    zstr_free (&self->metrics_dir);
}

//  Writes the metrics file when it is due (or now, with now).
static void
s_metrics (s_sync_t *self, bool now)
{
    if (!self->metrics_dir || (!now && zclock_mono () < self->metrics_at))
        return;
    node_metrics_write (self->metrics_dir, self->store, self->keys, &self->session);
    self->metrics_at = zclock_mono () + NODE_SYNC_METRICS_MS;
}

//  Tells the caller "PROGRESS" acked head when either moved, for a
//  progress line on its terminal: at most four times a second while the
//  central is behind, and at once when it has caught up (the actor may
//  sleep long after that, and the line must not stay up meanwhile).
static void
s_progress (s_sync_t *self)
{
    int64_t now = zclock_mono ();
    if (!self->progress
    ||  (self->acked == self->progress_acked && self->head == self->progress_head)
    ||  (now < self->progress_at && self->acked < self->head))
        return;
    zsock_send (self->pipe, "s88", "PROGRESS", self->acked, self->head);
    self->progress_acked = self->acked;
    self->progress_head = self->head;
    self->progress_at = now + 250;
}

//  A command of the caller's other than $TERM: a reload's new settings.
static void
s_on_command (s_sync_t *self, const char *command, zmsg_t *msg)
{
    char *value = zmsg_popstr (msg);
    if (streq (command, "VERBOSE") && value)
        self->verbose = streq (value, "1");
    else
    if (streq (command, "METRICS") && value) {
        zstr_free (&self->metrics_dir);
        if (*value)
            self->metrics_dir = strdup (value);
        s_metrics (self, true);
    }
    else
        zsys_warning ("node_sync: unknown command '%s' ignored", command);
    zstr_free (&value);
}

void
node_sync_actor (zsock_t *pipe, void *args)
{
    node_sync_config_t *config = args;
    s_sync_t self = {.pipe = pipe, .verbose = config->verbose, .data = config->data,
                     .hello_pause = S_HELLO_MIN_MS, .reconnect_pause = S_HELLO_MIN_MS,
                     .refused_pause = S_HELLO_MIN_MS,
                     .watch = -1, .window = 1, .progress = config->progress};
    int error = 0;
    self.store = node_store_open (config->data, &error);
    if (self.store && config->central)
        snprintf (self.endpoint, sizeof self.endpoint, "%s", config->central);
    else
    if (self.store
    &&  node_store_setting (self.store, "central", self.endpoint, sizeof self.endpoint)) {
        zsys_error ("node_sync: no central endpoint: give --central or enrol the node");
        error = CP_ENOTENROLLED;
    }
    if (self.store) {
        snprintf (self.municipality, sizeof self.municipality, "%s",
                  node_store_municipality (self.store));
        self.watch = node_store_watch (self.store);
    }
    if (self.store && !error && (error = s_load_keys (&self)))
        zsys_error ("node_sync: %s: the keys: %s%s", config->data, cp_strerror (error),
                    error == CP_ENOTENROLLED
                    ? " (enrol the node: cpsync-node enrol --data DIR --bundle FILE)": "");
    if (self.store && !error && s_connect (&self)) {
        zsys_error ("node_sync: cannot connect to '%s'", self.endpoint);
        error = CP_EUSAGE;
    }
    if (self.store && !error) {
        s_load_log (&self);
        uint64_t downlink = 0;
        if (node_store_downlink_cursor (self.store, &downlink) == 0)
            s_take_effect (&self, downlink);
    }
    node_store_log_t info;
    if (self.store && !error && config->recover && node_store_log_info (self.store, &info) == 0
    &&  ((info.head > 0 && info.recovered == 0) || info.recovery_done)) {
        zsys_error ("node_sync: %s %s: a recovery rebuilds a node set up anew "
                    "(cpsync-node init, enrol, then recover)", config->data,
                    info.recovery_done? "was recovered already": "holds events of its own");
        error = CP_EUSAGE;
    }
    if (!self.store || error) {
        if (!self.store)
            zsys_error ("node_sync: %s: %s", config->data, cp_strerror (error));
        s_teardown (&self);
        zsock_signal (pipe, 1);
        return;
    }
    if (config->metrics_dir && *config->metrics_dir)
        self.metrics_dir = strdup (config->metrics_dir);
    if (config->recover) {
        self.recovering = true;
        self.recover_next = info.recovered? info.recovered: 1;
        zsys_info ("node_sync: %s recovering its archive from the central, from position "
                   "%llu", self.municipality, (unsigned long long) self.recover_next);
    }
    zsys_info ("node_sync: %s shipping to %s (head %llu, acked %llu)", self.municipality,
               self.endpoint, (unsigned long long) self.head, (unsigned long long) self.acked);
    zsock_signal (pipe, 0);

    while (!self.terminated) {
        s_woke_t woke = s_wait (&self);
        if (woke == S_WOKE_PIPE) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg? zmsg_popstr (msg): NULL;
            if (!command || streq (command, "$TERM"))
                self.terminated = true;
            else
                s_on_command (&self, command, msg);
            zstr_free (&command);
            zmsg_destroy (&msg);
        }
        else
        if (woke == S_WOKE_CENTRAL) {
            //  Drain what is there before the timers, so acks keep up.
            for (int count = 0; count < 256 && (zsock_events (self.dealer) & ZMQ_POLLIN); count++)
                s_on_central (&self);
        }
        else
        if (woke == S_WOKE_MONITOR)
            s_on_monitor (&self);
        else
        if (woke == S_WOKE_WATCH)
            s_on_watch (&self);
        else
        if (woke == S_WOKE_TERM)
            self.terminated = true;
        if (zclock_mono () >= self.keys_at)
            s_check_keys (&self);
        s_reconnect (&self);
        s_on_timers (&self);
        s_metrics (&self, false);
        s_progress (&self);
    }
    s_save_acked (&self, true);
    s_metrics (&self, true);
    zsys_info ("node_sync: stopped (head %llu, acked %llu)", (unsigned long long) self.head,
               (unsigned long long) self.acked);
    s_teardown (&self);
}
