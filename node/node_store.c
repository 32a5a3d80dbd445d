/*  node_store: the node's LMDB environment, appends, views.

    The write path is the import's hot loop, so per event it does one look-up
    in ids, one in the case cache (LMDB only on a cache miss) and two puts
    (log with MDB_APPEND, ids); the case and counter changes stay in memory
    until commit.

    Case data is sealed at rest (cp_seal, under DIR/keys/data.key): every
    value of log and cases, with the database's letter ('L', 'C') and the
    record's key as associated data; the sealer's nonce prefixes are
    renewed at each write transaction.  Sealing costs about as much as the
    rest of an event's append, so append_many does not seal in line: as
    events pass the rules, their log values go to a cp_seal batch, whose
    helper thread seals them while this thread checks the next events, and
    they are appended to the log once the last has passed (before the ids,
    as ever, so the log's pages still come first in the file).  The buffers
    are kept from call to call: no allocation per event.  Anything that
    does not open is damage (or another node's key): a store error, logged
    without the bytes.                                                      */

#include "node_store.h"
#include "cp_case.h"
#include "cp_case_cache.h"
#include "cp_codec.h"
#include "cp_error.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_seal.h"

#include <czmq.h>
#include <inttypes.h>
#include <msgpack.h>
#include <sodium.h>
#include <sys/stat.h>

//  2: log and cases values are sealed; a store of format 1 holds them in
//  the clear and is refused rather than misread.
#define S_FORMAT "cpsync-node 2"
#define S_HASH_SIZE CP_INDEX_HASH_SIZE
#define S_LOG_AD_SIZE 9             //  'L', u64 sequence
#define S_READY_STEP 64             //  log values handed to the sealing helper at a time

struct _node_store_t {
    MDB_env *env;
    MDB_dbi meta, catalogues, log, ids, cases, days;
    char municipality [CP_ID_MAX + 1];
    cp_catalogue_t *catalogue;  //  the active catalogue
    uint8_t *index_key;         //  cp_index_key: guarded, read-only
    cp_seal_t *seal;            //  seals log and cases values (DIR/keys/data.key)
    //  State of the open write transaction
    MDB_txn *txn;
    MDB_cursor *log_cursor;     //  kept at the log's end for appends
    MDB_cursor *ids_cursor;
    uint64_t head;              //  last sequence appended
    cp_case_cache_t *cache;     //  the cases the transaction touches
    cp_tally_t *tally;          //  counter deltas of the transaction
    bool grow;                  //  the map was full: grow it on abort
    //  Scratch of node_store_append_many, kept for the next call
    msgpack_sbuffer encoded;    //  events it packed itself, in the clear until sealed
    cp_seal_job_t *jobs;        //  the log values it appends, sealed together
    size_t *packed_at;          //  per job: where in encoded, when packed here
    size_t job_count;
    size_t jobs_max;
    bool streaming;             //  the jobs so far may go to the helper as they come
    uint8_t *sealed;            //  the sealed log values
    size_t sealed_used;
    size_t sealed_max;
};

//  =====================================================================
//  Small helpers

//  The index key of an id or pseudonym: SipHash-2-4 with a 128-bit output
//  under the node's secret key, a keyed PRF cheap enough to run per event.
static void
s_hash (node_store_t *self, const char *text, uint8_t *out)
{
    cp_index_key_hash (self->index_key, text, out);
}

static int
s_put (node_store_t *self, MDB_dbi dbi, const void *key, size_t key_size,
       const void *data, size_t size, unsigned flags, const char *what)
{
    MDB_val value = {size, (void *) data};
    int rc = cp_lmdb_put (self->txn, dbi, key, key_size, &value, flags, "node_store", what);
    self->grow |= rc == CP_EMAPFULL;
    return rc;
}

