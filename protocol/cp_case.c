/*  cp_case: the history-dependent rules, applying events, stored form.

    Stored form (little-endian): a format byte, a flags byte, open, close and
    last dates (i32 each), the five codes of opening and closing (u8 each),
    then the three lists, each a u16 count and count × (i32 date, u8 code).  */

#include "cp_case.h"
#include "cp_date.h"
#include "cp_error.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FORMAT 1
#define S_HEADER_SIZE 19
#define S_MARK_SIZE 5

void
cp_case_reset (cp_case_t *self)
{
    free (self->risks.marks);
    free (self->problems.marks);
    free (self->measures.marks);
    memset (self, 0, sizeof *self);
}

//  =====================================================================
//  Dated lists

//  Index at which an entry dated date goes: after every entry dated on or
//  before it, so that a same-dated entry that arrives later wins.
static size_t
s_marks_insert_at (const cp_marks_t *marks, int32_t date)
{
    size_t at = marks->count;
    while (at > 0 && marks->marks [at - 1].date > date)
        at--;
    return at;
}

static int
s_marks_insert (cp_marks_t *marks, size_t at, int32_t date, uint8_t code)
{
    if (marks->count == CP_CASE_HISTORY_MAX)
        return CP_EHISTORY;
    if (marks->count == marks->capacity) {
        size_t capacity = marks->capacity? marks->capacity * 2: 4;
        if (capacity > CP_CASE_HISTORY_MAX)
            capacity = CP_CASE_HISTORY_MAX;
        cp_mark_t *grown = realloc (marks->marks, capacity * sizeof (cp_mark_t));
        assert (grown);
        marks->marks = grown;
        marks->capacity = (uint16_t) capacity;
    }
    memmove (marks->marks + at + 1, marks->marks + at,
             (marks->count - at) * sizeof (cp_mark_t));
    marks->marks [at] = (cp_mark_t) {date, code};
    marks->count++;
    return 0;
}

//  The code in effect at the end of the list, or CP_SLOT_NONE.
static int
s_marks_final (const cp_marks_t *marks)
{
    return marks->count? marks->marks [marks->count - 1].code: CP_SLOT_NONE;
}

//  Inserts a state change (risk or problem) and adds the deltas of the
//  interval it now governs: from its date until the next entry's date, cases
//  move from the code that was in effect to the new one.
static int
s_state_insert (cp_marks_t *marks, cp_metric_t metric, int32_t date, uint8_t code,
                cp_tally_t *tally)
{
    size_t at = s_marks_insert_at (marks, date);
    int before = at? marks->marks [at - 1].code: CP_SLOT_NONE;
    int rc = s_marks_insert (marks, at, date, code);
    if (rc || !tally)
        return rc;
    int32_t month = cp_tally_month (date);
    cp_tally_add (tally, month, CP_CELL (metric, before), -1);
    cp_tally_add (tally, month, CP_CELL (metric, code), +1);
    if (at + 1 < marks->count) {
        int32_t next = cp_tally_month (marks->marks [at + 1].date);
        cp_tally_add (tally, next, CP_CELL (metric, code), -1);
        cp_tally_add (tally, next, CP_CELL (metric, before), +1);
    }
    return 0;
}

//  =====================================================================
//  Rules

