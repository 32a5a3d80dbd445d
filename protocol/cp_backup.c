/*  cp_backup: writing, checking and restoring backup files (the layout and
    the rules are in cp_backup.h).

    A backup is streamed, never held in memory, since a central's store can
    be gigabytes.  Writing: the header goes first with a size of 0, LMDB's
    copy thread appends the compacted environment through the same
    descriptor, the header is written again with the size the copy took,
    and the checksum is computed by reading the file back and appended.
    Restoring reads the file twice: once to check it before anything is
    touched, once to write the copy beside the store while hashing it
    again, so that a file that changes between the two is refused too.

    The two kinds of store differ only in names (their sealing key, their
    daemon's lock, their format's prefix), which s_kinds holds; both keep
    their settings in a database named "meta", with "format" and, for a
    node, "municipality".                                                  */

#include "cp_backup.h"
#include "cp_cli.h"
#include "cp_error.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_seal.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

//  Offsets of the fixed part of the header.
#define S_AT_VERSION 8
#define S_AT_KIND 10
#define S_AT_MUNICIPALITY_SIZE 11
#define S_AT_FORMAT_SIZE 12
#define S_AT_RESERVED 13
#define S_AT_CREATED 16
#define S_AT_STORE_SIZE 24
#define S_AT_FINGERPRINT 32

#define S_CHUNK ((size_t) 1 << 20)  //  bytes hashed or copied at a time
#define S_MAX_DBS 16                //  named databases a store may have open

//  What the fingerprint hashes: fixed, so that it names the keys only.
static const char s_fingerprint_text [] = "cpsync backup: the keys of a store, version 1";

//  What differs between the two kinds of store.
typedef struct {
    cp_backup_kind_t kind;
    const char *name;           //  "node", "central": for messages
    const char *format;         //  the prefix of its store formats
    const char *seal_key;       //  the key that seals its values, under its directory
    const char *lock;           //  the flock its daemon holds, under its directory
    const char *daemon;         //  the command that holds it
    int not_store;              //  the code for "this directory holds no such store"
} s_kind_t;

static const s_kind_t s_kinds [] = {
    {CP_BACKUP_NODE, "node", "cpsync-node ", "keys/data.key", "run.lock",
     "cpsync-node run", CP_ENOTNODE},
    {CP_BACKUP_CENTRAL, "central", "cpsync-central ", "keys/storage.key", "central.lock",
     "cpsync-central run", CP_ENOTCENTRAL}
};

static const s_kind_t *
s_kind (int kind)
{
    for (size_t index = 0; index < sizeof s_kinds / sizeof s_kinds [0]; index++)
        if ((int) s_kinds [index].kind == kind)
            return &s_kinds [index];
    return NULL;
}

//  =====================================================================
//  The header

size_t
cp_backup_header_encode (const cp_backup_header_t *header, uint8_t *out)
{
    size_t municipality = strlen (header->municipality);
    size_t format = strlen (header->format);
    assert (s_kind (header->kind));
    assert ((header->kind == CP_BACKUP_NODE) == (municipality > 0));
    assert (municipality <= CP_ID_MAX);
    assert (format > 0 && format <= CP_BACKUP_FORMAT_MAX);
    memset (out, 0, CP_BACKUP_FIXED_SIZE);
    memcpy (out, CP_BACKUP_MAGIC, CP_BACKUP_MAGIC_SIZE);
    out [S_AT_VERSION] = CP_BACKUP_VERSION >> 8;
    out [S_AT_VERSION + 1] = CP_BACKUP_VERSION & 0xff;
    out [S_AT_KIND] = (uint8_t) header->kind;
    out [S_AT_MUNICIPALITY_SIZE] = (uint8_t) municipality;
    out [S_AT_FORMAT_SIZE] = (uint8_t) format;
    cp_put_u64 (out + S_AT_CREATED, header->created);
    cp_put_u64 (out + S_AT_STORE_SIZE, header->store_size);
    memcpy (out + S_AT_FINGERPRINT, header->fingerprint, CP_BACKUP_FINGERPRINT_SIZE);
    memcpy (out + CP_BACKUP_FIXED_SIZE, header->municipality, municipality);
    memcpy (out + CP_BACKUP_FIXED_SIZE + municipality, header->format, format);
    return CP_BACKUP_FIXED_SIZE + municipality + format;
}

