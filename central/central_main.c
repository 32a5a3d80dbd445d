/*  cpsync-central: the command line of the State Agency's central.

        cpsync-central init  --data DIR [--listen ENDPOINT] [--catalogue N]
        cpsync-central run   --data DIR [--listen ENDPOINT] [--verbose]
        cpsync-central query --data DIR --period P
                             [--scope national|county:CODE|municipality:CODE]
                             [--catalogue N] [--format json|table|csv] [--lang sq|en]
        cpsync-central nodes --data DIR [--format json|table]
        cpsync-central stats --data DIR [--format json|table]
        cpsync-central refused --data DIR [--scope municipality:CODE]
                               [--format json|table]
        cpsync-central backup --data DIR --out FILE
        cpsync-central restore --from FILE --data DIR

    run starts the server actor and waits for SIGINT or SIGTERM; the actor
    commits what it holds before it ends, and run exits 0.  query, nodes,
    stats and refused open the store read-only, so they work while run
    runs; so does backup (cp_backup), while restore refuses while run runs.
    refused lists the events not counted (a rule's quarantine, or a
    conflict: an event id taken before with other content), without case
    values.

    Exit codes: 0 done; 1 a command failed on its data or restore refused
    the backup; 2 usage or environment errors (bad flags, not a central,
    store, endpoint, unreadable files).                                    */

#include "central_admin.h"
#include "central_server.h"
#include "central_store.h"
#include "cp_backup.h"
#include "cp_check.h"
#include "cp_suppress.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "cp_wire.h"
#include "cp_process.h"
#include "cp_view.h"

#include <czmq.h>
#include <getopt.h>
#include <unistd.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <time.h>

#define S_EXIT_FAILED 1
#define S_EXIT_USAGE 2

typedef struct {
    const char *command;
    const char *data;
    const char *listen;
    const char *period;
    const char *scope;
    const char *format;         //  NULL: the command's default
    const char *lang;
    const char *compare;        //  query: a published report to print beside
    const char *report;         //  check: a published report to check as well
    const char *out;            //  backup: the file to write
    const char *from;           //  restore: the backup to read
    int catalogue;              //  0 = the default
    bool verbose;
    bool public;                //  query: for publication, small cells hidden
    int threshold;              //  query --public: cells of 1 to this hidden; 0 if invalid
} s_options_t;

static int
s_usage (const char *message)
{
    if (message)
        fprintf (stderr, "cpsync-central: %s\n", message);
    fprintf (stderr,
        "usage: cpsync-central init  --data DIR [--listen ENDPOINT] [--catalogue N]\n"
        "       cpsync-central run   --data DIR [--listen ENDPOINT] [--verbose]\n"
        "       cpsync-central query --data DIR --period YYYY|YYYY-Qn\n"
        "                            [--scope national|county:CODE|municipality:CODE]\n"
        "                            [--catalogue N] [--format json|table|csv] [--lang sq|en]\n"
        "                            [--compare REPORT.json]  (with --format table)\n"
        "                            [--public [--threshold N]]  (for publication: cells of\n"
        "                            1 to N, default 5, and what would tell them, shown as c)\n"
        "       cpsync-central check --data DIR --period YYYY|YYYY-Qn\n"
        "                            [--scope national|county:CODE|municipality:CODE|all]\n"
        "                            [--catalogue N] [--report REPORT.json] [--format json|table]\n"
        "                            (exit 1 when a consistency rule is broken)\n"
        "       cpsync-central nodes --data DIR [--format json|table]\n"
        "       cpsync-central stats --data DIR [--format json|table]\n"
        "       cpsync-central refused --data DIR [--scope municipality:CODE]\n"
        "                              [--format json|table]\n"
        "       cpsync-central backup --data DIR --out FILE\n"
        "       cpsync-central restore --from FILE --data DIR\n"
        "backup works while run runs; restore needs DIR/keys in place (a backup\n"
        "holds no keys) and refuses while run runs.\n");
    return S_EXIT_USAGE;
}

