/*  central_store: the central's LMDB environment, applying batches, views.

    Applying a batch is the hot path.  Per event it costs one look-up in the
    case cache (LMDB only on a miss) and the tally deltas in memory; per
    batch, one archive put (written in place with MDB_RESERVE), a quarantine
    put per refused event, and one read-modify-write per month touched in
    the municipality's and the county's rows.  The national rows, which every
    batch touches, are summed in memory over the whole group and written
    once at commit; so are the cases (appended to the case log, which a
    commit folds into cases once it is long: cp_case_log) and the
    cursors.  Peak memory is the
    group's case records and one national row per month the group touched.

    When events arrive is kept the same way: per municipality, a table of
    the quarters 2000-Q1 to 2099-Q4 (made on first use), where each event
    applied adds one to its date's quarter (a comparison with the bounds
    of the quarter before, a division and a table on a change), and the
    batch's time of arrival becomes the quarter's first or last.  At commit, each
    quarter touched is merged into its record in arrivals: one read and one
    put per municipality and quarter per group, never per event.

    The cursors of the open transaction are kept in slots, one per
    municipality, read on first use; a group can hold several batches of one
    municipality (a node keeps a window of them in flight), and each sees the
    cursor the previous one left.                                             */

#include "central_store.h"
#include "cp_case.h"
#include "cp_case_cache.h"
#include "cp_case_log.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_municipality.h"
#include "cp_seal.h"
#include "cp_store.h"
#include "cp_wire.h"
#include "central_keys.h"

#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <sys/stat.h>

#define S_MAX_DBS 24
#define S_HASH_SIZE CP_INDEX_HASH_SIZE
#define S_CASE_KEY (2 + S_HASH_SIZE)    //  u16 municipality, hash of case
#define S_CURSOR_SIZE_7 (11 * 8 + 16)   //  eleven u64, a log identity: until the
                                        //  downlink cursor was kept
#define S_CURSOR_SIZE (S_CURSOR_SIZE_7 + 8)     //  ... and the downlink cursor
#define S_LOG_SIZE CENTRAL_STORE_LOG_SIZE
#define S_CHAIN_SIZE CENTRAL_STORE_CHAIN_SIZE
#define S_LOG_KEY (2 + S_LOG_SIZE + 8)  //  u16 m, log, u64 sequence: logs, quarantine
#define S_STEM_KEY (2 + 8)              //  u16 m, u64 hash of a stem: ids
#define S_ID_ENTRY 16                   //  u64 hash of an id, u64 digest
#define S_QUARANTINE_VALUE 12           //  i32 code, u64 ms
#define S_CODE_LOW CP_EMALFORMED        //  lowest cp_error_t
#define S_CODES 128                     //  room above it for every code
#define S_LIST_MAX 65536                //  bytes of the joined municipality codes
//  Cases kept in memory between groups.  With the next group's (tens of
//  thousands), 64 Ki kept are about 100,000 cases of a hundred bytes in
//  the cache's array and a table of 262,144 slots of 8 bytes; 96 Ki kept
//  had taken the cache, when its table held the cases, to 59 MB for no
//  speed a catch-up could show.
#define S_CASES_KEPT (64 * 1024)
//  Case records the log holds before it is folded into cases (cp_case_log):
//  half the cases stored, at least S_CASE_LOG_RECORDS and at most
//  S_CASE_LOG_MOST.  A fold writes every page of cases its records fall
//  on, and once cases holds a few times more cases than the log, that is
//  nearly all of its pages: a log that grows with cases keeps what a fold
//  costs a record from growing with them (docs/design.md, section 17).
//  The index then holds at most 786,432 cases, 1,179,648 slots of 24
//  bytes, 28 MB (a fold sorts it where it is).  A node catching up
//  alone writes about 27,000 a group; a fold copies 8,192 cases a
//  transaction, so that LMDB's copies of the pages a step dirties stay at
//  32 MB at most.  Tests may fix the records with CPSYNC_CASE_LOG.
#define S_CASE_LOG_RECORDS 196608
#define S_CASE_LOG_MOST 786432
#define S_CASE_LOG_SHARE 2
#define S_FOLD_CASES 8192
#define S_QUARTERS ((CP_DATE_MAX_YEAR - CP_DATE_MIN_YEAR + 1) * 4)    //  2000-Q1 .. 2099-Q4
#define S_ARRIVAL_KEY 6                 //  u16 m, u32 quarter: arrivals
#define S_ARRIVAL_VALUE 36              //  u64 first, last, events, ahead; i32 latest
#define S_DEADLINE_KEY "deadline_days/" //  meta: + "YYYY" → u64 days
#define S_DIRECTIVE_KEY 10              //  u64 seq, u16 m: directive_reports
#define S_DIRECTIVE_VALUE 8             //  i32 received, i32 done; the note after
#define S_STAFFING_KEY 6                //  u16 m, u32 day: staffing
#define S_STAFFING_VALUE 16             //  u32 workers, u32 children, i64 ms
#define S_RECONCILIATION_VALUE 21       //  u64 entry, u8 verdict, i32 day, i64 ms;
                                        //  the periods after

//  Format 8 lacked only the case log (section 17 of docs/design.md): a
//  central opening such a store to write adds it, empty, and the cases
//  stay where they are.
static int
s_upgrade_8 (MDB_txn *txn)
{
    MDB_dbi case_log;
    return mdb_dbi_open (txn, "case_log", MDB_CREATE, &case_log);
}

//  What the central's store is to cp_store.
static const cp_store_kind_t s_kind = {
    .module = "central_store",
    .name = "central",
    .format = CENTRAL_STORE_FORMAT,
    .advice = NULL,
    .seal_key = "keys/storage.key",    //  not "data key": nodes seal batches to that
    .seal_key_name = "storage key",
    .not_store = CP_ENOTCENTRAL,
    .max_dbs = S_MAX_DBS,
    .upgrades = "cpsync-central 8",
    .upgrade = s_upgrade_8
};

//  A municipality's cursor within the open write transaction.
typedef struct {
    bool loaded;                //  read in this transaction
    bool dirty;                 //  changed: write at commit
    central_cursor_t value;
} s_slot_t;

//  What a SipHash-64 of ids hashes: each kind has a key of its own.
typedef enum { S_HASH_STEM, S_HASH_ID, S_HASH_EVENT, S_HASHES } s_hash_kind_t;

//  The events of one municipality dated in one quarter that the open
//  transaction applied (central_arrival_t, before it is merged).
typedef struct {
    uint64_t events;            //  0: untouched in this group
    uint64_t ahead;             //  of them, dated after the central's today
    int64_t first, last;        //  ms: the earliest and latest arrival
    int32_t latest;             //  the latest date among them
} s_quarter_t;

//  A municipality's quarters in the open transaction (S_QUARTERS).
typedef struct {
    bool touched;               //  some quarter has events: write at commit
    s_quarter_t quarters [S_QUARTERS];
} s_arrivals_t;

//  A liveness note waiting for the next commit or flush.
typedef struct {
    bool pending;
    uint64_t head;
    int64_t when;               //  ms since the epoch
    bool hello;                 //  a HELLO named log
    bool changed;               //  ... and it was another log, or a restored copy
    uint8_t log [S_LOG_SIZE];
    bool downlink_noted;        //  a HELLO or DOWNACK named the node's downlink cursor
    uint64_t downlink;          //  ... this one
} s_note_t;

struct _central_store_t {
    MDB_env *env;
    MDB_dbi meta, catalogues, cursors, logs, ids, cases, case_log_db, months, archive, envelopes,
            counters, quarantine, keys, downlink, downlink_to, arrivals, directive_reports,
            staffing, reconciliation;
    bool readonly;              //  opened with CENTRAL_STORE_READONLY
    bool dedup_off;             //  CPSYNC_FAULT=dedup-off: a planted fault (below)
    char listen [256];          //  endpoint recorded at set-up
    cp_catalogue_t *catalogue;  //  newest catalogue the central holds
    uint8_t *index_key;         //  cp_index_key: guarded, read-only; NULL when readonly
    uint8_t *id_keys;           //  the SipHash keys of ids (s_hash_kind_t), derived
                                //  from the index key: guarded, read-only
    cp_seal_t *seal;            //  seals cases values (DIR/keys/storage.key); NULL when readonly
    int municipalities;         //  cp_municipality_count ()
    //  State of the open write transaction
    MDB_txn *txn;
    s_slot_t *slots;            //  per municipality
    cp_case_cache_t *cache;     //  the cases the transaction touches
    cp_case_log_t *case_log;    //  the cases written since the last fold
    size_t fold_after;          //  records the log must hold before a fold is tried
    size_t fold_fixed;          //  or fold at these records whatever cases holds
    cp_tally_t **tallies;       //  per municipality: its deltas in this group (lazy)
    cp_tally_t **county_tallies;    //  per county, filled at commit (lazy)
    cp_tally_t *national;       //  the group's national deltas, filled at commit
    cp_tally_t *into;           //  where the batch being applied adds its deltas
    s_arrivals_t **arrived;     //  per municipality: its arrivals in this group (lazy)
    int32_t quarter_starts [S_QUARTERS + 1];    //  s_quarter_starts
    MDB_cursor *ids_cursor;     //  into ids, for the transaction
    uint8_t *stem_record;       //  where a stem's record of ids is merged
    size_t stem_record_size;
    bool grow;                  //  the map was full: grow it on abort
    //  Waiting for the next commit or flush
    s_note_t *notes;            //  per municipality
    uint64_t counts [S_CODES];  //  by code - S_CODE_LOW
    bool noted;                 //  some note or count is pending
};

static void
    s_quarter_starts (int32_t *starts);
static int
    s_case_log_open (central_store_t *self);
static void
    s_fold_at (central_store_t *self, MDB_txn *txn);

//  =====================================================================
//  Keys and small helpers

//  The prefix of a scope's keys in the month rows: u32 kind << 16 | index.
#define S_SCOPE_SIZE 4

static void
s_scope_prefix (uint8_t *prefix, cp_scope_kind_t kind, int index)
{
    cp_put_u32 (prefix, (uint32_t) kind << 16 | (uint32_t) index);
}

static void
s_put_u16 (uint8_t *at, int value)
{
    at [0] = (uint8_t) (value >> 8);
    at [1] = (uint8_t) value;
}

//  Key of (municipality, u64): the archive.
static void
s_seq_key (uint8_t *key, int municipality, uint64_t seq)
{
    s_put_u16 (key, municipality);
    cp_put_u64 (key + 2, seq);
}

//  Key of (municipality, log, u64 sequence): logs and quarantine.
static void
s_log_key (uint8_t *key, int municipality, const uint8_t *log, uint64_t seq)
{
    s_put_u16 (key, municipality);
    memcpy (key + 2, log, S_LOG_SIZE);
    cp_put_u64 (key + 2 + S_LOG_SIZE, seq);
}

static void
s_cursor_encode (const central_cursor_t *cursor, uint8_t *buf)
{
    cp_put_u64 (buf, cursor->acked);
    cp_put_u64 (buf + 8, cursor->head);
    cp_put_u64 (buf + 16, (uint64_t) cursor->last_seen);
    cp_put_u64 (buf + 24, cursor->batches);
    cp_put_u64 (buf + 32, cursor->events);
    cp_put_u64 (buf + 40, cursor->duplicates);
    cp_put_u64 (buf + 48, cursor->quarantined);
    cp_put_u64 (buf + 56, cursor->duplicate_events);
    cp_put_u64 (buf + 64, cursor->conflicts);
    cp_put_u64 (buf + 72, cursor->archived);
    cp_put_u64 (buf + 80, (uint64_t) cursor->log_changed);
    memcpy (buf + 88, cursor->log, S_LOG_SIZE);
    cp_put_u64 (buf + S_CURSOR_SIZE_7, cursor->downlink);
}

static int
s_cursor_decode (const MDB_val *value, central_cursor_t *cursor)
{
    //  A record written before the downlink cursor was kept has none: 0
    //  until its node next says HELLO.
    if (value->mv_size != S_CURSOR_SIZE && value->mv_size != S_CURSOR_SIZE_7) {
        zsys_error ("central_store: a stored cursor is corrupt");
        return CP_ESTORE;
    }
    const uint8_t *buf = value->mv_data;
    cursor->acked = cp_get_u64 (buf);
    cursor->head = cp_get_u64 (buf + 8);
    cursor->last_seen = (int64_t) cp_get_u64 (buf + 16);
    cursor->batches = cp_get_u64 (buf + 24);
    cursor->events = cp_get_u64 (buf + 32);
    cursor->duplicates = cp_get_u64 (buf + 40);
    cursor->quarantined = cp_get_u64 (buf + 48);
    cursor->duplicate_events = cp_get_u64 (buf + 56);
    cursor->conflicts = cp_get_u64 (buf + 64);
    cursor->archived = cp_get_u64 (buf + 72);
    cursor->log_changed = (int64_t) cp_get_u64 (buf + 80);
    memcpy (cursor->log, buf + 88, S_LOG_SIZE);
    cursor->downlink = value->mv_size == S_CURSOR_SIZE? cp_get_u64 (buf + S_CURSOR_SIZE_7): 0;
    return 0;
}

