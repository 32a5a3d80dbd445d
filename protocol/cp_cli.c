/*  cp_cli: the command line of every cpsync program, from one table.

    The parser walks argv once: the command (and subcommand) words first,
    then options and operands in any order.  Each option is looked up in
    the program's table, then in the command's list, so a flag that exists
    elsewhere in the program is refused with the command's name, which is
    what an operator who mistyped a command line needs to read.  Values
    are kept as pointers into argv; only integers are converted, strictly,
    by hand (strtoll would accept "  12", "+12" and wrap silently).

    Help text is generated from the same tables, wrapped to 80 columns.   */

#include "cp_cli.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_TOKENS_MAX 48             //  options a command may list, with the common ones
#define S_NAME_MAX 40               //  an option's name, and a command's
#define S_VALUE_MAX 80              //  a value's name in a command's usage
#define S_WIDTH 80                  //  help is wrapped to this

//  One option as a command lists it.
typedef struct {
    char name [S_NAME_MAX];
    char mark;                      //  '!' required (checked here), '+' required (by the
                                    //  command), 0 optional
    char value [S_VALUE_MAX];       //  the value's name in usage; "" for the option's own
    const cp_cli_option_t *option;  //  its entry in the program's table
} s_token_t;

struct _cp_cli_t {
    const cp_cli_program_t *program;
    const cp_cli_command_t *command;
    size_t options;                 //  entries in the program's option table
    const char **values;            //  per option: the last value given, or NULL
    bool *given;                    //  per option: given at all
    char **operands;                //  borrowed from argv
    int operand_count;
};

struct _cp_cli_progress_t {
    const char *label;
    int64_t shown;                  //  when the line was last drawn, in ms
};

//  =====================================================================
//  Tables

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static const cp_cli_option_t *
s_option (const cp_cli_program_t *program, const char *name, size_t length)
{
    for (const cp_cli_option_t *option = program->options; option && option->name; option++)
        if (strlen (option->name) == length && memcmp (option->name, name, length) == 0)
            return option;
    return NULL;
}

//  Splits a command's option list and the program's common list into
//  tokens.  A name the option table does not hold is our own mistake.
static size_t
s_tokens (const cp_cli_program_t *program, const cp_cli_command_t *command,
          s_token_t *tokens)
{
    size_t count = 0;
    const char *lists [2] = {command->options, program->common};
    for (int list = 0; list < 2; list++) {
        const char *cursor = lists [list]? lists [list]: "";
        while (*cursor) {
            cursor += strspn (cursor, " ");
            size_t length = strcspn (cursor, " ");
            if (length == 0)
                break;
            assert (count < S_TOKENS_MAX);
            s_token_t *token = &tokens [count++];
            memset (token, 0, sizeof *token);
            size_t name = strcspn (cursor, "!+= ");
            if (name > length)
                name = length;
            assert (name < S_NAME_MAX);
            memcpy (token->name, cursor, name);
            const char *rest = cursor + name;
            if (*rest == '!' || *rest == '+')
                token->mark = *rest++;
            if (*rest == '=') {
                size_t value = (size_t) (cursor + length - rest - 1);
                assert (value < S_VALUE_MAX);
                memcpy (token->value, rest + 1, value);
            }
            token->option = s_option (program, token->name, name);
            assert (token->option);
            cursor += length;
        }
    }
    return count;
}

static const s_token_t *
s_token_find (const s_token_t *tokens, size_t count, const char *name, size_t length)
{
    for (size_t index = 0; index < count; index++)
        if (strlen (tokens [index].name) == length
        &&  memcmp (tokens [index].name, name, length) == 0)
            return &tokens [index];
    return NULL;
}

//  The length of a command name's first word.
static size_t
s_word (const char *name)
{
    return strcspn (name, " ");
}

static bool
s_is_help (const char *arg)
{
    return strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0;
}

//  =====================================================================
//  Help

