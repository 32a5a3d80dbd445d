/*  cp_date: civil dates <-> day numbers, periods.

    The day-number conversion is the well-known era-based algorithm for the
    proleptic Gregorian calendar (as in Howard Hinnant's date notes), which
    needs no tables and is exact for every year we accept.                     */

#include "cp_date.h"
#include "cp_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int32_t
cp_date_from_civil (int year, int month, int day)
{
    year -= month <= 2;
    int era = (year >= 0? year: year - 399) / 400;
    int yoe = year - era * 400;
    int doy = (153 * (month + (month > 2? -3: 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t) (era * 146097 + doe - 719468);
}

void
cp_date_to_civil (int32_t days, int *year, int *month, int *day)
{
    //  In 64 bits, so that every int32 converts: a day number from a damaged
    //  record may be anything, and 32 bits overflow within 719,468 days of
    //  either end.  The divisors are constants, so this costs no divisions.
    int64_t z = (int64_t) days + 719468;
    int64_t era = (z >= 0? z: z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int) (doy - (153 * mp + 2) / 5 + 1);
    *month = (int) (mp < 10? mp + 3: mp - 9);
    *year = (int) (yoe + era * 400 + (*month <= 2));
}

static bool
s_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_month_days (int year, int month)
{
    static const int days [12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && s_leap (year)? 29: days [month - 1];
}

//  Reads n decimal digits; -1 if any is not a digit.
static int
s_digits (const char *text, int n)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (text [i] < '0' || text [i] > '9')
            return -1;
        value = value * 10 + (text [i] - '0');
    }
    return value;
}

int
cp_date_parse (const char *text, size_t len, int32_t *days)
{
    if (len != CP_DATE_STRLEN || text [4] != '-' || text [7] != '-')
        return CP_EBADDATE;
    int year = s_digits (text, 4);
    int month = s_digits (text + 5, 2);
    int day = s_digits (text + 8, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1
    ||  day > s_month_days (year, month))
        return CP_EBADDATE;
    *days = cp_date_from_civil (year, month, day);
    return 0;
}

void
cp_date_format (int32_t days, char *buf)
{
    int year, month, day;
    cp_date_to_civil (days, &year, &month, &day);
    //  Only damaged input has a year that YYYY cannot hold: say so, rather
    //  than print the last four digits as if they were a real date.
    if (year < 0 || year > 9999) {
        memcpy (buf, "not a date", CP_DATE_STRLEN + 1);
        return;
    }
    snprintf (buf, CP_DATE_STRLEN + 1, "%04u-%02u-%02u", (unsigned) year % 10000u,
              (unsigned) month % 100u, (unsigned) day % 100u);
}

int32_t
cp_date_today (void)
{
    const char *fixed = getenv ("CPSYNC_TODAY");
    int32_t days;
    if (fixed && cp_date_parse (fixed, strlen (fixed), &days) == 0)
        return days;
    return (int32_t) (time (NULL) / 86400);
}

int64_t
cp_date_now_ms (void)
{
    const char *fixed = getenv ("CPSYNC_NOW_MS");
    if (fixed && *fixed) {
        char *end;
        errno = 0;
        long long msecs = strtoll (fixed, &end, 10);
        if (!errno && !*end && msecs > 0)
            return (int64_t) msecs;
    }
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int
cp_period_parse (const char *text, cp_period_t *period)
{
    size_t len = strlen (text);
    int year = len >= 4? s_digits (text, 4): -1;
    if (year < CP_DATE_MIN_YEAR || year > 9999)
        return CP_EBADDATE;
    if (len == 4) {
        period->start = cp_date_from_civil (year, 1, 1);
        period->end = cp_date_from_civil (year, 12, 31);
    }
    else
    if (len == 7 && text [4] == '-' && text [5] == 'Q'
    &&  text [6] >= '1' && text [6] <= '4') {
        int first = (text [6] - '1') * 3 + 1;
        period->start = cp_date_from_civil (year, first, 1);
        period->end = cp_date_from_civil (year, first + 2,
                                          s_month_days (year, first + 2));
    }
    else
        return CP_EBADDATE;
    memcpy (period->name, text, len + 1);
    return 0;
}

void
cp_date_format_instant (int64_t msecs, char *buf, size_t size)
{
    time_t seconds = (time_t) (msecs / 1000);
    struct tm utc;
    gmtime_r (&seconds, &utc);
    strftime (buf, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}
