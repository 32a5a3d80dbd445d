/*  store_records: what the store targets (fuzz_node_store,
    fuzz_central_store) share: a fuzz input written as raw records into a
    real LMDB environment, over a baseline that a real store wrote.

    A store reads back everything it keeps, and a disk, a restored copy or
    another program may have changed any of it, so the honest input is the
    records themselves.  An input is a run of records, each

        u8 table (modulo the number of tables), u8 key size, the key,
        u16 value size (big-endian), the value

    put into that table over the baseline; a value of size 0 deletes the
    key instead.  A record cut short ends the input; a record LMDB refuses
    (an empty key) or that the table cannot hold (an integer key of another
    size than the table's) is skipped.  Before each
    input every table is emptied and the baseline written again, so no
    input sees another's records.

    The environment (DATA/store, cp_store's) is opened here only while the
    store is closed: LMDB must not have one environment open twice in a
    process.  It lives under /dev/shm when there is one, so the stores'
    durable commits cost little; it is removed at exit (libFuzzer exits
    through exit() at the end of a run, and a crash leaves it for a look). */

#ifndef STORE_RECORDS_H_INCLUDED
#define STORE_RECORDS_H_INCLUDED

#include "fuzzing.h"
#include "cp_lmdb.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  A table of a store: its name and the flags it is opened with.
typedef struct {
    const char *name;
    unsigned flags;
    size_t key_size;            //  the one size of its keys (MDB_INTEGERKEY); 0: any
} store_table_t;

//  The tables of a node's store (node/node_store.c), for the targets that
//  write a node's records: static const store_table_t t [] = {STORE_NODE_TABLES};
#define STORE_NODE_TABLES \
    {"meta", 0, 0}, \
    {"catalogues", MDB_INTEGERKEY, sizeof (unsigned)}, \
    {"log", 0, 0}, \
    {"ids", 0, 0}, \
    {"cases", 0, 0}, \
    {CP_STORE_MONTHS, 0, 0}, \
    {"chains", 0, 0}, \
    {"downlink", 0, 0}, \
    {"downlink_refused", 0, 0}, \
    {"staffing", 0, 0}, \
    {"directives", 0, 0}

//  A record of the baseline.
typedef struct {
    size_t table;
    MDB_val key;
    MDB_val value;
} store_record_t;

typedef struct {
    const store_table_t *tables;
    size_t table_count;
    char top [200];             //  the scratch directory, removed at exit
    char dir [256];             //  the store's data directory, top/data
    char env [300];             //  its LMDB environment, dir/store (cp_store)
    store_record_t *baseline;
    size_t baseline_count;
} store_records_t;

static char s_store_records_top [200];

static void
s_store_records_cleanup (void)
{
    if (s_store_records_top [0])
        fuzzing_remove_tree (s_store_records_top);
}

//  Makes a fresh scratch directory for a store, removed at exit; the
//  store's data directory is in it (not made: the store's set-up makes it).
static inline void
store_records_scratch (store_records_t *self, const char *name)
{
    const char *base = access ("/dev/shm", W_OK) == 0? "/dev/shm": getenv ("TMPDIR");
    snprintf (self->top, sizeof self->top, "%s/%s-XXXXXX", base? base: "/tmp", name);
    if (!mkdtemp (self->top))
        fuzzing_fail ("cannot make a scratch directory");
    snprintf (s_store_records_top, sizeof s_store_records_top, "%s", self->top);
    atexit (s_store_records_cleanup);
    snprintf (self->dir, sizeof self->dir, "%s/data", self->top);
    snprintf (self->env, sizeof self->env, "%s/store", self->dir);
}

static inline MDB_env *
store_records_env (store_records_t *self)
{
    MDB_env *env = NULL;
    if (mdb_env_create (&env)
    ||  mdb_env_set_maxdbs (env, 32)
    ||  mdb_env_set_mapsize (env, CP_LMDB_MAP_INITIAL)
    ||  mdb_env_open (env, self->env, MDB_NOSYNC, 0600))
        fuzzing_fail ("the scratch store's environment does not open");
    return env;
}

