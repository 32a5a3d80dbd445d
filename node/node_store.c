/*  node_store: the node's LMDB environment, appends, views.

    The write path is the import's hot loop, so per event it does one look-up
    in ids, one in the case cache (LMDB only on a cache miss), one put in ids
    and a copy into the open log block; the case and counter changes stay in
    memory until commit.

    Case data is sealed at rest (cp_seal, under DIR/keys/data.key): every
    value of log and cases, with the database's letter ('L', 'C') and the
    record's key as associated data; the sealer's nonce prefixes are
    renewed at each write transaction.  Sealing each event on its own costs
    about as much as the rest of its append (and 41 bytes), so the log is
    kept in blocks: the events one append_many call appends go, in order,
    into blocks of about 16 KiB (a whole number of LMDB pages once sealed),
    each sealed once and appended under the sequence of its first event:

        u8 version (1), u16 count, then count times: u16 size, the event
        as cp_codec packs it                        (big-endian, sealed)

    A block never straddles two calls, so an abort or a crash never leaves
    half of one, and the blocks chain: each key is the previous key plus
    its count.  Blocks are sealed in line as they fill, before the ids are
    inserted, so the log's pages still come first in the file.  Reading
    finds the block that holds a sequence (the last key at or before it),
    opens it, and goes on through the blocks that follow.  Anything that
    does not open or does not parse is damage (or another node's key): a
    store error, logged without the bytes.                                  */

#include "node_store.h"
#include "cp_case.h"
#include "cp_case_cache.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_municipality.h"
#include "cp_seal.h"
#include "cp_store.h"
#include "cp_wire.h"

#include <czmq.h>
#include <inttypes.h>
#include <msgpack.h>
#include <sodium.h>
#include <sys/inotify.h>
#include <sys/stat.h>

//  2: log and cases values are sealed; a store of format 1 holds them in
//  the clear.  3: the log is sealed in blocks of events; format 2 sealed
//  each event.  4: the log has an identity and a chain.  5: the month rows
//  are in "months" (CP_STORE_MONTHS), no longer in "days".  6: the
//  downlink (its cursor, the entries applied, refusals counted).  7: the
//  node's own records (its staffing, its directives' receipt and
//  completion).  8: ids and cases keyed by cp_index_key's stem-first hash.
//  Another format is refused rather than misread.
#define S_FORMAT "cpsync-node 8"
#define S_HASH_SIZE CP_INDEX_HASH_SIZE
#define S_MAX_DBS 16
#define S_LOG_AD_SIZE 9             //  'L', u64 sequence
#define S_LOG_VERSION 1             //  a log block's first byte
#define S_LOG_HEADER 3              //  version, u16 count
#define S_LOG_SIZE 2                //  u16 before each event
#define S_LOG_BLOCK_TARGET 16384    //  bytes a sealed block fills, about
#define S_LOG_SEALED_MAX (1 << 20)  //  a stored block larger than this is damage
#define S_LMDB_PAGE_HEADER 16       //  LMDB's PAGEHDRSZ, before a large value's bytes
#define S_LOG_SIZE_ID NODE_STORE_LOG_SIZE
#define S_CHAIN_SIZE NODE_STORE_CHAIN_SIZE
//  The downlink: the cursor's meta key, and the databases of the entries
//  applied and of the refusals counted
#define S_DOWNLINK_CURSOR "downlink"
#define S_DOWNLINK_DB "downlink"
#define S_DOWNLINK_REFUSED_DB "downlink_refused"
//  The staffing the node has set: u32 day → u32 workers, u32 children
#define S_STAFFING_DB "staffing"
#define S_STAFFING_VALUE 8
#define S_DIRECTIVES_DB "directives"

//  What the node's store is to cp_store.
static const cp_store_kind_t s_kind = {
    .module = "node_store",
    .name = "node",
    .format = S_FORMAT,
    .advice = "set the node up again and re-import: the central counts each event once "
              "whatever log it comes in",
    .seal_key = "keys/data.key",
    .seal_key_name = "data key",
    .not_store = CP_ENOTNODE,
    .max_dbs = S_MAX_DBS
};

