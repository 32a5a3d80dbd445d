/*  central_keys: records, the in-memory table, states.  See central_keys.h.

    Record layout (big-endian integers):
        u8 kind, u8 revoked, u16 owner (0xFFFF: the central),
        i64 created, i64 valid_from, i64 expires,
        32 bytes public key, 32 bytes key-exchange public key,
        u32 sequence                                                       */

#include "central_keys.h"
#include "cp_error.h"
#include "cp_lmdb.h"
#include "cp_municipality.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_CENTRAL_OWNER 0xFFFF

struct _central_keys_t {
    central_key_t *keys;        //  sorted by id
    size_t count;
    uint64_t serial;
};

void
central_keys_encode (const central_key_t *key, uint8_t *record)
{
    memset (record, 0, CENTRAL_KEYS_RECORD_SIZE);
    record [0] = (uint8_t) key->kind;
    record [1] = key->revoked? 1: 0;
    uint16_t owner = key->owner < 0? S_CENTRAL_OWNER: (uint16_t) key->owner;
    record [2] = (uint8_t) (owner >> 8);
    record [3] = (uint8_t) owner;
    cp_put_u64 (record + 4, (uint64_t) key->created);
    cp_put_u64 (record + 12, (uint64_t) key->valid_from);
    cp_put_u64 (record + 20, (uint64_t) key->expires);
    memcpy (record + 28, key->public_key, CP_KEY_SIZE);
    memcpy (record + 60, key->kx_public, CP_KEY_SIZE);
    cp_put_u32 (record + 92, key->sequence);
}

int
central_keys_decode (const char *id, const uint8_t *record, size_t size, central_key_t *key)
{
    memset (key, 0, sizeof *key);
    size_t id_size = strlen (id);
    if (size != CENTRAL_KEYS_RECORD_SIZE || id_size == 0 || id_size > CP_KEY_ID_MAX
    ||  record [0] < CENTRAL_KEY_ROOT || record [0] > CENTRAL_KEY_NODE || record [1] > 1)
        return CP_EMALFORMED;
    memcpy (key->id, id, id_size + 1);
    key->kind = record [0];
    key->revoked = record [1] == 1;
    int owner = record [2] << 8 | record [3];
    key->owner = owner == S_CENTRAL_OWNER? CENTRAL_KEYS_CENTRAL: owner;
    if (key->owner >= cp_municipality_count ())
        return CP_EMALFORMED;
    //  The central's kinds belong to the central, a node's to a municipality.
    bool central_kind = key->kind <= CENTRAL_KEY_DATA;
    if (central_kind != (key->owner == CENTRAL_KEYS_CENTRAL))
        return CP_EMALFORMED;
    key->created = (int64_t) cp_get_u64 (record + 4);
    key->valid_from = (int64_t) cp_get_u64 (record + 12);
    key->expires = (int64_t) cp_get_u64 (record + 20);
    memcpy (key->public_key, record + 28, CP_KEY_SIZE);
    memcpy (key->kx_public, record + 60, CP_KEY_SIZE);
    key->sequence = cp_get_u32 (record + 92);
    return 0;
}

static int
s_compare_id (const void *a, const void *b)
{
    return strcmp (((const central_key_t *) a)->id, ((const central_key_t *) b)->id);
}

central_keys_t *
central_keys_new (const central_key_t *keys, size_t count, uint64_t serial)
{
    central_keys_t *self = calloc (1, sizeof (central_keys_t));
    if (!self)
        return NULL;
    self->keys = calloc (count? count: 1, sizeof (central_key_t));
    if (!self->keys) {
        free (self);
        return NULL;
    }
    if (count)
        memcpy (self->keys, keys, count * sizeof (central_key_t));
    qsort (self->keys, count, sizeof (central_key_t), s_compare_id);
    self->count = count;
    self->serial = serial;
    return self;
}

void
central_keys_destroy (central_keys_t **self_p)
{
    if (self_p && *self_p) {
        free ((*self_p)->keys);
        free (*self_p);
        *self_p = NULL;
    }
}

uint64_t
central_keys_serial (central_keys_t *self)
{
    return self->serial;
}

size_t
central_keys_count (central_keys_t *self)
{
    return self->count;
}

const central_key_t *
central_keys_at (central_keys_t *self, size_t index)
{
    return index < self->count? &self->keys [index]: NULL;
}

const central_key_t *
central_keys_find (central_keys_t *self, const char *id)
{
    central_key_t probe;
    if (strlen (id) > CP_KEY_ID_MAX)
        return NULL;
    strcpy (probe.id, id);
    return bsearch (&probe, self->keys, self->count, sizeof (central_key_t), s_compare_id);
}

//  A linear scan: a thousand nodes are a few thousand records, and this
//  runs once per connection (the ZAP request), not per message.
const central_key_t *
central_keys_find_transport (central_keys_t *self, const uint8_t *public_key)
{
    for (size_t index = 0; index < self->count; index++) {
        const central_key_t *key = &self->keys [index];
        if (key->kind == CENTRAL_KEY_NODE_TRANSPORT
        &&  memcmp (key->public_key, public_key, CP_KEY_SIZE) == 0)
            return key;
    }
    return NULL;
}

static bool
s_valid (const central_key_t *key, int64_t now)
{
    return !key->revoked && key->valid_from <= now && (key->expires == 0 || now < key->expires);
}

