/*  cp_case_log: a store's recent case records, appended, and folded into
    its cases database now and then.

    Writing each case a transaction touched back under its own key costs a
    page of the cases database per case once the cases a transaction
    touches are spread over its pages, as they are when a node's history
    holds hundreds of thousands of open cases: LMDB copies each touched
    page and writes the copy at commit (docs/design.md, section 17).  The
    log appends instead: each record is keyed by the next sequence number,
    so a transaction's records fill a few pages in order.  An index in
    memory says which record holds each case's latest state; a read looks
    there before the cases database.  Once the log holds enough records,
    a fold copies each case's latest record into cases in key order, in
    transactions of a bounded number of cases, and the last of them
    empties the log: a case rewritten many times between folds costs one
    write of its page, not one per transaction.

    A record is the case's key followed by its value exactly as the cases
    database holds it (sealed, by cp_case_cache, under associated data
    that names the key), so a fold moves it without opening it.

    What is safe: the log commits with everything else a transaction
    writes.  A fold that stops half way (a crash, a full disk) leaves the
    log whole; the cases it copied hold what the log holds too, and the
    index, rebuilt from the log when the store opens, sends reads to the
    log.  Nothing but the fold may write the cases database of a store that
    has a log.                                                              */

#ifndef CP_CASE_LOG_H_INCLUDED
#define CP_CASE_LOG_H_INCLUDED

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_CASE_LOG_KEY_MAX 18          //  bytes of a case key at most (the
                                        //  central's: municipality, hash)

typedef struct _cp_case_log_t cp_case_log_t;

//  A log of cases keyed by key_size bytes, folded once it holds
//  fold_records records (its index then holds at most that many cases);
//  module names the store in logs.
cp_case_log_t *
    cp_case_log_new (size_t key_size, size_t fold_records, const char *module);

void
    cp_case_log_destroy (cp_case_log_t **self_p);

//  Reads the whole log in txn into the index (forgetting what it held).
//  Returns 0, or CP_ESTORE (logged) when LMDB fails or a record is not
//  one the log writes: a key that is not a sequence number, a value too
//  short to hold a key and a sealed value.
int
    cp_case_log_load (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log);

//  The latest value the log holds for key (valid until txn writes or
//  ends).  Returns 0, MDB_NOTFOUND when the log has none (the cases
//  database has the case, if anyone does), or CP_ESTORE (logged) when LMDB
//  fails or the record is not the one the index says.
int
    cp_case_log_get (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, const uint8_t *key,
                     MDB_val *value);

//  Appends key's new value in txn.  The index takes it at
//  cp_case_log_committed.  Returns 0, CP_EMAPFULL or CP_ESTORE (logged).
int
    cp_case_log_put (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, const uint8_t *key,
                     const void *value, size_t size);

//  After the transaction of the puts committed: the index takes them.
void
    cp_case_log_committed (cp_case_log_t *self);

//  After it aborted: forgets them.
void
    cp_case_log_aborted (cp_case_log_t *self);

//  Makes the log full from records records on.
void
    cp_case_log_fold_at (cp_case_log_t *self, size_t records);

//  True when the log holds enough records to be folded.
bool
    cp_case_log_full (const cp_case_log_t *self);

//  Records in the log, and the cases they are the latest of.
size_t
    cp_case_log_records (const cp_case_log_t *self);
size_t
    cp_case_log_cases (const cp_case_log_t *self);

//  One step of a fold, in its own write transaction txn: copies the latest
//  record of the next most cases (in key order) into cases; the step
//  that copies the last also empties the log, and sets *done.  Commit
//  txn, then call cp_case_log_folded; no other write may come between
//  the steps of a fold.  Returns 0, CP_EMAPFULL or CP_ESTORE (logged).
int
    cp_case_log_fold (cp_case_log_t *self, MDB_txn *txn, MDB_dbi log, MDB_dbi cases,
                      size_t most, bool *done);

//  After a fold step's transaction: committed, or not (then the fold
//  starts over at the next cp_case_log_fold; what earlier steps copied
//  is harmless, the log still holds it).  When the step that emptied the
//  log committed, the index is emptied too.
void
    cp_case_log_folded (cp_case_log_t *self, bool committed);

#endif
