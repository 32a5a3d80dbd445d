/*  fuzz_central_store: libFuzzer target for every record the central
    reads back from its store: meta (format, listen, catalogue, the
    municipality list, key serial, downlink_used, deadlines), catalogues,
    cursors, logs and their chains, ids, case records and the case log,
    month rows, the archive, envelopes, counters, quarantine, keys, the
    downlink and its index, arrivals, directive reports, staffing and
    reconciliation.

    Each input is records (store_records.h) written over a baseline that
    a real central wrote at the first input: two batches of Berat applied
    (one event quarantined), a staffing set and a figures check from its
    node, a HELLO and a refusal counted, a key, a directive published to
    county Berat and a year's deadline.  Then the store opens to write, as
    the daemon opens it, and every read of the central runs (cursors,
    counters, the refused list, log cursors, the archive, views of every
    kind of scope, arrivals, directive reports, staffing, reconciliation,
    figures and month rows, deadlines, keys, the downlink), then the
    writes that read first (a new batch of Berat, and one of the same
    events again, seen and hello, a flush); and then it opens read-only,
    as the HTTP API and the queries open it, and reads again.

    The promises: the store opens or refuses with an error (never an
    assert, a crash or undefined behaviour); every call returns 0 or a
    code its header lists (a rule's refusal of a batch, a store error);
    counts stay within the max asked.  Case values and envelopes are
    sealed under the storage key, so changed ones stop at the seal.  A
    broken promise aborts, and so does a sanitizer's report, so the fuzzer
    keeps the input.

    The saved corpus (corpus/central_store) holds the baseline's records
    and copies with one thing wrong, written by this target when
    FUZZ_SEEDS names a directory (store_records_seeds), and (fuzz-*) the
    inputs of a libFuzzer run that reached new code.  replay.c runs it
    as an ordinary test.                                                   */

#include "fuzzing.h"
#include "store_records.h"
#include "central_store.h"
#include "cp_codec.h"
#include "cp_store.h"
#include "cp_directive.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "cp_wire.h"

#include <czmq.h>
#include <sodium.h>

static const store_table_t s_tables [] = {
    {"meta", 0, 0},
    {"catalogues", MDB_INTEGERKEY, sizeof (unsigned)},
    {"cursors", 0, 0},
    {"logs", 0, 0},
    {"ids", 0, 0},
    {"cases", 0, 0},
    {CP_STORE_MONTHS, 0, 0},
    {"archive", 0, 0},
    {"envelopes", 0, 0},
    {"counters", 0, 0},
    {"quarantine", 0, 0},
    {"keys", 0, 0},
    {"downlink", 0, 0},
    {"downlink_to", 0, 0},
    {"arrivals", 0, 0},
    {"directive_reports", 0, 0},
    {"staffing", 0, 0},
    {"reconciliation", 0, 0},
    {"case_log", 0, 0}          //  last: the corpus's table numbers stay those of before
};
#define S_TABLES (sizeof s_tables / sizeof s_tables [0])

static store_records_t s_records = {.tables = s_tables, .table_count = S_TABLES};
static const uint8_t s_log [CP_WIRE_LOG_SIZE] = {0xaa, 1, 2, 3};

static const char *const s_lines [] = {
    "{\"id\":\"e-1\",\"type\":\"case_opened\",\"case\":\"c-17\",\"date\":\"2022-03-14\","
        "\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}",
    "{\"id\":\"e-2\",\"type\":\"risk_assessed\",\"case\":\"c-17\",\"date\":\"2022-03-15\","
        "\"level\":\"medium\"}",
    "{\"id\":\"e-3\",\"type\":\"home_visit\",\"case\":\"c-99\",\"date\":\"2022-04-02\"}",
    "{\"id\":\"e-4\",\"type\":\"case_closed\",\"case\":\"c-17\",\"date\":\"2022-12-20\","
        "\"reason\":\"risk_reduced\"}",
    "{\"id\":\"e-5\",\"type\":\"case_opened\",\"case\":\"c-18\",\"date\":\"2021-11-02\","
        "\"age\":3,\"sex\":\"M\",\"ethnicity\":\"majority\",\"referral\":\"school\"}",
    "{\"id\":\"e-6\",\"type\":\"problem_set\",\"case\":\"c-18\",\"date\":\"2021-11-03\","
        "\"problem\":\"neglect\"}"
};

//  The log's chain at seq, made up: the store only compares chains.
static void
s_chain (uint64_t seq, uint8_t *chain)
{
    memset (chain, 0, CP_WIRE_CHAIN_SIZE);
    if (seq) {
        chain [0] = 0xaa;
        cp_put_u64 (chain + 8, seq);
    }
}

static bool
s_store_error (int rc)
{
    return rc == CP_ESTORE || rc == CP_EMAPFULL;
}

