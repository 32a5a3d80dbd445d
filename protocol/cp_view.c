/*  cp_view: figures from tally rows, and their three printed forms.

    managed        = cases opened by the end − cases closed before the start
    by risk/problem = state deltas summed to the end − closings before the
                     start by final state (see cp_tally.h)
    everything else = the period's own rows                                   */

#include "cp_view.h"
#include "cp_error.h"

#include <assert.h>
#include <jansson.h>
#include <string.h>

typedef struct {
    const char *key;            //  JSON key
    cp_dim_t dim;
    const char *none;           //  code of the "none" slot, or NULL
    const char *sq, *en;        //  titles for the table
} s_breakdown_t;

static const s_breakdown_t s_breakdowns [CP_BREAKDOWN_COUNT] = {
    {"new_by_age_group", CP_DIM_AGE_GROUP, NULL,
     "Raste të reja sipas grupmoshës", "New cases by age group"},
    {"new_by_sex", CP_DIM_SEX, NULL, "Raste të reja sipas gjinisë", "New cases by sex"},
    {"new_by_ethnicity", CP_DIM_ETHNICITY, NULL,
     "Raste të reja sipas etnisë", "New cases by ethnicity"},
    {"new_by_referral", CP_DIM_REFERRAL, NULL,
     "Raste të reja sipas burimit të referimit", "New cases by referral source"},
    {"closed_by_reason", CP_DIM_CLOSE_REASON, NULL,
     "Raste të mbyllura sipas arsyes", "Cases closed by reason"},
    {"managed_by_risk", CP_DIM_RISK, "unassessed",
     "Raste të menaxhuara sipas nivelit të rrezikut", "Managed cases by risk level"},
    {"managed_by_problem", CP_DIM_PROBLEM, "unspecified",
     "Raste të menaxhuara sipas problemit", "Managed cases by problem"},
    {"measures_taken", CP_DIM_MEASURE, NULL, "Masa mbrojtjeje të marra", "Protection measures taken"},
    {"measures_court_confirmed", CP_DIM_MEASURE, NULL,
     "Masa të konfirmuara nga gjykata", "Measures confirmed by a court"},
    {"school_identified", CP_DIM_SCHOOL, NULL,
     "Fëmijë të identifikuar për arsimin", "Children identified for schooling"},
};

const char *
cp_breakdown_key (cp_breakdown_t breakdown)
{
    return s_breakdowns [breakdown].key;
}

cp_dim_t
cp_breakdown_dim (cp_breakdown_t breakdown)
{
    return s_breakdowns [breakdown].dim;
}

const char *
cp_breakdown_none (cp_breakdown_t breakdown)
{
    return s_breakdowns [breakdown].none;
}

int32_t
cp_view_last_month (const cp_view_t *self)
{
    return cp_tally_month (self->period.end);
}

void
cp_view_init (cp_view_t *self, const cp_period_t *period, const char *scope)
{
    memset (self, 0, sizeof *self);
    self->period = *period;
    snprintf (self->scope, sizeof self->scope, "%s", scope);
}

//  =====================================================================
//  Cells

int64_t
cp_view_cell_value (const cp_figures_t *figures, int cell)
{
    assert (cell >= 0 && cell < CP_VIEW_CELLS);
    switch (cell) {
        case CP_VIEW_MANAGED:       return figures->managed;
        case CP_VIEW_NEW:           return figures->opened;
        case CP_VIEW_CLOSED:        return figures->closed;
        case CP_VIEW_HOME_VISITS:   return figures->home_visits;
        default:
            return figures->breakdowns [(cell - 4) / CP_SLOTS][(cell - 4) % CP_SLOTS];
    }
}

