/* api.c - handlers of the public JSON API.
 *
 *   GET  /api/v1/polls                 open and/or closed polls, newest first, paged
 *   GET  /api/v1/polls/:id             definition + this reader's state
 *   POST /api/v1/polls/:id/votes       cast a ballot (JSON or form)
 *   GET  /api/v1/polls/:id/results     results, when visibility allows
 *   GET  /healthz, /readyz
 * Each handler either answers at once or hands its struct request to the
 * store, whose callback answers. Must not talk to Redis except through
 * store.h, and must not log cookies, voter ids or client addresses. */
#include "api.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ballot.h"
#include "cache.h"
#include "cors.h"
#include "config.h"
#include "cookie.h"
#include "events.h"
#include "form.h"
#include "http_util.h"
#include "log.h"
#include "metrics.h"
#include "poll.h"
#include "ratelimit.h"
#include "request.h"
#include "server.h"
#include "store.h"
#include "text.h"

/* ------------------------------------------------------------- results --- */

static json_t *api_results_or_null(struct request *r, const struct store_poll_reply *p, int voted)
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

void api_reply_damaged(struct request *r)
{
    request_reply_error(r, 500, "poll_damaged",
                        "The data stored for this poll is damaged; it cannot be shown or voted in "
                        "until it is repaired.");
}

int api_poll_or_reply(struct request *r, const struct store_poll_reply *p)
{
    if (!p) {
        request_reply_unavailable(r);
        return 0;
    }
    if (p->code && strcmp(p->code, "poll_damaged") == 0) {
        api_reply_damaged(r);
        return 0;
    }
    if (!p->def) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
        return 0;
    }
    return 1;
}

int api_results_or_reply(struct request *r, const struct store_poll_reply *p)
{
    if (!api_poll_or_reply(r, p))
        return 0;
    if (!poll_results_visible(p->def, r->now, p->choice != NULL)) {
        request_reply_error(r, 403, "results_hidden",
                            "The results of this poll are not shown right now.");
        return 0;
    }
    return 1;
}

/* ?status=open|closed|all&limit=1..100&offset=0..100000, each at most once. */
struct api_list_query {
    enum poll_list_status status;
    long long limit, offset;
    int seen[3];
    const char *error; /* the message of a bad parameter */
};

static int api_list_field(void *arg, const char *key, size_t key_len, const char *value,
                          size_t value_len)
{
    static const char *const names[3] = {"status", "limit", "offset"};
    static const char *const statuses[3] = {"open", "closed", "all"};
    struct api_list_query *q = arg;
    size_t k = 0;
    while (k < 3 && !(strlen(names[k]) == key_len && memcmp(names[k], key, key_len) == 0))
        k++;
    if (k == 3)
        return 0; /* other parameters are not ours */
    int ok = !q->seen[k] && strlen(value) == value_len;
    q->seen[k] = 1;
    if (ok && k == 0) {
        ok = 0;
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(value, statuses[i]) == 0) {
                q->status = (enum poll_list_status)i;
                ok = 1;
            }
        }
    } else if (ok) {
        ok = k == 1 ? text_parse_int(value, 1, 100, &q->limit) == 0
                    : text_parse_int(value, 0, 100000, &q->offset) == 0;
    }
    if (!ok) {
        q->error = k == 0   ? "status must be open, closed or all (once)."
                   : k == 1 ? "limit must be a whole number from 1 to 100 (once)."
                            : "offset must be a whole number from 0 to 100000 (once).";
        return -1;
    }
    return 0;
}

int api_list_or_reply(struct request *r, const char *code)
{
    if (!code) {
        request_reply_unavailable(r);
        return 0;
    }
    if (strcmp(code, "ok") != 0) {
        api_reply_damaged(r);
        return 0;
    }
    return 1;
}

static void api_poll_list_cb(void *arg, const char *code, json_t *polls)
{
    struct request *r = arg;
    if (!api_list_or_reply(r, code))
        return;
    json_int_t status = json_integer_value(json_object_get(r->body, "status"));
    json_int_t limit = json_integer_value(json_object_get(r->body, "limit"));
    json_int_t offset = json_integer_value(json_object_get(r->body, "offset"));
    request_reply_json(r, 200,
                       poll_public_list(polls, r->now, (enum poll_list_status)status, (size_t)limit,
                                        (size_t)offset));
}

