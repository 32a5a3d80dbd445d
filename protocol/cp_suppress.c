/*  cp_suppress: disclosure control for published figures.                 */

#include "cp_suppress.h"
#include "cp_error.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_EPSILON 1e-9          //  coefficients are small integers: anything nearer 0 is 0
#define S_ZERO_RANK ((int64_t) 1 << 39)  //  a cell of 0, when the cell to hide is chosen
#define S_KNOWN_EPSILON 1e-6    //  what is left of a combination the periods know
#define S_TERMS_MAX 128         //  a row: a total and its codes; a sum: a parent and its children

//  A chain joins three families (managed, new, closed); a period's leaves'
//  system has a block of columns for each, and for the carried cases in
//  and out.
#define S_CHAIN_FAMILIES 3
#define S_CHAIN_BLOCKS (S_CHAIN_FAMILIES + 2)

//  One equation between cells: the sum of coefficient x cell is 0.
typedef struct {
    int count;
    int unit [S_TERMS_MAX];
    int cell [S_TERMS_MAX];
    int sign [S_TERMS_MAX];
} s_equation_t;

//  What the other periods of a chain tell of the cases carried across
//  one end of a period: rows of coefficients by unit without children
//  (leaf), each a combination whose value they give.
typedef struct {
    double *rows;               //  count rows of leaves coefficients
    size_t count;
    unsigned version;           //  one more at every change of the rows
} s_known_t;

typedef struct s_self {
    const cp_figures_t *units;          //  of the period at hand
    const int *parent;
    int count;
    bool exists [CP_VIEW_CELLS];        //  cells of the catalogue version
    cp_suppressed_t *suppressed;        //  of the period at hand
    bool *this_round;                   //  by unit * CP_VIEW_CELLS + cell: see s_protect
    bool chained;                       //  the rule of a round: see s_protect
    bool *has_children;                 //  by unit: it is some unit's parent
    int *height;                        //  by unit: 0 without children, else 1 + its children's
    int *leaf_of;                       //  by unit: its place among the leaves, or -1
    int *unit_of_leaf;                  //  by leaf: its unit
    int leaves;
    s_equation_t *equations;            //  of the group at hand
    size_t equations_size, equations_alloc;
    //  Kept from round to round: a matrix freed and allocated again was
    //  mapped afresh each time, and its page faults took half the time.
    double *matrix;
    size_t matrix_alloc;
    int *pivot_of_row;
    size_t pivots_alloc;
    size_t *nonzero;                    //  the pivot row's nonzero columns
    size_t nonzero_alloc;
} s_self_t;

static bool
s_hidden (const s_self_t *self, int unit, int cell)
{
    return self->suppressed [unit].hidden [cell];
}

static s_equation_t *
s_new_equation (s_self_t *self)
{
    if (self->equations_size == self->equations_alloc) {
        self->equations_alloc = self->equations_alloc? 2 * self->equations_alloc: 256;
        self->equations = realloc (self->equations,
                                   self->equations_alloc * sizeof (s_equation_t));
        assert (self->equations);
    }
    s_equation_t *equation = &self->equations [self->equations_size++];
    equation->count = 0;
    return equation;
}

static void
s_term (s_equation_t *equation, int unit, int cell, int sign)
{
    assert (equation->count < S_TERMS_MAX);
    equation->unit [equation->count] = unit;
    equation->cell [equation->count] = cell;
    equation->sign [equation->count++] = sign;
}

//  The group a family of cells is solved in: in a chain of periods the
//  managed, new and closed cases are bound by the cases carried between
//  periods, so their three families are one group; any other family is a
//  group of its own.
static int
s_group (int family, bool chain)
{
    return chain && (family == CP_VIEW_NEW || family == CP_VIEW_CLOSED)? CP_VIEW_MANAGED
                                                                      : family;
}

static bool
s_in_group (int cell, int group, bool chain)
{
    return s_group (cp_view_cell_family (cell), chain) == group;
}

//  The equations of one group of cells: each unit's rows, each parent's
//  sums.  (Those of the cases carried between periods are the chain's:
//  s_leaves_system, s_choose_across.)
static void
s_equations (s_self_t *self, int group, bool chain)
{
    self->equations_size = 0;
    for (int unit = 0; unit < self->count; unit++)
        for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++) {
            int total = cp_breakdown_total (breakdown);
            if (total < 0 || s_group (total, chain) != group)
                continue;
            s_equation_t *row = s_new_equation (self);
            s_term (row, unit, total, +1);
            for (int slot = 0; slot < CP_SLOTS; slot++) {
                int cell = cp_view_cell (breakdown, slot);
                if (self->exists [cell])
                    s_term (row, unit, cell, -1);
            }
        }
    for (int top = 0; top < self->count; top++) {
        if (!self->has_children [top])
            continue;
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            if (!self->exists [cell] || !s_in_group (cell, group, chain))
                continue;
            s_equation_t *sum = s_new_equation (self);
            s_term (sum, top, cell, +1);
            for (int unit = 0; unit < self->count; unit++)
                if (self->parent [unit] == top)
                    s_term (sum, unit, cell, -1);
        }
    }
}

//  Makes self's matrix hold rows x width, and its pivots rows.
static void
s_reserve (s_self_t *self, size_t rows, size_t width)
{
    if (rows * width > self->matrix_alloc) {
        free (self->matrix);
        //  Rounds add a column or a few at a time: grow by half at least.
        self->matrix_alloc = rows * width + self->matrix_alloc / 2;
        self->matrix = malloc (self->matrix_alloc * sizeof (double));
        assert (self->matrix);
    }
    if (width + 1 > self->nonzero_alloc) {
        free (self->nonzero);
        self->nonzero_alloc = width + 1 + self->nonzero_alloc / 2;
        self->nonzero = malloc (self->nonzero_alloc * sizeof (size_t));
        assert (self->nonzero);
    }
    if (rows + 1 > self->pivots_alloc) {
        free (self->pivot_of_row);
        self->pivots_alloc = rows + 1 + self->pivots_alloc / 2;
        self->pivot_of_row = malloc (self->pivots_alloc * sizeof (int));
        assert (self->pivot_of_row);
    }
    if (rows > 0)
        memset (self->matrix, 0, rows * width * sizeof (double));
}

