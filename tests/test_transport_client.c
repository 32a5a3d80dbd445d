/*  test_transport_client: the hostile peers of the transport tests.

    flood DATA ENDPOINT FRAMES FRAME_BYTES SIGNAL_DIR [silent]
        Connects to the central as the node enrolled in DATA (its CURVE
        keys), says PING and waits for the answer (unless "silent": then
        it sends nothing before the flood), says when that is done
        (SIGNAL_DIR/connected), waits
        for SIGNAL_DIR/go, then sends one message of FRAMES frames of
        FRAME_BYTES (one buffer, zero-copy, so that this process stays
        small), and reports whether and when the central cut the
        connection: "cut after N ms" or "not cut".  It does not reconnect.

    idle DATA ENDPOINT SECONDS
        Connects as the node in DATA, says PING, then nothing: reports
        whether (and when, counted from the PING's answer) the central cut
        the connection within SECONDS.

    handshakes ENDPOINT COUNT FRAME_BYTES SECONDS [SOURCE_ADDRESS]
        Opens COUNT TCP connections (from SOURCE_ADDRESS when given), sends
        a ZMTP greeting for CURVE on each and then a handshake command that
        announces FRAME_BYTES and never ends: as many bytes as the central
        takes, one short of the frame.  After SECONDS it reports how many
        connections the central closed, and the bytes it took.

    The test scripts measure the central (its RSS, its counters, its
    figures); this program only plays the peer.                             */

#include "node_keys.h"
#include "cp_enrolment.h"
#include "cp_error.h"

#include <czmq.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/stat.h>

#define S_CHUNK (16 * 1024)             //  bytes sent to one connection at a time

static bool
s_exists (const char *dir, const char *name)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    struct stat info;
    return stat (path, &info) == 0;
}

static void
s_touch (const char *dir, const char *name)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "w");
    if (file)
        fclose (file);
}

//  The next monitor event of one of these kinds within msecs, or 0.
static int
s_event (zsock_t *monitor, int msecs)
{
    zsock_set_rcvtimeo (monitor, msecs);
    zmsg_t *event = zmsg_recv (monitor);
    zframe_t *head = event? zmsg_first (event): NULL;
    uint16_t code = 0;
    if (head && zframe_size (head) == 6)
        memcpy (&code, zframe_data (head), sizeof code);
    zmsg_destroy (&event);
    return code;
}

//  A CURVE connection to the central as an enrolled node.
typedef struct {
    node_keys_t *keys;
    zsock_t *dealer;
    zsock_t *monitor;           //  its handshake and its end
} s_peer_t;

static void
s_peer_close (s_peer_t *peer)
{
    //  Monitoring stops before its reader goes (node_sync.c, s_disconnect)
    if (peer->dealer && peer->monitor)
        zmq_socket_monitor (zsock_resolve (peer->dealer), NULL, 0);
    zsock_destroy (&peer->monitor);
    zsock_destroy (&peer->dealer);
    node_keys_destroy (&peer->keys);
}

