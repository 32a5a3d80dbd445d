/*  fuzzing: what every fuzz target of tests/fuzz shares.

    A target is a file fuzz_NAME.c defining LLVMFuzzerTestOneInput; the
    same file runs under libFuzzer (-DCPSYNC_FUZZ=ON) and under replay.c,
    which feeds it the saved corpus as an ordinary test.  A target checks
    the promises of the decoder it feeds, and a broken one aborts, so that
    libFuzzer keeps the input and the replay fails.                          */

#ifndef FUZZING_H_INCLUDED
#define FUZZING_H_INCLUDED

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
    LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Says which promise of which target broke, and aborts.
#define fuzzing_fail(what) fuzzing_fail_at (__FILE__, (what))

static inline void
fuzzing_fail_at (const char *file, const char *what)
{
    fprintf (stderr, "%s: %s\n", file, what);
    abort ();
}

//  Removes path and, when it is a directory, what it holds: a target's
//  scratch directory, at exit.
static inline void
fuzzing_remove_tree (const char *path)
{
    struct stat info;
    if (lstat (path, &info))
        return;
    DIR *dir = S_ISDIR (info.st_mode)? opendir (path): NULL;
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char inner [512];
        int size = snprintf (inner, sizeof inner, "%s/%s", path, entry->d_name);
        if (size > 0 && (size_t) size < sizeof inner)
            fuzzing_remove_tree (inner);
    }
    if (dir)
        closedir (dir);
    remove (path);
}

#endif
