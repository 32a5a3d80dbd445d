/*  cp_config: see the header.

    zconfig parses the text; this module checks what it made against the
    caller's table.  zconfig keeps no line numbers, so a key's line is
    found again in the text (the first line that starts with it), only
    to say where a refused key is.                                        */

#include "cp_config.h"
#include "cp_error.h"
#include "cp_file.h"
#include "cp_log.h"

#include <czmq.h>
#include <signal.h>

//  The line of text where key is first given, or 0.
static int
s_line_of (const char *text, const char *key)
{
    size_t length = strlen (key);
    int line = 1;
    for (const char *at = text; *at; line++) {
        const char *start = at + strspn (at, " \t");
        if (strncmp (start, key, length) == 0 && strchr (" \t=#\r\n", start [length]))
            return line;
        const char *next = strchr (at, '\n');
        if (!next)
            break;
        at = next + 1;
    }
    return 0;
}

static const char *
s_bool_value (const char *value)
{
    static const char *trues [] = {"true", "yes", "on", "1"};
    static const char *falses [] = {"false", "no", "off", "0"};
    for (size_t index = 0; index < 4; index++) {
        if (streq (value, trues [index]))
            return "true";
        if (streq (value, falses [index]))
            return "false";
    }
    return NULL;
}

//  Checks value against its key's kind; NULL, or what is wrong with it.
static const char *
s_value_wrong (const cp_config_key_t *key, const char *value)
{
    if (!*value)
        return "it has no value";
    if (strlen (value) > CP_CONFIG_VALUE_MAX)
        return "its value is too long";
    for (const char *at = value; *at; at++)
        if ((unsigned char) *at < 0x20 || *at == 0x7f)
            return "its value holds a control character";
    if (key->kind == CP_CONFIG_BOOL && !s_bool_value (value))
        return "it must be true or false";
    if (key->kind == CP_CONFIG_LEVEL && cp_log_level_parse (value) < 0)
        return "it must be one of " CP_LOG_LEVELS;
    if (key->kind == CP_CONFIG_NUMBER) {
        char *end;
        errno = 0;
        long number = strtol (value, &end, 10);
        if (errno || *end || number < key->min || number > key->max)
            return "it must be a whole number in its range";
    }
    return NULL;
}

int
cp_config_parse (const char *text, size_t size, const char *name, const cp_config_key_t *keys,
                 size_t count, cp_config_entry_t *entries, size_t *entry_count, char *why,
                 size_t why_size)
{
    *entry_count = 0;
    if (size > CP_CONFIG_FILE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "%s: over %d bytes", name,
                             CP_CONFIG_FILE_MAX);
    if (memchr (text, 0, size))
        return cp_error_why (CP_EMALFORMED, why, why_size, "%s: a NUL byte: not a text file",
                             name);
    char *copy = malloc (size + 1);
    assert (copy);
    memcpy (copy, text, size);
    copy [size] = 0;
    int rc = 0;
    zconfig_t *root = zconfig_str_load (copy);
    if (!root)
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "%s: not a ZPL file (\"key = value\" "
                           "lines): it does not parse", name);
    for (zconfig_t *item = root? zconfig_child (root): NULL; item && !rc;
         item = zconfig_next (item)) {
        const char *key = zconfig_name (item);
        const char *value = zconfig_value (item);
        int line = s_line_of (copy, key);
        const cp_config_key_t *known = NULL;
        for (size_t index = 0; index < count && !known; index++)
            if (streq (keys [index].key, key))
                known = &keys [index];
        const char *wrong = !known? "not a key of this command"
                          : zconfig_child (item)? "a section: the file is flat, a key a line"
                          : s_value_wrong (known, value? value: "");
        for (size_t index = 0; index < *entry_count && !wrong; index++)
            if (streq (entries [index].key, key))
                wrong = "given twice";
        if (!wrong && *entry_count == CP_CONFIG_ENTRIES_MAX)
            wrong = "one key too many";
        if (wrong) {
            rc = cp_error_why (CP_EMALFORMED, why, why_size, "%s:%d: key '%.*s': %s", name,
                               line, CP_CONFIG_KEY_MAX, key, wrong);
            break;
        }
        cp_config_entry_t *entry = &entries [(*entry_count)++];
        snprintf (entry->key, sizeof entry->key, "%s", key);
        snprintf (entry->value, sizeof entry->value, "%s",
                  known->kind == CP_CONFIG_BOOL? s_bool_value (value): value);
        entry->line = line;
    }
    if (rc)
        *entry_count = 0;
    zconfig_destroy (&root);
    free (copy);
    return rc;
}

