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

//  Signs the enrolment with the root secret and returns the file text.
static int
s_sign (const char *dir, const char *root_secret, const cp_enrolment_t *enrolment,
        const uint8_t *secrets, char **text, char *why, size_t why_size)
{
    char path [4096];
    s_root_path (dir, root_secret, path, sizeof path);
    uint8_t *root = NULL;
    int rc = cp_keyfile_read (path, crypto_sign_SECRETKEYBYTES, &root);
    if (rc)
        return cp_error_why (rc, why, why_size, "the root key %s: %s%s%s", path,
                             cp_strerror (rc), rc == CP_EIO? ": ": "",
                             rc == CP_EIO? strerror (errno): "");
    //  The root secret must be the root the table (and every node) pins.
    uint8_t public_key [crypto_sign_PUBLICKEYBYTES];
    crypto_sign_ed25519_sk_to_pk (public_key, root);
    if (sodium_memcmp (public_key, enrolment->root, sizeof public_key) != 0) {
        cp_keyfile_free (&root);
        return cp_error_why (CP_EAUTH, why, why_size,
                             "%s is not the root key this central was set up with", path);
    }
    *text = cp_enrolment_encode (enrolment, root, secrets);
    cp_keyfile_free (&root);
    return *text? 0: cp_error_why (CP_EMALFORMED, why, why_size, "cannot encode the enrolment");
}

//  Reads the key table; fills the central's half of an enrolment.
static int
s_central_half (central_store_t *store, cp_enrolment_t *enrolment, central_keys_t **keys_p,
                char *why, size_t why_size)
{
    int rc = central_store_keys_read (store, keys_p);
    if (rc)
        return cp_error_why (rc, why, why_size, "cannot read the key table: %s", cp_strerror (rc));
    central_keys_enrolment (*keys_p, s_now (), enrolment);
    snprintf (enrolment->endpoint, sizeof enrolment->endpoint, "%s",
              central_store_listen (store));
    enrolment->created = s_now ();
    if (enrolment->central_transport_count == 0 || enrolment->central_data_count == 0)
        return cp_error_why (CP_ENOTENROLLED, why, why_size,
                             "the central has no valid transport or data key");
    return 0;
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

//  The node keys of a municipality that are valid now (index into keys).
static size_t
s_node_keys (central_keys_t *keys, int municipality, const central_key_t **out, size_t max)
{
    size_t count = 0;
    int64_t now = s_now ();
    for (size_t index = 0; index < central_keys_count (keys) && count < max; index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->owner == municipality && central_keys_usable (keys, key, now) == 0)
            out [count++] = key;
    }
    return count;
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
    central_keys_t *keys = NULL;
    cp_enrolment_t enrolment = {0};
    rc = s_central_half (store, &enrolment, &keys, why, why_size);
    const central_key_t *old [64];
    size_t old_count = rc? 0: s_node_keys (keys, index, old, 64);
    if (rc == 0 && !rotate && old_count)
        rc = cp_error_why (CP_EEXISTS, why, why_size, "%s is enrolled already: rotate-node "
                           "replaces its keys, revoke shuts it out", municipality);
    if (rc == 0 && rotate && old_count == 0)
        rc = cp_error_why (CP_ENOTENROLLED, why, why_size, "%s has no valid keys to rotate: "
                           "enrol it", municipality);
    uint8_t *secrets = cp_keyfile_alloc (CP_SECRETS_SIZE);
    assert (secrets);
    central_key_t records [66];
    size_t count = 0;
    if (rc == 0) {
        //  The old keys stay valid for the grace period, then expire.
        int64_t now = s_now ();
        for (size_t old_index = 0; old_index < old_count; old_index++) {
            records [count] = *old [old_index];
            if (!records [count].expires || records [count].expires > now + grace)
                records [count].expires = now + grace;
            count++;
        }
        uint8_t transport_public [crypto_box_PUBLICKEYBYTES];
        uint8_t sign_public [crypto_sign_PUBLICKEYBYTES], kx_public [crypto_kx_PUBLICKEYBYTES];
        crypto_box_keypair (transport_public, secrets + CP_SECRETS_TRANSPORT);
        crypto_sign_keypair (sign_public, secrets + CP_SECRETS_SIGN);
        crypto_kx_keypair (kx_public, secrets + CP_SECRETS_KX);
        central_key_t *transport = &records [count++], *node = &records [count++];
        s_record (transport, CENTRAL_KEY_NODE_TRANSPORT, index, 't', transport_public, NULL, now);
        s_record (node, CENTRAL_KEY_NODE, index, 'n', sign_public, kx_public, now);
        uint64_t serial;
        rc = central_store_keys_put (store, records, count, &serial);
        if (rc)
            cp_error_why (rc, why, why_size, "cannot store the keys: %s", cp_strerror (rc));
        else {
            enrolment.serial = serial;
            snprintf (enrolment.municipality, sizeof enrolment.municipality, "%s", municipality);
            if (endpoint)
                snprintf (enrolment.endpoint, sizeof enrolment.endpoint, "%s", endpoint);
            strcpy (enrolment.node_transport.id, transport->id);
            memcpy (enrolment.node_transport.public_key, transport_public, CP_KEY_SIZE);
            enrolment.node_transport.valid_from = now;
            strcpy (enrolment.node_key.id, node->id);
            memcpy (enrolment.node_key.sign_public, sign_public, CP_KEY_SIZE);
            memcpy (enrolment.node_key.kx_public, kx_public, CP_KEY_SIZE);
            rc = s_sign (dir, root_secret, &enrolment, secrets, bundle, why, why_size);
        }
    }
    cp_keyfile_free (&secrets);
    central_keys_destroy (&keys);
    central_store_destroy (&store);
    return rc;
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
    central_keys_t *keys = NULL;
    rc = central_store_keys_read (store, &keys);
    int64_t now = s_now ();
    int kind = transport? CENTRAL_KEY_TRANSPORT: CENTRAL_KEY_DATA;
    central_key_t records [CP_ENROLMENT_KEYS_MAX + 1];
    size_t count = 0;
    //  Every live key of the kind ends at the end of the grace period; a
    //  new transport key begins there, a new data key at once.
    for (size_t index = 0; rc == 0 && index < central_keys_count (keys); index++) {
        const central_key_t *key = central_keys_at (keys, index);
        if (key->kind != kind || central_keys_usable (keys, key, now) != 0
        ||  count == CP_ENROLMENT_KEYS_MAX)
            continue;
        records [count] = *key;
        if (!key->expires || key->expires > now + grace)
            records [count].expires = now + grace;
        count++;
    }
    if (rc == 0)
        rc = transport? s_new_transport (dir, now + grace, &records [count], why, why_size)
                      : s_new_data (dir, &records [count], why, why_size);
    uint64_t serial;
    if (rc == 0 && (rc = central_store_keys_put (store, records, count + 1, &serial)))
        cp_error_why (rc, why, why_size, "cannot store the keys: %s", cp_strerror (rc));
    central_keys_destroy (&keys);
    central_store_destroy (&store);
    if (rc == 0)
        rc = central_admin_announcement (dir, root_secret, announcement, why, why_size);
    return rc;
}