static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option longs [] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'L'},
        {"period", required_argument, NULL, 'p'},
        {"scope", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"lang", required_argument, NULL, 'l'},
        {"compare", required_argument, NULL, 'r'},
        {"report", required_argument, NULL, 'R'},
        {"public", no_argument, NULL, 'P'},
        {"threshold", required_argument, NULL, 'T'},
        {"catalogue", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"out", required_argument, NULL, 'o'},
        {"from", required_argument, NULL, 'F'},
        {NULL, 0, NULL, 0}
    };
    memset (options, 0, sizeof *options);
    options->command = argv [1];
    options->scope = "national";
    options->lang = "sq";
    options->threshold = CP_SUPPRESS_THRESHOLD;
    optind = 2;
    int option;
    while ((option = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        switch (option) {
            case 'd': options->data = optarg; break;
            case 'L': options->listen = optarg; break;
            case 'p': options->period = optarg; break;
            case 's': options->scope = optarg; break;
            case 'f': options->format = optarg; break;
            case 'l': options->lang = optarg; break;
            case 'r': options->compare = optarg; break;
            case 'R': options->report = optarg; break;
            case 'P': options->public = true; break;
            case 'T': {
                char *end;
                errno = 0;
                long threshold = strtol (optarg, &end, 10);
                options->threshold = errno || *end || end == optarg || threshold < 1
                                  || threshold > 1000000? 0: (int) threshold;
                break;
            }
            case 'v': options->verbose = true; break;
            case 'o': options->out = optarg; break;
            case 'F': options->from = optarg; break;
            case 'c':
                options->catalogue = atoi (optarg);
                if (options->catalogue < 1)
                    return CP_EUSAGE;
                break;
            default:  return CP_EUSAGE;
        }
    }
    if (optind != argc || !options->data)
        return CP_EUSAGE;
    return 0;
}

//  Opens the central of --data for reading, or explains why not.
static central_store_t *
s_open (const s_options_t *options)
{
    int error = 0;
    central_store_t *store = central_store_open (options->data, CENTRAL_STORE_READONLY, &error);
    if (!store)
        fprintf (stderr, "cpsync-central: %s: %s\n", options->data,
                 error == CP_ENOTCENTRAL? "not a cpsync central data directory "
                                          "(run 'cpsync-central init' first)"
                                        : cp_strerror (error));
    return store;
}

//  =====================================================================
//  Commands

static int
s_init (const s_options_t *options)
{
    int catalogue = options->catalogue? options->catalogue: cp_catalogue_builtin_count;
    const char *listen = options->listen? options->listen: CENTRAL_STORE_LISTEN;
    //  The same set-up as cpsync-admin init-central, the root key kept in
    //  DIR/keys/root.secret (the administrator may move it offline).
    char why [512] = "";
    int rc = central_admin_init (options->data, listen, catalogue, NULL, why, sizeof why);
    if (rc) {
        fprintf (stderr, "cpsync-central: init %s: %s\n", options->data,
                 rc == CP_EEXISTS? "already holds a central"
                 : rc == CP_ECATALOGUE? "no such built-in catalogue": why);
        return S_EXIT_USAGE;
    }
    printf ("central set up in %s (listen %s, catalogue %d, %d municipalities)\n",
            options->data, listen, catalogue, cp_municipality_count ());
    return 0;
}

static int
s_run (const s_options_t *options)
{
    zactor_t *server = zactor_new (central_server, (void *) options->data);
    assert (server);
    if (options->verbose)
        zstr_send (server, "VERBOSE");
    zstr_sendx (server, "BIND", options->listen? options->listen: "", NULL);
    char *status = NULL, *message = NULL;
    if (zsock_recv (server, "ss", &status, &message) || !status || !streq (status, "OK")) {
        fprintf (stderr, "cpsync-central: run: %s\n", message? message: "interrupted");
        zstr_free (&status);
        zstr_free (&message);
        zactor_destroy (&server);
        return S_EXIT_USAGE;
    }
    zsys_info ("cpsync-central: serving %s on %s", options->data, message);
    zstr_free (&status);
    zstr_free (&message);
    //  The actor says nothing unasked: this waits for SIGINT or SIGTERM.
    zpoller_t *poller = zpoller_new (server, NULL);
    while (!zsys_interrupted)
        if (zpoller_wait (poller, 100) == server) {
            zmsg_t *unexpected = zmsg_recv (server);
            zmsg_destroy (&unexpected);
        }
    zpoller_destroy (&poller);
    zsys_info ("cpsync-central: stopping");
    zactor_destroy (&server);
    return 0;
}

