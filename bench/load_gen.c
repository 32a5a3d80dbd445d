/*  load_gen: many enrolled nodes at once against a running central.

        load_gen --endpoint ENDPOINT --events N [--seed S] [--from YYYY]
                 [--years Y] [--quiet] DATA...

    Each DATA is a node's data directory as real enrolment left it
    (`cpsync-node init` and `cpsync-node enrol`); load_gen loads its keys
    there (node_keys_load) and speaks for it over a CURVE connection of
    its own, with the project's code for the wire, the batch and the
    envelope: HELLO with a log identity of its own, then BATCHes of up to
    S_BATCH_EVENTS events sealed and signed as node_sync seals them
    (cp_batch_seal under the session key of cp_envelope_node_key), as many
    in flight as WELCOME's window allows, each ACK and WELCOME verified
    against the central data key's signature.

    The events are not stored: each node's log of N events is made as it
    is shipped (load_events), sequences from 1, its chain a keyed BLAKE2b
    folded over every batch's payload (the central only compares chains;
    a node's own definition is node_store's business).  To send a batch
    again after a lost connection, the generator's state at each batch in
    flight is kept (a few hundred bytes), and the log is made again from
    the sequence the new WELCOME expects, checked against the chain the
    central holds there.  So a thousand nodes fit in a few processes.

    At most S_CONNECTING nodes are between connection and WELCOME at once:
    the central cuts an address with many connections that have said
    nothing yet (central_guard: 128, and four processes of 32 reached it),
    and a real fleet does not start as one.

    It prints, every second unless --quiet, the events acknowledged so far
    and the rate since the last line, and at the end one line:

        load_gen: E events of K nodes acknowledged in S s (R events/s), C reconnections

    Exit 0 when every event of every node is acknowledged, 1 when a node
    was refused (a NACK: a benchmark that loses or repeats events is
    wrong, so nothing is retried blindly) or stalled for good, 2 on usage
    errors and keys that do not load.                                      */

#include "load_events.h"
#include "node_keys.h"
#include "cp_batch.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_wire.h"

#include <czmq.h>
#include <sodium.h>

#define S_BATCH_EVENTS 1000     //  events in one batch, as node_sync sends at most
#define S_WINDOW_MAX 64         //  batches in flight, whatever the central offers
#define S_CONNECTING 16         //  nodes between connection and WELCOME at once
#define S_CONNECT_WAIT_MS 1000  //  no TCP connection within this: connect again
#define S_HANDSHAKE_WAIT_MS 15000       //  connected, no handshake within this: again
                                        //  (a busy central's I/O thread is slow at
                                        //  them; given up on, each counts as refused)
#define S_CONNECTS_MAX 300      //  connections refused in a row: give up
#define S_HELLO_WAIT_MS 30000   //  no WELCOME within this: connect again (node_sync's
                                //  longest pause; a HELLO waits behind what the
                                //  central holds of every node's window)
#define S_STALLED_MS 60000      //  batches in flight, nothing heard: connect again
#define S_PING_MS 5000          //  idle this long: a PING, so the central keeps us
#define S_STALLS_MAX 20         //  reconnections of one node without progress: give up
#define S_REPLY_FRAMES 4        //  command, body, key id, signature

//  A batch in flight, and what makes it again.
typedef struct {
    uint64_t first, last;
    uint8_t prev [CP_WIRE_CHAIN_SIZE];  //  the chain before it
    load_events_t gen;                  //  the generator at its first event
} s_flight_t;

