/*  bench_central_view: how long the central takes to compute a view.

        bench_central_view DATA PERIOD [SCOPE] [RUNS]

    Opens the central's store once, read-only (beside a running central,
    as `cpsync-central query` does), then computes the view of PERIOD
    for SCOPE (default national) RUNS times (default 20), written as JSON
    to /dev/null, and prints the fastest, median and slowest time in
    milliseconds: the part of `cpsync-central query` that grows with the
    data, without process start and store opening.                      */

#include "bench_timing.h"
#include "central_report.h"
#include "central_store.h"
#include "cp_error.h"
#include "cp_view.h"

#include <czmq.h>
#include <sodium.h>

int
main (int argc, char **argv)
{
    if (argc < 3 || sodium_init () < 0) {
        fprintf (stderr, "usage: bench_central_view DATA PERIOD [SCOPE] [RUNS]\n");
        return 2;
    }
    const char *scope = argc > 3? argv [3]: "national";
    int runs = argc > 4? atoi (argv [4]): 20;
    if (runs < 1)
        runs = 1;
    cp_period_t period;
    cp_scope_t parsed;
    if (cp_period_parse (argv [2], &period) || cp_scope_parse (scope, &parsed)) {
        fprintf (stderr, "bench_central_view: cannot parse %s or %s\n", argv [2], scope);
        return 2;
    }
    int error = 0;
    central_store_t *store = central_store_open (argv [1], CENTRAL_STORE_READONLY, &error);
    if (!store) {
        fprintf (stderr, "bench_central_view: %s: %s\n", argv [1], cp_strerror (error));
        return 2;
    }
    const cp_catalogue_t *catalogue = central_store_catalogue (store);
    FILE *out = fopen ("/dev/null", "w");
    double *times = malloc (runs * sizeof (double));
    assert (out && times);
    for (int run = 0; run < runs; run++) {
        double start = bench_now_ms ();
        int rc = central_report_view (store, &period, scope, cp_catalogue_version (catalogue), 0,
                                      NULL, "json", "en", out);
        times [run] = bench_now_ms () - start;
        if (rc) {
            fprintf (stderr, "bench_central_view: %s\n", cp_strerror (rc));
            return 1;
        }
    }
    bench_sort_ms (times, runs);
    printf ("view %s %s: min %.3f ms, median %.3f ms, max %.3f ms over %d runs\n", argv [2], scope,
            times [0], times [runs / 2], times [runs - 1], runs);
    free (times);
    fclose (out);
    central_store_destroy (&store);
    return 0;
}
