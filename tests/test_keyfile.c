/*  test_keyfile: secret key files of cp_keyfile.

    A key written and read back is the same key, in a file of mode 0600;
    a file that group or others may read or write (0644, 0640, 0660, 0604,
    0602) is refused with CP_EINSECURE, as are a directory and a FIFO (not
    regular files); a file of another size is CP_EMALFORMED, a missing one
    CP_EIO; writing over an existing key without replace is CP_EEXISTS and
    leaves the old key, with replace it swaps the key whole and leaves no
    temporary file behind.  Removing a key overwrites its bytes before the
    name goes (a hard link made beforehand sees zeros), leaves a symbolic
    link's target alone, and says ENOENT for a file not there.  And the
    set-up every command runs (cp_process_start) leaves the process unable
    to dump core and jansson wiping what it frees.  Each test works in its
    own temporary directory and removes it.                                 */

#define _XOPEN_SOURCE 700       //  nftw, mkdtemp

#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_process.h"
#include "testing.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_SIZE 32

static char s_dir [256];

static void
s_fresh_dir (void)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "  libsodium does not initialise\n");
        exit (1);
    }
    testing_fresh_dir ("test_keyfile", s_dir, sizeof s_dir);
}

static void
s_remove_dir (void)
{
    testing_remove_dir (s_dir);
}

static void
s_key (uint8_t *key, uint8_t base)
{
    for (int index = 0; index < S_SIZE; index++)
        key [index] = (uint8_t) (base + index);
}

//  Writes size bytes to path with plain stdio, then sets its mode.
static void
s_plain_file (const char *path, size_t size, mode_t mode)
{
    FILE *file = fopen (path, "wb");
    CHECK (file);
    if (!file)
        return;
    for (size_t index = 0; index < size; index++)
        fputc ((int) index, file);
    fclose (file);
    CHECK_EQ_INT (chmod (path, mode), 0);
}

//  Reads path as a key of S_SIZE bytes; returns the code and checks that a
//  failure leaves *key NULL.
static int
s_read (const char *path)
{
    uint8_t *key = (uint8_t *) "not touched";
    int rc = cp_keyfile_read (path, S_SIZE, &key);
    if (rc)
        CHECK (key == NULL);
    cp_keyfile_free (&key);
    CHECK (key == NULL);
    return rc;
}

//  Entries of s_dir (a leftover temporary file shows up here).
static int
s_entries (void)
{
    DIR *dir = opendir (s_dir);
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir)))
        count += strcmp (entry->d_name, ".") && strcmp (entry->d_name, "..");
    if (dir)
        closedir (dir);
    return count;
}

static void
test_round_trip (void)
{
    s_fresh_dir ();
    char path [300];
    snprintf (path, sizeof path, "%s/secret.key", s_dir);
    uint8_t key [S_SIZE];
    s_key (key, 7);
    CHECK_EQ_INT (cp_keyfile_write (path, key, S_SIZE, false), 0);
    struct stat info;
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK (S_ISREG (info.st_mode));
    CHECK_EQ_INT (info.st_mode & 07777, 0600);
    CHECK_EQ_INT (info.st_size, S_SIZE);
    CHECK_EQ_INT (s_entries (), 1);             //  no temporary left

    uint8_t *read = NULL;
    CHECK_EQ_INT (cp_keyfile_read (path, S_SIZE, &read), 0);
    CHECK (read && memcmp (read, key, S_SIZE) == 0);
    cp_keyfile_free (&read);
    CHECK (read == NULL);
    cp_keyfile_free (&read);                    //  safe twice
    cp_keyfile_free (NULL);

    //  The mode is 0600 whatever the umask says.
    mode_t saved = umask (0);
    snprintf (path, sizeof path, "%s/open-umask.key", s_dir);
    CHECK_EQ_INT (cp_keyfile_write (path, key, S_SIZE, false), 0);
    umask (saved);
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK_EQ_INT (info.st_mode & 07777, 0600);
    CHECK_EQ_INT (s_read (path), 0);
    s_remove_dir ();
}

static void
test_insecure (void)
{
    s_fresh_dir ();
    char path [300];
    static const mode_t modes [] = {0644, 0640, 0660, 0604, 0602, 0620, 0606, 0610, 0601};
    for (size_t at = 0; at < sizeof modes / sizeof modes [0]; at++) {
        snprintf (path, sizeof path, "%s/mode-%04o.key", s_dir, (unsigned) modes [at]);
        s_plain_file (path, S_SIZE, modes [at]);
        int rc = s_read (path);
        if (rc != CP_EINSECURE)
            fprintf (stderr, "  mode %04o\n", (unsigned) modes [at]);
        CHECK_EQ_INT (rc, CP_EINSECURE);
    }
    //  Owner-only modes pass.
    snprintf (path, sizeof path, "%s/mode-0400.key", s_dir);
    s_plain_file (path, S_SIZE, 0400);
    CHECK_EQ_INT (s_read (path), 0);
    snprintf (path, sizeof path, "%s/mode-0600.key", s_dir);
    s_plain_file (path, S_SIZE, 0600);
    CHECK_EQ_INT (s_read (path), 0);
    //  Insecure wins over a wrong size: the file must not be trusted at all.
    snprintf (path, sizeof path, "%s/both.key", s_dir);
    s_plain_file (path, S_SIZE + 1, 0644);
    CHECK_EQ_INT (s_read (path), CP_EINSECURE);
    s_remove_dir ();
}

