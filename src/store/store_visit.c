/* store_visit.c - the visitor-counter commands of the store.
 *
 * Keys of one site share the hash tag {site:KEY}, so one script touches one
 * slot. Counters of a day, a week and a month expire on their own; the
 * per-day history (one small hash field per day) is kept for reports;
 * distinct readers are HyperLogLogs (12 KiB at most each, whatever the
 * traffic), counted (PFCOUNT) at most once a minute per site by the scripts. Must not know about
 * HTTP or the calendar: callers pass labels. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_call.h"

/* Appends the key PREFIX{site:SITE}:<suffix formatted by fmt>. */
static void store_site_key(struct store_call *c, const char *site, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void store_site_key(struct store_call *c, const char *site, const char *fmt, ...)
{
    char suffix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(suffix, sizeof(suffix), fmt, ap);
    va_end(ap);
    store_call_argf(c, "%s{site:%s}:%s", store_key_prefix(c->st), site, suffix);
}

/* {counted, today, this week, this month, all time} or {0}. */
static void store_parse_recorded(struct store_call *c, const redisReply *reply)
{
    static const enum store_visit_figure order[4] = {STORE_VISIT_TODAY, STORE_VISIT_WEEK,
                                                     STORE_VISIT_MONTH, STORE_VISIT_TOTAL};
    long long counts[STORE_VISIT_NFIGURES] = {0};
    if (!reply || reply->type != REDIS_REPLY_ARRAY ||
        (reply->elements != 1 && reply->elements != 5)) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        ((store_recorded_cb *)c->cb)(c->arg, -1, NULL);
        return;
    }
    int counted = store_reply_int(reply->element[0]) == 1;
    if (reply->elements == 1) {
        ((store_recorded_cb *)c->cb)(c->arg, counted, NULL);
        return;
    }
    for (size_t i = 0; i < 4; i++) {
        long long v = store_reply_int(reply->element[1 + i]);
        counts[order[i]] = v > 0 ? v : 0;
    }
    ((store_recorded_cb *)c->cb)(c->arg, counted, counts);
}

void store_visit_record(struct store *st, const char *site, const char *mode, const char *reader,
                        const char *minted, const struct store_visit_period *p, int64_t now,
                        int session_seconds, store_recorded_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_VISIT_RECORD, "visit record",
                                          store_parse_recorded, (store_fn *)cb, arg);
    store_call_arg(c, minted ? "12" : "11", 2);
    store_site_key(c, site, "sess:%s", reader);
    store_site_key(c, site, "day:%s", p->day);
    store_site_key(c, site, "week:%s", p->week);
    store_site_key(c, site, "month:%s", p->month);
    store_site_key(c, site, "total");
    store_site_key(c, site, "hist:visits");
    store_site_key(c, site, "readers:%s", p->day);
    store_site_key(c, site, "hist:visitors");
    store_site_key(c, site, "online:%lld", p->minute);
    store_site_key(c, site, "hist:bots");
    store_site_key(c, site, "visitors:at");
    if (minted)
        store_site_key(c, site, "sess:%s", minted);
    store_call_arg(c, mode, strlen(mode));
    store_call_arg(c, reader, strlen(reader));
    store_call_arg(c, p->day, strlen(p->day));
    store_call_argf(c, "%d", session_seconds);
    store_call_argf(c, "%d", p->day_ttl);
    store_call_argf(c, "%d", p->week_ttl);
    store_call_argf(c, "%d", p->month_ttl);
    store_call_argf(c, "%d", (p->online_minutes + 1) * 60);
    store_call_argf(c, "%lld", (long long)now);
    store_call_argf(c, "%lld", p->minute);
    if (minted)
        store_call_arg(c, minted, strlen(minted));
    store_call_send(c);
}

/* A stored count or base: a missing or negative value is 0 (a value stored
 * by an older version may be anything). */
static long long store_visit_value(const redisReply *r)
{
    long long v = store_reply_int(r);
    return v > 0 ? v : 0;
}

