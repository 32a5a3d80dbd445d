/*  cp_metrics: figures written in Prometheus's text exposition format.

    Both daemons expose their figures in the format Prometheus scrapes
    (version 0.0.4): for each metric family a "# HELP" and a "# TYPE"
    line, then its samples, "name{label="value",...} number".  The central
    sends it at GET /metrics (central_metrics); the node writes it to a
    file for node_exporter's textfile collector (node_metrics).  This
    module only writes text: label values are escaped (backslash, double
    quote and newline) and so is help text, so no name of a municipality,
    key or reason can break a line.  Families are written in the order
    they are declared, each sample right after its family's header.       */

#ifndef CP_METRICS_H_INCLUDED
#define CP_METRICS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define CP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct _cp_metrics_t cp_metrics_t;

cp_metrics_t *
    cp_metrics_new (void);

void
    cp_metrics_destroy (cp_metrics_t **self_p);

//  Starts a family: name (cpsync_...), type ("counter" or "gauge"), help.
void
    cp_metrics_family (cp_metrics_t *self, const char *name, const char *type,
                       const char *help);

//  One sample of the family last started, with value and up to three
//  labels given as name, value pairs (NULL after the last pair).
void
    cp_metrics_sample (cp_metrics_t *self, int64_t value, ...);

//  The text so far: a malloc'd copy (the caller frees), its length in *size.
char *
    cp_metrics_text (cp_metrics_t *self, size_t *size);

#endif
