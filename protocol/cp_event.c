/*  cp_event: the event types and reading an event from a JSON line.

    Parsing streams the line through yajl's callbacks into a fixed table of
    fields (no allocation per field, duplicate keys refused), then checks
    them: every key must be one the type has, every required key must be
    there, and each value must have the exact JSON type (an age of 14.0 or
    "14" is refused, not coerced).  Messages quote at most a short, printable
    prefix of a bad value, so a hostile line cannot flood the terminal.       */

#include "cp_event.h"
#include "cp_date.h"
#include "cp_error.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

//  name, has_age, code_count, fields, dims, own
static const cp_event_kind_t s_kinds [CP_EVENT_OWN_MAX + 1] = {
    [CP_EVENT_CASE_OPENED] = {"case_opened", true, 3, {"sex", "ethnicity", "referral"},
        {CP_DIM_SEX, CP_DIM_ETHNICITY, CP_DIM_REFERRAL}, false},
    [CP_EVENT_RISK_ASSESSED] = {"risk_assessed", false, 1, {"level"}, {CP_DIM_RISK}, false},
    [CP_EVENT_PROBLEM_SET] = {"problem_set", false, 1, {"problem"}, {CP_DIM_PROBLEM}, false},
    [CP_EVENT_HOME_VISIT] = {"home_visit", false, 0, {NULL}, {0}, false},
    [CP_EVENT_MEASURE_TAKEN] = {"measure_taken", false, 1, {"measure"}, {CP_DIM_MEASURE},
        false},
    [CP_EVENT_MEASURE_CONFIRMED] = {"measure_confirmed", false, 1, {"measure"},
        {CP_DIM_MEASURE}, false},
    [CP_EVENT_SCHOOL_IDENTIFIED] = {"school_identified", false, 1, {"category"},
        {CP_DIM_SCHOOL}, false},
    [CP_EVENT_CASE_CLOSED] = {"case_closed", false, 1, {"reason"}, {CP_DIM_CLOSE_REASON},
        false},
    [CP_EVENT_DIRECTIVE_RECEIVED] = {"directive_received", false, 0, {NULL}, {0}, true},
    [CP_EVENT_DIRECTIVE_DONE] = {"directive_done", false, 0, {NULL}, {0}, true},
    [CP_EVENT_FIGURES_CHECKED] = {"figures_checked", false, 0, {NULL}, {0}, true},
    [CP_EVENT_STAFF_SET] = {"staff_set", false, 0, {NULL}, {0}, true},
};

bool
cp_event_is_own (int type)
{
    return type >= CP_EVENT_OWN_FIRST && type <= CP_EVENT_OWN_MAX;
}

const cp_event_kind_t *
cp_event_kind (int type)
{
    if ((type < 1 || type > CP_EVENT_TYPE_MAX) && !cp_event_is_own (type))
        return NULL;
    return &s_kinds [type];
}

int
cp_event_type_of (const char *text, size_t len, bool own)
{
    for (int type = 1; type <= CP_EVENT_OWN_MAX; type++) {
        const char *name = s_kinds [type].name;
        if (name && (own || !s_kinds [type].own)
        &&  strlen (name) == len && memcmp (name, text, len) == 0)
            return type;
    }
    return 0;
}

//  A note is text for people: UTF-8 is fine, control characters are not
//  (a note is printed in tables and logs).
static bool
s_note_printable (const char *note, size_t len)
{
    for (size_t at = 0; at < len; at++)
        if ((unsigned char) note [at] < 0x20 || note [at] == 0x7f)
            return false;
    return true;
}