//  Reads a cursor in txn; a municipality never heard from has zeros.
static int
s_cursor_read (central_store_t *self, MDB_txn *txn, int municipality,
               central_cursor_t *cursor)
{
    memset (cursor, 0, sizeof *cursor);
    uint8_t key [2];
    s_put_u16 (key, municipality);
    MDB_val k = {2, key}, v;
    int rc = mdb_get (txn, self->cursors, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return cp_lmdb_fail ("central_store", "read cursor", rc);
    return s_cursor_decode (&v, cursor);
}

//  The key of a case pseudonym: SipHash-2-4, 128-bit output, under the
//  central's secret index key (its first 16 bytes): a keyed PRF, so no key
//  in the store reveals a pseudonym, cheap enough to run per event.
static void
s_hash (central_store_t *self, const char *text, uint8_t *out)
{
    cp_index_key_hash (self->index_key, text, out);
}

//  mdb_put in the write transaction; remembers a full map so abort grows it.
static int
s_put (central_store_t *self, MDB_dbi dbi, const void *key, size_t key_size,
       MDB_val *value, unsigned flags, const char *what)
{
    return cp_store_put (&s_kind, self->txn, dbi, key, key_size, value, flags, what,
                         &self->grow);
}

//  The central's databases, opened in txn (flags: MDB_CREATE at set-up).
static int
s_open_dbis (central_store_t *self, MDB_txn *txn, unsigned flags)
{
    int rc;
    if ((rc = mdb_dbi_open (txn, "meta", flags, &self->meta))
    ||  (rc = mdb_dbi_open (txn, "catalogues", flags | MDB_INTEGERKEY, &self->catalogues))
    ||  (rc = mdb_dbi_open (txn, "cursors", flags, &self->cursors))
    ||  (rc = mdb_dbi_open (txn, "logs", flags, &self->logs))
    ||  (rc = mdb_dbi_open (txn, "ids", flags, &self->ids))
    ||  (rc = mdb_dbi_open (txn, "cases", flags, &self->cases))
    ||  (rc = mdb_dbi_open (txn, "case_log", flags, &self->case_log_db))
    ||  (rc = mdb_dbi_open (txn, CP_STORE_MONTHS, flags, &self->months))
    ||  (rc = mdb_dbi_open (txn, "archive", flags, &self->archive))
    ||  (rc = mdb_dbi_open (txn, "envelopes", flags, &self->envelopes))
    ||  (rc = mdb_dbi_open (txn, "counters", flags, &self->counters))
    ||  (rc = mdb_dbi_open (txn, "quarantine", flags, &self->quarantine))
    ||  (rc = mdb_dbi_open (txn, "keys", flags, &self->keys))
    ||  (rc = mdb_dbi_open (txn, "downlink", flags, &self->downlink))
    ||  (rc = mdb_dbi_open (txn, "downlink_to", flags, &self->downlink_to))
    ||  (rc = mdb_dbi_open (txn, "arrivals", flags, &self->arrivals))
    ||  (rc = mdb_dbi_open (txn, "directive_reports", flags, &self->directive_reports))
    ||  (rc = mdb_dbi_open (txn, "staffing", flags, &self->staffing))
    ||  (rc = mdb_dbi_open (txn, "reconciliation", flags, &self->reconciliation)))
        return rc;
    return 0;
}

//  The municipality codes of this binary, comma-joined, into buf.
static void
s_municipality_list (char *buf, size_t size)
{
    size_t at = 0;
    buf [0] = 0;
    for (int index = 0; index < cp_municipality_count () && at < size; index++)
        at += (size_t) snprintf (buf + at, size - at, "%s%s", index? ",": "",
                                 cp_municipality_code (index));
}

//  =====================================================================
//  Creating

//  The central's part of its set-up (cp_store_create_fn): its databases,
//  the listen endpoint (args) and the municipality list its keys index.
static int
s_create (MDB_txn *txn, const void *args)
{
    const char *listen = args;
    central_store_t scratch = {0};
    char *list = malloc (S_LIST_MAX);
    assert (list);
    s_municipality_list (list, S_LIST_MAX);
    int rc = s_open_dbis (&scratch, txn, MDB_CREATE);
    if (!rc) rc = cp_lmdb_put_text (txn, scratch.meta, "listen", listen);
    if (!rc) rc = cp_lmdb_put_text (txn, scratch.meta, "municipalities", list);
    free (list);
    return rc;
}

int
central_store_create (const char *dir, const char *listen, int catalogue)
{
    if (catalogue < 1 || catalogue > cp_catalogue_builtin_count)
        return CP_ECATALOGUE;
    if (!listen || !*listen || strlen (listen) >= 256)
        return CP_EUSAGE;
    return cp_store_create (&s_kind, dir, catalogue, s_create, listen);
}

//  =====================================================================
//  Opening

//  The stored municipality list must be this binary's, or a prefix of it
//  (rows appended to the CSV since set-up): stored keys use the indexes.
static bool
s_list_matches (MDB_txn *txn, MDB_dbi meta)
{
    char *stored = malloc (S_LIST_MAX), *ours = malloc (S_LIST_MAX);
    assert (stored && ours);
    bool matches = false;
    if (cp_lmdb_get_text (txn, meta, "municipalities", stored, S_LIST_MAX) == 0) {
        s_municipality_list (ours, S_LIST_MAX);
        size_t len = strlen (stored);
        matches = strncmp (stored, ours, len) == 0 && (ours [len] == 0 || ours [len] == ',');
    }
    free (stored);
    free (ours);
    return matches;
}

//  The keys of the SipHash-64 that ids uses (one per s_hash_kind_t),
//  derived from the index key with libsodium's KDF, in guarded memory;
//  NULL (logged) when there is none to be had.
static uint8_t *
s_id_keys (const uint8_t *index_key)
{
    uint8_t *keys = cp_keyfile_alloc (S_HASHES * crypto_shorthash_KEYBYTES);
    if (!keys) {
        zsys_error ("central_store: no guarded memory for the id keys");
        return NULL;
    }
    for (int kind = 0; kind < S_HASHES; kind++)
        crypto_kdf_derive_from_key (keys + kind * crypto_shorthash_KEYBYTES,
                                    crypto_shorthash_KEYBYTES, (uint64_t) kind, "cpsyncid",
                                    index_key);
    return keys;
}

//  The central's part of opening (cp_store_open_fn): its databases, its
//  listen endpoint, and a municipality list that is this binary's.
static int
s_open (void *store, MDB_txn *txn, const char *dir)
{
    central_store_t *self = store;
    if (s_open_dbis (self, txn, 0)
    ||  cp_lmdb_get_text (txn, self->meta, "listen", self->listen, sizeof self->listen))
        return CP_ENOTCENTRAL;
    if (!s_list_matches (txn, self->meta)) {
        zsys_error ("central_store: %s was set up under another municipality list "
                    "than this binary's", dir);
        return CP_ENOTCENTRAL;
    }
    return 0;
}

central_store_t *
central_store_open (const char *dir, int flags, int *error)
{
    central_store_t *self = calloc (1, sizeof (central_store_t));
    assert (self);
    self->readonly = (flags & CENTRAL_STORE_READONLY) != 0;
    self->municipalities = cp_municipality_count ();
    //  The chaos test's control run plants this fault to show that its
    //  check catches an event counted twice: a node that says HELLO is
    //  asked for its last batch again, and batches sent again and events
    //  taken before are applied as if new.  Never set it on real data.
    const char *fault = getenv ("CPSYNC_FAULT");
    self->dedup_off = fault && strcmp (fault, "dedup-off") == 0;
    if (self->dedup_off)
        zsys_warning ("central_store: CPSYNC_FAULT=dedup-off: events sent again are counted "
                      "again (a fault planted for a test)");
    int rc = cp_store_open (&s_kind, dir, self->readonly? CP_LMDB_READONLY: CP_LMDB_WRITE,
                            s_open, self, &self->env, &self->catalogue);
    //  Readers never read the cases, so only a writer loads the keys.
    if (rc == 0 && !self->readonly) {
        rc = cp_store_keys_load (&s_kind, dir, &self->index_key, &self->seal);
        if (rc == 0 && !(self->id_keys = s_id_keys (self->index_key)))
            rc = CP_EIO;
        if (rc == 0) {
            self->cache = cp_case_cache_new (S_CASE_KEY, self->seal, "central_store");
            rc = s_case_log_open (self);
            self->tallies = calloc ((size_t) self->municipalities, sizeof (cp_tally_t *));
            self->county_tallies = calloc ((size_t) cp_county_count (), sizeof (cp_tally_t *));
            self->national = cp_tally_new ();
            self->slots = calloc ((size_t) self->municipalities, sizeof (s_slot_t));
            self->notes = calloc ((size_t) self->municipalities, sizeof (s_note_t));
            self->arrived = calloc ((size_t) self->municipalities, sizeof (s_arrivals_t *));
            s_quarter_starts (self->quarter_starts);
            assert (self->cache && self->tallies && self->county_tallies && self->national
                    && self->slots && self->notes && self->arrived);
        }
    }
    if (rc) {
        *error = rc;
        central_store_destroy (&self);
    }
    return self;
}

//  The case log and its index, read from the store (the cache reads and
//  writes cases through it).
static int
s_case_log_open (central_store_t *self)
{
    const char *wanted = getenv ("CPSYNC_CASE_LOG");
    self->fold_fixed = wanted && atol (wanted) > 0? (size_t) atol (wanted): 0;
    self->case_log = cp_case_log_new (S_CASE_KEY, S_CASE_LOG_RECORDS, "central_store");
    cp_case_cache_use_log (self->cache, self->case_log, self->case_log_db);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = cp_case_log_load (self->case_log, txn, self->case_log_db);
    s_fold_at (self, txn);
    mdb_txn_abort (txn);
    return rc;
}

//  Sets the records the case log holds before a fold from the cases
//  stored in txn (S_CASE_LOG_RECORDS).
static void
s_fold_at (central_store_t *self, MDB_txn *txn)
{
    size_t records = self->fold_fixed;
    MDB_stat stat;
    if (!records && mdb_stat (txn, self->cases, &stat) == 0) {
        records = stat.ms_entries / S_CASE_LOG_SHARE;
        records = records < S_CASE_LOG_RECORDS? S_CASE_LOG_RECORDS
                : records > S_CASE_LOG_MOST? S_CASE_LOG_MOST: records;
    }
    cp_case_log_fold_at (self->case_log, records? records: S_CASE_LOG_RECORDS);
}

void
central_store_destroy (central_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    central_store_t *self = *self_p;
    if (self->txn)
        mdb_txn_abort (self->txn);
    cp_case_cache_destroy (&self->cache);
    cp_case_log_destroy (&self->case_log);
    for (int index = 0; self->tallies && index < self->municipalities; index++)
        cp_tally_destroy (&self->tallies [index]);
    for (int index = 0; self->county_tallies && index < cp_county_count (); index++)
        cp_tally_destroy (&self->county_tallies [index]);
    for (int index = 0; self->arrived && index < self->municipalities; index++)
        free (self->arrived [index]);
    free (self->arrived);
    free (self->tallies);
    free (self->county_tallies);
    cp_tally_destroy (&self->national);
    free (self->slots);
    free (self->stem_record);
    free (self->notes);
    cp_keyfile_free (&self->id_keys);
    cp_store_close (&self->env, &self->catalogue, &self->index_key, &self->seal);
    free (self);
    *self_p = NULL;
}

const char *
central_store_listen (central_store_t *self)
{
    return self->listen;
}

const cp_catalogue_t *
central_store_catalogue (central_store_t *self)
{
    return self->catalogue;
}

//  =====================================================================
//  Reading

int
central_store_cursor (central_store_t *self, int municipality, central_cursor_t *cursor)
{
    assert (municipality >= 0 && municipality < self->municipalities);
    if (self->txn && self->slots [municipality].loaded) {
        *cursor = self->slots [municipality].value;
        return 0;
    }
    if (self->txn)
        return s_cursor_read (self, self->txn, municipality, cursor);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = s_cursor_read (self, txn, municipality, cursor);
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_cursors (central_store_t *self, central_cursor_t *cursors)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    for (int index = 0; rc == 0 && index < self->municipalities; index++)
        rc = s_cursor_read (self, txn, index, &cursors [index]);
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_counters (central_store_t *self, central_counter_t *counters, size_t max,
                        size_t *count)
{
    *count = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    rc = mdb_cursor_open (txn, self->counters, &cursor);
    if (rc) {
        mdb_txn_abort (txn);
        return cp_lmdb_fail ("central_store", "counters", rc);
    }
    MDB_val k, v;
    int op = MDB_FIRST;
    while (*count < max && (rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != 4 || v.mv_size != 8) {
            zsys_error ("central_store: a stored counter is corrupt");
            rc = CP_ESTORE;
            break;
        }
        counters [*count].code = (int32_t) cp_get_u32 (k.mv_data);
        counters [*count].count = cp_get_u64 (v.mv_data);
        (*count)++;
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    if (rc == MDB_NOTFOUND || rc == 0)
        return 0;
    return rc == CP_ESTORE? rc: cp_lmdb_fail ("central_store", "counters", rc);
}

int
central_store_quarantined (central_store_t *self, int municipality, const uint8_t *log,
                           uint64_t seq, int *code)
{
    *code = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    uint8_t key [S_LOG_KEY];
    s_log_key (key, municipality, log, seq);
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_get (txn, self->quarantine, &k, &v);
    if (rc == 0 && v.mv_size == S_QUARANTINE_VALUE)
        *code = (int32_t) cp_get_u32 (v.mv_data);
    mdb_txn_abort (txn);
    return rc == 0 || rc == MDB_NOTFOUND? 0: cp_lmdb_fail ("central_store", "quarantine", rc);
}

int
central_store_refused_list (central_store_t *self, int municipality,
                            central_refused_t *refused, size_t max, size_t *count)
{
    *count = 0;
    MDB_txn *txn;
    MDB_cursor *cursor;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open (txn, self->quarantine, &cursor))) {
        mdb_txn_abort (txn);
        return cp_lmdb_fail ("central_store", "quarantine", rc);
    }
    uint8_t start [2];
    s_put_u16 (start, municipality < 0? 0: municipality);
    MDB_val k = {sizeof start, start}, v;
    int op = MDB_SET_RANGE;
    while (*count < max && (rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (k.mv_size != S_LOG_KEY || v.mv_size != S_QUARANTINE_VALUE) {
            zsys_error ("central_store: a quarantine record is corrupt");
            rc = CP_ESTORE;
            break;
        }
        const uint8_t *key = k.mv_data;
        int owner = key [0] << 8 | key [1];
        if (municipality >= 0 && owner != municipality)
            break;
        central_refused_t *entry = &refused [(*count)++];
        entry->municipality = owner;
        memcpy (entry->log, key + 2, S_LOG_SIZE);
        entry->seq = cp_get_u64 (key + 2 + S_LOG_SIZE);
        entry->code = (int32_t) cp_get_u32 (v.mv_data);
        entry->when = (int64_t) cp_get_u64 ((const uint8_t *) v.mv_data + 4);
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return 0;
    return rc == CP_ESTORE? rc: cp_lmdb_fail ("central_store", "quarantine", rc);
}

//  A log's cursor in txn: its greatest record in logs (with back, the one
//  before it: the planted fault's, below).
static int
s_log_cursor_at (central_store_t *self, MDB_txn *txn, int municipality, const uint8_t *log,
                 bool back, uint64_t *acked, uint8_t *chain)
{
    *acked = 0;
    memset (chain, 0, S_CHAIN_SIZE);
    uint8_t key [S_LOG_KEY];
    s_log_key (key, municipality, log, UINT64_MAX);
    MDB_cursor *cursor;
    int rc = mdb_cursor_open (txn, self->logs, &cursor);
    if (rc)
        return cp_lmdb_fail ("central_store", "read log", rc);
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = mdb_cursor_get (cursor, &k, &v, rc == 0? MDB_PREV: MDB_LAST);
    if (back && rc == 0 && k.mv_size == S_LOG_KEY && memcmp (k.mv_data, key, 2 + S_LOG_SIZE) == 0
    &&  mdb_cursor_get (cursor, &k, &v, MDB_PREV) == MDB_NOTFOUND)
        rc = MDB_NOTFOUND;      //  no batch before it: the log from its start
    if (rc == 0 && k.mv_size == S_LOG_KEY && memcmp (k.mv_data, key, 2 + S_LOG_SIZE) == 0) {
        if (v.mv_size != S_CHAIN_SIZE)
            rc = CP_ESTORE;
        else {
            *acked = cp_get_u64 ((const uint8_t *) k.mv_data + 2 + S_LOG_SIZE);
            memcpy (chain, v.mv_data, S_CHAIN_SIZE);
        }
    }
    else
    if (rc == 0 || rc == MDB_NOTFOUND)
        rc = 0;                 //  a log never seen
    mdb_cursor_close (cursor);
    if (rc == CP_ESTORE)
        zsys_error ("central_store: a log record is corrupt");
    else
    if (rc)
        rc = cp_lmdb_fail ("central_store", "read log", rc);
    return rc;
}

static int
s_log_cursor (central_store_t *self, MDB_txn *txn, int municipality, const uint8_t *log,
              uint64_t *acked, uint8_t *chain)
{
    return s_log_cursor_at (self, txn, municipality, log, false, acked, chain);
}

int
central_store_log_cursor (central_store_t *self, int municipality, const uint8_t *log,
                          uint64_t *acked, uint8_t *chain)
{
    //  The planted fault asks a node that says HELLO for its last batch
    //  again, as a central that lost track of what it holds would.
    bool back = self->dedup_off;
    if (self->txn)
        return s_log_cursor_at (self, self->txn, municipality, log, back, acked, chain);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = s_log_cursor_at (self, txn, municipality, log, back, acked, chain);
    mdb_txn_abort (txn);
    return rc;
}

//  =====================================================================
//  Applying

int
central_store_begin (central_store_t *self)
{
    assert (!self->readonly);
    assert (!self->txn);
    int rc = cp_store_begin (self->env, self->seal, &self->txn);
    if (rc)
        return rc;
    int mdb_rc = mdb_cursor_open (self->txn, self->ids, &self->ids_cursor);
    if (mdb_rc) {
        mdb_txn_abort (self->txn);
        self->txn = NULL;
        return cp_lmdb_fail ("central_store", "open ids", mdb_rc);
    }
    return 0;
}

//  The municipality's cursor slot in the open transaction.
static s_slot_t *
s_slot (central_store_t *self, int municipality, int *rc)
{
    s_slot_t *slot = &self->slots [municipality];
    if (!slot->loaded) {
        *rc = s_cursor_read (self, self->txn, municipality, &slot->value);
        if (*rc)
            return NULL;
        slot->loaded = true;
        slot->dirty = false;
    }
    return slot;
}

//  The history of a case of a municipality, from the transaction's cache.
static cp_case_t *
s_case (central_store_t *self, int municipality, const char *case_id, int *rc)
{
    uint8_t key [S_CASE_KEY];
    s_put_u16 (key, municipality);
    s_hash (self, case_id, key + 2);
    return cp_case_cache_get (self->cache, self->txn, self->cases, key, rc);
}

//  Adds every month of deltas into the stored rows of a scope.
static int
s_merge_rows (central_store_t *self, cp_scope_kind_t kind, int index,
              const cp_tally_t *deltas)
{
    uint8_t prefix [S_SCOPE_SIZE];
    s_scope_prefix (prefix, kind, index);
    return cp_store_months_merge (&s_kind, self->txn, self->months, prefix, sizeof prefix,
                                  deltas, &self->grow);
}

//  A tally from a lazily filled table.
static cp_tally_t *
s_tally (cp_tally_t **table, int index)
{
    if (!table [index]) {
        table [index] = cp_tally_new ();
        assert (table [index]);
    }
    return table [index];
}

//  Adds every month of from into into.
static void
s_add_tally (cp_tally_t *into, const cp_tally_t *from)
{
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas;
    while ((deltas = cp_tally_next (from, &month)))
        cp_tally_add_deltas (into, month, deltas);
}

//  Writes the group's deltas into the rows of every scope they touch: each
//  municipality's own, then its county's and the nation's, summed first so
//  that every stored row is read and written once per group.
static int
s_write_rows (central_store_t *self)
{
    int rc = 0;
    for (int index = 0; rc == 0 && index < self->municipalities; index++) {
        cp_tally_t *tally = self->tallies [index];
        if (!tally || cp_tally_empty (tally))
            continue;
        rc = s_merge_rows (self, CP_SCOPE_MUNICIPALITY, index, tally);
        s_add_tally (s_tally (self->county_tallies, cp_municipality_county (index)), tally);
        s_add_tally (self->national, tally);
    }
    for (int index = 0; rc == 0 && index < cp_county_count (); index++) {
        cp_tally_t *tally = self->county_tallies [index];
        if (tally && !cp_tally_empty (tally))
            rc = s_merge_rows (self, CP_SCOPE_COUNTY, index, tally);
    }
    if (rc == 0 && !cp_tally_empty (self->national))
        rc = s_merge_rows (self, CP_SCOPE_NATIONAL, 0, self->national);
    return rc;
}

//  The record of the envelope key of a pair of keys in envelopes: its key
//  (the node key id, a 0, the data key id) into name (S_ENVELOPE_NAME
//  bytes), and the associated data of its seal ('E' and that key) into ad
//  (1 + S_ENVELOPE_NAME bytes).  Returns the name's size.
#define S_ENVELOPE_NAME (2 * CP_WIRE_KEYID_MAX + 2)

static size_t
s_envelope_name (const char *node_key, const char *data_key, uint8_t *name, uint8_t *ad)
{
    size_t node_size = strnlen (node_key, CP_WIRE_KEYID_MAX);
    size_t data_size = strnlen (data_key, CP_WIRE_KEYID_MAX);
    memcpy (name, node_key, node_size);
    name [node_size] = 0;
    memcpy (name + node_size + 1, data_key, data_size);
    size_t size = node_size + 1 + data_size;
    ad [0] = 'E';
    memcpy (ad + 1, name, size);
    return size;
}

//  Records the envelope key of a batch's pair of keys (node key, data key),
//  sealed under the storage key, unless it is there: the archive can then
//  be opened after the data key's secret is gone.
static int
s_envelope_key (central_store_t *self, const cp_batch_header_t *header, const uint8_t *key)
{
    uint8_t name [S_ENVELOPE_NAME], ad [1 + S_ENVELOPE_NAME];
    MDB_val k = {s_envelope_name (header->node_key, header->data_key, name, ad), name}, v;
    int rc = mdb_get (self->txn, self->envelopes, &k, &v);
    if (rc == 0)
        return 0;
    if (rc != MDB_NOTFOUND)
        return cp_lmdb_fail ("central_store", "read envelope key", rc);
    MDB_val value = {CP_ENVELOPE_KEY_SIZE + CP_SEAL_OVERHEAD, NULL};
    rc = s_put (self, self->envelopes, name, k.mv_size, &value, MDB_RESERVE, "put envelope key");
    if (rc == 0)
        cp_seal_seal (self->seal, ad, 1 + k.mv_size, key, CP_ENVELOPE_KEY_SIZE, value.mv_data);
    return rc;
}

//  Stores the three frames, each after its u32 size, in one archive put,
//  at the municipality's next archive position.
static int
s_archive (central_store_t *self, int municipality, central_cursor_t *cursor,
           const cp_batch_frames_t *frames)
{
    uint8_t key [10];
    s_seq_key (key, municipality, cursor->archived + 1);
    size_t size = 12 + frames->header_size + frames->sealed_size + frames->signature_size;
    MDB_val value = {size, NULL};
    int rc = s_put (self, self->archive, key, sizeof key, &value, MDB_RESERVE, "put archive");
    if (rc)
        return rc;
    uint8_t *at = value.mv_data;
    const uint8_t *parts [3] = {frames->header, frames->sealed, frames->signature};
    size_t sizes [3] = {frames->header_size, frames->sealed_size, frames->signature_size};
    for (int part = 0; part < 3; part++) {
        cp_put_u32 (at, (uint32_t) sizes [part]);
        if (sizes [part])
            memcpy (at + 4, parts [part], sizes [part]);
        at += 4 + sizes [part];
    }
    cursor->archived++;
    return 0;
}

//  Sets an event of a log aside, uncounted, with why (a cp_error_t).
static int
s_quarantine (central_store_t *self, int municipality, const uint8_t *log, uint64_t seq,
              int code)
{
    uint8_t key [S_LOG_KEY], value [S_QUARANTINE_VALUE];
    s_log_key (key, municipality, log, seq);
    cp_put_u32 (value, (uint32_t) code);
    cp_put_u64 (value + 4, (uint64_t) zclock_time ());
    MDB_val v = {sizeof value, value};
    //  Logged without the event: its fields are case data.
    zsys_warning ("central_store: %s event %" PRIu64 " %s: %s",
                  cp_municipality_code (municipality), seq,
                  code == CP_ECONFLICT? "refused": "quarantined", cp_strerror (code));
    return s_put (self, self->quarantine, key, sizeof key, &v, 0, "put quarantine");
}

//  SipHash-2-4 (64 bits) under one of three keys derived from the index
//  key (the stem of an id, an id, an event's content), so the three never
//  collide by construction and need no tag copied before the data.
static uint64_t
s_siphash64 (const uint8_t *subkeys, s_hash_kind_t kind, const void *data, size_t size)
{
    uint8_t out [crypto_shorthash_BYTES];
    crypto_shorthash (out, data, size, subkeys + kind * crypto_shorthash_KEYBYTES);
    return cp_get_u64 (out);
}

//  The hashes of an event id that ids keeps: of its stem (the id without
//  its last two characters) and of the whole id.  identity holds those of
//  the id before (NULL: none), whose stem's hash serves again when the stem
//  is the same, as it is for ids numbered together ("e-1200", "e-1201").
static void
s_id_hashes (const uint8_t *subkeys, const char *id, const char *before,
             central_identity_t *identity)
{
    size_t size = strnlen (id, CP_ID_MAX);
    size_t stem = size > CP_INDEX_STEM_CUT? size - CP_INDEX_STEM_CUT: 0;
    bool same_stem = before && strnlen (before, CP_ID_MAX) == size
                  && memcmp (before, id, stem) == 0;
    if (same_stem)
        identity->stem = identity [-1].stem;
    else
        identity->stem = s_siphash64 (subkeys, S_HASH_STEM, id, stem);
    identity->id = s_siphash64 (subkeys, S_HASH_ID, id, size);
}

//  The digest of an event's content, what tells a duplicate from a
//  conflict: SipHash-64 of its fields in one fixed order (type, age, date
//  as u32, then id, case and each code of its type, each after its
//  length).  Stored in ids, so this form must never change.
static uint64_t
s_event_digest (const uint8_t *subkeys, const cp_event_t *event)
{
    uint8_t form [6 + (2 + CP_EVENT_CODES) * (1 + CP_ID_MAX)];
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (kind && kind->own) {
        //  The node's own kinds: the id names what is reported, and the
        //  node may make the report again (a restored node takes a
        //  directive again, on another day): the same id is the same report.
        form [0] = event->type;
        size_t size = strnlen (event->id, CP_ID_MAX);
        memcpy (form + 1, event->id, size);
        return s_siphash64 (subkeys, S_HASH_EVENT, form, 1 + size);
    }
    form [0] = event->type;
    form [1] = event->age;
    cp_put_u32 (form + 2, (uint32_t) event->date);
    size_t at = 6;
    const char *texts [2 + CP_EVENT_CODES] = {event->id, event->case_id};
    int count = 2 + (kind? kind->code_count: 0);
    for (int field = 2; field < count; field++)
        texts [field] = event->codes [field - 2];
    for (int field = 0; field < count; field++) {
        size_t size = strnlen (texts [field], CP_ID_MAX);
        form [at++] = (uint8_t) size;
        memcpy (form + at, texts [field], size);
        at += size;
    }
    uint64_t digest = s_siphash64 (subkeys, S_HASH_EVENT, form, at);
    sodium_memzero (form, at);
    return digest;
}

//  True when identity a comes before b: by stem, then id, then index.
static inline bool
s_identity_before (const central_identity_t *a, const central_identity_t *b)
{
    if (a->stem != b->stem)
        return a->stem < b->stem;
    if (a->id != b->id)
        return a->id < b->id;
    return a->index < b->index;
}

//  Sorts identities (a merge sort, bottom up, through scratch of count):
//  qsort's call per comparison cost more than the rest of the decoding.
static void
s_sort_identities (central_identity_t *items, size_t count, central_identity_t *scratch)
{
    central_identity_t *from = items, *to = scratch;
    for (size_t width = 1; width < count; width *= 2) {
        for (size_t low = 0; low < count; low += 2 * width) {
            size_t middle = low + width < count? low + width: count;
            size_t high = low + 2 * width < count? low + 2 * width: count;
            size_t left = low, right = middle, out = low;
            while (left < middle && right < high)
                to [out++] = s_identity_before (&from [right], &from [left])
                           ? from [right++]: from [left++];
            while (left < middle)
                to [out++] = from [left++];
            while (right < high)
                to [out++] = from [right++];
        }
        central_identity_t *sorted = to;
        to = from;
        from = sorted;
    }
    if (from != items)
        memcpy (items, from, count * sizeof *items);
}

void
central_store_prepare (central_store_t *self, central_batch_t *batch)
{
    size_t count = batch->count;
    assert (batch->events && count > 0 && !batch->resolved && !batch->by_key);
    batch->resolved = malloc (count * sizeof (int));
    batch->by_key = malloc (count * sizeof (central_identity_t));
    central_identity_t *scratch = malloc (count * sizeof (central_identity_t));
    assert (batch->resolved && batch->by_key && scratch);
    for (size_t index = 0; index < count; index++) {
        cp_event_t *event = &batch->events [index];
        batch->resolved [index] = cp_event_resolve (event, self->catalogue, NULL, 0);
        central_identity_t *identity = &batch->by_key [index];
        identity->index = (uint32_t) index;
        const char *before = index? event [-1].id: NULL;
        s_id_hashes (self->id_keys, event->id, before, identity);
        identity->digest = s_event_digest (self->id_keys, event);
    }
    s_sort_identities (batch->by_key, count, scratch);
    free (scratch);
}

void
central_store_batch_clear (central_batch_t *batch)
{
    if (batch->events)
        sodium_memzero (batch->events, batch->count * sizeof (cp_event_t));
    free (batch->events);
    free (batch->resolved);
    free (batch->by_key);
    batch->events = NULL;
    batch->count = 0;
    batch->resolved = NULL;
    batch->by_key = NULL;
}

//  What ids says of an event of a batch.
typedef enum { S_ID_NEW, S_ID_DUPLICATE, S_ID_CONFLICT } s_id_standing_t;

//  Merges one stem's identities of a batch (count, in order of id then
//  index) into the stem's record in ids, and says of each whether it is
//  new, a duplicate (its id taken with the same content, before or earlier
//  in the batch) or a conflict (with other content).  One look-up, and one
//  put when some id is new.
static int
s_take_stem (central_store_t *self, int municipality, const central_identity_t *taking,
             size_t count, uint8_t *standing)
{
    uint8_t key [S_STEM_KEY];
    s_put_u16 (key, municipality);
    cp_put_u64 (key + 2, taking [0].stem);
    MDB_val k = {sizeof key, key}, v = {0, NULL};
    int rc = mdb_cursor_get (self->ids_cursor, &k, &v, MDB_SET_KEY);
    if (rc && rc != MDB_NOTFOUND)
        return cp_lmdb_fail ("central_store", "read ids", rc);
    if (v.mv_size % S_ID_ENTRY)
        return cp_lmdb_fail ("central_store", "read ids (a damaged record)", MDB_CORRUPTED);
    size_t held = v.mv_size / S_ID_ENTRY;
    size_t needed = (held + count) * S_ID_ENTRY;
    if (needed > self->stem_record_size) {
        uint8_t *grown = realloc (self->stem_record, needed);
        assert (grown);
        self->stem_record = grown;
        self->stem_record_size = needed;
    }
    const uint8_t *old = v.mv_data;
    uint8_t *out = self->stem_record;
    size_t taken = 0, kept = 0;         //  in out; of old
    bool added = false;
    for (size_t at = 0; at < count; at++) {
        const central_identity_t *identity = &taking [at];
        while (kept < held && cp_get_u64 (old + kept * S_ID_ENTRY) < identity->id)
            memcpy (out + taken++ * S_ID_ENTRY, old + kept++ * S_ID_ENTRY, S_ID_ENTRY);
        const uint8_t *found = NULL;
        if (kept < held && cp_get_u64 (old + kept * S_ID_ENTRY) == identity->id)
            found = old + kept * S_ID_ENTRY;
        else
        if (taken && cp_get_u64 (out + (taken - 1) * S_ID_ENTRY) == identity->id)
            found = out + (taken - 1) * S_ID_ENTRY;     //  earlier in this batch
        if (found)
            standing [identity->index] = cp_get_u64 (found + 8) == identity->digest
                                       ? S_ID_DUPLICATE: S_ID_CONFLICT;
        else {
            cp_put_u64 (out + taken * S_ID_ENTRY, identity->id);
            cp_put_u64 (out + taken * S_ID_ENTRY + 8, identity->digest);
            taken++;
            standing [identity->index] = S_ID_NEW;
            added = true;
        }
    }
    if (!added)
        return 0;
    if (kept < held) {
        memcpy (out + taken * S_ID_ENTRY, old + kept * S_ID_ENTRY, (held - kept) * S_ID_ENTRY);
        taken += held - kept;
    }
    MDB_val record = {taken * S_ID_ENTRY, out};
    k = (MDB_val) {sizeof key, key};
    rc = mdb_cursor_put (self->ids_cursor, &k, &record, 0);
    if (rc) {
        self->grow |= rc == MDB_MAP_FULL;
        return cp_lmdb_fail ("central_store", "put ids", rc);
    }
    return 0;
}

//  Takes a batch's identities in ids, a stem at a time, saying of each
//  event whether it is new, a duplicate or a conflict (s_take_stem).  Of
//  two events of the batch with one id the first in sequence is taken.
static int
s_take_ids (central_store_t *self, const central_batch_t *batch, uint8_t *standing)
{
    const central_identity_t *by_key = batch->by_key;
    size_t end;
    for (size_t at = 0; at < batch->count; at = end) {
        for (end = at + 1; end < batch->count && by_key [end].stem == by_key [at].stem; end++)
            ;
        int rc = s_take_stem (self, batch->municipality, by_key + at, end - at, standing);
        if (rc)
            return rc;
    }
    return 0;
}

//  =====================================================================
//  When events arrive: per municipality and quarter of their dates

//  The first day of each quarter from 2000-Q1 to 2100-Q1, for the apply
//  path: its quarter is then a division and a step or two, not a calendar
//  conversion.
static void
s_quarter_starts (int32_t *starts)
{
    for (int at = 0; at <= S_QUARTERS; at++)
        starts [at] = cp_date_from_civil (CP_DATE_MIN_YEAR + at / 4, at % 4 * 3 + 1, 1);
}

//  The quarter of a day as arrivals numbers it, year * 4 + quarter - 1, and
//  its first and last days.
static uint32_t
s_quarter_of (int32_t day, int32_t *start, int32_t *end)
{
    int year, month, ignored;
    cp_date_to_civil (day, &year, &month, &ignored);
    int first = (month - 1) / 3 * 3 + 1;
    *start = cp_date_from_civil (year, first, 1);
    *end = (first == 10? cp_date_from_civil (year + 1, 1, 1)
                       : cp_date_from_civil (year, first + 3, 1)) - 1;
    return (uint32_t) (year * 4 + (first - 1) / 3);
}

//  The slot, in the open transaction, of the quarter of day of a
//  municipality, with the quarter's bounds in *start and *end; the batch
//  arriving at now becomes its first or last arrival.  NULL for a day
//  outside 2000..2099 (no applied event has one; *start and *end are the
//  day then, so that the caller does not ask again for it).
static s_quarter_t *
s_arrival (central_store_t *self, int municipality, int32_t day, int64_t now,
           int32_t *start, int32_t *end)
{
    const int32_t *starts = self->quarter_starts;
    if (day < starts [0] || day >= starts [S_QUARTERS]) {
        *start = *end = day;
        return NULL;
    }
    //  A quarter is 90 to 92 days, so the estimate is off by one at most.
    int at = (int) ((int64_t) (day - starts [0]) * 16 / 1461);   //  1461 days: 16 quarters
    while (at > 0 && day < starts [at])
        at--;
    while (at < S_QUARTERS - 1 && day >= starts [at + 1])
        at++;
    *start = starts [at];
    *end = starts [at + 1] - 1;
    s_arrivals_t *arrivals = self->arrived [municipality];
    if (!arrivals) {
        arrivals = self->arrived [municipality] = calloc (1, sizeof (s_arrivals_t));
        assert (arrivals);
    }
    arrivals->touched = true;
    s_quarter_t *slot = &arrivals->quarters [at];
    if (slot->first == 0 || now < slot->first)
        slot->first = now;
    if (now > slot->last)
        slot->last = now;
    return slot;
}

static void
s_arrival_encode (const central_arrival_t *arrival, uint8_t *buf)
{
    cp_put_u64 (buf, (uint64_t) arrival->first);
    cp_put_u64 (buf + 8, (uint64_t) arrival->last);
    cp_put_u64 (buf + 16, arrival->events);
    cp_put_u64 (buf + 24, arrival->ahead);
    cp_put_u32 (buf + 32, (uint32_t) arrival->latest);
}

static int
s_arrival_decode (const MDB_val *value, central_arrival_t *arrival)
{
    if (value->mv_size != S_ARRIVAL_VALUE) {
        zsys_error ("central_store: a stored arrival record is corrupt");
        return CP_ESTORE;
    }
    const uint8_t *buf = value->mv_data;
    arrival->first = (int64_t) cp_get_u64 (buf);
    arrival->last = (int64_t) cp_get_u64 (buf + 8);
    arrival->events = cp_get_u64 (buf + 16);
    arrival->ahead = cp_get_u64 (buf + 24);
    arrival->latest = (int32_t) cp_get_u32 (buf + 32);
    return 0;
}

//  Adds what a group (or another quarter) brought into an arrival record:
//  the earliest first, the latest last, the sums, the latest date.
static void
s_arrival_merge (central_arrival_t *into, const central_arrival_t *from)
{
    if (from->events == 0)
        return;
    if (into->events == 0 || from->first < into->first)
        into->first = from->first;
    if (into->events == 0 || from->last > into->last)
        into->last = from->last;
    if (into->events == 0 || from->latest > into->latest)
        into->latest = from->latest;
    into->events += from->events;
    into->ahead += from->ahead;
}

static void
s_arrival_key (uint8_t *key, int municipality, uint32_t quarter)
{
    s_put_u16 (key, municipality);
    cp_put_u32 (key + 2, quarter);
}

//  Merges the group's arrivals into their records: one look-up and one
//  put per municipality and quarter touched, through one cursor (a record
//  there is rewritten in place, its size being fixed).
static int
s_write_arrivals (central_store_t *self)
{
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (self->txn, self->arrivals, &cursor);
    if (mdb_rc)
        return cp_lmdb_fail ("central_store", "open arrivals", mdb_rc);
    int rc = 0;
    for (int index = 0; rc == 0 && index < self->municipalities; index++) {
        s_arrivals_t *arrivals = self->arrived [index];
        if (!arrivals || !arrivals->touched)
            continue;
        for (int at = 0; rc == 0 && at < S_QUARTERS; at++) {
            const s_quarter_t *slot = &arrivals->quarters [at];
            if (slot->events == 0)
                continue;
            uint8_t key [S_ARRIVAL_KEY], buf [S_ARRIVAL_VALUE];
            s_arrival_key (key, index, (uint32_t) (CP_DATE_MIN_YEAR * 4 + at));
            central_arrival_t record = {0};
            central_arrival_t group = {slot->first, slot->last, slot->events, slot->ahead,
                                       slot->latest};
            MDB_val k = {sizeof key, key}, v;
            mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_KEY);
            if (mdb_rc == 0)
                rc = s_arrival_decode (&v, &record);
            else
            if (mdb_rc != MDB_NOTFOUND)
                rc = cp_lmdb_fail ("central_store", "read arrivals", mdb_rc);
            if (rc)
                break;
            s_arrival_merge (&record, &group);
            s_arrival_encode (&record, buf);
            MDB_val value = {sizeof buf, buf};
            k = (MDB_val) {sizeof key, key};
            int put_rc = mdb_cursor_put (cursor, &k, &value, mdb_rc == 0? MDB_CURRENT: 0);
            if (put_rc) {
                self->grow |= put_rc == MDB_MAP_FULL;
                rc = cp_lmdb_fail ("central_store", "put arrivals", put_rc);
            }
        }
    }
    mdb_cursor_close (cursor);
    return rc;
}

//  =====================================================================
//  What the nodes report of themselves (the node's own kinds)

static void
s_directive_key (uint8_t *key, uint64_t seq, int municipality)
{
    cp_put_u64 (key, seq);
    s_put_u16 (key + 8, municipality);
}

static void
s_directive_decode (const MDB_val *value, central_directive_report_t *report)
{
    memset (report, 0, sizeof *report);
    if (value->mv_size < S_DIRECTIVE_VALUE)
        return;
    const uint8_t *at = value->mv_data;
    report->received = (int32_t) cp_get_u32 (at);
    report->done = (int32_t) cp_get_u32 (at + 4);
    size_t note = value->mv_size - S_DIRECTIVE_VALUE;
    if (note > CP_NOTE_MAX)
        note = CP_NOTE_MAX;
    memcpy (report->note, at + S_DIRECTIVE_VALUE, note);
}

//  directive_received or directive_done: merged into the directive's
//  record for municipality (a receipt keeps its first day).
static int
s_apply_directive (central_store_t *self, int municipality, const cp_event_t *event)
{
    uint8_t key [S_DIRECTIVE_KEY];
    s_directive_key (key, event->entry, municipality);
    MDB_val k = {sizeof key, key}, v;
    central_directive_report_t report;
    memset (&report, 0, sizeof report);
    int rc = mdb_get (self->txn, self->directive_reports, &k, &v);
    if (rc == 0)
        s_directive_decode (&v, &report);
    else
    if (rc != MDB_NOTFOUND)
        return cp_lmdb_fail ("central_store", "read directive_reports", rc);
    if (event->type == CP_EVENT_DIRECTIVE_RECEIVED) {
        if (!report.received || event->date < report.received)
            report.received = event->date;
    }
    else {
        report.done = event->date;
        snprintf (report.note, sizeof report.note, "%s", event->note);
        if (!report.received)
            report.received = event->date;      //  done says it came
    }
    uint8_t value [S_DIRECTIVE_VALUE + CP_NOTE_MAX];
    cp_put_u32 (value, (uint32_t) report.received);
    cp_put_u32 (value + 4, (uint32_t) report.done);
    size_t note = strlen (report.note);
    memcpy (value + S_DIRECTIVE_VALUE, report.note, note);
    MDB_val record = {S_DIRECTIVE_VALUE + note, value};
    return s_put (self, self->directive_reports, key, sizeof key, &record, 0,
                  "put directive_reports");
}

static int
s_apply_staff_set (central_store_t *self, int municipality, const cp_event_t *event,
                   int64_t now)
{
    uint8_t key [S_STAFFING_KEY], value [S_STAFFING_VALUE];
    s_put_u16 (key, municipality);
    cp_put_u32 (key + 2, (uint32_t) event->date);
    cp_put_u32 (value, event->workers);
    cp_put_u32 (value + 4, event->children);
    cp_put_u64 (value + 8, (uint64_t) now);
    MDB_val record = {sizeof value, value};
    return s_put (self, self->staffing, key, sizeof key, &record, 0, "put staffing");
}

static int
s_reconciliation_decode (const MDB_val *value, central_reconciliation_t *out)
{
    memset (out, 0, sizeof *out);
    if (value->mv_size < S_RECONCILIATION_VALUE
    ||  value->mv_size > S_RECONCILIATION_VALUE + CP_NOTE_MAX)
        return cp_lmdb_fail ("central_store", "read reconciliation (a damaged record)",
                             MDB_CORRUPTED);
    const uint8_t *at = value->mv_data;
    out->entry = cp_get_u64 (at);
    out->verdict = at [8];
    out->date = (int32_t) cp_get_u32 (at + 9);
    out->arrived = (int64_t) cp_get_u64 (at + 13);
    memcpy (out->periods, at + S_RECONCILIATION_VALUE, value->mv_size - S_RECONCILIATION_VALUE);
    return 0;
}

//  figures_checked: the node's verdict, unless it has given one on a later
//  figures entry already.
static int
s_apply_figures_checked (central_store_t *self, int municipality, const cp_event_t *event,
                         int64_t now)
{
    uint8_t key [2];
    s_put_u16 (key, municipality);
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_get (self->txn, self->reconciliation, &k, &v);
    if (rc == 0 && v.mv_size >= 8 && cp_get_u64 (v.mv_data) > event->entry)
        return 0;
    if (rc && rc != MDB_NOTFOUND)
        return cp_lmdb_fail ("central_store", "read reconciliation", rc);
    uint8_t value [S_RECONCILIATION_VALUE + CP_NOTE_MAX];
    cp_put_u64 (value, event->entry);
    value [8] = event->verdict;
    cp_put_u32 (value + 9, (uint32_t) event->date);
    cp_put_u64 (value + 13, (uint64_t) now);
    size_t periods = strlen (event->note);
    memcpy (value + S_RECONCILIATION_VALUE, event->note, periods);
    MDB_val record = {S_RECONCILIATION_VALUE + periods, value};
    return s_put (self, self->reconciliation, key, sizeof key, &record, 0,
                  "put reconciliation");
}

//  Applies an event of the node's own kinds, checked already
//  (cp_event_resolve), to what the central keeps of it.
static int
s_apply_own (central_store_t *self, int municipality, const cp_event_t *event, int64_t now)
{
    switch (event->type) {
        case CP_EVENT_DIRECTIVE_RECEIVED:
        case CP_EVENT_DIRECTIVE_DONE:
            return s_apply_directive (self, municipality, event);
        case CP_EVENT_FIGURES_CHECKED:
            return s_apply_figures_checked (self, municipality, event, now);
        case CP_EVENT_STAFF_SET:
            return s_apply_staff_set (self, municipality, event, now);
        default:
            assert (false);     //  cp_event_resolve let no other through
            return CP_ESTORE;
    }
}

//  Takes the events of a batch each once by its id (s_take_ids), then in
//  sequence order checks each new one against its case's rules and applies
//  or quarantines it, and quarantines each conflict.  Each event applied
//  is noted in its quarter's arrival, at now; those dated after today are
//  counted as ahead.  Returns 0, or CP_ESTORE / CP_EMAPFULL.
static int
s_apply_events (central_store_t *self, const central_batch_t *batch, int64_t now,
                int32_t today, central_result_t *result)
{
    int municipality = batch->municipality;
    const uint8_t *log = batch->header.log;
    uint8_t *standing = malloc (batch->count);
    assert (standing);
    int rc = s_take_ids (self, batch, standing);
    if (self->dedup_off)
        memset (standing, S_ID_NEW, batch->count);
    char why [256];
    //  The quarter of the event before: its slot and its bounds (empty at first).
    s_quarter_t *quarter = NULL;
    int32_t start = 1, end = 0;
    for (size_t index = 0; index < batch->count && rc == 0; index++) {
        uint64_t seq = batch->header.first + index;
        cp_event_t *event = &batch->events [index];
        if (standing [index] == S_ID_DUPLICATE) {
            result->duplicates++;
            continue;
        }
        if (standing [index] == S_ID_CONFLICT) {
            rc = s_quarantine (self, municipality, log, seq, CP_ECONFLICT);
            if (rc == 0) {
                central_store_count (self, CP_ECONFLICT);
                result->conflicts++;
            }
            continue;
        }
        int event_rc = batch->resolved [index];
        if (event_rc == 0 && cp_event_is_own (event->type)) {
            //  What a node reports of itself: counted in no month row and
            //  no quarter's arrivals.
            if ((rc = s_apply_own (self, municipality, event, now)))
                break;
            result->applied++;
            continue;
        }
        cp_case_t *state = NULL;
        if (event_rc == 0) {
            state = s_case (self, municipality, event->case_id, &rc);
            if (!state)
                break;
            event_rc = cp_case_check (state, event, self->catalogue, why, sizeof why);
        }
        if (event_rc == 0)
            event_rc = cp_case_apply (state, event, self->catalogue, self->into);
        if (event_rc == 0) {
            result->applied++;
            int32_t date = event->date;
            if (date < start || date > end)
                quarter = s_arrival (self, municipality, date, now, &start, &end);
            if (quarter) {
                quarter->events++;
                quarter->ahead += date > today;
                if (date > quarter->latest)
                    quarter->latest = date;
            }
        }
        else if ((rc = s_quarantine (self, municipality, log, seq, event_rc)) == 0)
            result->quarantined++;
    }
    free (standing);
    return rc;
}

//  How a batch stands against its log's cursor (acked, chain): 0 to
//  apply, CENTRAL_STORE_DUPLICATE, CP_EGAP or CP_EDIVERGED.
static int
s_against_log (central_store_t *self, int municipality, const cp_batch_header_t *header,
               uint64_t acked, const uint8_t *chain, int *rc)
{
    *rc = 0;
    if (header->last <= acked) {
        //  Sent again, or another copy's: the log's chain at its end tells.
        uint8_t key [S_LOG_KEY];
        s_log_key (key, municipality, header->log, header->last);
        MDB_val k = {sizeof key, key}, v;
        int mdb_rc = mdb_get (self->txn, self->logs, &k, &v);
        if (mdb_rc == MDB_NOTFOUND)
            return CP_EGAP;     //  it ends where no batch ended: ship from the cursor
        if (mdb_rc) {
            *rc = cp_lmdb_fail ("central_store", "read log", mdb_rc);
            return 0;
        }
        return v.mv_size == S_CHAIN_SIZE && memcmp (v.mv_data, header->chain, S_CHAIN_SIZE) == 0
             ? CENTRAL_STORE_DUPLICATE: CP_EDIVERGED;
    }
    if (header->first != acked + 1)
        return CP_EGAP;
    return memcmp (header->prev, chain, S_CHAIN_SIZE) == 0? 0: CP_EDIVERGED;
}

int
central_store_apply (central_store_t *self, const central_batch_t *batch,
                     central_result_t *result)
{
    assert (self->txn);
    const cp_batch_header_t *header = &batch->header;
    int municipality = batch->municipality;
    //  What central_batch_t promises, so a batch that skipped the intake
    //  stops here instead of being applied under false numbers.
    assert (municipality >= 0 && municipality < self->municipalities);
    assert (header->first > 0 && header->first <= header->last);
    assert (batch->count == header->last - header->first + 1);
    assert (batch->events && batch->resolved && batch->by_key);
    memset (result, 0, sizeof *result);
    result->municipality = municipality;
    result->first = header->first;
    result->last = header->last;

    int rc;
    s_slot_t *slot = s_slot (self, municipality, &rc);
    if (!slot)
        return rc;
    central_cursor_t *cursor = &slot->value;
    uint64_t acked;
    uint8_t chain [S_CHAIN_SIZE];
    if ((rc = s_log_cursor (self, self->txn, municipality, header->log, &acked, chain)))
        return rc;
    int standing = s_against_log (self, municipality, header, acked, chain, &rc);
    if (rc)
        return rc;
    if (standing == CENTRAL_STORE_DUPLICATE && self->dedup_off) {
        //  The planted fault: counted again, the cursor left where it is
        self->into = s_tally (self->tallies, municipality);
        rc = s_apply_events (self, batch, cp_date_now_ms (), cp_date_today (), result);
        result->seq = header->last;
        return rc? rc: CENTRAL_STORE_DUPLICATE;
    }
    if (standing == CENTRAL_STORE_DUPLICATE) {
        result->seq = header->last;
        cursor->duplicates++;
        slot->dirty = true;
        return CENTRAL_STORE_DUPLICATE;
    }
    if (standing) {
        result->seq = acked + 1;
        return standing;
    }

    //  The counters are written at commit, summed over the group.
    self->into = s_tally (self->tallies, municipality);
    int64_t now = cp_date_now_ms ();
    rc = s_apply_events (self, batch, now, cp_date_today (), result);
    //  A batch of nothing but events taken before adds nothing to keep.
    bool keep = result->duplicates < batch->count;
    if (rc == 0 && keep)
        rc = s_archive (self, municipality, cursor, &batch->frames);
    if (rc == 0 && keep && batch->envelope_key)
        rc = s_envelope_key (self, header, batch->envelope_key);
    if (rc == 0) {
        uint8_t key [S_LOG_KEY];
        s_log_key (key, municipality, header->log, header->last);
        MDB_val value = {S_CHAIN_SIZE, (void *) header->chain};
        rc = s_put (self, self->logs, key, sizeof key, &value, 0, "put log");
    }
    if (rc)
        return rc;
    cursor->acked = header->last;
    memcpy (cursor->log, header->log, S_LOG_SIZE);
    cursor->head = header->head > header->last? header->head: header->last;
    cursor->last_seen = now;
    cursor->batches++;
    cursor->events += result->applied;
    cursor->quarantined += result->quarantined;
    cursor->duplicate_events += result->duplicates;
    cursor->conflicts += result->conflicts;
    slot->dirty = true;
    result->seq = header->last;
    return CENTRAL_STORE_APPLIED;
}

//  Folds the pending liveness notes into the slots, then writes every
//  changed slot.
static int
s_write_cursors (central_store_t *self)
{
    int rc = 0;
    for (int index = 0; index < self->municipalities && !rc; index++) {
        s_note_t *note = &self->notes [index];
        if (!note->pending && !note->downlink_noted)
            continue;
        s_slot_t *slot = s_slot (self, index, &rc);
        if (slot && note->downlink_noted) {
            slot->value.downlink = note->downlink;
            slot->dirty = true;
        }
        if (!note->pending)
            continue;
        if (slot && note->when >= slot->value.last_seen) {
            slot->value.last_seen = note->when;
            slot->value.head = note->head;
            slot->dirty = true;
        }
        if (slot && note->hello) {
            //  The log a HELLO named is the municipality's from now on.
            uint8_t chain [S_CHAIN_SIZE];
            memcpy (slot->value.log, note->log, S_LOG_SIZE);
            rc = s_log_cursor (self, self->txn, index, note->log, &slot->value.acked, chain);
            if (note->changed)
                slot->value.log_changed = note->when;
            slot->dirty = true;
        }
    }
    for (int index = 0; index < self->municipalities && !rc; index++) {
        s_slot_t *slot = &self->slots [index];
        if (!slot->dirty)
            continue;
        uint8_t key [2], buf [S_CURSOR_SIZE];
        s_put_u16 (key, index);
        s_cursor_encode (&slot->value, buf);
        MDB_val value = {S_CURSOR_SIZE, buf};
        rc = s_put (self, self->cursors, key, 2, &value, 0, "put cursor");
    }
    return rc;
}

static int
s_write_counters (central_store_t *self)
{
    for (int slot = 0; slot < S_CODES; slot++) {
        if (!self->counts [slot])
            continue;
        uint8_t key [4], buf [8];
        cp_put_u32 (key, (uint32_t) (int32_t) (slot + S_CODE_LOW));
        MDB_val k = {4, key}, v;
        uint64_t count = 0;
        int rc = mdb_get (self->txn, self->counters, &k, &v);
        if (rc == 0 && v.mv_size == 8)
            count = cp_get_u64 (v.mv_data);
        else
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail ("central_store", "read counter", rc);
        cp_put_u64 (buf, count + self->counts [slot]);
        MDB_val value = {8, buf};
        if ((rc = s_put (self, self->counters, key, 4, &value, 0, "put counter")))
            return rc;
    }
    return 0;
}

//  Folds the case log into cases (cp_case_log), S_FOLD_CASES a
//  transaction.  A fold that fails has lost nothing (the log still holds
//  every case); it is logged and tried again once the log has grown by an
//  eighth, a full map grown first.
//
//  The steps' pages are flushed at each commit but not their meta pages
//  (MDB_NOMETASYNC): a system crash may undo the last step, which the log
//  still holds, and cannot leave a meta page that points at pages not on
//  disk; the next commit's flush makes the fold durable.
static void
s_fold (central_store_t *self)
{
    size_t records = cp_case_log_records (self->case_log);
    int64_t started = zclock_mono ();
    bool done = false;
    int rc = 0;
    mdb_env_set_flags (self->env, MDB_NOMETASYNC, 1);
    while (!done && rc == 0) {
        rc = cp_store_begin (self->env, self->seal, &self->txn);
        if (rc == 0)
            rc = cp_case_log_fold (self->case_log, self->txn, self->case_log_db, self->cases,
                                   S_FOLD_CASES, &done);
        if (rc == 0 && done)
            s_fold_at (self, self->txn);
        if (rc == 0)
            rc = cp_store_commit (&s_kind, self->env, self->txn, "fold the case log");
        else {
            self->grow |= rc == CP_EMAPFULL;
            cp_store_abort (self->env, &self->txn, &self->grow);
        }
        self->txn = NULL;
        cp_case_log_folded (self->case_log, rc == 0);
    }
    mdb_env_set_flags (self->env, MDB_NOMETASYNC, 0);
    if (rc) {
        self->fold_after = records + records / 8;
        zsys_warning ("central_store: the case log (%zu records) was not folded (%s): "
                      "nothing is lost, it is tried again later", records, cp_strerror (rc));
    }
    else {
        self->fold_after = 0;
        zsys_info ("central_store: %zu case records folded in %" PRId64 " ms", records,
                   zclock_mono () - started);
    }
}

//  Forgets the transaction's state (not the pending notes and counts); the
//  cases it wrote are kept when it committed.
static void
s_forget (central_store_t *self, bool committed)
{
    if (committed) {
        cp_case_log_committed (self->case_log);
        cp_case_cache_committed (self->cache, S_CASES_KEPT);
    }
    else {
        cp_case_log_aborted (self->case_log);
        cp_case_cache_clear (self->cache);
    }
    //  A tally keeps the arrays of every month it was ever given, so the
    //  municipalities' and counties' go with their group: kept, a thousand
    //  municipalities' years of months held 150 MB between groups.
    for (int index = 0; index < self->municipalities; index++)
        cp_tally_destroy (&self->tallies [index]);
    for (int index = 0; index < cp_county_count (); index++)
        cp_tally_destroy (&self->county_tallies [index]);
    cp_tally_clear (self->national);
    for (int index = 0; index < self->municipalities; index++)
        if (self->arrived [index] && self->arrived [index]->touched)
            memset (self->arrived [index], 0, sizeof (s_arrivals_t));
    memset (self->slots, 0, (size_t) self->municipalities * sizeof (s_slot_t));
    self->ids_cursor = NULL;    //  closed with its transaction
}

size_t
central_store_tallies_held (central_store_t *self)
{
    size_t held = 0;
    for (int index = 0; self->tallies && index < self->municipalities; index++)
        held += self->tallies [index] != NULL;
    for (int index = 0; self->county_tallies && index < cp_county_count (); index++)
        held += self->county_tallies [index] != NULL;
    return held;
}

int
central_store_commit (central_store_t *self)
{
    assert (self->txn);
    int rc = cp_case_cache_write (self->cache, self->txn, self->cases);
    self->grow |= rc == CP_EMAPFULL;
    if (rc == 0)
        rc = s_write_rows (self);
    if (rc == 0)
        rc = s_write_arrivals (self);
    if (rc == 0)
        rc = s_write_cursors (self);
    if (rc == 0)
        rc = s_write_counters (self);
    if (rc) {
        central_store_abort (self);
        return rc;
    }
    rc = cp_store_commit (&s_kind, self->env, self->txn, "commit");
    self->txn = NULL;
    s_forget (self, rc == 0);
    if (rc)
        return rc;
    //  Durable now: the notes and counts written with it are done.
    memset (self->notes, 0, (size_t) self->municipalities * sizeof (s_note_t));
    memset (self->counts, 0, sizeof self->counts);
    self->noted = false;
    if (cp_case_log_full (self->case_log)
    &&  cp_case_log_records (self->case_log) >= self->fold_after)
        s_fold (self);
    return 0;
}

void
central_store_abort (central_store_t *self)
{
    cp_store_abort (self->env, &self->txn, &self->grow);
    s_forget (self, false);
}

size_t
central_store_cases_touched (central_store_t *self)
{
    return self->cache? cp_case_cache_touched (self->cache): 0;
}

//  =====================================================================
//  Notes and counters

void
central_store_seen (central_store_t *self, int municipality, uint64_t head)
{
    assert (municipality >= 0 && municipality < self->municipalities);
    assert (self->notes);
    s_note_t *note = &self->notes [municipality];
    note->pending = true;
    note->head = head;
    note->when = cp_date_now_ms ();
    self->noted = true;
}

void
central_store_hello (central_store_t *self, int municipality, const uint8_t *log,
                     uint64_t head, bool changed)
{
    central_store_seen (self, municipality, head);
    s_note_t *note = &self->notes [municipality];
    note->hello = true;
    note->changed |= changed;
    memcpy (note->log, log, S_LOG_SIZE);
}

void
central_store_downlink_reached (central_store_t *self, int municipality, uint64_t cursor)
{
    assert (municipality >= 0 && municipality < self->municipalities);
    assert (self->notes);
    s_note_t *note = &self->notes [municipality];
    note->downlink_noted = true;
    note->downlink = cursor;
    self->noted = true;
}

void
central_store_count (central_store_t *self, int code)
{
    assert (code >= S_CODE_LOW && code < S_CODE_LOW + S_CODES);
    self->counts [code - S_CODE_LOW]++;
    self->noted = true;
}

bool
central_store_pending (central_store_t *self)
{
    return self->noted;
}

int
central_store_flush (central_store_t *self)
{
    assert (!self->txn);
    if (!self->noted)
        return 0;
    int rc = central_store_begin (self);
    if (rc == 0)
        rc = central_store_commit (self);
    return rc;
}

//  =====================================================================
//  Reading the archive back (a node's recovery)

int
central_store_envelope_key (central_store_t *self, const char *node_key, const char *data_key,
                            uint8_t *key)
{
    assert (!self->readonly);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    uint8_t name [S_ENVELOPE_NAME], ad [1 + S_ENVELOPE_NAME];
    MDB_val k = {s_envelope_name (node_key, data_key, name, ad), name}, v;
    rc = mdb_get (txn, self->envelopes, &k, &v);
    if (rc == 0 && v.mv_size == CP_ENVELOPE_KEY_SIZE + CP_SEAL_OVERHEAD
    &&  cp_seal_open (self->seal, ad, 1 + k.mv_size, v.mv_data, v.mv_size, key) == 0)
        rc = 0;
    else {
        zsys_error ("central_store: no envelope key for the archived batches of node key %s "
                    "and data key %s", node_key, data_key);
        rc = CP_EAUTH;
    }
    mdb_txn_abort (txn);
    return rc;
}

//  Splits an archive record into its three frames (header, payload,
//  signature).  Returns 0 or CP_ESTORE.
static int
s_archive_frames (const uint8_t *record, size_t size, cp_batch_frames_t *frames)
{
    const uint8_t *at = record, *end = record + size;
    const uint8_t *parts [3];
    size_t sizes [3];
    for (int part = 0; part < 3; part++) {
        if (end - at < 4)
            return CP_ESTORE;
        sizes [part] = cp_get_u32 (at);
        if ((size_t) (end - at - 4) < sizes [part])
            return CP_ESTORE;
        parts [part] = at + 4;
        at += 4 + sizes [part];
    }
    if (at != end)
        return CP_ESTORE;
    *frames = (cp_batch_frames_t) {parts [0], sizes [0], parts [1], sizes [1], parts [2],
                                   sizes [2]};
    return 0;
}

int
central_store_archive_read (central_store_t *self, int municipality, uint64_t from,
                            uint64_t *position, uint64_t *end, uint8_t **record,
                            cp_batch_frames_t *frames)
{
    *record = NULL;
    memset (frames, 0, sizeof *frames);
    *position = *end = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    central_cursor_t cursor;
    if ((rc = s_cursor_read (self, txn, municipality, &cursor))) {
        mdb_txn_abort (txn);
        return rc;
    }
    *end = cursor.archived + 1;         //  the position after the last
    uint8_t key [10];
    s_seq_key (key, municipality, from? from: 1);
    MDB_cursor *reader;
    if ((rc = mdb_cursor_open (txn, self->archive, &reader))) {
        mdb_txn_abort (txn);
        return cp_lmdb_fail ("central_store", "read archive", rc);
    }
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_cursor_get (reader, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && (k.mv_size != sizeof key || memcmp (k.mv_data, key, 2) != 0))
        rc = MDB_NOTFOUND;      //  past this municipality's archive
    if (rc == 0) {
        //  A copy: the record outlives the read transaction while it is
        //  opened and sealed again (a recovery, not the hot path).
        *position = cp_get_u64 ((const uint8_t *) k.mv_data + 2);
        *record = malloc (v.mv_size + 1);
        assert (*record);
        memcpy (*record, v.mv_data, v.mv_size);
        if (s_archive_frames (*record, v.mv_size, frames)) {
            zsys_error ("central_store: %s archive record %" PRIu64 " is corrupt",
                        cp_municipality_code (municipality), *position);
            free (*record);
            *record = NULL;
            rc = CP_ESTORE;
        }
    }
    else
    if (rc == MDB_NOTFOUND) {
        *position = *end;
        rc = 0;
    }
    else
        rc = cp_lmdb_fail ("central_store", "read archive", rc);
    mdb_cursor_close (reader);
    mdb_txn_abort (txn);
    return rc;
}

//  =====================================================================
//  Views

int
central_store_view (central_store_t *self, const char *scope_text, cp_view_t *view)
{
    cp_scope_t scope;
    if (cp_scope_parse (scope_text, &scope))
        return CP_EUSAGE;
    cp_scope_format (&scope, view->scope);

    uint8_t prefix [S_SCOPE_SIZE];
    s_scope_prefix (prefix, scope.kind, scope.index);

    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = cp_store_months_view (&s_kind, txn, self->months, prefix, sizeof prefix, view);
    view->municipalities_reporting = 0;
    for (int index = 0; rc == 0 && index < self->municipalities; index++) {
        if (!cp_scope_contains (&scope, index))
            continue;
        central_cursor_t value;
        rc = s_cursor_read (self, txn, index, &value);
        if (rc == 0 && value.batches > 0)
            view->municipalities_reporting++;
    }
    mdb_txn_abort (txn);
    return rc;
}

//  =====================================================================
//  Arrivals and reporting deadlines (docs/design.md, "Completeness and
//  timeliness")

int
central_store_arrivals (central_store_t *self, const cp_period_t *period,
                        central_arrival_t *arrivals)
{
    memset (arrivals, 0, (size_t) self->municipalities * sizeof (central_arrival_t));
    int32_t ignored;
    uint32_t first = s_quarter_of (period->start, &ignored, &ignored);
    uint32_t last = s_quarter_of (period->end, &ignored, &ignored);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    if ((rc = mdb_cursor_open (txn, self->arrivals, &cursor))) {
        mdb_txn_abort (txn);
        return cp_lmdb_fail ("central_store", "read arrivals", rc);
    }
    for (int index = 0; rc == 0 && index < self->municipalities; index++) {
        uint8_t key [S_ARRIVAL_KEY];
        s_arrival_key (key, index, first);
        MDB_val k = {sizeof key, key}, v;
        int op = MDB_SET_RANGE;
        while ((rc = mdb_cursor_get (cursor, &k, &v, op)) == 0) {
            op = MDB_NEXT;
            const uint8_t *at = k.mv_data;
            if (k.mv_size != S_ARRIVAL_KEY || (at [0] << 8 | at [1]) != index
            ||  cp_get_u32 (at + 2) > last)
                break;
            central_arrival_t quarter;
            if ((rc = s_arrival_decode (&v, &quarter)))
                break;
            s_arrival_merge (&arrivals [index], &quarter);
        }
        if (rc == MDB_NOTFOUND || rc == 0)
            rc = 0;
        else
        if (rc != CP_ESTORE)
            rc = cp_lmdb_fail ("central_store", "read arrivals", rc);
    }
    mdb_cursor_close (cursor);
    mdb_txn_abort (txn);
    return rc;
}

//  The meta key of a year's deadline into key (at least 20 bytes).
static void
s_deadline_key (int year, char *key, size_t size)
{
    snprintf (key, size, "%s%04d", S_DEADLINE_KEY, year);
}

int
central_store_deadlines (central_store_t *self, int *days, bool *set)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    for (int year = CP_DATE_MIN_YEAR; year <= CP_DATE_MAX_YEAR; year++) {
        char key [32];
        s_deadline_key (year, key, sizeof key);
        MDB_val k = {strlen (key), key}, v;
        int at = year - CP_DATE_MIN_YEAR;
        int mdb_rc = mdb_get (txn, self->meta, &k, &v);
        days [at] = CENTRAL_STORE_DEADLINE_DAYS;
        if (set)
            set [at] = false;
        if (mdb_rc == 0 && v.mv_size == 8 && cp_get_u64 (v.mv_data) <= CENTRAL_STORE_DEADLINE_MAX) {
            days [at] = (int) cp_get_u64 (v.mv_data);
            if (set)
                set [at] = true;
        }
        else
        if (mdb_rc == 0)
            zsys_warning ("central_store: meta %s is not a number of days from 0 to %d; "
                          "the default (%d) holds", key, CENTRAL_STORE_DEADLINE_MAX,
                          CENTRAL_STORE_DEADLINE_DAYS);
        else
        if (mdb_rc != MDB_NOTFOUND) {
            rc = cp_lmdb_fail ("central_store", "read deadline", mdb_rc);
            break;
        }
    }
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_deadline_set (central_store_t *self, int year, int days)
{
    assert (!self->readonly && !self->txn);
    if (year < CP_DATE_MIN_YEAR || year > CP_DATE_MAX_YEAR
    ||  days < -1 || days > CENTRAL_STORE_DEADLINE_MAX)
        return CP_EUSAGE;
    char key [32];
    s_deadline_key (year, key, sizeof key);
    int rc = 0;
    //  A full map is grown (by the abort) and the write done again, once.
    for (int round = 0; round < 2; round++) {
        if ((rc = central_store_begin (self)))
            return rc;
        if (days < 0) {
            MDB_val k = {strlen (key), key};
            int mdb_rc = mdb_del (self->txn, self->meta, &k, NULL);
            if (mdb_rc && mdb_rc != MDB_NOTFOUND)
                rc = cp_lmdb_fail ("central_store", "remove deadline", mdb_rc);
        }
        else {
            uint8_t buf [8];
            cp_put_u64 (buf, (uint64_t) days);
            MDB_val value = {sizeof buf, buf};
            rc = s_put (self, self->meta, key, strlen (key), &value, 0, "put deadline");
        }
        if (rc == 0)
            rc = central_store_commit (self);
        else
            central_store_abort (self);
        if (rc != CP_EMAPFULL)
            break;
    }
    return rc;
}

//  =====================================================================
//  The key table (central_keys.h): written by cpsync-admin, read by the
//  server when the key serial in meta has moved.

//  The records of central_store_keys_put, for the edit that writes them.
typedef struct {
    const central_key_t *keys;
    size_t count;
} s_keys_given_t;

static int
    s_keys_load (central_store_t *self, MDB_txn *txn, central_keys_t **keys_p);
static int
    s_keys_put_given (central_store_t *self, central_keys_t *keys, void *argument);

int
central_store_key_serial (central_store_t *self, uint64_t *serial)
{
    return cp_lmdb_read_u64 (self->env, self->meta, "key_serial", serial);
}

int
central_store_keys_read (central_store_t *self, central_keys_t **keys_p)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = s_keys_load (self, txn, keys_p);
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_keys_put (central_store_t *self, const central_key_t *keys, size_t count,
                        uint64_t *serial)
{
    s_keys_given_t given = {keys, count};
    return central_store_keys_edit (self, s_keys_put_given, &given, serial);
}

//  Reads the key table as txn sees it, with its serial.  Corrupt records
//  are logged and left out.  Returns 0, CP_ESTORE or CP_EMAPFULL.
static int
s_keys_load (central_store_t *self, MDB_txn *txn, central_keys_t **keys_p)
{
    *keys_p = NULL;
    int rc = 0;
    uint64_t serial = cp_lmdb_get_u64 (txn, self->meta, "key_serial");
    size_t count = 0, size = 16;
    central_key_t *keys = malloc (size * sizeof (central_key_t));
    assert (keys);
    MDB_cursor *cursor = NULL;
    int mdb_rc = mdb_cursor_open (txn, self->keys, &cursor);
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_rc == 0; op = MDB_NEXT) {
        mdb_rc = mdb_cursor_get (cursor, &k, &v, op);
        if (mdb_rc)
            break;
        char id [CP_KEY_ID_MAX + 1];
        if (k.mv_size == 0 || k.mv_size > CP_KEY_ID_MAX) {
            rc = CP_ESTORE;
            break;
        }
        memcpy (id, k.mv_data, k.mv_size);
        id [k.mv_size] = 0;
        if (count == size) {
            size *= 2;
            keys = realloc (keys, size * sizeof (central_key_t));
            assert (keys);
        }
        if (central_keys_decode (id, v.mv_data, v.mv_size, &keys [count]) == 0)
            count++;
        else
            zsys_error ("central_store: the record of key %s is corrupt; it is ignored", id);
    }
    if (mdb_rc && mdb_rc != MDB_NOTFOUND)
        rc = cp_lmdb_fail ("central_store", "read keys", mdb_rc);
    mdb_cursor_close (cursor);
    if (rc == 0) {
        *keys_p = central_keys_new (keys, count, serial);
        rc = *keys_p? 0: CP_ESTORE;
    }
    free (keys);
    return rc;
}

int
central_store_keys_edit (central_store_t *self, central_store_keys_edit_fn *edit,
                         void *argument, uint64_t *serial)
{
    assert (!self->readonly && !self->txn && edit);
    int rc = 0;
    //  A full map is grown and the whole edit redone, once: the edit reads
    //  the table again, so it decides on what it writes.
    for (int round = 0; round < 2; round++) {
        central_keys_t *keys = NULL;
        rc = cp_lmdb_begin (self->env, 0, &self->txn);
        if (rc)
            return rc;
        rc = s_keys_load (self, self->txn, &keys);
        uint64_t value = keys? central_keys_serial (keys): 0;
        if (rc == 0)
            rc = edit (self, keys, argument);
        central_keys_destroy (&keys);
        if (rc == 0) {
            uint8_t buf [8];
            cp_put_u64 (buf, value + 1);
            MDB_val v = {sizeof buf, buf};
            rc = s_put (self, self->meta, "key_serial", strlen ("key_serial"), &v, 0,
                        "put key serial");
        }
        if (rc == 0) {
            int mdb_rc = mdb_txn_commit (self->txn);
            self->txn = NULL;
            rc = mdb_rc? cp_lmdb_fail ("central_store", "commit keys", mdb_rc): 0;
            if (rc == 0)
                *serial = value + 1;
            return rc;
        }
        central_store_abort (self);
        if (rc != CP_EMAPFULL)
            break;
    }
    return rc;
}

int
central_store_keys_change (central_store_t *self, const central_key_t *key)
{
    assert (!self->readonly && self->txn && key);
    central_key_t record = *key;
    //  A new key gets the serial this change will raise the table to.
    if (record.sequence == 0)
        record.sequence = (uint32_t) (cp_lmdb_get_u64 (self->txn, self->meta, "key_serial") + 1);
    uint8_t encoded [CENTRAL_KEYS_RECORD_SIZE];
    central_keys_encode (&record, encoded);
    MDB_val v = {sizeof encoded, encoded};
    return s_put (self, self->keys, record.id, strlen (record.id), &v, 0, "put key");
}

//  Writes the records given: keys_put is an edit that reads nothing.
static int
s_keys_put_given (central_store_t *self, central_keys_t *keys, void *argument)
{
    (void) keys;
    s_keys_given_t *given = argument;
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < given->count; index++)
        rc = central_store_keys_change (self, &given->keys [index]);
    return rc;
}

