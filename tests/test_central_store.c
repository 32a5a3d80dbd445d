/*  test_central_store: the central's store, driven directly with batches
    built by hand, as a node would send them.

    Events are cp_event_t structs filled in here; a batch is a trusted
    central_batch_t as central_intake hands it to the store: the header of
    cp_wire_batch_header_encode (node_key and data_key "none", no nonce) and
    the payload of cp_codec_batch_encode as its frames (not sealed: the
    store only archives them), its events decoded by cp_batch_decode and
    prepared by central_store_prepare.  Each test works in a fresh temporary data directory
    and removes it.  Figures are read back through central_store_view and
    cp_view_figures, the path the query command takes.

    Case data at rest: every value of the cases database is sealed under
    the storage key (the database read directly), a key file others may
    read, another central's key, a missing key and the old format are
    refused.  The last test measures apply throughput: 61 municipalities × one batch
    each per group, durable commits, then a national view.  It runs a small
    size by default; CPSYNC_BENCH_ROUNDS=N sets the number of groups (each
    61 × 1000 events).                                                      */

#define _XOPEN_SOURCE 700      //  nftw, to remove the temporary directories

#include "central_figures.h"
#include "central_store.h"
#include "cp_batch.h"
#include "cp_case.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_municipality.h"
#include "cp_seal.h"
#include "cp_view.h"
#include "cp_wire.h"
#include "testing.h"
#include "testing_store.h"

#include <czmq.h>
#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

//  =====================================================================
//  Temporary data directories

static char s_dir [256];

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static const char *
s_fresh_dir (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/test_central_store.XXXXXX");
    if (!mkdtemp (s_dir)) {
        fprintf (stderr, "  cannot make a temporary directory\n");
        exit (1);
    }
    return s_dir;
}

static void
s_remove_dir (void)
{
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static central_store_t *
s_new_store (void)
{
    const char *dir = s_fresh_dir ();
    int rc = central_store_create (dir, "tcp://127.0.0.1:7400", 2);
    if (rc) {
        fprintf (stderr, "  central_store_create: %s\n", cp_strerror (rc));
        exit (1);
    }
    int error = 0;
    central_store_t *store = central_store_open (dir, 0, &error);
    if (!store) {
        fprintf (stderr, "  central_store_open: %s\n", cp_strerror (error));
        exit (1);
    }
    return store;
}

static void
s_close_store (central_store_t **store)
{
    central_store_destroy (store);
    s_remove_dir ();
}

//  =====================================================================
//  Events and batches

static int32_t
s_day (const char *date)
{
    int32_t day = 0;
    if (cp_date_parse (date, strlen (date), &day)) {
        fprintf (stderr, "  bad date in a test: %s\n", date);
        exit (1);
    }
    return day;
}

static cp_event_t
s_opened (const char *id, const char *case_id, const char *date, int age, const char *sex)
{
    cp_event_t event = {0};
    event.type = CP_EVENT_CASE_OPENED;
    event.age = (uint8_t) age;
    event.date = s_day (date);
    snprintf (event.id, sizeof event.id, "%s", id);
    snprintf (event.case_id, sizeof event.case_id, "%s", case_id);
    snprintf (event.codes [0], sizeof event.codes [0], "%s", sex);
    snprintf (event.codes [1], sizeof event.codes [1], "roma");
    snprintf (event.codes [2], sizeof event.codes [2], "police");
    return event;
}

//  An event of a type with one code (or none: home_visit).
static cp_event_t
s_event (int type, const char *id, const char *case_id, const char *date, const char *code)
{
    cp_event_t event = {0};
    event.type = (uint8_t) type;
    event.date = s_day (date);
    snprintf (event.id, sizeof event.id, "%s", id);
    snprintf (event.case_id, sizeof event.case_id, "%s", case_id);
    if (code)
        snprintf (event.codes [0], sizeof event.codes [0], "%s", code);
    return event;
}

//  A batch as the intake hands it to the store: the frames it came in
//  (header and payload encoded, the payload not sealed), the header and
//  the events decoded (cp_batch_decode); prepared when first applied.
typedef struct {
    central_batch_t trusted;
    uint8_t *header;
    uint8_t *payload;
} s_batch_t;

//  Two logs a node could ship under one municipality.  The central only
//  stores and compares chains, so a test's chain need only be the same
//  for the same log and sequence and differ otherwise: the log's first
//  byte and a lineage byte, then the sequence.
static const uint8_t s_log_a [CP_WIRE_LOG_SIZE] = {0xaa, 1, 2, 3};
static const uint8_t s_log_b [CP_WIRE_LOG_SIZE] = {0xbb, 4, 5, 6};

static void
s_chain_of (const uint8_t *log, int lineage, uint64_t seq, uint8_t *chain)
{
    memset (chain, 0, CP_WIRE_CHAIN_SIZE);
    if (seq == 0)
        return;                 //  every log's chain at 0 is zeros
    chain [0] = log [0];
    chain [1] = (uint8_t) lineage;
    cp_put_u64 (chain + 8, seq);
}

//  A batch of a log, of one lineage (another lineage is a copy of the log
//  that took other events).
static s_batch_t
s_batch_of (const char *municipality, const uint8_t *log, int lineage, uint64_t first,
            const cp_event_t *events, size_t count)
{
    s_batch_t batch = {0};
    size_t payload_size = 0, header_size = 0;
    batch.payload = cp_codec_batch_encode (first, events, count, &payload_size);
    cp_batch_header_t header = {0};
    snprintf (header.municipality, sizeof header.municipality, "%s", municipality);
    memcpy (header.log, log, CP_WIRE_LOG_SIZE);
    header.first = first;
    header.last = first + count - 1;
    header.head = header.last;
    s_chain_of (log, lineage, first - 1, header.prev);
    s_chain_of (log, lineage, header.last, header.chain);
    snprintf (header.node_key, sizeof header.node_key, "none");
    snprintf (header.data_key, sizeof header.data_key, "none");
    batch.header = cp_wire_batch_header_encode (&header, &header_size);
    central_batch_t *trusted = &batch.trusted;
    if (!batch.payload || !batch.header
    ||  cp_batch_decode (&header, batch.payload, payload_size, &trusted->events,
                         &trusted->count)) {
        fprintf (stderr, "  cannot encode a batch\n");
        exit (1);
    }
    trusted->municipality = cp_municipality_index (municipality);
    trusted->header = header;
    trusted->frames = (cp_batch_frames_t) {batch.header, header_size, batch.payload,
                                           payload_size, (const uint8_t *) "", 0};
    return batch;
}

static s_batch_t
s_batch (const char *municipality, uint64_t first, const cp_event_t *events, size_t count)
{
    return s_batch_of (municipality, s_log_a, 0, first, events, count);
}

//  central_store_apply of a test batch, prepared first as central_intake
//  prepares it (the store's identities of a batch do not change while
//  its directory keeps its index key).
static int
s_apply (central_store_t *store, s_batch_t *batch, central_result_t *result)
{
    if (!batch->trusted.resolved)
        central_store_prepare (store, &batch->trusted);
    return central_store_apply (store, &batch->trusted, result);
}

static void
s_batch_free (s_batch_t *batch)
{
    central_store_batch_clear (&batch->trusted);
    free (batch->header);
    free (batch->payload);
    memset (batch, 0, sizeof *batch);
}

//  Applies one batch of a log in a transaction of its own; returns apply's
//  code.
static int
s_apply_of (central_store_t *store, const char *municipality, const uint8_t *log,
            int lineage, uint64_t first, const cp_event_t *events, size_t count,
            central_result_t *result)
{
    s_batch_t batch = s_batch_of (municipality, log, lineage, first, events, count);
    int rc = central_store_begin (store);
    CHECK_EQ_INT (rc, 0);
    central_result_t ignored;
    int status = s_apply (store, &batch, result? result: &ignored);
    CHECK_EQ_INT (central_store_commit (store), 0);
    s_batch_free (&batch);
    return status;
}

static int
s_apply_one (central_store_t *store, const char *municipality, uint64_t first,
             const cp_event_t *events, size_t count, central_result_t *result)
{
    return s_apply_of (store, municipality, s_log_a, 0, first, events, count, result);
}

//  The figures of a scope and period under catalogue 2.
static void
s_figures (central_store_t *store, const char *scope, const char *period_text,
           cp_figures_t *figures, int *reporting)
{
    cp_period_t period;
    cp_period_parse (period_text, &period);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    assert (view);
    cp_view_init (view, &period, scope);
    CHECK_EQ_INT (central_store_view (store, scope, view), 0);
    cp_view_figures (view, central_store_catalogue (store), 2, figures);
    if (reporting)
        *reporting = view->municipalities_reporting;
    free (view);
}

static int
s_code_id (central_store_t *store, cp_dim_t dim, const char *code)
{
    return cp_catalogue_lookup (central_store_catalogue (store), dim, code, strlen (code));
}

//  =====================================================================
//  Tests

static void
test_municipalities (void)
{
    CHECK_EQ_INT (cp_municipality_count (), 61);
    CHECK_EQ_INT (cp_county_count (), 12);
    int berat = cp_municipality_index ("berat");
    CHECK (berat >= 0);
    CHECK_EQ_INT (cp_municipality_index ("atlantis"), -1);
    CHECK_EQ_INT (cp_municipality_index ("bera"), -1);
    int kucove = cp_municipality_index ("kucove");
    CHECK (kucove >= 0);
    CHECK (strcmp (cp_municipality_name (kucove), "Kuçovë") == 0);
    CHECK_EQ_INT (cp_municipality_county (kucove), cp_county_index ("berat"));
    CHECK_EQ_INT (cp_county_index ("kucove"), -1);      //  not a seat
    for (int index = 0; index < cp_municipality_count (); index++) {
        const char *code = cp_municipality_code (index);
        CHECK_EQ_INT (cp_municipality_index (code), index);
    }
    for (int county = 0; county < cp_county_count (); county++) {
        int seat = cp_county_seat (county);
        CHECK_EQ_INT (cp_municipality_county (seat), county);
        CHECK (strcmp (cp_county_code (county), cp_municipality_code (seat)) == 0);
    }
    cp_scope_t scope;
    char text [CP_SCOPE_MAX];
    CHECK_EQ_INT (cp_scope_parse ("national", &scope), 0);
    CHECK_EQ_INT (cp_scope_parse ("county:diber", &scope), 0);
    CHECK_EQ_INT (scope.kind, CP_SCOPE_COUNTY);
    cp_scope_format (&scope, text);
    CHECK (strcmp (text, "county:diber") == 0);
    CHECK_EQ_INT (cp_scope_parse ("municipality:kucove", &scope), 0);
    CHECK_EQ_INT (scope.index, kucove);
    CHECK_EQ_INT (cp_scope_parse ("county:kucove", &scope), CP_EUSAGE);
    CHECK_EQ_INT (cp_scope_parse ("municipality:", &scope), CP_EUSAGE);
    CHECK_EQ_INT (cp_scope_parse ("region:berat", &scope), CP_EUSAGE);
    CHECK_EQ_INT (cp_scope_parse (NULL, &scope), CP_EUSAGE);
}

static void
test_create_open (void)
{
    const char *dir = s_fresh_dir ();
    CHECK_EQ_INT (central_store_create (dir, "tcp://127.0.0.1:7401", 1), 0);
    CHECK_EQ_INT (central_store_create (dir, "tcp://127.0.0.1:7401", 1), CP_EEXISTS);
    char path [512];
    snprintf (path, sizeof path, "%s/keys/index.key", dir);
    struct stat info;
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK_EQ_INT (info.st_size, 32);
    CHECK_EQ_INT (info.st_mode & 0777, 0600);
    int error = 0;
    central_store_t *store = central_store_open (dir, 0, &error);
    CHECK (store);
    if (store) {
        CHECK (strcmp (central_store_listen (store), "tcp://127.0.0.1:7401") == 0);
        CHECK_EQ_INT (cp_catalogue_version (central_store_catalogue (store)), 1);
        central_store_destroy (&store);
        CHECK (store == NULL);
        central_store_destroy (&store);
    }
    store = central_store_open (dir, CENTRAL_STORE_READONLY, &error);
    CHECK (store);
    central_store_destroy (&store);
    s_remove_dir ();

    dir = s_fresh_dir ();
    CHECK (central_store_open (dir, CENTRAL_STORE_READONLY, &error) == NULL);
    CHECK_EQ_INT (error, CP_ENOTCENTRAL);
    CHECK_EQ_INT (central_store_create (dir, "tcp://127.0.0.1:1", 99), CP_ECATALOGUE);
    s_remove_dir ();
}

static void
test_exactly_once (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_opened ("e2", "c2", "2022-02-02", 5, "M"),
        s_event (CP_EVENT_HOME_VISIT, "e3", "c1", "2022-02-10", NULL),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, events, 3, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.seq, 3);
    CHECK_EQ_INT (result.applied, 3);
    //  The same batch again, alone and then twice within one group.
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, events, 3, &result), CENTRAL_STORE_DUPLICATE);
    CHECK_EQ_INT (result.seq, 3);
    CHECK_EQ_INT (result.applied, 0);
    s_batch_t batch = s_batch ("berat", 1, events, 3);
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_DUPLICATE);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_DUPLICATE);
    CHECK_EQ_INT (central_store_commit (store), 0);
    s_batch_free (&batch);

    cp_figures_t figures;
    int reporting = 0;
    s_figures (store, "national", "2022-Q1", &figures, &reporting);
    CHECK_EQ_INT (figures.opened, 2);
    CHECK_EQ_INT (figures.managed, 2);
    CHECK_EQ_INT (figures.home_visits, 1);
    CHECK_EQ_INT (reporting, 1);
    s_figures (store, "municipality:berat", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 2);
    s_figures (store, "county:berat", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 2);
    s_figures (store, "county:diber", "2022", &figures, &reporting);
    CHECK_EQ_INT (figures.opened, 0);
    CHECK_EQ_INT (reporting, 0);

    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("berat"), &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 3);
    CHECK_EQ_INT (cursor.batches, 1);
    CHECK_EQ_INT (cursor.events, 3);
    CHECK_EQ_INT (cursor.duplicates, 3);
    CHECK (cursor.last_seen > 0);
    s_close_store (&store);
}

