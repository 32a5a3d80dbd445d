/*  central_guard: the bookkeeping of what each connection holds, on a
    thread of its own, and the cuts.  See central_guard.h.

    The actor wakes every S_TICK_MSECS while connections exist (a flood
    at loopback speed moves some megabytes in that time) and measures each
    with two system calls; between ticks it takes the monitor's events and
    the server's notes as they come.  It never blocks on the server: a
    report that does not fit in the pipe is summed up and sent later.       */

#include "central_guard.h"
#include "cp_enrolment.h"
#include "cp_error.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/ioctl.h>

#define S_TICK_MSECS 20                 //  how often every connection is measured
#define S_PENDING_MAX (64 * 1024)       //  held before the first message, at most
#define S_TOTAL_MAX (128u << 20)        //  held by all connections together, at most
#define S_IDLE_MSECS 60000              //  without a message, a connection is cut
#define S_SOURCE_PENDING 128            //  connections of one address without a message
#define S_CUT_DELAY_MSECS 200           //  a key's connections go this long after its NACK
#define S_CURVE_MESSAGE 33              //  "\x07MESSAGE", nonce, tag, flags: per frame
#define S_UNREPORTED 8                  //  codes whose reports wait, summed
#define S_DRAIN_MAX 1000                //  notes and events taken between two measures

//  The kernel's struct tcp_info goes on past glibc's, which ends at
//  tcpi_total_retrans (linux/tcp.h cannot be included beside
//  netinet/tcp.h): the fields up to the one we read.
typedef struct {
    struct tcp_info base;
    uint64_t pacing_rate;
    uint64_t max_pacing_rate;
    uint64_t bytes_acked;
    uint64_t bytes_received;    //  tcpi_bytes_received: every byte TCP took in
} s_tcp_info_t;

//  A connection of the watched socket, by descriptor.
typedef struct {
    bool live;                  //  accepted and not yet lost
    bool spoke;                 //  a message of it was read
    bool cut;                   //  shut down; libzmq drops it next
    int64_t heard;              //  zclock_mono () of its last message (or accept)
    int64_t cut_at;             //  when to cut it for its key, or 0
    int cut_reason;             //  and why
    uint64_t consumed;          //  bytes of its messages read, as on the wire
    uint64_t held;              //  as last measured
    char key_id [CP_KEY_ID_MAX + 1];        //  its key, once it spoke
    struct sockaddr_storage peer;           //  as accepted
    socklen_t peer_size;
    char source [INET6_ADDRSTRLEN];         //  its address, for the log and the limit
} s_conn_t;

//  The actor's state.
typedef struct {
    zsock_t *pipe;              //  commands from the server, reports to it
    zsock_t *monitor;           //  the ROUTER's monitor; NULL until WATCH
    zpoller_t *poller;
    s_conn_t *conns;            //  by descriptor
    size_t conns_size;
    size_t live;                //  live records
    int64_t tick_at;            //  zclock_mono () of the next measure
    int codes [S_UNREPORTED];   //  reports not sent yet: their codes
    uint64_t counts [S_UNREPORTED];         //  and how many of each
    bool terminated;
} s_guard_t;

struct _central_guard_t {
    zactor_t *actor;
    int monitors;               //  monitor endpoints made (each socket needs its own)
    int fd;                     //  the message being read: its descriptor, -1 if none known
    bool started;               //  its first frame was noted
    uint64_t bytes;             //  its bytes on the wire so far
    char key_id [CP_KEY_ID_MAX + 1];        //  and its key ("" if none)
    zhashx_t *keys;             //  key id → routing id of its latest message (zframe_t)
};

//  =====================================================================
//  Reports to the server

//  Sends one line "CODE COUNT WHY" to the server, without waiting.
//  Returns 0, or -1 when the pipe is full.
static int
s_send_report (s_guard_t *self, int code, uint64_t count, const char *why)
{
    char line [320];
    snprintf (line, sizeof line, "%d %" PRIu64 " %s", code, count, why);
    zframe_t *frame = zframe_from (line);
    int rc = zframe_send (&frame, self->pipe, ZFRAME_DONTWAIT);
    zframe_destroy (&frame);
    return rc;
}

