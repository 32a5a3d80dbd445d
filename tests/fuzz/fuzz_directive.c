/*  fuzz_directive: libFuzzer target for cp_directive_decode, the body of a
    downlink entry of kind directive.

    What decodes must keep the header's promises (a kind it names, no due
    date or one within the calendar's years, a text of 1 to 1000 bytes
    that cp_directive_check passes) and be the encoder's own bytes: the
    decoder takes each value only in its shortest form, so encoding what
    it gave yields the input again, byte for byte.  What fails must fail
    with a code the header lists, the directive zeroed.  A broken promise
    aborts, so the fuzzer keeps the input.

    The saved corpus (corpus/directive) holds a directive of each kind,
    with and without a due date, texts of 1 and 1000 bytes, with line
    breaks and UTF-8, and a few refused ones, and (fuzz-*) the smallest
    inputs of a libFuzzer run that reached new code.  replay.c runs it as
    an ordinary test.  Build with clang -fsanitize=fuzzer,address,undefined. */

#include "fuzzing.h"
#include "cp_directive.h"
#include "cp_error.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

//  The codes cp_directive.h says decode may return.
static bool
s_refusal (int rc)
{
    return rc == CP_EMALFORMED || rc == CP_ETOOBIG || rc == CP_ETYPE || rc == CP_EVERSION
        || rc == CP_EBADKIND || rc == CP_EDATERANGE || rc == CP_EMISSING
        || rc == CP_EBADVALUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    cp_directive_t directive;
    char why [256] = "";
    int rc = cp_directive_decode (data, size, &directive, why, sizeof why);
    if (rc) {
        static const cp_directive_t zero;
        if (!s_refusal (rc))
            fuzzing_fail ("refused with a code the header does not list");
        if (memcmp (&directive, &zero, sizeof directive))
            fuzzing_fail ("a refused directive left fields behind");
        if (!*why)
            fuzzing_fail ("a refusal that does not say why");
        return 0;
    }
    size_t len = strnlen (directive.text, sizeof directive.text);
    if (!cp_directive_kind_name (directive.kind) || len == 0 || len > CP_DIRECTIVE_TEXT_MAX
    ||  cp_directive_check (&directive, NULL, 0))
        fuzzing_fail ("decoded a directive that its own check refuses");
    size_t again_size = 0;
    uint8_t *again = cp_directive_encode (&directive, &again_size);
    if (!again)
        fuzzing_fail ("a decoded directive does not encode");
    if (again_size != size || memcmp (again, data, size))
        fuzzing_fail ("a decoded directive encodes to other bytes than it came from");
    free (again);
    return 0;
}