struct _node_store_t {
    MDB_env *env;
    MDB_dbi meta, catalogues, log, ids, cases, months, chains, downlink, downlink_refused;
    MDB_dbi staffing;           //  the node's staffing by the day it takes effect
    MDB_dbi directives;         //  u64 seq → cp_directive_state_t's record
    char municipality [CP_ID_MAX + 1];
    cp_catalogue_t *catalogue;  //  the active catalogue
    uint8_t *index_key;         //  cp_index_key: guarded, read-only
    cp_seal_t *seal;            //  seals log and cases values (DIR/keys/data.key)
    //  State of the open write transaction
    MDB_txn *txn;
    MDB_cursor *log_cursor;     //  kept at the log's end for appends
    MDB_cursor *ids_cursor;
    uint64_t head;              //  last sequence appended
    uint8_t chain [S_CHAIN_SIZE];   //  the log's chain at head
    cp_case_cache_t *cache;     //  the cases the transaction touches
    cp_tally_t *tally;          //  counter deltas of the transaction
    bool grow;                  //  the map was full: grow it on abort
    //  The open log block of node_store_append_many, kept for the next call
    uint8_t *block;             //  its plaintext, header first (wiped once sealed)
    size_t block_max;           //  bytes it may hold: sealed, it fills whole pages
    size_t block_used;          //  bytes it holds, header included
    size_t block_count;         //  events it holds
    uint64_t block_first;       //  sequence of its first event
    msgpack_sbuffer encoded;    //  an event packed here (wiped after use)
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

//  The chain's running digest: started from the chain before a block, fed
//  the block's records, read at any record.
static const uint8_t s_chain_personal [crypto_generichash_blake2b_PERSONALBYTES] =
    "cpsync chain v1";

static void
s_chain_start (node_store_t *self, crypto_generichash_blake2b_state *state,
               const uint8_t *before)
{
    crypto_generichash_blake2b_init_salt_personal (state, self->index_key, CP_INDEX_KEY_SIZE,
                                                   S_CHAIN_SIZE, NULL, s_chain_personal);
    crypto_generichash_blake2b_update (state, before, S_CHAIN_SIZE);
}

//  The chain after what state has been fed, leaving state as it was.
static void
s_chain_read (const crypto_generichash_blake2b_state *state, uint8_t *chain)
{
    crypto_generichash_blake2b_state copy = *state;
    crypto_generichash_blake2b_final (&copy, chain, S_CHAIN_SIZE);
}

//  A put in the write transaction; a full map is noted, so that abort grows it.
static int
s_put (node_store_t *self, MDB_dbi dbi, const void *key, size_t key_size,
       const void *data, size_t size, unsigned flags, const char *what)
{
    MDB_val value = {size, (void *) data};
    return cp_store_put (&s_kind, self->txn, dbi, key, key_size, &value, flags, what,
                         &self->grow);
}

//  The node's databases, opened in txn (flags: MDB_CREATE at set-up).
static int
s_open_dbis (node_store_t *self, MDB_txn *txn, unsigned flags)
{
    int rc;
    if ((rc = mdb_dbi_open (txn, "meta", flags, &self->meta))
    ||  (rc = mdb_dbi_open (txn, "catalogues", flags | MDB_INTEGERKEY, &self->catalogues))
    ||  (rc = mdb_dbi_open (txn, "log", flags, &self->log))
    ||  (rc = mdb_dbi_open (txn, "ids", flags, &self->ids))
    ||  (rc = mdb_dbi_open (txn, "cases", flags, &self->cases))
    ||  (rc = mdb_dbi_open (txn, CP_STORE_MONTHS, flags, &self->months))
    ||  (rc = mdb_dbi_open (txn, "chains", flags, &self->chains))
    ||  (rc = mdb_dbi_open (txn, S_DOWNLINK_DB, flags, &self->downlink))
    ||  (rc = mdb_dbi_open (txn, S_DOWNLINK_REFUSED_DB, flags, &self->downlink_refused))
    ||  (rc = mdb_dbi_open (txn, S_STAFFING_DB, flags, &self->staffing))
    ||  (rc = mdb_dbi_open (txn, S_DIRECTIVES_DB, flags, &self->directives)))
        return rc;
    return 0;
}

//  A u64 meta value, big-endian like every other.
static int
s_put_u64 (node_store_t *self, const char *key, uint64_t value)
{
    uint8_t buf [8];
    cp_put_u64 (buf, value);
    return s_put (self, self->meta, key, strlen (key), buf, 8, 0, key);
}

//  A binary meta value of exactly size bytes into out; zeros when absent.
static void
s_get_bin (MDB_txn *txn, MDB_dbi meta, const char *key, uint8_t *out, size_t size)
{
    MDB_val k = {strlen (key), (void *) key}, v;
    if (mdb_get (txn, meta, &k, &v) == 0 && v.mv_size == size)
        memcpy (out, v.mv_data, size);
    else
        memset (out, 0, size);
}

//  =====================================================================
//  Creating and opening

//  The node's part of its set-up (cp_store_create_fn): its databases, its
//  municipality (args) and its log's identity, since a store set up again
//  is a new log.
static int
s_create (MDB_txn *txn, const void *args)
{
    const char *municipality = args;
    node_store_t scratch = {0};
    uint8_t log [S_LOG_SIZE_ID], started [8];
    randombytes_buf (log, sizeof log);
    cp_put_u64 (started, (uint64_t) zclock_time ());
    MDB_val log_key = {3, "log"}, log_value = {sizeof log, log};
    MDB_val started_key = {11, "log_started"}, started_value = {8, started};
    int rc = s_open_dbis (&scratch, txn, MDB_CREATE);
    if (!rc) rc = cp_lmdb_put_text (txn, scratch.meta, "municipality", municipality);
    if (!rc) rc = mdb_put (txn, scratch.meta, &log_key, &log_value, 0);
    if (!rc) rc = mdb_put (txn, scratch.meta, &started_key, &started_value, 0);
    return rc;
}

int
node_store_create (const char *dir, const char *municipality, int catalogue)
{
    return cp_store_create (&s_kind, dir, catalogue, s_create, municipality);
}

//  The node's part of opening (cp_store_open_fn): its databases and its
//  municipality.
static int
s_open (void *store, MDB_txn *txn, const char *dir)
{
    (void) dir;
    node_store_t *self = store;
    if (s_open_dbis (self, txn, 0)
    ||  cp_lmdb_get_text (txn, self->meta, "municipality", self->municipality,
                          sizeof self->municipality))
        return CP_ENOTNODE;
    return 0;
}

node_store_t *
node_store_open (const char *dir, int *error)
{
    node_store_t *self = calloc (1, sizeof (node_store_t));
    assert (self);
    int rc = cp_store_open (&s_kind, dir, CP_LMDB_WRITE, s_open, self, &self->env,
                            &self->catalogue);
    if (rc == 0)
        rc = cp_store_keys_load (&s_kind, dir, &self->index_key, &self->seal);
    if (rc == 0) {
        self->cache = cp_case_cache_new (S_HASH_SIZE, self->seal, "node_store");
        self->tally = cp_tally_new ();
        msgpack_sbuffer_init (&self->encoded);
        //  A sealed block fills about S_LOG_BLOCK_TARGET bytes of whole
        //  pages (LMDB stores it on pages of its own), and one event of
        //  the largest size always fits.
        MDB_stat stat;
        mdb_env_stat (self->env, &stat);
        size_t pages = stat.ms_psize >= S_LOG_BLOCK_TARGET? 1: S_LOG_BLOCK_TARGET / stat.ms_psize;
        self->block_max = pages * stat.ms_psize - S_LMDB_PAGE_HEADER - CP_SEAL_OVERHEAD;
        assert (self->block_max >= S_LOG_HEADER + S_LOG_SIZE + CP_CODEC_EVENT_MAX);
        self->block = malloc (self->block_max);
        assert (self->cache && self->tally && self->block);
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
    free (self->block);                             //  wiped after each use
    cp_store_close (&self->env, &self->catalogue, &self->index_key, &self->seal);
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
node_store_watch (node_store_t *self)
{
    const char *dir;
    char file [4096];
    if (mdb_env_get_path (self->env, &dir)
    ||  snprintf (file, sizeof file, "%s/data.mdb", dir) >= (int) sizeof file)
        return -1;
    int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && inotify_add_watch (fd, file, IN_MODIFY) < 0) {
        close (fd);
        fd = -1;
    }
    return fd;
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
    int rc = cp_store_begin (self->env, self->seal, &self->txn);
    if (rc)
        return rc;
    self->head = cp_lmdb_get_u64 (self->txn, self->meta, "head");
    s_get_bin (self->txn, self->meta, "chain", self->chain, S_CHAIN_SIZE);
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

//  =====================================================================
//  Directives: what the node knows of each one addressed to it

//  The state of directive seq as txn sees it, into *state (zeroed when the
//  node knows nothing of it).  Returns 0, 1 when there is none, or
//  CP_ESTORE (logged: a record that does not read).
static int
s_directive_get (node_store_t *self, MDB_txn *txn, uint64_t seq, cp_directive_state_t *state)
{
    memset (state, 0, sizeof *state);
    uint8_t key [8];
    cp_put_u64 (key, seq);
    MDB_val k = {8, key}, v;
    int rc = mdb_get (txn, self->directives, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc)
        return cp_lmdb_fail ("node_store", "read directives", rc);
    rc = cp_directive_state_decode (v.mv_data, v.mv_size, state);
    if (rc) {
        zsys_error ("node_store: the state of directive %" PRIu64 " does not read (%s)", seq,
                    cp_strerror (rc));
        return CP_ESTORE;
    }
    return 0;
}

//  In the write transaction: stores the state of directive seq.
static int
s_directive_put (node_store_t *self, uint64_t seq, const cp_directive_state_t *state)
{
    uint8_t key [8], record [CP_DIRECTIVE_STATE_MAX];
    cp_put_u64 (key, seq);
    size_t size = cp_directive_state_encode (state, record);
    return s_put (self, self->directives, key, 8, record, size, 0, "put directive");
}

//  In the write transaction: what an event of the node's own kinds does to
//  the store besides being logged, whether the node makes it now or takes
//  it back from the central's archive (recover): its staffing is kept in
//  staffing, a directive's receipt and completion in directives, so a
//  rebuilt node knows them even before the entries come again.  Returns 0
//  or a store error.
static int
s_own_effect (node_store_t *self, const cp_event_t *event)
{
    if (event->type == CP_EVENT_STAFF_SET) {
        //  Kept by the day it takes effect: a later set for the same day
        //  replaces it, as at the central.
        uint8_t day [4], value [S_STAFFING_VALUE];
        cp_put_u32 (day, (uint32_t) event->date);
        cp_put_u32 (value, event->workers);
        cp_put_u32 (value + 4, event->children);
        return s_put (self, self->staffing, day, sizeof day, value, sizeof value, 0,
                      "put staffing");
    }
    if (event->type != CP_EVENT_DIRECTIVE_RECEIVED && event->type != CP_EVENT_DIRECTIVE_DONE)
        return 0;
    cp_directive_state_t state;
    int rc = s_directive_get (self, self->txn, event->entry, &state);
    if (rc == CP_ESTORE)
        return rc;
    if (event->type == CP_EVENT_DIRECTIVE_RECEIVED)
        state.received = event->date;
    else {
        state.done = event->date;
        snprintf (state.note, sizeof state.note, "%s", event->note);
    }
    return s_directive_put (self, event->entry, &state);
}

//  A case_opened that names a directive (the referral it takes up): the
//  node must have applied that directive, and it must be a referral.
//  Returns 0, a rule's code with why, or a store error.
static int
s_referral_check (node_store_t *self, const cp_event_t *event, char *why, size_t why_size)
{
    cp_directive_state_t state;
    int rc = s_directive_get (self, self->txn, event->entry, &state);
    if (rc == CP_ESTORE)
        return rc;
    if (rc == 1 || state.kind == 0)
        return cp_error_why (CP_ENOTFOUND, why, why_size, "field 'directive': %" PRIu64 " is "
                             "no directive this node has received", event->entry);
    if (state.kind != CP_DIRECTIVE_REFERRAL)
        return cp_error_why (CP_EBADVALUE, why, why_size, "field 'directive': directive %"
                             PRIu64 " is a %s, not a referral", event->entry,
                             cp_directive_kind_name (state.kind));
    return 0;
}

int
node_store_directive_done (node_store_t *self, uint64_t seq, int32_t date, const char *note,
                           char *why, size_t why_size)
{
    assert (self->txn);
    cp_directive_state_t state;
    int rc = s_directive_get (self, self->txn, seq, &state);
    if (rc == CP_ESTORE)
        return rc;
    if (rc == 1 || state.kind == 0)
        return cp_error_why (CP_ENOTFOUND, why, why_size, "%" PRIu64 " is no directive this "
                             "node has received", seq);
    if (state.done) {
        char day [16];
        cp_date_format (state.done, day);
        return cp_error_why (CP_EEXISTS, why, why_size, "directive %" PRIu64 " was done "
                             "already on %s", seq, day);
    }
    cp_event_t done = {.type = CP_EVENT_DIRECTIVE_DONE, .date = date, .entry = seq};
    snprintf (done.id, sizeof done.id, "n-dd-%" PRIu64, seq);
    if (strlen (note) > CP_NOTE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "the note is over %d bytes",
                             CP_NOTE_MAX);
    memcpy (done.note, note, strlen (note) + 1);
    return node_store_append_own (self, &done, why, why_size);
}

int
node_store_directive_state (node_store_t *self, uint64_t seq, cp_directive_state_t *state)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = s_directive_get (self, txn, seq, state);
    mdb_txn_abort (txn);
    return rc;
}

//  Checks an entry against its case and, if it passes, applies it and
//  gives it the next sequence.  An event of the node's own kinds has no
//  case and counts in no month row.  Returns NODE_STORE_APPENDED, a rule's
//  code (nothing done) or a store error.
static int
s_append_checked (node_store_t *self, const node_store_entry_t *entry, char *why,
                  size_t why_size)
{
    const cp_event_t *event = &entry->event;
    int rc = 0;
    if (cp_event_is_own (event->type)) {
        if ((rc = cp_event_own_check (event, why, why_size))
        ||  (rc = s_own_effect (self, event)))
            return rc;
        self->head++;
        return NODE_STORE_APPENDED;
    }
    if (event->type == CP_EVENT_CASE_OPENED && event->entry
    &&  (rc = s_referral_check (self, event, why, why_size)))
        return rc;
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

//  Seals the open block and appends it to the log under the sequence of
//  its first event, then empties it (its plaintext wiped).  Returns 0 or a
//  store error.
static int
s_block_flush (node_store_t *self)
{
    if (self->block_count == 0)
        return 0;
    self->block [0] = S_LOG_VERSION;
    self->block [1] = (uint8_t) (self->block_count >> 8);
    self->block [2] = (uint8_t) self->block_count;
    //  The associated data is 'L' and the LMDB key, which it ends with.
    uint8_t ad [S_LOG_AD_SIZE] = {'L'};
    cp_put_u64 (ad + 1, self->block_first);
    MDB_val key = {8, ad + 1}, value = {self->block_used + CP_SEAL_OVERHEAD, NULL};
    //  Sealed straight into the space LMDB reserves for the value.
    int rc = mdb_cursor_put (self->log_cursor, &key, &value, MDB_APPEND | MDB_RESERVE);
    if (rc == 0)
        cp_seal_seal (self->seal, ad, sizeof ad, self->block, self->block_used, value.mv_data);
    if (rc == 0) {
        //  The chain before the block is kept with it; the one after it
        //  is the log's chain at its new head.
        MDB_val before = {S_CHAIN_SIZE, self->chain};
        rc = mdb_put (self->txn, self->chains, &key, &before, MDB_APPEND);
        crypto_generichash_blake2b_state state;
        s_chain_start (self, &state, self->chain);
        crypto_generichash_blake2b_update (&state, self->block + S_LOG_HEADER,
                                           self->block_used - S_LOG_HEADER);
        crypto_generichash_blake2b_final (&state, self->chain, S_CHAIN_SIZE);
    }
    sodium_memzero (self->block, self->block_used);
    self->block_used = S_LOG_HEADER;
    self->block_count = 0;
    return rc? cp_store_fail (&s_kind, "append log", rc, &self->grow): 0;
}

//  Adds an appended entry's event (its sequence is the head) to the open
//  block, sealing the block first when the event does not fit.  Returns 0
//  or a store error.
static int
s_block_add (node_store_t *self, const node_store_entry_t *entry)
{
    const uint8_t *encoded = entry->encoded;
    size_t size = entry->encoded_size;
    if (!encoded) {
        msgpack_sbuffer_clear (&self->encoded);
        int rc = cp_codec_event_pack (&entry->event, &self->encoded);
        assert (rc == 0);
        encoded = (const uint8_t *) self->encoded.data;
        size = self->encoded.size;
    }
    //  cp_codec keeps an event far below a block, and below a u16 size.
    assert (size <= CP_CODEC_EVENT_MAX);
    int rc = 0;
    if (self->block_used + S_LOG_SIZE + size > self->block_max)
        rc = s_block_flush (self);
    if (rc == 0) {
        if (self->block_count == 0)
            self->block_first = self->head;
        uint8_t *at = self->block + self->block_used;
        at [0] = (uint8_t) (size >> 8);
        at [1] = (uint8_t) size;
        memcpy (at + S_LOG_SIZE, encoded, size);
        self->block_used += S_LOG_SIZE + size;
        self->block_count++;
    }
    if (!entry->encoded)
        sodium_memzero (self->encoded.data, self->encoded.size);
    return rc;
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
    self->block_used = S_LOG_HEADER;
    self->block_count = 0;
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
    //     Appended events fill log blocks, sealed and put as they fill;
    //     the last block is sealed once the last event has passed.
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
            rc = s_block_add (self, entries [index]);
        }
        outcomes [index] = outcome;
    }
    if (rc == 0)
        rc = s_block_flush (self);
    sodium_memzero (self->block, self->block_used);     //  a block left open by an error
    self->block_used = S_LOG_HEADER;
    self->block_count = 0;
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
        if (mdb_rc)
            rc = cp_store_fail (&s_kind, "put id", mdb_rc, &self->grow);
    }
    free (sorted);
    free (leader);
    free (claimed);
    free (stored);
    return rc;
}

