/*  test_case_log: the case log of cp_case_log over a real LMDB
    environment, its values opaque bytes (the stores seal them).

    What is promised: a put is seen once its transaction commits, never
    after an abort; the latest record of a case wins, also when the index
    is rebuilt from the log; a fold, in steps of a few cases each
    committed, leaves each case's latest value in cases, in key order, and
    the log empty; a step that aborts changes nothing, and the fold starts
    over; records not of the log's making are refused with CP_ESTORE, at
    a read and at a fold. */

#include "cp_case_log.h"
#include "cp_error.h"
#include "testing.h"

#include <czmq.h>
#include <lmdb.h>

#define S_KEY 18

static char s_dir [64];         //  made by s_store_open, removed by s_remove_files

typedef struct {
    MDB_env *env;
    MDB_dbi log, cases;
} s_store_t;

static void
s_store_open (s_store_t *store)
{
    if (!*s_dir) {
        snprintf (s_dir, sizeof s_dir, "/tmp/test_case_log.XXXXXX");
        CHECK (mkdtemp (s_dir));
    }
    CHECK_EQ_INT (mdb_env_create (&store->env), 0);
    mdb_env_set_maxdbs (store->env, 4);
    mdb_env_set_mapsize (store->env, (size_t) 256 << 20);
    CHECK_EQ_INT (mdb_env_open (store->env, s_dir, MDB_NOTLS, 0600), 0);
    MDB_txn *txn;
    CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, 0, &txn), 0);
    CHECK_EQ_INT (mdb_dbi_open (txn, "case_log", MDB_CREATE, &store->log), 0);
    CHECK_EQ_INT (mdb_dbi_open (txn, "cases", MDB_CREATE, &store->cases), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
}

static void
s_store_close (s_store_t *store)
{
    mdb_env_close (store->env);
    store->env = NULL;
}

static void
s_remove_files (void)
{
    char path [128];
    snprintf (path, sizeof path, "%s/data.mdb", s_dir);
    unlink (path);
    snprintf (path, sizeof path, "%s/lock.mdb", s_dir);
    unlink (path);
    rmdir (s_dir);
    *s_dir = 0;
}

//  The key of case number, its hash part (the last eight bytes) spread.
static void
s_key (uint32_t number, uint8_t *key)
{
    memset (key, 0, S_KEY);
    key [0] = (uint8_t) (number >> 24);
    key [1] = (uint8_t) (number >> 16);
    uint64_t hash = number * 0x9E3779B97F4A7C15ull;
    memcpy (key + S_KEY - 8, &hash, 8);
    key [2] = (uint8_t) (number >> 8);
    key [3] = (uint8_t) number;
}

//  Puts version of case number's value ("case N vV") in one transaction
//  each, then commits (or aborts).
static void
s_put (s_store_t *store, cp_case_log_t *log, const uint32_t *numbers, size_t count,
       int version, bool commit)
{
    MDB_txn *txn;
    CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, 0, &txn), 0);
    for (size_t index = 0; index < count; index++) {
        uint8_t key [S_KEY];
        char value [64];
        s_key (numbers [index], key);
        int size = snprintf (value, sizeof value, "case %u v%d", numbers [index], version);
        CHECK_EQ_INT (cp_case_log_put (log, txn, store->log, key, value, (size_t) size), 0);
    }
    if (commit) {
        CHECK_EQ_INT (mdb_txn_commit (txn), 0);
        cp_case_log_committed (log);
    }
    else {
        mdb_txn_abort (txn);
        cp_case_log_aborted (log);
    }
}

//  Reads case number through the log, then cases (as cp_case_cache does),
//  into value; returns where it was found (0 log, 1 cases, 2 nowhere) or
//  -1 on an error.
static int
s_get (s_store_t *store, cp_case_log_t *log, uint32_t number, char *value, size_t size)
{
    MDB_txn *txn;
    CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, MDB_RDONLY, &txn), 0);
    uint8_t key [S_KEY];
    s_key (number, key);
    MDB_val v, k = {S_KEY, key};
    int where = 0;
    int rc = cp_case_log_get (log, txn, store->log, key, &v);
    if (rc == MDB_NOTFOUND)
        where = mdb_get (txn, store->cases, &k, &v) == 0? 1: 2;
    else
    if (rc)
        where = -1;
    if (where == 0 || where == 1)
        snprintf (value, size, "%.*s", (int) v.mv_size, (const char *) v.mv_data);
    mdb_txn_abort (txn);
    return where;
}