//  Applies events (own ones added after the lines) as one batch of Berat
//  from sequence first.  Returns apply's code, or a store error of
//  begin or commit.
static int
s_apply (central_store_t *store, uint64_t first, cp_event_t *events, size_t count)
{
    size_t payload_size = 0, header_size = 0;
    uint8_t *payload = cp_codec_batch_encode (first, events, count, &payload_size);
    cp_batch_header_t header = {0};
    snprintf (header.municipality, sizeof header.municipality, "berat");
    memcpy (header.log, s_log, CP_WIRE_LOG_SIZE);
    header.first = first;
    header.last = first + count - 1;
    header.head = header.last;
    s_chain (first - 1, header.prev);
    s_chain (header.last, header.chain);
    snprintf (header.node_key, sizeof header.node_key, "none");
    snprintf (header.data_key, sizeof header.data_key, "none");
    uint8_t *header_bytes = cp_wire_batch_header_encode (&header, &header_size);
    central_batch_t batch = {0};
    if (!payload || !header_bytes
    ||  cp_batch_decode (&header, payload, payload_size, &batch.events, &batch.count))
        fuzzing_fail ("a batch of the target does not encode");
    batch.municipality = cp_municipality_index ("berat");
    batch.header = header;
    batch.frames = (cp_batch_frames_t) {header_bytes, header_size, payload, payload_size,
                                        (const uint8_t *) "", 0};
    central_store_prepare (store, &batch);
    int rc = central_store_begin (store);
    if (rc == 0) {
        central_result_t result;
        rc = central_store_apply (store, &batch, &result);
        if (s_store_error (rc))
            central_store_abort (store);
        else {
            int committed = central_store_commit (store);
            if (committed)
                rc = committed;
        }
    }
    central_store_batch_clear (&batch);
    free (header_bytes);
    free (payload);
    return rc;
}

//  The lines' events under the store's catalogue, and a staffing set.
static size_t
s_events (central_store_t *store, cp_event_t *events)
{
    size_t count = 0;
    for (size_t index = 0; index < sizeof s_lines / sizeof s_lines [0]; index++) {
        char why [256];
        memset (&events [count], 0, sizeof events [count]);
        if (cp_event_from_json (s_lines [index], strlen (s_lines [index]),
                                central_store_catalogue (store), cp_date_today (),
                                &events [count], why, sizeof why) == 0)
            count++;
    }
    cp_event_t *staff = &events [count++];
    memset (staff, 0, sizeof *staff);
    staff->type = CP_EVENT_STAFF_SET;
    snprintf (staff->id, sizeof staff->id, "n-ss-baseline");
    staff->date = cp_date_from_civil (2022, 1, 1);
    staff->workers = 4;
    staff->children = 21000;
    return count;
}

static void
s_baseline (void)
{
    //  The first batch's case is folded into cases (a log of one record
    //  at most), the second's two stay in the case log (three at most),
    //  so that both hold records to damage, and a fuzzed store's new
    //  batch folds the log.
    setenv ("CPSYNC_CASE_LOG", "1", 1);
    if (central_store_create (s_records.dir, "tcp://127.0.0.1:7400", 2))
        fuzzing_fail ("the baseline's central is not set up");
    int error = 0;
    central_store_t *store = central_store_open (s_records.dir, 0, &error);
    if (!store)
        fuzzing_fail ("the baseline's central does not open");
    cp_event_t events [8];
    size_t count = s_events (store, events);
    if (count != 7)
        fuzzing_fail ("a line of the baseline does not parse");
    if (s_apply (store, 1, events, 3) != CENTRAL_STORE_APPLIED)
        fuzzing_fail ("a batch of the baseline is refused");
    central_store_destroy (&store);
    setenv ("CPSYNC_CASE_LOG", "3", 1);
    if (!(store = central_store_open (s_records.dir, 0, &error)))
        fuzzing_fail ("the baseline's central does not open again");
    count = s_events (store, events);
    if (s_apply (store, 4, events + 3, count - 3) != CENTRAL_STORE_APPLIED)
        fuzzing_fail ("a batch of the baseline is refused");
    int berat = cp_municipality_index ("berat");
    central_store_hello (store, berat, s_log, 7, false);
    central_store_downlink_reached (store, berat, 0);
    central_store_count (store, CP_EAUTH);
    if (central_store_flush (store))
        fuzzing_fail ("the baseline does not flush");
    central_key_t key = {.kind = CENTRAL_KEY_NODE, .owner = berat, .created = 1700000000,
                         .valid_from = 1700000000};
    snprintf (key.id, sizeof key.id, "berat-node-1");
    randombytes_buf (key.public_key, sizeof key.public_key);
    randombytes_buf (key.kx_public, sizeof key.kx_public);
    uint64_t serial = 0;
    if (central_store_keys_put (store, &key, 1, &serial))
        fuzzing_fail ("the baseline's key is refused");
    cp_directive_t directive = {.kind = CP_DIRECTIVE_NOTICE, .text = "Raportoni"};
    size_t body_size = 0;
    uint8_t *body = cp_directive_encode (&directive, &body_size);
    uint8_t root [CP_KEY_SIZE], secret [CP_SIGN_SECRET_SIZE];
    crypto_sign_keypair (root, secret);
    cp_scope_t address;
    uint64_t seq = 0;
    char why [256];
    if (!body || cp_downlink_address_parse ("county:berat", &address)
    ||  central_store_downlink_publish (store, CP_DOWNLINK_DIRECTIVE, &address, body,
                                        body_size, secret, &seq, why, sizeof why))
        fuzzing_fail ("the baseline's directive is not published");
    free (body);
    if (central_store_deadline_set (store, 2022, 30))
        fuzzing_fail ("the baseline's deadline is refused");
    central_store_destroy (&store);
}