//  Reduces self's matrix of rows x width to reduced row echelon form by
//  Gauss-Jordan elimination with partial pivoting, the pivots' columns in
//  self->pivot_of_row.  Returns the rank.
static size_t
s_gauss_jordan (s_self_t *self, size_t rows, size_t width)
{
    double *matrix = self->matrix;
    size_t rank = 0;
    for (size_t column = 0; column < width && rank < rows; column++) {
        size_t best = rank;
        for (size_t at = rank + 1; at < rows; at++)
            if (fabs (matrix [at * width + column]) > fabs (matrix [best * width + column]))
                best = at;
        if (fabs (matrix [best * width + column]) < S_EPSILON)
            continue;
        if (best != rank)
            for (size_t at = 0; at < width; at++) {
                double swap = matrix [best * width + at];
                matrix [best * width + at] = matrix [rank * width + at];
                matrix [rank * width + at] = swap;
            }
        //  The equations hold a few terms each, and their rows stay
        //  sparse: each row is updated at the pivot row's nonzero columns
        //  alone (what is nearer 0 than S_EPSILON is made 0, not kept).
        double *pivot_row = matrix + rank * width;
        double scale = pivot_row [column];
        size_t nonzero = 0;
        for (size_t at = column; at < width; at++) {
            pivot_row [at] /= scale;
            if (fabs (pivot_row [at]) < S_EPSILON)
                pivot_row [at] = 0;
            else
                self->nonzero [nonzero++] = at;
        }
        for (size_t other = 0; other < rows; other++) {
            double *row_of = matrix + other * width;
            double factor = row_of [column];
            if (other == rank || fabs (factor) < S_EPSILON)
                continue;
            for (size_t at = 0; at < nonzero; at++)
                row_of [self->nonzero [at]] -= factor * pivot_row [self->nonzero [at]];
            row_of [column] = 0;
        }
        self->pivot_of_row [rank++] = (int) column;
    }
    return rank;
}

//  Reduces the equations of self, restricted to the unknowns (column_of
//  gives each hidden cell's column, of width; -1 for the others), to
//  reduced row echelon form in self->matrix.  Returns the rank.
static size_t
s_reduce (s_self_t *self, const int *column_of, size_t width)
{
    size_t rows = 0;
    for (size_t index = 0; index < self->equations_size; index++) {
        const s_equation_t *equation = &self->equations [index];
        for (int term = 0; term < equation->count; term++)
            if (column_of [equation->unit [term] * CP_VIEW_CELLS + equation->cell [term]] >= 0) {
                rows++;
                break;
            }
    }
    s_reserve (self, rows, width);
    size_t row = 0;
    for (size_t index = 0; index < self->equations_size; index++) {
        const s_equation_t *equation = &self->equations [index];
        bool touches = false;
        for (int term = 0; term < equation->count; term++) {
            int column = column_of [equation->unit [term] * CP_VIEW_CELLS + equation->cell [term]];
            if (column >= 0) {
                self->matrix [row * width + (size_t) column] += equation->sign [term];
                touches = true;
            }
        }
        row += touches;
    }
    return s_gauss_jordan (self, rows, width);
}

//  Marks in determined [column] every hidden cell (by column, of cells)
//  that the equations fix: a cell is fixed when its unit vector is a row
//  of the reduced form.  Returns how many.
static int
s_determined (s_self_t *self, const int *column_of, int cells, bool *determined)
{
    size_t rank = s_reduce (self, column_of, (size_t) cells);
    int found = 0;
    memset (determined, 0, (size_t) cells * sizeof (bool));
    for (size_t at = 0; at < rank; at++) {
        const double *row_of = self->matrix + at * (size_t) cells;
        int pivot = self->pivot_of_row [at];
        bool alone = true;
        for (int column = 0; column < cells && alone; column++)
            alone = column == pivot || fabs (row_of [column]) < S_EPSILON;
        if (alone) {
            determined [pivot] = true;
            found++;
        }
    }
    return found;
}

//  Which shown cell to hide first, the lowest rank first.  A cell of 0
//  tells least when hidden: the smallest above it first.  And a
//  municipality's before a county's, a county's before the nation's: the
//  higher a figure, the more readers it has (and in a chain of periods
//  one of the nation's totals hidden takes its neighbours' with it).
static int64_t
s_rank (const s_self_t *self, const cp_figures_t *units, int unit, int cell)
{
    int64_t value = cp_view_cell_value (&units [unit], cell);
    return ((int64_t) self->height [unit] << 40)
         + (value > 0 && value < S_ZERO_RANK? value: S_ZERO_RANK);
}

static void
s_hide (cp_suppressed_t *suppressed, int unit, int cell)
{
    suppressed [unit].hidden [cell] = true;
    suppressed [unit].secondary++;
}

//  A shown cell that could be hidden, and its rank (s_rank).
typedef struct {
    int period, unit, cell;             //  unit -1: none
    int64_t rank;
} s_choice_t;

static void
s_consider (s_choice_t *choice, int period, int unit, int cell, int64_t rank)
{
    if (choice->unit < 0 || rank < choice->rank)
        *choice = (s_choice_t) {period, unit, cell, rank};
}

//  The first shown cell (s_rank) of an equation that holds (unit, cell),
//  or when anywhere, of any equation of the group that holds a hidden
//  cell, into choice (of period 0: the one self is at).
static void
s_choose_in_equations (const s_self_t *self, int unit, int cell, bool anywhere,
                       s_choice_t *choice)
{
    for (size_t index = 0; index < self->equations_size; index++) {
        const s_equation_t *equation = &self->equations [index];
        bool holds = false;
        for (int term = 0; term < equation->count && !holds; term++)
            holds = anywhere
                  ? s_hidden (self, equation->unit [term], equation->cell [term])
                  : equation->unit [term] == unit && equation->cell [term] == cell;
        for (int term = 0; holds && term < equation->count; term++) {
            int at_unit = equation->unit [term], at_cell = equation->cell [term];
            if (!s_hidden (self, at_unit, at_cell))
                s_consider (choice, 0, at_unit, at_cell,
                            s_rank (self, self->units, at_unit, at_cell));
        }
    }
}

