/*  central_intake: a BATCH's frames made into a batch the store may apply.

    One step, from untrusted frames to a trusted central_batch_t, and the
    only place at the central that takes a batch apart (with cp_batch).
    It runs in two halves, because the key table belongs to the server's
    thread while the costly part is better done on another:

    central_intake_receive, on the server's thread as the message is read:
    the frames' count and sizes and the header, decoded once
    (cp_batch_read); then the keys the header names, checked against the
    sender, the municipality of its connection's key (central_auth_peer),
    and taken now, since the key table may change before the group commits
    (central_auth_batch_keys).

    central_intake_open, when the group commits, on any thread (the server
    has cp_parallel's helper do a group's batches in order): the signature
    verified, the payload opened, decoded and found to be the events the
    header names (cp_batch_open), the events resolved and identified
    (central_store_prepare).  The batch is then trusted; the store only
    applies it.  Open may be called again after central_intake_clear (a
    group redone on a grown map opens its batches again).

    And the way back: central_intake_archived opens a batch of the archive
    again for a recovery, with the envelope key recorded when it was
    archived and the signature of the node that sent it.                    */

#ifndef CENTRAL_INTAKE_H_INCLUDED
#define CENTRAL_INTAKE_H_INCLUDED

#include "central_auth.h"
#include "central_store.h"
#include "cp_batch.h"

#include <czmq.h>

//  A BATCH on its way in.
typedef struct {
    central_batch_t batch;      //  municipality, header, frames and envelope key
                                //  from receipt; the events once opened
    uint8_t sign_public [CP_ENVELOPE_SIGN_PUBLIC_SIZE];  //  its node key's
} central_intake_t;

//  Takes the count frames that followed a BATCH command from municipality
//  (the sender's index, from its key): their shape and header
//  (cp_batch_read) and the keys the header names (central_auth_batch_keys).
//  envelope_key is where the envelope key goes (CP_ENVELOPE_KEY_SIZE bytes
//  of guarded memory, the caller's, who wipes it); the frames stay the
//  caller's and must outlive the intake.  Returns 0, or the refusal's code
//  of either (CP_EMALFORMED, CP_ETOOBIG, CP_ETYPE, CP_EBADID, CP_EAUTH;
//  CP_EIMPERSONATION, CP_EUNKNOWNKEY, CP_EREVOKED, CP_EEXPIRED).
int
    central_intake_receive (central_auth_t *auth, int municipality, zframe_t **frames,
                            int count, uint8_t *envelope_key, central_intake_t *intake)
    __attribute__ ((warn_unused_result));

//  Verifies, opens, decodes and prepares a received batch (any thread;
//  store only read).  Returns 0 with intake->batch trusted, or CP_EAUTH
//  (the signature or the envelope), or a payload's refusal (CP_EMALFORMED:
//  also events that are not the header's; CP_ETOOBIG, CP_ETYPE,
//  CP_EBADTYPE, CP_EBADID, CP_EDATERANGE, CP_EBADAGE, CP_EBADCODE).
int
    central_intake_open (central_store_t *store, central_intake_t *intake)
    __attribute__ ((warn_unused_result));

//  Wipes and frees the events open gave the intake; safe twice.
void
    central_intake_clear (central_intake_t *intake);

//  Reads the archived batch of municipality at position from or the first
//  after it (central_store_archive_read) and opens it: *payload gets the
//  cp_codec batch it carried (malloc'd: the caller wipes and frees) and
//  *size its size, *position where it was, *end the position after the
//  archive's last.  Returns 0 (*payload NULL and *position *end when
//  there is nothing from from on), CP_EAUTH when the batch does not open
//  (no envelope key, its node key gone from the table, a bad signature),
//  CP_ESTORE (a record that is not a batch's frames); both logged.
int
    central_intake_archived (central_store_t *store, central_auth_t *auth, int municipality,
                             uint64_t from, uint64_t *position, uint64_t *end,
                             uint8_t **payload, size_t *size);

#endif
