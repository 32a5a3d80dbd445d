/*  test_catalogue: the built-in catalogues, code look-ups, folding under an
    older version, and what cp_catalogue_check_revision and cp_catalogue_new
    accept and refuse.

    The counts and ids below are read off catalogue-v1.json and
    catalogue-v2.json by hand: a catalogue file that changes them breaks
    the stored counters of every node, so the test pins them.               */

#include "cp_catalogue.h"
#include "testing.h"

//  Codes per dimension in version 1, in cp_dim_t order.
static const int s_counts_v1 [CP_DIM_COUNT] = {6, 2, 4, 14, 4, 13, 5, 3, 9};

static int
s_lookup (const cp_catalogue_t *catalogue, cp_dim_t dim, const char *code)
{
    return cp_catalogue_lookup (catalogue, dim, code, strlen (code));
}

static void
test_builtin_load (void)
{
    CHECK_EQ_INT (cp_catalogue_builtin_count, 2);
    CHECK (cp_catalogue_builtin [0] == NULL);
    CHECK (cp_catalogue_new_builtin (0) == NULL);
    CHECK (cp_catalogue_new_builtin (3) == NULL);
    CHECK (cp_catalogue_new_builtin (-1) == NULL);

    cp_catalogue_t *v1 = cp_catalogue_new_builtin (1);
    cp_catalogue_t *v2 = cp_catalogue_new_builtin (2);
    CHECK (v1 && v2);
    if (!v1 || !v2)
        goto done;
    CHECK_EQ_INT (cp_catalogue_version (v1), 1);
    CHECK_EQ_INT (cp_catalogue_version (v2), 2);
    for (int dim = 0; dim < CP_DIM_COUNT; dim++) {
        CHECK_EQ_INT (cp_catalogue_count (v1, dim), s_counts_v1 [dim]);
        int added = dim == CP_DIM_PROBLEM? 2: dim == CP_DIM_REFERRAL? 1: 0;
        CHECK_EQ_INT (cp_catalogue_count (v2, dim), s_counts_v1 [dim] + added);
    }
    //  Built from the texts explicitly: the same catalogue.
    char why [200] = "";
    cp_catalogue_t *explicit = cp_catalogue_new (cp_catalogue_builtin + 1, 2, why, sizeof why);
    CHECK (explicit);
    if (explicit)
        CHECK_EQ_INT (cp_catalogue_count (explicit, CP_DIM_PROBLEM), 15);
    cp_catalogue_destroy (&explicit);
done:
    cp_catalogue_destroy (&v1);
    cp_catalogue_destroy (&v2);
    CHECK (v1 == NULL && v2 == NULL);
    cp_catalogue_destroy (&v1);         //  safe twice
    cp_catalogue_destroy (NULL);
}

static void
test_dim_names (void)
{
    static const char *const names [CP_DIM_COUNT] = {
        "age_group", "sex", "ethnicity", "referral", "risk", "problem", "close_reason",
        "measure", "school"
    };
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        CHECK (strcmp (cp_dim_name (dim), names [dim]) == 0);
}

