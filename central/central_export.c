/*  central_export: the central's figures as tables, for PostgreSQL or CSV.

    Each table is a fixed list of columns (name and PostgreSQL type) and a
    growing array of cells, each a string or NULL (SQL NULL): the JSON
    documents are turned into text once, and the two writers only quote
    it, COPY's text format for PostgreSQL and RFC 4180 for CSV.  Holding
    every row in memory is fine at this size: 61 municipalities, a few
    hundred cells a view, some tens of periods.                            */

#include "central_export.h"
#include "cp_municipality.h"

#include <assert.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *name;
    const char *type;               //  PostgreSQL's
} s_column_t;

typedef struct {
    const char *name;
    const s_column_t *columns;      //  ends with a NULL name
    const char *constraints;        //  after the columns in CREATE TABLE, or NULL
    size_t width;
    char **cells;                   //  rows * width, row after row; NULL is SQL NULL
    size_t rows, capacity;
} s_table_t;

enum {
    S_EXPORT, S_COUNTIES, S_MUNICIPALITIES, S_PERIODS, S_FIGURES, S_QUALITY, S_QUALITY_RATES,
    S_WORKFORCE, S_WORKFORCE_TOTALS, S_DIRECTIVES, S_DIRECTIVE_STATES, S_TABLES
};

static const s_column_t s_export_columns [] = {
    {"exported_at", "timestamptz"}, {"catalogue", "integer"}, {"public", "boolean"},
    {"threshold", "integer"}, {NULL, NULL}};
static const s_column_t s_counties_columns [] = {
    {"code", "text"}, {"name", "text"}, {NULL, NULL}};
static const s_column_t s_municipalities_columns [] = {
    {"code", "text"}, {"name", "text"}, {"county", "text"}, {NULL, NULL}};
static const s_column_t s_periods_columns [] = {
    {"period", "text"}, {"kind", "text"}, {"year", "integer"}, {"quarter", "integer"},
    {"first_day", "date"}, {"last_day", "date"}, {NULL, NULL}};
static const s_column_t s_figures_columns [] = {
    {"period", "text"}, {"scope", "text"}, {"scope_kind", "text"}, {"scope_code", "text"},
    {"measure", "text"}, {"key", "text"}, {"value", "bigint"}, {"suppressed", "boolean"},
    {NULL, NULL}};
static const s_column_t s_quality_columns [] = {
    {"period", "text"}, {"municipality", "text"}, {"county", "text"}, {"deadline", "date"},
    {"timeliness", "text"}, {"events", "bigint"}, {"first_arrival", "timestamptz"},
    {"last_arrival", "timestamptz"}, {"days_late", "integer"},
    {"arrived_after_deadline", "boolean"}, {"caught_up", "boolean"}, {"backlog", "bigint"},
    {"last_seen", "timestamptz"}, {"latest_date", "date"}, {"reconciliation", "text"},
    {NULL, NULL}};
static const s_column_t s_quality_rates_columns [] = {
    {"period", "text"}, {"scope", "text"}, {"municipalities", "integer"},
    {"on_time", "integer"}, {"late", "integer"}, {"missing", "integer"},
    {"pending", "integer"}, {"completeness", "double precision"}, {NULL, NULL}};
static const s_column_t s_workforce_columns [] = {
    {"period", "text"}, {"as_of", "date"}, {"municipality", "text"}, {"county", "text"},
    {"status", "text"}, {"since", "date"}, {"workers", "integer"}, {"children", "integer"},
    {"children_per_worker", "double precision"}, {"above_target", "boolean"}, {NULL, NULL}};
static const s_column_t s_workforce_totals_columns [] = {
    {"period", "text"}, {"scope", "text"}, {"target", "integer"}, {"workers", "integer"},
    {"children", "integer"}, {"children_per_worker", "double precision"},
    {"above_target", "boolean"}, {"reported", "integer"}, {"no_report", "integer"},
    {"above_target_count", "integer"}, {NULL, NULL}};
