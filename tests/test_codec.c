/*  test_codec: the msgpack wire codec of events and batches.

    Known answers first: the expected bytes below were worked out by hand
    from the msgpack specification (the comment beside each byte says which
    rule gives it), not by running the encoder, so a change of encoding is
    caught here before a peer sees it.  Then round trips of every type,
    truncation at every length, a trailing byte, every single-bit flip, and
    hostile inputs, each asserting the exact error code.

    A plain program: a table of test_* functions, each counting its checks;
    it prints one line per test and exits non-zero when any check failed.     */

#include "cp_codec.h"
#include "cp_error.h"
#include "cp_event.h"

#include <msgpack.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int passed;                 //  checks that held
    int failed;                 //  checks that did not
} s_tally_t;

static bool
s_check (s_tally_t *tally, bool ok, const char *what, const char *file, int line)
{
    if (ok)
        tally->passed++;
    else {
        tally->failed++;
        fprintf (stderr, "    FAIL %s:%d: %s\n", file, line, what);
    }
    return ok;
}

static bool
s_check_rc (s_tally_t *tally, int got, int want, const char *what, const char *file,
            int line)
{
    if (got == want) {
        tally->passed++;
        return true;
    }
    tally->failed++;
    fprintf (stderr, "    FAIL %s:%d: %s gave %d (%s), expected %d (%s)\n", file, line,
             what, got, cp_strerror (got), want, cp_strerror (want));
    return false;
}

#define CHECK(cond) s_check (tally, (cond), #cond, __FILE__, __LINE__)
#define CHECK_RC(expr, want) s_check_rc (tally, (expr), (want), #expr, __FILE__, __LINE__)

//  Hex text ("92 cf 00 ...", spaces ignored) to bytes; returns the count.
static size_t
s_hex (const char *hex, uint8_t *out, size_t max)
{
    size_t size = 0;
    while (*hex) {
        if (*hex == ' ' || *hex == '\n') {
            hex++;
            continue;
        }
        unsigned byte;
        if (size == max || sscanf (hex, "%2x", &byte) != 1) {
            fprintf (stderr, "test_codec: bad hex in a test vector\n");
            exit (2);
        }
        out [size++] = (uint8_t) byte;
        hex += 2;
    }
    return size;
}

static cp_event_t
s_event (int type, const char *id, const char *case_id, int32_t date, int age,
         const char *code0, const char *code1, const char *code2)
{
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = (uint8_t) type;
    event.age = (uint8_t) age;
    event.date = date;
    snprintf (event.id, sizeof event.id, "%s", id);
    snprintf (event.case_id, sizeof event.case_id, "%s", case_id);
    const char *codes [CP_EVENT_CODES] = {code0, code1, code2};
    for (int slot = 0; slot < CP_EVENT_CODES; slot++)
        if (codes [slot])
            snprintf (event.codes [slot], sizeof event.codes [slot], "%s", codes [slot]);
    return event;
}

static bool
s_event_equal (const cp_event_t *a, const cp_event_t *b)
{
    if (a->type != b->type || a->age != b->age || a->date != b->date
    ||  strcmp (a->id, b->id) != 0 || strcmp (a->case_id, b->case_id) != 0)
        return false;
    for (int slot = 0; slot < CP_EVENT_CODES; slot++)
        if (strcmp (a->codes [slot], b->codes [slot]) != 0)
            return false;
    return a->entry == b->entry && a->verdict == b->verdict && a->workers == b->workers
        && a->children == b->children && strcmp (a->note, b->note) == 0;
}

//  The checks a decoded event must pass, whatever bytes it came from.
static bool
s_event_valid (const cp_event_t *event)
{
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (!kind
    ||  !cp_event_id_valid (event->id, strnlen (event->id, sizeof event->id))
    ||  !cp_event_id_valid (event->case_id,
                            strnlen (event->case_id, sizeof event->case_id))
    ||  event->date < 10957 || event->age > CP_AGE_MAX)
        return false;
    for (int slot = 0; slot < CP_EVENT_CODES; slot++) {
        size_t len = strnlen (event->codes [slot], sizeof event->codes [slot]);
        if (slot < kind->code_count? (len < 1 || len > CP_CODE_MAX): len != 0)
            return false;
    }
    return true;
}

static bool
s_is_decode_error (int rc)
{
    return rc == CP_EMALFORMED || rc == CP_ETOOBIG || rc == CP_ETYPE || rc == CP_EBADTYPE
        || rc == CP_EBADID || rc == CP_EDATERANGE || rc == CP_EBADAGE
        || rc == CP_EBADCODE;
}

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

//  One event of each type, as in docs/events.md (2022-03-14 is day 19065).
static void
s_every_type (cp_event_t *events)
{
    events [0] = s_event (CP_EVENT_CASE_OPENED, "e-000001", "c-17", 19065, 14,
                          "F", "roma", "police");
    events [1] = s_event (CP_EVENT_RISK_ASSESSED, "e-000002", "c-17", 19066, 0,
                          "medium", NULL, NULL);
    events [2] = s_event (CP_EVENT_PROBLEM_SET, "e-000003", "c-17", 19066, 0,
                          "psychological_violence", NULL, NULL);
    events [3] = s_event (CP_EVENT_HOME_VISIT, "e-000004", "c-17", 19084, 0,
                          NULL, NULL, NULL);
    events [4] = s_event (CP_EVENT_MEASURE_TAKEN, "e-000005", "c-17", 19102, 0,
                          "emergency_removal", NULL, NULL);
    events [5] = s_event (CP_EVENT_MEASURE_CONFIRMED, "e-000006", "c-17", 19115, 0,
                          "emergency_removal", NULL, NULL);
    events [6] = s_event (CP_EVENT_SCHOOL_IDENTIFIED, "e-000007", "c-17", 19236, 0,
                          "dropout_risk", NULL, NULL);
    events [7] = s_event (CP_EVENT_CASE_CLOSED, "e-000008", "c-17", 19346, 0,
                          "risk_reduced", NULL, NULL);
}


//  --------------------------------------------------------------------------
//  Known answers

//  case_opened e-000001, c-17, 2022-03-14, age 14, F, roma, police.
//  2022-03-14: 1970..2021 are 52 years with 13 leap days (1972..2020), so
//  2022-01-01 is 52 * 365 + 13 = 18993; + 31 (Jan) + 28 (Feb) + 13 = 19065
//  = 0x4a79, which needs a uint 16.
static const char *s_kat_case_opened =
    "98"                        //  fixarray, 8 elements
    "01"                        //  positive fixint 1: case_opened
    "a8 65 2d 30 30 30 30 30 31"    //  fixstr 8: "e-000001"
    "a4 63 2d 31 37"            //  fixstr 4: "c-17"
    "cd 4a 79"                  //  uint 16: 19065
    "0e"                        //  positive fixint 14: age
    "a1 46"                     //  fixstr 1: "F"
    "a4 72 6f 6d 61"            //  fixstr 4: "roma"
    "a6 70 6f 6c 69 63 65";     //  fixstr 6: "police"

