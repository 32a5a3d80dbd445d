/*  cp_table: memory for a large hash table probed at random (see the
    header).                                                              */

#include "cp_table.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define S_HUGE_PAGE ((size_t) 2 << 20)

void *
cp_table_new (size_t count, size_t size)
{
    assert (size > 0 && count <= SIZE_MAX / size);
    size_t bytes = count * size;
    if (bytes >= S_HUGE_PAGE) {
        bytes = (bytes + S_HUGE_PAGE - 1) & ~(S_HUGE_PAGE - 1);
        void *table = aligned_alloc (S_HUGE_PAGE, bytes);
        assert (table);
#ifdef MADV_HUGEPAGE
        madvise (table, bytes, MADV_HUGEPAGE);
#endif
        memset (table, 0, bytes);       //  written first: no zero page
        return table;
    }
    uint8_t *table = calloc (count? count: 1, size);
    assert (table);
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t) sysconf (_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t) table + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t) (table + bytes)) & ~(page - 1);
    if (end > start)
        madvise ((void *) start, end - start, MADV_POPULATE_WRITE);
#endif
    return table;
}
