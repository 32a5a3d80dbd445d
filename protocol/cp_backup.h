/*  cp_backup: backup files of a node's or the central's store.

    A backup is one file, made while the daemon runs: a header, the LMDB
    environment as LMDB itself copies it (mdb_env_copyfd2 with
    MDB_CP_COMPACT, from a read-only environment: one read transaction's
    snapshot, free pages left out, the writer never waits), and a checksum.
    Integers are big-endian:

        offset   size  field
        0        8     magic "CPSYNCBK"
        8        2     version of this layout: 1
        10       1     kind: 'N' a node, 'C' the central
        11       1     m: length of the municipality code (a node: 1..64;
                       the central: 0)
        12       1     f: length of the store format (1..64)
        13       3     zero
        16       8     created: seconds since the epoch (UTC)
        24       8     n: bytes of the LMDB copy (1..CP_BACKUP_STORE_MAX)
        32       32    fingerprint of the store's keys (below)
        64       m     the municipality code, [A-Za-z0-9_.:-]
        64+m     f     the store format, printable ASCII ("cpsync-node 8")
        64+m+f   n     the LMDB copy: a data.mdb
        end-32   32    BLAKE2b-256 (unkeyed) of every byte before it

    The copy holds the store as it is at rest: every case value sealed
    under DIR/keys, ids only as keyed hashes.  The keys are not in the file
    (a backup and its keys are kept apart, the keys offline), so a restore
    needs DIR/keys already in place, and the fingerprint says whether they
    are the ones: BLAKE2b-256 keyed with the sealing key (a node's
    keys/data.key, the central's keys/storage.key) of a fixed text followed
    by the BLAKE2b-256 of the same text keyed with keys/index.key.  It
    reveals neither key, and any other node or central has another.  The
    checksum is not keyed, so a backup can be checked where its keys are
    not; it finds damage, the fingerprint finds the wrong store.

    Writing goes to FILE.tmp (mode 0600), which is fsync'd and renamed to
    FILE, so FILE is whole or absent.  Restoring checks everything before
    it touches the target: the file (layout, limits, size, checksum), the
    kind, the store format and municipality against the target's store
    when it has one, the fingerprint against the target's keys, that no
    daemon runs on the target (the flock its run takes: DIR/run.lock for a
    node, DIR/central.lock for the central) and that no other process has
    the environment open (LMDB's own liveness lock on lock.mdb); then it
    writes DIR/store/data.mdb.restore, fsyncs it, checks that LMDB opens it
    and that it says what the header says, renames it over data.mdb and
    sets the lock file up afresh for the new data file (a stale one would
    carry the old store's transaction id).  A crash leaves the old store or
    the new one; a refused restore changes nothing.

    The reader treats the file as hostile: lengths are checked against
    their limits before anything is read into them, the size against the
    header before the checksum is computed, and the LMDB copy is opened
    only after its checksum matched.  tests/fuzz/fuzz_backup.c fuzzes it. */

#ifndef CP_BACKUP_H_INCLUDED
#define CP_BACKUP_H_INCLUDED

#include "cp_event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CP_BACKUP_MAGIC "CPSYNCBK"
#define CP_BACKUP_MAGIC_SIZE 8
#define CP_BACKUP_VERSION 1
#define CP_BACKUP_FIXED_SIZE 64                 //  header bytes before its texts
#define CP_BACKUP_FORMAT_MAX 64                 //  characters of a store format
#define CP_BACKUP_HEADER_MAX (CP_BACKUP_FIXED_SIZE + CP_ID_MAX + CP_BACKUP_FORMAT_MAX)
#define CP_BACKUP_STORE_MAX ((uint64_t) 1 << 40)    //  1 TiB of LMDB copy
#define CP_BACKUP_FINGERPRINT_SIZE 32
#define CP_BACKUP_CHECKSUM_SIZE 32

//  What a backup holds.
typedef enum {
    CP_BACKUP_NODE = 'N',
    CP_BACKUP_CENTRAL = 'C'
} cp_backup_kind_t;

//  A backup's header, decoded.
typedef struct {
    cp_backup_kind_t kind;
    char municipality [CP_ID_MAX + 1];          //  a node's code; "" for the central
    char format [CP_BACKUP_FORMAT_MAX + 1];     //  the store's meta "format"
    uint64_t created;                           //  seconds since the epoch
    uint64_t store_size;                        //  bytes of the LMDB copy
    uint8_t fingerprint [CP_BACKUP_FINGERPRINT_SIZE];
    size_t header_size;                         //  bytes before the LMDB copy
} cp_backup_header_t;

