/*  test_view: figures from stored rows, and the JSON, table and CSV forms.

    The rows are written by hand (cells of a cp_tally, encoded with
    cp_tally_deltas_encode) for a small history whose every figure is known:
    cases opened and closed before the period, within it and after it, risk
    and problem changes, and codes of catalogue 2 that fold into "other"
    under catalogue 1.  The printed forms are read back: the JSON with
    jansson, key by key and code by code; the table line by line, for its
    labels, totals and alignment (in characters, labels being UTF-8); the
    CSV for its shape and quoting; the comparison for its marks and count.  */

#include "cp_catalogue.h"
#include "cp_date.h"
#include "cp_error.h"
#include "cp_tally.h"
#include "cp_view.h"
#include "testing.h"

#include <jansson.h>

//  =====================================================================
//  The history

static cp_catalogue_t *s_catalogue_2;

static const cp_catalogue_t *
s_catalogue (void)
{
    if (!s_catalogue_2)
        s_catalogue_2 = cp_catalogue_new_builtin (2);
    if (!s_catalogue_2) {
        fprintf (stderr, "  built-in catalogue 2 does not load\n");
        exit (1);
    }
    return s_catalogue_2;
}

//  The id of a code (it must exist).
static int
s_id (cp_dim_t dim, const char *code)
{
    int id = cp_catalogue_lookup (s_catalogue (), dim, code, strlen (code));
    if (id < 0) {
        fprintf (stderr, "  no code %s in dimension %s\n", code, cp_dim_name (dim));
        exit (1);
    }
    return id;
}

static void
s_add (cp_tally_t *tally, int year, int month, cp_metric_t metric, int slot, int64_t delta)
{
    cp_tally_add (tally, (year - 2000) * 12 + month - 1, CP_CELL (metric, slot), delta);
}

//  Moves n cases' state from one slot to another in a month.
static void
s_move (cp_tally_t *tally, int year, int month, cp_metric_t metric, int from, int to, int n)
{
    s_add (tally, year, month, metric, from, -n);
    s_add (tally, year, month, metric, to, n);
}

