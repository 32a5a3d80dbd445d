/*  downlink_root: the root key of fuzz_downlink and of its seeds.

    The fuzz target verifies entries against this key and signs the signed
    parts it is given with it; gen_corpus signs the corpus's whole entries
    with it, so that they get past the signature.  A fixed seed: the same
    key every run, and no secret of anyone's.                               */

#ifndef DOWNLINK_ROOT_H_INCLUDED
#define DOWNLINK_ROOT_H_INCLUDED

#include "cp_enrolment.h"

#include <sodium.h>
#include <string.h>

//  The key pair made from 32 bytes of 0x5a.
static inline void
downlink_root (uint8_t *public_key, uint8_t *secret)
{
    uint8_t seed [crypto_sign_SEEDBYTES];
    memset (seed, 0x5a, sizeof seed);
    crypto_sign_seed_keypair (public_key, secret, seed);
}

#endif
