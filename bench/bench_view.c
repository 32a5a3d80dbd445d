/*  bench_view: how long a node takes to compute the view of a period.

        bench_view DATA PERIOD [RUNS]

    Opens the node once, then computes the view RUNS times (default 50) and
    prints the fastest, median and slowest time in milliseconds: the part
    of `cpsync-node view` that grows with the data, without process start. */

#include "bench_timing.h"
#include "cp_view.h"
#include "node_store.h"

#include <czmq.h>
#include <sodium.h>

int
main (int argc, char **argv)
{
    if (argc < 3 || sodium_init () < 0) {
        fprintf (stderr, "usage: bench_view DATA PERIOD [RUNS]\n");
        return 2;
    }
    int runs = argc > 3? atoi (argv [3]): 50;
    if (runs < 1)
        runs = 1;
    cp_period_t period;
    int error = 0;
    node_store_t *store = node_store_open (argv [1], &error);
    if (!store || cp_period_parse (argv [2], &period)) {
        fprintf (stderr, "bench_view: cannot open %s or parse %s\n", argv [1], argv [2]);
        return 2;
    }
    const cp_catalogue_t *catalogue = node_store_catalogue (store);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    double *times = malloc (runs * sizeof (double));
    int64_t managed = 0;
    for (int run = 0; run < runs; run++) {
        double start = bench_now_ms ();
        cp_view_init (view, &period, "bench");
        if (node_store_view (store, view))
            return 1;
        cp_view_figures (view, catalogue, cp_catalogue_version (catalogue), figures);
        times [run] = bench_now_ms () - start;
        managed = figures->managed;
    }
    bench_sort_ms (times, runs);
    printf ("view %s: min %.3f ms, median %.3f ms, max %.3f ms over %d runs (managed %lld)\n",
            argv [2], times [0], times [runs / 2], times [runs - 1], runs, (long long) managed);
    free (times);
    free (view);
    free (figures);
    node_store_destroy (&store);
    return 0;
}