//  A batch that does not start right after its log's cursor is refused
//  with the sequence expected; one sent again (the same range and chain)
//  is acknowledged up to its own end; one of another copy of the log is
//  refused as diverged.
static void
test_overlap (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_event (CP_EVENT_HOME_VISIT, "e2", "c1", "2022-02-10", NULL),
        s_event (CP_EVENT_HOME_VISIT, "e3", "c1", "2022-02-11", NULL),
        s_opened ("e4", "c2", "2022-02-12", 3, "M"),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "dimal", 1, events, 2, &result), CENTRAL_STORE_APPLIED);
    //  1..4 after a cursor of 2: refused, 3 expected.
    CHECK_EQ_INT (s_apply_one (store, "dimal", 1, events, 4, &result), CP_EGAP);
    CHECK_EQ_INT (result.seq, 3);
    CHECK_EQ_INT (s_apply_one (store, "dimal", 3, events + 2, 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 2);
    CHECK_EQ_INT (result.seq, 4);
    //  1..2 again, as it was: acknowledged up to 2, its own end.
    CHECK_EQ_INT (s_apply_one (store, "dimal", 1, events, 2, &result), CENTRAL_STORE_DUPLICATE);
    CHECK_EQ_INT (result.seq, 2);
    //  2..4 ends where a batch ended but did not start where one did: the
    //  chain at 4 is the log's, so it is the same log sent again.
    CHECK_EQ_INT (s_apply_one (store, "dimal", 2, events + 1, 3, &result),
                  CENTRAL_STORE_DUPLICATE);
    //  1..3 ends where no batch ended: it cannot be told, ship from 5.
    CHECK_EQ_INT (s_apply_one (store, "dimal", 1, events, 3, &result), CP_EGAP);
    CHECK_EQ_INT (result.seq, 5);
    //  Another copy of the log (other chains): 3..4 and 5.. are refused.
    CHECK_EQ_INT (s_apply_of (store, "dimal", s_log_a, 1, 3, events + 2, 2, &result),
                  CP_EDIVERGED);
    CHECK_EQ_INT (result.seq, 5);
    CHECK_EQ_INT (s_apply_of (store, "dimal", s_log_a, 1, 5, events, 1, &result),
                  CP_EDIVERGED);
    CHECK_EQ_INT (result.seq, 5);
    cp_figures_t figures;
    s_figures (store, "municipality:dimal", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 2);
    CHECK_EQ_INT (figures.home_visits, 2);
    s_close_store (&store);
}

//  Events count once by their ids, whatever log and sequence bring them:
//  a log shipped again under a new identity (a store restored or set up
//  again) adds nothing, and new events in it are counted.
static void
test_identity (void)
{
    central_store_t *store = s_new_store ();
    int municipality = cp_municipality_index ("fier");
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_event (CP_EVENT_HOME_VISIT, "e2", "c1", "2022-02-10", NULL),
        s_opened ("e3", "c2", "2022-02-12", 3, "M"),
        s_event (CP_EVENT_HOME_VISIT, "e4", "c2", "2022-03-01", NULL),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_of (store, "fier", s_log_a, 0, 1, events, 3, &result),
                  CENTRAL_STORE_APPLIED);
    //  Log b: the same three events under other sequences, then a new one.
    cp_event_t again [] = {events [2], events [0], events [1], events [3]};
    CHECK_EQ_INT (s_apply_of (store, "fier", s_log_b, 0, 1, again, 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 0);
    CHECK_EQ_INT (result.duplicates, 2);
    CHECK_EQ_INT (s_apply_of (store, "fier", s_log_b, 0, 3, again + 2, 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 1);
    CHECK_EQ_INT (result.duplicates, 1);
    //  Within one batch too: an id twice counts once.
    cp_event_t twice [] = {s_opened ("e5", "c3", "2022-04-01", 7, "F"),
                           s_opened ("e5", "c3", "2022-04-01", 7, "F")};
    CHECK_EQ_INT (s_apply_of (store, "fier", s_log_b, 0, 5, twice, 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 1);
    CHECK_EQ_INT (result.duplicates, 1);
    //  The same id in another municipality is another event.
    CHECK_EQ_INT (s_apply_of (store, "patos", s_log_b, 0, 1, events, 1, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 1);

    cp_figures_t figures;
    s_figures (store, "municipality:fier", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 3);
    CHECK_EQ_INT (figures.home_visits, 2);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK_EQ_INT (cursor.events, 5);
    CHECK_EQ_INT (cursor.duplicate_events, 4);
    CHECK_EQ_INT (cursor.acked, 6);             //  log b's, the last shipped
    CHECK (memcmp (cursor.log, s_log_b, CP_WIRE_LOG_SIZE) == 0);
    //  Each log keeps its own cursor and chain.
    uint64_t acked;
    uint8_t chain [CP_WIRE_CHAIN_SIZE], expected [CP_WIRE_CHAIN_SIZE];
    CHECK_EQ_INT (central_store_log_cursor (store, municipality, s_log_a, &acked, chain), 0);
    CHECK_EQ_INT (acked, 3);
    s_chain_of (s_log_a, 0, 3, expected);
    CHECK (memcmp (chain, expected, sizeof chain) == 0);
    CHECK_EQ_INT (central_store_log_cursor (store, municipality, s_log_b, &acked, chain), 0);
    CHECK_EQ_INT (acked, 6);
    static const uint8_t unseen [CP_WIRE_LOG_SIZE] = {0xcc};
    CHECK_EQ_INT (central_store_log_cursor (store, municipality, unseen, &acked, chain), 0);
    CHECK_EQ_INT (acked, 0);
    static const uint8_t zeros [CP_WIRE_CHAIN_SIZE] = {0};
    CHECK (memcmp (chain, zeros, sizeof chain) == 0);
    //  A batch of nothing but events taken before is not archived again.
    CHECK_EQ_INT (cursor.archived, 3);
    s_close_store (&store);
}

//  An id taken before with other content is a conflict: refused with its
//  own code and counter, set aside with its log and sequence, not counted.
static void
test_conflict (void)
{
    central_store_t *store = s_new_store ();
    int municipality = cp_municipality_index ("lushnje");
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_event (CP_EVENT_HOME_VISIT, "e2", "c1", "2022-02-10", NULL),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_of (store, "lushnje", s_log_a, 0, 1, events, 2, &result),
                  CENTRAL_STORE_APPLIED);
    cp_event_t changed [] = {
        s_event (CP_EVENT_HOME_VISIT, "e2", "c1", "2022-02-11", NULL),     //  another date
        s_event (CP_EVENT_HOME_VISIT, "e3", "c1", "2022-02-12", NULL),
    };
    CHECK_EQ_INT (s_apply_of (store, "lushnje", s_log_b, 0, 1, changed, 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.conflicts, 1);
    CHECK_EQ_INT (result.applied, 1);
    int code = 0;
    CHECK_EQ_INT (central_store_quarantined (store, municipality, s_log_b, 1, &code), 0);
    CHECK_EQ_INT (code, CP_ECONFLICT);
    CHECK_EQ_INT (central_store_flush (store), 0);
    central_counter_t counters [16];
    size_t count = 0;
    CHECK_EQ_INT (central_store_counters (store, counters, 16, &count), 0);
    CHECK_EQ_INT (count, 1);
    CHECK_EQ_INT (counters [0].code, CP_ECONFLICT);
    CHECK_EQ_INT (counters [0].count, 1);
    central_refused_t refused [4];
    CHECK_EQ_INT (central_store_refused_list (store, municipality, refused, 4, &count), 0);
    CHECK_EQ_INT (count, 1);
    CHECK_EQ_INT (refused [0].seq, 1);
    CHECK_EQ_INT (refused [0].code, CP_ECONFLICT);
    CHECK (memcmp (refused [0].log, s_log_b, CP_WIRE_LOG_SIZE) == 0);
    CHECK_EQ_INT (central_store_refused_list (store, cp_municipality_index ("fier"), refused,
                                              4, &count), 0);
    CHECK_EQ_INT (count, 0);
    cp_figures_t figures;
    s_figures (store, "municipality:lushnje", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.home_visits, 2);      //  e2 as first taken, and e3
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK_EQ_INT (cursor.conflicts, 1);
    //  Within one batch: the first in sequence is taken, the other refused;
    //  ids of one stem ("x-10", "x-11") and of a longer id sharing its start
    //  ("x-100") are each their own.
    cp_event_t within [] = {
        s_event (CP_EVENT_HOME_VISIT, "x-11", "c1", "2022-03-01", NULL),
        s_event (CP_EVENT_HOME_VISIT, "x-10", "c1", "2022-03-02", NULL),
        s_event (CP_EVENT_HOME_VISIT, "x-11", "c1", "2022-03-03", NULL),    //  other date
        s_event (CP_EVENT_HOME_VISIT, "x-100", "c1", "2022-03-04", NULL),
        s_event (CP_EVENT_HOME_VISIT, "x-10", "c1", "2022-03-02", NULL),    //  the same
    };
    CHECK_EQ_INT (s_apply_of (store, "lushnje", s_log_b, 0, 3, within, 5, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 3);
    CHECK_EQ_INT (result.conflicts, 1);
    CHECK_EQ_INT (result.duplicates, 1);
    CHECK_EQ_INT (central_store_quarantined (store, municipality, s_log_b, 5, &code), 0);
    CHECK_EQ_INT (code, CP_ECONFLICT);
    s_figures (store, "municipality:lushnje", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.home_visits, 5);
    s_close_store (&store);
}

//  Ids of one stem are kept in one record: a batch merges its ids into the
//  record the batches before it left, in any order, and finds each id
//  there or adds it.
static void
test_stem_record (void)
{
    central_store_t *store = s_new_store ();
    enum { S_IDS = 100 };
    cp_event_t events [S_IDS];
    char ids [S_IDS][8];
    for (int at = 0; at < S_IDS; at++) {
        snprintf (ids [at], sizeof ids [at], "s-%02d", at);
        events [at] = s_event (CP_EVENT_HOME_VISIT, ids [at], "c1", "2022-05-01", NULL);
    }
    cp_event_t opened = s_opened ("o-1", "c1", "2022-04-01", 9, "M");
    central_result_t result;
    CHECK_EQ_INT (s_apply_of (store, "vore", s_log_a, 0, 1, &opened, 1, &result),
                  CENTRAL_STORE_APPLIED);
    //  The even ids, last first; the odd ones; then all again, one changed.
    cp_event_t even [S_IDS / 2], odd [S_IDS / 2];
    for (int at = 0; at < S_IDS / 2; at++) {
        even [at] = events [S_IDS - 2 - 2 * at];
        odd [at] = events [2 * at + 1];
    }
    CHECK_EQ_INT (s_apply_of (store, "vore", s_log_a, 0, 2, even, S_IDS / 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, S_IDS / 2);
    uint64_t next = 2 + S_IDS / 2;
    CHECK_EQ_INT (s_apply_of (store, "vore", s_log_a, 0, next, odd, S_IDS / 2, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, S_IDS / 2);
    CHECK_EQ_INT (result.duplicates, 0);
    next += S_IDS / 2;
    events [37] = s_event (CP_EVENT_HOME_VISIT, ids [37], "c1", "2022-05-02", NULL);
    CHECK_EQ_INT (s_apply_of (store, "vore", s_log_a, 0, next, events, S_IDS, &result),
                  CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 0);
    CHECK_EQ_INT (result.duplicates, S_IDS - 1);
    CHECK_EQ_INT (result.conflicts, 1);
    int code = 0;
    CHECK_EQ_INT (central_store_quarantined (store, cp_municipality_index ("vore"), s_log_a,
                                             next + 37, &code), 0);
    CHECK_EQ_INT (code, CP_ECONFLICT);
    cp_figures_t figures;
    s_figures (store, "municipality:vore", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.home_visits, S_IDS);
    s_close_store (&store);
}

//  A HELLO makes its log the municipality's, and says when it was
//  another log or a restored copy.
static void
test_hello_note (void)
{
    central_store_t *store = s_new_store ();
    int municipality = cp_municipality_index ("roskovec");
    cp_event_t events [] = {s_opened ("e1", "c1", "2022-02-01", 10, "F")};
    CHECK_EQ_INT (s_apply_of (store, "roskovec", s_log_a, 0, 1, events, 1, NULL),
                  CENTRAL_STORE_APPLIED);
    central_store_hello (store, municipality, s_log_b, 0, true);
    CHECK_EQ_INT (central_store_flush (store), 0);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK (memcmp (cursor.log, s_log_b, CP_WIRE_LOG_SIZE) == 0);
    CHECK_EQ_INT (cursor.acked, 0);
    CHECK (cursor.log_changed > 0);
    int64_t changed = cursor.log_changed;
    central_store_hello (store, municipality, s_log_a, 1, false);
    CHECK_EQ_INT (central_store_flush (store), 0);
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 1);
    CHECK_EQ_INT (cursor.log_changed, changed);
    s_close_store (&store);
}

static void
test_gap (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_opened ("e2", "c2", "2022-02-01", 11, "F"),
        s_opened ("e3", "c3", "2022-02-01", 12, "F"),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "mat", 1, events, 1, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (s_apply_one (store, "mat", 3, events + 2, 1, &result), CP_EGAP);
    CHECK_EQ_INT (result.seq, 2);
    //  A gap from nothing: the first batch must start at 1.
    CHECK_EQ_INT (s_apply_one (store, "klos", 5, events, 2, &result), CP_EGAP);
    CHECK_EQ_INT (result.seq, 1);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("mat"), &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 1);
    cp_figures_t figures;
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    //  Within one group, a batch sees the cursor the one before it left.
    s_batch_t second = s_batch ("mat", 2, events + 1, 1);
    s_batch_t third = s_batch ("mat", 3, events + 2, 1);
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &second, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (s_apply (store, &third, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("mat"), &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 3);
    CHECK_EQ_INT (central_store_commit (store), 0);
    s_batch_free (&second);
    s_batch_free (&third);
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 3);
    s_close_store (&store);
}

static void
test_late_event (void)
{
    central_store_t *store = s_new_store ();
    int high = s_code_id (store, CP_DIM_RISK, "high");
    cp_event_t first [] = {
        s_opened ("e1", "c1", "2022-01-10", 14, "F"),
        s_event (CP_EVENT_RISK_ASSESSED, "e2", "c1", "2022-04-05", "low"),
    };
    CHECK_EQ_INT (s_apply_one (store, "kruje", 1, first, 2, NULL), CENTRAL_STORE_APPLIED);
    cp_figures_t figures;
    s_figures (store, "national", "2022-Q1", &figures, NULL);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK][CP_SLOT_NONE], 1);
    CHECK_EQ_INT (figures.home_visits, 0);

    //  Months later the node sends a visit and an assessment dated in Q1.
    cp_event_t late [] = {
        s_event (CP_EVENT_RISK_ASSESSED, "e3", "c1", "2022-02-01", "high"),
        s_event (CP_EVENT_HOME_VISIT, "e4", "c1", "2022-03-01", NULL),
    };
    CHECK_EQ_INT (s_apply_one (store, "kruje", 3, late, 2, NULL), CENTRAL_STORE_APPLIED);
    s_figures (store, "national", "2022-Q1", &figures, NULL);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK][CP_SLOT_NONE], 0);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK][high], 1);
    CHECK_EQ_INT (figures.home_visits, 1);
    s_figures (store, "county:durres", "2022-Q1", &figures, NULL);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK][high], 1);
    //  Q2 still has the later "low".
    s_figures (store, "national", "2022-Q2", &figures, NULL);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK][high], 0);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK]
                  [s_code_id (store, CP_DIM_RISK, "low")], 1);
    s_close_store (&store);
}