//  Reads a whole small file (a published report) into a string; NULL on failure.
static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    if (fseek (file, 0, SEEK_END) == 0) {
        long length = ftell (file);
        if (length >= 0 && length < (1 << 20) && fseek (file, 0, SEEK_SET) == 0) {
            text = malloc ((size_t) length + 1);
            size = text? fread (text, 1, (size_t) length, file): 0;
            if (text)
                text [size] = 0;
        }
    }
    fclose (file);
    return text;
}

//  The units of the hierarchy, in the order cp_suppress gets them: the
//  nation, the counties, the municipalities.
static int
s_unit_count (void)
{
    return 1 + cp_county_count () + cp_municipality_count ();
}

static cp_scope_t
s_unit_scope (int unit)
{
    if (unit == 0)
        return (cp_scope_t) {CP_SCOPE_NATIONAL, 0};
    if (unit <= cp_county_count ())
        return (cp_scope_t) {CP_SCOPE_COUNTY, unit - 1};
    return (cp_scope_t) {CP_SCOPE_MUNICIPALITY, unit - 1 - cp_county_count ()};
}

static int
s_unit_of (const cp_scope_t *scope)
{
    if (scope->kind == CP_SCOPE_NATIONAL)
        return 0;
    if (scope->kind == CP_SCOPE_COUNTY)
        return 1 + scope->index;
    return 1 + cp_county_count () + scope->index;
}

static int
s_unit_parent (int unit)
{
    cp_scope_t scope = s_unit_scope (unit);
    if (scope.kind == CP_SCOPE_NATIONAL)
        return -1;
    if (scope.kind == CP_SCOPE_COUNTY)
        return 0;
    return 1 + cp_municipality_county (scope.index);
}

//  query --public: every unit's figures of the period, so that what is
//  hidden in the scope asked for cannot be worked out from any other
//  scope's figures; then that scope's view with its hidden cells as "c".
static int
s_query_public (central_store_t *store, const s_options_t *options, const cp_period_t *period,
                const cp_scope_t *scope, int version, const char *format)
{
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    int count = s_unit_count ();
    cp_view_t *views = calloc ((size_t) count, sizeof (cp_view_t));
    cp_figures_t *figures = calloc ((size_t) count, sizeof (cp_figures_t));
    cp_suppressed_t *suppressed = calloc ((size_t) count, sizeof (cp_suppressed_t));
    int *parent = calloc ((size_t) count, sizeof (int));
    assert (views && figures && suppressed && parent);
    int rc = 0;
    for (int unit = 0; rc == 0 && unit < count; unit++) {
        char name [CP_SCOPE_MAX];
        cp_scope_t each = s_unit_scope (unit);
        cp_scope_format (&each, name);
        cp_view_init (&views [unit], period, name);
        rc = central_store_view (store, name, &views [unit]);
        if (rc == 0)
            cp_view_figures (&views [unit], catalogue, version, &figures [unit]);
        parent [unit] = s_unit_parent (unit);
    }
    if (rc == 0)
        rc = cp_suppress (figures, parent, count, catalogue, options->threshold, suppressed);
    if (rc == 0) {
        int unit = s_unit_of (scope);
        char note [512];
        snprintf (note, sizeof note,
                  "for publication: cells of 1 to %d are shown as c (primary suppression, "
                  "%d here), and %d more so that no hidden cell can be worked out from its "
                  "row's total and other cells, nor from the figures of its county, of the "
                  "nation or of the other municipalities of the period (secondary suppression)",
                  options->threshold, suppressed [unit].primary, suppressed [unit].secondary);
        cp_view_mask_t mask = {suppressed [unit].hidden, note};
        rc = cp_view_print_masked (&views [unit], &figures [unit], catalogue, format,
                                   options->lang, &mask, stdout);
    }
    if (rc)
        fprintf (stderr, "cpsync-central: query: %s\n", cp_strerror (rc));
    free (views);
    free (figures);
    free (suppressed);
    free (parent);
    return rc? S_EXIT_FAILED: 0;
}

