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
#include "cp_date.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "cp_wire.h"
#include "cp_process.h"
#include "cp_view.h"

#include <czmq.h>
#include <getopt.h>
#include <unistd.h>
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
    const char *out;            //  backup: the file to write
    const char *from;           //  restore: the backup to read
    int catalogue;              //  0 = the default
    bool verbose;
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
