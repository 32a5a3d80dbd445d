/*  central_auth: who a peer is, and what it may say.  Part of the server
    actor (it shares the actor's thread and store; nothing here is
    thread-safe).

    Transport.  Every connection is CURVE.  This module binds the ZAP
    handler (inproc://zeromq.zap.01, RFC 27) before the ROUTER is bound and
    sets ZMQ_ZAP_ENFORCE_DOMAIN on it, so that with no handler libzmq
    accepts no connection at all (fail closed).  A ZAP request carries the
    client's CURVE public key: a node transport key of the key table that is
    usable now is answered 200 with the municipality as User-Id and the key
    id as the "Key-Id" property; anything else 400, counted by reason.

    Messages.  libzmq attaches those properties to every message of the
    connection; central_auth_peer reads them from each message and checks
    the key again, so a key revoked or expired while its connection is
    open is refused from the next message on.  A message without them did
    not come through our ZAP handler and is refused (CP_EAUTH).

    Batches.  central_auth_batch_keys checks that the header's node key
    belongs to the sending municipality and gives the node's signing key
    and the session key from the central data key the header names (any
    data key still in its grace period; computed once per pair of keys),
    with which central_intake verifies the node's signature over header and
    ciphertext and decrypts (cp_batch_open),
    before a byte of msgpack is parsed.  Replies are signed with
    the data key the node named, so that the node can check them with a key
    it has pinned.

    The key table is reloaded when the store's key serial moves
    (central_auth_refresh, called a few times a second); so are the secrets
    of keys that became live, and a new transport key, when its time
    comes, is reported so that the server rebinds.  Secrets live in
    guarded memory (cp_keyfile) and are wiped when a key leaves service.  */

#ifndef CENTRAL_AUTH_H_INCLUDED
#define CENTRAL_AUTH_H_INCLUDED

#include "central_store.h"
#include "cp_batch.h"
#include "cp_wire.h"

#include <czmq.h>

typedef struct _central_auth_t central_auth_t;

//  Loads the key table and the central's secrets from dir/keys, and binds
//  the ZAP handler.  Returns NULL with *error and why: CP_ENOTENROLLED (no
//  transport or data key), CP_EINSECURE (a secret file others may read),
//  CP_EIO, CP_ESTORE, CP_EBUSY (another ZAP handler in this process).
central_auth_t *
    central_auth_new (central_store_t *store, const char *dir, int *error, char *why,
                      size_t why_size);

void
    central_auth_destroy (central_auth_t **self_p);

//  The ZAP socket, for the server's poller.
zsock_t *
    central_auth_zap (central_auth_t *self);

//  Answers one ZAP request.  Returns 0 (accepted) or the refusal's code
//  (CP_EUNKNOWNKEY, CP_EREVOKED, CP_EEXPIRED, CP_EMALFORMED for a request
//  that is not one), with why for the log (no secrets).
int
    central_auth_on_zap (central_auth_t *self, char *why, size_t why_size);

//  Reloads the key table when its serial moved.  Returns true when the
//  transport key to serve is not the one served (rebind the ROUTER).
bool
    central_auth_refresh (central_auth_t *self);

//  The serial of the key table in use: it moves when
//  central_auth_refresh loads a changed table.
uint64_t
    central_auth_serial (central_auth_t *self);

//  Whether the node transport key key_id may still be used: 0, or
//  CP_EUNKNOWNKEY, CP_EREVOKED, CP_EEXPIRED.
int
    central_auth_key_check (central_auth_t *self, const char *key_id);

//  Makes router a CURVE server with the current transport key, ZAP
//  enforced.  Call before binding.  Returns 0 or CP_ENOTENROLLED.
int
    central_auth_secure (central_auth_t *self, zsock_t *router);

//  The sender of a message, from the properties of frame (any frame of the
//  message but the routing id).  Returns 0 with *municipality, or CP_EAUTH
//  (no ZAP identity), CP_EUNKNOWNKEY, CP_EREVOKED, CP_EEXPIRED.
int
    central_auth_peer (central_auth_t *self, zframe_t *frame, int *municipality);

//  The keys of a BATCH of municipality, checked (the frames' shape is
//  cp_batch_read's): the header's node key must be municipality's and
//  usable, its data key live.  Returns 0 with the node's signing key in
//  sign_public (CP_ENVELOPE_SIGN_PUBLIC_SIZE bytes) and the envelope key in
//  session_key (CP_ENVELOPE_KEY_SIZE bytes: guarded memory of the
//  caller's, who wipes it); or CP_EIMPERSONATION (the header or its node
//  key is another municipality's), CP_EUNKNOWNKEY, CP_EREVOKED,
//  CP_EEXPIRED (the node key or the data key).  cp_batch_open then
//  verifies and opens, on any thread: it needs nothing of central_auth.
int
    central_auth_batch_keys (central_auth_t *self, int municipality,
                             const cp_batch_header_t *header, uint8_t *sign_public,
                             uint8_t *session_key)
    __attribute__ ((warn_unused_result));

//  The signing key (CP_ENVELOPE_SIGN_PUBLIC_SIZE bytes) of the node key
//  key_id, whatever its state now: what checks an archived batch's
//  signature when it is served back.  Returns 0 or CP_EUNKNOWNKEY.
int
    central_auth_node_sign_public (central_auth_t *self, const char *key_id,
                                   uint8_t *sign_public);

//  Signs a reply to municipality's node with the data key named data_key
//  when it is live, else the current one; key_id gets the signer's id
//  (CP_KEY_ID_MAX + 1 bytes), signature CP_SIGNATURE_SIZE bytes.
//  Returns 0, or CP_ENOTENROLLED when no data key is live.
int
    central_auth_sign_reply (central_auth_t *self, const char *command,
                             const char *municipality, const uint8_t *body, size_t body_size,
                             const char *data_key, char *key_id, uint8_t *signature);

//  Seals one archived batch's events (a cp_codec batch of size bytes, or
//  none at the archive's end) for a recovery by municipality's node: to
//  the node key recovered->node_key names, which must be the
//  municipality's current node key, and signed with the live central data
//  key recovered->data_key names.  Fills the rest of recovered
//  (municipality, a fresh nonce) and makes the RECOVERED's frames in
//  *sealed (cp_batch_seal_recovered; the caller frees them with
//  cp_batch_sealed_free).  Returns 0, CP_EUNKNOWNKEY, CP_EIMPERSONATION
//  (another municipality's key), CP_EREVOKED, CP_EEXPIRED (also for a key
//  that is not the current one); on error *sealed holds nothing.
int
    central_auth_seal_recovered (central_auth_t *self, int municipality,
                                 cp_recovered_t *recovered, const uint8_t *events, size_t size,
                                 cp_batch_sealed_t *sealed);

#endif
