/*  cp_catalogue: parses the catalogue texts and answers code look-ups.

    Look-ups run once per imported field, so they are a linear scan over at
    most CP_CODES_MAX short strings with a length check first: cheaper than a
    hash for lists this short.                                                */

#include "cp_catalogue.h"
#include "cp_error.h"

#include <assert.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char code [CP_CODE_MAX + 1];
    unsigned char length;       //  strlen (code)
    char *sq;                   //  Albanian label
    char *en;                   //  English label
    int since;                  //  version that introduced the code
    int min, max;               //  age bounds (age_group only)
    bool court;                 //  court_confirmation (measure only)
} s_code_t;

struct _cp_catalogue_t {
    int version;                //  newest version applied
    char **titles;              //  titles [v - 1]: version v's "title" ("" when
                                //  it has none), for v = 1 .. version
    int count [CP_DIM_COUNT];   //  codes per dimension
    int other [CP_DIM_COUNT];   //  id of "other", or -1
    s_code_t codes [CP_DIM_COUNT][CP_CODES_MAX];
};

static const char *s_dim_names [CP_DIM_COUNT] = {
    "age_group", "sex", "ethnicity", "referral", "risk",
    "problem", "close_reason", "measure", "school"
};

const char *
cp_dim_name (cp_dim_t dim)
{
    assert (dim < CP_DIM_COUNT);
    return s_dim_names [dim];
}

static int
s_dim_of (const char *name)
{
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        if (strcmp (s_dim_names [dim], name) == 0)
            return dim;
    return -1;
}

