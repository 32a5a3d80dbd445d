/*  wire_any: a value of any cp_wire body, with each command's decoder and
    encoder behind one switch, and what cp_wire.h promises of a decoded
    value, so that test_wire and fuzz_wire treat every command alike.
    Header-only, for tests and fuzz targets.                                 */

#ifndef WIRE_ANY_H_INCLUDED
#define WIRE_ANY_H_INCLUDED

#include "cp_codec.h"
#include "cp_error.h"
#include "cp_event.h"
#include "cp_wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef union {
    cp_hello_t hello;
    cp_welcome_t welcome;
    cp_batch_header_t batch;
    cp_reply_t reply;           //  NACK, DOWNACK
    cp_down_t down;             //  DOWN: its entry points into the decoded bytes
    cp_ack_t ack;
    uint64_t seq;               //  PING
    cp_recover_t recover;
    cp_recovered_t recovered;
    cp_month_digests_t figures;       //  FIGURES (about 24 KiB)
    cp_figreq_t figreq;
    cp_month_rows_t figrows;          //  FIGROWS (about 119 KiB)
} wire_any_t;

//  Decodes size bytes as a body of command into value (cleared first).
//  Returns the decoder's code, or CP_EPROTOCOL for no command.
static inline int
wire_any_decode (int command, const uint8_t *data, size_t size, wire_any_t *value)
{
    memset (value, 0, sizeof *value);
    switch (command) {
        case CP_CMD_HELLO:     return cp_wire_hello_decode (data, size, &value->hello);
        case CP_CMD_WELCOME:   return cp_wire_welcome_decode (data, size, &value->welcome);
        case CP_CMD_BATCH:     return cp_wire_batch_header_decode (data, size, &value->batch);
        case CP_CMD_ACK:       return cp_wire_ack_decode (data, size, &value->ack);
        case CP_CMD_NACK:      return cp_wire_nack_decode (data, size, &value->reply);
        case CP_CMD_PING:      return cp_wire_ping_decode (data, size, &value->seq);
        case CP_CMD_PONG:      return cp_wire_pong_decode (data, size);
        case CP_CMD_RECOVER:   return cp_wire_recover_decode (data, size, &value->recover);
        case CP_CMD_RECOVERED: return cp_wire_recovered_decode (data, size, &value->recovered);
        case CP_CMD_DOWN:      return cp_wire_down_decode (data, size, &value->down);
        case CP_CMD_DOWNACK:   return cp_wire_downack_decode (data, size, &value->reply);
        case CP_CMD_FIGURES:   return cp_wire_figures_decode (data, size, &value->figures);
        case CP_CMD_FIGREQ:    return cp_wire_figreq_decode (data, size, &value->figreq);
        case CP_CMD_FIGROWS:   return cp_wire_figrows_decode (data, size, &value->figrows);
    }
    return CP_EPROTOCOL;
}

//  Encodes value as a body of command: a malloc'd body and its size, or NULL.
static inline uint8_t *
wire_any_encode (int command, const wire_any_t *value, size_t *size)
{
    switch (command) {
        case CP_CMD_HELLO:     return cp_wire_hello_encode (&value->hello, size);
        case CP_CMD_WELCOME:   return cp_wire_welcome_encode (&value->welcome, size);
        case CP_CMD_BATCH:     return cp_wire_batch_header_encode (&value->batch, size);
        case CP_CMD_ACK:       return cp_wire_ack_encode (&value->ack, size);
        case CP_CMD_NACK:      return cp_wire_nack_encode (value->reply.seq, value->reply.reason,
                                                           size);
        case CP_CMD_PING:      return cp_wire_ping_encode (value->seq, size);
        case CP_CMD_PONG:      return cp_wire_pong_encode (size);
        case CP_CMD_RECOVER:   return cp_wire_recover_encode (&value->recover, size);
        case CP_CMD_RECOVERED: return cp_wire_recovered_encode (&value->recovered, size);
        case CP_CMD_DOWN:      return cp_wire_down_encode (value->down.prev, value->down.entry,
                                                           value->down.entry_size, size);
        case CP_CMD_DOWNACK:   return cp_wire_downack_encode (value->reply.seq,
                                                              value->reply.reason, size);
        case CP_CMD_FIGURES:   return cp_wire_figures_encode (&value->figures, size);
        case CP_CMD_FIGREQ:    return cp_wire_figreq_encode (&value->figreq, size);
        case CP_CMD_FIGROWS:   return cp_wire_figrows_encode (&value->figrows, size);
    }
    return NULL;
}

//  True when rc is a code the decoder of command may give a body it
//  refuses: only HELLO has a version, only bodies with ids a bad id.
static inline bool
wire_any_refusal (int command, int rc)
{
    switch (rc) {
        case CP_EMALFORMED:
        case CP_ETOOBIG:
        case CP_ETYPE:
            return true;
        case CP_EBADID:
            return command == CP_CMD_HELLO || command == CP_CMD_BATCH
                || command == CP_CMD_RECOVER || command == CP_CMD_RECOVERED;
        case CP_EVERSION:
            return command == CP_CMD_HELLO;
    }
    return false;
}

//  True when buf (size bytes) holds a NUL-terminated id of the alphabet.
static inline bool
wire_any_id (const char *buf, size_t size)
{
    size_t len = strnlen (buf, size);
    return len < size && cp_event_id_valid (buf, len);
}