int
cp_backup_header_decode (const uint8_t *bytes, size_t size, cp_backup_header_t *header,
                         char *why, size_t why_size)
{
    memset (header, 0, sizeof *header);
    if (size < CP_BACKUP_MAGIC_SIZE || memcmp (bytes, CP_BACKUP_MAGIC, CP_BACKUP_MAGIC_SIZE))
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "not a cpsync backup (it does not start with " CP_BACKUP_MAGIC ")");
    if (size < CP_BACKUP_FIXED_SIZE)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "truncated: %zu bytes, fewer than a header", size);
    unsigned version = (unsigned) bytes [S_AT_VERSION] << 8 | bytes [S_AT_VERSION + 1];
    if (version != CP_BACKUP_VERSION)
        return cp_error_why (CP_EVERSION, why, why_size,
                             "a backup of layout version %u; this cpsync reads version %d",
                             version, CP_BACKUP_VERSION);
    const s_kind_t *kind = s_kind (bytes [S_AT_KIND]);
    size_t municipality = bytes [S_AT_MUNICIPALITY_SIZE];
    size_t format = bytes [S_AT_FORMAT_SIZE];
    if (!kind)
        return cp_error_why (CP_EMALFORMED, why, why_size, "unknown kind of store 0x%02x",
                             bytes [S_AT_KIND]);
    if (bytes [S_AT_RESERVED] || bytes [S_AT_RESERVED + 1] || bytes [S_AT_RESERVED + 2])
        return cp_error_why (CP_EMALFORMED, why, why_size, "reserved header bytes are not zero");
    if (municipality > CP_ID_MAX || format > CP_BACKUP_FORMAT_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size,
                             "a header text of %zu bytes (municipality) or %zu (format) is "
                             "over its limit", municipality, format);
    if ((kind->kind == CP_BACKUP_NODE) != (municipality > 0) || format == 0)
        return cp_error_why (CP_EMALFORMED, why, why_size, "a %s backup's header with a "
                             "municipality of %zu bytes and a format of %zu",
                             kind->name, municipality, format);
    header->header_size = CP_BACKUP_FIXED_SIZE + municipality + format;
    if (size < header->header_size)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "truncated: %zu bytes, fewer than its header's %zu",
                             size, header->header_size);
    const uint8_t *text = bytes + CP_BACKUP_FIXED_SIZE;
    if (municipality && !cp_event_id_valid ((const char *) text, municipality))
        return cp_error_why (CP_EMALFORMED, why, why_size, "the municipality code is malformed");
    for (size_t at = 0; at < format; at++)
        if (text [municipality + at] < 0x20 || text [municipality + at] > 0x7e)
            return cp_error_why (CP_EMALFORMED, why, why_size, "the store format is malformed");
    header->store_size = cp_get_u64 (bytes + S_AT_STORE_SIZE);
    if (header->store_size == 0)
        return cp_error_why (CP_EMALFORMED, why, why_size, "the header announces an empty store");
    if (header->store_size > CP_BACKUP_STORE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size,
                             "the header announces %llu bytes of store, over the limit of %llu",
                             (unsigned long long) header->store_size,
                             (unsigned long long) CP_BACKUP_STORE_MAX);
    header->kind = kind->kind;
    header->created = cp_get_u64 (bytes + S_AT_CREATED);
    memcpy (header->fingerprint, bytes + S_AT_FINGERPRINT, CP_BACKUP_FINGERPRINT_SIZE);
    memcpy (header->municipality, text, municipality);
    memcpy (header->format, text + municipality, format);
    return 0;
}

//  =====================================================================
//  Reading a backup

//  Reads size bytes; CP_EMALFORMED at an early end (the file shrank after
//  it was measured), CP_EIO on an error.
static int
s_read (FILE *file, uint8_t *buffer, size_t size, char *why, size_t why_size)
{
    if (fread (buffer, 1, size, file) == size)
        return 0;
    if (ferror (file))
        return cp_error_why (CP_EIO, why, why_size, "cannot read the backup: %s",
                             strerror (errno));
    return cp_error_why (CP_EMALFORMED, why, why_size, "the backup shrank while it was read");
}

