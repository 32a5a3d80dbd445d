/*  cp_envelope: a batch sealed for the central and signed by its node.

    The payload of a BATCH (the cp_codec batch) is encrypted with
    XChaCha20-Poly1305 under a session key that the node and the central
    each derive from an X25519 exchange between the node's key-exchange
    key and the central's current data key (libsodium's crypto_kx: the node
    is the client and encrypts with its tx key, the central decrypts with
    its rx key).  The BATCH header (municipality, sequence range, key ids,
    nonce) is the associated data, so it cannot be changed without the
    open failing.  The node signs header and ciphertext with its Ed25519
    key: the signed message is the BLAKE2b-512 digest, personalised
    "cpsync batch v1", of the header and the ciphertext, each preceded by
    its length (u32, big-endian), so the boundary between them is part of
    what is signed (cp_envelope_batch_digest).

    The central verifies the signature before it decrypts, and decrypts
    before any msgpack is parsed.  Opening fails with CP_EAUTH whatever was
    wrong (key, signature, header, nonce, ciphertext): the caller learns
    nothing it could use to probe.  Secrets (session keys, signing keys)
    are the caller's, in sodium_malloc'd memory; this module keeps none and
    wipes what it derives.

    The other direction, a recovery (cp_wire's RECOVERED): the central seals
    a municipality's archived events to a node under the other key of the
    same crypto_kx exchange (the central's tx, the node's rx) and signs
    them with its data key; the signed digest is personalised "cpsync recov
    v1", so neither kind of envelope can pass for the other.               */

#ifndef CP_ENVELOPE_H_INCLUDED
#define CP_ENVELOPE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define CP_ENVELOPE_KEY_SIZE 32         //  a session key
#define CP_ENVELOPE_KX_PUBLIC_SIZE 32   //  an X25519 public key
#define CP_ENVELOPE_KX_SECRET_SIZE 32
#define CP_ENVELOPE_SIGN_PUBLIC_SIZE 32 //  an Ed25519 public key
#define CP_ENVELOPE_SIGN_SECRET_SIZE 64
#define CP_ENVELOPE_NONCE_SIZE 24
#define CP_ENVELOPE_SIGNATURE_SIZE 64
#define CP_ENVELOPE_DIGEST_SIZE 64      //  what is signed: a BLAKE2b-512 digest
#define CP_ENVELOPE_OVERHEAD 16         //  the Poly1305 tag

//  What an envelope is: its signed digest is personalised for it.
typedef enum {
    CP_ENVELOPE_BATCH,          //  a node's batch to the central
    CP_ENVELOPE_RECOVERED       //  archived events from the central to a node
} cp_envelope_purpose_t;

//  The node's session key for sealing batches to the central: from the
//  node's key-exchange key pair and the central's data public key.
//  Returns 0, or CP_EAUTH when the central's key is unusable.
int
    cp_envelope_node_key (const uint8_t *node_kx_public, const uint8_t *node_kx_secret,
                          const uint8_t *central_data_public, uint8_t *session_key)
    __attribute__ ((warn_unused_result));

//  The central's session key for opening a node's batches: from its data
//  key pair and the node's key-exchange public key.  Returns 0 or CP_EAUTH.
int
    cp_envelope_central_key (const uint8_t *central_data_public,
                             const uint8_t *central_data_secret,
                             const uint8_t *node_kx_public, uint8_t *session_key)
    __attribute__ ((warn_unused_result));

//  The keys of a recovery: the node's for opening what the central seals
//  to it, the central's for sealing (the other half of the same exchange).
//  Returns 0 or CP_EAUTH.
int
    cp_envelope_node_recovery_key (const uint8_t *node_kx_public,
                                   const uint8_t *node_kx_secret,
                                   const uint8_t *central_data_public, uint8_t *session_key)
    __attribute__ ((warn_unused_result));
int
    cp_envelope_central_recovery_key (const uint8_t *central_data_public,
                                      const uint8_t *central_data_secret,
                                      const uint8_t *node_kx_public, uint8_t *session_key)
    __attribute__ ((warn_unused_result));

