/* api.c - handlers of the public JSON API.
 *
 *   GET  /api/v1/polls                 open polls
 *   GET  /api/v1/polls/:id             definition + this reader's state
 *   POST /api/v1/polls/:id/votes       cast a ballot (JSON or form)
 *   GET  /api/v1/polls/:id/results     results, when visibility allows
 *   GET  /healthz, /readyz
 * Each handler either answers at once or hands its struct request to the
 * store, whose callback answers. Must not talk to Redis except through
 * store.h, and must not log cookies, voter ids or client addresses. */
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

int api_poll_or_reply(struct request *r, const struct store_poll_reply *p)
{
    if (!p) {
        request_reply_unavailable(r);
        return 0;
    }
    if (!p->def) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
        return 0;
    }
    return 1;
}

static void api_poll_list_cb(void *arg, json_t *polls)
{
    struct request *r = arg;
    if (!polls) {
        request_reply_unavailable(r);
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(polls, i, item)
    {
        const json_t *def = json_object_get(item, "def");
        if (poll_state_at(def, r->now) != POLL_OPEN ||
            json_is_true(json_object_get(def, "archived")))
            continue;
        json_t *view = poll_public_view(def, r->now);
        json_array_append_new(list, json_pack("{sO sO sO}", "id", json_object_get(view, "id"),
                                              "question", json_object_get(view, "question"),
                                              "closes_at", json_object_get(view, "closes_at")));
        json_decref(view);
    }
    request_reply_json(r, 200, json_pack("{so}", "polls", list));
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
    if (!api_poll_or_reply(r, p))
        return;
    if (!poll_results_visible(p->def, r->now, p->choice != NULL)) {
        request_reply_error(r, 403, "results_hidden",
                            "The results of this poll are not shown right now.");
        return;
    }
    request_reply_json(r, 200, poll_results(p->def, p->counts, p->voters));
}

static void api_vote_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    char msg[160];
    if (!p) {
        request_reply_unavailable(r);
        return;
    }
    if (strcmp(p->code, "ok") == 0) {
        request_reply_json(r, 201,
                           json_pack("{ss so so}", "poll_id", r->poll_id, "choice", api_choice(p),
                                     "results", api_results_or_null(r, p, 1)));
    } else if (strcmp(p->code, "changed") == 0) {
        request_reply_json(r, 200,
                           json_pack("{ss so so sb}", "poll_id", r->poll_id, "choice",
                                     api_choice(p), "results", api_results_or_null(r, p, 1),
                                     "changed", 1));
    } else if (strcmp(p->code, "already_voted") == 0) {
        json_t *body = http_error_body("already_voted", "You have already voted in this poll.");
        json_object_set_new(body, "choice", api_choice(p));
        json_object_set_new(body, "results", api_results_or_null(r, p, 1));
        request_reply_json(r, 409, body);
    } else if (strcmp(p->code, "poll_not_found") == 0) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
    } else if (strcmp(p->code, "poll_closed") == 0) {
        request_reply_error(r, 403, "poll_closed", "This poll is closed.");
    } else if (strcmp(p->code, "poll_not_open") == 0) {
        request_reply_error(r, 403, "poll_not_open", "This poll is not open yet.");
    } else if (strcmp(p->code, "too_many_options") == 0) {
        snprintf(msg, sizeof(msg), "This poll accepts at most %lld option(s).",
                 (long long)json_integer_value(json_object_get(p->def, "max_choices")));
        request_reply_error(r, 400, "too_many_options", msg);
    } else if (strcmp(p->code, "invalid_option") == 0) {
        request_reply_error(r, 400, "invalid_option", "An option is not part of this poll.");
    } else {
        log_error("vote: unexpected answer from the vote script");
        request_reply_unavailable(r);
    }
}

void api_poll_vote(struct request *r)
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
        return;
    }
    enum http_media media = http_media_type(r->req);
    if (media != HTTP_MEDIA_JSON && media != HTTP_MEDIA_FORM) {
        request_reply_error(r, 415, "unsupported_media_type",
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
        request_reply_error(r, 400, code, message);
        return;
    }
    request_voter(r, 1);
    if (!r->has_voter) {
        request_reply_error(r, 500, "internal_error", "Could not create a voter id.");
        return;
    }
    store_poll_vote(r->srv->store, r->poll_id, r->voter, r->now, r->ballot.ptrs, r->ballot.n,
                    api_vote_cb, r);
}

static void api_health(struct request *r, int ready_check)
{
    if (!ready_check) {
        request_reply_json(r, 200, json_pack("{ss}", "status", "ok"));
    } else if (r->srv->stopping) {
        request_reply_error(r, 503, "shutting_down", "This instance is stopping.");
    } else if (!store_is_ready(r->srv->store)) {
        request_reply_unavailable(r);
    } else {
        request_reply_json(r, 200, json_pack("{ss}", "status", "ready"));
    }
}

void api_poll_list(struct request *r)
{
    store_poll_list(r->srv->store, api_poll_list_cb, r);
}

void api_poll_get(struct request *r)
{
    request_voter(r, 1);
    store_poll_view(r->srv->store, r->poll_id, r->has_voter ? r->voter : NULL, 0, api_poll_get_cb,
                    r);
}

void api_poll_results(struct request *r)
{
    request_voter(r, 0);
    store_poll_view(r->srv->store, r->poll_id, r->has_voter ? r->voter : NULL, 0,
                    api_poll_results_cb, r);
}

void api_healthz(struct request *r)
{
    api_health(r, 0);
}

void api_readyz(struct request *r)
{
    api_health(r, 1);
}
