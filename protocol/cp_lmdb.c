/*  cp_lmdb: environment set-up, map growth, error mapping, integer keys.   */

#include "cp_lmdb.h"
#include "cp_error.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
cp_lmdb_open (MDB_env **env, const char *path, unsigned max_dbs, cp_lmdb_mode_t mode)
{
    char file [4096];
    snprintf (file, sizeof file, "%s/data.mdb", path);
    struct stat info;
    if (mode == CP_LMDB_CREATE) {
        if (mkdir (path, 0700) && errno != EEXIST)
            return CP_EIO;
    }
    else
    if (stat (file, &info) || !S_ISREG (info.st_mode))
        return CP_EIO;

    int rc = mdb_env_create (env);
    if (rc)
        return cp_lmdb_fail ("cp_lmdb", "mdb_env_create", rc);
    size_t map = CP_LMDB_MAP_INITIAL;
    const char *wanted = getenv ("CPSYNC_MAPSIZE");
    if (wanted && atoll (wanted) > 0)
        map = (size_t) atoll (wanted);
    //  A map smaller than the file would refuse to open it, and a reader
    //  must map the whole file whatever the writer chose: take the larger.
    if (stat (file, &info) == 0 && (size_t) info.st_size > map)
        map = (size_t) info.st_size;
    //  Readers need no write access to the data file and can never take
    //  the writer's lock by mistake.
    unsigned flags = MDB_NOTLS | (mode == CP_LMDB_READONLY? MDB_RDONLY: 0);
    if ((rc = mdb_env_set_mapsize (*env, map))
    ||  (rc = mdb_env_set_maxdbs (*env, max_dbs))
    ||  (rc = mdb_env_set_maxreaders (*env, 126))
    ||  (rc = mdb_env_open (*env, path, flags, 0600))) {
        mdb_env_close (*env);
        *env = NULL;
        return cp_lmdb_fail ("cp_lmdb", path, rc);
    }
    //  A data file cut short (a full disk, a bad copy) opens, and the first
    //  page read past its end is a SIGBUS, maybe long after a daemon said it
    //  serves: refuse it now, naming it, while nothing has been done.
    MDB_envinfo env_info;
    MDB_stat env_stat;
    if (mdb_env_info (*env, &env_info) == 0 && mdb_env_stat (*env, &env_stat) == 0
    &&  stat (file, &info) == 0
    &&  ((uint64_t) env_info.me_last_pgno + 1) * env_stat.ms_psize > (uint64_t) info.st_size) {
        zsys_error ("cp_lmdb: %s is truncated: %lld bytes, its pages in use need %llu; "
                    "restore the data directory from a backup", file, (long long) info.st_size,
                    (unsigned long long) (env_info.me_last_pgno + 1) * env_stat.ms_psize);
        mdb_env_close (*env);
        *env = NULL;
        return CP_ESTORE;
    }
    //  A reader killed holding a transaction keeps its slot, and with it
    //  every page freed since its snapshot, until someone clears it: every
    //  process that opens the store does (a query, a stats, a restart).
    int dead = 0;
    if (mdb_reader_check (*env, &dead) == 0 && dead > 0)
        zsys_notice ("cp_lmdb: %s: cleared %d reader slot%s of processes gone", path, dead,
                     dead == 1? "": "s");
    return 0;
}

int
cp_lmdb_put_text (MDB_txn *txn, MDB_dbi dbi, const char *key, const char *value)
{
    MDB_val k = {strlen (key), (void *) key}, v = {strlen (value), (void *) value};
    return mdb_put (txn, dbi, &k, &v, 0);
}

int
cp_lmdb_get_text (MDB_txn *txn, MDB_dbi dbi, const char *key, char *buf, size_t size)
{
    MDB_val k = {strlen (key), (void *) key}, v;
    int rc = mdb_get (txn, dbi, &k, &v);
    if (rc)
        return rc;
    if (v.mv_size >= size)
        return MDB_BAD_VALSIZE;
    memcpy (buf, v.mv_data, v.mv_size);
    buf [v.mv_size] = 0;
    return 0;
}

