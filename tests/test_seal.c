/*  test_seal: values sealed at rest by cp_seal.

    The known answer is the AEAD_XChaCha20_Poly1305 vector of
    draft-irtf-cfrg-xchacha (appendix A.3.1), sealed through a sealer whose
    first nonce is the draft's, so the bytes after our version byte and
    nonce must be the draft's ciphertext and tag.  Every other seal is
    checked against libsodium's crypto_aead_xchacha20poly1305_ietf_encrypt
    with the nonce the value carries (the sealer derives its subkey once
    per prefix; libsodium derives it per call: they must agree).  Then the
    hostile cases: every flipped bit, every truncation, an extension, a
    wrong associated data or key — each refused, the output wiped — and
    nonces that never repeat, within a prefix and across renewals.  Last,
    batches sealed on two threads: handed back in order, each run sealed,
    no nonce twice between the threads.                                  */

#include "cp_error.h"
#include "cp_seal.h"
#include "testing.h"

#include <assert.h>
#include <sodium.h>

static void
s_hex (const char *hex, uint8_t *out, size_t size)
{
    for (size_t index = 0; index < size; index++)
        sscanf (hex + 2 * index, "%2hhx", &out [index]);
}

static void
s_init (void)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "  libsodium does not initialise\n");
        exit (1);
    }
}

//  A sealer of a random key (written to key); NULL (and a failed check)
//  when it cannot be made.
static cp_seal_t *
s_random_seal (uint8_t *key)
{
    s_init ();
    randombytes_buf (key, CP_SEAL_KEY_SIZE);
    cp_seal_t *seal = cp_seal_new (key);
    CHECK (seal);
    return seal;
}

//  The draft's vector (A.3.1).
static const char s_kat_plain [] = "Ladies and Gentlemen of the class of '99: If I could offer "
                                   "you only one tip for the future, sunscreen would be it.";
#define S_KAT_SIZE (sizeof s_kat_plain - 1)
static const char *const s_kat_key =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char *const s_kat_nonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
static const char *const s_kat_ad = "50515253c0c1c2c3c4c5c6c7";
static const char *const s_kat_cipher =
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e";
static const char *const s_kat_tag = "c0875924c1c7987947deafd8780acf49";

//  Checks sealed (of plain_size bytes) against libsodium's own XChaCha20
//  under key with the nonce it carries.
static void
s_check_libsodium (const uint8_t *key, const uint8_t *ad, size_t ad_size,
                   const uint8_t *plain, size_t plain_size, const uint8_t *sealed)
{
    uint8_t *expected = malloc (plain_size + 16);
    assert (expected);
    unsigned long long expected_size = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (expected, &expected_size, plain, plain_size,
                                                ad, ad_size, NULL, sealed + 1, key);
    CHECK_EQ_INT (expected_size, plain_size + 16);
    CHECK_EQ_INT (sealed [0], 1);
    CHECK (memcmp (sealed + 1 + CP_SEAL_NONCE_SIZE, expected, plain_size + 16) == 0);
    free (expected);
}

