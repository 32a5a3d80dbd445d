/*  test_enrolment: the signed enrolment file (cp_enrolment) and the node's
    key files (node_keys).

    Keys are made fresh by libsodium each run and files are signed by a
    root made here, through cp_enrolment_encode; the hostile files (unknown
    fields, wrong types, bad hex, too many keys) are re-signed by hand so
    that they get past the signature and reach the check they are for.
    Every flipped bit of the signed text or the signature must fail with
    CP_EAUTH, every truncation with CP_EMALFORMED.  node_keys runs in
    temporary directories under $CPSYNC_TEST_TMP (or /tmp), removed after. */

#include "cp_enrolment.h"
#include "cp_error.h"
#include "node_keys.h"
#include "testing.h"

#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TOWN "berat"
#define S_OTHER_TOWN "dimal"

//  A root, one node's keys and the central's, all fresh.
typedef struct {
    uint8_t root_public [CP_KEY_SIZE], root_secret [CP_SIGN_SECRET_SIZE];
    uint8_t secrets [CP_SECRETS_SIZE];          //  the node's, laid out as cp_enrolment.h says
    cp_transport_key_t node_transport;
    cp_party_key_t node_key;
    cp_transport_key_t central_transport [CP_ENROLMENT_KEYS_MAX + 1];
    cp_party_key_t central_data [CP_ENROLMENT_KEYS_MAX + 1];
} s_world_t;

