/*  test_downlink: downlink entries (cp_downlink) and a node applying them
    (node_store_apply_downlink), with its cursor, its refusal counts and
    what `cpsync-node status` shows of them.

    Roots are made from fixed seeds, so entries are the same bytes every
    run: the known answer below is written by hand from cp_downlink.h, not
    taken from the encoder.  Hostile entries are signed by hand through
    cp_downlink_sign so that they get past the signature to the check they
    are for.  Every flipped bit of the signed part or the signature must
    fail with CP_EAUTH, every truncation with CP_EMALFORMED.  Every refusal
    of the store must leave its cursor and its entries as they were, and
    add one to the count of its code.  Stores live in temporary directories
    under $CPSYNC_TEST_TMP (or /tmp), removed after; $CPSYNC_NODE names the
    cpsync-node binary for the status test.                                 */

#define _XOPEN_SOURCE 700       //  nftw, mkdtemp

#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_municipality.h"
#include "fuzz/downlink_testing.h"
#include "node_store.h"
#include "testing.h"

#include <assert.h>
#include <jansson.h>
#include <sodium.h>

#define S_TOWN "tirane"             //  the node's municipality, in county tirane
#define S_NEIGHBOUR "kavaje"        //  another of county tirane
#define S_ISSUED 1700000000000      //  2023-11-14, in ms

typedef struct {
    uint8_t public_key [CP_KEY_SIZE];
    uint8_t secret [CP_SIGN_SECRET_SIZE];
} s_root_t;

//  The root made from a seed of 32 times byte.
static s_root_t
s_root (uint8_t byte)
{
    CHECK (sodium_init () >= 0);
    s_root_t root;
    uint8_t seed [crypto_sign_SEEDBYTES];
    memset (seed, byte, sizeof seed);
    crypto_sign_seed_keypair (root.public_key, root.secret, seed);
    return root;
}

//  An entry to address (as people write it) with a text body.
static cp_downlink_t
s_entry (uint64_t seq, int kind, const char *address, const char *body)
{
    cp_downlink_t entry = {.seq = seq, .kind = kind, .issued = S_ISSUED,
                           .body = (const uint8_t *) body, .body_size = strlen (body)};
    CHECK_EQ_INT (cp_downlink_address_parse (address, &entry.address), 0);
    return entry;
}

//  A directive entry (a notice with text) as a node applies it: its body
//  is cp_directive's, kept in a ring of static buffers that outlive the
//  entries of one test.
static cp_downlink_t
s_directive (uint64_t seq, const char *address, const char *text)
{
    static uint8_t bodies [16][CP_DIRECTIVE_BODY_MAX];
    static size_t next = 0;
    cp_directive_t directive = {.kind = CP_DIRECTIVE_NOTICE};
    snprintf (directive.text, sizeof directive.text, "%s", text);
    size_t size = 0;
    uint8_t *encoded = cp_directive_encode (&directive, &size);
    CHECK (encoded && size <= CP_DIRECTIVE_BODY_MAX);
    uint8_t *body = bodies [next++ % 16];
    memcpy (body, encoded, size);
    free (encoded);
    cp_downlink_t entry = s_entry (seq, CP_DOWNLINK_DIRECTIVE, address, "");
    entry.body = body;
    entry.body_size = size;
    return entry;
}

//  An entry encoded and signed by root; the caller frees it.
static uint8_t *
s_encode (const cp_downlink_t *entry, const s_root_t *root, size_t *size)
{
    uint8_t *bytes = cp_downlink_encode (entry, root->secret, size);
    CHECK (bytes);
    return bytes;
}

//  Bytes from hex (spaces allowed) into a malloc'd buffer.
static uint8_t *
s_hex (const char *hex, size_t *size)
{
    uint8_t *bytes = malloc (strlen (hex) / 2 + 1);
    assert (bytes);
    CHECK_EQ_INT (sodium_hex2bin (bytes, strlen (hex) / 2 + 1, hex, strlen (hex), " ", size,
                                  NULL), 0);
    return bytes;
}

//  Decodes hex as a signed part signed by root; returns the code, and
//  checks that a refusal leaves the entry zeroed.
static int
s_decode_signed_hex (const char *hex, const s_root_t *root)
{
    size_t size = 0, entry_size = 0;
    uint8_t *part = s_hex (hex, &size);
    uint8_t *bytes = cp_downlink_sign (part, size, root->secret, &entry_size);
    CHECK (bytes);
    cp_downlink_t entry, zero;
    memset (&zero, 0, sizeof zero);
    char why [256] = "";
    int rc = cp_downlink_decode (bytes, entry_size, root->public_key, &entry, why, sizeof why);
    if (rc)
        CHECK (memcmp (&entry, &zero, sizeof entry) == 0 && *why);
    free (bytes);
    free (part);
    return rc;
}

//  =====================================================================
//  The entry

