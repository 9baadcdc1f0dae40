/* visits.c - handlers of the visitor counter.
 *
 *   POST /api/v1/visits[?site=KEY]          record a page view -> 200 with the figures (the
 *                                            counter's one request; they include this view);
 *                                            body {"webdriver":true}: a robot's view;
 *                                            {"ping":true}: the reader is still on the page (online
 *                                            only: no view, no cookie) -> 200 with the figures
 *   GET  /api/v1/visits[?site=KEY]          {"site","today","yesterday","this_week","this_month",
 *                                            "total","online"}
 *   GET  /embed/visits?site=KEY[&lang=en]   records the view, answers the figures as an HTML page
 *                                            (embed_visits.c); HEAD reads only
 *   GET  /admin/v1/visits?site=&from=&to=   per-day visits, distinct readers and robots (JSON/CSV)
 *   PUT  /admin/v1/visits/base?site=        take over an old counter: bases for total, today,
 *                                            this week, this month (stored, correctable)
 * A visit is one reader (the signed cookie) per session: seen again within
 * THAMDO_VISIT_SESSION_MINUTES it is the same visit; THAMDO_VISIT_MODE=hits
 * counts every view. A view without a valid cookie is, for the session, the
 * cookie-less reader of identity.c (a daily-salted hash of address bucket,
 * User-Agent and site: the salt may take a store call first, identity_cb
 * carries the request across it); it also mints the cookie, which
 * visit_record.lua marks as the same session when the cookie-less id
 * starts a visit. Robots (bots.c, or a page driven by WebDriver) are
 * counted apart. Days, ISO weeks and months are those of THAMDO_TIMEZONE.
 * The figures come from the worker's cache (visits_cache.c: at most one
 * fetch a second per site); the calendar labels of the minute too.
 * Must not talk to Redis except through store.h, and must not log reader
 * ids or addresses. */
#include "visits.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#include "audit.h"
#include "bots.h"
#include "clock.h"
#include "config.h"
#include "form.h"
#include "cors.h"
#include "csv.h"
#include "embed_visits.h"
#include "http_util.h"
#include "identity.h"
#include "request.h"
#include "server.h"
#include "store.h"
#include "visits_cache.h"

#define VISITS_MAX_DAYS 3700

static const char *const visits_fields[STORE_VISIT_NFIGURES] = {
    "today", "yesterday", "this_week", "this_month", "total", "online"};

/* Copies a key a client sent (a site, a base) into out, for a message:
 * printable ASCII only (any other byte, quotes and backslashes become '?'),
 * at most 64 characters, then "...". */
static void visits_echo(const char *s, char out[CONFIG_SITE_LEN + 3])
{
    size_t i = 0;
    for (; i < CONFIG_SITE_LEN - 1 && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c >= 0x20 && c < 0x7f && c != '\'' && c != '"' && c != '\\' ? (char)c : '?';
    }
    if (s[i]) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* The query parameters these routes read. */
struct visits_query {
    char site[CONFIG_SITE_LEN];      /* the site counted; empty: unknown */
    char asked[CONFIG_SITE_LEN + 3]; /* an unknown site as asked, printable and shortened */
    const char *bad;                 /* a message when a parameter is wrong */
    int64_t from, to;
    int has_from, has_to;
    int csv, english;
};

static void visits_read_query(struct request *r, struct visits_query *q)
{
    struct form_param params[] = {
        {.name = "site"}, {.name = "from"}, {.name = "to"}, {.name = "format"}, {.name = "lang"}};
    const struct config *cfg = r->srv->cfg;
    memset(q, 0, sizeof(*q));
    snprintf(q->site, sizeof(q->site), "%s", cfg->sites[0]);
    const char *accept = request_header(r, "Accept");
    q->csv = accept && strstr(accept, "text/csv") != NULL;
    int malformed =
        form_params(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req)), params, 5);
    for (size_t i = 0; i < 5; i++) {
        if (malformed || params[i].bad || (i > 0 && params[i].truncated)) {
            q->bad = "The query string is not valid.";
            return;
        }
    }
    /* A site longer than any configured one is unknown: it is echoed shortened. */
    const char *site = params[0].present ? params[0].value : NULL;
    const char *from = params[1].present ? params[1].value : NULL;
    const char *to = params[2].present ? params[2].value : NULL;
    const char *format = params[3].present ? params[3].value : NULL;
    const char *lang = params[4].present ? params[4].value : NULL;
    if (site) {
        size_t i = 0;
        while (i < cfg->n_sites && strcmp(cfg->sites[i], site) != 0)
            i++;
        if (i == cfg->n_sites) {
            q->site[0] = '\0'; /* unknown: the caller answers unknown_site */
            visits_echo(site, q->asked);
        } else {
            memcpy(q->site, cfg->sites[i], strlen(cfg->sites[i]) + 1); /* the configured name */
        }
    }
    if ((from && clock_parse_day_or_time(from, &q->from) != 0) ||
        (to && clock_parse_day_or_time(to, &q->to) != 0))
        q->bad = "from and to must be dates (2026-11-28) or RFC 3339 times.";
    else if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        q->bad = "format must be json or csv.";
    q->has_from = from != NULL;
    q->has_to = to != NULL;
    if (format)
        q->csv = strcmp(format, "csv") == 0;
    q->english = lang && strcmp(lang, "en") == 0;
}

