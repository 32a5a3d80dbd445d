/*  cp_tally: the counters a caseload view is computed from.

    Every figure of a view is a sum of per-month counters over a range of
    months: events within the period, or cases whose state changed on or
    before its end.  So instead of scanning cases or events, both the node
    and the central keep, per month, a row of counters ("cells") and change
    them as events arrive.  A view then needs only the rows up to the
    period's end: a few hundred small rows, whatever the number of events.

    The state figures use deltas: in the month a case opens, one is added to
    its "unassessed" risk cell; in the month its risk changes from a to b, a
    loses one and b gains one.  Summing rows up to a month gives the risk of
    every case opened by its end.  Cases closed before a period's start are
    taken out again through the counters of closings by final state.

    Rows are sparse, in memory and on disk: only non-zero cells are kept.
    A view adds stored rows into dense cp_tally_row_t sums.                  */

#ifndef CP_TALLY_H_INCLUDED
#define CP_TALLY_H_INCLUDED

#include "cp_catalogue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A metric is a group of cells, one per code of its dimension plus one for
//  "none" (unassessed / unspecified) at CP_SLOT_NONE.
typedef enum {
    CP_METRIC_NEW,              //  cases opened (slot 0)
    CP_METRIC_CLOSED,           //  cases closed (slot 0)
    CP_METRIC_HOME_VISITS,      //  home visits (slot 0)
    CP_METRIC_NEW_AGE_GROUP,    //  opened, by age group at opening
    CP_METRIC_NEW_SEX,
    CP_METRIC_NEW_ETHNICITY,
    CP_METRIC_NEW_REFERRAL,
    CP_METRIC_CLOSED_REASON,
    CP_METRIC_MEASURES_TAKEN,
    CP_METRIC_MEASURES_CONFIRMED,
    CP_METRIC_SCHOOL,
    CP_METRIC_RISK_STATE,       //  deltas of the risk in effect
    CP_METRIC_PROBLEM_STATE,    //  deltas of the problem in effect
    CP_METRIC_CLOSED_RISK,      //  closings by the case's final risk
    CP_METRIC_CLOSED_PROBLEM,   //  closings by the case's final problem
    CP_METRIC_COUNT
} cp_metric_t;

#define CP_SLOT_NONE CP_CODES_MAX
#define CP_SLOTS (CP_CODES_MAX + 1)
#define CP_CELLS (CP_METRIC_COUNT * CP_SLOTS)
#define CP_CELL(metric, slot) ((metric) * CP_SLOTS + (slot))

//  What a cell counts, for people: its metric's name ("new", "new_by_sex",
//  "risk_changes", ...) and, when the metric has a dimension, the code of
//  its slot in catalogue ("none" for CP_SLOT_NONE), as "metric/code", into
//  name (size bytes).  The state metrics are deltas, so their names say
//  "changes" rather than a view's "managed_by_...".
void
    cp_tally_cell_name (const cp_catalogue_t *catalogue, int cell, char *name, size_t size);

//  Counters are kept per calendar month, numbered from 2000-01 (0) to
//  2099-12: every period a view answers (a year, a quarter) is a run of
//  whole months, and a month row is a thirtieth of the rows, the reads and
//  the writes that a day row would be.
#define CP_TALLY_MONTHS 1200

//  The month number of a date (a day number from 2000-01-01 to 2099-12-31).
int32_t
    cp_tally_month (int32_t date);

//  A whole row, dense: what a view sums rows into.
typedef struct {
    int64_t cells [CP_CELLS];
} cp_tally_row_t;

//  One non-zero cell.
typedef struct {
    uint16_t cell;
    int64_t value;
} cp_cell_t;

//  A month's deltas, sparse: its non-zero cells in increasing cell order.
//  An event touches a handful of cells, so a month of a transaction has a
//  few dozen at most; sparse rows keep a tally small and make
//  merging into stored rows cost what changed, not the width of a row.
typedef struct {
    cp_cell_t *cells;
    uint16_t count;
    uint16_t capacity;
} cp_tally_deltas_t;

//  Deltas to many months, gathered in memory during one transaction.
typedef struct _cp_tally_t cp_tally_t;

cp_tally_t *
    cp_tally_new (void);

void
    cp_tally_destroy (cp_tally_t **self_p);

//  Adds delta to one cell of a month (0 .. CP_TALLY_MONTHS - 1; the event
//  decoders reject dates outside 2000..2099).
void
    cp_tally_add (cp_tally_t *self, int32_t month, int cell, int64_t delta);

//  Adds a month's deltas (from another tally) into this one.
void
    cp_tally_add_deltas (cp_tally_t *self, int32_t month, const cp_tally_deltas_t *deltas);

//  Walks the months with deltas, in increasing order: returns the first
//  month after *month (start with INT32_MIN) and its deltas, or NULL.
const cp_tally_deltas_t *
    cp_tally_next (const cp_tally_t *self, int32_t *month);

//  True when the tally holds no delta.
bool
    cp_tally_empty (const cp_tally_t *self);

//  Forgets every delta (keeps the memory for reuse).
void
    cp_tally_clear (cp_tally_t *self);

//  The largest magnitude of a stored cell, and of a sum of stored rows:
//  2^53.  No count of events comes near it, and it keeps every figure of a
//  view (a sum of at most 3 x CP_SLOTS such sums) and a table's totals
//  clear of int64 overflow; it is also the largest integer every reader of
//  the JSON output holds exactly.  A row beyond it is damaged.
#define CP_TALLY_VALUE_MAX ((int64_t) 1 << 53)

//  Size of the buffer an encoded row needs at most.
#define CP_TALLY_ROW_ENCODED_MAX (4 + CP_CELLS * 10)

//  Stored form: a u16 count, then per non-zero cell, in increasing cell
//  order, a u16 cell index and an i64 value, little-endian.

//  Encodes the non-zero cells of a dense row into buf; returns the size.
size_t
    cp_tally_row_encode (const cp_tally_row_t *row, uint8_t *buf);

//  Encodes a month's deltas as a stored row; returns the size.
size_t
    cp_tally_deltas_encode (const cp_tally_deltas_t *deltas, uint8_t *buf);

//  Writes into out (CP_TALLY_ROW_ENCODED_MAX bytes) the stored row that is
//  stored (size bytes; NULL/0 for none) plus deltas, and its size into
//  *out_size.  Returns 0, or CP_EMALFORMED when stored is not a row
//  (stored bytes are checked like any other input: it refuses every row
//  cp_tally_row_decode_add refuses) or a cell of the sum would be beyond
//  CP_TALLY_VALUE_MAX.
int
    cp_tally_merge (const uint8_t *stored, size_t size, const cp_tally_deltas_t *deltas,
                    uint8_t *out, size_t *out_size);

//  Adds the cells encoded in data (size bytes) into a dense row.  Returns 0
//  or CP_EMALFORMED (cells out of order or repeated, a value or a sum beyond
//  CP_TALLY_VALUE_MAX either way); after CP_EMALFORMED the row holds part
//  of the cells: discard it.
int
    cp_tally_row_decode_add (const uint8_t *data, size_t size, cp_tally_row_t *row);

#endif
