/*  cpsync-node: the command line of a municipality's node.

        cpsync-node init   --data DIR --municipality CODE [--catalogue N]
        cpsync-node import --data DIR FILE.jsonl
        cpsync-node view   --data DIR --period P [--catalogue N]
                           [--format json|table|csv] [--lang sq|en]
        cpsync-node status --data DIR [--format json|table]
        cpsync-node figures --data DIR [--format json|table]
        cpsync-node downlink --data DIR [--format json|table]
        cpsync-node directives --data DIR [--format json|table]
        cpsync-node directive done --data DIR ID [--note TEXT]
        cpsync-node run    --data DIR [--central ENDPOINT] [--verbose]
                           [--metrics-dir DIR] [--log-level LEVEL] [--config FILE]
        cpsync-node enrol  --data DIR --bundle FILE [--keep-endpoint]
        cpsync-node recover --data DIR [--central ENDPOINT] [--timeout SECONDS]
        cpsync-node backup --data DIR --out FILE
        cpsync-node restore --from FILE --data DIR
        cpsync-node staff set --data DIR --workers N --children M [--date YYYY-MM-DD]
        cpsync-node staff list --data DIR [--format json|table]

    The command line is the table s_commands (cp_cli), from which every
    --help is made.  backup and restore are cp_backup's: backup copies the store while run
    and imports go on; restore refuses while run holds DIR/run.lock.

    Exit codes: 0 done; 1 import rejected lines, a command failed on its
    data, enrol refused the file, or restore refused the backup; 2 usage
    or environment errors (bad flags, not a node, store, unreadable
    files).                                                                */

#include "cp_backup.h"
#include "cp_cli.h"
#include "cp_config.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_enrolment.h"
#include "cp_error.h"
#include "cp_log.h"
#include "cp_municipality.h"
#include "cp_process.h"
#include "cp_view.h"
#include "cp_wire.h"
#include "node_figures.h"
#include "node_import.h"
#include "node_keys.h"
#include "node_metrics.h"
#include "node_store.h"
#include "node_sync.h"

#include <czmq.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/file.h>
#include <sodium.h>
#include <unistd.h>

#define S_EXIT_USAGE 2
#define S_TEXT_(x) #x
#define S_TEXT(x) S_TEXT_ (x)               //  a number in help text
#define S_REFUSALS_MAX 64           //  downlink refusal codes status shows, more than exist

typedef struct {
    const char *command;
    const char *data;
    const char *municipality;
    const char *period;
    const char *format;
    const char *lang;
    const char *central;        //  endpoint of the central
    const char *bundle;         //  enrol: the bundle or announcement file
    const char *out;            //  backup: the file to write
    const char *from;           //  restore: the backup to read
    const char *workers;        //  staff set: as given, checked by the command
    const char *children;
    const char *date;
    const char *note;           //  directive done: the operator's note
    bool keep_endpoint;         //  enrol: leave the "central" setting alone
    bool verbose;
    int catalogue;              //  0 = the default
    int timeout;                //  recover: seconds to wait at most
    int argc;                   //  operands left after the options
    char **argv;
    //  run: its log and metrics, and what a reload reads again
    const char *log_level;
    const char *metrics_dir;
    const char *config;         //  --config FILE, or NULL
    int given_argc;             //  the command line as given (its flags win)
    char **given_argv;
} s_options_t;

//  =====================================================================
//  The command line (cp_cli): every command, its options and its help

static const cp_cli_option_t s_options [] = {
    {"data", CP_CLI_DIR, "DIR", 0, 0, "the node's data directory"},
    {"municipality", CP_CLI_TEXT, "CODE", 0, 0,
     "the municipality's code, as in municipalities.csv"},
    {"period", CP_CLI_PERIOD, "YYYY|YYYY-Qn", 0, 0, "a year or a quarter, from 2000"},
    {"catalogue", CP_CLI_INTEGER, "N", 1, 1000000,
     "the catalogue version (default: init 1, view the node's newest)"},
    {"format", CP_CLI_TEXT, "FORMAT", 0, 0, "the output's form (default json)"},
    {"lang", CP_CLI_TEXT, "sq|en", 0, 0, "the language of table and csv labels (default sq)"},
    {"central", CP_CLI_TEXT, "ENDPOINT", 0, 0,
     "the central's endpoint (init: default tcp://127.0.0.1:7400; run and recover: "
     "overrides the one enrolled)"},
    {"bundle", CP_CLI_FILE, "FILE", 0, 0, "a bundle or an announcement from cpsync-admin"},
    {"keep-endpoint", CP_CLI_FLAG, NULL, 0, 0, "leave the central endpoint as it is"},
    {"out", CP_CLI_FILE, "FILE", 0, 0, "the backup file to write"},
    {"from", CP_CLI_FILE, "FILE", 0, 0, "the backup file to read"},
    {"note", CP_CLI_TEXT, "TEXT", 0, 0, "the operator's note, told to the central"},
    {"verbose", CP_CLI_FLAG, NULL, 0, 0, "log every exchange with the central"},
    {"timeout", CP_CLI_INTEGER, "SECONDS", 1, 86400, "how long to wait at most (default 600)"},
    {"workers", CP_CLI_TEXT, "N", 0, 0,
     "the unit's child protection workers (0 to " S_TEXT (CP_STAFF_WORKERS_MAX) ")"},
    {"children", CP_CLI_TEXT, "M", 0, 0,
     "the municipality's children (1 to " S_TEXT (CP_STAFF_CHILDREN_MAX) ")"},
    {"date", CP_CLI_DATE, "YYYY-MM-DD", 0, 0, "from when it holds (default today)"},
    {"metrics-dir", CP_CLI_DIR, "DIR", 0, 0,
     "write the node's metrics for node_exporter's textfile collector there"},
    {"log-level", CP_CLI_TEXT, "LEVEL", 0, 0, "error, warning, notice, info or debug"},
    {"config", CP_CLI_FILE, "FILE", 0, 0,
     "a configuration file whose keys are these options (a flag given wins)"},
    {NULL, 0, NULL, 0, 0, NULL}
};

