/* metrics.c - per-worker figures and their Prometheus text exposition.
 *
 * Each worker owns one struct metrics of the static array; its thread
 * reaches it through a thread-local pointer and is its only writer, so an
 * increment is a relaxed load and a relaxed store (plain moves on x86-64 and
 * arm64): no lock, no atomic read-modify-write, no allocation. A scrape, on
 * any worker, loads every worker's figures (relaxed) and sums them; a figure
 * another worker is updating at that moment is seen before or after, never
 * torn. A histogram's count is the sum of its buckets, so count and +Inf
 * always agree. Must not log and must not take anything personal. */
#include "metrics.h"

#include <event2/buffer.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Bucket bounds in microseconds (and as the le labels say them, in seconds):
 * from 0.1 ms, a Redis round trip on loopback, to 10 s. */
#define METRICS_BUCKETS 16
static const uint64_t metrics_bounds_us[METRICS_BUCKETS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
static const char *const metrics_le[METRICS_BUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5",    "10",
};

/* Statuses kept one by one: 200-208, 300-308, 400-431, 500-511; anything
 * else (never sent today) is counted as status "other". */
#define METRICS_STATUS_SLOTS 63
#define METRICS_STATUS_OTHER (METRICS_STATUS_SLOTS - 1)

struct metrics_hist {
    _Atomic uint64_t bucket[METRICS_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    _Atomic uint64_t sum_us;
};

struct metrics {
    _Alignas(64) atomic_int used; /* a worker thread writes here (own cache lines per worker) */
    _Atomic uint64_t counters[METRICS_NCOUNTERS];
    _Atomic int64_t gauges[METRICS_NGAUGES];
    atomic_int link_up[METRICS_NLINKS];
    struct metrics_hist hist[METRICS_NHISTOGRAMS];
    _Atomic uint64_t requests[METRICS_ROUTES_MAX][METRICS_STATUS_SLOTS];
    struct metrics_hist duration[METRICS_ROUTES_MAX];
};

static struct metrics metrics_workers[METRICS_WORKERS_MAX];
static _Thread_local struct metrics *metrics_tl;
static struct timespec metrics_started; /* process start, written before main() */

__attribute__((constructor)) static void metrics_record_start(void)
{
    clock_gettime(CLOCK_REALTIME, &metrics_started);
}

void metrics_thread_begin(int worker)
{
    if (worker < 0 || worker >= METRICS_WORKERS_MAX)
        return;
    metrics_tl = &metrics_workers[worker];
    /* A link is shown once it tried to connect: a worker has a write link
     * only with THAMDO_REDIS_WAIT_REPLICAS, a sentinel link only with
     * THAMDO_SENTINELS. */
    for (int l = 0; l < METRICS_NLINKS; l++)
        atomic_store_explicit(&metrics_tl->link_up[l], -1, memory_order_relaxed);
    atomic_store_explicit(&metrics_tl->used, 1, memory_order_relaxed);
}

/* The one writer's increment: no read-modify-write needed. */
static void metrics_add(_Atomic uint64_t *v, uint64_t d)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

static uint64_t metrics_load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

void metrics_inc(enum metrics_counter c)
{
    struct metrics *m = metrics_tl;
    if (m && (unsigned)c < METRICS_NCOUNTERS)
        metrics_add(&m->counters[c], 1);
}

void metrics_gauge_add(enum metrics_gauge g, long delta)
{
    struct metrics *m = metrics_tl;
    if (!m || (unsigned)g >= METRICS_NGAUGES)
        return;
    _Atomic int64_t *v = &m->gauges[g];
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

static void metrics_hist_observe(struct metrics_hist *h, uint64_t us)
{
    size_t i = 0;
    while (i < METRICS_BUCKETS && us > metrics_bounds_us[i])
        i++;
    metrics_add(&h->bucket[i], 1);
    metrics_add(&h->sum_us, us);
}

void metrics_observe(enum metrics_histogram h, uint64_t us)
{
    struct metrics *m = metrics_tl;
    if (m && (unsigned)h < METRICS_NHISTOGRAMS)
        metrics_hist_observe(&m->hist[h], us);
}

uint64_t metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void metrics_observe_since(enum metrics_histogram h, uint64_t start_us)
{
    if (start_us == 0 || !metrics_tl)
        return;
    uint64_t now = metrics_now_us();
    metrics_observe(h, now > start_us ? now - start_us : 0);
}

static int metrics_status_slot(int status)
{
    if (status >= 200 && status <= 208)
        return status - 200;
    if (status >= 300 && status <= 308)
        return 9 + status - 300;
    if (status >= 400 && status <= 431)
        return 18 + status - 400;
    if (status >= 500 && status <= 511)
        return 50 + status - 500;
    return METRICS_STATUS_OTHER;
}

static int metrics_slot_status(int slot)
{
    return slot < 9    ? 200 + slot
           : slot < 18 ? 300 + slot - 9
           : slot < 50 ? 400 + slot - 18
                       : 500 + slot - 50;
}

void metrics_request(int route, int status, uint64_t us)
{
    struct metrics *m = metrics_tl;
    if (!m)
        return;
    if (route < 0 || route >= METRICS_ROUTES_MAX)
        route = 0;
    metrics_add(&m->requests[route][metrics_status_slot(status)], 1);
    metrics_hist_observe(&m->duration[route], us);
}

/* Each link's name in link.c, and its label. */
static const char *const metrics_link_names[METRICS_NLINKS][2] = {
    [METRICS_LINK_COMMAND] = {"command", "command"},
    [METRICS_LINK_SUBSCRIBER] = {"feed", "subscriber"},
    [METRICS_LINK_WRITE] = {"write", "write"},
    [METRICS_LINK_SENTINEL] = {"sentinel", "sentinel"},
};

void metrics_link_up(const char *name, int up)
{
    struct metrics *m = metrics_tl;
    if (!m)
        return;
    for (int l = 0; l < METRICS_NLINKS; l++) {
        if (strcmp(name, metrics_link_names[l][0]) == 0)
            atomic_store_explicit(&m->link_up[l], up ? 1 : 0, memory_order_relaxed);
    }
}

void metrics_vote(const char *code)
{
    if (strcmp(code, "ok") == 0)
        metrics_inc(METRICS_VOTES_COUNTED);
    else if (strcmp(code, "changed") == 0)
        metrics_inc(METRICS_VOTES_CHANGED);
    else if (strcmp(code, "already_voted") == 0)
        metrics_inc(METRICS_VOTES_DUPLICATE);
}

/* ---------------------------------------------------------- exposition --- */

/* The workers that have begun: [0, n) of metrics_workers (workers are
 * numbered from 0 without gaps). */
static int metrics_nworkers(void)
{
    int n = 0;
    while (n < METRICS_WORKERS_MAX &&
           atomic_load_explicit(&metrics_workers[n].used, memory_order_relaxed))
        n++;
    return n;
}

static void metrics_head(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the text format wants it: \, " and newline escaped. */
static void metrics_label_value(struct evbuffer *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            evbuffer_add(out, "\\\\", 2);
        else if (*s == '"')
            evbuffer_add(out, "\\\"", 2);
        else if (*s == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, s, 1);
    }
}

/* The labels of route i: method="...",route="...". */
static void metrics_route_labels(struct evbuffer *out, const struct metrics_route *routes, size_t n,
                                 int i)
{
    const struct metrics_route *r = i > 0 && (size_t)i <= n ? &routes[i - 1] : NULL;
    evbuffer_add_printf(out, "method=\"");
    metrics_label_value(out, r ? r->method : "other");
    evbuffer_add_printf(out, "\",route=\"");
    metrics_label_value(out, r ? r->route : "other");
    evbuffer_add(out, "\"", 1);
}

/* Sums over the workers the duration histogram of route (route >= 0) or
 * histogram h (route < 0) into bucket[] (not cumulative) and *sum_us;
 * returns the count. */
static uint64_t metrics_hist_sum(int nw, int route, enum metrics_histogram which,
                                 uint64_t bucket[METRICS_BUCKETS + 1], uint64_t *sum_us)
{
    uint64_t count = 0;
    memset(bucket, 0, sizeof(uint64_t) * (METRICS_BUCKETS + 1));
    *sum_us = 0;
    for (int w = 0; w < nw; w++) {
        struct metrics_hist *h =
            route >= 0 ? &metrics_workers[w].duration[route] : &metrics_workers[w].hist[which];
        for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
            uint64_t v = metrics_load(&h->bucket[b]);
            bucket[b] += v;
            count += v;
        }
        *sum_us += metrics_load(&h->sum_us);
    }
    return count;
}

/* The _bucket, _sum and _count lines of one histogram; labels before le
 * (may be empty). */
static void metrics_hist_lines(struct evbuffer *out, const char *name, const char *labels,
                               const uint64_t bucket[METRICS_BUCKETS + 1], uint64_t sum_us)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
        cum += bucket[b];
        evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep,
                            b < METRICS_BUCKETS ? metrics_le[b] : "+Inf", (unsigned long long)cum);
    }
    evbuffer_add_printf(out, "%s_sum%s%s%s %llu.%06llu\n", name, labels[0] ? "{" : "", labels,
                        labels[0] ? "}" : "", (unsigned long long)(sum_us / 1000000u),
                        (unsigned long long)(sum_us % 1000000u));
    evbuffer_add_printf(out, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
                        labels[0] ? "}" : "", (unsigned long long)cum);
}

