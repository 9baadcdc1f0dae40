/* admin.c - poll management and results for editors.
 *
 *   GET    /admin/                            dashboard page
 *   GET    /admin/v1/polls                    every poll with status and totals
 *   POST   /admin/v1/polls                    create
 *   GET    /admin/v1/polls/:id                one poll
 *   PATCH  /admin/v1/polls/:id                change
 *   DELETE /admin/v1/polls/:id                archive (votes kept)
 *   POST   /admin/v1/polls/:id/{close,reopen,restore}
 *   GET    /admin/v1/polls/:id/results        totals, statistics, time series (JSON or CSV)
 *   GET    /admin/v1/polls/:id/series         the time series alone (JSON or CSV)
 *
 * A change is read-modify-write with a version check in Redis: read the
 * definition, apply the change, validate the whole result, write it only if
 * nobody wrote in between (else read again, up to three times). Every
 * instance reads definitions from Redis on every request, so a change is
 * seen everywhere at once. Must not talk to Redis except through store.h. */
#include "admin.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "assets.h"
#include "audit.h"
#include "cache.h"
#include "clock.h"
#include "config.h"
#include "csv.h"
#include "form.h"
#include "http_util.h"
#include "log.h"
#include "poll.h"
#include "request.h"
#include "series.h"
#include "server.h"
#include "store.h"

#define ADMIN_BODY_MAX      65536
#define ADMIN_ATTEMPTS      3
#define ADMIN_SERIES_POINTS 5000

/* Fields an editor may write; the others are kept by the service. */
static const char *const admin_editable[] = {
    "question",  "options", "max_choices",        "opens_at",
    "closes_at", "status",  "results_visibility", "allow_change",
};

static void admin_time(json_t *obj, const char *key, json_int_t t)
{
    char buf[40];
    if (t <= 0 || clock_format_local(t, buf, sizeof(buf)) != 0) {
        json_object_set_new(obj, key, json_null());
        return;
    }
    json_object_set_new(obj, key, json_string(buf));
}

/* The editor's view: the public one with the stored status, the effective
 * state, the service's own fields and the totals. */
static json_t *admin_view(const json_t *def, long long voters, long long votes, int64_t now)
{
    json_t *v = poll_public_view(def, now);
    json_object_set(v, "state", json_object_get(v, "status"));
    json_object_set(v, "status", json_object_get(def, "status"));
    json_object_set_new(v, "archived",
                        json_boolean(json_is_true(json_object_get(def, "archived"))));
    json_object_set(v, "version", json_object_get(def, "version"));
    admin_time(v, "created_at", json_integer_value(json_object_get(def, "created_at")));
    admin_time(v, "updated_at", json_integer_value(json_object_get(def, "updated_at")));
    json_object_set_new(v, "voters", json_integer(voters));
    json_object_set_new(v, "votes", json_integer(votes));
    return v;
}

static void admin_unprocessable(struct request *r, const struct poll_errors *errs)
{
    json_t *fields = json_array();
    for (size_t i = 0; i < errs->n && i < POLL_ERRORS_MAX; i++)
        json_array_append_new(
            fields, json_pack("{ss ss}", "path", errs->e[i].path, "message", errs->e[i].message));
    json_t *body = http_error_body("validation_failed", "Some fields are not valid.");
    json_object_set_new(json_object_get(body, "error"), "fields", fields);
    request_set_error_code(r, "validation_failed");
    request_reply_json(r, 422, body);
}

/* Reads the JSON object body into r->body; answers and returns -1 if it
 * cannot. */
static int admin_read_body(struct request *r)
{
    const char *data;
    size_t len;
    if (http_body(r->req, ADMIN_BODY_MAX, &data, &len) != 0) {
        request_reply_error(r, 413, "body_too_large", "The request body is too large.");
        return -1;
    }
    if (http_media_type(r->req) != HTTP_MEDIA_JSON) {
        request_reply_error(r, 415, "unsupported_media_type", "Send application/json.");
        return -1;
    }
    r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(r->body)) {
        request_reply_error(r, 400, "invalid_json", "The body must be a JSON object.");
        return -1;
    }
    return 0;
}