//  Builds the view of 2022 from this history:
//
//  2021-05  5 opened (unassessed, unspecified); 3 assessed low; 2 given
//           physical_violence; 10 home visits; 5 school identifications
//  2021-09  2 closed, final risk low, final problems physical_violence
//           and unspecified
//  2022-03  4 opened: age 13-15, 3 F + 1 M, roma, 3 by police + 1 by
//           central_agency (catalogue 2); 1 assessed high; 2 given
//           unaccompanied_foreign_child (catalogue 2), 1 other; 6 home
//           visits; 2 emergency removals, 1 confirmed; 1 dropout_risk
//  2022-06  1 closed (risk_reduced), final risk low, final problem other:
//           a closing within the period, still managed
//  2023-02  100 opened, after the period: not seen
//
//  Under catalogue 1: managed 7 = 5 + 4 - 2; by risk low 1, high 1,
//  unassessed 5; by problem physical_violence 1, other 3, unspecified 3.
static void
s_view (cp_view_t *view)
{
    cp_period_t period;
    if (cp_period_parse ("2022", &period) != 0) {
        fprintf (stderr, "  period 2022 does not parse\n");
        exit (1);
    }
    cp_view_init (view, &period, "national");
    view->municipalities_reporting = 3;

    cp_tally_t *tally = cp_tally_new ();
    int low = s_id (CP_DIM_RISK, "low"), high = s_id (CP_DIM_RISK, "high");
    int physical = s_id (CP_DIM_PROBLEM, "physical_violence");
    int other = s_id (CP_DIM_PROBLEM, "other");
    int unaccompanied = s_id (CP_DIM_PROBLEM, "unaccompanied_foreign_child");
    const int none = CP_SLOT_NONE;

    s_add (tally, 2021, 5, CP_METRIC_NEW, 0, 5);
    s_add (tally, 2021, 5, CP_METRIC_NEW_SEX, s_id (CP_DIM_SEX, "F"), 5);
    s_add (tally, 2021, 5, CP_METRIC_RISK_STATE, none, 5);
    s_add (tally, 2021, 5, CP_METRIC_PROBLEM_STATE, none, 5);
    s_move (tally, 2021, 5, CP_METRIC_RISK_STATE, none, low, 3);
    s_move (tally, 2021, 5, CP_METRIC_PROBLEM_STATE, none, physical, 2);
    s_add (tally, 2021, 5, CP_METRIC_HOME_VISITS, 0, 10);
    s_add (tally, 2021, 5, CP_METRIC_SCHOOL, s_id (CP_DIM_SCHOOL, "first_grade"), 5);

    s_add (tally, 2021, 9, CP_METRIC_CLOSED, 0, 2);
    s_add (tally, 2021, 9, CP_METRIC_CLOSED_REASON, s_id (CP_DIM_CLOSE_REASON, "adult"), 2);
    s_add (tally, 2021, 9, CP_METRIC_CLOSED_RISK, low, 2);
    s_add (tally, 2021, 9, CP_METRIC_CLOSED_PROBLEM, physical, 1);
    s_add (tally, 2021, 9, CP_METRIC_CLOSED_PROBLEM, none, 1);

    s_add (tally, 2022, 3, CP_METRIC_NEW, 0, 4);
    s_add (tally, 2022, 3, CP_METRIC_NEW_AGE_GROUP, s_id (CP_DIM_AGE_GROUP, "13-15"), 4);
    s_add (tally, 2022, 3, CP_METRIC_NEW_SEX, s_id (CP_DIM_SEX, "F"), 3);
    s_add (tally, 2022, 3, CP_METRIC_NEW_SEX, s_id (CP_DIM_SEX, "M"), 1);
    s_add (tally, 2022, 3, CP_METRIC_NEW_ETHNICITY, s_id (CP_DIM_ETHNICITY, "roma"), 4);
    s_add (tally, 2022, 3, CP_METRIC_NEW_REFERRAL, s_id (CP_DIM_REFERRAL, "police"), 3);
    s_add (tally, 2022, 3, CP_METRIC_NEW_REFERRAL, s_id (CP_DIM_REFERRAL, "central_agency"), 1);
    s_add (tally, 2022, 3, CP_METRIC_RISK_STATE, none, 4);
    s_add (tally, 2022, 3, CP_METRIC_PROBLEM_STATE, none, 4);
    s_move (tally, 2022, 3, CP_METRIC_RISK_STATE, none, high, 1);
    s_move (tally, 2022, 3, CP_METRIC_PROBLEM_STATE, none, unaccompanied, 2);
    s_move (tally, 2022, 3, CP_METRIC_PROBLEM_STATE, none, other, 1);
    s_add (tally, 2022, 3, CP_METRIC_HOME_VISITS, 0, 6);
    int removal = s_id (CP_DIM_MEASURE, "emergency_removal");
    s_add (tally, 2022, 3, CP_METRIC_MEASURES_TAKEN, removal, 2);
    s_add (tally, 2022, 3, CP_METRIC_MEASURES_CONFIRMED, removal, 1);
    s_add (tally, 2022, 3, CP_METRIC_SCHOOL, s_id (CP_DIM_SCHOOL, "dropout_risk"), 1);

    s_add (tally, 2022, 6, CP_METRIC_CLOSED, 0, 1);
    s_add (tally, 2022, 6, CP_METRIC_CLOSED_REASON, s_id (CP_DIM_CLOSE_REASON, "risk_reduced"), 1);
    s_add (tally, 2022, 6, CP_METRIC_CLOSED_RISK, low, 1);
    s_add (tally, 2022, 6, CP_METRIC_CLOSED_PROBLEM, other, 1);

    s_add (tally, 2023, 2, CP_METRIC_NEW, 0, 100);
    s_add (tally, 2023, 2, CP_METRIC_RISK_STATE, none, 100);
    s_add (tally, 2023, 2, CP_METRIC_PROBLEM_STATE, none, 100);

    //  Stored rows, fed in month order as the stores do.
    int32_t month = INT32_MIN;
    const cp_tally_deltas_t *deltas;
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    while ((deltas = cp_tally_next (tally, &month))) {
        size_t size = cp_tally_deltas_encode (deltas, buf);
        CHECK_EQ_INT (cp_view_add_encoded (view, month, buf, size), 0);
    }
    cp_tally_destroy (&tally);
}

//  Captured output of a print function, NUL-terminated; caller frees.
typedef struct {
    char *text;
    size_t size;
    FILE *file;
} s_capture_t;

static FILE *
s_capture_open (s_capture_t *capture)
{
    capture->text = NULL;
    capture->size = 0;
    capture->file = open_memstream (&capture->text, &capture->size);
    if (!capture->file) {
        fprintf (stderr, "  open_memstream failed\n");
        exit (1);
    }
    return capture->file;
}

static char *
s_capture_close (s_capture_t *capture)
{
    fclose (capture->file);
    return capture->text;
}

//  =====================================================================
//  Figures

