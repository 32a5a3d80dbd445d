/*  cp_suppress: disclosure control for published figures.

    A figure about a handful of abused children in a small municipality can
    identify them.  So what is published hides small cells: a cell of 1 to
    threshold (5 unless the caller says otherwise) is shown as "c" (primary
    suppression).  Hiding them is not enough when the others are shown: a
    hidden cell could be worked out from its row's total and the row's
    other cells, or from its county's figure and the other municipalities'
    of the county, or from the nation's and the other counties'.  So more
    cells are hidden (secondary suppression) until no hidden cell can be
    computed from the shown ones by any combination of those equations.

    The equations are those that hold between the views of one period:
        a row      the new cases = the sum of each breakdown of them (by age
                   group, sex, ethnicity, referral); the same for the
                   managed cases (by risk, by problem) and the closures (by
                   reason);
        a county   each figure of a county = the sum of its municipalities';
        the nation each figure of the nation = the sum of the counties'.
    Whether a hidden cell is determined is decided exactly as linear
    algebra says: it is when the unit vector of that cell lies in the row
    space of the equations restricted to the hidden cells.  While one is,
    the shown cell of an equation that holds it that tells least is
    hidden too (the smallest, a municipality's before a county's and a
    county's before the nation's), by two rules of a round
    (docs/design.md, section 11); of the two publications, the one that
    hides fewer cells is given.

    Those of one period are not all: a case managed in a period is one
    carried in (opened before it, not closed before it) or a new one, and
    those carried in are the ones the period before managed and did not
    close.  So in every unit
        managed (P) - managed (P-1) + closed (P-1) - new (P) = 0,
    and periods protected each on its own give away a hidden total of
    one where the other three are shown (121 cells of the public years
    2020 to 2023 of a country's central were worked out so).
    cp_suppress_periods solves consecutive periods together: for each
    unit without children the cases carried into a period and out of it
    are unknowns (managed - new = carried in, managed - closed = carried
    out, the carried out of one the carried in of the next, none carried
    into the first), which joins the managed, new and closed cases of
    every period into one system.  Each family of a period meets the rest
    only at its leaves' totals, and a period meets its neighbours only
    through the carried cases: so each family is reduced alone to what it
    fixes of its leaves' totals, each period to what it tells of the
    carried cases, that is passed along the chain forward and back, and a
    hidden cell is determined in the chain exactly when its period, so
    told, determines it.  The periods are solved one after the other, each
    with those before it, and cells are hidden in the newest only: so a
    period's hidden cells depend on its figures and those before it, and
    a period published stays as it was when later ones are added.

    Cells are numbered as cp_view_cell numbers them; the units are the
    views of a whole hierarchy (the nation, its counties, their
    municipalities), each with the index of the unit that holds it.         */

#ifndef CP_SUPPRESS_H_INCLUDED
#define CP_SUPPRESS_H_INCLUDED

#include "cp_catalogue.h"
#include "cp_view.h"

#include <stdbool.h>

#define CP_SUPPRESS_THRESHOLD 5         //  cells of 1 to this are hidden, by default

//  What was hidden in one unit's view, and why.
typedef struct {
    bool hidden [CP_VIEW_CELLS];
    int threshold;
    int primary;                        //  cells of 1 to threshold, in this unit
    int secondary;                      //  cells hidden so that those cannot be worked out
} cp_suppressed_t;

//  Hides cells of count units' figures (all computed under one catalogue
//  version).  parent [u] is the index of the unit whose figures are the
//  sum of u's and its siblings', or -1 for the top.  Fills suppressed [u]
//  for every unit.  Returns 0, or CP_EUSAGE when threshold < 1.
int
    cp_suppress (const cp_figures_t *units, const int *parent, int count,
                 const cp_catalogue_t *catalogue, int threshold,
                 cp_suppressed_t *suppressed);

//  As cp_suppress for periods consecutive periods of one kind (years, or
//  quarters), solved together: units and suppressed hold periods x count
//  units, period by period, each period's units in the same order and
//  hierarchy.  Nothing is carried into the first period (it is the first
//  in which any case was open).  What is hidden in a period does not
//  depend on the periods after it: the first n periods of a chain are
//  hidden as a chain of those n alone is.  Returns 0, or CP_EUSAGE when
//  threshold or periods < 1.
int
    cp_suppress_periods (const cp_figures_t *units, int periods, const int *parent,
                         int count, const cp_catalogue_t *catalogue, int threshold,
                         cp_suppressed_t *suppressed);

#endif