/* Adds an error for each key of body an editor may not write (id on
 * change, the service's own fields). */
static void admin_check_keys(const json_t *body, int creating, struct poll_errors *errs)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val)
    {
        int ok = creating && strcmp(key, "id") == 0;
        for (size_t i = 0; i < sizeof(admin_editable) / sizeof(admin_editable[0]); i++)
            ok |= strcmp(key, admin_editable[i]) == 0;
        if (!ok && errs->n < POLL_ERRORS_MAX) {
            snprintf(errs->e[errs->n].path, sizeof(errs->e[0].path), "%s", key);
            snprintf(errs->e[errs->n].message, sizeof(errs->e[0].message), "%s",
                     strcmp(key, "id") == 0 ? "cannot be changed; create a new poll"
                                            : "unknown or not writable field");
            errs->n++;
        }
    }
}

/* Appends the errors of more to errs. */
static void admin_errors_add(struct poll_errors *errs, const struct poll_errors *more)
{
    for (size_t i = 0; i < more->n && i < POLL_ERRORS_MAX; i++) {
        if (errs->n < POLL_ERRORS_MAX)
            errs->e[errs->n] = more->e[i];
        errs->n++;
    }
}

/* ---------------------------------------------------------------- pages --- */

void admin_page(struct request *r)
{
    assets_serve(r, "admin.html");
}

/* ------------------------------------------------------------ list/get --- */

static void admin_list_cb(void *arg, const char *code, json_t *polls)
{
    struct request *r = arg;
    if (!api_list_or_reply(r, code))
        return;
    json_t *list = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(polls, i, item)
    {
        json_array_append_new(list, admin_view(json_object_get(item, "def"),
                                               json_integer_value(json_object_get(item, "voters")),
                                               json_integer_value(json_object_get(item, "votes")),
                                               r->now));
    }
    request_reply_json(r, 200, json_pack("{so}", "polls", list));
}

void admin_poll_list(struct request *r)
{
    store_poll_list(r->srv->store, 1, admin_list_cb, r);
}

/* The poll's version as an entity tag: "<version>". */
static void admin_etag(const json_t *def, char *buf, size_t size)
{
    snprintf(buf, size, "\"%lld\"", (long long)json_integer_value(json_object_get(def, "version")));
}

static void admin_get_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    char etag[32];
    if (!api_poll_or_reply(r, p))
        return;
    admin_etag(p->def, etag, sizeof(etag));
    request_add_header(r, "ETag", etag);
    request_reply_json(r, 200,
                       admin_view(p->def, p->voters, poll_total(p->def, p->counts), r->now));
}

void admin_poll_get(struct request *r)
{
    store_poll_view(r->srv->store, r->poll_id, NULL, 1, -1, admin_get_cb, r);
}

/* -------------------------------------------------------------- create --- */

static void admin_create_cb(void *arg, const char *code, const char *detail)
{
    struct request *r = arg;
    char location[128];
    (void)detail;
    if (!code) {
        request_reply_unavailable(r);
        return;
    }
    if (strcmp(code, "poll_damaged") == 0) {
        api_reply_damaged(r);
        return;
    }
    if (strcmp(code, "ok") != 0) {
        request_reply_error(r, 409, "poll_exists", "A poll with this id already exists.");
        return;
    }
    log_info("poll_created", "poll %s: created by an editor", r->poll_id);
    cache_forget(r->srv->cache, r->poll_id);
    snprintf(location, sizeof(location), "/admin/v1/polls/%s", r->poll_id);
    request_add_header(r, "Location", location);
    audit_reply(r, "poll.create", r->poll_id, 201, admin_view(r->body, 0, 0, r->now));
}

