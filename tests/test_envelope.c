/*  test_envelope: the sealed and signed batch of cp_envelope.

    Golden vectors (fixed seeds, nonce, header and payload → exact session
    key, ciphertext and signature), frozen from the first run so that any
    change to how the primitives are put together is caught; a cross-check
    that the central's key opens what the node's key sealed, through
    libsodium directly (batches and replies); and the hostile cases: every flipped bit of header,
    nonce, ciphertext and signature, every truncation, another node's
    signature, another node's session key, a wrong central key — each must
    fail with CP_EAUTH, wiping the output.                                  */

#include "cp_envelope.h"
#include "cp_error.h"
#include "testing.h"

#include <sodium.h>

typedef struct {
    uint8_t node_kx_public [32], node_kx_secret [32];
    uint8_t central_public [32], central_secret [32];
    uint8_t sign_public [32], sign_secret [64];
    uint8_t nonce [CP_ENVELOPE_NONCE_SIZE];
} s_keys_t;

static const uint8_t s_header [] = "cpsync KAT header";
static const uint8_t s_payload [] = "cpsync KAT payload";
#define S_HEADER_SIZE (sizeof s_header - 1)
#define S_PAYLOAD_SIZE (sizeof s_payload - 1)
#define S_SEALED_SIZE (S_PAYLOAD_SIZE + CP_ENVELOPE_OVERHEAD)

//  Key pairs from fixed seeds: first byte of each seed is base, then +1...
static void
s_keys (s_keys_t *keys, int base)
{
    uint8_t seed [32];
    for (int index = 0; index < 32; index++)
        seed [index] = (uint8_t) (base + 1 + index);
    crypto_kx_seed_keypair (keys->node_kx_public, keys->node_kx_secret, seed);
    for (int index = 0; index < 32; index++)
        seed [index] = (uint8_t) (base + 101 + index);
    crypto_kx_seed_keypair (keys->central_public, keys->central_secret, seed);
    for (int index = 0; index < 32; index++)
        seed [index] = (uint8_t) (base + 201 + index);
    crypto_sign_seed_keypair (keys->sign_public, keys->sign_secret, seed);
    for (int index = 0; index < CP_ENVELOPE_NONCE_SIZE; index++)
        keys->nonce [index] = (uint8_t) index;
}

static void
s_hex (const char *hex, uint8_t *out, size_t size)
{
    for (size_t index = 0; index < size; index++)
        sscanf (hex + 2 * index, "%2hhx", &out [index]);
}

static void
s_seal (const s_keys_t *keys, uint8_t *sealed, uint8_t *signature)
{
    uint8_t key [CP_ENVELOPE_KEY_SIZE];
    CHECK_EQ_INT (cp_envelope_node_key (keys->node_kx_public, keys->node_kx_secret,
                                        keys->central_public, key), 0);
    CHECK_EQ_INT (cp_envelope_seal (s_header, S_HEADER_SIZE, keys->nonce, s_payload,
                                    S_PAYLOAD_SIZE, key, keys->sign_secret, sealed, signature), 0);
}

//  Opens with the central's key; returns the code and checks the wiping.
static int
s_open (const s_keys_t *keys, const uint8_t *header, size_t header_size, const uint8_t *nonce,
        const uint8_t *sealed, size_t sealed_size, const uint8_t *signature)
{
    uint8_t key [CP_ENVELOPE_KEY_SIZE];
    if (cp_envelope_central_key (keys->central_public, keys->central_secret,
                                 keys->node_kx_public, key))
        return -1;
    uint8_t payload [S_PAYLOAD_SIZE + 64];
    memset (payload, 0xAA, sizeof payload);
    int rc = cp_envelope_open (header, header_size, nonce, sealed, sealed_size, signature,
                               keys->sign_public, key, payload);
    if (rc == 0)
        CHECK (sealed_size - CP_ENVELOPE_OVERHEAD != S_PAYLOAD_SIZE
               || memcmp (payload, s_payload, S_PAYLOAD_SIZE) == 0);
    return rc;
}

static void
test_known_answer (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    uint8_t key [32], want_key [32], sealed [S_SEALED_SIZE], want_sealed [S_SEALED_SIZE];
    uint8_t signature [64], want_signature [64];
    s_hex ("7ed4577b5fa26bec9f66b7ebc325ee6c19a25ac9b453e6df51dea37eb7f815ec", want_key, 32);
    s_hex ("cfebe17e8c98cf1909fad88c5a2c6196efb0b7cc5cd7ad51396af856c3e8aeaaaf34",
           want_sealed, S_SEALED_SIZE);
    s_hex ("c0b7c4a4f29cd78f84428a11f9ab2047706fdc3f6e24d7130272c1ed76dbec7c"
           "9caef578c1f111f0035d9c36919e397d65dd667359348f82711fe35248632e02",
           want_signature, 64);
    CHECK_EQ_INT (cp_envelope_node_key (keys.node_kx_public, keys.node_kx_secret,
                                        keys.central_public, key), 0);
    CHECK (memcmp (key, want_key, 32) == 0);
    s_seal (&keys, sealed, signature);
    CHECK (memcmp (sealed, want_sealed, S_SEALED_SIZE) == 0);
    CHECK (memcmp (signature, want_signature, 64) == 0);
}

