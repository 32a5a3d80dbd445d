/*  cp_parallel: an ordered loop over blocks of work, on the caller's thread
    and one helper.

    Some work comes in many independent pieces that the caller then needs
    in order on its own thread: sealing the case records of a commit
    before putting them (LMDB's write transaction belongs to one thread),
    verifying and opening the batches of a group before applying them.
    A cp_parallel_t cuts count items into blocks; a helper thread works
    through them from the first while the caller takes them back in order
    with cp_parallel_next, working itself on any block nobody has claimed
    yet instead of waiting.  The two threads share the items only through
    the work function, each block done by exactly one of them.

    Use it where a block costs far more than a thread switch (tens of
    microseconds or more): starting the helper costs a thread.           */

#ifndef CP_PARALLEL_H_INCLUDED
#define CP_PARALLEL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _cp_parallel_t cp_parallel_t;

//  Does items first to end - 1.  helper says which thread runs it (so that
//  each can use its own resources, e.g. a sealer with its own nonces).
typedef void (cp_parallel_fn) (void *args, size_t first, size_t end, bool helper);

//  A loop over count items in blocks of block, running work (args passed
//  through).  With ahead > 0 the helper claims no block more than ahead
//  blocks past those handed back (what a block makes is then held for at
//  most that many).  With helper false, or when the thread does not start,
//  the caller's thread does every block in cp_parallel_next.  Whatever work
//  touches is shared with the helper: the caller must not touch an item
//  until cp_parallel_next hands its block back or the loop is destroyed.
cp_parallel_t *
    cp_parallel_new (size_t count, size_t block, size_t ahead, bool helper,
                     cp_parallel_fn *work, void *args);

//  The next block, in order, done: items *first to *end - 1.  Does the
//  next unclaimed block itself while the one it needs is being done by the
//  helper.  Returns false when every block has been handed back.
bool
    cp_parallel_next (cp_parallel_t *self, size_t *first, size_t *end);

//  Stops the helper (blocks not handed back may stay undone), waits for
//  the block it is doing and frees the loop; accepts NULL, clears the
//  caller's pointer.
void
    cp_parallel_destroy (cp_parallel_t **self_p);

#endif