static int
s_query (const s_options_t *options)
{
    const char *format = options->format? options->format: "json";
    cp_period_t period;
    cp_scope_t scope;
    if (!options->period || cp_period_parse (options->period, &period))
        return s_usage ("query needs --period YYYY or YYYY-Qn (from 2000)");
    if (cp_scope_parse (options->scope, &scope))
        return s_usage ("--scope must be national, county:CODE or municipality:CODE "
                        "of a known county or municipality");
    if (strcmp (format, "json") && strcmp (format, "table") && strcmp (format, "csv"))
        return s_usage ("--format must be json, table or csv");
    if (strcmp (options->lang, "sq") && strcmp (options->lang, "en"))
        return s_usage ("--lang must be sq or en");
    if (options->compare && strcmp (format, "table"))
        return s_usage ("--compare needs --format table");
    if (options->compare && options->public)
        return s_usage ("--compare and --public do not go together");
    if (options->threshold < 1)
        return s_usage ("--threshold must be a whole number from 1 (cells of 1 to it are hidden)");
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    int version = options->catalogue? options->catalogue: cp_catalogue_version (catalogue);
    if (version > cp_catalogue_version (catalogue)) {
        fprintf (stderr, "cpsync-central: --catalogue %d: the central holds catalogue %d only\n",
                 version, cp_catalogue_version (catalogue));
        central_store_destroy (&store);
        return S_EXIT_USAGE;
    }
    if (options->public) {
        int rc = s_query_public (store, options, &period, &scope, version, format);
        central_store_destroy (&store);
        return rc;
    }
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, &period, options->scope);
    int rc = central_store_view (store, options->scope, view);
    if (rc == 0) {
        cp_view_figures (view, catalogue, version, figures);
        if (options->compare) {
            //  Beside a published report: the rows that differ are marked.
            char *report = s_read_file (options->compare);
            int differing = report? cp_view_print_comparison (view, figures, catalogue,
                                                              options->lang, report, stdout): -1;
            free (report);
            if (differing < 0)
                fprintf (stderr, "cpsync-central: --compare %s: not a readable JSON report\n",
                         options->compare);
            else
                printf ("\n%d row(s) differ from %s\n", differing, options->compare);
            rc = differing < 0? CP_EIO: 0;
        }
        else
        rc = cp_view_print (view, figures, catalogue, format, options->lang, stdout);
    }
    if (rc)
        fprintf (stderr, "cpsync-central: query: %s\n", cp_strerror (rc));
    free (view);
    free (figures);
    central_store_destroy (&store);
    return rc? S_EXIT_FAILED: 0;
}

//  The JSON form of a scope's view, as query prints it, parsed back.
//  NULL with *rc on failure.
static json_t *
s_view_json (central_store_t *store, const cp_period_t *period, const char *scope,
             int version, int *rc)
{
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, period, scope);
    json_t *document = NULL;
    *rc = central_store_view (store, scope, view);
    if (*rc == 0) {
        cp_view_figures (view, catalogue, version, figures);
        char *text = NULL;
        size_t size = 0;
        FILE *memory = open_memstream (&text, &size);
        assert (memory);
        *rc = cp_view_print_json (view, figures, catalogue, memory);
        fclose (memory);
        document = *rc? NULL: json_loadb (text, size, 0, NULL);
        if (!*rc && !document)
            *rc = CP_EMALFORMED;
        free (text);
    }
    free (view);
    free (figures);
    return document;
}