typedef struct {
    char data [4096];           //  its data directory
    node_keys_t *keys;
    const cp_enrolment_t *enrolment;    //  borrowed from keys
    const cp_party_key_t *data_key;     //  the central data key batches are sealed to
    uint8_t *session;           //  the envelope key (guarded memory)
    zsock_t *dealer;            //  the connection, while there is one
    zsock_t *monitor;           //  its handshake and disconnection
    bool reached;               //  the TCP connection is up
    bool connected;             //  the handshake succeeded
    int refused;                //  connections without a handshake, in a row
    uint8_t log [CP_WIRE_LOG_SIZE];     //  this run's log identity
    load_events_t gen;          //  the log, at next
    uint64_t total;             //  events in the log
    uint64_t next;              //  next sequence to send
    uint64_t acked;             //  last acknowledged
    uint8_t chain [CP_WIRE_CHAIN_SIZE]; //  the chain at next - 1
    s_flight_t flight [S_WINDOW_MAX];   //  oldest first
    size_t flying;
    uint32_t window;
    bool welcomed;
    bool done;
    int64_t hello_at;           //  when HELLO went, while not welcomed
    int64_t heard_at;           //  the central's last message
    int64_t sent_at;            //  our last message
    int stalls;                 //  reconnections since the last ACK
    int reconnections;
} s_node_t;

typedef struct {
    s_node_t *nodes;
    size_t count;
    const char *endpoint;
    cp_event_t *events;         //  S_BATCH_EVENTS, reused for every batch
    size_t connecting;          //  nodes with HELLO out and no WELCOME
    size_t monitors;            //  made, for their endpoints' names
    uint64_t acked;             //  events acknowledged, all nodes
    int failed;                 //  a node was refused or gave up
} s_gen_t;

static volatile sig_atomic_t s_interrupted;

static void
s_on_signal (int signum)
{
    (void) signum;
    s_interrupted = 1;
}

//  ---------------------------------------------------------------------
//  Connections

static void
s_disconnect (s_gen_t *self, s_node_t *node)
{
    //  Monitoring stops before its reader goes (node_sync.c says why)
    if (node->dealer && node->monitor)
        zmq_socket_monitor (zsock_resolve (node->dealer), NULL, 0);
    zsock_destroy (&node->monitor);
    zsock_destroy (&node->dealer);
    if (node->hello_at && !node->welcomed)
        self->connecting--;
    node->hello_at = 0;
    node->welcomed = false;
    node->reached = false;
    node->connected = false;
}

//  Sends without waiting: a DEALER whose connection failed has no pipe,
//  and a blocking send would wait for ever (the central killed and not
//  yet back).  What cannot be sent is dropped; the connection is given up
//  on by the handshake's or the reply's timeout, and the log is sent again
//  from what the next WELCOME expects.
static void
s_send_msg (s_node_t *node, zmsg_t **msg_p)
{
    if (zmsg_send (msg_p, node->dealer))
        zmsg_destroy (msg_p);
    node->sent_at = zclock_mono ();
}

static void
s_send (s_node_t *node, const char *command, uint8_t *body, size_t size)
{
    assert (body);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, command, strlen (command));
    zmsg_addmem (msg, body, size);
    free (body);
    s_send_msg (node, &msg);
}