static void
s_transport_key (cp_transport_key_t *key, char prefix, uint8_t *secret)
{
    uint8_t scratch [crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (key->public_key, secret? secret: scratch);
    cp_enrolment_key_id (prefix, key->public_key, key->id);
    key->valid_from = 1700000000;
    key->expires = 0;
}

static void
s_party_key (cp_party_key_t *key, char prefix, uint8_t *sign_secret, uint8_t *kx_secret)
{
    uint8_t sign_scratch [crypto_sign_SECRETKEYBYTES], kx_scratch [crypto_kx_SECRETKEYBYTES];
    crypto_sign_keypair (key->sign_public, sign_secret? sign_secret: sign_scratch);
    crypto_kx_keypair (key->kx_public, kx_secret? kx_secret: kx_scratch);
    cp_enrolment_key_id (prefix, key->sign_public, key->id);
    key->expires = 1900000000;
}

static void
s_world (s_world_t *world)
{
    CHECK (sodium_init () >= 0);
    memset (world, 0, sizeof *world);
    crypto_sign_keypair (world->root_public, world->root_secret);
    s_transport_key (&world->node_transport, 't', world->secrets + CP_SECRETS_TRANSPORT);
    s_party_key (&world->node_key, 'n', world->secrets + CP_SECRETS_SIGN,
                 world->secrets + CP_SECRETS_KX);
    for (int index = 0; index <= CP_ENROLMENT_KEYS_MAX; index++) {
        s_transport_key (&world->central_transport [index], 'c', NULL);
        s_party_key (&world->central_data [index], 'd', NULL, NULL);
    }
}

//  An enrolment of the world: a bundle for municipality, or an
//  announcement when municipality is "".  central_first picks which of the
//  central's keys it names (an announcement of new keys names others).
static void
s_enrolment (const s_world_t *world, cp_enrolment_t *enrolment, uint64_t serial,
             const char *municipality, int central_first, int central_count)
{
    memset (enrolment, 0, sizeof *enrolment);
    enrolment->serial = serial;
    enrolment->created = 1760000000;
    snprintf (enrolment->municipality, sizeof enrolment->municipality, "%s", municipality);
    snprintf (enrolment->endpoint, sizeof enrolment->endpoint, "tcp://central.example.al:7400");
    memcpy (enrolment->root, world->root_public, CP_KEY_SIZE);
    if (municipality [0]) {
        enrolment->node_transport = world->node_transport;
        enrolment->node_key = world->node_key;
    }
    enrolment->central_transport_count = (size_t) central_count;
    enrolment->central_data_count = (size_t) central_count;
    for (int index = 0; index < central_count; index++) {
        enrolment->central_transport [index] = world->central_transport [central_first + index];
        enrolment->central_data [index] = world->central_data [central_first + index];
    }
}

static char *
s_bundle (const s_world_t *world, uint64_t serial, const char *municipality)
{
    cp_enrolment_t enrolment;
    s_enrolment (world, &enrolment, serial, municipality, 0, 2);
    return cp_enrolment_encode (&enrolment, world->root_secret, world->secrets);
}

static char *
s_announcement (const s_world_t *world, uint64_t serial, int central_first)
{
    cp_enrolment_t enrolment;
    s_enrolment (world, &enrolment, serial, "", central_first, 1);
    return cp_enrolment_encode (&enrolment, world->root_secret, NULL);
}

static int
s_decode (const char *text, const uint8_t *pinned_root, cp_enrolment_t *enrolment,
          uint8_t *secrets, bool *has_secrets)
{
    char why [256] = "";
    return cp_enrolment_decode (text, strlen (text), pinned_root, enrolment, secrets,
                                has_secrets, why, sizeof why);
}

static int
s_decode_text (const char *text, const uint8_t *pinned_root)
{
    cp_enrolment_t enrolment;
    bool has_secrets;
    return s_decode (text, pinned_root, &enrolment, NULL, &has_secrets);
}

//  =====================================================================
//  Building hostile files by hand

//  A file from its parts, as cp_enrolment_encode would lay it out.
static char *
s_wrap (const char *inner, size_t inner_size, const char *signature_hex, const char *secrets_hex)
{
    json_t *outer = json_pack ("{s:s, s:s%, s:s}", "cpsync", "enrolment 1",
                               "enrolment", inner, inner_size, "signature", signature_hex);
    if (secrets_hex)
        json_object_set_new (outer, "secrets", json_string (secrets_hex));
    char *text = outer? json_dumps (outer, 0): NULL;
    json_decref (outer);
    return text;
}

//  Signs inner (as given) with the world's root and wraps it.
static char *
s_sign (const s_world_t *world, const char *inner, size_t inner_size, const char *secrets_hex)
{
    uint8_t signature [CP_SIGNATURE_SIZE];
    crypto_sign_detached (signature, NULL, (const uint8_t *) inner, inner_size,
                          world->root_secret);
    char signature_hex [2 * CP_SIGNATURE_SIZE + 1];
    sodium_bin2hex (signature_hex, sizeof signature_hex, signature, sizeof signature);
    return s_wrap (inner, inner_size, signature_hex, secrets_hex);
}

//  The outer object of a file, parsed.
static json_t *
s_outer (const char *text)
{
    return json_loads (text, JSON_REJECT_DUPLICATES, NULL);
}

//  The inner enrolment of a file, parsed, to be changed and re-signed.
static json_t *
s_inner (const char *text)
{
    json_t *outer = s_outer (text);
    json_t *inner = json_loads (json_string_value (json_object_get (outer, "enrolment")), 0, NULL);
    json_decref (outer);
    return inner;
}

//  Re-signs a changed inner object, with the world's secrets when given.
static char *
s_resign (const s_world_t *world, json_t *inner, bool with_secrets)
{
    char secrets_hex [2 * CP_SECRETS_SIZE + 1];
    sodium_bin2hex (secrets_hex, sizeof secrets_hex, world->secrets, CP_SECRETS_SIZE);
    char *inner_text = json_dumps (inner, JSON_COMPACT);
    char *text = s_sign (world, inner_text, strlen (inner_text), with_secrets? secrets_hex: NULL);
    free (inner_text);
    return text;
}

//  The object at path in inner: "" is inner itself, "node.key" a member
//  of a member, "central.data.1" an element of an array.
static json_t *
s_at (json_t *inner, const char *path)
{
    char copy [64];
    snprintf (copy, sizeof copy, "%s", path);
    json_t *value = inner;
    for (char *part = strtok (copy, "."); part && value; part = strtok (NULL, "."))
        value = json_is_array (value)? json_array_get (value, (size_t) atoi (part))
                                     : json_object_get (value, part);
    return value;
}

//  Decodes a bundle of the world whose field at path was set to value (JSON
//  text; NULL removes the field), re-signed, with or without its secrets.
static int
s_mutated (const s_world_t *world, const char *path, const char *field, const char *value,
           bool with_secrets)
{
    char *bundle = s_bundle (world, 3, S_TOWN);
    json_t *inner = s_inner (bundle);
    json_t *object = s_at (inner, path);
    if (value)
        json_object_set_new (object, field, json_loads (value, JSON_DECODE_ANY, NULL));
    else
        json_object_del (object, field);
    char *text = s_resign (world, inner, with_secrets);
    int rc = s_decode_text (text, world->root_public);
    json_decref (inner);
    free (text);
    free (bundle);
    return rc;
}

//  =====================================================================
//  cp_enrolment

static void
test_key_id (void)
{
    uint8_t key [CP_KEY_SIZE];
    for (int index = 0; index < CP_KEY_SIZE; index++)
        key [index] = (uint8_t) index;
    char id [CP_KEY_ID_MAX + 1];
    cp_enrolment_key_id ('t', key, id);
    CHECK_EQ_INT (strlen (id), 18);
    CHECK (id [0] == 't' && id [1] == '-');
    CHECK (cp_event_id_valid (id, strlen (id)));
    uint8_t hash [crypto_generichash_BYTES];
    crypto_generichash (hash, sizeof hash, key, sizeof key, NULL, 0);
    char hex [17];
    sodium_bin2hex (hex, sizeof hex, hash, 8);
    CHECK (strcmp (id + 2, hex) == 0);
}

static void
test_bundle_round_trip (void)
{
    s_world_t world;
    s_world (&world);
    cp_enrolment_t expected;
    s_enrolment (&world, &expected, 42, S_TOWN, 0, 2);
    char *text = cp_enrolment_encode (&expected, world.root_secret, world.secrets);
    CHECK (text != NULL);
    if (!text)
        return;
    cp_enrolment_t enrolment;
    uint8_t *secrets = sodium_malloc (CP_SECRETS_SIZE);
    bool has_secrets = false;
    CHECK_EQ_INT (s_decode (text, world.root_public, &enrolment, secrets, &has_secrets), 0);
    CHECK (has_secrets);
    CHECK (memcmp (secrets, world.secrets, CP_SECRETS_SIZE) == 0);
    CHECK (memcmp (&enrolment, &expected, sizeof enrolment) == 0);
    //  Without a pinned root, and without a buffer for the secrets.
    has_secrets = false;
    CHECK_EQ_INT (s_decode (text, NULL, &enrolment, NULL, &has_secrets), 0);
    CHECK (has_secrets);
    CHECK_EQ_INT (enrolment.serial, 42);
    CHECK (strcmp (enrolment.municipality, S_TOWN) == 0);
    CHECK (cp_enrolment_secrets_match (&enrolment, world.secrets));
    sodium_free (secrets);
    sodium_memzero (text, strlen (text));
    free (text);
}

static void
test_announcement_round_trip (void)
{
    s_world_t world;
    s_world (&world);
    cp_enrolment_t expected;
    s_enrolment (&world, &expected, 7, "", 1, CP_ENROLMENT_KEYS_MAX);
    char *text = cp_enrolment_encode (&expected, world.root_secret, NULL);
    CHECK (text != NULL);
    if (!text)
        return;
    cp_enrolment_t enrolment;
    bool has_secrets = true;
    CHECK_EQ_INT (s_decode (text, world.root_public, &enrolment, NULL, &has_secrets), 0);
    CHECK (!has_secrets);
    CHECK (memcmp (&enrolment, &expected, sizeof enrolment) == 0);
    CHECK_EQ_INT (enrolment.central_data_count, CP_ENROLMENT_KEYS_MAX);
    free (text);
}

static void
test_encode_refuses (void)
{
    s_world_t world;
    s_world (&world);
    cp_enrolment_t enrolment;
    s_enrolment (&world, &enrolment, 1, S_TOWN, 0, 1);
    CHECK (cp_enrolment_encode (&enrolment, world.root_secret, NULL) == NULL);
    s_world_t other;
    s_world (&other);
    CHECK (cp_enrolment_encode (&enrolment, other.root_secret, world.secrets) == NULL);
    CHECK (cp_enrolment_encode (&enrolment, world.root_secret, other.secrets) == NULL);
    s_enrolment (&world, &enrolment, 1, "", 0, 1);
    CHECK (cp_enrolment_encode (&enrolment, world.root_secret, world.secrets) == NULL);
    enrolment.central_data_count = CP_ENROLMENT_KEYS_MAX + 1;
    CHECK (cp_enrolment_encode (&enrolment, world.root_secret, NULL) == NULL);
    s_enrolment (&world, &enrolment, 1, "", 0, 1);
    strcpy (enrolment.endpoint, "tcp://bad endpoint");
    CHECK (cp_enrolment_encode (&enrolment, world.root_secret, NULL) == NULL);
    s_enrolment (&world, &enrolment, 1, "atlantis", 0, 1);
    CHECK (cp_enrolment_encode (&enrolment, world.root_secret, world.secrets) == NULL);
}

//  Every bit of the signed text and of the signature, flipped: CP_EAUTH
//  with the root pinned, a refusal without.
static void
test_flipped_bits (void)
{
    s_world_t world;
    s_world (&world);
    char *bundle = s_bundle (&world, 5, S_TOWN);
    json_t *outer = s_outer (bundle);
    const char *inner = json_string_value (json_object_get (outer, "enrolment"));
    const char *signature_hex = json_string_value (json_object_get (outer, "signature"));
    const char *secrets_hex = json_string_value (json_object_get (outer, "secrets"));
    size_t inner_size = strlen (inner);
    char *copy = strdup (inner);
    int wrong = 0, accepted = 0;
    for (size_t index = 0; index < inner_size; index++)
        //  Bit 7 would make the text invalid UTF-8, which no JSON string holds.
        for (int bit = 0; bit < 7; bit++) {
            copy [index] ^= (char) (1 << bit);
            char *text = copy [index]? s_wrap (copy, inner_size, signature_hex, secrets_hex): NULL;
            if (text) {
                wrong += s_decode_text (text, world.root_public) != CP_EAUTH;
                accepted += s_decode_text (text, NULL) == 0;
                free (text);
            }
            copy [index] ^= (char) (1 << bit);
        }
    CHECK_EQ_INT (wrong, 0);
    CHECK_EQ_INT (accepted, 0);

    uint8_t signature [CP_SIGNATURE_SIZE];
    CHECK_EQ_INT (sodium_hex2bin (signature, sizeof signature, signature_hex,
                                  strlen (signature_hex), NULL, NULL, NULL), 0);
    wrong = 0;
    for (size_t index = 0; index < 8 * sizeof signature; index++) {
        signature [index / 8] ^= (uint8_t) (1 << (index % 8));
        char hex [2 * CP_SIGNATURE_SIZE + 1];
        sodium_bin2hex (hex, sizeof hex, signature, sizeof signature);
        char *text = s_wrap (inner, inner_size, hex, secrets_hex);
        wrong += s_decode_text (text, world.root_public) != CP_EAUTH;
        wrong += s_decode_text (text, NULL) != CP_EAUTH;
        free (text);
        signature [index / 8] ^= (uint8_t) (1 << (index % 8));
    }
    CHECK_EQ_INT (wrong, 0);

    //  The secrets are outside the signature: a changed one must not match.
    //  (Byte 10 of each: X25519 ignores a few clamped bits at the ends.)
    int offsets [] = {CP_SECRETS_TRANSPORT + 10, CP_SECRETS_SIGN + 10, CP_SECRETS_SIGN + 40,
                      CP_SECRETS_KX + 10};
    for (size_t index = 0; index < sizeof offsets / sizeof offsets [0]; index++) {
        uint8_t secrets [CP_SECRETS_SIZE];
        memcpy (secrets, world.secrets, sizeof secrets);
        secrets [offsets [index]] ^= 0x10;
        char hex [2 * CP_SECRETS_SIZE + 1];
        sodium_bin2hex (hex, sizeof hex, secrets, sizeof secrets);
        char *text = s_wrap (inner, inner_size, signature_hex, hex);
        uint8_t out [CP_SECRETS_SIZE];
        memset (out, 0xAA, sizeof out);
        cp_enrolment_t enrolment;
        bool has_secrets = true;
        CHECK_EQ_INT (s_decode (text, world.root_public, &enrolment, out, &has_secrets), CP_EAUTH);
        CHECK (!has_secrets);
        CHECK (sodium_is_zero (out, sizeof out));
        free (text);
    }

    //  Raw flips of the whole file: nothing is accepted, but for whitespace
    //  between fields and the bits X25519 clamps away (the low three of the
    //  first byte, the top two of the last, of the transport and kx secrets):
    //  the same keys, spelled another way.
    size_t size = strlen (bundle);
    const char *clamped = strstr (bundle, "\"secrets\": \"") + strlen ("\"secrets\": \"");
    size_t harmless [] = {2 * CP_SECRETS_TRANSPORT + 1, 2 * CP_SECRETS_TRANSPORT + 62,
                          2 * CP_SECRETS_KX + 1, 2 * CP_SECRETS_KX + 62};
    accepted = 0;
    for (size_t index = 0; index < size; index++)
        for (int bit = 0; bit < 8; bit++) {
            bundle [index] ^= (char) (1 << bit);
            cp_enrolment_t enrolment;
            bool has_secrets;
            int rc = cp_enrolment_decode (bundle, size, world.root_public, &enrolment, NULL,
                                          &has_secrets, NULL, 0);
            bool expected = bundle [index] && strchr (" \t\n\r", bundle [index]);
            for (size_t which = 0; which < sizeof harmless / sizeof harmless [0]; which++)
                expected |= bundle + index == clamped + harmless [which];
            if (rc == 0 && !expected) {
                fprintf (stderr, "  accepted: bit %d of byte %zu flipped\n", bit, index);
                accepted++;
            }
            bundle [index] ^= (char) (1 << bit);
        }
    CHECK_EQ_INT (accepted, 0);
    free (copy);
    json_decref (outer);
    free (bundle);
}

static void
test_wrong_root (void)
{
    s_world_t world, other;
    s_world (&world);
    s_world (&other);
    char *bundle = s_bundle (&world, 5, S_TOWN);
    CHECK_EQ_INT (s_decode_text (bundle, other.root_public), CP_EAUTH);
    CHECK_EQ_INT (s_decode_text (bundle, world.root_public), 0);
    //  Signed by another root that names ours: refused, pinned or not.
    json_t *inner = s_inner (bundle);
    char *inner_text = json_dumps (inner, JSON_COMPACT);
    char *forged = s_sign (&other, inner_text, strlen (inner_text), NULL);
    CHECK_EQ_INT (s_decode_text (forged, NULL), CP_EAUTH);
    CHECK_EQ_INT (s_decode_text (forged, world.root_public), CP_EAUTH);
    free (forged);
    //  Signed by another root that names itself: good alone, not when pinned.
    char root_hex [2 * CP_KEY_SIZE + 1];
    sodium_bin2hex (root_hex, sizeof root_hex, other.root_public, CP_KEY_SIZE);
    json_object_set_new (inner, "root", json_string (root_hex));
    char secrets_hex [2 * CP_SECRETS_SIZE + 1];
    sodium_bin2hex (secrets_hex, sizeof secrets_hex, world.secrets, CP_SECRETS_SIZE);
    free (inner_text);
    inner_text = json_dumps (inner, JSON_COMPACT);
    forged = s_sign (&other, inner_text, strlen (inner_text), secrets_hex);
    CHECK_EQ_INT (s_decode_text (forged, NULL), 0);
    CHECK_EQ_INT (s_decode_text (forged, world.root_public), CP_EAUTH);
    free (forged);
    free (inner_text);
    json_decref (inner);
    free (bundle);
}

static void
test_strict_enrolment (void)
{
    s_world_t world;
    s_world (&world);
    //  JSON strings one character over the limits.
    char long_id [CP_KEY_ID_MAX + 4], long_endpoint [CP_ENROLMENT_ENDPOINT_MAX + 4];
    snprintf (long_id, sizeof long_id, "\"%0*d\"", CP_KEY_ID_MAX + 1, 0);
    snprintf (long_endpoint, sizeof long_endpoint, "\"%0*d\"", CP_ENROLMENT_ENDPOINT_MAX + 1, 0);
    struct {
        const char *path, *field, *value;       //  value NULL: the field removed
        bool with_secrets;
        int expected;
    } cases [] = {
        {"", "serial", "3", true, 0},
        {"", "extra", "true", true, CP_EMALFORMED},
        {"", "serial", "\"3\"", true, CP_EMALFORMED},
        {"", "serial", "3.0", true, CP_EMALFORMED},
        {"", "serial", "-1", true, CP_EMALFORMED},
        {"", "created", NULL, true, CP_EMALFORMED},
        {"", "root", "\"abcd\"", true, CP_EMALFORMED},
        {"", "root", "\"zz7a1ec4d63bdc4ca3c2e1bd5d3ed1eb0ee7a1ec4d63bdc4ca3c2e1bd5d3ed1e\"",
         true, CP_EMALFORMED},
        {"", "root", "\"AA7A1EC4D63BDC4CA3C2E1BD5D3ED1EB0EE7A1EC4D63BDC4CA3C2E1BD5D3ED1E\"",
         true, CP_EMALFORMED},
        {"node.transport", "public", "\"0g\"", true, CP_EMALFORMED},
        {"central.data.1", "comment", "\"x\"", true, CP_EMALFORMED},
        {"central", "data", "[]", true, CP_EMALFORMED},
        {"central", "transport", "{}", true, CP_EMALFORMED},
        {"node.key", "expires", "\"never\"", true, CP_EMALFORMED},
        {"node.key", "id", "\"n-has space\"", true, CP_EBADID},
        {"central.transport.0", "id", long_id, true, CP_EBADID},
        {"", "municipality", "\"atlantis\"", true, CP_EBADID},
        {"", "municipality", "\"be rat\"", true, CP_EBADID},
        {"", "endpoint", "\"tcp://a b:1\"", true, CP_EMALFORMED},
        {"", "endpoint", "\"\"", true, CP_EMALFORMED},
        {"", "endpoint", long_endpoint, true, CP_ETOOBIG},
        {"node", "spare", "{}", true, CP_EMALFORMED},
        {"", "central", "[]", true, CP_EMALFORMED},
        //  A bundle carries node keys and secrets; an announcement neither.
        {"", "serial", "3", false, CP_EMALFORMED},
        {"", "node", NULL, true, CP_EMALFORMED},
        {"", "municipality", "\"\"", true, CP_EMALFORMED},
        {"", "municipality", "\"\"", false, CP_EMALFORMED},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        int rc = s_mutated (&world, cases [index].path, cases [index].field,
                            cases [index].value, cases [index].with_secrets);
        if (rc != cases [index].expected)
            fprintf (stderr, "  case %zu (%s.%s)\n", index, cases [index].path,
                     cases [index].field);
        CHECK_EQ_INT (rc, cases [index].expected);
    }
    //  One key more than a file may hold.
    char *bundle = s_bundle (&world, 3, S_TOWN);
    json_t *inner = s_inner (bundle);
    json_t *keys = s_at (inner, "central.transport");
    while (json_array_size (keys) <= CP_ENROLMENT_KEYS_MAX)
        json_array_append (keys, json_array_get (keys, 0));
    char *text = s_resign (&world, inner, true);
    CHECK_EQ_INT (s_decode_text (text, world.root_public), CP_ETOOBIG);
    free (text);
    json_decref (inner);
    free (bundle);
    //  A duplicate field in the signed text.
    const char *duplicate = "{\"serial\":1,\"serial\":2}";
    text = s_sign (&world, duplicate, strlen (duplicate), NULL);
    CHECK_EQ_INT (s_decode_text (text, world.root_public), CP_EMALFORMED);
    free (text);
    //  Not an object at all.
    text = s_sign (&world, "[]", 2, NULL);
    CHECK_EQ_INT (s_decode_text (text, world.root_public), CP_EMALFORMED);
    CHECK_EQ_INT (s_decode_text (text, NULL), CP_EMALFORMED);
    free (text);
}

static void
test_strict_file (void)
{
    s_world_t world;
    s_world (&world);
    char *bundle = s_bundle (&world, 5, S_TOWN);
    json_t *outer = s_outer (bundle);
    struct {
        const char *field;
        json_t *value;          //  NULL: the field is removed
        int expected;
    } cases [] = {
        {"cpsync", json_string ("enrolment 2"), CP_EMALFORMED},
        {"cpsync", json_integer (1), CP_EMALFORMED},
        {"cpsync", NULL, CP_EMALFORMED},
        {"enrolment", json_object (), CP_EMALFORMED},
        {"enrolment", NULL, CP_EMALFORMED},
        {"signature", json_string ("00"), CP_EMALFORMED},
        {"signature", json_integer (0), CP_EMALFORMED},
        {"signature", NULL, CP_EMALFORMED},
        {"secrets", json_string ("abcd"), CP_EMALFORMED},
        {"secrets", json_null (), CP_EMALFORMED},
        {"comment", json_string ("hello"), CP_EMALFORMED},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        json_t *changed = json_deep_copy (outer);
        if (cases [index].value)
            json_object_set_new (changed, cases [index].field, cases [index].value);
        else
            json_object_del (changed, cases [index].field);
        char *text = json_dumps (changed, 0);
        int rc = s_decode_text (text, world.root_public);
        if (rc != cases [index].expected)
            fprintf (stderr, "  case %zu (%s)\n", index, cases [index].field);
        CHECK_EQ_INT (rc, cases [index].expected);
        free (text);
        json_decref (changed);
    }
    //  Secrets of the right length but not hex.
    json_t *changed = json_deep_copy (outer);
    char hex [2 * CP_SECRETS_SIZE + 1];
    memset (hex, 'x', sizeof hex - 1);
    hex [sizeof hex - 1] = 0;
    json_object_set_new (changed, "secrets", json_string (hex));
    char *text = json_dumps (changed, 0);
    uint8_t secrets [CP_SECRETS_SIZE];
    cp_enrolment_t enrolment;
    bool has_secrets;
    CHECK_EQ_INT (s_decode (text, world.root_public, &enrolment, secrets, &has_secrets),
                  CP_EMALFORMED);
    CHECK (sodium_is_zero (secrets, sizeof secrets));
    free (text);
    json_decref (changed);
    //  Not an object; a duplicate field.
    CHECK_EQ_INT (s_decode_text ("[1, 2]", NULL), CP_EMALFORMED);
    CHECK_EQ_INT (s_decode_text ("{\"cpsync\": \"enrolment 1\", \"cpsync\": \"enrolment 1\"}",
                                 NULL), CP_EMALFORMED);
    //  Empty and every truncation.
    CHECK_EQ_INT (cp_enrolment_decode ("", 0, NULL, &enrolment, NULL, &has_secrets, NULL, 0),
                  CP_EMALFORMED);
    size_t size = strlen (bundle);
    int wrong = 0;
    for (size_t length = 0; length + 2 < size; length++)   //  the last two are "}\n"
        wrong += cp_enrolment_decode (bundle, length, world.root_public, &enrolment, NULL,
                                      &has_secrets, NULL, 0) != CP_EMALFORMED;
    CHECK_EQ_INT (wrong, 0);
    //  Over the size limit, even when padded with harmless whitespace.
    char *big = malloc (CP_ENROLMENT_FILE_MAX + 2);
    memset (big, ' ', CP_ENROLMENT_FILE_MAX + 1);
    memcpy (big, bundle, size);
    big [CP_ENROLMENT_FILE_MAX + 1] = 0;
    CHECK_EQ_INT (s_decode_text (big, world.root_public), CP_ETOOBIG);
    big [CP_ENROLMENT_FILE_MAX] = 0;        //  at the limit: fine
    CHECK_EQ_INT (s_decode_text (big, world.root_public), 0);
    free (big);
    json_decref (outer);
    free (bundle);
}

//  The text of why never quotes the secrets, whatever went wrong.
static void
test_why_quotes_no_secret (void)
{
    s_world_t world;
    s_world (&world);
    char *bundle = s_bundle (&world, 5, S_TOWN);
    char secret_part [17];
    sodium_bin2hex (secret_part, sizeof secret_part, world.secrets + CP_SECRETS_SIGN, 8);
    //  Break the JSON inside the secrets string.
    char *at = strstr (bundle, secret_part);
    CHECK (at != NULL);
    if (at) {
        at [4] = '"';
        char why [512] = "";
        cp_enrolment_t enrolment;
        bool has_secrets;
        CHECK_EQ_INT (cp_enrolment_decode (bundle, strlen (bundle), NULL, &enrolment, NULL,
                                           &has_secrets, why, sizeof why), CP_EMALFORMED);
        CHECK (strstr (why, secret_part) == NULL);
        CHECK (strstr (why, secret_part + 5) == NULL);
    }
    free (bundle);
}

//  =====================================================================
//  node_keys

static char s_dir [4096];

static void
s_temp_dir (void)
{
    const char *base = getenv ("CPSYNC_TEST_TMP");
    snprintf (s_dir, sizeof s_dir, "%s/test_enrolment.XXXXXX", base && *base? base: "/tmp");
    CHECK (mkdtemp (s_dir) != NULL);
}

//  Removes s_dir and what is in it, one level of subdirectories deep.
static void
s_remove_dir (const char *dir, int depth)
{
    DIR *listing = opendir (dir);
    struct dirent *entry;
    while (listing && (entry = readdir (listing))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char path [4096 + 256];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        struct stat status;
        if (lstat (path, &status) == 0 && S_ISDIR (status.st_mode) && depth < 2)
            s_remove_dir (path, depth + 1);
        else
            unlink (path);
    }
    if (listing)
        closedir (listing);
    rmdir (dir);
}

static int
s_install (const char *text, const char *municipality)
{
    char why [512] = "";
    int rc = node_keys_install (s_dir, municipality, text, strlen (text), why, sizeof why);
    if (rc && getenv ("CPSYNC_TEST_VERBOSE"))
        fprintf (stderr, "  install: %s: %s\n", cp_strerror (rc), why);
    return rc;
}

static void
s_path (char *path, const char *name)
{
    snprintf (path, 4096 + 64, "%s/keys/%s", s_dir, name);
}

static void
test_keys_install_load (void)
{
    s_temp_dir ();
    s_world_t world;
    s_world (&world);
    int error = 0;
    CHECK (node_keys_load (s_dir, &error) == NULL);
    CHECK_EQ_INT (error, CP_ENOTENROLLED);
    char *bundle = s_bundle (&world, 4, S_TOWN);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);
    char path [4096 + 64];
    struct stat status;
    const char *names [] = {"root.pub", "node.bundle"};
    for (int index = 0; index < 2; index++) {
        s_path (path, names [index]);
        CHECK (stat (path, &status) == 0 && (status.st_mode & 0777) == 0600);
    }
    s_path (path, "root.pub");
    CHECK (stat (path, &status) == 0 && status.st_size == CP_KEY_SIZE);
    node_keys_t *keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    if (keys) {
        const cp_enrolment_t *enrolment = node_keys_enrolment (keys);
        CHECK_EQ_INT (enrolment->serial, 4);
        CHECK (strcmp (enrolment->municipality, S_TOWN) == 0);
        CHECK (strcmp (enrolment->node_key.id, world.node_key.id) == 0);
        CHECK (memcmp (node_keys_secrets (keys), world.secrets, CP_SECRETS_SIZE) == 0);
        CHECK (!node_keys_changed (keys));
        node_keys_destroy (&keys);
        CHECK (keys == NULL);
        node_keys_destroy (&keys);
    }
    //  The same file again: already installed.
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);
    free (bundle);
    s_remove_dir (s_dir, 0);
}

