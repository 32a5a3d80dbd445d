/*  fuzz_event: libFuzzer target for an import line (cp_event_from_json),
    the one decoder that reads what a municipality's case-management
    software exported.

    Each input is one line, read against the newest built-in catalogue
    with a fixed today.  What fails must fail with one of the line's
    codes (CP_EMALFORMED to CP_EBADVALUE, for a directive's number) and
    say why.  What is read must keep the rules of docs/events.md that need
    no history: a known type, ids of the id alphabet, a date from
    2000-01-01 to today + 1, an age of 0 to 18 only where the type has
    one, codes the catalogue defines; it
    must resolve again as an event from the wire would, and survive the
    msgpack codec's round trip byte for byte.  A broken promise aborts,
    and so does a sanitizer's report, so the fuzzer keeps the input.

    The saved corpus (corpus/event) starts from the lines of the import
    format's examples, one of each type, and lines each with one thing
    wrong.  replay.c runs it as an ordinary test.  Build with clang
    -fsanitize=fuzzer,address,undefined.                                    */

#include "fuzzing.h"
#include "cp_catalogue.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static cp_catalogue_t *catalogue = NULL;
    static int32_t today, first_day;
    if (!catalogue) {
        catalogue = cp_catalogue_new_builtin (cp_catalogue_builtin_count);
        if (!catalogue || cp_date_parse ("2024-06-30", 10, &today)
        ||  cp_date_parse ("2000-01-01", 10, &first_day))
            fuzzing_fail ("set-up");
    }
    cp_event_t event;
    char why [256] = "";
    int rc = cp_event_from_json ((const char *) data, size, catalogue, today, &event, why,
                                 sizeof why);
    if (rc) {
        if (rc < CP_EMALFORMED || rc > CP_EBADVALUE || why [0] == 0
        ||  strnlen (why, sizeof why) == sizeof why)
            fuzzing_fail ("failed with a stray code or no reason");
        return 0;
    }
    const cp_event_kind_t *kind = cp_event_kind (event.type);
    if (!kind)
        fuzzing_fail ("read an unknown type");
    if (!cp_event_id_valid (event.id, strnlen (event.id, sizeof event.id))
    ||  !cp_event_id_valid (event.case_id, strnlen (event.case_id, sizeof event.case_id)))
        fuzzing_fail ("read an id outside the alphabet");
    if (event.date < first_day || event.date > today + 1)
        fuzzing_fail ("read a date out of range");
    if ((!kind->has_age && event.age != 0) || event.age > CP_AGE_MAX)
        fuzzing_fail ("read an age where none belongs, or over 18");
    for (int field = 0; field < kind->code_count; field++)
        if (cp_catalogue_lookup (catalogue, kind->dims [field], event.codes [field],
                                 strlen (event.codes [field])) < 0)
            fuzzing_fail ("read a code the catalogue does not define");

    cp_event_t again = event;
    if (cp_event_resolve (&again, catalogue, why, sizeof why))
        fuzzing_fail ("what was read does not resolve as an event from the wire");
    size_t encoded_size;
    uint8_t *encoded = cp_codec_event_encode (&event, &encoded_size);
    if (!encoded)
        fuzzing_fail ("what was read does not encode");
    cp_event_t decoded;
    if (cp_codec_event_decode (encoded, encoded_size, &decoded))
        fuzzing_fail ("what was encoded does not decode");
    size_t twice_size;
    uint8_t *twice = cp_codec_event_encode (&decoded, &twice_size);
    if (!twice || twice_size != encoded_size || memcmp (twice, encoded, encoded_size))
        fuzzing_fail ("the codec's round trip changes the event");
    free (encoded);
    free (twice);
    return 0;
}