//  Hides the first shown cell of an equation that holds (unit, cell);
//  failing that, of any equation of the group that holds a hidden cell.
//  Returns false when no shown cell is left to hide.
static bool
s_hide_beside (s_self_t *self, int unit, int cell)
{
    s_choice_t choice = {0, -1, -1, 0};
    s_choose_in_equations (self, unit, cell, false, &choice);
    if (choice.unit < 0)
        s_choose_in_equations (self, unit, cell, true, &choice);
    if (choice.unit < 0)
        return false;
    s_hide (self->suppressed, choice.unit, choice.cell);
    self->this_round [choice.unit * CP_VIEW_CELLS + choice.cell] = true;
    return true;
}

//  True when an equation holds both (unit, cell) and a cell of this round.
static bool
s_beside_this_round (const s_self_t *self, int unit, int cell)
{
    for (size_t index = 0; index < self->equations_size; index++) {
        const s_equation_t *equation = &self->equations [index];
        bool holds = false, beside = false;
        for (int term = 0; term < equation->count; term++) {
            holds |= equation->unit [term] == unit && equation->cell [term] == cell;
            beside |= self->this_round [equation->unit [term] * CP_VIEW_CELLS
                                        + equation->cell [term]];
        }
        if (holds && beside)
            return true;
    }
    return false;
}

//  What a result of a period was worked out from: its hidden cells of the
//  group (how many) and the versions of what it was told of its ends.
typedef struct {
    int cells;
    unsigned in, out;
    int found;
} s_stamp_t;

static bool
s_stamp_holds (const s_stamp_t *stamp, int cells, unsigned in, unsigned out)
{
    return stamp->cells == cells && stamp->in == in && stamp->out == out;
}

//  The families a chain joins, in the order of their blocks of columns.
static const int s_chain_families [S_CHAIN_FAMILIES] = {
    CP_VIEW_MANAGED, CP_VIEW_NEW, CP_VIEW_CLOSED
};

//  What one family of one period (the managed, new or closed cases and
//  their breakdowns, every unit's) tells when it is reduced alone with
//  its leaves' totals last: the combinations of those totals its
//  equations fix (each a row of coefficients by leaf), and every hidden
//  cell that its equations make a combination of them and nothing else
//  hidden.  Only those cells can be determined in the chain: the
//  equations of the other families and periods meet this family at its
//  leaves' totals alone.
typedef struct {
    int cells;                          //  its hidden cells when reduced, or -1
    double *fixed;                      //  fixed_count rows of leaves coefficients
    size_t fixed_count;
    int *unit, *cell;                   //  of each cell so expressed
    double *expressed;                  //  expressed_count rows of leaves coefficients
    size_t expressed_count;
    int *alone_unit, *alone_cell;       //  the cells its equations alone determine
    size_t alone_count;
    size_t alloc;                       //  rows each of those can hold
} s_family_t;

//  The periods of a chain, and what each is given of its neighbours.
typedef struct {
    const cp_figures_t *units;          //  periods x count
    cp_suppressed_t *suppressed;        //  periods x count
    int periods;                        //  in the chain so far
    int last;                           //  the one period cells may still be hidden in
    s_known_t *in, *out;                //  by period: what the others tell of its ends
    s_family_t *families;               //  by period x S_CHAIN_FAMILIES
    //  What each period's last results were worked out from, by period:
    //  a period's hidden cells only grow in number, so their count and the
    //  versions of what the period was told say whether a result stands.
    s_stamp_t *told_in, *told_out;      //  what it told its next period, its last
    s_stamp_t *checked;                 //  its last determination (found: how many)
    s_known_t told;                     //  a result worked out, before it is compared
    struct s_self *alone;               //  for each family of a period alone
    bool *touched;                      //  by period: a cell hidden in it this round
    int *column_of, *unit_of, *cell_of; //  columns of the matrix at hand
} s_periods_t;

//  Points self at a period's figures and hidden cells.
static void
s_at_period (s_self_t *self, const s_periods_t *periods, int period)
{
    self->units = periods->units + (size_t) period * (size_t) self->count;
    self->suppressed = periods->suppressed + (size_t) period * (size_t) self->count;
}

//  Points self at period's figures and hidden cells, and numbers the hidden
//  cells of family (column_of, unit_of, cell_of); returns how many.
static int
s_period_columns (s_self_t *self, const s_periods_t *periods, int period, int family,
                  int *column_of, int *unit_of, int *cell_of)
{
    s_at_period (self, periods, period);
    int columns = 0;
    for (int unit = 0; unit < self->count; unit++)
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            int key = unit * CP_VIEW_CELLS + cell;
            column_of [key] = -1;
            if (self->exists [cell] && cp_view_cell_family (cell) == family
            &&  s_hidden (self, unit, cell)) {
                unit_of [columns] = unit;
                cell_of [columns] = cell;
                column_of [key] = columns++;
            }
        }
    return columns;
}

//  Makes a family's rows hold at least rows of leaves coefficients.
static void
s_family_reserve (s_family_t *family, size_t rows, int leaves)
{
    if (rows <= family->alloc)
        return;
    family->alloc = rows + family->alloc / 2;
    family->fixed = realloc (family->fixed, family->alloc * (size_t) leaves * sizeof (double));
    family->expressed = realloc (family->expressed,
                                 family->alloc * (size_t) leaves * sizeof (double));
    family->unit = realloc (family->unit, family->alloc * sizeof (int));
    family->cell = realloc (family->cell, family->alloc * sizeof (int));
    family->alone_unit = realloc (family->alone_unit, family->alloc * sizeof (int));
    family->alone_cell = realloc (family->alone_cell, family->alloc * sizeof (int));
    assert (family->fixed && family->expressed && family->unit && family->cell
         && family->alone_unit && family->alone_cell);
}

