/*  cp_suppress: disclosure control for published figures.                 */

#include "cp_suppress.h"
#include "cp_error.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_EPSILON 1e-9          //  coefficients are small integers: anything nearer 0 is 0
#define S_TERMS_MAX 128         //  a row: a total and its codes; a sum: a parent and its children

//  One equation between cells: the sum of coefficient x cell is 0.
typedef struct {
    int count;
    int unit [S_TERMS_MAX];
    int cell [S_TERMS_MAX];
    int sign [S_TERMS_MAX];
} s_equation_t;

typedef struct {
    const cp_figures_t *units;
    const int *parent;
    int count;
    bool exists [CP_VIEW_CELLS];        //  cells of the catalogue version
    cp_suppressed_t *suppressed;
    bool *this_round;                   //  by unit * CP_VIEW_CELLS + cell: see s_protect_family
    bool chained;                       //  the rule of a round: see s_protect_family
    s_equation_t *equations;            //  of the family at hand
    size_t equations_size, equations_alloc;
    //  Kept from round to round: a matrix freed and allocated again was
    //  mapped afresh each time, and its page faults took half the time.
    double *matrix;
    size_t matrix_alloc;
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

//  The equations of one family of cells (those of a total and its
//  breakdowns, or a cell alone): each unit's rows, and each parent's sums.
static void
s_equations (s_self_t *self, int family)
{
    self->equations_size = 0;
    for (int unit = 0; unit < self->count; unit++)
        for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++) {
            if (cp_breakdown_total (breakdown) != family)
                continue;
            s_equation_t *row = s_new_equation (self);
            s_term (row, unit, family, +1);
            for (int slot = 0; slot < CP_SLOTS; slot++) {
                int cell = cp_view_cell (breakdown, slot);
                if (self->exists [cell])
                    s_term (row, unit, cell, -1);
            }
        }
    for (int top = 0; top < self->count; top++) {
        bool has_children = false;
        for (int unit = 0; unit < self->count && !has_children; unit++)
            has_children = self->parent [unit] == top;
        if (!has_children)
            continue;
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            if (!self->exists [cell] || cp_view_cell_family (cell) != family)
                continue;
            s_equation_t *sum = s_new_equation (self);
            s_term (sum, top, cell, +1);
            for (int unit = 0; unit < self->count; unit++)
                if (self->parent [unit] == top)
                    s_term (sum, unit, cell, -1);
        }
    }
}

//  Marks in determined [column] every hidden cell (by column) that the
//  equations fix, by reducing them (restricted to the hidden columns) to
//  row echelon form: a cell is fixed when its unit vector is a row of the
//  reduced form.  Returns how many.
static int
s_determined (s_self_t *self, const int *column_of, int columns, bool *determined)
{
    size_t rows = 0;
    for (size_t index = 0; index < self->equations_size; index++) {
        const s_equation_t *equation = &self->equations [index];
        for (int term = 0; term < equation->count; term++)
            if (s_hidden (self, equation->unit [term], equation->cell [term])) {
                rows++;
                break;
            }
    }
    if (rows * (size_t) columns > self->matrix_alloc) {
        free (self->matrix);
        //  Rounds add a column or a few at a time: grow by half at least.
        self->matrix_alloc = rows * (size_t) columns + self->matrix_alloc / 2;
        self->matrix = malloc (self->matrix_alloc * sizeof (double));
        assert (self->matrix);
    }
    double *matrix = self->matrix;
    if (rows > 0)
        memset (matrix, 0, rows * (size_t) columns * sizeof (double));
    size_t row = 0;
    for (size_t index = 0; index < self->equations_size; index++) {
        const s_equation_t *equation = &self->equations [index];
        bool touches = false;
        for (int term = 0; term < equation->count; term++) {
            int column = column_of [equation->unit [term] * CP_VIEW_CELLS + equation->cell [term]];
            if (column >= 0) {
                matrix [row * (size_t) columns + (size_t) column] += equation->sign [term];
                touches = true;
            }
        }
        row += touches;
    }
    //  Gauss-Jordan with partial pivoting.
    int *pivot_of_row = malloc ((rows + 1) * sizeof (int));
    assert (pivot_of_row);
    size_t rank = 0;
    for (int column = 0; column < columns && rank < rows; column++) {
        size_t best = rank;
        for (size_t at = rank + 1; at < rows; at++)
            if (fabs (matrix [at * columns + column]) > fabs (matrix [best * columns + column]))
                best = at;
        if (fabs (matrix [best * columns + column]) < S_EPSILON)
            continue;
        if (best != rank)
            for (int at = 0; at < columns; at++) {
                double swap = matrix [best * columns + at];
                matrix [best * columns + at] = matrix [rank * columns + at];
                matrix [rank * columns + at] = swap;
            }
        double *pivot_row = matrix + rank * columns;
        double scale = pivot_row [column];
        for (int at = column; at < columns; at++)
            pivot_row [at] /= scale;
        for (size_t other = 0; other < rows; other++) {
            double *row_of = matrix + other * columns;
            double factor = row_of [column];
            if (other == rank || fabs (factor) < S_EPSILON)
                continue;
            for (int at = column; at < columns; at++)
                row_of [at] -= factor * pivot_row [at];
        }
        pivot_of_row [rank++] = column;
    }
    int found = 0;
    memset (determined, 0, (size_t) columns * sizeof (bool));
    for (size_t at = 0; at < rank; at++) {
        const double *row_of = matrix + at * columns;
        bool alone = true;
        for (int column = 0; column < columns && alone; column++)
            alone = column == pivot_of_row [at] || fabs (row_of [column]) < S_EPSILON;
        if (alone) {
            determined [pivot_of_row [at]] = true;
            found++;
        }
    }
    free (pivot_of_row);
    return found;
}

