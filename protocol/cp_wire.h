/*  cp_wire: the messages between a node and the central.

    A message is ZeroMQ multipart: a command frame (its name in ASCII), then
    a msgpack body, then for BATCH and RECOVERED the payload and signature
    frames.  ZeroMQ does the framing; this module only encodes and decodes
    bodies, each an array of fixed shape, checked with cp_codec_prescan's
    limits before msgpack-c unpacks it.

        HELLO     node → central  [version, municipality, log, head, acked,
                                   downlink, data_key]
        WELCOME   central → node  [expected, chain, catalogue, window]
        BATCH     node → central  [municipality, log, first, last, head, prev,
                                   chain, node_key, data_key, nonce]
                                  + payload + signature
        ACK       central → node  [acked, window]
        NACK      central → node  [expected, reason]
        PING      node → central  [head]
        PONG      central → node  []
        RECOVER   node → central  [from, count, node_key, data_key]
        RECOVERED central → node  [municipality, position, next, end,
                                   node_key, data_key, nonce]
                                  + payload + signature
        DOWN      central → node  [prev, entry]
        DOWNACK   node → central  [cursor, code]
        FIGURES   central → node  [as_of, [[month, digest], ...]]
        FIGREQ    node → central  [as_of, [month, ...]]
        FIGROWS   central → node  [as_of, [[month, row], ...]]

    Logs.  A node's uplink log has an identity (log: 16 random bytes, made
    when the store is set up and made anew when the node finds that its log
    is not the one the central holds under that identity) and a chain: the
    chain at sequence s is a keyed digest that the node folds over every
    event up to s (node_store.c has its definition), so two copies of one
    log that took different events after a point have different chains
    from there on.  WELCOME names the chain the central holds at expected -
    1; a BATCH names the chain before its first event (prev) and after its
    last (chain).  The central only stores and compares chains, it never
    computes one.

    The BATCH header carries the envelope (cp_envelope): the node's key id,
    the central's data key id and the nonce; it is the associated data of
    the sealed payload, and the signature covers header and payload.

    WELCOME grants a window, the batches the node may have in flight; each
    ACK says the window in force from then on, so that the central can
    narrow it as more nodes connect and widen it as they leave.

    WELCOME, ACK and NACK change what a node believes the central holds,
    so the central signs them (cp_envelope_sign_reply) with the data key
    the node named (HELLO's data_key, the BATCH header's): after the body
    come two frames, that key's id and the signature.  PING and PONG change
    nothing and are not signed.

    RECOVER asks for a municipality's archive from position from on, at
    most count batches; each RECOVERED carries one archived batch's events
    (a cp_codec batch) sealed to the node key named and signed with the
    central data key named (cp_envelope, the RECOVERED purpose), with next,
    the position after it, and end, the archive's end when it was read: a
    RECOVERED whose position is end carries no events (an empty payload,
    sealed) and says that the node has all.

    DOWN carries one entry of the central's downlink log (cp_downlink, as
    the root signed it) and prev, the seq of the entry addressed to that
    node just before it in the log (0: none); the central signs DOWN as a
    reply, so prev, which the root's signature cannot cover, is the
    central's word.  DOWNACK answers each DOWN with the node's downlink
    cursor after it and the code of a refusal (0: applied).  docs/design.md,
    "Downlink", has the model.

    FIGURES gives the node the central's figures of its municipality as
    digests (cp_figures): as_of, the sequence of the node's log that the
    central has applied up to, and per month that has a row there, its
    number (cp_tally_month's) and its digest, months in increasing order.
    It is signed as a reply and kept in no log; docs/design.md, 10.7.
    A node that finds months differ asks for the central's rows of them
    with FIGREQ (the as_of it checked, at most CP_FIGURES_ASK_MAX months in
    increasing order); FIGROWS answers with the central's as_of and per
    month asked its row as stored (cp_tally's form; empty: no row), signed
    as a reply.  Neither changes anything at either side but what the node
    keeps to show, and only a central that sends FIGURES is asked, so they
    need no new version.                                                    */

#ifndef CP_WIRE_H_INCLUDED
#define CP_WIRE_H_INCLUDED

#include "cp_downlink.h"
#include "cp_event.h"
#include "cp_figures.h"

#include <stddef.h>
#include <stdint.h>

#define CP_WIRE_VERSION 6              //  2: HELLO names a data key, replies are signed;
                                        //  3: signatures over BLAKE2b digests;
                                        //  4: log identities and chains, RECOVER;
                                        //  5: DOWN and DOWNACK;
                                        //  6: ACK carries the window