static void api_poll_get_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    if (!api_poll_or_reply(r, p))
        return;
    int voted = p->choice != NULL;
    json_t *view = poll_public_view(p->def, r->now);
    json_object_set_new(view, "voted", json_boolean(voted));
    json_object_set_new(view, "choice", api_choice(p));
    json_object_set_new(view, "results", api_results_or_null(r, p, voted));
    request_reply_json(r, 200, view);
}

static void api_poll_results_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    if (!api_results_or_reply(r, p))
        return;
    request_reply_json(r, 200, poll_results(p->def, p->counts, p->voters));
}

/* Asks the store with the definition the worker holds, kept in r->body so
 * that an answer "your definition is current" (def_current) can use it. */
static long long api_known_version(struct request *r)
{
    long long version;
    const json_t *def = cache_known(r->srv->cache, r->poll_id, &version);
    json_decref(r->body);
    r->body = def ? json_incref((json_t *)def) : NULL;
    return def ? version : -1;
}

/* The reply with its definition in place (*copy), whichever way it came. */
static const struct store_poll_reply *
api_with_def(struct request *r, const struct store_poll_reply *p, struct store_poll_reply *copy)
{
    if (!p || !p->def_current)
        return p;
    *copy = *p;
    copy->def = r->body;
    return copy;
}

/* 201 (200 for a changed ballot) with the results of the vote's own atomic
 * step: the worker's rendering of them when it holds exactly that step,
 * which the next readers of the results then get too. Poll and option ids
 * are slugs: they are written as they are. */
static void api_reply_counted(struct request *r, const struct store_poll_reply *p)
{
    int changed = strcmp(p->code, "changed") == 0;
    const struct cache_body *results = NULL;
    int visible = poll_results_visible(p->def, r->now, 1);
    if (visible)
        results = cache_results_at(r->srv->cache, r->poll_id, p->seq);
    if ((visible && !results) || !p->choice || p->choice_len == 0) {
        json_t *body = json_pack("{ss so so}", "poll_id", r->poll_id, "choice", api_choice(p),
                                 "results", api_results_or_null(r, p, 1));
        if (changed)
            json_object_set_new(body, "changed", json_true());
        request_reply_json(r, changed ? 200 : 201, body);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b)
        abort();
    evbuffer_add_printf(b, "{\"poll_id\":\"%s\",\"choice\":[", r->poll_id);
    for (size_t i = 0, start = 0; i <= p->choice_len; i++) {
        if (i < p->choice_len && p->choice[i] != ',')
            continue;
        evbuffer_add_printf(b, "%s\"%.*s\"", start ? "," : "", (int)(i - start), p->choice + start);
        start = i + 1;
    }
    evbuffer_add(b, "],\"results\":", 12);
    if (results)
        evbuffer_add(b, results->text, results->len);
    else
        evbuffer_add(b, "null", 4);
    if (changed)
        evbuffer_add(b, ",\"changed\":true", 15);
    evbuffer_add(b, "}", 1);
    request_reply_json_text(r, changed ? 200 : 201, (const char *)evbuffer_pullup(b, -1),
                            evbuffer_get_length(b));
    evbuffer_free(b);
}

