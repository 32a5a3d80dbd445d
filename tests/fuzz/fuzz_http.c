/*  fuzz_http: libFuzzer target for the central's HTTP API (central_http):
    each input is the raw bytes of what a client sends (request line,
    headers, body), written on a loopback connection to the real daemon
    (libmicrohttpd and our handlers), the way a stranger would.

    At the first input the target sets up a central (catalogues 1 and 2,
    a directive published to county Berat) with an account of every role
    (operator, county Berat, municipality Berat, public; hashes of the
    lowest cost, so logins stay quick), starts central_http on a free
    loopback port and logs each account in.  In an input, @OPERATOR@,
    @COUNTY@, @MUNICIPALITY@ and @PUBLIC@ become those accounts' tokens,
    so the fuzzer reaches what is behind the login.

    The promises: whatever comes back is HTTP responses, each a status
    line "HTTP/1.x NNN" with NNN from 100 to 599; a response of ours (JSON)
    that is an error holds {"error": text, "status": NNN}; a request that
    carries no token (no placeholder) never gets 200 from an endpoint that
    needs one (checked when one request got one response); and after each
    input the daemon still answers an operator's GET /api/v1/me with 200
    (and each account's whose token the input used: a token logged out or
    pushed out of the table logs in again, which must succeed, or be
    refused 429 when inputs failed to log in as that name five times in
    the minute: the daemon's rate limit).
    A broken promise aborts, and so does a sanitizer's report, so the
    fuzzer keeps the input.  One flaw of libmicrohttpd 0.9.75 is let
    through (s_check_answer says which).  A failed login takes at least 250 ms by
    design (central_http), so inputs that log in run slowly.

    The saved corpus (corpus/http) holds a real request for every endpoint
    (login, logout, me, views, nodes, check, quality, workforce,
    directives GET and POST, openapi, metrics, the dashboard's page and
    assets) of each role that may ask it, and bad ones: no token, a wrong
    token, an unknown path, a wrong method, an unknown, repeated or empty
    parameter, a body too big, a broken JSON body; and (fuzz-*) the inputs
    of a libFuzzer run that reached new code.  replay.c runs it as an
    ordinary test.                                                         */

#include "fuzzing.h"
#include "central_accounts.h"
#include "central_http.h"
#include "central_store.h"
#include "cp_downlink.h"
#include "cp_directive.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_PASSWORD "correct horse battery"
#define S_RESPONSE_MAX (4 << 20)    //  bytes of answers read, at most
#define S_WAIT_MSECS 10000          //  an answer's silence that counts as a hang

static const struct {
    const char *name, *role, *scope, *placeholder;
} s_accounts [] = {
    {"op", "operator", NULL, "@OPERATOR@"},
    {"berat-county", "county", "county:berat", "@COUNTY@"},
    {"berat-office", "municipality", "municipality:berat", "@MUNICIPALITY@"},
    {"press", "public", NULL, "@PUBLIC@"}
};
#define S_ACCOUNTS (sizeof s_accounts / sizeof s_accounts [0])

static central_http_t *s_http;
static int s_port;
static char s_tokens [S_ACCOUNTS][80];
static char s_top [128];