static void
test_not_regular (void)
{
    s_fresh_dir ();
    char path [300];
    //  A directory, even a private one.
    snprintf (path, sizeof path, "%s/dir.key", s_dir);
    CHECK_EQ_INT (mkdir (path, 0700), 0);
    CHECK_EQ_INT (s_read (path), CP_EINSECURE);
    //  A FIFO: refused at once, not waited on.
    snprintf (path, sizeof path, "%s/fifo.key", s_dir);
    CHECK_EQ_INT (mkfifo (path, 0600), 0);
    CHECK_EQ_INT (s_read (path), CP_EINSECURE);
    //  A symbolic link to a good key is read through (the target is checked).
    char target [300];
    snprintf (target, sizeof target, "%s/target.key", s_dir);
    s_plain_file (target, S_SIZE, 0600);
    snprintf (path, sizeof path, "%s/link.key", s_dir);
    CHECK_EQ_INT (symlink (target, path), 0);
    CHECK_EQ_INT (s_read (path), 0);
    CHECK_EQ_INT (chmod (target, 0644), 0);
    CHECK_EQ_INT (s_read (path), CP_EINSECURE);
    s_remove_dir ();
}

static void
test_sizes (void)
{
    s_fresh_dir ();
    char path [300];
    static const size_t sizes [] = {0, 1, S_SIZE - 1, S_SIZE + 1, 64, 4096};
    for (size_t at = 0; at < sizeof sizes / sizeof sizes [0]; at++) {
        snprintf (path, sizeof path, "%s/size-%zu.key", s_dir, sizes [at]);
        s_plain_file (path, sizes [at], 0600);
        CHECK_EQ_INT (s_read (path), CP_EMALFORMED);
    }
    //  Missing: CP_EIO with errno ENOENT.
    snprintf (path, sizeof path, "%s/missing.key", s_dir);
    uint8_t *key = NULL;
    errno = 0;
    CHECK_EQ_INT (cp_keyfile_read (path, S_SIZE, &key), CP_EIO);
    CHECK_EQ_INT (errno, ENOENT);
    CHECK (key == NULL);
    //  A directory that does not exist.
    snprintf (path, sizeof path, "%s/nowhere/missing.key", s_dir);
    CHECK_EQ_INT (s_read (path), CP_EIO);
    s_remove_dir ();
}

static void
test_replace (void)
{
    s_fresh_dir ();
    char path [300];
    snprintf (path, sizeof path, "%s/secret.key", s_dir);
    uint8_t first [S_SIZE], second [S_SIZE];
    s_key (first, 1);
    s_key (second, 101);
    CHECK_EQ_INT (cp_keyfile_write (path, first, S_SIZE, false), 0);
    //  Without replace: refused, the old key stays, nothing is left over.
    CHECK_EQ_INT (cp_keyfile_write (path, second, S_SIZE, false), CP_EEXISTS);
    uint8_t *key = NULL;
    CHECK_EQ_INT (cp_keyfile_read (path, S_SIZE, &key), 0);
    CHECK (key && memcmp (key, first, S_SIZE) == 0);
    cp_keyfile_free (&key);
    CHECK_EQ_INT (s_entries (), 1);
    //  With replace: the new key, mode 0600, nothing left over.
    CHECK_EQ_INT (chmod (path, 0400), 0);
    CHECK_EQ_INT (cp_keyfile_write (path, second, S_SIZE, true), 0);
    CHECK_EQ_INT (cp_keyfile_read (path, S_SIZE, &key), 0);
    CHECK (key && memcmp (key, second, S_SIZE) == 0);
    cp_keyfile_free (&key);
    struct stat info;
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK_EQ_INT (info.st_mode & 07777, 0600);
    CHECK_EQ_INT (s_entries (), 1);
    //  Replace also makes a file that was not there.
    snprintf (path, sizeof path, "%s/fresh.key", s_dir);
    CHECK_EQ_INT (cp_keyfile_write (path, second, S_SIZE, true), 0);
    CHECK_EQ_INT (s_read (path), 0);
    //  A directory that does not exist: CP_EIO, nothing made.
    snprintf (path, sizeof path, "%s/nowhere/secret.key", s_dir);
    CHECK_EQ_INT (cp_keyfile_write (path, first, S_SIZE, false), CP_EIO);
    CHECK_EQ_INT (s_entries (), 2);
    s_remove_dir ();
}