bool
cp_view_cell_exists (const cp_catalogue_t *catalogue, int version, int cell)
{
    if (cell < 4)
        return cell >= 0;
    int breakdown = (cell - 4) / CP_SLOTS, slot = (cell - 4) % CP_SLOTS;
    cp_dim_t dim = s_breakdowns [breakdown].dim;
    if (slot == CP_SLOT_NONE)
        return s_breakdowns [breakdown].none != NULL;
    return slot < cp_catalogue_count (catalogue, dim)
        && cp_catalogue_since (catalogue, dim, slot) <= version;
}

int
cp_breakdown_total (cp_breakdown_t breakdown)
{
    if (breakdown <= CP_BREAKDOWN_NEW_REFERRAL)
        return CP_VIEW_NEW;
    if (breakdown == CP_BREAKDOWN_CLOSED_REASON)
        return CP_VIEW_CLOSED;
    if (breakdown <= CP_BREAKDOWN_MANAGED_PROBLEM)
        return CP_VIEW_MANAGED;
    return -1;
}

int
cp_view_cell_family (int cell)
{
    if (cell < 4)
        return cell;
    int total = cp_breakdown_total ((cp_breakdown_t) ((cell - 4) / CP_SLOTS));
    return total >= 0? total: cell;
}

static bool
s_is_hidden (const cp_view_mask_t *mask, int cell)
{
    return mask && mask->hidden && mask->hidden [cell];
}

int
cp_view_add_encoded (cp_view_t *self, int32_t month, const uint8_t *data, size_t size)
{
    if (month > cp_tally_month (self->period.end))
        return 0;
    cp_tally_row_t *into = month < cp_tally_month (self->period.start)? &self->before
                                                                       : &self->within;
    return cp_tally_row_decode_add (data, size, into);
}

//  Sums a metric's cells into a breakdown, folding codes the version lacks.
static void
s_fold (int64_t *into, const cp_tally_row_t *row, cp_metric_t metric, int sign,
        const cp_catalogue_t *catalogue, cp_dim_t dim, int version)
{
    for (int id = 0; id < cp_catalogue_count (catalogue, dim); id++)
        into [cp_catalogue_fold (catalogue, dim, id, version)]
            += sign * row->cells [CP_CELL (metric, id)];
    into [CP_SLOT_NONE] += sign * row->cells [CP_CELL (metric, CP_SLOT_NONE)];
}

void
cp_view_figures (const cp_view_t *self, const cp_catalogue_t *catalogue, int version,
                 cp_figures_t *figures)
{
    assert (version >= 1 && version <= cp_catalogue_version (catalogue));
    memset (figures, 0, sizeof *figures);
    figures->catalogue = version;
    const cp_tally_row_t *before = &self->before, *within = &self->within;
    #define S_CELL(row, metric) ((row)->cells [CP_CELL (metric, 0)])
    figures->opened = S_CELL (within, CP_METRIC_NEW);
    figures->managed = S_CELL (before, CP_METRIC_NEW) + figures->opened
                     - S_CELL (before, CP_METRIC_CLOSED);
    figures->closed = S_CELL (within, CP_METRIC_CLOSED);
    figures->home_visits = S_CELL (within, CP_METRIC_HOME_VISITS);
    #undef S_CELL

    static const cp_metric_t counted [CP_BREAKDOWN_COUNT] = {
        [CP_BREAKDOWN_NEW_AGE_GROUP] = CP_METRIC_NEW_AGE_GROUP,
        [CP_BREAKDOWN_NEW_SEX] = CP_METRIC_NEW_SEX,
        [CP_BREAKDOWN_NEW_ETHNICITY] = CP_METRIC_NEW_ETHNICITY,
        [CP_BREAKDOWN_NEW_REFERRAL] = CP_METRIC_NEW_REFERRAL,
        [CP_BREAKDOWN_CLOSED_REASON] = CP_METRIC_CLOSED_REASON,
        [CP_BREAKDOWN_MEASURES_TAKEN] = CP_METRIC_MEASURES_TAKEN,
        [CP_BREAKDOWN_MEASURES_CONFIRMED] = CP_METRIC_MEASURES_CONFIRMED,
        [CP_BREAKDOWN_SCHOOL] = CP_METRIC_SCHOOL,
    };
    for (int index = 0; index < CP_BREAKDOWN_COUNT; index++) {
        int64_t *into = figures->breakdowns [index];
        cp_dim_t dim = s_breakdowns [index].dim;
        if (index == CP_BREAKDOWN_MANAGED_RISK || index == CP_BREAKDOWN_MANAGED_PROBLEM) {
            bool risk = index == CP_BREAKDOWN_MANAGED_RISK;
            cp_metric_t state = risk? CP_METRIC_RISK_STATE: CP_METRIC_PROBLEM_STATE;
            cp_metric_t closing = risk? CP_METRIC_CLOSED_RISK: CP_METRIC_CLOSED_PROBLEM;
            s_fold (into, before, state, +1, catalogue, dim, version);
            s_fold (into, within, state, +1, catalogue, dim, version);
            s_fold (into, before, closing, -1, catalogue, dim, version);
        }
        else
            s_fold (into, within, counted [index], +1, catalogue, dim, version);
    }
}