//  Every kind to every form of address, and bodies of 0 and of the most
//  bytes, decode to what was encoded, the body pointing into the bytes.
static void
test_round_trip (void)
{
    s_root_t root = s_root (1);
    const char *addresses [] = {"all", "county:elbasan", S_TOWN};
    const int kinds [] = {CP_DOWNLINK_CATALOGUE, CP_DOWNLINK_DIRECTIVE, CP_DOWNLINK_FIGURES,
                          CP_DOWNLINK_KEYS};
    char signer [CP_KEY_ID_MAX + 1];
    cp_enrolment_key_id ('r', root.public_key, signer);
    for (size_t kind = 0; kind < 4; kind++)
        for (size_t address = 0; address < 3; address++) {
            cp_downlink_t entry = s_entry (1 + kind * 3 + address, kinds [kind],
                                           addresses [address], "a body");
            size_t size = 0;
            uint8_t *bytes = s_encode (&entry, &root, &size);
            cp_downlink_t decoded;
            CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, NULL, 0),
                          0);
            CHECK_EQ_INT (decoded.seq, entry.seq);
            CHECK_EQ_INT (decoded.kind, kinds [kind]);
            CHECK_EQ_INT (decoded.address.kind, entry.address.kind);
            CHECK_EQ_INT (decoded.address.index, entry.address.index);
            CHECK_EQ_INT (decoded.issued, S_ISSUED);
            CHECK_EQ_INT (decoded.body_size, 6);
            CHECK (decoded.body > bytes && decoded.body + 6 == bytes + size);
            CHECK (memcmp (decoded.body, "a body", 6) == 0);
            CHECK (strcmp (decoded.signer, signer) == 0);
            char text [CP_SCOPE_MAX];
            cp_downlink_address_format (&decoded.address, text);
            CHECK (strcmp (text, addresses [address]) == 0);
            free (bytes);
        }
    //  An empty body, and the largest, with the largest seq and time.
    uint8_t *body = malloc (CP_DOWNLINK_BODY_MAX);
    assert (body);
    randombytes_buf (body, CP_DOWNLINK_BODY_MAX);
    cp_downlink_t entry = {.seq = UINT64_MAX, .kind = CP_DOWNLINK_CATALOGUE,
                           .issued = INT64_MAX, .body = body, .body_size = 0};
    for (int round = 0; round < 2; round++) {
        size_t size = 0;
        uint8_t *bytes = s_encode (&entry, &root, &size);
        CHECK (size <= CP_DOWNLINK_ENTRY_MAX);
        cp_downlink_t decoded;
        CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, NULL, 0), 0);
        CHECK (decoded.seq == UINT64_MAX && decoded.issued == INT64_MAX);
        CHECK_EQ_INT (decoded.body_size, entry.body_size);
        CHECK (entry.body_size == 0 || memcmp (decoded.body, body, entry.body_size) == 0);
        free (bytes);
        entry.body_size = CP_DOWNLINK_BODY_MAX;
    }
    free (body);
}

//  The bytes of one entry, written out by hand from the header's format;
//  the signature is root's over the personalised digest, and not over the
//  signed bytes themselves.
static void
test_known_answer (void)
{
    s_root_t root = s_root (1);
    cp_downlink_t entry = s_entry (7, CP_DOWNLINK_DIRECTIVE, S_TOWN, "hi");
    size_t size = 0, expected_size = 0;
    uint8_t *bytes = s_encode (&entry, &root, &size);
    uint8_t *expected = s_hex ("97 01 07 02 02 a6 74 69 72 61 6e 65 "
                               "cf 00 00 01 8b cf e5 68 00 c4 02 68 69", &expected_size);
    char signer [CP_KEY_ID_MAX + 1];
    cp_enrolment_key_id ('r', root.public_key, signer);
    CHECK_EQ_INT (strlen (signer), 18);
    //  [signer, signature, signed]: fixarray 3, fixstr 18, bin 8 of 64, bin 8 of 25
    CHECK_EQ_INT (size, 1 + 1 + 18 + 2 + 64 + 2 + expected_size);
    if (size == 1 + 1 + 18 + 2 + 64 + 2 + expected_size) {
        CHECK (bytes [0] == 0x93 && bytes [1] == 0xb2 && memcmp (bytes + 2, signer, 18) == 0);
        CHECK (bytes [20] == 0xc4 && bytes [21] == 64);
        CHECK (bytes [86] == 0xc4 && bytes [87] == expected_size);
        CHECK (memcmp (bytes + 88, expected, expected_size) == 0);
        uint8_t digest [64];
        static const uint8_t personal [crypto_generichash_blake2b_PERSONALBYTES] =
            "cpsync down v1";
        crypto_generichash_blake2b_salt_personal (digest, sizeof digest, bytes + 88,
                                                  expected_size, NULL, 0, NULL, personal);
        CHECK_EQ_INT (crypto_sign_verify_detached (bytes + 22, digest, sizeof digest,
                                                   root.public_key), 0);
        CHECK (crypto_sign_verify_detached (bytes + 22, bytes + 88, expected_size,
                                            root.public_key) != 0);
    }
    free (expected);
    free (bytes);
}

//  Any flipped bit of the signature or of the signed part: CP_EAUTH, with
//  nothing decoded.
static void
test_bad_signature (void)
{
    s_root_t root = s_root (1);
    cp_downlink_t entry = s_entry (3, CP_DOWNLINK_FIGURES, "county:elbasan", "digest");
    size_t size = 0;
    uint8_t *bytes = s_encode (&entry, &root, &size);
    size_t from = 22, failures = 0;        //  the signature's first byte, then on to the end
    for (size_t at = from; at < size; at++)
        for (int bit = 0; bit < 8; bit++) {
            bytes [at] ^= (uint8_t) (1 << bit);
            cp_downlink_t decoded;
            int rc = cp_downlink_decode (bytes, size, root.public_key, &decoded, NULL, 0);
            //  The signed part's own header (bytes 86, 87) changes its
            //  length: then the bytes are no longer one object.
            bool header = at == 86 || at == 87;
            failures += header? rc == 0: rc != CP_EAUTH;
            bytes [at] ^= (uint8_t) (1 << bit);
        }
    CHECK_EQ_INT (failures, 0);
    cp_downlink_t decoded;
    CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, NULL, 0), 0);
    free (bytes);
}

