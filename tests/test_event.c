/*  test_event: cp_event_from_json against every rule of docs/events.md's table
    that needs no history, each with its exact error code and a message that
    names the field (and the value where there is one).

    Lines are built from one valid template per event type, with a field
    left out, replaced or added, so every rule is tried on every type it
    applies to.  "Today" is passed in directly (2022-06-30), except in the
    one test that checks CPSYNC_TODAY.                                        */

#include "cp_date.h"
#include "cp_error.h"
#include "cp_event.h"
#include "testing.h"

#define S_LINE_SIZE 8192

typedef struct {
    const char *key;
    const char *value;          //  raw JSON text
} s_field_t;

//  One valid event per type, index = cp_event_type_t; "type" is added.
static const s_field_t s_templates [CP_EVENT_TYPE_MAX + 1][9] = {
    [CP_EVENT_CASE_OPENED] = {{"id", "\"e-1\""}, {"case", "\"c-17\""}, {"date", "\"2022-03-14\""},
        {"age", "14"}, {"sex", "\"F\""}, {"ethnicity", "\"roma\""}, {"referral", "\"police\""}},
    [CP_EVENT_RISK_ASSESSED] = {{"id", "\"e-2\""}, {"case", "\"c-17\""},
        {"date", "\"2022-03-15\""}, {"level", "\"medium\""}},
    [CP_EVENT_PROBLEM_SET] = {{"id", "\"e-3\""}, {"case", "\"c-17\""},
        {"date", "\"2022-03-15\""}, {"problem", "\"psychological_violence\""}},
    [CP_EVENT_HOME_VISIT] = {{"id", "\"e-4\""}, {"case", "\"c-17\""}, {"date", "\"2022-04-02\""}},
    [CP_EVENT_MEASURE_TAKEN] = {{"id", "\"e-5\""}, {"case", "\"c-17\""},
        {"date", "\"2022-04-20\""}, {"measure", "\"emergency_removal\""}},
    [CP_EVENT_MEASURE_CONFIRMED] = {{"id", "\"e-6\""}, {"case", "\"c-17\""},
        {"date", "\"2022-05-03\""}, {"measure", "\"emergency_removal\""}},
    [CP_EVENT_SCHOOL_IDENTIFIED] = {{"id", "\"e-7\""}, {"case", "\"c-17\""},
        {"date", "\"2022-06-01\""}, {"category", "\"dropout_risk\""}},
    [CP_EVENT_CASE_CLOSED] = {{"id", "\"e-8\""}, {"case", "\"c-17\""},
        {"date", "\"2022-06-30\""}, {"reason", "\"risk_reduced\""}},
};

//  Every coded field of any type, with a value valid for its own dimension.
static const s_field_t s_coded [] = {
    {"age", "14"}, {"sex", "\"F\""}, {"ethnicity", "\"roma\""}, {"referral", "\"police\""},
    {"level", "\"low\""}, {"problem", "\"neglect\""}, {"measure", "\"alternative_care\""},
    {"category", "\"first_grade\""}, {"reason", "\"death\""},
};
#define S_CODED_COUNT (sizeof s_coded / sizeof s_coded [0])

static cp_catalogue_t *s_catalogues [3];   //  versions 1 and 2, made on first use

//  The built-in catalogue of a version; every test may run alone.
static const cp_catalogue_t *
s_catalogue (int version)
{
    if (!s_catalogues [version])
        s_catalogues [version] = cp_catalogue_new_builtin (version);
    if (!s_catalogues [version]) {
        fprintf (stderr, "  built-in catalogue %d does not load\n", version);
        exit (1);
    }
    return s_catalogues [version];
}

#define S_V1 (s_catalogue (1))
#define S_V2 (s_catalogue (2))
#define S_TODAY (cp_date_from_civil (2022, 6, 30))

