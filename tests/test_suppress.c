/*  test_suppress: disclosure control (cp_suppress) on hierarchies whose
    hidden cells are known by hand, and on random ones checked by an
    attacker written here.

    What is promised: every cell of 1 to the threshold is hidden; no other
    cell is hidden but to protect one; and no hidden cell can be worked
    out from the shown ones by the equations between a view's rows and
    between a scope and the scopes under it.  The attacker builds those
    equations itself from the view's structure and solves them exactly
    (modulo a prime), not in cp_suppress's doubles.  Its control: given
    the cells of 1 to the threshold hidden alone, it must find cells it
    can work out, or it proves nothing.  tests/disclosure.py does the same
    from the published files of a real central (test public).             */

#include "cp_catalogue.h"
#include "cp_error.h"
#include "cp_suppress.h"
#include "cp_view.h"
#include "testing.h"

#include <assert.h>
#include <stdint.h>

#define S_UNITS_MAX 16
#define S_PERIODS_MAX 4
#define S_PRIME 2147483647u     //  2^31 - 1: a product of two residues fits in 64 bits

static cp_catalogue_t *s_catalogue;

//  The catalogue's cells of a breakdown, in slot order; returns how many.
static int
s_slots (int breakdown, int *cells)
{
    int count = 0;
    for (int slot = 0; slot < CP_SLOTS; slot++) {
        int cell = cp_view_cell (breakdown, slot);
        if (cp_view_cell_exists (s_catalogue, 1, cell))
            cells [count++] = cell;
    }
    return count;
}

static int64_t *
s_cell (cp_figures_t *figures, int cell)
{
    switch (cell) {
        case CP_VIEW_MANAGED: return &figures->managed;
        case CP_VIEW_NEW: return &figures->opened;
        case CP_VIEW_CLOSED: return &figures->closed;
        case CP_VIEW_HOME_VISITS: return &figures->home_visits;
        default: return &figures->breakdowns [(cell - 4) / CP_SLOTS][(cell - 4) % CP_SLOTS];
    }
}

//  Each parent's every cell made the sum of its children's (children come
//  after their parent).
static void
s_sum_up (cp_figures_t *units, const int *parent, int count)
{
    for (int unit = count - 1; unit > 0; unit--)
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++)
            if (parent [unit] >= 0)
                *s_cell (&units [parent [unit]], cell) += *s_cell (&units [unit], cell);
}

//  Units of home visits alone: the municipalities' given, each parent's
//  the sum of its children's.
static void
s_home_visits (cp_figures_t *units, const int *parent, const int *visits, int count)
{
    memset (units, 0, (size_t) count * sizeof *units);
    for (int unit = 0; unit < count; unit++)
        units [unit].catalogue = 1, units [unit].home_visits = visits [unit];
    s_sum_up (units, parent, count);
}

static uint64_t
s_power (uint64_t base, uint64_t exponent)
{
    uint64_t result = 1;
    for (base %= S_PRIME; exponent; exponent >>= 1, base = base * base % S_PRIME)
        if (exponent & 1)
            result = result * base % S_PRIME;
    return result;
}

//  The attacker: how many hidden cells the equations between the views of
//  periods consecutive periods determine (hidden [period * count + unit]).
//  A hidden cell is determined when its unit vector is in the row space
//  of the equations restricted to the hidden cells, that is when a row of
//  their reduced echelon form is that unit vector.  Between periods, for
//  every unit: managed (P) - new (P) = managed (P-1) - closed (P-1) (the
//  cases carried from one to the next), and managed = new in the first.
static int
s_determined_periods (const int *parent, int count, int periods,
                      bool hidden [][CP_VIEW_CELLS])
{
    static int column_of [S_UNITS_MAX * S_PERIODS_MAX][CP_VIEW_CELLS];
    int columns = 0;
    for (int unit = 0; unit < periods * count; unit++)
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++)
            column_of [unit][cell] = hidden [unit][cell]? columns++: -1;
    if (columns == 0)
        return 0;
    //  Rows: each unit's totals against each of their breakdowns, then
    //  each parent's cells against its children's, a period at a time;
    //  then each unit's carried cases.
    size_t rows_max = (size_t) (periods * count) * (CP_BREAKDOWN_COUNT + CP_VIEW_CELLS + 1);
    uint64_t *matrix = calloc (rows_max * (size_t) columns, sizeof (uint64_t));
    assert (matrix);
    size_t rows = 0;
    int cells [CP_SLOTS];
