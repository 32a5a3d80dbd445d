/*  cp_store: set-up, opening, keys, write transactions and month rows of a
    store, the same for the node's and the central's (cp_store.h).

    A set-up makes its pieces in the order that lets it be taken back: the
    index key first (a directory that already has one is refused before
    anything is made), then the sealing key, then the environment; a
    failure after the index key removes whatever of the three is there, so
    the directory is as it was and init can be run again.                  */

#include "cp_store.h"
#include "cp_error.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"

#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_PATH_MAX 4096
#define S_FORMAT_MAX 32             //  bytes of a stored format we read

static void
s_path (const char *dir, const char *leaf, char *path)
{
    snprintf (path, S_PATH_MAX, "%s/%s", dir, leaf);
}

//  =====================================================================
//  Setting up

//  Takes back a set-up that failed half way, so that init can be run again.
static void
s_undo_create (const cp_store_kind_t *kind, const char *dir)
{
    const char *const leaves [] = {
        "store/data.mdb", "store/lock.mdb", "store", kind->seal_key, "keys/index.key", "keys"
    };
    char path [S_PATH_MAX];
    for (size_t index = 0; index < sizeof leaves / sizeof leaves [0]; index++) {
        s_path (dir, leaves [index], path);
        if (remove (path) && errno != ENOENT)
            zsys_warning ("%s: could not remove %s after a failed set-up", kind->module, path);
    }
}

//  Writes a fresh random sealing key (DIR/keys exists: the index key is made
//  first).  Returns 0, CP_EEXISTS or CP_EIO.
static int
s_seal_key_create (const cp_store_kind_t *kind, const char *dir)
{
    char path [S_PATH_MAX];
    s_path (dir, kind->seal_key, path);
    uint8_t *key = cp_keyfile_alloc (CP_SEAL_KEY_SIZE);
    if (!key)
        return CP_EIO;
    randombytes_buf (key, CP_SEAL_KEY_SIZE);
    int rc = cp_keyfile_write (path, key, CP_SEAL_KEY_SIZE, false);
    cp_keyfile_free (&key);
    return rc;
}

//  What every store's meta and catalogues hold from its set-up on.
static int
s_settings_put (const cp_store_kind_t *kind, MDB_txn *txn, int catalogue)
{
    MDB_dbi meta, catalogues;
    char version [16];
    snprintf (version, sizeof version, "%d", catalogue);
    int rc = mdb_dbi_open (txn, "meta", MDB_CREATE, &meta);
    if (!rc) rc = mdb_dbi_open (txn, "catalogues", MDB_CREATE | MDB_INTEGERKEY, &catalogues);
    if (!rc) rc = cp_lmdb_put_text (txn, meta, "format", kind->format);
    if (!rc) rc = cp_lmdb_put_text (txn, meta, "catalogue", version);
    for (unsigned number = 1; !rc && number <= (unsigned) catalogue; number++) {
        const char *text = cp_catalogue_builtin [number];
        MDB_val k = {sizeof number, &number}, v = {strlen (text), (void *) text};
        rc = mdb_put (txn, catalogues, &k, &v, 0);
    }
    return rc;
}

//  Makes the environment of a new store and writes it in one transaction.
static int
s_environment_create (const cp_store_kind_t *kind, const char *dir, int catalogue,
                      cp_store_create_fn *create, const void *args)
{
    char path [S_PATH_MAX];
    s_path (dir, "store", path);
    MDB_env *env;
    int rc = cp_lmdb_open (&env, path, kind->max_dbs, CP_LMDB_CREATE);
    if (rc)
        return rc;
    MDB_txn *txn;
    rc = cp_lmdb_begin (env, 0, &txn);
    if (rc == 0) {
        int mdb_rc = s_settings_put (kind, txn, catalogue);
        if (!mdb_rc)
            mdb_rc = create (txn, args);
        if (!mdb_rc)
            mdb_rc = mdb_txn_commit (txn);
        else
            mdb_txn_abort (txn);
        rc = mdb_rc? cp_lmdb_fail (kind->module, "create", mdb_rc): 0;
    }
    mdb_env_close (env);
    return rc;
}

