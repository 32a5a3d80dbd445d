/*  cp_check: the consistency rules of a caseload view, and their findings.  */

#include "cp_check.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#define S_DEPTH_MAX 8           //  how deep NOT_NEGATIVE looks into a document
#define S_FIGURE_MAX ((json_int_t) 1 << 53)     //  as a counter row's cells (cp_tally)
#define S_CODES_MAX 512         //  codes of a breakdown: their sum cannot overflow

static const cp_check_rule_t s_rules [] = {
    {"the new cases by age group add up to the new cases",
     CP_CHECK_ADDS_UP, "new_by_age_group", "new", false},
    {"the new cases by sex add up to the new cases",
     CP_CHECK_ADDS_UP, "new_by_sex", "new", false},
    {"the new cases by ethnicity add up to the new cases",
     CP_CHECK_ADDS_UP, "new_by_ethnicity", "new", false},
    {"the new cases by referral source add up to the new cases",
     CP_CHECK_ADDS_UP, "new_by_referral", "new", false},
    {"the managed cases by risk add up to the managed cases",
     CP_CHECK_ADDS_UP, "managed_by_risk", "managed", false},
    {"the managed cases by problem add up to the managed cases",
     CP_CHECK_ADDS_UP, "managed_by_problem", "managed", false},
    {"the closures by reason add up to the closures",
     CP_CHECK_ADDS_UP, "closed_by_reason", "closed", false},
    {"the children identified at school by category add up to their total",
     CP_CHECK_ADDS_UP, "school_identified", "school_identified_total", false},
    {"no measure is confirmed by a court more often than it was taken",
     CP_CHECK_AT_MOST, "measures_court_confirmed", "measures_taken", true},
    {"no figure is negative",
     CP_CHECK_NOT_NEGATIVE, NULL, NULL, false},
};

const cp_check_rule_t *
cp_check_rules (size_t *count)
{
    *count = sizeof s_rules / sizeof s_rules [0];
    return s_rules;
}

//  True when a document's key is the rule's key, or the rule's key under a
//  catalogue ("managed_by_problem_catalogue_2").
static bool
s_matches (const char *key, const char *rule_key)
{
    size_t size = strlen (rule_key);
    return strncmp (key, rule_key, size) == 0
        && (key [size] == 0 || strncmp (key + size, "_catalogue_", 11) == 0);
}

static json_t *
s_finding (const cp_check_rule_t *rule, const char *key)
{
    json_t *finding = json_object ();
    json_object_set_new (finding, "rule", json_string (rule->name));
    json_object_set_new (finding, "key", json_string (key));
    return finding;
}

//  A figure the rules can add: a whole number within S_FIGURE_MAX.
static bool
s_is_figure (const json_t *value)
{
    json_int_t figure = json_integer_value (value);
    return json_is_integer (value) && figure <= S_FIGURE_MAX && figure >= -S_FIGURE_MAX;
}

//  A breakdown's codes must be figures: the first that is not, or NULL.
static const char *
s_not_whole (const json_t *breakdown)
{
    const char *code;
    json_t *value;
    json_object_foreach ((json_t *) breakdown, code, value)
        if (!s_is_figure (value))
            return code;
    return NULL;
}

//  code NULL: the figure key itself.
static json_t *
s_not_whole_finding (const cp_check_rule_t *rule, const char *key, const char *code)
{
    json_t *finding = s_finding (rule, key);
    if (code)
        json_object_set_new (finding, "code", json_string (code));
    json_object_set_new (finding, "problem", json_string ("not a whole number within 2^53"));
    return finding;
}

//  ADDS_UP on one breakdown: NULL when it holds.
static json_t *
s_adds_up (const cp_check_rule_t *rule, const char *key, const json_t *part,
           const char *whole_key, const json_t *whole)
{
    const char *code = s_not_whole (part);
    if (code)
        return s_not_whole_finding (rule, key, code);
    if (!s_is_figure (whole))
        return s_not_whole_finding (rule, whole_key, NULL);
    if (json_object_size (part) > S_CODES_MAX) {
        json_t *finding = s_finding (rule, key);
        json_object_set_new (finding, "problem", json_string ("more codes than a breakdown has"));
        return finding;
    }
    json_int_t sum = 0;
    json_t *value;
    json_object_foreach ((json_t *) part, code, value)
        sum += json_integer_value (value);
    json_int_t expected = json_integer_value (whole);
    if (sum == expected)
        return NULL;
    json_t *finding = s_finding (rule, key);
    json_object_set_new (finding, "terms", json_deep_copy (part));
    json_object_set_new (finding, "sum", json_integer (sum));
    json_object_set_new (finding, "whole", json_string (whole_key));
    json_object_set_new (finding, "expected", json_integer (expected));
    json_object_set_new (finding, "difference", json_integer (sum - expected));
    return finding;
}

//  AT_MOST on one breakdown: a finding per code over its bound.
static int
s_at_most (const cp_check_rule_t *rule, const char *key, const json_t *part,
           const char *whole_key, const json_t *whole, json_t *findings)
{
    const char *code = s_not_whole (part);
    if (!code)
        code = s_not_whole (whole);
    if (code) {
        json_array_append_new (findings, s_not_whole_finding (rule, key, code));
        return 1;
    }
    int found = 0;
    json_t *value;
    json_object_foreach ((json_t *) part, code, value) {
        json_t *bound = json_object_get (whole, code);
        json_int_t figure = json_integer_value (value);
        json_int_t at_most = bound? json_integer_value (bound): 0;
        if (figure <= at_most)
            continue;
        json_t *finding = s_finding (rule, key);
        json_object_set_new (finding, "code", json_string (code));
        json_object_set_new (finding, "figure", json_integer (figure));
        json_object_set_new (finding, "whole", json_string (whole_key));
        json_object_set_new (finding, "at_most", json_integer (at_most));
        json_object_set_new (finding, "difference", json_integer (figure - at_most));
        json_array_append_new (findings, finding);
        found++;
    }
    return found;
}

