/*  gen_corpus: writes the seeds of fuzz_case's, fuzz_tally's and
    fuzz_downlink's and fuzz_batch's corpora.

    Each seed of the first two is what a store holds, built the way the
    daemons build it: events resolved under the built-in catalogue 2,
    checked with cp_case_check and applied with cp_case_apply; then a
    case's record (cp_case_encode), or the month rows of the counter deltas
    the events caused (cp_tally_deltas_encode, what a merge into no row
    writes).  fuzz_downlink's are entries as the central sends them: one of
    each kind to each form of address, signed by downlink_testing.h's root,
    whole and as signed parts (fuzz_downlink.c says how an input is read),
    and a few signed parts that decoding refuses.  fuzz_batch's are a batch
    as a node seals it with the fixed keys of batch_input.h, as frames
    (whole, with a signature or a payload broken, one frame short) and as
    payloads for the target to seal (the header's events, and payloads that
    are not).
    Usage: gen_corpus case DIR (writes DIR/case-*), gen_corpus tally DIR
    (writes DIR/row-*), gen_corpus downlink DIR (writes DIR/entry-* and
    DIR/signed-*), gen_corpus batch DIR (writes DIR/batch-*), replacing
    them.                                                                    */

#include "batch_input.h"
#include "cp_case.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_tally.h"
#include "downlink_testing.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cp_catalogue_t *s_catalogue;

static void
s_die (const char *what)
{
    fprintf (stderr, "gen_corpus: %s\n", what);
    exit (1);
}

static int32_t
s_day (const char *text)
{
    int32_t day;
    if (cp_date_parse (text, strlen (text), &day))
        s_die ("a bad date in the generator");
    return day;
}

static cp_tally_t *s_tally;    //  where the events' deltas go, or NULL

//  Checks and applies an event of type on date, its coded fields taking the
//  catalogue ids id0, id1, id2.
static void
s_apply (cp_case_t *state, int type, const char *date, int id0, int id1, int id2)
{
    const cp_event_kind_t *kind = cp_event_kind (type);
    int ids [3] = {id0, id1, id2};
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = (uint8_t) type;
    event.date = s_day (date);
    strcpy (event.id, "seed");
    strcpy (event.case_id, "seed-case");
    if (kind->has_age)
        event.age = 9;
    for (int slot = 0; slot < kind->code_count; slot++)
        snprintf (event.codes [slot], sizeof event.codes [slot], "%s",
                  cp_catalogue_code (s_catalogue, kind->dims [slot], ids [slot]));
    char why [256];
    if (cp_event_resolve (&event, s_catalogue, why, sizeof why)
    ||  cp_case_check (state, &event, s_catalogue, why, sizeof why)
    ||  cp_case_apply (state, &event, s_catalogue, s_tally))
        s_die (why);
}

//  Writes the file dir/kind-name: head (head_size bytes, may be 0), then
//  size bytes.
static void
s_write_file (const char *dir, const char *kind, const char *name, const uint8_t *head,
              size_t head_size, const uint8_t *bytes, size_t size)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/%s-%s", dir, kind, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (head, 1, head_size, file) != head_size
    ||  fwrite (bytes, 1, size, file) != size || fclose (file))
        s_die (path);
}

//  Writes a case's record into dir (none when dir is NULL), and resets it.
static void
s_write (const char *dir, const char *name, cp_case_t *state)
{
    if (!dir) {
        cp_case_reset (state);
        return;
    }
    size_t size = cp_case_encoded_size (state);
    uint8_t *buf = malloc (size);
    if (!buf)
        s_die ("out of memory");
    cp_case_encode (state, buf);
    s_write_file (dir, "case", name, NULL, 0, buf, size);
    free (buf);
    cp_case_reset (state);
}

//  The first measure a court confirms.
static int
s_court_measure (void)
{
    for (int id = 0; id < cp_catalogue_count (s_catalogue, CP_DIM_MEASURE); id++)
        if (cp_catalogue_court_confirmed (s_catalogue, id))
            return id;
    s_die ("no measure a court confirms");
    return -1;
}

