/*  central_admin: generating, recording, announcing and revoking keys.
    See central_admin.h.                                                    */

#include "central_admin.h"
#include "central_keys.h"
#include "central_store.h"
#include "cp_enrolment.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"

#include <czmq.h>
#include <sodium.h>

#define S_DATA_SECRET_SIZE (crypto_sign_SECRETKEYBYTES + crypto_kx_SECRETKEYBYTES)

static int64_t
s_now (void)
{
    return (int64_t) time (NULL);
}

static void
s_secret_path (const char *dir, const char *kind, const char *id, char *path, size_t size)
{
    snprintf (path, size, "%s/keys/%s-%s.secret", dir, kind, id);
}

static void
s_root_path (const char *dir, const char *root_secret, char *path, size_t size)
{
    if (root_secret)
        snprintf (path, size, "%s", root_secret);
    else
        snprintf (path, size, "%s/keys/root.secret", dir);
}

//  Opens the store to write, with why on failure.
static central_store_t *
s_open (const char *dir, int *rc, char *why, size_t why_size)
{
    central_store_t *store = central_store_open (dir, 0, rc);
    if (!store)
        cp_error_why (*rc, why, why_size, "%s: %s", dir, cp_strerror (*rc));
    return store;
}

//  A new central key record of kind with public keys; created now.
static void
s_record (central_key_t *key, int kind, int owner, char prefix, const uint8_t *public_key,
          const uint8_t *kx_public, int64_t valid_from)
{
    memset (key, 0, sizeof *key);
    key->kind = kind;
    key->owner = owner;
    key->created = s_now ();
    key->valid_from = valid_from;
    memcpy (key->public_key, public_key, CP_KEY_SIZE);
    if (kx_public)
        memcpy (key->kx_public, kx_public, CP_KEY_SIZE);
    cp_enrolment_key_id (prefix, public_key, key->id);
}

//  Writes a new key's secret to DIR/keys/KIND-ID.secret and wipes it.
static int
s_keep_secret (const char *dir, const char *kind, const char *id, uint8_t **secret_p,
               size_t size, char *why, size_t why_size)
{
    char path [4096];
    s_secret_path (dir, kind, id, path, sizeof path);
    int rc = cp_keyfile_write (path, *secret_p, size, false);
    cp_keyfile_free (secret_p);
    if (rc)
        return cp_error_why (rc, why, why_size, "cannot write %s: %s", path, strerror (errno));
    return 0;
}

//  Makes a transport key pair: the record, and its secret written to
//  DIR/keys/transport-ID.secret.
static int
s_new_transport (const char *dir, int64_t valid_from, central_key_t *key, char *why,
                 size_t why_size)
{
    uint8_t public_key [crypto_box_PUBLICKEYBYTES];
    uint8_t *secret = cp_keyfile_alloc (crypto_box_SECRETKEYBYTES);
    if (!secret)
        return cp_error_why (CP_EIO, why, why_size, "out of guarded memory");
    crypto_box_keypair (public_key, secret);
    s_record (key, CENTRAL_KEY_TRANSPORT, CENTRAL_KEYS_CENTRAL, 'c', public_key, NULL, valid_from);
    return s_keep_secret (dir, "transport", key->id, &secret, crypto_box_SECRETKEYBYTES,
                          why, why_size);
}

//  Makes a data key (signing and key exchange): the record, and its
//  secrets (sign then kx) written to DIR/keys/data-ID.secret.
static int
s_new_data (const char *dir, central_key_t *key, char *why, size_t why_size)
{
    uint8_t sign_public [crypto_sign_PUBLICKEYBYTES], kx_public [crypto_kx_PUBLICKEYBYTES];
    uint8_t *secret = cp_keyfile_alloc (S_DATA_SECRET_SIZE);
    if (!secret)
        return cp_error_why (CP_EIO, why, why_size, "out of guarded memory");
    crypto_sign_keypair (sign_public, secret);
    crypto_kx_keypair (kx_public, secret + crypto_sign_SECRETKEYBYTES);
    s_record (key, CENTRAL_KEY_DATA, CENTRAL_KEYS_CENTRAL, 'd', sign_public, kx_public, s_now ());
    return s_keep_secret (dir, "data", key->id, &secret, S_DATA_SECRET_SIZE, why, why_size);
}

