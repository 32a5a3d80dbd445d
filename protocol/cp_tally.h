/*  cp_tally: the counters a caseload view is computed from.

    Every figure of a view is a sum of per-day counters over a range of days:
    events within the period, or cases whose state changed on or before its
    end.  So instead of scanning cases or events, both the node and the
    central keep, per day, a row of counters ("cells") and change them as
    events arrive.  A view then needs only the rows up to the period's end:
    a few thousand small rows, whatever the number of events.

    The state figures use deltas: on the day a case opens, one is added to
    its "unassessed" risk cell; on the day its risk changes from a to b, a
    loses one and b gains one.  Summing rows up to a day gives the risk of
    every case opened by then.  Cases closed before a period's start are
    taken out again through the counters of closings by final state.

    A row is dense in memory (cp_tally_row_t) and sparse on disk
    (cp_tally_row_encode): only its non-zero cells are stored.              */

#ifndef CP_TALLY_H_INCLUDED
#define CP_TALLY_H_INCLUDED

#include "cp_catalogue.h"

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

//  Days are kept from 2000-01-01 for CP_TALLY_DAYS days (until 2109).
#define CP_TALLY_DAY0 10957     //  day number of 2000-01-01
#define CP_TALLY_DAYS 40000

typedef struct {
    int64_t cells [CP_CELLS];
} cp_tally_row_t;

//  Deltas to many days, gathered in memory during one transaction.
typedef struct _cp_tally_t cp_tally_t;

cp_tally_t *
    cp_tally_new (void);

void
    cp_tally_destroy (cp_tally_t **self_p);

//  Adds delta to one cell of a day (a day number inside the kept range; the
//  caller has checked it, the event decoders reject dates outside).
void
    cp_tally_add (cp_tally_t *self, int32_t day, int cell, int64_t delta);

//  Walks the days with deltas, in increasing order: returns the first day
//  after *day (start with *day = INT32_MIN) and its row, or NULL at the end.
const cp_tally_row_t *
    cp_tally_next (const cp_tally_t *self, int32_t *day);

//  Forgets every delta (keeps the memory for reuse).
void
    cp_tally_clear (cp_tally_t *self);

//  Adds src into dst, cell by cell.
void
    cp_tally_row_add (cp_tally_row_t *dst, const cp_tally_row_t *src);

//  Size of the buffer cp_tally_row_encode needs at most.
#define CP_TALLY_ROW_ENCODED_MAX (4 + CP_CELLS * 10)

//  Encodes the non-zero cells of row into buf; returns the bytes written.
size_t
    cp_tally_row_encode (const cp_tally_row_t *row, uint8_t *buf);

//  Adds the cells encoded in data (size bytes) into row.  Returns 0 or
//  CP_EMALFORMED when the bytes are not a row (stored bytes are checked
//  like any other input).
int
    cp_tally_row_decode_add (const uint8_t *data, size_t size, cp_tally_row_t *row);

#endif
