/*  test_node_directives: the node's half of directives (docs/design.md
    10.7), driven through node_store.h and node_import.h.

    Directive entries are signed by a root made from a fixed seed and
    applied with node_store_apply_downlink: the receipt (directive_received,
    "n-dr-SEQ") must be in the log exactly when the entry is applied, once
    whatever comes again, and a body that is no directive must be refused
    with nothing changed but its count.  directive done appends
    directive_done and keeps the day and the note; its refusals change
    nothing.  A node rebuilt as recover rebuilds it (the log's events
    appended again into a fresh node) knows what was received and done
    before the entries come again.  An imported case_opened that names a
    referral takes it up (directive_done, "case opened") in its import's
    transaction, and one that names no referral of this node is rejected.
    The cp_directive_state record and the "directive" field of an import
    line are checked here too.  Stores live in temporary directories under
    $CPSYNC_TEST_TMP (or /tmp), removed after.                              */

#define _XOPEN_SOURCE 700       //  nftw, mkdtemp

#include "cp_codec.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "fuzz/downlink_testing.h"
#include "node_import.h"
#include "node_store.h"
#include "testing.h"

#include <assert.h>
#include <sodium.h>

#define S_TOWN "tirane"
#define S_ISSUED 1700000000000      //  2023-11-14, in ms

typedef struct {
    uint8_t public_key [CP_KEY_SIZE];
    uint8_t secret [CP_SIGN_SECRET_SIZE];
} s_root_t;

static s_root_t
s_root (void)
{
    CHECK (sodium_init () >= 0);
    s_root_t root;
    downlink_root (root.public_key, root.secret);
    return root;
}

//  A fresh node of S_TOWN at catalogue 2 (which has referral central_agency)
//  in dir/name.
static node_store_t *
s_node (const char *dir, const char *name)
{
    char path [600];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    CHECK_EQ_INT (node_store_create (path, S_TOWN, 2), 0);
    int error = 0;
    node_store_t *store = node_store_open (path, &error);
    if (!store) {
        fprintf (stderr, "  node_store_open: %s\n", cp_strerror (error));
        exit (1);
    }
    return store;
}

//  Applies an entry of kind with body (size bytes) at seq after prev.
static int
s_apply_body (node_store_t *store, const s_root_t *root, uint64_t seq, uint64_t prev,
              int kind, const uint8_t *body, size_t body_size, char *why, size_t why_size)
{
    cp_downlink_t entry = {.seq = seq, .kind = kind, .issued = S_ISSUED, .body = body,
                           .body_size = body_size};
    CHECK_EQ_INT (cp_downlink_address_parse (S_TOWN, &entry.address), 0);
    size_t size = 0;
    uint8_t *bytes = cp_downlink_encode (&entry, root->secret, &size);
    CHECK (bytes);
    int rc = node_store_apply_downlink (store, root->public_key, prev, bytes, size, why,
                                        why_size);
    free (bytes);
    return rc;
}

//  Applies a directive of kind, due and text at seq after prev.
static int
s_apply_directive (node_store_t *store, const s_root_t *root, uint64_t seq, uint64_t prev,
                   int kind, int32_t due, const char *text)
{
    cp_directive_t directive = {.kind = kind, .due = due};
    snprintf (directive.text, sizeof directive.text, "%s", text);
    size_t size = 0;
    uint8_t *body = cp_directive_encode (&directive, &size);
    CHECK (body);
    char why [256] = "";
    int rc = s_apply_body (store, root, seq, prev, CP_DOWNLINK_DIRECTIVE, body, size, why,
                           sizeof why);
    if (rc)
        fprintf (stderr, "  apply %llu: %s\n", (unsigned long long) seq, why);
    free (body);
    return rc;
}

static uint64_t
s_head (node_store_t *store)
{
    uint64_t head = 0, acked = 0, cases = 0;
    CHECK_EQ_INT (node_store_counts (store, &head, &acked, &cases), 0);
    return head;
}

static uint64_t
s_cursor (node_store_t *store)
{
    uint64_t cursor = 0;
    CHECK_EQ_INT (node_store_downlink_cursor (store, &cursor), 0);
    return cursor;
}

//  The node's whole log as events (malloc'd, caller frees), *count of them.
static cp_event_t *
s_log (node_store_t *store, size_t *count)
{
    uint8_t *payload = NULL;
    size_t size = 0;
    uint64_t last = 0, first = 0;
    cp_event_t *events = NULL;
    *count = 0;
    CHECK_EQ_INT (node_store_read_batch (store, 1, 1000, 1 << 20, &payload, &size, &last), 0);
    if (payload)
        CHECK_EQ_INT (cp_codec_batch_decode (payload, size, &first, &events, count), 0);
    free (payload);
    return events;
}

