/*  fuzz_case: libFuzzer target for a case record read back from the store
    (cp_case_decode).

    The node and the central decode a case's record before each event of
    that case, then check the event against it, apply it, add its counter
    deltas to the month rows and write the record again.  So this feeds
    each input to cp_case_decode and, when it decodes, does what they do
    next.  What fails must fail with CP_EMALFORMED and leave the case
    reset.  What decodes must encode back to the very bytes it came from
    (one form per case); its dates must be within the years an event may
    have and format to themselves; and every event type, at the dates
    around the record's own and with the first and last code of its
    dimensions, goes through cp_case_check and, when accepted,
    cp_case_apply into a tally whose rows must merge and decode, and the
    record written after it must decode again.  A broken promise aborts,
    and so does a sanitizer's report, so the fuzzer keeps the input.

    The saved corpus (corpus/case) starts from records of real cases made
    with cp_case_encode (tests/fuzz/gen_corpus.c) and holds every input
    the fuzzer found that broke a promise.  replay.c runs it as an
    ordinary test.  Build with clang -fsanitize=fuzzer,address,undefined.    */

#include "fuzzing.h"
#include "cp_case.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DATES_MAX 24          //  dates tried per event type and code

//  The catalogue the events are resolved under: built once, kept for the run.
static const cp_catalogue_t *
s_catalogue (void)
{
    static cp_catalogue_t *catalogue = NULL;
    if (!catalogue && !(catalogue = cp_catalogue_new_builtin (2)))
        fuzzing_fail ("the built-in catalogue does not load");
    return catalogue;
}

static bool
s_is_reset (const cp_case_t *state)
{
    static const cp_case_t empty;
    return memcmp (state, &empty, sizeof empty) == 0;
}

//  A decoded record's date is one an event may have (cp_case.h), and
//  formats as a real date that parses back to itself.
static void
s_check_date (int32_t date)
{
    if (date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
    ||  date > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31))
        fuzzing_fail ("a decoded record holds a date outside the years an event may have");
    char text [CP_DATE_STRLEN + 1];
    memset (text, 'x', sizeof text);
    cp_date_format (date, text);
    int32_t back;
    if (strlen (text) != CP_DATE_STRLEN
    ||  cp_date_parse (text, CP_DATE_STRLEN, &back) != 0 || back != date)
        fuzzing_fail ("a date does not format to itself");
}

//  Adds date to the list when the event decoders would accept it.
static void
s_add_date (int32_t *dates, size_t *count, int64_t date)
{
    if (*count == S_DATES_MAX
    ||  date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
    ||  date > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31))
        return;
    for (size_t index = 0; index < *count; index++)
        if (dates [index] == date)
            return;
    dates [(*count)++] = (int32_t) date;
}

//  The dates worth an event: the ends of the range, and the record's own
//  dates with the days either side of them.
static size_t
s_dates (const cp_case_t *state, int32_t *dates)
{
    size_t count = 0;
    s_add_date (dates, &count, cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1));
    s_add_date (dates, &count, cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31));
    int64_t own [] = {state->open_date, state->last_date, state->close_date};
    for (size_t index = 0; index < 3; index++)
        for (int64_t near = -1; near <= 1; near++)
            s_add_date (dates, &count, own [index] + near);
    const cp_marks_t *lists [3] = {&state->risks, &state->problems, &state->measures};
    for (size_t list = 0; list < 3; list++)
        for (size_t index = 0; index < lists [list]->count; index++)
            s_add_date (dates, &count, lists [list]->marks [index].date);
    return count;
}

//  An event of a type on a date, with the first (variant 0) or the last
//  code of each of its dimensions; a confirmation names the first or last
//  measure a court confirms.  Resolved as the central resolves the wire's.
static void
s_event (cp_event_t *event, int type, int32_t date, int variant)
{
    const cp_catalogue_t *catalogue = s_catalogue ();
    const cp_event_kind_t *kind = cp_event_kind (type);
    memset (event, 0, sizeof *event);
    event->type = (uint8_t) type;
    event->date = date;
    event->age = variant? CP_AGE_MAX: 0;
    strcpy (event->id, "fuzz-event");
    strcpy (event->case_id, "fuzz-case");
    for (int slot = 0; slot < kind->code_count; slot++) {
        int count = cp_catalogue_count (catalogue, kind->dims [slot]);
        int id = variant? count - 1: 0;
        if (type == CP_EVENT_MEASURE_CONFIRMED)
            for (int step = 0; step < count; step++) {
                int measure = variant? count - 1 - step: step;
                if (cp_catalogue_court_confirmed (catalogue, measure)) {
                    id = measure;
                    break;
                }
            }
        snprintf (event->codes [slot], sizeof event->codes [slot], "%s",
                  cp_catalogue_code (catalogue, kind->dims [slot], id));
    }
    if (cp_event_resolve (event, catalogue, NULL, 0) != 0)
        fuzzing_fail ("an event made of catalogue codes does not resolve");
}

