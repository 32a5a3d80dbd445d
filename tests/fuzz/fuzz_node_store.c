/*  fuzz_node_store: libFuzzer target for every record a node reads back
    from its store: meta (format, municipality, catalogue, head, acked,
    the log's identity and times, the downlink cursor, the last
    reconciliation, the central's rows kept), the catalogues' texts, the
    log's blocks and chains, ids, case records, month rows, the downlink
    entries applied and the refusals counted, staffing and directives.

    Each input is records (store_records.h) written over a baseline that
    a real node wrote at the first input: a few cases imported, a staffing
    set, a directive applied from the downlink with its receipt, a
    refused entry counted, a figures check and the central's rows kept.
    Then the node's store opens as the daemon opens it and every read the
    node makes runs: counts, views of 2000, 2021, 2022 and its quarters, settings, the
    log's information and chain, batches from the first event and from
    each sequence after acked, the downlink cursor, entries and refusals,
    the directives' states, the staffing history, the reconciliation, the
    central's rows; and the writes that read first: an import of a new
    case and an event of the baseline's case, a staffing set, a directive
    done, acked moved on, a downlink entry applied.

    The promises: the store opens or refuses with a store error (never
    an assert, a crash or undefined behaviour); every read and write
    returns 0 or a code its header lists; what is read keeps its limits
    (counts within max, a payload within its size, a batch's last at or
    after its first).  Log and case values are sealed under the node's
    data key, so changed ones stop at the seal: a store error.  A broken
    promise aborts, and so does a sanitizer's report, so the fuzzer keeps
    the input.

    The saved corpus (corpus/node_store) holds the baseline's own records
    (each table's, as written) and copies with one thing wrong: a value
    cut, grown, of another size, a meta u64 of 7 bytes, another format or
    catalogue number, a catalogue text that does not load.  gen_corpus
    does not write them: this target does, when FUZZ_SEEDS names a
    directory (store_records_seeds), since it is the one that has the
    baseline; and (fuzz-*) the inputs of a libFuzzer run that reached new
    code.  replay.c runs the corpus as an ordinary test.             */

#include "fuzzing.h"
#include "store_records.h"
#include "downlink_testing.h"
#include "node_store.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_event.h"

#include <czmq.h>

#define S_MUNICIPALITY "tirane"

static const store_table_t s_tables [] = {STORE_NODE_TABLES};
#define S_TABLES (sizeof s_tables / sizeof s_tables [0])

static store_records_t s_records = {.tables = s_tables, .table_count = S_TABLES};
static uint8_t s_root [CP_KEY_SIZE];
static uint8_t s_root_secret [CP_SIGN_SECRET_SIZE];

//  Appends the events of JSON lines in one transaction.
static void
s_import (node_store_t *store, const char *const *lines, size_t count)
{
    if (node_store_begin (store))
        fuzzing_fail ("the baseline's transaction does not begin");
    for (size_t index = 0; index < count; index++) {
        node_store_entry_t entry;
        memset (&entry, 0, sizeof entry);
        char why [256];
        if (cp_event_from_json (lines [index], strlen (lines [index]),
                                node_store_catalogue (store), cp_date_today (),
                                &entry.event, why, sizeof why))
            fuzzing_fail (why);
        node_store_prepare (store, &entry);
        if (node_store_append (store, &entry, why, sizeof why) != NODE_STORE_APPENDED)
            fuzzing_fail ("an event of the baseline is refused");
    }
    if (node_store_commit (store))
        fuzzing_fail ("the baseline does not commit");
}

//  An entry of the downlink signed by the test root.
static uint8_t *
s_entry (uint64_t seq, int kind, const uint8_t *body, size_t body_size, size_t *size)
{
    cp_downlink_t entry = {.seq = seq, .kind = kind, .issued = 1700000000000,
                           .body = body, .body_size = body_size};
    if (cp_downlink_address_parse (S_MUNICIPALITY, &entry.address))
        fuzzing_fail ("the baseline's address does not parse");
    uint8_t *bytes = cp_downlink_encode (&entry, s_root_secret, size);
    if (!bytes)
        fuzzing_fail ("the baseline's entry does not encode");
    return bytes;
}

