/*  central_downlink: what the central sends each node of its downlink log.
    See central_downlink.h; docs/design.md, "Downlink", has the model.      */

#include "central_downlink.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "cp_wire.h"

#include <czmq.h>
#include <inttypes.h>

//  Where one municipality's node stands.
typedef struct {
    bool connected;             //  said HELLO
    bool diverged;              //  refused an entry as CP_EDIVERGED: stop
    uint64_t cursor;            //  the node's cursor, as it last said
    uint64_t sent;              //  the last entry sent (the cursor at first)
    int in_flight;              //  DOWNs without a DOWNACK
    int64_t sent_at;            //  when the last DOWN went
    int64_t paused_until;       //  after a refusal, nothing before this
    uint64_t resent_from;       //  the cursor of the last resend after a gap
    int64_t resent_at;          //  and when
    bool exhausted;             //  nothing after sent, when the log ended at
    uint64_t exhausted_at;      //  this seq
} s_node_t;

struct _central_downlink_t {
    central_store_t *store;
    s_node_t *nodes;            //  per municipality
    int count;
    uint64_t last;              //  the log's highest seq, as last looked at
};

central_downlink_t *
central_downlink_new (central_store_t *store)
{
    central_downlink_t *self = calloc (1, sizeof (central_downlink_t));
    assert (self);
    self->store = store;
    self->count = cp_municipality_count ();
    self->nodes = calloc ((size_t) self->count, sizeof (s_node_t));
    assert (self->nodes);
    central_store_downlink_last (store, &self->last);
    return self;
}

void
central_downlink_destroy (central_downlink_t **self_p)
{
    if (!*self_p)
        return;
    free ((*self_p)->nodes);
    free (*self_p);
    *self_p = NULL;
}

static s_node_t *
s_node (central_downlink_t *self, int municipality)
{
    return municipality >= 0 && municipality < self->count? &self->nodes [municipality]: NULL;
}

//  Sends again from the node's cursor.
static void
s_rewind (s_node_t *node)
{
    node->sent = node->cursor;
    node->in_flight = 0;
    node->exhausted = false;
}

void
central_downlink_hello (central_downlink_t *self, int municipality, uint64_t cursor)
{
    s_node_t *node = s_node (self, municipality);
    if (!node)
        return;
    *node = (s_node_t) {.connected = true, .cursor = cursor, .sent = cursor};
    central_store_downlink_reached (self->store, municipality, cursor);
    //  A node ahead of the log: the store was restored from an older copy.
    //  New entries must be numbered past what the node has applied.
    if (cursor > self->last && central_store_downlink_seen (self->store, cursor) == 0)
        self->last = cursor;
}

bool
central_downlink_ack (central_downlink_t *self, int municipality, uint64_t cursor, int code,
                      char *why, size_t why_size)
{
    s_node_t *node = s_node (self, municipality);
    if (!node || !node->connected)
        return false;
    int64_t now = zclock_mono ();
    if (node->in_flight > 0)
        node->in_flight--;
    node->cursor = cursor;
    central_store_downlink_reached (self->store, municipality, cursor);
    if (node->sent < cursor)
        s_rewind (node);        //  the node is further on than we thought
    if (code == 0 || code == CP_EREPLAY)
        return false;
    if (code == CP_EGAP) {
        //  Every DOWN in flight behind the lost one says so: resend once.
        if (node->resent_from != cursor || now - node->resent_at >= CENTRAL_DOWNLINK_RESEND_MSECS) {
            s_rewind (node);
            node->resent_from = cursor;
            node->resent_at = now;
        }
        return false;
    }
    if (code == CP_EDIVERGED) {
        node->diverged = true;
        cp_error_why (code, why, why_size, "the node of %s has applied downlink entries that "
                      "the log does not give it (cursor %" PRIu64 "): nothing more is sent to "
                      "it until it says HELLO again", cp_municipality_code (municipality), cursor);
        return true;
    }
    s_rewind (node);
    node->paused_until = now + CENTRAL_DOWNLINK_RETRY_MSECS;
    cp_error_why (code, why, why_size, "the node of %s refused the downlink entry after %"
                  PRIu64 ": %s; sent again in %d s", cp_municipality_code (municipality),
                  cursor, cp_strerror (code), CENTRAL_DOWNLINK_RETRY_MSECS / 1000);
    return true;
}

uint8_t *
central_downlink_next (central_downlink_t *self, int municipality, int64_t now, size_t *size,
                       uint64_t *seq)
{
    *seq = 0;
    s_node_t *node = s_node (self, municipality);
    if (!node || !node->connected || node->diverged || now < node->paused_until)
        return NULL;
    if (node->in_flight > 0 && now - node->sent_at >= CENTRAL_DOWNLINK_RESEND_MSECS)
        s_rewind (node);        //  a DOWN or its DOWNACK was lost
    if (node->in_flight >= CENTRAL_DOWNLINK_WINDOW
    ||  (node->exhausted && node->exhausted_at == self->last))
        return NULL;
    uint64_t prev;
    uint8_t *entry;
    size_t entry_size;
    if (central_store_downlink_next (self->store, municipality, node->sent, seq, &prev, &entry,
                                     &entry_size))
        return NULL;
    if (*seq == 0) {
        node->exhausted = true;
        node->exhausted_at = self->last;
        return NULL;
    }
    //  Sending from a cursor the log does not hold (a node ahead of a
    //  restored store): the node's history is newer than the log, so the
    //  entry follows its cursor.  One the log holds for others stays as
    //  the log says, and the node refuses it as diverged.
    uint8_t *held = NULL;
    size_t held_size;
    if (prev < node->sent
    &&  central_store_downlink_entry (self->store, node->sent, &held, &held_size) == CP_ENOTFOUND)
        prev = node->sent;
    free (held);
    uint8_t *body = cp_wire_down_encode (prev, entry, entry_size, size);
    free (entry);
    node->sent = *seq;
    node->in_flight++;
    node->sent_at = now;
    return body;
}

bool
central_downlink_grew (central_downlink_t *self)
{
    uint64_t last;
    if (central_store_downlink_last (self->store, &last) || last == self->last)
        return false;
    self->last = last;
    return true;
}
