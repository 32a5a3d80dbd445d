/*  fuzz_backup: libFuzzer target for the reader of backup files.

    Feeds each input to cp_backup_header_decode and, as a stream of its
    own (fmemopen), to cp_backup_verify.  A header that decodes must encode
    back to the very bytes it came from (the layout has one form of each
    header) and hold its fields within their limits; a file that verifies
    must have the size its header announces and end with the BLAKE2b-256
    of the rest, computed here on its own; and what fails must fail with
    one of the reader's codes.  A broken promise aborts, so the fuzzer
    keeps the input.

    The saved corpus (corpus/backup) starts from small hand-made files: a
    node's and a central's backup around a few bytes of "store" (the
    reader never opens the LMDB copy), and each with one thing wrong --
    truncated, a flipped byte, a byte too many, another version, an
    oversized length or store.  replay.c runs it as an ordinary test.
    Build with clang -fsanitize=fuzzer,address,undefined.                  */

#include "fuzzing.h"
#include "cp_backup.h"
#include "cp_error.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_is_reader_error (int rc)
{
    return rc == CP_EMALFORMED || rc == CP_ETOOBIG || rc == CP_EVERSION || rc == CP_EAUTH;
}

static void
s_header (const uint8_t *data, size_t size)
{
    cp_backup_header_t header;
    char why [256] = "";
    int rc = cp_backup_header_decode (data, size, &header, why, sizeof why);
    if (rc) {
        if (!s_is_reader_error (rc) || rc == CP_EAUTH || why [0] == 0)
            fuzzing_fail ("header: failed with a stray code or no reason");
        return;
    }
    if (header.header_size > size || header.header_size > CP_BACKUP_HEADER_MAX
    ||  header.store_size == 0 || header.store_size > CP_BACKUP_STORE_MAX
    ||  strlen (header.municipality) > CP_ID_MAX
    ||  strlen (header.format) > CP_BACKUP_FORMAT_MAX || strlen (header.format) == 0
    ||  (header.kind == CP_BACKUP_NODE) != (header.municipality [0] != 0))
        fuzzing_fail ("header: decoded a field out of its limits");
    uint8_t again [CP_BACKUP_HEADER_MAX];
    size_t again_size = cp_backup_header_encode (&header, again);
    if (again_size != header.header_size || memcmp (again, data, again_size) != 0)
        fuzzing_fail ("header: encoding a decoded header does not give its bytes back");
}

static void
s_verify (const uint8_t *data, size_t size)
{
    if (size == 0)
        return;                 //  fmemopen wants a buffer; the header decoder saw it
    FILE *file = fmemopen ((void *) data, size, "rb");
    if (!file)
        fuzzing_fail ("out of memory");
    cp_backup_header_t header;
    char why [256] = "";
    int rc = cp_backup_verify (file, &header, why, sizeof why);
    fclose (file);
    if (rc) {
        if (!s_is_reader_error (rc) || why [0] == 0)
            fuzzing_fail ("verify: failed with a stray code or no reason");
        return;
    }
    if (header.header_size + header.store_size + CP_BACKUP_CHECKSUM_SIZE != size)
        fuzzing_fail ("verify: passed a file of another size than its header announces");
    uint8_t checksum [CP_BACKUP_CHECKSUM_SIZE];
    crypto_generichash (checksum, sizeof checksum, data, size - sizeof checksum, NULL, 0);
    if (memcmp (checksum, data + size - sizeof checksum, sizeof checksum) != 0)
        fuzzing_fail ("verify: passed a file whose checksum does not match");
    cp_backup_header_t alone;
    if (cp_backup_header_decode (data, size, &alone, NULL, 0) != 0
    ||  memcmp (&alone, &header, sizeof alone) != 0)
        fuzzing_fail ("verify: its header differs from the decoder's");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (sodium_init () < 0)
        fuzzing_fail ("libsodium does not initialise");
    s_header (data, size);
    s_verify (data, size);
    return 0;
}
