/*  central_accounts: the accounts of the central's HTTP face (see the
    header).

    The file is small (an account is some 200 bytes), so it is read and
    written whole.  Every account read is checked as one being added is
    (name, role, scope), so a hand-edited file with a county account of an
    unknown county is refused whole, not half applied.                     */

#include "central_accounts.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_FILE_MAX (16 << 20)   //  bytes of accounts.json, at most

struct _central_accounts_t {
    char *dir;                      //  the central's data directory
    central_account_t *accounts;    //  in the order of the file
    size_t count;
    size_t allocated;
};

static const char *s_roles [] = {"operator", "county", "municipality", "public"};

const char *
central_role_name (central_role_t role)
{
    assert (role >= CENTRAL_ROLE_OPERATOR && role <= CENTRAL_ROLE_PUBLIC);
    return s_roles [role];
}

int
central_account_check (central_account_t *account, const char *name, const char *role,
                 const char *scope, char *why, size_t why_size)
{
    size_t length = name? strnlen (name, CENTRAL_ACCOUNT_NAME): 0;
    if (length == 0 || length >= CENTRAL_ACCOUNT_NAME || !cp_event_id_valid (name, length))
        return cp_error_why (CP_EUSAGE, why, why_size,
                             "a name is 1 to 64 characters of [A-Za-z0-9_.:-]");
    int kind = -1;
    for (int index = 0; role && index < 4; index++)
        if (streq (role, s_roles [index]))
            kind = index;
    if (kind < 0)
        return cp_error_why (CP_EUSAGE, why, why_size,
                             "a role is operator, county, municipality or public");
    memset (account, 0, sizeof *account);
    memcpy (account->name, name, length);
    account->role = (central_role_t) kind;
    account->scope = (cp_scope_t) {CP_SCOPE_NATIONAL, 0};
    bool scoped = kind == CENTRAL_ROLE_COUNTY || kind == CENTRAL_ROLE_MUNICIPALITY;
    if (!scoped)
        return scope && !streq (scope, "national")
             ? cp_error_why (CP_EUSAGE, why, why_size, "the %s role takes no scope", role): 0;
    cp_scope_t parsed;
    cp_scope_kind_t needed = kind == CENTRAL_ROLE_COUNTY? CP_SCOPE_COUNTY: CP_SCOPE_MUNICIPALITY;
    if (!scope || cp_scope_parse (scope, &parsed) || parsed.kind != needed)
        return cp_error_why (CP_EUSAGE, why, why_size,
                             "the %s role needs --scope %s:CODE of a known %s", role, role, role);
    account->scope = parsed;
    return 0;
}

int
central_account_make (central_account_t *account, const char *name, const char *role,
                      const char *scope, const char *password, char *why, size_t why_size)
{
    int rc = central_account_check (account, name, role, scope, why, why_size);
    if (rc)
        return rc;
    size_t length = strnlen (password, CENTRAL_PASSWORD_MAX + 1);
    if (length < CENTRAL_PASSWORD_MIN || length > CENTRAL_PASSWORD_MAX)
        return cp_error_why (CP_EUSAGE, why, why_size, "a password is %d to %d characters",
                             CENTRAL_PASSWORD_MIN, CENTRAL_PASSWORD_MAX);
    if (crypto_pwhash_str (account->hash, password, length,
                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE))
        return cp_error_why (CP_EIO, why, why_size, "out of memory to hash the password");
    cp_date_format_instant (zclock_time (), account->created, sizeof account->created);
    return 0;
}

//  One verification at a time: each takes the hash's memory (64 MiB at
//  crypto_pwhash_MEMLIMIT_INTERACTIVE), and the API's threads would
//  otherwise let as many concurrent logins, unauthenticated, take that
//  many times it.
static pthread_mutex_t s_verifying = PTHREAD_MUTEX_INITIALIZER;

bool
central_account_verify (const central_account_t *account, const char *password)
{
    pthread_mutex_lock (&s_verifying);
    bool verified = crypto_pwhash_str_verify (account->hash, password,
                                              strnlen (password, CENTRAL_PASSWORD_MAX + 1)) == 0;
    pthread_mutex_unlock (&s_verifying);
    return verified;
}