static int
s_open_dbis (node_store_t *self, MDB_txn *txn, unsigned flags)
{
    int rc;
    if ((rc = mdb_dbi_open (txn, "meta", flags, &self->meta))
    ||  (rc = mdb_dbi_open (txn, "catalogues", flags | MDB_INTEGERKEY, &self->catalogues))
    ||  (rc = mdb_dbi_open (txn, "log", flags, &self->log))
    ||  (rc = mdb_dbi_open (txn, "ids", flags, &self->ids))
    ||  (rc = mdb_dbi_open (txn, "cases", flags, &self->cases))
    ||  (rc = mdb_dbi_open (txn, "days", flags, &self->days)))
        return rc;
    return 0;
}

static void
s_store_path (const char *dir, const char *leaf, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", dir, leaf);
}

//  =====================================================================
//  Creating and opening

//  Takes back a set-up that failed half way, so that init can be run again.
static void
s_undo_create (const char *dir)
{
    static const char *const leaves [] = {
        "store/data.mdb", "store/lock.mdb", "store", "keys/data.key", "keys/index.key", "keys"
    };
    char path [4096];
    for (size_t index = 0; index < sizeof leaves / sizeof leaves [0]; index++) {
        s_store_path (dir, leaves [index], path, sizeof path);
        if (remove (path) && errno != ENOENT)
            zsys_warning ("node_store: could not remove %s after a failed set-up", path);
    }
}

//  Writes a fresh random data key to DIR/keys/data.key (DIR/keys exists:
//  the index key is made first).  Returns 0, CP_EEXISTS or CP_EIO.
static int
s_data_key_create (const char *dir)
{
    char path [4096];
    s_store_path (dir, "keys/data.key", path, sizeof path);
    uint8_t *key = cp_keyfile_alloc (CP_SEAL_KEY_SIZE);
    if (!key)
        return CP_EIO;
    randombytes_buf (key, CP_SEAL_KEY_SIZE);
    int rc = cp_keyfile_write (path, key, CP_SEAL_KEY_SIZE, false);
    cp_keyfile_free (&key);
    return rc;
}

//  Why a key file did not load, for the log line.
static void
s_key_failed (const char *path, int rc, int error)
{
    zsys_error ("node_store: cannot load %s: %s%s%s", path, cp_strerror (rc),
                rc == CP_EIO? ": ": "", rc == CP_EIO? strerror (error): "");
}

//  Loads DIR/keys/data.key into the store's sealer.  Returns 0,
//  CP_EINSECURE, CP_ENOTNODE (missing or of another size) or CP_EIO.
static int
s_seal_load (node_store_t *self, const char *dir)
{
    char path [4096];
    s_store_path (dir, "keys/data.key", path, sizeof path);
    uint8_t *key = NULL;
    int rc = cp_keyfile_read (path, CP_SEAL_KEY_SIZE, &key);
    if (rc) {
        s_key_failed (path, rc, errno);
        return rc == CP_EINSECURE? CP_EINSECURE: CP_ENOTNODE;
    }
    self->seal = cp_seal_new (key);
    cp_keyfile_free (&key);
    if (!self->seal) {
        zsys_error ("node_store: no guarded memory for the data key");
        return CP_EIO;
    }
    return 0;
}

int
node_store_create (const char *dir, const char *municipality, int catalogue)
{
    char path [4096];
    if (cp_lmdb_make_dir (dir))
        return CP_EIO;
    s_store_path (dir, "store/data.mdb", path, sizeof path);
    if (access (path, F_OK) == 0)
        return CP_EEXISTS;
    if (catalogue < 1 || catalogue > cp_catalogue_builtin_count)
        return CP_ECATALOGUE;
    int rc = cp_index_key_create (dir);
    if (rc)
        return rc;
    if ((rc = s_data_key_create (dir))) {
        s_undo_create (dir);
        return rc;
    }

    s_store_path (dir, "store", path, sizeof path);
    node_store_t scratch = {0};
    rc = cp_lmdb_open (&scratch.env, path, 8, CP_LMDB_CREATE);
    if (rc) {
        s_undo_create (dir);
        return rc;
    }
    MDB_txn *txn;
    rc = cp_lmdb_begin (scratch.env, 0, &txn);
    if (rc == 0) {
        char version [16];
        snprintf (version, sizeof version, "%d", catalogue);
        int mdb_rc = s_open_dbis (&scratch, txn, MDB_CREATE);
        if (!mdb_rc) mdb_rc = cp_lmdb_put_text (txn, scratch.meta, "format", S_FORMAT);
        if (!mdb_rc) mdb_rc = cp_lmdb_put_text (txn, scratch.meta, "municipality", municipality);
        if (!mdb_rc) mdb_rc = cp_lmdb_put_text (txn, scratch.meta, "catalogue", version);
        for (unsigned number = 1; !mdb_rc && number <= (unsigned) catalogue; number++) {
            const char *text = cp_catalogue_builtin [number];
            MDB_val k = {sizeof number, &number}, v = {strlen (text), (void *) text};
            mdb_rc = mdb_put (txn, scratch.catalogues, &k, &v, 0);
        }
        if (!mdb_rc)
            mdb_rc = mdb_txn_commit (txn);
        else
            mdb_txn_abort (txn);
        rc = mdb_rc? cp_lmdb_fail ("node_store", "create", mdb_rc): 0;
    }
    mdb_env_close (scratch.env);
    if (rc)
        s_undo_create (dir);
    return rc;
}

