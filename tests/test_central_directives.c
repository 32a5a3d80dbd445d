/*  test_central_directives: the states of the central's directives
    (central_directives) and the durable downlink cursor they read.

    A central is set up in a temporary directory under $CPSYNC_TEST_TMP (or
    /tmp) and directives are published as `cpsync-central directive send`
    publishes them (central_admin_publish, cp_directive bodies).  What the
    nodes report back arrives as it does from a real node: events of the
    node's own kinds (directive_received, directive_done) in a batch that
    central_store_apply takes; where a node's downlink stands is noted as
    central_downlink notes it from HELLO and DOWNACK, and written with the
    next flush.  The list is then read with CPSYNC_TODAY set on either side
    of the due date, and every state checked at every municipality, with
    the counts and the referrals taken up.

    The downlink cursor is checked to survive closing the store, to come
    from central_downlink's HELLO and DOWNACK, and to read as 0 from a
    cursor record of the size written before it was kept.                 */

#define _XOPEN_SOURCE 700      //  nftw, mkdtemp, setenv

#include "central_admin.h"
#include "central_directives.h"
#include "central_downlink.h"
#include "central_store.h"
#include "cp_batch.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "cp_wire.h"

#include <czmq.h>
#include <ftw.h>
#include <lmdb.h>

#include "testing.h"

static char s_dir [4096];
static char s_central [4200];

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info, (void) flag, (void) ftw;
    return remove (path);
}

//  A central set up afresh in s_central.
static void
s_setup (void)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_central_directives.XXXXXX",
              base && *base? base: "/tmp");
    assert (mkdtemp (s_dir));
    snprintf (s_central, sizeof s_central, "%s/central", s_dir);
    char why [512] = "";
    int rc = central_admin_init (s_central, "tcp://127.0.0.1:*", 2, NULL, why, sizeof why);
    if (rc)
        fprintf (stderr, "  init: %s\n", why);
    assert (rc == 0);
}

static void
s_teardown (void)
{
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int32_t
s_day (const char *date)
{
    int32_t day = 0;
    assert (cp_date_parse (date, strlen (date), &day) == 0);
    return day;
}

static central_store_t *
s_open (void)
{
    int error = 0;
    central_store_t *store = central_store_open (s_central, 0, &error);
    if (!store)
        fprintf (stderr, "  open: %s\n", cp_strerror (error));
    assert (store);
    return store;
}

//  Publishes an entry as the commands do (the store must not be open in
//  this process); returns its seq, 0 on failure.
static uint64_t
s_publish (int kind, const char *to, const uint8_t *body, size_t size)
{
    char why [512] = "";
    uint64_t seq = 0;
    if (central_admin_publish (s_central, NULL, kind, to, body, size, &seq, why, sizeof why))
        fprintf (stderr, "  publish to %s: %s\n", to, why);
    return seq;
}

//  Publishes a directive; returns its seq.
static uint64_t
s_directive (int kind, const char *to, const char *due, const char *text)
{
    cp_directive_t directive = {kind, due? s_day (due): 0, ""};
    snprintf (directive.text, sizeof directive.text, "%s", text);
    size_t size = 0;
    uint8_t *body = cp_directive_encode (&directive, &size);
    assert (body);
    uint64_t seq = s_publish (CP_DOWNLINK_DIRECTIVE, to, body, size);
    free (body);
    return seq;
}

//  An event of the node's own kinds about directive seq.
static cp_event_t
s_own (int type, const char *id, const char *date, uint64_t seq, const char *note)
{
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = (uint8_t) type;
    snprintf (event.id, sizeof event.id, "%s", id);
    event.date = s_day (date);
    event.entry = seq;
    snprintf (event.note, sizeof event.note, "%s", note? note: "");
    return event;
}

//  Applies events as municipality's first batch, as central_intake hands a
//  batch to the store (frames encoded, events decoded and prepared), and
//  commits.  Returns the number of events applied.
static size_t
s_report (central_store_t *store, const char *municipality, const cp_event_t *events,
          size_t count)
{
    size_t payload_size = 0, header_size = 0;
    uint8_t *payload = cp_codec_batch_encode (1, events, count, &payload_size);
    cp_batch_header_t header = {0};
    snprintf (header.municipality, sizeof header.municipality, "%s", municipality);
    memset (header.log, 0xd1, CP_WIRE_LOG_SIZE);
    header.first = 1;
    header.last = header.head = count;
    memset (header.chain, 0xc1, CP_WIRE_CHAIN_SIZE);
    snprintf (header.node_key, sizeof header.node_key, "none");
    snprintf (header.data_key, sizeof header.data_key, "none");
    uint8_t *header_bytes = cp_wire_batch_header_encode (&header, &header_size);
    central_batch_t batch = {0};
    assert (payload && header_bytes);
    assert (cp_batch_decode (&header, payload, payload_size, &batch.events, &batch.count) == 0);
    batch.municipality = cp_municipality_index (municipality);
    batch.header = header;
    batch.frames = (cp_batch_frames_t) {header_bytes, header_size, payload, payload_size,
                                        (const uint8_t *) "", 0};
    central_store_prepare (store, &batch);
    central_result_t result = {0};
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (central_store_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (central_store_commit (store), 0);
    central_store_batch_clear (&batch);
    free (header_bytes);
    free (payload);
    return result.applied;
}

//  The directive of seq in a list, or NULL.
static json_t *
s_find (json_t *list, uint64_t seq)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item)
        if ((uint64_t) json_integer_value (json_object_get (item, "seq")) == seq)
            return item;
    return NULL;
}

