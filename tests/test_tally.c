/*  test_tally: the month counters behind every view, in memory and stored.

    The in-memory tally is checked for what its users rely on: months come
    back from cp_tally_next in increasing order whatever order they were
    added in, a month's cells in increasing cell order, repeated adds sum,
    and nothing is lost when the table grows or is cleared and reused.  The
    stored form is checked as a decoder of hostile bytes: every way a row can
    be malformed, and every truncation, gives CP_EMALFORMED and no crash.
    Merging is checked against an independent dense computation: decode the
    stored row, add the deltas, encode, and compare byte for byte.  A seeded
    random run compares ten thousand adds with a dense model.               */

#include "cp_date.h"
#include "cp_error.h"
#include "cp_tally.h"
#include "testing.h"

#include <stdint.h>

//  =====================================================================
//  Helpers

//  A small seeded generator (xorshift64*), so a failing run can be replayed.
static uint64_t s_seed = 0x9E3779B97F4A7C15ull;

static uint32_t
s_random (uint32_t limit)
{
    s_seed ^= s_seed >> 12;
    s_seed ^= s_seed << 25;
    s_seed ^= s_seed >> 27;
    return (uint32_t) ((s_seed * 2685821657736338717ull) >> 32) % limit;
}

static cp_tally_row_t *
s_row_new (void)
{
    cp_tally_row_t *row = calloc (1, sizeof (cp_tally_row_t));
    if (!row) {
        fprintf (stderr, "  out of memory\n");
        exit (1);
    }
    return row;
}

//  Adds a month's sparse deltas into a dense row.
static void
s_dense_add (cp_tally_row_t *row, const cp_tally_deltas_t *deltas)
{
    for (size_t index = 0; index < deltas->count; index++)
        row->cells [deltas->cells [index].cell] += deltas->cells [index].value;
}

//  True when a month's cells are in strictly increasing cell order.
static bool
s_sorted (const cp_tally_deltas_t *deltas)
{
    for (size_t index = 1; index < deltas->count; index++)
        if (deltas->cells [index - 1].cell >= deltas->cells [index].cell)
            return false;
    return true;
}

//  Writes a stored row by hand: count, then (cell, value) pairs.
static size_t
s_stored (uint8_t *buf, unsigned count, const unsigned *cells, const int64_t *values,
          unsigned pairs)
{
    buf [0] = (uint8_t) count;
    buf [1] = (uint8_t) (count >> 8);
    uint8_t *at = buf + 2;
    for (unsigned index = 0; index < pairs; index++) {
        at [0] = (uint8_t) cells [index];
        at [1] = (uint8_t) (cells [index] >> 8);
        uint64_t bits = (uint64_t) values [index];
        for (int byte = 0; byte < 8; byte++)
            at [2 + byte] = (uint8_t) (bits >> (8 * byte));
        at += 10;
    }
    return (size_t) (at - buf);
}

//  =====================================================================
//  Months

static void
test_month (void)
{
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2000, 1, 1)), 0);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2000, 1, 31)), 0);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2000, 2, 1)), 1);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2000, 2, 29)), 1);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2000, 12, 31)), 11);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2001, 1, 1)), 12);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2022, 3, 14)), 266);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2024, 2, 29)), 289);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2099, 12, 1)), CP_TALLY_MONTHS - 1);
    CHECK_EQ_INT (cp_tally_month (cp_date_from_civil (2099, 12, 31)), CP_TALLY_MONTHS - 1);

    //  Every month's first and last day, and the day before its first.
    static const int days [12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int wrong = 0;
    for (int year = 2000; year <= 2099; year++)
        for (int month = 1; month <= 12; month++) {
            int last = days [month - 1];
            if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
                last = 29;
            int32_t expected = (year - 2000) * 12 + month - 1;
            int32_t first = cp_date_from_civil (year, month, 1);
            wrong += cp_tally_month (first) != expected;
            wrong += cp_tally_month (cp_date_from_civil (year, month, last)) != expected;
            wrong += cp_tally_month (cp_date_from_civil (year, month, last) + 1)
                     != expected + 1;
            if (expected > 0)
                wrong += cp_tally_month (first - 1) != expected - 1;
        }
    CHECK_EQ_INT (wrong, 0);
}

//  =====================================================================
//  The in-memory tally