//  The document the consistency rules read for a scope: its view, and
//  the measures from the first day to the period's end ("_to_date"),
//  against which confirmations are checked (cp_check.h says why).
static json_t *
s_view_document (central_store_t *store, const cp_period_t *period, const char *scope,
                 int version, int *rc)
{
    json_t *document = s_view_json (store, period, scope, version, rc);
    cp_period_t to_date = *period;
    int32_t first_day;
    int parsed = cp_date_parse ("2000-01-01", CP_DATE_STRLEN, &first_day);
    assert (parsed == 0);
    to_date.start = first_day;
    json_t *cumulative = document? s_view_json (store, &to_date, scope, version, rc): NULL;
    if (cumulative) {
        const char *keys [] = {"measures_taken", "measures_court_confirmed"};
        for (size_t index = 0; index < 2; index++) {
            char key [64];
            snprintf (key, sizeof key, "%s_to_date", keys [index]);
            json_object_set (document, key, json_object_get (cumulative, keys [index]));
        }
    }
    else {
        json_decref (document);
        document = NULL;
    }
    json_decref (cumulative);
    return document;
}

//  Checks one document; appends {source, scope, findings, not_applicable}
//  to checked.  Returns the number of findings.
static int
s_check_document (json_t *checked, const char *source, const char *scope,
                  const json_t *document)
{
    json_t *findings = json_array (), *not_applicable = json_array ();
    int found = cp_check_view (document, findings, not_applicable);
    json_t *entry = json_object ();
    json_object_set_new (entry, "source", json_string (source));
    json_object_set_new (entry, "scope", json_string (scope));
    json_object_set_new (entry, "findings", findings);
    json_object_set_new (entry, "not_applicable", not_applicable);
    json_array_append_new (checked, entry);
    return found;
}

//  Every consistency rule (protocol/cp_check.c) on the central's view of
//  each scope asked for and, with --report, on a published table.
static int
s_check (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    cp_period_t period;
    cp_scope_t scope;
    bool all = strcmp (options->scope, "all") == 0;
    if (!options->period || cp_period_parse (options->period, &period))
        return s_usage ("check needs --period YYYY or YYYY-Qn (from 2000)");
    if (!all && cp_scope_parse (options->scope, &scope))
        return s_usage ("--scope must be national, county:CODE, municipality:CODE or all");
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage ("--format must be json or table");
    json_t *report = NULL;
    if (options->report) {
        char *text = s_read_file (options->report);
        json_error_t error;
        report = text? json_loads (text, 0, &error): NULL;
        free (text);
        if (!json_is_object (report)) {
            fprintf (stderr, "cpsync-central: --report %s: %s\n", options->report,
                     !text? "cannot be read (or is over 1 MiB)"
                          : "not a JSON object in the form of a view");
            json_decref (report);
            return S_EXIT_USAGE;
        }
        const char *published = json_string_value (json_object_get (report, "period"));
        if (published && strcmp (published, options->period)) {
            fprintf (stderr, "cpsync-central: --report %s is of period %s, not %s\n",
                     options->report, published, options->period);
            json_decref (report);
            return S_EXIT_USAGE;
        }
    }
    central_store_t *store = s_open (options);
    if (!store) {
        json_decref (report);
        return S_EXIT_USAGE;
    }
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    int version = options->catalogue? options->catalogue: cp_catalogue_version (catalogue);
    int rc = version > cp_catalogue_version (catalogue)? CP_EUSAGE: 0;

    //  The scopes: one, or the nation, every county and every municipality.
    int scopes = all? s_unit_count (): 1;
    json_t *checked = json_array ();
    int found = 0;
    for (int index = 0; rc == 0 && index < scopes; index++) {
        char name [CP_SCOPE_MAX];
        cp_scope_t each = all? s_unit_scope (index): scope;
        cp_scope_format (&each, name);
        json_t *document = s_view_document (store, &period, name, version, &rc);
        if (document)
            found += s_check_document (checked, "central", name, document);
        json_decref (document);
    }
    central_store_destroy (&store);
    if (rc == CP_EUSAGE)
        fprintf (stderr, "cpsync-central: --catalogue %d: the central holds catalogue %d only\n",
                 version, cp_catalogue_version (catalogue));
    else
    if (rc)
        fprintf (stderr, "cpsync-central: check: %s\n", cp_strerror (rc));
    if (rc == 0 && report) {
        const char *scope_of = json_string_value (json_object_get (report, "scope"));
        found += s_check_document (checked, options->report, scope_of? scope_of: "national",
                                   report);
    }
    json_decref (report);
    if (rc) {
        json_decref (checked);
        return rc == CP_EUSAGE? S_EXIT_USAGE: S_EXIT_FAILED;
    }
    if (strcmp (format, "json") == 0) {
        json_t *root = json_object ();
        json_object_set_new (root, "period", json_string (options->period));
        json_object_set_new (root, "catalogue", json_integer (version));
        json_object_set_new (root, "broken", json_integer (found));
        json_object_set_new (root, "checked", checked);
        json_dumpf (root, stdout, JSON_INDENT (2));
        printf ("\n");
        json_decref (root);
    }
    else {
        size_t index;
        json_t *entry;
        json_array_foreach (checked, index, entry) {
            json_t *findings = json_object_get (entry, "findings");
            if (json_array_size (findings) == 0)
                continue;
            printf ("%s, %s, %s:\n", json_string_value (json_object_get (entry, "source")),
                    json_string_value (json_object_get (entry, "scope")), options->period);
            cp_check_print (findings, stdout);
        }
        size_t rules;
        cp_check_rules (&rules);
        printf ("%zu rule(s) on %zu view(s) of %s: %d broken\n", rules, json_array_size (checked),
                options->period, found);
        json_decref (checked);
    }
    return found? S_EXIT_FAILED: 0;
}

