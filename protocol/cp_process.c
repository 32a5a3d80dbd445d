/*  cp_process: the set-up every cpsync command shares.                   */

#include "cp_process.h"
#include "cp_enrolment.h"

#include <czmq.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

//  The SIGBUS line, written before any signal can come: a handler may only
//  call async-signal-safe functions, so it cannot format one.
static char s_damaged [256];
static size_t s_damaged_size;

static void
s_on_damaged_store (int signal_number)
{
    (void) signal_number;
    ssize_t ignored = write (STDERR_FILENO, s_damaged, s_damaged_size);
    (void) ignored;
    _exit (2);
}

int
cp_process_start (const char *program)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "%s: libsodium does not initialise\n", program);
        return -1;
    }
    int size = snprintf (s_damaged, sizeof s_damaged,
                         "%s: the store is damaged (a page points outside its file); "
                         "restore the data directory from a backup\n", program);
    s_damaged_size = size > 0 && (size_t) size < sizeof s_damaged? (size_t) size
                   : strlen (s_damaged);
    //  Both: the limit alone can be raised again by the process (or a
    //  library it loads); not dumpable also keeps other processes of the
    //  same user out of its memory.
    struct rlimit none = {0, 0};
    if (setrlimit (RLIMIT_CORE, &none) || prctl (PR_SET_DUMPABLE, 0, 0, 0, 0)) {
        fprintf (stderr, "%s: cannot turn core dumps off: %s\n", program, strerror (errno));
        return -1;
    }
    cp_enrolment_guard_json ();
    signal (SIGXFSZ, SIG_IGN);
    //  A peer gone while libzmq writes to it (libzmq sends without
    //  MSG_NOSIGNAL): EPIPE, which libzmq handles, not a dead daemon.
    signal (SIGPIPE, SIG_IGN);
    signal (SIGBUS, s_on_damaged_store);
    zsys_set_logident (program);
    zsys_set_logstream (stderr);
    return 0;
}