//  The central's key is the node's, and libsodium alone opens the result:
//  the composition is the documented one, not a private format.
static void
test_cross_check (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    uint8_t node_key [32], central_key [32], sealed [S_SEALED_SIZE], signature [64];
    CHECK_EQ_INT (cp_envelope_node_key (keys.node_kx_public, keys.node_kx_secret,
                                        keys.central_public, node_key), 0);
    CHECK_EQ_INT (cp_envelope_central_key (keys.central_public, keys.central_secret,
                                           keys.node_kx_public, central_key), 0);
    CHECK (memcmp (node_key, central_key, 32) == 0);
    s_seal (&keys, sealed, signature);
    uint8_t plain [S_PAYLOAD_SIZE];
    unsigned long long plain_size;
    CHECK_EQ_INT (crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &plain_size, NULL, sealed,
                      S_SEALED_SIZE, s_header, S_HEADER_SIZE, keys.nonce, central_key), 0);
    CHECK_EQ_INT (plain_size, S_PAYLOAD_SIZE);
    CHECK (memcmp (plain, s_payload, S_PAYLOAD_SIZE) == 0);
    CHECK_EQ_INT (s_open (&keys, s_header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                          signature), 0);
    //  The signature is libsodium's Ed25519 over the BLAKE2b-512 digest,
    //  personalised, of the length-prefixed header and ciphertext.
    uint8_t message [4 + S_HEADER_SIZE + 4 + S_SEALED_SIZE], digest [64];
    uint8_t personal [crypto_generichash_blake2b_PERSONALBYTES] = "cpsync batch v1";
    message [0] = message [1] = message [2] = 0;
    message [3] = (uint8_t) S_HEADER_SIZE;
    memcpy (message + 4, s_header, S_HEADER_SIZE);
    uint8_t *at = message + 4 + S_HEADER_SIZE;
    at [0] = at [1] = at [2] = 0;
    at [3] = (uint8_t) S_SEALED_SIZE;
    memcpy (at + 4, sealed, S_SEALED_SIZE);
    CHECK_EQ_INT (crypto_generichash_blake2b_salt_personal (digest, 64, message, sizeof message,
                                                            NULL, 0, NULL, personal), 0);
    CHECK_EQ_INT (crypto_sign_verify_detached (signature, digest, 64, keys.sign_public), 0);
    uint8_t own [CP_ENVELOPE_DIGEST_SIZE];
    cp_envelope_batch_digest (s_header, S_HEADER_SIZE, sealed, S_SEALED_SIZE, own);
    CHECK (memcmp (own, digest, 64) == 0);
}

//  One flipped bit anywhere: header, nonce, ciphertext, signature.
static void
test_flipped_bits (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    uint8_t sealed [S_SEALED_SIZE], signature [64];
    s_seal (&keys, sealed, signature);
    int failures = 0;
    for (size_t bit = 0; bit < 8 * S_HEADER_SIZE; bit++) {
        uint8_t header [S_HEADER_SIZE];
        memcpy (header, s_header, S_HEADER_SIZE);
        header [bit / 8] ^= (uint8_t) (1 << (bit % 8));
        failures += s_open (&keys, header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                            signature) != CP_EAUTH;
    }
    for (size_t bit = 0; bit < 8 * CP_ENVELOPE_NONCE_SIZE; bit++) {
        uint8_t nonce [CP_ENVELOPE_NONCE_SIZE];
        memcpy (nonce, keys.nonce, sizeof nonce);
        nonce [bit / 8] ^= (uint8_t) (1 << (bit % 8));
        failures += s_open (&keys, s_header, S_HEADER_SIZE, nonce, sealed, S_SEALED_SIZE,
                            signature) != CP_EAUTH;
    }
    for (size_t bit = 0; bit < 8 * S_SEALED_SIZE; bit++) {
        uint8_t copy [S_SEALED_SIZE];
        memcpy (copy, sealed, sizeof copy);
        copy [bit / 8] ^= (uint8_t) (1 << (bit % 8));
        failures += s_open (&keys, s_header, S_HEADER_SIZE, keys.nonce, copy, S_SEALED_SIZE,
                            signature) != CP_EAUTH;
    }
    for (size_t bit = 0; bit < 8 * 64; bit++) {
        uint8_t copy [64];
        memcpy (copy, signature, sizeof copy);
        copy [bit / 8] ^= (uint8_t) (1 << (bit % 8));
        failures += s_open (&keys, s_header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                            copy) != CP_EAUTH;
    }
    CHECK_EQ_INT (failures, 0);
}