#define CP_WIRE_BODY_MAX 1024           //  bytes in any body but a batch payload
#define CP_WIRE_KEYID_MAX 64            //  characters in a key id
#define CP_WIRE_NONCE_MAX 24            //  bytes in a nonce (XChaCha20)
#define CP_WIRE_LOG_SIZE 16             //  bytes in a log identity
#define CP_WIRE_CHAIN_SIZE 16           //  bytes in a log chain
#define CP_WIRE_RECOVER_MAX 64          //  batches one RECOVER may ask for
//  Bytes in a DOWN body: an entry and what msgpack puts around it and prev
#define CP_WIRE_DOWN_MAX (CP_DOWNLINK_ENTRY_MAX + 32)
//  Bytes in a FIGURES body: every month, each [u16, bin 16] in 22 bytes,
//  and room for as_of and the arrays around them
#define CP_WIRE_FIGURES_MAX (CP_FIGURES_MONTHS * 22 + 32)
//  Bytes in a FIGROWS body: the months asked, each [u16, bin 32 of a row]
#define CP_WIRE_FIGROWS_MAX (CP_FIGURES_ASK_MAX * (CP_TALLY_ROW_ENCODED_MAX + 9) + 32)

typedef enum {
    CP_CMD_HELLO = 1,
    CP_CMD_WELCOME,
    CP_CMD_BATCH,
    CP_CMD_ACK,
    CP_CMD_NACK,
    CP_CMD_PING,
    CP_CMD_PONG,
    CP_CMD_RECOVER,
    CP_CMD_RECOVERED,
    CP_CMD_DOWN,
    CP_CMD_DOWNACK,
    CP_CMD_FIGURES,
    CP_CMD_FIGREQ,
    CP_CMD_FIGROWS,
    CP_CMD_MAX = CP_CMD_FIGROWS
} cp_command_t;

typedef struct {
    uint32_t version;
    char municipality [CP_ID_MAX + 1];
    uint8_t log [CP_WIRE_LOG_SIZE];     //  the identity of the node's uplink log
    uint64_t head;              //  the node's last committed sequence
    uint64_t acked;             //  the last the node knows acknowledged
    uint64_t downlink;          //  the node's downlink cursor
    char data_key [CP_WIRE_KEYID_MAX + 1];  //  the central data key the node seals to
} cp_hello_t;

typedef struct {
    uint64_t expected;          //  the sequence the central applies next
    uint8_t chain [CP_WIRE_CHAIN_SIZE];     //  the log's chain at expected - 1
    uint32_t catalogue;         //  the central's newest catalogue version
    uint32_t window;            //  batches the node may have in flight
} cp_welcome_t;

typedef struct {
    char municipality [CP_ID_MAX + 1];
    uint8_t log [CP_WIRE_LOG_SIZE];     //  the log the events are of
    uint64_t first;             //  sequence of the first event
    uint64_t last;              //  sequence of the last event
    uint64_t head;              //  the node's head when it sent the batch
    uint8_t prev [CP_WIRE_CHAIN_SIZE];  //  the log's chain at first - 1
    uint8_t chain [CP_WIRE_CHAIN_SIZE]; //  the log's chain at last
    char node_key [CP_WIRE_KEYID_MAX + 1];
    char data_key [CP_WIRE_KEYID_MAX + 1];
    uint8_t nonce [CP_WIRE_NONCE_MAX];
    uint8_t nonce_size;
} cp_batch_header_t;

typedef struct {
    uint64_t acked;             //  the last sequence the central holds
    uint32_t window;            //  batches the node may have in flight now
} cp_ack_t;

typedef struct {
    uint64_t seq;               //  NACK: expected; DOWNACK: the cursor
    int32_t reason;             //  NACK: a cp_error_t
} cp_reply_t;

typedef struct {
    uint64_t from;              //  the archive position to start at
    uint32_t count;             //  batches wanted, 1..CP_WIRE_RECOVER_MAX
    char node_key [CP_WIRE_KEYID_MAX + 1];  //  the node key to seal them to
    char data_key [CP_WIRE_KEYID_MAX + 1];  //  the central data key to sign with
} cp_recover_t;

typedef struct {
    char municipality [CP_ID_MAX + 1];
    uint64_t position;          //  the archive position of this batch
    uint64_t next;              //  the position after it
    uint64_t end;               //  the archive's end when it was read
    char node_key [CP_WIRE_KEYID_MAX + 1];
    char data_key [CP_WIRE_KEYID_MAX + 1];
    uint8_t nonce [CP_WIRE_NONCE_MAX];
    uint8_t nonce_size;
} cp_recovered_t;

//  FIGREQ: the months whose rows a node asks for.
typedef struct {
    uint64_t as_of;             //  of the FIGURES the node checked
    uint32_t count;
    int32_t months [CP_FIGURES_ASK_MAX];    //  increasing cp_tally months
} cp_figreq_t;

typedef struct {
    uint64_t prev;              //  the seq of the entry to this node before it
    const uint8_t *entry;       //  the entry's bytes, within the decoded body
    size_t entry_size;
} cp_down_t;

//  The command a frame names, or 0.
int
    cp_wire_command (const void *frame, size_t size);