//  Reduces a family of a period alone (s_family_t), unless its hidden
//  cells are those it was last reduced with.  Returns how many of its
//  cells its equations alone determine.
static int
s_family_reduce (s_self_t *self, s_periods_t *periods, int period, int which)
{
    int *column_of = periods->column_of, *unit_of = periods->unit_of;
    int *cell_of = periods->cell_of;
    s_family_t *family = &periods->families [period * S_CHAIN_FAMILIES + which];
    int total = s_chain_families [which];
    s_at_period (self, periods, period);
    //  The hidden cells but the leaves' totals first, then a column for
    //  each leaf's total (none for a shown one).
    int cells = 0, hidden = 0;
    for (int unit = 0; unit < self->count; unit++)
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            int key = unit * CP_VIEW_CELLS + cell;
            column_of [key] = -1;
            if (!self->exists [cell] || cp_view_cell_family (cell) != total
            ||  !s_hidden (self, unit, cell))
                continue;
            hidden++;
            if (cell == total && self->leaf_of [unit] >= 0)
                continue;
            unit_of [cells] = unit;
            cell_of [cells] = cell;
            column_of [key] = cells++;
        }
    if (family->cells == hidden)
        return (int) family->alone_count;
    family->cells = hidden;
    for (int unit = 0; unit < self->count; unit++)
        if (self->leaf_of [unit] >= 0 && s_hidden (self, unit, total))
            column_of [unit * CP_VIEW_CELLS + total] = cells + self->leaf_of [unit];
    s_equations (self, total, false);
    size_t width = (size_t) cells + (size_t) self->leaves;
    size_t rank = s_reduce (self, column_of, width);
    s_family_reserve (family, rank + 1, self->leaves);
    family->fixed_count = family->expressed_count = family->alone_count = 0;
    size_t leaves_size = (size_t) self->leaves * sizeof (double);
    for (size_t at = 0; at < rank; at++) {
        const double *row_of = self->matrix + at * width;
        int pivot = self->pivot_of_row [at];
        //  The row's nonzero columns: of the cells before the leaves'
        //  totals (but the pivot), and of those totals.
        bool cells_alone = true, totals_none = true;
        for (int column = pivot < cells? 0: cells; column < cells && cells_alone; column++)
            cells_alone = column == pivot || fabs (row_of [column]) < S_EPSILON;
        for (size_t column = (size_t) cells; column < width && totals_none; column++)
            totals_none = (int) column == pivot || fabs (row_of [column]) < S_EPSILON;
        if (cells_alone && totals_none) {
            int leaf = pivot - cells;
            family->alone_unit [family->alone_count] = pivot < cells? unit_of [pivot]
                                                                    : self->unit_of_leaf [leaf];
            family->alone_cell [family->alone_count++] = pivot < cells? cell_of [pivot]: total;
        }
        if (pivot >= cells)
            memcpy (family->fixed + family->fixed_count++ * (size_t) self->leaves,
                    row_of + cells, leaves_size);
        else
        if (cells_alone) {
            family->unit [family->expressed_count] = unit_of [pivot];
            family->cell [family->expressed_count] = cell_of [pivot];
            memcpy (family->expressed + family->expressed_count++ * (size_t) self->leaves,
                    row_of + cells, leaves_size);
        }
    }
    return (int) family->alone_count;
}

//  A period of a chain at the level of its leaves (columns: each family's
//  leaves' totals, a block of leaves columns each, then the carried cases
//  in and out): what its families fix of those totals, the carried cases
//  (managed - new = carried in, managed - closed = carried out, a shown
//  total being a known value), and what is known of its ends (in, out:
//  NULL for nothing), reduced with the carried cases in last when in_last,
//  else those out last.  Returns the rank; the reduced form is in
//  self->matrix, of S_CHAIN_BLOCKS x leaves columns.
static size_t
s_leaves_system (s_self_t *self, const s_periods_t *periods, int period, const s_known_t *in,
                 const s_known_t *out, bool in_last)
{
    size_t leaves = (size_t) self->leaves, width = S_CHAIN_BLOCKS * leaves;
    const s_family_t *families = periods->families + period * S_CHAIN_FAMILIES;
    size_t rows = 2 * leaves + (in? in->count: 0) + (out? out->count: 0);
    for (int which = 0; which < S_CHAIN_FAMILIES; which++)
        rows += families [which].fixed_count;
    s_reserve (self, rows, width);
    double *matrix = self->matrix;
    size_t in_at = (in_last? S_CHAIN_FAMILIES + 1: S_CHAIN_FAMILIES) * leaves;
    size_t out_at = (in_last? S_CHAIN_FAMILIES: S_CHAIN_FAMILIES + 1) * leaves;
    size_t row = 0;
    for (int which = 0; which < S_CHAIN_FAMILIES; which++)
        for (size_t at = 0; at < families [which].fixed_count; at++, row++)
            memcpy (matrix + row * width + (size_t) which * leaves,
                    families [which].fixed + at * leaves, leaves * sizeof (double));
    s_at_period (self, periods, period);
    for (int unit = 0; unit < self->count; unit++) {
        if (self->leaf_of [unit] < 0)
            continue;
        size_t leaf = (size_t) self->leaf_of [unit];
        double *carried_in = matrix + row++ * width, *carried_out = matrix + row++ * width;
        if (s_hidden (self, unit, CP_VIEW_MANAGED))
            carried_in [leaf] = carried_out [leaf] = 1;
        if (s_hidden (self, unit, CP_VIEW_NEW))
            carried_in [leaves + leaf] = -1;
        if (s_hidden (self, unit, CP_VIEW_CLOSED))
            carried_out [2 * leaves + leaf] = -1;
        carried_in [in_at + leaf] = -1;
        carried_out [out_at + leaf] = -1;
    }
    for (int end = 0; end < 2; end++) {
        const s_known_t *known = end == 0? in: out;
        size_t at = end == 0? in_at: out_at;
        for (size_t index = 0; known && index < known->count; index++, row++)
            memcpy (matrix + row * width + at, known->rows + index * leaves,
                    leaves * sizeof (double));
    }
    return s_gauss_jordan (self, rows, width);
}

//  Whether a combination of the leaves' totals (vector, of the width of
//  s_leaves_system's columns, changed) lies in the row space of the
//  reduced form in self->matrix: then its value is known.  What is left
//  after each pivot's row is taken away is compared with 0 more loosely
//  than a pivot is: a value taken for known wrongly hides one cell more,
//  one taken for unknown wrongly would publish it.
static bool
s_in_row_space (const s_self_t *self, size_t rank, double *vector, size_t width)
{
    for (size_t at = 0; at < rank; at++) {
        size_t pivot = (size_t) self->pivot_of_row [at];
        double factor = vector [pivot];
        if (factor == 0)
            continue;
        const double *row_of = self->matrix + at * width;
        for (size_t column = pivot; column < width; column++)
            vector [column] -= factor * row_of [column];
    }
    for (size_t column = 0; column < width; column++)
        if (fabs (vector [column]) > S_KNOWN_EPSILON)
            return false;
    return true;
}

