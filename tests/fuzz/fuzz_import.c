/*  fuzz_import: libFuzzer target for a JSON Lines file as `cpsync-node
    import` reads it (node_import_file): the line reader (newlines, CRLF,
    blank lines, a last line without a newline, lines too long) and every
    line through cp_event_from_json and the node's rules into a real store.

    fuzz_event holds one line to its promises; this holds the file.  Each
    input is written to a file and imported into a node that holds a few
    events already (a case opened, one closed), reset to that baseline
    before each input (store_records.h).  The promises: the import
    returns 0; it counts as lines exactly the lines that are not blank
    (split at '\n', a '\r' before it dropped), counted here on their own;
    each is imported, a duplicate or rejected, nothing else; each rejected
    line is reported once, as "PATH:N: reason", in increasing N; and the
    log's head grows by at least the events imported.  A broken promise
    aborts, and so does a sanitizer's report, so the fuzzer keeps the
    input.

    The saved corpus (corpus/import) holds files of good events, of
    duplicates and rule refusals, CRLF and blank lines, no final newline,
    and bad JSON.  replay.c runs it as an ordinary test.                   */

#include "fuzzing.h"
#include "store_records.h"
#include "node_import.h"
#include "node_store.h"
#include "cp_date.h"
#include "cp_error.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>

static const store_table_t s_tables [] = {STORE_NODE_TABLES};
#define S_TABLES (sizeof s_tables / sizeof s_tables [0])

static store_records_t s_records = {.tables = s_tables, .table_count = S_TABLES};
static char s_file [300];

static const char s_baseline_events [] =
    "{\"id\":\"e-1\",\"type\":\"case_opened\",\"case\":\"c-17\",\"date\":\"2022-03-14\","
    "\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\",\"referral\":\"police\"}\n"
    "{\"id\":\"e-2\",\"type\":\"case_opened\",\"case\":\"c-18\",\"date\":\"2021-11-02\","
    "\"age\":3,\"sex\":\"M\",\"ethnicity\":\"majority\",\"referral\":\"school\"}\n"
    "{\"id\":\"e-3\",\"type\":\"case_closed\",\"case\":\"c-18\",\"date\":\"2022-12-20\","
    "\"reason\":\"risk_reduced\"}\n";

static void
s_write_file (const void *data, size_t size)
{
    FILE *file = fopen (s_file, "wb");
    if (!file || fwrite (data, 1, size, file) != size || fclose (file))
        fuzzing_fail ("cannot write the input's file");
}

static void
s_baseline (void)
{
    if (node_store_create (s_records.dir, "tirane", 2))
        fuzzing_fail ("the baseline's node is not set up");
    int error = 0;
    node_store_t *store = node_store_open (s_records.dir, &error);
    if (!store)
        fuzzing_fail ("the baseline's node does not open");
    s_write_file (s_baseline_events, strlen (s_baseline_events));
    FILE *errors = fopen ("/dev/null", "w");
    node_import_stats_t stats = {0};
    if (!errors || node_import_file (store, s_file, errors, false, &stats)
    ||  stats.imported != 3)
        fuzzing_fail ("the baseline's events are not imported");
    fclose (errors);
    node_store_destroy (&store);
}

//  The lines the import must count: not blank once a '\r' before the
//  newline is dropped (the import's own rule, counted here on its own).
static uint64_t
s_lines (const uint8_t *data, size_t size)
{
    uint64_t lines = 0;
    size_t start = 0;
    for (size_t at = 0; at <= size; at++)
        if (at == size || data [at] == '\n') {
            size_t length = at - start;
            if (length && data [start + length - 1] == '\r')
                length--;
            if (length)
                lines++;
            start = at + 1;
        }
    return lines;
}

//  Each report is "PATH:N: reason" with N increasing; returns how many.
static uint64_t
s_reports (const char *text, size_t size)
{
    uint64_t reports = 0;
    unsigned long long previous = 0;
    size_t prefix = strlen (s_file);
    const char *at = text;
    while (at < text + size) {
        const char *end = memchr (at, '\n', (size_t) (text + size - at));
        if (!end)
            fuzzing_fail ("a report without its newline");
        char *after = NULL;
        unsigned long long number = 0;
        if ((size_t) (end - at) <= prefix + 1 || memcmp (at, s_file, prefix) != 0
        ||  at [prefix] != ':'
        ||  (number = strtoull (at + prefix + 1, &after, 10)) <= previous
        ||  *after != ':')
            fuzzing_fail ("a report that is not PATH:N: reason, in increasing N");
        previous = number;
        reports++;
        at = end + 1;
    }
    return reports;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_records.baseline) {
        if (!getenv ("FUZZ_VERBOSE"))
            zsys_set_logstream (NULL);
        store_records_scratch (&s_records, "fuzz_import");
        snprintf (s_file, sizeof s_file, "%s/events.jsonl", s_records.top);
        s_baseline ();
        store_records_capture (&s_records);
    }
    store_records_write (&s_records, NULL, 0);
    s_write_file (data, size);
    int error = 0;
    node_store_t *store = node_store_open (s_records.dir, &error);
    if (!store)
        fuzzing_fail ("the baseline does not open");
    uint64_t head_before, head_after, acked, cases;
    if (node_store_counts (store, &head_before, &acked, &cases))
        fuzzing_fail ("the baseline does not count");
    char *report = NULL;
    size_t report_size = 0;
    FILE *errors = open_memstream (&report, &report_size);
    if (!errors)
        fuzzing_fail ("out of memory");
    //  libFuzzer's SIGALRM (its timeout check) is held back during the
    //  import: a signal with a handler interrupts an import by design
    //  (node_import stops on EINTR, as on SIGINT), and the parser's thread
    //  inherits the mask.
    sigset_t alarm, before;
    sigemptyset (&alarm);
    sigaddset (&alarm, SIGALRM);
    pthread_sigmask (SIG_BLOCK, &alarm, &before);
    node_import_stats_t stats = {0};
    int rc = node_import_file (store, s_file, errors, false, &stats);
    pthread_sigmask (SIG_SETMASK, &before, NULL);
    fclose (errors);
    if (rc) {
        fprintf (stderr, "fuzz_import: %s (errno %d)\n", cp_strerror (rc), errno);
        fuzzing_fail ("an import into a sound store failed");
    }
    if (stats.lines != s_lines (data, size))
        fuzzing_fail ("the lines counted are not the lines that are not blank");
    if (stats.imported + stats.duplicates + stats.rejected != stats.lines)
        fuzzing_fail ("a line neither imported, a duplicate nor rejected");
    if (s_reports (report, report_size) != stats.rejected)
        fuzzing_fail ("not one report per rejected line");
    free (report);
    if (node_store_counts (store, &head_after, &acked, &cases))
        fuzzing_fail ("the store does not count after an import");
    if (head_after < head_before + stats.imported)
        fuzzing_fail ("the log grew by fewer events than were imported");
    node_store_destroy (&store);
    return 0;
}
