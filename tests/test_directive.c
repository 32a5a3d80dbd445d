/*  test_directive: a directive's body (cp_directive), the bytes of a
    downlink entry of kind directive.

    Known answers worked out by hand from the msgpack spec: fixarray 4
    (0x94), the version and kind as positive fixints, the due day in its
    shortest unsigned form (0x00 for none, 0xcd and two bytes for a day of
    this century), the text as fixstr (0xa0 | length), str8 (0xd9) or
    str16 (0xda).  Then the round trip, and every refusal with its code:
    a bad version, kind, due date, text; trailing bytes, truncation at
    every length, an array of another size, a value not in its shortest
    form.  A refused body leaves the directive zeroed.                     */

#include "cp_date.h"
#include "cp_directive.h"
#include "cp_error.h"
#include "testing.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Decodes size bytes and returns the code; *directive as decoded.
static int
s_decode (const uint8_t *bytes, size_t size, cp_directive_t *directive)
{
    char why [256] = "";
    return cp_directive_decode (bytes, size, directive, why, sizeof why);
}

//  True when the directive is all zeros (what a refusal leaves).
static bool
s_zeroed (const cp_directive_t *directive)
{
    static const cp_directive_t zero;
    return memcmp (directive, &zero, sizeof zero) == 0;
}

//  Decodes bytes that must be refused with code, and checks the directive
//  is left zeroed and why names what was wrong (contains part).
static void
s_refused (const uint8_t *bytes, size_t size, int code, const char *part)
{
    cp_directive_t directive;
    memset (&directive, 0x55, sizeof directive);
    char why [256] = "";
    CHECK_EQ_INT (cp_directive_decode (bytes, size, &directive, why, sizeof why), code);
    CHECK (s_zeroed (&directive));
    CHECK_STR_CONTAINS (why, part);
}

static int32_t
s_day (int year, int month, int day)
{
    return cp_date_from_civil (year, month, day);
}

static void
test_known_answers (void)
{
    //  A referral due 2026-12-31 (day 20818 = 0x5152), "Visit"
    cp_directive_t referral = {CP_DIRECTIVE_REFERRAL, s_day (2026, 12, 31), "Visit"};
    CHECK_EQ_INT (referral.due, 20818);
    static const uint8_t referral_bytes [] = {
        0x94, 0x01, 0x01, 0xcd, 0x51, 0x52, 0xa5, 'V', 'i', 's', 'i', 't'
    };
    size_t size = 0;
    uint8_t *bytes = cp_directive_encode (&referral, &size);
    CHECK_EQ_INT (size, sizeof referral_bytes);
    CHECK (bytes && memcmp (bytes, referral_bytes, sizeof referral_bytes) == 0);
    free (bytes);

    //  A notice with no due date: the day is 0x00
    cp_directive_t notice = {CP_DIRECTIVE_NOTICE, 0, "ok"};
    static const uint8_t notice_bytes [] = {0x94, 0x01, 0x03, 0x00, 0xa2, 'o', 'k'};
    bytes = cp_directive_encode (&notice, &size);
    CHECK_EQ_INT (size, sizeof notice_bytes);
    CHECK (bytes && memcmp (bytes, notice_bytes, sizeof notice_bytes) == 0);
    free (bytes);

    //  A deadline on 2000-01-01 (day 10957 = 0x2acd), a text of 32 bytes:
    //  str8, 0xd9 0x20
    cp_directive_t deadline = {CP_DIRECTIVE_DEADLINE, s_day (2000, 1, 1), ""};
    memset (deadline.text, 'q', 32);
    bytes = cp_directive_encode (&deadline, &size);
    CHECK_EQ_INT (size, 6 + 2 + 32);
    static const uint8_t deadline_head [] = {0x94, 0x01, 0x02, 0xcd, 0x2a, 0xcd, 0xd9, 0x20};
    CHECK (bytes && memcmp (bytes, deadline_head, sizeof deadline_head) == 0);
    CHECK (bytes && bytes [size - 1] == 'q');
    free (bytes);

    //  A text of the most bytes, 1000 = 0x03e8: str16
    cp_directive_t longest = {CP_DIRECTIVE_NOTICE, 0, ""};
    memset (longest.text, 'x', CP_DIRECTIVE_TEXT_MAX);
    bytes = cp_directive_encode (&longest, &size);
    CHECK_EQ_INT (size, 4 + 3 + CP_DIRECTIVE_TEXT_MAX);
    static const uint8_t longest_head [] = {0x94, 0x01, 0x03, 0x00, 0xda, 0x03, 0xe8};
    CHECK (bytes && memcmp (bytes, longest_head, sizeof longest_head) == 0);
    CHECK (size <= CP_DIRECTIVE_BODY_MAX);
    free (bytes);

    //  And the other way: the hand-made bytes decode to the fields
    cp_directive_t decoded;
    CHECK_EQ_INT (s_decode (referral_bytes, sizeof referral_bytes, &decoded), 0);
    CHECK_EQ_INT (decoded.kind, CP_DIRECTIVE_REFERRAL);
    CHECK_EQ_INT (decoded.due, 20818);
    CHECK (strcmp (decoded.text, "Visit") == 0);
    CHECK_EQ_INT (s_decode (notice_bytes, sizeof notice_bytes, &decoded), 0);
    CHECK_EQ_INT (decoded.due, 0);
}