//  An entry of another root: CP_EUNPINNED; one of another root that names
//  the pinned one: CP_EAUTH.
static void
test_other_signer (void)
{
    s_root_t root = s_root (1), other = s_root (2);
    cp_downlink_t entry = s_entry (3, CP_DOWNLINK_KEYS, "all", "announcement");
    size_t size = 0;
    uint8_t *bytes = s_encode (&entry, &other, &size);
    cp_downlink_t decoded;
    char why [256] = "";
    CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, why, sizeof why),
                  CP_EUNPINNED);
    CHECK_STR_CONTAINS (why, "not by the pinned root");
    char pinned [CP_KEY_ID_MAX + 1];
    cp_enrolment_key_id ('r', root.public_key, pinned);
    memcpy (bytes + 2, pinned, strlen (pinned));
    CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, why, sizeof why),
                  CP_EAUTH);
    free (bytes);
}

//  A kind that is none of cp_downlink_kind_t's: CP_EBADKIND, and encode
//  makes none.
static void
test_unknown_kind (void)
{
    s_root_t root = s_root (1);
    //  [1, 7, kind, 0, "", S_ISSUED, bin ""]
    CHECK_EQ_INT (s_decode_signed_hex ("97 01 07 04 00 a0 cf 00 00 01 8b cf e5 68 00 c4 00",
                                       &root), 0);
    CHECK_EQ_INT (s_decode_signed_hex ("97 01 07 00 00 a0 cf 00 00 01 8b cf e5 68 00 c4 00",
                                       &root), CP_EBADKIND);
    CHECK_EQ_INT (s_decode_signed_hex ("97 01 07 05 00 a0 cf 00 00 01 8b cf e5 68 00 c4 00",
                                       &root), CP_EBADKIND);
    CHECK_EQ_INT (s_decode_signed_hex ("97 01 07 cf 00 00 00 01 00 00 00 01 00 a0 "
                                       "cf 00 00 01 8b cf e5 68 00 c4 00", &root), CP_EBADKIND);
    cp_downlink_t entry = s_entry (1, 5, "all", "");
    size_t size = 1;
    CHECK (!cp_downlink_encode (&entry, root.secret, &size) && size == 0);
    entry.kind = 0;
    CHECK (!cp_downlink_encode (&entry, root.secret, &size));
}

