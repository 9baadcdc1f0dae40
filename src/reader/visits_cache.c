/* visits_cache.c - the counter's figures per worker, fetched at most once a
 * second per site, and the calendar of the current minute.
 *
 * Lifecycle of an entry (one per site of THAMDO_SITES):
 *   empty -> a request asks: one fetch (store_visit_read) is sent, the
 *   request waits on it; every request of the same site and minute that
 *   arrives meanwhile waits on the same fetch (no herd) -> the answer is
 *   kept with the second of the service's clock it was asked in, and every
 *   waiter is answered -> requests of that second are answered from memory
 *   -> the next second, the next request fetches again.
 * A request of another minute (the minute changed, or the test clock) starts
 * its own fetch, which supersedes the one on its way; a superseded fetch still
 * answers its own waiters.
 *
 * Why a recorded view is always in the figures of this worker: the store
 * sends one command link's commands in order and Redis answers in order, so
 * a fetch sent before a view is answered before it (its figures are then
 * raised to the view's own counts by visits_cache_recorded), and a fetch
 * sent after it includes it.
 *
 * Owns the fetches (freed when answered) and their waiting lists; a waiting
 * request stays owned by its list until its callback answers it. Must not
 * answer HTTP itself (the callbacks do) nor call Redis but through store.h. */
#include "visits_cache.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "request.h"

#define VISITS_CACHE_DAY_TTL   (2 * 86400)
#define VISITS_CACHE_WEEK_TTL  (8 * 86400)
#define VISITS_CACHE_MONTH_TTL (32 * 86400)

struct visits_waiter {
    struct request *r;
    visits_cache_cb *cb;
    int online_self;
};

struct visits_fetch {
    struct visits_cache *vc;
    size_t site;
    int64_t second;                   /* asked in this second of the service's clock */
    uint64_t sent_ms;                 /* and at this monotonic time */
    struct store_visit_period period; /* of the minute it reads */
    struct visits_waiter *waiters;
    size_t n, cap;
};

struct visits_entry {
    int have;         /* stored holds figures */
    int64_t second;   /* they were fetched in this second */
    uint64_t sent_ms; /* at this monotonic time */
    long long minute; /* of this minute */
    struct store_visit_stored stored;
    struct visits_fetch *pending; /* the newest fetch on its way, or NULL */
};

struct visits_cache {
    const struct config *cfg;
    long long minute; /* of period; LLONG_MIN: none yet */
    struct store_visit_period period;
    struct visits_entry *entries; /* cfg->n_sites */
};

static void *visits_cache_alloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* Unix minutes of t, rounded down. */
static long long visits_cache_minute_of(int64_t t)
{
    return (long long)(t >= 0 ? t / 60 : -((-t + 59) / 60));
}

struct visits_cache *visits_cache_new(const struct config *cfg)
{
    struct visits_cache *vc = visits_cache_alloc(1, sizeof(*vc));
    vc->cfg = cfg;
    vc->minute = LLONG_MIN;
    vc->entries = visits_cache_alloc(cfg->n_sites, sizeof(*vc->entries));
    return vc;
}

void visits_cache_free(struct visits_cache *vc)
{
    if (!vc)
        return;
    free(vc->entries);
    free(vc);
}

const struct store_visit_period *visits_cache_period(struct visits_cache *vc, int64_t now)
{
    long long minute = visits_cache_minute_of(now);
    if (minute == vc->minute)
        return &vc->period;
    /* The labels of the minute's first second: time zones differ from UTC by
     * whole minutes, so a day, week or month never starts inside a minute. */
    struct store_visit_period *p = &vc->period;
    int64_t t = (int64_t)minute * 60;
    clock_format_date(t, p->day, sizeof(p->day));
    clock_format_date(clock_day_start(t) - 1, p->yesterday, sizeof(p->yesterday));
    clock_format_week(t, p->week, sizeof(p->week));
    clock_format_month(t, p->month, sizeof(p->month));
    p->minute = minute;
    p->online_minutes = vc->cfg->online_minutes;
    p->day_ttl = VISITS_CACHE_DAY_TTL;
    p->week_ttl = VISITS_CACHE_WEEK_TTL;
    p->month_ttl = VISITS_CACHE_MONTH_TTL;
    vc->minute = minute;
    return p;
}