//  Builds the line of a type's template: without field omit, with field
//  key set to value (replaced in place, or added at the end).  Either may
//  be NULL.  Returns buf.
static char *
s_build (char *buf, int type, const char *omit, const char *key, const char *value)
{
    const s_field_t *fields = s_templates [type];
    size_t used = (size_t) snprintf (buf, S_LINE_SIZE, "{");
    bool first = true, placed = false;
    if (!omit || strcmp (omit, "type") != 0) {
        bool replace = key && strcmp (key, "type") == 0;
        used += (size_t) snprintf (buf + used, S_LINE_SIZE - used, "\"type\":%s%s%s",
                                   replace? "": "\"", replace? value: cp_event_kind (type)->name,
                                   replace? "": "\"");
        placed |= replace;
        first = false;
    }
    for (int index = 0; index < 9 && fields [index].key; index++) {
        if (omit && strcmp (omit, fields [index].key) == 0)
            continue;
        bool replace = key && strcmp (key, fields [index].key) == 0;
        used += (size_t) snprintf (buf + used, S_LINE_SIZE - used, "%s\"%s\":%s",
                                   first? "": ",", fields [index].key,
                                   replace? value: fields [index].value);
        placed |= replace;
        first = false;
    }
    if (key && !placed)
        used += (size_t) snprintf (buf + used, S_LINE_SIZE - used, "%s\"%s\":%s",
                                   first? "": ",", key, value);
    snprintf (buf + used, S_LINE_SIZE - used, "}");
    return buf;
}

//  Parses line and checks the result code and that the message holds both
//  parts (either may be NULL).  `at` is the caller's line, for the report.
static void
s_expect (int at, const char *line, const cp_catalogue_t *catalogue, int32_t today,
          int code, const char *part1, const char *part2)
{
    cp_event_t event;
    char why [256] = "";
    int rc = cp_event_from_json (line, strlen (line), catalogue, today, &event, why, sizeof why);
    bool ok = rc == code
           && (code == 0 || strlen (why) > 0)
           && (!part1 || strstr (why, part1))
           && (!part2 || strstr (why, part2));
    if (!ok) {
        fprintf (stderr, "  line %d: %.200s\n    gave %d (%s) \"%s\", expected %d%s%s%s%s\n", at,
                 line, rc, cp_strerror (rc), why, code, part1? " with '": "", part1? part1: "",
                 part2? "' and '": "", part2? part2: "");
        testing_failures_++;
    }
}

#define EXPECT(line, code, part1, part2) \
    s_expect (__LINE__, (line), S_V1, S_TODAY, (code), (part1), (part2))
#define EXPECT_V2(line, code, part1, part2) \
    s_expect (__LINE__, (line), S_V2, S_TODAY, (code), (part1), (part2))

//  Each template parses, and the event carries what the line said.
static void
test_valid_templates (void)
{
    char line [S_LINE_SIZE];
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        s_build (line, type, NULL, NULL, NULL);
        EXPECT (line, 0, NULL, NULL);
    }
    cp_event_t event;
    char why [256] = "";
    s_build (line, CP_EVENT_CASE_OPENED, NULL, NULL, NULL);
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, why,
                                      sizeof why), 0);
    CHECK_EQ_INT (event.type, CP_EVENT_CASE_OPENED);
    CHECK (strcmp (event.id, "e-1") == 0);
    CHECK (strcmp (event.case_id, "c-17") == 0);
    CHECK_EQ_INT (event.date, cp_date_from_civil (2022, 3, 14));
    CHECK_EQ_INT (event.age, 14);
    CHECK (strcmp (event.codes [0], "F") == 0);
    CHECK (strcmp (event.codes [1], "roma") == 0);
    CHECK (strcmp (event.codes [2], "police") == 0);
    CHECK_EQ_INT (event.code_ids [0], 0);
    CHECK_EQ_INT (event.code_ids [1], 0);
    CHECK_EQ_INT (event.code_ids [2], 1);

    s_build (line, CP_EVENT_SCHOOL_IDENTIFIED, NULL, NULL, NULL);
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, why,
                                      sizeof why), 0);
    CHECK_EQ_INT (event.type, CP_EVENT_SCHOOL_IDENTIFIED);
    CHECK (strcmp (event.codes [0], "dropout_risk") == 0);
    CHECK_EQ_INT (event.code_ids [0], cp_catalogue_lookup (S_V1, CP_DIM_SCHOOL, "dropout_risk", 12));

    //  The docs/events.md example, byte for byte.
    const char *example = "{\"id\":\"e-000001\",\"type\":\"case_opened\",\"case\":\"c-17\","
                          "\"date\":\"2022-03-14\",\"age\":14,\"sex\":\"F\",\"ethnicity\":\"roma\","
                          "\"referral\":\"police\"}";
    EXPECT (example, 0, NULL, NULL);
    //  Key order and white space do not matter.
    EXPECT ("  { \"referral\" : \"police\", \"ethnicity\":\"roma\",\"sex\":\"M\",\"age\":0,"
            "\"date\":\"2022-03-14\",\"case\":\"c\",\"type\":\"case_opened\",\"id\":\"x\" }  ",
            0, NULL, NULL);
}

