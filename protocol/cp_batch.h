/*  cp_batch: the frames of a BATCH, made and taken apart in one place.

    A BATCH is three frames after its command (cp_wire.h): the header, a
    cp_wire body that is also the associated data of the envelope; the
    payload, a cp_codec batch of events sealed to the central
    (cp_envelope); and the node's signature over both.  This module is the
    only code that knows how the three fit together.

    The node makes them with cp_batch_seal.  The central takes them apart
    in the order trust grows, so that nothing costly or risky happens to
    bytes from nobody:
        cp_batch_read    the frames' count and sizes, the header decoded:
                         what the central needs to find the keys it names;
                         nothing is verified yet
        cp_batch_open    with those keys: the signature verified, the
                         payload decrypted and only then decoded, and its
                         events checked to be the ones the header names
                         (same first sequence, same count)
    cp_batch_unseal stops after decrypting: the central's archive is served
    back in a recovery sealed anew, without being parsed.

    The other way, a RECOVERED (cp_wire.h) has the same three frames: its
    header, the events of one archived batch sealed to the node, and the
    signature of the central data key that sealed them (cp_envelope's
    RECOVERED purpose, so that neither can pass for the other).  The
    central makes them with cp_batch_seal_recovered, the node reads them
    with cp_batch_read_recovered and opens them with
    cp_batch_open_recovered.

    Limits, checked before anything is allocated: exactly three frames; a
    header of at most CP_WIRE_BODY_MAX bytes (cp_wire); a sealed payload
    of at most CP_BATCH_SEALED_MAX bytes and at least a tag; a signature
    frame of at most CP_WIRE_BODY_MAX bytes, which must then be exactly a
    signature; the payload's own limits are cp_codec's.  Every refusal has
    its code (below) and changes nothing.                                    */

#ifndef CP_BATCH_H_INCLUDED
#define CP_BATCH_H_INCLUDED

#include "cp_codec.h"
#include "cp_envelope.h"
#include "cp_event.h"
#include "cp_wire.h"

#include <stddef.h>
#include <stdint.h>

#define CP_BATCH_FRAMES 3               //  header, sealed payload, signature
#define CP_BATCH_SEALED_MAX (CP_CODEC_BATCH_MAX + CP_ENVELOPE_OVERHEAD)

//  A received batch's frames, borrowed from wherever they are held (a
//  message, an archive record).
typedef struct {
    const uint8_t *header;
    size_t header_size;
    const uint8_t *sealed;
    size_t sealed_size;
    const uint8_t *signature;
    size_t signature_size;
} cp_batch_frames_t;

//  A batch a node made: its frames, owned (cp_batch_sealed_free).
typedef struct {
    uint8_t *header;            //  malloc'd
    size_t header_size;
    uint8_t *sealed;            //  malloc'd
    size_t sealed_size;
    uint8_t signature [CP_ENVELOPE_SIGNATURE_SIZE];
} cp_batch_sealed_t;

//  Makes the frames of a batch: gives header a fresh nonce, encodes it,
//  seals payload (a cp_codec batch of size bytes, the header's events)
//  under session_key (cp_envelope_node_key) with the header as associated
//  data, and signs both with sign_secret (the node key's Ed25519 secret).
//  Returns 0 with *sealed filled, or CP_ETOOBIG (a payload over
//  CP_CODEC_BATCH_MAX), CP_EAUTH (signing failed: a broken key); on error
//  *sealed holds nothing.
int
    cp_batch_seal (cp_batch_header_t *header, const uint8_t *payload, size_t size,
                   const uint8_t *session_key, const uint8_t *sign_secret,
                   cp_batch_sealed_t *sealed);

//  Makes the frames of a RECOVERED as cp_batch_seal makes a BATCH's:
//  header gets a fresh nonce; payload (a cp_codec batch, or nothing at the
//  end of the archive) is sealed under session_key
//  (cp_envelope_central_recovery_key) and signed with sign_secret (a
//  central data key's Ed25519 secret).  Same returns.
int
    cp_batch_seal_recovered (cp_recovered_t *header, const uint8_t *payload, size_t size,
                             const uint8_t *session_key, const uint8_t *sign_secret,
                             cp_batch_sealed_t *sealed);

