/*  central_workforce: children per child protection worker.

    The document is built from one array of staffings, read in short read
    transactions before anything is computed, so the arithmetic can be
    tested without a store.  Sums are in 64 bits (61 municipalities of at
    most 2,000,000 children each), and a ratio is rounded to tenths in whole
    numbers before it becomes a JSON real, so the same staffing always
    prints the same figure.                                                 */

#include "central_workforce.h"
#include "cp_error.h"

#include <string.h>

//  What a county or the scope adds up.
typedef struct {
    uint64_t workers;           //  of the municipalities that reported
    uint64_t children;
    int reported;               //  municipalities with a staffing in effect
    int no_report;              //  municipalities without
    int above;                  //  municipalities above the target
} s_sum_t;

int
central_workforce_read (central_store_t *store, int32_t day, central_staffing_t *staffing,
                        bool *reported)
{
    for (int index = 0; index < cp_municipality_count (); index++) {
        int rc = central_store_staffing (store, index, day, &staffing [index]);
        if (rc && rc != CP_ENOTFOUND)
            return rc;
        reported [index] = rc == 0;
    }
    return 0;
}

//  Children over workers, to a tenth (half up); null with no worker.
static json_t *
s_ratio (uint64_t children, uint64_t workers)
{
    if (workers == 0)
        return json_null ();
    uint64_t tenths = (children * 20 + workers) / (2 * workers);
    return json_real ((double) tenths / 10);
}

//  Above the target: more children per worker than it allows, or children
//  and no worker.
static bool
s_above (uint64_t children, uint64_t workers)
{
    return children > (uint64_t) CENTRAL_WORKFORCE_TARGET * workers;
}

static json_t *
s_date (int32_t day)
{
    char text [CP_DATE_STRLEN + 1];
    cp_date_format (day, text);
    return json_string (text);
}

//  Sets a group's figures (GROUP in the header) in object.
static void
s_group_set (json_t *object, const s_sum_t *sum)
{
    json_object_set_new (object, "workers", json_integer ((json_int_t) sum->workers));
    json_object_set_new (object, "children", json_integer ((json_int_t) sum->children));
    json_object_set_new (object, "children_per_worker", s_ratio (sum->children, sum->workers));
    json_object_set_new (object, "above_target", sum->reported
                         ? json_boolean (s_above (sum->children, sum->workers)): json_null ());
    json_object_set_new (object, "reported", json_integer (sum->reported));
    json_object_set_new (object, "no_report", json_integer (sum->no_report));
    json_object_set_new (object, "above_target_count", json_integer (sum->above));
}

//  One municipality's entry, added to sum.
static json_t *
s_municipality (int index, const central_staffing_t *staffing, bool reported, s_sum_t *sum)
{
    json_t *entry = json_object ();
    json_object_set_new (entry, "code", json_string (cp_municipality_code (index)));
    json_object_set_new (entry, "name", json_string (cp_municipality_name (index)));
    if (!reported) {
        json_object_set_new (entry, "status", json_string ("no_report"));
        json_object_set_new (entry, "since", json_null ());
        json_object_set_new (entry, "workers", json_null ());
        json_object_set_new (entry, "children", json_null ());
        json_object_set_new (entry, "children_per_worker", json_null ());
        json_object_set_new (entry, "above_target", json_null ());
        sum->no_report++;
        return entry;
    }
    bool above = s_above (staffing->children, staffing->workers);
    json_object_set_new (entry, "status", json_string (above? "above_target"
                                                             : "within_target"));
    json_object_set_new (entry, "since", s_date (staffing->date));
    json_object_set_new (entry, "workers", json_integer (staffing->workers));
    json_object_set_new (entry, "children", json_integer (staffing->children));
    json_object_set_new (entry, "children_per_worker",
                         s_ratio (staffing->children, staffing->workers));
    json_object_set_new (entry, "above_target", json_boolean (above));
    sum->workers += staffing->workers;
    sum->children += staffing->children;
    sum->reported++;
    sum->above += above;
    return entry;
}