//  A municipality's entry of a directive, or NULL.
static json_t *
s_at (json_t *item, const char *code)
{
    size_t index;
    json_t *where;
    json_array_foreach (json_object_get (item, "municipalities"), index, where)
        if (streq (json_string_value (json_object_get (where, "code")), code))
            return where;
    return NULL;
}

static const char *
s_state (json_t *item, const char *code)
{
    const char *state = json_string_value (json_object_get (s_at (item, code), "state"));
    return state? state: "(none)";
}

static long long
s_count (json_t *item, const char *state)
{
    return json_integer_value (json_object_get (json_object_get (item, "counts"), state));
}

//  The list as of today (YYYY-MM-DD).
static json_t *
s_list (central_store_t *store, const char *today)
{
    setenv ("CPSYNC_TODAY", today, 1);
    int error = 0;
    json_t *list = central_directives_list (store, cp_date_today (), &error);
    unsetenv ("CPSYNC_TODAY");
    CHECK_EQ_INT (error, 0);
    CHECK (list);
    return list;
}

//  =====================================================================

//  Every state, and which wins when several hold.
static void
test_state (void)
{
    int32_t due = s_day ("2026-06-30"), before = due - 1, after = due + 1;
    central_directive_report_t none = {0}, received = {.received = due - 10};
    central_directive_report_t done = {.received = due - 10, .done = due + 5};
    CHECK_EQ_INT (central_directive_state (5, due, 4, NULL, before), CENTRAL_DIRECTIVE_SENT);
    CHECK_EQ_INT (central_directive_state (5, due, 4, &none, before), CENTRAL_DIRECTIVE_SENT);
    CHECK_EQ_INT (central_directive_state (5, due, 5, &none, before),
                  CENTRAL_DIRECTIVE_DELIVERED);
    CHECK_EQ_INT (central_directive_state (5, due, 9, NULL, due), CENTRAL_DIRECTIVE_DELIVERED);
    CHECK_EQ_INT (central_directive_state (5, due, 5, &received, before),
                  CENTRAL_DIRECTIVE_ACKNOWLEDGED);
    //  A receipt with the cursor noted before it: acknowledged all the same
    CHECK_EQ_INT (central_directive_state (5, due, 0, &received, before),
                  CENTRAL_DIRECTIVE_ACKNOWLEDGED);
    CHECK_EQ_INT (central_directive_state (5, due, 5, &done, before), CENTRAL_DIRECTIVE_DONE);
    //  Past the due day: overdue unless done (done late is done)
    CHECK_EQ_INT (central_directive_state (5, due, 4, NULL, after), CENTRAL_DIRECTIVE_OVERDUE);
    CHECK_EQ_INT (central_directive_state (5, due, 5, &none, after),
                  CENTRAL_DIRECTIVE_OVERDUE);
    CHECK_EQ_INT (central_directive_state (5, due, 5, &received, after),
                  CENTRAL_DIRECTIVE_OVERDUE);
    CHECK_EQ_INT (central_directive_state (5, due, 5, &done, after), CENTRAL_DIRECTIVE_DONE);
    //  On the due day itself it is not overdue yet; with no due day, never
    CHECK_EQ_INT (central_directive_state (5, due, 5, &none, due), CENTRAL_DIRECTIVE_DELIVERED);
    CHECK_EQ_INT (central_directive_state (5, 0, 4, NULL, after), CENTRAL_DIRECTIVE_SENT);
    CHECK (streq (central_directive_state_name (CENTRAL_DIRECTIVE_ACKNOWLEDGED),
                  "acknowledged"));
    CHECK (streq (central_directive_state_name (CENTRAL_DIRECTIVE_OVERDUE), "overdue"));
    CHECK (central_directive_state_name (CENTRAL_DIRECTIVE_STATES) == NULL);
}

