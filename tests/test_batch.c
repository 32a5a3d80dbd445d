/*  test_batch: a BATCH's frames (cp_batch), made by a node and taken apart
    as the central takes them.

    Keys from fixed seeds: the node's key exchange and signing pairs, the
    central's data key.  A batch of three events is sealed (cp_batch_seal),
    read (cp_batch_read) and opened (cp_batch_open) back into the same
    events; then one fault at a time, each refused with its code and
    nothing handed out: the wrong number of frames, every truncation and
    an oversized frame of each kind, a signature of another size, a
    flipped bit of header, payload or signature, another node's signature,
    and a payload whose events are not the ones its header names (another
    first sequence, one event more or less), signed and sealed as an
    honest node would.  Last, a RECOVERED the other way, and that neither
    kind of frames passes for the other.                                    */

#include "cp_batch.h"
#include "cp_codec.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"
#include "testing.h"

#include <assert.h>
#include <sodium.h>

typedef struct {
    uint8_t node_kx_public [32], node_kx_secret [32];
    uint8_t central_public [32], central_secret [32];
    uint8_t sign_public [32], sign_secret [64];
    uint8_t node_key [CP_ENVELOPE_KEY_SIZE];       //  the node's envelope key
    uint8_t central_key [CP_ENVELOPE_KEY_SIZE];    //  the central's, the same
} s_keys_t;

//  Key pairs from fixed seeds (base makes another node's) and the
//  envelope keys both sides derive from them.
static void
s_keys (s_keys_t *keys, int base)
{
    uint8_t seed [32];
    for (int index = 0; index < 32; index++)
        seed [index] = (uint8_t) (base + 1 + index);
    crypto_kx_seed_keypair (keys->node_kx_public, keys->node_kx_secret, seed);
    for (int index = 0; index < 32; index++)
        seed [index] = (uint8_t) (101 + index);
    crypto_kx_seed_keypair (keys->central_public, keys->central_secret, seed);
    for (int index = 0; index < 32; index++)
        seed [index] = (uint8_t) (base + 201 + index);
    crypto_sign_seed_keypair (keys->sign_public, keys->sign_secret, seed);
    CHECK_EQ_INT (cp_envelope_node_key (keys->node_kx_public, keys->node_kx_secret,
                                        keys->central_public, keys->node_key), 0);
    CHECK_EQ_INT (cp_envelope_central_key (keys->central_public, keys->central_secret,
                                           keys->node_kx_public, keys->central_key), 0);
}

//  count events from sequence first, encoded as a node ships them.
static uint8_t *
s_payload (uint64_t first, size_t count, size_t *size)
{
    cp_event_t events [8];
    assert (count <= 8);
    memset (events, 0, sizeof events);
    for (size_t index = 0; index < count; index++) {
        cp_event_t *event = &events [index];
        event->type = CP_EVENT_CASE_OPENED;
        event->age = (uint8_t) (5 + index);
        event->date = cp_date_from_civil (2022, 3, 1 + (int) index);
        snprintf (event->id, sizeof event->id, "e-%zu", index);
        snprintf (event->case_id, sizeof event->case_id, "c-%zu", index);
        snprintf (event->codes [0], sizeof event->codes [0], "F");
        snprintf (event->codes [1], sizeof event->codes [1], "majority");
        snprintf (event->codes [2], sizeof event->codes [2], "school");
    }
    uint8_t *payload = cp_codec_batch_encode (first, events, count, size);
    assert (payload);
    return payload;
}

//  A header of events first..last of berat's log.
static cp_batch_header_t
s_header (uint64_t first, uint64_t last)
{
    cp_batch_header_t header;
    memset (&header, 0, sizeof header);
    snprintf (header.municipality, sizeof header.municipality, "berat");
    memset (header.log, 0xab, sizeof header.log);
    header.first = first;
    header.last = last;
    header.head = last;
    snprintf (header.node_key, sizeof header.node_key, "n-0123456789abcdef");
    snprintf (header.data_key, sizeof header.data_key, "d-0123456789abcdef");
    return header;
}