//  A fresh CURVE connection with the node's keys to the central's newest
//  transport key, and HELLO on it.
static void
s_connect (s_gen_t *self, s_node_t *node)
{
    s_disconnect (self, node);
    node->dealer = zsock_new (ZMQ_DEALER);
    assert (node->dealer);
    zsock_set_curve_serverkey_bin (node->dealer, node->enrolment->central_transport [0].public_key);
    zsock_set_curve_publickey_bin (node->dealer, node->enrolment->node_transport.public_key);
    zsock_set_curve_secretkey_bin (node->dealer,
                                   node_keys_secrets (node->keys) + CP_SECRETS_TRANSPORT);
    //  A lost connection is made again by us, with HELLO first: libzmq's
    //  own reconnection would send what is queued before it.  So is one
    //  that never came about (the central not up yet): libzmq does not try
    //  again either.
    zsock_set_reconnect_ivl (node->dealer, -1);
    zsock_set_linger (node->dealer, 0);
    zsock_set_sndtimeo (node->dealer, 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://load-gen-%zu", ++self->monitors);
    int rc = zmq_socket_monitor (zsock_resolve (node->dealer), endpoint,
                                 ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                                 | ZMQ_EVENT_DISCONNECTED);
    assert (rc == 0);
    node->monitor = zsock_new_pair (endpoint);
    assert (node->monitor);
    rc = zsock_connect (node->dealer, "%s", self->endpoint);
    assert (rc == 0);

    cp_hello_t hello;
    memset (&hello, 0, sizeof hello);
    hello.version = CP_WIRE_VERSION;
    memcpy (hello.log, node->log, sizeof hello.log);
    hello.head = node->total;
    hello.acked = node->acked;
    snprintf (hello.municipality, sizeof hello.municipality, "%s",
              node->enrolment->municipality);
    snprintf (hello.data_key, sizeof hello.data_key, "%s", node->data_key->id);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    s_send (node, "HELLO", body, size);
    node->hello_at = node->heard_at = zclock_mono ();
    self->connecting++;
}

//  Gives up on a connection and counts it; a node that keeps failing
//  without progress fails the run.
static void
s_reconnect_later (s_gen_t *self, s_node_t *node, const char *why)
{
    s_disconnect (self, node);
    node->reconnections++;
    if (++node->stalls > S_STALLS_MAX) {
        zsys_error ("load_gen: %s: %s, %d times without progress: given up",
                    node->enrolment->municipality, why, S_STALLS_MAX);
        node->done = true;
        self->failed = 1;
    }
    else
        zsys_warning ("load_gen: %s: %s; connecting again", node->enrolment->municipality, why);
}

//  ---------------------------------------------------------------------
//  Batches

//  The chain after payload: a digest keyed by the log identity, over the
//  chain before it and the payload (which names its sequences).
static void
s_chain (const uint8_t *log, const uint8_t *prev, const uint8_t *payload, size_t size,
         uint8_t *chain)
{
    crypto_generichash_blake2b_state state;
    crypto_generichash_blake2b_init (&state, log, CP_WIRE_LOG_SIZE, CP_WIRE_CHAIN_SIZE);
    crypto_generichash_blake2b_update (&state, prev, CP_WIRE_CHAIN_SIZE);
    crypto_generichash_blake2b_update (&state, payload, size);
    crypto_generichash_blake2b_final (&state, chain, CP_WIRE_CHAIN_SIZE);
}

//  Makes, seals and sends the batch from node->next on.
static void
s_ship_one (s_gen_t *self, s_node_t *node)
{
    s_flight_t *flight = &node->flight [node->flying];
    flight->gen = node->gen;
    memcpy (flight->prev, node->chain, CP_WIRE_CHAIN_SIZE);
    size_t count = load_events_next (&node->gen, self->events, S_BATCH_EVENTS);
    assert (count > 0);
    size_t size;
    uint8_t *payload = cp_codec_batch_encode (node->next, self->events, count, &size);
    assert (payload);

    cp_batch_header_t header;
    memset (&header, 0, sizeof header);
    snprintf (header.municipality, sizeof header.municipality, "%s",
              node->enrolment->municipality);
    memcpy (header.log, node->log, CP_WIRE_LOG_SIZE);
    header.first = node->next;
    header.last = node->next + count - 1;
    header.head = node->total;
    memcpy (header.prev, node->chain, CP_WIRE_CHAIN_SIZE);
    s_chain (node->log, node->chain, payload, size, header.chain);
    snprintf (header.node_key, sizeof header.node_key, "%s", node->enrolment->node_key.id);
    snprintf (header.data_key, sizeof header.data_key, "%s", node->data_key->id);
    cp_batch_sealed_t batch;
    int rc = cp_batch_seal (&header, payload, size, node->session,
                            node_keys_secrets (node->keys) + CP_SECRETS_SIGN, &batch);
    assert (rc == 0);
    free (payload);

    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "BATCH");
    zmsg_addmem (msg, batch.header, batch.header_size);
    zmsg_addmem (msg, batch.sealed, batch.sealed_size);
    zmsg_addmem (msg, batch.signature, sizeof batch.signature);
    cp_batch_sealed_free (&batch);
    s_send_msg (node, &msg);

    flight->first = header.first;
    flight->last = header.last;
    node->flying++;
    node->next = header.last + 1;
    memcpy (node->chain, header.chain, CP_WIRE_CHAIN_SIZE);
}

