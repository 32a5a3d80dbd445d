/*  test_revision: a catalogue revision reaching a node as a downlink entry
    (node_store_apply_downlink with CP_DOWNLINK_CATALOGUE), and what the
    node's import and views do before and after it (docs/design.md, 10.6).

    A node set up with catalogue 1 is given revision 2, the text built into
    the binaries, signed by a root made from a fixed seed.  Before it, a
    line with a code of revision 2 is rejected by `cpsync-node import` with
    a message that names the revision; after it, the same line imports, the
    store holds the text under version 2 when opened again (read back with
    LMDB itself), and a view under --catalogue 1 counts the new code under
    "other".  The same entry again is a replay; revisions that do not apply
    (ahead, another text under a version held, a code removed, garbage) are
    refused with CP_ECATALOGUE, counted, and change nothing.  Stores live
    in temporary directories under $CPSYNC_TEST_TMP (or /tmp), removed
    after; $CPSYNC_NODE names the cpsync-node binary.                      */

#define _XOPEN_SOURCE 700       //  nftw, mkdtemp, popen

#include "cp_catalogue.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_event.h"
#include "node_store.h"
#include "testing.h"

#include <assert.h>
#include <jansson.h>
#include <lmdb.h>
#include <sodium.h>
#include <sys/wait.h>

#define S_TOWN "tirane"
#define S_ISSUED 1700000000000      //  2023-11-14, in ms
#define S_NEW_CODE "unaccompanied_foreign_child"
#define S_OPENED "{\"id\":\"e1\",\"type\":\"case_opened\",\"case\":\"c1\",\"date\":\"2022-03-14\"," \
                 "\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}"
#define S_PROBLEM "{\"id\":\"e2\",\"type\":\"problem_set\",\"case\":\"c1\",\"date\":\"2022-03-15\"," \
                  "\"problem\":\"" S_NEW_CODE "\"}"
//  A third revision that adds a code, and one that removes a code
#define S_V3_ADD "{\"catalogue\": 3, \"revises\": 2, \"title\": \"three\", \"changes\": [" \
                 "{\"op\": \"add\", \"dimension\": \"school\", \"code\": \"bullied\", " \
                 "\"sq\": \"bulizem\", \"en\": \"bullied\"}]}"
#define S_V3_REMOVE "{\"catalogue\": 3, \"revises\": 2, \"changes\": [" \
                    "{\"op\": \"remove\", \"dimension\": \"problem\", \"code\": \"child_labour\"}]}"
#define S_V4 "{\"catalogue\": 4, \"revises\": 3, \"changes\": []}"

typedef struct {
    uint8_t public_key [CP_KEY_SIZE];
    uint8_t secret [CP_SIGN_SECRET_SIZE];
} s_root_t;

//  The root of a seed of 32 times byte 7.
static s_root_t
s_root (void)
{
    CHECK (sodium_init () >= 0);
    s_root_t root;
    uint8_t seed [crypto_sign_SEEDBYTES];
    memset (seed, 7, sizeof seed);
    crypto_sign_seed_keypair (root.public_key, root.secret, seed);
    return root;
}

//  Signs a catalogue entry (seq, to all, body text) with root and applies it
//  after prev; returns the code, and the reason in why.
static int
s_apply (node_store_t *store, const s_root_t *root, uint64_t seq, uint64_t prev,
         const char *text, char *why, size_t why_size)
{
    cp_downlink_t entry = {.seq = seq, .kind = CP_DOWNLINK_CATALOGUE, .issued = S_ISSUED,
                           .body = (const uint8_t *) text, .body_size = strlen (text)};
    CHECK_EQ_INT (cp_downlink_address_parse ("all", &entry.address), 0);
    size_t size = 0;
    uint8_t *bytes = cp_downlink_encode (&entry, root->secret, &size);
    CHECK (bytes);
    *why = 0;
    int rc = node_store_apply_downlink (store, root->public_key, prev, bytes, size, why,
                                        why_size);
    free (bytes);
    return rc;
}

//  The node's path under dir.
static void
s_path (const char *dir, char *path, size_t size)
{
    snprintf (path, size, "%s/node", dir);
}

static node_store_t *
s_open (const char *dir)
{
    char path [600];
    s_path (dir, path, sizeof path);
    int error = 0;
    node_store_t *store = node_store_open (path, &error);
    CHECK (store);
    if (!store) {
        fprintf (stderr, "  node_store_open: %s\n", cp_strerror (error));
        exit (1);
    }
    return store;
}