static void
test_keys_refusals (void)
{
    s_temp_dir ();
    s_world_t world;
    s_world (&world);
    char *announcement = s_announcement (&world, 9, 2);
    CHECK_EQ_INT (s_install (announcement, S_TOWN), CP_EUSAGE);
    char *other_town = s_bundle (&world, 5, S_OTHER_TOWN);
    CHECK_EQ_INT (s_install (other_town, S_TOWN), CP_EUSAGE);
    char *bundle = s_bundle (&world, 5, S_TOWN);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);
    char *older = s_bundle (&world, 4, S_TOWN);
    CHECK_EQ_INT (s_install (older, S_TOWN), CP_EROLLBACK);
    char *older_announcement = s_announcement (&world, 3, 2);
    CHECK_EQ_INT (s_install (older_announcement, S_TOWN), CP_EROLLBACK);
    //  Another root than the one pinned at the first enrolment.
    s_world_t other;
    s_world (&other);
    char *foreign = s_bundle (&other, 50, S_TOWN);
    CHECK_EQ_INT (s_install (foreign, S_TOWN), CP_EAUTH);
    CHECK_EQ_INT (s_install ("{}", S_TOWN), CP_EMALFORMED);
    //  The newer announcement is taken; then the older bundle is refused.
    CHECK_EQ_INT (s_install (announcement, S_TOWN), 0);
    CHECK_EQ_INT (s_install (announcement, S_TOWN), 0);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);          //  identical to what is held
    char *between = s_bundle (&world, 6, S_TOWN);
    CHECK_EQ_INT (s_install (between, S_TOWN), CP_EROLLBACK);
    //  Nothing above changed what loads.
    int error = 0;
    node_keys_t *keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    if (keys)
        CHECK_EQ_INT (node_keys_enrolment (keys)->serial, 5);
    node_keys_destroy (&keys);
    free (between);
    free (foreign);
    free (older_announcement);
    free (older);
    free (bundle);
    free (other_town);
    free (announcement);
    s_remove_dir (s_dir, 0);
}

