"""A TCP relay between the nodes and the central that injects faults.

    test_transport_relay.py PORT_FILE CENTRAL_PORT CYCLES SEED

It listens on a port of its own (written to PORT_FILE), forwards each
connection to the central, and CYCLES times, every 0.3 to 0.8 s, injects one
fault, chosen at random (seeded):

  cut        a forwarded connection is reset at both ends (RST);
  burst      one node's traffic is held for 1 to 2.5 s, then let through at
             once and the connection reset right behind it;
  partition  every connection stops forwarding, both ways, for 1 to 3 s;
  flip       one byte of the next chunk forwarded (either way) is flipped;
  delay      one node's traffic, both ways, is held for 0.2 to 1 s, then
             goes on (no reset);
  truncate   the next chunk a node sends is forwarded in part only, and the
             connection is reset behind it;
  garbage    a connection of its own to the central sends random bytes and
             is reset;
  handshake  a connection of its own sends a CURVE greeting and a HELLO
             command of random bytes, and is reset.

Then it goes on forwarding, faultless, until it is killed, and writes
PORT_FILE.done with the count of each fault.  SIGUSR1 ends the faults
early, the same way (the chaos test's settling phase).  One thread, one selector:
a fault is an event in the same loop as the bytes.
"""
import os
import random
import selectors
import signal
import socket
import struct
import sys
import time

port_file, central_port, cycles, seed = sys.argv [1], int (sys.argv [2]), int (sys.argv [3]), int (sys.argv [4])
rng = random.Random (seed)
selector = selectors.DefaultSelector ()
CHUNK = 65536
BACKLOG = 4 << 20               # bytes held per direction before we stop reading


def reset (sock):
    """Closes with an RST rather than a FIN."""
    try:
        sock.setsockopt (socket.SOL_SOCKET, socket.SO_LINGER, struct.pack ("ii", 1, 0))
    except OSError:
        pass
    try:
        selector.unregister (sock)
    except (KeyError, ValueError):
        pass
    sock.close ()


class Pair:
    """A node's connection and ours to the central; pending bytes each way."""

    def __init__ (self, node, central):
        self.ends = [node, central]
        self.pending = [bytearray (), bytearray ()]     # to central, to node
        self.held_until = [0.0, 0.0]
        self.flip = [False, False]
        self.truncate = False
        self.reset_when_flushed = False
        self.closed = False
        for end in self.ends:
            end.setblocking (False)
            selector.register (end, selectors.EVENT_READ, self)

    def close (self):
        if not self.closed:
            self.closed = True
            for end in self.ends:
                reset (end)

    def held (self, way, now):
        return now < self.held_until [way]

    def update (self, now):
        for index, end in enumerate (self.ends):
            way_in, way_out = index, 1 - index      # bytes read here go out the other end
            events = 0
            if len (self.pending [way_in]) < BACKLOG:
                events |= selectors.EVENT_READ
            if self.pending [way_out] and not self.held (way_out, now):
                events |= selectors.EVENT_WRITE
            selector.modify (end, events or selectors.EVENT_READ, self)

    def on_event (self, sock, mask, now):
        index = self.ends.index (sock)
        if mask & selectors.EVENT_READ:
            try:
                data = sock.recv (CHUNK)
            except OSError:
                data = b""
            if not data:
                self.close ()
                return
            if self.flip [index]:
                self.flip [index] = False
                data = bytearray (data)
                data [rng.randrange (len (data))] ^= 1 << rng.randrange (8)
            if index == 0 and self.truncate:
                data = data [:rng.randrange (len (data))]
                self.truncate = False
                self.reset_when_flushed = True
            self.pending [index] += data
        if mask & selectors.EVENT_WRITE:
            way = 1 - index
            try:
                sent = sock.send (self.pending [way])
            except OSError:
                self.close ()
                return
            del self.pending [way] [:sent]
            if self.reset_when_flushed and way == 0 and not self.pending [0]:
                self.close ()


pairs = []
probes = []                     # (when to reset, socket) of our own connections
counts = {}
listener = socket.socket ()
listener.setsockopt (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind (("127.0.0.1", 0))
listener.listen (128)
listener.setblocking (False)
selector.register (listener, selectors.EVENT_READ, None)
with open (port_file + ".tmp", "w") as out:
    out.write ("%d\n" % listener.getsockname () [1])
os.rename (port_file + ".tmp", port_file)


def probe (payload):
    sock = socket.socket ()
    try:
        sock.connect (("127.0.0.1", central_port))
        sock.send (payload)
    except OSError:
        pass
    probes.append ((time.monotonic () + rng.uniform (0.05, 0.5), sock))


def greeting ():
    return (b"\xff" + b"\0" * 7 + b"\x01\x7f" + b"\x03\x00" + b"CURVE".ljust (20, b"\0")
            + b"\0" * 32)


def fault (now):
    live = [pair for pair in pairs if not pair.closed]
    kind = rng.choice (["cut", "burst", "burst", "partition", "flip", "garbage", "handshake",
                        "delay", "truncate"])
    if kind in ("cut", "burst", "flip", "delay", "truncate") and not live:
        kind = "garbage"
    if kind == "cut":
        rng.choice (live).close ()
    elif kind == "burst":
        pair = rng.choice (live)
        pair.held_until [0] = now + rng.uniform (1.0, 2.5)
        pair.reset_when_flushed = True
    elif kind == "partition":
        until = now + rng.uniform (1.0, 3.0)
        for pair in live:
            pair.held_until = [until, until]
    elif kind == "flip":
        rng.choice (live).flip [rng.randrange (2)] = True
    elif kind == "delay":
        until = now + rng.uniform (0.2, 1.0)
        rng.choice (live).held_until = [until, until]
    elif kind == "truncate":
        rng.choice (live).truncate = True
    elif kind == "garbage":
        probe (bytes (rng.randrange (256) for _ in range (rng.randrange (1, 400))))
    else:
        hello = bytes (rng.randrange (256) for _ in range (200))
        probe (greeting () + b"\x04" + bytes ([200]) + hello)
    counts [kind] = counts.get (kind, 0) + 1


def stop_faults (signum, frame):
    global cycles
    cycles = injected


next_fault = time.monotonic () + 1.0
injected = 0
signal.signal (signal.SIGUSR1, stop_faults)
while True:
    now = time.monotonic ()
    if injected == cycles and not os.path.exists (port_file + ".done"):
        with open (port_file + ".done", "w") as out:
            out.write (" ".join ("%s %d" % item for item in sorted (counts.items ())) + "\n")
    if injected < cycles and now >= next_fault:
        fault (now)
        injected += 1
        next_fault = now + rng.uniform (0.3, 0.8)
    for when, sock in [entry for entry in probes if entry [0] <= now]:
        reset (sock)
    probes = [entry for entry in probes if entry [0] > now]
    pairs = [pair for pair in pairs if not pair.closed]
    for pair in pairs:
        pair.update (now)
    for key, mask in selector.select (timeout = 0.05):
        if key.data is None:
            try:
                node, _ = listener.accept ()
                central = socket.create_connection (("127.0.0.1", central_port))
            except OSError:
                continue
            pairs.append (Pair (node, central))
        elif not key.data.closed:
            key.data.on_event (key.fileobj, mask, time.monotonic ())
