/*  test_central_publications: publications kept are the ones cp_suppress
    would work out, for the figures they were worked out for and no other.

    A hierarchy of seven units (the nation, two counties, two
    municipalities each) with small cells of new cases by sex and home
    visits.  Every answer is compared with cp_suppress's own on the same
    figures; the counts say whether it was worked out or found.          */

#include "central_publications.h"
#include "cp_catalogue.h"
#include "cp_suppress.h"
#include "cp_view.h"
#include "testing.h"

#include <assert.h>
#include <stdint.h>

#define S_UNITS 7

static const int s_parent [S_UNITS] = {-1, 0, 0, 1, 1, 2, 2};
static cp_catalogue_t *s_catalogue;

//  Each municipality's new cases (by sex: girls, boys) and home visits
//  from seed; the counties' and the nation's their sums.
static void
s_figures (cp_figures_t *units, int seed)
{
    memset (units, 0, S_UNITS * sizeof *units);
    for (int unit = 0; unit < S_UNITS; unit++)
        units [unit].catalogue = 1;
    for (int unit = S_UNITS - 1; unit >= 3; unit--) {
        int64_t girls = (seed * 7 + unit * 3) % 9, boys = (seed * 5 + unit) % 11;
        units [unit].breakdowns [CP_BREAKDOWN_NEW_SEX][0] = girls;
        units [unit].breakdowns [CP_BREAKDOWN_NEW_SEX][1] = boys;
        units [unit].opened = girls + boys;
        units [unit].managed = girls + boys + 20;
        units [unit].home_visits = (seed + unit * 13) % 17;
    }
    for (int unit = S_UNITS - 1; unit > 0; unit--) {
        cp_figures_t *up = &units [s_parent [unit]], *from = &units [unit];
        up->opened += from->opened;
        up->managed += from->managed;
        up->home_visits += from->home_visits;
        for (int slot = 0; slot < 2; slot++)
            up->breakdowns [CP_BREAKDOWN_NEW_SEX][slot]
                += from->breakdowns [CP_BREAKDOWN_NEW_SEX][slot];
    }
}

//  True when publications answers for units as cp_suppress does.
static bool
s_same_as_suppress (central_publications_t *publications, const cp_figures_t *units,
                    int threshold)
{
    cp_suppressed_t expected [S_UNITS], answered [S_UNITS];
    memset (expected, 0, sizeof expected);
    memset (answered, 0xff, sizeof answered);
    int rc = cp_suppress (units, s_parent, S_UNITS, s_catalogue, threshold, expected);
    assert (rc == 0);
    rc = central_publications_suppress (publications, units, s_parent, S_UNITS, s_catalogue,
                                        threshold, answered);
    return rc == 0 && memcmp (expected, answered, sizeof expected) == 0;
}

static void
s_check_counts (central_publications_t *publications, uint64_t worked_out, uint64_t found)
{
    uint64_t worked_out_now, found_now;
    central_publications_counts (publications, &worked_out_now, &found_now);
    CHECK_EQ_INT (worked_out_now, worked_out);
    CHECK_EQ_INT (found_now, found);
}

static void
test_found_again (void)
{
    central_publications_t *publications = central_publications_new ();
    assert (publications);
    cp_figures_t units [S_UNITS];
    s_figures (units, 1);
    CHECK (s_same_as_suppress (publications, units, 5));
    s_check_counts (publications, 1, 0);
    CHECK (s_same_as_suppress (publications, units, 5));
    s_check_counts (publications, 1, 1);
    central_publications_destroy (&publications);
    CHECK (publications == NULL);
    central_publications_destroy (&publications);
}

