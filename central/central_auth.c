/*  central_auth: the ZAP handler, per-message identity, batch opening and
    reply signing.  See central_auth.h.                                     */

#include "central_auth.h"
#include "central_keys.h"
#include "cp_envelope.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"

#include <sodium.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_ZAP_DOMAIN "cpsync"
#define S_ZAP_ENFORCE_DOMAIN 93         //  ZMQ_ZAP_ENFORCE_DOMAIN (a draft name in 4.3's zmq.h)
#define S_DATA_KEYS_MAX 16
#define S_DATA_SECRET_SIZE (crypto_sign_SECRETKEYBYTES + crypto_kx_SECRETKEYBYTES)
#define S_DATA_KEYS_SECONDS 60          //  expiries are checked per batch; this only frees
#define S_SESSIONS_MAX 4096             //  session keys kept (a power of two; half used at most)

typedef struct {
    central_key_t key;          //  its record
    uint8_t *secret;            //  sign secret then kx secret (guarded)
} s_data_key_t;

//  Which session key a slot of the session table holds.
typedef struct {
    char node_key [CP_KEY_ID_MAX + 1];      //  "" for a free slot
    char data_key [CP_KEY_ID_MAX + 1];
} s_session_id_t;

struct _central_auth_t {
    central_store_t *store;     //  borrowed: the server's
    char *dir;
    zsock_t *zap;               //  REP on inproc://zeromq.zap.01
    central_keys_t *keys;
    s_data_key_t data [S_DATA_KEYS_MAX];
    size_t data_count;
    central_key_t transport;    //  the transport key served (id "" if none)
    uint8_t *transport_secret;  //  its secret (guarded)
    int64_t data_keys_at;       //  when the data secrets are looked at next
    //  The envelope key of a node key and a data key is the same for every
    //  batch (static X25519), so each is computed once, not per batch.
    s_session_id_t *session_ids;        //  S_SESSIONS_MAX slots, open addressing
    uint8_t *sessions;                  //  their keys (guarded)
    size_t session_count;
};

static int64_t
s_now (void)
{
    return (int64_t) time (NULL);
}

//  Reads a secret of the central: DIR/keys/KIND-ID.secret.
static int
s_read_secret (central_auth_t *self, const char *kind, const char *id, size_t size,
               uint8_t **secret, char *why, size_t why_size)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/keys/%s-%s.secret", self->dir, kind, id);
    int rc = cp_keyfile_read (path, size, secret);
    if (rc)
        cp_error_why (rc, why, why_size, "%s: %s%s%s", path, cp_strerror (rc),
                      rc == CP_EIO? ": ": "", rc == CP_EIO? strerror (errno): "");
    return rc;
}

//  Makes the set of loaded data secrets match the live data keys: loads
//  new ones, wipes those no longer live.
static int
s_load_data_keys (central_auth_t *self, char *why, size_t why_size)
{
    int64_t now = s_now ();
    s_data_key_t kept [S_DATA_KEYS_MAX];
    size_t kept_count = 0;
    int rc = 0;
    for (size_t index = 0; index < central_keys_count (self->keys); index++) {
        const central_key_t *key = central_keys_at (self->keys, index);
        if (key->kind != CENTRAL_KEY_DATA || central_keys_usable (self->keys, key, now)
        ||  kept_count == S_DATA_KEYS_MAX)
            continue;
        s_data_key_t entry = {*key, NULL};
        for (size_t old = 0; old < self->data_count; old++)
            if (streq (self->data [old].key.id, key->id) && self->data [old].secret) {
                entry.secret = self->data [old].secret;
                self->data [old].secret = NULL;
            }
        if (!entry.secret) {
            int read_rc = s_read_secret (self, "data", key->id, S_DATA_SECRET_SIZE,
                                         &entry.secret, why, why_size);
            if (read_rc) {
                rc = read_rc;
                continue;
            }
        }
        kept [kept_count++] = entry;
    }
    for (size_t old = 0; old < self->data_count; old++)
        cp_keyfile_free (&self->data [old].secret);
    memcpy (self->data, kept, kept_count * sizeof (s_data_key_t));
    self->data_count = kept_count;
    if (rc == 0 && kept_count == 0)
        rc = cp_error_why (CP_ENOTENROLLED, why, why_size,
                           "no data key is valid (run cpsync-admin rotate-central --data)");
    return rc;
}