int
cp_store_create (const cp_store_kind_t *kind, const char *dir, int catalogue,
                 cp_store_create_fn *create, const void *args)
{
    char path [S_PATH_MAX];
    if (cp_lmdb_make_dir (dir))
        return CP_EIO;
    s_path (dir, "store/data.mdb", path);
    if (access (path, F_OK) == 0)
        return CP_EEXISTS;
    if (catalogue < 1 || catalogue > cp_catalogue_builtin_count)
        return CP_ECATALOGUE;
    int rc = cp_index_key_create (dir);
    if (rc)
        return rc;              //  nothing made, or another set-up's key: keep it
    rc = s_seal_key_create (kind, dir);
    if (rc == 0)
        rc = s_environment_create (kind, dir, catalogue, create, args);
    if (rc)
        s_undo_create (kind, dir);
    return rc;
}

//  =====================================================================
//  Opening

//  The store's format must be the kind's: a store of another layout is
//  refused rather than misread.  Returns 0 or kind->not_store.
static int
s_format_check (const cp_store_kind_t *kind, const char *dir, MDB_txn *txn)
{
    MDB_dbi meta;
    char format [S_FORMAT_MAX];
    if (mdb_dbi_open (txn, "meta", 0, &meta)
    ||  cp_lmdb_get_text (txn, meta, "format", format, sizeof format))
        return kind->not_store;
    if (strcmp (format, kind->format) == 0)
        return 0;
    zsys_error ("%s: %s holds a store of format \"%s\"; this %s reads \"%s\"%s%s%s",
                kind->module, dir, format, kind->name, kind->format,
                kind->advice? " (": "", kind->advice? kind->advice: "", kind->advice? ")": "");
    return kind->not_store;
}

//  Rebuilds the catalogue whose version is meta's "catalogue" from the texts
//  of catalogues.  NULL (logged) when it does not load.
static cp_catalogue_t *
s_catalogue_load (const cp_store_kind_t *kind, MDB_txn *txn)
{
    MDB_dbi meta, catalogues;
    char number [16];
    if (mdb_dbi_open (txn, "meta", 0, &meta)
    ||  mdb_dbi_open (txn, "catalogues", MDB_INTEGERKEY, &catalogues)
    ||  cp_lmdb_get_text (txn, meta, "catalogue", number, sizeof number))
        return NULL;
    int active = atoi (number);
    if (active < 1 || active > 1000)
        return NULL;
    const char **texts = calloc ((size_t) active, sizeof (char *));
    int loaded = 0;
    for (unsigned version = 1; texts && version <= (unsigned) active; version++) {
        MDB_val k = {sizeof version, &version}, v;
        if (mdb_get (txn, catalogues, &k, &v))
            break;
        char *text = malloc (v.mv_size + 1);
        if (!text)
            break;
        memcpy (text, v.mv_data, v.mv_size);
        text [v.mv_size] = 0;
        texts [loaded++] = text;
    }
    char why [256] = "";
    cp_catalogue_t *catalogue = loaded == active
                              ? cp_catalogue_new (texts, active, why, sizeof why): NULL;
    if (!catalogue)
        zsys_error ("%s: stored catalogue %d does not load: %s", kind->module, active, why);
    for (int index = 0; index < loaded; index++)
        free ((char *) texts [index]);
    free (texts);
    return catalogue;
}

cp_catalogue_t *
cp_store_catalogue_load (const cp_store_kind_t *kind, MDB_txn *txn)
{
    return s_catalogue_load (kind, txn);
}