int
node_store_append_own (node_store_t *self, const cp_event_t *event, char *why,
                       size_t why_size)
{
    assert (self->txn && cp_event_is_own (event->type));
    node_store_entry_t entry = {.event = *event};
    node_store_prepare (self, &entry);
    node_store_entry_t *const entries [1] = {&entry};
    int outcome = 0;
    int rc = node_store_append_many (self, entries, 1, NULL, &outcome, why, why_size);
    //  The transaction may be one that node_store_commit does not end.
    if (rc == 0 && outcome == NODE_STORE_APPENDED)
        rc = s_put_u64 (self, "head", self->head);
    if (rc == 0 && outcome == NODE_STORE_APPENDED)
        rc = s_put (self, self->meta, "chain", 5, self->chain, S_CHAIN_SIZE, 0, "put chain");
    sodium_memzero (&entry, sizeof entry);
    return rc? rc: outcome;
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
        rc = cp_store_months_merge (&s_kind, self->txn, self->months, NULL, 0, self->tally,
                                    &self->grow);
    if (rc == 0)
        rc = s_put (self, self->meta, "head", 4, head, 8, 0, "put head");
    if (rc == 0)
        rc = s_put (self, self->meta, "chain", 5, self->chain, S_CHAIN_SIZE, 0, "put chain");
    if (rc) {
        node_store_abort (self);
        return rc;
    }
    rc = cp_store_commit (&s_kind, self->env, self->txn, "commit");
    self->txn = NULL;
    s_forget (self);
    return rc;
}

