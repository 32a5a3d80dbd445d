/*  cp_config: a daemon's configuration file, read into (key, value) pairs.

    The file is ZPL (CZMQ's zconfig, RFC 4 of ZeroMQ), flat: one
    "key = value" a line, where each key is the long option of the command
    it configures (data, central, log-level, ...).  The caller gives the
    keys it takes as a table with each one's kind; a key not in the table,
    a key given twice, a nested section, a value that is not of its kind or
    a file that does not parse is refused with a message that names the
    file, the line and the key, and nothing is applied.

    cp_config_args turns a command line with --config FILE into the same
    command line with the file's keys as options placed before the ones
    given: the caller's own option parser then reads both, so every value
    goes through the same checks, and a flag on the command line wins over
    the file because it comes later.                                       */

#ifndef CP_CONFIG_H_INCLUDED
#define CP_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define CP_CONFIG_FILE_MAX (64 << 10)   //  bytes of a configuration file
#define CP_CONFIG_KEY_MAX 32            //  characters of a key
#define CP_CONFIG_VALUE_MAX 1024        //  characters of a value
#define CP_CONFIG_ENTRIES_MAX 64        //  keys in one file

typedef enum {
    CP_CONFIG_TEXT = 1,         //  any non-empty text without control characters
    CP_CONFIG_BOOL,             //  true/false, yes/no, on/off, 1/0: an option without value
    CP_CONFIG_NUMBER,           //  a decimal integer from min to max
    CP_CONFIG_LEVEL             //  a log level: error, warning, info, debug
} cp_config_kind_t;

//  One key a command takes.
typedef struct {
    const char *key;            //  the long option's name, without "--"
    int kind;                   //  a cp_config_kind_t
    long min, max;              //  CP_CONFIG_NUMBER's range
} cp_config_key_t;

//  One key read from a file.
typedef struct {
    char key [CP_CONFIG_KEY_MAX + 1];
    char value [CP_CONFIG_VALUE_MAX + 1];
    int line;                   //  where it was (1, 2, ...), 0 when unknown
} cp_config_entry_t;

//  Parses text (size bytes, not terminated; name says where it came from
//  in messages) against keys (count of them) into entries (at most
//  CP_CONFIG_ENTRIES_MAX), *entry_count of them.  A CP_CONFIG_BOOL's value
//  is made "true" or "false".  Returns 0, CP_ETOOBIG (over
//  CP_CONFIG_FILE_MAX) or CP_EMALFORMED, with *why ("FILE:LINE: key 'x':
//  ...") on failure.
int
    cp_config_parse (const char *text, size_t size, const char *name,
                     const cp_config_key_t *keys, size_t count, cp_config_entry_t *entries,
                     size_t *entry_count, char *why, size_t why_size);

//  Reads and parses the file at path as cp_config_parse.  Returns 0,
//  CP_EIO (it cannot be read, or holds over CP_CONFIG_FILE_MAX bytes: *why
//  says which) or CP_EMALFORMED.
int
    cp_config_load (const char *path, const cp_config_key_t *keys, size_t count,
                    cp_config_entry_t *entries, size_t *entry_count, char *why,
                    size_t why_size);

//  Takes "--config FILE" (or "--config=FILE") out of argv, from the third
//  argument on (after program and command), and puts the file's keys in
//  its place as "--key value" (a true bool as "--key", a false one left
//  out), before the options that were given.  *argc and *argv are set to
//  the new command line (kept by the module until exit), *path to the
//  file (NULL when none was named).  Without --config, argc and argv are
//  left as they are.  Returns 0, or -1 having written why on stderr,
//  prefixed by program: then the caller exits with 2 and starts nothing.
int
    cp_config_args (const char *program, const cp_config_key_t *keys, size_t count,
                    int *argc, char ***argv, const char **path);

//  The value of key in force for a reload: the last "--key VALUE" (or
//  "--key=VALUE") of argv, the command line as given, else the value of
//  entries (a file read again), else NULL.  Borrowed from either.
const char *
    cp_config_value (int argc, char **argv, const cp_config_entry_t *entries, size_t count,
                     const char *key);

//  Catches SIGHUP from now on, which would otherwise end the process: a
//  daemon reloads what it can when it comes.
void
    cp_config_catch_reload (void);

//  True when a SIGHUP came since the last call (many count as one).
bool
    cp_config_reload_asked (void);

#endif
