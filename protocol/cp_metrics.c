/*  cp_metrics: see the header.  The text grows in a memory stream
    (open_memstream), which asks for no size up front.                   */

#include "cp_metrics.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _cp_metrics_t {
    FILE *stream;               //  writes into text
    char *text;
    size_t size;
    char family [128];          //  the family samples are written under
};

cp_metrics_t *
cp_metrics_new (void)
{
    cp_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->stream = open_memstream (&self->text, &self->size);
    if (!self->stream) {
        free (self);
        return NULL;
    }
    return self;
}

void
cp_metrics_destroy (cp_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_metrics_t *self = *self_p;
    fclose (self->stream);
    free (self->text);
    free (self);
    *self_p = NULL;
}

//  Writes text escaped: backslash and newline always, the double quote
//  in a label value only (the format's two rules).
static void
s_escaped (FILE *stream, const char *text, int quote)
{
    for (const char *at = text; *at; at++)
        if (*at == '\\')
            fputs ("\\\\", stream);
        else
        if (*at == '\n')
            fputs ("\\n", stream);
        else
        if (*at == '"' && quote)
            fputs ("\\\"", stream);
        else
            fputc (*at, stream);
}

void
cp_metrics_family (cp_metrics_t *self, const char *name, const char *type, const char *help)
{
    assert (strlen (name) < sizeof self->family);
    strcpy (self->family, name);
    fprintf (self->stream, "# HELP %s ", name);
    s_escaped (self->stream, help, 0);
    fprintf (self->stream, "\n# TYPE %s %s\n", name, type);
}

void
cp_metrics_sample (cp_metrics_t *self, int64_t value, ...)
{
    assert (*self->family);
    fputs (self->family, self->stream);
    va_list args;
    va_start (args, value);
    const char *label = va_arg (args, const char *);
    for (int count = 0; label; count++) {
        const char *label_value = va_arg (args, const char *);
        fprintf (self->stream, "%s%s=\"", count? ",": "{", label);
        s_escaped (self->stream, label_value? label_value: "", 1);
        fputc ('"', self->stream);
        label = va_arg (args, const char *);
        if (!label)
            fputc ('}', self->stream);
    }
    va_end (args);
    fprintf (self->stream, " %lld\n", (long long) value);
}

char *
cp_metrics_text (cp_metrics_t *self, size_t *size)
{
    fflush (self->stream);
    char *copy = malloc (self->size + 1);
    assert (copy);
    memcpy (copy, self->text, self->size);
    copy [self->size] = 0;
    *size = self->size;
    return copy;
}
