/*  cp_codec: events and batches of events on the wire, in msgpack.

    Encoding writes straight into a msgpack_sbuffer through msgpack-c's
    packer, a batch in one buffer, with the smallest encoding of each value.

    Decoding runs in three steps, each on bytes that the step before has
    bounded.  The pre-scan walks the msgpack headers by hand without building
    anything: every container count is checked against the bytes that remain
    (each element takes at least one byte, so the sum of every count still
    open must fit in the rest of the buffer), every str/bin/ext length
    against a limit and against the rest, the nesting depth, the total size,
    and that exactly one object fills the buffer.  That matters because
    msgpack-c allocates an array of n objects as soon as it reads a count of
    n.  The pre-scan also counts the objects, so the unpacker gets a zone
    whose first chunk holds the whole tree: decoding a batch costs one
    allocation for msgpack-c and one for the events.  Last, the tree must
    have exactly the shape of cp_codec.h, with exact types (a str is not a
    bin, a negative number is not a type), and each field is checked and
    copied into fixed-size events; nothing of msgpack-c survives the call.

    Errors say what went wrong: CP_EMALFORMED for bytes that are not one
    msgpack object (truncated, trailing, reserved byte), CP_ETOOBIG for a
    limit, CP_ETYPE for a wrong type or shape, CP_EBADTYPE, CP_EBADID, and
    for field values CP_EDATERANGE, CP_EBADAGE, CP_EBADCODE, the codes that
    cp_event_resolve gives for the same faults.                              */

#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"

#include <msgpack.h>

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

//  Longest str, bin or ext our decoders let the pre-scan pass: more than any
//  field needs, so that an id one character too long is a bad id, while a
//  string of megabytes is refused before it is looked at.
#define S_STR_MAX 255

//  Deepest nesting that cp_codec_prescan can follow (its stack is an array)
#define S_DEPTH_LIMIT 32

//  Fields of the richest event: type, id, case, date, age and the codes
#define S_FIELDS_MAX (5 + CP_EVENT_CODES)

//  Objects in the largest valid batch: the batch, first_seq, the events
//  array, and for each event its array and fields.  A batch with more
//  objects cannot be valid, and refusing it bounds what the unpacker builds.
#define S_BATCH_OBJECTS_MAX (3 + CP_CODEC_BATCH_EVENTS_MAX * (1 + S_FIELDS_MAX))

//  What the pre-scan enforces
typedef struct {
    int depth_max;              //  containers within containers
    uint64_t str_max;           //  bytes in one str, bin or ext
    uint64_t count_max;         //  elements of one array or map (a pair is 2)
    uint64_t objects_max;       //  objects in all, containers included
} s_limits_t;


//  --------------------------------------------------------------------------
//  Encoding

//  Starts an sbuffer with alloc bytes, so that a small message is not given
//  msgpack-c's default of 8 KiB.  A failed malloc leaves an empty buffer,
//  which the first write grows as usual (and reports if that fails too).
static void
s_buffer_init (msgpack_sbuffer *buffer, size_t alloc)
{
    msgpack_sbuffer_init (buffer);
    buffer->data = (char *) malloc (alloc);
    if (buffer->data)
        buffer->alloc = alloc;
}

static int
s_pack_string (msgpack_packer *packer, const char *text, size_t max)
{
    size_t len = strnlen (text, max);
    int rc = msgpack_pack_str (packer, len);
    rc |= msgpack_pack_str_body (packer, text, len);
    return rc;
}