static const s_column_t s_directives_columns [] = {
    {"seq", "bigint"}, {"kind", "text"}, {"address", "text"}, {"due", "date"},
    {"issued", "timestamptz"}, {"text", "text"}, {"sent", "integer"}, {"delivered", "integer"},
    {"acknowledged", "integer"}, {"done", "integer"}, {"overdue", "integer"}, {NULL, NULL}};
static const s_column_t s_directive_states_columns [] = {
    {"seq", "bigint"}, {"municipality", "text"}, {"state", "text"}, {"received", "date"},
    {"done", "date"}, {"note", "text"}, {NULL, NULL}};

struct _central_export_t {
    s_table_t tables [S_TABLES];
    bool public;                    //  a publication: no directives
};

//  =====================================================================
//  Rows

//  Adds a row of table's width, each value copied (NULL stays NULL).
static void
s_row (s_table_t *table, ...)
{
    if (table->rows == table->capacity) {
        table->capacity = table->capacity? table->capacity * 2: 256;
        table->cells = realloc (table->cells, table->capacity * table->width * sizeof (char *));
        assert (table->cells);
    }
    char **row = table->cells + table->rows * table->width;
    va_list args;
    va_start (args, table);
    for (size_t column = 0; column < table->width; column++) {
        const char *value = va_arg (args, const char *);
        row [column] = value? strdup (value): NULL;
        assert (!value || row [column]);
    }
    va_end (args);
    table->rows++;
}