//  home_visit e-000004, c-17, 2022-04-02: 18993 + 31 + 28 + 31 + 1 = 19084
//  = 0x4a8c.
static const char *s_kat_home_visit =
    "94"                        //  fixarray, 4 elements
    "04"                        //  positive fixint 4: home_visit
    "a8 65 2d 30 30 30 30 30 34"    //  fixstr 8: "e-000004"
    "a4 63 2d 31 37"            //  fixstr 4: "c-17"
    "cd 4a 8c";                 //  uint 16: 19084

//  risk_assessed e-000002, c-17, 2022-03-15 (19066 = 0x4a7a), medium.
static const char *s_kat_risk_assessed =
    "95"                        //  fixarray, 5 elements
    "02"                        //  positive fixint 2: risk_assessed
    "a8 65 2d 30 30 30 30 30 32"    //  fixstr 8: "e-000002"
    "a4 63 2d 31 37"            //  fixstr 4: "c-17"
    "cd 4a 7a"                  //  uint 16: 19066
    "a6 6d 65 64 69 75 6d";     //  fixstr 6: "medium"

//  The batch [2^32, [risk_assessed, home_visit]]: 2^32 does not fit a
//  uint 32, so it takes a uint 64.
static const char *s_kat_batch =
    "92"                        //  fixarray, 2 elements
    "cf 00 00 00 01 00 00 00 00"    //  uint 64: 4294967296
    "92"                        //  fixarray, 2 elements: the events
    "95 02 a8 65 2d 30 30 30 30 30 32 a4 63 2d 31 37 cd 4a 7a a6 6d 65 64 69 75 6d"
    "94 04 a8 65 2d 30 30 30 30 30 34 a4 63 2d 31 37 cd 4a 8c";

//  Encodes event, compares with the vector, decodes the vector back.
static void
s_kat_event (s_tally_t *tally, const cp_event_t *event, const char *hex)
{
    uint8_t want [256];
    size_t want_size = s_hex (hex, want, sizeof want);
    size_t size;
    uint8_t *data = cp_codec_event_encode (event, &size);
    if (CHECK (data != NULL)) {
        CHECK (size == want_size);
        CHECK (size == want_size && memcmp (data, want, size) == 0);
        free (data);
    }
    cp_event_t decoded;
    CHECK_RC (cp_codec_event_decode (want, want_size, &decoded), 0);
    CHECK (s_event_equal (&decoded, event));
}

static void
test_kat_case_opened (s_tally_t *tally)
{
    cp_event_t event = s_event (CP_EVENT_CASE_OPENED, "e-000001", "c-17", 19065, 14,
                                "F", "roma", "police");
    s_kat_event (tally, &event, s_kat_case_opened);
}

static void
test_kat_home_visit (s_tally_t *tally)
{
    cp_event_t event = s_event (CP_EVENT_HOME_VISIT, "e-000004", "c-17", 19084, 0,
                                NULL, NULL, NULL);
    s_kat_event (tally, &event, s_kat_home_visit);
}

static void
test_kat_risk_assessed (s_tally_t *tally)
{
    cp_event_t event = s_event (CP_EVENT_RISK_ASSESSED, "e-000002", "c-17", 19066, 0,
                                "medium", NULL, NULL);
    s_kat_event (tally, &event, s_kat_risk_assessed);
}

static void
test_kat_batch (s_tally_t *tally)
{
    cp_event_t events [2] = {
        s_event (CP_EVENT_RISK_ASSESSED, "e-000002", "c-17", 19066, 0,
                 "medium", NULL, NULL),
        s_event (CP_EVENT_HOME_VISIT, "e-000004", "c-17", 19084, 0, NULL, NULL, NULL)
    };
    uint8_t want [256];
    size_t want_size = s_hex (s_kat_batch, want, sizeof want);
    CHECK (want_size == 56);
    size_t size;
    uint8_t *data = cp_codec_batch_encode (UINT64_C (4294967296), events, 2, &size);
    if (CHECK (data != NULL)) {
        CHECK (size == want_size && memcmp (data, want, size) == 0);
        free (data);
    }
    uint64_t first_seq;
    cp_event_t *decoded;
    size_t count;
    int rc = cp_codec_batch_decode (want, want_size, &first_seq, &decoded, &count);
    if (CHECK_RC (rc, 0)) {
        CHECK (first_seq == UINT64_C (4294967296));
        CHECK (count == 2);
        CHECK (count == 2 && s_event_equal (&decoded [0], &events [0]));
        CHECK (count == 2 && s_event_equal (&decoded [1], &events [1]));
        free (decoded);
    }
}


//  --------------------------------------------------------------------------
//  Round trips

static void
test_round_trip_events (s_tally_t *tally)
{
    cp_event_t events [CP_EVENT_TYPE_MAX];
    s_every_type (events);
    for (int index = 0; index < CP_EVENT_TYPE_MAX; index++) {
        size_t size;
        uint8_t *data = cp_codec_event_encode (&events [index], &size);
        if (!CHECK (data != NULL))
            continue;
        CHECK (size < CP_CODEC_EVENT_MAX);
        cp_event_t decoded;
        CHECK_RC (cp_codec_event_decode (data, size, &decoded), 0);
        CHECK (s_event_equal (&decoded, &events [index]));
        CHECK (s_event_valid (&decoded));
        free (data);
    }
}

static void
test_round_trip_batch (s_tally_t *tally)
{
    cp_event_t events [CP_EVENT_TYPE_MAX];
    s_every_type (events);
    size_t size;
    uint8_t *data = cp_codec_batch_encode (1, events, CP_EVENT_TYPE_MAX, &size);
    if (!CHECK (data != NULL))
        return;
    uint64_t first_seq;
    cp_event_t *decoded;
    size_t count;
    if (CHECK_RC (cp_codec_batch_decode (data, size, &first_seq, &decoded, &count), 0)) {
        CHECK (first_seq == 1);
        CHECK (count == CP_EVENT_TYPE_MAX);
        for (size_t index = 0; index < count && index < CP_EVENT_TYPE_MAX; index++)
            CHECK (s_event_equal (&decoded [index], &events [index]));
        free (decoded);
    }
    free (data);
}