void
node_store_abort (node_store_t *self)
{
    cp_store_abort (self->env, &self->txn, &self->grow);
    s_forget (self);
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
    rc = cp_store_months_view (&s_kind, txn, self->months, NULL, 0, view);
    uint64_t head = cp_lmdb_get_u64 (txn, self->meta, "head");
    mdb_txn_abort (txn);
    view->municipalities_reporting = head > 0;
    return rc;
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

//  One meta value to put, and whether only a greater u64 may replace the
//  stored one (read and written in one transaction, so two writers can
//  never move it backwards).
typedef struct {
    const char *key;
    const void *value;
    size_t size;
    bool only_if_greater;
} s_meta_put_t;

static int s_edit_meta (node_store_t *self, int (*edit) (node_store_t *, void *), void *args);

static int
s_meta_put (node_store_t *self, void *args)
{
    const s_meta_put_t *put = args;
    if (put->only_if_greater
    &&  cp_get_u64 (put->value) <= cp_lmdb_get_u64 (self->txn, self->meta, put->key))
        return 1;
    return s_put (self, self->meta, put->key, strlen (put->key), put->value, put->size, 0,
                  put->key);
}

static int
s_put_meta (node_store_t *self, const char *key, const void *value, size_t size,
            bool only_if_greater)
{
    s_meta_put_t put = {key, value, size, only_if_greater};
    return s_edit_meta (self, s_meta_put, &put);
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

//  Runs edit in a small write transaction of its own (redone on a grown
//  map); edit returns 0 to commit, 1 to leave the store as it is, or an
//  error (the transaction is aborted).
static int
s_edit_meta (node_store_t *self, int (*edit) (node_store_t *self, void *args), void *args)
{
    for (;;) {
        int rc = node_store_begin (self);
        if (rc)
            return rc;
        rc = edit (self, args);
        if (rc == 0) {
            rc = cp_store_commit (&s_kind, self->env, self->txn, "commit");
            self->txn = NULL;
            if (rc == CP_EMAPFULL)
                continue;
            return rc;
        }
        node_store_abort (self);
        if (rc != CP_EMAPFULL)
            return rc == 1? 0: rc;
    }
}

static int
s_renew_log (node_store_t *self, void *args)
{
    (void) args;
    uint8_t previous [S_LOG_SIZE_ID], log [S_LOG_SIZE_ID];
    s_get_bin (self->txn, self->meta, "log", previous, sizeof previous);
    randombytes_buf (log, sizeof log);
    uint64_t now = (uint64_t) zclock_time ();
    int rc = s_put (self, self->meta, "log", 3, log, sizeof log, 0, "put log");
    if (rc == 0)
        rc = s_put (self, self->meta, "previous_log", 12, previous, sizeof previous, 0,
                    "put previous log");
    if (rc == 0) rc = s_put_u64 (self, "log_started", now);
    if (rc == 0) rc = s_put_u64 (self, "restore_detected", now);
    if (rc == 0) rc = s_put_u64 (self, "acked", 0);
    return rc;
}

int
node_store_renew_log (node_store_t *self)
{
    return s_edit_meta (self, s_renew_log, NULL);
}

static int
s_rewind_acked (node_store_t *self, void *args)
{
    uint64_t seq = *(const uint64_t *) args;
    uint64_t acked = cp_lmdb_get_u64 (self->txn, self->meta, "acked");
    if (seq >= acked)
        return 1;
    int rc = s_put_u64 (self, "acked", seq);
    if (rc == 0) rc = s_put_u64 (self, "central_behind", (uint64_t) zclock_time ());
    if (rc == 0) rc = s_put_u64 (self, "central_behind_by", acked - seq);
    return rc;
}

int
node_store_rewind_acked (node_store_t *self, uint64_t seq)
{
    return s_edit_meta (self, s_rewind_acked, &seq);
}

int
node_store_log_info (node_store_t *self, node_store_log_t *info)
{
    memset (info, 0, sizeof *info);
    int rc = node_store_counts (self, &info->head, &info->acked, &info->cases);
    if (rc)
        return rc;
    MDB_txn *txn;
    if ((rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn)))
        return rc;
    s_get_bin (txn, self->meta, "log", info->log, sizeof info->log);
    s_get_bin (txn, self->meta, "previous_log", info->previous_log, sizeof info->previous_log);
    info->log_started = (int64_t) cp_lmdb_get_u64 (txn, self->meta, "log_started");
    info->restore_detected = (int64_t) cp_lmdb_get_u64 (txn, self->meta, "restore_detected");
    info->central_behind = (int64_t) cp_lmdb_get_u64 (txn, self->meta, "central_behind");
    info->central_behind_by = cp_lmdb_get_u64 (txn, self->meta, "central_behind_by");
    info->recovered = cp_lmdb_get_u64 (txn, self->meta, "recovered");
    info->recovery_done = (int64_t) cp_lmdb_get_u64 (txn, self->meta, "recovery_done");
    mdb_txn_abort (txn);
    return 0;
}

int
node_store_chain_at (node_store_t *self, uint64_t seq, uint8_t *chain)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    uint64_t head = cp_lmdb_get_u64 (txn, self->meta, "head");
    s_get_bin (txn, self->meta, "chain", chain, S_CHAIN_SIZE);
    mdb_txn_abort (txn);
    if (seq > head)
        return 1;
    if (seq == 0)
        memset (chain, 0, S_CHAIN_SIZE);
    if (seq == 0 || seq == head)
        return 0;
    //  Inside the log: the chain before the next event.
    uint8_t *payload, after [S_CHAIN_SIZE];
    size_t size;
    uint64_t last;
    rc = node_store_read_chained (self, seq + 1, 1, 1, &payload, &size, &last, chain, after);
    if (rc == 0 && !payload)
        rc = CP_ESTORE;         //  a head that the log does not reach
    if (payload) {
        sodium_memzero (payload, size);
        free (payload);
    }
    return rc;
}