int
cp_event_own_check (const cp_event_t *event, char *why, size_t why_size)
{
    if (event->case_id [0])
        return cp_error_why (CP_EUNKNOWNFIELD, why, why_size,
                             "a %s event has no case", s_kinds [event->type].name);
    switch (event->type) {
        case CP_EVENT_DIRECTIVE_RECEIVED:
        case CP_EVENT_DIRECTIVE_DONE:
        case CP_EVENT_FIGURES_CHECKED:
            if (event->entry == 0)
                return cp_error_why (CP_EBADID, why, why_size, "a %s event names no downlink "
                                     "entry", s_kinds [event->type].name);
            break;
        case CP_EVENT_STAFF_SET:
            if (event->workers > CP_STAFF_WORKERS_MAX)
                return cp_error_why (CP_EBADVALUE, why, why_size, "workers: %" PRIu32
                                     " is over %d", event->workers, CP_STAFF_WORKERS_MAX);
            if (event->children < 1 || event->children > CP_STAFF_CHILDREN_MAX)
                return cp_error_why (CP_EBADVALUE, why, why_size, "children: %" PRIu32
                                     " is not 1-%d", event->children, CP_STAFF_CHILDREN_MAX);
            break;
        default:
            return cp_error_why (CP_EBADTYPE, why, why_size, "event type %d is not one of the "
                                 "node's own", event->type);
    }
    if (event->type == CP_EVENT_FIGURES_CHECKED
    &&  event->verdict != CP_FIGURES_IN_SYNC && event->verdict != CP_FIGURES_DIVERGED)
        return cp_error_why (CP_EBADVALUE, why, why_size, "verdict %d is neither in_sync nor "
                             "diverged", event->verdict);
    size_t note = strnlen (event->note, sizeof event->note);
    if (note > CP_NOTE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "a note is at most %d bytes",
                             CP_NOTE_MAX);
    if (!s_note_printable (event->note, note))
        return cp_error_why (CP_EBADVALUE, why, why_size, "a note holds a control character");
    return 0;
}

//  The id alphabet [A-Za-z0-9_.:-] as a bitmap of the 128 ASCII codes: a
//  character costs a shift instead of eight comparisons (the central checks
//  two ids per event, twice).  S_SPAN is the bits from..to of a word.
#define S_SPAN(from, to) ((~0ull >> (63 - ((to) - (from)))) << (from))
static const uint64_t s_id_alphabet [2] = {
    S_SPAN ('-', '.') | S_SPAN ('0', ':'),                     //  codes 0-63
    S_SPAN ('A' - 64, 'Z' - 64) | S_SPAN ('_' - 64, '_' - 64) | S_SPAN ('a' - 64, 'z' - 64)
};

bool
cp_event_id_valid (const char *text, size_t len)
{
    if (len < 1 || len > CP_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (c >= 128 || !((s_id_alphabet [c >> 6] >> (c & 63)) & 1))
            return false;
    }
    return true;
}

//  A short printable copy of an untrusted value for a message.
static const char *
s_quote (const char *text, size_t len, char *buf, size_t size)
{
    size_t out = 0;
    for (size_t i = 0; i < len && out + 4 < size; i++)
        buf [out++] = (text [i] >= 0x20 && text [i] < 0x7f)? text [i]: '?';
    if (len > 0 && out < len && out + 4 <= size) {
        memcpy (buf + out, "...", 3);
        out += 3;
    }
    buf [out] = 0;
    return buf;
}

//  Checks one coded field's value and stores it with its catalogue id.
static int
s_set_code (cp_event_t *event, int slot, const char *field, cp_dim_t dim,
            const char *value, size_t len, const cp_catalogue_t *catalogue,
            char *why, size_t why_size)
{
    char shown [48];
    int id = len <= CP_CODE_MAX? cp_catalogue_lookup (catalogue, dim, value, len): -1;
    if (id < 0) {
        //  A code of a revision the node has not applied yet is no typo:
        //  the message says which revision brings it.  Only when there is
        //  a message to write (the central's resolving passes none).
        int active = cp_catalogue_version (catalogue);
        int since = why && len <= CP_CODE_MAX
                  ? cp_catalogue_builtin_since (dim, value, len, active): 0;
        if (since > 0)
            return cp_error_why (CP_EBADCODE, why, why_size,
                          "field '%s': '%s' comes with catalogue revision %d, which this "
                          "node has not applied (it has catalogue %d)", field,
                          s_quote (value, len, shown, sizeof shown), since, active);
        return cp_error_why (CP_EBADCODE, why, why_size,
                      "field '%s': '%s' is not a %s code of catalogue %d", field,
                      s_quote (value, len, shown, sizeof shown), cp_dim_name (dim), active);
    }
    if (event->codes [slot] != value) {
        memcpy (event->codes [slot], value, len);
        event->codes [slot][len] = 0;
    }
    event->code_ids [slot] = (int8_t) id;
    return 0;
}