bool
central_account_may_see (const central_account_t *account, const cp_scope_t *scope)
{
    switch (account->role) {
        case CENTRAL_ROLE_OPERATOR:
        case CENTRAL_ROLE_PUBLIC:
            return true;
        case CENTRAL_ROLE_COUNTY:
            if (scope->kind == CP_SCOPE_COUNTY)
                return scope->index == account->scope.index;
            return scope->kind == CP_SCOPE_MUNICIPALITY
                && cp_municipality_county (scope->index) == account->scope.index;
        case CENTRAL_ROLE_MUNICIPALITY:
            return scope->kind == CP_SCOPE_MUNICIPALITY && scope->index == account->scope.index;
    }
    return false;
}

//  =====================================================================
//  The set and its file

static char *
s_path (const char *dir, const char *name)
{
    char *path = zsys_sprintf ("%s/%s", dir, name);
    assert (path);
    return path;
}

//  One account of the file, checked as an account being added is.
static int
s_account_decode (json_t *item, central_account_t *account, char *why, size_t why_size)
{
    const char *name = json_string_value (json_object_get (item, "name"));
    const char *role = json_string_value (json_object_get (item, "role"));
    json_t *scope = json_object_get (item, "scope");
    const char *hash = json_string_value (json_object_get (item, "hash"));
    const char *created = json_string_value (json_object_get (item, "created"));
    if (!json_is_object (item) || !name || !role || !hash || !created
    || !(json_is_null (scope) || json_is_string (scope)))
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "an account is {name, role, scope, hash, created}");
    if (central_account_check (account, name, role, json_string_value (scope), why, why_size))
        return CP_EMALFORMED;
    if (strlen (hash) >= sizeof account->hash || strlen (created) >= sizeof account->created
    ||  strncmp (hash, crypto_pwhash_STRPREFIX, strlen (crypto_pwhash_STRPREFIX)))
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "account %s: not an Argon2id hash", name);
    strcpy (account->hash, hash);
    strcpy (account->created, created);
    return 0;
}

central_accounts_t *
central_accounts_new (const char *dir)
{
    central_accounts_t *self = calloc (1, sizeof *self);
    assert (self);
    self->dir = strdup (dir);
    assert (self->dir);
    return self;
}

central_accounts_t *
central_accounts_load (const char *dir, int *error, char *why, size_t why_size)
{
    central_accounts_t *self = central_accounts_new (dir);
    *error = 0;
    char *path = s_path (dir, CENTRAL_ACCOUNTS_FILE);
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    zstr_free (&path);
    if (fd < 0 && errno == ENOENT)
        return self;
    struct stat status;
    char *text = NULL;
    ssize_t size = 0;
    if (fd < 0 || fstat (fd, &status) || !S_ISREG (status.st_mode) || status.st_size > S_FILE_MAX)
        *error = cp_error_why (CP_EIO, why, why_size, "%s/%s cannot be read", dir,
                               CENTRAL_ACCOUNTS_FILE);
    else
    if (status.st_mode & 077)
        *error = cp_error_why (CP_EINSECURE, why, why_size,
                               "%s/%s may be read by others than its owner (chmod 600 it)",
                               dir, CENTRAL_ACCOUNTS_FILE);
    else {
        text = malloc ((size_t) status.st_size + 1);
        assert (text);
        size = read (fd, text, (size_t) status.st_size);
        if (size != status.st_size)
            *error = cp_error_why (CP_EIO, why, why_size, "%s/%s cannot be read", dir,
                                   CENTRAL_ACCOUNTS_FILE);
    }
    if (fd >= 0)
        close (fd);
    json_t *root = *error? NULL: json_loadb (text, (size_t) size, 0, NULL);
    free (text);
    if (!*error && (!json_is_array (root) || json_array_size (root) > CENTRAL_ACCOUNTS_MAX))
        *error = cp_error_why (CP_EMALFORMED, why, why_size, "%s/%s is not a JSON array of "
                               "accounts", dir, CENTRAL_ACCOUNTS_FILE);
    size_t index;
    json_t *item;
    json_array_foreach (root, index, item) {
        if (*error)
            break;
        central_account_t account;
        *error = s_account_decode (item, &account, why, why_size);
        if (*error == 0 && central_accounts_add (self, &account))
            *error = cp_error_why (CP_EMALFORMED, why, why_size, "account %s twice",
                                   account.name);
    }
    json_decref (root);
    if (*error)
        central_accounts_destroy (&self);
    return self;
}