static void
test_figures (void)
{
    const cp_catalogue_t *catalogue = s_catalogue ();
    cp_view_t view;
    s_view (&view);
    CHECK_EQ_INT (cp_view_last_month (&view), 275);
    cp_figures_t figures;
    cp_view_figures (&view, catalogue, 1, &figures);
    CHECK_EQ_INT (figures.catalogue, 1);
    CHECK_EQ_INT (figures.managed, 7);
    CHECK_EQ_INT (figures.opened, 4);
    CHECK_EQ_INT (figures.closed, 1);
    CHECK_EQ_INT (figures.home_visits, 6);

    int64_t *risk = figures.breakdowns [CP_BREAKDOWN_MANAGED_RISK];
    CHECK_EQ_INT (risk [s_id (CP_DIM_RISK, "low")], 1);
    CHECK_EQ_INT (risk [s_id (CP_DIM_RISK, "medium")], 0);
    CHECK_EQ_INT (risk [s_id (CP_DIM_RISK, "high")], 1);
    CHECK_EQ_INT (risk [s_id (CP_DIM_RISK, "emergency")], 0);
    CHECK_EQ_INT (risk [CP_SLOT_NONE], 5);

    int64_t *problem = figures.breakdowns [CP_BREAKDOWN_MANAGED_PROBLEM];
    CHECK_EQ_INT (problem [s_id (CP_DIM_PROBLEM, "physical_violence")], 1);
    CHECK_EQ_INT (problem [s_id (CP_DIM_PROBLEM, "other")], 3);
    CHECK_EQ_INT (problem [s_id (CP_DIM_PROBLEM, "unaccompanied_foreign_child")], 0);
    CHECK_EQ_INT (problem [CP_SLOT_NONE], 3);

    //  The state breakdowns add up to managed, under either version.
    int64_t risk_sum = 0, problem_sum = 0;
    for (int slot = 0; slot < CP_SLOTS; slot++) {
        risk_sum += risk [slot];
        problem_sum += problem [slot];
    }
    CHECK_EQ_INT (risk_sum, figures.managed);
    CHECK_EQ_INT (problem_sum, figures.managed);

    int64_t *referral = figures.breakdowns [CP_BREAKDOWN_NEW_REFERRAL];
    CHECK_EQ_INT (referral [s_id (CP_DIM_REFERRAL, "police")], 3);
    CHECK_EQ_INT (referral [s_id (CP_DIM_REFERRAL, "other")], 1);
    CHECK_EQ_INT (referral [s_id (CP_DIM_REFERRAL, "central_agency")], 0);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_NEW_SEX][s_id (CP_DIM_SEX, "F")], 3);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_NEW_SEX][s_id (CP_DIM_SEX, "M")], 1);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_NEW_AGE_GROUP][s_id (CP_DIM_AGE_GROUP, "13-15")], 4);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_NEW_ETHNICITY][s_id (CP_DIM_ETHNICITY, "roma")], 4);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_CLOSED_REASON]
                  [s_id (CP_DIM_CLOSE_REASON, "risk_reduced")], 1);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_CLOSED_REASON]
                  [s_id (CP_DIM_CLOSE_REASON, "adult")], 0);
    int removal = s_id (CP_DIM_MEASURE, "emergency_removal");
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MEASURES_TAKEN][removal], 2);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_MEASURES_CONFIRMED][removal], 1);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_SCHOOL][s_id (CP_DIM_SCHOOL, "dropout_risk")], 1);
    CHECK_EQ_INT (figures.breakdowns [CP_BREAKDOWN_SCHOOL][s_id (CP_DIM_SCHOOL, "first_grade")], 0);

    //  Under catalogue 2 the new codes count as themselves.
    cp_view_figures (&view, catalogue, 2, &figures);
    CHECK_EQ_INT (figures.catalogue, 2);
    CHECK_EQ_INT (figures.managed, 7);
    problem = figures.breakdowns [CP_BREAKDOWN_MANAGED_PROBLEM];
    CHECK_EQ_INT (problem [s_id (CP_DIM_PROBLEM, "other")], 1);
    CHECK_EQ_INT (problem [s_id (CP_DIM_PROBLEM, "unaccompanied_foreign_child")], 2);
    CHECK_EQ_INT (problem [CP_SLOT_NONE], 3);
    referral = figures.breakdowns [CP_BREAKDOWN_NEW_REFERRAL];
    CHECK_EQ_INT (referral [s_id (CP_DIM_REFERRAL, "other")], 0);
    CHECK_EQ_INT (referral [s_id (CP_DIM_REFERRAL, "central_agency")], 1);

    //  A quarter: 2022-Q2 sees the March cases as managed, not new.
    cp_period_t quarter;
    CHECK_EQ_INT (cp_period_parse ("2022-Q2", &quarter), 0);
    cp_view_t second;
    cp_view_init (&second, &quarter, "county:tirane");
    CHECK_EQ_INT (strcmp (second.scope, "county:tirane"), 0);
    cp_tally_row_t *row = calloc (1, sizeof (cp_tally_row_t));
    uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    row->cells [CP_CELL (CP_METRIC_NEW, 0)] = 4;
    CHECK_EQ_INT (cp_view_add_encoded (&second, 266, buf, cp_tally_row_encode (row, buf)), 0);
    row->cells [CP_CELL (CP_METRIC_NEW, 0)] = 2;
    row->cells [CP_CELL (CP_METRIC_CLOSED, 0)] = 1;
    CHECK_EQ_INT (cp_view_add_encoded (&second, 267, buf, cp_tally_row_encode (row, buf)), 0);
    row->cells [CP_CELL (CP_METRIC_NEW, 0)] = 50;
    CHECK_EQ_INT (cp_view_add_encoded (&second, 270, buf, cp_tally_row_encode (row, buf)), 0);
    //  A malformed row is refused; a row after the end is not even read.
    CHECK_EQ_INT (cp_view_add_encoded (&second, 268, buf, 3), CP_EMALFORMED);
    CHECK_EQ_INT (cp_view_add_encoded (&second, 270, buf, 3), 0);
    cp_view_figures (&second, catalogue, 2, &figures);
    CHECK_EQ_INT (figures.opened, 2);
    CHECK_EQ_INT (figures.closed, 1);
    CHECK_EQ_INT (figures.managed, 6);
    free (row);
}