//  Fills a fresh random nonce (the header carries it).
void
    cp_envelope_nonce (uint8_t *nonce);

//  Seals payload under session_key with header as associated data, and
//  signs header and ciphertext.  Writes payload_size + CP_ENVELOPE_OVERHEAD
//  bytes to ciphertext and CP_ENVELOPE_SIGNATURE_SIZE bytes to signature.
//  Returns 0, or CP_EAUTH when signing failed (a broken key).
int
    cp_envelope_seal (const uint8_t *header, size_t header_size, const uint8_t *nonce,
                      const uint8_t *payload, size_t payload_size,
                      const uint8_t *session_key, const uint8_t *sign_secret,
                      uint8_t *ciphertext, uint8_t *signature);

//  Verifies the signature with sign_public, then opens the ciphertext
//  (ciphertext_size bytes, at least CP_ENVELOPE_OVERHEAD) into payload
//  (ciphertext_size - CP_ENVELOPE_OVERHEAD bytes).  Returns 0, or CP_EAUTH
//  (payload wiped), or CP_EMALFORMED for a ciphertext shorter than a tag.
int
    cp_envelope_open (const uint8_t *header, size_t header_size, const uint8_t *nonce,
                      const uint8_t *ciphertext, size_t ciphertext_size,
                      const uint8_t *signature, const uint8_t *sign_public,
                      const uint8_t *session_key, uint8_t *payload)
    __attribute__ ((warn_unused_result));

//  cp_envelope_seal and cp_envelope_open for an envelope of either purpose
//  (those two are CP_ENVELOPE_BATCH).
int
    cp_envelope_seal_for (cp_envelope_purpose_t purpose, const uint8_t *header,
                          size_t header_size, const uint8_t *nonce, const uint8_t *payload,
                          size_t payload_size, const uint8_t *session_key,
                          const uint8_t *sign_secret, uint8_t *ciphertext, uint8_t *signature);
int
    cp_envelope_open_for (cp_envelope_purpose_t purpose, const uint8_t *header,
                          size_t header_size, const uint8_t *nonce, const uint8_t *ciphertext,
                          size_t ciphertext_size, const uint8_t *signature,
                          const uint8_t *sign_public, const uint8_t *session_key,
                          uint8_t *payload)
    __attribute__ ((warn_unused_result));

//  The digest a batch's signature signs (CP_ENVELOPE_DIGEST_SIZE bytes):
//  BLAKE2b-512 personalised "cpsync batch v1" of the header and the
//  ciphertext, each preceded by its length (u32, big-endian).
void
    cp_envelope_batch_digest (const uint8_t *header, size_t header_size,
                              const uint8_t *ciphertext, size_t ciphertext_size,
                              uint8_t *digest);

//  The digest a reply's signature signs: BLAKE2b-512 personalised "cpsync
//  reply v1" of the command name, the municipality and the body, each
//  preceded by its length (u32, big-endian).
void
    cp_envelope_reply_digest (const char *command, const char *municipality,
                              const uint8_t *body, size_t body_size, uint8_t *digest);

//  Signs a reply of the central (WELCOME, ACK, NACK) to one municipality's
//  node (Ed25519 over cp_envelope_reply_digest), so a reply cannot be
//  passed off as another command or sent to another node.  sign_secret is
//  the Ed25519 secret of a central data key.  Returns 0 or CP_EAUTH.
int
    cp_envelope_sign_reply (const char *command, const char *municipality,
                            const uint8_t *body, size_t body_size,
                            const uint8_t *sign_secret, uint8_t *signature);

//  Verifies a reply's signature (signature_size must be
//  CP_ENVELOPE_SIGNATURE_SIZE).  Returns 0, or CP_EAUTH.
int
    cp_envelope_verify_reply (const char *command, const char *municipality,
                              const uint8_t *body, size_t body_size,
                              const uint8_t *signature, size_t signature_size,
                              const uint8_t *sign_public)
    __attribute__ ((warn_unused_result));

#endif
