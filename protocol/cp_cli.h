/*  cp_cli: the command line of every cpsync program, from one table.

    A program describes itself once: its options (name, whether it takes a
    value and of what kind, one line of help) and its commands (a word, or
    two for a subcommand such as "directive send"; the options it takes; its
    operands; a summary and a paragraph of help).  cp_cli_parse reads argv
    against that table and either hands back what was given, or prints what
    is wrong and what to do.  The usage and every --help are generated from
    the same table, so the help cannot list a flag the parser refuses, nor
    miss one it takes.

    The rules it enforces for every program:
      - `--help` or `-h` anywhere (before `--`) prints the help of the
        program, the command or the subcommand named before it on stdout,
        and the program exits 0;
      - an option the command does not take is refused by name, exit 2;
      - an integer option is a whole number in its range, nothing else
        (`2x`, an empty value, `-1` where 1 is the least, a number past
        the range or past 64 bits are refused, naming the flag and value);
      - options marked required in the table ("data!") must be given;
      - operands (the words that are not options) may come before, between
        or after the options, and `--` ends the options; at most the
        command's number of operands is accepted.
    Text, date, period, file and directory options are passed as given:
    their kind names the value in the help, and the command checks it with
    its own message (that message is part of the command's contract).

    Progress: cp_cli_progress_* keeps one updating line on stderr during a
    long operation, only when stderr is a terminal, so that logs and tests,
    which read a pipe or a file, see nothing of it.                         */

#ifndef CP_CLI_H_INCLUDED
#define CP_CLI_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#define CP_CLI_EXIT_USAGE 2         //  the exit code of a usage error

typedef enum {
    CP_CLI_FLAG = 1,                //  takes no value
    CP_CLI_TEXT,                    //  any text
    CP_CLI_INTEGER,                 //  a whole number from min to max, checked here
    CP_CLI_DATE,                    //  YYYY-MM-DD, checked by the command
    CP_CLI_PERIOD,                  //  YYYY or YYYY-Qn, checked by the command
    CP_CLI_FILE,                    //  a file's path
    CP_CLI_DIR                      //  a directory's path
} cp_cli_kind_t;

typedef struct {
    const char *name;               //  without the dashes: "data"; NULL ends a table
    cp_cli_kind_t kind;
    const char *value;              //  the value's name in help: "DIR"; NULL for a flag
    long long min, max;             //  CP_CLI_INTEGER: the range, both included
    const char *help;               //  one line
} cp_cli_option_t;

typedef struct {
    //  "import", or "directive send" (a command and its subcommand); ""
    //  for the one command of a program without commands (cpsync-fleet);
    //  NULL ends a table.
    const char *name;
    //  The options it takes, space separated, in the order help shows
    //  them: "data! period+ format=json|table".  "!" marks one the parser
    //  requires; "+" one shown as required that the command checks itself
    //  (its message is part of the contract); "=TEXT" names the value in
    //  this command's usage instead of the option's own name.
    const char *options;
    const char *operands;           //  their names in usage ("FILE.jsonl"), or NULL
    int operands_max;               //  how many it accepts at most
    const char *summary;            //  one line
    const char *help;               //  a paragraph, or NULL
} cp_cli_command_t;

typedef struct {
    const char *name;               //  "cpsync-node"
    const char *summary;            //  one line
    const cp_cli_option_t *options;
    const cp_cli_command_t *commands;
    //  Options every command takes, added after its own (as in a command's
    //  list).  This is the place for the options of a whole program, such
    //  as a configuration file read before the command's own flags.
    const char *common;
    const char *help;               //  closing text of the program's help, or NULL
} cp_cli_program_t;

//  What a command line asked for.
typedef struct _cp_cli_t cp_cli_t;

//  Reads argv against program's table.  Returns what was asked, the
//  caller's to destroy; or NULL with *exit_code: 0 when a help was asked
//  for and printed on stdout, CP_CLI_EXIT_USAGE when the line was wrong
//  (said on stderr with what to do).  argv is borrowed and must outlive
//  the result.
cp_cli_t *
    cp_cli_parse (const cp_cli_program_t *program, int argc, char **argv, int *exit_code);

//  Destroys a result; accepts NULL and clears the pointer.
void
    cp_cli_destroy (cp_cli_t **self_p);

//  The command asked for, as the table names it ("directive send"; "" for
//  a program without commands).
const char *
    cp_cli_command (cp_cli_t *self);

//  The value given to option name, the last when given more than once; NULL
//  when it was not given.  name must be one of the program's options.
const char *
    cp_cli_text (cp_cli_t *self, const char *name);

//  An integer option's value, or absent when it was not given.
long long
    cp_cli_integer (cp_cli_t *self, const char *name, long long absent);

//  Whether an option (a flag or one with a value) was given.
bool
    cp_cli_given (cp_cli_t *self, const char *name);

//  The operands, in order, and their number.
char **
    cp_cli_operands (cp_cli_t *self, int *count);

//  Prints "PROGRAM COMMAND: message" and where the command's help is, on
//  stderr, for an error the command finds in its own arguments.  Returns
//  CP_CLI_EXIT_USAGE.  program and command may be NULL (then only the
//  program's help is pointed to).
int
    cp_cli_usage_error (const char *program, const char *command, const char *message);

//  ---------------------------------------------------------------------
//  Progress on a terminal

typedef struct _cp_cli_progress_t cp_cli_progress_t;

//  A progress line labelled label (borrowed), or NULL when stderr is not a
//  terminal; every cp_cli_progress_ call accepts NULL and does nothing.
cp_cli_progress_t *
    cp_cli_progress_new (const char *label);

//  Shows done of total units (total 0: unknown), at most four times a
//  second, over the line shown before.
void
    cp_cli_progress_show (cp_cli_progress_t *self, uint64_t done, uint64_t total,
                          const char *unit);

//  Clears the line, if one is shown; the next show draws it again.
void
    cp_cli_progress_clear (cp_cli_progress_t *self);

//  Clears the line and destroys; accepts NULL and clears the pointer.
void
    cp_cli_progress_destroy (cp_cli_progress_t **self_p);

#endif