static void
test_malformed_json (void)
{
    EXPECT ("{\"id\":", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("   ", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("{'id':'e'}", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("{\"id\":\"e\",}", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("{\"id\":\"e\"} {\"id\":\"f\"}", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("{\"id\":\"e\"} x", CP_EMALFORMED, "not JSON", NULL);
    EXPECT ("\xff\xfe{}", CP_EMALFORMED, "not JSON", NULL);
    //  len counts, not the NUL: a cut line does not parse.
    char line [S_LINE_SIZE];
    s_build (line, CP_EVENT_HOME_VISIT, NULL, NULL, NULL);
    cp_event_t event;
    char why [256] = "";
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line) - 1, S_V1, S_TODAY, &event, why,
                                      sizeof why), CP_EMALFORMED);
    //  An embedded NUL escape is refused, not truncated.
    s_build (line, CP_EVENT_HOME_VISIT, NULL, "id", "\"a\\u0000b\"");
    CHECK (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, why, sizeof why) != 0);
}

static void
test_not_object (void)
{
    EXPECT ("[1, 2]", CP_ETYPE, "not a JSON object", NULL);
    EXPECT ("[{\"id\":\"e-1\"}]", CP_ETYPE, "not a JSON object", NULL);
    //  Bare values: jansson refuses them as documents, or they are not objects.
    static const char *const bare [] = {"42", "\"case_opened\"", "null", "true"};
    for (size_t index = 0; index < 4; index++) {
        cp_event_t event;
        char why [256] = "";
        int rc = cp_event_from_json (bare [index], strlen (bare [index]), S_V1, S_TODAY,
                                     &event, why, sizeof why);
        CHECK (rc == CP_EMALFORMED || rc == CP_ETYPE);
        CHECK (strlen (why) > 0);
    }
}

static void
test_missing_fields (void)
{
    char line [S_LINE_SIZE], wanted [64];
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        EXPECT (s_build (line, type, "type", NULL, NULL), CP_EMISSING, "field 'type' is missing",
                NULL);
        for (int index = 0; index < 9 && s_templates [type][index].key; index++) {
            const char *key = s_templates [type][index].key;
            snprintf (wanted, sizeof wanted, "field '%s' is missing", key);
            EXPECT (s_build (line, type, key, NULL, NULL), CP_EMISSING, wanted, NULL);
        }
    }
    EXPECT ("{}", CP_EMISSING, "field 'type' is missing", NULL);
    EXPECT ("{\"type\":\"home_visit\"}", CP_EMISSING, "is missing", NULL);
}

static void
test_unknown_fields (void)
{
    char line [S_LINE_SIZE], wanted [128];
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        const cp_event_kind_t *kind = cp_event_kind (type);
        snprintf (wanted, sizeof wanted, "does not belong to a %s event", kind->name);
        EXPECT (s_build (line, type, NULL, "note", "\"x\""), CP_EUNKNOWNFIELD, "field 'note'",
                wanted);
        EXPECT (s_build (line, type, NULL, "name", "\"Arben\""), CP_EUNKNOWNFIELD, "field 'name'",
                wanted);
        EXPECT (s_build (line, type, NULL, "ID", "\"x\""), CP_EUNKNOWNFIELD, "field 'ID'", wanted);
        //  A field that belongs to another type.
        for (size_t coded = 0; coded < S_CODED_COUNT; coded++) {
            const char *key = s_coded [coded].key;
            bool own = false;
            for (int index = 0; index < 9 && s_templates [type][index].key; index++)
                own |= strcmp (s_templates [type][index].key, key) == 0;
            if (own)
                continue;
            char field [64];
            snprintf (field, sizeof field, "field '%s'", key);
            EXPECT (s_build (line, type, NULL, key, s_coded [coded].value), CP_EUNKNOWNFIELD,
                    field, wanted);
        }
    }
    //  The example of the brief: a risk level on a home visit.
    EXPECT ("{\"id\":\"e\",\"type\":\"home_visit\",\"case\":\"c\",\"date\":\"2022-01-01\","
            "\"level\":\"low\"}", CP_EUNKNOWNFIELD, "field 'level'", "home_visit");
    //  A hostile key is quoted printable and short.
    cp_event_t event;
    char why [256] = "";
    s_build (line, CP_EVENT_HOME_VISIT, NULL,
             "\\u0007\\u001bxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "1");
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, why, sizeof why),
                  CP_EUNKNOWNFIELD);
    CHECK (!strchr (why, '\007') && !strchr (why, '\033'));
    CHECK (strlen (why) < 120);
}

