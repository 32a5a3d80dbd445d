/*  test_central_downlink: what the central sends each node of its downlink
    log (central_downlink) and the log itself (central_store_downlink_*),
    on a central set up in a temporary directory under $CPSYNC_TEST_TMP (or
    /tmp), with entries published as cpsync-admin publish does.  No
    sockets: each DOWN body the module gives is decoded here, its prev and
    its entry's seq and address checked.

    A node is sent the entries addressed to it (to all, its county, it) in
    order, each with the seq of the one before as prev, at most a window
    at a time; a DOWNACK makes room; a gap, a DOWN unanswered for the
    resend time, a refusal after its pause send again from the node's
    cursor; a divergence stops until the next HELLO.  A node ahead of the
    log (a central restored from an older copy) makes the log number new
    entries after its cursor, and the first one it is sent follows the
    cursor; a cursor that the log holds as another municipality's entry
    gets the log's prev, which the node refuses as diverged.             */

#define _XOPEN_SOURCE 700      //  nftw, mkdtemp

#include "central_admin.h"
#include "central_downlink.h"
#include "central_store.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"
#include "cp_wire.h"

#include <czmq.h>
#include <ftw.h>
#include <sodium.h>

#include "testing.h"

static char s_dir [4096];
static char s_central [4200];
static uint8_t s_root [crypto_sign_PUBLICKEYBYTES];
static uint8_t *s_root_secret;     //  guarded

static int
s_remove_entry (const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void) info, (void) flag, (void) ftw;
    return remove (path);
}

//  A central set up afresh; its root's public key in s_root.
static void
s_setup (void)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_central_downlink.XXXXXX",
              base && *base? base: "/tmp");
    assert (mkdtemp (s_dir));
    snprintf (s_central, sizeof s_central, "%s/central", s_dir);
    char why [512] = "";
    int rc = central_admin_init (s_central, "tcp://127.0.0.1:*", 2, NULL, why, sizeof why);
    assert (rc == 0);
    char path [4300];
    snprintf (path, sizeof path, "%s/keys/root.secret", s_central);
    rc = cp_keyfile_read (path, crypto_sign_SECRETKEYBYTES, &s_root_secret);
    assert (rc == 0);
    crypto_sign_ed25519_sk_to_pk (s_root, s_root_secret);
}