static void
s_ship (s_gen_t *self, s_node_t *node)
{
    while (node->welcomed && node->flying < node->window && node->next <= node->total)
        s_ship_one (self, node);
}

//  ---------------------------------------------------------------------
//  Replies

//  True when the reply is signed by the data key the node named.
static bool
s_signed (s_node_t *node, const char *command, zframe_t *body, zframe_t *key_id,
          zframe_t *signature)
{
    const cp_party_key_t *key = node->data_key;
    if (zframe_size (key_id) != strlen (key->id)
    ||  memcmp (zframe_data (key_id), key->id, strlen (key->id)) != 0)
        return false;
    return cp_envelope_verify_reply (command, node->enrolment->municipality, zframe_data (body),
                                     zframe_size (body), zframe_data (signature),
                                     zframe_size (signature), key->sign_public) == 0;
}

//  WELCOME: the central expects the sequence after what it holds of this
//  log.  A fresh log starts at 1; after a lost connection the log is made
//  again from the batch in flight that starts there.
static void
s_on_welcome (s_gen_t *self, s_node_t *node, const cp_welcome_t *welcome)
{
    if (node->welcomed)
        return;
    self->connecting--;
    node->welcomed = true;
    node->window = welcome->window < S_WINDOW_MAX? welcome->window: S_WINDOW_MAX;
    if (node->window == 0)
        node->window = 1;
    uint64_t expected = welcome->expected;
    if (expected != node->next) {
        size_t index = 0;
        while (index < node->flying && node->flight [index].first != expected)
            index++;
        if (index == node->flying) {
            zsys_error ("load_gen: %s: the central expects %" PRIu64 ", which starts no batch"
                        " in flight (next %" PRIu64 ")", node->enrolment->municipality,
                        expected, node->next);
            node->done = true;
            self->failed = 1;
            return;
        }
        node->gen = node->flight [index].gen;
        memcpy (node->chain, node->flight [index].prev, CP_WIRE_CHAIN_SIZE);
        node->next = expected;
    }
    if (expected > 1 && memcmp (node->chain, welcome->chain, CP_WIRE_CHAIN_SIZE) != 0) {
        zsys_error ("load_gen: %s: the central's chain at %" PRIu64 " is not this log's",
                    node->enrolment->municipality, expected - 1);
        node->done = true;
        self->failed = 1;
        return;
    }
    if (expected - 1 > node->acked) {
        self->acked += expected - 1 - node->acked;
        node->acked = expected - 1;
    }
    node->flying = 0;           //  what was in flight and not applied goes again
    s_ship (self, node);
}

static void
s_on_ack (s_gen_t *self, s_node_t *node, const cp_ack_t *ack)
{
    uint64_t seq = ack->acked;
    node->window = ack->window < S_WINDOW_MAX? ack->window: S_WINDOW_MAX;
    if (seq <= node->acked || seq >= node->next) {
        zsys_warning ("load_gen: %s: ACK %" PRIu64 " out of place (acked %" PRIu64 ")",
                      node->enrolment->municipality, seq, node->acked);
        return;
    }
    size_t done = 0;
    while (done < node->flying && node->flight [done].last <= seq)
        done++;
    memmove (node->flight, node->flight + done, (node->flying - done) * sizeof (s_flight_t));
    node->flying -= done;
    self->acked += seq - node->acked;
    node->acked = seq;
    node->stalls = 0;
    if (node->acked == node->total) {
        node->done = true;
        s_disconnect (self, node);
    }
    else
        s_ship (self, node);
}

