/*  cp_parallel: blocks are claimed through an atomic index, by the helper
    actor from the first on and by the caller's thread when the block it
    needs next is not done.  Whoever does a block marks it done (release);
    the caller hands blocks back in order once they are done (acquire).
    Nothing else is shared but the count handed back, which a bounded
    helper reads to stay within its lead; zactor_destroy joins the helper
    before the loop is freed.                                              */

#include "cp_parallel.h"

#include <assert.h>
#include <czmq.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define S_NAP_NSECS 300000      //  a helper at its lead waits this long, then looks again

struct _cp_parallel_t {
    size_t count;               //  items
    size_t block;               //  items a block
    size_t blocks;
    size_t ahead;               //  blocks the helper may claim past those handed back (0: any)
    cp_parallel_fn *work;
    void *args;                 //  passed to work
    atomic_size_t claimed;      //  blocks claimed so far: the next to claim
    atomic_bool stop;           //  destroy wants the helper gone
    atomic_uchar *done;         //  per block: done (release by whoever did it)
    atomic_size_t handed;       //  blocks handed back by next
    zactor_t *helper;           //  NULL when the caller does it all
};

//  Claims the next block nobody has claimed.  Returns it, or SIZE_MAX when
//  every block is claimed.
static size_t
s_claim (cp_parallel_t *self)
{
    size_t block = atomic_load (&self->claimed);
    while (block < self->blocks)
        if (atomic_compare_exchange_weak (&self->claimed, &block, block + 1))
            return block;
    return SIZE_MAX;
}

static size_t
s_end (const cp_parallel_t *self, size_t first)
{
    return self->count - first < self->block? self->count: first + self->block;
}

//  Does one block and marks it done.
static void
s_do (cp_parallel_t *self, size_t block, bool helper)
{
    size_t first = block * self->block;
    self->work (self->args, first, s_end (self, first), helper);
    atomic_store_explicit (&self->done [block], 1, memory_order_release);
}

//  Does blocks until every block is claimed or destroy says stop.
static void
s_helper_actor (zsock_t *pipe, void *args)
{
    cp_parallel_t *self = args;
    zsock_signal (pipe, 0);
    while (!atomic_load (&self->stop)) {
        if (self->ahead
        &&  atomic_load (&self->claimed) >= atomic_load (&self->handed) + self->ahead) {
            //  At its lead: what it did waits for the caller, who is slower.
            struct timespec nap = {0, S_NAP_NSECS};
            nanosleep (&nap, NULL);
            continue;
        }
        size_t block = s_claim (self);
        if (block == SIZE_MAX)
            break;                      //  all claimed
        s_do (self, block, true);
    }
    char *command = zstr_recv (pipe);   //  $TERM, from zactor_destroy
    zstr_free (&command);
}

cp_parallel_t *
cp_parallel_new (size_t count, size_t block, size_t ahead, bool helper, cp_parallel_fn *work,
                 void *args)
{
    assert (block > 0 && work);
    cp_parallel_t *self = calloc (1, sizeof (cp_parallel_t));
    assert (self);
    self->count = count;
    self->block = block;
    self->blocks = (count + block - 1) / block;
    self->ahead = ahead;
    self->work = work;
    self->args = args;
    self->done = calloc (self->blocks + 1, sizeof (atomic_uchar));
    assert (self->done);
    atomic_init (&self->claimed, 0);
    atomic_init (&self->handed, 0);
    atomic_init (&self->stop, false);
    //  A helper that does not start (no thread) only costs speed.
    if (helper && self->blocks > 1)
        self->helper = zactor_new (s_helper_actor, self);
    return self;
}

bool
cp_parallel_next (cp_parallel_t *self, size_t *first, size_t *end)
{
    size_t block = atomic_load (&self->handed);
    if (block >= self->blocks)
        return false;
    while (!atomic_load_explicit (&self->done [block], memory_order_acquire)) {
        //  Not done yet: do the next unclaimed block (this one, unless the
        //  helper just took it), or let the helper finish it.
        size_t claim = s_claim (self);
        if (claim != SIZE_MAX)
            s_do (self, claim, false);
        else
            sched_yield ();
    }
    atomic_store (&self->handed, block + 1);
    *first = block * self->block;
    *end = s_end (self, *first);
    return true;
}

void
cp_parallel_destroy (cp_parallel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_parallel_t *self = *self_p;
    atomic_store (&self->stop, true);
    zactor_destroy (&self->helper);     //  waits for the block it is doing
    free (self->done);
    free (self);
    *self_p = NULL;
}
