/*  cp_enrolment: the signed enrolment file, read with jansson and checked
    field by field.

    Decoding runs in the order that keeps hostile bytes furthest from the
    code that trusts them: the size first, then the outer object (four
    known fields, exact types and hex lengths), then the signature over the
    exact bytes of the "enrolment" string, and only then the enrolment
    itself.  With a pinned root the signature is checked before the inner
    text is parsed at all; without one (the first enrolment pins the root
    it names) the inner text must be parsed to find that root, and nothing
    but "root" is read from it before the signature is checked.

    The secrets are not part of the signed text (they are the node's, not
    the root's to vouch for), so they are bound to it another way: they
    must be the secret halves of the node's signed public keys, else the
    file is refused with CP_EAUTH.  They are decoded straight into the
    caller's guarded memory, and jansson's copy of their hex is wiped
    before it is freed.  Encoding builds the outer text by hand for the
    same reason: jansson's dump buffers would leave copies of the hex on
    the heap.                                                                */

#include "cp_enrolment.h"
#include "cp_error.h"
#include "cp_keyfile.h"
#include "cp_municipality.h"

#include <assert.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FORMAT "enrolment 1"
#define S_KEY_ID_HASH_BYTES 8               //  16 hex digits in an id
#define S_SIGNATURE_HEX (2 * CP_SIGNATURE_SIZE)
#define S_SECRETS_HEX (2 * CP_SECRETS_SIZE)
#define S_FIELD_SHOWN 32                    //  characters of a hostile name in why

static const char *const s_outer_fields [] = {"cpsync", "enrolment", "signature", "secrets", NULL};
static const char *const s_inner_fields [] = {"serial", "created", "municipality", "endpoint",
                                              "root", "node", "central", NULL};
static const char *const s_node_fields [] = {"transport", "key", NULL};
static const char *const s_central_fields [] = {"transport", "data", NULL};
static const char *const s_transport_fields [] = {"id", "public", "valid_from", "expires", NULL};
static const char *const s_party_fields [] = {"id", "sign_public", "kx_public", "expires", NULL};

void
cp_enrolment_key_id (char prefix, const uint8_t *public_key, char *id)
{
    assert (public_key && id);
    //  BLAKE2b's shortest output in libsodium is 16 bytes, so the id is the
    //  first 8 bytes of the default 32-byte hash (b2sum -l 256 agrees).
    uint8_t hash [crypto_generichash_BYTES];
    crypto_generichash (hash, sizeof hash, public_key, CP_KEY_SIZE, NULL, 0);
    id [0] = prefix;
    id [1] = '-';
    sodium_bin2hex (id + 2, 2 * S_KEY_ID_HASH_BYTES + 1, hash, S_KEY_ID_HASH_BYTES);
}

bool
cp_enrolment_secrets_match (const cp_enrolment_t *enrolment, const uint8_t *secrets)
{
    assert (enrolment && secrets);
    //  Each public key is derived again from its secret: for Ed25519 from
    //  the seed, since the public half stored in the secret key proves nothing.
    uint8_t derived [CP_KEY_SIZE];
    uint8_t *sign_secret = cp_keyfile_alloc (CP_SIGN_SECRET_SIZE);
    uint8_t *seed = cp_keyfile_alloc (crypto_sign_SEEDBYTES);
    if (!sign_secret || !seed) {
        cp_keyfile_free (&sign_secret);
        cp_keyfile_free (&seed);
        return false;
    }
    bool match = crypto_scalarmult_base (derived, secrets + CP_SECRETS_TRANSPORT) == 0
              && sodium_memcmp (derived, enrolment->node_transport.public_key, CP_KEY_SIZE) == 0
              && crypto_scalarmult_base (derived, secrets + CP_SECRETS_KX) == 0
              && sodium_memcmp (derived, enrolment->node_key.kx_public, CP_KEY_SIZE) == 0;
    if (match) {
        crypto_sign_ed25519_sk_to_seed (seed, secrets + CP_SECRETS_SIGN);
        match = crypto_sign_seed_keypair (derived, sign_secret, seed) == 0
             && sodium_memcmp (derived, enrolment->node_key.sign_public, CP_KEY_SIZE) == 0
             && sodium_memcmp (sign_secret, secrets + CP_SECRETS_SIGN, CP_SIGN_SECRET_SIZE) == 0;
    }
    cp_keyfile_free (&sign_secret);
    cp_keyfile_free (&seed);
    return match;
}