//  How many events of the log have type and id.
static int
s_logged (node_store_t *store, int type, const char *id)
{
    size_t count = 0;
    cp_event_t *events = s_log (store, &count);
    int found = 0;
    for (size_t index = 0; index < count; index++)
        found += events [index].type == type && strcmp (events [index].id, id) == 0;
    free (events);
    return found;
}

static cp_directive_state_t
s_state (node_store_t *store, uint64_t seq, int expected_rc)
{
    cp_directive_state_t state;
    CHECK_EQ_INT (node_store_directive_state (store, seq, &state), expected_rc);
    return state;
}

//  node_store_directive_done in a transaction of its own, committed only
//  when it appends; why gets the reason of a refusal.
static int
s_done (node_store_t *store, uint64_t seq, int32_t date, const char *note, char *why,
        size_t why_size)
{
    CHECK_EQ_INT (node_store_begin (store), 0);
    int rc = node_store_directive_done (store, seq, date, note, why, why_size);
    if (rc == NODE_STORE_APPENDED)
        CHECK_EQ_INT (node_store_commit (store), 0);
    else
        node_store_abort (store);
    return rc;
}

//  =====================================================================
//  Receipts

//  Applying a directive appends its receipt in the same transaction, once:
//  the entry sent again is a replay and makes no second receipt; an entry
//  refused (a gap) makes none.
static void
test_receipt_once (void)
{
    s_root_t root = s_root ();
    char dir [512];
    testing_fresh_dir ("test_node_directives", dir, sizeof dir);
    node_store_t *store = s_node (dir, "node");
    int32_t today = cp_date_today ();
    CHECK_EQ_INT (s_apply_directive (store, &root, 3, 0, CP_DIRECTIVE_DEADLINE, today + 30,
                                     "Report the quarter's figures"), 0);
    CHECK_EQ_INT (s_cursor (store), 3);
    CHECK_EQ_INT (s_head (store), 1);
    size_t count = 0;
    cp_event_t *events = s_log (store, &count);
    CHECK_EQ_INT (count, 1);
    if (count == 1) {
        CHECK_EQ_INT (events [0].type, CP_EVENT_DIRECTIVE_RECEIVED);
        CHECK (strcmp (events [0].id, "n-dr-3") == 0);
        CHECK_EQ_INT (events [0].entry, 3);
        CHECK_EQ_INT (events [0].date, today);
    }
    free (events);
    cp_directive_state_t state = s_state (store, 3, 0);
    CHECK_EQ_INT (state.kind, CP_DIRECTIVE_DEADLINE);
    CHECK_EQ_INT (state.due, today + 30);
    CHECK_EQ_INT (state.received, today);
    CHECK_EQ_INT (state.done, 0);

    //  The same entry again: a replay, no second receipt.
    CHECK_EQ_INT (s_apply_directive (store, &root, 3, 0, CP_DIRECTIVE_DEADLINE, today + 30,
                                     "Report the quarter's figures"), CP_EREPLAY);
    CHECK_EQ_INT (s_head (store), 1);
    //  An entry after a gap: refused, no receipt.
    CHECK_EQ_INT (s_apply_directive (store, &root, 9, 5, CP_DIRECTIVE_NOTICE, 0, "Later"),
                  CP_EGAP);
    CHECK_EQ_INT (s_head (store), 1);
    s_state (store, 9, 1);
    //  The next one in order: a second receipt of its own.
    CHECK_EQ_INT (s_apply_directive (store, &root, 5, 3, CP_DIRECTIVE_NOTICE, 0, "Notice"), 0);
    CHECK_EQ_INT (s_head (store), 2);
    CHECK_EQ_INT (s_logged (store, CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-5"), 1);
    CHECK_EQ_INT (s_logged (store, CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-3"), 1);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  A directive entry whose body is no directive is refused with the
//  decoder's code: the cursor stays, no receipt, no state, one count.
static void
test_bad_body_refused (void)
{
    s_root_t root = s_root ();
    char dir [512];
    testing_fresh_dir ("test_node_directives", dir, sizeof dir);
    node_store_t *store = s_node (dir, "node");
    static const struct {
        const char *body;
        size_t size;
        int code;
    } bodies [] = {
        {"hello", 5, CP_EMALFORMED},
        {"\x94\x01\x09\x00\xa1x", 6, CP_EBADKIND},         //  kind 9
        {"\x94\x02\x01\x00\xa1x", 6, CP_EVERSION},         //  version 2
        {"\x94\x01\x01\x00\xa0", 5, CP_EMISSING},          //  no text
        {"\x93\x01\x01\x00", 4, CP_ETYPE}                  //  three fields
    };
    for (size_t index = 0; index < sizeof bodies / sizeof bodies [0]; index++) {
        char why [256] = "";
        int rc = s_apply_body (store, &root, 4, 0, CP_DOWNLINK_DIRECTIVE,
                               (const uint8_t *) bodies [index].body, bodies [index].size, why,
                               sizeof why);
        CHECK_EQ_INT (rc, bodies [index].code);
        CHECK_STR_CONTAINS (why, "entry 4: not a directive");
    }
    CHECK_EQ_INT (s_cursor (store), 0);
    CHECK_EQ_INT (s_head (store), 0);
    s_state (store, 4, 1);
    uint8_t *stored = NULL;
    size_t size = 0;
    CHECK_EQ_INT (node_store_downlink_entry (store, 4, &stored, &size), 0);
    CHECK (stored == NULL);
    free (stored);
    cp_store_counter_t refusals [64];
    size_t kinds = 0;
    CHECK_EQ_INT (node_store_downlink_refusals (store, refusals, 64, &kinds), 0);
    CHECK_EQ_INT (kinds, 5);
    //  A good one at the same seq is applied after all that.
    CHECK_EQ_INT (s_apply_directive (store, &root, 4, 0, CP_DIRECTIVE_NOTICE, 0, "ok"), 0);
    CHECK_EQ_INT (s_head (store), 1);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  =====================================================================
//  Done

static void
test_done (void)
{
    s_root_t root = s_root ();
    char dir [512];
    testing_fresh_dir ("test_node_directives", dir, sizeof dir);
    node_store_t *store = s_node (dir, "node");
    int32_t today = cp_date_today ();
    CHECK_EQ_INT (s_apply_directive (store, &root, 2, 0, CP_DIRECTIVE_DEADLINE, today - 1,
                                     "Late already"), 0);
    CHECK_EQ_INT (s_head (store), 1);
    char why [256] = "";
    //  Refusals first: each changes nothing.
    CHECK_EQ_INT (s_done (store, 7, today, "", why, sizeof why), CP_ENOTFOUND);
    CHECK_STR_CONTAINS (why, "7 is no directive this node has received");
    char long_note [CP_NOTE_MAX + 2];
    memset (long_note, 'n', sizeof long_note - 1);
    long_note [sizeof long_note - 1] = 0;
    CHECK_EQ_INT (s_done (store, 2, today, long_note, why, sizeof why), CP_ETOOBIG);
    CHECK_STR_CONTAINS (why, "note");
    CHECK_EQ_INT (s_done (store, 2, today, "tab\there", why, sizeof why), CP_EBADVALUE);
    CHECK_STR_CONTAINS (why, "note");
    CHECK_EQ_INT (s_head (store), 1);
    CHECK_EQ_INT (s_state (store, 2, 0).done, 0);

    //  Done, with a note of exactly the limit.
    long_note [CP_NOTE_MAX] = 0;
    CHECK_EQ_INT (s_done (store, 2, today, long_note, why, sizeof why), NODE_STORE_APPENDED);
    CHECK_EQ_INT (s_head (store), 2);
    cp_directive_state_t state = s_state (store, 2, 0);
    CHECK_EQ_INT (state.done, today);
    CHECK (strcmp (state.note, long_note) == 0);
    CHECK_EQ_INT (state.kind, CP_DIRECTIVE_DEADLINE);
    CHECK_EQ_INT (s_logged (store, CP_EVENT_DIRECTIVE_DONE, "n-dd-2"), 1);
    size_t count = 0;
    cp_event_t *events = s_log (store, &count);
    if (count == 2) {
        CHECK_EQ_INT (events [1].entry, 2);
        CHECK (strcmp (events [1].note, long_note) == 0);
    }
    free (events);

    //  Done again: refused, saying when.
    char day [16];
    cp_date_format (today, day);
    CHECK_EQ_INT (s_done (store, 2, today, "again", why, sizeof why), CP_EEXISTS);
    CHECK_STR_CONTAINS (why, "done already on");
    CHECK_STR_CONTAINS (why, day);
    CHECK_EQ_INT (s_head (store), 2);
    CHECK (strcmp (s_state (store, 2, 0).note, long_note) == 0);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  A node rebuilt from its events (as recover appends what the central's
//  archive holds) knows what was received and done; the entries that come
//  again then make no second receipt, and done stays done.
static void
test_recover_keeps_state (void)
{
    s_root_t root = s_root ();
    char dir [512];
    testing_fresh_dir ("test_node_directives", dir, sizeof dir);
    node_store_t *lost = s_node (dir, "lost");
    int32_t today = cp_date_today ();
    CHECK_EQ_INT (s_apply_directive (lost, &root, 1, 0, CP_DIRECTIVE_REFERRAL, 0, "A child"),
                  0);
    CHECK_EQ_INT (s_apply_directive (lost, &root, 2, 1, CP_DIRECTIVE_NOTICE, 0, "Read it"), 0);
    char why [256] = "";
    CHECK_EQ_INT (s_done (lost, 1, today - 2, "seen to", why, sizeof why), NODE_STORE_APPENDED);
    size_t count = 0;
    cp_event_t *events = s_log (lost, &count);
    CHECK_EQ_INT (count, 3);

    node_store_t *rebuilt = s_node (dir, "rebuilt");
    node_store_entry_t *entries = calloc (count, sizeof (node_store_entry_t));
    node_store_entry_t **pointers = calloc (count, sizeof (node_store_entry_t *));
    int *outcomes = calloc (count, sizeof (int));
    assert (entries && pointers && outcomes);
    for (size_t index = 0; index < count; index++) {
        CHECK_EQ_INT (cp_event_resolve (&events [index], node_store_catalogue (rebuilt), NULL,
                                        0), 0);
        entries [index].event = events [index];
        node_store_prepare (rebuilt, &entries [index]);
        pointers [index] = &entries [index];
    }
    CHECK_EQ_INT (node_store_begin (rebuilt), 0);
    CHECK_EQ_INT (node_store_append_many (rebuilt, pointers, count, NULL, outcomes, NULL, 0),
                  0);
    CHECK_EQ_INT (node_store_commit (rebuilt), 0);
    CHECK_EQ_INT (s_head (rebuilt), 3);
    cp_directive_state_t state = s_state (rebuilt, 1, 0);
    CHECK_EQ_INT (state.kind, 0);               //  its entry has not come again yet
    CHECK_EQ_INT (state.received, today);
    CHECK_EQ_INT (state.done, today - 2);
    CHECK (strcmp (state.note, "seen to") == 0);
    CHECK_EQ_INT (s_state (rebuilt, 2, 0).received, today);

    //  Not applied yet at the rebuilt node: not one to mark done.
    CHECK_EQ_INT (s_done (rebuilt, 2, today, "", why, sizeof why), CP_ENOTFOUND);
    //  The entries come again: no new receipt, the states complete.
    CHECK_EQ_INT (s_apply_directive (rebuilt, &root, 1, 0, CP_DIRECTIVE_REFERRAL, 0, "A child"),
                  0);
    CHECK_EQ_INT (s_apply_directive (rebuilt, &root, 2, 1, CP_DIRECTIVE_NOTICE, 0, "Read it"),
                  0);
    CHECK_EQ_INT (s_head (rebuilt), 3);
    state = s_state (rebuilt, 1, 0);
    CHECK_EQ_INT (state.kind, CP_DIRECTIVE_REFERRAL);
    CHECK_EQ_INT (state.done, today - 2);
    CHECK (strcmp (state.note, "seen to") == 0);
    CHECK_EQ_INT (s_done (rebuilt, 1, today, "", why, sizeof why), CP_EEXISTS);
    CHECK_EQ_INT (s_done (rebuilt, 2, today, "", why, sizeof why), NODE_STORE_APPENDED);
    CHECK_EQ_INT (s_head (rebuilt), 4);
    free (events);
    free (entries);
    free (pointers);
    free (outcomes);
    node_store_destroy (&lost);
    node_store_destroy (&rebuilt);
    testing_remove_dir (dir);
}

//  =====================================================================
//  Referrals taken up by an imported case

//  Imports text (lines of JSON) from dir/file.jsonl; errors into *errors
//  (malloc'd).
static int
s_import (node_store_t *store, const char *dir, const char *text, node_import_stats_t *stats,
          char **errors)
{
    char path [600];
    snprintf (path, sizeof path, "%s/import.jsonl", dir);
    FILE *file = fopen (path, "w");
    CHECK (file);
    fputs (text, file);
    fclose (file);
    size_t size = 0;
    FILE *sink = open_memstream (errors, &size);
    int rc = node_import_file (store, path, sink, false, stats);
    fclose (sink);
    return rc;
}

static void
test_referral_taken_up (void)
{
    s_root_t root = s_root ();
    char dir [512];
    testing_fresh_dir ("test_node_directives", dir, sizeof dir);
    node_store_t *store = s_node (dir, "node");
    CHECK_EQ_INT (s_apply_directive (store, &root, 4, 0, CP_DIRECTIVE_REFERRAL, 0,
                                     "A referral"), 0);
    CHECK_EQ_INT (s_apply_directive (store, &root, 6, 4, CP_DIRECTIVE_NOTICE, 0, "A notice"),
                  0);
    CHECK_EQ_INT (s_head (store), 2);
    const char *lines =
        "{\"id\":\"a1\",\"type\":\"case_opened\",\"case\":\"k1\",\"date\":\"2023-03-01\","
        "\"age\":9,\"sex\":\"F\",\"ethnicity\":\"majority\",\"referral\":\"central_agency\","
        "\"directive\":4}\n"
        "{\"id\":\"a2\",\"type\":\"case_opened\",\"case\":\"k2\",\"date\":\"2023-03-01\","
        "\"age\":9,\"sex\":\"F\",\"ethnicity\":\"majority\",\"referral\":\"central_agency\","
        "\"directive\":5}\n"
        "{\"id\":\"a3\",\"type\":\"case_opened\",\"case\":\"k3\",\"date\":\"2023-03-01\","
        "\"age\":9,\"sex\":\"F\",\"ethnicity\":\"majority\",\"referral\":\"central_agency\","
        "\"directive\":6}\n"
        "{\"id\":\"a4\",\"type\":\"case_opened\",\"case\":\"k4\",\"date\":\"2023-03-02\","
        "\"age\":9,\"sex\":\"M\",\"ethnicity\":\"majority\",\"referral\":\"central_agency\","
        "\"directive\":4}\n";
    node_import_stats_t stats;
    char *errors = NULL;
    CHECK_EQ_INT (s_import (store, dir, lines, &stats, &errors), 0);
    CHECK_EQ_INT (stats.imported, 2);
    CHECK_EQ_INT (stats.rejected, 2);
    CHECK_STR_CONTAINS (errors, ":2: field 'directive': 5 is no directive this node has "
                                "received");
    CHECK_STR_CONTAINS (errors, ":3: field 'directive': directive 6 is a notice, not a "
                                "referral");
    free (errors);
    //  Two cases and one directive_done: the second case found it done.
    CHECK_EQ_INT (s_head (store), 5);
    CHECK_EQ_INT (s_logged (store, CP_EVENT_DIRECTIVE_DONE, "n-dd-4"), 1);
    cp_directive_state_t state = s_state (store, 4, 0);
    CHECK_EQ_INT (state.done, cp_date_today ());
    CHECK (strcmp (state.note, "case opened") == 0);
    CHECK_EQ_INT (s_state (store, 6, 0).done, 0);
    char why [256] = "";
    CHECK_EQ_INT (s_done (store, 4, cp_date_today (), "", why, sizeof why), CP_EEXISTS);

    //  The same file again: duplicates only, nothing more done.
    CHECK_EQ_INT (s_import (store, dir, lines, &stats, &errors), 0);
    CHECK_EQ_INT (stats.duplicates, 2);
    CHECK_EQ_INT (s_head (store), 5);
    free (errors);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  =====================================================================
//  The import line's "directive" and the stored state

//  A case_opened line with referral and, unless NULL, "directive": value.
static void
s_opened_line (char *line, size_t size, const char *referral, const char *value)
{
    snprintf (line, size, "{\"id\":\"a\",\"type\":\"case_opened\",\"case\":\"k\","
              "\"date\":\"2023-01-01\",\"age\":3,\"sex\":\"F\",\"ethnicity\":\"roma\","
              "\"referral\":\"%s\"%s%s}", referral, value? ",\"directive\":": "",
              value? value: "");
}

static void
test_directive_field (void)
{
    cp_catalogue_t *catalogue = cp_catalogue_new_builtin (2);
    CHECK (catalogue);
    int32_t today = cp_date_today ();
    static const struct {
        const char *referral;
        const char *value;          //  of "directive", NULL: none
        int code;
        const char *why;
        uint64_t entry;
    } cases [] = {
        {"central_agency", "12", 0, "", 12},
        {"central_agency", NULL, 0, "", 0},
        {"school", "12", CP_EUNKNOWNFIELD,
         "field 'directive' belongs only to a case referred by the State Agency", 0},
        {"central_agency", "\"2x\"", CP_ETYPE, "field 'directive' is not a whole number", 0},
        {"central_agency", "1.5", CP_ETYPE, "field 'directive' is not a whole number", 0},
        {"central_agency", "true", CP_ETYPE, "field 'directive' is not a whole number", 0},
        {"central_agency", "0", CP_EBADVALUE, "field 'directive': 0 is no directive's number",
         0},
        {"central_agency", "-4", CP_EBADVALUE, "field 'directive': -4 is no directive's number",
         0},
        {"central_agency", "99999999999999999999", CP_EBADVALUE, "is no directive's number", 0}
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char line [512], why [256] = "";
        s_opened_line (line, sizeof line, cases [index].referral, cases [index].value);
        cp_event_t event;
        int rc = cp_event_from_json (line, strlen (line), catalogue, today, &event, why,
                                     sizeof why);
        CHECK_EQ_INT (rc, cases [index].code);
        CHECK_STR_CONTAINS (why, cases [index].why);
        if (rc == 0)
            CHECK_EQ_INT (event.entry, cases [index].entry);
    }
    //  On another type than case_opened.
    const char *closed = "{\"id\":\"a\",\"type\":\"case_closed\",\"case\":\"k\","
                         "\"date\":\"2023-01-01\",\"reason\":\"adult\",\"directive\":12}";
    cp_event_t event;
    char why [256] = "";
    CHECK_EQ_INT (cp_event_from_json (closed, strlen (closed), catalogue, today, &event, why,
                                      sizeof why), CP_EUNKNOWNFIELD);
    CHECK_STR_CONTAINS (why, "field 'directive' does not belong to a case_closed event");
    cp_catalogue_destroy (&catalogue);
}

static void
test_state_record (void)
{
    cp_directive_state_t state = {.kind = CP_DIRECTIVE_REFERRAL, .due = 19500,
                                  .received = 19400, .done = 19450, .note = "case opened"};
    uint8_t record [CP_DIRECTIVE_STATE_MAX];
    size_t size = cp_directive_state_encode (&state, record);
    CHECK_EQ_INT (size, CP_DIRECTIVE_STATE_HEADER + 11);
    //  Known answer: version, kind, three days, the note.
    static const uint8_t expected [] = {1, 1, 0, 0, 0x4c, 0x2c, 0, 0, 0x4b, 0xc8, 0, 0,
                                        0x4b, 0xfa, 11, 'c', 'a', 's', 'e', ' ', 'o', 'p',
                                        'e', 'n', 'e', 'd'};
    CHECK (size == sizeof expected && memcmp (record, expected, size) == 0);
    cp_directive_state_t back;
    CHECK_EQ_INT (cp_directive_state_decode (record, size, &back), 0);
    CHECK (back.kind == state.kind && back.due == state.due && back.received == state.received
        && back.done == state.done && strcmp (back.note, state.note) == 0);
    for (size_t cut = 0; cut < size; cut++)
        CHECK_EQ_INT (cp_directive_state_decode (record, cut, &back), CP_EMALFORMED);
    uint8_t bad [sizeof expected];
    memcpy (bad, expected, sizeof bad);
    bad [0] = 2;
    CHECK_EQ_INT (cp_directive_state_decode (bad, sizeof bad, &back), CP_EVERSION);
    bad [0] = 1;
    bad [1] = 4;
    CHECK_EQ_INT (cp_directive_state_decode (bad, sizeof bad, &back), CP_EBADKIND);
    bad [1] = 1;
    bad [2] = 0x80;
    CHECK_EQ_INT (cp_directive_state_decode (bad, sizeof bad, &back), CP_EDATERANGE);
    bad [2] = 0;
    bad [17] = 0;
    CHECK_EQ_INT (cp_directive_state_decode (bad, sizeof bad, &back), CP_EMALFORMED);
    CHECK_EQ_INT (back.kind, 0);
}

TESTING_MAIN (
    TEST (test_receipt_once),
    TEST (test_bad_body_refused),
    TEST (test_done),
    TEST (test_recover_keeps_state),
    TEST (test_referral_taken_up),
    TEST (test_directive_field),
    TEST (test_state_record)
)
