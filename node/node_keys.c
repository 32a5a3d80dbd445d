/*  node_keys: installs enrolment files under DIR/keys and loads them back.

    The files are kept as the text that was signed and shipped, not as
    loose keys, so that every load verifies them again against the pinned
    root: a file changed on disk is refused, not trusted.  The bundle holds
    the node's secrets, so it is read like a secret key file (a regular
    file, owner only) into guarded memory, and the text is wiped as soon as
    it is decoded.  Every write goes through cp_keyfile_write, which
    replaces a file atomically, so a running node that sees a change never
    reads half a file.

    The root is pinned by the first file installed (trust on first use):
    the operator who runs the first enrol vouches for it.                  */

#include "node_keys.h"
#include "cp_error.h"
#include "cp_keyfile.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_KEYS "keys"
#define S_ROOT "root.pub"
#define S_BUNDLE "node.bundle"
#define S_CENTRAL "central.keys"
#define S_MISSING 1                     //  s_read_file: no such file (a result)

//  What a file was when it was loaded, to tell when it changes.
typedef struct {
    bool present;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    off_t size;
} s_stamp_t;

struct _node_keys_t {
    char *dir;                          //  the node's data directory (our copy)
    cp_enrolment_t enrolment;           //  the node's keys from the bundle, the
                                        //  central's from the newer file
    uint8_t *secrets;                   //  CP_SECRETS_SIZE bytes, guarded memory
    s_stamp_t bundle;                   //  node.bundle as loaded
    s_stamp_t central;                  //  central.keys as loaded (maybe absent)
};

//  =====================================================================
//  Files

//  Writes DIR/keys[/name] into path (PATH_MAX bytes).
static int
s_path (char *path, const char *dir, const char *name)
{
    int length = name? snprintf (path, PATH_MAX, "%s/" S_KEYS "/%s", dir, name)
                     : snprintf (path, PATH_MAX, "%s/" S_KEYS, dir);
    if (length < 0 || length >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return CP_EIO;
    }
    return 0;
}

static void
s_stamp_of (const struct stat *status, s_stamp_t *stamp)
{
    stamp->present = true;
    stamp->dev = status->st_dev;
    stamp->ino = status->st_ino;
    stamp->mtime = status->st_mtim;
    stamp->size = status->st_size;
}

//  Wipes and frees a file's text from s_read_file; clears the pointer.
static void
s_free_text (char **text_p)
{
    uint8_t *bytes = (uint8_t *) *text_p;
    cp_keyfile_free (&bytes);
    *text_p = NULL;
}

//  Reads an enrolment file whole into guarded memory (*text, NUL-terminated;
//  the caller frees it with s_free_text).  A secret file must be
//  a regular file that only its owner may read or write, like cp_keyfile's;
//  any file must be regular and at most CP_ENROLMENT_FILE_MAX bytes.
//  Returns 0, S_MISSING, CP_EIO (errno), CP_EINSECURE or CP_ETOOBIG.
static int
s_read_file (const char *path, bool secret, char **text, size_t *size, s_stamp_t *stamp)
{
    *text = NULL;
    *size = 0;
    //  O_NONBLOCK: a FIFO planted under the name must not hang us; fstat
    //  below refuses it.
    int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT? S_MISSING: CP_EIO;
    //  Checked on the descriptor we read, not on the name, so that a file
    //  swapped in between cannot slip past.
    struct stat status;
    int rc = 0;
    if (fstat (fd, &status))
        rc = CP_EIO;
    else
    if (!S_ISREG (status.st_mode) || (secret && (status.st_mode & (S_IRWXG | S_IRWXO))))
        rc = CP_EINSECURE;
    else
    if (status.st_size > CP_ENROLMENT_FILE_MAX)
        rc = CP_ETOOBIG;
    else
    if (!(*text = (char *) cp_keyfile_alloc ((size_t) status.st_size + 1)))
        rc = CP_EIO;
    size_t done = 0;
    while (rc == 0 && done < (size_t) status.st_size) {
        ssize_t got = read (fd, *text + done, (size_t) status.st_size - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO;        //  shorter than fstat said: it changed under us
            rc = CP_EIO;
        }
        else
            done += (size_t) got;
    }
    int saved = errno;
    close (fd);
    errno = saved;
    if (rc) {
        s_free_text (text);
        return rc;
    }
    (*text) [done] = 0;
    *size = done;
    s_stamp_of (&status, stamp);
    return 0;
}

//  Reads the pinned root into root; *pinned is false when none is.
static int
s_read_root (const char *dir, uint8_t *root, bool *pinned)
{
    char path [PATH_MAX];
    *pinned = false;
    int rc = s_path (path, dir, S_ROOT);
    if (rc)
        return rc;
    struct stat status;
    if (stat (path, &status))
        return errno == ENOENT? 0: CP_EIO;
    uint8_t *key = NULL;
    rc = cp_keyfile_read (path, CP_KEY_SIZE, &key);
    if (rc)
        return rc;
    memcpy (root, key, CP_KEY_SIZE);    //  public: no need to keep it guarded
    cp_keyfile_free (&key);
    *pinned = true;
    return 0;
}