//  Packs an event of the node's own kinds: [type, id, date, ...], the rest
//  as cp_codec.h gives it for the type.
static int
s_pack_own (msgpack_packer *packer, const cp_event_t *event)
{
    bool entry = event->type != CP_EVENT_STAFF_SET;
    size_t fields = event->type == CP_EVENT_DIRECTIVE_RECEIVED? 4
                  : event->type == CP_EVENT_FIGURES_CHECKED? 6: 5;
    int rc = msgpack_pack_array (packer, fields);
    rc |= msgpack_pack_uint8 (packer, event->type);
    rc |= s_pack_string (packer, event->id, CP_ID_MAX);
    rc |= msgpack_pack_int32 (packer, event->date);
    if (entry)
        rc |= msgpack_pack_uint64 (packer, event->entry);
    if (event->type == CP_EVENT_FIGURES_CHECKED)
        rc |= msgpack_pack_uint8 (packer, event->verdict);
    if (event->type == CP_EVENT_DIRECTIVE_DONE || event->type == CP_EVENT_FIGURES_CHECKED)
        rc |= s_pack_string (packer, event->note, CP_NOTE_MAX);
    if (event->type == CP_EVENT_STAFF_SET) {
        rc |= msgpack_pack_uint32 (packer, event->workers);
        rc |= msgpack_pack_uint32 (packer, event->children);
    }
    return rc? -1: 0;
}

//  Packs one event.  Returns 0, or -1 when the type is not one we know or the
//  buffer could not grow.
static int
s_pack_event (msgpack_packer *packer, const cp_event_t *event)
{
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (!kind)
        return -1;
    if (kind->own)
        return s_pack_own (packer, event);
    int rc = msgpack_pack_array (packer, 4 + (kind->has_age? 1: 0) + kind->code_count);
    rc |= msgpack_pack_uint8 (packer, event->type);
    rc |= s_pack_string (packer, event->id, CP_ID_MAX);
    rc |= s_pack_string (packer, event->case_id, CP_ID_MAX);
    rc |= msgpack_pack_int32 (packer, event->date);
    if (kind->has_age)
        rc |= msgpack_pack_uint8 (packer, event->age);
    for (int slot = 0; slot < kind->code_count; slot++)
        rc |= s_pack_string (packer, event->codes [slot], CP_CODE_MAX);
    return rc? -1: 0;
}

int
cp_codec_event_pack (const cp_event_t *event, msgpack_sbuffer *buffer)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    return s_pack_event (&packer, event);
}

uint8_t *
cp_codec_event_encode (const cp_event_t *event, size_t *size)
{
    assert (event);
    assert (size);
    *size = 0;
    msgpack_sbuffer buffer;
    s_buffer_init (&buffer, CP_CODEC_EVENT_MAX);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    if (s_pack_event (&packer, event) || buffer.size >= CP_CODEC_EVENT_MAX) {
        msgpack_sbuffer_destroy (&buffer);
        return NULL;
    }
    *size = buffer.size;
    return (uint8_t *) msgpack_sbuffer_release (&buffer);
}

uint8_t *
cp_codec_batch_encode (uint64_t first_seq, const cp_event_t *events, size_t count,
                       size_t *size)
{
    assert (size);
    *size = 0;
    //  The decoder's rules for a batch, so that we never send one that the
    //  central must refuse for its count or sequence.  Field values are not
    //  checked again: events were checked when they were recorded.
    if (count == 0 || count > CP_CODEC_BATCH_EVENTS_MAX
    ||  first_seq == 0 || first_seq > UINT64_MAX - count)
        return NULL;
    assert (events);

    msgpack_sbuffer buffer;
    s_buffer_init (&buffer, 16 + count * 96);   //  a typical event is 40-90 bytes
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    int rc = msgpack_pack_array (&packer, 2);
    rc |= msgpack_pack_uint64 (&packer, first_seq);
    rc |= msgpack_pack_array (&packer, count);
    for (size_t index = 0; index < count && rc == 0; index++)
        rc = s_pack_event (&packer, &events [index]);
    if (rc || buffer.size > CP_CODEC_BATCH_MAX) {
        msgpack_sbuffer_destroy (&buffer);
        return NULL;
    }
    *size = buffer.size;
    return (uint8_t *) msgpack_sbuffer_release (&buffer);
}


//  --------------------------------------------------------------------------
//  Pre-scan

