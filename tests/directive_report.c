/*  directive_report: what a central holds of a node's reports on one
    directive, for test_directives.sh while no command of cpsync-central
    shows it on this branch.

        directive_report CENTRAL_DIR SEQ MUNICIPALITY

    Prints "received DAY done DAY note NOTE" (a day is YYYY-MM-DD, or "-"
    for none) and exits 0; exits 1 when the central holds no report of it,
    2 on a usage or store error.  Opens the store read-only, so it may run
    beside cpsync-central run.                                              */

#include "central_store.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_municipality.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_day (int32_t day, char *buf)
{
    if (day)
        cp_date_format (day, buf);
    else
        strcpy (buf, "-");
}

int
main (int argc, char **argv)
{
    int municipality = argc == 4? cp_municipality_index (argv [3]): -1;
    if (argc != 4 || municipality < 0 || atoll (argv [2]) < 1) {
        fprintf (stderr, "usage: directive_report CENTRAL_DIR SEQ MUNICIPALITY\n");
        return 2;
    }
    int error = 0;
    central_store_t *store = central_store_open (argv [1], CENTRAL_STORE_READONLY, &error);
    if (!store) {
        fprintf (stderr, "directive_report: %s: %s\n", argv [1], cp_strerror (error));
        return 2;
    }
    central_directive_report_t report;
    int rc = central_store_directive_report (store, (uint64_t) atoll (argv [2]), municipality,
                                             &report);
    central_store_destroy (&store);
    if (rc == CP_ENOTFOUND)
        return 1;
    if (rc) {
        fprintf (stderr, "directive_report: %s\n", cp_strerror (rc));
        return 2;
    }
    char received [16], done [16];
    s_day (report.received, received);
    s_day (report.done, done);
    printf ("received %s done %s note %s\n", received, done, report.note);
    return 0;
}