void admin_poll_create(struct request *r)
{
    struct poll_errors errs = {0}, found;
    if (admin_read_body(r) != 0)
        return;
    admin_check_keys(r->body, 1, &errs);
    for (size_t i = 0; i < errs.n && i < POLL_ERRORS_MAX; i++)
        json_object_del(r->body, errs.e[i].path); /* reported once, not again below */
    json_t *def = poll_validate(r->body, r->now, &found);
    admin_errors_add(&errs, &found);
    if (errs.n > 0) {
        json_decref(def);
        admin_unprocessable(r, &errs);
        return;
    }
    json_object_set_new(def, "version", json_integer(1));
    json_decref(r->body);
    r->body = def; /* kept for the answer */
    snprintf(r->poll_id, sizeof(r->poll_id), "%s", json_string_value(json_object_get(def, "id")));
    store_poll_create(r->srv->store, def, admin_create_cb, r);
}

/* -------------------------------------------------------------- change --- */

/* r->body during a change: {"patch": {...}, "def": new definition,
 * "voters": n, "votes": n, "verb": "...", "action": the audit log's,
 * "if_match": the PATCH's If-Match} */
static void admin_change_read(struct request *r);

/* 1 when the If-Match value names etag: "*", or a list of entity tags
 * (weak ones compared weakly) one of which is etag. */
static int admin_etag_matches(const char *if_match, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = if_match;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return 0;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ", \t");
        if (n == elen && strncmp(p, etag, n) == 0)
            return 1;
        p += n;
    }
}

static void admin_update_cb(void *arg, const char *code, const char *detail)
{
    struct request *r = arg;
    char msg[200];
    if (!code) {
        request_reply_unavailable(r);
        return;
    }
    if (strcmp(code, "ok") == 0) {
        cache_forget(r->srv->cache, r->poll_id);
        log_info("poll_changed", "poll %s: %s by an editor", r->poll_id,
                 json_string_value(json_object_get(r->body, "verb")));
        char etag[32];
        admin_etag(json_object_get(r->body, "def"), etag, sizeof(etag));
        request_add_header(r, "ETag", etag);
        char action[32];
        snprintf(action, sizeof(action), "poll.%s",
                 json_string_value(json_object_get(r->body, "action")));
        audit_reply(r, action, r->poll_id, 200,
                    admin_view(json_object_get(r->body, "def"),
                               json_integer_value(json_object_get(r->body, "voters")),
                               json_integer_value(json_object_get(r->body, "votes")), r->now));
    } else if (strcmp(code, "version_conflict") == 0 && r->attempts < ADMIN_ATTEMPTS) {
        admin_change_read(r); /* someone else changed it meanwhile: apply ours to theirs */
    } else if (strcmp(code, "version_conflict") == 0) {
        request_reply_error(r, 409, "conflict",
                            "The poll is being changed by someone else; try again.");
    } else if (strcmp(code, "option_has_votes") == 0) {
        snprintf(msg, sizeof(msg), "Option '%s' has votes and cannot be removed.",
                 detail ? detail : "?");
        request_reply_error(r, 409, "option_has_votes", msg);
    } else if (strcmp(code, "poll_damaged") == 0) {
        api_reply_damaged(r);
    } else {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
    }
}

static void admin_change_cb(void *arg, const struct store_poll_reply *p)
{
    struct request *r = arg;
    struct poll_errors errs;
    if (!api_poll_or_reply(r, p))
        return;
    /* If-Match: the editor changes the version they saw, or nothing. A
     * retry after a concurrent write sees the newer version and stops here. */
    const char *if_match = json_string_value(json_object_get(r->body, "if_match"));
    char etag[32];
    admin_etag(p->def, etag, sizeof(etag));
    if (if_match && !admin_etag_matches(if_match, etag)) {
        request_add_header(r, "ETag", etag);
        request_reply_error(r, 412, "version_mismatch",
                            "The poll was changed after you read it; read it again and redo "
                            "the change.");
        return;
    }
    json_t *merged = json_deep_copy(p->def);
    json_object_update(merged, json_object_get(r->body, "patch"));
    struct poll_errors all = {0};
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r->body, "refused"), i, o)
    {
        if (all.n < POLL_ERRORS_MAX) {
            snprintf(all.e[all.n].path, sizeof(all.e[0].path), "%s",
                     json_string_value(json_object_get(o, "path")));
            snprintf(all.e[all.n].message, sizeof(all.e[0].message), "%s",
                     json_string_value(json_object_get(o, "message")));
        }
        all.n++;
    }
    json_t *def = poll_validate(merged, r->now, &errs);
    json_decref(merged);
    admin_errors_add(&all, &errs);
    if (all.n > 0) {
        json_decref(def);
        admin_unprocessable(r, &all);
        return;
    }
    json_int_t version = json_integer_value(json_object_get(p->def, "version"));
    json_object_set_new(def, "version", json_integer(version + 1));
    json_object_set_new(def, "updated_at", json_integer(r->now));

    /* Options the change leaves out are removable only while they have no
     * votes: checked by the store, in the same step as the write. */
    json_object_set_new(r->body, "voters", json_integer(p->voters));
    json_object_set_new(r->body, "votes", json_integer(poll_total(p->def, p->counts)));
    store_poll_update(r->srv->store, r->poll_id, version, def, admin_update_cb, r);
    json_object_set_new(r->body, "def", def);
}

