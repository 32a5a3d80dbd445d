/*
 * gen_events.c — seeded generator of rule-abiding cpsync case events (JSON Lines,
 * the contract of docs/events.md). Standalone C11, libc only:
 *
 *   cc -O2 -std=c11 -Wall -Wextra -Wpedantic -o gen_events tests/gen/gen_events.c
 *
 * One municipality, to stdout (exactly COUNT lines):
 *   gen_events --seed N --events COUNT --from 2019-01-01 --to 2024-12-31
 *              [--prefix m1-] [--catalogue 1|2] > out.jsonl
 *
 * A whole country whose national view of the report's year equals the report exactly:
 *   gen_events --country report-2022.json --municipalities municipalities.csv
 *              --seed N --outdir DIR [--catalogue 1|2] [--background 2018-2023]
 *              [--prefix P]
 *   writes DIR/<code>.jsonl for every municipality of the CSV (DIR is created).
 *
 * Output is deterministic for a given seed and arguments. Lines are valid when a
 * node applies them in line order: a case's case_opened line comes first, its
 * case_closed line last; lines of different cases are interleaved; within a case
 * some lines are out of date order where that keeps every rule (never two
 * same-dated risk_assessed/problem_set swapped, never a measure_confirmed moved
 * before its measure_taken). Ids are "e-<prefix><n>", cases "c-<prefix><n>".
 * Catalogue 1 (default) uses only catalogue-1 codes; --catalogue 2 also uses the
 * codes catalogue-v2.json adds (unaccompanied_foreign_child, child_labour,
 * referral central_agency).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* same output on every compiler: no fused multiply-add in the few float computations
 * (gcc does not contract under -std=c11; clang needs the pragma) */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ------------------------------------------------------------------ codes */

enum { T_OPEN, T_RISK, T_PROB, T_VISIT, T_TAKEN, T_CONF, T_SCHOOL, T_CLOSE };
static const char *const TYPE_NAME[] = {"case_opened", "risk_assessed", "problem_set", "home_visit",
                                        "measure_taken", "measure_confirmed", "school_identified",
                                        "case_closed"};

#define N_AGEG 6
static const char *const AGEG[N_AGEG] = {"0-3", "4-6", "7-9", "10-12", "13-15", "16-18"};
static const int AGEG_MIN[N_AGEG] = {0, 4, 7, 10, 13, 16};
static const int AGEG_MAX[N_AGEG] = {3, 6, 9, 12, 15, 18};
#define N_SEX 2
static const char *const SEX[N_SEX] = {"F", "M"};
#define N_ETH 4
static const char *const ETH[N_ETH] = {"roma", "egyptian", "majority", "foreign"};
#define N_REF1 14
#define N_REF2 15
static const char *const REF[N_REF2] = {"cpu", "police", "ngo", "parent", "child",
                                        "school", "health", "aid_admin", "court", "prosecution",
                                        "probation", "media", "field_team", "other", "central_agency"};
#define N_RISK 4
static const char *const RISK[N_RISK] = {"low", "medium", "high", "emergency"};
#define N_PROB1 13
#define N_PROB2 15
#define P_UFC 13
#define P_LABOUR 14
static const char *const PROB[N_PROB2] = {
    "physical_violence", "sexual_violence",  "psychological_violence", "trafficking",
    "street_situation",  "neglect",          "socio_economic",         "disability",
    "unregistered",      "conflict_with_law", "digital_violence",      "no_parental_care",
    "other",             "unaccompanied_foreign_child", "child_labour"};
#define N_REASON 5
#define R_ADULT 0
static const char *const REASON[N_REASON] = {"adult", "risk_reduced", "out_of_risk", "death",
                                             "transferred"};
#define N_MEAS 3
static const char *const MEAS[N_MEAS] = {"emergency_removal", "alternative_care",
                                         "specialised_supervision"};
static const int MEAS_COURT[N_MEAS] = {1, 1, 0};
#define N_SCHOOL 9
static const char *const SCHOOL[N_SCHOOL] = {"first_grade",  "street_situation",   "unregistered",
                                             "disability",   "never_enrolled_over9", "dropout_risk",
                                             "dropped_out",  "returned_emigration", "missing_documents"};
/* plausible age (at the event) per school category */
static const int SCHOOL_AMIN[N_SCHOOL] = {5, 6, 6, 6, 10, 8, 10, 6, 6};
static const int SCHOOL_AMAX[N_SCHOOL] = {7, 17, 17, 18, 18, 17, 18, 18, 18};

/* default weights, roughly those of report-2022.json */
static const double W_AGEG[N_AGEG] = {114, 95, 118, 154, 274, 232};
static const double W_SEX[N_SEX] = {440, 547};
static const double W_ETH[N_ETH] = {81, 81, 776, 49};
static const double W_REF[N_REF2] = {147, 299, 63, 67, 6, 179, 21, 13, 36, 6, 49, 13, 17, 71, 20};
static const double W_RISK[N_RISK] = {977, 1155, 221, 143};
static const double W_PROB[N_PROB2] = {137, 73, 314, 47, 229, 291, 858, 71, 35, 239, 6, 52, 144, 46, 10};
static const double W_REASON[N_REASON] = {74, 290, 36, 2, 150};
static const double W_MEAS[N_MEAS] = {59, 80, 89};
static const double W_SCHOOL[N_SCHOOL] = {18, 55, 11, 2, 8, 192, 71, 9, 9};

/* rough population (thousands) per municipality: case volume weight */
static const struct { const char *code; double w; } MUNI_W[] = {
    {"tirane", 560}, {"durres", 175}, {"elbasan", 141}, {"shkoder", 135}, {"vlore", 104},
    {"fier", 120},   {"korce", 75},   {"kamez", 104},   {"lushnje", 83},  {"kavaje", 40},
    {"berat", 60},   {"pogradec", 61}, {"lezhe", 65},   {"kurbin", 51},   {"kruje", 60},
    {"sarande", 20}, {"mat", 27},     {"diber", 61},    {"kukes", 47},    {"gjirokaster", 28},
    {"dimal", 27},   {"kucove", 31},  {"polican", 10},  {"skrapar", 12},  {"bulqize", 30},
    {"klos", 16},    {"shijak", 27},  {"belsh", 19},    {"cerrik", 27},   {"gramsh", 24},
    {"librazhd", 31}, {"peqin", 26},  {"prrenjas", 24}, {"divjake", 34},  {"mallakaster", 33},
    {"patos", 22},   {"roskovec", 21}, {"dropull", 3},  {"kelcyre", 6},   {"libohove", 4},
    {"memaliaj", 10}, {"permet", 10}, {"tepelene", 9},  {"devoll", 26},   {"kolonje", 10},
    {"maliq", 41},   {"pustec", 3},   {"has", 16},      {"tropoje", 20},  {"mirdite", 22},
    {"fushe-arrez", 5}, {"malesi-e-madhe", 30}, {"puke", 11}, {"vau-i-dejes", 30},
    {"rrogozhine", 22}, {"vore", 25}, {"delvine", 7},   {"finiq", 12},    {"himare", 8},
    {"konispol", 8}, {"selenice", 19}};

/* ------------------------------------------------------------------ utils */