//  Reads every record of every table of the store the set-up wrote, as
//  the baseline that each input is written over.
static inline void
store_records_capture (store_records_t *self)
{
    MDB_env *env = store_records_env (self);
    MDB_txn *txn;
    if (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn))
        fuzzing_fail ("cannot read the baseline");
    for (size_t table = 0; table < self->table_count; table++) {
        MDB_dbi dbi;
        int rc = mdb_dbi_open (txn, self->tables [table].name, self->tables [table].flags, &dbi);
        if (rc == MDB_NOTFOUND)
            continue;           //  a table the store makes when it first writes one
        if (rc)
            fuzzing_fail ("a table of the baseline does not open");
        MDB_cursor *cursor;
        if (mdb_cursor_open (txn, dbi, &cursor))
            fuzzing_fail ("cannot read the baseline");
        MDB_val key, value;
        MDB_cursor_op op = MDB_FIRST;
        while (mdb_cursor_get (cursor, &key, &value, op) == 0) {
            op = MDB_NEXT;
            store_record_t *grown = realloc (self->baseline,
                (self->baseline_count + 1) * sizeof (store_record_t));
            if (!grown)
                fuzzing_fail ("out of memory");
            self->baseline = grown;
            store_record_t *record = &self->baseline [self->baseline_count++];
            record->table = table;
            record->key.mv_size = key.mv_size;
            record->key.mv_data = malloc (key.mv_size);
            record->value.mv_size = value.mv_size;
            record->value.mv_data = malloc (value.mv_size? value.mv_size: 1);
            if (!record->key.mv_data || !record->value.mv_data)
                fuzzing_fail ("out of memory");
            memcpy (record->key.mv_data, key.mv_data, key.mv_size);
            memcpy (record->value.mv_data, value.mv_data, value.mv_size);
        }
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    mdb_env_close (env);
}

//  Empties every table, writes the baseline and then the input's records.
//  Returns how many of the input's records were written.
static inline size_t
store_records_write (store_records_t *self, const uint8_t *data, size_t size)
{
    MDB_env *env = store_records_env (self);
    MDB_txn *txn;
    if (mdb_txn_begin (env, NULL, 0, &txn))
        fuzzing_fail ("cannot write the scratch store");
    MDB_dbi dbis [32];
    for (size_t table = 0; table < self->table_count; table++)
        if (mdb_dbi_open (txn, self->tables [table].name,
                          self->tables [table].flags | MDB_CREATE, &dbis [table])
        ||  mdb_drop (txn, dbis [table], 0))
            fuzzing_fail ("cannot empty a table of the scratch store");
    for (size_t index = 0; index < self->baseline_count; index++) {
        store_record_t *record = &self->baseline [index];
        if (mdb_put (txn, dbis [record->table], &record->key, &record->value, 0))
            fuzzing_fail ("cannot write the baseline again");
    }
    size_t written = 0;
    size_t at = 0;
    while (at + 2 <= size) {
        size_t table = data [at] % self->table_count;
        size_t key_size = data [at + 1];
        at += 2;
        if (at + key_size + 2 > size)
            break;
        MDB_val key = {key_size, (void *) (data + at)};
        at += key_size;
        size_t value_size = (size_t) data [at] << 8 | data [at + 1];
        at += 2;
        if (at + value_size > size)
            break;
        MDB_val value = {value_size, (void *) (data + at)};
        at += value_size;
        //  LMDB compares integer keys at the size of one of them: keys of
        //  another size would make LMDB itself read out of bounds.
        if (self->tables [table].key_size && key_size != self->tables [table].key_size)
            continue;
        int rc = value_size? mdb_put (txn, dbis [table], &key, &value, 0)
                           : mdb_del (txn, dbis [table], &key, NULL);
        if (rc == 0)
            written++;
        else
        if (rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE)
            fuzzing_fail ("LMDB refused a record with a stray code");
    }
    if (mdb_txn_commit (txn))
        fuzzing_fail ("cannot commit the scratch store");
    mdb_env_close (env);
    return written;
}

