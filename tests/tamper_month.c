/*  tamper_month: changes one counter of one month row behind a store's
    back, as damage or a bad hand-edit would, for test_reconcile.sh.

        tamper_month STORE MONTH [MUNICIPALITY]

    STORE is a node's or central's DIR/store, MONTH YYYY-MM.  With
    MUNICIPALITY the row is the central's of that municipality's scope,
    without it the node's.  The row's first cell gains one; the row stays
    one a view reads (cells in order, values in range).  Exit 0 when a row
    was changed, 1 when there is no such row or the store fails, 2 for bad
    arguments.  The store must not be in use by a daemon.                   */

#include "cp_lmdb.h"
#include "cp_municipality.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
    int year, month;
    if ((argc != 3 && argc != 4) || sscanf (argv [2], "%4d-%2d", &year, &month) != 2
    ||  year < 2000 || year > 2099 || month < 1 || month > 12) {
        fprintf (stderr, "usage: tamper_month STORE YYYY-MM [MUNICIPALITY]\n");
        return 2;
    }
    uint8_t key [8];
    size_t key_size = 0;
    if (argc == 4) {
        int index = cp_municipality_index (argv [3]);
        if (index < 0) {
            fprintf (stderr, "tamper_month: no municipality '%s'\n", argv [3]);
            return 2;
        }
        cp_put_u32 (key, (uint32_t) CP_SCOPE_MUNICIPALITY << 16 | (uint32_t) index);
        key_size = 4;
    }
    cp_put_u32 (key + key_size, (uint32_t) ((year - 2000) * 12 + month - 1));
    key_size += 4;

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi months;
    if (cp_lmdb_open (&env, argv [1], 32, CP_LMDB_WRITE))
        return 1;
    int rc = mdb_txn_begin (env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "months", 0, &months);
    MDB_val k = {key_size, key}, v;
    if (rc == 0)
        rc = mdb_get (txn, months, &k, &v);
    //  The stored form: u16 count, then per cell u16 cell, i64 value (LE)
    if (rc == 0 && (v.mv_size < 12 || ((uint8_t *) v.mv_data) [0] == 0)) {
        fprintf (stderr, "tamper_month: the row of %s has no cell\n", argv [2]);
        rc = MDB_NOTFOUND;
    }
    if (rc == 0) {
        uint8_t row [v.mv_size];
        memcpy (row, v.mv_data, v.mv_size);
        row [4]++;              //  the first cell's value, lowest byte
        if (row [4] == 0)
            row [4] = 1;
        MDB_val changed = {sizeof row, row};
        rc = mdb_put (txn, months, &k, &changed, 0);
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    mdb_env_close (env);
    if (rc) {
        fprintf (stderr, "tamper_month: %s %s: %s\n", argv [1], argv [2], mdb_strerror (rc));
        return 1;
    }
    return 0;
}
