/*  cp_figures: month digests, their comparison and the periods that differ.
    See cp_figures.h.                                                        */

#include "cp_figures.h"
#include "cp_error.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CELL_SIZE 10          //  cp_tally's stored bytes per cell

//  What the digests are of, so that no other BLAKE2b of ours can pass for one.
static const uint8_t s_personal [crypto_generichash_blake2b_PERSONALBYTES] =
    "cpsync months v1";
static const uint8_t s_set_personal [crypto_generichash_blake2b_PERSONALBYTES] =
    "cpsync msets v1";

void
cp_figures_digest (const uint8_t *row, size_t size, uint8_t *digest)
{
    crypto_generichash_blake2b_salt_personal (digest, CP_FIGURES_DIGEST_SIZE, row, size,
                                              NULL, 0, NULL, s_personal);
}

int
cp_figures_add (cp_month_digests_t *figures, int32_t month, const uint8_t *row, size_t size)
{
    if (month < 0 || month >= CP_FIGURES_MONTHS || figures->count >= CP_FIGURES_MONTHS
    ||  (figures->count && figures->months [figures->count - 1].month >= month))
        return CP_EMALFORMED;
    //  A row's framing: a u16 count (little-endian), then its cells.
    if (size < 2)
        return CP_EMALFORMED;
    size_t cells = row [0] | (size_t) row [1] << 8;
    if (size != 2 + cells * S_CELL_SIZE)
        return CP_EMALFORMED;
    if (cells == 0)
        return 0;
    cp_month_digest_t *entry = &figures->months [figures->count++];
    entry->month = month;
    cp_figures_digest (row, size, entry->digest);
    return 0;
}

size_t
cp_figures_compare (const cp_month_digests_t *ours, const cp_month_digests_t *theirs,
                    int32_t *differ)
{
    //  Both lists are in month order: one pass over the two.
    size_t count = 0, left = 0, right = 0;
    while (left < ours->count || right < theirs->count) {
        int32_t mine = left < ours->count? ours->months [left].month: INT32_MAX;
        int32_t other = right < theirs->count? theirs->months [right].month: INT32_MAX;
        if (mine < other) {
            differ [count++] = mine;
            left++;
        }
        else
        if (other < mine) {
            differ [count++] = other;
            right++;
        }
        else {
            if (memcmp (ours->months [left].digest, theirs->months [right].digest,
                        CP_FIGURES_DIGEST_SIZE) != 0)
                differ [count++] = mine;
            left++;
            right++;
        }
    }
    return count;
}

//  Length of "YYYY-MM ..." of shown months, then " +rest more" when some
//  are left out.
static size_t
s_periods_length (size_t shown, size_t rest)
{
    size_t length = shown? shown * 8 - 1: 0;
    if (rest) {
        char suffix [32];
        length += (size_t) snprintf (suffix, sizeof suffix, "%s+%zu more", shown? " ": "",
                                     rest);
    }
    return length;
}

void
cp_figures_periods (const int32_t *months, size_t count, char *text, size_t size)
{
    assert (size >= 16);
    //  The most months that fit with the count of the others after them.
    size_t shown = count;
    while (shown > 0 && s_periods_length (shown, count - shown) >= size)
        shown--;
    size_t used = 0;
    text [0] = 0;
    for (size_t index = 0; index < shown; index++) {
        int32_t month = months [index];
        used += (size_t) snprintf (text + used, size - used, "%s%04d-%02d", index? " ": "",
                                   2000 + month / 12, month % 12 + 1);
    }
    if (shown < count)
        snprintf (text + used, size - used, "%s+%zu more", shown? " ": "", count - shown);
}

void
cp_figures_fingerprint (const cp_month_digests_t *figures, uint8_t *fingerprint)
{
    crypto_generichash_blake2b_state state;
    crypto_generichash_blake2b_init_salt_personal (&state, NULL, 0, CP_FIGURES_DIGEST_SIZE,
                                                   NULL, s_set_personal);
    for (uint32_t index = 0; index < figures->count; index++) {
        uint8_t month [4];
        uint32_t number = (uint32_t) figures->months [index].month;
        for (int byte = 0; byte < 4; byte++)
            month [byte] = (uint8_t) (number >> (24 - 8 * byte));
        crypto_generichash_blake2b_update (&state, month, sizeof month);
        crypto_generichash_blake2b_update (&state, figures->months [index].digest,
                                           CP_FIGURES_DIGEST_SIZE);
    }
    crypto_generichash_blake2b_final (&state, fingerprint, CP_FIGURES_DIGEST_SIZE);
}

int
cp_figures_row_differences (const uint8_t *ours, size_t our_size, const uint8_t *theirs,
                            size_t their_size, cp_cell_difference_t *differences)
{
    //  Dense rows: a cell missing from one sparse row is a zero there
    cp_tally_row_t *rows = calloc (2, sizeof (cp_tally_row_t));
    assert (rows);
    int count = 0;
    if ((our_size && cp_tally_row_decode_add (ours, our_size, &rows [0]))
    ||  (their_size && cp_tally_row_decode_add (theirs, their_size, &rows [1])))
        count = -1;
    for (int cell = 0; count >= 0 && cell < CP_CELLS; cell++)
        if (rows [0].cells [cell] != rows [1].cells [cell])
            differences [count++] = (cp_cell_difference_t) {
                (uint16_t) cell, rows [0].cells [cell], rows [1].cells [cell]};
    free (rows);
    return count;
}
