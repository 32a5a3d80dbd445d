/*  cp_log: log lines by level, on stderr, for people and for the journal.

    The programs log through zsys_* (zsys_error, _warning, _notice, _info,
    _debug), which write every line to one stream.  cp_log_start gives
    zsys a stream of its own that keeps the lines at or above a level
    (error < warning < notice < info < debug) and drops the others, so
    --log-level and the log-level key of a configuration file apply to
    every actor at once, and a reload can change the level while the
    process runs.

    The journal: when stderr is the journal's stream (systemd sets
    JOURNAL_STREAM to its device and inode), each line starts with the
    syslog priority as "<N>" (3 error, 4 warning, 5 notice, 6 info, 7
    debug), which journald reads as the line's priority (the units leave
    SyslogLevelPrefix= at its default, yes).  On a terminal or a file the
    lines are as zsys writes them ("E: ", "W: ", "N: ", "I: ", "D: "); on a
    terminal each line first clears the line it starts on, so that it
    replaces a progress line (cp_cli_progress) rather than running on
    from its end.                                                           */

#ifndef CP_LOG_H_INCLUDED
#define CP_LOG_H_INCLUDED

#include <stdbool.h>

typedef enum {
    CP_LOG_ERROR = 3,           //  the syslog priorities
    CP_LOG_WARNING = 4,
    CP_LOG_NOTICE = 5,
    CP_LOG_INFO = 6,
    CP_LOG_DEBUG = 7
} cp_log_level_t;

#define CP_LOG_LEVELS "error, warning, notice, info or debug"

//  The level named text ("error", "warning", "notice", "info", "debug"),
//  or -1.
int
    cp_log_level_parse (const char *text);

//  The name of a level.
const char *
    cp_log_level_name (int level);

//  Makes zsys write its lines through the filter, at level.  Call once,
//  after cp_process_start; later calls only set the level.
void
    cp_log_start (int level);

//  Sets the level of the lines kept (any thread, at any time).
void
    cp_log_set_level (int level);

//  The level in force.
int
    cp_log_level (void);

//  True when lines of level are kept.
bool
    cp_log_enabled (int level);

#endif
