/*  cpsync-central: the command line of the State Agency's central.

        cpsync-central init  --data DIR [--listen ENDPOINT] [--catalogue N]
        cpsync-central run   --data DIR [--listen ENDPOINT] [--verbose]
                             [--log-level LEVEL] [--config FILE]
        cpsync-central query --data DIR --period P
                             [--scope national|county:CODE|municipality:CODE]
                             [--catalogue N] [--format json|table|csv] [--lang sq|en]
        cpsync-central nodes --data DIR [--format json|table]
        cpsync-central stats --data DIR [--format json|table]
        cpsync-central refused --data DIR [--scope municipality:CODE]
                               [--format json|table]
        cpsync-central backup --data DIR --out FILE
        cpsync-central restore --from FILE --data DIR
        cpsync-central serve --data DIR [--http HOST:PORT]
                             [--tls-cert FILE --tls-key FILE] [--token-ttl SECONDS]
                             [--log-level LEVEL] [--config FILE]
        cpsync-central user add --data DIR --name N --role ROLE [--scope S]
                                [--password-file FILE]
        cpsync-central user remove --data DIR --name N
        cpsync-central user list --data DIR [--format json|table]
        cpsync-central catalogue publish --data DIR FILE.json [--root-secret PATH]
        cpsync-central catalogue list --data DIR [--format json|table]
        cpsync-central quality --data DIR --period P
                               [--scope national|county:CODE|municipality:CODE]
                               [--format json|table]
        cpsync-central deadline set --data DIR --year Y --days N
        cpsync-central deadline unset --data DIR --year Y
        cpsync-central deadline list --data DIR [--format json|table]
        cpsync-central workforce --data DIR --period P
                                 [--scope national|county:CODE|municipality:CODE]
                                 [--format json|table]
        cpsync-central directive send --data DIR --to CODE|county:CODE|all
                                      --kind referral|deadline|notice
                                      [--due YYYY-MM-DD] --text TEXT
                                      [--root-secret PATH] [--format json|table]
        cpsync-central directive list --data DIR [--scope S] [--format json|table]
        cpsync-central export --data DIR --pg CONNINFO|--csv DIR
                              [--public [--threshold N]]

    The command line is the table s_commands (cp_cli), from which every
    --help is made.  export writes the documents query, quality, workforce
    and directive list print, for every period and scope, as the tables of
    central_export (PostgreSQL schema cpsync, or CSV files).

    run starts the server actor and waits for SIGINT or SIGTERM; the actor
    commits what it holds before it ends, and run exits 0.  query, nodes,
    stats and refused open the store read-only, so they work while run
    runs; so does backup (cp_backup), while restore refuses while run runs.
    refused lists the events not counted (a rule's quarantine, or a
    conflict: an event id taken before with other content), without case
    values.  serve is the HTTP face (central_http), a process of its own
    that reads the store as query does; user edits the accounts it knows
    (central_accounts).  catalogue publish signs a catalogue revision with
    the root (DIR/keys/root.secret, or --root-secret) and publishes it to
    all nodes as a downlink entry, the central taking it as its newest
    catalogue in the same transaction (central_admin_publish); a text that
    is not the next version, does not apply, or removes or renames a code
    is refused and changes nothing.  catalogue list shows the versions the
    central holds, with their titles.  quality reads a period's completeness and
    timeliness (central_report_quality); deadline sets a year's reporting
    deadline in the store's meta (docs/design.md, section 13).  workforce
    reads children per child protection worker from the staffing the nodes
    report (central_workforce), read-only as query is.
    deadline in the store's meta (docs/design.md, section 13).  directive
    send signs a directive (cp_directive) with the root and appends it to
    the downlink log (central_admin_publish); directive list reads every
    directive with its state at each municipality it addresses
    (central_directives), the store open read-only.

    Exit codes: 0 done; 1 a command failed on its data or restore refused
    the backup; 2 usage or environment errors (bad flags, not a central,
    store, endpoint, unreadable files).                                    */

#include "central_accounts.h"
#include "central_admin.h"
#include "central_directives.h"
#include "central_export.h"
#include "central_http.h"
#include "central_report.h"
#include "central_server.h"
#include "central_store.h"
#include "central_workforce.h"
#include "cp_backup.h"
#include "cp_config.h"
#include "cp_cli.h"
#include "cp_check.h"
#include "cp_suppress.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_error.h"
#include "cp_log.h"
#include "cp_file.h"
#include "cp_municipality.h"
#include "cp_wire.h"
#include "cp_process.h"
#include "cp_view.h"

#include <czmq.h>
#include <malloc.h>
#include <unistd.h>
#include <errno.h>
#include <termios.h>
#include <jansson.h>
#include <sodium.h>
#include <inttypes.h>
#include <limits.h>
#include <time.h>

#define S_EXIT_FAILED 1
#define S_EXIT_USAGE 2

typedef struct {
    const char *command;
    const char *action;         //  user: add, remove or list; deadline: set, unset or list
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
    const char *http;           //  serve: HOST:PORT
    const char *tls_cert;       //  serve: PEM files for HTTPS
    const char *tls_key;
    int token_ttl;              //  serve: seconds; 0 if invalid
    const char *name;           //  user: the account
    const char *role;
    const char *password_file;
    const char *file;           //  catalogue publish: the revision's JSON
    const char *root_secret;    //  catalogue publish: NULL is DIR/keys/root.secret
    int catalogue;              //  0 = the default
    bool verbose;
    bool public;                //  query: for publication, small cells hidden
    int threshold;              //  query --public: cells of 1 to this hidden; 0 if invalid
    const char *year;           //  deadline: as given, checked by the command
    const char *days;
    const char *to;             //  directive send: the address
    const char *kind;           //  directive send: referral, deadline or notice
    const char *due;            //  directive send: YYYY-MM-DD, or NULL
    const char *text;           //  directive send
    //  run and serve: the log, and what a reload reads again
    const char *log_level;
    const char *config;         //  --config FILE, or NULL
    int given_argc;             //  the command line as given (its flags win)
    char **given_argv;
    const char *pg;             //  export: a libpq connection string
    const char *csv;            //  export: the directory of the CSV files
} s_options_t;

//  =====================================================================
//  The command line (cp_cli): every command, its options and its help