//  The records of a few cases, written into dir (none when NULL).
static void
s_cases (const char *dir)
{
    cp_case_t state;
    memset (&state, 0, sizeof state);

    //  A record never opened: what encode writes for an empty case.
    s_write (dir, "empty", &state);

    s_apply (&state, CP_EVENT_CASE_OPENED, "2022-01-10", 0, 1, 2);
    s_write (dir, "opened", &state);

    //  Every type; risks out of order and three on one day (arrival order).
    int court = s_court_measure ();
    s_apply (&state, CP_EVENT_CASE_OPENED, "2022-01-10", 1, 0, 0);
    s_apply (&state, CP_EVENT_RISK_ASSESSED, "2022-03-15", 3, 0, 0);
    s_apply (&state, CP_EVENT_RISK_ASSESSED, "2022-02-01", 1, 0, 0);
    s_apply (&state, CP_EVENT_RISK_ASSESSED, "2022-02-01", 2, 0, 0);
    s_apply (&state, CP_EVENT_RISK_ASSESSED, "2022-02-01", 0, 0, 0);
    s_apply (&state, CP_EVENT_PROBLEM_SET, "2022-01-20", 2, 0, 0);
    s_apply (&state, CP_EVENT_HOME_VISIT, "2022-02-02", 0, 0, 0);
    s_apply (&state, CP_EVENT_MEASURE_TAKEN, "2022-04-01", court, 0, 0);
    s_apply (&state, CP_EVENT_MEASURE_CONFIRMED, "2022-05-01", court, 0, 0);
    s_apply (&state, CP_EVENT_SCHOOL_IDENTIFIED, "2022-06-01", 0, 0, 0);
    s_write (dir, "every-type", &state);

    s_apply (&state, CP_EVENT_CASE_OPENED, "2021-11-30", 1, 1, 0);
    s_apply (&state, CP_EVENT_RISK_ASSESSED, "2021-12-01", 2, 0, 0);
    s_apply (&state, CP_EVENT_PROBLEM_SET, "2022-02-28", 1, 0, 0);
    s_apply (&state, CP_EVENT_MEASURE_TAKEN, "2022-03-01", 0, 0, 0);
    s_apply (&state, CP_EVENT_CASE_CLOSED, "2022-07-31", 1, 0, 0);
    s_write (dir, "closed", &state);

    //  The first and the last day any event may have.
    s_apply (&state, CP_EVENT_CASE_OPENED, "2000-01-01", 0, 0, 0);
    s_apply (&state, CP_EVENT_RISK_ASSESSED, "2000-01-01", 1, 0, 0);
    s_apply (&state, CP_EVENT_PROBLEM_SET, "2099-12-31", 1, 0, 0);
    s_apply (&state, CP_EVENT_CASE_CLOSED, "2099-12-31", 0, 0, 0);
    s_write (dir, "range-ends", &state);

    //  A long history, assessed in no particular order of dates.
    s_apply (&state, CP_EVENT_CASE_OPENED, "2019-05-05", 0, 0, 0);
    for (int index = 0; index < 40; index++) {
        char date [CP_DATE_STRLEN + 1];
        cp_date_format (s_day ("2019-05-05") + (index * 37) % 400, date);
        s_apply (&state, CP_EVENT_RISK_ASSESSED, date, index % 4, 0, 0);
        s_apply (&state, CP_EVENT_PROBLEM_SET, date, index % 3, 0, 0);
    }
    s_write (dir, "long-history", &state);
}

static void
s_write_row (const char *dir, const char *name, const uint8_t *row, size_t size)
{
    s_write_file (dir, "row", name, NULL, 0, row, size);
}

//  The month rows of the cases' events, an empty row, and a row with every
//  cell at the scale of a nation's month.
static void
s_rows (const char *dir)
{
    s_tally = cp_tally_new ();
    if (!s_tally)
        s_die ("out of memory");
    s_cases (NULL);
    static uint8_t row [CP_TALLY_ROW_ENCODED_MAX];
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas;
    while ((deltas = cp_tally_next (s_tally, &month))) {
        char name [32];
        snprintf (name, sizeof name, "%04d-%02d", 2000 + month / 12, month % 12 + 1);
        s_write_row (dir, name, row, cp_tally_deltas_encode (deltas, row));
    }
    cp_tally_destroy (&s_tally);
    static cp_tally_row_t dense;
    s_write_row (dir, "empty", row, cp_tally_row_encode (&dense, row));
    for (int cell = 0; cell < CP_CELLS; cell++)
        dense.cells [cell] = cell % 5 == 4? -250000 - cell: 1000000 + cell;
    s_write_row (dir, "every-cell", row, cp_tally_row_encode (&dense, row));
}

