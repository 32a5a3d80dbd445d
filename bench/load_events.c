/*  load_events: valid case events a few at a time.  See load_events.h.

    The codes are catalogue 1's (protocol/catalogue/catalogue-v1.json), so
    a central of any catalogue version takes them.  A case's plan is drawn
    when it opens: a risk assessment and a primary problem, some home
    visits, sometimes a measure (confirmed by a court when the catalogue
    says the measure needs it), sometimes a school finding or a second
    assessment, and most often a closing; a case whose plan ends open just
    leaves its slot.                                                       */

#include "load_events.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const s_sex [] = {"F", "M"};
static const char *const s_ethnicity [] = {"roma", "egyptian", "majority", "foreign"};
static const char *const s_referral [] = {"cpu", "police", "ngo", "parent", "child", "school",
    "health", "aid_admin", "court", "prosecution", "probation", "media", "field_team", "other"};
static const char *const s_risk [] = {"low", "medium", "high", "emergency"};
static const char *const s_problem [] = {"physical_violence", "sexual_violence",
    "psychological_violence", "trafficking", "street_situation", "neglect", "socio_economic",
    "disability", "unregistered", "conflict_with_law", "digital_violence", "no_parental_care",
    "other"};
//  "adult" is left out: whether a child came of age is cp_case's to judge
static const char *const s_reason [] = {"risk_reduced", "out_of_risk", "transferred"};
//  The first two need a court's confirmation (catalogue 1)
static const char *const s_measure [] = {"emergency_removal", "alternative_care",
    "specialised_supervision"};
static const char *const s_school [] = {"first_grade", "street_situation", "unregistered",
    "disability", "never_enrolled_over9", "dropout_risk", "dropped_out", "returned_emigration",
    "missing_documents"};

#define S_COUNT(array) (sizeof (array) / sizeof (array) [0])

static uint64_t
s_random (load_events_t *gen)
{
    //  splitmix64: small state, good enough spread for a load
    uint64_t z = (gen->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t
s_below (load_events_t *gen, uint32_t n)
{
    return (uint32_t) (s_random (gen) % n);
}

static const char *
s_pick (load_events_t *gen, const char *const *codes, size_t count)
{
    return codes [s_below (gen, (uint32_t) count)];
}

void
load_events_init (load_events_t *gen, const char *prefix, uint64_t seed, uint64_t total,
                  int32_t from, int32_t days)
{
    assert (gen && prefix && strlen (prefix) < sizeof gen->prefix && days > 0);
    memset (gen, 0, sizeof *gen);
    gen->rng = seed;
    gen->total = total;
    gen->from = from;
    gen->days = days;
    snprintf (gen->prefix, sizeof gen->prefix, "%s", prefix);
}

//  Draws the plan of a case opened in slot.
static void
s_open (load_events_t *gen, load_case_t *slot)
{
    memset (slot, 0, sizeof *slot);
    slot->number = ++gen->cases;
    slot->age = (uint8_t) s_below (gen, 18);
    uint8_t *plan = slot->plan;
    int steps = 0;
    plan [steps++] = CP_EVENT_CASE_OPENED;
    plan [steps++] = CP_EVENT_RISK_ASSESSED;
    plan [steps++] = CP_EVENT_PROBLEM_SET;
    for (uint32_t visits = s_below (gen, 4); visits; visits--)
        plan [steps++] = CP_EVENT_HOME_VISIT;
    if (s_below (gen, 4) == 0) {
        slot->measure = (uint8_t) s_below (gen, S_COUNT (s_measure));
        plan [steps++] = CP_EVENT_MEASURE_TAKEN;
        if (slot->measure < 2)
            plan [steps++] = CP_EVENT_MEASURE_CONFIRMED;
    }
    if (s_below (gen, 5) == 0)
        plan [steps++] = CP_EVENT_SCHOOL_IDENTIFIED;
    if (s_below (gen, 3) == 0)
        plan [steps++] = CP_EVENT_RISK_ASSESSED;
    if (s_below (gen, 8))
        plan [steps++] = CP_EVENT_CASE_CLOSED;
    assert (steps <= (int) sizeof slot->plan);
    slot->steps = (uint8_t) steps;
}

//  The next event of the case in slot, at sequence gen->seq.
static void
s_step (load_events_t *gen, load_case_t *slot, cp_event_t *event)
{
    memset (event, 0, sizeof *event);
    int type = slot->plan [slot->step++];
    event->type = (uint8_t) type;
    event->date = gen->from + (int32_t) ((gen->seq - 1) * (uint64_t) gen->days / gen->total);
    snprintf (event->id, sizeof event->id, "e-%s-%" PRIu64, gen->prefix, gen->seq);
    snprintf (event->case_id, sizeof event->case_id, "c-%s-%" PRIu32, gen->prefix,
              slot->number);
    char (*codes) [CP_CODE_MAX + 1] = event->codes;
    switch (type) {
        case CP_EVENT_CASE_OPENED:
            event->age = slot->age;
            snprintf (codes [0], sizeof codes [0], "%s", s_pick (gen, s_sex, S_COUNT (s_sex)));
            snprintf (codes [1], sizeof codes [1], "%s",
                      s_pick (gen, s_ethnicity, S_COUNT (s_ethnicity)));
            snprintf (codes [2], sizeof codes [2], "%s",
                      s_pick (gen, s_referral, S_COUNT (s_referral)));
            break;
        case CP_EVENT_RISK_ASSESSED:
            snprintf (codes [0], sizeof codes [0], "%s", s_pick (gen, s_risk, S_COUNT (s_risk)));
            break;
        case CP_EVENT_PROBLEM_SET:
            snprintf (codes [0], sizeof codes [0], "%s",
                      s_pick (gen, s_problem, S_COUNT (s_problem)));
            break;
        case CP_EVENT_MEASURE_TAKEN:
        case CP_EVENT_MEASURE_CONFIRMED:
            snprintf (codes [0], sizeof codes [0], "%s", s_measure [slot->measure]);
            break;
        case CP_EVENT_SCHOOL_IDENTIFIED:
            snprintf (codes [0], sizeof codes [0], "%s",
                      s_pick (gen, s_school, S_COUNT (s_school)));
            break;
        case CP_EVENT_CASE_CLOSED:
            snprintf (codes [0], sizeof codes [0], "%s",
                      s_pick (gen, s_reason, S_COUNT (s_reason)));
            break;
        default:
            break;              //  a home visit carries no code
    }
    if (slot->step == slot->steps)
        slot->number = 0;       //  done: the slot takes a new case
}

size_t
load_events_next (load_events_t *gen, cp_event_t *events, size_t most)
{
    size_t count = 0;
    while (count < most && gen->seq < gen->total) {
        load_case_t *slot = &gen->open [s_below (gen, LOAD_EVENTS_OPEN)];
        if (!slot->number)
            s_open (gen, slot);
        gen->seq++;
        s_step (gen, slot, &events [count++]);
    }
    return count;
}
