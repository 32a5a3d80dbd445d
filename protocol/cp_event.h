/*  cp_event: the case event of docs/events.md, read from a line of JSON.

    An event is a small fixed-size struct: ids and codes are copied into it,
    so it owns no memory and can be copied, queued and freed freely.  The
    coded fields differ by type; cp_event_kind () describes, for each type,
    which JSON fields it has and which catalogue dimension each belongs to,
    and the rest of the code (validation, the wire codec, the view) is driven
    by that one table.

    Reading a line checks every rule that needs no history: the JSON shape,
    the id alphabet, dates, ages and codes against the active catalogue.  The
    rules that need the case's history are cp_case's.

    The node's own kinds (types from CP_EVENT_OWN_FIRST) report what the
    node did or knows, not what happened in a case: a directive received or
    done, a verdict on published figures, its staffing.  A node makes them
    in the transaction that causes them; import refuses them, cp_case never
    sees them, and they count in no month row.                                */

#ifndef CP_EVENT_H_INCLUDED
#define CP_EVENT_H_INCLUDED

#include "cp_catalogue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_ID_MAX 64            //  characters in an event id or case pseudonym
#define CP_EVENT_CODES 3        //  coded fields of the richest type
#define CP_AGE_MAX 18
#define CP_LINE_MAX 4096        //  a longer import line is rejected unread
#define CP_NOTE_MAX 200         //  bytes of an own kind's note (no NUL)
#define CP_STAFF_WORKERS_MAX 10000          //  workers of one municipality
#define CP_STAFF_CHILDREN_MAX 2000000       //  children of one municipality

typedef enum {
    CP_EVENT_CASE_OPENED = 1,
    CP_EVENT_RISK_ASSESSED,
    CP_EVENT_PROBLEM_SET,
    CP_EVENT_HOME_VISIT,
    CP_EVENT_MEASURE_TAKEN,
    CP_EVENT_MEASURE_CONFIRMED,
    CP_EVENT_SCHOOL_IDENTIFIED,
    CP_EVENT_CASE_CLOSED,
    CP_EVENT_TYPE_MAX = CP_EVENT_CASE_CLOSED,
    //  The node's own kinds
    CP_EVENT_OWN_FIRST = 64,
    CP_EVENT_DIRECTIVE_RECEIVED = CP_EVENT_OWN_FIRST,
    CP_EVENT_DIRECTIVE_DONE,
    CP_EVENT_FIGURES_CHECKED,
    CP_EVENT_STAFF_SET,
    CP_EVENT_OWN_MAX = CP_EVENT_STAFF_SET
} cp_event_type_t;

//  figures_checked's verdict
typedef enum {
    CP_FIGURES_IN_SYNC = 1,
    CP_FIGURES_DIVERGED = 2
} cp_figures_verdict_t;

//  What a type carries besides id, type, case and date.
typedef struct {
    const char *name;                       //  "case_opened", ...
    bool has_age;                           //  only case_opened
    int code_count;                         //  coded fields, 0..CP_EVENT_CODES
    const char *fields [CP_EVENT_CODES];    //  their JSON names ("sex", ...)
    cp_dim_t dims [CP_EVENT_CODES];         //  their dimensions
    bool own;                               //  the node's own kind: no case
} cp_event_kind_t;

typedef struct {
    uint8_t type;                           //  cp_event_type_t
    uint8_t age;                            //  case_opened: years at opening
    int32_t date;                           //  days since 1970-01-01
    char id [CP_ID_MAX + 1];                //  NUL-terminated
    char case_id [CP_ID_MAX + 1];           //  NUL-terminated
    char codes [CP_EVENT_CODES][CP_CODE_MAX + 1];   //  per cp_event_kind ()
    int8_t code_ids [CP_EVENT_CODES];       //  catalogue ids, set by resolve
    //  The node's own kinds: what they report (case_id is empty)
    uint64_t entry;                         //  directive_*: its seq in the downlink
                                            //  log; figures_checked: the as_of of
                                            //  the FIGURES checked
    uint8_t verdict;                        //  figures_checked: cp_figures_verdict_t
    uint32_t workers;                       //  staff_set: workers ...
    uint32_t children;                      //  ... and the municipality's children
    char note [CP_NOTE_MAX + 1];            //  directive_done: the operator's note;
                                            //  figures_checked: the periods that differ
} cp_event_t;

//  The description of a type, or NULL for a number that is not a type.
const cp_event_kind_t *
    cp_event_kind (int type);

//  The type whose name is text (len bytes), or 0; the node's own kinds
//  only when own is true.
int
    cp_event_type_of (const char *text, size_t len, bool own);

//  True when type is one of the node's own kinds.
bool
    cp_event_is_own (int type);

//  Checks what an event of the node's own kinds reports (entry, verdict,
//  staffing, note) against the limits above.  Returns 0 or a cp_error_t,
//  with why.
int
    cp_event_own_check (const cp_event_t *event, char *why, size_t why_size);

//  True when text (len bytes) is 1..CP_ID_MAX characters of [A-Za-z0-9_.:-].
bool
    cp_event_id_valid (const char *text, size_t len);

//  Parses one JSON line (len bytes) into event and checks the rules that need
//  no history against catalogue and today (a day number).  Returns 0 or a
//  cp_error_t, with a message naming the field and value in why.
int
    cp_event_from_json (const char *line, size_t len, const cp_catalogue_t *catalogue,
                        int32_t today, cp_event_t *event, char *why, size_t why_size);

//  Checks the fields of an event that came from elsewhere (the wire) and sets
//  its code_ids from catalogue.  Returns 0 or a cp_error_t, with why.
int
    cp_event_resolve (cp_event_t *event, const cp_catalogue_t *catalogue,
                      char *why, size_t why_size);

#endif