//  Reads the root secret (*root, guarded: cp_keyfile_free it) and checks
//  that it is the root the table, and every node, pins.  Done before any
//  change, so that a wrong or missing --root-secret changes nothing
//  (rather than leaving keys recorded that no signed file tells of).
static int
s_root_read (central_store_t *store, const char *dir, const char *root_secret,
             uint8_t **root, char *why, size_t why_size)
{
    char path [4096];
    s_root_path (dir, root_secret, path, sizeof path);
    central_keys_t *keys = NULL;
    int rc = central_store_keys_read (store, &keys);
    if (rc)
        return cp_error_why (rc, why, why_size, "cannot read the key table: %s", cp_strerror (rc));
    const central_key_t *pinned = central_keys_current (keys, CENTRAL_KEY_ROOT, s_now ());
    uint8_t pinned_public [crypto_sign_PUBLICKEYBYTES];
    if (pinned)
        memcpy (pinned_public, pinned->public_key, sizeof pinned_public);
    central_keys_destroy (&keys);
    if (!pinned)
        return cp_error_why (CP_ENOTENROLLED, why, why_size, "the key table has no root key");
    rc = cp_keyfile_read (path, crypto_sign_SECRETKEYBYTES, root);
    if (rc)
        return cp_error_why (rc, why, why_size, "the root key %s: %s%s%s", path,
                             cp_strerror (rc), rc == CP_EIO? ": ": "",
                             rc == CP_EIO? strerror (errno): "");
    uint8_t public_key [crypto_sign_PUBLICKEYBYTES];
    crypto_sign_ed25519_sk_to_pk (public_key, *root);
    if (sodium_memcmp (public_key, pinned_public, sizeof public_key) != 0) {
        cp_keyfile_free (root);
        return cp_error_why (CP_EAUTH, why, why_size,
                             "%s is not the root key this central was set up with", path);
    }
    return 0;
}

//  Signs the enrolment with the root secret and returns the file text.
static int
s_sign (const uint8_t *root, const cp_enrolment_t *enrolment, const uint8_t *secrets,
        char **text, char *why, size_t why_size)
{
    *text = cp_enrolment_encode (enrolment, root, secrets);
    return *text? 0: cp_error_why (CP_EMALFORMED, why, why_size, "cannot encode the enrolment");
}

//  Fills the central's half of an enrolment from the key table.
static int
s_central_half (central_store_t *store, central_keys_t *keys, cp_enrolment_t *enrolment,
                char *why, size_t why_size)
{
    central_keys_enrolment (keys, s_now (), enrolment);
    snprintf (enrolment->endpoint, sizeof enrolment->endpoint, "%s",
              central_store_listen (store));
    enrolment->created = s_now ();
    if (enrolment->central_transport_count == 0 || enrolment->central_data_count == 0)
        return cp_error_why (CP_ENOTENROLLED, why, why_size,
                             "the central has no valid transport or data key");
    return 0;
}

//  Signs the announcement of the central's keys as the table holds them now.
static int
s_announce (central_store_t *store, const uint8_t *root, char **announcement, char *why,
            size_t why_size)
{
    central_keys_t *keys = NULL;
    cp_enrolment_t enrolment = {0};
    int rc = central_store_keys_read (store, &keys);
    if (rc)
        return cp_error_why (rc, why, why_size, "cannot read the key table: %s", cp_strerror (rc));
    rc = s_central_half (store, keys, &enrolment, why, why_size);
    if (rc == 0)
        rc = s_sign (root, &enrolment, NULL, announcement, why, why_size);
    central_keys_destroy (&keys);
    return rc;
}