//  Longest fields everywhere, a full batch, and the edge values that pass.
static void
test_round_trip_limits (s_tally_t *tally)
{
    char id [CP_ID_MAX + 1];
    char code [CP_CODE_MAX + 1];
    memset (id, 'a', CP_ID_MAX);
    id [CP_ID_MAX] = 0;
    memset (code, 'z', CP_CODE_MAX);
    code [CP_CODE_MAX] = 0;
    cp_event_t big = s_event (CP_EVENT_CASE_OPENED, id, id, INT32_MAX, CP_AGE_MAX,
                              code, code, code);
    size_t size;
    uint8_t *data = cp_codec_event_encode (&big, &size);
    if (CHECK (data != NULL)) {
        cp_event_t decoded;
        CHECK_RC (cp_codec_event_decode (data, size, &decoded), 0);
        CHECK (s_event_equal (&decoded, &big));
        free (data);
    }
    //  2000-01-01 is the first day allowed: 30 years, 7 leap days
    cp_event_t first = s_event (CP_EVENT_HOME_VISIT, "a", "b", 10957, 0,
                                NULL, NULL, NULL);
    data = cp_codec_event_encode (&first, &size);
    if (CHECK (data != NULL)) {
        cp_event_t decoded;
        CHECK_RC (cp_codec_event_decode (data, size, &decoded), 0);
        free (data);
    }

    cp_event_t *events = calloc (CP_CODEC_BATCH_EVENTS_MAX + 1, sizeof (cp_event_t));
    if (!CHECK (events != NULL))
        return;
    for (int index = 0; index <= CP_CODEC_BATCH_EVENTS_MAX; index++)
        events [index] = big;
    data = cp_codec_batch_encode (UINT64_MAX - CP_CODEC_BATCH_EVENTS_MAX, events,
                                  CP_CODEC_BATCH_EVENTS_MAX, &size);
    if (CHECK (data != NULL)) {
        CHECK (size <= CP_CODEC_BATCH_MAX);
        uint64_t first_seq;
        cp_event_t *decoded;
        size_t count;
        int rc = cp_codec_batch_decode (data, size, &first_seq, &decoded, &count);
        if (CHECK_RC (rc, 0)) {
            CHECK (first_seq == UINT64_MAX - CP_CODEC_BATCH_EVENTS_MAX);
            CHECK (count == CP_CODEC_BATCH_EVENTS_MAX);
            CHECK (s_event_equal (&decoded [count - 1], &big));
            free (decoded);
        }
        free (data);
    }
    //  The encoder refuses what the decoder would refuse
    CHECK (!cp_codec_batch_encode (1, events, CP_CODEC_BATCH_EVENTS_MAX + 1, &size));
    CHECK (cp_codec_batch_encode (1, events, 0, &size) == NULL);
    CHECK (cp_codec_batch_encode (0, events, 1, &size) == NULL);
    CHECK (cp_codec_batch_encode (UINT64_MAX, events, 2, &size) == NULL);
    cp_event_t bad = big;
    bad.type = 9;
    CHECK (cp_codec_event_encode (&bad, &size) == NULL);
    free (events);
}

//  Values in larger encodings than needed are still the same values.
static void
test_non_canonical (s_tally_t *tally)
{
    uint8_t data [64];
    size_t size = s_hex ("94 cf 00 00 00 00 00 00 00 04"    //  type 4 as a uint 64
                         "d9 01 65 da 00 01 63"             //  str 8 "e", str 16 "c"
                         "d3 00 00 00 00 00 00 4a 8c",      //  int 64: 19084
                         data, sizeof data);
    cp_event_t event;
    if (CHECK_RC (cp_codec_event_decode (data, size, &event), 0)) {
        CHECK (event.type == CP_EVENT_HOME_VISIT);
        CHECK (strcmp (event.id, "e") == 0 && strcmp (event.case_id, "c") == 0);
        CHECK (event.date == 19084);
    }
    //  An array 16 for the batch
    size = s_hex ("dc 00 02 01 91 94 04 a1 65 a1 63 cd 4a 8c", data, sizeof data);
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    if (CHECK_RC (cp_codec_batch_decode (data, size, &first_seq, &events, &count), 0))
        free (events);
}


//  --------------------------------------------------------------------------
//  Damaged input

static void
test_truncation (s_tally_t *tally)
{
    cp_event_t events [CP_EVENT_TYPE_MAX];
    s_every_type (events);
    size_t size;
    uint8_t *data = cp_codec_batch_encode (1000, events, CP_EVENT_TYPE_MAX, &size);
    if (!CHECK (data != NULL))
        return;
    //  A copy of exactly len bytes, so that ASan sees any read past the end
    for (size_t len = 0; len < size; len++) {
        uint8_t *part = malloc (len? len: 1);
        memcpy (part, data, len);
        uint64_t first_seq = 7;
        cp_event_t *decoded = events;   //  must come back NULL
        size_t count = 7;
        CHECK_RC (cp_codec_batch_decode (part, len, &first_seq, &decoded, &count),
                  CP_EMALFORMED);
        CHECK (decoded == NULL && count == 0 && first_seq == 0);
        free (part);
    }
    free (data);

    data = cp_codec_event_encode (&events [0], &size);
    if (!CHECK (data != NULL))
        return;
    for (size_t len = 0; len < size; len++) {
        uint8_t *part = malloc (len? len: 1);
        memcpy (part, data, len);
        cp_event_t event;
        CHECK_RC (cp_codec_event_decode (part, len, &event), CP_EMALFORMED);
        free (part);
    }
    free (data);
}

static void
test_trailing_byte (s_tally_t *tally)
{
    uint8_t data [256];
    size_t size = s_hex (s_kat_batch, data, sizeof data);
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    data [size] = 0x00;
    CHECK_RC (cp_codec_batch_decode (data, size + 1, &first_seq, &events, &count),
              CP_EMALFORMED);
    data [size] = 0xc0;
    CHECK_RC (cp_codec_batch_decode (data, size + 1, &first_seq, &events, &count),
              CP_EMALFORMED);
    //  A second batch after the first is trailing bytes too
    memcpy (data + size, data, size);
    CHECK_RC (cp_codec_batch_decode (data, 2 * size, &first_seq, &events, &count),
              CP_EMALFORMED);

    size = s_hex (s_kat_home_visit, data, sizeof data);
    data [size] = 0x01;
    cp_event_t event;
    CHECK_RC (cp_codec_event_decode (data, size + 1, &event), CP_EMALFORMED);
    CHECK_RC (cp_codec_prescan (data, size + 1, CP_CODEC_DEPTH_MAX, 255), CP_EMALFORMED);
    CHECK_RC (cp_codec_prescan (data, size, CP_CODEC_DEPTH_MAX, 255), 0);
}