static void
test_new_empty (void)
{
    cp_tally_t *tally = cp_tally_new ();
    CHECK (tally);
    CHECK (cp_tally_empty (tally));
    int32_t month = INT32_MIN;
    CHECK (cp_tally_next (tally, &month) == NULL);
    cp_tally_add (tally, 5, CP_CELL (CP_METRIC_NEW, 0), 1);
    CHECK (!cp_tally_empty (tally));
    cp_tally_destroy (&tally);
    CHECK (tally == NULL);
    cp_tally_destroy (&tally);      //  safe twice
    cp_tally_destroy (NULL);
}

static void
test_order (void)
{
    cp_tally_t *tally = cp_tally_new ();
    static const int32_t months [] = {700, 3, 1199, 0, 264, 265, 12, 699};
    //  Cells added in descending order into every month, some twice.
    for (size_t index = 0; index < sizeof months / sizeof months [0]; index++) {
        cp_tally_add (tally, months [index], CP_CELL (CP_METRIC_SCHOOL, 4), 7);
        cp_tally_add (tally, months [index], CP_CELL (CP_METRIC_NEW_SEX, 1), 2);
        cp_tally_add (tally, months [index], CP_CELL (CP_METRIC_NEW, 0), 1);
        cp_tally_add (tally, months [index], CP_CELL (CP_METRIC_NEW_SEX, 1), 3);
        cp_tally_add (tally, months [index], CP_CELLS - 1, -4);
    }
    static const int32_t sorted [] = {0, 3, 12, 264, 265, 699, 700, 1199};
    int32_t month = INT32_MIN;
    size_t seen = 0;
    const cp_tally_deltas_t *deltas;
    while ((deltas = cp_tally_next (tally, &month))) {
        if (seen < sizeof sorted / sizeof sorted [0])
            CHECK_EQ_INT (month, sorted [seen]);
        seen++;
        CHECK_EQ_INT (deltas->count, 4);
        CHECK (s_sorted (deltas));
        if (deltas->count == 4) {
            CHECK_EQ_INT (deltas->cells [0].cell, CP_CELL (CP_METRIC_NEW, 0));
            CHECK_EQ_INT (deltas->cells [0].value, 1);
            CHECK_EQ_INT (deltas->cells [1].cell, CP_CELL (CP_METRIC_NEW_SEX, 1));
            CHECK_EQ_INT (deltas->cells [1].value, 5);
            CHECK_EQ_INT (deltas->cells [2].cell, CP_CELL (CP_METRIC_SCHOOL, 4));
            CHECK_EQ_INT (deltas->cells [2].value, 7);
            CHECK_EQ_INT (deltas->cells [3].cell, CP_CELLS - 1);
            CHECK_EQ_INT (deltas->cells [3].value, -4);
        }
    }
    CHECK_EQ_INT (seen, sizeof sorted / sizeof sorted [0]);

    //  Starting from a month in the middle finds the next one after it.
    month = 264;
    deltas = cp_tally_next (tally, &month);
    CHECK (deltas);
    CHECK_EQ_INT (month, 265);
    month = 1199;
    CHECK (cp_tally_next (tally, &month) == NULL);

    //  Adding after a walk (out of order again) is seen by the next walk.
    cp_tally_add (tally, 100, CP_CELL (CP_METRIC_CLOSED, 0), 1);
    month = 12;
    deltas = cp_tally_next (tally, &month);
    CHECK_EQ_INT (month, 100);
    cp_tally_destroy (&tally);
}

static void
test_zero_cell_dropped (void)
{
    cp_tally_t *tally = cp_tally_new ();
    int cell = CP_CELL (CP_METRIC_RISK_STATE, CP_SLOT_NONE);
    cp_tally_add (tally, 10, cell, 1);
    cp_tally_add (tally, 10, CP_CELL (CP_METRIC_RISK_STATE, 2), 1);
    cp_tally_add (tally, 10, cell, -1);        //  the case was assessed that month
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas = cp_tally_next (tally, &month);
    CHECK (deltas);
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    size_t size = cp_tally_deltas_encode (deltas, buf);
    CHECK_EQ_INT (size, 2 + 10);
    CHECK_EQ_INT (buf [0], 1);
    CHECK_EQ_INT (buf [1], 0);
    cp_tally_row_t *row = s_row_new ();
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, row), 0);
    CHECK_EQ_INT (row->cells [CP_CELL (CP_METRIC_RISK_STATE, 2)], 1);
    CHECK_EQ_INT (row->cells [cell], 0);

    //  A month whose cells all cancel encodes as an empty row.
    cp_tally_add (tally, 11, cell, 3);
    cp_tally_add (tally, 11, cell, -3);
    month = 10;
    deltas = cp_tally_next (tally, &month);
    CHECK_EQ_INT (month, 11);
    CHECK_EQ_INT (cp_tally_deltas_encode (deltas, buf), 2);
    CHECK_EQ_INT (buf [0] | buf [1], 0);
    free (row);
    cp_tally_destroy (&tally);
}