#define S_ADD(unit, cell, sign) do { \
        int column_ = column_of [unit][cell]; \
        if (column_ >= 0) \
            matrix [rows * columns + column_] = \
                (matrix [rows * columns + column_] + ((sign) > 0? 1: S_PRIME - 1)) % S_PRIME; \
    } while (0)
    //  A row with no hidden cell is left out (the next is written over it).
#define S_NEXT_ROW() do { \
        for (int column_ = 0; column_ < columns; column_++) \
            if (matrix [rows * columns + column_]) { \
                rows++; \
                break; \
            } \
    } while (0)
    for (int period = 0; period < periods; period++) {
        int first = period * count;
        for (int unit = 0; unit < count; unit++)
            for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++) {
                int total = cp_breakdown_total (breakdown);
                if (total < 0)
                    continue;
                S_ADD (first + unit, total, +1);
                int slots = s_slots (breakdown, cells);
                for (int at = 0; at < slots; at++)
                    S_ADD (first + unit, cells [at], -1);
                S_NEXT_ROW ();
            }
        for (int top = 0; top < count; top++)
            for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
                if (!cp_view_cell_exists (s_catalogue, 1, cell))
                    continue;
                bool children = false;
                for (int unit = 0; unit < count; unit++)
                    if (parent [unit] == top) {
                        S_ADD (first + unit, cell, -1);
                        children = true;
                    }
                if (children) {
                    S_ADD (first + top, cell, +1);
                    S_NEXT_ROW ();
                }
            }
    }
    for (int period = 0; periods > 1 && period < periods; period++)
        for (int unit = 0; unit < count; unit++) {
            int at = period * count + unit, before = at - count;
            S_ADD (at, CP_VIEW_MANAGED, +1);
            S_ADD (at, CP_VIEW_NEW, -1);
            if (period > 0) {
                S_ADD (before, CP_VIEW_MANAGED, -1);
                S_ADD (before, CP_VIEW_CLOSED, +1);
            }
            S_NEXT_ROW ();
        }
#undef S_ADD
#undef S_NEXT_ROW
//  Gauss-Jordan modulo the prime.
    size_t rank = 0;
    int *pivot = malloc ((size_t) columns * sizeof (int));
    assert (pivot);
    for (int column = 0; column < columns && rank < rows; column++) {
        size_t at = rank;
        while (at < rows && matrix [at * columns + column] == 0)
            at++;
        if (at == rows)
            continue;
        for (int other = 0; other < columns; other++) {
            uint64_t swap = matrix [at * columns + other];
            matrix [at * columns + other] = matrix [rank * columns + other];
            matrix [rank * columns + other] = swap;
        }
        uint64_t inverse = s_power (matrix [rank * columns + column], S_PRIME - 2);
        for (int other = 0; other < columns; other++)
            matrix [rank * columns + other] = matrix [rank * columns + other] * inverse % S_PRIME;
        for (size_t row = 0; row < rows; row++) {
            uint64_t factor = matrix [row * columns + column];
            if (row == rank || factor == 0)
                continue;
            for (int other = 0; other < columns; other++)
                matrix [row * columns + other] =
                    (matrix [row * columns + other] + (S_PRIME - factor)
                     * matrix [rank * columns + other]) % S_PRIME;
        }
        pivot [rank++] = column;
    }
    int determined = 0;
    for (size_t row = 0; row < rank; row++) {
        int nonzero = 0;
        for (int column = 0; column < columns; column++)
            nonzero += matrix [row * columns + column] != 0;
        determined += nonzero == 1;
    }
    free (pivot);
    free (matrix);
    return determined;
}

