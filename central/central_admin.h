/*  central_admin: the key ceremonies of cpsync-admin, on a central's data
    directory.

    Every operation generates keys with libsodium, writes the central's
    secrets to DIR/keys (cp_keyfile, 0600) and the public halves to the
    store's key table, and, where a node must learn of it, returns a file
    signed by the root key (cp_enrolment): a bundle for one node or an
    announcement for all.  A change that depends on what the table holds
    (enrol, rotate, revoke) reads and writes it in one write transaction
    (central_store_keys_edit), so commands run at the same time, from any
    number of processes, cannot undo each other: a revocation that commits
    while a rotation runs holds.  Each change raises the key serial: a
    running central reloads its table within a poll interval.

    The root secret is read from root_secret (a path; NULL means
    DIR/keys/root.secret) for as long as a command takes, so an
    administrator can keep it on removable media.  It is read and checked
    before anything changes: a missing or wrong root changes nothing.

    Secrets are generated in guarded memory and wiped on every path.  The
    returned bundle text holds a node's secrets: the caller writes it to a
    0600 file, wipes it (sodium_memzero) and frees it.                     */

#ifndef CENTRAL_ADMIN_H_INCLUDED
#define CENTRAL_ADMIN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CENTRAL_ADMIN_GRACE_DEFAULT (30 * 86400)    //  seconds an old key stays valid

//  Sets up a central in dir: the store (central_store_create), the root
//  signing key (secret to root_secret, or DIR/keys/root.secret), the
//  transport key and the data key.  Returns 0, CP_EEXISTS, CP_ECATALOGUE,
//  CP_EUSAGE, CP_EIO or CP_ESTORE, with why.
int
    central_admin_init (const char *dir, const char *listen, int catalogue,
                        const char *root_secret, char *why, size_t why_size);

//  Enrols municipality (rotate false: it must have no valid node keys, else
//  CP_EEXISTS) or rotates its node keys (rotate true: the old ones stay
//  valid for grace seconds, then expire: every one of them).  *bundle gets
//  the node's bundle (the caller's).  endpoint may be NULL: the central's
//  listen endpoint.  Returns 0, CP_EUNKNOWNPEER (no such municipality),
//  CP_EEXISTS, CP_ENOTENROLLED (a rotation of a municipality with no valid
//  keys: never enrolled, revoked or expired), CP_EAUTH (a root secret that
//  is not this central's: nothing changed), or a store, file or key error,
//  with why.
int
    central_admin_enrol (const char *dir, const char *root_secret, const char *municipality,
                         const char *endpoint, bool rotate, int64_t grace, char **bundle,
                         char *why, size_t why_size);

//  Rotates the central's transport key (transport true) or data key.  A
//  new data key is current at once and the old one keeps opening batches
//  for grace seconds; a new transport key is announced now and served from
//  now + grace on, when the old one expires (grace 0: at once, for a key
//  that leaked).  Every valid key of the kind ends then, however many.
//  *announcement gets the signed announcement (the caller's).  Returns 0
//  or an error, with why.  The root secret is checked first; a rotation
//  that cannot be stored leaves the key table as it was and removes the
//  new key's secret file again.
int
    central_admin_rotate_central (const char *dir, const char *root_secret, bool transport,
                                  int64_t grace, char **announcement, char *why,
                                  size_t why_size);

//  Revokes what names: a municipality code (every key of its node, however
//  many, expired ones included) or a key id, in one write transaction.
//  Takes effect in a running central within a poll interval.  Refuses the
//  root key and the central's only valid transport or data key
//  (CP_ELASTKEY: why says to rotate it first).  Returns 0 (why says how
//  many keys), CP_EUNKNOWNKEY (nothing of that name that is not revoked
//  already), CP_ELASTKEY or a store error.
int
    central_admin_revoke (const char *dir, const char *what, char *why, size_t why_size);

//  Removes the secret files of the central's own transport and data keys
//  that have expired or were revoked (DIR/keys/transport-ID.secret,
//  data-ID.secret; cp_keyfile_remove overwrites them first): a key out of
//  service is of no use to the central and of use to whoever copies the
//  directory.  The root secret, keys still in service and announced keys
//  are left.  An expired data key's secret opens no batch any more: the
//  archive keeps each batch's envelope key sealed under the storage key.
//  *removed gets the count, why the kinds and ids removed (or the first
//  error; the other files are still tried).  Returns 0, CP_EIO,
//  CP_EINSECURE (something other than a regular file under the name: left
//  alone), CP_ENOTCENTRAL or CP_ESTORE.
int
    central_admin_prune (const char *dir, size_t *removed, char *why, size_t why_size);

//  The current announcement of the central's keys (*announcement, the
//  caller's), for nodes that missed one.
int
    central_admin_announcement (const char *dir, const char *root_secret, char **announcement,
                                char *why, size_t why_size);

//  Publishes a downlink entry: checks the root secret (root_secret, or
//  DIR/keys/root.secret), then central_store_downlink_publish.  address is
//  "all", "county:CODE" or a municipality's CODE.  Returns 0 with *seq, or
//  an error with why.
int
    central_admin_publish (const char *dir, const char *root_secret, int kind,
                           const char *address, const uint8_t *body, size_t size,
                           uint64_t *seq, char *why, size_t why_size);

//  Parses a duration: N (days), Nd, Nh, Nm or Ns.  Returns -1 when it is
//  not one.
int64_t
    central_admin_duration (const char *text);

#endif