static void
test_wrong_json_types (void)
{
    char line [S_LINE_SIZE], wanted [64];
    static const char *const not_strings [] = {"5", "true", "null", "[]", "{}", "1.5", "[\"x\"]"};
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        for (size_t value = 0; value < sizeof not_strings / sizeof not_strings [0]; value++) {
            EXPECT (s_build (line, type, NULL, "type", not_strings [value]), CP_ETYPE,
                    "field 'type' is not a string", NULL);
            for (int index = 0; index < 9 && s_templates [type][index].key; index++) {
                const char *key = s_templates [type][index].key;
                if (strcmp (key, "age") == 0)
                    continue;
                snprintf (wanted, sizeof wanted, "field '%s' is not a string", key);
                EXPECT (s_build (line, type, NULL, key, not_strings [value]), CP_ETYPE, wanted,
                        NULL);
            }
        }
    }
    static const char *const not_whole [] = {"\"14\"", "14.5", "14.0", "1e1", "true", "null",
                                             "[14]", "{}"};
    for (size_t value = 0; value < sizeof not_whole / sizeof not_whole [0]; value++)
        EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", not_whole [value]), CP_ETYPE,
                "field 'age' is not a whole number", NULL);
    EXPECT (s_build (line, CP_EVENT_RISK_ASSESSED, NULL, "date", "20220101"), CP_ETYPE,
            "field 'date' is not a string", NULL);
}

//  id and case: 1-64 characters of [A-Za-z0-9_.:-].
static void
test_identifiers (void)
{
    char line [S_LINE_SIZE], value [128], sixty_four [CP_ID_MAX + 1];
    memset (sixty_four, 'a', CP_ID_MAX);
    sixty_four [CP_ID_MAX] = 0;
    static const char *const fields [] = {"id", "case"};
    for (int field = 0; field < 2; field++) {
        const char *key = fields [field];
        char named [32];
        snprintf (named, sizeof named, "field '%s'", key);
        for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
            snprintf (value, sizeof value, "\"%s\"", sixty_four);
            EXPECT (s_build (line, type, NULL, key, value), 0, NULL, NULL);
            snprintf (value, sizeof value, "\"%sb\"", sixty_four);
            EXPECT (s_build (line, type, NULL, key, value), CP_EBADID, named, "aaaaaaaaaaaaaaaa");
            EXPECT (s_build (line, type, NULL, key, "\"\""), CP_EBADID, named, NULL);
        }
        static const struct { const char *json, *shown; } bad [] = {
            {"\"a b\"", "'a b'"}, {"\"caf\\u00e9\"", "'caf"}, {"\"café\"", "'caf"},
            {"\"a/b\"", "'a/b'"}, {"\"a,b\"", "'a,b'"}, {"\"a#b\"", "'a#b'"},
            {"\"a\\tb\"", "'a?b'"}, {"\"a\\nb\"", "'a?b'"}, {"\" a\"", "' a'"},
            {"\"a+b\"", "'a+b'"}, {"\"\\u0410\"", "'"}, {"\"x@y\"", "'x@y'"},
        };
        for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++)
            EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, key, bad [index].json), CP_EBADID,
                    named, bad [index].shown);
        static const char *const good [] = {"\"a\"", "\"Az09_.:-\"", "\"-\"", "\"c-17.2:x_Y\"",
                                            "\"0\""};
        for (size_t index = 0; index < sizeof good / sizeof good [0]; index++)
            EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, key, good [index]), 0, NULL, NULL);
    }
    //  The helper agrees.
    CHECK (cp_event_id_valid ("a", 1));
    CHECK (cp_event_id_valid (sixty_four, 64));
    CHECK (!cp_event_id_valid ("", 0));
    CHECK (!cp_event_id_valid ("ab", 0));
    CHECK (!cp_event_id_valid ("a b", 3));
    CHECK (cp_event_id_valid ("a b", 1));
    memset (value, 'a', 65);
    CHECK (!cp_event_id_valid (value, 65));
}