static const char *
s_string (json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

//  Adds one code object ({"code": ..., "sq": ..., "en": ...}) to a dimension.
static int
s_add_code (cp_catalogue_t *self, int dim, json_t *entry, int since,
            char *why, size_t why_size)
{
    const char *code = s_string (entry, "code");
    const char *sq = s_string (entry, "sq");
    const char *en = s_string (entry, "en");
    if (!code || !*code || strlen (code) > CP_CODE_MAX || !sq || !en)
        return cp_error_why (-1, why, why_size, "%s: a code needs \"code\" (1-%d chars), \"sq\", \"en\"",
                       s_dim_names [dim], CP_CODE_MAX);
    if (cp_catalogue_lookup (self, dim, code, strlen (code)) >= 0)
        return cp_error_why (-1, why, why_size, "%s: code '%s' defined twice", s_dim_names [dim], code);
    if (self->count [dim] == CP_CODES_MAX)
        return cp_error_why (-1, why, why_size, "%s: more than %d codes", s_dim_names [dim], CP_CODES_MAX);

    json_t *min = json_object_get (entry, "min");
    json_t *max = json_object_get (entry, "max");
    if (dim == CP_DIM_AGE_GROUP && (!json_is_integer (min) || !json_is_integer (max)))
        return cp_error_why (-1, why, why_size, "age_group '%s' needs integer min and max", code);

    s_code_t *slot = &self->codes [dim][self->count [dim]];
    strcpy (slot->code, code);
    slot->length = (unsigned char) strlen (code);
    slot->sq = strdup (sq);
    slot->en = strdup (en);
    slot->since = since;
    if (!slot->sq || !slot->en) {
        free (slot->sq);
        free (slot->en);
        slot->sq = slot->en = NULL;
        return cp_error_why (-1, why, why_size, "out of memory");
    }
    if (dim == CP_DIM_AGE_GROUP) {
        slot->min = (int) json_integer_value (min);
        slot->max = (int) json_integer_value (max);
    }
    if (dim == CP_DIM_MEASURE)
        slot->court = json_is_true (json_object_get (entry, "court_confirmation"));
    if (strcmp (code, "other") == 0)
        self->other [dim] = self->count [dim];
    self->count [dim]++;
    return 0;
}

static int
s_apply_base (cp_catalogue_t *self, json_t *root, char *why, size_t why_size)
{
    json_t *dimensions = json_object_get (root, "dimensions");
    if (!json_is_object (dimensions))
        return cp_error_why (-1, why, why_size, "catalogue 1 has no \"dimensions\" object");
    for (int dim = 0; dim < CP_DIM_COUNT; dim++) {
        json_t *list = json_object_get (dimensions, s_dim_names [dim]);
        if (!json_is_array (list) || json_array_size (list) == 0)
            return cp_error_why (-1, why, why_size, "catalogue 1 lacks dimension '%s'", s_dim_names [dim]);
        size_t index;
        json_t *entry;
        json_array_foreach (list, index, entry) {
            if (s_add_code (self, dim, entry, 1, why, why_size))
                return -1;
        }
    }
    return 0;
}

static int
s_apply_revision (cp_catalogue_t *self, json_t *root, int version,
                  char *why, size_t why_size)
{
    json_t *revises = json_object_get (root, "revises");
    json_t *changes = json_object_get (root, "changes");
    if (!json_is_integer (revises) || json_integer_value (revises) != version - 1)
        return cp_error_why (-1, why, why_size, "catalogue %d must revise %d", version, version - 1);
    if (!json_is_array (changes))
        return cp_error_why (-1, why, why_size, "catalogue %d has no \"changes\" list", version);
    size_t index;
    json_t *change;
    json_array_foreach (changes, index, change) {
        const char *op = s_string (change, "op");
        const char *dimension = s_string (change, "dimension");
        int dim = dimension? s_dim_of (dimension): -1;
        const char *code = s_string (change, "code");
        if (op && (strcmp (op, "remove") == 0 || strcmp (op, "rename") == 0))
            //  Counters are kept by code id, and an id is a position: a
            //  code removed or renamed would recount every stored row.
            return cp_error_why (-1, why, why_size, "catalogue %d: change %zu: op '%s' of %s "
                                 "code '%s' refused: codes are never removed or renamed, "
                                 "because counters are kept by code id (only \"add\")",
                                 version, index, op, dimension? dimension: "(no dimension)",
                                 code? code: "(none)");
        if (!op || strcmp (op, "add") != 0)
            return cp_error_why (-1, why, why_size, "catalogue %d: change %zu: unsupported "
                                 "op '%s' of %s code '%s' (only \"add\")", version, index,
                                 op? op: "(none)", dimension? dimension: "(no dimension)",
                                 code? code: "(none)");
        if (dim < 0)
            return cp_error_why (-1, why, why_size, "catalogue %d: change %zu: unknown "
                                 "dimension '%s' of code '%s'", version, index,
                                 dimension? dimension: "(none)", code? code: "(none)");
        if (s_add_code (self, dim, change, version, why, why_size))
            return -1;
    }
    return 0;
}

//  Applies one version's text on top of what self holds.
static int
s_apply_text (cp_catalogue_t *self, const char *text, char *why, size_t why_size)
{
    json_error_t error;
    json_t *root = json_loads (text, JSON_REJECT_DUPLICATES, &error);
    if (!root)
        return cp_error_why (-1, why, why_size, "catalogue %d is not JSON: line %d: %s",
                       self->version + 1, error.line, error.text);
    int version = self->version + 1;
    json_t *number = json_object_get (root, "catalogue");
    int rc;
    if (!json_is_integer (number))
        rc = cp_error_why (-1, why, why_size, "expected catalogue %d, found no \"catalogue\" "
                           "number", version);
    else
    if (json_integer_value (number) != version)
        rc = cp_error_why (-1, why, why_size, "catalogue %" JSON_INTEGER_FORMAT " is not the "
                           "next version: expected catalogue %d", json_integer_value (number),
                           version);
    else
        rc = version == 1? s_apply_base (self, root, why, why_size)
                         : s_apply_revision (self, root, version, why, why_size);
    if (rc == 0) {
        const char *title = s_string (root, "title");
        char **titles = realloc (self->titles, (size_t) version * sizeof (char *));
        if (titles)
            self->titles = titles;
        if (!titles || !(titles [version - 1] = strdup (title? title: "")))
            rc = cp_error_why (-1, why, why_size, "out of memory");
    }
    json_decref (root);
    if (rc == 0)
        self->version = version;
    return rc;
}

cp_catalogue_t *
cp_catalogue_new (const char *const *texts, int count, char *why, size_t why_size)
{
    cp_catalogue_t *self = calloc (1, sizeof (cp_catalogue_t));
    if (!self)
        return NULL;
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        self->other [dim] = -1;
    if (count < 1)
        cp_error_why (-1, why, why_size, "no catalogue text");
    for (int index = 0; index < count; index++)
        if (s_apply_text (self, texts [index], why, why_size)) {
            cp_catalogue_destroy (&self);
            return NULL;
        }
    if (self && self->version == 0)
        cp_catalogue_destroy (&self);
    return self;
}

cp_catalogue_t *
cp_catalogue_new_builtin (int version)
{
    if (version < 1 || version > cp_catalogue_builtin_count)
        return NULL;
    return cp_catalogue_new (cp_catalogue_builtin + 1, version, NULL, 0);
}

void
cp_catalogue_destroy (cp_catalogue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cp_catalogue_t *self = *self_p;
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        for (int id = 0; id < self->count [dim]; id++) {
            free (self->codes [dim][id].sq);
            free (self->codes [dim][id].en);
        }
    for (int index = 0; self->titles && index < self->version; index++)
        free (self->titles [index]);
    free (self->titles);
    free (self);
    *self_p = NULL;
}

//  A deep copy of self (labels and titles its own), or NULL.
static cp_catalogue_t *
s_copy (const cp_catalogue_t *self)
{
    cp_catalogue_t *copy = malloc (sizeof (cp_catalogue_t));
    if (!copy)
        return NULL;
    memcpy (copy, self, sizeof (cp_catalogue_t));
    //  Nothing of self's is shared, so a copy half made destroys cleanly.
    copy->titles = NULL;
    copy->version = 0;
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        for (int id = 0; id < copy->count [dim]; id++)
            copy->codes [dim][id].sq = copy->codes [dim][id].en = NULL;
    bool failed = false;
    for (int dim = 0; dim < CP_DIM_COUNT; dim++)
        for (int id = 0; id < copy->count [dim]; id++) {
            s_code_t *code = &copy->codes [dim][id];
            code->sq = strdup (self->codes [dim][id].sq);
            code->en = strdup (self->codes [dim][id].en);
            failed |= !code->sq || !code->en;
        }
    copy->titles = calloc ((size_t) self->version + 1, sizeof (char *));
    failed |= !copy->titles;
    for (int index = 0; !failed && index < self->version; index++) {
        copy->titles [index] = strdup (self->titles [index]);
        failed |= !copy->titles [index];
        copy->version = index + 1;      //  so destroy frees what was copied
    }
    if (failed)
        cp_catalogue_destroy (&copy);
    return copy;
}

cp_catalogue_t *
cp_catalogue_revise (const cp_catalogue_t *self, const char *text, char *why, size_t why_size)
{
    //  The revision is applied to a copy, so self stays as it is whatever
    //  the text says.
    cp_catalogue_t *revised = s_copy (self);
    if (!revised)
        cp_error_why (-1, why, why_size, "out of memory");
    else
    if (s_apply_text (revised, text, why, why_size))
        cp_catalogue_destroy (&revised);
    return revised;
}

int
cp_catalogue_check_revision (const cp_catalogue_t *self, const char *text,
                             char *why, size_t why_size)
{
    cp_catalogue_t *revised = cp_catalogue_revise (self, text, why, why_size);
    int version = revised? revised->version: -1;
    cp_catalogue_destroy (&revised);
    return version;
}

int
cp_catalogue_text_version (const char *text)
{
    json_t *root = json_loads (text, JSON_REJECT_DUPLICATES, NULL);
    json_t *number = json_object_get (root, "catalogue");
    json_int_t version = json_is_integer (number)? json_integer_value (number): -1;
    json_decref (root);
    return version >= 1 && version <= INT_MAX? (int) version: -1;
}

int
cp_catalogue_builtin_since (cp_dim_t dim, const char *code, size_t len, int after)
{
    assert (dim < CP_DIM_COUNT);
    //  Only the revisions' change lists are read, not whole catalogues
    //  built: a file of many lines with such codes stays quick to reject.
    for (int version = after < 1? 2: after + 1; version <= cp_catalogue_builtin_count; version++) {
        json_t *root = json_loads (cp_catalogue_builtin [version], 0, NULL);
        size_t index;
        json_t *change;
        bool found = false;
        json_array_foreach (json_object_get (root, "changes"), index, change) {
            const char *dimension = s_string (change, "dimension");
            const char *added = s_string (change, "code");
            if (dimension && added && strcmp (dimension, s_dim_names [dim]) == 0
            &&  strlen (added) == len && memcmp (added, code, len) == 0)
                found = true;
        }
        json_decref (root);
        if (found)
            return version;
    }
    return 0;
}

const char *
cp_catalogue_title (const cp_catalogue_t *self, int version)
{
    assert (version >= 1 && version <= self->version);
    return self->titles [version - 1];
}

int
cp_catalogue_version (const cp_catalogue_t *self)
{
    return self->version;
}

int
cp_catalogue_count (const cp_catalogue_t *self, cp_dim_t dim)
{
    return self->count [dim];
}

int
cp_catalogue_lookup (const cp_catalogue_t *self, cp_dim_t dim,
                     const char *code, size_t len)
{
    const s_code_t *codes = self->codes [dim];
    for (int id = 0; id < self->count [dim]; id++)
        if (codes [id].length == len && memcmp (codes [id].code, code, len) == 0)
            return id;
    return -1;
}

const char *
cp_catalogue_code (const cp_catalogue_t *self, cp_dim_t dim, int id)
{
    assert (id >= 0 && id < self->count [dim]);
    return self->codes [dim][id].code;
}

const char *
cp_catalogue_label (const cp_catalogue_t *self, cp_dim_t dim, int id, const char *lang)
{
    assert (id >= 0 && id < self->count [dim]);
    const s_code_t *code = &self->codes [dim][id];
    if (lang && strcmp (lang, "en") == 0)
        return code->en;
    if (lang && strcmp (lang, "sq") == 0)
        return code->sq;
    return code->code;
}

int
cp_catalogue_since (const cp_catalogue_t *self, cp_dim_t dim, int id)
{
    assert (id >= 0 && id < self->count [dim]);
    return self->codes [dim][id].since;
}

int
cp_catalogue_fold (const cp_catalogue_t *self, cp_dim_t dim, int id, int version)
{
    assert (id >= 0 && id < self->count [dim]);
    if (self->codes [dim][id].since <= version || self->other [dim] < 0)
        return id;
    return self->other [dim];
}

bool
cp_catalogue_court_confirmed (const cp_catalogue_t *self, int measure_id)
{
    assert (measure_id >= 0 && measure_id < self->count [CP_DIM_MEASURE]);
    return self->codes [CP_DIM_MEASURE][measure_id].court;
}

int
cp_catalogue_age_group (const cp_catalogue_t *self, int age)
{
    for (int id = 0; id < self->count [CP_DIM_AGE_GROUP]; id++) {
        const s_code_t *group = &self->codes [CP_DIM_AGE_GROUP][id];
        if (age >= group->min && age <= group->max)
            return id;
    }
    return -1;
}
