/*  cp_wire: the messages between a node and the central.

    A message is ZeroMQ multipart: a command frame (its name in ASCII), then
    a msgpack body, then for BATCH the payload and signature frames.  ZeroMQ
    does the framing and the heartbeats of the transport; this module only
    encodes and decodes bodies, each an array of fixed shape, checked with
    cp_codec_prescan's limits before msgpack-c unpacks it.

        HELLO    node → central  [version, municipality, head, acked, downlink,
                                  data_key]
        WELCOME  central → node  [expected, catalogue, window]
        BATCH    node → central  [municipality, first, last, head, node_key,
                                  data_key, nonce] + payload + signature
        ACK      central → node  [acked]
        NACK     central → node  [expected, reason]
        PING     node → central  [head]
        PONG     central → node  []

    The BATCH header carries the envelope (cp_envelope): the node's key id,
    the central's data key id and the nonce; it is the associated data of
    the sealed payload, and the signature covers header and payload.

    WELCOME, ACK and NACK change what a node believes the central holds,
    so the central signs them (cp_envelope_sign_reply) with the data key
    the node named (HELLO's data_key, the BATCH header's): after the body
    come two frames, that key's id and the signature.  PING and PONG change
    nothing and are not signed.                                              */

#ifndef CP_WIRE_H_INCLUDED
#define CP_WIRE_H_INCLUDED

#include "cp_event.h"

#include <stddef.h>
#include <stdint.h>

#define CP_WIRE_VERSION 3              //  2: HELLO names a data key, replies are signed;
                                        //  3: signatures over BLAKE2b digests
#define CP_WIRE_BODY_MAX 1024           //  bytes in any body but a batch payload
#define CP_WIRE_KEYID_MAX 64            //  characters in a key id
#define CP_WIRE_NONCE_MAX 24            //  bytes in a nonce (XChaCha20)

typedef enum {
    CP_CMD_HELLO = 1,
    CP_CMD_WELCOME,
    CP_CMD_BATCH,
    CP_CMD_ACK,
    CP_CMD_NACK,
    CP_CMD_PING,
    CP_CMD_PONG,
    CP_CMD_MAX = CP_CMD_PONG
} cp_command_t;

typedef struct {
    uint32_t version;
    char municipality [CP_ID_MAX + 1];
    uint64_t head;              //  the node's last committed sequence
    uint64_t acked;             //  the last the node knows acknowledged
    uint64_t downlink;          //  the node's downlink cursor
    char data_key [CP_WIRE_KEYID_MAX + 1];  //  the central data key the node seals to
} cp_hello_t;

typedef struct {
    uint64_t expected;          //  the sequence the central applies next
    uint32_t catalogue;         //  the central's newest catalogue version
    uint32_t window;            //  batches the node may have in flight
} cp_welcome_t;

typedef struct {
    char municipality [CP_ID_MAX + 1];
    uint64_t first;             //  sequence of the first event
    uint64_t last;              //  sequence of the last event
    uint64_t head;              //  the node's head when it sent the batch
    char node_key [CP_WIRE_KEYID_MAX + 1];
    char data_key [CP_WIRE_KEYID_MAX + 1];
    uint8_t nonce [CP_WIRE_NONCE_MAX];
    uint8_t nonce_size;
} cp_batch_header_t;

typedef struct {
    uint64_t seq;               //  ACK: acknowledged; NACK: expected
    int32_t reason;             //  NACK: a cp_error_t
} cp_reply_t;

//  The command a frame names, or 0.
int
    cp_wire_command (const void *frame, size_t size);

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
    cp_wire_ack_encode (uint64_t seq, size_t *size);
uint8_t *
    cp_wire_nack_encode (uint64_t expected, int reason, size_t *size);
uint8_t *
    cp_wire_ping_encode (uint64_t head, size_t *size);
uint8_t *
    cp_wire_pong_encode (size_t *size);

//  Decoders read exactly size bytes.  They return 0, or CP_EMALFORMED,
//  CP_ETOOBIG, CP_ETYPE (wrong shape or type), CP_EBADID (municipality or
//  key id outside the id alphabet), CP_EVERSION (HELLO of another version).
//  A batch header whose range is empty (first 0 or first > last) is
//  CP_EMALFORMED.
int
    cp_wire_hello_decode (const uint8_t *data, size_t size, cp_hello_t *hello);
int
    cp_wire_welcome_decode (const uint8_t *data, size_t size, cp_welcome_t *welcome);
int
    cp_wire_batch_header_decode (const uint8_t *data, size_t size, cp_batch_header_t *header);
int
    cp_wire_ack_decode (const uint8_t *data, size_t size, uint64_t *seq);
int
    cp_wire_nack_decode (const uint8_t *data, size_t size, cp_reply_t *nack);
int
    cp_wire_ping_decode (const uint8_t *data, size_t size, uint64_t *head);
int
    cp_wire_pong_decode (const uint8_t *data, size_t size);

#endif