//  Every shorter ciphertext, and a header cut at every length.
static void
test_truncation (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    uint8_t sealed [S_SEALED_SIZE], signature [64];
    s_seal (&keys, sealed, signature);
    for (size_t size = 0; size < S_SEALED_SIZE; size++) {
        int rc = s_open (&keys, s_header, S_HEADER_SIZE, keys.nonce, sealed, size, signature);
        CHECK_EQ_INT (rc, size < CP_ENVELOPE_OVERHEAD? CP_EMALFORMED: CP_EAUTH);
    }
    for (size_t size = 0; size < S_HEADER_SIZE; size++)
        CHECK_EQ_INT (s_open (&keys, s_header, size, keys.nonce, sealed, S_SEALED_SIZE,
                              signature), CP_EAUTH);
}

//  Keys that are not the right ones, each refused.
static void
test_wrong_keys (void)
{
    s_keys_t keys, other;
    s_keys (&keys, 0);
    s_keys (&other, 7);
    uint8_t sealed [S_SEALED_SIZE], signature [64];
    s_seal (&keys, sealed, signature);

    //  Verified with another node's signing key
    s_keys_t mixed = keys;
    memcpy (mixed.sign_public, other.sign_public, 32);
    CHECK_EQ_INT (s_open (&mixed, s_header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                          signature), CP_EAUTH);
    //  Opened as if from another node (its key-exchange key)
    mixed = keys;
    memcpy (mixed.node_kx_public, other.node_kx_public, 32);
    CHECK_EQ_INT (s_open (&mixed, s_header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                          signature), CP_EAUTH);
    //  Opened with another (old, rotated) central data key
    mixed = keys;
    memcpy (mixed.central_public, other.central_public, 32);
    memcpy (mixed.central_secret, other.central_secret, 32);
    CHECK_EQ_INT (s_open (&mixed, s_header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                          signature), CP_EAUTH);
    //  Re-signed by another node: a valid signature, the wrong signer
    uint8_t key [32], forged [64];
    CHECK_EQ_INT (cp_envelope_node_key (keys.node_kx_public, keys.node_kx_secret,
                                        keys.central_public, key), 0);
    uint8_t resealed [S_SEALED_SIZE];
    CHECK_EQ_INT (cp_envelope_seal (s_header, S_HEADER_SIZE, keys.nonce, s_payload,
                                    S_PAYLOAD_SIZE, key, other.sign_secret, resealed, forged), 0);
    CHECK_EQ_INT (s_open (&keys, s_header, S_HEADER_SIZE, keys.nonce, resealed, S_SEALED_SIZE,
                          forged), CP_EAUTH);
}

//  A correctly signed envelope whose ciphertext does not open (sealed with
//  another session key) leaves no plaintext behind.
static void
test_output_wiped (void)
{
    s_keys_t keys, other;
    s_keys (&keys, 0);
    s_keys (&other, 7);
    uint8_t wrong_key [32], right_key [32], sealed [S_SEALED_SIZE], signature [64];
    CHECK_EQ_INT (cp_envelope_node_key (other.node_kx_public, other.node_kx_secret,
                                        other.central_public, wrong_key), 0);
    CHECK_EQ_INT (cp_envelope_seal (s_header, S_HEADER_SIZE, keys.nonce, s_payload,
                                    S_PAYLOAD_SIZE, wrong_key, keys.sign_secret, sealed,
                                    signature), 0);
    CHECK_EQ_INT (cp_envelope_central_key (keys.central_public, keys.central_secret,
                                           keys.node_kx_public, right_key), 0);
    uint8_t payload [S_PAYLOAD_SIZE];
    memset (payload, 0xAA, sizeof payload);
    CHECK_EQ_INT (cp_envelope_open (s_header, S_HEADER_SIZE, keys.nonce, sealed, S_SEALED_SIZE,
                                    signature, keys.sign_public, right_key, payload), CP_EAUTH);
    uint8_t zeros [S_PAYLOAD_SIZE] = {0};
    CHECK (memcmp (payload, zeros, sizeof zeros) == 0);
}

