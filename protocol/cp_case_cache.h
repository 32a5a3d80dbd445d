/*  cp_case_cache: the cases a write transaction touches, kept in memory.

    Both stores look a case up for every event they apply and write each
    touched case back once, at commit.  The cache reads a case from the
    store's cases database on first use (a fresh, never-opened case when
    none is stored), hands out the same cp_case_t until it is cleared, and
    writes every opened case the transaction touched back.  After a commit
    the cases may be kept for the next transactions (the central's groups
    touch the same cases again and again), which saves reading, opening
    and decoding them again; after an abort they must be cleared, since
    they may hold changes the store never got.  Keys are fixed-size byte strings (keyed
    hashes, see cp_index_key) of up to CP_CASE_CACHE_KEY_MAX bytes.

    A case's history is case data, so the stored values are sealed
    (cp_seal) under the store's data key, with the byte 'C' and the record's
    key as associated data: a value copied under another case's key does
    not open.                                                               */

#ifndef CP_CASE_CACHE_H_INCLUDED
#define CP_CASE_CACHE_H_INCLUDED

#include "cp_case.h"
#include "cp_case_log.h"
#include "cp_seal.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#define CP_CASE_CACHE_KEY_MAX 32

typedef struct _cp_case_cache_t cp_case_cache_t;

//  A cache for keys of key_size bytes that seals and opens the stored
//  values with seal (borrowed: it must outlive the cache; the store renews
//  it at each write transaction); module names the store in logs.
cp_case_cache_t *
    cp_case_cache_new (size_t key_size, cp_seal_t *seal, const char *module);

void
    cp_case_cache_destroy (cp_case_cache_t **self_p);

//  Makes the cache read and write cases through log (borrowed: it must
//  outlive the cache), whose records are in log_dbi: a read looks there
//  before the cases database, a write appends there instead (the store
//  tells the log when the transaction commits or aborts, and folds it).
void
    cp_case_cache_use_log (cp_case_cache_t *self, cp_case_log_t *log, MDB_dbi log_dbi);

//  The case under key, read from dbi in txn on first use.  Returns NULL
//  with *rc CP_ESTORE (logged) when LMDB fails or the stored record does
//  not open (another key, or damage) or does not decode.  The pointer
//  stays valid until the next get or clear (the cases may move when
//  their array grows).
cp_case_t *
    cp_case_cache_get (cp_case_cache_t *self, MDB_txn *txn, MDB_dbi dbi, const uint8_t *key,
                       int *rc);

//  Writes every opened case the transaction touched to dbi (or its log),
//  sealed (on two threads when there are many: cp_seal_batch_t).  Returns 0, CP_EMAPFULL
//  or CP_ESTORE.
int
    cp_case_cache_write (cp_case_cache_t *self, MDB_txn *txn, MDB_dbi dbi);

//  The cases looked up in the current transaction (since the last commit
//  or clear).
size_t
    cp_case_cache_touched (const cp_case_cache_t *self);

//  Forgets every case (keeps the memory for reuse).  Call after an abort,
//  or after a commit to keep nothing.
void
    cp_case_cache_clear (cp_case_cache_t *self);

//  After a commit that wrote the cache (cp_case_cache_write): keeps the
//  cases, now as stored, for the next transactions of the same store
//  (nothing else may write its cases database meanwhile), unless more than
//  keep_max are held, then forgets them all.
void
    cp_case_cache_committed (cp_case_cache_t *self, size_t keep_max);

#endif