//  A determined cell of a period of a chain.
typedef struct {
    int period, unit, cell;
} s_found_t;

typedef struct {
    s_found_t *cells;
    size_t size, alloc;
} s_founds_t;

static void
s_found (s_founds_t *found, int period, int unit, int cell)
{
    if (found->size == found->alloc) {
        found->alloc = found->alloc? 2 * found->alloc: 256;
        found->cells = realloc (found->cells, found->alloc * sizeof (s_found_t));
        assert (found->cells);
    }
    found->cells [found->size++] = (s_found_t) {period, unit, cell};
}

//  Adds to found the cells of a period that the chain determines (its
//  families reduced, what it is told of its ends up to date): a hidden
//  leaf's total, or a cell its family expresses by leaves' totals, whose
//  combination the period's leaves' system knows.  Returns how many.
static int
s_chain_determined (s_self_t *self, const s_periods_t *periods, int period, s_founds_t *found)
{
    size_t rank = s_leaves_system (self, periods, period, &periods->in [period],
                                   &periods->out [period], false);
    size_t leaves = (size_t) self->leaves, width = S_CHAIN_BLOCKS * leaves;
    double *vector = malloc (width * sizeof (double));
    assert (vector);
    s_at_period (self, periods, period);
    int now = 0;
    for (int which = 0; which < S_CHAIN_FAMILIES; which++) {
        const s_family_t *family = &periods->families [period * S_CHAIN_FAMILIES + which];
        int total = s_chain_families [which];
        for (size_t at = 0; at < family->expressed_count; at++) {
            memset (vector, 0, width * sizeof (double));
            memcpy (vector + (size_t) which * leaves, family->expressed + at * leaves,
                    leaves * sizeof (double));
            if (s_in_row_space (self, rank, vector, width)) {
                s_found (found, period, family->unit [at], family->cell [at]);
                now++;
            }
        }
        for (int unit = 0; unit < self->count; unit++) {
            if (self->leaf_of [unit] < 0 || !s_hidden (self, unit, total))
                continue;
            memset (vector, 0, width * sizeof (double));
            vector [(size_t) which * leaves + (size_t) self->leaf_of [unit]] = 1;
            if (s_in_row_space (self, rank, vector, width)) {
                s_found (found, period, unit, total);
                now++;
            }
        }
    }
    free (vector);
    return now;
}

//  Whether two tellings of an end hold the same rows (a reduced form is
//  one for its row space: the same rows, the same constraints).
static bool
s_known_equal (const s_known_t *one, const s_known_t *other, int leaves)
{
    if (one->count != other->count)
        return false;
    for (size_t at = 0; at < one->count * (size_t) leaves; at++)
        if (fabs (one->rows [at] - other->rows [at]) > S_EPSILON)
            return false;
    return true;
}

//  What a period tells of the cases carried across its out end (or its in
//  end, when back), from its leaves' system and what is known of the
//  other end: the rows of the reduced form that hold that end alone; put
//  into into, whose version changes when they differ from what it holds.
static void
s_tell (s_self_t *self, s_periods_t *periods, int period, bool back, s_known_t *into)
{
    size_t rank = s_leaves_system (self, periods, period, back? NULL: &periods->in [period],
                                   back? &periods->out [period]: NULL, back);
    size_t leaves = (size_t) self->leaves, width = S_CHAIN_BLOCKS * leaves;
    size_t last = (S_CHAIN_BLOCKS - 1) * leaves;
    s_known_t *told = &periods->told;
    told->count = 0;
    for (size_t at = 0; at < rank; at++)
        if ((size_t) self->pivot_of_row [at] >= last)
            memcpy (told->rows + told->count++ * leaves, self->matrix + at * width + last,
                    leaves * sizeof (double));
    if (s_known_equal (told, into, self->leaves))
        return;
    double *rows = into->rows;
    into->rows = told->rows;
    into->count = told->count;
    into->version++;
    told->rows = rows;
}

//  The hidden cells of the chain's families in a period, as last reduced.
static int
s_chain_cells (const s_periods_t *periods, int period)
{
    int cells = 0;
    for (int which = 0; which < S_CHAIN_FAMILIES; which++)
        cells += periods->families [period * S_CHAIN_FAMILIES + which].cells;
    return cells;
}

//  What each period of a chain is told of its ends by the others, with
//  the cells hidden now (its families reduced): forward, what the periods
//  before tell of the cases carried in (nothing is carried into the
//  first); back, what those after tell of the cases carried out.  The
//  carried cases meet no other equation, so a period's neighbours tell it
//  nothing more.  A period whose hidden cells and whose other end are as
//  when it last told tells the same, and is not worked out again.
static void
s_tell_periods (s_self_t *self, s_periods_t *periods)
{
    int last = periods->periods - 1;
    for (int period = 0; period < last; period++) {
        int cells = s_chain_cells (periods, period);
        s_stamp_t *stamp = &periods->told_in [period];
        if (s_stamp_holds (stamp, cells, periods->in [period].version, 0))
            continue;
        *stamp = (s_stamp_t) {cells, periods->in [period].version, 0, 0};
        s_tell (self, periods, period, false, &periods->in [period + 1]);
    }
    for (int period = last; period > 0; period--) {
        int cells = s_chain_cells (periods, period);
        s_stamp_t *stamp = &periods->told_out [period];
        if (s_stamp_holds (stamp, cells, 0, periods->out [period].version))
            continue;
        *stamp = (s_stamp_t) {cells, 0, periods->out [period].version, 0};
        s_tell (self, periods, period, true, &periods->out [period - 1]);
    }
}