//  Reads the backup of header from its start and hashes what precedes its
//  checksum, writing the LMDB copy to out when out >= 0; then compares
//  the hash with the checksum that follows.
static int
s_check (FILE *file, const cp_backup_header_t *header, int out, char *why, size_t why_size)
{
    if (fseeko (file, 0, SEEK_SET))
        return cp_error_why (CP_EIO, why, why_size, "cannot read the backup: %s",
                             strerror (errno));
    uint8_t *buffer = malloc (S_CHUNK);
    assert (buffer);
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, CP_BACKUP_CHECKSUM_SIZE);
    int rc = s_read (file, buffer, header->header_size, why, why_size);
    if (rc == 0)
        crypto_generichash_update (&state, buffer, header->header_size);
    uint64_t left = header->store_size;
    while (rc == 0 && left > 0) {
        size_t size = left < S_CHUNK? (size_t) left: S_CHUNK;
        if ((rc = s_read (file, buffer, size, why, why_size)))
            break;
        crypto_generichash_update (&state, buffer, size);
        for (size_t done = 0; out >= 0 && done < size; ) {
            ssize_t wrote = write (out, buffer + done, size - done);
            if (wrote < 0 && errno == EINTR)
                continue;
            if (wrote <= 0) {
                rc = cp_error_why (CP_EIO, why, why_size, "cannot write the restored store: %s",
                                   wrote < 0? strerror (errno): "no space");
                break;
            }
            done += (size_t) wrote;
        }
        left -= size;
    }
    uint8_t computed [CP_BACKUP_CHECKSUM_SIZE], stored [CP_BACKUP_CHECKSUM_SIZE];
    crypto_generichash_final (&state, computed, sizeof computed);
    free (buffer);
    if (rc == 0)
        rc = s_read (file, stored, sizeof stored, why, why_size);
    if (rc == 0 && sodium_memcmp (computed, stored, sizeof stored))
        rc = cp_error_why (CP_EAUTH, why, why_size,
                           out < 0? "damaged: its checksum does not match its contents"
                                  : "changed while it was being restored");
    return rc;
}

int
cp_backup_verify (FILE *file, cp_backup_header_t *header, char *why, size_t why_size)
{
    memset (header, 0, sizeof *header);
    if (fseeko (file, 0, SEEK_END))
        return cp_error_why (CP_EIO, why, why_size, "cannot read the backup: %s",
                             strerror (errno));
    off_t size = ftello (file);
    if (size < 0 || fseeko (file, 0, SEEK_SET))
        return cp_error_why (CP_EIO, why, why_size, "cannot read the backup: %s",
                             strerror (errno));
    uint8_t head [CP_BACKUP_HEADER_MAX];
    size_t want = (uint64_t) size < sizeof head? (size_t) size: sizeof head;
    int rc = s_read (file, head, want, why, why_size);
    if (rc == 0)
        rc = cp_backup_header_decode (head, want, header, why, why_size);
    if (rc)
        return rc;
    //  Both terms are bounded by the decoder: no overflow.
    uint64_t expected = header->header_size + header->store_size + CP_BACKUP_CHECKSUM_SIZE;
    uint64_t actual = (uint64_t) size;
    if (actual < expected)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "truncated: %llu bytes, %llu fewer than its header announces "
                             "(%llu of store and a %d-byte checksum)",
                             (unsigned long long) actual, (unsigned long long) (expected - actual),
                             (unsigned long long) header->store_size, CP_BACKUP_CHECKSUM_SIZE);
    if (actual > expected)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "%llu bytes more than its header announces",
                             (unsigned long long) (actual - expected));
    return s_check (file, header, -1, why, why_size);
}

//  =====================================================================
//  Keys and stores