//  Prints text wrapped to S_WIDTH, every line after the first indented by
//  indent, the first continuing at column.  A newline in text starts a new
//  line (indented); two make a blank line.
static void
s_wrap (FILE *out, const char *text, int column, int indent)
{
    bool start = true;              //  nothing written on this line yet
    const char *cursor = text;
    while (*cursor) {
        if (*cursor == '\n') {
            fprintf (out, "\n%*s", cursor [1] == '\n' || !cursor [1]? 0: indent, "");
            column = indent;
            start = true;
            cursor++;
            continue;
        }
        if (*cursor == ' ') {
            cursor++;
            continue;
        }
        int length = (int) strcspn (cursor, " \n");
        if (!start && column + 1 + length > S_WIDTH) {
            fprintf (out, "\n%*s", indent, "");
            column = indent;
            start = true;
        }
        if (!start)
            column += fprintf (out, " ");
        column += fprintf (out, "%.*s", length, cursor);
        start = false;
        cursor += length;
    }
    fprintf (out, "\n");
}

//  "--name VALUE" as a command's usage shows it.
static void
s_synopsis (const s_token_t *token, char *text, size_t size)
{
    const char *value = *token->value? token->value: token->option->value;
    bool flag = token->option->kind == CP_CLI_FLAG || !value;
    //  A table's names are short; one past size is cut, and the help says less.
    int length = snprintf (text, size, flag? "--%s": "--%s %s", token->name, flag? "": value);
    if (length < 0)
        *text = 0;
}

//  The usage line of a command: program, words, options, operands.
static void
s_usage_line (FILE *out, const cp_cli_program_t *program, const cp_cli_command_t *command)
{
    s_token_t tokens [S_TOKENS_MAX];
    size_t count = s_tokens (program, command, tokens);
    char line [4096];
    size_t used = (size_t) snprintf (line, sizeof line, "%s%s%s", program->name,
                                     *command->name? " ": "", command->name);
    int indent = (int) used + 8;
    for (size_t index = 0; index < count && used < sizeof line; index++) {
        char synopsis [S_NAME_MAX + S_VALUE_MAX + 8];
        s_synopsis (&tokens [index], synopsis, sizeof synopsis);
        //  A non-breaking form: the wrapper breaks at spaces only, so the
        //  value stays with its flag through a byte we turn back below.
        for (char *space = synopsis; (space = strchr (space, ' ')); )
            *space = '\x1f';
        used += (size_t) snprintf (line + used, sizeof line - used,
                                   tokens [index].mark? " %s": " [%s]", synopsis);
    }
    if (command->operands && used < sizeof line)
        snprintf (line + used, sizeof line - used, " %s", command->operands);
    if (indent > 40)
        indent = 16;
    //  Wrap into a buffer, then turn the joining bytes back into spaces.
    char *buffer = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&buffer, &size);
    assert (memory);
    fprintf (memory, "usage: ");
    s_wrap (memory, line, 7, indent);
    fclose (memory);
    for (char *cursor = buffer; *cursor; cursor++)
        if (*cursor == '\x1f')
            *cursor = ' ';
    fputs (buffer, out);
    free (buffer);
}

static void
s_command_help (FILE *out, const cp_cli_program_t *program, const cp_cli_command_t *command)
{
    s_usage_line (out, program, command);
    fprintf (out, "\n");
    s_wrap (out, command->summary, 0, 0);
    if (command->help) {
        fprintf (out, "\n");
        s_wrap (out, command->help, 0, 0);
    }
    s_token_t tokens [S_TOKENS_MAX];
    size_t count = s_tokens (program, command, tokens);
    fprintf (out, "\noptions:\n");
    for (size_t index = 0; index < count; index++) {
        const cp_cli_option_t *option = tokens [index].option;
        char synopsis [S_NAME_MAX + S_VALUE_MAX + 8];
        s_synopsis (&tokens [index], synopsis, sizeof synopsis);
        char help [512];
        snprintf (help, sizeof help, "%s%s", option->help,
                  tokens [index].mark? " (needed)": "");
        if (option->kind == CP_CLI_INTEGER) {
            size_t used = strlen (help);
            snprintf (help + used, sizeof help - used, " (a whole number, %lld to %lld)",
                      option->min, option->max);
        }
        if (strlen (synopsis) > 24)
            fprintf (out, "  %s\n%28s", synopsis, "");
        else
            fprintf (out, "  %-26s", synopsis);
        s_wrap (out, help, 28, 28);
    }
    fprintf (out, "  %-26s%s\n", "-h, --help", "show this help and exit");
}