static void
test_dates (void)
{
    char line [S_LINE_SIZE];
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        EXPECT (s_build (line, type, NULL, "date", "\"2022-02-30\""), CP_EBADDATE, "field 'date'",
                "'2022-02-30'");
        EXPECT (s_build (line, type, NULL, "date", "\"1999-12-31\""), CP_EDATERANGE,
                "field 'date'", "1999-12-31");
        EXPECT (s_build (line, type, NULL, "date", "\"2000-01-01\""), 0, NULL, NULL);
        //  today + 1 is allowed (clocks and time zones), today + 2 is not.
        EXPECT (s_build (line, type, NULL, "date", "\"2022-06-30\""), 0, NULL, NULL);
        EXPECT (s_build (line, type, NULL, "date", "\"2022-07-01\""), 0, NULL, NULL);
        EXPECT (s_build (line, type, NULL, "date", "\"2022-07-02\""), CP_EDATERANGE,
                "field 'date'", "2022-07-02");
    }
    static const char *const bad [] = {
        "\"2022-1-01\"", "\"2022-01-1\"", "\"20220101\"", "\"2022-13-01\"", "\"2022-04-31\"",
        "\"2023-02-29\"", "\"abcd-ef-gh\"", "\"\"", "\"2022-01-01T00:00\"", "\"2022/01/01\"",
        "\"0000-00-00\"", "\"2022-01-01 \"",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++)
        EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", bad [index]), CP_EBADDATE,
                "field 'date'", "not a real");
    EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"1900-06-15\""), CP_EDATERANGE,
            "field 'date'", "before 2000-01-01");
    EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"2000-02-29\""), 0, NULL, NULL);
    //  Whatever the clock says, nothing after 2099.
    int32_t far = cp_date_from_civil (2099, 12, 31);
    s_expect (__LINE__, s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"2099-12-31\""),
              S_V1, far, 0, NULL, NULL);
    s_expect (__LINE__, s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"2100-01-01\""),
              S_V1, far, CP_EDATERANGE, "field 'date'", "2100-01-01");
    s_expect (__LINE__, s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"9999-12-31\""),
              S_V1, far + 5000000, CP_EDATERANGE, "field 'date'", NULL);
}

//  "Today" from CPSYNC_TODAY, as the node's import does it.
static void
test_today_from_environment (void)
{
    char line [S_LINE_SIZE];
    setenv ("CPSYNC_TODAY", "2021-02-28", 1);
    int32_t today = cp_date_today ();
    CHECK_EQ_INT (today, cp_date_from_civil (2021, 2, 28));
    s_expect (__LINE__, s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"2021-03-01\""),
              S_V1, today, 0, NULL, NULL);
    s_expect (__LINE__, s_build (line, CP_EVENT_HOME_VISIT, NULL, "date", "\"2021-03-02\""),
              S_V1, today, CP_EDATERANGE, "field 'date'", "2021-03-02");
    unsetenv ("CPSYNC_TODAY");
}

static void
test_ages (void)
{
    char line [S_LINE_SIZE];
    for (int age = 0; age <= 18; age++) {
        char value [8];
        snprintf (value, sizeof value, "%d", age);
        EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", value), 0, NULL, NULL);
    }
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "-1"), CP_EBADAGE, "field 'age'",
            "-1");
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "19"), CP_EBADAGE, "field 'age'",
            "19");
    //  Values that would wrap in a byte.
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "256"), CP_EBADAGE, "field 'age'",
            "256");
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "270"), CP_EBADAGE, "field 'age'",
            "270");
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "99999999999"), CP_EBADAGE,
            "field 'age'", "99999999999");
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "-9223372036854775808"), CP_EBADAGE,
            "field 'age'", NULL);
    //  Beyond 64 bits jansson refuses the number itself.
    cp_event_t event;
    char why [256] = "";
    s_build (line, CP_EVENT_CASE_OPENED, NULL, "age", "100000000000000000000000");
    CHECK (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, why, sizeof why) != 0);
}

