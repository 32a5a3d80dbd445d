/*  load_events: an endless-looking but finite log of valid case events,
    made a few at a time, for the load generator (bench/load_gen.c).

    tests/gen/gen_events makes a municipality's whole stream in memory and
    sorts it by date before writing JSON; a thousand nodes in a few
    processes cannot hold that.  This generator keeps only what the next
    event needs: a seeded random state, the log's position and a handful
    of cases under way (S_OPEN in load_events.c).  Each step advances one
    of them by an event, or opens a new case in a free slot, so cases
    interleave as in a real unit.  Dates grow with the sequence, spread
    evenly over the span given, so every event keeps the rules of
    docs/events.md: a case is opened once and before its other events,
    those follow in date order, a measure_confirmed follows its
    measure_taken of a court measure, and a case_closed comes last.

    The state is a plain struct, copied to remember a point of the log
    (a batch in flight) and copied back to make it again after a
    reconnection: the same seed and position make the same events.     */

#ifndef LOAD_EVENTS_H_INCLUDED
#define LOAD_EVENTS_H_INCLUDED

#include "cp_event.h"

#include <stdint.h>

#define LOAD_EVENTS_OPEN 16     //  cases under way at once

typedef struct {
    uint32_t number;            //  the case's number in this log (0: slot free)
    uint8_t age;                //  at opening
    uint8_t step;               //  events made of its plan
    uint8_t steps;              //  events in its plan
    uint8_t plan [12];          //  the types, in order
    uint8_t measure;            //  its measure, if its plan has one
} load_case_t;

typedef struct {
    uint64_t rng;               //  splitmix64 state
    uint64_t seq;               //  sequence of the last event made (0: none)
    uint64_t total;             //  events in the whole log
    int32_t from;               //  date of the first event (days since 1970)
    int32_t days;               //  span the log's dates cover
    uint32_t cases;             //  cases opened so far
    char prefix [24];           //  ids are e-PREFIX-n, cases c-PREFIX-n
    load_case_t open [LOAD_EVENTS_OPEN];
} load_events_t;

//  Sets gen up for a log of total events dated from day from over days
//  days, with ids under prefix (at most 23 characters of the id alphabet)
//  and the given seed.
void
    load_events_init (load_events_t *gen, const char *prefix, uint64_t seed, uint64_t total,
                      int32_t from, int32_t days);

//  Makes up to most next events of the log into events; returns how many
//  (0 once the log is complete).
size_t
    load_events_next (load_events_t *gen, cp_event_t *events, size_t most);

#endif
