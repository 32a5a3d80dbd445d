/*  cp_downlink: an entry of the central's downlink log, signed by the root.

    The central keeps one downlink log for every node: entries numbered
    1, 2, ... (seq), each of one kind and addressed to all, to a county or
    to one municipality.  The root key signs each entry once, so a node
    can check an entry whoever carried it, and cpsync-admin, which holds
    the root, may sign offline.  The node applies the entries addressed to
    it in order (node_store_apply_downlink: docs/design.md, "Downlink").

    An entry is msgpack, an array of exactly three elements:

        [signer, signature, signed]
        signer      str: the root key's id ("r-" and 16 hex digits)
        signature   bin 64: Ed25519 over the BLAKE2b-512 digest,
                    personalised "cpsync down v1", of signed's bytes
        signed      bin: the entry itself, msgpack, exactly
                    [version, seq, kind, to, code, issued, body]
        version     1 (CP_DOWNLINK_VERSION); another is CP_EVERSION
        seq         uint, 1.. : the position in the central's log
        kind        uint: a cp_downlink_kind_t
        to, code    uint 0 and "": all; 1 and a county's code; 2 and a
                    municipality's code (cp_municipality's lists)
        issued      uint: when it was signed, ms since the epoch
        body        bin of at most CP_DOWNLINK_BODY_MAX bytes: the kind's
                    own content, opaque here

    The signed bytes travel as a bin, so nobody re-encodes anything to
    check a signature.  The personalised digest keeps an entry's signature
    from passing for any other signature of the root: an enrolment's is
    over JSON text, far longer than the 64 bytes signed here, and other
    digests have other personalisations.  The root signs the digest, not
    the entry, so a 256 KiB catalogue is hashed once.

    Decoding treats the bytes as hostile, and checks in the order that
    keeps them furthest from code that trusts them: the size; the outer
    array (cp_codec_prescan's limits first); the signer's id, which must
    be the pinned root's; the signature; and only then the signed entry,
    with exact types and lengths and no trailing bytes in either.           */

#ifndef CP_DOWNLINK_H_INCLUDED
#define CP_DOWNLINK_H_INCLUDED

#include "cp_enrolment.h"
#include "cp_municipality.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_DOWNLINK_VERSION 1
#define CP_DOWNLINK_BODY_MAX (256 * 1024)   //  bytes of a body: a catalogue fits
//  Bytes of a whole entry: the body and at most 256 bytes around it
#define CP_DOWNLINK_ENTRY_MAX (CP_DOWNLINK_BODY_MAX + 256)

//  What an entry carries.  Values are on the wire: never renumber.
typedef enum {
    CP_DOWNLINK_CATALOGUE = 1,      //  a catalogue revision (its JSON text)
    CP_DOWNLINK_DIRECTIVE = 2,      //  a referral, deadline or notice
    CP_DOWNLINK_FIGURES = 3,        //  published figures and their digest
    CP_DOWNLINK_KEYS = 4            //  a key announcement (cp_enrolment's file)
} cp_downlink_kind_t;

typedef struct {
    uint64_t seq;                   //  position in the central's log, from 1
    int kind;                       //  a cp_downlink_kind_t
    cp_scope_t address;             //  CP_SCOPE_NATIONAL is all
    int64_t issued;                 //  ms since the epoch
    const uint8_t *body;            //  borrowed: see encode and decode
    size_t body_size;
    char signer [CP_KEY_ID_MAX + 1];    //  the signing key's id (decode fills it)
} cp_downlink_t;

//  Encodes entry and signs it with root_secret (an Ed25519 secret key; the
//  signer's id is that of its public key, entry->signer is not read).
//  Returns the bytes (malloc'd, caller frees) and *size, or NULL when
//  entry is one decode would refuse (seq 0, an unknown kind, an address
//  outside the lists, a negative time, a body over the limit).
uint8_t *
    cp_downlink_encode (const cp_downlink_t *entry, const uint8_t *root_secret, size_t *size);

//  Signs any bytes as an entry's signed part: the outer array around them,
//  without a look inside.  Returns the bytes (malloc'd) and *size, or NULL
//  when signed_size is over CP_DOWNLINK_ENTRY_MAX.  encode uses it; tests
//  and the fuzz target use it to make signed entries that decode refuses.
uint8_t *
    cp_downlink_sign (const uint8_t *signed_part, size_t signed_size,
                      const uint8_t *root_secret, size_t *size);

//  Checks and decodes an entry (exactly size bytes) against root, the
//  pinned root's public key (CP_KEY_SIZE bytes).  entry->body points into
//  data.  Returns 0, or
//      CP_ETOOBIG       the entry, its body, its signer or code over its limit
//      CP_EMALFORMED    not one msgpack object, trailing bytes, a signer
//                       or code that is empty or holds control characters,
//                       a code addressed to all, an address kind not 0..2,
//                       seq 0, a time past INT64_MAX, a signature not of
//                       64 bytes
//      CP_ETYPE         a value of the wrong type, an array of the wrong size
//      CP_EBADID        a signer outside the id alphabet, a county or
//                       municipality code that is none of the lists'
//      CP_EUNPINNED     signed by another key than root
//      CP_EAUTH         a signature that is not root's over these bytes
//      CP_EVERSION      a version other than CP_DOWNLINK_VERSION
//      CP_EBADKIND      a kind not in cp_downlink_kind_t
//  with why (when not NULL) naming the field.  On failure *entry is zeroed.
int
    cp_downlink_decode (const uint8_t *data, size_t size, const uint8_t *root,
                        cp_downlink_t *entry, char *why, size_t why_size)
    __attribute__ ((warn_unused_result));

//  True when entry is addressed to the municipality of that index: to all,
//  to its county, or to it.  A municipality outside the list (index < 0 or
//  past the count) gets only what is addressed to all.
bool
    cp_downlink_addressed_to (const cp_downlink_t *entry, int municipality);

//  A kind's name ("catalogue", "directive", "figures", "keys"), or NULL.
const char *
    cp_downlink_kind_name (int kind);

//  An address as people write it: "all", "county:CODE" or "CODE" (buf
//  holds CP_SCOPE_MAX bytes).
void
    cp_downlink_address_format (const cp_scope_t *address, char *buf);

//  Parses "all", "county:CODE" or a municipality's "CODE" into address.
//  Returns 0, or CP_EBADID when the text names no county or municipality.
int
    cp_downlink_address_parse (const char *text, cp_scope_t *address);

#endif