//  A directive entry with seq (and prev) for the baseline and the writes.
static int
s_apply_directive (node_store_t *store, uint64_t seq, uint64_t prev)
{
    cp_directive_t directive = {.kind = 1, .due = 0, .text = "Open a case for the child"};
    size_t body_size = 0;
    uint8_t *body = cp_directive_encode (&directive, &body_size);
    if (!body)
        fuzzing_fail ("the baseline's directive does not encode");
    size_t size;
    uint8_t *bytes = s_entry (seq, CP_DOWNLINK_DIRECTIVE, body, body_size, &size);
    char why [256];
    int rc = node_store_apply_downlink (store, s_root, prev, bytes, size, why, sizeof why);
    free (bytes);
    free (body);
    return rc;
}

static const char *const s_lines [] = {
    "{\"id\":\"e-1\",\"type\":\"case_opened\",\"case\":\"c-17\",\"date\":\"2022-03-14\","
        "\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}",
    "{\"id\":\"e-2\",\"type\":\"risk_assessed\",\"case\":\"c-17\",\"date\":\"2022-03-15\","
        "\"level\":\"medium\"}",
    "{\"id\":\"e-3\",\"type\":\"problem_set\",\"case\":\"c-17\",\"date\":\"2022-03-15\","
        "\"problem\":\"psychological_violence\"}",
    "{\"id\":\"e-4\",\"type\":\"home_visit\",\"case\":\"c-17\",\"date\":\"2022-04-02\"}",
    "{\"id\":\"e-5\",\"type\":\"measure_taken\",\"case\":\"c-17\",\"date\":\"2022-04-20\","
        "\"measure\":\"emergency_removal\"}",
    "{\"id\":\"e-6\",\"type\":\"case_opened\",\"case\":\"c-18\",\"date\":\"2021-11-02\","
        "\"age\":3,\"sex\":\"M\",\"ethnicity\":\"majority\",\"referral\":\"school\"}",
    "{\"id\":\"e-7\",\"type\":\"case_closed\",\"case\":\"c-18\",\"date\":\"2022-12-20\","
        "\"reason\":\"risk_reduced\"}"
};

//  The baseline: a node that has imported, set its staffing, applied a
//  directive and been refused an entry, acknowledged part of its log,
//  checked the central's figures and kept the central's rows.
static void
s_baseline (void)
{
    if (node_store_create (s_records.dir, S_MUNICIPALITY, 2))
        fuzzing_fail ("the baseline's node is not set up");
    int error = 0;
    node_store_t *store = node_store_open (s_records.dir, &error);
    if (!store)
        fuzzing_fail ("the baseline's node does not open");
    s_import (store, s_lines, 5);
    s_import (store, s_lines + 5, 2);
    cp_event_t staff;
    memset (&staff, 0, sizeof staff);
    staff.type = CP_EVENT_STAFF_SET;
    snprintf (staff.id, sizeof staff.id, "n-ss-baseline");
    staff.date = cp_date_from_civil (2022, 1, 1);
    staff.workers = 4;
    staff.children = 21000;
    char why [256];
    if (node_store_begin (store)
    ||  node_store_append_own (store, &staff, why, sizeof why) != NODE_STORE_APPENDED
    ||  node_store_commit (store))
        fuzzing_fail ("the baseline's staffing is refused");
    if (s_apply_directive (store, 3, 0))
        fuzzing_fail ("the baseline's directive is refused");
    //  A refusal counted: an entry whose prev is not the cursor
    if (s_apply_directive (store, 9, 7) == 0)
        fuzzing_fail ("a gap in the downlink is applied");
    if (node_store_set_acked (store, 4))
        fuzzing_fail ("the baseline's acked is refused");
    uint64_t head, acked, cases;
    if (node_store_counts (store, &head, &acked, &cases))
        fuzzing_fail ("the baseline does not count");
    cp_month_digests_t *theirs = calloc (1, sizeof *theirs);
    node_reconciliation_t *result = calloc (1, sizeof *result);
    if (!theirs || !result)
        fuzzing_fail ("out of memory");
    theirs->as_of = head;
    if (node_store_check_figures (store, theirs, result))
        fuzzing_fail ("the baseline's figures check fails");
    free (theirs);
    free (result);
    node_store_destroy (&store);
}

static bool
s_store_error (int rc)
{
    return rc == CP_ESTORE || rc == CP_EMAPFULL;
}

