/*  central_accounts: the accounts of the central's HTTP face.

    DIR/accounts.json holds them: a JSON array of {name, role, scope, hash,
    created}.  The hash is libsodium's crypto_pwhash_str (Argon2id,
    interactive limits), never the password.  Each account has a role and
    is bound to a scope:

        operator      everything, national
        county        one county (county:CODE): its view and its
                      municipalities'
        municipality  its own (municipality:CODE)
        public        any view, but only the figures for publication

    The file is the owner's alone (mode 0600): it is written so (a temp
    file, fsync, rename) and refused when others may read it, as a secret
    key file is.  cpsync-central user add, remove and list edit it; the
    serve process reads it again whenever it changes.                      */

#ifndef CENTRAL_ACCOUNTS_H_INCLUDED
#define CENTRAL_ACCOUNTS_H_INCLUDED

#include "cp_municipality.h"

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#define CENTRAL_ACCOUNTS_FILE "accounts.json"
#define CENTRAL_ACCOUNT_NAME 65             //  64 characters of the id alphabet, NUL
#define CENTRAL_PASSWORD_MIN 12             //  characters, at least
#define CENTRAL_PASSWORD_MAX 1024           //  bytes, at most
#define CENTRAL_ACCOUNTS_MAX 10000

typedef enum {
    CENTRAL_ROLE_OPERATOR,
    CENTRAL_ROLE_COUNTY,
    CENTRAL_ROLE_MUNICIPALITY,
    CENTRAL_ROLE_PUBLIC
} central_role_t;

typedef struct {
    char name [CENTRAL_ACCOUNT_NAME];
    central_role_t role;
    cp_scope_t scope;                       //  national for operator and public
    char hash [crypto_pwhash_STRBYTES];     //  crypto_pwhash_str's, NUL-terminated
    char created [32];                      //  UTC instant, as cp_date writes it
} central_account_t;

typedef struct _central_accounts_t central_accounts_t;

//  No account, of the central in dir (nothing is read).
central_accounts_t *
    central_accounts_new (const char *dir);

//  Reads DIR/accounts.json; a missing file is no account.  Returns NULL
//  with *error: CP_EINSECURE (others may read or write it), CP_EMALFORMED
//  (not an array of valid accounts; *why says what), CP_EIO.
central_accounts_t *
    central_accounts_load (const char *dir, int *error, char *why, size_t why_size);

void
    central_accounts_destroy (central_accounts_t **self_p);

//  Writes the accounts to DIR/accounts.json, mode 0600, atomically (a
//  temp file, fsync, rename, fsync of DIR).  Returns 0 or CP_EIO.
int
    central_accounts_save (central_accounts_t *self);

size_t
    central_accounts_size (central_accounts_t *self);

//  The account at index (< size), or named name (NULL when none is).
//  Borrowed: valid until the accounts change or are destroyed.
const central_account_t *
    central_accounts_at (central_accounts_t *self, size_t index);
const central_account_t *
    central_accounts_find (central_accounts_t *self, const char *name);

//  Adds a copy of account.  Returns 0, or CP_EEXISTS when its name is
//  taken, or CP_EUSAGE past CENTRAL_ACCOUNTS_MAX.
int
    central_accounts_add (central_accounts_t *self, const central_account_t *account);

//  Removes the account named name.  Returns 0, or CP_EUSAGE when there is
//  none of that name.
int
    central_accounts_remove (central_accounts_t *self, const char *name);

//  Checks name (1-64 characters of the id alphabet), role ("operator",
//  "county", "municipality", "public") and scope (NULL or "national", or
//  "county:CODE" / "municipality:CODE" as the role needs), and fills
//  account with them (no hash yet).  Returns 0 or CP_EUSAGE with *why.
int
    central_account_check (central_account_t *account, const char *name, const char *role,
                           const char *scope, char *why, size_t why_size);

//  Makes an account: checks name, role and scope as central_account_check
//  does, and the password's length; hashes the password (slow on purpose).  Returns 0,
//  or CP_EUSAGE with *why, or CP_EIO when hashing fails (out of memory).
int
    central_account_make (central_account_t *account, const char *name, const char *role,
                          const char *scope, const char *password, char *why,
                          size_t why_size);

//  True when password is the account's.  Takes as long as hashing does.
bool
    central_account_verify (const central_account_t *account, const char *password)
    __attribute__ ((warn_unused_result));

//  True when the account may see the figures of scope: an operator and
//  public every scope (public only for publication), a county its county
//  and the county's municipalities, a municipality itself.
bool
    central_account_may_see (const central_account_t *account, const cp_scope_t *scope);

//  The name of a role, as the file and the API spell it.
const char *
    central_role_name (central_role_t role);

#endif