static void
test_revision_codes (void)
{
    cp_catalogue_t *v1 = cp_catalogue_new_builtin (1);
    cp_catalogue_t *v2 = cp_catalogue_new_builtin (2);
    CHECK (v1 && v2);
    if (!v1 || !v2)
        goto done;
    //  What version 2 adds, with the version that introduced it.
    static const struct { cp_dim_t dim; const char *code; int id; } added [] = {
        {CP_DIM_PROBLEM, "unaccompanied_foreign_child", 13},
        {CP_DIM_PROBLEM, "child_labour", 14},
        {CP_DIM_REFERRAL, "central_agency", 14},
    };
    int other_problem = s_lookup (v2, CP_DIM_PROBLEM, "other");
    int other_referral = s_lookup (v2, CP_DIM_REFERRAL, "other");
    CHECK_EQ_INT (other_problem, 12);
    CHECK_EQ_INT (other_referral, 13);
    for (size_t index = 0; index < 3; index++) {
        int id = s_lookup (v2, added [index].dim, added [index].code);
        CHECK_EQ_INT (id, added [index].id);
        CHECK_EQ_INT (s_lookup (v1, added [index].dim, added [index].code), -1);
        if (id < 0)
            continue;
        CHECK (strcmp (cp_catalogue_code (v2, added [index].dim, id), added [index].code) == 0);
        CHECK_EQ_INT (cp_catalogue_since (v2, added [index].dim, id), 2);
        int other = added [index].dim == CP_DIM_PROBLEM? other_problem: other_referral;
        CHECK_EQ_INT (cp_catalogue_fold (v2, added [index].dim, id, 1), other);
        CHECK_EQ_INT (cp_catalogue_fold (v2, added [index].dim, id, 2), id);
    }
    //  Every code of version 1 keeps its id in version 2, dates from 1 and
    //  folds to itself under both versions.
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        for (int id = 0; id < cp_catalogue_count (v1, dim); id++) {
            const char *code = cp_catalogue_code (v1, dim, id);
            CHECK_EQ_INT (s_lookup (v1, dim, code), id);
            CHECK_EQ_INT (s_lookup (v2, dim, code), id);
            CHECK_EQ_INT (cp_catalogue_since (v2, dim, id), 1);
            CHECK_EQ_INT (cp_catalogue_fold (v2, dim, id, 1), id);
            CHECK_EQ_INT (cp_catalogue_fold (v1, dim, id, 1), id);
        }
    //  Labels: both languages, the code itself for anything else.
    int agency = s_lookup (v2, CP_DIM_REFERRAL, "central_agency");
    CHECK (strcmp (cp_catalogue_label (v2, CP_DIM_REFERRAL, agency, "sq"), "ASHDMF") == 0);
    CHECK (strcmp (cp_catalogue_label (v2, CP_DIM_REFERRAL, agency, "en"),
                   "State Agency for Child Rights and Protection") == 0);
    CHECK (strcmp (cp_catalogue_label (v2, CP_DIM_REFERRAL, agency, "fr"), "central_agency") == 0);
    CHECK (strcmp (cp_catalogue_label (v2, CP_DIM_SEX, 0, "sq"), "Femra") == 0);
done:
    cp_catalogue_destroy (&v1);
    cp_catalogue_destroy (&v2);
}

static void
test_lookup (void)
{
    cp_catalogue_t *v1 = cp_catalogue_new_builtin (1);
    CHECK (v1);
    if (!v1)
        return;
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_SEX, "F"), 0);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_SEX, "M"), 1);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_SEX, "f"), -1);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_SEX, "X"), -1);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_SEX, ""), -1);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_RISK, "emergency"), 3);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_RISK, "emergenc"), -1);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_RISK, "emergencyy"), -1);
    //  A code of another dimension is unknown here.
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_RISK, "police"), -1);
    CHECK (s_lookup (v1, CP_DIM_PROBLEM, "street_situation") >= 0);
    CHECK (s_lookup (v1, CP_DIM_SCHOOL, "street_situation") >= 0);
    //  Only len bytes count: the text need not end there.
    CHECK_EQ_INT (cp_catalogue_lookup (v1, CP_DIM_REFERRAL, "policeman", 6), 1);
    CHECK_EQ_INT (cp_catalogue_lookup (v1, CP_DIM_REFERRAL, "police", 5), -1);
    //  Every code of every dimension, by its id.
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        for (int id = 0; id < cp_catalogue_count (v1, dim); id++)
            CHECK_EQ_INT (s_lookup (v1, dim, cp_catalogue_code (v1, dim, id)), id);
    cp_catalogue_destroy (&v1);
}

static void
test_court_confirmed (void)
{
    cp_catalogue_t *v2 = cp_catalogue_new_builtin (2);
    CHECK (v2);
    if (!v2)
        return;
    CHECK (cp_catalogue_court_confirmed (v2, s_lookup (v2, CP_DIM_MEASURE, "emergency_removal")));
    CHECK (cp_catalogue_court_confirmed (v2, s_lookup (v2, CP_DIM_MEASURE, "alternative_care")));
    CHECK (!cp_catalogue_court_confirmed (v2,
                s_lookup (v2, CP_DIM_MEASURE, "specialised_supervision")));
    cp_catalogue_destroy (&v2);
}