int
central_admin_init (const char *dir, const char *listen, int catalogue,
                    const char *root_secret, char *why, size_t why_size)
{
    if (sodium_init () < 0)
        return cp_error_why (CP_EIO, why, why_size, "libsodium does not initialise");
    int rc = central_store_create (dir, listen, catalogue);
    if (rc)
        return cp_error_why (rc, why, why_size, "%s: %s", dir, cp_strerror (rc));
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    central_key_t keys [3];
    //  The root: its secret is written once, where the administrator says.
    uint8_t root_public [crypto_sign_PUBLICKEYBYTES];
    uint8_t *root = cp_keyfile_alloc (crypto_sign_SECRETKEYBYTES);
    assert (root);
    crypto_sign_keypair (root_public, root);
    s_record (&keys [0], CENTRAL_KEY_ROOT, CENTRAL_KEYS_CENTRAL, 'r', root_public, NULL, s_now ());
    char path [4096];
    s_root_path (dir, root_secret, path, sizeof path);
    rc = cp_keyfile_write (path, root, crypto_sign_SECRETKEYBYTES, false);
    cp_keyfile_free (&root);
    if (rc)
        cp_error_why (rc, why, why_size, "cannot write the root key to %s: %s", path,
                      rc == CP_EEXISTS? "a file is there": strerror (errno));
    if (rc == 0)
        rc = s_new_transport (dir, s_now (), &keys [1], why, why_size);
    if (rc == 0)
        rc = s_new_data (dir, &keys [2], why, why_size);
    uint64_t serial;
    if (rc == 0 && (rc = central_store_keys_put (store, keys, 3, &serial)))
        cp_error_why (rc, why, why_size, "cannot store the keys: %s", cp_strerror (rc));
    central_store_destroy (&store);
    return rc;
}

//  =====================================================================
//  Edits of the key table: each decides on the table as its own write
//  transaction reads it (central_store_keys_edit), so that two commands
//  racing cannot undo each other's changes.  They may run twice (a full
//  map redoes the transaction): what they report is set afresh each time.

//  Ends key at until, unless it ends sooner already.
static int
s_end_by (central_store_t *store, const central_key_t *key, int64_t until)
{
    if (key->expires && key->expires <= until)
        return 0;
    central_key_t changed = *key;
    changed.expires = until;
    return central_store_keys_change (store, &changed);
}

//  An enrolment or a rotation of a node's keys.
typedef struct {
    int municipality;               //  its index
    const char *code;               //  its code, for messages
    bool rotate;
    int64_t now, grace;
    central_key_t transport, node;  //  the new keys' records
    cp_enrolment_t *enrolment;      //  out: the central's half, from the table
    char *why;
    size_t why_size;
} s_enrol_t;

//  Checks the municipality's state, ends its valid keys at the end of the
//  grace period (every one of them: there is no limit on how many a
//  municipality has) and records the new keys.
static int
s_enrol_edit (central_store_t *store, central_keys_t *keys, void *argument)
{
    s_enrol_t *self = argument;
    int rc = s_central_half (store, keys, self->enrolment, self->why, self->why_size);
    if (rc)
        return rc;
    size_t valid = 0;
    for (size_t index = 0; index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->owner == self->municipality && central_keys_usable (keys, key, self->now) == 0)
            valid++;
    }
    if (!self->rotate && valid)
        return cp_error_why (CP_EEXISTS, self->why, self->why_size, "%s is enrolled already: "
                             "rotate-node replaces its keys, revoke shuts it out", self->code);
    if (self->rotate && !valid)
        return cp_error_why (CP_ENOTENROLLED, self->why, self->why_size, "%s has no valid keys "
                             "to rotate (never enrolled, revoked or expired): enrol it",
                             self->code);
    for (size_t index = 0; rc == 0 && index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->owner == self->municipality && central_keys_usable (keys, key, self->now) == 0)
            rc = s_end_by (store, key, self->now + self->grace);
    }
    if (rc == 0)
        rc = central_store_keys_change (store, &self->transport);
    if (rc == 0)
        rc = central_store_keys_change (store, &self->node);
    if (rc)
        cp_error_why (rc, self->why, self->why_size, "cannot store the keys: %s",
                      cp_strerror (rc));
    return rc;
}