//  Writes request to a new connection to the daemon, closes our half,
//  and reads what comes back until the daemon closes.  Returns the bytes
//  (malloc'd, NUL-terminated) and their number in *size.
static char *
s_exchange (const char *request, size_t request_size, size_t *size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        fuzzing_fail ("no socket");
    //  From another address of 127.0.0.0/8 each time (all of it is this
    //  machine to the daemon): a quiet machine runs more exchanges a
    //  minute than one address has ports, and the daemon keeps each pair
    //  of ports in TIME_WAIT for a minute (a CI rehearsal's connect
    //  waited on a SYN sent again to such a pair, and libFuzzer's timer
    //  interrupted it).
    static uint32_t exchanges;
    struct sockaddr_in source = {.sin_family = AF_INET};
    source.sin_addr.s_addr = htonl (INADDR_LOOPBACK + 1 + exchanges++ % 250);
    if (bind (fd, (struct sockaddr *) &source, sizeof source))
        fuzzing_fail ("no source address on loopback");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int connect_rc = connect (fd, (struct sockaddr *) &address, sizeof address);
    if (connect_rc && errno == EINTR) {
        //  A signal came: the connection goes on being made; wait for it
        struct pollfd poller = {fd, POLLOUT, 0};
        int error = 0;
        socklen_t length = sizeof error;
        while ((connect_rc = poll (&poller, 1, S_WAIT_MSECS)) < 0 && errno == EINTR)
            continue;
        if (connect_rc == 1 && getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0)
            connect_rc = error? -1: 0;
        else
            connect_rc = -1;
    }
    if (connect_rc) {
        fprintf (stderr, "connect: %s\n", strerror (errno));
        fuzzing_fail ("the daemon takes no connection");
    }
    size_t sent = 0;
    while (sent < request_size) {
        ssize_t rc = send (fd, request + sent, request_size - sent, MSG_NOSIGNAL);
        if (rc <= 0)
            break;          //  the daemon closed early: it may have answered
        sent += (size_t) rc;
    }
    shutdown (fd, SHUT_WR);
    size_t alloc = 1 << 16;
    char *answer = malloc (alloc + 1);
    *size = 0;
    while (answer) {
        struct pollfd poller = {fd, POLLIN, 0};
        int ready = poll (&poller, 1, S_WAIT_MSECS);
        if (ready == 0)
            fuzzing_fail ("the daemon neither answers nor closes");
        ssize_t got = recv (fd, answer + *size, alloc - *size, 0);
        if (got <= 0)
            break;
        *size += (size_t) got;
        if (*size == alloc) {
            if (alloc >= S_RESPONSE_MAX)
                fuzzing_fail ("an answer without end");
            alloc *= 2;
            answer = realloc (answer, alloc + 1);
        }
    }
    if (!answer)
        fuzzing_fail ("out of memory");
    answer [*size] = 0;
    close (fd);
    return answer;
}

//  The status of the response at text ("HTTP/1.x NNN ..."), or 0.
static int
s_status (const char *text, size_t size)
{
    if (size < 12 || memcmp (text, "HTTP/1.", 7) != 0 || text [8] != ' ')
        return 0;
    int status = 0;
    for (int digit = 9; digit < 12; digit++) {
        if (text [digit] < '0' || text [digit] > '9')
            return 0;
        status = status * 10 + text [digit] - '0';
    }
    return status >= 100 && status <= 599? status: 0;
}

//  The body of the response at text, its size, and whether its headers
//  say it is JSON; NULL when the headers do not end or the length is not
//  there.
static const char *
s_body (const char *text, size_t size, size_t *body_size, bool *json)
{
    const char *end = strstr (text, "\r\n\r\n");
    if (!end || (size_t) (end - text) > size)
        return NULL;
    *json = false;
    long long length = -1;
    for (const char *line = strstr (text, "\r\n") + 2; line < end;
         line = strstr (line, "\r\n") + 2) {
        if (strncasecmp (line, "Content-Type: application/json", 30) == 0)
            *json = true;
        if (strncasecmp (line, "Content-Length:", 15) == 0)
            length = atoll (line + 15);
    }
    const char *body = end + 4;
    if (length < 0 || (size_t) length > size - (size_t) (body - text))
        return NULL;
    *body_size = (size_t) length;
    return body;
}

//  The decoded path of the first request line of input (before '?'),
//  into path; false when input does not start with one.
static bool
s_request_path (const char *input, char *path, size_t path_size)
{
    const char *space = strchr (input, ' ');
    const char *eol = strstr (input, "\r\n");
    if (!space || !eol || space > eol)
        return false;
    size_t at = 0;
    for (const char *in = space + 1; in < eol && *in != ' ' && *in != '?'; in++) {
        if (at + 1 >= path_size)
            return false;
        unsigned value;
        if (*in == '%' && sscanf (in + 1, "%2x", &value) == 1) {
            path [at++] = (char) value;
            in += 2;
        }
        else
            path [at++] = *in;
    }
    path [at] = 0;
    return true;
}

//  Paths that answer without a token.
static bool
s_is_open (const char *path)
{
    static const char *const open [] = {
        "/openapi.json", "/api/v1/login", "/", "/dashboard/dashboard.css",
        "/dashboard/dashboard.js", "/dashboard/catalogue-v1.json",
        "/dashboard/catalogue-v2.json", "/dashboard/municipalities.csv", "/metrics"
    };
    for (size_t index = 0; index < sizeof open / sizeof open [0]; index++)
        if (strcmp (path, open [index]) == 0)
            return true;
    return false;
}