//  Reads and verifies an installed file (its public part only).  Returns 0
//  with *text (s_free_text it) and enrolment filled, S_MISSING, or an error.
static int
s_read_installed (const char *dir, const char *name, const uint8_t *root, bool secret,
                  char **text, size_t *size, cp_enrolment_t *enrolment, s_stamp_t *stamp)
{
    char path [PATH_MAX];
    int rc = s_path (path, dir, name);
    if (rc)
        return rc;
    if ((rc = s_read_file (path, secret, text, size, stamp)))
        return rc;
    bool has_secrets;
    rc = cp_enrolment_decode (*text, *size, root, enrolment, NULL, &has_secrets, NULL, 0);
    //  Each file holds its own kind, else someone put it there by hand.
    if (rc == 0 && (enrolment->municipality [0] != 0) != (strcmp (name, S_BUNDLE) == 0))
        rc = CP_EMALFORMED;
    if (rc)
        s_free_text (text);
    return rc;
}

//  =====================================================================
//  Installing

int
node_keys_install (const char *dir, const char *municipality, const char *text, size_t size,
                   char *why, size_t why_size)
{
    assert (dir && municipality && (text || size == 0));
    uint8_t root [CP_KEY_SIZE];
    bool pinned;
    int rc = s_read_root (dir, root, &pinned);
    if (rc)
        return cp_error_why (rc, why, why_size, S_KEYS "/" S_ROOT ": %s%s%s", cp_strerror (rc),
                             rc == CP_EIO? ": ": "", rc == CP_EIO? strerror (errno): "");
    cp_enrolment_t incoming;
    bool has_secrets;
    //  The secrets are checked against the node's keys inside, and not kept.
    rc = cp_enrolment_decode (text, size, pinned? root: NULL, &incoming, NULL, &has_secrets,
                              why, why_size);
    if (rc)
        return rc;
    bool bundle = incoming.municipality [0] != 0;
    if (bundle && strcmp (incoming.municipality, municipality) != 0)
        return cp_error_why (CP_EUSAGE, why, why_size,
                             "the bundle is for municipality %s, this node is %s's",
                             incoming.municipality, municipality);

    //  What is installed decides what may follow it.
    cp_enrolment_t held [2];
    char *held_text [2] = {NULL, NULL};
    size_t held_size [2] = {0, 0};
    bool held_present [2] = {false, false};
    s_stamp_t stamp;
    const char *names [2] = {S_BUNDLE, S_CENTRAL};
    for (int index = 0; index < 2; index++) {
        rc = s_read_installed (dir, names [index], pinned? root: incoming.root, index == 0,
                               &held_text [index], &held_size [index], &held [index], &stamp);
        if (rc == S_MISSING)
            rc = 0;
        else
        if (rc) {
            //  Refused rather than overwritten: a file that no longer verifies
            //  is for an operator to look at (and remove, to enrol afresh).
            rc = cp_error_why (rc, why, why_size, "the installed " S_KEYS "/%s does not load "
                               "(%s); remove it by hand to enrol afresh", names [index],
                               cp_strerror (rc));
            goto done;
        }
        else
            held_present [index] = true;
    }
    if (!bundle && !held_present [0]) {
        rc = cp_error_why (CP_EUSAGE, why, why_size, "an announcement of the central's keys "
                           "before any bundle: enrol the node's bundle first");
        goto done;
    }
    char keys_dir [PATH_MAX], path [PATH_MAX];
    if ((rc = s_path (keys_dir, dir, NULL))
    ||  (rc = s_path (path, dir, bundle? S_BUNDLE: S_CENTRAL))
    ||  (rc = cp_keyfile_mkdir (keys_dir))) {
        rc = cp_error_why (CP_EIO, why, why_size, "%s/" S_KEYS ": %s", dir, strerror (errno));
        goto done;
    }
    //  Pinned first, even when the file is already held, so that a node
    //  whose root.pub went missing gets it back by enrolling again.
    if (!pinned) {
        char root_path [PATH_MAX];
        if ((rc = s_path (root_path, dir, S_ROOT))
        ||  (rc = cp_keyfile_write (root_path, incoming.root, CP_KEY_SIZE, false))) {
            rc = cp_error_why (rc == CP_EEXISTS? CP_EIO: rc, why, why_size,
                               S_KEYS "/" S_ROOT ": %s", rc == CP_EEXISTS
                               ? "written by someone else meanwhile": strerror (errno));
            goto done;
        }
    }
    int kind = bundle? 0: 1;
    if (held_present [kind] && held_size [kind] == size
    &&  sodium_memcmp (held_text [kind], text, size) == 0)
        goto done;                      //  already installed: nothing to do
    uint64_t highest = 0;
    for (int index = 0; index < 2; index++)
        if (held_present [index] && held [index].serial > highest)
            highest = held [index].serial;
    if (incoming.serial < highest) {
        rc = cp_error_why (CP_EROLLBACK, why, why_size, "serial %llu is older than serial %llu, "
                           "already installed", (unsigned long long) incoming.serial,
                           (unsigned long long) highest);
        goto done;
    }
    //  A serial names one state of the central's key table: a file of a
    //  serial held that tells of other keys did not come from that state
    //  (a central restored from an old copy and changed again, a second
    //  central under the same root), and taking it would swap keys
    //  without a newer serial to show for it.
    for (int index = 0; index < 2; index++)
        if (held_present [index] && held [index].serial == incoming.serial
        &&  !cp_enrolment_same_keys (&held [index], &incoming)) {
            rc = cp_error_why (CP_EKEYCONFLICT, why, why_size, "serial %llu is installed already "
                               "(" S_KEYS "/%s) with other keys: the files are not of one key "
                               "table (a central restored from an old copy?); a file of a "
                               "later key change is taken", (unsigned long long) incoming.serial,
                               names [index]);
            goto done;
        }
    if ((rc = cp_keyfile_write (path, (const uint8_t *) text, size, true)))
        rc = cp_error_why (CP_EIO, why, why_size, S_KEYS "/%s: %s", names [kind],
                           strerror (errno));

done:
    for (int index = 0; index < 2; index++)
        s_free_text (&held_text [index]);
    return rc;
}