int
cp_backup_fingerprint (const char *dir, cp_backup_kind_t kind,
                       uint8_t fingerprint [CP_BACKUP_FINGERPRINT_SIZE],
                       char *why, size_t why_size)
{
    const s_kind_t *self = s_kind (kind);
    assert (self);
    const char *names [2] = {self->seal_key, "keys/index.key"};
    const size_t sizes [2] = {CP_SEAL_KEY_SIZE, CP_INDEX_KEY_SIZE};
    uint8_t *keys [2] = {NULL, NULL};
    int rc = 0;
    for (int which = 0; which < 2 && rc == 0; which++) {
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", dir, names [which]);
        rc = cp_keyfile_read (path, sizes [which], &keys [which]);
        if (rc == CP_EIO && errno == ENOENT)
            rc = cp_error_why (CP_ENOTENROLLED, why, why_size,
                               "%s is missing: put the keys directory back first (from its "
                               "offline copy); a backup holds no keys and a restore makes none",
                               path);
        else
        if (rc)
            cp_error_why (rc, why, why_size, "%s: %s%s%s", path, cp_strerror (rc),
                          rc == CP_EIO? ": ": "", rc == CP_EIO? strerror (errno): "");
    }
    if (rc == 0) {
        uint8_t inner [CP_BACKUP_FINGERPRINT_SIZE];
        crypto_generichash (inner, sizeof inner, (const uint8_t *) s_fingerprint_text,
                            strlen (s_fingerprint_text), keys [1], sizes [1]);
        crypto_generichash_state state;
        crypto_generichash_init (&state, keys [0], sizes [0], CP_BACKUP_FINGERPRINT_SIZE);
        crypto_generichash_update (&state, (const uint8_t *) s_fingerprint_text,
                                   strlen (s_fingerprint_text));
        crypto_generichash_update (&state, inner, sizeof inner);
        crypto_generichash_final (&state, fingerprint, CP_BACKUP_FINGERPRINT_SIZE);
        sodium_memzero (inner, sizeof inner);
        sodium_memzero (&state, sizeof state);
    }
    cp_keyfile_free (&keys [0]);
    cp_keyfile_free (&keys [1]);
    return rc;
}

//  Reads the format (and a node's municipality) from the meta database of
//  env into header.  Returns 0, or self->not_store when they are missing or
//  not what a store of this kind holds.
static int
s_read_meta (MDB_env *env, const s_kind_t *self, cp_backup_header_t *header)
{
    MDB_txn *txn;
    MDB_dbi meta;
    int rc = cp_lmdb_begin (env, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    int mdb_rc = mdb_dbi_open (txn, "meta", 0, &meta);
    if (!mdb_rc)
        mdb_rc = cp_lmdb_get_text (txn, meta, "format", header->format, sizeof header->format);
    if (!mdb_rc && self->kind == CP_BACKUP_NODE)
        mdb_rc = cp_lmdb_get_text (txn, meta, "municipality", header->municipality,
                                   sizeof header->municipality);
    mdb_txn_abort (txn);
    size_t prefix = strlen (self->format);
    if (mdb_rc || strncmp (header->format, self->format, prefix) != 0
    ||  strlen (header->format) == prefix)
        return self->not_store;
    for (const char *at = header->format; *at; at++)
        if (*at < 0x20 || *at > 0x7e)
            return self->not_store;
    if (self->kind == CP_BACKUP_NODE
    &&  !cp_event_id_valid (header->municipality, strlen (header->municipality)))
        return self->not_store;
    return 0;
}

//  Opens the environment of dir/store read-only into *env and reads its
//  meta into header.  Returns 0, self->not_store or CP_ESTORE.
static int
s_open_store (const char *dir, const s_kind_t *self, MDB_env **env,
              cp_backup_header_t *header)
{
    char store [4096];
    snprintf (store, sizeof store, "%s/store", dir);
    int rc = cp_lmdb_open (env, store, S_MAX_DBS, CP_LMDB_READONLY);
    if (rc)
        return rc == CP_EIO? self->not_store: rc;
    if ((rc = s_read_meta (*env, self, header))) {
        mdb_env_close (*env);
        *env = NULL;
    }
    return rc;
}

//  Makes a new or renamed entry of dir durable.
static int
s_sync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0? -1: fsync (fd);
    if (fd >= 0)
        close (fd);
    return rc;
}

//  Writes size bytes at offset of fd.
static int
s_write_at (int fd, const uint8_t *data, size_t size, off_t offset)
{
    while (size > 0) {
        ssize_t wrote = pwrite (fd, data, size, offset);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            return -1;
        data += wrote;
        size -= (size_t) wrote;
        offset += wrote;
    }
    return 0;
}

//  =====================================================================
//  Writing a backup