central_auth_t *
central_auth_new (central_store_t *store, const char *dir, int *error, char *why,
                  size_t why_size)
{
    central_auth_t *self = calloc (1, sizeof (central_auth_t));
    assert (self);
    self->store = store;
    self->dir = strdup (dir);
    self->session_ids = calloc (S_SESSIONS_MAX, sizeof (s_session_id_t));
    self->sessions = cp_keyfile_alloc (S_SESSIONS_MAX * CP_ENVELOPE_KEY_SIZE);
    assert (self->dir && self->session_ids && self->sessions);
    int rc = sodium_init () < 0? CP_EIO: 0;
    if (rc == 0 && (rc = central_store_keys_read (store, &self->keys)))
        cp_error_why (rc, why, why_size, "cannot read the key table");
    if (rc == 0)
        rc = s_load_data_keys (self, why, why_size);
    if (rc == 0 && !central_keys_current (self->keys, CENTRAL_KEY_TRANSPORT, s_now ()))
        rc = cp_error_why (CP_ENOTENROLLED, why, why_size,
                           "no transport key is valid (run cpsync-admin init-central)");
    if (rc == 0) {
        //  Read the transport secret now, so that a bad file stops the start.
        const central_key_t *transport = central_keys_current (self->keys,
                                                               CENTRAL_KEY_TRANSPORT, s_now ());
        rc = s_read_secret (self, "transport", transport->id, crypto_box_SECRETKEYBYTES,
                            &self->transport_secret, why, why_size);
        if (rc == 0)
            self->transport = *transport;
    }
    if (rc == 0) {
        self->zap = zsock_new (ZMQ_REP);
        if (!self->zap || zsock_bind (self->zap, S_ZAP_ENDPOINT) != 0)
            rc = cp_error_why (CP_EBUSY, why, why_size, "cannot bind the ZAP handler (%s)",
                               S_ZAP_ENDPOINT);
    }
    if (rc) {
        *error = rc;
        central_auth_destroy (&self);
    }
    return self;
}

void
central_auth_destroy (central_auth_t **self_p)
{
    central_auth_t *self = *self_p;
    if (!self)
        return;
    //  Unbind first: libzmq frees an inproc endpoint of a closed socket
    //  later, in its own thread, and a server started next would not bind.
    if (self->zap)
        zsock_unbind (self->zap, S_ZAP_ENDPOINT);
    zsock_destroy (&self->zap);
    for (size_t index = 0; index < self->data_count; index++)
        cp_keyfile_free (&self->data [index].secret);
    cp_keyfile_free (&self->transport_secret);
    cp_keyfile_free (&self->sessions);
    free (self->session_ids);
    central_keys_destroy (&self->keys);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

zsock_t *
central_auth_zap (central_auth_t *self)
{
    return self->zap;
}

//  =====================================================================
//  ZAP (RFC 27): version, request id, domain, address, identity,
//  mechanism, credentials → version, request id, status code, status text,
//  user id, metadata.

//  Appends one ZMTP property (name length u8, name, value length u32, value).
static size_t
s_property (uint8_t *at, const char *name, const char *value)
{
    size_t name_size = strlen (name), value_size = strlen (value);
    at [0] = (uint8_t) name_size;
    memcpy (at + 1, name, name_size);
    uint8_t *length = at + 1 + name_size;
    length [0] = (uint8_t) (value_size >> 24);
    length [1] = (uint8_t) (value_size >> 16);
    length [2] = (uint8_t) (value_size >> 8);
    length [3] = (uint8_t) value_size;
    memcpy (length + 4, value, value_size);
    return 1 + name_size + 4 + value_size;
}

static void
s_zap_reply (central_auth_t *self, zframe_t *request_id, const char *status,
             const char *text, const char *user, const char *key_id)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_append (reply, &request_id);
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user);
    uint8_t metadata [16 + CP_KEY_ID_MAX];
    size_t size = key_id? s_property (metadata, "Key-Id", key_id): 0;
    zmsg_addmem (reply, metadata, size);
    zmsg_send (&reply, self->zap);
}