//  Decodes data as a batch: it must either fail with a decode error and
//  nothing allocated, or give events that pass validation and survive
//  encoding again.
static void
s_decode_any_batch (s_tally_t *tally, const uint8_t *data, size_t size)
{
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    int rc = cp_codec_batch_decode (data, size, &first_seq, &events, &count);
    if (rc) {
        CHECK (s_is_decode_error (rc));
        CHECK (events == NULL && count == 0);
        return;
    }
    CHECK (first_seq >= 1 && count >= 1 && count <= CP_CODEC_BATCH_EVENTS_MAX);
    for (size_t index = 0; index < count; index++)
        CHECK (s_event_valid (&events [index]));
    size_t again_size;
    uint8_t *again = cp_codec_batch_encode (first_seq, events, count, &again_size);
    if (CHECK (again != NULL)) {
        uint64_t again_seq;
        cp_event_t *again_events;
        size_t again_count;
        if (CHECK_RC (cp_codec_batch_decode (again, again_size, &again_seq, &again_events,
                                             &again_count), 0)) {
            CHECK (again_seq == first_seq && again_count == count);
            for (size_t index = 0; index < count && index < again_count; index++)
                CHECK (s_event_equal (&again_events [index], &events [index]));
            free (again_events);
        }
        free (again);
    }
    free (events);
}

static void
test_bit_flips (s_tally_t *tally)
{
    cp_event_t events [CP_EVENT_TYPE_MAX];
    s_every_type (events);
    size_t size;
    uint8_t *data = cp_codec_batch_encode (1, events, CP_EVENT_TYPE_MAX, &size);
    if (!CHECK (data != NULL))
        return;
    for (size_t bit = 0; bit < size * 8; bit++) {
        data [bit / 8] ^= (uint8_t) (1u << (bit % 8));
        s_decode_any_batch (tally, data, size);
        data [bit / 8] ^= (uint8_t) (1u << (bit % 8));
    }
    free (data);

    uint8_t kat [256];
    size = s_hex (s_kat_case_opened, kat, sizeof kat);
    for (size_t bit = 0; bit < size * 8; bit++) {
        kat [bit / 8] ^= (uint8_t) (1u << (bit % 8));
        cp_event_t event;
        int rc = cp_codec_event_decode (kat, size, &event);
        CHECK (rc == 0? s_event_valid (&event): s_is_decode_error (rc));
        kat [bit / 8] ^= (uint8_t) (1u << (bit % 8));
    }
}


//  --------------------------------------------------------------------------
//  Hostile input

//  Decodes hex as a batch and expects want.
static void
s_batch_hex (s_tally_t *tally, const char *hex, int want, int line)
{
    uint8_t data [512];
    size_t size = s_hex (hex, data, sizeof data);
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    int rc = cp_codec_batch_decode (data, size, &first_seq, &events, &count);
    s_check_rc (tally, rc, want, hex, __FILE__, line);
    if (rc == 0)
        free (events);
    else
        CHECK (events == NULL && count == 0);
}

//  Decodes hex as an event and expects want.
static void
s_event_hex (s_tally_t *tally, const char *hex, int want, int line)
{
    uint8_t data [512];
    size_t size = s_hex (hex, data, sizeof data);
    cp_event_t event;
    int rc = cp_codec_event_decode (data, size, &event);
    s_check_rc (tally, rc, want, hex, __FILE__, line);
}

#define BATCH_HEX(hex, want) s_batch_hex (tally, (hex), (want), __LINE__)
#define EVENT_HEX(hex, want) s_event_hex (tally, (hex), (want), __LINE__)

//  Counts that promise more than any buffer holds must be refused from the
//  header alone: msgpack-c would allocate 2^32 objects (96 GiB) first.
static void
test_huge_counts (s_tally_t *tally)
{
    double start = s_now ();
    //  array 32 of 2^32 - 1 elements, then 5 bytes of data
    BATCH_HEX ("dd ff ff ff ff 01 02 03 04 05", CP_ETOOBIG);
    EVENT_HEX ("dd ff ff ff ff 01 02 03 04 05", CP_EMALFORMED);
    BATCH_HEX ("df ff ff ff ff 01 02 03 04 05", CP_ETOOBIG);      //  map 32
    EVENT_HEX ("df ff ff ff ff 01 02 03 04 05", CP_EMALFORMED);
    //  A plausible batch whose events array claims too many
    BATCH_HEX ("92 01 dd ff ff ff ff 94 04 a1 65 a1 63 cd 4a 8c", CP_ETOOBIG);
    BATCH_HEX ("92 01 dc ff ff 94 04 a1 65 a1 63 cd 4a 8c", CP_ETOOBIG);
    //  ... or a count that fits the limit but not the bytes: truncated
    BATCH_HEX ("92 01 dc 00 10 94 04 a1 65 a1 63 cd 4a 8c", CP_EMALFORMED);
    uint8_t data [] = {0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5};
    CHECK_RC (cp_codec_prescan (data, sizeof data, CP_CODEC_DEPTH_MAX, 255),
              CP_EMALFORMED);
    CHECK (s_now () - start < 0.5);
}

static void
test_huge_string (s_tally_t *tally)
{
    //  str 32 of 4 GiB - 1 where the id should be
    EVENT_HEX ("94 04 db ff ff ff ff 65 31 a1 63 cd 4a 8c", CP_ETOOBIG);
    BATCH_HEX ("92 01 91 94 04 db ff ff ff ff 65 31 a1 63 cd 4a 8c", CP_ETOOBIG);
    EVENT_HEX ("94 04 c6 ff ff ff ff 65 31 a1 63 cd 4a 8c", CP_ETOOBIG);      //  bin 32
    EVENT_HEX ("94 04 c9 ff ff ff ff 01 65 31 a1 63 cd 4a 8c", CP_ETOOBIG);   //  ext 32
    //  With no length limit it is simply truncated
    uint8_t data [] = {0xdb, 0xff, 0xff, 0xff, 0xff, 0x65};
    CHECK_RC (cp_codec_prescan (data, sizeof data, 1, SIZE_MAX), CP_EMALFORMED);
    CHECK_RC (cp_codec_prescan (data, sizeof data, 1, 255), CP_ETOOBIG);
}

static void
test_deep_nesting (s_tally_t *tally)
{
    uint8_t data [101];
    memset (data, 0x91, 100);   //  fixarray of 1, 100 deep
    data [100] = 0x01;
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    cp_event_t event;
    CHECK_RC (cp_codec_batch_decode (data, sizeof data, &first_seq, &events, &count),
              CP_ETOOBIG);
    CHECK_RC (cp_codec_event_decode (data, sizeof data, &event), CP_ETOOBIG);
    CHECK_RC (cp_codec_prescan (data, sizeof data, CP_CODEC_DEPTH_MAX, 255), CP_ETOOBIG);
    //  Exactly the limit passes the pre-scan, one more does not
    CHECK_RC (cp_codec_prescan (data + 100 - CP_CODEC_DEPTH_MAX, CP_CODEC_DEPTH_MAX + 1,
                                CP_CODEC_DEPTH_MAX, 255), 0);
    CHECK_RC (cp_codec_prescan (data + 99 - CP_CODEC_DEPTH_MAX, CP_CODEC_DEPTH_MAX + 2,
                                CP_CODEC_DEPTH_MAX, 255), CP_ETOOBIG);
    //  Empty containers count as nesting too
    memset (data, 0x91, 4);
    data [4] = 0x90;
    CHECK_RC (cp_codec_prescan (data, 5, CP_CODEC_DEPTH_MAX, 255), CP_ETOOBIG);
    CHECK_RC (cp_codec_prescan (data + 1, 4, CP_CODEC_DEPTH_MAX, 255), 0);
}