//  fuzz_downlink's seeds.
static void
s_downlinks (const char *dir)
{
    static const char *const addresses [] = {"all", "county:elbasan", "tirane"};
    static const char *const bodies [] = {
        "{\"version\": 3, \"problem\": [{\"code\": \"online_abuse\"}]}",
        "{\"type\": \"deadline\", \"due\": \"2024-03-31\", \"text\": \"Q1 report\"}",
        "2023-Q4 4f1c9a0e6b2d8375a9c0e1f2d3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938",
        "{\"cpsync\": \"enrolment 1\"}"
    };
    static const uint8_t whole = 0, signed_part = 1;     //  fuzz_downlink's first byte
    uint8_t root [CP_KEY_SIZE], secret [CP_SIGN_SECRET_SIZE];
    if (sodium_init () < 0)
        s_die ("libsodium does not initialise");
    downlink_root (root, secret);
    uint64_t seq = 1;
    for (int kind = CP_DOWNLINK_CATALOGUE; kind <= CP_DOWNLINK_KEYS; kind++)
        for (size_t to = 0; to < 3; to++, seq++) {
            cp_downlink_t entry = {.seq = seq, .kind = kind, .issued = 1700000000000 + seq,
                                   .body = (const uint8_t *) bodies [kind - 1],
                                   .body_size = strlen (bodies [kind - 1])};
            size_t size = 0, part_size = 0;
            uint8_t *bytes = NULL;
            if (cp_downlink_address_parse (addresses [to], &entry.address)
            ||  !(bytes = cp_downlink_encode (&entry, secret, &size)))
                s_die ("an entry of the seeds does not encode");
            const uint8_t *part = downlink_signed_part (bytes, size, &part_size);
            if (!part)
                s_die ("an entry of the seeds is not [signer, signature, signed]");
            char name [64];
            snprintf (name, sizeof name, "%s-%zu", cp_downlink_kind_name (kind), to);
            s_write_file (dir, "entry", name, &whole, 1, bytes, size);
            s_write_file (dir, "signed", name, &signed_part, 1, part, part_size);
            free (bytes);
        }
    //  Signed parts decoding refuses: kind 5, seq 0, version 2, trailing.
    static const struct {
        const char *name;
        uint8_t bytes [12];
        size_t size;
    } refused [] = {
        {"kind-5", {0x97, 0x01, 0x01, 0x05, 0x00, 0xa0, 0x01, 0xc4, 0x00}, 9},
        {"seq-0", {0x97, 0x01, 0x00, 0x01, 0x00, 0xa0, 0x01, 0xc4, 0x00}, 9},
        {"version-2", {0x97, 0x02, 0x01, 0x01, 0x00, 0xa0, 0x01, 0xc4, 0x00}, 9},
        {"trailing", {0x97, 0x01, 0x01, 0x01, 0x00, 0xa0, 0x01, 0xc4, 0x00, 0xc0}, 10},
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused [0]; index++)
        s_write_file (dir, "signed", refused [index].name, &signed_part, 1,
                      refused [index].bytes, refused [index].size);
}

//  Writes one seed of fuzz_batch: mode, then size bytes of data.
static void
s_write_input (const char *dir, const char *name, uint8_t mode, const uint8_t *data,
               size_t size)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/batch-%s", dir, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (&mode, 1, 1, file) != 1 || fwrite (data, 1, size, file) != size
    ||  fclose (file))
        s_die ("cannot write a seed");
}

//  count case_opened events from sequence first, as a node ships them.
static uint8_t *
s_batch_payload (uint64_t first, size_t count, size_t *size)
{
    cp_event_t events [3];
    memset (events, 0, sizeof events);
    for (size_t index = 0; index < count && index < 3; index++) {
        events [index].type = CP_EVENT_CASE_OPENED;
        events [index].age = 9;
        events [index].date = s_day ("2022-03-01");
        snprintf (events [index].id, sizeof events [index].id, "e-%zu", index);
        snprintf (events [index].case_id, sizeof events [index].case_id, "c-%zu", index);
        strcpy (events [index].codes [0], "F");
        strcpy (events [index].codes [1], "majority");
        strcpy (events [index].codes [2], "school");
    }
    uint8_t *payload = cp_codec_batch_encode (first, events, count, size);
    if (!payload)
        s_die ("a batch does not encode");
    return payload;
}