int
cp_store_catalogue_install (const cp_store_kind_t *kind, MDB_txn *txn,
                            const cp_catalogue_t *catalogue, const char *text, size_t size,
                            int *version, bool *grow, char *why, size_t why_size)
{
    *version = 0;
    MDB_dbi meta, catalogues;
    int mdb_rc = mdb_dbi_open (txn, "meta", 0, &meta);
    if (!mdb_rc) mdb_rc = mdb_dbi_open (txn, "catalogues", MDB_INTEGERKEY, &catalogues);
    if (mdb_rc)
        return cp_store_fail (kind, "open catalogues", mdb_rc, grow);
    //  A version held already, with these very bytes: nothing to do.
    int active = cp_catalogue_version (catalogue);
    for (unsigned held = 1; held <= (unsigned) active; held++) {
        MDB_val k = {sizeof held, &held}, v;
        if (mdb_get (txn, catalogues, &k, &v) == 0 && v.mv_size == size
        &&  memcmp (v.mv_data, text, size) == 0)
            return 0;
    }
    char *copy = malloc (size + 1);
    if (!copy)
        return cp_error_why (CP_ECATALOGUE, why, why_size, "out of memory");
    memcpy (copy, text, size);
    copy [size] = 0;
    char reason [256] = "a NUL in the text";
    int claimed = strlen (copy) == size? cp_catalogue_text_version (copy): -1;
    int next = strlen (copy) == size && (claimed < 1 || claimed > active)
             ? cp_catalogue_check_revision (catalogue, copy, reason, sizeof reason): -1;
    free (copy);
    if (claimed >= 1 && claimed <= active)
        //  A version's text never changes once anyone holds it.
        return cp_error_why (CP_ECATALOGUE, why, why_size, "catalogue %d differs from the one "
                             "held under that version (the next version is %d)", claimed,
                             active + 1);
    if (next < 0)
        return cp_error_why (CP_ECATALOGUE, why, why_size, "not a revision of catalogue %d: %s",
                             active, reason);
    unsigned key = (unsigned) next;
    char number [16];
    snprintf (number, sizeof number, "%d", next);
    MDB_val v = {size, (void *) text};
    int rc = cp_store_put (kind, txn, catalogues, &key, sizeof key, &v, 0, "put catalogue",
                           grow);
    v = (MDB_val) {strlen (number), number};
    if (!rc) rc = cp_store_put (kind, txn, meta, "catalogue", strlen ("catalogue"), &v, 0,
                                "put catalogue version", grow);
    if (!rc)
        *version = next;
    return rc;
}

//  A store of kind->upgrades opened to write: its format becomes the kind's,
//  with what kind->upgrade adds, in one transaction (nothing, if it fails).
//  Returns 0 (also when there is nothing to upgrade) or CP_ESTORE.
static int
s_upgrade (const cp_store_kind_t *kind, const char *dir, MDB_env *env)
{
    MDB_txn *txn;
    MDB_dbi meta;
    char format [S_FORMAT_MAX];
    int rc = cp_lmdb_begin (env, 0, &txn);
    if (rc)
        return rc;
    if (mdb_dbi_open (txn, "meta", 0, &meta)
    ||  cp_lmdb_get_text (txn, meta, "format", format, sizeof format)
    ||  strcmp (format, kind->upgrades) != 0) {
        mdb_txn_abort (txn);
        return 0;               //  the format check says what is wrong, if anything
    }
    int mdb_rc = kind->upgrade (txn);
    if (mdb_rc == 0)
        mdb_rc = cp_lmdb_put_text (txn, meta, "format", kind->format);
    if (mdb_rc == 0)
        mdb_rc = mdb_txn_commit (txn);
    else
        mdb_txn_abort (txn);
    if (mdb_rc)
        return cp_lmdb_fail (kind->module, "upgrade the store", mdb_rc);
    zsys_notice ("%s: %s upgraded from format \"%s\" to \"%s\"", kind->module, dir,
                 kind->upgrades, kind->format);
    return 0;
}

