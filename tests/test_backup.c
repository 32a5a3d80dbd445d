/*  test_backup: backup files of cp_backup.

    Known answers: a header's exact bytes, and the fingerprint of fixed keys
    (both computed on their own, with Python's hashlib, from the layout in
    cp_backup.h).  The reader against hostile files: every truncation and
    every flipped bit of a small backup is refused, as is a byte too many.
    Then stores made here (an LMDB environment with a node's or the
    central's meta, keys in DIR/keys): a backup restored into a directory
    holding the same keys gives the same records back, leaves no temporary
    file and is mode 0600; and a restore refused for each of its reasons --
    another kind, municipality or set of keys, no keys, a daemon's lock
    held, the environment open in another process, a copy that is no store
    -- leaves the target's data file byte for byte as it was.  Each test
    works in its own temporary directory under $CPSYNC_TEST_TMP (or /tmp)
    and removes it.                                                        */

#define _XOPEN_SOURCE 700       //  nftw, mkdtemp

#include "cp_backup.h"
#include "cp_error.h"
#include "cp_index_key.h"
#include "cp_keyfile.h"
#include "cp_lmdb.h"
#include "cp_seal.h"
#include "testing.h"

#include <assert.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_dir [256];

//  A test's own directory, s_dir; and libsodium, which the reader's
//  checksum uses.
static void
s_fresh_dir (void)
{
    testing_fresh_dir ("test_backup", s_dir, sizeof s_dir);
    CHECK (sodium_init () >= 0);
}

//  A path in the test's directory, into path (S_PATH bytes).
#define S_PATH 512
static void
s_path (char *path, const char *name)
{
    snprintf (path, S_PATH, "%s/%s", s_dir, name);
}

static void
s_hex (const char *hex, uint8_t *out, size_t size)
{
    for (size_t index = 0; index < size; index++)
        sscanf (hex + 2 * index, "%2hhx", &out [index]);
}

//  Reads a whole small file into a new buffer (*size bytes); NULL if not.
static uint8_t *
s_slurp (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    fseek (file, 0, SEEK_END);
    long length = ftell (file);
    fseek (file, 0, SEEK_SET);
    uint8_t *data = malloc (length > 0? (size_t) length: 1);
    *size = data? fread (data, 1, (size_t) length, file): 0;
    fclose (file);
    return data;
}

//  =====================================================================
//  The file alone

//  The header of the known answer.
static cp_backup_header_t
s_known_header (void)
{
    cp_backup_header_t header = {.kind = CP_BACKUP_NODE, .created = 1795000000,
                                 .store_size = 4096};
    strcpy (header.municipality, "tirane");
    strcpy (header.format, "cpsync-node 3");
    for (int index = 0; index < CP_BACKUP_FINGERPRINT_SIZE; index++)
        header.fingerprint [index] = (uint8_t) index;
    return header;
}

static void
test_header_known_answer (void)
{
    static const char *const expected =
        "435053594e43424b00014e060d000000000000006afd86c000000000000010000001020304050607"
        "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f746972616e65637073796e632d6e6f64"
        "652033";
    uint8_t want [83], got [CP_BACKUP_HEADER_MAX];
    s_hex (expected, want, sizeof want);
    cp_backup_header_t header = s_known_header ();
    CHECK_EQ_INT (cp_backup_header_encode (&header, got), sizeof want);
    CHECK (memcmp (got, want, sizeof want) == 0);
    cp_backup_header_t decoded;
    CHECK_EQ_INT (cp_backup_header_decode (want, sizeof want, &decoded, NULL, 0), 0);
    CHECK_EQ_INT (decoded.header_size, sizeof want);
    CHECK_EQ_INT (decoded.kind, CP_BACKUP_NODE);
    CHECK (strcmp (decoded.municipality, "tirane") == 0);
    CHECK (strcmp (decoded.format, "cpsync-node 3") == 0);
    CHECK_EQ_INT (decoded.created, 1795000000);
    CHECK_EQ_INT (decoded.store_size, 4096);
    CHECK (memcmp (decoded.fingerprint, header.fingerprint, CP_BACKUP_FINGERPRINT_SIZE) == 0);
}

//  A small backup around size bytes of "store", with its checksum.
static uint8_t *
s_small_backup (size_t store_size, size_t *size)
{
    cp_backup_header_t header = s_known_header ();
    header.store_size = store_size;
    uint8_t *data = malloc (CP_BACKUP_HEADER_MAX + store_size + CP_BACKUP_CHECKSUM_SIZE);
    assert (data);
    size_t used = cp_backup_header_encode (&header, data);
    for (size_t index = 0; index < store_size; index++)
        data [used++] = (uint8_t) (index * 37);
    crypto_generichash (data + used, CP_BACKUP_CHECKSUM_SIZE, data, used, NULL, 0);
    *size = used + CP_BACKUP_CHECKSUM_SIZE;
    return data;
}