//  =====================================================================
//  The downlink log

//  Key of downlink_to: the address as a month row's scope prefix, then seq.
#define S_TO_KEY (S_SCOPE_SIZE + 8)

static void
s_to_key (uint8_t *key, const cp_scope_t *address, uint64_t seq)
{
    s_scope_prefix (key, address->kind, address->index);
    cp_put_u64 (key + S_SCOPE_SIZE, seq);
}

//  The highest seq used, as txn sees it: the log's last, or a node's
//  cursor past it.
static uint64_t
s_downlink_last (central_store_t *self, MDB_txn *txn)
{
    uint64_t last = cp_lmdb_get_u64 (txn, self->meta, "downlink_used");
    MDB_cursor *cursor;
    MDB_val k, v;
    if (mdb_cursor_open (txn, self->downlink, &cursor) == 0) {
        if (mdb_cursor_get (cursor, &k, &v, MDB_LAST) == 0 && k.mv_size == 8
        &&  cp_get_u64 (k.mv_data) > last)
            last = cp_get_u64 (k.mv_data);
        mdb_cursor_close (cursor);
    }
    return last;
}

//  Puts the signed entry under seq and indexes it by address.
static int
s_downlink_put (central_store_t *self, uint64_t seq, const cp_scope_t *address,
                const uint8_t *entry, size_t size)
{
    uint8_t key [8], to [S_TO_KEY];
    cp_put_u64 (key, seq);
    s_to_key (to, address, seq);
    MDB_val v = {size, (void *) entry}, none = {0, NULL};
    int rc = s_put (self, self->downlink, key, sizeof key, &v, MDB_NOOVERWRITE, "put downlink");
    if (!rc)
        rc = s_put (self, self->downlink_to, to, sizeof to, &none, 0, "index downlink");
    return rc;
}