static void
test_growth (void)
{
    //  Every month of the century, 40 cells each, months in a scrambled
    //  order and cells descending: the table doubles several times.
    cp_tally_t *tally = cp_tally_new ();
    for (int round = 0; round < 2; round++)
        for (int32_t index = 0; index < CP_TALLY_MONTHS; index++) {
            int32_t month = (int32_t) ((index * 7919L) % CP_TALLY_MONTHS);
            for (int step = 39; step >= 0; step--)
                cp_tally_add (tally, month, (month + step * 11) % CP_CELLS, month + step);
        }
    int32_t month = INT32_MIN, expected = 0;
    const cp_tally_deltas_t *deltas;
    int wrong = 0;
    while ((deltas = cp_tally_next (tally, &month))) {
        wrong += month != expected;
        wrong += deltas->count != 40 || !s_sorted (deltas);
        for (size_t index = 0; index < deltas->count; index++) {
            int cell = deltas->cells [index].cell;
            //  cell = (month + step * 11) % CP_CELLS has a unique step < 40
            int step = 0;
            while (step < 40 && (month + step * 11) % CP_CELLS != cell)
                step++;
            wrong += deltas->cells [index].value != 2 * (month + step);
        }
        expected++;
    }
    CHECK_EQ_INT (wrong, 0);
    CHECK_EQ_INT (expected, CP_TALLY_MONTHS);

    //  One month with every cell, added in descending order.
    cp_tally_t *full = cp_tally_new ();
    for (int cell = CP_CELLS - 1; cell >= 0; cell--)
        cp_tally_add (full, 600, cell, cell + 1);
    month = INT32_MIN;
    deltas = cp_tally_next (full, &month);
    CHECK (deltas);
    CHECK_EQ_INT (deltas->count, CP_CELLS);
    CHECK (s_sorted (deltas));
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    size_t size = cp_tally_deltas_encode (deltas, buf);
    CHECK_EQ_INT (size, 2 + CP_CELLS * 10);
    CHECK (size <= CP_TALLY_ROW_ENCODED_MAX);
    cp_tally_row_t *row = s_row_new ();
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, row), 0);
    wrong = 0;
    for (int cell = 0; cell < CP_CELLS; cell++)
        wrong += row->cells [cell] != cell + 1;
    CHECK_EQ_INT (wrong, 0);
    free (row);
    cp_tally_destroy (&full);
    cp_tally_destroy (&tally);
}

