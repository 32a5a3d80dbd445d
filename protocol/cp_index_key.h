/*  cp_index_key: the secret that keys a store's indexes.

    Event ids and case pseudonyms are case data, so a store never uses them
    as LMDB keys: it uses a keyed hash of them, two SipHash-2-4 (a PRF) under
    a random key kept in DIR/keys/index.key, mode 0600, outside the store,
    so that the store alone reveals no id: the hash of the id's stem (all
    but its last two characters), then the hash of the whole id.  Ids
    numbered together so sort together, and a store's writes stay local
    (docs/design.md, "Scale").  In memory the key lives in sodium_malloc'd,
    read-only pages.                                                        */

#ifndef CP_INDEX_KEY_H_INCLUDED
#define CP_INDEX_KEY_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define CP_INDEX_KEY_SIZE 32        //  stored: two SipHash keys (ids, stems)
#define CP_INDEX_HASH_SIZE 16
#define CP_INDEX_STEM_CUT 2         //  an id's stem: all but its last this many characters

//  Writes a new random key to DIR/keys/index.key (0600, atomically; DIR/keys
//  made 0700 when missing).  Returns 0, CP_EEXISTS when there is one, or
//  CP_EIO.
int
    cp_index_key_create (const char *dir);

//  Loads DIR/keys/index.key into guarded, read-only memory; NULL when it is
//  missing, unreadable, readable or writable by others than its owner, or
//  of the wrong size.  Free with cp_index_key_destroy.
uint8_t *
    cp_index_key_load (const char *dir);

//  cp_index_key_load with the reason of a NULL in *error (when not NULL):
//  CP_EIO (missing or unreadable; errno says why), CP_EINSECURE or
//  CP_EMALFORMED, as cp_keyfile_read says.
uint8_t *
    cp_index_key_read (const char *dir, int *error);

void
    cp_index_key_destroy (uint8_t **key_p);

//  The index key of text: CP_INDEX_HASH_SIZE bytes into out, the hash of
//  its stem then of itself.
void
    cp_index_key_hash (const uint8_t *key, const char *text, uint8_t *out);

#endif