//  =====================================================================
//  JSON

//  A cell's figure, or "c" when the mask hides it.
static json_t *
s_cell_json (const cp_figures_t *figures, int cell, const cp_view_mask_t *mask)
{
    return s_is_hidden (mask, cell)? json_string ("c")
                                   : json_integer (cp_view_cell_value (figures, cell));
}

static json_t *
s_breakdown_json (const cp_figures_t *figures, int index, const cp_catalogue_t *catalogue,
                  const cp_view_mask_t *mask)
{
    json_t *object = json_object ();
    cp_dim_t dim = s_breakdowns [index].dim;
    for (int id = 0; id < cp_catalogue_count (catalogue, dim); id++)
        if (cp_catalogue_since (catalogue, dim, id) <= figures->catalogue)
            json_object_set_new (object, cp_catalogue_code (catalogue, dim, id),
                                 s_cell_json (figures, cp_view_cell (index, id), mask));
    if (s_breakdowns [index].none)
        json_object_set_new (object, s_breakdowns [index].none,
                             s_cell_json (figures, cp_view_cell (index, CP_SLOT_NONE), mask));
    return object;
}

static int
s_print_json (const cp_view_t *self, const cp_figures_t *figures,
              const cp_catalogue_t *catalogue, const cp_view_mask_t *mask, FILE *out)
{
    json_t *root = json_object ();
    json_object_set_new (root, "period", json_string (self->period.name));
    json_object_set_new (root, "scope", json_string (self->scope));
    json_object_set_new (root, "catalogue", json_integer (figures->catalogue));
    json_object_set_new (root, "municipalities_reporting",
                         json_integer (self->municipalities_reporting));
    if (mask && mask->note)
        json_object_set_new (root, "suppression", json_string (mask->note));
    json_object_set_new (root, "managed", s_cell_json (figures, CP_VIEW_MANAGED, mask));
    json_object_set_new (root, "new", s_cell_json (figures, CP_VIEW_NEW, mask));
    for (int index = CP_BREAKDOWN_NEW_AGE_GROUP; index <= CP_BREAKDOWN_NEW_REFERRAL; index++)
        json_object_set_new (root, s_breakdowns [index].key,
                             s_breakdown_json (figures, index, catalogue, mask));
    json_object_set_new (root, "closed", s_cell_json (figures, CP_VIEW_CLOSED, mask));
    for (int index = CP_BREAKDOWN_CLOSED_REASON; index <= CP_BREAKDOWN_MANAGED_PROBLEM; index++)
        json_object_set_new (root, s_breakdowns [index].key,
                             s_breakdown_json (figures, index, catalogue, mask));
    json_object_set_new (root, "home_visits", s_cell_json (figures, CP_VIEW_HOME_VISITS, mask));
    for (int index = CP_BREAKDOWN_MEASURES_TAKEN; index < CP_BREAKDOWN_COUNT; index++)
        json_object_set_new (root, s_breakdowns [index].key,
                             s_breakdown_json (figures, index, catalogue, mask));
    int rc = json_dumpf (root, out, JSON_INDENT (2));
    json_decref (root);
    if (rc == 0)
        fputc ('\n', out);
    return rc == 0? 0: CP_EIO;
}