//  =====================================================================
//  Comparing two files of one serial

static bool
s_same_transport (const cp_transport_key_t *a, const cp_transport_key_t *b)
{
    return strcmp (a->id, b->id) == 0 && a->valid_from == b->valid_from
        && a->expires == b->expires && memcmp (a->public_key, b->public_key, CP_KEY_SIZE) == 0;
}

static bool
s_same_party (const cp_party_key_t *a, const cp_party_key_t *b)
{
    return strcmp (a->id, b->id) == 0 && a->expires == b->expires
        && memcmp (a->sign_public, b->sign_public, CP_KEY_SIZE) == 0
        && memcmp (a->kx_public, b->kx_public, CP_KEY_SIZE) == 0;
}

//  True when every central key of kind in one (transport or data) is in
//  other, equal, or may be missing from it: it had expired when other was
//  made, or other's list is full.
static bool
s_central_keys_within (const cp_enrolment_t *one, const cp_enrolment_t *other, bool transport)
{
    size_t count = transport? one->central_transport_count: one->central_data_count;
    size_t other_count = transport? other->central_transport_count: other->central_data_count;
    for (size_t index = 0; index < count; index++) {
        const char *id = transport? one->central_transport [index].id
                                  : one->central_data [index].id;
        int64_t expires = transport? one->central_transport [index].expires
                                   : one->central_data [index].expires;
        size_t at = 0;
        while (at < other_count
           &&  strcmp (id, transport? other->central_transport [at].id
                                    : other->central_data [at].id))
            at++;
        if (at == other_count) {
            if ((expires && expires <= other->created) || other_count == CP_ENROLMENT_KEYS_MAX)
                continue;
            return false;
        }
        if (transport? !s_same_transport (&one->central_transport [index],
                                          &other->central_transport [at])
                     : !s_same_party (&one->central_data [index], &other->central_data [at]))
            return false;
    }
    return true;
}

bool
cp_enrolment_same_keys (const cp_enrolment_t *a, const cp_enrolment_t *b)
{
    assert (a && b);
    if (memcmp (a->root, b->root, CP_KEY_SIZE) != 0)
        return false;
    if (a->municipality [0] && b->municipality [0]
    &&  (!s_same_transport (&a->node_transport, &b->node_transport)
      || !s_same_party (&a->node_key, &b->node_key)))
        return false;
    return s_central_keys_within (a, b, true) && s_central_keys_within (b, a, true)
        && s_central_keys_within (a, b, false) && s_central_keys_within (b, a, false);
}

//  =====================================================================
//  Decoding: helpers that read one field and say which one was wrong

//  A hostile string is named in why only when it is short printable ASCII.
static const char *
s_shown (const char *text)
{
    size_t length = strlen (text);
    if (length > S_FIELD_SHOWN)
        return "(a long name)";
    for (size_t index = 0; index < length; index++)
        if (text [index] < 0x20 || text [index] > 0x7e)
            return "(an unprintable name)";
    return text;
}

//  True when text is length lowercase hex digits, as encode writes them:
//  one spelling per file, so that equal content is equal text.
static bool
s_lower_hex (const char *text, size_t length)
{
    for (size_t index = 0; index < length; index++)
        if (!((text [index] >= '0' && text [index] <= '9')
           || (text [index] >= 'a' && text [index] <= 'f')))
            return false;
    return true;
}

