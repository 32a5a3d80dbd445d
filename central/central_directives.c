/*  central_directives: the directives of the downlink log and their states.
    See central_directives.h; docs/design.md, section 10.7, has the model. */

#include "central_directives.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_municipality.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const s_state_names [CENTRAL_DIRECTIVE_STATES] = {
    [CENTRAL_DIRECTIVE_SENT] = "sent",
    [CENTRAL_DIRECTIVE_DELIVERED] = "delivered",
    [CENTRAL_DIRECTIVE_ACKNOWLEDGED] = "acknowledged",
    [CENTRAL_DIRECTIVE_DONE] = "done",
    [CENTRAL_DIRECTIVE_OVERDUE] = "overdue"
};

const char *
central_directive_state_name (int state)
{
    return state >= 0 && state < CENTRAL_DIRECTIVE_STATES? s_state_names [state]: NULL;
}

central_directive_state_t
central_directive_state (uint64_t seq, int32_t due, uint64_t cursor,
                         const central_directive_report_t *report, int32_t today)
{
    if (report && report->done)
        return CENTRAL_DIRECTIVE_DONE;
    if (due && due < today)
        return CENTRAL_DIRECTIVE_OVERDUE;
    //  A receipt says the node has the entry even when the cursor the
    //  central last wrote down is older (a flush lost in a crash).
    if (report && report->received)
        return CENTRAL_DIRECTIVE_ACKNOWLEDGED;
    if (cursor >= seq)
        return CENTRAL_DIRECTIVE_DELIVERED;
    return CENTRAL_DIRECTIVE_SENT;
}

//  A day as JSON: YYYY-MM-DD, or null for 0 (none).
static json_t *
s_day (int32_t day)
{
    if (!day)
        return json_null ();
    char text [16];
    cp_date_format (day, text);
    return json_string (text);
}

//  Text as JSON; null for text jansson refuses (a note not in UTF-8: the
//  node checked it, but the central does not take that on trust).
static json_t *
s_text (const char *text)
{
    json_t *string = json_string (text);
    return string? string: json_null ();
}

//  The root's public key from the key table, into root.
static int
s_root (central_store_t *store, uint8_t *root)
{
    central_keys_t *keys = NULL;
    int rc = central_store_keys_read (store, &keys);
    if (rc)
        return rc;
    const central_key_t *key = central_keys_current (keys, CENTRAL_KEY_ROOT, time (NULL));
    if (key)
        memcpy (root, key->public_key, CP_KEY_SIZE);
    central_keys_destroy (&keys);
    return key? 0: CP_ENOTENROLLED;
}

//  The states of one entry at each municipality it addresses (due: its due
//  day, 0 for none) into item's counts and municipalities.  Returns 0 or
//  CP_ESTORE.
static int
s_states (central_store_t *store, const cp_downlink_t *entry, int32_t due,
          const central_cursor_t *cursors, int32_t today, json_t *item)
{
    int counts [CENTRAL_DIRECTIVE_STATES] = {0};
    json_t *municipalities = json_array ();
    int rc = 0;
    for (int index = 0; index < cp_municipality_count () && !rc; index++) {
        if (!cp_downlink_addressed_to (entry, index))
            continue;
        central_directive_report_t report;
        rc = central_store_directive_report (store, entry->seq, index, &report);
        if (rc == CP_ENOTFOUND)
            rc = 0;
        if (rc)
            break;
        int state = central_directive_state (entry->seq, due, cursors [index].downlink,
                                             &report, today);
        counts [state]++;
        json_t *where = json_object ();
        json_object_set_new (where, "code", json_string (cp_municipality_code (index)));
        json_object_set_new (where, "state", json_string (s_state_names [state]));
        json_object_set_new (where, "received", s_day (report.received));
        json_object_set_new (where, "done", s_day (report.done));
        json_object_set_new (where, "note", report.done? s_text (report.note): json_null ());
        json_array_append_new (municipalities, where);
    }
    json_t *by_state = json_object ();
    for (int state = 0; state < CENTRAL_DIRECTIVE_STATES; state++)
        json_object_set_new (by_state, s_state_names [state], json_integer (counts [state]));
    json_object_set_new (item, "counts", by_state);
    json_object_set_new (item, "municipalities", municipalities);
    return rc;
}

//  One directive entry as JSON: entry as decoded, or NULL when it failed
//  its check, with why.  Returns NULL with *error on a failed read.
static json_t *
s_item (central_store_t *store, uint64_t seq, const cp_downlink_t *entry, const char *why,
        const central_cursor_t *cursors, int32_t today, int *error)
{
    json_t *item = json_object ();
    json_object_set_new (item, "seq", json_integer ((json_int_t) seq));
    cp_directive_t directive = {0};
    char body_why [256] = "";
    if (entry && cp_directive_decode (entry->body, entry->body_size, &directive, body_why,
                                      sizeof body_why))
        why = body_why;
    const char *kind = cp_directive_kind_name (directive.kind);
    json_object_set_new (item, "kind", kind? json_string (kind): json_null ());
    json_object_set_new (item, "due", s_day (directive.due));
    json_object_set_new (item, "text", kind? s_text (directive.text): json_null ());
    if (!kind)
        json_object_set_new (item, "error", json_string (why));
    char issued [32], to [CP_SCOPE_MAX];
    if (entry) {
        cp_date_format_instant (entry->issued, issued, sizeof issued);
        cp_downlink_address_format (&entry->address, to);
    }
    json_object_set_new (item, "issued", entry? json_string (issued): json_null ());
    json_object_set_new (item, "to", entry? json_string (to): json_null ());
    //  An entry that failed its check addresses nobody we can name.
    cp_downlink_t nobody = {.seq = seq, .address = {CP_SCOPE_MUNICIPALITY, -1}};
    *error = s_states (store, entry? entry: &nobody, directive.due, cursors, today, item);
    if (*error) {
        json_decref (item);
        return NULL;
    }
    json_t *counts = json_object_get (item, "counts");
    json_object_set_new (item, "taken_up", directive.kind == CP_DIRECTIVE_REFERRAL
                         ? json_integer (json_integer_value (json_object_get (counts, "done")))
                         : json_null ());
    return item;
}

