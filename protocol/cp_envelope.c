/*  cp_envelope: crypto_kx session keys, XChaCha20-Poly1305 with the header
    as associated data, Ed25519 signatures over a BLAKE2b-512 digest.
    Every primitive is libsodium's; this file only decides how they are put
    together.

    Why a digest: what is signed is a whole batch (up to hundreds of
    kilobytes), and Ed25519 over a long message hashes it with SHA-512
    (twice when signing); libsodium's BLAKE2b hashes it in half the time
    of its SHA-512, once on each side.  The digest is personalised per use
    (a batch, a reply), so a signature made for one cannot pass as the
    other.                                                                 */

#include "cp_envelope.h"
#include "cp_error.h"

#include <sodium.h>
#include <string.h>

//  The two keys of a crypto_kx exchange: the node is the client, the
//  central the server; each side keeps the one it needs and wipes the
//  other.  Returns 0 or CP_EAUTH.
static int
s_node_keys (const uint8_t *node_kx_public, const uint8_t *node_kx_secret,
             const uint8_t *central_data_public, uint8_t *rx, uint8_t *tx)
{
    return crypto_kx_client_session_keys (rx, tx, node_kx_public, node_kx_secret,
                                          central_data_public) == 0? 0: CP_EAUTH;
}

static int
s_central_keys (const uint8_t *central_data_public, const uint8_t *central_data_secret,
                const uint8_t *node_kx_public, uint8_t *rx, uint8_t *tx)
{
    return crypto_kx_server_session_keys (rx, tx, central_data_public, central_data_secret,
                                          node_kx_public) == 0? 0: CP_EAUTH;
}

int
cp_envelope_node_key (const uint8_t *node_kx_public, const uint8_t *node_kx_secret,
                      const uint8_t *central_data_public, uint8_t *session_key)
{
    uint8_t rx [crypto_kx_SESSIONKEYBYTES];
    int rc = s_node_keys (node_kx_public, node_kx_secret, central_data_public, rx, session_key);
    sodium_memzero (rx, sizeof rx);
    return rc;
}

int
cp_envelope_central_key (const uint8_t *central_data_public, const uint8_t *central_data_secret,
                         const uint8_t *node_kx_public, uint8_t *session_key)
{
    uint8_t tx [crypto_kx_SESSIONKEYBYTES];
    int rc = s_central_keys (central_data_public, central_data_secret, node_kx_public,
                             session_key, tx);
    sodium_memzero (tx, sizeof tx);
    return rc;
}

int
cp_envelope_node_recovery_key (const uint8_t *node_kx_public, const uint8_t *node_kx_secret,
                               const uint8_t *central_data_public, uint8_t *session_key)
{
    uint8_t tx [crypto_kx_SESSIONKEYBYTES];
    int rc = s_node_keys (node_kx_public, node_kx_secret, central_data_public, session_key, tx);
    sodium_memzero (tx, sizeof tx);
    return rc;
}

int
cp_envelope_central_recovery_key (const uint8_t *central_data_public,
                                  const uint8_t *central_data_secret,
                                  const uint8_t *node_kx_public, uint8_t *session_key)
{
    uint8_t rx [crypto_kx_SESSIONKEYBYTES];
    int rc = s_central_keys (central_data_public, central_data_secret, node_kx_public, rx,
                             session_key);
    sodium_memzero (rx, sizeof rx);
    return rc;
}

void
cp_envelope_nonce (uint8_t *nonce)
{
    randombytes_buf (nonce, CP_ENVELOPE_NONCE_SIZE);
}

//  BLAKE2b personalisations (16 bytes each): what a digest is of.
static const uint8_t s_batch_personal [crypto_generichash_blake2b_PERSONALBYTES] =
    "cpsync batch v1";
static const uint8_t s_reply_personal [crypto_generichash_blake2b_PERSONALBYTES] =
    "cpsync reply v1";
static const uint8_t s_recovered_personal [crypto_generichash_blake2b_PERSONALBYTES] =
    "cpsync recov v1";

static void
s_digest_init (crypto_generichash_blake2b_state *state, const uint8_t *personal)
{
    crypto_generichash_blake2b_init_salt_personal (state, NULL, 0, CP_ENVELOPE_DIGEST_SIZE,
                                                   NULL, personal);
}

//  Feeds one part: its length (u32, big-endian), then its bytes, so that
//  the boundaries between parts are part of what is signed.
static void
s_digest_part (crypto_generichash_blake2b_state *state, const uint8_t *part, size_t size)
{
    uint8_t length [4] = {(uint8_t) (size >> 24), (uint8_t) (size >> 16),
                          (uint8_t) (size >> 8), (uint8_t) size};
    crypto_generichash_blake2b_update (state, length, sizeof length);
    crypto_generichash_blake2b_update (state, part, size);
}

//  The digest of header and ciphertext for one purpose.
static void
s_sealed_digest (cp_envelope_purpose_t purpose, const uint8_t *header, size_t header_size,
                 const uint8_t *ciphertext, size_t ciphertext_size, uint8_t *digest)
{
    crypto_generichash_blake2b_state state;
    s_digest_init (&state, purpose == CP_ENVELOPE_RECOVERED? s_recovered_personal
                                                           : s_batch_personal);
    s_digest_part (&state, header, header_size);
    s_digest_part (&state, ciphertext, ciphertext_size);
    crypto_generichash_blake2b_final (&state, digest, CP_ENVELOPE_DIGEST_SIZE);
}

