/*  node_keys: a node's keys, as enrolled.

    Layout under DIR/keys (directory 0700, files 0600):
        index.key       the index key (cp_index_key), made by init
        data.key        the data-at-rest key (cp_seal), made by init
        root.pub        the root key pinned at the first enrolment (32 bytes)
        node.bundle     the newest bundle installed (cp_enrolment, with the
                        node's secret keys): written whole, then renamed
        central.keys    the newest announcement of the central's keys, if
                        newer than the bundle's

    Installing a file (cpsync-node enrol) verifies it against the pinned
    root (pinning it at the first enrolment), refuses a bundle of another
    municipality (CP_EUSAGE), a file older than the one held (CP_EROLLBACK)
    and a file of a serial held that tells of other keys (CP_EKEYCONFLICT),
    and replaces the file atomically; a running node sees the change
    (node_keys_changed) and reloads without a restart.

    Loading verifies both files again, refuses secret files that others may
    read (CP_EINSECURE), checks that the secrets match the public keys of
    the bundle, and keeps the secrets in guarded memory.  The central's keys
    are those of whichever file has the higher serial.                      */

#ifndef NODE_KEYS_H_INCLUDED
#define NODE_KEYS_H_INCLUDED

#include "cp_enrolment.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _node_keys_t node_keys_t;

//  Installs a bundle or an announcement (text, size bytes) into the node in
//  dir, which belongs to municipality.  A file identical to the one of its
//  kind already held is already installed (0, nothing written); any other
//  file whose serial is lower than the highest serial held is refused, and
//  so is one whose serial is that of a file held but whose keys are not
//  (cp_enrolment_same_keys).
//  Creates DIR/keys when missing; pins the file's root when none is pinned.
//  Returns 0 or CP_EAUTH, CP_EMALFORMED, CP_ETOOBIG, CP_EBADID, CP_EUSAGE (a
//  bundle of another municipality, or an announcement before any bundle),
//  CP_EROLLBACK, CP_EKEYCONFLICT, CP_EIO; why says more.  A held file that no longer loads
//  (changed on disk, readable by others) is not overwritten: its code is
//  returned, and why says to remove it by hand.
int
    node_keys_install (const char *dir, const char *municipality, const char *text,
                       size_t size, char *why, size_t why_size);

//  Loads the node's keys.  Returns NULL with *error CP_ENOTENROLLED (no
//  bundle, or no root.pub to verify it with: enrolling again restores it),
//  CP_EINSECURE, CP_EAUTH, CP_EMALFORMED or CP_EIO.
node_keys_t *
    node_keys_load (const char *dir, int *error);

//  Wipes and frees; accepts NULL, clears the caller's pointer.
void
    node_keys_destroy (node_keys_t **self_p);

//  The enrolment in force: the node's keys from the bundle, the central's
//  from the newer of bundle and announcement (borrowed).  Its serial,
//  endpoint and municipality are the bundle's.
const cp_enrolment_t *
    node_keys_enrolment (node_keys_t *self);

//  The node's secrets, CP_SECRETS_SIZE bytes laid out as cp_enrolment.h
//  says (borrowed, guarded memory).
const uint8_t *
    node_keys_secrets (node_keys_t *self);

//  True when the files under dir changed since self was loaded (a cheap
//  stat of both): time to load again.
bool
    node_keys_changed (node_keys_t *self);

#endif
