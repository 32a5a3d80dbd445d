/*  node_sync: HELLO, batches under a credit window, acknowledgements,
    session loss and backoff.  See node_sync.h.                              */

#include "node_sync.h"
#include "node_store.h"
#include "cp_codec.h"
#include "cp_error.h"
#include "cp_wire.h"

#define S_BATCH_EVENTS 1000             //  events in one batch at most
#define S_BATCH_BYTES (256 * 1024)      //  and about this many bytes
#define S_WINDOW_MAX 64                 //  batches in flight, whatever the central offers
#define S_HEAD_POLL_MS 20               //  how often new commits are looked for (a read txn: cheap)
#define S_PING_MS 2000                  //  idle keep-alive, carries the head
#define S_SILENCE_MS 8000               //  no word from the central: session lost
#define S_HELLO_MIN_MS 1000             //  first pause before HELLO again
#define S_CONNECT_POLL_MS 50            //  while not connected, how often to try
#define S_HELLO_MAX_MS 30000            //  longest pause
#define S_ACKED_SAVE_MS 200             //  the cursor is saved at most this often

typedef struct {
    zsock_t *pipe;              //  to the caller
    zsock_t *dealer;            //  to the central
    zpoller_t *poller;
    node_store_t *store;
    bool verbose;
    bool terminated;
    char municipality [CP_ID_MAX + 1];
    //  Session
    bool welcomed;              //  WELCOME received for the current HELLO
    uint32_t window;            //  batches the central lets us have in flight
    uint64_t head;              //  last committed sequence, as last read
    uint64_t acked;             //  last acknowledged sequence
    uint64_t acked_saved;       //  what the store holds
    uint64_t next;              //  next sequence to ship
    uint64_t in_flight [S_WINDOW_MAX];  //  last sequence of each batch in flight
    size_t in_flight_count;
    //  Timers (zclock_mono milliseconds)
    int64_t heard_at;           //  last message from the central
    int64_t hello_at;           //  when to say HELLO next (when not welcomed)
    int64_t hello_pause;        //  current backoff
    int64_t ping_at;
    int64_t head_at;
    int64_t save_at;
} s_sync_t;

//  =====================================================================
//  Sending

//  Sends command + body (+ payload and signature for BATCH) without
//  blocking.  Returns 0, or -1 when the central is not reachable now.
static int
s_send (s_sync_t *self, int command, uint8_t *body, size_t body_size,
        uint8_t *payload, size_t payload_size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, cp_wire_command_name (command));
    zmsg_addmem (msg, body, body_size);
    if (command == CP_CMD_BATCH) {
        zmsg_addmem (msg, payload, payload_size);
        zmsg_addmem (msg, NULL, 0);         //  signature: the issue "Security"
    }
    free (body);
    //  zmsg_send would block while the central is away; send frame by frame.
    void *handle = zsock_resolve (self->dealer);
    size_t frames = zmsg_size (msg);
    int rc = 0;
    for (size_t index = 0; index < frames && rc == 0; index++) {
        zframe_t *frame = zmsg_pop (msg);
        int flags = ZMQ_DONTWAIT | (index + 1 < frames? ZMQ_SNDMORE: 0);
        if (zmq_send (handle, zframe_data (frame), zframe_size (frame), flags) < 0)
            rc = -1;
        zframe_destroy (&frame);
    }
    zmsg_destroy (&msg);
    //  A multipart message is queued whole or not at all once the first frame went.
    return rc;
}

static void
s_hello (s_sync_t *self)
{
    cp_hello_t hello = {.version = CP_WIRE_VERSION, .head = self->head,
                        .acked = self->acked, .downlink = 0};
    strcpy (hello.municipality, self->municipality);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    self->welcomed = false;
    self->in_flight_count = 0;
    if (s_send (self, CP_CMD_HELLO, body, size, NULL, 0)) {
        //  Not connected (yet): try again soon; the pause is for HELLOs
        //  the central received and did not answer.
        self->hello_at = zclock_mono () + S_CONNECT_POLL_MS;
        return;
    }
    if (self->verbose)
        zsys_debug ("node_sync: HELLO head=%llu acked=%llu",
                    (unsigned long long) self->head, (unsigned long long) self->acked);
    self->hello_at = zclock_mono () + self->hello_pause;
    self->hello_pause = self->hello_pause * 2 > S_HELLO_MAX_MS? S_HELLO_MAX_MS
                                                             : self->hello_pause * 2;
}

