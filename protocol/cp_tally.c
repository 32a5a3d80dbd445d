/*  cp_tally: per-month counter rows, in memory and as stored bytes.

    A row's key is its month number (see cp_tally.h).  In memory, months live
    in an open-addressing hash table, so a tally costs a few kilobytes until
    it is used and a lookup costs next to nothing (every applied event adds
    to several cells).  A month's deltas are a small array kept in cell
    order, so adding is a short scan and merging with a stored row is one
    pass over both.                                                          */

#include "cp_tally.h"
#include "cp_date.h"
#include "cp_error.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A month with deltas: an open-addressing slot keyed by month.
typedef struct {
    int32_t month;              //  month number, or S_EMPTY
    cp_tally_deltas_t deltas;
} s_month_t;

struct _cp_tally_t {
    s_month_t *table;           //  capacity slots, a power of two
    size_t capacity;
    int32_t *used;              //  months with a slot, in order of first use
    size_t used_count;
    bool sorted;                //  used [] is in increasing order
};

#define S_CELL_SIZE 10          //  stored bytes per cell
#define S_EMPTY INT32_MIN

//  Each metric's name and dimension (-1: a single cell, slot 0).
static const struct {
    const char *name;
    int dim;
} s_metrics [CP_METRIC_COUNT] = {
    [CP_METRIC_NEW]                = {"new", -1},
    [CP_METRIC_CLOSED]             = {"closed", -1},
    [CP_METRIC_HOME_VISITS]        = {"home_visits", -1},
    [CP_METRIC_NEW_AGE_GROUP]      = {"new_by_age_group", CP_DIM_AGE_GROUP},
    [CP_METRIC_NEW_SEX]            = {"new_by_sex", CP_DIM_SEX},
    [CP_METRIC_NEW_ETHNICITY]      = {"new_by_ethnicity", CP_DIM_ETHNICITY},
    [CP_METRIC_NEW_REFERRAL]       = {"new_by_referral", CP_DIM_REFERRAL},
    [CP_METRIC_CLOSED_REASON]      = {"closed_by_reason", CP_DIM_CLOSE_REASON},
    [CP_METRIC_MEASURES_TAKEN]     = {"measures_taken", CP_DIM_MEASURE},
    [CP_METRIC_MEASURES_CONFIRMED] = {"measures_court_confirmed", CP_DIM_MEASURE},
    [CP_METRIC_SCHOOL]             = {"school_identified", CP_DIM_SCHOOL},
    [CP_METRIC_RISK_STATE]         = {"risk_changes", CP_DIM_RISK},
    [CP_METRIC_PROBLEM_STATE]      = {"problem_changes", CP_DIM_PROBLEM},
    [CP_METRIC_CLOSED_RISK]        = {"closed_by_risk", CP_DIM_RISK},
    [CP_METRIC_CLOSED_PROBLEM]     = {"closed_by_problem", CP_DIM_PROBLEM},
};

void
cp_tally_cell_name (const cp_catalogue_t *catalogue, int cell, char *name, size_t size)
{
    assert (cell >= 0 && cell < CP_CELLS);
    int metric = cell / CP_SLOTS, slot = cell % CP_SLOTS;
    int dim = s_metrics [metric].dim;
    if (dim < 0 && slot == 0)
        snprintf (name, size, "%s", s_metrics [metric].name);
    else
    if (slot == CP_SLOT_NONE)
        snprintf (name, size, "%s/none", s_metrics [metric].name);
    else
    if (dim >= 0 && slot < cp_catalogue_count (catalogue, (cp_dim_t) dim))
        snprintf (name, size, "%s/%s", s_metrics [metric].name,
                  cp_catalogue_code (catalogue, (cp_dim_t) dim, slot));
    else                        //  a code this catalogue does not have
        snprintf (name, size, "%s/#%d", s_metrics [metric].name, slot);
}

int32_t
cp_tally_month (int32_t date)
{
    int year, month, day;
    cp_date_to_civil (date, &year, &month, &day);
    return (year - 2000) * 12 + month - 1;
}
#define S_INITIAL 256           //  slots of a new tally

static s_month_t *
s_table_new (size_t capacity)
{
    s_month_t *table = calloc (capacity, sizeof (s_month_t));
    assert (table);             //  out of memory for a small table
    for (size_t index = 0; index < capacity; index++)
        table [index].month = S_EMPTY;
    return table;
}

cp_tally_t *
cp_tally_new (void)
{
    cp_tally_t *self = calloc (1, sizeof (cp_tally_t));
    if (self) {
        self->capacity = S_INITIAL;
        self->table = s_table_new (self->capacity);
        self->used = malloc (self->capacity * sizeof (int32_t));
        self->sorted = true;
        assert (self->used);
    }
    return self;
}