//  Every read the node makes, and the writes that read first.
static void
s_reads (node_store_t *store)
{
    uint64_t head = 0, acked = 0, cases = 0;
    int rc = node_store_counts (store, &head, &acked, &cases);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("counts: a stray code");
    static const char *const periods [] = {"2022", "2022-Q1", "2022-Q4", "2021", "2000"};
    for (size_t index = 0; index < sizeof periods / sizeof periods [0]; index++) {
        cp_period_t period;
        if (cp_period_parse (periods [index], &period))
            fuzzing_fail ("a period of the target does not parse");
        cp_view_t view;
        cp_view_init (&view, &period, "municipality:" S_MUNICIPALITY);
        rc = node_store_view (store, &view);
        if (rc && !s_store_error (rc))
            fuzzing_fail ("view: a stray code");
    }
    char buf [256];
    static const char *const settings [] = {"central", "municipality", "format", "catalogue"};
    for (size_t index = 0; index < sizeof settings / sizeof settings [0]; index++) {
        rc = node_store_setting (store, settings [index], buf, sizeof buf);
        if (rc != 0 && rc != -1)
            fuzzing_fail ("setting: a stray code");
        if (rc == 0 && strlen (buf) >= sizeof buf)
            fuzzing_fail ("setting: not a string within its buffer");
    }
    node_store_log_t info;
    rc = node_store_log_info (store, &info);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("log info: a stray code");
    uint8_t chain [NODE_STORE_CHAIN_SIZE], prev [NODE_STORE_CHAIN_SIZE];
    uint64_t seqs [] = {0, 1, acked, acked + 1, head, head + 1};
    for (size_t index = 0; index < sizeof seqs / sizeof seqs [0]; index++) {
        rc = node_store_chain_at (store, seqs [index], chain);
        if (rc != 0 && rc != 1 && !s_store_error (rc))
            fuzzing_fail ("chain at: a stray code");
        uint8_t *payload = NULL;
        size_t size = 0;
        uint64_t last = 0;
        uint64_t first = seqs [index]? seqs [index]: 1;
        rc = node_store_read_chained (store, first, 3, 1 << 16, &payload, &size, &last,
                                      prev, chain);
        if (rc && !s_store_error (rc))
            fuzzing_fail ("read batch: a stray code");
        if (rc == 0 && payload && (size == 0 || last < first))
            fuzzing_fail ("read batch: a payload out of its limits");
        free (payload);
    }
    uint64_t cursor = 0;
    rc = node_store_downlink_cursor (store, &cursor);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("downlink cursor: a stray code");
    uint64_t entries [] = {1, 3, cursor};
    for (size_t index = 0; index < sizeof entries / sizeof entries [0]; index++) {
        uint8_t *bytes = NULL;
        size_t size = 0;
        rc = node_store_downlink_entry (store, entries [index], &bytes, &size);
        if (rc && !s_store_error (rc))
            fuzzing_fail ("downlink entry: a stray code");
        free (bytes);
        cp_directive_state_t state;
        rc = node_store_directive_state (store, entries [index], &state);
        if (rc != 0 && rc != 1 && !s_store_error (rc))
            fuzzing_fail ("directive state: a stray code");
        if (rc == 0 && strlen (state.note) > CP_NOTE_MAX)
            fuzzing_fail ("directive state: a note over its limit");
    }
    cp_store_counter_t refusals [64];
    size_t count = 99;
    rc = node_store_downlink_refusals (store, refusals, 64, &count);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("downlink refusals: a stray code");
    if (rc == 0 && count > 64)
        fuzzing_fail ("downlink refusals: more than max");
    node_staffing_t staffing [16];
    count = 99;
    rc = node_store_staffing_history (store, staffing, 16, &count);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("staffing history: a stray code");
    if (rc == 0 && count > 16)
        fuzzing_fail ("staffing history: more than max");
    //  Kept for the run: fresh pages of these sizes each input cost more
    //  than the reads.
    static node_reconciliation_t *reconciliation;
    static cp_month_rows_t *theirs, *ours;
    if (!reconciliation) {
        reconciliation = malloc (sizeof *reconciliation);
        theirs = malloc (sizeof *theirs);
        ours = malloc (sizeof *ours);
        if (!reconciliation || !theirs || !ours)
            fuzzing_fail ("out of memory");
    }
    memset (reconciliation, 0, sizeof *reconciliation);
    memset (theirs, 0, sizeof *theirs);
    memset (ours, 0, sizeof *ours);
    rc = node_store_reconciliation (store, reconciliation);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("reconciliation: a stray code");
    if (rc == 0 && strlen (reconciliation->periods) > CP_NOTE_MAX)
        fuzzing_fail ("reconciliation: periods over their limit");
    int64_t received;
    rc = node_store_central_rows (store, theirs, ours, &received);
    if (rc && rc != CP_ENOTFOUND && !s_store_error (rc))
        fuzzing_fail ("central rows: a stray code");
    if (rc == 0 && (theirs->count > CP_FIGURES_ASK_MAX || ours->count > CP_FIGURES_ASK_MAX))
        fuzzing_fail ("central rows: more months than a request names");
}

