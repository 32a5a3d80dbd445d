/*  cp_keyfile: secret key files on disk and in guarded memory.

    A secret key file holds the raw key bytes and nothing else, mode 0600,
    in a directory of mode 0700.  It is written whole or not at all (a
    temporary file, fsync, rename, fsync of the directory), so a crash
    leaves the old key or the new one, never half of one.

    Reading refuses a file that anyone but its owner may read or write
    (CP_EINSECURE), a file that is not a regular file, and a file of the
    wrong size: a daemon must not start with a key others may have seen.
    The key is read straight into sodium_malloc'd memory (guard pages,
    mlock'd where the system allows, wiped on free) and made read-only.  */

#ifndef CP_KEYFILE_H_INCLUDED
#define CP_KEYFILE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Writes size bytes of key to path (mode 0600), replacing any file there
//  when replace is true, else failing with CP_EEXISTS.  The directory must
//  exist.  Returns 0, CP_EEXISTS or CP_EIO (errno says why).
int
    cp_keyfile_write (const char *path, const uint8_t *key, size_t size, bool replace);

//  Reads a secret key file of exactly size bytes into new guarded memory
//  (*key; free with cp_keyfile_free).  Returns 0, CP_EIO (missing or
//  unreadable; errno says why), CP_EINSECURE (readable or writable by group
//  or others, or not a regular file) or CP_EMALFORMED (another size).
int
    cp_keyfile_read (const char *path, size_t size, uint8_t **key)
    __attribute__ ((warn_unused_result));

//  Allocates size bytes of guarded memory for a secret (NULL on failure).
uint8_t *
    cp_keyfile_alloc (size_t size);

//  Wipes and frees a key from cp_keyfile_read or cp_keyfile_alloc; accepts
//  NULL and clears the caller's pointer.
void
    cp_keyfile_free (uint8_t **key_p);

//  Creates dir with mode 0700 when it is missing.  Returns 0 or CP_EIO.
int
    cp_keyfile_mkdir (const char *dir);

//  Removes a secret key file whose key left service: its bytes are
//  overwritten with zeros and synced before the name goes, so the key does
//  not stay in blocks a file system rewrites in place.  (A copy-on-write
//  file system, a journal of data or an SSD's remapping may still keep an
//  old copy: full-disk encryption is what covers those.)  Returns 0,
//  CP_EIO (errno; ENOENT when there is no such file) or CP_EINSECURE (not
//  a regular file: left alone).
int
    cp_keyfile_remove (const char *path);

#endif