static void
s_on_message (s_gen_t *self, s_node_t *node)
{
    zmsg_t *msg = zmsg_recv (node->dealer);
    if (!msg)
        return;
    node->heard_at = zclock_mono ();
    zframe_t *command = zmsg_first (msg);
    int kind = cp_wire_command (zframe_data (command), zframe_size (command));
    //  DOWN, FIGURES and PONG need no answer from a load
    if (kind != CP_CMD_WELCOME && kind != CP_CMD_ACK && kind != CP_CMD_NACK) {
        zmsg_destroy (&msg);
        return;
    }
    const char *name = cp_wire_command_name (kind);
    zframe_t *body = zmsg_next (msg);
    zframe_t *key_id = zmsg_next (msg);
    zframe_t *signature = zmsg_next (msg);
    if (zmsg_size (msg) != S_REPLY_FRAMES || !s_signed (node, name, body, key_id, signature)) {
        zsys_error ("load_gen: %s: a %s not signed by the central's data key",
                    node->enrolment->municipality, name);
        node->done = true;
        self->failed = 1;
        s_disconnect (self, node);
        zmsg_destroy (&msg);
        return;
    }
    const uint8_t *data = zframe_data (body);
    size_t size = zframe_size (body);
    if (kind == CP_CMD_WELCOME) {
        cp_welcome_t welcome;
        if (cp_wire_welcome_decode (data, size, &welcome) == 0)
            s_on_welcome (self, node, &welcome);
    }
    else
    if (kind == CP_CMD_ACK) {
        cp_ack_t ack;
        if (cp_wire_ack_decode (data, size, &ack) == 0)
            s_on_ack (self, node, &ack);
    }
    else {
        cp_reply_t nack = {0, 0};
        int rc = cp_wire_nack_decode (data, size, &nack);
        zsys_error ("load_gen: %s: NACK expecting %" PRIu64 ": %s",
                    node->enrolment->municipality, nack.seq,
                    rc? "(malformed)": cp_strerror (nack.reason));
        node->done = true;
        self->failed = 1;
        s_disconnect (self, node);
    }
    zmsg_destroy (&msg);
}

//  The monitor's event: a handshake done, or the connection lost.
static void
s_on_monitor (s_gen_t *self, s_node_t *node)
{
    zmsg_t *event = zmsg_recv (node->monitor);
    zframe_t *head = event? zmsg_first (event): NULL;
    uint16_t code = 0;
    if (head && zframe_size (head) == 6)
        memcpy (&code, zframe_data (head), sizeof code);
    zmsg_destroy (&event);
    if (code == ZMQ_EVENT_CONNECTED)
        node->reached = true;
    else
    if (code == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        node->connected = true;
        node->refused = 0;
    }
    else
    if (code == ZMQ_EVENT_DISCONNECTED)
        s_reconnect_later (self, node, "connection lost");
}

//  ---------------------------------------------------------------------
//  The run

