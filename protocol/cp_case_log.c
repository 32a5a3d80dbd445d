/*  cp_case_log: the index is an open-addressing table of (key, sequence)
    with linear probing, keyed by the keys' last eight bytes (keyed hashes,
    uniform); it is kept at most three quarters full.  A transaction's
    puts wait in a list until it commits, since an abort must leave the
    index as it was.  A fold copies the table's entries and sorts the copy
    by key once, then walks it a step at a time.                        */

#include "cp_case_log.h"
#include "cp_error.h"
#include "cp_lmdb.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t seq;               //  0: an empty slot
    uint8_t key [CP_CASE_LOG_KEY_MAX];
} s_entry_t;

struct _cp_case_log_t {
    size_t key_size;
    size_t fold_records;
    const char *module;         //  for log lines
    s_entry_t *slots;           //  the index
    size_t capacity;            //  a power of two
    size_t count;               //  cases in the index
    size_t records;             //  records in the log, committed
    uint64_t next_seq;          //  the sequence of the next put
    s_entry_t *pending;         //  the open transaction's puts
    size_t pending_count;
    size_t pending_max;
    s_entry_t *order;           //  a fold's cases in key order; NULL between folds
    size_t order_count;
    size_t folded;              //  the entries of order the committed steps copied
    size_t step_end;            //  where the open step ends
};

#define S_INITIAL 1024

static void
s_put_seq (uint8_t *at, uint64_t seq)
{
    for (int byte = 7; byte >= 0; byte--, seq >>= 8)
        at [byte] = (uint8_t) seq;
}

static uint64_t
s_get_seq (const uint8_t *at)
{
    uint64_t seq = 0;
    for (int byte = 0; byte < 8; byte++)
        seq = seq << 8 | at [byte];
    return seq;
}

static s_entry_t *
s_find (s_entry_t *slots, size_t capacity, size_t key_size, const uint8_t *key)
{
    uint64_t hash;
    memcpy (&hash, key + key_size - 8, 8);
    size_t index = (size_t) hash & (capacity - 1);
    while (slots [index].seq && memcmp (slots [index].key, key, key_size))
        index = (index + 1) & (capacity - 1);
    return &slots [index];
}