static void
test_keys_insecure (void)
{
    s_temp_dir ();
    s_world_t world;
    s_world (&world);
    char *bundle = s_bundle (&world, 1, S_TOWN);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);
    char path [4096 + 64];
    s_path (path, "node.bundle");
    CHECK_EQ_INT (chmod (path, 0644), 0);
    int error = 0;
    CHECK (node_keys_load (s_dir, &error) == NULL);
    CHECK_EQ_INT (error, CP_EINSECURE);
    CHECK_EQ_INT (chmod (path, 0600), 0);
    node_keys_t *keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    node_keys_destroy (&keys);
    //  A changed byte on disk (the serial) no longer verifies.
    FILE *file = fopen (path, "r+");
    CHECK (file != NULL);
    if (file) {
        char text [CP_ENROLMENT_FILE_MAX];
        size_t size = fread (text, 1, sizeof text, file);
        char *serial = strstr (text, "\\\"serial\\\":1");
        CHECK (serial != NULL && (size_t) (serial - text) < size);
        if (serial) {
            fseek (file, (long) (serial - text) + 11, SEEK_SET);
            fputc ('2', file);
        }
        fclose (file);
    }
    CHECK (node_keys_load (s_dir, &error) == NULL);
    CHECK_EQ_INT (error, CP_EAUTH);
    //  Without root.pub a bundle cannot be verified; enrolling puts it back.
    s_path (path, "root.pub");
    CHECK_EQ_INT (unlink (path), 0);
    free (bundle);
    bundle = s_bundle (&world, 2, S_TOWN);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), CP_EAUTH);      //  the held file is damaged
    s_path (path, "node.bundle");
    CHECK_EQ_INT (unlink (path), 0);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);
    keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    node_keys_destroy (&keys);
    free (bundle);
    s_remove_dir (s_dir, 0);
}