//  Connects with the keys of the node in data and, unless silent, says
//  PING and waits for the answer: a connection that has spoken is held to
//  the bound of a node's window, not to that of a handshake.  Returns 0 or
//  -1 (said on stderr).
static int
s_peer_open (s_peer_t *peer, const char *data, const char *endpoint, bool silent)
{
    int error = 0;
    peer->keys = node_keys_load (data, &error);
    if (!peer->keys) {
        fprintf (stderr, "test_transport_client: keys of %s: %s\n", data, cp_strerror (error));
        return -1;
    }
    const cp_enrolment_t *enrolment = node_keys_enrolment (peer->keys);
    peer->dealer = zsock_new (ZMQ_DEALER);
    assert (peer->dealer);
    zsock_set_curve_serverkey_bin (peer->dealer, enrolment->central_transport [0].public_key);
    zsock_set_curve_publickey_bin (peer->dealer, enrolment->node_transport.public_key);
    zsock_set_curve_secretkey_bin (peer->dealer,
                                   node_keys_secrets (peer->keys) + CP_SECRETS_TRANSPORT);
    zsock_set_reconnect_ivl (peer->dealer, -1);
    zsock_set_sndhwm (peer->dealer, 0);
    zsock_set_linger (peer->dealer, 0);
    int rc = zmq_socket_monitor (zsock_resolve (peer->dealer), "inproc://peer-monitor",
                                 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                               | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert (rc == 0);
    peer->monitor = zsock_new_pair ("inproc://peer-monitor");
    assert (peer->monitor);
    zsock_connect (peer->dealer, "%s", endpoint);
    if (s_event (peer->monitor, 10000) != ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        fprintf (stderr, "test_transport_client: no handshake with %s\n", endpoint);
        return -1;
    }
    if (!silent) {
        zsock_set_rcvtimeo (peer->dealer, 5000);
        zstr_send (peer->dealer, "PING");
        char *answer = zstr_recv (peer->dealer);
        if (!answer) {
            fprintf (stderr, "test_transport_client: no answer to PING\n");
            return -1;
        }
        zstr_free (&answer);
    }
    return 0;
}

//  Says whether the central cut the connection within msecs: "cut after N
//  ms" (counted from started) or "not cut".
static void
s_peer_cut (s_peer_t *peer, int msecs, int64_t started)
{
    if (s_event (peer->monitor, msecs) == ZMQ_EVENT_DISCONNECTED)
        printf ("cut after %" PRId64 " ms\n", zclock_mono () - started);
    else
        printf ("not cut\n");
}

static int
s_flood (const char *data, const char *endpoint, long frames, long frame_bytes,
         const char *signals, bool silent)
{
    s_peer_t peer = {NULL, NULL, NULL};
    if (s_peer_open (&peer, data, endpoint, silent)) {
        s_peer_close (&peer);
        return 2;
    }
    printf ("connected\n");
    fflush (stdout);
    s_touch (signals, "connected");
    for (int waited = 0; !s_exists (signals, "go") && waited < 120000; waited += 20)
        zclock_sleep (20);

    //  One buffer for every frame: libzmq keeps the whole message until its
    //  last frame is sent, and must not keep it here.
    uint8_t *buffer = calloc (1, (size_t) frame_bytes);
    assert (buffer);
    int64_t started = zclock_mono ();
    void *handle = zsock_resolve (peer.dealer);
    for (long frame = 0; frame < frames; frame++) {
        zmq_msg_t msg;
        zmq_msg_init_data (&msg, buffer, (size_t) frame_bytes, NULL, NULL);
        if (zmq_msg_send (&msg, handle, frame + 1 < frames? ZMQ_SNDMORE: 0) < 0) {
            zmq_msg_close (&msg);
            break;
        }
    }
    s_peer_cut (&peer, 60000, started);
    s_peer_close (&peer);
    free (buffer);
    return 0;
}

static int
s_idle (const char *data, const char *endpoint, int seconds)
{
    s_peer_t peer = {NULL, NULL, NULL};
    if (s_peer_open (&peer, data, endpoint, false)) {
        s_peer_close (&peer);
        return 2;
    }
    s_peer_cut (&peer, seconds * 1000, zclock_mono ());
    s_peer_close (&peer);
    return 0;
}

//  One TCP connection to host:port from source (or any address).
static int
s_dial (const char *host, int port, const char *source)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
    if (source) {
        struct sockaddr_in local = {.sin_family = AF_INET};
        inet_pton (AF_INET, source, &local.sin_addr);
        if (bind (fd, (struct sockaddr *) &local, sizeof local)) {
            close (fd);
            return -1;
        }
    }
    inet_pton (AF_INET, host, &address.sin_addr);
    if (connect (fd, (struct sockaddr *) &address, sizeof address)) {
        close (fd);
        return -1;
    }
    return fd;
}

