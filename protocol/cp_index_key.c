/*  cp_index_key: creating, loading and using the index key.               */

#include "cp_index_key.h"
#include "cp_error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
cp_index_key_create (const char *dir)
{
    if (sodium_init () < 0)
        return CP_EIO;
    char path [4096];
    snprintf (path, sizeof path, "%s/keys", dir);
    if (mkdir (path, 0700) && errno != EEXIST)
        return CP_EIO;
    snprintf (path, sizeof path, "%s/keys/index.key", dir);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return errno == EEXIST? CP_EEXISTS: CP_EIO;
    uint8_t key [CP_INDEX_KEY_SIZE];
    randombytes_buf (key, sizeof key);
    ssize_t written = write (fd, key, sizeof key);
    sodium_memzero (key, sizeof key);
    int rc = (written == (ssize_t) sizeof key && fsync (fd) == 0)? 0: CP_EIO;
    close (fd);
    return rc;
}

uint8_t *
cp_index_key_load (const char *dir)
{
    if (sodium_init () < 0)     //  sodium_malloc needs it; repeating it is free
        return NULL;
    char path [4096];
    snprintf (path, sizeof path, "%s/keys/index.key", dir);
    int fd = open (path, O_RDONLY);
    if (fd < 0)
        return NULL;
    uint8_t *key = sodium_malloc (CP_INDEX_KEY_SIZE);
    ssize_t got = key? read (fd, key, CP_INDEX_KEY_SIZE): -1;
    close (fd);
    if (got != CP_INDEX_KEY_SIZE) {
        if (key)
            sodium_free (key);
        return NULL;
    }
    sodium_mprotect_readonly (key);
    return key;
}

void
cp_index_key_destroy (uint8_t **key_p)
{
    if (key_p && *key_p) {
        sodium_free (*key_p);   //  wipes the pages before unmapping them
        *key_p = NULL;
    }
}

void
cp_index_key_hash (const uint8_t *key, const char *text, uint8_t *out)
{
    crypto_shorthash_siphashx24 (out, (const uint8_t *) text, strlen (text), key);
}
