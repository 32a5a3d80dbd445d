/*  cp_wire: command names and the msgpack bodies of the sync protocol.

    Every body is an array of fixed length.  Decoding is the same three steps
    for each: prescan (limits), unpack, then take the elements one by one
    with exact types; s_take_* helpers return an error code at the first
    element that is not what the shape says.                                 */

#include "cp_wire.h"
#include "cp_codec.h"
#include "cp_error.h"

#include <assert.h>
#include <msgpack.h>
#include <string.h>

static const char *s_names [CP_CMD_MAX + 1] = {
    NULL, "HELLO", "WELCOME", "BATCH", "ACK", "NACK", "PING", "PONG"
};

int
cp_wire_command (const void *frame, size_t size)
{
    for (int command = 1; command <= CP_CMD_MAX; command++)
        if (strlen (s_names [command]) == size && memcmp (s_names [command], frame, size) == 0)
            return command;
    return 0;
}

const char *
cp_wire_command_name (int command)
{
    return command >= 1 && command <= CP_CMD_MAX? s_names [command]: NULL;
}

//  =====================================================================
//  Encoding

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
} s_writer_t;

static msgpack_packer *
s_begin (s_writer_t *writer, size_t elements)
{
    msgpack_sbuffer_init (&writer->buffer);
    msgpack_packer_init (&writer->packer, &writer->buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&writer->packer, elements);
    return &writer->packer;
}

static uint8_t *
s_end (s_writer_t *writer, size_t *size)
{
    *size = writer->buffer.size;
    return (uint8_t *) msgpack_sbuffer_release (&writer->buffer);
}

static void
s_pack_str (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (packer, len);
    msgpack_pack_str_body (packer, text, len);
}