int
node_store_recovered (node_store_t *self, uint64_t position, bool done)
{
    assert (self->txn);
    int rc = s_put_u64 (self, "recovered", position);
    if (rc == 0 && done)
        rc = s_put_u64 (self, "recovery_done", (uint64_t) zclock_time ());
    return rc;
}

//  Opens the log block stored under sequence key (sealed) into a new
//  buffer (caller wipes and frees, *plain_size bytes) and checks its
//  layout: *count events, whose sizes add up to the plaintext.  Returns
//  the buffer, or NULL with CP_ESTORE (logged) in *rc.
static uint8_t *
s_block_open (node_store_t *self, uint64_t key, const MDB_val *sealed, size_t *plain_size,
              size_t *count, int *rc)
{
    *rc = CP_ESTORE;
    if (sealed->mv_size < CP_SEAL_OVERHEAD + S_LOG_HEADER
    ||  sealed->mv_size > S_LOG_SEALED_MAX) {
        zsys_error ("node_store: log block %" PRIu64 " is corrupt (%zu bytes)", key,
                    sealed->mv_size);
        return NULL;
    }
    size_t size = sealed->mv_size - CP_SEAL_OVERHEAD;
    uint8_t *plain = malloc (size);
    assert (plain);
    uint8_t ad [S_LOG_AD_SIZE] = {'L'};
    cp_put_u64 (ad + 1, key);
    int open_rc = cp_seal_open (self->seal, ad, sizeof ad, sealed->mv_data, sealed->mv_size,
                                plain);
    if (open_rc) {
        zsys_error ("node_store: log block %" PRIu64 " does not open (%s): the store was "
                    "sealed under another data key, or it is damaged", key,
                    cp_strerror (open_rc));
        free (plain);           //  wiped by cp_seal_open
        return NULL;
    }
    //  Authentic, but still checked: a size past the end would read past it.
    size_t events = (size_t) plain [1] << 8 | plain [2], at = S_LOG_HEADER, index = 0;
    for (; index < events && size - at >= S_LOG_SIZE; index++) {
        size_t length = (size_t) plain [at] << 8 | plain [at + 1];
        if (length > size - at - S_LOG_SIZE)
            break;
        at += S_LOG_SIZE + length;
    }
    if (plain [0] != S_LOG_VERSION || events == 0 || index < events || at != size) {
        zsys_error ("node_store: log block %" PRIu64 " is corrupt (version %u, %zu events)",
                    key, plain [0], events);
        sodium_memzero (plain, size);
        free (plain);
        return NULL;
    }
    *plain_size = size;
    *count = events;
    *rc = 0;
    return plain;
}

//  Adds size bytes of plaintext to a growing buffer, which moves without
//  leaving a copy behind.
typedef struct {
    uint8_t *data;
    size_t size, max;
} s_body_t;

static void
s_body_add (s_body_t *body, const uint8_t *data, size_t size)
{
    if (body->size + size > body->max) {
        size_t max = (body->size + size) * 2;
        uint8_t *grown = malloc (max);
        assert (grown);
        if (body->size)
            memcpy (grown, body->data, body->size);
        if (body->data) {
            sodium_memzero (body->data, body->size);
            free (body->data);
        }
        body->data = grown;
        body->max = max;
    }
    memcpy (body->data + body->size, data, size);
    body->size += size;
}

//  The chain before the block stored under sequence block, into before.
//  Returns 0, or CP_ESTORE (logged) when it is missing or corrupt.
static int
s_chain_before (node_store_t *self, MDB_txn *txn, uint64_t block, uint8_t *before)
{
    uint8_t key [8];
    cp_put_u64 (key, block);
    MDB_val k = {8, key}, v;
    int rc = mdb_get (txn, self->chains, &k, &v);
    if (rc == 0 && v.mv_size == S_CHAIN_SIZE) {
        memcpy (before, v.mv_data, S_CHAIN_SIZE);
        return 0;
    }
    zsys_error ("node_store: the chain before log block %" PRIu64 " is %s", block,
                rc == 0? "corrupt": "missing");
    return CP_ESTORE;
}

int
node_store_read_batch (node_store_t *self, uint64_t first, size_t max_events,
                       size_t max_bytes, uint8_t **payload, size_t *size, uint64_t *last)
{
    uint8_t prev [S_CHAIN_SIZE], chain [S_CHAIN_SIZE];
    return node_store_read_chained (self, first, max_events, max_bytes, payload, size, last,
                                    prev, chain);
}