static void
test_clear_reuse (void)
{
    cp_tally_t *tally = cp_tally_new ();
    for (int32_t month = 0; month < CP_TALLY_MONTHS; month++)
        for (int cell = 0; cell < 20; cell++)
            cp_tally_add (tally, month, cell * 3, 100);
    cp_tally_clear (tally);
    CHECK (cp_tally_empty (tally));
    int32_t month = INT32_MIN;
    CHECK (cp_tally_next (tally, &month) == NULL);

    //  Reused: the same months again and a few others; nothing stale.
    cp_tally_add (tally, 300, 6, 1);
    cp_tally_add (tally, 5, 7, 2);
    cp_tally_add (tally, 300, 3, -1);
    CHECK (!cp_tally_empty (tally));
    month = INT32_MIN;
    const cp_tally_deltas_t *deltas = cp_tally_next (tally, &month);
    CHECK (deltas);
    CHECK_EQ_INT (month, 5);
    if (deltas) {
        CHECK_EQ_INT (deltas->count, 1);
        CHECK_EQ_INT (deltas->cells [0].cell, 7);
        CHECK_EQ_INT (deltas->cells [0].value, 2);
    }
    deltas = cp_tally_next (tally, &month);
    CHECK (deltas);
    CHECK_EQ_INT (month, 300);
    if (deltas) {
        CHECK_EQ_INT (deltas->count, 2);
        CHECK_EQ_INT (deltas->cells [0].cell, 3);
        CHECK_EQ_INT (deltas->cells [0].value, -1);
        CHECK_EQ_INT (deltas->cells [1].cell, 6);
        CHECK_EQ_INT (deltas->cells [1].value, 1);
    }
    CHECK (cp_tally_next (tally, &month) == NULL);

    //  Cleared twice, and refilled past its first size again.
    cp_tally_clear (tally);
    cp_tally_clear (tally);
    for (int32_t index = CP_TALLY_MONTHS - 1; index >= 0; index--)
        cp_tally_add (tally, index, 1, index);
    month = INT32_MIN;
    int32_t expected = 0;
    int wrong = 0;
    while ((deltas = cp_tally_next (tally, &month))) {
        wrong += month != expected || deltas->count != 1 || deltas->cells [0].value != month;
        expected++;
    }
    CHECK_EQ_INT (wrong, 0);
    CHECK_EQ_INT (expected, CP_TALLY_MONTHS);
    cp_tally_destroy (&tally);
}

static void
test_add_deltas (void)
{
    cp_tally_t *source = cp_tally_new ();
    cp_tally_add (source, 40, 9, 4);
    cp_tally_add (source, 40, 2, -1);
    cp_tally_add (source, 40, 30, 6);
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas = cp_tally_next (source, &month);
    CHECK (deltas);

    cp_tally_t *target = cp_tally_new ();
    cp_tally_add (target, 41, 9, 100);
    cp_tally_add (target, 41, 10, 5);
    cp_tally_add_deltas (target, 41, deltas);
    cp_tally_add_deltas (target, 41, deltas);
    cp_tally_add_deltas (target, 2, deltas);
    month = INT32_MIN;
    const cp_tally_deltas_t *got = cp_tally_next (target, &month);
    CHECK_EQ_INT (month, 2);
    CHECK (got && got->count == 3 && s_sorted (got));
    got = cp_tally_next (target, &month);
    CHECK_EQ_INT (month, 41);
    CHECK (got);
    if (got) {
        CHECK (s_sorted (got));
        cp_tally_row_t *row = s_row_new ();
        s_dense_add (row, got);
        CHECK_EQ_INT (got->count, 4);
        CHECK_EQ_INT (row->cells [2], -2);
        CHECK_EQ_INT (row->cells [9], 108);
        CHECK_EQ_INT (row->cells [10], 5);
        CHECK_EQ_INT (row->cells [30], 12);
        free (row);
    }
    CHECK (cp_tally_next (target, &month) == NULL);
    cp_tally_destroy (&target);
    cp_tally_destroy (&source);
}

//  =====================================================================
//  Stored rows

static void
test_row_round_trip (void)
{
    cp_tally_row_t *row = s_row_new ();
    row->cells [0] = 1;
    row->cells [17] = -5;
    row->cells [CP_CELLS - 1] = INT64_MAX;
    row->cells [200] = INT64_MIN;
    row->cells [201] = 0x0102030405060708ll;
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    size_t size = cp_tally_row_encode (row, buf);
    CHECK_EQ_INT (size, 2 + 5 * 10);
    //  Known answer: count 5 little-endian, then cell 0 = 1.
    static const uint8_t head [] = {5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 17, 0};
    CHECK (memcmp (buf, head, sizeof head) == 0);
    //  cell 201's value, little-endian, at the fourth pair
    static const uint8_t value [] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
    CHECK_EQ_INT (buf [2 + 3 * 10], 201);
    CHECK (memcmp (buf + 2 + 3 * 10 + 2, value, sizeof value) == 0);

    //  The encoder writes any int64; the decoder takes only counters a store
    //  can hold, and these three are beyond CP_TALLY_VALUE_MAX.  At the
    //  bound, they come back.
    cp_tally_row_t *back = s_row_new ();
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, back), CP_EMALFORMED);
    row->cells [CP_CELLS - 1] = CP_TALLY_VALUE_MAX;
    row->cells [200] = -CP_TALLY_VALUE_MAX;
    row->cells [201] = 0x0010203040506070ll;
    size = cp_tally_row_encode (row, buf);
    memset (back, 0, sizeof *back);
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, back), 0);
    CHECK (memcmp (row, back, sizeof *row) == 0);
    //  decode_add adds (the large values left out: twice they pass the bound)
    row->cells [CP_CELLS - 1] = row->cells [200] = row->cells [201] = 0;
    size = cp_tally_row_encode (row, buf);
    memset (back, 0, sizeof *back);
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, back), 0);
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, back), 0);
    CHECK_EQ_INT (back->cells [17], -10);
    CHECK_EQ_INT (back->cells [0], 2);

    //  An all-zero row is two bytes.
    memset (row, 0, sizeof *row);
    size = cp_tally_row_encode (row, buf);
    CHECK_EQ_INT (size, 2);
    CHECK_EQ_INT (buf [0] | buf [1], 0);
    memset (back, 0, sizeof *back);
    CHECK_EQ_INT (cp_tally_row_decode_add (buf, size, back), 0);
    CHECK (memcmp (row, back, sizeof *row) == 0);
    free (row);
    free (back);
}

