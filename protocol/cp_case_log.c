/*  cp_case_log: the index is an open-addressing table of (key, sequence)
    with linear probing, keyed by the keys' last eight bytes (keyed hashes,
    uniform), 24 bytes an entry (the sequence in 48 bits).  The index is
    the largest thing the log keeps in memory, so its table is made for
    the records of a fold, two thirds full then, and grows by half when
    three quarters full; sized by powers of two, it would be three eighths
    full at worst.  A transaction's puts wait in a list until it commits,
    since an abort must leave the index as it was.  A fold sorts the
    table's entries by key where they are, once (reads then search the
    sorted entries), then walks them a step at a time; each step reads its
    records in the order of the log and puts them in the order of the
    keys.                                                                  */

#include "cp_case_log.h"
#include "cp_error.h"
#include "cp_lmdb.h"
#include "cp_table.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t seq_low;           //  the sequence, 48 bits; 0: an empty slot
    uint16_t seq_high;
    uint8_t key [CP_CASE_LOG_KEY_MAX];
} s_entry_t;

//  Sequences past 48 bits would take a billion records a day for 700 years;
//  a stored one at the limit is damage (the next put would pass it).
#define S_SEQ_MAX (((uint64_t) 1 << 48) - 1)
static_assert (sizeof (s_entry_t) == 24, "an index entry is 24 bytes");

struct _cp_case_log_t {
    size_t key_size;
    size_t fold_records;
    const char *module;         //  for log lines
    s_entry_t *slots;           //  the index
    size_t capacity;
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
    uint8_t *buffer;            //  a step's values (sealed), read before written
    size_t buffer_size;
};

#define S_INITIAL 1024

static uint64_t
s_seq (const s_entry_t *entry)
{
    return (uint64_t) entry->seq_high << 32 | entry->seq_low;
}

static void
s_set_seq (s_entry_t *entry, uint64_t seq)
{
    assert (seq <= S_SEQ_MAX);
    entry->seq_low = (uint32_t) seq;
    entry->seq_high = (uint16_t) (seq >> 32);
}

static const s_entry_t *
    s_order_find (const cp_case_log_t *self, const uint8_t *key);

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
    size_t index = (size_t) (hash % capacity);
    while (s_seq (&slots [index]) && memcmp (slots [index].key, key, key_size))
        if (++index == capacity)
            index = 0;
    return &slots [index];
}

//  The slots of a table that holds entries at most two thirds full.
static size_t
s_capacity_for (size_t entries)
{
    size_t capacity = entries + entries / 2;
    return capacity > S_INITIAL? capacity: S_INITIAL;
}

static void
s_grow (cp_case_log_t *self)
{
    size_t capacity = self->capacity + self->capacity / 2;
    s_entry_t *slots = cp_table_new (capacity, sizeof (s_entry_t));
    for (size_t index = 0; index < self->capacity; index++)
        if (s_seq (&self->slots [index]))
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
    if (!s_seq (slot)) {
        memcpy (slot->key, key, self->key_size);
        self->count++;
    }
    s_set_seq (slot, seq);
}

//  Gives the index an empty table for entries (cp_table: a table of
//  calloc's fresh pages cost a TLB shootdown per page at its first
//  write, and it was made anew at every fold).
static void
s_table (cp_case_log_t *self, size_t entries)
{
    free (self->slots);
    self->capacity = s_capacity_for (entries);
    self->slots = cp_table_new (self->capacity, sizeof (s_entry_t));
    self->count = 0;
}

//  Empties the log's index and its count of records: the table is made
//  for the records of a fold, so that it does not grow between folds.
static void
s_empty (cp_case_log_t *self)
{
    s_table (self, self->fold_records);
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
    s_table (self, fold_records);
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
    free (self->buffer);
    free (self);
    *self_p = NULL;
}

