/* retention.c - the sweep that forgets the voters of polls closed longer than
 * THAMDO_VOTER_RETENTION_DAYS (retention.h says when it runs).
 *
 * States: idle -> listing (store_poll_ids) -> forgetting poll i, step from
 * (store_poll_forget, again while it answers "more") -> poll i + 1 -> ...
 * -> idle. Only one sweep at a time: the hourly timer does nothing while one
 * runs. The time of a sweep is taken once at its start, by the real clock
 * (the test clock of THAMDO_TEST_CLOCK is a request's, and a sweep is no
 * request's). What it forgot is logged per poll (event voters_forgotten),
 * never a voter id (the store returns none). Must not know HTTP. */
#include "retention.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "store.h"

#define RETENTION_EVERY_S 3600

struct retention {
    struct store *st;
    const struct config *cfg;
    struct event *timer; /* hourly */
    int swept;           /* a sweep started since the start (the first is at ready) */
    int cut;             /* the last sweep stopped on an unavailable store */
    int running;
    json_t *ids; /* the sweep's polls */
    size_t next; /* index in ids of the poll being forgotten */
    int64_t now; /* the sweep's time */
    int forgotten;
};

static void retention_step(struct retention *rt, long long from);

static void retention_end(struct retention *rt, int cut)
{
    if (cut)
        log_warn("retention_sweep_cut",
                 "voter retention: redis unavailable, the sweep stopped after %zu of %zu "
                 "poll(s); it starts again once redis is back",
                 rt->next, rt->ids ? json_array_size(rt->ids) : 0);
    else
        log_debug("retention_sweep", "voter retention: %zu poll(s) looked at, %d forgotten",
                  json_array_size(rt->ids), rt->forgotten);
    json_decref(rt->ids);
    rt->ids = NULL;
    rt->running = 0;
    rt->cut = cut;
}

static void retention_forget_cb(void *arg, const struct store_forget_reply *reply)
{
    struct retention *rt = arg;
    if (!reply) {
        retention_end(rt, 1);
        return;
    }
    const char *id = json_string_value(json_array_get(rt->ids, rt->next));
    if (strcmp(reply->code, "more") == 0 && reply->value > 0) {
        retention_step(rt, reply->value);
        return;
    }
    if (strcmp(reply->code, "forgotten") == 0 && reply->value == rt->now) {
        rt->forgotten++;
        log_info("voters_forgotten",
                 "poll %s: closed more than %d day(s) ago, its voter ids are deleted "
                 "(results and statistics kept)",
                 id, rt->cfg->voter_retention_days);
    } else if (strcmp(reply->code, "poll_damaged") == 0) {
        log_error("poll_damaged",
                  "poll %s: the data stored in redis is damaged (%s); its voters are kept", id,
                  reply->detail ? reply->detail : "?");
    }
    rt->next++;
    retention_step(rt, 0);
}

/* Step from of the poll at rt->next, or the end of the sweep. */
static void retention_step(struct retention *rt, long long from)
{
    if (rt->next >= json_array_size(rt->ids)) {
        retention_end(rt, 0);
        return;
    }
    const char *id = json_string_value(json_array_get(rt->ids, rt->next));
    store_poll_forget(rt->st, id, rt->now, (long long)rt->cfg->voter_retention_days * 86400, from,
                      retention_forget_cb, rt);
}

static void retention_ids_cb(void *arg, const json_t *ids)
{
    struct retention *rt = arg;
    if (!ids) {
        retention_end(rt, 1);
        return;
    }
    rt->ids = json_deep_copy(ids);
    rt->next = 0;
    rt->forgotten = 0;
    retention_step(rt, 0);
}

static void retention_sweep(struct retention *rt)
{
    if (rt->running)
        return;
    rt->running = 1;
    rt->swept = 1;
    rt->now = (int64_t)time(NULL);
    store_poll_ids(rt->st, retention_ids_cb, rt);
}

static void retention_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    retention_sweep(arg);
}

struct retention *retention_new(struct event_base *base, struct store *st, const struct config *cfg)
{
    if (cfg->voter_retention_days <= 0)
        return NULL;
    struct retention *rt = calloc(1, sizeof(*rt));
    if (!rt)
        abort();
    rt->st = st;
    rt->cfg = cfg;
    rt->timer = event_new(base, -1, EV_PERSIST, retention_timer_cb, rt);
    if (!rt->timer)
        abort();
    struct timeval every = {RETENTION_EVERY_S, 0};
    event_add(rt->timer, &every);
    return rt;
}

void retention_ready(struct retention *rt)
{
    if (rt && (!rt->swept || rt->cut))
        retention_sweep(rt);
}

void retention_free(struct retention *rt)
{
    if (!rt)
        return;
    event_free(rt->timer);
    json_decref(rt->ids);
    free(rt);
}
