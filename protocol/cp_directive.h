/*  cp_directive: the body of a directive, a downlink entry of kind
    CP_DOWNLINK_DIRECTIVE that the State Agency sends to municipalities.

    A directive is a referral (a case the Agency refers to the unit), a
    reporting deadline or a notice, with an optional due date and a short
    text.  The text must never carry case data: directives are not sealed,
    every node addressed keeps them, and the central lists them; a referral
    names no child, the unit learns who from the Agency by its usual
    channel, and the case it opens names the directive (docs/events.md).

    The body is msgpack, [version, kind, due, text]: version 1, kind a
    cp_directive_kind_t, due a day number (days since 1970-01-01) or 0 for
    none, text a str of 1 to CP_DIRECTIVE_TEXT_MAX bytes without control
    characters but for line breaks, in UTF-8.  The decoder bounds
    everything before msgpack-c reads it (cp_codec_prescan), wants exact
    types, no trailing bytes and every value in its shortest form (the
    encoder's bytes: a directive has one encoding), and names what was
    wrong.                                                                 */

#ifndef CP_DIRECTIVE_H_INCLUDED
#define CP_DIRECTIVE_H_INCLUDED

#include "cp_event.h"

#include <stddef.h>
#include <stdint.h>

#define CP_DIRECTIVE_VERSION 1
#define CP_DIRECTIVE_TEXT_MAX 1000      //  bytes of a directive's text
#define CP_DIRECTIVE_BODY_MAX (CP_DIRECTIVE_TEXT_MAX + 32)

typedef enum {
    CP_DIRECTIVE_REFERRAL = 1,          //  a case the Agency refers to the unit
    CP_DIRECTIVE_DEADLINE = 2,          //  a reporting deadline
    CP_DIRECTIVE_NOTICE = 3,            //  anything else the units should know
    CP_DIRECTIVE_KIND_MAX = CP_DIRECTIVE_NOTICE
} cp_directive_kind_t;

typedef struct {
    int kind;                           //  cp_directive_kind_t
    int32_t due;                        //  day number; 0: no due date
    char text [CP_DIRECTIVE_TEXT_MAX + 1];
} cp_directive_t;

//  "referral", "deadline", "notice"; NULL for another number.
const char *
    cp_directive_kind_name (int kind);

//  The kind named name, or 0.
int
    cp_directive_kind_of (const char *name);

//  Checks a directive's fields (kind, due within the calendar's years,
//  text).  Returns 0 or CP_EBADKIND, CP_EDATERANGE, CP_EMISSING (no text),
//  CP_ETOOBIG (text too long), CP_EBADVALUE (a control character, a NUL or
//  bytes that are not UTF-8), with why.
int
    cp_directive_check (const cp_directive_t *directive, char *why, size_t why_size);

//  Encodes a directive that cp_directive_check passes.  Returns a malloc'd
//  buffer and its size in *size, or NULL (a directive that does not pass;
//  out of memory).
uint8_t *
    cp_directive_encode (const cp_directive_t *directive, size_t *size);

//  Decodes a body of exactly size bytes.  Returns 0 or CP_EMALFORMED (not
//  one msgpack object, trailing bytes, a value not in its shortest form),
//  CP_ETOOBIG, CP_ETYPE (a field of the wrong type, an array not of 4),
//  CP_EVERSION, or a code of cp_directive_check, with why; on error
//  *directive is zeroed.
int
    cp_directive_decode (const uint8_t *data, size_t size, cp_directive_t *directive,
                         char *why, size_t why_size);

//  What a node keeps of a directive addressed to it (its "directives"
//  database, under the entry's seq): the kind and due date, known once the
//  entry is applied, and the days of its receipt and its completion with
//  the operator's note, known from the node's own events, so that a node
//  rebuilt from the central's archive knows them before the entries come
//  again.  Stored as a fixed record, big-endian: u8 version (1), u8 kind
//  (0: the entry not applied yet), i32 due, i32 received, i32 done (each a
//  day number, 0 for none), u8 the note's length, the note's bytes.
#define CP_DIRECTIVE_STATE_VERSION 1
#define CP_DIRECTIVE_STATE_HEADER 15
#define CP_DIRECTIVE_STATE_MAX (CP_DIRECTIVE_STATE_HEADER + CP_NOTE_MAX)

typedef struct {
    int kind;                           //  cp_directive_kind_t; 0: not applied yet
    int32_t due;                        //  day number; 0: no due date
    int32_t received;                   //  day of directive_received; 0: none
    int32_t done;                       //  day of directive_done; 0: not done
    char note [CP_NOTE_MAX + 1];        //  directive_done's note
} cp_directive_state_t;

//  Writes state into buf (CP_DIRECTIVE_STATE_MAX bytes) and returns its
//  size.  The note is cut at CP_NOTE_MAX bytes (cp_event_own_check keeps
//  notes within it).
size_t
    cp_directive_state_encode (const cp_directive_state_t *state, uint8_t *buf);

//  Reads a record of exactly size bytes.  Returns 0, or CP_EMALFORMED (a
//  size that is not the record's, a NUL in the note), CP_EVERSION,
//  CP_EBADKIND or CP_EDATERANGE (a day out of the calendar's years); on
//  error *state is zeroed.
int
    cp_directive_state_decode (const uint8_t *data, size_t size,
                               cp_directive_state_t *state);

#endif