//  The commands of program, or the subcommands of the command word given.
static void
s_list (FILE *out, const cp_cli_program_t *program, const char *word, size_t length)
{
    int width = 0;
    for (const cp_cli_command_t *command = program->commands; command->name; command++)
        if ((int) strlen (command->name) > width)
            width = (int) strlen (command->name);
    for (const cp_cli_command_t *command = program->commands; command->name; command++) {
        if (word && (s_word (command->name) != length
                     || memcmp (command->name, word, length) != 0))
            continue;
        int column = fprintf (out, "  %-*s  ", width, command->name);
        s_wrap (out, command->summary, column, column);
    }
}

static void
s_program_help (FILE *out, const cp_cli_program_t *program)
{
    if (!*program->commands [0].name) {
        s_command_help (out, program, &program->commands [0]);
        if (program->help) {
            fprintf (out, "\n");
            s_wrap (out, program->help, 0, 0);
        }
        return;
    }
    fprintf (out, "usage: %s COMMAND [OPTIONS] [OPERANDS]\n\n", program->name);
    s_wrap (out, program->summary, 0, 0);
    fprintf (out, "\ncommands:\n");
    s_list (out, program, NULL, 0);
    fprintf (out, "\n");
    if (program->help) {
        s_wrap (out, program->help, 0, 0);
        fprintf (out, "\n");
    }
    char line [256];
    snprintf (line, sizeof line, "Run '%s COMMAND --help' for a command's options.",
              program->name);
    s_wrap (out, line, 0, 0);
}

static void
s_parent_help (FILE *out, const cp_cli_program_t *program, const char *word, size_t length)
{
    fprintf (out, "usage: %s %.*s SUBCOMMAND [OPTIONS]\n\nsubcommands:\n", program->name,
             (int) length, word);
    s_list (out, program, word, length);
    fprintf (out, "\nRun '%s %.*s SUBCOMMAND --help' for its options.\n", program->name,
             (int) length, word);
}

//  =====================================================================
//  Parsing

int
cp_cli_usage_error (const char *program, const char *command, const char *message)
{
    bool named = command && *command;
    const char *name = program? program: "cpsync";
    fprintf (stderr, "%s%s%s: %s; see '%s%s%s --help'\n", name, named? " ": "",
             named? command: "", message, name, named? " ": "", named? command: "");
    return CP_CLI_EXIT_USAGE;
}

//  Formats a usage error of the command being parsed; returns NULL with
//  *exit_code set, for the parser's failure paths.
static cp_cli_t *
s_refuse (cp_cli_t **self_p, int *exit_code, const char *format, ...)
{
    cp_cli_t *self = *self_p;
    char message [512];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof message, format, args);
    va_end (args);
    cp_cli_usage_error (self->program->name, self->command? self->command->name: NULL,
                        message);
    cp_cli_destroy (self_p);
    *exit_code = CP_CLI_EXIT_USAGE;
    return NULL;
}

//  A whole number, strictly: an optional '-', then digits only, within
//  the option's range.  Returns 0, or -1.
static int
s_integer (const cp_cli_option_t *option, const char *text, long long *value)
{
    const char *digits = text [0] == '-'? text + 1: text;
    size_t length = strlen (digits);
    if (length == 0 || strspn (digits, "0123456789") != length)
        return -1;
    unsigned long long number = 0;
    for (size_t index = 0; index < length; index++) {
        unsigned digit = (unsigned) (digits [index] - '0');
        if (number > (9223372036854775807ULL - digit) / 10)
            return -1;              //  past 64 bits: past any range
        number = number * 10 + digit;
    }
    long long signed_number = text [0] == '-'? -(long long) number: (long long) number;
    if (signed_number < option->min || signed_number > option->max)
        return -1;
    *value = signed_number;
    return 0;
}

