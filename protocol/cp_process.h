/*  cp_process: what every cpsync command sets up before its work.

    libsodium (every command seals, opens or holds keys); log lines named
    after the command on stderr; and the two signals a store can raise:
    SIGXFSZ (a file-size limit) is ignored, so that the write fails with
    EFBIG and the transaction aborts with a message instead of the process
    dying in the middle of it, and SIGBUS (LMDB reading a damaged page that
    points past the end of the file) ends the process with a line that
    says so and exit code 2, instead of a core dump.  SIGPIPE is ignored:
    a peer gone while libzmq writes to it is an EPIPE libzmq handles.

    Secrets: every command may hold one (the daemons their keys for months,
    cpsync-admin the root secret, cpsync-node enrol a bundle), so every
    command makes no core dump (RLIMIT_CORE 0) and is not dumpable
    (PR_SET_DUMPABLE 0: no core even when a limit is raised again, and
    /proc/PID/mem and ptrace are the owner's no more, only root's), and
    makes jansson wipe every block it frees (cp_enrolment_guard_json:
    bundles and announcements are parsed with it, and its copies of a
    bundle's text would outlive the parse).                               */

#ifndef CP_PROCESS_H_INCLUDED
#define CP_PROCESS_H_INCLUDED

//  Sets the process up for program ("cpsync-node", ...; kept, not copied).
//  Call first in main, before any JSON is made.  Returns 0, or -1 when
//  libsodium does not initialise or core dumps cannot be turned off (said
//  on stderr): a process that could leave its secrets in a core file does
//  not start.
int
    cp_process_start (const char *program);

#endif