//  Sends a report, or sums it up with others of its code when the pipe is
//  full (the server is busy; it must not be waited for).
static void
s_report (s_guard_t *self, int code, const char *format, ...)
{
    char why [256] = "";
    va_list args;
    va_start (args, format);
    vsnprintf (why, sizeof why, format, args);
    va_end (args);
    if (s_send_report (self, code, 1, why) == 0)
        return;
    for (int slot = 0; slot < S_UNREPORTED; slot++)
        if (self->codes [slot] == code || self->counts [slot] == 0) {
            self->codes [slot] = code;
            self->counts [slot]++;
            return;
        }
    //  More kinds than slots: cannot happen with the codes the guard has.
}

//  Sends the sums of reports that did not fit before, as far as they fit.
static void
s_report_sums (s_guard_t *self)
{
    for (int slot = 0; slot < S_UNREPORTED; slot++) {
        if (self->counts [slot] == 0)
            continue;
        char why [128];
        snprintf (why, sizeof why, "%" PRIu64 " reports of '%s' were summed up",
                  self->counts [slot], cp_strerror (self->codes [slot]));
        if (s_send_report (self, self->codes [slot], self->counts [slot], why))
            return;
        self->counts [slot] = 0;
    }
}

//  =====================================================================
//  Connections

static s_conn_t *
s_conn (s_guard_t *self, int fd)
{
    return fd >= 0 && (size_t) fd < self->conns_size && self->conns [fd].live
         ? &self->conns [fd]: NULL;
}

static void
s_forget (s_guard_t *self, int fd)
{
    s_conn_t *conn = s_conn (self, fd);
    if (conn) {
        conn->live = false;
        self->live--;
    }
}

//  Cuts a connection: libzmq reads the end of it and drops it as it would
//  a lost peer.  The descriptor must still be the connection accepted (a
//  lost one's number may already serve another): else it is forgotten.
static void
s_cut (s_guard_t *self, int fd, int reason, const char *how)
{
    s_conn_t *conn = &self->conns [fd];
    struct sockaddr_storage peer;
    socklen_t size = sizeof peer;
    if (getpeername (fd, (struct sockaddr *) &peer, &size) || size != conn->peer_size
    ||  memcmp (&peer, &conn->peer, size)) {
        s_forget (self, fd);
        return;
    }
    shutdown (fd, SHUT_RDWR);
    conn->cut = true;
    s_report (self, reason, "cut a connection from %s (%s): %s", conn->source, how,
              cp_strerror (reason));
}

//  A connection accepted: recorded, unless its source already has too
//  many that have not spoken.
static void
s_on_accepted (s_guard_t *self, int fd)
{
    if (fd < 0)
        return;
    if ((size_t) fd >= self->conns_size) {
        size_t size = self->conns_size? self->conns_size: 64;
        while (size <= (size_t) fd)
            size *= 2;
        self->conns = realloc (self->conns, size * sizeof (s_conn_t));
        assert (self->conns);
        memset (self->conns + self->conns_size, 0, (size - self->conns_size) * sizeof (s_conn_t));
        self->conns_size = size;
    }
    s_forget (self, fd);            //  a record whose end we missed
    s_conn_t *conn = &self->conns [fd];
    memset (conn, 0, sizeof *conn);
    conn->peer_size = sizeof conn->peer;
    if (getpeername (fd, (struct sockaddr *) &conn->peer, &conn->peer_size))
        return;                     //  gone already
    const struct sockaddr *address = (const struct sockaddr *) &conn->peer;
    const void *ip = address->sa_family == AF_INET6
                   ? (const void *) &((const struct sockaddr_in6 *) address)->sin6_addr
                   : (const void *) &((const struct sockaddr_in *) address)->sin_addr;
    if (!inet_ntop (address->sa_family, ip, conn->source, sizeof conn->source))
        snprintf (conn->source, sizeof conn->source, "?");
    conn->live = true;
    conn->heard = zclock_mono ();
    self->live++;
    size_t pending = 0;
    for (size_t other = 0; other < self->conns_size; other++) {
        s_conn_t *peer = &self->conns [other];
        if (peer->live && !peer->spoke && !peer->cut && streq (peer->source, conn->source))
            pending++;
    }
    if (pending > S_SOURCE_PENDING)
        s_cut (self, fd, CP_ECROWDED, "its address has too many connections without a message");
}

