/*  cp_check: the consistency rules of a caseload view, and their findings.

    A view's figures hang together: every breakdown of the new cases adds up
    to the new cases, every breakdown of the managed ones to the managed,
    the closures by reason to the closures; no measure is confirmed by a
    court more often than it was taken; no figure is negative.  The rules
    are a table (cp_check_rules), not code in the printers, and they run on
    the JSON form of a view (docs/events.md): the same rules check the
    central's own views and a table someone published, such as the State
    Agency's report of 2022, whose summary gives 240 girls of 987 new cases
    beside 547 boys.

    A rule names its keys.  A breakdown key also matches the same key with
    a catalogue suffix ("managed_by_problem_catalogue_2"), as a published
    report that prints a breakdown under two catalogues has it; a rule whose
    keys the document lacks is not applicable to it, and says so.

    A court confirms a measure after it was taken, often in a later
    quarter: within a period, confirmations may outnumber takings, but from
    the first day to the period's end they never may.  So that rule reads
    the figures "to date" (measures_taken_to_date...) where the document
    gives them, as the central's own views do, and the period's figures of
    a published table, which gives nothing else.                            */

#ifndef CP_CHECK_H_INCLUDED
#define CP_CHECK_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum {
    CP_CHECK_ADDS_UP,           //  the codes of `part` sum to the figure `whole`
    CP_CHECK_AT_MOST,           //  each code of `part` at most the same code of `whole`
    CP_CHECK_NOT_NEGATIVE       //  every figure of the document at least 0
} cp_check_kind_t;

typedef struct {
    const char *name;           //  what it says, as a person reads it
    cp_check_kind_t kind;
    const char *part;           //  a breakdown key (NULL for NOT_NEGATIVE)
    const char *whole;          //  a figure or breakdown key (NULL for NOT_NEGATIVE)
    bool to_date;               //  read part_to_date and whole_to_date where the
                                //  document has both: figures from the first day
                                //  to the period's end, for what holds only so
} cp_check_rule_t;

//  The rules, in the order they are reported; count in *count.
const cp_check_rule_t *
    cp_check_rules (size_t *count);

//  Runs every rule on a view's JSON form (an object).  Appends to findings
//  (a JSON array) one object per broken rule and key:
//      {"rule", "key", "terms": {code: figure...}, "sum" or "figure",
//       "expected", "difference"}
//  and to not_applicable (a JSON array, may be NULL) the name of each rule
//  whose keys the document lacks.  Returns the number of findings added,
//  or -1 when document is not an object.
int
    cp_check_view (const json_t *document, json_t *findings, json_t *not_applicable);

//  Writes findings for people: one paragraph each, naming the rule, the
//  figures and the difference.
void
    cp_check_print (const json_t *findings, FILE *out);

#endif
