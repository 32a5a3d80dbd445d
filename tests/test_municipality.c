/*  test_municipality: the embedded list of municipalities and counties, and
    the scopes of a view.

    The list is built into the library from protocol/catalogue/
    municipalities.csv; here it is compared, row by row, with the copy in
    tests/data read at run time (path in CPSYNC_MUNICIPALITIES, which ctest
    sets; an argument would be taken by the harness for a test name), so a
    change to one that is not made to the other shows.  Then the look-ups
    both ways, the county seats, and every scope string the command lines
    accept or must refuse.                                                  */

#include "cp_error.h"
#include "cp_municipality.h"
#include "testing.h"

//  =====================================================================
//  The list

static void
test_counts (void)
{
    CHECK_EQ_INT (cp_municipality_count (), 61);
    CHECK_EQ_INT (cp_county_count (), 12);
}

static void
test_round_trips (void)
{
    int wrong = 0;
    for (int index = 0; index < cp_municipality_count (); index++) {
        const char *code = cp_municipality_code (index);
        wrong += cp_municipality_index (code) != index;
        wrong += !cp_municipality_name (index) || !*cp_municipality_name (index);
        int county = cp_municipality_county (index);
        wrong += county < 0 || county >= cp_county_count ();
        //  A municipality is a county only when it is its county's seat.
        int as_county = cp_county_index (code);
        if (county >= 0 && county < cp_county_count ())
            wrong += as_county != (cp_county_seat (county) == index? county: -1);
    }
    CHECK_EQ_INT (wrong, 0);
    for (int county = 0; county < cp_county_count (); county++) {
        const char *code = cp_county_code (county);
        int seat = cp_county_seat (county);
        //  A county's code is its seat's, and the seat lies in it.
        CHECK_EQ_INT (cp_county_index (code), county);
        CHECK_EQ_INT (cp_municipality_index (code), seat);
        CHECK_EQ_INT (strcmp (cp_municipality_code (seat), code), 0);
        CHECK_EQ_INT (cp_municipality_county (seat), county);
        CHECK_EQ_INT (strcmp (cp_county_name (county), cp_municipality_name (seat)), 0);
    }
    //  Known answers.
    CHECK_EQ_INT (cp_municipality_index ("berat"), 0);
    CHECK_EQ_INT (cp_county_index ("berat"), 0);
    CHECK_EQ_INT (cp_municipality_index ("vlore"), 60);
    CHECK_EQ_INT (strcmp (cp_municipality_name (cp_municipality_index ("kucove")), "Kuçovë"), 0);
    CHECK_EQ_INT (strcmp (cp_county_name (cp_county_index ("tirane")), "Tiranë"), 0);
    CHECK_EQ_INT (cp_municipality_county (cp_municipality_index ("kamez")),
                  cp_county_index ("tirane"));
    CHECK_EQ_INT (cp_county_index ("kamez"), -1);
    CHECK_EQ_INT (cp_county_index ("durres"), 2);
}

static void
test_unknown (void)
{
    static const char *unknown [] = {
        "", "nowhere", "Tirane", "tirane ", " tirane", "tiran", "tiranee", "county:tirane",
        "aaa", "zzz", "Tiranë"
    };
    for (size_t index = 0; index < sizeof unknown / sizeof unknown [0]; index++) {
        CHECK_EQ_INT (cp_municipality_index (unknown [index]), -1);
        CHECK_EQ_INT (cp_county_index (unknown [index]), -1);
    }
    CHECK_EQ_INT (cp_municipality_index (NULL), -1);
    CHECK_EQ_INT (cp_county_index (NULL), -1);
}

//  Splits a CSV line of three plain fields (the file quotes nothing).
static int
s_fields (char *line, char *fields [3])
{
    line [strcspn (line, "\r\n")] = 0;
    int count = 0;
    for (char *at = line; count < 3; count++) {
        fields [count] = at;
        char *comma = strchr (at, ',');
        if (!comma)
            return count + 1;
        *comma = 0;
        at = comma + 1;
    }
    return 4;       //  more than three
}