static void
test_age_groups (void)
{
    cp_catalogue_t *v1 = cp_catalogue_new_builtin (1);
    CHECK (v1);
    if (!v1)
        return;
    static const char *const groups [19] = {
        "0-3", "0-3", "0-3", "0-3", "4-6", "4-6", "4-6", "7-9", "7-9", "7-9",
        "10-12", "10-12", "10-12", "13-15", "13-15", "13-15", "16-18", "16-18", "16-18"
    };
    for (int age = 0; age <= 18; age++) {
        int id = cp_catalogue_age_group (v1, age);
        CHECK (id >= 0);
        if (id >= 0 && strcmp (cp_catalogue_code (v1, CP_DIM_AGE_GROUP, id), groups [age]) != 0) {
            fprintf (stderr, "  age %d in group %s\n", age,
                     cp_catalogue_code (v1, CP_DIM_AGE_GROUP, id));
            CHECK (!"age in the right group");
        }
    }
    CHECK_EQ_INT (cp_catalogue_age_group (v1, 19), -1);
    CHECK_EQ_INT (cp_catalogue_age_group (v1, -1), -1);
    CHECK_EQ_INT (cp_catalogue_age_group (v1, 255), -1);
    cp_catalogue_destroy (&v1);
}

//  The revision texts below are small variations of catalogue-v2.json.
#define S_ADD(dimension, code) \
    "{\"op\": \"add\", \"dimension\": \"" dimension "\", \"code\": \"" code "\", " \
    "\"sq\": \"x\", \"en\": \"x\"}"

static void
test_check_revision (void)
{
    cp_catalogue_t *v1 = cp_catalogue_new_builtin (1);
    cp_catalogue_t *v2 = cp_catalogue_new_builtin (2);
    CHECK (v1 && v2);
    if (!v1 || !v2)
        goto done;
    char why [256];

    //  Version 2 is the next one after 1, and checking it changes nothing.
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, cp_catalogue_builtin [2], why, sizeof why), 2);
    CHECK_EQ_INT (cp_catalogue_version (v1), 1);
    CHECK_EQ_INT (cp_catalogue_count (v1, CP_DIM_PROBLEM), 13);
    CHECK_EQ_INT (s_lookup (v1, CP_DIM_PROBLEM, "child_labour"), -1);
    //  Twice: still fine (nothing was kept from the first check).
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, cp_catalogue_builtin [2], why, sizeof why), 2);

    //  Version 2 again on top of version 2: not the next version.
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v2, cp_catalogue_builtin [2], why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "catalogue 2 is not the next version: expected catalogue 3");

    //  A version 3 that claims to revise 1.
    const char *wrong_revises =
        "{\"catalogue\": 3, \"revises\": 1, \"changes\": [" S_ADD ("risk", "extreme") "]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v2, wrong_revises, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "must revise 2");
    //  The same text revising 2 is fine.
    const char *good3 =
        "{\"catalogue\": 3, \"revises\": 2, \"changes\": [" S_ADD ("risk", "extreme") "]}";
    CHECK_EQ_INT (cp_catalogue_check_revision (v2, good3, why, sizeof why), 3);
    CHECK_EQ_INT (s_lookup (v2, CP_DIM_RISK, "extreme"), -1);
    //  ... but not over version 1 (wrong number).
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, good3, why, sizeof why), -1);

    //  Garbage.
    static const char *const garbage [] = {"", "not json at all", "{\"catalogue\": 2,",
                                           "[1, 2, 3]", "\x01\x02\xff"};
    for (size_t index = 0; index < sizeof garbage / sizeof garbage [0]; index++) {
        why [0] = 0;
        CHECK_EQ_INT (cp_catalogue_check_revision (v1, garbage [index], why, sizeof why), -1);
        CHECK (strlen (why) > 0);
    }
    why [0] = 0;
    cp_catalogue_check_revision (v1, "not json at all", why, sizeof why);
    CHECK_STR_CONTAINS (why, "not JSON");

    //  No "changes", or not a list.
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, "{\"catalogue\": 2, \"revises\": 1}",
                                               why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "changes");

    //  An op other than "add".
    const char *remove =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": ["
        "{\"op\": \"remove\", \"dimension\": \"risk\", \"code\": \"low\", \"sq\": \"x\", \"en\": \"x\"}]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, remove, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "op 'remove' of risk code 'low'");
    CHECK_STR_CONTAINS (why, "codes are never removed or renamed, because counters are kept "
                        "by code id");
    const char *rename =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": ["
        "{\"op\": \"rename\", \"dimension\": \"problem\", \"code\": \"neglect\", \"to\": \"x\"}]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, rename, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "op 'rename' of problem code 'neglect'");
    CHECK_STR_CONTAINS (why, "never removed or renamed");
    const char *no_op =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": ["
        "{\"dimension\": \"risk\", \"code\": \"extreme\", \"sq\": \"x\", \"en\": \"x\"}]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, no_op, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "op '(none)' of risk code 'extreme'");

    //  A code the catalogue has already, and one the revision adds twice.
    const char *duplicate =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": [" S_ADD ("referral", "police") "]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, duplicate, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "police");
    CHECK_STR_CONTAINS (why, "twice");
    const char *twice =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": [" S_ADD ("risk", "extreme") ", "
        S_ADD ("risk", "extreme") "]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, twice, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "extreme");

    //  An unknown dimension, a code without labels, a code too long.
    const char *dimension =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": [" S_ADD ("colour", "blue") "]}";
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, dimension, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "colour");
    CHECK_STR_CONTAINS (why, "'blue'");
    const char *unlabelled =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": ["
        "{\"op\": \"add\", \"dimension\": \"risk\", \"code\": \"extreme\"}]}";
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, unlabelled, why, sizeof why), -1);
    const char *long_code =
        "{\"catalogue\": 2, \"revises\": 1, \"changes\": ["
        S_ADD ("risk", "abcdefghijabcdefghijabcdefghijabcdefghijX") "]}";
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, long_code, why, sizeof why), -1);

    //  More codes than a dimension may hold (referral has 14; 32 at most).
    char many [4096];
    size_t used = (size_t) snprintf (many, sizeof many,
                                     "{\"catalogue\": 2, \"revises\": 1, \"changes\": [");
    for (int index = 0; index < 19; index++)
        used += (size_t) snprintf (many + used, sizeof many - used,
                                   "%s{\"op\": \"add\", \"dimension\": \"referral\", "
                                   "\"code\": \"r%d\", \"sq\": \"x\", \"en\": \"x\"}",
                                   index? ", ": "", index);
    snprintf (many + used, sizeof many - used, "]}");
    why [0] = 0;
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, many, why, sizeof why), -1);
    CHECK_STR_CONTAINS (why, "32");
    //  18 more is exactly 32: accepted.
    char *cut = strstr (many, ", {\"op\": \"add\", \"dimension\": \"referral\", \"code\": \"r18\"");
    CHECK (cut);
    if (cut) {
        strcpy (cut, "]}");
        CHECK_EQ_INT (cp_catalogue_check_revision (v1, many, why, sizeof why), 2);
    }

    //  Duplicate keys in a revision text are refused.
    const char *dup_keys =
        "{\"catalogue\": 2, \"catalogue\": 2, \"revises\": 1, \"changes\": []}";
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, dup_keys, why, sizeof why), -1);

    //  A NULL why is allowed.
    CHECK_EQ_INT (cp_catalogue_check_revision (v1, "junk", NULL, 0), -1);

    //  After all this, the catalogues are as they were.
    CHECK_EQ_INT (cp_catalogue_version (v1), 1);
    CHECK_EQ_INT (cp_catalogue_version (v2), 2);
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        CHECK_EQ_INT (cp_catalogue_count (v1, dim), s_counts_v1 [dim]);
    CHECK (strcmp (cp_catalogue_label (v1, CP_DIM_RISK, 0, "en"), "low") == 0);