static void
test_known_answer (void)
{
    s_init ();
    uint8_t key [CP_SEAL_KEY_SIZE], nonce [CP_SEAL_NONCE_SIZE], ad [12];
    uint8_t cipher [S_KAT_SIZE], tag [16];
    s_hex (s_kat_key, key, sizeof key);
    s_hex (s_kat_nonce, nonce, sizeof nonce);
    s_hex (s_kat_ad, ad, sizeof ad);
    s_hex (s_kat_cipher, cipher, sizeof cipher);
    s_hex (s_kat_tag, tag, sizeof tag);
    cp_seal_t *seal = cp_seal_new_fixed (key, nonce);
    CHECK (seal);
    if (!seal)
        return;
    uint8_t sealed [S_KAT_SIZE + CP_SEAL_OVERHEAD];
    cp_seal_seal (seal, ad, sizeof ad, (const uint8_t *) s_kat_plain, S_KAT_SIZE, sealed);
    //  Version, the draft's nonce, the draft's ciphertext, the draft's tag.
    CHECK_EQ_INT (sealed [0], 1);
    CHECK (memcmp (sealed + 1, nonce, CP_SEAL_NONCE_SIZE) == 0);
    CHECK (memcmp (sealed + 1 + CP_SEAL_NONCE_SIZE, cipher, S_KAT_SIZE) == 0);
    CHECK (memcmp (sealed + 1 + CP_SEAL_NONCE_SIZE + S_KAT_SIZE, tag, 16) == 0);
    uint8_t plain [S_KAT_SIZE];
    CHECK_EQ_INT (cp_seal_open (seal, ad, sizeof ad, sealed, sizeof sealed, plain), 0);
    CHECK (memcmp (plain, s_kat_plain, S_KAT_SIZE) == 0);

    //  The next seal takes the next counter: ...5657 + 1 = ...5658.
    uint8_t next [S_KAT_SIZE + CP_SEAL_OVERHEAD];
    cp_seal_seal (seal, ad, sizeof ad, (const uint8_t *) s_kat_plain, S_KAT_SIZE, next);
    nonce [CP_SEAL_NONCE_SIZE - 1]++;
    CHECK (memcmp (next + 1, nonce, CP_SEAL_NONCE_SIZE) == 0);
    s_check_libsodium (key, ad, sizeof ad, (const uint8_t *) s_kat_plain, S_KAT_SIZE, next);
    //  The counter carries into the next bytes, big-endian.
    uint8_t carry [CP_SEAL_NONCE_SIZE];
    memcpy (carry, nonce, sizeof carry);
    memset (carry + 16, 0, 8);
    carry [22] = 0x00;
    carry [23] = 0xFF;
    cp_seal_t *carrying = cp_seal_new_fixed (key, carry);
    CHECK (carrying);
    if (carrying) {
        cp_seal_seal (carrying, ad, sizeof ad, (const uint8_t *) s_kat_plain, 10, next);
        cp_seal_seal (carrying, ad, sizeof ad, (const uint8_t *) s_kat_plain, 10, next);
        CHECK_EQ_INT (next [1 + 22], 0x01);
        CHECK_EQ_INT (next [1 + 23], 0x00);
        CHECK (memcmp (next + 1, carry, 16) == 0);
        s_check_libsodium (key, ad, sizeof ad, (const uint8_t *) s_kat_plain, 10, next);
        cp_seal_destroy (&carrying);
    }
    cp_seal_destroy (&seal);
    CHECK (seal == NULL);
    cp_seal_destroy (&seal);                    //  safe twice
    cp_seal_destroy (NULL);
}

//  Seals of every size that matters, with random prefixes, open again and
//  agree with libsodium; renew changes the prefix.
static void
test_round_trip (void)
{
    uint8_t key [CP_SEAL_KEY_SIZE];
    cp_seal_t *seal = s_random_seal (key);
    if (!seal)
        return;
    static const size_t sizes [] = {0, 1, 15, 16, 17, 63, 64, 65, 200, 1000, 65536};
    uint8_t *plain = malloc (65536), *sealed = malloc (65536 + CP_SEAL_OVERHEAD);
    uint8_t *opened = malloc (65536 + 1);
    assert (plain && sealed && opened);
    randombytes_buf (plain, 65536);
    uint8_t ad [17] = {'C'};
    randombytes_buf (ad + 1, 16);
    uint8_t prefix [16] = {0};
    for (int round = 0; round < 3; round++) {
        for (size_t at = 0; at < sizeof sizes / sizeof sizes [0]; at++) {
            size_t size = sizes [at];
            cp_seal_seal (seal, ad, sizeof ad, plain, size, sealed);
            s_check_libsodium (key, ad, sizeof ad, plain, size, sealed);
            memset (opened, 0xAA, 65536 + 1);
            CHECK_EQ_INT (cp_seal_open (seal, ad, sizeof ad, sealed, size + CP_SEAL_OVERHEAD,
                                        opened), 0);
            CHECK (memcmp (opened, plain, size) == 0);
            CHECK_EQ_INT (opened [size], 0xAA);         //  nothing past the plaintext
            //  Counter from 0 within a prefix.
            CHECK_EQ_INT (sealed [1 + 23], at);
            if (at == 0) {
                CHECK (memcmp (prefix, sealed + 1, 16) != 0);
                memcpy (prefix, sealed + 1, 16);
            }
            else
                CHECK (memcmp (prefix, sealed + 1, 16) == 0);
        }
        cp_seal_renew (seal);
    }
    //  An empty associated data is allowed too.
    cp_seal_seal (seal, NULL, 0, plain, 40, sealed);
    CHECK_EQ_INT (cp_seal_open (seal, NULL, 0, sealed, 40 + CP_SEAL_OVERHEAD, opened), 0);
    CHECK (memcmp (opened, plain, 40) == 0);
    //  Another sealer with the same key opens what this one sealed.
    cp_seal_t *other = cp_seal_new (key);
    CHECK (other);
    if (other) {
        CHECK_EQ_INT (cp_seal_open (other, NULL, 0, sealed, 40 + CP_SEAL_OVERHEAD, opened), 0);
        cp_seal_destroy (&other);
    }
    free (plain);
    free (sealed);
    free (opened);
    cp_seal_destroy (&seal);
}

