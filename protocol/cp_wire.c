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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_names [CP_CMD_MAX + 1] = {
    NULL, "HELLO", "WELCOME", "BATCH", "ACK", "NACK", "PING", "PONG", "RECOVER", "RECOVERED",
    "DOWN", "DOWNACK", "FIGURES", "FIGREQ", "FIGROWS"
};

int
cp_wire_command (const void *frame, size_t size)
{
    for (int command = 1; command <= CP_CMD_MAX; command++)
        if (strlen (s_names [command]) == size && memcmp (s_names [command], frame, size) == 0)
            return command;
    return 0;
}

void
cp_wire_log_name (const uint8_t *log, char *name)
{
    for (int index = 0; index < (CP_WIRE_LOG_NAME - 1) / 2; index++)
        snprintf (name + 2 * index, 3, "%02x", log [index]);
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

static void
s_pack_bin (msgpack_packer *packer, const uint8_t *data, size_t size)
{
    msgpack_pack_bin (packer, size);
    msgpack_pack_bin_body (packer, data, size);
}

uint8_t *
cp_wire_hello_encode (const cp_hello_t *hello, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 7);
    msgpack_pack_uint32 (packer, hello->version);
    s_pack_str (packer, hello->municipality);
    s_pack_bin (packer, hello->log, CP_WIRE_LOG_SIZE);
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
    msgpack_packer *packer = s_begin (&writer, 4);
    msgpack_pack_uint64 (packer, welcome->expected);
    s_pack_bin (packer, welcome->chain, CP_WIRE_CHAIN_SIZE);
    msgpack_pack_uint32 (packer, welcome->catalogue);
    msgpack_pack_uint32 (packer, welcome->window);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_batch_header_encode (const cp_batch_header_t *header, size_t *size)
{
    assert (header->nonce_size <= CP_WIRE_NONCE_MAX);
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 10);
    s_pack_str (packer, header->municipality);
    s_pack_bin (packer, header->log, CP_WIRE_LOG_SIZE);
    msgpack_pack_uint64 (packer, header->first);
    msgpack_pack_uint64 (packer, header->last);
    msgpack_pack_uint64 (packer, header->head);
    s_pack_bin (packer, header->prev, CP_WIRE_CHAIN_SIZE);
    s_pack_bin (packer, header->chain, CP_WIRE_CHAIN_SIZE);
    s_pack_str (packer, header->node_key);
    s_pack_str (packer, header->data_key);
    s_pack_bin (packer, header->nonce, header->nonce_size);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_ack_encode (const cp_ack_t *ack, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 2);
    msgpack_pack_uint64 (packer, ack->acked);
    msgpack_pack_uint32 (packer, ack->window);
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
cp_wire_down_encode (uint64_t prev, const uint8_t *entry, size_t entry_size, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 2);
    msgpack_pack_uint64 (packer, prev);
    s_pack_bin (packer, entry, entry_size);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_downack_encode (uint64_t cursor, int code, size_t *size)
{
    return cp_wire_nack_encode (cursor, code, size);
}

uint8_t *
cp_wire_figures_encode (const cp_month_digests_t *figures, size_t *size)
{
    assert (figures->count <= CP_FIGURES_MONTHS);
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 2);
    msgpack_pack_uint64 (packer, figures->as_of);
    msgpack_pack_array (packer, figures->count);
    for (uint32_t index = 0; index < figures->count; index++) {
        msgpack_pack_array (packer, 2);
        msgpack_pack_uint32 (packer, (uint32_t) figures->months [index].month);
        s_pack_bin (packer, figures->months [index].digest, CP_FIGURES_DIGEST_SIZE);
    }
    return s_end (&writer, size);
}

uint8_t *
cp_wire_figreq_encode (const cp_figreq_t *figreq, size_t *size)
{
    assert (figreq->count <= CP_FIGURES_ASK_MAX);
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 2);
    msgpack_pack_uint64 (packer, figreq->as_of);
    msgpack_pack_array (packer, figreq->count);
    for (uint32_t index = 0; index < figreq->count; index++)
        msgpack_pack_uint32 (packer, (uint32_t) figreq->months [index]);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_figrows_encode (const cp_month_rows_t *rows, size_t *size)
{
    assert (rows->count <= CP_FIGURES_ASK_MAX);
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 2);
    msgpack_pack_uint64 (packer, rows->as_of);
    msgpack_pack_array (packer, rows->count);
    for (uint32_t index = 0; index < rows->count; index++) {
        msgpack_pack_array (packer, 2);
        msgpack_pack_uint32 (packer, (uint32_t) rows->months [index].month);
        s_pack_bin (packer, rows->months [index].row, rows->months [index].size);
    }
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

