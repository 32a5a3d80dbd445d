/*  central_publications: disclosure control already worked out, kept (see
    the header).

    Each publication kept is its key (a 32-byte digest) and the count
    units' cp_suppressed_t.  The digest covers the figures field by field,
    never a struct's padding, so equal figures always give equal keys.   */

#include "central_publications.h"
#include "cp_error.h"

#include <assert.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define S_KEY_SIZE crypto_generichash_BYTES

//  The figures' counts are one block of int64s after the catalogue: what
//  the digest reads in one piece must hold no padding.
_Static_assert (sizeof (cp_figures_t) == offsetof (cp_figures_t, managed)
                + 4 * sizeof (int64_t) + sizeof (((cp_figures_t *) 0)->breakdowns),
                "cp_figures_t's counts are one block");

typedef struct {
    uint8_t key [S_KEY_SIZE];
    int count;                          //  units; 0: an empty place
    cp_suppressed_t *suppressed;        //  count of them (owned)
    uint64_t used;                      //  the tick it was last found or kept at
} s_kept_t;

struct _central_publications_t {
    pthread_mutex_t lock;               //  over everything below
    s_kept_t kept [CENTRAL_PUBLICATIONS_KEPT];
    uint64_t tick;                      //  counts lookups, for least recently used
    uint64_t worked_out, found;
};

central_publications_t *
central_publications_new (void)
{
    if (sodium_init () < 0)             //  repeating it is free
        return NULL;
    central_publications_t *self = calloc (1, sizeof (central_publications_t));
    if (self && pthread_mutex_init (&self->lock, NULL)) {
        free (self);
        return NULL;
    }
    return self;
}

void
central_publications_destroy (central_publications_t **self_p)
{
    assert (self_p);
    central_publications_t *self = *self_p;
    if (!self)
        return;
    for (int index = 0; index < CENTRAL_PUBLICATIONS_KEPT; index++)
        free (self->kept [index].suppressed);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

static void
s_update_int (crypto_generichash_state *state, int64_t value)
{
    uint8_t bytes [8];
    for (int byte = 0; byte < 8; byte++)
        bytes [byte] = (uint8_t) ((uint64_t) value >> (8 * byte));
    crypto_generichash_update (state, bytes, sizeof bytes);
}

//  The digest of everything cp_suppress's result depends on, or
//  cp_suppress_periods's (periods > 0: that many periods of count units).
static void
s_key (const cp_figures_t *units, int periods, const int *parent, int count,
       const cp_catalogue_t *catalogue, int threshold, uint8_t *key)
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, S_KEY_SIZE);
    s_update_int (&state, periods);
    s_update_int (&state, count);
    s_update_int (&state, threshold);
    s_update_int (&state, cp_catalogue_version (catalogue));
    for (int unit = 0; unit < count; unit++)
        s_update_int (&state, parent [unit]);
    for (int unit = 0; unit < (periods > 0? periods: 1) * count; unit++) {
        s_update_int (&state, units [unit].catalogue);
        crypto_generichash_update (&state, (const uint8_t *) &units [unit].managed,
                                   sizeof (cp_figures_t) - offsetof (cp_figures_t, managed));
    }
    crypto_generichash_final (&state, key, S_KEY_SIZE);
}

//  Copies a kept publication of key into suppressed; false when none.
static bool
s_find (central_publications_t *self, const uint8_t *key, int count,
        cp_suppressed_t *suppressed)
{
    bool found = false;
    pthread_mutex_lock (&self->lock);
    self->tick++;
    for (int index = 0; index < CENTRAL_PUBLICATIONS_KEPT && !found; index++) {
        s_kept_t *kept = &self->kept [index];
        if (kept->count == count && memcmp (kept->key, key, S_KEY_SIZE) == 0) {
            memcpy (suppressed, kept->suppressed, (size_t) count * sizeof (cp_suppressed_t));
            kept->used = self->tick;
            self->found++;
            found = true;
        }
    }
    pthread_mutex_unlock (&self->lock);
    return found;
}

//  Keeps a publication in place of the least recently used one.
static void
s_keep (central_publications_t *self, const uint8_t *key, int count,
        const cp_suppressed_t *suppressed)
{
    cp_suppressed_t *copy = malloc ((size_t) count * sizeof (cp_suppressed_t));
    if (!copy)
        return;                         //  not kept: only the next one costs more
    memcpy (copy, suppressed, (size_t) count * sizeof (cp_suppressed_t));
    pthread_mutex_lock (&self->lock);
    self->worked_out++;
    s_kept_t *oldest = &self->kept [0];
    for (int index = 1; index < CENTRAL_PUBLICATIONS_KEPT; index++)
        if (self->kept [index].used < oldest->used)
            oldest = &self->kept [index];
    free (oldest->suppressed);
    memcpy (oldest->key, key, S_KEY_SIZE);
    oldest->count = count;
    oldest->suppressed = copy;
    oldest->used = ++self->tick;
    pthread_mutex_unlock (&self->lock);
}

//  cp_suppress (periods 0) or cp_suppress_periods, kept.
static int
s_suppress (central_publications_t *self, const cp_figures_t *units, int periods,
            const int *parent, int count, const cp_catalogue_t *catalogue, int threshold,
            cp_suppressed_t *suppressed)
{
    int held = (periods > 0? periods: 1) * count;
    uint8_t key [S_KEY_SIZE];
    if (self) {
        s_key (units, periods, parent, count, catalogue, threshold, key);
        if (s_find (self, key, held, suppressed))
            return 0;
    }
    int rc = periods > 0
           ? cp_suppress_periods (units, periods, parent, count, catalogue, threshold, suppressed)
           : cp_suppress (units, parent, count, catalogue, threshold, suppressed);
    if (self && rc == 0)
        s_keep (self, key, held, suppressed);
    return rc;
}

int
central_publications_suppress (central_publications_t *self, const cp_figures_t *units,
                               const int *parent, int count, const cp_catalogue_t *catalogue,
                               int threshold, cp_suppressed_t *suppressed)
{
    return s_suppress (self, units, 0, parent, count, catalogue, threshold, suppressed);
}

int
central_publications_suppress_periods (central_publications_t *self, const cp_figures_t *units,
                                       int periods, const int *parent, int count,
                                       const cp_catalogue_t *catalogue, int threshold,
                                       cp_suppressed_t *suppressed)
{
    if (periods < 1)
        return CP_EUSAGE;
    return s_suppress (self, units, periods, parent, count, catalogue, threshold, suppressed);
}

void
central_publications_counts (central_publications_t *self, uint64_t *worked_out,
                             uint64_t *found)
{
    assert (self && worked_out && found);
    pthread_mutex_lock (&self->lock);
    *worked_out = self->worked_out;
    *found = self->found;
    pthread_mutex_unlock (&self->lock);
}
