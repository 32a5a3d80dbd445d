/*  central_intake: frames → trusted batch, and an archived batch opened
    again.  See central_intake.h.                                          */

#include "central_intake.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"

#include <inttypes.h>
#include <sodium.h>

int
central_intake_receive (central_auth_t *auth, int municipality, zframe_t **frames, int count,
                        uint8_t *envelope_key, central_intake_t *intake)
{
    memset (intake, 0, sizeof *intake);
    intake->batch.municipality = municipality;
    intake->batch.envelope_key = envelope_key;
    const uint8_t *data [CP_BATCH_FRAMES] = {NULL};
    size_t sizes [CP_BATCH_FRAMES] = {0};
    for (int index = 0; index < count && index < CP_BATCH_FRAMES; index++) {
        data [index] = zframe_data (frames [index]);
        sizes [index] = zframe_size (frames [index]);
    }
    int rc = cp_batch_read (data, sizes, (size_t) count, &intake->batch.frames,
                            &intake->batch.header);
    if (rc == 0)
        rc = central_auth_batch_keys (auth, municipality, &intake->batch.header,
                                      intake->sign_public, envelope_key);
    return rc;
}

int
central_intake_open (central_store_t *store, central_intake_t *intake)
{
    central_batch_t *batch = &intake->batch;
    assert (!batch->events);
    int rc = cp_batch_open (&batch->frames, &batch->header, intake->sign_public,
                            batch->envelope_key, &batch->events, &batch->count);
    if (rc == 0)
        central_store_prepare (store, batch);
    return rc;
}

void
central_intake_clear (central_intake_t *intake)
{
    central_store_batch_clear (&intake->batch);
}

int
central_intake_archived (central_store_t *store, central_auth_t *auth, int municipality,
                         uint64_t from, uint64_t *position, uint64_t *end, uint8_t **payload,
                         size_t *size)
{
    *payload = NULL;
    *size = 0;
    uint8_t *record = NULL;
    cp_batch_frames_t stored;
    int rc = central_store_archive_read (store, municipality, from, position, end, &record,
                                         &stored);
    if (rc || !record)
        return rc;
    //  The frames as they came, which the central took once: a record that
    //  no longer reads as a batch's is damage to the store.
    const uint8_t *data [CP_BATCH_FRAMES] = {stored.header, stored.sealed, stored.signature};
    size_t sizes [CP_BATCH_FRAMES] = {stored.header_size, stored.sealed_size,
                                      stored.signature_size};
    cp_batch_frames_t frames;
    cp_batch_header_t header;
    if (cp_batch_read (data, sizes, CP_BATCH_FRAMES, &frames, &header)) {
        zsys_error ("central_intake: %s archive record %" PRIu64 " is corrupt",
                    cp_municipality_code (municipality), *position);
        free (record);
        return CP_ESTORE;
    }
    uint8_t sign_public [CP_ENVELOPE_SIGN_PUBLIC_SIZE];
    if (central_auth_node_sign_public (auth, header.node_key, sign_public)) {
        zsys_error ("central_intake: the archive names node key %s, which the key table "
                    "lacks", header.node_key);
        free (record);
        return CP_EAUTH;
    }
    uint8_t *envelope_key = cp_keyfile_alloc (CP_ENVELOPE_KEY_SIZE);
    assert (envelope_key);
    size_t opened_size = cp_batch_payload_size (&frames);
    uint8_t *opened = malloc (opened_size + 1);
    assert (opened);
    rc = central_store_envelope_key (store, header.node_key, header.data_key, envelope_key);
    if (rc == 0)
        rc = cp_batch_unseal (&frames, &header, sign_public, envelope_key, opened);
    cp_keyfile_free (&envelope_key);
    free (record);
    if (rc) {
        zsys_error ("central_intake: %s archive record %" PRIu64 " does not open: %s",
                    cp_municipality_code (municipality), *position, cp_strerror (rc));
        free (opened);
        return rc;
    }
    *payload = opened;
    *size = opened_size;
    return 0;
}