//  The events of one case, valid in sequence; n chooses dates and codes.
//  Openings spread over 2019-2024 (n * 7919 mod 2000 days), so that the
//  rows of a view are as many as real data makes.
static size_t
s_case_events (cp_event_t *out, const char *prefix, int n)
{
    static const char *const risks [] = {"low", "medium", "high", "emergency"};
    char id [CP_ID_MAX + 1], case_id [CP_ID_MAX + 1], date [CP_DATE_STRLEN + 1];
    int32_t opened = cp_date_from_civil (2019, 1, 1) + (int32_t) ((int64_t) n * 7919 % 2000);
    size_t count = 0;
    snprintf (case_id, sizeof case_id, "c-%s-%d", prefix, n);
    #define S_NEXT(offset, suffix) \
        cp_date_format (opened + (offset), date); \
        snprintf (id, sizeof id, "e-%s-%d-%d", prefix, n, suffix)
    S_NEXT (0, 0);
    out [count++] = s_opened (id, case_id, date, n % 19, n % 2? "F": "M");
    S_NEXT (2, 1);
    out [count++] = s_event (CP_EVENT_RISK_ASSESSED, id, case_id, date, risks [n % 4]);
    S_NEXT (2, 2);
    out [count++] = s_event (CP_EVENT_HOME_VISIT, id, case_id, date, NULL);
    S_NEXT (3, 3);
    out [count++] = s_event (CP_EVENT_PROBLEM_SET, id, case_id, date, "neglect");
    S_NEXT (4, 4);
    out [count++] = s_event (CP_EVENT_MEASURE_TAKEN, id, case_id, date, "emergency_removal");
    S_NEXT (9, 5);
    out [count++] = s_event (CP_EVENT_MEASURE_CONFIRMED, id, case_id, date, "emergency_removal");
    S_NEXT (30, 6);
    out [count++] = s_event (CP_EVENT_SCHOOL_IDENTIFIED, id, case_id, date, "dropout_risk");
    if (n % 3) {
        S_NEXT (60 + n % 400, 7);
        out [count++] = s_event (CP_EVENT_CASE_CLOSED, id, case_id, date, "risk_reduced");
    }
    #undef S_NEXT
    return count;
}

//  Fills events with whole cases, up to count events; returns how many.
static size_t
s_cases (cp_event_t *events, size_t count, const char *prefix, int *next_case)
{
    size_t filled = 0;
    cp_event_t one [8];
    while (true) {
        size_t size = s_case_events (one, prefix, *next_case);
        if (filled + size > count)
            break;
        memcpy (events + filled, one, size * sizeof (cp_event_t));
        filled += size;
        (*next_case)++;
    }
    return filled;
}

static bool
s_same_figures (const cp_figures_t *a, const cp_figures_t *b)
{
    return a->managed == b->managed && a->opened == b->opened && a->closed == b->closed
        && a->home_visits == b->home_visits
        && memcmp (a->breakdowns, b->breakdowns, sizeof a->breakdowns) == 0;
}

static void
s_add_figures (cp_figures_t *sum, const cp_figures_t *part)
{
    sum->managed += part->managed;
    sum->opened += part->opened;
    sum->closed += part->closed;
    sum->home_visits += part->home_visits;
    for (int index = 0; index < CP_BREAKDOWN_COUNT; index++)
        for (int slot = 0; slot < CP_SLOTS; slot++)
            sum->breakdowns [index][slot] += part->breakdowns [index][slot];
}

static void
test_scopes (void)
{
    central_store_t *store = s_new_store ();
    //  Municipalities of three counties, several batches each, one group.
    static const char *const codes [] = {
        "berat", "dimal", "kucove", "diber", "mat", "tirane", "kamez", "vlore"
    };
    size_t municipalities = sizeof codes / sizeof codes [0];
    cp_event_t *events = calloc (200, sizeof (cp_event_t));
    assert (events);
    CHECK_EQ_INT (central_store_begin (store), 0);
    for (size_t index = 0; index < municipalities; index++) {
        int next_case = (int) index * 7;
        uint64_t first = 1;
        for (int round = 0; round < 3; round++) {
            size_t count = s_cases (events, 40 + 30 * index % 100, codes [index], &next_case);
            s_batch_t batch = s_batch (codes [index], first, events, count);
            central_result_t result;
            CHECK_EQ_INT (s_apply (store, &batch, &result),
                          CENTRAL_STORE_APPLIED);
            CHECK_EQ_INT (result.quarantined, 0);
            first += count;
            s_batch_free (&batch);
        }
    }
    CHECK_EQ_INT (central_store_commit (store), 0);
    free (events);

    static const char *const periods [] = {"2019", "2020-Q2", "2021-Q4", "2023", "2022-Q1"};
    for (size_t period = 0; period < 5; period++) {
        cp_figures_t national, sum, figures;
        cp_figures_t *county_sum = calloc ((size_t) cp_county_count (), sizeof (cp_figures_t));
        assert (county_sum);
        memset (&sum, 0, sizeof sum);
        sum.catalogue = 2;
        int reporting = 0;
        s_figures (store, "national", periods [period], &national, &reporting);
        CHECK_EQ_INT (reporting, (int) municipalities);
        CHECK (national.managed > 0);
        for (int index = 0; index < cp_municipality_count (); index++) {
            char scope [CP_SCOPE_MAX];
            snprintf (scope, sizeof scope, "municipality:%s", cp_municipality_code (index));
            s_figures (store, scope, periods [period], &figures, NULL);
            s_add_figures (&sum, &figures);
            int county = cp_municipality_county (index);
            county_sum [county].catalogue = 2;
            s_add_figures (&county_sum [county], &figures);
        }
        CHECK (s_same_figures (&national, &sum));
        for (int county = 0; county < cp_county_count (); county++) {
            char scope [CP_SCOPE_MAX];
            snprintf (scope, sizeof scope, "county:%s", cp_county_code (county));
            s_figures (store, scope, periods [period], &figures, &reporting);
            CHECK (s_same_figures (&figures, &county_sum [county]));
        }
        free (county_sum);
    }
    int reporting = 0;
    cp_figures_t figures;
    s_figures (store, "county:berat", "2020", &figures, &reporting);
    CHECK_EQ_INT (reporting, 3);
    s_figures (store, "county:tirane", "2020", &figures, &reporting);
    CHECK_EQ_INT (reporting, 2);
    s_figures (store, "municipality:kamez", "2020", &figures, &reporting);
    CHECK_EQ_INT (reporting, 1);
    cp_view_t view;
    cp_period_t period;
    cp_period_parse ("2020", &period);
    cp_view_init (&view, &period, "x");
    CHECK_EQ_INT (central_store_view (store, "county:dimal", &view), CP_EUSAGE);
    s_close_store (&store);
}