//  An odd seed: a payload of count events from payload_first, for a header
//  of events first..last.
static void
s_sealed_seed (const char *dir, const char *name, uint64_t first, uint64_t last,
               uint64_t payload_first, size_t count)
{
    size_t size;
    uint8_t *payload = s_batch_payload (payload_first, count, &size);
    uint8_t *input = malloc (3 + size);
    if (!input)
        s_die ("out of memory");
    input [0] = (uint8_t) ((first - 1) >> 8);
    input [1] = (uint8_t) (first - 1);
    input [2] = (uint8_t) (last - first);
    memcpy (input + 3, payload, size);
    s_write_input (dir, name, 1, input, 3 + size);
    free (input);
    free (payload);
}

//  An even seed: count frames of a batch (the signature flipped when
//  forged is true, the sealed payload cut to sealed_size when not 0).
static void
s_frames_seed (const char *dir, const char *name, const cp_batch_sealed_t *sealed,
               uint8_t count, bool forged, size_t sealed_size)
{
    const uint8_t *frames [3] = {sealed->header, sealed->sealed, sealed->signature};
    size_t sizes [3] = {sealed->header_size, sealed_size? sealed_size: sealed->sealed_size,
                        sizeof sealed->signature};
    size_t size = 1, at = 1;
    for (int index = 0; index < count; index++)
        size += 2 + sizes [index];
    uint8_t *input = malloc (size);
    if (!input)
        s_die ("out of memory");
    input [0] = count;
    for (int index = 0; index < count; index++) {
        input [at++] = (uint8_t) (sizes [index] >> 8);
        input [at++] = (uint8_t) sizes [index];
        memcpy (input + at, frames [index], sizes [index]);
        if (forged && index == 2)
            input [at] ^= 1;
        at += sizes [index];
    }
    s_write_input (dir, name, 0, input, size);
    free (input);
}

static void
s_batches (const char *dir)
{
    if (sodium_init () < 0)
        s_die ("sodium_init");
    batch_input_keys_t keys;
    batch_input_keys (&keys);
    s_sealed_seed (dir, "sealed-honest", 1, 3, 1, 3);
    s_sealed_seed (dir, "sealed-one-more", 1, 4, 1, 3);
    s_sealed_seed (dir, "sealed-other-first", 1, 3, 2, 3);
    s_sealed_seed (dir, "sealed-far-first", 300, 302, 300, 3);
    uint8_t junk [8] = {0, 0, 2, 0xc1, 0x92, 0x01, 0x90, 0xff};
    s_write_input (dir, "sealed-junk", 1, junk, sizeof junk);
    s_write_input (dir, "sealed-empty", 1, junk, 3);

    size_t size;
    uint8_t *payload = s_batch_payload (1, 3, &size);
    cp_batch_header_t header = batch_input_header (1, 3);
    cp_batch_sealed_t sealed;
    if (cp_batch_seal (&header, payload, size, keys.node_key, keys.sign_secret, &sealed))
        s_die ("a batch does not seal");
    s_frames_seed (dir, "frames-honest", &sealed, 3, false, 0);
    s_frames_seed (dir, "frames-forged", &sealed, 3, true, 0);
    s_frames_seed (dir, "frames-two", &sealed, 2, false, 0);
    s_frames_seed (dir, "frames-short-payload", &sealed, 3, false, CP_ENVELOPE_OVERHEAD - 1);
    cp_batch_sealed_free (&sealed);
    free (payload);
}

int
main (int argc, char *argv [])
{
    if (argc != 3 || (strcmp (argv [1], "case") && strcmp (argv [1], "tally")
                  &&  strcmp (argv [1], "downlink") && strcmp (argv [1], "batch")))
        s_die ("usage: gen_corpus case|tally|downlink|batch DIR");
    if (strcmp (argv [1], "batch") == 0) {
        s_batches (argv [2]);
        return 0;
    }
    s_catalogue = cp_catalogue_new_builtin (2);
    if (!s_catalogue)
        s_die ("the built-in catalogue does not load");
    if (strcmp (argv [1], "case") == 0)
        s_cases (argv [2]);
    else
    if (strcmp (argv [1], "tally") == 0)
        s_rows (argv [2]);
    else
        s_downlinks (argv [2]);
    cp_catalogue_destroy (&s_catalogue);
    return 0;
}