static _Noreturn void die(const char *msg, const char *arg) {
    fprintf(stderr, "gen_events: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die("out of memory", NULL);
    return q;
}

/* ------------------------------------------------------------------ dates */

static int32_t days_from_civil(int y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static void civil_from_days(int32_t z, int *y, unsigned *m, unsigned *d) {
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int yy = (int)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int32_t parse_date(const char *s) {
    int y;
    unsigned m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3)
        die("bad date (want YYYY-MM-DD)", s);
    int32_t z = days_from_civil(y, m, d);
    int yy;
    unsigned mm, dd;
    civil_from_days(z, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d) die("not a calendar date", s);
    return z;
}

#define DATE_BASE days_from_civil(2000, 1, 1)
#define DATE_SPAN 40000 /* 2000 .. ~2109 */
static char (*date_str)[10];
static int32_t date_base;

static void init_dates(void) {
    date_base = DATE_BASE;
    date_str = xrealloc(NULL, sizeof(*date_str) * DATE_SPAN);
    for (int32_t i = 0; i < DATE_SPAN; i++) {
        int y;
        unsigned m, d;
        civil_from_days(date_base + i, &y, &m, &d);
        char b[16];
        snprintf(b, sizeof b, "%04d-%02u-%02u", y, m, d);
        memcpy(date_str[i], b, 10);
    }
}

/* ------------------------------------------------------------------ PRNG */

static uint64_t rs[4];

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rnext(void) { /* xoshiro256** */
    const uint64_t result = rotl(rs[1] * 5, 7) * 9;
    const uint64_t t = rs[1] << 17;
    rs[2] ^= rs[0];
    rs[3] ^= rs[1];
    rs[1] ^= rs[2];
    rs[0] ^= rs[3];
    rs[2] ^= t;
    rs[3] = rotl(rs[3], 45);
    return result;
}

static void rseed(uint64_t seed) {
    uint64_t x = seed ^ 0x6370737966656e21ULL;
    for (int i = 0; i < 4; i++) rs[i] = splitmix64(&x);
}

static inline uint32_t rbelow(uint32_t n) { return (uint32_t)(((rnext() >> 32) * (uint64_t)n) >> 32); }
static inline double runif(void) { return (double)(rnext() >> 11) * 0x1.0p-53; }
static inline int32_t rrange(int32_t lo, int32_t hi) { /* inclusive */
    if (hi <= lo) return lo;
    return lo + (int32_t)rbelow((uint32_t)(hi - lo) + 1u);
}

static double my_log(double x) { /* natural log for x > 0, no libm */
    int k = 0;
    while (x < 0.5) { x *= 2; k--; }
    while (x > 1.0) { x /= 2; k++; }
    double t = (x - 1) / (x + 1), t2 = t * t, term = t, sum = 0;
    for (int i = 1; i < 40; i += 2) { sum += term / i; term *= t2; }
    return 2 * sum + k * 0.69314718055994530942;
}

static double rexp(double mean) { return -mean * my_log(1.0 - runif()); }

static int rpoisson(double lambda) { /* count exp(1) arrivals within lambda */
    int n = 0;
    double t = 0;
    if (lambda <= 0) return 0;
    for (;;) {
        t += rexp(1.0);
        if (t > lambda || n > 1000) return n;
        n++;
    }
}

static int rpick(const double *w, int n) {
    double tot = 0;
    for (int i = 0; i < n; i++) tot += w[i];
    double r = runif() * tot;
    for (int i = 0; i < n; i++) {
        if (r < w[i]) return i;
        r -= w[i];
    }
    return n - 1;
}

static int draw_age(void) {
    int g = rpick(W_AGEG, N_AGEG);
    return rrange(AGEG_MIN[g], AGEG_MAX[g]);
}

static void shuffle_int(int *a, long n) {
    for (long i = n - 1; i > 0; i--) {
        long j = (long)rbelow((uint32_t)(i + 1));
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* ------------------------------------------------------------------ model */

typedef struct {
    int32_t date;
    uint32_t cs;
    uint8_t type, v;
} Ev;

typedef struct {
    int32_t open, close; /* close < 0: not closed */
    uint32_t ev_start, ev_n, num;
    uint16_t muni;
    uint8_t age, sex, eth, ref, reason;
} Case;

static Ev *EV;
static size_t nev, capev;
static Case *CS;
static size_t ncs, capcs;

static inline void push_ev(uint32_t cs, int32_t date, int type, int v) {
    if (nev == capev) {
        capev = capev ? capev * 2 : 1 << 16;
        EV = xrealloc(EV, capev * sizeof *EV);
    }
    EV[nev].date = date;
    EV[nev].cs = cs;
    EV[nev].type = (uint8_t)type;
    EV[nev].v = (uint8_t)v;
    nev++;
}

static uint32_t new_case(void) {
    if (ncs == capcs) {
        capcs = capcs ? capcs * 2 : 1 << 12;
        CS = xrealloc(CS, capcs * sizeof *CS);
    }
    memset(&CS[ncs], 0, sizeof CS[ncs]);
    CS[ncs].close = -1;
    return (uint32_t)ncs++;
}

static int pick_problem(int cat2) { return rpick(W_PROB, cat2 ? N_PROB2 : N_PROB1); }

static int age_at(const Case *c, int32_t date) { return c->age + (int)((date - c->open) / 365.25); }

static int pick_reason(const Case *c, int32_t close) {
    if (age_at(c, close) >= 18 && runif() < 0.9) return R_ADULT;
    return 1 + rpick(W_REASON + 1, N_REASON - 1);
}

/* A free-standing case: opened in [open_lo, open_hi], every event <= end_hi; closes
 * if its duration fits (always, when force_close). */
static void gen_case(int32_t open_lo, int32_t open_hi, int32_t end_hi, int force_close, int cat2,
                     int muni) {
    uint32_t ci = new_case();
    Case *c = &CS[ci];
    c->muni = (uint16_t)muni;
    c->open = rrange(open_lo, open_hi);
    c->age = (uint8_t)draw_age();
    c->sex = (uint8_t)rpick(W_SEX, N_SEX);
    c->eth = (uint8_t)rpick(W_ETH, N_ETH);
    c->ref = (uint8_t)rpick(W_REF, cat2 ? N_REF2 : N_REF1);
    int32_t dur = (int32_t)rexp(runif() < 0.55 ? 240 : 900);
    int32_t to18 = (int32_t)((18.6 - c->age) * 365.25) + (int32_t)rbelow(90);
    if (to18 < dur) dur = to18 < 0 ? 0 : to18;
    int32_t close = c->open + dur;
    int closed = close <= end_hi;
    if (!closed && force_close) {
        close = rrange(c->open, end_hi);
        closed = 1;
    }
    int32_t end = closed ? close : end_hi;
    int32_t span = end - c->open;
    double yrs = span / 365.25;
    push_ev(ci, c->open, T_OPEN, 0);
    /* risk assessments: first one soon after opening, reassessments later */
    if (runif() < 0.97) {
        int n = 1 + rpoisson(yrs * 0.5);
        if (n > 8) n = 8;
        int32_t d = c->open + (int32_t)rexp(6);
        if (d > end) d = end;
        int lvl = rpick(W_RISK, N_RISK);
        push_ev(ci, d, T_RISK, lvl);
        for (int k = 1; k < n; k++) {
            d = rrange(c->open, end);
            push_ev(ci, d, T_RISK, rpick(W_RISK, N_RISK));
        }
        if (runif() < 0.05) push_ev(ci, d, T_RISK, rpick(W_RISK, N_RISK)); /* same-dated */
    }
    if (runif() < 0.97) {
        int32_t d = c->open + (int32_t)rexp(4);
        if (d > end) d = end;
        push_ev(ci, d, T_PROB, pick_problem(cat2));
        if (runif() < 0.2) {
            d = rrange(d, end);
            push_ev(ci, d, T_PROB, pick_problem(cat2));
        }
        if (runif() < 0.03) push_ev(ci, d, T_PROB, pick_problem(cat2)); /* same-dated */
    }
    int nv = rpoisson(0.3 + yrs);
    if (nv > 60) nv = 60;
    for (int k = 0; k < nv; k++) push_ev(ci, rrange(c->open, end), T_VISIT, 0);
    double pm = 0.06 + (yrs * 0.04 < 0.2 ? yrs * 0.04 : 0.2);
    if (runif() < pm) {
        int m = rpick(W_MEAS, N_MEAS);
        int32_t d = rrange(c->open, end);
        push_ev(ci, d, T_TAKEN, m);
        if (MEAS_COURT[m] && runif() < 0.45) push_ev(ci, rrange(d, d + 60 < end ? d + 60 : end), T_CONF, m);
    }
    if (runif() < 0.15) {
        int32_t d = rrange(c->open, end); /* one PRNG draw per statement: argument order is unspecified */
        push_ev(ci, d, T_SCHOOL, rpick(W_SCHOOL, N_SCHOOL));
    }
    if (closed) {
        c->close = close;
        c->reason = (uint8_t)pick_reason(c, close);
        push_ev(ci, close, T_CLOSE, c->reason);
    }
}

/* ------------------------------------------------------------------ ordering */

/* group events by case (stable), setting ev_start/ev_n */
static void group_by_case(void) {
    uint32_t *cnt = xrealloc(NULL, (ncs + 1) * sizeof *cnt);
    memset(cnt, 0, (ncs + 1) * sizeof *cnt);
    for (size_t i = 0; i < nev; i++) cnt[EV[i].cs + 1]++;
    for (size_t i = 0; i < ncs; i++) cnt[i + 1] += cnt[i];
    for (size_t i = 0; i < ncs; i++) {
        CS[i].ev_start = cnt[i];
        CS[i].ev_n = cnt[i + 1] - cnt[i];
    }
    Ev *out = xrealloc(NULL, (nev ? nev : 1) * sizeof *out);
    for (size_t i = 0; i < nev; i++) out[cnt[EV[i].cs]++] = EV[i];
    free(EV);
    EV = out;
    capev = nev;
    free(cnt);
}

static int can_swap(const Ev *a, const Ev *b) {
    if (a->type == b->type && (a->type == T_RISK || a->type == T_PROB) && a->date == b->date) return 0;
    if (((a->type == T_TAKEN && b->type == T_CONF) || (a->type == T_CONF && b->type == T_TAKEN)) &&
        a->v == b->v)
        return 0;
    return 1;
}

/* line order of one case: opened first, closed last, the rest by date (stable),
 * then a few valid adjacent swaps so that some lines are out of date order */
static void finalize_case(Case *c) {
    Ev *e = EV + c->ev_start;
    uint32_t n = c->ev_n, w = 0;
    Ev open = {0, 0, 0, 0}, close = {0, 0, 0, 0};
    int has_close = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (e[i].type == T_OPEN) open = e[i];
        else if (e[i].type == T_CLOSE) { close = e[i]; has_close = 1; }
        else e[w++] = e[i];
    }
    /* stable insertion sort by date of the middle */
    for (uint32_t i = 1; i < w; i++) {
        Ev x = e[i];
        uint32_t j = i;
        while (j > 0 && e[j - 1].date > x.date) { e[j] = e[j - 1]; j--; }
        e[j] = x;
    }
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i + 1 < w; i++)
            if (runif() < 0.1 && can_swap(&e[i], &e[i + 1])) {
                Ev t = e[i];
                e[i] = e[i + 1];
                e[i + 1] = t;
            }
    memmove(e + 1, e, w * sizeof *e);
    e[0] = open;
    if (has_close) e[w + 1] = close;
}

/* ------------------------------------------------------------------ output */

static char *obuf;
static size_t olen;
#define OBUF_CAP (1u << 20)
static FILE *ofile;

static void oflush(void) {
    if (olen && fwrite(obuf, 1, olen, ofile) != olen) die("write failed", strerror(errno));
    olen = 0;
}
static inline void ostr(const char *s) {
    size_t n = strlen(s);
    memcpy(obuf + olen, s, n);
    olen += n;
}
static inline void onum(uint32_t v, int width) {
    char b[16];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n < width) b[n++] = '0';
    while (n) obuf[olen++] = b[--n];
}

typedef struct {
    uint64_t key;
    uint32_t idx;
} Key;

static int key_cmp(const void *a, const void *b) {
    const Key *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int case_open_cmp(const void *a, const void *b) {
    const uint32_t *x = a, *y = b;
    int32_t ox = CS[*x].open, oy = CS[*y].open;
    if (ox != oy) return ox < oy ? -1 : 1;
    return *x < *y ? -1 : *x > *y;
}

/* write the events of the given cases: pseudonyms by opening order, lines in an
 * export-like order (date plus a random delivery lag), per-case order kept */
static void emit_cases(FILE *f, uint32_t *cases, uint32_t n, const char *prefix) {
    qsort(cases, n, sizeof *cases, case_open_cmp);
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        CS[cases[i]].num = i + 1;
        total += CS[cases[i]].ev_n;
    }
    Key *k = xrealloc(NULL, (total ? total : 1) * sizeof *k);
    size_t nk = 0;
    for (uint32_t i = 0; i < n; i++) {
        const Case *c = &CS[cases[i]];
        uint64_t prev = 0;
        for (uint32_t j = 0; j < c->ev_n; j++) {
            const Ev *e = &EV[c->ev_start + j];
            double r = runif();
            int32_t lag = r < 0.5 ? 0 : r < 0.95 ? (int32_t)rbelow(10) + 1 : (int32_t)rbelow(120) + 1;
            uint64_t nat = ((uint64_t)(e->date - date_base + lag) << 16) | (rnext() >> 48);
            if (j > 0 && nat <= prev) nat = prev + 1;
            prev = nat;
            k[nk].key = nat;
            k[nk].idx = c->ev_start + j;
            nk++;
        }
    }
    qsort(k, nk, sizeof *k, key_cmp);
    ofile = f;
    olen = 0;
    uint32_t id = 0;
    for (size_t i = 0; i < nk; i++) {
        const Ev *e = &EV[k[i].idx];
        const Case *c = &CS[e->cs];
        if (olen > OBUF_CAP - 1024) oflush();
        ostr("{\"id\":\"e-");
        ostr(prefix);
        onum(++id, 7);
        ostr("\",\"type\":\"");
        ostr(TYPE_NAME[e->type]);
        ostr("\",\"case\":\"c-");
        ostr(prefix);
        onum(c->num, 5);
        ostr("\",\"date\":\"");
        memcpy(obuf + olen, date_str[e->date - date_base], 10);
        olen += 10;
        obuf[olen++] = '"';
        switch (e->type) {
        case T_OPEN:
            ostr(",\"age\":");
            onum(c->age, 1);
            ostr(",\"sex\":\"");
            ostr(SEX[c->sex]);
            ostr("\",\"ethnicity\":\"");
            ostr(ETH[c->eth]);
            ostr("\",\"referral\":\"");
            ostr(REF[c->ref]);
            obuf[olen++] = '"';
            break;
        case T_RISK: ostr(",\"level\":\""); ostr(RISK[e->v]); obuf[olen++] = '"'; break;
        case T_PROB: ostr(",\"problem\":\""); ostr(PROB[e->v]); obuf[olen++] = '"'; break;
        case T_TAKEN:
        case T_CONF: ostr(",\"measure\":\""); ostr(MEAS[e->v]); obuf[olen++] = '"'; break;
        case T_SCHOOL: ostr(",\"category\":\""); ostr(SCHOOL[e->v]); obuf[olen++] = '"'; break;
        case T_CLOSE: ostr(",\"reason\":\""); ostr(REASON[e->v]); obuf[olen++] = '"'; break;
        default: break;
        }
        ostr("}\n");
    }
    oflush();
    free(k);
}

/* ------------------------------------------------------------------ report reader */

typedef struct {
    char key[64];
    int is_obj;
    long num;
    int nsub;
    char subkey[32][48];
    long subnum[32];
} Entry;

typedef struct {
    Entry e[64];
    int n;
    char period[32];
} Report;

static const char *rp; /* cursor */
static const char *rp_name;

static void rskipws(void) {
    while (*rp == ' ' || *rp == '\t' || *rp == '\n' || *rp == '\r') rp++;
}
static void rexpect(char ch) {
    rskipws();
    if (*rp != ch) {
        char m[64];
        snprintf(m, sizeof m, "expected '%c' in report", ch);
        die(m, rp_name);
    }
    rp++;
}
static void rstring(char *out, size_t cap) {
    rexpect('"');
    size_t n = 0;
    while (*rp && *rp != '"') {
        if (*rp == '\\' && rp[1]) rp++;
        if (out && n + 1 < cap) out[n++] = *rp;
        rp++;
    }
    if (*rp != '"') die("unterminated string in report", rp_name);
    rp++;
    if (out) out[n] = 0;
}
static void rskipvalue(void) {
    rskipws();
    if (*rp == '"') { rstring(NULL, 0); return; }
    if (*rp == '{' || *rp == '[') {
        int depth = 0;
        do {
            if (*rp == '"') { rstring(NULL, 0); continue; }
            if (*rp == '{' || *rp == '[') depth++;
            if (*rp == '}' || *rp == ']') depth--;
            if (!*rp) die("unterminated value in report", rp_name);
            rp++;
        } while (depth > 0);
        return;
    }
    while (*rp && *rp != ',' && *rp != '}' && *rp != ']') rp++;
}
static int rnumber(long *out) {
    rskipws();
    char *end;
    long v = strtol(rp, &end, 10);
    if (end == rp || *end == '.' || *end == 'e' || *end == 'E') return 0;
    *out = v;
    rp = end;
    return 1;
}

static void read_report(const char *path, Report *R) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open report", path);
    char *txt = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) { cap = cap ? cap * 2 : 65536; txt = xrealloc(txt, cap); }
        size_t r = fread(txt + len, 1, 4096, f);
        len += r;
        if (r == 0) break;
    }
    fclose(f);
    txt[len] = 0;
    memset(R, 0, sizeof *R);
    rp = txt;
    rp_name = path;
    rexpect('{');
    rskipws();
    if (*rp == '}') die("empty report", path);
    for (;;) {
        char key[64];
        rstring(key, sizeof key);
        rexpect(':');
        rskipws();
        if (!strcmp(key, "period") && *rp == '"') {
            rstring(R->period, sizeof R->period);
        } else if (*rp == '{') {
            /* object: keep it if every member is an integer */
            const char *save = rp;
            Entry *E = &R->e[R->n];
            memset(E, 0, sizeof *E);
            snprintf(E->key, sizeof E->key, "%s", key);
            E->is_obj = 1;
            int ok = 1;
            rp++;
            rskipws();
            if (*rp == '}') rp++;
            else
                for (;;) {
                    if (E->nsub >= 32) { ok = 0; break; }
                    rstring(E->subkey[E->nsub], sizeof E->subkey[0]);
                    rexpect(':');
                    if (!rnumber(&E->subnum[E->nsub])) { ok = 0; break; }
                    E->nsub++;
                    rskipws();
                    if (*rp == ',') { rp++; continue; }
                    if (*rp == '}') { rp++; break; }
                    ok = 0;
                    break;
                }
            if (ok) { if (R->n < 63) R->n++; }
            else { rp = save; rskipvalue(); }
        } else {
            long v;
            const char *save = rp;
            if (rnumber(&v)) {
                Entry *E = &R->e[R->n];
                memset(E, 0, sizeof *E);
                snprintf(E->key, sizeof E->key, "%s", key);
                E->num = v;
                if (R->n < 63) R->n++;
                rskipws();
                if (*rp != ',' && *rp != '}') { rp = save; rskipvalue(); R->n--; }
            } else {
                rp = save;
                rskipvalue();
            }
        }
        rskipws();
        if (*rp == ',') { rp++; continue; }
        if (*rp == '}') break;
        die("malformed report JSON", path);
    }
    free(txt);
}