void
cp_tally_destroy (cp_tally_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_tally_t *self = *self_p;
    for (size_t index = 0; index < self->capacity; index++)
        free (self->table [index].deltas.cells);
    free (self->table);
    free (self->used);
    free (self);
    *self_p = NULL;
}

//  The slot of a month: its own, or the empty one where it would go.
static s_month_t *
s_find (const cp_tally_t *self, int32_t month)
{
    size_t mask = self->capacity - 1;
    size_t index = ((uint32_t) month * 2654435761u) & mask;
    while (self->table [index].month != S_EMPTY && self->table [index].month != month)
        index = (index + 1) & mask;
    return &self->table [index];
}

//  Doubles the table when it is half full (keeping every month's array).
static void
s_grow (cp_tally_t *self)
{
    s_month_t *old = self->table;
    size_t old_capacity = self->capacity;
    self->capacity *= 2;
    self->table = s_table_new (self->capacity);
    for (size_t index = 0; index < old_capacity; index++)
        if (old [index].month != S_EMPTY)
            *s_find (self, old [index].month) = old [index];
        else
            free (old [index].deltas.cells);
    free (old);
    self->used = realloc (self->used, self->capacity * sizeof (int32_t));
    assert (self->used);
}

void
cp_tally_add (cp_tally_t *self, int32_t month, int cell, int64_t delta)
{
    assert (month >= 0 && month < CP_TALLY_MONTHS);
    assert (cell >= 0 && cell < CP_CELLS);
    s_month_t *slot = s_find (self, month);
    if (slot->month == S_EMPTY) {
        if ((self->used_count + 1) * 2 > self->capacity) {
            s_grow (self);
            slot = s_find (self, month);
        }
        slot->month = month;
        slot->deltas.count = 0;
        if (self->used_count && self->used [self->used_count - 1] > month)
            self->sorted = false;
        self->used [self->used_count++] = month;
    }
    cp_tally_deltas_t *deltas = &slot->deltas;
    size_t at = deltas->count;
    while (at > 0 && deltas->cells [at - 1].cell > cell)
        at--;
    if (at > 0 && deltas->cells [at - 1].cell == cell) {
        deltas->cells [at - 1].value += delta;
        return;
    }
    if (deltas->count == deltas->capacity) {
        size_t capacity = deltas->capacity? deltas->capacity * 2: 8;
        if (capacity > CP_CELLS)
            capacity = CP_CELLS;
        cp_cell_t *grown = realloc (deltas->cells, capacity * sizeof (cp_cell_t));
        assert (grown);     //  out of memory for a few hundred bytes
        deltas->cells = grown;
        deltas->capacity = (uint16_t) capacity;
    }
    memmove (deltas->cells + at + 1, deltas->cells + at,
             (deltas->count - at) * sizeof (cp_cell_t));
    deltas->cells [at] = (cp_cell_t) {(uint16_t) cell, delta};
    deltas->count++;
}

void
cp_tally_add_deltas (cp_tally_t *self, int32_t month, const cp_tally_deltas_t *deltas)
{
    for (size_t index = 0; index < deltas->count; index++)
        cp_tally_add (self, month, deltas->cells [index].cell, deltas->cells [index].value);
}

static int
s_compare_int32 (const void *a, const void *b)
{
    int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
    return (x > y) - (x < y);
}

const cp_tally_deltas_t *
cp_tally_next (const cp_tally_t *self, int32_t *month)
{
    cp_tally_t *mutable = (cp_tally_t *) self;
    if (!self->sorted) {
        qsort (mutable->used, self->used_count, sizeof (int32_t), s_compare_int32);
        mutable->sorted = true;
    }
    //  Binary search for the first month after *month.
    size_t low = 0, high = self->used_count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (self->used [mid] <= *month)
            low = mid + 1;
        else
            high = mid;
    }
    if (low == self->used_count)
        return NULL;
    *month = self->used [low];
    return &s_find (self, *month)->deltas;
}

bool
cp_tally_empty (const cp_tally_t *self)
{
    return self->used_count == 0;
}

void
cp_tally_clear (cp_tally_t *self)
{
    //  Slots are emptied but keep their arrays for the next transaction.
    for (size_t index = 0; index < self->capacity; index++) {
        self->table [index].month = S_EMPTY;
        self->table [index].deltas.count = 0;
    }
    self->used_count = 0;
    self->sorted = true;
}

//  =====================================================================
//  Stored rows

static uint8_t *
s_put_cell (uint8_t *at, unsigned cell, int64_t value)
{
    at [0] = (uint8_t) cell;
    at [1] = (uint8_t) (cell >> 8);
    uint64_t bits = (uint64_t) value;
    for (int byte = 0; byte < 8; byte++)
        at [2 + byte] = (uint8_t) (bits >> (8 * byte));
    return at + S_CELL_SIZE;
}