//  Bytes that are not an entry, or an entry whose fields are not what the
//  format says: each with its code.
static void
test_malformed (void)
{
    s_root_t root = s_root (1);
    cp_downlink_t entry = s_entry (9, CP_DOWNLINK_DIRECTIVE, "county:durres", "deadline");
    size_t size = 0;
    uint8_t *bytes = s_encode (&entry, &root, &size);
    cp_downlink_t decoded;
    size_t failures = 0;
    for (size_t cut = 0; cut < size; cut++)
        failures += cp_downlink_decode (bytes, cut, root.public_key, &decoded, NULL, 0)
                 != CP_EMALFORMED;
    CHECK_EQ_INT (failures, 0);
    free (bytes);

    //  The outer array.
    static const struct {
        const char *hex;
        int code;
    } outer [] = {
        {"c0", CP_ETYPE},                                   //  nil
        {"80", CP_ETYPE},                                   //  a map
        {"92 a1 72 c4 00", CP_ETYPE},                       //  two fields
        {"93 c4 01 72 c4 00 c4 00", CP_ETYPE},              //  the signer a bin
        {"93 a0 c4 00 c4 00", CP_EMALFORMED},               //  the signer empty
        {"93 a3 72 0a 31 c4 00 c4 00", CP_EMALFORMED},      //  a control character
        {"93 a3 72 21 31 c4 00 c4 00", CP_EBADID},          //  "r!1"
        {"93 a3 72 2d 31 a0 c4 00", CP_ETYPE},              //  the signature a str
        {"93 a3 72 2d 31 c4 3f", CP_EMALFORMED},            //  truncated
        {"93 a3 72 2d 31 c4 00 c4 00", CP_EMALFORMED},      //  a signature of 0 bytes
        {"93 a3 72 2d 31 c4 00 91 c4 00", CP_EMALFORMED},   //  signature first: 0 bytes
        {"93 a3 72 2d 31 c1 c4 00", CP_EMALFORMED},         //  a reserved byte
        {"93 a3 72 2d 31 90 c4 00", CP_ETYPE},              //  an array for the signature
        {"94 a3 72 2d 31 c4 00 c4 00 c0", CP_ETYPE},        //  four fields
    };
    for (size_t index = 0; index < sizeof outer / sizeof outer [0]; index++) {
        uint8_t *hostile = s_hex (outer [index].hex, &size);
        int rc = cp_downlink_decode (hostile, size, root.public_key, &decoded, NULL, 0);
        if (rc != outer [index].code)
            fprintf (stderr, "  outer %s: %s\n", outer [index].hex, cp_strerror (rc));
        CHECK_EQ_INT (rc, outer [index].code);
        free (hostile);
    }
    //  A signature of the pinned signer that is 63 bytes.
    char pinned [CP_KEY_ID_MAX + 1], hex [400];
    cp_enrolment_key_id ('r', root.public_key, pinned);
    char signer_hex [2 * CP_KEY_ID_MAX + 1];
    sodium_bin2hex (signer_hex, sizeof signer_hex, (const uint8_t *) pinned, strlen (pinned));
    char zeros [2 * 63 + 1];
    memset (zeros, '0', sizeof zeros - 1);
    zeros [sizeof zeros - 1] = 0;
    snprintf (hex, sizeof hex, "93 b2 %s c4 3f %s c4 00", signer_hex, zeros);
    uint8_t *short_signature = s_hex (hex, &size);
    CHECK_EQ_INT (cp_downlink_decode (short_signature, size, root.public_key, &decoded, NULL,
                                      0), CP_EMALFORMED);
    free (short_signature);
    //  A signer, and a code, of one character more than an id has.
    char long_id [2 * (CP_ID_MAX + 1) + 1];
    memset (long_id, 0, sizeof long_id);
    for (int index = 0; index <= CP_ID_MAX; index++)
        memcpy (long_id + 2 * index, "61", 2);
    snprintf (hex, sizeof hex, "93 d9 41 %s c4 00 c4 00", long_id);
    uint8_t *long_signer = s_hex (hex, &size);
    CHECK_EQ_INT (cp_downlink_decode (long_signer, size, root.public_key, &decoded, NULL, 0),
                  CP_ETOOBIG);
    free (long_signer);
    snprintf (hex, sizeof hex, "97 01 07 02 02 d9 41 %s 01 c4 00", long_id);
    CHECK_EQ_INT (s_decode_signed_hex (hex, &root), CP_ETOOBIG);

    //  The signed part, signed: [version, seq, kind, to, code, issued, body]
    static const struct {
        const char *hex;
        int code;
    } part [] = {
        {"97 01 07 02 02 a6 74 69 72 61 6e 65 cf 00 00 01 8b cf e5 68 00 c4 02 68 69", 0},
        {"", CP_EMALFORMED},                                                //  nothing
        {"c1", CP_EMALFORMED},                                              //  reserved
        {"96 01 07 02 02 a6 74 69 72 61 6e 65 cf 00 00 01 8b cf e5 68 00", CP_ETYPE},
        {"98 01 07 02 02 a6 74 69 72 61 6e 65 01 c4 00 c0", CP_ETYPE},    //  eight fields
        {"97 02 07 02 00 a0 01 c4 00", CP_EVERSION},                       //  version 2
        {"97 00 07 02 00 a0 01 c4 00", CP_EVERSION},                       //  version 0
        {"97 01 00 02 00 a0 01 c4 00", CP_EMALFORMED},                     //  seq 0
        {"97 01 ff 02 00 a0 01 c4 00", CP_ETYPE},                          //  seq -1
        {"97 01 a1 31 02 00 a0 01 c4 00", CP_ETYPE},                       //  seq "1"
        {"97 01 07 c3 00 a0 01 c4 00", CP_ETYPE},                          //  kind true
        {"97 01 07 02 03 a0 01 c4 00", CP_EMALFORMED},                     //  to 3
        {"97 01 07 02 00 a6 74 69 72 61 6e 65 01 c4 00", CP_EMALFORMED},  //  all, a code
        {"97 01 07 02 02 a0 01 c4 00", CP_EMALFORMED},                     //  no code
        {"97 01 07 02 02 a6 74 69 72 61 6e 61 01 c4 00", CP_EBADID},      //  "tirana"
        {"97 01 07 02 01 a6 6b 61 76 61 6a 65 01 c4 00", CP_EBADID},      //  county:kavaje
        {"97 01 07 02 01 a6 74 69 72 61 6e 65 01 c4 00", 0},               //  county:tirane
        {"97 01 07 02 02 c4 06 74 69 72 61 6e 65 01 c4 00", CP_ETYPE},    //  the code a bin
        {"97 01 07 02 00 a0 ff c4 00", CP_ETYPE},                          //  issued -1
        {"97 01 07 02 00 a0 cf 80 00 00 00 00 00 00 00 c4 00", CP_EMALFORMED}, //  past INT64
        {"97 01 07 02 00 a0 cf 7f ff ff ff ff ff ff ff c4 00", 0},         //  INT64_MAX
        {"97 01 07 02 00 a0 01 a0", CP_ETYPE},                             //  the body a str
        {"97 01 07 02 00 a0 01 90", CP_ETYPE},                             //  the body an array
        {"97 01 07 02 00 a0 01 c4 01", CP_EMALFORMED},                     //  truncated
        {"97 01 07 02 00 a0 01 c4 00 00", CP_EMALFORMED},                  //  trailing
    };
    for (size_t index = 0; index < sizeof part / sizeof part [0]; index++) {
        int rc = s_decode_signed_hex (part [index].hex, &root);
        if (rc != part [index].code)
            fprintf (stderr, "  signed %s: %s\n", part [index].hex, cp_strerror (rc));
        CHECK_EQ_INT (rc, part [index].code);
    }
    //  Encode makes nothing decode refuses.
    entry = s_entry (0, CP_DOWNLINK_DIRECTIVE, "all", "");
    CHECK (!cp_downlink_encode (&entry, root.secret, &size));
    entry = s_entry (1, CP_DOWNLINK_DIRECTIVE, "all", "");
    entry.issued = -1;
    CHECK (!cp_downlink_encode (&entry, root.secret, &size));
    entry.issued = 0;
    entry.address.kind = CP_SCOPE_COUNTY;
    entry.address.index = cp_county_count ();
    CHECK (!cp_downlink_encode (&entry, root.secret, &size));
    entry.address.kind = CP_SCOPE_MUNICIPALITY;
    entry.address.index = -1;
    CHECK (!cp_downlink_encode (&entry, root.secret, &size));
}