//  Hides more cells of a family of one period until none hidden is
//  determined, in at most rounds_max rounds, by the family's equations
//  (s_equations, made once for both rules).  Returns the rounds taken, or
//  -1 when that was not enough (then the cells hidden do not protect the
//  family).
static int
s_protect (s_self_t *self, s_periods_t *period, int family, int rounds_max)
{
    size_t slots = (size_t) self->count * CP_VIEW_CELLS;
    int *column_of = malloc (slots * sizeof (int));
    int *unit_of = malloc (slots * sizeof (int));
    int *cell_of = malloc (slots * sizeof (int));
    bool *determined = malloc (slots * sizeof (bool));
    self->this_round = malloc (slots * sizeof (bool));
    assert (column_of && unit_of && cell_of && determined && self->this_round);
    int rounds = 0;
    while (true) {
        if (rounds == rounds_max) {
            rounds = -1;
            break;
        }
        rounds++;
        int cells = s_period_columns (self, period, 0, family, column_of, unit_of, cell_of);
        if (cells == 0 || s_determined (self, column_of, cells, determined) == 0)
            break;
        //  One cell hidden per determined cell, but none for a cell that
        //  shares an equation with a cell of this round: what was hidden
        //  may have protected it already (the next round tells), and
        //  hiding more than needed only takes figures from the public.
        //  The cells of a round are those hidden in it, and when chained,
        //  the determined cells they were hidden for too (then a chain of
        //  determined cells gets one cell hidden a round, not one each).
        int hid = 0;
        memset (self->this_round, 0, slots * sizeof (bool));
        for (int column = 0; column < cells; column++) {
            if (!determined [column])
                continue;
            int unit = unit_of [column], cell = cell_of [column];
            if (!s_beside_this_round (self, unit, cell) && s_hide_beside (self, unit, cell)) {
                hid++;
                self->this_round [unit * CP_VIEW_CELLS + cell] = self->chained;
            }
        }
        if (!hid)
            break;              //  nothing shown is left that could help
    }
    free (column_of);
    free (unit_of);
    free (cell_of);
    free (determined);
    free (self->this_round);
    return rounds;
}

//  Each of the managed, new and closed cases' families of one period of a
//  chain protected alone, by the unchained rule (as s_protect), each
//  round's reduction the family's s_family_reduce, which the chain's
//  next round then finds done.
static void
s_protect_alone (s_periods_t *periods, int period)
{
    s_self_t *alone = periods->alone;
    size_t slots = (size_t) alone->count * CP_VIEW_CELLS;
    for (int which = 0; which < S_CHAIN_FAMILIES; which++) {
        const s_family_t *family = &periods->families [period * S_CHAIN_FAMILIES + which];
        while (s_family_reduce (alone, periods, period, which) > 0) {
            s_equations (alone, s_chain_families [which], false);
            memset (alone->this_round, 0, slots * sizeof (bool));
            int hid = 0;
            for (size_t at = 0; at < family->alone_count; at++) {
                int unit = family->alone_unit [at], cell = family->alone_cell [at];
                hid += !s_beside_this_round (alone, unit, cell)
                    && s_hide_beside (alone, unit, cell);
            }
            if (!hid)
                break;
        }
    }
}

//  For a determined total of a unit in a period of a chain, the first
//  shown total (s_rank) of the unit's equations of carried cases that hold
//  it, into choice: managed (P) - new (P) = managed (P-1) - closed (P-1)
//  with the period before, the same with the period after (and in the
//  first period managed = new), of periods not settled (the last).  What
//  the chain tells of a period comes through those: a cell's own period
//  may have nothing shown beside it that could help, or only the nation's.
static void
s_choose_across (const s_self_t *self, const s_periods_t *periods, int period, int unit,
                 int cell, s_choice_t *choice)
{
    //  The terms of the equation with the period before (side 0) and of
    //  the one with the period after (side 1): period offset and cell.
    static const struct { int offset, cell; } terms [2][4] = {
        {{0, CP_VIEW_MANAGED}, {0, CP_VIEW_NEW}, {-1, CP_VIEW_MANAGED}, {-1, CP_VIEW_CLOSED}},
        {{1, CP_VIEW_MANAGED}, {1, CP_VIEW_NEW}, {0, CP_VIEW_MANAGED}, {0, CP_VIEW_CLOSED}}
    };
    for (int side = 0; side < 2; side++) {
        bool holds = false;
        for (int term = 0; term < 4; term++)
            holds |= terms [side][term].offset == 0 && terms [side][term].cell == cell;
        for (int term = 0; holds && term < 4; term++) {
            int at = period + terms [side][term].offset, at_cell = terms [side][term].cell;
            if (at < periods->last || at >= periods->periods)
                continue;
            size_t first = (size_t) at * (size_t) self->count;
            if (!periods->suppressed [first + (size_t) unit].hidden [at_cell])
                s_consider (choice, at, unit, at_cell,
                            s_rank (self, periods->units + first, unit, at_cell));
        }
    }
}

//  Whether one of two units holds the other (or they are the same).
static bool
s_related (const s_self_t *self, int one, int other)
{
    for (int unit = one; unit >= 0 && unit < self->count; unit = self->parent [unit])
        if (unit == other)
            return true;
    for (int unit = other; unit >= 0 && unit < self->count; unit = self->parent [unit])
        if (unit == one)
            return true;
    return false;
}

//  For a determined cell of a settled period (before periods->last), the
//  first shown cell of the last period's managed and new cases, through
//  which the last period tells the ones before it of the cases it carries
//  in (a settled period's cells are published as they are and hide no
//  more): totals before breakdowns, a unit that holds the cell's or is
//  held by it first, then s_rank.  With all of them hidden the last
//  period tells nothing of its carried cases.
static void
s_choose_in_last (s_self_t *self, const s_periods_t *periods, int unit, s_choice_t *choice)
{
    s_at_period (self, periods, periods->last);
    for (int each = 0; each < self->count; each++)
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            int family = cp_view_cell_family (cell);
            if (!self->exists [cell] || s_hidden (self, each, cell)
            ||  (family != CP_VIEW_MANAGED && family != CP_VIEW_NEW))
                continue;
            int64_t rank = s_rank (self, self->units, each, cell)
                         + ((int64_t) (cell != family) << 50)
                         + ((int64_t) !s_related (self, each, unit) << 51);
            s_consider (choice, periods->last, each, cell, rank);
        }
}