static const cp_cli_option_t s_options [] = {
    {"data", CP_CLI_DIR, "DIR", 0, 0, "the central's data directory"},
    {"listen", CP_CLI_TEXT, "ENDPOINT", 0, 0,
     "where nodes connect (default the one set at init, tcp://127.0.0.1:7400)"},
    {"period", CP_CLI_PERIOD, "YYYY|YYYY-Qn", 0, 0, "a year or a quarter, from 2000"},
    {"scope", CP_CLI_TEXT, "SCOPE", 0, 0,
     "national (the default), county:CODE or municipality:CODE"},
    {"catalogue", CP_CLI_INTEGER, "N", 1, 1000000,
     "the catalogue version (default the central's newest)"},
    {"format", CP_CLI_TEXT, "FORMAT", 0, 0, "the output's form"},
    {"lang", CP_CLI_TEXT, "sq|en", 0, 0, "the language of table and csv labels (default sq)"},
    {"compare", CP_CLI_FILE, "REPORT.json", 0, 0,
     "a published report to print beside (with --format table)"},
    {"report", CP_CLI_FILE, "REPORT.json", 0, 0, "a published report to check as well"},
    {"public", CP_CLI_FLAG, NULL, 0, 0,
     "for publication: cells of 1 to the threshold, and what would tell them, hidden"},
    {"threshold", CP_CLI_INTEGER, "N", 1, 1000000,
     "with --public: the largest count hidden (default 5)"},
    {"verbose", CP_CLI_FLAG, NULL, 0, 0, "log every exchange"},
    {"out", CP_CLI_FILE, "FILE", 0, 0, "the backup file to write"},
    {"from", CP_CLI_FILE, "FILE", 0, 0, "the backup file to read"},
    {"http", CP_CLI_TEXT, "HOST:PORT", 0, 0,
     "where to serve (default " CENTRAL_HTTP_ADDRESS "; beyond loopback needs TLS)"},
    {"tls-cert", CP_CLI_FILE, "FILE", 0, 0, "the PEM certificate for HTTPS"},
    {"tls-key", CP_CLI_FILE, "FILE", 0, 0, "the PEM key for HTTPS"},
    {"token-ttl", CP_CLI_INTEGER, "SECONDS", 1, 30 * 86400,
     "how long a session token lives"},
    {"name", CP_CLI_TEXT, "NAME", 0, 0, "the account's name"},
    {"role", CP_CLI_TEXT, "operator|county|municipality|public", 0, 0, "the account's role"},
    {"password-file", CP_CLI_FILE, "FILE", 0, 0, "read the password from FILE (else stdin)"},
    {"root-secret", CP_CLI_FILE, "PATH", 0, 0,
     "the root secret key (default DIR/keys/root.secret)"},
    {"year", CP_CLI_TEXT, "YYYY", 0, 0, "the year, from 2000 to 2099"},
    {"days", CP_CLI_TEXT, "N", 0, 0,
     "days after each quarter of the year, 0 to 365 (the default deadline is 15)"},
    {"to", CP_CLI_TEXT, "CODE|county:CODE|all", 0, 0, "whom the directive is for"},
    {"kind", CP_CLI_TEXT, "referral|deadline|notice", 0, 0, "the directive's kind"},
    {"due", CP_CLI_DATE, "YYYY-MM-DD", 0, 0, "when it is due"},
    {"text", CP_CLI_TEXT, "TEXT", 0, 0,
     "what it says: at most 1000 bytes of UTF-8, and no case data"},
    {"pg", CP_CLI_TEXT, "CONNINFO", 0, 0,
     "a PostgreSQL connection string (libpq's: \"host=... dbname=...\" or a URI)"},
    {"csv", CP_CLI_DIR, "DIR", 0, 0, "write one CSV file per table into DIR"},
    {"log-level", CP_CLI_TEXT, "LEVEL", 0, 0, "error, warning, notice, info or debug"},
    {"config", CP_CLI_FILE, "FILE", 0, 0,
     "a configuration file whose keys are these options (a flag given wins)"},
    {NULL, 0, NULL, 0, 0, NULL}
};

static const cp_cli_command_t s_commands [] = {
    {"init", "data! listen catalogue", NULL, 0,
     "set up a central's data directory and its keys",
     "The root key is kept in DIR/keys/root.secret; the administrator may move it "
     "offline."},
    {"run", "data! listen verbose log-level config", NULL, 0,
     "receive the nodes' events until SIGTERM or SIGINT",
     "Stays in the foreground; commits what it holds before it ends, and exits 0. "
     "SIGHUP reads the configuration file again (the log level)."},
    {"query", "data! period+ scope catalogue format=json|table|csv lang compare public "
     "threshold", NULL, 0,
     "the figures of a period and a scope",
     "Reads the store read-only: it works while run runs."},
    {"check", "data! period+ scope=national|county:CODE|municipality:CODE|all catalogue "
     "report format=json|table", NULL, 0,
     "check the consistency rules on the figures (exit 1 when one is broken)", NULL},
    {"nodes", "data! format=json|table", NULL, 0, "every node the central knows, and how it is",
     NULL},
    {"stats", "data! format=json|table", NULL, 0, "the store's counts", NULL},
    {"refused", "data! scope=municipality:CODE format=json|table", NULL, 0,
     "the events not counted, without case values",
     "A rule's quarantine, or a conflict: an event id taken before with other content."},
    {"backup", "data! out+", NULL, 0, "copy the central's store to a file",
     "Works while run runs; a backup holds no keys."},
    {"restore", "from+ data!", NULL, 0, "put a backup back",
     "Needs DIR/keys in place and refuses while run runs."},
    {"serve", "data! http tls-cert tls-key token-ttl verbose log-level config", NULL, 0,
     "the HTTP API, the dashboard and /metrics", "A process of its own that reads the "
     "store as query does. An address beyond loopback needs --tls-cert and --tls-key. "
     "SIGHUP reads the configuration file again (the log level, the certificate and "
     "key)."},
    {"user add", "data! name+ role+ scope=county:CODE|municipality:CODE password-file", NULL, 0,
     "add an account of serve", NULL},
    {"user remove", "data! name+", NULL, 0, "remove an account", NULL},
    {"user list", "data! format=json|table", NULL, 0, "list the accounts", NULL},
    {"catalogue publish", "data! root-secret", "FILE.json", 1,
     "sign a catalogue revision with the root and send it to all nodes",
     "The revision is the next version and only adds codes; prints its seq."},
    {"catalogue list", "data! format=json|table", NULL, 0,
     "the catalogue versions the central holds", NULL},
    {"quality", "data! period+ scope format=json|table", NULL, 0,
     "completeness and timeliness of a period", NULL},
    {"deadline set", "data! year+ days+", NULL, 0, "set a year's reporting deadline", NULL},
    {"deadline unset", "data! year+", NULL, 0, "back to the default deadline", NULL},
    {"deadline list", "data! format=json|table", NULL, 0, "the deadlines set", NULL},
    {"workforce", "data! period+ scope format=json|table", NULL, 0,
     "children per child protection worker, against the target of 3000", NULL},
    {"directive send", "data! to+ kind+ due text+ root-secret format=json|table", NULL, 0,
     "sign a directive with the root and send it to the nodes addressed",
     "Prints its id. The TEXT must not contain case data: no names, no case "
     "pseudonyms, no addresses. Directives are not sealed and every node addressed "
     "keeps them. At most 1000 bytes of UTF-8, line breaks the only control "
     "characters."},
    {"directive list", "data! scope format=json|table", NULL, 0,
     "each directive's state at each municipality (of the scope)",
     "sent, delivered, acknowledged, done or overdue."},
    {"export", "data! pg csv public threshold", NULL, 0,
     "write every period's figures, quality, workforce and directives to PostgreSQL or CSV",
     "With --pg, into the schema cpsync, replaced in one transaction; with --csv, one "
     "file per table. docs/export.md describes the tables. A publication (--public) "
     "holds the figures of whole years alone, as the public role of serve sees them."},
    {NULL, NULL, NULL, 0, NULL, NULL}
};

static const cp_cli_program_t s_program = {
    "cpsync-central", "The State Agency's central: it receives the nodes' events and "
    "answers for the figures.", s_options, s_commands, NULL,
    "directive send sends its text as written. The TEXT must not contain case data: no "
    "names, no case pseudonyms, no addresses. Directives are not sealed and every node "
    "addressed keeps them.\n\n"
    "Exit codes: 0 done; 1 a command failed on its data or restore refused the backup; "
    "2 usage or environment errors."
};