void visits_cache_sum(const struct store_visit_stored *s, int online_self,
                      struct store_visit_counts *out)
{
    for (size_t i = 0; i < STORE_VISIT_ONLINE; i++) {
        long long a = s->count[i] > 0 ? s->count[i] : 0, b = s->base[i] > 0 ? s->base[i] : 0;
        out->v[i] = a > LLONG_MAX - b ? LLONG_MAX : a + b;
    }
    long long online = s->count[STORE_VISIT_ONLINE];
    out->v[STORE_VISIT_ONLINE] = online_self && online < 1 ? 1 : online > 0 ? online : 0;
}

void visits_cache_recorded(struct visits_cache *vc, size_t site, int64_t now,
                           const long long *counts)
{
    if (!counts || site >= vc->cfg->n_sites)
        return;
    struct visits_entry *e = &vc->entries[site];
    if (!e->have || e->minute != visits_cache_minute_of(now))
        return; /* not this minute's figures: the next request fetches anyway */
    for (size_t i = 0; i < STORE_VISIT_ONLINE; i++) {
        if (counts[i] > e->stored.count[i])
            e->stored.count[i] = counts[i];
    }
}

void visits_cache_forget(struct visits_cache *vc, size_t site)
{
    if (site < vc->cfg->n_sites)
        vc->entries[site].have = 0;
}

static void visits_cache_answer(const struct visits_waiter *w, const struct store_visit_stored *s)
{
    struct store_visit_counts c;
    if (!s) {
        w->cb(w->r, NULL);
        return;
    }
    visits_cache_sum(s, w->online_self, &c);
    w->cb(w->r, &c);
}

static void visits_cache_fetched_cb(void *arg, const struct store_visit_stored *s)
{
    struct visits_fetch *f = arg;
    struct visits_entry *e = &f->vc->entries[f->site];
    if (e->pending == f) {
        e->pending = NULL;
        if (s) {
            e->have = 1;
            e->second = f->second;
            e->sent_ms = f->sent_ms;
            e->minute = f->period.minute;
            e->stored = *s;
            s = &e->stored;
        }
    }
    /* Answering may not touch f: it is detached from the entry already. */
    for (size_t i = 0; i < f->n; i++)
        visits_cache_answer(&f->waiters[i], s);
    free(f->waiters);
    free(f);
}

static void visits_cache_wait(struct visits_fetch *f, struct request *r, int online_self,
                              visits_cache_cb *cb)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        struct visits_waiter *w = realloc(f->waiters, cap * sizeof(*w));
        if (!w)
            abort();
        f->waiters = w;
        f->cap = cap;
    }
    f->waiters[f->n++] = (struct visits_waiter){r, cb, online_self};
}

void visits_cache_figures(struct visits_cache *vc, struct store *st, size_t site, struct request *r,
                          int online_self, visits_cache_cb *cb)
{
    const struct store_visit_period *p = visits_cache_period(vc, r->now);
    struct visits_entry *e = &vc->entries[site];
    /* From memory when fetched in the same second of the service's clock and
     * less than a second ago (the test clock may repeat a second for long),
     * and only while the link is up: a worker that lost Redis answers 503
     * like every other route, not figures it cannot refresh. */
    uint64_t now_ms = clock_mono_ms();
    if (e->have && e->second == r->now && e->minute == p->minute && now_ms - e->sent_ms < 1000 &&
        store_is_ready(st)) {
        struct visits_waiter w = {r, cb, online_self};
        visits_cache_answer(&w, &e->stored);
        return;
    }
    if (e->pending && e->pending->period.minute == p->minute) {
        visits_cache_wait(e->pending, r, online_self, cb);
        return;
    }
    struct visits_fetch *f = visits_cache_alloc(1, sizeof(*f));
    f->vc = vc;
    f->site = site;
    f->second = r->now;
    f->sent_ms = now_ms;
    f->period = *p;
    visits_cache_wait(f, r, online_self, cb);
    e->pending = f; /* supersedes a fetch of another minute */
    store_visit_read(st, vc->cfg->sites[site], &f->period, visits_cache_fetched_cb, f);
}