//  =====================================================================
//  JSON

static const char *s_keys [] = {
    "period", "scope", "catalogue", "municipalities_reporting", "managed", "new",
    "new_by_age_group", "new_by_sex", "new_by_ethnicity", "new_by_referral", "closed",
    "closed_by_reason", "managed_by_risk", "managed_by_problem", "home_visits",
    "measures_taken", "measures_court_confirmed", "school_identified"
};

//  Checks one breakdown object: exactly the codes of the version (and the
//  "none" code), each an integer.
static void
s_check_breakdown (json_t *object, cp_breakdown_t breakdown, int version)
{
    const cp_catalogue_t *catalogue = s_catalogue ();
    cp_dim_t dim = cp_breakdown_dim (breakdown);
    CHECK (json_is_object (object));
    size_t expected = 0;
    for (int id = 0; id < cp_catalogue_count (catalogue, dim); id++) {
        const char *code = cp_catalogue_code (catalogue, dim, id);
        json_t *value = json_object_get (object, code);
        if (cp_catalogue_since (catalogue, dim, id) <= version) {
            expected++;
            if (!json_is_integer (value)) {
                fprintf (stderr, "  %s lacks %s\n", cp_breakdown_key (breakdown), code);
                testing_failures_++;
            }
        }
        else
        if (value) {
            fprintf (stderr, "  %s has %s under catalogue %d\n",
                     cp_breakdown_key (breakdown), code, version);
            testing_failures_++;
        }
    }
    const char *none = cp_breakdown_none (breakdown);
    if (none) {
        expected++;
        CHECK (json_is_integer (json_object_get (object, none)));
    }
    CHECK_EQ_INT (json_object_size (object), expected);
}

static json_t *
s_json_of (const cp_view_t *view, int version)
{
    cp_figures_t figures;
    cp_view_figures (view, s_catalogue (), version, &figures);
    s_capture_t capture;
    CHECK_EQ_INT (cp_view_print_json (view, &figures, s_catalogue (), s_capture_open (&capture)), 0);
    char *text = s_capture_close (&capture);
    CHECK (capture.size > 0 && text [capture.size - 1] == '\n');
    json_error_t error;
    json_t *root = json_loads (text, 0, &error);
    if (!root)
        fprintf (stderr, "  JSON does not parse: %s\n%s\n", error.text, text);
    free (text);
    return root;
}

static void
test_json (void)
{
    cp_view_t view;
    s_view (&view);
    for (int version = 1; version <= 2; version++) {
        json_t *root = s_json_of (&view, version);
        CHECK (json_is_object (root));
        if (!root)
            continue;
        for (size_t index = 0; index < sizeof s_keys / sizeof s_keys [0]; index++)
            if (!json_object_get (root, s_keys [index])) {
                fprintf (stderr, "  no key %s\n", s_keys [index]);
                testing_failures_++;
            }
        CHECK_EQ_INT (json_object_size (root), sizeof s_keys / sizeof s_keys [0]);
        CHECK_EQ_INT (strcmp (json_string_value (json_object_get (root, "period")), "2022"), 0);
        CHECK_EQ_INT (strcmp (json_string_value (json_object_get (root, "scope")), "national"), 0);
        CHECK_EQ_INT (json_integer_value (json_object_get (root, "catalogue")), version);
        CHECK_EQ_INT (json_integer_value (json_object_get (root, "municipalities_reporting")), 3);
        CHECK_EQ_INT (json_integer_value (json_object_get (root, "managed")), 7);
        CHECK_EQ_INT (json_integer_value (json_object_get (root, "new")), 4);
        CHECK_EQ_INT (json_integer_value (json_object_get (root, "closed")), 1);
        CHECK_EQ_INT (json_integer_value (json_object_get (root, "home_visits")), 6);
        for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++)
            s_check_breakdown (json_object_get (root, cp_breakdown_key (breakdown)),
                               breakdown, version);

        json_t *risk = json_object_get (root, "managed_by_risk");
        CHECK_EQ_INT (json_integer_value (json_object_get (risk, "unassessed")), 5);
        CHECK_EQ_INT (json_integer_value (json_object_get (risk, "medium")), 0);
        json_t *problem = json_object_get (root, "managed_by_problem");
        CHECK_EQ_INT (json_integer_value (json_object_get (problem, "unspecified")), 3);
        CHECK_EQ_INT (json_integer_value (json_object_get (problem, "other")),
                      version == 1? 3: 1);
        json_t *referral = json_object_get (root, "new_by_referral");
        CHECK_EQ_INT (json_integer_value (json_object_get (referral, "other")),
                      version == 1? 1: 0);
        CHECK_EQ_INT (json_object_get (referral, "central_agency") != NULL, version == 2);
        CHECK_EQ_INT (json_object_get (problem, "child_labour") != NULL, version == 2);
        //  Breakdowns without a "none" code do not grow one.
        CHECK (!json_object_get (json_object_get (root, "new_by_sex"), "unassessed"));
        CHECK (!json_object_get (json_object_get (root, "new_by_sex"), "unspecified"));
        json_decref (root);
    }
}