static void
s_on_monitor (s_guard_t *self)
{
    zmsg_t *event = zmsg_recv (self->monitor);
    zframe_t *head = event? zmsg_first (event): NULL;
    zframe_t *where = event? zmsg_next (event): NULL;
    if (head && zframe_size (head) == 6) {
        uint16_t code;
        uint32_t value;
        memcpy (&code, zframe_data (head), sizeof code);
        memcpy (&value, zframe_data (head) + 2, sizeof value);
        if (code == ZMQ_EVENT_ACCEPTED)
            s_on_accepted (self, (int) value);
        else
        if (code == ZMQ_EVENT_DISCONNECTED)
            s_forget (self, (int) value);
        else {
            //  A wrong server key, garbage instead of CURVE, a stalled or
            //  cut handshake: these never reach the ZAP handler.
            char *endpoint = where? zframe_strdup (where): NULL;
            s_report (self, CP_EHANDSHAKE, "a connection on %s failed its CURVE handshake (%s)",
                      endpoint? endpoint: "?", cp_strerror (CP_EHANDSHAKE));
            zstr_free (&endpoint);
        }
    }
    zmsg_destroy (&event);
}

//  Measures what libzmq holds of a connection.  Returns 0, or -1 when the
//  descriptor is no longer a TCP connection.  What libzmq took is every
//  byte TCP received less those still queued; bytes keep arriving between
//  the two reads, so the queue is read first: the other order can count
//  more queued than received, and the difference wraps to some 2^64 bytes
//  that cut an honest connection as a flood.
static int
s_measure (s_conn_t *conn, int fd)
{
    int queued = 0;
    s_tcp_info_t info;
    socklen_t size = sizeof info;
    memset (&info, 0, sizeof info);
    if (ioctl (fd, FIONREAD, &queued)
    ||  getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &size) || size < sizeof info)
        return -1;
    uint64_t taken = info.bytes_received > (uint64_t) queued
                   ? info.bytes_received - (uint64_t) queued: 0;
    conn->held = taken > conn->consumed? taken - conn->consumed: 0;
    return 0;
}

//  Measures every connection, cuts those over their bounds, then the
//  largest while all of them hold too much.
static void
s_tick (s_guard_t *self)
{
    int64_t now = zclock_mono ();
    uint64_t total = 0;
    for (size_t fd = 0; fd < self->conns_size; fd++) {
        s_conn_t *conn = &self->conns [fd];
        if (!conn->live || conn->cut)
            continue;
        if (s_measure (conn, (int) fd)) {
            s_forget (self, (int) fd);
            continue;
        }
        char how [96];
        if (!conn->spoke && conn->held > S_PENDING_MAX) {
            snprintf (how, sizeof how, "%" PRIu64 " bytes before a message", conn->held);
            s_cut (self, (int) fd, CP_EFLOOD, how);
        }
        else
        if (conn->held > CENTRAL_GUARD_HELD_MAX) {
            snprintf (how, sizeof how, "%" PRIu64 " bytes not yet a message", conn->held);
            s_cut (self, (int) fd, CP_EFLOOD, how);
        }
        else
        if (now - conn->heard > S_IDLE_MSECS)
            s_cut (self, (int) fd, CP_EIDLE, "no message for a minute");
        else
        if (conn->cut_at && now >= conn->cut_at) {
            snprintf (how, sizeof how, "key %s", conn->key_id);
            s_cut (self, (int) fd, conn->cut_reason, how);
        }
        else
            total += conn->held;
    }
    while (total > S_TOTAL_MAX) {
        size_t largest = self->conns_size;
        for (size_t fd = 0; fd < self->conns_size; fd++) {
            s_conn_t *conn = &self->conns [fd];
            if (conn->live && !conn->cut && conn->held
            &&  (largest == self->conns_size || conn->held > self->conns [largest].held))
                largest = fd;
        }
        if (largest == self->conns_size)
            break;              //  what held the rest was cut or lost meanwhile
        total -= self->conns [largest].held;
        char how [96];
        snprintf (how, sizeof how, "%" PRIu64 " bytes, the most while all hold %" PRIu64,
                  self->conns [largest].held, total + self->conns [largest].held);
        s_cut (self, (int) largest, CP_EFLOOD, how);
    }
    self->tick_at = now + S_TICK_MSECS;
}

//  =====================================================================
//  The actor

