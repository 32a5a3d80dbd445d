/*  central_directives: the directives of the downlink log, and where each
    stands at every municipality it addresses.

    A directive is a downlink entry of kind directive (its body
    cp_directive: referral, deadline or notice, a due day, a text).  Its
    state at a municipality is read from three things the central keeps:
    the log itself (the entry is there: sent), the node's downlink cursor
    as its last HELLO or DOWNACK named it (at or past the entry's seq:
    delivered), and what the node reported back up the uplink, the
    directive_received and directive_done events that the store applies
    into directive_reports (acknowledged; done, with its day and note).  A
    directive with a due day before the central's today (cp_date_today,
    which CPSYNC_TODAY overrides) that is not done is overdue, whatever
    else it is.  Each municipality is in exactly one state, so the counts
    of a directive add up to the municipalities it addresses.

    Reading is all done here, on a store open read-only or to write, in
    short read transactions: `cpsync-central directive list` works while
    `run` holds the store.  Entries are checked against the root key of the
    key table again before they are read.  The checking of a directive to
    send is here too, so that `directive send` and serve's POST refuse the
    same things with the same words.                                       */

#ifndef CENTRAL_DIRECTIVES_H_INCLUDED
#define CENTRAL_DIRECTIVES_H_INCLUDED

#include "central_store.h"
#include "cp_directive.h"
#include "cp_municipality.h"

#include <jansson.h>
#include <stdint.h>

//  Where a directive stands at one municipality, from least to most done;
//  overdue stands apart.
typedef enum {
    CENTRAL_DIRECTIVE_SENT = 0,         //  in the log; its node is not known to have it
    CENTRAL_DIRECTIVE_DELIVERED,        //  its node's downlink cursor is at or past it
    CENTRAL_DIRECTIVE_ACKNOWLEDGED,     //  its node's directive_received was applied
    CENTRAL_DIRECTIVE_DONE,             //  its node's directive_done was applied
    CENTRAL_DIRECTIVE_OVERDUE,          //  due before today, and not done
    CENTRAL_DIRECTIVE_STATES
} central_directive_state_t;

//  "sent", "delivered", "acknowledged", "done", "overdue"; NULL for another
//  number.
const char *
    central_directive_state_name (int state);

//  The state of directive seq, due on due (a day number; 0: no due date),
//  at a municipality whose node's downlink cursor is cursor and which
//  reported report (NULL: nothing), on today (a day number).
central_directive_state_t
    central_directive_state (uint64_t seq, int32_t due, uint64_t cursor,
                             const central_directive_report_t *report, int32_t today);

//  Every directive of store's downlink log, oldest first, as a JSON array
//  (the caller's): each {seq, kind, due, text, issued, to, counts {state:
//  n for every state}, taken_up (referrals: how many are done; null for
//  other kinds), municipalities [{code, state, received, done, note}]},
//  dates as YYYY-MM-DD, issued as YYYY-MM-DDTHH:MM:SSZ, null where there is
//  none.  An entry that fails its check against the root is listed with
//  its seq and an "error" saying why, the rest null and no municipalities;
//  one whose body is not a directive with its error, address and states
//  (kind, due and text null).  Entries of other kinds are left out.
//  Returns NULL
//  with *error CP_ESTORE (a failed read) or CP_ENOTENROLLED (no root key in
//  the key table).
json_t *
    central_directives_list (central_store_t *store, int32_t today, int *error);

//  Narrows a list of central_directives_list to scope: a directive stays
//  when it addresses a municipality within scope, with only those
//  municipalities, its counts and taken_up counted again over them.  An
//  entry without municipalities (one not readable) stays only for the
//  national scope.  Changes list in place.
void
    central_directives_scoped (json_t *list, const cp_scope_t *scope);

//  Checks what a directive to send is made of, as the command line and
//  the HTTP face both take it: to (all, county:CODE, CODE), kind
//  (referral, deadline or notice), due (YYYY-MM-DD not before today, or
//  NULL) and text (1 to CP_DIRECTIVE_TEXT_MAX bytes, cp_directive_check).
//  why names the field as prefix + its name ("--" for the command line).
//  Returns 0 with *directive and *address filled, CP_EUSAGE (kind or due
//  wrong) or CP_EMALFORMED (to or text wrong), with why.
int
    central_directive_compose (const char *to, const char *kind, const char *due,
                               const char *text, const char *prefix, int32_t today,
                               cp_directive_t *directive, cp_scope_t *address,
                               char *why, size_t why_size);

//  What a sent directive is said to be: {id, kind, to, due}.  The caller
//  owns it.
json_t *
    central_directive_sent (uint64_t seq, const cp_directive_t *directive,
                            const cp_scope_t *address);

#endif