//  Hides more of the managed, new and closed cases of a chain's periods
//  until none hidden is determined in the chain: each period by its
//  families' equations and what the others tell of the cases it carries
//  in and out.  A round reduces each family of each period alone (those
//  whose hidden cells changed), passes what each period tells of its ends
//  along the chain, finds the determined cells of every period, and then
//  hides a cell for each in the last period, the only one not settled:
//  for a cell of the last, by its own equations or the unit's totals of
//  the carried cases' equations (s_choose_across, kept to the last
//  period), whichever is first by s_rank (failing both, any of the
//  period); for a cell of a settled period, by s_choose_in_last.  The
//  period hidden in is then protected alone again
//  (s_protect_alone), at a fraction of a round of the chain, so that a
//  round of the chain is not spent on each link of a chain of
//  determinations within one period.  Returns the rounds taken.
static int
s_protect_chain (s_self_t *self, s_periods_t *periods)
{
    s_founds_t found = {NULL, 0, 0};
    int rounds = 0;
    while (true) {
        rounds++;
        for (int period = 0; period < periods->periods; period++)
            for (int which = 0; which < S_CHAIN_FAMILIES; which++)
                s_family_reduce (periods->alone, periods, period, which);
        s_tell_periods (self, periods);
        found.size = 0;
        for (int period = 0; period < periods->periods; period++) {
            //  A period with the hidden cells and the ends it had when
            //  nothing was determined in it still has nothing determined.
            int cells = s_chain_cells (periods, period);
            s_stamp_t *checked = &periods->checked [period];
            unsigned in = periods->in [period].version, out = periods->out [period].version;
            if (checked->found == 0 && s_stamp_holds (checked, cells, in, out))
                continue;
            *checked = (s_stamp_t) {cells, in, out,
                                    s_chain_determined (self, periods, period, &found)};
        }
        int hid = 0;
        for (int period = 0; period < periods->periods; period++)
            periods->touched [period] = false;
        for (size_t at = 0; at < found.size; at++) {
            const s_found_t *cell = &found.cells [at];
            s_choice_t choice = {0, -1, -1, 0};
            if (cell->period < periods->last)
                s_choose_in_last (self, periods, cell->unit, &choice);
            else {
                s_at_period (self, periods, cell->period);
                s_choose_in_equations (self, cell->unit, cell->cell, false, &choice);
                choice.period = cell->period;
                s_choose_across (self, periods, cell->period, cell->unit, cell->cell, &choice);
                if (choice.unit < 0) {
                    s_choose_in_equations (self, cell->unit, cell->cell, true, &choice);
                    choice.period = cell->period;
                }
            }
            if (choice.unit < 0)
                continue;
            s_hide (periods->suppressed + (size_t) choice.period * (size_t) self->count,
                    choice.unit, choice.cell);
            periods->touched [choice.period] = true;
            hid++;
        }
        if (found.size == 0 || hid == 0)
            break;              //  protected, or nothing shown is left that could help
        for (int period = 0; period < periods->periods; period++)
            if (periods->touched [period])
                s_protect_alone (periods, period);
    }
    free (found.cells);
    return rounds;
}

//  The secondary cells of count units.
static int
s_secondary (const cp_suppressed_t *suppressed, size_t count)
{
    int cells = 0;
    for (size_t unit = 0; unit < count; unit++)
        cells += suppressed [unit].secondary;
    return cells;
}

//  Sets self up for count units of parent's hierarchy, cells of the
//  catalogue version of units.
static void
s_self_init (s_self_t *self, const cp_figures_t *units, const int *parent, int count,
             const cp_catalogue_t *catalogue)
{
    memset (self, 0, sizeof *self);
    self->parent = parent;
    self->count = count;
    int version = count > 0? units [0].catalogue: 1;
    for (int cell = 0; cell < CP_VIEW_CELLS; cell++)
        self->exists [cell] = cp_view_cell_exists (catalogue, version, cell);
    self->has_children = calloc ((size_t) count + 1, sizeof (bool));
    self->leaf_of = calloc ((size_t) count + 1, sizeof (int));
    assert (self->has_children && self->leaf_of);
    for (int unit = 0; unit < count; unit++)
        if (parent [unit] >= 0 && parent [unit] < count)
            self->has_children [parent [unit]] = true;
    self->unit_of_leaf = calloc ((size_t) count + 1, sizeof (int));
    assert (self->unit_of_leaf);
    for (int unit = 0; unit < count; unit++) {
        self->leaf_of [unit] = self->has_children [unit]? -1: self->leaves;
        if (!self->has_children [unit])
            self->unit_of_leaf [self->leaves++] = unit;
    }
    self->height = calloc ((size_t) count + 1, sizeof (int));
    assert (self->height);
    for (int unit = 0; unit < count; unit++)
        for (int below = unit, above = parent [unit];
             above >= 0 && above < count && self->height [above] <= self->height [below];
             below = above, above = parent [above])
            self->height [above] = self->height [below] + 1;
}

static void
s_self_free (s_self_t *self)
{
    free (self->has_children);
    free (self->height);
    free (self->leaf_of);
    free (self->unit_of_leaf);
    free (self->equations);
    free (self->matrix);
    free (self->pivot_of_row);
    free (self->nonzero);
}

//  One period: the small cells hidden, then each family protected.
static int
s_suppress_period (const cp_figures_t *units, const int *parent, int count,
                   const cp_catalogue_t *catalogue, int threshold, cp_suppressed_t *suppressed)
{
    if (threshold < 1)
        return CP_EUSAGE;
    s_self_t self;
    s_self_init (&self, units, parent, count, catalogue);
    for (int unit = 0; unit < count; unit++) {
        cp_suppressed_t *into = &suppressed [unit];
        memset (into, 0, sizeof *into);
        into->threshold = threshold;
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            int64_t value = cp_view_cell_value (&units [unit], cell);
            if (self.exists [cell] && value >= 1 && value <= threshold) {
                into->hidden [cell] = true;
                into->primary++;
            }
        }
    }
    //  Neither rule of a round hides the fewest cells everywhere (on one
    //  central's periods, each hid up to 2.5 times the other's secondary
    //  cells): a family is protected by both, from the same start, and
    //  the one that hides fewer of its cells is published (ties: the
    //  unchained).  Both are safe: each ends only when no hidden cell is
    //  determined.  The chained rule may take a round for each cell it
    //  hides (seconds for a view, where the other took a tenth): past
    //  twice the other's rounds it is given up.
    s_periods_t period = {.units = units, .suppressed = suppressed, .periods = 1};
    cp_suppressed_t *chained = malloc ((size_t) count * sizeof (cp_suppressed_t));
    assert (chained || count == 0);
    for (int family = 0; family < CP_VIEW_CELLS; family++) {
        if (!self.exists [family] || cp_view_cell_family (family) != family)
            continue;
        s_equations (&self, family, false);
        if (count > 0)
            memcpy (chained, suppressed, (size_t) count * sizeof (cp_suppressed_t));
        period.suppressed = suppressed;
        self.chained = false;
        int rounds = s_protect (&self, &period, family, INT_MAX);
        period.suppressed = chained;
        self.chained = true;
        if (s_protect (&self, &period, family, 2 * rounds + 2) > 0
        &&  s_secondary (chained, (size_t) count) < s_secondary (suppressed, (size_t) count))
            memcpy (suppressed, chained, (size_t) count * sizeof (cp_suppressed_t));
    }
    free (chained);
    s_self_free (&self);
    return 0;
}