//  One period alone.
static int
s_determined (const int *parent, int count, bool hidden [][CP_VIEW_CELLS])
{
    return s_determined_periods (parent, count, 1, hidden);
}

//  The hidden flags of count units, as s_determined takes them.
static void
s_hidden_of (const cp_suppressed_t *suppressed, int count, bool hidden [][CP_VIEW_CELLS])
{
    for (int unit = 0; unit < count; unit++)
        memcpy (hidden [unit], suppressed [unit].hidden, sizeof hidden [unit]);
}

//  Home visits (a cell in no row): a county of 20 visits, 3 and 17 in its
//  two municipalities, and one of 17 (8 and 9).  The 3 is hidden; the
//  county's 20 less the 17 would give it, so the 17 (the smallest shown
//  figure of that sum) is hidden too, and nothing else: the nation's 37
//  and the counties' figures stay.
static void
test_hierarchy (void)
{
    cp_figures_t units [7];
    int parent [7] = {-1, 0, 1, 1, 0, 4, 4};
    int visits [7] = {0, 0, 3, 17, 0, 8, 9};
    s_home_visits (units, parent, visits, 7);
    CHECK_EQ_INT (units [0].home_visits, 37);
    cp_suppressed_t suppressed [7];
    CHECK_EQ_INT (cp_suppress (units, parent, 7, s_catalogue, 5, suppressed), 0);
    for (int unit = 0; unit < 7; unit++) {
        CHECK_EQ_INT (suppressed [unit].hidden [CP_VIEW_HOME_VISITS], unit == 2 || unit == 3);
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++)
            CHECK (cell == CP_VIEW_HOME_VISITS || !suppressed [unit].hidden [cell]);
        CHECK_EQ_INT (suppressed [unit].threshold, 5);
        CHECK_EQ_INT (suppressed [unit].primary, unit == 2);
        CHECK_EQ_INT (suppressed [unit].secondary, unit == 3);
    }
    static bool hidden [7][CP_VIEW_CELLS];
    s_hidden_of (suppressed, 7, hidden);
    CHECK_EQ_INT (s_determined (parent, 7, hidden), 0);
    //  The control: the 17 shown again gives the 3 away.
    hidden [3][CP_VIEW_HOME_VISITS] = false;
    CHECK_EQ_INT (s_determined (parent, 7, hidden), 1);
    //  Threshold 2: nothing is small, nothing is hidden.
    CHECK_EQ_INT (cp_suppress (units, parent, 7, s_catalogue, 2, suppressed), 0);
    for (int unit = 0; unit < 7; unit++)
        CHECK (!suppressed [unit].hidden [CP_VIEW_HOME_VISITS]);
    CHECK_EQ_INT (cp_suppress (units, parent, 7, s_catalogue, 0, suppressed), CP_EUSAGE);
}

//  Home visits again: the nation's 10, a county of 7 (3 and 4) and one
//  of 3 (one municipality of 3).  Every municipality and the second
//  county are small; the second county's 3 is then the nation's 10 less
//  the first county's 7, so that 7 is hidden too.  Its municipality's 3
//  is determined as well, through the county it equals: one more cell
//  hidden for it would hide the nation's figure, and the 7 protects
//  both.  The publication that hides fewer cells is the one given.
static void
test_fewer_of_two (void)
{
    cp_figures_t units [6];
    int parent [6] = {-1, 0, 1, 1, 0, 4};
    int visits [6] = {0, 0, 3, 4, 0, 3};
    s_home_visits (units, parent, visits, 6);
    CHECK_EQ_INT (units [0].home_visits, 10);
    cp_suppressed_t suppressed [6];
    CHECK_EQ_INT (cp_suppress (units, parent, 6, s_catalogue, 5, suppressed), 0);
    int primary = 0, secondary = 0;
    for (int unit = 0; unit < 6; unit++) {
        CHECK_EQ_INT (suppressed [unit].hidden [CP_VIEW_HOME_VISITS], unit > 0);
        primary += suppressed [unit].primary;
        secondary += suppressed [unit].secondary;
    }
    CHECK_EQ_INT (primary, 4);
    CHECK_EQ_INT (secondary, 1);
    CHECK_EQ_INT (suppressed [1].secondary, 1);
    static bool hidden [6][CP_VIEW_CELLS];
    s_hidden_of (suppressed, 6, hidden);
    CHECK_EQ_INT (s_determined (parent, 6, hidden), 0);
}