static void
s_grow (cp_case_log_t *self)
{
    size_t capacity = self->capacity * 2;
    s_entry_t *slots = calloc (capacity, sizeof (s_entry_t));
    assert (slots);
    for (size_t index = 0; index < self->capacity; index++)
        if (self->slots [index].seq)
            *s_find (slots, capacity, self->key_size, self->slots [index].key)
                = self->slots [index];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

//  Points key at seq in the index.
static void
s_index (cp_case_log_t *self, const uint8_t *key, uint64_t seq)
{
    if ((self->count + 1) * 4 > self->capacity * 3)
        s_grow (self);
    s_entry_t *slot = s_find (self->slots, self->capacity, self->key_size, key);
    if (!slot->seq) {
        memcpy (slot->key, key, self->key_size);
        self->count++;
    }
    slot->seq = seq;
}

//  Empties the index, keeping its table.
static void
s_empty (cp_case_log_t *self)
{
    memset (self->slots, 0, self->capacity * sizeof (s_entry_t));
    self->count = 0;
    self->records = 0;
}

cp_case_log_t *
cp_case_log_new (size_t key_size, size_t fold_records, const char *module)
{
    assert (key_size >= 8 && key_size <= CP_CASE_LOG_KEY_MAX);
    assert (fold_records > 0);
    cp_case_log_t *self = calloc (1, sizeof (cp_case_log_t));
    assert (self);
    self->key_size = key_size;
    self->fold_records = fold_records;
    self->module = module;
    self->capacity = S_INITIAL;
    self->slots = calloc (self->capacity, sizeof (s_entry_t));
    assert (self->slots);
    self->next_seq = 1;
    return self;
}

void
cp_case_log_destroy (cp_case_log_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_case_log_t *self = *self_p;
    free (self->slots);
    free (self->pending);
    free (self->order);
    free (self);
    *self_p = NULL;
}

int
cp_case_log_load (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log)
{
    assert (!self->pending_count);
    free (self->order);
    self->order = NULL;
    s_empty (self);
    self->next_seq = 1;
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (txn, log, &cursor);
    if (mdb_rc)
        return cp_lmdb_fail (self->module, "open the case log", mdb_rc);
    MDB_val key, value;
    int rc = 0;
    while (rc == 0 && (mdb_rc = mdb_cursor_get (cursor, &key, &value,
                                                self->records? MDB_NEXT: MDB_FIRST)) == 0) {
        uint64_t seq = key.mv_size == 8? s_get_seq (key.mv_data): 0;
        if (seq == 0 || value.mv_size <= self->key_size) {
            zsys_error ("%s: a record of the case log is corrupt (%s)", self->module,
                        seq? "too short": "not keyed by a sequence number");
            rc = CP_ESTORE;
            break;
        }
        s_index (self, value.mv_data, seq);
        self->records++;
        self->next_seq = seq + 1;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 && mdb_rc != MDB_NOTFOUND)
        rc = cp_lmdb_fail (self->module, "read the case log", mdb_rc);
    if (rc)
        s_empty (self);
    return rc;
}

int
cp_case_log_get (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, const uint8_t *key,
                 MDB_val *value)
{
    s_entry_t *slot = s_find (self->slots, self->capacity, self->key_size, key);
    if (!slot->seq)
        return MDB_NOTFOUND;
    uint8_t seq [8];
    s_put_seq (seq, slot->seq);
    MDB_val k = {8, seq}, v;
    int mdb_rc = mdb_get (txn, log, &k, &v);
    if (mdb_rc)
        //  The index came from the log: a record gone is damage too.
        return cp_lmdb_fail (self->module, "read the case log", mdb_rc == MDB_NOTFOUND
                             ? MDB_CORRUPTED: mdb_rc);
    if (v.mv_size <= self->key_size || memcmp (v.mv_data, key, self->key_size)) {
        zsys_error ("%s: a record of the case log is corrupt (not the case it was written "
                    "for)", self->module);
        return CP_ESTORE;
    }
    value->mv_data = (uint8_t *) v.mv_data + self->key_size;
    value->mv_size = v.mv_size - self->key_size;
    return 0;
}

int
cp_case_log_put (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, const uint8_t *key,
                 const void *value, size_t size)
{
    uint8_t seq [8];
    s_put_seq (seq, self->next_seq);
    MDB_val k = {8, seq}, v = {self->key_size + size, NULL};
    //  Reserve, then fill: the record is the key and the value together.
    int mdb_rc = mdb_put (txn, log, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (mdb_rc)
        return cp_lmdb_fail (self->module, "append to the case log", mdb_rc);
    memcpy (v.mv_data, key, self->key_size);
    memcpy ((uint8_t *) v.mv_data + self->key_size, value, size);
    if (self->pending_count == self->pending_max) {
        self->pending_max = self->pending_max? self->pending_max * 2: S_INITIAL;
        self->pending = realloc (self->pending, self->pending_max * sizeof (s_entry_t));
        assert (self->pending);
    }
    s_entry_t *entry = &self->pending [self->pending_count++];
    entry->seq = self->next_seq++;
    memcpy (entry->key, key, self->key_size);
    return 0;
}

void
cp_case_log_committed (cp_case_log_t *self)
{
    for (size_t index = 0; index < self->pending_count; index++)
        s_index (self, self->pending [index].key, self->pending [index].seq);
    self->records += self->pending_count;
    self->pending_count = 0;
}

void
cp_case_log_aborted (cp_case_log_t *self)
{
    if (self->pending_count)
        self->next_seq = self->pending [0].seq;
    self->pending_count = 0;
}

bool
cp_case_log_full (const cp_case_log_t *self)
{
    return self->records >= self->fold_records;
}

size_t
cp_case_log_records (const cp_case_log_t *self)
{
    return self->records;
}

size_t
cp_case_log_cases (const cp_case_log_t *self)
{
    return self->count;
}

//  Orders entries by key.  The bytes of a key past the log's key size are
//  zero in every entry (s_index copies key_size bytes into zeroed slots),
//  so comparing them all orders as comparing key_size would.
static int
s_key_order (const void *a, const void *b)
{
    return memcmp (((const s_entry_t *) a)->key, ((const s_entry_t *) b)->key,
                   CP_CASE_LOG_KEY_MAX);
}

//  The index's entries in key order, copied into self->order.
static void
s_order (cp_case_log_t *self)
{
    s_entry_t *order = malloc ((self->count? self->count: 1) * sizeof (s_entry_t));
    assert (order);
    size_t taken = 0;
    for (size_t index = 0; index < self->capacity; index++)
        if (self->slots [index].seq)
            order [taken++] = self->slots [index];
    assert (taken == self->count);
    qsort (order, taken, sizeof (s_entry_t), s_key_order);
    self->order = order;
    self->order_count = taken;
    self->folded = 0;
}

int
cp_case_log_fold (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, MDB_dbi cases,
                  size_t most, bool *done)
{
    assert (!self->pending_count && most > 0);
    if (!self->order)
        s_order (self);
    size_t end = self->folded + most < self->order_count? self->folded + most
                                                         : self->order_count;
    for (size_t index = self->folded; index < end; index++) {
        const uint8_t *key = self->order [index].key;
        MDB_val value;
        int rc = cp_case_log_get (self, txn, log, key, &value);
        if (rc)
            return rc == MDB_NOTFOUND? CP_ESTORE: rc;
        MDB_val k = {self->key_size, (void *) key};
        int mdb_rc = mdb_put (txn, cases, &k, &value, 0);
        if (mdb_rc)
            return cp_lmdb_fail (self->module, "fold a case", mdb_rc);
    }
    self->step_end = end;
    *done = end == self->order_count;
    if (*done) {
        int mdb_rc = mdb_drop (txn, log, 0);
        if (mdb_rc)
            return cp_lmdb_fail (self->module, "empty the case log", mdb_rc);
    }
    return 0;
}

void
cp_case_log_folded (cp_case_log_t *self, bool committed)
{
    if (!self->order)
        return;
    if (committed)
        self->folded = self->step_end;
    if (!committed || self->folded == self->order_count) {
        if (committed)
            s_empty (self);
        free (self->order);
        self->order = NULL;
    }
}