static void
test_wrong_containers (s_tally_t *tally)
{
    //  An event as a map {1: 4, 2: "e", 3: "c", 4: 19084}
    EVENT_HEX ("84 01 04 02 a1 65 03 a1 63 04 cd 4a 8c", CP_ETYPE);
    //  A batch as a map {1: [event]}, and as [1, {}]
    BATCH_HEX ("81 01 91 94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);
    BATCH_HEX ("92 01 80", CP_ETYPE);
    //  Events that are not arrays inside a batch
    BATCH_HEX ("92 01 91 a4 74 65 78 74", CP_ETYPE);
    BATCH_HEX ("92 01 91 c0", CP_ETYPE);
    //  A batch of 3 elements, of 1, a scalar
    BATCH_HEX ("93 01 91 94 04 a1 65 a1 63 cd 4a 8c c0", CP_ETYPE);
    BATCH_HEX ("91 01", CP_ETYPE);
    BATCH_HEX ("01", CP_ETYPE);
    //  An empty event, and arrays of the wrong length for their type
    EVENT_HEX ("90", CP_ETYPE);
    EVENT_HEX ("93 04 a1 65 a1 63", CP_ETYPE);
    EVENT_HEX ("95 04 a1 65 a1 63 cd 4a 8c c0", CP_ETYPE);
    EVENT_HEX ("94 02 a1 65 a1 63 cd 4a 8c", CP_ETYPE);
    EVENT_HEX ("97 01 a1 65 a1 63 cd 4a 8c 0e a1 46 a1 46", CP_ETYPE);
    EVENT_HEX ("99 01 a1 65 a1 63 cd 4a 8c 0e a1 46 a1 46 a1 46 a1 46", CP_ETYPE);
    //  A batch given to the event decoder, an event to the batch decoder
    EVENT_HEX ("92 01 91 94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);
    BATCH_HEX ("94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);
}

static void
test_bin_for_str (s_tally_t *tally)
{
    EVENT_HEX ("94 04 c4 01 65 a1 63 cd 4a 8c", CP_ETYPE);              //  id
    EVENT_HEX ("94 04 a1 65 c4 01 63 cd 4a 8c", CP_ETYPE);              //  case
    EVENT_HEX ("95 02 a1 65 a1 63 cd 4a 8c c4 03 6c 6f 77", CP_ETYPE);  //  code
    EVENT_HEX ("94 04 d4 00 65 a1 63 cd 4a 8c", CP_ETYPE);              //  fixext
    EVENT_HEX ("94 04 01 a1 63 cd 4a 8c", CP_ETYPE);                    //  number
    EVENT_HEX ("94 04 c0 a1 63 cd 4a 8c", CP_ETYPE);                    //  nil
}

static void
test_bad_type (s_tally_t *tally)
{
    EVENT_HEX ("94 ff a1 65 a1 63 cd 4a 8c", CP_ETYPE);         //  -1
    EVENT_HEX ("94 d0 fc a1 65 a1 63 cd 4a 8c", CP_ETYPE);      //  int 8: -4
    EVENT_HEX ("94 a1 34 a1 65 a1 63 cd 4a 8c", CP_ETYPE);      //  "4"
    EVENT_HEX ("94 cb 40 10 00 00 00 00 00 00 a1 65 a1 63 cd 4a 8c", CP_ETYPE);  //  4.0
    EVENT_HEX ("94 09 a1 65 a1 63 cd 4a 8c", CP_EBADTYPE);
    EVENT_HEX ("94 00 a1 65 a1 63 cd 4a 8c", CP_EBADTYPE);
    EVENT_HEX ("94 cf ff ff ff ff ff ff ff ff a1 65 a1 63 cd 4a 8c", CP_EBADTYPE);
    EVENT_HEX ("94 cd 01 04 a1 65 a1 63 cd 4a 8c", CP_EBADTYPE);    //  260 = 4 + 256
    BATCH_HEX ("92 01 91 94 09 a1 65 a1 63 cd 4a 8c", CP_EBADTYPE);
}

static void
test_bad_date (s_tally_t *tally)
{
    //  "2022-04-02" as a string
    EVENT_HEX ("94 04 a1 65 a1 63 aa 32 30 32 32 2d 30 34 2d 30 32", CP_ETYPE);
    EVENT_HEX ("94 04 a1 65 a1 63 cb 40 d2 a3 00 00 00 00 00", CP_ETYPE);   //  19084.0
    EVENT_HEX ("94 04 a1 65 a1 63 c0", CP_ETYPE);
    //  1999-12-31 is 10956 = 0x2acc; 2000-01-01 (0x2acd) passes
    EVENT_HEX ("94 04 a1 65 a1 63 cd 2a cc", CP_EDATERANGE);
    EVENT_HEX ("94 04 a1 65 a1 63 cd 2a cd", 0);
    EVENT_HEX ("94 04 a1 65 a1 63 00", CP_EDATERANGE);
    EVENT_HEX ("94 04 a1 65 a1 63 ff", CP_EDATERANGE);                      //  -1
    EVENT_HEX ("94 04 a1 65 a1 63 d2 80 00 00 00", CP_EDATERANGE);          //  INT32_MIN
    //  INT32_MAX fits an int32_t; one more does not
    EVENT_HEX ("94 04 a1 65 a1 63 ce 7f ff ff ff", 0);
    EVENT_HEX ("94 04 a1 65 a1 63 ce 80 00 00 00", CP_EDATERANGE);
    EVENT_HEX ("94 04 a1 65 a1 63 cf 00 00 00 01 00 00 4a 8c", CP_EDATERANGE);
    BATCH_HEX ("92 01 91 94 04 a1 65 a1 63 cd 2a cc", CP_EDATERANGE);
}

//  case_opened [1, "e", "c", 19084, age, "F", "roma", "police"]
#define OPENED_HEAD "98 01 a1 65 a1 63 cd 4a 8c "
#define OPENED_TAIL " a1 46 a4 72 6f 6d 61 a6 70 6f 6c 69 63 65"

static void
test_bad_age (s_tally_t *tally)
{
    EVENT_HEX (OPENED_HEAD "12" OPENED_TAIL, 0);                //  18
    EVENT_HEX (OPENED_HEAD "13" OPENED_TAIL, CP_EBADAGE);       //  19
    EVENT_HEX (OPENED_HEAD "cc ff" OPENED_TAIL, CP_EBADAGE);    //  255
    EVENT_HEX (OPENED_HEAD "ff" OPENED_TAIL, CP_EBADAGE);       //  -1
    EVENT_HEX (OPENED_HEAD "a2 31 34" OPENED_TAIL, CP_ETYPE);   //  "14"
    EVENT_HEX (OPENED_HEAD "c0" OPENED_TAIL, CP_ETYPE);         //  nil
}

//  Packs home_visit [4, id, "c", 19084] with id as given.
static void
s_pack_with_id (msgpack_sbuffer *buffer, const char *id, size_t len)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&packer, 4);
    msgpack_pack_uint8 (&packer, 4);
    msgpack_pack_str (&packer, len);
    msgpack_pack_str_body (&packer, id, len);
    msgpack_pack_str (&packer, 1);
    msgpack_pack_str_body (&packer, "c", 1);
    msgpack_pack_int32 (&packer, 19084);
}

//  Packs risk_assessed [2, "e", "c", 19084, code] with code as given.
static void
s_pack_with_code (msgpack_sbuffer *buffer, const char *code, size_t len)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&packer, 5);
    msgpack_pack_uint8 (&packer, 2);
    msgpack_pack_str (&packer, 1);
    msgpack_pack_str_body (&packer, "e", 1);
    msgpack_pack_str (&packer, 1);
    msgpack_pack_str_body (&packer, "c", 1);
    msgpack_pack_int32 (&packer, 19084);
    msgpack_pack_str (&packer, len);
    msgpack_pack_str_body (&packer, code, len);
}

