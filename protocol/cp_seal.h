/*  cp_seal: case data sealed at rest.

    A store seals every value that holds case data (a node's log blocks
    and case histories, the central's case histories) with
    XChaCha20-Poly1305 under the store's data key, a random 32-byte key in
    a cp_keyfile (mode 0600) beside the store, never in it: a node's
    DIR/keys/data.key, the central's DIR/keys/storage.key.
    The record's LMDB key (with a byte naming its database) is the
    associated data, so a sealed value cannot be moved to another record
    without the open failing.

    A sealed value is: version byte (1), nonce (24 bytes), ciphertext, tag
    (16 bytes).  Nonces are a 16-byte random prefix, drawn when the sealer
    is made and again at cp_seal_renew, followed by a 64-bit counter, so
    one call to the random source serves a whole write transaction and no
    two values ever share a nonce.

    Sealing costs a few hundred nanoseconds a value, which adds up when a
    commit writes tens of thousands of case records, so a batch
    (cp_seal_batch_t) seals many values on a helper thread while the
    caller takes the sealed values in order and puts them (LMDB's write
    transaction belongs to one thread; sealing does not need it).  The
    helper seals with the sealer's twin: the same key, its own nonce prefix
    (drawn and renewed with the first's), so the two never share a nonce
    either.                                                                */

#ifndef CP_SEAL_H_INCLUDED
#define CP_SEAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_SEAL_KEY_SIZE 32
#define CP_SEAL_NONCE_SIZE 24           //  16-byte prefix, 64-bit counter
#define CP_SEAL_OVERHEAD (1 + 24 + 16)  //  version, nonce, tag
#define CP_SEAL_AD_MAX 40               //  associated data of a cp_seal_job_t

typedef struct _cp_seal_t cp_seal_t;

//  A sealer with a copy of key (CP_SEAL_KEY_SIZE bytes) in guarded memory.
//  Returns NULL when memory or the random source fails.
cp_seal_t *
    cp_seal_new (const uint8_t *key);

//  For known-answer tests only: a sealer whose first nonce is nonce
//  (CP_SEAL_NONCE_SIZE bytes: the prefix, then the counter big-endian)
//  instead of a random one, until cp_seal_renew.  Never seal stored data
//  with it: two such sealers would use one nonce twice.
cp_seal_t *
    cp_seal_new_fixed (const uint8_t *key, const uint8_t *nonce);

//  Wipes and frees; accepts NULL, clears the caller's pointer.
void
    cp_seal_destroy (cp_seal_t **self_p);

//  Draws fresh nonce prefixes, the sealer's and its twin's (call at the
//  start of a write transaction).
void
    cp_seal_renew (cp_seal_t *self);

//  Seals plain (plain_size bytes) with ad as associated data into sealed,
//  which has room for plain_size + CP_SEAL_OVERHEAD bytes.
void
    cp_seal_seal (cp_seal_t *self, const uint8_t *ad, size_t ad_size,
                  const uint8_t *plain, size_t plain_size, uint8_t *sealed);

//  One value of a batch.
typedef struct {
    uint8_t ad [CP_SEAL_AD_MAX];    //  the associated data, ad_size bytes
    size_t ad_size;
    const uint8_t *plain;           //  plain_size bytes (borrowed)
    size_t plain_size;
    uint8_t *sealed;                //  room for plain_size + CP_SEAL_OVERHEAD
} cp_seal_job_t;

typedef struct _cp_seal_batch_t cp_seal_batch_t;

//  A batch of count jobs, each sealed as cp_seal_seal would.  When count
//  is large enough to pay for a thread, a helper seals them from the first
//  on, with the twin, while the caller goes on.  The jobs and the bytes
//  they point to are shared with the helper: the caller must not touch
//  them until cp_seal_batch_next hands them back or the batch is
//  destroyed.  No sealing with self meanwhile but through the batch.
cp_seal_batch_t *
    cp_seal_batch_new (cp_seal_t *self, cp_seal_job_t *jobs, size_t count);

//  The next run of jobs, in order, sealed: jobs [*first] to jobs [*end - 1].
//  The caller's thread seals what the helper has not taken, and waits for
//  what the helper is sealing.  Returns false when every job has been
//  handed back.
bool
    cp_seal_batch_next (cp_seal_batch_t *self, size_t *first, size_t *end);

//  Stops the helper (jobs not handed back yet may stay unsealed), waits
//  for it and frees the batch; accepts NULL, clears the caller's pointer.
void
    cp_seal_batch_destroy (cp_seal_batch_t **self_p);

//  Seals count jobs through a batch and returns when all are sealed.
void
    cp_seal_many (cp_seal_t *self, cp_seal_job_t *jobs, size_t count);

//  Opens sealed (sealed_size bytes) into plain (sealed_size -
//  CP_SEAL_OVERHEAD bytes).  Not thread-safe: it caches subkeys in the
//  sealer, so open on one thread (the store's).  Returns 0, CP_EMALFORMED (shorter than the
//  overhead, or an unknown version) or CP_EAUTH (wrong key, record or
//  bytes; plain is wiped).
int
    cp_seal_open (cp_seal_t *self, const uint8_t *ad, size_t ad_size,
                  const uint8_t *sealed, size_t sealed_size, uint8_t *plain)
    __attribute__ ((warn_unused_result));

#endif
