/*  hostile_peer: the attacker of the hostile-input catalogue (tests/hostile).

        hostile_peer ATTACK DATA ENDPOINT [OTHER_DATA]

    Connects to a running central with the CURVE keys of the node enrolled
    in DATA, says HELLO (a log of its own, not the node's), and then sends
    one kind of hostile input, ATTACK (the table at the end).  It prints
    what came back, one line each, for the test script to judge:

        reply COMMAND SEQ REASON        a reply (REASON a cp_error_t, 0 if none)
        nothing                         no reply within half a second
        cut                             the central closed the connection

    and, unless the attack ends the peer's standing (a revoked key), then
    sends one legitimate batch over a fresh connection and prints
    "legit acked in N ms" (from the connection to the ACK) or "legit
    refused ...".  Exit 0 when it could play its part, 2 when it could not
    (keys that do not load, no WELCOME): the script asserts the rest.

    The batches are made as a node makes them (cp_batch_seal, the session
    key from cp_envelope_node_key), so that a hostile payload gets past the
    signature to the decoder; what is broken is broken on purpose, one
    thing per attack.                                                     */

#include "node_keys.h"
#include "cp_batch.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_enrolment.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_keyfile.h"
#include "cp_wire.h"

#include <czmq.h>
#include <lmdb.h>
#include <signal.h>
#include <sodium.h>

#define S_REPLY_MS 3000         //  a reply that must come
#define S_QUIET_MS 500          //  no reply within this is "nothing"

typedef struct {
    node_keys_t *keys;          //  the node's keys, from DATA
    const cp_enrolment_t *enrolment;    //  borrowed from keys
    const cp_party_key_t *data_key;     //  the central data key sealed to
    uint8_t *session;           //  the batch session key (guarded memory)
    const char *endpoint;
    zsock_t *dealer;            //  the current connection
    zsock_t *monitor;           //  its disconnection
    uint8_t log [CP_WIRE_LOG_SIZE];     //  the peer's own log identity
    uint64_t expected;          //  the central's next sequence for that log
    uint8_t chain [CP_WIRE_CHAIN_SIZE]; //  the log's chain at expected - 1
    int batches;                //  batches made, for unique event ids
    int connections;            //  made so far, for their monitors' names
} s_peer_t;

//  ---------------------------------------------------------------------
//  Connections and replies

static void
s_disconnect (s_peer_t *self)
{
    //  Monitoring stops before its reader goes (node_sync.c says why)
    if (self->dealer && self->monitor)
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
}

