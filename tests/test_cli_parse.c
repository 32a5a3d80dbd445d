/*  test_cli_parse: cp_cli's parser on a small table of its own.

    Strict integers at and past every edge (64 bits included); options
    before, between and after operands; --name=value; "--"; required
    options; a flag of another command refused; subcommands found, missing
    or unknown; --help anywhere giving exit 0 and no result.  The messages
    themselves are checked through the real programs (test_cli.sh).         */

#include "cp_cli.h"
#include "testing.h"

#include <stdarg.h>

static const cp_cli_option_t s_options [] = {
    {"data", CP_CLI_DIR, "DIR", 0, 0, "a directory"},
    {"count", CP_CLI_INTEGER, "N", 1, 100, "a count"},
    {"big", CP_CLI_INTEGER, "N", -9223372036854775807LL, 9223372036854775807LL, "any"},
    {"loud", CP_CLI_FLAG, NULL, 0, 0, "a flag"},
    {"name", CP_CLI_TEXT, "TEXT", 0, 0, "a name"},
    {NULL, 0, NULL, 0, 0, NULL}
};

static const cp_cli_command_t s_commands [] = {
    {"go", "data! count big loud", "FILE", 2, "go somewhere", NULL},
    {"user add", "data! name+", NULL, 0, "add", NULL},
    {"user list", "data!", NULL, 0, "list", NULL},
    {NULL, NULL, NULL, 0, NULL, NULL}
};

static const cp_cli_program_t s_program = {"prog", "a program", s_options, s_commands, NULL, NULL};

//  Parses a NULL-terminated list of words after the program's name.
static cp_cli_t *
s_parse (int *exit_code, ...)
{
    static char *argv [32];
    int argc = 0;
    argv [argc++] = "prog";
    va_list args;
    va_start (args, exit_code);
    char *word;
    while ((word = va_arg (args, char *)) && argc < 31)
        argv [argc++] = word;
    va_end (args);
    argv [argc] = NULL;
    *exit_code = -1;
    return cp_cli_parse (&s_program, argc, argv, exit_code);
}

static void
test_integers (void)
{
    const char *good [] = {"1", "100", "007"};
    const long long value [] = {1, 100, 7};
    for (size_t index = 0; index < 3; index++) {
        int rc;
        cp_cli_t *cli = s_parse (&rc, "go", "--data", "d", "--count", good [index], NULL);
        CHECK (cli);
        if (cli)
            CHECK_EQ_INT (cp_cli_integer (cli, "count", 0), value [index]);
        cp_cli_destroy (&cli);
        CHECK (cli == NULL);
    }
    const char *bad [] = {"0", "101", "-1", "2x", "", " 5", "+5", "0x10", "1e2", "-",
                          "99999999999999999999", "18446744073709551617"};
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        int rc;
        cp_cli_t *cli = s_parse (&rc, "go", "--data", "d", "--count", bad [index], NULL);
        CHECK (cli == NULL);
        CHECK_EQ_INT (rc, CP_CLI_EXIT_USAGE);
        cp_cli_destroy (&cli);
    }
    //  The ends of 64 bits are in range; one past is not.
    int rc;
    cp_cli_t *cli = s_parse (&rc, "go", "--data", "d", "--big", "9223372036854775807", NULL);
    CHECK (cli && cp_cli_integer (cli, "big", 0) == 9223372036854775807LL);
    cp_cli_destroy (&cli);
    cli = s_parse (&rc, "go", "--data", "d", "--big=-9223372036854775807", NULL);
    CHECK (cli && cp_cli_integer (cli, "big", 0) == -9223372036854775807LL);
    cp_cli_destroy (&cli);
    cli = s_parse (&rc, "go", "--data", "d", "--big", "9223372036854775808", NULL);
    CHECK (cli == NULL && rc == CP_CLI_EXIT_USAGE);
    //  Absent: the caller's default.
    cli = s_parse (&rc, "go", "--data", "d", NULL);
    CHECK (cli && cp_cli_integer (cli, "count", 42) == 42 && !cp_cli_given (cli, "count"));
    cp_cli_destroy (&cli);
}

static void
test_operands_and_forms (void)
{
    int rc, count = 0;
    cp_cli_t *cli = s_parse (&rc, "go", "a", "--data=d", "--loud", "--", "-b", NULL);
    CHECK (cli);
    if (cli) {
        char **operands = cp_cli_operands (cli, &count);
        CHECK_EQ_INT (count, 2);
        CHECK (count == 2 && strcmp (operands [0], "a") == 0 && strcmp (operands [1], "-b") == 0);
        CHECK (strcmp (cp_cli_text (cli, "data"), "d") == 0);
        CHECK (cp_cli_given (cli, "loud"));
        CHECK (strcmp (cp_cli_command (cli), "go") == 0);
    }
    cp_cli_destroy (&cli);
    //  The last of a repeated option wins; "-" is an operand (stdin).
    cli = s_parse (&rc, "go", "--data", "x", "--data", "y", "-", NULL);
    CHECK (cli && strcmp (cp_cli_text (cli, "data"), "y") == 0);
    cp_cli_destroy (&cli);
    //  Too many operands, a value to a flag, a value missing, a single dash.
    CHECK (!s_parse (&rc, "go", "--data", "d", "a", "b", "c", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "go", "--data", "d", "--loud=yes", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "go", "--data", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "go", "--data", "d", "-l", NULL) && rc == 2);
}

static void
test_commands (void)
{
    int rc;
    //  Required, foreign, unknown.
    CHECK (!s_parse (&rc, "go", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "go", "--data", "d", "--name", "n", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "go", "--data", "d", "--nope", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "stop", NULL) && rc == 2);
    CHECK (!s_parse (&rc, NULL) && rc == 2);
    //  "+" is the command's to check: not required here.
    cp_cli_t *cli = s_parse (&rc, "user", "add", "--data", "d", NULL);
    CHECK (cli && strcmp (cp_cli_command (cli), "user add") == 0);
    CHECK (cli && cp_cli_text (cli, "name") == NULL);
    cp_cli_destroy (&cli);
    CHECK (!s_parse (&rc, "user", "--data", "d", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "user", "grant", "--data", "d", NULL) && rc == 2);
    CHECK (!s_parse (&rc, "user", "list", "--data", "d", "--name", "n", NULL) && rc == 2);
}

static void
test_help (void)
{
    int rc;
    //  Help goes to stdout: out of the test's way.
    fflush (stdout);
    int saved = dup (STDOUT_FILENO);
    FILE *null = freopen ("/dev/null", "w", stdout);
    CHECK (null);
    CHECK (!s_parse (&rc, "--help", NULL) && rc == 0);
    CHECK (!s_parse (&rc, "-h", NULL) && rc == 0);
    CHECK (!s_parse (&rc, "go", "-h", NULL) && rc == 0);
    CHECK (!s_parse (&rc, "go", "--nope", "--count", "2x", "--help", NULL) && rc == 0);
    CHECK (!s_parse (&rc, "user", "--help", NULL) && rc == 0);
    CHECK (!s_parse (&rc, "user", "add", "--help", NULL) && rc == 0);
    //  After "--" it is an operand.
    cp_cli_t *cli = s_parse (&rc, "go", "--data", "d", "--", "--help", NULL);
    CHECK (cli);
    cp_cli_destroy (&cli);
    fflush (stdout);
    dup2 (saved, STDOUT_FILENO);
    close (saved);
}

TESTING_MAIN (
    TEST (test_integers),
    TEST (test_operands_and_forms),
    TEST (test_commands),
    TEST (test_help)
)