//  The writes that read what they change: each returns 0, a rule's
//  refusal or a store error.
static void
s_writes (node_store_t *store)
{
    static const char *const more [] = {
        "{\"id\":\"e-8\",\"type\":\"home_visit\",\"case\":\"c-17\",\"date\":\"2022-05-02\"}",
        "{\"id\":\"e-9\",\"type\":\"case_opened\",\"case\":\"c-19\",\"date\":\"2022-06-01\","
            "\"age\":9,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}",
        "{\"id\":\"e-1\",\"type\":\"case_opened\",\"case\":\"c-17\",\"date\":\"2022-03-14\","
            "\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}"
    };
    int rc = node_store_begin (store);
    if (rc) {
        if (!s_store_error (rc))
            fuzzing_fail ("begin: a stray code");
        return;
    }
    bool dead = false;
    for (size_t index = 0; index < 3 && !dead; index++) {
        node_store_entry_t entry;
        memset (&entry, 0, sizeof entry);
        char why [256];
        //  The store's own catalogue may be one the fuzzer wrote: a line
        //  it does not take is not the store's business.
        if (cp_event_from_json (more [index], strlen (more [index]),
                                node_store_catalogue (store), cp_date_today (),
                                &entry.event, why, sizeof why))
            continue;
        node_store_prepare (store, &entry);
        rc = node_store_append (store, &entry, why, sizeof why);
        if (s_store_error (rc))
            dead = true;
        else
        if (rc < CP_EMALFORMED || rc > NODE_STORE_DUPLICATE)
            fuzzing_fail ("append: a stray code");
    }
    if (!dead) {
        char why [256];
        rc = node_store_directive_done (store, 3, cp_date_from_civil (2022, 7, 1), "done",
                                        why, sizeof why);
        if (s_store_error (rc))
            dead = true;
        else
        if (rc != NODE_STORE_APPENDED && rc != NODE_STORE_DUPLICATE
        &&  rc != CP_ENOTFOUND && rc != CP_EEXISTS && (rc < CP_EMALFORMED || rc > 0))
            fuzzing_fail ("directive done: a stray code");
    }
    if (dead)
        node_store_abort (store);
    else {
        rc = node_store_commit (store);
        if (rc && !s_store_error (rc))
            fuzzing_fail ("commit: a stray code");
    }
    rc = node_store_set_acked (store, 6);
    if (rc && !s_store_error (rc))
        fuzzing_fail ("set acked: a stray code");
    uint64_t cursor = 0;
    //  A cursor stored as the largest sequence has no next entry to make
    //  (a sequence of 0 does not encode): nothing to apply after it.
    if (node_store_downlink_cursor (store, &cursor) == 0 && cursor < UINT64_MAX) {
        rc = s_apply_directive (store, cursor + 1, cursor);
        if (rc > 0)
            fuzzing_fail ("apply downlink: a stray code");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_records.baseline) {
        if (!getenv ("FUZZ_VERBOSE"))
            zsys_set_logstream (NULL);
        if (sodium_init () < 0)
            fuzzing_fail ("libsodium does not initialise");
        downlink_root (s_root, s_root_secret);
        store_records_scratch (&s_records, "fuzz_node_store");
        s_baseline ();
        store_records_capture (&s_records);
        if (getenv ("FUZZ_SEEDS"))
            store_records_seeds (&s_records, getenv ("FUZZ_SEEDS"));
    }
    store_records_write (&s_records, data, size);
    int error = 0;
    node_store_t *store = node_store_open (s_records.dir, &error);
    if (!store) {
        if (error >= 0)
            fuzzing_fail ("a store that does not open gives no error");
        return 0;
    }
    s_reads (store);
    s_writes (store);
    s_reads (store);
    node_store_destroy (&store);
    return 0;
}
