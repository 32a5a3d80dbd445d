/*  cp_event: the event types and reading an event from a JSON line.

    Parsing uses jansson with duplicate keys rejected, then walks the object's
    keys once: every key must be one the type has, every required key must be
    there, and each value must have the exact JSON type (an age of 14.0 or
    "14" is refused, not coerced).  Messages quote at most a short, printable
    prefix of a bad value, so a hostile line cannot flood the terminal.       */

#include "cp_event.h"
#include "cp_date.h"
#include "cp_error.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const cp_event_kind_t s_kinds [CP_EVENT_TYPE_MAX + 1] = {
    [CP_EVENT_CASE_OPENED] = {"case_opened", true, 3,
        {"sex", "ethnicity", "referral"}, {CP_DIM_SEX, CP_DIM_ETHNICITY, CP_DIM_REFERRAL}},
    [CP_EVENT_RISK_ASSESSED] = {"risk_assessed", false, 1, {"level"}, {CP_DIM_RISK}},
    [CP_EVENT_PROBLEM_SET] = {"problem_set", false, 1, {"problem"}, {CP_DIM_PROBLEM}},
    [CP_EVENT_HOME_VISIT] = {"home_visit", false, 0, {NULL}, {0}},
    [CP_EVENT_MEASURE_TAKEN] = {"measure_taken", false, 1, {"measure"}, {CP_DIM_MEASURE}},
    [CP_EVENT_MEASURE_CONFIRMED] = {"measure_confirmed", false, 1, {"measure"}, {CP_DIM_MEASURE}},
    [CP_EVENT_SCHOOL_IDENTIFIED] = {"school_identified", false, 1, {"category"}, {CP_DIM_SCHOOL}},
    [CP_EVENT_CASE_CLOSED] = {"case_closed", false, 1, {"reason"}, {CP_DIM_CLOSE_REASON}},
};

const cp_event_kind_t *
cp_event_kind (int type)
{
    if (type < 1 || type > CP_EVENT_TYPE_MAX)
        return NULL;
    return &s_kinds [type];
}

int
cp_event_type_of (const char *text, size_t len)
{
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++)
        if (strlen (s_kinds [type].name) == len && memcmp (s_kinds [type].name, text, len) == 0)
            return type;
    return 0;
}