static int
s_verify_bytes (const uint8_t *data, size_t size)
{
    FILE *file = fmemopen ((void *) data, size, "rb");
    assert (file);
    cp_backup_header_t header;
    char why [256] = "";
    int rc = cp_backup_verify (file, &header, why, sizeof why);
    fclose (file);
    if (rc && !why [0])
        return 1;               //  a refusal without a reason fails the test
    return rc;
}

static void
test_reader_hostile (void)
{
    s_fresh_dir ();
    size_t size;
    uint8_t *data = s_small_backup (300, &size);
    CHECK_EQ_INT (s_verify_bytes (data, size), 0);
    //  Every truncation: the header's own complaint, or "truncated".
    int passed = 0;
    for (size_t cut = 1; cut < size; cut++)
        passed += s_verify_bytes (data, cut) == 0;
    CHECK_EQ_INT (passed, 0);
    CHECK_EQ_INT (s_verify_bytes (data, 40), CP_EMALFORMED);
    CHECK_EQ_INT (s_verify_bytes (data, size - 1), CP_EMALFORMED);
    //  Every flipped bit; in the store or the checksum it is CP_EAUTH.
    int flips_passed = 0, store_flips = 0;
    for (size_t at = 0; at < size; at++)
        for (int bit = 0; bit < 8; bit++) {
            data [at] ^= (uint8_t) (1 << bit);
            int rc = s_verify_bytes (data, size);
            flips_passed += rc == 0;
            store_flips += at >= 83 && rc != CP_EAUTH;
            data [at] ^= (uint8_t) (1 << bit);
        }
    CHECK_EQ_INT (flips_passed, 0);
    CHECK_EQ_INT (store_flips, 0);
    //  A byte too many, another version, a store over the limit.
    uint8_t *longer = malloc (size + 1);
    memcpy (longer, data, size);
    longer [size] = 0;
    CHECK_EQ_INT (s_verify_bytes (longer, size + 1), CP_EMALFORMED);
    free (longer);
    data [9] = 2;
    CHECK_EQ_INT (s_verify_bytes (data, size), CP_EVERSION);
    data [9] = 1;
    cp_put_u64 (data + 24, CP_BACKUP_STORE_MAX + 1);
    CHECK_EQ_INT (s_verify_bytes (data, size), CP_ETOOBIG);
    free (data);
    testing_remove_dir (s_dir);
}

//  =====================================================================
//  Stores

//  Writes the keys of a store of kind to dir/keys: the sealing key and
//  the index key, bytes from base on.
static void
s_keys (const char *dir, cp_backup_kind_t kind, uint8_t base)
{
    char path [512];
    snprintf (path, sizeof path, "%s/keys", dir);
    CHECK_EQ_INT (cp_lmdb_make_dir (path), 0);
    uint8_t key [32];
    for (int index = 0; index < 32; index++)
        key [index] = (uint8_t) (base + index);
    snprintf (path, sizeof path, "%s/keys/%s", dir,
              kind == CP_BACKUP_NODE? "data.key": "storage.key");
    CHECK_EQ_INT (cp_keyfile_write (path, key, CP_SEAL_KEY_SIZE, true), 0);
    for (int index = 0; index < 32; index++)
        key [index] = (uint8_t) (base + 32 + index);
    snprintf (path, sizeof path, "%s/keys/index.key", dir);
    CHECK_EQ_INT (cp_keyfile_write (path, key, CP_INDEX_KEY_SIZE, true), 0);
}

