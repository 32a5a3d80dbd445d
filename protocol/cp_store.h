/*  cp_store: what the node's and the central's stores have in common.

    Each store keeps one LMDB environment in DIR/store and two secret keys
    in DIR/keys: index.key (cp_index_key), which keys the hashes its
    indexes use, and the key that seals its values at rest (cp_seal: the
    node's data.key, the central's storage.key).  Each environment holds,
    beside the databases of its own,
        meta        the store's settings: "format" (the store's layout:
                    another is refused rather than misread), "catalogue"
                    (the active version) and the store's own
        catalogues  u32 version (native) → the catalogue's JSON text
        months      a key prefix of the store's (none at the node, a scope
                    at the central), u32 month (cp_tally_month) → the
                    month's counter row (cp_tally)

    This module does for both what is the same: setting a store up, and
    taking back a set-up that fails half way so that init can be run
    again; opening one, refusing one of another format and loading its
    catalogue; loading its keys; the round of a write transaction (begin
    with the map grown ahead, puts that note a full map, a commit that
    grows it, an abort that grows it when a put found it full); and month
    rows, merged with a transaction's deltas and read into a view; and
    refusal counters, one per cp_error_t code.  What
    tells the stores apart is a cp_store_kind_t.  What is a store's own
    (its databases, its settings, what a transaction does) it keeps, and
    gives to cp_store_create and cp_store_open as a function of its own.

    As in cp_lmdb, what can fail returns 0 or a cp_error_t, and LMDB's
    failures are logged with the store's module name and mdb_strerror.  One
    store per process, so the functions are called by its one owner.       */

#ifndef CP_STORE_H_INCLUDED
#define CP_STORE_H_INCLUDED

#include "cp_catalogue.h"
#include "cp_figures.h"
#include "cp_lmdb.h"
#include "cp_seal.h"
#include "cp_tally.h"
#include "cp_view.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The database of month rows.  Named "days" before format 5 of both
//  stores, though its rows were already months.
#define CP_STORE_MONTHS "months"

//  Bytes of a month row's key before its month, at most.
#define CP_STORE_MONTH_PREFIX_MAX 8

//  What tells one kind of store from the other.
typedef struct {
    const char *module;         //  the store's module, first on its log lines: "node_store"
    const char *name;           //  what the store is to people: "node", "central"
    const char *format;         //  meta "format" of the stores this build reads and writes
    const char *advice;         //  what to do with a store of another format, said when
                                //  one is refused; NULL: nothing to say
    const char *seal_key;       //  the sealing key's file, under DIR: "keys/data.key"
    const char *seal_key_name;  //  what messages call that key: "data key"
    int not_store;              //  the code for "DIR holds no such store":
                                //  CP_ENOTNODE, CP_ENOTCENTRAL
    unsigned max_dbs;           //  named databases the environment may hold
    const char *upgrades;       //  a format the writer upgrades to this one in place
                                //  (NULL: none); readers refuse it until then
    int (*upgrade) (MDB_txn *txn);  //  what upgrading adds (in the write transaction
                                //  that rewrites the format): 0 or an LMDB code
} cp_store_kind_t;

//  A store's own part of its set-up, in the transaction that writes the new
//  store, after cp_store has written format, catalogue and the catalogues:
//  creates the store's databases (MDB_CREATE; meta and months among them)
//  and writes its own settings into meta, from args (cp_store_create's).
//  Returns 0 or an LMDB code (the set-up is taken back).
typedef int (cp_store_create_fn) (MDB_txn *txn, const void *args);

//  A store's own part of its opening, in a read transaction, once its format
//  is known to be the kind's: opens the store's databases into store (LMDB
//  gives every opening of a name the same handle, so meta and catalogues
//  too) and reads and checks its own settings; dir is for messages.
//  Returns 0, or the cp_error_t that refuses the store.
typedef int (cp_store_open_fn) (void *store, MDB_txn *txn, const char *dir);

//  Sets up a new store of kind in dir (created if missing: cp_lmdb_make_dir):
//  the index key, the sealing key, and the environment, in one transaction,
//  with the format, catalogues 1..catalogue of the built-in texts (catalogue
//  active) and what create writes.  Returns 0, CP_EEXISTS (dir holds a store,
//  or its index key), CP_ECATALOGUE, CP_EIO or CP_ESTORE; after a failure
//  past the index key, what was made is removed again (logged when it
//  cannot be).
int
    cp_store_create (const cp_store_kind_t *kind, const char *dir, int catalogue,
                     cp_store_create_fn *create, const void *args);

//  Opens the environment of the store of kind in dir (mode: cp_lmdb_open's),
//  checks its format (logged when it is another), has open read the store's
//  own part into store, and loads the active catalogue.  Returns 0 with *env
//  and *catalogue (the caller's to close and destroy), or with both NULL:
//  kind->not_store when dir holds no store of the kind's format,
//  CP_ECATALOGUE (logged), open's code, or CP_ESTORE.
int
    cp_store_open (const cp_store_kind_t *kind, const char *dir, cp_lmdb_mode_t mode,
                   cp_store_open_fn *open, void *store, MDB_env **env,
                   cp_catalogue_t **catalogue);

//  Loads the keys of the store in dir: *index_key (cp_index_key_destroy) and
//  *seal, a sealer under the kind's sealing key (cp_seal_destroy).  Returns
//  0; CP_EINSECURE when a key file may be read by others, kind->not_store
//  when one is missing or of another size, CP_EIO: each logged, with
//  nothing loaded.
int
    cp_store_keys_load (const cp_store_kind_t *kind, const char *dir, uint8_t **index_key,
                        cp_seal_t **seal);

