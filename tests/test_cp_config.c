/*  test_cp_config: the configuration files' decoder (cp_config), the
    command line made from a file (a flag given wins), and the metrics'
    text format (cp_metrics: escaping).  The daemons with their files are
    test_config.sh's.                                                     */

#include "testing.h"
#include "cp_config.h"
#include "cp_error.h"
#include "cp_metrics.h"

static const cp_config_key_t s_keys [] = {
    {"data", CP_CONFIG_TEXT, 0, 0},
    {"central", CP_CONFIG_TEXT, 0, 0},
    {"verbose", CP_CONFIG_BOOL, 0, 0},
    {"token-ttl", CP_CONFIG_NUMBER, 1, 3600},
    {"log-level", CP_CONFIG_LEVEL, 0, 0},
};
#define S_KEYS (sizeof s_keys / sizeof s_keys [0])

static cp_config_entry_t s_entries [CP_CONFIG_ENTRIES_MAX];
static char s_why [2048];

static int
s_parse (const char *text, size_t *count)
{
    s_why [0] = 0;
    return cp_config_parse (text, strlen (text), "f.conf", s_keys, S_KEYS, s_entries, count,
                            s_why, sizeof s_why);
}

static void
test_taken (void)
{
    size_t count = 0;
    CHECK_EQ_INT (s_parse ("# a comment\n"
                           "data = /var/lib/x   # trailing comment\n"
                           "central = \"tcp://127.0.0.1:7400\"\n"
                           "verbose = yes\n"
                           "token-ttl = 3600\n"
                           "log-level = debug\n", &count), 0);
    CHECK_EQ_INT (count, 5);
    CHECK (strcmp (s_entries [0].key, "data") == 0);
    CHECK (strcmp (s_entries [0].value, "/var/lib/x") == 0);
    CHECK_EQ_INT (s_entries [0].line, 2);
    CHECK (strcmp (s_entries [1].value, "tcp://127.0.0.1:7400") == 0);
    CHECK (strcmp (s_entries [2].value, "true") == 0);     //  a bool made plain
    CHECK (strcmp (s_entries [4].value, "debug") == 0);
    CHECK_EQ_INT (s_parse ("", &count), 0);
    CHECK_EQ_INT (count, 0);
    CHECK_EQ_INT (s_parse ("verbose = off\n", &count), 0);
    CHECK (strcmp (s_entries [0].value, "false") == 0);
}

//  Each refusal: CP_EMALFORMED, no entry, the file, line and key named.
static void
test_refused (void)
{
    static const struct { const char *text, *why; } cases [] = {
        {"data = /x\nbogus = 1\n", "f.conf:2: key 'bogus': not a key of this command"},
        {"log-level = loud\n", "f.conf:1: key 'log-level': it must be one of"},
        {"verbose = maybe\n", "key 'verbose': it must be true or false"},
        {"token-ttl = 0\n", "key 'token-ttl': it must be a whole number in its range"},
        {"token-ttl = 3601\n", "key 'token-ttl'"},
        {"token-ttl = 12abc\n", "key 'token-ttl'"},
        {"data = /x\ndata = /y\n", "f.conf:1: key 'data': given twice"},
        {"data\n    central = x\n", "key 'data': a section"},
        {"data = \"a\n", "not a ZPL file"},
        {"data =\n", "key 'data': it has no value"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        size_t count = 99;
        int rc = s_parse (cases [index].text, &count);
        CHECK_EQ_INT (rc, CP_EMALFORMED);
        CHECK_EQ_INT (count, 0);
        CHECK_STR_CONTAINS (s_why, cases [index].why);
    }
    size_t count = 0;
    CHECK_EQ_INT (cp_config_parse ("data = /x\0y", 11, "f.conf", s_keys, S_KEYS, s_entries,
                                   &count, s_why, sizeof s_why), CP_EMALFORMED);
    CHECK_EQ_INT (cp_config_load ("/nonexistent/f.conf", s_keys, S_KEYS, s_entries, &count,
                                  s_why, sizeof s_why), CP_EIO);
    CHECK_STR_CONTAINS (s_why, "/nonexistent/f.conf");
}

//  The file's keys come before the given options, so a flag wins; --config
//  goes; a false bool is left out.
static void
test_args (void)
{
    char path [] = "/tmp/test_cp_config.XXXXXX";
    int fd = mkstemp (path);
    CHECK (fd >= 0);
    const char *text = "data = /from/file\nverbose = false\nlog-level = info\n";
    CHECK_EQ_INT (write (fd, text, strlen (text)), (long long) strlen (text));
    close (fd);
    char *given [] = {"prog", "run", "--config", path, "--log-level", "debug", NULL};
    int argc = 6;
    char **argv = given;
    const char *config = NULL;
    CHECK_EQ_INT (cp_config_args ("prog", s_keys, S_KEYS, &argc, &argv, &config), 0);
    CHECK (config && strcmp (config, path) == 0);
    CHECK_EQ_INT (argc, 8);
    const char *expected [] = {"prog", "run", "--data", "/from/file", "--log-level", "info",
                               "--log-level", "debug"};
    for (int index = 0; index < 8 && index < argc; index++)
        CHECK (strcmp (argv [index], expected [index]) == 0);
    CHECK (strcmp (cp_config_value (6, given, NULL, 0, "log-level"), "debug") == 0);
    CHECK (cp_config_value (6, given, NULL, 0, "data") == NULL);
    //  Without --config: nothing changes.
    char *plain [] = {"prog", "run", "--data", "/x", NULL};
    argc = 4;
    argv = plain;
    CHECK_EQ_INT (cp_config_args ("prog", s_keys, S_KEYS, &argc, &argv, &config), 0);
    CHECK (argv == plain && argc == 4 && config == NULL);
    //  A refused file: -1.
    char *missing [] = {"prog", "run", "--config=/nonexistent/f.conf", NULL};
    argc = 3;
    argv = missing;
    CHECK_EQ_INT (cp_config_args ("prog", s_keys, S_KEYS, &argc, &argv, &config), -1);
    unlink (path);
}

static void
test_metrics_escaped (void)
{
    cp_metrics_t *metrics = cp_metrics_new ();
    cp_metrics_family (metrics, "cpsync_x", "gauge", "a help \\ with\na newline");
    cp_metrics_sample (metrics, 7, NULL);
    cp_metrics_sample (metrics, -3, "a", "quote \" back \\ line\nend", "b", "", NULL);
    size_t size = 0;
    char *text = cp_metrics_text (metrics, &size);
    CHECK_EQ_INT (size, strlen (text));
    CHECK (strcmp (text, "# HELP cpsync_x a help \\\\ with\\na newline\n"
                         "# TYPE cpsync_x gauge\n"
                         "cpsync_x 7\n"
                         "cpsync_x{a=\"quote \\\" back \\\\ line\\nend\",b=\"\"} -3\n") == 0);
    free (text);
    cp_metrics_destroy (&metrics);
    cp_metrics_destroy (&metrics);
}

TESTING_MAIN (
    TEST (test_taken),
    TEST (test_refused),
    TEST (test_args),
    TEST (test_metrics_escaped)
)