json_t *
central_workforce (const cp_period_t *period, const cp_scope_t *scope,
                   const central_staffing_t *staffing, const bool *reported)
{
    char scope_name [CP_SCOPE_MAX];
    cp_scope_format (scope, scope_name);
    json_t *root = json_object ();
    json_object_set_new (root, "period", json_string (period->name));
    json_object_set_new (root, "scope", json_string (scope_name));
    json_object_set_new (root, "as_of", s_date (period->end));
    json_object_set_new (root, "target", json_integer (CENTRAL_WORKFORCE_TARGET));
    s_sum_t total = {0};
    json_t *counties = json_array ();
    for (int county = 0; county < cp_county_count (); county++) {
        s_sum_t sum = {0};
        json_t *list = json_array ();
        for (int index = 0; index < cp_municipality_count (); index++)
            if (cp_municipality_county (index) == county && cp_scope_contains (scope, index))
                json_array_append_new (list, s_municipality (index, &staffing [index],
                                                             reported [index], &sum));
        if (json_array_size (list) == 0) {
            json_decref (list);
            continue;
        }
        json_t *group = json_object ();
        json_object_set_new (group, "county", json_string (cp_county_code (county)));
        json_object_set_new (group, "name", json_string (cp_county_name (county)));
        s_group_set (group, &sum);
        json_object_set_new (group, "municipalities", list);
        json_array_append_new (counties, group);
        total.workers += sum.workers;
        total.children += sum.children;
        total.reported += sum.reported;
        total.no_report += sum.no_report;
        total.above += sum.above;
    }
    json_object_set_new (root, "counties", counties);
    json_t *summary = json_object ();
    s_group_set (summary, &total);
    json_object_set_new (root, "total", summary);
    return root;
}

//  =====================================================================
//  The table

static const char *
s_text (const json_t *object, const char *key, const char *none)
{
    const char *text = json_string_value (json_object_get (object, key));
    return text? text: none;
}

static long long
s_integer (const json_t *object, const char *key)
{
    return (long long) json_integer_value (json_object_get (object, key));
}

//  A ratio as printed: "2333.3", or "-" for none.
static void
s_ratio_text (const json_t *object, char *buf, size_t size)
{
    const json_t *ratio = json_object_get (object, "children_per_worker");
    if (json_is_number (ratio))
        snprintf (buf, size, "%.1f", json_number_value (ratio));
    else
        snprintf (buf, size, "-");
}

//  "24 workers, 56000 children, 2333.3 children per worker; 5 of 5
//  reported, 1 above target"
static void
s_group_print (const json_t *group, FILE *out)
{
    char ratio [32];
    s_ratio_text (group, ratio, sizeof ratio);
    long long reported = s_integer (group, "reported");
    fprintf (out, "%lld workers, %lld children, %s children per worker%s; %lld of %lld "
             "reported, %lld above target\n", s_integer (group, "workers"),
             s_integer (group, "children"), ratio,
             json_is_true (json_object_get (group, "above_target"))? " (above target)": "",
             reported, reported + s_integer (group, "no_report"),
             s_integer (group, "above_target_count"));
}

void
central_workforce_print (const json_t *workforce, FILE *out)
{
    fprintf (out, "workforce %s, %s: staffing in effect on %s; the target is at most %lld "
             "children per worker\n", s_text (workforce, "period", "?"),
             s_text (workforce, "scope", "?"), s_text (workforce, "as_of", "?"),
             s_integer (workforce, "target"));
    size_t index;
    json_t *county;
    json_t *above = json_array ();
    json_array_foreach (json_object_get (workforce, "counties"), index, county) {
        fprintf (out, "\ncounty %s (%s): ", s_text (county, "county", "?"),
                 s_text (county, "name", "?"));
        s_group_print (county, out);
        fprintf (out, "  %-14s %-10s %8s %9s %11s\n", "municipality", "since", "workers",
                 "children", "per worker");
        size_t at;
        json_t *entry;
        json_array_foreach (json_object_get (county, "municipalities"), at, entry) {
            const char *status = s_text (entry, "status", "?");
            if (strcmp (status, "no_report") == 0) {
                fprintf (out, "  %-14s no report\n", s_text (entry, "code", "?"));
                continue;
            }
            char ratio [32];
            s_ratio_text (entry, ratio, sizeof ratio);
            bool is_above = strcmp (status, "above_target") == 0;
            fprintf (out, "  %-14s %-10s %8lld %9lld %11s%s\n", s_text (entry, "code", "?"),
                     s_text (entry, "since", "?"), s_integer (entry, "workers"),
                     s_integer (entry, "children"), ratio, is_above? "  above target": "");
            if (is_above)
                json_array_append (above, entry);
        }
    }
    fprintf (out, "\n%s: ", s_text (workforce, "scope", "?"));
    s_group_print (json_object_get (workforce, "total"), out);
    fprintf (out, "above target:");
    json_t *entry;
    json_array_foreach (above, index, entry) {
        char ratio [32];
        s_ratio_text (entry, ratio, sizeof ratio);
        fprintf (out, " %s (%s)", s_text (entry, "code", "?"),
                 json_is_number (json_object_get (entry, "children_per_worker"))
                 ? ratio: "no worker");
    }
    fprintf (out, "%s\n", json_array_size (above)? "": " none");
    json_decref (above);
}