static void
test_refusals (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_opened ("e2", "c2", "2022-02-01", 11, "F"),
    };
    central_result_t result;
    CHECK_EQ_INT (central_store_begin (store), 0);
    //  Batches that do not decode, or whose events are not their header's,
    //  never reach the store (test_batch, test_central_wire); what is left
    //  to refuse here is where a batch stands in its log.
    s_batch_t batch = s_batch ("berat", 2, events + 1, 1);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CP_EGAP);
    CHECK_EQ_INT (result.seq, 1);
    s_batch_free (&batch);
    batch = s_batch ("berat", 1, events, 2);
    //  The transaction is still good: the real batch goes in.
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (central_store_commit (store), 0);
    s_batch_free (&batch);
    cp_figures_t figures;
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 2);

    //  Counters of refusals reach the store with the next commit or flush.
    central_store_count (store, CP_EMALFORMED);
    central_store_count (store, CP_EMALFORMED);
    central_store_count (store, CP_EUNKNOWNPEER);
    CHECK (central_store_pending (store));
    CHECK_EQ_INT (central_store_flush (store), 0);
    CHECK (!central_store_pending (store));
    central_store_count (store, CP_EMALFORMED);
    CHECK_EQ_INT (central_store_flush (store), 0);
    central_counter_t counters [16];
    size_t count = 0;
    CHECK_EQ_INT (central_store_counters (store, counters, 16, &count), 0);
    CHECK_EQ_INT (count, 2);
    for (size_t index = 0; index < count; index++)
        if (counters [index].code == CP_EMALFORMED)
            CHECK_EQ_INT (counters [index].count, 3);
        else
            CHECK_EQ_INT (counters [index].code, CP_EUNKNOWNPEER);
    s_close_store (&store);
}

static void
test_quarantine (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_event (CP_EVENT_HOME_VISIT, "e2", "c9", "2022-02-03", NULL),       //  unknown case
        s_event (CP_EVENT_RISK_ASSESSED, "e3", "c1", "2022-02-03", "bogus"), //  unknown code
        s_event (CP_EVENT_HOME_VISIT, "e4", "c1", "2022-02-04", NULL),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "shijak", 1, events, 4, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 2);
    CHECK_EQ_INT (result.quarantined, 2);
    CHECK_EQ_INT (result.seq, 4);
    int municipality = cp_municipality_index ("shijak"), code = 0;
    CHECK_EQ_INT (central_store_quarantined (store, municipality, s_log_a, 2, &code), 0);
    CHECK_EQ_INT (code, CP_EUNKNOWNCASE);
    CHECK_EQ_INT (central_store_quarantined (store, municipality, s_log_a, 3, &code), 0);
    CHECK_EQ_INT (code, CP_EBADCODE);
    CHECK_EQ_INT (central_store_quarantined (store, municipality, s_log_a, 4, &code), 0);
    CHECK_EQ_INT (code, 0);
    cp_figures_t figures;
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    CHECK_EQ_INT (figures.home_visits, 1);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK][CP_SLOT_NONE], 1);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 4);
    CHECK_EQ_INT (cursor.events, 2);
    CHECK_EQ_INT (cursor.quarantined, 2);
    s_close_store (&store);
}

//  A crash before commit: begin, apply, abort (as a killed process leaves
//  its transaction), then reopen: nothing of the batch is there.
static void
test_abort (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t events [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_event (CP_EVENT_HOME_VISIT, "e2", "c1", "2022-02-03", NULL),
    };
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, events, 1, NULL), CENTRAL_STORE_APPLIED);
    s_batch_t batch = s_batch ("berat", 2, events + 1, 1);
    central_result_t result;
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    central_store_seen (store, 0, 99);
    central_store_abort (store);
    //  The liveness note survives the abort; the batch does not.
    CHECK (central_store_pending (store));
    central_store_destroy (&store);     //  unflushed notes are lost with the process

    int error = 0;
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    if (!store) {
        s_remove_dir ();
        s_batch_free (&batch);
        return;
    }
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("berat"), &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 1);
    CHECK_EQ_INT (cursor.batches, 1);
    cp_figures_t figures;
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    CHECK_EQ_INT (figures.home_visits, 0);
    //  The node sends it again: applied once.
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (central_store_commit (store), 0);
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.home_visits, 1);
    s_batch_free (&batch);
    s_close_store (&store);
}

//  A store that cannot write (a full disk, here a file size limit): commit
//  fails with CP_ESTORE, nothing of the group is stored, the store goes on,
//  and the batch sent again is applied once.
static void
test_write_failure (void)
{
    central_store_t *store = s_new_store ();
    char path [512];
    snprintf (path, sizeof path, "%s/store/data.mdb", s_dir);
    cp_event_t *events = calloc (1000, sizeof (cp_event_t));
    assert (events);
    int next_case = 0;
    size_t count = s_cases (events, 1000, "f", &next_case);
    s_batch_t batch = s_batch ("fier", 1, events, count);
    free (events);

    struct rlimit saved;
    CHECK_EQ_INT (testing_disk_full (path, &saved), 0);
    central_result_t result;
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    central_store_count (store, CP_EGAP);
    CHECK_EQ_INT (central_store_commit (store), CP_ESTORE);
    CHECK_EQ_INT (testing_disk_room (&saved), 0);
    CHECK (central_store_pending (store));      //  the count waits for a commit

    int municipality = cp_municipality_index ("fier");
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK_EQ_INT (cursor.acked, 0);
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, count);
    CHECK_EQ_INT (central_store_commit (store), 0);
    CHECK_EQ_INT (central_store_cursor (store, municipality, &cursor), 0);
    CHECK_EQ_INT (cursor.acked, count);
    CHECK_EQ_INT (cursor.events, count);
    central_counter_t counters [4];
    size_t counted = 0;
    CHECK_EQ_INT (central_store_counters (store, counters, 4, &counted), 0);
    CHECK_EQ_INT (counted, 1);
    s_batch_free (&batch);
    s_close_store (&store);
}

//  Cases are kept in memory from one committed group to the next, but not
//  what an aborted group did to them: a close applied and then aborted is
//  applied again, once, when the group is redone.
static void
test_kept_cases_after_abort (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t opened = s_opened ("e1", "c1", "2022-01-10", 9, "F");
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, &opened, 1, &result), CENTRAL_STORE_APPLIED);
    cp_event_t closed = s_event (CP_EVENT_CASE_CLOSED, "e2", "c1", "2022-03-01", "risk_reduced");
    s_batch_t batch = s_batch ("berat", 2, &closed, 1);
    for (int round = 0; round < 2; round++) {
        CHECK_EQ_INT (central_store_begin (store), 0);
        CHECK_EQ_INT (s_apply (store, &batch, &result),
                      CENTRAL_STORE_APPLIED);
        CHECK_EQ_INT (result.applied, 1);
        CHECK_EQ_INT (result.quarantined, 0);       //  not "already closed"
        if (round == 0)
            central_store_abort (store);
        else
            CHECK_EQ_INT (central_store_commit (store), 0);
    }
    s_batch_free (&batch);
    cp_figures_t figures;
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    CHECK_EQ_INT (figures.closed, 1);
    //  And the case as kept is the case as stored: closing it again is refused.
    cp_event_t again = s_event (CP_EVENT_CASE_CLOSED, "e3", "c1", "2022-04-01", "risk_reduced");
    CHECK_EQ_INT (s_apply_one (store, "berat", 3, &again, 1, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.quarantined, 1);
    s_close_store (&store);
}

//  The arrivals of one municipality in a period, committed state.
static central_arrival_t
s_arrival_in (central_store_t *store, const char *period_text, const char *municipality)
{
    cp_period_t period;
    CHECK_EQ_INT (cp_period_parse (period_text, &period), 0);
    central_arrival_t *arrivals = calloc ((size_t) cp_municipality_count (),
                                          sizeof (central_arrival_t));
    CHECK (arrivals);
    CHECK_EQ_INT (central_store_arrivals (store, &period, arrivals), 0);
    central_arrival_t arrival = arrivals [cp_municipality_index (municipality)];
    free (arrivals);
    return arrival;
}