static void
test_keys_central_merge (void)
{
    s_temp_dir ();
    s_world_t world;
    s_world (&world);
    char *bundle = s_bundle (&world, 5, S_TOWN);
    CHECK_EQ_INT (s_install (bundle, S_TOWN), 0);
    int error = 0;
    node_keys_t *keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    if (!keys)
        return;
    const cp_enrolment_t *enrolment = node_keys_enrolment (keys);
    CHECK_EQ_INT (enrolment->central_transport_count, 2);
    CHECK (strcmp (enrolment->central_transport [0].id, world.central_transport [0].id) == 0);
    CHECK (!node_keys_changed (keys));

    char *announcement = s_announcement (&world, 8, 3);
    CHECK_EQ_INT (s_install (announcement, S_TOWN), 0);
    CHECK (node_keys_changed (keys));
    node_keys_destroy (&keys);
    keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    if (!keys)
        return;
    enrolment = node_keys_enrolment (keys);
    CHECK_EQ_INT (enrolment->central_transport_count, 1);
    CHECK_EQ_INT (enrolment->central_data_count, 1);
    CHECK (strcmp (enrolment->central_transport [0].id, world.central_transport [3].id) == 0);
    CHECK (strcmp (enrolment->central_data [0].id, world.central_data [3].id) == 0);
    CHECK (strcmp (enrolment->node_key.id, world.node_key.id) == 0);
    CHECK (memcmp (node_keys_secrets (keys), world.secrets, CP_SECRETS_SIZE) == 0);
    CHECK (!node_keys_changed (keys));

    //  A newer bundle (rotate-node) takes the central's keys back from itself.
    char *newer = s_bundle (&world, 9, S_TOWN);
    CHECK_EQ_INT (s_install (newer, S_TOWN), 0);
    CHECK (node_keys_changed (keys));
    node_keys_destroy (&keys);
    keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    if (keys) {
        enrolment = node_keys_enrolment (keys);
        CHECK_EQ_INT (enrolment->serial, 9);
        CHECK_EQ_INT (enrolment->central_transport_count, 2);
        CHECK (strcmp (enrolment->central_transport [0].id, world.central_transport [0].id) == 0);
    }
    node_keys_destroy (&keys);
    free (newer);
    free (announcement);
    free (bundle);
    s_remove_dir (s_dir, 0);
}