int
central_auth_on_zap (central_auth_t *self, char *why, size_t why_size)
{
    zmsg_t *request = zmsg_recv (self->zap);
    if (!request)
        return 0;
    //  libzmq is the only sender on this endpoint, but check the shape anyway.
    zframe_t *version = zmsg_pop (request);
    zframe_t *request_id = zmsg_pop (request);
    zframe_t *domain = zmsg_pop (request), *address = zmsg_pop (request);
    zframe_t *identity = zmsg_pop (request), *mechanism = zmsg_pop (request);
    zframe_t *credentials = zmsg_pop (request);
    int rc = 0;
    const central_key_t *key = NULL;
    if (!credentials || !request_id || zframe_size (credentials) != CP_KEY_SIZE
    ||  !zframe_streq (version, "1.0") || !zframe_streq (mechanism, "CURVE"))
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "a ZAP request that is not CURVE");
    else {
        key = central_keys_find_transport (self->keys, zframe_data (credentials));
        rc = key? central_keys_usable (self->keys, key, s_now ()): CP_EUNKNOWNKEY;
        char id [CP_KEY_ID_MAX + 1];
        cp_enrolment_key_id ('t', zframe_data (credentials), id);
        char *peer = address? zframe_strdup (address): NULL;
        if (rc)
            cp_error_why (rc, why, why_size, "connection from %s with %s key %s refused: %s",
                          peer? peer: "?", key? "node": "unknown", id, cp_strerror (rc));
        zstr_free (&peer);
    }
    if (!request_id)
        ;                       //  nothing to answer to
    else
    if (rc == 0)
        s_zap_reply (self, request_id, "200", "OK", cp_municipality_code (key->owner), key->id);
    else
        s_zap_reply (self, request_id, "400", cp_strerror (rc), "", NULL);
    zframe_destroy (&version);
    zframe_destroy (&domain);
    zframe_destroy (&address);
    zframe_destroy (&identity);
    zframe_destroy (&mechanism);
    zframe_destroy (&credentials);
    zmsg_destroy (&request);
    return rc;
}

//  =====================================================================
//  Keys in service

//  Forgets every session key (the keys they came from may have changed).
static void
s_sessions_clear (central_auth_t *self)
{
    sodium_memzero (self->sessions, S_SESSIONS_MAX * CP_ENVELOPE_KEY_SIZE);
    memset (self->session_ids, 0, S_SESSIONS_MAX * sizeof (s_session_id_t));
    self->session_count = 0;
}

bool
central_auth_refresh (central_auth_t *self)
{
    uint64_t serial;
    bool changed = false;
    if (central_store_key_serial (self->store, &serial) == 0
    &&  serial != central_keys_serial (self->keys)) {
        central_keys_t *keys = NULL;
        if (central_store_keys_read (self->store, &keys) == 0) {
            central_keys_destroy (&self->keys);
            self->keys = keys;
            changed = true;
            zsys_info ("central_auth: key table reloaded (serial %llu, %zu keys)",
                       (unsigned long long) serial, central_keys_count (keys));
        }
    }
    //  The data secrets follow the table, and now and then time (a key that
    //  expired is refused per batch already; this frees its secret).  A
    //  secret that does not load is said once per change, not per poll.
    if (changed || s_now () >= self->data_keys_at) {
        s_sessions_clear (self);
        char why [512] = "";
        if (s_load_data_keys (self, why, sizeof why) && changed)
            zsys_error ("central_auth: %s", why);
        self->data_keys_at = s_now () + S_DATA_KEYS_SECONDS;
    }
    const central_key_t *transport = central_keys_current (self->keys, CENTRAL_KEY_TRANSPORT,
                                                           s_now ());
    return transport && !streq (transport->id, self->transport.id);
}

uint64_t
central_auth_serial (central_auth_t *self)
{
    return central_keys_serial (self->keys);
}

int
central_auth_key_check (central_auth_t *self, const char *key_id)
{
    const central_key_t *key = central_keys_find (self->keys, key_id);
    if (!key || key->kind != CENTRAL_KEY_NODE_TRANSPORT)
        return CP_EUNKNOWNKEY;
    return central_keys_usable (self->keys, key, s_now ());
}