node_store_t *
node_store_open (const char *dir, int *error)
{
    char path [4096];
    s_store_path (dir, "store", path, sizeof path);
    node_store_t *self = calloc (1, sizeof (node_store_t));
    assert (self);
    int rc = cp_lmdb_open (&self->env, path, 8, CP_LMDB_WRITE);
    if (rc) {
        *error = rc == CP_EIO? CP_ENOTNODE: rc;
        free (self);
        return NULL;
    }
    MDB_txn *txn;
    rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc == 0) {
        char format [32];
        if (s_open_dbis (self, txn, 0)
        ||  cp_lmdb_get_text (txn, self->meta, "format", format, sizeof format)
        ||  cp_lmdb_get_text (txn, self->meta, "municipality", self->municipality,
                        sizeof self->municipality))
            rc = CP_ENOTNODE;
        else
        if (strcmp (format, S_FORMAT) != 0) {
            //  Format 1 kept case data in the clear: it is not read as sealed.
            zsys_error ("node_store: %s holds a store of format \"%s\"; this node reads "
                        "\"%s\" (set the node up again and re-import)", dir, format, S_FORMAT);
            rc = CP_ENOTNODE;
        }
        else
        if (!(self->catalogue = cp_lmdb_load_catalogue (txn, self->meta, self->catalogues)))
            rc = CP_ECATALOGUE;
        //  Commit, not abort: LMDB closes handles opened by an aborted transaction.
        mdb_txn_commit (txn);
    }
    if (rc == 0 && !(self->index_key = cp_index_key_read (dir, &rc))) {
        int why = errno;
        char key [4096];
        s_store_path (dir, "keys/index.key", key, sizeof key);
        s_key_failed (key, rc, why);
        rc = rc == CP_EINSECURE? CP_EINSECURE: CP_ENOTNODE;
    }
    if (rc == 0)
        rc = s_seal_load (self, dir);
    if (rc == 0) {
        self->cache = cp_case_cache_new (S_HASH_SIZE, self->seal, "node_store");
        self->tally = cp_tally_new ();
        msgpack_sbuffer_init (&self->encoded);
        assert (self->cache && self->tally);
    }
    if (rc) {
        *error = rc;
        node_store_destroy (&self);
    }
    return self;
}

void
node_store_destroy (node_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_store_t *self = *self_p;
    if (self->txn)
        mdb_txn_abort (self->txn);
    cp_case_cache_destroy (&self->cache);
    cp_tally_destroy (&self->tally);
    msgpack_sbuffer_destroy (&self->encoded);     //  wiped after each use
    free (self->jobs);
    free (self->packed_at);
    free (self->sealed);
    cp_catalogue_destroy (&self->catalogue);
    cp_index_key_destroy (&self->index_key);
    cp_seal_destroy (&self->seal);
    if (self->env)
        mdb_env_close (self->env);
    free (self);
    *self_p = NULL;
}

const char *
node_store_municipality (node_store_t *self)
{
    return self->municipality;
}