//  A row: 12 new cases of one municipality, 2 girls and 10 boys.  The 2
//  is hidden; the 12 less the 10 would give it, so the 10 (the smallest
//  shown figure of the row above 0) is hidden too; the 12 stays.
static void
test_row (void)
{
    cp_figures_t unit = {.catalogue = 1, .opened = 12};
    int cells [CP_SLOTS], slots;
    for (int breakdown = 0; breakdown <= CP_BREAKDOWN_NEW_REFERRAL; breakdown++) {
        slots = s_slots (breakdown, cells);
        CHECK (slots >= 2);
        if (breakdown == CP_BREAKDOWN_NEW_SEX) {
            *s_cell (&unit, cells [0]) = 2;
            *s_cell (&unit, cells [1]) = 10;
        }
        else
            *s_cell (&unit, cells [0]) = 12;
    }
    int parent = -1;
    cp_suppressed_t suppressed;
    CHECK_EQ_INT (cp_suppress (&unit, &parent, 1, s_catalogue, 5, &suppressed), 0);
    slots = s_slots (CP_BREAKDOWN_NEW_SEX, cells);
    CHECK (suppressed.hidden [cells [0]]);
    CHECK (suppressed.hidden [cells [1]]);
    CHECK (!suppressed.hidden [CP_VIEW_NEW]);
    CHECK_EQ_INT (suppressed.primary, 1);
    CHECK_EQ_INT (suppressed.secondary, 1);
    static bool hidden [1][CP_VIEW_CELLS];
    s_hidden_of (&suppressed, 1, hidden);
    CHECK_EQ_INT (s_determined (&parent, 1, hidden), 0);
}

//  Random hierarchies (a nation, 2 or 3 counties, 1 to 3 municipalities
//  each) of small consistent figures, at thresholds 3 and 5: the
//  promise holds for each, and the control finds something in most.
//  A random hierarchy of up to 13 units into parent: the nation, two or
//  three counties, one to three municipalities each.  Returns its count.
static int
s_random_hierarchy (int *parent)
{
    int count = 1;
    parent [0] = -1;
    int counties = 2 + rand () % 2;
    for (int county = 0; county < counties; county++) {
        int at = count++;
        parent [at] = 0;
        for (int municipality = 1 + rand () % 3; municipality; municipality--)
            parent [count++] = at;
    }
    return count;
}

static bool
s_leaf (const int *parent, int count, int unit)
{
    for (int other = 0; other < count; other++)
        if (parent [other] == unit)
            return false;
    return true;
}

//  A municipality's figures: the new, managed and closed cases given,
//  each split over up to three of each of its breakdowns' slots; the
//  breakdowns without a total, a few small cells; some home visits.
static void
s_random_leaf (cp_figures_t *unit, int64_t opened, int64_t managed, int64_t closed)
{
    int cells [CP_SLOTS];
    unit->home_visits = rand () % 9;
    *s_cell (unit, CP_VIEW_NEW) = opened;
    *s_cell (unit, CP_VIEW_MANAGED) = managed;
    *s_cell (unit, CP_VIEW_CLOSED) = closed;
    for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++) {
        int slots = s_slots (breakdown, cells);
        int total = cp_breakdown_total (breakdown);
        if (total < 0) {
            *s_cell (unit, cells [rand () % slots]) += rand () % 7;
            continue;
        }
        int64_t left = *s_cell (unit, total);
        for (int part = 0; part < 2 && left > 0; part++) {
            int64_t taken = rand () % (left + 1);
            *s_cell (unit, cells [rand () % slots]) += taken;
            left -= taken;
        }
        *s_cell (unit, cells [rand () % slots]) += left;
    }
}