static const Entry *rep_get(const Report *R, const char *key, int obj) {
    for (int i = 0; i < R->n; i++)
        if (!strcmp(R->e[i].key, key) && R->e[i].is_obj == obj) return &R->e[i];
    return NULL;
}

static long rep_num(const Report *R, const char *key) {
    const Entry *E = rep_get(R, key, 0);
    if (!E) die("report lacks number", key);
    if (E->num < 0) die("negative number in report", key);
    return E->num;
}

/* fill out[ncodes] from object key; extra_code (may be NULL) -> *extra. Unknown codes fail. */
static void rep_dim(const Report *R, const char *key, const char *const *codes, int ncodes,
                    long *out, const char *extra_code, long *extra, int required) {
    const Entry *E = rep_get(R, key, 1);
    for (int i = 0; i < ncodes; i++) out[i] = 0;
    if (extra) *extra = -1;
    if (!E) {
        if (required) die("report lacks object", key);
        return;
    }
    for (int s = 0; s < E->nsub; s++) {
        int found = -1;
        for (int i = 0; i < ncodes; i++)
            if (!strcmp(E->subkey[s], codes[i])) found = i;
        if (E->subnum[s] < 0) die("negative count in report", key);
        if (found >= 0) out[found] = E->subnum[s];
        else if (extra_code && !strcmp(E->subkey[s], extra_code)) *extra = E->subnum[s];
        else {
            char m[160];
            snprintf(m, sizeof m, "%s.%s", key, E->subkey[s]);
            die("report has a code this catalogue does not know", m);
        }
    }
}

