/*  cp_catalogue: the indicator catalogue, as data.

    A catalogue is a base list of dimensions and codes (catalogue-v1.json) and
    revisions that add codes (catalogue-v2.json, ...).  Revisions arrive at run
    time, so a node keeps the texts it has applied in its store and rebuilds
    the catalogue from them; the binaries carry the shipped texts built in.

    Each code has an id: its position within its dimension, in the order the
    base and then the revisions list it.  Revisions only append, so ids are
    stable across versions and every party that holds the texts agrees on
    them: counters are kept by id.  Each code also remembers the version that
    introduced it, so a view can be computed under an older version, where a
    newer code folds into that dimension's "other".                          */

#ifndef CP_CATALOGUE_H_INCLUDED
#define CP_CATALOGUE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define CP_CODES_MAX 32         //  codes in one dimension, over all versions
#define CP_CODE_MAX 40          //  characters in one code

typedef enum {
    CP_DIM_AGE_GROUP,
    CP_DIM_SEX,
    CP_DIM_ETHNICITY,
    CP_DIM_REFERRAL,
    CP_DIM_RISK,
    CP_DIM_PROBLEM,
    CP_DIM_CLOSE_REASON,
    CP_DIM_MEASURE,
    CP_DIM_SCHOOL,
    CP_DIM_COUNT
} cp_dim_t;

typedef struct _cp_catalogue_t cp_catalogue_t;

//  The catalogue texts built into the binaries: cp_catalogue_builtin [v] is
//  the JSON of version v, for v = 1 .. cp_catalogue_builtin_count.
extern const char *const cp_catalogue_builtin [];
extern const int cp_catalogue_builtin_count;

//  Builds a catalogue from the JSON texts of versions 1 .. count, in order
//  (texts [0] is version 1).  Returns NULL on failure and writes a message
//  naming what was wrong into why (may be NULL).  Caller destroys.
cp_catalogue_t *
    cp_catalogue_new (const char *const *texts, int count, char *why, size_t why_size);

//  Builds the built-in catalogue of the given version.
cp_catalogue_t *
    cp_catalogue_new_builtin (int version);

void
    cp_catalogue_destroy (cp_catalogue_t **self_p);

//  The newest version this catalogue holds.
int
    cp_catalogue_version (const cp_catalogue_t *self);

//  Checks a revision text against this catalogue: returns its version when it
//  is the next one and applies cleanly, else -1 with a message in why that
//  names what is wrong: not JSON, not the next version, a "revises" that is
//  not the version before, an op other than "add" (codes are never removed
//  or renamed: counters are kept by code id) with its dimension and code, an
//  unknown dimension, a code defined twice.
int
    cp_catalogue_check_revision (const cp_catalogue_t *self, const char *text,
                                 char *why, size_t why_size);

//  A new catalogue: self with the revision text applied (the next version),
//  or NULL with cp_catalogue_check_revision's message in why.  self is left
//  as it is.  Caller destroys.
cp_catalogue_t *
    cp_catalogue_revise (const cp_catalogue_t *self, const char *text,
                         char *why, size_t why_size);

//  The version a catalogue text says it is (its "catalogue" number), or -1
//  when the text is not JSON or has no such number.  Reads nothing else.
int
    cp_catalogue_text_version (const char *text);

//  The built-in revision after version after (from 2 on) that adds a code
//  (len bytes) of dim, or 0 when none does.  Parses those revisions' texts
//  on each call: for messages, not for a hot path.
int
    cp_catalogue_builtin_since (cp_dim_t dim, const char *code, size_t len, int after);

//  The "title" of a version this catalogue holds (1 .. its version; "" when
//  that text has none).  Borrowed.
const char *
    cp_catalogue_title (const cp_catalogue_t *self, int version);

//  The JSON name of a dimension ("age_group", "close_reason", ...).
const char *
    cp_dim_name (cp_dim_t dim);

//  Number of codes of a dimension (every version up to the newest).
int
    cp_catalogue_count (const cp_catalogue_t *self, cp_dim_t dim);

//  The id of a code (len bytes, need not be NUL-terminated), or -1 when
//  the catalogue does not define it.
int
    cp_catalogue_lookup (const cp_catalogue_t *self, cp_dim_t dim,
                         const char *code, size_t len);

//  The code of an id; the caller has checked the id is in range.
const char *
    cp_catalogue_code (const cp_catalogue_t *self, cp_dim_t dim, int id);

//  The label of a code in "sq" or "en" (falls back to the code).
const char *
    cp_catalogue_label (const cp_catalogue_t *self, cp_dim_t dim, int id,
                        const char *lang);

//  The version that introduced a code.
int
    cp_catalogue_since (const cp_catalogue_t *self, cp_dim_t dim, int id);

//  The id under which a code counts in a view of the given version: itself,
//  or the dimension's "other" when the version does not know it yet.
int
    cp_catalogue_fold (const cp_catalogue_t *self, cp_dim_t dim, int id, int version);

//  True when a measure is one that a court confirms.
bool
    cp_catalogue_court_confirmed (const cp_catalogue_t *self, int measure_id);

//  The age group id of an age in whole years, or -1.
int
    cp_catalogue_age_group (const cp_catalogue_t *self, int age);

#endif