void
cp_envelope_batch_digest (const uint8_t *header, size_t header_size,
                          const uint8_t *ciphertext, size_t ciphertext_size, uint8_t *digest)
{
    s_sealed_digest (CP_ENVELOPE_BATCH, header, header_size, ciphertext, ciphertext_size,
                     digest);
}

void
cp_envelope_reply_digest (const char *command, const char *municipality,
                          const uint8_t *body, size_t body_size, uint8_t *digest)
{
    crypto_generichash_blake2b_state state;
    s_digest_init (&state, s_reply_personal);
    s_digest_part (&state, (const uint8_t *) command, strlen (command));
    s_digest_part (&state, (const uint8_t *) municipality, strlen (municipality));
    s_digest_part (&state, body, body_size);
    crypto_generichash_blake2b_final (&state, digest, CP_ENVELOPE_DIGEST_SIZE);
}

static int
s_sign (const uint8_t *digest, const uint8_t *sign_secret, uint8_t *signature)
{
    return crypto_sign_detached (signature, NULL, digest, CP_ENVELOPE_DIGEST_SIZE,
                                 sign_secret) == 0? 0: CP_EAUTH;
}

static int
s_verify (const uint8_t *digest, const uint8_t *signature, const uint8_t *sign_public)
{
    return crypto_sign_verify_detached (signature, digest, CP_ENVELOPE_DIGEST_SIZE,
                                        sign_public) == 0? 0: CP_EAUTH;
}

int
cp_envelope_seal_for (cp_envelope_purpose_t purpose, const uint8_t *header,
                      size_t header_size, const uint8_t *nonce, const uint8_t *payload,
                      size_t payload_size, const uint8_t *session_key,
                      const uint8_t *sign_secret, uint8_t *ciphertext, uint8_t *signature)
{
    unsigned long long sealed_size;
    crypto_aead_xchacha20poly1305_ietf_encrypt (ciphertext, &sealed_size, payload, payload_size,
                                                header, header_size, NULL, nonce, session_key);
    uint8_t digest [CP_ENVELOPE_DIGEST_SIZE];
    s_sealed_digest (purpose, header, header_size, ciphertext, (size_t) sealed_size, digest);
    return s_sign (digest, sign_secret, signature);
}

int
cp_envelope_seal (const uint8_t *header, size_t header_size, const uint8_t *nonce,
                  const uint8_t *payload, size_t payload_size,
                  const uint8_t *session_key, const uint8_t *sign_secret,
                  uint8_t *ciphertext, uint8_t *signature)
{
    return cp_envelope_seal_for (CP_ENVELOPE_BATCH, header, header_size, nonce, payload,
                                 payload_size, session_key, sign_secret, ciphertext, signature);
}

int
cp_envelope_open (const uint8_t *header, size_t header_size, const uint8_t *nonce,
                  const uint8_t *ciphertext, size_t ciphertext_size,
                  const uint8_t *signature, const uint8_t *sign_public,
                  const uint8_t *session_key, uint8_t *payload)
{
    return cp_envelope_open_for (CP_ENVELOPE_BATCH, header, header_size, nonce, ciphertext,
                                 ciphertext_size, signature, sign_public, session_key, payload);
}

int
cp_envelope_open_for (cp_envelope_purpose_t purpose, const uint8_t *header,
                      size_t header_size, const uint8_t *nonce, const uint8_t *ciphertext,
                      size_t ciphertext_size, const uint8_t *signature,
                      const uint8_t *sign_public, const uint8_t *session_key,
                      uint8_t *payload)
{
    if (ciphertext_size < CP_ENVELOPE_OVERHEAD)
        return CP_EMALFORMED;
    //  Who sent it first: nothing is decrypted for an unsigned envelope.
    uint8_t digest [CP_ENVELOPE_DIGEST_SIZE];
    s_sealed_digest (purpose, header, header_size, ciphertext, ciphertext_size, digest);
    if (s_verify (digest, signature, sign_public))
        return CP_EAUTH;
    unsigned long long opened_size;
    int rc;
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt (payload, &opened_size, NULL, ciphertext,
                                                     ciphertext_size, header, header_size,
                                                     nonce, session_key);
    if (rc != 0) {
        sodium_memzero (payload, ciphertext_size - CP_ENVELOPE_OVERHEAD);
        return CP_EAUTH;
    }
    return 0;
}

int
cp_envelope_sign_reply (const char *command, const char *municipality,
                        const uint8_t *body, size_t body_size,
                        const uint8_t *sign_secret, uint8_t *signature)
{
    uint8_t digest [CP_ENVELOPE_DIGEST_SIZE];
    cp_envelope_reply_digest (command, municipality, body, body_size, digest);
    return s_sign (digest, sign_secret, signature);
}

int
cp_envelope_verify_reply (const char *command, const char *municipality,
                          const uint8_t *body, size_t body_size,
                          const uint8_t *signature, size_t signature_size,
                          const uint8_t *sign_public)
{
    if (signature_size != CP_ENVELOPE_SIGNATURE_SIZE)
        return CP_EAUTH;
    uint8_t digest [CP_ENVELOPE_DIGEST_SIZE];
    cp_envelope_reply_digest (command, municipality, body, body_size, digest);
    return s_verify (digest, signature, sign_public);
}
