/*  cpsync-fleet: a whole deployment on one machine, for demos and tests.

        cpsync-fleet --events DIR --data DIR [--port N] [--timeout SECONDS]

    For every DIR/<code>.jsonl it sets up a node under DATA/nodes/<code>
    and enrols it (once), imports the file, then runs one central
    (DATA/central, on loopback) and every node as separate processes until
    each node reports that the central has acknowledged its whole log, and
    each node has applied every downlink entry addressed to it; then stops
    them all.  Enrolment is an administrator's: `cpsync-admin enrol`
    writes the node's bundle (0600, under DATA/bundles while it is in
    transit), `cpsync-node enrol` installs it, and the bundle is deleted.
    It drives the real commands (cpsync-node, cpsync-central, cpsync-admin,
    found beside its own binary), exactly as an operator would.  Running
    it again over the same DATA is safe: imports skip events already stored
    and the central applies each sequence once.

    The downlink wait is what makes a run after `cpsync-central catalogue
    publish` (or any entry published while no central ran) deliver it: the
    run ends only when, for every node, the central's log holds no entry
    addressed to it after the node's downlink cursor.  The log is read the
    way the central itself reads it, central_store_downlink_next over the
    central's store opened read-only (a reader beside the running central,
    as `cpsync-central query` is); the cursor is the node's own, "downlink"
    in `cpsync-node status --format json`, read only for a node the log
    says is behind, so a run with nothing to deliver costs nothing more.
    A node that refuses an entry (section 10.2 of docs/design.md) never
    catches up: the run then ends at the timeout, naming it.

    Last, for at most S_VERDICT_WAIT_MS more, it waits for every node's
    verdict on the figures the central sends it once it is caught up
    (FIGURES, docs/design.md 10.7): "as_of" of "reconciliation" in the
    node's status covering the head it had after its import, and the
    verdict (an event of the node's log) acknowledged by the central.
    Stopping at once would leave a node that the central had not yet sent
    its figures with no verdict ("unknown"), which says nothing of whether
    they agree.
    A node still without one is named, and the exit stays 0: its events
    and entries are delivered, and the central sends figures again at
    every connection.  With CPSYNC_FIGURES=off there is nothing to wait for. */

#include "central_figures.h"
#include "central_store.h"
#include "cp_cli.h"
#include "cp_municipality.h"

#include <czmq.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define S_POLL_MS 100                //  how often the central's cursors are read
#define S_VERDICT_WAIT_MS 20000      //  the longest wait for the nodes' figures verdicts

typedef struct {
    char code [65];
    char events [PATH_MAX];     //  DIR/<code>.jsonl
    char data [PATH_MAX];       //  DATA/nodes/<code>
    uint64_t head;
    uint64_t acked;
    uint64_t downlink;          //  its downlink cursor, as its status last said
    uint64_t pending;           //  the next entry to it after that in the central's
                                //  log, as last read; 0 = none: it has them all
    uint64_t imported;          //  its head once its file was imported
    uint64_t checked;           //  as_of of its last figures verdict; 0 = none yet
    pid_t pid;                  //  its `run`, while running
} s_node_t;

static char s_bin [PATH_MAX];   //  directory of the cpsync binaries