static const cp_cli_command_t s_commands [] = {
    {"init", "data! municipality+ catalogue central", NULL, 0,
     "set up a node's data directory for a municipality", NULL},
    {"import", "data!", "FILE.jsonl", 1,
     "import case events from a JSON Lines file",
     "Exits 0 when every line was imported or was a duplicate, 1 when a line was "
     "rejected (one line on stderr for each: FILE:LINE: reason), 2 on a usage or "
     "environment error. Prints a summary line with the counts; on a terminal, a "
     "progress line while it works."},
    {"view", "data! period+ catalogue format=json|table|csv lang", NULL, 0,
     "the node's own figures of a period", NULL},
    {"status", "data! format=json|table", NULL, 0,
     "the node's log head, what the central acknowledged, and its health", NULL},
    {"figures", "data! format=json|table", NULL, 0,
     "where this node's figures differ from the central's, cell by cell",
     "When the central's figures differ from this node's, the running node asks for "
     "the central's counts of the months that differ; this shows them beside the "
     "node's own."},
    {"downlink", "data! format=json|table", NULL, 0,
     "the entries the central sent this node",
     "Directives, catalogue revisions and the rest, each checked again against the "
     "root pinned at enrolment."},
    {"directives", "data! format=json|table", NULL, 0,
     "the directives received, with their state", NULL},
    {"directive done", "data! note", "ID", 1,
     "mark a directive done (ID is its seq, as directives shows)",
     "The central is told through the node's log."},
    {"run", "data! central verbose metrics-dir log-level config", NULL, 0,
     "ship events to the central until SIGTERM or SIGINT",
     "Stays in the foreground and exits 0 after a clean stop. SIGHUP reads the "
     "configuration file again (the log level, the metrics directory)."},
    {"enrol", "data! bundle+ keep-endpoint", NULL, 0,
     "install a bundle or an announcement from cpsync-admin",
     "A bundle also sets the central endpoint it names, unless --keep-endpoint is "
     "given."},
    {"recover", "data! central timeout verbose", NULL, 0,
     "rebuild a node that lost its disk from the central's archive",
     "For a node set up anew (init, enrol): fetches its municipality's log back "
     "from the central."},
    {"backup", "data! out+", NULL, 0, "copy the node's store to a file",
     "Works while run and imports go on; a backup holds no keys."},
    {"restore", "from+ data!", NULL, 0, "put a backup back",
     "Needs DIR/keys in place and refuses while run runs."},
    {"staff set", "data! workers+ children+ date", NULL, 0,
     "report the unit's workers and the municipality's children, from a date on", NULL},
    {"staff list", "data! format=json|table", NULL, 0, "the staffing the node has set", NULL},
    {NULL, NULL, NULL, 0, NULL, NULL}
};

static const cp_cli_program_t s_program = {
    "cpsync-node", "A municipality's node: it keeps the municipality's case events and "
    "ships them to the central.", s_options, s_commands, NULL,
    "Exit codes: 0 done; 1 import rejected lines, a command failed on its data, enrol "
    "refused the file, or restore refused the backup; 2 usage or environment errors."
};

//  A usage error of the command being run: what was wrong, where the help is.
static int
s_usage (const s_options_t *options, const char *message)
{
    return cp_cli_usage_error ("cpsync-node", options? options->command: NULL, message);
}

//  Reads the command line into options; returns NULL when the program is
//  to exit with *exit_code (help printed, or a usage error said).
static cp_cli_t *
s_parse (int argc, char **argv, s_options_t *options, int *exit_code)
{
    cp_cli_t *cli = cp_cli_parse (&s_program, argc, argv, exit_code);
    if (!cli)
        return NULL;
    memset (options, 0, sizeof *options);
    options->command = cp_cli_command (cli);
    options->data = cp_cli_text (cli, "data");
    options->municipality = cp_cli_text (cli, "municipality");
    options->period = cp_cli_text (cli, "period");
    options->format = cp_cli_given (cli, "format")? cp_cli_text (cli, "format"): "json";
    options->lang = cp_cli_given (cli, "lang")? cp_cli_text (cli, "lang"): "sq";
    options->central = cp_cli_text (cli, "central");
    options->bundle = cp_cli_text (cli, "bundle");
    options->keep_endpoint = cp_cli_given (cli, "keep-endpoint");
    options->out = cp_cli_text (cli, "out");
    options->from = cp_cli_text (cli, "from");
    options->note = cp_cli_text (cli, "note");
    options->verbose = cp_cli_given (cli, "verbose");
    options->timeout = (int) cp_cli_integer (cli, "timeout", 600);
    options->catalogue = (int) cp_cli_integer (cli, "catalogue", 0);
    options->workers = cp_cli_text (cli, "workers");
    options->children = cp_cli_text (cli, "children");
    options->date = cp_cli_text (cli, "date");
    options->log_level = cp_cli_text (cli, "log-level");
    options->metrics_dir = cp_cli_text (cli, "metrics-dir");
    options->argv = cp_cli_operands (cli, &options->argc);
    return cli;
}

//  Opens the node of --data, or explains why not.
static node_store_t *
s_open (const s_options_t *options)
{
    int error = 0;
    node_store_t *store = node_store_open (options->data, &error);
    if (!store)
        fprintf (stderr, "cpsync-node: %s: %s\n", options->data,
                 error == CP_ENOTNODE? "not a cpsync node data directory "
                                       "(run 'cpsync-node init' first)": cp_strerror (error));
    return store;
}

//  =====================================================================
//  Commands

static int
s_init (const s_options_t *options)
{
    if (!options->municipality)
        return s_usage (options, "init needs --municipality CODE");
    if (!cp_event_id_valid (options->municipality, strlen (options->municipality)))
        return s_usage (options, "--municipality: not a municipality code");
    if (cp_municipality_index (options->municipality) < 0)
        fprintf (stderr, "cpsync-node: warning: '%s' is not one of the municipality codes of "
                         "municipalities.csv; the central will refuse this node\n",
                 options->municipality);
    int catalogue = options->catalogue? options->catalogue: 1;
    int rc = node_store_create (options->data, options->municipality, catalogue);
    if (rc) {
        fprintf (stderr, "cpsync-node: init %s: %s\n", options->data,
                 rc == CP_EEXISTS? "already holds a node": cp_strerror (rc));
        return S_EXIT_USAGE;
    }
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    const char *central = options->central? options->central: "tcp://127.0.0.1:7400";
    rc = node_store_set_setting (store, "central", central);
    node_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-node: init: %s\n", cp_strerror (rc));
        return S_EXIT_USAGE;
    }
    printf ("node for %s set up in %s (catalogue %d, central %s)\n", options->municipality,
            options->data, catalogue, central);
    return 0;
}

static int
s_import (const s_options_t *options)
{
    if (options->argc != 1)
        return s_usage (options, "import needs one FILE.jsonl");
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    const char *path = options->argv [0];
    node_import_stats_t stats;
    int64_t started = zclock_mono ();
    int rc = node_import_file (store, path, stderr, isatty (STDERR_FILENO), &stats);
    node_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-node: import %s: %s%s%s\n", path, cp_strerror (rc),
                 rc == CP_EIO? ": ": "", rc == CP_EIO? strerror (errno): "");
        if (stats.imported || stats.duplicates || stats.rejected)
            fprintf (stderr, "cpsync-node: committed before the failure: %llu imported\n",
                     (unsigned long long) stats.imported);
        return S_EXIT_USAGE;
    }
    double seconds = (zclock_mono () - started) / 1000.0;
    printf ("%s: %llu imported, %llu duplicate, %llu rejected (%llu lines, %.2f s)\n", path,
            (unsigned long long) stats.imported, (unsigned long long) stats.duplicates,
            (unsigned long long) stats.rejected, (unsigned long long) stats.lines, seconds);
    return stats.rejected? 1: 0;
}