//  Makes a data directory name in the test's directory (its path into dir,
//  S_PATH bytes): a store with meta as a store of kind has it, and records
//  "record N" → "value N / name" in a database "data" (many commits, so
//  that the store's transaction id is well past a copy's); and keys from
//  key_base on.
static void
s_store (const char *name, cp_backup_kind_t kind, const char *municipality, uint8_t key_base,
         char *dir)
{
    char path [600];
    s_path (dir, name);
    CHECK_EQ_INT (cp_lmdb_make_dir (dir), 0);
    snprintf (path, sizeof path, "%s/store", dir);
    MDB_env *env = NULL;
    CHECK_EQ_INT (cp_lmdb_open (&env, path, 4, CP_LMDB_CREATE), 0);
    for (int round = 0; round < 20; round++) {
        MDB_txn *txn;
        MDB_dbi meta, data;
        CHECK_EQ_INT (mdb_txn_begin (env, NULL, 0, &txn), 0);
        CHECK_EQ_INT (mdb_dbi_open (txn, "meta", MDB_CREATE, &meta), 0);
        CHECK_EQ_INT (mdb_dbi_open (txn, "data", MDB_CREATE, &data), 0);
        cp_lmdb_put_text (txn, meta, "format", kind == CP_BACKUP_NODE? "cpsync-node 3"
                                                                   : "cpsync-central 2");
        if (municipality)
            cp_lmdb_put_text (txn, meta, "municipality", municipality);
        for (int record = round * 50; record < round * 50 + 50; record++) {
            char key [32], value [64];
            snprintf (key, sizeof key, "record %d", record);
            snprintf (value, sizeof value, "value %d / %s", record, name);
            CHECK_EQ_INT (cp_lmdb_put_text (txn, data, key, value), 0);
        }
        CHECK_EQ_INT (mdb_txn_commit (txn), 0);
    }
    mdb_env_close (env);
    s_keys (dir, kind, key_base);
}

//  Reads "record N" of dir's store into value; 0 or LMDB's code.
static int
s_record (const char *dir, int record, char *value, size_t size)
{
    char path [512];
    snprintf (path, sizeof path, "%s/store", dir);
    MDB_env *env = NULL;
    if (cp_lmdb_open (&env, path, 4, CP_LMDB_READONLY))
        return -1;
    MDB_txn *txn;
    MDB_dbi data;
    char key [32];
    snprintf (key, sizeof key, "record %d", record);
    int rc = mdb_txn_begin (env, NULL, MDB_RDONLY, &txn);
    if (!rc) {
        rc = mdb_dbi_open (txn, "data", 0, &data);
        if (!rc)
            rc = cp_lmdb_get_text (txn, data, key, value, size);
        mdb_txn_abort (txn);
    }
    mdb_env_close (env);
    return rc;
}

static void
test_fingerprint (void)
{
    s_fresh_dir ();
    char node [S_PATH], central [S_PATH];
    s_path (node, "node");
    s_path (central, "central");
    uint8_t fingerprint [CP_BACKUP_FINGERPRINT_SIZE], other [CP_BACKUP_FINGERPRINT_SIZE];
    uint8_t expected [CP_BACKUP_FINGERPRINT_SIZE];
    s_hex ("9c75b17be2192c5c1012db59740cb1e4bdfec27d0ed74f479bee7b255c9d1481", expected,
           sizeof expected);
    char why [512] = "";
    //  No keys yet: named, and not enrolled.
    CHECK_EQ_INT (cp_lmdb_make_dir (node), 0);
    CHECK_EQ_INT (cp_backup_fingerprint (node, CP_BACKUP_NODE, fingerprint, why, sizeof why),
                  CP_ENOTENROLLED);
    CHECK_STR_CONTAINS (why, "keys/data.key");
    s_keys (node, CP_BACKUP_NODE, 0);
    CHECK_EQ_INT (cp_backup_fingerprint (node, CP_BACKUP_NODE, fingerprint, NULL, 0), 0);
    CHECK (memcmp (fingerprint, expected, sizeof expected) == 0);
    //  The central's sealing key is storage.key; the same bytes, the same answer.
    s_keys (central, CP_BACKUP_CENTRAL, 0);
    CHECK_EQ_INT (cp_backup_fingerprint (central, CP_BACKUP_CENTRAL, other, NULL, 0), 0);
    CHECK (memcmp (other, expected, sizeof expected) == 0);
    //  Either key changed, another fingerprint.
    s_keys (central, CP_BACKUP_CENTRAL, 1);
    CHECK_EQ_INT (cp_backup_fingerprint (central, CP_BACKUP_CENTRAL, other, NULL, 0), 0);
    CHECK (memcmp (other, expected, sizeof expected) != 0);
    char path [600];
    uint8_t key [32] = {0};
    snprintf (path, sizeof path, "%s/keys/index.key", node);
    CHECK_EQ_INT (cp_keyfile_write (path, key, sizeof key, true), 0);
    CHECK_EQ_INT (cp_backup_fingerprint (node, CP_BACKUP_NODE, other, NULL, 0), 0);
    CHECK (memcmp (other, expected, sizeof expected) != 0);
    //  A key others may read is refused, as the daemons refuse it.
    CHECK_EQ_INT (chmod (path, 0644), 0);
    CHECK_EQ_INT (cp_backup_fingerprint (node, CP_BACKUP_NODE, other, NULL, 0), CP_EINSECURE);
    testing_remove_dir (s_dir);
}