//  One round of publishing: the entry numbered after the log's last, and
//  a catalogue revision's effect.  The caller commits or aborts.
static int
s_downlink_publish (central_store_t *self, cp_downlink_t *entry, const uint8_t *root_secret,
                    uint64_t *seq, char *why, size_t why_size)
{
    int rc = 0, version = 0;
    if (entry->kind == CP_DOWNLINK_CATALOGUE)
        rc = cp_store_catalogue_install (&s_kind, self->txn, self->catalogue,
                                         (const char *) entry->body, entry->body_size,
                                         &version, &self->grow, why, why_size);
    if (rc)
        return rc;
    entry->seq = s_downlink_last (self, self->txn) + 1;
    size_t size;
    uint8_t *signed_entry = cp_downlink_encode (entry, root_secret, &size);
    if (!signed_entry)
        return cp_error_why (CP_EUSAGE, why, why_size, "the entry cannot be signed: "
                             "an unknown kind, an address outside the lists or a body "
                             "over %d bytes", CP_DOWNLINK_BODY_MAX);
    rc = s_downlink_put (self, entry->seq, &entry->address, signed_entry, size);
    free (signed_entry);
    if (!rc)
        *seq = entry->seq;
    return rc;
}

int
central_store_downlink_publish (central_store_t *self, int kind, const cp_scope_t *address,
                                const uint8_t *body, size_t size, const uint8_t *root_secret,
                                uint64_t *seq, char *why, size_t why_size)
{
    assert (!self->readonly && !self->txn);
    *seq = 0;
    if (size > CP_DOWNLINK_BODY_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "the body is %zu bytes, over the "
                             "%d an entry may carry", size, CP_DOWNLINK_BODY_MAX);
    cp_downlink_t entry = {
        .kind = kind, .address = *address, .issued = zclock_time (),
        .body = body, .body_size = size
    };
    int rc = 0;
    //  A full map is grown and the whole round done again, once.
    for (int round = 0; round < 2; round++) {
        rc = cp_store_begin (self->env, self->seal, &self->txn);
        if (rc)
            return rc;
        rc = s_downlink_publish (self, &entry, root_secret, seq, why, why_size);
        if (rc == 0) {
            rc = cp_store_commit (&s_kind, self->env, self->txn, "commit downlink");
            self->txn = NULL;
            if (rc == 0)
                return central_store_catalogue_refresh (self);
        }
        else
            central_store_abort (self);
        if (rc != CP_EMAPFULL)
            break;
        *seq = 0;
    }
    if (rc == CP_EMAPFULL || rc == CP_ESTORE)
        cp_error_why (rc, why, why_size, "the store did not take the entry: %s",
                      cp_strerror (rc));
    return rc;
}