static int
s_set_id (char *target, const char *field, const char *value, size_t len,
          char *why, size_t why_size)
{
    char shown [48];
    if (!cp_event_id_valid (value, len))
        return cp_error_why (CP_EBADID, why, why_size,
                      "field '%s': '%s' is not 1-%d characters of [A-Za-z0-9_.:-]",
                      field, s_quote (value, len, shown, sizeof shown), CP_ID_MAX);
    memcpy (target, value, len);
    target [len] = 0;
    return 0;
}

static int
s_check_date (int32_t date, int32_t today, char *why, size_t why_size)
{
    bool early = date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1);
    if (!early && date <= today + 1 && date <= cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31))
        return 0;
    char text [CP_DATE_STRLEN + 1];
    cp_date_format (date, text);
    return cp_error_why (CP_EDATERANGE, why, why_size, early? "field 'date': '%s' is before 2000-01-01"
                                                     : "field 'date': '%s' is in the future",
                  text);
}

//  =====================================================================
//  Reading a line.  yajl streams the line through callbacks that only
//  collect the fields (no tree is built: this runs for every line of an
//  import); the rules are checked once the object is complete, because
//  which fields belong depends on "type", which may come last.

//  The keys any event may carry; s_fields_t keeps one slot per key.  The
//  coded fields come last, from S_FIRST_CODE on.
static const char *const s_keys [] = {
    "id", "type", "case", "date", "age", "directive",
    "sex", "ethnicity", "referral", "level", "problem", "measure", "category", "reason"
};
#define S_KEYS (sizeof s_keys / sizeof s_keys [0])
#define S_FIRST_CODE 6
#define S_REFERRAL_TAKEN_UP "central_agency"    //  the referral a directive can name
#define S_DIRECTIVE_DIGITS 19                   //  any such number fits a u64
#define S_VALUE_MAX 80          //  longer values are kept cut, with their real length

typedef enum { S_ABSENT, S_STRING, S_NUMBER, S_OTHER } s_kind_t;

typedef struct {
    s_kind_t kind;
    char text [S_VALUE_MAX + 1];    //  the string, or the number as written
    size_t length;                  //  its real length
} s_value_t;

typedef struct {
    int depth;                      //  of containers open
    int key;                        //  slot of the key just read, -1 unknown
    char unknown [S_VALUE_MAX + 1]; //  the first key that is no event field
    int rc;                         //  an error found while parsing, or 0
    char why [160];
    s_value_t values [S_KEYS];
} s_fields_t;

//  An object or array where a field's value should be: refused with the
//  message the field's own type check would give.
static int
s_container_value (s_fields_t *fields)
{
    if (fields->key < 0) {
        fields->rc = CP_EMALFORMED;
        snprintf (fields->why, sizeof fields->why, "line is not a flat JSON object");
    }
    else {
        fields->rc = CP_ETYPE;
        snprintf (fields->why, sizeof fields->why, strcmp (s_keys [fields->key], "age") == 0
                  ? "field '%s' is not a whole number": "field '%s' is not a string",
                  s_keys [fields->key]);
    }
    return 0;
}

static int
s_on_start_map (void *ctx)
{
    s_fields_t *fields = ctx;
    if (++fields->depth == 1)
        return 1;
    return s_container_value (fields);
}

static int
s_on_end_map (void *ctx)
{
    ((s_fields_t *) ctx)->depth--;
    return 1;
}

static int
s_on_key (void *ctx, const unsigned char *key, size_t len)
{
    s_fields_t *fields = ctx;
    fields->key = -1;
    for (size_t slot = 0; slot < S_KEYS; slot++)
        if (strlen (s_keys [slot]) == len && memcmp (s_keys [slot], key, len) == 0)
            fields->key = (int) slot;
    if (fields->key < 0 && !*fields->unknown)
        s_quote ((const char *) key, len, fields->unknown, sizeof fields->unknown);
    if (fields->key >= 0 && fields->values [fields->key].kind != S_ABSENT) {
        fields->rc = CP_EMALFORMED;
        snprintf (fields->why, sizeof fields->why, "duplicate field '%s'", s_keys [fields->key]);
        return 0;
    }
    return 1;
}

