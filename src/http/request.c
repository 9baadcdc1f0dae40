/* request.c - lifecycle of struct request: creation, voter id, the reply,
 * the access-log line, the free.
 *
 * Every reply path ends in request_done(), which sends, logs and frees. The
 * request counts in flight (srv->inflight, kept by conn.c) from
 * request_new() until its answer's last byte has left, not until it was
 * queued. Must not log cookies, voter ids or client addresses. */
#include "request.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#include "access.h"
#include "config.h"
#include "conn.h"
#include "http_util.h"
#include "server.h"

int request_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        unsigned char c = (unsigned char)id[n];
        if (n >= REQUEST_ID_MAX ||
            !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return n > 0;
}

/* The client's X-Request-Id when it is a plain token, else "<process
 * prefix>-<worker>-<sequence>" (the worker's own counter: no sharing),
 * unique across the workers and the restarts of one host. */
static void request_take_id(struct request *r)
{
    const char *given = request_header(r, "X-Request-Id");
    if (given && request_id_valid(given)) {
        memcpy(r->id, given, strlen(given) + 1);
        return;
    }
    snprintf(r->id, sizeof(r->id), "%s-%llx", r->srv->request_id_prefix,
             (unsigned long long)++r->srv->request_seq);
}

struct request *request_new(struct server *srv, struct evhttp_request *req)
{
    struct request *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->srv = srv;
    r->req = req;
    r->method = (int)evhttp_request_get_command(req);
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    r->now = server_now(srv);
    if (srv->cfg->test_clock) {
        /* TEST ONLY (refused unless THAMDO_MODE=test): the request says what time it is. */
        const char *t = request_header(r, "X-Thamdo-Test-Now");
        int64_t when;
        if (t && text_parse_rfc3339(t, &when) == 0)
            r->now = when;
    }
    request_take_id(r);
    request_add_header(r, "X-Request-Id", r->id);
    conn_request_begin(srv, req);
    return r;
}

void request_set_error_code(struct request *r, const char *code)
{
    snprintf(r->error_code, sizeof(r->error_code), "%s", code);
}

const char *request_header(const struct request *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

void request_add_header(struct request *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

/* Adds name to the answer's Vary header (one header line). */
static void request_vary(struct request *r, const char *name)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
    const char *had = evhttp_find_header(out, "Vary");
    if (!had) {
        evhttp_add_header(out, "Vary", name);
        return;
    }
    if (strstr(had, name))
        return;
    char both[128];
    snprintf(both, sizeof(both), "%s, %s", had, name);
    evhttp_remove_header(out, "Vary");
    evhttp_add_header(out, "Vary", both);
}

void request_voter(struct request *r, int mint)
{
    const struct cookie_conf *conf = &r->srv->cfg->cookie;
    request_vary(r, "Cookie"); /* the answer is this reader's */
    struct evkeyval *h;
    TAILQ_FOREACH(h, evhttp_request_get_input_headers(r->req), next)
    {
        if (strcasecmp(h->key, "Cookie") != 0)
            continue;
        /* A value under the current secret wins over one under a previous. */
        unsigned char id[COOKIE_ID_LEN];
        int got = r->has_voter && !r->reissue ? -1 : cookie_from_header(conf, h->value, id);
        if (got == 0 || (got == COOKIE_PREVIOUS && !r->has_voter)) {
            memcpy(r->voter, id, COOKIE_ID_LEN);
            r->has_voter = 1;
            r->reissue = got == COOKIE_PREVIOUS; /* the reply signs it with the current secret */
        }
        seen_from_header(&r->seen, conf, h->value);
    }
    if (r->has_voter)
        return;
    r->seen.known = 0; /* a mask without its voter id is nobody's */
    if (mint && cookie_mint(r->voter) == 0) {
        r->has_voter = 1;
        r->minted = 1;
        seen_start(&r->seen);
    }
}

/* Headers every reply gets, the access log, and the free. The reply itself
 * is sent by the caller's send function between prepare and done. */
static void request_prepare(struct request *r, int status)
{
    if (r->minted || r->reissue) {
        char cookie[256];
        if (cookie_set_header(&r->srv->cfg->cookie, r->voter, cookie, sizeof(cookie)) > 0)
            request_add_header(r, "Set-Cookie", cookie);
    }
    if (r->seen.dirty && r->has_voter) {
        char cookie[256];
        if (seen_set_header(&r->seen, &r->srv->cfg->cookie, cookie, sizeof(cookie)) > 0)
            request_add_header(r, "Set-Cookie", cookie);
    }
    if (status == 503 &&
        !evhttp_find_header(evhttp_request_get_output_headers(r->req), "Retry-After"))
        request_add_header(r, "Retry-After", "1");
    if (r->srv->stopping)
        request_add_header(r, "Connection", "close");
    access_record(r, status);
}

static void request_done(struct request *r)
{
    json_decref(r->body);
    free(r);
}

void request_reply_json(struct request *r, int status, json_t *body)
{
    if (body == NULL) { /* a value that could not be built: never crash, and log the 500 */
        status = 500;
        body = http_error_body("internal_error", "The server could not build its answer.");
        request_set_error_code(r, "internal_error");
    }
    request_prepare(r, status);
    http_reply_json(r->req, status, body);
    request_done(r);
}

void request_reply_json_text(struct request *r, int status, const char *text, size_t len)
{
    request_prepare(r, status);
    http_reply_json_text(r->req, status, text, len);
    request_done(r);
}

void request_reply_error(struct request *r, int status, const char *code, const char *message)
{
    request_set_error_code(r, code);
    request_reply_json(r, status, http_error_body(code, message));
}

void request_reply_unavailable(struct request *r)
{
    request_reply_error(r, 503, "store_unavailable",
                        "The poll service cannot reach its database right now. Please try again "
                        "shortly.");
}

void request_reply_buffer(struct request *r, int status, const char *content_type,
                          struct evbuffer *body)
{
    request_prepare(r, status);
    if (content_type)
        request_add_header(r, "Content-Type", content_type);
    http_reply_buffer(r->req, status, body);
    request_done(r);
}

struct evhttp_request *request_start_stream(struct request *r)
{
    struct evhttp_request *req = r->req;
    request_prepare(r, 200);
    evhttp_send_reply_start(req, 200, "OK");
    conn_request_uncount(r->srv, req);
    request_done(r);
    return req;
}

void request_reply_csv(struct request *r, struct evbuffer *body, const char *filename)
{
    char disposition[200];
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
    request_add_header(r, "Content-Disposition", disposition);
    request_add_header(r, "Cache-Control", "no-store");
    request_add_header(r, "X-Content-Type-Options", "nosniff");
    request_reply_buffer(r, 200, "text/csv; charset=utf-8", body);
    evbuffer_free(body);
}

void request_reply_redirect(struct request *r, const char *location)
{
    request_add_header(r, "Location", location);
    request_add_header(r, "Cache-Control", "no-store");
    request_reply_buffer(r, 303, NULL, NULL);
}