//  Encodes header into out (CP_BACKUP_HEADER_MAX bytes at least) and
//  returns how many bytes it took (header->header_size is ignored).  The
//  header must be valid: a bad one is our own mistake and asserts.
size_t
    cp_backup_header_encode (const cp_backup_header_t *header, uint8_t *out);

//  Decodes the header at the start of bytes (size of them: the whole file
//  or its first CP_BACKUP_HEADER_MAX bytes) into header.  Returns 0,
//  CP_EMALFORMED (no magic, a field against its rules, or fewer bytes than
//  the header), CP_EVERSION (another version of the layout) or CP_ETOOBIG
//  (a length over its limit); why says which field, when not NULL.
int
    cp_backup_header_decode (const uint8_t *bytes, size_t size, cp_backup_header_t *header,
                             char *why, size_t why_size)
    __attribute__ ((warn_unused_result));

//  Reads a whole backup from file (from its start; any stream fseeko can
//  size) and checks its header, its size against the header and its
//  checksum.  Returns 0 with header filled in, a code of
//  cp_backup_header_decode, CP_EMALFORMED (truncated, or bytes after the
//  checksum), CP_EAUTH (the checksum does not match: damage) or CP_EIO
//  (errno says why); why says what was wrong, when not NULL.
int
    cp_backup_verify (FILE *file, cp_backup_header_t *header, char *why, size_t why_size)
    __attribute__ ((warn_unused_result));

//  The fingerprint of the keys in dir/keys for a store of kind.  Returns
//  0, CP_ENOTENROLLED (a key file is missing), CP_EINSECURE (others may
//  read or write one), CP_EMALFORMED (one of another size) or CP_EIO.
int
    cp_backup_fingerprint (const char *dir, cp_backup_kind_t kind,
                           uint8_t fingerprint [CP_BACKUP_FINGERPRINT_SIZE],
                           char *why, size_t why_size)
    __attribute__ ((warn_unused_result));

//  Writes a backup of the store of kind in dir (dir/store, keys in
//  dir/keys) to path, while any process may be writing the store.  Fills
//  header (when not NULL) with what it wrote.  Returns 0, CP_ENOTNODE or
//  CP_ENOTCENTRAL (dir holds no store of that kind), a code of
//  cp_backup_fingerprint, CP_ESTORE or CP_EIO (nothing is left at path or
//  at path.tmp); why says what failed.
int
    cp_backup_write (const char *dir, cp_backup_kind_t kind, const char *path,
                     cp_backup_header_t *header, char *why, size_t why_size);

//  Restores the backup at path into dir, a data directory of kind whose
//  keys are in dir/keys (its store may be missing).  Fills header (when
//  not NULL) with the backup's.  Returns 0, or without changing the store:
//  a code of cp_backup_verify; CP_EOTHERSTORE (a backup of another kind,
//  municipality or set of keys, or of a store format other than the
//  target's); CP_ENOTENROLLED, CP_EINSECURE (the target's keys); CP_EBUSY
//  (a daemon runs on dir, or a process has its store open); CP_EMALFORMED
//  (the copy does not open as a store or disagrees with its header);
//  CP_ESTORE or CP_EIO.  why says what was wrong.
int
    cp_backup_restore (const char *path, const char *dir, cp_backup_kind_t kind,
                       cp_backup_header_t *header, char *why, size_t why_size)
    __attribute__ ((warn_unused_result));

//  The backup and restore commands of cpsync-node and cpsync-central
//  (program): backup (when backup is true) writes a backup of dir to file,
//  else file is restored into dir.  Prints one line on what was done on
//  stdout, or on what was wrong on stderr ("program: restore FILE: why"),
//  and returns the exit code: 0; 1 restore refused the backup or the
//  target (damaged, another store's, a daemon running); 2 an environment
//  error (not a store, missing keys for a backup, unreadable or unwritable
//  files).
int
    cp_backup_run (const char *program, cp_backup_kind_t kind, bool backup, const char *dir,
                   const char *file);

//  The backup and restore commands of a program's command line: command is
//  "backup" or "restore", out and from their --out and --from (NULL when
//  not given).  A missing one is a usage error (cp_cli's, exit 2); else
//  cp_backup_run's exit code.
int
    cp_backup_command (const char *program, cp_backup_kind_t kind, const char *command,
                       const char *dir, const char *out, const char *from);

//  One line on a backup, for people: "the node of tirane (cpsync-node 8),
//  made 2026-11-23T10:00:00Z, 1234567 bytes of store".
void
    cp_backup_describe (const cp_backup_header_t *header, char *buf, size_t size);

#endif
