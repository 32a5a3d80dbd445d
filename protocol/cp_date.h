/*  cp_date: calendar dates as day numbers, and reporting periods.

    A date is held as the number of days since 1970-01-01 (proleptic Gregorian),
    so that comparing and subtracting dates is integer arithmetic and a date
    fits the wire as one small integer.  A period is a year ("2022") or a
    quarter ("2022-Q3"), both with inclusive bounds.                           */

#ifndef CP_DATE_H_INCLUDED
#define CP_DATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_DATE_MIN_YEAR 2000
#define CP_DATE_MAX_YEAR 2099     //  no event is dated later, whatever the clock says
#define CP_DATE_STRLEN 10       //  "YYYY-MM-DD"

typedef struct {
    int32_t start;              //  first day, inclusive
    int32_t end;                //  last day, inclusive
    char name [12];             //  "2022" or "2022-Q3"
} cp_period_t;

//  Day number of a civil date; the caller has checked the date is real.
int32_t
    cp_date_from_civil (int year, int month, int day);

//  Splits a day number into year, month and day; exact for every int32
//  (years -5877641 to 5881580).
void
    cp_date_to_civil (int32_t days, int *year, int *month, int *day);

//  Parses exactly "YYYY-MM-DD" (len bytes, not NUL-terminated) into a day
//  number.  Returns 0, or CP_EBADDATE when the text is not a real date.
int
    cp_date_parse (const char *text, size_t len, int32_t *days);

//  Writes an instant (ms since the epoch) as "YYYY-MM-DDTHH:MM:SSZ" (UTC)
//  into buf (at least 21 bytes).
void
    cp_date_format_instant (int64_t msecs, char *buf, size_t size);

//  Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes).  Any int32
//  is taken: a day whose year is not 0000..9999 (only damaged input has
//  one) is written "not a date" (ten characters, as a date).
void
    cp_date_format (int32_t days, char *buf);

//  Today (UTC) as a day number.  CPSYNC_TODAY=YYYY-MM-DD in the environment
//  overrides it, for tests that need a fixed "today".
int32_t
    cp_date_today (void);

//  Now (UTC) as ms since the epoch: the central's clock for when events
//  arrive and nodes were last heard from.  CPSYNC_NOW_MS=N (ms since the
//  epoch) in the environment overrides it, for tests only: a test can
//  then make events arrive before or after a reporting deadline.  Read
//  here and nowhere else.
int64_t
    cp_date_now_ms (void);

//  Parses "YYYY" or "YYYY-Qn" into a period.  Returns 0 or CP_EBADDATE.
int
    cp_period_parse (const char *text, cp_period_t *period);

#endif
