/*  central_http: the central's HTTP face (see the header for what and why).

    A request goes through: its body gathered (at most
    CENTRAL_HTTP_BODY_MAX bytes, else 413); its path and method found in
    the route table (404, 405); its query string checked against the
    route's parameters (400 for one unknown, repeated or empty); its token
    found and its account still in accounts.json (401); then the route's
    handler, which checks the role and the scope (403, logged) before it
    opens the store.  The dashboard's files are routes without a token,
    answered from the program's own bytes (s_assets).  Tokens and
    failed-login counters live in fixed tables, so no request can make the
    process grow without bound.                                            */

#include "central_http.h"
#include "central_accounts.h"
#include "central_admin.h"
#include "central_dashboard.h"
#include "central_directives.h"
#include "central_metrics.h"
#include "central_openapi.h"
#include "central_publications.h"
#include "central_report.h"
#include "central_store.h"
#include "cp_date.h"
#include "cp_directive.h"
#include "cp_downlink.h"
#include "cp_error.h"
#include "cp_file.h"
#include "cp_metrics.h"
#include "cp_event.h"
#include "cp_suppress.h"

#include <arpa/inet.h>
#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_TOKENS 4096               //  live tokens, at most (the oldest goes first)
#define S_TOKEN_HEX (2 * 32)        //  a token: 32 random bytes in hex
#define S_NAMES 1024                //  names whose failed logins are counted
#define S_FAILURE_WINDOW 60000      //  msecs over which failed logins are counted
#define S_FAILURE_DELAY 250         //  msecs a failed login takes, at least
#define S_TLS_FILE_MAX (64 << 10)   //  bytes of a PEM file

typedef struct {
    char token [S_TOKEN_HEX + 1];   //  empty: a free slot
    char name [CENTRAL_ACCOUNT_NAME];
    char created [32];              //  the account's: a name removed and added again differs
    int64_t expires;                //  msecs since the epoch
} s_token_t;

typedef struct {
    char name [CENTRAL_ACCOUNT_NAME];
    int64_t since;                  //  zclock_mono of the window's first failure
    int failures;
} s_failures_t;

struct _central_http_t {
    char *data;                         //  the central's data directory
    int64_t ttl;                        //  msecs a token lives
    bool verbose;
    struct MHD_Daemon *daemon;
    char *tls_cert, *tls_key;           //  PEM texts, kept while the daemon runs
    struct sockaddr_storage address;    //  where it listens
    unsigned int flags;                 //  the daemon's, for a restart with new TLS files
    central_accounts_t *accounts;       //  as last read
    central_publications_t *publications;   //  views for publication worked out
    struct stat accounts_seen;          //  accounts.json when it was read
    char dummy [crypto_pwhash_STRBYTES];  //  verified against for unknown names
    s_token_t tokens [S_TOKENS];
    s_failures_t failures [S_NAMES];
};

//  A request: its body as it arrives.
typedef struct {
    char body [CENTRAL_HTTP_BODY_MAX + 1];
    size_t size;
    bool too_big;
    bool answered;              //  refused before its body was read
} s_request_t;

//  What a handler gets: the request, its account (NULL before login).
typedef struct {
    central_http_t *self;
    struct MHD_Connection *connection;
    const char *path;
    const s_request_t *request;
    const central_account_t *account;
    const s_token_t *token;
} s_call_t;

typedef enum MHD_Result (s_handler_fn) (s_call_t *call);

//  =====================================================================
//  Answers

//  Queues body (JSON text, malloc'd; taken) with status.
static enum MHD_Result
s_send (struct MHD_Connection *connection, unsigned int status, char *body, size_t size)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return result;
}

//  Queues document (taken) as JSON with flags and a newline, as the
//  command line prints it.
static enum MHD_Result
s_send_json_as (struct MHD_Connection *connection, unsigned int status, json_t *document,
                size_t flags)
{
    //  No document: a text jansson refused (not UTF-8).  Never an abort:
    //  a request must not stop the daemon.
    if (!document) {
        static const char failed [] = "{\"error\": \"the answer could not be encoded\", "
                                      "\"status\": 500}\n";
        char *copy = strdup (failed);
        if (!copy)
            return MHD_NO;
        return s_send (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, copy, sizeof failed - 1);
    }
    //  json_dumpb into our own malloc: jansson's allocator is not malloc's (cp_process).
    size_t size = json_dumpb (document, NULL, 0, flags);
    char *text = malloc (size + 1);
    assert (size && text);
    json_dumpb (document, text, size, flags);
    json_decref (document);
    text [size] = '\n';
    return s_send (connection, status, text, size + 1);
}

//  Queues document (taken) as indented JSON and a newline.
static enum MHD_Result
s_send_json (struct MHD_Connection *connection, unsigned int status, json_t *document)
{
    return s_send_json_as (connection, status, document, CENTRAL_REPORT_JSON);
}

//  An error: {"error": message, "status": status}.
static enum MHD_Result
s_error (struct MHD_Connection *connection, unsigned int status, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *message = zsys_vprintf (format, args);
    va_end (args);
    assert (message);
    //  A message may quote what the client sent (a parameter's name): when
    //  that is not UTF-8, JSON cannot hold it, so it is shown as ASCII.
    json_t *valid = json_string (message);
    if (!valid)
        for (char *at = message; *at; at++)
            if (*at < 0x20 || *at > 0x7e)
                *at = '?';
    json_decref (valid);
    json_t *document = json_pack ("{s:s, s:i}", "error", message, "status", (int) status);
    zstr_free (&message);
    return s_send_json (connection, status, document);
}

//  403, and a log line of who asked what (never figures).
static enum MHD_Result
s_forbidden (s_call_t *call, const char *scope, const char *why)
{
    zsys_warning ("central_http: %s (%s) asked %s for %s: refused, %s", call->account->name,
                  central_role_name (call->account->role), call->path, scope, why);
    return s_error (call->connection, MHD_HTTP_FORBIDDEN, "%s", why);
}

//  =====================================================================
//  Accounts and tokens

