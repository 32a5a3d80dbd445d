/*  cp_case_cache: the cases in an array, in the order they were first
    looked up, found through an open-addressing table of 8-byte slots (the
    case's place in the array and a tag of its key): a case is about a
    hundred bytes, and a table of cases inline, half empty by design, took
    59 MB at the flooded central's peak.  Cases are only ever added until
    the cache is cleared, so the array has no holes.  The keys are already
    uniform (keyed hashes), so their last eight bytes are the hash; the
    table doubles when half full, and clearing keeps both sizes, since the
    next transaction touches about as many cases.  A case is "touched"
    when looked up in the current transaction: those are the cases a write
    puts back; the others are kept from earlier, committed transactions
    (cp_case_cache_committed).

    Stored values are sealed: a read opens the value into a scratch buffer
    and decodes it from there; a write encodes every case the transaction
    opened into one scratch buffer, seals them in a cp_seal batch (a helper
    thread seals ahead while this one puts: the import writes tens of
    thousands of cases per commit) and puts the sealed bytes.  The scratch
    buffer is wiped after each use: it holds case histories in the clear. */

#include "cp_case_cache.h"
#include "cp_error.h"
#include "cp_lmdb.h"
#include "cp_table.h"

#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool touched;               //  looked up in the current transaction
    uint8_t key [CP_CASE_CACHE_KEY_MAX];
    cp_case_t state;
} s_entry_t;

//  A slot of the table: 0, empty; else the entry's index + 1 and, above
//  it, the high half of its key's hash, compared before the key itself.
typedef uint64_t s_slot_t;

struct _cp_case_cache_t {
    s_entry_t *entries;         //  count of entries_max used
    size_t entries_max;
    size_t count;
    s_slot_t *slots;
    size_t capacity;            //  a power of two
    size_t *touched;            //  the entries touched in the current transaction
    size_t touched_count;       //  (so that a write does not scan the table)
    size_t touched_max;
    size_t key_size;
    const char *module;         //  for log lines
    cp_seal_t *seal;            //  seals and opens the values (borrowed)
    uint8_t *buffer;            //  cases in the clear: encoded at write,
    size_t buffer_size;         //  opened at read; wiped after each use
    cp_seal_job_t *jobs;        //  the cases of a write, sealed together
    size_t jobs_size;           //  bytes
    uint8_t *sealed;            //  their sealed bytes
    size_t sealed_size;
    cp_case_log_t *log;         //  where cases are read first and written, or NULL
    MDB_dbi log_dbi;
};

//  The associated data of a case record: 'C', then its key.
#define S_AD_MAX (1 + CP_CASE_CACHE_KEY_MAX)

#define S_INITIAL 1024

//  A zeroed table of capacity slots (cp_table: pages mapped for writing,
//  huge pages for a large one).
static s_slot_t *
s_slots_new (size_t capacity)
{
    return cp_table_new (capacity, sizeof (s_slot_t));
}

cp_case_cache_t *
cp_case_cache_new (size_t key_size, cp_seal_t *seal, const char *module)
{
    assert (key_size >= 8 && key_size <= CP_CASE_CACHE_KEY_MAX);
    assert (seal);
    cp_case_cache_t *self = calloc (1, sizeof (cp_case_cache_t));
    assert (self);
    self->capacity = S_INITIAL;
    self->slots = s_slots_new (self->capacity);
    self->entries_max = S_INITIAL / 2;
    self->entries = malloc (self->entries_max * sizeof (s_entry_t));
    assert (self->entries);
    self->key_size = key_size;
    self->module = module;
    self->seal = seal;
    return self;
}

void
cp_case_cache_destroy (cp_case_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_case_cache_t *self = *self_p;
    cp_case_cache_clear (self);
    free (self->entries);
    free (self->slots);
    free (self->touched);
    free (self->buffer);        //  wiped after its last use
    free (self->jobs);
    free (self->sealed);
    free (self);
    *self_p = NULL;
}

void
cp_case_cache_use_log (cp_case_cache_t *self, cp_case_log_t *log, MDB_dbi log_dbi)
{
    self->log = log;
    self->log_dbi = log_dbi;
}

static uint64_t
s_hash (const cp_case_cache_t *self, const uint8_t *key)
{
    uint64_t hash;
    memcpy (&hash, key + self->key_size - 8, 8);    //  the hash part, whatever prefixes it
    return hash;
}