#define S_PLAIN_SIZE 48
#define S_SEALED_SIZE (S_PLAIN_SIZE + CP_SEAL_OVERHEAD)

//  Opens and returns the code; on failure checks that the output is wiped.
static int
s_open (cp_seal_t *seal, const uint8_t *ad, size_t ad_size, const uint8_t *sealed,
        size_t size)
{
    uint8_t plain [S_SEALED_SIZE + 64];
    memset (plain, 0xAA, sizeof plain);
    int rc = cp_seal_open (seal, ad, ad_size, sealed, size, plain);
    if (rc == CP_EAUTH)
        for (size_t index = 0; index < size - CP_SEAL_OVERHEAD; index++)
            if (plain [index]) {
                CHECK (!"plaintext left after a failed open");
                break;
            }
    return rc;
}

static void
test_hostile (void)
{
    uint8_t key [CP_SEAL_KEY_SIZE], plain [S_PLAIN_SIZE], sealed [S_SEALED_SIZE + 1];
    cp_seal_t *seal = s_random_seal (key);
    if (!seal)
        return;
    randombytes_buf (plain, sizeof plain);
    uint8_t ad [9] = {'L', 0, 0, 0, 0, 0, 0, 0, 42};
    cp_seal_seal (seal, ad, sizeof ad, plain, sizeof plain, sealed);
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE), 0);

    //  Every flipped bit: the version byte is an unknown version, any
    //  other byte fails authentication.
    size_t wrong = 0;
    for (size_t bit = 0; bit < S_SEALED_SIZE * 8; bit++) {
        sealed [bit / 8] ^= (uint8_t) (1 << bit % 8);
        int rc = s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE);
        wrong += rc != (bit < 8? CP_EMALFORMED: CP_EAUTH);
        sealed [bit / 8] ^= (uint8_t) (1 << bit % 8);
    }
    CHECK_EQ_INT (wrong, 0);
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE), 0);
    //  Every truncation: too short to be sealed, or failing authentication.
    wrong = 0;
    for (size_t size = 0; size < S_SEALED_SIZE; size++) {
        int rc = s_open (seal, ad, sizeof ad, sealed, size);
        wrong += rc != (size < CP_SEAL_OVERHEAD? CP_EMALFORMED: CP_EAUTH);
    }
    CHECK_EQ_INT (wrong, 0);
    //  An extension.
    sealed [S_SEALED_SIZE] = 0;
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE + 1), CP_EAUTH);
    //  Another record (each bit of the associated data), another database,
    //  a shorter or longer or empty associated data.
    wrong = 0;
    for (size_t bit = 0; bit < sizeof ad * 8; bit++) {
        ad [bit / 8] ^= (uint8_t) (1 << bit % 8);
        wrong += s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE) != CP_EAUTH;
        ad [bit / 8] ^= (uint8_t) (1 << bit % 8);
    }
    CHECK_EQ_INT (wrong, 0);
    uint8_t other_db [9];
    memcpy (other_db, ad, sizeof ad);
    other_db [0] = 'C';
    CHECK_EQ_INT (s_open (seal, other_db, sizeof other_db, sealed, S_SEALED_SIZE), CP_EAUTH);
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad - 1, sealed, S_SEALED_SIZE), CP_EAUTH);
    CHECK_EQ_INT (s_open (seal, NULL, 0, sealed, S_SEALED_SIZE), CP_EAUTH);
    uint8_t longer [10];
    memcpy (longer, ad, sizeof ad);
    longer [9] = 0;
    CHECK_EQ_INT (s_open (seal, longer, sizeof longer, sealed, S_SEALED_SIZE), CP_EAUTH);
    //  Another key.
    uint8_t other_key [CP_SEAL_KEY_SIZE];
    memcpy (other_key, key, sizeof key);
    other_key [31] ^= 1;
    cp_seal_t *other = cp_seal_new (other_key);
    CHECK (other);
    if (other) {
        CHECK_EQ_INT (s_open (other, ad, sizeof ad, sealed, S_SEALED_SIZE), CP_EAUTH);
        cp_seal_destroy (&other);
    }
    //  Another version, even with everything else intact.
    sealed [0] = 2;
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE), CP_EMALFORMED);
    sealed [0] = 0;
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE), CP_EMALFORMED);
    sealed [0] = 1;
    CHECK_EQ_INT (s_open (seal, ad, sizeof ad, sealed, S_SEALED_SIZE), 0);
    cp_seal_destroy (&seal);
}