//  Runs a cpsync command and waits.  With out, captures its stdout (up to
//  size bytes).  Returns the exit status, or -1 if it could not run.
static int
s_command (char *out, size_t size, const char *program, ...)
{
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", s_bin, program);
    char *argv [16] = {path};
    int argc = 1;
    va_list args;
    va_start (args, program);
    const char *arg;
    while ((arg = va_arg (args, const char *)) && argc < 15)
        argv [argc++] = (char *) arg;
    va_end (args);
    argv [argc] = NULL;

    int channel [2];
    if (out && pipe (channel))
        return -1;
    pid_t pid = fork ();
    if (pid == 0) {
        if (out) {
            dup2 (channel [1], STDOUT_FILENO);
            close (channel [0]);
            close (channel [1]);
        }
        else {
            //  Their summaries would drown the fleet's own; problems go to stderr.
            int null = open ("/dev/null", O_WRONLY);
            dup2 (null, STDOUT_FILENO);
        }
        execv (path, argv);
        _exit (127);
    }
    if (out) {
        close (channel [1]);
        size_t got = 0;
        ssize_t n;
        while (got + 1 < size && (n = read (channel [0], out + got, size - 1 - got)) > 0)
            got += (size_t) n;
        out [got] = 0;
        close (channel [0]);
    }
    int status;
    if (pid < 0 || waitpid (pid, &status, 0) < 0)
        return -1;
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

//  Enrols a node that holds no bundle yet, through the administrator's
//  path.  A node the central enrolled but that never installed its bundle
//  (a fleet killed in between) gets new keys instead.  Returns 0 or -1.
static int
s_enrol (s_node_t *node, const char *central, const char *data, const char *endpoint)
{
    char path [PATH_MAX + 32], bundle [PATH_MAX + 128];
    snprintf (path, sizeof path, "%s/keys/node.bundle", node->data);
    if (access (path, F_OK) == 0)
        return 0;
    snprintf (path, sizeof path, "%s/bundles", data);
    mkdir (path, 0700);
    snprintf (bundle, sizeof bundle, "%s/%s.bundle", path, node->code);
    int rc = s_command (NULL, 0, "cpsync-admin", "enrol", "--central", central, "--municipality",
                        node->code, "--out", bundle, "--endpoint", endpoint, NULL);
    if (rc == 1)
        rc = s_command (NULL, 0, "cpsync-admin", "rotate-node", "--central", central, node->code,
                        "--out", bundle, "--grace", "0", NULL);
    if (rc == 0)
        rc = s_command (NULL, 0, "cpsync-node", "enrol", "--data", node->data, "--bundle",
                        bundle, NULL);
    unlink (bundle);
    return rc == 0? 0: -1;
}

//  Starts a long-running cpsync command with its log going to log; returns
//  its pid.
static pid_t
s_spawn (const char *log, const char *program, const char *a1, const char *a2, const char *a3,
         const char *a4, const char *a5)
{
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/%s", s_bin, program);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
        }
        char *argv [] = {path, (char *) a1, (char *) a2, (char *) a3, (char *) a4, (char *) a5, NULL};
        execv (path, argv);
        _exit (127);
    }
    return pid;
}

//  Reads a node's head, acked, downlink cursor and the as_of of its last
//  figures verdict from `cpsync-node status --format json` (a status
//  without "downlink" leaves the cursor as it was).
static int
s_status (s_node_t *node)
{
    char out [8192];
    if (s_command (out, sizeof out, "cpsync-node", "status", "--data", node->data,
                   "--format", "json", NULL) != 0)
        return -1;
    json_t *root = json_loads (out, 0, NULL);
    json_t *head = json_object_get (root, "head"), *acked = json_object_get (root, "acked");
    int rc = json_is_integer (head) && json_is_integer (acked)? 0: -1;
    if (rc == 0) {
        node->head = (uint64_t) json_integer_value (head);
        node->acked = (uint64_t) json_integer_value (acked);
        json_t *downlink = json_object_get (root, "downlink");
        if (json_is_integer (downlink))
            node->downlink = (uint64_t) json_integer_value (downlink);
        //  "as_of" is null while the verdict is unknown
        json_t *reconciliation = json_object_get (root, "reconciliation");
        json_t *as_of = json_object_get (reconciliation, "as_of");
        node->checked = json_is_integer (as_of)? (uint64_t) json_integer_value (as_of): 0;
    }
    json_decref (root);
    return rc;
}

//  Sets each node's pending: the first entry addressed to it in the
//  central's downlink log after its cursor.  A node with one is asked its
//  cursor again first (it may have applied it since), so that only nodes
//  still behind cost a status.  Returns the count of nodes behind, or -1
//  when the central's store or a node's status could not be read.
static int
s_downlink_behind (const char *central, s_node_t *nodes, size_t count)
{
    int error = 0;
    central_store_t *store = central_store_open (central, CENTRAL_STORE_READONLY, &error);
    if (!store)
        return -1;
    int behind = 0;
    for (size_t index = 0; index < count && behind >= 0; index++) {
        s_node_t *node = &nodes [index];
        int municipality = cp_municipality_index (node->code);
        for (int pass = 0; pass < 2; pass++) {
            uint64_t seq, prev;
            uint8_t *entry;
            size_t size;
            if (central_store_downlink_next (store, municipality, node->downlink, &seq, &prev,
                                             &entry, &size)) {
                behind = -1;
                break;
            }
            free (entry);
            node->pending = seq;
            //  Nothing after its cursor, or still behind after a fresh look.
            if (seq == 0 || pass == 1)
                break;
            if (s_status (node)) {
                behind = -1;
                break;
            }
        }
        if (behind >= 0 && node->pending)
            behind++;
    }
    central_store_destroy (&store);
    return behind;
}

