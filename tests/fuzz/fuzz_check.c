/*  fuzz_check: libFuzzer target for the consistency rules (cp_check) on a
    published table, the one document `cpsync-central check --report` reads
    from a file someone else wrote.

    Each input is parsed as JSON (jansson, as the command does) and, when
    it parses, every rule runs on it and its findings are printed.  The
    promises: a document that is not an object is refused (-1) and adds no
    finding; otherwise the count returned is the number of findings added,
    every finding names its rule and key, and a sum's difference is its sum
    less its whole.  A broken promise aborts, and so does a sanitizer's
    report, so the fuzzer keeps the input.

    The saved corpus (corpus/check) starts from the State Agency's 2022
    table, a view as query prints it, and damaged copies of both.
    replay.c runs it as an ordinary test.  Build with clang
    -fsanitize=fuzzer,address,undefined.                                    */

#include "fuzzing.h"
#include "cp_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    json_t *document = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
    if (!document)
        return 0;
    json_t *findings = json_array (), *not_applicable = json_array ();
    int found = cp_check_view (document, findings, not_applicable);
    if (!json_is_object (document) && (found != -1 || json_array_size (findings)))
        fuzzing_fail ("a document that is not an object was checked");
    if (json_is_object (document) && (found < 0 || (size_t) found != json_array_size (findings)))
        fuzzing_fail ("the count returned is not the number of findings");
    size_t index;
    json_t *finding;
    json_array_foreach (findings, index, finding) {
        if (!json_is_string (json_object_get (finding, "rule"))
        ||  !json_is_string (json_object_get (finding, "key")))
            fuzzing_fail ("a finding does not name its rule and key");
        json_t *sum = json_object_get (finding, "sum");
        if (sum && json_integer_value (json_object_get (finding, "difference"))
                != json_integer_value (sum)
                 - json_integer_value (json_object_get (finding, "expected")))
            fuzzing_fail ("a sum's difference is not its sum less its whole");
    }
    FILE *out = fopen ("/dev/null", "w");
    if (out) {
        cp_check_print (findings, out);
        fclose (out);
    }
    json_decref (findings);
    json_decref (not_applicable);
    json_decref (document);
    return 0;
}
