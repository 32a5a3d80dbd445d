/*  cp_enrolment: what a node is told about keys, signed by the root key.

    An enrolment is the public half of a node's key set and the central's
    pinned public keys, signed with the central's root Ed25519 key (which
    cpsync-admin holds and may keep offline).  It travels in a file:

        {"cpsync": "enrolment 1",
         "enrolment": "<the enrolment, JSON text, as signed>",
         "signature": "<Ed25519 signature of those exact bytes, hex>",
         "secrets": "<the node's secret keys, hex>"}

    The signed text is carried as a string so that nobody has to
    re-serialise JSON to check a signature.  A *bundle* (from enrol or
    rotate-node) carries the node's secrets and names its municipality; an
    *announcement* (from rotate-central) carries no secrets, an empty
    municipality and no node keys: only the central's keys.  Every file
    has a serial, raised by the central at every key change, so that a node
    can refuse an older file than the one it holds (CP_EROLLBACK).

    Key sets:
      transport  a CURVE (X25519) key pair: ZeroMQ's transport encryption
      party      an Ed25519 signing key and an X25519 key-exchange key,
                 under one id: a node's (signs batches, seals to the
                 central) or a central data key (opens batches, signs
                 acknowledgements)
    Key ids are "<kind letter>-<16 hex digits of a hash of the public
    key>", e.g. "t-3f9a1c2e0b7d6a55"; they fit the wire's key id field.

    Decoding treats the file as hostile: size, lengths, hex and every field
    are checked, the signature is verified before the enrolment text is
    parsed, and secrets go only into the caller's guarded memory (the
    parser's own copies are wiped before they are freed).                 */

#ifndef CP_ENROLMENT_H_INCLUDED
#define CP_ENROLMENT_H_INCLUDED

#include "cp_event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_ENROLMENT_FILE_MAX (64 * 1024)   //  bytes in a bundle or announcement
#define CP_ENROLMENT_KEYS_MAX 8             //  central keys of one kind in a file
#define CP_ENROLMENT_ENDPOINT_MAX 255
#define CP_KEY_ID_MAX 64
#define CP_KEY_SIZE 32                      //  a public key, an X25519 secret
#define CP_SIGN_SECRET_SIZE 64              //  an Ed25519 secret key
#define CP_SIGNATURE_SIZE 64

//  The node's secret keys as one block of guarded memory, in this order.
#define CP_SECRETS_TRANSPORT 0              //  CURVE secret, 32 bytes
#define CP_SECRETS_SIGN 32                  //  Ed25519 secret, 64 bytes
#define CP_SECRETS_KX 96                    //  X25519 secret, 32 bytes
#define CP_SECRETS_SIZE 128

typedef struct {
    char id [CP_KEY_ID_MAX + 1];
    uint8_t public_key [CP_KEY_SIZE];
    int64_t valid_from;         //  seconds since the epoch; a central transport
                                //  key is served from then on
    int64_t expires;            //  seconds since the epoch; 0 = no end set
} cp_transport_key_t;

typedef struct {
    char id [CP_KEY_ID_MAX + 1];
    uint8_t sign_public [CP_KEY_SIZE];
    uint8_t kx_public [CP_KEY_SIZE];
    int64_t expires;            //  0 = no end set
} cp_party_key_t;

typedef struct {
    uint64_t serial;                        //  raised at every key change
    int64_t created;                        //  seconds since the epoch
    char municipality [CP_ID_MAX + 1];      //  "" in an announcement
    char endpoint [CP_ENROLMENT_ENDPOINT_MAX + 1];  //  where the central listens
    uint8_t root [CP_KEY_SIZE];             //  the root signing key (public)
    //  The node's (a bundle only)
    cp_transport_key_t node_transport;
    cp_party_key_t node_key;
    //  The central's, newest first
    size_t central_transport_count;
    cp_transport_key_t central_transport [CP_ENROLMENT_KEYS_MAX];
    size_t central_data_count;
    cp_party_key_t central_data [CP_ENROLMENT_KEYS_MAX];
} cp_enrolment_t;