//  A JSON scalar as a cell, in a static-free buffer: NULL for null or
//  absent, the number, "true"/"false", or the string (borrowed from the
//  document, which outlives the row's copy).
static const char *
s_cell (const json_t *value, char *buffer, size_t size)
{
    if (!value || json_is_null (value))
        return NULL;
    if (json_is_string (value))
        return json_string_value (value);
    if (json_is_integer (value))
        snprintf (buffer, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else
    if (json_is_real (value))
        snprintf (buffer, size, "%.12g", json_real_value (value));
    else
    if (json_is_boolean (value))
        snprintf (buffer, size, "%s", json_is_true (value)? "true": "false");
    else
        return NULL;                //  an object or array is no cell
    return buffer;
}

//  Shorthands: a member of object as a cell, in buffer n of a row's set.
#define S_CELLS 16
typedef char s_cells_t [S_CELLS][32];
#define S_GET(object, key, n) s_cell (json_object_get ((object), (key)), cells [n], 32)

central_export_t *
central_export_new (int catalogue, int threshold)
{
    central_export_t *self = calloc (1, sizeof (central_export_t));
    assert (self);
    self->public = threshold > 0;
    struct {
        const char *name;
        const s_column_t *columns;
        const char *constraints;
    } tables [S_TABLES] = {
        {"export", s_export_columns, NULL},
        {"counties", s_counties_columns, "PRIMARY KEY (code)"},
        {"municipalities", s_municipalities_columns, "PRIMARY KEY (code)"},
        {"periods", s_periods_columns, "PRIMARY KEY (period)"},
        {"figures", s_figures_columns, NULL},
        {"quality", s_quality_columns, "PRIMARY KEY (period, municipality)"},
        {"quality_rates", s_quality_rates_columns, "PRIMARY KEY (period, scope)"},
        {"workforce", s_workforce_columns, "PRIMARY KEY (period, municipality)"},
        {"workforce_totals", s_workforce_totals_columns, "PRIMARY KEY (period, scope)"},
        {"directives", s_directives_columns, "PRIMARY KEY (seq)"},
        {"directive_states", s_directive_states_columns, "PRIMARY KEY (seq, municipality)"}
    };
    for (int index = 0; index < S_TABLES; index++) {
        s_table_t *table = &self->tables [index];
        table->name = tables [index].name;
        table->columns = tables [index].columns;
        table->constraints = tables [index].constraints;
        while (table->columns [table->width].name)
            table->width++;
    }
    char now [32], version [16], limit [16];
    time_t seconds = time (NULL);
    strftime (now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime (&seconds));
    snprintf (version, sizeof version, "%d", catalogue);
    snprintf (limit, sizeof limit, "%d", threshold);
    s_row (&self->tables [S_EXPORT], now, version, self->public? "true": "false",
           self->public? limit: NULL);
    for (int county = 0; county < cp_county_count (); county++)
        s_row (&self->tables [S_COUNTIES], cp_county_code (county), cp_county_name (county));
    for (int index = 0; index < cp_municipality_count (); index++)
        s_row (&self->tables [S_MUNICIPALITIES], cp_municipality_code (index),
               cp_municipality_name (index),
               cp_county_code (cp_municipality_county (index)));
    return self;
}

void
central_export_destroy (central_export_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    central_export_t *self = *self_p;
    for (int index = 0; index < S_TABLES; index++) {
        s_table_t *table = &self->tables [index];
        for (size_t cell = 0; cell < table->rows * table->width; cell++)
            free (table->cells [cell]);
        free (table->cells);
    }
    free (self);
    *self_p = NULL;
}

void
central_export_period (central_export_t *self, const cp_period_t *period)
{
    assert (self && period);
    char year [8], quarter [4], first [16], last [16];
    snprintf (year, sizeof year, "%.4s", period->name);
    bool is_quarter = strlen (period->name) == 7;
    snprintf (quarter, sizeof quarter, "%c", is_quarter? period->name [6]: '0');
    cp_date_format (period->start, first);
    cp_date_format (period->end, last);
    s_row (&self->tables [S_PERIODS], period->name, is_quarter? "quarter": "year", year,
           is_quarter? quarter: NULL, first, last);
}

void
central_export_view (central_export_t *self, const json_t *view)
{
    assert (self && view);
    s_table_t *table = &self->tables [S_FIGURES];
    const char *period = json_string_value (json_object_get (view, "period"));
    const char *scope = json_string_value (json_object_get (view, "scope"));
    if (!period || !scope)
        return;
    char kind [16];
    const char *colon = strchr (scope, ':');
    snprintf (kind, sizeof kind, "%.*s", colon? (int) (colon - scope): (int) strlen (scope),
              scope);
    const char *code = colon? colon + 1: NULL;
    const char *measure;
    json_t *value;
    json_object_foreach ((json_t *) view, measure, value) {
        //  The document's own description, not a figure.
        if (strcmp (measure, "period") == 0 || strcmp (measure, "scope") == 0
        ||  strcmp (measure, "catalogue") == 0 || strcmp (measure, "suppression") == 0)
            continue;
        char number [32];
        if (json_is_object (value)) {
            const char *key;
            json_t *cell;
            json_object_foreach (value, key, cell) {
                bool hidden = json_is_string (cell);        //  "c": suppressed
                s_row (table, period, scope, kind, code, measure, key,
                       hidden? NULL: s_cell (cell, number, sizeof number),
                       hidden? "true": "false");
            }
        }
        else {
            bool hidden = json_is_string (value);
            s_row (table, period, scope, kind, code, measure, NULL,
                   hidden? NULL: s_cell (value, number, sizeof number), hidden? "true": "false");
        }
    }
}

//  A rate object's row of quality_rates.
static void
s_rate (s_table_t *table, const char *period, const char *scope, const json_t *rate)
{
    s_cells_t cells;
    s_row (table, period, scope, S_GET (rate, "municipalities", 0), S_GET (rate, "on_time", 1),
           S_GET (rate, "late", 2), S_GET (rate, "missing", 3), S_GET (rate, "pending", 4),
           S_GET (rate, "completeness", 5));
}

void
central_export_quality (central_export_t *self, const json_t *quality)
{
    assert (self && quality);
    const char *period = json_string_value (json_object_get (quality, "period"));
    const char *deadline = json_string_value (json_object_get (quality, "deadline"));
    if (!period)
        return;
    s_rate (&self->tables [S_QUALITY_RATES], period, "national",
            json_object_get (quality, "rate"));
    size_t index;
    json_t *county;
    json_array_foreach (json_object_get (quality, "counties"), index, county) {
        const char *code = json_string_value (json_object_get (county, "county"));
        char scope [CP_SCOPE_MAX];
        snprintf (scope, sizeof scope, "county:%s", code? code: "");
        s_rate (&self->tables [S_QUALITY_RATES], period, scope, json_object_get (county, "rate"));
        size_t at;
        json_t *m;
        json_array_foreach (json_object_get (county, "municipalities"), at, m) {
            s_cells_t cells;
            s_row (&self->tables [S_QUALITY], period, S_GET (m, "code", 0), code, deadline,
                   S_GET (m, "timeliness", 1), S_GET (m, "events", 2),
                   S_GET (m, "first_arrival", 3), S_GET (m, "last_arrival", 4),
                   S_GET (m, "days_late", 5), S_GET (m, "arrived_after_deadline", 6),
                   S_GET (m, "caught_up", 7), S_GET (m, "backlog", 8),
                   S_GET (m, "last_seen", 9), S_GET (m, "latest_date", 10),
                   S_GET (m, "reconciliation", 11));
        }
    }
}

//  A total object's row of workforce_totals.
static void
s_total (s_table_t *table, const char *period, const char *scope, const char *target,
         const json_t *total)
{
    s_cells_t cells;
    s_row (table, period, scope, target, S_GET (total, "workers", 0),
           S_GET (total, "children", 1), S_GET (total, "children_per_worker", 2),
           S_GET (total, "above_target", 3), S_GET (total, "reported", 4),
           S_GET (total, "no_report", 5), S_GET (total, "above_target_count", 6));
}

void
central_export_workforce (central_export_t *self, const json_t *workforce)
{
    assert (self && workforce);
    const char *period = json_string_value (json_object_get (workforce, "period"));
    const char *as_of = json_string_value (json_object_get (workforce, "as_of"));
    if (!period)
        return;
    char target [32];
    const char *target_text = s_cell (json_object_get (workforce, "target"), target,
                                      sizeof target);
    s_total (&self->tables [S_WORKFORCE_TOTALS], period, "national", target_text,
             json_object_get (workforce, "total"));
    size_t index;
    json_t *county;
    json_array_foreach (json_object_get (workforce, "counties"), index, county) {
        const char *code = json_string_value (json_object_get (county, "county"));
        char scope [CP_SCOPE_MAX];
        snprintf (scope, sizeof scope, "county:%s", code? code: "");
        //  A county's totals are members of the county itself.
        s_total (&self->tables [S_WORKFORCE_TOTALS], period, scope, target_text, county);
        size_t at;
        json_t *m;
        json_array_foreach (json_object_get (county, "municipalities"), at, m) {
            s_cells_t cells;
            s_row (&self->tables [S_WORKFORCE], period, as_of, S_GET (m, "code", 0), code,
                   S_GET (m, "status", 1), S_GET (m, "since", 2), S_GET (m, "workers", 3),
                   S_GET (m, "children", 4), S_GET (m, "children_per_worker", 5),
                   S_GET (m, "above_target", 6));
        }
    }
}

void
central_export_directives (central_export_t *self, const json_t *list)
{
    assert (self && list);
    if (self->public)
        return;                     //  instructions to the units, not for publication
    size_t index;
    json_t *d;
    json_array_foreach (list, index, d) {
        s_cells_t cells;
        const json_t *counts = json_object_get (d, "counts");
        const char *seq = S_GET (d, "seq", 0);
        s_row (&self->tables [S_DIRECTIVES], seq, S_GET (d, "kind", 1), S_GET (d, "to", 2),
               S_GET (d, "due", 3), S_GET (d, "issued", 4), S_GET (d, "text", 5),
               S_GET (counts, "sent", 6), S_GET (counts, "delivered", 7),
               S_GET (counts, "acknowledged", 8), S_GET (counts, "done", 9),
               S_GET (counts, "overdue", 10));
        size_t at;
        json_t *m;
        json_array_foreach (json_object_get (d, "municipalities"), at, m)
            s_row (&self->tables [S_DIRECTIVE_STATES], seq, S_GET (m, "code", 11),
                   S_GET (m, "state", 12), S_GET (m, "received", 13), S_GET (m, "done", 14),
                   S_GET (m, "note", 15));
    }
}

size_t
central_export_rows (central_export_t *self)
{
    assert (self);
    size_t rows = 0;
    for (int index = 0; index < S_TABLES; index++)
        rows += self->tables [index].rows;
    return rows;
}

//  =====================================================================
//  PostgreSQL

//  Runs one statement that returns no rows; on failure says why.
static int
s_exec (PGconn *connection, const char *sql, char *why, size_t size)
{
    PGresult *result = PQexec (connection, sql);
    ExecStatusType status = PQresultStatus (result);
    int rc = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK? 0: -1;
    if (rc)
        snprintf (why, size, "%s", PQresultErrorMessage (result));
    PQclear (result);
    return rc;
}

//  Appends text to a COPY line in its text format: backslash, tab,
//  newline and carriage return escaped; NULL is \N.
static void
s_copy_cell (FILE *line, const char *text)
{
    if (!text) {
        fputs ("\\N", line);
        return;
    }
    for (const char *cursor = text; *cursor; cursor++)
        switch (*cursor) {
            case '\\': fputs ("\\\\", line); break;
            case '\t': fputs ("\\t", line); break;
            case '\n': fputs ("\\n", line); break;
            case '\r': fputs ("\\r", line); break;
            default:   fputc (*cursor, line);
        }
}

//  Creates table when missing, empties it and copies its rows in.
static int
s_pg_table (PGconn *connection, const s_table_t *table, char *why, size_t size)
{
    char *sql = NULL;
    size_t length = 0;
    FILE *text = open_memstream (&sql, &length);
    assert (text);
    fprintf (text, "CREATE TABLE IF NOT EXISTS " CENTRAL_EXPORT_SCHEMA ".%s (", table->name);
    for (size_t column = 0; column < table->width; column++)
        fprintf (text, "%s%s %s", column? ", ": "", table->columns [column].name,
                 table->columns [column].type);
    if (table->constraints)
        fprintf (text, ", %s", table->constraints);
    fprintf (text, ")");
    fclose (text);
    int rc = s_exec (connection, sql, why, size);
    free (sql);
    char statement [256];
    snprintf (statement, sizeof statement, "TRUNCATE " CENTRAL_EXPORT_SCHEMA ".%s", table->name);
    if (rc == 0)
        rc = s_exec (connection, statement, why, size);
    //  The columns named: an older table of other columns fails, clearly.
    text = open_memstream (&sql, &length);
    assert (text);
    fprintf (text, "COPY " CENTRAL_EXPORT_SCHEMA ".%s (", table->name);
    for (size_t column = 0; column < table->width; column++)
        fprintf (text, "%s%s", column? ", ": "", table->columns [column].name);
    fprintf (text, ") FROM STDIN");
    fclose (text);
    if (rc == 0) {
        PGresult *result = PQexec (connection, sql);
        if (PQresultStatus (result) != PGRES_COPY_IN) {
            snprintf (why, size, "%s", PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    free (sql);
    if (rc)
        return rc;
    for (size_t row = 0; row < table->rows && rc == 0; row++) {
        char *line = NULL;
        text = open_memstream (&line, &length);
        assert (text);
        for (size_t column = 0; column < table->width; column++) {
            if (column)
                fputc ('\t', text);
            s_copy_cell (text, table->cells [row * table->width + column]);
        }
        fputc ('\n', text);
        fclose (text);
        if (PQputCopyData (connection, line, (int) length) != 1) {
            snprintf (why, size, "%s", PQerrorMessage (connection));
            rc = -1;
        }
        free (line);
    }
    if (PQputCopyEnd (connection, rc? "export failed": NULL) != 1 && rc == 0) {
        snprintf (why, size, "%s", PQerrorMessage (connection));
        rc = -1;
    }
    PGresult *result;
    while ((result = PQgetResult (connection))) {
        if (PQresultStatus (result) != PGRES_COMMAND_OK && rc == 0) {
            snprintf (why, size, "table %s: %s", table->name, PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    return rc;
}

//  libpq's messages end with a newline and may hold several lines; ours
//  are one line, the server's lines joined by "; ".
static void
s_one_line (char *why)
{
    size_t length = strlen (why);
    while (length && (why [length - 1] == '\n' || why [length - 1] == ' '))
        why [--length] = 0;
    for (char *cursor = why; (cursor = strchr (cursor, '\n')); )
        *cursor = ';';
}

static void
s_no_notice (void *context, const char *message)
{
    (void) context;
    (void) message;
}

int
central_export_to_pg (central_export_t *self, const char *conninfo, char *why, size_t size)
{
    assert (self && conninfo && why);
    PGconn *connection = PQconnectdb (conninfo);
    if (PQstatus (connection) != CONNECTION_OK) {
        snprintf (why, size, "cannot connect: %s", PQerrorMessage (connection));
        PQfinish (connection);
        s_one_line (why);
        return -1;
    }
    //  The server's notices ("schema already exists, skipping") are not ours to show.
    PQsetNoticeProcessor (connection, s_no_notice, NULL);
    //  One transaction: the tables are replaced together or not at all.
    int rc = s_exec (connection, "BEGIN", why, size);
    if (rc == 0)
        rc = s_exec (connection, "CREATE SCHEMA IF NOT EXISTS " CENTRAL_EXPORT_SCHEMA, why, size);
    for (int index = 0; index < S_TABLES && rc == 0; index++)
        rc = s_pg_table (connection, &self->tables [index], why, size);
    if (rc == 0)
        rc = s_exec (connection, "COMMIT", why, size);
    else
        PQexec (connection, "ROLLBACK");
    PQfinish (connection);
    s_one_line (why);
    return rc;
}

//  =====================================================================
//  CSV

//  A field, quoted when it holds a comma, a quote, a line break, or
//  spaces at an end (which a reader might trim).
static void
s_csv_cell (FILE *file, const char *text)
{
    if (!text)
        return;
    size_t length = strlen (text);
    bool quote = strpbrk (text, ",\"\r\n") || (length && (text [0] == ' '
                                                          || text [length - 1] == ' '));
    if (!quote) {
        fputs (text, file);
        return;
    }
    fputc ('"', file);
    for (const char *cursor = text; *cursor; cursor++) {
        if (*cursor == '"')
            fputc ('"', file);
        fputc (*cursor, file);
    }
    fputc ('"', file);
}

int
central_export_to_csv (central_export_t *self, const char *dir, char *why, size_t size)
{
    assert (self && dir && why);
    if (mkdir (dir, 0755) && errno != EEXIST) {
        snprintf (why, size, "%s: %s", dir, strerror (errno));
        return -1;
    }
    for (int index = 0; index < S_TABLES; index++) {
        const s_table_t *table = &self->tables [index];
        char path [4096], temporary [4096 + 8];
        snprintf (path, sizeof path, "%s/%s.csv", dir, table->name);
        snprintf (temporary, sizeof temporary, "%s.part", path);
        FILE *file = fopen (temporary, "w");
        if (!file) {
            snprintf (why, size, "%s: %s", temporary, strerror (errno));
            return -1;
        }
        for (size_t column = 0; column < table->width; column++)
            fprintf (file, "%s%s", column? ",": "", table->columns [column].name);
        fputs ("\r\n", file);
        for (size_t row = 0; row < table->rows; row++) {
            for (size_t column = 0; column < table->width; column++) {
                if (column)
                    fputc (',', file);
                s_csv_cell (file, table->cells [row * table->width + column]);
            }
            fputs ("\r\n", file);
        }
        bool written = fflush (file) == 0 && fsync (fileno (file)) == 0;
        int error = errno;
        if (fclose (file) || !written || rename (temporary, path)) {
            snprintf (why, size, "%s: %s", path, strerror (written? errno: error));
            unlink (temporary);
            return -1;
        }
    }
    return 0;
}