//  Folds the log most cases a step; returns the steps taken.
static int
s_fold (s_store_t *store, cp_case_log_t *log, size_t most)
{
    bool done = false;
    int steps = 0;
    while (!done && steps < 1000) {
        MDB_txn *txn;
        CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, 0, &txn), 0);
        CHECK_EQ_INT (cp_case_log_fold (log, txn, store->log, store->cases, most, &done), 0);
        CHECK_EQ_INT (mdb_txn_commit (txn), 0);
        cp_case_log_folded (log, true);
        steps++;
    }
    return steps;
}

static size_t
s_entries (s_store_t *store, MDB_dbi dbi)
{
    MDB_txn *txn;
    MDB_stat stat = {0};
    CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT (mdb_stat (txn, dbi, &stat), 0);
    mdb_txn_abort (txn);
    return stat.ms_entries;
}

static void
test_commit_abort_reload (void)
{
    s_store_t store;
    s_store_open (&store);
    cp_case_log_t *log = cp_case_log_new (S_KEY, 100, "test_case_log");
    char value [64];
    uint32_t first [] = {1, 2, 3};
    s_put (&store, log, first, 3, 1, true);
    CHECK_EQ_INT (cp_case_log_records (log), 3);
    CHECK_EQ_INT (s_get (&store, log, 2, value, sizeof value), 0);
    CHECK (streq (value, "case 2 v1"));

    //  An abort: neither its records nor its index entries stay, and the
    //  next transaction appends where it would have.
    uint32_t second [] = {2, 4};
    s_put (&store, log, second, 2, 2, false);
    CHECK_EQ_INT (s_get (&store, log, 2, value, sizeof value), 0);
    CHECK (streq (value, "case 2 v1"));
    CHECK_EQ_INT (s_get (&store, log, 4, value, sizeof value), 2);
    CHECK_EQ_INT (cp_case_log_records (log), 3);
    s_put (&store, log, second, 2, 3, true);
    CHECK_EQ_INT (s_get (&store, log, 2, value, sizeof value), 0);
    CHECK (streq (value, "case 2 v3"));
    CHECK_EQ_INT (cp_case_log_records (log), 5);
    CHECK_EQ_INT (cp_case_log_cases (log), 4);
    CHECK_EQ_INT (s_entries (&store, store.log), 5);
    CHECK (!cp_case_log_full (log));
    //  The store may move the point of folding (by the cases it holds).
    cp_case_log_fold_at (log, 5);
    CHECK (cp_case_log_full (log));
    cp_case_log_fold_at (log, 6);
    CHECK (!cp_case_log_full (log));
    cp_case_log_destroy (&log);

    //  Rebuilt from the log: the latest record of each case wins.
    s_store_close (&store);
    s_store_open (&store);
    log = cp_case_log_new (S_KEY, 5, "test_case_log");
    MDB_txn *txn;
    CHECK_EQ_INT (mdb_txn_begin (store.env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT (cp_case_log_load (log, txn, store.log), 0);
    mdb_txn_abort (txn);
    CHECK_EQ_INT (cp_case_log_records (log), 5);
    CHECK_EQ_INT (cp_case_log_cases (log), 4);
    CHECK (cp_case_log_full (log));
    CHECK_EQ_INT (s_get (&store, log, 2, value, sizeof value), 0);
    CHECK (streq (value, "case 2 v3"));
    CHECK_EQ_INT (s_get (&store, log, 1, value, sizeof value), 0);
    CHECK (streq (value, "case 1 v1"));
    uint32_t third [] = {5};
    s_put (&store, log, third, 1, 4, true);
    CHECK_EQ_INT (s_get (&store, log, 5, value, sizeof value), 0);
    CHECK (streq (value, "case 5 v4"));
    cp_case_log_destroy (&log);
    s_store_close (&store);
    s_remove_files ();
}

static void
test_fold (void)
{
    s_store_t store;
    s_store_open (&store);
    cp_case_log_t *log = cp_case_log_new (S_KEY, 1000, "test_case_log");
    //  5,000 cases (the table grows several times), each written twice
    //  or three times across transactions, in no key order.
    enum { CASES = 5000 };
    static uint32_t numbers [CASES];
    for (uint32_t index = 0; index < CASES; index++)
        numbers [index] = (index * 7919u) % CASES;
    s_put (&store, log, numbers, CASES, 1, true);
    s_put (&store, log, numbers, CASES / 2, 2, true);
    s_put (&store, log, numbers + CASES / 4, CASES / 2, 3, true);
    CHECK_EQ_INT (cp_case_log_records (log), 2 * CASES);
    CHECK_EQ_INT (cp_case_log_cases (log), CASES);
    CHECK (cp_case_log_full (log));

    //  A step that aborts: nothing changes, the fold starts over.
    MDB_txn *txn;
    bool done = true;
    CHECK_EQ_INT (mdb_txn_begin (store.env, NULL, 0, &txn), 0);
    CHECK_EQ_INT (cp_case_log_fold (log, txn, store.log, store.cases, 700, &done), 0);
    CHECK (!done);
    mdb_txn_abort (txn);
    cp_case_log_folded (log, false);
    //  A step that commits, then new writes before the fold goes on would
    //  break the fold's promise, so a real store never does it; here the
    //  reads in between must still see the log.
    CHECK_EQ_INT (mdb_txn_begin (store.env, NULL, 0, &txn), 0);
    CHECK_EQ_INT (cp_case_log_fold (log, txn, store.log, store.cases, 700, &done), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    cp_case_log_folded (log, true);
    CHECK_EQ_INT (s_entries (&store, store.cases), 700);
    char value [64], expected [64];
    CHECK_EQ_INT (s_get (&store, log, numbers [CASES / 2], value, sizeof value), 0);
    snprintf (expected, sizeof expected, "case %u v3", numbers [CASES / 2]);
    CHECK (streq (value, expected));

    CHECK_EQ_INT (s_fold (&store, log, 700), 7);
    CHECK_EQ_INT (cp_case_log_records (log), 0);
    CHECK_EQ_INT (cp_case_log_cases (log), 0);
    CHECK_EQ_INT (s_entries (&store, store.log), 0);
    CHECK_EQ_INT (s_entries (&store, store.cases), CASES);
    //  Each case's latest value, now from cases.
    int wrong = 0;
    for (uint32_t index = 0; index < CASES; index++) {
        int version = index < CASES / 4? 2: index < 3 * CASES / 4? 3: 1;
        snprintf (expected, sizeof expected, "case %u v%d", numbers [index], version);
        wrong += s_get (&store, log, numbers [index], value, sizeof value) != 1
              || !streq (value, expected);
    }
    CHECK_EQ_INT (wrong, 0);

    //  After a fold the log takes new records, read before cases.
    s_put (&store, log, numbers, 1, 9, true);
    snprintf (expected, sizeof expected, "case %u v9", numbers [0]);
    CHECK_EQ_INT (s_get (&store, log, numbers [0], value, sizeof value), 0);
    CHECK (streq (value, expected));
    //  An empty log folds in one step.
    cp_case_log_t *empty = cp_case_log_new (S_KEY, 1, "test_case_log");
    CHECK_EQ_INT (s_fold (&store, empty, 10), 1);
    cp_case_log_destroy (&empty);
    cp_case_log_destroy (&log);
    s_store_close (&store);
    s_remove_files ();
}

//  Writes a raw record into the log database.
static void
s_raw (s_store_t *store, const void *key, size_t key_size, const void *value, size_t size)
{
    MDB_txn *txn;
    CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, 0, &txn), 0);
    MDB_val k = {key_size, (void *) key}, v = {size, (void *) value};
    CHECK_EQ_INT (mdb_put (txn, store->log, &k, &v, 0), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
}

static int
s_load (s_store_t *store, cp_case_log_t *log)
{
    MDB_txn *txn;
    CHECK_EQ_INT (mdb_txn_begin (store->env, NULL, MDB_RDONLY, &txn), 0);
    int rc = cp_case_log_load (log, txn, store->log);
    mdb_txn_abort (txn);
    return rc;
}

static void
test_damage (void)
{
    s_store_t store;
    s_store_open (&store);
    cp_case_log_t *log = cp_case_log_new (S_KEY, 100, "test_case_log");
    uint32_t numbers [] = {1, 2};
    s_put (&store, log, numbers, 2, 1, true);
    CHECK_EQ_INT (s_load (&store, log), 0);

    //  A record whose key is not the case the index says: refused at
    //  read, not served as the other case's.
    uint8_t seq [8] = {0, 0, 0, 0, 0, 0, 0, 2}, record [S_KEY + 4];
    s_key (1, record);
    memcpy (record + S_KEY, "evil", 4);
    s_raw (&store, seq, 8, record, sizeof record);
    char value [64];
    CHECK_EQ_INT (s_get (&store, log, 2, value, sizeof value), -1);
    //  Nor copied into cases by a fold: the step fails, and aborts.
    MDB_txn *txn;
    bool done = false;
    CHECK_EQ_INT (mdb_txn_begin (store.env, NULL, 0, &txn), 0);
    CHECK_EQ_INT (cp_case_log_fold (log, txn, store.log, store.cases, 10, &done), CP_ESTORE);
    mdb_txn_abort (txn);
    cp_case_log_folded (log, false);
    CHECK_EQ_INT (s_entries (&store, store.cases), 0);
    CHECK_EQ_INT (s_load (&store, log), 0);    //  as a record, it is well formed
    CHECK_EQ_INT (s_get (&store, log, 1, value, sizeof value), 0);
    CHECK (streq (value, "evil"));

    //  Too short to hold a key and a value.
    uint8_t seq3 [8] = {0, 0, 0, 0, 0, 0, 0, 3};
    s_raw (&store, seq3, 8, record, S_KEY);
    CHECK_EQ_INT (s_load (&store, log), CP_ESTORE);
    CHECK_EQ_INT (cp_case_log_cases (log), 0);
    //  A key that is not a sequence number.
    s_raw (&store, seq3, 8, record, sizeof record);
    CHECK_EQ_INT (s_load (&store, log), 0);
    s_raw (&store, "abc", 3, record, sizeof record);
    CHECK_EQ_INT (s_load (&store, log), CP_ESTORE);
    uint8_t zero [8] = {0};
    cp_case_log_t *other = cp_case_log_new (S_KEY, 100, "test_case_log");
    CHECK_EQ_INT (mdb_txn_begin (store.env, NULL, 0, &txn), 0);
    MDB_val k = {3, "abc"};
    CHECK_EQ_INT (mdb_del (txn, store.log, &k, NULL), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    s_raw (&store, zero, 8, record, sizeof record);
    CHECK_EQ_INT (s_load (&store, other), CP_ESTORE);

    //  The index keeps sequences of 48 bits: the last but one loads, and
    //  the next put (the last) is found again through both of its parts;
    //  the last itself stored is damage (the put after it would overflow).
    CHECK_EQ_INT (mdb_txn_begin (store.env, NULL, 0, &txn), 0);
    k = (MDB_val) {8, zero};
    CHECK_EQ_INT (mdb_del (txn, store.log, &k, NULL), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    uint8_t high [8] = {0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    s_raw (&store, high, 8, record, sizeof record);
    CHECK_EQ_INT (s_load (&store, other), 0);
    uint32_t last [] = {7};
    s_put (&store, other, last, 1, 9, true);
    CHECK_EQ_INT (s_get (&store, other, 7, value, sizeof value), 0);
    CHECK (streq (value, "case 7 v9"));
    CHECK_EQ_INT (s_load (&store, other), CP_ESTORE);
    cp_case_log_destroy (&other);
    cp_case_log_destroy (&log);
    s_store_close (&store);
    s_remove_files ();
}

TESTING_MAIN (
    TEST (test_commit_abort_reload),
    TEST (test_fold),
    TEST (test_damage)
)