static void api_vote_cb(void *arg, const struct store_poll_reply *reply)
{
    struct request *r = arg;
    struct store_poll_reply copy;
    const struct store_poll_reply *p = api_with_def(r, reply, &copy);
    char msg[160];
    if (!p) {
        request_reply_unavailable(r);
        return;
    }
    cache_update(r->srv->cache, r->poll_id, p);
    metrics_vote(p->code);
    ratelimit_counted(r, p);
    if (p->choice)
        seen_mark(&r->seen, r->poll_id);
    if (strcmp(p->code, "ok") == 0 || strcmp(p->code, "changed") == 0) {
        api_reply_counted(r, p);
    } else if (ratelimit_refused(p->code)) {
        ratelimit_reply(r, p);
    } else if (strcmp(p->code, "already_voted") == 0) {
        json_t *body = http_error_body("already_voted", "You have already voted in this poll.");
        json_object_set_new(body, "choice", api_choice(p));
        json_object_set_new(body, "results", api_results_or_null(r, p, 1));
        request_set_error_code(r, "already_voted");
        request_reply_json(r, 409, body);
    } else if (strcmp(p->code, "poll_not_found") == 0) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
    } else if (strcmp(p->code, "poll_closed") == 0) {
        request_reply_error(
            r, 403, "poll_closed",
            "This poll closed before your vote arrived; your vote was not counted.");
    } else if (strcmp(p->code, "poll_not_open") == 0) {
        request_reply_error(r, 403, "poll_not_open", "This poll is not open yet.");
    } else if (strcmp(p->code, "too_many_options") == 0) {
        snprintf(msg, sizeof(msg), "This poll accepts at most %lld option(s).",
                 (long long)json_integer_value(json_object_get(p->def, "max_choices")));
        request_reply_error(r, 400, "too_many_options", msg);
    } else if (strcmp(p->code, "invalid_option") == 0) {
        request_reply_error(r, 400, "invalid_option", "An option is not part of this poll.");
    } else if (strcmp(p->code, "poll_resetting") == 0) {
        request_reply_error(r, 503, "poll_resetting", /* Retry-After: 1, as every 503 */
                            "The poll's results are being reset; your vote was not counted. Please "
                            "try again in a moment.");
    } else if (strcmp(p->code, "poll_damaged") == 0) {
        api_reply_damaged(r);
    } else {
        log_error("vote_unexpected", "vote: unexpected answer from the vote script");
        request_reply_unavailable(r);
    }
}

/* Reads the ballot of a vote request into b; answers 413, 415 or 400 (and
 * returns -1) when there is none. */
static int api_vote_ballot(struct request *r, struct ballot *b)
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
        request_reply_error(r, 413, "body_too_large", "The request body is too large.");
        return -1;
    }
    enum http_media media = http_media_type(r->req);
    /* A page of another site can send a form body without asking first: such
     * a body counts only with the custom header, which needs a preflight. */
    if (media != HTTP_MEDIA_JSON && !(media == HTTP_MEDIA_FORM && cors_custom_header(r))) {
        request_reply_error(r, 415, "unsupported_media_type",
                            "Send application/json (a form body needs the header X-Thamdo: 1).");
        return -1;
    }
    const char *code = "invalid_json";
    if (ballot_parse(b, media == HTTP_MEDIA_JSON ? BALLOT_JSON : BALLOT_FORM, data, len, &code) !=
        0) {
        const char *message = "The request is not valid.";
        for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
            if (strcmp(messages[i][0], code) == 0)
                message = messages[i][1];
        }
        request_reply_error(r, 400, code, message);
        return -1;
    }
    return 0;
}

/* The vote goes to the store (which copies the options: b need not outlive
 * this call). */
static void api_vote_send(struct request *r, const struct ballot *b)
{
    long long known = api_known_version(r); /* r->body: the definition from here on */
    struct ratelimit_args limits;
    store_poll_vote(r->srv->store, r->poll_id, r->voter, r->now, b->ptrs, b->n, known,
                    ratelimit_args(r, 1, &limits), api_vote_cb, r);
}

/* The limits are on and the reader's bucket is known (ok 0: the salt could
 * not be had). */
static void api_vote_identified(struct request *r, int ok)
{
    if (!ok) {
        request_reply_unavailable(r);
        return;
    }
    struct ballot ballot;
    ratelimit_ballot(r, &ballot);
    api_vote_send(r, &ballot);
}

void api_poll_vote(struct request *r)
{
    struct ballot ballot;
    if (api_vote_ballot(r, &ballot) != 0)
        return;
    request_voter(r, 1);
    if (!r->has_voter) {
        request_reply_error(r, 500, "internal_error", "Could not create a voter id.");
        return;
    }
    if (!ratelimit_begin(r, &ballot, api_vote_identified))
        api_vote_send(r, &ballot);
}

static void api_health(struct request *r, int ready_check)
{
    if (!ready_check) {
        request_reply_json(r, 200, json_pack("{ss}", "status", "ok"));
    } else if (r->srv->stopping) {
        request_reply_error(r, 503, "shutting_down", "This instance is stopping.");
    } else if (!server_ready(r->srv)) {
        request_reply_unavailable(r);
    } else {
        request_reply_json(r, 200, json_pack("{ss}", "status", "ready"));
    }
}