const cp_catalogue_t *
node_store_catalogue (node_store_t *self)
{
    return self->catalogue;
}

int
node_store_counts (node_store_t *self, uint64_t *head, uint64_t *acked, uint64_t *cases)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    *head = cp_lmdb_get_u64 (txn, self->meta, "head");
    *acked = cp_lmdb_get_u64 (txn, self->meta, "acked");
    MDB_stat stat;
    rc = mdb_stat (txn, self->cases, &stat);
    *cases = rc == 0? stat.ms_entries: 0;
    mdb_txn_abort (txn);
    return rc? cp_lmdb_fail ("node_store", "count cases", rc): 0;
}

//  =====================================================================
//  Appending

int
node_store_begin (node_store_t *self)
{
    assert (!self->txn);
    int rc = cp_lmdb_begin (self->env, 0, &self->txn);
    if (rc)
        return rc;
    //  One draw of the random source serves the whole transaction's nonces.
    cp_seal_renew (self->seal);
    self->head = cp_lmdb_get_u64 (self->txn, self->meta, "head");
    //  Cursors that live for the transaction (LMDB closes them at its end):
    //  an append through a cursor already at the end skips the descent.
    int mdb_rc = mdb_cursor_open (self->txn, self->log, &self->log_cursor);
    if (mdb_rc == 0)
        mdb_rc = mdb_cursor_open (self->txn, self->ids, &self->ids_cursor);
    if (mdb_rc) {
        mdb_txn_abort (self->txn);
        self->txn = NULL;
        return cp_lmdb_fail ("node_store", "open cursors", mdb_rc);
    }
    return 0;
}

void
node_store_prepare (node_store_t *self, node_store_entry_t *entry)
{
    s_hash (self, entry->event.id, entry->id_key);
    s_hash (self, entry->event.case_id, entry->case_key);
    entry->encoded = NULL;
    entry->encoded_size = 0;
}

//  Checks an entry against its case and, if it passes, applies it and
//  gives it the next sequence.  Returns NODE_STORE_APPENDED, a rule's code
//  (nothing done) or a store error.
static int
s_append_checked (node_store_t *self, const node_store_entry_t *entry, char *why,
                  size_t why_size)
{
    const cp_event_t *event = &entry->event;
    int rc = 0;
    cp_case_t *state = cp_case_cache_get (self->cache, self->txn, self->cases,
                                          entry->case_key, &rc);
    if (state)
        rc = cp_case_check (state, event, self->catalogue, why, why_size);
    if (rc)
        return rc;
    rc = cp_case_apply (state, event, self->catalogue, self->tally);
    assert (rc == 0);       //  cp_case_check has seen to it
    self->head++;
    return NODE_STORE_APPENDED;
}

//  Makes room for the log values of count entries: jobs, and sealed bytes
//  enough that the buffer never moves while a helper seals into it.
static void
s_jobs_reserve (node_store_t *self, node_store_entry_t *const *entries, size_t count)
{
    if (count > self->jobs_max) {
        self->jobs_max = count;
        free (self->jobs);
        free (self->packed_at);
        self->jobs = malloc (self->jobs_max * sizeof (cp_seal_job_t));
        self->packed_at = malloc (self->jobs_max * sizeof (size_t));
        assert (self->jobs && self->packed_at);
    }
    size_t bound = 0;
    for (size_t index = 0; index < count; index++)
        bound += (entries [index]->encoded? entries [index]->encoded_size: CP_CODEC_EVENT_MAX)
               + CP_SEAL_OVERHEAD;
    if (bound > self->sealed_max) {
        self->sealed_max = bound + bound / 4;
        free (self->sealed);            //  sealed bytes only: nothing to wipe
        self->sealed = malloc (self->sealed_max);
        assert (self->sealed);
    }
    self->job_count = 0;
    self->sealed_used = 0;
    self->streaming = true;
    msgpack_sbuffer_clear (&self->encoded);
}