static void
s_teardown (void)
{
    cp_keyfile_free (&s_root_secret);
    nftw (s_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  Publishes a directive to address in the store open in this process
//  (LMDB takes one opening of an environment per process); returns its seq.
static uint64_t
s_publish_in (central_store_t *store, const char *address)
{
    cp_scope_t to;
    char why [512] = "";
    uint64_t seq = 0;
    int rc = cp_downlink_address_parse (address, &to);
    if (rc == 0)
        rc = central_store_downlink_publish (store, CP_DOWNLINK_DIRECTIVE, &to,
                                             (const uint8_t *) "report by Friday", 16,
                                             s_root_secret, &seq, why, sizeof why);
    if (rc)
        fprintf (stderr, "  publish to %s: %s\n", address, why);
    return seq;
}

//  Publishes a directive to address as cpsync-admin does (the store must
//  not be open in this process); returns its seq (0 on failure).
static uint64_t
s_publish (const char *address)
{
    char why [512] = "";
    uint64_t seq = 0;
    int rc = central_admin_publish (s_central, NULL, CP_DOWNLINK_DIRECTIVE, address,
                                    (const uint8_t *) "report by Friday", 16, &seq, why,
                                    sizeof why);
    if (rc)
        fprintf (stderr, "  publish to %s: %s\n", address, why);
    return seq;
}

//  The next DOWN for municipality at now: its entry's seq (0: none) and prev.
static uint64_t
s_next (central_downlink_t *downlink, int municipality, int64_t now, uint64_t *prev,
        char *address)
{
    size_t size;
    uint64_t seq;
    uint8_t *body = central_downlink_next (downlink, municipality, now, &size, &seq);
    if (!body)
        return 0;
    cp_down_t down;
    cp_downlink_t entry;
    char why [200] = "";
    int rc = cp_wire_down_decode (body, size, &down);
    if (rc == 0)
        rc = cp_downlink_decode (down.entry, down.entry_size, s_root, &entry, why, sizeof why);
    CHECK_EQ_INT (rc, 0);
    CHECK_EQ_INT (entry.seq, seq);
    *prev = down.prev;
    if (address)
        cp_downlink_address_format (&entry.address, address);
    free (body);
    return rc? 0: seq;
}

//  Checks the next DOWN: its seq and prev (seq 0: none is due).
static void
s_expect (central_downlink_t *downlink, int municipality, int64_t now, uint64_t seq,
          uint64_t prev, int line)
{
    uint64_t got_prev = 0;
    uint64_t got = s_next (downlink, municipality, now, &got_prev, NULL);
    if (got != seq || (seq && got_prev != prev)) {
        fprintf (stderr, "  %s:%d: DOWN %llu prev %llu, expected %llu prev %llu\n", __FILE__,
                 line, (unsigned long long) got, (unsigned long long) got_prev,
                 (unsigned long long) seq, (unsigned long long) prev);
        testing_failures_++;
    }
}

#define EXPECT(municipality, now, seq, prev) \
    s_expect (downlink, (municipality), (now), (seq), (prev), __LINE__)

//  The entries addressed to berat, in order, with prev; none of tirane's.
static void
test_addressed_in_order (void)
{
    s_setup ();
    CHECK_EQ_INT (s_publish ("all"), 1);
    CHECK_EQ_INT (s_publish ("county:berat"), 2);
    CHECK_EQ_INT (s_publish ("tirane"), 3);
    CHECK_EQ_INT (s_publish ("berat"), 4);
    CHECK_EQ_INT (s_publish ("county:tirane"), 5);
    int rc;
    central_store_t *store = central_store_open (s_central, 0, &rc);
    assert (store);
    central_downlink_t *downlink = central_downlink_new (store);
    int berat = cp_municipality_index ("berat"), tirane = cp_municipality_index ("tirane");
    int64_t now = zclock_mono ();
    EXPECT (berat, now, 0, 0);          //  no HELLO yet
    central_downlink_hello (downlink, berat, 0);
    central_downlink_hello (downlink, tirane, 0);
    EXPECT (berat, now, 1, 0);
    EXPECT (berat, now, 2, 1);
    EXPECT (berat, now, 4, 2);
    EXPECT (berat, now, 0, 0);          //  nothing more for berat
    EXPECT (tirane, now, 1, 0);
    EXPECT (tirane, now, 3, 1);
    EXPECT (tirane, now, 5, 3);
    //  After it was found exhausted, a new entry is seen once the log grew
    CHECK_EQ_INT (s_publish_in (store, "kucove"), 6);
    CHECK_EQ_INT (s_publish_in (store, "all"), 7);
    CHECK (central_downlink_grew (downlink));
    CHECK (!central_downlink_grew (downlink));
    char address [CP_SCOPE_MAX] = "";
    uint64_t prev = 0;
    CHECK_EQ_INT (s_next (downlink, berat, now, &prev, address), 7);
    CHECK_EQ_INT (prev, 4);
    CHECK (streq (address, "all"));
    central_downlink_destroy (&downlink);
    central_store_destroy (&store);
    s_teardown ();
}

//  At most CENTRAL_DOWNLINK_WINDOW in flight; a DOWNACK makes room; a gap
//  sends again from the cursor, once for all the DOWNs in flight behind
//  it; an unanswered window is sent again after the resend time; a
//  refusal pauses; a divergence stops until HELLO.
static void
test_window_and_resends (void)
{
    s_setup ();
    for (int index = 0; index < 8; index++)
        CHECK_EQ_INT (s_publish ("all"), index + 1);
    int rc;
    central_store_t *store = central_store_open (s_central, 0, &rc);
    assert (store);
    central_downlink_t *downlink = central_downlink_new (store);
    int durres = cp_municipality_index ("durres");
    int64_t now = zclock_mono ();
    char why [300];
    central_downlink_hello (downlink, durres, 0);
    for (uint64_t seq = 1; seq <= CENTRAL_DOWNLINK_WINDOW; seq++)
        EXPECT (durres, now, seq, seq - 1);
    EXPECT (durres, now, 0, 0);         //  the window is full
    CHECK (!central_downlink_ack (downlink, durres, 1, 0, why, sizeof why));
    EXPECT (durres, now, 5, 4);         //  room for one
    //  Entry 2 was lost: the node says so for 2's successors; once resent
    CHECK (!central_downlink_ack (downlink, durres, 1, CP_EGAP, why, sizeof why));
    EXPECT (durres, now, 2, 1);
    CHECK (!central_downlink_ack (downlink, durres, 1, CP_EGAP, why, sizeof why));
    EXPECT (durres, now, 3, 2);         //  not from 2 again: the next in the window
    //  Nothing answered for the resend time: again from the cursor
    EXPECT (durres, now + CENTRAL_DOWNLINK_RESEND_MSECS, 2, 1);
    //  A refusal of the entry itself: logged, a pause, then again
    CHECK (central_downlink_ack (downlink, durres, 1, CP_EAUTH, why, sizeof why));
    CHECK (strstr (why, "durres") != NULL);
    EXPECT (durres, zclock_mono (), 0, 0);
    EXPECT (durres, zclock_mono () + CENTRAL_DOWNLINK_RETRY_MSECS + 1, 2, 1);
    //  A divergence stops everything to that node until it says HELLO
    CHECK (central_downlink_ack (downlink, durres, 1, CP_EDIVERGED, why, sizeof why));
    EXPECT (durres, zclock_mono () + 60000, 0, 0);
    central_downlink_hello (downlink, durres, 6);
    EXPECT (durres, zclock_mono (), 7, 6);
    central_downlink_destroy (&downlink);
    central_store_destroy (&store);
    s_teardown ();
}

//  A node ahead of the log (the central restored from an older copy):
//  the log numbers after its cursor, and its next entry follows it.  A
//  cursor the log holds as another's entry gets the log's prev.
static void
test_node_ahead (void)
{
    s_setup ();
    CHECK_EQ_INT (s_publish ("tirane"), 1);
    CHECK_EQ_INT (s_publish ("vlore"), 2);
    int rc;
    central_store_t *store = central_store_open (s_central, 0, &rc);
    assert (store);
    central_downlink_t *downlink = central_downlink_new (store);
    int vlore = cp_municipality_index ("vlore"), tirane = cp_municipality_index ("tirane");
    central_downlink_hello (downlink, vlore, 40);
    uint64_t last = 0;
    CHECK_EQ_INT (central_store_downlink_last (store, &last), 0);
    CHECK_EQ_INT (last, 40);
    central_store_destroy (&store);
    central_downlink_destroy (&downlink);
    //  Numbered after the node's cursor, even by another process
    CHECK_EQ_INT (s_publish ("all"), 41);
    store = central_store_open (s_central, 0, &rc);
    assert (store);
    downlink = central_downlink_new (store);
    central_downlink_hello (downlink, vlore, 40);
    EXPECT (vlore, zclock_mono (), 41, 40);
    //  tirane says its cursor is 2, which the log gives vlore: the log's
    //  prev (1) goes, and the node will refuse it as diverged
    central_downlink_hello (downlink, tirane, 2);
    EXPECT (tirane, zclock_mono (), 41, 1);
    central_downlink_destroy (&downlink);
    central_store_destroy (&store);
    s_teardown ();
}

//  What the log refuses takes no seq: an unknown address or kind, a body
//  over the limit, a root secret that is not the central's.
static void
test_publish_refused (void)
{
    s_setup ();
    char why [512] = "";
    uint64_t seq = 0;
    CHECK_EQ_INT (central_admin_publish (s_central, NULL, CP_DOWNLINK_DIRECTIVE, "nowhere",
                                         (const uint8_t *) "x", 1, &seq, why, sizeof why),
                  CP_EBADID);
    CHECK_EQ_INT (central_admin_publish (s_central, NULL, 9, "all", (const uint8_t *) "x", 1,
                                         &seq, why, sizeof why), CP_EBADKIND);
    uint8_t *big = calloc (1, CP_DOWNLINK_BODY_MAX + 1);
    CHECK_EQ_INT (central_admin_publish (s_central, NULL, CP_DOWNLINK_DIRECTIVE, "all", big,
                                         CP_DOWNLINK_BODY_MAX + 1, &seq, why, sizeof why),
                  CP_ETOOBIG);
    free (big);
    char path [4300];
    snprintf (path, sizeof path, "%s/other.secret", s_dir);
    uint8_t public_key [crypto_sign_PUBLICKEYBYTES], secret [crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair (public_key, secret);
    CHECK_EQ_INT (cp_keyfile_write (path, secret, sizeof secret, false), 0);
    CHECK_EQ_INT (central_admin_publish (s_central, path, CP_DOWNLINK_DIRECTIVE, "all",
                                         (const uint8_t *) "x", 1, &seq, why, sizeof why),
                  CP_EAUTH);
    CHECK_EQ_INT (s_publish ("all"), 1);
    sodium_memzero (secret, sizeof secret);
    s_teardown ();
}

TESTING_MAIN (
    TEST (test_addressed_in_order),
    TEST (test_window_and_resends),
    TEST (test_node_ahead),
    TEST (test_publish_refused)
)
