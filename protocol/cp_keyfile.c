/*  cp_keyfile: secret key files, written atomically, read into guarded memory.

    Writing goes through a temporary file made by mkstemp (mode 0600 from
    the start, so the key is never on disk with wider permissions), which is
    written, fsync'd and then moved into place: by rename when replacing, by
    link when not (link fails on an existing name, so two set-ups racing for
    one key cannot both win, and a crash never leaves a half-written key
    under the real name).  The directory is fsync'd last, so the new name
    itself survives a crash.

    Reading checks the open descriptor (fstat, not stat on the name, so the
    file checked is the file read), then reads into sodium_malloc'd memory
    and makes it read-only.  Nothing here logs: the callers know which key
    they were loading and say so.                                           */

#include "cp_keyfile.h"
#include "cp_error.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  =====================================================================
//  Small helpers

//  Writes all of size bytes, through short writes and signals.
static int
s_write_all (int fd, const uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t done = write (fd, data, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return -1;
        data += done;
        size -= (size_t) done;
    }
    return 0;
}

//  Reads exactly size bytes; -1 on an error or an early end of file.
static int
s_read_all (int fd, uint8_t *data, size_t size)
{
    while (size > 0) {
        ssize_t done = read (fd, data, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            return -1;
        if (done == 0) {
            errno = EIO;        //  the file shrank after fstat
            return -1;
        }
        data += done;
        size -= (size_t) done;
    }
    return 0;
}

//  Makes a new name in the directory of path durable.
static int
s_sync_dir (const char *path)
{
    char dir [4096];
    const char *slash = strrchr (path, '/');
    if (!slash)
        snprintf (dir, sizeof dir, ".");
    else
    if (slash == path)
        snprintf (dir, sizeof dir, "/");
    else
        snprintf (dir, sizeof dir, "%.*s", (int) (slash - path), path);
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}

//  =====================================================================
//  Writing

int
cp_keyfile_write (const char *path, const uint8_t *key, size_t size, bool replace)
{
    char temp [4096];
    if (snprintf (temp, sizeof temp, "%s.XXXXXX", path) >= (int) sizeof temp) {
        errno = ENAMETOOLONG;
        return CP_EIO;
    }
    if (!replace && access (path, F_OK) == 0)
        return CP_EEXISTS;          //  the common case, without writing a temporary
    int fd = mkstemp (temp);        //  0600, whatever the umask
    if (fd < 0)
        return CP_EIO;
    int rc = 0;
    if (fchmod (fd, 0600) || s_write_all (fd, key, size) || fsync (fd))
        rc = CP_EIO;
    int saved = errno;
    if (close (fd) && rc == 0) {
        rc = CP_EIO;
        saved = errno;
    }
    if (rc == 0) {
        if (replace)
            rc = rename (temp, path)? CP_EIO: 0;
        else
        if (link (temp, path))
            rc = errno == EEXIST? CP_EEXISTS: CP_EIO;
        saved = errno;
    }
    //  After a rename the temporary name is gone; after link or a failure
    //  it is still there.
    if (rc || !replace)
        unlink (temp);
    if (rc == 0 && s_sync_dir (path)) {
        rc = CP_EIO;
        saved = errno;
    }
    errno = saved;
    return rc;
}

int
cp_keyfile_mkdir (const char *dir)
{
    if (mkdir (dir, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return CP_EIO;
    struct stat info;
    if (stat (dir, &info))
        return CP_EIO;
    if (!S_ISDIR (info.st_mode)) {
        errno = ENOTDIR;
        return CP_EIO;
    }
    return 0;
}

int
cp_keyfile_remove (const char *path)
{
    //  O_NOFOLLOW: a link planted under the name must not get its target
    //  zeroed; fstat below refuses anything but a regular file.
    int fd = open (path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP? CP_EINSECURE: CP_EIO;
    struct stat info;
    int rc = 0;
    if (fstat (fd, &info))
        rc = CP_EIO;
    else
    if (!S_ISREG (info.st_mode))
        rc = CP_EINSECURE;
    static const uint8_t zeros [256];
    for (off_t done = 0; rc == 0 && done < info.st_size; done += (off_t) sizeof zeros) {
        size_t size = info.st_size - done < (off_t) sizeof zeros? (size_t) (info.st_size - done)
                                                                : sizeof zeros;
        if (s_write_all (fd, zeros, size))
            rc = CP_EIO;
    }
    if (rc == 0 && fsync (fd))
        rc = CP_EIO;
    int saved = errno;
    close (fd);
    if (rc == 0 && (unlink (path) || s_sync_dir (path))) {
        rc = CP_EIO;
        saved = errno;
    }
    errno = saved;
    return rc;
}

//  =====================================================================
//  Reading and guarded memory

int
cp_keyfile_read (const char *path, size_t size, uint8_t **key)
{
    assert (key);
    assert (size > 0);
    *key = NULL;
    if (sodium_init () < 0) {   //  sodium_malloc needs it; repeating it is free
        errno = ENOSYS;
        return CP_EIO;
    }
    //  O_NONBLOCK: a FIFO planted under the name must not hang the daemon;
    //  fstat below refuses it.
    int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return CP_EIO;
    struct stat info;
    int rc = 0;
    if (fstat (fd, &info))
        rc = CP_EIO;
    else
    if (!S_ISREG (info.st_mode) || (info.st_mode & 077))
        rc = CP_EINSECURE;
    else
    if ((uint64_t) info.st_size != (uint64_t) size)
        rc = CP_EMALFORMED;
    uint8_t *buffer = NULL;
    if (rc == 0) {
        buffer = sodium_malloc (size);
        if (!buffer || s_read_all (fd, buffer, size))
            rc = CP_EIO;
    }
    int saved = errno;
    close (fd);
    if (rc) {
        if (buffer)
            sodium_free (buffer);       //  wipes what was read
        errno = saved;
        return rc;
    }
    sodium_mprotect_readonly (buffer);
    *key = buffer;
    return 0;
}

uint8_t *
cp_keyfile_alloc (size_t size)
{
    if (sodium_init () < 0)
        return NULL;
    return sodium_malloc (size);
}

void
cp_keyfile_free (uint8_t **key_p)
{
    if (key_p && *key_p) {
        sodium_free (*key_p);           //  wipes the pages before unmapping them
        *key_p = NULL;
    }
}
