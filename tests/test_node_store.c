/*  test_node_store: the node's LMDB store, driven through node_store.h.

    Every test works in its own temporary directory (made with mkdtemp under
    $CPSYNC_TEST_TMP, default /tmp, and removed at its end).  Setting up and
    opening a node, the index key file, and the semantics of appending: a
    line whose id is already stored or already appended is a duplicate, and
    the first line of an id that passes the rules wins, even when an earlier
    line of that id was rejected.  Those semantics are checked against a
    model that applies the rules of cp_case line by line, on a seeded random
    mix of valid, invalid and duplicate events, through node_store_append
    one by one and through node_store_append_many with and without a key
    order; the stores must end byte-identical in log, view and outcomes.
    Then abort, a map too small for one transaction (CP_EMAPFULL, grown,
    redone), reading the log in batches, the acknowledged cursor, and the
    confidentiality of the indexes: the LMDB environment is opened directly
    and no key of any database holds an event id or a case pseudonym.
    Last, case data at rest: after imports with known ids, pseudonyms and
    records, no byte of the node's directory (but its keys) holds any of
    them; values moved to another record, another node's data key, a key
    file others may read, a missing key and a store of the old, unsealed
    format are each refused cleanly.                                        */

#define _GNU_SOURCE                     //  memmem, open_memstream, mkdtemp, nftw

#include "cp_case.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_seal.h"
#include "cp_store.h"
#include "cp_view.h"
#include "node_import.h"
#include "node_store.h"
#include "testing.h"
#include "testing_store.h"

#include <assert.h>
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  =====================================================================
//  Temporary directories

static int
s_remove_one (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info; (void) flag; (void) ftw;
    return remove (path);
}

//  Makes a fresh directory under $CPSYNC_TEST_TMP (or /tmp) into path.
//  Every test starts here, so libsodium is initialised here too.
static void
s_dir_new (char *path, size_t size)
{
    //  The index key lives in sodium_malloc'd memory, which needs this first.
    if (sodium_init () < 0) {
        fprintf (stderr, "  libsodium does not initialise\n");
        exit (1);
    }
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (path, size, "%s/test_node_store.XXXXXX", base && *base? base: "/tmp");
    if (!mkdtemp (path)) {
        fprintf (stderr, "  cannot make a directory in %s\n", path);
        exit (1);
    }
}

static void
s_dir_remove (const char *path)
{
    nftw (path, s_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

//  Sets up a node for municipality 11 (catalogue 1) in dir/name, opens it.
static node_store_t *
s_node_new (const char *dir, const char *name, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", dir, name);
    int rc = node_store_create (path, "11", 1);
    if (rc) {
        fprintf (stderr, "  node_store_create %s: %s\n", path, cp_strerror (rc));
        exit (1);
    }
    int error = 0;
    node_store_t *store = node_store_open (path, &error);
    if (!store) {
        fprintf (stderr, "  node_store_open %s: %s\n", path, cp_strerror (error));
        exit (1);
    }
    return store;
}

//  =====================================================================
//  Events

//  Reads a JSON line (printf format) into a new, prepared entry; the line
//  must be valid as far as cp_event goes (the history rules are the store's).
static node_store_entry_t *
s_entry (node_store_t *store, const char *format, ...)
{
    char line [1024], why [256];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    node_store_entry_t *entry = calloc (1, sizeof (node_store_entry_t));
    assert (entry);
    if (cp_event_from_json (line, strlen (line), node_store_catalogue (store),
                            cp_date_from_civil (2099, 12, 31), &entry->event, why, sizeof why)) {
        fprintf (stderr, "  test line does not parse: %s: %s\n", line, why);
        exit (1);
    }
    node_store_prepare (store, entry);
    return entry;
}

#define OPENED(store, id, name, date) \
    s_entry ((store), "{\"id\":\"%s\",\"type\":\"case_opened\",\"case\":\"%s\"," \
             "\"date\":\"%s\",\"age\":7,\"sex\":\"F\",\"ethnicity\":\"roma\"," \
             "\"referral\":\"police\"}", (id), (name), (date))
#define VISIT(store, id, name, date) \
    s_entry ((store), "{\"id\":\"%s\",\"type\":\"home_visit\",\"case\":\"%s\"," \
             "\"date\":\"%s\"}", (id), (name), (date))
#define RISK(store, id, name, date, level) \
    s_entry ((store), "{\"id\":\"%s\",\"type\":\"risk_assessed\",\"case\":\"%s\"," \
             "\"date\":\"%s\",\"level\":\"%s\"}", (id), (name), (date), (level))

static void
s_entries_free (node_store_entry_t **entries, size_t count)
{
    for (size_t index = 0; index < count; index++)
        free (entries [index]);
}

//  Begins, appends entries in one call, commits; outcomes into outcomes.
static void
s_append_committed (node_store_t *store, node_store_entry_t **entries, size_t count,
                    int *outcomes)
{
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_many (store, entries, count, NULL, outcomes, NULL, 0), 0);
    CHECK_EQ_INT (node_store_commit (store), 0);
}

static uint64_t
s_head (node_store_t *store)
{
    uint64_t head = 0, acked = 0, cases = 0;
    CHECK_EQ_INT (node_store_counts (store, &head, &acked, &cases), 0);
    return head;
}

static uint64_t
s_cases (node_store_t *store)
{
    uint64_t head = 0, acked = 0, cases = 0;
    CHECK_EQ_INT (node_store_counts (store, &head, &acked, &cases), 0);
    return cases;
}

//  The JSON view of a period (malloc'd text; caller frees).
static char *
s_view_json (node_store_t *store, const char *name)
{
    cp_period_t period;
    if (cp_period_parse (name, &period))
        return strdup ("(bad period)");
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, &period, "municipality:11");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    assert (out);
    int rc = node_store_view (store, view);
    CHECK_EQ_INT (rc, 0);
    if (rc == 0) {
        const cp_catalogue_t *catalogue = node_store_catalogue (store);
        cp_view_figures (view, catalogue, cp_catalogue_version (catalogue), figures);
        cp_view_print_json (view, figures, catalogue, out);
    }
    fclose (out);
    free (view);
    free (figures);
    return text;
}

//  The whole log from sequence 1 as one buffer of batches (caller frees).
static char *
s_log_bytes (node_store_t *store, size_t *total)
{
    char *text = NULL;
    FILE *out = open_memstream (&text, total);
    assert (out);
    uint64_t first = 1;
    for (;;) {
        uint8_t *payload = NULL;
        size_t size = 0;
        uint64_t last = 0;
        int rc = node_store_read_batch (store, first, 1000, 1 << 20, &payload, &size, &last);
        CHECK_EQ_INT (rc, 0);
        if (rc || !payload)
            break;
        fwrite (payload, 1, size, out);
        free (payload);
        first = last + 1;
    }
    fclose (out);
    return text;
}

//  Decodes the whole log into events (caller frees), *count of them.
static cp_event_t *
s_log_events (node_store_t *store, size_t *count)
{
    cp_event_t *all = NULL;
    *count = 0;
    uint64_t first = 1;
    for (;;) {
        uint8_t *payload = NULL;
        size_t size = 0;
        uint64_t last = 0, seq = 0;
        if (node_store_read_batch (store, first, 500, 1 << 20, &payload, &size, &last)
        ||  !payload)
            break;
        cp_event_t *events = NULL;
        size_t got = 0;
        int rc = cp_codec_batch_decode (payload, size, &seq, &events, &got);
        CHECK_EQ_INT (rc, 0);
        free (payload);
        if (rc)
            break;
        CHECK_EQ_INT (seq, first);
        CHECK_EQ_INT (got, last - first + 1);
        all = realloc (all, (*count + got) * sizeof (cp_event_t));
        assert (all);
        memcpy (all + *count, events, got * sizeof (cp_event_t));
        *count += got;
        free (events);
        first = last + 1;
    }
    return all;
}

//  =====================================================================
//  Setting up and opening

