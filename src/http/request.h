/* request.h - the one owner of everything a request needs until it is answered.
 *
 * API:
 *   request_new()     when evhttp hands over a request;
 *   request_voter()   reads (or mints) the reader's voter id;
 *   request_reply_*() answer, write the access-log line and FREE the request.
 * Exactly one reply per request. A handler that waits for Redis passes the
 * struct request as the store callback's argument, and the callback replies;
 * the store guarantees one callback, so there is one free path. The evhttp
 * request stays valid until answered even when the client has left; the
 * connection is never kept. Must not know about polls or Redis. */
#ifndef THAMDO_REQUEST_H
#define THAMDO_REQUEST_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "cookie.h"
#include "seen.h"
#include "text.h"

struct server;
struct evhttp_request;
struct evbuffer;

#define REQUEST_ID_MAX     64 /* X-Request-Id longer than this is replaced by one of ours */
#define REQUEST_CODE_MAX   40
#define REQUEST_BUCKET_HEX 16 /* identity.h: IDENTITY_BUCKET_HEX */

struct request {
    struct server *srv;
    struct evhttp_request *req;
    int method; /* enum evhttp_cmd_type */
    struct timespec started;
    int64_t now; /* Unix seconds by the service's clock, fixed for the request */
    char poll_id[TEXT_SLUG_MAX + 1]; /* poll routes: the checked :id */
    char asset[TEXT_SLUG_MAX + 1];   /* /static/:name */
    unsigned char voter[COOKIE_ID_LEN];
    int has_voter;               /* a valid cookie came, or an id was minted */
    int minted;                  /* the id is new: the reply sets the cookie */
    int reissue;                 /* the cookie is a previous secret's: the reply signs it anew */
    struct seen seen;            /* the polls this reader may have voted in */
    int lang_en;                 /* pages: English instead of Vietnamese */
    int results_only;            /* a poll route answering the results alone */
    json_t *body;                /* a parsed JSON body kept across store calls; freed with r */
    int attempts;                /* store round trips made (editors' optimistic updates) */
    char id[REQUEST_ID_MAX + 1]; /* X-Request-Id: the client's, or generated */
    char error_code[REQUEST_CODE_MAX]; /* the error code of a 4xx/5xx answer, for the log */
    int route; /* the route that took it, for logs and metrics (dispatch_route(); 0: none) */
    /* identity_bucket(): the hashed address bucket (empty until set), and
     * what runs once it is (across the salt's store call) */
    char bucket[REQUEST_BUCKET_HEX + 1];
    void (*bucket_then)(struct request *r, int ok);
};

struct request *request_new(struct server *srv, struct evhttp_request *req);

/* Reads the voter id from the Cookie header(s); with mint, makes a new one
 * when none verifies. */
void request_voter(struct request *r, int mint);

/* Names the error code of a non-JSON error answer (an HTML page) for the
 * access log; request_reply_error() sets it itself. */
void request_set_error_code(struct request *r, const char *code);

/* 1 when id is acceptable as a request id: 1 to REQUEST_ID_MAX characters
 * of [A-Za-z0-9._:-]. */
int request_id_valid(const char *id);

/* A request header, or NULL. */
const char *request_header(const struct request *r, const char *name);

/* Answers with a JSON body (stolen) and frees r. */
void request_reply_json(struct request *r, int status, json_t *body);
/* Answers with JSON already written (len 0: no body) and frees r. */
void request_reply_json_text(struct request *r, int status, const char *text, size_t len);
void request_reply_error(struct request *r, int status, const char *code, const char *message);
void request_reply_unavailable(struct request *r);

/* Answers with body (borrowed, may be NULL) of the given type and frees r. */
void request_reply_buffer(struct request *r, int status, const char *content_type,
                          struct evbuffer *body);

/* Answers 200 with a CSV file (body freed) offered for download as
 * filename, and frees r. */
void request_reply_csv(struct request *r, struct evbuffer *body, const char *filename);

/* Answers 303 See Other to location and frees r. */
void request_reply_redirect(struct request *r, const char *location);

/* Starts a streamed 200 answer with the headers set so far (chunked under
 * HTTP/1.1): sends them, writes the access-log line and frees r, which is no
 * longer counted in flight. Returns the evhttp request, now the caller's, who
 * sends its chunks and ends it with evhttp_send_reply_end() (events.c). */
struct evhttp_request *request_start_stream(struct request *r);

/* Adds a response header. */
void request_add_header(struct request *r, const char *name, const char *value);

#endif
