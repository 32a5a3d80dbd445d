/*  cp_log: see the header.

    The filter is a stdio stream made with glibc's fopencookie: zsys
    writes a line and flushes it, so each call of the write function holds
    whole lines, each starting with zsys's letter of its level.  The level
    and the stream are the process's (as zsys's own log settings are):
    they are set by the main thread and read by every actor.              */

#define _GNU_SOURCE
#include "cp_log.h"

#include <czmq.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_int s_level = CP_LOG_INFO;
static FILE *s_stream;              //  the filter, once started
static bool s_journal;              //  stderr is the journal's stream
static bool s_terminal;             //  stderr is a terminal

static const char *s_names [] = {"", "", "", "error", "warning", "notice", "info", "debug"};

int
cp_log_level_parse (const char *text)
{
    for (int level = CP_LOG_ERROR; level <= CP_LOG_DEBUG; level++)
        if (text && streq (text, s_names [level]))
            return level;
    return -1;
}

const char *
cp_log_level_name (int level)
{
    return level >= CP_LOG_ERROR && level <= CP_LOG_DEBUG? s_names [level]: "?";
}

//  A zsys line's level, from its letter: a line of another shape is kept
//  as an error, so that nothing unexpected is ever dropped.
static int
s_line_level (const char *line, size_t size)
{
    if (size < 2 || line [1] != ':')
        return CP_LOG_ERROR;
    switch (line [0]) {
        case 'E': return CP_LOG_ERROR;
        case 'W': return CP_LOG_WARNING;
        case 'N': return CP_LOG_NOTICE;
        case 'I': return CP_LOG_INFO;
        case 'D': return CP_LOG_DEBUG;
        default:  return CP_LOG_ERROR;
    }
}

static void
s_write_all (const char *data, size_t size)
{
    while (size) {
        ssize_t done = write (STDERR_FILENO, data, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return;             //  stderr gone: nothing else can be told
        data += done;
        size -= (size_t) done;
    }
}

static ssize_t
s_filter_write (void *cookie, const char *data, size_t size)
{
    (void) cookie;
    int keep = atomic_load (&s_level);
    size_t start = 0;
    while (start < size) {
        const char *end = memchr (data + start, '\n', size - start);
        size_t length = end? (size_t) (end - (data + start)) + 1: size - start;
        int level = s_line_level (data + start, length);
        if (level <= keep) {
            if (s_journal) {
                char prefix [4] = {'<', (char) ('0' + level), '>', 0};
                s_write_all (prefix, 3);
            }
            //  Over a progress line (cp_cli_progress), if one is shown: it
            //  is drawn again below at its next figure.
            if (s_terminal)
                s_write_all ("\r\x1b[K", 4);
            s_write_all (data + start, length);
        }
        start += length;
    }
    return (ssize_t) size;
}

//  True when systemd connected stderr to the journal: JOURNAL_STREAM is
//  "DEVICE:INODE" of that stream (systemd.exec(5)).
static bool
s_stderr_is_journal (void)
{
    const char *stream = getenv ("JOURNAL_STREAM");
    unsigned long long device, inode;
    struct stat seen;
    if (!stream || sscanf (stream, "%llu:%llu", &device, &inode) != 2
    ||  fstat (STDERR_FILENO, &seen))
        return false;
    return (unsigned long long) seen.st_dev == device
        && (unsigned long long) seen.st_ino == inode;
}

void
cp_log_start (int level)
{
    cp_log_set_level (level);
    if (s_stream)
        return;
    s_journal = s_stderr_is_journal ();
    s_terminal = isatty (STDERR_FILENO);
    cookie_io_functions_t functions = {NULL, s_filter_write, NULL, NULL};
    s_stream = fopencookie (NULL, "w", functions);
    if (!s_stream)
        return;                 //  then zsys goes on writing to stderr, unfiltered
    //  A buffer larger than any zsys line (1 KiB), so a flush holds whole lines.
    setvbuf (s_stream, NULL, _IOFBF, 8192);
    zsys_set_logstream (s_stream);
}

void
cp_log_set_level (int level)
{
    if (level >= CP_LOG_ERROR && level <= CP_LOG_DEBUG)
        atomic_store (&s_level, level);
}

int
cp_log_level (void)
{
    return atomic_load (&s_level);
}

bool
cp_log_enabled (int level)
{
    return level <= atomic_load (&s_level);
}
