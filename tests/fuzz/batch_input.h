/*  batch_input: what an input of fuzz_batch is, shared by the target and
    gen_corpus (which writes the seeds), so that both read it alike.

    The first byte picks a mode.  Even: the rest is received frames, a
    count byte (modulo 5), then each frame as a u16 big-endian length and
    that many bytes (cut short where the input ends).  Odd: the rest is a
    batch a node seals itself with the fixed keys below: a u16 first
    sequence (plus one), a byte of events less one (the header's last is
    first plus it), then the payload, whatever it holds.  Even inputs reach
    the checks before the signature; odd ones, which the signature lets
    through, reach the payload's decoding and its match with the header.
    Header-only, for the fuzz target and the corpus generator.              */

#ifndef BATCH_INPUT_H_INCLUDED
#define BATCH_INPUT_H_INCLUDED

#include "cp_batch.h"

#include <sodium.h>
#include <string.h>

#define BATCH_INPUT_FRAMES_MAX 4

//  The fixed keys of the node and the central: from constant seeds.
typedef struct {
    uint8_t sign_public [crypto_sign_PUBLICKEYBYTES];
    uint8_t sign_secret [crypto_sign_SECRETKEYBYTES];
    uint8_t node_key [CP_ENVELOPE_KEY_SIZE];        //  the node's envelope key
    uint8_t central_key [CP_ENVELOPE_KEY_SIZE];     //  the central's: the same
} batch_input_keys_t;

static inline void
batch_input_keys (batch_input_keys_t *keys)
{
    uint8_t seed [32], node_public [32], node_secret [32], data_public [32], data_secret [32];
    memset (seed, 1, sizeof seed);
    crypto_kx_seed_keypair (node_public, node_secret, seed);
    memset (seed, 2, sizeof seed);
    crypto_kx_seed_keypair (data_public, data_secret, seed);
    memset (seed, 3, sizeof seed);
    crypto_sign_seed_keypair (keys->sign_public, keys->sign_secret, seed);
    if (cp_envelope_node_key (node_public, node_secret, data_public, keys->node_key)
    ||  cp_envelope_central_key (data_public, data_secret, node_public, keys->central_key))
        memset (keys, 0, sizeof *keys);
}

//  The header a node of the odd mode seals under: berat's, events first
//  to last, the key ids of no one.
static inline cp_batch_header_t
batch_input_header (uint64_t first, uint64_t last)
{
    cp_batch_header_t header;
    memset (&header, 0, sizeof header);
    strcpy (header.municipality, "berat");
    memset (header.log, 0x5a, sizeof header.log);
    header.first = first;
    header.last = last;
    header.head = last;
    strcpy (header.node_key, "n-fuzz");
    strcpy (header.data_key, "d-fuzz");
    return header;
}

#endif