//  Seals a payload of count events from payload_first under a header of
//  first..last.
static cp_batch_sealed_t
s_seal (const s_keys_t *keys, uint64_t first, uint64_t last, uint64_t payload_first,
        size_t count)
{
    cp_batch_header_t header = s_header (first, last);
    size_t size;
    uint8_t *payload = s_payload (payload_first, count, &size);
    cp_batch_sealed_t sealed;
    CHECK_EQ_INT (cp_batch_seal (&header, payload, size, keys->node_key, keys->sign_secret,
                                 &sealed), 0);
    free (payload);
    return sealed;
}

//  The frames of a sealed batch as a receiver has them: data and sizes
//  (CP_BATCH_FRAMES each).
static void
s_frames_of (const cp_batch_sealed_t *sealed, const uint8_t **data, size_t *sizes)
{
    data [0] = sealed->header;
    data [1] = sealed->sealed;
    data [2] = sealed->signature;
    sizes [0] = sealed->header_size;
    sizes [1] = sealed->sealed_size;
    sizes [2] = sizeof sealed->signature;
}

//  Reads three frames; returns cp_batch_read's code.
static int
s_read (const uint8_t *header, size_t header_size, const uint8_t *sealed, size_t sealed_size,
        const uint8_t *signature, size_t signature_size, cp_batch_frames_t *frames,
        cp_batch_header_t *decoded)
{
    const uint8_t *data [3] = {header, sealed, signature};
    size_t sizes [3] = {header_size, sealed_size, signature_size};
    return cp_batch_read (data, sizes, 3, frames, decoded);
}

//  Reads and opens a sealed batch's frames with keys; returns the first
//  refusal.  A refused batch hands out no events.
static int
s_take (const s_keys_t *keys, const cp_batch_sealed_t *sealed)
{
    const uint8_t *data [3];
    size_t sizes [3];
    s_frames_of (sealed, data, sizes);
    cp_batch_frames_t frames;
    cp_batch_header_t header;
    int rc = cp_batch_read (data, sizes, 3, &frames, &header);
    if (rc)
        return rc;
    cp_event_t *events = (cp_event_t *) 1;
    size_t count = 99;
    rc = cp_batch_open (&frames, &header, keys->sign_public, keys->central_key, &events,
                        &count);
    if (rc) {
        CHECK (events == NULL);
        CHECK_EQ_INT (count, 0);
    }
    free (events);
    return rc;
}

static void
test_round_trip (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    cp_batch_sealed_t sealed = s_seal (&keys, 7, 9, 7, 3);
    cp_batch_frames_t frames;
    cp_batch_header_t header;
    CHECK_EQ_INT (s_read (sealed.header, sealed.header_size, sealed.sealed, sealed.sealed_size,
                          sealed.signature, sizeof sealed.signature, &frames, &header), 0);
    CHECK (frames.header == sealed.header && frames.sealed == sealed.sealed);
    CHECK_EQ_INT (header.first, 7);
    CHECK_EQ_INT (header.last, 9);
    CHECK_EQ_INT (header.nonce_size, CP_ENVELOPE_NONCE_SIZE);
    CHECK (strcmp (header.municipality, "berat") == 0);
    CHECK_EQ_INT (cp_batch_payload_size (&frames), sealed.sealed_size - CP_ENVELOPE_OVERHEAD);
    cp_event_t *events = NULL;
    size_t count = 0;
    CHECK_EQ_INT (cp_batch_open (&frames, &header, keys.sign_public, keys.central_key, &events,
                                 &count), 0);
    CHECK_EQ_INT (count, 3);
    CHECK (events && strcmp (events [2].id, "e-2") == 0 && events [2].age == 7);
    free (events);

    //  Unsealed, the payload is the node's, byte for byte.
    size_t size;
    uint8_t *payload = s_payload (7, 3, &size);
    uint8_t *opened = malloc (size);
    assert (opened);
    CHECK_EQ_INT (cp_batch_payload_size (&frames), size);
    CHECK_EQ_INT (cp_batch_unseal (&frames, &header, keys.sign_public, keys.central_key,
                                   opened), 0);
    CHECK (memcmp (opened, payload, size) == 0);
    free (opened);
    free (payload);

    //  Two seals of one batch differ (a fresh nonce each), both open.
    cp_batch_sealed_t again = s_seal (&keys, 7, 9, 7, 3);
    CHECK (sealed.sealed_size == again.sealed_size
           && memcmp (sealed.sealed, again.sealed, sealed.sealed_size) != 0);
    CHECK_EQ_INT (s_take (&keys, &again), 0);
    cp_batch_sealed_free (&again);
    cp_batch_sealed_free (&again);      //  safe twice
    cp_batch_sealed_free (&sealed);
}