//  Checks that value is an object holding only the fields named.
static int
s_object (json_t *value, const char *where, const char *const *fields, char *why, size_t why_size)
{
    if (!json_is_object (value))
        return cp_error_why (CP_EMALFORMED, why, why_size, "%s: not an object", where);
    const char *name;
    json_t *member;
    json_object_foreach (value, name, member) {
        size_t index = 0;
        while (fields [index] && strcmp (fields [index], name))
            index++;
        if (!fields [index])
            return cp_error_why (CP_EMALFORMED, why, why_size, "%s: unknown field \"%s\"",
                                 where, s_shown (name));
    }
    return 0;
}

//  The string field name of object, or NULL with the code in *rc.
static json_t *
s_string (json_t *object, const char *name, const char *where, int *rc, char *why,
          size_t why_size)
{
    json_t *value = json_object_get (object, name);
    if (!value)
        *rc = cp_error_why (CP_EMALFORMED, why, why_size, "%s: \"%s\" missing", where, name);
    else
    if (!json_is_string (value))
        *rc = cp_error_why (CP_EMALFORMED, why, why_size, "%s: \"%s\" is not a string",
                            where, name);
    else
        return value;
    return NULL;
}

//  A non-negative integer field.
static int
s_integer (json_t *object, const char *name, const char *where, int64_t *out, char *why,
           size_t why_size)
{
    json_t *value = json_object_get (object, name);
    if (!value)
        return cp_error_why (CP_EMALFORMED, why, why_size, "%s: \"%s\" missing", where, name);
    if (!json_is_integer (value))
        return cp_error_why (CP_EMALFORMED, why, why_size, "%s: \"%s\" is not an integer",
                             where, name);
    if (json_integer_value (value) < 0)
        return cp_error_why (CP_EMALFORMED, why, why_size, "%s: \"%s\" is negative",
                             where, name);
    *out = (int64_t) json_integer_value (value);
    return 0;
}

//  A hex string of exactly size bytes, decoded into out.
static int
s_hex (json_t *object, const char *name, const char *where, uint8_t *out, size_t size,
       char *why, size_t why_size)
{
    int rc = 0;
    json_t *value = s_string (object, name, where, &rc, why, why_size);
    if (!value)
        return rc;
    const char *hex = json_string_value (value);
    size_t length = json_string_length (value);
    size_t decoded = 0;
    const char *end = NULL;
    if (length != 2 * size || !s_lower_hex (hex, length)
    ||  sodium_hex2bin (out, size, hex, length, NULL, &decoded, &end) != 0
    ||  decoded != size || end != hex + length)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "%s: \"%s\" is not %zu lowercase hex digits", where, name, 2 * size);
    return 0;
}

//  A key id: the id alphabet, at most CP_KEY_ID_MAX characters.
static int
s_key_id (json_t *object, const char *where, char *id, char *why, size_t why_size)
{
    int rc = 0;
    json_t *value = s_string (object, "id", where, &rc, why, why_size);
    if (!value)
        return rc;
    size_t length = json_string_length (value);
    if (length > CP_KEY_ID_MAX || !cp_event_id_valid (json_string_value (value), length))
        return cp_error_why (CP_EBADID, why, why_size, "%s: \"id\" is not a key id", where);
    memcpy (id, json_string_value (value), length);
    id [length] = 0;
    return 0;
}

static int
s_transport_key (json_t *value, const char *where, cp_transport_key_t *key, char *why,
                 size_t why_size)
{
    int rc;
    if ((rc = s_object (value, where, s_transport_fields, why, why_size))
    ||  (rc = s_key_id (value, where, key->id, why, why_size))
    ||  (rc = s_hex (value, "public", where, key->public_key, CP_KEY_SIZE, why, why_size))
    ||  (rc = s_integer (value, "valid_from", where, &key->valid_from, why, why_size))
    ||  (rc = s_integer (value, "expires", where, &key->expires, why, why_size)))
        return rc;
    return 0;
}