static void
test_round_trip (void)
{
    s_fresh_dir ();
    char source [S_PATH], target [S_PATH], file [S_PATH], path [600];
    s_store ("source", CP_BACKUP_NODE, "tirane", 7, source);
    s_store ("target", CP_BACKUP_NODE, "tirane", 7, target);
    s_path (file, "node.backup");
    cp_backup_header_t written, restored;
    char why [512] = "";
    CHECK_EQ_INT (cp_backup_write (source, CP_BACKUP_NODE, file, &written, why, sizeof why), 0);
    struct stat info;
    CHECK (stat (file, &info) == 0 && (info.st_mode & 0777) == 0600);
    CHECK (info.st_size == (off_t) (written.header_size + written.store_size + 32));
    snprintf (path, sizeof path, "%s.tmp", file);
    CHECK (access (path, F_OK) != 0);
    CHECK (strcmp (written.municipality, "tirane") == 0);
    CHECK (strcmp (written.format, "cpsync-node 3") == 0);

    char value [64] = "";
    CHECK_EQ_INT (s_record (target, 999, value, sizeof value), 0);
    CHECK (strcmp (value, "value 999 / target") == 0);
    CHECK_EQ_INT (cp_backup_restore (file, target, CP_BACKUP_NODE, &restored, why, sizeof why),
                  0);
    CHECK (memcmp (&restored, &written, sizeof written) == 0);
    CHECK_EQ_INT (s_record (target, 999, value, sizeof value), 0);
    CHECK (strcmp (value, "value 999 / source") == 0);
    CHECK_EQ_INT (s_record (target, 0, value, sizeof value), 0);
    CHECK (strcmp (value, "value 0 / source") == 0);
    snprintf (path, sizeof path, "%s/store/data.mdb.restore", target);
    CHECK (access (path, F_OK) != 0);
    //  Onto a directory with the keys and no store: the store is made.
    char bare [S_PATH];
    s_path (bare, "bare");
    s_keys (bare, CP_BACKUP_NODE, 7);
    CHECK_EQ_INT (cp_backup_restore (file, bare, CP_BACKUP_NODE, NULL, why, sizeof why), 0);
    CHECK_EQ_INT (s_record (bare, 500, value, sizeof value), 0);
    CHECK (strcmp (value, "value 500 / source") == 0);
    //  No store to back up.
    s_path (path, "nothing");
    s_keys (path, CP_BACKUP_NODE, 7);
    CHECK_EQ_INT (cp_backup_write (path, CP_BACKUP_NODE, file, NULL, why, sizeof why),
                  CP_ENOTNODE);
    CHECK_EQ_INT (cp_backup_write (source, CP_BACKUP_CENTRAL, file, NULL, why, sizeof why),
                  CP_ENOTENROLLED);     //  a node has no storage.key
    testing_remove_dir (s_dir);
}

//  Tries a restore that must be refused with code and a reason holding
//  part; the target's data file must stay as it was.
static void
s_refused (const char *file, const char *target, cp_backup_kind_t kind, int code,
           const char *part)
{
    char data [600], why [512] = "";
    snprintf (data, sizeof data, "%s/store/data.mdb", target);
    size_t before_size = 0, after_size = 0;
    uint8_t *before = s_slurp (data, &before_size);
    CHECK_EQ_INT (cp_backup_restore (file, target, kind, NULL, why, sizeof why), code);
    CHECK_STR_CONTAINS (why, part);
    uint8_t *after = s_slurp (data, &after_size);
    CHECK (before && after && before_size == after_size
           && memcmp (before, after, before_size) == 0);
    snprintf (data, sizeof data, "%s/store/data.mdb.restore", target);
    CHECK (access (data, F_OK) != 0);
    free (before);
    free (after);
}