static int
s_view (const s_options_t *options)
{
    cp_period_t period;
    if (!options->period || cp_period_parse (options->period, &period))
        return s_usage (options, "view needs --period YYYY or YYYY-Qn (from 2000)");
    if (strcmp (options->format, "json") && strcmp (options->format, "table")
    &&  strcmp (options->format, "csv"))
        return s_usage (options, "--format must be json, table or csv");
    if (strcmp (options->lang, "sq") && strcmp (options->lang, "en"))
        return s_usage (options, "--lang must be sq or en");
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    const cp_catalogue_t *catalogue = node_store_catalogue (store);
    int version = options->catalogue? options->catalogue: cp_catalogue_version (catalogue);
    if (version > cp_catalogue_version (catalogue)) {
        fprintf (stderr, "cpsync-node: --catalogue %d: this node has applied catalogue %d only\n",
                 version, cp_catalogue_version (catalogue));
        node_store_destroy (&store);
        return S_EXIT_USAGE;
    }
    char scope [64 + CP_ID_MAX];
    snprintf (scope, sizeof scope, "municipality:%s", node_store_municipality (store));
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, &period, scope);
    int rc = node_store_view (store, view);
    if (rc == 0) {
        cp_view_figures (view, catalogue, version, figures);
        rc = cp_view_print (view, figures, catalogue, options->format, options->lang, stdout);
    }
    if (rc)
        fprintf (stderr, "cpsync-node: view: %s\n", cp_strerror (rc));
    free (view);
    free (figures);
    node_store_destroy (&store);
    return rc? 1: 0;
}

//  The last check of the central's figures, for status: a JSON member
//  (verdict, as_of, checked, periods, periods_more: the months not listed,
//  reports: the figures_checked events appended to the log)
//  followed by ", ", or a line of the table.
static void
s_reconciliation_print (node_store_t *store, bool json)
{
    node_reconciliation_t last;
    if (node_store_reconciliation (store, &last))
        memset (&last, 0, sizeof last);
    const char *verdict = last.verdict == CP_FIGURES_IN_SYNC? "in_sync"
                        : last.verdict == CP_FIGURES_DIVERGED? "diverged": "unknown";
    char checked [32] = "";
    if (last.checked)
        cp_date_format_instant (last.checked, checked, sizeof checked);
    if (!json) {
        printf ("figures       %s", verdict);
        if (last.verdict)
            printf (" (as of %llu, checked %s)%s%s", (unsigned long long) last.as_of, checked,
                    *last.periods? ": ": "", last.periods);
        printf ("\n");
        return;
    }
    printf ("\"reconciliation\": {\"verdict\": \"%s\", ", verdict);
    printf (last.verdict? "\"as_of\": %llu, ": "\"as_of\": null, ",
            (unsigned long long) last.as_of);
    printf (last.checked? "\"checked\": \"%s\", \"periods\": [": "\"checked\": null, "
            "\"periods\": [", checked);
    //  The note is "YYYY-MM YYYY-MM ... +N more" (cp_figures_periods)
    unsigned long more = 0;
    int listed = 0;
    for (char *token = strtok (last.periods, " "); token; token = strtok (NULL, " "))
        if (*token == '+')
            more = strtoul (token + 1, NULL, 10);
        else
        if (strlen (token) == 7 && strspn (token, "0123456789-") == 7)
            printf ("%s\"%s\"", listed++? ", ": "", token);
    printf ("], \"periods_more\": %lu, \"reports\": %llu}, ", more,
            (unsigned long long) last.reports);
}

//  The central's rows of the months that differ, beside this node's.
static int
s_figures (const s_options_t *options)
{
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    int rc = node_figures_print (store, streq (options->format, "json"), stdout);
    node_store_destroy (&store);
    if (rc)
        fprintf (stderr, "cpsync-node: figures: %s\n", cp_strerror (rc));
    return rc? S_EXIT_USAGE: 0;
}