int
central_auth_secure (central_auth_t *self, zsock_t *router)
{
    const central_key_t *transport = central_keys_current (self->keys, CENTRAL_KEY_TRANSPORT,
                                                           s_now ());
    if (transport && !streq (transport->id, self->transport.id)) {
        uint8_t *secret = NULL;
        char why [512] = "";
        if (s_read_secret (self, "transport", transport->id, crypto_box_SECRETKEYBYTES,
                           &secret, why, sizeof why) == 0) {
            cp_keyfile_free (&self->transport_secret);
            self->transport_secret = secret;
            self->transport = *transport;
            zsys_info ("central_auth: serving transport key %s", transport->id);
        }
        else
            zsys_error ("central_auth: %s; still serving %s", why, self->transport.id);
    }
    if (!self->transport_secret)
        return CP_ENOTENROLLED;
    zsock_set_curve_server (router, 1);
    zsock_set_curve_secretkey_bin (router, self->transport_secret);
    zsock_set_curve_publickey_bin (router, self->transport.public_key);
    zsock_set_zap_domain (router, S_ZAP_DOMAIN);
    int enforce = 1;
    zmq_setsockopt (zsock_resolve (router), S_ZAP_ENFORCE_DOMAIN, &enforce, sizeof enforce);
    return 0;
}

//  =====================================================================
//  Messages

int
central_auth_peer (central_auth_t *self, zframe_t *frame, int *municipality)
{
    *municipality = -1;
    const char *user = zframe_meta (frame, "User-Id");
    const char *key_id = zframe_meta (frame, "Key-Id");
    if (!user || !key_id || !*user)
        return CP_EAUTH;
    int rc = central_auth_key_check (self, key_id);
    if (rc)
        return rc;
    const central_key_t *key = central_keys_find (self->keys, key_id);
    if (!streq (cp_municipality_code (key->owner), user))
        return CP_EAUTH;        //  the handler said otherwise: not ours
    *municipality = key->owner;
    return 0;
}

static const s_data_key_t *
s_data_key (central_auth_t *self, const char *id)
{
    for (size_t index = 0; index < self->data_count; index++)
        if (streq (self->data [index].key.id, id))
            return &self->data [index];
    return NULL;
}

//  The envelope key of node and data, from the table or computed into it.
//  Returns 0 or CP_EAUTH (a key exchange libsodium refuses).
static int
s_session_key (central_auth_t *self, const central_key_t *node, const s_data_key_t *data,
               uint8_t *session_key)
{
    uint64_t hash = 14695981039346656037u;          //  FNV-1a of the two ids
    for (const char *at = node->id; *at; at++)
        hash = (hash ^ (uint8_t) *at) * 1099511628211u;
    for (const char *at = data->key.id; *at; at++)
        hash = (hash ^ (uint8_t) *at) * 1099511628211u;
    size_t index = (size_t) hash & (S_SESSIONS_MAX - 1);
    s_session_id_t *slot;
    while (*(slot = &self->session_ids [index])->node_key
       &&  (!streq (slot->node_key, node->id) || !streq (slot->data_key, data->key.id)))
        index = (index + 1) & (S_SESSIONS_MAX - 1);
    uint8_t *key = self->sessions + index * CP_ENVELOPE_KEY_SIZE;
    if (!*slot->node_key) {
        if (self->session_count * 2 >= S_SESSIONS_MAX) {
            s_sessions_clear (self);
            return s_session_key (self, node, data, session_key);
        }
        int rc = cp_envelope_central_key (data->key.kx_public,
                                          data->secret + crypto_sign_SECRETKEYBYTES,
                                          node->kx_public, key);
        if (rc)
            return rc;
        snprintf (slot->node_key, sizeof slot->node_key, "%s", node->id);
        snprintf (slot->data_key, sizeof slot->data_key, "%s", data->key.id);
        self->session_count++;
    }
    memcpy (session_key, key, CP_ENVELOPE_KEY_SIZE);
    return 0;
}