int
central_store_downlink_last (central_store_t *self, uint64_t *last)
{
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    *last = s_downlink_last (self, txn);
    mdb_txn_abort (txn);
    return 0;
}

//  In downlink_to, the least seq above after (*next) and the greatest
//  below before (*prev) addressed to address; 0 for none.
static int
s_downlink_around (MDB_cursor *cursor, const cp_scope_t *address, uint64_t after,
                   uint64_t before, uint64_t *next, uint64_t *prev)
{
    uint8_t key [S_TO_KEY];
    MDB_val k, v;
    if (next) {
        *next = 0;
        s_to_key (key, address, after + 1);
        k = (MDB_val) {sizeof key, key};
        int rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == S_TO_KEY && memcmp (k.mv_data, key, S_SCOPE_SIZE) == 0)
            *next = cp_get_u64 ((uint8_t *) k.mv_data + S_SCOPE_SIZE);
        else
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail ("central_store", "read downlink index", rc);
    }
    if (prev) {
        *prev = 0;
        //  The first key at or past before, then one back.
        s_to_key (key, address, before);
        k = (MDB_val) {sizeof key, key};
        int rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
        rc = rc == 0? mdb_cursor_get (cursor, &k, &v, MDB_PREV)
           : rc == MDB_NOTFOUND? mdb_cursor_get (cursor, &k, &v, MDB_LAST): rc;
        if (rc == 0 && k.mv_size == S_TO_KEY && memcmp (k.mv_data, key, S_SCOPE_SIZE) == 0)
            *prev = cp_get_u64 ((uint8_t *) k.mv_data + S_SCOPE_SIZE);
        else
        if (rc && rc != MDB_NOTFOUND)
            return cp_lmdb_fail ("central_store", "read downlink index", rc);
    }
    return 0;
}