int
central_admin_revoke (const char *dir, const char *what, char *why, size_t why_size)
{
    int rc;
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    central_keys_t *keys = NULL;
    rc = central_store_keys_read (store, &keys);
    central_key_t records [64];
    size_t count = 0;
    int municipality = cp_municipality_index (what);
    for (size_t index = 0; rc == 0 && index < central_keys_count (keys) && count < 64; index++) {
        const central_key_t *key = central_keys_at (keys, index);
        bool named = municipality >= 0? key->owner == municipality: streq (key->id, what);
        if (named && !key->revoked) {
            records [count] = *key;
            records [count++].revoked = true;
        }
    }
    if (rc == 0 && count == 0)
        rc = cp_error_why (CP_EUNKNOWNKEY, why, why_size,
                           "no key of '%s' that is not revoked already", what);
    uint64_t serial;
    if (rc == 0 && (rc = central_store_keys_put (store, records, count, &serial)))
        cp_error_why (rc, why, why_size, "cannot store the keys: %s", cp_strerror (rc));
    if (rc == 0)
        snprintf (why, why_size, "%zu key(s) revoked", count);
    central_keys_destroy (&keys);
    central_store_destroy (&store);
    return rc;
}

int
central_admin_announcement (const char *dir, const char *root_secret, char **announcement,
                            char *why, size_t why_size)
{
    *announcement = NULL;
    int rc;
    central_store_t *store = s_open (dir, &rc, why, why_size);
    if (!store)
        return rc;
    central_keys_t *keys = NULL;
    cp_enrolment_t enrolment = {0};
    rc = s_central_half (store, &enrolment, &keys, why, why_size);
    if (rc == 0)
        rc = s_sign (dir, root_secret, &enrolment, NULL, announcement, why, why_size);
    central_keys_destroy (&keys);
    central_store_destroy (&store);
    return rc;
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