static int
s_compare_nonce (const void *a, const void *b)
{
    return memcmp (a, b, CP_SEAL_NONCE_SIZE);
}

//  Many seals, renewed now and then as a store does per transaction, and a
//  second sealer of the same key (another process): no nonce twice.
static void
test_nonces_unique (void)
{
    s_init ();
    enum { S_SEALS = 200000, S_PER_RENEW = 1000 };
    uint8_t key [CP_SEAL_KEY_SIZE];
    randombytes_buf (key, sizeof key);
    cp_seal_t *seals [2] = {cp_seal_new (key), cp_seal_new (key)};
    CHECK (seals [0] && seals [1]);
    if (!seals [0] || !seals [1])
        return;
    uint8_t *nonces = malloc ((size_t) S_SEALS * CP_SEAL_NONCE_SIZE);
    assert (nonces);
    uint8_t plain [8] = {0}, sealed [8 + CP_SEAL_OVERHEAD];
    for (size_t index = 0; index < S_SEALS; index++) {
        cp_seal_t *seal = seals [index % 2];
        if (index % (2 * S_PER_RENEW) < 2)
            cp_seal_renew (seal);
        cp_seal_seal (seal, NULL, 0, plain, sizeof plain, sealed);
        memcpy (nonces + index * CP_SEAL_NONCE_SIZE, sealed + 1, CP_SEAL_NONCE_SIZE);
    }
    qsort (nonces, S_SEALS, CP_SEAL_NONCE_SIZE, s_compare_nonce);
    size_t repeats = 0, prefixes = 1;
    for (size_t index = 1; index < S_SEALS; index++) {
        const uint8_t *at = nonces + index * CP_SEAL_NONCE_SIZE;
        repeats += memcmp (at - CP_SEAL_NONCE_SIZE, at, CP_SEAL_NONCE_SIZE) == 0;
        prefixes += memcmp (at - CP_SEAL_NONCE_SIZE, at, 16) != 0;
    }
    CHECK_EQ_INT (repeats, 0);
    //  One prefix per renewal (of either sealer), never one shared.
    CHECK_EQ_INT (prefixes, S_SEALS / S_PER_RENEW);
    free (nonces);
    cp_seal_destroy (&seals [0]);
    cp_seal_destroy (&seals [1]);
}

//  A batch of count jobs of varied sizes; ad 'L' and the index, big-endian.
typedef struct {
    cp_seal_job_t *jobs;
    uint8_t *plain;
    uint8_t *sealed;
    size_t count;
} s_jobs_t;

static s_jobs_t
s_jobs_new (size_t count)
{
    s_jobs_t jobs = {calloc (count, sizeof (cp_seal_job_t)), NULL, NULL, count};
    size_t plain_total = 0;
    for (size_t index = 0; index < count; index++)
        plain_total += index % 201;
    jobs.plain = malloc (plain_total + 1);
    jobs.sealed = malloc (plain_total + count * CP_SEAL_OVERHEAD);
    assert (jobs.jobs && jobs.plain && jobs.sealed);
    randombytes_buf (jobs.plain, plain_total + 1);
    size_t plain_at = 0, sealed_at = 0;
    for (size_t index = 0; index < count; index++) {
        cp_seal_job_t *job = &jobs.jobs [index];
        job->ad [0] = 'L';
        for (int byte = 0; byte < 8; byte++)
            job->ad [1 + byte] = (uint8_t) ((uint64_t) index >> (56 - 8 * byte));
        job->ad_size = 9;
        job->plain = jobs.plain + plain_at;
        job->plain_size = index % 201;
        job->sealed = jobs.sealed + sealed_at;
        plain_at += job->plain_size;
        sealed_at += job->plain_size + CP_SEAL_OVERHEAD;
    }
    return jobs;
}