//  =====================================================================
//  Loading

node_keys_t *
node_keys_load (const char *dir, int *error)
{
    assert (dir && error);
    *error = 0;
    node_keys_t *self = calloc (1, sizeof *self);
    char *text = NULL;
    size_t size;
    uint8_t root [CP_KEY_SIZE];
    bool pinned;
    if (!self || !(self->dir = strdup (dir))
    ||  !(self->secrets = cp_keyfile_alloc (CP_SECRETS_SIZE))) {
        *error = CP_EIO;
        goto failed;
    }
    char path [PATH_MAX];
    if ((*error = s_path (path, dir, S_BUNDLE)))
        goto failed;
    int rc = s_read_file (path, true, &text, &size, &self->bundle);
    if (rc == S_MISSING) {
        *error = CP_ENOTENROLLED;
        goto failed;
    }
    if (rc) {
        *error = rc == CP_ETOOBIG? CP_EMALFORMED: rc;
        goto failed;
    }
    //  A bundle without its pinned root cannot be verified: enrolling
    //  again puts the root back.
    if ((*error = s_read_root (dir, root, &pinned)))
        goto failed;
    if (!pinned) {
        *error = CP_ENOTENROLLED;
        goto failed;
    }
    bool has_secrets;
    //  decode checks that the secrets are the halves of the bundle's keys.
    rc = cp_enrolment_decode (text, size, root, &self->enrolment, self->secrets, &has_secrets,
                              NULL, 0);
    s_free_text (&text);
    if (rc || !has_secrets) {
        *error = rc == CP_EAUTH? CP_EAUTH: CP_EMALFORMED;
        goto failed;
    }

    cp_enrolment_t central;
    rc = s_read_installed (dir, S_CENTRAL, root, false, &text, &size, &central, &self->central);
    if (rc == S_MISSING)
        self->central.present = false;
    else
    if (rc) {
        *error = rc == CP_EAUTH || rc == CP_EIO? rc: CP_EMALFORMED;
        goto failed;
    }
    else {
        s_free_text (&text);
        if (central.serial > self->enrolment.serial) {
            cp_enrolment_t *merged = &self->enrolment;
            merged->central_transport_count = central.central_transport_count;
            memcpy (merged->central_transport, central.central_transport,
                    sizeof central.central_transport);
            merged->central_data_count = central.central_data_count;
            memcpy (merged->central_data, central.central_data, sizeof central.central_data);
            //  The serial stays the bundle's: it names the file the node keys came from.
        }
    }
    return self;

failed:
    s_free_text (&text);
    node_keys_destroy (&self);
    return NULL;
}

void
node_keys_destroy (node_keys_t **self_p)
{
    assert (self_p);
    node_keys_t *self = *self_p;
    if (!self)
        return;
    cp_keyfile_free (&self->secrets);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const cp_enrolment_t *
node_keys_enrolment (node_keys_t *self)
{
    assert (self);
    return &self->enrolment;
}

const uint8_t *
node_keys_secrets (node_keys_t *self)
{
    assert (self);
    return self->secrets;
}

static bool
s_stamp_changed (const char *dir, const char *name, const s_stamp_t *stamp)
{
    char path [PATH_MAX];
    struct stat status;
    if (s_path (path, dir, name))
        return false;
    if (stat (path, &status))
        return stamp->present;          //  gone (or unreadable) since the load
    s_stamp_t now;
    s_stamp_of (&status, &now);
    return !stamp->present || now.dev != stamp->dev || now.ino != stamp->ino
        || now.size != stamp->size || now.mtime.tv_sec != stamp->mtime.tv_sec
        || now.mtime.tv_nsec != stamp->mtime.tv_nsec;
}

bool
node_keys_changed (node_keys_t *self)
{
    assert (self);
    return s_stamp_changed (self->dir, S_BUNDLE, &self->bundle)
        || s_stamp_changed (self->dir, S_CENTRAL, &self->central);
}