//  Makes the log value of an appended entry (its sequence is the head) the
//  next job.  The value is the caller's encoding, or one packed here; while
//  every value so far is the caller's, the jobs may go to the helper as
//  they come (a packed one may still move as the buffer grows).
static void
s_log_job (node_store_t *self, const node_store_entry_t *entry)
{
    size_t index = self->job_count++;
    cp_seal_job_t *job = &self->jobs [index];
    job->plain = entry->encoded;
    job->plain_size = entry->encoded_size;
    if (!entry->encoded) {
        self->packed_at [index] = self->encoded.size;
        int rc = cp_codec_event_pack (&entry->event, &self->encoded);
        assert (rc == 0);
        job->plain_size = self->encoded.size - self->packed_at [index];
        assert (job->plain_size <= CP_CODEC_EVENT_MAX);     //  s_jobs_reserve's bound
        self->streaming = false;
    }
    //  The associated data is 'L' and the LMDB key, which it ends with.
    job->ad [0] = 'L';
    cp_put_u64 (job->ad + 1, self->head);
    job->ad_size = S_LOG_AD_SIZE;
    job->sealed = self->sealed + self->sealed_used;
    self->sealed_used += job->plain_size + CP_SEAL_OVERHEAD;
}

//  Hands the last jobs to the batch, then appends the sealed log values to
//  the log as the batch hands them back, in sequence order.  Returns 0 or
//  a store error.
static int
s_log_put (node_store_t *self, cp_seal_batch_t *batch)
{
    for (size_t index = 0; index < self->job_count; index++)
        if (!self->jobs [index].plain)
            self->jobs [index].plain = (const uint8_t *) self->encoded.data
                                     + self->packed_at [index];
    cp_seal_batch_ready (batch, self->job_count, true);
    size_t first, end;
    while (cp_seal_batch_next (batch, &first, &end))
        for (size_t index = first; index < end; index++) {
            cp_seal_job_t *job = &self->jobs [index];
            MDB_val key = {8, job->ad + 1};
            MDB_val value = {job->plain_size + CP_SEAL_OVERHEAD, job->sealed};
            int rc = mdb_cursor_put (self->log_cursor, &key, &value, MDB_APPEND);
            if (rc) {
                self->grow = rc == MDB_MAP_FULL;
                return cp_lmdb_fail ("node_store", "append log", rc);
            }
        }
    return 0;
}

int
node_store_append (node_store_t *self, const node_store_entry_t *entry,
                   char *why, size_t why_size)
{
    node_store_entry_t *const entries [1] = {(node_store_entry_t *) entry};
    int outcome;
    int rc = node_store_append_many (self, entries, 1, NULL, &outcome, why, why_size);
    return rc? rc: outcome;
}

//  For sorting a chunk's entries by id key, ties by position.
typedef struct {
    const uint8_t *key;
    uint32_t index;
} s_by_key_t;

static int
s_compare_by_key (const void *a, const void *b)
{
    const s_by_key_t *x = a, *y = b;
    int order = memcmp (x->key, y->key, S_HASH_SIZE);
    return order? order: (x->index > y->index) - (x->index < y->index);
}

void
node_store_order_by_key (node_store_entry_t *const *entries, size_t count, uint32_t *by_key)
{
    s_by_key_t *sorted = malloc (count * sizeof (s_by_key_t));
    assert (sorted);
    for (size_t index = 0; index < count; index++)
        sorted [index] = (s_by_key_t) {entries [index]->id_key, (uint32_t) index};
    qsort (sorted, count, sizeof (s_by_key_t), s_compare_by_key);
    for (size_t index = 0; index < count; index++)
        by_key [index] = sorted [index].index;
    free (sorted);
}