static void
test_bad_id (s_tally_t *tally)
{
    EVENT_HEX ("94 04 a3 65 20 31 a1 63 cd 4a 8c", CP_EBADID);      //  "e 1"
    EVENT_HEX ("94 04 a1 65 a3 63 20 31 cd 4a 8c", CP_EBADID);      //  case "c 1"
    EVENT_HEX ("94 04 a0 a1 63 cd 4a 8c", CP_EBADID);               //  ""
    EVENT_HEX ("94 04 a2 65 00 a1 63 cd 4a 8c", CP_EBADID);         //  "e\0"
    EVENT_HEX ("94 04 a2 c3 a9 a1 63 cd 4a 8c", CP_EBADID);         //  "é"
    BATCH_HEX ("92 01 91 94 04 a3 65 20 31 a1 63 cd 4a 8c", CP_EBADID);

    char text [300];
    memset (text, 'x', sizeof text);
    cp_event_t event;
    size_t lengths [] = {CP_ID_MAX, CP_ID_MAX + 1, 255, 256};
    int wants [] = {0, CP_EBADID, CP_EBADID, CP_ETOOBIG};
    for (size_t index = 0; index < 4; index++) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        s_pack_with_id (&buffer, text, lengths [index]);
        CHECK_RC (cp_codec_event_decode ((uint8_t *) buffer.data, buffer.size, &event),
                  wants [index]);
        msgpack_sbuffer_destroy (&buffer);
    }
}

static void
test_bad_code (s_tally_t *tally)
{
    char text [300];
    memset (text, 'x', sizeof text);
    cp_event_t event;
    size_t lengths [] = {1, CP_CODE_MAX, CP_CODE_MAX + 1, 0};
    int wants [] = {0, 0, CP_ETOOBIG, CP_EBADCODE};
    for (size_t index = 0; index < 4; index++) {
        msgpack_sbuffer buffer;
        msgpack_sbuffer_init (&buffer);
        s_pack_with_code (&buffer, text, lengths [index]);
        CHECK_RC (cp_codec_event_decode ((uint8_t *) buffer.data, buffer.size, &event),
                  wants [index]);
        msgpack_sbuffer_destroy (&buffer);
    }
    //  A NUL would cut the code short when it is read back
    EVENT_HEX ("95 02 a1 65 a1 63 cd 4a 8c a4 6c 6f 77 00", CP_EBADCODE);
}

static void
test_batch_counts (s_tally_t *tally)
{
    BATCH_HEX ("92 01 90", CP_ETYPE);                   //  no events
    BATCH_HEX ("92 01 dc 00 00", CP_ETYPE);

    //  CP_CODEC_BATCH_EVENTS_MAX + 1 small events, packed by hand since the
    //  encoder refuses them
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&packer, 2);
    msgpack_pack_uint8 (&packer, 1);
    msgpack_pack_array (&packer, CP_CODEC_BATCH_EVENTS_MAX + 1);
    uint8_t event [32];
    size_t event_size = s_hex (s_kat_home_visit, event, sizeof event);
    for (int index = 0; index <= CP_CODEC_BATCH_EVENTS_MAX; index++)
        msgpack_sbuffer_write (&buffer, (const char *) event, event_size);
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    CHECK_RC (cp_codec_batch_decode ((uint8_t *) buffer.data, buffer.size, &first_seq,
                                     &events, &count), CP_ETOOBIG);
    CHECK (events == NULL);
    //  Patch the count down to exactly the limit (array 16 after 92 01)
    //  and drop one event: it decodes
    CHECK (buffer.data [2] == (char) 0xdc);
    buffer.data [3] = (char) (CP_CODEC_BATCH_EVENTS_MAX >> 8);
    buffer.data [4] = (char) (CP_CODEC_BATCH_EVENTS_MAX & 0xff);
    int rc = cp_codec_batch_decode ((uint8_t *) buffer.data, buffer.size - event_size,
                                    &first_seq, &events, &count);
    if (CHECK_RC (rc, 0)) {
        CHECK (count == CP_CODEC_BATCH_EVENTS_MAX);
        free (events);
    }
    msgpack_sbuffer_destroy (&buffer);
}