static void
test_frame_count (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    cp_batch_sealed_t sealed = s_seal (&keys, 1, 3, 1, 3);
    const uint8_t *data [4];
    size_t sizes [4];
    s_frames_of (&sealed, data, sizes);
    data [3] = data [2];
    sizes [3] = sizes [2];
    cp_batch_frames_t frames;
    cp_batch_header_t header;
    for (size_t count = 0; count <= 4; count++)
        CHECK_EQ_INT (cp_batch_read (data, sizes, count, &frames, &header),
                      count == 3? 0: CP_EMALFORMED);
    cp_batch_sealed_free (&sealed);
}

//  Every truncation of every frame, and each frame over its limit.
static void
test_frame_sizes (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    cp_batch_sealed_t sealed = s_seal (&keys, 1, 3, 1, 3);
    cp_batch_frames_t frames;
    cp_batch_header_t header;
    const uint8_t *signature = sealed.signature;
    size_t signature_size = sizeof sealed.signature;
    for (size_t size = 0; size < sealed.header_size; size++)
        CHECK (s_read (sealed.header, size, sealed.sealed, sealed.sealed_size, signature,
                       signature_size, &frames, &header) != 0);
    //  Shorter than a tag: malformed; longer: it does not verify.
    for (size_t size = 0; size < sealed.sealed_size; size++) {
        int rc = s_read (sealed.header, sealed.header_size, sealed.sealed, size, signature,
                         signature_size, &frames, &header);
        CHECK_EQ_INT (rc, size < CP_ENVELOPE_OVERHEAD? CP_EMALFORMED: 0);
        if (rc == 0) {
            cp_event_t *events = NULL;
            size_t count = 0;
            CHECK_EQ_INT (cp_batch_open (&frames, &header, keys.sign_public, keys.central_key,
                                         &events, &count), CP_EAUTH);
            CHECK (events == NULL);
        }
    }
    for (size_t size = 0; size < signature_size; size++)
        CHECK_EQ_INT (s_read (sealed.header, sealed.header_size, sealed.sealed,
                              sealed.sealed_size, signature, size, &frames, &header), CP_EAUTH);
    //  Over the limits: the header's, the sealed payload's, a signature
    //  frame's (a body's); a signature a byte long is only a bad one.
    uint8_t *huge = calloc (1, CP_BATCH_SEALED_MAX + 1);
    assert (huge);
    CHECK_EQ_INT (s_read (huge, CP_WIRE_BODY_MAX + 1, sealed.sealed, sealed.sealed_size,
                          signature, signature_size, &frames, &header), CP_ETOOBIG);
    CHECK_EQ_INT (s_read (sealed.header, sealed.header_size, huge, CP_BATCH_SEALED_MAX + 1,
                          signature, signature_size, &frames, &header), CP_ETOOBIG);
    CHECK_EQ_INT (s_read (sealed.header, sealed.header_size, sealed.sealed, sealed.sealed_size,
                          huge, CP_WIRE_BODY_MAX + 1, &frames, &header), CP_ETOOBIG);
    CHECK_EQ_INT (s_read (sealed.header, sealed.header_size, sealed.sealed, sealed.sealed_size,
                          huge, CP_ENVELOPE_SIGNATURE_SIZE + 1, &frames, &header), CP_EAUTH);
    //  The largest payload a batch may have is sealed; one byte more is not.
    CHECK_EQ_INT (s_read (sealed.header, sealed.header_size, huge, CP_BATCH_SEALED_MAX,
                          signature, signature_size, &frames, &header), 0);
    cp_batch_header_t big = s_header (1, 1);
    cp_batch_sealed_t refused;
    CHECK_EQ_INT (cp_batch_seal (&big, huge, CP_CODEC_BATCH_MAX + 1, keys.node_key,
                                 keys.sign_secret, &refused), CP_ETOOBIG);
    CHECK (refused.header == NULL && refused.sealed == NULL);
    free (huge);

    //  A nonce of another size than the envelope's: malformed.
    cp_batch_header_t short_nonce = s_header (1, 3);
    short_nonce.nonce_size = CP_ENVELOPE_NONCE_SIZE - 1;
    size_t size;
    uint8_t *encoded = cp_wire_batch_header_encode (&short_nonce, &size);
    CHECK_EQ_INT (s_read (encoded, size, sealed.sealed, sealed.sealed_size, signature,
                          signature_size, &frames, &header), CP_EMALFORMED);
    free (encoded);
    cp_batch_sealed_free (&sealed);
}