//  Hides the smallest shown cell of an equation that holds (unit, cell);
//  failing that, of any equation of the family that holds a hidden cell.
//  Returns false when no shown cell is left to hide.
static bool
s_hide_beside (s_self_t *self, int unit, int cell)
{
    for (int pass = 0; pass < 2; pass++) {
        int best_unit = -1, best_cell = -1;
        int64_t best = 0;
        for (size_t index = 0; index < self->equations_size; index++) {
            const s_equation_t *equation = &self->equations [index];
            bool holds = false;
            for (int term = 0; term < equation->count && !holds; term++)
                holds = pass == 0
                      ? equation->unit [term] == unit && equation->cell [term] == cell
                      : s_hidden (self, equation->unit [term], equation->cell [term]);
            for (int term = 0; holds && term < equation->count; term++) {
                int at_unit = equation->unit [term], at_cell = equation->cell [term];
                if (s_hidden (self, at_unit, at_cell))
                    continue;
                int64_t value = cp_view_cell_value (&self->units [at_unit], at_cell);
                //  A cell of 0 tells least when hidden: the smallest above it first.
                int64_t rank = value > 0? value: INT64_MAX;
                if (best_unit < 0 || rank < best) {
                    best_unit = at_unit;
                    best_cell = at_cell;
                    best = rank;
                }
            }
        }
        if (best_unit >= 0) {
            self->suppressed [best_unit].hidden [best_cell] = true;
            self->suppressed [best_unit].secondary++;
            self->this_round [best_unit * CP_VIEW_CELLS + best_cell] = true;
            return true;
        }
    }
    return false;
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

//  Hides more cells of a family until none hidden is determined, in at
//  most rounds_max rounds, by the family's equations (s_equations, made
//  once for both rules).  Returns the rounds taken, or -1 when that was
//  not enough (then the cells hidden do not protect the family).
static int
s_protect_family (s_self_t *self, int family, int rounds_max)
{
    int *column_of = malloc ((size_t) self->count * CP_VIEW_CELLS * sizeof (int));
    int *unit_of = malloc ((size_t) self->count * CP_VIEW_CELLS * sizeof (int));
    int *cell_of = malloc ((size_t) self->count * CP_VIEW_CELLS * sizeof (int));
    bool *determined = malloc ((size_t) self->count * CP_VIEW_CELLS * sizeof (bool));
    self->this_round = malloc ((size_t) self->count * CP_VIEW_CELLS * sizeof (bool));
    assert (column_of && unit_of && cell_of && determined && self->this_round);
    int rounds = 0;
    while (true) {
        if (rounds == rounds_max) {
            rounds = -1;
            break;
        }
        rounds++;
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
        if (columns == 0 || s_determined (self, column_of, columns, determined) == 0)
            break;
        //  One cell hidden per determined cell, but none for a cell that
        //  shares an equation with a cell of this round: what was hidden
        //  may have protected it already (the next round tells), and
        //  hiding more than needed only takes figures from the public.
        //  The cells of a round are those hidden in it, and when chained,
        //  the determined cells they were hidden for too (then a chain of
        //  determined cells gets one cell hidden a round, not one each).
        int hid = 0;
        memset (self->this_round, 0, (size_t) self->count * CP_VIEW_CELLS * sizeof (bool));
        for (int column = 0; column < columns; column++) {
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

//  The secondary cells of count units.
static int
s_secondary (const cp_suppressed_t *suppressed, int count)
{
    int cells = 0;
    for (int unit = 0; unit < count; unit++)
        cells += suppressed [unit].secondary;
    return cells;
}

int
cp_suppress (const cp_figures_t *units, const int *parent, int count,
             const cp_catalogue_t *catalogue, int threshold, cp_suppressed_t *suppressed)
{
    if (threshold < 1)
        return CP_EUSAGE;
    s_self_t self = {units, parent, count, {false}, suppressed, NULL, false, NULL, 0, 0, NULL, 0};
    int version = count > 0? units [0].catalogue: 1;
    for (int cell = 0; cell < CP_VIEW_CELLS; cell++)
        self.exists [cell] = cp_view_cell_exists (catalogue, version, cell);
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
    cp_suppressed_t *chained = malloc ((size_t) count * sizeof (cp_suppressed_t));
    assert (chained || count == 0);
    for (int family = 0; family < CP_VIEW_CELLS; family++)
        if (self.exists [family] && cp_view_cell_family (family) == family) {
            if (count > 0)
                memcpy (chained, suppressed, (size_t) count * sizeof (cp_suppressed_t));
            s_equations (&self, family);
            self.suppressed = suppressed;
            self.chained = false;
            int rounds = s_protect_family (&self, family, INT_MAX);
            self.suppressed = chained;
            self.chained = true;
            if (s_protect_family (&self, family, 2 * rounds + 2) > 0
            &&  s_secondary (chained, count) < s_secondary (suppressed, count))
                memcpy (suppressed, chained, (size_t) count * sizeof (cp_suppressed_t));
        }
    free (chained);
    free (self.equations);
    free (self.matrix);
    return 0;
}