uint64_t
cp_lmdb_get_u64 (MDB_txn *txn, MDB_dbi dbi, const char *key)
{
    MDB_val k = {strlen (key), (void *) key}, v;
    if (mdb_get (txn, dbi, &k, &v) || v.mv_size != 8)
        return 0;
    return cp_get_u64 (v.mv_data);
}

int
cp_lmdb_read_u64 (MDB_env *env, MDB_dbi dbi, const char *key, uint64_t *value)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    *value = cp_lmdb_get_u64 (txn, dbi, key);
    mdb_txn_abort (txn);
    return 0;
}

int
cp_lmdb_make_dir (const char *dir)
{
    char path [4096];
    if (strlen (dir) >= sizeof path)
        return CP_EIO;
    strcpy (path, dir);
    //  Parents first, with the usual mode; the directory itself private.
    for (char *slash = strchr (path + 1, '/'); slash; slash = strchr (slash + 1, '/')) {
        *slash = 0;
        if (mkdir (path, 0755) && errno != EEXIST)
            return CP_EIO;
        *slash = '/';
    }
    if (mkdir (path, 0700) && errno != EEXIST)
        return CP_EIO;
    return 0;
}

int
cp_lmdb_begin (MDB_env *env, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin (env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize (env, 0);
        rc = mdb_txn_begin (env, NULL, flags, txn);
    }
    return rc? cp_lmdb_fail ("cp_lmdb", "mdb_txn_begin", rc): 0;
}

int
cp_lmdb_grow (MDB_env *env)
{
    MDB_envinfo info;
    mdb_env_info (env, &info);
    size_t size = info.me_mapsize * 2;
    int rc = mdb_env_set_mapsize (env, size);
    if (rc)
        return cp_lmdb_fail ("cp_lmdb", "mdb_env_set_mapsize", rc);
    zsys_info ("cp_lmdb: map grown to %zu KiB", size >> 10);
    return 0;
}

int
cp_lmdb_grow_ahead (MDB_env *env)
{
    MDB_envinfo info;
    MDB_stat stat;
    if (mdb_env_info (env, &info) || mdb_env_stat (env, &stat))
        return CP_ESTORE;
    size_t used = ((size_t) info.me_last_pgno + 1) * stat.ms_psize;
    size_t size = info.me_mapsize;
    while (used > size / 2)
        size *= 2;
    if (size == info.me_mapsize)
        return 0;
    int rc = mdb_env_set_mapsize (env, size);
    if (rc)
        return cp_lmdb_fail ("cp_lmdb", "mdb_env_set_mapsize", rc);
    zsys_info ("cp_lmdb: map grown to %zu KiB ahead of a write", size >> 10);
    return 0;
}

int
cp_lmdb_fail (const char *module, const char *what, int mdb_rc)
{
    if (mdb_rc == MDB_MAP_FULL)
        return CP_EMAPFULL;
    //  A full disk shows as a failed write (EIO, ENOSPC, EFBIG): say so.
    bool space = mdb_rc == EIO || mdb_rc == ENOSPC || mdb_rc == EFBIG;
    zsys_error ("%s: %s: %s%s", module, what, mdb_strerror (mdb_rc),
                space? " (is the disk full?)": "");
    return CP_ESTORE;
}

void
cp_put_u64 (uint8_t *at, uint64_t value)
{
    for (int byte = 7; byte >= 0; byte--, value >>= 8)
        at [byte] = (uint8_t) value;
}

uint64_t
cp_get_u64 (const uint8_t *at)
{
    uint64_t value = 0;
    for (int byte = 0; byte < 8; byte++)
        value = value << 8 | at [byte];
    return value;
}

void
cp_put_u32 (uint8_t *at, uint32_t value)
{
    for (int byte = 3; byte >= 0; byte--, value >>= 8)
        at [byte] = (uint8_t) value;
}

uint32_t
cp_get_u32 (const uint8_t *at)
{
    return (uint32_t) at [0] << 24 | (uint32_t) at [1] << 16 | (uint32_t) at [2] << 8 | at [3];
}
