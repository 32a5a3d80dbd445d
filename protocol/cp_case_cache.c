/*  cp_case_cache: an open-addressing table of cases with inline keys.

    The keys are already uniform (keyed hashes), so their first bytes are
    the hash; the table doubles when half full, and clearing keeps its
    size, since the next transaction touches about as many cases.           */

#include "cp_case_cache.h"
#include "cp_error.h"
#include "cp_lmdb.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool used;
    uint8_t key [CP_CASE_CACHE_KEY_MAX];
    cp_case_t state;
} s_slot_t;

struct _cp_case_cache_t {
    s_slot_t *slots;
    size_t capacity;            //  a power of two
    size_t count;
    size_t key_size;
    const char *module;         //  for log lines
    uint8_t *buffer;            //  for encoding cases at write
    size_t buffer_size;
};

#define S_INITIAL 1024

cp_case_cache_t *
cp_case_cache_new (size_t key_size, const char *module)
{
    assert (key_size >= 8 && key_size <= CP_CASE_CACHE_KEY_MAX);
    cp_case_cache_t *self = calloc (1, sizeof (cp_case_cache_t));
    assert (self);
    self->capacity = S_INITIAL;
    self->slots = calloc (self->capacity, sizeof (s_slot_t));
    assert (self->slots);
    self->key_size = key_size;
    self->module = module;
    return self;
}

void
cp_case_cache_destroy (cp_case_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_case_cache_t *self = *self_p;
    cp_case_cache_clear (self);
    free (self->slots);
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

static s_slot_t *
s_find (s_slot_t *slots, size_t capacity, size_t key_size, const uint8_t *key)
{
    uint64_t hash;
    memcpy (&hash, key + key_size - 8, 8);      //  the hash part, whatever prefixes it
    size_t index = (size_t) hash & (capacity - 1);
    while (slots [index].used && memcmp (slots [index].key, key, key_size))
        index = (index + 1) & (capacity - 1);
    return &slots [index];
}

static void
s_grow (cp_case_cache_t *self)
{
    size_t capacity = self->capacity * 2;
    s_slot_t *slots = calloc (capacity, sizeof (s_slot_t));
    assert (slots);
    for (size_t index = 0; index < self->capacity; index++)
        if (self->slots [index].used)
            *s_find (slots, capacity, self->key_size, self->slots [index].key)
                = self->slots [index];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

cp_case_t *
cp_case_cache_get (cp_case_cache_t *self, MDB_txn *txn, MDB_dbi dbi, const uint8_t *key,
                   int *rc)
{
    s_slot_t *slot = s_find (self->slots, self->capacity, self->key_size, key);
    if (slot->used)
        return &slot->state;
    MDB_val k = {self->key_size, (void *) key}, v;
    int mdb_rc = mdb_get (txn, dbi, &k, &v);
    cp_case_t state;
    memset (&state, 0, sizeof state);
    if (mdb_rc == 0 && cp_case_decode (&state, v.mv_data, v.mv_size)) {
        //  Damage to the store, not a bad event: the caller stops.
        zsys_error ("%s: a stored case record is corrupt", self->module);
        *rc = CP_ESTORE;
        return NULL;
    }
    if (mdb_rc && mdb_rc != MDB_NOTFOUND) {
        *rc = cp_lmdb_fail (self->module, "read case", mdb_rc);
        return NULL;
    }
    if ((self->count + 1) * 2 > self->capacity) {
        s_grow (self);
        slot = s_find (self->slots, self->capacity, self->key_size, key);
    }
    slot->used = true;
    memcpy (slot->key, key, self->key_size);
    slot->state = state;
    self->count++;
    return &slot->state;
}

int
cp_case_cache_write (cp_case_cache_t *self, MDB_txn *txn, MDB_dbi dbi)
{
    for (size_t index = 0; index < self->capacity; index++) {
        s_slot_t *slot = &self->slots [index];
        if (!slot->used || !slot->state.opened)
            continue;       //  looked up for an event that was refused
        size_t size = cp_case_encoded_size (&slot->state);
        if (size > self->buffer_size) {
            self->buffer_size = size * 2;
            self->buffer = realloc (self->buffer, self->buffer_size);
            assert (self->buffer);
        }
        cp_case_encode (&slot->state, self->buffer);
        MDB_val k = {self->key_size, slot->key}, v = {size, self->buffer};
        int mdb_rc = mdb_put (txn, dbi, &k, &v, 0);
        if (mdb_rc)
            return cp_lmdb_fail (self->module, "put case", mdb_rc);
    }
    return 0;
}

void
cp_case_cache_clear (cp_case_cache_t *self)
{
    for (size_t index = 0; index < self->capacity && self->count; index++)
        if (self->slots [index].used) {
            cp_case_reset (&self->slots [index].state);
            self->slots [index].used = false;
            self->count--;
        }
}