//  When events arrive: each event applied and counted adds to its date's
//  quarter at the batch's time (CPSYNC_NOW_MS), those dated after the
//  central's today (CPSYNC_TODAY) as ahead; merged over groups at commit;
//  nothing of an aborted group, a duplicate or a quarantined event.
static void
test_arrivals (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t first [] = {
        s_opened ("e1", "c1", "2022-02-01", 10, "F"),
        s_event (CP_EVENT_HOME_VISIT, "e2", "c1", "2022-03-20", NULL),
        s_event (CP_EVENT_HOME_VISIT, "e3", "c9", "2022-03-21", NULL),   //  no such case
        s_event (CP_EVENT_HOME_VISIT, "e4", "c1", "2022-05-02", NULL),
    };
    setenv ("CPSYNC_TODAY", "2022-03-01", 1);
    setenv ("CPSYNC_NOW_MS", "1646136000000", 1);      //  2022-03-01T12:00Z
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, first, 4, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.quarantined, 1);
    central_arrival_t q1 = s_arrival_in (store, "2022-Q1", "berat");
    CHECK_EQ_INT (q1.events, 2);
    CHECK_EQ_INT (q1.ahead, 1);                         //  2022-03-20, not 2022-02-01
    CHECK_EQ_INT (q1.first, 1646136000000);
    CHECK_EQ_INT (q1.last, 1646136000000);
    CHECK_EQ_INT (q1.latest, s_day ("2022-03-20"));
    central_arrival_t q2 = s_arrival_in (store, "2022-Q2", "berat");
    CHECK_EQ_INT (q2.events, 1);
    CHECK_EQ_INT (q2.ahead, 1);

    //  A second group, later: a new event of Q1, and the first batch again.
    setenv ("CPSYNC_TODAY", "2022-06-01", 1);
    setenv ("CPSYNC_NOW_MS", "1654084800000", 1);      //  2022-06-01T12:00Z
    cp_event_t second [] = {s_event (CP_EVENT_HOME_VISIT, "e5", "c1", "2022-02-15", NULL)};
    s_batch_t again = s_batch ("berat", 1, first, 4);
    s_batch_t more = s_batch ("berat", 5, second, 1);
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &again, &result), CENTRAL_STORE_DUPLICATE);
    CHECK_EQ_INT (s_apply (store, &more, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (central_store_commit (store), 0);
    q1 = s_arrival_in (store, "2022-Q1", "berat");
    CHECK_EQ_INT (q1.events, 3);
    CHECK_EQ_INT (q1.ahead, 1);
    CHECK_EQ_INT (q1.first, 1646136000000);
    CHECK_EQ_INT (q1.last, 1654084800000);
    CHECK_EQ_INT (q1.latest, s_day ("2022-03-20"));

    //  An aborted group leaves nothing; the year merges its quarters.
    setenv ("CPSYNC_NOW_MS", "1656676800000", 1);      //  2022-07-01T12:00Z
    cp_event_t third [] = {s_event (CP_EVENT_HOME_VISIT, "e6", "c1", "2022-12-01", NULL)};
    s_batch_t aborted = s_batch ("berat", 6, third, 1);
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &aborted, &result), CENTRAL_STORE_APPLIED);
    central_store_abort (store);
    CHECK_EQ_INT (s_arrival_in (store, "2022-Q4", "berat").events, 0);
    central_arrival_t year = s_arrival_in (store, "2022", "berat");
    CHECK_EQ_INT (year.events, 4);
    CHECK_EQ_INT (year.ahead, 2);
    CHECK_EQ_INT (year.first, 1646136000000);
    CHECK_EQ_INT (year.last, 1654084800000);
    CHECK_EQ_INT (year.latest, s_day ("2022-05-02"));
    CHECK_EQ_INT (s_arrival_in (store, "2022", "dimal").events, 0);
    CHECK_EQ_INT (s_arrival_in (store, "2021", "berat").events, 0);
    //  The same batch once more, in a group that commits: counted now.
    CHECK_EQ_INT (central_store_begin (store), 0);
    CHECK_EQ_INT (s_apply (store, &aborted, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (central_store_commit (store), 0);
    central_arrival_t q4 = s_arrival_in (store, "2022-Q4", "berat");
    CHECK_EQ_INT (q4.events, 1);
    CHECK_EQ_INT (q4.first, 1656676800000);
    unsetenv ("CPSYNC_TODAY");
    unsetenv ("CPSYNC_NOW_MS");
    s_batch_free (&again);
    s_batch_free (&more);
    s_batch_free (&aborted);
    s_close_store (&store);
}

//  Each event counts in its own quarter, on either side of every boundary
//  (leap years, the first and the last day events may have).
//  An event of the node's own kinds with what it reports.
static cp_event_t
s_own (int type, const char *id, const char *date, uint64_t entry, const char *note)
{
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = (uint8_t) type;
    snprintf (event.id, sizeof event.id, "%s", id);
    event.date = s_day (date);
    event.entry = entry;
    snprintf (event.note, sizeof event.note, "%s", note? note: "");
    return event;
}

//  The node's own kinds land in their own records, by id once, and in no
//  month row, case or quarter's arrivals.
static void
test_own_kinds (void)
{
    central_store_t *store = s_new_store ();
    setenv ("CPSYNC_NOW_MS", "1654084800000", 1);      //  2022-06-01T12:00Z
    cp_event_t staff = s_own (CP_EVENT_STAFF_SET, "n-ss-a", "2022-01-01", 0, NULL);
    staff.workers = 4;
    staff.children = 12000;
    cp_event_t checked = s_own (CP_EVENT_FIGURES_CHECKED, "n-fc-9", "2022-05-02", 9,
                                "2022-03 2022-04");
    checked.verdict = CP_FIGURES_DIVERGED;
    cp_event_t first [] = {
        s_own (CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-7", "2022-05-01", 7, NULL),
        s_opened ("e1", "c1", "2022-05-01", 10, "F"),
        staff,
        checked,
        s_own (CP_EVENT_DIRECTIVE_DONE, "n-dd-7", "2022-05-03", 7, "visited the family"),
    };
    central_result_t result;
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, first, 5, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.applied, 5);
    int berat = cp_municipality_index ("berat");
    central_directive_report_t report;
    CHECK_EQ_INT (central_store_directive_report (store, 7, berat, &report), 0);
    CHECK_EQ_INT (report.received, s_day ("2022-05-01"));
    CHECK_EQ_INT (report.done, s_day ("2022-05-03"));
    CHECK (strcmp (report.note, "visited the family") == 0);
    CHECK_EQ_INT (central_store_directive_report (store, 7, cp_municipality_index ("durres"),
                                                  &report), CP_ENOTFOUND);
    central_reconciliation_t verdict;
    CHECK_EQ_INT (central_store_reconciliation (store, berat, &verdict), 0);
    CHECK_EQ_INT (verdict.entry, 9);
    CHECK_EQ_INT (verdict.verdict, CP_FIGURES_DIVERGED);
    CHECK (strcmp (verdict.periods, "2022-03 2022-04") == 0);
    CHECK_EQ_INT (verdict.arrived, 1654084800000);
    //  Only the case event counts, and arrives.
    cp_figures_t figures;
    s_figures (store, "municipality:berat", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    CHECK_EQ_INT (s_arrival_in (store, "2022-Q2", "berat").events, 1);
    CHECK_EQ_INT (s_arrival_in (store, "2022-Q1", "berat").events, 0);

    //  A restored node makes its receipt again, another day: the same id is
    //  the same report, a duplicate and no conflict.  A later staffing, a
    //  correction of the first, and an older verdict that must not win.
    cp_event_t later = staff;
    snprintf (later.id, sizeof later.id, "n-ss-b");
    later.date = s_day ("2022-07-01");
    later.workers = 6;
    cp_event_t corrected = staff;
    snprintf (corrected.id, sizeof corrected.id, "n-ss-c");
    corrected.workers = 5;
    cp_event_t older = checked;
    snprintf (older.id, sizeof older.id, "n-fc-8");
    older.entry = 8;
    older.verdict = CP_FIGURES_IN_SYNC;
    cp_event_t second [] = {
        s_own (CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-7", "2022-06-01", 7, NULL),
        later, corrected, older
    };
    CHECK_EQ_INT (s_apply_one (store, "berat", 6, second, 4, &result), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (result.duplicates, 1);
    CHECK_EQ_INT (result.conflicts, 0);
    CHECK_EQ_INT (result.applied, 3);
    CHECK_EQ_INT (central_store_directive_report (store, 7, berat, &report), 0);
    CHECK_EQ_INT (report.received, s_day ("2022-05-01"));
    CHECK_EQ_INT (central_store_reconciliation (store, berat, &verdict), 0);
    CHECK_EQ_INT (verdict.entry, 9);
    central_staffing_t staffing;
    CHECK_EQ_INT (central_store_staffing (store, berat, s_day ("2021-12-31"), &staffing),
                  CP_ENOTFOUND);
    CHECK_EQ_INT (central_store_staffing (store, berat, s_day ("2022-03-31"), &staffing), 0);
    CHECK_EQ_INT (staffing.workers, 5);
    CHECK_EQ_INT (staffing.children, 12000);
    CHECK_EQ_INT (staffing.date, s_day ("2022-01-01"));
    CHECK_EQ_INT (central_store_staffing (store, berat, s_day ("2023-01-01"), &staffing), 0);
    CHECK_EQ_INT (staffing.workers, 6);
    CHECK_EQ_INT (central_store_staffing (store, cp_municipality_index ("belsh"),
                                          s_day ("2023-01-01"), &staffing), CP_ENOTFOUND);
    central_staffing_t history [4];
    size_t count;
    CHECK_EQ_INT (central_store_staffing_history (store, berat, history, 4, &count), 0);
    CHECK_EQ_INT (count, 2);
    unsetenv ("CPSYNC_NOW_MS");
    s_close_store (&store);
}

static void
test_arrival_quarters (void)
{
    central_store_t *store = s_new_store ();
    static const char *const dates [] = {
        "2000-01-01", "2020-02-29", "2020-03-31", "2020-04-01", "2020-06-30", "2020-07-01",
        "2020-09-30", "2020-10-01", "2020-12-31", "2021-01-01", "2099-12-31"
    };
    static const char *const periods [] = {
        "2000-Q1", "2020-Q1", "2020-Q1", "2020-Q2", "2020-Q2", "2020-Q3", "2020-Q3",
        "2020-Q4", "2020-Q4", "2021-Q1", "2099-Q4"
    };
    size_t count = sizeof dates / sizeof dates [0];
    cp_event_t events [16];
    for (size_t index = 0; index < count; index++) {
        char id [16], case_id [16];
        snprintf (id, sizeof id, "q%zu", index);
        snprintf (case_id, sizeof case_id, "c%zu", index);
        events [index] = s_opened (id, case_id, dates [index], 5, "M");
    }
    CHECK_EQ_INT (s_apply_one (store, "vlore", 1, events, count, NULL), CENTRAL_STORE_APPLIED);
    static const char *const asked [] = {"2000-Q1", "2000-Q2", "2019-Q4", "2020-Q1", "2020-Q2",
                                         "2020-Q3", "2020-Q4", "2021-Q1", "2021-Q2", "2099-Q4"};
    for (size_t at = 0; at < sizeof asked / sizeof asked [0]; at++) {
        uint64_t expected = 0;
        for (size_t index = 0; index < count; index++)
            expected += strcmp (periods [index], asked [at]) == 0;
        central_arrival_t arrival = s_arrival_in (store, asked [at], "vlore");
        if (arrival.events != expected)
            fprintf (stderr, "  %s:\n", asked [at]);
        CHECK_EQ_INT (arrival.events, expected);
    }
    CHECK_EQ_INT (s_arrival_in (store, "2020", "vlore").events, 8);
    s_close_store (&store);
}

//  Reporting deadlines: the default, a year's set and unset, bad values
//  refused without a change.
static void
test_deadlines (void)
{
    central_store_t *store = s_new_store ();
    int days [CENTRAL_STORE_YEARS];
    bool set [CENTRAL_STORE_YEARS];
    CHECK_EQ_INT (central_store_deadlines (store, days, set), 0);
    CHECK_EQ_INT (days [2023 - CP_DATE_MIN_YEAR], CENTRAL_STORE_DEADLINE_DAYS);
    CHECK (!set [2023 - CP_DATE_MIN_YEAR]);
    CHECK_EQ_INT (central_store_deadline_set (store, 2023, 30), 0);
    CHECK_EQ_INT (central_store_deadline_set (store, 2099, 0), 0);
    CHECK_EQ_INT (central_store_deadline_set (store, 2023, -2), CP_EUSAGE);
    CHECK_EQ_INT (central_store_deadline_set (store, 2023, 366), CP_EUSAGE);
    CHECK_EQ_INT (central_store_deadline_set (store, 1999, 10), CP_EUSAGE);
    CHECK_EQ_INT (central_store_deadline_set (store, 2100, 10), CP_EUSAGE);
    CHECK_EQ_INT (central_store_deadlines (store, days, set), 0);
    CHECK_EQ_INT (days [2023 - CP_DATE_MIN_YEAR], 30);
    CHECK (set [2023 - CP_DATE_MIN_YEAR]);
    CHECK_EQ_INT (days [2099 - CP_DATE_MIN_YEAR], 0);
    CHECK_EQ_INT (days [2022 - CP_DATE_MIN_YEAR], CENTRAL_STORE_DEADLINE_DAYS);
    CHECK_EQ_INT (central_store_deadline_set (store, 2023, -1), 0);
    CHECK_EQ_INT (central_store_deadlines (store, days, set), 0);
    CHECK_EQ_INT (days [2023 - CP_DATE_MIN_YEAR], CENTRAL_STORE_DEADLINE_DAYS);
    CHECK (!set [2023 - CP_DATE_MIN_YEAR]);
    s_close_store (&store);
}

//  A map too small for the group: apply or commit says CP_EMAPFULL, the
//  map grows, and the redone group counts every event exactly once.
static void
test_map_full (void)
{
    setenv ("CPSYNC_MAPSIZE", "262144", 1);
    central_store_t *store = s_new_store ();
    unsetenv ("CPSYNC_MAPSIZE");
    cp_event_t *events = calloc (1000, sizeof (cp_event_t));
    assert (events);
    s_batch_t batches [8];
    size_t total = 0;
    int next_case = 0;
    for (int index = 0; index < 8; index++) {
        size_t count = s_cases (events, 1000, "m", &next_case);
        batches [index] = s_batch ("elbasan", 1 + total, events, count);
        total += count;
    }
    free (events);
    int rounds = 0, rc;
    do {
        rounds++;
        rc = central_store_begin (store);
        for (int index = 0; rc == 0 && index < 8; index++) {
            central_result_t result;
            rc = s_apply (store, &batches [index], &result);
            if (rc == CP_EMAPFULL)
                central_store_abort (store);
        }
        if (rc == 0)
            rc = central_store_commit (store);
    } while (rc == CP_EMAPFULL && rounds < 20);
    CHECK_EQ_INT (rc, 0);
    CHECK (rounds > 1);
    central_cursor_t cursor;
    CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("elbasan"), &cursor), 0);
    CHECK_EQ_INT (cursor.acked, total);
    CHECK_EQ_INT (cursor.events, total);
    CHECK_EQ_INT (cursor.batches, 8);
    cp_figures_t figures;
    int64_t opened = 0;
    for (int year = 2019; year <= 2024; year++) {
        char period [8];
        snprintf (period, sizeof period, "%d", year);
        s_figures (store, "national", period, &figures, NULL);
        opened += figures.opened;
    }
    CHECK_EQ_INT (opened, next_case);
    //  The arrivals of the groups given up are not kept either.
    uint64_t arrived = 0;
    for (int year = CP_DATE_MIN_YEAR; year <= CP_DATE_MAX_YEAR; year++) {
        char period [8];
        snprintf (period, sizeof period, "%d", year);
        arrived += s_arrival_in (store, period, "elbasan").events;
    }
    CHECK_EQ_INT (arrived, total);
    for (int index = 0; index < 8; index++)
        s_batch_free (&batches [index]);
    s_close_store (&store);
}

//  Apply throughput with durable commits: each round is one batch of 1000
//  events from each of the 61 municipalities; a group (one transaction, one
//  fsync) holds CPSYNC_BENCH_GROUP of them (default 61, as the server
//  gathers a round from 61 nodes; 1 shows the cost of a commit per batch).
static void
test_throughput (void)
{
    const char *wanted = getenv ("CPSYNC_BENCH_ROUNDS");
    const char *group_text = getenv ("CPSYNC_BENCH_GROUP");
    int rounds = wanted && atoi (wanted) > 0? atoi (wanted): 2;
    int municipalities = cp_municipality_count ();
    int group = group_text && atoi (group_text) > 0? atoi (group_text): municipalities;
    size_t per_batch = 1000;
    central_store_t *store = s_new_store ();
    s_batch_t *batches = calloc ((size_t) municipalities, sizeof (s_batch_t));
    uint64_t *next = calloc ((size_t) municipalities, sizeof (uint64_t));
    int *next_case = calloc ((size_t) municipalities, sizeof (int));
    cp_event_t *events = calloc (per_batch, sizeof (cp_event_t));
    assert (batches && next && next_case && events);
    double seconds = 0;
    uint64_t applied = 0, commits = 0;
    for (int round = 0; round < rounds; round++) {
        for (int index = 0; index < municipalities; index++) {
            if (!next [index])
                next [index] = 1;
            size_t count = s_cases (events, per_batch, cp_municipality_code (index),
                                    &next_case [index]);
            batches [index] = s_batch (cp_municipality_code (index), next [index], events, count);
            next [index] += count;
        }
        int64_t started = zclock_usecs ();
        for (int from = 0; from < municipalities; from += group) {
            int to = from + group < municipalities? from + group: municipalities;
            int rc;
            do {
                //  A full map grows and the group is redone, as the server does.
                uint64_t done = 0;
                rc = central_store_begin (store);
                for (int index = from; rc == 0 && index < to; index++) {
                    central_result_t result;
                    rc = s_apply (store, &batches [index], &result);
                    done += result.applied;
                }
                if (rc == CP_EMAPFULL)
                    central_store_abort (store);
                else
                if (rc == 0)
                    rc = central_store_commit (store);
                if (rc == 0) {
                    applied += done;
                    commits++;
                }
            } while (rc == CP_EMAPFULL);
            CHECK_EQ_INT (rc, 0);
        }
        seconds += (zclock_usecs () - started) / 1e6;
        for (int index = 0; index < municipalities; index++)
            s_batch_free (&batches [index]);
    }
    cp_figures_t figures;
    int reporting = 0;
    int64_t started = zclock_usecs ();
    s_figures (store, "national", "2022", &figures, &reporting);
    double view_ms = (zclock_usecs () - started) / 1e3;
    int64_t national_managed = figures.managed;
    started = zclock_usecs ();
    s_figures (store, "county:tirane", "2022-Q3", &figures, NULL);
    double county_ms = (zclock_usecs () - started) / 1e3;
    started = zclock_usecs ();
    s_figures (store, "municipality:kamez", "2024", &figures, NULL);
    double municipality_ms = (zclock_usecs () - started) / 1e3;
    CHECK_EQ_INT (reporting, municipalities);
    CHECK (national_managed > 0);
    printf ("  apply: %llu events, %d rounds of %d batches, %llu durable commits, %.2f s: "
            "%.0f events/s\n", (unsigned long long) applied, rounds, municipalities,
            (unsigned long long) commits, seconds, applied / seconds);
    printf ("  views: national 2022 %.2f ms (%lld managed), county 2022-Q3 %.2f ms, "
            "municipality 2024 %.2f ms\n", view_ms, (long long) national_managed, county_ms,
            municipality_ms);
    free (batches);
    free (next);
    free (next_case);
    free (events);
    s_close_store (&store);
}

//  =====================================================================
//  Case data at rest

//  True when value holds text anywhere.
static bool
s_holds (const MDB_val *value, const char *text)
{
    size_t len = strlen (text);
    const uint8_t *bytes = value->mv_data;
    for (size_t at = 0; at + len <= value->mv_size; at++)
        if (memcmp (bytes + at, text, len) == 0)
            return true;
    return false;
}

//  Opens the central's environment directly (flags MDB_RDONLY or 0).
static MDB_env *
s_env_open (unsigned flags)
{
    char path [512];
    snprintf (path, sizeof path, "%s/store", s_dir);
    MDB_env *env = NULL;
    if (mdb_env_create (&env))
        return NULL;
    mdb_env_set_maxdbs (env, 32);
    if (mdb_env_open (env, path, flags | MDB_NOTLS, 0600)) {
        mdb_env_close (env);
        return NULL;
    }
    return env;
}

static const char *const s_rest_cases [] = {"kase-PSEUDO-Arta-0001", "kase-PSEUDO-Besnik-0002"};

//  Applies two batches to berat (the second adds to the cases of the
//  first, so their records are opened and sealed again) and one to fier.
static void
s_rest_apply (central_store_t *store)
{
    cp_event_t first [] = {
        s_opened ("evid-AR-001", s_rest_cases [0], "2022-03-01", 12, "F"),
        s_opened ("evid-AR-002", s_rest_cases [1], "2022-03-02", 4, "M"),
        s_event (CP_EVENT_HOME_VISIT, "evid-AR-003", s_rest_cases [0], "2022-03-05", NULL),
    };
    cp_event_t second [] = {
        s_event (CP_EVENT_RISK_ASSESSED, "evid-AR-004", s_rest_cases [0], "2022-04-01", "high"),
        s_event (CP_EVENT_HOME_VISIT, "evid-AR-005", s_rest_cases [1], "2022-04-02", NULL),
    };
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, first, 3, NULL), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (s_apply_one (store, "berat", 4, second, 2, NULL), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (s_apply_one (store, "fier", 1, first, 3, NULL), CENTRAL_STORE_APPLIED);
}

//  Checks every value of the central's database name (cases, or
//  case_log, whose values are a case key and then the sealed value): each
//  is sealed, holds nothing of s_rest_apply's cases in the clear, opens
//  under seal with 'C' and its key as associated data (and not with
//  another tag) into a case record that was opened.  Adds the records
//  that open to *opened; returns how many values there are.
static size_t
s_rest_sealed (cp_seal_t *seal, const char *name, size_t *opened)
{
    bool logged = strcmp (name, "case_log") == 0;
    MDB_env *env = s_env_open (MDB_RDONLY);
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_cursor *cursor = NULL;
    CHECK (env && mdb_txn_begin (env, NULL, MDB_RDONLY, &txn) == 0);
    CHECK (txn && mdb_dbi_open (txn, name, 0, &dbi) == 0
           && mdb_cursor_open (txn, dbi, &cursor) == 0);
    size_t entries = 0, leaks = 0;
    MDB_val k, v;
    while (cursor && seal && mdb_cursor_get (cursor, &k, &v, entries? MDB_NEXT: MDB_FIRST) == 0) {
        entries++;
        leaks += s_holds (&v, s_rest_cases [0]) + s_holds (&v, s_rest_cases [1])
               + s_holds (&v, "PSEUDO") + s_holds (&v, "evid-AR") + s_holds (&k, "PSEUDO");
        if (logged) {
            //  The record's own key is its sequence: the case's follows.
            CHECK_EQ_INT (k.mv_size, 8);
            k = (MDB_val) {2 + CP_INDEX_HASH_SIZE, v.mv_data};
            v = (MDB_val) {v.mv_size - k.mv_size, (uint8_t *) v.mv_data + k.mv_size};
        }
        CHECK (v.mv_size > CP_SEAL_OVERHEAD && ((const uint8_t *) v.mv_data) [0] == 1);
        uint8_t ad [64], plain [1024];
        CHECK (k.mv_size < sizeof ad && v.mv_size - CP_SEAL_OVERHEAD <= sizeof plain);
        ad [0] = 'C';
        memcpy (ad + 1, k.mv_data, k.mv_size);
        size_t size = v.mv_size - CP_SEAL_OVERHEAD;
        if (cp_seal_open (seal, ad, 1 + k.mv_size, v.mv_data, v.mv_size, plain) == 0) {
            cp_case_t record;
            memset (&record, 0, sizeof record);
            CHECK_EQ_INT (cp_case_decode (&record, plain, size), 0);
            CHECK (record.opened);
            *opened += record.opened;
            cp_case_reset (&record);
        }
        ad [0] = 'L';
        CHECK_EQ_INT (cp_seal_open (seal, ad, 1 + k.mv_size, v.mv_data, v.mv_size, plain),
                      CP_EAUTH);
    }
    CHECK_EQ_INT (leaks, 0);
    if (cursor)
        mdb_cursor_close (cursor);      //  a read-only transaction's cursor is ours to free
    if (txn)
        mdb_txn_abort (txn);
    if (env)
        mdb_env_close (env);
    return entries;
}

static void
test_at_rest (void)
{
    central_store_t *store = s_new_store ();
    s_rest_apply (store);
    cp_figures_t figures;
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 4);
    CHECK_EQ_INT (figures.home_visits, 3);
    central_store_destroy (&store);

    //  The storage key: 32 bytes, 0600, not the index key.
    char path [512];
    snprintf (path, sizeof path, "%s/keys/storage.key", s_dir);
    struct stat info;
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK_EQ_INT (info.st_size, CP_SEAL_KEY_SIZE);
    CHECK_EQ_INT (info.st_mode & 07777, 0600);
    uint8_t *key = NULL, *index_key = NULL;
    CHECK_EQ_INT (cp_keyfile_read (path, CP_SEAL_KEY_SIZE, &key), 0);
    snprintf (path, sizeof path, "%s/keys/index.key", s_dir);
    CHECK_EQ_INT (cp_keyfile_read (path, 32, &index_key), 0);
    CHECK (key && index_key && memcmp (key, index_key, 32) != 0);
    cp_keyfile_free (&index_key);
    cp_seal_t *seal = key? cp_seal_new (key): NULL;
    cp_keyfile_free (&key);
    CHECK (seal);

    //  Every value of cases and of the case log is sealed: version 1,
    //  nothing of a case in the clear, and it opens under the storage key
    //  with 'C' and its key as associated data into a case record.  The
    //  three commits wrote 2 + 2 + 2 records to the log and none to cases.
    size_t opened = 0;
    CHECK_EQ_INT (s_rest_sealed (seal, "cases", &opened), 0);
    CHECK_EQ_INT (s_rest_sealed (seal, "case_log", &opened), 6);
    CHECK_EQ_INT (opened, 6);

    //  Once the log holds a record more than it may, the commit folds it:
    //  each case's latest record moves to cases, as sealed, and the log
    //  empties.  The figures read the same before and after.
    setenv ("CPSYNC_CASE_LOG", "7", 1);
    int error = 0;
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    cp_event_t third [] = {
        s_event (CP_EVENT_HOME_VISIT, "evid-AR-006", s_rest_cases [1], "2022-05-02", NULL),
    };
    CHECK_EQ_INT (s_apply_one (store, "berat", 6, third, 1, NULL), CENTRAL_STORE_APPLIED);
    central_store_destroy (&store);
    unsetenv ("CPSYNC_CASE_LOG");
    opened = 0;
    CHECK_EQ_INT (s_rest_sealed (seal, "case_log", &opened), 0);
    CHECK_EQ_INT (s_rest_sealed (seal, "cases", &opened), 4);
    CHECK_EQ_INT (opened, 4);
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    s_figures (store, "national", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 4);
    CHECK_EQ_INT (figures.home_visits, 4);
    central_store_destroy (&store);
    cp_seal_destroy (&seal);
    s_remove_dir ();
}

//  Opens s_dir (flags) and expects error, or a store when error is 0.
static void
s_open_expect (int flags, int expected)
{
    int error = 0;
    central_store_t *store = central_store_open (s_dir, flags, &error);
    if (expected? store != NULL || error != expected: store == NULL)
        fprintf (stderr, "  open gave %s, expected %s\n", store? "a store": cp_strerror (error),
                 expected? cp_strerror (expected): "a store");
    CHECK (expected? store == NULL && error == expected: store != NULL);
    central_store_destroy (&store);
}

static void
test_at_rest_refused (void)
{
    central_store_t *store = s_new_store ();
    s_rest_apply (store);
    central_store_destroy (&store);
    char path [512], other [sizeof s_dir];
    snprintf (path, sizeof path, "%s/keys/storage.key", s_dir);

    //  A storage key others may read: writers refuse it, readers (which
    //  never read the cases) do not need it.
    CHECK_EQ_INT (chmod (path, 0644), 0);
    s_open_expect (0, CP_EINSECURE);
    CHECK_EQ_INT (chmod (path, 0640), 0);
    s_open_expect (0, CP_EINSECURE);
    s_open_expect (CENTRAL_STORE_READONLY, 0);
    CHECK_EQ_INT (chmod (path, 0600), 0);
    s_open_expect (0, 0);
    //  So is an index key others may read (as at a node: cp_store loads both).
    char index_path [512];
    snprintf (index_path, sizeof index_path, "%s/keys/index.key", s_dir);
    CHECK_EQ_INT (chmod (index_path, 0604), 0);
    s_open_expect (0, CP_EINSECURE);
    s_open_expect (CENTRAL_STORE_READONLY, 0);
    CHECK_EQ_INT (chmod (index_path, 0600), 0);
    s_open_expect (0, 0);

    //  Another central's storage key: the store opens, but a case it holds
    //  does not, and applying to it is a store error.
    snprintf (other, sizeof other, "%s", s_dir);
    const char *dir = s_fresh_dir ();
    CHECK_EQ_INT (central_store_create (dir, "tcp://127.0.0.1:7400", 2), 0);
    char theirs [512];
    snprintf (theirs, sizeof theirs, "%s/keys/storage.key", dir);
    uint8_t *own = NULL, *their = NULL;
    CHECK_EQ_INT (cp_keyfile_read (path, CP_SEAL_KEY_SIZE, &own), 0);
    CHECK_EQ_INT (cp_keyfile_read (theirs, CP_SEAL_KEY_SIZE, &their), 0);
    s_remove_dir ();
    snprintf (s_dir, sizeof s_dir, "%s", other);
    if (own && their) {
        CHECK_EQ_INT (cp_keyfile_write (path, their, CP_SEAL_KEY_SIZE, true), 0);
        int error = 0;
        store = central_store_open (s_dir, 0, &error);
        CHECK (store);
        if (store) {
            cp_event_t visit [] = {
                s_event (CP_EVENT_HOME_VISIT, "evid-AR-006", s_rest_cases [0], "2022-05-01",
                         NULL)
            };
            s_batch_t batch = s_batch ("berat", 6, visit, 1);
            central_result_t result;
            CHECK_EQ_INT (central_store_begin (store), 0);
            CHECK_EQ_INT (s_apply (store, &batch, &result), CP_ESTORE);
            central_store_abort (store);
            s_batch_free (&batch);
            central_cursor_t cursor;
            CHECK_EQ_INT (central_store_cursor (store, cp_municipality_index ("berat"), &cursor),
                          0);
            CHECK_EQ_INT (cursor.acked, 5);
            central_store_destroy (&store);
        }
        CHECK_EQ_INT (cp_keyfile_write (path, own, CP_SEAL_KEY_SIZE, true), 0);
    }
    cp_keyfile_free (&own);
    cp_keyfile_free (&their);
    s_open_expect (0, 0);

    //  A storage key of another size, or none: not a central (to write).
    uint8_t short_key [16] = {0};
    CHECK_EQ_INT (cp_keyfile_write (path, short_key, sizeof short_key, true), 0);
    s_open_expect (0, CP_ENOTCENTRAL);
    CHECK_EQ_INT (unlink (path), 0);
    s_open_expect (0, CP_ENOTCENTRAL);
    s_open_expect (CENTRAL_STORE_READONLY, 0);

    //  A store of format 1 held its cases in the clear: refused.
    MDB_env *env = s_env_open (0);
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    CHECK (env && mdb_txn_begin (env, NULL, 0, &txn) == 0);
    if (txn) {
        CHECK_EQ_INT (mdb_dbi_open (txn, "meta", 0, &meta), 0);
        MDB_val k = {6, "format"}, v = {16, "cpsync-central 1"};
        CHECK_EQ_INT (mdb_put (txn, meta, &k, &v, 0), 0);
        CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    }
    if (env)
        mdb_env_close (env);
    s_open_expect (CENTRAL_STORE_READONLY, CP_ENOTCENTRAL);
    s_remove_dir ();
}

//  A set-up that fails half way (here the environment's directory cannot
//  be made) is taken back, keys too, so that init can be run again.
static void
test_failed_setup (void)
{
    const char *dir = s_fresh_dir ();
    char path [512];
    snprintf (path, sizeof path, "%s/store", dir);
    FILE *file = fopen (path, "w");
    CHECK (file);
    if (file)
        fclose (file);
    CHECK_EQ_INT (central_store_create (dir, "tcp://127.0.0.1:7400", 1), CP_ESTORE);
    snprintf (path, sizeof path, "%s/keys", dir);
    CHECK (access (path, F_OK) != 0);
    CHECK_EQ_INT (central_store_create (dir, "tcp://127.0.0.1:7400", 1), 0);
    int error = 0;
    central_store_t *store = central_store_open (dir, 0, &error);
    CHECK (store);
    central_store_destroy (&store);
    s_remove_dir ();
}

//  A store of format 4, whose month rows are in "days": refused as what it
//  is, to read and to write, with the line that names both formats, not
//  opened without its rows.
static void
test_old_format (void)
{
    central_store_t *store = s_new_store ();
    s_rest_apply (store);
    central_store_destroy (&store);
    char path [512];
    snprintf (path, sizeof path, "%s/store", s_dir);
    //  March and April for berat, its county and the nation; March for fier
    //  and its county.
    CHECK_EQ_INT (testing_store_make_old (path, "cpsync-central 4"), 3 * 2 + 2 * 1);
    const int flags [] = {CENTRAL_STORE_READONLY, 0};
    for (int index = 0; index < 2; index++) {
        testing_log_start ();
        s_open_expect (flags [index], CP_ENOTCENTRAL);
        char *log = testing_log_end ();
        CHECK_STR_CONTAINS (log, "holds a store of format \"cpsync-central 4\"; "
                                 "this central reads \"cpsync-central 9\"");
        free (log);
    }
    s_remove_dir ();
}

//  A store of format 8 (no case log: its cases all in cases) opened by
//  this build: readers refuse it as before; the writer adds the log and
//  rewrites the format in one transaction, and the cases are where
//  they were: a batch that adds to them counts as it would have.
static void
test_upgrade_8 (void)
{
    setenv ("CPSYNC_CASE_LOG", "1", 1);         //  every commit folds
    central_store_t *store = s_new_store ();
    s_rest_apply (store);
    central_store_destroy (&store);
    unsetenv ("CPSYNC_CASE_LOG");
    MDB_env *env = s_env_open (0);
    MDB_txn *txn = NULL;
    MDB_dbi case_log, meta;
    CHECK (env && mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (txn && mdb_dbi_open (txn, "case_log", 0, &case_log) == 0
           && mdb_drop (txn, case_log, 1) == 0 && mdb_dbi_open (txn, "meta", 0, &meta) == 0
           && cp_lmdb_put_text (txn, meta, "format", "cpsync-central 8") == 0);
    CHECK (txn && mdb_txn_commit (txn) == 0);
    if (env)
        mdb_env_close (env);

    testing_log_start ();
    s_open_expect (CENTRAL_STORE_READONLY, CP_ENOTCENTRAL);
    char *log = testing_log_end ();
    CHECK_STR_CONTAINS (log, "holds a store of format \"cpsync-central 8\"");
    free (log);
    testing_log_start ();
    int error = 0;
    store = central_store_open (s_dir, 0, &error);
    log = testing_log_end ();
    CHECK (store);
    CHECK_STR_CONTAINS (log, "upgraded from format \"cpsync-central 8\" to "
                             "\"cpsync-central 9\"");
    free (log);
    cp_event_t third [] = {
        s_event (CP_EVENT_CASE_CLOSED, "evid-AR-006", s_rest_cases [0], "2022-05-02",
                 "risk_reduced"),
        s_event (CP_EVENT_HOME_VISIT, "evid-AR-007", s_rest_cases [1], "2022-05-03", NULL),
    };
    if (store)
        CHECK_EQ_INT (s_apply_one (store, "berat", 6, third, 2, NULL), CENTRAL_STORE_APPLIED);
    central_store_destroy (&store);
    store = central_store_open (s_dir, CENTRAL_STORE_READONLY, &error);
    CHECK (store);
    cp_figures_t figures;
    if (store) {
        s_figures (store, "national", "2022", &figures, NULL);
        CHECK_EQ_INT (figures.opened, 4);
        CHECK_EQ_INT (figures.closed, 1);
        CHECK_EQ_INT (figures.home_visits, 4);
    }
    central_store_destroy (&store);
    s_remove_dir ();
}

static void
s_setup (void)
{
    if (sodium_init () < 0)
        exit (1);
}

#define main s_main
//  FIGURES (central_figures): the digests of a municipality's rows as of
//  its cursor, sent only to a node caught up, after a change, a HELLO or
//  a minute, at most every 2 s, and not after the node's verdict on the
//  last one, but again after own events that made the node ignore it.
static void
test_figures (void)
{
    central_store_t *store = s_new_store ();
    central_figures_t *figures = central_figures_new (store);
    assert (figures);
    int berat = cp_municipality_index ("berat");
    cp_month_digests_t *sent = calloc (1, sizeof *sent);
    assert (sent);
    size_t size = 0;
    uint64_t as_of = 0;
    uint8_t *body;
    //  Nothing said yet, nothing due
    CHECK (central_figures_next (figures, berat, 1000, &size, &as_of) == NULL);
    //  A never heard of node: nothing applied, nothing to check
    central_figures_hello (figures, cp_municipality_index ("durres"));
    CHECK (central_figures_next (figures, cp_municipality_index ("durres"), 1000, &size,
                                 &as_of) == NULL);

    cp_event_t first [] = {
        s_opened ("e1", "c1", "2022-05-03", 10, "F"),
        s_opened ("e2", "c2", "2022-07-09", 12, "M"),
    };
    central_store_seen (store, berat, 2);
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, first, 2, NULL), CENTRAL_STORE_APPLIED);
    central_figures_changed (figures, berat);
    body = central_figures_next (figures, berat, 10000, &size, &as_of);
    CHECK (body != NULL);
    CHECK_EQ_INT (as_of, 2);
    if (body)
        CHECK_EQ_INT (cp_wire_figures_decode (body, size, sent), 0);
    free (body);
    CHECK_EQ_INT (sent->as_of, 2);
    CHECK_EQ_INT (sent->count, 2);
    CHECK_EQ_INT (sent->months [0].month, 22 * 12 + 4);         //  2022-05
    CHECK_EQ_INT (sent->months [1].month, 22 * 12 + 6);         //  2022-07
    //  Within 2 s: nothing, whatever is due
    central_figures_hello (figures, berat);
    CHECK (central_figures_next (figures, berat, 11999, &size, &as_of) == NULL);
    body = central_figures_next (figures, berat, 12000, &size, &as_of);
    CHECK (body != NULL);                                       //  HELLO: sent again
    free (body);

    //  A commit of the node's own event only: the same figures, not sent
    cp_event_t verdict = s_own (CP_EVENT_FIGURES_CHECKED, "n-fc-2", "2022-08-01", 2, "");
    verdict.verdict = CP_FIGURES_IN_SYNC;
    central_store_seen (store, berat, 3);
    CHECK_EQ_INT (s_apply_one (store, "berat", 3, &verdict, 1, NULL), CENTRAL_STORE_APPLIED);
    central_figures_changed (figures, berat);
    CHECK (central_figures_next (figures, berat, 20000, &size, &as_of) == NULL);

    //  A node with events left to ship: not yet; once they are applied, yes
    central_store_seen (store, berat, 4);
    CHECK_EQ_INT (central_store_flush (store), 0);
    central_figures_changed (figures, berat);
    CHECK (central_figures_next (figures, berat, 30000, &size, &as_of) == NULL);
    cp_event_t visit = s_event (CP_EVENT_HOME_VISIT, "e3", "c1", "2022-09-01", NULL);
    CHECK_EQ_INT (s_apply_one (store, "berat", 4, &visit, 1, NULL), CENTRAL_STORE_APPLIED);
    body = central_figures_next (figures, berat, 30250, &size, &as_of);
    CHECK (body != NULL);
    CHECK_EQ_INT (as_of, 4);
    if (body)
        CHECK_EQ_INT (cp_wire_figures_decode (body, size, sent), 0);
    free (body);
    CHECK_EQ_INT (sent->count, 3);

    //  A minute on, sent again though nothing changed
    CHECK (central_figures_next (figures, berat, 60000, &size, &as_of) == NULL);
    body = central_figures_next (figures, berat, 30250 + CENTRAL_FIGURES_RECHECK_MSECS, &size,
                                 &as_of);
    CHECK (body != NULL);
    free (body);

    //  The node appended an event of its own meanwhile, so it ignored that
    //  one (its head past as_of) and gave no verdict: the same figures go
    //  again, and once it has given its verdict on them, not again
    cp_event_t staff = s_own (CP_EVENT_STAFF_SET, "n-ss-5", "2022-09-02", 0, NULL);
    staff.workers = 3;
    staff.children = 9000;
    central_store_seen (store, berat, 5);
    CHECK_EQ_INT (s_apply_one (store, "berat", 5, &staff, 1, NULL), CENTRAL_STORE_APPLIED);
    central_figures_changed (figures, berat);
    int64_t later = 30250 + CENTRAL_FIGURES_RECHECK_MSECS + CENTRAL_FIGURES_MSECS;
    body = central_figures_next (figures, berat, later, &size, &as_of);
    CHECK (body != NULL);
    CHECK_EQ_INT (as_of, 5);
    free (body);
    verdict = s_own (CP_EVENT_FIGURES_CHECKED, "n-fc-5", "2022-09-02", 5, "");
    verdict.verdict = CP_FIGURES_IN_SYNC;
    central_store_seen (store, berat, 6);
    CHECK_EQ_INT (s_apply_one (store, "berat", 6, &verdict, 1, NULL), CENTRAL_STORE_APPLIED);
    central_figures_changed (figures, berat);
    CHECK (central_figures_next (figures, berat, later + CENTRAL_FIGURES_MSECS, &size,
                                 &as_of) == NULL);
    free (sent);
    central_figures_destroy (&figures);
    CHECK (figures == NULL);
    s_close_store (&store);
}