//  A body over CP_DOWNLINK_BODY_MAX, or an entry over
//  CP_DOWNLINK_ENTRY_MAX: CP_ETOOBIG, and encode makes neither.
static void
test_oversized (void)
{
    s_root_t root = s_root (1);
    size_t body_size = CP_DOWNLINK_BODY_MAX + 1;
    uint8_t *part = calloc (1, body_size + 16);
    assert (part);
    //  [1, 1, 1, 0, "", 1, bin 32 of body_size]
    static const uint8_t head [] = {0x97, 0x01, 0x01, 0x01, 0x00, 0xa0, 0x01, 0xc6};
    memcpy (part, head, sizeof head);
    part [8] = (uint8_t) (body_size >> 24);
    part [9] = (uint8_t) (body_size >> 16);
    part [10] = (uint8_t) (body_size >> 8);
    part [11] = (uint8_t) body_size;
    size_t size = 0;
    uint8_t *bytes = cp_downlink_sign (part, 12 + body_size, root.secret, &size);
    CHECK (bytes);
    cp_downlink_t decoded;
    char why [256] = "";
    CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, why, sizeof why),
                  CP_ETOOBIG);
    CHECK_STR_CONTAINS (why, "signed entry");
    free (bytes);
    //  One byte less is the largest body: decodes.
    part [11]--;
    bytes = cp_downlink_sign (part, 12 + body_size - 1, root.secret, &size);
    CHECK_EQ_INT (cp_downlink_decode (bytes, size, root.public_key, &decoded, NULL, 0), 0);
    CHECK_EQ_INT (decoded.body_size, CP_DOWNLINK_BODY_MAX);
    //  The whole entry over its limit, whatever it holds.
    uint8_t *longer = calloc (1, CP_DOWNLINK_ENTRY_MAX + 1);
    assert (longer);
    memcpy (longer, bytes, size);
    CHECK_EQ_INT (cp_downlink_decode (longer, CP_DOWNLINK_ENTRY_MAX + 1, root.public_key,
                                      &decoded, why, sizeof why), CP_ETOOBIG);
    CHECK_STR_CONTAINS (why, "over");
    free (longer);
    free (bytes);
    cp_downlink_t entry = s_entry (1, CP_DOWNLINK_CATALOGUE, "all", "");
    entry.body = part;
    entry.body_size = CP_DOWNLINK_BODY_MAX + 1;
    CHECK (!cp_downlink_encode (&entry, root.secret, &size));
    CHECK (!cp_downlink_sign (part, CP_DOWNLINK_ENTRY_MAX + 1, root.secret, &size));
    free (part);
}

//  A byte after the entry, or after the signed part within it (signed
//  with it): CP_EMALFORMED.
static void
test_trailing (void)
{
    s_root_t root = s_root (1);
    cp_downlink_t entry = s_entry (2, CP_DOWNLINK_CATALOGUE, "all", "{\"version\": 3}");
    size_t size = 0;
    uint8_t *bytes = s_encode (&entry, &root, &size);
    uint8_t *longer = malloc (size + 1);
    assert (longer);
    memcpy (longer, bytes, size);
    longer [size] = 0;
    cp_downlink_t decoded;
    CHECK_EQ_INT (cp_downlink_decode (longer, size + 1, root.public_key, &decoded, NULL, 0),
                  CP_EMALFORMED);
    size_t signed_size = 0;
    const uint8_t *part = downlink_signed_part (bytes, size, &signed_size);
    uint8_t *part_longer = malloc (signed_size + 1);
    assert (part && part_longer);
    memcpy (part_longer, part, signed_size);
    part_longer [signed_size] = 0xc0;
    size_t resigned_size = 0;
    uint8_t *resigned = cp_downlink_sign (part_longer, signed_size + 1, root.secret,
                                          &resigned_size);
    CHECK_EQ_INT (cp_downlink_decode (resigned, resigned_size, root.public_key, &decoded, NULL,
                                      0), CP_EMALFORMED);
    //  The same signed part without the byte is the entry encode made.
    free (resigned);
    resigned = cp_downlink_sign (part, signed_size, root.secret, &resigned_size);
    CHECK (resigned_size == size && memcmp (resigned, bytes, size) == 0);
    free (resigned);
    free (part_longer);
    free (longer);
    free (bytes);
}