void api_poll_list(struct request *r)
{
    struct api_list_query q = {POLL_LIST_OPEN, 20, 0, {0, 0, 0}, NULL};
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
    if (query && form_each(query, strlen(query), api_list_field, &q) != 0) {
        request_reply_error(r, 400, "invalid_parameter", q.error);
        return;
    }
    /* The query, checked before Redis is asked, travels with the request. */
    r->body = json_pack("{si sI sI}", "status", (int)q.status, "limit", (json_int_t)q.limit,
                        "offset", (json_int_t)q.offset);
    store_poll_list(r->srv->store, 0, api_poll_list_cb, r);
}

/* Answers a body of the cache, or 304 when the client holds it already. */
static void api_reply_cached(struct request *r, const struct cache_body *b)
{
    const char *held = request_header(r, "If-None-Match");
    request_add_header(r, "ETag", b->etag);
    request_add_header(r, "Cache-Control", "private, no-cache");
    if (held && http_etag_matches(held, b->etag)) {
        request_reply_json_text(r, 304, NULL, 0);
        return;
    }
    request_reply_json_text(r, 200, b->text, b->len);
}

/* 0 when the cache answered for the poll's status (404, 500, 503). */
static int api_cached_or_reply(struct request *r, const struct cache_poll *p)
{
    if (!p) {
        request_reply_unavailable(r);
        return 0;
    }
    if (cache_poll_status(p) == CACHE_DAMAGED) {
        api_reply_damaged(r);
        return 0;
    }
    if (cache_poll_status(p) == CACHE_NOT_FOUND) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
        return 0;
    }
    return 1;
}

/* A reader who may have voted in the poll: Redis says what their ballot is. */
static void api_poll_view_cb(void *arg, const struct store_poll_reply *reply)
{
    struct request *r = arg;
    struct store_poll_reply copy;
    const struct store_poll_reply *p = api_with_def(r, reply, &copy);
    if (p) {
        cache_update(r->srv->cache, r->poll_id, p);
        if (p->choice)
            seen_mark(&r->seen, r->poll_id);
    }
    if (r->results_only)
        api_poll_results_cb(arg, p);
    else
        api_poll_get_cb(arg, p);
}

static void api_poll_reader(struct request *r)
{
    store_poll_view(r->srv->store, r->poll_id, r->has_voter ? r->voter : NULL, 0,
                    api_known_version(r), api_poll_view_cb, r);
}

static void api_poll_get_cached(void *arg, struct cache_poll *p)
{
    struct request *r = arg;
    if (api_cached_or_reply(r, p))
        api_reply_cached(r, cache_poll_view(p, r->now));
}

static void api_poll_results_cached(void *arg, struct cache_poll *p)
{
    struct request *r = arg;
    if (!api_cached_or_reply(r, p))
        return;
    if (poll_results_visible(cache_poll_def(p), r->now, 0)) {
        api_reply_cached(r, cache_poll_results(p));
    } else if (r->has_voter && seen_may_have_voted(&r->seen, r->poll_id)) {
        api_poll_reader(r); /* visible to voters only: is this reader one? */
    } else {
        request_reply_error(r, 403, "results_hidden",
                            "The results of this poll are not shown right now.");
    }
}

/* A reader with no ballot in the poll is answered from the cache; one who
 * may have one, by Redis. */
void api_poll_get(struct request *r)
{
    request_voter(r, 1);
    if (r->has_voter && seen_may_have_voted(&r->seen, r->poll_id))
        api_poll_reader(r);
    else
        cache_get(r->srv->cache, r->poll_id, api_poll_get_cached, r);
}

void api_poll_results(struct request *r)
{
    request_voter(r, 0);
    r->results_only = 1; /* if Redis is asked, its answer is the results */
    cache_get(r->srv->cache, r->poll_id, api_poll_results_cached, r);
}

void api_healthz(struct request *r)
{
    api_health(r, 0);
}

void api_readyz(struct request *r)
{
    api_health(r, 1);
}