//  Appends one record in the input's form to file.
static inline void
store_records_put (FILE *file, size_t table, const MDB_val *key, const void *value,
                   size_t value_size)
{
    uint8_t head [2] = {(uint8_t) table, (uint8_t) key->mv_size};
    uint8_t size [2] = {(uint8_t) (value_size >> 8), (uint8_t) value_size};
    fwrite (head, 1, 2, file);
    fwrite (key->mv_data, 1, key->mv_size, file);
    fwrite (size, 1, 2, file);
    fwrite (value, 1, value_size, file);
}

//  Writes the seeds of a corpus into dir (which must exist): for each
//  table, its baseline records as written (the input that changes
//  nothing, but shows the fuzzer their form); and for each record of at
//  most 255 bytes of key and 64 KiB of value, copies with one thing
//  wrong: the value deleted, cut to half, cut by one, grown by a byte,
//  each byte of an 8-byte value flipped in turn to 0xff (a value over
//  1 KiB, a catalogue's text, only deleted and cut to half).
static inline void
store_records_seeds (const store_records_t *self, const char *dir)
{
    char path [512];
    for (size_t table = 0; table < self->table_count; table++) {
        snprintf (path, sizeof path, "%s/%s", dir, self->tables [table].name);
        FILE *file = fopen (path, "wb");
        if (!file)
            fuzzing_fail ("cannot write a seed");
        for (size_t index = 0; index < self->baseline_count; index++) {
            const store_record_t *record = &self->baseline [index];
            if (record->table == table && record->key.mv_size <= 255
            &&  record->value.mv_size <= 0xffff)
                store_records_put (file, table, &record->key, record->value.mv_data,
                                   record->value.mv_size);
        }
        fclose (file);
    }
    uint8_t grown [0x10000];
    for (size_t index = 0; index < self->baseline_count; index++) {
        const store_record_t *record = &self->baseline [index];
        size_t size = record->value.mv_size;
        if (record->key.mv_size > 255 || size >= 0xffff)
            continue;
        //  A long value (a catalogue's text) only deleted and cut: the
        //  fuzzer grows the rest from the table's seed.
        bool is_long = size > 1024;
        struct {
            const char *name;
            size_t size;
        } variants [] = {
            {"deleted", 0}, {"half", size / 2}, {"short", size - 1}, {"long", size + 1}
        };
        memcpy (grown, record->value.mv_data, size);
        grown [size] = 0xa5;
        for (size_t variant = 0; variant < 4; variant++) {
            if (variant > 0 && (variants [variant].size == 0 || size < 2))
                continue;
            if (is_long && variant > 1)
                continue;
            snprintf (path, sizeof path, "%s/%s-%zu-%s", dir,
                      self->tables [record->table].name, index, variants [variant].name);
            FILE *file = fopen (path, "wb");
            if (!file)
                fuzzing_fail ("cannot write a seed");
            store_records_put (file, record->table, &record->key, grown,
                               variants [variant].size);
            fclose (file);
        }
        for (size_t flip = 0; size == 8 && flip < 8; flip++) {
            snprintf (path, sizeof path, "%s/%s-%zu-ff%zu", dir,
                      self->tables [record->table].name, index, flip);
            FILE *file = fopen (path, "wb");
            if (!file)
                fuzzing_fail ("cannot write a seed");
            uint8_t value [8];
            memcpy (value, record->value.mv_data, 8);
            value [flip] = 0xff;
            store_records_put (file, record->table, &record->key, value, 8);
            fclose (file);
        }
    }
}

#endif
