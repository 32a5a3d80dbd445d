/*  cp_table: memory for a large hash table probed at random.

    Two things make such a table slow that have nothing to do with its
    code.  Fresh pages that are read first (every lookup reads a slot)
    map the kernel's shared zero page, and the first write to each then
    costs a TLB shootdown on every core the process has threads on: at
    the central, with its helper and I/O threads, that was a sixth of its
    time while the case cache's table grew.  And a table of megabytes on
    4 KiB pages misses the TLB at nearly every probe, as well as the
    cache.  So the memory given here is zeroed with its pages already
    mapped for writing, and a table of 2 MiB or more is aligned for the
    kernel's huge pages and asks for them (where transparent huge pages
    are on "madvise", the default).  Where the kernel cannot populate
    (before Linux 5.14), the table works the same, only slower to fill. */

#ifndef CP_TABLE_H_INCLUDED
#define CP_TABLE_H_INCLUDED

#include <stddef.h>

//  count zeroed items of size bytes, for free (); asserts on no memory,
//  as the tables' callers always have.
void *
    cp_table_new (size_t count, size_t size);

#endif