static void admin_change_read(struct request *r)
{
    r->attempts++;
    store_poll_view(r->srv->store, r->poll_id, NULL, 1, -1, admin_change_cb, r);
}

/* Starts a change of r->poll_id by patch (stolen); verb for the log, action
 * for the audit log ("poll.<action>"). */
static void admin_change(struct request *r, json_t *patch, const char *verb, const char *action)
{
    json_decref(r->body);
    r->body = json_pack("{so ss ss}", "patch", patch, "verb", verb, "action", action);
    admin_change_read(r);
}

void admin_poll_patch(struct request *r)
{
    struct poll_errors errs = {0};
    if (admin_read_body(r) != 0)
        return;
    admin_check_keys(r->body, 0, &errs);
    json_t *patch = r->body;
    r->body = NULL;
    /* Keys that may not be written are reported together with the errors of
     * the rest, which needs the stored poll: they travel with the change. */
    json_t *refused = json_array();
    for (size_t i = 0; i < errs.n && i < POLL_ERRORS_MAX; i++) {
        json_object_del(patch, errs.e[i].path);
        json_array_append_new(
            refused, json_pack("{ss ss}", "path", errs.e[i].path, "message", errs.e[i].message));
    }
    admin_change(r, patch, "changed", "update");
    json_object_set_new(r->body, "refused", refused);
    const char *if_match = request_header(r, "If-Match");
    if (if_match)
        json_object_set_new(r->body, "if_match", json_string(if_match));
}

void admin_poll_archive(struct request *r)
{
    admin_change(r, json_pack("{sb}", "archived", 1), "archived", "archive");
}

void admin_poll_restore(struct request *r)
{
    admin_change(r, json_pack("{sb}", "archived", 0), "restored", "restore");
}

void admin_poll_close(struct request *r)
{
    admin_change(r, json_pack("{ss}", "status", "closed"), "closed", "close");
}

void admin_poll_reopen(struct request *r)
{
    admin_change(r, json_pack("{ss}", "status", "open"), "reopened", "reopen");
}

/* --------------------------------------------------------------- reset --- */

static void admin_reset_cb(void *arg, const char *code, const char *detail)
{
    struct request *r = arg;
    (void)detail;
    if (!code) { /* the poll may be left resetting: a reset again finishes it */
        request_reply_unavailable(r);
        return;
    }
    if (strcmp(code, "poll_damaged") == 0) {
        api_reply_damaged(r);
        return;
    }
    if (strcmp(code, "ok") != 0) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
        return;
    }
    cache_forget(r->srv->cache, r->poll_id);
    log_info("poll_reset", "poll %s: results reset by an editor", r->poll_id);
    json_t *body = json_pack("{ss}", "poll_id", r->poll_id);
    admin_time(body, "reset_at", r->now);
    audit_reply(r, "poll.reset", r->poll_id, 200, body);
}

/* POST /admin/v1/polls/:id/reset {"confirm": "<the poll id>"}: the editor
 * typed the poll's id (the dashboard asks twice). No body, or any other
 * object: 400 confirmation_required, nothing reset. */
