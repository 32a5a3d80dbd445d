/*  cp_batch: a BATCH's three frames on top of cp_wire (the header),
    cp_envelope (sealing and signing) and cp_codec (the events).  See
    cp_batch.h.

    The checks of cp_batch_read come in the order of what they cost and of
    what the central learns from them: the frames' count, then the header,
    then the sizes of the envelope's parts, all before any key is looked
    up.  Opening wipes the plaintext as soon as its events are decoded, so
    a batch's case data lives in one form at a time.                         */

#include "cp_batch.h"
#include "cp_error.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

//  Seals payload under the encoded header into sealed, whose header the
//  caller has set (taken over here).  Returns 0 or CP_EAUTH.
static int
s_seal (cp_envelope_purpose_t purpose, const uint8_t *nonce, const uint8_t *payload,
        size_t size, const uint8_t *session_key, const uint8_t *sign_secret,
        cp_batch_sealed_t *sealed)
{
    static const uint8_t nothing [1] = {0};
    sealed->sealed_size = size + CP_ENVELOPE_OVERHEAD;
    sealed->sealed = malloc (sealed->sealed_size);
    assert (sealed->header && sealed->sealed);
    //  The end of a recovery seals no events, which may come as NULL.
    if (!payload)
        payload = nothing;
    int rc = cp_envelope_seal_for (purpose, sealed->header, sealed->header_size, nonce,
                                   payload, size, session_key, sign_secret, sealed->sealed,
                                   sealed->signature);
    if (rc)
        cp_batch_sealed_free (sealed);
    return rc;
}

//  What sealing either kind begins with: nothing in sealed yet, a payload
//  within its limit, a fresh nonce for the header.  Returns 0 or CP_ETOOBIG.
static int
s_seal_begin (size_t size, uint8_t *nonce, uint8_t *nonce_size, cp_batch_sealed_t *sealed)
{
    memset (sealed, 0, sizeof *sealed);
    if (size > CP_CODEC_BATCH_MAX)
        return CP_ETOOBIG;
    *nonce_size = CP_ENVELOPE_NONCE_SIZE;
    cp_envelope_nonce (nonce);
    return 0;
}

int
cp_batch_seal (cp_batch_header_t *header, const uint8_t *payload, size_t size,
               const uint8_t *session_key, const uint8_t *sign_secret,
               cp_batch_sealed_t *sealed)
{
    int rc = s_seal_begin (size, header->nonce, &header->nonce_size, sealed);
    if (rc)
        return rc;
    sealed->header = cp_wire_batch_header_encode (header, &sealed->header_size);
    return s_seal (CP_ENVELOPE_BATCH, header->nonce, payload, size, session_key, sign_secret,
                   sealed);
}

int
cp_batch_seal_recovered (cp_recovered_t *header, const uint8_t *payload, size_t size,
                         const uint8_t *session_key, const uint8_t *sign_secret,
                         cp_batch_sealed_t *sealed)
{
    int rc = s_seal_begin (size, header->nonce, &header->nonce_size, sealed);
    if (rc)
        return rc;
    sealed->header = cp_wire_recovered_encode (header, &sealed->header_size);
    return s_seal (CP_ENVELOPE_RECOVERED, header->nonce, payload, size, session_key,
                   sign_secret, sealed);
}

void
cp_batch_sealed_free (cp_batch_sealed_t *sealed)
{
    free (sealed->header);
    free (sealed->sealed);
    memset (sealed, 0, sizeof *sealed);
}

//  The envelope's part of reading, after the header's (rc, what decoding
//  it gave): the sizes of the sealed payload and the signature, and the
//  nonce's the header named.
static int
s_read_envelope (int rc, const uint8_t *const *data, const size_t *sizes, size_t nonce_size,
                 cp_batch_frames_t *frames)
{
    memset (frames, 0, sizeof *frames);
    if (rc)
        return rc;
    //  Over a limit first: a frame of megabytes is too big, whatever else.
    if (sizes [1] > CP_BATCH_SEALED_MAX || sizes [2] > CP_WIRE_BODY_MAX)
        return CP_ETOOBIG;
    if (nonce_size != CP_ENVELOPE_NONCE_SIZE || sizes [1] < CP_ENVELOPE_OVERHEAD)
        return CP_EMALFORMED;
    //  A signature of the wrong size is a bad signature, as one of the
    //  right size that does not verify is (cp_batch_unseal).
    if (sizes [2] != CP_ENVELOPE_SIGNATURE_SIZE)
        return CP_EAUTH;
    *frames = (cp_batch_frames_t) {data [0], sizes [0], data [1], sizes [1], data [2], sizes [2]};
    return 0;
}