static void
test_types (void)
{
    char line [S_LINE_SIZE];
    static const char *const bad [] = {"\"case_reopened\"", "\"\"", "\"CASE_OPENED\"",
                                       "\"case_opened \"", "\"home-visit\"", "\"case\""};
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++)
        EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, "type", bad [index]), CP_EBADTYPE,
                "field 'type'", "not an event type");
    EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, "type", "\"case_reopened\""), CP_EBADTYPE,
            "field 'type'", "'case_reopened'");

    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        const char *name = cp_event_kind (type)->name;
        CHECK_EQ_INT (cp_event_type_of (name, strlen (name), false), type);
    }
    CHECK_EQ_INT (cp_event_type_of ("home_visits", 11, false), 0);
    CHECK_EQ_INT (cp_event_type_of ("home_visits", 10, false), CP_EVENT_HOME_VISIT);
    CHECK (cp_event_kind (0) == NULL);
    CHECK (cp_event_kind (CP_EVENT_TYPE_MAX + 1) == NULL);
    CHECK (cp_event_kind (-1) == NULL);
    //  The node's own kinds are its own to make: import names them so.
    for (int type = CP_EVENT_OWN_FIRST; type <= CP_EVENT_OWN_MAX; type++) {
        const char *name = cp_event_kind (type)->name;
        CHECK_EQ_INT (cp_event_type_of (name, strlen (name), false), 0);
        CHECK_EQ_INT (cp_event_type_of (name, strlen (name), true), type);
    }
    CHECK (cp_event_kind (CP_EVENT_OWN_FIRST - 1) == NULL);
    CHECK (cp_event_kind (CP_EVENT_OWN_MAX + 1) == NULL);
    EXPECT (s_build (line, CP_EVENT_HOME_VISIT, NULL, "type", "\"staff_set\""), CP_EBADTYPE,
            "field 'type'", "'staff_set' is a kind the node makes itself, not one to import");
}

static void
test_unknown_codes (void)
{
    char line [S_LINE_SIZE];
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        const cp_event_kind_t *kind = cp_event_kind (type);
        for (int slot = 0; slot < kind->code_count; slot++) {
            char field [64], wanted [128];
            snprintf (field, sizeof field, "field '%s': 'nonsense'", kind->fields [slot]);
            snprintf (wanted, sizeof wanted, "not a %s code of catalogue 1",
                      cp_dim_name (kind->dims [slot]));
            EXPECT (s_build (line, type, NULL, kind->fields [slot], "\"nonsense\""),
                    CP_EBADCODE, field, wanted);
            //  Codes are case-sensitive and belong to one dimension.
            snprintf (field, sizeof field, "field '%s'", kind->fields [slot]);
            EXPECT (s_build (line, type, NULL, kind->fields [slot], "\"OTHER\""), CP_EBADCODE,
                    field, "'OTHER'");
            EXPECT (s_build (line, type, NULL, kind->fields [slot], "\"\""), CP_EBADCODE, field,
                    NULL);
            EXPECT (s_build (line, type, NULL, kind->fields [slot],
                             "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""),
                    CP_EBADCODE, field, "xxxxxxxxxx");
        }
    }
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "sex", "\"f\""), CP_EBADCODE,
            "field 'sex'", "'f'");
    EXPECT (s_build (line, CP_EVENT_CASE_OPENED, NULL, "sex", "\"police\""), CP_EBADCODE,
            "field 'sex'", "'police'");
    EXPECT (s_build (line, CP_EVENT_RISK_ASSESSED, NULL, "level", "\"high \""), CP_EBADCODE,
            "field 'level'", "'high '");
    //  Every code of every dimension is accepted in its field.
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++) {
        const cp_event_kind_t *kind = cp_event_kind (type);
        for (int slot = 0; slot < kind->code_count; slot++)
            for (int id = 0; id < cp_catalogue_count (S_V2, kind->dims [slot]); id++) {
                char value [64];
                snprintf (value, sizeof value, "\"%s\"",
                          cp_catalogue_code (S_V2, kind->dims [slot], id));
                s_build (line, type, NULL, kind->fields [slot], value);
                cp_event_t event;
                char why [256] = "";
                int rc = cp_event_from_json (line, strlen (line), S_V2, S_TODAY, &event, why,
                                             sizeof why);
                CHECK_EQ_INT (rc, 0);
                CHECK_EQ_INT (event.code_ids [slot], id);
            }
    }
}