//  Walks the headers of data and checks them against limits, building
//  nothing.  Sets *objects_p to the number of objects when it returns 0.
static int
s_prescan (const uint8_t *data, size_t size, const s_limits_t *limits, size_t *objects_p)
{
    assert (limits->depth_max >= 0 && limits->depth_max <= S_DEPTH_LIMIT);
    if (size > CP_CODEC_BATCH_MAX)
        return CP_ETOOBIG;
    if (size == 0)
        return CP_EMALFORMED;

    //  left [d] is what remains to read of the container open at level d;
    //  level 0 stands for the buffer, which holds one object.
    uint64_t left [S_DEPTH_LIMIT + 1];
    int depth = 0;
    left [0] = 1;
    uint64_t pending = 1;       //  sum of left [], objects still to read
    uint64_t objects = 1;       //  objects announced so far
    size_t pos = 0;

    while (pending > 0) {
        while (left [depth] == 0)
            depth--;            //  a container is complete
        left [depth]--;
        pending--;
        if (pos == size)
            return CP_EMALFORMED;
        uint8_t byte = data [pos++];

        enum { S_SCALAR, S_SIZED, S_ARRAY, S_MAP } kind = S_SCALAR;
        int width = 0;          //  bytes of the big-endian length that follows
        uint64_t length = 0;    //  payload of a str/bin/ext, elements of a container
        uint64_t fixed = 0;     //  payload bytes that no length announces

        if (byte <= 0x7f || byte >= 0xe0)
            ;                   //  positive and negative fixint
        else
        if (byte <= 0x8f) {
            kind = S_MAP;
            length = byte & 0x0f;
        }
        else
        if (byte <= 0x9f) {
            kind = S_ARRAY;
            length = byte & 0x0f;
        }
        else
        if (byte <= 0xbf) {
            kind = S_SIZED;     //  fixstr
            length = byte & 0x1f;
        }
        else
        switch (byte) {
            case 0xc1:          //  reserved, never used
                return CP_EMALFORMED;
            case 0xc4: case 0xd9: kind = S_SIZED; width = 1; break; //  bin 8, str 8
            case 0xc5: case 0xda: kind = S_SIZED; width = 2; break; //  bin 16, str 16
            case 0xc6: case 0xdb: kind = S_SIZED; width = 4; break; //  bin 32, str 32
            //  ext 8, 16, 32: the length, then one byte of type
            case 0xc7: kind = S_SIZED; width = 1; fixed = 1; break;
            case 0xc8: kind = S_SIZED; width = 2; fixed = 1; break;
            case 0xc9: kind = S_SIZED; width = 4; fixed = 1; break;
            case 0xcc: case 0xd0: fixed = 1; break;                 //  uint 8, int 8
            case 0xcd: case 0xd1: fixed = 2; break;
            case 0xca: case 0xce: case 0xd2: fixed = 4; break;      //  float 32, 32 bits
            case 0xcb: case 0xcf: case 0xd3: fixed = 8; break;      //  float 64, 64 bits
            case 0xd4: fixed = 2; break;                            //  fixext: type, data
            case 0xd5: fixed = 3; break;
            case 0xd6: fixed = 5; break;
            case 0xd7: fixed = 9; break;
            case 0xd8: fixed = 17; break;
            case 0xdc: kind = S_ARRAY; width = 2; break;
            case 0xdd: kind = S_ARRAY; width = 4; break;
            case 0xde: kind = S_MAP; width = 2; break;
            case 0xdf: kind = S_MAP; width = 4; break;
            default:            //  nil, false, true
                break;
        }
        if (size - pos < (size_t) width)
            return CP_EMALFORMED;
        for (int index = 0; index < width; index++)
            length = (length << 8) | data [pos++];

        if (kind == S_SCALAR) {
            if (fixed > size - pos)
                return CP_EMALFORMED;
            pos += fixed;
        }
        else
        if (kind == S_SIZED) {
            if (length > limits->str_max)
                return CP_ETOOBIG;
            if (fixed + length > size - pos)
                return CP_EMALFORMED;
            pos += fixed + length;
        }
        else {
            //  An absurd count is refused as too big, whatever follows it;
            //  a count the rest of the buffer cannot hold is a truncation.
            uint64_t elements = kind == S_MAP? 2 * length: length;
            if (depth + 1 > limits->depth_max)
                return CP_ETOOBIG;
            if (elements > limits->count_max || elements > limits->objects_max - objects)
                return CP_ETOOBIG;
            if (pending + elements > size - pos)
                return CP_EMALFORMED;
            objects += elements;
            pending += elements;
            left [++depth] = elements;
        }
    }
    if (pos != size)
        return CP_EMALFORMED;   //  trailing bytes
    *objects_p = (size_t) objects;
    return 0;
}

