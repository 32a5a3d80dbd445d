/*  fuzz_directive_node: libFuzzer target for the two decoders of a
    directive that a node runs: its body as the downlink carries it
    (cp_directive_decode) and the state the node keeps of it
    (cp_directive_state_decode).

    The first byte of an input says which: even, the rest is a body; odd,
    a state record.  A body that decodes must pass cp_directive_check and
    encode to bytes no longer than the input (the encoder takes msgpack's
    shortest forms) that decode to the same fields; a record that decodes
    must encode to exactly the input.  What fails must fail
    with a code the header lists and leave the output zeroed.  A broken
    promise aborts, so the fuzzer keeps the input.

    The saved corpus (corpus/directive_node) holds a body of each kind,
    with and without a due date, bodies each with one thing wrong, and
    state records received, done with a note, and broken.  replay.c runs
    it as an ordinary test.  Build with clang
    -fsanitize=fuzzer,address,undefined.                                    */

#include "fuzzing.h"
#include "cp_directive.h"
#include "cp_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The codes cp_directive.h says the body's decoder may return.
static bool
s_body_refusal (int rc)
{
    return rc == CP_EMALFORMED || rc == CP_ETOOBIG || rc == CP_ETYPE || rc == CP_EVERSION
        || rc == CP_EBADKIND || rc == CP_EDATERANGE || rc == CP_EMISSING
        || rc == CP_EBADVALUE;
}

static void
s_body (const uint8_t *data, size_t size)
{
    static const cp_directive_t zero;
    cp_directive_t directive;
    char why [256] = "";
    int rc = cp_directive_decode (data, size, &directive, why, sizeof why);
    if (rc) {
        if (!s_body_refusal (rc) || !*why)
            fuzzing_fail ("a body refused with a stray code or no reason");
        if (memcmp (&directive, &zero, sizeof directive))
            fuzzing_fail ("a refused body left fields behind");
        return;
    }
    if (cp_directive_check (&directive, NULL, 0))
        fuzzing_fail ("a decoded body does not pass its own check");
    size_t encoded_size = 0;
    uint8_t *encoded = cp_directive_encode (&directive, &encoded_size);
    if (!encoded)
        fuzzing_fail ("a decoded body does not encode");
    cp_directive_t again;
    if (cp_directive_decode (encoded, encoded_size, &again, NULL, 0)
    ||  memcmp (&again, &directive, sizeof again))
        fuzzing_fail ("a re-encoded body does not decode to the same");
    if (encoded_size > size)
        fuzzing_fail ("the encoding is longer than the body it came from");
    free (encoded);
}

static void
s_state (const uint8_t *data, size_t size)
{
    static const cp_directive_state_t zero;
    cp_directive_state_t state;
    int rc = cp_directive_state_decode (data, size, &state);
    if (rc) {
        if (rc != CP_EMALFORMED && rc != CP_EVERSION && rc != CP_EBADKIND
        &&  rc != CP_EDATERANGE)
            fuzzing_fail ("a record refused with a stray code");
        if (memcmp (&state, &zero, sizeof state))
            fuzzing_fail ("a refused record left fields behind");
        return;
    }
    uint8_t record [CP_DIRECTIVE_STATE_MAX];
    size_t record_size = cp_directive_state_encode (&state, record);
    if (record_size != size || memcmp (record, data, size))
        fuzzing_fail ("a decoded record does not encode to its bytes");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data [0] & 1)
        s_state (data + 1, size - 1);
    else
        s_body (data + 1, size - 1);
    return 0;
}