//  To all: every municipality, and one outside the list; to a county: its
//  municipalities only; to a municipality: it only.  Addresses as people
//  write them.
static void
test_addressed_to (void)
{
    cp_downlink_t all = s_entry (1, CP_DOWNLINK_DIRECTIVE, "all", "");
    cp_downlink_t county = s_entry (1, CP_DOWNLINK_DIRECTIVE, "county:elbasan", "");
    cp_downlink_t town = s_entry (1, CP_DOWNLINK_DIRECTIVE, S_TOWN, "");
    int in_county = 0, in_town = 0;
    for (int index = 0; index < cp_municipality_count (); index++) {
        CHECK (cp_downlink_addressed_to (&all, index));
        bool of_county = cp_municipality_county (index) == cp_county_index ("elbasan");
        CHECK (cp_downlink_addressed_to (&county, index) == of_county);
        in_county += of_county;
        in_town += cp_downlink_addressed_to (&town, index);
    }
    CHECK_EQ_INT (in_county, 7);
    CHECK_EQ_INT (in_town, 1);
    CHECK (cp_downlink_addressed_to (&town, cp_municipality_index (S_TOWN)));
    CHECK (!cp_downlink_addressed_to (&town, cp_municipality_index (S_NEIGHBOUR)));
    CHECK (cp_downlink_addressed_to (&county, cp_municipality_index ("belsh")));
    const int outside [] = {-1, cp_municipality_count ()};
    for (size_t index = 0; index < 2; index++) {
        CHECK (cp_downlink_addressed_to (&all, outside [index]));
        CHECK (!cp_downlink_addressed_to (&county, outside [index]));
        CHECK (!cp_downlink_addressed_to (&town, outside [index]));
    }
    cp_scope_t address;
    CHECK_EQ_INT (cp_downlink_address_parse ("county:kavaje", &address), CP_EBADID);
    CHECK_EQ_INT (cp_downlink_address_parse ("county:", &address), CP_EBADID);
    CHECK_EQ_INT (cp_downlink_address_parse ("nowhere", &address), CP_EBADID);
    CHECK_EQ_INT (cp_downlink_address_parse ("", &address), CP_EBADID);
    CHECK_EQ_INT (cp_downlink_address_parse ("national", &address), CP_EBADID);
    CHECK_EQ_INT (cp_downlink_address_parse ("municipality:tirane", &address), CP_EBADID);
    CHECK (strcmp (cp_downlink_kind_name (CP_DOWNLINK_KEYS), "keys") == 0);
    CHECK (!cp_downlink_kind_name (0) && !cp_downlink_kind_name (5));
}

//  =====================================================================
//  A node applying entries

//  A node of S_TOWN in a fresh directory (dir, size bytes), opened.
static node_store_t *
s_node (char *dir, size_t size)
{
    CHECK (sodium_init () >= 0);
    testing_fresh_dir ("test_downlink", dir, size);
    char path [600];
    snprintf (path, sizeof path, "%s/node", dir);
    CHECK_EQ_INT (node_store_create (path, S_TOWN, 1), 0);
    int error = 0;
    node_store_t *store = node_store_open (path, &error);
    CHECK (store);
    if (!store) {
        fprintf (stderr, "  node_store_open: %s\n", cp_strerror (error));
        exit (1);
    }
    return store;
}

static node_store_t *
s_reopen (node_store_t **store, const char *dir)
{
    node_store_destroy (store);
    char path [600];
    snprintf (path, sizeof path, "%s/node", dir);
    int error = 0;
    *store = node_store_open (path, &error);
    CHECK (*store);
    return *store;
}

//  Encodes an entry with root and applies it after prev; returns the code.
static int
s_apply (node_store_t *store, const s_root_t *root, uint64_t prev, const cp_downlink_t *entry,
         char *why, size_t why_size)
{
    size_t size = 0;
    uint8_t *bytes = s_encode (entry, root, &size);
    int rc = node_store_apply_downlink (store, root->public_key, prev, bytes, size, why,
                                        why_size);
    free (bytes);
    return rc;
}

static uint64_t
s_cursor (node_store_t *store)
{
    uint64_t cursor = UINT64_MAX;
    CHECK_EQ_INT (node_store_downlink_cursor (store, &cursor), 0);
    return cursor;
}

//  True when the store holds entry, as root encodes it, under its seq.
static bool
s_holds (node_store_t *store, const s_root_t *root, const cp_downlink_t *entry)
{
    size_t size = 0, stored_size = 0;
    uint8_t *bytes = s_encode (entry, root, &size), *stored = NULL;
    CHECK_EQ_INT (node_store_downlink_entry (store, entry->seq, &stored, &stored_size), 0);
    bool holds = stored && stored_size == size && memcmp (stored, bytes, size) == 0;
    free (bytes);
    free (stored);
    return holds;
}

//  True when the store holds nothing under seq.
static bool
s_holds_none (node_store_t *store, uint64_t seq)
{
    uint8_t *stored = NULL;
    size_t size = 0;
    CHECK_EQ_INT (node_store_downlink_entry (store, seq, &stored, &size), 0);
    free (stored);
    return stored == NULL;
}

//  The count of refusals of code.
static uint64_t
s_refused (node_store_t *store, int code)
{
    cp_store_counter_t refusals [64];
    size_t count = 0;
    CHECK_EQ_INT (node_store_downlink_refusals (store, refusals, 64, &count), 0);
    for (size_t index = 0; index < count; index++)
        if (refusals [index].code == code)
            return refusals [index].count;
    return 0;
}

