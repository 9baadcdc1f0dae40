/* visits.c - handlers of the visitor counter.
 *
 *   POST /api/v1/visits[?site=KEY]          record a page view (sendBeacon-friendly: 204, no body)
 *   GET  /api/v1/visits[?site=KEY]          {"site","today","yesterday","this_week","this_month",
 *                                            "total","online"}
 *   GET  /admin/v1/visits?site=&from=&to=   per-day visits, distinct readers and robots (JSON/CSV)
 *   PUT  /admin/v1/visits/base?site=        take over an old counter: bases for total, today,
 *                                            this week, this month (stored, correctable)
 * A visit is one reader (the signed cookie) per session: seen again within
 * THAMDO_VISIT_SESSION_MINUTES it is the same visit; THAMDO_VISIT_MODE=hits
 * counts every view. Robots (bots.c) are counted apart. Days, ISO weeks and
 * months are those of THAMDO_TIMEZONE. Must not talk to Redis except
 * through store.h, and must not log reader ids or addresses. */
#include "visits.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>

#include "bots.h"
#include "clock.h"
#include "config.h"
#include "csv.h"
#include "http_util.h"
#include "request.h"
#include "server.h"
#include "store.h"

#define VISITS_DAY_TTL   (2 * 86400)
#define VISITS_WEEK_TTL  (8 * 86400)
#define VISITS_MONTH_TTL (32 * 86400)
#define VISITS_MAX_DAYS  3700

static const char *const visits_fields[6] = {"today",      "yesterday", "this_week",
                                             "this_month", "total",     "online"};

/* The query parameters these routes read. */
struct visits_query {
    char site[CONFIG_SITE_LEN];
    const char *bad; /* a message when a parameter is wrong */
    int64_t from, to;
    int has_from, has_to;
    int csv, english;
};

static void visits_read_query(struct request *r, struct visits_query *q)
{
    struct evkeyvalq params;
    const struct config *cfg = r->srv->cfg;
    memset(q, 0, sizeof(*q));
    snprintf(q->site, sizeof(q->site), "%s", cfg->sites[0]);
    const char *accept = request_header(r, "Accept");
    q->csv = accept && strstr(accept, "text/csv") != NULL;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
    TAILQ_INIT(&params);
    if (query && evhttp_parse_query_str(query, &params) != 0) {
        q->bad = "The query string is not valid.";
        return;
    }
    const char *site = evhttp_find_header(&params, "site");
    const char *from = evhttp_find_header(&params, "from");
    const char *to = evhttp_find_header(&params, "to");
    const char *format = evhttp_find_header(&params, "format");
    const char *lang = evhttp_find_header(&params, "lang");
    if (site) {
        size_t i = 0;
        while (i < cfg->n_sites && strcmp(cfg->sites[i], site) != 0)
            i++;
        if (i == cfg->n_sites)
            q->site[0] = '\0'; /* unknown: the caller answers unknown_site */
        else
            snprintf(q->site, sizeof(q->site), "%s", site);
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
    evhttp_clear_headers(&params);
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
        request_reply_error(r, 400, "unknown_site",
                            "This site is not counted here (see THAMDO_SITES).");
        return 0;
    }
    return 1;
}

static void visits_period(const struct request *r, struct store_visit_period *p)
{
    int64_t now = r->now;
    clock_format_date(now, p->day, sizeof(p->day));
    clock_format_date(clock_day_start(now) - 1, p->yesterday, sizeof(p->yesterday));
    clock_format_week(now, p->week, sizeof(p->week));
    clock_format_month(now, p->month, sizeof(p->month));
    p->minute = (long long)(now / 60);
    p->online_minutes = r->srv->cfg->online_minutes;
    p->day_ttl = VISITS_DAY_TTL;
    p->week_ttl = VISITS_WEEK_TTL;
    p->month_ttl = VISITS_MONTH_TTL;
}

/* --------------------------------------------------------------- record --- */

static void visits_record_cb(void *arg, int counted)
{
    struct request *r = arg;
    if (counted < 0) {
        request_reply_unavailable(r);
        return;
    }
    request_add_header(r, "Cache-Control", "no-store");
    request_reply_buffer(r, 204, NULL, NULL);
}