done:
    cp_catalogue_destroy (&v1);
    cp_catalogue_destroy (&v2);
}

static void
test_new_broken (void)
{
    char why [256];
    const char *broken [] = {"{\"catalogue\": 1, \"dimensions\": "};
    why [0] = 0;
    CHECK (cp_catalogue_new (broken, 1, why, sizeof why) == NULL);
    CHECK (strlen (why) > 0);
    CHECK_STR_CONTAINS (why, "not JSON");

    //  Well-formed but lacking a dimension.
    const char *lacking [] = {"{\"catalogue\": 1, \"dimensions\": {\"sex\": "
                              "[{\"code\": \"F\", \"sq\": \"F\", \"en\": \"F\"}]}}"};
    why [0] = 0;
    CHECK (cp_catalogue_new (lacking, 1, why, sizeof why) == NULL);
    CHECK_STR_CONTAINS (why, "age_group");

    //  The wrong version number first.
    const char *second_first [] = {cp_catalogue_builtin [2]};
    why [0] = 0;
    CHECK (cp_catalogue_new (second_first, 1, why, sizeof why) == NULL);
    CHECK (strlen (why) > 0);

    //  A good base and a broken revision.
    const char *bad_revision [] = {cp_catalogue_builtin [1], "{\"catalogue\": 2, \"revises\""};
    why [0] = 0;
    CHECK (cp_catalogue_new (bad_revision, 2, why, sizeof why) == NULL);
    CHECK (strlen (why) > 0);

    //  An age group without bounds.
    const char *no_bounds [] = {
        "{\"catalogue\": 1, \"dimensions\": {"
        "\"age_group\": [{\"code\": \"0-18\", \"sq\": \"x\", \"en\": \"x\"}]}}"};
    why [0] = 0;
    CHECK (cp_catalogue_new (no_bounds, 1, why, sizeof why) == NULL);
    CHECK_STR_CONTAINS (why, "min");

    //  No text at all.
    why [0] = 0;
    CHECK (cp_catalogue_new (NULL, 0, why, sizeof why) == NULL);
    CHECK (strlen (why) > 0);
    CHECK (cp_catalogue_new (broken, 1, NULL, 0) == NULL);
}