static int
s_party_key (json_t *value, const char *where, cp_party_key_t *key, char *why, size_t why_size)
{
    int rc;
    if ((rc = s_object (value, where, s_party_fields, why, why_size))
    ||  (rc = s_key_id (value, where, key->id, why, why_size))
    ||  (rc = s_hex (value, "sign_public", where, key->sign_public, CP_KEY_SIZE, why, why_size))
    ||  (rc = s_hex (value, "kx_public", where, key->kx_public, CP_KEY_SIZE, why, why_size))
    ||  (rc = s_integer (value, "expires", where, &key->expires, why, why_size)))
        return rc;
    return 0;
}

//  An array of 1..CP_ENROLMENT_KEYS_MAX central keys of one kind.
static int
s_central_keys (json_t *central, const char *name, cp_enrolment_t *enrolment, char *why,
                size_t why_size)
{
    json_t *array = json_object_get (central, name);
    if (!array)
        return cp_error_why (CP_EMALFORMED, why, why_size, "central: \"%s\" missing", name);
    if (!json_is_array (array))
        return cp_error_why (CP_EMALFORMED, why, why_size, "central: \"%s\" is not an array",
                             name);
    size_t count = json_array_size (array);
    if (count == 0)
        return cp_error_why (CP_EMALFORMED, why, why_size, "central: \"%s\" holds no key", name);
    if (count > CP_ENROLMENT_KEYS_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "central: \"%s\" holds %zu keys "
                             "(at most %d)", name, count, CP_ENROLMENT_KEYS_MAX);
    bool transport = strcmp (name, "transport") == 0;
    for (size_t index = 0; index < count; index++) {
        char where [48];
        snprintf (where, sizeof where, "central.%s[%zu]", name, index);
        json_t *value = json_array_get (array, index);
        int rc = transport? s_transport_key (value, where, &enrolment->central_transport [index],
                                             why, why_size)
                          : s_party_key (value, where, &enrolment->central_data [index], why,
                                         why_size);
        if (rc)
            return rc;
        //  A key listed twice, perhaps with other dates: which one holds?
        for (size_t earlier = 0; earlier < index; earlier++) {
            const char *id = transport? enrolment->central_transport [index].id
                                      : enrolment->central_data [index].id;
            const char *earlier_id = transport? enrolment->central_transport [earlier].id
                                              : enrolment->central_data [earlier].id;
            if (strcmp (id, earlier_id) == 0)
                return cp_error_why (CP_EMALFORMED, why, why_size,
                                     "%s: the key of central.%s[%zu] again", where, name,
                                     earlier);
        }
    }
    if (transport)
        enrolment->central_transport_count = count;
    else
        enrolment->central_data_count = count;
    return 0;
}