int
cp_store_open (const cp_store_kind_t *kind, const char *dir, cp_lmdb_mode_t mode,
               cp_store_open_fn *open, void *store, MDB_env **env_p,
               cp_catalogue_t **catalogue_p)
{
    *env_p = NULL;
    *catalogue_p = NULL;
    char path [S_PATH_MAX];
    s_path (dir, "store", path);
    MDB_env *env;
    int rc = cp_lmdb_open (&env, path, kind->max_dbs, mode);
    if (rc)
        return rc == CP_EIO? kind->not_store: rc;
    cp_catalogue_t *catalogue = NULL;
    MDB_txn *txn;
    if (kind->upgrades && mode != CP_LMDB_READONLY)
        rc = s_upgrade (kind, dir, env);
    if (rc == 0)
        rc = cp_lmdb_begin (env, MDB_RDONLY, &txn);
    if (rc == 0) {
        //  The format first: a store of another one may lack databases of
        //  this one, and is refused as what it is.
        rc = s_format_check (kind, dir, txn);
        if (rc == 0)
            rc = open (store, txn, dir);
        if (rc == 0 && !(catalogue = s_catalogue_load (kind, txn)))
            rc = CP_ECATALOGUE;
        //  Commit, not abort: LMDB closes handles opened by an aborted transaction.
        mdb_txn_commit (txn);
    }
    if (rc) {
        mdb_env_close (env);
        return rc;
    }
    *env_p = env;
    *catalogue_p = catalogue;
    return 0;
}

//  Logs why the key file at leaf under dir did not load (rc from
//  cp_keyfile_read, error the errno after it), and returns the store's code.
static int
s_key_failed (const cp_store_kind_t *kind, const char *dir, const char *leaf, int rc,
              int error)
{
    char path [S_PATH_MAX];
    s_path (dir, leaf, path);
    zsys_error ("%s: cannot load %s: %s%s%s", kind->module, path, cp_strerror (rc),
                rc == CP_EIO? ": ": "", rc == CP_EIO? strerror (error): "");
    return rc == CP_EINSECURE? CP_EINSECURE: kind->not_store;
}

int
cp_store_keys_load (const cp_store_kind_t *kind, const char *dir, uint8_t **index_key,
                    cp_seal_t **seal)
{
    *seal = NULL;
    int rc;
    if (!(*index_key = cp_index_key_read (dir, &rc)))
        return s_key_failed (kind, dir, "keys/index.key", rc, errno);
    char path [S_PATH_MAX];
    s_path (dir, kind->seal_key, path);
    uint8_t *key = NULL;
    if ((rc = cp_keyfile_read (path, CP_SEAL_KEY_SIZE, &key))) {
        rc = s_key_failed (kind, dir, kind->seal_key, rc, errno);
        cp_index_key_destroy (index_key);
        return rc;
    }
    *seal = cp_seal_new (key);
    cp_keyfile_free (&key);
    if (!*seal) {
        zsys_error ("%s: no guarded memory for the %s", kind->module, kind->seal_key_name);
        cp_index_key_destroy (index_key);
        return CP_EIO;
    }
    return 0;
}

void
cp_store_close (MDB_env **env, cp_catalogue_t **catalogue, uint8_t **index_key,
                cp_seal_t **seal)
{
    cp_catalogue_destroy (catalogue);
    cp_index_key_destroy (index_key);
    cp_seal_destroy (seal);
    if (*env)
        mdb_env_close (*env);
    *env = NULL;
}

//  =====================================================================
//  Write transactions

int
cp_store_begin (MDB_env *env, cp_seal_t *seal, MDB_txn **txn)
{
    cp_lmdb_grow_ahead (env);
    int rc = cp_lmdb_begin (env, 0, txn);
    if (rc == 0)
        cp_seal_renew (seal);
    return rc;
}