//  Checks every response in answer; returns how many there are.
static int
s_check_answer (const char *answer, size_t size, int *first_status)
{
    int responses = 0;
    size_t at = 0;
    *first_status = 0;
    while (at < size) {
        int status = s_status (answer + at, size - at);
        if (!status)
            fuzzing_fail ("an answer that is not an HTTP status line");
        if (responses++ == 0)
            *first_status = status;
        size_t body_size = 0;
        bool json = false;
        const char *body = s_body (answer + at, size - at, &body_size, &json);
        if (!body)
            fuzzing_fail ("a response without its headers' end or a Content-Length");
        //  libmicrohttpd 0.9.75 (Debian 12) sends the headers of its own
        //  400 for an unparsable Content-Length twice, then the body once:
        //  its flaw, not ours (its page is HTML); the second copy is read.
        size_t head = (size_t) (body - (answer + at));
        if (!json && size - at >= 2 * head
        &&  memcmp (answer + at, body, head) == 0) {
            at += head;
            responses--;
            continue;
        }
        if (json && status >= 400) {
            json_t *document = json_loadb (body, body_size, 0, NULL);
            json_t *status_value = json_object_get (document, "status");
            if (!json_is_string (json_object_get (document, "error"))
            ||  !json_is_integer (status_value) || json_integer_value (status_value) != status)
                fuzzing_fail ("an error of ours without {\"error\", \"status\"}");
            json_decref (document);
        }
        at = (size_t) (body - answer) + body_size;
    }
    return responses;
}

//  Logs account index in: its token into s_tokens.  Returns the status:
//  200, or 429 when inputs failed to log in as that name five times this
//  minute (the daemon's rate limit: the old token stays, refused, until a
//  later login).  Anything else breaks a promise.
static int
s_login (size_t index)
{
    char request [512];
    char login [128];
    int length = snprintf (login, sizeof login, "{\"name\": \"%s\", \"password\": \"%s\"}",
                           s_accounts [index].name, S_PASSWORD);
    int request_size = snprintf (request, sizeof request,
        "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
        "\r\nContent-Length: %d\r\n\r\n%s", length, login);
    size_t size;
    char *answer = s_exchange (request, (size_t) request_size, &size);
    int status = s_status (answer, size);
    const char *token = strstr (answer, "\"token\": \"");
    if (status == 200 && token)
        snprintf (s_tokens [index], sizeof s_tokens [index], "%.64s", token + 10);
    else
    if (status != 429)
        fuzzing_fail ("an account of the target does not log in");
    free (answer);
    return status;
}

//  The status of GET /api/v1/me with account index's token.
static int
s_me (size_t index)
{
    char me [256];
    int me_size = snprintf (me, sizeof me, "GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\n"
                            "Authorization: Bearer %s\r\n\r\n", s_tokens [index]);
    size_t size;
    char *answer = s_exchange (me, (size_t) me_size, &size);
    int status = s_status (answer, size);
    free (answer);
    return status;
}

//  At exit: the daemon stopped, then its scratch directory removed.
static void
s_stop (void)
{
    central_http_destroy (&s_http);
    fuzzing_remove_tree (s_top);
}

