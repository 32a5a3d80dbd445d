/*  fuzz_codec: libFuzzer target for the msgpack codec's decoders.

    Feeds each input to cp_codec_batch_decode and cp_codec_event_decode.
    What decodes must survive the trip back: encoding it again and decoding
    that gives the same events, and a second encoding gives the same bytes.
    What fails must fail with a decoder's error code and leave nothing
    allocated.  It also holds the pre-scan to its promise: whatever the
    pre-scan passes, msgpack-c unpacks whole.  A broken promise aborts, so
    the fuzzer keeps the input.

    Build with clang -fsanitize=fuzzer,address,undefined; replay.c runs the
    saved corpus through the same function as an ordinary test.              */

#include "fuzzing.h"
#include "cp_codec.h"
#include "cp_error.h"
#include "cp_event.h"

#include <msgpack.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_event_equal (const cp_event_t *a, const cp_event_t *b)
{
    if (a->type != b->type || a->age != b->age || a->date != b->date
    ||  strcmp (a->id, b->id) != 0 || strcmp (a->case_id, b->case_id) != 0)
        return false;
    for (int slot = 0; slot < CP_EVENT_CODES; slot++)
        if (strcmp (a->codes [slot], b->codes [slot]) != 0)
            return false;
    return a->entry == b->entry && a->verdict == b->verdict && a->workers == b->workers
        && a->children == b->children && strcmp (a->note, b->note) == 0;
}

static bool
s_is_decode_error (int rc)
{
    return rc == CP_EMALFORMED || rc == CP_ETOOBIG || rc == CP_ETYPE || rc == CP_EBADTYPE
        || rc == CP_EBADID || rc == CP_EDATERANGE || rc == CP_EBADAGE
        || rc == CP_EBADCODE || rc == CP_EBADVALUE || rc == CP_EUNKNOWNFIELD;
}

static void
s_batch (const uint8_t *data, size_t size)
{
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    int rc = cp_codec_batch_decode (data, size, &first_seq, &events, &count);
    if (rc) {
        if (!s_is_decode_error (rc) || events || count)
            fuzzing_fail ("batch: failed decode with a stray code or result");
        return;
    }
    if (first_seq == 0 || count == 0 || count > CP_CODEC_BATCH_EVENTS_MAX
    ||  first_seq > UINT64_MAX - count)
        fuzzing_fail ("batch: decoded sequence or count out of range");

    size_t once_size;
    uint8_t *once = cp_codec_batch_encode (first_seq, events, count, &once_size);
    if (!once)
        fuzzing_fail ("batch: a decoded batch does not encode");
    uint64_t again_seq;
    cp_event_t *again;
    size_t again_count;
    if (cp_codec_batch_decode (once, once_size, &again_seq, &again, &again_count))
        fuzzing_fail ("batch: a re-encoded batch does not decode");
    if (again_seq != first_seq || again_count != count)
        fuzzing_fail ("batch: sequence or count changed in the round trip");
    for (size_t index = 0; index < count; index++)
        if (!s_event_equal (&events [index], &again [index]))
            fuzzing_fail ("batch: an event changed in the round trip");
    size_t twice_size;
    uint8_t *twice = cp_codec_batch_encode (again_seq, again, again_count, &twice_size);
    if (!twice || twice_size != once_size || memcmp (once, twice, once_size) != 0)
        fuzzing_fail ("batch: encoding is not stable");
    //  The encoder takes the shortest form of every value
    if (once_size > size)
        fuzzing_fail ("batch: re-encoding is longer than the input");
    free (twice);
    free (again);
    free (once);
    free (events);
}

static void
s_event (const uint8_t *data, size_t size)
{
    cp_event_t event;
    int rc = cp_codec_event_decode (data, size, &event);
    if (rc) {
        if (!s_is_decode_error (rc))
            fuzzing_fail ("event: failed decode with a stray code");
        return;
    }
    size_t once_size;
    uint8_t *once = cp_codec_event_encode (&event, &once_size);
    if (!once)
        fuzzing_fail ("event: a decoded event does not encode");
    cp_event_t again;
    if (cp_codec_event_decode (once, once_size, &again)
    ||  !s_event_equal (&event, &again))
        fuzzing_fail ("event: round trip differs");
    if (once_size > size)
        fuzzing_fail ("event: re-encoding is longer than the input");
    free (once);
}

//  Whatever the pre-scan passes (with our decoders' limits), msgpack-c must
//  unpack in full.  Only inputs it passed are unpacked here, since those
//  are the only ones whose allocation is bounded.
static void
s_prescan (const uint8_t *data, size_t size)
{
    if (cp_codec_prescan (data, size, CP_CODEC_DEPTH_MAX, 255) != 0)
        return;
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 1024))
        fuzzing_fail ("out of memory");
    msgpack_object root;
    size_t offset = 0;
    msgpack_unpack_return rc =
        msgpack_unpack ((const char *) data, size, &offset, &zone, &root);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size)
        fuzzing_fail ("prescan: passed what msgpack-c does not unpack whole");
    msgpack_zone_destroy (&zone);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_batch (data, size);
    s_event (data, size);
    s_prescan (data, size);
    return 0;
}
