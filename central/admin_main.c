/*  cpsync-admin: the keys of a deployment, held by its administrator.

        cpsync-admin init-central   --central DIR [--listen ENDPOINT] [--catalogue N]
                                    [--root-secret PATH]
        cpsync-admin enrol          --central DIR --municipality CODE --out FILE
                                    [--endpoint ENDPOINT] [--root-secret PATH]
        cpsync-admin rotate-node    --central DIR CODE --out FILE [--grace D]
                                    [--root-secret PATH]
        cpsync-admin rotate-central --central DIR --transport|--data --out FILE
                                    [--grace D] [--root-secret PATH]
        cpsync-admin revoke         --central DIR CODE|KEY-ID
        cpsync-admin announce       --central DIR --out FILE [--root-secret PATH]
        cpsync-admin keys           --central DIR [--format table|json]
        cpsync-admin prune          --central DIR
        cpsync-admin publish        --central DIR --kind K --to ADDRESS FILE
                                    [--root-secret PATH]

    DIR is the central's data directory.  A bundle (enrol, rotate-node)
    holds the node's secret keys and is written 0600: carry it to the node
    and give it to `cpsync-node enrol --data NODEDIR --bundle FILE`, which
    also takes the announcements of rotate-central and announce.  Durations
    (--grace) are N days or Nd, Nh, Nm, Ns; the default is 30 days.  The
    root secret stays where --root-secret says (DIR/keys/root.secret by
    default); move it offline and pass the path when it is needed.

    rotate-central also publishes the announcement as a downlink entry to
    all, so running nodes move to the new keys with no step of their own.

    publish signs FILE's bytes with the root as a downlink entry of kind K
    (catalogue, directive, figures, keys) to ADDRESS (all, county:CODE or
    a municipality's CODE) and appends it to the central's downlink log; a
    running central sends it to the nodes it is addressed to within a
    second (docs/design.md, "Downlink").

    Exit codes: 0 done; 1 refused (the message says why); 2 usage or
    environment errors.                                                     */

#include "central_admin.h"
#include "central_keys.h"
#include "central_store.h"
#include "cp_directive.h"
#include "cp_enrolment.h"
#include "cp_catalogue.h"
#include "cp_cli.h"
#include "cp_error.h"
#include "cp_file.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"
#include "cp_process.h"

#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <time.h>

#define S_EXIT_FAILED 1
#define S_EXIT_USAGE 2

typedef struct {
    const char *command;
    const char *central;
    const char *listen;
    const char *root_secret;
    const char *municipality;
    const char *endpoint;
    const char *out;
    const char *format;
    const char *target;             //  the positional argument: CODE, KEY-ID or FILE
    const char *kind;               //  publish: the entry's kind
    const char *to;                 //  publish: its address
    int catalogue;
    int64_t grace;
    bool transport, data;
} s_options_t;

//  =====================================================================
//  The command line (cp_cli): every command, its options and its help

static const cp_cli_option_t s_options [] = {
    {"central", CP_CLI_DIR, "DIR", 0, 0, "the central's data directory"},
    {"listen", CP_CLI_TEXT, "ENDPOINT", 0, 0,
     "where nodes connect (default tcp://127.0.0.1:7400)"},
    {"catalogue", CP_CLI_INTEGER, "N", 1, 1000000, "the catalogue version to start with"},
    {"root-secret", CP_CLI_FILE, "PATH", 0, 0,
     "the root secret key (default DIR/keys/root.secret)"},
    {"municipality", CP_CLI_TEXT, "CODE", 0, 0, "the municipality's code"},
    {"endpoint", CP_CLI_TEXT, "ENDPOINT", 0, 0, "the central endpoint the bundle names"},
    {"out", CP_CLI_FILE, "FILE", 0, 0, "the file to write (a bundle is written 0600)"},
    {"grace", CP_CLI_TEXT, "D", 0, 0,
     "how long the old keys stay good: N days, or Nd, Nh, Nm, Ns (default 30d)"},
    {"format", CP_CLI_TEXT, "table|json", 0, 0, "the output's form (default table)"},
    {"transport", CP_CLI_FLAG, NULL, 0, 0, "rotate the transport key"},
    {"data", CP_CLI_FLAG, NULL, 0, 0, "rotate the data key"},
    {"kind", CP_CLI_TEXT, "K", 0, 0, "the entry's kind: catalogue, directive, figures or keys"},
    {"to", CP_CLI_TEXT, "ADDRESS", 0, 0, "all, county:CODE or a municipality's CODE"},
    {NULL, 0, NULL, 0, 0, NULL}
};

