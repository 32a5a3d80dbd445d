/*  test_date: cp_date's day numbers, date parsing and reporting periods.

    Every day of 2000..2099 goes through civil -> day -> civil and through
    format -> parse; then the ends of int32 (any day number converts and
    formats without overflow), the leap-year edges, the malformed texts a
    date field may carry, and the period names a view may be asked for.     */

#include "cp_date.h"
#include "cp_error.h"
#include "testing.h"

#include <time.h>

//  Parses a NUL-terminated text; returns the result, day number in *days.
static int
s_parse (const char *text, int32_t *days)
{
    return cp_date_parse (text, strlen (text), days);
}

static int
s_days_in_month (int year, int month)
{
    static const int days [12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap? 29: days [month - 1];
}

//  Known answers: the epoch, the first day we accept, the tally's day 0.
static void
test_known_days (void)
{
    CHECK_EQ_INT (cp_date_from_civil (1970, 1, 1), 0);
    CHECK_EQ_INT (cp_date_from_civil (1970, 1, 2), 1);
    CHECK_EQ_INT (cp_date_from_civil (1969, 12, 31), -1);
    CHECK_EQ_INT (cp_date_from_civil (2000, 1, 1), 10957);
    CHECK_EQ_INT (cp_date_from_civil (2022, 3, 14), 19065);
    CHECK_EQ_INT (cp_date_from_civil (2099, 12, 31), 47481);

    char text [CP_DATE_STRLEN + 1];
    cp_date_format (10957, text);
    CHECK (strcmp (text, "2000-01-01") == 0);
    cp_date_format (19065, text);
    CHECK (strcmp (text, "2022-03-14") == 0);
}

//  Every day of 2000..2099: the day numbers follow each other without a
//  gap, and both conversions and format/parse give back what went in.
static void
test_round_trip_every_day (void)
{
    int32_t expected = cp_date_from_civil (2000, 1, 1);
    int failures = 0;
    for (int year = 2000; year <= 2099; year++)
        for (int month = 1; month <= 12; month++)
            for (int day = 1; day <= s_days_in_month (year, month); day++) {
                int32_t days = cp_date_from_civil (year, month, day);
                int y, m, d;
                cp_date_to_civil (days, &y, &m, &d);
                char text [CP_DATE_STRLEN + 1], wanted [40];
                cp_date_format (days, text);
                snprintf (wanted, sizeof wanted, "%04d-%02d-%02d", year, month, day);
                int32_t parsed = -1;
                int rc = s_parse (wanted, &parsed);
                if (days != expected || y != year || m != month || d != day
                ||  strcmp (text, wanted) != 0 || rc != 0 || parsed != days) {
                    if (failures++ < 5)
                        fprintf (stderr, "  day %s: number %d (expected %d), back %d-%d-%d, "
                                 "formatted %s, parsed rc %d -> %d\n", wanted, (int) days,
                                 (int) expected, y, m, d, text, rc, (int) parsed);
                }
                expected++;
            }
    CHECK_EQ_INT (failures, 0);
    CHECK_EQ_INT (expected, cp_date_from_civil (2100, 1, 1));
}

//  Any int32 converts and formats without overflow: a damaged stored record
//  may hold any day number (INT32_MAX overflowed cp_date_to_civil, UBSan).
//  The ends are the proleptic dates of day numbers -2^31 and 2^31 - 1; a
//  year YYYY cannot hold formats as no date at all.
static void
test_every_int32 (void)
{
    int year, month, day;
    cp_date_to_civil (INT32_MAX, &year, &month, &day);
    CHECK_EQ_INT (year, 5881580);
    CHECK_EQ_INT (month, 7);
    CHECK_EQ_INT (day, 11);
    cp_date_to_civil (INT32_MIN, &year, &month, &day);
    CHECK_EQ_INT (year, -5877641);
    CHECK_EQ_INT (month, 6);
    CHECK_EQ_INT (day, 23);

    static const struct { int32_t days; const char *text; } formats [] = {
        {INT32_MAX, "not a date"},
        {INT32_MAX - 719468, "not a date"},
        {INT32_MIN, "not a date"},
        {INT32_MIN + 146096, "not a date"},
        {-719529, "not a date"},        //  -0001-12-31, the day before 0000-01-01
        {-719528, "0000-01-01"},
        {2932896, "9999-12-31"},
        {2932897, "not a date"},        //  10000-01-01
    };
    for (size_t index = 0; index < sizeof formats / sizeof formats [0]; index++) {
        char text [CP_DATE_STRLEN + 1];
        cp_date_format (formats [index].days, text);
        if (strcmp (text, formats [index].text) != 0) {
            fprintf (stderr, "  day %d: formatted %s, expected %s\n",
                     (int) formats [index].days, text, formats [index].text);
            CHECK (false);
        }
    }
    CHECK_EQ_INT (cp_date_from_civil (0, 1, 1), -719528);
    CHECK_EQ_INT (cp_date_from_civil (9999, 12, 31), 2932896);
}

//  The day after the last day of each month is not a real date.
static void
test_month_ends (void)
{
    int failures = 0;
    for (int year = 2000; year <= 2099; year++)
        for (int month = 1; month <= 12; month++) {
            char text [40];
            int32_t days;
            snprintf (text, sizeof text, "%04d-%02d-%02d", year, month,
                      s_days_in_month (year, month) + 1);
            if (s_parse (text, &days) != CP_EBADDATE && failures++ < 5)
                fprintf (stderr, "  %s was accepted\n", text);
        }
    CHECK_EQ_INT (failures, 0);
}

static void
test_leap_years (void)
{
    int32_t days = 0;
    CHECK_EQ_INT (s_parse ("2000-02-29", &days), 0);
    CHECK_EQ_INT (days, cp_date_from_civil (2000, 3, 1) - 1);
    CHECK_EQ_INT (s_parse ("2004-02-29", &days), 0);
    CHECK_EQ_INT (s_parse ("2024-02-29", &days), 0);
    CHECK_EQ_INT (s_parse ("2096-02-29", &days), 0);
    CHECK_EQ_INT (s_parse ("2023-02-29", &days), CP_EBADDATE);
    CHECK_EQ_INT (s_parse ("2022-02-29", &days), CP_EBADDATE);
    CHECK_EQ_INT (s_parse ("2100-02-29", &days), CP_EBADDATE);
    CHECK_EQ_INT (s_parse ("2000-02-30", &days), CP_EBADDATE);
    //  A leap year has 366 days, a common one 365.
    CHECK_EQ_INT (cp_date_from_civil (2001, 1, 1) - cp_date_from_civil (2000, 1, 1), 366);
    CHECK_EQ_INT (cp_date_from_civil (2024, 1, 1) - cp_date_from_civil (2023, 1, 1), 365);
}

static void
test_malformed (void)
{
    static const char *const bad [] = {
        "2022-1-01", "2022-01-1", "20220101", "2022-13-01", "2022-00-10", "2022-01-00",
        "2022-04-31", "2022-06-31", "abcd-ef-gh", "2022/01/01", "2022-01-01 ", " 2022-01-01",
        "2022-01-0a", "+022-01-01", "2022--1-01", "2022-01--1", "", "2022", "2022-01",
        "2022-01-001", "２０２２-01-01",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        int32_t days = 12345;
        int rc = s_parse (bad [index], &days);
        if (rc != CP_EBADDATE)
            fprintf (stderr, "  '%s' gave %d\n", bad [index], rc);
        CHECK_EQ_INT (rc, CP_EBADDATE);
        CHECK_EQ_INT (days, 12345);         //  untouched on failure
    }
    //  Only len bytes count: a longer text is judged by its length, and a
    //  prefix of the right length is a date.
    int32_t days;
    CHECK_EQ_INT (cp_date_parse ("2022-01-01x", 11, &days), CP_EBADDATE);
    CHECK_EQ_INT (cp_date_parse ("2022-01-01x", 10, &days), 0);
    CHECK_EQ_INT (days, cp_date_from_civil (2022, 1, 1));
    CHECK_EQ_INT (cp_date_parse ("2022-01-01", 9, &days), CP_EBADDATE);
    CHECK_EQ_INT (cp_date_parse ("2022-01-01", 0, &days), CP_EBADDATE);
    //  An embedded NUL is not a digit.
    CHECK_EQ_INT (cp_date_parse ("2022-01-0\0", 10, &days), CP_EBADDATE);
}

static void
test_today (void)
{
    setenv ("CPSYNC_TODAY", "2022-06-30", 1);
    CHECK_EQ_INT (cp_date_today (), cp_date_from_civil (2022, 6, 30));
    //  A text that is not a date is ignored: the clock answers.
    setenv ("CPSYNC_TODAY", "yesterday", 1);
    int32_t clock = (int32_t) (time (NULL) / 86400);
    int32_t today = cp_date_today ();
    CHECK (today == clock || today == clock + 1);
    unsetenv ("CPSYNC_TODAY");
    today = cp_date_today ();
    CHECK (today >= clock && today <= clock + 1);
}

static void
test_periods (void)
{
    cp_period_t period;
    CHECK_EQ_INT (cp_period_parse ("2022", &period), 0);
    CHECK_EQ_INT (period.start, cp_date_from_civil (2022, 1, 1));
    CHECK_EQ_INT (period.end, cp_date_from_civil (2022, 12, 31));
    CHECK (strcmp (period.name, "2022") == 0);

    static const int ends [4][4] = {{1, 1, 3, 31}, {4, 1, 6, 30}, {7, 1, 9, 30}, {10, 1, 12, 31}};
    for (int quarter = 1; quarter <= 4; quarter++) {
        char name [16];
        snprintf (name, sizeof name, "2022-Q%d", quarter);
        memset (&period, 0, sizeof period);
        CHECK_EQ_INT (cp_period_parse (name, &period), 0);
        const int *bounds = ends [quarter - 1];
        CHECK_EQ_INT (period.start, cp_date_from_civil (2022, bounds [0], bounds [1]));
        CHECK_EQ_INT (period.end, cp_date_from_civil (2022, bounds [2], bounds [3]));
        CHECK (strcmp (period.name, name) == 0);
    }
    //  The quarters tile the year without gap or overlap.
    cp_period_t q1, q4;
    CHECK_EQ_INT (cp_period_parse ("2024-Q1", &q1), 0);
    CHECK_EQ_INT (cp_period_parse ("2024-Q4", &q4), 0);
    CHECK_EQ_INT (q4.end - q1.start + 1, 366);
    CHECK_EQ_INT (cp_period_parse ("2000", &period), 0);
    CHECK_EQ_INT (period.start, cp_date_from_civil (2000, 1, 1));
    CHECK_EQ_INT (cp_period_parse ("2099-Q4", &period), 0);
    CHECK_EQ_INT (period.end, cp_date_from_civil (2099, 12, 31));

    static const char *const bad [] = {
        "2022-Q5", "2022-Q0", "2022-Q", "2022-q1", "2022Q1", "2022-Q12", "2022-Q1 ",
        "1999", "1999-Q4", "22", "", "20222", "abcd", "2022-", "-2022", "2022-H1", " 2022",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        int rc = cp_period_parse (bad [index], &period);
        if (rc != CP_EBADDATE)
            fprintf (stderr, "  period '%s' gave %d\n", bad [index], rc);
        CHECK_EQ_INT (rc, CP_EBADDATE);
    }
}

TESTING_MAIN (
    TEST (test_known_days),
    TEST (test_round_trip_every_day),
    TEST (test_every_int32),
    TEST (test_month_ends),
    TEST (test_leap_years),
    TEST (test_malformed),
    TEST (test_today),
    TEST (test_periods)
)