//  Reads accounts.json again when it changed (or appeared, or went), so
//  that an account removed loses its tokens at once.  A file refused
//  (others may read it, damaged) leaves no account, and says why.
static void
s_accounts_fresh (central_http_t *self)
{
    char *path = zsys_sprintf ("%s/%s", self->data, CENTRAL_ACCOUNTS_FILE);
    struct stat seen;
    if (stat (path, &seen))
        memset (&seen, 0, sizeof seen);
    zstr_free (&path);
    if (self->accounts && seen.st_ino == self->accounts_seen.st_ino
    &&  seen.st_size == self->accounts_seen.st_size
    &&  seen.st_mode == self->accounts_seen.st_mode
    &&  seen.st_mtim.tv_sec == self->accounts_seen.st_mtim.tv_sec
    &&  seen.st_mtim.tv_nsec == self->accounts_seen.st_mtim.tv_nsec)
        return;
    central_accounts_destroy (&self->accounts);
    int error;
    char why [256] = "";
    self->accounts = central_accounts_load (self->data, &error, why, sizeof why);
    if (!self->accounts) {
        zsys_error ("central_http: no account can log in: %s", why);
        self->accounts = central_accounts_new (self->data);
    }
    self->accounts_seen = seen;
}

//  The live token of the request's Authorization header, and its account;
//  NULL when it has none, or an unknown or expired one, or its account
//  is gone.
static s_token_t *
s_token_of (central_http_t *self, struct MHD_Connection *connection,
            const central_account_t **account)
{
    const char *header = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_AUTHORIZATION);
    if (!header || strncmp (header, "Bearer ", 7) || strlen (header + 7) != S_TOKEN_HEX)
        return NULL;
    int64_t now = zclock_time ();
    for (size_t index = 0; index < S_TOKENS; index++) {
        s_token_t *token = &self->tokens [index];
        if (!*token->token || sodium_memcmp (token->token, header + 7, S_TOKEN_HEX))
            continue;
        s_accounts_fresh (self);
        *account = central_accounts_find (self->accounts, token->name);
        if (token->expires <= now || !*account || strcmp ((*account)->created, token->created)) {
            sodium_memzero (token, sizeof *token);
            return NULL;
        }
        return token;
    }
    return NULL;
}

//  A new token for account, in a free slot, or the slot of the token that
//  expires first.
static s_token_t *
s_token_new (central_http_t *self, const central_account_t *account)
{
    s_token_t *slot = &self->tokens [0];
    for (size_t index = 0; index < S_TOKENS && *slot->token; index++)
        if (!*self->tokens [index].token || self->tokens [index].expires < slot->expires)
            slot = &self->tokens [index];
    uint8_t random [S_TOKEN_HEX / 2];
    randombytes_buf (random, sizeof random);
    sodium_bin2hex (slot->token, sizeof slot->token, random, sizeof random);
    sodium_memzero (random, sizeof random);
    strcpy (slot->name, account->name);
    strcpy (slot->created, account->created);
    slot->expires = zclock_time () + self->ttl;
    return slot;
}

//  The failed-login counter of name: its own slot, else a free or
//  stale one, else the oldest.
static s_failures_t *
s_failures_of (central_http_t *self, const char *name)
{
    int64_t now = zclock_mono ();
    s_failures_t *slot = &self->failures [0];
    for (size_t index = 0; index < S_NAMES; index++) {
        s_failures_t *each = &self->failures [index];
        if (streq (each->name, name)) {
            slot = each;
            break;
        }
        if (each->since < slot->since)
            slot = each;
    }
    if (!streq (slot->name, name) || now - slot->since > S_FAILURE_WINDOW) {
        memset (slot, 0, sizeof *slot);
        snprintf (slot->name, sizeof slot->name, "%s", name);
        slot->since = now;
    }
    return slot;
}

//  =====================================================================
//  Handlers

static enum MHD_Result
s_openapi (s_call_t *call)
{
    char *text = strdup (central_openapi_json);
    assert (text);
    return s_send (call->connection, MHD_HTTP_OK, text, strlen (text));
}

static enum MHD_Result
s_login (s_call_t *call)
{
    central_http_t *self = call->self;
    int64_t started = zclock_mono ();
    json_t *body = json_loadb (call->request->body, call->request->size,
                               JSON_REJECT_DUPLICATES, NULL);
    const char *name = json_string_value (json_object_get (body, "name"));
    const char *password = json_string_value (json_object_get (body, "password"));
    if (!json_is_object (body) || !name || !password || json_object_size (body) != 2
    ||  strlen (name) >= CENTRAL_ACCOUNT_NAME) {
        json_decref (body);
        return s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                        "the body must be a JSON object {\"name\", \"password\"}");
    }
    //  The name as the log may show it: no control characters from a stranger.
    char who [CENTRAL_ACCOUNT_NAME];
    size_t length = strlen (name);
    for (size_t index = 0; index <= length; index++)
        who [index] = index == length? 0
                    : cp_event_id_valid (name + index, 1)? name [index]: '?';
    s_failures_t *failures = s_failures_of (self, name);
    if (failures->failures >= CENTRAL_HTTP_FAILURES) {
        zsys_warning ("central_http: login of %s refused: %d failures in a minute", who,
                      failures->failures);
        json_decref (body);
        return s_error (call->connection, MHD_HTTP_TOO_MANY_REQUESTS,
                        "too many failed logins of this name: wait a minute");
    }
    s_accounts_fresh (self);
    const central_account_t *account = central_accounts_find (self->accounts, name);
    //  An unknown name costs a hash as a known one does.
    bool verified = false;
    if (account)
        verified = central_account_verify (account, password);
    else
    if (crypto_pwhash_str_verify (self->dummy, password, strlen (password)) == 0)
        verified = false;       //  a random password's hash: nobody's
    json_decref (body);     //  jansson wipes what it frees (cp_process)
    if (!verified) {
        failures->failures++;
        zsys_warning ("central_http: login of %s failed (%d in a minute)", who,
                      failures->failures);
        int64_t spent = zclock_mono () - started;
        if (spent < S_FAILURE_DELAY)
            zclock_sleep ((int) (S_FAILURE_DELAY - spent));
        return s_error (call->connection, MHD_HTTP_UNAUTHORIZED, "wrong name or password");
    }
    s_token_t *token = s_token_new (self, account);
    char expires [32], scope [CP_SCOPE_MAX];
    cp_date_format_instant (token->expires, expires, sizeof expires);
    cp_scope_format (&account->scope, scope);
    zsys_info ("central_http: %s (%s) logged in", account->name,
               central_role_name (account->role));
    return s_send_json (call->connection, MHD_HTTP_OK,
                        json_pack ("{s:s, s:s, s:s, s:s}", "token", token->token,
                                   "expires", expires, "role", central_role_name (account->role),
                                   "scope", scope));
}