static void
test_guarded_memory (void)
{
    s_fresh_dir ();
    uint8_t *key = cp_keyfile_alloc (S_SIZE);
    CHECK (key);
    if (key) {
        memset (key, 0x5A, S_SIZE);             //  writable until freed
        cp_keyfile_free (&key);
        CHECK (key == NULL);
    }
    //  mkdir: 0700, an existing directory is fine, a file in the way is not.
    char path [300];
    snprintf (path, sizeof path, "%s/keys", s_dir);
    CHECK_EQ_INT (cp_keyfile_mkdir (path), 0);
    struct stat info;
    CHECK_EQ_INT (stat (path, &info), 0);
    CHECK (S_ISDIR (info.st_mode));
    CHECK_EQ_INT (info.st_mode & 07777, 0700);
    CHECK_EQ_INT (cp_keyfile_mkdir (path), 0);
    snprintf (path, sizeof path, "%s/file", s_dir);
    s_plain_file (path, 1, 0600);
    CHECK_EQ_INT (cp_keyfile_mkdir (path), CP_EIO);
    s_remove_dir ();
}

//  A key removed is zeroed in its blocks first: a second name for the same
//  file, made before, reads zeros afterwards.
static void
test_remove (void)
{
    s_fresh_dir ();
    char path [300], other_name [300];
    snprintf (path, sizeof path, "%s/retired.key", s_dir);
    snprintf (other_name, sizeof other_name, "%s/same-inode", s_dir);
    uint8_t key [S_SIZE];
    s_key (key, 3);
    CHECK_EQ_INT (cp_keyfile_write (path, key, S_SIZE, false), 0);
    CHECK_EQ_INT (link (path, other_name), 0);
    CHECK_EQ_INT (cp_keyfile_remove (path), 0);
    struct stat info;
    CHECK (stat (path, &info) != 0 && errno == ENOENT);
    uint8_t *left = NULL, zeros [S_SIZE] = {0};
    CHECK_EQ_INT (cp_keyfile_read (other_name, S_SIZE, &left), 0);
    CHECK (left && memcmp (left, zeros, S_SIZE) == 0);
    cp_keyfile_free (&left);
    //  Not there: CP_EIO with ENOENT, which callers take as "removed before".
    errno = 0;
    CHECK_EQ_INT (cp_keyfile_remove (path), CP_EIO);
    CHECK_EQ_INT (errno, ENOENT);
    //  A symbolic link under the name: refused, its target untouched.
    char target [300];
    snprintf (target, sizeof target, "%s/target.key", s_dir);
    CHECK_EQ_INT (cp_keyfile_write (target, key, S_SIZE, false), 0);
    CHECK_EQ_INT (symlink (target, path), 0);
    CHECK_EQ_INT (cp_keyfile_remove (path), CP_EINSECURE);
    CHECK_EQ_INT (cp_keyfile_read (target, S_SIZE, &left), 0);
    CHECK (left && memcmp (left, key, S_SIZE) == 0);
    cp_keyfile_free (&left);
    CHECK (lstat (path, &info) == 0 && S_ISLNK (info.st_mode));
    s_remove_dir ();
}

//  What cp_process_start leaves: no core file whatever the limit was, the
//  process not dumpable, and jansson's memory wiped on free (its allocator
//  is no longer the C library's).
static void
test_process_start (void)
{
    struct rlimit core = {RLIM_INFINITY, RLIM_INFINITY};
    getrlimit (RLIMIT_CORE, &core);
    CHECK_EQ_INT (cp_process_start ("test_keyfile"), 0);
    CHECK_EQ_INT (getrlimit (RLIMIT_CORE, &core), 0);
    CHECK_EQ_INT (core.rlim_cur, 0);
    CHECK_EQ_INT (core.rlim_max, 0);
    CHECK_EQ_INT (prctl (PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    json_malloc_t malloc_function = NULL;
    json_free_t free_function = NULL;
    json_get_alloc_funcs (&malloc_function, &free_function);
    CHECK (malloc_function && malloc_function != malloc);
    CHECK (free_function && free_function != free);
    //  And it still works: a value made and freed through it.
    json_t *value = json_pack ("{s:s}", "secrets", "00112233");
    CHECK (value && strcmp (json_string_value (json_object_get (value, "secrets")),
                            "00112233") == 0);
    json_decref (value);
}

TESTING_MAIN (
    TEST (test_round_trip),
    TEST (test_insecure),
    TEST (test_not_regular),
    TEST (test_sizes),
    TEST (test_replace),
    TEST (test_guarded_memory),
    TEST (test_remove),
    TEST (test_process_start)
)
