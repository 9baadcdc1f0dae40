/* api.c - handlers of the public API.
 *
 * Every request gets one struct api_req (api_req_new) and ends in exactly one
 * call to api_finish() or api_fail(), which answer, write the access log line
 * and free it. A handler that waits for Redis hands the api_req to the store as
 * the callback argument; the store calls back exactly once (with NULL when
 * Redis is down or slow: 503), so there is one owner and one free path. The
 * evhttp request stays valid until answered even if the client has left.
 *
 * Routes:
 *   GET  /api/v1/polls                 open polls
 *   GET  /api/v1/polls/:id             definition + this reader's state
 *   POST /api/v1/polls/:id/votes       cast a ballot (JSON or form)
 *   GET  /api/v1/polls/:id/results     results, when visibility allows
 *   GET  /healthz, /readyz
 * Must not log cookies, voter ids or client addresses. */
#include "api.h"

#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ballot.h"
#include "config.h"
#include "cookie.h"
#include "http_util.h"
#include "log.h"
#include "poll.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "text.h"

enum api_handler {
    API_POLL_LIST = 0,
    API_POLL_GET,
    API_POLL_VOTE,
    API_POLL_RESULTS,
    API_HEALTHZ,
    API_READYZ,
};

static const struct route api_routes[] = {
    {"/api/v1/polls", ROUTER_GET, API_POLL_LIST},
    {"/api/v1/polls/:id", ROUTER_GET, API_POLL_GET},
    {"/api/v1/polls/:id/votes", ROUTER_POST, API_POLL_VOTE},
    {"/api/v1/polls/:id/results", ROUTER_GET, API_POLL_RESULTS},
    {"/healthz", ROUTER_GET, API_HEALTHZ},
    {"/readyz", ROUTER_GET, API_READYZ},
};

struct api_req {
    struct server *srv;
    struct evhttp_request *req;
    int method;
    struct timespec started;
    char poll_id[TEXT_SLUG_MAX + 1];
    unsigned char voter[COOKIE_ID_LEN];
    int has_voter; /* a valid cookie came with the request, or one was minted */
    int minted;    /* the id is new: send Set-Cookie */
    int64_t now;
    struct ballot ballot;
};

static struct api_req *api_req_new(struct server *srv, struct evhttp_request *req)
{
    struct api_req *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->srv = srv;
    r->req = req;
    r->method = (int)evhttp_request_get_command(req);
    r->now = server_now(srv);
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    srv->inflight++;
    return r;
}

/* Answers, logs and frees r. body is stolen. */
static void api_finish(struct api_req *r, int status, json_t *body)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);
    if (r->minted) {
        char cookie[256];
        if (cookie_set_header(&r->srv->cfg->cookie, r->voter, cookie, sizeof(cookie)) > 0)
            evhttp_add_header(out, "Set-Cookie", cookie);
    }
    if (status == 503)
        evhttp_add_header(out, "Retry-After", "1");
    if (r->srv->stopping)
        evhttp_add_header(out, "Connection", "close");

    if (log_enabled(LOG_INFO)) {
        struct timespec end;
        char path[128];
        clock_gettime(CLOCK_MONOTONIC, &end);
        double ms = (double)(end.tv_sec - r->started.tv_sec) * 1e3 +
                    (double)(end.tv_nsec - r->started.tv_nsec) / 1e6;
        http_log_path(r->req, path, sizeof(path));
        log_info("%s %s %d %.1fms", http_method_name(r->method), path, status, ms);
    }
    http_reply_json(r->req, status, body);
    r->srv->inflight--;
    free(r);
}

static void api_fail(struct api_req *r, int status, const char *code, const char *message)
{
    api_finish(r, status, http_error_body(code, message));
}

static void api_unavailable(struct api_req *r)
{
    api_fail(r, 503, "store_unavailable",
             "The poll service cannot reach its database right now. Please try again shortly.");
}