static uint64_t metrics_counter_sum(int nw, enum metrics_counter c)
{
    uint64_t v = 0;
    for (int w = 0; w < nw; w++)
        v += metrics_load(&metrics_workers[w].counters[c]);
    return v;
}

/* The name and the HELP text of each counter and gauge. */
static const char *const metrics_counter_names[METRICS_NCOUNTERS][2] = {
    [METRICS_VOTES_COUNTED] = {"thamdo_votes_counted_total", "New ballots counted."},
    [METRICS_VOTES_CHANGED] = {"thamdo_votes_changed_total",
                               "Ballots changed by their voter (polls that allow it)."},
    [METRICS_VOTES_DUPLICATE] = {"thamdo_votes_duplicate_total",
                                 "Votes refused because the reader had already voted."},
    [METRICS_REDIS_RECONNECTS] = {"thamdo_redis_reconnects_total",
                                  "Reconnection attempts of the Redis links."},
    [METRICS_REDIS_FAILOVERS] = {"thamdo_redis_failovers_total",
                                 "Changes of Redis primary followed."},
    [METRICS_REDIS_TIMEOUTS] = {"thamdo_redis_timeouts_total",
                                "Store commands unanswered within THAMDO_REDIS_TIMEOUT_MS."},
    [METRICS_REDIS_ERRORS] = {"thamdo_redis_errors_total",
                              "Store commands answered with a Redis error."},
};
static const char *const metrics_gauge_names[METRICS_NGAUGES][2] = {
    [METRICS_CONNECTIONS_OPEN] = {"thamdo_http_connections_open", "HTTP connections open."},
    [METRICS_LIVE_STREAMS_OPEN] = {"thamdo_live_streams_open", "Live results streams open."},
};