int
node_store_append_many (node_store_t *self, node_store_entry_t *const *entries, size_t count,
                        const uint32_t *by_key, int *outcomes, char *whys, size_t why_size)
{
    assert (self->txn);
    if (count == 0)
        return 0;
    s_by_key_t *sorted = malloc (count * sizeof (s_by_key_t));
    uint32_t *leader = malloc (count * sizeof (uint32_t));     //  first of its id
    uint64_t *claimed = calloc (count, sizeof (uint64_t));      //  leader's seq, or 0
    bool *stored = calloc (count, sizeof (bool));               //  leader's id is stored
    assert (sorted && leader && claimed && stored);
    s_jobs_reserve (self, entries, count);
    if (by_key)
        for (size_t at = 0; at < count; at++)
            sorted [at] = (s_by_key_t) {entries [by_key [at]]->id_key, by_key [at]};
    else {
        for (size_t index = 0; index < count; index++)
            sorted [index] = (s_by_key_t) {entries [index]->id_key, (uint32_t) index};
        qsort (sorted, count, sizeof (s_by_key_t), s_compare_by_key);
    }

    //  1. Which ids the store holds, looked up in key order.
    int rc = 0;
    for (size_t at = 0; at < count && rc == 0; at++) {
        bool first = at == 0 || memcmp (sorted [at].key, sorted [at - 1].key, S_HASH_SIZE);
        leader [sorted [at].index] = first? sorted [at].index: leader [sorted [at - 1].index];
        if (!first)
            continue;
        MDB_val k = {S_HASH_SIZE, (void *) sorted [at].key}, v;
        int mdb_rc = mdb_cursor_get (self->ids_cursor, &k, &v, MDB_SET);
        if (mdb_rc == 0)
            stored [sorted [at].index] = true;
        else
        if (mdb_rc != MDB_NOTFOUND)
            rc = cp_lmdb_fail ("node_store", "read ids", mdb_rc);
    }
    //  2. The events in file order: the first of an id that passes the
    //     rules is appended, any other line with that id is a duplicate.
    //     A helper seals their log values meanwhile, as they come, and
    //     they are appended to the log after the last.
    cp_seal_batch_t *batch = cp_seal_batch_stream (self->seal, self->jobs, count);
    for (size_t index = 0; index < count && rc == 0; index++) {
        uint32_t first = leader [index];
        if (stored [first] || claimed [first]) {
            outcomes [index] = NODE_STORE_DUPLICATE;
            continue;
        }
        char *why = whys? whys + index * why_size: NULL;
        int outcome = s_append_checked (self, entries [index], why, whys? why_size: 0);
        if (outcome == CP_ESTORE || outcome == CP_EMAPFULL)
            rc = outcome;
        else
        if (outcome == NODE_STORE_APPENDED) {
            claimed [first] = self->head;
            s_log_job (self, entries [index]);
            if (self->streaming && self->job_count % S_READY_STEP == 0)
                cp_seal_batch_ready (batch, self->job_count, false);
        }
        outcomes [index] = outcome;
    }
    if (rc == 0)
        rc = s_log_put (self, batch);
    cp_seal_batch_destroy (&batch);
    if (self->encoded.size)             //  events packed here, in the clear
        sodium_memzero (self->encoded.data, self->encoded.size);
    //  3. The new ids, inserted in key order: each page of the index is
    //     visited once per chunk instead of once per event.
    for (size_t at = 0; at < count && rc == 0; at++) {
        uint32_t index = sorted [at].index;
        if (leader [index] != index || !claimed [index])
            continue;
        uint8_t seq [8];
        cp_put_u64 (seq, claimed [index]);
        MDB_val k = {S_HASH_SIZE, (void *) sorted [at].key}, v = {8, seq};
        int mdb_rc = mdb_cursor_put (self->ids_cursor, &k, &v, MDB_NOOVERWRITE);
        if (mdb_rc) {
            self->grow = mdb_rc == MDB_MAP_FULL;
            rc = cp_lmdb_fail ("node_store", "put id", mdb_rc);
        }
    }
    free (sorted);
    free (leader);
    free (claimed);
    free (stored);
    return rc;
}