//  Reads the (verified) enrolment object into enrolment.
static int
s_enrolment (json_t *inner, cp_enrolment_t *enrolment, char *why, size_t why_size)
{
    int rc;
    int64_t serial;
    if ((rc = s_object (inner, "enrolment", s_inner_fields, why, why_size))
    ||  (rc = s_integer (inner, "serial", "enrolment", &serial, why, why_size))
    ||  (rc = s_integer (inner, "created", "enrolment", &enrolment->created, why, why_size))
    ||  (rc = s_hex (inner, "root", "enrolment", enrolment->root, CP_KEY_SIZE, why, why_size)))
        return rc;
    enrolment->serial = (uint64_t) serial;

    json_t *value = s_string (inner, "municipality", "enrolment", &rc, why, why_size);
    if (!value)
        return rc;
    size_t length = json_string_length (value);
    const char *code = json_string_value (value);
    if (length > 0
    && (length > CP_ID_MAX || !cp_event_id_valid (code, length)
    ||  cp_municipality_index (code) < 0))
        return cp_error_why (CP_EBADID, why, why_size,
                             "enrolment: \"municipality\" is not a municipality code");
    memcpy (enrolment->municipality, code, length);
    enrolment->municipality [length] = 0;

    value = s_string (inner, "endpoint", "enrolment", &rc, why, why_size);
    if (!value)
        return rc;
    length = json_string_length (value);
    const char *endpoint = json_string_value (value);
    if (length > CP_ENROLMENT_ENDPOINT_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "enrolment: \"endpoint\" is over %d "
                             "characters", CP_ENROLMENT_ENDPOINT_MAX);
    //  It ends up in a setting and in log lines: visible ASCII only.
    bool printable = length > 0;
    for (size_t index = 0; index < length && printable; index++)
        printable = endpoint [index] > 0x20 && endpoint [index] < 0x7f;
    if (!printable)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "enrolment: \"endpoint\" is empty or not printable");
    memcpy (enrolment->endpoint, endpoint, length);
    enrolment->endpoint [length] = 0;

    json_t *node = json_object_get (inner, "node");
    if (enrolment->municipality [0] && !node)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "enrolment: a bundle without \"node\" keys");
    if (!enrolment->municipality [0] && node)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "enrolment: an announcement (no municipality) with \"node\" keys");
    if (node) {
        if ((rc = s_object (node, "node", s_node_fields, why, why_size)))
            return rc;
        json_t *transport = json_object_get (node, "transport");
        json_t *key = json_object_get (node, "key");
        if (!transport || !key)
            return cp_error_why (CP_EMALFORMED, why, why_size, "node: \"%s\" missing",
                                 transport? "key": "transport");
        if ((rc = s_transport_key (transport, "node.transport", &enrolment->node_transport,
                                   why, why_size))
        ||  (rc = s_party_key (key, "node.key", &enrolment->node_key, why, why_size)))
            return rc;
    }

    json_t *central = json_object_get (inner, "central");
    if (!central)
        return cp_error_why (CP_EMALFORMED, why, why_size, "enrolment: \"central\" missing");
    if ((rc = s_object (central, "central", s_central_fields, why, why_size))
    ||  (rc = s_central_keys (central, "transport", enrolment, why, why_size))
    ||  (rc = s_central_keys (central, "data", enrolment, why, why_size)))
        return rc;
    return 0;
}

//  Parses the file or the enrolment text.  jansson's message is left out
//  of why on purpose: it quotes the text near the error, secrets included.
static json_t *
s_parse (const char *text, size_t size, const char *what, int *rc, char *why, size_t why_size)
{
    json_error_t error;
    json_t *value = json_loadb (text, size, JSON_REJECT_DUPLICATES, &error);
    if (!value)
        *rc = cp_error_why (CP_EMALFORMED, why, why_size,
                            "%s: not JSON or a field given twice (line %d, column %d)",
                            what, error.line, error.column);
    return value;
}