//  True when a decoded value keeps cp_wire.h's promises: a version we
//  speak, ids of the alphabet, a range that is a range, a window and an
//  expected sequence, a count of 1..CP_WIRE_RECOVER_MAX, positions that
//  follow, a nonce that fits.
static inline bool
wire_any_holds (int command, const wire_any_t *value)
{
    switch (command) {
        case CP_CMD_HELLO:
            return value->hello.version == CP_WIRE_VERSION
                && wire_any_id (value->hello.municipality, sizeof value->hello.municipality)
                && wire_any_id (value->hello.data_key, sizeof value->hello.data_key);
        case CP_CMD_WELCOME:
            return value->welcome.expected != 0 && value->welcome.window != 0;
        case CP_CMD_ACK:
            return value->ack.window != 0;
        case CP_CMD_BATCH: {
            const cp_batch_header_t *header = &value->batch;
            return header->first != 0 && header->first <= header->last
                && header->last - header->first < CP_CODEC_BATCH_EVENTS_MAX
                && header->nonce_size <= CP_WIRE_NONCE_MAX
                && wire_any_id (header->municipality, sizeof header->municipality)
                && wire_any_id (header->node_key, sizeof header->node_key)
                && wire_any_id (header->data_key, sizeof header->data_key);
        }
        case CP_CMD_RECOVER:
            return value->recover.count >= 1 && value->recover.count <= CP_WIRE_RECOVER_MAX
                && wire_any_id (value->recover.node_key, sizeof value->recover.node_key)
                && wire_any_id (value->recover.data_key, sizeof value->recover.data_key);
        case CP_CMD_RECOVERED: {
            const cp_recovered_t *recovered = &value->recovered;
            return recovered->position <= recovered->next && recovered->next <= recovered->end
                && (recovered->next > recovered->position
                    || recovered->position == recovered->end)
                && recovered->nonce_size <= CP_WIRE_NONCE_MAX
                && wire_any_id (recovered->municipality, sizeof recovered->municipality)
                && wire_any_id (recovered->node_key, sizeof recovered->node_key)
                && wire_any_id (recovered->data_key, sizeof recovered->data_key);
        }
        case CP_CMD_DOWN:
            return value->down.entry && value->down.entry_size > 0
                && value->down.entry_size <= CP_WIRE_DOWN_MAX;
        case CP_CMD_FIGURES: {
            //  Months in range, each after the one before
            const cp_month_digests_t *figures = &value->figures;
            if (figures->count > CP_FIGURES_MONTHS)
                return false;
            for (uint32_t index = 0; index < figures->count; index++)
                if (figures->months [index].month < 0
                ||  figures->months [index].month >= CP_FIGURES_MONTHS
                ||  (index && figures->months [index].month <= figures->months [index - 1].month))
                    return false;
            return true;
        }
        case CP_CMD_FIGREQ: {
            const cp_figreq_t *figreq = &value->figreq;
            if (figreq->count < 1 || figreq->count > CP_FIGURES_ASK_MAX)
                return false;
            for (uint32_t index = 0; index < figreq->count; index++)
                if (figreq->months [index] < 0 || figreq->months [index] >= CP_FIGURES_MONTHS
                ||  (index && figreq->months [index] <= figreq->months [index - 1]))
                    return false;
            return true;
        }
        case CP_CMD_FIGROWS: {
            //  Months as FIGREQ's (none is allowed), each row one a view reads
            const cp_month_rows_t *rows = &value->figrows;
            if (rows->count > CP_FIGURES_ASK_MAX)
                return false;
            static cp_tally_row_t scratch;
            for (uint32_t index = 0; index < rows->count; index++) {
                const cp_month_row_t *month = &rows->months [index];
                memset (&scratch, 0, sizeof scratch);
                if (month->month < 0 || month->month >= CP_FIGURES_MONTHS
                ||  (index && month->month <= rows->months [index - 1].month)
                ||  month->size > CP_TALLY_ROW_ENCODED_MAX
                ||  (month->size && cp_tally_row_decode_add (month->row, month->size, &scratch)))
                    return false;
            }
            return true;
        }
    }
    return true;                //  ACK, NACK, PING, PONG, DOWNACK: any value of their types
}

//  True when two decoded values are the same: DOWN's entries by their
//  bytes (each points into the body it came from), FIGURES, FIGREQ and
//  FIGROWS by their months, the rest as memory.
static inline bool
wire_any_same (int command, const wire_any_t *one, const wire_any_t *other)
{
    if (command == CP_CMD_DOWN)
        return one->down.prev == other->down.prev
            && one->down.entry_size == other->down.entry_size
            && memcmp (one->down.entry, other->down.entry, one->down.entry_size) == 0;
    if (command == CP_CMD_FIGURES)
        return one->figures.as_of == other->figures.as_of
            && one->figures.count == other->figures.count
            && memcmp (one->figures.months, other->figures.months,
                       one->figures.count * sizeof (cp_month_digest_t)) == 0;
    if (command == CP_CMD_FIGREQ)
        return one->figreq.as_of == other->figreq.as_of
            && one->figreq.count == other->figreq.count
            && memcmp (one->figreq.months, other->figreq.months,
                       one->figreq.count * sizeof (int32_t)) == 0;
    if (command == CP_CMD_FIGROWS) {
        if (one->figrows.as_of != other->figrows.as_of
        ||  one->figrows.count != other->figrows.count)
            return false;
        for (uint32_t index = 0; index < one->figrows.count; index++) {
            const cp_month_row_t *a = &one->figrows.months [index],
                                 *b = &other->figrows.months [index];
            if (a->month != b->month || a->size != b->size || memcmp (a->row, b->row, a->size))
                return false;
        }
        return true;
    }
    return memcmp (one, other, sizeof *one) == 0;
}

#endif
