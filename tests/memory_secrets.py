#!/usr/bin/env python3
"""Searches a running process's memory for its secret keys (test_keys.sh).

    memory_secrets.py PID bundle FILE        a node: the secrets of its bundle
    memory_secrets.py PID central KEYS_DIR   a central: its transport and data secrets

Reads every private mapping of PID through /proc/PID/mem (as root): the heap,
the stacks, anonymous mappings and the writable data of its libraries.
Mappings shared with a file are that file's contents (the LMDB store, whose
files the security test searches on disk) and read-only ones are code; they
are left out.

What it asserts, and why:
  - No secret appears anywhere in a text encoding: hex (as a bundle carries
    it, either case), Z85 (as ZeroMQ and CZMQ write CURVE keys) or base64.
    Each 32-byte secret is searched by its halves, so a copy partly
    overwritten by the allocator is still found.  A parser's freed buffer
    is where such copies stay (jansson's, before cp_enrolment_guard_json).
  - The raw signing and key-exchange secrets (the Ed25519 seed, the X25519
    key) are only in guarded memory: libsodium's sodium_malloc pages, which
    the kernel marks "dd" (MADV_DONTDUMP) in /proc/PID/smaps.  And they are
    there: a search that finds nothing proves nothing.
  - The raw transport (CURVE) secret is in guarded memory too; libzmq keeps
    copies of its own in its socket options and handshake objects, which
    cpsync cannot reach or wipe, so copies outside are counted, not refused.
  - A public key id of the process is found as text: the text search works.
Exit 0 when all hold, 1 otherwise, with what was found where."""

import base64, json, os, re, sys

CHUNK = 4 << 20
OVERLAP = 128


def z85 (data):
    alphabet = ("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                ".-:+=^!/*?&<>()[]{}@%$#")
    out = []
    for at in range (0, len (data), 4):
        value = int.from_bytes (data [at:at + 4], "big")
        out.append ("".join (alphabet [value // 85 ** power % 85] for power in range (4, -1, -1)))
    return "".join (out)


def encodings (secret):
    """The text forms of a 32-byte secret, each cut in two halves."""
    forms = [secret.hex (), secret.hex ().upper (), z85 (secret),
             base64.b64encode (secret).decode ().rstrip ("=")]
    needles = []
    for form in forms:
        half = len (form) // 2
        needles += [form [:half], form [half:]]
    return [needle.encode () for needle in needles]


def mappings (pid):
    """(start, end, name, dont_dump) of each private readable mapping."""
    found = []
    with open ("/proc/%d/smaps" % pid) as smaps:
        current = None
        for line in smaps:
            head = re.match (r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$", line)
            if head:
                start, end, perms, inode, name = head.groups ()
                current = None
                shared_file = perms [3] == "s" and inode != "0"
                code = "w" not in perms and inode != "0"
                if perms [0] == "r" and not shared_file and not code \
                        and name not in ("[vvar]", "[vsyscall]", "[vdso]"):
                    current = [int (start, 16), int (end, 16), name or "anonymous", False]
                    found.append (current)
            elif line.startswith ("VmFlags:") and current is not None:
                current [3] = "dd" in line.split ()
    return found


def search (pid, needles):
    """For each needle, the list of (mapping name, dont_dump) it is in."""
    hits = {needle: [] for needle in needles}
    with open ("/proc/%d/mem" % pid, "rb", buffering = 0) as memory:
        for start, end, name, dont_dump in mappings (pid):
            at = start
            while at < end:
                size = min (CHUNK + OVERLAP, end - at)
                try:
                    memory.seek (at)
                    data = memory.read (size)
                except OSError:
                    data = b""
                for needle in needles:
                    index = data.find (needle)
                    while index >= 0:
                        #  A hit inside the overlap is found again in the next chunk.
                        if index < CHUNK or at + size >= end:
                            hits [needle].append ((name, dont_dump))
                        index = data.find (needle, index + 1)
                at += CHUNK
    return hits


def secrets_of (kind, where):
    """(guarded secrets {name: bytes}, transport secrets {name: bytes}, a public id)."""
    if kind == "bundle":
        bundle = json.load (open (where))
        raw = bytes.fromhex (bundle ["secrets"])
        inner = json.loads (bundle ["enrolment"])
        return ({"signing seed": raw [32:64], "key-exchange secret": raw [96:128]},
                {"transport secret": raw [0:32]}, inner ["node"]["key"]["id"])
    guarded, transport = {}, {}
    names = sorted (os.listdir (where))
    for name in names:
        raw = open (os.path.join (where, name), "rb").read ()
        if name.startswith ("data-"):
            guarded ["%s signing seed" % name] = raw [0:32]
            guarded ["%s key-exchange secret" % name] = raw [64:96]
        elif name.startswith ("transport-"):
            transport [name] = raw
    data = [name for name in names if name.startswith ("data-")]
    return guarded, transport, data [-1] [len ("data-"):-len (".secret")]


def main ():
    pid, kind, where = int (sys.argv [1]), sys.argv [2], sys.argv [3]
    guarded, transport, public_id = secrets_of (kind, where)
    text = {}
    for name, secret in list (guarded.items ()) + list (transport.items ()):
        for needle in encodings (secret):
            text [needle] = name
    raw = {secret: name for name, secret in list (guarded.items ()) + list (transport.items ())}
    hits = search (pid, list (text) + list (raw) + [public_id.encode ()])
    problems = []
    for needle, name in text.items ():
        if hits [needle]:
            problems.append ("the %s as text (%s...) in %s" % (
                name, needle [:6].decode (), sorted (set (place for place, _ in hits [needle]))))
    served = 0
    for secret, name in raw.items ():
        inside = [place for place, dont_dump in hits [secret] if dont_dump]
        outside = [place for place, dont_dump in hits [secret] if not dont_dump]
        if name in transport:
            #  Only the key served (or used) is loaded; libzmq's copies are counted.
            served += bool (inside)
            print ("    raw %s: %d in guarded memory, %d outside (libzmq's copies)"
                   % (name, len (inside), len (outside)))
            continue
        if not inside:
            problems.append ("the raw %s is not in guarded memory (the search found %d copies)"
                             % (name, len (outside)))
        if outside:
            problems.append ("the raw %s outside guarded memory, in %s" % (name, sorted (set (outside))))
    if not served:
        problems.append ("no raw transport secret is in guarded memory: the search does not work")
    if not hits [public_id.encode ()]:
        problems.append ("the public id %s is not found: the search does not work" % public_id)
    for problem in problems:
        print ("   ", problem)
    sys.exit (1 if problems else 0)


main ()