//  A node of S_TOWN with catalogue, in a fresh directory (dir, size bytes).
static node_store_t *
s_node (char *dir, size_t size, int catalogue)
{
    CHECK (sodium_init () >= 0);
    testing_fresh_dir ("test_revision", dir, size);
    char path [600];
    s_path (dir, path, sizeof path);
    CHECK_EQ_INT (node_store_create (path, S_TOWN, catalogue), 0);
    return s_open (dir);
}

static uint64_t
s_cursor (node_store_t *store)
{
    uint64_t cursor = UINT64_MAX;
    CHECK_EQ_INT (node_store_downlink_cursor (store, &cursor), 0);
    return cursor;
}

static uint64_t
s_refused (node_store_t *store, int code)
{
    cp_store_counter_t refusals [64];
    size_t count = 0;
    CHECK_EQ_INT (node_store_downlink_refusals (store, refusals, 64, &count), 0);
    for (size_t index = 0; index < count; index++)
        if (refusals [index].code == code)
            return refusals [index].count;
    return 0;
}

static int
s_version (node_store_t *store)
{
    return cp_catalogue_version (node_store_catalogue (store));
}

//  What the closed store's LMDB holds: the text under version in
//  catalogues (malloc'd, NULL when none) and meta "catalogue" in active.
static char *
s_stored_text (const char *dir, unsigned version, int *active)
{
    char path [600];
    snprintf (path, sizeof path, "%s/node/store", dir);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi catalogues, meta;
    char *text = NULL;
    *active = -1;
    if (mdb_env_create (&env) == 0 && mdb_env_set_maxdbs (env, 32) == 0
    &&  mdb_env_open (env, path, MDB_NOTLS | MDB_RDONLY, 0600) == 0
    &&  mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0
    &&  mdb_dbi_open (txn, "catalogues", MDB_INTEGERKEY, &catalogues) == 0
    &&  mdb_dbi_open (txn, "meta", 0, &meta) == 0) {
        MDB_val k = {sizeof version, &version}, v;
        if (mdb_get (txn, catalogues, &k, &v) == 0 && (text = malloc (v.mv_size + 1))) {
            memcpy (text, v.mv_data, v.mv_size);
            text [v.mv_size] = 0;
        }
        MDB_val key = {9, "catalogue"}, value;
        if (mdb_get (txn, meta, &key, &value) == 0 && value.mv_size < 8) {
            char number [8] = "";
            memcpy (number, value.mv_data, value.mv_size);
            *active = atoi (number);
        }
    }
    if (txn)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
    return text;
}

//  Runs cpsync-node with arguments (a shell fragment); its stdout and
//  stderr go to dir/out and dir/err.  Returns its exit code, or -1.
static int
s_node_run (const char *dir, const char *arguments)
{
    const char *node = getenv ("CPSYNC_NODE");
    if (!node || !*node) {
        fprintf (stderr, "  CPSYNC_NODE is not set: this test needs cpsync-node\n");
        CHECK (node && *node);
        return -1;
    }
    char command [2400];
    snprintf (command, sizeof command, "'%s' %s --data '%s/node' >'%s/out' 2>'%s/err'",
              node, arguments, dir, dir, dir);
    int status = system (command);
    return status >= 0 && WIFEXITED (status)? WEXITSTATUS (status): -1;
}

//  A file under dir read whole (malloc'd; "" when it cannot be read).
static char *
s_read (const char *dir, const char *name)
{
    char path [600];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "rb");
    char *text = calloc (1, 65536);
    assert (text);
    if (file) {
        size_t size = fread (text, 1, 65535, file);
        text [size] = 0;
        fclose (file);
    }
    return text;
}

//  The count of code in breakdown of the view JSON in dir/out (code NULL:
//  the top-level value of breakdown), -1 when the view has no such key.
static long long
s_view_count (const char *dir, const char *breakdown, const char *code)
{
    char *text = s_read (dir, "out");
    json_t *view = json_loads (text, 0, NULL);
    free (text);
    CHECK (view);
    json_t *value = json_object_get (view, breakdown);
    if (code)
        value = json_object_get (value, code);
    long long count = json_is_integer (value)? json_integer_value (value): -1;
    json_decref (view);
    return count;
}

//  =====================================================================
//  The tests