//  Sets a chain of periods up, every result to be worked out: nothing
//  carried into the first period, nothing told of what the last carries
//  out.  alone is a self for the periods' families alone.
static void
s_chain_init (s_periods_t *chain, const cp_figures_t *units, int periods,
              cp_suppressed_t *suppressed, s_self_t *alone)
{
    size_t slots = (size_t) alone->count * CP_VIEW_CELLS, leaves = (size_t) alone->leaves;
    alone->this_round = malloc (slots * sizeof (bool));
    *chain = (s_periods_t) {
        .units = units, .suppressed = suppressed, .periods = periods,
        .in = calloc ((size_t) periods, sizeof (s_known_t)),
        .out = calloc ((size_t) periods, sizeof (s_known_t)),
        .families = calloc ((size_t) periods * S_CHAIN_FAMILIES, sizeof (s_family_t)),
        .told_in = malloc ((size_t) periods * sizeof (s_stamp_t)),
        .told_out = malloc ((size_t) periods * sizeof (s_stamp_t)),
        .checked = malloc ((size_t) periods * sizeof (s_stamp_t)),
        .alone = alone,
        .touched = calloc ((size_t) periods, sizeof (bool)),
        .column_of = malloc (slots * sizeof (int)),
        .unit_of = malloc (slots * sizeof (int)),
        .cell_of = malloc (slots * sizeof (int))
    };
    assert (alone->this_round && chain->in && chain->out && chain->families
         && chain->told_in && chain->told_out && chain->checked && chain->touched
         && chain->column_of && chain->unit_of && chain->cell_of);
    for (int family = 0; family < periods * S_CHAIN_FAMILIES; family++)
        chain->families [family].cells = -1;
    //  An end of a period is told at most as many rows as it has carried cases.
    size_t told = leaves * leaves + 1;
    for (int period = 0; period < periods; period++) {
        chain->in [period].rows = calloc (told, sizeof (double));
        chain->out [period].rows = calloc (told, sizeof (double));
        assert (chain->in [period].rows && chain->out [period].rows);
        chain->told_in [period] = chain->told_out [period] = chain->checked [period]
                                = (s_stamp_t) {-1, 0, 0, 0};
    }
    chain->told.rows = malloc (told * sizeof (double));
    assert (chain->told.rows);
    chain->in [0].count = leaves;
    for (size_t leaf = 0; leaf < leaves; leaf++)
        chain->in [0].rows [leaf * leaves + leaf] = 1;
}

static void
s_chain_free (s_periods_t *chain)
{
    for (int period = 0; period < chain->periods; period++) {
        free (chain->in [period].rows);
        free (chain->out [period].rows);
    }
    for (int family = 0; family < chain->periods * S_CHAIN_FAMILIES; family++) {
        s_family_t *each = &chain->families [family];
        free (each->fixed);
        free (each->expressed);
        free (each->unit);
        free (each->cell);
        free (each->alone_unit);
        free (each->alone_cell);
    }
    free (chain->families);
    free (chain->in);
    free (chain->out);
    free (chain->told_in);
    free (chain->told_out);
    free (chain->checked);
    free (chain->told.rows);
    free (chain->touched);
    free (chain->column_of);
    free (chain->unit_of);
    free (chain->cell_of);
    free (chain->alone->this_round);
}

//  A chain of periods: each period protected on its own first (fast, each
//  family alone), then the managed, new and closed cases of all of them
//  together, from there: the cells hidden for each period alone are
//  needed in the chain too (hiding more never tells more), and the
//  chain's rounds then hide only what the carried cases would give away.
static int
s_suppress_chain (const cp_figures_t *units, int periods, const int *parent, int count,
                  const cp_catalogue_t *catalogue, int threshold, cp_suppressed_t *suppressed)
{
    for (int period = 0; period < periods; period++) {
        size_t first = (size_t) period * (size_t) count;
        int rc = s_suppress_period (units + first, parent, count, catalogue, threshold,
                                    suppressed + first);
        if (rc)
            return rc;
    }
    s_self_t self, alone;
    s_self_init (&self, units, parent, count, catalogue);
    s_self_init (&alone, units, parent, count, catalogue);
    s_periods_t chain;
    s_chain_init (&chain, units, periods, suppressed, &alone);
    s_equations (&self, CP_VIEW_MANAGED, true);
    //  A period at a time, each with the ones before it: cells are hidden
    //  in the newest alone, so that a period's publication is settled once
    //  the next begins, whatever the periods after it show.
    for (int period = 0; period < periods; period++) {
        chain.periods = period + 1;
        chain.last = period;
        s_protect_chain (&self, &chain);
    }
    s_chain_free (&chain);
    s_self_free (&self);
    s_self_free (&alone);
    return 0;
}

int
cp_suppress (const cp_figures_t *units, const int *parent, int count,
             const cp_catalogue_t *catalogue, int threshold, cp_suppressed_t *suppressed)
{
    return s_suppress_period (units, parent, count, catalogue, threshold, suppressed);
}

int
cp_suppress_periods (const cp_figures_t *units, int periods, const int *parent, int count,
                     const cp_catalogue_t *catalogue, int threshold,
                     cp_suppressed_t *suppressed)
{
    if (periods < 1)
        return CP_EUSAGE;
    return s_suppress_chain (units, periods, parent, count, catalogue, threshold, suppressed);
}