int
node_store_read_chained (node_store_t *self, uint64_t first, size_t max_events,
                         size_t max_bytes, uint8_t **payload, size_t *size, uint64_t *last,
                         uint8_t *prev, uint8_t *chain)
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
    //  The block that may hold first: the last whose key is not past it.
    //  When a block starts past first, first must be in the one before:
    //  if it is not, the log has a gap there.
    uint8_t key [8];
    cp_put_u64 (key, first);
    MDB_val k = {8, key}, v;
    bool gap = false;
    rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == 8 && cp_get_u64 (k.mv_data) > first) {
        gap = first > 0;                //  0 is no sequence: nothing holds it
        rc = mdb_cursor_get (cursor, &k, &v, MDB_PREV);
    }
    else
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get (cursor, &k, &v, MDB_LAST);

    //  Then the events from first on, block after block while they chain,
    //  counted by their own sizes (as before they were sealed).
    //  The chain is folded over every record from the first block's start,
    //  and read at first - 1 and at the last event shipped.
    s_body_t body = {NULL, 0, 0};
    size_t count = 0;
    uint64_t next = first;              //  the sequence wanted next
    bool starting = true;
    crypto_generichash_blake2b_state state;
    uint8_t before [S_CHAIN_SIZE];
    while (rc == 0 && count < max_events && (count == 0 || body.size + 64 < max_bytes)) {
        if (k.mv_size != 8) {
            zsys_error ("node_store: the log holds a key of %zu bytes", k.mv_size);
            rc = CP_ESTORE;
            break;
        }
        uint64_t block = cp_get_u64 (k.mv_data);
        if (!starting && block != next) {
            //  The log has no gaps: ship what comes before one, not the gap.
            zsys_error ("node_store: the log jumps from %" PRIu64 " to block %" PRIu64,
                        next - 1, block);
            break;
        }
        size_t plain_size = 0, events = 0;
        uint8_t *plain = s_block_open (self, block, &v, &plain_size, &events, &rc);
        if (!plain)
            break;
        if (starting && first >= block + events) {
            //  No block holds first: it is past the end, or in a gap.
            sodium_memzero (plain, plain_size);
            free (plain);
            rc = MDB_NOTFOUND;
            break;
        }
        if (starting && (rc = s_chain_before (self, txn, block, before))) {
            sodium_memzero (plain, plain_size);
            free (plain);
            break;
        }
        if (starting && first == block)
            memcpy (prev, before, S_CHAIN_SIZE);
        s_chain_start (self, &state, before);
        starting = false;
        size_t at = S_LOG_HEADER, taken = count;
        for (uint64_t seq = block; seq < block + events; seq++) {
            size_t record = S_LOG_SIZE + ((size_t) plain [at] << 8 | plain [at + 1]);
            if (seq == next) {
                if (count == max_events || (count && body.size + 64 >= max_bytes))
                    break;
                s_body_add (&body, plain + at + S_LOG_SIZE, record - S_LOG_SIZE);
                count++;
                next++;
            }
            crypto_generichash_blake2b_update (&state, plain + at, record);
            if (seq + 1 == first)
                s_chain_read (&state, prev);
            at += record;
        }
        //  The state was fed up to the last event taken; a block taken to
        //  its end starts the next one with that chain.
        if (count > taken)
            s_chain_read (&state, chain);
        if (next == block + events)
            memcpy (before, chain, S_CHAIN_SIZE);
        sodium_memzero (plain, plain_size);
        free (plain);
        rc = mdb_cursor_get (cursor, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND && starting && gap) {
        zsys_error ("node_store: the log has a gap at %" PRIu64, first);
        rc = CP_ESTORE;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    else
    if (rc && rc != CP_ESTORE)      //  CP_ESTORE: logged above
        rc = cp_lmdb_fail ("node_store", "read log", rc);
    if (rc == 0 && count) {
        //  The batch is a header around the events.
        msgpack_sbuffer header;
        msgpack_packer packer;
        msgpack_sbuffer_init (&header);
        msgpack_packer_init (&packer, &header, msgpack_sbuffer_write);
        msgpack_pack_array (&packer, 2);
        msgpack_pack_uint64 (&packer, first);
        msgpack_pack_array (&packer, count);
        uint8_t *buffer = malloc (header.size + body.size);
        assert (buffer);
        memcpy (buffer, header.data, header.size);
        memcpy (buffer + header.size, body.data, body.size);
        *payload = buffer;
        *size = header.size + body.size;
        *last = first + count - 1;
        msgpack_sbuffer_destroy (&header);
    }
    if (body.data) {
        sodium_memzero (body.data, body.size);
        free (body.data);
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc;
}

//  =====================================================================
//  The downlink

int
node_store_downlink_cursor (node_store_t *self, uint64_t *cursor)
{
    return cp_lmdb_read_u64 (self->env, self->meta, S_DOWNLINK_CURSOR, cursor);
}

//  An entry to apply, checked already but for the cursor, and what its
//  transaction found: refused is the refusal, 0 when the entry is applied
//  or the store failed.
typedef struct {
    const cp_downlink_t *entry;
    const uint8_t *bytes;       //  the entry as it came, kept as it came
    size_t size;
    uint64_t prev;              //  the seq of the entry before it to this node
    int refused;
    char *why;
    size_t why_size;
    cp_catalogue_t *catalogue;  //  a revision's catalogue, active once committed
} s_downlink_t;

//  In the write transaction: a catalogue revision takes effect
//  (cp_store_catalogue_install): the next version that applies is stored
//  and made active, its catalogue rebuilt from the texts as this
//  transaction sees them and kept in apply->catalogue for the commit; a
//  text the node holds already changes nothing; anything else is refused,
//  CP_ECATALOGUE.
static int
s_catalogue_take (node_store_t *self, s_downlink_t *apply)
{
    cp_catalogue_destroy (&apply->catalogue);       //  from a round redone on a grown map
    char reason [256] = "";
    int version = 0;
    int rc = cp_store_catalogue_install (&s_kind, self->txn, self->catalogue,
                                         (const char *) apply->entry->body,
                                         apply->entry->body_size, &version, &self->grow,
                                         reason, sizeof reason);
    if (rc == CP_ECATALOGUE)
        return apply->refused = cp_error_why (rc, apply->why, apply->why_size, "entry %" PRIu64
                                              ": %s", apply->entry->seq, reason);
    if (rc == 0 && version > 0 && !(apply->catalogue = cp_store_catalogue_load (&s_kind,
                                                                                self->txn)))
        rc = CP_ESTORE;         //  logged
    return rc;
}

//  In the write transaction: a directive is kept in directives with its
//  kind and due date, and the node gives its receipt, directive_received,
//  in this transaction, so the receipt exists exactly when the entry is
//  applied: once, whatever crashes or resends.  A body that does not
//  decode is refused with its code.
static int
s_directive_take (node_store_t *self, s_downlink_t *apply)
{
    uint64_t seq = apply->entry->seq;
    cp_directive_t directive;
    char reason [200] = "";
    int rc = cp_directive_decode (apply->entry->body, apply->entry->body_size, &directive,
                                  reason, sizeof reason);
    if (rc)
        return apply->refused = cp_error_why (rc, apply->why, apply->why_size, "entry %" PRIu64
                                              ": not a directive: %s", seq, reason);
    cp_directive_state_t state;
    rc = s_directive_get (self, self->txn, seq, &state);
    if (rc == CP_ESTORE)
        return rc;
    state.kind = directive.kind;
    state.due = directive.due;
    if ((rc = s_directive_put (self, seq, &state)))
        return rc;
    //  A node rebuilt by recover holds the receipt already: a duplicate.
    cp_event_t receipt = {.type = CP_EVENT_DIRECTIVE_RECEIVED, .date = cp_date_today (),
                          .entry = seq};
    snprintf (receipt.id, sizeof receipt.id, "n-dr-%" PRIu64, seq);
    rc = node_store_append_own (self, &receipt, reason, sizeof reason);
    if (rc == NODE_STORE_APPENDED || rc == NODE_STORE_DUPLICATE)
        return 0;
    if (rc != CP_ESTORE && rc != CP_EMAPFULL)
        zsys_error ("node_store: the receipt of entry %" PRIu64 " is refused: %s", seq, reason);
    return rc;
}

//  In the write transaction: what an entry does besides being recorded: a
//  catalogue revision is installed, a directive kept with its receipt; the
//  other kinds are recorded for later work to read.
static int
s_downlink_effect (node_store_t *self, s_downlink_t *apply)
{
    switch (apply->entry->kind) {
        case CP_DOWNLINK_CATALOGUE:
            return s_catalogue_take (self, apply);
        case CP_DOWNLINK_DIRECTIVE:
            return s_directive_take (self, apply);
        default:
            return 0;
    }
}

//  In the write transaction: the cursor check, then the entry recorded and
//  the cursor moved, or the refusal in apply->refused.
static int
s_downlink_apply (node_store_t *self, void *args)
{
    s_downlink_t *apply = args;
    uint64_t seq = apply->entry->seq;
    uint64_t cursor = cp_lmdb_get_u64 (self->txn, self->meta, S_DOWNLINK_CURSOR);
    uint8_t key [8];
    cp_put_u64 (key, seq);
    if (seq <= cursor) {
        //  Applied already: the same bytes under its seq are a resend;
        //  anything else is an older entry than the node holds.
        MDB_val k = {8, key}, v;
        int rc = mdb_get (self->txn, self->downlink, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail ("node_store", "read downlink", rc);
        bool same = rc == 0 && v.mv_size == apply->size
                 && memcmp (v.mv_data, apply->bytes, apply->size) == 0;
        apply->refused = cp_error_why (same? CP_EREPLAY: CP_EROLLBACK, apply->why,
                                       apply->why_size, "entry %" PRIu64 " is at or below the "
                                       "downlink cursor %" PRIu64 "%s", seq, cursor,
                                       same? ", applied already": ", and not the one applied");
        return apply->refused;
    }
    if (apply->prev != cursor) {
        //  prev above the cursor: entries to this node are missing before
        //  this one; below: the node applied one the central's log lacks.
        apply->refused = cp_error_why (apply->prev > cursor? CP_EGAP: CP_EDIVERGED,
                                       apply->why, apply->why_size, "entry %" PRIu64 " follows "
                                       "entry %" PRIu64 " to this node, but the downlink cursor "
                                       "is %" PRIu64, seq, apply->prev, cursor);
        return apply->refused;
    }
    uint8_t cursor_value [8];
    cp_put_u64 (cursor_value, seq);
    int rc = s_downlink_effect (self, apply);
    if (rc == 0)
        rc = s_put (self, self->downlink, key, 8, apply->bytes, apply->size, MDB_NOOVERWRITE,
                    "put downlink entry");
    if (rc == 0)
        rc = s_put (self, self->meta, S_DOWNLINK_CURSOR, strlen (S_DOWNLINK_CURSOR),
                    cursor_value, 8, 0, "put downlink cursor");
    return rc;
}

//  In the write transaction: one more refusal of the code args points to.
static int
s_downlink_count (node_store_t *self, void *args)
{
    return cp_store_counter_add (&s_kind, self->txn, self->downlink_refused,
                                 *(const int *) args, 1, &self->grow);
}

int
node_store_apply_downlink (node_store_t *self, const uint8_t *root, uint64_t prev,
                           const uint8_t *bytes, size_t size, char *why, size_t why_size)
{
    assert (self && root && (bytes || size == 0));
    //  What depends only on the entry is checked before the transaction.
    cp_downlink_t entry;
    int rc = cp_downlink_decode (bytes, size, root, &entry, why, why_size);
    if (rc == 0
    &&  !cp_downlink_addressed_to (&entry, cp_municipality_index (self->municipality))) {
        char to [CP_SCOPE_MAX];
        cp_downlink_address_format (&entry.address, to);
        rc = cp_error_why (CP_ENOTADDRESSED, why, why_size, "entry %" PRIu64 " is addressed "
                           "to %s, not to %s", entry.seq, to, self->municipality);
    }
    if (rc == 0) {
        s_downlink_t apply = {&entry, bytes, size, prev, 0, why, why_size, NULL};
        rc = s_edit_meta (self, s_downlink_apply, &apply);
        if (rc == 0 && apply.catalogue) {
            //  Committed: the revision's catalogue is the active one now.
            cp_catalogue_destroy (&self->catalogue);
            self->catalogue = apply.catalogue;
            apply.catalogue = NULL;
        }
        cp_catalogue_destroy (&apply.catalogue);
        if (!apply.refused)
            return rc;          //  applied, or a store error (logged)
    }
    //  A refusal changes nothing but its count, kept in a transaction of
    //  its own; a count that cannot be kept is logged, the refusal stands.
    (void) s_edit_meta (self, s_downlink_count, &rc);
    return rc;
}

int
node_store_downlink_entry (node_store_t *self, uint64_t seq, uint8_t **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    uint8_t key [8];
    cp_put_u64 (key, seq);
    MDB_val k = {8, key}, v;
    rc = mdb_get (txn, self->downlink, &k, &v);
    if (rc == 0) {
        *bytes = malloc (v.mv_size? v.mv_size: 1);
        assert (*bytes);
        memcpy (*bytes, v.mv_data, v.mv_size);
        *size = v.mv_size;
    }
    mdb_txn_abort (txn);
    return rc == 0 || rc == MDB_NOTFOUND? 0: cp_lmdb_fail ("node_store", "read downlink", rc);
}

int
node_store_downlink_refusals (node_store_t *self, cp_store_counter_t *refusals, size_t max,
                              size_t *count)
{
    *count = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = cp_store_counters_read (&s_kind, txn, self->downlink_refused, refusals, max,
                                     count);
        mdb_txn_abort (txn);
    }
    return rc;
}

//  =====================================================================
//  The node's staffing

int
node_store_staffing_history (node_store_t *self, node_staffing_t *items, size_t max,
                             size_t *count)
{
    *count = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (txn, self->staffing, &cursor);
    if (mdb_rc == 0) {
        MDB_val k, v;
        mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_FIRST);
        while (mdb_rc == 0 && *count < max) {
            if (k.mv_size != 4 || v.mv_size != S_STAFFING_VALUE) {
                mdb_rc = MDB_CORRUPTED;
                break;
            }
            node_staffing_t *item = &items [(*count)++];
            item->date = (int32_t) cp_get_u32 (k.mv_data);
            item->workers = cp_get_u32 (v.mv_data);
            item->children = cp_get_u32 ((const uint8_t *) v.mv_data + 4);
            mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    return mdb_rc == 0 || mdb_rc == MDB_NOTFOUND? 0
         : cp_lmdb_fail ("node_store", "read staffing", mdb_rc);
}

//  =====================================================================
//  Published figures: the central's digests against this node's rows

#define S_RECONCILIATION "reconciliation"
#define S_CENTRAL_ROWS "central_rows"   //  i64 when it came, then a FIGROWS body
#define S_RECONCILIATION_SIZE (8 + 1 + 8 + CP_FIGURES_DIGEST_SIZE + 8)
                                //  u64 as_of, u8 verdict, i64 checked, the
                                //  fingerprint of the node's figures, u64
                                //  reports; the periods after

//  Reads meta "reconciliation" in txn; *fingerprint (NULL: not wanted) gets
//  the node's figures' fingerprint as of the check.
static void
s_reconciliation_read (node_store_t *self, MDB_txn *txn, node_reconciliation_t *out,
                       uint8_t *fingerprint)
{
    memset (out, 0, sizeof *out);
    if (fingerprint)
        memset (fingerprint, 0, CP_FIGURES_DIGEST_SIZE);
    MDB_val k = {strlen (S_RECONCILIATION), S_RECONCILIATION}, v;
    if (mdb_get (txn, self->meta, &k, &v) || v.mv_size < S_RECONCILIATION_SIZE
    ||  v.mv_size > S_RECONCILIATION_SIZE + CP_NOTE_MAX)
        return;                 //  never checked (a damaged record is as good as none)
    const uint8_t *at = v.mv_data;
    out->as_of = cp_get_u64 (at);
    out->verdict = at [8];
    out->checked = (int64_t) cp_get_u64 (at + 9);
    if (fingerprint)
        memcpy (fingerprint, at + 17, CP_FIGURES_DIGEST_SIZE);
    out->reports = cp_get_u64 (at + 17 + CP_FIGURES_DIGEST_SIZE);
    memcpy (out->periods, at + S_RECONCILIATION_SIZE, v.mv_size - S_RECONCILIATION_SIZE);
}

typedef struct {
    const cp_month_digests_t *theirs;
    cp_month_digests_t *ours;   //  scratch
    node_reconciliation_t *result;
    bool stale;
} s_figures_check_t;

//  In the write transaction: the comparison, the report when something
//  changed, the record of the check.
static int
s_figures_check (node_store_t *self, void *args)
{
    s_figures_check_t *check = args;
    node_reconciliation_t *result = check->result;
    if (self->head != check->theirs->as_of) {
        check->stale = true;
        return 1;
    }
    int rc = cp_store_months_figures (&s_kind, self->txn, self->months, NULL, 0, check->ours);
    if (rc)
        return rc;
    int32_t differ [2 * CP_FIGURES_MONTHS];
    size_t count = cp_figures_compare (check->ours, check->theirs, differ);
    node_reconciliation_t last;
    uint8_t last_fingerprint [CP_FIGURES_DIGEST_SIZE], fingerprint [CP_FIGURES_DIGEST_SIZE];
    s_reconciliation_read (self, self->txn, &last, last_fingerprint);
    cp_figures_fingerprint (check->ours, fingerprint);
    memset (result, 0, sizeof *result);
    result->reports = last.reports;
    result->verdict = count? CP_FIGURES_DIVERGED: CP_FIGURES_IN_SYNC;
    result->as_of = check->theirs->as_of;
    result->checked = zclock_time ();
    cp_figures_periods (differ, count, result->periods, sizeof result->periods);
    result->differ_count = count < CP_FIGURES_ASK_MAX? (uint32_t) count: CP_FIGURES_ASK_MAX;
    memcpy (result->differ, differ, result->differ_count * sizeof differ [0]);
    if (count == 0) {
        //  The central's rows kept from an earlier divergence say nothing now
        MDB_val k = {strlen (S_CENTRAL_ROWS), S_CENTRAL_ROWS};
        rc = mdb_del (self->txn, self->meta, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail ("node_store", "drop central rows", rc);
    }
    //  Reported again only when there is something new to say
    if (last.verdict != result->verdict || strcmp (last.periods, result->periods) != 0
    ||  memcmp (last_fingerprint, fingerprint, sizeof fingerprint) != 0) {
        cp_event_t event;
        memset (&event, 0, sizeof event);
        event.type = CP_EVENT_FIGURES_CHECKED;
        snprintf (event.id, sizeof event.id, "n-fc-%" PRIu64, result->as_of);
        event.date = cp_date_today ();
        event.entry = result->as_of;
        event.verdict = (uint8_t) result->verdict;
        snprintf (event.note, sizeof event.note, "%s", result->periods);
        char why [256] = "";
        rc = node_store_append_own (self, &event, why, sizeof why);
        if (rc == NODE_STORE_APPENDED) {
            result->reported = true;
            result->reports++;
        }
        else
        if (rc != NODE_STORE_DUPLICATE) {
            if (rc != CP_ESTORE && rc != CP_EMAPFULL)
                zsys_error ("node_store: figures_checked refused: %s", why);
            return rc;
        }
    }
    uint8_t value [S_RECONCILIATION_SIZE + CP_NOTE_MAX];
    cp_put_u64 (value, result->as_of);
    value [8] = (uint8_t) result->verdict;
    cp_put_u64 (value + 9, (uint64_t) result->checked);
    memcpy (value + 17, fingerprint, sizeof fingerprint);
    cp_put_u64 (value + 17 + sizeof fingerprint, result->reports);
    size_t periods = strlen (result->periods);
    memcpy (value + S_RECONCILIATION_SIZE, result->periods, periods);
    return s_put (self, self->meta, S_RECONCILIATION, strlen (S_RECONCILIATION), value,
                  S_RECONCILIATION_SIZE + periods, 0, "put reconciliation");
}

int
node_store_check_figures (node_store_t *self, const cp_month_digests_t *theirs,
                          node_reconciliation_t *result)
{
    memset (result, 0, sizeof *result);
    s_figures_check_t check = {theirs, calloc (1, sizeof (cp_month_digests_t)), result, false};
    assert (check.ours);
    int rc = s_edit_meta (self, s_figures_check, &check);
    free (check.ours);
    return rc? rc: check.stale? NODE_STORE_STALE: 0;
}

int
node_store_reconciliation (node_store_t *self, node_reconciliation_t *reconciliation)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    s_reconciliation_read (self, txn, reconciliation, NULL);
    mdb_txn_abort (txn);
    return 0;
}

static int
s_central_rows_put (node_store_t *self, void *args)
{
    const zchunk_t *record = args;
    return s_put (self, self->meta, S_CENTRAL_ROWS, strlen (S_CENTRAL_ROWS),
                  zchunk_data ((zchunk_t *) record), zchunk_size ((zchunk_t *) record), 0,
                  "put central rows");
}

int
node_store_keep_central_rows (node_store_t *self, const uint8_t *body, size_t size)
{
    cp_month_rows_t *rows = malloc (sizeof (cp_month_rows_t));
    assert (rows);
    int rc = cp_wire_figrows_decode (body, size, rows);
    free (rows);
    if (rc)
        return rc;
    zchunk_t *record = zchunk_new (NULL, 8 + size);
    assert (record);
    uint8_t when [8];
    cp_put_u64 (when, (uint64_t) zclock_time ());
    zchunk_append (record, when, sizeof when);
    zchunk_append (record, body, size);
    rc = s_edit_meta (self, s_central_rows_put, record);
    zchunk_destroy (&record);
    return rc;
}

int
node_store_central_rows (node_store_t *self, cp_month_rows_t *theirs, cp_month_rows_t *ours,
                         int64_t *received)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_val k = {strlen (S_CENTRAL_ROWS), S_CENTRAL_ROWS}, v;
    rc = mdb_get (txn, self->meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        rc = CP_ENOTFOUND;
    else
    if (rc)
        rc = cp_lmdb_fail ("node_store", "read central rows", rc);
    else
    if (v.mv_size < 8 || cp_wire_figrows_decode ((const uint8_t *) v.mv_data + 8,
                                                 v.mv_size - 8, theirs)) {
        zsys_error ("node_store: the central's rows kept are damaged");
        rc = CP_ESTORE;
    }
    if (rc == 0) {
        *received = (int64_t) cp_get_u64 (v.mv_data);
        ours->as_of = cp_lmdb_get_u64 (txn, self->meta, "head");
        ours->count = theirs->count;
        for (uint32_t index = 0; index < theirs->count; index++)
            ours->months [index].month = theirs->months [index].month;
        rc = cp_store_months_rows (&s_kind, txn, self->months, NULL, 0, ours);
    }
    mdb_txn_abort (txn);
    return rc;
}