//  Before revision 2, a line with its code is rejected, naming the
//  revision; revision 2 applied, the catalogue is 2 at once, on disk and
//  after reopening; the same line imports; a view under catalogue 1 folds
//  the new code into "other".
static void
test_revision_applied (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir, 1);
    s_root_t root = s_root ();
    node_store_destroy (&store);
    char events [600];
    snprintf (events, sizeof events, "%s/events.jsonl", dir);
    FILE *file = fopen (events, "w");
    CHECK (file);
    if (!file)
        return;
    fprintf (file, "%s\n%s\n", S_OPENED, S_PROBLEM);
    fclose (file);

    char arguments [800];
    snprintf (arguments, sizeof arguments, "import '%s'", events);
    CHECK_EQ_INT (s_node_run (dir, arguments), 1);
    char *err = s_read (dir, "err");
    CHECK_STR_CONTAINS (err, ":2: field 'problem': '" S_NEW_CODE "' comes with catalogue "
                        "revision 2, which this node has not applied (it has catalogue 1)");
    free (err);

    store = s_open (dir);
    CHECK_EQ_INT (s_version (store), 1);
    char why [512];
    CHECK_EQ_INT (s_apply (store, &root, 1, 0, cp_catalogue_builtin [2], why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 1);
    //  The new catalogue is the active one at once, in this process.
    CHECK_EQ_INT (s_version (store), 2);
    cp_event_t event;
    CHECK_EQ_INT (cp_event_from_json (S_PROBLEM, strlen (S_PROBLEM), node_store_catalogue (store),
                                      cp_date_from_civil (2023, 1, 1), &event, why, sizeof why),
                  0);
    node_store_destroy (&store);

    //  On disk: the very text under version 2, and 2 active.
    int active = 0;
    char *text = s_stored_text (dir, 2, &active);
    CHECK (text && strcmp (text, cp_catalogue_builtin [2]) == 0);
    CHECK_EQ_INT (active, 2);
    free (text);
    store = s_open (dir);
    CHECK_EQ_INT (s_version (store), 2);
    CHECK_EQ_INT (s_cursor (store), 1);
    node_store_destroy (&store);

    //  The same file again: the opening is a duplicate, the problem imports.
    CHECK_EQ_INT (s_node_run (dir, arguments), 0);
    CHECK_EQ_INT (s_node_run (dir, "view --period 2022 --format json"), 0);
    CHECK_EQ_INT (s_view_count (dir, "managed_by_problem", S_NEW_CODE), 1);
    CHECK_EQ_INT (s_view_count (dir, "catalogue", NULL), 2);
    CHECK_EQ_INT (s_node_run (dir, "view --period 2022 --catalogue 1 --format json"), 0);
    CHECK_EQ_INT (s_view_count (dir, "managed_by_problem", S_NEW_CODE), -1);
    CHECK_EQ_INT (s_view_count (dir, "managed_by_problem", "other"), 1);
    CHECK_EQ_INT (s_view_count (dir, "catalogue", NULL), 1);
    testing_remove_dir (dir);
}

//  The entry sent again is a replay: counted, nothing else changes.
static void
test_revision_replayed (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir, 1);
    s_root_t root = s_root ();
    char why [512];
    CHECK_EQ_INT (s_apply (store, &root, 1, 0, cp_catalogue_builtin [2], why, sizeof why), 0);
    CHECK_EQ_INT (s_apply (store, &root, 1, 0, cp_catalogue_builtin [2], why, sizeof why),
                  CP_EREPLAY);
    CHECK_EQ_INT (s_refused (store, CP_EREPLAY), 1);
    CHECK_EQ_INT (s_cursor (store), 1);
    CHECK_EQ_INT (s_version (store), 2);
    node_store_destroy (&store);
    int active = 0;
    char *text = s_stored_text (dir, 2, &active);
    CHECK (text && strcmp (text, cp_catalogue_builtin [2]) == 0);
    CHECK_EQ_INT (active, 2);
    free (text);
    testing_remove_dir (dir);
}