int
cp_store_fail (const cp_store_kind_t *kind, const char *what, int mdb_rc, bool *grow)
{
    *grow |= mdb_rc == MDB_MAP_FULL;
    return cp_lmdb_fail (kind->module, what, mdb_rc);
}

int
cp_store_put (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi dbi, const void *key,
              size_t key_size, MDB_val *value, unsigned flags, const char *what, bool *grow)
{
    MDB_val k = {key_size, (void *) key};
    int rc = mdb_put (txn, dbi, &k, value, flags);
    return rc? cp_store_fail (kind, what, rc, grow): 0;
}

int
cp_store_commit (const cp_store_kind_t *kind, MDB_env *env, MDB_txn *txn, const char *what)
{
    int rc = mdb_txn_commit (txn);
    if (rc == MDB_MAP_FULL) {
        cp_lmdb_grow (env);
        return CP_EMAPFULL;
    }
    return rc? cp_lmdb_fail (kind->module, what, rc): 0;
}

void
cp_store_abort (MDB_env *env, MDB_txn **txn, bool *grow)
{
    if (*txn)
        mdb_txn_abort (*txn);
    *txn = NULL;
    if (*grow) {
        *grow = false;
        cp_lmdb_grow (env);
    }
}

//  =====================================================================
//  Month rows

//  A month row's key: the prefix, then the u32 month.  Returns its size.
static size_t
s_month_key (uint8_t *key, const uint8_t *prefix, size_t prefix_size, int32_t month)
{
    assert (prefix_size <= CP_STORE_MONTH_PREFIX_MAX);
    if (prefix_size)
        memcpy (key, prefix, prefix_size);
    cp_put_u32 (key + prefix_size, (uint32_t) month);
    return prefix_size + 4;
}

int
cp_store_months_merge (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                       const uint8_t *prefix, size_t prefix_size, const cp_tally_t *deltas,
                       bool *grow)
{
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *month_deltas;
    while ((month_deltas = cp_tally_next (deltas, &month))) {
        uint8_t key [CP_STORE_MONTH_PREFIX_MAX + 4];
        size_t key_size = s_month_key (key, prefix, prefix_size, month);
        MDB_val k = {key_size, key}, v = {0, NULL};
        int rc = mdb_get (txn, months, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail (kind->module, "read row", rc);
        size_t size;
        if (cp_tally_merge (v.mv_data, v.mv_size, month_deltas, buf, &size)) {
            zsys_error ("%s: a stored counter row is corrupt", kind->module);
            return CP_ESTORE;
        }
        MDB_val value = {size, buf};
        if ((rc = cp_store_put (kind, txn, months, key, key_size, &value, 0, "put row", grow)))
            return rc;
    }
    return 0;
}

//  What a walk of month rows does with each: adds it to into, returning 0,
//  or nonzero when the row does not decode.
typedef int (s_row_fn) (void *into, int32_t month, const uint8_t *row, size_t size);

//  Gives add the rows of prefix in month order, up to last_month; what
//  names the walk in log lines.  A key of another size or a row that does
//  not decode is a corrupt store.
static int
s_months_walk (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
               const uint8_t *prefix, size_t prefix_size, int32_t last_month,
               s_row_fn *add, void *into, const char *what)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, months, &cursor);
    if (rc)
        return cp_lmdb_fail (kind->module, what, rc);
    uint8_t start [CP_STORE_MONTH_PREFIX_MAX + 4];
    size_t key_size = s_month_key (start, prefix, prefix_size, 0);
    MDB_val k = {key_size, start}, v;
    int op = MDB_SET_RANGE;
    while ((rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != key_size) {
            zsys_error ("%s: a stored month row's key is %zu bytes, not %zu",
                        kind->module, k.mv_size, key_size);
            rc = CP_ESTORE;
            break;
        }
        if (prefix_size && memcmp (k.mv_data, prefix, prefix_size) != 0)
            break;              //  past the prefix's rows
        int32_t month = (int32_t) cp_get_u32 ((const uint8_t *) k.mv_data + prefix_size);
        if (month > last_month)
            break;
        if (add (into, month, v.mv_data, v.mv_size)) {
            zsys_error ("%s: a stored counter row is corrupt", kind->module);
            rc = CP_ESTORE;
            break;
        }
    }
    mdb_cursor_close (cursor);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return 0;
    return rc == CP_ESTORE? rc: cp_lmdb_fail (kind->module, what, rc);
}

