/* metrics.h - the service's counters, gauges and histograms, and their
 * Prometheus text exposition (GET /metrics).
 *
 * API:
 *   metrics_thread_begin(worker)  in each worker thread, before its loop runs;
 *   metrics_inc(), metrics_gauge_add(), metrics_observe(), metrics_request(),
 *   metrics_link_up(), metrics_vote()  from any module on a worker thread,
 *                                  without plumbing (a thread-local pointer);
 *                                  on any other thread they do nothing;
 *   metrics_write()                the exposition, from any worker thread.
 * Owns one block of figures per worker, written only by that worker's
 * thread (relaxed atomic loads and stores, no lock and no read-modify-write:
 * one writer) and read by whichever worker answers /metrics, which sums
 * them (the link state is labelled by worker). Nothing is allocated: the
 * blocks are static. Must not be handed anything personal: figures are
 * counts and durations, labels are route patterns, statuses and link names. */
#ifndef THAMDO_METRICS_H
#define THAMDO_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define METRICS_WORKERS_MAX 64 /* CONFIG_THREADS_MAX */
#define METRICS_ROUTES_MAX  48 /* route 0 ("other") and the route table's entries */

enum metrics_counter {
    METRICS_VOTES_COUNTED = 0, /* new ballots counted */
    METRICS_VOTES_CHANGED,     /* ballots changed (polls that allow it) */
    METRICS_VOTES_DUPLICATE,   /* refused: the reader had voted (409 already_voted) */
    METRICS_REDIS_RECONNECTS,  /* reconnection attempts of any Redis link */
    METRICS_REDIS_FAILOVERS,   /* primary changes followed (Sentinel) */
    METRICS_REDIS_TIMEOUTS,    /* commands unanswered within THAMDO_REDIS_TIMEOUT_MS */
    METRICS_REDIS_ERRORS,      /* commands answered with a Redis error */
    /* rate limits and proof of work (ratelimit.c), written as labelled families */
    METRICS_VOTES_LIMITED,    /* refused: 429 rate_limited */
    METRICS_VOTES_CHALLENGED, /* refused: 429 challenge_required */
    METRICS_POW_SOLVED,       /* ballots counted with a proof of work */
    METRICS_POW_REFUSED,      /* proofs refused: forged, expired, reused, too easy, ... */
    METRICS_NCOUNTERS,
};

enum metrics_gauge {
    METRICS_CONNECTIONS_OPEN = 0, /* HTTP connections open */
    METRICS_LIVE_STREAMS_OPEN,    /* live results streams open (events.c) */
    METRICS_NGAUGES,
};

enum metrics_histogram {
    METRICS_REDIS_RTT = 0, /* a store call's send to its reply */
    METRICS_NHISTOGRAMS,
};

enum metrics_link {
    METRICS_LINK_COMMAND = 0, /* link name "command" (store.c) */
    METRICS_LINK_SUBSCRIBER,  /* link name "feed" (store_feed.c) */
    METRICS_LINK_WRITE,       /* link name "write": writes that wait for replicas (store.c) */
    METRICS_LINK_SENTINEL,    /* link name "sentinel" (locate.c) */
    METRICS_NLINKS,
};

/* One route of the exposition: route i of metrics_request() is routes[i-1]. */
struct metrics_route {
    const char *route;  /* the pattern as a label: "/api/v1/polls/{id}/votes" */
    const char *method; /* "GET" (counting HEAD), "POST", ... */
};

/* Makes the calling thread worker's writer (0 <= worker < METRICS_WORKERS_MAX). */
void metrics_thread_begin(int worker);

void metrics_inc(enum metrics_counter c);
void metrics_gauge_add(enum metrics_gauge g, long delta);
void metrics_observe(enum metrics_histogram h, uint64_t us);

/* Monotonic microseconds, for metrics_observe_since(). */
uint64_t metrics_now_us(void);
/* Observes now - start_us (start_us 0: nothing was started, nothing observed). */
void metrics_observe_since(enum metrics_histogram h, uint64_t start_us);

/* One answer: route 0 is "other" (no route took it), else 1 + its index in
 * the routes given to metrics_write(); its status and its duration. */
void metrics_request(int route, int status, uint64_t us);

/* The state of the calling worker's Redis link named name ("command",
 * "feed"); other names are not shown. */
void metrics_link_up(const char *name, int up);

/* The outcome of a vote as the vote script says it ("ok", "changed",
 * "already_voted", ...): counts the first three. */
void metrics_vote(const char *code);

/* Appends the exposition (text format 0.0.4) of every worker's figures. */
void metrics_write(struct evbuffer *out, const struct metrics_route *routes, size_t n,
                   const char *version);

#endif
