/*  cp_seal: XChaCha20-Poly1305 (IETF) for values at rest, libsodium's.

    XChaCha20-Poly1305 is ChaCha20-Poly1305 (IETF) under a subkey that
    HChaCha20 derives from the key and the first 16 bytes of the nonce,
    with the other 8 bytes as the nonce (after 4 zero bytes).  Our nonces
    share their first 16 bytes for a whole write transaction, so the sealer
    derives that subkey once, at cp_seal_renew, and each seal skips a
    ChaCha block: about a quarter of the cost of sealing a small value,
    on the import's hot path.  The bytes are exactly XChaCha20-Poly1305's
    (the tests check them against the draft's vector and against
    libsodium's own function).  Opening does the same split: the values a
    node reads mostly carry the prefixes of a few recent transactions, so
    the sealer keeps the subkeys of the last few prefixes it met (which
    makes cp_seal_open a one-thread affair); a central reading the cases
    of a long history misses there often, so a miss must stay cheap.

    The key and the subkey live in sodium_malloc'd pages, read-only except
    while renew writes the subkey; the subkeys kept for opening stay
    writable, since a miss there is frequent (s_open_subkey says why).

    A batch cuts its jobs, all filled in before it starts, into blocks of
    a cp_parallel_t loop: its helper seals with the twin, a second sealer
    of the same key with its own prefix and counter, the caller's thread
    with the sealer itself.                                                        */

#include "cp_seal.h"
#include "cp_error.h"
#include "cp_parallel.h"

#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_VERSION 1
#define S_PREFIX_SIZE 16
#define S_COUNTER_SIZE 8
#define S_MANY_MIN 1024         //  values that pay for starting a helper thread
#define S_MANY_BLOCK 64         //  values taken at a time
#define S_OPEN_KEYS 8           //  subkeys of recent prefixes kept for opening

struct _cp_seal_t {
    uint8_t *key;               //  the data key: guarded, read-only
    uint8_t *subkey;            //  HChaCha20 (key, prefix): guarded, read-only but at renew
    uint8_t prefix [S_PREFIX_SIZE];     //  the nonces' first 16 bytes
    uint64_t counter;           //  the next nonce's last 8 bytes, big-endian
    cp_seal_t *twin;            //  same key, own prefix: a batch's helper seals with it
    //  Opening: the subkeys of the prefixes met last (the values a store
    //  reads were mostly sealed by a few recent transactions).
    uint8_t *open_subkeys;      //  S_OPEN_KEYS subkeys: guarded, left writable (below)
    uint8_t open_prefixes [S_OPEN_KEYS][S_PREFIX_SIZE];
    size_t open_count;          //  slots filled
    size_t open_next;           //  the slot a miss fills (round robin)
};

//  Derives the subkey of the current prefix.
static void
s_derive (cp_seal_t *self)
{
    sodium_mprotect_readwrite (self->subkey);
    crypto_core_hchacha20 (self->subkey, self->prefix, self->key, NULL);
    sodium_mprotect_readonly (self->subkey);
}

//  A sealer of key whose first nonce is nonce; no twin.
static cp_seal_t *
s_new (const uint8_t *key, const uint8_t *nonce)
{
    if (sodium_init () < 0)     //  sodium_malloc needs it; repeating it is free
        return NULL;
    cp_seal_t *self = calloc (1, sizeof (cp_seal_t));
    if (!self)
        return NULL;
    self->key = sodium_malloc (CP_SEAL_KEY_SIZE);
    self->subkey = sodium_malloc (crypto_aead_chacha20poly1305_ietf_KEYBYTES);
    self->open_subkeys = sodium_allocarray (S_OPEN_KEYS,
                                            crypto_aead_chacha20poly1305_ietf_KEYBYTES);
    if (!self->key || !self->subkey || !self->open_subkeys) {
        cp_seal_destroy (&self);
        return NULL;
    }
    memcpy (self->key, key, CP_SEAL_KEY_SIZE);
    sodium_mprotect_readonly (self->key);
    memcpy (self->prefix, nonce, S_PREFIX_SIZE);
    self->counter = 0;
    for (int index = 0; index < S_COUNTER_SIZE; index++)
        self->counter = self->counter << 8 | nonce [S_PREFIX_SIZE + index];
    s_derive (self);
    return self;
}