static void metrics_write_counter(struct evbuffer *out, int nw, enum metrics_counter c)
{
    const char *name = metrics_counter_names[c][0];
    if (!name) /* one of a labelled family (metrics_write_families) */
        return;
    metrics_head(out, name, "counter", metrics_counter_names[c][1]);
    evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)metrics_counter_sum(nw, c));
}

static void metrics_write_gauge(struct evbuffer *out, int nw, enum metrics_gauge g)
{
    const char *name = metrics_gauge_names[g][0];
    long long v = 0;
    for (int w = 0; w < nw; w++)
        v += atomic_load_explicit(&metrics_workers[w].gauges[g], memory_order_relaxed);
    metrics_head(out, name, "gauge", metrics_gauge_names[g][1]);
    evbuffer_add_printf(out, "%s %lld\n", name, v);
}

static void metrics_write_requests(struct evbuffer *out, int nw, const struct metrics_route *routes,
                                   size_t n)
{
    size_t nroutes = n + 1 < METRICS_ROUTES_MAX ? n + 1 : METRICS_ROUTES_MAX;
    metrics_head(out, "thamdo_http_requests_total", "counter",
                 "HTTP answers by route (pattern; \"other\": no route took the request) and "
                 "status.");
    for (size_t i = 0; i < nroutes; i++) {
        for (int s = 0; s < METRICS_STATUS_SLOTS; s++) {
            uint64_t v = 0;
            for (int w = 0; w < nw; w++)
                v += metrics_load(&metrics_workers[w].requests[i][s]);
            if (v == 0)
                continue;
            evbuffer_add_printf(out, "thamdo_http_requests_total{");
            metrics_route_labels(out, routes, n, (int)i);
            if (s == METRICS_STATUS_OTHER)
                evbuffer_add_printf(out, ",status=\"other\"} %llu\n", (unsigned long long)v);
            else
                evbuffer_add_printf(out, ",status=\"%d\"} %llu\n", metrics_slot_status(s),
                                    (unsigned long long)v);
        }
    }
    metrics_head(out, "thamdo_http_request_duration_seconds", "histogram",
                 "Time from a request's arrival to its answer being handed to the connection, "
                 "by route.");
    for (size_t i = 0; i < nroutes; i++) {
        uint64_t bucket[METRICS_BUCKETS + 1], sum_us;
        if (metrics_hist_sum(nw, (int)i, METRICS_REDIS_RTT, bucket, &sum_us) == 0)
            continue;
        struct evbuffer *labels = evbuffer_new();
        if (!labels)
            continue;
        metrics_route_labels(labels, routes, n, (int)i);
        evbuffer_add(labels, "", 1);
        metrics_hist_lines(out, "thamdo_http_request_duration_seconds",
                           (const char *)evbuffer_pullup(labels, -1), bucket, sum_us);
        evbuffer_free(labels);
    }
}