//  Frees what cp_batch_seal made and zeroes *sealed; safe twice.
void
    cp_batch_sealed_free (cp_batch_sealed_t *sealed);

//  Takes the count frames that followed a BATCH command (data and sizes
//  borrowed) as a batch's: *frames points into them, *header is decoded.
//  Returns 0, or CP_EMALFORMED (not three frames; a nonce of another size
//  than CP_ENVELOPE_NONCE_SIZE; a sealed payload shorter than a tag),
//  CP_ETOOBIG (a sealed payload over CP_BATCH_SEALED_MAX, a signature
//  frame over CP_WIRE_BODY_MAX), CP_EAUTH (a signature of another size),
//  or cp_wire_batch_header_decode's errors for the header (CP_EMALFORMED,
//  CP_ETOOBIG, CP_ETYPE, CP_EBADID).  The header is the sender's word
//  only: cp_batch_open proves it.
int
    cp_batch_read (const uint8_t *const *data, const size_t *sizes, size_t count,
                   cp_batch_frames_t *frames, cp_batch_header_t *header);

//  cp_batch_read for the frames of a RECOVERED, with its header: the same
//  limits and returns (cp_wire_recovered_decode's for the header).
int
    cp_batch_read_recovered (const uint8_t *const *data, const size_t *sizes, size_t count,
                             cp_batch_frames_t *frames, cp_recovered_t *header);

//  The size of a batch's opened payload (frames as cp_batch_read took them).
size_t
    cp_batch_payload_size (const cp_batch_frames_t *frames);

//  Verifies the signature over the frames with sign_public (the node key's
//  Ed25519 public key), then decrypts the payload with session_key into
//  payload (cp_batch_payload_size bytes).  frames and header as
//  cp_batch_read gave them.  Returns 0, or CP_EAUTH (nothing decrypted, or
//  payload wiped).
int
    cp_batch_unseal (const cp_batch_frames_t *frames, const cp_batch_header_t *header,
                     const uint8_t *sign_public, const uint8_t *session_key,
                     uint8_t *payload)
    __attribute__ ((warn_unused_result));

//  Decodes an opened payload of size bytes and checks that it holds the
//  events header names: first sequence header->first, header->last -
//  header->first + 1 events.  Returns 0 with *events (malloc'd, the
//  caller's: wipe and free) and *count, or cp_codec_batch_decode's errors,
//  or CP_EMALFORMED when the events are not the header's; on error nothing
//  is allocated.
int
    cp_batch_decode (const cp_batch_header_t *header, const uint8_t *payload, size_t size,
                     cp_event_t **events, size_t *count);

//  cp_batch_unseal then cp_batch_decode: the events of a batch, from its
//  frames and the keys its header names.  The opened payload is wiped and
//  freed before it returns.  Returns 0 with *events and *count, or the
//  errors of either (CP_EAUTH before anything is parsed).
int
    cp_batch_open (const cp_batch_frames_t *frames, const cp_batch_header_t *header,
                   const uint8_t *sign_public, const uint8_t *session_key,
                   cp_event_t **events, size_t *count)
    __attribute__ ((warn_unused_result));

//  Verifies a RECOVERED's signature with sign_public (the central data
//  key's), decrypts it with session_key (cp_envelope_node_recovery_key)
//  and decodes its events, whose sequences are the archive's and are not
//  kept.  Returns 0 with *events (malloc'd, the caller's: wipe and free;
//  NULL for the empty payload that ends a recovery) and *count, or
//  CP_EAUTH, or cp_codec_batch_decode's errors.
int
    cp_batch_open_recovered (const cp_batch_frames_t *frames, const cp_recovered_t *header,
                             const uint8_t *sign_public, const uint8_t *session_key,
                             cp_event_t **events, size_t *count)
    __attribute__ ((warn_unused_result));

#endif
