/*  cp_view: the caseload view of a period, computed from tally rows, and its
    JSON, table and CSV forms.

    The caller sums the stored rows of its scope into two rows: the months
    before the period's start, and the months within it (cp_view_add_encoded
    sorts a row into the right one).  Periods are whole months.  cp_view_figures then folds them into the
    figures of docs/events.md under one catalogue version.                    */

#ifndef CP_VIEW_H_INCLUDED
#define CP_VIEW_H_INCLUDED

#include "cp_catalogue.h"
#include "cp_date.h"
#include "cp_tally.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

//  The breakdowns of a view, in the order docs/events.md lists them.
typedef enum {
    CP_BREAKDOWN_NEW_AGE_GROUP,
    CP_BREAKDOWN_NEW_SEX,
    CP_BREAKDOWN_NEW_ETHNICITY,
    CP_BREAKDOWN_NEW_REFERRAL,
    CP_BREAKDOWN_CLOSED_REASON,
    CP_BREAKDOWN_MANAGED_RISK,
    CP_BREAKDOWN_MANAGED_PROBLEM,
    CP_BREAKDOWN_MEASURES_TAKEN,
    CP_BREAKDOWN_MEASURES_CONFIRMED,
    CP_BREAKDOWN_SCHOOL,
    CP_BREAKDOWN_COUNT
} cp_breakdown_t;

typedef struct {
    cp_period_t period;
    char scope [64];                //  "national", "county:CODE", "municipality:CODE"
    int municipalities_reporting;
    cp_tally_row_t before;          //  sum of the rows of months before the start
    cp_tally_row_t within;          //  sum of the rows of months in the period
} cp_view_t;

typedef struct {
    int catalogue;                  //  version the figures are computed under
    int64_t managed, opened, closed, home_visits;
    int64_t breakdowns [CP_BREAKDOWN_COUNT][CP_SLOTS];  //  by code id, "none" last
} cp_figures_t;

//  The cells of a view's figures, numbered: the four totals, then each
//  breakdown's slots (a code id, or CP_SLOT_NONE).  What disclosure
//  control (cp_suppress) hides and the printers show as "c".
#define CP_VIEW_MANAGED 0
#define CP_VIEW_NEW 1
#define CP_VIEW_CLOSED 2
#define CP_VIEW_HOME_VISITS 3
#define CP_VIEW_CELLS (4 + CP_BREAKDOWN_COUNT * CP_SLOTS)

static inline int
cp_view_cell (int breakdown, int slot)
{
    return 4 + breakdown * CP_SLOTS + slot;
}

//  A cell's figure.
int64_t
    cp_view_cell_value (const cp_figures_t *figures, int cell);

//  True when the cell is a figure of views under catalogue version
//  (a code that version has, or the "none" of a breakdown that has one).
bool
    cp_view_cell_exists (const cp_catalogue_t *catalogue, int version, int cell);

//  The total a breakdown adds up to (CP_VIEW_NEW, CP_VIEW_MANAGED,
//  CP_VIEW_CLOSED), or -1 for one that has none in a view.
int
    cp_breakdown_total (cp_breakdown_t breakdown);

//  The cells a cell is bound to by a view's rows: the total it adds up to
//  (a total is its own), or the cell itself when it is in no row.
int
    cp_view_cell_family (int cell);

//  Hidden cells of a view, for what is published: NULL shows every figure.
typedef struct {
    const bool *hidden;             //  CP_VIEW_CELLS flags
    const char *note;               //  what was applied, said once in the output
} cp_view_mask_t;

//  Starts a view: zero rows, the period and the scope.
void
    cp_view_init (cp_view_t *self, const cp_period_t *period, const char *scope);

//  Adds a stored row of a month (encoded, size bytes) to the view; rows
//  after the period's end are ignored.  Returns 0 or CP_EMALFORMED.
int
    cp_view_add_encoded (cp_view_t *self, int32_t month, const uint8_t *data, size_t size);

//  The last month whose row the view needs.
int32_t
    cp_view_last_month (const cp_view_t *self);

//  Computes the figures under catalogue version `version` (≤ the catalogue's
//  own), folding codes that version does not know into "other".
void
    cp_view_figures (const cp_view_t *self, const cp_catalogue_t *catalogue, int version,
                     cp_figures_t *figures);

//  Writes the JSON form of docs/events.md (indented, then a newline).
int
    cp_view_print_json (const cp_view_t *self, const cp_figures_t *figures,
                        const cp_catalogue_t *catalogue, FILE *out);

//  Writes an aligned table for people, with labels in lang ("sq" or "en").
int
    cp_view_print_table (const cp_view_t *self, const cp_figures_t *figures,
                         const cp_catalogue_t *catalogue, const char *lang, FILE *out);

//  Writes the table with the published figures of a report (JSON text in
//  the form of report-2022.json; a code it lacks counts as 0) beside ours,
//  and a mark on every row where they differ.  Returns the number of rows
//  that differ, or -1 when the report is not JSON.
int
    cp_view_print_comparison (const cp_view_t *self, const cp_figures_t *figures,
                              const cp_catalogue_t *catalogue, const char *lang,
                              const char *report, FILE *out);

//  Writes the view in format "json", "table" or "csv" (labels in lang).
//  Returns 0, CP_EUSAGE for another format, or CP_EIO.  cp_view_print_masked
//  shows the cells mask hides as "c" (a string in JSON), and its note (in
//  JSON as "suppression", in a table and CSV in a line of their own); a
//  table then gives a breakdown's total as "c" when it holds a hidden cell.
int
    cp_view_print (const cp_view_t *self, const cp_figures_t *figures,
                   const cp_catalogue_t *catalogue, const char *format, const char *lang,
                   FILE *out);
int
    cp_view_print_masked (const cp_view_t *self, const cp_figures_t *figures,
                          const cp_catalogue_t *catalogue, const char *format,
                          const char *lang, const cp_view_mask_t *mask, FILE *out);

//  Writes CSV: indicator,code,label,value (labels in lang).
int
    cp_view_print_csv (const cp_view_t *self, const cp_figures_t *figures,
                       const cp_catalogue_t *catalogue, const char *lang, FILE *out);

//  The JSON key, dimension and "none" code ("unassessed", or NULL) of a breakdown.
const char *
    cp_breakdown_key (cp_breakdown_t breakdown);
cp_dim_t
    cp_breakdown_dim (cp_breakdown_t breakdown);
const char *
    cp_breakdown_none (cp_breakdown_t breakdown);

#endif
