/*  central_http: the central's HTTP face, the JSON API of views, nodes,
    checks, quality, workforce and directives, and the dashboard that
    reads it (central_dashboard), for people.

    It runs in its own process (cpsync-central serve), not in the daemon
    that holds the nodes' connections: LMDB forbids a second opening of
    the store in one process, and the face to the web should not be the
    process with the nodes' keys.  It opens the store read-only for each
    request (readers never block the writer) and writes nothing but its
    log, except a directive an operator sends (POST /api/v1/directives),
    signed with the root secret of the data directory when it is there,
    as `directive send` signs it.

    Everything but /openapi.json, the dashboard's files and the login
    needs a token: POST
    /api/v1/login with {"name", "password"} gives one (32 random bytes in
    hex), kept in this process's memory with its account until it expires
    or the account leaves accounts.json.  What an account may ask is its
    role's and its scope's (central_accounts.h); a question outside them
    is answered 403 and logged, without figures.  Every error is an HTTP
    status with a JSON body {"error", "status"}.

    A renewed certificate is taken without a restart
    (central_http_reload_tls): the tokens and the listening socket stay.

    libmicrohttpd serves it with one internal thread, so requests are
    answered one after another and the tokens need no lock.  It listens on
    loopback unless TLS is given: beyond loopback, only HTTPS.             */

#ifndef CENTRAL_HTTP_H_INCLUDED
#define CENTRAL_HTTP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define CENTRAL_HTTP_ADDRESS "127.0.0.1:8470"
#define CENTRAL_HTTP_TOKEN_TTL 3600         //  seconds a token lives, by default
#define CENTRAL_HTTP_BODY_MAX 4096          //  bytes of a request's body, at most
#define CENTRAL_HTTP_FAILURES 5             //  failed logins of a name a minute, at most

typedef struct {
    const char *data;           //  the central's data directory
    const char *address;        //  HOST:PORT (an IPv4 address, [IPv6] or localhost)
    const char *tls_cert;       //  PEM certificate file, or NULL
    const char *tls_key;        //  PEM private key file, or NULL
    int token_ttl;              //  seconds
    bool verbose;               //  a log line per request
} central_http_config_t;

typedef struct _central_http_t central_http_t;

//  Starts serving.  Returns NULL with *why when the configuration is
//  refused (an address beyond loopback without both TLS files, an address
//  that does not parse, unreadable TLS files, not a central) or the
//  address cannot be bound.
central_http_t *
    central_http_new (const central_http_config_t *config, char *why, size_t why_size);

//  Stops serving (answers under way finish first) and forgets the tokens.
void
    central_http_destroy (central_http_t **self_p);

//  Serves from now on with the certificate and key of these PEM files (a
//  renewal), keeping the tokens and the listening socket: answers under
//  way finish first, connections made meanwhile wait.  Returns 0 with
//  *why saying whether they changed; CP_EUSAGE when not serving HTTPS or
//  the new files do not load (the old ones are kept), CP_EIO when a file
//  cannot be read (nothing changed) or when, the new ones refused, the
//  old ones do not load again: then it serves no more (central_http_serving).
int
    central_http_reload_tls (central_http_t *self, const char *cert_file, const char *key_file,
                             char *why, size_t why_size);

//  False once a failed reload left nothing serving.
bool
    central_http_serving (central_http_t *self);

#endif
