/*  cp_directive: a directive's body, encoded and decoded.                   */

#include "cp_directive.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_lmdb.h"

#include <msgpack.h>

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_kind_names [CP_DIRECTIVE_KIND_MAX + 1] = {
    [CP_DIRECTIVE_REFERRAL] = "referral",
    [CP_DIRECTIVE_DEADLINE] = "deadline",
    [CP_DIRECTIVE_NOTICE] = "notice"
};

const char *
cp_directive_kind_name (int kind)
{
    return kind >= 1 && kind <= CP_DIRECTIVE_KIND_MAX? s_kind_names [kind]: NULL;
}

int
cp_directive_kind_of (const char *name)
{
    for (int kind = 1; kind <= CP_DIRECTIVE_KIND_MAX; kind++)
        if (strcmp (s_kind_names [kind], name) == 0)
            return kind;
    return 0;
}

//  True when the len bytes at text are well-formed UTF-8 (RFC 3629: no
//  overlong forms, no surrogates, nothing past U+10FFFF).  The text is
//  printed and put in JSON, which takes nothing else.
static bool
s_utf8 (const unsigned char *text, size_t len)
{
    size_t at = 0;
    while (at < len) {
        unsigned char lead = text [at];
        size_t more;
        uint32_t point;
        if (lead < 0x80) {
            at++;
            continue;
        }
        if (lead >= 0xc2 && lead <= 0xdf)
            more = 1, point = lead & 0x1f;
        else
        if (lead >= 0xe0 && lead <= 0xef)
            more = 2, point = lead & 0x0f;
        else
        if (lead >= 0xf0 && lead <= 0xf4)
            more = 3, point = lead & 0x07;
        else
            return false;
        if (len - at <= more)
            return false;
        for (size_t next = 1; next <= more; next++) {
            if ((text [at + next] & 0xc0) != 0x80)
                return false;
            point = point << 6 | (text [at + next] & 0x3f);
        }
        if ((more == 2 && (point < 0x800 || (point >= 0xd800 && point <= 0xdfff)))
        ||  (more == 3 && (point < 0x10000 || point > 0x10ffff)))
            return false;
        at += more + 1;
    }
    return true;
}

int
cp_directive_check (const cp_directive_t *directive, char *why, size_t why_size)
{
    if (!cp_directive_kind_name (directive->kind))
        return cp_error_why (CP_EBADKIND, why, why_size, "directive kind %d is none of "
                             "referral, deadline, notice", directive->kind);
    if (directive->due != 0
    &&  (directive->due < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
    ||   directive->due > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31)))
        return cp_error_why (CP_EDATERANGE, why, why_size, "the due date is out of %d-%d",
                             CP_DATE_MIN_YEAR, CP_DATE_MAX_YEAR);
    size_t len = strnlen (directive->text, sizeof directive->text);
    if (len == 0)
        return cp_error_why (CP_EMISSING, why, why_size, "a directive needs a text");
    if (len > CP_DIRECTIVE_TEXT_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "the text is over %d bytes",
                             CP_DIRECTIVE_TEXT_MAX);
    for (size_t at = 0; at < len; at++) {
        unsigned char c = (unsigned char) directive->text [at];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return cp_error_why (CP_EBADVALUE, why, why_size, "the text holds a control "
                                 "character at byte %zu", at);
    }
    if (!s_utf8 ((const unsigned char *) directive->text, len))
        return cp_error_why (CP_EBADVALUE, why, why_size, "the text is not UTF-8");
    return 0;
}

uint8_t *
cp_directive_encode (const cp_directive_t *directive, size_t *size)
{
    *size = 0;
    if (cp_directive_check (directive, NULL, 0))
        return NULL;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    size_t len = strlen (directive->text);
    int rc = msgpack_pack_array (&packer, 4);
    rc |= msgpack_pack_uint8 (&packer, CP_DIRECTIVE_VERSION);
    rc |= msgpack_pack_uint8 (&packer, (uint8_t) directive->kind);
    rc |= msgpack_pack_int32 (&packer, directive->due);
    rc |= msgpack_pack_str (&packer, len);
    rc |= msgpack_pack_str_body (&packer, directive->text, len);
    if (rc) {
        msgpack_sbuffer_destroy (&buffer);
        return NULL;
    }
    *size = buffer.size;
    return (uint8_t *) msgpack_sbuffer_release (&buffer);
}