//  True when a is newer than b: later valid_from, then recorded later
//  (seconds are too coarse: two rotations can fall in one).
static bool
s_newer (const central_key_t *a, const central_key_t *b)
{
    if (a->valid_from != b->valid_from)
        return a->valid_from > b->valid_from;
    if (a->sequence != b->sequence)
        return a->sequence > b->sequence;
    if (a->created != b->created)
        return a->created > b->created;
    return strcmp (a->id, b->id) > 0;
}

//  The newest valid key of a kind and owner.
static const central_key_t *
s_newest (central_keys_t *self, int kind, int owner, int64_t now)
{
    const central_key_t *best = NULL;
    for (size_t index = 0; index < self->count; index++) {
        const central_key_t *key = &self->keys [index];
        if (key->kind == kind && key->owner == owner && s_valid (key, now)
        &&  (!best || s_newer (key, best)))
            best = key;
    }
    return best;
}

central_key_state_t
central_keys_state (central_keys_t *self, const central_key_t *key, int64_t now)
{
    if (key->revoked)
        return CENTRAL_KEY_REVOKED;
    if (key->expires && now >= key->expires)
        return CENTRAL_KEY_EXPIRED;
    if (key->valid_from > now)
        return CENTRAL_KEY_NEXT;
    return s_newest (self, key->kind, key->owner, now) == key? CENTRAL_KEY_CURRENT
                                                            : CENTRAL_KEY_RETIRING;
}

const char *
central_keys_state_name (central_key_state_t state)
{
    switch (state) {
        case CENTRAL_KEY_CURRENT:  return "current";
        case CENTRAL_KEY_NEXT:     return "next";
        case CENTRAL_KEY_RETIRING: return "retiring";
        case CENTRAL_KEY_EXPIRED:  return "expired";
        case CENTRAL_KEY_REVOKED:  return "revoked";
    }
    return "?";
}

const char *
central_keys_kind_name (int kind)
{
    switch (kind) {
        case CENTRAL_KEY_ROOT:           return "root";
        case CENTRAL_KEY_TRANSPORT:      return "transport";
        case CENTRAL_KEY_DATA:           return "data";
        case CENTRAL_KEY_NODE_TRANSPORT: return "node-transport";
        case CENTRAL_KEY_NODE:           return "node";
    }
    return "?";
}

//  Runs per message: the record alone decides, no scan of the table.
int
central_keys_usable (central_keys_t *self, const central_key_t *key, int64_t now)
{
    (void) self;
    if (key->revoked)
        return CP_EREVOKED;
    if (key->expires && now >= key->expires)
        return CP_EEXPIRED;
    if (key->valid_from > now)
        return CP_EUNKNOWNKEY;
    return 0;
}

const central_key_t *
central_keys_current (central_keys_t *self, int kind, int64_t now)
{
    return s_newest (self, kind, CENTRAL_KEYS_CENTRAL, now);
}

//  Appends the central's keys of kind that are not revoked or expired to
//  out, newest first, at most CP_ENROLMENT_KEYS_MAX.
static size_t
s_live_keys (central_keys_t *self, int kind, int64_t now, const central_key_t **out)
{
    size_t count = 0;
    for (size_t index = 0; index < self->count; index++) {
        const central_key_t *key = &self->keys [index];
        if (key->kind != kind || key->revoked || (key->expires && now >= key->expires))
            continue;
        //  Insertion sort, newest first; the oldest fall off the end.
        size_t at = count < CP_ENROLMENT_KEYS_MAX? count++: CP_ENROLMENT_KEYS_MAX;
        while (at > 0 && s_newer (key, out [at - 1])) {
            if (at < CP_ENROLMENT_KEYS_MAX)
                out [at] = out [at - 1];
            at--;
        }
        if (at < CP_ENROLMENT_KEYS_MAX)
            out [at] = key;
    }
    return count;
}

void
central_keys_enrolment (central_keys_t *self, int64_t now, cp_enrolment_t *enrolment)
{
    enrolment->serial = self->serial;
    const central_key_t *root = s_newest (self, CENTRAL_KEY_ROOT, CENTRAL_KEYS_CENTRAL, now);
    if (root)
        memcpy (enrolment->root, root->public_key, CP_KEY_SIZE);
    const central_key_t *live [CP_ENROLMENT_KEYS_MAX];
    enrolment->central_transport_count = s_live_keys (self, CENTRAL_KEY_TRANSPORT, now, live);
    for (size_t index = 0; index < enrolment->central_transport_count; index++) {
        cp_transport_key_t *out = &enrolment->central_transport [index];
        strcpy (out->id, live [index]->id);
        memcpy (out->public_key, live [index]->public_key, CP_KEY_SIZE);
        out->valid_from = live [index]->valid_from;
        out->expires = live [index]->expires;
    }
    enrolment->central_data_count = s_live_keys (self, CENTRAL_KEY_DATA, now, live);
    for (size_t index = 0; index < enrolment->central_data_count; index++) {
        cp_party_key_t *out = &enrolment->central_data [index];
        strcpy (out->id, live [index]->id);
        memcpy (out->sign_public, live [index]->public_key, CP_KEY_SIZE);
        memcpy (out->kx_public, live [index]->kx_public, CP_KEY_SIZE);
        out->expires = live [index]->expires;
    }
}