cp_seal_t *
cp_seal_new_fixed (const uint8_t *key, const uint8_t *nonce)
{
    cp_seal_t *self = s_new (key, nonce);
    if (self) {
        //  The twin's prefix is random even here: only the first sealer's
        //  nonces are fixed, the twin's must never collide with them.
        uint8_t random [CP_SEAL_NONCE_SIZE];
        randombytes_buf (random, sizeof random);
        self->twin = s_new (key, random);
        if (self->twin)
            cp_seal_renew (self->twin);
        else
            cp_seal_destroy (&self);
    }
    return self;
}

cp_seal_t *
cp_seal_new (const uint8_t *key)
{
    uint8_t nonce [CP_SEAL_NONCE_SIZE] = {0};
    cp_seal_t *self = cp_seal_new_fixed (key, nonce);
    if (self)
        cp_seal_renew (self);
    return self;
}

void
cp_seal_destroy (cp_seal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_seal_t *self = *self_p;
    cp_seal_destroy (&self->twin);
    if (self->key)
        sodium_free (self->key);        //  wipes the pages before unmapping them
    if (self->subkey)
        sodium_free (self->subkey);
    if (self->open_subkeys)
        sodium_free (self->open_subkeys);
    sodium_memzero (self, sizeof *self);
    free (self);
    *self_p = NULL;
}

void
cp_seal_renew (cp_seal_t *self)
{
    randombytes_buf (self->prefix, S_PREFIX_SIZE);
    self->counter = 0;
    s_derive (self);
    if (self->twin)
        cp_seal_renew (self->twin);
}