//  Adds the transaction's deltas into the stored day rows.
static int
s_write_rows (node_store_t *self)
{
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    int32_t day = INT32_MIN;
    const cp_tally_deltas_t *deltas;
    while ((deltas = cp_tally_next (self->tally, &day))) {
        uint8_t key [4];
        cp_put_u32 (key, (uint32_t) day);
        MDB_val k = {4, key}, v = {0, NULL};
        int rc = mdb_get (self->txn, self->days, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail ("node_store", "read row", rc);
        size_t size;
        if (cp_tally_merge (v.mv_data, v.mv_size, deltas, buf, &size)) {
            zsys_error ("node_store: a stored counter row is corrupt");
            return CP_ESTORE;
        }
        if ((rc = s_put (self, self->days, key, 4, buf, size, 0, "put row")))
            return rc;
    }
    return 0;
}

static void
s_forget (node_store_t *self)
{
    cp_case_cache_clear (self->cache);
    cp_tally_clear (self->tally);
}

int
node_store_commit (node_store_t *self)
{
    assert (self->txn);
    uint8_t head [8];
    cp_put_u64 (head, self->head);
    int rc = cp_case_cache_write (self->cache, self->txn, self->cases);
    self->grow |= rc == CP_EMAPFULL;
    if (rc == 0)
        rc = s_write_rows (self);
    if (rc == 0)
        rc = s_put (self, self->meta, "head", 4, head, 8, 0, "put head");
    if (rc) {
        node_store_abort (self);
        return rc;
    }
    int mdb_rc = mdb_txn_commit (self->txn);
    self->txn = NULL;
    s_forget (self);
    if (mdb_rc == MDB_MAP_FULL) {
        cp_lmdb_grow (self->env);
        return CP_EMAPFULL;
    }
    return mdb_rc? cp_lmdb_fail ("node_store", "commit", mdb_rc): 0;
}

void
node_store_abort (node_store_t *self)
{
    if (self->txn)
        mdb_txn_abort (self->txn);
    self->txn = NULL;
    s_forget (self);
    if (self->grow) {
        self->grow = false;
        cp_lmdb_grow (self->env);
    }
}

//  =====================================================================
//  Views

int
node_store_view (node_store_t *self, cp_view_t *view)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->days, &cursor);
    if (rc) {
        mdb_txn_abort (txn);
        return cp_lmdb_fail ("node_store", "view", rc);
    }
    MDB_val k, v;
    int op = MDB_FIRST;
    while ((rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != 4) {
            rc = CP_ESTORE;
            break;
        }
        int32_t day = (int32_t) cp_get_u32 (k.mv_data);
        if (day > cp_view_last_month (view))
            break;
        if (cp_view_add_encoded (view, day, v.mv_data, v.mv_size)) {
            zsys_error ("node_store: a stored counter row is corrupt");
            rc = CP_ESTORE;
            break;
        }
    }
    mdb_cursor_close (cursor);
    uint64_t head = cp_lmdb_get_u64 (txn, self->meta, "head");
    mdb_txn_abort (txn);
    view->municipalities_reporting = head > 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc == 0 || rc == CP_ESTORE? rc: cp_lmdb_fail ("node_store", "view", rc);
}

//  =====================================================================
//  Settings, the acknowledged cursor, reading the log for sync

int
node_store_setting (node_store_t *self, const char *name, char *buf, size_t size)
{
    MDB_txn *txn;
    if (cp_lmdb_begin (self->env, MDB_RDONLY, &txn))
        return -1;
    int rc = cp_lmdb_get_text (txn, self->meta, name, buf, size);
    mdb_txn_abort (txn);
    return rc? -1: 0;
}

//  Runs one small write transaction that puts key → value into meta; with
//  only_if_greater, a u64 value is written only when it is greater than the
//  stored one (read and written in the same transaction, so two writers can
//  never move it backwards).
static int
s_put_meta (node_store_t *self, const char *key, const void *value, size_t size,
            bool only_if_greater)
{
    for (;;) {
        int rc = node_store_begin (self);
        if (rc)
            return rc;
        if (only_if_greater
        &&  cp_get_u64 (value) <= cp_lmdb_get_u64 (self->txn, self->meta, key)) {
            node_store_abort (self);
            return 0;
        }
        rc = s_put (self, self->meta, key, strlen (key), value, size, 0, key);
        if (rc == 0) {
            int mdb_rc = mdb_txn_commit (self->txn);
            self->txn = NULL;
            if (mdb_rc == MDB_MAP_FULL) {
                cp_lmdb_grow (self->env);
                continue;
            }
            return mdb_rc? cp_lmdb_fail ("node_store", "commit", mdb_rc): 0;
        }
        node_store_abort (self);
        if (rc != CP_EMAPFULL)
            return rc;
    }
}