//  Every read of the central; the heavy buffers kept for the run.
static void
s_reads (central_store_t *store)
{
    static central_cursor_t *cursors;
    static cp_month_digests_t *figures;
    static cp_month_rows_t *rows;
    static central_arrival_t *arrivals;
    int municipalities = cp_municipality_count ();
    if (!cursors) {
        cursors = calloc ((size_t) municipalities, sizeof *cursors);
        arrivals = calloc ((size_t) municipalities, sizeof *arrivals);
        figures = malloc (sizeof *figures);
        rows = malloc (sizeof *rows);
        if (!cursors || !arrivals || !figures || !rows)
            fuzzing_fail ("out of memory");
    }
    int berat = cp_municipality_index ("berat");
    int rc = central_store_cursors (store, cursors);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("cursors: a stray code");
    central_cursor_t cursor;
    rc = central_store_cursor (store, berat, &cursor);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("cursor: a stray code");
    central_counter_t counters [64];
    size_t count = 99;
    rc = central_store_counters (store, counters, 64, &count);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("counters: a stray code");
    if (rc == 0 && count > 64)
        fuzzing_fail ("counters: more than max");
    int code = 0;
    for (uint64_t seq = 1; seq <= 4; seq++) {
        rc = central_store_quarantined (store, berat, s_log, seq, &code);
        if (rc < 0 && !s_store_error (rc))
            fuzzing_fail ("quarantined: a stray code");
    }
    central_refused_t refused [16];
    count = 99;
    rc = central_store_refused_list (store, berat, refused, 16, &count);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("refused list: a stray code");
    if (rc == 0 && count > 16)
        fuzzing_fail ("refused list: more than max");
    uint64_t acked = 0;
    uint8_t chain [CENTRAL_STORE_CHAIN_SIZE];
    rc = central_store_log_cursor (store, berat, s_log, &acked, chain);
    if (rc < 0 && !s_store_error (rc))
        fuzzing_fail ("log cursor: a stray code");
    uint64_t position = 0, end = 0;
    for (uint64_t from = 0; from < 3; from++) {
        uint8_t *record = NULL;
        cp_batch_frames_t frames;
        rc = central_store_archive_read (store, berat, from, &position, &end, &record,
                                         &frames);
        if (rc && !s_store_error (rc))
            fuzzing_fail ("archive read: a stray code");
        free (record);
    }
    static const char *const scopes [] = {"national", "county:berat", "municipality:berat"};
    static const char *const periods [] = {"2022", "2021-Q4", "2000"};
    for (size_t index = 0; index < 3; index++) {
        cp_period_t period;
        if (cp_period_parse (periods [index], &period))
            fuzzing_fail ("a period of the target does not parse");
        cp_view_t view;
        cp_view_init (&view, &period, scopes [index]);
        rc = central_store_view (store, scopes [index], &view);
        if (rc && !s_store_error (rc) && rc != CP_EUSAGE)
            fuzzing_fail ("view: a stray code");
        rc = central_store_arrivals (store, &period, arrivals);
        if (rc && !s_store_error (rc))
            fuzzing_fail ("arrivals: a stray code");
    }
    central_directive_report_t report;
    rc = central_store_directive_report (store, 1, berat, &report);
    if (rc && rc != CP_ENOTFOUND && !s_store_error (rc))
        fuzzing_fail ("directive report: a stray code");
    if (rc == 0 && strlen (report.note) > CP_NOTE_MAX)
        fuzzing_fail ("directive report: a note over its limit");
    central_staffing_t staffing [8];
    rc = central_store_staffing (store, berat, cp_date_from_civil (2022, 6, 1), staffing);
    if (rc && rc != CP_ENOTFOUND && !s_store_error (rc))
        fuzzing_fail ("staffing: a stray code");
    count = 99;
    rc = central_store_staffing_history (store, berat, staffing, 8, &count);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("staffing history: a stray code");
    if (rc == 0 && count > 8)
        fuzzing_fail ("staffing history: more than max");
    central_reconciliation_t reconciliation;
    rc = central_store_reconciliation (store, berat, &reconciliation);
    if (rc && rc != CP_ENOTFOUND && !s_store_error (rc))
        fuzzing_fail ("reconciliation: a stray code");
    if (rc == 0 && strlen (reconciliation.periods) > CP_NOTE_MAX)
        fuzzing_fail ("reconciliation: periods over their limit");
    uint64_t head = 0;
    rc = central_store_figures (store, berat, &head, figures);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("figures: a stray code");
    if (rc == 0 && figures->count > CP_FIGURES_MONTHS)
        fuzzing_fail ("figures: more months than there are");
    memset (rows, 0, sizeof *rows);
    rows->count = 2;
    rows->months [0].month = 12 * 22 + 2;
    rows->months [1].month = 12 * 21 + 10;
    rc = central_store_month_rows (store, berat, rows);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("month rows: a stray code");
    static int days [CENTRAL_STORE_YEARS];
    static bool set [CENTRAL_STORE_YEARS];
    rc = central_store_deadlines (store, days, set);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("deadlines: a stray code");
    uint64_t serial = 0;
    rc = central_store_key_serial (store, &serial);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("key serial: a stray code");
    central_keys_t *keys = NULL;
    rc = central_store_keys_read (store, &keys);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("keys read: a stray code");
    central_keys_destroy (&keys);
    uint64_t last = 0, seq = 0, prev = 0;
    rc = central_store_downlink_last (store, &last);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("downlink last: a stray code");
    uint8_t *entry = NULL;
    size_t size = 0;
    rc = central_store_downlink_next (store, berat, 0, &seq, &prev, &entry, &size);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("downlink next: a stray code");
    free (entry);
    entry = NULL;
    rc = central_store_downlink_entry (store, 1, &entry, &size);
    if (rc && rc != CP_ENOTFOUND && !s_store_error (rc))
        fuzzing_fail ("downlink entry: a stray code");
    free (entry);
    entry = NULL;
    rc = central_store_downlink_after (store, 0, &seq, &entry, &size);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("downlink after: a stray code");
    free (entry);
}

