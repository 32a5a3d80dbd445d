/*  cp_codec: events and batches of events on the wire, in msgpack.

    Encoding uses msgpack-c's packer.  Decoding treats every byte as hostile:
    before msgpack-c's unpacker sees a buffer, a pre-scan walks its headers and
    checks, against limits and against the bytes that remain, every container
    count (an array of n elements needs at least n more bytes), every string
    length, the nesting depth and the total size, because msgpack-c's C API
    allocates from the counts it reads.  Then the unpacked object must have
    exactly the shape below, with exact types and no trailing bytes.

    An event is an array: [type, id, case, date, ...], where date is the day
    number (days since 1970-01-01) and the rest depends on the type:
        case_opened         [1, id, case, date, age, sex, ethnicity, referral]
        home_visit          [4, id, case, date]
        every other type    [t, id, case, date, code]
    The node's own kinds have no case, and say what they report:
        directive_received  [64, id, date, entry]
        directive_done      [65, id, date, entry, note]
        figures_checked     [66, id, date, entry, verdict, periods]
        staff_set           [67, id, date, workers, children]
    A batch is an array [first_seq, [event, ...]]: the events have the
    sequence numbers first_seq, first_seq + 1, ... in order.                 */

#ifndef CP_CODEC_H_INCLUDED
#define CP_CODEC_H_INCLUDED

#include "cp_event.h"

#include <msgpack.h>

#include <stddef.h>
#include <stdint.h>

#define CP_CODEC_EVENT_MAX 1024         //  bytes in one encoded event
#define CP_CODEC_BATCH_EVENTS_MAX 4096  //  events in one batch
#define CP_CODEC_BATCH_MAX (4 * 1024 * 1024)    //  bytes in one encoded batch
#define CP_CODEC_DEPTH_MAX 4            //  nesting of containers

//  Encodes one event.  Returns a malloc'd buffer (caller frees) and its size
//  in *size, or NULL when out of memory.
uint8_t *
    cp_codec_event_encode (const cp_event_t *event, size_t *size);

//  Appends one encoded event to buffer (msgpack-c's sbuffer), without an
//  allocation per event once the buffer has grown.  Returns 0, or -1 for an
//  event of no known type.
int
    cp_codec_event_pack (const cp_event_t *event, msgpack_sbuffer *buffer);

//  Decodes one event from exactly size bytes.  Returns 0 or CP_EMALFORMED,
//  CP_ETOOBIG, CP_ETYPE, CP_EBADTYPE, CP_EBADID, CP_EDATERANGE, CP_EBADAGE,
//  CP_EBADCODE; event->code_ids are not set (cp_event_resolve does that
//  against a catalogue).
int
    cp_codec_event_decode (const uint8_t *data, size_t size, cp_event_t *event);

//  Encodes a batch of count events with sequences first_seq... Returns a
//  malloc'd buffer and its size, or NULL when out of memory or over limits.
uint8_t *
    cp_codec_batch_encode (uint64_t first_seq, const cp_event_t *events, size_t count,
                           size_t *size);

//  Decodes a batch from exactly size bytes into a malloc'd array of events
//  (*events, caller frees), *count and *first_seq.  Returns 0 or an error
//  as for cp_codec_event_decode; on error nothing is allocated.
int
    cp_codec_batch_decode (const uint8_t *data, size_t size, uint64_t *first_seq,
                           cp_event_t **events, size_t *count);

//  Checks that data holds exactly one msgpack object within the limits above
//  (depth_max, containers against remaining bytes, strings ≤ str_max).
//  Returns 0, CP_EMALFORMED (truncated, trailing bytes, reserved type) or
//  CP_ETOOBIG.  Used by every decoder before msgpack-c's unpacker runs.
int
    cp_codec_prescan (const uint8_t *data, size_t size, int depth_max, size_t str_max);

#endif