uint8_t *
cp_wire_hello_encode (const cp_hello_t *hello, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 6);
    msgpack_pack_uint32 (packer, hello->version);
    s_pack_str (packer, hello->municipality);
    msgpack_pack_uint64 (packer, hello->head);
    msgpack_pack_uint64 (packer, hello->acked);
    msgpack_pack_uint64 (packer, hello->downlink);
    s_pack_str (packer, hello->data_key);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_welcome_encode (const cp_welcome_t *welcome, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 3);
    msgpack_pack_uint64 (packer, welcome->expected);
    msgpack_pack_uint32 (packer, welcome->catalogue);
    msgpack_pack_uint32 (packer, welcome->window);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_batch_header_encode (const cp_batch_header_t *header, size_t *size)
{
    assert (header->nonce_size <= CP_WIRE_NONCE_MAX);
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 7);
    s_pack_str (packer, header->municipality);
    msgpack_pack_uint64 (packer, header->first);
    msgpack_pack_uint64 (packer, header->last);
    msgpack_pack_uint64 (packer, header->head);
    s_pack_str (packer, header->node_key);
    s_pack_str (packer, header->data_key);
    msgpack_pack_bin (packer, header->nonce_size);
    msgpack_pack_bin_body (packer, header->nonce, header->nonce_size);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_ack_encode (uint64_t seq, size_t *size)
{
    s_writer_t writer;
    msgpack_pack_uint64 (s_begin (&writer, 1), seq);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_nack_encode (uint64_t expected, int reason, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 2);
    msgpack_pack_uint64 (packer, expected);
    msgpack_pack_int32 (packer, reason);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_ping_encode (uint64_t head, size_t *size)
{
    s_writer_t writer;
    msgpack_pack_uint64 (s_begin (&writer, 1), head);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_pong_encode (size_t *size)
{
    s_writer_t writer;
    s_begin (&writer, 0);
    return s_end (&writer, size);
}

//  =====================================================================
//  Decoding

typedef struct {
    msgpack_unpacked unpacked;
    msgpack_object *items;      //  the body's elements
    uint32_t count;
    uint32_t next;              //  next element to take
} s_reader_t;

//  Prescans and unpacks a body that must be an array of `elements`.
static int
s_open (s_reader_t *reader, const uint8_t *data, size_t size, uint32_t elements)
{
    msgpack_unpacked_init (&reader->unpacked);
    if (size > CP_WIRE_BODY_MAX)
        return CP_ETOOBIG;
    int rc = cp_codec_prescan (data, size, 2, CP_WIRE_BODY_MAX);
    if (rc)
        return rc;
    size_t offset = 0;
    if (msgpack_unpack_next (&reader->unpacked, (const char *) data, size, &offset)
            != MSGPACK_UNPACK_SUCCESS || offset != size)
        return CP_EMALFORMED;
    msgpack_object *root = &reader->unpacked.data;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != elements)
        return CP_ETYPE;
    reader->items = root->via.array.ptr;
    reader->count = elements;
    reader->next = 0;
    return 0;
}

static int
s_close (s_reader_t *reader, int rc)
{
    msgpack_unpacked_destroy (&reader->unpacked);
    return rc;
}

static int
s_take_u64 (s_reader_t *reader, uint64_t *value)
{
    msgpack_object *item = &reader->items [reader->next++];
    if (item->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return CP_ETYPE;
    *value = item->via.u64;
    return 0;
}

static int
s_take_u32 (s_reader_t *reader, uint32_t *value)
{
    uint64_t wide = 0;
    int rc = s_take_u64 (reader, &wide);
    if (rc == 0 && wide > UINT32_MAX)
        rc = CP_ETOOBIG;
    *value = (uint32_t) wide;
    return rc;
}

//  A string of 1..max printable characters (no NUL) into buf.
static int
s_take_str (s_reader_t *reader, char *buf, size_t max)
{
    msgpack_object *item = &reader->items [reader->next++];
    if (item->type != MSGPACK_OBJECT_STR)
        return CP_ETYPE;
    size_t len = item->via.str.size;
    if (len == 0 || len > max)
        return CP_ETOOBIG;
    for (size_t index = 0; index < len; index++)
        if ((unsigned char) item->via.str.ptr [index] < 0x20)
            return CP_EMALFORMED;
    memcpy (buf, item->via.str.ptr, len);
    buf [len] = 0;
    return 0;
}

int
cp_wire_hello_decode (const uint8_t *data, size_t size, cp_hello_t *hello)
{
    s_reader_t reader;
    memset (hello, 0, sizeof *hello);
    int rc = s_open (&reader, data, size, 6);
    if (!rc) rc = s_take_u32 (&reader, &hello->version);
    if (!rc && hello->version != CP_WIRE_VERSION) rc = CP_EVERSION;
    if (!rc) rc = s_take_str (&reader, hello->municipality, CP_ID_MAX);
    if (!rc && !cp_event_id_valid (hello->municipality, strlen (hello->municipality)))
        rc = CP_EBADID;
    if (!rc) rc = s_take_u64 (&reader, &hello->head);
    if (!rc) rc = s_take_u64 (&reader, &hello->acked);
    if (!rc) rc = s_take_u64 (&reader, &hello->downlink);
    if (!rc) rc = s_take_str (&reader, hello->data_key, CP_WIRE_KEYID_MAX);
    if (!rc && !cp_event_id_valid (hello->data_key, strlen (hello->data_key)))
        rc = CP_EBADID;
    return s_close (&reader, rc);
}

int
cp_wire_welcome_decode (const uint8_t *data, size_t size, cp_welcome_t *welcome)
{
    s_reader_t reader;
    memset (welcome, 0, sizeof *welcome);
    int rc = s_open (&reader, data, size, 3);
    if (!rc) rc = s_take_u64 (&reader, &welcome->expected);
    if (!rc) rc = s_take_u32 (&reader, &welcome->catalogue);
    if (!rc) rc = s_take_u32 (&reader, &welcome->window);
    if (!rc && (welcome->expected == 0 || welcome->window == 0)) rc = CP_ETYPE;
    return s_close (&reader, rc);
}

int
cp_wire_batch_header_decode (const uint8_t *data, size_t size, cp_batch_header_t *header)
{
    s_reader_t reader;
    memset (header, 0, sizeof *header);
    int rc = s_open (&reader, data, size, 7);
    if (!rc) rc = s_take_str (&reader, header->municipality, CP_ID_MAX);
    if (!rc && !cp_event_id_valid (header->municipality, strlen (header->municipality)))
        rc = CP_EBADID;
    if (!rc) rc = s_take_u64 (&reader, &header->first);
    if (!rc) rc = s_take_u64 (&reader, &header->last);
    if (!rc) rc = s_take_u64 (&reader, &header->head);
    //  A range that is no range is a malformed header, not a gap in the log.
    if (!rc && (header->first == 0 || header->first > header->last)) rc = CP_EMALFORMED;
    if (!rc && header->last - header->first >= CP_CODEC_BATCH_EVENTS_MAX) rc = CP_ETOOBIG;
    if (!rc) rc = s_take_str (&reader, header->node_key, CP_WIRE_KEYID_MAX);
    if (!rc) rc = s_take_str (&reader, header->data_key, CP_WIRE_KEYID_MAX);
    //  Key ids end up in logs and key tables: the id alphabet, nothing else.
    if (!rc && (!cp_event_id_valid (header->node_key, strlen (header->node_key))
            ||  !cp_event_id_valid (header->data_key, strlen (header->data_key))))
        rc = CP_EBADID;
    if (!rc) {
        msgpack_object *nonce = &reader.items [reader.next++];
        if (nonce->type != MSGPACK_OBJECT_BIN)
            rc = CP_ETYPE;
        else
        if (nonce->via.bin.size > CP_WIRE_NONCE_MAX)
            rc = CP_ETOOBIG;
        else {
            header->nonce_size = (uint8_t) nonce->via.bin.size;
            memcpy (header->nonce, nonce->via.bin.ptr, header->nonce_size);
        }
    }
    return s_close (&reader, rc);
}

int
cp_wire_ack_decode (const uint8_t *data, size_t size, uint64_t *seq)
{
    s_reader_t reader;
    int rc = s_open (&reader, data, size, 1);
    if (!rc) rc = s_take_u64 (&reader, seq);
    return s_close (&reader, rc);
}

int
cp_wire_nack_decode (const uint8_t *data, size_t size, cp_reply_t *nack)
{
    s_reader_t reader;
    memset (nack, 0, sizeof *nack);
    int rc = s_open (&reader, data, size, 2);
    if (!rc) rc = s_take_u64 (&reader, &nack->seq);
    if (!rc) {
        msgpack_object *item = &reader.items [reader.next++];
        if (item->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && item->via.i64 >= INT32_MIN)
            nack->reason = (int32_t) item->via.i64;
        else
        if (item->type == MSGPACK_OBJECT_POSITIVE_INTEGER && item->via.u64 <= INT32_MAX)
            nack->reason = (int32_t) item->via.u64;
        else
            rc = CP_ETYPE;
    }
    return s_close (&reader, rc);
}

int
cp_wire_ping_decode (const uint8_t *data, size_t size, uint64_t *head)
{
    s_reader_t reader;
    int rc = s_open (&reader, data, size, 1);
    if (!rc) rc = s_take_u64 (&reader, head);
    return s_close (&reader, rc);
}

int
cp_wire_pong_decode (const uint8_t *data, size_t size)
{
    s_reader_t reader;
    return s_close (&reader, s_open (&reader, data, size, 0));
}
