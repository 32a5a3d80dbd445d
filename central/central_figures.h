/*  central_figures: when the central sends a node its figures to check.

    A node checks that its figures are the central's (docs/design.md,
    10.7): the central sends it FIGURES, the digests of its municipality's
    month rows and as_of, how far it has applied the node's log; the node
    compares when its head is as_of.  The figures are signed as replies,
    with the central's data key, and kept in no log: the root, which signs
    the downlink's entries, may be offline, and the server must be able to
    send them on its own.  This module decides when, per municipality:

        - after a commit that applied events of it (central_figures_changed),
          after its HELLO (central_figures_hello), and every
          CENTRAL_FIGURES_RECHECK_MSECS, so that rows changed behind either
          side's back are found without a restart;
        - only when its node is caught up: the cursor is the head the node
          last reported, so the node can compare at once;
        - at most once per CENTRAL_FIGURES_MSECS (commits while a node ships
          are coalesced into one FIGURES once it is caught up);
        - and, after a commit, only when the figures changed since the last
          FIGURES (a fingerprint of the digests), or the node has not
          given its verdict on that one: the node's own events change no
          month row, so the verdict a node appends does not bring another
          FIGURES; but a node compares only when its head is as_of, and
          one whose head moved past it (a receipt, a staffing appended
          meanwhile) ignored it and is sent the same figures again.

    Reading a municipality's figures is one range read of its rows.
    CPSYNC_FIGURES=off in the environment turns FIGURES off, for tests
    that take a node's log for its import order (a verdict is an event).  */

#ifndef CENTRAL_FIGURES_H_INCLUDED
#define CENTRAL_FIGURES_H_INCLUDED

#include "central_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CENTRAL_FIGURES_MSECS 2000              //  one FIGURES per node this often, at most
#define CENTRAL_FIGURES_RECHECK_MSECS 60000     //  and one at least this often, caught up

typedef struct _central_figures_t central_figures_t;

//  Whether CPSYNC_FIGURES=off is set: then no FIGURES is sent, and no
//  node gives a verdict (cpsync-fleet waits for none).
bool
    central_figures_off (void);

//  Returns NULL when out of memory.
central_figures_t *
    central_figures_new (central_store_t *store);

void
    central_figures_destroy (central_figures_t **self_p);

//  A commit applied events of municipality: its figures may have changed.
void
    central_figures_changed (central_figures_t *self, int municipality);

//  Municipality's node said HELLO: it is sent FIGURES once caught up,
//  whether or not they changed.
void
    central_figures_hello (central_figures_t *self, int municipality);

//  The FIGURES body due to municipality's node now (zclock_mono ms), or
//  NULL when none is: nothing to say, the node not caught up, the last
//  sent less than CENTRAL_FIGURES_MSECS ago, or the store failed (logged).
//  The caller signs and sends it, and frees it; *as_of says up to where.
uint8_t *
    central_figures_next (central_figures_t *self, int municipality, int64_t now,
                          size_t *size, uint64_t *as_of);

#endif