static int
s_status (const s_options_t *options)
{
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    node_store_log_t info;
    int rc = node_store_log_info (store, &info);
    //  The downlink: how far the node has applied it, and what it refused.
    uint64_t downlink = 0;
    cp_store_counter_t refusals [S_REFUSALS_MAX];
    size_t refused = 0;
    if (rc == 0)
        rc = node_store_downlink_cursor (store, &downlink);
    if (rc == 0)
        rc = node_store_downlink_refusals (store, refusals, S_REFUSALS_MAX, &refused);
    uint64_t head = info.head, acked = info.acked, cases = info.cases;
    //  The log, and when it was last found restored or the central behind.
    char log [CP_WIRE_LOG_NAME], previous [CP_WIRE_LOG_NAME], started [32] = "-",
         restored [32] = "never", behind [32] = "never";
    cp_wire_log_name (info.log, log);
    cp_wire_log_name (info.previous_log, previous);
    bool has_previous = info.restore_detected != 0;
    if (info.log_started)
        cp_date_format_instant (info.log_started, started, sizeof started);
    if (info.restore_detected)
        cp_date_format_instant (info.restore_detected, restored, sizeof restored);
    if (info.central_behind)
        cp_date_format_instant (info.central_behind, behind, sizeof behind);
    //  The keys in force, by id: what an administrator asks about first.
    int keys_rc = 0;
    node_keys_t *keys = node_keys_load (options->data, &keys_rc);
    const cp_enrolment_t *enrolment = keys? node_keys_enrolment (keys): NULL;
    char enrolled [64];
    snprintf (enrolled, sizeof enrolled, "%s", keys? "yes"
              : keys_rc == CP_ENOTENROLLED? "no": cp_strerror (keys_rc));
    const char *node_key = enrolment? enrolment->node_key.id: "";
    const char *data_key = enrolment && enrolment->central_data_count
                         ? enrolment->central_data [0].id: "";
    unsigned long long serial = enrolment? (unsigned long long) enrolment->serial: 0;
    if (rc == 0 && strcmp (options->format, "json") == 0) {
        printf ("{\"municipality\": \"%s\", \"head\": %llu, \"acked\": %llu, "
                "\"backlog\": %llu, \"cases\": %llu, \"catalogue\": %d, "
                "\"enrolled\": %s, \"node_key\": \"%s\", \"central_data_key\": \"%s\", "
                "\"key_serial\": %llu, \"log\": \"%s\", \"log_started\": \"%s\", ",
                node_store_municipality (store), (unsigned long long) head,
                (unsigned long long) acked, (unsigned long long) (head - acked),
                (unsigned long long) cases, cp_catalogue_version (node_store_catalogue (store)),
                keys? "true": "false", node_key, data_key, serial, log, started);
        printf (has_previous? "\"previous_log\": \"%s\", ": "\"previous_log\": null, ",
                previous);
        printf (info.restore_detected? "\"restore_detected\": \"%s\", "
                                     : "\"restore_detected\": null, ", restored);
        printf (info.central_behind? "\"central_restore_detected\": \"%s\", "
                                   : "\"central_restore_detected\": null, ", behind);
        printf ("\"central_restore_dropped\": %llu, \"recovered_to\": %llu, ",
                (unsigned long long) info.central_behind_by,
                (unsigned long long) info.recovered);
        char done [32] = "";
        if (info.recovery_done)
            cp_date_format_instant (info.recovery_done, done, sizeof done);
        printf (info.recovery_done? "\"recovery_done\": \"%s\", ": "\"recovery_done\": null, ",
                done);
        s_reconciliation_print (store, true);
        printf ("\"downlink\": %llu, \"downlink_refused\": [", (unsigned long long) downlink);
        for (size_t index = 0; index < refused; index++)
            printf ("%s{\"code\": %d, \"reason\": \"%s\", \"count\": %llu}",
                    index? ", ": "", refusals [index].code, cp_strerror (refusals [index].code),
                    (unsigned long long) refusals [index].count);
        printf ("]}\n");
    }
    else
    if (rc == 0) {
        printf ("municipality  %s\nhead          %llu\nacked         %llu\n"
                "backlog       %llu\ncases         %llu\ncatalogue     %d\n"
                "enrolled      %s\nnode key      %s\ncentral key   %s (data)\n"
                "key serial    %llu\nlog           %s (since %s)\n"
                "restore seen  %s%s%s%s\ncentral behind %s\n",
                node_store_municipality (store), (unsigned long long) head,
                (unsigned long long) acked, (unsigned long long) (head - acked),
                (unsigned long long) cases, cp_catalogue_version (node_store_catalogue (store)),
                enrolled, *node_key? node_key: "-", *data_key? data_key: "-", serial,
                log, started, restored, has_previous? " (the log was ": "",
                has_previous? previous: "", has_previous? ")": "", behind);
        s_reconciliation_print (store, false);
        printf ("downlink      %llu\n", (unsigned long long) downlink);
        for (size_t index = 0; index < refused; index++)
            printf ("  refused     %-50s %llu  (%d)\n", cp_strerror (refusals [index].code),
                    (unsigned long long) refusals [index].count, refusals [index].code);
    }
    else
        fprintf (stderr, "cpsync-node: status: %s\n", cp_strerror (rc));
    node_keys_destroy (&keys);
    node_store_destroy (&store);
    return rc? S_EXIT_USAGE: 0;
}

//  Takes DATA/run.lock for a command that talks to the central (run,
//  recover): one at a time per node.  Returns the descriptor, or -1 with a
//  message.
static int
s_lock_run (const s_options_t *options, const char *command)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/run.lock", options->data);
    int lock = open (path, O_RDWR | O_CREAT, 0600);
    if (lock < 0 || flock (lock, LOCK_EX | LOCK_NB)) {
        fprintf (stderr, "cpsync-node: %s: %s\n", command, lock < 0? strerror (errno)
                 : "'cpsync-node run' or 'recover' is already running for this node");
        if (lock >= 0)
            close (lock);
        return -1;
    }
    return lock;
}

//  Rebuilds a node set up anew from its municipality's archive at the
//  central: runs the session actor in recovery mode until it says DONE,
//  or until --timeout seconds pass (a central that does not answer, or
//  refuses this node's keys at the handshake).
static int
s_recover (const s_options_t *options)
{
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    char endpoint [256];
    bool enrolled = node_store_setting (store, "central", endpoint, sizeof endpoint) == 0;
    node_store_log_t info;
    int rc = node_store_log_info (store, &info);
    node_store_destroy (&store);
    if (!options->central && !enrolled)
        return s_usage (options, "recover: this node has no central endpoint; enrol it first");
    if (rc == 0 && ((info.head > 0 && info.recovered == 0) || info.recovery_done)) {
        fprintf (stderr, "cpsync-node: recover: %s %s; a recovery rebuilds a node set up anew "
                 "(init, enrol, then recover)\n", options->data, info.recovery_done
                 ? "was recovered already": "holds events of its own");
        return 1;
    }
    int lock = s_lock_run (options, "recover");
    if (lock < 0)
        return S_EXIT_USAGE;
    node_sync_config_t config = {.data = options->data, .central = options->central,
                                 .verbose = options->verbose, .recover = true};
    zactor_t *sync = zactor_new (node_sync_actor, &config);
    zsock_set_rcvtimeo (sync, 250);
    int64_t deadline = zclock_mono () + (int64_t) options->timeout * 1000;
    int exit_code = 1;
    rc = CP_EIO;
    bool done = false;
    while (!done && !zsys_interrupted && zclock_mono () < deadline) {
        char *status = NULL;
        if (zsock_recv (sync, "si", &status, &rc) == 0) {
            done = status && streq (status, "DONE");
            if (!done)
                rc = CP_EIO;
            zstr_free (&status);
            if (!done)
                break;          //  the actor ended without a recovery
        }
    }
    zactor_destroy (&sync);
    close (lock);
    if (done && rc == 0) {
        store = s_open (options);
        if (store && node_store_log_info (store, &info) == 0)
            printf ("cpsync-node: recovered %llu events from the central\n",
                    (unsigned long long) info.head);
        node_store_destroy (&store);
        exit_code = 0;
    }
    else
        fprintf (stderr, "cpsync-node: recover: %s\n", done? cp_strerror (rc)
                 : zsys_interrupted? "interrupted"
                 : "no recovery within the time allowed (is the central reachable, and this "
                   "node's key current?); run it again to resume");
    return exit_code;
}

//  The keys of run's configuration file: its long options.
static const cp_config_key_t s_run_keys [] = {
    {"data", CP_CONFIG_TEXT, 0, 0},
    {"central", CP_CONFIG_TEXT, 0, 0},
    {"verbose", CP_CONFIG_BOOL, 0, 0},
    {"metrics-dir", CP_CONFIG_TEXT, 0, 0},
    {"log-level", CP_CONFIG_LEVEL, 0, 0},
};
#define S_RUN_KEYS (sizeof s_run_keys / sizeof s_run_keys [0])

