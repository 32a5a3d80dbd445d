/*  central_downlink: what the central sends each node of its downlink log.

    The log is the store's (central_store_downlink_*); this module keeps,
    per municipality, where its node stands: the cursor its HELLO or its
    last DOWNACK named, the last entry sent, and how many DOWNs await a
    DOWNACK.  It says what to send next, under a window of
    CENTRAL_DOWNLINK_WINDOW entries, and what a DOWNACK changes:

        applied (0), CP_EREPLAY   the cursor moves; the next entry goes
        CP_EGAP                   an entry was lost on the way: again from
                                  the cursor the node names
        CP_EDIVERGED              the node applied an entry the log does not
                                  give it: nothing more is sent (logged)
        any other refusal         the node refuses the entry itself (a bad
                                  signature, not addressed to it, ...):
                                  logged; it is sent again after a pause

    DOWNs unanswered for CENTRAL_DOWNLINK_RESEND_MSECS (one lost, or its
    DOWNACK) are sent again from the cursor.  The server sends what
    central_downlink_next gives, signed as a reply, and calls it again
    when a DOWNACK arrives, when the log grows and on its timer.  The
    cursor each HELLO and DOWNACK names is also noted in the store
    (central_store_downlink_reached), written with the next commit or
    flush: it says which entries each node has, for `directive list`.     */

#ifndef CENTRAL_DOWNLINK_H_INCLUDED
#define CENTRAL_DOWNLINK_H_INCLUDED

#include "central_store.h"

#include <stdbool.h>
#include <stdint.h>

#define CENTRAL_DOWNLINK_WINDOW 4               //  DOWNs in flight to one node
#define CENTRAL_DOWNLINK_RESEND_MSECS 5000      //  unanswered this long: send again
#define CENTRAL_DOWNLINK_RETRY_MSECS 30000      //  after a refusal, the pause

typedef struct _central_downlink_t central_downlink_t;

central_downlink_t *
    central_downlink_new (central_store_t *store);

void
    central_downlink_destroy (central_downlink_t **self_p);

//  A node of municipality said HELLO with its downlink cursor: it is sent
//  everything after it, from the start.  A cursor past the log's end is
//  noted in the store (central_store_downlink_seen).
void
    central_downlink_hello (central_downlink_t *self, int municipality, uint64_t cursor);

//  A node's DOWNACK: its cursor and code.  Returns true when the code is
//  a refusal worth logging (not 0, CP_EREPLAY or CP_EGAP), with why.
bool
    central_downlink_ack (central_downlink_t *self, int municipality, uint64_t cursor,
                          int code, char *why, size_t why_size);

//  The next DOWN body to send to municipality's node, now (zclock_mono
//  ms), or NULL when there is none: nothing new, the window full, or a
//  pause.  Caller frees; *seq says which entry.
uint8_t *
    central_downlink_next (central_downlink_t *self, int municipality, int64_t now,
                           size_t *size, uint64_t *seq);

//  True when the log grew since the last call (looked at in the store).
bool
    central_downlink_grew (central_downlink_t *self);

#endif
