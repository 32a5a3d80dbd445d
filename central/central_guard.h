/*  central_guard: what any one peer can make the central hold, bounded.

    libzmq bounds a frame (ZMQ_MAXMSGSIZE) and, with a high-water mark, a
    number of whole messages; but it keeps a multipart message until its
    last frame is in, and it reads each connection as fast as the peer
    writes.  One message of many large frames, or many connections that
    trickle a handshake, could make the central hold any amount.  So the
    guard measures what libzmq holds for each connection: the bytes TCP has
    received on it (TCP_INFO's tcpi_bytes_received), less those still in
    the kernel's queue (FIONREAD), less those of the messages the server
    has read from it, each frame counted as CURVE carries it.  It cuts a
    connection (shutdown (SHUT_RDWR): libzmq sees it end and cleans up as
    for any lost peer) that holds

      - more than CENTRAL_GUARD_HELD_MAX, a node's widest window of the
        largest frames;
      - more than 64 KiB before its first message (a handshake and a HELLO
        take less than a kilobyte; libzmq's handshake timer, which the
        server sets, ends those that stall);
      - the most of all, while all of them together hold more than
        128 MiB;

    and a connection that has sent no message for a minute (a node says
    PING every few seconds and HELLO at least every half minute), a
    source's newest connection while the source has more than 128 that
    have sent none yet (CP_ECROWDED), and, a moment after the server has
    told them why, the connections of a key that is no longer valid.  Each
    cut is reported with its code: CP_EFLOOD, CP_EIDLE, CP_ECROWDED or the
    key's (CP_EREVOKED, CP_EEXPIRED, CP_EUNKNOWNKEY); so is each failed
    handshake (CP_EHANDSHAKE).

    The guard is an actor, because the server's thread stops reading while
    a group commits, and a flood does not wait: libzmq reads on a thread of
    its own.  The actor owns the ROUTER's monitor, whose events name each
    connection's descriptor as it is accepted and as it is lost; the server
    tells it what it read from each descriptor (libzmq's "__fd" property,
    on every message) and with which key, and reads back its reports.

    Descriptors are libzmq's.  A record is made on ACCEPTED and dropped on
    DISCONNECTED, which libzmq emits before it closes the descriptor, so a
    number that a later connection reuses is a new record; before a cut
    the peer's address is compared with the one accepted.  A message read
    after its connection was lost may be credited to a later connection on
    the same descriptor: that can only make the guard more lenient, by at
    most what the lost one held.  ZMTP traffic that is not a message (the
    handshake, and the ZMTP PINGs of a peer that sends them) is never read,
    so it counts as held: a few hundred bytes per connection, and 21 bytes
    a second for a peer that PINGs every two seconds, which reaches the
    bound after weeks; that connection is then cut and made again.  cpsync
    nodes send no ZMTP PINGs.

    Usage (on the thread that owns the ROUTER):
        central_guard_t *guard = central_guard_new ();
        central_guard_watch (guard, router);        //  before zsock_bind
        zpoller_add (poller, central_guard_actor (guard));
        ... for each message: central_guard_frame () per frame but the
        routing id, then central_guard_message ()
        ... when central_guard_actor () is readable: central_guard_report ()
        central_guard_release (guard, router);      //  before zsock_destroy
        central_guard_destroy (&guard);                                      */

#ifndef CENTRAL_GUARD_H_INCLUDED
#define CENTRAL_GUARD_H_INCLUDED

#include "central_server.h"

#include <czmq.h>

//  The largest frame the central takes (ZMQ_MAXMSGSIZE): a node's batch is
//  cut at 256 KiB and one event (1 KiB at most) and sealed; twice that.
#define CENTRAL_GUARD_FRAME_MAX (512 * 1024)
//  What one connection may hold: a node's widest window of such frames,
//  and room for its HELLO and PINGs.
#define CENTRAL_GUARD_HELD_MAX ((CENTRAL_SERVER_WINDOW_FEW + 2) * CENTRAL_GUARD_FRAME_MAX)

typedef struct _central_guard_t central_guard_t;

//  Starts the guard's thread.  It also makes the process ignore SIGPIPE:
//  libzmq writes without MSG_NOSIGNAL, and a write to a connection the
//  guard has shut down would otherwise end the process.
central_guard_t *
    central_guard_new (void);

void
    central_guard_destroy (central_guard_t **self_p);

//  Watches router's connections from now on, forgetting those of any
//  socket watched before.  Call from the thread that owns router, before
//  it binds.  Returns 0, or -1 when libzmq gives no monitor.
int
    central_guard_watch (central_guard_t *self, zsock_t *router);

//  Stops watching router.  Call before destroying it: libzmq's I/O thread
//  would wait for ever to deliver the events of its closing connections.
void
    central_guard_release (central_guard_t *self, zsock_t *router);

//  Notes a frame of the message being read from the watched ROUTER (any
//  frame but the routing id, including those the server drops).
void
    central_guard_frame (central_guard_t *self, zframe_t *frame);

//  Ends the message noted by central_guard_frame: the guard learns that
//  its connection spoke, how much it sent and with which key; routing_id
//  (borrowed) is remembered as the key's latest, for central_guard_recheck.
void
    central_guard_message (central_guard_t *self, zframe_t *routing_id);

//  Says whether a key may still be used: 0, or why not (a cp_error_t).
typedef int (central_guard_check_fn) (void *args, const char *key_id);
//  Tells the peer of a key's latest message (routing_id, borrowed) why its
//  connections are about to be cut.
typedef void (central_guard_tell_fn) (void *args, zframe_t *routing_id, const char *key_id,
                                      int reason);

//  Asks check about each key of the messages read; those it refuses are
//  told why (tell), then their connections are cut a moment later, so that
//  what tell sent gets out first.  A key refused is forgotten.
void
    central_guard_recheck (central_guard_t *self, central_guard_check_fn *check,
                           central_guard_tell_fn *tell, void *args);

//  Cuts the connections of key_id for reason, a moment from now.
void
    central_guard_cut_key (central_guard_t *self, const char *key_id, int reason);

//  The actor, to poll: it is readable when a report waits.
zactor_t *
    central_guard_actor (central_guard_t *self);

//  Reads one report: returns its code (a cp_error_t) with a line for the
//  log in why (no secrets, no case data) and in *count how many times it
//  happened (more than once when reports had to be summed up).
int
    central_guard_report (central_guard_t *self, uint64_t *count, char *why, size_t why_size);

#endif