void
cp_seal_seal (cp_seal_t *self, const uint8_t *ad, size_t ad_size,
              const uint8_t *plain, size_t plain_size, uint8_t *sealed)
{
    //  A 64-bit counter renewed with each transaction cannot wrap in practice;
    //  if it ever did, a nonce would repeat, so that is fatal.
    assert (self->counter != UINT64_MAX);
    uint8_t *nonce = sealed + 1;
    sealed [0] = S_VERSION;
    memcpy (nonce, self->prefix, S_PREFIX_SIZE);
    uint64_t counter = self->counter++;
    for (int index = S_COUNTER_SIZE - 1; index >= 0; index--) {
        nonce [S_PREFIX_SIZE + index] = (uint8_t) counter;
        counter >>= 8;
    }
    //  The IETF nonce of the derived key: four zero bytes, then the counter.
    uint8_t inner [crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {0};
    memcpy (inner + 4, nonce + S_PREFIX_SIZE, S_COUNTER_SIZE);
    crypto_aead_chacha20poly1305_ietf_encrypt (sealed + 1 + CP_SEAL_NONCE_SIZE, NULL, plain,
                                               plain_size, ad, ad_size, NULL, inner,
                                               self->subkey);
}

//  =====================================================================
//  Many values on two threads

struct _cp_seal_batch_t {
    cp_parallel_t *loop;        //  the blocks of jobs, on two threads
    cp_seal_job_t *jobs;        //  the caller's
    cp_seal_t *seal;            //  the caller's sealer
};

//  Seals jobs first to end - 1: the helper with the twin, the caller with
//  the sealer itself, so that the two never share a nonce.
static void
s_seal_jobs (void *args, size_t first, size_t end, bool helper)
{
    cp_seal_batch_t *self = args;
    cp_seal_t *seal = helper? self->seal->twin: self->seal;
    for (size_t index = first; index < end; index++) {
        cp_seal_job_t *job = &self->jobs [index];
        cp_seal_seal (seal, job->ad, job->ad_size, job->plain, job->plain_size, job->sealed);
    }
}

cp_seal_batch_t *
cp_seal_batch_new (cp_seal_t *self, cp_seal_job_t *jobs, size_t count)
{
    assert (self->twin);
    cp_seal_batch_t *batch = calloc (1, sizeof (cp_seal_batch_t));
    assert (batch);
    batch->jobs = jobs;
    batch->seal = self;
    batch->loop = cp_parallel_new (count, S_MANY_BLOCK, 0, count >= S_MANY_MIN, s_seal_jobs,
                                  batch);
    return batch;
}

bool
cp_seal_batch_next (cp_seal_batch_t *self, size_t *first, size_t *end)
{
    return cp_parallel_next (self->loop, first, end);
}

void
cp_seal_batch_destroy (cp_seal_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_parallel_destroy (&(*self_p)->loop);     //  joins the helper
    free (*self_p);
    *self_p = NULL;
}

void
cp_seal_many (cp_seal_t *self, cp_seal_job_t *jobs, size_t count)
{
    cp_seal_batch_t *batch = cp_seal_batch_new (self, jobs, count);
    size_t first, end;
    while (cp_seal_batch_next (batch, &first, &end))
        continue;                       //  each run comes back sealed
    cp_seal_batch_destroy (&batch);
}

//  The subkey of prefix for opening: kept, or derived into the next slot.
static const uint8_t *
s_open_subkey (cp_seal_t *self, const uint8_t *prefix)
{
    const size_t size = crypto_aead_chacha20poly1305_ietf_KEYBYTES;
    for (size_t slot = 0; slot < self->open_count; slot++)
        if (memcmp (self->open_prefixes [slot], prefix, S_PREFIX_SIZE) == 0)
            return self->open_subkeys + slot * size;
    size_t slot = self->open_next;
    self->open_next = (slot + 1) % S_OPEN_KEYS;
    if (self->open_count < S_OPEN_KEYS)
        self->open_count++;
    memcpy (self->open_prefixes [slot], prefix, S_PREFIX_SIZE);
    //  No mprotect around the write: it costs a TLB flush on every core
    //  the process runs on, and a store reading cases sealed by many past
    //  transactions misses here at nearly every read (a quarter of the
    //  central's time in a catch-up, growing with the store).  The page
    //  stays locked and between guard pages, as sodium_malloc made it.
    crypto_core_hchacha20 (self->open_subkeys + slot * size, prefix, self->key, NULL);
    return self->open_subkeys + slot * size;
}

int
cp_seal_open (cp_seal_t *self, const uint8_t *ad, size_t ad_size,
              const uint8_t *sealed, size_t sealed_size, uint8_t *plain)
{
    if (sealed_size < CP_SEAL_OVERHEAD || sealed [0] != S_VERSION)
        return CP_EMALFORMED;
    const uint8_t *nonce = sealed + 1;
    const uint8_t *cipher = nonce + CP_SEAL_NONCE_SIZE;
    size_t cipher_size = sealed_size - 1 - CP_SEAL_NONCE_SIZE;
    //  XChaCha20-Poly1305's open, with the HChaCha20 step from the cache.
    uint8_t inner [crypto_aead_chacha20poly1305_ietf_NPUBBYTES] = {0};
    memcpy (inner + 4, nonce + S_PREFIX_SIZE, S_COUNTER_SIZE);
    if (crypto_aead_chacha20poly1305_ietf_decrypt (plain, NULL, NULL, cipher, cipher_size,
                                                   ad, ad_size, inner,
                                                   s_open_subkey (self, nonce)) != 0) {
        sodium_memzero (plain, sealed_size - CP_SEAL_OVERHEAD);
        return CP_EAUTH;
    }
    return 0;
}
