/*  central_export: the central's figures as tables, for PostgreSQL or CSV.

    `cpsync-central export` gathers the JSON documents the other commands
    print (query's view of every period and scope, quality, workforce,
    directive list: the same producers, so an export can never disagree
    with them) and hands each to this module, which flattens it into rows
    of a fixed set of tables (docs/export.md): export, counties,
    municipalities, periods, figures (long form: period, scope, measure,
    key, value, suppressed), quality, quality_rates, workforce,
    workforce_totals, directives, directive_states.  Nothing is computed
    here beyond that reshaping.

    The rows are then written, all or nothing: to PostgreSQL with libpq,
    in one transaction that creates the schema and tables when missing,
    empties them and loads them with COPY (a second export replaces the
    first, and a reader sees the old rows or the new, never a mix); or to
    one CSV file per table in a directory, each written beside and renamed
    into place.                                                           */

#ifndef CENTRAL_EXPORT_H_INCLUDED
#define CENTRAL_EXPORT_H_INCLUDED

#include "cp_date.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CENTRAL_EXPORT_SCHEMA "cpsync"      //  the PostgreSQL schema of the tables

typedef struct _central_export_t central_export_t;

//  A new export, the counties and municipalities already in it.  threshold
//  > 0 marks it a publication (--public): the views given are suppressed
//  ones, and no directive is kept.  catalogue is the views' version.
central_export_t *
    central_export_new (int catalogue, int threshold);

//  Destroys; accepts NULL and clears the pointer.
void
    central_export_destroy (central_export_t **self_p);

//  Adds a period the views below are of (its row in periods).
void
    central_export_period (central_export_t *self, const cp_period_t *period);

//  Adds a view as query --format json prints it (borrowed).
void
    central_export_view (central_export_t *self, const json_t *view);

//  Adds a period's quality document (quality --format json, national).
void
    central_export_quality (central_export_t *self, const json_t *quality);

//  Adds a period's workforce document (workforce --format json, national).
void
    central_export_workforce (central_export_t *self, const json_t *workforce);

//  Adds the directives (directive list --format json); ignored in a
//  publication.
void
    central_export_directives (central_export_t *self, const json_t *list);

//  The number of rows of every table together.
size_t
    central_export_rows (central_export_t *self);

//  Writes every table into schema cpsync of the database conninfo names
//  (libpq's connection string or URI), replacing what an earlier export
//  wrote, in one transaction.  Returns 0, or -1 with why filled (nothing
//  written).
int
    central_export_to_pg (central_export_t *self, const char *conninfo, char *why,
                          size_t size);

//  Writes every table as DIR/NAME.csv (a header line, then the rows; an
//  empty field is NULL), creating DIR when missing.  Returns 0, or -1 with
//  why filled.
int
    central_export_to_csv (central_export_t *self, const char *dir, char *why, size_t size);

#endif
