/*  node_import: loading a JSON Lines file of case events into a node.

    The file is streamed, never loaded whole: lines are read into a fixed
    buffer, parsed and checked in chunks, and each chunk is applied in one
    durable write transaction.  A bad line is reported as "FILE:LINE: reason"
    and skipped; the others are imported.  Reports are printed after their
    chunk has committed, so a chunk redone after the map grew reports once.  */

#ifndef NODE_IMPORT_H_INCLUDED
#define NODE_IMPORT_H_INCLUDED

#include "node_store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint64_t lines;             //  lines read (blank lines not counted)
    uint64_t imported;
    uint64_t duplicates;
    uint64_t rejected;
} node_import_stats_t;

//  Imports path ("-" for standard input) into store.  Rejected lines go to
//  errors; with progress, a progress line is kept up to date on stderr.
//  Returns 0 (whatever was rejected), or CP_EIO / CP_ESTORE when the file
//  or the store failed; what was committed before stays committed.
int
    node_import_file (node_store_t *store, const char *path, FILE *errors, bool progress,
                      node_import_stats_t *stats);

#endif