static void
test_matches_csv (void)
{
    const char *path = getenv ("CPSYNC_MUNICIPALITIES");
    if (!path || !*path) {
        fprintf (stderr, "  CPSYNC_MUNICIPALITIES is not set (ctest sets it)\n");
        testing_failures_++;
        return;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "  cannot open %s\n", path);
        testing_failures_++;
        return;
    }
    char line [256], *fields [3];
    CHECK (fgets (line, sizeof line, file));
    CHECK_EQ_INT (s_fields (line, fields), 3);
    CHECK_EQ_INT (strcmp (fields [0], "code"), 0);

    //  Counties are numbered in order of first appearance.
    char counties [64][64];
    int county_count = 0, row = 0;
    while (fgets (line, sizeof line, file)) {
        if (line [strspn (line, " \r\n")] == 0)
            continue;
        if (s_fields (line, fields) != 3) {
            fprintf (stderr, "  row %d is not three fields\n", row + 1);
            testing_failures_++;
            continue;
        }
        int county = 0;
        while (county < county_count && strcmp (counties [county], fields [2]) != 0)
            county++;
        if (county == county_count && county_count < 64)
            snprintf (counties [county_count++], sizeof counties [0], "%s", fields [2]);
        if (row < cp_municipality_count ()) {
            if (strcmp (cp_municipality_code (row), fields [0]) != 0
            ||  strcmp (cp_municipality_name (row), fields [1]) != 0
            ||  cp_municipality_county (row) != county
            ||  strcmp (cp_county_code (cp_municipality_county (row)), fields [2]) != 0) {
                fprintf (stderr, "  row %d: %s,%s,%s embedded as %s,%s,%s\n", row + 1,
                         fields [0], fields [1], fields [2], cp_municipality_code (row),
                         cp_municipality_name (row),
                         cp_county_code (cp_municipality_county (row)));
                testing_failures_++;
            }
        }
        row++;
    }
    fclose (file);
    CHECK_EQ_INT (row, cp_municipality_count ());
    CHECK_EQ_INT (county_count, cp_county_count ());
    for (int county = 0; county < county_count && county < cp_county_count (); county++)
        CHECK_EQ_INT (strcmp (cp_county_code (county), counties [county]), 0);
}

//  =====================================================================
//  Scopes

static void
test_scope_parse (void)
{
    cp_scope_t scope;
    CHECK_EQ_INT (cp_scope_parse ("national", &scope), 0);
    CHECK_EQ_INT (scope.kind, CP_SCOPE_NATIONAL);
    CHECK_EQ_INT (scope.index, 0);

    CHECK_EQ_INT (cp_scope_parse ("county:tirane", &scope), 0);
    CHECK_EQ_INT (scope.kind, CP_SCOPE_COUNTY);
    CHECK_EQ_INT (scope.index, cp_county_index ("tirane"));

    CHECK_EQ_INT (cp_scope_parse ("municipality:tirane", &scope), 0);
    CHECK_EQ_INT (scope.kind, CP_SCOPE_MUNICIPALITY);
    CHECK_EQ_INT (scope.index, cp_municipality_index ("tirane"));

    CHECK_EQ_INT (cp_scope_parse ("municipality:kamez", &scope), 0);
    CHECK_EQ_INT (scope.kind, CP_SCOPE_MUNICIPALITY);
    CHECK_EQ_INT (scope.index, cp_municipality_index ("kamez"));

    //  Refused: not a county, not a municipality, not a scope at all.
    static const char *refused [] = {
        "county:kamez", "municipality:nowhere", "", "County:tirane", "municipality:",
        "county:", "National", "national ", "nationals", "tirane", "county", "municipality",
        "county:tirane ", "municipality:tirane:x", "county:Tirane", "region:tirane"
    };
    for (size_t index = 0; index < sizeof refused / sizeof refused [0]; index++) {
        int rc = cp_scope_parse (refused [index], &scope);
        if (rc != CP_EUSAGE) {
            fprintf (stderr, "  \"%s\" gives %d, not CP_EUSAGE\n", refused [index], rc);
            testing_failures_++;
        }
    }
    //  No text is no scope (the header documents no default for NULL).
    CHECK_EQ_INT (cp_scope_parse (NULL, &scope), CP_EUSAGE);
}