void admin_poll_reset(struct request *r)
{
    int empty = evbuffer_get_length(evhttp_request_get_input_buffer(r->req)) == 0;
    if (!empty && admin_read_body(r) != 0)
        return;
    const char *confirm = empty ? NULL : json_string_value(json_object_get(r->body, "confirm"));
    if (!confirm || strcmp(confirm, r->poll_id) != 0 || json_object_size(r->body) != 1) {
        request_reply_error(r, 400, "confirmation_required",
                            "Send {\"confirm\": \"<poll id>\"} to reset this poll's results.");
        return;
    }
    store_poll_reset(r->srv->store, r->poll_id, r->now, admin_reset_cb, r);
}

/* ------------------------------------------------------------- results --- */

struct admin_query {
    int day;     /* bucket=day (default) or hour */
    int csv;     /* format=csv or Accept: text/csv */
    int english; /* lang=en: CSV headers in English */
    int64_t from, to;
    int has_from, has_to;
};

/* Reads ?bucket=&from=&to=&format=&lang=; answers 400 and returns -1 on a bad one. */
static int admin_read_query(struct request *r, struct admin_query *q)
{
    struct form_param params[] = {
        {.name = "bucket"}, {.name = "format"}, {.name = "lang"}, {.name = "from"}, {.name = "to"}};
    memset(q, 0, sizeof(*q));
    q->day = 1;
    const char *accept = request_header(r, "Accept");
    q->csv = accept && strstr(accept, "text/csv") != NULL;
    int malformed =
        form_params(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req)), params, 5);
    for (size_t i = 0; i < 5; i++) {
        if (malformed || params[i].bad || params[i].truncated) {
            request_reply_error(r, 400, "invalid_parameter", "The query string is not valid.");
            return -1;
        }
    }
    const char *bucket = params[0].present ? params[0].value : NULL;
    const char *format = params[1].present ? params[1].value : NULL;
    const char *lang = params[2].present ? params[2].value : NULL;
    const char *from = params[3].present ? params[3].value : NULL;
    const char *to = params[4].present ? params[4].value : NULL;
    int rc = 0;
    if (bucket && strcmp(bucket, "hour") != 0 && strcmp(bucket, "day") != 0) {
        request_reply_error(r, 400, "invalid_parameter", "bucket must be hour or day.");
        rc = -1;
    } else if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        request_reply_error(r, 400, "invalid_parameter", "format must be json or csv.");
        rc = -1;
    } else if ((from && clock_parse_day_or_time(from, &q->from) != 0) ||
               (to && clock_parse_day_or_time(to, &q->to) != 0)) {
        request_reply_error(r, 400, "invalid_parameter",
                            "from and to must be dates (2026-11-28) or RFC 3339 times.");
        rc = -1;
    } else if (from && to && q->from >= q->to) {
        request_reply_error(r, 400, "invalid_parameter", "from must be before to.");
        rc = -1;
    } else {
        q->day = !bucket || strcmp(bucket, "day") == 0;
        if (format)
            q->csv = strcmp(format, "csv") == 0;
        q->english = lang && strcmp(lang, "en") == 0;
        q->has_from = from != NULL;
        q->has_to = to != NULL;
    }
    return rc;
}

static int64_t admin_bucket_start(const struct admin_query *q, int64_t t)
{
    return q->day ? clock_day_start(t) : t - ((t % 3600) + 3600) % 3600;
}

static int64_t admin_bucket_next(const struct admin_query *q, int64_t t)
{
    return q->day ? clock_next_day(t) : t + 3600;
}

/* The hourly tallies of s ("hour:option" -> votes), each walked once, into
 * the buckets of g; the options are those of the definition, by index. */
static void admin_series_fill(struct series *g, const json_t *opts, const json_t *hours)
{
    json_t *index = json_object();
    size_t i;
    const json_t *o;
    json_array_foreach(opts, i, o)
    {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id)
            json_object_set_new(index, id, json_integer((json_int_t)i));
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)hours, key, v)
    {
        char *end;
        long long hour = strtoll(key, &end, 10);
        const json_t *opt = *end == ':' ? json_object_get(index, end + 1) : NULL;
        if (opt && end != key)
            series_add(g, hour, (size_t)json_integer_value(opt), json_integer_value(v));
    }
    json_decref(index);
}