static const cp_cli_command_t s_commands [] = {
    {"init-central", "central! listen catalogue root-secret", NULL, 0,
     "set up a central's data directory and its keys", NULL},
    {"enrol", "central! municipality+ out+ endpoint root-secret", NULL, 0,
     "enrol a node: write its bundle",
     "The bundle holds the node's secret keys: carry it to the node and give it to "
     "'cpsync-node enrol --data NODEDIR --bundle FILE'."},
    {"rotate-node", "central! out+ grace root-secret municipality", "CODE", 1,
     "new keys for a node, in a new bundle", NULL},
    {"rotate-central", "central! transport data out+ grace root-secret", NULL, 0,
     "new transport or data keys for the central (one of --transport and --data)",
     "Writes the announcement to --out and publishes it to all as a downlink entry, so "
     "running nodes move to the new keys with no step of their own."},
    {"revoke", "central!", "CODE|KEY-ID", 1, "revoke a node's keys, or one key", NULL},
    {"announce", "central! out+ root-secret", NULL, 0,
     "write the central's current keys as a signed announcement", NULL},
    {"keys", "central! format", NULL, 0, "every key the central knows", NULL},
    {"prune", "central!", NULL, 0, "drop the keys whose grace has passed", NULL},
    {"publish", "central! kind+ to+ root-secret", "FILE", 1,
     "sign FILE with the root as a downlink entry and append it to the central's log",
     "A running central sends it to the nodes addressed within a second."},
    {NULL, NULL, NULL, 0, NULL, NULL}
};

static const cp_cli_program_t s_program = {
    "cpsync-admin", "The keys of a deployment, held by its administrator; DIR is the "
    "central's data directory.", s_options, s_commands, NULL,
    "Exit codes: 0 done; 1 refused (the message says why); 2 usage or environment errors."
};

//  A usage error of the command being run: what was wrong, where the help is.
static int
s_usage (const s_options_t *options, const char *message)
{
    return cp_cli_usage_error ("cpsync-admin", options? options->command: NULL, message);
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
    options->central = cp_cli_text (cli, "central");
    options->listen = cp_cli_text (cli, "listen");
    options->root_secret = cp_cli_text (cli, "root-secret");
    options->municipality = cp_cli_text (cli, "municipality");
    options->endpoint = cp_cli_text (cli, "endpoint");
    options->out = cp_cli_text (cli, "out");
    options->format = cp_cli_given (cli, "format")? cp_cli_text (cli, "format"): "table";
    options->transport = cp_cli_given (cli, "transport");
    options->data = cp_cli_given (cli, "data");
    options->kind = cp_cli_text (cli, "kind");
    options->to = cp_cli_text (cli, "to");
    options->catalogue = (int) cp_cli_integer (cli, "catalogue", 0);
    options->grace = CENTRAL_ADMIN_GRACE_DEFAULT;
    if (cp_cli_given (cli, "grace")) {
        options->grace = central_admin_duration (cp_cli_text (cli, "grace"));
        if (options->grace < 0) {
            char message [200];
            snprintf (message, sizeof message, "--grace '%.40s' is not a duration: N days, "
                      "or Nd, Nh, Nm, Ns", cp_cli_text (cli, "grace"));
            s_usage (options, message);
            cp_cli_destroy (&cli);
            *exit_code = S_EXIT_USAGE;
            return NULL;
        }
    }
    int operands = 0;
    char **operand = cp_cli_operands (cli, &operands);
    options->target = operands? operand [0]: NULL;
    return cli;
}

//  Writes a signed file (0600: a bundle holds secrets), then wipes and
//  frees the text.
static int
s_write_out (const char *path, char **text_p, const char *what)
{
    char *text = *text_p;
    size_t size = strlen (text);
    int rc = cp_keyfile_write (path, (const uint8_t *) text, size, true);
    sodium_memzero (text, size);
    free (text);
    *text_p = NULL;
    if (rc) {
        fprintf (stderr, "cpsync-admin: cannot write %s: %s\n", path, strerror (errno));
        return S_EXIT_USAGE;
    }
    printf ("%s written to %s\n", what, path);
    return 0;
}

//  Exit code of a refused operation, after saying why.
static int
s_refused (const char *command, int rc, const char *why)
{
    fprintf (stderr, "cpsync-admin: %s: %s\n", command, *why? why: cp_strerror (rc));
    return rc == CP_EIO || rc == CP_ESTORE || rc == CP_EUSAGE || rc == CP_ENOTCENTRAL
        || rc == CP_EINSECURE? S_EXIT_USAGE: S_EXIT_FAILED;
}