static long lsum(const long *a, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) s += a[i];
    return s;
}

/* ------------------------------------------------------------------ country mode */

typedef struct {
    long managed, nnew, closed, visits;
    long age[N_AGEG], sex[N_SEX], eth[N_ETH], ref[N_REF2], reason[N_REASON];
    long risk[N_RISK], risk_none, prob[N_PROB2], prob_none, taken[N_MEAS], conf[N_MEAS], school[N_SCHOOL];
} Target;

static void sum_check(long got, long want, const char *what) {
    if (got != want) {
        char m[160];
        snprintf(m, sizeof m, "%s adds up to %ld, expected %ld", what, got, want);
        die("report is inconsistent, no data set can match it", m);
    }
}

static void load_target(const Report *R, int cat, Target *T) {
    memset(T, 0, sizeof *T);
    T->managed = rep_num(R, "managed");
    T->nnew = rep_num(R, "new");
    T->closed = rep_num(R, "closed");
    T->visits = rep_num(R, "home_visits");
    rep_dim(R, "new_by_age_group", AGEG, N_AGEG, T->age, NULL, NULL, 1);
    rep_dim(R, "new_by_sex", SEX, N_SEX, T->sex, NULL, NULL, 1);
    rep_dim(R, "new_by_ethnicity", ETH, N_ETH, T->eth, NULL, NULL, 1);
    rep_dim(R, "new_by_referral", REF, cat == 2 ? N_REF2 : N_REF1, T->ref, NULL, NULL, 1);
    rep_dim(R, "closed_by_reason", REASON, N_REASON, T->reason, NULL, NULL, 1);
    rep_dim(R, "managed_by_risk", RISK, N_RISK, T->risk, "unassessed", &T->risk_none, 1);
    const char *pk = cat == 2 ? "managed_by_problem_catalogue_2" : "managed_by_problem_catalogue_1";
    if (!rep_get(R, pk, 1)) pk = "managed_by_problem";
    rep_dim(R, pk, PROB, cat == 2 ? N_PROB2 : N_PROB1, T->prob, "unspecified", &T->prob_none, 1);
    rep_dim(R, "measures_taken", MEAS, N_MEAS, T->taken, NULL, NULL, 1);
    rep_dim(R, "measures_court_confirmed", MEAS, N_MEAS, T->conf, NULL, NULL, 0);
    rep_dim(R, "school_identified", SCHOOL, N_SCHOOL, T->school, NULL, NULL, 1);

    if (T->nnew > T->managed) die("report: new > managed", NULL);
    sum_check(lsum(T->age, N_AGEG), T->nnew, "new_by_age_group");
    sum_check(lsum(T->sex, N_SEX), T->nnew, "new_by_sex");
    sum_check(lsum(T->eth, N_ETH), T->nnew, "new_by_ethnicity");
    sum_check(lsum(T->ref, N_REF2), T->nnew, "new_by_referral");
    sum_check(lsum(T->reason, N_REASON), T->closed, "closed_by_reason");
    long rs_ = lsum(T->risk, N_RISK), ps = lsum(T->prob, N_PROB2);
    if (rs_ > T->managed) sum_check(rs_, T->managed, "managed_by_risk");
    if (ps > T->managed) sum_check(ps, T->managed, "managed_by_problem");
    if (T->risk_none >= 0) sum_check(rs_ + T->risk_none, T->managed, "managed_by_risk");
    if (T->prob_none >= 0) sum_check(ps + T->prob_none, T->managed, "managed_by_problem");
    T->risk_none = T->managed - rs_;
    T->prob_none = T->managed - ps;
    for (int m = 0; m < N_MEAS; m++)
        if (T->conf[m] && !MEAS_COURT[m]) die("report: court confirmations of a measure without court confirmation", MEAS[m]);
    const Entry *st = rep_get(R, "school_identified_total", 0);
    if (st) sum_check(lsum(T->school, N_SCHOOL), st->num, "school_identified");
}