void
central_accounts_destroy (central_accounts_t **self_p)
{
    assert (self_p);
    central_accounts_t *self = *self_p;
    if (self) {
        free (self->dir);
        free (self->accounts);
        free (self);
        *self_p = NULL;
    }
}

int
central_accounts_save (central_accounts_t *self)
{
    json_t *root = json_array ();
    for (size_t index = 0; index < self->count; index++) {
        const central_account_t *account = &self->accounts [index];
        char scope [CP_SCOPE_MAX];
        cp_scope_format (&account->scope, scope);
        bool scoped = account->role == CENTRAL_ROLE_COUNTY
                   || account->role == CENTRAL_ROLE_MUNICIPALITY;
        json_array_append_new (root, json_pack ("{s:s, s:s, s:o, s:s, s:s}",
                               "name", account->name, "role", central_role_name (account->role),
                               "scope", scoped? json_string (scope): json_null (),
                               "hash", account->hash, "created", account->created));
    }
    //  json_dumpb into our own malloc: jansson's allocator is not malloc's (cp_process).
    size_t size = json_dumpb (root, NULL, 0, JSON_INDENT (2));
    char *text = malloc (size + 1);
    assert (size && text);
    json_dumpb (root, text, size, JSON_INDENT (2));
    json_decref (root);
    text [size] = '\n';
    char *path = s_path (self->dir, CENTRAL_ACCOUNTS_FILE);
    char *temp = s_path (self->dir, CENTRAL_ACCOUNTS_FILE ".new");
    //  The temp file is made 0600 before a byte is written, whatever the umask.
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool written = fd >= 0 && fchmod (fd, 0600) == 0
                && write (fd, text, size + 1) == (ssize_t) size + 1 && fsync (fd) == 0;
    if (fd >= 0 && close (fd))
        written = false;
    written = written && rename (temp, path) == 0;
    if (!written)
        unlink (temp);
    else {
        int dir = open (self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            fsync (dir);
            close (dir);
        }
    }
    free (text);
    zstr_free (&path);
    zstr_free (&temp);
    return written? 0: CP_EIO;
}

size_t
central_accounts_size (central_accounts_t *self)
{
    return self->count;
}

const central_account_t *
central_accounts_at (central_accounts_t *self, size_t index)
{
    assert (index < self->count);
    return &self->accounts [index];
}

const central_account_t *
central_accounts_find (central_accounts_t *self, const char *name)
{
    for (size_t index = 0; index < self->count; index++)
        if (streq (self->accounts [index].name, name))
            return &self->accounts [index];
    return NULL;
}

int
central_accounts_add (central_accounts_t *self, const central_account_t *account)
{
    if (central_accounts_find (self, account->name))
        return CP_EEXISTS;
    if (self->count >= CENTRAL_ACCOUNTS_MAX)
        return CP_EUSAGE;
    if (self->count == self->allocated) {
        self->allocated = self->allocated? self->allocated * 2: 8;
        self->accounts = realloc (self->accounts, self->allocated * sizeof *self->accounts);
        assert (self->accounts);
    }
    self->accounts [self->count++] = *account;
    return 0;
}

int
central_accounts_remove (central_accounts_t *self, const char *name)
{
    const central_account_t *account = central_accounts_find (self, name);
    if (!account)
        return CP_EUSAGE;
    size_t index = (size_t) (account - self->accounts);
    memmove (&self->accounts [index], &self->accounts [index + 1],
             (self->count - index - 1) * sizeof *self->accounts);
    self->count--;
    return 0;
}