//  Empty and large payloads; nonces differ from call to call.
static void
test_sizes_and_nonces (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    uint8_t key [32];
    CHECK_EQ_INT (cp_envelope_node_key (keys.node_kx_public, keys.node_kx_secret,
                                        keys.central_public, key), 0);
    size_t sizes [] = {0, 1, 4096, 4 << 20};
    for (size_t index = 0; index < sizeof sizes / sizeof sizes [0]; index++) {
        size_t size = sizes [index];
        uint8_t *plain = malloc (size + 1), *sealed = malloc (size + CP_ENVELOPE_OVERHEAD);
        uint8_t *back = malloc (size + 1), signature [64];
        randombytes_buf (plain, size);
        CHECK_EQ_INT (cp_envelope_seal (s_header, S_HEADER_SIZE, keys.nonce, plain, size, key,
                                        keys.sign_secret, sealed, signature), 0);
        CHECK_EQ_INT (cp_envelope_open (s_header, S_HEADER_SIZE, keys.nonce, sealed,
                                        size + CP_ENVELOPE_OVERHEAD, signature,
                                        keys.sign_public, key, back), 0);
        CHECK (size == 0 || memcmp (plain, back, size) == 0);
        free (plain);
        free (sealed);
        free (back);
    }
    uint8_t first [CP_ENVELOPE_NONCE_SIZE], second [CP_ENVELOPE_NONCE_SIZE];
    cp_envelope_nonce (first);
    cp_envelope_nonce (second);
    CHECK (memcmp (first, second, sizeof first) != 0);
}

//  Replies: signed over the personalised digest of command, municipality
//  and body; any change to one of them, or a signature made for a batch,
//  fails.
static void
test_reply (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    const uint8_t body [] = {0x91, 0xcd, 0x01, 0x2c};
    uint8_t signature [64];
    CHECK_EQ_INT (cp_envelope_sign_reply ("ACK", "tirane", body, sizeof body, keys.sign_secret,
                                          signature), 0);
    CHECK_EQ_INT (cp_envelope_verify_reply ("ACK", "tirane", body, sizeof body, signature, 64,
                                            keys.sign_public), 0);
    //  libsodium alone: Ed25519 over BLAKE2b-512 personalised "cpsync reply v1".
    uint8_t message [4 + 3 + 4 + 6 + 4 + sizeof body], digest [64];
    uint8_t personal [crypto_generichash_blake2b_PERSONALBYTES] = "cpsync reply v1";
    memcpy (message, "\0\0\0\3ACK\0\0\0\6tirane\0\0\0\4", 4 + 3 + 4 + 6 + 4);
    memcpy (message + 4 + 3 + 4 + 6 + 4, body, sizeof body);
    CHECK_EQ_INT (crypto_generichash_blake2b_salt_personal (digest, 64, message, sizeof message,
                                                            NULL, 0, NULL, personal), 0);
    CHECK_EQ_INT (crypto_sign_verify_detached (signature, digest, 64, keys.sign_public), 0);

    CHECK_EQ_INT (cp_envelope_verify_reply ("NACK", "tirane", body, sizeof body, signature, 64,
                                        keys.sign_public), CP_EAUTH);
    CHECK_EQ_INT (cp_envelope_verify_reply ("ACK", "durres", body, sizeof body, signature, 64,
                                        keys.sign_public), CP_EAUTH);
    CHECK_EQ_INT (cp_envelope_verify_reply ("ACK", "tirane", body, sizeof body - 1, signature, 64,
                                        keys.sign_public), CP_EAUTH);
    CHECK_EQ_INT (cp_envelope_verify_reply ("ACK", "tirane", body, sizeof body, signature, 63,
                                        keys.sign_public), CP_EAUTH);
    for (size_t bit = 0; bit < 8 * sizeof signature; bit++) {
        signature [bit / 8] ^= (uint8_t) (1 << bit % 8);
        CHECK_EQ_INT (cp_envelope_verify_reply ("ACK", "tirane", body, sizeof body, signature, 64,
                                            keys.sign_public), CP_EAUTH);
        signature [bit / 8] ^= (uint8_t) (1 << bit % 8);
    }
    //  The batch digest of the same parts is another message.
    uint8_t batch_digest [CP_ENVELOPE_DIGEST_SIZE], reply_digest [CP_ENVELOPE_DIGEST_SIZE];
    cp_envelope_batch_digest ((const uint8_t *) "ACK", 3, body, sizeof body, batch_digest);
    cp_envelope_reply_digest ("ACK", "", body, sizeof body, reply_digest);
    CHECK (memcmp (batch_digest, reply_digest, sizeof batch_digest) != 0);
}

static void
test_setup (void)
{
    CHECK (sodium_init () >= 0);
}

TESTING_MAIN (
    TEST (test_setup),
    TEST (test_known_answer),
    TEST (test_cross_check),
    TEST (test_flipped_bits),
    TEST (test_truncation),
    TEST (test_wrong_keys),
    TEST (test_output_wiped),
    TEST (test_sizes_and_nonces),
    TEST (test_reply)
)