/* Reads the query and answers 400 when it is wrong or names an unknown site. */
static int visits_query_ok(struct request *r, struct visits_query *q)
{
    visits_read_query(r, q);
    if (q->bad) {
        request_reply_error(r, 400, "invalid_parameter", q->bad);
        return 0;
    }
    if (q->site[0] == '\0') {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "The site '%s' is not counted here (THAMDO_SITES lists the sites counted).",
                 q->asked);
        request_reply_error(r, 400, "unknown_site", msg);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------- record and read --- */

/* A reader id (the cookie's, or a cookie-less one) as 32 hex characters. */
static void visits_reader_hex(const unsigned char id[COOKIE_ID_LEN],
                              char out[2 * COOKIE_ID_LEN + 1])
{
    for (size_t i = 0; i < COOKIE_ID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* The index of site (known: r->asset was checked) in THAMDO_SITES. */
static size_t visits_site_index(const struct request *r)
{
    const struct config *cfg = r->srv->cfg;
    size_t i = 0;
    while (i + 1 < cfg->n_sites && strcmp(cfg->sites[i], r->asset) != 0)
        i++;
    return i;
}

/* Answers r (through cb) with the figures of the site in r->asset, from the
 * worker's cache; online_self: r is a reader on the page. */
static void visits_figures(struct request *r, int online_self, visits_cache_cb *cb)
{
    visits_cache_figures(r->srv->visits, r->srv->store, visits_site_index(r), r, online_self, cb);
}

/* A view (or a ping) was stored: a reader's view (counts given) is taken into
 * the worker's figures, then r is answered with them by cb. */
static void visits_recorded(struct request *r, int counted, const long long *counts,
                            int online_self, visits_cache_cb *cb)
{
    if (counted < 0) {
        cb(r, NULL);
        return;
    }
    visits_cache_recorded(r->srv->visits, visits_site_index(r), r->now, counts);
    visits_figures(r, online_self, cb);
}

static void visits_store(struct request *r, const char *mode, const char *reader,
                         const char *minted, store_recorded_cb *cb)
{
    store_visit_record(r->srv->store, r->asset, mode, reader, minted,
                       visits_cache_period(r->srv->visits, r->now), r->now,
                       r->srv->cfg->session_minutes * 60, cb, r);
}

/* The salt is there (ok): the view of a reader without a cookie, in
 * session mode, under its cookie-less id for the site (r->asset), with the
 * id just minted for its cookie. Else the answer is 503 (through cb). */
static void visits_store_cookieless(struct request *r, int ok, store_recorded_cb *cb)
{
    if (!ok) {
        cb(r, -1, NULL);
        return;
    }
    unsigned char id[COOKIE_ID_LEN];
    char reader[2 * COOKIE_ID_LEN + 1], minted[2 * COOKIE_ID_LEN + 1];
    identity_reader(r, r->asset, id);
    visits_reader_hex(id, reader);
    visits_reader_hex(r->voter, minted);
    visits_store(r, "session", reader, minted, cb);
}

/* Records one page view of site (kept in r->asset for the answer): a
 * robot's (counted apart, no cookie), or a reader's, who gets a cookie now
 * when there is none, so that the next page of the same session is the same
 * visit; a reader without one is, for this view's session, its cookie-less
 * id (cookieless continues once the salt is there, and ends in
 * visits_store_cookieless() with cb). With ping, the reader (who has a
 * cookie) is only marked online. cb answers r. */
static void visits_store_view(struct request *r, const char *site, int robot, int ping,
                              identity_cb *cookieless, store_recorded_cb *cb)
{
    char reader[2 * COOKIE_ID_LEN + 1] = "-";
    const char *mode = "bot";
    if (site != r->asset)
        snprintf(r->asset, sizeof(r->asset), "%s", site);
    if (!robot) {
        if (!ping)
            request_voter(r, 1);
        mode = ping ? "ping" : r->srv->cfg->visit_hits ? "hits" : "session";
        if (r->minted && strcmp(mode, "session") == 0) {
            identity_bucket(r, cookieless);
            return;
        }
        visits_reader_hex(r->voter, reader);
    }
    visits_store(r, mode, reader, NULL, cb);
}

static json_t *visits_counts_json(const char *site, const struct store_visit_counts *c)
{
    json_t *out = json_pack("{ss}", "site", site);
    for (size_t i = 0; i < STORE_VISIT_NFIGURES; i++)
        json_object_set_new(out, visits_fields[i], json_integer(c->v[i]));
    return out;
}

static void visits_read_cb(struct request *r, const struct store_visit_counts *c)
{
    if (!c) {
        request_reply_unavailable(r);
        return;
    }
    request_reply_json(r, 200, visits_counts_json(r->asset, c));
}

/* The answer to a POST (a view or a ping): the figures, never cached. */
static void visits_posted_cb(struct request *r, const struct store_visit_counts *c)
{
    request_add_header(r, "Cache-Control", "no-store");
    visits_read_cb(r, c);
}

static void visits_record_cb(void *arg, int counted, const long long *counts)
{
    visits_recorded(arg, counted, counts, counts != NULL, visits_posted_cb);
}

static void visits_ping_cb(void *arg, int counted, const long long *counts)
{
    visits_recorded(arg, counted, counts, 1, visits_posted_cb);
}

static void visits_cookieless_cb(struct request *r, int ok)
{
    visits_store_cookieless(r, ok, visits_record_cb);
}

/* The optional JSON body of a POST: {"webdriver": true, "ping": true}. */
struct visits_body {
    int webdriver; /* the page is driven by WebDriver: a robot's view */
    int ping;      /* the reader is still on the page: online only */
};

/* Reads the body. A body that is not a JSON object (a beacon's text, any
 * type), or is larger than THAMDO_MAX_BODY, is no flag at all: a plain view,
 * as before bodies were read. In an object, "webdriver" and "ping" must be
 * booleans. 0, or -1 when r was answered (400). */
static int visits_read_body(struct request *r, struct visits_body *out)
{
    const char *data;
    size_t len;
    memset(out, 0, sizeof(*out));
    if (http_body(r->req, r->srv->cfg->max_body, &data, &len) != 0 || len == 0)
        return 0;
    json_t *body = json_loadb(data, len, 0, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    const json_t *webdriver = json_object_get(body, "webdriver");
    const json_t *ping = json_object_get(body, "ping");
    int ok = (!webdriver || json_is_boolean(webdriver)) && (!ping || json_is_boolean(ping));
    out->webdriver = json_is_true(webdriver);
    out->ping = json_is_true(ping);
    json_decref(body);
    if (!ok) {
        request_reply_error(r, 400, "invalid_json",
                            "\"webdriver\" and \"ping\" are true or false when given.");
        return -1;
    }
    return 0;
}

void visits_record(struct request *r)
{
    struct visits_query q;
    struct visits_body body;
    if (!visits_query_ok(r, &q) || visits_read_body(r, &body) != 0)
        return; /* answered */
    int robot = body.webdriver || bots_is_robot(request_header(r, "User-Agent"));
    snprintf(r->asset, sizeof(r->asset), "%s", q.site);
    if (body.ping) {
        /* Online only: no view, no session change, and never a new cookie
         * (a reader without one, or a robot, just gets the figures). */
        request_voter(r, 0);
        if (robot || !r->has_voter)
            visits_figures(r, 0, visits_posted_cb);
        else
            visits_store_view(r, q.site, 0, 1, NULL, visits_ping_cb);
        return;
    }
    visits_store_view(r, q.site, robot, 0, visits_cookieless_cb, visits_record_cb);
}

void visits_read(struct request *r)
{
    struct visits_query q;
    if (!visits_query_ok(r, &q))
        return;
    snprintf(r->asset, sizeof(r->asset), "%s", q.site);
    visits_figures(r, 0, visits_read_cb);
}

/* ---------------------------------------------------------- no-JS page --- */

static void visits_embed_read_cb(struct request *r, const struct store_visit_counts *c)
{
    if (!c) {
        embed_visits_notice(r, EMBED_VISITS_UNAVAILABLE, NULL);
        return;
    }
    embed_visits_page(r, c);
}

static void visits_embed_recorded_cb(void *arg, int counted, const long long *counts)
{
    visits_recorded(arg, counted, counts, counts != NULL, visits_embed_read_cb);
}

static void visits_embed_cookieless_cb(struct request *r, int ok)
{
    visits_store_cookieless(r, ok, visits_embed_recorded_cb);
}

void visits_embed(struct request *r)
{
    struct visits_query q;
    visits_read_query(r, &q);
    r->lang_en = q.english;
    if (q.bad) {
        embed_visits_notice(r, EMBED_VISITS_BAD_ADDRESS, NULL);
        return;
    }
    if (q.site[0] == '\0') {
        embed_visits_notice(r, EMBED_VISITS_UNKNOWN_SITE, q.asked);
        return;
    }
    /* A page that is neither the service's own nor an allowed origin (by its
     * Referer) may not count views in its readers' names. The counter keeps
     * no per-page figures: nothing else of the Referer is read, its path and
     * query are neither stored nor logged. */
    if (!cors_source_allowed(r)) {
        embed_visits_notice(r, EMBED_VISITS_REFUSED, NULL);
        return;
    }
    snprintf(r->asset, sizeof(r->asset), "%s", q.site);
    if (r->method == EVHTTP_REQ_HEAD) {
        visits_figures(r, 0, visits_embed_read_cb); /* a check, not a view */
        return;
    }
    visits_store_view(r, q.site, bots_is_robot(request_header(r, "User-Agent")), 0,
                      visits_embed_cookieless_cb, visits_embed_recorded_cb);
}

/* -------------------------------------------------------------- history --- */

static void visits_csv(struct request *r, const struct visits_query *q, const json_t *days)
{
    char filename[96];
    struct evbuffer *b = evbuffer_new();
    csv_bom(b);
    csv_field(b, q->english ? "Date" : "Ngày", 0);
    csv_field(b, q->english ? "Visits" : "Lượt truy cập", 0);
    csv_field(b, q->english ? "Distinct visitors" : "Người truy cập", 0);
    csv_field(b, q->english ? "Robot requests" : "Truy cập của máy (bot)", 1);
    size_t i;
    json_t *d;
    json_array_foreach(days, i, d)
    {
        csv_field(b, json_string_value(json_object_get(d, "date")), 0);
        csv_number(b, json_integer_value(json_object_get(d, "visits")), 0);
        csv_number(b, json_integer_value(json_object_get(d, "visitors")), 0);
        csv_number(b, json_integer_value(json_object_get(d, "bots")), 1);
    }
    snprintf(filename, sizeof(filename), "visits-%s.csv", q->site);
    request_reply_csv(r, b, filename);
}

static void visits_history_cb(void *arg, const json_t *h)
{
    struct request *r = arg;
    struct visits_query q;
    char date[16];
    if (!h) {
        request_reply_unavailable(r);
        return;
    }
    visits_read_query(r, &q); /* checked before the store call */
    const json_t *visits = json_object_get(h, "visits");
    /* Default range: the first recorded day to today. */
    int64_t from = q.has_from ? q.from : 0, to = q.has_to ? q.to : clock_next_day(r->now);
    if (!q.has_from) {
        const char *key;
        json_t *v;
        from = clock_day_start(r->now);
        json_object_foreach((json_t *)visits, key, v)
        {
            int64_t t;
            if (clock_parse_day_or_time(key, &t) == 0 && t < from)
                from = t;
        }
    }
    json_t *days = json_array();
    size_t count = 0;
    for (int64_t d = clock_day_start(from); d < to; d = clock_next_day(d)) {
        if (++count > VISITS_MAX_DAYS) {
            json_decref(days);
            request_reply_error(r, 400, "range_too_large", "Ask for at most 3700 days.");
            return;
        }
        clock_format_date(d, date, sizeof(date));
        json_array_append_new(
            days,
            json_pack("{ss sI sI sI}", "date", date, "visits",
                      json_integer_value(json_object_get(visits, date)), "visitors",
                      json_integer_value(json_object_get(json_object_get(h, "visitors"), date)),
                      "bots",
                      json_integer_value(json_object_get(json_object_get(h, "bots"), date))));
    }
    if (q.csv) {
        visits_csv(r, &q, days);
        json_decref(days);
        return;
    }
    json_t *sites = json_array();
    for (size_t i = 0; i < r->srv->cfg->n_sites; i++)
        json_array_append_new(sites, json_string(r->srv->cfg->sites[i]));
    request_reply_json(r, 200,
                       json_pack("{ss so ss sO so}", "site", q.site, "sites", sites, "time_zone",
                                 r->srv->cfg->timezone, "bases", json_object_get(h, "bases"),
                                 "days", days));
}

void visits_history(struct request *r)
{
    struct visits_query q;
    if (!visits_query_ok(r, &q))
        return;
    if (q.has_from && q.has_to && q.from >= q.to) {
        request_reply_error(r, 400, "invalid_parameter", "from must be before to.");
        return;
    }
    store_visit_history(r->srv->store, q.site, visits_history_cb, r);
}

/* ---------------------------------------------------------------- bases --- */

/* The editor sees the new bases at once; readers of the other workers and
 * instances within a second. */
static void visits_bases_audited(struct request *r)
{
    visits_cache_forget(r->srv->visits, visits_site_index(r));
    visits_figures(r, 0, visits_read_cb);
}

static void visits_bases_cb(void *arg, const char *code, const char *detail)
{
    struct request *r = arg;
    (void)detail;
    if (!code) {
        request_reply_unavailable(r);
        return;
    }
    audit_record(r, "visits.base", r->srv->cfg->sites[visits_site_index(r)], visits_bases_audited);
}

/* Answers 400 invalid_base naming the base and the site. key: the body's
 * key; known: it is one of the four bases (then the value was wrong). */
static void visits_bad_base(struct request *r, const char *site, const char *key, int known)
{
    char k[CONFIG_SITE_LEN + 3], msg[256];
    visits_echo(key, k);
    if (known)
        snprintf(msg, sizeof(msg),
                 "The base %s of site '%s' must be a whole number from 0 to %lld (10^15), or "
                 "null to clear it.",
                 k, site, STORE_VISIT_BASE_MAX);
    else
        snprintf(msg, sizeof(msg),
                 "'%s' is not a base of site '%s': give total, today, this_week or this_month.", k,
                 site);
    request_reply_error(r, 400, "invalid_base", msg);
}

void visits_set_bases(struct request *r)
{
    static const char *const keys[4] = {"total", "today", "this_week", "this_month"};
    struct visits_query q;
    const struct store_visit_period *p;
    const char *data;
    size_t len;
    char field[32];
    json_error_t err;
    if (!visits_query_ok(r, &q))
        return;
    if (http_body(r->req, r->srv->cfg->max_body, &data, &len) != 0) {
        request_reply_error(r, 413, "body_too_large", "The request body is too large.");
        return;
    }
    if (http_media_type(r->req) != HTTP_MEDIA_JSON) {
        request_reply_error(r, 415, "unsupported_media_type", "Send application/json.");
        return;
    }
    r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!r->body && json_error_code(&err) == json_error_numeric_overflow) {
        char msg[160];
        snprintf(msg, sizeof(msg), "A base of site '%s' is too large: at most %lld (10^15).",
                 q.site, STORE_VISIT_BASE_MAX);
        request_reply_error(r, 400, "invalid_base", msg);
        return;
    }
    if (!json_is_object(r->body) || json_object_size(r->body) == 0) {
        request_reply_error(r, 400, "invalid_json",
                            "Send an object such as {\"total\": 1777782, \"today\": 923}.");
        return;
    }
    /* Every key and value is checked before anything is stored. */
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v)
    {
        size_t k = 0;
        while (k < 4 && strcmp(keys[k], key) != 0)
            k++;
        if (k == 4 || !(json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0 &&
                                            json_integer_value(v) <= STORE_VISIT_BASE_MAX))) {
            visits_bad_base(r, q.site, key, k < 4);
            return;
        }
    }
    p = visits_cache_period(r->srv->visits, r->now);
    json_t *bases = json_object();
    json_object_foreach(r->body, key, v)
    {
        /* A base belongs to the period it was given in: today's base is
         * today's only. */
        if (strcmp(key, "total") == 0)
            snprintf(field, sizeof(field), "total");
        else if (strcmp(key, "today") == 0)
            snprintf(field, sizeof(field), "day:%s", p->day);
        else if (strcmp(key, "this_week") == 0)
            snprintf(field, sizeof(field), "week:%s", p->week);
        else
            snprintf(field, sizeof(field), "month:%s", p->month);
        json_object_set(bases, field, v);
    }
    snprintf(r->asset, sizeof(r->asset), "%s", q.site);
    store_visit_set_bases(r->srv->store, q.site, bases, visits_bases_cb, r);
    json_decref(bases);
}
