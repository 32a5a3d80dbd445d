/*  testing_store: what the tests of the node's and the central's stores
    share about stores of an older format.

    Until format 5 of both stores, the month rows' database was named
    "days".  testing_store_make_old turns a closed store of this
    build into one like those (its rows in "days", the old format in meta),
    and testing_log_start / testing_log_end catch what the store logs
    meanwhile, so that a test can check that such a store is refused with a
    line that names both formats.  Include after testing.h.                 */

#ifndef TESTING_STORE_H_INCLUDED
#define TESTING_STORE_H_INCLUDED

#include "cp_store.h"

#include <czmq.h>
#include <lmdb.h>

//  Moves the month rows of the closed store at env_path (DIR/store) to
//  "days" and sets its meta "format" to format.  Returns how many rows
//  moved, or -1 (CHECKed) when the store could not be changed.
static int
testing_store_make_old (const char *env_path, const char *format)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi months, days, meta;
    MDB_cursor *cursor = NULL;
    int rows = -1;
    if (mdb_env_create (&env) == 0 && mdb_env_set_maxdbs (env, 32) == 0
    &&  mdb_env_open (env, env_path, MDB_NOTLS, 0600) == 0
    &&  mdb_txn_begin (env, NULL, 0, &txn) == 0
    &&  mdb_dbi_open (txn, CP_STORE_MONTHS, 0, &months) == 0
    &&  mdb_dbi_open (txn, "days", MDB_CREATE, &days) == 0
    &&  mdb_dbi_open (txn, "meta", 0, &meta) == 0
    &&  mdb_cursor_open (txn, months, &cursor) == 0) {
        MDB_val k, v;
        int rc = 0, op = MDB_FIRST;
        for (rows = 0; rc == 0 && mdb_cursor_get (cursor, &k, &v, op) == 0; rows++) {
            rc = mdb_put (txn, days, &k, &v, 0);
            op = MDB_NEXT;
        }
        mdb_cursor_close (cursor);
        MDB_val key = {6, "format"}, value = {strlen (format), (void *) format};
        if (rc || mdb_drop (txn, months, 1) || mdb_put (txn, meta, &key, &value, 0))
            rows = -1;
    }
    if (txn && rows >= 0 && mdb_txn_commit (txn))
        rows = -1;              //  the commit frees the transaction either way
    else
    if (txn && rows < 0)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
    CHECK (rows >= 0);
    return rows;
}

//  Sends zsys's log lines to a temporary file until testing_log_end.
static FILE *testing_log_ = NULL;

static void
testing_log_start (void)
{
    testing_log_ = tmpfile ();
    CHECK (testing_log_);
    if (testing_log_)
        zsys_set_logstream (testing_log_);
}

//  Sends zsys's log lines to stderr again, and returns what was logged
//  since testing_log_start (malloc'd; NULL when nothing could be caught).
static char *
testing_log_end (void)
{
    zsys_set_logstream (stderr);
    if (!testing_log_)
        return NULL;
    long size = ftell (testing_log_);
    char *text = size >= 0? malloc ((size_t) size + 1): NULL;
    rewind (testing_log_);
    if (text && fread (text, 1, (size_t) size, testing_log_) == (size_t) size)
        text [size] = 0;
    else {
        free (text);
        text = NULL;
    }
    fclose (testing_log_);
    testing_log_ = NULL;
    return text;
}

#endif
