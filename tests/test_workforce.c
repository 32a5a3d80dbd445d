/*  test_workforce: central_workforce's figures from hand-made staffings.

    The expected sums are added up here from the same table the input is
    made of, and the ratios are worked out by hand in the comments, so a
    mistake in the module's arithmetic or in its grouping shows.           */

#include "central_workforce.h"
#include "cp_municipality.h"
#include "testing.h"

#include <jansson.h>

//  The staffing of the test: berat's county has every case (exactly at the
//  target, just above it, no worker, no report), durres's a half-up
//  rounding, every other municipality no report.
static const struct {
    const char *code;
    uint32_t workers;
    uint32_t children;
} s_table [] = {
    {"berat",   4, 12000},      //  3000.0: at the target, not above it
    {"dimal",   1,  3001},      //  3001.0: above
    {"polican", 0,   500},      //  no worker for 500 children: above, no ratio
    {"skrapar", 2,  5000},      //  2500.0
    {"durres", 10, 20000},      //  2000.0
    {"shijak",  4,     1},      //  0.25, rounded half up: 0.3
};
#define S_TABLE (sizeof s_table / sizeof s_table [0])

//  Fills staffing and reported for every municipality from s_table.
static void
s_input (central_staffing_t *staffing, bool *reported)
{
    int count = cp_municipality_count ();
    memset (staffing, 0, (size_t) count * sizeof *staffing);
    memset (reported, 0, (size_t) count * sizeof *reported);
    for (size_t row = 0; row < S_TABLE; row++) {
        int index = cp_municipality_index (s_table [row].code);
        CHECK (index >= 0);
        staffing [index].date = cp_date_from_civil (2022, 1, 1 + (int) row);
        staffing [index].workers = s_table [row].workers;
        staffing [index].children = s_table [row].children;
        reported [index] = true;
    }
}

static json_t *
s_document (const char *period_text, const char *scope_text)
{
    static central_staffing_t staffing [128];
    static bool reported [128];
    CHECK (cp_municipality_count () <= 128);
    s_input (staffing, reported);
    cp_period_t period;
    cp_scope_t scope;
    CHECK_EQ_INT (cp_period_parse (period_text, &period), 0);
    CHECK_EQ_INT (cp_scope_parse (scope_text, &scope), 0);
    return central_workforce (&period, &scope, staffing, reported);
}

//  The entry of code in the document, or NULL.
static json_t *
s_entry (json_t *document, const char *code)
{
    size_t index, at;
    json_t *county, *entry;
    json_array_foreach (json_object_get (document, "counties"), index, county)
        json_array_foreach (json_object_get (county, "municipalities"), at, entry)
            if (strcmp (json_string_value (json_object_get (entry, "code")), code) == 0)
                return entry;
    return NULL;
}

static json_t *
s_county (json_t *document, const char *code)
{
    size_t index;
    json_t *county;
    json_array_foreach (json_object_get (document, "counties"), index, county)
        if (strcmp (json_string_value (json_object_get (county, "county")), code) == 0)
            return county;
    return NULL;
}

static long long
s_int (json_t *object, const char *key)
{
    json_t *value = json_object_get (object, key);
    CHECK (json_is_integer (value));
    return json_integer_value (value);
}

//  A ratio's value, or -1 for null.
static double
s_ratio (json_t *object)
{
    json_t *value = json_object_get (object, "children_per_worker");
    CHECK (json_is_null (value) || json_is_real (value));
    return json_is_real (value)? json_real_value (value): -1;
}

static const char *
s_status (json_t *entry)
{
    return entry? json_string_value (json_object_get (entry, "status")): "(none)";
}

static void
test_municipalities (void)
{
    json_t *document = s_document ("2022", "national");
    CHECK (strcmp (json_string_value (json_object_get (document, "as_of")), "2022-12-31") == 0);
    CHECK_EQ_INT (s_int (document, "target"), 3000);
    json_t *berat = s_entry (document, "berat");
    CHECK (strcmp (s_status (berat), "within_target") == 0);
    CHECK (s_ratio (berat) == 3000.0);
    CHECK (json_is_false (json_object_get (berat, "above_target")));
    CHECK (strcmp (json_string_value (json_object_get (berat, "since")), "2022-01-01") == 0);
    json_t *dimal = s_entry (document, "dimal");
    CHECK (strcmp (s_status (dimal), "above_target") == 0);
    CHECK (s_ratio (dimal) == 3001.0);
    json_t *polican = s_entry (document, "polican");
    CHECK (strcmp (s_status (polican), "above_target") == 0);
    CHECK (s_ratio (polican) == -1);
    CHECK_EQ_INT (s_int (polican, "workers"), 0);
    CHECK (s_ratio (s_entry (document, "shijak")) == 0.3);
    json_t *kucove = s_entry (document, "kucove");
    CHECK (strcmp (s_status (kucove), "no_report") == 0);
    CHECK (json_is_null (json_object_get (kucove, "workers")));
    CHECK (json_is_null (json_object_get (kucove, "above_target")));
    //  Every municipality of the list is there, in its county.
    int listed = 0;
    for (int index = 0; index < cp_municipality_count (); index++)
        listed += s_entry (document, cp_municipality_code (index)) != NULL;
    CHECK_EQ_INT (listed, cp_municipality_count ());
    json_decref (document);
}