//  A metrics directory run can write to, or a message and false.
static bool
s_metrics_dir_usable (const char *dir)
{
    struct stat seen;
    if (stat (dir, &seen) || !S_ISDIR (seen.st_mode) || access (dir, W_OK | X_OK)) {
        fprintf (stderr, "cpsync-node: run: --metrics-dir %s: %s\n", dir,
                 errno && stat (dir, &seen)? strerror (errno)
                 : "not a directory this user may write to");
        return false;
    }
    return true;
}

//  SIGHUP: reads the configuration file again and applies what can change
//  while the node runs (the log level, the metrics directory); a flag of
//  the command line still wins.  A file now refused changes nothing.
static void
s_run_reload (const s_options_t *options, zactor_t *sync)
{
    if (!options->config) {
        zsys_notice ("cpsync-node: reload: no --config file; the log level and metrics "
                     "directory stay as given");
        return;
    }
    cp_config_entry_t entries [CP_CONFIG_ENTRIES_MAX];
    size_t count = 0;
    char why [CP_CONFIG_VALUE_MAX + 512];
    if (cp_config_load (options->config, s_run_keys, S_RUN_KEYS, entries, &count, why,
                        sizeof why)) {
        zsys_error ("cpsync-node: reload refused, nothing changed: configuration file %s", why);
        return;
    }
    int argc = options->given_argc;
    char **argv = options->given_argv;
    const char *level_text = cp_config_value (argc, argv, entries, count, "log-level");
    const char *verbose = cp_config_value (argc, argv, entries, count, "verbose");
    bool verbose_flag = false;
    for (int index = 2; index < argc; index++)
        verbose_flag |= streq (argv [index], "--verbose");
    int level = level_text? cp_log_level_parse (level_text)
              : verbose_flag || (verbose && streq (verbose, "true"))? CP_LOG_DEBUG: CP_LOG_INFO;
    const char *metrics = cp_config_value (argc, argv, entries, count, "metrics-dir");
    if (level < 0 || (metrics && !s_metrics_dir_usable (metrics))) {
        zsys_error ("cpsync-node: reload refused, nothing changed: %s",
                    level < 0? "--log-level is not a level": "the metrics directory");
        return;
    }
    cp_log_set_level (level);
    zstr_sendx (sync, "VERBOSE", level == CP_LOG_DEBUG? "1": "0", NULL);
    zstr_sendx (sync, "METRICS", metrics? metrics: "", NULL);
    zsys_notice ("cpsync-node: reloaded %s: log level %s, metrics %s", options->config,
                 cp_log_level_name (level), metrics? metrics: "none");
}

//  Reads what the sync actor said on its pipe: "PROGRESS" acked head is
//  drawn on the progress line (cleared once the central has everything);
//  the signal of an actor that ended returns false.  Nothing read (an
//  interrupted call) is not an end.
static bool
s_run_progress (zactor_t *sync, cp_cli_progress_t *progress)
{
    zmsg_t *msg = zmsg_recv (sync);
    if (!msg)
        return true;
    bool running = zmsg_signal (msg) < 0;
    //  zsock_send's "8" is a number in decimal text
    char *what = running? zmsg_popstr (msg): NULL;
    char *acked = running? zmsg_popstr (msg): NULL;
    char *head = running? zmsg_popstr (msg): NULL;
    if (what && streq (what, "PROGRESS") && acked && head) {
        uint64_t done = strtoull (acked, NULL, 10), total = strtoull (head, NULL, 10);
        if (done < total)
            cp_cli_progress_show (progress, done, total, "events acknowledged");
        else
            cp_cli_progress_clear (progress);
    }
    zstr_free (&what);
    zstr_free (&acked);
    zstr_free (&head);
    zmsg_destroy (&msg);
    return running;
}

//  Runs the uplink until SIGINT or SIGTERM; SIGHUP reloads.
static int
s_run (const s_options_t *options)
{
    int level = options->log_level? cp_log_level_parse (options->log_level)
              : options->verbose? CP_LOG_DEBUG: CP_LOG_INFO;
    if (level < 0)
        return s_usage (options, "--log-level must be " CP_LOG_LEVELS);
    if (options->metrics_dir && !s_metrics_dir_usable (options->metrics_dir))
        return S_EXIT_USAGE;
    cp_log_start (level);
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    char endpoint [256];
    bool enrolled = node_store_setting (store, "central", endpoint, sizeof endpoint) == 0;
    node_store_destroy (&store);
    if (!options->central && !enrolled)
        return s_usage (options, "run: this node has no central endpoint; give --central ENDPOINT");
    //  One uplink per node: a second would ship the same log twice over.
    int lock = s_lock_run (options, "run");
    if (lock < 0)
        return S_EXIT_USAGE;

    //  On a terminal, a line shows the catch-up while the central is behind.
    cp_cli_progress_t *progress = cp_cli_progress_new ("catch-up");
    node_sync_config_t config = {.data = options->data, .central = options->central,
                                 .verbose = level == CP_LOG_DEBUG,
                                 .metrics_dir = options->metrics_dir,
                                 .progress = progress != NULL};
    cp_config_catch_reload ();
    zactor_t *sync = zactor_new (node_sync_actor, &config);
    zpoller_t *poller = zpoller_new (sync, NULL);
    bool ended = false;
    while (!zsys_interrupted && !ended) {
        if (zpoller_wait (poller, 1000) == sync)
            ended = !s_run_progress (sync, progress);
        if (cp_config_reload_asked ())
            s_run_reload (options, sync);
    }
    int rc = ended && !zsys_interrupted? 1: 0;
    //  An actor that ended has sent its last signal, and it was read above:
    //  zactor_destroy must not wait for another.
    if (ended)
        zsock_set_rcvtimeo (sync, 0);
    cp_cli_progress_destroy (&progress);
    zpoller_destroy (&poller);
    zactor_destroy (&sync);
    close (lock);
    return rc;
}