//  Merges stored and deltas, and checks the result against decoding the
//  stored row into a dense row, adding the deltas and encoding that.
static void
s_check_merge (const uint8_t *stored, size_t size, const cp_tally_deltas_t *deltas)
{
    static uint8_t out [CP_TALLY_ROW_ENCODED_MAX], expected [CP_TALLY_ROW_ENCODED_MAX];
    size_t out_size = 0;
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), 0);
    cp_tally_row_t *row = s_row_new ();
    if (stored)
        CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), 0);
    s_dense_add (row, deltas);
    size_t expected_size = cp_tally_row_encode (row, expected);
    CHECK_EQ_INT (out_size, expected_size);
    CHECK (out_size == expected_size && memcmp (out, expected, out_size) == 0);
    free (row);
}

static void
test_merge (void)
{
    cp_tally_t *tally = cp_tally_new ();
    cp_tally_add (tally, 1, 20, 3);
    cp_tally_add (tally, 1, 5, 1);
    cp_tally_add (tally, 1, 300, -2);
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas = cp_tally_next (tally, &month);

    //  Into nothing: the deltas' own encoding.
    uint8_t out [CP_TALLY_ROW_ENCODED_MAX], encoded [CP_TALLY_ROW_ENCODED_MAX];
    size_t out_size = 0;
    CHECK_EQ_INT (cp_tally_merge (NULL, 0, deltas, out, &out_size), 0);
    size_t encoded_size = cp_tally_deltas_encode (deltas, encoded);
    CHECK_EQ_INT (out_size, encoded_size);
    CHECK (memcmp (out, encoded, encoded_size) == 0);
    s_check_merge (NULL, 0, deltas);

    //  Into an empty stored row.
    uint8_t stored [CP_TALLY_ROW_ENCODED_MAX];
    size_t size = s_stored (stored, 0, NULL, NULL, 0);
    s_check_merge (stored, size, deltas);

    //  Disjoint cells: interleaved before, between and after.
    static const unsigned disjoint_cells [] = {0, 6, 21, 494};
    static const int64_t disjoint_values [] = {1, 2, 3, 4};
    size = s_stored (stored, 4, disjoint_cells, disjoint_values, 4);
    s_check_merge (stored, size, deltas);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), 0);
    CHECK_EQ_INT (out [0], 7);

    //  Overlapping cells sum; cancelling cells disappear.
    static const unsigned overlap_cells [] = {5, 20, 300, 400};
    static const int64_t overlap_values [] = {10, -3, 2, 9};
    size = s_stored (stored, 4, overlap_cells, overlap_values, 4);
    s_check_merge (stored, size, deltas);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), 0);
    CHECK_EQ_INT (out_size, 2 + 2 * 10);        //  5 → 11 and 400 → 9 remain
    cp_tally_row_t *row = s_row_new ();
    CHECK_EQ_INT (cp_tally_row_decode_add (out, out_size, row), 0);
    CHECK_EQ_INT (row->cells [5], 11);
    CHECK_EQ_INT (row->cells [20], 0);
    CHECK_EQ_INT (row->cells [300], 0);
    CHECK_EQ_INT (row->cells [400], 9);

    //  Everything cancels: an empty row.
    static const unsigned cancel_cells [] = {5, 20, 300};
    static const int64_t cancel_values [] = {-1, -3, 2};
    size = s_stored (stored, 3, cancel_cells, cancel_values, 3);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), 0);
    CHECK_EQ_INT (out_size, 2);

    //  Empty deltas leave a stored row as it was.
    cp_tally_deltas_t none = {NULL, 0, 0};
    size = s_stored (stored, 4, overlap_cells, overlap_values, 4);
    CHECK_EQ_INT (cp_tally_merge (stored, size, &none, out, &out_size), 0);
    CHECK_EQ_INT (out_size, size);
    CHECK (memcmp (out, stored, size) == 0);

    //  Random stored rows and random deltas, against the dense computation.
    for (int round = 0; round < 200; round++) {
        memset (row, 0, sizeof *row);
        int cells = (int) s_random (60);
        for (int index = 0; index < cells; index++)
            row->cells [s_random (CP_CELLS)] = (int64_t) s_random (9) - 4;
        size = cp_tally_row_encode (row, stored);
        cp_tally_clear (tally);
        int adds = (int) s_random (60);
        for (int index = 0; index < adds; index++)
            cp_tally_add (tally, 7, (int) s_random (CP_CELLS), (int64_t) s_random (9) - 4);
        month = INT32_MIN;
        deltas = cp_tally_next (tally, &month);
        s_check_merge (stored, size, deltas? deltas: &none);
    }
    free (row);
    cp_tally_destroy (&tally);
}