static enum MHD_Result
s_logout (s_call_t *call)
{
    sodium_memzero ((s_token_t *) call->token, sizeof *call->token);
    return s_send_json (call->connection, MHD_HTTP_OK, json_pack ("{s:b}", "logged_out", 1));
}

static enum MHD_Result
s_me (s_call_t *call)
{
    char expires [32], scope [CP_SCOPE_MAX];
    cp_date_format_instant (call->token->expires, expires, sizeof expires);
    cp_scope_format (&call->account->scope, scope);
    return s_send_json (call->connection, MHD_HTTP_OK,
                        json_pack ("{s:s, s:s, s:s, s:s}", "name", call->account->name,
                                   "role", central_role_name (call->account->role),
                                   "scope", scope, "expires", expires));
}

static const char *
s_argument (s_call_t *call, const char *key)
{
    return MHD_lookup_connection_value (call->connection, MHD_GET_ARGUMENT_KIND, key);
}

//  The store, read-only, or NULL with a 503 queued.
static central_store_t *
s_store (s_call_t *call, enum MHD_Result *result)
{
    int error = 0;
    central_store_t *store = central_store_open (call->self->data, CENTRAL_STORE_READONLY, &error);
    if (!store) {
        zsys_error ("central_http: the store of %s cannot be opened: %s", call->self->data,
                    cp_strerror (error));
        *result = s_error (call->connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "the central's store cannot be read now");
    }
    return store;
}

//  The period, scope and catalogue arguments of views and check, checked;
//  false with a 400 queued.  The scope is the account's own when none is
//  given; "all" only where all_allowed.
static bool
s_view_arguments (s_call_t *call, cp_period_t *period, cp_scope_t *scope, bool *all,
                  int *catalogue, enum MHD_Result *result)
{
    const char *text = s_argument (call, "period");
    if (!text || cp_period_parse (text, period)) {
        *result = s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                           "period must be YYYY or YYYY-Qn (from 2000)");
        return false;
    }
    *scope = call->account->scope;
    text = s_argument (call, "scope");
    bool every = all && text && streq (text, "all");
    if (all)
        *all = every;
    if (text && !every && cp_scope_parse (text, scope)) {
        *result = s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                           "scope must be national, county:CODE or municipality:CODE "
                           "of a known county or municipality%s", all? ", or all": "");
        return false;
    }
    *catalogue = 0;
    text = s_argument (call, "catalogue");
    if (text) {
        char *end;
        long version = strtol (text, &end, 10);
        if (*end || end == text || version < 1 || version > 1000) {
            *result = s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                               "catalogue must be a catalogue version (1, 2, ...)");
            return false;
        }
        *catalogue = (int) version;
    }
    return true;
}

//  The catalogue version to answer under, or 0 with a 400 queued.
static int
s_version (s_call_t *call, central_store_t *store, int asked, enum MHD_Result *result)
{
    int held = cp_catalogue_version (central_store_catalogue (store));
    if (asked > held) {
        *result = s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                           "catalogue %d: the central holds catalogue %d only", asked, held);
        return 0;
    }
    return asked? asked: held;
}

static enum MHD_Result
s_views (s_call_t *call)
{
    enum MHD_Result result;
    cp_period_t period;
    cp_scope_t scope;
    int catalogue;
    if (!s_view_arguments (call, &period, &scope, NULL, &catalogue, &result))
        return result;
    const char *public = s_argument (call, "public");
    if (public && !streq (public, "1") && !streq (public, "0"))
        return s_error (call->connection, MHD_HTTP_BAD_REQUEST, "public must be 1 or 0");
    //  The public role sees the figures for publication only, whatever it asks.
    bool suppressed = (public && streq (public, "1"))
                   || call->account->role == CENTRAL_ROLE_PUBLIC;
    char name [CP_SCOPE_MAX];
    cp_scope_format (&scope, name);
    if (!central_account_may_see (call->account, &scope))
        return s_forbidden (call, name, "this scope is outside the account's");
    //  A year's flow figures are the sums of its quarters', and disclosure
    //  control does not yet solve between periods: the public given both
    //  could work out a hidden cell from the others.  So it gets years.
    if (call->account->role == CENTRAL_ROLE_PUBLIC && strchr (period.name, '-'))
        return s_forbidden (call, name, "the public role sees whole years only "
                            "(a year beside its quarters would give hidden cells away)");
    //  A year in progress is worked out anew with every event, and each
    //  day's publication may hide other cells than the day before's: a
    //  cell shown one day, and hidden the next to protect another, gives
    //  that one away while it stands.  So the public gets years that are
    //  over, whose publication is settled (docs/design.md, section 11).
    if (call->account->role == CENTRAL_ROLE_PUBLIC && period.end >= cp_date_today ())
        return s_forbidden (call, name, "the public role sees years that are over only "
                            "(a year in progress is published anew every day, and two "
                            "days' publications side by side could give hidden cells away)");
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int version = s_version (call, store, catalogue, &result);
    //  Under an older catalogue a newer code counts in its dimension's
    //  other, and each version's publication is worked out on its own:
    //  the two others side by side would tell the newer codes' hidden
    //  cells.  So the public gets the newest catalogue's figures.
    if (version && call->account->role == CENTRAL_ROLE_PUBLIC
    &&  version != cp_catalogue_version (central_store_catalogue (store))) {
        central_store_destroy (&store);
        return s_forbidden (call, name, "the public role sees the newest catalogue's figures only "
                            "(an older one's \"other\" would give the newer codes' hidden cells away)");
    }
    char *text = NULL;
    size_t size = 0;
    int rc = 0;
    if (version) {
        FILE *memory = open_memstream (&text, &size);
        assert (memory);
        rc = central_report_view (store, &period, name, version,
                                  suppressed? CP_SUPPRESS_THRESHOLD: 0, call->self->publications,
                                  "json", "sq", memory);
        fclose (memory);
    }
    central_store_destroy (&store);
    if (!version || rc) {
        free (text);
        if (rc)
            zsys_error ("central_http: view %s: %s", name, cp_strerror (rc));
        return rc? s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "the view could not be computed"): result;
    }
    return s_send (call->connection, MHD_HTTP_OK, text, size);
}