//  Entries to all, to the node's county and to it, applied in order with
//  the prev of each: each is held and the cursor follows; the seqs between
//  (others' entries) hold nothing.  The cursor survives reopening.
static void
test_apply_in_order (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir);
    s_root_t root = s_root (1);
    CHECK_EQ_INT (s_cursor (store), 0);
    cp_downlink_t first = s_directive (1, "all", "notice");
    cp_downlink_t second = s_directive (3, "county:" S_TOWN, "notice");
    cp_downlink_t third = s_entry (4, CP_DOWNLINK_FIGURES, S_TOWN, "digest");
    char why [256] = "";
    CHECK_EQ_INT (s_apply (store, &root, 0, &first, why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 1);
    CHECK_EQ_INT (s_apply (store, &root, 1, &second, why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 3);
    CHECK_EQ_INT (s_apply (store, &root, 3, &third, why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 4);
    CHECK (s_holds (store, &root, &first) && s_holds (store, &root, &second)
        && s_holds (store, &root, &third));
    CHECK (s_holds_none (store, 2) && s_holds_none (store, 5));
    s_reopen (&store, dir);
    CHECK_EQ_INT (s_cursor (store), 4);
    CHECK (s_holds (store, &root, &first) && s_holds (store, &root, &third));
    CHECK_EQ_INT (s_refused (store, CP_EREPLAY), 0);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  The entry applied last sent again: CP_EREPLAY; another entry under a
//  seq applied, or under one at or below the cursor never applied:
//  CP_EROLLBACK.  Each changes nothing but its count.
static void
test_replay_and_rollback (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir);
    s_root_t root = s_root (1);
    cp_downlink_t first = s_directive (2, S_TOWN, "referral");
    cp_downlink_t second = s_directive (5, "all", "deadline");
    char why [256] = "";
    CHECK_EQ_INT (s_apply (store, &root, 0, &first, why, sizeof why), 0);
    CHECK_EQ_INT (s_apply (store, &root, 2, &second, why, sizeof why), 0);
    //  Again, with the prev it came with, and with any other.
    CHECK_EQ_INT (s_apply (store, &root, 2, &second, why, sizeof why), CP_EREPLAY);
    CHECK_STR_CONTAINS (why, "applied already");
    CHECK_EQ_INT (s_apply (store, &root, 0, &first, why, sizeof why), CP_EREPLAY);
    CHECK_EQ_INT (s_apply (store, &root, 5, &second, why, sizeof why), CP_EREPLAY);
    CHECK_EQ_INT (s_refused (store, CP_EREPLAY), 3);
    //  Another entry under seq 5 (say, from a central restored from an
    //  old copy, signing again), and one under 4, never applied.
    cp_downlink_t other = s_directive (5, "all", "another deadline");
    CHECK_EQ_INT (s_apply (store, &root, 2, &other, why, sizeof why), CP_EROLLBACK);
    CHECK_STR_CONTAINS (why, "not the one applied");
    cp_downlink_t older = s_entry (4, CP_DOWNLINK_CATALOGUE, "all", "{}");
    CHECK_EQ_INT (s_apply (store, &root, 2, &older, why, sizeof why), CP_EROLLBACK);
    older.seq = 1;
    CHECK_EQ_INT (s_apply (store, &root, 0, &older, why, sizeof why), CP_EROLLBACK);
    CHECK_EQ_INT (s_refused (store, CP_EROLLBACK), 3);
    //  Nothing changed.
    CHECK_EQ_INT (s_cursor (store), 5);
    CHECK (s_holds (store, &root, &first) && s_holds (store, &root, &second));
    CHECK (s_holds_none (store, 1) && s_holds_none (store, 4) && s_holds_none (store, 6));
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  prev above the cursor: CP_EGAP (an entry to the node was missed);
//  below: CP_EDIVERGED.  Then the entry with the right prev is applied.
static void
test_gap (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir);
    s_root_t root = s_root (1);
    cp_downlink_t first = s_directive (1, "all", "notice");
    cp_downlink_t later = s_directive (6, "all", "notice");
    char why [256] = "";
    CHECK_EQ_INT (s_apply (store, &root, 0, &first, why, sizeof why), 0);
    CHECK_EQ_INT (s_apply (store, &root, 4, &later, why, sizeof why), CP_EGAP);
    CHECK_STR_CONTAINS (why, "entry 6 follows entry 4 to this node, but the downlink cursor is 1");
    CHECK_EQ_INT (s_apply (store, &root, 5, &later, why, sizeof why), CP_EGAP);
    CHECK_EQ_INT (s_refused (store, CP_EGAP), 2);
    CHECK_EQ_INT (s_cursor (store), 1);
    CHECK (s_holds_none (store, 6));
    //  prev 0 with the cursor at 1: the central does not know of entry 1.
    CHECK_EQ_INT (s_apply (store, &root, 0, &later, why, sizeof why), CP_EDIVERGED);
    CHECK_EQ_INT (s_refused (store, CP_EDIVERGED), 1);
    CHECK_EQ_INT (s_cursor (store), 1);
    CHECK (s_holds_none (store, 6));
    CHECK_EQ_INT (s_apply (store, &root, 1, &later, why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 6);
    CHECK (s_holds (store, &root, &later));
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  Entries for another municipality, of the node's county or not, or for
//  another county: CP_ENOTADDRESSED, nothing changed; for its county and
//  for all: applied.
static void
test_not_addressed (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir);
    s_root_t root = s_root (1);
    char why [256] = "";
    cp_downlink_t neighbour = s_directive (1, S_NEIGHBOUR, "referral");
    CHECK_EQ_INT (s_apply (store, &root, 0, &neighbour, why, sizeof why), CP_ENOTADDRESSED);
    CHECK_STR_CONTAINS (why, "entry 1 is addressed to " S_NEIGHBOUR ", not to " S_TOWN);
    cp_downlink_t elsewhere = s_directive (1, "elbasan", "referral");
    CHECK_EQ_INT (s_apply (store, &root, 0, &elsewhere, why, sizeof why), CP_ENOTADDRESSED);
    cp_downlink_t county = s_directive (1, "county:elbasan", "notice");
    CHECK_EQ_INT (s_apply (store, &root, 0, &county, why, sizeof why), CP_ENOTADDRESSED);
    CHECK_STR_CONTAINS (why, "county:elbasan");
    CHECK_EQ_INT (s_refused (store, CP_ENOTADDRESSED), 3);
    CHECK_EQ_INT (s_cursor (store), 0);
    CHECK (s_holds_none (store, 1));
    cp_downlink_t own_county = s_directive (1, "county:" S_TOWN, "notice");
    cp_downlink_t all = s_directive (2, "all", "deadline");
    CHECK_EQ_INT (s_apply (store, &root, 0, &own_county, why, sizeof why), 0);
    CHECK_EQ_INT (s_apply (store, &root, 1, &all, why, sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 2);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  Entries that do not verify or decode (another signer, a flipped bit,
//  garbage) are refused with their codes, counted by code across
//  reopening, and change nothing.
static void
test_refusals_counted (void)
{
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir);
    s_root_t root = s_root (1), other = s_root (2);
    char why [256] = "";
    cp_downlink_t entry = s_entry (1, CP_DOWNLINK_KEYS, "all", "announcement");
    size_t size = 0;
    uint8_t *bytes = s_encode (&entry, &other, &size);
    CHECK_EQ_INT (node_store_apply_downlink (store, root.public_key, 0, bytes, size, why,
                                             sizeof why), CP_EUNPINNED);
    free (bytes);
    bytes = s_encode (&entry, &root, &size);
    bytes [size - 1] ^= 1;
    CHECK_EQ_INT (node_store_apply_downlink (store, root.public_key, 0, bytes, size, why,
                                             sizeof why), CP_EAUTH);
    CHECK_EQ_INT (node_store_apply_downlink (store, root.public_key, 0, bytes, size, why,
                                             sizeof why), CP_EAUTH);
    CHECK_EQ_INT (node_store_apply_downlink (store, root.public_key, 0, bytes, 5, why,
                                             sizeof why), CP_EMALFORMED);
    CHECK_EQ_INT (node_store_apply_downlink (store, root.public_key, 0, NULL, 0, why,
                                             sizeof why), CP_EMALFORMED);
    bytes [size - 1] ^= 1;
    CHECK_EQ_INT (s_cursor (store), 0);
    CHECK (s_holds_none (store, 1));
    s_reopen (&store, dir);
    CHECK_EQ_INT (s_refused (store, CP_EUNPINNED), 1);
    CHECK_EQ_INT (s_refused (store, CP_EAUTH), 2);
    CHECK_EQ_INT (s_refused (store, CP_EMALFORMED), 2);
    CHECK_EQ_INT (s_refused (store, CP_EGAP), 0);
    cp_store_counter_t refusals [64];
    size_t count = 0;
    CHECK_EQ_INT (node_store_downlink_refusals (store, refusals, 64, &count), 0);
    CHECK_EQ_INT (count, 3);
    CHECK_EQ_INT (node_store_downlink_refusals (store, refusals, 2, &count), 0);
    CHECK_EQ_INT (count, 2);
    //  The entry itself still applies.
    CHECK_EQ_INT (node_store_apply_downlink (store, root.public_key, 0, bytes, size, why,
                                             sizeof why), 0);
    CHECK_EQ_INT (s_cursor (store), 1);
    free (bytes);
    node_store_destroy (&store);
    testing_remove_dir (dir);
}

//  `cpsync-node status --format json` shows the cursor and the refusals,
//  and keeps the keys others read.
static void
test_status (void)
{
    const char *node = getenv ("CPSYNC_NODE");
    if (!node || !*node) {
        fprintf (stderr, "  CPSYNC_NODE is not set: the status test needs cpsync-node\n");
        CHECK (node && *node);
        return;
    }
    char dir [512];
    node_store_t *store = s_node (dir, sizeof dir);
    s_root_t root = s_root (1);
    char why [256] = "";
    cp_downlink_t entry = s_directive (3, "all", "notice");
    CHECK_EQ_INT (s_apply (store, &root, 0, &entry, why, sizeof why), 0);
    CHECK_EQ_INT (s_apply (store, &root, 0, &entry, why, sizeof why), CP_EREPLAY);
    node_store_destroy (&store);

    char command [1200];
    snprintf (command, sizeof command, "'%s' status --data '%s/node' --format json", node, dir);
    FILE *output = popen (command, "r");
    CHECK (output);
    json_error_t error;
    json_t *status = output? json_loadf (output, 0, &error): NULL;
    CHECK (output && pclose (output) == 0);
    CHECK (status);
    CHECK (json_is_string (json_object_get (status, "municipality")));
    CHECK (json_is_integer (json_object_get (status, "head")));
    CHECK (json_is_integer (json_object_get (status, "acked")));
    CHECK_EQ_INT (json_integer_value (json_object_get (status, "downlink")), 3);
    json_t *refused = json_object_get (status, "downlink_refused");
    CHECK (json_is_array (refused) && json_array_size (refused) == 1);
    json_t *first = json_array_get (refused, 0);
    CHECK_EQ_INT (json_integer_value (json_object_get (first, "code")), CP_EREPLAY);
    CHECK_EQ_INT (json_integer_value (json_object_get (first, "count")), 1);
    CHECK (json_is_string (json_object_get (first, "reason")));
    json_decref (status);
    testing_remove_dir (dir);
}

TESTING_MAIN (
    TEST (test_round_trip),
    TEST (test_known_answer),
    TEST (test_bad_signature),
    TEST (test_other_signer),
    TEST (test_unknown_kind),
    TEST (test_malformed),
    TEST (test_oversized),
    TEST (test_trailing),
    TEST (test_addressed_to),
    TEST (test_apply_in_order),
    TEST (test_replay_and_rollback),
    TEST (test_gap),
    TEST (test_not_addressed),
    TEST (test_refusals_counted),
    TEST (test_status)
)