//  One flipped bit of header, payload or signature; another node's
//  signature; another central's key: CP_EAUTH, nothing decoded.
static void
test_bad_signature (void)
{
    s_keys_t keys, other;
    s_keys (&keys, 0);
    s_keys (&other, 50);
    cp_batch_sealed_t sealed = s_seal (&keys, 1, 3, 1, 3);
    for (size_t at = 0; at < sizeof sealed.signature; at++) {
        sealed.signature [at] ^= 0x20;
        CHECK_EQ_INT (s_take (&keys, &sealed), CP_EAUTH);
        sealed.signature [at] ^= 0x20;
    }
    for (size_t at = 0; at < sealed.sealed_size; at++) {
        sealed.sealed [at] ^= 0x01;
        CHECK_EQ_INT (s_take (&keys, &sealed), CP_EAUTH);
        sealed.sealed [at] ^= 0x01;
    }
    //  A flip in the header may break its msgpack or a field; whatever
    //  still decodes does not verify.
    for (size_t at = 0; at < sealed.header_size; at++) {
        sealed.header [at] ^= (uint8_t) (1u << (at % 8));
        CHECK (s_take (&keys, &sealed) != 0);
        sealed.header [at] ^= (uint8_t) (1u << (at % 8));
    }
    cp_batch_sealed_t forged = s_seal (&other, 1, 3, 1, 3);
    CHECK_EQ_INT (s_take (&keys, &forged), CP_EAUTH);
    CHECK_EQ_INT (s_take (&other, &forged), 0);
    cp_batch_sealed_free (&forged);
    CHECK_EQ_INT (s_take (&keys, &sealed), 0);
    cp_batch_sealed_free (&sealed);
}

//  Payloads that are not the events their header names, sealed and signed
//  by the node itself: CP_EMALFORMED after opening.
static void
test_header_mismatch (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    struct {
        uint64_t first, last, payload_first;
        size_t count;
        int expected;
    } cases [] = {
        {5, 7, 5, 3, 0},                //  the header's events
        {5, 7, 6, 3, CP_EMALFORMED},    //  another first sequence
        {5, 7, 4, 3, CP_EMALFORMED},
        {5, 7, 5, 2, CP_EMALFORMED},    //  one event less
        {5, 7, 5, 4, CP_EMALFORMED},    //  one more
        {5, 5, 5, 1, 0},
        {5, 5, 5, 8, CP_EMALFORMED},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        cp_batch_sealed_t sealed = s_seal (&keys, cases [index].first, cases [index].last,
                                           cases [index].payload_first, cases [index].count);
        CHECK_EQ_INT (s_take (&keys, &sealed), cases [index].expected);
        cp_batch_sealed_free (&sealed);
    }
    //  cp_batch_decode alone: the same rule, and the payload's own refusals.
    cp_batch_header_t header = s_header (5, 7);
    size_t size;
    uint8_t *payload = s_payload (5, 3, &size);
    cp_event_t *events = NULL;
    size_t count = 0;
    CHECK_EQ_INT (cp_batch_decode (&header, payload, size, &events, &count), 0);
    CHECK_EQ_INT (count, 3);
    free (events);
    CHECK_EQ_INT (cp_batch_decode (&header, payload, size - 1, &events, &count), CP_EMALFORMED);
    CHECK (events == NULL && count == 0);
    header.last = 8;
    CHECK_EQ_INT (cp_batch_decode (&header, payload, size, &events, &count), CP_EMALFORMED);
    CHECK (events == NULL && count == 0);
    free (payload);
}