//  A copy of the entry under seq, as txn sees it.
static int
s_downlink_copy (central_store_t *self, MDB_txn *txn, uint64_t seq, uint8_t **entry,
                 size_t *size)
{
    uint8_t key [8];
    cp_put_u64 (key, seq);
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_get (txn, self->downlink, &k, &v);
    if (rc == MDB_NOTFOUND)
        return CP_ENOTFOUND;
    if (rc)
        return cp_lmdb_fail ("central_store", "read downlink", rc);
    *entry = malloc (v.mv_size? v.mv_size: 1);
    assert (*entry);
    memcpy (*entry, v.mv_data, v.mv_size);
    *size = v.mv_size;
    return 0;
}

int
central_store_downlink_next (central_store_t *self, int municipality, uint64_t after,
                             uint64_t *seq, uint64_t *prev, uint8_t **entry, size_t *size)
{
    *seq = *prev = 0;
    *entry = NULL;
    *size = 0;
    if (municipality < 0 || municipality >= self->municipalities)
        return CP_EBADID;
    //  The three addresses that reach a municipality.
    const cp_scope_t addresses [3] = {
        {CP_SCOPE_NATIONAL, 0},
        {CP_SCOPE_COUNTY, cp_municipality_county (municipality)},
        {CP_SCOPE_MUNICIPALITY, municipality}
    };
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor = NULL;
    int mdb_rc = mdb_cursor_open (txn, self->downlink_to, &cursor);
    if (mdb_rc)
        rc = cp_lmdb_fail ("central_store", "read downlink index", mdb_rc);
    uint64_t next = 0;
    for (int index = 0; rc == 0 && index < 3; index++) {
        uint64_t found;
        rc = s_downlink_around (cursor, &addresses [index], after, 0, &found, NULL);
        if (rc == 0 && found && (!next || found < next))
            next = found;
    }
    for (int index = 0; rc == 0 && next && index < 3; index++) {
        uint64_t found;
        rc = s_downlink_around (cursor, &addresses [index], 0, next, NULL, &found);
        if (rc == 0 && found > *prev)
            *prev = found;
    }
    mdb_cursor_close (cursor);
    if (rc == 0 && next)
        rc = s_downlink_copy (self, txn, next, entry, size);
    if (rc == CP_ENOTFOUND) {
        //  The index names an entry the log does not hold: damage, which
        //  would stall this node's downlink without a word.
        zsys_error ("central_store: the downlink index names entry %" PRIu64 " but the log "
                    "does not hold it: the store is damaged (restore it from a backup)", next);
        rc = CP_ESTORE;
    }
    if (rc == 0)
        *seq = next;
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_downlink_entry (central_store_t *self, uint64_t seq, uint8_t **entry,
                              size_t *size)
{
    *entry = NULL;
    *size = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = s_downlink_copy (self, txn, seq, entry, size);
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_downlink_after (central_store_t *self, uint64_t after, uint64_t *seq,
                              uint8_t **entry, size_t *size)
{
    *seq = 0;
    *entry = NULL;
    *size = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (txn, self->downlink, &cursor);
    if (mdb_rc == 0) {
        uint8_t key [8];
        cp_put_u64 (key, after + 1);
        MDB_val k = {sizeof key, key}, v;
        mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
        if (mdb_rc == 0 && k.mv_size == 8) {
            *seq = cp_get_u64 (k.mv_data);
            *entry = malloc (v.mv_size? v.mv_size: 1);
            assert (*entry);
            memcpy (*entry, v.mv_data, v.mv_size);
            *size = v.mv_size;
        }
        mdb_cursor_close (cursor);
    }
    if (mdb_rc && mdb_rc != MDB_NOTFOUND)
        rc = cp_lmdb_fail ("central_store", "read downlink", mdb_rc);
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_downlink_seen (central_store_t *self, uint64_t cursor)
{
    assert (!self->readonly && !self->txn);
    uint64_t last;
    int rc = central_store_downlink_last (self, &last);
    if (rc || cursor <= last)
        return rc;
    zsys_warning ("central_store: a node has applied downlink entries up to %" PRIu64
                  ", past the log's end at %" PRIu64 " (a store restored from an older copy?): "
                  "new entries are numbered after it", cursor, last);
    for (int round = 0; round < 2; round++) {
        rc = cp_store_begin (self->env, self->seal, &self->txn);
        if (rc)
            return rc;
        uint8_t value [8];
        cp_put_u64 (value, cursor);
        MDB_val v = {sizeof value, value};
        rc = s_put (self, self->meta, "downlink_used", strlen ("downlink_used"), &v, 0,
                    "put downlink_used");
        if (rc == 0) {
            rc = cp_store_commit (&s_kind, self->env, self->txn, "commit downlink_used");
            self->txn = NULL;
            return rc;
        }
        central_store_abort (self);
        if (rc != CP_EMAPFULL)
            break;
    }
    return rc;
}

int
central_store_catalogue_refresh (central_store_t *self)
{
    assert (!self->txn);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    char number [16] = "";
    cp_lmdb_get_text (txn, self->meta, "catalogue", number, sizeof number);
    if (atoi (number) != cp_catalogue_version (self->catalogue)) {
        cp_catalogue_t *catalogue = cp_store_catalogue_load (&s_kind, txn);
        if (catalogue) {
            cp_catalogue_destroy (&self->catalogue);
            self->catalogue = catalogue;
            zsys_info ("central_store: catalogue %d is now the newest", atoi (number));
        }
        else
            rc = CP_ECATALOGUE;
    }
    mdb_txn_abort (txn);
    return rc;
}

//  =====================================================================
//  Reading what the nodes report of themselves

int
central_store_directive_report (central_store_t *self, uint64_t seq, int municipality,
                                central_directive_report_t *report)
{
    memset (report, 0, sizeof *report);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    uint8_t key [S_DIRECTIVE_KEY];
    s_directive_key (key, seq, municipality);
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_get (txn, self->directive_reports, &k, &v);
    if (rc == 0)
        s_directive_decode (&v, report);
    mdb_txn_abort (txn);
    return rc == 0? 0: rc == MDB_NOTFOUND? CP_ENOTFOUND
         : cp_lmdb_fail ("central_store", "read directive_reports", rc);
}

//  Reads a staffing record; false for one of the wrong size (damage).
static bool
s_staffing_decode (const MDB_val *key, const MDB_val *value, central_staffing_t *staffing)
{
    if (key->mv_size != S_STAFFING_KEY || value->mv_size != S_STAFFING_VALUE)
        return false;
    const uint8_t *at = value->mv_data;
    staffing->date = (int32_t) cp_get_u32 ((const uint8_t *) key->mv_data + 2);
    staffing->workers = cp_get_u32 (at);
    staffing->children = cp_get_u32 (at + 4);
    staffing->arrived = (int64_t) cp_get_u64 (at + 8);
    return true;
}

int
central_store_staffing_history (central_store_t *self, int municipality,
                                central_staffing_t *items, size_t max, size_t *count)
{
    *count = 0;
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (txn, self->staffing, &cursor);
    if (mdb_rc == 0) {
        uint8_t key [S_STAFFING_KEY] = {0};
        s_put_u16 (key, municipality);
        MDB_val k = {sizeof key, key}, v;
        mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
        while (mdb_rc == 0 && k.mv_size == S_STAFFING_KEY
           &&  memcmp (k.mv_data, key, 2) == 0 && *count < max) {
            if (!s_staffing_decode (&k, &v, &items [*count])) {
                mdb_rc = MDB_CORRUPTED;
                break;
            }
            (*count)++;
            mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    return mdb_rc == 0 || mdb_rc == MDB_NOTFOUND? 0
         : cp_lmdb_fail ("central_store", "read staffing", mdb_rc);
}

int
central_store_staffing (central_store_t *self, int municipality, int32_t day,
                        central_staffing_t *staffing)
{
    memset (staffing, 0, sizeof *staffing);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_cursor *cursor;
    int mdb_rc = mdb_cursor_open (txn, self->staffing, &cursor);
    bool found = false;
    if (mdb_rc == 0) {
        //  The first record after (m, day), then one back: the latest on or
        //  before day, if it is m's.
        uint8_t key [S_STAFFING_KEY];
        s_put_u16 (key, municipality);
        cp_put_u32 (key + 2, (uint32_t) day + 1);
        MDB_val k = {sizeof key, key}, v;
        mdb_rc = mdb_cursor_get (cursor, &k, &v, MDB_SET_RANGE);
        mdb_rc = mdb_cursor_get (cursor, &k, &v, mdb_rc == 0? MDB_PREV: MDB_LAST);
        if (mdb_rc == 0 && k.mv_size == S_STAFFING_KEY && memcmp (k.mv_data, key, 2) == 0) {
            found = s_staffing_decode (&k, &v, staffing);
            if (!found)
                mdb_rc = MDB_CORRUPTED;
        }
        mdb_cursor_close (cursor);
    }
    mdb_txn_abort (txn);
    if (mdb_rc && mdb_rc != MDB_NOTFOUND)
        return cp_lmdb_fail ("central_store", "read staffing", mdb_rc);
    return found? 0: CP_ENOTFOUND;
}

int
central_store_reconciliation (central_store_t *self, int municipality,
                              central_reconciliation_t *reconciliation)
{
    memset (reconciliation, 0, sizeof *reconciliation);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    uint8_t key [2];
    s_put_u16 (key, municipality);
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_get (txn, self->reconciliation, &k, &v);
    if (rc == 0)
        rc = s_reconciliation_decode (&v, reconciliation);
    else
        rc = rc == MDB_NOTFOUND? CP_ENOTFOUND
           : cp_lmdb_fail ("central_store", "read reconciliation", rc);
    mdb_txn_abort (txn);
    return rc;
}

//  =====================================================================
//  The figures a node checks

//  In one read transaction, a municipality's cursor and, into figures, the
//  digests of its month rows (only when its node is caught up, so that it
//  can compare them), or, into rows, the rows of the months rows names.
static int
s_municipality_rows (central_store_t *self, int municipality, central_cursor_t *cursor,
                     cp_month_digests_t *figures, cp_month_rows_t *rows)
{
    assert (municipality >= 0 && municipality < self->municipalities);
    memset (cursor, 0, sizeof *cursor);
    MDB_txn *txn;
    int rc = cp_lmdb_begin (self->env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = s_cursor_read (self, txn, municipality, cursor);
    uint8_t prefix [S_SCOPE_SIZE];
    s_scope_prefix (prefix, CP_SCOPE_MUNICIPALITY, municipality);
    if (rc == 0 && figures && cursor->acked == cursor->head && cursor->acked > 0)
        rc = cp_store_months_figures (&s_kind, txn, self->months, prefix, sizeof prefix,
                                      figures);
    if (rc == 0 && rows)
        rc = cp_store_months_rows (&s_kind, txn, self->months, prefix, sizeof prefix, rows);
    mdb_txn_abort (txn);
    return rc;
}

int
central_store_figures (central_store_t *self, int municipality, uint64_t *head,
                       cp_month_digests_t *figures)
{
    figures->count = 0;
    central_cursor_t cursor;
    int rc = s_municipality_rows (self, municipality, &cursor, figures, NULL);
    figures->as_of = cursor.acked;
    *head = cursor.head;
    return rc;
}

int
central_store_month_rows (central_store_t *self, int municipality, cp_month_rows_t *rows)
{
    central_cursor_t cursor;
    int rc = s_municipality_rows (self, municipality, &cursor, NULL, rows);
    rows->as_of = cursor.acked;
    return rc;
}
