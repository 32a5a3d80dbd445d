/*  cp_downlink: a downlink entry, packed and signed, checked and unpacked.

    Both layers are msgpack arrays of fixed length, decoded the way
    cp_wire decodes a body: cp_codec_prescan bounds every count and length
    before msgpack-c allocates anything, the unpacker runs on the bounded
    bytes, and then each element is taken with its exact type.  msgpack-c's
    objects point into the bytes they were unpacked from, so the signed
    part and the body are never copied: the decoded entry's body points
    into the caller's buffer.

    Encoding never hands out an entry that decoding would refuse: it checks
    the fields first, and the signature is made over exactly the bytes
    that travel.                                                            */

#include "cp_downlink.h"
#include "cp_codec.h"
#include "cp_error.h"
#include "cp_event.h"

#include <assert.h>
#include <inttypes.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DIGEST_SIZE 64                //  what the root signs: a BLAKE2b-512 digest
#define S_ROOT_PREFIX 'r'               //  the root key's id letter
#define S_OUTER_FIELDS 3                //  signer, signature, signed
#define S_SIGNED_FIELDS 7               //  version .. body

//  The address on the wire: what to and the code after it.
#define S_TO_ALL 0
#define S_TO_COUNTY 1
#define S_TO_MUNICIPALITY 2

static const uint8_t s_personal [crypto_generichash_blake2b_PERSONALBYTES] = "cpsync down v1";

static const char *const s_kind_names [] = {
    NULL, "catalogue", "directive", "figures", "keys"
};
#define S_KIND_LAST CP_DOWNLINK_KEYS

const char *
cp_downlink_kind_name (int kind)
{
    return kind >= 1 && kind <= S_KIND_LAST? s_kind_names [kind]: NULL;
}

//  The digest the root signs: domain-separated by its personalisation.
static void
s_digest (const uint8_t *signed_part, size_t size, uint8_t *digest)
{
    crypto_generichash_blake2b_salt_personal (digest, S_DIGEST_SIZE, signed_part, size,
                                              NULL, 0, NULL, s_personal);
}

//  =====================================================================
//  Addresses

bool
cp_downlink_addressed_to (const cp_downlink_t *entry, int municipality)
{
    assert (entry);
    if (entry->address.kind == CP_SCOPE_NATIONAL)
        return true;
    if (municipality < 0 || municipality >= cp_municipality_count ())
        return false;
    return cp_scope_contains (&entry->address, municipality);
}

void
cp_downlink_address_format (const cp_scope_t *address, char *buf)
{
    switch (address->kind) {
        case CP_SCOPE_NATIONAL:
            snprintf (buf, CP_SCOPE_MAX, "all");
            break;
        case CP_SCOPE_COUNTY:
            snprintf (buf, CP_SCOPE_MAX, "county:%s", cp_county_code (address->index));
            break;
        case CP_SCOPE_MUNICIPALITY:
            snprintf (buf, CP_SCOPE_MAX, "%s", cp_municipality_code (address->index));
            break;
    }
}

int
cp_downlink_address_parse (const char *text, cp_scope_t *address)
{
    static const char county [] = "county:";
    memset (address, 0, sizeof *address);
    if (strcmp (text, "all") == 0)
        return 0;
    if (strncmp (text, county, sizeof county - 1) == 0) {
        address->kind = CP_SCOPE_COUNTY;
        address->index = cp_county_index (text + sizeof county - 1);
    }
    else {
        address->kind = CP_SCOPE_MUNICIPALITY;
        address->index = cp_municipality_index (text);
    }
    if (address->index < 0) {
        memset (address, 0, sizeof *address);
        return CP_EBADID;
    }
    return 0;
}

//  True when address is one of the three forms with an index in its list.
static bool
s_address_valid (const cp_scope_t *address)
{
    switch (address->kind) {
        case CP_SCOPE_NATIONAL:
            return address->index == 0;
        case CP_SCOPE_COUNTY:
            return address->index >= 0 && address->index < cp_county_count ();
        case CP_SCOPE_MUNICIPALITY:
            return address->index >= 0 && address->index < cp_municipality_count ();
    }
    return false;
}

//  =====================================================================
//  Encoding