//  Counts the nodes that have not yet checked the central's figures of
//  their whole imported log, asking the status only of those.  Returns
//  -1 when a status could not be read.
static int
s_verdicts_missing (s_node_t *nodes, size_t count)
{
    int missing = 0;
    for (size_t index = 0; index < count; index++) {
        s_node_t *node = &nodes [index];
        if (node->checked >= node->imported)
            continue;
        if (s_status (node))
            return -1;
        missing += node->checked < node->imported;
    }
    return missing;
}

//  Counts the nodes whose head the central has acknowledged; with total,
//  sums the events acknowledged.
static size_t
s_acked (const s_node_t *nodes, size_t count, uint64_t *total)
{
    size_t done = 0;
    for (size_t index = 0; index < count; index++) {
        if (total)
            *total += nodes [index].acked;
        done += nodes [index].acked >= nodes [index].head;
    }
    return done;
}

//  Reads the central's acknowledged cursors (`cpsync-central nodes`) into
//  the nodes' acked.  Returns 0, or -1 when the central could not answer.
static int
s_central_cursors (const char *central, s_node_t *nodes, size_t count)
{
    static char out [1 << 20];
    if (s_command (out, sizeof out, "cpsync-central", "nodes", "--data", central,
                   "--format", "json", NULL) != 0)
        return -1;
    json_t *list = json_loads (out, 0, NULL);
    size_t index;
    json_t *entry;
    json_array_foreach (list, index, entry) {
        const char *code = json_string_value (json_object_get (entry, "code"));
        json_t *acked = json_object_get (entry, "acked");
        for (size_t node = 0; code && node < count; node++)
            if (strcmp (nodes [node].code, code) == 0 && json_is_integer (acked))
                nodes [node].acked = (uint64_t) json_integer_value (acked);
    }
    int rc = json_is_array (list)? 0: -1;
    json_decref (list);
    return rc;
}

static int
s_compare_nodes (const void *a, const void *b)
{
    return strcmp (((const s_node_t *) a)->code, ((const s_node_t *) b)->code);
}

//  Lists DIR/<code>.jsonl into nodes (sorted by code).  Returns the count.
static size_t
s_list_events (const char *events, const char *data, s_node_t **nodes)
{
    DIR *dir = opendir (events);
    if (!dir)
        return 0;
    size_t count = 0, capacity = 64;
    *nodes = calloc (capacity, sizeof (s_node_t));
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        size_t len = strlen (entry->d_name);
        if (len <= 6 || len - 6 > 64 || strcmp (entry->d_name + len - 6, ".jsonl") != 0)
            continue;
        if (count == capacity) {
            capacity *= 2;
            *nodes = realloc (*nodes, capacity * sizeof (s_node_t));
        }
        s_node_t *node = &(*nodes) [count++];
        memset (node, 0, sizeof *node);
        memcpy (node->code, entry->d_name, len - 6);
        snprintf (node->events, sizeof node->events, "%s/%s", events, entry->d_name);
        snprintf (node->data, sizeof node->data, "%s/nodes/%s", data, node->code);
    }
    closedir (dir);
    qsort (*nodes, count, sizeof (s_node_t), s_compare_nodes);
    return count;
}

static void
s_stop (pid_t pid)
{
    if (pid > 0) {
        kill (pid, SIGTERM);
        int status;
        waitpid (pid, &status, 0);
    }
}

//  =====================================================================
//  The command line (cp_cli)

static const cp_cli_option_t s_options [] = {
    {"events", CP_CLI_DIR, "DIR", 0, 0, "a directory of <municipality code>.jsonl files"},
    {"data", CP_CLI_DIR, "DIR", 0, 0,
     "where the deployment lives (DATA/central, DATA/nodes/<code>)"},
    {"port", CP_CLI_INTEGER, "N", 1, 65535, "the central's port on loopback (default 7400)"},
    {"timeout", CP_CLI_INTEGER, "SECONDS", 1, 7 * 86400,
     "give up, exit non-zero, after this long (default 600)"},
    {NULL, 0, NULL, 0, 0, NULL}
};

