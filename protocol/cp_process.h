/*  cp_process: what every cpsync command sets up before its work.

    libsodium (every command seals, opens or holds keys); log lines named
    after the command on stderr; and the two signals a store can raise:
    SIGXFSZ (a file-size limit) is ignored, so that the write fails with
    EFBIG and the transaction aborts with a message instead of the process
    dying in the middle of it, and SIGBUS (LMDB reading a damaged page that
    points past the end of the file) ends the process with a line that
    says so and exit code 2, instead of a core dump.                      */

#ifndef CP_PROCESS_H_INCLUDED
#define CP_PROCESS_H_INCLUDED

//  Sets the process up for program ("cpsync-node", ...; kept, not copied).
//  Returns 0, or -1 when libsodium does not initialise (said on stderr).
int
    cp_process_start (const char *program);

#endif