int
cp_view_print_json (const cp_view_t *self, const cp_figures_t *figures,
                    const cp_catalogue_t *catalogue, FILE *out)
{
    return s_print_json (self, figures, catalogue, NULL, out);
}

//  =====================================================================
//  Table and CSV

//  Characters (code points) in a UTF-8 string, for aligning columns.
static size_t
s_width (const char *text)
{
    size_t width = 0;
    for (; *text; text++)
        width += ((unsigned char) *text & 0xC0) != 0x80;
    return width;
}

#define S_LABEL_WIDTH 60

//  Where a table goes, and the report to compare with (NULL for none).
typedef struct {
    FILE *out;
    const char *lang;
    json_t *report;
    int differences;
    const cp_view_mask_t *mask;     //  NULL: every figure shown
} s_table_t;

//  Cuts a label to room characters (at a character boundary) into cut.
static const char *
s_fit (const char *label, size_t room, char *cut, size_t size)
{
    if (s_width (label) <= room)
        return label;
    size_t bytes = 0, chars = 0;
    while (label [bytes] && chars < room - 1) {
        bytes++;
        while (((unsigned char) label [bytes] & 0xC0) == 0x80)
            bytes++;
        chars++;
    }
    snprintf (cut, size, "%.*s…", (int) bytes, label);
    return cut;
}

//  Prints "label ..... value" ("c" when hidden), and with a report
//  "published  mark".  The published figure is report [key] (a number) or
//  report [key][code].
static void
s_table_line (s_table_t *table, int indent, const char *label, int64_t value, bool hidden,
              const char *key, const char *code)
{
    char cut [S_LABEL_WIDTH * 4 + 8];
    size_t room = S_LABEL_WIDTH - (size_t) indent;
    label = s_fit (label, room, cut, sizeof cut);
    fprintf (table->out, "%*s%s%*s ", indent, "", label, (int) (room - s_width (label)), "");
    if (hidden)
        fprintf (table->out, "%10s", "c");
    else
        fprintf (table->out, "%10lld", (long long) value);
    if (table->report && key) {
        json_t *entry = json_object_get (table->report, key);
        if (code)
            entry = json_object_get (entry, code);
        long long published = json_is_integer (entry)? json_integer_value (entry): 0;
        bool differs = published != value;
        table->differences += differs;
        fprintf (table->out, " %10lld  %s", published, differs? "✗ differs": "✓");
    }
    fputc ('\n', table->out);
}

static void
s_table_cell (s_table_t *table, int indent, const char *label, const cp_figures_t *figures,
              int cell, const char *key, const char *code)
{
    s_table_line (table, indent, label, cp_view_cell_value (figures, cell),
                  s_is_hidden (table->mask, cell), key, code);
}

static const char *
s_word (const char *lang, const char *sq, const char *en)
{
    return strcmp (lang, "en") == 0? en: sq;
}

static const char *
s_none_label (const char *none, const char *lang)
{
    if (strcmp (none, "unassessed") == 0)
        return s_word (lang, "pa vlerësim rreziku", "unassessed");
    return s_word (lang, "pa problem të përcaktuar", "unspecified");
}