int
central_admin_enrol (const char *dir, const char *root_secret, const char *municipality,
                     const char *endpoint, bool rotate, int64_t grace, char **bundle,
                     char *why, size_t why_size)
{
    *bundle = NULL;
    if (sodium_init () < 0)
        return cp_error_why (CP_EIO, why, why_size, "libsodium does not initialise");
    int index = cp_municipality_index (municipality);
    if (index < 0)
        return cp_error_why (CP_EUNKNOWNPEER, why, why_size,
                             "'%s' is not a municipality code", municipality);
    int rc;
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    uint8_t *root = NULL;
    uint8_t *secrets = cp_keyfile_alloc (CP_SECRETS_SIZE);
    assert (secrets);
    cp_enrolment_t enrolment = {0};
    s_enrol_t edit = {.municipality = index, .code = municipality, .rotate = rotate,
                      .now = s_now (), .grace = grace, .enrolment = &enrolment, .why = why,
                      .why_size = why_size};
    uint8_t transport_public [crypto_box_PUBLICKEYBYTES];
    uint8_t sign_public [crypto_sign_PUBLICKEYBYTES], kx_public [crypto_kx_PUBLICKEYBYTES];
    crypto_box_keypair (transport_public, secrets + CP_SECRETS_TRANSPORT);
    crypto_sign_keypair (sign_public, secrets + CP_SECRETS_SIGN);
    crypto_kx_keypair (kx_public, secrets + CP_SECRETS_KX);
    s_record (&edit.transport, CENTRAL_KEY_NODE_TRANSPORT, index, 't', transport_public, NULL,
              edit.now);
    s_record (&edit.node, CENTRAL_KEY_NODE, index, 'n', sign_public, kx_public, edit.now);
    uint64_t serial;
    rc = s_root_read (store, dir, root_secret, &root, why, why_size);
    if (rc == 0)
        rc = central_store_keys_edit (store, s_enrol_edit, &edit, &serial);
    if (rc == 0) {
        enrolment.serial = serial;
        snprintf (enrolment.municipality, sizeof enrolment.municipality, "%s", municipality);
        if (endpoint)
            snprintf (enrolment.endpoint, sizeof enrolment.endpoint, "%s", endpoint);
        strcpy (enrolment.node_transport.id, edit.transport.id);
        memcpy (enrolment.node_transport.public_key, transport_public, CP_KEY_SIZE);
        enrolment.node_transport.valid_from = edit.now;
        strcpy (enrolment.node_key.id, edit.node.id);
        memcpy (enrolment.node_key.sign_public, sign_public, CP_KEY_SIZE);
        memcpy (enrolment.node_key.kx_public, kx_public, CP_KEY_SIZE);
        rc = s_sign (root, &enrolment, secrets, bundle, why, why_size);
    }
    cp_keyfile_free (&secrets);
    cp_keyfile_free (&root);
    central_store_destroy (&store);
    return rc;
}

//  A rotation of the central's transport or data key.
typedef struct {
    int kind;
    int64_t now, grace;
    central_key_t fresh;            //  the new key's record
} s_rotate_t;

//  Every valid key of the kind ends at the end of the grace period, however
//  many there are; the new one is recorded.
static int
s_rotate_edit (central_store_t *store, central_keys_t *keys, void *argument)
{
    s_rotate_t *self = argument;
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->kind == self->kind && central_keys_usable (keys, key, self->now) == 0)
            rc = s_end_by (store, key, self->now + self->grace);
    }
    return rc? rc: central_store_keys_change (store, &self->fresh);
}

int
central_admin_rotate_central (const char *dir, const char *root_secret, bool transport,
                              int64_t grace, char **announcement, char *why, size_t why_size)
{
    *announcement = NULL;
    if (sodium_init () < 0)
        return cp_error_why (CP_EIO, why, why_size, "libsodium does not initialise");
    int rc;
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    uint8_t *root = NULL;
    s_rotate_t edit = {.kind = transport? CENTRAL_KEY_TRANSPORT: CENTRAL_KEY_DATA,
                       .now = s_now (), .grace = grace};
    //  The new key begins at once (data) or at the end of the grace period
    //  (transport: announced now, served then); its secret is on disk before
    //  the table names it, and removed again when the table does not.
    rc = s_root_read (store, dir, root_secret, &root, why, why_size);
    if (rc == 0)
        rc = transport? s_new_transport (dir, edit.now + grace, &edit.fresh, why, why_size)
                      : s_new_data (dir, &edit.fresh, why, why_size);
    uint64_t serial;
    if (rc == 0 && (rc = central_store_keys_edit (store, s_rotate_edit, &edit, &serial))) {
        cp_error_why (rc, why, why_size, "cannot store the keys: %s", cp_strerror (rc));
        char path [4096];
        s_secret_path (dir, transport? "transport": "data", edit.fresh.id, path, sizeof path);
        cp_keyfile_remove (path);
    }
    if (rc == 0)
        rc = s_announce (store, root, announcement, why, why_size);
    cp_keyfile_free (&root);
    central_store_destroy (&store);
    return rc;
}