static int
s_view_add (void *view, int32_t month, const uint8_t *row, size_t size)
{
    return cp_view_add_encoded (view, month, row, size);
}

int
cp_store_months_view (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                      const uint8_t *prefix, size_t prefix_size, cp_view_t *view)
{
    return s_months_walk (kind, txn, months, prefix, prefix_size, cp_view_last_month (view),
                          s_view_add, view, "view");
}

static int
s_figures_add (void *figures, int32_t month, const uint8_t *row, size_t size)
{
    return cp_figures_add (figures, month, row, size);
}

int
cp_store_months_figures (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                         const uint8_t *prefix, size_t prefix_size, cp_month_digests_t *figures)
{
    figures->count = 0;
    return s_months_walk (kind, txn, months, prefix, prefix_size, INT32_MAX, s_figures_add,
                          figures, "figures");
}

int
cp_store_months_rows (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi months,
                      const uint8_t *prefix, size_t prefix_size, cp_month_rows_t *rows)
{
    for (uint32_t index = 0; index < rows->count; index++) {
        cp_month_row_t *month = &rows->months [index];
        uint8_t key [CP_STORE_MONTH_PREFIX_MAX + 4];
        MDB_val k = {s_month_key (key, prefix, prefix_size, month->month), key}, v;
        int rc = mdb_get (txn, months, &k, &v);
        month->size = 0;
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return cp_lmdb_fail (kind->module, "read row", rc);
        if (v.mv_size > CP_TALLY_ROW_ENCODED_MAX) {
            zsys_error ("%s: a stored counter row is corrupt", kind->module);
            return CP_ESTORE;
        }
        month->size = (uint16_t) v.mv_size;
        memcpy (month->row, v.mv_data, v.mv_size);
    }
    return 0;
}

//  =====================================================================
//  Refusal counters

int
cp_store_counter_add (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi counters, int code,
                      uint64_t count, bool *grow)
{
    uint8_t key [4], value [8];
    cp_put_u32 (key, (uint32_t) (int32_t) code);
    MDB_val k = {4, key}, v;
    uint64_t stored = 0;
    int rc = mdb_get (txn, counters, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        stored = cp_get_u64 (v.mv_data);
    else
    if (rc && rc != MDB_NOTFOUND)
        return cp_lmdb_fail (kind->module, "read counter", rc);
    cp_put_u64 (value, stored + count);
    v = (MDB_val) {8, value};
    return cp_store_put (kind, txn, counters, key, 4, &v, 0, "put counter", grow);
}

int
cp_store_counters_read (const cp_store_kind_t *kind, MDB_txn *txn, MDB_dbi counters,
                        cp_store_counter_t *out, size_t max, size_t *count)
{
    *count = 0;
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, counters, &cursor);
    if (rc)
        return cp_lmdb_fail (kind->module, "counters", rc);
    MDB_val k, v;
    int op = MDB_FIRST;
    while (*count < max && (rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != 4 || v.mv_size != 8) {
            zsys_error ("%s: a stored counter is corrupt", kind->module);
            rc = CP_ESTORE;
            break;
        }
        out [*count].code = (int32_t) cp_get_u32 (k.mv_data);
        out [*count].count = cp_get_u64 (v.mv_data);
        (*count)++;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return 0;
    return rc == CP_ESTORE? rc: cp_lmdb_fail (kind->module, "counters", rc);
}