//  Packs the signed part of entry (checked by the caller) into buffer.
static int
s_pack_signed (const cp_downlink_t *entry, msgpack_sbuffer *buffer)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    const char *code = "";
    int to = S_TO_ALL;
    if (entry->address.kind == CP_SCOPE_COUNTY) {
        to = S_TO_COUNTY;
        code = cp_county_code (entry->address.index);
    }
    else
    if (entry->address.kind == CP_SCOPE_MUNICIPALITY) {
        to = S_TO_MUNICIPALITY;
        code = cp_municipality_code (entry->address.index);
    }
    int rc = msgpack_pack_array (&packer, S_SIGNED_FIELDS);
    rc |= msgpack_pack_uint8 (&packer, CP_DOWNLINK_VERSION);
    rc |= msgpack_pack_uint64 (&packer, entry->seq);
    rc |= msgpack_pack_uint8 (&packer, (uint8_t) entry->kind);
    rc |= msgpack_pack_uint8 (&packer, (uint8_t) to);
    rc |= msgpack_pack_str (&packer, strlen (code));
    rc |= msgpack_pack_str_body (&packer, code, strlen (code));
    rc |= msgpack_pack_uint64 (&packer, (uint64_t) entry->issued);
    rc |= msgpack_pack_bin (&packer, entry->body_size);
    if (entry->body_size)           //  an empty body may have no pointer
        rc |= msgpack_pack_bin_body (&packer, entry->body, entry->body_size);
    return rc? -1: 0;
}

uint8_t *
cp_downlink_encode (const cp_downlink_t *entry, const uint8_t *root_secret, size_t *size)
{
    assert (entry && root_secret && size);
    *size = 0;
    if (entry->seq == 0 || !cp_downlink_kind_name (entry->kind) || entry->issued < 0
    ||  !s_address_valid (&entry->address) || entry->body_size > CP_DOWNLINK_BODY_MAX
    ||  (entry->body_size && !entry->body))
        return NULL;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    uint8_t *encoded = NULL;
    if (s_pack_signed (entry, &buffer) == 0)
        encoded = cp_downlink_sign ((const uint8_t *) buffer.data, buffer.size, root_secret,
                                    size);
    msgpack_sbuffer_destroy (&buffer);
    return encoded;
}

uint8_t *
cp_downlink_sign (const uint8_t *signed_part, size_t signed_size, const uint8_t *root_secret,
                  size_t *size)
{
    assert ((signed_part || signed_size == 0) && root_secret && size);
    *size = 0;
    if (signed_size > CP_DOWNLINK_ENTRY_MAX)
        return NULL;
    uint8_t root_public [CP_KEY_SIZE], digest [S_DIGEST_SIZE], signature [CP_SIGNATURE_SIZE];
    char signer [CP_KEY_ID_MAX + 1];
    crypto_sign_ed25519_sk_to_pk (root_public, root_secret);
    cp_enrolment_key_id (S_ROOT_PREFIX, root_public, signer);
    s_digest (signed_part, signed_size, digest);
    if (crypto_sign_detached (signature, NULL, digest, sizeof digest, root_secret) != 0)
        return NULL;

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    int rc = msgpack_pack_array (&packer, S_OUTER_FIELDS);
    rc |= msgpack_pack_str (&packer, strlen (signer));
    rc |= msgpack_pack_str_body (&packer, signer, strlen (signer));
    rc |= msgpack_pack_bin (&packer, sizeof signature);
    rc |= msgpack_pack_bin_body (&packer, signature, sizeof signature);
    rc |= msgpack_pack_bin (&packer, signed_size);
    if (signed_size)
        rc |= msgpack_pack_bin_body (&packer, signed_part, signed_size);
    if (rc) {
        msgpack_sbuffer_destroy (&buffer);
        return NULL;
    }
    *size = buffer.size;
    return (uint8_t *) msgpack_sbuffer_release (&buffer);
}

//  =====================================================================
//  Decoding

typedef struct {
    msgpack_unpacked unpacked;
    msgpack_object *items;      //  the array's elements
    uint32_t next;              //  the next one to take
    const char *where;          //  "entry" or "signed entry", for why
    char *why;
    size_t why_size;
} s_reader_t;

//  Prescans and unpacks data, which must be one array of fields elements
//  with no str or bin over str_max bytes.
static int
s_open (s_reader_t *reader, const uint8_t *data, size_t size, uint32_t fields,
        size_t str_max)
{
    msgpack_unpacked_init (&reader->unpacked);
    reader->next = 0;
    //  Depth 2, so that a container where a field should be is a type error.
    int rc = cp_codec_prescan (data, size, 2, str_max);
    if (rc)
        return cp_error_why (rc, reader->why, reader->why_size, "%s: %s", reader->where,
                             rc == CP_ETOOBIG? "a field over its size limit"
                                             : "not one msgpack object");
    size_t offset = 0;
    if (msgpack_unpack_next (&reader->unpacked, (const char *) data, size, &offset)
            != MSGPACK_UNPACK_SUCCESS || offset != size)
        return cp_error_why (CP_EMALFORMED, reader->why, reader->why_size,
                             "%s: not one msgpack object", reader->where);
    msgpack_object *root = &reader->unpacked.data;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != fields)
        return cp_error_why (CP_ETYPE, reader->why, reader->why_size,
                             "%s: not an array of %" PRIu32 " fields", reader->where, fields);
    reader->items = root->via.array.ptr;
    return 0;
}

