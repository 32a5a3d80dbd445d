/*  fuzz_downlink: libFuzzer target for cp_downlink_decode.

    An entry is checked against its signature before its fields are read,
    so random bytes almost never get past the signature.  The first byte of
    an input says what the rest is: even, a whole entry (decoded against
    the root of downlink_testing.h); odd, the signed part of one, which this
    signs with that root before decoding, so that the fields' decoder is
    fuzzed too.

    What decodes must keep the header's promises (a seq, a known kind, an
    address within the lists, a time, a body within its limit and within
    the input, the root's id as signer), be addressed to at least one
    municipality (to exactly one when it names one), and survive the trip
    back: encoding it gives an entry no longer than the input's (the
    encoder takes the shortest form of every value) that decodes to the
    same fields, and encoding it again gives the same bytes.  What fails
    must fail with a code the header lists, the entry zeroed.  A broken
    promise aborts, so the fuzzer keeps the input.

    The saved corpus (corpus/downlink) starts from gen_corpus's seeds: an
    entry of each kind to each form of address, whole and as signed parts.
    replay.c runs it as an ordinary test.  Build with clang
    -fsanitize=fuzzer,address,undefined.                                    */

#include "fuzzing.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "downlink_testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The codes cp_downlink.h says decode may return.
static bool
s_refusal (int rc)
{
    return rc == CP_ETOOBIG || rc == CP_EMALFORMED || rc == CP_ETYPE || rc == CP_EBADID
        || rc == CP_EUNPINNED || rc == CP_EAUTH || rc == CP_EVERSION || rc == CP_EBADKIND;
}

static bool
s_same (const cp_downlink_t *a, const cp_downlink_t *b)
{
    return a->seq == b->seq && a->kind == b->kind && a->address.kind == b->address.kind
        && a->address.index == b->address.index && a->issued == b->issued
        && a->body_size == b->body_size && strcmp (a->signer, b->signer) == 0
        && (a->body_size == 0 || memcmp (a->body, b->body, a->body_size) == 0);
}

//  The promises of a decoded entry (of size bytes at data).
static void
s_holds (const cp_downlink_t *entry, const uint8_t *data, size_t size, const char *signer)
{
    if (entry->seq == 0 || !cp_downlink_kind_name (entry->kind) || entry->issued < 0)
        fuzzing_fail ("decoded a seq, kind or time the header refuses");
    if (entry->body_size > CP_DOWNLINK_BODY_MAX
    ||  (entry->body_size && (entry->body < data || entry->body + entry->body_size > data + size)))
        fuzzing_fail ("a body over its limit or outside the input");
    if (strcmp (entry->signer, signer))
        fuzzing_fail ("decoded an entry of another signer than the root");
    int addressed = 0;
    for (int index = 0; index < cp_municipality_count (); index++)
        addressed += cp_downlink_addressed_to (entry, index);
    switch (entry->address.kind) {
        case CP_SCOPE_NATIONAL:
            if (addressed != cp_municipality_count () || entry->address.index)
                fuzzing_fail ("an entry to all that is not for every municipality");
            break;
        case CP_SCOPE_COUNTY:
            if (entry->address.index < 0 || entry->address.index >= cp_county_count ()
            ||  addressed == 0)
                fuzzing_fail ("an entry to no county, or to a county without municipalities");
            break;
        case CP_SCOPE_MUNICIPALITY:
            if (entry->address.index < 0 || entry->address.index >= cp_municipality_count ()
            ||  addressed != 1)
                fuzzing_fail ("an entry to no municipality, or to more than one");
            break;
        default:
            fuzzing_fail ("an address of no kind");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static uint8_t root [CP_KEY_SIZE], secret [CP_SIGN_SECRET_SIZE];
    static char signer [CP_KEY_ID_MAX + 1];
    if (!*signer) {
        if (sodium_init () < 0)
            fuzzing_fail ("libsodium does not initialise");
        downlink_root (root, secret);
        cp_enrolment_key_id ('r', root, signer);
    }
    if (size == 0)
        return 0;
    //  The entry to decode: the input, or the input signed.
    const uint8_t *entry_bytes = data + 1;
    size_t entry_size = size - 1;
    uint8_t *signed_entry = NULL;
    if (data [0] & 1) {
        signed_entry = cp_downlink_sign (data + 1, size - 1, secret, &entry_size);
        if (!signed_entry)
            return 0;           //  over the limit: nothing to sign
        entry_bytes = signed_entry;
    }
    cp_downlink_t entry;
    char why [256];
    int rc = cp_downlink_decode (entry_bytes, entry_size, root, &entry, why, sizeof why);
    if (rc) {
        static const cp_downlink_t zero;
        if (!s_refusal (rc))
            fuzzing_fail ("refused with a code the header does not list");
        if (memcmp (&entry, &zero, sizeof entry))
            fuzzing_fail ("a refused entry left fields behind");
        free (signed_entry);
        return 0;
    }
    s_holds (&entry, entry_bytes, entry_size, signer);

    size_t once_size = 0, twice_size = 0;
    uint8_t *once = cp_downlink_encode (&entry, secret, &once_size);
    if (!once)
        fuzzing_fail ("a decoded entry does not encode");
    if (once_size > entry_size)
        fuzzing_fail ("the encoding is longer than the entry it came from");
    cp_downlink_t again;
    if (cp_downlink_decode (once, once_size, root, &again, NULL, 0) || !s_same (&entry, &again))
        fuzzing_fail ("a re-encoded entry does not decode to the same");
    uint8_t *twice = cp_downlink_encode (&again, secret, &twice_size);
    if (!twice || twice_size != once_size || memcmp (once, twice, once_size))
        fuzzing_fail ("encoding an entry twice gives other bytes");
    free (twice);
    free (once);
    free (signed_entry);
    return 0;
}