//  Reads an enrolment file (at most CP_ENROLMENT_FILE_MAX bytes; a pipe will
//  do) into guarded memory, since a bundle holds the node's secret keys.
//  Returns the text (sodium_free it) or NULL, having said why.
static char *
s_read_enrolment (const char *path, size_t *size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    char *text = fd < 0? NULL: sodium_malloc (CP_ENROLMENT_FILE_MAX + 1);
    size_t done = 0;
    ssize_t got = 0;
    //  One byte more than the limit is asked for, to tell a file that is over it.
    while (text && done <= CP_ENROLMENT_FILE_MAX) {
        got = read (fd, text + done, CP_ENROLMENT_FILE_MAX + 1 - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        done += (size_t) got;
    }
    const char *problem = fd < 0 || !text || got < 0? strerror (errno)
                        : done > CP_ENROLMENT_FILE_MAX? "over the size of an enrolment file"
                        : NULL;
    if (fd >= 0)
        close (fd);
    if (problem) {
        fprintf (stderr, "cpsync-node: enrol: %s: %s\n", path, problem);
        sodium_free (text);
        return NULL;
    }
    *size = done;
    return text;
}

//  Lists the ids of the central's keys of the enrolment into buf.
static void
s_central_ids (const cp_enrolment_t *enrolment, char *buf, size_t size)
{
    size_t used = (size_t) snprintf (buf, size, "central transport");
    for (size_t index = 0; index < enrolment->central_transport_count && used < size; index++)
        used += (size_t) snprintf (buf + used, size - used, " %s",
                                   enrolment->central_transport [index].id);
    if (used < size)
        used += (size_t) snprintf (buf + used, size - used, ", data");
    for (size_t index = 0; index < enrolment->central_data_count && used < size; index++)
        used += (size_t) snprintf (buf + used, size - used, " %s",
                                   enrolment->central_data [index].id);
}

//  Installs a bundle or an announcement of the central's keys, and points
//  the node at the central a bundle names.  Prints ids, never a secret.
static int
s_enrol (const s_options_t *options)
{
    if (!options->bundle || options->argc != 0)
        return s_usage (options, "enrol needs --bundle FILE (and no other operand)");
    cp_enrolment_guard_json ();     //  jansson's copies of the secrets are wiped too
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    size_t size = 0;
    char *text = s_read_enrolment (options->bundle, &size);
    if (!text) {
        node_store_destroy (&store);
        return S_EXIT_USAGE;
    }
    char why [512] = "";
    int rc = node_keys_install (options->data, node_store_municipality (store), text, size,
                                why, sizeof why);
    //  Read again for what to print and set: installed means it verifies.
    cp_enrolment_t enrolment;
    bool has_secrets = false;
    if (rc == 0)
        rc = cp_enrolment_decode (text, size, NULL, &enrolment, NULL, &has_secrets,
                                  why, sizeof why);
    sodium_free (text);
    if (rc) {
        fprintf (stderr, "cpsync-node: enrol %s: %s%s%s\n", options->bundle, cp_strerror (rc),
                 why [0]? ": ": "", why);
        node_store_destroy (&store);
        return rc == CP_EIO? S_EXIT_USAGE: 1;
    }
    char central_ids [CP_ENROLMENT_KEYS_MAX * 2 * (CP_KEY_ID_MAX + 1) + 64];
    s_central_ids (&enrolment, central_ids, sizeof central_ids);
    if (!enrolment.municipality [0]) {
        printf ("installed the central's keys, serial %llu (%s)\n",
                (unsigned long long) enrolment.serial, central_ids);
        node_store_destroy (&store);
        return 0;
    }
    if (!options->keep_endpoint
    &&  (rc = node_store_set_setting (store, "central", enrolment.endpoint)) != 0) {
        fprintf (stderr, "cpsync-node: enrol: the keys are installed, but the central endpoint "
                         "was not stored: %s\n", cp_strerror (rc));
        node_store_destroy (&store);
        return S_EXIT_USAGE;
    }
    node_store_destroy (&store);
    printf ("installed the bundle of %s, serial %llu (node %s %s; %s); central %s%s\n",
            enrolment.municipality, (unsigned long long) enrolment.serial,
            enrolment.node_transport.id, enrolment.node_key.id, central_ids, enrolment.endpoint,
            options->keep_endpoint? " (not set: --keep-endpoint)": "");
    return 0;
}

//  Loads the node's keys (their pinned root checks downlink entries again)
//  and opens its store, for command.  Returns the store, or NULL having said
//  why.
static node_store_t *
s_open_keyed (const s_options_t *options, const char *command, node_keys_t **keys)
{
    int rc = 0;
    *keys = node_keys_load (options->data, &rc);
    if (!*keys) {
        fprintf (stderr, "cpsync-node: %s: the keys: %s\n", command, cp_strerror (rc));
        return NULL;
    }
    node_store_t *store = s_open (options);
    if (!store)
        node_keys_destroy (keys);
    return store;
}

//  The downlink entries applied, in order: each is read back and checked
//  against the pinned root again, so what is listed is what the root signed.
static int
s_downlink (const s_options_t *options)
{
    bool json = strcmp (options->format, "json") == 0;
    if (!json && strcmp (options->format, "table") != 0)
        return s_usage (options, "--format is json or table");
    node_keys_t *keys;
    node_store_t *store = s_open_keyed (options, "downlink", &keys);
    if (!store)
        return S_EXIT_USAGE;
    uint64_t cursor = 0;
    int rc = node_store_downlink_cursor (store, &cursor);
    if (json)
        printf ("{\"cursor\": %llu, \"entries\": [", (unsigned long long) cursor);
    else
        printf ("%-8s %-10s %-16s %-21s %s\n", "seq", "kind", "to", "issued", "bytes");
    int listed = 0;
    //  Seqs of other nodes' entries are holes: a look-up each, no more.
    for (uint64_t seq = 1; rc == 0 && seq <= cursor; seq++) {
        uint8_t *bytes = NULL;
        size_t size = 0;
        rc = node_store_downlink_entry (store, seq, &bytes, &size);
        if (rc || !bytes)
            continue;
        cp_downlink_t entry;
        char why [200] = "";
        int check = cp_downlink_decode (bytes, size, node_keys_enrolment (keys)->root, &entry,
                                        why, sizeof why);
        char to [CP_SCOPE_MAX] = "?", issued [32] = "?";
        if (check == 0) {
            cp_downlink_address_format (&entry.address, to);
            cp_date_format_instant (entry.issued, issued, sizeof issued);
        }
        const char *kind = check? "unverified": cp_downlink_kind_name (entry.kind);
        if (json)
            printf ("%s\n  {\"seq\": %llu, \"kind\": \"%s\", \"to\": \"%s\", "
                    "\"issued\": \"%s\", \"bytes\": %zu}", listed? ",": "",
                    (unsigned long long) seq, kind, to, issued, check? size: entry.body_size);
        else
            printf ("%-8llu %-10s %-16s %-21s %zu\n", (unsigned long long) seq, kind, to,
                    issued, check? size: entry.body_size);
        if (check)
            fprintf (stderr, "cpsync-node: downlink entry %llu no longer verifies: %s\n",
                     (unsigned long long) seq, why);
        listed++;
        free (bytes);
    }
    if (json)
        printf ("%s]}\n", listed? "\n": "");
    if (rc)
        fprintf (stderr, "cpsync-node: downlink: %s\n", cp_strerror (rc));
    node_store_destroy (&store);
    node_keys_destroy (&keys);
    return rc? S_EXIT_USAGE: 0;
}

//  =====================================================================
//  Staffing: what the node reports of its workforce (docs/design.md,
//  "Workforce coverage")

//  A count given to flag: digits only, from low to high.  Returns 0 with
//  *value, or -1 having said what is wrong with it.
static int
s_staff_count (const s_options_t *options, const char *flag, const char *text, uint32_t low,
               uint32_t high, const char *what, uint32_t *value)
{
    char message [256];
    size_t length = strlen (text);
    bool digits = length > 0 && strspn (text, "0123456789") == length;
    //  Past ten digits it is over any limit; strtoull would wrap instead.
    unsigned long long number = digits && length <= 10? strtoull (text, NULL, 10): ULLONG_MAX;
    bool negative = text [0] == '-' && length > 1
                 && strspn (text + 1, "0123456789") == length - 1;
    if (negative)
        snprintf (message, sizeof message, "%s '%.40s' is negative: %s are %u to %u", flag, text,
                  what, low, high);
    else
    if (!digits)
        snprintf (message, sizeof message, "%s '%.40s' is not a whole number (%s: %u to %u)",
                  flag, text, what, low, high);
    else
    if (number < low || number > high)
        snprintf (message, sizeof message, "%s %.40s is out of range: %s are %u to %u", flag,
                  text, what, low, high);
    else {
        *value = (uint32_t) number;
        return 0;
    }
    s_usage (options, message);
    return -1;
}

//  Sets the staffing from a date on: one write transaction that appends a
//  staff_set event (its id random: each set is news, even with the same
//  figures), which ships to the central as any event does.
static int
s_staff_set (const s_options_t *options)
{
    if (!options->workers || !options->children || options->argc != 0)
        return s_usage (options, "staff set needs --workers N and --children M (and no operand)");
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = CP_EVENT_STAFF_SET;
    if (s_staff_count (options, "--workers", options->workers, 0, CP_STAFF_WORKERS_MAX,
                       "a municipality's child protection workers", &event.workers)
    ||  s_staff_count (options, "--children", options->children, 1, CP_STAFF_CHILDREN_MAX,
                       "a municipality's children", &event.children))
        return S_EXIT_USAGE;
    //  The date rule of an event: from 2000, at most a day after today.
    int32_t today = cp_date_today ();
    event.date = today;
    char message [256];
    if (options->date) {
        if (cp_date_parse (options->date, strlen (options->date), &event.date)) {
            snprintf (message, sizeof message, "--date '%.40s' is not a real YYYY-MM-DD date",
                      options->date);
            return s_usage (options, message);
        }
        if (event.date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
        ||  event.date > today + 1) {
            snprintf (message, sizeof message, "--date %s is %s", options->date,
                      event.date > today + 1? "in the future (tomorrow is the latest)"
                                            : "before 2000-01-01");
            return s_usage (options, message);
        }
    }
    uint8_t random [8];
    randombytes_buf (random, sizeof random);
    memcpy (event.id, "n-ss-", 5);
    sodium_bin2hex (event.id + 5, sizeof event.id - 5, random, sizeof random);

    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    char why [256] = "";
    int rc = CP_EMAPFULL;
    //  A full map aborts and grows it: the same append again.
    for (int attempt = 0; attempt < 4 && rc == CP_EMAPFULL; attempt++) {
        rc = node_store_begin (store);
        if (rc)
            break;
        rc = node_store_append_own (store, &event, why, sizeof why);
        if (rc == NODE_STORE_APPENDED)
            rc = node_store_commit (store);         //  which aborts when it fails
        else {
            node_store_abort (store);
            //  A random id of 64 bits met again: nothing was written.
            if (rc == NODE_STORE_DUPLICATE)
                rc = CP_EEXISTS;
        }
    }
    uint64_t head = 0, acked = 0, cases = 0;
    if (rc == 0)
        node_store_counts (store, &head, &acked, &cases);
    const char *municipality = node_store_municipality (store);
    char date [CP_DATE_STRLEN + 1];
    cp_date_format (event.date, date);
    if (rc == 0)
        printf ("staffing of %s from %s: %u workers, %u children (event %s, seq %llu)\n",
                municipality, date, event.workers, event.children, event.id,
                (unsigned long long) head);
    else
        fprintf (stderr, "cpsync-node: staff set: %s%s%s\n", cp_strerror (rc),
                 why [0]? ": ": "", why);
    node_store_destroy (&store);
    return rc? 1: 0;
}

//  The staffing the node has set, oldest date first.
static int
s_staff_list (const s_options_t *options)
{
    bool json = strcmp (options->format, "json") == 0;
    if (!json && strcmp (options->format, "table") != 0)
        return s_usage (options, "--format is json or table");
    if (options->argc != 0)
        return s_usage (options, "staff list takes no operand");
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    //  A set a day for thirty years is under 11,000: more is not kept apart.
    size_t max = 16384, count = 0;
    node_staffing_t *items = calloc (max, sizeof (node_staffing_t));
    assert (items);
    int rc = node_store_staffing_history (store, items, max, &count);
    if (rc == 0 && json)
        printf ("{\"municipality\": \"%s\", \"staffing\": [",
                node_store_municipality (store));
    else
    if (rc == 0)
        printf ("%-10s %8s %9s\n", "from", "workers", "children");
    for (size_t index = 0; rc == 0 && index < count; index++) {
        char date [CP_DATE_STRLEN + 1];
        cp_date_format (items [index].date, date);
        if (json)
            printf ("%s\n  {\"date\": \"%s\", \"workers\": %u, \"children\": %u}",
                    index? ",": "", date, items [index].workers, items [index].children);
        else
            printf ("%-10s %8u %9u\n", date, items [index].workers, items [index].children);
    }
    if (rc == 0 && json)
        printf ("%s]}\n", count? "\n": "");
    if (rc)
        fprintf (stderr, "cpsync-node: staff list: %s\n", cp_strerror (rc));
    free (items);
    node_store_destroy (&store);
    return rc? S_EXIT_USAGE: 0;
}



//  A day for people, or JSON null when there is none.
static json_t *
s_day_json (int32_t day)
{
    char text [16];
    if (day == 0)
        return json_null ();
    cp_date_format (day, text);
    return json_string (text);
}

//  The directives applied at this node, from the downlink entries (each
//  checked again against the pinned root) and what the node knows of each
//  (received, done).  Overdue: a due date before the node's today, not done.
static int
s_directives (const s_options_t *options)
{
    bool json = strcmp (options->format, "json") == 0;
    if (!json && strcmp (options->format, "table") != 0)
        return s_usage (options, "--format is json or table");
    node_keys_t *keys;
    node_store_t *store = s_open_keyed (options, "directives", &keys);
    if (!store)
        return S_EXIT_USAGE;
    uint64_t cursor = 0;
    int rc = node_store_downlink_cursor (store, &cursor);
    int32_t today = cp_date_today ();
    json_t *list = json_array ();
    if (!json)
        printf ("%-8s %-9s %-11s %-11s %-9s %-11s %s\n", "id", "kind", "due", "received",
                "state", "done", "text");
    for (uint64_t seq = 1; rc == 0 && seq <= cursor; seq++) {
        uint8_t *bytes = NULL;
        size_t size = 0;
        rc = node_store_downlink_entry (store, seq, &bytes, &size);
        if (rc || !bytes)
            continue;
        cp_downlink_t entry;
        cp_directive_t directive;
        char why [200] = "";
        int check = cp_downlink_decode (bytes, size, node_keys_enrolment (keys)->root, &entry,
                                        why, sizeof why);
        if (check == 0 && entry.kind != CP_DOWNLINK_DIRECTIVE) {
            free (bytes);
            continue;
        }
        if (check == 0)
            check = cp_directive_decode (entry.body, entry.body_size, &directive, why,
                                         sizeof why);
        free (bytes);
        if (check) {
            fprintf (stderr, "cpsync-node: downlink entry %llu no longer reads: %s\n",
                     (unsigned long long) seq, why);
            continue;
        }
        cp_directive_state_t state;
        if ((rc = node_store_directive_state (store, seq, &state)) == 1)
            rc = 0;             //  applied before this node kept states: nothing known
        const char *said = state.done? "done"
                         : directive.due && directive.due < today? "overdue": "received";
        const char *kind = cp_directive_kind_name (directive.kind);
        if (json)
            json_array_append_new (list, json_pack ("{sI ss so ss so ss so ss}",
                                                    "id", (json_int_t) seq, "kind", kind,
                                                    "due", s_day_json (directive.due),
                                                    "text", directive.text,
                                                    "received", s_day_json (state.received),
                                                    "state", said,
                                                    "done", s_day_json (state.done),
                                                    "note", state.note));
        else {
            char due [16] = "-", received [16] = "-", done [16] = "-";
            if (directive.due)
                cp_date_format (directive.due, due);
            if (state.received)
                cp_date_format (state.received, received);
            if (state.done)
                cp_date_format (state.done, done);
            printf ("%-8llu %-9s %-11s %-11s %-9s %-11s %s%s%s\n", (unsigned long long) seq,
                    kind, due, received, said, done, directive.text,
                    *state.note? "  | note: ": "", state.note);
        }
    }
    if (json && rc == 0) {
        json_t *all = json_pack ("{sI so}", "cursor", (json_int_t) cursor, "directives", list);
        //  Straight to stdout: json_dumps's text would need jansson's own
        //  free, which the key files' loading guards (cp_enrolment).
        json_dumpf (all, stdout, JSON_INDENT (2) | JSON_ENSURE_ASCII);
        printf ("\n");
        json_decref (all);
    }
    else
        json_decref (list);
    if (rc)
        fprintf (stderr, "cpsync-node: directives: %s\n", cp_strerror (rc));
    node_store_destroy (&store);
    node_keys_destroy (&keys);
    return rc? S_EXIT_USAGE: 0;
}

//  A directive's id as typed: its seq, digits only, 1 and up.
static bool
s_directive_id (const char *text, uint64_t *seq)
{
    size_t len = strlen (text);
    if (len == 0 || len > 19 || strspn (text, "0123456789") != len)
        return false;
    *seq = strtoull (text, NULL, 10);
    return *seq > 0;
}

//  directive done: the operator marks a directive done, in one write
//  transaction with the event that tells the central.
static int
s_directive (const s_options_t *options)
{
    if (options->argc != 1)
        return s_usage (options, "directive done needs the directive's ID (the number "
                        "'cpsync-node directives' shows)");
    const char *id = options->argv [0];
    uint64_t seq = 0;
    if (!s_directive_id (id, &seq)) {
        fprintf (stderr, "cpsync-node: directive done: '%s' is not a directive id (the "
                         "number 'cpsync-node directives' shows)\n", id);
        return 1;
    }
    node_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    const char *note = options->note? options->note: "";
    int32_t today = cp_date_today ();
    char why [256] = "";
    int rc;
    for (;;) {
        rc = node_store_begin (store);
        if (rc)
            break;
        rc = node_store_directive_done (store, seq, today, note, why, sizeof why);
        if (rc == NODE_STORE_APPENDED)
            rc = node_store_commit (store);
        else
            node_store_abort (store);
        if (rc != CP_EMAPFULL)
            break;
    }
    node_store_destroy (&store);
    if (rc == 0) {
        char day [16];
        cp_date_format (today, day);
        printf ("directive %llu done on %s\n", (unsigned long long) seq, day);
        return 0;
    }
    bool refused = rc != CP_ESTORE && rc != CP_EIO;
    fprintf (stderr, "cpsync-node: directive done %s: %s\n", id,
             refused && *why? why: cp_strerror (rc));
    return refused? 1: S_EXIT_USAGE;
}

int
main (int argc, char **argv)
{
    //  run's configuration file: its keys become options before the given ones.
    int given_argc = argc;
    char **given_argv = argv;
    const char *config = NULL;
    if (argc > 1 && streq (argv [1], "run")
    &&  cp_config_args ("cpsync-node", s_run_keys, S_RUN_KEYS, &argc, &argv, &config))
        return S_EXIT_USAGE;
    s_options_t options;
    int exit_code = 0;
    cp_cli_t *cli = s_parse (argc, argv, &options, &exit_code);
    if (!cli)
        return exit_code;
    options.config = config;
    options.given_argc = given_argc;
    options.given_argv = given_argv;
    if (cp_process_start ("cpsync-node")) {
        cp_cli_destroy (&cli);
        return S_EXIT_USAGE;
    }
    const char *command = options.command;
    int rc;
    if (streq (command, "init"))                rc = s_init (&options);
    else if (streq (command, "import"))         rc = s_import (&options);
    else if (streq (command, "view"))           rc = s_view (&options);
    else if (streq (command, "status"))         rc = s_status (&options);
    else if (streq (command, "figures"))        rc = s_figures (&options);
    else if (streq (command, "downlink"))       rc = s_downlink (&options);
    else if (streq (command, "directives"))     rc = s_directives (&options);
    else if (streq (command, "directive done")) rc = s_directive (&options);
    else if (streq (command, "run"))            rc = s_run (&options);
    else if (streq (command, "enrol"))          rc = s_enrol (&options);
    else if (streq (command, "recover"))        rc = s_recover (&options);
    else if (streq (command, "staff set"))      rc = s_staff_set (&options);
    else if (streq (command, "staff list"))     rc = s_staff_list (&options);
    else                                //  the table's commands only: backup, restore
        rc = cp_backup_command ("cpsync-node", CP_BACKUP_NODE, command, options.data, options.out,
                                options.from);
    cp_cli_destroy (&cli);
    return rc;
}