//  The node key named id, which must be municipality's and usable now.
//  Returns 0 with *node, or CP_EUNKNOWNKEY, CP_EIMPERSONATION, CP_EREVOKED,
//  CP_EEXPIRED.
static int
s_node_key (central_auth_t *self, int municipality, const char *id, int64_t now,
            const central_key_t **node)
{
    *node = central_keys_find (self->keys, id);
    if (!*node || (*node)->kind != CENTRAL_KEY_NODE)
        return CP_EUNKNOWNKEY;
    if ((*node)->owner != municipality)
        return CP_EIMPERSONATION;
    return central_keys_usable (self->keys, *node, now);
}

int
central_auth_batch_keys (central_auth_t *self, int municipality, const cp_batch_header_t *header,
                         uint8_t *sign_public, uint8_t *session_key)
{
    if (!streq (header->municipality, cp_municipality_code (municipality)))
        return CP_EIMPERSONATION;
    const central_key_t *node;
    int64_t now = s_now ();
    int rc = s_node_key (self, municipality, header->node_key, now, &node);
    if (rc)
        return rc;
    const s_data_key_t *data = s_data_key (self, header->data_key);
    if (data && (rc = central_keys_usable (self->keys, &data->key, now)))
        return rc;
    if (!data) {
        const central_key_t *known = central_keys_find (self->keys, header->data_key);
        if (!known || known->kind != CENTRAL_KEY_DATA)
            return CP_EUNKNOWNKEY;
        rc = central_keys_usable (self->keys, known, now);
        return rc? rc: CP_EUNKNOWNKEY;
    }
    memcpy (sign_public, node->public_key, CP_ENVELOPE_SIGN_PUBLIC_SIZE);
    return s_session_key (self, node, data, session_key);
}

int
central_auth_node_sign_public (central_auth_t *self, const char *key_id, uint8_t *sign_public)
{
    const central_key_t *node = central_keys_find (self->keys, key_id);
    if (!node || node->kind != CENTRAL_KEY_NODE)
        return CP_EUNKNOWNKEY;
    memcpy (sign_public, node->public_key, CP_ENVELOPE_SIGN_PUBLIC_SIZE);
    return 0;
}

int
central_auth_sign_reply (central_auth_t *self, const char *command, const char *municipality,
                         const uint8_t *body, size_t body_size, const char *data_key,
                         char *key_id, uint8_t *signature)
{
    const s_data_key_t *signer = data_key? s_data_key (self, data_key): NULL;
    if (!signer) {
        const central_key_t *current = central_keys_current (self->keys, CENTRAL_KEY_DATA,
                                                             s_now ());
        signer = current? s_data_key (self, current->id): NULL;
    }
    if (!signer)
        return CP_ENOTENROLLED;
    strcpy (key_id, signer->key.id);
    return cp_envelope_sign_reply (command, municipality, body, body_size, signer->secret,
                                   signature);
}

int
central_auth_seal_recovered (central_auth_t *self, int municipality, cp_recovered_t *recovered,
                             const uint8_t *events, size_t size, cp_batch_sealed_t *sealed)
{
    memset (sealed, 0, sizeof *sealed);
    const central_key_t *node;
    int64_t now = s_now ();
    int rc = s_node_key (self, municipality, recovered->node_key, now, &node);
    if (rc)
        return rc;
    //  Only the municipality's newest key: one being rotated out, or a
    //  copy of one, gets nothing.
    if (central_keys_state (self->keys, node, now) != CENTRAL_KEY_CURRENT)
        return CP_EEXPIRED;
    const s_data_key_t *data = s_data_key (self, recovered->data_key);
    if (!data || (rc = central_keys_usable (self->keys, &data->key, now)))
        return data? rc: CP_EUNKNOWNKEY;
    uint8_t *key = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (key);
    rc = cp_envelope_central_recovery_key (data->key.kx_public,
                                           data->secret + crypto_sign_SECRETKEYBYTES,
                                           node->kx_public, key);
    if (rc == 0) {
        snprintf (recovered->municipality, sizeof recovered->municipality, "%s",
                  cp_municipality_code (municipality));
        rc = cp_batch_seal_recovered (recovered, events, size, key, data->secret, sealed);
    }
    cp_keyfile_free (&key);
    return rc;
}