//  Finds the command argv names: its first word, then a subcommand when
//  the table has some.  Prints help or an error when it cannot.
static const cp_cli_command_t *
s_find_command (const cp_cli_program_t *program, int argc, char **argv, int *next,
                int *exit_code)
{
    if (!*program->commands [0].name) {
        *next = 1;
        return &program->commands [0];
    }
    if (argc < 2) {
        fprintf (stderr, "%s: a command is needed\n\n", program->name);
        s_program_help (stderr, program);
        *exit_code = CP_CLI_EXIT_USAGE;
        return NULL;
    }
    const char *word = argv [1];
    if (s_is_help (word)) {
        s_program_help (stdout, program);
        *exit_code = 0;
        return NULL;
    }
    size_t length = strlen (word);
    const cp_cli_command_t *found = NULL;
    bool parent = false;
    for (const cp_cli_command_t *command = program->commands; command->name; command++)
        if (s_word (command->name) == length && memcmp (command->name, word, length) == 0) {
            found = command;
            parent = command->name [length] == ' ';
            break;
        }
    if (!found) {
        char message [256];
        snprintf (message, sizeof message, "'%.60s' is not a command", word);
        cp_cli_usage_error (program->name, NULL, message);
        *exit_code = CP_CLI_EXIT_USAGE;
        return NULL;
    }
    *next = 2;
    if (!parent)
        return found;
    if (argc > 2)
        for (const cp_cli_command_t *command = found; command->name; command++)
            if (s_word (command->name) == length && memcmp (command->name, word, length) == 0
            &&  strcmp (command->name + length + 1, argv [2]) == 0) {
                *next = 3;
                return command;
            }
    //  No subcommand: help when asked anywhere, else what it takes.
    for (int index = 2; index < argc && strcmp (argv [index], "--"); index++)
        if (s_is_help (argv [index])) {
            s_parent_help (stdout, program, word, length);
            *exit_code = 0;
            return NULL;
        }
    char message [512], list [256] = "";
    size_t used = 0, total = 0, seen = 0;
    for (const cp_cli_command_t *command = found; command->name; command++)
        if (s_word (command->name) == length && memcmp (command->name, word, length) == 0)
            total++;
    for (const cp_cli_command_t *command = found; command->name && used < sizeof list;
         command++)
        if (s_word (command->name) == length && memcmp (command->name, word, length) == 0) {
            seen++;
            used += (size_t) snprintf (list + used, sizeof list - used, "%s%s",
                                       seen == 1? "": seen == total? " or ": ", ",
                                       command->name + length + 1);
        }
    if (argc > 2 && argv [2][0] != '-')
        snprintf (message, sizeof message, "'%.60s' is not a subcommand: %s takes %s",
                  argv [2], word, list);
    else
        snprintf (message, sizeof message, "%s takes %s", word, list);
    cp_cli_usage_error (program->name, word, message);
    *exit_code = CP_CLI_EXIT_USAGE;
    return NULL;
}

cp_cli_t *
cp_cli_parse (const cp_cli_program_t *program, int argc, char **argv, int *exit_code)
{
    assert (program && program->commands && exit_code);
    int next = 0;
    const cp_cli_command_t *command = s_find_command (program, argc, argv, &next, exit_code);
    if (!command)
        return NULL;
    //  Help anywhere before "--" wins over every error in the line.
    for (int index = next; index < argc && strcmp (argv [index], "--"); index++)
        if (s_is_help (argv [index])) {
            s_command_help (stdout, program, command);
            if (!*command->name && program->help) {
                fprintf (stdout, "\n");
                s_wrap (stdout, program->help, 0, 0);
            }
            *exit_code = 0;
            return NULL;
        }

    cp_cli_t *self = calloc (1, sizeof (cp_cli_t));
    assert (self);
    self->program = program;
    self->command = command;
    while (program->options [self->options].name)
        self->options++;
    self->values = calloc (self->options + 1, sizeof (char *));
    self->given = calloc (self->options + 1, sizeof (bool));
    self->operands = calloc ((size_t) argc + 1, sizeof (char *));
    assert (self->values && self->given && self->operands);
    s_token_t tokens [S_TOKENS_MAX];
    size_t count = s_tokens (program, command, tokens);
    const char *name = *command->name? command->name: program->name;

    bool options_end = false;
    for (int index = next; index < argc; index++) {
        char *arg = argv [index];
        if (options_end || arg [0] != '-' || strcmp (arg, "-") == 0) {
            if (self->operand_count >= command->operands_max) {
                if (command->operands_max == 0)
                    return s_refuse (&self, exit_code, "'%.60s' is not an option; %s takes "
                                     "no operand", arg, name);
                return s_refuse (&self, exit_code, "'%.60s' is one operand too many: %s "
                                 "takes %s", arg, name, command->operands);
            }
            self->operands [self->operand_count++] = arg;
            continue;
        }
        if (strcmp (arg, "--") == 0) {
            options_end = true;
            continue;
        }
        if (arg [1] != '-')
            return s_refuse (&self, exit_code, "%.60s is not an option of %s (options are "
                             "spelt --name)", arg, name);
        const char *option_name = arg + 2;
        const char *equals = strchr (option_name, '=');
        size_t length = equals? (size_t) (equals - option_name): strlen (option_name);
        const s_token_t *token = s_token_find (tokens, count, option_name, length);
        if (!token)
            return s_refuse (&self, exit_code, "--%.*s is not an option of %s", (int) length,
                             option_name, name);
        const cp_cli_option_t *option = token->option;
        size_t slot = (size_t) (option - program->options);
        const char *value = NULL;
        if (option->kind == CP_CLI_FLAG) {
            if (equals)
                return s_refuse (&self, exit_code, "--%s takes no value", option->name);
        }
        else
        if (equals)
            value = equals + 1;
        else
        if (index + 1 < argc)
            value = argv [++index];
        else
            return s_refuse (&self, exit_code, "--%s needs a value (%s)", option->name,
                             *token->value? token->value: option->value);
        if (option->kind == CP_CLI_INTEGER) {
            long long number;
            if (s_integer (option, value, &number))
                return s_refuse (&self, exit_code, "--%s must be a whole number from %lld to "
                                 "%lld, not '%.40s'", option->name, option->min, option->max,
                                 value);
        }
        self->values [slot] = value;
        self->given [slot] = true;
    }
    for (size_t index = 0; index < count; index++)
        if (tokens [index].mark == '!'
        &&  !self->given [tokens [index].option - program->options]) {
            char synopsis [S_NAME_MAX + S_VALUE_MAX + 8];
            s_synopsis (&tokens [index], synopsis, sizeof synopsis);
            return s_refuse (&self, exit_code, "%s needs %s", name, synopsis);
        }
    return self;
}