void visits_record(struct request *r)
{
    struct visits_query q;
    struct store_visit_period p;
    char reader[2 * COOKIE_ID_LEN + 1];
    const char *mode;
    if (!visits_query_ok(r, &q))
        return;
    visits_period(r, &p);
    if (bots_is_robot(request_header(r, "User-Agent"))) {
        mode = "bot";
        snprintf(reader, sizeof(reader), "-");
    } else {
        /* A reader without a cookie gets one now, so that the next page of
         * the same session is the same visit; without cookies every view is
         * a visit. */
        request_voter(r, 1);
        for (size_t i = 0; i < COOKIE_ID_LEN; i++)
            snprintf(reader + 2 * i, 3, "%02x", r->voter[i]);
        mode = r->srv->cfg->visit_hits ? "hits" : "session";
    }
    store_visit_record(r->srv->store, q.site, mode, reader, &p, r->now,
                       r->srv->cfg->session_minutes * 60, visits_record_cb, r);
}

/* ----------------------------------------------------------------- read --- */

static json_t *visits_counts_json(const char *site, const struct store_visit_counts *c)
{
    json_t *out = json_pack("{ss}", "site", site);
    for (size_t i = 0; i < 6; i++)
        json_object_set_new(out, visits_fields[i], json_integer(c->v[i]));
    return out;
}

static void visits_read_cb(void *arg, const struct store_visit_counts *c)
{
    struct request *r = arg;
    if (!c) {
        request_reply_unavailable(r);
        return;
    }
    /* r->asset holds the site key for the answer. */
    request_reply_json(r, 200, visits_counts_json(r->asset, c));
}

void visits_read(struct request *r)
{
    struct visits_query q;
    struct store_visit_period p;
    if (!visits_query_ok(r, &q))
        return;
    visits_period(r, &p);
    snprintf(r->asset, sizeof(r->asset), "%s", q.site);
    store_visit_read(r->srv->store, q.site, &p, visits_read_cb, r);
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
    request_reply_json(r, 200,
                       json_pack("{ss ss sO so}", "site", q.site, "time_zone",
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

static void visits_bases_read_cb(void *arg, const struct store_visit_counts *c)
{
    visits_read_cb(arg, c);
}

static void visits_bases_cb(void *arg, const char *code, const char *detail)
{
    struct request *r = arg;
    struct store_visit_period p;
    (void)detail;
    if (!code) {
        request_reply_unavailable(r);
        return;
    }
    visits_period(r, &p);
    store_visit_read(r->srv->store, r->asset, &p, visits_bases_read_cb, r);
}

void visits_set_bases(struct request *r)
{
    static const char *const keys[4] = {"total", "today", "this_week", "this_month"};
    struct visits_query q;
    struct store_visit_period p;
    const char *data;
    size_t len;
    char field[32];
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
    r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(r->body) || json_object_size(r->body) == 0) {
        request_reply_error(r, 400, "invalid_json",
                            "Send an object such as {\"total\": 1777782, \"today\": 923}.");
        return;
    }
    visits_period(r, &p);
    json_t *bases = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v)
    {
        size_t k = 0;
        while (k < 4 && strcmp(keys[k], key) != 0)
            k++;
        if (k == 4 || !(json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0))) {
            json_decref(bases);
            request_reply_error(r, 400, "invalid_base",
                                "Bases are whole numbers (or null to clear) for total, today, "
                                "this_week and this_month.");
            return;
        }
        /* A base belongs to the period it was given in: today's base is
         * today's only. */
        if (k == 0)
            snprintf(field, sizeof(field), "total");
        else
            snprintf(field, sizeof(field), "%s:%s",
                     k == 1   ? "day"
                     : k == 2 ? "week"
                              : "month",
                     k == 1   ? p.day
                     : k == 2 ? p.week
                              : p.month);
        json_object_set(bases, field, v);
    }
    snprintf(r->asset, sizeof(r->asset), "%s", q.site);
    store_visit_set_bases(r->srv->store, q.site, bases, visits_bases_cb, r);
    json_decref(bases);
}