//  The slot of key in the table: its entry's, or the empty one where it
//  would go.
static s_slot_t *
s_find (const cp_case_cache_t *self, s_slot_t *slots, size_t capacity, const uint8_t *key)
{
    uint64_t hash = s_hash (self, key);
    uint64_t tag = hash & ~(uint64_t) UINT32_MAX;
    size_t index = (size_t) hash & (capacity - 1);
    while (slots [index]
    &&    ((slots [index] & ~(uint64_t) UINT32_MAX) != tag
       ||  memcmp (self->entries [(slots [index] & UINT32_MAX) - 1].key, key,
                   self->key_size)))
        index = (index + 1) & (capacity - 1);
    return &slots [index];
}

static s_slot_t
s_slot (const cp_case_cache_t *self, size_t entry)
{
    uint64_t hash = s_hash (self, self->entries [entry].key);
    return (hash & ~(uint64_t) UINT32_MAX) | (uint64_t) (entry + 1);
}

static void
s_grow (cp_case_cache_t *self)
{
    size_t capacity = self->capacity * 2;
    s_slot_t *slots = s_slots_new (capacity);
    for (size_t entry = 0; entry < self->count; entry++)
        *s_find (self, slots, capacity, self->entries [entry].key) = s_slot (self, entry);
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

//  Marks an entry touched in this transaction.
static void
s_touch (cp_case_cache_t *self, size_t entry)
{
    if (self->entries [entry].touched)
        return;
    if (self->touched_count == self->touched_max) {
        self->touched_max = self->touched_max? self->touched_max * 2: S_INITIAL;
        self->touched = realloc (self->touched, self->touched_max * sizeof (size_t));
        assert (self->touched);
    }
    self->entries [entry].touched = true;
    self->touched [self->touched_count++] = entry;
}

//  Makes the scratch buffer at least size bytes.
static void
s_reserve (cp_case_cache_t *self, size_t size)
{
    if (size > self->buffer_size) {
        //  It holds nothing between uses (wiped), so realloc leaves no copy.
        self->buffer_size = size * 2;
        self->buffer = realloc (self->buffer, self->buffer_size);
        assert (self->buffer);
    }
}

static void
s_ad (const cp_case_cache_t *self, const uint8_t *key, uint8_t *ad)
{
    ad [0] = 'C';
    memcpy (ad + 1, key, self->key_size);
}

//  Opens and decodes a stored record into state.  Returns 0 or CP_ESTORE
//  (logged without the record: it is case data).
static int
s_decode (cp_case_cache_t *self, const uint8_t *key, const MDB_val *value, cp_case_t *state)
{
    if (value->mv_size < CP_SEAL_OVERHEAD) {
        zsys_error ("%s: a stored case record is corrupt (too short to be sealed)",
                    self->module);
        return CP_ESTORE;
    }
    size_t size = value->mv_size - CP_SEAL_OVERHEAD;
    s_reserve (self, size);
    uint8_t ad [S_AD_MAX];
    s_ad (self, key, ad);
    int rc = cp_seal_open (self->seal, ad, 1 + self->key_size, value->mv_data, value->mv_size,
                           self->buffer);
    if (rc) {
        zsys_error ("%s: a stored case record does not open (%s): the store was sealed "
                    "under another key, or it is damaged", self->module, cp_strerror (rc));
        return CP_ESTORE;
    }
    rc = cp_case_decode (state, self->buffer, size);
    sodium_memzero (self->buffer, size);
    if (rc) {
        //  Damage to the store, not a bad event: the caller stops.
        zsys_error ("%s: a stored case record is corrupt", self->module);
        return CP_ESTORE;
    }
    return 0;
}

cp_case_t *
cp_case_cache_get (cp_case_cache_t *self, MDB_txn *txn, MDB_dbi dbi, const uint8_t *key,
                   int *rc)
{
    s_slot_t *slot = s_find (self, self->slots, self->capacity, key);
    if (*slot) {
        size_t entry = (*slot & UINT32_MAX) - 1;
        s_touch (self, entry);
        return &self->entries [entry].state;
    }
    MDB_val k = {self->key_size, (void *) key}, v;
    int mdb_rc = self->log? cp_case_log_get (self->log, txn, self->log_dbi, key, &v)
                          : MDB_NOTFOUND;
    if (mdb_rc == MDB_NOTFOUND)
        mdb_rc = mdb_get (txn, dbi, &k, &v);
    else
    if (mdb_rc) {
        *rc = mdb_rc;           //  logged
        return NULL;
    }
    if (mdb_rc && mdb_rc != MDB_NOTFOUND) {
        *rc = cp_lmdb_fail (self->module, "read case", mdb_rc);
        return NULL;
    }
    cp_case_t state;
    memset (&state, 0, sizeof state);
    if (mdb_rc == 0 && (*rc = s_decode (self, key, &v, &state)))
        return NULL;            //  cp_case_decode has reset it
    if (self->count == self->entries_max) {
        //  Entries hold pointers to their histories, none into the array.
        self->entries_max *= 2;
        self->entries = realloc (self->entries, self->entries_max * sizeof (s_entry_t));
        assert (self->entries);
    }
    assert (self->count < UINT32_MAX - 1);     //  a slot holds the index + 1 in 32 bits
    size_t entry = self->count++;
    s_entry_t *added = &self->entries [entry];
    added->touched = false;
    memcpy (added->key, key, self->key_size);
    added->state = state;
    if (self->count * 2 > self->capacity)
        s_grow (self);          //  puts the new entry in too
    else
        *slot = s_slot (self, entry);
    s_touch (self, entry);
    return &added->state;
}

//  Makes a scratch array at least size bytes; *max is its size.  For the
//  sealed bytes and the jobs, which hold nothing in the clear.
static void *
s_grow_scratch (void *data, size_t *max, size_t size)
{
    if (size > *max) {
        *max = size + size / 4;
        free (data);
        data = malloc (*max);
        assert (data);
    }
    return data;
}

int
cp_case_cache_write (cp_case_cache_t *self, MDB_txn *txn, MDB_dbi dbi)
{
    //  Every opened case, encoded into one buffer, then sealed together.
    size_t count = 0, plain_size = 0;
    for (size_t touched = 0; touched < self->touched_count; touched++) {
        s_entry_t *entry = &self->entries [self->touched [touched]];
        if (entry->state.opened) {
            count++;
            plain_size += cp_case_encoded_size (&entry->state);
        }       //  else looked up for an event that was refused
    }
    if (count == 0)
        return 0;
    s_reserve (self, plain_size);
    self->jobs = s_grow_scratch (self->jobs, &self->jobs_size, count * sizeof (cp_seal_job_t));
    self->sealed = s_grow_scratch (self->sealed, &self->sealed_size,
                                   plain_size + count * CP_SEAL_OVERHEAD);
    uint8_t *plain = self->buffer, *sealed = self->sealed;
    cp_seal_job_t *job = self->jobs;
    for (size_t touched = 0; touched < self->touched_count; touched++) {
        s_entry_t *entry = &self->entries [self->touched [touched]];
        if (!entry->state.opened)
            continue;
        s_ad (self, entry->key, job->ad);
        job->ad_size = 1 + self->key_size;
        job->plain = plain;
        job->plain_size = cp_case_encoded_size (&entry->state);
        job->sealed = sealed;
        cp_case_encode (&entry->state, plain);
        plain += job->plain_size;
        sealed += job->plain_size + CP_SEAL_OVERHEAD;
        job++;
    }
    //  Put as they come back sealed: the helper seals ahead while this
    //  thread writes.  Each job's key is in its associated data.
    cp_seal_batch_t *batch = cp_seal_batch_new (self->seal, self->jobs, count);
    size_t first, end;
    int rc = 0;
    while (rc == 0 && cp_seal_batch_next (batch, &first, &end))
        for (size_t index = first; index < end && rc == 0; index++) {
            job = &self->jobs [index];
            MDB_val k = {self->key_size, job->ad + 1};
            MDB_val v = {job->plain_size + CP_SEAL_OVERHEAD, job->sealed};
            if (self->log)
                rc = cp_case_log_put (self->log, txn, self->log_dbi, k.mv_data, v.mv_data,
                                      v.mv_size);
            else {
                int mdb_rc = mdb_put (txn, dbi, &k, &v, 0);
                if (mdb_rc)
                    rc = cp_lmdb_fail (self->module, "put case", mdb_rc);
            }
        }
    cp_seal_batch_destroy (&batch);
    sodium_memzero (self->buffer, plain_size);
    return rc;
}

size_t
cp_case_cache_touched (const cp_case_cache_t *self)
{
    return self->touched_count;
}

void
cp_case_cache_clear (cp_case_cache_t *self)
{
    if (self->count) {
        for (size_t entry = 0; entry < self->count; entry++)
            cp_case_reset (&self->entries [entry].state);
        self->count = 0;
        memset (self->slots, 0, self->capacity * sizeof (s_slot_t));
    }
    self->touched_count = 0;
}

void
cp_case_cache_committed (cp_case_cache_t *self, size_t keep_max)
{
    if (self->count > keep_max) {
        cp_case_cache_clear (self);
        return;
    }
    for (size_t touched = 0; touched < self->touched_count; touched++)
        self->entries [self->touched [touched]].touched = false;
    self->touched_count = 0;
}