static enum MHD_Result
s_nodes (s_call_t *call)
{
    const central_account_t *account = call->account;
    char name [CP_SCOPE_MAX];
    cp_scope_format (&account->scope, name);
    if (account->role == CENTRAL_ROLE_PUBLIC)
        return s_forbidden (call, name, "the public role sees views only");
    enum MHD_Result result;
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int rc;
    central_cursor_t *cursors = central_report_cursors (store, &rc);
    central_reconciliation_t *reconciliations = cursors
        ? central_report_reconciliations (store, &rc): NULL;
    central_store_destroy (&store);
    if (!cursors || !reconciliations) {
        free (cursors);
        return s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the nodes could not be read");
    }
    bool all = account->role == CENTRAL_ROLE_OPERATOR;
    json_t *list = central_report_nodes (cursors, all? NULL: &account->scope, zclock_time ());
    central_report_nodes_reconciled (list, reconciliations);
    free (cursors);
    free (reconciliations);
    return s_send_json (call->connection, MHD_HTTP_OK, list);
}

static enum MHD_Result
s_check (s_call_t *call)
{
    const central_account_t *account = call->account;
    enum MHD_Result result = MHD_NO;     //  set by whichever step refuses
    cp_period_t period;
    cp_scope_t scope;
    int catalogue;
    bool all = true;
    if (!s_view_arguments (call, &period, &scope, &all, &catalogue, &result))
        return result;
    char name [CP_SCOPE_MAX];
    if (all)
        strcpy (name, "all");
    else
        cp_scope_format (&scope, name);
    if (account->role != CENTRAL_ROLE_OPERATOR && account->role != CENTRAL_ROLE_COUNTY)
        return s_forbidden (call, name, "checks are for the operator and county roles");
    if (all? account->role != CENTRAL_ROLE_OPERATOR: !central_account_may_see (account, &scope))
        return s_forbidden (call, name, "this scope is outside the account's");
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int version = s_version (call, store, catalogue, &result);
    int found = 0, rc = 0;
    json_t *checked = version? central_report_check (store, &period, all? NULL: &scope, version,
                                                     &found, &rc): NULL;
    central_store_destroy (&store);
    if (!version)
        return result;
    if (!checked)
        return s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the check could not be made");
    return s_send_json (call->connection, MHD_HTTP_OK,
                        central_report_check_json (s_argument (call, "period"), version, found,
                                                   checked));
}

//  The period and scope of quality and workforce, checked as views' are,
//  the period's year at most CP_DATE_MAX_YEAR; then the role (the public
//  sees neither) and the scope.  false with the answer queued.
static bool
s_report_arguments (s_call_t *call, cp_period_t *period, cp_scope_t *scope,
                    enum MHD_Result *result)
{
    int catalogue;
    if (!s_view_arguments (call, period, scope, NULL, &catalogue, result))
        return false;
    if (strtol (period->name, NULL, 10) > CP_DATE_MAX_YEAR) {
        *result = s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                           "period must be of a year from 2000 to %d", CP_DATE_MAX_YEAR);
        return false;
    }
    char name [CP_SCOPE_MAX];
    cp_scope_format (scope, name);
    if (call->account->role == CENTRAL_ROLE_PUBLIC) {
        *result = s_forbidden (call, name, "the public role sees views only");
        return false;
    }
    if (!central_account_may_see (call->account, scope)) {
        *result = s_forbidden (call, name, "this scope is outside the account's");
        return false;
    }
    return true;
}

static enum MHD_Result
s_quality (s_call_t *call)
{
    enum MHD_Result result;
    cp_period_t period;
    cp_scope_t scope;
    if (!s_report_arguments (call, &period, &scope, &result))
        return result;
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int rc = 0;
    json_t *quality = central_report_quality_read (store, &period, &scope, cp_date_now_ms (),
                                                   cp_date_today (), &rc);
    central_store_destroy (&store);
    if (!quality) {
        zsys_error ("central_http: quality: %s", cp_strerror (rc));
        return s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the quality could not be read");
    }
    return s_send_json_as (call->connection, MHD_HTTP_OK, quality, CENTRAL_REPORT_JSON);
}

static enum MHD_Result
s_workforce (s_call_t *call)
{
    enum MHD_Result result;
    cp_period_t period;
    cp_scope_t scope;
    if (!s_report_arguments (call, &period, &scope, &result))
        return result;
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int rc = 0;
    json_t *workforce = central_report_workforce_read (store, &period, &scope, &rc);
    central_store_destroy (&store);
    if (!workforce) {
        zsys_error ("central_http: workforce: %s", cp_strerror (rc));
        return s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the workforce could not be read");
    }
    return s_send_json_as (call->connection, MHD_HTTP_OK, workforce,
                           CENTRAL_REPORT_WORKFORCE_JSON);
}