static const cp_cli_command_t s_commands [] = {
    {"", "events! data! port timeout", NULL, 0,
     "run a whole deployment on one machine: a node for every events file, enrolled, "
     "imported and run against one central until it has every event",
     "Every node and the central run as separate processes (cpsync-node, "
     "cpsync-central, cpsync-admin, found beside this binary), exactly as an operator "
     "would run them. Running it again over the same --data with the same or more "
     "events is safe: nothing is counted twice. Afterwards 'cpsync-central query --data "
     "DATA/central ...' answers."},
    {NULL, NULL, NULL, 0, NULL, NULL}
};

static const cp_cli_program_t s_program = {
    "cpsync-fleet", "A whole deployment on one machine, for demos and tests.", s_options,
    s_commands, NULL, "Exit codes: 0 every event acknowledged; 1 the timeout passed or a "
    "step failed; 2 usage or environment errors."
};

static int
s_usage (const char *message)
{
    return cp_cli_usage_error ("cpsync-fleet", NULL, message);
}

int
main (int argc, char **argv)
{
    int exit_code = 0;
    cp_cli_t *cli = cp_cli_parse (&s_program, argc, argv, &exit_code);
    if (!cli)
        return exit_code;
    const char *events = cp_cli_text (cli, "events"), *data = cp_cli_text (cli, "data");
    int port = (int) cp_cli_integer (cli, "port", 7400);
    int timeout = (int) cp_cli_integer (cli, "timeout", 600);
    cp_cli_destroy (&cli);          //  the values are argv's
    char self [PATH_MAX];
    if (!realpath (argv [0], self) && !realpath ("/proc/self/exe", self))
        return s_usage ("cannot find my own binary");
    snprintf (s_bin, sizeof s_bin, "%s", dirname (self));

    s_node_t *nodes = NULL;
    size_t count = s_list_events (events, data, &nodes);
    if (count == 0)
        return s_usage ("--events holds no <municipality>.jsonl file");
    //  The central knows only the municipalities of the list: a file for any
    //  other code would wait for an acknowledgement that never comes.
    for (size_t index = 0; index < count; index++)
        if (cp_municipality_index (nodes [index].code) < 0) {
            fprintf (stderr, "cpsync-fleet: %s: '%s' is not a municipality code "
                             "(see municipalities.csv)\n", nodes [index].events, nodes [index].code);
            free (nodes);
            return 2;
        }
    char path [PATH_MAX + 32], endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    mkdir (data, 0700);
    snprintf (path, sizeof path, "%s/nodes", data);
    mkdir (path, 0700);

    //  Set up the central and the nodes (once), import every file.
    char central [PATH_MAX + 16];
    snprintf (central, sizeof central, "%s/central", data);
    snprintf (path, sizeof path, "%s/store/data.mdb", central);
    if (access (path, F_OK) != 0
    &&  s_command (NULL, 0, "cpsync-admin", "init-central", "--central", central,
                   "--listen", endpoint, NULL) != 0) {
        fprintf (stderr, "cpsync-fleet: could not set up the central in %s\n", central);
        return 1;
    }
    int64_t started = zclock_mono ();
    for (size_t index = 0; index < count; index++) {
        s_node_t *node = &nodes [index];
        snprintf (path, sizeof path, "%s/store/data.mdb", node->data);
        if (access (path, F_OK) != 0
        &&  s_command (NULL, 0, "cpsync-node", "init", "--data", node->data, "--municipality",
                       node->code, "--central", endpoint, NULL) != 0) {
            fprintf (stderr, "cpsync-fleet: could not set up the node of %s\n", node->code);
            return 1;
        }
        if (s_enrol (node, central, data, endpoint)) {
            fprintf (stderr, "cpsync-fleet: could not enrol the node of %s\n", node->code);
            return 1;
        }
        int rc = s_command (NULL, 0, "cpsync-node", "import", "--data", node->data,
                            node->events, NULL);
        if ((rc != 0 && rc != 1) || s_status (node)) {
            fprintf (stderr, "cpsync-fleet: import into %s failed\n", node->code);
            return 1;
        }
        node->imported = node->head;
    }
    printf ("cpsync-fleet: %zu nodes set up and imported in %.1f s\n", count,
            (zclock_mono () - started) / 1000.0);

    //  Run everything until every node's log is acknowledged and every node
    //  has applied the downlink entries addressed to it.
    started = zclock_mono ();
    //  The daemons' logs (no case values in them) go to DATA/logs/.
    char logs [PATH_MAX + 16], log [PATH_MAX + 96];
    snprintf (logs, sizeof logs, "%s/logs", data);
    mkdir (logs, 0700);
    snprintf (log, sizeof log, "%s/central.log", logs);
    pid_t central_pid = s_spawn (log, "cpsync-central", "run", "--data", central,
                                 "--listen", endpoint);
    for (size_t index = 0; index < count; index++) {
        snprintf (log, sizeof log, "%s/node-%s.log", logs, nodes [index].code);
        nodes [index].pid = s_spawn (log, "cpsync-node", "run", "--data", nodes [index].data,
                                     "--central", endpoint);
    }
    int rc = 1;
    bool acked_printed = false, central_died = false;
    //  Then, within at most S_VERDICT_WAIT_MS more, every node's verdict on
    //  the central's figures of its whole log (none come with FIGURES off).
    bool want_verdicts = !central_figures_off ();
    int64_t delivered = 0;      //  when every event and entry was, or 0
    while (zclock_mono () - started < (int64_t) timeout * 1000) {
        zclock_sleep (S_POLL_MS);
        int status;
        if (waitpid (central_pid, &status, WNOHANG) == central_pid) {
            fprintf (stderr, "cpsync-fleet: the central stopped unexpectedly\n");
            central_pid = 0;
            central_died = true;
            break;
        }
        if (delivered) {
            //  The verdicts, and the central's acknowledgement of them
            if ((s_verdicts_missing (nodes, count) == 0
            &&   s_central_cursors (central, nodes, count) == 0
            &&   s_acked (nodes, count, NULL) == count)
            ||  zclock_mono () - delivered >= S_VERDICT_WAIT_MS)
                break;
            continue;
        }
        if (s_central_cursors (central, nodes, count))
            continue;
        uint64_t acked_total = 0;
        if (s_acked (nodes, count, &acked_total) < count)
            continue;
        if (!acked_printed) {
            printf ("cpsync-fleet: %llu events of %zu nodes acknowledged in %.1f s\n",
                    (unsigned long long) acked_total, count, (zclock_mono () - started) / 1000.0);
            fflush (stdout);
            acked_printed = true;
        }
        int behind = s_downlink_behind (central, nodes, count);
        if (behind == 0) {
            uint64_t last = 0;
            for (size_t index = 0; index < count; index++)
                if (nodes [index].downlink > last)
                    last = nodes [index].downlink;
            if (last)
                printf ("cpsync-fleet: every node has applied the downlink entries addressed "
                        "to it (up to entry %llu), in %.1f s\n", (unsigned long long) last,
                        (zclock_mono () - started) / 1000.0);
            fflush (stdout);
            rc = 0;
            if (!want_verdicts)
                break;
            delivered = zclock_mono ();
        }
    }
    if (central_died)
        ;   //  said so already
    else
    if (rc && !acked_printed)
        fprintf (stderr, "cpsync-fleet: not every event was acknowledged within %d s "
                         "(the daemons' logs are in %s)\n", timeout, logs);
    else
    if (rc) {
        fprintf (stderr, "cpsync-fleet: not every node applied the downlink entries addressed "
                         "to it within %d s (the daemons' logs are in %s):", timeout, logs);
        for (size_t index = 0; index < count; index++)
            if (nodes [index].pending)
                fprintf (stderr, " %s (at %llu, entry %llu waits)", nodes [index].code,
                         (unsigned long long) nodes [index].downlink,
                         (unsigned long long) nodes [index].pending);
        fprintf (stderr, "\n");
    }
    else
    if (delivered) {
        //  Not a failure of the sync: the figures are checked again later
        size_t missing = 0;
        for (size_t index = 0; index < count; index++)
            missing += nodes [index].checked < nodes [index].imported;
        if (missing) {
            fprintf (stderr, "cpsync-fleet: %zu node(s) had not checked the central's figures "
                             "of their whole log when stopped:", missing);
            for (size_t index = 0; index < count; index++)
                if (nodes [index].checked < nodes [index].imported)
                    fprintf (stderr, " %s", nodes [index].code);
            fprintf (stderr, "\n");
        }
        else
        if (s_acked (nodes, count, NULL) < count)
            fprintf (stderr, "cpsync-fleet: not every node's verdict was acknowledged by the "
                             "central when stopped (it will be at the next connection)\n");
    }
    for (size_t index = 0; index < count; index++)
        s_stop (nodes [index].pid);
    s_stop (central_pid);
    free (nodes);
    return rc;
}