//  Checks what cp_suppress promises of each unit alone: every cell of 1 to
//  the threshold hidden, no cell outside the catalogue hidden, and the
//  counts of primary and secondary cells.
static void
s_check_counts (const cp_figures_t *units, const cp_suppressed_t *suppressed, int count,
                int threshold, int instance)
{
    int hidden_count = 0, primary_count = 0;
    for (int unit = 0; unit < count; unit++) {
        int primary = 0;
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            int64_t value = *s_cell ((cp_figures_t *) &units [unit], cell);
            bool exists = cp_view_cell_exists (s_catalogue, 1, cell);
            bool small = exists && value >= 1 && value <= threshold;
            if (small && !suppressed [unit].hidden [cell])
                fprintf (stderr, "  instance %d: unit %d cell %d of %lld shown\n",
                         instance, unit, cell, (long long) value);
            CHECK (!small || suppressed [unit].hidden [cell]);
            CHECK (exists || !suppressed [unit].hidden [cell]);
            primary += small;
            hidden_count += suppressed [unit].hidden [cell];
        }
        CHECK_EQ_INT (suppressed [unit].primary, primary);
        primary_count += primary;
        hidden_count -= suppressed [unit].secondary;
    }
    CHECK_EQ_INT (hidden_count, primary_count);
}

//  The cells of 1 to the threshold, hidden alone (the attackers' control).
static void
s_small_alone (const cp_figures_t *units, int count, int threshold,
               bool hidden [][CP_VIEW_CELLS])
{
    for (int unit = 0; unit < count; unit++)
        for (int cell = 0; cell < CP_VIEW_CELLS; cell++) {
            int64_t value = *s_cell ((cp_figures_t *) &units [unit], cell);
            hidden [unit][cell] = cp_view_cell_exists (s_catalogue, 1, cell)
                               && value >= 1 && value <= threshold;
        }
}

static void
test_random (void)
{
    static cp_figures_t units [S_UNITS_MAX];
    static cp_suppressed_t suppressed [S_UNITS_MAX];
    static bool hidden [S_UNITS_MAX][CP_VIEW_CELLS];
    int parent [S_UNITS_MAX];
    srand (20261206);
    int control_found = 0, instances = 40;
    for (int instance = 0; instance < instances; instance++) {
        memset (units, 0, sizeof units);
        int count = s_random_hierarchy (parent);
        for (int unit = 0; unit < count; unit++) {
            units [unit].catalogue = 1;
            if (s_leaf (parent, count, unit))
                s_random_leaf (&units [unit], rand () % 15, rand () % 15, rand () % 15);
        }
        s_sum_up (units, parent, count);
        int threshold = instance % 2? 3: 5;
        CHECK_EQ_INT (cp_suppress (units, parent, count, s_catalogue, threshold, suppressed), 0);
        s_check_counts (units, suppressed, count, threshold, instance);
        s_hidden_of (suppressed, count, hidden);
        int determined = s_determined (parent, count, hidden);
        if (determined)
            fprintf (stderr, "  instance %d: %d hidden cells can be worked out\n",
                     instance, determined);
        CHECK_EQ_INT (determined, 0);
        //  The control: the small cells hidden alone.
        s_small_alone (units, count, threshold, hidden);
        control_found += s_determined (parent, count, hidden) > 0;
    }
    CHECK (control_found >= instances / 2);
}