//  Releases what cp_store_open and cp_store_keys_load gave (each may be
//  NULL; all are NULL after).  No transaction may be open on env.
void
    cp_store_close (MDB_env **env, cp_catalogue_t **catalogue, uint8_t **index_key,
                    cp_seal_t **seal);

//  Installs a catalogue revision (size bytes of its JSON text) in the write
//  transaction txn, over catalogue, the store's active one: a revision
//  that is the next version and applies (cp_catalogue_check_revision)
//  goes into catalogues, and meta "catalogue" names its version (*version
//  is it); a text the store holds already under a version, byte for byte,
//  changes nothing (*version 0).  Returns 0, CP_ECATALOGUE with why (a
//  text that is not the next revision or does not apply), or what
//  cp_store_put returns.  The caller reloads the catalogue after commit.
int
    cp_store_catalogue_install (const cp_store_kind_t *kind, MDB_txn *txn,
                                const cp_catalogue_t *catalogue, const char *text, size_t size,
                                int *version, bool *grow, char *why, size_t why_size);

//  The active catalogue as txn sees it, rebuilt from its texts: NULL
//  (logged) when it does not load.  The caller destroys it.
cp_catalogue_t *
    cp_store_catalogue_load (const cp_store_kind_t *kind, MDB_txn *txn);

//  Begins a store's write transaction: first grows the map while it is more
//  than half full (a full map costs redoing the whole transaction), and
//  after, renews seal's nonce prefix, so that one draw of the random source
//  serves the transaction's nonces.  Returns 0 or CP_ESTORE.
int
    cp_store_begin (MDB_env *env, cp_seal_t *seal, MDB_txn **txn);

//  mdb_put in a store's write transaction, value as LMDB takes it (so that
//  MDB_RESERVE hands back the space to write in).  Returns 0, or what
//  cp_store_fail returns.
int
    cp_store_put (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi dbi, const void *key,
                  size_t key_size, MDB_val *value, unsigned flags, const char *what,
                  bool *grow);

//  A write of a store's that LMDB refused with mdb_rc: a full map sets *grow
//  (the store's abort grows it: cp_store_abort) and is CP_EMAPFULL; anything
//  else is logged as "module: what: mdb_strerror" and is CP_ESTORE.
int
    cp_store_fail (const cp_store_kind_t *kind, const char *what, int mdb_rc, bool *grow);

//  Commits a store's write transaction, durably; txn is gone after, whatever
//  the result.  Returns 0, CP_EMAPFULL when the map filled up (grown now: the
//  caller redoes the transaction), or CP_ESTORE (logged with what).
int
    cp_store_commit (const cp_store_kind_t *kind, MDB_env *env, MDB_txn *txn,
                     const char *what);

//  Abandons the write transaction *txn, if any (*txn NULL after), and grows
//  the map when *grow says a write found it full (*grow false after).
void
    cp_store_abort (MDB_env *env, MDB_txn **txn, bool *grow);

//  Adds every month of deltas into the stored rows of months under prefix
//  (prefix_size bytes, at most CP_STORE_MONTH_PREFIX_MAX), each row read,
//  merged and written once, in the write transaction txn.  Returns 0,
//  CP_ESTORE (logged; also when a stored row is not one), or CP_EMAPFULL
//  (noted in *grow).
int
    cp_store_months_merge (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                           const uint8_t *prefix, size_t prefix_size,
                           const cp_tally_t *deltas, bool *grow);

//  Adds the rows of months under prefix (as cp_store_months_merge), from the
//  first month to the view's last (cp_view_last_month), into view.  Returns
//  0, or CP_ESTORE (a row that is not one is logged).
int
    cp_store_months_view (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                          const uint8_t *prefix, size_t prefix_size, cp_view_t *view);

//  Reads the rows of months under prefix (as cp_store_months_merge), every
//  month, into figures (its months and their digests, cp_figures_add;
//  as_of is left as it is): one range read.  Returns 0, or CP_ESTORE (a
//  row that is not one is logged).
int
    cp_store_months_figures (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                             const uint8_t *prefix, size_t prefix_size, cp_month_digests_t *figures);

//  Reads the stored rows under prefix (as cp_store_months_merge) of the
//  months rows names (rows->count of them), each as stored or of size 0
//  where there is none; as_of is left as it is.  Returns 0, or CP_ESTORE.
int
    cp_store_months_rows (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                          const uint8_t *prefix, size_t prefix_size, cp_month_rows_t *rows);

//  Refusal counters: a database of its own whose key is a cp_error_t (i32,
//  big-endian) and whose value is how many times it was refused (u64).
typedef struct {
    int code;                   //  a cp_error_t
    uint64_t count;
} cp_store_counter_t;

//  Adds count to the counter of code in counters, in the write transaction
//  txn.  Returns 0, CP_ESTORE (logged) or CP_EMAPFULL (noted in *grow).
int
    cp_store_counter_add (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi counters,
                          int code, uint64_t count, bool *grow);

//  Reads the counters in txn, by code, into out (at most max of them) and
//  *count.  Returns 0, or CP_ESTORE (a counter that is not one is logged).
int
    cp_store_counters_read (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi counters,
                            cp_store_counter_t *out, size_t max, size_t *count);

#endif
