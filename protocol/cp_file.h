/*  cp_file: a small file read whole, with a limit.

    Reports, catalogue revisions, downlink bodies and certificates are read
    whole into memory before anything parses them; each caller says how big
    a file it takes, so no file makes a command read without end.          */

#ifndef CP_FILE_H_INCLUDED
#define CP_FILE_H_INCLUDED

#include <stddef.h>

//  Reads the file at path whole: a malloc'd copy with a NUL after its
//  *size bytes (the caller frees), or NULL with why saying what was wrong:
//  it cannot be opened or read (strerror), or it holds more than max bytes.
char *
    cp_file_read (const char *path, size_t max, size_t *size, char *why, size_t why_size);

#endif