//  A revocation: of a municipality's keys or of one key.
typedef struct {
    const char *what;               //  the municipality code or key id
    int municipality;               //  its index, or -1 for a key id
    int64_t now;
    size_t count;                   //  out: keys revoked
    char *why;
    size_t why_size;
} s_revoke_t;

//  0 when the central has another key of key's kind valid now: revoking key
//  leaves it a key to serve or sign with.  Else CP_ELASTKEY, with what to do.
static int
s_not_last (central_keys_t *keys, const central_key_t *key, int64_t now, char *why,
            size_t why_size)
{
    if (key->kind == CENTRAL_KEY_ROOT)
        return cp_error_why (CP_ELASTKEY, why, why_size, "%s is the root key: every node pins "
                             "it and checks every file against it, so it cannot be revoked "
                             "(a leaked root needs a new central and every node enrolled "
                             "again)", key->id);
    if (central_keys_usable (keys, key, now) != 0)
        return 0;               //  not in service: nothing depends on it
    for (size_t index = 0; index < central_keys_count (keys); index++) {
        const central_key_t *other = central_keys_at (keys, index);
        if (other != key && other->kind == key->kind && other->owner == key->owner
        &&  central_keys_usable (keys, other, now) == 0)
            return 0;
    }
    bool transport = key->kind == CENTRAL_KEY_TRANSPORT;
    return cp_error_why (CP_ELASTKEY, why, why_size, "%s is the central's only valid %s key; "
                         "revoking it would leave %s: run cpsync-admin rotate-central %s "
                         "first, give the nodes its announcement, then revoke %s", key->id,
                         transport? "transport": "data",
                         transport? "no key to serve nodes with"
                                  : "no key to open batches or sign replies with",
                         transport? "--transport --grace 0": "--data", key->id);
}

//  Revokes every key named that is not revoked yet, expired ones included.
static int
s_revoke_edit (central_store_t *store, central_keys_t *keys, void *argument)
{
    s_revoke_t *self = argument;
    self->count = 0;
    int rc = 0;
    for (size_t index = 0; rc == 0 && index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        bool named = self->municipality >= 0? key->owner == self->municipality
                                            : streq (key->id, self->what);
        if (!named || key->revoked)
            continue;
        if (key->owner == CENTRAL_KEYS_CENTRAL
        &&  (rc = s_not_last (keys, key, self->now, self->why, self->why_size)))
            break;
        central_key_t changed = *key;
        changed.revoked = true;
        if ((rc = central_store_keys_change (store, &changed)))
            cp_error_why (rc, self->why, self->why_size, "cannot store the keys: %s",
                          cp_strerror (rc));
        else
            self->count++;
    }
    if (rc == 0 && self->count == 0)
        rc = cp_error_why (CP_EUNKNOWNKEY, self->why, self->why_size,
                           "no key of '%s' that is not revoked already", self->what);
    return rc;
}

int
central_admin_revoke (const char *dir, const char *what, char *why, size_t why_size)
{
    int rc;
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    s_revoke_t edit = {what, cp_municipality_index (what), s_now (), 0, why, why_size};
    uint64_t serial;
    rc = central_store_keys_edit (store, s_revoke_edit, &edit, &serial);
    if (rc == 0)
        snprintf (why, why_size, "%zu key(s) revoked", edit.count);
    central_store_destroy (&store);
    return rc;
}

//  What a command does with the store and the root secret, checked.
typedef int (s_with_root_fn) (central_store_t *store, const uint8_t *root, void *args,
                              char *why, size_t why_size);

//  Opens the store, reads and checks the root secret, and runs fn with both.
static int
s_with_root (const char *dir, const char *root_secret, s_with_root_fn *fn, void *args,
             char *why, size_t why_size)
{
    int rc;
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    uint8_t *root = NULL;
    rc = s_root_read (store, dir, root_secret, &root, why, why_size);
    if (rc == 0)
        rc = fn (store, root, args, why, why_size);
    cp_keyfile_free (&root);
    central_store_destroy (&store);
    return rc;
}

static int
s_announce_fn (central_store_t *store, const uint8_t *root, void *args, char *why,
               size_t why_size)
{
    return s_announce (store, root, (char **) args, why, why_size);
}