//  Keeps a value of the current key (a top-level value is not an object).
static int
s_keep (s_fields_t *fields, s_kind_t kind, const char *text, size_t len)
{
    if (fields->depth != 1) {
        fields->rc = fields->depth == 0? CP_ETYPE: CP_EMALFORMED;
        snprintf (fields->why, sizeof fields->why, fields->depth == 0
                  ? "line is not a JSON object": "line is not a flat JSON object");
        return 0;
    }
    if (fields->key < 0)
        return 1;               //  an unknown field: reported once the type is known
    s_value_t *value = &fields->values [fields->key];
    value->kind = kind;
    value->length = len;
    size_t kept = len < S_VALUE_MAX? len: S_VALUE_MAX;
    memcpy (value->text, text, kept);
    value->text [kept] = 0;
    return 1;
}

static int
s_on_string (void *ctx, const unsigned char *text, size_t len)
{
    return s_keep (ctx, S_STRING, (const char *) text, len);
}

static int
s_on_number (void *ctx, const char *text, size_t len)
{
    return s_keep (ctx, S_NUMBER, text, len);
}

static int
s_on_other (void *ctx)
{
    return s_keep (ctx, S_OTHER, "", 0);
}

static int
s_on_boolean (void *ctx, int value)
{
    (void) value;
    return s_on_other (ctx);
}

static int
s_on_start_array (void *ctx)
{
    s_fields_t *fields = ctx;
    if (fields->depth == 0) {
        fields->rc = CP_ETYPE;
        snprintf (fields->why, sizeof fields->why, "line is not a JSON object");
    }
    else
        s_container_value (fields);
    return 0;
}

static const yajl_callbacks s_callbacks = {
    .yajl_null = s_on_other,
    .yajl_boolean = s_on_boolean,
    .yajl_number = s_on_number,
    .yajl_string = s_on_string,
    .yajl_start_map = s_on_start_map,
    .yajl_map_key = s_on_key,
    .yajl_end_map = s_on_end_map,
    .yajl_start_array = s_on_start_array,
};

static const s_value_t *
s_value (const s_fields_t *fields, const char *key)
{
    for (size_t slot = 0; slot < S_KEYS; slot++)
        if (strcmp (s_keys [slot], key) == 0)
            return &fields->values [slot];
    return NULL;
}

//  A field that must be a string: 0, or CP_EMISSING / CP_ETYPE with why.
static int
s_string_field (const s_fields_t *fields, const char *key, const s_value_t **value,
                char *why, size_t why_size)
{
    *value = s_value (fields, key);
    if ((*value)->kind == S_ABSENT)
        return cp_error_why (CP_EMISSING, why, why_size, "field '%s' is missing", key);
    if ((*value)->kind != S_STRING)
        return cp_error_why (CP_ETYPE, why, why_size, "field '%s' is not a string", key);
    return 0;
}

//  "directive": the referral directive (its seq in the downlink log) that a
//  case_opened with referral central_agency takes up, read into
//  event->entry; whether the node holds such a directive is the store's
//  to check.  Returns 0 or a cp_error_t naming the field, with why.
static int
s_check_directive (const s_fields_t *fields, cp_event_t *event, char *why, size_t why_size)
{
    const s_value_t *value = s_value (fields, "directive");
    if (value->kind == S_ABSENT)
        return 0;
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (event->type != CP_EVENT_CASE_OPENED)
        return cp_error_why (CP_EUNKNOWNFIELD, why, why_size,
                             "field 'directive' does not belong to a %s event", kind->name);
    //  case_opened's third coded field is its referral.
    if (strcmp (event->codes [2], S_REFERRAL_TAKEN_UP) != 0)
        return cp_error_why (CP_EUNKNOWNFIELD, why, why_size, "field 'directive' belongs only "
                             "to a case referred by the State Agency (referral '%s'), not "
                             "'%s'", S_REFERRAL_TAKEN_UP, event->codes [2]);
    bool digits = value->kind == S_NUMBER && value->length > 0;
    for (size_t at = 0; digits && at < value->length; at++)
        digits = (value->text [at] >= '0' && value->text [at] <= '9')
              || (at == 0 && value->text [at] == '-');
    if (!digits)
        return cp_error_why (CP_ETYPE, why, why_size,
                             "field 'directive' is not a whole number");
    char shown [48];
    unsigned long long seq = value->text [0] != '-' && value->length <= S_DIRECTIVE_DIGITS
                           ? strtoull (value->text, NULL, 10): 0;
    if (seq == 0)
        return cp_error_why (CP_EBADVALUE, why, why_size, "field 'directive': %s is no "
                             "directive's number (1 and up)",
                             s_quote (value->text, value->length, shown, sizeof shown));
    event->entry = seq;
    return 0;
}