uint8_t *
cp_wire_recover_encode (const cp_recover_t *recover, size_t *size)
{
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 4);
    msgpack_pack_uint64 (packer, recover->from);
    msgpack_pack_uint32 (packer, recover->count);
    s_pack_str (packer, recover->node_key);
    s_pack_str (packer, recover->data_key);
    return s_end (&writer, size);
}

uint8_t *
cp_wire_recovered_encode (const cp_recovered_t *recovered, size_t *size)
{
    assert (recovered->nonce_size <= CP_WIRE_NONCE_MAX);
    s_writer_t writer;
    msgpack_packer *packer = s_begin (&writer, 7);
    s_pack_str (packer, recovered->municipality);
    msgpack_pack_uint64 (packer, recovered->position);
    msgpack_pack_uint64 (packer, recovered->next);
    msgpack_pack_uint64 (packer, recovered->end);
    s_pack_str (packer, recovered->node_key);
    s_pack_str (packer, recovered->data_key);
    s_pack_bin (packer, recovered->nonce, recovered->nonce_size);
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

//  Prescans and unpacks a body of at most max bytes that must be an array
//  of `elements`.
static int
s_open_deep (s_reader_t *reader, const uint8_t *data, size_t size, uint32_t elements,
             size_t max, int depth)
{
    msgpack_unpacked_init (&reader->unpacked);
    if (size > max)
        return CP_ETOOBIG;
    int rc = cp_codec_prescan (data, size, depth, max);
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

//  An array of scalars: every body but FIGURES's.
static int
s_open_max (s_reader_t *reader, const uint8_t *data, size_t size, uint32_t elements,
            size_t max)
{
    return s_open_deep (reader, data, size, elements, max, 2);
}

//  Every body but DOWN's and FIGURES's: at most CP_WIRE_BODY_MAX bytes.
static int
s_open (s_reader_t *reader, const uint8_t *data, size_t size, uint32_t elements)
{
    return s_open_max (reader, data, size, elements, CP_WIRE_BODY_MAX);
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

//  A bin of exactly size bytes into buf (a log identity, a chain).
static int
s_take_bin (s_reader_t *reader, uint8_t *buf, size_t size)
{
    msgpack_object *item = &reader->items [reader->next++];
    if (item->type != MSGPACK_OBJECT_BIN)
        return CP_ETYPE;
    if (item->via.bin.size != size)
        return CP_EMALFORMED;
    memcpy (buf, item->via.bin.ptr, size);
    return 0;
}

//  A bin of at most CP_WIRE_NONCE_MAX bytes: a nonce.
static int
s_take_nonce (s_reader_t *reader, uint8_t *nonce, uint8_t *nonce_size)
{
    msgpack_object *item = &reader->items [reader->next++];
    if (item->type != MSGPACK_OBJECT_BIN)
        return CP_ETYPE;
    if (item->via.bin.size > CP_WIRE_NONCE_MAX)
        return CP_ETOOBIG;
    *nonce_size = (uint8_t) item->via.bin.size;
    memcpy (nonce, item->via.bin.ptr, *nonce_size);
    return 0;
}

//  A string of the id alphabet: a municipality code or a key id.
static int
s_take_id (s_reader_t *reader, char *buf, size_t max)
{
    int rc = s_take_str (reader, buf, max);
    if (rc == 0 && !cp_event_id_valid (buf, strlen (buf)))
        rc = CP_EBADID;
    return rc;
}

int
cp_wire_hello_decode (const uint8_t *data, size_t size, cp_hello_t *hello)
{
    s_reader_t reader;
    memset (hello, 0, sizeof *hello);
    int rc = s_open (&reader, data, size, 7);
    msgpack_object *root = &reader.unpacked.data;
    //  Every version's HELLO starts [version, municipality, ...]; another
    //  version's may have another shape, and is told so.
    if (rc == CP_ETYPE && root->type == MSGPACK_OBJECT_ARRAY && root->via.array.size > 1
    &&  root->via.array.ptr [0].type == MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  root->via.array.ptr [0].via.u64 != CP_WIRE_VERSION
    &&  root->via.array.ptr [1].type == MSGPACK_OBJECT_STR)
        rc = CP_EVERSION;
    if (!rc) rc = s_take_u32 (&reader, &hello->version);
    if (!rc && hello->version != CP_WIRE_VERSION) rc = CP_EVERSION;
    if (!rc) rc = s_take_id (&reader, hello->municipality, CP_ID_MAX);
    if (!rc) rc = s_take_bin (&reader, hello->log, CP_WIRE_LOG_SIZE);
    if (!rc) rc = s_take_u64 (&reader, &hello->head);
    if (!rc) rc = s_take_u64 (&reader, &hello->acked);
    if (!rc) rc = s_take_u64 (&reader, &hello->downlink);
    if (!rc) rc = s_take_id (&reader, hello->data_key, CP_WIRE_KEYID_MAX);
    return s_close (&reader, rc);
}

int
cp_wire_welcome_decode (const uint8_t *data, size_t size, cp_welcome_t *welcome)
{
    s_reader_t reader;
    memset (welcome, 0, sizeof *welcome);
    int rc = s_open (&reader, data, size, 4);
    if (!rc) rc = s_take_u64 (&reader, &welcome->expected);
    if (!rc) rc = s_take_bin (&reader, welcome->chain, CP_WIRE_CHAIN_SIZE);
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
    int rc = s_open (&reader, data, size, 10);
    if (!rc) rc = s_take_id (&reader, header->municipality, CP_ID_MAX);
    if (!rc) rc = s_take_bin (&reader, header->log, CP_WIRE_LOG_SIZE);
    if (!rc) rc = s_take_u64 (&reader, &header->first);
    if (!rc) rc = s_take_u64 (&reader, &header->last);
    if (!rc) rc = s_take_u64 (&reader, &header->head);
    //  A range that is no range is a malformed header, not a gap in the log.
    if (!rc && (header->first == 0 || header->first > header->last)) rc = CP_EMALFORMED;
    if (!rc && header->last - header->first >= CP_CODEC_BATCH_EVENTS_MAX) rc = CP_ETOOBIG;
    if (!rc) rc = s_take_bin (&reader, header->prev, CP_WIRE_CHAIN_SIZE);
    if (!rc) rc = s_take_bin (&reader, header->chain, CP_WIRE_CHAIN_SIZE);
    //  Key ids end up in logs and key tables: the id alphabet, nothing else.
    if (!rc) rc = s_take_id (&reader, header->node_key, CP_WIRE_KEYID_MAX);
    if (!rc) rc = s_take_id (&reader, header->data_key, CP_WIRE_KEYID_MAX);
    if (!rc) rc = s_take_nonce (&reader, header->nonce, &header->nonce_size);
    return s_close (&reader, rc);
}

int
cp_wire_ack_decode (const uint8_t *data, size_t size, cp_ack_t *ack)
{
    s_reader_t reader;
    memset (ack, 0, sizeof *ack);
    int rc = s_open (&reader, data, size, 2);
    if (!rc) rc = s_take_u64 (&reader, &ack->acked);
    if (!rc) rc = s_take_u32 (&reader, &ack->window);
    if (!rc && ack->window == 0) rc = CP_ETYPE;
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
cp_wire_down_decode (const uint8_t *data, size_t size, cp_down_t *down)
{
    s_reader_t reader;
    memset (down, 0, sizeof *down);
    int rc = s_open_max (&reader, data, size, 2, CP_WIRE_DOWN_MAX);
    if (!rc) rc = s_take_u64 (&reader, &down->prev);
    if (!rc) {
        msgpack_object *item = &reader.items [reader.next++];
        //  The entry is read where it lies in data, never through the
        //  unpacker's zone, which goes at s_close.
        if (item->type != MSGPACK_OBJECT_BIN)
            rc = CP_ETYPE;
        else
        if (item->via.bin.size == 0)
            rc = CP_EMALFORMED;
        else
        if ((const uint8_t *) item->via.bin.ptr < data
        ||  (const uint8_t *) item->via.bin.ptr + item->via.bin.size > data + size)
            rc = CP_EMALFORMED;
        else {
            down->entry = (const uint8_t *) item->via.bin.ptr;
            down->entry_size = item->via.bin.size;
        }
    }
    return s_close (&reader, rc);
}

int
cp_wire_downack_decode (const uint8_t *data, size_t size, cp_reply_t *downack)
{
    return cp_wire_nack_decode (data, size, downack);
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

int
cp_wire_recover_decode (const uint8_t *data, size_t size, cp_recover_t *recover)
{
    s_reader_t reader;
    memset (recover, 0, sizeof *recover);
    int rc = s_open (&reader, data, size, 4);
    if (!rc) rc = s_take_u64 (&reader, &recover->from);
    if (!rc) rc = s_take_u32 (&reader, &recover->count);
    if (!rc && (recover->count == 0 || recover->count > CP_WIRE_RECOVER_MAX)) rc = CP_ETOOBIG;
    if (!rc) rc = s_take_id (&reader, recover->node_key, CP_WIRE_KEYID_MAX);
    if (!rc) rc = s_take_id (&reader, recover->data_key, CP_WIRE_KEYID_MAX);
    return s_close (&reader, rc);
}

int
cp_wire_recovered_decode (const uint8_t *data, size_t size, cp_recovered_t *recovered)
{
    s_reader_t reader;
    memset (recovered, 0, sizeof *recovered);
    int rc = s_open (&reader, data, size, 7);
    if (!rc) rc = s_take_id (&reader, recovered->municipality, CP_ID_MAX);
    if (!rc) rc = s_take_u64 (&reader, &recovered->position);
    if (!rc) rc = s_take_u64 (&reader, &recovered->next);
    if (!rc) rc = s_take_u64 (&reader, &recovered->end);
    //  Positions that do not follow would make a recovery skip or loop.
    if (!rc && (recovered->position > recovered->next || recovered->next > recovered->end
            || (recovered->next == recovered->position && recovered->position != recovered->end)))
        rc = CP_EMALFORMED;
    if (!rc) rc = s_take_id (&reader, recovered->node_key, CP_WIRE_KEYID_MAX);
    if (!rc) rc = s_take_id (&reader, recovered->data_key, CP_WIRE_KEYID_MAX);
    if (!rc) rc = s_take_nonce (&reader, recovered->nonce, &recovered->nonce_size);
    return s_close (&reader, rc);
}

//  One [month, digest] pair of FIGURES, after the month before it (-1 for
//  the first).
static int
s_take_month (const msgpack_object *item, int32_t before, cp_month_digest_t *month)
{
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 2)
        return CP_ETYPE;
    const msgpack_object *number = &item->via.array.ptr [0];
    const msgpack_object *digest = &item->via.array.ptr [1];
    if (number->type != MSGPACK_OBJECT_POSITIVE_INTEGER || digest->type != MSGPACK_OBJECT_BIN)
        return CP_ETYPE;
    //  Months in order, each once, within cp_tally's range.
    if (number->via.u64 >= CP_FIGURES_MONTHS || (int64_t) number->via.u64 <= before
    ||  digest->via.bin.size != CP_FIGURES_DIGEST_SIZE)
        return CP_EMALFORMED;
    month->month = (int32_t) number->via.u64;
    memcpy (month->digest, digest->via.bin.ptr, CP_FIGURES_DIGEST_SIZE);
    return 0;
}

//  The body's next element, an array of at most max items, into *list.
static int
s_take_list (s_reader_t *reader, uint32_t max, const msgpack_object **list)
{
    *list = &reader->items [reader->next++];
    if ((*list)->type != MSGPACK_OBJECT_ARRAY)
        return CP_ETYPE;
    return (*list)->via.array.size > max? CP_ETOOBIG: 0;
}

int
cp_wire_figures_decode (const uint8_t *data, size_t size, cp_month_digests_t *figures)
{
    s_reader_t reader;
    figures->as_of = 0;
    figures->count = 0;
    const msgpack_object *list;
    int rc = s_open_deep (&reader, data, size, 2, CP_WIRE_FIGURES_MAX, 3);
    if (!rc) rc = s_take_u64 (&reader, &figures->as_of);
    if (!rc) rc = s_take_list (&reader, CP_FIGURES_MONTHS, &list);
    int32_t before = -1;
    for (uint32_t index = 0; !rc && index < list->via.array.size; index++) {
        rc = s_take_month (&list->via.array.ptr [index], before, &figures->months [index]);
        before = figures->months [index].month;
        figures->count = rc? 0: index + 1;
    }
    if (rc)
        figures->count = 0;
    return s_close (&reader, rc);
}

//  A month number of FIGREQ or FIGROWS, after the one before it (-1 for
//  the first), within cp_tally's range.
static int
s_take_month_number (const msgpack_object *item, int32_t before, int32_t *month)
{
    if (item->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return CP_ETYPE;
    if (item->via.u64 >= CP_FIGURES_MONTHS || (int64_t) item->via.u64 <= before)
        return CP_EMALFORMED;
    *month = (int32_t) item->via.u64;
    return 0;
}

int
cp_wire_figreq_decode (const uint8_t *data, size_t size, cp_figreq_t *figreq)
{
    s_reader_t reader;
    memset (figreq, 0, sizeof *figreq);
    const msgpack_object *list;
    int rc = s_open_deep (&reader, data, size, 2, CP_WIRE_BODY_MAX, 2);
    if (!rc) rc = s_take_u64 (&reader, &figreq->as_of);
    if (!rc) rc = s_take_list (&reader, CP_FIGURES_ASK_MAX, &list);
    if (!rc && list->via.array.size == 0)
        rc = CP_EMALFORMED;     //  a request for nothing
    for (uint32_t index = 0; !rc && index < list->via.array.size; index++)
        rc = s_take_month_number (&list->via.array.ptr [index],
                                  index? figreq->months [index - 1]: -1,
                                  &figreq->months [index]);
    figreq->count = rc? 0: list->via.array.size;
    return s_close (&reader, rc);
}

//  One [month, row] pair of FIGROWS, after the month before it.
static int
s_take_month_row (const msgpack_object *item, int32_t before, cp_month_row_t *month,
                  cp_tally_row_t *scratch)
{
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 2)
        return CP_ETYPE;
    const msgpack_object *row = &item->via.array.ptr [1];
    int rc = s_take_month_number (&item->via.array.ptr [0], before, &month->month);
    if (!rc && row->type != MSGPACK_OBJECT_BIN)
        rc = CP_ETYPE;
    if (!rc && row->via.bin.size > CP_TALLY_ROW_ENCODED_MAX)
        rc = CP_EMALFORMED;
    //  A row the node could not read would fail it later, when shown
    if (!rc && row->via.bin.size) {
        memset (scratch, 0, sizeof *scratch);
        rc = cp_tally_row_decode_add ((const uint8_t *) row->via.bin.ptr, row->via.bin.size,
                                      scratch);
    }
    if (!rc) {
        month->size = (uint16_t) row->via.bin.size;
        if (month->size)
            memcpy (month->row, row->via.bin.ptr, month->size);
    }
    return rc;
}

int
cp_wire_figrows_decode (const uint8_t *data, size_t size, cp_month_rows_t *rows)
{
    s_reader_t reader;
    rows->as_of = 0;
    rows->count = 0;
    const msgpack_object *list;
    int rc = s_open_deep (&reader, data, size, 2, CP_WIRE_FIGROWS_MAX, 3);
    if (!rc) rc = s_take_u64 (&reader, &rows->as_of);
    if (!rc) rc = s_take_list (&reader, CP_FIGURES_ASK_MAX, &list);
    cp_tally_row_t *scratch = malloc (sizeof (cp_tally_row_t));
    assert (scratch);
    for (uint32_t index = 0; !rc && index < list->via.array.size; index++)
        rc = s_take_month_row (&list->via.array.ptr [index],
                               index? rows->months [index - 1].month: -1,
                               &rows->months [index], scratch);
    free (scratch);
    rows->count = rc? 0: list->via.array.size;
    return s_close (&reader, rc);
}