//  Removes the secrets of the central's keys out of service and says which.
//  After a change of the key table a failure is said, not returned: the
//  change is made.
static int
s_prune (const s_options_t *options)
{
    size_t removed;
    char why [1024] = "";
    int rc = central_admin_prune (options->central, &removed, why, sizeof why);
    if (rc)
        return s_refused ("prune", rc, why);
    if (removed)
        printf ("removed the secret files of %zu key(s) out of service: %s\n", removed, why);
    else
    if (streq (options->command, "prune"))
        printf ("no secret file of a key out of service\n");
    return 0;
}

//  =====================================================================
//  Commands

static int
s_init_central (const s_options_t *options)
{
    int catalogue = options->catalogue? options->catalogue: cp_catalogue_builtin_count;
    const char *listen = options->listen? options->listen: CENTRAL_STORE_LISTEN;
    char why [512] = "";
    int rc = central_admin_init (options->central, listen, catalogue, options->root_secret,
                                 why, sizeof why);
    if (rc)
        return s_refused ("init-central", rc, why);
    printf ("central set up in %s (listen %s, catalogue %d); root key %s\n",
            options->central, listen, catalogue,
            options->root_secret? options->root_secret: "in DIR/keys/root.secret");
    return 0;
}

static int
s_enrol (const s_options_t *options, bool rotate)
{
    const char *code = options->municipality? options->municipality: options->target;
    if (!code || !options->out)
        return s_usage (options, rotate? "rotate-node needs CODE and --out FILE"
                              : "enrol needs --municipality CODE and --out FILE");
    char why [512] = "", *bundle = NULL;
    int rc = central_admin_enrol (options->central, options->root_secret, code,
                                  options->endpoint, rotate, options->grace, &bundle,
                                  why, sizeof why);
    if (rc)
        return s_refused (rotate? "rotate-node": "enrol", rc, why);
    rc = s_write_out (options->out, &bundle, rotate? "new bundle": "bundle");
    s_prune (options);
    return rc;
}

static int
s_rotate_central (const s_options_t *options)
{
    if (options->transport == options->data || !options->out)
        return s_usage (options, "rotate-central needs one of --transport and --data, and --out FILE");
    char why [512] = "", *announcement = NULL;
    int rc = central_admin_rotate_central (options->central, options->root_secret,
                                           options->transport, options->grace,
                                           &announcement, why, sizeof why);
    if (rc)
        return s_refused ("rotate-central", rc, why);
    //  Running nodes take the announcement from the downlink log; the file
    //  is for a node offline past the grace period.
    uint64_t seq;
    rc = central_admin_publish (options->central, options->root_secret, CP_DOWNLINK_KEYS, "all",
                                (const uint8_t *) announcement, strlen (announcement), &seq,
                                why, sizeof why);
    if (rc)
        fprintf (stderr, "cpsync-admin: rotate-central: the keys are rotated, but the "
                         "announcement was not published to the nodes (%s): give them the "
                         "file\n", why);
    else
        printf ("announcement published to every node as downlink entry %" PRIu64 "\n", seq);
    rc = s_write_out (options->out, &announcement, "announcement");
    s_prune (options);
    return rc;
}

static int
s_revoke (const s_options_t *options)
{
    if (!options->target)
        return s_usage (options, "revoke needs a municipality code or a key id");
    char why [512] = "";
    int rc = central_admin_revoke (options->central, options->target, why, sizeof why);
    if (rc)
        return s_refused ("revoke", rc, why);
    printf ("%s: %s\n", options->target, why);
    s_prune (options);
    return 0;
}

static int
s_announce (const s_options_t *options)
{
    if (!options->out)
        return s_usage (options, "announce needs --out FILE");
    char why [512] = "", *announcement = NULL;
    int rc = central_admin_announcement (options->central, options->root_secret,
                                         &announcement, why, sizeof why);
    if (rc)
        return s_refused ("announce", rc, why);
    return s_write_out (options->out, &announcement, "announcement");
}

