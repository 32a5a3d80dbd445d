/*  fuzz_enrolment: libFuzzer target for bundles and announcements
    (cp_enrolment_decode), the files an administrator carries to a node.

    A file's signature is checked before its enrolment text is parsed, so
    random files stop early.  The first byte of an input chooses:
        0   the rest is a whole file, decoded as a node reads one it was
            given (no root pinned yet);
        1   the rest is an enrolment text: every "@ROOT@" in it becomes the
            hex of a fixed test root key, the text is signed with that key
            and wrapped as a file, and it is decoded with that root pinned,
            so the fuzzer reaches every field of the signed text.
    What fails must fail with one of the decoder's codes, say why, and
    leave the enrolment zeroed.  What decodes must keep its limits (key
    ids of the id alphabet, a municipality of the list or none, at most
    CP_ENROLMENT_KEYS_MAX central keys of a kind) and, signed again with
    the test root, decode to the same keys.  A broken promise aborts, and
    so does a sanitizer's report, so the fuzzer keeps the input.

    The saved corpus (corpus/enrolment) holds a bundle and an announcement
    as cpsync-admin writes them (mode 0), their texts under the test root
    (mode 1), and texts with one field wrong.  replay.c runs it as an
    ordinary test.  Build with clang -fsanitize=fuzzer,address,undefined.   */

#include "fuzzing.h"
#include "cp_enrolment.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_municipality.h"

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t s_root_public [crypto_sign_PUBLICKEYBYTES];
static uint8_t s_root_secret [crypto_sign_SECRETKEYBYTES];

//  The file of mode 1: text with the root's hex for every "@ROOT@",
//  signed with the test root.  Returns malloc'd JSON, or NULL.
static char *
s_signed_file (const char *text, size_t size)
{
    char root_hex [2 * crypto_sign_PUBLICKEYBYTES + 1];
    sodium_bin2hex (root_hex, sizeof root_hex, s_root_public, sizeof s_root_public);
    size_t room = size * 11 + 1, at = 0;       //  "@ROOT@" (6) -> 64 characters
    char *inner = malloc (room);
    if (!inner)
        return NULL;
    for (size_t index = 0; index < size; ) {
        if (size - index >= 6 && memcmp (text + index, "@ROOT@", 6) == 0) {
            memcpy (inner + at, root_hex, 64);
            at += 64;
            index += 6;
        }
        else
            inner [at++] = text [index++];
    }
    uint8_t signature [crypto_sign_BYTES];
    crypto_sign_detached (signature, NULL, (const uint8_t *) inner, at, s_root_secret);
    char signature_hex [2 * crypto_sign_BYTES + 1];
    sodium_bin2hex (signature_hex, sizeof signature_hex, signature, sizeof signature);
    json_t *outer = json_pack ("{s:s, s:s%, s:s}", "cpsync", "enrolment 1",
                               "enrolment", inner, at, "signature", signature_hex);
    free (inner);
    char *file = outer? json_dumps (outer, JSON_COMPACT): NULL;
    json_decref (outer);
    return file;
}

static bool
s_zeroed (const cp_enrolment_t *enrolment)
{
    static const cp_enrolment_t zero;
    return memcmp (enrolment, &zero, sizeof zero) == 0;
}

static void
s_check_keys (const cp_enrolment_t *enrolment)
{
    if (enrolment->central_transport_count > CP_ENROLMENT_KEYS_MAX
    ||  enrolment->central_data_count > CP_ENROLMENT_KEYS_MAX)
        fuzzing_fail ("decoded more central keys than the limit");
    for (size_t index = 0; index < enrolment->central_transport_count; index++)
        if (!cp_event_id_valid (enrolment->central_transport [index].id,
                                strlen (enrolment->central_transport [index].id)))
            fuzzing_fail ("decoded a key id outside the id alphabet");
    for (size_t index = 0; index < enrolment->central_data_count; index++)
        if (!cp_event_id_valid (enrolment->central_data [index].id,
                                strlen (enrolment->central_data [index].id)))
            fuzzing_fail ("decoded a key id outside the id alphabet");
    if (enrolment->municipality [0] && cp_municipality_index (enrolment->municipality) < 0)
        fuzzing_fail ("decoded a municipality that is not one");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static bool ready = false;
    if (!ready) {
        uint8_t seed [crypto_sign_SEEDBYTES];
        memset (seed, 0x01, sizeof seed);
        if (sodium_init () < 0 || crypto_sign_seed_keypair (s_root_public, s_root_secret, seed))
            fuzzing_fail ("set-up");
        ready = true;
    }
    if (size == 0 || data [0] > 1)
        return 0;
    char *file = data [0] == 0? NULL: s_signed_file ((const char *) data + 1, size - 1);
    const char *text = data [0] == 0? (const char *) data + 1: file;
    size_t text_size = data [0] == 0? size - 1: (file? strlen (file): 0);
    if (!text)
        return 0;
    cp_enrolment_t enrolment;
    char why [256] = "";
    bool has_secrets = false;
    int rc = cp_enrolment_decode (text, text_size, data [0] == 1? s_root_public: NULL,
                                  &enrolment, NULL, &has_secrets, why, sizeof why);
    if (rc) {
        if ((rc != CP_ETOOBIG && rc != CP_EMALFORMED && rc != CP_EAUTH && rc != CP_EBADID)
        ||  why [0] == 0)
            fuzzing_fail ("failed with a stray code or no reason");
        if (!s_zeroed (&enrolment))
            fuzzing_fail ("a failure left a part of the enrolment");
    }
    else {
        s_check_keys (&enrolment);
        if (data [0] == 1 && enrolment.municipality [0] == 0) {
            //  An announcement signed again by the same root: the same keys
            //  come back (a bundle cannot be encoded without its secrets).
            char *again = cp_enrolment_encode (&enrolment, s_root_secret, NULL);
            cp_enrolment_t decoded;
            bool again_secrets;
            if (!again
            ||  cp_enrolment_decode (again, strlen (again), s_root_public, &decoded, NULL,
                                     &again_secrets, why, sizeof why)
            ||  !cp_enrolment_same_keys (&enrolment, &decoded))
                fuzzing_fail ("what decoded does not survive encoding again");
            free (again);
        }
    }
    free (file);
    return 0;
}