//  Revisions that do not apply are refused with CP_ECATALOGUE, counted,
//  and change nothing: neither the cursor, nor the entries, nor the
//  catalogue.  Then the next revision applies.
static void
test_revision_refused (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir, 1);
    s_root_t root = s_root ();
    char why [512];
    CHECK_EQ_INT (s_apply (store, &root, 1, 0, cp_catalogue_builtin [2], why, sizeof why), 0);

    //  A version past the next.
    CHECK_EQ_INT (s_apply (store, &root, 2, 1, S_V4, why, sizeof why), CP_ECATALOGUE);
    CHECK_STR_CONTAINS (why, "entry 2: not a revision of catalogue 2: catalogue 4 is not the "
                        "next version: expected catalogue 3");
    //  Version 2 again under a new seq, with another text.
    char *other = strdup (cp_catalogue_builtin [2]);
    assert (other);
    char *title = strstr (other, "Revision");
    CHECK (title);
    if (title)
        title [0] = 'r';
    CHECK_EQ_INT (s_apply (store, &root, 2, 1, other, why, sizeof why), CP_ECATALOGUE);
    CHECK_STR_CONTAINS (why, "entry 2: catalogue 2 differs from the one held under that "
                        "version");
    free (other);
    //  A code removed.
    CHECK_EQ_INT (s_apply (store, &root, 2, 1, S_V3_REMOVE, why, sizeof why), CP_ECATALOGUE);
    CHECK_STR_CONTAINS (why, "'remove' of problem code 'child_labour'");
    CHECK_STR_CONTAINS (why, "never removed or renamed");
    //  No catalogue at all.
    CHECK_EQ_INT (s_apply (store, &root, 2, 1, "a notice", why, sizeof why), CP_ECATALOGUE);
    CHECK_STR_CONTAINS (why, "not JSON");
    CHECK_EQ_INT (s_refused (store, CP_ECATALOGUE), 4);
    CHECK_EQ_INT (s_cursor (store), 1);
    CHECK_EQ_INT (s_version (store), 2);
    uint8_t *held = NULL;
    size_t held_size = 0;
    CHECK_EQ_INT (node_store_downlink_entry (store, 2, &held, &held_size), 0);
    CHECK (held == NULL);
    node_store_destroy (&store);
    int active = 0;
    char *text = s_stored_text (dir, 3, &active);
    CHECK (text == NULL);
    CHECK_EQ_INT (active, 2);
    free (text);

    //  The next revision, which applies, after all that.
    store = s_open (dir);
    CHECK_EQ_INT (s_refused (store, CP_ECATALOGUE), 4);
    CHECK_EQ_INT (s_apply (store, &root, 2, 1, S_V3_ADD, why, sizeof why), 0);
    CHECK_EQ_INT (s_version (store), 3);
    CHECK (cp_catalogue_lookup (node_store_catalogue (store), CP_DIM_SCHOOL, "bullied", 7) >= 0);
    CHECK (strcmp (cp_catalogue_title (node_store_catalogue (store), 3), "three") == 0);
    node_store_destroy (&store);
    store = s_open (dir);
    CHECK_EQ_INT (s_version (store), 3);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  A node set up with catalogue 2 records revision 2 and changes nothing
//  else; another text for version 2 is refused.
static void
test_revision_held (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir, 2);
    s_root_t root = s_root ();
    char why [512];
    const cp_catalogue_t *before = node_store_catalogue (store);
    CHECK_EQ_INT (s_apply (store, &root, 1, 0, cp_catalogue_builtin [2], why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 1);
    CHECK (node_store_catalogue (store) == before);
    CHECK_EQ_INT (s_version (store), 2);
    //  The base catalogue as an entry: held, the same text.
    CHECK_EQ_INT (s_apply (store, &root, 2, 1, cp_catalogue_builtin [1], why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 2);
    char *other = malloc (strlen (cp_catalogue_builtin [2]) + 2);
    assert (other);
    sprintf (other, "%s\n", cp_catalogue_builtin [2]);
    CHECK_EQ_INT (s_apply (store, &root, 3, 2, other, why, sizeof why), CP_ECATALOGUE);
    CHECK_STR_CONTAINS (why, "differs");
    free (other);
    CHECK_EQ_INT (s_cursor (store), 2);
    CHECK_EQ_INT (s_refused (store, CP_ECATALOGUE), 1);
    node_store_destroy (&store);
    int active = 0;
    char *text = s_stored_text (dir, 2, &active);
    CHECK (text && strcmp (text, cp_catalogue_builtin [2]) == 0);
    CHECK_EQ_INT (active, 2);
    free (text);
    testing_remove_dir (dir);
}

TESTING_MAIN (
    TEST (test_revision_applied),
    TEST (test_revision_replayed),
    TEST (test_revision_refused),
    TEST (test_revision_held)
)