//  A log identity as people see it in logs and tables: its first eight
//  bytes in hex, into name (CP_WIRE_LOG_NAME bytes).
#define CP_WIRE_LOG_NAME 17
void
    cp_wire_log_name (const uint8_t *log, char *name);

//  The name of a command ("HELLO"...), or NULL.
const char *
    cp_wire_command_name (int command);

//  Encoders return a malloc'd body (caller frees) and its size, or NULL.
uint8_t *
    cp_wire_hello_encode (const cp_hello_t *hello, size_t *size);
uint8_t *
    cp_wire_welcome_encode (const cp_welcome_t *welcome, size_t *size);
uint8_t *
    cp_wire_batch_header_encode (const cp_batch_header_t *header, size_t *size);
uint8_t *
    cp_wire_ack_encode (const cp_ack_t *ack, size_t *size);
uint8_t *
    cp_wire_nack_encode (uint64_t expected, int reason, size_t *size);
uint8_t *
    cp_wire_ping_encode (uint64_t head, size_t *size);
uint8_t *
    cp_wire_pong_encode (size_t *size);
uint8_t *
    cp_wire_recover_encode (const cp_recover_t *recover, size_t *size);
uint8_t *
    cp_wire_recovered_encode (const cp_recovered_t *recovered, size_t *size);
uint8_t *
    cp_wire_down_encode (uint64_t prev, const uint8_t *entry, size_t entry_size, size_t *size);
uint8_t *
    cp_wire_downack_encode (uint64_t cursor, int code, size_t *size);
uint8_t *
    cp_wire_figures_encode (const cp_month_digests_t *figures, size_t *size);
uint8_t *
    cp_wire_figreq_encode (const cp_figreq_t *figreq, size_t *size);
uint8_t *
    cp_wire_figrows_encode (const cp_month_rows_t *rows, size_t *size);

//  Decoders read exactly size bytes.  They return 0, or CP_EMALFORMED,
//  CP_ETOOBIG, CP_ETYPE (wrong shape or type), CP_EBADID (municipality or
//  key id outside the id alphabet), CP_EVERSION (HELLO of another version).
//  A WELCOME or ACK of window 0 is CP_ETYPE.  A batch header whose range
//  is empty (first 0 or first > last) is CP_EMALFORMED; so is a log identity or chain of another size than
//  CP_WIRE_LOG_SIZE / CP_WIRE_CHAIN_SIZE, a RECOVER for no batch or more
//  than CP_WIRE_RECOVER_MAX (CP_ETOOBIG), and a RECOVERED whose positions
//  do not follow (position <= next <= end, next > position unless
//  position is end).  DOWN's body may be CP_WIRE_DOWN_MAX bytes, every
//  other CP_WIRE_BODY_MAX; its entry (not checked here: cp_downlink's to
//  decode) points into data and is not empty.  FIGURES's body may be
//  CP_WIRE_FIGURES_MAX bytes; more months than CP_FIGURES_MONTHS are
//  CP_ETOOBIG, a month out of range or not after the one before, or a
//  digest of another size than CP_FIGURES_DIGEST_SIZE, CP_EMALFORMED.
//  FIGREQ names 1..CP_FIGURES_ASK_MAX months (CP_ETOOBIG beyond), in
//  increasing order within cp_tally's range; FIGROWS's body may be
//  CP_WIRE_FIGROWS_MAX bytes, its months are as FIGREQ's and each row is
//  empty or one cp_tally_row_decode_add takes (else CP_EMALFORMED).
int
    cp_wire_hello_decode (const uint8_t *data, size_t size, cp_hello_t *hello);
int
    cp_wire_welcome_decode (const uint8_t *data, size_t size, cp_welcome_t *welcome);
int
    cp_wire_batch_header_decode (const uint8_t *data, size_t size, cp_batch_header_t *header);
int
    cp_wire_ack_decode (const uint8_t *data, size_t size, cp_ack_t *ack);
int
    cp_wire_nack_decode (const uint8_t *data, size_t size, cp_reply_t *nack);
int
    cp_wire_ping_decode (const uint8_t *data, size_t size, uint64_t *head);
int
    cp_wire_pong_decode (const uint8_t *data, size_t size);
int
    cp_wire_recover_decode (const uint8_t *data, size_t size, cp_recover_t *recover);
int
    cp_wire_recovered_decode (const uint8_t *data, size_t size, cp_recovered_t *recovered);
int
    cp_wire_down_decode (const uint8_t *data, size_t size, cp_down_t *down);
int
    cp_wire_downack_decode (const uint8_t *data, size_t size, cp_reply_t *downack);
int
    cp_wire_figures_decode (const uint8_t *data, size_t size, cp_month_digests_t *figures);
int
    cp_wire_figreq_decode (const uint8_t *data, size_t size, cp_figreq_t *figreq);
int
    cp_wire_figrows_decode (const uint8_t *data, size_t size, cp_month_rows_t *rows);

#endif