//  The directives that reach the scope (the account's, or one within it),
//  as directive list --scope prints them.
static enum MHD_Result
s_directives (s_call_t *call)
{
    const central_account_t *account = call->account;
    cp_scope_t scope = account->scope;
    const char *text = s_argument (call, "scope");
    if (text && cp_scope_parse (text, &scope))
        return s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                        "scope must be national, county:CODE or municipality:CODE "
                        "of a known county or municipality");
    char name [CP_SCOPE_MAX];
    cp_scope_format (&scope, name);
    if (account->role == CENTRAL_ROLE_PUBLIC)
        return s_forbidden (call, name, "the public role sees views only");
    if (!central_account_may_see (account, &scope))
        return s_forbidden (call, name, "this scope is outside the account's");
    enum MHD_Result result;
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int rc = 0;
    json_t *list = central_directives_list (store, cp_date_today (), &rc);
    central_store_destroy (&store);
    if (!list) {
        zsys_error ("central_http: directives: %s", cp_strerror (rc));
        return s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the directives could not be read");
    }
    central_directives_scoped (list, &scope);
    return s_send_json (call->connection, MHD_HTTP_OK, list);
}

//  A string member of body, or NULL; *wrong when it is there but no string.
static const char *
s_member (json_t *body, const char *key, bool *wrong)
{
    json_t *value = json_object_get (body, key);
    if (value && !json_is_string (value) && !(json_is_null (value) && streq (key, "due")))
        *wrong = true;
    return json_string_value (value);
}

//  Sends a directive as directive send does: checked the same way, signed
//  with the root secret in DIR/keys/root.secret, appended to the downlink
//  log.  Only an operator may, and only where that secret is.
static enum MHD_Result
s_directive_send (s_call_t *call)
{
    central_http_t *self = call->self;
    const central_account_t *account = call->account;
    if (account->role != CENTRAL_ROLE_OPERATOR)
        return s_forbidden (call, "national", "only the operator role sends directives");
    json_t *body = json_loadb (call->request->body, call->request->size,
                               JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object (body)) {
        json_decref (body);
        return s_error (call->connection, MHD_HTTP_BAD_REQUEST, "the body must be a JSON "
                        "object {\"to\", \"kind\", \"text\", \"due\" (optional)}");
    }
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value)
        if (!streq (key, "to") && !streq (key, "kind") && !streq (key, "text")
        &&  !streq (key, "due")) {
            enum MHD_Result result = s_error (call->connection, MHD_HTTP_BAD_REQUEST,
                                              "a directive has no member '%.64s'", key);
            json_decref (body);
            return result;
        }
    bool wrong = false;
    const char *to = s_member (body, "to", &wrong);
    const char *kind = s_member (body, "kind", &wrong);
    const char *text = s_member (body, "text", &wrong);
    const char *due = s_member (body, "due", &wrong);
    if (wrong || !to || !kind || !text) {
        json_decref (body);
        return s_error (call->connection, MHD_HTTP_BAD_REQUEST, "to, kind and text are "
                        "needed, each a string; due is a string or null");
    }
    cp_directive_t directive;
    cp_scope_t address;
    char why [512] = "";
    int rc = central_directive_compose (to, kind, due, text, "", cp_date_today (), &directive,
                                        &address, why, sizeof why);
    json_decref (body);
    if (rc)
        return s_error (call->connection, MHD_HTTP_BAD_REQUEST, "%s; nothing was sent", why);
    //  serve signs only with a root secret left in the data directory; a
    //  central whose root is kept offline sends from the command line.
    char *root = zsys_sprintf ("%s/keys/root.secret", self->data);
    bool reachable = access (root, R_OK) == 0;
    zstr_free (&root);
    if (!reachable)
        return s_error (call->connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                        "the root secret is not in the data directory (keys/root.secret), so "
                        "serve cannot sign: send it with cpsync-central directive send "
                        "--root-secret PATH; nothing was sent");
    size_t size = 0;
    uint8_t *encoded = cp_directive_encode (&directive, &size);
    assert (encoded);           //  it passed its check
    char target [CP_SCOPE_MAX];
    cp_downlink_address_format (&address, target);
    uint64_t seq = 0;
    rc = central_admin_publish (self->data, NULL, CP_DOWNLINK_DIRECTIVE, target, encoded, size,
                                &seq, why, sizeof why);
    free (encoded);
    if (rc) {
        zsys_error ("central_http: directive of %s not sent: %s", account->name,
                    *why? why: cp_strerror (rc));
        return s_error (call->connection, rc == CP_ESTORE? MHD_HTTP_INTERNAL_SERVER_ERROR
                                                         : MHD_HTTP_SERVICE_UNAVAILABLE,
                        "the directive could not be signed and sent (%s); nothing was sent",
                        cp_strerror (rc));
    }
    zsys_info ("central_http: %s (operator) sent directive %" PRIu64 " (%s) to %s",
               account->name, seq, cp_directive_kind_name (directive.kind), target);
    return s_send_json (call->connection, MHD_HTTP_CREATED,
                        central_directive_sent (seq, &directive, &address));
}

//  =====================================================================
//  The dashboard: its page and assets, built into the program, so that
//  the browser loads nothing from anywhere but the central.

typedef struct {
    const char *path;
    const char *type;
    const unsigned char *text;  //  NUL-terminated
} s_asset_t;

static const s_asset_t s_assets [] = {
    {"/",                               "text/html; charset=utf-8",  central_dashboard_html},
    {"/dashboard/dashboard.css",        "text/css; charset=utf-8",   central_dashboard_css},
    {"/dashboard/dashboard.js",         "text/javascript; charset=utf-8", central_dashboard_js},
    {"/dashboard/catalogue-v1.json",    "application/json",          central_dashboard_catalogue_v1},
    {"/dashboard/catalogue-v2.json",    "application/json",          central_dashboard_catalogue_v2},
    {"/dashboard/municipalities.csv",   "text/csv; charset=utf-8",   central_dashboard_municipalities},
};

