/*  testing: the smallest harness that serves our test programs.

    A test program is a table of `static void test_x (void)` functions run
    by TESTING_MAIN; CHECK records a failure with its line and goes on, so
    one run shows every broken assertion.  The closing line is
    "N passed, M failed", which ctest's log and CI both read.              */

#ifndef TESTING_H_INCLUDED
#define TESTING_H_INCLUDED

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    const char *name;
    void (*run) (void);
} testing_case_t;

static int testing_failures_ = 0;

#define CHECK(condition) do { \
    if (!(condition)) { \
        fprintf (stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
        testing_failures_++; \
    } \
} while (0)

#define CHECK_EQ_INT(actual, expected) do { \
    long long actual_ = (long long) (actual), expected_ = (long long) (expected); \
    if (actual_ != expected_) { \
        fprintf (stderr, "  %s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, \
                 #actual, actual_, expected_); \
        testing_failures_++; \
    } \
} while (0)

#define CHECK_STR_CONTAINS(text, part) do { \
    const char *text_ = (text), *part_ = (part); \
    if (!text_ || !strstr (text_, part_)) { \
        fprintf (stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                 text_? text_: "(null)", part_); \
        testing_failures_++; \
    } \
} while (0)

//  The watchdog: a case that runs past TESTING_CASE_SECONDS has the stacks
//  of all its threads printed by gdb (when it is installed) and is
//  aborted, so a hang shows where it hangs, not a bare ctest timeout.
//  Only async-signal-safe calls here.
#ifndef TESTING_CASE_SECONDS
#define TESTING_CASE_SECONDS 200
#endif

static void
testing_watchdog_ (int signal_number)
{
    (void) signal_number;
    static const char note [] = "watchdog: a test case ran past its time; its stacks:\n";
    if (write (2, note, sizeof note - 1) < 0) {}
    char pid [24];
    int at = (int) sizeof pid - 1;
    pid [at] = 0;
    for (long value = (long) getpid (); value > 0 && at > 0; value /= 10)
        pid [--at] = (char) ('0' + value % 10);
    prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
    pid_t child = fork ();
    if (child == 0) {
        dup2 (2, 1);
        execlp ("gdb", "gdb", "-batch", "-nx", "-p", pid + at, "-ex", "thread apply all bt",
                (char *) NULL);
        _exit (127);
    }
    if (child > 0)
        waitpid (child, NULL, 0);
    abort ();
}

//  Runs the cases (all, or the one argv [1] names); returns main's code.
static inline int
testing_run_ (const testing_case_t *cases, size_t count, int argc, char **argv)
{
    int passed = 0, failed = 0;
    signal (SIGALRM, testing_watchdog_);
    for (size_t index = 0; index < count; index++) {
        if (argc > 1 && strcmp (argv [1], cases [index].name) != 0)
            continue;
        int before = testing_failures_;
        alarm (TESTING_CASE_SECONDS);
        cases [index].run ();
        alarm (0);
        int ok = testing_failures_ == before;
        printf ("%s %s\n", ok? "ok  ": "FAIL", cases [index].name);
        if (ok) passed++; else failed++;
    }
    printf ("%d passed, %d failed\n", passed, failed);
    return failed? 1: 0;
}

#define TESTING_MAIN(...) \
int main (int argc, char **argv) { \
    testing_case_t cases_ [] = {__VA_ARGS__}; \
    return testing_run_ (cases_, sizeof cases_ / sizeof cases_ [0], argc, argv); \
}

//  The same, with the statement setup before the cases and teardown
//  after them.
#define TESTING_MAIN_AROUND(setup, teardown, ...) \
int main (int argc, char **argv) { \
    testing_case_t cases_ [] = {__VA_ARGS__}; \
    setup; \
    int rc_ = testing_run_ (cases_, sizeof cases_ / sizeof cases_ [0], argc, argv); \
    teardown; \
    return rc_; \
}

#define TEST(name) {#name, name}

//  A full disk, as far as the file at path goes: files this process writes
//  may grow no larger than path is now, and a write past that fails
//  instead of raising SIGXFSZ.  Keeps the limit to restore in *saved.
//  Returns 0 or -1.
static inline int
testing_disk_full (const char *path, struct rlimit *saved)
{
    struct stat info;
    if (stat (path, &info) || getrlimit (RLIMIT_FSIZE, saved))
        return -1;
    struct rlimit limited = *saved;
    limited.rlim_cur = (rlim_t) info.st_size;
    signal (SIGXFSZ, SIG_IGN);
    return setrlimit (RLIMIT_FSIZE, &limited);
}

//  Lifts testing_disk_full's limit.  Returns 0 or -1.
static inline int
testing_disk_room (const struct rlimit *saved)
{
    int rc = setrlimit (RLIMIT_FSIZE, saved);
    signal (SIGXFSZ, SIG_DFL);
    return rc;
}

//  Temporary directories, for programs built with _XOPEN_SOURCE 700 (nftw,
//  mkdtemp): testing_fresh_dir makes DIR/name.XXXXXX into dir (size bytes),
//  DIR being $CPSYNC_TEST_TMP or /tmp, and exits when it cannot;
//  testing_remove_dir removes it and all it holds.
#if defined _XOPEN_SOURCE && _XOPEN_SOURCE >= 700
#include <ftw.h>

static inline void
testing_fresh_dir (const char *name, char *dir, size_t size)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (dir, size, "%s/%s.XXXXXX", base && *base? base: "/tmp", name);
    if (!mkdtemp (dir)) {
        fprintf (stderr, "  cannot make a temporary directory\n");
        exit (1);
    }
}

static inline int
testing_remove_entry_ (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info; (void) flag; (void) ftw;
    return remove (path);
}

static inline void
testing_remove_dir (const char *dir)
{
    nftw (dir, testing_remove_entry_, 16, FTW_DEPTH | FTW_PHYS);
}
#endif

#endif
