/*  fuzz_batch: libFuzzer target for a BATCH's frames (cp_batch).

    An input is received frames, or a payload a node seals itself with the
    fixed keys (batch_input.h says which, and how it is laid out).  Frames
    go through cp_batch_read and, when read, cp_batch_open; a sealed
    payload through both too.  What is refused must be refused with a code
    that step may give, handing nothing out; what is read must keep the
    header's promises (three frames within their limits, a nonce and a
    signature of their sizes, a range that is one); what opens must be
    exactly the events the header names, and so must every batch the node
    sealed whose payload decodes: its signature always verifies, so the
    only refusals left are the payload's.  A broken promise aborts, so the
    fuzzer keeps the input.

    Build with clang -fsanitize=fuzzer,address,undefined; replay.c runs the
    saved corpus (tests/fuzz/corpus/batch) through the same function as an
    ordinary test.                                                          */

#include "fuzzing.h"
#include "batch_input.h"
#include "cp_codec.h"
#include "cp_error.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

//  A code cp_codec_batch_decode may give, and so cp_batch_decode.
static bool
s_payload_refusal (int rc)
{
    return rc == CP_EMALFORMED || rc == CP_ETOOBIG || rc == CP_ETYPE || rc == CP_EBADTYPE
        || rc == CP_EBADID || rc == CP_EDATERANGE || rc == CP_EBADAGE || rc == CP_EBADCODE
        || rc == CP_EBADVALUE;
}

//  Reads and opens frames with the fixed keys.  Returns cp_batch_read's
//  refusal, or cp_batch_open's answer; sealed_by_node says the frames are
//  the node's own, unchanged.
static int
s_take (const batch_input_keys_t *keys, const uint8_t *const *data, const size_t *sizes,
        size_t count, bool sealed_by_node)
{
    cp_batch_frames_t frames;
    cp_batch_header_t header;
    int rc = cp_batch_read (data, sizes, count, &frames, &header);
    if (rc) {
        if (sealed_by_node)
            fuzzing_fail ("read: refused the frames a node made");
        if (rc != CP_EMALFORMED && rc != CP_ETOOBIG && rc != CP_ETYPE && rc != CP_EBADID
        &&  rc != CP_EAUTH)
            fuzzing_fail ("read: refused with a stray code");
        return rc;
    }
    if (count != CP_BATCH_FRAMES || frames.header != data [0] || frames.sealed != data [1]
    ||  frames.signature != data [2] || frames.sealed_size > CP_BATCH_SEALED_MAX
    ||  frames.sealed_size < CP_ENVELOPE_OVERHEAD
    ||  frames.signature_size != CP_ENVELOPE_SIGNATURE_SIZE
    ||  header.nonce_size != CP_ENVELOPE_NONCE_SIZE
    ||  header.first == 0 || header.first > header.last
    ||  header.last - header.first >= CP_CODEC_BATCH_EVENTS_MAX)
        fuzzing_fail ("read: passed frames its header says are refused");
    cp_event_t *events = NULL;
    size_t opened = 0;
    rc = cp_batch_open (&frames, &header, keys->sign_public, keys->central_key, &events,
                        &opened);
    if (rc) {
        if (events || opened)
            fuzzing_fail ("open: a refusal handed events out");
        if (rc == CP_EAUTH? sealed_by_node: !s_payload_refusal (rc))
            fuzzing_fail ("open: refused with a stray code");
        return rc;
    }
    if (!events || opened != header.last - header.first + 1)
        fuzzing_fail ("open: the events are not the ones the header names");
    free (events);
    return 0;
}

//  Even mode: frames as received.
static void
s_frames (const batch_input_keys_t *keys, const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    size_t count = data [0] % (BATCH_INPUT_FRAMES_MAX + 1), at = 1;
    const uint8_t *frames [BATCH_INPUT_FRAMES_MAX];
    size_t sizes [BATCH_INPUT_FRAMES_MAX];
    for (size_t index = 0; index < count; index++) {
        size_t length = size - at >= 2? (size_t) data [at] << 8 | data [at + 1]: 0;
        at += size - at >= 2? 2: size - at;
        if (length > size - at)
            length = size - at;
        frames [index] = data + at;
        sizes [index] = length;
        at += length;
    }
    s_take (keys, frames, sizes, count, false);
}

//  Odd mode: a payload a node seals under a header of its own.
static void
s_sealed (const batch_input_keys_t *keys, const uint8_t *data, size_t size)
{
    if (size < 3 || size - 3 > CP_CODEC_BATCH_MAX)
        return;
    uint64_t first = ((uint64_t) data [0] << 8 | data [1]) + 1;
    cp_batch_header_t header = batch_input_header (first, first + data [2]);
    cp_batch_sealed_t sealed;
    if (cp_batch_seal (&header, data + 3, size - 3, keys->node_key, keys->sign_secret,
                       &sealed))
        fuzzing_fail ("seal: a payload within its limit was not sealed");
    const uint8_t *frames [3] = {sealed.header, sealed.sealed, sealed.signature};
    size_t sizes [3] = {sealed.header_size, sealed.sealed_size, sizeof sealed.signature};
    int rc = s_take (keys, frames, sizes, 3, true);
    //  The decoder's verdict on the bare payload, matched to the header,
    //  must be the same as through the envelope.
    cp_event_t *events = NULL;
    size_t count = 0;
    if (cp_batch_decode (&header, data + 3, size - 3, &events, &count) != rc)
        fuzzing_fail ("decode: another verdict than through the envelope");
    free (events);
    cp_batch_sealed_free (&sealed);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static batch_input_keys_t keys;
    static bool keyed = false;
    if (!keyed) {
        if (sodium_init () < 0)
            fuzzing_fail ("sodium_init");
        batch_input_keys (&keys);
        keyed = true;
    }
    if (size == 0)
        return 0;
    if (data [0] % 2 == 0)
        s_frames (&keys, data + 1, size - 1);
    else
        s_sealed (&keys, data + 1, size - 1);
    return 0;
}