bool
cp_event_id_valid (const char *text, size_t len)
{
    if (len < 1 || len > CP_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        ||    c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

//  Writes a message into why and returns code.
static int
s_why (int code, char *why, size_t why_size, const char *format, ...)
{
    if (why && why_size) {
        va_list args;
        va_start (args, format);
        vsnprintf (why, why_size, format, args);
        va_end (args);
    }
    return code;
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
    if (id < 0)
        return s_why (CP_EBADCODE, why, why_size,
                      "field '%s': '%s' is not a %s code of catalogue %d", field,
                      s_quote (value, len, shown, sizeof shown), cp_dim_name (dim),
                      cp_catalogue_version (catalogue));
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
        return s_why (CP_EBADID, why, why_size,
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
    return s_why (CP_EDATERANGE, why, why_size, early? "field 'date': '%s' is before 2000-01-01"
                                                     : "field 'date': '%s' is in the future",
                  text);
}

//  The body of cp_event_from_json, once the line has parsed as JSON.
static int
s_from_object (json_t *root, const cp_catalogue_t *catalogue, int32_t today,
               cp_event_t *event, char *why, size_t why_size)
{
    char shown [48];
    if (!json_is_object (root))
        return s_why (CP_ETYPE, why, why_size, "line is not a JSON object");

    json_t *type = json_object_get (root, "type");
    if (!type)
        return s_why (CP_EMISSING, why, why_size, "field 'type' is missing");
    if (!json_is_string (type))
        return s_why (CP_ETYPE, why, why_size, "field 'type' is not a string");
    const char *type_name = json_string_value (type);
    size_t type_len = json_string_length (type);
    event->type = (uint8_t) cp_event_type_of (type_name, type_len);
    if (!event->type)
        return s_why (CP_EBADTYPE, why, why_size, "field 'type': '%s' is not an event type",
                      s_quote (type_name, type_len, shown, sizeof shown));
    const cp_event_kind_t *kind = cp_event_kind (event->type);

    //  One pass over the keys: each must belong to the type.
    unsigned seen = 0;          //  bit per field: id, case, date, age, codes...
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        int rc = 0;
        if (strcmp (key, "type") == 0)
            continue;
        if (strcmp (key, "id") == 0 || strcmp (key, "case") == 0) {
            if (!json_is_string (value))
                return s_why (CP_ETYPE, why, why_size, "field '%s' is not a string", key);
            bool is_id = key [0] == 'i';
            rc = s_set_id (is_id? event->id: event->case_id, key, json_string_value (value),
                           json_string_length (value), why, why_size);
            seen |= is_id? 1u: 2u;
        }
        else
        if (strcmp (key, "date") == 0) {
            if (!json_is_string (value))
                return s_why (CP_ETYPE, why, why_size, "field 'date' is not a string");
            const char *text = json_string_value (value);
            size_t len = json_string_length (value);
            if (cp_date_parse (text, len, &event->date))
                return s_why (CP_EBADDATE, why, why_size,
                              "field 'date': '%s' is not a real YYYY-MM-DD date",
                              s_quote (text, len, shown, sizeof shown));
            rc = s_check_date (event->date, today, why, why_size);
            seen |= 4u;
        }
        else
        if (strcmp (key, "age") == 0 && kind->has_age) {
            if (!json_is_integer (value))
                return s_why (CP_ETYPE, why, why_size, "field 'age' is not a whole number");
            json_int_t age = json_integer_value (value);
            if (age < 0 || age > CP_AGE_MAX)
                return s_why (CP_EBADAGE, why, why_size, "field 'age': %lld is not 0-%d",
                              (long long) age, CP_AGE_MAX);
            event->age = (uint8_t) age;
            seen |= 8u;
        }
        else {
            int slot = 0;
            while (slot < kind->code_count && strcmp (kind->fields [slot], key) != 0)
                slot++;
            if (slot == kind->code_count)
                return s_why (CP_EUNKNOWNFIELD, why, why_size,
                              "field '%s' does not belong to a %s event",
                              s_quote (key, strlen (key), shown, sizeof shown), kind->name);
            if (!json_is_string (value))
                return s_why (CP_ETYPE, why, why_size, "field '%s' is not a string", key);
            rc = s_set_code (event, slot, key, kind->dims [slot], json_string_value (value),
                             json_string_length (value), catalogue, why, why_size);
            seen |= 16u << slot;
        }
        if (rc)
            return rc;
    }
    static const char *const fixed [] = {"id", "case", "date", "age"};
    for (int bit = 0; bit < 4; bit++)
        if (!(seen & (1u << bit)) && (bit < 3 || kind->has_age))
            return s_why (CP_EMISSING, why, why_size, "field '%s' is missing", fixed [bit]);
    for (int slot = 0; slot < kind->code_count; slot++)
        if (!(seen & (16u << slot)))
            return s_why (CP_EMISSING, why, why_size, "field '%s' is missing",
                          kind->fields [slot]);
    return 0;
}

int
cp_event_from_json (const char *line, size_t len, const cp_catalogue_t *catalogue,
                    int32_t today, cp_event_t *event, char *why, size_t why_size)
{
    if (len > CP_LINE_MAX)
        return s_why (CP_ETOOBIG, why, why_size, "line is longer than %d bytes", CP_LINE_MAX);
    memset (event, 0, sizeof *event);
    json_error_t error;
    json_t *root = json_loadb (line, len, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        //  jansson quotes the offending bytes: keep control characters off the terminal.
        char shown [JSON_ERROR_TEXT_LENGTH];
        return s_why (CP_EMALFORMED, why, why_size, "not JSON: %s (column %d)",
                      s_quote (error.text, strlen (error.text), shown, sizeof shown),
                      error.column);
    }
    int rc = s_from_object (root, catalogue, today, event, why, why_size);
    json_decref (root);
    return rc;
}

int
cp_event_resolve (cp_event_t *event, const cp_catalogue_t *catalogue,
                  char *why, size_t why_size)
{
    const cp_event_kind_t *kind = cp_event_kind (event->type);
    if (!kind)
        return s_why (CP_EBADTYPE, why, why_size, "event type %d is not a type", event->type);
    if (!cp_event_id_valid (event->id, strnlen (event->id, CP_ID_MAX + 1)))
        return s_why (CP_EBADID, why, why_size, "field 'id' is not a valid id");
    if (!cp_event_id_valid (event->case_id, strnlen (event->case_id, CP_ID_MAX + 1)))
        return s_why (CP_EBADID, why, why_size, "field 'case' is not a valid pseudonym");
    if (event->date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1))
        return s_why (CP_EDATERANGE, why, why_size, "field 'date' is before 2000-01-01");
    if (event->date > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31))
        return s_why (CP_EDATERANGE, why, why_size, "field 'date' is after %d", CP_DATE_MAX_YEAR);
    if (kind->has_age && event->age > CP_AGE_MAX)
        return s_why (CP_EBADAGE, why, why_size, "field 'age': %d is not 0-%d",
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