//  What the copy has written so far, shown on a terminal (cp_cli_progress)
//  by a thread of its own: LMDB's copy is one call that reports nothing.
typedef struct {
    int fd;
    off_t base;                 //  where the copy starts in the file
    uint64_t total;             //  the store's used pages, about what the copy writes
    cp_cli_progress_t *progress;
    atomic_bool done;
} s_watch_t;

static void *
s_watch (void *argument)
{
    s_watch_t *watch = argument;
    while (!atomic_load (&watch->done)) {
        struct stat status;
        if (fstat (watch->fd, &status) == 0 && status.st_size >= watch->base) {
            uint64_t copied = (uint64_t) (status.st_size - watch->base);
            cp_cli_progress_show (watch->progress, copied < watch->total? copied: watch->total,
                                  watch->total, "bytes");
        }
        usleep (100 * 1000);
    }
    return NULL;
}

//  Copies env (open read-only; header filled but for store_size) behind a
//  header into fd, then completes the header and appends the checksum.
static int
s_write_file (MDB_env *env, int fd, const char *temp, cp_backup_header_t *header,
              char *why, size_t why_size)
{
    uint8_t head [CP_BACKUP_HEADER_MAX];
    size_t head_size = cp_backup_header_encode (header, head);
    if (s_write_at (fd, head, head_size, 0))
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    //  LMDB's copy writes on from the descriptor's offset, in one read
    //  transaction: a consistent snapshot while the daemon goes on writing.
    //  A writer that has grown the file past this process's map since it
    //  opened it fails the copy's transaction with MDB_MAP_RESIZED: adopt
    //  the new size and copy again.
    int mdb_rc = MDB_MAP_RESIZED;
    for (int attempt = 0; attempt < 3 && mdb_rc == MDB_MAP_RESIZED; attempt++) {
        if (attempt)
            mdb_env_set_mapsize (env, 0);
        if (ftruncate (fd, (off_t) head_size) || lseek (fd, (off_t) head_size, SEEK_SET) < 0)
            return cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
        s_watch_t watch = {fd, (off_t) head_size, 0, cp_cli_progress_new ("backup"), false};
        pthread_t watcher;
        MDB_envinfo info;
        MDB_stat pages;
        bool watching = watch.progress && mdb_env_info (env, &info) == 0
                     && mdb_env_stat (env, &pages) == 0;
        if (watching) {
            watch.total = ((uint64_t) info.me_last_pgno + 1) * pages.ms_psize;
            watching = pthread_create (&watcher, NULL, s_watch, &watch) == 0;
        }
        mdb_rc = mdb_env_copyfd2 (env, fd, MDB_CP_COMPACT);
        if (watching) {
            atomic_store (&watch.done, true);
            pthread_join (watcher, NULL);
        }
        cp_cli_progress_destroy (&watch.progress);
    }
    if (mdb_rc)
        return cp_error_why (CP_ESTORE, why, why_size, "LMDB could not copy the store "
                             "into %s: %s", temp, mdb_strerror (mdb_rc));
    off_t end = lseek (fd, 0, SEEK_CUR);
    if (end < 0)
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    header->store_size = (uint64_t) end - head_size;
    header->header_size = head_size;
    if (header->store_size == 0 || header->store_size > CP_BACKUP_STORE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "a copy of %llu bytes cannot be "
                             "a backup", (unsigned long long) header->store_size);
    cp_backup_header_encode (header, head);
    if (s_write_at (fd, head, head_size, 0) || fsync (fd))
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    //  The checksum of what is on disk, read back through the page cache.
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, CP_BACKUP_CHECKSUM_SIZE);
    uint8_t *buffer = malloc (S_CHUNK);
    assert (buffer);
    int rc = 0;
    for (off_t at = 0; at < end && rc == 0; ) {
        size_t want = (uint64_t) (end - at) < S_CHUNK? (size_t) (end - at): S_CHUNK;
        ssize_t got = pread (fd, buffer, want, at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            rc = cp_error_why (CP_EIO, why, why_size, "%s: reading it back: %s", temp,
                               got < 0? strerror (errno): "it shrank");
        else {
            crypto_generichash_update (&state, buffer, (size_t) got);
            at += got;
        }
    }
    free (buffer);
    uint8_t checksum [CP_BACKUP_CHECKSUM_SIZE];
    crypto_generichash_final (&state, checksum, sizeof checksum);
    if (rc == 0 && (s_write_at (fd, checksum, sizeof checksum, end) || fsync (fd)))
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    return rc;
}

