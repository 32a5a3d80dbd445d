/*  central_server: the central's sync service, a CZMQ actor.

    The actor owns the central's store and one ROUTER socket, and speaks the
    protocol of cp_wire.h with every node:

        HELLO    → WELCOME [cursor + 1, catalogue, window]; the routing id is
                   bound to the municipality for the rest of the session
        BATCH    → ACK [cursor] once the batch is durably applied (or was
                   already), NACK [cursor + 1, CP_EGAP] after a gap,
                   NACK [expected, reason] when it is refused.  ACKs are
                   cumulative: of several batches of one peer in a group
                   whose answers are all ACKs, only the last is answered
        PING     → PONG, and the node's head and last-seen time are noted

    A NACK whose sequence is 0 is not about a batch: the peer has no session
    (CP_EPROTOCOL: say HELLO first), its HELLO was refused (CP_EUNKNOWNPEER,
    CP_EVERSION, ...) or it sent something that is not a message.

    Batches are applied in groups: the actor takes every message that is
    ready (up to 512 batches, 8 MiB or 20 ms of reading; once a group
    holds a few batches it waits for more within those 20 ms, since every
    commit rewrites the case pages it touches and large groups share that
    cost), applies the batches in one write transaction, commits durably,
    and only then sends their ACKs and NACKs, in the order the batches
    arrived.  A group that
    finds the map full is redone on a grown map; a group the store cannot
    commit (a full disk, say) is dropped with a log line and a CP_ESTORE
    count, nothing is acknowledged, and the nodes send it again.

    Every refusal is logged with its cp_error_t (never with case data or
    payload bytes) and counted in the store; the actor goes on serving.
    Transport liveness is the nodes' PING, TCP keepalive and central_guard
    (no ZMTP heartbeat: see central_server.c); ZMQ_MAXMSGSIZE bounds a
    frame and central_guard what a connection holds; ZMQ_ROUTER_MANDATORY
    and a zero send timeout make a reply to a vanished or stalled peer fail
    at once instead of blocking everyone.

    Commands on the actor's pipe:
        VERBOSE             log every message (debug)
        BIND [endpoint]     open the store's listen endpoint (or the given
                            one); replies "OK" and the bound endpoint (a tcp
                            port "*" resolved), or "ERROR" and a message
        FLUSH               apply the waiting group, write pending notes and
                            counters; replies "OK" or "ERROR" and a message
        $TERM               apply the waiting group, write what is pending,
                            close the store and end

    Usage:
        zactor_t *server = zactor_new (central_server, (void *) data_dir);
        zstr_sendx (server, "BIND", "", NULL);
        char *status, *endpoint;
        zsock_recv (server, "ss", &status, &endpoint);
        ...
        zactor_destroy (&server);                                            */

#ifndef CENTRAL_SERVER_H_INCLUDED
#define CENTRAL_SERVER_H_INCLUDED

#include <czmq.h>

//  Batches a node may have in flight, offered in WELCOME
//  (central_server_window).  A node in session with at most
//  CENTRAL_SERVER_FEW others gets the wider window: a node catching up
//  alone then fills groups four times larger, and every commit rewrites
//  the pages of the cases it touches, so it catches up in far fewer
//  commits.  With many nodes the groups fill anyway, and the narrow window
//  bounds what the central holds for them; with very many, it narrows
//  further, to a node's share of CENTRAL_SERVER_IN_FLIGHT, two groups (one
//  committing, one gathering): a thousand nodes with sixteen batches each
//  kept the central's queue a minute long, a HELLO waiting behind it.
//  WELCOME gives a node its window and every ACK the one in force, so a
//  fleet that connects one by one holds no more than one that connects at
//  once: the first nodes' wide windows narrow at their next ACK (when a
//  window was kept from HELLO on, a thousand nodes connecting one by one
//  held 3,673 batches).
#define CENTRAL_SERVER_WINDOW 16
#define CENTRAL_SERVER_WINDOW_FEW 64
#define CENTRAL_SERVER_FEW 4
#define CENTRAL_SERVER_GROUP_BATCHES 512     //  batches in one commit at most
#define CENTRAL_SERVER_GROUP_MSECS 20       //  time spent gathering a group at most
#define CENTRAL_SERVER_IN_FLIGHT (2 * CENTRAL_SERVER_GROUP_BATCHES)

//  The window WELCOME and ACK give a node that has others in session:
//  CENTRAL_SERVER_WINDOW_FEW up to CENTRAL_SERVER_FEW others, then its
//  share of CENTRAL_SERVER_IN_FLIGHT, between 1 and CENTRAL_SERVER_WINDOW.
uint32_t
    central_server_window (size_t others);

//  The actor.  args is the central's data directory (a const char *, read
//  before zactor_new returns); the store is opened before it returns, and a
//  failure to open it is reported in the reply to BIND.
void
    central_server (zsock_t *pipe, void *args);

#endif