/* expand counts into a shuffled list of codes (-1 for 'none') */
static int *expand(const long *cnt, int n, long none, long total) {
    int *a = xrealloc(NULL, (size_t)(total ? total : 1) * sizeof *a);
    long k = 0;
    for (int i = 0; i < n; i++)
        for (long j = 0; j < cnt[i]; j++) a[k++] = i;
    for (long j = 0; j < none; j++) a[k++] = -1;
    if (k != total) die("internal: expand count mismatch", NULL);
    shuffle_int(a, total);
    return a;
}

typedef struct {
    int32_t wlo, whi;          /* the case's days within the period */
    int32_t post_hi;           /* last day of its events after the period, or -1 */
    int target_risk, target_prob;
    int closes_in_period;
} MInfo;

typedef struct {
    double *cum;
    long n;
} Picker;

static long pick_cum(const Picker *p) {
    double r = runif() * p->cum[p->n - 1];
    long lo = 0, hi = p->n - 1;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (p->cum[mid] > r) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* replaceable events (risk / problem) of a managed case: the latest on or before the
 * period's end is `target` (none if target < 0); earlier ones and later ones vary */
static void gen_replaceable(uint32_t ci, int type, int target, const MInfo *mi, int32_t P0, int32_t P1,
                            int cat2, int32_t pre_from) {
    const Case *c = &CS[ci];
    int has_pre = c->open < P0;
    int nvals = type == T_RISK ? N_RISK : (cat2 ? N_PROB2 : N_PROB1);
    const double *W = type == T_RISK ? W_RISK : W_PROB;
    if (target >= 0) {
        double r = runif();
        int nd = type == T_RISK ? (r < 0.55 ? 0 : r < 0.85 ? 1 : 2) : (r < 0.75 ? 0 : r < 0.95 ? 1 : 2);
        int in_pre = has_pre && runif() < 0.25 && !(type == T_PROB && target >= N_PROB1);
        int32_t lo = in_pre ? c->open : mi->wlo, hi = in_pre ? P0 - 1 : mi->whi;
        if (type == T_PROB && target >= N_PROB1 && !in_pre && mi->whi >= pre_from)
            lo = lo > pre_from ? lo : pre_from; /* catalogue-2 codes from mid-year on */
        int32_t t;
        if (!has_pre && nd == 0) {
            t = lo + (int32_t)rexp(type == T_RISK ? 7 : 4);
            if (t > hi) t = hi;
        } else {
            t = rrange(lo, hi);
        }
        if (has_pre && !in_pre && runif() < 0.8) { /* the assessment made at opening */
            int32_t d = c->open + (int32_t)rexp(7);
            if (d > P0 - 1) d = P0 - 1;
            int v = rpick(W, nvals);
            if (type == T_PROB && v >= N_PROB1) v = 12;
            push_ev(ci, d, type, v);
        }
        for (int k = 0; k < nd; k++) {
            int v = rpick(W, nvals);
            int32_t d = rrange(c->open, t);
            if (type == T_PROB && v >= N_PROB1 && d < pre_from) v = 12;
            push_ev(ci, d, type, v);
        }
        if (runif() < 0.06) { /* same-dated, imported earlier: must not win */
            int v = rpick(W, nvals);
            if (v == target) v = (v + 1) % (type == T_RISK ? N_RISK : N_PROB1);
            if (type == T_PROB && v >= N_PROB1 && t < pre_from) v = 12; /* not before catalogue 2 */
            push_ev(ci, t, type, v);
        }
        push_ev(ci, t, type, target);
    }
    if (mi->post_hi > P1) {
        int n = rpoisson(type == T_RISK ? 0.7 : 0.2);
        for (int k = 0; k < n; k++) {
            int v = rpick(W, nvals);
            if (type == T_PROB && cat2 && runif() < 0.05) v = P_LABOUR;
            push_ev(ci, rrange(P1 + 1, mi->post_hi), type, v);
        }
    }
}

/* background activity (visits, measures, school) of a case in [lo, hi] */
static void gen_background(uint32_t ci, int32_t lo, int32_t hi) {
    if (hi < lo) return;
    double yrs = (hi - lo + 1) / 365.25;
    int nv = rpoisson(0.9 * yrs);
    for (int k = 0; k < nv; k++) push_ev(ci, rrange(lo, hi), T_VISIT, 0);
    if (runif() < 0.04 + (yrs * 0.05 < 0.25 ? yrs * 0.05 : 0.25)) {
        int m = rpick(W_MEAS, N_MEAS);
        int32_t d = rrange(lo, hi);
        push_ev(ci, d, T_TAKEN, m);
        if (MEAS_COURT[m] && runif() < 0.5) push_ev(ci, rrange(d, d + 60 < hi ? d + 60 : hi), T_CONF, m);
    }
    if (runif() < 0.1 * (yrs < 1 ? 1 : yrs)) {
        int32_t d = rrange(lo, hi);
        push_ev(ci, d, T_SCHOOL, rpick(W_SCHOOL, N_SCHOOL));
    }
}

static int read_municipalities(const char *path, char ***codes_out) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open municipalities file", path);
    char line[512];
    int n = 0, cap = 0, first = 1;
    char **codes = NULL;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        if (first && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
        size_t l = strlen(p);
        while (l && (p[l - 1] == '\n' || p[l - 1] == '\r')) p[--l] = 0;
        if (!l) continue;
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        if (first) {
            first = 0;
            if (!strcmp(p, "code")) continue;
        }
        if (n == cap) { cap = cap ? cap * 2 : 64; codes = xrealloc(codes, (size_t)cap * sizeof *codes); }
        codes[n] = xrealloc(NULL, strlen(p) + 1);
        strcpy(codes[n], p);
        n++;
    }
    fclose(f);
    if (n == 0) die("no municipalities in", path);
    if (n > 65535) die("too many municipalities", path);
    *codes_out = codes;
    return n;
}