static void
test_first_seq (s_tally_t *tally)
{
    BATCH_HEX ("92 00 91 94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);            //  0
    BATCH_HEX ("92 ff 91 94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);            //  -1
    BATCH_HEX ("92 c0 91 94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);            //  nil
    BATCH_HEX ("92 a1 31 91 94 04 a1 65 a1 63 cd 4a 8c", CP_ETYPE);         //  "1"
    //  UINT64_MAX with 2 events: first_seq + count overflows
    BATCH_HEX ("92 cf ff ff ff ff ff ff ff ff 92"
               "94 04 a1 65 a1 63 cd 4a 8c 94 04 a1 66 a1 63 cd 4a 8c", CP_ETOOBIG);
    BATCH_HEX ("92 cf ff ff ff ff ff ff ff fe 92"
               "94 04 a1 65 a1 63 cd 4a 8c 94 04 a1 66 a1 63 cd 4a 8c", CP_ETOOBIG);
    //  UINT64_MAX - 2 with 2 events: the next sequence is UINT64_MAX
    BATCH_HEX ("92 cf ff ff ff ff ff ff ff fd 92"
               "94 04 a1 65 a1 63 cd 4a 8c 94 04 a1 66 a1 63 cd 4a 8c", 0);
}

static void
test_reserved_byte (s_tally_t *tally)
{
    BATCH_HEX ("c1", CP_EMALFORMED);
    EVENT_HEX ("c1", CP_EMALFORMED);
    EVENT_HEX ("94 04 a1 65 a1 63 c1", CP_EMALFORMED);
    BATCH_HEX ("92 01 91 94 04 a1 65 a1 63 c1", CP_EMALFORMED);
    //  0xc1 inside a string is just a byte of the string (and a bad id)
    EVENT_HEX ("94 04 a1 c1 a1 63 cd 4a 8c", CP_EBADID);
}

static void
test_sizes (s_tally_t *tally)
{
    //  Nothing at all
    uint64_t first_seq;
    cp_event_t *events;
    size_t count;
    cp_event_t event;
    uint8_t byte = 0;
    CHECK_RC (cp_codec_batch_decode (&byte, 0, &first_seq, &events, &count),
              CP_EMALFORMED);
    CHECK_RC (cp_codec_event_decode (&byte, 0, &event), CP_EMALFORMED);
    CHECK_RC (cp_codec_batch_decode (NULL, 0, &first_seq, &events, &count),
              CP_EMALFORMED);
    CHECK_RC (cp_codec_prescan (NULL, 0, 1, 1), CP_EMALFORMED);

    //  An event of CP_CODEC_EVENT_MAX bytes, a batch of one byte more than
    //  CP_CODEC_BATCH_MAX: refused before a byte is read
    uint8_t *data = calloc (1, CP_CODEC_BATCH_MAX + 1);
    if (!CHECK (data != NULL))
        return;
    CHECK_RC (cp_codec_event_decode (data, CP_CODEC_EVENT_MAX, &event), CP_ETOOBIG);
    CHECK_RC (cp_codec_event_decode (data, CP_CODEC_EVENT_MAX - 1, &event),
              CP_EMALFORMED);
    CHECK_RC (cp_codec_batch_decode (data, CP_CODEC_BATCH_MAX + 1, &first_seq, &events,
                                     &count), CP_ETOOBIG);
    CHECK_RC (cp_codec_prescan (data, CP_CODEC_BATCH_MAX + 1, 1, 1), CP_ETOOBIG);
    CHECK_RC (cp_codec_batch_decode (data, CP_CODEC_BATCH_MAX, &first_seq, &events,
                                     &count), CP_EMALFORMED);
    free (data);
}

//  Every scalar and container format, through the public pre-scan.
static void
test_prescan_formats (s_tally_t *tally)
{
    static const char *valid [] = {
        "c0", "c2", "c3", "00", "7f", "e0", "ff",
        "cc 01", "cd 01 02", "ce 01 02 03 04", "cf 01 02 03 04 05 06 07 08",
        "d0 01", "d1 01 02", "d2 01 02 03 04", "d3 01 02 03 04 05 06 07 08",
        "ca 01 02 03 04", "cb 01 02 03 04 05 06 07 08",
        "a0", "a2 41 42", "d9 02 41 42", "da 00 02 41 42", "db 00 00 00 02 41 42",
        "c4 02 41 42", "c5 00 02 41 42", "c6 00 00 00 02 41 42",
        "d4 01 41", "d5 01 41 42", "d6 01 41 42 43 44",
        "d7 01 41 42 43 44 45 46 47 48",
        "d8 01 41 42 43 44 45 46 47 48 41 42 43 44 45 46 47 48",
        "c7 02 01 41 42", "c8 00 02 01 41 42", "c9 00 00 00 02 01 41 42",
        "90", "92 01 02", "dc 00 02 01 02", "dd 00 00 00 02 01 02",
        "80", "81 01 02", "de 00 01 01 02", "df 00 00 00 01 01 02",
        "92 92 01 02 81 a1 6b 91 c0",
    };
    static const char *truncated [] = {
        "cc", "cd 01", "ce 01 02 03", "cf 01 02 03 04 05 06 07", "d3 01", "cb 01",
        "a2 41", "d9", "d9 02 41", "da 00", "db 00 00 00 02 41", "c4 02 41", "c6 00 00",
        "d4 01", "d8 01 41", "c7 02 01 41", "c7 02", "c9 00 00 00 02 01 41",
        "92 01", "dc 00", "dd 00 00 00 02 01", "81 01", "df 00 00 00 01 01",
        "92 92 01 02 81 a1 6b 91",
    };
    for (size_t index = 0; index < sizeof valid / sizeof valid [0]; index++) {
        uint8_t data [64];
        size_t size = s_hex (valid [index], data, sizeof data);
        s_check_rc (tally, cp_codec_prescan (data, size, CP_CODEC_DEPTH_MAX, 255), 0,
                    valid [index], __FILE__, __LINE__);
        //  Each with one byte too many
        data [size] = 0xc0;
        s_check_rc (tally, cp_codec_prescan (data, size + 1, CP_CODEC_DEPTH_MAX, 255),
                    CP_EMALFORMED, valid [index], __FILE__, __LINE__);
    }
    for (size_t index = 0; index < sizeof truncated / sizeof truncated [0]; index++) {
        uint8_t data [64];
        size_t size = s_hex (truncated [index], data, sizeof data);
        s_check_rc (tally, cp_codec_prescan (data, size, CP_CODEC_DEPTH_MAX, 255),
                    CP_EMALFORMED, truncated [index], __FILE__, __LINE__);
    }
    //  The string limit is inclusive
    uint8_t data [] = {0xa2, 0x41, 0x42};
    CHECK_RC (cp_codec_prescan (data, 3, 0, 2), 0);
    CHECK_RC (cp_codec_prescan (data, 3, 0, 1), CP_ETOOBIG);
    //  Depth 0 allows scalars only
    uint8_t array [] = {0x90};
    CHECK_RC (cp_codec_prescan (array, 1, 0, 1), CP_ETOOBIG);
    CHECK_RC (cp_codec_prescan (array, 1, 1, 1), 0);
}


//  --------------------------------------------------------------------------
//  The node's own kinds

static cp_event_t
s_own (int type, const char *id, uint64_t entry, const char *note)
{
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = (uint8_t) type;
    snprintf (event.id, sizeof event.id, "%s", id);
    event.date = 19084;
    event.entry = entry;
    snprintf (event.note, sizeof event.note, "%s", note? note: "");
    return event;
}

//  Bytes worked out by hand from cp_codec.h's layouts; then round trips of
//  each own kind in a batch with a case event, and each limit.
static void
test_own_kinds (s_tally_t *tally)
{
    cp_event_t done = s_own (CP_EVENT_DIRECTIVE_DONE, "n-dd-7", 7, "ok");
    s_kat_event (tally, &done, "95 41"              //  array of 5, type 65
                 " a6 6e 2d 64 64 2d 37"            //  "n-dd-7"
                 " cd 4a 8c 07 a2 6f 6b");          //  19084 (uint 16), entry 7, "ok"
    cp_event_t staff = s_own (CP_EVENT_STAFF_SET, "n-ss-1", 0, NULL);
    staff.workers = 4;
    staff.children = 12000;
    s_kat_event (tally, &staff, "95 43 a6 6e 2d 73 73 2d 31 cd 4a 8c"
                 " 04 cd 2e e0");                   //  workers 4, children 12000

    cp_event_t events [5];
    events [0] = s_own (CP_EVENT_DIRECTIVE_RECEIVED, "n-dr-7", 7, NULL);
    events [1] = done;
    events [2] = s_own (CP_EVENT_FIGURES_CHECKED, "n-fc-9", 9, "2022-03 2022-04");
    events [2].verdict = CP_FIGURES_DIVERGED;
    events [3] = staff;
    events [4] = s_event (CP_EVENT_HOME_VISIT, "e-000004", "c-17", 19084, 0, NULL, NULL, NULL);
    size_t size;
    uint8_t *data = cp_codec_batch_encode (3, events, 5, &size);
    uint64_t first;
    cp_event_t *decoded = NULL;
    size_t count = 0;
    if (CHECK (data) && CHECK_RC (cp_codec_batch_decode (data, size, &first, &decoded, &count), 0)
    &&  CHECK (count == 5))
        for (size_t index = 0; index < count; index++)
            CHECK (s_event_equal (&decoded [index], &events [index]));
    free (decoded);
    free (data);
    char note [CP_NOTE_MAX + 1];
    memset (note, 'n', CP_NOTE_MAX);
    note [CP_NOTE_MAX] = 0;
    cp_event_t longest = s_own (CP_EVENT_DIRECTIVE_DONE, "n-dd-1", UINT64_MAX, note);
    data = cp_codec_event_encode (&longest, &size);
    cp_event_t back;
    if (CHECK (data) && CHECK_RC (cp_codec_event_decode (data, size, &back), 0))
        CHECK (s_event_equal (&back, &longest));
    free (data);

    //  Refused, each with its code
    EVENT_HEX ("95 43 a6 6e 2d 73 73 2d 31 cd 4a 8c 04 00", CP_EBADVALUE);       //  0 children
    EVENT_HEX ("95 43 a6 6e 2d 73 73 2d 31 cd 4a 8c cd 27 11 01", CP_EBADVALUE); //  10001 workers
    EVENT_HEX ("95 43 a6 6e 2d 73 73 2d 31 cd 4a 8c ff 01", CP_EBADVALUE);       //  -1 workers
    EVENT_HEX ("95 43 a6 6e 2d 73 73 2d 31 cd 4a 8c 04 a1 31", CP_ETYPE);        //  "1" children
    EVENT_HEX ("94 40 a6 6e 2d 64 72 2d 31 cd 4a 8c 00", CP_EBADID);             //  entry 0
    EVENT_HEX ("95 40 a6 6e 2d 64 72 2d 31 cd 4a 8c 01 01", CP_ETYPE);           //  5 fields
    EVENT_HEX ("94 40 a6 6e 2d 64 72 2d 31 a1 63 cd 4a 8c", CP_ETYPE);           //  a case
    EVENT_HEX ("96 42 a6 6e 2d 66 63 2d 31 cd 4a 8c 05 03 a0", CP_EBADVALUE);    //  verdict 3
    EVENT_HEX ("96 42 a6 6e 2d 66 63 2d 31 cd 4a 8c 05 00 a0", CP_EBADVALUE);    //  verdict 0
    EVENT_HEX ("95 41 a6 6e 2d 64 64 2d 37 cd 4a 8c 07 a1 0a", CP_EBADVALUE);    //  "\n"
    EVENT_HEX ("95 41 a6 6e 2d 64 64 2d 37 cd 4a 8c 07 a3 6f 00 6b", CP_EBADVALUE); //  a NUL
    EVENT_HEX ("95 41 a6 6e 2d 64 64 2d 37 cd 4a 8c 07 c4 02 6f 6b", CP_ETYPE);  //  bin note
    EVENT_HEX ("94 44 a6 6e 2d 64 72 2d 31 cd 4a 8c 01", CP_EBADTYPE);           //  68
    //  A note one byte over its limit
    uint8_t over [64 + CP_NOTE_MAX];
    size_t at = s_hex ("95 41 a6 6e 2d 64 64 2d 37 cd 4a 8c 07 d9", over, sizeof over);
    over [at++] = CP_NOTE_MAX + 1;
    memset (over + at, 'n', CP_NOTE_MAX + 1);
    at += CP_NOTE_MAX + 1;
    CHECK_RC (cp_codec_event_decode (over, at, &back), CP_ETOOBIG);
}

//  --------------------------------------------------------------------------

typedef struct {
    const char *name;
    void (*run) (s_tally_t *tally);
} s_test_t;

#define TEST(name) {#name, name}

static const s_test_t s_tests [] = {
    TEST (test_kat_case_opened),
    TEST (test_kat_home_visit),
    TEST (test_kat_risk_assessed),
    TEST (test_kat_batch),
    TEST (test_round_trip_events),
    TEST (test_round_trip_batch),
    TEST (test_round_trip_limits),
    TEST (test_non_canonical),
    TEST (test_truncation),
    TEST (test_trailing_byte),
    TEST (test_bit_flips),
    TEST (test_huge_counts),
    TEST (test_huge_string),
    TEST (test_deep_nesting),
    TEST (test_wrong_containers),
    TEST (test_bin_for_str),
    TEST (test_bad_type),
    TEST (test_bad_date),
    TEST (test_bad_age),
    TEST (test_bad_id),
    TEST (test_bad_code),
    TEST (test_batch_counts),
    TEST (test_first_seq),
    TEST (test_reserved_byte),
    TEST (test_sizes),
    TEST (test_prescan_formats),
    TEST (test_own_kinds),
};

int
main (int argc, char *argv [])
{
    //  An argument runs only the tests whose name contains it
    const char *only = argc > 1? argv [1]: NULL;
    int tests_failed = 0;
    int passed = 0;
    int failed = 0;
    for (size_t index = 0; index < sizeof s_tests / sizeof s_tests [0]; index++) {
        const s_test_t *test = &s_tests [index];
        if (only && !strstr (test->name, only))
            continue;
        s_tally_t tally = {0, 0};
        test->run (&tally);
        printf ("%-24s %6d passed, %d failed\n", test->name, tally.passed, tally.failed);
        passed += tally.passed;
        failed += tally.failed;
        if (tally.failed)
            tests_failed++;
    }
    printf ("test_codec: %d checks passed, %d failed; %d tests failed\n", passed, failed,
            tests_failed);
    return failed? 1: 0;
}