static void
test_round_trip (void)
{
    const cp_directive_t cases [] = {
        {CP_DIRECTIVE_REFERRAL, s_day (2000, 1, 1), "a"},
        {CP_DIRECTIVE_DEADLINE, s_day (2099, 12, 31), "Raporti i T3 deri më 15 tetor.\n"
                                                      "Faleminderit."},
        {CP_DIRECTIVE_NOTICE, 0, "Ndërprerje e shërbimit të shtunën "
                                 "\xe2\x82\xac \xf0\x9f\x98\x80"},
    };
    for (size_t at = 0; at < sizeof cases / sizeof cases [0]; at++) {
        size_t size = 0;
        uint8_t *bytes = cp_directive_encode (&cases [at], &size);
        CHECK (bytes);
        cp_directive_t decoded;
        CHECK_EQ_INT (s_decode (bytes, size, &decoded), 0);
        CHECK_EQ_INT (decoded.kind, cases [at].kind);
        CHECK_EQ_INT (decoded.due, cases [at].due);
        CHECK (strcmp (decoded.text, cases [at].text) == 0);
        free (bytes);
    }
    //  The longest text, every byte kept
    cp_directive_t longest = {CP_DIRECTIVE_NOTICE, 0, ""};
    for (int at = 0; at < CP_DIRECTIVE_TEXT_MAX; at++)
        longest.text [at] = (char) ('a' + at % 26);
    size_t size = 0;
    uint8_t *bytes = cp_directive_encode (&longest, &size);
    cp_directive_t decoded;
    CHECK (bytes && s_decode (bytes, size, &decoded) == 0);
    CHECK (strcmp (decoded.text, longest.text) == 0);
    free (bytes);
    CHECK (strcmp (cp_directive_kind_name (CP_DIRECTIVE_DEADLINE), "deadline") == 0);
    CHECK_EQ_INT (cp_directive_kind_of ("referral"), CP_DIRECTIVE_REFERRAL);
    CHECK_EQ_INT (cp_directive_kind_of ("notice"), CP_DIRECTIVE_NOTICE);
    CHECK_EQ_INT (cp_directive_kind_of ("order"), 0);
    CHECK (cp_directive_kind_name (0) == NULL);
    CHECK (cp_directive_kind_name (4) == NULL);
}