static void
test_restore_refused (void)
{
    s_fresh_dir ();
    char tirane [S_PATH], durres [S_PATH], central [S_PATH], other [S_PATH];
    char tirane_file [S_PATH], durres_file [S_PATH], central_file [S_PATH], junk_file [S_PATH];
    s_store ("tirane", CP_BACKUP_NODE, "tirane", 1, tirane);
    s_store ("durres", CP_BACKUP_NODE, "durres", 1, durres);   //  the same keys: only the code differs
    s_store ("central", CP_BACKUP_CENTRAL, NULL, 1, central);
    s_store ("other", CP_BACKUP_NODE, "tirane", 2, other);
    s_path (tirane_file, "tirane.backup");
    s_path (durres_file, "durres.backup");
    s_path (central_file, "central.backup");
    s_path (junk_file, "junk.backup");
    CHECK_EQ_INT (cp_backup_write (tirane, CP_BACKUP_NODE, tirane_file, NULL, NULL, 0), 0);
    CHECK_EQ_INT (cp_backup_write (durres, CP_BACKUP_NODE, durres_file, NULL, NULL, 0), 0);
    CHECK_EQ_INT (cp_backup_write (central, CP_BACKUP_CENTRAL, central_file, NULL, NULL, 0), 0);

    s_refused (central_file, tirane, CP_BACKUP_NODE, CP_EOTHERSTORE, "not of a node");
    s_refused (tirane_file, central, CP_BACKUP_CENTRAL, CP_EOTHERSTORE, "not of a central");
    s_refused (durres_file, tirane, CP_BACKUP_NODE, CP_EOTHERSTORE, "node of durres");
    s_refused (tirane_file, other, CP_BACKUP_NODE, CP_EOTHERSTORE, "other keys");
    char path [600];
    snprintf (path, sizeof path, "%s/keys/data.key", other);
    CHECK_EQ_INT (unlink (path), 0);
    s_refused (tirane_file, other, CP_BACKUP_NODE, CP_ENOTENROLLED, "keys/data.key");

    //  A daemon's lock held (flock: per open file, so this process conflicts too).
    snprintf (path, sizeof path, "%s/run.lock", tirane);
    int lock = open (path, O_RDWR | O_CREAT, 0600);
    CHECK (lock >= 0 && flock (lock, LOCK_EX | LOCK_NB) == 0);
    s_refused (tirane_file, tirane, CP_BACKUP_NODE, CP_EBUSY, "cpsync-node run");
    close (lock);
    //  The environment open in another process.
    int ready [2], done [2];
    CHECK (pipe (ready) == 0 && pipe (done) == 0);
    pid_t child = fork ();
    if (child == 0) {
        char store [600], byte = 0;
        snprintf (store, sizeof store, "%s/store", tirane);
        MDB_env *env = NULL;
        int rc = cp_lmdb_open (&env, store, 4, CP_LMDB_READONLY);
        ssize_t ignored = write (ready [1], &rc, sizeof rc);
        ignored = read (done [0], &byte, 1);
        (void) ignored;
        _exit (0);
    }
    int child_rc = -1;
    CHECK (read (ready [0], &child_rc, sizeof child_rc) == sizeof child_rc && child_rc == 0);
    s_refused (tirane_file, tirane, CP_BACKUP_NODE, CP_EBUSY, "open in another process");
    CHECK (write (done [1], "x", 1) == 1);
    waitpid (child, NULL, 0);
    close (ready [0]); close (ready [1]); close (done [0]); close (done [1]);

    //  A checksum that matches around a copy that is no store.
    size_t size;
    uint8_t *data = s_small_backup (8192, &size);
    FILE *file = fopen (junk_file, "wb");
    CHECK (file && fwrite (data, 1, size, file) == size);
    fclose (file);
    free (data);
    uint8_t fingerprint [CP_BACKUP_FINGERPRINT_SIZE];
    CHECK_EQ_INT (cp_backup_fingerprint (tirane, CP_BACKUP_NODE, fingerprint, NULL, 0), 0);
    data = s_slurp (junk_file, &size);
    memcpy (data + 32, fingerprint, sizeof fingerprint);
    crypto_generichash (data + size - 32, 32, data, size - 32, NULL, 0);
    file = fopen (junk_file, "wb");
    CHECK (file && fwrite (data, 1, size, file) == size);
    fclose (file);
    free (data);
    s_refused (junk_file, tirane, CP_BACKUP_NODE, CP_EMALFORMED, "does not open");

    //  After all that, the right backup goes in.
    char value [64] = "";
    CHECK_EQ_INT (cp_backup_restore (tirane_file, tirane, CP_BACKUP_NODE, NULL, NULL, 0), 0);
    CHECK_EQ_INT (s_record (tirane, 3, value, sizeof value), 0);
    CHECK (strcmp (value, "value 3 / tirane") == 0);
    testing_remove_dir (s_dir);
}

TESTING_MAIN (
    TEST (test_header_known_answer),
    TEST (test_reader_hostile),
    TEST (test_fingerprint),
    TEST (test_round_trip),
    TEST (test_restore_refused)
)