//  Ships batches while the window has room and the log has events.
static void
s_ship (s_sync_t *self)
{
    while (self->welcomed && self->in_flight_count < self->window && self->next <= self->head) {
        uint8_t *payload;
        size_t size;
        uint64_t last;
        int rc = node_store_read_batch (self->store, self->next, S_BATCH_EVENTS, S_BATCH_BYTES,
                                        &payload, &size, &last);
        if (rc || !payload) {
            if (rc)
                zsys_error ("node_sync: reading the log at %llu: %s",
                            (unsigned long long) self->next, cp_strerror (rc));
            return;
        }
        cp_batch_header_t header = {.first = self->next, .last = last, .head = self->head};
        strcpy (header.municipality, self->municipality);
        strcpy (header.node_key, "none");
        strcpy (header.data_key, "none");
        size_t header_size;
        uint8_t *body = cp_wire_batch_header_encode (&header, &header_size);
        rc = s_send (self, CP_CMD_BATCH, body, header_size, payload, size);
        free (payload);
        if (rc) {
            //  Not reachable: the silence timer will start a new session.
            return;
        }
        if (self->verbose)
            zsys_debug ("node_sync: BATCH %llu-%llu", (unsigned long long) self->next,
                        (unsigned long long) last);
        self->in_flight [self->in_flight_count++] = last;
        self->next = last + 1;
    }
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

static void
s_on_welcome (s_sync_t *self, zframe_t *body)
{
    cp_welcome_t welcome;
    int rc = cp_wire_welcome_decode (zframe_data (body), zframe_size (body), &welcome);
    if (rc) {
        zsys_warning ("node_sync: bad WELCOME: %s", cp_strerror (rc));
        return;
    }
    if (welcome.expected - 1 > self->head) {
        //  The central holds events this node does not: a restored or
        //  replaced store.  Shipping would overwrite nothing, so refuse loudly.
        zsys_error ("node_sync: the central expects sequence %llu but this node's head is %llu;"
                    " the store was replaced or restored from an old copy",
                    (unsigned long long) welcome.expected, (unsigned long long) self->head);
        return;
    }
    self->welcomed = true;
    self->hello_pause = S_HELLO_MIN_MS;
    self->window = welcome.window < S_WINDOW_MAX? welcome.window: S_WINDOW_MAX;
    self->next = welcome.expected;
    self->in_flight_count = 0;
    if (welcome.expected - 1 > self->acked)
        self->acked = welcome.expected - 1;
    zsys_info ("node_sync: connected; central expects %llu, head %llu",
               (unsigned long long) welcome.expected, (unsigned long long) self->head);
}

static void
s_on_ack (s_sync_t *self, zframe_t *body)
{
    uint64_t seq;
    int rc = cp_wire_ack_decode (zframe_data (body), zframe_size (body), &seq);
    if (rc || seq > self->head) {
        zsys_warning ("node_sync: bad ACK: %s", rc? cp_strerror (rc): "beyond the head");
        return;
    }
    if (seq > self->acked)
        self->acked = seq;
    //  Batches are acknowledged in order: drop those now covered.
    size_t keep = 0;
    for (size_t index = 0; index < self->in_flight_count; index++)
        if (self->in_flight [index] > seq)
            self->in_flight [keep++] = self->in_flight [index];
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
    if (nack.reason == CP_EGAP && nack.seq >= 1 && nack.seq - 1 <= self->head) {
        zsys_info ("node_sync: central expects %llu; shipping from there",
                   (unsigned long long) nack.seq);
        self->next = nack.seq;
        self->in_flight_count = 0;
        if (nack.seq - 1 > self->acked)
            self->acked = nack.seq - 1;
        return;
    }
    //  Anything else (the central restarted and lost our session, or will
    //  not take us): start a new session after the current pause, which
    //  grows with every HELLO that does not lead to a WELCOME.
    zsys_warning ("node_sync: central refused: %s; saying HELLO again", cp_strerror (nack.reason));
    self->welcomed = false;
    self->in_flight_count = 0;
    self->hello_at = zclock_mono () + self->hello_pause;
}

static void
s_on_central (s_sync_t *self)
{
    zmsg_t *msg = zmsg_recv (self->dealer);
    if (!msg)
        return;
    self->heard_at = zclock_mono ();
    zframe_t *command = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    int which = command? cp_wire_command (zframe_data (command), zframe_size (command)): 0;
    if (!body || zmsg_size (msg) != 2)
        which = 0;
    switch (which) {
        case CP_CMD_WELCOME: s_on_welcome (self, body); break;
        case CP_CMD_ACK:     s_on_ack (self, body); break;
        case CP_CMD_NACK:    s_on_nack (self, body); break;
        case CP_CMD_PONG:    break;
        default:
            zsys_warning ("node_sync: unexpected message from the central (%s)",
                          cp_strerror (CP_EPROTOCOL));
    }
    zmsg_destroy (&msg);
}

//  =====================================================================
//  The actor

static void
s_on_timers (s_sync_t *self)
{
    int64_t now = zclock_mono ();
    if (now >= self->head_at) {
        uint64_t head, acked, cases;
        if (node_store_counts (self->store, &head, &acked, &cases) == 0)
            self->head = head;
        self->head_at = now + S_HEAD_POLL_MS;
    }
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
    if (self->welcomed && now >= self->ping_at) {
        size_t size;
        uint8_t *body = cp_wire_ping_encode (self->head, &size);
        s_send (self, CP_CMD_PING, body, size, NULL, 0);
        self->ping_at = now + S_PING_MS;
    }
    s_ship (self);
    s_save_acked (self, false);
}

static zsock_t *
s_connect (const char *endpoint)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer)
        return NULL;
    zsock_set_immediate (dealer, 1);        //  queue nothing for a central not there
    zsock_set_linger (dealer, 0);
    zsock_set_sndhwm (dealer, 2 * S_WINDOW_MAX + 16);
    zsock_set_reconnect_ivl (dealer, 100);
    zsock_set_reconnect_ivl_max (dealer, 10000);
    zsock_set_heartbeat_ivl (dealer, 2000);
    zsock_set_heartbeat_timeout (dealer, 6000);
    if (zsock_connect (dealer, "%s", endpoint)) {
        zsock_destroy (&dealer);
        return NULL;
    }
    return dealer;
}