static int
s_node_load (s_node_t *node, const char *data, uint64_t total, uint64_t seed, int32_t from,
             int32_t days)
{
    snprintf (node->data, sizeof node->data, "%s", data);
    int error = 0;
    node->keys = node_keys_load (data, &error);
    if (!node->keys) {
        fprintf (stderr, "load_gen: keys of %s: %s\n", data, cp_strerror (error));
        return -1;
    }
    node->enrolment = node_keys_enrolment (node->keys);
    node->data_key = &node->enrolment->central_data [0];
    node->session = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (node->session);
    if (cp_envelope_node_key (node->enrolment->node_key.kx_public,
                              node_keys_secrets (node->keys) + CP_SECRETS_KX,
                              node->data_key->kx_public, node->session)) {
        fprintf (stderr, "load_gen: %s: no envelope key\n", data);
        return -1;
    }
    randombytes_buf (node->log, sizeof node->log);
    //  The code and the seed make the log and its ids: another seed, other
    //  events, so a second run for a municipality adds to the first.
    const char *code = node->enrolment->municipality;
    char prefix [sizeof node->gen.prefix];
    if (snprintf (prefix, sizeof prefix, "%s.%" PRIu64, code, seed) >= (int) sizeof prefix) {
        fprintf (stderr, "load_gen: %s: municipality code and seed too long for ids\n", data);
        return -1;
    }
    uint64_t mixed = seed;
    for (const char *c = code; *c; c++)
        mixed = mixed * 1099511628211ULL + (uint8_t) *c;
    load_events_init (&node->gen, prefix, mixed, total, from, days);
    node->total = total;
    node->next = 1;
    return 0;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: load_gen --endpoint ENDPOINT --events N [--seed S] [--from YYYY]"
                     " [--years Y] [--quiet] DATA...\n");
}