int
cp_enrolment_decode (const char *text, size_t size, const uint8_t *pinned_root,
                     cp_enrolment_t *enrolment, uint8_t *secrets, bool *has_secrets,
                     char *why, size_t why_size)
{
    assert (enrolment && has_secrets);
    assert (text || size == 0);
    memset (enrolment, 0, sizeof *enrolment);
    *has_secrets = false;
    if (size > CP_ENROLMENT_FILE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "the file is over %d bytes",
                             CP_ENROLMENT_FILE_MAX);
    int rc = 0;
    json_t *inner = NULL;
    json_t *secrets_hex = NULL;
    uint8_t *scratch = NULL;            //  for secrets when the caller wants none
    uint8_t signature [CP_SIGNATURE_SIZE];
    json_t *outer = s_parse (text, size, "file", &rc, why, why_size);
    if (!outer)
        goto done;
    //  Found first, so that it is wiped on every path below.
    secrets_hex = json_object_get (outer, "secrets");
    if ((rc = s_object (outer, "file", s_outer_fields, why, why_size)))
        goto done;
    json_t *format = s_string (outer, "cpsync", "file", &rc, why, why_size);
    if (!format)
        goto done;
    if (strcmp (json_string_value (format), S_FORMAT)) {
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "file: \"cpsync\" is not \"%s\"",
                           S_FORMAT);
        goto done;
    }
    json_t *signed_text = s_string (outer, "enrolment", "file", &rc, why, why_size);
    if (!signed_text
    ||  (rc = s_hex (outer, "signature", "file", signature, sizeof signature, why, why_size)))
        goto done;
    if (secrets_hex
    && (!json_is_string (secrets_hex) || json_string_length (secrets_hex) != S_SECRETS_HEX)) {
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "file: \"secrets\" is not %d hex digits",
                           S_SECRETS_HEX);
        goto done;
    }

    //  The signature, then the enrolment.
    const unsigned char *message = (const unsigned char *) json_string_value (signed_text);
    size_t message_size = json_string_length (signed_text);
    if (pinned_root) {
        if (crypto_sign_verify_detached (signature, message, message_size, pinned_root) != 0) {
            rc = cp_error_why (CP_EAUTH, why, why_size,
                               "the signature is not the pinned root key's");
            goto done;
        }
        if (!(inner = s_parse ((const char *) message, message_size, "enrolment", &rc, why,
                               why_size)))
            goto done;
    }
    else {
        uint8_t root [CP_KEY_SIZE];
        if (!(inner = s_parse ((const char *) message, message_size, "enrolment", &rc, why,
                               why_size))
        ||  (rc = s_object (inner, "enrolment", s_inner_fields, why, why_size))
        ||  (rc = s_hex (inner, "root", "enrolment", root, sizeof root, why, why_size)))
            goto done;
        if (crypto_sign_verify_detached (signature, message, message_size, root) != 0) {
            rc = cp_error_why (CP_EAUTH, why, why_size,
                               "the signature is not the root key's it names");
            goto done;
        }
    }
    if ((rc = s_enrolment (inner, enrolment, why, why_size)))
        goto done;
    if (pinned_root && sodium_memcmp (enrolment->root, pinned_root, CP_KEY_SIZE) != 0) {
        rc = cp_error_why (CP_EAUTH, why, why_size,
                           "the file names another root than the pinned one");
        goto done;
    }

    //  Secrets: a bundle carries them, an announcement must not.
    bool bundle = enrolment->municipality [0] != 0;
    if (bundle && !secrets_hex) {
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "file: a bundle without \"secrets\"");
        goto done;
    }
    if (!bundle && secrets_hex) {
        rc = cp_error_why (CP_EMALFORMED, why, why_size,
                           "file: an announcement (no municipality) with \"secrets\"");
        goto done;
    }
    if (bundle) {
        uint8_t *into = secrets;
        if (!into && !(into = scratch = cp_keyfile_alloc (CP_SECRETS_SIZE))) {
            rc = cp_error_why (CP_EMALFORMED, why, why_size, "out of guarded memory");
            goto done;
        }
        const char *hex = json_string_value (secrets_hex);
        size_t decoded = 0;
        const char *end = NULL;
        if (!s_lower_hex (hex, S_SECRETS_HEX)
        ||  sodium_hex2bin (into, CP_SECRETS_SIZE, hex, S_SECRETS_HEX, NULL, &decoded, &end) != 0
        ||  decoded != CP_SECRETS_SIZE || end != hex + S_SECRETS_HEX)
            rc = cp_error_why (CP_EMALFORMED, why, why_size,
                               "file: \"secrets\" is not %d hex digits", S_SECRETS_HEX);
        else
        if (!cp_enrolment_secrets_match (enrolment, into))
            rc = cp_error_why (CP_EAUTH, why, why_size,
                               "the secrets are not those of the node's signed public keys");
        if (rc) {
            sodium_memzero (into, CP_SECRETS_SIZE);
            goto done;
        }
        *has_secrets = true;
    }

done:
    if (json_is_string (secrets_hex))
        sodium_memzero ((char *) json_string_value (secrets_hex), json_string_length (secrets_hex));
    json_decref (inner);
    json_decref (outer);
    cp_keyfile_free (&scratch);
    if (rc)
        memset (enrolment, 0, sizeof *enrolment);
    return rc;
}