static void
s_print_table (const cp_view_t *self, const cp_figures_t *figures,
               const cp_catalogue_t *catalogue, s_table_t *table)
{
    const char *lang = table->lang;
    FILE *out = table->out;
    fprintf (out, "%s %s · %s · %s %d · %s: %d\n",
             s_word (lang, "Periudha", "Period"), self->period.name, self->scope,
             s_word (lang, "katalogu", "catalogue"), figures->catalogue,
             s_word (lang, "bashki raportuese", "municipalities reporting"),
             self->municipalities_reporting);
    if (table->report)
        fprintf (out, "%*s %10s %10s\n", S_LABEL_WIDTH, "",
                 s_word (lang, "cpsync", "cpsync"), s_word (lang, "publikuar", "published"));
    fprintf (out, "%s\n", "────────────────────────────────────────────────────────────────────────");
    if (table->mask && table->mask->note)
        fprintf (out, "%s\n", table->mask->note);
    s_table_cell (table, 0, s_word (lang, "Raste të menaxhuara", "Cases managed"), figures,
                  CP_VIEW_MANAGED, "managed", NULL);
    s_table_cell (table, 0, s_word (lang, "Raste të reja", "New cases"), figures, CP_VIEW_NEW,
                  "new", NULL);
    s_table_cell (table, 0, s_word (lang, "Raste të mbyllura", "Cases closed"), figures,
                  CP_VIEW_CLOSED, "closed", NULL);
    s_table_cell (table, 0, s_word (lang, "Vizita në familje", "Home visits"), figures,
                  CP_VIEW_HOME_VISITS, "home_visits", NULL);
    for (int index = 0; index < CP_BREAKDOWN_COUNT; index++) {
        const s_breakdown_t *breakdown = &s_breakdowns [index];
        //  A report prints the problems once per catalogue version.
        char key [64];
        snprintf (key, sizeof key, index == CP_BREAKDOWN_MANAGED_PROBLEM
                  ? "%s_catalogue_%d": "%s", breakdown->key, figures->catalogue);
        fprintf (out, "\n%s\n", s_word (lang, breakdown->sq, breakdown->en));
        //  The total is hidden with any of its cells: it would tell their sum.
        int64_t total = 0;
        bool total_hidden = false;
        for (int id = 0; id < cp_catalogue_count (catalogue, breakdown->dim); id++) {
            if (cp_catalogue_since (catalogue, breakdown->dim, id) > figures->catalogue)
                continue;
            int cell = cp_view_cell (index, id);
            s_table_cell (table, 2, cp_catalogue_label (catalogue, breakdown->dim, id, lang),
                          figures, cell, key, cp_catalogue_code (catalogue, breakdown->dim, id));
            total += cp_view_cell_value (figures, cell);
            total_hidden |= s_is_hidden (table->mask, cell);
        }
        if (breakdown->none) {
            int cell = cp_view_cell (index, CP_SLOT_NONE);
            s_table_cell (table, 2, s_none_label (breakdown->none, lang), figures, cell, key,
                          breakdown->none);
            total += cp_view_cell_value (figures, cell);
            total_hidden |= s_is_hidden (table->mask, cell);
        }
        s_table_line (table, 2, s_word (lang, "Gjithsej", "Total"), total, total_hidden,
                      NULL, NULL);
    }
}

int
cp_view_print_table (const cp_view_t *self, const cp_figures_t *figures,
                     const cp_catalogue_t *catalogue, const char *lang, FILE *out)
{
    s_table_t table = {out, lang, NULL, 0, NULL};
    s_print_table (self, figures, catalogue, &table);
    return ferror (out)? CP_EIO: 0;
}

int
cp_view_print_comparison (const cp_view_t *self, const cp_figures_t *figures,
                          const cp_catalogue_t *catalogue, const char *lang,
                          const char *report, FILE *out)
{
    s_table_t table = {out, lang, json_loads (report, 0, NULL), 0, NULL};
    if (!json_is_object (table.report)) {
        json_decref (table.report);
        return -1;
    }
    s_print_table (self, figures, catalogue, &table);
    json_decref (table.report);
    return table.differences;
}