int
node_store_set_setting (node_store_t *self, const char *name, const char *value)
{
    return s_put_meta (self, name, value, strlen (value), false);
}

int
node_store_set_acked (node_store_t *self, uint64_t seq)
{
    uint8_t value [8];
    cp_put_u64 (value, seq);
    return s_put_meta (self, "acked", value, 8, true);
}

//  Opens the log entry of sequence seq (sealed, sealed_size bytes) into
//  plain.  Returns 0 or CP_ESTORE (logged, plain wiped).
static int
s_open_log (node_store_t *self, uint64_t seq, const MDB_val *sealed, uint8_t *plain)
{
    uint8_t ad [S_LOG_AD_SIZE] = {'L'};
    cp_put_u64 (ad + 1, seq);
    int rc = cp_seal_open (self->seal, ad, sizeof ad, sealed->mv_data, sealed->mv_size, plain);
    if (rc) {
        zsys_error ("node_store: log entry %" PRIu64 " does not open (%s): the store was "
                    "sealed under another data key, or it is damaged", seq, cp_strerror (rc));
        return CP_ESTORE;
    }
    return 0;
}

int
node_store_read_batch (node_store_t *self, uint64_t first, size_t max_events,
                       size_t max_bytes, uint8_t **payload, size_t *size, uint64_t *last)
{
    *payload = NULL;
    *size = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    if ((rc = mdb_cursor_open (txn, self->log, &cursor))) {
        mdb_txn_abort (txn);
        return cp_lmdb_fail ("node_store", "read log", rc);
    }
    //  First pass counts what fits (by the events' own sizes, as before they
    //  were sealed); the entries stay valid while txn lives.
    uint8_t key [8];
    cp_put_u64 (key, first);
    MDB_val k = {8, key}, v;
    size_t count = 0, bytes = 0;
    int op = MDB_SET_KEY;
    MDB_val *values = malloc (max_events * sizeof (MDB_val));
    assert (values);
    while (count < max_events && (count == 0 || bytes + 64 < max_bytes)
       &&  (rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != 8 || cp_get_u64 (k.mv_data) != first + count)
            break;          //  the log has no gaps; stop rather than ship one
        if (v.mv_size < CP_SEAL_OVERHEAD) {
            zsys_error ("node_store: log entry %" PRIu64 " is corrupt (too short to be sealed)",
                        first + count);
            rc = CP_ESTORE;
            break;
        }
        values [count++] = v;
        bytes += v.mv_size - CP_SEAL_OVERHEAD;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else
    if (rc && rc != CP_ESTORE)      //  CP_ESTORE: logged above
        rc = cp_lmdb_fail ("node_store", "read log", rc);
    if (rc == 0 && count) {
        //  The batch is a header around the events, each opened in place.
        msgpack_sbuffer header;
        msgpack_packer packer;
        msgpack_sbuffer_init (&header);
        msgpack_packer_init (&packer, &header, msgpack_sbuffer_write);
        msgpack_pack_array (&packer, 2);
        msgpack_pack_uint64 (&packer, first);
        msgpack_pack_array (&packer, count);
        uint8_t *buffer = malloc (header.size + bytes);
        assert (buffer);
        memcpy (buffer, header.data, header.size);
        size_t at = header.size;
        for (size_t index = 0; rc == 0 && index < count; index++) {
            rc = s_open_log (self, first + index, &values [index], buffer + at);
            at += values [index].mv_size - CP_SEAL_OVERHEAD;
        }
        msgpack_sbuffer_destroy (&header);
        if (rc == 0) {
            *payload = buffer;
            *size = at;
            *last = first + count - 1;
        }
        else {
            sodium_memzero (buffer, at);
            free (buffer);
        }
    }
    free (values);
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc;
}
