/*  downlink_testing: what fuzz_downlink, its seeds (gen_corpus) and
    test_downlink share.

    The root key of fuzz_downlink: the target verifies entries against it
    and signs the signed parts it is given with it; gen_corpus signs the
    corpus's whole entries with it, so that they get past the signature.
    A fixed seed: the same key every run, and no secret of anyone's.  And
    the signed part of an encoded entry, which the seeds and the tests
    sign again, changed or not.                                             */

#ifndef DOWNLINK_TESTING_H_INCLUDED
#define DOWNLINK_TESTING_H_INCLUDED

#include "cp_enrolment.h"

#include <msgpack.h>
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

//  The signed part of an encoded entry (the last of [signer, signature,
//  signed]): where it starts within entry, and *part_size; NULL when entry
//  is not of that shape.
static inline const uint8_t *
downlink_signed_part (const uint8_t *entry, size_t size, size_t *part_size)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    const uint8_t *part = NULL;
    if (msgpack_unpack_next (&unpacked, (const char *) entry, size, &offset)
            == MSGPACK_UNPACK_SUCCESS && unpacked.data.type == MSGPACK_OBJECT_ARRAY
    &&  unpacked.data.via.array.size == 3
    &&  unpacked.data.via.array.ptr [2].type == MSGPACK_OBJECT_BIN) {
        part = (const uint8_t *) unpacked.data.via.array.ptr [2].via.bin.ptr;
        *part_size = unpacked.data.via.array.ptr [2].via.bin.size;
    }
    msgpack_unpacked_destroy (&unpacked);
    return part;
}

#endif