static void
s_jobs_free (s_jobs_t *jobs)
{
    free (jobs->jobs);
    free (jobs->plain);
    free (jobs->sealed);
}

//  Opens job index of jobs as sealed; returns cp_seal_open's code.
static int
s_job_open (cp_seal_t *seal, const s_jobs_t *jobs, size_t index)
{
    const cp_seal_job_t *job = &jobs->jobs [index];
    uint8_t plain [256];
    int rc = cp_seal_open (seal, job->ad, job->ad_size, job->sealed,
                           job->plain_size + CP_SEAL_OVERHEAD, plain);
    if (rc == 0 && memcmp (plain, job->plain, job->plain_size) != 0)
        rc = -1;
    return rc;
}

//  Distinct nonce prefixes among the sealed jobs; checks no nonce repeats.
static size_t
s_jobs_prefixes (const s_jobs_t *jobs, size_t *repeats)
{
    uint8_t *nonces = malloc (jobs->count * CP_SEAL_NONCE_SIZE);
    assert (nonces);
    for (size_t index = 0; index < jobs->count; index++)
        memcpy (nonces + index * CP_SEAL_NONCE_SIZE, jobs->jobs [index].sealed + 1,
                CP_SEAL_NONCE_SIZE);
    qsort (nonces, jobs->count, CP_SEAL_NONCE_SIZE, s_compare_nonce);
    size_t prefixes = jobs->count > 0;
    *repeats = 0;
    for (size_t index = 1; index < jobs->count; index++) {
        const uint8_t *at = nonces + index * CP_SEAL_NONCE_SIZE;
        *repeats += memcmp (at - CP_SEAL_NONCE_SIZE, at, CP_SEAL_NONCE_SIZE) == 0;
        prefixes += memcmp (at - CP_SEAL_NONCE_SIZE, at, 16) != 0;
    }
    free (nonces);
    return prefixes;
}

//  Batches: runs come back in order, whole and sealed, whoever sealed
//  them; a helper seals with the twin (its own prefix); stopping early is
//  safe; no nonce repeats across threads and renewals.
//  Values of many transactions (more prefixes than the sealer keeps
//  subkeys for), opened in a scrambled order, twice: each opens to its own
//  bytes; one with a changed prefix byte does not, even when the prefix
//  it now claims is one the sealer has a subkey for.
static void
test_many_prefixes (void)
{
    uint8_t key [CP_SEAL_KEY_SIZE];
    cp_seal_t *seal = s_random_seal (key);
    if (!seal)
        return;
    enum { VALUES = 40, SIZE = 70 };
    uint8_t plain [VALUES][SIZE], sealed [VALUES][SIZE + CP_SEAL_OVERHEAD], opened [SIZE];
    uint8_t ad [3] = {'C', 0, 0};
    for (int index = 0; index < VALUES; index++) {
        randombytes_buf (plain [index], SIZE);
        ad [1] = (uint8_t) index;
        cp_seal_seal (seal, ad, sizeof ad, plain [index], SIZE, sealed [index]);
        cp_seal_renew (seal);       //  each value its own prefix
    }
    for (int round = 0; round < 2; round++)
        for (int step = 0; step < VALUES; step++) {
            int index = (step * 7 + round) % VALUES;      //  7 is prime to 40
            ad [1] = (uint8_t) index;
            CHECK_EQ_INT (cp_seal_open (seal, ad, sizeof ad, sealed [index], sizeof sealed [index],
                                        opened), 0);
            CHECK (memcmp (opened, plain [index], SIZE) == 0);
        }
    //  Value 0 claiming the prefix of value 39 (whose subkey was just used).
    uint8_t forged [SIZE + CP_SEAL_OVERHEAD];
    memcpy (forged, sealed [0], sizeof forged);
    memcpy (forged + 1, sealed [VALUES - 1] + 1, 16);
    ad [1] = 0;
    CHECK_EQ_INT (cp_seal_open (seal, ad, sizeof ad, forged, sizeof forged, opened), CP_EAUTH);
    forged [1] ^= 1;
    CHECK_EQ_INT (cp_seal_open (seal, ad, sizeof ad, forged, sizeof forged, opened), CP_EAUTH);
    cp_seal_destroy (&seal);
}