//  =====================================================================
//  Table

//  Characters (code points) in the first bytes of a UTF-8 string.
static size_t
s_chars (const char *text, size_t bytes)
{
    size_t chars = 0;
    for (size_t index = 0; index < bytes; index++)
        chars += ((unsigned char) text [index] & 0xC0) != 0x80;
    return chars;
}

//  Reads a table: every figure line's value column must end at the same
//  character, and every breakdown's rows must add up to its total line.
//  Returns the number of figure lines; counts totals into *totals.
static int
s_check_table (char *text, const char *total_word, int *totals)
{
    int lines = 0, line_number = 0;
    long end_column = -1;
    int64_t section_sum = 0;
    *totals = 0;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        line_number++;
        size_t length = strlen (line);
        //  Figure lines end in a number; the title line (first) does too.
        if (line_number == 1 || length == 0 || line [length - 1] < '0' || line [length - 1] > '9') {
            section_sum = 0;
            continue;
        }
        lines++;
        long column = (long) s_chars (line, length);
        if (end_column < 0)
            end_column = column;
        if (column != end_column) {
            fprintf (stderr, "  misaligned (%ld, not %ld): %s\n", column, end_column, line);
            testing_failures_++;
        }
        size_t start = length;
        while (start > 0 && line [start - 1] >= '0' && line [start - 1] <= '9')
            start--;
        if (start > 0 && line [start - 1] == '-')
            start--;
        int64_t value = strtoll (line + start, NULL, 10);
        const char *label = line + strspn (line, " ");
        if (strncmp (label, total_word, strlen (total_word)) == 0
        &&  label [strlen (total_word)] == ' ') {
            (*totals)++;
            if (value != section_sum) {
                fprintf (stderr, "  total %lld, rows add up to %lld\n",
                         (long long) value, (long long) section_sum);
                testing_failures_++;
            }
            section_sum = 0;
        }
        else
            section_sum += value;
    }
    return lines;
}

//  Rows a table or CSV prints for a version: 4 figures, then per
//  breakdown every code the version knows and its "none" code.
static int
s_rows (int version)
{
    const cp_catalogue_t *catalogue = s_catalogue ();
    int rows = 4;
    for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++) {
        cp_dim_t dim = cp_breakdown_dim (breakdown);
        for (int id = 0; id < cp_catalogue_count (catalogue, dim); id++)
            rows += cp_catalogue_since (catalogue, dim, id) <= version;
        rows += cp_breakdown_none (breakdown) != NULL;
    }
    return rows;
}

static void
test_table (void)
{
    cp_view_t view;
    s_view (&view);
    static const struct {
        const char *lang, *total, *labels [6];
    } langs [] = {
        {"sq", "Gjithsej", {"Raste të menaxhuara", "Femra", "pa vlerësim rreziku",
                            "pa problem të përcaktuar", "Raste të reja sipas gjinisë", "Periudha 2022"}},
        {"en", "Total", {"Cases managed", "Female", "unassessed", "unspecified",
                         "New cases by sex", "Period 2022"}},
    };
    for (int version = 1; version <= 2; version++)
        for (size_t lang = 0; lang < 2; lang++) {
            cp_figures_t figures;
            cp_view_figures (&view, s_catalogue (), version, &figures);
            s_capture_t capture;
            CHECK_EQ_INT (cp_view_print_table (&view, &figures, s_catalogue (), langs [lang].lang,
                                               s_capture_open (&capture)), 0);
            char *text = s_capture_close (&capture);
            for (int index = 0; index < 6; index++)
                CHECK_STR_CONTAINS (text, langs [lang].labels [index]);
            if (version == 1)
                CHECK (!strstr (text, lang? "unaccompanied": "të pashoqëruar"));
            else
                CHECK_STR_CONTAINS (text, lang? "unaccompanied": "të pashoqëruar");
            //  The other language's words are not there.
            CHECK (!strstr (text, lang? "Gjithsej": "Total"));
            int totals = 0;
            int lines = s_check_table (text, langs [lang].total, &totals);
            CHECK_EQ_INT (totals, CP_BREAKDOWN_COUNT);
            CHECK_EQ_INT (lines, s_rows (version) + CP_BREAKDOWN_COUNT);
            free (text);
        }
}

//  =====================================================================
//  CSV

