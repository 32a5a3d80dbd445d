/*  central_figures: per municipality, whether FIGURES is due; the body.
    See central_figures.h.                                                  */

#include "central_figures.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "cp_wire.h"

#include <czmq.h>

//  What the central knows of one node's figures.
typedef struct {
    bool due;                   //  figures may have changed since the last FIGURES
    bool forced;                //  due whether or not they changed (HELLO, recheck)
    bool sent_any;              //  a FIGURES went out since the server started
    int64_t sent_at;            //  zclock_mono () of the last one
    uint64_t sent_as_of;        //  its as_of
    uint8_t fingerprint [CP_FIGURES_DIGEST_SIZE];   //  cp_figures_fingerprint of it
} s_node_t;

struct _central_figures_t {
    central_store_t *store;     //  read only (borrowed)
    s_node_t *nodes;            //  one per municipality
    cp_month_digests_t *figures;    //  scratch: read, fingerprinted, encoded
    bool off;                   //  CPSYNC_FIGURES=off: never sent
};

//  For tests that read a node's log as its import order, seq for line
bool
central_figures_off (void)
{
    const char *knob = getenv ("CPSYNC_FIGURES");
    return knob && strcmp (knob, "off") == 0;
}

central_figures_t *
central_figures_new (central_store_t *store)
{
    central_figures_t *self = calloc (1, sizeof (central_figures_t));
    if (!self)
        return NULL;
    self->store = store;
    self->off = central_figures_off ();
    self->nodes = calloc ((size_t) cp_municipality_count (), sizeof (s_node_t));
    self->figures = calloc (1, sizeof (cp_month_digests_t));
    if (!self->nodes || !self->figures)
        central_figures_destroy (&self);
    return self;
}

void
central_figures_destroy (central_figures_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    central_figures_t *self = *self_p;
    free (self->nodes);
    free (self->figures);
    free (self);
    *self_p = NULL;
}

void
central_figures_changed (central_figures_t *self, int municipality)
{
    assert (municipality >= 0 && municipality < cp_municipality_count ());
    self->nodes [municipality].due = true;
}

void
central_figures_hello (central_figures_t *self, int municipality)
{
    assert (municipality >= 0 && municipality < cp_municipality_count ());
    self->nodes [municipality].due = true;
    self->nodes [municipality].forced = true;
}

//  Whether the node's latest verdict is on the FIGURES as of as_of.  The
//  node compares only when its head is as_of: one that arrived while it
//  appended events of its own (a receipt, a staffing) was ignored, and
//  the same figures must go again for a verdict on its whole log.  A
//  store that cannot say counts as no (one FIGURES more, harmless).
static bool
s_answered (central_figures_t *self, int municipality, uint64_t as_of)
{
    central_reconciliation_t last;
    return central_store_reconciliation (self->store, municipality, &last) == 0
        && last.entry == as_of;
}

uint8_t *
central_figures_next (central_figures_t *self, int municipality, int64_t now, size_t *size,
                      uint64_t *as_of)
{
    assert (municipality >= 0 && municipality < cp_municipality_count ());
    s_node_t *node = &self->nodes [municipality];
    if (self->off)
        return NULL;
    if (node->sent_any && now - node->sent_at >= CENTRAL_FIGURES_RECHECK_MSECS)
        node->due = node->forced = true;
    if (!node->due || (node->sent_any && now - node->sent_at < CENTRAL_FIGURES_MSECS))
        return NULL;
    uint64_t head;
    int rc = central_store_figures (self->store, municipality, &head, self->figures);
    if (rc) {
        zsys_error ("central_figures: the figures of %s were not read: %s",
                    cp_municipality_code (municipality), cp_strerror (rc));
        return NULL;
    }
    //  A node with events left to ship would ignore them: wait (still due).
    //  Nothing applied yet is nothing to check.
    if (self->figures->as_of != head || self->figures->as_of == 0)
        return NULL;
    uint8_t fingerprint [CP_FIGURES_DIGEST_SIZE];
    cp_figures_fingerprint (self->figures, fingerprint);
    bool same = node->sent_any
             && memcmp (fingerprint, node->fingerprint, sizeof fingerprint) == 0;
    node->due = false;
    if (same && !node->forced && s_answered (self, municipality, node->sent_as_of))
        return NULL;            //  only the node's verdict on the last one since
    node->forced = false;
    node->sent_any = true;
    node->sent_at = now;
    node->sent_as_of = self->figures->as_of;
    memcpy (node->fingerprint, fingerprint, sizeof fingerprint);
    *as_of = self->figures->as_of;
    return cp_wire_figures_encode (self->figures, size);
}
