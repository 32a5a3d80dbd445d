/*  replay: runs saved fuzz inputs through a libFuzzer target, without
    libFuzzer, so that the corpus is an ordinary regression test.

    Arguments are directories (every regular file in them is an input) or
    single files.  Each input is read whole into a buffer of exactly its
    size, so a sanitizer build sees any read past the end.  A target that
    finds a fault aborts; otherwise this prints how many inputs ran and
    exits 0.  A missing or empty directory is an error: a corpus that runs
    nothing must not pass.                                                    */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
    LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

//  Runs the target on one file; returns 0, or -1 when it cannot be read.
static int
s_run_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    size_t alloc = 4096;
    size_t size = 0;
    uint8_t *data = malloc (alloc);
    while (data) {
        size_t got = fread (data + size, 1, alloc - size, file);
        size += got;
        if (size < alloc)
            break;
        uint8_t *bigger = realloc (data, alloc * 2);
        if (!bigger) {
            free (data);
            data = NULL;
        }
        else {
            data = bigger;
            alloc *= 2;
        }
    }
    int failed = !data || ferror (file);
    fclose (file);
    if (failed) {
        fprintf (stderr, "replay: cannot read %s\n", path);
        free (data);
        return -1;
    }
    //  Exactly size bytes, so that reading one more is caught
    uint8_t *exact = malloc (size? size: 1);
    if (!exact) {
        free (data);
        return -1;
    }
    memcpy (exact, data, size);
    free (data);
    LLVMFuzzerTestOneInput (exact, size);
    free (exact);
    return 0;
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: %s corpus-dir-or-file...\n", argv [0]);
        return 2;
    }
    int inputs = 0;
    int errors = 0;
    for (int arg = 1; arg < argc; arg++) {
        struct stat info;
        if (stat (argv [arg], &info) != 0) {
            fprintf (stderr, "replay: %s does not exist\n", argv [arg]);
            errors++;
            continue;
        }
        if (!S_ISDIR (info.st_mode)) {
            if (s_run_file (argv [arg]) == 0)
                inputs++;
            else
                errors++;
            continue;
        }
        DIR *dir = opendir (argv [arg]);
        if (!dir) {
            fprintf (stderr, "replay: cannot open %s\n", argv [arg]);
            errors++;
            continue;
        }
        int in_dir = 0;
        struct dirent *entry;
        while ((entry = readdir (dir))) {
            if (entry->d_name [0] == '.')
                continue;
            size_t len = strlen (argv [arg]) + strlen (entry->d_name) + 2;
            char *path = malloc (len);
            if (!path) {
                errors++;
                break;
            }
            snprintf (path, len, "%s/%s", argv [arg], entry->d_name);
            if (stat (path, &info) == 0 && S_ISREG (info.st_mode)) {
                if (s_run_file (path) == 0)
                    in_dir++;
                else
                    errors++;
            }
            free (path);
        }
        closedir (dir);
        if (in_dir == 0) {
            fprintf (stderr, "replay: no inputs in %s\n", argv [arg]);
            errors++;
        }
        inputs += in_dir;
    }
    printf ("replay: %d inputs ran, %d errors\n", inputs, errors);
    return errors? 1: 0;
}