static void
test_csv (void)
{
    cp_view_t view;
    s_view (&view);
    for (int version = 1; version <= 2; version++) {
        cp_figures_t figures;
        cp_view_figures (&view, s_catalogue (), version, &figures);
        s_capture_t capture;
        CHECK_EQ_INT (cp_view_print_csv (&view, &figures, s_catalogue (), "en",
                                         s_capture_open (&capture)), 0);
        char *text = s_capture_close (&capture);
        CHECK (strncmp (text, "indicator,code,label,value\n", 27) == 0);
        int lines = 0;
        for (char *at = text; *at; at++)
            lines += *at == '\n';
        CHECK_EQ_INT (lines, 1 + s_rows (version));
        CHECK_STR_CONTAINS (text, "\nmanaged,,Cases managed,7\n");
        CHECK_STR_CONTAINS (text, "\nnew,,New cases,4\n");
        CHECK_STR_CONTAINS (text, "\nnew_by_sex,F,Female,3\n");
        CHECK_STR_CONTAINS (text, "\nmanaged_by_risk,unassessed,unassessed,5\n");
        CHECK_STR_CONTAINS (text, "\nmeasures_court_confirmed,emergency_removal,"
                                  "emergency removal into alternative care,1\n");
        //  A label with a comma is quoted.
        CHECK_STR_CONTAINS (text, "\nschool_identified,disability,"
                                  "\"with disability, supported by the CPU\",0\n");
        if (version == 1)
            CHECK (!strstr (text, "central_agency"));
        else
            CHECK_STR_CONTAINS (text, "\nnew_by_referral,central_agency,"
                                      "State Agency for Child Rights and Protection,1\n");
        free (text);
    }
    //  In Albanian, a quoted label with a comma and UTF-8.
    cp_figures_t figures;
    cp_view_figures (&view, s_catalogue (), 1, &figures);
    s_capture_t capture;
    CHECK_EQ_INT (cp_view_print_csv (&view, &figures, s_catalogue (), "sq",
                                     s_capture_open (&capture)), 0);
    char *text = s_capture_close (&capture);
    CHECK_STR_CONTAINS (text, "\nclosed_by_reason,risk_reduced,\"është reduktuar niveli i "
                              "rrezikut, në rrezik të ulët/mungesë rreziku\",1\n");
    CHECK_STR_CONTAINS (text, "\nmanaged_by_problem,unspecified,pa problem të përcaktuar,3\n");
    free (text);
}

//  =====================================================================
//  Comparison with a published report

static void
test_comparison (void)
{
    cp_view_t view;
    s_view (&view);
    cp_figures_t figures;
    cp_view_figures (&view, s_catalogue (), 1, &figures);
    //  Every non-zero figure of the view, except: new (5, ours 4),
    //  new_by_sex M (2, ours 1), school first_grade (1, ours 0).
    const char *report =
        "{\"period\": \"2022\", \"managed\": 7, \"new\": 5, \"closed\": 1, \"home_visits\": 6,"
        " \"new_by_age_group\": {\"13-15\": 4},"
        " \"new_by_sex\": {\"F\": 3, \"M\": 2},"
        " \"new_by_ethnicity\": {\"roma\": 4},"
        " \"new_by_referral\": {\"police\": 3, \"other\": 1},"
        " \"closed_by_reason\": {\"risk_reduced\": 1, \"adult\": 0},"
        " \"managed_by_risk\": {\"low\": 1, \"high\": 1, \"unassessed\": 5},"
        " \"managed_by_problem_catalogue_1\": {\"physical_violence\": 1, \"other\": 3,"
        "                                      \"unspecified\": 3},"
        " \"managed_by_problem_catalogue_2\": {\"other\": 99},"
        " \"measures_taken\": {\"emergency_removal\": 2},"
        " \"measures_court_confirmed\": {\"emergency_removal\": 1},"
        " \"school_identified\": {\"dropout_risk\": 1, \"first_grade\": 1}}";
    for (int lang = 0; lang < 2; lang++) {
        s_capture_t capture;
        int differences = cp_view_print_comparison (&view, &figures, s_catalogue (),
                                                    lang? "en": "sq", report,
                                                    s_capture_open (&capture));
        char *text = s_capture_close (&capture);
        CHECK_EQ_INT (differences, 3);
        int marked = 0, matched = 0;
        for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
            if (strstr (line, "differs")) {
                marked++;
                CHECK (strstr (line, lang? "New cases ": "Raste të reja ")
                    || strstr (line, lang? "Male": "Meshkuj")
                    || strstr (line, lang? "to enrol in first grade": "klasë të parë"));
            }
            matched += strstr (line, "✓") != NULL;
        }
        CHECK_EQ_INT (marked, 3);
        //  Every row but the totals is compared.
        CHECK_EQ_INT (marked + matched, s_rows (1));
        free (text);
    }
    //  Not JSON, or JSON that is not an object.
    s_capture_t capture;
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en",
                                            "managed: 7", s_capture_open (&capture)), -1);
    free (s_capture_close (&capture));
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en",
                                            "[7]", s_capture_open (&capture)), -1);
    free (s_capture_close (&capture));
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en",
                                            "", s_capture_open (&capture)), -1);
    free (s_capture_close (&capture));
    //  An empty report: every non-zero figure differs.
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en",
                                            "{}", s_capture_open (&capture)), 20);
    free (s_capture_close (&capture));
}