static double muni_weight(const char *code) {
    for (size_t i = 0; i < sizeof MUNI_W / sizeof MUNI_W[0]; i++)
        if (!strcmp(MUNI_W[i].code, code)) return MUNI_W[i].w;
    return 20;
}

static int country_mode(const char *report_path, const char *muni_path, const char *outdir, int cat,
                        int B0, int B1, const char *prefix) {
    Report *R = xrealloc(NULL, sizeof *R);
    read_report(report_path, R);
    Target T;
    load_target(R, cat, &T);
    int Y;
    char tail;
    if (sscanf(R->period, "%4d%c", &Y, &tail) != 1 || strlen(R->period) != 4)
        die("report period must be a year", R->period[0] ? R->period : "(missing)");
    int cat2 = cat == 2;
    int32_t P0 = days_from_civil(Y, 1, 1), P1 = days_from_civil(Y, 12, 31);
    int32_t pre_from = days_from_civil(2022, 7, 1); /* catalogue 2 (VKM 471/2022) in use */
    if (Y <= 2000) die("report year must be after 2000", R->period);
    if (B0 < 2000) B0 = 2000;
    int32_t bg_end = days_from_civil(B1, 12, 31);

    char **mcodes;
    int nm = read_municipalities(muni_path, &mcodes);
    double *mw = xrealloc(NULL, (size_t)nm * sizeof *mw);
    for (int i = 0; i < nm; i++) mw[i] = muni_weight(mcodes[i]);

    long M = T.managed, NEW = T.nnew, CAR = M - NEW, C = T.closed;
    if (C > M) die("report: closed > managed", NULL);
    /* attributes of the new cases, exactly the report's marginals */
    long ages_n[N_AGEG];
    for (int g = 0; g < N_AGEG; g++) ages_n[g] = T.age[g];
    int *ageg = expand(ages_n, N_AGEG, 0, NEW);
    int *sexl = expand(T.sex, N_SEX, 0, NEW);
    int *ethl = expand(T.eth, N_ETH, 0, NEW);
    int *refl = expand(T.ref, N_REF2, 0, NEW);
    int *riskl = expand(T.risk, N_RISK, T.risk_none, M);
    int *probl = expand(T.prob, N_PROB2, T.prob_none, M);

    /* which managed cases close within the period: about 30% of closures are of new cases */
    long c_new = (long)(C * 0.3 + 0.5);
    if (c_new > NEW) c_new = NEW;
    long c_car = C - c_new;
    if (c_car > CAR) { c_car = CAR; c_new = C - CAR; }
    if (c_new > NEW) die("report: cannot place the closures", NULL);

    MInfo *MI = xrealloc(NULL, (size_t)(M ? M : 1) * sizeof *MI);
    uint32_t *mcase = xrealloc(NULL, (size_t)(M ? M : 1) * sizeof *mcase);
    int *closer = xrealloc(NULL, (size_t)(M ? M : 1) * sizeof *closer);
    {
        int *idx = xrealloc(NULL, (size_t)(M ? M : 1) * sizeof *idx);
        for (long i = 0; i < M; i++) { idx[i] = (int)i; closer[i] = 0; }
        shuffle_int(idx, NEW);
        for (long i = 0; i < c_new; i++) closer[idx[i]] = 1;
        shuffle_int(idx + NEW, CAR);
        for (long i = 0; i < c_car; i++) closer[idx[NEW + i]] = 1;
        free(idx);
    }
    int car_y0 = B0 < Y ? B0 : Y - 1;
    double carried_year_w[200];
    int ncy = Y - car_y0;
    if (ncy > 200) { car_y0 = Y - 200; ncy = 200; }
    for (int k = 0; k < ncy; k++) carried_year_w[k] = k + 1;

    for (long i = 0; i < M; i++) {
        uint32_t ci = new_case();
        mcase[i] = ci;
        Case *c = &CS[ci];
        int muni;
        if (CAR >= nm ? (i >= NEW && i - NEW < nm) : i < nm) muni = (int)(CAR >= nm ? i - NEW : i);
        else muni = rpick(mw, nm);
        c->muni = (uint16_t)muni;
        if (i < NEW) {
            c->open = rrange(P0, P1);
            c->age = (uint8_t)rrange(AGEG_MIN[ageg[i]], AGEG_MAX[ageg[i]]);
            c->sex = (uint8_t)sexl[i];
            c->eth = (uint8_t)ethl[i];
            c->ref = (uint8_t)refl[i];
        } else {
            int y = car_y0 + rpick(carried_year_w, ncy);
            c->open = rrange(days_from_civil(y, 1, 1), days_from_civil(y, 12, 31));
            int elapsed = (int)((P0 - c->open) / 365.25);
            int a = draw_age();
            for (int tries = 0; a + elapsed > 17 && tries < 20; tries++) a = draw_age();
            if (a + elapsed > 17) a = 17 - elapsed < 0 ? 0 : 17 - elapsed;
            c->age = (uint8_t)a;
            c->sex = (uint8_t)rpick(W_SEX, N_SEX);
            c->eth = (uint8_t)rpick(W_ETH, N_ETH);
            c->ref = (uint8_t)rpick(W_REF, N_REF1);
        }
        MInfo *mi = &MI[i];
        mi->target_risk = riskl[i];
        mi->target_prob = probl[i];
        mi->closes_in_period = closer[i];
        mi->wlo = c->open > P0 ? c->open : P0;
        mi->post_hi = -1;
        if (closer[i]) {
            c->close = rrange(mi->wlo, P1);
            mi->whi = c->close;
        } else {
            mi->whi = P1;
            if (bg_end > P1) {
                mi->post_hi = bg_end;
                int32_t adult_day = c->open + (int32_t)((18.6 - c->age) * 365.25);
                if (adult_day <= P1) adult_day = P1 + 1 + (int32_t)rbelow(60);
                if (adult_day <= bg_end && runif() < 0.9) c->close = adult_day;
                else if (runif() < 0.4) c->close = rrange(P1 + 1, bg_end);
                if (c->close >= 0) {
                    mi->post_hi = c->close;
                    c->reason = (uint8_t)pick_reason(c, c->close);
                }
            }
        }
    }
    /* unaccompanied foreign children are foreign: swap problem targets within the new
     * cases, and make carried ones foreign (their attributes are not in the report) */
    if (cat2) {
        for (long i = 0; i < NEW; i++) {
            if (MI[i].target_prob != P_UFC || CS[mcase[i]].eth == 3) continue;
            for (long j = 0; j < NEW; j++)
                if (CS[mcase[j]].eth == 3 && MI[j].target_prob != P_UFC) {
                    MI[i].target_prob = MI[j].target_prob;
                    MI[j].target_prob = P_UFC;
                    break;
                }
        }
        for (long i = NEW; i < M; i++)
            if (MI[i].target_prob == P_UFC) CS[mcase[i]].eth = 3;
        /* a catalogue-2 problem is set from 2022-07-01 on, so a case whose window ends
         * before then trades its target with one open after it (no random draw: the
         * rest of the output stays as it was) */
        for (long i = 0; i < M; i++) {
            if (MI[i].target_prob < N_PROB1 || MI[i].whi >= pre_from) continue;
            for (long j = 0; j < M; j++) {
                if (MI[j].whi < pre_from || MI[j].target_prob >= N_PROB1) continue;
                if (MI[i].target_prob == P_UFC && j < NEW && CS[mcase[j]].eth != 3) continue;
                int t = MI[i].target_prob;
                MI[i].target_prob = MI[j].target_prob;
                MI[j].target_prob = t;
                if (t == P_UFC) CS[mcase[j]].eth = 3;
                break;
            }
        }
    }
    /* closing reasons of the period: 'adult' to the oldest closers */
    {
        long nclose = 0;
        int *cl = xrealloc(NULL, (size_t)(C ? C : 1) * sizeof *cl);
        double *score = xrealloc(NULL, (size_t)(C ? C : 1) * sizeof *score);
        for (long i = 0; i < M; i++)
            if (closer[i]) {
                cl[nclose] = (int)i;
                score[nclose] = age_at(&CS[mcase[i]], CS[mcase[i]].close) + runif() * 2.5;
                nclose++;
            }
        if (nclose != C) die("internal: closers", NULL);
        for (long a = 1; a < nclose; a++) { /* insertion sort, descending score */
            double s = score[a];
            int v = cl[a];
            long b = a;
            while (b > 0 && score[b - 1] < s) { score[b] = score[b - 1]; cl[b] = cl[b - 1]; b--; }
            score[b] = s;
            cl[b] = v;
        }
        long rest[N_REASON];
        memcpy(rest, T.reason, sizeof rest);
        long nad = rest[R_ADULT];
        rest[R_ADULT] = 0;
        int *rl = expand(rest, N_REASON, 0, C - nad);
        for (long k = 0; k < nclose; k++)
            CS[mcase[cl[k]]].reason = (uint8_t)(k < nad ? R_ADULT : rl[k - nad]);
        free(rl);
        free(cl);
        free(score);
    }

    /* per managed case: opening, risk, problem, activity before and after the period */
    for (long i = 0; i < M; i++) {
        uint32_t ci = mcase[i];
        push_ev(ci, CS[ci].open, T_OPEN, 0);
        gen_replaceable(ci, T_RISK, MI[i].target_risk, &MI[i], P0, P1, cat2, pre_from);
        gen_replaceable(ci, T_PROB, MI[i].target_prob, &MI[i], P0, P1, cat2, pre_from);
        if (CS[ci].open < P0) gen_background(ci, CS[ci].open, P0 - 1);
        if (MI[i].post_hi > P1) gen_background(ci, P1 + 1, MI[i].post_hi);
    }

    /* the period's counted events, spread over the managed cases by time open */
    Picker pk = {xrealloc(NULL, (size_t)(M ? M : 1) * sizeof(double)), M};
    Picker pkm = {xrealloc(NULL, (size_t)(M ? M : 1) * sizeof(double)), M};
    double acc = 0, accm = 0;
    for (long i = 0; i < M; i++) {
        double w = (MI[i].whi - MI[i].wlo + 1) + 20.0;
        acc += w;
        accm += w * (MI[i].target_risk >= 2 ? 4 : 1);
        pk.cum[i] = acc;
        pkm.cum[i] = accm;
    }
    if (M == 0 && (T.visits || lsum(T.taken, N_MEAS) || lsum(T.school, N_SCHOOL)))
        die("report has activity but no managed cases", NULL);
    for (long k = 0; k < T.visits; k++) {
        long i = pick_cum(&pk);
        push_ev(mcase[i], rrange(MI[i].wlo, MI[i].whi), T_VISIT, 0);
    }
    for (int m = 0; m < N_MEAS; m++) {
        long K = T.conf[m], ntk = T.taken[m];
        long k_prev = CAR > 0 ? K / 6 : 0;
        if (K - k_prev > ntk) k_prev = K - ntk;
        if (k_prev > 0 && CAR == 0) die("report: more confirmations than measures taken", MEAS[m]);
        long *tk = xrealloc(NULL, (size_t)(ntk ? ntk : 1) * sizeof *tk);
        int32_t *td = xrealloc(NULL, (size_t)(ntk ? ntk : 1) * sizeof *td);
        for (long k = 0; k < ntk; k++) {
            long i = pick_cum(&pkm);
            tk[k] = i;
            td[k] = rrange(MI[i].wlo, MI[i].whi);
            push_ev(mcase[i], td[k], T_TAKEN, m);
        }
        /* confirmations of measures taken in the period (a shuffled subset) */
        int *ord = xrealloc(NULL, (size_t)(ntk ? ntk : 1) * sizeof *ord);
        for (long k = 0; k < ntk; k++) ord[k] = (int)k;
        shuffle_int(ord, ntk);
        for (long k = 0; k < ntk; k++) {
            long j = ord[k], i = tk[j];
            int32_t hi = td[j] + 75 < MI[i].whi ? td[j] + 75 : MI[i].whi;
            if (k < K - k_prev) push_ev(mcase[i], rrange(td[j], hi), T_CONF, m);
            else if (MEAS_COURT[m] && MI[i].post_hi > P1 && runif() < 0.3) /* confirmed next year */
                push_ev(mcase[i], rrange(P1 + 1, MI[i].post_hi < P1 + 90 ? MI[i].post_hi : P1 + 90), T_CONF, m);
        }
        /* confirmations of measures taken before the period */
        for (long k = 0; k < k_prev; k++) {
            long i = NEW + (long)rbelow((uint32_t)CAR);
            const Case *c = &CS[mcase[i]];
            int32_t lo = c->open > P0 - 120 ? c->open : P0 - 120;
            push_ev(mcase[i], rrange(lo, P0 - 1), T_TAKEN, m);
            int32_t hi = MI[i].wlo + 60 < MI[i].whi ? MI[i].wlo + 60 : MI[i].whi;
            push_ev(mcase[i], rrange(MI[i].wlo, hi), T_CONF, m);
        }
        free(ord);
        free(tk);
        free(td);
    }
    for (int s = 0; s < N_SCHOOL; s++)
        for (long k = 0; k < T.school[s]; k++) {
            long i = 0;
            int32_t d = 0;
            for (int tries = 0; tries < 40; tries++) {
                i = pick_cum(&pk);
                d = rrange(MI[i].wlo, MI[i].whi);
                int a = age_at(&CS[mcase[i]], d);
                if (a >= SCHOOL_AMIN[s] && a <= SCHOOL_AMAX[s]) break;
            }
            push_ev(mcase[i], d, T_SCHOOL, s);
        }
    for (long i = 0; i < M; i++)
        if (CS[mcase[i]].close >= 0) push_ev(mcase[i], CS[mcase[i]].close, T_CLOSE, CS[mcase[i]].reason);
    free(pk.cum);
    free(pkm.cum);

    /* background cases: closed before the period, and opened after it */
    long n_pre = 0, n_post = 0;
    for (int y = B0; y < Y; y++) {
        long n = (long)(NEW * 0.7);
        for (long k = 0; k < n; k++)
            gen_case(days_from_civil(y, 1, 1), days_from_civil(y, 12, 31), P0 - 1, 1, 0, rpick(mw, nm));
        n_pre += n;
    }
    for (int y = Y + 1; y <= B1; y++) {
        long n = (long)(NEW * 1.05);
        for (long k = 0; k < n; k++) {
            int32_t yend = days_from_civil(y, 12, 31);
            gen_case(days_from_civil(y, 1, 1), yend, bg_end, 0, cat2, rpick(mw, nm));
        }
        n_post += n;
    }

    group_by_case();
    for (size_t i = 0; i < ncs; i++) finalize_case(&CS[i]);

    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) die("cannot create directory", outdir);
    uint32_t **lists = xrealloc(NULL, (size_t)nm * sizeof *lists);
    uint32_t *cnt = xrealloc(NULL, (size_t)nm * sizeof *cnt);
    memset(cnt, 0, (size_t)nm * sizeof *cnt);
    for (size_t i = 0; i < ncs; i++) cnt[CS[i].muni]++;
    for (int m = 0; m < nm; m++) { lists[m] = xrealloc(NULL, (cnt[m] ? cnt[m] : 1) * sizeof **lists); cnt[m] = 0; }
    for (size_t i = 0; i < ncs; i++) lists[CS[i].muni][cnt[CS[i].muni]++] = (uint32_t)i;
    obuf = xrealloc(NULL, OBUF_CAP);
    int empty = 0;
    for (int m = 0; m < nm; m++) {
        size_t plen = strlen(outdir) + strlen(mcodes[m]) + 16;
        char *path = xrealloc(NULL, plen);
        snprintf(path, plen, "%s/%s.jsonl", outdir, mcodes[m]);
        FILE *f = fopen(path, "wb");
        if (!f) die("cannot write", path);
        if (!cnt[m]) empty++;
        emit_cases(f, lists[m], cnt[m], prefix);
        if (fclose(f) != 0) die("write failed", path);
        free(path);
        free(lists[m]);
    }
    free(lists);
    free(cnt);
    for (int m = 0; m < nm; m++) free(mcodes[m]);
    free(mcodes);
    free(mw);
    free(ageg); free(sexl); free(ethl); free(refl); free(riskl); free(probl);
    free(MI); free(mcase); free(closer); free(R);
    fprintf(stderr,
            "gen_events: %d municipalities (%d empty), %zu cases (%ld managed in %d, %ld background before, "
            "%ld after), %zu events, catalogue %d\n",
            nm, empty, ncs, M, Y, n_pre, n_post, nev, cat);
    return 0;
}