void
cp_cli_destroy (cp_cli_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_cli_t *self = *self_p;
    free (self->values);
    free (self->given);
    free (self->operands);
    free (self);
    *self_p = NULL;
}

const char *
cp_cli_command (cp_cli_t *self)
{
    assert (self);
    return self->command->name;
}

//  The slot of an option; a name not in the table is our own mistake.
static size_t
s_slot (cp_cli_t *self, const char *name)
{
    const cp_cli_option_t *option = s_option (self->program, name, strlen (name));
    assert (option);
    return (size_t) (option - self->program->options);
}

const char *
cp_cli_text (cp_cli_t *self, const char *name)
{
    assert (self);
    return self->values [s_slot (self, name)];
}

long long
cp_cli_integer (cp_cli_t *self, const char *name, long long absent)
{
    assert (self);
    size_t slot = s_slot (self, name);
    assert (self->program->options [slot].kind == CP_CLI_INTEGER);
    //  Checked by the parser: it converts.
    return self->values [slot]? strtoll (self->values [slot], NULL, 10): absent;
}

bool
cp_cli_given (cp_cli_t *self, const char *name)
{
    assert (self);
    return self->given [s_slot (self, name)];
}

char **
cp_cli_operands (cp_cli_t *self, int *count)
{
    assert (self);
    if (count)
        *count = self->operand_count;
    return self->operands;
}

//  =====================================================================
//  Progress

cp_cli_progress_t *
cp_cli_progress_new (const char *label)
{
    if (!isatty (STDERR_FILENO))
        return NULL;
    cp_cli_progress_t *self = calloc (1, sizeof (cp_cli_progress_t));
    assert (self);
    self->label = label;
    return self;
}

void
cp_cli_progress_show (cp_cli_progress_t *self, uint64_t done, uint64_t total, const char *unit)
{
    if (!self)
        return;
    int64_t now = s_now_ms ();
    if (self->shown && now - self->shown < 250 && done != total)
        return;
    self->shown = now;
    if (total)
        fprintf (stderr, "\r%s: %llu of %llu %s (%.0f%%)\x1b[K", self->label,
                 (unsigned long long) done, (unsigned long long) total, unit,
                 100.0 * (double) done / (double) total);
    else
        fprintf (stderr, "\r%s: %llu %s\x1b[K", self->label, (unsigned long long) done, unit);
    fflush (stderr);
}

void
cp_cli_progress_clear (cp_cli_progress_t *self)
{
    if (!self || !self->shown)
        return;
    fprintf (stderr, "\r\x1b[K");
    fflush (stderr);
    self->shown = 0;
}

void
cp_cli_progress_destroy (cp_cli_progress_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_cli_progress_clear (*self_p);
    free (*self_p);
    *self_p = NULL;
}