//  Under catalogue 2 the problems are compared with the report's
//  catalogue-2 table, under catalogue 1 with its catalogue-1 table: a
//  report that prints them twice, as report-2022.json does.
static void
test_comparison_catalogue_2 (void)
{
    cp_view_t view;
    s_view (&view);
    //  Every figure of the view under catalogue 2; its problems under 1 are
    //  physical_violence 1, other 3 (1 + 2 unaccompanied), unspecified 3,
    //  and its referral central_agency is other there.
    const char *report =
        "{\"period\": \"2022\", \"managed\": 7, \"new\": 4, \"closed\": 1, \"home_visits\": 6,"
        " \"new_by_age_group\": {\"13-15\": 4},"
        " \"new_by_sex\": {\"F\": 3, \"M\": 1},"
        " \"new_by_ethnicity\": {\"roma\": 4},"
        " \"new_by_referral\": {\"police\": 3, \"central_agency\": 1},"
        " \"closed_by_reason\": {\"risk_reduced\": 1},"
        " \"managed_by_risk\": {\"low\": 1, \"high\": 1, \"unassessed\": 5},"
        " \"managed_by_problem_catalogue_1\": {\"physical_violence\": 1, \"other\": 3,"
        "                                      \"unspecified\": 3},"
        " \"managed_by_problem_catalogue_2\": {\"physical_violence\": 1, \"other\": 1,"
        "                                      \"unaccompanied_foreign_child\": 2,"
        "                                      \"unspecified\": 3},"
        " \"measures_taken\": {\"emergency_removal\": 2},"
        " \"measures_court_confirmed\": {\"emergency_removal\": 1},"
        " \"school_identified\": {\"dropout_risk\": 1}}";
    cp_figures_t figures;
    cp_view_figures (&view, s_catalogue (), 2, &figures);
    s_capture_t capture;
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en", report,
                                            s_capture_open (&capture)), 0);
    char *text = s_capture_close (&capture);
    //  The catalogue-2 rows are there, compared, and equal.
    CHECK_STR_CONTAINS (text, "unaccompanied foreign children");
    int matched = 0;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        CHECK (!strstr (line, "differs"));
        matched += strstr (line, "✓") != NULL;
    }
    CHECK_EQ_INT (matched, s_rows (2));
    free (text);

    //  Under catalogue 1 the problems match the catalogue-1 table; only the
    //  referral other differs (central_agency folded into it, 1; the
    //  report's catalogue-2 referrals have no other).
    cp_view_figures (&view, s_catalogue (), 1, &figures);
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en", report,
                                            s_capture_open (&capture)), 1);
    text = s_capture_close (&capture);
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"))
        if (strstr (line, "differs"))
            CHECK (strstr (line, "Others"));
    free (text);

    //  The tables swapped: under catalogue 2, other (1, published 3) and
    //  unaccompanied (2, published 0) differ; under 1, other (3, published 1)
    //  and the referral other, as before.
    const char *swapped_1 = strstr (report, "\"managed_by_problem_catalogue_1\"");
    const char *swapped_2 = strstr (report, "\"managed_by_problem_catalogue_2\"");
    CHECK (swapped_1 && swapped_2);
    char *swapped = strdup (report);
    swapped [swapped_1 - report + 30] = '2';
    swapped [swapped_2 - report + 30] = '1';
    cp_view_figures (&view, s_catalogue (), 2, &figures);
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en", swapped,
                                            s_capture_open (&capture)), 2);
    free (s_capture_close (&capture));
    cp_view_figures (&view, s_catalogue (), 1, &figures);
    CHECK_EQ_INT (cp_view_print_comparison (&view, &figures, s_catalogue (), "en", swapped,
                                            s_capture_open (&capture)), 2);
    free (s_capture_close (&capture));
    free (swapped);
}
static void
test_print (void)
{
    cp_view_t view;
    s_view (&view);
    cp_figures_t figures;
    cp_view_figures (&view, s_catalogue (), 2, &figures);
    static const char *formats [] = {"json", "table", "csv"};
    for (int index = 0; index < 3; index++) {
        s_capture_t capture;
        CHECK_EQ_INT (cp_view_print (&view, &figures, s_catalogue (), formats [index], "en",
                                     s_capture_open (&capture)), 0);
        char *text = s_capture_close (&capture);
        CHECK (capture.size > 0);
        free (text);
    }
    static const char *wrong [] = {"xml", "", "JSON", "tables"};
    for (int index = 0; index < 4; index++) {
        s_capture_t capture;
        CHECK_EQ_INT (cp_view_print (&view, &figures, s_catalogue (), wrong [index], "en",
                                     s_capture_open (&capture)), CP_EUSAGE);
        char *text = s_capture_close (&capture);
        CHECK_EQ_INT (capture.size, 0);
        free (text);
    }
}

