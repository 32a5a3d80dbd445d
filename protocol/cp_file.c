/*  cp_file: a small file read whole, with a limit.  See cp_file.h.         */

#include "cp_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
cp_file_read (const char *path, size_t max, size_t *size, char *why, size_t why_size)
{
    *size = 0;
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (why, why_size, "%s: %s", path, strerror (errno));
        return NULL;
    }
    //  One byte past the limit tells a file of max bytes from a longer one.
    char *text = malloc (max + 2);
    size_t got = text? fread (text, 1, max + 1, file): 0;
    int error = ferror (file)? errno: 0;
    fclose (file);
    if (!text || error || got > max) {
        if (!text)
            snprintf (why, why_size, "%s: out of memory", path);
        else
        if (error)
            snprintf (why, why_size, "%s: %s", path, strerror (error));
        else
            snprintf (why, why_size, "%s: over the %zu bytes it may hold", path, max);
        free (text);
        return NULL;
    }
    text [got] = 0;
    *size = got;
    return text;
}