//  A code of catalogue 2 is refused under catalogue 1 and accepted under 2.
static void
test_catalogue_versions (void)
{
    char line [S_LINE_SIZE];
    static const struct { int type; const char *field, *value; int id; } added [] = {
        {CP_EVENT_PROBLEM_SET, "problem", "unaccompanied_foreign_child", 13},
        {CP_EVENT_PROBLEM_SET, "problem", "child_labour", 14},
        {CP_EVENT_CASE_OPENED, "referral", "central_agency", 14},
    };
    for (size_t index = 0; index < 3; index++) {
        char value [64], field [64];
        snprintf (value, sizeof value, "\"%s\"", added [index].value);
        snprintf (field, sizeof field, "field '%s': '%s'", added [index].field,
                  added [index].value);
        s_build (line, added [index].type, NULL, added [index].field, value);
        //  The message names the revision that brings the code.
        EXPECT (line, CP_EBADCODE, field, "comes with catalogue revision 2, which this node "
                "has not applied (it has catalogue 1)");
        EXPECT_V2 (line, 0, NULL, NULL);
        cp_event_t event;
        char why [256] = "";
        CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V2, S_TODAY, &event, why,
                                          sizeof why), 0);
        int slot = added [index].type == CP_EVENT_CASE_OPENED? 2: 0;
        CHECK_EQ_INT (event.code_ids [slot], added [index].id);
        CHECK (strcmp (event.codes [slot], added [index].value) == 0);
    }
}

static void
test_duplicate_keys (void)
{
    char line [S_LINE_SIZE];
    for (int type = 1; type <= CP_EVENT_TYPE_MAX; type++)
        for (int index = 0; index < 9 && s_templates [type][index].key; index++) {
            //  The same key again, with the same value: still refused.
            s_build (line, type, NULL, NULL, NULL);
            size_t used = strlen (line) - 1;
            snprintf (line + used, S_LINE_SIZE - used, ",\"%s\":%s}",
                      s_templates [type][index].key, s_templates [type][index].value);
            EXPECT (line, CP_EMALFORMED, "duplicate", s_templates [type][index].key);
        }
    EXPECT ("{\"type\":\"home_visit\",\"type\":\"home_visit\",\"id\":\"e\",\"case\":\"c\","
            "\"date\":\"2022-01-01\"}", CP_EMALFORMED, "duplicate", "type");
}

static void
test_line_limit (void)
{
    //  A valid event padded with blanks to exactly CP_LINE_MAX bytes, then one more.
    char *line = malloc (CP_LINE_MAX + 64);
    CHECK (line);
    if (!line)
        return;
    char base [S_LINE_SIZE];
    s_build (base, CP_EVENT_HOME_VISIT, NULL, NULL, NULL);
    size_t len = strlen (base);
    memcpy (line, base, len - 1);
    memset (line + len - 1, ' ', CP_LINE_MAX - len);
    line [CP_LINE_MAX - 1] = '}';
    line [CP_LINE_MAX] = 0;
    CHECK_EQ_INT (strlen (line), CP_LINE_MAX);
    EXPECT (line, 0, NULL, NULL);
    memmove (line + 1, line, CP_LINE_MAX + 1);
    line [0] = ' ';
    CHECK_EQ_INT (strlen (line), CP_LINE_MAX + 1);
    EXPECT (line, CP_ETOOBIG, "longer than 4096", NULL);
    free (line);

    //  Longer still, and not even JSON: refused for its length, unread.
    size_t huge = 1 << 20;
    char *junk = malloc (huge);
    CHECK (junk);
    if (!junk)
        return;
    memset (junk, '{', huge);
    cp_event_t event;
    char why [256] = "";
    CHECK_EQ_INT (cp_event_from_json (junk, huge, S_V1, S_TODAY, &event, why, sizeof why),
                  CP_ETOOBIG);
    free (junk);
}