static void
s_get_cell (const uint8_t *at, unsigned *cell, int64_t *value)
{
    *cell = at [0] | (unsigned) at [1] << 8;
    uint64_t bits = 0;
    for (int byte = 7; byte >= 0; byte--)
        bits = bits << 8 | at [2 + byte];
    *value = (int64_t) bits;
}

static void
s_put_count (uint8_t *buf, size_t count)
{
    buf [0] = (uint8_t) count;
    buf [1] = (uint8_t) (count >> 8);
}

//  True when a counter is one a store can hold (see CP_TALLY_VALUE_MAX).
static bool
s_value_valid (int64_t value)
{
    return value >= -CP_TALLY_VALUE_MAX && value <= CP_TALLY_VALUE_MAX;
}

//  Checks a stored row's framing; returns its cell count or -1.
static long
s_stored_count (const uint8_t *data, size_t size)
{
    if (size < 2)
        return -1;
    size_t count = data [0] | (size_t) data [1] << 8;
    if (count > CP_CELLS || size != 2 + count * S_CELL_SIZE)
        return -1;
    return (long) count;
}

size_t
cp_tally_row_encode (const cp_tally_row_t *row, uint8_t *buf)
{
    uint8_t *at = buf + 2;
    size_t count = 0;
    for (int cell = 0; cell < CP_CELLS; cell++)
        if (row->cells [cell]) {
            at = s_put_cell (at, (unsigned) cell, row->cells [cell]);
            count++;
        }
    s_put_count (buf, count);
    return (size_t) (at - buf);
}

size_t
cp_tally_deltas_encode (const cp_tally_deltas_t *deltas, uint8_t *buf)
{
    uint8_t *at = buf + 2;
    size_t count = 0;
    for (size_t index = 0; index < deltas->count; index++)
        if (deltas->cells [index].value) {
            at = s_put_cell (at, deltas->cells [index].cell, deltas->cells [index].value);
            count++;
        }
    s_put_count (buf, count);
    return (size_t) (at - buf);
}

int
cp_tally_merge (const uint8_t *stored, size_t size, const cp_tally_deltas_t *deltas,
                uint8_t *out, size_t *out_size)
{
    long stored_count = stored? s_stored_count (stored, size): 0;
    if (stored_count < 0)
        return CP_EMALFORMED;
    uint8_t *at = out + 2;
    size_t count = 0, left = 0, right = 0;
    long previous = -1;
    while (left < (size_t) stored_count || right < deltas->count) {
        unsigned cell = UINT16_MAX;
        int64_t value = 0;
        if (left < (size_t) stored_count)
            s_get_cell (stored + 2 + left * S_CELL_SIZE, &cell, &value);
        if (left < (size_t) stored_count
        &&  (cell >= CP_CELLS || (long) cell <= previous || !s_value_valid (value)))
            return CP_EMALFORMED;       //  out of range or out of order
        unsigned delta_cell = right < deltas->count? deltas->cells [right].cell: UINT16_MAX;
        if (left < (size_t) stored_count && cell < delta_cell) {
            left++;
            previous = cell;
        }
        else
        if (left < (size_t) stored_count && cell == delta_cell) {
            //  Never write a row that a view would refuse.
            if (__builtin_add_overflow (value, deltas->cells [right++].value, &value)
            ||  !s_value_valid (value))
                return CP_EMALFORMED;
            left++;
            previous = cell;
        }
        else {
            cell = delta_cell;
            value = deltas->cells [right++].value;
        }
        if (value) {
            at = s_put_cell (at, cell, value);
            count++;
        }
    }
    s_put_count (out, count);
    *out_size = (size_t) (at - out);
    return 0;
}

int
cp_tally_row_decode_add (const uint8_t *data, size_t size, cp_tally_row_t *row)
{
    long count = s_stored_count (data, size);
    if (count < 0)
        return CP_EMALFORMED;
    long previous = -1;
    for (long index = 0; index < count; index++) {
        unsigned cell;
        int64_t value;
        s_get_cell (data + 2 + index * S_CELL_SIZE, &cell, &value);
        //  Cells are stored once each, in order; values and sums stay
        //  within the bound that keeps a view's arithmetic from overflowing.
        if (cell >= CP_CELLS || (long) cell <= previous || !s_value_valid (value)
        ||  __builtin_add_overflow (row->cells [cell], value, &row->cells [cell])
        ||  !s_value_valid (row->cells [cell]))
            return CP_EMALFORMED;
        previous = cell;
    }
    return 0;
}
