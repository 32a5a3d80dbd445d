/*  cp_envelope: crypto_kx session keys, XChaCha20-Poly1305 with the header
    as associated data, Ed25519ph signatures.  Every primitive is
    libsodium's; this file only decides how they are put together.       */

#include "cp_envelope.h"
#include "cp_error.h"

#include <sodium.h>
#include <string.h>

int
cp_envelope_node_key (const uint8_t *node_kx_public, const uint8_t *node_kx_secret,
                      const uint8_t *central_data_public, uint8_t *session_key)
{
    uint8_t rx [crypto_kx_SESSIONKEYBYTES];
    int rc = crypto_kx_client_session_keys (rx, session_key, node_kx_public, node_kx_secret,
                                            central_data_public);
    sodium_memzero (rx, sizeof rx);
    return rc == 0? 0: CP_EAUTH;
}

int
cp_envelope_central_key (const uint8_t *central_data_public, const uint8_t *central_data_secret,
                         const uint8_t *node_kx_public, uint8_t *session_key)
{
    uint8_t tx [crypto_kx_SESSIONKEYBYTES];
    int rc = crypto_kx_server_session_keys (session_key, tx, central_data_public,
                                            central_data_secret, node_kx_public);
    sodium_memzero (tx, sizeof tx);
    return rc == 0? 0: CP_EAUTH;
}

void
cp_envelope_nonce (uint8_t *nonce)
{
    randombytes_buf (nonce, CP_ENVELOPE_NONCE_SIZE);
}

//  Feeds what is signed: the header's length (u32, big-endian), the
//  header, then the ciphertext.
static void
s_signed_parts (crypto_sign_state *state, const uint8_t *header, size_t header_size,
                const uint8_t *ciphertext, size_t ciphertext_size)
{
    uint8_t length [4] = {(uint8_t) (header_size >> 24), (uint8_t) (header_size >> 16),
                          (uint8_t) (header_size >> 8), (uint8_t) header_size};
    crypto_sign_init (state);
    crypto_sign_update (state, length, sizeof length);
    crypto_sign_update (state, header, header_size);
    crypto_sign_update (state, ciphertext, ciphertext_size);
}

int
cp_envelope_seal (const uint8_t *header, size_t header_size, const uint8_t *nonce,
                  const uint8_t *payload, size_t payload_size,
                  const uint8_t *session_key, const uint8_t *sign_secret,
                  uint8_t *ciphertext, uint8_t *signature)
{
    unsigned long long sealed_size;
    crypto_aead_xchacha20poly1305_ietf_encrypt (ciphertext, &sealed_size, payload, payload_size,
                                                header, header_size, NULL, nonce, session_key);
    crypto_sign_state state;
    s_signed_parts (&state, header, header_size, ciphertext, (size_t) sealed_size);
    int rc = crypto_sign_final_create (&state, signature, NULL, sign_secret);
    sodium_memzero (&state, sizeof state);
    return rc == 0? 0: CP_EAUTH;
}

int
cp_envelope_open (const uint8_t *header, size_t header_size, const uint8_t *nonce,
                  const uint8_t *ciphertext, size_t ciphertext_size,
                  const uint8_t *signature, const uint8_t *sign_public,
                  const uint8_t *session_key, uint8_t *payload)
{
    if (ciphertext_size < CP_ENVELOPE_OVERHEAD)
        return CP_EMALFORMED;
    //  Who sent it first: nothing is decrypted for an unsigned batch.
    crypto_sign_state state;
    s_signed_parts (&state, header, header_size, ciphertext, ciphertext_size);
    int rc = crypto_sign_final_verify (&state, signature, sign_public);
    sodium_memzero (&state, sizeof state);
    if (rc != 0)
        return CP_EAUTH;
    unsigned long long opened_size;
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt (payload, &opened_size, NULL, ciphertext,
                                                     ciphertext_size, header, header_size,
                                                     nonce, session_key);
    if (rc != 0) {
        sodium_memzero (payload, ciphertext_size - CP_ENVELOPE_OVERHEAD);
        return CP_EAUTH;
    }
    return 0;
}

//  Feeds one part of a reply: its length (u32, big-endian), then its bytes.
static void
s_reply_part (crypto_sign_state *state, const uint8_t *part, size_t size)
{
    uint8_t length [4] = {(uint8_t) (size >> 24), (uint8_t) (size >> 16),
                          (uint8_t) (size >> 8), (uint8_t) size};
    crypto_sign_update (state, length, sizeof length);
    crypto_sign_update (state, part, size);
}

static void
s_reply_parts (crypto_sign_state *state, const char *command, const char *municipality,
               const uint8_t *body, size_t body_size)
{
    crypto_sign_init (state);
    s_reply_part (state, (const uint8_t *) command, strlen (command));
    s_reply_part (state, (const uint8_t *) municipality, strlen (municipality));
    s_reply_part (state, body, body_size);
}

int
cp_envelope_sign_reply (const char *command, const char *municipality,
                        const uint8_t *body, size_t body_size,
                        const uint8_t *sign_secret, uint8_t *signature)
{
    crypto_sign_state state;
    s_reply_parts (&state, command, municipality, body, body_size);
    int rc = crypto_sign_final_create (&state, signature, NULL, sign_secret);
    sodium_memzero (&state, sizeof state);
    return rc == 0? 0: CP_EAUTH;
}

int
cp_envelope_verify_reply (const char *command, const char *municipality,
                          const uint8_t *body, size_t body_size,
                          const uint8_t *signature, size_t signature_size,
                          const uint8_t *sign_public)
{
    if (signature_size != CP_ENVELOPE_SIGNATURE_SIZE)
        return CP_EAUTH;
    crypto_sign_state state;
    s_reply_parts (&state, command, municipality, body, body_size);
    int rc = crypto_sign_final_verify (&state, signature, sign_public);
    sodium_memzero (&state, sizeof state);
    return rc == 0? 0: CP_EAUTH;
}