int
cp_backup_write (const char *dir, cp_backup_kind_t kind, const char *path,
                 cp_backup_header_t *header_out, char *why, size_t why_size)
{
    const s_kind_t *self = s_kind (kind);
    assert (self);
    cp_backup_header_t header = {.kind = kind, .created = (uint64_t) time (NULL)};
    int rc = cp_backup_fingerprint (dir, kind, header.fingerprint, why, why_size);
    if (rc)
        return rc;
    MDB_env *env = NULL;
    if ((rc = s_open_store (dir, self, &env, &header)))
        return cp_error_why (rc, why, why_size, "%s holds no cpsync %s store", dir, self->name);

    char temp [4096];
    if (snprintf (temp, sizeof temp, "%s.tmp", path) >= (int) sizeof temp) {
        mdb_env_close (env);
        return cp_error_why (CP_EIO, why, why_size, "%s: name too long", path);
    }
    //  0600 whatever the umask: sealed or not, the store is nobody else's.
    int fd = open (temp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0 || fchmod (fd, 0600))
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    else
        rc = s_write_file (env, fd, temp, &header, why, why_size);
    mdb_env_close (env);
    if (fd >= 0 && close (fd) && rc == 0)
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    if (rc == 0 && rename (temp, path))
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", path, strerror (errno));
    if (rc) {
        unlink (temp);
        return rc;
    }
    //  The new name must survive a crash too.
    char parent [4096];
    snprintf (parent, sizeof parent, "%s", path);
    char *slash = strrchr (parent, '/');
    if (!slash)
        snprintf (parent, sizeof parent, ".");
    else
    if (slash == parent)
        parent [1] = 0;                     //  a file in /
    else
        *slash = 0;
    if (s_sync_dir (parent))
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", parent, strerror (errno));
    if (header_out)
        *header_out = header;
    return 0;
}

//  =====================================================================
//  Restoring a backup

//  Takes the flock the daemon of this kind holds while it runs (and keeps
//  it in *fd, so that none starts during the restore).
static int
s_lock_daemon (const char *dir, const s_kind_t *self, int *fd, char *why, size_t why_size)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/%s", dir, self->lock);
    *fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (*fd < 0)
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", path, strerror (errno));
    if (flock (*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    close (*fd);
    *fd = -1;
    return cp_error_why (CP_EBUSY, why, why_size, "'%s' is running on %s (it holds %s): "
                         "stop it first", self->daemon, dir, path);
}

//  LMDB's own test of whether a process has the environment open: each
//  holds a read lock on the first byte of lock.mdb for as long as it does
//  (mdb_env_excl_lock), so a write lock there is granted only when none
//  has.  Held, it makes any process that opens the store meanwhile wait
//  on it.  The lock belongs to the process, so it goes when any descriptor
//  of lock.mdb this process has is closed: take it last.
static int
s_lock_store (const char *dir, int *fd, char *why, size_t why_size)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/store/lock.mdb", dir);
    *fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (*fd < 0)
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", path, strerror (errno));
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl (*fd, F_SETLK, &lock) == 0)
        return 0;
    int error = errno;
    close (*fd);
    *fd = -1;
    if (error == EACCES || error == EAGAIN)
        return cp_error_why (CP_EBUSY, why, why_size, "%s/store is open in another process "
                             "(an import, a query, a key command): try again when it has "
                             "ended", dir);
    return cp_error_why (CP_EIO, why, why_size, "%s: %s", path, strerror (error));
}

//  The target's own store, if it has one that opens, must be of the
//  backup's format and, for a node, of its municipality.
static int
s_check_target (const char *dir, const s_kind_t *self, const cp_backup_header_t *header,
                char *why, size_t why_size)
{
    char file [4096];
    snprintf (file, sizeof file, "%s/store/data.mdb", dir);
    if (access (file, F_OK) && errno == ENOENT)
        return 0;
    cp_backup_header_t current = {.kind = self->kind};
    MDB_env *env = NULL;
    int rc = s_open_store (dir, self, &env, &current);
    if (rc) {
        //  A damaged store is what a restore is for: the keys still decide.
        zsys_warning ("cp_backup: %s/store does not open as a %s store (%s); "
                      "it will be replaced", dir, self->name, cp_strerror (rc));
        return 0;
    }
    mdb_env_close (env);
    if (self->kind == CP_BACKUP_NODE && strcmp (current.municipality, header->municipality))
        return cp_error_why (CP_EOTHERSTORE, why, why_size, "a backup of the node of %s; "
                             "%s is the node of %s", header->municipality, dir,
                             current.municipality);
    if (strcmp (current.format, header->format))
        return cp_error_why (CP_EOTHERSTORE, why, why_size, "a backup of a store of format "
                             "\"%s\"; %s holds one of format \"%s\"", header->format, dir,
                             current.format);
    return 0;
}