static int
s_publish (const s_options_t *options)
{
    if (!options->kind || !options->to || !options->target)
        return s_usage (options, "publish needs --kind K, --to ADDRESS and a FILE");
    int kind = 0;
    for (int candidate = 1; cp_downlink_kind_name (candidate); candidate++)
        if (streq (options->kind, cp_downlink_kind_name (candidate)))
            kind = candidate;
    if (!kind)
        return s_usage (options, "--kind is catalogue, directive, figures or keys");
    size_t size;
    char why [512] = "";
    uint8_t *body = (uint8_t *) cp_file_read (options->target, CP_DOWNLINK_BODY_MAX, &size,
                                              why, sizeof why);
    if (!body) {
        fprintf (stderr, "cpsync-admin: publish: %s\n", why);
        return S_EXIT_USAGE;
    }
    //  A node refuses a directive whose body is not one, and waits on it
    //  for every entry after it: never publish one.
    cp_directive_t directive;
    char reason [256] = "";
    if (kind == CP_DOWNLINK_DIRECTIVE
    &&  cp_directive_decode (body, size, &directive, reason, sizeof reason)) {
        free (body);
        fprintf (stderr, "cpsync-admin: publish: %s is not a directive (%s): "
                 "cpsync-central directive send makes one\n", options->target, reason);
        return 1;
    }
    uint64_t seq;
    int rc = central_admin_publish (options->central, options->root_secret, kind, options->to,
                                    body, size, &seq, why, sizeof why);
    free (body);
    if (rc)
        return s_refused ("publish", rc, why);
    printf ("published downlink entry %" PRIu64 " (%s, to %s, %zu bytes)\n", seq,
            options->kind, options->to, size);
    return 0;
}

static void
s_iso_time (int64_t seconds, char *buf, size_t size)
{
    if (seconds == 0) {
        snprintf (buf, size, "-");
        return;
    }
    time_t when = (time_t) seconds;
    struct tm utc;
    gmtime_r (&when, &utc);
    strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

static int
s_keys (const s_options_t *options)
{
    bool json = streq (options->format, "json");
    if (!json && !streq (options->format, "table"))
        return s_usage (options, "--format is table or json");
    int error = 0;
    central_store_t *store = central_store_open (options->central, CENTRAL_STORE_READONLY,
                                                 &error);
    if (!store) {
        fprintf (stderr, "cpsync-admin: %s: %s\n", options->central, cp_strerror (error));
        return S_EXIT_USAGE;
    }
    central_keys_t *keys = NULL;
    int rc = central_store_keys_read (store, &keys);
    central_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "cpsync-admin: keys: %s\n", cp_strerror (rc));
        return S_EXIT_USAGE;
    }
    int64_t now = (int64_t) time (NULL);
    json_t *list = json_array ();
    if (!json)
        printf ("%-20s %-15s %-10s %-9s %-21s %-21s %s\n", "id", "kind", "owner", "state",
                "created", "expires", "valid from");
    for (size_t index = 0; index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        const char *owner = key->owner == CENTRAL_KEYS_CENTRAL? "central"
                          : cp_municipality_code (key->owner);
        const char *state = central_keys_state_name (central_keys_state (keys, key, now));
        char created [32], expires [32], valid_from [32];
        s_iso_time (key->created, created, sizeof created);
        s_iso_time (key->expires, expires, sizeof expires);
        s_iso_time (key->valid_from, valid_from, sizeof valid_from);
        if (json)
            json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                "id", key->id, "kind", central_keys_kind_name (key->kind), "owner", owner,
                "state", state, "created", created, "expires", expires,
                "valid_from", valid_from));
        else
            printf ("%-20s %-15s %-10s %-9s %-21s %-21s %s\n", key->id,
                    central_keys_kind_name (key->kind), owner, state, created, expires,
                    valid_from);
    }
    if (json) {
        json_t *root = json_pack ("{s:I, s:o}", "serial", (json_int_t) central_keys_serial (keys),
                                  "keys", list);
        json_dumpf (root, stdout, JSON_INDENT (2));
        printf ("\n");
        json_decref (root);
    }
    else
        json_decref (list);
    central_keys_destroy (&keys);
    return 0;
}

int
main (int argc, char **argv)
{
    s_options_t options;
    int exit_code = 0;
    cp_cli_t *cli = s_parse (argc, argv, &options, &exit_code);
    if (!cli)
        return exit_code;
    zsys_init ();
    if (cp_process_start ("cpsync-admin")) {
        cp_cli_destroy (&cli);
        return S_EXIT_USAGE;
    }
    const char *command = options.command;
    int rc;
    if (streq (command, "init-central"))        rc = s_init_central (&options);
    else if (streq (command, "enrol"))          rc = s_enrol (&options, false);
    else if (streq (command, "rotate-node"))    rc = s_enrol (&options, true);
    else if (streq (command, "rotate-central")) rc = s_rotate_central (&options);
    else if (streq (command, "revoke"))         rc = s_revoke (&options);
    else if (streq (command, "announce"))       rc = s_announce (&options);
    else if (streq (command, "keys"))           rc = s_keys (&options);
    else if (streq (command, "prune"))          rc = s_prune (&options);
    else {
        assert (streq (command, "publish"));     //  the table's commands only
        rc = s_publish (&options);
    }
    cp_cli_destroy (&cli);
    return rc;
}
