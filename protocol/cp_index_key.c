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

//  Ids and pseudonyms are mostly numbered ("c-17-0041", "c-17-0042"): the
//  text without its last two characters is the stem that ids numbered
//  together share.  The index key of a text is the SipHash-2-4 of its stem
//  (under the key's second half) then that of the whole text (under its
//  first half), so that texts of one stem sort together: a batch of new
//  ids, or the cases a month's events touch, fall on a few neighbouring
//  pages of a store's tree instead of one page each anywhere in it.
void
cp_index_key_hash (const uint8_t *key, const char *text, uint8_t *out)
{
    size_t size = strlen (text);
    size_t stem = size > CP_INDEX_STEM_CUT? size - CP_INDEX_STEM_CUT: 0;
    crypto_shorthash_siphash24 (out, (const uint8_t *) text, stem,
                                key + crypto_shorthash_siphash24_KEYBYTES);
    crypto_shorthash_siphash24 (out + crypto_shorthash_siphash24_BYTES,
                                (const uint8_t *) text, size, key);
}