//  The list, every state applied through the store as nodes report them.
static void
test_list (void)
{
    s_setup ();
    uint64_t referral = s_directive (CP_DIRECTIVE_REFERRAL, "county:berat", "2026-06-30",
                                     "Referral 2026/114: please take it up.");
    uint64_t notice = s_directive (CP_DIRECTIVE_NOTICE, "tirane", NULL, "Office closed "
                                   "on Friday.\nThank you.");
    uint64_t figures = s_publish (CP_DOWNLINK_FIGURES, "all", (const uint8_t *) "digest", 6);
    uint64_t unreadable = s_publish (CP_DOWNLINK_DIRECTIVE, "durres",
                                     (const uint8_t *) "report by Friday", 16);
    CHECK_EQ_INT (referral, 1);
    CHECK_EQ_INT (notice, 2);
    CHECK_EQ_INT (figures, 3);
    CHECK_EQ_INT (unreadable, 4);
    int in_berat = 0;
    int county = cp_county_index ("berat");
    for (int index = 0; index < cp_municipality_count (); index++)
        in_berat += cp_municipality_county (index) == county;
    CHECK (in_berat >= 3);

    central_store_t *store = s_open ();
    //  Nothing heard yet: every copy sent
    json_t *list = s_list (store, "2026-06-01");
    CHECK_EQ_INT (json_array_size (list), 3);       //  not the figures entry
    json_t *item = s_find (list, referral);
    CHECK (item && streq (json_string_value (json_object_get (item, "kind")), "referral"));
    CHECK (item && streq (json_string_value (json_object_get (item, "due")), "2026-06-30"));
    CHECK (item && streq (json_string_value (json_object_get (item, "to")), "county:berat"));
    CHECK (item && streq (json_string_value (json_object_get (item, "text")),
                          "Referral 2026/114: please take it up."));
    CHECK_EQ_INT (json_array_size (json_object_get (item, "municipalities")), in_berat);
    CHECK_EQ_INT (s_count (item, "sent"), in_berat);
    CHECK (s_find (list, figures) == NULL);
    json_decref (list);

    //  berat's node has the referral and the notice's seq behind it, and
    //  reports it received and done; kucove has it and received it; dimal
    //  has it only; tirane has the notice.  The cursors come as HELLO and
    //  DOWNACK note them, written by the next flush.
    CHECK_EQ_INT (s_report (store, "berat", (cp_event_t []) {
        s_own (CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-1", "2026-05-02", referral, NULL),
        s_own (CP_EVENT_DIRECTIVE_DONE, "n-dd-1", "2026-05-20", referral,
               "case opened as the referral asked")}, 2), 2);
    CHECK_EQ_INT (s_report (store, "kucove", (cp_event_t []) {
        s_own (CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-1", "2026-05-03", referral, NULL)}, 1), 1);
    central_store_downlink_reached (store, cp_municipality_index ("berat"), 3);
    central_store_downlink_reached (store, cp_municipality_index ("kucove"), 1);
    central_store_downlink_reached (store, cp_municipality_index ("dimal"), 1);
    central_store_downlink_reached (store, cp_municipality_index ("tirane"), 2);
    central_store_downlink_reached (store, cp_municipality_index ("durres"), 4);
    //  Not written yet: a reader sees what is committed
    list = s_list (store, "2026-06-01");
    CHECK (streq (s_state (s_find (list, referral), "dimal"), "sent"));
    json_decref (list);
    CHECK (central_store_pending (store));
    CHECK_EQ_INT (central_store_flush (store), 0);

    list = s_list (store, "2026-06-01");
    item = s_find (list, referral);
    CHECK (streq (s_state (item, "berat"), "done"));
    CHECK (streq (s_state (item, "kucove"), "acknowledged"));
    CHECK (streq (s_state (item, "dimal"), "delivered"));
    CHECK (streq (s_state (item, "skrapar"), "sent"));
    CHECK (streq (s_state (item, "tirane"), "(none)"));     //  not addressed
    json_t *berat = s_at (item, "berat");
    CHECK (streq (json_string_value (json_object_get (berat, "received")), "2026-05-02"));
    CHECK (streq (json_string_value (json_object_get (berat, "done")), "2026-05-20"));
    CHECK (streq (json_string_value (json_object_get (berat, "note")),
                  "case opened as the referral asked"));
    CHECK (json_is_null (json_object_get (s_at (item, "kucove"), "done")));
    CHECK_EQ_INT (s_count (item, "done"), 1);
    CHECK_EQ_INT (s_count (item, "acknowledged"), 1);
    CHECK_EQ_INT (s_count (item, "delivered"), 1);
    CHECK_EQ_INT (s_count (item, "sent"), in_berat - 3);
    CHECK_EQ_INT (s_count (item, "overdue"), 0);
    CHECK_EQ_INT (json_integer_value (json_object_get (item, "taken_up")), 1);
    item = s_find (list, notice);
    CHECK (streq (s_state (item, "tirane"), "delivered"));
    CHECK_EQ_INT (json_array_size (json_object_get (item, "municipalities")), 1);
    CHECK (json_is_null (json_object_get (item, "taken_up")));
    CHECK (json_is_null (json_object_get (item, "due")));
    CHECK (streq (json_string_value (json_object_get (item, "text")),
                  "Office closed on Friday.\nThank you."));
    //  A directive entry whose body is no directive: listed, saying why
    item = s_find (list, unreadable);
    CHECK (item && json_is_null (json_object_get (item, "kind")));
    CHECK_STR_CONTAINS (json_string_value (json_object_get (item, "error")), "directive");
    CHECK (streq (s_state (item, "durres"), "delivered"));
    json_decref (list);

    //  The day after the due day: what is not done is overdue
    list = s_list (store, "2026-07-01");
    item = s_find (list, referral);
    CHECK (streq (s_state (item, "berat"), "done"));
    CHECK (streq (s_state (item, "kucove"), "overdue"));
    CHECK (streq (s_state (item, "dimal"), "overdue"));
    CHECK (streq (s_state (item, "skrapar"), "overdue"));
    CHECK_EQ_INT (s_count (item, "overdue"), in_berat - 1);
    CHECK_EQ_INT (s_count (item, "done"), 1);
    CHECK (streq (s_state (s_find (list, notice), "tirane"), "delivered"));
    json_decref (list);

    //  Done at last, after the due day: done, and taken up
    CHECK_EQ_INT (s_report (store, "dimal", (cp_event_t []) {
        s_own (CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-1", "2026-07-02", referral, NULL),
        s_own (CP_EVENT_DIRECTIVE_DONE, "n-dd-1", "2026-07-03", referral, "late")}, 2), 2);
    list = s_list (store, "2026-07-04");
    item = s_find (list, referral);
    CHECK (streq (s_state (item, "dimal"), "done"));
    CHECK_EQ_INT (json_integer_value (json_object_get (item, "taken_up")), 2);
    json_decref (list);
    central_store_destroy (&store);
    s_teardown ();
}

//  The downlink cursor is written with the next flush, comes from HELLO and
//  DOWNACK, and survives the store's closing.
static void
test_cursor_durable (void)
{
    s_setup ();
    for (int n = 0; n < 3; n++)
        s_directive (CP_DIRECTIVE_NOTICE, "all", NULL, "notice");
    central_store_t *store = s_open ();
    int berat = cp_municipality_index ("berat"), fier = cp_municipality_index ("fier");
    central_downlink_t *downlink = central_downlink_new (store);
    central_downlink_hello (downlink, berat, 1);
    central_downlink_hello (downlink, fier, 0);
    char why [256];
    CHECK (!central_downlink_ack (downlink, fier, 2, 0, why, sizeof why));
    CHECK_EQ_INT (central_store_flush (store), 0);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, berat, &cursor), 0);
    CHECK_EQ_INT (cursor.downlink, 1);
    CHECK_EQ_INT (central_store_cursor (store, fier, &cursor), 0);
    CHECK_EQ_INT (cursor.downlink, 2);
    CHECK_EQ_INT (cursor.last_seen, 0);     //  a cursor note is no liveness note
    //  A DOWNACK with the next flush, and a node that went back (restored)
    CHECK (!central_downlink_ack (downlink, berat, 3, 0, why, sizeof why));
    central_downlink_hello (downlink, fier, 1);
    CHECK_EQ_INT (central_store_flush (store), 0);
    central_downlink_destroy (&downlink);
    central_store_destroy (&store);

    store = s_open ();
    CHECK_EQ_INT (central_store_cursor (store, berat, &cursor), 0);
    CHECK_EQ_INT (cursor.downlink, 3);
    CHECK_EQ_INT (central_store_cursor (store, fier, &cursor), 0);
    CHECK_EQ_INT (cursor.downlink, 1);
    central_store_destroy (&store);

    //  berat's record cut to the size written before the downlink cursor
    //  was kept (eleven u64 and a log): it reads, with cursor 0
    char path [4300];
    snprintf (path, sizeof path, "%s/store", s_central);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi cursors;
    uint8_t key [2] = {(uint8_t) (berat >> 8), (uint8_t) berat}, old [104];
    MDB_val k = {2, key}, v;
    int rc = mdb_env_create (&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs (env, 32);
    if (rc == 0)
        rc = mdb_env_open (env, path, MDB_NOTLS, 0600);
    if (rc == 0)
        rc = mdb_txn_begin (env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open (txn, "cursors", 0, &cursors);
    if (rc == 0)
        rc = mdb_get (txn, cursors, &k, &v);
    CHECK_EQ_INT (rc, 0);
    if (rc == 0) {
        CHECK_EQ_INT (v.mv_size, 112);
        memcpy (old, v.mv_data, sizeof old);
        v = (MDB_val) {sizeof old, old};
        rc = mdb_put (txn, cursors, &k, &v, 0);
    }
    if (rc == 0)
        rc = mdb_txn_commit (txn);
    else
    if (txn)
        mdb_txn_abort (txn);
    CHECK_EQ_INT (rc, 0);
    if (env)
        mdb_env_close (env);
    store = s_open ();
    CHECK_EQ_INT (central_store_cursor (store, berat, &cursor), 0);
    CHECK_EQ_INT (cursor.downlink, 0);
    //  ... and is written whole again with the next note
    central_store_downlink_reached (store, berat, 2);
    CHECK_EQ_INT (central_store_flush (store), 0);
    CHECK_EQ_INT (central_store_cursor (store, berat, &cursor), 0);
    CHECK_EQ_INT (cursor.downlink, 2);
    central_store_destroy (&store);
    s_teardown ();
}

TESTING_MAIN (
    TEST (test_state),
    TEST (test_list),
    TEST (test_cursor_durable)
)