int
cp_config_load (const char *path, const cp_config_key_t *keys, size_t count,
                cp_config_entry_t *entries, size_t *entry_count, char *why, size_t why_size)
{
    *entry_count = 0;
    size_t size = 0;
    char reason [300] = "";
    char *text = cp_file_read (path, CP_CONFIG_FILE_MAX, &size, reason, sizeof reason);
    if (!text)
        return cp_error_why (CP_EIO, why, why_size, "%s", reason);  //  it names path
    int rc = cp_config_parse (text, size, path, keys, count, entries, entry_count, why,
                              why_size);
    free (text);
    return rc;
}

//  The command line made with a file's keys: kept until exit, as the
//  option parser's results point into it.
static char **s_argv;

int
cp_config_args (const char *program, const cp_config_key_t *keys, size_t count, int *argc,
                char ***argv, const char **path)
{
    *path = NULL;
    int found = -1, width = 0;
    for (int index = 2; index < *argc && found < 0; index++)
        if (streq ((*argv) [index], "--config")) {
            found = index;
            width = 2;
        }
        else
        if (strncmp ((*argv) [index], "--config=", 9) == 0) {
            found = index;
            width = 1;
        }
    if (found < 0)
        return 0;
    if (width == 2 && found + 1 >= *argc) {
        fprintf (stderr, "%s: --config needs a FILE\n", program);
        return -1;
    }
    *path = width == 2? (*argv) [found + 1]: (*argv) [found] + 9;
    cp_config_entry_t *entries = calloc (CP_CONFIG_ENTRIES_MAX, sizeof *entries);
    assert (entries);
    size_t entry_count = 0;
    char why [CP_CONFIG_VALUE_MAX + 512];
    if (cp_config_load (*path, keys, count, entries, &entry_count, why, sizeof why)) {
        fprintf (stderr, "%s: configuration file %s\n", program, why);
        free (entries);
        return -1;
    }
    //  program, command, the file's options, then the given ones but --config
    int made = 0;
    char **made_argv = calloc ((size_t) *argc + 2 * entry_count + 1, sizeof (char *));
    assert (made_argv);
    made_argv [made++] = (*argv) [0];
    made_argv [made++] = (*argv) [1];
    for (size_t index = 0; index < entry_count; index++) {
        const cp_config_key_t *key = NULL;
        for (size_t known = 0; known < count && !key; known++)
            if (streq (keys [known].key, entries [index].key))
                key = &keys [known];
        assert (key);
        if (key->kind == CP_CONFIG_BOOL && streq (entries [index].value, "false"))
            continue;
        made_argv [made++] = zsys_sprintf ("--%s", entries [index].key);
        if (key->kind != CP_CONFIG_BOOL)
            made_argv [made++] = strdup (entries [index].value);
    }
    for (int index = 2; index < *argc; index++)
        if (index < found || index >= found + width)
            made_argv [made++] = (*argv) [index];
    free (entries);
    s_argv = made_argv;
    *argc = made;
    *argv = made_argv;
    return 0;
}

const char *
cp_config_value (int argc, char **argv, const cp_config_entry_t *entries, size_t count,
                 const char *key)
{
    const char *value = NULL;
    size_t length = strlen (key);
    for (int index = 2; index < argc; index++) {
        const char *word = argv [index];
        if (strncmp (word, "--", 2) || strncmp (word + 2, key, length))
            continue;
        if (word [2 + length] == '=')
            value = word + 3 + length;
        else
        if (word [2 + length] == 0 && index + 1 < argc)
            value = argv [++index];
    }
    for (size_t index = 0; index < count && !value; index++)
        if (streq (entries [index].key, key))
            value = entries [index].value;
    return value;
}

//  The signal's note: a handler may only set a flag of this type.
static volatile sig_atomic_t s_reload;

static void
s_on_hangup (int signal_number)
{
    (void) signal_number;
    s_reload = 1;
}

void
cp_config_catch_reload (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_hangup;
    sigemptyset (&action.sa_mask);
    sigaction (SIGHUP, &action, NULL);
}

bool
cp_config_reload_asked (void)
{
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}