//  The next element, which must be of type; NULL with CP_ETYPE in *rc.
static msgpack_object *
s_take (s_reader_t *reader, msgpack_object_type type, const char *name, int *rc)
{
    msgpack_object *item = &reader->items [reader->next++];
    if (item->type == type)
        return item;
    *rc = cp_error_why (CP_ETYPE, reader->why, reader->why_size, "%s: \"%s\" is not %s",
                        reader->where, name, type == MSGPACK_OBJECT_STR? "a string"
                                           : type == MSGPACK_OBJECT_BIN? "binary"
                                           : "an unsigned integer");
    return NULL;
}

static int
s_take_u64 (s_reader_t *reader, const char *name, uint64_t *value)
{
    int rc = 0;
    msgpack_object *item = s_take (reader, MSGPACK_OBJECT_POSITIVE_INTEGER, name, &rc);
    if (item)
        *value = item->via.u64;
    return rc;
}

//  A string of 1..max characters, none a control character, into buf.
static int
s_take_str (s_reader_t *reader, const char *name, bool may_be_empty, char *buf, size_t max)
{
    int rc = 0;
    msgpack_object *item = s_take (reader, MSGPACK_OBJECT_STR, name, &rc);
    if (!item)
        return rc;
    uint32_t length = item->via.str.size;
    if (length > max)
        return cp_error_why (CP_ETOOBIG, reader->why, reader->why_size,
                             "%s: \"%s\" is over %zu characters", reader->where, name, max);
    bool printable = length > 0 || may_be_empty;
    for (uint32_t index = 0; index < length && printable; index++)
        printable = (unsigned char) item->via.str.ptr [index] >= 0x20;
    if (!printable)
        return cp_error_why (CP_EMALFORMED, reader->why, reader->why_size,
                             "%s: \"%s\" is empty or holds control characters",
                             reader->where, name);
    if (length)                 //  msgpack-c gives an empty string no pointer
        memcpy (buf, item->via.str.ptr, length);
    buf [length] = 0;
    return 0;
}

//  A bin of at most max bytes, borrowed.
static int
s_take_bin (s_reader_t *reader, const char *name, size_t max, const uint8_t **data,
            size_t *size)
{
    int rc = 0;
    msgpack_object *item = s_take (reader, MSGPACK_OBJECT_BIN, name, &rc);
    if (!item)
        return rc;
    if (item->via.bin.size > max)
        return cp_error_why (CP_ETOOBIG, reader->why, reader->why_size,
                             "%s: \"%s\" is over %zu bytes", reader->where, name, max);
    *data = (const uint8_t *) item->via.bin.ptr;
    *size = item->via.bin.size;
    return 0;
}

//  The outer array: the signer must be root's, the signature root's over
//  the signed part, which it gives back (borrowed from data).
static int
s_verify (const uint8_t *data, size_t size, const uint8_t *root, cp_downlink_t *entry,
          const uint8_t **signed_part, size_t *signed_size, char *why, size_t why_size)
{
    s_reader_t reader = {.where = "entry", .why = why, .why_size = why_size};
    const uint8_t *signature = NULL;
    size_t signature_size = 0;
    int rc = s_open (&reader, data, size, S_OUTER_FIELDS, CP_DOWNLINK_ENTRY_MAX);
    if (!rc) rc = s_take_str (&reader, "signer", false, entry->signer, CP_KEY_ID_MAX);
    if (!rc && !cp_event_id_valid (entry->signer, strlen (entry->signer)))
        rc = cp_error_why (CP_EBADID, why, why_size, "entry: \"signer\" is not a key id");
    if (!rc) rc = s_take_bin (&reader, "signature", CP_DOWNLINK_ENTRY_MAX, &signature,
                              &signature_size);
    if (!rc && signature_size != CP_SIGNATURE_SIZE)
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "entry: \"signature\" is not %d bytes",
                           CP_SIGNATURE_SIZE);
    if (!rc) rc = s_take_bin (&reader, "signed", CP_DOWNLINK_ENTRY_MAX, signed_part,
                              signed_size);
    if (!rc) {
        char pinned [CP_KEY_ID_MAX + 1];
        cp_enrolment_key_id (S_ROOT_PREFIX, root, pinned);
        if (strcmp (entry->signer, pinned))
            rc = cp_error_why (CP_EUNPINNED, why, why_size, "entry: signed by %s, not by the "
                               "pinned root %s", entry->signer, pinned);
    }
    if (!rc) {
        uint8_t digest [S_DIGEST_SIZE];
        s_digest (*signed_part, *signed_size, digest);
        if (crypto_sign_verify_detached (signature, digest, sizeof digest, root) != 0)
            rc = cp_error_why (CP_EAUTH, why, why_size,
                               "entry: the signature is not the pinned root's");
    }
    msgpack_unpacked_destroy (&reader.unpacked);
    return rc;
}