/* Reads the voter id from the Cookie header(s); mints one when asked. */
static void api_voter(struct api_req *r, int mint)
{
    struct evkeyval *h;
    TAILQ_FOREACH(h, evhttp_request_get_input_headers(r->req), next)
    {
        if (strcasecmp(h->key, "Cookie") == 0 &&
            cookie_from_header(&r->srv->cfg->cookie, h->value, r->voter) == 0) {
            r->has_voter = 1;
            return;
        }
    }
    if (mint && cookie_mint(r->voter) == 0) {
        r->has_voter = 1;
        r->minted = 1;
    }
}

/* ------------------------------------------------------------- results --- */

static json_t *api_results_or_null(struct api_req *r, const struct store_poll_reply *p, int voted)
{
    if (!poll_results_visible(p->def, r->now, voted))
        return json_null();
    return poll_results(p->def, p->counts, p->voters);
}

static json_t *api_choice(const struct store_poll_reply *p)
{
    return p->choice ? poll_choice_array(p->choice, p->choice_len) : json_null();
}

/* ------------------------------------------------------------ handlers --- */

static void api_poll_list_cb(void *arg, json_t *defs)
{
    struct api_req *r = arg;
    if (!defs) {
        api_unavailable(r);
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def)
    {
        if (poll_state_at(def, r->now) != POLL_OPEN)
            continue;
        json_t *view = poll_public_view(def, r->now);
        json_array_append_new(list, json_pack("{sO sO sO}", "id", json_object_get(view, "id"),
                                              "question", json_object_get(view, "question"),
                                              "closes_at", json_object_get(view, "closes_at")));
        json_decref(view);
    }
    api_finish(r, 200, json_pack("{so}", "polls", list));
}

static void api_poll_get_cb(void *arg, const struct store_poll_reply *p)
{
    struct api_req *r = arg;
    if (!p) {
        api_unavailable(r);
        return;
    }
    if (!p->def) {
        api_fail(r, 404, "poll_not_found", "There is no poll with this id.");
        return;
    }
    int voted = p->choice != NULL;
    json_t *view = poll_public_view(p->def, r->now);
    json_object_set_new(view, "voted", json_boolean(voted));
    json_object_set_new(view, "choice", api_choice(p));
    json_object_set_new(view, "results", api_results_or_null(r, p, voted));
    api_finish(r, 200, view);
}

static void api_poll_results_cb(void *arg, const struct store_poll_reply *p)
{
    struct api_req *r = arg;
    if (!p) {
        api_unavailable(r);
        return;
    }
    if (!p->def) {
        api_fail(r, 404, "poll_not_found", "There is no poll with this id.");
        return;
    }
    if (!poll_results_visible(p->def, r->now, p->choice != NULL)) {
        api_fail(r, 403, "results_hidden", "The results of this poll are not shown right now.");
        return;
    }
    api_finish(r, 200, poll_results(p->def, p->counts, p->voters));
}

static void api_vote_cb(void *arg, const struct store_poll_reply *p)
{
    struct api_req *r = arg;
    char msg[160];
    if (!p) {
        api_unavailable(r);
        return;
    }
    if (strcmp(p->code, "ok") == 0) {
        api_finish(r, 201,
                   json_pack("{ss so so}", "poll_id", r->poll_id, "choice", api_choice(p),
                             "results", api_results_or_null(r, p, 1)));
    } else if (strcmp(p->code, "already_voted") == 0) {
        json_t *body = http_error_body("already_voted", "You have already voted in this poll.");
        json_object_set_new(body, "choice", api_choice(p));
        json_object_set_new(body, "results", api_results_or_null(r, p, 1));
        api_finish(r, 409, body);
    } else if (strcmp(p->code, "poll_not_found") == 0) {
        api_fail(r, 404, "poll_not_found", "There is no poll with this id.");
    } else if (strcmp(p->code, "poll_closed") == 0) {
        api_fail(r, 403, "poll_closed", "This poll is closed.");
    } else if (strcmp(p->code, "poll_not_open") == 0) {
        api_fail(r, 403, "poll_not_open", "This poll is not open yet.");
    } else if (strcmp(p->code, "too_many_options") == 0) {
        snprintf(msg, sizeof(msg), "This poll accepts at most %lld option(s).",
                 (long long)json_integer_value(json_object_get(p->def, "max_choices")));
        api_fail(r, 400, "too_many_options", msg);
    } else if (strcmp(p->code, "invalid_option") == 0) {
        api_fail(r, 400, "invalid_option", "An option is not part of this poll.");
    } else {
        log_error("vote: unexpected answer from the vote script");
        api_unavailable(r);
    }
}