int
cp_case_log_load (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log)
{
    assert (!self->pending_count && !self->order);
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
        if (seq == 0 || seq >= S_SEQ_MAX || value.mv_size <= self->key_size) {
            zsys_error ("%s: a record of the case log is corrupt (%s)", self->module,
                        seq == 0 || seq >= S_SEQ_MAX? "not keyed by a sequence number"
                                                    : "too short");
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

//  The value of key in the record the index points it at, read with
//  mdb_rc.  Returns 0 or CP_ESTORE (logged).
static int
s_record_value (cp_case_log_t *self, int mdb_rc, const MDB_val *record, const uint8_t *key,
                MDB_val *value)
{
    if (mdb_rc)
        //  The index came from the log: a record gone is damage too.
        return cp_lmdb_fail (self->module, "read the case log", mdb_rc == MDB_NOTFOUND
                             ? MDB_CORRUPTED: mdb_rc);
    if (record->mv_size <= self->key_size || memcmp (record->mv_data, key, self->key_size)) {
        zsys_error ("%s: a record of the case log is corrupt (not the case it was written "
                    "for)", self->module);
        return CP_ESTORE;
    }
    value->mv_data = (uint8_t *) record->mv_data + self->key_size;
    value->mv_size = record->mv_size - self->key_size;
    return 0;
}

int
cp_case_log_get (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, const uint8_t *key,
                 MDB_val *value)
{
    const s_entry_t *entry = self->order? s_order_find (self, key)
                           : s_find (self->slots, self->capacity, self->key_size, key);
    if (!entry || !s_seq (entry))
        return MDB_NOTFOUND;
    uint8_t seq [8];
    s_put_seq (seq, s_seq (entry));
    MDB_val k = {8, seq}, v;
    int mdb_rc = mdb_get (txn, log, &k, &v);
    return s_record_value (self, mdb_rc, &v, key, value);
}

int
cp_case_log_put (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, const uint8_t *key,
                 const void *value, size_t size)
{
    assert (!self->order);      //  no write between the steps of a fold
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
    s_set_seq (entry, self->next_seq++);
    memcpy (entry->key, key, self->key_size);
    return 0;
}

void
cp_case_log_committed (cp_case_log_t *self)
{
    for (size_t index = 0; index < self->pending_count; index++)
        s_index (self, self->pending [index].key, s_seq (&self->pending [index]));
    self->records += self->pending_count;
    self->pending_count = 0;
}

void
cp_case_log_aborted (cp_case_log_t *self)
{
    if (self->pending_count)
        self->next_seq = s_seq (&self->pending [0]);
    self->pending_count = 0;
}

void
cp_case_log_fold_at (cp_case_log_t *self, size_t records)
{
    assert (records > 0);
    self->fold_records = records;
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

//  Entries a part of the index must be down to before qsort sorts it:
//  glibc's qsort sorts through a copy of what it is given.
#define S_SORT_PART 4096

//  Sorts count entries by key where they are: parted by the key's byte
//  at depth, in place (each entry swapped straight into its byte's part,
//  as an American flag sort does), then each part by the next byte, until
//  a part is small enough to leave to qsort.
static void
s_sort_keys (s_entry_t *entries, size_t count, size_t depth)
{
    if (count <= S_SORT_PART || depth == CP_CASE_LOG_KEY_MAX) {
        qsort (entries, count, sizeof (s_entry_t), s_key_order);
        return;
    }
    size_t start [257] = {0}, next [256];
    for (size_t index = 0; index < count; index++)
        start [entries [index].key [depth] + 1]++;
    for (int byte = 0; byte < 256; byte++)
        start [byte + 1] += start [byte];
    memcpy (next, start, sizeof next);
    for (int byte = 0; byte < 256; byte++)
        while (next [byte] < start [byte + 1]) {
            //  Before next [b], part b holds only its own entries.
            uint8_t home = entries [next [byte]].key [depth];
            if (home == byte)
                next [byte]++;
            else {
                s_entry_t entry = entries [next [home]];
                entries [next [home]++] = entries [next [byte]];
                entries [next [byte]] = entry;
            }
        }
    for (int byte = 0; byte < 256; byte++)
        s_sort_keys (entries + start [byte], start [byte + 1] - start [byte], depth + 1);
}

//  Turns the index into a fold's order: its entries are moved to the
//  front of its table and sorted by key, where reads find them
//  (s_order_find) until the fold ends.  Sorted where it is, a fold needs
//  no copy of the largest thing the log keeps in memory.
static void
s_order (cp_case_log_t *self)
{
    size_t taken = 0;
    for (size_t index = 0; index < self->capacity; index++)
        if (s_seq (&self->slots [index]))
            self->slots [taken++] = self->slots [index];
    assert (taken == self->count);
    s_sort_keys (self->slots, taken, 0);
    self->order = self->slots;
    self->order_count = taken;
    self->folded = 0;
    self->slots = NULL;
    self->capacity = 0;
}

//  key's entry in a fold's order, or NULL.
static const s_entry_t *
s_order_find (const cp_case_log_t *self, const uint8_t *key)
{
    s_entry_t probe;
    memset (&probe, 0, sizeof probe);
    memcpy (probe.key, key, self->key_size);
    return bsearch (&probe, self->order, self->order_count, sizeof (s_entry_t), s_key_order);
}

//  Ends a fold's order: the index is empty after a fold that emptied the
//  log, else built again from the order.
static void
s_unorder (cp_case_log_t *self, bool emptied)
{
    s_entry_t *order = self->order;
    size_t count = self->order_count;
    self->order = NULL;
    self->order_count = 0;
    if (emptied)
        s_empty (self);
    else {
        s_table (self, count > self->fold_records? count: self->fold_records);
        for (size_t index = 0; index < count; index++)
            s_index (self, order [index].key, s_seq (&order [index]));
    }
    free (order);
    free (self->buffer);
    self->buffer = NULL;
    self->buffer_size = 0;
}

//  Orders a fold step's entries by sequence (s_fold_read).
static int
s_seq_order (const void *a, const void *b)
{
    uint64_t seq_a = s_seq (*(s_entry_t *const *) a), seq_b = s_seq (*(s_entry_t *const *) b);
    return seq_a < seq_b? -1: seq_a > seq_b;
}

//  Copies the values of the records of order [from, end) into the fold's
//  buffer, reading them in the order they were appended: with one cursor
//  each read starts from the page of the one before, not from the root.
//  at [i] is where the value of order [from + i] starts (its size is
//  where the next starts); at [end - from], the end of the last.
static int
s_fold_read (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, size_t from, size_t end,
             size_t *at)
{
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (txn, log, &cursor);
    if (mdb_rc)
        return cp_lmdb_fail (self->module, "open the case log", mdb_rc);
    size_t count = end - from;
    s_entry_t **by_seq = malloc ((count + 1) * sizeof (s_entry_t *));
    MDB_val *values = malloc ((count + 1) * sizeof (MDB_val));
    assert (by_seq && values);
    for (size_t index = 0; index < count; index++)
        by_seq [index] = &self->order [from + index];
    qsort (by_seq, count, sizeof (s_entry_t *), s_seq_order);
    int rc = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        const s_entry_t *entry = by_seq [index];
        uint8_t seq [8];
        s_put_seq (seq, s_seq (entry));
        MDB_val k = {8, seq}, record;
        mdb_rc = mdb_cursor_get (cursor, &k, &record, MDB_SET_KEY);
        rc = s_record_value (self, mdb_rc, &record, entry->key,
                             &values [entry - self->order - from]);
    }
    //  Copied, in key order: LMDB promises a value only until the next write.
    size_t size = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        at [index] = size;
        size += values [index].mv_size;
    }
    at [count] = size;
    if (rc == 0 && size > self->buffer_size) {
        free (self->buffer);
        self->buffer_size = size + size / 4;
        self->buffer = malloc (self->buffer_size);
        assert (self->buffer);
    }
    for (size_t index = 0; index < count && rc == 0; index++)
        memcpy (self->buffer + at [index], values [index].mv_data, values [index].mv_size);
    mdb_cursor_close (cursor);
    free (by_seq);
    free (values);
    return rc;
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
    //  Read in the order of the log, written in the order of cases, with
    //  one cursor: a key on the page of the one before is found without
    //  searching from the root, and a fold puts a few cases a page.
    size_t *at = malloc ((end - self->folded + 1) * sizeof (size_t));
    assert (at);
    int rc = s_fold_read (self, txn, log, self->folded, end, at);
    MDB_cursor *cursor = NULL;
    int mdb_rc = rc? 0: mdb_cursor_open (txn, cases, &cursor);
    if (mdb_rc)
        rc = cp_lmdb_fail (self->module, "open cases", mdb_rc);
    for (size_t index = self->folded; index < end && rc == 0; index++) {
        size_t step = index - self->folded;
        MDB_val k = {self->key_size, self->order [index].key};
        MDB_val v = {at [step + 1] - at [step], self->buffer + at [step]};
        if ((mdb_rc = mdb_cursor_put (cursor, &k, &v, 0)))
            rc = cp_lmdb_fail (self->module, "fold a case", mdb_rc);
    }
    if (cursor)
        mdb_cursor_close (cursor);
    free (at);
    if (rc)
        return rc;
    self->step_end = end;
    *done = end == self->order_count;
    if (*done) {
        mdb_rc = mdb_drop (txn, log, 0);
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
    if (!committed || self->folded == self->order_count)
        s_unorder (self, committed);
}