//  Checks the collected fields against the type's rules, in a fixed order:
//  type, unknown fields, id, case, date, age, codes.
static int
s_check_fields (const s_fields_t *fields, const cp_catalogue_t *catalogue, int32_t today,
                cp_event_t *event, char *why, size_t why_size)
{
    char shown [48];
    const s_value_t *value;
    int rc = s_string_field (fields, "type", &value, why, why_size);
    if (rc)
        return rc;
    event->type = (uint8_t) cp_event_type_of (value->text, value->length, false);
    if (!event->type && cp_event_type_of (value->text, value->length, true))
        return cp_error_why (CP_EBADTYPE, why, why_size, "field 'type': '%s' is a kind the "
                             "node makes itself, not one to import",
                             s_quote (value->text, value->length, shown, sizeof shown));
    if (!event->type)
        return cp_error_why (CP_EBADTYPE, why, why_size, "field 'type': '%s' is not an event type",
                      s_quote (value->text, value->length, shown, sizeof shown));
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (*fields->unknown)
        return cp_error_why (CP_EUNKNOWNFIELD, why, why_size, "field '%s' does not belong to a %s event",
                      fields->unknown, kind->name);
    for (size_t slot = S_FIRST_CODE; slot < S_KEYS; slot++) {
        bool belongs = false;
        for (int code = 0; code < kind->code_count; code++)
            belongs |= strcmp (kind->fields [code], s_keys [slot]) == 0;
        if (!belongs && fields->values [slot].kind != S_ABSENT)
            return cp_error_why (CP_EUNKNOWNFIELD, why, why_size,
                          "field '%s' does not belong to a %s event", s_keys [slot], kind->name);
    }
    if (!kind->has_age && s_value (fields, "age")->kind != S_ABSENT)
        return cp_error_why (CP_EUNKNOWNFIELD, why, why_size,
                      "field 'age' does not belong to a %s event", kind->name);

    if ((rc = s_string_field (fields, "id", &value, why, why_size))
    ||  (rc = s_set_id (event->id, "id", value->text, value->length, why, why_size))
    ||  (rc = s_string_field (fields, "case", &value, why, why_size))
    ||  (rc = s_set_id (event->case_id, "case", value->text, value->length, why, why_size))
    ||  (rc = s_string_field (fields, "date", &value, why, why_size)))
        return rc;
    if (cp_date_parse (value->text, value->length, &event->date))
        return cp_error_why (CP_EBADDATE, why, why_size,
                      "field 'date': '%s' is not a real YYYY-MM-DD date",
                      s_quote (value->text, value->length, shown, sizeof shown));
    if ((rc = s_check_date (event->date, today, why, why_size)))
        return rc;
    if (kind->has_age) {
        value = s_value (fields, "age");
        if (value->kind == S_ABSENT)
            return cp_error_why (CP_EMISSING, why, why_size, "field 'age' is missing");
        //  A whole number as JSON writes it: digits with an optional minus.
        bool whole = value->kind == S_NUMBER && value->length <= S_VALUE_MAX;
        for (size_t at = 0; whole && at < value->length; at++)
            whole = (value->text [at] >= '0' && value->text [at] <= '9')
                 || (at == 0 && value->text [at] == '-');
        if (!whole)
            return cp_error_why (CP_ETYPE, why, why_size, "field 'age' is not a whole number");
        long long age = value->length <= 4? strtoll (value->text, NULL, 10): -1;
        if (age < 0 || age > CP_AGE_MAX)
            return cp_error_why (CP_EBADAGE, why, why_size, "field 'age': %s is not 0-%d",
                          s_quote (value->text, value->length, shown, sizeof shown), CP_AGE_MAX);
        event->age = (uint8_t) age;
    }
    for (int slot = 0; slot < kind->code_count; slot++) {
        if ((rc = s_string_field (fields, kind->fields [slot], &value, why, why_size))
        ||  (rc = s_set_code (event, slot, kind->fields [slot], kind->dims [slot],
                              value->text, value->length, catalogue, why, why_size)))
            return rc;
    }
    return s_check_directive (fields, event, why, why_size);
}