/* The time series as JSON, or NULL (answered 400) when the range is too long. */
static json_t *admin_series(struct request *r, const struct admin_query *q,
                            const struct store_poll_stats *s)
{
    const json_t *opts = json_object_get(s->def, "options");
    int64_t first = json_integer_value(json_object_get(s->stats, "first_vote"));
    int64_t last = json_integer_value(json_object_get(s->stats, "last_vote"));
    int64_t from = q->has_from ? q->from : first;
    /* Without "to": up to the last vote, or up to now when there is none. */
    int64_t to = q->has_to ? q->to : first > 0 ? last + 1 : r->now + 1;
    json_t *points = json_array();
    char buf[40];

    if ((first > 0 || q->has_from) && from < to) {
        int64_t *bounds = malloc((ADMIN_SERIES_POINTS + 1) * sizeof(*bounds));
        size_t n = 0;
        if (!bounds)
            abort();
        int64_t b = admin_bucket_start(q, from);
        for (; b < to; b = admin_bucket_next(q, b)) {
            if (n == ADMIN_SERIES_POINTS) {
                free(bounds);
                json_decref(points);
                request_reply_error(r, 400, "range_too_large",
                                    "Ask for at most 5000 buckets: a shorter range or bucket=day.");
                return NULL;
            }
            bounds[n++] = b;
        }
        bounds[n] = b;
        struct series g;
        size_t n_opts = json_array_size(opts);
        if (series_init(&g, bounds, n, n_opts) == 0) {
            admin_series_fill(&g, opts, s->hours);
            for (size_t k = 0; k < n; k++) {
                if (clock_format_local(bounds[k], buf, sizeof(buf)) != 0)
                    break; /* cannot happen within 1970..9999; never an unwritten time */
                json_t *votes = json_object();
                long long total = 0;
                for (size_t i = 0; i < n_opts; i++) {
                    long long v = series_votes(&g, k, i);
                    json_object_set_new(
                        votes, json_string_value(json_object_get(json_array_get(opts, i), "id")),
                        json_integer(v));
                    total += v;
                }
                json_array_append_new(points, json_pack("{ss so sI}", "start", buf, "votes", votes,
                                                        "total", (json_int_t)total));
            }
            series_free(&g);
        }
        free(bounds);
    }
    json_t *series = json_pack("{ss ss so}", "bucket", q->day ? "day" : "hour", "time_zone",
                               r->srv->cfg->timezone, "points", points);
    admin_time(series, "from", json_array_size(points) ? admin_bucket_start(q, from) : 0);
    admin_time(series, "to",
               json_array_size(points) ? admin_bucket_next(q, admin_bucket_start(q, to - 1)) : 0);
    return series;
}

static void admin_csv_reply(struct request *r, struct evbuffer *b, const char *name)
{
    char filename[128];
    snprintf(filename, sizeof(filename), "%s-%s.csv", r->poll_id, name);
    request_reply_csv(r, b, filename);
}

static void admin_results_csv(struct request *r, const struct admin_query *q, const json_t *res)
{
    struct evbuffer *b = evbuffer_new();
    csv_bom(b);
    csv_field(b, q->english ? "Option id" : "Mã phương án", 0);
    csv_field(b, q->english ? "Option" : "Phương án", 0);
    csv_field(b, q->english ? "Votes" : "Số phiếu", 0);
    csv_field(b, q->english ? "Percent" : "Tỷ lệ (%)", 1);
    size_t i;
    json_t *o;
    long long total = json_integer_value(json_object_get(res, "total"));
    json_array_foreach(json_object_get(res, "options"), i, o)
    {
        long long votes = json_integer_value(json_object_get(o, "votes"));
        csv_field(b, json_string_value(json_object_get(o, "id")), 0);
        csv_field(b, json_string_value(json_object_get(o, "label")), 0);
        csv_number(b, votes, 0);
        csv_tenths(b, poll_percent_tenths(votes, total), 1); /* 33.3, as in the JSON */
    }
    csv_field(b, "", 0);
    csv_field(b, q->english ? "Total" : "Tổng cộng", 0);
    csv_number(b, total, 0);
    csv_tenths(b, total > 0 ? 1000 : 0, 1);
    admin_csv_reply(r, b, "results");
}