int
cp_batch_read (const uint8_t *const *data, const size_t *sizes, size_t count,
               cp_batch_frames_t *frames, cp_batch_header_t *header)
{
    memset (header, 0, sizeof *header);
    int rc = count == CP_BATCH_FRAMES? cp_wire_batch_header_decode (data [0], sizes [0], header)
                                     : CP_EMALFORMED;
    return s_read_envelope (rc, data, sizes, header->nonce_size, frames);
}

int
cp_batch_read_recovered (const uint8_t *const *data, const size_t *sizes, size_t count,
                         cp_batch_frames_t *frames, cp_recovered_t *header)
{
    memset (header, 0, sizeof *header);
    int rc = count == CP_BATCH_FRAMES? cp_wire_recovered_decode (data [0], sizes [0], header)
                                     : CP_EMALFORMED;
    return s_read_envelope (rc, data, sizes, header->nonce_size, frames);
}

size_t
cp_batch_payload_size (const cp_batch_frames_t *frames)
{
    assert (frames->sealed_size >= CP_ENVELOPE_OVERHEAD);
    return frames->sealed_size - CP_ENVELOPE_OVERHEAD;
}

int
cp_batch_unseal (const cp_batch_frames_t *frames, const cp_batch_header_t *header,
                 const uint8_t *sign_public, const uint8_t *session_key, uint8_t *payload)
{
    assert (header->nonce_size == CP_ENVELOPE_NONCE_SIZE
            && frames->signature_size == CP_ENVELOPE_SIGNATURE_SIZE);
    return cp_envelope_open (frames->header, frames->header_size, header->nonce,
                             frames->sealed, frames->sealed_size, frames->signature,
                             sign_public, session_key, payload);
}

int
cp_batch_decode (const cp_batch_header_t *header, const uint8_t *payload, size_t size,
                 cp_event_t **events, size_t *count)
{
    uint64_t first;
    int rc = cp_codec_batch_decode (payload, size, &first, events, count);
    if (rc)
        return rc;
    //  The header is what was signed and what the central's cursors go by:
    //  a payload with other sequences would be applied under false numbers.
    if (first != header->first || *count - 1 != header->last - header->first) {
        sodium_memzero (*events, *count * sizeof (cp_event_t));
        free (*events);
        *events = NULL;
        *count = 0;
        return CP_EMALFORMED;
    }
    return 0;
}

int
cp_batch_open (const cp_batch_frames_t *frames, const cp_batch_header_t *header,
               const uint8_t *sign_public, const uint8_t *session_key,
               cp_event_t **events, size_t *count)
{
    *events = NULL;
    *count = 0;
    size_t size = cp_batch_payload_size (frames);
    uint8_t *payload = malloc (size + 1);       //  + 1: an empty payload is an allocation
    assert (payload);
    int rc = cp_batch_unseal (frames, header, sign_public, session_key, payload);
    if (rc == 0)
        rc = cp_batch_decode (header, payload, size, events, count);
    sodium_memzero (payload, size);
    free (payload);
    return rc;
}

int
cp_batch_open_recovered (const cp_batch_frames_t *frames, const cp_recovered_t *header,
                         const uint8_t *sign_public, const uint8_t *session_key,
                         cp_event_t **events, size_t *count)
{
    assert (header->nonce_size == CP_ENVELOPE_NONCE_SIZE
            && frames->signature_size == CP_ENVELOPE_SIGNATURE_SIZE);
    *events = NULL;
    *count = 0;
    size_t size = cp_batch_payload_size (frames);
    uint8_t *payload = malloc (size + 1);
    assert (payload);
    int rc = cp_envelope_open_for (CP_ENVELOPE_RECOVERED, frames->header, frames->header_size,
                                   header->nonce, frames->sealed, frames->sealed_size,
                                   frames->signature, sign_public, session_key, payload);
    //  The sequences are the archive's, not the node's log's: the node
    //  appends the events under its own.
    uint64_t first;
    if (rc == 0 && size)
        rc = cp_codec_batch_decode (payload, size, &first, events, count);
    sodium_memzero (payload, size);
    free (payload);
    return rc;
}
