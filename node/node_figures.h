/*  node_figures: the central's rows of the months whose figures differ
    from this node's, shown beside the node's own, cell by cell.

    A node that finds months differ (node_store_check_figures) asks the
    central for its rows of them and keeps them (node_store_keep_central_
    rows); `cpsync-node figures` prints them here, so that whoever looks
    after the node sees which counters differ and by how much, not only
    which months.  docs/design.md, 10.7.                                    */

#ifndef NODE_FIGURES_H_INCLUDED
#define NODE_FIGURES_H_INCLUDED

#include "node_store.h"

#include <stdbool.h>
#include <stdio.h>

//  Writes the last verdict and, when the central's rows are kept, each of
//  their months with the cells that differ (the node's count, the
//  central's, the difference central - node), as JSON (json) or a table,
//  to out.  Returns 0 or a store error.
int
    node_figures_print (node_store_t *store, bool json, FILE *out);

#endif