//  Every prefix of a row shorter than it is malformed, to merge and decode.
static int
s_truncations_accepted (const uint8_t *data, size_t size, const cp_tally_deltas_t *deltas)
{
    static uint8_t out [CP_TALLY_ROW_ENCODED_MAX];
    int accepted = 0;
    cp_tally_row_t *row = s_row_new ();
    for (size_t length = 0; length < size; length++) {
        //  A copy of exactly length bytes, so a sanitizer sees any overread.
        uint8_t *copy = malloc (length? length: 1);
        memcpy (copy, data, length);
        size_t out_size = 0;
        accepted += cp_tally_merge (copy, length, deltas, out, &out_size) != CP_EMALFORMED;
        accepted += cp_tally_row_decode_add (copy, length, row) != CP_EMALFORMED;
        free (copy);
    }
    free (row);
    return accepted;
}

static void
test_malformed (void)
{
    cp_tally_t *tally = cp_tally_new ();
    cp_tally_add (tally, 1, 20, 3);
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas = cp_tally_next (tally, &month);
    cp_tally_deltas_t none = {NULL, 0, 0};
    static uint8_t stored [CP_TALLY_ROW_ENCODED_MAX + 16], out [CP_TALLY_ROW_ENCODED_MAX];
    size_t out_size;
    cp_tally_row_t *row = s_row_new ();

    static const unsigned cells [] = {3, 20, 111};
    static const int64_t values [] = {1, -2, 3};
    size_t size = s_stored (stored, 3, cells, values, 3);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), 0);

    //  Every truncation, of a small row and of the largest row.
    CHECK_EQ_INT (s_truncations_accepted (stored, size, deltas), 0);
    CHECK_EQ_INT (s_truncations_accepted (stored, size, &none), 0);
    for (int cell = 0; cell < CP_CELLS; cell++)
        row->cells [cell] = cell - 100;
    row->cells [100] = 7;
    size_t full = cp_tally_row_encode (row, stored);
    CHECK_EQ_INT (full, 2 + CP_CELLS * 10);
    CHECK_EQ_INT (s_truncations_accepted (stored, full, deltas), 0);

    //  Count says more or fewer cells than follow; a byte too many.
    size = s_stored (stored, 4, cells, values, 3);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), CP_EMALFORMED);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), CP_EMALFORMED);
    size = s_stored (stored, 2, cells, values, 3);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), CP_EMALFORMED);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), CP_EMALFORMED);
    size = s_stored (stored, 3, cells, values, 3);
    stored [size] = 0;
    CHECK_EQ_INT (cp_tally_merge (stored, size + 1, deltas, out, &out_size), CP_EMALFORMED);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size + 1, row), CP_EMALFORMED);
    size = s_stored (stored, 0xFFFF, cells, values, 3);
    CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), CP_EMALFORMED);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), CP_EMALFORMED);

    //  More cells than a row has, with a size that matches the count.
    static unsigned many_cells [CP_CELLS + 1];
    static int64_t many_values [CP_CELLS + 1];
    for (unsigned index = 0; index <= CP_CELLS; index++) {
        many_cells [index] = index < CP_CELLS? index: CP_CELLS - 1;
        many_values [index] = 1;
    }
    static uint8_t big [2 + (CP_CELLS + 1) * 10];
    size = s_stored (big, CP_CELLS + 1, many_cells, many_values, CP_CELLS + 1);
    CHECK_EQ_INT (cp_tally_merge (big, size, deltas, out, &out_size), CP_EMALFORMED);
    CHECK_EQ_INT (cp_tally_row_decode_add (big, size, row), CP_EMALFORMED);

    //  A cell index past the last cell.
    static const unsigned far_cells [][2] = {{3, CP_CELLS}, {3, 0xFFFF}, {CP_CELLS, CP_CELLS + 1}};
    for (size_t index = 0; index < 3; index++) {
        size = s_stored (stored, 2, far_cells [index], values, 2);
        CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), CP_EMALFORMED);
        CHECK_EQ_INT (cp_tally_merge (stored, size, &none, out, &out_size), CP_EMALFORMED);
        CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), CP_EMALFORMED);
    }

    //  Cells out of order, or twice: a merge would write a row that is not
    //  canonical (or sum one cell twice), so it refuses.
    static const unsigned disorder [][3] = {
        {3, 111, 20}, {111, 20, 3}, {3, 20, 20}, {3, 3, 20}, {20, 3, 111}, {21, 20, 22}
    };
    for (size_t index = 0; index < sizeof disorder / sizeof disorder [0]; index++) {
        size = s_stored (stored, 3, disorder [index], values, 3);
        CHECK_EQ_INT (cp_tally_merge (stored, size, deltas, out, &out_size), CP_EMALFORMED);
        CHECK_EQ_INT (cp_tally_merge (stored, size, &none, out, &out_size), CP_EMALFORMED);
        memset (row, 0, sizeof *row);
        CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), CP_EMALFORMED);
    }
    free (row);
    cp_tally_destroy (&tally);
}