int
cp_case_check (const cp_case_t *self, const cp_event_t *event,
               const cp_catalogue_t *catalogue, char *why, size_t why_size)
{
    //  Dates are formatted only on the way to a rejection: this runs per event.
    char date [CP_DATE_STRLEN + 1], other [CP_DATE_STRLEN + 1];
    if (event->type == CP_EVENT_CASE_OPENED) {
        if (self->opened)
            return cp_error_why (CP_ECASEOPEN, why, why_size,
                          "field 'case': case '%s' is already opened", event->case_id);
        if (cp_catalogue_age_group (catalogue, event->age) < 0)
            return cp_error_why (CP_EBADAGE, why, why_size,
                          "field 'age': %d is in no age group of catalogue %d",
                          event->age, cp_catalogue_version (catalogue));
        return 0;
    }
    if (!self->opened)
        return cp_error_why (CP_EUNKNOWNCASE, why, why_size,
                      "field 'case': case '%s' has not been opened", event->case_id);
    if (self->closed) {
        cp_date_format (self->close_date, other);
        return cp_error_why (CP_ECASECLOSED, why, why_size,
                      "field 'case': case '%s' was closed on %s", event->case_id, other);
    }
    if (event->date < self->open_date) {
        cp_date_format (event->date, date);
        cp_date_format (self->open_date, other);
        return cp_error_why (CP_EBEFOREOPEN, why, why_size,
                      "field 'date': %s is before case '%s' was opened on %s",
                      date, event->case_id, other);
    }
    const cp_marks_t *list = NULL;
    switch (event->type) {
        case CP_EVENT_RISK_ASSESSED:
            list = &self->risks;
            break;
        case CP_EVENT_PROBLEM_SET:
            list = &self->problems;
            break;
        case CP_EVENT_MEASURE_TAKEN:
            list = &self->measures;
            break;
        case CP_EVENT_MEASURE_CONFIRMED: {
            int measure = event->code_ids [0];
            if (!cp_catalogue_court_confirmed (catalogue, measure))
                return cp_error_why (CP_ENOCOURT, why, why_size,
                              "field 'measure': '%s' is not confirmed by a court",
                              event->codes [0]);
            for (size_t index = 0; index < self->measures.count; index++)
                if (self->measures.marks [index].code == measure
                &&  self->measures.marks [index].date <= event->date)
                    return 0;
            cp_date_format (event->date, date);
            return cp_error_why (CP_ENOMEASURE, why, why_size,
                          "field 'measure': no measure_taken of '%s' on or before %s",
                          event->codes [0], date);
        }
        case CP_EVENT_CASE_CLOSED:
            if (event->date < self->last_date) {
                cp_date_format (event->date, date);
                cp_date_format (self->last_date, other);
                return cp_error_why (CP_ECLOSEORDER, why, why_size,
                              "field 'date': %s is before an event of %s already recorded",
                              date, other);
            }
            break;
    }
    if (list && list->count == CP_CASE_HISTORY_MAX)
        return cp_error_why (CP_EHISTORY, why, why_size, "field 'case': case '%s' already has %d %s events",
                      event->case_id, CP_CASE_HISTORY_MAX, cp_event_kind (event->type)->name);
    return 0;
}

//  =====================================================================
//  Applying

static void
s_count (cp_tally_t *tally, int32_t date, cp_metric_t metric, int slot)
{
    if (tally)
        cp_tally_add (tally, cp_tally_month (date), CP_CELL (metric, slot), +1);
}