void
node_sync_actor (zsock_t *pipe, void *args)
{
    node_sync_config_t *config = args;
    s_sync_t self = {.pipe = pipe, .verbose = config->verbose,
                     .hello_pause = S_HELLO_MIN_MS, .window = 1};
    int error = 0;
    char endpoint [256] = "";
    self.store = node_store_open (config->data, &error);
    if (self.store && config->central)
        snprintf (endpoint, sizeof endpoint, "%s", config->central);
    else
    if (self.store && node_store_setting (self.store, "central", endpoint, sizeof endpoint))
        zsys_error ("node_sync: no central endpoint: give --central or enrol the node");
    if (self.store && *endpoint)
        self.dealer = s_connect (endpoint);
    if (!self.store || !self.dealer) {
        if (!self.store)
            zsys_error ("node_sync: %s: %s", config->data, cp_strerror (error));
        else
        if (*endpoint)
            zsys_error ("node_sync: cannot connect to '%s'", endpoint);
        node_store_destroy (&self.store);
        zsock_signal (pipe, 1);
        return;
    }
    snprintf (self.municipality, sizeof self.municipality, "%s",
              node_store_municipality (self.store));
    uint64_t cases;
    node_store_counts (self.store, &self.head, &self.acked, &cases);
    self.acked_saved = self.acked;
    self.poller = zpoller_new (pipe, self.dealer, NULL);
    zpoller_set_nonstop (self.poller, true);    //  only $TERM stops us, not a signal
    zsys_info ("node_sync: %s shipping to %s (head %llu, acked %llu)", self.municipality,
               endpoint, (unsigned long long) self.head, (unsigned long long) self.acked);
    zsock_signal (pipe, 0);

    while (!self.terminated) {
        void *which = zpoller_wait (self.poller, S_HEAD_POLL_MS);
        if (which == pipe) {
            zmsg_t *msg = zmsg_recv (pipe);
            char *command = msg? zmsg_popstr (msg): NULL;
            if (!command || streq (command, "$TERM"))
                self.terminated = true;
            zstr_free (&command);
            zmsg_destroy (&msg);
        }
        else
        if (which == self.dealer) {
            //  Drain what is there before the timers, so acks keep up.
            for (int count = 0; count < 256 && (zsock_events (self.dealer) & ZMQ_POLLIN); count++)
                s_on_central (&self);
        }
        else
        if (zpoller_terminated (self.poller))
            self.terminated = true;
        s_on_timers (&self);
    }
    s_save_acked (&self, true);
    zsys_info ("node_sync: stopped (head %llu, acked %llu)", (unsigned long long) self.head,
               (unsigned long long) self.acked);
    zpoller_destroy (&self.poller);
    zsock_destroy (&self.dealer);
    node_store_destroy (&self.store);
}