static void admin_series_csv(struct request *r, const struct admin_query *q,
                             const struct store_poll_stats *s, const json_t *series)
{
    struct evbuffer *b = evbuffer_new();
    const json_t *opts = json_object_get(s->def, "options");
    csv_bom(b);
    csv_field(b, q->english ? "Start" : "Thời điểm", 0);
    size_t i;
    json_t *o;
    json_array_foreach(opts, i, o)
    {
        csv_field(b, json_string_value(json_object_get(o, "label")), 0);
    }
    csv_field(b, q->english ? "Total" : "Tổng", 1);
    json_t *p;
    json_array_foreach(json_object_get(series, "points"), i, p)
    {
        csv_field(b, json_string_value(json_object_get(p, "start")), 0);
        size_t k;
        json_array_foreach(opts, k, o)
        {
            const char *id = json_string_value(json_object_get(o, "id"));
            csv_number(b, json_integer_value(json_object_get(json_object_get(p, "votes"), id)), 0);
        }
        csv_number(b, json_integer_value(json_object_get(p, "total")), 1);
    }
    admin_csv_reply(r, b, q->day ? "series-day" : "series-hour");
}

/* Answers the results (series_only 0) or the series alone (1). */
static void admin_stats_reply(struct request *r, const struct store_poll_stats *s, int series_only)
{
    struct admin_query q;
    if (!s) {
        request_reply_unavailable(r);
        return;
    }
    if (s->damaged) {
        api_reply_damaged(r);
        return;
    }
    if (!s->def) {
        request_reply_error(r, 404, "poll_not_found", "There is no poll with this id.");
        return;
    }
    if (admin_read_query(r, &q) != 0)
        return;
    json_t *series = admin_series(r, &q, s);
    if (!series)
        return;
    if (series_only) {
        if (q.csv)
            admin_series_csv(r, &q, s, series);
        else
            request_reply_json(r, 200,
                               json_pack("{ss sO}", "poll_id", r->poll_id, "series", series));
        json_decref(series);
        return;
    }
    json_t *res = poll_results(s->def, s->counts, s->voters);
    if (q.csv) {
        admin_results_csv(r, &q, res);
        json_decref(res);
        json_decref(series);
        return;
    }
    json_object_set(res, "question", json_object_get(s->def, "question"));
    json_object_set_new(res, "state",
                        json_string(poll_state_at(s->def, r->now) == POLL_OPEN       ? "open"
                                    : poll_state_at(s->def, r->now) == POLL_UPCOMING ? "upcoming"
                                                                                     : "closed"));
    json_object_set_new(res, "duplicates_refused",
                        json_integer(json_integer_value(json_object_get(s->stats, "duplicates"))));
    json_object_set_new(res, "changes",
                        json_integer(json_integer_value(json_object_get(s->stats, "changes"))));
    admin_time(res, "first_vote_at", json_integer_value(json_object_get(s->stats, "first_vote")));
    admin_time(res, "last_vote_at", json_integer_value(json_object_get(s->stats, "last_vote")));
    json_object_set_new(res, "series", series);
    request_reply_json(r, 200, res);
}

static void admin_results_cb(void *arg, const struct store_poll_stats *s)
{
    admin_stats_reply(arg, s, 0);
}

static void admin_series_cb(void *arg, const struct store_poll_stats *s)
{
    admin_stats_reply(arg, s, 1);
}

void admin_poll_results(struct request *r)
{
    store_poll_stats(r->srv->store, r->poll_id, admin_results_cb, r);
}

void admin_poll_series(struct request *r)
{
    store_poll_stats(r->srv->store, r->poll_id, admin_series_cb, r);
}