/* Counters written as one family with a label: the rate limits' refusals and the proofs. */
static void metrics_write_families(struct evbuffer *out, int nw)
{
    metrics_head(out, "thamdo_votes_refused_total", "counter",
                 "Votes refused by the rate limits, by reason (rate_limited: past the hard limit "
                 "or the attempts; challenge_required: a proof of work was asked for).");
    evbuffer_add_printf(out, "thamdo_votes_refused_total{reason=\"rate_limited\"} %llu\n",
                        (unsigned long long)metrics_counter_sum(nw, METRICS_VOTES_LIMITED));
    evbuffer_add_printf(out, "thamdo_votes_refused_total{reason=\"challenge_required\"} %llu\n",
                        (unsigned long long)metrics_counter_sum(nw, METRICS_VOTES_CHALLENGED));
    metrics_head(out, "thamdo_pow_proofs_total", "counter",
                 "Proofs of work sent with votes: accepted (the ballot counted) or refused "
                 "(forged, expired, for another poll or network, unsolved, used, too easy).");
    evbuffer_add_printf(out, "thamdo_pow_proofs_total{result=\"accepted\"} %llu\n",
                        (unsigned long long)metrics_counter_sum(nw, METRICS_POW_SOLVED));
    evbuffer_add_printf(out, "thamdo_pow_proofs_total{result=\"refused\"} %llu\n",
                        (unsigned long long)metrics_counter_sum(nw, METRICS_POW_REFUSED));
}

void metrics_write(struct evbuffer *out, const struct metrics_route *routes, size_t n,
                   const char *version)
{
    int nw = metrics_nworkers();

    metrics_head(out, "thamdo_build_info", "gauge", "Always 1; the version of this build.");
    evbuffer_add_printf(out, "thamdo_build_info{version=\"");
    metrics_label_value(out, version);
    evbuffer_add_printf(out, "\"} 1\n");
    metrics_head(out, "process_start_time_seconds", "gauge",
                 "Start time of the process since the Unix epoch in seconds.");
    evbuffer_add_printf(out, "process_start_time_seconds %lld.%03ld\n",
                        (long long)metrics_started.tv_sec, metrics_started.tv_nsec / 1000000L);
    metrics_head(out, "thamdo_workers", "gauge", "Event-loop workers serving (THAMDO_THREADS).");
    evbuffer_add_printf(out, "thamdo_workers %d\n", nw);

    metrics_write_requests(out, nw, routes, n);
    for (int c = 0; c < METRICS_NCOUNTERS; c++)
        metrics_write_counter(out, nw, (enum metrics_counter)c);
    metrics_write_families(out, nw);
    for (int g = 0; g < METRICS_NGAUGES; g++)
        metrics_write_gauge(out, nw, (enum metrics_gauge)g);

    uint64_t bucket[METRICS_BUCKETS + 1], sum_us;
    metrics_head(out, "thamdo_redis_roundtrip_seconds", "histogram",
                 "Time from a store command's send to its reply.");
    metrics_hist_sum(nw, -1, METRICS_REDIS_RTT, bucket, &sum_us);
    metrics_hist_lines(out, "thamdo_redis_roundtrip_seconds", "", bucket, sum_us);
    metrics_head(out, "thamdo_redis_link_up", "gauge",
                 "1 while the worker's Redis link is connected and set up, else 0.");
    for (int w = 0; w < nw; w++) {
        for (int l = 0; l < METRICS_NLINKS; l++) {
            int up = atomic_load_explicit(&metrics_workers[w].link_up[l], memory_order_relaxed);
            if (up >= 0)
                evbuffer_add_printf(out, "thamdo_redis_link_up{worker=\"%d\",link=\"%s\"} %d\n", w,
                                    metrics_link_names[l][1], up);
        }
    }
}