//  Encodes enrolment, a bundle with the world's secrets or an announcement.
static char *
s_encode (const s_world_t *world, const cp_enrolment_t *enrolment)
{
    return cp_enrolment_encode (enrolment, world->root_secret,
                                enrolment->municipality [0]? world->secrets: NULL);
}

//  Installs enrolment, encoded; returns the code.
static int
s_install_enrolment (const s_world_t *world, const cp_enrolment_t *enrolment)
{
    char *text = s_encode (world, enrolment);
    CHECK (text != NULL);
    int rc = text? s_install (text, S_TOWN): CP_EMALFORMED;
    free (text);
    return rc;
}

//  Files of one serial tell of one state of the central's key table: one
//  made again later is taken (the time made differs, keys expired since are
//  left out), one with other keys is refused and changes nothing.
static void
test_keys_same_serial (void)
{
    s_temp_dir ();
    s_world_t world;
    s_world (&world);
    cp_enrolment_t held;
    s_enrolment (&world, &held, 5, S_TOWN, 0, 2);
    CHECK_EQ_INT (s_install_enrolment (&world, &held), 0);
    //  Serial 5 again, with other node keys: refused.
    s_world_t other = world;
    s_transport_key (&other.node_transport, 't', other.secrets + CP_SECRETS_TRANSPORT);
    s_party_key (&other.node_key, 'n', other.secrets + CP_SECRETS_SIGN,
                 other.secrets + CP_SECRETS_KX);
    cp_enrolment_t swapped;
    s_enrolment (&other, &swapped, 5, S_TOWN, 0, 2);
    CHECK_EQ_INT (s_install_enrolment (&other, &swapped), CP_EKEYCONFLICT);
    //  The bundle and an announcement of serial 5 made later: taken.
    cp_enrolment_t again = held;
    again.created += 60;
    CHECK_EQ_INT (s_install_enrolment (&world, &again), 0);
    cp_enrolment_t announcement;
    s_enrolment (&world, &announcement, 5, "", 0, 2);
    announcement.created += 120;
    CHECK_EQ_INT (s_install_enrolment (&world, &announcement), 0);
    //  A central key more, or one of them changed: refused.
    cp_enrolment_t more;
    s_enrolment (&world, &more, 5, "", 0, 3);
    CHECK_EQ_INT (s_install_enrolment (&world, &more), CP_EKEYCONFLICT);
    cp_enrolment_t changed = announcement;
    changed.central_data [0].expires += 1;
    CHECK_EQ_INT (s_install_enrolment (&world, &changed), CP_EKEYCONFLICT);
    changed = announcement;
    memcpy (changed.central_transport [1].public_key, world.central_transport [5].public_key,
            CP_KEY_SIZE);
    CHECK_EQ_INT (s_install_enrolment (&world, &changed), CP_EKEYCONFLICT);
    //  Without a data key that had expired when it was made: taken; without
    //  one that had not: refused.
    cp_enrolment_t fewer = announcement;
    fewer.central_data_count = 1;
    fewer.created = world.central_data [1].expires - 1;
    CHECK_EQ_INT (s_install_enrolment (&world, &fewer), CP_EKEYCONFLICT);
    fewer.created = world.central_data [1].expires;
    CHECK_EQ_INT (s_install_enrolment (&world, &fewer), 0);
    //  Nothing refused was taken: the node's keys are the world's, serial 5.
    int error = 0;
    node_keys_t *keys = node_keys_load (s_dir, &error);
    CHECK (keys != NULL);
    if (keys) {
        CHECK_EQ_INT (node_keys_enrolment (keys)->serial, 5);
        CHECK (strcmp (node_keys_enrolment (keys)->node_key.id, world.node_key.id) == 0);
        CHECK (memcmp (node_keys_secrets (keys), world.secrets, CP_SECRETS_SIZE) == 0);
    }
    node_keys_destroy (&keys);
    //  Other node keys under a newer serial are a rotation: taken.
    swapped.serial = 6;
    CHECK_EQ_INT (s_install_enrolment (&other, &swapped), 0);
    s_remove_dir (s_dir, 0);
}