//  Counties and the nation: sums of those that reported, counted here.
static void
test_groups (void)
{
    json_t *document = s_document ("2022-Q4", "national");
    long long workers = 0, children = 0, above = 0;
    for (size_t row = 0; row < S_TABLE; row++) {
        workers += s_table [row].workers;
        children += s_table [row].children;
        above += s_table [row].children > 3000ull * s_table [row].workers;
    }
    json_t *total = json_object_get (document, "total");
    CHECK_EQ_INT (s_int (total, "workers"), workers);
    CHECK_EQ_INT (s_int (total, "children"), children);
    CHECK_EQ_INT (s_int (total, "reported"), S_TABLE);
    CHECK_EQ_INT (s_int (total, "no_report"), cp_municipality_count () - (int) S_TABLE);
    CHECK_EQ_INT (s_int (total, "above_target_count"), above);
    CHECK_EQ_INT (above, 2);
    //  40502 children over 21 workers: 1928.666... → 1928.7, within.
    CHECK (s_ratio (total) == 1928.7);
    CHECK (json_is_false (json_object_get (total, "above_target")));

    //  Berat's county: 20501 children over 7 workers: 2928.714... → 2928.7.
    json_t *berat = s_county (document, "berat");
    CHECK_EQ_INT (s_int (berat, "workers"), 7);
    CHECK_EQ_INT (s_int (berat, "children"), 20501);
    CHECK (s_ratio (berat) == 2928.7);
    CHECK_EQ_INT (s_int (berat, "reported"), 4);
    CHECK_EQ_INT (s_int (berat, "no_report"), 1);
    CHECK_EQ_INT (s_int (berat, "above_target_count"), 2);
    //  Durrës's: 20001 over 14: 1428.642... → 1428.6.
    json_t *durres = s_county (document, "durres");
    CHECK (s_ratio (durres) == 1428.6);
    CHECK_EQ_INT (s_int (durres, "reported"), 2);
    //  Vlorë's: none reported: no ratio, no verdict.
    json_t *vlore = s_county (document, "vlore");
    CHECK_EQ_INT (s_int (vlore, "reported"), 0);
    CHECK_EQ_INT (s_int (vlore, "no_report"), 7);
    CHECK (s_ratio (vlore) == -1);
    CHECK (json_is_null (json_object_get (vlore, "above_target")));
    CHECK_EQ_INT (json_array_size (json_object_get (document, "counties")), 12);
    json_decref (document);
}

//  A county's scope and a municipality's: only theirs, and the total is theirs.
static void
test_scopes (void)
{
    json_t *document = s_document ("2022", "county:berat");
    CHECK_EQ_INT (json_array_size (json_object_get (document, "counties")), 1);
    json_t *total = json_object_get (document, "total");
    CHECK_EQ_INT (s_int (total, "workers"), 7);
    CHECK_EQ_INT (s_int (total, "children"), 20501);
    CHECK_EQ_INT (s_int (total, "no_report"), 1);
    CHECK (s_entry (document, "durres") == NULL);
    json_decref (document);
    //  One municipality with no worker: above the target, no ratio.
    document = s_document ("2022", "municipality:polican");
    total = json_object_get (document, "total");
    CHECK (json_is_true (json_object_get (total, "above_target")));
    CHECK (s_ratio (total) == -1);
    CHECK_EQ_INT (s_int (total, "reported"), 1);
    CHECK_EQ_INT (s_int (total, "no_report"), 0);
    json_decref (document);
}

static void
test_print (void)
{
    json_t *document = s_document ("2022", "national");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    central_workforce_print (document, out);
    fclose (out);
    CHECK_STR_CONTAINS (text, "workforce 2022, national: staffing in effect on 2022-12-31");
    CHECK_STR_CONTAINS (text, "\nnational: 21 workers, 40502 children, 1928.7 children per "
                              "worker; 6 of 61 reported, 2 above target\n");
    CHECK_STR_CONTAINS (text, "\nabove target: dimal (3001.0) polican (no worker)\n");
    CHECK_STR_CONTAINS (text, "  kucove         no report\n");
    CHECK_STR_CONTAINS (text, "county berat (Berat): 7 workers, 20501 children, 2928.7 "
                              "children per worker; 4 of 5 reported, 2 above target\n");
    free (text);
    json_decref (document);
}

TESTING_MAIN (
    TEST (test_municipalities),
    TEST (test_groups),
    TEST (test_scopes),
    TEST (test_print)
)