//  Opens the copy written at path (a data.mdb, no one else's yet) as LMDB
//  and checks it is the store its header describes.
static int
s_check_copy (const char *path, const s_kind_t *self, const cp_backup_header_t *header,
              char *why, size_t why_size)
{
    MDB_env *env = NULL;
    cp_backup_header_t copy = {.kind = self->kind};
    int mdb_rc = mdb_env_create (&env);
    if (!mdb_rc)
        mdb_rc = mdb_env_set_maxdbs (env, S_MAX_DBS);
    if (!mdb_rc)
        mdb_rc = mdb_env_set_mapsize (env, (size_t) header->store_size);
    if (!mdb_rc)
        mdb_rc = mdb_env_open (env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS,
                               0600);
    int rc = mdb_rc? CP_EMALFORMED: s_read_meta (env, self, &copy);
    if (env)
        mdb_env_close (env);
    if (rc)
        return cp_error_why (CP_EMALFORMED, why, why_size, "its copy of the store does not "
                             "open as a %s store%s%s", self->name, mdb_rc? ": ": "",
                             mdb_rc? mdb_strerror (mdb_rc): "");
    if (strcmp (copy.format, header->format) || strcmp (copy.municipality, header->municipality))
        return cp_error_why (CP_EMALFORMED, why, why_size, "its copy of the store is of "
                             "\"%s\" %s, its header says \"%s\" %s", copy.format,
                             copy.municipality, header->format, header->municipality);
    return 0;
}

//  Puts the checked backup in file into dir/store: writes data.mdb.restore,
//  checks it, renames it over data.mdb.  Both locks are held.
static int
s_replace (FILE *file, const char *dir, const s_kind_t *self,
           const cp_backup_header_t *header, char *why, size_t why_size)
{
    char store [4096], temp [4096], data [4096];
    snprintf (store, sizeof store, "%s/store", dir);
    snprintf (temp, sizeof temp, "%s/store/data.mdb.restore", dir);
    snprintf (data, sizeof data, "%s/store/data.mdb", dir);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    int rc = s_check (file, header, fd, why, why_size);
    if (rc == 0 && fsync (fd))
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    if (close (fd) && rc == 0)
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", temp, strerror (errno));
    if (rc == 0)
        rc = s_check_copy (temp, self, header, why, why_size);
    if (rc == 0 && rename (temp, data))
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", data, strerror (errno));
    if (rc) {
        unlink (temp);
        return rc;
    }
    if (s_sync_dir (store))
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", store, strerror (errno));
    return 0;
}