static void
test_create_open (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    snprintf (path, sizeof path, "%s/node", dir);
    CHECK_EQ_INT (node_store_create (path, "11", 1), 0);
    int error = 0;
    node_store_t *store = node_store_open (path, &error);
    CHECK (store);
    if (store) {
        CHECK (strcmp (node_store_municipality (store), "11") == 0);
        CHECK_EQ_INT (cp_catalogue_version (node_store_catalogue (store)), 1);
        uint64_t head = 9, acked = 9, cases = 9;
        CHECK_EQ_INT (node_store_counts (store, &head, &acked, &cases), 0);
        CHECK_EQ_INT (head, 0);
        CHECK_EQ_INT (acked, 0);
        CHECK_EQ_INT (cases, 0);
        char buf [64];
        CHECK_EQ_INT (node_store_setting (store, "central", buf, sizeof buf), -1);
        CHECK_EQ_INT (node_store_set_setting (store, "central", "tcp://127.0.0.1:7400"), 0);
        CHECK_EQ_INT (node_store_setting (store, "central", buf, sizeof buf), 0);
        CHECK (strcmp (buf, "tcp://127.0.0.1:7400") == 0);
        CHECK_EQ_INT (node_store_setting (store, "central", buf, 5), -1);
        node_store_destroy (&store);
        CHECK (store == NULL);
        node_store_destroy (&store);        //  safe twice
    }
    //  A second create over it: refused, and the node is unchanged.
    CHECK_EQ_INT (node_store_create (path, "12", 1), CP_EEXISTS);
    CHECK_EQ_INT (node_store_create (path, "11", 1), CP_EEXISTS);
    store = node_store_open (path, &error);
    CHECK (store && strcmp (node_store_municipality (store), "11") == 0);
    node_store_destroy (&store);
    //  A catalogue there is none of.
    snprintf (path, sizeof path, "%s/node99", dir);
    CHECK_EQ_INT (node_store_create (path, "11", 99), CP_ECATALOGUE);
    //  Catalogue 2: both versions stored, the active one is 2.
    snprintf (path, sizeof path, "%s/node2", dir);
    CHECK_EQ_INT (node_store_create (path, "11", 2), 0);
    store = node_store_open (path, &error);
    CHECK (store && cp_catalogue_version (node_store_catalogue (store)) == 2);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

static void
test_not_a_node (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    //  An empty directory: not a node, and nothing is made in it.
    int error = 0;
    node_store_t *store = node_store_open (dir, &error);
    CHECK (store == NULL);
    CHECK_EQ_INT (error, CP_ENOTNODE);
    struct stat info;
    snprintf (path, sizeof path, "%s/store", dir);
    CHECK (stat (path, &info) != 0);
    snprintf (path, sizeof path, "%s/keys", dir);
    CHECK (stat (path, &info) != 0);
    //  A directory that does not exist is not made.
    snprintf (path, sizeof path, "%s/nowhere", dir);
    error = 0;
    store = node_store_open (path, &error);
    CHECK (store == NULL);
    CHECK_EQ_INT (error, CP_ENOTNODE);
    CHECK (stat (path, &info) != 0);
    //  A node whose index key is gone cannot be opened.
    snprintf (path, sizeof path, "%s/nokey", dir);
    CHECK_EQ_INT (node_store_create (path, "11", 1), 0);
    char key [700];
    snprintf (key, sizeof key, "%s/keys/index.key", path);
    CHECK_EQ_INT (unlink (key), 0);
    error = 0;
    store = node_store_open (path, &error);
    CHECK (store == NULL);
    CHECK_EQ_INT (error, CP_ENOTNODE);
    //  A data file that is not LMDB's: refused with an error, no crash.
    snprintf (path, sizeof path, "%s/junk", dir);
    CHECK_EQ_INT (mkdir (path, 0700), 0);
    snprintf (path, sizeof path, "%s/junk/store", dir);
    CHECK_EQ_INT (mkdir (path, 0700), 0);
    snprintf (path, sizeof path, "%s/junk/store/data.mdb", dir);
    FILE *file = fopen (path, "wb");
    CHECK (file);
    for (int index = 0; file && index < 3 * 4096; index++)
        fputc ("not lmdb"[index % 8], file);
    if (file)
        fclose (file);
    snprintf (path, sizeof path, "%s/junk", dir);
    error = 0;
    store = node_store_open (path, &error);
    CHECK (store == NULL);
    CHECK (error != 0);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

static void
test_index_key_file (void)
{
    char dir [512], path [600], file [700];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    node_store_destroy (&store);
    struct stat info;
    snprintf (file, sizeof file, "%s/keys/index.key", path);
    CHECK_EQ_INT (stat (file, &info), 0);
    CHECK (S_ISREG (info.st_mode));
    CHECK_EQ_INT (info.st_mode & 07777, 0600);
    CHECK_EQ_INT (info.st_size, CP_INDEX_KEY_SIZE);
    CHECK_EQ_INT (info.st_size, 32);
    //  The data key beside it: 32 bytes, 0600, another key.
    snprintf (file, sizeof file, "%s/keys/data.key", path);
    CHECK_EQ_INT (stat (file, &info), 0);
    CHECK (S_ISREG (info.st_mode));
    CHECK_EQ_INT (info.st_mode & 07777, 0600);
    CHECK_EQ_INT (info.st_size, CP_SEAL_KEY_SIZE);
    uint8_t *data_key = NULL, *index_key = cp_index_key_load (path);
    CHECK_EQ_INT (cp_keyfile_read (file, CP_SEAL_KEY_SIZE, &data_key), 0);
    CHECK (data_key && index_key && memcmp (data_key, index_key, 32) != 0);
    cp_keyfile_free (&data_key);
    cp_index_key_destroy (&index_key);
    snprintf (file, sizeof file, "%s/keys", path);
    CHECK_EQ_INT (stat (file, &info), 0);
    CHECK (S_ISDIR (info.st_mode));
    CHECK_EQ_INT (info.st_mode & 07777, 0700);
    //  The data directory itself is private too.
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK_EQ_INT (info.st_mode & 077, 0);
    //  Two nodes get two keys: the same id indexes differently.
    char other [600];
    node_store_t *one = s_node_new (dir, "one", path, sizeof path);
    node_store_t *two = s_node_new (dir, "two", other, sizeof other);
    node_store_entry_t *a = VISIT (one, "same-id", "same-case", "2022-01-01");
    node_store_entry_t *b = VISIT (two, "same-id", "same-case", "2022-01-01");
    CHECK (memcmp (a->id_key, b->id_key, NODE_STORE_HASH_SIZE) != 0);
    CHECK (memcmp (a->case_key, b->case_key, NODE_STORE_HASH_SIZE) != 0);
    //  Within one node the hash is a function of the text.
    node_store_entry_t *c = VISIT (one, "same-id", "other-case", "2022-02-01");
    CHECK (memcmp (a->id_key, c->id_key, NODE_STORE_HASH_SIZE) == 0);
    CHECK (memcmp (a->case_key, c->case_key, NODE_STORE_HASH_SIZE) != 0);
    free (a);
    free (b);
    free (c);
    node_store_destroy (&one);
    node_store_destroy (&two);
    s_dir_remove (dir);
}

//  =====================================================================
//  Appending: duplicates and the first line that passes

//  (a) The same id twice in one call: the first is appended.
static void
test_same_id_in_one_call (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    node_store_entry_t *entries [] = {
        OPENED (store, "x", "c1", "2022-03-01"),
        VISIT (store, "x", "c1", "2022-03-02"),         //  valid, but its id is taken
        OPENED (store, "y", "c2", "2022-03-01"),
        OPENED (store, "y", "c3", "2022-03-01"),        //  would open another case
        VISIT (store, "x", "c1", "2022-03-03"),
    };
    size_t count = sizeof entries / sizeof entries [0];
    int outcomes [5] = {-1, -1, -1, -1, -1};
    char whys [5][128];
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_many (store, entries, count, NULL, outcomes,
                                          &whys [0][0], sizeof whys [0]), 0);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (outcomes [0], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [1], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (outcomes [2], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [3], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (outcomes [4], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (s_head (store), 2);
    CHECK_EQ_INT (s_cases (store), 2);      //  c3 was never opened
    char *json = s_view_json (store, "2022");
    CHECK_STR_CONTAINS (json, "\"new\": 2");
    CHECK_STR_CONTAINS (json, "\"home_visits\": 0");
    free (json);
    s_entries_free (entries, count);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

//  (b) The first line of an id is rejected by a rule: a later valid line
//  with that id is appended, and after it the id is taken.
static void
test_rejected_then_valid (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    node_store_entry_t *entries [] = {
        RISK (store, "r", "c1", "2022-03-02", "high"),  //  c1 is not opened yet
        OPENED (store, "o", "c1", "2022-03-01"),
        RISK (store, "r", "c1", "2022-03-03", "low"),   //  now valid: it wins
        RISK (store, "r", "c1", "2022-03-04", "medium"),
        VISIT (store, "v", "c9", "2022-03-05"),         //  rejected twice
        VISIT (store, "v", "c9", "2022-03-06"),
    };
    size_t count = sizeof entries / sizeof entries [0];
    int outcomes [6];
    char whys [6][128];
    memset (whys, 0, sizeof whys);
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_many (store, entries, count, NULL, outcomes,
                                          &whys [0][0], sizeof whys [0]), 0);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (outcomes [0], CP_EUNKNOWNCASE);
    CHECK_STR_CONTAINS (whys [0], "case");
    CHECK_EQ_INT (outcomes [1], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [2], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [3], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (outcomes [4], CP_EUNKNOWNCASE);
    CHECK_EQ_INT (outcomes [5], CP_EUNKNOWNCASE);
    CHECK_EQ_INT (s_head (store), 2);
    //  The log holds the open and the later risk line (level low), in order.
    size_t logged = 0;
    cp_event_t *log = s_log_events (store, &logged);
    CHECK_EQ_INT (logged, 2);
    if (logged == 2) {
        CHECK (strcmp (log [0].id, "o") == 0);
        CHECK (strcmp (log [1].id, "r") == 0);
        CHECK (strcmp (log [1].codes [0], "low") == 0);
    }
    free (log);
    char *json = s_view_json (store, "2022");
    CHECK_STR_CONTAINS (json, "\"low\": 1");
    CHECK_STR_CONTAINS (json, "\"high\": 0");
    free (json);
    //  Next call: "r" is stored; "v" was never stored, so it is still free.
    node_store_entry_t *later [] = {
        RISK (store, "r", "c1", "2022-03-05", "high"),
        VISIT (store, "v", "c1", "2022-03-06"),
    };
    int more [2];
    s_append_committed (store, later, 2, more);
    CHECK_EQ_INT (more [0], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (more [1], NODE_STORE_APPENDED);
    CHECK_EQ_INT (s_head (store), 3);
    s_entries_free (later, 2);
    s_entries_free (entries, count);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

//  (c) Ids already in the store are duplicates, whatever the line says,
//  also when the line would break a rule; through node_store_append too.
static void
test_stored_ids (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    node_store_entry_t *first [] = {
        OPENED (store, "a", "c1", "2022-01-10"),
        VISIT (store, "b", "c1", "2022-01-11"),
    };
    int outcomes [4];
    s_append_committed (store, first, 2, outcomes);
    CHECK_EQ_INT (s_head (store), 2);
    node_store_entry_t *second [] = {
        VISIT (store, "b", "c1", "2022-01-12"),         //  stored id, valid line
        VISIT (store, "a", "nobody", "2022-01-12"),     //  stored id, invalid line
        VISIT (store, "c", "c1", "2022-01-13"),         //  new
        OPENED (store, "a", "c1", "2022-01-10"),        //  the very same line again
    };
    s_append_committed (store, second, 4, outcomes);
    CHECK_EQ_INT (outcomes [0], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (outcomes [1], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (outcomes [2], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [3], NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (s_head (store), 3);
    //  One by one, after reopening.
    node_store_destroy (&store);
    int error = 0;
    store = node_store_open (path, &error);
    CHECK (store);
    if (!store)
        return;
    char why [128];
    CHECK_EQ_INT (node_store_begin (store), 0);
    for (size_t index = 0; index < 4; index++)
        node_store_prepare (store, second [index]);     //  same key: same hashes
    CHECK_EQ_INT (node_store_append (store, second [0], why, sizeof why), NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (node_store_append (store, second [2], why, sizeof why), NODE_STORE_DUPLICATE);
    node_store_entry_t *fresh = VISIT (store, "d", "c1", "2022-01-14");
    CHECK_EQ_INT (node_store_append (store, fresh, why, sizeof why), NODE_STORE_APPENDED);
    CHECK_EQ_INT (node_store_append (store, fresh, why, sizeof why), NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (s_head (store), 4);
    free (fresh);
    s_entries_free (first, 2);
    s_entries_free (second, 4);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

//  =====================================================================
//  (d), (e) One by one, in one call, with and without a key order: the
//  same outcomes as a model that applies cp_case's rules line by line.

static uint64_t s_rng_state;

static uint32_t
s_rand (uint32_t below)
{
    uint64_t x = s_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s_rng_state = x;
    return (uint32_t) ((x >> 11) % below);
}

#define S_MIX_EVENTS 4000
#define S_MIX_CASES 60
#define S_MIX_SPLIT 700                 //  the first transaction's lines

//  A random line: ids often reused, cases often not opened, dates anywhere.
static void
s_random_line (char *line, size_t size, int *next_id)
{
    static const char *const levels [] = {"low", "medium", "high", "emergency"};
    static const char *const problems [] = {"neglect", "trafficking", "other"};
    static const char *const measures [] = {"emergency_removal", "alternative_care",
                                            "specialised_supervision"};
    static const char *const schools [] = {"first_grade", "dropout_risk"};
    static const char *const reasons [] = {"adult", "death", "risk_reduced"};
    char id [32], date [16];
    if (*next_id > 1 && s_rand (3) == 0)
        snprintf (id, sizeof id, "e-%u", 1 + s_rand ((uint32_t) *next_id - 1));
    else
        snprintf (id, sizeof id, "e-%d", (*next_id)++);
    cp_date_format (cp_date_from_civil (2021, 1, 1) + (int32_t) s_rand (730), date);
    unsigned name = s_rand (S_MIX_CASES);
    unsigned kind = s_rand (20);
    int at = snprintf (line, size, "{\"id\":\"%s\",\"case\":\"c-%u\",\"date\":\"%s\",", id, name,
                       date);
    if (kind < 5)
        snprintf (line + at, size - at, "\"type\":\"case_opened\",\"age\":%u,\"sex\":\"%s\","
                  "\"ethnicity\":\"roma\",\"referral\":\"school\"}", s_rand (19),
                  s_rand (2)? "F": "M");
    else if (kind < 8)
        snprintf (line + at, size - at, "\"type\":\"risk_assessed\",\"level\":\"%s\"}",
                  levels [s_rand (4)]);
    else if (kind < 10)
        snprintf (line + at, size - at, "\"type\":\"problem_set\",\"problem\":\"%s\"}",
                  problems [s_rand (3)]);
    else if (kind < 13)
        snprintf (line + at, size - at, "\"type\":\"home_visit\"}");
    else if (kind < 15)
        snprintf (line + at, size - at, "\"type\":\"measure_taken\",\"measure\":\"%s\"}",
                  measures [s_rand (3)]);
    else if (kind < 17)
        snprintf (line + at, size - at, "\"type\":\"measure_confirmed\",\"measure\":\"%s\"}",
                  measures [s_rand (3)]);
    else if (kind < 18)
        snprintf (line + at, size - at, "\"type\":\"school_identified\",\"category\":\"%s\"}",
                  schools [s_rand (2)]);
    else
        snprintf (line + at, size - at, "\"type\":\"case_closed\",\"reason\":\"%s\"}",
                  reasons [s_rand (3)]);
}

//  The model: an id set and a cp_case per pseudonym, applied in line order.
static void
s_model (node_store_entry_t **entries, size_t count, const cp_catalogue_t *catalogue,
         int *outcomes, size_t *opened)
{
    cp_case_t cases [S_MIX_CASES];
    memset (cases, 0, sizeof cases);
    const char **taken = calloc (count, sizeof (char *));
    assert (taken);
    size_t taken_count = 0;
    *opened = 0;
    for (size_t index = 0; index < count; index++) {
        const cp_event_t *event = &entries [index]->event;
        bool duplicate = false;
        for (size_t at = 0; at < taken_count && !duplicate; at++)
            duplicate = strcmp (taken [at], event->id) == 0;
        if (duplicate) {
            outcomes [index] = NODE_STORE_DUPLICATE;
            continue;
        }
        cp_case_t *state = &cases [atoi (event->case_id + 2)];
        char why [256];
        int rc = cp_case_check (state, event, catalogue, why, sizeof why);
        if (rc == 0)
            rc = cp_case_apply (state, event, catalogue, NULL);
        if (rc == 0) {
            taken [taken_count++] = event->id;
            if (event->type == CP_EVENT_CASE_OPENED)
                (*opened)++;
        }
        outcomes [index] = rc? rc: NODE_STORE_APPENDED;
    }
    for (int index = 0; index < S_MIX_CASES; index++)
        cp_case_reset (&cases [index]);
    free (taken);
}

//  How a store is fed the lines of one transaction.
typedef enum {
    S_ONE_BY_ONE,               //  node_store_append per line
    S_MANY,                     //  one node_store_append_many, by_key NULL
    S_MANY_BY_KEY,              //  one call with node_store_order_by_key's order
    S_MANY_PIECES               //  several calls of 97 lines in the transaction
} s_feed_t;

static void
s_feed (node_store_t *store, s_feed_t feed, node_store_entry_t **entries, size_t count,
        int *outcomes, char *whys, size_t why_size)
{
    for (size_t index = 0; index < count; index++)
        node_store_prepare (store, entries [index]);
    CHECK_EQ_INT (node_store_begin (store), 0);
    if (feed == S_ONE_BY_ONE)
        for (size_t index = 0; index < count; index++)
            outcomes [index] = node_store_append (store, entries [index],
                                                  whys + index * why_size, why_size);
    else
    if (feed == S_MANY)
        CHECK_EQ_INT (node_store_append_many (store, entries, count, NULL, outcomes, whys,
                                              why_size), 0);
    else
    if (feed == S_MANY_BY_KEY) {
        uint32_t *by_key = malloc (count * sizeof (uint32_t));
        assert (by_key);
        node_store_order_by_key (entries, count, by_key);
        //  The order is a permutation sorted by id key.
        for (size_t at = 1; at < count; at++)
            CHECK (memcmp (entries [by_key [at - 1]]->id_key, entries [by_key [at]]->id_key,
                           NODE_STORE_HASH_SIZE) <= 0);
        CHECK_EQ_INT (node_store_append_many (store, entries, count, by_key, outcomes, whys,
                                              why_size), 0);
        free (by_key);
    }
    else
        for (size_t at = 0; at < count; at += 97) {
            size_t piece = count - at < 97? count - at: 97;
            CHECK_EQ_INT (node_store_append_many (store, entries + at, piece, NULL,
                                                  outcomes + at, whys + at * why_size,
                                                  why_size), 0);
        }
    CHECK_EQ_INT (node_store_commit (store), 0);
}

static void
test_one_by_one_equals_many (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    s_rng_state = 0x6370737966656e21ULL;
    node_store_t *stores [4];
    static const char *const names [4] = {"one_by_one", "many", "many_by_key", "pieces"};
    for (int feed = 0; feed < 4; feed++)
        stores [feed] = s_node_new (dir, names [feed], path, sizeof path);
    const cp_catalogue_t *catalogue = node_store_catalogue (stores [0]);

    node_store_entry_t **entries = calloc (S_MIX_EVENTS, sizeof (node_store_entry_t *));
    assert (entries);
    int next_id = 1;
    for (size_t index = 0; index < S_MIX_EVENTS; index++) {
        char line [512];
        s_random_line (line, sizeof line, &next_id);
        entries [index] = s_entry (stores [0], "%s", line);
    }
    int *model = malloc (S_MIX_EVENTS * sizeof (int));
    size_t opened = 0;
    s_model (entries, S_MIX_EVENTS, catalogue, model, &opened);

    //  The mix holds enough of every kind to mean something.
    size_t appended = 0, duplicates = 0, rejected = 0, late_winners = 0;
    for (size_t index = 0; index < S_MIX_EVENTS; index++) {
        appended += model [index] == NODE_STORE_APPENDED;
        duplicates += model [index] == NODE_STORE_DUPLICATE;
        rejected += model [index] < 0;
        if (model [index] == NODE_STORE_APPENDED)
            for (size_t before = 0; before < index; before++)
                if (strcmp (entries [before]->event.id, entries [index]->event.id) == 0) {
                    late_winners++;     //  an earlier line of this id was rejected
                    break;
                }
    }
    CHECK (appended > 500);
    CHECK (duplicates > 300);
    CHECK (rejected > 500);
    CHECK (late_winners > 20);

    //  Each store gets the lines in two transactions, fed its way.
    const size_t why_size = 160;
    int *outcomes [4];
    char *whys [4];
    for (int feed = 0; feed < 4; feed++) {
        outcomes [feed] = malloc (S_MIX_EVENTS * sizeof (int));
        whys [feed] = calloc (S_MIX_EVENTS, why_size);
        assert (outcomes [feed] && whys [feed]);
        s_feed (stores [feed], feed, entries, S_MIX_SPLIT, outcomes [feed], whys [feed],
                why_size);
        s_feed (stores [feed], feed, entries + S_MIX_SPLIT, S_MIX_EVENTS - S_MIX_SPLIT,
                outcomes [feed] + S_MIX_SPLIT, whys [feed] + S_MIX_SPLIT * why_size, why_size);
    }
    for (int feed = 0; feed < 4; feed++) {
        size_t differ = 0;
        for (size_t index = 0; index < S_MIX_EVENTS; index++) {
            if (outcomes [feed][index] == model [index])
                continue;
            if (differ++ < 5)
                fprintf (stderr, "  %s: line %zu (%s) gave %d, the model %d\n", names [feed],
                         index, entries [index]->event.id, outcomes [feed][index],
                         model [index]);
        }
        CHECK_EQ_INT (differ, 0);
        CHECK_EQ_INT (s_head (stores [feed]), appended);
        CHECK_EQ_INT (s_cases (stores [feed]), opened);
    }
    //  The reasons of rejected lines are the same however they were fed.
    for (int feed = 1; feed < 4; feed++) {
        size_t differ = 0;
        for (size_t index = 0; index < S_MIX_EVENTS; index++)
            if (model [index] < 0
            &&  strcmp (whys [0] + index * why_size, whys [feed] + index * why_size))
                differ++;
        CHECK_EQ_INT (differ, 0);
    }
    //  Logs are byte-identical and hold the model's appended lines in order.
    size_t sizes [4];
    char *logs [4];
    for (int feed = 0; feed < 4; feed++)
        logs [feed] = s_log_bytes (stores [feed], &sizes [feed]);
    for (int feed = 1; feed < 4; feed++)
        CHECK (sizes [feed] == sizes [0] && memcmp (logs [feed], logs [0], sizes [0]) == 0);
    size_t logged = 0;
    cp_event_t *log = s_log_events (stores [2], &logged);
    CHECK_EQ_INT (logged, appended);
    for (size_t index = 0, at = 0; index < S_MIX_EVENTS && at < logged; index++)
        if (model [index] == NODE_STORE_APPENDED) {
            CHECK (strcmp (log [at].id, entries [index]->event.id) == 0);
            CHECK (log [at].date == entries [index]->event.date);
            at++;
        }
    free (log);
    //  Views of years and quarters are byte-identical.
    static const char *const periods [] = {"2021", "2022", "2021-Q2", "2022-Q4", "2023"};
    for (size_t period = 0; period < sizeof periods / sizeof periods [0]; period++) {
        char *first = s_view_json (stores [0], periods [period]);
        for (int feed = 1; feed < 4; feed++) {
            char *other = s_view_json (stores [feed], periods [period]);
            CHECK (first && other && strcmp (first, other) == 0);
            free (other);
        }
        free (first);
    }
    for (int feed = 0; feed < 4; feed++) {
        free (logs [feed]);
        free (outcomes [feed]);
        free (whys [feed]);
        node_store_destroy (&stores [feed]);
    }
    free (model);
    s_entries_free (entries, S_MIX_EVENTS);
    free (entries);
    s_dir_remove (dir);
}

//  An empty call changes nothing.
static void
test_append_nothing (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    int outcome = 12345;
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_many (store, NULL, 0, NULL, &outcome, NULL, 0), 0);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (outcome, 12345);
    CHECK_EQ_INT (s_head (store), 0);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

//  =====================================================================
//  Abort, and a map too small for a transaction

static void
test_abort (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    node_store_entry_t *kept [] = {
        OPENED (store, "k1", "c1", "2022-01-10"),
        VISIT (store, "k2", "c1", "2022-01-11"),
    };
    int outcomes [3];
    s_append_committed (store, kept, 2, outcomes);
    char *before = s_view_json (store, "2022");
    node_store_entry_t *dropped [] = {
        OPENED (store, "d1", "c2", "2022-02-10"),
        VISIT (store, "d2", "c1", "2022-02-11"),
        RISK (store, "d3", "c2", "2022-02-12", "high"),
    };
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_many (store, dropped, 3, NULL, outcomes, NULL, 0), 0);
    CHECK_EQ_INT (outcomes [0], NODE_STORE_APPENDED);
    node_store_abort (store);
    node_store_abort (store);                       //  nothing open: harmless
    CHECK_EQ_INT (s_head (store), 2);
    CHECK_EQ_INT (s_cases (store), 1);
    char *after = s_view_json (store, "2022");
    CHECK (before && after && strcmp (before, after) == 0);
    //  The ids are free and c2 is not opened: the same lines append again.
    s_append_committed (store, dropped, 3, outcomes);
    CHECK_EQ_INT (outcomes [0], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [1], NODE_STORE_APPENDED);
    CHECK_EQ_INT (outcomes [2], NODE_STORE_APPENDED);
    CHECK_EQ_INT (s_head (store), 5);
    CHECK_EQ_INT (s_cases (store), 2);
    free (before);
    free (after);
    s_entries_free (kept, 2);
    s_entries_free (dropped, 3);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

#define S_SMALL_MAP "262144"

//  Builds count openings of distinct cases (caller frees).
static node_store_entry_t **
s_openings (node_store_t *store, size_t count)
{
    node_store_entry_t **entries = calloc (count, sizeof (node_store_entry_t *));
    assert (entries);
    for (size_t index = 0; index < count; index++) {
        char id [32], name [32];
        snprintf (id, sizeof id, "open-%zu", index);
        snprintf (name, sizeof name, "case-%zu", index);
        entries [index] = OPENED (store, id, name, "2022-06-01");
    }
    return entries;
}

//  One transaction of count openings in a fresh node of a small map.
//  Returns what node_store_append_many returned; *commit_rc what commit did
//  (1 when it was not called).  The node stays open in *store_p.
static int
s_small_map_try (const char *dir, size_t count, node_store_entry_t **entries,
                 node_store_t **store_p, int *commit_rc)
{
    static int serial = 0;
    char name [32], path [600];
    snprintf (name, sizeof name, "small%d", serial++);
    setenv ("CPSYNC_MAPSIZE", S_SMALL_MAP, 1);
    node_store_t *store = s_node_new (dir, name, path, sizeof path);
    unsetenv ("CPSYNC_MAPSIZE");
    for (size_t index = 0; index < count; index++)
        node_store_prepare (store, entries [index]);
    int *outcomes = malloc (count * sizeof (int));
    assert (outcomes);
    *commit_rc = 1;
    CHECK_EQ_INT (node_store_begin (store), 0);
    int rc = node_store_append_many (store, entries, count, NULL, outcomes, NULL, 0);
    if (rc)
        node_store_abort (store);
    else
        *commit_rc = node_store_commit (store);
    free (outcomes);
    *store_p = store;
    return rc;
}

//  Redoes the transaction until it commits (the map grows each time).
static void
s_redo (node_store_t *store, node_store_entry_t **entries, size_t count)
{
    int *outcomes = malloc (count * sizeof (int));
    assert (outcomes);
    int rc = CP_EMAPFULL, tries = 0;
    while (rc == CP_EMAPFULL && tries++ < 12) {
        CHECK_EQ_INT (node_store_begin (store), 0);
        rc = node_store_append_many (store, entries, count, NULL, outcomes, NULL, 0);
        if (rc == 0)
            rc = node_store_commit (store);
        else
            node_store_abort (store);
        if (rc && rc != CP_EMAPFULL)
            fprintf (stderr, "  redo: %s\n", cp_strerror (rc));
    }
    CHECK_EQ_INT (rc, 0);
    size_t appended = 0;
    for (size_t index = 0; rc == 0 && index < count; index++)
        appended += outcomes [index] == NODE_STORE_APPENDED;
    CHECK_EQ_INT (appended, count);
    free (outcomes);
}

static void
test_map_full (void)
{
    char dir [512], path [700];
    s_dir_new (dir, sizeof dir);
    setenv ("CPSYNC_MAPSIZE", S_SMALL_MAP, 1);
    node_store_t *probe = s_node_new (dir, "probe", path, sizeof path);
    unsetenv ("CPSYNC_MAPSIZE");
    const size_t most = 40000;
    node_store_entry_t **entries = s_openings (probe, most);
    node_store_destroy (&probe);

    //  Far too many for the map: the appends themselves find it full.
    node_store_t *store = NULL;
    int commit_rc;
    CHECK_EQ_INT (s_small_map_try (dir, most, entries, &store, &commit_rc), CP_EMAPFULL);
    CHECK_EQ_INT (s_head (store), 0);
    CHECK_EQ_INT (s_cases (store), 0);
    s_redo (store, entries, most);
    CHECK_EQ_INT (s_head (store), most);
    CHECK_EQ_INT (s_cases (store), most);
    char *grown = s_view_json (store, "2022");
    CHECK_STR_CONTAINS (grown, "\"new\": 40000");
    node_store_destroy (&store);
    snprintf (path, sizeof path, "%s/small0/store/data.mdb", dir);
    struct stat info;
    CHECK (stat (path, &info) == 0 && info.st_size > 262144);

    //  The most openings whose appends fit: then the cases and rows that
    //  commit writes do not, and commit says CP_EMAPFULL.
    size_t low = 1, high = most;        //  appends of low fit, of high do not
    while (high - low > 1) {
        size_t middle = (low + high) / 2;
        int rc = s_small_map_try (dir, middle, entries, &store, &commit_rc);
        node_store_destroy (&store);
        if (rc == 0)
            low = middle;
        else
            high = middle;
    }
    CHECK_EQ_INT (s_small_map_try (dir, low, entries, &store, &commit_rc), 0);
    CHECK_EQ_INT (commit_rc, CP_EMAPFULL);
    CHECK_EQ_INT (s_head (store), 0);
    CHECK_EQ_INT (s_cases (store), 0);
    s_redo (store, entries, low);
    CHECK_EQ_INT (s_head (store), low);
    CHECK_EQ_INT (s_cases (store), low);
    //  The same view as a roomy node that took the same lines.
    node_store_t *roomy = s_node_new (dir, "roomy", path, sizeof path);
    s_redo (roomy, entries, low);
    char *small_view = s_view_json (store, "2022"), *roomy_view = s_view_json (roomy, "2022");
    CHECK (small_view && roomy_view && strcmp (small_view, roomy_view) == 0);
    //  Later appends to the grown node go on from the head.  The map was
    //  grown just enough for the redo (sealed values fill it to the brim),
    //  so this one may find it full and grow again too.
    node_store_entry_t *next = VISIT (store, "after-growth", "case-0", "2022-07-01");
    s_redo (store, &next, 1);
    CHECK_EQ_INT (s_head (store), low + 1);
    free (next);
    free (small_view);
    free (roomy_view);
    free (grown);
    node_store_destroy (&roomy);
    node_store_destroy (&store);
    s_entries_free (entries, most);
    free (entries);
    s_dir_remove (dir);
}

//  =====================================================================
//  Reading the log, the acknowledged cursor

static void
test_read_batch (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    uint8_t *payload = (uint8_t *) "x";
    size_t size = 7;
    uint64_t last = 77;
    //  An empty log.
    CHECK_EQ_INT (node_store_read_batch (store, 1, 10, 1 << 20, &payload, &size, &last), 0);
    CHECK (payload == NULL);
    CHECK_EQ_INT (size, 0);

    node_store_entry_t *entries [100];
    for (int index = 0; index < 100; index++) {
        char id [32], name [32];
        snprintf (id, sizeof id, "b-%d", index);
        snprintf (name, sizeof name, "bc-%d", index / 2);
        entries [index] = index % 2 == 0? OPENED (store, id, name, "2022-02-01")
                                        : VISIT (store, id, name, "2022-02-02");
    }
    int outcomes [100];
    s_append_committed (store, entries, 100, outcomes);
    CHECK_EQ_INT (s_head (store), 100);

    //  By events: from 1, from the middle, at the end, past the head.
    static const struct {
        uint64_t first;
        size_t max_events;
        uint64_t last;          //  0: nothing
    } cases [] = {{1, 10, 10}, {1, 1, 1}, {95, 10, 100}, {100, 10, 100}, {42, 100, 100},
                  {101, 10, 0}, {1000, 10, 0}};
    for (size_t at = 0; at < sizeof cases / sizeof cases [0]; at++) {
        payload = NULL;
        last = 0;
        int rc = node_store_read_batch (store, cases [at].first, cases [at].max_events, 1 << 20,
                                        &payload, &size, &last);
        CHECK_EQ_INT (rc, 0);
        if (cases [at].last == 0) {
            CHECK (payload == NULL);
            continue;
        }
        CHECK (payload != NULL);
        CHECK_EQ_INT (last, cases [at].last);
        uint64_t seq = 0;
        cp_event_t *events = NULL;
        size_t count = 0;
        CHECK_EQ_INT (cp_codec_batch_decode (payload, size, &seq, &events, &count), 0);
        CHECK_EQ_INT (seq, cases [at].first);
        CHECK_EQ_INT (count, cases [at].last - cases [at].first + 1);
        for (size_t index = 0; events && index < count; index++)
            CHECK (strcmp (events [index].id, entries [seq - 1 + index]->event.id) == 0);
        free (events);
        free (payload);
    }
    //  By bytes: always one event, never much over the limit, and batches
    //  that follow each other cover the log once.
    payload = NULL;
    CHECK_EQ_INT (node_store_read_batch (store, 1, 100, 1, &payload, &size, &last), 0);
    CHECK_EQ_INT (last, 1);
    free (payload);
    static const size_t limits [] = {1, 100, 300, 1000, 1 << 20};
    for (size_t at = 0; at < sizeof limits / sizeof limits [0]; at++) {
        uint64_t first = 1, seen = 0;
        size_t batches = 0;
        for (;;) {
            payload = NULL;
            if (node_store_read_batch (store, first, 100, limits [at], &payload, &size, &last)
            ||  !payload)
                break;
            batches++;
            CHECK (size <= limits [at] + CP_CODEC_EVENT_MAX + 32);
            uint64_t seq = 0;
            cp_event_t *events = NULL;
            size_t count = 0;
            CHECK_EQ_INT (cp_codec_batch_decode (payload, size, &seq, &events, &count), 0);
            CHECK_EQ_INT (seq, first);
            CHECK (count >= 1 && last == first + count - 1);
            for (size_t index = 0; events && index < count; index++)
                CHECK (strcmp (events [index].id, entries [seq - 1 + index]->event.id) == 0);
            seen += count;
            free (events);
            free (payload);
            first = last + 1;
        }
        CHECK_EQ_INT (seen, 100);
        if (limits [at] <= 300)
            CHECK (batches > 5);
        if (limits [at] == 1)
            CHECK_EQ_INT (batches, 100);
        if (limits [at] == 1 << 20)
            CHECK_EQ_INT (batches, 1);
    }
    s_entries_free (entries, 100);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

//  An event of the node's own kinds: logged with the next sequence in a
//  block of its own, taken once by id, in no case and no month row.
static void
test_append_own (void)
{
    char dir [256], path [512];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "own", path, sizeof path);
    node_store_entry_t *opened = OPENED (store, "e1", "c1", "2022-05-01");
    int outcome;
    s_append_committed (store, &opened, 1, &outcome);
    CHECK_EQ_INT (outcome, NODE_STORE_APPENDED);

    cp_event_t receipt;
    memset (&receipt, 0, sizeof receipt);
    receipt.type = CP_EVENT_DIRECTIVE_RECEIVED;
    strcpy (receipt.id, "n-dr-7");
    receipt.date = cp_date_from_civil (2022, 5, 2);
    receipt.entry = 7;
    char why [256] = "";
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_own (store, &receipt, why, sizeof why), NODE_STORE_APPENDED);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (s_head (store), 2);
    CHECK_EQ_INT (s_cases (store), 1);
    //  The same report again (a node that takes the entry again): nothing.
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_own (store, &receipt, why, sizeof why),
                  NODE_STORE_DUPLICATE);
    cp_event_t bad = receipt;
    strcpy (bad.id, "n-dr-0");
    bad.entry = 0;
    CHECK_EQ_INT (node_store_append_own (store, &bad, why, sizeof why), CP_EBADID);
    CHECK_STR_CONTAINS (why, "names no downlink entry");
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (s_head (store), 2);

    //  Read back as the central will: the case event, then the receipt.
    uint8_t *payload = NULL;
    size_t size = 0;
    uint64_t last = 0, first = 0;
    CHECK_EQ_INT (node_store_read_batch (store, 1, 16, 1 << 20, &payload, &size, &last), 0);
    CHECK_EQ_INT (last, 2);
    cp_event_t *events = NULL;
    size_t count = 0;
    if (payload) {
        CHECK_EQ_INT (cp_codec_batch_decode (payload, size, &first, &events, &count), 0);
        CHECK_EQ_INT (count, 2);
        if (count == 2) {
            CHECK_EQ_INT (events [1].type, CP_EVENT_DIRECTIVE_RECEIVED);
            CHECK_EQ_INT (events [1].entry, 7);
            CHECK (strcmp (events [1].id, "n-dr-7") == 0);
        }
    }
    free (events);
    free (payload);
    char *view = s_view_json (store, "2022");
    CHECK_STR_CONTAINS (view, "\"new\": 1,");
    CHECK_STR_CONTAINS (view, "\"managed\": 1,");
    free (view);
    s_entries_free (&opened, 1);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

//  A staff_set: logged like any own event, and kept in the node's staffing
//  by the day it takes effect, oldest first; a later set for a day replaces
//  it; a set refused by the limits, or a duplicate, leaves it alone.
static cp_event_t
s_staff_set (const char *id, const char *date, uint32_t workers, uint32_t children)
{
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = CP_EVENT_STAFF_SET;
    snprintf (event.id, sizeof event.id, "%s", id);
    CHECK_EQ_INT (cp_date_parse (date, strlen (date), &event.date), 0);
    event.workers = workers;
    event.children = children;
    return event;
}

static void
test_staffing (void)
{
    char dir [256], path [512];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "staff", path, sizeof path);
    node_staffing_t items [8];
    size_t count = 99;
    CHECK_EQ_INT (node_store_staffing_history (store, items, 8, &count), 0);
    CHECK_EQ_INT (count, 0);

    cp_event_t later = s_staff_set ("n-ss-2", "2022-07-01", 5, 16000);
    cp_event_t earlier = s_staff_set ("n-ss-1", "2022-01-01", 4, 15000);
    cp_event_t again = s_staff_set ("n-ss-3", "2022-07-01", 6, 16100);
    cp_event_t absurd = s_staff_set ("n-ss-4", "2022-03-01", 10001, 15000);
    char why [256] = "";
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_own (store, &later, why, sizeof why), NODE_STORE_APPENDED);
    CHECK_EQ_INT (node_store_append_own (store, &earlier, why, sizeof why),
                  NODE_STORE_APPENDED);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (node_store_staffing_history (store, items, 8, &count), 0);
    CHECK_EQ_INT (count, 2);
    if (count == 2) {
        CHECK_EQ_INT (items [0].date, cp_date_from_civil (2022, 1, 1));
        CHECK_EQ_INT (items [0].workers, 4);
        CHECK_EQ_INT (items [0].children, 15000);
        CHECK_EQ_INT (items [1].date, cp_date_from_civil (2022, 7, 1));
        CHECK_EQ_INT (items [1].workers, 5);
        CHECK_EQ_INT (items [1].children, 16000);
    }
    CHECK_EQ_INT (node_store_begin (store), 0);
    CHECK_EQ_INT (node_store_append_own (store, &absurd, why, sizeof why), CP_EBADVALUE);
    CHECK_STR_CONTAINS (why, "workers: 10001 is over 10000");
    CHECK_EQ_INT (node_store_append_own (store, &again, why, sizeof why), NODE_STORE_APPENDED);
    cp_event_t resent = earlier;
    resent.workers = 1;         //  an id stored already: a duplicate, no effect
    CHECK_EQ_INT (node_store_append_own (store, &resent, why, sizeof why),
                  NODE_STORE_DUPLICATE);
    CHECK_EQ_INT (node_store_commit (store), 0);
    CHECK_EQ_INT (s_head (store), 3);
    CHECK_EQ_INT (node_store_staffing_history (store, items, 8, &count), 0);
    CHECK_EQ_INT (count, 2);
    if (count == 2) {
        CHECK_EQ_INT (items [0].workers, 4);
        CHECK_EQ_INT (items [1].workers, 6);
        CHECK_EQ_INT (items [1].children, 16100);
    }
    //  At most max.
    CHECK_EQ_INT (node_store_staffing_history (store, items, 1, &count), 0);
    CHECK_EQ_INT (count, 1);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

static void
test_set_acked (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    uint64_t head, acked, cases;
    static const struct {
        uint64_t seq, acked;
    } steps [] = {{5, 5}, {3, 5}, {0, 5}, {5, 5}, {7, 7}, {6, 7}, {1000, 1000}};
    for (size_t at = 0; at < sizeof steps / sizeof steps [0]; at++) {
        CHECK_EQ_INT (node_store_set_acked (store, steps [at].seq), 0);
        CHECK_EQ_INT (node_store_counts (store, &head, &acked, &cases), 0);
        CHECK_EQ_INT (acked, steps [at].acked);
    }
    node_store_destroy (&store);
    int error = 0;
    store = node_store_open (path, &error);
    CHECK (store);
    if (store) {
        CHECK_EQ_INT (node_store_set_acked (store, 999), 0);
        CHECK_EQ_INT (node_store_counts (store, &head, &acked, &cases), 0);
        CHECK_EQ_INT (acked, 1000);
        CHECK_EQ_INT (head, 0);
        node_store_destroy (&store);
    }
    s_dir_remove (dir);
}

//  =====================================================================
//  Confidentiality: no LMDB key holds an id or a pseudonym

static size_t
s_count_needle (const MDB_val *value, const char *needle)
{
    return value->mv_size >= strlen (needle)
        && memmem (value->mv_data, value->mv_size, needle, strlen (needle)) != NULL;
}

static void
test_index_confidential (void)
{
    char dir [512], path [600], file [700];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    //  Import through the import's own path, with known ids and pseudonyms.
    snprintf (file, sizeof file, "%s/secret.jsonl", dir);
    FILE *out = fopen (file, "w");
    CHECK (out);
    if (!out)
        return;
    static const char *const names [] = {"case-SECRET-456", "case-SECRET-789"};
    int lines = 0;
    for (int name = 0; name < 2; name++) {
        fprintf (out, "{\"id\":\"id-SECRET-%d\",\"type\":\"case_opened\",\"case\":\"%s\","
                 "\"date\":\"2022-03-14\",\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\","
                 "\"referral\":\"police\"}\n", 123 + lines++, names [name]);
        for (int visit = 0; visit < 3; visit++)
            fprintf (out, "{\"id\":\"id-SECRET-%d\",\"type\":\"home_visit\",\"case\":\"%s\","
                     "\"date\":\"2022-04-0%d\"}\n", 123 + lines++, names [name], visit + 1);
    }
    fclose (out);
    FILE *errors = tmpfile ();
    node_import_stats_t stats;
    CHECK_EQ_INT (node_import_file (store, file, errors? errors: stderr, false, &stats), 0);
    CHECK_EQ_INT (stats.imported, lines);
    CHECK_EQ_INT (stats.rejected, 0);
    if (errors)
        fclose (errors);
    node_store_destroy (&store);

    //  The environment read directly (no other handle on it in this process).
    uint8_t *key = cp_index_key_load (path);
    CHECK (key);
    char store_path [700];
    snprintf (store_path, sizeof store_path, "%s/store", path);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    CHECK_EQ_INT (mdb_env_create (&env), 0);
    CHECK_EQ_INT (mdb_env_set_maxdbs (env, 8), 0);
    CHECK_EQ_INT (mdb_env_open (env, store_path, MDB_RDONLY | MDB_NOTLS, 0600), 0);
    CHECK_EQ_INT (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    if (!txn || !key) {
        mdb_env_close (env);
        cp_index_key_destroy (&key);
        s_dir_remove (dir);
        return;
    }
    static const char *const dbs [] = {NULL, "meta", "catalogues", "log", "ids", "cases",
                                       CP_STORE_MONTHS};
    for (size_t db = 0; db < sizeof dbs / sizeof dbs [0]; db++) {
        MDB_dbi dbi;
        unsigned flags = dbs [db] && strcmp (dbs [db], "catalogues") == 0? MDB_INTEGERKEY: 0;
        int rc = mdb_dbi_open (txn, dbs [db], flags, &dbi);
        CHECK_EQ_INT (rc, 0);
        if (rc)
            continue;
        MDB_cursor *cursor;
        CHECK_EQ_INT (mdb_cursor_open (txn, dbi, &cursor), 0);
        MDB_val k, v;
        size_t entries = 0, leaks = 0, value_leaks = 0, odd_keys = 0;
        bool indexed = dbs [db] && (strcmp (dbs [db], "ids") == 0
                                    || strcmp (dbs [db], "cases") == 0);
        //  Runs of neighbouring keys that share their first half (a stem)
        size_t stem_runs = 0;
        uint8_t stem [CP_INDEX_HASH_SIZE / 2];
        while (mdb_cursor_get (cursor, &k, &v, entries? MDB_NEXT: MDB_FIRST) == 0) {
            if (indexed && k.mv_size == NODE_STORE_HASH_SIZE
            && (entries == 0 || memcmp (k.mv_data, stem, sizeof stem))) {
                memcpy (stem, k.mv_data, sizeof stem);
                stem_runs++;
            }
            entries++;
            leaks += s_count_needle (&k, "SECRET") + s_count_needle (&k, "id-")
                   + s_count_needle (&k, "case-");
            //  No value holds one either: log and cases are sealed.
            value_leaks += s_count_needle (&v, "SECRET");
            if (indexed && k.mv_size != NODE_STORE_HASH_SIZE)
                odd_keys++;
        }
        mdb_cursor_close (cursor);
        if (leaks || value_leaks || odd_keys)
            fprintf (stderr, "  database %s: %zu keys with a name, %zu values with one, "
                     "%zu keys not a hash\n", dbs [db]? dbs [db]: "(main)", leaks,
                     value_leaks, odd_keys);
        CHECK_EQ_INT (leaks, 0);
        CHECK_EQ_INT (value_leaks, 0);
        CHECK_EQ_INT (odd_keys, 0);
        if (dbs [db] && strcmp (dbs [db], "ids") == 0) {
            CHECK_EQ_INT (entries, lines);
            //  The ids share one stem ("id-SECRET-1"), so they are neighbours
            //  in the tree: a batch of numbered ids writes a few pages, not
            //  one each anywhere (cp_index_key.h)
            CHECK_EQ_INT (stem_runs, 1);
            //  Each id is indexed under its keyed hash, and under nothing else.
            for (int line = 0; line < lines; line++) {
                char id [32];
                uint8_t hash [CP_INDEX_HASH_SIZE];
                snprintf (id, sizeof id, "id-SECRET-%d", 123 + line);
                cp_index_key_hash (key, id, hash);
                MDB_val hk = {sizeof hash, hash}, hv;
                CHECK_EQ_INT (mdb_get (txn, dbi, &hk, &hv), 0);
                MDB_val plain = {strlen (id), id};
                CHECK_EQ_INT (mdb_get (txn, dbi, &plain, &hv), MDB_NOTFOUND);
            }
        }
        if (dbs [db] && strcmp (dbs [db], "cases") == 0) {
            CHECK_EQ_INT (entries, 2);
            CHECK_EQ_INT (stem_runs, 2);    //  "case-SECRET-4", "case-SECRET-7"
            for (int name = 0; name < 2; name++) {
                uint8_t hash [CP_INDEX_HASH_SIZE];
                cp_index_key_hash (key, names [name], hash);
                MDB_val hk = {sizeof hash, hash}, hv;
                CHECK_EQ_INT (mdb_get (txn, dbi, &hk, &hv), 0);
            }
        }
    }
    mdb_txn_abort (txn);
    mdb_env_close (env);
    cp_index_key_destroy (&key);
    s_dir_remove (dir);
}

//  =====================================================================
//  Case data at rest: sealed values, refused tampering

//  A byte string that must not be found at rest.
typedef struct {
    uint8_t *bytes;
    size_t size;
    char label [64];
} s_needle_t;

typedef struct {
    s_needle_t *items;
    size_t count;
} s_needles_t;

static void
s_needle_add (s_needles_t *needles, const void *bytes, size_t size, const char *label)
{
    needles->items = realloc (needles->items, (needles->count + 1) * sizeof (s_needle_t));
    assert (needles->items);
    s_needle_t *needle = &needles->items [needles->count++];
    needle->bytes = malloc (size);
    assert (needle->bytes);
    memcpy (needle->bytes, bytes, size);
    needle->size = size;
    snprintf (needle->label, sizeof needle->label, "%s", label);
}

static void
s_needles_free (s_needles_t *needles)
{
    for (size_t index = 0; index < needles->count; index++)
        free (needles->items [index].bytes);
    free (needles->items);
    needles->items = NULL;
    needles->count = 0;
}

//  Counts the needles found in the regular files under dir, skipping the
//  directory named skip (a leaf name, or NULL); with report, prints the
//  first few.
static size_t
s_scan_tree (const char *dir, const char *skip, const s_needles_t *needles, bool report,
             size_t *files)
{
    DIR *handle = opendir (dir);
    CHECK (handle);
    if (!handle)
        return 0;
    size_t found = 0;
    struct dirent *entry;
    while ((entry = readdir (handle))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0
        ||  (skip && strcmp (entry->d_name, skip) == 0))
            continue;
        char path [1024];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        struct stat info;
        if (lstat (path, &info))
            continue;
        if (S_ISDIR (info.st_mode)) {
            found += s_scan_tree (path, NULL, needles, report, files);
            continue;
        }
        if (!S_ISREG (info.st_mode))
            continue;
        FILE *file = fopen (path, "rb");
        CHECK (file);
        if (!file)
            continue;
        uint8_t *bytes = malloc ((size_t) info.st_size + 1);
        assert (bytes);
        size_t size = fread (bytes, 1, (size_t) info.st_size, file);
        fclose (file);
        (*files)++;
        for (size_t at = 0; at < needles->count; at++) {
            const s_needle_t *needle = &needles->items [at];
            if (size >= needle->size && memmem (bytes, size, needle->bytes, needle->size)) {
                if (report && found < 8)
                    fprintf (stderr, "    %s holds %s\n", path, needle->label);
                found++;
            }
        }
        free (bytes);
    }
    closedir (handle);
    return found;
}

//  Opens a node's LMDB environment directly (flags: MDB_RDONLY or 0).
static MDB_env *
s_env_open (const char *node, unsigned flags)
{
    char path [700];
    snprintf (path, sizeof path, "%s/store", node);
    MDB_env *env = NULL;
    if (mdb_env_create (&env))
        return NULL;
    mdb_env_set_maxdbs (env, 8);
    if (mdb_env_open (env, path, flags | MDB_NOTLS, 0600)) {
        mdb_env_close (env);
        return NULL;
    }
    return env;
}

//  Puts value under key in database db of a closed node; when old_size is
//  not NULL, returns the value it replaced (malloc'd, *old_size bytes), so
//  that the test can put it back.
static uint8_t *
s_raw_put (const char *node, const char *db, const void *key, size_t key_size,
           const void *value, size_t value_size, size_t *old_size)
{
    MDB_env *env = s_env_open (node, 0);
    CHECK (env);
    if (!env)
        return NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    uint8_t *old = NULL;
    CHECK_EQ_INT (mdb_txn_begin (env, NULL, 0, &txn), 0);
    CHECK_EQ_INT (mdb_dbi_open (txn, db, 0, &dbi), 0);
    MDB_val k = {key_size, (void *) key}, v;
    if (mdb_get (txn, dbi, &k, &v) == 0 && old_size) {
        old = malloc (v.mv_size);
        assert (old);
        memcpy (old, v.mv_data, v.mv_size);
        *old_size = v.mv_size;
    }
    v = (MDB_val) {value_size, (void *) value};
    CHECK_EQ_INT (mdb_put (txn, dbi, &k, &v, 0), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
    return old;
}

//  The raw value under key in database db of a closed node (malloc'd).
static uint8_t *
s_raw_get (const char *node, const char *db, const void *key, size_t key_size, size_t *size)
{
    MDB_env *env = s_env_open (node, MDB_RDONLY);
    CHECK (env);
    if (!env)
        return NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    uint8_t *value = NULL;
    CHECK_EQ_INT (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT (mdb_dbi_open (txn, db, 0, &dbi), 0);
    MDB_val k = {key_size, (void *) key}, v;
    int rc = mdb_get (txn, dbi, &k, &v);
    CHECK_EQ_INT (rc, 0);
    if (rc == 0) {
        value = malloc (v.mv_size);
        assert (value);
        memcpy (value, v.mv_data, v.mv_size);
        *size = v.mv_size;
    }
    mdb_txn_abort (txn);
    mdb_env_close (env);
    return value;
}

//  The lines of the at-rest test: three cases, each opened, assessed,
//  visited and given a problem and a measure; the second import adds to
//  them (so their stored records are opened and sealed again) and closes
//  one.  Ids, pseudonyms and dates are distinctive.
static int
s_rest_lines (FILE *out, int part)
{
    static const char *const names [] = {"kase-PSEUDO-Arben-4711", "kase-PSEUDO-Blerta-4712",
                                         "kase-PSEUDO-Dritan-4713"};
    int lines = 0;
    for (int name = 0; name < 3; name++) {
        char id [64];
        int base = 100 * (name + 1) + 50 * part;
        #define S_ID(n) (snprintf (id, sizeof id, "evid-UNIQUE-%04d", base + (n)), id)
        if (part == 0) {
            fprintf (out, "{\"id\":\"%s\",\"type\":\"case_opened\",\"case\":\"%s\","
                     "\"date\":\"2021-0%d-1%d\",\"age\":%d,\"sex\":\"%s\","
                     "\"ethnicity\":\"egyptian\",\"referral\":\"police\"}\n", S_ID (0),
                     names [name], name + 2, name + 3, 9 + name, name % 2? "M": "F");
            fprintf (out, "{\"id\":\"%s\",\"type\":\"risk_assessed\",\"case\":\"%s\","
                     "\"date\":\"2021-0%d-2%d\",\"level\":\"emergency\"}\n", S_ID (1),
                     names [name], name + 2, name + 1);
            fprintf (out, "{\"id\":\"%s\",\"type\":\"problem_set\",\"case\":\"%s\","
                     "\"date\":\"2021-0%d-2%d\",\"problem\":\"trafficking\"}\n", S_ID (2),
                     names [name], name + 2, name + 2);
            lines += 3;
        }
        else {
            fprintf (out, "{\"id\":\"%s\",\"type\":\"home_visit\",\"case\":\"%s\","
                     "\"date\":\"2022-0%d-0%d\"}\n", S_ID (0), names [name], name + 4,
                     name + 5);
            fprintf (out, "{\"id\":\"%s\",\"type\":\"measure_taken\",\"case\":\"%s\","
                     "\"date\":\"2022-0%d-1%d\",\"measure\":\"alternative_care\"}\n", S_ID (1),
                     names [name], name + 4, name + 1);
            lines += 2;
            if (name == 1) {
                fprintf (out, "{\"id\":\"%s\",\"type\":\"case_closed\",\"case\":\"%s\","
                         "\"date\":\"2022-09-2%d\",\"reason\":\"adult\"}\n", S_ID (2),
                         names [name], name);
                lines++;
            }
        }
        #undef S_ID
    }
    return lines;
}

//  Imports a file of s_rest_lines into store; returns the number of lines.
static int
s_rest_import (node_store_t *store, const char *dir, int part)
{
    char file [700];
    snprintf (file, sizeof file, "%s/rest-%d.jsonl", dir, part);
    FILE *out = fopen (file, "w");
    CHECK (out);
    if (!out)
        return 0;
    int lines = s_rest_lines (out, part);
    fclose (out);
    FILE *errors = tmpfile ();
    node_import_stats_t stats;
    CHECK_EQ_INT (node_import_file (store, file, errors? errors: stderr, false, &stats), 0);
    CHECK_EQ_INT (stats.imported, lines);
    CHECK_EQ_INT (stats.rejected, 0);
    if (errors)
        fclose (errors);
    return lines;
}

//  What must not be at rest: for every line of both parts, its id, its
//  case pseudonym, its event as the log encodes it, and its codes as
//  msgpack strings (the catalogues hold the codes, but as JSON text); for
//  every case, its record as cp_case encodes it after both parts.
static void
s_rest_needles (node_store_t *store, const char *dir, s_needles_t *needles)
{
    const cp_catalogue_t *catalogue = node_store_catalogue (store);
    cp_case_t cases [3];
    memset (cases, 0, sizeof cases);
    char *names [3] = {NULL, NULL, NULL};
    for (int part = 0; part < 2; part++) {
        char file [700], line [1024];
        snprintf (file, sizeof file, "%s/rest-%d.jsonl", dir, part);
        FILE *in = fopen (file, "r");
        CHECK (in);
        while (in && fgets (line, sizeof line, in)) {
            line [strcspn (line, "\n")] = 0;
            cp_event_t event;
            char why [256];
            int rc = cp_event_from_json (line, strlen (line), catalogue,
                                         cp_date_from_civil (2099, 12, 31), &event, why,
                                         sizeof why);
            CHECK_EQ_INT (rc, 0);
            if (rc)
                continue;
            s_needle_add (needles, event.id, strlen (event.id), event.id);
            s_needle_add (needles, event.case_id, strlen (event.case_id), event.case_id);
            msgpack_sbuffer packed;
            msgpack_sbuffer_init (&packed);
            CHECK_EQ_INT (cp_codec_event_pack (&event, &packed), 0);
            char label [32 + CP_ID_MAX];
            snprintf (label, sizeof label, "the encoded event %s", event.id);
            s_needle_add (needles, packed.data, packed.size, label);
            msgpack_sbuffer_destroy (&packed);
            const cp_event_kind_t *kind = cp_event_kind (event.type);
            for (int slot = 0; kind && slot < kind->code_count; slot++) {
                uint8_t code [CP_CODE_MAX + 2];
                size_t len = strlen (event.codes [slot]);
                if (len < 4)
                    continue;       //  too short to tell from chance
                code [0] = (uint8_t) (0xa0 | len);  //  a msgpack fixstr
                memcpy (code + 1, event.codes [slot], len);
                snprintf (label, sizeof label, "the packed code %s", event.codes [slot]);
                s_needle_add (needles, code, len + 1, label);
            }
            int index = -1;
            for (int at = 0; at < 3 && index < 0; at++)
                if (!names [at] || strcmp (names [at], event.case_id) == 0)
                    index = at;
            CHECK (index >= 0);
            if (index < 0)
                continue;
            if (!names [index])
                names [index] = strdup (event.case_id);
            CHECK_EQ_INT (cp_case_check (&cases [index], &event, catalogue, why, sizeof why), 0);
            CHECK_EQ_INT (cp_case_apply (&cases [index], &event, catalogue, NULL), 0);
        }
        if (in)
            fclose (in);
    }
    for (int index = 0; index < 3; index++) {
        size_t size = cp_case_encoded_size (&cases [index]);
        uint8_t *record = malloc (size);
        assert (record);
        cp_case_encode (&cases [index], record);
        char label [64];
        snprintf (label, sizeof label, "the case record of %s", names [index]);
        s_needle_add (needles, record, size, label);
        free (record);
        free (names [index]);
        cp_case_reset (&cases [index]);
    }
}

static void
test_at_rest_sealed (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    int lines = s_rest_import (store, dir, 0);
    node_store_destroy (&store);
    int error = 0;
    store = node_store_open (path, &error);
    CHECK (store);
    if (!store) {
        s_dir_remove (dir);
        return;
    }
    lines += s_rest_import (store, dir, 1);
    CHECK_EQ_INT (s_head (store), lines);
    CHECK_EQ_INT (s_cases (store), 3);

    s_needles_t needles = {NULL, 0};
    s_rest_needles (store, dir, &needles);
    CHECK (needles.count > 4 * (size_t) lines);
    //  The scan finds what is there: the import files hold the lines.
    size_t files = 0;
    CHECK (s_scan_tree (dir, "node", &needles, false, &files) >= (size_t) lines * 3);
    CHECK_EQ_INT (files, 2);
    //  The log reads back whole through the store.
    size_t logged = 0;
    cp_event_t *log = s_log_events (store, &logged);
    CHECK_EQ_INT (logged, lines);
    CHECK (log && strcmp (log [0].id, "evid-UNIQUE-0100") == 0);
    CHECK (log && logged == (size_t) lines
           && strcmp (log [lines - 1].case_id, "kase-PSEUDO-Dritan-4713") == 0);
    free (log);
    node_store_destroy (&store);

    //  Nothing of it in any byte of the node's directory but its keys: the
    //  data file (free pages too) and the lock file.
    files = 0;
    size_t found = s_scan_tree (path, "keys", &needles, true, &files);
    CHECK_EQ_INT (found, 0);
    CHECK (files >= 2);
    char data [700];
    snprintf (data, sizeof data, "%s/store/data.mdb", path);
    struct stat info;
    CHECK (stat (data, &info) == 0 && info.st_size > 0);

    //  Each value is version 1, a nonce, the sealed record: it opens with the
    //  data key and 'L' / 'C' with its LMDB key as associated data, and
    //  under no other key.  The log holds a block per import (a call of
    //  append_many each): version 1, its count, then the events it holds.
    char key_path [700];
    snprintf (key_path, sizeof key_path, "%s/keys/data.key", path);
    uint8_t *data_key = NULL, *index_key = cp_index_key_load (path);
    CHECK_EQ_INT (cp_keyfile_read (key_path, CP_SEAL_KEY_SIZE, &data_key), 0);
    cp_seal_t *seal = data_key? cp_seal_new (data_key): NULL;
    CHECK (seal && index_key);
    MDB_env *env = s_env_open (path, MDB_RDONLY);
    MDB_txn *txn = NULL;
    CHECK (env && mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0);
    for (int db = 0; seal && txn && db < 2; db++) {
        MDB_dbi dbi;
        CHECK_EQ_INT (mdb_dbi_open (txn, db? "cases": "log", 0, &dbi), 0);
        MDB_cursor *cursor;
        CHECK_EQ_INT (mdb_cursor_open (txn, dbi, &cursor), 0);
        MDB_val k, v;
        size_t entries = 0, opened = 0, events = 0;
        while (mdb_cursor_get (cursor, &k, &v, entries? MDB_NEXT: MDB_FIRST) == 0) {
            entries++;
            uint8_t ad [1 + NODE_STORE_HASH_SIZE];
            static uint8_t plain [1 << 16];
            ad [0] = db? 'C': 'L';
            CHECK (k.mv_size <= NODE_STORE_HASH_SIZE && v.mv_size >= CP_SEAL_OVERHEAD
                   && v.mv_size - CP_SEAL_OVERHEAD <= sizeof plain);
            memcpy (ad + 1, k.mv_data, k.mv_size);
            CHECK_EQ_INT (((const uint8_t *) v.mv_data) [0], 1);
            if (cp_seal_open (seal, ad, 1 + k.mv_size, v.mv_data, v.mv_size, plain) == 0) {
                opened++;
                if (db == 0) {
                    CHECK_EQ_INT (plain [0], 1);
                    CHECK_EQ_INT (cp_get_u64 (k.mv_data), events + 1);
                    events += (size_t) plain [1] << 8 | plain [2];
                }
            }
            ad [0] = db? 'L': 'C';
            CHECK_EQ_INT (cp_seal_open (seal, ad, 1 + k.mv_size, v.mv_data, v.mv_size, plain),
                          CP_EAUTH);
        }
        CHECK_EQ_INT (entries, db? 3: 2);
        CHECK_EQ_INT (opened, entries);
        if (db == 0)
            CHECK_EQ_INT (events, lines);
        mdb_cursor_close (cursor);
    }
    if (txn)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
    cp_seal_destroy (&seal);
    cp_keyfile_free (&data_key);
    cp_index_key_destroy (&index_key);
    s_needles_free (&needles);
    s_dir_remove (dir);
}

//  Opens path and expects error (or success when error is 0).
static void
s_open_expect (const char *path, int expected, int line)
{
    int error = 0;
    node_store_t *store = node_store_open (path, &error);
    if (expected == 0 && !store)
        fprintf (stderr, "  line %d: open failed: %s\n", line, cp_strerror (error));
    if (expected && (store || error != expected))
        fprintf (stderr, "  line %d: open gave %s, expected %s\n", line,
                 store? "a store": cp_strerror (error), cp_strerror (expected));
    CHECK (expected? store == NULL && error == expected: store != NULL);
    node_store_destroy (&store);
}

//  Begins, appends one entry, and returns what append_many returned
//  (committing when it was 0, else aborting).
static int
s_append_one (node_store_t *store, node_store_entry_t *entry, int *outcome)
{
    int rc = node_store_begin (store);
    CHECK_EQ_INT (rc, 0);
    if (rc)
        return rc;
    rc = node_store_append_many (store, &entry, 1, NULL, outcome, NULL, 0);
    if (rc == 0)
        rc = node_store_commit (store);
    else
        node_store_abort (store);
    return rc;
}

static void
test_at_rest_refused (void)
{
    char dir [512], path [600], other [600], file [700];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    node_store_entry_t *entries [] = {
        OPENED (store, "r1", "case-one", "2022-01-10"),
        OPENED (store, "r2", "case-two", "2022-01-11"),
        VISIT (store, "r3", "case-one", "2022-01-12"),
    };
    //  One call each: three log blocks, of one event each.
    int outcomes [3];
    for (int index = 0; index < 3; index++)
        s_append_committed (store, entries + index, 1, outcomes + index);
    uint8_t *index_key = cp_index_key_load (path);
    CHECK (index_key);
    uint8_t one [NODE_STORE_HASH_SIZE], two [NODE_STORE_HASH_SIZE];
    if (index_key) {
        cp_index_key_hash (index_key, "case-one", one);
        cp_index_key_hash (index_key, "case-two", two);
    }
    cp_index_key_destroy (&index_key);
    node_store_destroy (&store);
    uint8_t *payload = NULL;
    size_t size = 0;
    uint64_t last = 0;

    //  A log block copied under another sequence does not open there.
    uint8_t seq1 [8] = {0, 0, 0, 0, 0, 0, 0, 1}, seq2 [8] = {0, 0, 0, 0, 0, 0, 0, 2};
    size_t first_size = 0, saved_size = 0;
    uint8_t *first = s_raw_get (path, "log", seq1, 8, &first_size);
    uint8_t *saved = first? s_raw_put (path, "log", seq2, 8, first, first_size, &saved_size)
                          : NULL;
    CHECK (saved);
    int error = 0;
    store = node_store_open (path, &error);
    CHECK (store);
    if (store) {
        CHECK_EQ_INT (node_store_read_batch (store, 1, 10, 1 << 20, &payload, &size, &last),
                      CP_ESTORE);
        CHECK (payload == NULL);
        //  Before it, the log still reads.
        CHECK_EQ_INT (node_store_read_batch (store, 1, 1, 1 << 20, &payload, &size, &last), 0);
        CHECK (payload && last == 1);
        free (payload);
        node_store_destroy (&store);
    }
    free (s_raw_put (path, "log", seq2, 8, saved, saved_size, NULL));
    free (first);
    free (saved);
    store = node_store_open (path, &error);
    CHECK (store);
    if (store) {
        CHECK_EQ_INT (node_store_read_batch (store, 1, 10, 1 << 20, &payload, &size, &last), 0);
        CHECK (payload && last == 3);
        free (payload);
        node_store_destroy (&store);
    }

    //  A case record copied under another case does not open there: an
    //  append to that case is a store error, one to the first case is not.
    first = s_raw_get (path, "cases", one, sizeof one, &first_size);
    saved = first? s_raw_put (path, "cases", two, sizeof two, first, first_size, &saved_size)
                 : NULL;
    CHECK (saved);
    store = node_store_open (path, &error);
    CHECK (store);
    if (store) {
        node_store_entry_t *visit = VISIT (store, "r4", "case-two", "2022-01-13");
        int outcome = 0;
        CHECK_EQ_INT (s_append_one (store, visit, &outcome), CP_ESTORE);
        free (visit);
        CHECK_EQ_INT (s_head (store), 3);
        visit = VISIT (store, "r5", "case-one", "2022-01-13");
        CHECK_EQ_INT (s_append_one (store, visit, &outcome), 0);
        CHECK_EQ_INT (outcome, NODE_STORE_APPENDED);
        free (visit);
        node_store_destroy (&store);
    }
    free (s_raw_put (path, "cases", two, sizeof two, saved, saved_size, NULL));
    free (first);
    free (saved);

    //  Another node's data key: the node opens, but nothing it holds does.
    node_store_t *stranger = s_node_new (dir, "stranger", other, sizeof other);
    node_store_destroy (&stranger);
    char mine [700], theirs [700];
    snprintf (mine, sizeof mine, "%s/keys/data.key", path);
    snprintf (theirs, sizeof theirs, "%s/keys/data.key", other);
    uint8_t *own_key = NULL, *their_key = NULL;
    CHECK_EQ_INT (cp_keyfile_read (mine, CP_SEAL_KEY_SIZE, &own_key), 0);
    CHECK_EQ_INT (cp_keyfile_read (theirs, CP_SEAL_KEY_SIZE, &their_key), 0);
    CHECK (own_key && their_key && memcmp (own_key, their_key, CP_SEAL_KEY_SIZE) != 0);
    if (own_key && their_key) {
        CHECK_EQ_INT (cp_keyfile_write (mine, their_key, CP_SEAL_KEY_SIZE, true), 0);
        store = node_store_open (path, &error);
        CHECK (store);
        if (store) {
            CHECK_EQ_INT (node_store_read_batch (store, 1, 10, 1 << 20, &payload, &size,
                                                 &last), CP_ESTORE);
            node_store_entry_t *visit = VISIT (store, "r6", "case-one", "2022-01-14");
            int outcome = 0;
            CHECK_EQ_INT (s_append_one (store, visit, &outcome), CP_ESTORE);
            free (visit);
            node_store_destroy (&store);
        }
        CHECK_EQ_INT (cp_keyfile_write (mine, own_key, CP_SEAL_KEY_SIZE, true), 0);
    }
    cp_keyfile_free (&own_key);
    cp_keyfile_free (&their_key);
    s_open_expect (path, 0, __LINE__);

    //  Key files others may read: refused, and the node opens again after.
    snprintf (file, sizeof file, "%s/keys/data.key", path);
    CHECK_EQ_INT (chmod (file, 0644), 0);
    s_open_expect (path, CP_EINSECURE, __LINE__);
    CHECK_EQ_INT (chmod (file, 0640), 0);
    s_open_expect (path, CP_EINSECURE, __LINE__);
    CHECK_EQ_INT (chmod (file, 0600), 0);
    s_open_expect (path, 0, __LINE__);
    snprintf (file, sizeof file, "%s/keys/index.key", path);
    CHECK_EQ_INT (chmod (file, 0604), 0);
    s_open_expect (path, CP_EINSECURE, __LINE__);
    CHECK_EQ_INT (chmod (file, 0600), 0);
    s_open_expect (path, 0, __LINE__);
    //  A data key of another size, or none: not a node.
    snprintf (file, sizeof file, "%s/keys/data.key", path);
    uint8_t short_key [16] = {0};
    CHECK_EQ_INT (cp_keyfile_write (file, short_key, sizeof short_key, true), 0);
    s_open_expect (path, CP_ENOTNODE, __LINE__);
    CHECK_EQ_INT (unlink (file), 0);
    s_open_expect (path, CP_ENOTNODE, __LINE__);

    //  A store of the old format, whose values are in the clear: refused.
    snprintf (other, sizeof other, "%s/old", dir);
    store = s_node_new (dir, "old", other, sizeof other);
    node_store_destroy (&store);
    const char *old_format = "cpsync-node 1";
    free (s_raw_put (other, "meta", "format", 6, old_format, strlen (old_format), NULL));
    s_open_expect (other, CP_ENOTNODE, __LINE__);
    //  Nor one whose log is sealed event by event.
    old_format = "cpsync-node 2";
    free (s_raw_put (other, "meta", "format", 6, old_format, strlen (old_format), NULL));
    s_open_expect (other, CP_ENOTNODE, __LINE__);
    s_entries_free (entries, 3);
    s_dir_remove (dir);
}

//  Drops database db of a closed node, as a store of an older format lacks it.
static void
s_raw_drop (const char *node, const char *db)
{
    MDB_env *env = s_env_open (node, 0);
    CHECK (env);
    if (!env)
        return;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    CHECK_EQ_INT (mdb_txn_begin (env, NULL, 0, &txn), 0);
    CHECK_EQ_INT (mdb_dbi_open (txn, db, 0, &dbi), 0);
    CHECK_EQ_INT (mdb_drop (txn, dbi, 1), 0);
    CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    mdb_env_close (env);
}

//  A store of format 4, whose month rows are in "days", one of format 5,
//  without the downlink's databases, and one of format 6, without the
//  directives' states: each refused as what it is, with
//  the line that names both formats, not opened without its rows or its
//  downlink.
static void
test_old_format (void)
{
    char dir [512], path [600], env_path [700];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "old", path, sizeof path);
    node_store_entry_t *opened = OPENED (store, "o1", "case-old", "2022-01-10");
    int outcome = -1;
    CHECK_EQ_INT (s_append_one (store, opened, &outcome), 0);
    CHECK_EQ_INT (outcome, NODE_STORE_APPENDED);
    free (opened);
    node_store_destroy (&store);
    snprintf (env_path, sizeof env_path, "%s/store", path);
    CHECK_EQ_INT (testing_store_make_old (env_path, "cpsync-node 4"), 1);
    testing_log_start ();
    s_open_expect (path, CP_ENOTNODE, __LINE__);
    char *log = testing_log_end ();
    CHECK_STR_CONTAINS (log, "holds a store of format \"cpsync-node 4\"; "
                             "this node reads \"cpsync-node 8\" (set the node up again");
    free (log);

    store = s_node_new (dir, "five", path, sizeof path);
    node_store_destroy (&store);
    s_raw_drop (path, "downlink");
    s_raw_drop (path, "downlink_refused");
    const char *five = "cpsync-node 5";
    free (s_raw_put (path, "meta", "format", 6, five, strlen (five), NULL));
    testing_log_start ();
    s_open_expect (path, CP_ENOTNODE, __LINE__);
    log = testing_log_end ();
    CHECK_STR_CONTAINS (log, "holds a store of format \"cpsync-node 5\"; "
                             "this node reads \"cpsync-node 8\" (set the node up again");
    free (log);

    //  Format 6 had no staffing and no directives' states.
    store = s_node_new (dir, "six", path, sizeof path);
    node_store_destroy (&store);
    s_raw_drop (path, "staffing");
    s_raw_drop (path, "directives");
    const char *six = "cpsync-node 6";
    free (s_raw_put (path, "meta", "format", 6, six, strlen (six), NULL));
    testing_log_start ();
    s_open_expect (path, CP_ENOTNODE, __LINE__);
    log = testing_log_end ();
    CHECK_STR_CONTAINS (log, "holds a store of format \"cpsync-node 6\"; "
                             "this node reads \"cpsync-node 8\" (set the node up again");
    free (log);
    s_dir_remove (dir);
}

//  =====================================================================
//  The log in blocks

//  The log blocks of a closed node, opened with its data key: keys [] and
//  counts [] of up to max of them; returns how many there are.
static size_t
s_log_blocks (const char *node, uint64_t *keys, size_t *counts, size_t max)
{
    char key_path [700];
    snprintf (key_path, sizeof key_path, "%s/keys/data.key", node);
    uint8_t *data_key = NULL;
    CHECK_EQ_INT (cp_keyfile_read (key_path, CP_SEAL_KEY_SIZE, &data_key), 0);
    cp_seal_t *seal = data_key? cp_seal_new (data_key): NULL;
    cp_keyfile_free (&data_key);
    MDB_env *env = s_env_open (node, MDB_RDONLY);
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    size_t blocks = 0;
    CHECK (seal && env && mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0
           && mdb_dbi_open (txn, "log", 0, &dbi) == 0);
    MDB_cursor *cursor = NULL;
    if (seal && txn && mdb_cursor_open (txn, dbi, &cursor) == 0) {
        MDB_val k, v;
        while (mdb_cursor_get (cursor, &k, &v, blocks? MDB_NEXT: MDB_FIRST) == 0) {
            static uint8_t plain [1 << 16];
            uint8_t ad [9] = {'L'};
            CHECK (k.mv_size == 8 && v.mv_size <= sizeof plain
                   && v.mv_size <= 16384 - 16);     //  four pages of 4 KiB at most
            memcpy (ad + 1, k.mv_data, 8);
            CHECK_EQ_INT (cp_seal_open (seal, ad, sizeof ad, v.mv_data, v.mv_size, plain), 0);
            //  version, count, then each event after its u16 size
            size_t count = (size_t) plain [1] << 8 | plain [2], at = 3;
            CHECK_EQ_INT (plain [0], 1);
            for (size_t index = 0; index < count; index++)
                at += 2 + ((size_t) plain [at] << 8 | plain [at + 1]);
            CHECK_EQ_INT (at, v.mv_size - CP_SEAL_OVERHEAD);
            if (blocks < max) {
                keys [blocks] = cp_get_u64 (k.mv_data);
                counts [blocks] = count;
            }
            blocks++;
        }
        mdb_cursor_close (cursor);
    }
    if (txn)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
    cp_seal_destroy (&seal);
    return blocks;
}

//  Reads a batch and checks it holds events first .. expected_last of
//  entries (0: nothing); returns read_batch's code.
static int
s_read_expect (node_store_t *store, node_store_entry_t **entries, uint64_t first,
               size_t max_events, uint64_t expected_last, int line)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    uint64_t last = 0, seq = 0;
    int rc = node_store_read_batch (store, first, max_events, 1 << 20, &payload, &size, &last);
    if (rc || !payload) {
        if (rc == 0 && expected_last) {
            fprintf (stderr, "  line %d: nothing from %" PRIu64 "\n", line, first);
            CHECK (false);
        }
        CHECK (payload == NULL);
        return rc;
    }
    cp_event_t *events = NULL;
    size_t count = 0;
    CHECK_EQ_INT (cp_codec_batch_decode (payload, size, &seq, &events, &count), 0);
    if (seq != first || last != expected_last || count != last - first + 1)
        fprintf (stderr, "  line %d: from %" PRIu64 " got %" PRIu64 "..%" PRIu64
                 " (%zu events), expected ..%" PRIu64 "\n", line, first, seq, last, count,
                 expected_last);
    CHECK (seq == first && last == expected_last && count == last - first + 1);
    for (size_t index = 0; events && index < count && seq == first; index++)
        CHECK (strcmp (events [index].id, entries [first - 1 + index]->event.id) == 0);
    free (events);
    free (payload);
    return rc;
}

//  The log in blocks: a call of append_many is one block or more, never
//  less; the blocks chain; a batch may start in the middle of a block and
//  span several; a damaged block is a store error and ships nothing.
static void
test_read_blocks (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    enum { S_EVENTS = 1300 };
    static const size_t calls [] = {1, 40, 3, 1250, 6};
    node_store_entry_t *entries [S_EVENTS];
    for (int index = 0; index < S_EVENTS; index++) {
        char id [64], name [32];
        snprintf (id, sizeof id, "block-event-with-a-longer-id-%06d", index);
        snprintf (name, sizeof name, "bk-%d", index / 4);
        entries [index] = index % 4 == 0? OPENED (store, id, name, "2022-02-01")
                                        : VISIT (store, id, name, "2022-02-02");
    }
    static int outcomes [S_EVENTS];
    size_t at = 0;
    for (size_t call = 0; call < sizeof calls / sizeof calls [0]; call++) {
        s_append_committed (store, entries + at, calls [call], outcomes + at);
        at += calls [call];
    }
    CHECK_EQ_INT (at, S_EVENTS);
    CHECK_EQ_INT (s_head (store), S_EVENTS);
    node_store_destroy (&store);

    //  The blocks: from 1, chained, each call's first event starts one,
    //  and the large call fills several.
    uint64_t keys [64];
    size_t counts [64];
    size_t blocks = s_log_blocks (path, keys, counts, 64);
    CHECK (blocks >= 7 && blocks <= 64);
    uint64_t next = 1;
    for (size_t block = 0; block < blocks && block < 64; block++) {
        CHECK_EQ_INT (keys [block], next);
        next += counts [block];
    }
    CHECK_EQ_INT (next, S_EVENTS + 1);
    for (size_t call = 0, start = 1; call < sizeof calls / sizeof calls [0]; call++) {
        bool found = false;
        for (size_t block = 0; block < blocks && block < 64; block++)
            found |= keys [block] == start;
        CHECK (found);
        start += calls [call];
    }
    int error = 0;
    store = node_store_open (path, &error);
    CHECK (store);
    if (!store || blocks < 7 || blocks > 64) {
        s_entries_free (entries, S_EVENTS);
        s_dir_remove (dir);
        return;
    }
    //  From every sequence, a few events and many: starting in the middle
    //  of a block, and spanning blocks.
    for (uint64_t first = 1; first <= S_EVENTS + 2; first++) {
        static const size_t maxes [] = {1, 5, 130};
        for (size_t which = 0; which < 3; which++) {
            size_t most = maxes [which];
            uint64_t last = first + most - 1 < S_EVENTS? first + most - 1: S_EVENTS;
            CHECK_EQ_INT (s_read_expect (store, entries, first, most,
                                         first <= S_EVENTS? last: 0, __LINE__), 0);
        }
    }
    CHECK_EQ_INT (s_read_expect (store, entries, 2, 2000, S_EVENTS, __LINE__), 0);
    node_store_destroy (&store);

    //  A byte flipped in a block of the large call (not its first): a batch
    //  that needs it is a store error with nothing shipped; the rest reads.
    size_t damaged = 0;
    for (size_t block = 1; block < blocks; block++)
        if (keys [block] > 45 && keys [block - 1] > 45 && !damaged)
            damaged = block;
    CHECK (damaged > 0 && damaged + 1 < blocks);
    uint8_t key [8];
    cp_put_u64 (key, keys [damaged]);
    size_t value_size = 0, old_size = 0;
    uint8_t *value = s_raw_get (path, "log", key, 8, &value_size);
    CHECK (value && value_size > 100);
    if (value) {
        value [value_size / 2] ^= 0x10;
        uint8_t *old = s_raw_put (path, "log", key, 8, value, value_size, &old_size);
        store = node_store_open (path, &error);
        CHECK (store);
        uint64_t start = keys [damaged], end = start + counts [damaged];   //  the damaged ones
        if (store) {
            uint8_t *payload = (uint8_t *) "x";
            size_t size = 0;
            uint64_t last = 0;
            CHECK_EQ_INT (node_store_read_batch (store, start - 3, 10, 1 << 20, &payload,
                                                 &size, &last), CP_ESTORE);
            CHECK (payload == NULL);
            CHECK_EQ_INT (s_read_expect (store, entries, start + 2, 3, 0, __LINE__),
                          CP_ESTORE);
            CHECK_EQ_INT (s_read_expect (store, entries, 1, 2000, 0, __LINE__), CP_ESTORE);
            //  Before it and after it, the log reads.
            CHECK_EQ_INT (s_read_expect (store, entries, start - 3, 3, start - 1, __LINE__), 0);
            CHECK_EQ_INT (s_read_expect (store, entries, end, 5, end + 4, __LINE__), 0);
            node_store_destroy (&store);
        }
        free (s_raw_put (path, "log", key, 8, old, old_size, NULL));
        free (old);
        free (value);
        store = node_store_open (path, &error);
        CHECK (store);
        if (store) {
            CHECK_EQ_INT (s_read_expect (store, entries, 1, 2000, S_EVENTS, __LINE__), 0);
            node_store_destroy (&store);
        }
    }
    s_entries_free (entries, S_EVENTS);
    s_dir_remove (dir);
}

//  True when fd turns readable within msecs; drains what it holds.
static bool
s_watch_fired (int fd, int msecs)
{
    struct pollfd item = {fd, POLLIN, 0};
    bool fired = poll (&item, 1, msecs) == 1 && (item.revents & POLLIN);
    char events [4096];
    while (read (fd, events, sizeof events) > 0)
        ;
    return fired;
}

//  The daemon's watch: a commit by another process (an import) makes it
//  readable; reading the store does not.
static void
test_watch (void)
{
    char dir [512], path [600];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "node", path, sizeof path);
    int watch = node_store_watch (store);
    CHECK (watch >= 0);
    node_store_destroy (&store);        //  the watch outlives the handle
    if (watch < 0) {
        s_dir_remove (dir);
        return;
    }
    CHECK (!s_watch_fired (watch, 0));
    int error = 0;
    store = node_store_open (path, &error);
    CHECK (store);
    CHECK_EQ_INT (s_head (store), 0);
    node_store_destroy (&store);
    CHECK (!s_watch_fired (watch, 100));

    pid_t child = fork ();
    if (child == 0) {
        //  The importer: its own process, its own handle.
        node_store_t *importer = node_store_open (path, &error);
        if (!importer)
            _exit (2);
        node_store_entry_t *entry = OPENED (importer, "w1", "case-w", "2022-03-01");
        int outcome = -1;
        int rc = s_append_one (importer, entry, &outcome);
        free (entry);
        node_store_destroy (&importer);
        _exit (rc || outcome? 1: 0);
    }
    int status = -1;
    CHECK (child > 0 && waitpid (child, &status, 0) == child);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK (s_watch_fired (watch, 2000));
    store = node_store_open (path, &error);
    CHECK (store);
    if (store) {
        CHECK_EQ_INT (s_head (store), 1);
        node_store_destroy (&store);
    }
    close (watch);
    s_dir_remove (dir);
}

//  The node's own digests, read as the central reads its own (the store
//  closed first: one handle on the environment at a time).
static node_store_t *
s_own_figures (node_store_t *store, const char *path, cp_month_digests_t *figures)
{
    node_store_destroy (&store);
    static const cp_store_kind_t kind = {.module = "test_node_store"};
    char store_path [700];
    snprintf (store_path, sizeof store_path, "%s/store", path);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi months;
    CHECK_EQ_INT (cp_lmdb_open (&env, store_path, 16, CP_LMDB_READONLY), 0);
    CHECK_EQ_INT (mdb_txn_begin (env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT (mdb_dbi_open (txn, CP_STORE_MONTHS, 0, &months), 0);
    CHECK_EQ_INT (cp_store_months_figures (&kind, txn, months, NULL, 0, figures), 0);
    mdb_txn_abort (txn);
    mdb_env_close (env);
    int error = 0;
    store = node_store_open (path, &error);
    assert (store);
    return store;
}

//  The central's figures checked (node_store_check_figures): ignored while
//  the head is past as_of; a month on one side only, or with another
//  digest, differs; a verdict is appended as figures_checked only when
//  something changed, and the last check is kept for status.
static void
test_check_figures (void)
{
    char dir [256], path [512];
    s_dir_new (dir, sizeof dir);
    node_store_t *store = s_node_new (dir, "figures", path, sizeof path);
    node_store_entry_t *entries [3] = {
        OPENED (store, "e1", "c1", "2022-05-01"), VISIT (store, "e2", "c1", "2022-05-09"),
        VISIT (store, "e3", "c1", "2022-07-04")
    };
    int outcomes [3];
    s_append_committed (store, entries, 3, outcomes);
    CHECK_EQ_INT (s_head (store), 3);
    cp_month_digests_t *theirs = calloc (1, sizeof *theirs);
    assert (theirs);
    node_reconciliation_t result, last;
    CHECK_EQ_INT (node_store_reconciliation (store, &last), 0);
    CHECK_EQ_INT (last.verdict, 0);

    //  The central has applied less than the node holds: nothing compared
    theirs->as_of = 2;
    CHECK_EQ_INT (node_store_check_figures (store, theirs, &result), NODE_STORE_STALE);
    CHECK_EQ_INT (s_head (store), 3);

    //  The central holds no row: both months differ, reported
    theirs->as_of = 3;
    CHECK_EQ_INT (node_store_check_figures (store, theirs, &result), 0);
    CHECK_EQ_INT (result.verdict, CP_FIGURES_DIVERGED);
    CHECK (result.reported);
    CHECK (strcmp (result.periods, "2022-05 2022-07") == 0);
    CHECK_EQ_INT (s_head (store), 4);
    uint8_t *payload = NULL;
    size_t size = 0;
    uint64_t batch_last = 0, first = 0;
    CHECK_EQ_INT (node_store_read_batch (store, 4, 16, 1 << 20, &payload, &size, &batch_last),
                  0);
    cp_event_t *events = NULL;
    size_t count = 0;
    if (payload)
        CHECK_EQ_INT (cp_codec_batch_decode (payload, size, &first, &events, &count), 0);
    CHECK_EQ_INT (count, 1);
    if (count == 1) {
        CHECK_EQ_INT (events [0].type, CP_EVENT_FIGURES_CHECKED);
        CHECK (strcmp (events [0].id, "n-fc-3") == 0);
        CHECK_EQ_INT (events [0].entry, 3);
        CHECK_EQ_INT (events [0].verdict, CP_FIGURES_DIVERGED);
        CHECK (strcmp (events [0].note, "2022-05 2022-07") == 0);
    }
    free (events);
    free (payload);

    //  The same figures after the verdict is shipped: nothing new to say
    theirs->as_of = 4;
    CHECK_EQ_INT (node_store_check_figures (store, theirs, &result), 0);
    CHECK_EQ_INT (result.verdict, CP_FIGURES_DIVERGED);
    CHECK (!result.reported);
    CHECK_EQ_INT (s_head (store), 4);
    CHECK_EQ_INT (node_store_reconciliation (store, &last), 0);
    CHECK_EQ_INT (last.as_of, 4);
    CHECK (last.checked > 0 && strcmp (last.periods, "2022-05 2022-07") == 0);

    //  The central's rows are the node's: in sync, reported once
    store = s_own_figures (store, path, theirs);
    CHECK_EQ_INT (theirs->count, 2);
    theirs->as_of = 4;
    CHECK_EQ_INT (node_store_check_figures (store, theirs, &result), 0);
    CHECK_EQ_INT (result.verdict, CP_FIGURES_IN_SYNC);
    CHECK (result.reported && result.periods [0] == 0);
    CHECK_EQ_INT (s_head (store), 5);
    theirs->as_of = 5;
    CHECK_EQ_INT (node_store_check_figures (store, theirs, &result), 0);
    CHECK (!result.reported);
    CHECK_EQ_INT (s_head (store), 5);

    //  One month's digest differs: that month alone
    theirs->months [1].digest [0] ^= 1;
    CHECK_EQ_INT (node_store_check_figures (store, theirs, &result), 0);
    CHECK_EQ_INT (result.verdict, CP_FIGURES_DIVERGED);
    CHECK (result.reported && strcmp (result.periods, "2022-07") == 0);
    CHECK_EQ_INT (s_head (store), 6);
    CHECK_EQ_INT (node_store_reconciliation (store, &last), 0);
    CHECK_EQ_INT (last.verdict, CP_FIGURES_DIVERGED);
    CHECK_EQ_INT (last.as_of, 5);
    CHECK_EQ_INT (last.reports, 3);

    free (theirs);
    s_entries_free (entries, 3);
    node_store_destroy (&store);
    s_dir_remove (dir);
}

TESTING_MAIN (
    TEST (test_create_open),
    TEST (test_not_a_node),
    TEST (test_index_key_file),
    TEST (test_same_id_in_one_call),
    TEST (test_rejected_then_valid),
    TEST (test_stored_ids),
    TEST (test_one_by_one_equals_many),
    TEST (test_append_nothing),
    TEST (test_abort),
    TEST (test_map_full),
    TEST (test_read_batch),
    TEST (test_read_blocks),
    TEST (test_set_acked),
    TEST (test_watch),
    TEST (test_index_confidential),
    TEST (test_at_rest_sealed),
    TEST (test_at_rest_refused),
    TEST (test_old_format),
    TEST (test_append_own),
    TEST (test_staffing),
    TEST (test_check_figures)
)