//  A new CURVE connection with the given client keys (the node's unless
//  given) to the central's newest transport key.
static void
s_connect_with (s_peer_t *self, const uint8_t *public_key, const uint8_t *secret_key,
                const uint8_t *server_key)
{
    s_disconnect (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_curve_serverkey_bin (self->dealer, server_key);
    zsock_set_curve_publickey_bin (self->dealer, public_key);
    zsock_set_curve_secretkey_bin (self->dealer, secret_key);
    zsock_set_reconnect_ivl (self->dealer, -1);
    zsock_set_sndtimeo (self->dealer, S_REPLY_MS);
    zsock_set_linger (self->dealer, 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://hostile-peer-%d", ++self->connections);
    int rc = zmq_socket_monitor (zsock_resolve (self->dealer), endpoint,
                                 ZMQ_EVENT_DISCONNECTED);
    assert (rc == 0);
    self->monitor = zsock_new_pair (endpoint);
    assert (self->monitor);
    rc = zsock_connect (self->dealer, "%s", self->endpoint);
    assert (rc == 0);
}

static void
s_connect (s_peer_t *self)
{
    s_connect_with (self, self->enrolment->node_transport.public_key,
                    node_keys_secrets (self->keys) + CP_SECRETS_TRANSPORT,
                    self->enrolment->central_transport [0].public_key);
}

//  Sends frames given as (data, size) pairs, ending with NULL.
static void
s_send_frames (s_peer_t *self, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, self);
    const void *data;
    while ((data = va_arg (args, const void *))) {
        size_t size = va_arg (args, size_t);
        zmsg_addmem (msg, data, size);
    }
    va_end (args);
    zmsg_send (&msg, self->dealer);
}

static void
s_send_body (s_peer_t *self, const char *command, uint8_t *body, size_t size)
{
    assert (body);
    s_send_frames (self, command, strlen (command), body, size, NULL);
    free (body);
}

typedef struct {
    int command;                //  a cp_command_t, 0 when nothing came
    uint64_t seq;
    int reason;
    cp_welcome_t welcome;
    bool cut;                   //  the connection was closed instead
} s_reply_t;

//  One reply within msecs, its body decoded (signatures are the node's
//  business, tested elsewhere: here only what the central says counts).
static s_reply_t
s_recv (s_peer_t *self, int msecs)
{
    s_reply_t reply;
    memset (&reply, 0, sizeof reply);
    //  DOWN, FIGURES and PONG may come in between: not what is waited for
    int64_t deadline = zclock_mono () + msecs;
    zpoller_t *poller = zpoller_new (self->dealer, self->monitor, NULL);
    zmsg_t *msg = NULL;
    while (!msg) {
        int64_t left = deadline - zclock_mono ();
        void *which = left > 0? zpoller_wait (poller, (int) left): NULL;
        if (which == self->monitor)
            reply.cut = true;
        if (which != self->dealer)
            break;
        msg = zmsg_recv (self->dealer);
        zframe_t *command = msg? zmsg_first (msg): NULL;
        int kind = command? cp_wire_command (zframe_data (command), zframe_size (command)): 0;
        if (kind != CP_CMD_WELCOME && kind != CP_CMD_ACK && kind != CP_CMD_NACK)
            zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    if (!msg)
        return reply;
    zframe_t *command = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    if (command && body) {
        reply.command = cp_wire_command (zframe_data (command), zframe_size (command));
        const uint8_t *data = zframe_data (body);
        size_t size = zframe_size (body);
        if (reply.command == CP_CMD_WELCOME) {
            if (cp_wire_welcome_decode (data, size, &reply.welcome) == 0)
                reply.seq = reply.welcome.expected;
        }
        else
        if (reply.command == CP_CMD_ACK) {
            cp_ack_t ack;
            if (cp_wire_ack_decode (data, size, &ack) == 0)
                reply.seq = ack.acked;
        }
        else {
            cp_reply_t nack = {0, 0};
            if (cp_wire_nack_decode (data, size, &nack) == 0) {
                reply.seq = nack.seq;
                reply.reason = nack.reason;
            }
        }
    }
    zmsg_destroy (&msg);
    return reply;
}

//  Prints a reply as the script reads it.
static void
s_print (const s_reply_t *reply)
{
    if (reply->cut)
        printf ("cut\n");
    else
    if (!reply->command)
        printf ("nothing\n");
    else
        printf ("reply %s %" PRIu64 " %d\n", cp_wire_command_name (reply->command),
                reply->seq, reply->reason);
    fflush (stdout);
}

//  Receives and prints the replies until quiet (at most count of them).
static void
s_replies (s_peer_t *self, int count)
{
    for (int index = 0; index < count; index++) {
        s_reply_t reply = s_recv (self, index? S_QUIET_MS: S_REPLY_MS);
        if (!reply.command && !reply.cut && index)
            break;
        s_print (&reply);
        if (!reply.command)
            break;
    }
}

static void
s_hello_as (s_peer_t *self, const char *municipality, uint32_t version)
{
    cp_hello_t hello;
    memset (&hello, 0, sizeof hello);
    hello.version = version;
    memcpy (hello.log, self->log, sizeof hello.log);
    hello.head = 1000;
    snprintf (hello.municipality, sizeof hello.municipality, "%s", municipality);
    snprintf (hello.data_key, sizeof hello.data_key, "%s", self->data_key->id);
    size_t size;
    uint8_t *body = cp_wire_hello_encode (&hello, &size);
    s_send_body (self, "HELLO", body, size);
}

//  Connects and is welcomed (a few tries: a key enrolled a moment ago is
//  taken once the central has reloaded its table).  Returns 0 or -1.
static int
s_welcomed (s_peer_t *self)
{
    for (int attempt = 0; attempt < 10; attempt++) {
        s_connect (self);
        s_hello_as (self, self->enrolment->municipality, CP_WIRE_VERSION);
        s_reply_t reply = s_recv (self, 1000);
        if (reply.command == CP_CMD_WELCOME) {
            self->expected = reply.welcome.expected;
            memcpy (self->chain, reply.welcome.chain, sizeof self->chain);
            return 0;
        }
    }
    return -1;
}

//  ---------------------------------------------------------------------
//  Batches

//  count case_opened events from sequence first, with ids of their own.
static uint8_t *
s_payload (s_peer_t *self, uint64_t first, size_t count, size_t *size)
{
    cp_event_t *events = calloc (count, sizeof (cp_event_t));
    assert (events);
    self->batches++;
    for (size_t index = 0; index < count; index++) {
        cp_event_t *event = &events [index];
        event->type = CP_EVENT_CASE_OPENED;
        event->age = 9;
        event->date = cp_date_from_civil (2022, 3, 1 + (int) (index % 28));
        snprintf (event->id, sizeof event->id, "e-h%d-%d-%zu", (int) getpid (),
                  self->batches, index);
        snprintf (event->case_id, sizeof event->case_id, "c-h%d-%d-%zu", (int) getpid (),
                  self->batches, index);
        snprintf (event->codes [0], sizeof event->codes [0], "F");
        snprintf (event->codes [1], sizeof event->codes [1], "majority");
        snprintf (event->codes [2], sizeof event->codes [2], "school");
    }
    uint8_t *payload = cp_codec_batch_encode (first, events, count, size);
    assert (payload);
    free (events);
    return payload;
}

//  A header for events first..last of the peer's log, following its chain.
static cp_batch_header_t
s_header (s_peer_t *self, uint64_t first, uint64_t last)
{
    cp_batch_header_t header;
    memset (&header, 0, sizeof header);
    snprintf (header.municipality, sizeof header.municipality, "%s",
              self->enrolment->municipality);
    memcpy (header.log, self->log, sizeof header.log);
    header.first = first;
    header.last = last;
    header.head = last;
    memcpy (header.prev, self->chain, sizeof header.prev);
    randombytes_buf (header.chain, sizeof header.chain);
    snprintf (header.node_key, sizeof header.node_key, "%s", self->enrolment->node_key.id);
    snprintf (header.data_key, sizeof header.data_key, "%s", self->data_key->id);
    return header;
}

//  Seals payload under header with the node's keys.
static cp_batch_sealed_t
s_seal (s_peer_t *self, cp_batch_header_t *header, const uint8_t *payload, size_t size)
{
    cp_batch_sealed_t batch;
    int rc = cp_batch_seal (header, payload, size, self->session,
                            node_keys_secrets (self->keys) + CP_SECRETS_SIGN, &batch);
    assert (rc == 0);
    return batch;
}

//  A batch of count good events at the expected sequence; moves the peer's
//  chain on as if it were acknowledged.
static cp_batch_sealed_t
s_good (s_peer_t *self, uint64_t first, size_t count)
{
    size_t size;
    uint8_t *payload = s_payload (self, first, count, &size);
    cp_batch_header_t header = s_header (self, first, first + count - 1);
    cp_batch_sealed_t batch = s_seal (self, &header, payload, size);
    free (payload);
    memcpy (self->chain, header.chain, sizeof self->chain);
    return batch;
}

static void
s_send_batch (s_peer_t *self, const cp_batch_sealed_t *batch)
{
    s_send_frames (self, "BATCH", (size_t) 5, batch->header, batch->header_size,
                   batch->sealed, batch->sealed_size, batch->signature,
                   sizeof batch->signature, NULL);
}

//  Seals a hand-made payload (hostile bytes that get past the signature)
//  for events expected..expected+count-1, sends it and prints the reply.
static void
s_send_payload (s_peer_t *self, const uint8_t *payload, size_t size, size_t count)
{
    uint8_t chain [CP_WIRE_CHAIN_SIZE];
    memcpy (chain, self->chain, sizeof chain);
    cp_batch_header_t header = s_header (self, self->expected, self->expected + count - 1);
    cp_batch_sealed_t batch = s_seal (self, &header, payload, size);
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    memcpy (self->chain, chain, sizeof chain);
    s_replies (self, 1);
}

//  ---------------------------------------------------------------------
//  The attacks: wire

//  A BATCH whose frames come as given: count frames, frame index replaced.
static void
s_frames (s_peer_t *self, size_t count, int replaced, const uint8_t *data, size_t size)
{
    uint8_t chain [CP_WIRE_CHAIN_SIZE];
    memcpy (chain, self->chain, sizeof chain);
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    memcpy (self->chain, chain, sizeof chain);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "BATCH");
    const uint8_t *frames [3] = {batch.header, batch.sealed, batch.signature};
    size_t sizes [3] = {batch.header_size, batch.sealed_size, sizeof batch.signature};
    for (size_t index = 0; index < count; index++) {
        if ((int) index == replaced)
            zmsg_addmem (msg, data, size);
        else
            zmsg_addmem (msg, frames [index % 3], sizes [index % 3]);
    }
    zmsg_send (&msg, self->dealer);
    cp_batch_sealed_free (&batch);
    s_replies (self, 1);
}

static void
attack_frames_two (s_peer_t *self)
{
    s_frames (self, 2, -1, NULL, 0);
}

static void
attack_frames_many (s_peer_t *self)
{
    s_frames (self, 9, -1, NULL, 0);
}

static void
attack_frames_none (s_peer_t *self)
{
    s_send_frames (self, "BATCH", (size_t) 5, NULL);
    s_replies (self, 1);
}

static void
attack_header_truncated (s_peer_t *self)
{
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    s_frames (self, 3, 0, batch.header, batch.header_size - 7);
    cp_batch_sealed_free (&batch);
}

static void
attack_header_trailing (s_peer_t *self)
{
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    uint8_t longer [CP_WIRE_BODY_MAX + 1];
    memcpy (longer, batch.header, batch.header_size);
    longer [batch.header_size] = 0xc0;          //  a msgpack nil after the end
    s_frames (self, 3, 0, longer, batch.header_size + 1);
    cp_batch_sealed_free (&batch);
}

static void
attack_header_garbage (s_peer_t *self)
{
    uint8_t garbage [300];
    randombytes_buf (garbage, sizeof garbage);
    garbage [0] = 0xc1;                         //  never used in msgpack
    s_frames (self, 3, 0, garbage, sizeof garbage);
}

static void
attack_header_oversized (s_peer_t *self)
{
    size_t size = CP_WIRE_BODY_MAX * 4;
    uint8_t *big = calloc (1, size);
    assert (big);
    s_frames (self, 3, 0, big, size);
    free (big);
}

//  Five bytes that announce an array of 2^32 - 1 elements.
static const uint8_t s_gigabytes [5] = {0xdd, 0xff, 0xff, 0xff, 0xff};

static void
attack_header_gigabytes (s_peer_t *self)
{
    s_frames (self, 3, 0, s_gigabytes, sizeof s_gigabytes);
}

static void
attack_header_nesting (s_peer_t *self)
{
    uint8_t bomb [1000];
    memset (bomb, 0x91, sizeof bomb);           //  [[[[...
    s_frames (self, 3, 0, bomb, sizeof bomb);
}

static void
attack_header_type (s_peer_t *self)
{
    //  The header's first field (the municipality, a string) as an integer
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    uint8_t copy [CP_WIRE_BODY_MAX];
    memcpy (copy, batch.header, batch.header_size);
    size_t size = batch.header_size;
    //  copy [0] is the array header; copy [1] the string's fixstr header
    assert ((copy [1] & 0xe0) == 0xa0);
    size_t length = copy [1] & 0x1f;
    copy [1] = 0x07;                            //  positive fixint 7
    memmove (copy + 2, copy + 2 + length, size - 2 - length);
    size -= length;
    s_frames (self, 3, 0, copy, size);
    cp_batch_sealed_free (&batch);
}

//  A signature frame over the bound of a body.  (A sealed payload over
//  CP_BATCH_SEALED_MAX cannot come: libzmq cuts a frame over
//  CENTRAL_GUARD_FRAME_MAX, far less, first: frame_over_limit.)
static void
attack_signature_oversized (s_peer_t *self)
{
    uint8_t big [CP_WIRE_BODY_MAX * 2] = {0};
    s_frames (self, 3, 2, big, sizeof big);
}

static void
attack_frame_over_limit (s_peer_t *self)
{
    //  Over ZMQ_MAXMSGSIZE (CENTRAL_GUARD_FRAME_MAX, 512 KiB): libzmq drops
    //  the connection as it reads the frame's size
    size_t size = 512 * 1024 + 1;
    uint8_t *big = calloc (1, size);
    assert (big);
    s_frames (self, 3, 1, big, size);
    free (big);
}

static void
attack_signature_short (s_peer_t *self)
{
    uint8_t signature [10] = {0};
    s_frames (self, 3, 2, signature, sizeof signature);
}

static void
attack_command_unknown (s_peer_t *self)
{
    s_send_frames (self, "EXPLODE", (size_t) 7, "x", (size_t) 1, NULL);
    s_replies (self, 1);
}

static void
attack_command_empty (s_peer_t *self)
{
    s_send_frames (self, "", (size_t) 0, NULL);
    s_replies (self, 1);
}

static void
attack_hello_garbage (s_peer_t *self)
{
    s_connect (self);
    s_send_frames (self, "HELLO", (size_t) 5, s_gigabytes, sizeof s_gigabytes, NULL);
    s_replies (self, 1);
}

static void
attack_hello_version (s_peer_t *self)
{
    s_connect (self);
    s_hello_as (self, self->enrolment->municipality, CP_WIRE_VERSION + 7);
    s_replies (self, 1);
}

static void
attack_batch_before_hello (s_peer_t *self)
{
    s_connect (self);
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    s_replies (self, 1);
}

static void
attack_ping_garbage (s_peer_t *self)
{
    s_send_frames (self, "PING", (size_t) 4, "\xa3" "abc", (size_t) 4, NULL);
    s_replies (self, 1);
}

//  ---------------------------------------------------------------------
//  The attacks: payloads that pass the signature

static void
attack_payload_gigabytes (s_peer_t *self)
{
    s_send_payload (self, s_gigabytes, sizeof s_gigabytes, 1);
}

static void
attack_payload_nesting (s_peer_t *self)
{
    uint8_t bomb [4000];
    memset (bomb, 0x91, sizeof bomb);
    bomb [sizeof bomb - 1] = 0x01;
    s_send_payload (self, bomb, sizeof bomb, 1);
}

static void
attack_payload_type (s_peer_t *self)
{
    //  A good payload whose first sequence (a small integer) is true
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    assert (payload [0] == 0x92 && payload [1] == self->expected && self->expected < 128);
    payload [1] = 0xc3;
    s_send_payload (self, payload, size, 3);
    free (payload);
}

static void
attack_payload_trailing (s_peer_t *self)
{
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    uint8_t *longer = malloc (size + 1);
    assert (longer);
    memcpy (longer, payload, size);
    longer [size] = 0x00;
    s_send_payload (self, longer, size + 1, 3);
    free (payload);
    free (longer);
}

static void
attack_payload_truncated (s_peer_t *self)
{
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    s_send_payload (self, payload, size - 9, 3);
    free (payload);
}

static void
attack_payload_count (s_peer_t *self)
{
    //  Three events where the header names four
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    s_send_payload (self, payload, size, 4);
    free (payload);
}

//  ---------------------------------------------------------------------
//  The attacks: envelopes

//  Sends a good batch with one byte of frame (0 header, 1 sealed, 2
//  signature) flipped at offset (from the end when negative).
static void
s_tampered (s_peer_t *self, int frame, long offset)
{
    uint8_t chain [CP_WIRE_CHAIN_SIZE];
    memcpy (chain, self->chain, sizeof chain);
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    memcpy (self->chain, chain, sizeof chain);
    uint8_t *data = frame == 0? batch.header: frame == 1? batch.sealed: batch.signature;
    size_t size = frame == 0? batch.header_size: frame == 1? batch.sealed_size
                                                            : sizeof batch.signature;
    data [offset < 0? (long) size + offset: offset] ^= 0x01;
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    s_replies (self, 1);
}

static void
attack_tamper_payload (s_peer_t *self)
{
    s_tampered (self, 1, 40);
}

static void
attack_tamper_tag (s_peer_t *self)
{
    s_tampered (self, 1, -1);
}

static void
attack_tamper_signature (s_peer_t *self)
{
    s_tampered (self, 2, 5);
}

static void
attack_tamper_header (s_peer_t *self)
{
    //  The last byte of the header is the nonce's: still decodes, no longer
    //  what was signed and sealed
    s_tampered (self, 0, -1);
}

//  A good batch signed by a key of no one (the header still names the
//  node's key).
static void
attack_wrong_signer (s_peer_t *self)
{
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    cp_batch_header_t header = s_header (self, self->expected, self->expected + 2);
    uint8_t public_key [crypto_sign_PUBLICKEYBYTES], secret [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (public_key, secret);
    cp_batch_sealed_t batch;
    int rc = cp_batch_seal (&header, payload, size, self->session, secret, &batch);
    assert (rc == 0);
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    free (payload);
    sodium_memzero (secret, sizeof secret);
    s_replies (self, 1);
}

//  A good batch sealed under a session key of a key exchange with a key
//  that is not the central's.
static void
attack_wrong_seal (s_peer_t *self)
{
    uint8_t public_key [crypto_kx_PUBLICKEYBYTES], secret [crypto_kx_SECRETKEYBYTES];
    crypto_kx_keypair (public_key, secret);
    uint8_t *session = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (session);
    int rc = cp_envelope_node_key (self->enrolment->node_key.kx_public,
                                   node_keys_secrets (self->keys) + CP_SECRETS_KX, public_key,
                                   session);
    assert (rc == 0);
    uint8_t *own = self->session;
    self->session = session;
    uint8_t chain [CP_WIRE_CHAIN_SIZE];
    memcpy (chain, self->chain, sizeof chain);
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    memcpy (self->chain, chain, sizeof chain);
    self->session = own;
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    s_replies (self, 1);
    cp_keyfile_free (&session);
    sodium_memzero (secret, sizeof secret);
}

//  The node key of another municipality (OTHER_DATA's), named in a header
//  of this one's and signing it.
static node_keys_t *s_other;        //  set from OTHER_DATA in main

static void
attack_other_node_key (s_peer_t *self)
{
    const cp_enrolment_t *other = node_keys_enrolment (s_other);
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    cp_batch_header_t header = s_header (self, self->expected, self->expected + 2);
    snprintf (header.node_key, sizeof header.node_key, "%s", other->node_key.id);
    uint8_t *session = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (session);
    int rc = cp_envelope_node_key (other->node_key.kx_public,
                                   node_keys_secrets (s_other) + CP_SECRETS_KX,
                                   self->data_key->kx_public, session);
    assert (rc == 0);
    cp_batch_sealed_t batch;
    rc = cp_batch_seal (&header, payload, size, session,
                        node_keys_secrets (s_other) + CP_SECRETS_SIGN, &batch);
    assert (rc == 0);
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    cp_keyfile_free (&session);
    free (payload);
    s_replies (self, 1);
}

//  A header naming OTHER_DATA's municipality, on this node's connection.
static void
attack_impersonate_batch (s_peer_t *self)
{
    const cp_enrolment_t *other = node_keys_enrolment (s_other);
    size_t size;
    uint8_t *payload = s_payload (self, self->expected, 3, &size);
    cp_batch_header_t header = s_header (self, self->expected, self->expected + 2);
    snprintf (header.municipality, sizeof header.municipality, "%s", other->municipality);
    cp_batch_sealed_t batch = s_seal (self, &header, payload, size);
    s_send_batch (self, &batch);
    cp_batch_sealed_free (&batch);
    free (payload);
    s_replies (self, 1);
}

//  A HELLO naming OTHER_DATA's municipality.
static void
attack_impersonate_hello (s_peer_t *self)
{
    s_connect (self);
    s_hello_as (self, node_keys_enrolment (s_other)->municipality, CP_WIRE_VERSION);
    s_replies (self, 1);
}

//  The same batch twice: acknowledged twice, applied once.
static void
attack_replay (s_peer_t *self)
{
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    s_send_batch (self, &batch);
    s_replies (self, 1);
    self->expected += 3;
    s_send_batch (self, &batch);
    s_replies (self, 1);
    cp_batch_sealed_free (&batch);
}

//  The second batch before the first: a gap, then both in order.
static void
attack_reorder (s_peer_t *self)
{
    uint64_t first = self->expected;
    cp_batch_sealed_t one = s_good (self, first, 3);
    cp_batch_sealed_t two = s_good (self, first + 3, 3);
    s_send_batch (self, &two);
    s_replies (self, 1);
    s_send_batch (self, &one);
    s_send_batch (self, &two);
    s_replies (self, 2);
    self->expected += 6;
    cp_batch_sealed_free (&one);
    cp_batch_sealed_free (&two);
}

//  A batch acknowledged, kept, and sent again on a new connection once the
//  script has rotated the node's key (it waits for DATA/../rotated).
static const char *s_signal_dir;

static void
attack_replay_rotated (s_peer_t *self)
{
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    s_send_batch (self, &batch);
    s_replies (self, 1);
    printf ("sent\n");
    fflush (stdout);
    char path [4096];
    snprintf (path, sizeof path, "%s/rotated", s_signal_dir);
    for (int waited = 0; waited < 20000 && !zsys_file_exists (path); waited += 20)
        zclock_sleep (20);
    zclock_sleep (600);                         //  the central's key table reload
    s_connect (self);
    s_hello_as (self, self->enrolment->municipality, CP_WIRE_VERSION);
    s_replies (self, 1);
    s_send_batch (self, &batch);
    s_replies (self, 1);
    cp_batch_sealed_free (&batch);
}

//  A session held open while the script revokes or rotates the key (it
//  waits for DATA/../rotated), then a batch on it.
static void
attack_midflight (s_peer_t *self)
{
    printf ("sent\n");
    fflush (stdout);
    char path [4096];
    snprintf (path, sizeof path, "%s/rotated", s_signal_dir);
    for (int waited = 0; waited < 20000 && !zsys_file_exists (path); waited += 20)
        zclock_sleep (20);
    zclock_sleep (600);
    cp_batch_sealed_t batch = s_good (self, self->expected, 3);
    s_send_batch (self, &batch);
    s_replies (self, 1);
    self->expected += 3;
    cp_batch_sealed_free (&batch);
}

//  A connection with CURVE keys nobody enrolled.
static void
attack_unknown_key (s_peer_t *self)
{
    uint8_t public_key [32], secret [32];
    crypto_box_keypair (public_key, secret);
    s_connect_with (self, public_key, secret, self->enrolment->central_transport [0].public_key);
    s_hello_as (self, self->enrolment->municipality, CP_WIRE_VERSION);
    s_replies (self, 1);
    sodium_memzero (secret, sizeof secret);
}

//  The node's keys against a server key that is not the central's.
static void
attack_wrong_server (s_peer_t *self)
{
    uint8_t public_key [32], secret [32];
    crypto_box_keypair (public_key, secret);
    s_connect_with (self, self->enrolment->node_transport.public_key,
                    node_keys_secrets (self->keys) + CP_SECRETS_TRANSPORT, public_key);
    s_hello_as (self, self->enrolment->municipality, CP_WIRE_VERSION);
    s_replies (self, 1);
    sodium_memzero (secret, sizeof secret);
}

//  The node's keys, which the script has revoked or expired: no session.
static void
attack_refused (s_peer_t *self)
{
    s_connect (self);
    s_hello_as (self, self->enrolment->municipality, CP_WIRE_VERSION);
    s_replies (self, 1);
}

//  Nothing hostile: only the legitimate batch (another node's keys, after
//  an attack that left the attacker's keys refused).
static void
attack_none (s_peer_t *self)
{
    (void) self;
}

//  ---------------------------------------------------------------------

typedef struct {
    const char *name;
    void (*attack) (s_peer_t *self);
    bool welcomed;              //  HELLO and WELCOME first
    bool legit;                 //  a legitimate batch of the node's after
} s_attack_t;

static const s_attack_t s_attacks [] = {
    {"frames_two", attack_frames_two, true, true},
    {"frames_many", attack_frames_many, true, true},
    {"frames_none", attack_frames_none, true, true},
    {"header_truncated", attack_header_truncated, true, true},
    {"header_trailing", attack_header_trailing, true, true},
    {"header_garbage", attack_header_garbage, true, true},
    {"header_oversized", attack_header_oversized, true, true},
    {"header_gigabytes", attack_header_gigabytes, true, true},
    {"header_nesting", attack_header_nesting, true, true},
    {"header_type", attack_header_type, true, true},
    {"signature_oversized", attack_signature_oversized, true, true},
    {"frame_over_limit", attack_frame_over_limit, true, true},
    {"signature_short", attack_signature_short, true, true},
    {"command_unknown", attack_command_unknown, true, true},
    {"command_empty", attack_command_empty, true, true},
    {"hello_garbage", attack_hello_garbage, false, true},
    {"hello_version", attack_hello_version, false, true},
    {"batch_before_hello", attack_batch_before_hello, false, true},
    {"ping_garbage", attack_ping_garbage, true, true},
    {"payload_gigabytes", attack_payload_gigabytes, true, true},
    {"payload_nesting", attack_payload_nesting, true, true},
    {"payload_type", attack_payload_type, true, true},
    {"payload_trailing", attack_payload_trailing, true, true},
    {"payload_truncated", attack_payload_truncated, true, true},
    {"payload_count", attack_payload_count, true, true},
    {"tamper_payload", attack_tamper_payload, true, true},
    {"tamper_tag", attack_tamper_tag, true, true},
    {"tamper_signature", attack_tamper_signature, true, true},
    {"tamper_header", attack_tamper_header, true, true},
    {"wrong_signer", attack_wrong_signer, true, true},
    {"wrong_seal", attack_wrong_seal, true, true},
    {"other_node_key", attack_other_node_key, true, true},
    {"impersonate_batch", attack_impersonate_batch, true, true},
    {"impersonate_hello", attack_impersonate_hello, false, true},
    {"replay", attack_replay, true, true},
    {"reorder", attack_reorder, true, true},
    {"replay_rotated", attack_replay_rotated, true, false},
    {"midflight", attack_midflight, true, false},
    {"unknown_key", attack_unknown_key, false, true},
    {"wrong_server", attack_wrong_server, false, true},
    {"refused", attack_refused, false, false},
    {"legit", attack_none, false, true},
};

//  ---------------------------------------------------------------------
//  Stores: a reader that will be killed holding its slot, and a look at
//  the reader table.  Both open the environment with LMDB itself, not
//  cp_lmdb_open, so that they change nothing of what they look at.

static MDB_env *
s_env (const char *dir)
{
    MDB_env *env;
    if (mdb_env_create (&env)
    ||  mdb_env_set_maxdbs (env, 64)
    ||  mdb_env_set_maxreaders (env, 126)
    ||  mdb_env_set_mapsize (env, (size_t) 1 << 34)
    ||  mdb_env_open (env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) {
        fprintf (stderr, "hostile_peer: cannot open %s\n", dir);
        exit (2);
    }
    return env;
}

//  reader STORE: holds a read transaction until killed.
static int
s_reader (const char *dir)
{
    MDB_env *env = s_env (dir);
    MDB_txn *txn;
    if (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn))
        return 2;
    printf ("holding\n");
    fflush (stdout);
    while (true)
        pause ();
}

static int
s_count_dead (const char *line, void *ctx)
{
    long pid = 0;
    if (sscanf (line, " %ld", &pid) == 1 && pid > 0 && kill ((pid_t) pid, 0) && errno == ESRCH)
        (*(int *) ctx)++;
    return 0;
}

//  readers STORE: prints "dead N", the reader slots held by processes gone.
static int
s_readers (const char *dir)
{
    MDB_env *env = s_env (dir);
    int dead = 0;
    mdb_reader_list (env, s_count_dead, &dead);
    printf ("dead %d\n", dead);
    mdb_env_close (env);
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc == 3 && streq (argv [1], "reader"))
        return s_reader (argv [2]);
    if (argc == 3 && streq (argv [1], "readers"))
        return s_readers (argv [2]);
    if (argc < 4) {
        fprintf (stderr, "usage: hostile_peer ATTACK DATA ENDPOINT [OTHER_DATA]\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    if (sodium_init () < 0)
        return 2;
    const s_attack_t *attack = NULL;
    for (size_t index = 0; index < sizeof s_attacks / sizeof s_attacks [0]; index++)
        if (streq (s_attacks [index].name, argv [1]))
            attack = &s_attacks [index];
    if (!attack) {
        fprintf (stderr, "hostile_peer: no attack '%s'\n", argv [1]);
        return 2;
    }
    s_peer_t self;
    memset (&self, 0, sizeof self);
    self.endpoint = argv [3];
    memset (self.log, 0x5a, sizeof self.log);
    int error = 0;
    self.keys = node_keys_load (argv [2], &error);
    if (!self.keys) {
        fprintf (stderr, "hostile_peer: keys of %s: %s\n", argv [2], cp_strerror (error));
        return 2;
    }
    char signals [4096];
    snprintf (signals, sizeof signals, "%s/..", argv [2]);
    s_signal_dir = signals;
    if (argc > 4) {
        s_other = node_keys_load (argv [4], &error);
        if (!s_other) {
            fprintf (stderr, "hostile_peer: keys of %s: %s\n", argv [4], cp_strerror (error));
            return 2;
        }
    }
    self.enrolment = node_keys_enrolment (self.keys);
    self.data_key = &self.enrolment->central_data [0];
    self.session = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (self.session);
    int rc = cp_envelope_node_key (self.enrolment->node_key.kx_public,
                                   node_keys_secrets (self.keys) + CP_SECRETS_KX,
                                   self.data_key->kx_public, self.session);
    assert (rc == 0);
    self.expected = 1;
    if (attack->welcomed && s_welcomed (&self)) {
        fprintf (stderr, "hostile_peer: no WELCOME from %s\n", self.endpoint);
        return 2;
    }
    attack->attack (&self);

    int status = 0;
    if (attack->legit) {
        //  A fresh connection, HELLO, and a batch at the sequence expected
        int64_t started = zclock_mono ();
        if (s_welcomed (&self)) {
            printf ("legit refused: no WELCOME\n");
            status = 0;
        }
        else {
            cp_batch_sealed_t batch = s_good (&self, self.expected, 5);
            s_send_batch (&self, &batch);
            cp_batch_sealed_free (&batch);
            s_reply_t reply = s_recv (&self, S_REPLY_MS);
            if (reply.command == CP_CMD_ACK && reply.seq == self.expected + 4)
                printf ("legit acked in %" PRId64 " ms\n", zclock_mono () - started);
            else {
                printf ("legit refused: ");
                s_print (&reply);
            }
        }
    }
    fflush (stdout);
    s_disconnect (&self);
    cp_keyfile_free (&self.session);
    node_keys_destroy (&s_other);
    node_keys_destroy (&self.keys);
    return status;
}