//  Counters beyond CP_TALLY_VALUE_MAX either way are damage: decode and
//  merge refuse them, a sum of rows may reach the bound but not pass it,
//  and merge never writes a row beyond it.  Before, any int64 decoded, and
//  a view of a row of INT64_MAX overflowed in cp_view_figures (UBSan).
static void
test_value_bound (void)
{
    cp_tally_t *tally = cp_tally_new ();
    cp_tally_add (tally, 1, 20, 1);
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *plus = cp_tally_next (tally, &month);
    cp_tally_deltas_t none = {NULL, 0, 0};
    static uint8_t stored [64], out [CP_TALLY_ROW_ENCODED_MAX];
    size_t size, out_size;
    cp_tally_row_t *row = s_row_new ();
    static const unsigned cells [] = {3, 20};
    static const struct { int64_t value; int rc; } values [] = {
        {CP_TALLY_VALUE_MAX, 0}, {-CP_TALLY_VALUE_MAX, 0},
        {CP_TALLY_VALUE_MAX + 1, CP_EMALFORMED}, {-CP_TALLY_VALUE_MAX - 1, CP_EMALFORMED},
        {INT64_MAX, CP_EMALFORMED}, {INT64_MIN, CP_EMALFORMED},
    };
    for (size_t index = 0; index < sizeof values / sizeof values [0]; index++) {
        int64_t pair [2] = {values [index].value, values [index].value};
        size = s_stored (stored, 2, cells, pair, 2);
        memset (row, 0, sizeof *row);
        CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), values [index].rc);
        CHECK_EQ_INT (cp_tally_merge (stored, size, &none, out, &out_size), values [index].rc);
        if (values [index].rc == 0)
            CHECK_EQ_INT (row->cells [20], values [index].value);
    }
    //  Rows add up to the bound, and no further.
    int64_t half [2] = {CP_TALLY_VALUE_MAX / 2, CP_TALLY_VALUE_MAX / 2};
    size = s_stored (stored, 2, cells, half, 2);
    memset (row, 0, sizeof *row);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), 0);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), 0);
    CHECK_EQ_INT (row->cells [3], CP_TALLY_VALUE_MAX);
    int64_t one [2] = {1, 1};
    size = s_stored (stored, 2, cells, one, 2);
    CHECK_EQ_INT (cp_tally_row_decode_add (stored, size, row), CP_EMALFORMED);
    //  A merge that would pass the bound refuses; one that reaches it writes.
    int64_t top [2] = {1, CP_TALLY_VALUE_MAX};
    size = s_stored (stored, 2, cells, top, 2);
    CHECK_EQ_INT (cp_tally_merge (stored, size, plus, out, &out_size), CP_EMALFORMED);
    top [1] = CP_TALLY_VALUE_MAX - 1;
    size = s_stored (stored, 2, cells, top, 2);
    CHECK_EQ_INT (cp_tally_merge (stored, size, plus, out, &out_size), 0);
    memset (row, 0, sizeof *row);
    CHECK_EQ_INT (cp_tally_row_decode_add (out, out_size, row), 0);
    CHECK_EQ_INT (row->cells [20], CP_TALLY_VALUE_MAX);
    free (row);
    cp_tally_destroy (&tally);
}

