/*  cp_index_key: creating, loading and using the index key.  The file is a
    cp_keyfile, so it gets the same atomic write and the same refusals
    (another's permissions, another size) as every other secret key.       */

#include "cp_index_key.h"
#include "cp_error.h"
#include "cp_keyfile.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int
cp_index_key_create (const char *dir)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/keys", dir);
    if (cp_keyfile_mkdir (path))
        return CP_EIO;
    uint8_t *key = cp_keyfile_alloc (CP_INDEX_KEY_SIZE);
    if (!key)
        return CP_EIO;
    randombytes_buf (key, CP_INDEX_KEY_SIZE);
    snprintf (path, sizeof path, "%s/keys/index.key", dir);
    int rc = cp_keyfile_write (path, key, CP_INDEX_KEY_SIZE, false);
    cp_keyfile_free (&key);
    return rc;
}

uint8_t *
cp_index_key_read (const char *dir, int *error)
{
    char path [4096];
    snprintf (path, sizeof path, "%s/keys/index.key", dir);
    uint8_t *key = NULL;
    int rc = cp_keyfile_read (path, CP_INDEX_KEY_SIZE, &key);
    if (error)
        *error = rc;
    return rc? NULL: key;
}

uint8_t *
cp_index_key_load (const char *dir)
{
    return cp_index_key_read (dir, NULL);
}

void
cp_index_key_destroy (uint8_t **key_p)
{
    cp_keyfile_free (key_p);
}

void
cp_index_key_hash (const uint8_t *key, const char *text, uint8_t *out)
{
    crypto_shorthash_siphashx24 (out, (const uint8_t *) text, strlen (text), key);
}