//  The unpacked array's fields into directive; then the fields' rules.
//  A number too large for its field is a wrong value, not a wrong type.
static int
s_read (const msgpack_object *root, cp_directive_t *directive, char *why, size_t why_size)
{
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != 4)
        return cp_error_why (CP_ETYPE, why, why_size, "a directive is an array of 4");
    const msgpack_object *field = root->via.array.ptr;
    if (field [0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return cp_error_why (CP_ETYPE, why, why_size, "a directive's version is not a number");
    if (field [0].via.u64 != CP_DIRECTIVE_VERSION)
        return cp_error_why (CP_EVERSION, why, why_size, "directive version %" PRIu64 ", this "
                             "software reads %d", field [0].via.u64, CP_DIRECTIVE_VERSION);
    if (field [1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return cp_error_why (CP_ETYPE, why, why_size, "a directive's kind is not a number");
    if (field [1].via.u64 > CP_DIRECTIVE_KIND_MAX)
        return cp_error_why (CP_EBADKIND, why, why_size, "directive kind %" PRIu64 " is none "
                             "of referral, deadline, notice", field [1].via.u64);
    if (field [2].type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return cp_error_why (CP_EDATERANGE, why, why_size, "the due date is negative");
    if (field [2].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return cp_error_why (CP_ETYPE, why, why_size, "the due date is not a day number");
    if (field [2].via.u64 > INT32_MAX)
        return cp_error_why (CP_EDATERANGE, why, why_size, "the due date is out of %d-%d",
                             CP_DATE_MIN_YEAR, CP_DATE_MAX_YEAR);
    uint64_t kind = field [1].via.u64, due = field [2].via.u64;
    if (field [3].type != MSGPACK_OBJECT_STR)
        return cp_error_why (CP_ETYPE, why, why_size, "a directive's text is not a str");
    uint32_t len = field [3].via.str.size;
    if (len > CP_DIRECTIVE_TEXT_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "the text is over %d bytes",
                             CP_DIRECTIVE_TEXT_MAX);
    //  An empty str may come with no pointer at all.
    if (len && memchr (field [3].via.str.ptr, 0, len))
        return cp_error_why (CP_EBADVALUE, why, why_size, "the text holds a NUL");
    directive->kind = (int) kind;
    directive->due = (int32_t) due;
    if (len)
        memcpy (directive->text, field [3].via.str.ptr, len);
    directive->text [len] = 0;
    return cp_directive_check (directive, why, why_size);
}

//  The body must be the encoder's own bytes: each value in its shortest
//  form.  A directive then has one encoding, so the same directive is the
//  same bytes wherever it is compared or digested.
static int
s_shortest (const uint8_t *data, size_t size, const cp_directive_t *directive, char *why,
            size_t why_size)
{
    size_t again_size;
    uint8_t *again = cp_directive_encode (directive, &again_size);
    assert (again);             //  it passed cp_directive_check: only memory lacks
    bool same = again_size == size && memcmp (again, data, size) == 0;
    free (again);
    return same? 0: cp_error_why (CP_EMALFORMED, why, why_size, "a directive with a value "
                                  "not in its shortest msgpack form");
}

int
cp_directive_decode (const uint8_t *data, size_t size, cp_directive_t *directive,
                     char *why, size_t why_size)
{
    memset (directive, 0, sizeof *directive);
    if (size > CP_DIRECTIVE_BODY_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "a directive of %zu bytes is over "
                             "%d", size, CP_DIRECTIVE_BODY_MAX);
    int rc = cp_codec_prescan (data, size, 1, CP_DIRECTIVE_TEXT_MAX + 1);
    if (rc)
        return cp_error_why (rc, why, why_size, "a directive that is not one msgpack object "
                             "within its limits");
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next (&unpacked, (const char *) data, size, &offset)
            != MSGPACK_UNPACK_SUCCESS || offset != size)
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "a directive that does not unpack");
    else
        rc = s_read (&unpacked.data, directive, why, why_size);
    msgpack_unpacked_destroy (&unpacked);
    if (rc == 0)
        rc = s_shortest (data, size, directive, why, why_size);
    if (rc)
        memset (directive, 0, sizeof *directive);
    return rc;
}

//  =====================================================================
//  What a node keeps of a directive

size_t
cp_directive_state_encode (const cp_directive_state_t *state, uint8_t *buf)
{
    size_t len = strnlen (state->note, CP_NOTE_MAX);
    buf [0] = CP_DIRECTIVE_STATE_VERSION;
    buf [1] = (uint8_t) state->kind;
    cp_put_u32 (buf + 2, (uint32_t) state->due);
    cp_put_u32 (buf + 6, (uint32_t) state->received);
    cp_put_u32 (buf + 10, (uint32_t) state->done);
    buf [14] = (uint8_t) len;
    memcpy (buf + CP_DIRECTIVE_STATE_HEADER, state->note, len);
    return CP_DIRECTIVE_STATE_HEADER + len;
}

//  A stored day: 0 for none, else within the calendar's years.
static bool
s_day_valid (int32_t day)
{
    return day == 0 || (day >= cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
                    &&  day <= cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31));
}

int
cp_directive_state_decode (const uint8_t *data, size_t size, cp_directive_state_t *state)
{
    memset (state, 0, sizeof *state);
    int rc = 0;
    if (size < CP_DIRECTIVE_STATE_HEADER || size > CP_DIRECTIVE_STATE_MAX
    ||  size != CP_DIRECTIVE_STATE_HEADER + (size_t) data [14])
        return CP_EMALFORMED;
    if (data [0] != CP_DIRECTIVE_STATE_VERSION)
        return CP_EVERSION;
    state->kind = data [1];
    state->due = (int32_t) cp_get_u32 (data + 2);
    state->received = (int32_t) cp_get_u32 (data + 6);
    state->done = (int32_t) cp_get_u32 (data + 10);
    size_t len = data [14];
    memcpy (state->note, data + CP_DIRECTIVE_STATE_HEADER, len);
    state->note [len] = 0;
    if (state->kind != 0 && !cp_directive_kind_name (state->kind))
        rc = CP_EBADKIND;
    else
    if (!s_day_valid (state->due) || !s_day_valid (state->received)
    ||  !s_day_valid (state->done))
        rc = CP_EDATERANGE;
    else
    if (memchr (state->note, 0, len))
        rc = CP_EMALFORMED;
    if (rc)
        memset (state, 0, sizeof *state);
    return rc;
}
