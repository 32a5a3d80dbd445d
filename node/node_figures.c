/*  node_figures: the central's rows beside the node's.  See node_figures.h. */

#include "node_figures.h"
#include "cp_date.h"
#include "cp_error.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

static const char *
s_verdict_name (int verdict)
{
    return verdict == CP_FIGURES_IN_SYNC? "in_sync"
         : verdict == CP_FIGURES_DIVERGED? "diverged": "unknown";
}

//  One month: its cells that differ, as a JSON object or table lines.
static void
s_month_print (const cp_catalogue_t *catalogue, const cp_month_row_t *ours,
               const cp_month_row_t *theirs, bool json, bool first, FILE *out)
{
    cp_cell_difference_t *differences = malloc (CP_CELLS * sizeof *differences);
    assert (differences);
    //  Both rows decoded before: the central's by FIGROWS's decoder, ours
    //  by the store's reads (a damaged one shows as no difference listed).
    int count = cp_figures_row_differences (ours->row, ours->size, theirs->row, theirs->size,
                                            differences);
    char month [16];
    snprintf (month, sizeof month, "%04d-%02d", 2000 + theirs->month / 12,
              theirs->month % 12 + 1);
    if (json)
        fprintf (out, "%s{\"month\": \"%s\", \"node_row\": %s, \"central_row\": %s, "
                 "\"readable\": %s, \"cells\": [", first? "": ", ", month,
                 ours->size? "true": "false", theirs->size? "true": "false",
                 count >= 0? "true": "false");
    else
    if (count < 0)
        fprintf (out, "%-8s (this node's row of the month does not read)\n", month);
    for (int index = 0; index < count; index++) {
        char name [64];
        cp_tally_cell_name (catalogue, differences [index].cell, name, sizeof name);
        int64_t node = differences [index].ours, central = differences [index].theirs;
        if (json)
            fprintf (out, "%s{\"cell\": \"%s\", \"node\": %" PRId64 ", \"central\": %" PRId64
                     ", \"difference\": %" PRId64 "}", index? ", ": "", name, node, central,
                     central - node);
        else
            fprintf (out, "%-8s %-40s %10" PRId64 " %10" PRId64 " %+10" PRId64 "\n", month,
                     name, node, central, central - node);
    }
    if (json)
        fprintf (out, "]}");
    free (differences);
}

int
node_figures_print (node_store_t *store, bool json, FILE *out)
{
    node_reconciliation_t last;
    int rc = node_store_reconciliation (store, &last);
    cp_month_rows_t *theirs = calloc (2, sizeof (cp_month_rows_t));
    assert (theirs);
    cp_month_rows_t *ours = theirs + 1;
    int64_t received = 0;
    if (rc == 0)
        rc = node_store_central_rows (store, theirs, ours, &received);
    bool kept = rc == 0;
    if (rc == CP_ENOTFOUND)
        rc = 0;
    if (rc) {
        free (theirs);
        return rc;
    }
    char when [32] = "";
    if (kept)
        cp_date_format_instant (received, when, sizeof when);
    const char *verdict = s_verdict_name (last.verdict);
    if (json) {
        fprintf (out, "{\"municipality\": \"%s\", \"verdict\": \"%s\", ",
                 node_store_municipality (store), verdict);
        if (kept)
            fprintf (out, "\"central_as_of\": %" PRIu64 ", \"node_head\": %" PRIu64 ", "
                     "\"received\": \"%s\", \"months\": [", theirs->as_of, ours->as_of, when);
        else
            fprintf (out, "\"central_as_of\": null, \"node_head\": null, \"received\": null, "
                     "\"months\": [");
    }
    else {
        fprintf (out, "figures of %s: %s%s%s\n", node_store_municipality (store), verdict,
                 *last.periods? " in ": "", last.periods);
        if (kept)
            fprintf (out, "the central's rows as of %" PRIu64 " (received %s), this node's at "
                     "head %" PRIu64 ":\n%-8s %-40s %10s %10s %10s\n", theirs->as_of, when,
                     ours->as_of, "month", "cell", "node", "central", "difference");
        else
            fprintf (out, "no rows of the central kept (they are asked for when months "
                     "differ)\n");
    }
    for (uint32_t index = 0; kept && index < theirs->count; index++)
        s_month_print (node_store_catalogue (store), &ours->months [index],
                       &theirs->months [index], json, index == 0, out);
    if (json)
        fprintf (out, "]}\n");
    free (theirs);
    return 0;
}