int
cp_backup_restore (const char *path, const char *dir, cp_backup_kind_t kind,
                   cp_backup_header_t *header_out, char *why, size_t why_size)
{
    const s_kind_t *self = s_kind (kind);
    assert (self);
    cp_backup_header_t header;
    FILE *file = fopen (path, "rbe");
    if (!file)
        return cp_error_why (CP_EIO, why, why_size, "%s: %s", path, strerror (errno));
    int rc = cp_backup_verify (file, &header, why, why_size);
    if (rc == 0 && header.kind != kind)
        rc = cp_error_why (CP_EOTHERSTORE, why, why_size, "a backup of %s, not of a %s",
                           header.kind == CP_BACKUP_NODE? "a node": "the central", self->name);
    uint8_t mine [CP_BACKUP_FINGERPRINT_SIZE];
    if (rc == 0)
        rc = cp_backup_fingerprint (dir, kind, mine, why, why_size);
    int daemon = -1, store_lock = -1;
    if (rc == 0)
        rc = s_lock_daemon (dir, self, &daemon, why, why_size);
    if (rc == 0)
        rc = s_check_target (dir, self, &header, why, why_size);
    if (rc == 0 && sodium_memcmp (mine, header.fingerprint, sizeof mine))
        rc = cp_error_why (CP_EOTHERSTORE, why, why_size, "made under other keys than those "
                           "in %s/keys: a backup of another %s", dir, self->name);
    char store [4096];
    snprintf (store, sizeof store, "%s/store", dir);
    if (rc == 0 && cp_lmdb_make_dir (store))
        rc = cp_error_why (CP_EIO, why, why_size, "%s: %s", store, strerror (errno));
    if (rc == 0)
        rc = s_lock_store (dir, &store_lock, why, why_size);
    if (rc == 0)
        rc = s_replace (file, dir, self, &header, why, why_size);
    if (rc == 0) {
        //  The lock file still describes the old data file (its last
        //  transaction id, which picks the meta page): the first process to
        //  open the environment, alone, sets it up from the new one.  That
        //  is this one, holding the lock; a process waiting on it then
        //  finds it right.
        MDB_env *env = NULL;
        rc = cp_lmdb_open (&env, store, S_MAX_DBS, CP_LMDB_READONLY);
        if (rc)
            cp_error_why (rc, why, why_size, "the restored store in %s does not open", store);
        else
            mdb_env_close (env);
    }
    if (store_lock >= 0)
        close (store_lock);
    if (daemon >= 0)
        close (daemon);
    fclose (file);
    if (rc == 0 && header_out)
        *header_out = header;
    return rc;
}

void
cp_backup_describe (const cp_backup_header_t *header, char *buf, size_t size)
{
    char made [32] = "?";
    time_t seconds = (time_t) header->created;
    struct tm utc;
    if (gmtime_r (&seconds, &utc))
        strftime (made, sizeof made, "%Y-%m-%dT%H:%M:%SZ", &utc);
    if (header->kind == CP_BACKUP_NODE)
        snprintf (buf, size, "the node of %s (%s), made %s, %llu bytes of store",
                  header->municipality, header->format, made,
                  (unsigned long long) header->store_size);
    else
        snprintf (buf, size, "the central (%s), made %s, %llu bytes of store", header->format,
                  made, (unsigned long long) header->store_size);
}

int
cp_backup_run (const char *program, cp_backup_kind_t kind, bool backup, const char *dir,
               const char *file)
{
    char why [1024] = "", what [256];
    cp_backup_header_t header;
    int64_t started = zclock_mono ();
    if (backup) {
        //  The data file's size beside the copy's: what compaction saved.
        char data [4096];
        struct stat info;
        snprintf (data, sizeof data, "%s/store/data.mdb", dir);
        uint64_t before = stat (data, &info) == 0? (uint64_t) info.st_size: 0;
        int rc = cp_backup_write (dir, kind, file, &header, why, sizeof why);
        if (rc) {
            fprintf (stderr, "%s: backup: %s\n", program, why);
            return 2;
        }
        cp_backup_describe (&header, what, sizeof what);
        printf ("backed up %s to %s: %llu bytes (the data file is %llu) in %.2f s\n", what,
                file, (unsigned long long) (header.header_size + header.store_size
                                            + CP_BACKUP_CHECKSUM_SIZE),
                (unsigned long long) before, (zclock_mono () - started) / 1000.0);
        return 0;
    }
    int rc = cp_backup_restore (file, dir, kind, &header, why, sizeof why);
    if (rc) {
        fprintf (stderr, "%s: restore %s: %s\n", program, file, why);
        return rc == CP_EIO || rc == CP_ESTORE? 2: 1;
    }
    cp_backup_describe (&header, what, sizeof what);
    printf ("restored %s into %s in %.2f s\n", what, dir, (zclock_mono () - started) / 1000.0);
    return 0;
}

int
cp_backup_command (const char *program, cp_backup_kind_t kind, const char *command,
                   const char *dir, const char *out, const char *from)
{
    bool backup = strcmp (command, "backup") == 0;
    assert (backup || strcmp (command, "restore") == 0);
    if (!(backup? out: from))
        return cp_cli_usage_error (program, command, backup? "backup needs --out FILE"
                                                           : "restore needs --from FILE");
    return cp_backup_run (program, kind, backup, dir, backup? out: from);
}
