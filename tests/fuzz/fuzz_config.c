/*  fuzz_config: libFuzzer target for the daemons' configuration files
    (cp_config_parse), the one decoder an operator's editor feeds.

    Each input is parsed against a table of every kind of key (text,
    bool, number, level): the keys of the three daemons' files.  The promises: a file refused yields no entry and says
    why; a file taken yields only keys of the table, each once, with a
    value of its kind (a bool as "true" or "false", a level one of the
    names, a number in its range, text without control characters), and
    never more than CP_CONFIG_ENTRIES_MAX.  A broken promise aborts, and
    so does a sanitizer's report, so the fuzzer keeps the input.

    The saved corpus (corpus/config) starts from the example files of
    dist/ and damaged ones.  replay.c runs it as an ordinary test.        */

#include "fuzzing.h"
#include "cp_config.h"
#include "cp_error.h"
#include "cp_log.h"

#include <string.h>

static const cp_config_key_t s_keys [] = {
    {"data", CP_CONFIG_TEXT, 0, 0},
    {"central", CP_CONFIG_TEXT, 0, 0},
    {"verbose", CP_CONFIG_BOOL, 0, 0},
    {"token-ttl", CP_CONFIG_NUMBER, 1, 2592000},
    {"log-level", CP_CONFIG_LEVEL, 0, 0},
    {"listen", CP_CONFIG_TEXT, 0, 0},
    {"http", CP_CONFIG_TEXT, 0, 0},
    {"tls-cert", CP_CONFIG_TEXT, 0, 0},
    {"tls-key", CP_CONFIG_TEXT, 0, 0},
    {"metrics-dir", CP_CONFIG_TEXT, 0, 0},
};
#define S_KEYS (sizeof s_keys / sizeof s_keys [0])

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static cp_config_entry_t entries [CP_CONFIG_ENTRIES_MAX];
    size_t count = 99;
    char why [CP_CONFIG_VALUE_MAX + 512] = "";
    int rc = cp_config_parse ((const char *) data, size, "fuzz.cfg", s_keys, S_KEYS, entries,
                              &count, why, sizeof why);
    if (rc && (count || !*why))
        fuzzing_fail ("a refused file yields entries, or does not say why");
    if (rc && rc != CP_EMALFORMED && rc != CP_ETOOBIG)
        fuzzing_fail ("a refusal that is not CP_EMALFORMED or CP_ETOOBIG");
    if (count > CP_CONFIG_ENTRIES_MAX)
        fuzzing_fail ("more entries than the limit");
    for (size_t index = 0; index < count && !rc; index++) {
        const cp_config_entry_t *entry = &entries [index];
        const cp_config_key_t *key = NULL;
        for (size_t known = 0; known < S_KEYS; known++)
            if (strcmp (s_keys [known].key, entry->key) == 0)
                key = &s_keys [known];
        if (!key)
            fuzzing_fail ("a key not in the table was taken");
        for (size_t other = 0; other < index; other++)
            if (strcmp (entries [other].key, entry->key) == 0)
                fuzzing_fail ("a key was taken twice");
        if (!*entry->value)
            fuzzing_fail ("an empty value was taken");
        for (const char *at = entry->value; *at; at++)
            if ((unsigned char) *at < 0x20 || *at == 0x7f)
                fuzzing_fail ("a value with a control character was taken");
        if (key->kind == CP_CONFIG_BOOL && strcmp (entry->value, "true")
        &&  strcmp (entry->value, "false"))
            fuzzing_fail ("a bool that is not true or false");
        if (key->kind == CP_CONFIG_LEVEL && cp_log_level_parse (entry->value) < 0)
            fuzzing_fail ("a level that is not a level");
        if (key->kind == CP_CONFIG_NUMBER) {
            char *end;
            long number = strtol (entry->value, &end, 10);
            if (*end || number < key->min || number > key->max)
                fuzzing_fail ("a number out of its range");
        }
    }
    return 0;
}