static void
test_scope_format (void)
{
    char buf [CP_SCOPE_MAX], again [CP_SCOPE_MAX];
    cp_scope_t scope = {CP_SCOPE_NATIONAL, 0}, parsed;
    cp_scope_format (&scope, buf);
    CHECK_EQ_INT (strcmp (buf, "national"), 0);

    int wrong = 0;
    for (int county = 0; county < cp_county_count (); county++) {
        scope = (cp_scope_t) {CP_SCOPE_COUNTY, county};
        cp_scope_format (&scope, buf);
        wrong += strncmp (buf, "county:", 7) != 0 || strcmp (buf + 7, cp_county_code (county));
        wrong += cp_scope_parse (buf, &parsed) != 0;
        wrong += parsed.kind != CP_SCOPE_COUNTY || parsed.index != county;
        cp_scope_format (&parsed, again);
        wrong += strcmp (buf, again) != 0;
    }
    for (int index = 0; index < cp_municipality_count (); index++) {
        scope = (cp_scope_t) {CP_SCOPE_MUNICIPALITY, index};
        cp_scope_format (&scope, buf);
        wrong += strncmp (buf, "municipality:", 13) != 0
              || strcmp (buf + 13, cp_municipality_code (index));
        wrong += cp_scope_parse (buf, &parsed) != 0;
        wrong += parsed.kind != CP_SCOPE_MUNICIPALITY || parsed.index != index;
        cp_scope_format (&parsed, again);
        wrong += strcmp (buf, again) != 0;
    }
    CHECK_EQ_INT (wrong, 0);
    scope = (cp_scope_t) {CP_SCOPE_COUNTY, cp_county_index ("shkoder")};
    cp_scope_format (&scope, buf);
    CHECK_EQ_INT (strcmp (buf, "county:shkoder"), 0);
    scope = (cp_scope_t) {CP_SCOPE_MUNICIPALITY, cp_municipality_index ("malesi-e-madhe")};
    cp_scope_format (&scope, buf);
    CHECK_EQ_INT (strcmp (buf, "municipality:malesi-e-madhe"), 0);
}

static void
test_scope_contains (void)
{
    cp_scope_t national, county, municipality;
    CHECK_EQ_INT (cp_scope_parse ("national", &national), 0);
    CHECK_EQ_INT (cp_scope_parse ("county:tirane", &county), 0);
    CHECK_EQ_INT (cp_scope_parse ("municipality:kamez", &municipality), 0);
    int in_county = 0, in_municipality = 0, wrong = 0;
    for (int index = 0; index < cp_municipality_count (); index++) {
        //  national ⊇ county ⊇ municipality
        wrong += !cp_scope_contains (&national, index);
        in_county += cp_scope_contains (&county, index);
        in_municipality += cp_scope_contains (&municipality, index);
        wrong += cp_scope_contains (&municipality, index) && !cp_scope_contains (&county, index);
    }
    CHECK_EQ_INT (wrong, 0);
    CHECK_EQ_INT (in_county, 5);            //  kamez, kavaje, rrogozhine, tirane, vore
    CHECK_EQ_INT (in_municipality, 1);
    CHECK (cp_scope_contains (&county, cp_municipality_index ("vore")));
    CHECK (!cp_scope_contains (&county, cp_municipality_index ("durres")));
    CHECK (cp_scope_contains (&municipality, cp_municipality_index ("kamez")));
    CHECK (!cp_scope_contains (&municipality, cp_municipality_index ("tirane")));

    //  Every municipality lies in exactly one county, and in its own scope.
    wrong = 0;
    for (int index = 0; index < cp_municipality_count (); index++) {
        int counties = 0;
        for (int other = 0; other < cp_county_count (); other++) {
            cp_scope_t scope = {CP_SCOPE_COUNTY, other};
            bool in = cp_scope_contains (&scope, index);
            counties += in;
            wrong += in != (cp_municipality_county (index) == other);
        }
        wrong += counties != 1;
        cp_scope_t own = {CP_SCOPE_MUNICIPALITY, index};
        for (int other = 0; other < cp_municipality_count (); other++)
            wrong += cp_scope_contains (&own, other) != (other == index);
    }
    CHECK_EQ_INT (wrong, 0);
}

TESTING_MAIN (
    TEST (test_counts),
    TEST (test_round_trips),
    TEST (test_unknown),
    TEST (test_matches_csv),
    TEST (test_scope_parse),
    TEST (test_scope_format),
    TEST (test_scope_contains)
)