//  What the encoder refuses: what cp_directive_check refuses.
static void
test_check (void)
{
    char why [256];
    cp_directive_t directive = {CP_DIRECTIVE_NOTICE, 0, "fine"};
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), 0);
    directive.kind = 0;
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADKIND);
    CHECK_STR_CONTAINS (why, "kind 0");
    directive.kind = 4;
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADKIND);
    directive.kind = CP_DIRECTIVE_NOTICE;
    directive.due = s_day (1999, 12, 31);
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EDATERANGE);
    CHECK_STR_CONTAINS (why, "due date");
    directive.due = s_day (2100, 1, 1);
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EDATERANGE);
    directive.due = -5;
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EDATERANGE);
    directive.due = 0;
    directive.text [0] = 0;
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EMISSING);
    CHECK_STR_CONTAINS (why, "text");
    snprintf (directive.text, sizeof directive.text, "tab\there");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    CHECK_STR_CONTAINS (why, "control character at byte 3");
    snprintf (directive.text, sizeof directive.text, "del\x7f");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    snprintf (directive.text, sizeof directive.text, "cr\r\n");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    snprintf (directive.text, sizeof directive.text, "bad \xc3\x28 utf-8");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    CHECK_STR_CONTAINS (why, "UTF-8");
    snprintf (directive.text, sizeof directive.text, "overlong \xc0\xaf");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    snprintf (directive.text, sizeof directive.text, "surrogate \xed\xa0\x80");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    snprintf (directive.text, sizeof directive.text, "cut \xe2\x82");
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_EBADVALUE);
    //  A text of 1001 bytes fills the buffer without a NUL
    memset (directive.text, 'x', sizeof directive.text);
    CHECK_EQ_INT (cp_directive_check (&directive, why, sizeof why), CP_ETOOBIG);
    CHECK_STR_CONTAINS (why, "over 1000 bytes");
    size_t size = 99;
    CHECK (cp_directive_encode (&directive, &size) == NULL);
    CHECK_EQ_INT (size, 0);
}

//  A body [1, kind, due, text] by hand: head is the array's first three
//  elements' bytes, then the text as fixstr.
static size_t
s_body (uint8_t *out, const uint8_t *head, size_t head_size, const char *text, size_t len)
{
    out [0] = 0x94;
    memcpy (out + 1, head, head_size);
    out [1 + head_size] = (uint8_t) (0xa0 | len);
    memcpy (out + 2 + head_size, text, len);
    return 2 + head_size + len;
}

static void
test_refusals (void)
{
    uint8_t body [2048];
    size_t size;
    //  Version
    size = s_body (body, (const uint8_t []) {0x02, 0x01, 0x00}, 3, "x", 1);
    s_refused (body, size, CP_EVERSION, "directive version 2");
    size = s_body (body, (const uint8_t []) {0xcd, 0x01, 0x00, 0x01, 0x00}, 5, "x", 1);
    s_refused (body, size, CP_EVERSION, "version 256");
    size = s_body (body, (const uint8_t []) {0xa1, '1', 0x01, 0x00}, 4, "x", 1);
    s_refused (body, size, CP_ETYPE, "version");
    //  Kind
    size = s_body (body, (const uint8_t []) {0x01, 0x00, 0x00}, 3, "x", 1);
    s_refused (body, size, CP_EBADKIND, "kind 0");
    size = s_body (body, (const uint8_t []) {0x01, 0x04, 0x00}, 3, "x", 1);
    s_refused (body, size, CP_EBADKIND, "kind 4");
    size = s_body (body, (const uint8_t []) {0x01, 0xcd, 0x01, 0x2c, 0x00}, 5, "x", 1);
    s_refused (body, size, CP_EBADKIND, "kind 300");
    size = s_body (body, (const uint8_t []) {0x01, 0xff, 0x00}, 3, "x", 1);
    s_refused (body, size, CP_ETYPE, "kind");
    //  Due: out of range, negative, too big for a day, of the wrong type
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0x01}, 3, "x", 1);
    s_refused (body, size, CP_EDATERANGE, "due date");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0xcd, 0xc8, 0x7a}, 5, "x", 1);
    s_refused (body, size, CP_EDATERANGE, "due date");     //  day 51322: 2110-07-09
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0xff}, 3, "x", 1);
    s_refused (body, size, CP_EDATERANGE, "negative");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0xce, 0x80, 0x00, 0x00, 0x00}, 7,
                   "x", 1);
    s_refused (body, size, CP_EDATERANGE, "due date");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0xc0}, 3, "x", 1);
    s_refused (body, size, CP_ETYPE, "due date");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0xa1, '5'}, 4, "x", 1);
    s_refused (body, size, CP_ETYPE, "due date");
    //  Text: empty, a bin, control characters, a NUL, not UTF-8
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0x00}, 3, "", 0);
    s_refused (body, size, CP_EMISSING, "text");
    static const uint8_t bin_text [] = {0x94, 0x01, 0x01, 0x00, 0xc4, 0x01, 'x'};
    s_refused (bin_text, sizeof bin_text, CP_ETYPE, "text is not a str");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0x00}, 3, "a\x1b" "b", 3);
    s_refused (body, size, CP_EBADVALUE, "control character");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0x00}, 3, "a\0b", 3);
    s_refused (body, size, CP_EBADVALUE, "NUL");
    size = s_body (body, (const uint8_t []) {0x01, 0x01, 0x00}, 3, "\xff", 1);
    s_refused (body, size, CP_EBADVALUE, "UTF-8");
    //  Text over 1000 bytes: str16 of 1001
    static const uint8_t long_head [] = {0x94, 0x01, 0x03, 0x00, 0xda, 0x03, 0xe9};
    memcpy (body, long_head, sizeof long_head);
    memset (body + sizeof long_head, 'x', 1001);
    s_refused (body, sizeof long_head + 1001, CP_ETOOBIG, "over");
    //  A body over the limit, whatever it holds
    memset (body, 0, sizeof body);
    s_refused (body, CP_DIRECTIVE_BODY_MAX + 1, CP_ETOOBIG, "over");
    //  Arrays of other sizes, and not an array
    static const uint8_t three [] = {0x93, 0x01, 0x01, 0x00};
    s_refused (three, sizeof three, CP_ETYPE, "array of 4");
    static const uint8_t five [] = {0x95, 0x01, 0x01, 0x00, 0xa1, 'x', 0x00};
    s_refused (five, sizeof five, CP_ETYPE, "array of 4");
    static const uint8_t map [] = {0x81, 0x01, 0x01};
    s_refused (map, sizeof map, CP_ETYPE, "array of 4");
    //  Values not in their shortest form: a uint8 version, a str8 text
    size = s_body (body, (const uint8_t []) {0xcc, 0x01, 0x01, 0x00}, 4, "x", 1);
    s_refused (body, size, CP_EMALFORMED, "shortest");
    static const uint8_t str8 [] = {0x94, 0x01, 0x01, 0x00, 0xd9, 0x01, 'x'};
    s_refused (str8, sizeof str8, CP_EMALFORMED, "shortest");
    static const uint8_t wide_due [] = {0x94, 0x01, 0x01, 0xce, 0x00, 0x00, 0x51, 0x52,
                                        0xa1, 'x'};
    s_refused (wide_due, sizeof wide_due, CP_EMALFORMED, "shortest");
    static const uint8_t array16 [] = {0xdc, 0x00, 0x04, 0x01, 0x01, 0x00, 0xa1, 'x'};
    s_refused (array16, sizeof array16, CP_EMALFORMED, "shortest");
    //  ... which with the fixint form decode
    static const uint8_t fine [] = {0x94, 0x01, 0x01, 0x00, 0xa1, 'x'};
    cp_directive_t directive;
    CHECK_EQ_INT (s_decode (fine, sizeof fine, &directive), 0);
    CHECK_EQ_INT (s_decode (NULL, 0, &directive), CP_EMALFORMED);
}