int
cp_case_apply (cp_case_t *self, const cp_event_t *event,
               const cp_catalogue_t *catalogue, cp_tally_t *tally)
{
    int32_t date = event->date;
    uint8_t code = (uint8_t) event->code_ids [0];
    int rc = 0;
    switch (event->type) {
        case CP_EVENT_CASE_OPENED:
            self->opened = true;
            self->open_date = date;
            self->age_group = (uint8_t) cp_catalogue_age_group (catalogue, event->age);
            self->sex = (uint8_t) event->code_ids [0];
            self->ethnicity = (uint8_t) event->code_ids [1];
            self->referral = (uint8_t) event->code_ids [2];
            s_count (tally, date, CP_METRIC_NEW, 0);
            s_count (tally, date, CP_METRIC_NEW_AGE_GROUP, self->age_group);
            s_count (tally, date, CP_METRIC_NEW_SEX, self->sex);
            s_count (tally, date, CP_METRIC_NEW_ETHNICITY, self->ethnicity);
            s_count (tally, date, CP_METRIC_NEW_REFERRAL, self->referral);
            s_count (tally, date, CP_METRIC_RISK_STATE, CP_SLOT_NONE);
            s_count (tally, date, CP_METRIC_PROBLEM_STATE, CP_SLOT_NONE);
            break;
        case CP_EVENT_RISK_ASSESSED:
            rc = s_state_insert (&self->risks, CP_METRIC_RISK_STATE, date, code, tally);
            break;
        case CP_EVENT_PROBLEM_SET:
            rc = s_state_insert (&self->problems, CP_METRIC_PROBLEM_STATE, date, code, tally);
            break;
        case CP_EVENT_HOME_VISIT:
            s_count (tally, date, CP_METRIC_HOME_VISITS, 0);
            break;
        case CP_EVENT_MEASURE_TAKEN:
            rc = s_marks_insert (&self->measures, s_marks_insert_at (&self->measures, date),
                                 date, code);
            if (rc == 0)
                s_count (tally, date, CP_METRIC_MEASURES_TAKEN, code);
            break;
        case CP_EVENT_MEASURE_CONFIRMED:
            s_count (tally, date, CP_METRIC_MEASURES_CONFIRMED, code);
            break;
        case CP_EVENT_SCHOOL_IDENTIFIED:
            s_count (tally, date, CP_METRIC_SCHOOL, code);
            break;
        case CP_EVENT_CASE_CLOSED:
            self->closed = true;
            self->close_date = date;
            self->close_reason = code;
            s_count (tally, date, CP_METRIC_CLOSED, 0);
            s_count (tally, date, CP_METRIC_CLOSED_REASON, code);
            s_count (tally, date, CP_METRIC_CLOSED_RISK, s_marks_final (&self->risks));
            s_count (tally, date, CP_METRIC_CLOSED_PROBLEM, s_marks_final (&self->problems));
            break;
    }
    if (rc == 0 && date > self->last_date)
        self->last_date = date;
    return rc;
}

//  =====================================================================
//  Stored form

static void
s_put_i32 (uint8_t *at, int32_t value)
{
    uint32_t bits = (uint32_t) value;
    at [0] = (uint8_t) bits;
    at [1] = (uint8_t) (bits >> 8);
    at [2] = (uint8_t) (bits >> 16);
    at [3] = (uint8_t) (bits >> 24);
}

static int32_t
s_get_i32 (const uint8_t *at)
{
    return (int32_t) (at [0] | (uint32_t) at [1] << 8 | (uint32_t) at [2] << 16
                      | (uint32_t) at [3] << 24);
}

size_t
cp_case_encoded_size (const cp_case_t *self)
{
    return S_HEADER_SIZE + 6
         + S_MARK_SIZE * ((size_t) self->risks.count + self->problems.count
                          + self->measures.count);
}

static uint8_t *
s_put_marks (uint8_t *at, const cp_marks_t *marks)
{
    *at++ = (uint8_t) marks->count;
    *at++ = (uint8_t) (marks->count >> 8);
    for (size_t index = 0; index < marks->count; index++, at += S_MARK_SIZE) {
        s_put_i32 (at, marks->marks [index].date);
        at [4] = marks->marks [index].code;
    }
    return at;
}

void
cp_case_encode (const cp_case_t *self, uint8_t *buf)
{
    buf [0] = S_FORMAT;
    buf [1] = (uint8_t) (self->opened | self->closed << 1);
    s_put_i32 (buf + 2, self->open_date);
    s_put_i32 (buf + 6, self->close_date);
    s_put_i32 (buf + 10, self->last_date);
    buf [14] = self->age_group;
    buf [15] = self->sex;
    buf [16] = self->ethnicity;
    buf [17] = self->referral;
    buf [18] = self->close_reason;
    uint8_t *at = buf + S_HEADER_SIZE;
    at = s_put_marks (at, &self->risks);
    at = s_put_marks (at, &self->problems);
    s_put_marks (at, &self->measures);
}