//  =====================================================================
//  Encoding

static json_t *
s_transport_json (const cp_transport_key_t *key)
{
    char hex [2 * CP_KEY_SIZE + 1];
    sodium_bin2hex (hex, sizeof hex, key->public_key, CP_KEY_SIZE);
    return json_pack ("{s:s%, s:s, s:I, s:I}", "id", key->id, strnlen (key->id, CP_KEY_ID_MAX),
                      "public", hex, "valid_from", (json_int_t) key->valid_from,
                      "expires", (json_int_t) key->expires);
}

static json_t *
s_party_json (const cp_party_key_t *key)
{
    char sign_hex [2 * CP_KEY_SIZE + 1], kx_hex [2 * CP_KEY_SIZE + 1];
    sodium_bin2hex (sign_hex, sizeof sign_hex, key->sign_public, CP_KEY_SIZE);
    sodium_bin2hex (kx_hex, sizeof kx_hex, key->kx_public, CP_KEY_SIZE);
    return json_pack ("{s:s%, s:s, s:s, s:I}", "id", key->id, strnlen (key->id, CP_KEY_ID_MAX),
                      "sign_public", sign_hex, "kx_public", kx_hex,
                      "expires", (json_int_t) key->expires);
}

//  The enrolment as compact JSON text (malloc'd), or NULL.
static char *
s_enrolment_text (const cp_enrolment_t *enrolment)
{
    char root_hex [2 * CP_KEY_SIZE + 1];
    sodium_bin2hex (root_hex, sizeof root_hex, enrolment->root, CP_KEY_SIZE);
    json_t *transport = json_array ();
    json_t *data = json_array ();
    //  A key that does not encode (an id that is not UTF-8) leaves its
    //  array short, and the count check below refuses the enrolment.
    for (size_t index = 0; index < enrolment->central_transport_count; index++)
        json_array_append_new (transport, s_transport_json (&enrolment->central_transport [index]));
    for (size_t index = 0; index < enrolment->central_data_count; index++)
        json_array_append_new (data, s_party_json (&enrolment->central_data [index]));
    if (json_array_size (transport) != enrolment->central_transport_count
    ||  json_array_size (data) != enrolment->central_data_count) {
        json_decref (transport);
        json_decref (data);
        return NULL;
    }
    //  json_pack steals the arrays ("o"), even when it fails.
    json_t *inner = json_pack (
        "{s:I, s:I, s:s%, s:s%, s:s, s:{s:o, s:o}}",
        "serial", (json_int_t) enrolment->serial, "created", (json_int_t) enrolment->created,
        "municipality", enrolment->municipality, strnlen (enrolment->municipality, CP_ID_MAX),
        "endpoint", enrolment->endpoint,
        strnlen (enrolment->endpoint, CP_ENROLMENT_ENDPOINT_MAX),
        "root", root_hex, "central", "transport", transport, "data", data);
    if (inner && enrolment->municipality [0])
        json_object_set_new (inner, "node",
                             json_pack ("{s:o, s:o}",
                                        "transport", s_transport_json (&enrolment->node_transport),
                                        "key", s_party_json (&enrolment->node_key)));
    char *text = inner? json_dumps (inner, JSON_COMPACT | JSON_ENSURE_ASCII): NULL;
    json_decref (inner);
    return text;
}

//  Frees what json_dumps returned, with jansson's own free: in a process
//  that guards jansson's memory (cp_enrolment_guard_json) it is not free.
static void
s_json_free (void *text)
{
    json_malloc_t malloc_function;
    json_free_t free_function;
    json_get_alloc_funcs (&malloc_function, &free_function);
    if (text)
        free_function (text);
}