//  =====================================================================
//  Against a dense model

static void
test_random_model (void)
{
    s_seed = 20220314;
    //  model [month] is the dense sum of everything added to that month.
    cp_tally_row_t *model = calloc (CP_TALLY_MONTHS, sizeof (cp_tally_row_t));
    bool *touched = calloc (CP_TALLY_MONTHS, sizeof (bool));
    CHECK (model && touched);
    if (!model || !touched)
        exit (1);
    cp_tally_t *tally = cp_tally_new ();
    for (int add = 0; add < 10000; add++) {
        //  Half the adds go to a few busy months, the rest anywhere.
        int32_t month = s_random (2)? 264 + (int32_t) s_random (24)
                                    : (int32_t) s_random (CP_TALLY_MONTHS);
        int cell = s_random (4)? (int) s_random (40): (int) s_random (CP_CELLS);
        int64_t delta = (int64_t) s_random (7) - 3;
        cp_tally_add (tally, month, cell, delta);
        model [month].cells [cell] += delta;
        touched [month] = true;
    }
    int32_t month = INT32_MIN, previous = INT32_MIN;
    const cp_tally_deltas_t *deltas;
    int months = 0, wrong_order = 0, wrong_value = 0, wrong_stored = 0;
    cp_tally_row_t *row = s_row_new (), *decoded = s_row_new ();
    static uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    while ((deltas = cp_tally_next (tally, &month))) {
        wrong_order += month <= previous || !touched [month] || !s_sorted (deltas);
        previous = month;
        months++;
        memset (row, 0, sizeof *row);
        s_dense_add (row, deltas);
        wrong_value += memcmp (row, &model [month], sizeof *row) != 0;
        //  Stored, it decodes to the same sums with only non-zero cells.
        size_t size = cp_tally_deltas_encode (deltas, buf);
        memset (decoded, 0, sizeof *decoded);
        size_t nonzero = 0;
        for (int cell = 0; cell < CP_CELLS; cell++)
            nonzero += model [month].cells [cell] != 0;
        wrong_stored += size != 2 + nonzero * 10
                     || cp_tally_row_decode_add (buf, size, decoded) != 0
                     || memcmp (decoded, &model [month], sizeof *decoded) != 0;
    }
    int touched_count = 0;
    for (int32_t index = 0; index < CP_TALLY_MONTHS; index++)
        touched_count += touched [index];
    CHECK_EQ_INT (months, touched_count);
    CHECK_EQ_INT (wrong_order, 0);
    CHECK_EQ_INT (wrong_value, 0);
    CHECK_EQ_INT (wrong_stored, 0);
    free (row);
    free (decoded);
    free (model);
    free (touched);
    cp_tally_destroy (&tally);
}

TESTING_MAIN (
    TEST (test_month),
    TEST (test_new_empty),
    TEST (test_order),
    TEST (test_zero_cell_dropped),
    TEST (test_growth),
    TEST (test_clear_reuse),
    TEST (test_add_deltas),
    TEST (test_row_round_trip),
    TEST (test_merge),
    TEST (test_malformed),
    TEST (test_value_bound),
    TEST (test_random_model)
)
