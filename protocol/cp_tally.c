/*  cp_tally: per-day counter rows, in memory and as stored bytes.

    In memory, rows hang off a table indexed by day since 2000-01-01, made on
    first use: a transaction touches a few thousand days at most, and a lookup
    must cost nothing, since every imported event adds to several cells.
    On disk, a row is a u16 count and then, per non-zero cell, a u16 cell
    index and an i64 value, little-endian.                                    */

#include "cp_tally.h"
#include "cp_error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _cp_tally_t {
    cp_tally_row_t **rows;      //  CP_TALLY_DAYS slots, NULL until used
    int32_t *used;              //  day indexes with a row, in order of first use
    size_t used_count;
    bool sorted;                //  used [] is in increasing order
};

cp_tally_t *
cp_tally_new (void)
{
    cp_tally_t *self = calloc (1, sizeof (cp_tally_t));
    if (self) {
        self->rows = calloc (CP_TALLY_DAYS, sizeof (cp_tally_row_t *));
        self->used = malloc (CP_TALLY_DAYS * sizeof (int32_t));
        self->sorted = true;
        if (!self->rows || !self->used)
            cp_tally_destroy (&self);
    }
    return self;
}

void
cp_tally_destroy (cp_tally_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_tally_t *self = *self_p;
    if (self->rows)
        for (int index = 0; index < CP_TALLY_DAYS; index++)
            free (self->rows [index]);
    free (self->rows);
    free (self->used);
    free (self);
    *self_p = NULL;
}

void
cp_tally_add (cp_tally_t *self, int32_t day, int cell, int64_t delta)
{
    int32_t index = day - CP_TALLY_DAY0;
    assert (index >= 0 && index < CP_TALLY_DAYS);
    assert (cell >= 0 && cell < CP_CELLS);
    cp_tally_row_t *row = self->rows [index];
    if (!row) {
        row = calloc (1, sizeof (cp_tally_row_t));
        assert (row);       //  out of memory for 4 KB: nothing sensible left to do
        self->rows [index] = row;
        if (self->used_count && self->used [self->used_count - 1] > index)
            self->sorted = false;
        self->used [self->used_count++] = index;
    }
    row->cells [cell] += delta;
}

static int
s_compare_int32 (const void *a, const void *b)
{
    int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
    return (x > y) - (x < y);
}

const cp_tally_row_t *
cp_tally_next (const cp_tally_t *self, int32_t *day)
{
    cp_tally_t *mutable = (cp_tally_t *) self;
    if (!self->sorted) {
        qsort (mutable->used, self->used_count, sizeof (int32_t), s_compare_int32);
        mutable->sorted = true;
    }
    //  Binary search for the first used day after *day.
    int32_t after = *day == INT32_MIN? -1: *day - CP_TALLY_DAY0;
    size_t low = 0, high = self->used_count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (self->used [mid] <= after)
            low = mid + 1;
        else
            high = mid;
    }
    if (low == self->used_count)
        return NULL;
    *day = self->used [low] + CP_TALLY_DAY0;
    return self->rows [self->used [low]];
}

void
cp_tally_clear (cp_tally_t *self)
{
    for (size_t index = 0; index < self->used_count; index++) {
        free (self->rows [self->used [index]]);
        self->rows [self->used [index]] = NULL;
    }
    self->used_count = 0;
    self->sorted = true;
}

void
cp_tally_row_add (cp_tally_row_t *dst, const cp_tally_row_t *src)
{
    for (int cell = 0; cell < CP_CELLS; cell++)
        dst->cells [cell] += src->cells [cell];
}

size_t
cp_tally_row_encode (const cp_tally_row_t *row, uint8_t *buf)
{
    size_t at = 2;
    uint16_t count = 0;
    for (int cell = 0; cell < CP_CELLS; cell++) {
        int64_t value = row->cells [cell];
        if (value == 0)
            continue;
        buf [at++] = (uint8_t) cell;
        buf [at++] = (uint8_t) (cell >> 8);
        uint64_t bits = (uint64_t) value;
        for (int byte = 0; byte < 8; byte++)
            buf [at++] = (uint8_t) (bits >> (8 * byte));
        count++;
    }
    buf [0] = (uint8_t) count;
    buf [1] = (uint8_t) (count >> 8);
    return at;
}

int
cp_tally_row_decode_add (const uint8_t *data, size_t size, cp_tally_row_t *row)
{
    if (size < 2)
        return CP_EMALFORMED;
    size_t count = data [0] | (size_t) data [1] << 8;
    if (count > CP_CELLS || size != 2 + count * 10)
        return CP_EMALFORMED;
    const uint8_t *at = data + 2;
    for (size_t index = 0; index < count; index++, at += 10) {
        unsigned cell = at [0] | (unsigned) at [1] << 8;
        if (cell >= CP_CELLS)
            return CP_EMALFORMED;
        uint64_t bits = 0;
        for (int byte = 7; byte >= 0; byte--)
            bits = bits << 8 | at [2 + byte];
        row->cells [cell] += (int64_t) bits;
    }
    return 0;
}