//  Consecutive periods: in each municipality the cases carried into a
//  period (none into the first) and its new ones are those it manages,
//  and what it manages less what it closes is carried into the next.
//  cp_suppress_periods must leave nothing the periods' equations and the
//  carried cases between them give away; the control is each period
//  protected alone by cp_suppress, which the carried cases must give away
//  in some of the instances, or the attacker proves nothing.
static void
test_random_periods (void)
{
    static cp_figures_t units [S_PERIODS_MAX * S_UNITS_MAX];
    static cp_suppressed_t suppressed [S_PERIODS_MAX * S_UNITS_MAX];
    static cp_suppressed_t before [S_PERIODS_MAX * S_UNITS_MAX];
    static bool hidden [S_PERIODS_MAX * S_UNITS_MAX][CP_VIEW_CELLS];
    int parent [S_UNITS_MAX];
    srand (20261207);
    int control_found = 0, unsettled = 0, instances = 30;
    for (int instance = 0; instance < instances; instance++) {
        memset (units, 0, sizeof units);
        int count = s_random_hierarchy (parent);
        int periods = 2 + instance % (S_PERIODS_MAX - 1);
        for (int unit = 0; unit < count; unit++) {
            int64_t carried = 0;
            for (int period = 0; period < periods; period++) {
                cp_figures_t *figures = &units [period * count + unit];
                figures->catalogue = 1;
                if (!s_leaf (parent, count, unit))
                    continue;
                int64_t opened = rand () % 12, managed = carried + opened;
                int64_t closed = rand () % (managed + 1);
                s_random_leaf (figures, opened, managed, closed);
                carried = managed - closed;
            }
        }
        for (int period = 0; period < periods; period++)
            s_sum_up (units + period * count, parent, count);
        int threshold = instance % 2? 3: 5;
        CHECK_EQ_INT (cp_suppress_periods (units, periods, parent, count, s_catalogue,
                                           threshold, suppressed), 0);
        s_check_counts (units, suppressed, periods * count, threshold, instance);
        s_hidden_of (suppressed, periods * count, hidden);
        int determined = s_determined_periods (parent, count, periods, hidden);
        if (determined)
            fprintf (stderr, "  instance %d: %d hidden cells can be worked out\n",
                     instance, determined);
        CHECK_EQ_INT (determined, 0);
        //  Settled: the periods before the last are published as they
        //  were before the last began (the chain without it).
        CHECK_EQ_INT (cp_suppress_periods (units, periods - 1, parent, count, s_catalogue,
                                           threshold, before), 0);
        int changed = 0;
        for (int unit = 0; unit < (periods - 1) * count; unit++)
            changed += memcmp (before [unit].hidden, suppressed [unit].hidden,
                               sizeof before [unit].hidden) != 0;
        unsettled += changed > 0;
        CHECK_EQ_INT (changed, 0);
        //  The control: each period protected alone.
        for (int period = 0; period < periods; period++)
            CHECK_EQ_INT (cp_suppress (units + period * count, parent, count, s_catalogue,
                                       threshold, suppressed + period * count), 0);
        s_hidden_of (suppressed, periods * count, hidden);
        control_found += s_determined_periods (parent, count, periods, hidden) > 0;
    }
    fprintf (stderr, "  periods alone: given away in %d of %d instances; "
             "a period's hidden cells changed by the next in %d\n", control_found,
             instances, unsettled);
    CHECK (control_found >= instances / 4);
    //  No period: refused.
    CHECK_EQ_INT (cp_suppress_periods (units, 0, parent, 1, s_catalogue, 5, suppressed),
                  CP_EUSAGE);
}

//  Every case reads catalogue 1.
TESTING_MAIN_AROUND (s_catalogue = cp_catalogue_new_builtin (1),
                     cp_catalogue_destroy (&s_catalogue),
    TEST (test_hierarchy),
    TEST (test_fewer_of_two),
    TEST (test_row),
    TEST (test_random),
    TEST (test_random_periods)
)