static enum MHD_Result
s_asset (s_call_t *call)
{
    const s_asset_t *asset = NULL;
    for (size_t index = 0; index < sizeof s_assets / sizeof s_assets [0]; index++)
        if (streq (s_assets [index].path, call->path))
            asset = &s_assets [index];
    assert (asset);             //  the route table names only these
    struct MHD_Response *response = MHD_create_response_from_buffer (
        strlen ((const char *) asset->text), (void *) asset->text, MHD_RESPMEM_PERSISTENT);
    if (!response)
        return MHD_NO;
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, asset->type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    //  Nothing from elsewhere, no inline script, no framing.
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    enum MHD_Result result = MHD_queue_response (call->connection, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    return result;
}

//  =====================================================================
//  Metrics

//  True when the request comes from this machine (127.0.0.0/8 or ::1).
static bool
s_from_loopback (struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return false;
    const struct sockaddr *peer = info->client_addr;
    if (peer->sa_family == AF_INET)
        return (ntohl (((const struct sockaddr_in *) peer)->sin_addr.s_addr) >> 24) == 127;
    if (peer->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *) peer)->sin6_addr);
    return false;
}

//  GET /metrics: the central's figures for Prometheus (central_metrics).
//  A scraper on this machine needs no token, as anything on loopback may
//  already read the figures through query; from elsewhere (serve beyond
//  loopback, over HTTPS) it takes an operator's token, since the figures
//  are every municipality's.
static enum MHD_Result
s_metrics (s_call_t *call)
{
    if (!s_from_loopback (call->connection)) {
        call->token = s_token_of (call->self, call->connection, &call->account);
        if (!call->token)
            return s_error (call->connection, MHD_HTTP_UNAUTHORIZED,
                            "/metrics from beyond loopback needs an operator's token");
        if (call->account->role != CENTRAL_ROLE_OPERATOR)
            return s_forbidden (call, "national", "metrics are for the operator role");
    }
    enum MHD_Result result;
    central_store_t *store = s_store (call, &result);
    if (!store)
        return result;
    int rc = 0;
    size_t size = 0;
    char *text = central_metrics_text (store, zclock_time (), &size, &rc);
    central_store_destroy (&store);
    if (!text) {
        zsys_error ("central_http: metrics: %s", cp_strerror (rc));
        return s_error (call->connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the metrics could not be read");
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, CP_METRICS_CONTENT_TYPE);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    result = MHD_queue_response (call->connection, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    return result;
}

//  =====================================================================
//  Routing

typedef struct {
    const char *path;
    const char *method;
    bool login;                 //  needs a token
    const char *arguments;      //  the query string's keys, each between spaces
    s_handler_fn *handler;
} s_route_t;

static const s_route_t s_routes [] = {
    {"/openapi.json",   "GET",  false, " ",                                s_openapi},
    {"/api/v1/login",   "POST", false, " ",                                s_login},
    {"/api/v1/logout",  "POST", true,  " ",                                s_logout},
    {"/api/v1/me",      "GET",  true,  " ",                                s_me},
    {"/api/v1/views",   "GET",  true,  " period scope catalogue public ", s_views},
    {"/api/v1/nodes",   "GET",  true,  " ",                                s_nodes},
    {"/api/v1/check",   "GET",  true,  " period scope catalogue ",        s_check},
    {"/api/v1/quality", "GET",  true,  " period scope ",                   s_quality},
    {"/api/v1/workforce", "GET", true, " period scope ",                   s_workforce},
    {"/api/v1/directives", "GET", true, " scope ",                         s_directives},
    {"/api/v1/directives", "POST", true, " ",                              s_directive_send},
    //  The dashboard: its page, and its assets under /dashboard/ (s_assets)
    {"/",               "GET",  false, " ",                                s_asset},
    {"/dashboard/dashboard.css", "GET", false, " ",                        s_asset},
    {"/dashboard/dashboard.js", "GET", false, " ",                         s_asset},
    {"/dashboard/catalogue-v1.json", "GET", false, " ",                    s_asset},
    {"/dashboard/catalogue-v2.json", "GET", false, " ",                    s_asset},
    {"/dashboard/municipalities.csv", "GET", false, " ",                   s_asset},
    //  Its own check of who asks: loopback, or an operator's token.
    {"/metrics",        "GET",  false, " ",                                s_metrics},
};

//  The query string's check: every key one the route takes, once, with a
//  value.
typedef struct {
    const s_route_t *route;
    char *wrong;                //  what is wrong (the first thing), or NULL
    char seen [256];            //  keys seen, each between spaces
} s_arguments_t;

static enum MHD_Result
s_argument_check (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    s_arguments_t *arguments = cls;
    char word [64];
    if (strlen (key) + 3 > sizeof word) {
        arguments->wrong = strdup ("a parameter of an unknown name");
        return MHD_NO;
    }
    snprintf (word, sizeof word, " %s ", key);
    if (!*key || !strstr (arguments->route->arguments, word))
        arguments->wrong = zsys_sprintf ("%s takes no parameter '%s'",
                                         arguments->route->path, key);
    else
    if (strstr (arguments->seen, word))
        arguments->wrong = zsys_sprintf ("parameter '%s' given twice", key);
    else
    if (!value || !*value)
        arguments->wrong = zsys_sprintf ("parameter '%s' has no value", key);
    else
        strcat (arguments->seen, word + 1);
    return arguments->wrong? MHD_NO: MHD_YES;
}

static enum MHD_Result
s_dispatch (central_http_t *self, struct MHD_Connection *connection, const char *path,
            const char *method, const s_request_t *request)
{
    if (request->too_big)
        return s_error (connection, MHD_HTTP_CONTENT_TOO_LARGE,
                        "a request's body is at most %d bytes", CENTRAL_HTTP_BODY_MAX);
    //  The route of path and method; else the methods path takes, for 405.
    const s_route_t *route = NULL;
    char methods [32] = "";
    for (size_t index = 0; index < sizeof s_routes / sizeof s_routes [0]; index++)
        if (streq (s_routes [index].path, path)) {
            if (streq (s_routes [index].method, method))
                route = &s_routes [index];
            snprintf (methods + strlen (methods), sizeof methods - strlen (methods), "%s%s",
                      *methods? " or ": "", s_routes [index].method);
        }
    if (!*methods)
        return s_error (connection, MHD_HTTP_NOT_FOUND, "no such path: see /openapi.json");
    if (!route)
        return s_error (connection, MHD_HTTP_METHOD_NOT_ALLOWED, "%s takes %s only", path,
                        methods);
    s_arguments_t arguments = {route, NULL, " "};
    MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, s_argument_check, &arguments);
    if (arguments.wrong) {
        enum MHD_Result result = s_error (connection, MHD_HTTP_BAD_REQUEST,
                                          "malformed query string: %s", arguments.wrong);
        zstr_free (&arguments.wrong);
        return result;
    }
    s_call_t call = {self, connection, path, request, NULL, NULL};
    if (route->login) {
        call.token = s_token_of (self, connection, &call.account);
        if (!call.token)
            return s_error (connection, MHD_HTTP_UNAUTHORIZED,
                            "log in first (POST /api/v1/login): no token, or an unknown or "
                            "expired one");
    }
    return route->handler (&call);
}

//  libmicrohttpd's access handler: called first with the headers, then
//  with each piece of the body, then once more with none.
static enum MHD_Result
s_access (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **context)
{
    (void) version;
    central_http_t *self = cls;
    s_request_t *request = *context;
    if (!request) {
        request = calloc (1, sizeof *request);
        if (!request)
            return MHD_NO;
        *context = request;
        //  A body announced too big is refused before it is read.
        const char *length = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                          MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull (length, NULL, 10) > CENTRAL_HTTP_BODY_MAX) {
            request->too_big = request->answered = true;
            return s_dispatch (self, connection, url, method, request);
        }
        return MHD_YES;
    }
    if (request->answered)
        return MHD_YES;
    if (*upload_data_size) {
        if (request->size + *upload_data_size > CENTRAL_HTTP_BODY_MAX)
            request->too_big = true;
        else {
            memcpy (request->body + request->size, upload_data, *upload_data_size);
            request->size += *upload_data_size;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (self->verbose)
        zsys_debug ("central_http: %s %s", method, url);
    return s_dispatch (self, connection, url, method, request);
}

//  Called when a request is done: its body (a password, perhaps) wiped.
static void
s_completed (void *cls, struct MHD_Connection *connection, void **context,
             enum MHD_RequestTerminationCode code)
{
    (void) cls, (void) connection, (void) code;
    s_request_t *request = *context;
    if (request) {
        sodium_memzero (request, sizeof *request);
        free (request);
        *context = NULL;
    }
}

//  =====================================================================
//  Starting and stopping

//  Parses HOST:PORT: an IPv4 address, [IPv6] or localhost, and a port.
static int
s_address (const char *text, struct sockaddr_storage *address, bool *loopback)
{
    const char *colon = strrchr (text, ':');
    if (!colon || colon == text)
        return -1;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 1 || port > 65535)
        return -1;
    char host [64];
    size_t length = (size_t) (colon - text);
    if (text [0] == '[' && colon [-1] == ']')
        text++, length -= 2;
    if (length >= sizeof host)
        return -1;
    memcpy (host, text, length);
    host [length] = 0;
    memset (address, 0, sizeof *address);
    struct sockaddr_in *ipv4 = (struct sockaddr_in *) address;
    struct sockaddr_in6 *ipv6 = (struct sockaddr_in6 *) address;
    if (streq (host, "localhost"))
        strcpy (host, "127.0.0.1");
    if (inet_pton (AF_INET, host, &ipv4->sin_addr) == 1) {
        ipv4->sin_family = AF_INET;
        ipv4->sin_port = htons ((uint16_t) port);
        *loopback = (ntohl (ipv4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton (AF_INET6, host, &ipv6->sin6_addr) == 1) {
        ipv6->sin6_family = AF_INET6;
        ipv6->sin6_port = htons ((uint16_t) port);
        *loopback = IN6_IS_ADDR_LOOPBACK (&ipv6->sin6_addr);
        return 0;
    }
    return -1;
}

//  A PEM file's text, or NULL (an empty one too).
static char *
s_read_pem (const char *path)
{
    size_t size;
    char why [300];
    char *text = cp_file_read (path, S_TLS_FILE_MAX, &size, why, sizeof why);
    if (text && size == 0) {
        free (text);
        text = NULL;
    }
    return text;
}

//  Starts libmicrohttpd: on self's address, or on listening, a socket
//  taken over from a daemon before (a reload); with the PEM texts cert
//  and key (kept by the caller while it runs) when it speaks HTTPS.
static struct MHD_Daemon *
s_start (central_http_t *self, const char *cert, const char *key, MHD_socket listening)
{
    //  Bounds on what a client may hold: connections, time, header bytes.
    struct MHD_OptionItem options [8] = {
        {MHD_OPTION_CONNECTION_LIMIT, 64, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 << 10, NULL}
    };
    size_t count = 4;
    if (self->flags & MHD_USE_TLS) {
        options [count++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) cert};
        options [count++] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) key};
    }
    if (listening != MHD_INVALID_SOCKET)
        options [count++] = (struct MHD_OptionItem) {MHD_OPTION_LISTEN_SOCKET, listening, NULL};
    else
        options [count++] = (struct MHD_OptionItem) {MHD_OPTION_SOCK_ADDR, 0, &self->address};
    options [count] = (struct MHD_OptionItem) {MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon (self->flags, 0, NULL, NULL, s_access, self,
                             MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
                             MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

central_http_t *
central_http_new (const central_http_config_t *config, char *why, size_t why_size)
{
    struct sockaddr_storage address;
    bool loopback = false;
    if (s_address (config->address, &address, &loopback)) {
        cp_error_why (CP_EUSAGE, why, why_size, "--http %s: not HOST:PORT with an IP address "
                      "(or [IPv6], or localhost) and a port", config->address);
        return NULL;
    }
    bool tls = config->tls_cert && config->tls_key;
    if ((config->tls_cert || config->tls_key) && !tls) {
        cp_error_why (CP_EUSAGE, why, why_size, "--tls-cert and --tls-key go together");
        return NULL;
    }
    if (!loopback && !tls) {
        cp_error_why (CP_EUSAGE, why, why_size, "--http %s is beyond loopback: it needs "
                      "--tls-cert and --tls-key (HTTPS), or bind 127.0.0.1", config->address);
        return NULL;
    }
    if (tls && MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES) {
        cp_error_why (CP_EUSAGE, why, why_size, "this libmicrohttpd has no TLS");
        return NULL;
    }
    int error = 0;
    central_store_t *store = central_store_open (config->data, CENTRAL_STORE_READONLY, &error);
    if (!store) {
        cp_error_why (error, why, why_size, "%s: %s", config->data,
                      error == CP_ENOTCENTRAL? "not a cpsync central data directory"
                                             : cp_strerror (error));
        return NULL;
    }
    central_store_destroy (&store);

    central_http_t *self = calloc (1, sizeof *self);
    assert (self);
    self->data = strdup (config->data);
    assert (self->data);
    self->ttl = (int64_t) config->token_ttl * 1000;
    self->verbose = config->verbose;
    self->publications = central_publications_new ();     //  NULL: none kept, still served
    s_accounts_fresh (self);
    //  A hash of a random password, checked against when no account has the name.
    uint8_t random [32];
    randombytes_buf (random, sizeof random);
    if (crypto_pwhash_str (self->dummy, (const char *) random, sizeof random,
                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
        cp_error_why (CP_EIO, why, why_size, "out of memory to hash");
        central_http_destroy (&self);
        return NULL;
    }
    if (tls) {
        self->tls_cert = s_read_pem (config->tls_cert);
        self->tls_key = s_read_pem (config->tls_key);
        if (!self->tls_cert || !self->tls_key) {
            cp_error_why (CP_EIO, why, why_size, "%s cannot be read (a PEM file up to 64 KiB)",
                          self->tls_cert? config->tls_key: config->tls_cert);
            central_http_destroy (&self);
            return NULL;
        }
    }
    //  MHD_USE_ITC lets a reload take the listening socket over (s_start).
    self->flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC
                | (address.ss_family == AF_INET6? MHD_USE_IPv6: 0)
                | (tls? MHD_USE_TLS: 0);
    self->address = address;
    self->daemon = s_start (self, self->tls_cert, self->tls_key, MHD_INVALID_SOCKET);
    if (!self->daemon) {
        cp_error_why (CP_EIO, why, why_size, "cannot serve on %s%s", config->address,
                      tls? " (or the certificate and key do not load)": "");
        central_http_destroy (&self);
        return NULL;
    }
    return self;
}

void
central_http_destroy (central_http_t **self_p)
{
    assert (self_p);
    central_http_t *self = *self_p;
    if (self) {
        if (self->daemon)
            MHD_stop_daemon (self->daemon);
        central_accounts_destroy (&self->accounts);
        central_publications_destroy (&self->publications);
        if (self->tls_key)
            sodium_memzero (self->tls_key, strlen (self->tls_key));
        free (self->tls_key);
        free (self->tls_cert);
        free (self->data);
        sodium_memzero (self->tokens, sizeof self->tokens);
        free (self);
        *self_p = NULL;
    }
}

//  True when libmicrohttpd takes cert and key: tried on a daemon with no
//  socket and no thread, since a daemon that fails to start on a socket
//  taken over closes it.
static bool
s_tls_loads (const char *cert, const char *key)
{
    struct MHD_Daemon *probe =
        MHD_start_daemon (MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0, NULL,
                          NULL, s_access, NULL, MHD_OPTION_HTTPS_MEM_CERT, cert,
                          MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
    if (probe)
        MHD_stop_daemon (probe);
    return probe != NULL;
}

int
central_http_reload_tls (central_http_t *self, const char *cert_file, const char *key_file,
                         char *why, size_t why_size)
{
    if (!self->daemon || !(self->flags & MHD_USE_TLS))
        return cp_error_why (CP_EUSAGE, why, why_size, "not serving HTTPS");
    char *cert = s_read_pem (cert_file), *key = s_read_pem (key_file);
    int rc = 0;
    if (!cert || !key)
        rc = cp_error_why (CP_EIO, why, why_size, "%s cannot be read (a PEM file up to 64 KiB)",
                           cert? key_file: cert_file);
    else
    if (streq (cert, self->tls_cert) && streq (key, self->tls_key))
        rc = cp_error_why (0, why, why_size, "the certificate and key are unchanged");
    else
    if (!s_tls_loads (cert, key))
        rc = cp_error_why (CP_EUSAGE, why, why_size, "the new certificate and key do not "
                           "load; the old ones are kept");
    else {
        //  The socket stays open throughout: connections that come meanwhile
        //  wait in its backlog, and one daemon at a time answers.
        MHD_socket listening = MHD_quiesce_daemon (self->daemon);
        MHD_stop_daemon (self->daemon);
        self->daemon = s_start (self, cert, key, listening);
        if (self->daemon) {
            char *old_key = self->tls_key, *old_cert = self->tls_cert;
            self->tls_cert = cert, self->tls_key = key;
            cert = old_cert, key = old_key;     //  freed below
            cp_error_why (0, why, why_size, "serving with the new certificate and key");
        }
        else {
            rc = cp_error_why (CP_EUSAGE, why, why_size, "the new certificate and key do not "
                               "load; the old ones are kept");
            self->daemon = s_start (self, self->tls_cert, self->tls_key, listening);
            if (!self->daemon)
                rc = cp_error_why (CP_EIO, why, why_size, "the new certificate and key do "
                                   "not load, and the old ones do not either now");
        }
    }
    if (key)
        sodium_memzero (key, strlen (key));
    free (key);
    free (cert);
    return rc;
}

bool
central_http_serving (central_http_t *self)
{
    return self->daemon != NULL;
}