//  Writes a CSV field, quoted when it holds a comma, quote or newline.
static void
s_csv_field (FILE *out, const char *text)
{
    if (!strpbrk (text, ",\"\n")) {
        fputs (text, out);
        return;
    }
    fputc ('"', out);
    for (; *text; text++) {
        if (*text == '"')
            fputc ('"', out);
        fputc (*text, out);
    }
    fputc ('"', out);
}

static void
s_csv_row (FILE *out, const char *indicator, const char *code, const char *label,
           const cp_figures_t *figures, int cell, const cp_view_mask_t *mask)
{
    s_csv_field (out, indicator);
    fputc (',', out);
    s_csv_field (out, code);
    fputc (',', out);
    s_csv_field (out, label);
    if (s_is_hidden (mask, cell))
        fprintf (out, ",c\n");
    else
        fprintf (out, ",%lld\n", (long long) cp_view_cell_value (figures, cell));
}

static int
s_print_csv (const cp_figures_t *figures, const cp_catalogue_t *catalogue, const char *lang,
             const cp_view_mask_t *mask, FILE *out)
{
    if (mask && mask->note) {
        fputs ("# ", out);
        fputs (mask->note, out);
        fputc ('\n', out);
    }
    fprintf (out, "indicator,code,label,value\n");
    s_csv_row (out, "managed", "", s_word (lang, "Raste të menaxhuara", "Cases managed"),
               figures, CP_VIEW_MANAGED, mask);
    s_csv_row (out, "new", "", s_word (lang, "Raste të reja", "New cases"), figures,
               CP_VIEW_NEW, mask);
    s_csv_row (out, "closed", "", s_word (lang, "Raste të mbyllura", "Cases closed"),
               figures, CP_VIEW_CLOSED, mask);
    s_csv_row (out, "home_visits", "", s_word (lang, "Vizita në familje", "Home visits"),
               figures, CP_VIEW_HOME_VISITS, mask);
    for (int index = 0; index < CP_BREAKDOWN_COUNT; index++) {
        const s_breakdown_t *breakdown = &s_breakdowns [index];
        for (int id = 0; id < cp_catalogue_count (catalogue, breakdown->dim); id++)
            if (cp_catalogue_since (catalogue, breakdown->dim, id) <= figures->catalogue)
                s_csv_row (out, breakdown->key, cp_catalogue_code (catalogue, breakdown->dim, id),
                           cp_catalogue_label (catalogue, breakdown->dim, id, lang),
                           figures, cp_view_cell (index, id), mask);
        if (breakdown->none)
            s_csv_row (out, breakdown->key, breakdown->none,
                       s_none_label (breakdown->none, lang), figures,
                       cp_view_cell (index, CP_SLOT_NONE), mask);
    }
    return ferror (out)? CP_EIO: 0;
}

int
cp_view_print_csv (const cp_view_t *self, const cp_figures_t *figures,
                   const cp_catalogue_t *catalogue, const char *lang, FILE *out)
{
    (void) self;
    return s_print_csv (figures, catalogue, lang, NULL, out);
}

int
cp_view_print (const cp_view_t *self, const cp_figures_t *figures,
               const cp_catalogue_t *catalogue, const char *format, const char *lang,
               FILE *out)
{
    return cp_view_print_masked (self, figures, catalogue, format, lang, NULL, out);
}

int
cp_view_print_masked (const cp_view_t *self, const cp_figures_t *figures,
                      const cp_catalogue_t *catalogue, const char *format, const char *lang,
                      const cp_view_mask_t *mask, FILE *out)
{
    if (strcmp (format, "json") == 0)
        return s_print_json (self, figures, catalogue, mask, out);
    if (strcmp (format, "table") == 0) {
        s_table_t table = {out, lang, NULL, 0, mask};
        s_print_table (self, figures, catalogue, &table);
        return ferror (out)? CP_EIO: 0;
    }
    if (strcmp (format, "csv") == 0)
        return s_print_csv (figures, catalogue, lang, mask, out);
    return CP_EUSAGE;
}
