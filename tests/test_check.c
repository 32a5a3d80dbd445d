/*  test_check: the consistency rules (cp_check) on hand-made view documents,
    each finding's figures compared with sums worked out here.             */

#include "testing.h"
#include "cp_check.h"

#include <stdbool.h>

static bool
s_same (const char *a, const char *b)
{
    return strcmp (a, b) == 0;
}

static json_t *
s_parse (const char *text)
{
    json_error_t error;
    json_t *document = json_loads (text, 0, &error);
    if (!document)
        fprintf (stderr, "  bad test JSON: %s\n", error.text);
    return document;
}

//  Runs the rules; returns the findings (the caller's), count in *found.
static json_t *
s_check (const char *text, int *found, json_t *not_applicable)
{
    json_t *document = s_parse (text);
    json_t *findings = json_array ();
    *found = cp_check_view (document, findings, not_applicable);
    json_decref (document);
    return findings;
}

static json_int_t
s_integer (const json_t *finding, const char *key)
{
    return json_integer_value (json_object_get (finding, key));
}

static const char *
s_string (const json_t *finding, const char *key)
{
    const char *value = json_string_value (json_object_get (finding, key));
    return value? value: "";
}

//  A view whose figures hang together breaks no rule.
static void
test_consistent (void)
{
    int found;
    json_t *findings = s_check (
        "{\"period\": \"2022\", \"scope\": \"national\", \"managed\": 10, \"new\": 4,"
        " \"closed\": 2, \"home_visits\": 7,"
        " \"new_by_age_group\": {\"0-3\": 1, \"4-6\": 3}, \"new_by_sex\": {\"F\": 2, \"M\": 2},"
        " \"new_by_ethnicity\": {\"roma\": 4}, \"new_by_referral\": {\"police\": 4},"
        " \"closed_by_reason\": {\"adult\": 2}, \"managed_by_risk\": {\"low\": 9, \"unassessed\": 1},"
        " \"managed_by_problem\": {\"neglect\": 10},"
        " \"measures_taken\": {\"emergency_removal\": 2, \"alternative_care\": 0},"
        " \"measures_court_confirmed\": {\"emergency_removal\": 2, \"alternative_care\": 0},"
        " \"school_identified\": {\"dropout_risk\": 3}}", &found, NULL);
    CHECK_EQ_INT (found, 0);
    CHECK_EQ_INT (json_array_size (findings), 0);
    json_decref (findings);
}

//  The report's summary table: 240 girls and 547 boys of 987 new cases.
static void
test_breakdown_short (void)
{
    int found;
    json_t *findings = s_check (
        "{\"new\": 987, \"new_by_sex\": {\"F\": 240, \"M\": 547},"
        " \"new_by_age_group\": {\"0-3\": 987}}", &found, NULL);
    CHECK_EQ_INT (found, 1);
    json_t *finding = json_array_get (findings, 0);
    CHECK (strstr (s_string (finding, "rule"), "by sex"));
    CHECK (s_same (s_string (finding, "key"), "new_by_sex"));
    CHECK (s_same (s_string (finding, "whole"), "new"));
    CHECK_EQ_INT (s_integer (finding, "sum"), 240 + 547);
    CHECK_EQ_INT (s_integer (finding, "expected"), 987);
    CHECK_EQ_INT (s_integer (finding, "difference"), 240 + 547 - 987);
    CHECK_EQ_INT (json_integer_value (json_object_get (json_object_get (finding, "terms"), "F")),
                  240);
    json_decref (findings);
}

//  A breakdown printed under two catalogues is checked under each name;
//  a key that merely starts like a rule's is not.
static void
test_catalogue_suffix (void)
{
    int found;
    json_t *findings = s_check (
        "{\"managed\": 100,"
        " \"managed_by_problem_catalogue_1\": {\"neglect\": 60, \"other\": 41},"
        " \"managed_by_problem_catalogue_2\": {\"neglect\": 60, \"other\": 40},"
        " \"managed_by_problemX\": {\"neglect\": 1}}", &found, NULL);
    CHECK_EQ_INT (found, 1);
    json_t *finding = json_array_get (findings, 0);
    CHECK (s_same (s_string (finding, "key"), "managed_by_problem_catalogue_1"));
    CHECK_EQ_INT (s_integer (finding, "difference"), 1);
    json_decref (findings);
}

//  A measure confirmed more often than taken, one finding per measure;
//  a measure confirmed and never taken counts against 0.
static void
test_confirmed_over_taken (void)
{
    int found;
    json_t *findings = s_check (
        "{\"measures_taken\": {\"emergency_removal\": 59, \"alternative_care\": 80},"
        " \"measures_court_confirmed\": {\"emergency_removal\": 60, \"alternative_care\": 23,"
        " \"supervision\": 2}}", &found, NULL);
    CHECK_EQ_INT (found, 2);
    json_t *first = json_array_get (findings, 0), *second = json_array_get (findings, 1);
    CHECK (s_same (s_string (first, "code"), "emergency_removal"));
    CHECK_EQ_INT (s_integer (first, "figure"), 60);
    CHECK_EQ_INT (s_integer (first, "at_most"), 59);
    CHECK_EQ_INT (s_integer (first, "difference"), 1);
    CHECK (s_same (s_string (second, "code"), "supervision"));
    CHECK_EQ_INT (s_integer (second, "at_most"), 0);
    json_decref (findings);
}