//  NOT_NEGATIVE: every number under value, path naming where it is.
static int
s_not_negative (const cp_check_rule_t *rule, const char *path, const json_t *value,
                int depth, json_t *findings)
{
    if (json_is_number (value)) {
        if (json_number_value (value) >= 0)
            return 0;
        json_t *finding = s_finding (rule, path);
        json_object_set_new (finding, "figure", json_deep_copy (value));
        json_array_append_new (findings, finding);
        return 1;
    }
    if (!json_is_object (value) || depth >= S_DEPTH_MAX)
        return 0;
    int found = 0;
    const char *key;
    json_t *inner;
    json_object_foreach ((json_t *) value, key, inner) {
        char inner_path [256];
        int length = snprintf (inner_path, sizeof inner_path, "%s%s%s", path, *path? ".": "",
                               key);
        if (length < 0 || (size_t) length >= sizeof inner_path)
            memcpy (inner_path + sizeof inner_path - 4, "...", 4);     //  a hostile key
        found += s_not_negative (rule, inner_path, inner, depth + 1, findings);
    }
    return found;
}

//  One rule on a document; *applied false when it has none of its keys.
static int
s_run_rule (const cp_check_rule_t *rule, const json_t *document, json_t *findings,
            bool *applied)
{
    if (rule->kind == CP_CHECK_NOT_NEGATIVE) {
        *applied = true;
        return s_not_negative (rule, "", document, 0, findings);
    }
    *applied = false;
    char part_key [64], whole_key [64];
    snprintf (part_key, sizeof part_key, "%s_to_date", rule->part);
    snprintf (whole_key, sizeof whole_key, "%s_to_date", rule->whole);
    bool to_date = rule->to_date && json_object_get (document, part_key)
                                 && json_object_get (document, whole_key);
    if (!to_date) {
        snprintf (part_key, sizeof part_key, "%s", rule->part);
        snprintf (whole_key, sizeof whole_key, "%s", rule->whole);
    }
    const json_t *whole = json_object_get (document, whole_key);
    if (!whole)
        return 0;
    int found = 0;
    const char *key;
    json_t *part;
    json_object_foreach ((json_t *) document, key, part) {
        if (!s_matches (key, part_key) || !json_is_object (part))
            continue;
        *applied = true;
        if (rule->kind == CP_CHECK_ADDS_UP) {
            json_t *finding = s_adds_up (rule, key, part, whole_key, whole);
            if (finding) {
                json_array_append_new (findings, finding);
                found++;
            }
        }
        else
        if (json_is_object (whole))
            found += s_at_most (rule, key, part, whole_key, whole, findings);
        else {
            json_array_append_new (findings, s_not_whole_finding (rule, whole_key, NULL));
            found++;
        }
    }
    return found;
}

int
cp_check_view (const json_t *document, json_t *findings, json_t *not_applicable)
{
    assert (json_is_array (findings));
    if (!json_is_object (document))
        return -1;
    int found = 0;
    for (size_t index = 0; index < sizeof s_rules / sizeof s_rules [0]; index++) {
        bool applied;
        found += s_run_rule (&s_rules [index], document, findings, &applied);
        if (!applied && not_applicable)
            json_array_append_new (not_applicable, json_string (s_rules [index].name));
    }
    return found;
}

static void
s_print_integer (const char *label, const json_t *figure, FILE *out)
{
    fprintf (out, "  %s: %" JSON_INTEGER_FORMAT "\n", label, json_integer_value (figure));
}

void
cp_check_print (const json_t *findings, FILE *out)
{
    size_t index;
    json_t *finding;
    json_array_foreach (findings, index, finding) {
        const char *key = json_string_value (json_object_get (finding, "key"));
        const char *whole = json_string_value (json_object_get (finding, "whole"));
        fprintf (out, "rule broken: %s\n",
                 json_string_value (json_object_get (finding, "rule")));
        json_t *problem = json_object_get (finding, "problem");
        json_t *terms = json_object_get (finding, "terms");
        json_t *code = json_object_get (finding, "code");
        if (problem)
            fprintf (out, "  %s%s%s: %s\n", key, code? " ": "",
                     code? json_string_value (code): "", json_string_value (problem));
        else
        if (terms) {
            fprintf (out, "  %s:", key);
            const char *term;
            json_t *value;
            bool first = true;
            json_object_foreach (terms, term, value) {
                fprintf (out, "%s %s %" JSON_INTEGER_FORMAT, first? "": " +", term,
                         json_integer_value (value));
                first = false;
            }
            fprintf (out, " = %" JSON_INTEGER_FORMAT "\n",
                     json_integer_value (json_object_get (finding, "sum")));
            s_print_integer (whole, json_object_get (finding, "expected"), out);
        }
        else
        if (code) {
            fprintf (out, "  %s %s: %" JSON_INTEGER_FORMAT "\n", key, json_string_value (code),
                     json_integer_value (json_object_get (finding, "figure")));
            fprintf (out, "  %s %s: %" JSON_INTEGER_FORMAT "\n", whole, json_string_value (code),
                     json_integer_value (json_object_get (finding, "at_most")));
        }
        else {
            json_t *figure = json_object_get (finding, "figure");
            fprintf (out, "  %s: %g\n", key, json_number_value (figure));
        }
        json_t *difference = json_object_get (finding, "difference");
        if (difference)
            fprintf (out, "  difference: %+" JSON_INTEGER_FORMAT "\n",
                     json_integer_value (difference));
    }
}