//  Sets up the central, its accounts and the daemon, and logs in.
static void
s_start (void)
{
    if (!getenv ("FUZZ_VERBOSE"))
        zsys_set_logstream (NULL);
    if (sodium_init () < 0)
        fuzzing_fail ("libsodium does not initialise");
    const char *base = access ("/dev/shm", W_OK) == 0? "/dev/shm": "/tmp";
    snprintf (s_top, sizeof s_top, "%s/fuzz_http-XXXXXX", base);
    if (!mkdtemp (s_top))
        fuzzing_fail ("cannot make a scratch directory");
    atexit (s_stop);
    char dir [200];
    snprintf (dir, sizeof dir, "%s/central", s_top);
    if (central_store_create (dir, "tcp://127.0.0.1:1", 2))
        fuzzing_fail ("the central is not set up");
    int error = 0;
    central_store_t *store = central_store_open (dir, 0, &error);
    if (!store)
        fuzzing_fail ("the central does not open");
    cp_directive_t directive = {.kind = CP_DIRECTIVE_NOTICE, .due = 0, .text = "Raportoni deri më 31 janar"};
    size_t body_size = 0;
    uint8_t *body = cp_directive_encode (&directive, &body_size);
    cp_scope_t address;
    uint64_t seq = 0;
    uint8_t root [CP_KEY_SIZE], secret [CP_SIGN_SECRET_SIZE];
    crypto_sign_keypair (root, secret);
    char why [256] = "";
    if (!body || cp_downlink_address_parse ("county:berat", &address)
    ||  central_store_downlink_publish (store, CP_DOWNLINK_DIRECTIVE, &address, body,
                                        body_size, secret, &seq, why, sizeof why))
        fuzzing_fail ("the directive is not published");
    free (body);
    central_store_destroy (&store);

    central_accounts_t *accounts = central_accounts_new (dir);
    for (size_t index = 0; index < S_ACCOUNTS; index++) {
        central_account_t account;
        memset (&account, 0, sizeof account);
        if (central_account_check (&account, s_accounts [index].name, s_accounts [index].role,
                                   s_accounts [index].scope, why, sizeof why)
        ||  crypto_pwhash_str (account.hash, S_PASSWORD, strlen (S_PASSWORD),
                               crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN)
        ||  central_accounts_add (accounts, &account))
            fuzzing_fail ("an account is refused");
    }
    if (central_accounts_save (accounts))
        fuzzing_fail ("the accounts are not saved");
    central_accounts_destroy (&accounts);

    //  A free port: from one of the process's own, on until one binds.
    for (int attempt = 0; !s_http && attempt < 200; attempt++) {
        s_port = 20000 + (getpid () * 7 + attempt * 131) % 40000;
        char listen [32];
        snprintf (listen, sizeof listen, "127.0.0.1:%d", s_port);
        central_http_config_t config = {.data = dir, .address = listen, .token_ttl = 86400};
        s_http = central_http_new (&config, why, sizeof why);
    }
    if (!s_http)
        fuzzing_fail ("central_http does not start");
    for (size_t index = 0; index < S_ACCOUNTS; index++)
        if (s_login (index) != 200)
            fuzzing_fail ("an account of the target does not log in");
}

//  The input with every placeholder replaced by its token (malloc'd,
//  NUL-terminated); *tokens says whether there was one.
static char *
s_substitute (const uint8_t *data, size_t size, size_t *out_size, bool *tokens)
{
    char *out = malloc (size * 8 + 1);
    if (!out)
        fuzzing_fail ("out of memory");
    size_t at = 0;
    *tokens = false;
    for (size_t in = 0; in < size; ) {
        bool replaced = false;
        for (size_t index = 0; index < S_ACCOUNTS && !replaced; index++) {
            size_t length = strlen (s_accounts [index].placeholder);
            if (size - in >= length
            &&  memcmp (data + in, s_accounts [index].placeholder, length) == 0) {
                memcpy (out + at, s_tokens [index], strlen (s_tokens [index]));
                at += strlen (s_tokens [index]);
                in += length;
                replaced = *tokens = true;
            }
        }
        if (!replaced)
            out [at++] = (char) data [in++];
    }
    out [at] = 0;
    *out_size = at;
    return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_http)
        s_start ();
    bool tokens;
    size_t request_size;
    char *request = s_substitute (data, size, &request_size, &tokens);
    size_t answer_size;
    char *answer = s_exchange (request, request_size, &answer_size);
    if (getenv ("FUZZ_VERBOSE"))
        fprintf (stderr, "fuzz_http: answer of %zu bytes:\n%s\n", answer_size, answer);
    int status = 0;
    int responses = s_check_answer (answer, answer_size, &status);
    char path [256];
    if (!tokens && responses == 1 && status == 200 && strlen (request) == request_size
    &&  s_request_path (request, path, sizeof path) && !s_is_open (path))
        fuzzing_fail ("200 without a token from an endpoint that needs one");
    free (answer);
    free (request);

    //  The daemon still serves.  A token may be gone (an input logged it
    //  out, or logins pushed it out of the table): then the account logs
    //  in again, so that the next input finds it.
    for (size_t index = 0; index < S_ACCOUNTS; index++) {
        if (index > 0 && !tokens)
            break;
        int me = s_me (index);
        if (me == 401 && s_login (index) == 200)
            me = s_me (index);
        else
        if (me == 401)
            continue;           //  locked out for a minute: a well-formed answer too
        if (me != 200)
            fuzzing_fail ("the daemon no longer answers a legitimate request");
    }
    return 0;
}