//  A revision applied to a copy (cp_catalogue_revise), the titles of the
//  versions, the version a text says it is, and the built-in revision that
//  brings a code.
static void
test_revise (void)
{
    cp_catalogue_t *v1 = cp_catalogue_new_builtin (1);
    CHECK (v1);
    if (!v1)
        return;
    char why [256] = "";
    cp_catalogue_t *v2 = cp_catalogue_revise (v1, cp_catalogue_builtin [2], why, sizeof why);
    CHECK (v2);
    if (v2) {
        CHECK_EQ_INT (cp_catalogue_version (v2), 2);
        CHECK (s_lookup (v2, CP_DIM_PROBLEM, "child_labour") >= 0);
        CHECK_STR_CONTAINS (cp_catalogue_title (v2, 1), "VKM 636/2018");
        CHECK_STR_CONTAINS (cp_catalogue_title (v2, 2), "VKM 471/2022");
        //  Labels are the copy's own: v1 may go first.
        cp_catalogue_destroy (&v1);
        int id = s_lookup (v2, CP_DIM_SEX, "F");
        CHECK (id >= 0 && strcmp (cp_catalogue_label (v2, CP_DIM_SEX, id, "en"), "Female") == 0);
        const char *untitled =
            "{\"catalogue\": 3, \"revises\": 2, \"changes\": [" S_ADD ("risk", "extreme") "]}";
        cp_catalogue_t *v3 = cp_catalogue_revise (v2, untitled, why, sizeof why);
        CHECK (v3 && strcmp (cp_catalogue_title (v3, 3), "") == 0);
        CHECK_EQ_INT (cp_catalogue_version (v2), 2);
        CHECK (s_lookup (v2, CP_DIM_RISK, "extreme") < 0);
        cp_catalogue_destroy (&v3);
        CHECK (!cp_catalogue_revise (v2, "[]", why, sizeof why));
        cp_catalogue_destroy (&v2);
    }
    cp_catalogue_destroy (&v1);
    CHECK_EQ_INT (cp_catalogue_text_version (cp_catalogue_builtin [2]), 2);
    CHECK_EQ_INT (cp_catalogue_text_version ("{\"catalogue\": 7}"), 7);
    CHECK_EQ_INT (cp_catalogue_text_version ("{\"catalogue\": \"7\"}"), -1);
    CHECK_EQ_INT (cp_catalogue_text_version ("{\"catalogue\": 0}"), -1);
    CHECK_EQ_INT (cp_catalogue_text_version ("not json"), -1);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_PROBLEM, "child_labour", 12, 1), 2);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_REFERRAL, "central_agency", 14, 0), 2);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_PROBLEM, "child_labour", 12, 2), 0);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_PROBLEM, "child_labou", 11, 1), 0);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_PROBLEM, "neglect", 7, 1), 0);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_RISK, "child_labour", 12, 1), 0);
    CHECK_EQ_INT (cp_catalogue_builtin_since (CP_DIM_PROBLEM, "nonsense", 8, 1), 0);
}

TESTING_MAIN (
    TEST (test_builtin_load),
    TEST (test_dim_names),
    TEST (test_revision_codes),
    TEST (test_lookup),
    TEST (test_court_confirmed),
    TEST (test_age_groups),
    TEST (test_check_revision),
    TEST (test_revise),
    TEST (test_new_broken)
)
