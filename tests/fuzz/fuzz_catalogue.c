/*  fuzz_catalogue: libFuzzer target for catalogue texts (cp_catalogue_new
    and cp_catalogue_check_revision), which an administrator publishes and
    every node and the central read.

    Each input is tried twice: as the base catalogue (version 1) and as a
    revision of the built-in catalogue 1.  What fails must say why.  A base
    that loads must have version 1, at most CP_CODES_MAX codes of at most
    CP_CODE_MAX characters per dimension, each found again by its own code
    and folding into a code; a revision that checks must be
    version 2 and load on top of catalogue 1, keeping every code of 1 at
    its id.  A broken promise aborts, and so does a sanitizer's report, so
    the fuzzer keeps the input.

    The saved corpus (corpus/catalogue) holds the two built-in catalogues
    and copies with one thing wrong (a code renamed or removed, a
    duplicate, a version skipped, an overlong code, a wrong type).
    replay.c runs it as an ordinary test.  Build with clang
    -fsanitize=fuzzer,address,undefined.                                    */

#include "fuzzing.h"
#include "cp_catalogue.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Every code of a loaded catalogue is itself, within its limits.
static void
s_check_codes (const cp_catalogue_t *catalogue)
{
    for (int dim = 0; dim < CP_DIM_COUNT; dim++) {
        int count = cp_catalogue_count (catalogue, (cp_dim_t) dim);
        if (count < 0 || count > CP_CODES_MAX)
            fuzzing_fail ("a dimension over its number of codes");
        for (int id = 0; id < count; id++) {
            const char *code = cp_catalogue_code (catalogue, (cp_dim_t) dim, id);
            size_t length = strlen (code);
            if (length == 0 || length > CP_CODE_MAX)
                fuzzing_fail ("a code empty or over its length");
            if (cp_catalogue_lookup (catalogue, (cp_dim_t) dim, code, length) != id)
                fuzzing_fail ("a code not found again at its id");
            int since = cp_catalogue_since (catalogue, (cp_dim_t) dim, id);
            if (since < 1 || since > cp_catalogue_version (catalogue))
                fuzzing_fail ("a code from a version the catalogue does not have");
            int folded = cp_catalogue_fold (catalogue, (cp_dim_t) dim, id, 1);
            if (folded < 0 || folded >= count)
                fuzzing_fail ("a code folds into no code");
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static cp_catalogue_t *first = NULL;
    if (!first && !(first = cp_catalogue_new_builtin (1)))
        fuzzing_fail ("set-up");
    char *text = malloc (size + 1);
    if (!text)
        return 0;
    memcpy (text, data, size);
    text [size] = 0;            //  the loaders read a NUL-terminated text
    char why [256] = "";

    const char *base [] = {text};
    cp_catalogue_t *catalogue = cp_catalogue_new (base, 1, why, sizeof why);
    if (catalogue) {
        if (cp_catalogue_version (catalogue) != 1)
            fuzzing_fail ("a base that is not version 1");
        s_check_codes (catalogue);
        cp_catalogue_destroy (&catalogue);
    }
    else
    if (why [0] == 0)
        fuzzing_fail ("a base refused without a reason");

    why [0] = 0;
    int version = cp_catalogue_check_revision (first, text, why, sizeof why);
    if (version < 0 && why [0] == 0)
        fuzzing_fail ("a revision refused without a reason");
    if (version >= 0) {
        if (version != 2)
            fuzzing_fail ("a revision that is not the next version");
        const char *texts [] = {cp_catalogue_builtin [1], text};
        catalogue = cp_catalogue_new (texts, 2, why, sizeof why);
        if (!catalogue)
            fuzzing_fail ("a revision that checks does not load");
        s_check_codes (catalogue);
        for (int dim = 0; dim < CP_DIM_COUNT; dim++)
            for (int id = 0; id < cp_catalogue_count (first, (cp_dim_t) dim); id++)
                if (strcmp (cp_catalogue_code (first, (cp_dim_t) dim, id),
                            cp_catalogue_code (catalogue, (cp_dim_t) dim, id)))
                    fuzzing_fail ("a revision moved a code of version 1");
        cp_catalogue_destroy (&catalogue);
    }
    free (text);
    return 0;
}