static void
test_batch (void)
{
    uint8_t key [CP_SEAL_KEY_SIZE];
    cp_seal_t *seal = s_random_seal (key);
    if (!seal)
        return;
    //  Empty.
    cp_seal_batch_t *batch = cp_seal_batch_new (seal, NULL, 0);
    size_t first = 7, end = 7;
    CHECK (!cp_seal_batch_next (batch, &first, &end));
    cp_seal_batch_destroy (&batch);
    CHECK (batch == NULL);
    cp_seal_batch_destroy (&batch);
    //  Small: sealed on this thread, in order, one prefix, counters 0...
    s_jobs_t jobs = s_jobs_new (10);
    cp_seal_renew (seal);
    cp_seal_many (seal, jobs.jobs, jobs.count);
    size_t repeats = 0;
    CHECK_EQ_INT (s_jobs_prefixes (&jobs, &repeats), 1);
    for (size_t index = 0; index < jobs.count; index++) {
        CHECK_EQ_INT (s_job_open (seal, &jobs, index), 0);
        CHECK_EQ_INT (jobs.jobs [index].sealed [1 + 23], index);
    }
    s_jobs_free (&jobs);
    //  Large, taken run by run while this thread works on each: the runs
    //  follow each other and each is sealed when handed back.
    jobs = s_jobs_new (20000);
    cp_seal_renew (seal);
    batch = cp_seal_batch_new (seal, jobs.jobs, jobs.count);
    size_t expected = 0, runs = 0, wrong = 0;
    while (cp_seal_batch_next (batch, &first, &end)) {
        runs++;
        wrong += first != expected || end <= first || end > jobs.count;
        for (size_t index = first; index < end; index++)
            wrong += s_job_open (seal, &jobs, index) != 0;
        expected = end;
    }
    cp_seal_batch_destroy (&batch);
    CHECK_EQ_INT (wrong, 0);
    CHECK_EQ_INT (expected, jobs.count);
    CHECK (runs > 1);
    //  This thread's prefix, and the twin's when the helper sealed some.
    size_t prefixes = s_jobs_prefixes (&jobs, &repeats);
    CHECK (prefixes == 1 || prefixes == 2);
    CHECK_EQ_INT (repeats, 0);
    //  Stopped after one run: the run is sealed, and destroy returns.
    memset (jobs.sealed, 0, 20000 * CP_SEAL_OVERHEAD);
    batch = cp_seal_batch_new (seal, jobs.jobs, jobs.count);
    CHECK (cp_seal_batch_next (batch, &first, &end));
    for (size_t index = first; index < end; index++)
        CHECK_EQ_INT (s_job_open (seal, &jobs, index), 0);
    cp_seal_batch_destroy (&batch);
    s_jobs_free (&jobs);
    //  Many batches over renewals, all their nonces distinct.
    jobs = s_jobs_new (60000);
    for (size_t at = 0; at < jobs.count; at += 20000) {
        cp_seal_renew (seal);
        cp_seal_many (seal, jobs.jobs + at, 20000);
    }
    prefixes = s_jobs_prefixes (&jobs, &repeats);
    CHECK (prefixes >= 3 && prefixes <= 6);
    CHECK_EQ_INT (repeats, 0);
    wrong = 0;
    for (size_t index = 0; index < jobs.count; index++)
        wrong += s_job_open (seal, &jobs, index) != 0;
    CHECK_EQ_INT (wrong, 0);
    s_jobs_free (&jobs);
    cp_seal_destroy (&seal);
}

TESTING_MAIN (
    TEST (test_known_answer),
    TEST (test_round_trip),
    TEST (test_hostile),
    TEST (test_nonces_unique),
    TEST (test_many_prefixes),
    TEST (test_batch)
)