static void
s_watch (s_guard_t *self, const char *endpoint)
{
    if (self->monitor) {
        zpoller_remove (self->poller, self->monitor);
        zsock_destroy (&self->monitor);
    }
    for (size_t fd = 0; fd < self->conns_size; fd++)
        s_forget (self, (int) fd);
    //  libzmq's I/O thread blocks on a monitor event that finds the queue
    //  full: no limit here, and this thread reads every event at once.
    self->monitor = zsock_new (ZMQ_PAIR);
    assert (self->monitor);
    zsock_set_rcvhwm (self->monitor, 0);
    if (zsock_connect (self->monitor, "%s", endpoint) == 0)
        zpoller_add (self->poller, self->monitor);
    else {
        zsys_error ("central_guard: cannot watch %s", endpoint);
        zsock_destroy (&self->monitor);
    }
}

static void
s_on_pipe (s_guard_t *self)
{
    zmsg_t *request = zmsg_recv (self->pipe);
    char *command = request? zmsg_popstr (request): NULL;
    if (!command)
        ;                       //  interrupted: only $TERM ends the guard
    else
    if (streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "WATCH")) {
        char *endpoint = zmsg_popstr (request);
        if (endpoint)
            s_watch (self, endpoint);
        zstr_free (&endpoint);
    }
    else
    if (streq (command, "READ") && zmsg_size (request) == 3) {
        char *fd = zmsg_popstr (request), *bytes = zmsg_popstr (request);
        char *key_id = zmsg_popstr (request);
        s_conn_t *conn = s_conn (self, atoi (fd));
        if (conn) {
            conn->consumed += strtoull (bytes, NULL, 10);
            conn->heard = zclock_mono ();
            conn->spoke = true;
            if (*key_id)
                snprintf (conn->key_id, sizeof conn->key_id, "%s", key_id);
        }
        zstr_free (&fd);
        zstr_free (&bytes);
        zstr_free (&key_id);
    }
    else
    if (streq (command, "CUT") && zmsg_size (request) == 2) {
        char *key_id = zmsg_popstr (request), *reason = zmsg_popstr (request);
        for (size_t fd = 0; fd < self->conns_size; fd++) {
            s_conn_t *conn = &self->conns [fd];
            if (conn->live && !conn->cut && !conn->cut_at && streq (conn->key_id, key_id)) {
                conn->cut_at = zclock_mono () + S_CUT_DELAY_MSECS;
                conn->cut_reason = atoi (reason);
            }
        }
        zstr_free (&key_id);
        zstr_free (&reason);
    }
    else
        zsys_error ("central_guard: unknown command '%s'", command);
    zstr_free (&command);
    zmsg_destroy (&request);
}

static void
s_guard (zsock_t *pipe, void *args)
{
    (void) args;
    s_guard_t self = {pipe, NULL, zpoller_new (pipe, NULL), NULL, 0, 0, 0, {0}, {0}, false};
    assert (self.poller);
    //  Signals are main's: the guard ends on $TERM only, after the server.
    zpoller_set_nonstop (self.poller, true);
    zsock_signal (pipe, 0);
    while (!self.terminated) {
        int64_t wait = self.live? self.tick_at - zclock_mono (): 1000;
        void *which = zpoller_wait (self.poller, wait < 0? 0: (int) wait);
        //  What is waiting first (a note read after a measure would look
        //  like bytes held), but not so much that a stream of notes (a
        //  flood of small messages) keeps the measures from being made.
        for (int taken = 0; which && !self.terminated && taken < S_DRAIN_MAX; taken++) {
            if (which == pipe)
                s_on_pipe (&self);
            else
                s_on_monitor (&self);
            which = zpoller_wait (self.poller, 0);
        }
        if (self.live && zclock_mono () >= self.tick_at)
            s_tick (&self);
        s_report_sums (&self);
    }
    zsock_destroy (&self.monitor);
    zpoller_destroy (&self.poller);
    free (self.conns);
}

//  =====================================================================
//  The server's side

static void
s_frame_destroy (void **item)
{
    zframe_destroy ((zframe_t **) item);
}