//  Trailing bytes and truncation at every length of a valid body.
static void
test_truncation (void)
{
    cp_directive_t directive = {CP_DIRECTIVE_REFERRAL, s_day (2026, 12, 31), ""};
    memset (directive.text, 'r', 300);
    size_t size = 0;
    uint8_t *bytes = cp_directive_encode (&directive, &size);
    CHECK (bytes);
    if (!bytes)
        return;
    int wrong = 0;
    for (size_t cut = 0; cut < size; cut++) {
        //  Exactly cut bytes, so that a read past them is caught by ASan
        uint8_t *copy = malloc (cut? cut: 1);
        memcpy (copy, bytes, cut);
        cp_directive_t decoded;
        memset (&decoded, 0x55, sizeof decoded);
        int rc = s_decode (copy, cut, &decoded);
        if (rc != CP_EMALFORMED || !s_zeroed (&decoded)) {
            if (!wrong++)
                fprintf (stderr, "  truncated at %zu of %zu: %s\n", cut, size,
                         cp_strerror (rc));
        }
        free (copy);
    }
    CHECK_EQ_INT (wrong, 0);
    uint8_t *longer = malloc (size + 1);
    memcpy (longer, bytes, size);
    longer [size] = 0x00;
    s_refused (longer, size + 1, CP_EMALFORMED, "not one msgpack object");
    free (longer);
    free (bytes);
}

TESTING_MAIN (
    TEST (test_known_answers),
    TEST (test_round_trip),
    TEST (test_check),
    TEST (test_refusals),
    TEST (test_truncation)
)
