/*  fuzz_tally: libFuzzer target for a month row read back from the store
    (cp_tally_merge and cp_tally_row_decode_add through cp_view_add_encoded).

    The stores merge a transaction's deltas into a stored row, and a view
    adds stored rows up into the months before its period and the months
    within it, then folds them into figures and prints them.  So each input
    is a stored row, and this does all of that with it.  A row decodes or
    fails with CP_EMALFORMED; merge refuses every row decode refuses, and
    what it writes decodes to the stored row plus the deltas; a decoded row
    survives encoding; and a view of the row in both halves of a period
    holds no counter beyond CP_TALLY_VALUE_MAX, and computes and prints its
    figures.  A broken promise aborts, and so does
    a sanitizer's report, so the fuzzer keeps the input.

    The saved corpus (corpus/tally) starts from rows the stores write (made
    by tests/fuzz/gen_corpus.c from applied events) and holds
    every input the fuzzer found that broke a promise.  replay.c runs it as
    an ordinary test.  Build with clang -fsanitize=fuzzer,address,undefined. */

#include "fuzzing.h"
#include "cp_catalogue.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_tally.h"
#include "cp_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cp_catalogue_t *
s_catalogue (void)
{
    static cp_catalogue_t *catalogue = NULL;
    if (!catalogue && !(catalogue = cp_catalogue_new_builtin (2)))
        fuzzing_fail ("the built-in catalogue does not load");
    return catalogue;
}

//  Deltas as a transaction leaves them: none, or a few cells at the
//  first, a middle and the last cell, each +1 or -1.
static const cp_tally_deltas_t *
s_deltas (int which, cp_tally_t *tally)
{
    static const cp_tally_deltas_t none = {NULL, 0, 0};
    if (which == 0)
        return &none;
    cp_tally_clear (tally);
    int sign = which == 1? +1: -1;
    cp_tally_add (tally, 0, 0, sign);
    cp_tally_add (tally, 0, CP_CELL (CP_METRIC_RISK_STATE, CP_SLOT_NONE), -sign);
    cp_tally_add (tally, 0, CP_CELLS - 1, sign);
    int32_t month = INT32_MIN;
    return cp_tally_next (tally, &month);
}

//  Merge against decode: a row decode refuses is refused; what merge
//  writes decodes to the stored row plus the deltas.
static void
s_merge (const uint8_t *data, size_t size, bool decodes, const cp_tally_row_t *stored,
         const cp_tally_deltas_t *deltas)
{
    static uint8_t out [CP_TALLY_ROW_ENCODED_MAX];
    static cp_tally_row_t merged, expected;
    size_t out_size = 0;
    int rc = cp_tally_merge (data, size, deltas, out, &out_size);
    if (rc) {
        if (rc != CP_EMALFORMED)
            fuzzing_fail ("merge failed with another code than CP_EMALFORMED");
        return;
    }
    if (!decodes)
        fuzzing_fail ("merge took a row that decode refuses");
    if (out_size > CP_TALLY_ROW_ENCODED_MAX)
        fuzzing_fail ("merge wrote past its buffer");
    memset (&merged, 0, sizeof merged);
    if (cp_tally_row_decode_add (out, out_size, &merged) != 0)
        fuzzing_fail ("a merged row does not decode");
    expected = *stored;
    for (size_t index = 0; index < deltas->count; index++)
        expected.cells [deltas->cells [index].cell] += deltas->cells [index].value;
    if (memcmp (&merged, &expected, sizeof merged) != 0)
        fuzzing_fail ("a merged row is not the stored row plus the deltas");
}

//  A view of 2022 with the row in a month before it, in one within it and
//  in one after it (ignored); figures under both catalogue versions,
//  printed in every form.
static void
s_view (const uint8_t *data, size_t size, bool decodes)
{
    static cp_view_t view;
    static cp_figures_t figures;
    static FILE *sink = NULL;
    if (!sink && !(sink = fopen ("/dev/null", "w")))
        fuzzing_fail ("cannot open /dev/null");
    cp_period_t period;
    if (cp_period_parse ("2022", &period) != 0)
        fuzzing_fail ("a period does not parse");
    cp_view_init (&view, &period, "national");
    int32_t first = cp_tally_month (period.start), last = cp_view_last_month (&view);
    if (cp_view_add_encoded (&view, last + 1, data, size) != 0)
        fuzzing_fail ("a row after the period was read");
    int rc = cp_view_add_encoded (&view, first - 1, data, size);
    if (rc == 0)
        rc = cp_view_add_encoded (&view, first, data, size);
    if (rc != (decodes? 0: CP_EMALFORMED))
        fuzzing_fail ("the view and decode disagree on a row");
    if (rc)
        return;
    //  The bound that keeps the figures below from overflowing (cp_tally.h).
    for (int cell = 0; cell < CP_CELLS; cell++)
        if (view.before.cells [cell] < -CP_TALLY_VALUE_MAX
        ||  view.before.cells [cell] > CP_TALLY_VALUE_MAX
        ||  view.within.cells [cell] < -CP_TALLY_VALUE_MAX
        ||  view.within.cells [cell] > CP_TALLY_VALUE_MAX)
            fuzzing_fail ("a view took a counter beyond CP_TALLY_VALUE_MAX");
    for (int version = 1; version <= cp_catalogue_version (s_catalogue ()); version++) {
        cp_view_figures (&view, s_catalogue (), version, &figures);
        cp_view_print_json (&view, &figures, s_catalogue (), sink);
        cp_view_print_table (&view, &figures, s_catalogue (), "en", sink);
        cp_view_print_csv (&view, &figures, s_catalogue (), "sq", sink);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static cp_tally_row_t row, again;
    static uint8_t encoded [CP_TALLY_ROW_ENCODED_MAX];
    memset (&row, 0, sizeof row);
    int rc = cp_tally_row_decode_add (data, size, &row);
    if (rc != 0 && rc != CP_EMALFORMED)
        fuzzing_fail ("decode failed with another code than CP_EMALFORMED");
    bool decodes = rc == 0;
    if (decodes) {
        //  The stores write only non-zero cells, in order: no longer than
        //  the input, and decoding that gives the same row.
        size_t encoded_size = cp_tally_row_encode (&row, encoded);
        memset (&again, 0, sizeof again);
        if (encoded_size > size || cp_tally_row_decode_add (encoded, encoded_size, &again) != 0
        ||  memcmp (&row, &again, sizeof row) != 0)
            fuzzing_fail ("a decoded row does not survive encoding");
    }
    static cp_tally_t *tally = NULL;
    if (!tally && !(tally = cp_tally_new ()))
        fuzzing_fail ("out of memory");
    for (int which = 0; which < 3; which++)
        s_merge (data, size, decodes, &row, s_deltas (which, tally));
    s_view (data, size, decodes);
    return 0;
}