//  Every month row the tally holds merges into an empty row and decodes,
//  as the stores write and read them.
static void
s_check_rows (cp_tally_t *tally)
{
    static uint8_t row [CP_TALLY_ROW_ENCODED_MAX];
    static cp_tally_row_t dense;
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas;
    while ((deltas = cp_tally_next (tally, &month))) {
        if (month < 0 || month >= CP_TALLY_MONTHS)
            fuzzing_fail ("a delta outside the months a store keeps");
        size_t size;
        if (cp_tally_merge (NULL, 0, deltas, row, &size) != 0)
            fuzzing_fail ("deltas do not merge into an empty row");
        memset (&dense, 0, sizeof dense);
        if (cp_tally_row_decode_add (row, size, &dense) != 0)
            fuzzing_fail ("a merged row does not decode");
    }
}

//  Checks one event against the record and, when accepted, applies it to a
//  fresh decoding of the record; the record written then must decode.
static void
s_try_event (const uint8_t *data, size_t size, const cp_event_t *event, cp_tally_t *tally)
{
    cp_case_t state;
    memset (&state, 0, sizeof state);
    if (cp_case_decode (&state, data, size) != 0)
        fuzzing_fail ("a record decodes once and not twice");
    char why [256] = "";
    int rc = cp_case_check (&state, event, s_catalogue (), why, sizeof why);
    if (rc) {
        if (why [0] == 0)
            fuzzing_fail ("a refused event has no reason");
        cp_case_reset (&state);
        return;
    }
    cp_tally_clear (tally);
    rc = cp_case_apply (&state, event, s_catalogue (), tally);
    if (rc != 0 && rc != CP_EHISTORY)
        fuzzing_fail ("apply failed with a stray code");
    if (rc == 0)
        s_check_rows (tally);
    size_t written_size = cp_case_encoded_size (&state);
    uint8_t *written = malloc (written_size);
    if (!written)
        fuzzing_fail ("out of memory");
    cp_case_encode (&state, written);
    cp_case_t again;
    memset (&again, 0, sizeof again);
    if (cp_case_decode (&again, written, written_size) != 0)
        fuzzing_fail ("the record written after an accepted event does not decode");
    cp_case_reset (&again);
    free (written);
    cp_case_reset (&state);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cp_case_t state;
    memset (&state, 0, sizeof state);
    int rc = cp_case_decode (&state, data, size);
    if (rc) {
        if (rc != CP_EMALFORMED)
            fuzzing_fail ("failed with another code than CP_EMALFORMED");
        if (!s_is_reset (&state))
            fuzzing_fail ("a refused record leaves the case not reset");
        return 0;
    }
    //  One form per case: encoding gives the input back.
    if (cp_case_encoded_size (&state) != size)
        fuzzing_fail ("a decoded record encodes to another size");
    uint8_t *again = malloc (size);
    if (!again)
        fuzzing_fail ("out of memory");
    cp_case_encode (&state, again);
    if (memcmp (again, data, size) != 0)
        fuzzing_fail ("a decoded record encodes to other bytes");
    free (again);

    //  A record never opened holds no date (cp_case.h); an open case's
    //  closing date is 0.
    if (state.opened) {
        s_check_date (state.open_date);
        s_check_date (state.last_date);
        if (state.closed)
            s_check_date (state.close_date);
    }
    const cp_marks_t *lists [3] = {&state.risks, &state.problems, &state.measures};
    for (size_t list = 0; list < 3; list++)
        for (size_t index = 0; index < lists [list]->count; index++)
            s_check_date (lists [list]->marks [index].date);

    static cp_tally_t *tally = NULL;
    if (!tally && !(tally = cp_tally_new ()))
        fuzzing_fail ("out of memory");
    int32_t dates [S_DATES_MAX];
    size_t date_count = s_dates (&state, dates);
    cp_case_reset (&state);
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++)
        for (size_t index = 0; index < date_count; index++)
            for (int variant = 0; variant < 2; variant++) {
                cp_event_t event;
                s_event (&event, type, dates [index], variant);
                s_try_event (data, size, &event, tally);
            }
    return 0;
}