static void
s_writes (central_store_t *store)
{
    cp_event_t events [8];
    size_t count = s_events (store, events);
    if (count == 0)
        return;
    central_cursor_t cursor;
    uint64_t next = central_store_cursor (store, cp_municipality_index ("berat"), &cursor) == 0
                  ? cursor.acked + 1: 1;
    for (int again = 0; again < 2; again++) {
        int rc = s_apply (store, next, events, count);
        //  A rule's refusal (CP_EGAP, CP_EDIVERGED, ...) or a store error
        if (rc > CENTRAL_STORE_DUPLICATE || (rc < 0 && !strcmp (cp_strerror (rc), "unknown error")))
            fuzzing_fail ("apply: a stray code");
    }
    int berat = cp_municipality_index ("berat");
    central_store_seen (store, berat, 20);
    central_store_hello (store, berat, s_log, 20, true);
    central_store_downlink_reached (store, berat, 1);
    int rc = central_store_flush (store);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("flush: a stray code");
    uint64_t serial = 0;
    central_key_t key = {.kind = CENTRAL_KEY_NODE_TRANSPORT, .owner = berat,
                         .created = 1700000001, .valid_from = 1700000001};
    snprintf (key.id, sizeof key.id, "berat-transport-1");
    rc = central_store_keys_put (store, &key, 1, &serial);
    if (rc > 0)
        fuzzing_fail ("keys put: a stray code");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_records.baseline) {
        if (!getenv ("FUZZ_VERBOSE"))
            zsys_set_logstream (NULL);
        if (sodium_init () < 0)
            fuzzing_fail ("libsodium does not initialise");
        store_records_scratch (&s_records, "fuzz_central_store");
        s_baseline ();
        store_records_capture (&s_records);
        if (getenv ("FUZZ_SEEDS"))
            store_records_seeds (&s_records, getenv ("FUZZ_SEEDS"));
    }
    store_records_write (&s_records, data, size);
    int error = 0;
    central_store_t *store = central_store_open (s_records.dir, 0, &error);
    if (!store) {
        if (error >= 0)
            fuzzing_fail ("a store that does not open gives no error");
        return 0;
    }
    s_reads (store);
    s_writes (store);
    central_store_destroy (&store);
    store = central_store_open (s_records.dir, CENTRAL_STORE_READONLY, &error);
    if (!store) {
        if (error >= 0)
            fuzzing_fail ("a store that does not open gives no error");
        return 0;
    }
    s_reads (store);
    central_store_destroy (&store);
    return 0;
}