//  Reads every municipality's cursor (and, with counters, up to 128 refusal
//  counters) in one short read of the store.  Returns a malloc'd array of
//  cp_municipality_count () cursors, or NULL with the exit code to use.
static central_cursor_t *
s_read_cursors (const s_options_t *options, const char *command,
                central_counter_t *counters, size_t *counter_count, int *exit_code)
{
    central_store_t *store = s_open (options);
    if (!store) {
        *exit_code = S_EXIT_USAGE;
        return NULL;
    }
    central_cursor_t *cursors = calloc ((size_t) cp_municipality_count (),
                                        sizeof (central_cursor_t));
    assert (cursors);
    int rc = central_store_cursors (store, cursors);
    if (rc == 0 && counters)
        rc = central_store_counters (store, counters, 128, counter_count);
    central_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-central: %s: %s\n", command, cp_strerror (rc));
        free (cursors);
        *exit_code = S_EXIT_FAILED;
        return NULL;
    }
    return cursors;
}

static int
s_nodes (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage ("--format must be json or table");
    int exit_code;
    central_cursor_t *cursors = s_read_cursors (options, "nodes", NULL, NULL, &exit_code);
    if (!cursors)
        return exit_code;
    int count = cp_municipality_count ();
    int64_t now = zclock_time ();
    json_t *list = json_array ();
    if (strcmp (format, "table") == 0)
        printf ("%-14s %-12s %-20s %-16s %10s %10s %8s %10s %9s %9s  %s\n", "municipality",
                "county", "last seen (UTC)", "log", "acked", "head", "backlog", "lag (s)",
                "again", "conflicts", "new log or restore seen (UTC)");
    for (int index = 0; index < count; index++) {
        const central_cursor_t *cursor = &cursors [index];
        uint64_t backlog = cursor->head > cursor->acked? cursor->head - cursor->acked: 0;
        char seen [32] = "never", lag [24] = "-", changed [32] = "-";
        char log [CP_WIRE_LOG_NAME] = "-";
        int64_t lag_seconds = cursor->last_seen? (now - cursor->last_seen) / 1000: 0;
        if (cursor->last_seen) {
            cp_date_format_instant (cursor->last_seen, seen, sizeof seen);
            snprintf (lag, sizeof lag, "%lld", (long long) lag_seconds);
            cp_wire_log_name (cursor->log, log);
        }
        if (cursor->log_changed)
            cp_date_format_instant (cursor->log_changed, changed, sizeof changed);
        const char *county = cp_county_code (cp_municipality_county (index));
        if (strcmp (format, "table") == 0) {
            printf ("%-14s %-12s %-20s %-16s %10llu %10llu %8llu %10s %9llu %9llu  %s\n",
                    cp_municipality_code (index), county, seen, log,
                    (unsigned long long) cursor->acked, (unsigned long long) cursor->head,
                    (unsigned long long) backlog, lag,
                    (unsigned long long) cursor->duplicate_events,
                    (unsigned long long) cursor->conflicts, changed);
            continue;
        }
        json_t *node = json_object ();
        json_object_set_new (node, "code", json_string (cp_municipality_code (index)));
        json_object_set_new (node, "name", json_string (cp_municipality_name (index)));
        json_object_set_new (node, "county", json_string (county));
        json_object_set_new (node, "last_seen", cursor->last_seen? json_string (seen): json_null ());
        json_object_set_new (node, "log", cursor->last_seen? json_string (log): json_null ());
        json_object_set_new (node, "acked", json_integer ((json_int_t) cursor->acked));
        json_object_set_new (node, "head", json_integer ((json_int_t) cursor->head));
        json_object_set_new (node, "backlog", json_integer ((json_int_t) backlog));
        json_object_set_new (node, "lag_seconds",
                             cursor->last_seen? json_integer (lag_seconds): json_null ());
        json_object_set_new (node, "batches", json_integer ((json_int_t) cursor->batches));
        json_object_set_new (node, "events", json_integer ((json_int_t) cursor->events));
        json_object_set_new (node, "duplicates", json_integer ((json_int_t) cursor->duplicates));
        json_object_set_new (node, "duplicate_events",
                             json_integer ((json_int_t) cursor->duplicate_events));
        json_object_set_new (node, "conflicts", json_integer ((json_int_t) cursor->conflicts));
        json_object_set_new (node, "quarantined",
                             json_integer ((json_int_t) cursor->quarantined));
        json_object_set_new (node, "archived", json_integer ((json_int_t) cursor->archived));
        json_object_set_new (node, "log_changed",
                             cursor->log_changed? json_string (changed): json_null ());
        json_array_append_new (list, node);
    }
    if (strcmp (format, "json") == 0) {
        json_dumpf (list, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
    }
    json_decref (list);
    free (cursors);
    return 0;
}

//  Lists the events not counted: municipality, log, sequence, why, when.
static int
s_refused (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage ("--format must be json or table");
    int municipality = -1;
    if (options->scope && strcmp (options->scope, "national") != 0) {
        cp_scope_t scope;
        if (cp_scope_parse (options->scope, &scope) || scope.kind != CP_SCOPE_MUNICIPALITY)
            return s_usage ("refused: --scope must be national (the default) or "
                            "municipality:CODE");
        municipality = scope.index;
    }
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    size_t max = 100000, count = 0;
    central_refused_t *refused = calloc (max, sizeof (central_refused_t));
    assert (refused);
    int rc = central_store_refused_list (store, municipality, refused, max, &count);
    central_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-central: refused: %s\n", cp_strerror (rc));
        free (refused);
        return S_EXIT_FAILED;
    }
    json_t *list = json_array ();
    if (strcmp (format, "table") == 0)
        printf ("%-14s %-16s %10s %-20s  %s\n", "municipality", "log", "sequence",
                "when (UTC)", "why");
    for (size_t index = 0; index < count; index++) {
        const central_refused_t *entry = &refused [index];
        char log [CP_WIRE_LOG_NAME], when [32];
        cp_wire_log_name (entry->log, log);
        cp_date_format_instant (entry->when, when, sizeof when);
        const char *code = cp_municipality_code (entry->municipality);
        if (strcmp (format, "table") == 0) {
            printf ("%-14s %-16s %10llu %-20s  %s\n", code? code: "?", log,
                    (unsigned long long) entry->seq, when, cp_strerror (entry->code));
            continue;
        }
        json_t *item = json_object ();
        json_object_set_new (item, "municipality", json_string (code? code: "?"));
        json_object_set_new (item, "log", json_string (log));
        json_object_set_new (item, "seq", json_integer ((json_int_t) entry->seq));
        json_object_set_new (item, "when", json_string (when));
        json_object_set_new (item, "code", json_integer (entry->code));
        json_object_set_new (item, "conflict", json_boolean (entry->code == CP_ECONFLICT));
        json_object_set_new (item, "reason", json_string (cp_strerror (entry->code)));
        json_array_append_new (list, item);
    }
    if (strcmp (format, "json") == 0) {
        json_dumpf (list, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
    }
    json_decref (list);
    free (refused);
    return 0;
}

static int
s_stats (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage ("--format must be json or table");
    central_counter_t counters [128];
    size_t counter_count = 0;
    int exit_code;
    central_cursor_t *cursors = s_read_cursors (options, "stats", counters, &counter_count,
                                                &exit_code);
    if (!cursors)
        return exit_code;
    int count = cp_municipality_count ();
    central_cursor_t total = {0};
    int reporting = 0;
    for (int index = 0; index < count; index++) {
        total.batches += cursors [index].batches;
        total.events += cursors [index].events;
        total.duplicates += cursors [index].duplicates;
        total.quarantined += cursors [index].quarantined;
        reporting += cursors [index].acked > 0;
    }
    free (cursors);
    if (strcmp (format, "table") == 0) {
        printf ("municipalities reporting  %d of %d\n", reporting, count);
        printf ("batches applied           %llu\n", (unsigned long long) total.batches);
        printf ("events applied            %llu\n", (unsigned long long) total.events);
        printf ("batches acked again       %llu\n", (unsigned long long) total.duplicates);
        printf ("events quarantined        %llu\n", (unsigned long long) total.quarantined);
        printf ("refused, by reason:%s\n", counter_count? "": " none");
        for (size_t index = 0; index < counter_count; index++)
            printf ("  %-40s %10llu  (%d)\n", cp_strerror (counters [index].code),
                    (unsigned long long) counters [index].count, counters [index].code);
        return 0;
    }
    json_t *root = json_object ();
    json_object_set_new (root, "municipalities_reporting", json_integer (reporting));
    json_object_set_new (root, "batches", json_integer ((json_int_t) total.batches));
    json_object_set_new (root, "events", json_integer ((json_int_t) total.events));
    json_object_set_new (root, "duplicates", json_integer ((json_int_t) total.duplicates));
    json_object_set_new (root, "quarantined", json_integer ((json_int_t) total.quarantined));
    json_t *refused = json_array ();
    for (size_t index = 0; index < counter_count; index++) {
        json_t *entry = json_object ();
        json_object_set_new (entry, "code", json_integer (counters [index].code));
        json_object_set_new (entry, "reason", json_string (cp_strerror (counters [index].code)));
        json_object_set_new (entry, "count", json_integer ((json_int_t) counters [index].count));
        json_array_append_new (refused, entry);
    }
    json_object_set_new (root, "refused", refused);
    json_dumpf (root, stdout, JSON_INDENT (2));
    fputc ('\n', stdout);
    json_decref (root);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc < 2 || strcmp (argv [1], "--help") == 0)
        return s_usage (NULL);
    if (cp_process_start ("cpsync-central"))
        return S_EXIT_USAGE;
    s_options_t options;
    if (s_parse (argc, argv, &options))
        return s_usage ("missing or invalid options (--data DIR is always needed)");
    const char *command = options.command;
    if (strcmp (command, "init") == 0)
        return s_init (&options);
    if (strcmp (command, "run") == 0)
        return s_run (&options);
    if (strcmp (command, "query") == 0)
        return s_query (&options);
    if (strcmp (command, "check") == 0)
        return s_check (&options);
    if (strcmp (command, "nodes") == 0)
        return s_nodes (&options);
    if (strcmp (command, "refused") == 0)
        return s_refused (&options);
    if (strcmp (command, "stats") == 0)
        return s_stats (&options);
    if (strcmp (command, "backup") == 0 || strcmp (command, "restore") == 0) {
        bool backup = strcmp (command, "backup") == 0;
        if (!(backup? options.out: options.from))
            return s_usage (backup? "backup needs --out FILE": "restore needs --from FILE");
        return cp_backup_run ("cpsync-central", CP_BACKUP_CENTRAL, backup, options.data,
                              backup? options.out: options.from);
    }
    return s_usage ("unknown command");
}