//  A usage error of the command being run: what was wrong, where the help is.
static int
s_usage (const s_options_t *options, const char *message)
{
    return cp_cli_usage_error ("cpsync-central", options? options->command: NULL, message);
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
    //  "user add": the action is the second word
    const char *space = strchr (options->command, ' ');
    options->action = space? space + 1: NULL;
    options->data = cp_cli_text (cli, "data");
    options->listen = cp_cli_text (cli, "listen");
    options->period = cp_cli_text (cli, "period");
    options->scope = cp_cli_given (cli, "scope")? cp_cli_text (cli, "scope"): "national";
    options->format = cp_cli_text (cli, "format");
    options->lang = cp_cli_given (cli, "lang")? cp_cli_text (cli, "lang"): "sq";
    options->compare = cp_cli_text (cli, "compare");
    options->report = cp_cli_text (cli, "report");
    options->public = cp_cli_given (cli, "public");
    options->threshold = (int) cp_cli_integer (cli, "threshold", CP_SUPPRESS_THRESHOLD);
    options->verbose = cp_cli_given (cli, "verbose");
    options->log_level = cp_cli_text (cli, "log-level");
    options->out = cp_cli_text (cli, "out");
    options->from = cp_cli_text (cli, "from");
    options->http = cp_cli_given (cli, "http")? cp_cli_text (cli, "http")
                                              : CENTRAL_HTTP_ADDRESS;
    options->tls_cert = cp_cli_text (cli, "tls-cert");
    options->tls_key = cp_cli_text (cli, "tls-key");
    options->token_ttl = (int) cp_cli_integer (cli, "token-ttl", CENTRAL_HTTP_TOKEN_TTL);
    options->name = cp_cli_text (cli, "name");
    options->role = cp_cli_text (cli, "role");
    options->password_file = cp_cli_text (cli, "password-file");
    options->root_secret = cp_cli_text (cli, "root-secret");
    options->catalogue = (int) cp_cli_integer (cli, "catalogue", 0);
    options->year = cp_cli_text (cli, "year");
    options->days = cp_cli_text (cli, "days");
    options->to = cp_cli_text (cli, "to");
    options->kind = cp_cli_text (cli, "kind");
    options->due = cp_cli_text (cli, "due");
    options->text = cp_cli_text (cli, "text");
    options->pg = cp_cli_text (cli, "pg");
    options->csv = cp_cli_text (cli, "csv");
    int operands = 0;
    char **operand = cp_cli_operands (cli, &operands);
    options->file = operands? operand [0]: NULL;
    return cli;
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

//  =====================================================================
//  The daemons' configuration files and reloads

//  The keys of run's and serve's configuration files: their long options.
static const cp_config_key_t s_run_keys [] = {
    {"data", CP_CONFIG_TEXT, 0, 0},
    {"listen", CP_CONFIG_TEXT, 0, 0},
    {"verbose", CP_CONFIG_BOOL, 0, 0},
    {"log-level", CP_CONFIG_LEVEL, 0, 0},
};
static const cp_config_key_t s_serve_keys [] = {
    {"data", CP_CONFIG_TEXT, 0, 0},
    {"http", CP_CONFIG_TEXT, 0, 0},
    {"tls-cert", CP_CONFIG_TEXT, 0, 0},
    {"tls-key", CP_CONFIG_TEXT, 0, 0},
    {"token-ttl", CP_CONFIG_NUMBER, 1, 30 * 86400},
    {"verbose", CP_CONFIG_BOOL, 0, 0},
    {"log-level", CP_CONFIG_LEVEL, 0, 0},
};
#define S_KEYS(table) table, sizeof table / sizeof table [0]

//  The log level run and serve start at: --log-level, else debug with
//  --verbose, else info; -1 (said) when --log-level is not a level.
static int
s_log_level (const s_options_t *options)
{
    int level = options->log_level? cp_log_level_parse (options->log_level)
              : options->verbose? CP_LOG_DEBUG: CP_LOG_INFO;
    if (level < 0)
        s_usage (options, "--log-level must be " CP_LOG_LEVELS);
    return level;
}

//  SIGHUP: reads the configuration file again and sets the log level it
//  names (a --log-level flag still wins); for serve (http not NULL) it
//  also loads the certificate and key again, from the files named now.
//  The rest needs a restart.  A file now refused changes nothing.
static void
s_reload (const s_options_t *options, const cp_config_key_t *keys, size_t key_count,
          central_http_t *http)
{
    if (!options->config) {
        zsys_notice ("cpsync-central: reload: no --config file; the log level stays");
        return;
    }
    cp_config_entry_t entries [CP_CONFIG_ENTRIES_MAX];
    size_t count = 0;
    char why [CP_CONFIG_VALUE_MAX + 512];
    if (cp_config_load (options->config, keys, key_count, entries, &count, why, sizeof why)) {
        zsys_error ("cpsync-central: reload refused, nothing changed: configuration file %s",
                    why);
        return;
    }
    const char *text = cp_config_value (options->given_argc, options->given_argv, entries,
                                        count, "log-level");
    int level = text? cp_log_level_parse (text): CP_LOG_INFO;
    if (level < 0) {
        zsys_error ("cpsync-central: reload refused, nothing changed: --log-level %s", text);
        return;
    }
    cp_log_set_level (level);
    zsys_notice ("cpsync-central: reloaded %s: log level %s", options->config,
                 cp_log_level_name (level));
    const char *cert = cp_config_value (options->given_argc, options->given_argv, entries,
                                        count, "tls-cert");
    const char *key = cp_config_value (options->given_argc, options->given_argv, entries,
                                       count, "tls-key");
    if (http && cert && key) {
        int rc = central_http_reload_tls (http, cert, key, why, sizeof why);
        if (rc)
            zsys_error ("cpsync-central: reload: TLS: %s", why);
        else
            zsys_notice ("cpsync-central: reload: TLS: %s", why);
    }
}

static int
s_run (const s_options_t *options)
{
    int level = s_log_level (options);
    if (level < 0)
        return S_EXIT_USAGE;
    cp_log_start (level);
    cp_config_catch_reload ();
    //  glibc's malloc gives each thread that allocates an arena of its
    //  own (up to eight per core) and keeps what is freed in it for reuse:
    //  batches libzmq's I/O thread receives are freed by the actor, the
    //  helper's decoded events likewise, and each arena holds its own high
    //  mark.  Two arenas: 61 nodes at full speed peaked at 189 and 191 MiB
    //  of RssAnon instead of 213 and 212 (bench/README.md), no slower.  (A
    //  fixed M_MMAP_THRESHOLD saved as much, but mapped and unmapped each
    //  batch's decoded events: a sixth of the actor's time in page faults.)
    mallopt (M_ARENA_MAX, 2);
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
    while (!zsys_interrupted) {
        if (zpoller_wait (poller, 100) == server) {
            zmsg_t *unexpected = zmsg_recv (server);
            zmsg_destroy (&unexpected);
        }
        if (cp_config_reload_asked ())
            s_reload (options, S_KEYS (s_run_keys), NULL);
    }
    zpoller_destroy (&poller);
    zsys_info ("cpsync-central: stopping");
    zactor_destroy (&server);
    return 0;
}

//  Reads a whole small file (a published report) into a string; NULL on
//  failure.
static char *
s_read_file (const char *path)
{
    size_t size;
    char why [300];
    return cp_file_read (path, 1 << 20, &size, why, sizeof why);
}

static int
s_query (const s_options_t *options)
{
    const char *format = options->format? options->format: "json";
    cp_period_t period;
    cp_scope_t scope;
    if (!options->period || cp_period_parse (options->period, &period))
        return s_usage (options, "query needs --period YYYY or YYYY-Qn (from 2000)");
    if (cp_scope_parse (options->scope, &scope))
        return s_usage (options, "--scope must be national, county:CODE or municipality:CODE "
                        "of a known county or municipality");
    if (strcmp (format, "json") && strcmp (format, "table") && strcmp (format, "csv"))
        return s_usage (options, "--format must be json, table or csv");
    if (strcmp (options->lang, "sq") && strcmp (options->lang, "en"))
        return s_usage (options, "--lang must be sq or en");
    if (options->compare && strcmp (format, "table"))
        return s_usage (options, "--compare needs --format table");
    if (options->compare && options->public)
        return s_usage (options, "--compare and --public do not go together");
    if (options->threshold < 1)
        return s_usage (options, "--threshold must be a whole number from 1 (cells of 1 to it are hidden)");
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
    if (!options->compare) {
        int rc = central_report_view (store, &period, options->scope, version,
                                      options->public? options->threshold: 0, NULL, format,
                                      options->lang, stdout);
        if (rc)
            fprintf (stderr, "cpsync-central: query: %s\n", cp_strerror (rc));
        central_store_destroy (&store);
        return rc? S_EXIT_FAILED: 0;
    }
    //  Beside a published report: the rows that differ are marked.
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    assert (view && figures);
    cp_view_init (view, &period, options->scope);
    int rc = central_store_view (store, options->scope, view);
    if (rc == 0) {
        cp_view_figures (view, catalogue, version, figures);
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
    if (rc)
        fprintf (stderr, "cpsync-central: query: %s\n", cp_strerror (rc));
    free (view);
    free (figures);
    central_store_destroy (&store);
    return rc? S_EXIT_FAILED: 0;
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
        return s_usage (options, "check needs --period YYYY or YYYY-Qn (from 2000)");
    if (!all && cp_scope_parse (options->scope, &scope))
        return s_usage (options, "--scope must be national, county:CODE, municipality:CODE or all");
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage (options, "--format must be json or table");
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
    int found = 0;
    json_t *checked = rc? NULL: central_report_check (store, &period, all? NULL: &scope,
                                                      version, &found, &rc);
    central_store_destroy (&store);
    if (rc == CP_EUSAGE)
        fprintf (stderr, "cpsync-central: --catalogue %d: the central holds catalogue %d only\n",
                 version, cp_catalogue_version (catalogue));
    else
    if (rc)
        fprintf (stderr, "cpsync-central: check: %s\n", cp_strerror (rc));
    if (rc == 0 && report) {
        const char *scope_of = json_string_value (json_object_get (report, "scope"));
        found += central_report_check_document (checked, options->report,
                                                scope_of? scope_of: "national", report);
    }
    json_decref (report);
    if (rc) {
        json_decref (checked);
        return rc == CP_EUSAGE? S_EXIT_USAGE: S_EXIT_FAILED;
    }
    if (strcmp (format, "json") == 0) {
        json_t *root = central_report_check_json (options->period, version, found, checked);
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
//  counters; with reconciliations, a malloc'd array of what each node said
//  of its figures) in one short read of the store.  Returns a malloc'd array of
//  cp_municipality_count () cursors, or NULL with the exit code to use.
static central_cursor_t *
s_read_cursors (const s_options_t *options, const char *command,
                central_counter_t *counters, size_t *counter_count,
                central_reconciliation_t **reconciliations, int *exit_code)
{
    central_store_t *store = s_open (options);
    if (!store) {
        *exit_code = S_EXIT_USAGE;
        return NULL;
    }
    int rc;
    central_cursor_t *cursors = central_report_cursors (store, &rc);
    if (cursors && counters)
        rc = central_store_counters (store, counters, 128, counter_count);
    //  And what each node said of its figures, from the same opening
    if (cursors && rc == 0 && reconciliations)
        *reconciliations = central_report_reconciliations (store, &rc);
    central_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-central: %s: %s\n", command, cp_strerror (rc));
        free (cursors);
        *exit_code = S_EXIT_FAILED;
        return NULL;
    }
    return cursors;
}

//  A string member of a node, or what the table shows for null.
static const char *
s_node_text (const json_t *node, const char *key, const char *none)
{
    const char *text = json_string_value (json_object_get (node, key));
    return text? text: none;
}

static unsigned long long
s_node_count (const json_t *node, const char *key)
{
    return (unsigned long long) json_integer_value (json_object_get (node, key));
}

//  What a node said of the figures it was sent, as the table shows it:
//  "in_sync", "unknown", or "diverged" and the months that differ.
static void
s_node_figures (const json_t *node, char *text, size_t size)
{
    const json_t *reconciliation = json_object_get (node, "reconciliation");
    size_t used = (size_t) snprintf (text, size, "%s", s_node_text (reconciliation, "verdict",
                                                                    "unknown"));
    size_t index;
    json_t *period;
    json_array_foreach (json_object_get (reconciliation, "periods"), index, period)
        if (used < size)
            used += (size_t) snprintf (text + used, size - used, " %s",
                                       json_string_value (period));
    json_int_t more = json_integer_value (json_object_get (reconciliation, "periods_more"));
    if (more && used < size)
        snprintf (text + used, size - used, " +%lld more", (long long) more);
}

static int
s_nodes (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage (options, "--format must be json or table");
    int exit_code;
    central_reconciliation_t *reconciliations = NULL;
    central_cursor_t *cursors = s_read_cursors (options, "nodes", NULL, NULL, &reconciliations,
                                                &exit_code);
    if (!cursors)
        return exit_code;
    json_t *list = central_report_nodes (cursors, NULL, cp_date_now_ms ());
    central_report_nodes_reconciled (list, reconciliations);
    free (cursors);
    free (reconciliations);
    if (strcmp (format, "json") == 0) {
        json_dumpf (list, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
        json_decref (list);
        return 0;
    }
    printf ("%-14s %-12s %-20s %-16s %10s %10s %8s %10s %9s %9s %9s  %-20s  %s\n",
            "municipality", "county", "last seen (UTC)", "log", "acked", "head", "backlog",
            "lag (s)", "again", "conflicts", "downlink", "new log or restore seen (UTC)",
            "figures");
    size_t index;
    json_t *node;
    json_array_foreach (list, index, node) {
        char lag [24] = "-";
        json_t *lag_seconds = json_object_get (node, "lag_seconds");
        if (json_is_integer (lag_seconds))
            snprintf (lag, sizeof lag, "%lld", (long long) json_integer_value (lag_seconds));
        char figures [CP_NOTE_MAX + 64];
        s_node_figures (node, figures, sizeof figures);
        printf ("%-14s %-12s %-20s %-16s %10llu %10llu %8llu %10s %9llu %9llu %9llu"
                "  %-20s  %s\n",
                s_node_text (node, "code", "?"), s_node_text (node, "county", "?"),
                s_node_text (node, "last_seen", "never"), s_node_text (node, "log", "-"),
                s_node_count (node, "acked"), s_node_count (node, "head"),
                s_node_count (node, "backlog"), lag, s_node_count (node, "duplicate_events"),
                s_node_count (node, "conflicts"), s_node_count (node, "downlink"),
                s_node_text (node, "log_changed", "-"), figures);
    }
    json_decref (list);
    return 0;
}

//  Lists the events not counted: municipality, log, sequence, why, when.
static int
s_refused (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage (options, "--format must be json or table");
    int municipality = -1;
    if (options->scope && strcmp (options->scope, "national") != 0) {
        cp_scope_t scope;
        if (cp_scope_parse (options->scope, &scope) || scope.kind != CP_SCOPE_MUNICIPALITY)
            return s_usage (options, "refused: --scope must be national (the default) or "
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
        return s_usage (options, "--format must be json or table");
    central_counter_t counters [128];
    size_t counter_count = 0;
    int exit_code;
    central_cursor_t *cursors = s_read_cursors (options, "stats", counters, &counter_count,
                                                NULL, &exit_code);
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

//  Completeness and timeliness of a period: per municipality, by county.
static int
s_quality (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    cp_period_t period;
    cp_scope_t scope;
    if (!options->period || cp_period_parse (options->period, &period))
        return s_usage (options, "quality needs --period YYYY or YYYY-Qn (from 2000)");
    int year = (int) strtol (period.name, NULL, 10);
    if (year > CP_DATE_MAX_YEAR)
        return s_usage (options, "quality: --period must be of a year from 2000 to 2099");
    if (cp_scope_parse (options->scope, &scope))
        return s_usage (options, "--scope must be national, county:CODE or municipality:CODE "
                        "of a known county or municipality");
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage (options, "--format must be json or table");
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    int rc;
    json_t *quality = central_report_quality_read (store, &period, &scope, cp_date_now_ms (),
                                                   cp_date_today (), &rc);
    central_store_destroy (&store);
    if (!quality) {
        fprintf (stderr, "cpsync-central: quality: %s\n", cp_strerror (rc));
        return S_EXIT_FAILED;
    }
    if (strcmp (format, "json") == 0) {
        json_dumpf (quality, stdout, CENTRAL_REPORT_JSON);
        fputc ('\n', stdout);
    }
    else
        central_report_quality_print (quality, stdout);
    json_decref (quality);
    return 0;
}

//  Children per child protection worker at a period's end: per
//  municipality, by county, and for the scope.
static int
s_workforce (const s_options_t *options)
{
    const char *format = options->format? options->format: "table";
    cp_period_t period;
    cp_scope_t scope;
    if (!options->period || cp_period_parse (options->period, &period)
    ||  strtol (period.name, NULL, 10) > CP_DATE_MAX_YEAR)
        return s_usage (options, "workforce needs --period YYYY or YYYY-Qn of a year from 2000 to 2099");
    if (cp_scope_parse (options->scope, &scope))
        return s_usage (options, "--scope must be national, county:CODE or municipality:CODE "
                        "of a known county or municipality");
    if (strcmp (format, "json") && strcmp (format, "table"))
        return s_usage (options, "--format must be json or table");
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    int rc;
    json_t *workforce = central_report_workforce_read (store, &period, &scope, &rc);
    central_store_destroy (&store);
    if (workforce) {
        if (strcmp (format, "json") == 0) {
            json_dumpf (workforce, stdout, CENTRAL_REPORT_WORKFORCE_JSON);
            fputc ('\n', stdout);
        }
        else
            central_workforce_print (workforce, stdout);
        json_decref (workforce);
    }
    else
        fprintf (stderr, "cpsync-central: workforce: %s\n", cp_strerror (rc));
    return rc? S_EXIT_FAILED: 0;
}

//  A whole number of text from low to high, or INT_MIN when it is not one.
static int
s_whole (const char *text, int low, int high)
{
    if (!text)
        return INT_MIN;
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < low || value > high)
        return INT_MIN;
    return (int) value;
}

//  The reporting deadlines: set or unset a year's, or list them.
static int
s_deadline (const s_options_t *options)
{
    const char *action = options->action? options->action: "";
    const char *format = options->format? options->format: "table";
    if (!streq (action, "set") && !streq (action, "unset") && !streq (action, "list"))
        return s_usage (options, "deadline takes set, unset or list");
    if (streq (action, "list")) {
        if (!streq (format, "json") && !streq (format, "table"))
            return s_usage (options, "--format must be json or table");
        central_store_t *store = s_open (options);
        if (!store)
            return S_EXIT_USAGE;
        int days [CENTRAL_STORE_YEARS];
        bool set [CENTRAL_STORE_YEARS];
        int rc = central_store_deadlines (store, days, set);
        central_store_destroy (&store);
        if (rc) {
            fprintf (stderr, "cpsync-central: deadline list: %s\n", cp_strerror (rc));
            return S_EXIT_FAILED;
        }
        json_t *list = json_array ();
        bool any = false;
        for (int at = 0; at < CENTRAL_STORE_YEARS; at++)
            any |= set [at];
        if (streq (format, "table"))
            printf ("every quarter's deadline is %d days after its last day%s\n",
                    CENTRAL_STORE_DEADLINE_DAYS, any? ", except:": "");
        for (int at = 0; at < CENTRAL_STORE_YEARS; at++) {
            if (!set [at])
                continue;
            if (streq (format, "table"))
                printf ("  %d: %d days\n", CP_DATE_MIN_YEAR + at, days [at]);
            else
                json_array_append_new (list, json_pack ("{s:i, s:i}", "year",
                                       CP_DATE_MIN_YEAR + at, "days", days [at]));
        }
        if (streq (format, "json")) {
            json_t *root = json_pack ("{s:i, s:o}", "default_days", CENTRAL_STORE_DEADLINE_DAYS,
                                      "years", list);
            json_dumpf (root, stdout, JSON_INDENT (2));
            fputc ('\n', stdout);
            json_decref (root);
        }
        else
            json_decref (list);
        return 0;
    }
    int year = s_whole (options->year, CP_DATE_MIN_YEAR, CP_DATE_MAX_YEAR);
    if (year == INT_MIN)
        return s_usage (options, "deadline: --year must be a year from 2000 to 2099");
    int days = -1;
    if (streq (action, "set")) {
        days = s_whole (options->days, INT_MIN + 1, INT_MAX);
        if (days == INT_MIN)
            return s_usage (options, "deadline set: --days must be a whole number of days");
        if (days < 0)
            return s_usage (options, "deadline set: --days must not be negative (days after the "
                            "quarter's last day)");
        if (days > CENTRAL_STORE_DEADLINE_MAX)
            return s_usage (options, "deadline set: --days must be at most 365 (a deadline more than "
                            "a year after its quarter is a mistake)");
    }
    else
    if (options->days)
        return s_usage (options, "deadline unset takes no --days");
    int error = 0;
    central_store_t *store = central_store_open (options->data, 0, &error);
    if (!store) {
        fprintf (stderr, "cpsync-central: %s: %s\n", options->data,
                 error == CP_ENOTCENTRAL? "not a cpsync central data directory "
                                          "(run 'cpsync-central init' first)"
                                        : cp_strerror (error));
        return S_EXIT_USAGE;
    }
    int rc = central_store_deadline_set (store, year, days);
    central_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-central: deadline %s: %s\n", action, cp_strerror (rc));
        return S_EXIT_FAILED;
    }
    if (days < 0)
        printf ("deadline of %d: the default, %d days after each quarter\n", year,
                CENTRAL_STORE_DEADLINE_DAYS);
    else
        printf ("deadline of %d: %d days after each quarter\n", year, days);
    return 0;
}

//  The HTTP face: serves until SIGINT or SIGTERM.
static int
s_serve (const s_options_t *options)
{
    if (options->token_ttl < 1)
        return s_usage (options, "--token-ttl must be a number of seconds from 1 to 2592000 (30 days)");
    int level = s_log_level (options);
    if (level < 0)
        return S_EXIT_USAGE;
    cp_log_start (level);
    cp_config_catch_reload ();
    central_http_config_t config = {options->data, options->http, options->tls_cert,
                                    options->tls_key, options->token_ttl, options->verbose};
    char why [512] = "";
    central_http_t *http = central_http_new (&config, why, sizeof why);
    if (!http) {
        fprintf (stderr, "cpsync-central: serve: %s\n", why);
        return S_EXIT_USAGE;
    }
    zsys_info ("cpsync-central: serving the HTTP API of %s on %s%s", options->data,
               options->http, options->tls_cert? " (HTTPS)": "");
    while (!zsys_interrupted && central_http_serving (http)) {
        zclock_sleep (100);
        if (cp_config_reload_asked ())
            s_reload (options, S_KEYS (s_serve_keys), http);
    }
    int rc = central_http_serving (http)? 0: S_EXIT_FAILED;
    zsys_info ("cpsync-central: stopping");
    central_http_destroy (&http);
    return rc;
}

//  A password: the first line of --password-file, or a line of stdin read
//  without echo when it is a terminal.  Returns sodium_malloc'd text (the
//  caller frees it with sodium_free), or NULL.
static char *
s_password (const char *path)
{
    FILE *file = path? fopen (path, "r"): stdin;
    if (!file)
        return NULL;
    bool terminal = !path && isatty (fileno (stdin));
    struct termios saved, quiet;
    if (terminal && tcgetattr (fileno (stdin), &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr (fileno (stdin), TCSAFLUSH, &quiet);
        fprintf (stderr, "password: ");
    }
    else
        terminal = false;
    char *password = sodium_malloc (CENTRAL_PASSWORD_MAX + 2);
    assert (password);
    if (!fgets (password, CENTRAL_PASSWORD_MAX + 2, file)) {
        sodium_free (password);
        password = NULL;
    }
    else
        password [strcspn (password, "\r\n")] = 0;
    if (terminal) {
        tcsetattr (fileno (stdin), TCSAFLUSH, &saved);
        fprintf (stderr, "\n");
    }
    if (path)
        fclose (file);
    return password;
}

//  user add, remove and list: the accounts of the HTTP face.
static int
s_user (const s_options_t *options)
{
    const char *action = options->action? options->action: "";
    const char *format = options->format? options->format: "table";
    if (!streq (action, "add") && !streq (action, "remove") && !streq (action, "list"))
        return s_usage (options, "user takes add, remove or list");
    if (!streq (action, "list") && !options->name)
        return s_usage (options, "user add and remove need --name NAME");
    if (streq (action, "list") && !streq (format, "json") && !streq (format, "table"))
        return s_usage (options, "--format must be json or table");
    int error = 0;
    char why [512] = "";
    central_accounts_t *accounts = central_accounts_load (options->data, &error, why, sizeof why);
    if (!accounts) {
        fprintf (stderr, "cpsync-central: user: %s\n", why);
        return S_EXIT_USAGE;
    }
    int rc = 0;
    if (streq (action, "add")) {
        central_account_t account;
        //  The name, role and scope are checked before a password is asked for.
        char *password = NULL;
        rc = central_account_check (&account, options->name, options->role, options->scope,
                                    why, sizeof why);
        if (rc == 0 && central_accounts_find (accounts, options->name))
            rc = cp_error_why (CP_EEXISTS, why, sizeof why, "an account %s exists already",
                               options->name);
        if (rc == 0) {
            password = s_password (options->password_file);
            rc = password? 0: cp_error_why (CP_EUSAGE, why, sizeof why, "no password read");
        }
        if (rc == 0)
            rc = central_account_make (&account, options->name, options->role, options->scope,
                                       password, why, sizeof why);
        if (password)
            sodium_free (password);
        if (rc == 0)
            rc = central_accounts_add (accounts, &account);
    }
    else
    if (streq (action, "remove")) {
        rc = central_accounts_remove (accounts, options->name);
        if (rc)
            cp_error_why (rc, why, sizeof why, "no account %s", options->name);
    }
    else {
        json_t *list = json_array ();
        if (streq (format, "table"))
            printf ("%-24s %-13s %-26s %s\n", "name", "role", "scope", "created (UTC)");
        for (size_t index = 0; index < central_accounts_size (accounts); index++) {
            const central_account_t *account = central_accounts_at (accounts, index);
            char scope [CP_SCOPE_MAX];
            cp_scope_format (&account->scope, scope);
            const char *role = central_role_name (account->role);
            if (streq (format, "table"))
                printf ("%-24s %-13s %-26s %s\n", account->name, role, scope, account->created);
            else
                json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:s}", "name",
                                       account->name, "role", role, "scope", scope,
                                       "created", account->created));
        }
        if (streq (format, "json")) {
            json_dumpf (list, stdout, JSON_INDENT (2));
            fputc ('\n', stdout);
        }
        json_decref (list);
        central_accounts_destroy (&accounts);
        return 0;
    }
    if (rc == 0 && central_accounts_save (accounts))
        rc = cp_error_why (CP_EIO, why, sizeof why, "%s/%s cannot be written", options->data,
                           CENTRAL_ACCOUNTS_FILE);
    central_accounts_destroy (&accounts);
    if (rc) {
        fprintf (stderr, "cpsync-central: user %s: %s\n", action, why);
        return rc == CP_EIO? S_EXIT_FAILED: S_EXIT_USAGE;
    }
    printf ("%s %s\n", streq (action, "add")? "added": "removed", options->name);
    return 0;
}

//  Reads a revision's file whole, NUL-terminated (malloc'd) with its size in
//  *size; NULL, said on stderr, when it cannot be read or is over what a
//  downlink entry carries.
static char *
s_read_revision (const char *path, size_t *size)
{
    char why [300];
    char *text = cp_file_read (path, CP_DOWNLINK_BODY_MAX, size, why, sizeof why);
    if (!text)
        fprintf (stderr, "cpsync-central: catalogue publish: %s\n", why);
    return text;
}

//  catalogue publish: a revision signed with the root, to all nodes;
//  catalogue list: the versions the central holds.
static int
s_catalogue (const s_options_t *options)
{
    const char *action = options->action? options->action: "";
    const char *format = options->format? options->format: "table";
    if (streq (action, "publish")) {
        if (!options->file)
            return s_usage (options, "catalogue publish needs the revision's FILE.json");
        size_t size = 0;
        char *text = s_read_revision (options->file, &size);
        if (!text)
            return S_EXIT_USAGE;
        char why [512] = "";
        uint64_t seq = 0;
        int rc = central_admin_publish (options->data, options->root_secret,
                                        CP_DOWNLINK_CATALOGUE, "all", (const uint8_t *) text,
                                        size, &seq, why, sizeof why);
        int version = cp_catalogue_text_version (text);
        free (text);
        if (rc) {
            fprintf (stderr, "cpsync-central: catalogue publish %s: %s\n", options->file,
                     *why? why: cp_strerror (rc));
            return rc == CP_EIO || rc == CP_ESTORE || rc == CP_EUSAGE || rc == CP_ENOTCENTRAL
                || rc == CP_EINSECURE? S_EXIT_USAGE: S_EXIT_FAILED;
        }
        printf ("published catalogue %d as downlink entry %" PRIu64 " to all\n", version, seq);
        return 0;
    }
    if (!streq (action, "list"))
        return s_usage (options, "catalogue takes publish or list");
    if (options->file)
        return s_usage (options, "catalogue list takes no FILE");
    if (!streq (format, "json") && !streq (format, "table"))
        return s_usage (options, "--format must be json or table");
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    json_t *list = json_array ();
    if (streq (format, "table"))
        printf ("%-8s %s\n", "version", "title");
    for (int version = 1; version <= cp_catalogue_version (catalogue); version++) {
        const char *title = cp_catalogue_title (catalogue, version);
        if (streq (format, "table"))
            printf ("%-8d %s\n", version, title);
        else
            json_array_append_new (list, json_pack ("{s:i, s:s}", "version", version,
                                                    "title", title));
    }
    if (streq (format, "json")) {
        json_dumpf (list, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
    }
    json_decref (list);
    central_store_destroy (&store);
    return 0;
}

//  Refuses a directive to send: says why and returns the exit code.
static int
s_directive_refused (int exit_code, const char *why)
{
    fprintf (stderr, "cpsync-central: directive send: %s; nothing was sent\n", why);
    return exit_code;
}

//  directive send: checks every flag, then signs the directive with the
//  root and appends it to the downlink log.  Nothing is published unless
//  everything is right.
static int
s_directive_send (const s_options_t *options, const char *format)
{
    if (!options->to || !options->kind || !options->text)
        return s_usage (options, "directive send needs --to, --kind and --text");
    cp_directive_t directive;
    cp_scope_t to;
    char why [512] = "";
    int rc = central_directive_compose (options->to, options->kind, options->due, options->text,
                                        "--", cp_date_today (), &directive, &to, why, sizeof why);
    if (rc == CP_EUSAGE)
        return s_usage (options, why);
    if (rc)
        return s_directive_refused (S_EXIT_FAILED, why);
    size_t size = 0;
    uint8_t *body = cp_directive_encode (&directive, &size);
    assert (body);              //  it passed its check
    uint64_t seq = 0;
    rc = central_admin_publish (options->data, options->root_secret, CP_DOWNLINK_DIRECTIVE,
                                options->to, body, size, &seq, why, sizeof why);
    free (body);
    if (rc) {
        fprintf (stderr, "cpsync-central: directive send: %s\n", *why? why: cp_strerror (rc));
        return rc == CP_EIO || rc == CP_ESTORE || rc == CP_EUSAGE || rc == CP_ENOTCENTRAL
            || rc == CP_EINSECURE? S_EXIT_USAGE: S_EXIT_FAILED;
    }
    char address [CP_SCOPE_MAX], due [16] = "";
    cp_downlink_address_format (&to, address);
    if (directive.due)
        cp_date_format (directive.due, due);
    if (streq (format, "json")) {
        json_t *sent = central_directive_sent (seq, &directive, &to);
        json_dumpf (sent, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
        json_decref (sent);
    }
    else
        printf ("directive %" PRIu64 " (%s%s%s) sent to %s\n", seq, options->kind,
                *due? ", due ": "", due, address);
    return 0;
}

//  A day of a directive list's JSON, or what the table shows for none.
static const char *
s_directive_day (const json_t *object, const char *key)
{
    const char *day = json_string_value (json_object_get (object, key));
    return day? day: "-";
}

//  directive list as a table: a block per directive.
static void
s_directive_table (const json_t *list)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item) {
        const char *kind = json_string_value (json_object_get (item, "kind"));
        const char *to = json_string_value (json_object_get (item, "to"));
        const char *issued = json_string_value (json_object_get (item, "issued"));
        printf ("%sdirective %lld  %s  due %s  to %s  issued %s\n", index? "\n": "",
                (long long) json_integer_value (json_object_get (item, "seq")),
                kind? kind: "?", s_directive_day (item, "due"), to? to: "?",
                issued? issued: "-");
        const char *error = json_string_value (json_object_get (item, "error"));
        if (error)
            printf ("  not readable: %s\n", error);
        const char *text = json_string_value (json_object_get (item, "text"));
        //  The text line by line, indented
        for (const char *line = text; line && *line; ) {
            size_t length = strcspn (line, "\n");
            printf ("  | %.*s\n", (int) length, line);
            line += length + (line [length] == '\n');
        }
        json_t *counts = json_object_get (item, "counts");
        printf ("  ");
        for (int state = 0; state < CENTRAL_DIRECTIVE_STATES; state++) {
            const char *name = central_directive_state_name (state);
            printf ("%s %lld  ", name, (long long) json_integer_value (json_object_get (counts,
                                                                                    name)));
        }
        json_t *taken_up = json_object_get (item, "taken_up");
        if (json_is_integer (taken_up))
            printf ("taken up %lld of %zu", (long long) json_integer_value (taken_up),
                    json_array_size (json_object_get (item, "municipalities")));
        printf ("\n");
        size_t at;
        json_t *where;
        json_array_foreach (json_object_get (item, "municipalities"), at, where) {
            const char *note = json_string_value (json_object_get (where, "note"));
            printf ("  %-14s %-13s received %-10s  done ",
                    json_string_value (json_object_get (where, "code")),
                    json_string_value (json_object_get (where, "state")),
                    s_directive_day (where, "received"));
            if (note && *note)
                printf ("%-10s  %s\n", s_directive_day (where, "done"), note);
            else
                printf ("%s\n", s_directive_day (where, "done"));
        }
    }
    if (json_array_size (list) == 0)
        printf ("no directives\n");
}

//  directive send and directive list.
static int
s_directive (const s_options_t *options)
{
    const char *action = options->action? options->action: "";
    const char *format = options->format? options->format: "table";
    if (!streq (format, "json") && !streq (format, "table"))
        return s_usage (options, "--format must be json or table");
    if (streq (action, "send"))
        return s_directive_send (options, format);
    if (!streq (action, "list"))
        return s_usage (options, "directive takes send or list");
    if (options->to || options->kind || options->due || options->text)
        return s_usage (options, "directive list takes no --to, --kind, --due or --text");
    cp_scope_t scope;
    if (cp_scope_parse (options->scope, &scope))
        return s_usage (options, "--scope must be national, county:CODE or municipality:CODE "
                        "of a known county or municipality");
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    int rc = 0;
    json_t *list = central_directives_list (store, cp_date_today (), &rc);
    central_store_destroy (&store);
    if (!list) {
        fprintf (stderr, "cpsync-central: directive list: %s\n", cp_strerror (rc));
        return S_EXIT_FAILED;
    }
    central_directives_scoped (list, &scope);
    if (streq (format, "json")) {
        json_dumpf (list, stdout, JSON_INDENT (2));
        fputc ('\n', stdout);
    }
    else
        s_directive_table (list);
    json_decref (list);
    return 0;
}

//  =====================================================================
//  export: every period's figures, quality, workforce and directives as
//  tables (central_export), from the documents the commands above print

//  The view of scope for period, as query --format json prints it, loaded;
//  NULL with *rc when it cannot be made.
static json_t *
s_view_document (central_store_t *store, const cp_period_t *period, const char *scope,
                 int version, int threshold, central_publications_t *publications, int *rc)
{
    char *text = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&text, &size);
    assert (memory);
    *rc = central_report_view (store, period, scope, version, threshold, publications, "json",
                               "en", memory);
    fclose (memory);
    json_t *view = *rc? NULL: json_loadb (text, size, 0, NULL);
    if (!*rc && !view)
        *rc = CP_EMALFORMED;        //  our own output: a bug, said rather than asserted
    free (text);
    return view;
}

//  The periods of the store: every quarter in which events are dated, and
//  the years of those quarters, each year before its quarters (the years
//  alone when years_only).  Returns their number (at most max), or -1 when
//  the store fails.
static int
s_export_periods (central_store_t *store, bool years_only, cp_period_t *periods, int max)
{
    int count = cp_municipality_count (), found = 0;
    central_arrival_t *arrivals = calloc ((size_t) count, sizeof (central_arrival_t));
    assert (arrivals);
    for (int year = CP_DATE_MIN_YEAR; year <= CP_DATE_MAX_YEAR; year++) {
        int year_at = -1;
        for (int quarter = 1; quarter <= 4 && found < max; quarter++) {
            char name [16];
            snprintf (name, sizeof name, "%d-Q%d", year, quarter);
            cp_period_t period;
            if (cp_period_parse (name, &period)
            ||  central_store_arrivals (store, &period, arrivals)) {
                free (arrivals);
                return -1;
            }
            uint64_t events = 0;
            for (int index = 0; index < count; index++)
                events += arrivals [index].events;
            if (events == 0)
                continue;
            if (year_at < 0 && found < max - 1) {
                snprintf (name, sizeof name, "%d", year);
                cp_period_parse (name, &periods [found]);
                year_at = found++;
            }
            if (years_only)
                break;          //  the year is in: its other quarters need not be read
            periods [found++] = period;
        }
    }
    free (arrivals);
    return found;
}

static int
s_export (const s_options_t *options)
{
    if (!options->pg == !options->csv)
        return s_usage (options, "export needs one of --pg CONNINFO and --csv DIR");
    central_store_t *store = s_open (options);
    if (!store)
        return S_EXIT_USAGE;
    int version = cp_catalogue_version (central_store_catalogue (store));
    int threshold = options->public? options->threshold: 0;
    //  A publication holds whole years alone, as serve gives the public:
    //  disclosure control solves each period on its own, and a year's flow
    //  figures less three of its quarters' would give the fourth's hidden
    //  cells (docs/design.md, section 11).
    enum { S_PERIODS_MAX = (CP_DATE_MAX_YEAR - CP_DATE_MIN_YEAR + 1) * 5 };
    cp_period_t *periods = calloc (S_PERIODS_MAX, sizeof (cp_period_t));
    assert (periods);
    int count = s_export_periods (store, threshold > 0, periods, S_PERIODS_MAX);
    //  And years that are over: a year in progress is published anew with
    //  every event, each day's hiding other cells, as serve's public role
    //  is refused it.
    while (threshold > 0 && count > 0 && periods [count - 1].end >= cp_date_today ())
        count--;
    int rc = count < 0? CP_ESTORE: 0;
    central_export_t *export = central_export_new (version, threshold);
    //  A period's 74 scopes share one publication: worked out once.
    central_publications_t *publications = threshold? central_publications_new (): NULL;
    //  The scopes of every view: the nation, the counties, the municipalities.
    int scopes = 1 + cp_county_count () + cp_municipality_count ();
    cp_cli_progress_t *progress = cp_cli_progress_new ("export");
    cp_scope_t national = {CP_SCOPE_NATIONAL, 0};
    for (int at = 0; rc == 0 && at < count; at++) {
        central_export_period (export, &periods [at]);
        for (int index = 0; rc == 0 && index < scopes; index++) {
            cp_scope_t scope = national;
            if (index > 0 && index <= cp_county_count ())
                scope = (cp_scope_t) {CP_SCOPE_COUNTY, index - 1};
            else
            if (index > cp_county_count ())
                scope = (cp_scope_t) {CP_SCOPE_MUNICIPALITY, index - 1 - cp_county_count ()};
            char name [CP_SCOPE_MAX];
            cp_scope_format (&scope, name);
            json_t *view = s_view_document (store, &periods [at], name, version, threshold,
                                            publications, &rc);
            if (view)
                central_export_view (export, view);
            json_decref (view);
            cp_cli_progress_show (progress, (uint64_t) (at * scopes + index + 1),
                                  (uint64_t) (count * scopes), "views");
        }
        //  A publication holds the figures alone, as the public role of
        //  serve sees them: quality counts each unit's events and
        //  workforce its children, neither with a cell hidden.
        if (threshold)
            continue;
        json_t *quality = rc? NULL: central_report_quality_read (store, &periods [at], &national,
                                                             cp_date_now_ms (), cp_date_today (), &rc);
        if (quality)
            central_export_quality (export, quality);
        json_decref (quality);
        json_t *workforce = rc? NULL: central_report_workforce_read (store, &periods [at], &national, &rc);
        if (workforce)
            central_export_workforce (export, workforce);
        json_decref (workforce);
    }
    cp_cli_progress_destroy (&progress);
    central_publications_destroy (&publications);
    if (rc == 0) {
        json_t *list = central_directives_list (store, cp_date_today (), &rc);
        if (list)
            central_export_directives (export, list);
        json_decref (list);
    }
    central_store_destroy (&store);
    free (periods);
    if (rc) {
        fprintf (stderr, "cpsync-central: export: %s; nothing was written\n", cp_strerror (rc));
        central_export_destroy (&export);
        return S_EXIT_FAILED;
    }
    char why [1024] = "";
    int written = options->pg? central_export_to_pg (export, options->pg, why, sizeof why)
                             : central_export_to_csv (export, options->csv, why, sizeof why);
    size_t rows = central_export_rows (export);
    central_export_destroy (&export);
    if (written) {
        fprintf (stderr, "cpsync-central: export: %s; nothing was written\n", why);
        //  A database that cannot be reached or refuses is the environment's.
        return S_EXIT_USAGE;
    }
    printf ("exported %d periods (%zu rows%s) to %s%s\n", count, rows,
            threshold? ", small cells suppressed": "",
            options->pg? "PostgreSQL schema " CENTRAL_EXPORT_SCHEMA: options->csv,
            options->pg? "": " (CSV)");
    return 0;
}

int
main (int argc, char **argv)
{
    //  run's and serve's configuration files: their keys become options
    //  before the given ones.
    int given_argc = argc;
    char **given_argv = argv;
    const char *config = NULL;
    if (argc > 1
    &&  ((streq (argv [1], "run")
          && cp_config_args ("cpsync-central", S_KEYS (s_run_keys), &argc, &argv, &config))
      || (streq (argv [1], "serve")
          && cp_config_args ("cpsync-central", S_KEYS (s_serve_keys), &argc, &argv, &config))))
        return S_EXIT_USAGE;
    s_options_t options;
    int exit_code = 0;
    cp_cli_t *cli = s_parse (argc, argv, &options, &exit_code);
    if (!cli)
        return exit_code;
    options.config = config;
    options.given_argc = given_argc;
    options.given_argv = given_argv;
    if (cp_process_start ("cpsync-central")) {
        cp_cli_destroy (&cli);
        return S_EXIT_USAGE;
    }
    //  The first word: a command's subcommands share one function.
    char command [32];
    snprintf (command, sizeof command, "%.*s", (int) strcspn (options.command, " "),
              options.command);
    int rc;
    if (streq (command, "init"))            rc = s_init (&options);
    else if (streq (command, "run"))        rc = s_run (&options);
    else if (streq (command, "query"))      rc = s_query (&options);
    else if (streq (command, "check"))      rc = s_check (&options);
    else if (streq (command, "nodes"))      rc = s_nodes (&options);
    else if (streq (command, "refused"))    rc = s_refused (&options);
    else if (streq (command, "stats"))      rc = s_stats (&options);
    else if (streq (command, "serve"))      rc = s_serve (&options);
    else if (streq (command, "user"))       rc = s_user (&options);
    else if (streq (command, "catalogue"))  rc = s_catalogue (&options);
    else if (streq (command, "quality"))    rc = s_quality (&options);
    else if (streq (command, "deadline"))   rc = s_deadline (&options);
    else if (streq (command, "workforce"))  rc = s_workforce (&options);
    else if (streq (command, "directive"))  rc = s_directive (&options);
    else if (streq (command, "export"))     rc = s_export (&options);
    else                                //  the table's commands only: backup, restore
        rc = cp_backup_command ("cpsync-central", CP_BACKUP_CENTRAL, command, options.data, options.out,
                                options.from);
    cp_cli_destroy (&cli);
    return rc;
}