//  A month row damaged on disk: the views and the figures that read it
//  refuse with CP_ESTORE, a view of another scope is unchanged, and a
//  row again whole reads as before.  Stored bytes are input.
static void
test_damaged_row (void)
{
    central_store_t *store = s_new_store ();
    cp_event_t berat [] = {s_opened ("e1", "c1", "2022-05-03", 10, "F")};
    cp_event_t durres [] = {s_opened ("e2", "c2", "2022-05-04", 12, "M")};
    central_store_seen (store, cp_municipality_index ("berat"), 1);
    central_store_seen (store, cp_municipality_index ("durres"), 1);
    CHECK_EQ_INT (s_apply_one (store, "berat", 1, berat, 1, NULL), CENTRAL_STORE_APPLIED);
    CHECK_EQ_INT (s_apply_one (store, "durres", 1, durres, 1, NULL), CENTRAL_STORE_APPLIED);
    cp_figures_t figures;
    s_figures (store, "municipality:berat", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    central_store_destroy (&store);

    //  Berat's row of 2022-05 (its scope's prefix, then the month) made
    //  a byte too long: no row decodes so.
    uint8_t key [8], saved [1024], damaged [1025];
    cp_put_u32 (key, (uint32_t) CP_SCOPE_MUNICIPALITY << 16
                     | (uint32_t) cp_municipality_index ("berat"));
    cp_put_u32 (key + 4, 22 * 12 + 4);
    MDB_env *env = s_env_open (0);
    MDB_txn *txn = NULL;
    MDB_dbi months;
    MDB_val k = {sizeof key, key}, v = {0, NULL};
    CHECK (env && mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (txn && mdb_dbi_open (txn, CP_STORE_MONTHS, 0, &months) == 0);
    CHECK (txn && mdb_get (txn, months, &k, &v) == 0 && v.mv_size < sizeof saved);
    size_t size = v.mv_size;
    memcpy (saved, v.mv_data, size);
    memcpy (damaged, saved, size);
    damaged [size] = 0xff;
    v = (MDB_val) {size + 1, damaged};
    CHECK (txn && mdb_put (txn, months, &k, &v, 0) == 0 && mdb_txn_commit (txn) == 0);

    int error = 0;
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    cp_period_t period;
    cp_period_parse ("2022", &period);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_month_digests_t *digests = malloc (sizeof (cp_month_digests_t));
    assert (view && digests);
    cp_view_init (view, &period, "municipality:berat");
    CHECK_EQ_INT (central_store_view (store, "municipality:berat", view), CP_ESTORE);
    uint64_t head = 0;
    CHECK_EQ_INT (central_store_figures (store, cp_municipality_index ("berat"), &head,
                                         digests), CP_ESTORE);
    s_figures (store, "municipality:durres", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    central_store_destroy (&store);

    CHECK (mdb_txn_begin (env, NULL, 0, &txn) == 0);
    v = (MDB_val) {size, saved};
    CHECK (mdb_put (txn, months, &k, &v, 0) == 0 && mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    CHECK_EQ_INT (central_store_figures (store, cp_municipality_index ("berat"), &head,
                                         digests), 0);
    CHECK_EQ_INT (digests->count, 1);
    s_figures (store, "municipality:berat", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    central_store_destroy (&store);

    //  A key a byte longer than a month row's, right after Berat's row:
    //  no row is stored so, and a walk that took its first eight bytes
    //  would read a month that is not there.
    uint8_t long_key [9];
    memcpy (long_key, key, sizeof key);
    long_key [8] = 0;
    env = s_env_open (0);
    CHECK (env && mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (txn && mdb_dbi_open (txn, CP_STORE_MONTHS, 0, &months) == 0);
    k = (MDB_val) {sizeof long_key, long_key};
    v = (MDB_val) {size, saved};
    CHECK (txn && mdb_put (txn, months, &k, &v, 0) == 0 && mdb_txn_commit (txn) == 0);
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    cp_view_init (view, &period, "municipality:berat");
    CHECK_EQ_INT (central_store_view (store, "municipality:berat", view), CP_ESTORE);
    CHECK_EQ_INT (central_store_figures (store, cp_municipality_index ("berat"), &head,
                                         digests), CP_ESTORE);
    s_figures (store, "municipality:durres", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    central_store_destroy (&store);
    CHECK (env && mdb_txn_begin (env, NULL, 0, &txn) == 0);
    CHECK (txn && mdb_del (txn, months, &k, NULL) == 0 && mdb_txn_commit (txn) == 0);
    mdb_env_close (env);
    store = central_store_open (s_dir, 0, &error);
    CHECK (store);
    s_figures (store, "municipality:berat", "2022", &figures, NULL);
    CHECK_EQ_INT (figures.opened, 1);
    free (view);
    free (digests);
    s_close_store (&store);
}

//  The municipalities' and counties' tallies go with their transaction:
//  kept for the next, each kept the cell arrays of every month it was
//  ever given, and a thousand municipalities' years of months held 150 MB
//  between groups (docs/design.md, section 16).  Every municipality gets
//  a home visit in each of 120 months, a transaction a month: none is
//  held after a commit or an abort, and the figures are whole.
static void
test_tallies_released (void)
{
    central_store_t *store = s_new_store ();
    int count = cp_municipality_count ();
    CHECK_EQ_INT (central_store_begin (store), 0);
    for (int index = 0; index < count; index++) {
        cp_event_t opened = s_opened ("o-1", "c-1", "2015-01-02", 10, "F");
        s_batch_t batch = s_batch (cp_municipality_code (index), 1, &opened, 1);
        central_result_t result;
        CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
        s_batch_free (&batch);
    }
    CHECK (central_store_tallies_held (store) > 0);             //  the group's
    CHECK_EQ_INT (central_store_commit (store), 0);
    CHECK_EQ_INT (central_store_tallies_held (store), 0);
    for (int month = 0; month < 120; month++) {
        char id [16], date [16];
        snprintf (id, sizeof id, "v-%d", month);
        snprintf (date, sizeof date, "%04d-%02d-15", 2015 + month / 12, month % 12 + 1);
        CHECK_EQ_INT (central_store_begin (store), 0);
        for (int index = 0; index < count; index++) {
            cp_event_t visit = s_event (CP_EVENT_HOME_VISIT, id, "c-1", date, NULL);
            s_batch_t batch = s_batch (cp_municipality_code (index), (uint64_t) month + 2,
                                       &visit, 1);
            central_result_t result;
            CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
            s_batch_free (&batch);
        }
        CHECK_EQ_INT (central_store_commit (store), 0);
        CHECK_EQ_INT (central_store_tallies_held (store), 0);
    }
    //  An aborted transaction lets its tallies go too
    CHECK_EQ_INT (central_store_begin (store), 0);
    cp_event_t visit = s_event (CP_EVENT_HOME_VISIT, "v-x", "c-1", "2024-12-20", NULL);
    s_batch_t batch = s_batch ("berat", 122, &visit, 1);
    central_result_t result;
    CHECK_EQ_INT (s_apply (store, &batch, &result), CENTRAL_STORE_APPLIED);
    s_batch_free (&batch);
    central_store_abort (store);
    CHECK_EQ_INT (central_store_tallies_held (store), 0);
    //  Every visit counted: 120 a municipality, 120 x count in the nation
    cp_figures_t figures;
    int reporting = 0;
    for (int year = 2015; year <= 2024; year++) {
        char period [8];
        snprintf (period, sizeof period, "%d", year);
        s_figures (store, "national", period, &figures, &reporting);
        CHECK_EQ_INT (figures.home_visits, 12 * count);
        s_figures (store, "municipality:berat", period, &figures, &reporting);
        CHECK_EQ_INT (figures.home_visits, 12);
    }
    s_close_store (&store);
}

TESTING_MAIN (
    TEST (test_municipalities),
    TEST (test_create_open),
    TEST (test_exactly_once),
    TEST (test_overlap),
    TEST (test_identity),
    TEST (test_conflict),
    TEST (test_stem_record),
    TEST (test_hello_note),
    TEST (test_gap),
    TEST (test_late_event),
    TEST (test_scopes),
    TEST (test_refusals),
    TEST (test_quarantine),
    TEST (test_abort),
    TEST (test_arrivals),
    TEST (test_arrival_quarters),
    TEST (test_deadlines),
    TEST (test_write_failure),
    TEST (test_kept_cases_after_abort),
    TEST (test_map_full),
    TEST (test_own_kinds),
    TEST (test_figures),
    TEST (test_damaged_row),
    TEST (test_tallies_released),
    TEST (test_at_rest),
    TEST (test_upgrade_8),
    TEST (test_at_rest_refused),
    TEST (test_failed_setup),
    TEST (test_old_format),
    TEST (test_throughput)
)
#undef main

int
main (int argc, char **argv)
{
    s_setup ();
    return s_main (argc, argv);
}