//  Confirmations follow their takings, often in a later quarter: where a
//  document gives the measures to date, the rule reads those instead.
static void
test_confirmed_to_date (void)
{
    int found;
    json_t *findings = s_check (
        "{\"measures_taken\": {\"emergency_removal\": 2},"
        " \"measures_court_confirmed\": {\"emergency_removal\": 3},"
        " \"measures_taken_to_date\": {\"emergency_removal\": 40},"
        " \"measures_court_confirmed_to_date\": {\"emergency_removal\": 30}}", &found, NULL);
    CHECK_EQ_INT (found, 0);
    json_decref (findings);

    findings = s_check (
        "{\"measures_taken\": {\"emergency_removal\": 5},"
        " \"measures_court_confirmed\": {\"emergency_removal\": 3},"
        " \"measures_taken_to_date\": {\"emergency_removal\": 40},"
        " \"measures_court_confirmed_to_date\": {\"emergency_removal\": 41}}", &found, NULL);
    CHECK_EQ_INT (found, 1);
    json_t *finding = json_array_get (findings, 0);
    CHECK (s_same (s_string (finding, "key"), "measures_court_confirmed_to_date"));
    CHECK (s_same (s_string (finding, "whole"), "measures_taken_to_date"));
    CHECK_EQ_INT (s_integer (finding, "difference"), 1);
    json_decref (findings);
}

//  A negative figure anywhere is found, its place named; one that also
//  breaks a sum is found by both rules.
static void
test_negative (void)
{
    int found;
    json_t *findings = s_check (
        "{\"new\": 1, \"new_by_sex\": {\"F\": 2, \"M\": -1},"
        " \"central_agency\": {\"repatriated\": -7}}", &found, NULL);
    CHECK_EQ_INT (found, 2);
    json_t *finding = json_array_get (findings, 1);
    CHECK (strstr (s_string (finding, "rule"), "negative"));
    const char *first = s_string (json_array_get (findings, 0), "key");
    CHECK (s_same (first, "new_by_sex.M") || s_same (first, "central_agency.repatriated"));
    CHECK (s_same (s_string (finding, "key"), "new_by_sex.M")
        || s_same (s_string (finding, "key"), "central_agency.repatriated"));
    json_decref (findings);
}

//  Figures that are not whole numbers are named, not summed.
static void
test_not_whole (void)
{
    int found;
    json_t *findings = s_check (
        "{\"new\": 3, \"new_by_sex\": {\"F\": \"2\", \"M\": 1},"
        " \"closed\": 1.5, \"closed_by_reason\": {\"adult\": 1}}", &found, NULL);
    CHECK_EQ_INT (found, 2);
    CHECK (s_same (s_string (json_array_get (findings, 0), "code"), "F"));
    CHECK (s_same (s_string (json_array_get (findings, 0), "problem"),
                   "not a whole number within 2^53"));
    CHECK (s_same (s_string (json_array_get (findings, 1), "key"), "closed"));
    json_decref (findings);

    //  Nor are figures beyond 2^53, whose sums could overflow.
    findings = s_check ("{\"new\": 1, \"new_by_sex\": {\"F\": 1152921504606846976,"
                        " \"M\": 9223372036854775807}}", &found, NULL);
    CHECK_EQ_INT (found, 1);
    CHECK (s_same (s_string (json_array_get (findings, 0), "code"), "F"));
    json_decref (findings);
}

//  Rules whose keys a document lacks are listed as not applicable; a
//  document that is not an object is refused.
static void
test_not_applicable (void)
{
    int found;
    json_t *not_applicable = json_array ();
    json_t *findings = s_check ("{\"new\": 2, \"new_by_sex\": {\"F\": 1, \"M\": 1}}", &found,
                                not_applicable);
    CHECK_EQ_INT (found, 0);
    size_t rules;
    cp_check_rules (&rules);
    //  All but "by sex" and "no figure is negative".
    CHECK_EQ_INT (json_array_size (not_applicable), rules - 2);
    json_decref (findings);
    json_decref (not_applicable);

    json_t *array = s_parse ("[1, 2]");
    findings = json_array ();
    CHECK_EQ_INT (cp_check_view (array, findings, NULL), -1);
    CHECK_EQ_INT (json_array_size (findings), 0);
    json_decref (array);
    json_decref (findings);
}

//  The printed form names the rule, the terms, the whole and the difference.
static void
test_print (void)
{
    int found;
    json_t *findings = s_check ("{\"new\": 987, \"new_by_sex\": {\"F\": 240, \"M\": 547}}",
                                &found, NULL);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    cp_check_print (findings, out);
    fclose (out);
    CHECK (strstr (text, "rule broken: the new cases by sex add up to the new cases"));
    CHECK (strstr (text, "new_by_sex: F 240 + M 547 = 787"));
    CHECK (strstr (text, "new: 987"));
    CHECK (strstr (text, "difference: -200"));
    free (text);
    json_decref (findings);
}

TESTING_MAIN (
    TEST (test_consistent),
    TEST (test_breakdown_short),
    TEST (test_catalogue_suffix),
    TEST (test_confirmed_over_taken),
    TEST (test_confirmed_to_date),
    TEST (test_negative),
    TEST (test_not_whole),
    TEST (test_not_applicable),
    TEST (test_print)
)