static int
s_handshakes (const char *endpoint, int count, long frame_bytes, int seconds,
              const char *source)
{
    char host [64];
    int port;
    if (sscanf (endpoint, "tcp://%63[^:]:%d", host, &port) != 2) {
        fprintf (stderr, "handshakes: %s is not tcp://HOST:PORT\n", endpoint);
        return 2;
    }
    //  A ZMTP 3.0 greeting for CURVE, as a client, then a command frame
    //  (flags 0x06: command, long size) announcing frame_bytes.
    uint8_t greeting [64 + 9] = {0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0, 'C', 'U', 'R', 'V', 'E'};
    greeting [64] = 0x06;
    for (int index = 0; index < 8; index++)
        greeting [65 + index] = (uint8_t) ((uint64_t) frame_bytes >> (56 - 8 * index));
    int *fds = calloc ((size_t) count, sizeof (int));
    long *sent = calloc ((size_t) count, sizeof (long));
    struct pollfd *polls = calloc ((size_t) count, sizeof (struct pollfd));
    uint8_t *chunk = calloc (1, S_CHUNK);
    assert (fds && sent && polls && chunk);
    int opened = 0;
    for (int index = 0; index < count; index++) {
        fds [index] = s_dial (host, port, source);
        if (fds [index] >= 0) {
            opened++;
            if (send (fds [index], greeting, sizeof greeting, MSG_NOSIGNAL) != sizeof greeting) {
                close (fds [index]);
                fds [index] = -1;
            }
        }
    }
    int64_t deadline = zclock_mono () + seconds * 1000;
    int closed = 0;
    while (zclock_mono () < deadline) {
        int waiting = 0;
        for (int index = 0; index < count; index++)
            if (fds [index] >= 0) {
                polls [waiting].fd = fds [index];
                polls [waiting].events = POLLIN | (sent [index] + 1 < frame_bytes? POLLOUT: 0);
                polls [waiting++].revents = 0;
            }
        if (waiting == 0)
            break;
        if (poll (polls, (nfds_t) waiting, 100) <= 0)
            continue;
        for (int at = 0; at < waiting; at++) {
            int index = 0;
            while (fds [index] != polls [at].fd)
                index++;
            bool gone = false;
            if (polls [at].revents & (POLLIN | POLLERR | POLLHUP)) {
                char junk [512];
                ssize_t size = recv (fds [index], junk, sizeof junk, MSG_DONTWAIT);
                gone = size == 0 || (size < 0 && errno != EAGAIN);
            }
            if (!gone && (polls [at].revents & POLLOUT)) {
                long left = frame_bytes - 1 - sent [index];
                ssize_t size = send (fds [index], chunk, left < S_CHUNK? (size_t) left: S_CHUNK,
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
                if (size > 0)
                    sent [index] += size;
                else
                    gone = size < 0 && errno != EAGAIN;
            }
            if (gone) {
                close (fds [index]);
                fds [index] = -1;
                closed++;
            }
        }
    }
    long total = 0;
    for (int index = 0; index < count; index++) {
        total += sent [index];
        if (fds [index] >= 0)
            close (fds [index]);
    }
    printf ("%d opened, %d closed by the central, %ld bytes taken\n", opened, closed, total);
    free (fds);
    free (sent);
    free (polls);
    free (chunk);
    return 0;
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    if ((argc == 7 || argc == 8) && streq (argv [1], "flood"))
        return s_flood (argv [2], argv [3], atol (argv [4]), atol (argv [5]), argv [6],
                        argc == 8 && streq (argv [7], "silent"));
    if (argc == 5 && streq (argv [1], "idle"))
        return s_idle (argv [2], argv [3], atoi (argv [4]));
    if ((argc == 6 || argc == 7) && streq (argv [1], "handshakes"))
        return s_handshakes (argv [2], atoi (argv [3]), atol (argv [4]), atoi (argv [5]),
                             argc == 7? argv [6]: NULL);
    fprintf (stderr, "usage: test_transport_client flood DATA ENDPOINT FRAMES FRAME_BYTES "
                     "SIGNAL_DIR [silent]\n"
                     "       test_transport_client idle DATA ENDPOINT SECONDS\n"
                     "       test_transport_client handshakes ENDPOINT COUNT FRAME_BYTES "
                     "SECONDS [SOURCE_ADDRESS]\n");
    return 2;
}