static void api_vote(struct api_req *r)
{
    static const char *const messages[][2] = {
        {"invalid_json", "The body must be JSON like {\"options\":[\"option-id\"]}."},
        {"no_option", "Choose at least one option."},
        {"invalid_option", "An option id is not valid."},
        {"too_many_options", "Too many options were chosen."},
    };
    const char *data;
    size_t len;
    if (http_body(r->req, r->srv->cfg->max_body, &data, &len) != 0) {
        api_fail(r, 413, "body_too_large", "The request body is too large.");
        return;
    }
    enum http_media media = http_media_type(r->req);
    if (media != HTTP_MEDIA_JSON && media != HTTP_MEDIA_FORM) {
        api_fail(r, 415, "unsupported_media_type",
                 "Send application/json or application/x-www-form-urlencoded.");
        return;
    }
    const char *code = "invalid_json";
    if (ballot_parse(&r->ballot, media == HTTP_MEDIA_JSON ? BALLOT_JSON : BALLOT_FORM, data, len,
                     &code) != 0) {
        const char *message = "The request is not valid.";
        for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
            if (strcmp(messages[i][0], code) == 0)
                message = messages[i][1];
        }
        api_fail(r, 400, code, message);
        return;
    }
    api_voter(r, 1);
    if (!r->has_voter) {
        api_fail(r, 500, "internal_error", "Could not create a voter id.");
        return;
    }
    store_poll_vote(r->srv->store, r->poll_id, r->voter, r->now, r->ballot.ptrs, r->ballot.n,
                    api_vote_cb, r);
}

static void api_health(struct api_req *r, int ready_check)
{
    if (!ready_check) {
        api_finish(r, 200, json_pack("{ss}", "status", "ok"));
    } else if (r->srv->stopping) {
        api_fail(r, 503, "shutting_down", "This instance is stopping.");
    } else if (!store_is_ready(r->srv->store)) {
        api_unavailable(r);
    } else {
        api_finish(r, 200, json_pack("{ss}", "status", "ready"));
    }
}

void api_handle(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    struct api_req *r = api_req_new(srv, req);
    struct route_match m;
    char allow[96];
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

    enum router_result res = router_match(api_routes, sizeof(api_routes) / sizeof(api_routes[0]),
                                          (unsigned)r->method, path ? path : "", &m);
    if (res == ROUTER_NOT_FOUND) {
        api_fail(r, 404, "not_found", "There is nothing at this address.");
        return;
    }
    if (res == ROUTER_BAD_METHOD) {
        router_allow_header(m.allow, allow, sizeof(allow));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        if (r->method == EVHTTP_REQ_OPTIONS) {
            api_finish(r, 204, json_object());
            return;
        }
        api_fail(r, 405, "method_not_allowed", "This method is not allowed here.");
        return;
    }
    if (m.nparams > 0) {
        if (!text_is_slug(m.params[0], strlen(m.params[0]))) {
            api_fail(r, 404, "poll_not_found", "There is no poll with this id.");
            return;
        }
        memcpy(r->poll_id, m.params[0], strlen(m.params[0]) + 1);
    }

    switch ((enum api_handler)m.handler) {
    case API_POLL_LIST:
        store_poll_list(srv->store, api_poll_list_cb, r);
        return;
    case API_POLL_GET:
        api_voter(r, 1);
        store_poll_view(srv->store, r->poll_id, r->has_voter ? r->voter : NULL, api_poll_get_cb, r);
        return;
    case API_POLL_VOTE:
        api_vote(r);
        return;
    case API_POLL_RESULTS:
        api_voter(r, 0);
        store_poll_view(srv->store, r->poll_id, r->has_voter ? r->voter : NULL, api_poll_results_cb,
                        r);
        return;
    case API_HEALTHZ:
        api_health(r, 0);
        return;
    case API_READYZ:
        api_health(r, 1);
        return;
    }
    api_fail(r, 404, "not_found", "There is nothing at this address.");
}