static int
s_get_marks (cp_marks_t *marks, const uint8_t **at, const uint8_t *end)
{
    if (end - *at < 2)
        return CP_EMALFORMED;
    size_t count = (*at) [0] | (size_t) (*at) [1] << 8;
    *at += 2;
    if (count > CP_CASE_HISTORY_MAX || (size_t) (end - *at) < count * S_MARK_SIZE)
        return CP_EMALFORMED;
    if (count) {
        marks->marks = malloc (count * sizeof (cp_mark_t));
        assert (marks->marks);
    }
    marks->count = marks->capacity = (uint16_t) count;
    for (size_t index = 0; index < count; index++, *at += S_MARK_SIZE) {
        marks->marks [index].date = s_get_i32 (*at);
        marks->marks [index].code = (*at) [4];
        if (marks->marks [index].code >= CP_SLOTS)
            return CP_EMALFORMED;
    }
    return 0;
}

//  True when a list is in date order, every date within first..last.
static bool
s_marks_ordered (const cp_marks_t *marks, int32_t first, int32_t last)
{
    for (size_t index = 0; index < marks->count; index++) {
        int32_t date = marks->marks [index].date;
        if (date < first || date > last
        ||  (index > 0 && date < marks->marks [index - 1].date))
            return false;
    }
    return true;
}

//  True when a decoded case's dates are ones the rules can have left: the
//  opening and latest event within the years an event may have (cp_tally
//  keeps months of those only, and asserts so), each list in date order
//  between them, a closing on the latest event.  A record never opened
//  holds nothing else.
static bool
s_dates_valid (const cp_case_t *self)
{
    if (!self->opened)
        return !self->closed && !self->open_date && !self->close_date && !self->last_date
            && !self->age_group && !self->sex && !self->ethnicity && !self->referral
            && !self->close_reason
            && !self->risks.count && !self->problems.count && !self->measures.count;
    if (self->open_date < cp_date_from_civil (CP_DATE_MIN_YEAR, 1, 1)
    ||  self->last_date < self->open_date
    ||  self->last_date > cp_date_from_civil (CP_DATE_MAX_YEAR, 12, 31))
        return false;
    if (self->closed? self->close_date != self->last_date
                    : self->close_date != 0 || self->close_reason != 0)
        return false;
    return s_marks_ordered (&self->risks, self->open_date, self->last_date)
        && s_marks_ordered (&self->problems, self->open_date, self->last_date)
        && s_marks_ordered (&self->measures, self->open_date, self->last_date);
}

int
cp_case_decode (cp_case_t *self, const uint8_t *data, size_t size)
{
    if (size < S_HEADER_SIZE || data [0] != S_FORMAT || data [1] > 3)
        return CP_EMALFORMED;
    self->opened = data [1] & 1;
    self->closed = (data [1] & 2) != 0;
    self->open_date = s_get_i32 (data + 2);
    self->close_date = s_get_i32 (data + 6);
    self->last_date = s_get_i32 (data + 10);
    self->age_group = data [14];
    self->sex = data [15];
    self->ethnicity = data [16];
    self->referral = data [17];
    self->close_reason = data [18];
    for (int index = 14; index <= 18; index++)
        if (data [index] >= CP_CODES_MAX)
            goto malformed;
    const uint8_t *at = data + S_HEADER_SIZE, *end = data + size;
    if (s_get_marks (&self->risks, &at, end)
    ||  s_get_marks (&self->problems, &at, end)
    ||  s_get_marks (&self->measures, &at, end)
    ||  at != end)
        goto malformed;
    //  A date out of range aborted the daemon at the case's next event
    //  (and again at each resend), and formatting one overflowed.
    if (!s_dates_valid (self))
        goto malformed;
    return 0;
malformed:
    cp_case_reset (self);
    return CP_EMALFORMED;
}