static void store_parse_counts(struct store_call *c, const redisReply *reply)
{
    struct store_visit_stored out;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 11) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        ((store_visit_cb *)c->cb)(c->arg, NULL);
        return;
    }
    /* {today, yesterday, this_week, this_month, total, online, then the
     * bases of the first five in the same order} */
    for (size_t i = 0; i < STORE_VISIT_NFIGURES; i++)
        out.count[i] = store_visit_value(reply->element[i]);
    for (size_t i = 0; i < STORE_VISIT_ONLINE; i++)
        out.base[i] = store_visit_value(reply->element[STORE_VISIT_NFIGURES + i]);
    ((store_visit_cb *)c->cb)(c->arg, &out);
}

void store_visit_read(struct store *st, const char *site, const struct store_visit_period *p,
                      store_visit_cb *cb, void *arg)
{
    int minutes = p->online_minutes > 0 && p->online_minutes <= 60 ? p->online_minutes : 5;
    struct store_call *c = store_call_new(st, STORE_SCRIPT_VISIT_READ, "visit read",
                                          store_parse_counts, (store_fn *)cb, arg);
    store_call_argf(c, "%d", 7 + minutes);
    store_site_key(c, site, "day:%s", p->day);
    store_site_key(c, site, "hist:visits");
    store_site_key(c, site, "week:%s", p->week);
    store_site_key(c, site, "month:%s", p->month);
    store_site_key(c, site, "total");
    store_site_key(c, site, "base");
    store_site_key(c, site, "online");
    for (int i = 1; i <= minutes; i++)
        store_site_key(c, site, "online:%lld", p->minute - i);
    store_call_arg(c, p->yesterday, strlen(p->yesterday));
    store_call_argf(c, "day:%s", p->day);
    store_call_argf(c, "week:%s", p->week);
    store_call_argf(c, "month:%s", p->month);
    store_call_argf(c, "day:%s", p->yesterday);
    store_call_argf(c, "%lld", p->minute);
    store_call_argf(c, "%d", minutes);
    store_call_argf(c, "%d", (minutes + 1) * 60);
    store_call_send(c);
}

static void store_parse_history(struct store_call *c, const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        if (reply)
            log_error("redis_bad_reply", "redis %s: unexpected reply shape", c->what);
        ((store_history_cb *)c->cb)(c->arg, NULL);
        return;
    }
    json_t *h = json_pack("{so so so so}", "visits", store_reply_object(reply->element[0]),
                          "visitors", store_reply_object(reply->element[1]), "bots",
                          store_reply_object(reply->element[2]), "bases",
                          store_reply_object(reply->element[3]));
    ((store_history_cb *)c->cb)(c->arg, h);
    json_decref(h);
}

void store_visit_history(struct store *st, const char *site, store_history_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_VISIT_HISTORY, "visit history",
                                          store_parse_history, (store_fn *)cb, arg);
    store_call_arg(c, "4", 1);
    store_site_key(c, site, "hist:visits");
    store_site_key(c, site, "hist:visitors");
    store_site_key(c, site, "hist:bots");
    store_site_key(c, site, "base");
    store_call_send(c);
}

static void store_parse_ok(struct store_call *c, const redisReply *reply)
{
    ((store_status_cb *)c->cb)(c->arg, reply ? "ok" : NULL, NULL);
}

void store_visit_set_bases(struct store *st, const char *site, const json_t *bases,
                           store_status_cb *cb, void *arg)
{
    struct store_call *c = store_call_new(st, STORE_SCRIPT_VISIT_BASE, "visit bases",
                                          store_parse_ok, (store_fn *)cb, arg);
    store_call_arg(c, "1", 1);
    store_site_key(c, site, "base");
    const char *field;
    json_t *v;
    json_object_foreach((json_t *)bases, field, v)
    {
        if (c->argc + 2 > STORE_MAX_ARGS)
            break;
        store_call_arg(c, field, strlen(field));
        if (json_is_integer(v))
            store_call_argf(c, "%lld", (long long)json_integer_value(v));
        else
            store_call_arg(c, "", 0);
    }
    store_call_send(c);
}
