/*  central_keys: the central's key table, as records and in memory.

    Every public key the central knows is a record under its id (see
    cp_enrolment.h for ids): the root signing key, the central's transport
    and data keys, and each node's transport key and node key (signing and
    key exchange).  Records live in the central store's "keys" database
    (central_store_keys_read / _edit); cpsync-admin writes them, the
    central reloads the table when the store's key serial changes, so a
    revocation reaches a running central within a poll interval.

    A key's state follows from its record and the time:
        revoked   revoked by an administrator: refused at once
        next      announced, not yet valid (a central transport key is
                  served from valid_from on)
        current   valid, the newest of its kind and owner
        retiring  valid, superseded by a newer key, until it expires
        expired   past its expiry: refused
    Only the central's secrets are outside the table, in DIR/keys
    (cp_keyfile): transport-ID.secret, data-ID.secret, root.secret (or
    wherever the administrator keeps the root offline).                   */

#ifndef CENTRAL_KEYS_H_INCLUDED
#define CENTRAL_KEYS_H_INCLUDED

#include "cp_enrolment.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CENTRAL_KEY_ROOT = 1,           //  signs enrolments and announcements
    CENTRAL_KEY_TRANSPORT,          //  the central's CURVE key
    CENTRAL_KEY_DATA,               //  the central's data key: opens batches, signs replies
    CENTRAL_KEY_NODE_TRANSPORT,     //  a node's CURVE key
    CENTRAL_KEY_NODE                //  a node's signing and key-exchange key
} central_key_kind_t;

typedef enum {
    CENTRAL_KEY_CURRENT = 1,
    CENTRAL_KEY_NEXT,
    CENTRAL_KEY_RETIRING,
    CENTRAL_KEY_EXPIRED,
    CENTRAL_KEY_REVOKED
} central_key_state_t;

#define CENTRAL_KEYS_RECORD_SIZE 96
#define CENTRAL_KEYS_CENTRAL (-1)   //  owner of the central's own keys

typedef struct {
    char id [CP_KEY_ID_MAX + 1];
    int kind;                       //  a central_key_kind_t
    int owner;                      //  municipality index, or CENTRAL_KEYS_CENTRAL
    bool revoked;
    int64_t created;                //  seconds since the epoch
    int64_t valid_from;
    int64_t expires;                //  0 = no end set
    uint32_t sequence;              //  the key serial that recorded it: orders keys
                                    //  made within one second (0 until stored)
    uint8_t public_key [CP_KEY_SIZE];   //  CURVE or Ed25519 public key
    uint8_t kx_public [CP_KEY_SIZE];    //  X25519 public key (node and data keys)
} central_key_t;

typedef struct _central_keys_t central_keys_t;

//  Encodes a record into CENTRAL_KEYS_RECORD_SIZE bytes.
void
    central_keys_encode (const central_key_t *key, uint8_t *record);

//  Decodes a record stored under id.  Returns 0 or CP_EMALFORMED.
int
    central_keys_decode (const char *id, const uint8_t *record, size_t size,
                         central_key_t *key);

//  A table of count keys (copied).
central_keys_t *
    central_keys_new (const central_key_t *keys, size_t count, uint64_t serial);

void
    central_keys_destroy (central_keys_t **self_p);

//  The key serial the table was read at.
uint64_t
    central_keys_serial (central_keys_t *self);

size_t
    central_keys_count (central_keys_t *self);

//  The index-th key (borrowed), in id order.
const central_key_t *
    central_keys_at (central_keys_t *self, size_t index);

//  The key of an id, or NULL.
const central_key_t *
    central_keys_find (central_keys_t *self, const char *id);

//  The node transport key with this CURVE public key, or NULL.
const central_key_t *
    central_keys_find_transport (central_keys_t *self, const uint8_t *public_key);

//  A key's state at time now (seconds since the epoch): "current" only for
//  the newest valid key of its kind and owner.
central_key_state_t
    central_keys_state (central_keys_t *self, const central_key_t *key, int64_t now);

//  The state's name: "current", "next", "retiring", "expired", "revoked".
const char *
    central_keys_state_name (central_key_state_t state);

//  The kind's name: "root", "transport", "data", "node-transport", "node".
const char *
    central_keys_kind_name (int kind);

//  Checks that key may be used now: 0, or CP_EREVOKED, CP_EEXPIRED, or
//  CP_EUNKNOWNKEY for a key not yet valid.
int
    central_keys_usable (central_keys_t *self, const central_key_t *key, int64_t now);

//  The central's current key of kind (CENTRAL_KEY_ROOT, _TRANSPORT, _DATA):
//  the newest that is valid now, or NULL.
const central_key_t *
    central_keys_current (central_keys_t *self, int kind, int64_t now);

//  Fills the central's half of an enrolment from the table at time now:
//  root, serial, and the transport and data keys that are not revoked or
//  expired, newest first.
void
    central_keys_enrolment (central_keys_t *self, int64_t now, cp_enrolment_t *enrolment);

#endif