char *
cp_enrolment_encode (const cp_enrolment_t *enrolment, const uint8_t *root_secret,
                     const uint8_t *secrets)
{
    if (!enrolment || !root_secret
    ||  enrolment->central_transport_count > CP_ENROLMENT_KEYS_MAX
    ||  enrolment->central_data_count > CP_ENROLMENT_KEYS_MAX
    ||  enrolment->serial > (uint64_t) INT64_MAX
    ||  (enrolment->municipality [0] != 0) != (secrets != NULL))
        return NULL;
    uint8_t root_public [CP_KEY_SIZE];
    crypto_sign_ed25519_sk_to_pk (root_public, root_secret);
    if (sodium_memcmp (root_public, enrolment->root, CP_KEY_SIZE) != 0)
        return NULL;

    char *text = NULL;
    char *quoted = NULL;
    json_t *string = NULL;
    char *inner = s_enrolment_text (enrolment);
    if (!inner)
        goto done;
    uint8_t signature [CP_SIGNATURE_SIZE];
    if (crypto_sign_detached (signature, NULL, (const unsigned char *) inner, strlen (inner),
                              root_secret) != 0)
        goto done;
    char signature_hex [S_SIGNATURE_HEX + 1];
    sodium_bin2hex (signature_hex, sizeof signature_hex, signature, sizeof signature);
    //  The signed text as a JSON string literal, quotes included.
    string = json_string (inner);
    quoted = string? json_dumps (string, JSON_ENCODE_ANY | JSON_ENSURE_ASCII): NULL;
    if (!quoted)
        goto done;

    static const char head [] = "{\n  \"cpsync\": \"" S_FORMAT "\",\n  \"enrolment\": ";
    static const char middle [] = ",\n  \"signature\": \"";
    static const char before_secrets [] = "\",\n  \"secrets\": \"";
    static const char tail [] = "\"\n}\n";
    size_t size = strlen (head) + strlen (quoted) + strlen (middle) + S_SIGNATURE_HEX
                + (secrets? strlen (before_secrets) + S_SECRETS_HEX: 0) + strlen (tail) + 1;
    if (size > CP_ENROLMENT_FILE_MAX + 1 || !(text = malloc (size)))
        goto done;
    char *cursor = text;
    cursor += sprintf (cursor, "%s%s%s%s", head, quoted, middle, signature_hex);
    if (secrets) {
        cursor = stpcpy (cursor, before_secrets);
        sodium_bin2hex (cursor, S_SECRETS_HEX + 1, secrets, CP_SECRETS_SIZE);
        cursor += S_SECRETS_HEX;
    }
    cursor = stpcpy (cursor, tail);
    assert ((size_t) (cursor - text) + 1 == size);

    //  Never hand out a file that decode would refuse (a bad id, endpoint,
    //  municipality, or secrets that are not the node's).
    cp_enrolment_t check;
    bool has_secrets;
    if (cp_enrolment_decode (text, size - 1, enrolment->root, &check, NULL, &has_secrets,
                             NULL, 0) != 0) {
        sodium_memzero (text, size);
        free (text);
        text = NULL;
    }

done:
    json_decref (string);
    s_json_free (quoted);
    s_json_free (inner);
    return text;
}

//  Blocks handed to jansson carry their size in front, so that the free
//  can wipe them; 16 bytes keep the block's alignment.
#define S_GUARD_HEADER 16

static void *
s_guarded_malloc (size_t size)
{
    uint8_t *block = malloc (size + S_GUARD_HEADER);
    if (!block)
        return NULL;
    memcpy (block, &size, sizeof size);
    return block + S_GUARD_HEADER;
}

static void
s_guarded_free (void *pointer)
{
    if (!pointer)
        return;
    uint8_t *block = (uint8_t *) pointer - S_GUARD_HEADER;
    size_t size;
    memcpy (&size, block, sizeof size);
    sodium_memzero (block, size + S_GUARD_HEADER);
    free (block);
}

void
cp_enrolment_guard_json (void)
{
    json_set_alloc_funcs (s_guarded_malloc, s_guarded_free);
}