/* ------------------------------------------------------------------ main */

static _Noreturn void usage(void) {
    fprintf(stderr,
            "usage: gen_events --seed N --events COUNT --from YYYY-MM-DD --to YYYY-MM-DD\n"
            "                  [--prefix P] [--catalogue 1|2]            > out.jsonl\n"
            "       gen_events --country REPORT.json --municipalities FILE.csv --seed N\n"
            "                  --outdir DIR [--catalogue 1|2] [--background Y0-Y1] [--prefix P]\n");
    exit(2);
}

static int valid_prefix(const char *p) {
    if (strlen(p) > 40) return 0;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == ':' || *p == '-'))
            return 0;
    return 1;
}

int main(int argc, char **argv) {
    const char *seed_s = NULL, *events_s = NULL, *from_s = NULL, *to_s = NULL, *prefix = "";
    const char *country = NULL, *outdir = NULL, *munis = NULL, *bg = "2018-2023";
    int cat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
        if (i + 1 >= argc) { fprintf(stderr, "gen_events: %s needs a value\n", a); usage(); }
        const char *v = argv[++i];
        if (!strcmp(a, "--seed")) seed_s = v;
        else if (!strcmp(a, "--events")) events_s = v;
        else if (!strcmp(a, "--from")) from_s = v;
        else if (!strcmp(a, "--to")) to_s = v;
        else if (!strcmp(a, "--prefix")) prefix = v;
        else if (!strcmp(a, "--catalogue")) {
            if (strcmp(v, "1") && strcmp(v, "2")) die("--catalogue must be 1 or 2", v);
            cat = v[0] - '0';
        } else if (!strcmp(a, "--country")) country = v;
        else if (!strcmp(a, "--outdir")) outdir = v;
        else if (!strcmp(a, "--municipalities")) munis = v;
        else if (!strcmp(a, "--background")) bg = v;
        else { fprintf(stderr, "gen_events: unknown option %s\n", a); usage(); }
    }
    if (!seed_s) die("--seed is required", NULL);
    char *end;
    errno = 0;
    uint64_t seed = strtoull(seed_s, &end, 0);
    if (*end || errno) die("bad --seed", seed_s);
    if (!valid_prefix(prefix)) die("--prefix: at most 40 characters of [A-Za-z0-9_.:-]", prefix);
    rseed(seed);
    init_dates();

    if (country) {
        if (!outdir) die("--outdir is required with --country", NULL);
        if (!munis) die("--municipalities is required with --country", NULL);
        int b0, b1;
        char tail;
        if (sscanf(bg, "%d-%d%c", &b0, &b1, &tail) != 2 || b0 > b1 || b0 < 2000 || b1 > 2100)
            die("bad --background (want Y0-Y1, 2000..2100)", bg);
        return country_mode(country, munis, outdir, cat, b0, b1, prefix);
    }

    if (!events_s || !from_s || !to_s) usage();
    errno = 0;
    unsigned long long count = strtoull(events_s, &end, 10);
    if (*end || errno || count > 400000000ULL) die("bad --events", events_s);
    int32_t from = parse_date(from_s), to = parse_date(to_s);
    if (from < days_from_civil(2000, 1, 1)) die("--from must not be before 2000-01-01", from_s);
    if (to < from) die("--to is before --from", to_s);
    if (to - date_base >= DATE_SPAN - 400) die("--to is too far in the future", to_s);

    while (nev < count) gen_case(from, to, to, 0, cat == 2, 0);
    group_by_case();
    for (size_t i = 0; i < ncs; i++) finalize_case(&CS[i]);
    if (nev > count) { /* trim the tail (line order) of the last case: still valid */
        Case *c = &CS[ncs - 1];
        size_t over = nev - count;
        c->ev_n -= (uint32_t)over;
        nev = count;
    }
    uint32_t *all = xrealloc(NULL, (ncs ? ncs : 1) * sizeof *all);
    for (size_t i = 0; i < ncs; i++) all[i] = (uint32_t)i;
    obuf = xrealloc(NULL, OBUF_CAP);
    emit_cases(stdout, all, (uint32_t)ncs, prefix);
    if (fflush(stdout) != 0) die("write failed", strerror(errno));
    free(all);
    return 0;
}
