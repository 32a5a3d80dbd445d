/*  node_sync: the node's uplink, as a CZMQ actor.

    The actor owns the node's store for as long as it runs and a DEALER
    connected to the central.  It says HELLO, learns from WELCOME which
    sequence the central expects, and ships the log from there in batches
    (bounded in events and bytes), up to the central's window of batches in
    flight.  An ACK moves the acknowledged cursor, persisted in the store; a
    NACK restarts shipping from the sequence the central names.  When the
    central says nothing for a while, the session is considered lost and
    starts over with HELLO, with a growing pause between attempts, so a
    node left alone through an outage of days catches up by itself.  New
    events committed by imports are noticed within some tens of milliseconds.

        zactor_t *sync = zactor_new (node_sync_actor, &config);
        ...
        zactor_destroy (&sync);     //  sends $TERM, saves the cursor

    With config.recover, the actor ships nothing: it asks the central for
    the municipality's archive (a node that lost its disk, set up again and
    enrolled) and appends it to its log, then says "DONE" and 0 (or a
    cp_error_t) on its pipe and waits for $TERM.

    While it runs, the actor takes two commands on its pipe, for a reload:
    "VERBOSE" "1" or "0" (the debug lines of each message), and "METRICS"
    DIR (where node_metrics writes its file from now on; "" for nowhere).
    With a metrics directory it writes the file every NODE_SYNC_METRICS_MS
    and when it stops.  With config.progress it sends "PROGRESS" acked head
    (two uint64s) on its pipe whenever either moved, at most four times a
    second, so the caller can draw the catch-up on a terminal.

    The actor signals 0 once running, or 1 when the store would not open
    (or, for a recovery, holds events of its own).                        */

#ifndef NODE_SYNC_H_INCLUDED
#define NODE_SYNC_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#define NODE_SYNC_METRICS_MS 5000      //  how often the metrics file is written

typedef struct {
    const char *data;           //  the node's data directory
    const char *central;        //  endpoint, or NULL for the enrolled one
    bool verbose;
    bool recover;               //  rebuild the store from the central's archive
    const char *metrics_dir;    //  where node_metrics writes its file, or NULL
    bool progress;              //  send "PROGRESS" acked head on the pipe
} node_sync_config_t;

//  The actor; args is a node_sync_config_t that must outlive zactor_new.
void
    node_sync_actor (zsock_t *pipe, void *args);

#endif
