/*  central_publications: disclosure control already worked out, kept.

    A view for publication costs the disclosure control of the whole
    hierarchy of its period (cp_suppress), about a hundred times what the
    74 views themselves cost, and every scope of that period needs the
    same one: an export of a year's 74 scopes, or the public dashboard's
    nine views a page, would work it out again at every view.  So the
    publications worked out are kept, each under a digest (BLAKE2b) of
    everything cp_suppress is a function of: the units' figures, their
    hierarchy, the catalogue's version and the threshold.  Nothing else
    is the key, so a figure that changes (an event applied meanwhile)
    makes another key: a publication kept can never be a stale one.  The
    least recently used goes when CENTRAL_PUBLICATIONS_KEPT are held.

    Safe to share between threads (one lock, held for the lookups only;
    disclosure control runs outside it).                                 */

#ifndef CENTRAL_PUBLICATIONS_H_INCLUDED
#define CENTRAL_PUBLICATIONS_H_INCLUDED

#include "cp_suppress.h"

#include <stddef.h>
#include <stdint.h>

#define CENTRAL_PUBLICATIONS_KEPT 16   //  a dashboard page's eight years, twice

typedef struct _central_publications_t central_publications_t;

//  A new, empty set of publications, or NULL when memory fails.
central_publications_t *
    central_publications_new (void);

//  Destroys; accepts NULL and clears the pointer.
void
    central_publications_destroy (central_publications_t **self_p);

//  As cp_suppress (same arguments, same result), from a publication kept
//  when these very figures were worked out before; else works it out and
//  keeps it.  self may be NULL: then it is cp_suppress.
int
    central_publications_suppress (central_publications_t *self, const cp_figures_t *units,
                                   const int *parent, int count,
                                   const cp_catalogue_t *catalogue, int threshold,
                                   cp_suppressed_t *suppressed);

//  As cp_suppress_periods, kept the same way (a chain of periods is kept
//  as one publication, under the digest of every period's figures).
int
    central_publications_suppress_periods (central_publications_t *self,
                                           const cp_figures_t *units, int periods,
                                           const int *parent, int count,
                                           const cp_catalogue_t *catalogue, int threshold,
                                           cp_suppressed_t *suppressed);

//  The publications worked out and found since new, for tests and logs.
void
    central_publications_counts (central_publications_t *self, uint64_t *worked_out,
                                 uint64_t *found);

#endif