//  The address: what to (0..2) and a code of that list ("" for all).
static int
s_take_address (s_reader_t *reader, cp_scope_t *address)
{
    uint64_t to = 0;
    char code [CP_ID_MAX + 1];
    int rc = s_take_u64 (reader, "to", &to);
    if (!rc && to > S_TO_MUNICIPALITY)
        rc = cp_error_why (CP_EMALFORMED, reader->why, reader->why_size,
                           "signed entry: \"to\" is %" PRIu64 ", not 0, 1 or 2", to);
    if (!rc) rc = s_take_str (reader, "code", to == S_TO_ALL, code, CP_ID_MAX);
    if (rc)
        return rc;
    if (to == S_TO_ALL) {
        address->kind = CP_SCOPE_NATIONAL;
        address->index = 0;
        if (*code)
            return cp_error_why (CP_EMALFORMED, reader->why, reader->why_size,
                                 "signed entry: addressed to all, with a code");
        return 0;
    }
    bool county = to == S_TO_COUNTY;
    address->kind = county? CP_SCOPE_COUNTY: CP_SCOPE_MUNICIPALITY;
    address->index = county? cp_county_index (code): cp_municipality_index (code);
    if (address->index < 0)
        return cp_error_why (CP_EBADID, reader->why, reader->why_size,
                             "signed entry: \"code\" is no %s's",
                             county? "county": "municipality");
    return 0;
}

//  The signed part, verified already.
static int
s_signed (const uint8_t *data, size_t size, cp_downlink_t *entry, char *why, size_t why_size)
{
    s_reader_t reader = {.where = "signed entry", .why = why, .why_size = why_size};
    uint64_t version = 0, kind = 0, issued = 0;
    int rc = s_open (&reader, data, size, S_SIGNED_FIELDS, CP_DOWNLINK_BODY_MAX);
    if (!rc) rc = s_take_u64 (&reader, "version", &version);
    if (!rc && version != CP_DOWNLINK_VERSION)
        rc = cp_error_why (CP_EVERSION, why, why_size, "signed entry: version %" PRIu64
                           ", this build reads %d", version, CP_DOWNLINK_VERSION);
    if (!rc) rc = s_take_u64 (&reader, "seq", &entry->seq);
    if (!rc && entry->seq == 0)
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "signed entry: \"seq\" is 0");
    if (!rc) rc = s_take_u64 (&reader, "kind", &kind);
    if (!rc && !cp_downlink_kind_name ((int) (kind > INT32_MAX? 0: kind)))
        rc = cp_error_why (CP_EBADKIND, why, why_size, "signed entry: kind %" PRIu64, kind);
    if (!rc) rc = s_take_address (&reader, &entry->address);
    if (!rc) rc = s_take_u64 (&reader, "issued", &issued);
    if (!rc && issued > INT64_MAX)
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "signed entry: \"issued\" is past "
                           "the range of a time");
    if (!rc) rc = s_take_bin (&reader, "body", CP_DOWNLINK_BODY_MAX, &entry->body,
                              &entry->body_size);
    entry->kind = (int) kind;
    entry->issued = (int64_t) issued;
    msgpack_unpacked_destroy (&reader.unpacked);
    return rc;
}

int
cp_downlink_decode (const uint8_t *data, size_t size, const uint8_t *root,
                    cp_downlink_t *entry, char *why, size_t why_size)
{
    assert ((data || size == 0) && root && entry);
    memset (entry, 0, sizeof *entry);
    int rc = 0;
    if (size > CP_DOWNLINK_ENTRY_MAX)
        rc = cp_error_why (CP_ETOOBIG, why, why_size, "entry: %zu bytes, over %d", size,
                           CP_DOWNLINK_ENTRY_MAX);
    const uint8_t *signed_part = NULL;
    size_t signed_size = 0;
    if (!rc) rc = s_verify (data, size, root, entry, &signed_part, &signed_size, why,
                            why_size);
    if (!rc) rc = s_signed (signed_part, signed_size, entry, why, why_size);
    if (rc)
        memset (entry, 0, sizeof *entry);
    else    //  msgpack-c points into what it unpacked, never into a copy
        assert (entry->body_size == 0
            || (entry->body >= data && entry->body + entry->body_size <= data + size));
    return rc;
}