int
central_admin_announcement (const char *dir, const char *root_secret, char **announcement,
                            char *why, size_t why_size)
{
    *announcement = NULL;
    return s_with_root (dir, root_secret, s_announce_fn, announcement, why, why_size);
}

//  What publish signs and appends.
typedef struct {
    int kind;
    cp_scope_t to;
    const uint8_t *body;
    size_t size;
    uint64_t *seq;
} s_publish_t;

static int
s_publish_fn (central_store_t *store, const uint8_t *root, void *args, char *why,
              size_t why_size)
{
    s_publish_t *publish = args;
    return central_store_downlink_publish (store, publish->kind, &publish->to, publish->body,
                                           publish->size, root, publish->seq, why, why_size);
}

int
central_admin_publish (const char *dir, const char *root_secret, int kind,
                       const char *address, const uint8_t *body, size_t size,
                       uint64_t *seq, char *why, size_t why_size)
{
    *seq = 0;
    s_publish_t publish = {kind, {0}, body, size, seq};
    if (!cp_downlink_kind_name (kind))
        return cp_error_why (CP_EBADKIND, why, why_size, "no downlink entry is of kind %d", kind);
    if (cp_downlink_address_parse (address, &publish.to))
        return cp_error_why (CP_EBADID, why, why_size, "'%s' is no address: all, county:CODE "
                             "or a municipality's CODE", address);
    return s_with_root (dir, root_secret, s_publish_fn, &publish, why, why_size);
}

//  True when id can name a file: the letters, digits and '-' of the ids
//  cp_enrolment_key_id makes.  A table record is not trusted to be one.
static bool
s_file_safe (const char *id)
{
    for (const char *at = id; *at; at++)
        if (!((*at >= 'a' && *at <= 'z') || (*at >= '0' && *at <= '9') || *at == '-'))
            return false;
    return *id != 0;
}

int
central_admin_prune (const char *dir, size_t *removed, char *why, size_t why_size)
{
    *removed = 0;
    if (why_size)
        *why = 0;
    int rc;
    central_store_t *store = central_store_open (dir, CENTRAL_STORE_READONLY, &rc);
    if (!store)
        return cp_error_why (rc, why, why_size, "%s: %s", dir, cp_strerror (rc));
    central_keys_t *keys = NULL;
    rc = central_store_keys_read (store, &keys);
    central_store_destroy (&store);
    if (rc)
        return cp_error_why (rc, why, why_size, "cannot read the key table: %s", cp_strerror (rc));
    int64_t now = s_now ();
    size_t used = 0;
    int first_error = 0;
    for (size_t index = 0; index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->owner != CENTRAL_KEYS_CENTRAL
        ||  (key->kind != CENTRAL_KEY_TRANSPORT && key->kind != CENTRAL_KEY_DATA)
        ||  !s_file_safe (key->id))
            continue;
        int usable = central_keys_usable (keys, key, now);
        if (usable != CP_EEXPIRED && usable != CP_EREVOKED)
            continue;               //  in service, or announced and not yet
        char path [4096];
        const char *kind = key->kind == CENTRAL_KEY_TRANSPORT? "transport": "data";
        s_secret_path (dir, kind, key->id, path, sizeof path);
        rc = cp_keyfile_remove (path);
        if (rc == CP_EIO && errno == ENOENT)
            continue;               //  removed before
        if (rc) {
            if (!first_error)
                first_error = cp_error_why (rc, why, why_size, "cannot remove %s: %s", path,
                                            rc == CP_EIO? strerror (errno): cp_strerror (rc));
            continue;
        }
        (*removed)++;
        if (!first_error && used < why_size)
            used += (size_t) snprintf (why + used, why_size - used, "%s%s %s (%s)",
                                       used? ", ": "", kind, key->id,
                                       usable == CP_EEXPIRED? "expired": "revoked");
    }
    central_keys_destroy (&keys);
    return first_error;
}

int64_t
central_admin_duration (const char *text)
{
    char *end;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || end == text || value < 0 || value > 3650LL * 86400)
        return -1;
    int64_t unit = 86400;
    if (*end == 'd') unit = 86400, end++;
    else if (*end == 'h') unit = 3600, end++;
    else if (*end == 'm') unit = 60, end++;
    else if (*end == 's') unit = 1, end++;
    if (*end)
        return -1;
    return (int64_t) value * unit;
}