int
cp_event_from_json (const char *line, size_t len, const cp_catalogue_t *catalogue,
                    int32_t today, cp_event_t *event, char *why, size_t why_size)
{
    if (len > CP_LINE_MAX)
        return cp_error_why (CP_ETOOBIG, why, why_size, "line is longer than %d bytes", CP_LINE_MAX);
    memset (event, 0, sizeof *event);
    s_fields_t fields;
    fields.depth = 0;
    fields.key = -1;
    fields.unknown [0] = 0;
    fields.rc = 0;
    for (size_t slot = 0; slot < S_KEYS; slot++)
        fields.values [slot].kind = S_ABSENT;

    yajl_handle parser = yajl_alloc (&s_callbacks, NULL, &fields);
    assert (parser);
    yajl_status status = yajl_parse (parser, (const unsigned char *) line, len);
    if (status == yajl_status_ok)
        status = yajl_complete_parse (parser);
    int rc = 0;
    if (status == yajl_status_client_canceled)
        rc = cp_error_why (fields.rc, why, why_size, "%s", fields.why);
    else
    if (status != yajl_status_ok) {
        //  yajl's message can quote the offending bytes: keep them printable.
        unsigned char *message = yajl_get_error (parser, 0, NULL, 0);
        char shown [160];
        const char *text = message? (const char *) message: "parse error";
        rc = cp_error_why (CP_EMALFORMED, why, why_size, "not JSON: %s",
                    s_quote (text, strcspn (text, "\n"), shown, sizeof shown));
        yajl_free_error (parser, message);
    }
    yajl_free (parser);
    if (rc == 0)
        rc = s_check_fields (&fields, catalogue, today, event, why, why_size);
    return rc;
}

int
cp_event_resolve (cp_event_t *event, const cp_catalogue_t *catalogue,
                  char *why, size_t why_size)
{
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (!kind)
        return cp_error_why (CP_EBADTYPE, why, why_size, "event type %d is not a type", event->type);
    if (!cp_event_id_valid (event->id, strnlen (event->id, CP_ID_MAX + 1)))
        return cp_error_why (CP_EBADID, why, why_size, "field 'id' is not a valid id");
    if (kind->own) {
        int rc = cp_event_own_check (event, why, why_size);
        if (rc == 0 && (event->date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
                    ||  event->date > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31)))
            rc = cp_error_why (CP_EDATERANGE, why, why_size, "field 'date' is out of %d-%d",
                               CP_DATE_MIN_YEAR, CP_DATE_MAX_YEAR);
        return rc;
    }
    if (!cp_event_id_valid (event->case_id, strnlen (event->case_id, CP_ID_MAX + 1)))
        return cp_error_why (CP_EBADID, why, why_size, "field 'case' is not a valid pseudonym");
    if (event->date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1))
        return cp_error_why (CP_EDATERANGE, why, why_size, "field 'date' is before 2000-01-01");
    if (event->date > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31))
        return cp_error_why (CP_EDATERANGE, why, why_size, "field 'date' is after %d", CP_DATE_MAX_YEAR);
    if (kind->has_age && event->age > CP_AGE_MAX)
        return cp_error_why (CP_EBADAGE, why, why_size, "field 'age': %d is not 0-%d",
                      event->age, CP_AGE_MAX);
    for (int slot = 0; slot < kind->code_count; slot++) {
        size_t len = strnlen (event->codes [slot], CP_CODE_MAX + 1);
        int rc = s_set_code (event, slot, kind->fields [slot], kind->dims [slot],
                             event->codes [slot], len, catalogue, why, why_size);
        if (rc)
            return rc;
    }
    return 0;
}