//  Deeply nested or odd JSON must not crash anything.
static void
test_hostile (void)
{
    char *deep = malloc (4000);
    CHECK (deep);
    if (!deep)
        return;
    memset (deep, '[', 2000);
    memset (deep + 2000, ']', 1999);
    deep [3999] = 0;
    cp_event_t event;
    char why [256] = "";
    int rc = cp_event_from_json (deep, strlen (deep), S_V1, S_TODAY, &event, why, sizeof why);
    CHECK (rc == CP_EMALFORMED || rc == CP_ETYPE);
    free (deep);

    char line [S_LINE_SIZE];
    s_build (line, CP_EVENT_HOME_VISIT, NULL, "id",
             "\"\\u0001\\u0002\\u0003\\u001b[2Jdangerous-escape-sequences-repeated-many-times\"");
    why [0] = 0;
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, why, sizeof why),
                  CP_EBADID);
    for (const char *at = why; *at; at++)
        CHECK ((unsigned char) *at >= 0x20 && (unsigned char) *at < 0x7f);
    //  Lines that are not JSON: the parser's message quotes the token it
    //  choked on, and that must reach the terminal as printable text too.
    static const char *const noise [] = {"\x1b[2J", "{\"a\":\x01\x02}", "\x7f", "\x1b]0;x\x07",
                                         "{\"id\":\"e\"}\x1b"};
    for (size_t index = 0; index < sizeof noise / sizeof noise [0]; index++) {
        why [0] = 0;
        CHECK_EQ_INT (cp_event_from_json (noise [index], strlen (noise [index]), S_V1, S_TODAY,
                                          &event, why, sizeof why), CP_EMALFORMED);
        bool printable = true;
        for (const char *at = why; *at; at++)
            printable &= (unsigned char) *at >= 0x20 && (unsigned char) *at != 0x7f;
        if (!printable)
            fprintf (stderr, "  noise %zu: control characters in \"%s\"\n", index, why);
        CHECK (printable);
    }
    //  A small why buffer still gets a terminated message.
    char small [8];
    memset (small, 'z', sizeof small);
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, small,
                                      sizeof small), CP_EBADID);
    CHECK (memchr (small, 0, sizeof small) != NULL);
    //  And a NULL one is allowed.
    CHECK_EQ_INT (cp_event_from_json (line, strlen (line), S_V1, S_TODAY, &event, NULL, 0),
                  CP_EBADID);
}

//  Events that come from the wire: cp_event_resolve.
static void
test_resolve (void)
{
    cp_event_t event;
    memset (&event, 0, sizeof event);
    event.type = CP_EVENT_CASE_OPENED;
    event.date = cp_date_from_civil (2022, 3, 14);
    event.age = 14;
    strcpy (event.id, "e-1");
    strcpy (event.case_id, "c-1");
    strcpy (event.codes [0], "M");
    strcpy (event.codes [1], "egyptian");
    strcpy (event.codes [2], "central_agency");
    char why [256] = "";
    CHECK_EQ_INT (cp_event_resolve (&event, S_V1, why, sizeof why), CP_EBADCODE);
    CHECK_STR_CONTAINS (why, "field 'referral'");
    CHECK_EQ_INT (cp_event_resolve (&event, S_V2, why, sizeof why), 0);
    CHECK_EQ_INT (event.code_ids [0], 1);
    CHECK_EQ_INT (event.code_ids [1], 1);
    CHECK_EQ_INT (event.code_ids [2], 14);

    cp_event_t bad = event;
    bad.type = 0;
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EBADTYPE);
    bad.type = CP_EVENT_TYPE_MAX + 1;
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EBADTYPE);
    bad = event;
    strcpy (bad.id, "a b");
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EBADID);
    CHECK_STR_CONTAINS (why, "field 'id'");
    bad = event;
    memset (bad.case_id, 'c', sizeof bad.case_id);      //  no NUL at all
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EBADID);
    CHECK_STR_CONTAINS (why, "field 'case'");
    bad = event;
    bad.date = cp_date_from_civil (1999, 12, 31);
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EDATERANGE);
    bad.date = cp_date_from_civil (2100, 1, 1);
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EDATERANGE);
    bad = event;
    bad.age = 19;
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EBADAGE);
    bad = event;
    memset (bad.codes [0], 'x', sizeof bad.codes [0]);  //  no NUL at all
    CHECK_EQ_INT (cp_event_resolve (&bad, S_V2, why, sizeof why), CP_EBADCODE);
    CHECK_STR_CONTAINS (why, "field 'sex'");
}

static void
test_teardown (void)
{
    cp_catalogue_destroy (&s_catalogues [1]);
    cp_catalogue_destroy (&s_catalogues [2]);
}

TESTING_MAIN (
    TEST (test_valid_templates),
    TEST (test_malformed_json),
    TEST (test_not_object),
    TEST (test_missing_fields),
    TEST (test_unknown_fields),
    TEST (test_wrong_json_types),
    TEST (test_identifiers),
    TEST (test_dates),
    TEST (test_today_from_environment),
    TEST (test_ages),
    TEST (test_types),
    TEST (test_unknown_codes),
    TEST (test_catalogue_versions),
    TEST (test_duplicate_keys),
    TEST (test_line_limit),
    TEST (test_hostile),
    TEST (test_resolve),
    TEST (test_teardown)
)
