/*  cp_lmdb: the few LMDB habits of every environment cpsync opens (the
    stores, through cp_store, and the backups of cp_backup).

    Each opens one environment with named databases, begins every
    transaction through cp_lmdb_begin (which adopts a map another process has
    grown), and turns LMDB's codes into ours with cp_lmdb_fail, which logs
    the operation with mdb_strerror.  A write that finds the map full makes
    the store abort, call cp_lmdb_grow and redo its transaction: MDB_MAP_FULL
    is a reason to grow, never to fail; and before a write the stores grow
    the map while it is more than half full (cp_lmdb_grow_ahead), so that
    redoing is rare.                                                        */

#ifndef CP_LMDB_H_INCLUDED
#define CP_LMDB_H_INCLUDED

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The map is address space, not disk (the file grows as pages are written),
//  so it starts large: every doubling after a full map redoes a transaction.
#define CP_LMDB_MAP_INITIAL ((size_t) 1 << 30)     //  1 GiB; CPSYNC_MAPSIZE overrides

//  How cp_lmdb_open opens an environment.
typedef enum {
    CP_LMDB_WRITE,              //  an existing environment, to write
    CP_LMDB_CREATE,             //  make it if missing, to write
    CP_LMDB_READONLY            //  an existing one, to read (queries while a daemon writes)
} cp_lmdb_mode_t;

//  Opens the environment in directory path.  Returns 0, CP_EIO when the
//  directory or its data file is missing (callers say "not a node" or "not
//  a central"), CP_ESTORE otherwise.
int
    cp_lmdb_open (MDB_env **env, const char *path, unsigned max_dbs, cp_lmdb_mode_t mode);

//  Makes a data directory, mode 0700, with any missing parents (like
//  mkdir -p).  Returns 0, or CP_EIO (errno tells why).
int
    cp_lmdb_make_dir (const char *dir);

//  Begins a transaction, adopting a map size another process has set.
int
    cp_lmdb_begin (MDB_env *env, unsigned flags, MDB_txn **txn);

//  Doubles the map size.  No transaction of this process may be open.
int
    cp_lmdb_grow (MDB_env *env);

//  Doubles the map size until the pages in use fill at most half of it, so
//  that a write transaction seldom meets MDB_MAP_FULL (which costs redoing
//  the whole transaction: a group of batches, an import).  Call before a
//  write transaction, with no transaction of this process open.  Returns
//  0, or CP_ESTORE when LMDB refuses (logged; the write may still fit).
int
    cp_lmdb_grow_ahead (MDB_env *env);

//  Logs "module: what: mdb_strerror" and returns CP_EMAPFULL for a full map
//  (the caller grows and redoes), else CP_ESTORE.
int
    cp_lmdb_fail (const char *module, const char *what, int mdb_rc);

//  Text values of a settings database ("meta"): put, and get into buf as a
//  string.  They return LMDB's codes (MDB_NOTFOUND, MDB_BAD_VALSIZE when it
//  does not fit).
int
    cp_lmdb_put_text (MDB_txn *txn, MDB_dbi dbi, const char *key, const char *value);
int
    cp_lmdb_get_text (MDB_txn *txn, MDB_dbi dbi, const char *key, char *buf, size_t size);

//  A u64 value of a settings database; 0 when absent.
uint64_t
    cp_lmdb_get_u64 (MDB_txn *txn, MDB_dbi dbi, const char *key);

//  The same in a read transaction of its own: one value read alone.
//  Returns 0, or an error of cp_lmdb_begin.
int
    cp_lmdb_read_u64 (MDB_env *env, MDB_dbi dbi, const char *key, uint64_t *value);

//  Big-endian integer keys, so LMDB's byte order is numeric order.
void
    cp_put_u64 (uint8_t *at, uint64_t value);
uint64_t
    cp_get_u64 (const uint8_t *at);
void
    cp_put_u32 (uint8_t *at, uint32_t value);
uint32_t
    cp_get_u32 (const uint8_t *at);

#endif