int
cp_codec_prescan (const uint8_t *data, size_t size, int depth_max, size_t str_max)
{
    s_limits_t limits = {depth_max, str_max, UINT64_MAX, UINT64_MAX};
    size_t objects;
    return s_prescan (data, size, &limits, &objects);
}


//  --------------------------------------------------------------------------
//  Decoding

//  Starts a zone whose first chunk holds the whole tree of objects objects:
//  each object is at most one element of one container's array, plus that
//  array's alignment.  Returns false when out of memory (then the zone must
//  not be destroyed).
static bool
s_zone_init (msgpack_zone *zone, size_t objects)
{
    size_t chunk = objects * (sizeof (msgpack_object) + MSGPACK_ZONE_ALIGN);
    return msgpack_zone_init (zone, chunk);
}

//  Unpacks data, which the pre-scan has passed, into zone.  msgpack-c cannot
//  fail on such data except when it runs out of memory, and the codes have
//  none for that: a batch we cannot hold is too big (the sender retries).
static int
s_unpack (const uint8_t *data, size_t size, msgpack_zone *zone, msgpack_object *root)
{
    size_t offset = 0;
    msgpack_unpack_return rc =
        msgpack_unpack ((const char *) data, size, &offset, zone, root);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size)
        return rc == MSGPACK_UNPACK_PARSE_ERROR? CP_ETOOBIG: CP_EMALFORMED;
    return 0;
}

//  Copies an id or a case pseudonym into target (CP_ID_MAX + 1 bytes).
static int
s_read_id (const msgpack_object *object, char *target)
{
    if (object->type != MSGPACK_OBJECT_STR)
        return CP_ETYPE;
    uint32_t len = object->via.str.size;
    if (!cp_event_id_valid (object->via.str.ptr, len))
        return CP_EBADID;
    memcpy (target, object->via.str.ptr, len);
    target [len] = 0;
    return 0;
}

//  Copies a code into target (CP_CODE_MAX + 1 bytes).  Whether the catalogue
//  defines it is cp_event_resolve's business; a code that no catalogue can
//  hold (empty, or with a NUL that would cut it short) is refused here.
static int
s_read_code (const msgpack_object *object, char *target)
{
    if (object->type != MSGPACK_OBJECT_STR)
        return CP_ETYPE;
    uint32_t len = object->via.str.size;
    if (len > CP_CODE_MAX)
        return CP_ETOOBIG;
    if (len == 0 || memchr (object->via.str.ptr, 0, len))
        return CP_EBADCODE;
    memcpy (target, object->via.str.ptr, len);
    target [len] = 0;
    return 0;
}