//  One municipality's figure changes (an event applied meanwhile): the
//  publication is worked out again, and it is not the one kept.
static void
test_a_figure_changed (void)
{
    central_publications_t *publications = central_publications_new ();
    cp_figures_t units [S_UNITS], before [S_UNITS];
    s_figures (units, 2);
    CHECK (s_same_as_suppress (publications, units, 5));
    memcpy (before, units, sizeof units);
    //  Municipality 6's home visits 0 -> 2 (and up its county and the
    //  nation): a cell of 2 must now be hidden where 0 was shown.
    units [6].home_visits = 0;
    units [2].home_visits = units [5].home_visits;
    units [0].home_visits = units [1].home_visits + units [2].home_visits;
    CHECK (s_same_as_suppress (publications, units, 5));
    cp_suppressed_t zero [S_UNITS], two [S_UNITS];
    central_publications_suppress (publications, units, s_parent, S_UNITS, s_catalogue, 5, zero);
    units [6].home_visits += 2, units [2].home_visits += 2, units [0].home_visits += 2;
    CHECK (s_same_as_suppress (publications, units, 5));
    central_publications_suppress (publications, units, s_parent, S_UNITS, s_catalogue, 5, two);
    CHECK (!zero [6].hidden [CP_VIEW_HOME_VISITS]);
    CHECK (two [6].hidden [CP_VIEW_HOME_VISITS]);
    s_check_counts (publications, 3, 2);
    //  The first figures again: still kept.
    CHECK (s_same_as_suppress (publications, before, 5));
    s_check_counts (publications, 3, 3);
    central_publications_destroy (&publications);
}

static void
test_threshold_and_hierarchy (void)
{
    central_publications_t *publications = central_publications_new ();
    cp_figures_t units [S_UNITS];
    s_figures (units, 3);
    CHECK (s_same_as_suppress (publications, units, 5));
    CHECK (s_same_as_suppress (publications, units, 3));
    s_check_counts (publications, 2, 0);
    //  Fewer units (the nation and county 1's part): another publication.
    cp_suppressed_t expected [S_UNITS], answered [S_UNITS];
    cp_suppress (units, s_parent, 5, s_catalogue, 5, expected);
    central_publications_suppress (publications, units, s_parent, 5, s_catalogue, 5, answered);
    CHECK (memcmp (expected, answered, 5 * sizeof (cp_suppressed_t)) == 0);
    s_check_counts (publications, 3, 0);
    central_publications_destroy (&publications);
}

//  The least recently used goes: one more than are kept, then the first
//  is worked out again while the one found meanwhile is still kept.
static void
test_least_recently_used (void)
{
    central_publications_t *publications = central_publications_new ();
    cp_figures_t units [S_UNITS];
    for (int seed = 0; seed < CENTRAL_PUBLICATIONS_KEPT; seed++) {
        s_figures (units, 100 + seed);
        CHECK (s_same_as_suppress (publications, units, 5));
    }
    s_figures (units, 101);             //  found: now the most recent
    CHECK (s_same_as_suppress (publications, units, 5));
    s_check_counts (publications, CENTRAL_PUBLICATIONS_KEPT, 1);
    s_figures (units, 999);             //  one more: 100 goes
    CHECK (s_same_as_suppress (publications, units, 5));
    s_figures (units, 101);
    CHECK (s_same_as_suppress (publications, units, 5));
    s_check_counts (publications, CENTRAL_PUBLICATIONS_KEPT + 1, 2);
    s_figures (units, 100);
    CHECK (s_same_as_suppress (publications, units, 5));
    s_check_counts (publications, CENTRAL_PUBLICATIONS_KEPT + 2, 2);
    central_publications_destroy (&publications);
}

static void
test_none_kept (void)
{
    cp_figures_t units [S_UNITS];
    s_figures (units, 4);
    CHECK (s_same_as_suppress (NULL, units, 5));
}

//  Every case reads catalogue 1.
TESTING_MAIN_AROUND (s_catalogue = cp_catalogue_new_builtin (1),
                     cp_catalogue_destroy (&s_catalogue),
    TEST (test_found_again),
    TEST (test_a_figure_changed),
    TEST (test_threshold_and_hierarchy),
    TEST (test_least_recently_used),
    TEST (test_none_kept)
)
