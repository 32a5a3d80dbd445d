/*  bench_timing: the clock and the sort the benchmark programs time with.  */

#ifndef BENCH_TIMING_H_INCLUDED
#define BENCH_TIMING_H_INCLUDED

#include <stdlib.h>
#include <time.h>

//  Milliseconds of the monotonic clock.
static inline double
bench_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000.0 + now.tv_nsec / 1e6;
}

static inline int
s_bench_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  Sorts count times, fastest first (for the minimum, median, maximum).
static inline void
bench_sort_ms (double *times, size_t count)
{
    qsort (times, count, sizeof (double), s_bench_compare);
}

#endif