//  A RECOVERED, the other way: made by the central, read and opened by the
//  node; the end of the archive carries no events; the frames of a BATCH
//  do not pass for a RECOVERED's, nor the other way.
static void
test_recovered (void)
{
    s_keys_t keys;
    s_keys (&keys, 0);
    cp_recovered_t recovered;
    memset (&recovered, 0, sizeof recovered);
    snprintf (recovered.municipality, sizeof recovered.municipality, "berat");
    recovered.position = 4;
    recovered.next = 5;
    recovered.end = 9;
    snprintf (recovered.node_key, sizeof recovered.node_key, "n-0123456789abcdef");
    snprintf (recovered.data_key, sizeof recovered.data_key, "d-0123456789abcdef");
    size_t size;
    uint8_t *payload = s_payload (30, 3, &size);
    //  One envelope key stands for both halves of the recovery's exchange.
    cp_batch_sealed_t sealed;
    CHECK_EQ_INT (cp_batch_seal_recovered (&recovered, payload, size, keys.node_key,
                                           keys.sign_secret, &sealed), 0);
    free (payload);
    const uint8_t *data [3];
    size_t sizes [3];
    s_frames_of (&sealed, data, sizes);
    cp_batch_frames_t frames;
    cp_recovered_t header;
    CHECK_EQ_INT (cp_batch_read_recovered (data, sizes, 2, &frames, &header), CP_EMALFORMED);
    CHECK_EQ_INT (cp_batch_read_recovered (data, sizes, 3, &frames, &header), 0);
    CHECK_EQ_INT (header.position, 4);
    cp_event_t *events = NULL;
    size_t count = 0;
    CHECK_EQ_INT (cp_batch_open_recovered (&frames, &header, keys.sign_public,
                                           keys.central_key, &events, &count), 0);
    CHECK_EQ_INT (count, 3);
    CHECK (events && strcmp (events [0].id, "e-0") == 0);
    free (events);
    //  A RECOVERED's frames are not a BATCH's: the header does not decode
    //  as one, and its signature is of the other purpose.
    cp_batch_header_t batch_header;
    CHECK (cp_batch_read (data, sizes, 3, &frames, &batch_header) != 0);
    sealed.signature [0] ^= 1;
    CHECK_EQ_INT (cp_batch_read_recovered (data, sizes, 3, &frames, &header), 0);
    CHECK_EQ_INT (cp_batch_open_recovered (&frames, &header, keys.sign_public,
                                           keys.central_key, &events, &count), CP_EAUTH);
    CHECK (events == NULL && count == 0);
    cp_batch_sealed_free (&sealed);

    //  The end: no events at all.
    recovered.position = recovered.next = recovered.end;
    CHECK_EQ_INT (cp_batch_seal_recovered (&recovered, NULL, 0, keys.node_key,
                                           keys.sign_secret, &sealed), 0);
    CHECK_EQ_INT (sealed.sealed_size, CP_ENVELOPE_OVERHEAD);
    s_frames_of (&sealed, data, sizes);
    CHECK_EQ_INT (cp_batch_read_recovered (data, sizes, 3, &frames, &header), 0);
    CHECK_EQ_INT (cp_batch_open_recovered (&frames, &header, keys.sign_public,
                                           keys.central_key, &events, &count), 0);
    CHECK (events == NULL && count == 0);
    cp_batch_sealed_free (&sealed);

    //  A BATCH's signature does not verify as a RECOVERED's.
    sealed = s_seal (&keys, 1, 3, 1, 3);
    cp_batch_frames_t batch_frames;
    s_frames_of (&sealed, data, sizes);
    CHECK_EQ_INT (cp_batch_read (data, sizes, 3, &batch_frames, &batch_header), 0);
    memset (&header, 0, sizeof header);
    header.nonce_size = CP_ENVELOPE_NONCE_SIZE;
    memcpy (header.nonce, batch_header.nonce, CP_ENVELOPE_NONCE_SIZE);
    CHECK_EQ_INT (cp_batch_open_recovered (&batch_frames, &header, keys.sign_public,
                                           keys.central_key, &events, &count), CP_EAUTH);
    cp_batch_sealed_free (&sealed);
}

TESTING_MAIN (
    TEST (test_round_trip),
    TEST (test_frame_count),
    TEST (test_frame_sizes),
    TEST (test_bad_signature),
    TEST (test_header_mismatch),
    TEST (test_recovered)
)