int
main (int argc, char *argv [])
{
    const char *endpoint = NULL;
    uint64_t total = 0, seed = 1;
    int from_year = 2015, years = 10;
    bool quiet = false;
    int arg = 1;
    for (; arg < argc && strncmp (argv [arg], "--", 2) == 0; arg++) {
        const char *value = arg + 1 < argc? argv [arg + 1]: NULL;
        if (streq (argv [arg], "--quiet"))
            quiet = true;
        else
        if (streq (argv [arg], "--endpoint") && value)
            endpoint = argv [++arg];
        else
        if (streq (argv [arg], "--events") && value)
            total = strtoull (argv [++arg], NULL, 10);
        else
        if (streq (argv [arg], "--seed") && value)
            seed = strtoull (argv [++arg], NULL, 10);
        else
        if (streq (argv [arg], "--from") && value)
            from_year = atoi (argv [++arg]);
        else
        if (streq (argv [arg], "--years") && value)
            years = atoi (argv [++arg]);
        else {
            fprintf (stderr, "load_gen: unknown or incomplete option '%s'\n", argv [arg]);
            s_usage ();
            return 2;
        }
    }
    if (!endpoint || total == 0 || arg == argc || from_year < 2000 || years < 1
    ||  from_year + years > 2100) {
        s_usage ();
        return 2;
    }
    if (sodium_init () < 0)
        return 2;
    size_t count = (size_t) (argc - arg);
    //  Each node: a DEALER, a monitor and its reader
    zsys_set_max_sockets (count * 3 + 64);
    zsys_init ();
    zsys_set_logident ("load_gen");
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);

    s_gen_t self;
    memset (&self, 0, sizeof self);
    self.endpoint = endpoint;
    self.count = count;
    self.nodes = calloc (count, sizeof (s_node_t));
    self.events = calloc (S_BATCH_EVENTS, sizeof (cp_event_t));
    assert (self.nodes && self.events);
    int32_t from = cp_date_from_civil (from_year, 1, 1);
    int32_t days = cp_date_from_civil (from_year + years, 1, 1) - from;
    for (size_t index = 0; index < count; index++)
        if (s_node_load (&self.nodes [index], argv [arg + (int) index], total, seed, from, days))
            return 2;

    uint64_t goal = total * count;
    int64_t started = zclock_mono (), printed = started;
    uint64_t printed_acked = 0;
    size_t next_connect = 0;
    zmq_pollitem_t *items = calloc (count * 2, sizeof (zmq_pollitem_t));
    s_node_t **owners = calloc (count * 2, sizeof (s_node_t *));
    assert (items && owners);
    size_t done = 0;
    while (!s_interrupted && done < count) {
        int64_t now = zclock_mono ();
        //  Nodes come in while few are between connection and WELCOME.
        while (next_connect < count && self.connecting < S_CONNECTING)
            s_connect (&self, &self.nodes [next_connect++]);
        size_t polled = 0;
        done = 0;
        for (size_t index = 0; index < count; index++) {
            s_node_t *node = &self.nodes [index];
            if (node->done) {
                done++;
                continue;
            }
            if (index >= next_connect)
                continue;
            if (!node->dealer) {
                if (self.connecting < S_CONNECTING)
                    s_connect (&self, node);
                else
                    continue;
            }
            if (!node->connected
            &&  now - node->hello_at > (node->reached? S_HANDSHAKE_WAIT_MS: S_CONNECT_WAIT_MS)) {
                //  Not a stall: the central is not there (yet), or too busy
                s_disconnect (&self, node);
                if (++node->refused > S_CONNECTS_MAX) {
                    zsys_error ("load_gen: %s: no connection to %s in %d tries: given up",
                                node->enrolment->municipality, self.endpoint, S_CONNECTS_MAX);
                    node->done = true;
                    self.failed = 1;
                }
                continue;
            }
            if (!node->welcomed && now - node->hello_at > S_HELLO_WAIT_MS) {
                s_reconnect_later (&self, node, "no WELCOME");
                continue;
            }
            if (node->welcomed && node->flying && now - node->heard_at > S_STALLED_MS) {
                s_reconnect_later (&self, node, "batches in flight and no word");
                continue;
            }
            if (node->welcomed && now - node->sent_at > S_PING_MS) {
                size_t size;
                uint8_t *body = cp_wire_ping_encode (node->total, &size);
                s_send (node, "PING", body, size);
            }
            items [polled] = (zmq_pollitem_t) {zsock_resolve (node->dealer), 0, ZMQ_POLLIN, 0};
            owners [polled++] = node;
            items [polled] = (zmq_pollitem_t) {zsock_resolve (node->monitor), 0, ZMQ_POLLIN, 0};
            owners [polled++] = node;
        }
        if (done == count)
            break;
        if (zmq_poll (items, (int) polled, 100) < 0 && errno != EINTR)
            break;
        for (size_t index = 0; index < polled; index++) {
            s_node_t *node = owners [index];
            if (!(items [index].revents & ZMQ_POLLIN) || !node->dealer)
                continue;
            if (index % 2)
                s_on_monitor (&self, node);
            else
                //  Everything that came, so that a full window refills at once
                while (node->dealer && (zsock_events (node->dealer) & ZMQ_POLLIN))
                    s_on_message (&self, node);
        }
        now = zclock_mono ();
        if (!quiet && now - printed >= 1000) {
            printf ("load_gen: %.0f s, %" PRIu64 " of %" PRIu64 " events acknowledged,"
                    " %.0f events/s\n", (now - started) / 1000.0, self.acked, goal,
                    (self.acked - printed_acked) * 1000.0 / (double) (now - printed));
            fflush (stdout);
            printed = now;
            printed_acked = self.acked;
        }
    }
    double seconds = (zclock_mono () - started) / 1000.0;
    int reconnections = 0;
    for (size_t index = 0; index < count; index++) {
        s_node_t *node = &self.nodes [index];
        reconnections += node->reconnections;
        s_disconnect (&self, node);
        cp_keyfile_free (&node->session);
        node_keys_destroy (&node->keys);
    }
    printf ("load_gen: %" PRIu64 " events of %zu nodes acknowledged in %.1f s (%.0f events/s),"
            " %d reconnections\n", self.acked, count, seconds,
            seconds > 0? self.acked / seconds: 0, reconnections);
    fflush (stdout);
    free (items);
    free (owners);
    free (self.events);
    free (self.nodes);
    if (self.acked != goal || self.failed || s_interrupted) {
        fprintf (stderr, "load_gen: %" PRIu64 " of %" PRIu64 " events acknowledged\n",
                 self.acked, goal);
        return 1;
    }
    return 0;
}