central_guard_t *
central_guard_new (void)
{
    //  libzmq sends without MSG_NOSIGNAL; after a shutdown that is EPIPE.
    signal (SIGPIPE, SIG_IGN);
    central_guard_t *self = calloc (1, sizeof (central_guard_t));
    assert (self);
    self->actor = zactor_new (s_guard, NULL);
    self->keys = zhashx_new ();
    if (!self->actor || !self->keys) {
        central_guard_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->keys, s_frame_destroy);
    self->fd = -1;
    return self;
}

void
central_guard_destroy (central_guard_t **self_p)
{
    central_guard_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    zhashx_destroy (&self->keys);
    free (self);
    *self_p = NULL;
}

int
central_guard_watch (central_guard_t *self, zsock_t *router)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://central-guard-%p-%d", (void *) self,
              self->monitors++);
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (zmq_socket_monitor (zsock_resolve (router), endpoint, events))
        return -1;
    zstr_sendx (self->actor, "WATCH", endpoint, NULL);
    zhashx_purge (self->keys);
    return 0;
}

void
central_guard_release (central_guard_t *self, zsock_t *router)
{
    (void) self;
    zmq_socket_monitor (zsock_resolve (router), NULL, 0);
}

void
central_guard_frame (central_guard_t *self, zframe_t *frame)
{
    if (!self->started) {
        //  Every frame carries its connection's properties; the first will do.
        const char *fd = zframe_meta (frame, "__fd");
        const char *key_id = zframe_meta (frame, "Key-Id");
        self->fd = fd? atoi (fd): -1;
        snprintf (self->key_id, sizeof self->key_id, "%s", key_id? key_id: "");
        self->started = true;
    }
    //  As CURVE carries it: a MESSAGE command in a ZMTP frame, whose size
    //  takes one byte up to 255, else eight.
    uint64_t body = S_CURVE_MESSAGE + zframe_size (frame);
    self->bytes += 1 + (body > 255? 8: 1) + body;
}

void
central_guard_message (central_guard_t *self, zframe_t *routing_id)
{
    if (self->fd >= 0) {
        char fd [16], bytes [24];
        snprintf (fd, sizeof fd, "%d", self->fd);
        snprintf (bytes, sizeof bytes, "%" PRIu64, self->bytes);
        zstr_sendx (self->actor, "READ", fd, bytes, self->key_id, NULL);
        zframe_t *latest = *self->key_id? zhashx_lookup (self->keys, self->key_id): NULL;
        if (*self->key_id && !(latest && zframe_eq (latest, routing_id)))
            zhashx_update (self->keys, self->key_id, zframe_dup (routing_id));
    }
    self->fd = -1;
    self->started = false;
    self->bytes = 0;
    self->key_id [0] = 0;
}

void
central_guard_recheck (central_guard_t *self, central_guard_check_fn *check,
                       central_guard_tell_fn *tell, void *args)
{
    zlistx_t *refused = zlistx_new ();      //  key ids, copied
    assert (refused);
    zlistx_set_destructor (refused, (zlistx_destructor_fn *) zstr_free);
    for (zframe_t *routing_id = zhashx_first (self->keys); routing_id;
         routing_id = zhashx_next (self->keys)) {
        const char *key_id = zhashx_cursor (self->keys);
        int reason = check (args, key_id);
        if (reason) {
            tell (args, routing_id, key_id, reason);
            central_guard_cut_key (self, key_id, reason);
            zlistx_add_end (refused, strdup (key_id));
        }
    }
    for (char *key_id = zlistx_first (refused); key_id; key_id = zlistx_next (refused))
        zhashx_delete (self->keys, key_id);
    zlistx_destroy (&refused);
}

void
central_guard_cut_key (central_guard_t *self, const char *key_id, int reason)
{
    char code [16];
    snprintf (code, sizeof code, "%d", reason);
    if (key_id && *key_id)
        zstr_sendx (self->actor, "CUT", key_id, code, NULL);
}

zactor_t *
central_guard_actor (central_guard_t *self)
{
    return self->actor;
}

int
central_guard_report (central_guard_t *self, uint64_t *count, char *why, size_t why_size)
{
    *count = 0;
    char *line = zstr_recv (self->actor);
    int code = 0, at = 0;
    unsigned long long times = 0;
    if (line && sscanf (line, "%d %llu %n", &code, &times, &at) == 2 && at > 0) {
        *count = times;
        snprintf (why, why_size, "%s", line + at);
    }
    else
        code = 0;
    zstr_free (&line);
    return code;
}
