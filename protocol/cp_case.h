/*  cp_case: a case's history as far as the rules and the view need it, and
    the rules of docs/events.md that depend on it.

    A case remembers its opening (date and the values counted at opening),
    its closing, the latest date of any of its events, and the dated lists
    of its risk assessments, problems and measures taken.  The lists are
    kept in date order, same-dated entries in the order they arrived, so the
    entry in effect on a day is the last one dated on or before it.

    cp_case_check says whether an event may be applied; cp_case_apply applies
    it and adds to a tally the counter changes it causes (see cp_tally.h).
    Both the node (when importing) and the central (when applying a batch)
    run the same two functions, so the two always agree.                     */

#ifndef CP_CASE_H_INCLUDED
#define CP_CASE_H_INCLUDED

#include "cp_event.h"
#include "cp_tally.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_CASE_HISTORY_MAX 4096        //  entries in one of a case's lists

typedef struct {
    int32_t date;
    uint8_t code;               //  catalogue id
} cp_mark_t;

typedef struct {
    cp_mark_t *marks;           //  in date order, ties in arrival order
    uint16_t count;
    uint16_t capacity;
} cp_marks_t;

typedef struct {
    bool opened;                //  false: never opened (a fresh record)
    bool closed;
    int32_t open_date;
    int32_t close_date;         //  valid when closed
    int32_t last_date;          //  latest date of any event of the case
    uint8_t age_group, sex, ethnicity, referral, close_reason;
    cp_marks_t risks;           //  risk_assessed
    cp_marks_t problems;        //  problem_set
    cp_marks_t measures;        //  measure_taken
} cp_case_t;

//  Empties a case (freeing its lists) so it can be reused for another.
void
    cp_case_reset (cp_case_t *self);

//  Checks an event (codes resolved) against a case's history (a case with
//  opened == false when none is stored).  Returns 0 or a cp_error_t, with a
//  message in why.  Changes nothing.
int
    cp_case_check (const cp_case_t *self, const cp_event_t *event,
                   const cp_catalogue_t *catalogue, char *why, size_t why_size);

//  Applies a checked event to the case and adds its counter changes to
//  tally (which may be NULL).  Returns 0, or CP_EHISTORY when a list is full
//  (then nothing has changed).
int
    cp_case_apply (cp_case_t *self, const cp_event_t *event,
                   const cp_catalogue_t *catalogue, cp_tally_t *tally);

//  Bytes cp_case_encode writes for this case.
size_t
    cp_case_encoded_size (const cp_case_t *self);

//  Writes the case into buf (cp_case_encoded_size bytes).
void
    cp_case_encode (const cp_case_t *self, uint8_t *buf);

//  Reads a case from stored bytes into a reset case.  Returns 0 or
//  CP_EMALFORMED, after which the case is reset.  Stored bytes are checked
//  like any other input: besides the layout and the codes, the dates must
//  be ones the rules can have left -- the opening and the latest event
//  within CP_DATE_MIN_YEAR..CP_DATE_MAX_YEAR, opening <= latest, each list
//  in date order between the two, a closed case's closing on its latest
//  event, an open case's closing date and reason 0 -- and a record never
//  opened must hold nothing else (cp_case_encode of a reset case).
int
    cp_case_decode (cp_case_t *self, const uint8_t *data, size_t size);

#endif