//  Reads a whole number of at most max into *value.
static int
s_read_number (const msgpack_object *object, uint64_t max, uint64_t *value)
{
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return CP_EBADVALUE;
    if (object->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return CP_ETYPE;
    if (object->via.u64 > max)
        return CP_EBADVALUE;
    *value = object->via.u64;
    return 0;
}

//  Reads a day number (field of an event) into *date.
static int
s_read_date (const msgpack_object *object, int32_t date_min, int32_t *date)
{
    //  A negative day number is an integer, just far out of range
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return CP_EDATERANGE;
    if (object->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return CP_ETYPE;
    if (object->via.u64 > INT32_MAX || (int64_t) object->via.u64 < date_min)
        return CP_EDATERANGE;
    *date = (int32_t) object->via.u64;
    return 0;
}

//  Reads the fields after the type of an event of the node's own kinds,
//  then checks what it reports (cp_event_own_check).
static int
s_read_own (const msgpack_object *object, int32_t date_min, cp_event_t *event)
{
    const msgpack_object *field = object->via.array.ptr;
    uint32_t fields = object->via.array.size;
    int type = event->type;
    uint32_t expected = type == CP_EVENT_DIRECTIVE_RECEIVED? 4
                      : type == CP_EVENT_FIGURES_CHECKED? 6: 5;
    if (fields != expected)
        return CP_ETYPE;
    int rc = s_read_id (&field [1], event->id);
    if (rc == 0)
        rc = s_read_date (&field [2], date_min, &event->date);
    const msgpack_object *next = &field [3];
    uint64_t value = 0;
    if (rc == 0 && type != CP_EVENT_STAFF_SET && (rc = s_read_number (next++, UINT64_MAX,
                                                                      &value)) == 0)
        event->entry = value;
    if (rc == 0 && type == CP_EVENT_FIGURES_CHECKED
    &&  (rc = s_read_number (next++, UINT8_MAX, &value)) == 0)
        event->verdict = (uint8_t) value;
    if (rc == 0 && (type == CP_EVENT_DIRECTIVE_DONE || type == CP_EVENT_FIGURES_CHECKED)) {
        if (next->type != MSGPACK_OBJECT_STR)
            rc = CP_ETYPE;
        else
        if (next->via.str.size > CP_NOTE_MAX)
            rc = CP_ETOOBIG;
        else
        if (next->via.str.size == 0)
            ;                       //  no note (msgpack-c may give no pointer)
        else
        if (memchr (next->via.str.ptr, 0, next->via.str.size))
            rc = CP_EBADVALUE;      //  a NUL would cut the note short
        else
            memcpy (event->note, next->via.str.ptr, next->via.str.size);
        next++;
    }
    if (rc == 0 && type == CP_EVENT_STAFF_SET
    &&  (rc = s_read_number (next++, UINT32_MAX, &value)) == 0) {
        event->workers = (uint32_t) value;
        if ((rc = s_read_number (next++, UINT32_MAX, &value)) == 0)
            event->children = (uint32_t) value;
    }
    if (rc == 0)
        rc = cp_event_own_check (event, NULL, 0);
    return rc;
}

//  Reads one event from its object into event, which the caller has zeroed.
//  date_min is the day number of 2000-01-01.
static int
s_read_event (const msgpack_object *object, int32_t date_min, cp_event_t *event)
{
    if (object->type != MSGPACK_OBJECT_ARRAY || object->via.array.size == 0)
        return CP_ETYPE;
    const msgpack_object *field = object->via.array.ptr;

    //  The type first, as it says how many fields there must be
    if (field [0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return CP_ETYPE;
    const cp_event_kind_t *kind = field [0].via.u64 <= CP_EVENT_OWN_MAX
                                ? cp_event_kind ((int) field [0].via.u64): NULL;
    if (!kind)
        return CP_EBADTYPE;
    if (kind->own) {
        event->type = (uint8_t) field [0].via.u64;
        return s_read_own (object, date_min, event);
    }
    unsigned fields = 4u + (kind->has_age? 1u: 0u) + (unsigned) kind->code_count;
    if (object->via.array.size != fields)
        return CP_ETYPE;
    event->type = (uint8_t) field [0].via.u64;

    int rc = s_read_id (&field [1], event->id);
    if (rc == 0)
        rc = s_read_id (&field [2], event->case_id);
    if (rc)
        return rc;

    if ((rc = s_read_date (&field [3], date_min, &event->date)))
        return rc;

    const msgpack_object *next = &field [4];
    if (kind->has_age) {
        if (next->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return CP_EBADAGE;
        if (next->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return CP_ETYPE;
        if (next->via.u64 > CP_AGE_MAX)
            return CP_EBADAGE;
        event->age = (uint8_t) next->via.u64;
        next++;
    }
    for (int slot = 0; slot < kind->code_count; slot++) {
        rc = s_read_code (next++, event->codes [slot]);
        if (rc)
            return rc;
    }
    return 0;
}

int
cp_codec_event_decode (const uint8_t *data, size_t size, cp_event_t *event)
{
    assert (event);
    memset (event, 0, sizeof *event);
    if (size >= CP_CODEC_EVENT_MAX)
        return CP_ETOOBIG;
    //  The size bounds the objects, so the pre-scan needs no count limits
    s_limits_t limits = {CP_CODEC_DEPTH_MAX, S_STR_MAX, UINT64_MAX, UINT64_MAX};
    size_t objects;
    int rc = s_prescan (data, size, &limits, &objects);
    if (rc)
        return rc;

    msgpack_zone zone;
    msgpack_object root;
    if (!s_zone_init (&zone, objects))
        return CP_ETOOBIG;
    rc = s_unpack (data, size, &zone, &root);
    if (rc == 0)
        rc = s_read_event (&root, cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1), event);
    msgpack_zone_destroy (&zone);
    if (rc)
        memset (event, 0, sizeof *event);
    return rc;
}

int
cp_codec_batch_decode (const uint8_t *data, size_t size, uint64_t *first_seq,
                       cp_event_t **events_p, size_t *count_p)
{
    assert (first_seq);
    assert (events_p);
    assert (count_p);
    *first_seq = 0;
    *events_p = NULL;
    *count_p = 0;

    s_limits_t limits = {
        CP_CODEC_DEPTH_MAX, S_STR_MAX, CP_CODEC_BATCH_EVENTS_MAX, S_BATCH_OBJECTS_MAX
    };
    size_t objects;
    int rc = s_prescan (data, size, &limits, &objects);
    if (rc)
        return rc;

    msgpack_zone zone;
    msgpack_object root;
    const msgpack_object *list = NULL;
    cp_event_t *events = NULL;
    size_t count = 0;
    uint64_t seq = 0;

    if (!s_zone_init (&zone, objects))
        return CP_ETOOBIG;
    rc = s_unpack (data, size, &zone, &root);
    if (rc)
        goto failed;
    rc = CP_ETYPE;
    if (root.type != MSGPACK_OBJECT_ARRAY || root.via.array.size != 2)
        goto failed;
    if (root.via.array.ptr [0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        goto failed;
    seq = root.via.array.ptr [0].via.u64;
    if (seq == 0)
        goto failed;            //  sequences start at 1
    list = &root.via.array.ptr [1];
    if (list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size == 0)
        goto failed;
    count = list->via.array.size;
    //  The pre-scan has refused longer arrays; this keeps the rule in sight.
    //  first_seq + count is the receiver's next cursor, so it must exist.
    rc = CP_ETOOBIG;
    if (count > CP_CODEC_BATCH_EVENTS_MAX || seq > UINT64_MAX - count)
        goto failed;

    events = (cp_event_t *) calloc (count, sizeof (cp_event_t));
    if (!events)
        goto failed;            //  CP_ETOOBIG, as in s_unpack
    int32_t date_min = cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1);
    for (size_t index = 0; index < count; index++) {
        rc = s_read_event (&list->via.array.ptr [index], date_min, &events [index]);
        if (rc)
            goto failed;
    }
    msgpack_zone_destroy (&zone);
    *first_seq = seq;
    *events_p = events;
    *count_p = count;
    return 0;

failed:
    free (events);
    msgpack_zone_destroy (&zone);
    return rc;
}