json_t *
central_directives_list (central_store_t *store, int32_t today, int *error)
{
    uint8_t root [CP_KEY_SIZE];
    *error = s_root (store, root);
    if (*error)
        return NULL;
    central_cursor_t *cursors = calloc ((size_t) cp_municipality_count (),
                                        sizeof (central_cursor_t));
    assert (cursors);
    *error = central_store_cursors (store, cursors);
    json_t *list = *error? NULL: json_array ();
    uint64_t seq = 0;
    while (list) {
        uint8_t *bytes;
        size_t size;
        *error = central_store_downlink_after (store, seq, &seq, &bytes, &size);
        if (*error || seq == 0)
            break;
        //  Entries of other kinds are not listed; one that fails its check
        //  is, with why: an operator should see it.
        cp_downlink_t entry;
        char why [256] = "";
        int rc = cp_downlink_decode (bytes, size, root, &entry, why, sizeof why);
        if (rc || entry.kind == CP_DOWNLINK_DIRECTIVE) {
            json_t *item = s_item (store, seq, rc? NULL: &entry, why, cursors, today, error);
            if (item)
                json_array_append_new (list, item);
        }
        free (bytes);
        if (*error)
            break;
    }
    if (*error) {
        json_decref (list);
        list = NULL;
    }
    free (cursors);
    return list;
}

//  =====================================================================
//  Scope and sending

void
central_directives_scoped (json_t *list, const cp_scope_t *scope)
{
    if (scope->kind == CP_SCOPE_NATIONAL)
        return;
    size_t index = 0;
    while (index < json_array_size (list)) {
        json_t *item = json_array_get (list, index);
        json_t *municipalities = json_object_get (item, "municipalities");
        json_t *kept = json_array ();
        int counts [CENTRAL_DIRECTIVE_STATES] = {0};
        size_t at;
        json_t *where;
        json_array_foreach (municipalities, at, where) {
            int municipality = cp_municipality_index (
                json_string_value (json_object_get (where, "code")));
            if (municipality < 0 || !cp_scope_contains (scope, municipality))
                continue;
            const char *state = json_string_value (json_object_get (where, "state"));
            for (int each = 0; each < CENTRAL_DIRECTIVE_STATES; each++)
                if (state && strcmp (state, s_state_names [each]) == 0)
                    counts [each]++;
            json_array_append (kept, where);
        }
        if (json_array_size (kept) == 0) {
            json_decref (kept);
            json_array_remove (list, index);
            continue;
        }
        json_t *by_state = json_object ();
        for (int state = 0; state < CENTRAL_DIRECTIVE_STATES; state++)
            json_object_set_new (by_state, s_state_names [state], json_integer (counts [state]));
        json_object_set_new (item, "counts", by_state);
        json_object_set_new (item, "municipalities", kept);
        if (json_is_integer (json_object_get (item, "taken_up")))
            json_object_set_new (item, "taken_up",
                                 json_integer (counts [CENTRAL_DIRECTIVE_DONE]));
        index++;
    }
}

int
central_directive_compose (const char *to, const char *kind, const char *due,
                           const char *text, const char *prefix, int32_t today,
                           cp_directive_t *directive, cp_scope_t *address,
                           char *why, size_t why_size)
{
    memset (directive, 0, sizeof *directive);
    directive->kind = cp_directive_kind_of (kind);
    if (!directive->kind)
        return cp_error_why (CP_EUSAGE, why, why_size,
                             "%skind must be referral, deadline or notice", prefix);
    if (due) {
        if (cp_date_parse (due, strlen (due), &directive->due))
            return cp_error_why (CP_EUSAGE, why, why_size, "%sdue must be a date, YYYY-MM-DD",
                                 prefix);
        if (directive->due < today)
            return cp_error_why (CP_EUSAGE, why, why_size, "%sdue is before today (the "
                                 "directive would be overdue as it is sent)", prefix);
    }
    if (cp_downlink_address_parse (to, address))
        return cp_error_why (CP_EMALFORMED, why, why_size, "%sto '%s' is no %s", prefix, to,
                             strncmp (to, "county:", 7) == 0? "county code"
                             : "municipality code, county:CODE or all");
    size_t len = strlen (text);
    if (len > CP_DIRECTIVE_TEXT_MAX)
        return cp_error_why (CP_EMALFORMED, why, why_size,
                             "%stext is %zu bytes, over the %d a directive may hold", prefix,
                             len, CP_DIRECTIVE_TEXT_MAX);
    memcpy (directive->text, text, len + 1);
    if (cp_directive_check (directive, why, why_size))
        return CP_EMALFORMED;
    return 0;
}

json_t *
central_directive_sent (uint64_t seq, const cp_directive_t *directive,
                        const cp_scope_t *address)
{
    char to [CP_SCOPE_MAX], due [16] = "";
    cp_downlink_address_format (address, to);
    if (directive->due)
        cp_date_format (directive->due, due);
    return json_pack ("{s:I, s:s, s:s, s:o}", "id", (json_int_t) seq,
                      "kind", cp_directive_kind_name (directive->kind), "to", to,
                      "due", *due? json_string (due): json_null ());
}
