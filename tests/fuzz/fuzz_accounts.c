/*  fuzz_accounts: libFuzzer target for the central's accounts.json
    (central_accounts_load), the file `cpsync-central user` writes and an
    operator may edit, which the HTTP API reads again whenever it changes.

    Each input is written as DIR/accounts.json (mode 0600) and loaded.
    The promises: a file refused gives no accounts, says why and fails
    with CP_EMALFORMED (or CP_EIO for one over the size limit); a file
    taken gives accounts whose names, roles and scopes central_account_check
    passes again, each name once, each hash an Argon2id string within its
    field; and saved and loaded again they are the same accounts, field by
    field.  A broken promise aborts, and so does a sanitizer's report, so
    the fuzzer keeps the input.

    The saved corpus (corpus/accounts) holds a file of every role as
    `cpsync-central user add` writes it, and copies with one thing wrong
    (a name twice, a role or scope that does not exist, a scope the role
    may not have, a hash that is not Argon2id, a field missing or of
    another type, not an array).  replay.c runs it as an ordinary test.  */

#include "fuzzing.h"
#include "central_accounts.h"
#include "cp_error.h"
#include "cp_municipality.h"

#include <czmq.h>
#include <fcntl.h>
#include <unistd.h>

static char s_dir [128];

static void
s_cleanup (void)
{
    fuzzing_remove_tree (s_dir);
}

static void
s_write (const uint8_t *data, size_t size)
{
    char path [256];
    snprintf (path, sizeof path, "%s/%s", s_dir, CENTRAL_ACCOUNTS_FILE);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write (fd, data, size) != (ssize_t) size) || close (fd))
        fuzzing_fail ("cannot write accounts.json");
}

static bool
s_same (const central_account_t *a, const central_account_t *b)
{
    return strcmp (a->name, b->name) == 0 && a->role == b->role
        && a->scope.kind == b->scope.kind && a->scope.index == b->scope.index
        && strcmp (a->hash, b->hash) == 0 && strcmp (a->created, b->created) == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_dir [0]) {
        if (!getenv ("FUZZ_VERBOSE"))
            zsys_set_logstream (NULL);
        const char *base = access ("/dev/shm", W_OK) == 0? "/dev/shm": "/tmp";
        snprintf (s_dir, sizeof s_dir, "%s/fuzz_accounts-XXXXXX", base);
        if (!mkdtemp (s_dir))
            fuzzing_fail ("cannot make a scratch directory");
        atexit (s_cleanup);
    }
    s_write (data, size);
    int error = 0;
    char why [256] = "";
    central_accounts_t *accounts = central_accounts_load (s_dir, &error, why, sizeof why);
    if (!accounts) {
        if (error != CP_EMALFORMED && error != CP_EIO)
            fuzzing_fail ("refused with a stray code");
        if (!why [0])
            fuzzing_fail ("refused without saying why");
        return 0;
    }
    if (error)
        fuzzing_fail ("accounts given with an error");
    size_t count = central_accounts_size (accounts);
    for (size_t index = 0; index < count; index++) {
        const central_account_t *account = central_accounts_at (accounts, index);
        char scope [CP_SCOPE_MAX];
        cp_scope_format (&account->scope, scope);
        central_account_t again;
        memset (&again, 0, sizeof again);
        if (central_account_check (&again, account->name, central_role_name (account->role),
                                   scope, why, sizeof why))
            fuzzing_fail ("an account taken that its own check refuses");
        if (again.role != account->role || again.scope.kind != account->scope.kind
        ||  again.scope.index != account->scope.index)
            fuzzing_fail ("an account's role or scope reads back otherwise");
        if (strnlen (account->hash, sizeof account->hash) == sizeof account->hash
        ||  strnlen (account->created, sizeof account->created) == sizeof account->created
        ||  strncmp (account->hash, crypto_pwhash_STRPREFIX, strlen (crypto_pwhash_STRPREFIX)))
            fuzzing_fail ("a hash or time outside its field, or not Argon2id");
        if (central_accounts_find (accounts, account->name) != account)
            fuzzing_fail ("a name taken twice");
    }
    //  Saved and read again: the same accounts.
    if (central_accounts_save (accounts))
        fuzzing_fail ("accounts taken do not save");
    central_accounts_t *back = central_accounts_load (s_dir, &error, why, sizeof why);
    if (!back || central_accounts_size (back) != count)
        fuzzing_fail ("saved accounts do not load again");
    for (size_t index = 0; index < count; index++)
        if (!s_same (central_accounts_at (accounts, index), central_accounts_at (back, index)))
            fuzzing_fail ("an account changed through save and load");
    central_accounts_destroy (&back);
    central_accounts_destroy (&accounts);
    return 0;
}
