/*  cp_figures: digests of a municipality's month rows, as the central and
    its node each hold them, so that the two can tell whether they agree.

    The node and the central keep a municipality's figures in the same
    form: one counter row per month (cp_tally's stored form, the same bytes
    for the same counts, since a row holds its non-zero cells in cell
    order).  So a month's digest is BLAKE2b-128, personalised "cpsync
    months v1", over the row's bytes as stored, and two sides whose rows
    of a month have the same digest have the same figures for that month.
    A row with no cell (its deltas cancelled out) counts as no row: one
    side may store it where the other never wrote one.

    The central sends its digests to the node in FIGURES (cp_wire), with
    as_of, the sequence of the node's log up to which it has applied it;
    the node compares them with its own (cp_figures_compare) and reports
    the months that differ (cp_figures_periods) as a figures_checked event.
    A node that finds months differ asks for the central's rows of them
    (FIGREQ, at most CP_FIGURES_ASK_MAX months) and keeps the answer
    (FIGROWS: cp_month_rows_t) to show beside its own rows, cell by cell
    (cp_figures_row_differences).  docs/design.md, section 10.7, has the
    model.                                                                  */

#ifndef CP_FIGURES_H_INCLUDED
#define CP_FIGURES_H_INCLUDED

#include "cp_tally.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_FIGURES_DIGEST_SIZE 16       //  bytes of a month's digest
#define CP_FIGURES_MONTHS CP_TALLY_MONTHS   //  months a set of figures may hold

//  One month's digest.
typedef struct {
    int32_t month;                      //  cp_tally_month's number (0: 2000-01)
    uint8_t digest [CP_FIGURES_DIGEST_SIZE];
} cp_month_digest_t;

//  A municipality's figures as digests: one per month that has a row, in
//  increasing month order.  About 24 KiB: allocate it, do not put it on a
//  small stack.
typedef struct {
    uint64_t as_of;                     //  the node's log applied up to here
    uint32_t count;                     //  months
    cp_month_digest_t months [CP_FIGURES_MONTHS];
} cp_month_digests_t;

//  Months one request for the central's rows may name: two years' worth,
//  enough to see what went wrong, small enough for one message.
#define CP_FIGURES_ASK_MAX 24

//  One month's stored row (cp_tally's stored form), as one side holds it.
typedef struct {
    int32_t month;
    uint16_t size;                      //  bytes of row; 0: no row on that side
    uint8_t row [CP_TALLY_ROW_ENCODED_MAX];
} cp_month_row_t;

//  Rows of a municipality's months (about 119 KiB: allocate it).
typedef struct {
    uint64_t as_of;                     //  the node's log applied up to here
    uint32_t count;
    cp_month_row_t months [CP_FIGURES_ASK_MAX];
} cp_month_rows_t;

//  A cell whose counts differ between two rows of one month.
typedef struct {
    uint16_t cell;                      //  cp_tally's cell number
    int64_t ours, theirs;
} cp_cell_difference_t;

//  The digest of a stored row (size bytes) into digest
//  (CP_FIGURES_DIGEST_SIZE bytes).
void
    cp_figures_digest (const uint8_t *row, size_t size, uint8_t *digest);

//  Adds month's stored row (size bytes) to figures, after its last month.
//  A row of no cell is skipped.  Returns 0, or CP_EMALFORMED for a month
//  out of range or not after the last one, or a row that is not one.
int
    cp_figures_add (cp_month_digests_t *figures, int32_t month, const uint8_t *row,
                    size_t size);

//  The months in which ours and theirs differ, in increasing order: a
//  digest that differs, or a month that only one of them has.  Writes them
//  into differ (room for 2 * CP_FIGURES_MONTHS) and returns how many.
size_t
    cp_figures_compare (const cp_month_digests_t *ours, const cp_month_digests_t *theirs,
                        int32_t *differ);

//  Writes months (count of them, cp_tally numbers) as "YYYY-MM YYYY-MM ..."
//  into text (size bytes, at least 16): as many as fit, then "+N more" for
//  the rest.  An empty list is an empty text.
void
    cp_figures_periods (const int32_t *months, size_t count, char *text, size_t size);

//  A digest of the whole set (its months and their digests, not as_of)
//  into fingerprint (CP_FIGURES_DIGEST_SIZE bytes): the same fingerprint,
//  the same figures.
void
    cp_figures_fingerprint (const cp_month_digests_t *figures, uint8_t *fingerprint);

//  The cells in which the stored rows ours and theirs (size bytes each; 0:
//  no row, all zero) differ, in cell order, into differences (room for
//  CP_CELLS).  Returns how many, or -1 when either is not a row.
int
    cp_figures_row_differences (const uint8_t *ours, size_t our_size, const uint8_t *theirs,
                                size_t their_size, cp_cell_difference_t *differences);

#endif