//  cp_enrolment_same_keys on lists that are full: the oldest keys do not
//  fit, so a key missing from a full list is no difference.
static void
test_same_keys_full_lists (void)
{
    s_world_t world;
    s_world (&world);
    cp_enrolment_t first, last, short_list;
    s_enrolment (&world, &first, 9, "", 0, CP_ENROLMENT_KEYS_MAX);
    s_enrolment (&world, &last, 9, "", 1, CP_ENROLMENT_KEYS_MAX);
    s_enrolment (&world, &short_list, 9, "", 1, CP_ENROLMENT_KEYS_MAX - 1);
    CHECK (cp_enrolment_same_keys (&first, &first));
    CHECK (cp_enrolment_same_keys (&first, &last));
    CHECK (cp_enrolment_same_keys (&last, &first));
    CHECK (!cp_enrolment_same_keys (&first, &short_list));
    CHECK (!cp_enrolment_same_keys (&short_list, &first));
    //  Another root is never the same.
    s_world_t other;
    s_world (&other);
    memcpy (last.root, other.root_public, CP_KEY_SIZE);
    CHECK (!cp_enrolment_same_keys (&first, &last));
}

TESTING_MAIN (
    TEST (test_key_id),
    TEST (test_bundle_round_trip),
    TEST (test_announcement_round_trip),
    TEST (test_encode_refuses),
    TEST (test_flipped_bits),
    TEST (test_wrong_root),
    TEST (test_strict_enrolment),
    TEST (test_strict_file),
    TEST (test_why_quotes_no_secret),
    TEST (test_keys_install_load),
    TEST (test_keys_refusals),
    TEST (test_keys_insecure),
    TEST (test_keys_central_merge),
    TEST (test_keys_same_serial),
    TEST (test_same_keys_full_lists)
)