//  Stored rows are input: a view takes counters only within
//  CP_TALLY_VALUE_MAX, and with the largest rows it takes -- every cell at
//  the bound, before and within the period -- every figure is exact.
//  Before, a row of INT64_MAX cells was taken and the figures overflowed
//  (UBSan in cp_view_figures, a wrapped number printed otherwise).
static void
test_damaged_rows (void)
{
    const cp_catalogue_t *catalogue = s_catalogue ();
    cp_period_t period;
    CHECK_EQ_INT (cp_period_parse ("2022", &period), 0);
    cp_view_t *view = malloc (sizeof (cp_view_t));
    cp_tally_row_t *row = calloc (1, sizeof (cp_tally_row_t));
    static uint8_t buf [CP_TALLY_ROW_ENCODED_MAX];
    cp_figures_t *figures = malloc (sizeof (cp_figures_t));
    if (!view || !row || !figures)
        exit (1);
    int32_t first = cp_tally_month (period.start);

    cp_view_init (view, &period, "national");
    for (int cell = 0; cell < CP_CELLS; cell++)
        row->cells [cell] = INT64_MAX;
    size_t size = cp_tally_row_encode (row, buf);
    CHECK_EQ_INT (cp_view_add_encoded (view, first - 1, buf, size), CP_EMALFORMED);
    CHECK_EQ_INT (cp_view_add_encoded (view, first, buf, size), CP_EMALFORMED);

    cp_view_init (view, &period, "national");
    for (int cell = 0; cell < CP_CELLS; cell++)
        row->cells [cell] = CP_TALLY_VALUE_MAX;
    size = cp_tally_row_encode (row, buf);
    CHECK_EQ_INT (cp_view_add_encoded (view, first - 1, buf, size), 0);
    CHECK_EQ_INT (cp_view_add_encoded (view, first, buf, size), 0);
    //  A second row within the period would pass the bound.
    CHECK_EQ_INT (cp_view_add_encoded (view, first + 1, buf, size), CP_EMALFORMED);
    cp_view_init (view, &period, "national");
    CHECK_EQ_INT (cp_view_add_encoded (view, first - 1, buf, size), 0);
    CHECK_EQ_INT (cp_view_add_encoded (view, first, buf, size), 0);

    const int64_t max = CP_TALLY_VALUE_MAX;
    cp_view_figures (view, catalogue, 2, figures);
    CHECK_EQ_INT (figures->opened, max);
    CHECK_EQ_INT (figures->managed, max + max - max);
    CHECK_EQ_INT (figures->breakdowns [CP_BREAKDOWN_MANAGED_RISK][CP_SLOT_NONE], max);
    //  Under catalogue 1, "other" sums every problem it does not know.
    cp_view_figures (view, catalogue, 1, figures);
    int other = s_id (CP_DIM_PROBLEM, "other"), folded = 0;
    for (int id = 0; id < cp_catalogue_count (catalogue, CP_DIM_PROBLEM); id++)
        folded += cp_catalogue_fold (catalogue, CP_DIM_PROBLEM, id, 1) == other;
    CHECK (folded > 1);
    CHECK_EQ_INT (figures->breakdowns [CP_BREAKDOWN_MANAGED_PROBLEM][other], folded * max);
    CHECK_EQ_INT (figures->breakdowns [CP_BREAKDOWN_MEASURES_TAKEN][0], max);
    free (figures);
    free (row);
    free (view);
}

static void
test_breakdown_names (void)
{
    for (int breakdown = 0; breakdown < CP_BREAKDOWN_COUNT; breakdown++)
        CHECK_EQ_INT (strcmp (cp_breakdown_key (breakdown), s_keys [breakdown < 4? 6 + breakdown
                              : breakdown < 7? 7 + breakdown: 8 + breakdown]), 0);
    CHECK_EQ_INT (strcmp (cp_breakdown_none (CP_BREAKDOWN_MANAGED_RISK), "unassessed"), 0);
    CHECK_EQ_INT (strcmp (cp_breakdown_none (CP_BREAKDOWN_MANAGED_PROBLEM), "unspecified"), 0);
    CHECK (cp_breakdown_none (CP_BREAKDOWN_NEW_SEX) == NULL);
    CHECK_EQ_INT (cp_breakdown_dim (CP_BREAKDOWN_MEASURES_CONFIRMED), CP_DIM_MEASURE);
    CHECK_EQ_INT (cp_breakdown_dim (CP_BREAKDOWN_MANAGED_PROBLEM), CP_DIM_PROBLEM);
    cp_catalogue_destroy (&s_catalogue_2);
}

TESTING_MAIN (
    TEST (test_figures),
    TEST (test_json),
    TEST (test_table),
    TEST (test_csv),
    TEST (test_comparison),
    TEST (test_comparison_catalogue_2),
    TEST (test_print),
    TEST (test_damaged_rows),
    TEST (test_breakdown_names)
)