//  Writes the id of a public key: prefix letter, '-', 16 hex digits of its
//  BLAKE2b hash (id has room for CP_KEY_ID_MAX + 1).  The digits are the
//  first 8 bytes of the 32-byte hash (libsodium's crypto_generichash makes
//  no shorter than 16), i.e. of `b2sum -l 256` over the 32 key bytes.
void
    cp_enrolment_key_id (char prefix, const uint8_t *public_key, char *id);

//  True when secrets (CP_SECRETS_SIZE bytes, laid out as above) are the
//  secret halves of enrolment's node keys: each public key is derived again
//  from its secret (the Ed25519 one from its seed) and compared.
bool
    cp_enrolment_secrets_match (const cp_enrolment_t *enrolment, const uint8_t *secrets)
    __attribute__ ((warn_unused_result));

//  True when two enrolments of one serial tell of the same keys, as they
//  must: a serial names one state of the central's key table.  The root,
//  the node's keys (when both are bundles) and every central key both name
//  must be equal; a central key only one names must have expired by the
//  time the other was made (a later file leaves expired keys out), or be
//  missing from a list that is full (CP_ENROLMENT_KEYS_MAX keys: the
//  oldest do not fit).  The time made, the endpoint and the municipality
//  may differ (an announcement names none).  The serials are not compared.
bool
    cp_enrolment_same_keys (const cp_enrolment_t *a, const cp_enrolment_t *b);

//  Encodes a file: the enrolment, signed with root_secret (an Ed25519
//  secret whose public key must be enrolment->root), with the node's
//  secrets (CP_SECRETS_SIZE bytes) when secrets is not NULL.  Returns
//  malloc'd NUL-terminated text (the caller wipes it with sodium_memzero
//  when it holds secrets, then frees it), or NULL on a bad argument:
//  secrets given for an announcement or missing for a bundle, or anything
//  cp_enrolment_decode would refuse (the text is decoded before it is
//  returned), such as secrets that are not the node keys' own.
char *
    cp_enrolment_encode (const cp_enrolment_t *enrolment, const uint8_t *root_secret,
                         const uint8_t *secrets);

//  Decodes a file's text (size bytes): checks its form, verifies the
//  signature with the root key it names and, when pinned_root is not NULL,
//  that this root is pinned_root (else CP_EAUTH).  Fills enrolment.  When
//  the file carries secrets they go into secrets (CP_SECRETS_SIZE bytes of
//  the caller's guarded memory; may be NULL to ignore them) and
//  *has_secrets is set.  Returns 0, CP_ETOOBIG (the file, an endpoint, or
//  more than CP_ENROLMENT_KEYS_MAX keys of a kind), CP_EMALFORMED (not the
//  format; why names the field), CP_EAUTH (signature or root, or secrets
//  that are not the secret halves of the signed node keys: the secrets are
//  outside the signed text, and this is what binds them to it), or
//  CP_EBADID (a key id outside the id alphabet, a municipality that is not
//  one of cp_municipality's).  With pinned_root the signature is checked
//  before the enrolment text is parsed; without, only its "root" is read
//  before the check.  Hex is lowercase, as encode writes it.  On failure
//  enrolment is zeroed and secrets is left as it was or wiped; why never
//  quotes a key or the file's text.  Needs no sodium_init () of its own
//  (guarded memory comes from cp_keyfile_alloc).
int
    cp_enrolment_decode (const char *text, size_t size, const uint8_t *pinned_root,
                         cp_enrolment_t *enrolment, uint8_t *secrets, bool *has_secrets,
                         char *why, size_t why_size)
    __attribute__ ((warn_unused_result));

//  Makes jansson wipe every block it frees, process-wide: jansson's parser
//  and encoder keep copies of a bundle's secret hex that this module cannot
//  reach.  Call once at the start of main, before any JSON is made (blocks
//  made before would be freed as guarded ones): cp_process_start does, for
//  every cpsync command.  Without it, decode leaves those copies in freed
//  heap memory.
void
    cp_enrolment_guard_json (void);

#endif
